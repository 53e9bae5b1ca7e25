/*
 * offline_internal.h - what the files of the offline store share: the store
 * handle, the flusher's entry points, the crash-injection hook of the kill
 * tests, and Parquet access through object storage. Not API: only
 * src/offline/ (and the offline tests) include this.
 */
#ifndef LARDER_OFFLINE_INTERNAL_H
#define LARDER_OFFLINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "larder/catalog.h"
#include "larder/objstore.h"
#include "larder/offline.h"
#include "larder/parquet.h"
#include "offline/wal.h"

/*
 * Crash injection for the kill tests: when set, called at each named point
 * of the flush protocol (after announcing, after each object written, after
 * each object-store batch is published, after the commit, after truncating
 * the log). A test's hook kills the process
 * there. NULL (the default) costs one load per point.
 */
extern void (*lr__offline_crash_hook)(const char *point);

static inline void lr__offline_crash_point(const char *point)
{
    if (lr__offline_crash_hook != NULL)
        lr__offline_crash_hook(point);
}

/*
 * Test hook: false makes the flusher decode every bucket entry by entry
 * (row_add), as it does for groups with list features, instead of straight
 * into row slots (rows_flat), so a test can check both give the same files.
 */
extern bool lr__offline_flat_rows;

/* The most threads one flush writes its files on (lr_offline_config.flush_threads). */
#define LR__FLUSH_THREADS_MAX 8

/* A feature-group version the own log has described in schemas.lrs. */
typedef struct lr__schema_ref {
    char *name;
    int64_t created_us;
    int64_t modified_us;
    uint32_t id;
} lr__schema_ref;

typedef struct lr__memtable lr__memtable; /* below */

struct lr_offline {
    char *data_dir;
    char *wal_root;
    char *catalog_uri;
    lr_settings settings;
    lr_offline_config cfg;
    lr__wal *wal;

    pthread_mutex_t schema_mu; /* schemas[] */
    lr__schema_ref *schemas;
    size_t n_schemas, cap_schemas;

    int64_t last_write_us; /* write_time stamping; guarded by the log's lock */

    pthread_mutex_t mu;       /* everything below */
    uint64_t checkpoint;      /* own log: last flushed sequence */
    uint64_t pending_bytes;   /* own log bytes appended since the flush snapshot */
    int64_t oldest_us;        /* append time of the oldest unflushed entry (0: none) */
    bool flushing;            /* a flush of the own log is running */
    uint64_t flush_upto;      /* ... up to this sequence */
    int64_t after_oldest_us;  /* append time of the first entry past flush_upto */
    uint64_t after_bytes;     /* bytes appended past flush_upto */
    lr_offline_metrics m;
    char **damaged_reported;  /* damaged logs already logged, to log each once */
    size_t n_damaged;

    pthread_mutex_t mt_mu;    /* mt (taken inside the log's lock by the append callback) */
    lr__memtable *mt;         /* NULL: none (cfg.memtable off, or out of memory) */

    pthread_mutex_t flush_mu; /* one flush at a time; guards cat */
    lr_catalog *cat;

    pthread_mutex_t cv_mu;
    pthread_cond_t cv;
    bool stop;
    bool wake;
    bool thread_started;
    pthread_t thread;
};

/*
 * The memtable: the own log's entries since the last flush, already grouped
 * into the buckets a flush writes (flush.c), so that a flush of the own log
 * publishes them without reading the log back. Entries are added in log
 * order by the log's append callback (under the log's lock), schemas as the
 * log records them. It holds at most `cap` payload bytes; past that, or
 * after any gap or failure, it takes nothing more and the flush reads the
 * rest from the log (a failure mid-entry makes it unusable: all is read
 * back). Guarded by lr_offline.mt_mu; a flush takes it whole and leaves a
 * fork (an empty memtable with the same schemas) in its place.
 */
lr__memtable *lr__memtable_new(uint64_t cap);
lr__memtable *lr__memtable_fork(const lr__memtable *old, uint64_t cap);
void lr__memtable_free(lr__memtable *m);
void lr__memtable_schema(lr__memtable *m, uint32_t id, const void *payload, size_t len);
void lr__memtable_add(lr__memtable *m, const lr__wal_item *items, size_t n, uint64_t first_seq,
                      const char *log_dir);

/*
 * Flushes entries (checkpoint, upto] of `w` (the own log or an adopted one)
 * to Parquet and the catalog, in chunks of about cfg.flush_bytes, each chunk
 * one commit; then deletes fully checkpointed segments. `mt` (the own log's
 * memtable, or NULL) is published first when it starts right at the
 * checkpoint; it may reach past upto. *done (may be NULL) receives the
 * checkpoint reached. Called with flush_mu held.
 */
lr_status lr__offline_flush_log(lr_offline *s, lr__wal *w, uint64_t upto, uint64_t *done,
                                lr__memtable *mt, lr_error *err);

/*
 * Adopts and flushes the logs of dead processes under the store's wal root,
 * removing each one that is fully flushed. Called with flush_mu held.
 */
lr_status lr__offline_adopt_orphans(lr_offline *s, lr_error *err);

/*
 * A Parquet source reading the object `key` of `os` with range gets; *size
 * from a head request. The returned source's ctx is malloc'd: release it
 * with lr__pq_source_objstore_free(). Errors: LR_ENOTFOUND, LR_EIO, LR_ENOMEM.
 */
lr_status lr__pq_source_objstore(lr_objstore *os, const char *key, lr_pq_source *out,
                                 lr_error *err);
void lr__pq_source_objstore_free(lr_pq_source *src);

/*
 * Opens the object store of an offline root, naming the group in errors
 * (s3:// roots are LR_EUNSUPPORTED with a clear message).
 */
lr_status lr__offline_objstore_open(const char *root, const char *fg, lr_objstore **out,
                                    lr_error *err);

/* Looks up a group and checks it has an offline store; *def: lr_fg_def_free(). */
lr_status lr__offline_group(lr_catalog *cat, const char *fg, lr_fg_def **def, lr_error *err);

#endif
