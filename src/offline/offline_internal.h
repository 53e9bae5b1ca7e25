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

/* The most threads one flush writes its files on (lr_offline_config.flush_threads). */
#define LR__FLUSH_THREADS_MAX 8

/* A feature-group version the own log has described in schemas.lrs. */
typedef struct lr__schema_ref {
    char *name;
    int64_t created_us;
    int64_t modified_us;
    uint32_t id;
} lr__schema_ref;

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
 * Flushes entries (checkpoint, upto] of `w` (the own log or an adopted one)
 * to Parquet and the catalog, in chunks of about cfg.flush_bytes, each chunk
 * one commit; then deletes fully checkpointed segments. *done (may be NULL)
 * receives the checkpoint reached. Called with flush_mu held.
 */
lr_status lr__offline_flush_log(lr_offline *s, lr__wal *w, uint64_t upto, uint64_t *done,
                                lr_error *err);

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
