#!/usr/bin/env bash
# Builds kittyd, installs the real engine and model (cached), and runs kittyd in the
# foreground on the embedded default config (SmolLM2-135M via llama-server) at
# http://127.0.0.1:7700. Extra arguments go to kittyd (e.g. --config my.yaml).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KITTY_BUILD_DIR:-$repo/build}
"$repo/scripts/build.sh" kittyd kittyctl
"$repo/scripts/install_engine.sh" >&2
cache=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}
set -a
# shellcheck disable=SC1091
. "$cache/engine.env"
set +a
exec "$build/kittyd" "$@"
