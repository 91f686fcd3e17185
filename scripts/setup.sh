#!/usr/bin/env bash
# Installs every system package promptpack needs on Debian 12, and the official OpenAI Node SDK
# that the gateway's tests drive it with; idempotent and non-interactive.
set -euo pipefail

packages=(g++ make cmake pkg-config openssl ca-certificates time
          libboost1.81-dev libboost-test1.81-dev libsimdjson-dev libssl-dev libcli11-dev libbenchmark-dev
          clang libclang-rt-14-dev)  # clang: the libFuzzer targets (make fuzz)

# Node runs the OpenAI SDK test (tests/openai_sdk). A node and npm already on PATH (NodeSource,
# nvm, ...) are used as they are: Debian's npm package would conflict with NodeSource's node.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-packages.sh" "${packages[@]}"

# The SDK at the exact version that package-lock.json pins, from the npm registry, as its users
# get it.
if [ ! -d "$root/tests/openai_sdk/node_modules/openai" ]; then
  echo "setup: installing the OpenAI Node SDK into tests/openai_sdk"
  npm ci --prefix "$root/tests/openai_sdk" --no-audit --no-fund
fi
