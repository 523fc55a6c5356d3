#!/usr/bin/env bash
# Installs the Debian packages that build kittyd and its tests. Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(build-essential cmake ninja-build ccache pkg-config
      libboost-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
      libgtest-dev libgmock-dev libbenchmark-dev curl procps
      prometheus  # for promtool: the tests check /metrics with `promtool check metrics`
      chromium chromium-driver  # the dashboard's browser tests
      systemd)  # systemd-analyze verify: the tests check kittyctl's service unit with it  # the dashboard's browser tests (Selenium drives headless Chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
