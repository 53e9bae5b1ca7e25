#!/bin/sh
# run.sh - the compaction benchmark: Larder vs DuckDB on one day of small
# offline files of the smart-meter group, both with the same threads, timed
# in the same run (docs/BENCHMARKS.md, "Compaction").
#
#   bench/compact/run.sh [BUILD_DIR] [WORK_DIR]
#   env: FILES (10000), ROWS (1000 per file), THREADS (2), REPS (3)
#
# Each rep runs, in this order and each under /usr/bin/time -v:
#   larder-hour   larder compact smart-meter --mode full (in place: 24 hour
#                 partitions, each into sorted files of about 128 MiB; the old
#                 files are deleted by a cleanup after the default 15-minute
#                 grace) on a freshly generated copy of the data (in place
#                 consumes it)
#   larder-hour-grace0  the same with --grace 0: the 10,000 old files are also
#                 deleted within the run
#   larder-day    larder compact smart-meter --mode full --copy
#                 --partition-mode day (the whole day into one sorted set of
#                 files in compact-offline-store)
#   duckdb-day    COPY (SELECT * ... ORDER BY household_id, event_time) TO one
#                 file (bench/compact/duck.mjs)
#   duckdb-hour   the same COPY with PARTITION_BY (year, month, day, hour)
# and prints one line per run: wall and CPU seconds, rows/s and files/s
# (wall), peak resident memory. The best wall time of each is summarised at
# the end as a Markdown table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
work=${2:-${TMPDIR:-/tmp}/larder-compact-bench}
FILES=${FILES:-10000}
ROWS=${ROWS:-1000}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
larder="$build/larder"
gen="$build/bench/compact/bench_compact"
[ -x "$larder" ] && [ -x "$gen" ] || { echo "build larder and bench_compact first (cmake --build $build --target larder bench_compact)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
results="$work/results.txt"
: > "$results"

# measure NAME CMD...: runs CMD under /usr/bin/time -v, appends "NAME wall cpu rss_kb".
measure() {
  name=$1
  shift
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    echo "$name failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
  user=$(awk -F': ' '/User time/ {print $2}' "$work/time.txt")
  sys=$(awk -F': ' '/System time/ {print $2}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.txt")
  cpu=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
  echo "$name $wall $cpu $rss" >> "$results"
  echo "$name: wall ${wall}s cpu ${cpu}s peak $((rss / 1024)) MiB" >&2
}

gen_data() {
  rm -rf "$1"
  "$gen" gen "$1" --files "$FILES" --rows "$ROWS" > "$work/gen.json"
  sync
}

gen_data "$work/src"
srcroot=$(sed 's/.*"root":"\([^"]*\)".*/\1/' "$work/gen.json")
echo "data: $(cat "$work/gen.json"), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
i=1
while [ "$i" -le "$REPS" ]; do
  gen_data "$work/inplace"
  measure larder-hour "$larder" --data-dir "$work/inplace" compact smart-meter --mode full \
    --threads "$THREADS" --quiet
  gen_data "$work/inplace"
  measure larder-hour-grace0 "$larder" --data-dir "$work/inplace" compact smart-meter \
    --mode full --grace 0 --threads "$THREADS" --quiet
  measure larder-day "$larder" --data-dir "$work/src" compact smart-meter --mode full --copy \
    --partition-mode day --threads "$THREADS" --quiet
  rm -f "$work/duck-day.parquet"
  measure duckdb-day node "$here/duck.mjs" "$srcroot" "$work/duck-day.parquet" "$THREADS" day
  rm -rf "$work/duck-hour"
  measure duckdb-hour node "$here/duck.mjs" "$srcroot" "$work/duck-hour" "$THREADS" hour
  i=$((i + 1))
done

rows=$((FILES * ROWS))
echo
echo "| run | best wall s | CPU s (that run) | rows/s | files/s | peak memory |"
echo "|---|---:|---:|---:|---:|---:|"
for name in larder-hour larder-hour-grace0 larder-day duckdb-day duckdb-hour; do
  grep "^$name " "$results" | sort -k2 -g | head -1 | awk -v rows="$rows" -v files="$FILES" \
    '{printf "| %s | %.1f | %.1f | %.0f | %.0f | %.0f MiB |\n", $1, $2, $3, rows / $2, files / $2, $4 / 1024}'
done
