/*
 * compact_internal.h - what the files of the compaction module share: the
 * row table (columnar rows with sort keys), row checksums, sorted runs and
 * their merge, output files, holders and liveness, the plan, and the run's
 * shared state. Not API: only src/compact/ (and its tests) include this.
 */
#ifndef LARDER_COMPACT_INTERNAL_H
#define LARDER_COMPACT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/compact.h"
#include "larder/fg.h"
#include "larder/objstore.h"
#include "larder/offline.h"
#include "larder/parquet.h"

/*
 * Crash injection for the kill tests: when set, called at each named point
 * of a partition's compaction ("leased", "announced", "written",
 * "verified", "swapped", "deleted"). A test's hook kills the process
 * there. NULL (the default) costs one load per point.
 */
extern void (*lr__compact_crash_hook)(const char *point);

/*
 * A unit writes with several threads only when each gets at least this many
 * rows (default 100,000; the tests lower it to exercise key ranges).
 */
extern uint64_t lr__compact_par_min_rows;

static inline void lr__compact_crash_point(const char *point)
{
    if (lr__compact_crash_hook != NULL)
        lr__compact_crash_hook(point);
}

/* ------------------------------------------------------------------------ */
/* Schema: the columns of a group's offline rows                             */
/* ------------------------------------------------------------------------ */

typedef enum lr__ctype {
    LR__C_I64 = 1,  /* Integral */
    LR__C_F64 = 2,  /* Fractional */
    LR__C_STR = 3,  /* String */
    LR__C_TS = 4,   /* write_time, api_invocation_time: microseconds */
    LR__C_BOOL = 5, /* is_deleted */
} lr__ctype;

typedef struct lr__col {
    const char *name;
    lr__ctype type;
    bool list;
} lr__col;

typedef struct lr__schema {
    const lr_fg_def *def; /* borrowed */
    lr__col *cols;        /* n_features + 3 */
    uint32_t n;
    uint32_t rid;          /* record identifier column */
    uint32_t et;           /* event-time column */
    uint32_t wt, api, del; /* write_time, api_invocation_time, is_deleted */
    lr__ctype rid_type;    /* STR, I64 or F64 */
    bool et_string;        /* ISO-8601 strings; else epoch seconds (F64) */
    lr_pq_column_def *pq;  /* the Parquet columns (lr_offline_parquet_columns) */
} lr__schema;

lr_status lr__schema_init(lr__schema *s, const lr_fg_def *def, lr_error *err);
void lr__schema_free(lr__schema *s);

/* ------------------------------------------------------------------------ */
/* Column builders and the row table                                         */
/* ------------------------------------------------------------------------ */

/* One column being built: values, validity, list and string offsets. */
typedef struct lr__builder {
    lr__ctype type;
    bool list;
    uint8_t *valid;  /* per row */
    uint32_t *loff;  /* list: rows + 1 offsets into slots */
    uint8_t *evalid; /* list: per element slot */
    void *vals;      /* per slot: int64_t, double or uint8_t */
    uint32_t *off;   /* strings: slots + 1 offsets into bytes */
    uint8_t *bytes;
    size_t rows, slots, nbytes;
    size_t cap_rows, cap_slots, cap_bytes;
    size_t nulls;    /* null rows: a view has no validity when there are none */
} lr__builder;

void lr__builder_init(lr__builder *b, lr__ctype t, bool list);
void lr__builder_free(lr__builder *b);
void lr__builder_clear(lr__builder *b);
size_t lr__builder_mem(const lr__builder *b);
/* The column as a batch view (valid until the builder changes). */
void lr__builder_view(const lr__builder *b, lr_pq_column_batch *v);
/* Appends row r of a column batch of the same shape (values already normalised). */
lr_status lr__builder_append(lr__builder *b, const lr_pq_column_batch *src, uint32_t r);
lr_status lr__builder_append_null(lr__builder *b);
/*
 * Appends rows [r0, r0+n) of src (same shape), scaling timestamp values by
 * `mult` (1; 1000 for milliseconds; 0 divides nanoseconds by 1000).
 */
lr_status lr__builder_append_scaled(lr__builder *b, const lr_pq_column_batch *src, uint32_t r0,
                                    uint32_t n, int64_t mult);
/* Removes the last row. */
void lr__builder_pop(lr__builder *b);

/* A row of some normalised batch (one lr_pq_column_batch per schema column). */
typedef struct lr__rowref {
    const lr_pq_column_batch *cols;
    uint32_t row;
} lr__rowref;

/* Appends column `col` of the `n` referenced rows (a gather). */
lr_status lr__builder_gather(lr__builder *b, const lr__rowref *refs, uint32_t n, uint32_t col);

/*
 * Rows of one schema, column by column, with a sort key per row. Rows come
 * from normalised batches (every column present, in schema order).
 */
typedef struct lr__table {
    const lr__schema *sc;
    lr__builder *cols; /* sc->n */
    int64_t *ev;       /* event time per row, microseconds (INT64_MIN: none) */
    size_t cap_ev;
    size_t rows;
    lr_pq_column_batch *views; /* filled by lr__table_views */
} lr__table;

lr_status lr__table_init(lr__table *t, const lr__schema *sc, lr_error *err);
void lr__table_free(lr__table *t);
void lr__table_clear(lr__table *t);
size_t lr__table_mem(const lr__table *t);
/* Refreshes t->views (after appends). */
void lr__table_views(lr__table *t);

/* The event time of row r of the event-time column batch `c` (false: null or unparsable). */
bool lr__event_us(const lr__schema *sc, const lr_pq_column_batch *c, uint32_t r, int64_t *us);

/* ------------------------------------------------------------------------ */
/* Row checksums                                                             */
/* ------------------------------------------------------------------------ */

/* An order-independent checksum of a multiset of rows: two 64-bit sums and a count. */
typedef struct lr__rowsum {
    uint64_t a, b, n;
} lr__rowsum;

/* The hash of row r of `cols` (one batch per schema column, normalised). */
uint64_t lr__row_hash(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r);
/* The hashes of rows r0 .. r0+n-1 into h[0..n) (the same values, column by column). */
void lr__rows_hash(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r0, uint32_t n,
                   uint64_t *h);
void lr__rowsum_add(lr__rowsum *s, uint64_t h);
void lr__rowsum_merge(lr__rowsum *into, const lr__rowsum *s);
bool lr__rowsum_equal(const lr__rowsum *x, const lr__rowsum *y);

/* ------------------------------------------------------------------------ */
/* Sort keys                                                                 */
/* ------------------------------------------------------------------------ */

/* A row's sort key: record identifier, event time, api_invocation_time, write_time. */
typedef struct lr__key {
    uint64_t k0; /* order-preserving prefix of the identifier */
    int64_t ev, api, wt;
    const uint8_t *id; /* string identifiers: the bytes */
    uint32_t id_len;
} lr__key;

/* The key of row r of normalised batch `cols` (ev given: it is computed once per row). */
void lr__key_of(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r, int64_t ev,
                lr__key *k);
/* Compares keys: <0, 0, >0. */
int lr__key_cmp(const lr__key *a, const lr__key *b);
/* True when a and b share record identifier and event time (duplicates). */
bool lr__key_same_record(const lr__key *a, const lr__key *b);

/*
 * Sorts rows 0..t->rows-1 of a table by key into *perm (malloc'd, rows
 * entries). Errors: LR_ENOMEM.
 */
lr_status lr__table_sort(const lr__table *t, uint32_t **perm, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Runs and the merge                                                        */
/* ------------------------------------------------------------------------ */

/* A sorted run: in memory (a table and its order) or spilled to a file. */
typedef struct lr__run {
    lr__table *mem; /* owned; NULL when spilled */
    uint32_t *perm;
    char *path; /* spilled run (a Parquet file with an extra event-time column) */
    uint64_t rows;
    /*
     * Keys of every sample_every-th row, in order (ids owned by `arena`): the
     * basis for splitting the merge into key ranges. For a spilled run the
     * samples are the first rows of its row groups, which lets a range skip
     * whole row groups.
     */
    lr__key *samples;
    size_t n_samples;
    uint32_t sample_every;
    struct lr_arena *arena;
} lr__run;

void lr__run_free(lr__run *r);

/*
 * Samples a sorted in-memory run every `every` rows and sets its table's
 * views, after which the run is only read (merges on several threads).
 * Errors: LR_ENOMEM.
 */
lr_status lr__run_sample(lr__run *r, uint32_t every, lr_error *err);

/*
 * Writes table `t` in the order `perm` to a spill file at `path` (created,
 * removed on error) and fills the run's samples. Errors: LR_EIO, LR_ENOMEM,
 * the writer's.
 */
lr_status lr__spill_write(const lr__table *t, const uint32_t *perm, const char *path, lr__run *r,
                          lr_error *err);

/* Compares keys by record (identifier, event time) only. */
int lr__key_cmp_record(const lr__key *a, const lr__key *b);

/* Receives the merged rows: a batch view and a row of it, or NULL at the end. */
typedef struct lr__merge lr__merge;

/*
 * Opens a k-way merge over runs (borrowed). Rows come out in key order,
 * restricted to records (identifier, event time) in [lo, hi) (either may be
 * NULL: unbounded), so that several merges over disjoint ranges can run on
 * different threads and no record's duplicates are split between two.
 * Errors: LR_EIO / LR_ECORRUPT (a spill file), LR_ENOMEM.
 */
lr_status lr__merge_open(const lr__schema *sc, lr__run *runs, size_t n, const lr__key *lo,
                         const lr__key *hi, lr__merge **out, lr_error *err);
/*
 * The next row: *cols (one batch per schema column) and *row, with its key
 * in *key, or *cols = NULL at the end. The batch stays valid until the
 * merge next loads a batch from the same run; *reloaded says the
 * previously returned batches may have been replaced (spilled runs).
 */
lr_status lr__merge_next(lr__merge *m, const lr_pq_column_batch **cols, uint32_t *row, lr__key *key,
                         lr_error *err);
/* True when the next call to lr__merge_next may invalidate earlier batches. */
bool lr__merge_will_reload(const lr__merge *m);
void lr__merge_free(lr__merge *m);

/* ------------------------------------------------------------------------ */
/* Holders and liveness                                                      */
/* ------------------------------------------------------------------------ */

/* This process as a holder. Errors: LR_EIO (no /proc). */
lr_status lr__holder_self(lr_job_holder *h, lr_error *err);
/* The lr_job_holder_alive_fn: false only for a process of this machine that is gone. */
bool lr__holder_alive(void *ctx, const lr_job_holder *h);
/* Whether a running job's holder is dead (this machine: gone; others: expired). */
bool lr__job_dead(const lr_compact_job *j, int64_t now_us);

/* ------------------------------------------------------------------------ */
/* Output files                                                              */
/* ------------------------------------------------------------------------ */

/*
 * A file being written at root/key: streamed to a temporary file
 * ".lrtmp.<basename>" in its folder then renamed (local roots), or built in
 * memory and put (other stores).
 */
typedef struct lr__outfile lr__outfile;

lr_status lr__outfile_open(lr_objstore *os, const char *root, const char *key, const lr__schema *sc,
                           const lr_pq_write_options *wo, lr__outfile **out, lr_error *err);
lr_status lr__outfile_write(lr__outfile *f, const lr_pq_column_batch *cols, uint32_t n,
                            lr_error *err);
/* Bytes written to the file so far (finished row groups). */
uint64_t lr__outfile_bytes(const lr__outfile *f);
uint64_t lr__outfile_rows(const lr__outfile *f);
/* Finishes the file durably under its name; *bytes receives its size. */
lr_status lr__outfile_close(lr__outfile *f, uint64_t *bytes, lr_error *err);
/* Abandons the file (removes the temporary). NULL is fine. */
void lr__outfile_abort(lr__outfile *f);

/* The temporary name of key's file in its folder: ".lrtmp.<basename>". */
void lr__outfile_tmp_key(const char *key, char *out, size_t cap);

/*
 * Deletes an object and, for local roots, its temporary ".lrtmp.<basename>"
 * if a crash left it. Missing is fine. Errors: LR_EIO.
 */
lr_status lr__object_remove(lr_objstore *os, const char *key, lr_error *err);

/* A Parquet reader over root/key (local: the file; otherwise range reads). */
typedef struct lr__infile {
    lr_pq_reader *rd;
    lr_pq_source src;
    void *src_ctx;
    int fd;
} lr__infile;

lr_status lr__infile_open(lr_objstore *os, const char *root, const char *key, lr__infile *f,
                          lr_error *err);
void lr__infile_close(lr__infile *f);

/* Object stores by root, opened on first use (one per worker). */
typedef struct lr__stores {
    struct {
        char *root;
        lr_objstore *os;
    } * v;
    size_t n, cap;
} lr__stores;

lr_status lr__stores_get(lr__stores *s, const char *root, lr_objstore **os, lr_error *err);
void lr__stores_free(lr__stores *s);

/* ------------------------------------------------------------------------ */
/* The plan                                                                  */
/* ------------------------------------------------------------------------ */

/* One output partition of a unit, and the source hour partitions it reads. */
typedef struct lr__output {
    char partition[48]; /* year=/month=/day=[/hour=] */
    int64_t start_us;
    char **sources; /* source hour partitions */
    size_t n_sources;
} lr__output;

/* What one lease, one swap and one job partition cover. */
typedef struct lr__unit {
    char name[48]; /* the job partition: an hour, or a day */
    lr__output *outs;
    size_t n_outs;
    char **leases; /* every source partition of every output */
    size_t n_leases;
    uint64_t files_planned, bytes_planned, rows_planned;
} lr__unit;

typedef struct lr__plan {
    lr__unit *units;
    size_t n;
} lr__plan;

void lr__plan_free(lr__plan *p);

/* The parameters planning needs. */
typedef struct lr__plan_input {
    lr_catalog *cat;
    const lr_fg_def *def;
    const lr_compact_options *opt;
    const char *copy_root; /* NULL: in place */
    const char *dest;      /* "" or copy_root */
    int64_t day_start_us;  /* DAY mode */
} lr__plan_input;

lr_status lr__plan_make(const lr__plan_input *in, lr__plan *out, lr_error *err);

/*
 * The order-independent fingerprint of a set of files (root/key strings)
 * and its count, as compact_state records.
 */
uint64_t lr__files_fingerprint(const lr_offline_file *f, size_t n);

/*
 * The compacted copy's root for a group: `target` (absolute path or
 * file:// URI) + "/<name>-<creation epoch>/data", or with `target` NULL the
 * offline root with its "offline-store" segment replaced. *out: free().
 * Errors: LR_EINVAL (a relative target, a root without that segment).
 */
lr_status lr__copy_root(const lr_fg_def *def, const char *target, char **out, lr_error *err);

/* ------------------------------------------------------------------------ */
/* The run                                                                   */
/* ------------------------------------------------------------------------ */

/* State shared by the workers of one lr_compact_run. */
typedef struct lr__job_ctx {
    const char *data_dir;
    const char *catalog_uri; /* opened per worker */
    const lr_compact_options *opt;
    const lr_fg_def *def;
    const lr__schema *sc;
    const char *copy_root; /* NULL: in place */
    const char *dest;
    const char *spill_dir; /* this job's spill folder */
    int64_t job_id;
    lr_job_holder holder;
    size_t mem_per_worker;
    unsigned par; /* threads each unit may use (fewer units than threads) */

    atomic_int stop; /* 0 run; LR_ECANCELED / LR_ECONFLICT: stop */
    atomic_uint_fast64_t bytes_read, rows_read, rows_written;
} lr__job_ctx;

/* Compacts one unit into *res (status Completed or Failed with its error). */
void lr__unit_run(lr__job_ctx *jc, lr_catalog *cat, lr__stores *stores, const lr__unit *u,
                  lr_compact_partition_result *res);

/* Deletes retired files whose grace has passed (up to `max`; 0: all). */
lr_status lr__retired_sweep(lr_catalog *cat, lr__stores *stores, size_t max, uint64_t *removed,
                            lr_error *err);

/* Metrics, updated by runs and the scheduler. */
void lr__metrics_job_start(void);
void lr__metrics_job_end(const lr_compact_result *r, bool failed);
void lr__metrics_schedule_round(void);

#endif
