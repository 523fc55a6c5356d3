#!/usr/bin/env bash
# Restart the Ollama daemon kittyd watches and wait until it answers again (seed 000 §7.2's
# "daemon reset hook"). A thin wrapper over `kittyctl ollama restart`: kittyd restarts its own
# `ollama serve`, or runs ollama.start_command (on a Mac:
#   start_command: [launchctl, kickstart, -k, "gui/${UID}/com.ollama.ollama"]).
#   scripts/restart_ollama.sh [--json] [--url http://127.0.0.1:7700]     (or KITTY_URL=...)
# kittyctl is found via $KITTYCTL, else build/kittyctl in this repo, else PATH.
set -euo pipefail

# shellcheck source=kittyctl_wrapper.sh
. "$(dirname "${BASH_SOURCE[0]}")/kittyctl_wrapper.sh"
run_kittyctl ollama restart "$@"
