#!/usr/bin/env bash
# Client CPU per prompt against a separate `promptpack serve --generator fixed`.
# Usage: bench/client_cpu.sh BUILD_DIR [PROMPTS] [BATCH] [CONNECTIONS]
set -euo pipefail
build=${1:-build}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$build/apps/promptpack" serve --generator fixed --port 0 --threads 2 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$work/serve.out")
"$build/bench/client_cpu_per_prompt" 127.0.0.1 "$port" "${2:-1000000}" "${3:-256}" "${4:-8}"
