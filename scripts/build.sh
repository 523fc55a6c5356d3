#!/usr/bin/env bash
# Configures and builds kittyd, kittyctl, fake_engine and the tests into build/ (or $KITTY_BUILD_DIR).
# Compiler output is cached by ccache outside the clone (~/.cache/ccache), so a fresh clone
# on a machine that built before rebuilds in seconds.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KITTY_BUILD_DIR:-$repo/build}
"$repo/scripts/setup_deps.sh"
# Cache hits across clones in different directories.
export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=true
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} >&2
fi
ninja -C "$build" -j"${KITTY_BUILD_JOBS:-$(nproc)}" "$@" >&2
