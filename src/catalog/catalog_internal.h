/*
 * catalog_internal.h - the catalog's backend interface and the helpers that
 * every backend shares. Not API: only src/catalog/ includes this.
 *
 * catalog.c owns the semantics that do not depend on storage (argument
 * validation, the fields assigned at creation, the current time), then calls
 * the backend through an lr__catalog_ops table. A backend owns storage,
 * atomicity and its schema; it receives fully validated arguments. Backends
 * never include one another.
 */
#ifndef LARDER_CATALOG_INTERNAL_H
#define LARDER_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "larder/catalog.h"

/* Longest token accepted; longer input is an invalid token. */
#define LR__FG_TOKEN_MAX 1024

/* The position after which a list page starts, decoded from a next token. */
typedef struct lr__fg_cursor {
    bool set;        /* false: first page */
    int64_t time_us; /* LR_SORT_CREATION_TIME */
    char status[32]; /* LR_SORT_STATUS / LR_SORT_OFFLINE_STATUS: the status name */
    char name[LR_FG_NAME_MAX + 1];
} lr__fg_cursor;

/*
 * A backend's operations. Every function receives validated arguments (see
 * the matching lr_catalog_* function for the contract and the errors).
 */
struct lr__catalog_compact_ops;

typedef struct lr__catalog_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(void *ctx);
    /* Stores `stored`, whose catalog-assigned fields are all set. */
    lr_status (*fg_create)(void *ctx, const lr_fg_def *stored, lr_error *err);
    lr_status (*fg_get)(void *ctx, const char *name, lr_fg_def **out, lr_error *err);
    /* Merges with lr__catalog_fg_merge_update() inside one write transaction. */
    lr_status (*fg_update)(void *ctx, const lr_fg_def *def, int64_t now_us, lr_error *err);
    lr_status (*fg_delete)(void *ctx, const char *name, lr_error *err);
    /* q->max_results is 1..100; the cursor is decoded and checked. */
    lr_status (*fg_list)(void *ctx, const lr_fg_list_query *q, const lr__fg_cursor *cur,
                         lr_fg_list *out, lr_error *err);
    lr_status (*fm_get)(void *ctx, const char *fg, const char *feature, lr_feature_metadata *out,
                        lr_error *err);
    lr_status (*fm_update)(void *ctx, const char *fg, const char *feature, const char *description,
                           const lr_feature_param *additions, uint32_t n_add,
                           const char *const *removals, uint32_t n_remove, int64_t now_us,
                           lr_error *err);
    /* Offline store (catalog_offline.c checks arguments; see catalog.h). */
    lr_status (*offline_announce)(void *ctx, const lr_offline_file *files, size_t n,
                                  int64_t now_us, lr_error *err);
    lr_status (*offline_commit)(void *ctx, const char *log_id, int64_t expected_seq,
                                int64_t new_seq, const lr_offline_file *files, size_t n,
                                int64_t now_us, lr_error *err);
    lr_status (*offline_checkpoint)(void *ctx, const char *log_id, int64_t *seq, lr_error *err);
    lr_status (*offline_checkpoint_delete)(void *ctx, const char *log_id, lr_error *err);
    lr_status (*offline_files)(void *ctx, const char *fg_name, int64_t fg_created_us,
                               int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                               lr_error *err);
    lr_status (*offline_file_exists)(void *ctx, const char *root, const char *key, bool *found,
                                     lr_error *err);
    lr_status (*offline_announced)(void *ctx, int64_t before_us, size_t max,
                                   lr_offline_file_list *out, lr_error *err);
    lr_status (*offline_unannounce)(void *ctx, const char *root, const char *key, bool *removed,
                                    lr_error *err);
    lr_status (*offline_partitions)(void *ctx, const char *fg_name, int64_t fg_created_us,
                                    lr_offline_partition_info **out, size_t *n, lr_error *err);
    /* Compaction (catalog_compact.c checks arguments; see catalog.h). */
    const struct lr__catalog_compact_ops *compact;
} lr__catalog_ops;

struct lr_catalog {
    const lr__catalog_ops *ops;
    void *ctx;
    lr_settings settings;
    char *data_dir; /* absolute, no trailing '/'; owned */
};

/* ---- SQLite backend (catalog_sqlite.c) ---- */

extern const lr__catalog_ops lr__catalog_sqlite_ops;

/* The number of migration steps the SQLite backend knows (= schema version). */
int lr__catalog_sqlite_schema_version(void);

/*
 * Opens `path` (created when absent), applies pragmas and migrations.
 * On success *ctx is the backend context for lr__catalog_sqlite_ops.
 */
lr_status lr__catalog_sqlite_open(const char *path, void **ctx, lr_error *err);

/* The connection of a SQLite backend context (for catalog_sqlite_offline.c). */
struct sqlite3 *lr__catalog_sqlite_db(void *ctx);

/* The offline-store operations of the SQLite backend (catalog_sqlite_offline.c). */
lr_status lr__sqlite_offline_announce(void *ctx, const lr_offline_file *files, size_t n,
                                      int64_t now_us, lr_error *err);
lr_status lr__sqlite_offline_commit(void *ctx, const char *log_id, int64_t expected_seq,
                                    int64_t new_seq, const lr_offline_file *files, size_t n,
                                    int64_t now_us, lr_error *err);
lr_status lr__sqlite_offline_checkpoint(void *ctx, const char *log_id, int64_t *seq,
                                        lr_error *err);
lr_status lr__sqlite_offline_checkpoint_delete(void *ctx, const char *log_id, lr_error *err);
lr_status lr__sqlite_offline_files(void *ctx, const char *fg_name, int64_t fg_created_us,
                                   int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                                   lr_error *err);
lr_status lr__sqlite_offline_file_exists(void *ctx, const char *root, const char *key,
                                         bool *found, lr_error *err);
lr_status lr__sqlite_offline_announced(void *ctx, int64_t before_us, size_t max,
                                       lr_offline_file_list *out, lr_error *err);
lr_status lr__sqlite_offline_unannounce(void *ctx, const char *root, const char *key,
                                        bool *removed, lr_error *err);
lr_status lr__sqlite_offline_partitions(void *ctx, const char *fg_name, int64_t fg_created_us,
                                        lr_offline_partition_info **out, size_t *n,
                                        lr_error *err);

/* ---- Shared helpers (catalog_common.c) ---- */

/* Messages shared by backends, SageMaker's wording. */
lr_status lr__catalog_err_fg_not_found(lr_error *err, const char *name);
lr_status lr__catalog_err_fg_exists(lr_error *err, const char *name);
lr_status lr__catalog_err_feature_not_found(lr_error *err, const char *fg, const char *feature);

/* Status names <-> enums; false for an unknown name or NULL. */
bool lr__fg_status_parse(const char *s, lr_fg_status *out);
bool lr__offline_status_parse(const char *s, lr_offline_status *out);
bool lr__feature_type_parse(const char *s, lr_feature_type *out);

/*
 * ResolvedOutputS3Uri for a group (see lr_catalog_fg_create), allocated in
 * `arena`. `s3uri` may be NULL (default `<data_dir>/offline`).
 */
lr_status lr__catalog_resolve_offline_uri(const char *data_dir, const lr_settings *s,
                                          const char *name, int64_t creation_us, const char *s3uri,
                                          struct lr_arena *arena, const char **out, lr_error *err);

/*
 * Builds the definition an update stores: a copy of `def` with the ARN,
 * creation time and ResolvedOutputS3Uri of `old`, last-modified
 * max(now_us, old's + 1), and the statuses of `def` where non-zero, else
 * `old`'s. Checks that features were only appended and that the optimistic
 * concurrency stamp matches. *out: free with lr_fg_def_free().
 */
lr_status lr__catalog_fg_merge_update(const lr_fg_def *old, const lr_fg_def *def, int64_t now_us,
                                      lr_fg_def **out, lr_error *err);

/* Next token for the page that ends with `last` under query `q`; *out: free(). */
lr_status lr__fg_token_encode(const lr_fg_list_query *q, const lr_fg_summary *last, char **out);

/* Decodes q->next_token (NULL: first page). LR_EINVAL "Invalid pagination token". */
lr_status lr__fg_token_decode(const lr_fg_list_query *q, lr__fg_cursor *cur, lr_error *err);

#endif
