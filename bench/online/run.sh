#!/usr/bin/env bash
# The online-store benchmark, in one run on one machine:
#   - bench_online on LMDB (load, gets, puts without fsync; then puts with
#     full sync), on the smart-meter schema, 1M records, random ids;
#   - bench_online on Redis (a redis-server started here on a free loopback
#     port, no persistence);
#   - redis-benchmark GET with 200-byte values on the same server, with 1, 2
#     and 50 connections, as the peer figure.
# Prints Markdown table rows (docs/BENCHMARKS.md has the latest figures).
#
#   bench/online/run.sh [BUILD_DIR] [RECORDS]
set -euo pipefail

build=${1:-build}
records=${2:-1000000}
bin=$build/bench/online/bench_online
[ -x "$bin" ] || { echo "run.sh: $bin not built (cmake --build $build --target bench_online)" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "run.sh: redis-server is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/larder-bench-online.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
rpid=$!
cleanup() { kill "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 200); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "$(free -g | awk '/Mem:/{print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis: $(redis-server --version | cut -d' ' -f3); records: $records"
echo
echo "| store | operation | threads | ops | ops/s | ops/CPU-s | p50 µs | p99 µs | p99.9 µs |"
echo "|---|---|---|---|---|---|---|---|---|"
"$bin" --uri "$tmp/lmdb" --records "$records" --get-ops 2000000 --put-ops 20000 \
  --durability nosync --label "LMDB, nosync" 2>/dev/null
"$bin" --uri "$tmp/lmdb" --records "$records" --skip-load --get-ops 0 --put-ops 1000 \
  --durability sync --label "LMDB, full sync" 2>/dev/null
"$bin" --uri "redis://127.0.0.1:$port" --records "$records" --get-ops 200000 --put-ops 50000 \
  --label "Redis 127.0.0.1" 2>/dev/null
redis-cli -p "$port" flushall >/dev/null
for c in 1 2 50; do
  n=$([ "$c" = 50 ] && echo 1000000 || echo 200000)
  redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -d 200 -r "$records" -n "$n" -c "$c" --csv 2>/dev/null |
    awk -F'","' -v c="$c" -v n="$n" '/^"GET/ { gsub(/"/, "", $0); split($0, f, ",");
      printf "| redis-benchmark -t get -d 200 -c %s | GET | %s conn | %s | %.0f | - | %.1f | %.1f | - |\n",
             c, c, n, f[2], f[5] * 1000, f[7] * 1000 }'
done
