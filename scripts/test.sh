#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, the real llama-server and model, a real
# ollama built from its Go module, a pinned Python venv — all cached outside the clone) and runs
# every test:
#   1. C++ unit and integration tests (CTest/GoogleTest: fake clock, real processes)
#   2. black-box tests of kittyd, kittyctl and the fake engine (pytest, real sockets)
#   3. the Python client and LangGraph tests (pytest, against a live kittyd), and kitty_client.ray
#      on a local three-node Ray cluster with a kittyd per node (pytest -m ray_cluster)
#   4. end-to-end tests on the real model through kittyd, and through a real Ollama
#      (pytest -m real_model)
#   5. kittyd, kittyctl, kitty-agent and fake_engine compiled and linked for macOS (arm64) with
#      zig, and checked to be Mach-O executables (scripts/build_macos.sh; cached)
# Usage: scripts/test.sh [--fast]   (--fast skips the real-engine install and its tests, and the
# Ray cluster)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
fast=0
[ "${1:-}" = "--fast" ] && fast=1
export KITTY_BUILD_DIR=${KITTY_BUILD_DIR:-$repo/build}
cache=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}

start=$(date +%s)
scripts/build.sh
if [ $fast = 0 ]; then
  scripts/install_engine.sh >&2
  scripts/install_ollama.sh >&2
  set -a
  # shellcheck disable=SC1091
  . "$cache/engine.env"
  # shellcheck disable=SC1091
  . "$cache/ollama.env"
  set +a
fi
venv=$(scripts/setup_python.sh | tail -n 1)
export KITTYD="$KITTY_BUILD_DIR/kittyd" KITTYCTL="$KITTY_BUILD_DIR/kittyctl" \
       FAKE_ENGINE="$KITTY_BUILD_DIR/fake_engine"
echo "== setup took $(( $(date +%s) - start ))s" >&2

status=0
echo "== C++ tests (ctest)"
ctest --test-dir "$KITTY_BUILD_DIR" --output-on-failure -j2 --timeout 300 || status=1

marker=()
client_marker=()
if [ $fast = 1 ]; then
  marker=(-m "not real_model")
  client_marker=(-m "not real_model and not ray_cluster")
fi
echo "== black-box tests of kittyd, kittyctl, fake_engine (pytest)"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "${marker[@]}" tests || status=1
echo "== Python client, LangGraph and Ray Serve tests (pytest)"
"$venv/bin/python" -m pytest -q -p no:cacheprovider -c clients/python/pyproject.toml \
  --rootdir clients/python "${client_marker[@]}" clients/python/tests || status=1

echo "== macOS build: cross-compiled and linked for aarch64-macos (zig)"
scripts/build_macos.sh || status=1

echo "== total $(( $(date +%s) - start ))s"
exit $status
