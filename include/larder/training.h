/*
 * training.h - point-in-time training sets, exports of the latest record
 * per identifier, and materialization of the online store from the offline
 * store. docs/training-sets.md states the semantics precisely; in short:
 *
 *   - lr_training_set_build(): for every row of an entity file (an
 *     identifier and a timestamp t) and every requested feature group, the
 *     group's record as it was known at t: the latest record with event
 *     time <= t after API.md's resolution (duplicates: the latest
 *     api_invocation_time, then write_time; a delete marker hides the
 *     record), no older than the group's max age, else nulls. Entity rows
 *     keep their order and columns.
 *   - lr_training_export(): the latest record per identifier.
 *   - lr_training_materialize(): the latest record per identifier written
 *     into the online store through its event-time rule.
 *
 * All three read only the catalog's live files of the groups, only the
 * partitions and columns they need, and optionally only rows written at or
 * before a write time (`as_of_us`: time travel). Memory is bounded by
 * `memory_max`: inputs that do not fit are partitioned by a hash of the
 * record identifier into temporary files (unlinked at once, so nothing is
 * left behind even after a crash). Work runs on `threads` threads.
 *
 * What this does not do: it does not read the write-ahead log (rows not yet
 * flushed to Parquet are not seen: flush first), and record-level TTLs given
 * to PutRecord are not in the offline store, so only the group's TTL can act
 * as a default max age.
 *
 * Threading: each call runs to completion on the calling thread, using
 * worker threads of its own; the catalog handle is used only by the calling
 * thread. Calls on different catalog handles may run at once.
 */
#ifndef LARDER_TRAINING_H
#define LARDER_TRAINING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/catalog.h"
#include "larder/online.h"
#include "larder/parquet.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* File formats of entity files and outputs. */
typedef enum lr_training_format {
    LR_TRAINING_AUTO = 0, /* by extension: .csv (also .csv.gz, .csv.zst) or .parquet */
    LR_TRAINING_CSV = 1,
    LR_TRAINING_PARQUET = 2,
} lr_training_format;

/* Parses "csv" or "parquet". Errors: LR_EINVAL. */
lr_status lr_training_format_parse(const char *s, lr_training_format *out, lr_error *err);

/* max_age_us values besides a positive duration. */
#define LR_TRAINING_MAX_AGE_TTL 0    /* the group's online TTL; no limit when it has none */
#define LR_TRAINING_MAX_AGE_NONE (-1) /* no limit, whatever the TTL */

/* The features wanted from one feature group. */
typedef struct lr_training_features {
    const char *group;           /* feature group name */
    const char *const *features; /* names, in output order; NULL: every feature but the
                                    record identifier, in definition order */
    uint32_t n_features;
    /*
     * A record of event time e is used for an entity row at time t only
     * when t - e < max age (so a max age acts as a TTL that started at e).
     * LR_TRAINING_MAX_AGE_TTL, LR_TRAINING_MAX_AGE_NONE, or microseconds.
     */
    int64_t max_age_us;
} lr_training_features;

/* Progress: `phase` is "entities", "features", "join" or "output". */
typedef struct lr_training_progress {
    const char *phase;
    uint64_t done;  /* rows (entities, features, output) or buckets (join) so far */
    uint64_t total; /* 0 when unknown */
    int64_t elapsed_us;
} lr_training_progress;

/* Called from the calling thread only, a few times a second at most. */
typedef void (*lr_training_progress_fn)(void *ctx, const lr_training_progress *p);

/* Resources every call takes. */
typedef struct lr_training_resources {
    size_t memory_max;    /* bytes for data held in memory: 2 GiB (at least 1 MiB) */
    uint32_t threads;     /* worker threads: 0 means the number of online CPUs */
    const char *temp_dir; /* spill files; NULL: $TMPDIR, else /tmp */
    uint32_t buckets;     /* hash partitions, a power of two up to 65536; 0: chosen from
                             the input's size (tests set it to force splits) */
    lr_training_progress_fn progress;
    void *progress_ctx;
} lr_training_resources;

/* What a call did. */
typedef struct lr_training_stats {
    uint64_t entity_rows;   /* training sets: rows of the entity file */
    uint64_t feature_rows;  /* offline rows read after pruning and --as-of */
    uint64_t output_rows;   /* rows written (training set, export) */
    uint64_t matches;       /* training sets: (entity row, group) pairs given a record */
    uint64_t spilled_bytes; /* bytes written to temporary files */
    uint32_t buckets;       /* hash partitions of the work */
    uint32_t threads;
    int64_t elapsed_us;
} lr_training_stats;

typedef struct lr_training_set_options {
    const char *entities;               /* entity file (CSV or Parquet; must be seekable) */
    lr_training_format entities_format; /* AUTO */
    const char *entity_id;              /* its column holding record identifiers */
    const char *timestamp;              /* its column holding the rows' times */
    const lr_training_features *groups; /* at least one, each group at most once */
    uint32_t n_groups;
    int64_t as_of_us;                   /* only rows with write_time <= this; INT64_MAX: all */
    const char *out;                    /* output file, replaced atomically */
    lr_training_format out_format;      /* AUTO */
    lr_pq_codec codec;                  /* Parquet output: SNAPPY */
    lr_training_resources res;
} lr_training_set_options;

/* Fills the defaults shown (no entities, groups or output). */
void lr_training_set_options_init(lr_training_set_options *opt);

/*
 * Builds a point-in-time training set (docs/training-sets.md).
 *
 * Output columns: the entity file's columns in order, then each group's
 * features in the order asked. A feature keeps its name unless the name is
 * taken by an entity column or by a feature of another group in the same
 * output; then it is named "<group>__<feature>" (in every group that has
 * it). CSV entity columns are strings; Parquet entity columns keep their
 * types (INT96 becomes TIMESTAMP micros; JSON and ENUM become strings).
 * Features have their offline types (bigint, double, string, lists).
 *
 * The entity identifier may be a string or an integer column; it matches a
 * group whose identifier is Integral when it reads as the same 64-bit
 * integer, and a String identifier when the bytes are equal. The timestamp
 * column may be a Parquet TIMESTAMP (any unit), INT96 or DATE, epoch seconds
 * (numbers), or text: ISO-8601 "yyyy-MM-ddTHH:mm:ss[.f]Z" (also with a space
 * for the 'T', without the 'Z', or "+00:00"), a date "yyyy-MM-dd", or epoch
 * seconds. A row whose identifier or timestamp is null or empty gets nulls.
 *
 * `cat` is used by the calling thread only. *stats may be NULL.
 * Errors: LR_EINVAL (bad options; a column that is not in the entity file;
 * an unreadable timestamp, with its line or row; an entity column type the
 * output cannot hold), LR_ENOTFOUND (a group, or a feature of it),
 * LR_EIO (files; the message names them), LR_ECORRUPT (an unreadable
 * Parquet file), LR_ELIMIT (one identifier's rows alone exceed the memory
 * budget), the catalog's errors, LR_ENOMEM.
 */
lr_status lr_training_set_build(lr_catalog *cat, const lr_training_set_options *opt,
                                lr_training_stats *stats, lr_error *err);

typedef struct lr_training_export_options {
    const char *group;
    const char *const *features; /* NULL: every feature, in definition order */
    uint32_t n_features;
    int64_t start_us, end_us;    /* event times taken into account: [start, end) (all) */
    int64_t as_of_us;            /* only rows with write_time <= this (INT64_MAX: all) */
    const char *out;             /* replaced atomically */
    lr_training_format out_format;
    lr_pq_codec codec;
    lr_training_resources res;
} lr_training_export_options;

void lr_training_export_options_init(lr_training_export_options *opt);

/*
 * Writes the latest record of every identifier of `group`: per identifier
 * the resolved row with the latest event time among the rows in range (the
 * duplicate with the latest api_invocation_time, then write_time); an
 * identifier whose latest row is a delete marker is left out. No TTL
 * applies. Rows are ordered by partition of the identifier's hash, then by
 * identifier bytes: deterministic for the same data, not sorted.
 * Errors: as lr_training_set_build.
 */
lr_status lr_training_export(lr_catalog *cat, const lr_training_export_options *opt,
                             lr_training_stats *stats, lr_error *err);

typedef struct lr_training_materialize_options {
    const char *group;
    int64_t start_us, end_us; /* event times taken into account: [start, end) (all) */
    int64_t as_of_us;         /* only rows with write_time <= this (INT64_MAX: all) */
    lr_training_resources res;
} lr_training_materialize_options;

void lr_training_materialize_options_init(lr_training_materialize_options *opt);

typedef struct lr_training_materialize_stats {
    uint64_t feature_rows; /* offline rows read */
    uint64_t ids;          /* identifiers with a latest row */
    uint64_t written;      /* puts and deletes that changed the online store */
    uint64_t unchanged;    /* writes the online store's event-time rule refused */
    uint64_t deletes;      /* identifiers whose latest row is a delete marker */
    uint64_t failed;       /* writes the online store rejected (see the log) */
    uint64_t spilled_bytes;
    int64_t elapsed_us;
} lr_training_materialize_stats;

/*
 * Loads the online store from the offline store: for every identifier of
 * `group`, its latest resolved row in range (as lr_training_export) is
 * written with lr_online_write_batch(): a put of the whole record with the
 * group's TTL, or, when the latest row is a delete marker, a soft delete at
 * its event time. The online store's rule decides what stays: a record
 * already there with a newer event time is kept. Values are written back
 * as text (Fractional values in the shortest form that reads back as the
 * same double). The group must have an online store.
 * Errors: as lr_training_set_build, LR_EINVAL (no online store), and the
 * batch errors of lr_online_write_batch(). *stats may be NULL.
 */
lr_status lr_training_materialize(lr_catalog *cat, lr_online *online,
                                  const lr_training_materialize_options *opt,
                                  lr_training_materialize_stats *stats, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
