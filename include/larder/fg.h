/*
 * fg.h - feature-group definitions: the parsed, validated form of
 * SageMaker's CreateFeatureGroup request, and its JSON forms.
 *
 * lr_fg_def_parse() validates every rule of SageMaker's API (names, patterns,
 * lengths, reserved names, identifier and event-time features, collection
 * types, store configs, TTL, S3Uri, Description, Tags). The message of a
 * rejected definition names the field and the rule in AWS's words, e.g.
 *   "1 validation error detected: Value 'x y' at 'featureGroupName' failed to
 *    satisfy constraint: Member must satisfy regular expression pattern: ..."
 * or, for rules between fields, a sentence naming the field:
 *   "The RecordIdentifierFeatureName 'id' is not defined in FeatureDefinitions."
 * docs/feature-groups.md lists every rule and the JSON forms.
 *
 * A definition owns all its memory (one arena); strings in it live until
 * lr_fg_def_free(). Definitions are immutable once parsed, so they can be
 * shared read-only between threads.
 */
#ifndef LARDER_FG_H
#define LARDER_FG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SageMaker's limits (API.md). */
#define LR_FG_NAME_MAX 64
#define LR_FEATURE_NAME_MAX 64
#define LR_FG_FEATURES_MAX 2500
#define LR_FG_ADDITIONS_MAX 100
#define LR_FG_DESCRIPTION_MAX 128
#define LR_FG_TAGS_MAX 50
#define LR_TAG_KEY_MAX 128
#define LR_TAG_VALUE_MAX 256
#define LR_VECTOR_DIM_MAX 8192
#define LR_S3URI_MAX 1024
#define LR_FEATURE_DESCRIPTION_MAX 255
#define LR_FEATURE_PARAMS_MAX 25
/* Largest definition text lr_fg_def_parse() accepts (bytes). */
#define LR_FG_JSON_MAX (4 * 1024 * 1024)

typedef enum lr_feature_type {
    LR_FT_INTEGRAL = 1,
    LR_FT_FRACTIONAL = 2,
    LR_FT_STRING = 3,
} lr_feature_type;

typedef enum lr_collection_type {
    LR_COLL_NONE = 0,
    LR_COLL_LIST = 1,
    LR_COLL_SET = 2,
    LR_COLL_VECTOR = 3,
} lr_collection_type;

typedef enum lr_ttl_unit {
    LR_TTL_NONE = 0,
    LR_TTL_SECONDS,
    LR_TTL_MINUTES,
    LR_TTL_HOURS,
    LR_TTL_DAYS,
    LR_TTL_WEEKS,
} lr_ttl_unit;

typedef struct lr_ttl {
    lr_ttl_unit unit; /* LR_TTL_NONE: no TTL */
    int64_t value;    /* >= 1 when unit is set */
} lr_ttl;

typedef enum lr_fg_status {
    LR_FG_CREATING = 1,
    LR_FG_CREATED,
    LR_FG_CREATE_FAILED,
    LR_FG_DELETING,
    LR_FG_DELETE_FAILED,
} lr_fg_status;

typedef enum lr_offline_status {
    LR_OFFLINE_ACTIVE = 1,
    LR_OFFLINE_BLOCKED,
    LR_OFFLINE_DISABLED,
} lr_offline_status;

typedef struct lr_feature_def {
    const char *name;
    lr_feature_type type;
    lr_collection_type collection;
    uint32_t vector_dim; /* LR_COLL_VECTOR only */
} lr_feature_def;

typedef struct lr_tag {
    const char *key;
    const char *value;
} lr_tag;

typedef struct lr_fg_def {
    /* From the request. Optional strings are NULL when absent. */
    const char *name;
    const char *record_id_name;
    const char *event_time_name;
    uint32_t record_id_index;  /* index into features */
    uint32_t event_time_index; /* index into features */
    lr_feature_def *features;
    uint32_t n_features;

    bool has_online_config;
    bool online_enabled;
    lr_ttl online_ttl;
    const char *online_storage_type; /* "Standard" | "InMemory" | NULL */
    const char *online_kms_key_id;

    bool has_offline_config;
    const char *offline_s3_uri;      /* as given; NULL without S3StorageConfig
                                        (the catalog then picks the root) */
    const char *offline_kms_key_id;
    bool disable_glue_table_creation;
    const char *table_format;        /* "Default" | "Glue" | "Iceberg" | NULL */
    const char *dc_table_name;       /* DataCatalogConfig */
    const char *dc_catalog;
    const char *dc_database;

    const char *throughput_mode;     /* "OnDemand" | "Provisioned" | NULL */
    int64_t provisioned_read_units;  /* -1 when absent */
    int64_t provisioned_write_units; /* -1 when absent */

    const char *role_arn;
    const char *description;
    lr_tag *tags;
    uint32_t n_tags;

    /* Assigned by the catalog (zero/NULL in a freshly parsed request). */
    const char *arn;
    int64_t creation_time_us;
    int64_t last_modified_time_us;
    lr_fg_status status;
    lr_offline_status offline_status;
    const char *resolved_offline_uri; /* ResolvedOutputS3Uri */

    struct lr_arena *arena; /* owns everything above */
    uint32_t *name_index;   /* open-addressing table: feature name -> index+1 */
    uint32_t name_index_size;
} lr_fg_def;

/*
 * Parses and validates a CreateFeatureGroup request body (JSON text of `len`
 * bytes, at most LR_FG_JSON_MAX; need not be NUL-terminated). On success
 * *out is a new definition (free with lr_fg_def_free); on failure *out is
 * untouched. Unknown members (at any depth) and the catalog-assigned members
 * are refused. Errors: LR_EINVAL with the field and the rule in err
 * (malformed JSON is also LR_EINVAL, with line and column), LR_ENOMEM.
 * Thread-safe (no shared state).
 */
lr_status lr_fg_def_parse(const char *json, size_t len, lr_fg_def **out, lr_error *err);

/*
 * Parses the stored form produced by lr_fg_def_to_json(..., LR_FG_JSON_STORED):
 * the request plus the catalog-assigned fields (FeatureGroupArn,
 * CreationTimeUs, LastModifiedTimeUs, FeatureGroupStatus, OfflineStoreStatus,
 * S3StorageConfig.ResolvedOutputS3Uri, with S3Uri optional). Same rules and
 * errors as parse; the assigned fields are validated too.
 */
lr_status lr_fg_def_parse_stored(const char *json, size_t len, lr_fg_def **out, lr_error *err);

void lr_fg_def_free(lr_fg_def *def);

/* A deep copy (its own arena). NULL on OOM. */
lr_fg_def *lr_fg_def_clone(const lr_fg_def *def);

/*
 * True when a and b hold the same definition: every request field, feature
 * and tag, and every assigned field (the arena and index are not compared).
 */
bool lr_fg_def_equal(const lr_fg_def *a, const lr_fg_def *b);

typedef enum lr_fg_json_form {
    LR_FG_JSON_REQUEST = 0,  /* CreateFeatureGroup request shape */
    LR_FG_JSON_DESCRIBE = 1, /* DescribeFeatureGroup response shape */
    LR_FG_JSON_STORED = 2,   /* request + assigned fields, for the catalog */
    /* DESCRIBE plus the group's Tags, which AWS serves through ListTags
     * rather than DescribeFeatureGroup (`larder fg describe --json`). */
    LR_FG_JSON_DESCRIBE_TAGS = 3,
} lr_fg_json_form;

/*
 * Appends the definition as compact JSON in the given form, members in a
 * fixed order. DESCRIBE writes CreationTime/LastModifiedTime as epoch
 * seconds (up to 6 fraction digits); STORED writes CreationTimeUs and
 * LastModifiedTimeUs as integer microseconds so that they read back exactly.
 * Errors: LR_EINVAL (NULL or incomplete def, unknown form), LR_ELIMIT/LR_ENOMEM
 * from the buffer; on error `out` is left as it was.
 */
lr_status lr_fg_def_to_json(const lr_fg_def *def, lr_fg_json_form form, lr_buf *out);

/* Index of the feature named exactly `name` (`len` bytes, case-sensitive), or -1. O(1). */
int32_t lr_fg_def_find_feature(const lr_fg_def *def, const char *name, size_t len);

/*
 * Validates FeatureAdditions (JSON array of FeatureDefinition, 1..100) against
 * `def` and returns a new definition with them appended (features are never
 * removed or changed). Errors: LR_EINVAL (duplicate, reserved, over 2500,
 * bad definition), LR_ENOMEM.
 */
lr_status lr_fg_def_add_features(const lr_fg_def *def, const char *json, size_t len,
                                 lr_fg_def **out, lr_error *err);

/*
 * Returns a copy of def with the online store's default TTL set (unit NONE
 * clears). Errors: LR_EINVAL (bad unit, value < 1 or too large to count in
 * microseconds, or no enabled online store), LR_ENOMEM.
 */
lr_status lr_fg_def_set_ttl(const lr_fg_def *def, lr_ttl ttl, lr_fg_def **out, lr_error *err);

/* Name checks, shared by the API's runtime paths. */
bool lr_fg_name_valid(const char *s, size_t len);
bool lr_feature_name_valid(const char *s, size_t len);
/* True for is_deleted, write_time, api_invocation_time (case-insensitive). */
bool lr_feature_name_reserved(const char *s, size_t len);

/*
 * Accepts a feature-group name or an ARN
 * (arn:aws[a-z-]*:sagemaker:<region>:<12 digits>:feature-group/<name>) and
 * sets *name and *name_len to the name part (pointing into s). LR_EINVAL if neither.
 */
lr_status lr_fg_name_from_ref(const char *s, size_t len, const char **name, size_t *name_len,
                              lr_error *err);

/* TTL: "Seconds".."Weeks" <-> unit; duration in microseconds (saturating). */
const char *lr_ttl_unit_name(lr_ttl_unit u);
lr_ttl_unit lr_ttl_unit_parse(const char *s);
int64_t lr_ttl_micros(lr_ttl ttl);
/*
 * Parses the CLI form "7d", "90m", "3600s", "1w", "12h" (a positive integer
 * and one of s m h d w) into the TTL. LR_EINVAL otherwise.
 */
lr_status lr_ttl_parse_short(const char *s, lr_ttl *out, lr_error *err);

const char *lr_feature_type_name(lr_feature_type t);      /* "Integral" ... */
const char *lr_collection_type_name(lr_collection_type c); /* NULL for NONE */
const char *lr_fg_status_name(lr_fg_status s);
const char *lr_offline_status_name(lr_offline_status s);

#ifdef __cplusplus
}
#endif
#endif
