#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a fixed time each, from its committed seeds.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
# A crash, a leak or a sanitizer finding stops the run with the target's exit status; the input
# that caused it is left in BUILD_DIR/fuzz-artifacts/ to replay (`TARGET FILE`).
set -euo pipefail
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
for target in connection_life response_parser inference_request line_parser; do
  corpus="$build/fuzz-corpus/$target"  # grows during the run; rebuilt from the seeds each time
  rm -rf "$corpus" && mkdir -p "$corpus"
  echo "fuzz: $target for ${seconds}s"
  "$build/tests/fuzz/${target}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" -max_len=8192 -rss_limit_mb=1024 \
    "$corpus" "$source_dir/tests/fuzz/seeds/$target" 2>&1 | grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE|==[0-9]+==|SUMMARY|INFO: Running)' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: $target found a failure; see $artifacts" >&2; exit 1; }
done
echo "fuzz: all targets clean"
