// matrix.mjs - interop direction 1: files that Larder writes read the same in
// DuckDB, arrow-rs (parquet-wasm) and hyparquet, cell for cell, as the values
// Larder meant to write; and read back the same in Larder itself.
//
//   PQ_MATRIX=build/tests/parquet/pq_matrix LARDER_BIN=build/larder \
//     node tests/parquet/interop/matrix.mjs [WORKDIR] [CASE...]
//
// pq_matrix writes the files and the expected values (see pq_matrix.c);
// every reader's output is turned into the canonical cell values of
// readers.mjs and compared. The column types each reader reports are checked
// too (a string column read as BLOB, or a UTC timestamp read as a local one,
// is a failure even when the bytes match). Exit status 0 when everything
// agrees, 1 otherwise, with every difference printed.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { canonKind, diffRows, loadModules, readArrow, readDuckDB, readHyparquet, readLarder } from './readers.mjs'

const DUCK_TYPES = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  bool: 'BOOLEAN',
  string: 'VARCHAR',
  ts_us: 'TIMESTAMP WITH TIME ZONE',
  ts_ms: 'TIMESTAMP WITH TIME ZONE',
}
const ARROW_TYPES = {
  int32: 'Int32',
  int64: 'Int64',
  float: 'Float32',
  double: 'Float64',
  bool: 'Bool',
  string: 'Utf8',
  ts_us: 'Timestamp<MICROSECOND, UTC>',
  ts_ms: 'Timestamp<MILLISECOND, UTC>',
}

// Generates the matrix into dir/matrix; returns [manifest, dir].
export function generateMatrix(workdir, only = []) {
  const bin = process.env.PQ_MATRIX
  if (!bin) throw new Error('PQ_MATRIX (the pq_matrix program) is not set')
  const dir = join(workdir, 'matrix')
  execFileSync(bin, [dir, ...(only.length === 1 ? only : [])], { stdio: ['ignore', 'inherit', 'inherit'] })
  let manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  if (only.length) manifest = manifest.filter((c) => only.includes(c.name))
  return [manifest, dir]
}

// The expected canonical rows of a case.
export function expectedRows(dir, c) {
  const text = readFileSync(join(dir, `${c.name}.expect.ndjson`), 'utf8')
  const kinds = c.columns.map((x) => x.kind)
  return text
    .split('\n')
    .filter((l) => l.length)
    .map((l) => JSON.parse(l).map((v, i) => canonKind(kinds[i], v)))
}

async function main() {
  const args = process.argv.slice(2)
  const keep = args[0] && !/^[a-z_0-9]+$/.test(args[0]) ? args.shift() : null
  const workdir = keep ?? mkdtempSync(join(tmpdir(), 'larder-interop-matrix-'))
  mkdirSync(workdir, { recursive: true })
  await loadModules()
  const [manifest, dir] = generateMatrix(workdir, args)
  const problems = []
  let cells = 0
  for (const c of manifest) {
    const file = join(dir, `${c.name}.parquet`)
    const names = c.columns.map((x) => x.name)
    const kinds = c.columns.map((x) => x.kind)
    const expect = expectedRows(dir, c)
    if (expect.length !== c.rows) problems.push(`${c.name}: ${expect.length} expected rows, manifest says ${c.rows}`)
    const readers = [
      ['duckdb', readDuckDB],
      ['arrow-rs', readArrow],
      ['hyparquet', readHyparquet],
      ['larder', (f) => readLarder(f, names, kinds)],
    ]
    const status = []
    for (const [rname, fn] of readers) {
      let got
      try {
        got = await fn(file)
      } catch (e) {
        problems.push(`${c.name}: ${rname} failed: ${String(e.message ?? e).split('\n')[0]}`)
        status.push(`${rname}:ERROR`)
        continue
      }
      const before = problems.length
      if (JSON.stringify(got.columns) !== JSON.stringify(names))
        problems.push(`${c.name}: ${rname} columns ${JSON.stringify(got.columns)}, expected ${JSON.stringify(names)}`)
      if (rname === 'duckdb' && got.types) {
        c.columns.forEach((col, i) => {
          const want = DUCK_TYPES[col.kind] + (col.list ? '[]' : '')
          if (got.types[i] !== want) problems.push(`${c.name}: duckdb reads ${col.name} as ${got.types[i]}, expected ${want}`)
        })
      }
      if (rname === 'arrow-rs') {
        const { wasm, arrow } = await loadModules()
        const t = arrow.tableFromIPC(wasm.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream())
        c.columns.forEach((col, i) => {
          const f = t.schema.fields[i]
          const ty = f ? String(col.list ? f.type.children[0].type : f.type) : 'missing'
          if (ty !== ARROW_TYPES[col.kind]) problems.push(`${c.name}: arrow-rs reads ${col.name} as ${ty}, expected ${ARROW_TYPES[col.kind]}`)
          if (f && col.list && !String(f.type).startsWith('List')) problems.push(`${c.name}: arrow-rs reads ${col.name} as ${f.type}, expected a List`)
          if (f && f.nullable !== col.optional) problems.push(`${c.name}: arrow-rs nullability of ${col.name} is ${f.nullable}`)
        })
      }
      const rows = rname === 'larder' ? got.rows : got.rows.map((r) => r.map((v, i) => canonKind(kinds[i], v)))
      problems.push(...diffRows(`${c.name}: ${rname}`, expect, rows, names))
      status.push(`${rname}:${problems.length === before ? 'ok' : 'DIFF'}`)
      cells += expect.length * names.length
    }
    console.log(`${c.name.padEnd(20)} ${String(c.rows).padStart(6)} rows ${String(c.row_groups).padStart(3)} rg  ${status.join(' ')}`)
  }
  console.log(`${manifest.length} files, ${cells} cells compared across 4 readers`)
  if (!keep) rmSync(workdir, { recursive: true, force: true })
  if (problems.length) {
    console.log(`FAIL: ${problems.length} problem(s)`)
    for (const p of problems) console.log('  ' + p)
    process.exit(1)
  }
  console.log('PASS: every reader reads what Larder wrote')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`matrix.mjs: ${e.stack ?? e}`)
    process.exit(1)
  })
}
