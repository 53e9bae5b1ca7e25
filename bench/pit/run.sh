#!/usr/bin/env bash
# The point-in-time join benchmark, in one run on one machine:
#   - pit_gen writes a feature group's offline store (ROWS rows over IDS
#     record identifiers in hourly Parquet files, with duplicates and
#     deletes, registered in the catalog) and an entity file of ENTITIES rows;
#   - `larder training-set` builds the training set with 2 threads;
#   - DuckDB (node, @duckdb/node-api) builds the same training set with 2
#     threads: QUALIFY row_number() dedup, ASOF LEFT JOIN, nulls for delete
#     markers (bench/pit/duck_pit.mjs), unordered and in entity order;
#   - the outputs are compared row for row (as multisets).
# Runs alternate; prints Markdown table rows (docs/BENCHMARKS.md has the
# latest figures).
#
#   bench/pit/run.sh [BUILD_DIR] [ROWS] [IDS] [ENTITIES] [RUNS]
set -euo pipefail

build=${1:-build}
rows=${2:-10000000}
ids=${3:-100000}
ents=${4:-1000000}
runs=${5:-3}
here=$(cd "$(dirname "$0")" && pwd)
larder=$build/larder
gen=$build/bench/pit/pit_gen
for b in "$larder" "$gen"; do
  [ -x "$b" ] || { echo "run.sh: $b not built (cmake --build $build --target larder pit_gen)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "run.sh: node is not installed" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/larder-bench-pit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp/data" "$tmp/entities.parquet" --rows "$rows" --ids "$ids" --entities "$ents" >&2
root=$(ls -d "$tmp"/data/offline/*/sagemaker/*/offline-store/*/data)
# Warm the page cache so that neither side pays for the first read.
cat "$tmp/entities.parquet" $(find "$root" -name '*.parquet') >/dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "$(free -g | awk '/Mem:/{print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $rows offline rows, $ids ids, $(find "$root" -name '*.parquet' | wc -l) files,"\
     "$(du -sh "$root" | cut -f1); $ents entity rows; DuckDB $(node -e \
     "import('@duckdb/node-api').then(m=>console.log(m.default.version()))" 2>/dev/null || echo '?')"
echo
echo "| run | system | wall s | CPU s | max RSS MiB |"
echo "|---|---|---|---|---|"
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -o "$tmp/t" -f '%e %U %S %M' "$@" >/dev/null 2>"$tmp/err" ||
    { echo "run.sh: $label failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  read -r wall user sys rss <"$tmp/t"
  local cpu
  cpu=$(echo "$user + $sys" | bc)
  printf '| %s | %s | %.2f | %.2f | %d |\n' "$run" "$label" "$wall" "$cpu" $((rss / 1024))
  echo "$label $wall $cpu" >>"$tmp/times"
}
for run in $(seq "$runs"); do
  measure "Larder training-set" "$larder" --data-dir "$tmp/data" training-set \
    --entities "$tmp/entities.parquet" --entity-id user_id --timestamp ts --features pit_bench \
    --threads 2 --out "$tmp/larder.parquet" --quiet
  measure "DuckDB ASOF JOIN" node "$here/duck_pit.mjs" "$root" "$tmp/entities.parquet" \
    "$tmp/duck.parquet" 2
  measure "DuckDB ASOF JOIN, entity order" node "$here/duck_pit.mjs" "$root" \
    "$tmp/entities.parquet" "$tmp/duck_ordered.parquet" 2 ordered
done
echo
echo "same rows: $(node "$here/duck_pit.mjs" --compare "$tmp/larder.parquet" "$tmp/duck.parquet")"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
lw=$(grep '^Larder' "$tmp/times" | awk '{print $(NF-1)}' | median)
lc=$(grep '^Larder' "$tmp/times" | awk '{print $NF}' | median)
dw=$(grep '^DuckDB ASOF JOIN ' "$tmp/times" | awk '{print $(NF-1)}' | median)
dc=$(grep '^DuckDB ASOF JOIN ' "$tmp/times" | awk '{print $NF}' | median)
echo "medians: Larder $lw s wall, $lc s CPU; DuckDB (unordered) $dw s wall, $dc s CPU;"\
     "Larder/DuckDB wall $(echo "scale=2; $lw / $dw" | bc), CPU $(echo "scale=2; $lc / $dc" | bc)"
