#!/usr/bin/env bash
# Compiles every *_darwin.cc for macOS (arm64) with zig's bundled clang and macOS headers, so a
# Linux machine catches what would break the Mac build: no linking, no running. The common .cc
# files those need are compiled on Linux already. Zig comes from PyPI (package ziglang) in a venv
# outside the clone. Usage: scripts/check_darwin.sh [file.cc ...]   (default: all *_darwin.cc)
# Env: KITTY_CACHE_DIR (default ~/.cache/kitty). The first run takes minutes (zig builds its
# header caches); later ones seconds per file.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/zig.sh
. "$repo/scripts/lib/zig.sh"
cd "$repo"
files=("$@")
[[ ${#files[@]} -gt 0 ]] || mapfile -t files < <(find src -name '*_darwin.cc' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for f in "${files[@]}"; do
  # -c into a scratch dir, not -fsyntax-only: zig's driver then fails on the missing object.
  # -include utility mirrors CMakeLists.txt.
  if "$ZIG_PY" -m ziglang c++ -target aarch64-macos -std=c++20 -Wall -Wextra \
      -Wno-unused-parameter -Werror=return-type -Werror=switch -include utility -Isrc \
      -c "$f" -o "$out/$(basename "$f" .cc).o"; then
    echo "ok   $f"
  else
    echo "FAIL $f"
    fail=1
  fi
done
exit $fail
