#!/usr/bin/env bash
# One command for the kittyd benchmark: see bench/run.py (env KITTYD, FAKE_ENGINE, LOADGEN).
set -euo pipefail
exec python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run.py" "$@"
