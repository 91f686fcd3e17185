#!/usr/bin/env bash
# Installs those of the given Debian packages that are not installed yet; idempotent and
# non-interactive. Usage: install-packages.sh PACKAGE...
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: install-packages.sh PACKAGE..." >&2
  exit 2
fi

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-packages: all $# packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-packages: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo -n"
fi
echo "install-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
