/*
 * catalog.h - the catalog: feature groups, feature metadata (and, in later
 * parts, partitions, offline files and jobs), behind one interface with
 * backends (SQLite embedded; PostgreSQL shared, later).
 *
 * Callers use only the lr_catalog_* functions below. A backend is a table of
 * operations plus its context (src/catalog/catalog_internal.h), chosen by the
 * URI given to lr_catalog_open(), so a PostgreSQL backend can follow without
 * changing callers. Anything not declared here is not API.
 *
 * Threading: a catalog handle may be used from one thread at a time; open one
 * per thread (connections are cheap). Several processes may open one data
 * directory at once: writes are serialised by the backend (SQLite: WAL mode,
 * BEGIN IMMEDIATE, a 10 s busy timeout), readers never block writers, and
 * LR_EBUSY reaches a caller only when a lock stays held past the timeout.
 *
 * Names are case-sensitive ("Orders" and "orders" are two feature groups), as
 * in SageMaker. Functions take feature-group names, not ARNs: resolve a
 * reference with lr_fg_name_from_ref() first. docs/catalog.md describes the
 * tables, the migration procedure and the concurrency model.
 */
#ifndef LARDER_CATALOG_H
#define LARDER_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/fg.h"
#include "larder/status.h"
#include "larder/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_catalog lr_catalog;

/*
 * Opens (creating and migrating as needed) a catalog.
 *
 * `uri` is one of:
 *   - a data directory: the SQLite file is `<dir>/catalog.db`; the directory
 *     (and missing parents) is created when absent;
 *   - "sqlite:PATH": an explicit SQLite file (its directory must exist); the
 *     data directory is then the directory holding PATH;
 *   - "postgresql://..." or "postgres://...": the shared backend, which this
 *     build does not have yet (LR_EUNSUPPORTED).
 * The data directory is where relative offline-store paths are resolved
 * (lr_catalog_fg_create). `settings` (borrowed, copied) gives the region and
 * account for ARNs and the offline layout; NULL means lr_settings_from_env().
 *
 * On success *out is a new handle; close it with lr_catalog_close().
 * Errors: LR_EINVAL (empty or over-long URI), LR_EUNSUPPORTED, LR_EIO (the
 * directory or file cannot be created or opened), LR_ECORRUPT (not a
 * database, or a schema version newer than this build), LR_EBUSY (locked
 * past the busy timeout), LR_EBACKEND (any other backend error, with its
 * text), LR_ENOMEM.
 */
lr_status lr_catalog_open(const char *uri, const lr_settings *settings, lr_catalog **out,
                          lr_error *err);

/* Closes the handle and frees it. NULL is fine. */
void lr_catalog_close(lr_catalog *cat);

/*
 * The catalog schema version this build creates and migrates stores to.
 * Opening a store whose version is lower migrates it; higher is refused.
 */
int lr_catalog_schema_version(void);

/*
 * Creates a feature group from a validated definition (lr_fg_def_parse()).
 * Assigns and stores:
 *   - the ARN (lr_fg_arn_format() with the handle's settings);
 *   - the creation time (now, microseconds), last-modified = creation;
 *   - status Created; offline status Active when def->has_offline_config,
 *     else Disabled;
 *   - ResolvedOutputS3Uri, when an offline store is configured:
 *     `<root>/<account>/sagemaker/<region>/offline-store/<name>-<creation
 *     epoch seconds>/data`, where <root> is the S3Uri without trailing '/'.
 *     URIs with a scheme (s3://, file://) are kept as given; an absolute path
 *     is kept; a relative path is resolved against the data directory; no
 *     S3Uri means `<data dir>/offline`.
 * and one feature-metadata entry per feature (no description, no parameters).
 * On success *out (when `out` is not NULL) is the stored definition, which
 * the caller frees with lr_fg_def_free().
 * Errors: LR_EINVAL (def is NULL or has an invalid name), LR_EEXIST
 * ("Resource Already Exists: FeatureGroup with name <name> already exists.
 * Choose a different name."), LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_fg_create(lr_catalog *cat, const lr_fg_def *def, lr_fg_def **out,
                               lr_error *err);

/*
 * Looks up a feature group by its exact name (not an ARN). On success *out is
 * the stored definition with the catalog-assigned fields; free it with
 * lr_fg_def_free(). Errors: LR_ENOTFOUND ("Resource Not Found: Amazon
 * SageMaker can't find a FeatureGroup with name <name>"), LR_ECORRUPT (the
 * stored definition does not parse), LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_fg_get(lr_catalog *cat, const char *name, lr_fg_def **out, lr_error *err);

/*
 * Replaces the stored definition of def->name, typically with the result of
 * lr_fg_def_add_features() or lr_fg_def_set_ttl() applied to a definition
 * from lr_catalog_fg_get(). The ARN, creation time and ResolvedOutputS3Uri
 * are kept from the store; the last-modified time becomes now (strictly
 * later than before); def->status / def->offline_status replace the stored
 * ones when non-zero. Added features get feature-metadata entries created at
 * the update time. Features can only be added: every stored feature must
 * remain, in the same position with the same type.
 *
 * Optimistic concurrency: when def->last_modified_time_us is non-zero it must
 * equal the stored one, so two concurrent read-modify-write updates cannot
 * silently lose one another; the loser gets LR_ECONFLICT and should read the
 * group again and retry.
 * Errors: LR_ENOTFOUND, LR_EINVAL (a stored feature removed or changed, or
 * the identifier / event-time feature changed), LR_ECONFLICT, LR_ECORRUPT,
 * LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_fg_update(lr_catalog *cat, const lr_fg_def *def, lr_error *err);

/*
 * Deletes the feature group and its feature metadata (descriptions and
 * parameters). Offline data and its file records stay (SageMaker keeps the
 * offline store and its table). Errors: LR_ENOTFOUND (message as for
 * lr_catalog_fg_get), LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_fg_delete(lr_catalog *cat, const char *name, lr_error *err);

typedef enum lr_fg_sort_by {
    LR_SORT_CREATION_TIME = 0, /* SageMaker's default */
    LR_SORT_NAME,
    LR_SORT_STATUS,
    LR_SORT_OFFLINE_STATUS,
} lr_fg_sort_by;

/*
 * ListFeatureGroups. Initialise with lr_fg_list_query_init(): a zeroed struct
 * has created_before_us = 0, which matches nothing.
 */
typedef struct lr_fg_list_query {
    const char *name_contains; /* NULL: any; 1..64 bytes, case-insensitive substring */
    int status_equals;         /* lr_fg_status, 0: any */
    int offline_status_equals; /* lr_offline_status, 0: any */
    int64_t created_after_us;  /* INT64_MIN: no bound; exclusive */
    int64_t created_before_us; /* INT64_MAX: no bound; exclusive */
    lr_fg_sort_by sort_by;     /* ties are broken by name, in the same order */
    bool ascending;            /* SageMaker's default order is Descending */
    uint32_t max_results;      /* 1..100; 0: 10 (the API layer rejects an explicit 0) */
    const char *next_token;    /* from a previous page of the same query, or NULL */
} lr_fg_list_query;

/* Fills a query with SageMaker's defaults (any name, any status, no time
 * bounds, CreationTime Descending, 10 results, first page). */
void lr_fg_list_query_init(lr_fg_list_query *q);

typedef struct lr_fg_summary {
    char name[LR_FG_NAME_MAX + 1];
    char arn[256];
    int64_t creation_time_us;
    lr_fg_status status;
    lr_offline_status offline_status;
} lr_fg_summary;

typedef struct lr_fg_list {
    lr_fg_summary *items; /* n entries, owned by the list */
    uint32_t n;
    char *next_token; /* owned by the list; NULL on the last page */
} lr_fg_list;

/*
 * One page of feature groups matching `q`. Pagination is keyset-based: the
 * opaque next token encodes the sort key and name of the last item and a
 * hash of the query, so a page never repeats or skips a group that existed
 * when the first page was read, however many groups are created or deleted
 * in between (groups created meanwhile appear if they sort after the
 * position reached). The page size may change from page to page.
 * On success *out is filled (free with lr_fg_list_free()); on error it is
 * empty. Errors: LR_EINVAL (max_results over 100, name_contains empty or
 * over 64 bytes, an unknown status, "Invalid pagination token" for a token
 * that is malformed or belongs to another query), LR_EBUSY, LR_EBACKEND,
 * LR_ENOMEM.
 */
lr_status lr_catalog_fg_list(lr_catalog *cat, const lr_fg_list_query *q, lr_fg_list *out,
                             lr_error *err);

/* Frees the items and the token; the list is empty afterwards. NULL is fine. */
void lr_fg_list_free(lr_fg_list *l);

/* Limits of UpdateFeatureMetadata (SageMaker's, plus Larder's total cap). */
#define LR_FEATURE_PARAM_KEY_MAX    255
#define LR_FEATURE_PARAM_VALUE_MAX  255
#define LR_FEATURE_PARAMS_TOTAL_MAX 1000

typedef struct lr_feature_param {
    char *key;
    char *value;
} lr_feature_param;

typedef struct lr_feature_metadata {
    char *fg_name;
    char *fg_arn;
    char *feature_name;
    lr_feature_type type;
    int64_t creation_time_us;
    int64_t last_modified_time_us;
    char *description;        /* NULL when never set */
    lr_feature_param *params; /* sorted by key */
    uint32_t n_params;
} lr_feature_metadata;

/*
 * DescribeFeatureMetadata. On success *out is filled; every string in it is
 * owned by it until lr_feature_metadata_free(). On error *out is zeroed.
 * Errors: LR_ENOTFOUND when the group or the feature does not exist (the
 * message says which), LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_feature_metadata_get(lr_catalog *cat, const char *fg, const char *feature,
                                          lr_feature_metadata *out, lr_error *err);

/* Frees what lr_catalog_feature_metadata_get() filled in and zeroes *m. NULL is fine. */
void lr_feature_metadata_free(lr_feature_metadata *m);

/*
 * UpdateFeatureMetadata, applied atomically:
 *   - `description`: NULL leaves it unchanged; otherwise valid UTF-8 of at
 *     most 255 characters ("" is stored as an empty description);
 *   - `additions` (at most 25, borrowed): add or overwrite parameters; keys
 *     1..255 characters, values 0..255, printable UTF-8 (no control
 *     characters); a key may appear once;
 *   - `removals` (at most 25, borrowed): keys to remove (absent keys are
 *     ignored); a key may not be both added and removed in one call.
 * The feature's last-modified time becomes now. A feature holds at most
 * LR_FEATURE_PARAMS_TOTAL_MAX (1000) parameters: SageMaker documents no
 * total, Larder caps it so a description stays a bounded read.
 * Errors: LR_EINVAL (a limit above), LR_ENOTFOUND (group or feature, the
 * message says which), LR_ELIMIT (over 1000 parameters; nothing changed),
 * LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_feature_metadata_update(lr_catalog *cat, const char *fg, const char *feature,
                                             const char *description,
                                             const lr_feature_param *additions, uint32_t n_add,
                                             const char *const *removals, uint32_t n_remove,
                                             lr_error *err);

/* ---- Offline store: live files, partitions, log checkpoints ----
 *
 * A file of the offline store belongs to a generation of a feature group:
 * (fg_name, fg_created_us), so files of a deleted group never mix with those
 * of a new group of the same name. Files are identified by (root, key): the
 * group's offline root (its ResolvedOutputS3Uri) and the object key below
 * it. Only registered files are live; docs/offline-store.md explains the
 * protocol (announce, write, commit) that these calls implement.
 */

typedef struct lr_offline_file {
    const char *fg_name;
    int64_t fg_created_us;
    const char *partition;      /* "year=YYYY/month=MM/day=DD/hour=HH" */
    int64_t partition_start_us; /* start of that hour */
    const char *root;
    const char *key;
    int64_t rows;
    int64_t bytes;
    int64_t min_event_us;
    int64_t max_event_us;
    const char *log_id;     /* the log the rows came from; NULL otherwise */
    int64_t log_first_seq;  /* the log range the commit covered (0 without a log) */
    int64_t log_last_seq;
    int64_t created_us;     /* set by the catalog: registration (or announcement) time */
} lr_offline_file;

typedef struct lr_offline_file_list {
    lr_offline_file *items; /* strings owned by the list */
    size_t n;
    struct lr_arena *arena;
} lr_offline_file_list;

/* Frees a list filled by the calls below; the list is empty afterwards. NULL is fine. */
void lr_offline_file_list_free(lr_offline_file_list *l);

/*
 * Announces files a flush is about to write (fg_name, root, key, log_id of
 * each; other fields ignored), before writing them, so that garbage
 * collection can remove them should the flush never commit. Announcing a
 * file twice is LR_EEXIST. Errors: LR_EINVAL, LR_EEXIST, LR_EBUSY,
 * LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_announce(lr_catalog *cat, const lr_offline_file *files, size_t n,
                                      lr_error *err);

/*
 * Registers `n` files in one transaction.
 *
 * With log_id: the files come from log `log_id` entries (expected_seq,
 * new_seq]. The log's checkpoint must be expected_seq (0 when it has none)
 * and becomes new_seq; every file must have been announced, and its
 * announcement is removed. Otherwise nothing changes and the result is
 * LR_ECONFLICT: another flusher registered this range, or garbage
 * collection removed an announcement (its file may be gone), so the caller
 * must discard its files and re-read the checkpoint. n may be 0 (only the
 * checkpoint moves).
 *
 * Without log_id (repair, other writers): the files are registered as they
 * are; a file already registered is LR_EEXIST and nothing changes.
 *
 * created_us of each file is set to now. Errors: LR_EINVAL, LR_ECONFLICT,
 * LR_EEXIST, LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_commit(lr_catalog *cat, const char *log_id, int64_t expected_seq,
                                    int64_t new_seq, const lr_offline_file *files, size_t n,
                                    lr_error *err);

/* The checkpoint of log `log_id` (0 when it has none). Errors: LR_EBUSY, LR_EBACKEND. */
lr_status lr_catalog_offline_checkpoint(lr_catalog *cat, const char *log_id, int64_t *seq,
                                        lr_error *err);

/*
 * Forgets log `log_id`'s checkpoint, once the log itself is gone. Absent is
 * fine. Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_offline_checkpoint_delete(lr_catalog *cat, const char *log_id,
                                               lr_error *err);

/*
 * Live files of a group generation whose event times overlap [start_us,
 * end_us) (end exclusive; INT64_MIN / INT64_MAX for no bound), ordered by
 * partition then key. *out is filled (lr_offline_file_list_free()).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_files(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                   int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                                   lr_error *err);

/* True (in *found) when (root, key) is a live file. Errors: LR_EBUSY, LR_EBACKEND. */
lr_status lr_catalog_offline_file_exists(lr_catalog *cat, const char *root, const char *key,
                                         bool *found, lr_error *err);

/*
 * Announcements older than `before_us` (fg_name, root, key, log_id,
 * created_us filled), oldest first, at most `max` (0: all).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_announced(lr_catalog *cat, int64_t before_us, size_t max,
                                       lr_offline_file_list *out, lr_error *err);

/*
 * Withdraws the announcement of (root, key) if it is still there; *removed
 * (may be NULL) says whether it was. A flush that then tries to commit that
 * file gets LR_ECONFLICT, so a file is deleted only after this succeeded.
 * Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_offline_unannounce(lr_catalog *cat, const char *root, const char *key,
                                        bool *removed, lr_error *err);

/* One partition of a group generation with live files. */
typedef struct lr_offline_partition_info {
    char partition[40]; /* "year=YYYY/month=MM/day=DD/hour=HH" */
    int64_t start_us;
    int64_t files;
    int64_t rows;
    int64_t bytes;
    int64_t min_event_us;
    int64_t max_event_us;
    int64_t updated_us; /* when a file was last registered in it */
} lr_offline_partition_info;

/*
 * The partitions of a group generation with at least one live file, in
 * time order. *out: free() (NULL when *n is 0).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_partitions(lr_catalog *cat, const char *fg_name,
                                        int64_t fg_created_us, lr_offline_partition_info **out,
                                        size_t *n, lr_error *err);

/* ---- Compaction: jobs, leases, the swap, retired files ----
 *
 * Compaction (include/larder/compact.h, docs/compaction.md) rewrites the
 * live files of a partition into few large sorted ones. The catalog holds
 * its state so that a run killed at any instant loses and duplicates
 * nothing: a job row per run, a lease per source partition being compacted,
 * the files a job has written but not yet swapped in (announced, so that
 * repair never adopts them), the swap itself (one transaction), the files
 * swapped out and waiting for their grace period, the state each partition
 * was last compacted in (for incremental mode), and the live files of
 * compacted copies (`compact-offline-store`). The policy (who is alive,
 * what to compact) is the caller's; these calls store and check atomically.
 */

/* Status of a job, and of one partition of a job. */
typedef enum lr_job_status {
    LR_JOB_IN_PROGRESS = 1, /* "InProgress" */
    LR_JOB_COMPLETED = 2,   /* "Completed" */
    LR_JOB_FAILED = 3,      /* "Failed" */
    LR_JOB_PENDING = 4,     /* "Pending": a partition not reached yet */
} lr_job_status;

/* "InProgress", "Completed", "Failed", "Pending"; "Unknown" otherwise. */
const char *lr_job_status_name(lr_job_status s);
/* Parses the names above. Errors: LR_EINVAL. */
lr_status lr_job_status_parse(const char *s, lr_job_status *out, lr_error *err);

/*
 * Who runs a job or holds a lease: a process on a machine. Two holders are
 * the same process when every field is equal; boot_id (the kernel's
 * /proc/sys/kernel/random/boot_id) tells whether a holder ran on this
 * machine since its last boot, start_ticks (field 22 of /proc/PID/stat)
 * tells a live process from an unrelated one that reused its pid.
 */
#define LR_JOB_HOST_MAX 64
typedef struct lr_job_holder {
    char host[LR_JOB_HOST_MAX + 1];
    char boot_id[40];
    int64_t pid;
    int64_t start_ticks;
} lr_job_holder;

/*
 * A liveness test supplied by the caller: false only when the holder is
 * known to be dead (a process of this machine that no longer runs). Called
 * inside a catalog transaction: it must be quick and must not use the
 * catalog.
 */
typedef bool (*lr_job_holder_alive_fn)(void *ctx, const lr_job_holder *h);

/* A compaction job (one run). Strings are owned by the list holding it. */
typedef struct lr_compact_job {
    int64_t id;
    const char *fg_name;
    int64_t fg_created_us;
    const char *mode;           /* "incremental", "day", "full" */
    const char *date;           /* day mode: "YYYY-MM-DD"; NULL otherwise */
    const char *partition_mode; /* "hour", "day" */
    const char *target;         /* the compacted copy's root; NULL: in place */
    bool dedup;
    int64_t grace_us;
    int64_t target_file_bytes;
    lr_job_status status;
    const char *error;          /* Failed: why, naming partitions and paths; else NULL */
    lr_job_holder holder;
    int64_t start_us;
    int64_t end_us;             /* 0 while InProgress */
    int64_t expires_us;         /* the holder renews this while it runs */
    int64_t partitions;         /* planned */
    int64_t partitions_done;    /* swapped in */
    int64_t partitions_failed;
    int64_t files_in, files_out;
    int64_t rows_in, rows_out, rows_dropped;
    int64_t bytes_in, bytes_out;
} lr_compact_job;

/* One partition of a job: its outcome and counts. */
typedef struct lr_compact_job_partition {
    int64_t job_id;
    const char *partition;      /* the output partition: year=/month=/day=[/hour=] */
    lr_job_status status;       /* Pending, Completed, Failed */
    const char *error;          /* Failed: the reason, with the path when a file is at fault */
    int64_t files_in, files_out;
    int64_t rows_in, rows_out, rows_dropped;
    int64_t bytes_in, bytes_out;
    int64_t end_us;             /* when it completed or failed; 0 while Pending */
} lr_compact_job_partition;

typedef struct lr_compact_job_list {
    lr_compact_job *items;            /* newest first */
    size_t n;
    lr_compact_job_partition *parts;  /* with_partitions: the partitions of every item, by job */
    size_t n_parts;
    struct lr_arena *arena;           /* owns the strings */
} lr_compact_job_list;

/* Frees a list; it is empty afterwards. NULL is fine. */
void lr_compact_job_list_free(lr_compact_job_list *l);

/*
 * Records a new job, InProgress, with `n` Pending partitions (borrowed;
 * distinct). Uses fg_name, fg_created_us, mode, date, partition_mode,
 * target, dedup, grace_us, target_file_bytes, holder and expires_us of
 * `job`; sets job->id and job->start_us (now). Errors: LR_EINVAL, LR_EBUSY,
 * LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_job_create(lr_catalog *cat, lr_compact_job *job,
                                const char *const *partitions, size_t n, lr_error *err);

/*
 * Renews a running job: sets its expiry and that of every lease it holds to
 * `expires_us`, if it is still InProgress under `holder`. *owned (may be
 * NULL) says whether it was; when false the job was declared dead by
 * another process and the caller must stop. Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_job_heartbeat(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                   int64_t expires_us, bool *owned, lr_error *err);

/*
 * Marks partition p->partition of job p->job_id Failed with p->error and
 * p's counts, if the job is still InProgress; the job's failure count goes
 * up by one. Errors: LR_ENOTFOUND (no such partition), LR_ECONFLICT (the
 * job is no longer InProgress), LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_job_partition_fail(lr_catalog *cat, const lr_compact_job_partition *p,
                                        lr_error *err);

/*
 * Ends a job run by `holder`: status Completed or Failed, `error` (may be
 * NULL), end time now. Only an InProgress job of that holder changes;
 * otherwise LR_ECONFLICT (it was declared dead meanwhile) and nothing
 * changes. Errors: LR_EINVAL (status), LR_ENOTFOUND, LR_ECONFLICT,
 * LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_job_finish(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                lr_job_status status, const char *error, lr_error *err);

/*
 * Declares a job dead: an InProgress job of exactly `holder` becomes Failed
 * with `reason`, its Pending partitions Failed too, and its leases are
 * released. *changed (may be NULL) says whether it was still InProgress.
 * Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_job_fail_dead(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                   const char *reason, bool *changed, lr_error *err);

typedef struct lr_compact_job_query {
    const char *fg_name;   /* NULL: every group */
    lr_job_status status;  /* 0: any */
    int64_t before_id;     /* only ids below this (paging newest first); 0: no bound */
    uint32_t max_results;  /* 1..1000; 0: 100 */
    bool with_partitions;  /* also fill parts */
} lr_compact_job_query;

/*
 * Jobs matching `q`, newest first. *out is filled (lr_compact_job_list_free()).
 * Errors: LR_EINVAL (max_results over 1000), LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_jobs_list(lr_catalog *cat, const lr_compact_job_query *q,
                               lr_compact_job_list *out, lr_error *err);

/*
 * One job with its partitions (out->n == 1). Errors: LR_ENOTFOUND ("no job
 * N"), LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_job_get(lr_catalog *cat, int64_t job_id, lr_compact_job_list *out,
                             lr_error *err);

/*
 * Takes the leases of `n` source partitions (hour partitions, borrowed) of
 * a group generation for job `job_id`, all or none, in one transaction. A
 * lease held by another job is taken over only when that job is no longer
 * InProgress, its lease expired (expires_us < now), or `alive` (may be NULL)
 * says its holder is dead; otherwise the result is LR_EBUSY, naming the
 * partition, the job and its holder, and nothing changes. The leases expire
 * at `expires_us` unless renewed (lr_catalog_job_heartbeat). Errors:
 * LR_EINVAL, LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_lease_acquire(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                   const char *const *partitions, size_t n, int64_t job_id,
                                   const lr_job_holder *holder, int64_t expires_us,
                                   lr_job_holder_alive_fn alive, void *alive_ctx, lr_error *err);

/*
 * Releases job `job_id`'s leases on `n` partitions (n == 0: all of them).
 * Leases it does not hold are left alone. Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_lease_release(lr_catalog *cat, int64_t job_id,
                                   const char *const *partitions, size_t n, lr_error *err);

/*
 * Files a job is about to write (root, key, fg_name of each): announced in
 * the offline store's sense (repair never adopts them, its garbage
 * collection may remove them after its grace) and recorded as the job's
 * pending output, in one durable transaction, before they are written.
 * Errors: LR_EINVAL, LR_EEXIST, LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_compact_pending_add(lr_catalog *cat, int64_t job_id,
                                         const lr_offline_file *files, size_t n, lr_error *err);

/*
 * The pending output (root, key, fg_name, created_us; log_id NULL) of job
 * `job_id`, or with job_id 0 of every job that is no longer InProgress.
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_compact_pending(lr_catalog *cat, int64_t job_id, lr_offline_file_list *out,
                                     lr_error *err);

/*
 * Forgets a pending output whose file has been deleted: the pending row and
 * the announcement go in one transaction. Absent is fine.
 * Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_compact_pending_remove(lr_catalog *cat, const char *root, const char *key,
                                            lr_error *err);

/* What the last compaction of a source partition covered, per destination. */
typedef struct lr_compact_state {
    char partition[40];   /* the source hour partition */
    int64_t files;        /* live source files at the swap (in place: the outputs) */
    uint64_t fingerprint; /* order-independent hash of those files' root/key */
    int64_t job_id;
    int64_t compacted_us;
} lr_compact_state;

/*
 * The swap: one transaction that replaces a unit's old files by its new
 * ones. It checks that job_id is InProgress under `holder` and holds the
 * lease of every partition in `leases`; then
 *   - in place (copy_root NULL): removes `old_files` (root, key) from the
 *     live files, each of which must be live; registers `new_files` (full
 *     lr_offline_file entries; created_us set to now), each of which must be
 *     the job's pending output (the pending row and announcement go);
 *   - copy (copy_root set): the same against the copy's live files instead;
 * records every removed file as retired, to be deleted once
 * `delete_after_us` has passed, and announced meanwhile (so repair never
 * adopts it back); records `states` (destination `dest`: ""
 * in place, else the copy root); marks the job's partition result->partition
 * Completed with result's counts and adds them to the job's totals.
 * Any check failing is LR_ECONFLICT and nothing changes. Durable on return.
 * Errors: LR_EINVAL, LR_ECONFLICT, LR_EEXIST, LR_EBUSY, LR_EBACKEND,
 * LR_ENOMEM.
 */
typedef struct lr_compact_swap {
    int64_t job_id;
    const lr_job_holder *holder;
    const char *fg_name;
    int64_t fg_created_us;
    const char *const *leases;
    size_t n_leases;
    const char *copy_root;
    const lr_offline_file *old_files;
    size_t n_old;
    const lr_offline_file *new_files;
    size_t n_new;
    int64_t delete_after_us;
    const char *dest;
    const lr_compact_state *states;
    size_t n_states;
    const lr_compact_job_partition *result;
} lr_compact_swap;

lr_status lr_catalog_compact_swap(lr_catalog *cat, const lr_compact_swap *sw, lr_error *err);

/*
 * Live files of one partition (by its exact name) of a group generation,
 * ordered by key: in place (copy_root NULL) the offline store's, else those
 * of the copy at copy_root whose partition is `partition` or lies below it
 * ("year=Y/month=M/day=D" also matches its hours). Errors: LR_EINVAL,
 * LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_compact_partition_files(lr_catalog *cat, const char *copy_root,
                                             const char *fg_name, int64_t fg_created_us,
                                             const char *partition, lr_offline_file_list *out,
                                             lr_error *err);

/*
 * The recorded states of a group generation's partitions for destination
 * `dest` ("" in place). *out: free() (NULL when *n is 0).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_compact_states(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                    const char *dest, lr_compact_state **out, size_t *n,
                                    lr_error *err);

/*
 * Retired files (root, key, fg_name; created_us = the time after which they
 * may be deleted) whose grace ended before `now_us`, at most `max` (0: all).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_compact_retired_due(lr_catalog *cat, int64_t now_us, size_t max,
                                         lr_offline_file_list *out, lr_error *err);

/*
 * Forgets `n` retired files (root and key of each) once they are deleted,
 * and withdraws their announcements, in one transaction. Absent ones are
 * fine. Errors: LR_EINVAL, LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_compact_retired_remove(lr_catalog *cat, const lr_offline_file *files,
                                            size_t n, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
