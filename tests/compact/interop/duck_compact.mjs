// duck_compact.mjs - DuckDB's side of compaction's interop test
// (test_compact_duckdb.c). Uses @duckdb/node-api from the project's
// package.json. Every mode reads every .parquet file below ROOT, as a tool
// that reads the folders directly would.
//
//   node duck_compact.mjs rows ROOT
//     {"rows": [...]}: every row (hive partition columns included) as JSON
//     text, sorted, so two readings compare as multisets.
//   node duck_compact.mjs dedup ROOT
//     The same for the rows that survive the offline store's rule: one per
//     (id, event time), the latest api_invocation_time, then write_time.
//   node duck_compact.mjs files ROOT
//     {"files": [{"path", "bytes", "rows", "sorted"}]}: per file, whether its
//     rows are in (id, event time, api_invocation_time) order.
import { statSync } from 'node:fs'
import duckdb from '@duckdb/node-api'

const { DuckDBInstance } = duckdb
const lit = (s) => "'" + String(s).replaceAll("'", "''") + "'"

async function main() {
  const [mode, root] = process.argv.slice(2)
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' })
  const con = await inst.connect()
  await con.run("SET TimeZone = 'UTC'")
  const src = `read_parquet(${lit(root + '/**/*.parquet')}, hive_partitioning = true)`
  if (mode === 'rows' || mode === 'dedup') {
    const filter =
      mode === 'dedup'
        ? `QUALIFY row_number() OVER (PARTITION BY id, ts::TIMESTAMPTZ
             ORDER BY api_invocation_time DESC, write_time DESC) = 1`
        : ''
    const r = await con.runAndReadAll(
      `SELECT to_json(t)::VARCHAR AS j FROM (SELECT * FROM ${src} ${filter}) t ORDER BY j`)
    const rows = r.getRowObjectsJson().map((o) => o.j)
    process.stdout.write(JSON.stringify({ rows }) + '\n')
  } else if (mode === 'files') {
    const r = await con.runAndReadAll(
      `WITH t AS (
         SELECT filename, file_row_number AS n, id, ts::TIMESTAMPTZ AS et, api_invocation_time AS api
         FROM read_parquet(${lit(root + '/**/*.parquet')}, filename = true, file_row_number = true)),
       o AS (
         SELECT filename, n, id, et, api,
                lag(id) OVER w AS pid, lag(et) OVER w AS pet, lag(api) OVER w AS papi
         FROM t WINDOW w AS (PARTITION BY filename ORDER BY n))
       SELECT filename, count(*)::VARCHAR AS rows,
              bool_and(pid IS NULL OR pid < id OR (pid = id AND (pet < et OR (pet = et AND papi <= api)))) AS sorted
       FROM o GROUP BY filename ORDER BY filename`)
    const files = r.getRowObjectsJson().map((o) => ({
      path: o.filename,
      bytes: statSync(o.filename).size,
      rows: Number(o.rows),
      sorted: o.sorted,
    }))
    process.stdout.write(JSON.stringify({ files }) + '\n')
  } else {
    throw new Error('usage: duck_compact.mjs rows|dedup|files ROOT')
  }
}

main().catch((e) => {
  process.stderr.write(`duck_compact: ${e.message}\n`)
  process.exit(1)
})
