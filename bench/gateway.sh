#!/usr/bin/env bash
# The gateway under concurrent keep-alive callers (wrk, one chat completion per request), in two
# parts, each against a separate `promptpack serve --generator fixed`:
# 1. throughput: 256 callers, an endpoint that answers at once: chat completions/s, the callers'
#    latency, and the prompts packed per upstream request (from the gateway's /metrics);
# 2. latency overhead: an endpoint that takes 10 ms a request, as a model does, called three ways
#    by the same callers: directly (one prompt per request), through the gateway, and through the
#    gateway as LiteLLM's proxy calls a custom endpoint (one upstream request per caller:
#    --max-batch 1). The gateway's p99 over the direct p99 is its overhead; the target is
#    --max-delay-us + 1 ms.
# Usage: bench/gateway.sh BUILD_DIR [SECONDS] [MAX_DELAY_US]   (needs wrk: make bench-compare
# installs it)
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
delay_us=${3:-1000}
bin="$build/apps/promptpack"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
command -v wrk > /dev/null || { echo "gateway.sh: wrk missing; run scripts/setup-bench.sh" >&2; exit 2; }

# start NAME CMD...: runs CMD in the background and prints the URL it announces.
start() {
  local name=$1
  shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/^listening on //p' "$work/$name.out"
}
stop_all() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  pids=()
}
# load NAME CALLERS URL SCRIPT [ENV...]: wrk's figures as "requests/s p50_ms p99_ms non2xx".
load() {
  local name=$1 callers=$2 url=$3 script=$4
  shift 4
  env "$@" wrk -t1 -c"$callers" -d"${seconds}s" --latency -s "$here/clients/$script" "$url" \
    > "$work/$name.wrk"
  awk 'function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
       $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
       /^Requests\/sec:/ { rate = $2 } /Non-2xx/ { bad = $NF }
       END { printf "%.0f %.2f %.2f %d\n", rate, p50, p99, bad }' "$work/$name.wrk"
}
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
per_request() {
  local requests prompts
  requests=$(metric "$1" promptpack_gateway_upstream_requests_total)
  prompts=$(metric "$1" promptpack_gateway_upstream_prompts_total)
  awk -v r="$requests" -v p="$prompts" 'BEGIN { printf "%.1f", (r ? p / r : 0) }'
}
gateway() {  # gateway NAME UPSTREAM EXTRA_FLAGS...
  local name=$1 upstream=$2
  shift 2
  start "$name" "$bin" gateway --listen 127.0.0.1:0 --api-base "$upstream" \
    --model promptpack-reference --max-delay-us "$delay_us" "$@"
}

echo "## Throughput: 256 callers, an endpoint that answers at once"
upstream=$(start serve "$bin" serve --generator fixed --port 0 --threads 1)/inference
url=$(gateway batching "$upstream" --max-batch 256 --connections 8)
read -r rate p50 p99 bad < <(load throughput 256 "$url/v1/chat/completions" wrk_chat.lua)
echo "| chat completions/s | caller p50 | caller p99 | prompts per upstream request | non-2xx |"
echo "|---:|---:|---:|---:|---:|"
echo "| $rate | $p50 ms | $p99 ms | $(per_request "$url") | $bad |"
stop_all

echo
echo "## Latency overhead: an endpoint that takes 10 ms a request, --max-delay-us $delay_us"
upstream=$(start slow "$bin" serve --generator fixed --port 0 --threads 1 --latency-ms 10)/inference
batching=$(gateway batching "$upstream" --max-batch 256 --connections 64)
per_caller=$(gateway per-caller "$upstream" --max-batch 1 --connections 64)
target=$(awk -v d="$delay_us" 'BEGIN { printf "%.2f", d / 1000 + 1 }')
echo "| callers | path | requests/s | p50 | p99 | p99 over direct (target <= $target ms) | prompts per upstream request |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for callers in 64 256; do
  read -r d_rate d_p50 d_p99 _ < <(load "direct-$callers" "$callers" "$upstream" wrk_batch.lua WRK_BATCH=1)
  echo "| $callers | direct (one prompt per request) | $d_rate | $d_p50 ms | $d_p99 ms | | 1 |"
  for path in batching per_caller; do
    gw=${!path}
    before_r=$(metric "$gw" promptpack_gateway_upstream_requests_total)
    before_p=$(metric "$gw" promptpack_gateway_upstream_prompts_total)
    read -r rate p50 p99 _ < <(load "$path-$callers" "$callers" "$gw/v1/chat/completions" wrk_chat.lua)
    after_r=$(metric "$gw" promptpack_gateway_upstream_requests_total)
    after_p=$(metric "$gw" promptpack_gateway_upstream_prompts_total)
    label="gateway, --max-batch 256 --connections 64"
    [ "$path" = per_caller ] && label="gateway as LiteLLM's proxy (--max-batch 1 --connections 64)"
    echo "| $callers | $label | $rate | $p50 ms | $p99 ms | $(awk -v a="$p99" -v b="$d_p99" 'BEGIN { printf "%+.2f ms", a - b }') | $(awk -v r="$((after_r - before_r))" -v p="$((after_p - before_p))" 'BEGIN { printf "%.1f", (r ? p / r : 0) }') |"
  done
done
