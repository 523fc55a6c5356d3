#!/usr/bin/env bash
# Create (idempotently) the Python virtualenv for kitty_client, its tests and examples.
#
# The venv lives OUTSIDE the clone, keyed by the pinned requirements:
#   ${KITTY_CACHE_DIR:-$HOME/.cache/kitty}/venv-<hash of clients/python/requirements-test.txt>
# It gets the pinned requirements and an editable install of clients/python from this clone.
# A second run with nothing changed only checks a marker (about a second).
#
# Prints the venv's path as the last line of stdout; progress goes to stderr. Usage:
#   VENV=$(scripts/setup_python.sh) && "$VENV/bin/pytest" clients/python/tests
# Env: PYTHON (default python3.11, else python3), KITTY_CACHE_DIR.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkg="$repo/clients/python"
req="$pkg/requirements-test.txt"
[[ -f "$req" ]] || { echo "setup_python: missing $req" >&2; exit 1; }

py=${PYTHON:-}
if [[ -z "$py" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
command -v "$py" >/dev/null 2>&1 || { echo "setup_python: $py not found (set PYTHON)" >&2; exit 1; }

hash=$(sha256sum "$req" | cut -c1-12)
cache=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}
venv="$cache/venv-$hash"
# The editable install points at one clone; reinstall when another clone (or a changed
# pyproject.toml) uses the same venv.
want="req=$hash pkg=$pkg pyproject=$(sha256sum "$pkg/pyproject.toml" | cut -c1-12) py=$("$py" -c 'import sys; print(sys.version.split()[0])')"
marker="$venv/.kitty-setup-complete"

if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -x "$venv/bin/python" ]]; then
  echo "$venv"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.venv-$hash.lock"
flock 9  # another run may be building the same venv

if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -x "$venv/bin/python" ]]; then
  echo "$venv"
  exit 0
fi

pip_q=(--disable-pip-version-check --no-input -q)
if [[ ! -f "$venv/.kitty-reqs-installed" || ! -x "$venv/bin/python" ]]; then
  echo "setup_python: creating $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install "${pip_q[@]}" -r "$req" >&2
  touch "$venv/.kitty-reqs-installed"
fi

echo "setup_python: installing kitty_client (editable) from $pkg" >&2
"$venv/bin/python" -m pip install "${pip_q[@]}" --no-build-isolation --no-deps -e "$pkg" >&2
"$venv/bin/python" -m pip check >&2
printf '%s' "$want" >"$marker"
echo "$venv"
