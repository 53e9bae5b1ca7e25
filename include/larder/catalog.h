/*
 * catalog.h - the catalog: feature groups, feature metadata (and, in later
 * parts, partitions, offline files and jobs), behind one interface with
 * backends (SQLite embedded, PostgreSQL shared).
 *
 * Callers use only the lr_catalog_* functions below; a backend is an
 * lr_catalog_ops table plus its context, so a PostgreSQL backend can follow
 * without changing callers. A catalog handle may be used from one thread at a
 * time; open one per thread (SQLite and PostgreSQL connections are cheap).
 * Several processes may open one data directory at once (WAL mode, busy
 * timeout).
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
 * Opens (creating and migrating as needed) the catalog for a data directory.
 * `uri` is a directory path (SQLite file `<dir>/catalog.db`), or
 * "sqlite:PATH" for an explicit file. (PostgreSQL URIs "postgresql://..."
 * come with the shared backend.) `settings` gives region/account for ARNs.
 * Errors: LR_EIO/LR_EBACKEND with the backend's text, LR_ECORRUPT when the
 * schema version is newer than this build knows, LR_EUNSUPPORTED.
 */
lr_status lr_catalog_open(const char *uri, const lr_settings *settings, lr_catalog **out,
                          lr_error *err);
void lr_catalog_close(lr_catalog *cat);

/* The schema version this build writes, and the one found in the store. */
int lr_catalog_schema_version(void);

/*
 * Creates a feature group from a validated definition. Assigns the ARN,
 * creation time, status Created, offline status (Active when an offline
 * store is configured, else Disabled) and the ResolvedOutputS3Uri
 * (`<S3Uri>/<account>/sagemaker/<region>/offline-store/<name>-<epoch>/data`,
 * default S3Uri `<data dir>/offline` when none is given... see docs/catalog.md).
 * On success *out (may be NULL) is the stored definition (free it).
 * Errors: LR_EEXIST (ResourceInUse), LR_EBACKEND.
 */
lr_status lr_catalog_fg_create(lr_catalog *cat, const lr_fg_def *def, lr_fg_def **out,
                               lr_error *err);

/* Looks up by name (not ARN). LR_ENOTFOUND when absent. *out: free it. */
lr_status lr_catalog_fg_get(lr_catalog *cat, const char *name, lr_fg_def **out, lr_error *err);

/* Replaces the stored definition of def->name (after add-features / set-ttl). */
lr_status lr_catalog_fg_update(lr_catalog *cat, const lr_fg_def *def, lr_error *err);

/*
 * Deletes the feature group and its feature metadata. Offline data and its
 * file records stay (SageMaker keeps the offline store and its table).
 * LR_ENOTFOUND when absent.
 */
lr_status lr_catalog_fg_delete(lr_catalog *cat, const char *name, lr_error *err);

typedef enum lr_fg_sort_by {
    LR_SORT_CREATION_TIME = 0, /* SageMaker's default */
    LR_SORT_NAME,
    LR_SORT_STATUS,
    LR_SORT_OFFLINE_STATUS,
} lr_fg_sort_by;

typedef struct lr_fg_list_query {
    const char *name_contains;   /* NULL: any */
    int status_equals;           /* lr_fg_status, 0: any */
    int offline_status_equals;   /* lr_offline_status, 0: any */
    int64_t created_after_us;    /* INT64_MIN: no bound; exclusive */
    int64_t created_before_us;   /* INT64_MAX: no bound; exclusive */
    lr_fg_sort_by sort_by;
    bool ascending;              /* SageMaker's default order is Descending */
    uint32_t max_results;        /* 1..100; 0: 10 */
    const char *next_token;      /* from a previous page, or NULL */
} lr_fg_list_query;

/* Fills a query with SageMaker's defaults. */
void lr_fg_list_query_init(lr_fg_list_query *q);

typedef struct lr_fg_summary {
    char name[LR_FG_NAME_MAX + 1];
    char arn[256];
    int64_t creation_time_us;
    lr_fg_status status;
    lr_offline_status offline_status;
} lr_fg_summary;

typedef struct lr_fg_list {
    lr_fg_summary *items;
    uint32_t n;
    char *next_token; /* NULL on the last page */
} lr_fg_list;

/*
 * One page of feature groups. The next token is opaque and encodes the sort
 * key of the last item, so pages stay stable under concurrent creates.
 * A token that does not match the query gives LR_EINVAL.
 */
lr_status lr_catalog_fg_list(lr_catalog *cat, const lr_fg_list_query *q, lr_fg_list *out,
                             lr_error *err);
void lr_fg_list_free(lr_fg_list *l);

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
    char *description; /* NULL when unset */
    lr_feature_param *params;
    uint32_t n_params;
} lr_feature_metadata;

/* LR_ENOTFOUND when the group or the feature does not exist. Free with lr_feature_metadata_free. */
lr_status lr_catalog_feature_metadata_get(lr_catalog *cat, const char *fg, const char *feature,
                                          lr_feature_metadata *out, lr_error *err);
void lr_feature_metadata_free(lr_feature_metadata *m);

/*
 * UpdateFeatureMetadata: sets the description (NULL: unchanged; <=255),
 * adds/overwrites parameters and removes keys. At most 25 additions and 25
 * removals per call (LR_EINVAL otherwise); at most 25 parameters in total? no:
 * SageMaker has no total limit documented; Larder caps a feature at 1000.
 */
lr_status lr_catalog_feature_metadata_update(lr_catalog *cat, const char *fg, const char *feature,
                                             const char *description,
                                             const lr_feature_param *additions, uint32_t n_add,
                                             const char *const *removals, uint32_t n_remove,
                                             lr_error *err);

/* ---- Backend interface (for backend implementers only) ---- */

typedef struct lr_catalog_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(void *ctx);
    lr_status (*fg_create)(void *ctx, const lr_fg_def *def, lr_fg_def **out, lr_error *err);
    lr_status (*fg_get)(void *ctx, const char *name, lr_fg_def **out, lr_error *err);
    lr_status (*fg_update)(void *ctx, const lr_fg_def *def, lr_error *err);
    lr_status (*fg_delete)(void *ctx, const char *name, lr_error *err);
    lr_status (*fg_list)(void *ctx, const lr_fg_list_query *q, lr_fg_list *out, lr_error *err);
    lr_status (*fm_get)(void *ctx, const char *fg, const char *feature, lr_feature_metadata *out,
                        lr_error *err);
    lr_status (*fm_update)(void *ctx, const char *fg, const char *feature, const char *description,
                           const lr_feature_param *additions, uint32_t n_add,
                           const char *const *removals, uint32_t n_remove, lr_error *err);
} lr_catalog_ops;

#ifdef __cplusplus
}
#endif
#endif
