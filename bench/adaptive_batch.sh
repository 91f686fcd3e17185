#!/usr/bin/env bash
# --batch-size auto against fixed sizes, in one run, on an endpoint whose best size is known:
# the reference endpoint with a GPU-like latency model (a fixed cost per request plus a cost per
# prompt) that answers 413 above MAX_BATCH prompts. The best fixed size is MAX_BATCH; auto must
# reach at least 0.9x its throughput with no tuning.
# Usage: bench/adaptive_batch.sh BUILD_DIR [MAX_BATCH] [SECONDS]
set -euo pipefail
build=${1:-build}
max_batch=${2:-700}
seconds=${3:-8}
bin="$build/apps/promptpack"
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" serve --generator fixed --port 0 --threads 1 --latency-ms 20 --per-prompt-us 40 \
  --max-batch "$max_batch" > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")/inference

common=(--api-base "$url" --connections 4 --duration "$seconds" --warmup 1)
fixed_sizes=(64 256 512 "$max_batch")
best=0
for size in "${fixed_sizes[@]}"; do
  "$bin" bench "${common[@]}" --batch-size "$size" --json "$work/fixed.json" > /dev/null
  rate=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["prompts_per_s"]))' "$work/fixed.json")
  echo "fixed $size: $rate prompts/s"
  [ "$rate" -gt "$best" ] && best=$rate
done
# auto's own warm-up: the search takes a few windows of 200 ms before it settles.
"$bin" bench --api-base "$url" --connections 4 --duration "$seconds" --warmup 4 \
  --batch-size auto --json "$work/auto.json"
auto=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["prompts_per_s"]))' "$work/auto.json")
awk -v a="$auto" -v b="$best" 'BEGIN { printf "auto: %d prompts/s = %.2fx the best fixed size (target >= 0.9)\n", a, a / b }'
