// duck_pit.mjs - DuckDB's side of the point-in-time join benchmark
// (bench/pit/run.sh): the same training set as `larder training-set`, as
// DuckDB users write it: deduplicate the offline rows (one row per record
// identifier and event time: the latest api_invocation_time, then
// write_time), then ASOF LEFT JOIN the entity rows on identifier and
// timestamp, nulling the features when the matched row is a delete marker.
//
//   node duck_pit.mjs ROOT ENTITIES.parquet OUT.parquet THREADS [ordered]
//   node duck_pit.mjs --compare A.parquet B.parquet
//
// ROOT is the group's offline root (every .parquet file below it is read).
// With `ordered`, the output keeps the entity file's row order, as Larder's
// does (an extra sort in DuckDB). Prints one JSON line: wall and CPU seconds.
// --compare prints the rows of A not in B and of B not in A (as multisets),
// and both row counts.
import duckdb from '@duckdb/node-api'

const { DuckDBInstance } = duckdb
const lit = (s) => "'" + String(s).replaceAll("'", "''") + "'"

async function compare(a, b) {
  const inst = await DuckDBInstance.create(':memory:')
  const con = await inst.connect()
  const one = async (sql) => Number((await con.runAndReadAll(sql)).getRows()[0][0])
  const ra = `read_parquet(${lit(a)})`
  const rb = `read_parquet(${lit(b)})`
  const res = {
    rows_a: await one(`SELECT count(*) FROM ${ra}`),
    rows_b: await one(`SELECT count(*) FROM ${rb}`),
    only_a: await one(`SELECT count(*) FROM (SELECT * FROM ${ra} EXCEPT ALL SELECT * FROM ${rb})`),
    only_b: await one(`SELECT count(*) FROM (SELECT * FROM ${rb} EXCEPT ALL SELECT * FROM ${ra})`),
  }
  process.stdout.write(JSON.stringify(res) + '\n')
}

async function main() {
  if (process.argv[2] === '--compare') return compare(process.argv[3], process.argv[4])
  const [root, entities, out, threads, ordered] = process.argv.slice(2)
  const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) })
  const con = await inst.connect()
  const feats = `read_parquet(${lit(root + '/**/*.parquet')})`
  const ents = ordered === 'ordered'
    ? `(SELECT *, row_number() OVER () AS larder_row FROM read_parquet(${lit(entities)}))`
    : `read_parquet(${lit(entities)})`
  const sql = `COPY (
    WITH f AS (
      SELECT id, event_time, CAST(event_time AS TIMESTAMPTZ) AS et, f_int, f_dbl, f_str,
             is_deleted
      FROM ${feats}
      QUALIFY row_number() OVER (PARTITION BY id, event_time
                                 ORDER BY api_invocation_time DESC, write_time DESC) = 1)
    SELECT e.user_id, e.ts, e.label,
           CASE WHEN NOT f.is_deleted THEN f.event_time END AS event_time,
           CASE WHEN NOT f.is_deleted THEN f.f_int END AS f_int,
           CASE WHEN NOT f.is_deleted THEN f.f_dbl END AS f_dbl,
           CASE WHEN NOT f.is_deleted THEN f.f_str END AS f_str
    FROM ${ents} e ASOF LEFT JOIN f ON e.user_id = f.id AND e.ts >= f.et
    ${ordered === 'ordered' ? 'ORDER BY e.larder_row' : ''}
  ) TO ${lit(out)} (FORMAT PARQUET)`
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await con.run(sql)
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const c = process.cpuUsage(c0)
  process.stdout.write(JSON.stringify({ wall, cpu: (c.user + c.system) / 1e6 }) + '\n')
}

main().catch((e) => {
  process.stderr.write(`duck_pit: ${e.message}\n`)
  process.exit(1)
})
