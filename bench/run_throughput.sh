#!/usr/bin/env bash
# The end-to-end job benchmark: a JSONL file through `promptpack run` against a separate
# `promptpack serve --generator echo`, timed as a whole process, with peak RSS.
# Usage: bench/run_throughput.sh BUILD_DIR [LINES] [BATCH] [CONNECTIONS]
set -euo pipefail
build=${1:-build}
lines=${2:-1000000}
batch=${3:-256}
connections=${4:-8}
bin="$build/apps/promptpack"
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# The input: one prompt line per custom_id, ~80 bytes a line.
awk -v n="$lines" 'BEGIN { for (i = 0; i < n; i++) printf "{\"custom_id\":\"req-%d\",\"prompt\":\"The capital of country number %d is\"}\n", i, i }' > "$work/in.jsonl"

"$bin" serve --generator echo --port 0 --threads 2 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")/inference

/usr/bin/time -f "%e %M" -o "$work/time" "$bin" run -q -i "$work/in.jsonl" -o "$work/out.jsonl" \
  --api-base "$url" --batch-size "$batch" --connections "$connections" || true
read -r seconds rss_kb < "$work/time"
records=$(wc -l < "$work/out.jsonl")
rate=$(awk -v n="$records" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
echo "promptpack run: $records of $lines lines in $seconds s (whole process) = $rate prompts/s, peak RSS $rss_mb MB"
echo "  targets: >= 1000000 prompts/s: $([ "$rate" -ge 1000000 ] && echo met || echo NOT met);" \
     "peak RSS <= 128 MB: $(awk -v m="$rss_mb" 'BEGIN { print (m <= 128) ? "met" : "NOT met" }')"
[ "$records" -eq "$lines" ] || { echo "ERROR: $records records for $lines lines" >&2; exit 1; }
