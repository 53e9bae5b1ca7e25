/*
 * offline.h - the offline store: the append-only history of every write and
 * delete, as hourly Parquet files in SageMaker's layout (DESIGN.md 3.3;
 * docs/offline-store.md has the formats, the guarantees and the design).
 *
 * Writing. lr_offline_open() gives a store handle that owns a write-ahead
 * log for this process under <data dir>/wal/. lr_offline_put() and
 * lr_offline_delete() append to the log and return once the entry is in it
 * (see lr_offline_config.sync for what survives what). A flusher (a
 * background thread, or lr_offline_flush() called directly) groups logged
 * entries by feature group and event-time hour, writes one Parquet file per
 * group and hour under the group's ResolvedOutputS3Uri
 *   year=YYYY/month=MM/day=DD/hour=HH/<YYYYMMDDTHHMMSSZ>_<16 alphanumerics>.parquet
 * and registers the files in the catalog in the same transaction that moves
 * the log's checkpoint, so after a crash at any instant every acknowledged
 * row is in exactly one live file. Logs of processes that died are adopted
 * and flushed by the next flush of any process on the data directory.
 *
 * Reading. The catalog's list of live files is the truth: scans
 * (lr_offline_scan_*) read only registered files, pruned by event time.
 * lr_offline_repair() registers files other tools wrote; lr_offline_ddl()
 * prints statements that make the store queryable elsewhere.
 *
 * Threading: a store handle may be used from many threads at once. The
 * catalog-based calls (scan, partitions, repair, ddl, gc) take a catalog
 * handle, which is single-threaded (catalog.h); a scan is used by one thread.
 */
#ifndef LARDER_OFFLINE_H
#define LARDER_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/parquet.h"
#include "larder/record.h"
#include "larder/status.h"
#include "larder/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */
/* ------------------------------------------------------------------------ */

/* "year=YYYY/month=MM/day=DD/hour=HH" plus NUL fits in this. */
#define LR_OFFLINE_PARTITION_MAX 40
/* A file key: partition, '/', 16 + 1 + 16 + ".parquet", NUL. */
#define LR_OFFLINE_KEY_MAX 96

/* Names of the three columns every offline row has after the features. */
#define LR_OFFLINE_COL_WRITE_TIME "write_time"
#define LR_OFFLINE_COL_API_TIME "api_invocation_time"
#define LR_OFFLINE_COL_IS_DELETED "is_deleted"

/*
 * The partition of an event time: its UTC hour as
 * "year=YYYY/month=MM/day=DD/hour=HH" in `out` (LR_OFFLINE_PARTITION_MAX
 * bytes), and the hour's start in *start_us (may be NULL).
 * Errors: LR_EINVAL (outside LR_TIME_MIN_US..LR_TIME_MAX_US).
 */
lr_status lr_offline_partition_of(int64_t event_us, char *out, int64_t *start_us, lr_error *err);

/*
 * Parses a partition path (the four folders, in order, as above; leading
 * zeros optional on input) into the start of its hour.
 * Errors: LR_EINVAL.
 */
lr_status lr_offline_partition_parse(const char *s, size_t len, int64_t *start_us, lr_error *err);

/*
 * A new file key in the partition of `latest_event_us`, SageMaker's name:
 * "<partition>/<YYYYMMDDTHHMMSSZ of latest_event_us>_<16 random [A-Za-z0-9]>.parquet"
 * into `out` (LR_OFFLINE_KEY_MAX bytes). Errors: LR_EINVAL (time out of range).
 */
lr_status lr_offline_file_key(int64_t latest_event_us, char *out, lr_error *err);

/*
 * The Parquet columns of a group's offline files: the features in
 * definition order (Integral INT64, Fractional DOUBLE, String UTF-8 STRING;
 * List/Set/Vector as lists of those; all optional), then write_time and
 * api_invocation_time (INT64 TIMESTAMP micros UTC) and is_deleted (BOOLEAN).
 * *out (n_features + 3 entries) is malloc'd; names point into `def`.
 * Errors: LR_ENOMEM.
 */
lr_status lr_offline_parquet_columns(const lr_fg_def *def, lr_pq_column_def **out, uint32_t *n,
                                     lr_error *err);

/* ------------------------------------------------------------------------ */
/* The store: writing                                                        */
/* ------------------------------------------------------------------------ */

typedef enum lr_offline_sync {
    LR_OFFLINE_SYNC_EVERYSEC = 0, /* default: a thread fsyncs the log once a second */
    LR_OFFLINE_SYNC_ALWAYS = 1,   /* fsync before every write returns (group commit) */
    LR_OFFLINE_SYNC_NO = 2,       /* never fsync; the kernel writes back when it likes */
} lr_offline_sync;

/* "everysec", "always", "no". */
const char *lr_offline_sync_name(lr_offline_sync s);
/* Parses the names above. Errors: LR_EINVAL. */
lr_status lr_offline_sync_parse(const char *s, lr_offline_sync *out, lr_error *err);

/*
 * Configuration (lr_offline_config_init() sets the defaults shown).
 *
 * Whatever the sync policy, an acknowledged write (put/delete returned
 * LR_OK) is in the log and in the kernel's page cache, so it survives the
 * process being killed. Across a power loss or kernel crash: ALWAYS loses
 * nothing acknowledged; EVERYSEC loses at most what was acknowledged after
 * the start of the last completed once-a-second fsync (about one second,
 * more only when the disk stalls an fsync); NO may lose whatever the kernel
 * had not written back (typically up to 30 s on Linux).
 */
typedef struct lr_offline_config {
    const char *catalog_uri;  /* NULL: the data directory (as lr_catalog_open) */
    lr_offline_sync sync;     /* EVERYSEC */
    uint64_t segment_bytes;   /* log segment size: 64 MiB */
    uint64_t flush_bytes;     /* flush when the unflushed log reaches this: 64 MiB */
    int64_t flush_age_us;     /* ... or when its oldest entry is this old: 60 s */
    bool background;          /* run the flusher thread (servers); false: call flush yourself */
    bool flush_on_close;      /* lr_offline_close() flushes first: true */
    int64_t gc_grace_us;      /* files of failed flushes are removed after this: 1 h */
    lr_pq_codec codec;        /* Parquet compression: SNAPPY */
    uint32_t flush_threads;   /* threads encoding one flush's files: 0 = one per core (max 8) */
    bool memtable;            /* keep unflushed entries grouped in memory too (about flush_bytes),
                                 so a flush need not read the log back: true */
} lr_offline_config;

void lr_offline_config_init(lr_offline_config *cfg);

typedef struct lr_offline lr_offline;

/*
 * Opens the offline store of `data_dir` for writing: creates this
 * process's log under <data_dir>/wal/, opens the catalog (cfg->catalog_uri
 * or data_dir) and, with cfg->background, starts the flusher thread, which
 * also adopts the logs of dead processes. `settings` may be NULL
 * (lr_settings_from_env). cfg may be NULL (defaults).
 * Errors: LR_EINVAL (bad configuration), LR_EIO, the catalog's errors,
 * LR_ENOMEM.
 */
lr_status lr_offline_open(const char *data_dir, const lr_settings *settings,
                          const lr_offline_config *cfg, lr_offline **out, lr_error *err);

/*
 * Stops the flusher, flushes this process's log when cfg->flush_on_close
 * (errors are logged: call lr_offline_flush() first to see them) and, when
 * everything is flushed, removes the log; otherwise leaves it for the next
 * process to adopt. NULL is fine.
 */
void lr_offline_close(lr_offline *s);

/* One row to append. */
typedef struct lr_offline_write {
    const lr_fg_def *def;      /* the group, as stored in the catalog (borrowed) */
    const lr_record *rec;      /* validated by lr_record_validate() (borrowed) */
    bool is_deleted;           /* a delete marker: rec holds the identifier and event time */
    int64_t api_invocation_us; /* when the API call arrived */
} lr_offline_write;

/*
 * Appends rows to the log with one write (and, under ALWAYS, one fsync) and
 * returns once they are acknowledged (see lr_offline_config). Each row gets
 * write_time = the time of the append, strictly increasing within a
 * process. Every group must have an offline store whose root this build can
 * write (local paths and file:// URIs).
 * Errors: LR_EINVAL (no offline store, a record not validated, n == 0),
 * LR_EUNSUPPORTED (an s3:// root), LR_ELIMIT, LR_EIO (the log cannot be
 * written; after an fsync failure every later call fails too), LR_ENOMEM.
 */
lr_status lr_offline_write_batch(lr_offline *s, const lr_offline_write *rows, size_t n,
                                 lr_error *err);

/*
 * lr_offline_write_batch in two steps, for writers that prepare rows on
 * other threads (larder ingest): lr_offline_encode() checks and encodes
 * rows into `e` (any thread, concurrently; `e` is reused across calls),
 * lr_offline_append() appends them as write_batch does. Rows appended
 * together get their write_time in the order of the appends.
 * lr_offline_encoded_free() releases `e`. Errors: as write_batch.
 */
struct lr__wal_item;
typedef struct lr_offline_encoded {
    lr_buf payloads;
    size_t *offs; /* n + 1 */
    struct lr__wal_item *items;
    size_t n, cap;
} lr_offline_encoded;

void lr_offline_encoded_init(lr_offline_encoded *e);
void lr_offline_encoded_free(lr_offline_encoded *e);
lr_status lr_offline_encode(lr_offline *s, const lr_offline_write *rows, size_t n,
                            lr_offline_encoded *e, lr_error *err);
/*
 * Adds n more rows to what e holds (lr_offline_encode() starts afresh), so
 * a batch can be encoded as it is built, while its rows are still in the
 * cache. On an error e holds what it held before the call.
 */
lr_status lr_offline_encode_add(lr_offline *s, const lr_offline_write *rows, size_t n,
                                lr_offline_encoded *e, lr_error *err);
lr_status lr_offline_append(lr_offline *s, lr_offline_encoded *e, lr_error *err);

/* One row: lr_offline_write_batch with is_deleted false. */
lr_status lr_offline_put(lr_offline *s, const lr_fg_def *def, const lr_record *rec,
                         int64_t api_invocation_us, lr_error *err);

/*
 * A delete marker (SoftDelete and HardDelete alike): a row with the record
 * identifier, the event time exactly as given (it must parse as the group's
 * event-time type), every other feature null and is_deleted true.
 * Errors: LR_EINVAL (bad identifier or event time), then as write_batch.
 */
lr_status lr_offline_delete(lr_offline *s, const lr_fg_def *def, const char *record_id,
                            size_t record_id_len, const char *event_time, size_t event_time_len,
                            int64_t api_invocation_us, lr_error *err);

/*
 * Flushes now, synchronously: everything this process appended before the
 * call goes to Parquet and the catalog; then the logs of dead processes are
 * adopted and flushed, and leftovers of failed flushes older than the grace
 * period are removed. A CLI command calls this before it exits.
 * A damaged log of a dead process does not fail the call: what precedes the
 * damage is flushed, the log is kept for inspection and the damage is logged
 * (once per process) with the segment and offset.
 * Errors: LR_EIO, LR_ECORRUPT (this process's own log cannot be read back),
 * LR_ECONFLICT (another process registered the same log range: nothing is
 * lost, the files written are discarded), the catalog's errors, LR_ENOMEM.
 * Entries not flushed because of an error stay in the log for the next flush.
 */
lr_status lr_offline_flush(lr_offline *s, lr_error *err);

/* fsyncs this process's log now, whatever the policy. Errors: LR_EIO. */
lr_status lr_offline_sync_now(lr_offline *s, lr_error *err);

/* Figures for the server's /metrics. */
typedef struct lr_offline_metrics {
    int64_t lag_us;           /* age of the oldest entry of this process not yet in Parquet (0: none) */
    uint64_t pending_entries; /* entries of this process not yet in Parquet */
    uint64_t log_bytes;       /* bytes of every log segment in the data directory */
    uint64_t flushes;         /* flushes that registered files */
    uint64_t flush_errors;
    uint64_t files_written;
    uint64_t rows_written;
    uint64_t logs_adopted;    /* logs of dead processes flushed and removed */
    int64_t last_flush_us;    /* time of the last successful flush (0: none) */
} lr_offline_metrics;

void lr_offline_metrics_get(lr_offline *s, lr_offline_metrics *out);

/* ------------------------------------------------------------------------ */
/* Catalog views                                                             */
/* ------------------------------------------------------------------------ */

/* Totals of a group's live files. */
typedef struct lr_offline_group_stats {
    uint64_t files;
    uint64_t partitions;
    uint64_t rows;
    uint64_t bytes;
} lr_offline_group_stats;

/*
 * Totals for the group `fg` (its current generation: files of a deleted
 * group of the same name are not counted).
 * Errors: LR_ENOTFOUND (no such group), the catalog's errors.
 */
lr_status lr_offline_group_stats_get(lr_catalog *cat, const char *fg, lr_offline_group_stats *out,
                                     lr_error *err);

/*
 * The partitions of group `fg` with live files, in time order, with file
 * count, rows, bytes and event-time bounds. *out: free() (NULL when n is 0).
 * Errors: LR_ENOTFOUND, the catalog's errors, LR_ENOMEM.
 */
lr_status lr_offline_partitions(lr_catalog *cat, const char *fg, lr_offline_partition_info **out,
                                size_t *n, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Scans                                                                     */
/* ------------------------------------------------------------------------ */

/* Types of scanned columns, normalised across writers. */
typedef enum lr_offline_ctype {
    LR_OFFLINE_INT64 = 1,     /* i64 */
    LR_OFFLINE_DOUBLE = 2,    /* f64 */
    LR_OFFLINE_STRING = 3,    /* offsets + bytes (UTF-8) */
    LR_OFFLINE_TIMESTAMP = 4, /* i64, microseconds since the epoch, UTC */
    LR_OFFLINE_BOOL = 5,      /* bools */
} lr_offline_ctype;

typedef struct lr_offline_column {
    const char *name;
    lr_offline_ctype type;
    bool list; /* a collection feature: a list of `type` */
} lr_offline_column;

/*
 * A batch of rows, columns in the scan's column order, laid out as
 * lr_pq_column_batch describes (validity NULL: no nulls). Valid until the
 * next lr_offline_scan_next() or lr_offline_scan_free().
 */
typedef struct lr_offline_batch {
    uint32_t n_rows;
    uint32_t n_columns;
    const lr_pq_column_batch *columns;
} lr_offline_batch;

typedef struct lr_offline_scan_options {
    int64_t start_us; /* event time, inclusive: INT64_MIN for no bound */
    int64_t end_us;   /* event time, exclusive: INT64_MAX for no bound */
    const char *const *columns; /* names to read in this order; NULL: every column */
    uint32_t n_columns;
    bool resolved;       /* apply the resolution rule (below) */
    uint32_t batch_rows; /* rows per batch at most: 4096 */
    size_t memory_max;   /* resolved scans: memory for one hour partition: 1 GiB */
} lr_offline_scan_options;

void lr_offline_scan_options_init(lr_offline_scan_options *opt);

typedef struct lr_offline_scan lr_offline_scan;

/*
 * Scans the live files of group `fg` (the current generation), reading only
 * files whose event times overlap [start_us, end_us), and returns the rows
 * in that range, partition by partition in time order.
 *
 * Resolved scans apply API.md's rule, in this order, to the rows in range:
 *   1. among rows with the same (record identifier, event time) keep the one
 *      with the latest api_invocation_time, then the latest write_time;
 *   2. drop a kept row that is a delete marker (is_deleted);
 *   3. drop a kept row when some delete marker of the same record has a
 *      later event time (a delete hides the record's earlier history;
 *      rows written with event times after the delete show again: the
 *      record was put again).
 * Only rows inside the range take part, so a resolved scan answers "as of
 * end_us". The identifier, event time and the three system columns are read
 * even when not projected.
 *
 * Errors: LR_ENOTFOUND (no such group), LR_EINVAL (unknown column, bad
 * range), LR_ECORRUPT / LR_EIO (a file cannot be read: the message names
 * it), LR_ELIMIT (a resolved partition over memory_max), the catalog's
 * errors, LR_ENOMEM.
 */
lr_status lr_offline_scan_open(lr_catalog *cat, const char *fg, const lr_offline_scan_options *opt,
                               lr_offline_scan **out, lr_error *err);

/* The scan's columns; *n receives the count. Lives as long as the scan. */
const lr_offline_column *lr_offline_scan_columns(const lr_offline_scan *s, uint32_t *n);

/*
 * The next batch (at least one row), or *out = NULL at the end.
 * Errors: as lr_offline_scan_open; the scan is then finished.
 */
lr_status lr_offline_scan_next(lr_offline_scan *s, const lr_offline_batch **out, lr_error *err);

void lr_offline_scan_free(lr_offline_scan *s);

/* ------------------------------------------------------------------------ */
/* Repair, garbage collection, DDL                                           */
/* ------------------------------------------------------------------------ */

typedef struct lr_offline_repair_item {
    char *uri;    /* root/key */
    char *reason; /* rejected files: why; NULL otherwise */
} lr_offline_repair_item;

typedef struct lr_offline_repair_report {
    uint64_t files_in_storage;  /* Parquet files found under the group's root */
    uint64_t files_registered;  /* of those, already in the catalog */
    uint64_t partitions_added;  /* partitions that had no live file before */
    lr_offline_repair_item *added;    /* registered now (or, dry run, would be) */
    size_t n_added;
    lr_offline_repair_item *rejected; /* schema mismatch, unreadable, outside the layout */
    size_t n_rejected;
    lr_offline_repair_item *missing;  /* in the catalog, not in storage */
    size_t n_missing;
} lr_offline_repair_report;

/*
 * Hive's MSCK REPAIR TABLE for group `fg`: lists every object under the
 * group's root; registers each .parquet file in a year=/month=/day=/hour=
 * folder that the catalog does not list and whose columns match the group's
 * (lr_offline_parquet_columns: same names, same types, any order; other
 * timestamp units and INT96 are accepted for the two time columns),
 * computing its rows and event-time bounds from its data; reports files
 * that do not match (with the reason) and files the catalog lists but
 * storage lacks. Files a flush is writing right now (pending in the
 * catalog) are skipped. With dry_run nothing is registered.
 * *out is filled (lr_offline_repair_report_free()).
 * Errors: LR_ENOTFOUND, LR_EINVAL (the group has no offline store),
 * LR_EUNSUPPORTED (its root's scheme), LR_EIO, the catalog's errors,
 * LR_ENOMEM.
 */
lr_status lr_offline_repair(lr_catalog *cat, const char *fg, bool dry_run,
                            lr_offline_repair_report *out, lr_error *err);

void lr_offline_repair_report_free(lr_offline_repair_report *r);

typedef struct lr_offline_gc_report {
    uint64_t files_removed;      /* files of flushes that never registered */
    uint64_t incomplete_removed; /* remains of interrupted object writes */
} lr_offline_gc_report;

/*
 * Removes what failed flushes left behind, once older than `grace_us`:
 * files announced in the catalog before being written and never registered,
 * and partial objects of interrupted writes. Files that Larder did not
 * write (no announcement) are never touched. report may be NULL.
 * Errors: LR_EIO, the catalog's errors, LR_ENOMEM.
 */
lr_status lr_offline_gc(lr_catalog *cat, int64_t grace_us, lr_offline_gc_report *report,
                        lr_error *err);

typedef enum lr_offline_dialect {
    LR_DDL_ATHENA = 1,
    LR_DDL_HIVE,
    LR_DDL_TRINO,
    LR_DDL_SPARK,
    LR_DDL_DUCKDB,
} lr_offline_dialect;

/* "athena", "hive", "trino", "spark", "duckdb". Errors: LR_EINVAL. */
lr_status lr_offline_dialect_parse(const char *s, lr_offline_dialect *out, lr_error *err);

typedef struct lr_offline_ddl_options {
    const char *database;  /* NULL: DataCatalogConfig.Database or "sagemaker_featurestore" */
    const char *table;     /* NULL: DataCatalogConfig.TableName or "<name>_<creation epoch>" */
    const char *trino_catalog; /* Trino: NULL means "hive" */
    bool live_files_only;  /* DuckDB: list the catalog's live files instead of a glob */
} lr_offline_ddl_options;

/*
 * Appends to `out` the statements that make group `fg`'s offline store
 * queryable in `dialect`: an external table with the group's columns
 * (features typed bigint/double/string or arrays of them, the two
 * timestamps, is_deleted boolean), partitioned by year, month, day and
 * hour (strings), stored as Parquet at the group's root, then one
 * statement per live partition. DuckDB gets a view over read_parquet(...,
 * hive_partitioning = true). opt may be NULL.
 * Errors: LR_ENOTFOUND, LR_EINVAL (no offline store), the catalog's
 * errors, LR_ELIMIT / LR_ENOMEM (out's cap).
 */
lr_status lr_offline_ddl(lr_catalog *cat, const char *fg, lr_offline_dialect dialect,
                         const lr_offline_ddl_options *opt, lr_buf *out, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
