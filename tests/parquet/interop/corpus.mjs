// corpus.mjs - interop direction 3: the apache/parquet-testing files
// (tests/parquet/data/parquet-testing, see its README.md).
//
//   LARDER_BIN=build/larder node tests/parquet/interop/corpus.mjs [FILE...]
//
// Every readable file must give the right values through `larder parquet cat
// --format ndjson`: checked against the file's *_expect.csv where upstream
// ships one, against DuckDB otherwise, and against arrow-rs for the files
// DuckDB cannot read. Every file of bad_data/ (and the other corrupt files
// listed below) must be refused with an error, never a crash; run with a
// sanitizer build's LARDER_BIN, an AddressSanitizer or UBSan report counts as
// a crash. Exit status 0 when all pass.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { canonAny, isoToMicros, larderCat, loadModules, numStr, readDuckDB } from './readers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const dataDir = join(here, '..', 'data', 'parquet-testing')

// Files that must be refused: bad_data/ minus those its README describes as
// readable, plus files whose pages are corrupt.
const MUST_FAIL = new Set([
  'bad_data/PARQUET-1481.parquet', // corrupted schema Thrift value
  'bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet', // negative dictionary value count
  'bad_data/ARROW-RS-GH-6229-LEVELS.parquet', // too few repetition levels
  'bad_data/ARROW-GH-41321.parquet', // fewer levels than the page's num_values
  'bad_data/ARROW-GH-45185.parquet', // repetition levels start with 1
])
// Files that need no particular outcome but must not crash: an error, or
// the oracle's values. (Corrupt CRCs are not checked by every reader; the
// bad_data README calls ARROW-GH-43605 a bit-width-0 dictionary page that
// readers accept.)
const NO_CRASH_ONLY = new Set([
  'bad_data/ARROW-GH-43605.parquet',
  'nation.dict-malformed.parquet',
  'datapage_v1-corrupt-checksum.parquet',
  'rle-dict-uncompressed-corrupt-checksum.parquet',
])
// Shapes Larder does not read: a clean LR_EUNSUPPORTED error. (None at present.)
const UNSUPPORTED = new Set([])
// Values stated by upstream where every oracle is wrong: DuckDB (and arrow-rs,
// which reads nanoseconds) overflow on INT96 timestamps beyond 2262; the
// values below are the microseconds int96_from_spark.md lists.
const EXPECT_OVERRIDES = {
  'int96_from_spark.parquet': {
    source: 'int96_from_spark.md',
    columns: ['a'],
    kinds: ['ts'],
    rows: ['1704141296123456', '1704070800000000', '253402225200000000', '1735599600000000', null, '9089380393200000000'].map((v) => [v]),
  },
}

const crashed = (e) =>
  e.signal || (typeof e.status === 'number' && e.status >= 128) || /Sanitizer|runtime error:|SUMMARY:/.test(e.stderr ?? '')

// ---- oracles ------------------------------------------------------------------

// Canonical kinds from DuckDB types: int, float, bool, string, binary, ts,
// date, decimal:S, other; a list appends "[]".
function duckKind(t) {
  if (t.endsWith('[]')) return duckKind(t.slice(0, -2)) + '[]'
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(t)) return 'int'
  if (t === 'FLOAT' || t === 'DOUBLE') return 'float'
  if (t === 'BOOLEAN') return 'bool'
  if (t === 'VARCHAR') return 'string'
  if (t === 'BLOB') return 'binary'
  if (/^TIMESTAMP/.test(t)) return 'ts'
  if (t === 'DATE') return 'date'
  const m = /^DECIMAL\(\d+,(\d+)\)$/.exec(t)
  if (m) return `decimal:${m[1]}`
  // A struct of one field: Larder reads its one leaf as a flat column.
  const st = /^STRUCT\("?([^" ]+)"? ([^,]+)\)$/.exec(t)
  if (st) return `struct:${st[1]}:${duckKind(st[2])}`
  return 'other'
}

function arrowKind(type) {
  const s = String(type)
  if (s.startsWith('List<')) return arrowKind(type.children[0].type) + '[]'
  if (/^u?int/i.test(s)) return 'int'
  if (/^Float/.test(s)) return 'float'
  if (s === 'Bool') return 'bool'
  if (/Utf8/.test(s)) return 'string'
  if (/Binary/.test(s)) return 'binary'
  if (s.startsWith('Timestamp')) return 'ts'
  if (s.startsWith('Date')) return 'date'
  if (s.startsWith('Decimal')) return `decimal:${type.scale}`
  return 'other'
}

// Scales an unscaled integer (BigInt or its text) to a decimal string.
function scaleDecimal(unscaled, scale) {
  let v = BigInt(unscaled)
  const neg = v < 0n
  if (neg) v = -v
  let s = v.toString().padStart(scale + 1, '0')
  if (scale > 0) s = s.slice(0, -scale) + '.' + s.slice(-scale)
  return (neg ? '-' : '') + s
}

// Normalises a decimal given as text ("1.5", "-0.25", "1e2") to `scale` digits.
function fixDecimal(text, scale) {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(String(text))
  if (!m) return `bad-decimal:${text}`
  const frac = (m[3] ?? '').padEnd(scale, '0')
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) return `bad-decimal:${text}`
  const unscaled = BigInt((m[2] || '0') + frac.slice(0, scale))
  return scaleDecimal(m[1] ? -unscaled : unscaled, scale)
}

async function oracleDuckDB(file) {
  const r = await readDuckDB(file)
  const kinds = r.types.map(duckKind)
  const conv = (k, v) => {
    if (v === null || v === undefined) return null
    if (k.startsWith('struct:')) {
      const [, field, inner] = /^struct:([^:]+):(.*)$/.exec(k)
      return conv(inner, v[field] ?? v.entries?.[field])
    }
    if (k.endsWith('[]')) return Array.from(v.items ?? v).map((x) => conv(k.slice(0, -2), x))
    if (k === 'float') return numStr(v)
    if (k.startsWith('decimal:')) return fixDecimal(v, Number(k.slice(8)))
    return canonAny(v)
  }
  const flat = kinds.map((k) => (k.startsWith('struct:') ? /^struct:[^:]+:(.*)$/.exec(k)[1] : k))
  return { source: 'duckdb', columns: r.columns, kinds: flat, rows: r.rows.map((row) => row.map((v, i) => conv(kinds[i], v))) }
}

async function oracleArrow(file) {
  const { wasm, arrow } = await loadModules()
  const t = arrow.tableFromIPC(wasm.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream())
  const fields = t.schema.fields
  const kinds = fields.map((f) => arrowKind(f.type))
  const cell = (d, i, kind) => {
    if (!d.getValid(i)) return null
    const ty = d.type
    if (kind.endsWith('[]')) {
      const a = Number(d.valueOffsets[d.offset + i])
      const b = Number(d.valueOffsets[d.offset + i + 1])
      const out = []
      for (let j = a; j < b; j++) out.push(cell(d.children[0], j, kind.slice(0, -2)))
      return out
    }
    if (kind === 'ts') {
      const raw = BigInt(d.values[d.offset + i])
      return String(ty.unit === 3 ? raw / 1000n : raw * [1000000n, 1000n, 1n][ty.unit])
    }
    if (kind.startsWith('decimal:')) {
      // 128-bit little-endian two's complement words.
      const w = d.values.subarray((d.offset + i) * 4, (d.offset + i) * 4 + 4)
      let v = 0n
      for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(w[k] >>> 0)
      if (v >> 127n) v -= 1n << 128n
      return scaleDecimal(v, ty.scale)
    }
    const v = arrow.makeVector(d).get(i)
    if (kind === 'float') return numStr(v)
    if (kind === 'date') return String(Math.floor(Number(v) / 86400000))
    return canonAny(v)
  }
  const cols = fields.map((f, c) => {
    const out = []
    for (const d of t.getChild(f.name).data) for (let i = 0; i < d.length; i++) out.push(cell(d, i, kinds[c]))
    return out
  })
  return { source: 'arrow-rs', columns: fields.map((f) => f.name), kinds, rows: Array.from({ length: t.numRows }, (_, r) => cols.map((c) => c[r])) }
}

// Parses upstream's expected-values CSV (quoted strings; an empty unquoted field is null).
function oracleCsv(path, kinds) {
  const text = readFileSync(path, 'utf8')
  const rows = []
  let row = []
  let i = 0
  while (i < text.length) {
    let v
    if (text[i] === '"') {
      let s = ''
      i++
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') { s += '"'; i += 2 } else if (text[i] === '"') { i++; break } else s += text[i++]
      }
      v = s
    } else {
      let j = i
      while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++
      v = j === i ? null : text.slice(i, j)
      i = j
    }
    row.push(v)
    if (text[i] === ',') { i++; continue }
    if (text[i] === '\r') i++
    if (text[i] === '\n' || i >= text.length) { i++; rows.push(row); row = [] }
  }
  const header = rows.shift()
  const data = rows.filter((r) => !(r.length === 1 && r[0] === null))
  return {
    source: basename(path),
    columns: header.map((h) => h.trim()),
    kinds,
    rows: data.map((r) => r.map((v, c) => (v === null ? null : kinds[c] === 'float' ? numStr(v) : v))),
  }
}

// ---- Larder's values ---------------------------------------------------------

function hexOf(v) {
  if (typeof v !== 'string') return `bad-binary:${JSON.stringify(v)}`
  if (/^hex:/.test(v)) return v
  if (/^(0x|\\x)/i.test(v)) return 'hex:' + v.slice(2).toLowerCase()
  return 'hex:' + Buffer.from(v, 'latin1').toString('hex')
}

function daysOf(v) {
  if (typeof v === 'object' && v?.num !== undefined) return v.num
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)$/.exec(String(v))
  if (!m) return `bad-date:${v}`
  return String(Number(BigInt(isoToMicros(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`)) / 86400000000n))
}

function larderCell(kind, v) {
  if (v === null || v === undefined) return null
  if (kind.endsWith('[]')) return Array.isArray(v) ? v.map((x) => larderCell(kind.slice(0, -2), x)) : `not-a-list:${JSON.stringify(v)}`
  const text = typeof v === 'object' && v.num !== undefined ? v.num : v
  switch (kind) {
    case 'int':
      return String(text)
    case 'float':
      return numStr(text)
    case 'bool':
      return text
    case 'string':
      return String(text)
    case 'binary':
      return hexOf(text)
    case 'ts':
      return typeof v === 'string' ? isoToMicros(v) ?? `bad-timestamp:${v}` : String(text)
    case 'date':
      return daysOf(v)
    default:
      if (kind.startsWith('decimal:')) return fixDecimal(text, Number(kind.slice(8)))
      return canonAny(v)
  }
}

// ---- the run -------------------------------------------------------------------

async function checkFile(rel, problems) {
  const file = join(dataDir, rel)
  let larder = null
  let failure = null
  try {
    larder = await larderCat(file)
  } catch (e) {
    failure = e
  }
  if (failure && crashed(failure)) {
    problems.push(`${rel}: CRASH (${failure.signal ?? 'status ' + failure.status}): ${failure.stderr.split('\n').slice(0, 3).join(' | ')}`)
    return 'CRASH'
  }
  if (MUST_FAIL.has(rel)) {
    if (!failure) {
      problems.push(`${rel}: read without an error; the file is corrupt`)
      return 'ACCEPTED-CORRUPT'
    }
    const msg = failure.stderr.trim()
    if (!msg || msg.includes('\n')) problems.push(`${rel}: the error is not one line: ${JSON.stringify(msg)}`)
    return 'error ok'
  }
  if (UNSUPPORTED.has(rel)) {
    if (!failure) {
      problems.push(`${rel}: expected an "unsupported" error`)
      return 'UNEXPECTED'
    }
    return 'unsupported ok'
  }
  if (failure) {
    if (NO_CRASH_ONLY.has(rel)) return 'error ok'
    problems.push(`${rel}: ${failure.message}`)
    return 'ERROR'
  }

  // The oracle: the expected CSV, else DuckDB, else arrow-rs.
  let oracle = null
  const errors = []
  for (const get of [oracleDuckDB, oracleArrow]) {
    try {
      oracle = await get(file)
      break
    } catch (e) {
      errors.push(String(e.message ?? e).split('\n')[0])
    }
  }
  if (!oracle) {
    problems.push(`${rel}: no oracle could read it (${errors.join('; ')})`)
    return 'NO-ORACLE'
  }
  const csv = file.replace(/\.parquet$/, '_expect.csv')
  if (existsSync(csv)) oracle = { ...oracleCsv(csv, oracle.kinds), kinds: oracle.kinds }
  if (EXPECT_OVERRIDES[rel]) oracle = EXPECT_OVERRIDES[rel]
  const names = oracle.columns
  const got = larder.rows.map((o) =>
    names.map((n, c) => {
      const v = Array.isArray(o) ? o[c] : o[n] !== undefined ? o[n] : o[Object.keys(o)[c]]
      return larderCell(oracle.kinds[c], v)
    }),
  )
  // CSV expectations are text: compare integers and strings as text.
  const expect = oracle.rows
  const before = problems.length
  if (got.length !== expect.length) {
    problems.push(`${rel}: ${got.length} rows, ${oracle.source} has ${expect.length}`)
  } else {
    for (let c = 0; c < names.length; c++) {
      let n = 0
      let first = ''
      for (let r = 0; r < expect.length; r++) {
        const a = JSON.stringify(expect[r][c])
        const b = JSON.stringify(got[r][c])
        if (a !== b) {
          if (n < 2) first += `\n    row ${r}: ${oracle.source} ${a.slice(0, 160)} larder ${b.slice(0, 160)}`
          n++
        }
      }
      if (n) problems.push(`${rel}: column ${names[c]} (${oracle.kinds[c]}): ${n} cell(s) differ from ${oracle.source}${first}`)
    }
  }
  if (problems.length !== before && NO_CRASH_ONLY.has(rel)) {
    problems.splice(before) // its values may legitimately differ
    return 'read (values not checked)'
  }
  return problems.length === before ? `ok vs ${oracle.source}` : 'DIFF'
}

async function main() {
  await loadModules()
  let files = process.argv.slice(2)
  if (!files.length) {
    files = readdirSync(dataDir).filter((f) => f.endsWith('.parquet')).sort()
    files.push(...readdirSync(join(dataDir, 'bad_data')).filter((f) => f.endsWith('.parquet')).sort().map((f) => `bad_data/${f}`))
  }
  const problems = []
  for (const rel of files) {
    const res = await checkFile(rel, problems)
    console.log(`${rel.padEnd(50)} ${res}`)
  }
  if (problems.length) {
    console.log(`FAIL: ${problems.length} problem(s)`)
    for (const p of problems) console.log('  ' + p)
    process.exit(1)
  }
  console.log(`PASS: ${files.length} files`)
}

main().catch((e) => {
  console.error(`corpus.mjs: ${e.stack ?? e}`)
  process.exit(1)
})
