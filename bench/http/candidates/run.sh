#!/usr/bin/env bash
# Builds the three HTTP candidates and measures each on a GetRecord-shaped
# request (keep-alive, wrk -c 50 -t 2, loopback), then nginx with the same
# fixed body as the ceiling. Prints one line per candidate and run.
#   bench/http/candidates/run.sh [SECONDS] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-10}
runs=${2:-3}
out=${TMPDIR:-/tmp}/larder-http-candidates
mkdir -p "$out"
cc=${CC:-cc}
flags="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread"
$cc $flags -o "$out/cand-mhd" "$here/mhd.c" -lmicrohttpd
$cc $flags $(pkg-config --cflags libh2o-evloop) -DH2O_USE_LIBUV=0 -o "$out/cand-h2o" "$here/h2o.c" $(pkg-config --libs libh2o-evloop)
$cc $flags -o "$out/cand-ownloop" "$here/ownloop.c" -lhttp_parser
port=18080
url="http://127.0.0.1:$port/FeatureGroup/x?RecordIdentifierValueAsString=m-0000123456"

measure() { # name
  for r in $(seq "$runs"); do
    wrk -t 2 -c 50 -d "${secs}s" --latency "$url" >"$out/$1.$r.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$out/$1.$r.txt")
    p50=$(awk '$1=="50%" {print $2}' "$out/$1.$r.txt")
    p99=$(awk '$1=="99%" {print $2}' "$out/$1.$r.txt")
    echo "$1 run=$r rps=$rps p50=$p50 p99=$p99"
  done
}

for c in mhd h2o ownloop; do
  "$out/cand-$c" "$port" 2 &
  pid=$!
  sleep 0.5
  measure "$c"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

# nginx with the same body: the HTTP ceiling.
body=$(sed -n '/cand_body\[\] =/,/;/p' "$here/common.h" | sed -e '1d' -e 's/^ *"//' -e 's/"[;]*$//' -e 's/\\"/"/g' | tr -d '\n')
mkdir -p "$out/nginx"
cat >"$out/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port reuseport;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
nginx -c "$out/nginx/nginx.conf" -p "$out/nginx" &
pid=$!
sleep 0.5
measure nginx
kill "$pid"; wait "$pid" 2>/dev/null || true
