#!/usr/bin/env bash
# The Ray Serve ingress benchmark (bench/ray_ingress.py), in the client venv (Ray Serve).
# Env KITTYD, FAKE_ENGINE (default build/kittyd, build/fake_engine).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$("$repo/scripts/setup_python.sh")
cd "$repo"
exec "$venv/bin/python" bench/ray_ingress.py --kittyd "${KITTYD:-build/kittyd}" \
  --fake-engine "${FAKE_ENGINE:-build/fake_engine}" "$@"
