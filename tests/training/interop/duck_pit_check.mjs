// duck_pit_check.mjs - DuckDB's side of the training-set interop test
// (test_training_duckdb.c). Computes one feature group's part of a
// training set with DuckDB's ASOF LEFT JOIN on the same offline files and
// entity file, after the same deduplication, and compares it with the
// training set Larder wrote. Uses @duckdb/node-api from package.json.
//
//   node duck_pit_check.mjs SPEC.json
//
// SPEC: {root, entities, larder, id, id_integral, et, et_iso, features:
//        [[output name, feature name], ...], entity_id, entity_ts, row,
//        max_age_us (0: none), as_of_us (null: none)}
// Prints {"rows", "matched", "larder_only", "duck_only"} as one JSON line:
// the rows differing either way must be 0.
import { readFileSync } from 'node:fs'
import duckdb from '@duckdb/node-api'

const { DuckDBInstance } = duckdb
const lit = (s) => "'" + String(s).replaceAll("'", "''") + "'"
const q = (s) => '"' + String(s).replaceAll('"', '""') + '"'

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'))
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' })
  const con = await inst.connect()
  const et = spec.et_iso ? `CAST(${q(spec.et)} AS TIMESTAMPTZ)` : `to_timestamp(${q(spec.et)})`
  const asOf = spec.as_of_us == null ? 'true' : `epoch_us(write_time) <= ${spec.as_of_us}`
  const feats = spec.features.map(([, f]) => q(f)).join(', ')
  const keep = (f) => spec.max_age_us > 0
    ? `CASE WHEN NOT f.is_deleted AND epoch_us(e.${q(spec.entity_ts)}) - epoch_us(f.larder_et) < ${spec.max_age_us} THEN f.${q(f)} END`
    : `CASE WHEN NOT f.is_deleted THEN f.${q(f)} END`
  const cols = spec.features.map(([o, f]) => `${keep(f)} AS ${q(o)}`).join(', ')
  const on = spec.id_integral
    ? `TRY_CAST(e.${q(spec.entity_id)} AS BIGINT) = f.${q(spec.id)}`
    : `e.${q(spec.entity_id)} = f.${q(spec.id)}`
  await con.run(`CREATE TABLE duck AS
    WITH f AS (
      SELECT ${q(spec.id)}, ${et} AS larder_et, ${feats}, is_deleted
      FROM read_parquet(${lit(spec.root + '/**/*.parquet')})
      WHERE ${asOf}
      QUALIFY row_number() OVER (PARTITION BY ${q(spec.id)}, ${et}
                                 ORDER BY api_invocation_time DESC, write_time DESC) = 1)
    SELECT e.${q(spec.row)} AS larder_row, ${cols}
    FROM read_parquet(${lit(spec.entities)}) e
    ASOF LEFT JOIN f ON ${on} AND e.${q(spec.entity_ts)} >= f.larder_et`)
  const outs = spec.features.map(([o]) => q(o)).join(', ')
  await con.run(`CREATE TABLE lar AS SELECT ${q(spec.row)} AS larder_row, ${outs}
                 FROM read_parquet(${lit(spec.larder)})`)
  const one = async (sql) => Number((await con.runAndReadAll(sql)).getRows()[0][0])
  const firstOut = q(spec.features[0][0])
  const res = {
    rows: await one('SELECT count(*) FROM lar'),
    duck_rows: await one('SELECT count(*) FROM duck'),
    matched: await one(`SELECT count(${firstOut}) FROM duck`),
    larder_only: await one('SELECT count(*) FROM (SELECT * FROM lar EXCEPT ALL SELECT * FROM duck)'),
    duck_only: await one('SELECT count(*) FROM (SELECT * FROM duck EXCEPT ALL SELECT * FROM lar)'),
  }
  process.stdout.write(JSON.stringify(res) + '\n')
}

main().catch((e) => {
  process.stderr.write(`duck_pit_check: ${e.message}\n`)
  process.exit(1)
})
