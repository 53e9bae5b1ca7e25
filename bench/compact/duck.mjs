// duck.mjs - DuckDB's side of the compaction benchmark (bench/compact/run.sh).
//
//   node bench/compact/duck.mjs ROOT OUT THREADS day|hour
//
// day:  COPY (SELECT * FROM read_parquet('ROOT/**/*.parquet')
//             ORDER BY household_id, event_time) TO 'OUT' (FORMAT parquet)
//       - one sorted file for the day, as the issue states the comparison;
// hour: the same sorted rows written per hour partition
//       (PARTITION_BY year, month, day, hour), the shape of Larder's in-place
//       compaction.
// Prints {"seconds": wall time of the COPY}. Run it under /usr/bin/time -v for
// CPU time and peak memory.
import duckdb from '@duckdb/node-api'

const [root, out, threads, shape] = process.argv.slice(2)
const inst = await duckdb.DuckDBInstance.create(':memory:', { threads: threads || '2' })
const con = await inst.connect()
const lit = (s) => "'" + String(s).replaceAll("'", "''") + "'"
const src = `read_parquet(${lit(root + '/**/*.parquet')}, hive_partitioning = ${shape === 'hour'})`
const sql =
  shape === 'hour'
    ? `COPY (SELECT * FROM ${src} ORDER BY household_id, event_time) TO ${lit(out)}
         (FORMAT parquet, PARTITION_BY (year, month, day, hour), OVERWRITE_OR_IGNORE)`
    : `COPY (SELECT * FROM ${src} ORDER BY household_id, event_time) TO ${lit(out)} (FORMAT parquet)`
const t0 = process.hrtime.bigint()
await con.run(sql)
const t1 = process.hrtime.bigint()
process.stdout.write(JSON.stringify({ seconds: Number(t1 - t0) / 1e9 }) + '\n')
