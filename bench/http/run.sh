#!/usr/bin/env bash
# bench/http/run.sh - GetRecord and PutRecord against `larder serve`, beside
# nginx (a fixed ~300-byte body: the HTTP ceiling of this machine) and Redis
# (GET of 200-byte values), in one run on loopback. Prints one line per
# measurement and, at the end, the median of the runs for docs/BENCHMARKS.md.
#
#   bench/http/run.sh [--larder build/larder] [--records 999999] [--runs 3]
#                     [--seconds 10] [--threads 0] [--durability sync]
#                     [--put-connections 50] [--pin]
#
# Every peer gets 50 keep-alive connections (wrk -t 2 -c 50; redis-benchmark
# -c 50). With --pin, each server runs on CPU 1 only (Larder with one
# worker thread, nginx with one worker, Redis) and every client on CPU 0
# only (wrk -t 1), so client and server never compete for a core: the
# per-core figures, and tails that are the server's rather than the
# scheduler's. CPU steal is read from /proc/stat around each measurement, and
# the server's own CPU time from /proc/PID/stat, which gives requests per
# server CPU-second: the per-core figure that other work on a shared
# machine distorts least.
# Needs: wrk, nginx (nginx-light), redis-server, redis-benchmark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
larder=$root/build/larder
records=999999  # the generator makes at most 999,999 households
runs=3
secs=10
threads=0
durability=sync
putconns=50
pin=0
while [ $# -gt 0 ]; do
  case "$1" in
    --larder) larder=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    --put-connections) putconns=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk nginx redis-server redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (scripts/install-deps --bench)" >&2; exit 1; }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
srv=() cli=() wrk_threads=2 nginx_workers=2
if [ "$pin" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "run.sh: --pin needs two CPUs" >&2; exit 1; }
  command -v taskset >/dev/null || { echo "run.sh: --pin needs taskset (util-linux)" >&2; exit 1; }
  srv=(taskset -c 1) cli=(taskset -c 0) wrk_threads=1 nginx_workers=1 threads=1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/larder-bench-http.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_sample() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $9}' /proc/stat; }
clk=$(getconf CLK_TCK)
proc_ticks() { # pid... -> utime+stime of the processes, all threads
  local t=0 p f
  for p in "$@"; do
    read -r -a f <"/proc/$p/stat"
    t=$((t + f[13] + f[14]))
  done
  echo "$t"
}
per_cpu_s() { # requests ticks_before ticks_after
  awk -v n="$1" -v a="$2" -v b="$3" -v hz="$clk" 'BEGIN{ printf "%.0f", (b > a) ? (n / ((b - a) / hz)) : 0 }'
}
steal_pct() { # before after
  awk -v a="$1" -v b="$2" 'BEGIN{split(a,x," "); split(b,y," "); dt=y[1]-x[1]; ds=y[2]-x[2]; printf "%.2f", (dt > 0) ? (100 * ds / dt) : 0}'
}

# --- data: the smart-meter group with $records records online ---
data=$work/data
echo "bench: generating and loading $records smart-meter records..." >&2
"$larder" datagen smart-meter --households "$records" --days 1 --out "$work/meters.csv" >/dev/null
cut -d, -f1 "$work/meters.csv" | tail -n +2 >"$work/ids.txt"
"$larder" datagen smart-meter --definition >"$work/fg.json"
"$larder" --data-dir "$data" fg create --file "$work/fg.json" >/dev/null
"$larder" --data-dir "$data" ingest smart-meter "$work/meters.csv" --target-stores online --quiet >/dev/null

# --- peers ---
lport=$(free_port)
"${srv[@]}" "$larder" --data-dir "$data" serve --listen "127.0.0.1:$lport" --threads "$threads" \
  --online-durability "$durability" >"$work/larder.log" 2>&1 &
lpid=$!
pids+=($lpid)
nport=$(free_port)
body=$(head -c 300 /dev/zero | tr '\0' 'x')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $nginx_workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nport reuseport;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
"${srv[@]}" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
npid=$!
pids+=($npid)
rport=$(free_port)
"${srv[@]}" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
rpid=$!
pids+=($rpid)
wait_port "$lport" && wait_port "$nport" && wait_port "$rport" || { echo "run.sh: a peer did not start" >&2; cat "$work/larder.log" >&2; exit 1; }
redis-benchmark -p "$rport" -q -t set -d 200 -r 100000 -n 200000 -c 50 >/dev/null
nworkers=$(pgrep -P "$npid" | tr '\n' ' ')

results=$work/results.txt
: >"$results"
run_wrk() { # name url script connections server-pids...
  local b a out tb ta name=$1 url=$2 script=$3 conns=$4
  shift 4
  b=$(cpu_sample)
  tb=$(proc_ticks "$@")
  out=$(IDS="$work/ids.txt" "${cli[@]}" wrk -t "$wrk_threads" -c "$conns" -d "${secs}s" -s "$script" "$url")
  ta=$(proc_ticks "$@")
  a=$(cpu_sample)
  local rps p50 p99 p999 total
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  read -r p50 p99 p999 < <(awk '/^LATENCY_US/ {sub("p50=","",$2); sub("p99=","",$3); sub("p999=","",$4); print $2, $3, $4}' <<<"$out")
  grep -q "ERRORS status=0 socket=0" <<<"$out" || echo "bench: $name had errors: $(grep ERRORS <<<"$out")" >&2
  echo "$name rps=$rps p50_us=$p50 p99_us=$p99 p999_us=$p999 per_cpu_s=$(per_cpu_s "$total" "$tb" "$ta") steal_pct=$(steal_pct "$b" "$a")" | tee -a "$results"
}
run_redis() {
  local b a out rps p50 p99 p999 tb ta n=$((secs * 60000))
  b=$(cpu_sample)
  tb=$(proc_ticks "$rpid")
  out=$("${cli[@]}" redis-benchmark -p "$rport" -t get -d 200 -r 100000 -c 50 -n "$n" 2>/dev/null | tr '\r' '\n')
  ta=$(proc_ticks "$rpid")
  a=$(cpu_sample)
  rps=$(awk '/requests per second/ {for (i = 1; i < NF; i++) if ($(i + 1) == "requests") print $i}' <<<"$out" | tail -1)
  pct() { awk -v q="$1" '$1 ~ /%$/ && $2 == "<=" { v=$1; sub("%","",v); if (v+0 >= q) { printf "%d", $3 * 1000; exit } }' <<<"$out"; }
  p50=$(pct 50); p99=$(pct 99); p999=$(pct 99.9)
  echo "redis-get rps=$rps p50_us=$p50 p99_us=$p99 p999_us=$p999 per_cpu_s=$(per_cpu_s "$n" "$tb" "$ta") steal_pct=$(steal_pct "$b" "$a")" | tee -a "$results"
}

# warm-up, then the runs, interleaved so that every peer sees the same machine
wrk -t 2 -c 50 -d 2s -s "$here/get_random.lua" "http://127.0.0.1:$lport" >/dev/null 2>&1 <<<"" || true
for r in $(seq "$runs"); do
  echo "bench: run $r of $runs" >&2
  run_wrk larder-get "http://127.0.0.1:$lport" "$here/get_random.lua" 50 "$lpid"
  # shellcheck disable=SC2086
  run_wrk nginx-fixed "http://127.0.0.1:$nport/" "$here/fixed.lua" 50 $nworkers
  run_redis
  run_wrk larder-put "http://127.0.0.1:$lport" "$here/put_random.lua" "$putconns" "$lpid"
done

echo
echo "median of $runs runs (rps, latency in microseconds, requests per CPU-second of the"
echo "server's own processes, steal in % of CPU time;"
echo "online durability $durability, PutRecord with $putconns connections$([ "$pin" = 1 ] && echo "; servers pinned to CPU 1 with one worker, clients to CPU 0"):"
for name in larder-get nginx-fixed redis-get larder-put; do
  awk -v n="$name" '$1 == n' "$results" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in line.split()[1:]) for line in sys.stdin]
name = sys.argv[1]
med = {k: statistics.median(float(r[k]) for r in rows) for k in rows[0]}
print("%-12s rps=%.0f p50=%.0fus p99=%.0fus p99.9=%.0fus per-server-CPU-s=%.0f steal=%.2f%%" % (name, med["rps"], med["p50_us"], med["p99_us"], med["p999_us"], med["per_cpu_s"], med["steal_pct"]))
' "$name"
done
