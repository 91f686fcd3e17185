#!/usr/bin/env bash
# Installs the Debian 12 packages bench/compare.sh needs (other clients, a third-party endpoint); idempotent and non-interactive.
set -euo pipefail

# nginx is the server binary itself: on Debian 12, nginx-light and nginx-core only add modules that
# the comparison does not use. The Lua module pulls in its NDK dependency and lua-resty-core.
packages=(time wrk nginx libnginx-mod-http-lua lua-cjson python3 python3-aiohttp python3-requests)

had_nginx=yes
dpkg-query -W -f='${Status}' nginx 2>/dev/null | grep -q "install ok installed" || had_nginx=no
bash "$(dirname "${BASH_SOURCE[0]}")/install-packages.sh" "${packages[@]}"

# On a systemd machine the nginx package starts and enables a site on port 80; bench/compare.sh
# runs its own nginx, so put the new service back to sleep (an nginx installed earlier is left alone).
if [ "$had_nginx" = no ] && [ -d /run/systemd/system ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "setup-bench: stopping and disabling the nginx service the package started (bench/compare.sh runs its own)"
  $sudo systemctl disable --now nginx
fi
