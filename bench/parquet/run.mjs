// run.mjs - the Parquet benchmark: Larder's writer and reader against DuckDB
// (single-threaded), both timed in the same run on the same data.
//
//   node bench/parquet/run.mjs [--rows N] [--reps R] [--bench PATH] [--dir DIR] [--append-doc]
//
// Larder: bench/parquet/pq_bench (built by CMake; default build/bench/parquet/
// pq_bench) generates the rows, writes them with SNAPPY and ZSTD and reads
// each file back in full. DuckDB (@duckdb/node-api, SET threads=1) loads
// Larder's SNAPPY file into an in-memory table (not timed; its checksums must
// match what Larder read), then times COPY ... TO parquet with each codec and
// a full read of its own file that materialises every column (an aggregate
// over each one). Best of R runs for each step, wall clock and CPU time.
// --append-doc appends the results as a section of docs/BENCHMARKS.md.
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import duckdb from '@duckdb/node-api'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const arg = (name, def) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : def
}
const rows = Number(arg('--rows', 10000000))
const reps = Number(arg('--reps', 3))
const bench = arg('--bench', join(root, 'build/bench/parquet/pq_bench'))
const dir = arg('--dir', join(tmpdir(), 'larder-pq-bench'))
const appendDoc = process.argv.includes('--append-doc')
const codecs = ['snappy', 'zstd']

mkdirSync(dir, { recursive: true })
console.error(`pq_bench: ${rows} rows, best of ${reps}...`)
const larder = execFileSync(bench, ['--rows', String(rows), '--reps', String(reps), '--codec', codecs.join(','), dir], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
})
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))

const inst = await duckdb.DuckDBInstance.create(':memory:', { threads: '1' })
const c = await inst.connect()
await c.run('SET threads=1; SET preserve_insertion_order=true')
const q = (s) => "'" + s.replace(/'/g, "''") + "'"

async function timed(sql) {
  let wall = Infinity
  let cpu = Infinity
  let result = null
  for (let k = 0; k < reps; k++) {
    const u0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    const r = await c.runAndReadAll(sql)
    const t1 = process.hrtime.bigint()
    const u1 = process.cpuUsage(u0)
    wall = Math.min(wall, Number(t1 - t0) / 1e9)
    cpu = Math.min(cpu, (u1.user + u1.system) / 1e6)
    result = r
  }
  return { wall, cpu, result }
}

const CHECK = `count(*)::BIGINT AS rows, sum(id)::BIGINT AS id, sum(epoch_us(ts) % 1000003)::BIGINT AS ts,
  sum(d1) AS d1, sum(d2) AS d2, sum(d3) AS d3, sum(d4) AS d4, sum(length(s))::BIGINT AS len,
  sum(ascii(s))::BIGINT AS c, sum(dn) AS dn, (count(*) - count(dn))::BIGINT AS nulls`

// Larder's checksum line -> object of numbers.
const parseSum = (s) => Object.fromEntries(s.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]))
function sameSums(a, b) {
  return Object.keys(a).every((k) => Math.abs(a[k] - Number(b[k])) <= 1e-6 * Math.max(1, Math.abs(a[k])))
}

console.error('duckdb: loading the table...')
const src = larder.find((x) => x.codec === 'SNAPPY').path
await c.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(src)})`)
const loaded = (await c.runAndReadAll(`SELECT ${CHECK} FROM t`)).getRowObjectsJson()[0]
if (!sameSums(parseSum(larder[0].checksum), loaded)) {
  console.error(`checksums differ: larder ${larder[0].checksum} duckdb ${JSON.stringify(loaded)}`)
  process.exit(1)
}

const results = []
for (const codec of codecs) {
  const L = larder.find((x) => x.codec === codec.toUpperCase())
  const out = join(dir, `duckdb_${codec}.parquet`)
  console.error(`duckdb: ${codec}...`)
  const w = await timed(`COPY t TO ${q(out)} (FORMAT parquet, COMPRESSION '${codec}')`)
  const r = await timed(`SELECT ${CHECK} FROM read_parquet(${q(out)})`)
  const sums = r.result.getRowObjectsJson()[0]
  if (!sameSums(parseSum(L.checksum), sums)) {
    console.error(`duckdb read different values from its ${codec} file: ${JSON.stringify(sums)}`)
    process.exit(1)
  }
  // DuckDB reading Larder's file, for reference.
  const rl = await timed(`SELECT ${CHECK} FROM read_parquet(${q(L.path)})`)
  results.push({
    codec: codec.toUpperCase(),
    larder: { write: L.write_s, read: L.read_s, wcpu: L.write_cpu_s, rcpu: L.read_cpu_s, bytes: L.bytes },
    duckdb: { write: w.wall, read: r.wall, wcpu: w.cpu, rcpu: r.cpu, bytes: statSync(out).size },
    duckdbReadsLarder: rl.wall,
  })
}

const mrows = (s) => (rows / s / 1e6).toFixed(2)
const mb = (b) => (b / 1048576).toFixed(1)
const lines = []
lines.push(`| codec | writer | write Mrows/s (wall / CPU) | read Mrows/s (wall / CPU) | file MiB |`)
lines.push(`|---|---|---|---|---|`)
for (const x of results) {
  for (const who of ['larder', 'duckdb']) {
    const v = x[who]
    lines.push(`| ${x.codec} | ${who === 'larder' ? 'Larder' : 'DuckDB'} | ${mrows(v.write)} / ${mrows(v.wcpu)} | ${mrows(v.read)} / ${mrows(v.rcpu)} | ${mb(v.bytes)} |`)
  }
}
lines.push('')
lines.push(`| codec | write speed Larder/DuckDB (target >= 1.5) | read speed Larder/DuckDB (target >= 1.0) | size Larder/DuckDB (target within 10%) | DuckDB reading Larder's file, Mrows/s |`)
lines.push(`|---|---|---|---|---|`)
let pass = true
for (const x of results) {
  const wr = x.duckdb.wcpu / x.larder.wcpu
  const rr = x.duckdb.rcpu / x.larder.rcpu
  const sz = x.larder.bytes / x.duckdb.bytes
  const ok = wr >= 1.5 && rr >= 1.0 && Math.abs(sz - 1) <= 0.1
  pass &&= ok
  lines.push(`| ${x.codec} | ${wr.toFixed(2)}x (wall ${(x.duckdb.write / x.larder.write).toFixed(2)}x) | ${rr.toFixed(2)}x (wall ${(x.duckdb.read / x.larder.read).toFixed(2)}x) | ${sz.toFixed(3)} | ${mrows(x.duckdbReadsLarder)} |`)
}
const table = lines.join('\n')
console.log(table)
console.log(pass ? '\nall targets met (ratios from CPU time)' : '\nsome targets missed (ratios from CPU time)')

if (appendDoc) {
  const ver = (await c.runAndReadAll('SELECT version() AS v')).getRowObjectsJson()[0].v
  const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
  const when = new Date().toISOString().slice(0, 10)
  const doc = `
## Parquet: write and full read, Larder vs DuckDB (${when})

${rows.toLocaleString('en-US')} rows of (id INT64, ts TIMESTAMP, d1..d4 DOUBLE, s STRING of 12 characters
from a million keys, dn DOUBLE with 10% nulls); Larder at ${sha}, DuckDB ${ver} through
@duckdb/node-api with \`SET threads=1\`; ${cpus()[0].model}, ${cpus().length} cores shared with
other work, so the ratios use CPU time (wall-clock ratios beside them). Best of ${reps} runs.
Write: Larder's writer from in-memory column batches vs \`COPY t TO ... (FORMAT parquet,
COMPRESSION ...)\` from an in-memory table; read: every column of every row (Larder's scan API
summing every value; DuckDB an aggregate over every column).

Command: \`cmake --build build --target pq_bench && node bench/parquet/run.mjs --rows ${rows} --reps ${reps}\`

${table}
`
  appendFileSync(join(root, 'docs/BENCHMARKS.md'), doc)
  console.error('appended to docs/BENCHMARKS.md')
}
if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true })
