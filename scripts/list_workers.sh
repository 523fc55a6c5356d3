#!/usr/bin/env bash
# List kittyd's workers: model, status, pid, memory, idle time, holds (seed 000 §2's list_workers.sh).
# A thin wrapper over `kittyctl ps`; arguments pass through:
#   scripts/list_workers.sh [--json] [--url http://127.0.0.1:7700]     (or KITTY_URL=...)
# kittyctl is found via $KITTYCTL, else build/kittyctl in this repo, else PATH.
set -euo pipefail

# shellcheck source=kittyctl_wrapper.sh
. "$(dirname "${BASH_SOURCE[0]}")/kittyctl_wrapper.sh"
run_kittyctl ps "$@"
