#!/usr/bin/env bash
# Installs what bench/run.sh needs beyond the project's own build deps (scripts/setup_deps.sh):
# wrk, for the requests/s scenario. Debian/Ubuntu (apt) only; elsewhere install wrk by hand.
# Idempotent: does nothing when wrk is already on PATH.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  echo "bench/setup.sh: wrk already installed ($(command -v wrk))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench/setup.sh: no apt-get here; install wrk (https://github.com/wg/wrk) yourself" >&2
  exit 1
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; update only when the candidate is unknown.
if ! apt-cache policy wrk 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends wrk
wrk --version 2>&1 | head -1 || true  # wrk -v exits 1 after printing its version
