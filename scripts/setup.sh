#!/usr/bin/env bash
# Installs every system package promptpack needs on Debian 12; idempotent and non-interactive.
set -euo pipefail

packages=(g++ make cmake pkg-config openssl ca-certificates time
          libboost1.81-dev libboost-test1.81-dev libsimdjson-dev libssl-dev libcli11-dev
          clang libclang-rt-14-dev)  # clang: the libFuzzer targets (make fuzz)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} system packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo -n"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
