// DuckDB reference for bench/ingest: the same CSV to Parquet with
// COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet), 2 threads.
// Usage: node duck_csv.mjs IN.csv OUT.parquet
import duckdb from '@duckdb/node-api'

const [input, output] = process.argv.slice(2)
const inst = await duckdb.DuckDBInstance.create(':memory:', { threads: '2' })
const c = await inst.connect()
const t0 = process.hrtime.bigint()
await c.run(`COPY (SELECT * FROM read_csv('${input}', header=true)) TO '${output}' (FORMAT parquet, COMPRESSION snappy)`)
const secs = Number(process.hrtime.bigint() - t0) / 1e9
const r = await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${output}')`)
const rows = Number(r.getRows()[0][0])
console.log(JSON.stringify({ rows, seconds: secs, rows_per_second: rows / secs }))
