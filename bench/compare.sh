#!/usr/bin/env bash
# Clients of the protocol side by side, in one run against the same three endpoints: prompts/s and client CPU per prompt.
# Usage: bench/compare.sh BUILD_DIR   (`make bench-compare`; the packages come from scripts/setup-bench.sh)
set -euo pipefail
build=${1:-build}
bin=$build/apps/promptpack
here=$(cd "$(dirname "$0")" && pwd)
# The Debian python3-aiohttp and python3-requests packages belong to the system Python, whatever
# python3 comes first on PATH (pyenv, a venv).
python=/usr/bin/python3
batch=256
connections=8
# Sized so that the whole run stays under ~3 minutes on 2 cores; the environment can shorten it.
fast_prompts=${COMPARE_PROMPTS:-2000000}
# bench's runs are longer than run's: a run of a quarter of a second would weigh its start-up (threads,
# connections, the prompt pool) at several percent. A multiple of the batch, for the fixed answer.
bench_prompts=${COMPARE_BENCH_PROMPTS:-8000000}
bench_prompts=$(( (bench_prompts + batch - 1) / batch * batch ))
aiohttp_prompts=${COMPARE_AIOHTTP_PROMPTS:-1000000}
sequential_prompts=${COMPARE_SEQUENTIAL_PROMPTS:-2000}
pool_prompts=${COMPARE_POOL_PROMPTS:-20000}
wrk_seconds=${COMPARE_WRK_SECONDS:-5}
# promptpack's rows are the median (by CPU) of this many runs: one run's CPU per prompt moves by
# 10-15% with the host's noise, as much as a change being judged.
repeats=${COMPARE_REPEATS:-5}
fixed_text="This is a fixed answer from the reference endpoint."  # serve --generator fixed's, so answers weigh the same

work=$(mktemp -d)
# The fixed answer nginx serves as a file: in a directory of its own, so that only it is opened up
# to nginx's workers (which read files as nobody when nginx starts as root).
static=$(mktemp -d)
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "$static"
}
trap cleanup EXIT

[ -x "$bin" ] || { echo "compare: no $bin; build first (make build)" >&2; exit 2; }
# A private copy: every row then measures the same binary, and a rebuild during the run cannot break it.
cp "$bin" "$work/promptpack"
bin=$work/promptpack
for tool in /usr/bin/time wrk nginx "$python"; do
  command -v "$tool" >/dev/null || { echo "compare: $tool missing; run scripts/setup-bench.sh" >&2; exit 2; }
done

wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "compare: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# One protocol exchange of PROMPTS prompts (2 unless given), so that a server which answers wrongly stops the
# run before any figure.
check_endpoint() {
  "$python" - "$1" "${2:-2}" <<'PY'
import json, sys, urllib.request
count = int(sys.argv[2])
body = json.dumps({"model": "m", "params": {"prompt": ["a"] * count}}).encode()
answer = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1], body, {"Content-Type": "application/json"})))
ok = answer.get("message") == "ok" and len(answer["data"]) == count
sys.exit(0 if ok else f"compare: bad answer from {sys.argv[1]} to {count} prompts: {str(answer)[:200]}")
PY
}

start_promptpack_serve() {
  "$bin" serve --generator fixed --port 0 --threads 1 > "$work/serve.out" 2> "$work/serve.err" &
  server_pids+=($!)
  serve_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  serve_url=$(sed -n 's/^listening on //p' "$work/serve.out")/inference
  [ "$serve_url" != /inference ] || { echo "compare: promptpack serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
}

# nginx runs unprivileged from a prefix in $work: its pid, logs and temporary paths all live there.
start_nginx() {
  local prefix=$work/nginx port
  mkdir -p "$prefix/logs"
  "$python" -c 'import json, sys; entry = {"output": [sys.argv[2]]}
print(json.dumps({"data": [entry] * int(sys.argv[1]), "message": "ok"}, separators=(",", ":")), end="")' \
    "$batch" "$fixed_text" > "$static/fixed"
  chmod a+rx "$static"
  chmod a+r "$static/fixed"
  # nginx cannot listen on port 0, so take a port the kernel just handed out and released.
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$prefix/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $prefix/client_body;
  proxy_temp_path $prefix/proxy;
  fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi;
  scgi_temp_path $prefix/scgi;
  # A body under the buffer size stays in memory, where ngx.req.get_body_data() sees it.
  client_body_buffer_size 1m;
  client_max_body_size 64m;
  # nginx closes a keep-alive connection after 1,000 requests by default; promptpack serve never does.
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port;
    # The issue's reference endpoint: one fixed answer of $batch entries, sent whatever the request
    # (a static file; nginx answers a POST to one with 405, which error_page turns into the file).
    location = /fixed {
      root $static;
      error_page 405 =200 \$uri;
    }
    location / {
      content_by_lua_block {
        local cjson = require "cjson.safe"
        ngx.req.read_body()
        local body = ngx.req.get_body_data()
        local request = body and cjson.decode(body)
        local prompts = type(request) == "table" and type(request.params) == "table" and request.params.prompt
        if type(prompts) ~= "table" then
          ngx.status = 400
          ngx.print('{"data":[],"message":"the body is not a request of the protocol"}')
          return
        end
        local entry = '{"output":["$fixed_text"]}'
        ngx.print('{"data":[', string.rep(entry, #prompts, ","), '],"message":"ok"}')
      }
    }
  }
}
EOF
  nginx -p "$prefix" -c "$prefix/nginx.conf" 2> "$prefix/logs/stderr" &
  server_pids+=($!)
  nginx_pid=$!
  wait_for_port "$port" || { cat "$prefix/logs/stderr" "$prefix/logs/error.log" >&2; exit 1; }
  nginx_url=http://127.0.0.1:$port/inference
  nginx_fixed_url=http://127.0.0.1:$port/fixed
}

rows=$work/rows.tsv
: > "$rows"
# row ENDPOINT CLIENT PROMPTS_OK PROMPTS_PER_S CPU_SECONDS NOTE: one line of the table; the CPU becomes µs per prompt.
row() {
  local cpu_us=""
  [ -n "$5" ] && [ "${3:-0}" -gt 0 ] &&
    cpu_us=$(awk -v c="$5" -v n="$3" 'BEGIN { u = c * 1e6 / n; printf(u >= 100 ? "%.0f" : u >= 10 ? "%.1f" : "%.2f", u) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$cpu_us" "$6" >> "$rows"
}
# timed NAME CMD...: runs CMD under /usr/bin/time into $work/NAME.*; fails when CMD does.
timed() {
  local name=$1
  shift
  /usr/bin/time -f '%e %U %S' -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err"
}
cpu_of() { awk '{ print $2 + $3 }' "$work/$1.time"; }
# median_of NAME: of the runs NAME-1 .. NAME-$repeats, the one whose CPU is the median.
median_of() {
  local rep
  for rep in $(seq "$repeats"); do echo "$(cpu_of "$1-$rep") $1-$rep"; done |
    sort -n | awk -v n="$repeats" 'NR == int((n + 1) / 2) { print $2 }'
}
# failed ENDPOINT CLIENT NAME: a row that says why the client failed, with its last words on stderr.
failed() {
  echo "compare: $2 against $1 failed:" >&2
  tail -n 5 "$work/$3.err" >&2
  row "$1" "$2" 0 "" "" "failed: $(tail -n 1 "$work/$3.err" | tr '\t|' '  ')"
}

run_bench() {
  local endpoint=$1 url=$2 name=bench-$3 client="promptpack bench"
  # An unknown subcommand's --help prints the top-level help with status 0, so look for bench's own flag.
  local help
  help=$("$bin" bench --help 2>&1) || true
  if ! grep -q -- --json <<< "$help"; then
    row "$endpoint" "$client" 0 "" "" "skipped: this build has no \`promptpack bench\`"
    return
  fi
  # No warm-up: its prompts are left out of bench's figures, but not out of the process's CPU time.
  local rep
  for rep in $(seq "$repeats"); do
    timed "$name-$rep" "$bin" bench --api-base "$url" --prompts "$bench_prompts" --batch-size "$batch" \
      --connections "$connections" --warmup 0 --json "$work/$name-$rep.json" ||
      { failed "$endpoint" "$client" "$name-$rep"; return; }
  done
  name=$(median_of "$name")
  local ok rate failures own_us
  read -r ok failures rate own_us < <("$python" -c 'import json, sys; r = json.load(open(sys.argv[1]))
print(r["prompts_ok"], r["prompts_failed"], round(r["prompts_per_s"]), "%.2f" % r["client_us_per_prompt"])' "$work/$name.json")
  row "$endpoint" "$client" "$ok" "$rate" "$(cpu_of "$name")" \
    "whole process, median of $repeats runs; prompts/s from --json, which gives $own_us µs/prompt$([ "$failures" -eq 0 ] || echo "; $failures FAILED")"
}

run_job() {
  local endpoint=$1 url=$2 name=run-$3 client="promptpack run (JSONL in and out)"
  local status rep
  for rep in $(seq "$repeats"); do
    status=0
    rm -f "$work/$name.jsonl" "$work/$name.jsonl.manifest.json"  # each run a new job
    timed "$name-$rep" "$bin" run -q -i "$work/in.jsonl" -o "$work/$name.jsonl" --api-base "$url" \
      --batch-size "$batch" --connections "$connections" || status=$?
    # Status 1 means some lines got error records; anything else means the job did not run.
    [ "$status" -le 1 ] || { failed "$endpoint" "$client" "$name-$rep"; return; }
  done
  # The records checked are the last run's; the figures, the median run's.
  local records errors seconds
  records=$(wc -l < "$work/$name.jsonl")
  errors=$(grep -c '"error"' "$work/$name.jsonl" || true)
  rm -f "$work/$name.jsonl"
  name=$(median_of "$name")
  seconds=$(awk '{ print $1 }' "$work/$name.time")
  row "$endpoint" "$client" "$((records - errors))" \
    "$(awk -v n="$((records - errors))" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')" "$(cpu_of "$name")" \
    "whole process, median of $repeats runs, $records lines$([ "$errors" -eq 0 ] || echo "; $errors error records")"
}

run_wrk() {
  local endpoint=$1 url=$2 name=wrk-$3 client="wrk (sends one fixed body, parses nothing)"
  timed "$name" env WRK_BATCH="$batch" wrk -t1 -c"$connections" -d"${wrk_seconds}s" -s "$here/clients/wrk_batch.lua" "$url" \
    || { failed "$endpoint" "$client" "$name"; return; }
  local requests rate bad
  requests=$(awk '/ requests in / { print $1 }' "$work/$name.out")
  rate=$(awk -v b="$batch" '/^Requests\/sec:/ { printf "%.0f", $2 * b }' "$work/$name.out")
  bad=$(awk '/Non-2xx/ { print $NF }' "$work/$name.out")
  row "$endpoint" "$client" "$((requests * batch))" "$rate" "$(cpu_of "$name")" \
    "-t1 -c$connections -d${wrk_seconds}s; requests/s × $batch$([ -z "$bad" ] || echo "; $bad non-2xx answers")"
}

# python_client ENDPOINT CLIENT NAME NOTE SCRIPT ARGS...: a Python client that prints
# "N prompts ok, F failed in S s = R prompts/s, CPU C s" (exiting 1 when F > 0). Its wall time and CPU cover
# the sending alone, not the interpreter's start-up, which would weigh on the short runs' CPU per prompt.
python_client() {
  local endpoint=$1 client=$2 name=$3-$1 note=$4
  shift 4
  timed "$name" "$python" "$@" || grep -q 'prompts/s' "$work/$name.out" || { failed "$endpoint" "$client" "$name"; return; }
  local ok failures rate cpu
  read -r ok failures rate cpu < <(awk '{ for (i = 1; i <= NF; i++) {
      if ($i == "ok,") ok = $(i - 2); if ($i == "failed") failures = $(i - 1)
      if ($i == "prompts/s,") rate = $(i - 1); if ($i == "CPU") cpu = $(i + 1) } }
    END { print ok, failures, rate, cpu }' "$work/$name.out")
  row "$endpoint" "$client" "$ok" "$rate" "$cpu" "$note$([ "$failures" -eq 0 ] || echo "; $failures FAILED")"
}

run_python_clients() {
  local endpoint=$1 url=$2
  python_client "$endpoint" "aiohttp, batched" aiohttp \
    "$connections tasks, one ClientSession" \
    "$here/clients/aiohttp_client.py" --api-base "$url" --prompts "$aiohttp_prompts" \
    --batch-size "$batch" --connections "$connections"
  python_client "$endpoint" "LiteLLM pattern, sequential" litellm-seq \
    "one prompt per POST, one keep-alive connection" \
    "$here/clients/litellm_pattern.py" --api-base "$url" --prompts "$sequential_prompts" --workers 0
  python_client "$endpoint" "LiteLLM pattern, 100 threads" litellm-pool \
    "as batch_completion: ThreadPoolExecutor(100), shared keep-alive pool" \
    "$here/clients/litellm_pattern.py" --api-base "$url" --prompts "$pool_prompts" --workers 100
  python_client "$endpoint" "LiteLLM pattern, 100 threads, new connection per prompt" litellm-pool-new \
    "a plain requests.post per prompt" \
    "$here/clients/litellm_pattern.py" --api-base "$url" --prompts "$pool_prompts" --workers 100 \
    --connection per-request
}

# Other work on the machine shows in the load averages; they go beside the figures.
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
start_promptpack_serve
start_nginx
check_endpoint "$serve_url"
check_endpoint "$nginx_url"
check_endpoint "$nginx_fixed_url" "$batch"

# The job's input, as in bench/run_throughput.sh: one prompt line per custom_id.
awk -v n="$fast_prompts" 'BEGIN { for (i = 0; i < n; i++) printf "{\"custom_id\":\"req-%d\",\"prompt\":\"The capital of country number %d is\"}\n", i, i }' \
  > "$work/in.jsonl"

# A server that died makes every later figure against it meaningless, so stop there and say why.
check_alive() {
  local pid=$serve_pid log=$work/serve.err
  [ "$1" = serve ] || { pid=$nginx_pid; log=$work/nginx/logs/error.log; }  # nginx and nginx-fixed
  kill -0 "$pid" 2>/dev/null && return 0
  echo "compare: the $1 endpoint died during the $2 run; its log:" >&2
  tail -n 20 "$log" >&2
  exit 1
}

for endpoint in serve nginx nginx-fixed; do
  case $endpoint in
    serve) url=$serve_url ;;
    nginx) url=$nginx_url ;;
    nginx-fixed) url=$nginx_fixed_url ;;
  esac
  echo "compare: clients against $endpoint ($url)" >&2
  run_bench "$endpoint" "$url" "$endpoint"
  check_alive "$endpoint" "promptpack bench"
  if [ "$endpoint" = nginx-fixed ]; then
    # A job's and the Python clients' last request may carry fewer prompts than the fixed answer's entries.
    run_wrk "$endpoint" "$url" "$endpoint"
    check_alive "$endpoint" wrk
    continue
  fi
  run_job "$endpoint" "$url" "$endpoint"
  check_alive "$endpoint" "promptpack run"
  run_wrk "$endpoint" "$url" "$endpoint"
  check_alive "$endpoint" wrk
  run_python_clients "$endpoint" "$url"
  check_alive "$endpoint" "Python clients'"
done

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mkdir -p "$here/results"
{
  echo "# Client comparison"
  echo
  echo "- date: $(date -u)"
  echo "- machine: $(nproc) cores, ${cpu_model:-unknown CPU}; $(uname -sr)"
  echo "- load average (1, 5, 15 min): $load_before before the run, $(cut -d ' ' -f 1-3 /proc/loadavg) after" \
    "(the 100-thread clients add to it themselves)"
  echo "- command: \`$(env | grep '^COMPARE_' | sort | tr '\n' ' ')bash bench/compare.sh $build\` (\`make bench-compare\` runs it)"
  echo "- prompts: $bench_prompts for promptpack bench (whole batches, for the fixed answer), $fast_prompts lines for run," \
    "$aiohttp_prompts for aiohttp," \
    "$sequential_prompts for the sequential LiteLLM pattern, $pool_prompts for the threaded ones; wrk for ${wrk_seconds} s"
  echo "- $batch prompts per request and $connections connections wherever a client batches; prompts of 7 words"\
    "(promptpack bench generates its own, of 8)"
  echo
  echo "Each client and each server is a separate process, and they all share the machine's $(nproc) cores:"
  echo "the server's CPU slows the client down and is not counted in its CPU. Endpoints:"
  echo "\`promptpack serve --generator fixed --threads 1\`, and nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') with one worker"
  echo "whose Lua handler decodes the body with cjson and answers one fixed text per prompt (no prompt echo); and"
  echo "the same nginx sending one fixed answer of $batch entries as a static file, whatever the request (the"
  echo "fixed-answer endpoint of the targets; only whole batches suit it, so only bench and wrk run against it)."
  echo "Client CPU is the user + system time of the client process over the prompts it got answers for: of the"
  echo "whole process (\`/usr/bin/time\`) for promptpack and wrk, of the sending alone (\`os.times()\`) for the Python"
  echo "clients, whose prompts/s also leave the interpreter's start-up out. promptpack's figures are the median run"
  echo "of $repeats (by CPU), the others one run each, all in this one script run, so the ratios compare like with"
  echo "like; they are relative to promptpack bench against the same endpoint."
  echo
  echo "| client | endpoint | prompts | prompts/s | prompts/s ÷ bench's | client CPU µs/prompt | CPU ÷ bench's | notes |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
  awk -F '\t' '
    function ratio(x, base) {
      if (x == "" || base == "" || base == 0) return "n/a"
      r = x / base
      return sprintf(r >= 10 ? "%.0f×" : r >= 1 ? "%.1f×" : "%.2g×", r)
    }
    NR == FNR { if ($2 == "promptpack bench" && $3 > 0) { base_rate[$1] = $4; base_cpu[$1] = $5 } next }
    {
      name = ($1 == "serve") ? "promptpack serve" : ($1 == "nginx") ? "nginx + Lua" : "nginx, one fixed body"
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, name, ($3 > 0 ? $3 : ""), $4, ratio($4, base_rate[$1]),
        $5, ratio($5, base_cpu[$1]), $6
    }' "$rows" "$rows"
} | tee "$here/results/compare-latest.md"
