#!/usr/bin/env bash
# One command for the kittyd benchmark: see bench/run.py --help (env KITTYD, FAKE_ENGINE, LOADGEN,
# WRK). bench/setup.sh installs wrk. Examples:
#   bench/run.sh --quick                  # smoke run of every scenario, about a minute
#   bench/run.sh --only stream,rps        # a subset
#   bench/run.sh --name baseline-$(date +%F) --label "kittyd before issue 8"
set -euo pipefail
exec python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run.py" "$@"
