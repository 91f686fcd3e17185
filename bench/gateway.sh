#!/usr/bin/env bash
# The gateway under 256 concurrent keep-alive callers (wrk, one chat completion per request)
# against a separate `promptpack serve --generator fixed`: chat completions/s, the callers'
# latency, and the prompts packed per upstream request (from the gateway's /metrics).
# Usage: bench/gateway.sh BUILD_DIR [SECONDS] [MAX_DELAY_US]   (needs wrk: make bench-compare
# installs it)
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
delay_us=${3:-1000}
bin="$build/apps/promptpack"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$server_pid" "$gateway_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
wait_for_url() {
  for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/^listening on //p' "$1"
}
"$bin" serve --generator fixed --port 0 --threads 1 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
upstream=$(wait_for_url "$work/serve.out")/inference
"$bin" gateway --listen 127.0.0.1:0 --api-base "$upstream" --model promptpack-reference \
  --max-batch 256 --max-delay-us "$delay_us" --connections 8 --threads 1 \
  > "$work/gateway.out" 2> "$work/gateway.err" &
gateway_pid=$!
gateway=$(wait_for_url "$work/gateway.out")

wrk -t1 -c256 -d"${seconds}s" --latency -s "$here/clients/wrk_chat.lua" \
  "$gateway/v1/chat/completions" | tee "$work/wrk.out"
metric() { curl -s "$gateway/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
requests=$(metric promptpack_gateway_upstream_requests_total)
prompts=$(metric promptpack_gateway_upstream_prompts_total)
awk -v r="$requests" -v p="$prompts" 'BEGIN { printf "upstream: %d requests for %d prompts = %.1f prompts per request\n", r, p, (r ? p / r : 0) }'
