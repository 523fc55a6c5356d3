#!/usr/bin/env bash
# One command for a local Ray Serve test cluster: builds kittyd and the fake engine, sets up the
# Python venv (Ray Serve included, cached), and runs kitty_client.ray.local: 3 Ray nodes on this
# machine, a kittyd each, the OpenAI-compatible ingress at http://127.0.0.1:8000/v1. Ctrl-C stops
# it all. Arguments go to `python -m kitty_client.ray.local` (--nodes N, --port P, --config
# kitty.yaml to serve your models instead of six fake ones, --workdir DIR).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KITTY_BUILD_DIR:-$repo/build}
"$repo/scripts/build.sh" kittyd fake_engine >&2
venv=$("$repo/scripts/setup_python.sh")
models=(--fake-engine "$build/fake_engine")
for a in "$@"; do [[ "$a" == --config* ]] && models=(); done
exec "$venv/bin/python" -m kitty_client.ray.local --kittyd "$build/kittyd" "${models[@]}" "$@"
