#!/usr/bin/env bash
# Every benchmark, one after the other (`make bench`). Figures go to stdout.
set -euo pipefail
build=${1:-build}
here=$(dirname "$0")
bash "$here/client_cpu.sh" "$build"
"$build/bench/codec_micro" --benchmark_min_time=0.2
for i in 1 2 3; do bash "$here/run_throughput.sh" "$build" 1000000 256 8; done
