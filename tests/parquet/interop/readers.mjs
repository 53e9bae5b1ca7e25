// readers.mjs - the Parquet readers of Larder's interop tests, each turned
// into the same canonical cell values so that files can be compared cell for
// cell:
//   null; integers, decimals and timestamps (microseconds since the epoch,
//   whatever the unit) as decimal strings; dates as day numbers (strings);
//   FLOAT/DOUBLE as the shortest JS rendering of the value ("NaN",
//   "Infinity", "-Infinity", "-0" included); booleans; strings; binary as
//   "hex:<hex>"; lists as arrays.
//
// Readers: DuckDB (@duckdb/node-api, C++), arrow-rs (parquet-wasm, Rust via
// WebAssembly, results through apache-arrow), hyparquet (JavaScript), and
// Larder itself (`larder parquet cat FILE --format ndjson`).
//
// Every reader returns { columns: [name...], rows: [[cell...]...] }.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

let modules = null

// Loads the npm packages lazily, with a clear message when they are missing.
export async function loadModules() {
  if (modules) return modules
  try {
    const [duckdb, hyparquet, compressors, wasm, arrow] = await Promise.all([
      import('@duckdb/node-api'),
      import('hyparquet'),
      import('hyparquet-compressors'),
      import('parquet-wasm'),
      import('apache-arrow'),
    ])
    modules = { duckdb: duckdb.default ?? duckdb, hyparquet, compressors: compressors.compressors, wasm, arrow }
  } catch (e) {
    throw new Error(`interop tests need the npm packages of package.json (run scripts/install-deps or npm install in the repository root): ${e.message}`)
  }
  return modules
}

// ---- canonical values ------------------------------------------------------

export function numStr(x) {
  if (typeof x === 'string') {
    if (x === 'NaN' || x === 'Infinity' || x === '-Infinity') return x
    x = Number(x)
  }
  if (typeof x === 'bigint') x = Number(x)
  if (Number.isNaN(x)) return 'NaN'
  if (Object.is(x, -0)) return '-0'
  return String(x)
}

const hex = (u8) => 'hex:' + Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex')

// Canonical form of a value whose column kind is known (the matrix's kinds).
export function canonKind(kind, v) {
  if (v === null || v === undefined) return null
  if (Array.isArray(v)) return v.map((x) => canonKind(kind, x))
  switch (kind) {
    case 'int32':
    case 'int64':
      if (typeof v === 'number' && !Number.isInteger(v)) return `non-integer:${v}`
      return String(v)
    case 'float':
    case 'double':
      return numStr(v)
    case 'bool':
      return v === true || v === 1 || v === 'true' ? true : v === false || v === 0 || v === 'false' ? false : `non-bool:${v}`
    case 'string':
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
      return String(v)
    case 'ts_us':
    case 'ts_ms':
      return String(v)
    default:
      return `unknown-kind:${kind}`
  }
}

// Canonical form of an untyped JS value (readers' outputs in the corpus tests).
export function canonAny(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : numStr(v)
  if (typeof v === 'boolean' || typeof v === 'string') return v
  if (v instanceof Uint8Array) return hex(v)
  if (v instanceof Date) return String(BigInt(v.getTime()) * 1000n)
  if (Array.isArray(v)) return v.map(canonAny)
  if (typeof v === 'object' && v.num !== undefined) return v.num
  if (typeof v === 'object' && typeof v[Symbol.iterator] === 'function') return Array.from(v).map(canonAny)
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonAny(x)]))
  return String(v)
}

// ---- DuckDB ----------------------------------------------------------------

let duckConn = null

export async function duckConnection() {
  if (duckConn) return duckConn
  const { duckdb } = await loadModules()
  const inst = await duckdb.DuckDBInstance.create(':memory:', { threads: '1' })
  duckConn = await inst.connect()
  await duckConn.run('SET autoinstall_known_extensions=false; SET autoload_known_extensions=false')
  return duckConn
}

const q = (n) => '"' + n.replace(/"/g, '""') + '"'
export const sqlStr = (s) => "'" + s.replace(/'/g, "''") + "'"

// A select expression that makes DuckDB hand back a canonical-friendly value.
function duckExpr(name, type) {
  const c = q(name)
  const base = type.replace(/\[\]$/, '')
  const isList = type.endsWith('[]')
  let f = null
  if (base.endsWith(']')) return c // lists of lists: values as DuckDB gives them
  if (/^TIMESTAMP/.test(base)) f = (x) => `epoch_us(${x})::VARCHAR`
  else if (base === 'DATE') f = (x) => `(${x} - DATE '1970-01-01')::VARCHAR`
  else if (/^(DECIMAL\(.*\)|HUGEINT|UHUGEINT|BIGINT|UBIGINT|INTEGER|UINTEGER|SMALLINT|USMALLINT|TINYINT|UTINYINT)$/.test(base)) f = (x) => `${x}::VARCHAR`
  else if (/^(TIME|INTERVAL|UUID)$/.test(base)) f = (x) => `${x}::VARCHAR`
  if (!f) return c
  return isList ? `list_transform(${c}, x -> ${f('x')}) AS ${c}` : `${f(c)} AS ${c}`
}

// Reads with DuckDB. types: DuckDB's column types (for the corpus tests).
export async function readDuckDB(file) {
  const c = await duckConnection()
  const src = `read_parquet(${sqlStr(file)})`
  const cols = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()
  const sel = cols.map(({ column_name: n, column_type: t }) => duckExpr(n, t))
  const r = await c.runAndReadAll(`SELECT ${sel.length ? sel.join(', ') : '*'} FROM ${src}`)
  const names = cols.map((x) => x.column_name)
  const rows = r.getRowObjectsJS().map((o) => names.map((n) => o[n]))
  return { columns: names, types: cols.map((x) => x.column_type), rows }
}

// ---- hyparquet ---------------------------------------------------------------

export async function readHyparquet(file) {
  const { hyparquet, compressors } = await loadModules()
  const parsers = {
    timestampFromMilliseconds: (v) => String(BigInt(v) * 1000n),
    timestampFromMicroseconds: (v) => String(BigInt(v)),
    timestampFromNanoseconds: (v) => String(BigInt(v) / 1000n),
    dateFromDays: (v) => String(v),
  }
  const asyncBuf = await hyparquet.asyncBufferFromFile(file)
  const meta = await hyparquet.parquetMetadataAsync(asyncBuf)
  const names = hyparquet.parquetSchema(meta).children.map((c) => c.element.name)
  const objs = await hyparquet.parquetReadObjects({ file: asyncBuf, metadata: meta, compressors, parsers, utf8: false })
  return { columns: names, rows: objs.map((o) => names.map((n) => o[n])) }
}

// ---- arrow-rs via parquet-wasm -------------------------------------------------

// One cell of an arrow Data chunk; timestamps and lists from the raw buffers
// (Vector.get turns microseconds into lossy milliseconds).
function arrowCell(arrow, d, i) {
  if (!d.getValid(i)) return null
  const t = d.type
  const { DataType } = arrow
  if (DataType.isTimestamp(t)) {
    const raw = BigInt(d.values[d.offset + i])
    const mult = [1000000n, 1000n, 1n][t.unit]
    return String(t.unit === 3 ? raw / 1000n : raw * mult)
  }
  if (DataType.isList(t) || DataType.isLargeList?.(t)) {
    const a = Number(d.valueOffsets[d.offset + i])
    const b = Number(d.valueOffsets[d.offset + i + 1])
    const out = []
    for (let j = a; j < b; j++) out.push(arrowCell(arrow, d.children[0], j))
    return out
  }
  return arrow.makeVector(d).get(i)
}

export async function readArrow(file) {
  const { wasm, arrow } = await loadModules()
  const t = arrow.tableFromIPC(wasm.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream())
  const names = t.schema.fields.map((f) => f.name)
  const cols = names.map((n) => {
    const vec = t.getChild(n)
    const out = []
    for (const d of vec.data) for (let i = 0; i < d.length; i++) out.push(arrowCell(arrow, d, i))
    return out
  })
  return { columns: names, rows: Array.from({ length: t.numRows }, (_, r) => cols.map((c) => c[r])) }
}

// ---- Larder --------------------------------------------------------------------

// Parses one JSON text with 64-bit integers and long decimals intact: number
// literals of 16 characters or more (which a double may not hold exactly) are
// quoted before JSON.parse, so they arrive as their text. Shorter numbers
// arrive as JS numbers.
export function parseJsonExact(text) {
  let out = null
  let last = 0
  let inStr = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inStr) {
      if (ch === 92) i++ // backslash: skip the escaped character
      else if (ch === 34) inStr = false
      continue
    }
    if (ch === 34) {
      inStr = true
      continue
    }
    if (ch === 45 || (ch >= 48 && ch <= 57)) {
      let j = i + 1
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++
      if (j - i >= 16) {
        out = (out ?? '') + text.slice(last, i) + '"' + text.slice(i, j) + '"'
        last = j
      }
      i = j - 1
    }
  }
  return JSON.parse(out === null ? text : out + text.slice(last))
}

// Days since the epoch of a proleptic Gregorian date.
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

// "YYYY-MM-DDTHH:MM:SS[.f]Z" (or with a space, or +00:00) -> microseconds string.
export function isoToMicros(s) {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]00(?::?00)?)?$/.exec(s)
  if (!m) return null
  const days = BigInt(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])))
  const secs = days * 86400n + BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]))
  const frac = BigInt(((m[7] ?? '') + '000000').slice(0, 6))
  return String(secs * 1000000n + frac)
}

// Runs `larder parquet cat FILE --format ndjson`; rows as parsed JSON (long
// integers as strings). Rejects with the exit status and stderr on failure.
export async function larderCat(file, extra = []) {
  const bin = process.env.LARDER_BIN
  if (!bin) throw new Error('LARDER_BIN is not set')
  try {
    const { stdout, stderr } = await execFileP(bin, ['parquet', 'cat', file, '--format', 'ndjson', ...extra], {
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    })
    return { stdout, stderr, rows: stdout.split('\n').filter((l) => l.length).map(parseJsonExact) }
  } catch (e) {
    const err = new Error(`larder parquet cat ${file}: exit ${e.code ?? e.signal}: ${(e.stderr ?? '').trim().split('\n')[0]}`)
    err.status = e.code
    err.signal = e.signal
    err.stderr = e.stderr ?? ''
    throw err
  }
}

// Converts one Larder NDJSON cell to the canonical form, given the column's
// kind (a matrix kind, or a DuckDB type for corpus files).
export function canonLarder(kind, v) {
  if (v === null || v === undefined) return null
  if (Array.isArray(v)) return v.map((x) => canonLarder(kind, x))
  const text = typeof v === 'object' && v.num !== undefined ? v.num : v
  switch (kind) {
    case 'int32':
    case 'int64':
      return typeof text === 'string' ? text : String(text)
    case 'float':
    case 'double':
      return numStr(text)
    case 'bool':
      return text
    case 'string':
      return text
    case 'ts_us':
    case 'ts_ms':
      if (typeof v === 'string') return isoToMicros(v) ?? `bad-timestamp:${v}`
      return String(text)
    default:
      return canonAny(v)
  }
}

// Reads with Larder; rows in column order (NDJSON objects keyed by name, or arrays).
export async function readLarder(file, columns, kinds) {
  const { rows } = await larderCat(file)
  return {
    columns,
    rows: rows.map((o) => columns.map((n, c) => canonLarder(kinds[c], Array.isArray(o) ? o[c] : o[n]))),
  }
}

// ---- comparison ----------------------------------------------------------------

// Compares canonical rows; returns a list of human-readable differences (at
// most `limit` per column).
export function diffRows(label, expect, got, columns, limit = 3) {
  const out = []
  if (got.length !== expect.length) {
    out.push(`${label}: ${got.length} rows, expected ${expect.length}`)
    return out
  }
  for (let c = 0; c < columns.length; c++) {
    let n = 0
    let first = ''
    for (let r = 0; r < expect.length; r++) {
      const a = JSON.stringify(expect[r][c])
      const b = JSON.stringify(got[r][c])
      if (a !== b) {
        if (n < limit) first += `\n    row ${r}: expected ${a.slice(0, 200)} got ${b.slice(0, 200)}`
        n++
      }
    }
    if (n) out.push(`${label}: column ${columns[c]}: ${n} cell(s) differ${first}`)
  }
  return out
}
