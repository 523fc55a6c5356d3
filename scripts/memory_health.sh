#!/usr/bin/env bash
# Is kittyd healthy, and how much memory do its workers hold? (seed 000 §2's memory_health.sh)
# A thin wrapper over `kittyctl health`, which exits non-zero when kittyd is unreachable or
# unhealthy (use it in cron or monitoring); arguments pass through:
#   scripts/memory_health.sh [--url http://127.0.0.1:7700]     (or KITTY_URL=...)
# kittyctl is found via $KITTYCTL, else build/kittyctl in this repo, else PATH.
set -euo pipefail

# shellcheck source=kittyctl_wrapper.sh
. "$(dirname "${BASH_SOURCE[0]}")/kittyctl_wrapper.sh"
run_kittyctl health "$@"
