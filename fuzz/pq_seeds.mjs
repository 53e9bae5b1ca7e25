// pq_seeds.mjs - (re)creates the seed corpora of the Parquet fuzz targets.
//
//   PQ_MATRIX=build/tests/parquet/pq_matrix node fuzz/pq_seeds.mjs
//
// fuzz/corpus/pq_read/: small files written by Larder (pq_matrix --small:
// every type, codec, nullability, lists, several pages and row groups), the
// same data rewritten by DuckDB (v1 and v2 encodings) and arrow-rs (v2 pages,
// DELTA_*, BYTE_STREAM_SPLIT, Hadoop LZ4, BROTLI), and the parquet-testing
// files of at most 16 KiB (bad_data included).
// fuzz/corpus/pq_roundtrip/: one input per column kind x flags, and a few
// multi-column inputs, in the byte layout fuzz_pq_roundtrip.c describes.
//
// Seeds are deterministic; the script only adds or replaces its own files.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { duckConnection, loadModules, sqlStr } from '../tests/parquet/interop/readers.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readDir = join(root, 'fuzz/corpus/pq_read')
const rtDir = join(root, 'fuzz/corpus/pq_roundtrip')
mkdirSync(readDir, { recursive: true })
mkdirSync(rtDir, { recursive: true })

const MAX_SEED = 16384
const tmp = mkdtempSync(join(tmpdir(), 'larder-pq-seeds-'))
try {
  const bin = process.env.PQ_MATRIX
  if (!bin) throw new Error('set PQ_MATRIX to the pq_matrix program')
  execFileSync(bin, ['--small', join(tmp, 'm')], { stdio: 'inherit' })
  const larderFiles = readdirSync(join(tmp, 'm')).filter((f) => f.endsWith('.parquet'))
  for (const f of larderFiles) copyFileSync(join(tmp, 'm', f), join(readDir, `larder-${f}`))

  const conn = await duckConnection()
  const { wasm } = await loadModules()
  const { readFileSync } = await import('node:fs')
  const redo = ['types_snappy', 'lists_snappy', 'special_floats', 'all_null', 'seq_zstd', 'extremes']
  for (const c of redo) {
    const src = join(tmp, 'm', `${c}.parquet`)
    for (const [name, opts] of [
      ['duckdb-v1', "COMPRESSION 'snappy'"],
      ['duckdb-v2', "COMPRESSION 'zstd', PARQUET_VERSION V2"],
    ]) {
      const out = join(readDir, `${name}-${c}.parquet`)
      await conn.run(`COPY (SELECT * FROM read_parquet(${sqlStr(src)})) TO ${sqlStr(out)} (FORMAT parquet, ${opts})`)
    }
    for (const [name, comp, ver, dict] of [
      ['arrow-v2-dict', 'ZSTD', 'V2', true],
      ['arrow-v2-plain', 'UNCOMPRESSED', 'V2', false],
      ['arrow-v1-lz4', 'LZ4', 'V1', true],
      ['arrow-v1-brotli', 'BROTLI', 'V1', false],
    ]) {
      const table = wasm.readParquet(new Uint8Array(readFileSync(src)))
      const props = new wasm.WriterPropertiesBuilder()
        .setCompression(wasm.Compression[comp])
        .setWriterVersion(wasm.WriterVersion[ver])
        .setDictionaryEnabled(dict)
        .setDataPageSizeLimit(128)
        .build()
      writeFileSync(join(readDir, `${name}-${c}.parquet`), wasm.writeParquet(table, props))
    }
  }

  const pt = join(root, 'tests/parquet/data/parquet-testing')
  for (const sub of ['', 'bad_data']) {
    for (const f of readdirSync(join(pt, sub)).filter((x) => x.endsWith('.parquet'))) {
      if (statSync(join(pt, sub, f)).size <= MAX_SEED) copyFileSync(join(pt, sub, f), join(readDir, `pt-${sub ? sub + '-' : ''}${f}`))
    }
  }

  // Round-trip seeds: deterministic pseudo-random value bytes.
  let s = 0x2545f491
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff
  const seed = (head) => Buffer.from([...head, ...Array.from({ length: 600 }, rnd)])
  let n = 0
  for (let kind = 0; kind < 8; kind++) {
    for (let flags = 0; flags < 8; flags++) {
      const codecByte = (kind + flags) % 5 | ((flags & 1) << 3)
      writeFileSync(join(rtDir, `kind${kind}-flags${flags}`), seed([0, codecByte, 0x53, 0x07, kind, flags, 40]))
      n++
    }
  }
  writeFileSync(join(rtDir, 'six-columns'), seed([5, 0x0b, 0x22, 0x00, 0, 1, 1, 3, 3, 6, 5, 7, 4, 1, 6, 2, 200]))
  writeFileSync(join(rtDir, 'row-api-lists'), seed([2, 0x49, 0x00, 0x01, 5, 7, 2, 6, 100]))
  writeFileSync(join(rtDir, 'empty'), Buffer.from([0, 1, 0, 0, 1, 1, 0]))
  console.log(`${readdirSync(readDir).length} read seeds, ${n + 3} round-trip seeds`)
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
