// foreign.mjs - interop direction 2: files that DuckDB (data pages v1 and
// v2) and arrow-rs (parquet-wasm) write over the same matrix read the same in
// Larder.
//
//   PQ_MATRIX=... LARDER_BIN=... node tests/parquet/interop/foreign.mjs [WORKDIR] [CASE...]
//
// pq_matrix writes the matrix and its expected values (direction 1 proves
// that the three readers read those files as intended). Each case is then
// rewritten by DuckDB (COPY ... TO with each codec, v1 and v2 pages, small
// row groups) and by arrow-rs (writeParquet with each codec, v1 and v2
// pages, dictionary on and off, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT encodings, small pages and row
// groups), and `larder parquet cat` must give every expected cell.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { expectedRows, generateMatrix } from './matrix.mjs'
import { diffRows, duckConnection, loadModules, readLarder, sqlStr } from './readers.mjs'

const DUCK_VARIANTS = [
  ['duckdb_v1_snappy', "COMPRESSION 'snappy'"],
  ['duckdb_v1_zstd', "COMPRESSION 'zstd', COMPRESSION_LEVEL 9"],
  ['duckdb_v1_gzip', "COMPRESSION 'gzip'"],
  ['duckdb_v1_none_rg', "COMPRESSION 'uncompressed', ROW_GROUP_SIZE 2048"],
  ['duckdb_v1_lz4', "COMPRESSION 'lz4_raw'"],
  ['duckdb_v1_brotli', "COMPRESSION 'brotli'"],
  ['duckdb_v2_snappy', "COMPRESSION 'snappy', PARQUET_VERSION V2"],
  ['duckdb_v2_zstd_rg', "COMPRESSION 'zstd', PARQUET_VERSION V2, ROW_GROUP_SIZE 2048"],
  ['duckdb_v2_none', "COMPRESSION 'uncompressed', PARQUET_VERSION V2"],
]

// Per-kind encodings for the arrow-rs "delta" and "bss" variants.
const DELTA_ENC = { int32: 'DELTA_BINARY_PACKED', int64: 'DELTA_BINARY_PACKED', ts_us: 'DELTA_BINARY_PACKED', ts_ms: 'DELTA_BINARY_PACKED', string: 'DELTA_BYTE_ARRAY', float: 'BYTE_STREAM_SPLIT', double: 'BYTE_STREAM_SPLIT' }
const DLEN_ENC = { string: 'DELTA_LENGTH_BYTE_ARRAY', int32: 'BYTE_STREAM_SPLIT', int64: 'BYTE_STREAM_SPLIT', ts_us: 'DELTA_BINARY_PACKED', float: 'BYTE_STREAM_SPLIT', double: 'BYTE_STREAM_SPLIT' }

const ARROW_VARIANTS = [
  ['arrow_v1_snappy', { compression: 'SNAPPY', version: 'V1' }],
  ['arrow_v1_gzip_plain', { compression: 'GZIP', version: 'V1', dictionary: false }],
  ['arrow_v1_lz4raw', { compression: 'LZ4_RAW', version: 'V1' }],
  ['arrow_v1_brotli', { compression: 'BROTLI', version: 'V1' }],
  ['arrow_v1_lz4_hadoop', { compression: 'LZ4', version: 'V1' }],
  ['arrow_v2_zstd', { compression: 'ZSTD', version: 'V2' }],
  ['arrow_v2_none_plain', { compression: 'UNCOMPRESSED', version: 'V2', dictionary: false }],
  ['arrow_v2_delta', { compression: 'SNAPPY', version: 'V2', dictionary: false, encodings: DELTA_ENC }],
  ['arrow_v1_delta_len', { compression: 'ZSTD', version: 'V1', dictionary: false, encodings: DLEN_ENC }],
  ['arrow_v2_small', { compression: 'SNAPPY', version: 'V2', pageBytes: 512, rowGroupRows: 700, dictPageBytes: 1024 }],
  ['arrow_v1_small_plain', { compression: 'UNCOMPRESSED', version: 'V1', pageBytes: 300, rowGroupRows: 1000, dictionary: false }],
]

// The matrix cases rewritten (the others differ only in how Larder wrote the
// same kinds of data, which a rewrite discards).
const DEFAULT_CASES = [
  'types_snappy', 'lowcard_snappy', 'seq_zstd', 'extremes', 'special_floats', 'all_null', 'empty',
  'empty_lists', 'one_row', 'lists_snappy', 'lists_special', 'long_strings', 'dict_fallback',
]

async function writeDuck(conn, src, out, opts) {
  await conn.run(`COPY (SELECT * FROM read_parquet(${sqlStr(src)})) TO ${sqlStr(out)} (FORMAT parquet, ${opts})`)
}

async function writeArrow(c, src, out, v) {
  const { wasm } = await loadModules()
  const table = wasm.readParquet(new Uint8Array(readFileSync(src)))
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression[v.compression])
    .setWriterVersion(wasm.WriterVersion[v.version])
  if (v.dictionary === false) b = b.setDictionaryEnabled(false)
  if (v.pageBytes) b = b.setDataPageSizeLimit(v.pageBytes)
  if (v.dictPageBytes) b = b.setDictionaryPageSizeLimit(v.dictPageBytes)
  if (v.rowGroupRows) b = b.setMaxRowGroupSize(v.rowGroupRows)
  if (v.encodings) {
    for (const col of c.columns) {
      const enc = v.encodings[col.kind]
      if (!enc || col.list) continue
      b = b.setColumnEncoding(col.name, wasm.Encoding[enc])
    }
  }
  writeFileSync(out, wasm.writeParquet(table, b.build()))
}

async function main() {
  const args = process.argv.slice(2)
  const keep = args[0] && !/^[a-z_0-9]+$/.test(args[0]) ? args.shift() : null
  const workdir = keep ?? mkdtempSync(join(tmpdir(), 'larder-interop-foreign-'))
  mkdirSync(workdir, { recursive: true })
  await loadModules()
  const [manifest, dir] = generateMatrix(workdir, args.length ? args : DEFAULT_CASES)
  const outDir = join(workdir, 'foreign')
  mkdirSync(outDir, { recursive: true })
  const conn = await duckConnection()
  const problems = []
  let files = 0
  let cells = 0
  for (const c of manifest) {
    const src = join(dir, `${c.name}.parquet`)
    const names = c.columns.map((x) => x.name)
    const kinds = c.columns.map((x) => x.kind)
    const expect = expectedRows(dir, c)
    const status = []
    const variants = [
      ...DUCK_VARIANTS.map(([n, o]) => [n, (out) => writeDuck(conn, src, out, o)]),
      ...ARROW_VARIANTS.map(([n, o]) => [n, (out) => writeArrow(c, src, out, o)]),
    ]
    for (const [vname, write] of variants) {
      const out = join(outDir, `${c.name}.${vname}.parquet`)
      try {
        await write(out)
      } catch (e) {
        problems.push(`${c.name}: ${vname}: the foreign writer failed: ${String(e.message ?? e).split('\n')[0]}`)
        status.push(`${vname}:WRITER-ERROR`)
        continue
      }
      files++
      let got
      try {
        got = await readLarder(out, names, kinds)
      } catch (e) {
        problems.push(`${c.name}: ${vname}: ${String(e.message ?? e).split('\n')[0]}`)
        status.push(`${vname}:ERROR`)
        continue
      }
      // DuckDB's dictionary treats 0.0 and -0.0 as one value, so its files may
      // hold either zero where the other was written: compare zeros unsigned.
      const unsignZero = (v) => (v === '-0' ? '0' : Array.isArray(v) ? v.map(unsignZero) : v)
      const isDuck = vname.startsWith('duckdb')
      const fl = kinds.map((k) => isDuck && (k === 'float' || k === 'double'))
      const norm = (rows) => (fl.some(Boolean) ? rows.map((r) => r.map((v, i) => (fl[i] ? unsignZero(v) : v))) : rows)
      const d = diffRows(`${c.name}: ${vname}`, norm(expect), norm(got.rows), names)
      problems.push(...d)
      cells += expect.length * names.length
      if (d.length) status.push(`${vname}:DIFF`)
    }
    console.log(`${c.name.padEnd(20)} ${String(c.rows).padStart(6)} rows  ${variants.length} foreign files  ${status.length ? status.join(' ') : 'ok'}`)
  }
  console.log(`${files} foreign files, ${cells} cells compared`)
  if (!keep) rmSync(workdir, { recursive: true, force: true })
  if (problems.length) {
    console.log(`FAIL: ${problems.length} problem(s)`)
    for (const p of problems) console.log('  ' + p)
    process.exit(1)
  }
  console.log('PASS: Larder reads what DuckDB and arrow-rs wrote')
}

main().catch((e) => {
  console.error(`foreign.mjs: ${e.stack ?? e}`)
  process.exit(1)
})
