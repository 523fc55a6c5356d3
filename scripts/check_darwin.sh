#!/usr/bin/env bash
# Compiles every *_darwin.cc for macOS (arm64) with zig's bundled clang and macOS headers, so a
# Linux machine catches what would break the Mac build: no linking, no running. The common .cc
# files those need are compiled on Linux already. Zig comes from PyPI (package ziglang) in a venv
# outside the clone. Usage: scripts/check_darwin.sh [file.cc ...]   (default: all *_darwin.cc)
# Env: KITTY_CACHE_DIR (default ~/.cache/kitty). The first run takes minutes (zig builds its
# header caches); later ones seconds per file.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}/venv-zig-0.17.0
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import ziglang' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q ziglang==0.17.0 >&2
fi
cd "$repo"
files=("$@")
[[ ${#files[@]} -gt 0 ]] || mapfile -t files < <(find src -name '*_darwin.cc' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for f in "${files[@]}"; do
  # -c into a scratch dir, not -fsyntax-only: zig's driver then fails on the missing object.
  # -include utility mirrors CMakeLists.txt.
  if "$venv/bin/python" -m ziglang c++ -target aarch64-macos -std=c++20 -Wall -Wextra \
      -Wno-unused-parameter -Werror=return-type -Werror=switch -include utility -Isrc \
      -c "$f" -o "$out/$(basename "$f" .cc).o"; then
    echo "ok   $f"
  else
    echo "FAIL $f"
    fail=1
  fi
done
exit $fail
