#!/usr/bin/env bash
# Installs the built project into a temporary prefix, then builds and runs tests/consumer with it.
# Usage: run_consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/install" > /dev/null
cmake -S "$source/tests/consumer" -B "$prefix/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix/install" > /dev/null
cmake --build "$prefix/build" -j2 > /dev/null
"$prefix/build/consumer"
"$prefix/build/consumer_own_asio"
