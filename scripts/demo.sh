#!/usr/bin/env bash
# `make demo`: the reference endpoint, one batched exchange against it, then the JSONL job over
# examples/prompts.jsonl against the embedded endpoint.
set -euo pipefail
bin=${1:-build/apps/promptpack}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== 1. promptpack serve: the reference endpoint"
"$bin" serve --port 0 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
head -1 "$work/serve.out"
url=$(sed -n 's/^listening on //p' "$work/serve.out")/inference

echo
echo "== 2. promptpack complete: one LiteLLM-style call, answered as an OpenAI chat.completion"
"$bin" complete --api-base "$url" --model custom/meta-llama/Llama-2-13b-hf --max-tokens 10 \
  "The capital of France is P"

echo
echo "== 3. promptpack run: $(wc -l < examples/prompts.jsonl) lines of examples/prompts.jsonl, packed 256 to a request"
"$bin" run -i examples/prompts.jsonl -o "$work/results.jsonl" --embedded-generator text 2>&1
echo
echo "-- the first records of $(wc -l < "$work/results.jsonl"):"
head -n 4 "$work/results.jsonl" | cut -c1-200
