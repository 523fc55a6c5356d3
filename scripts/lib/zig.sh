# Sourced by scripts/check_darwin.sh and scripts/build_macos.sh: puts Zig's C/C++ toolchain
# (PyPI ziglang, pinned) in a venv outside the clone and sets ZIG_PY to its python.
# Env: KITTY_CACHE_DIR (default ~/.cache/kitty).
zig_venv=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}/venv-zig-0.17.0
if [[ ! -x "$zig_venv/bin/python" ]] || ! "$zig_venv/bin/python" -c 'import ziglang' 2>/dev/null; then
  python3 -m venv "$zig_venv" >&2
  "$zig_venv/bin/pip" install -q ziglang==0.17.0 >&2
fi
ZIG_PY="$zig_venv/bin/python"
