# Sourced by the operator scripts (list_workers.sh, memory_health.sh): runs
# `kittyctl <command> "$@"`, finding kittyctl via $KITTYCTL, else build/kittyctl in this repo,
# else PATH, and passing --url on as KITTY_URL (which every kittyctl command reads).
# Usage, after `set -euo pipefail`: run_kittyctl COMMAND "$@"

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

run_kittyctl() {
  local command=$1 kittyctl
  shift
  kittyctl=$(find_kittyctl)
  local args=()
  while (($#)); do
    case "$1" in
      --url) [[ $# -ge 2 ]] || { echo "$(basename "$0"): --url needs a value" >&2; exit 2; }
             export KITTY_URL="$2"; shift 2 ;;
      --url=*) export KITTY_URL="${1#--url=}"; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  exec "$kittyctl" "$command" "${args[@]}"
}
