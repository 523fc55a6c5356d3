#!/usr/bin/env bash
# Is kittyd healthy, and how much memory do its workers hold? (seed 000 §2's memory_health.sh)
# A thin wrapper over `kittyctl health`, which exits non-zero when kittyd is unreachable or
# unhealthy (use it in cron or monitoring); arguments pass through:
#   scripts/memory_health.sh [--url http://127.0.0.1:7700]     (or KITTY_URL=...)
# kittyctl is found via $KITTYCTL, else build/kittyctl in this repo, else PATH.
set -euo pipefail

find_kittyctl() {
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ -n "${KITTYCTL:-}" ]]; then
    [[ -x "$KITTYCTL" ]] || { echo "$(basename "$0"): KITTYCTL=$KITTYCTL is not an executable" >&2; return 1; }
    echo "$KITTYCTL"
  elif [[ -x "$repo/build/kittyctl" ]]; then
    echo "$repo/build/kittyctl"
  elif command -v kittyctl >/dev/null 2>&1; then
    command -v kittyctl
  else
    echo "$(basename "$0"): kittyctl not found: set KITTYCTL, build it (ninja -C build kittyctl) or put it on PATH" >&2
    return 1
  fi
}

kittyctl=$(find_kittyctl)

# --url goes to kittyctl as KITTY_URL, so it works wherever kittyctl expects the flag.
args=()
while (($#)); do
  case "$1" in
    --url) [[ $# -ge 2 ]] || { echo "$(basename "$0"): --url needs a value" >&2; exit 2; }
           export KITTY_URL="$2"; shift 2 ;;
    --url=*) export KITTY_URL="${1#--url=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
exec "$kittyctl" health "${args[@]}"
