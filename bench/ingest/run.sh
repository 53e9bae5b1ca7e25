#!/usr/bin/env bash
# bench/ingest: the default smart-meter sample CSV into both stores with
# `larder ingest`, beside DuckDB converting the same CSV to Parquet (2 threads)
# as a reference for the offline half, in the same run. Prints one line per
# run and the medians.
#
#   bench/ingest/run.sh [BUILD_DIR] [RUNS]      (defaults: build, 3)
# Needs: the larder binary, node with the project's npm packages, /usr/bin/time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
runs=${2:-3}
L="$top/$build/larder"
work=$(mktemp -d /tmp/larder-bench-ingest.XXXXXX)
trap 'rm -rf "$work"' EXIT

csv="$work/smart-meter.csv"
"$L" datagen smart-meter --out "$csv" 2>/dev/null
rows=$(($(wc -l <"$csv") - 1))
echo "input: $csv, $rows rows, $(du -h "$csv" | cut -f1)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

larder_s=()
duck_s=()
for i in $(seq 1 "$runs"); do
  data="$work/data-$i"
  "$L" --data-dir "$data" fg create --file "$top/examples/smart-meter.json" >/dev/null
  /usr/bin/time -o "$work/time" -f "%e %U %S %M" "$L" --data-dir "$data" ingest smart-meter \
    "$csv" --quiet >/dev/null 2>"$work/ingest.err"
  read -r wall user sys maxkb <"$work/time"
  files=$(find "$data/offline" -name '*.parquet' | wc -l)
  bytes=$(du -sb "$data/offline" | cut -f1)
  echo "larder ingest run $i: ${wall}s wall, ${user}s user, ${sys}s sys, $((maxkb / 1024)) MiB peak," \
       "$(awk -v r="$rows" -v w="$wall" 'BEGIN{printf "%.0f", r/w}') rows/s, $files files, $bytes bytes"
  larder_s+=("$wall")
  # The data directories stay until the end: deleting a run's ~1,000 files
  # right before the next run makes ext4 skip their recently freed inodes
  # when the next run creates its own, which costs that run ~0.3 s of CPU
  # that a first ingest never pays.

  out="$work/duck-$i.parquet"
  /usr/bin/time -o "$work/time" -f "%e %U %S %M" node "$here/duck_csv.mjs" "$csv" "$out" \
    >"$work/duck.json"
  read -r wall user sys maxkb <"$work/time"
  echo "duckdb csv->parquet run $i: ${wall}s wall (process), ${user}s user, ${sys}s sys," \
       "$((maxkb / 1024)) MiB peak, $(cat "$work/duck.json"), $(stat -c %s "$out") bytes"
  duck_s+=("$(node -e "console.log(JSON.parse(require('fs').readFileSync('$work/duck.json')).seconds)")")
  rm -f "$out"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ml=$(median "${larder_s[@]}")
md=$(median "${duck_s[@]}")
echo "median: larder ingest ${ml}s ($(awk -v r="$rows" -v w="$ml" 'BEGIN{printf "%.0f", r/w}') rows/s into both stores);" \
     "duckdb ${md}s ($(awk -v r="$rows" -v w="$md" 'BEGIN{printf "%.0f", r/w}') rows/s, Parquet only)"
