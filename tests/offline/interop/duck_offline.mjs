// duck_offline.mjs - DuckDB's side of the offline store's interop tests
// (test_offline_duckdb.c). Uses @duckdb/node-api from the project's
// package.json.
//
//   node duck_offline.mjs read ROOT
//     Reads read_parquet('ROOT/**/*.parquet', hive_partitioning = true) and
//     prints one JSON object: {"types": {column: DuckDB type}, "rows": [...]}
//     with rows ordered by id, ts, write_time; timestamps as epoch
//     microseconds (strings), integers as strings.
//   node duck_offline.mjs write FILE same|different
//     Writes one row with the test group's schema (same) or with `amount`
//     as a 32-bit INTEGER (different), as another tool would.
import duckdb from '@duckdb/node-api'

const { DuckDBInstance } = duckdb
const lit = (s) => "'" + String(s).replaceAll("'", "''") + "'"

async function main() {
  const [mode, path, kind] = process.argv.slice(2)
  const inst = await DuckDBInstance.create(':memory:')
  const con = await inst.connect()
  if (mode === 'read') {
    const src = `read_parquet(${lit(path + '/**/*.parquet')}, hive_partitioning = true)`
    const desc = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)
    const types = {}
    for (const r of desc.getRowObjectsJson()) types[r.column_name] = r.column_type
    const rows = await con.runAndReadAll(
      `SELECT id, ts, amount::VARCHAR AS amount, price, tags, emb,
              epoch_us(write_time)::VARCHAR AS write_time,
              epoch_us(api_invocation_time)::VARCHAR AS api_invocation_time,
              is_deleted, year::VARCHAR AS year, month::VARCHAR AS month,
              day::VARCHAR AS day, hour::VARCHAR AS hour
       FROM ${src} ORDER BY id, ts, write_time`)
    process.stdout.write(JSON.stringify({ types, rows: rows.getRowObjectsJson() }) + '\n')
  } else if (mode === 'write') {
    const amount = kind === 'same' ? '5::BIGINT' : '5::INTEGER'
    await con.run(
      `COPY (SELECT 'duck-1'::VARCHAR AS id, '2024-05-01T10:30:00Z'::VARCHAR AS ts,
                    ${amount} AS amount, 1.5::DOUBLE AS price,
                    ['x', 'y']::VARCHAR[] AS tags, [0.25, 4.0]::DOUBLE[] AS emb,
                    TIMESTAMPTZ '2024-05-01 10:30:01+00' AS write_time,
                    TIMESTAMPTZ '2024-05-01 10:30:00.5+00' AS api_invocation_time,
                    false AS is_deleted)
       TO ${lit(path)} (FORMAT PARQUET)`)
  } else {
    throw new Error('usage: duck_offline.mjs read ROOT | write FILE same|different')
  }
}

main().catch((e) => {
  process.stderr.write(`duck_offline: ${e.message}\n`)
  process.exit(1)
})
