/*
 * fgdef.c - feature-group definitions: parsing and validating the
 * CreateFeatureGroup request (and Larder's stored form of it), the JSON
 * forms a definition is written in, feature lookup, and the changes
 * UpdateFeatureGroup may make (feature additions, TTL).
 *
 * Validation works in two passes, as SageMaker's does. The first walks the
 * JSON and checks each member's type and constraints (required, length,
 * pattern, enum, range). A wrong JSON type or an unknown member stops it at
 * once (SageMaker rejects those while deserialising); constraint violations
 * are collected and reported together in AWS's words:
 *   "2 validation errors detected: Value 'x y' at 'featureGroupName' failed
 *    to satisfy constraint: Member must satisfy regular expression pattern:
 *    ...; Value null at 'featureDefinitions.1.member.featureType' ..."
 * Paths are camelCase, list items 1-based, as in AWS's messages. Only when
 * every member is well formed does the second pass check the rules between
 * members (reserved and duplicate feature names, the identifier and event
 * time features, collection types, store configs, tags, throughput); the
 * first rule broken is reported as a plain sentence naming the field.
 *
 * Everything a definition holds lives in its arena. The name index is an
 * open-addressing table of feature indexes, built once, read-only after.
 *
 * docs/feature-groups.md lists every rule and the three JSON forms.
 */
#include "larder/fg.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/value.h"

/* Cap on a definition's arena: a 4 MiB request needs far less. */
#define DEF_ARENA_CAP ((size_t)64 << 20)
/* Cap on the joined constraint messages (the error keeps the first 511 bytes). */
#define MSGS_MAX 4096
/* How much of an offending value a message quotes. */
#define QUOTE_MAX 64

#define FG_NAME_PATTERN      "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}"
#define FEATURE_NAME_PATTERN "[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}"
#define FG_REF_PATTERN                                                                             \
    "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:feature-group\\/)?([a-zA-Z0-9]([_-]*[a-"   \
    "zA-Z0-9]){0,63})"
#define ROLE_ARN_PATTERN "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
#define KMS_PATTERN      "[a-zA-Z0-9:/_-]*"
#define DC_PATTERN       "[\\u0020-\\uD7FF\\uE000-\\uFFFF\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*"
#define TAG_PATTERN      "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"

#define ROLE_ARN_MIN 20
#define ROLE_ARN_MAX 2048
#define KMS_MAX      2048
#define DC_MAX       255
#define FG_REF_MAX   256
#define CAPACITY_MAX 2147483647LL

#define US_PER_SEC 1000000LL

/* ---- enum names ------------------------------------------------------ */

static const char *const FEATURE_TYPES[] = {"Integral", "Fractional", "String", NULL};
static const char *const COLLECTION_TYPES[] = {"List", "Set", "Vector", NULL};
static const char *const TTL_UNITS[] = {"Seconds", "Minutes", "Hours", "Days", "Weeks", NULL};
static const char *const STORAGE_TYPES[] = {"Standard", "InMemory", NULL};
static const char *const TABLE_FORMATS[] = {"Default", "Glue", "Iceberg", NULL};
static const char *const THROUGHPUT_MODES[] = {"OnDemand", "Provisioned", NULL};
static const char *const FG_STATUSES[] = {"Creating", "Created",      "CreateFailed",
                                          "Deleting", "DeleteFailed", NULL};
static const char *const OFFLINE_STATUSES[] = {"Active", "Blocked", "Disabled", NULL};

/* Microseconds per TTL unit, indexed by lr_ttl_unit. */
static const int64_t TTL_UNIT_US[] = {
    0, US_PER_SEC, 60 * US_PER_SEC, 3600 * US_PER_SEC, 86400 * US_PER_SEC, 604800 * US_PER_SEC};

const char *lr_feature_type_name(lr_feature_type t)
{
    return t >= LR_FT_INTEGRAL && t <= LR_FT_STRING ? FEATURE_TYPES[t - 1] : "Unknown";
}

const char *lr_collection_type_name(lr_collection_type c)
{
    return c >= LR_COLL_LIST && c <= LR_COLL_VECTOR ? COLLECTION_TYPES[c - 1] : NULL;
}

const char *lr_fg_status_name(lr_fg_status s)
{
    return s >= LR_FG_CREATING && s <= LR_FG_DELETE_FAILED ? FG_STATUSES[s - 1] : "Unknown";
}

const char *lr_offline_status_name(lr_offline_status s)
{
    return s >= LR_OFFLINE_ACTIVE && s <= LR_OFFLINE_DISABLED ? OFFLINE_STATUSES[s - 1] : "Unknown";
}

const char *lr_ttl_unit_name(lr_ttl_unit u)
{
    return u >= LR_TTL_SECONDS && u <= LR_TTL_WEEKS ? TTL_UNITS[u - 1] : NULL;
}

lr_ttl_unit lr_ttl_unit_parse(const char *s)
{
    for (int i = 0; s && TTL_UNITS[i]; i++) {
        if (strcmp(s, TTL_UNITS[i]) == 0)
            return (lr_ttl_unit)(i + 1);
    }
    return LR_TTL_NONE;
}

/* Largest TTL value of unit u whose microseconds fit in an int64. */
static int64_t ttl_value_max(lr_ttl_unit u)
{
    return INT64_MAX / TTL_UNIT_US[u];
}

int64_t lr_ttl_micros(lr_ttl ttl)
{
    if (ttl.unit < LR_TTL_SECONDS || ttl.unit > LR_TTL_WEEKS || ttl.value <= 0)
        return 0;
    if (ttl.value > ttl_value_max(ttl.unit))
        return INT64_MAX;
    return ttl.value * TTL_UNIT_US[ttl.unit];
}

lr_status lr_ttl_parse_short(const char *s, lr_ttl *out, lr_error *err)
{
    static const char units[] = "smhdw";
    const char *u;
    int64_t v = 0;
    size_t i = 0, n = s ? strlen(s) : 0;
    lr_ttl t;

    if (n < 2)
        goto bad;
    for (; i < n - 1; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            goto bad;
        if (v > (INT64_MAX - d) / 10)
            goto too_big;
        v = v * 10 + d;
    }
    u = strchr(units, s[n - 1]); /* s[n - 1] is not NUL, so never the terminator */
    if (u == NULL)
        goto bad;
    t.unit = (lr_ttl_unit)(LR_TTL_SECONDS + (u - units));
    t.value = v;
    if (v < 1)
        return lr_error_set(err, LR_EINVAL, "TTL '%s': the value must be at least 1", s);
    if (v > ttl_value_max(t.unit))
        goto too_big;
    *out = t;
    return LR_OK;

too_big:
    return lr_error_set(err, LR_EINVAL, "TTL '%.64s' is too long to count in microseconds", s);
bad:
    return lr_error_set(err, LR_EINVAL,
                        "TTL '%.64s' is not a number followed by s, m, h, d or w (e.g. 30s, "
                        "15m, 12h, 7d, 2w)",
                        s ? s : "");
}

/* ---- names ----------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63} (the feature-name pattern is the same
 * language): alphanumeric first and last, '-' and '_' between, and at most
 * 64 alphanumerics in all.
 */
static bool name_pattern_ok(const char *s, size_t n)
{
    size_t alnums = 0;
    if (n == 0 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_alnum(c))
            alnums++;
        else if (c != '-' && c != '_')
            return false;
    }
    return alnums <= 64;
}

bool lr_fg_name_valid(const char *s, size_t len)
{
    return s && len >= 1 && len <= LR_FG_NAME_MAX && name_pattern_ok(s, len);
}

bool lr_feature_name_valid(const char *s, size_t len)
{
    return s && len >= 1 && len <= LR_FEATURE_NAME_MAX && name_pattern_ok(s, len);
}

/* Case-insensitive (ASCII) equality of a[0..an) and NUL-terminated b. */
static bool ascii_ieq(const char *a, size_t an, const char *b)
{
    size_t i;
    for (i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y || y == 0)
            return false;
    }
    return b[an] == '\0';
}

bool lr_feature_name_reserved(const char *s, size_t len)
{
    return s && (ascii_ieq(s, len, "is_deleted") || ascii_ieq(s, len, "write_time") ||
                 ascii_ieq(s, len, "api_invocation_time"));
}

/* arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:feature-group/ ; returns its length or 0. */
static size_t fg_arn_prefix_len(const char *s, size_t n)
{
    size_t i = 7, k;
    if (n < 7 || memcmp(s, "arn:aws", 7) != 0)
        return 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
        i++;
    if (n - i < 11 || memcmp(s + i, ":sagemaker:", 11) != 0)
        return 0;
    i += 11;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
        i++;
    if (i >= n || s[i] != ':')
        return 0;
    i++;
    for (k = 0; k < 12; k++, i++) {
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
    }
    if (n - i < 15 || memcmp(s + i, ":feature-group/", 15) != 0)
        return 0;
    return i + 15;
}

lr_status lr_fg_name_from_ref(const char *s, size_t len, const char **name, size_t *name_len,
                              lr_error *err)
{
    char q[QUOTE_MAX + 4];
    size_t p;

    if (s == NULL)
        len = 0;
    if (len >= 1 && len <= FG_REF_MAX) {
        p = fg_arn_prefix_len(s, len);
        if (name_pattern_ok(s + p, len - p) && len - p <= LR_FG_NAME_MAX) {
            *name = s + p;
            *name_len = len - p;
            return LR_OK;
        }
    }
    /* Printable, bounded copy for the message. */
    {
        size_t m = len > QUOTE_MAX ? QUOTE_MAX : len, i;
        for (i = 0; i < m; i++)
            q[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        if (len > QUOTE_MAX) {
            memcpy(q + m, "...", 3);
            m += 3;
        }
        q[m] = '\0';
    }
    if (len < 1)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%s' at 'featureGroupName' "
                            "failed to satisfy constraint: Member must have length greater than "
                            "or equal to 1",
                            q);
    if (len > FG_REF_MAX)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%s' at 'featureGroupName' "
                            "failed to satisfy constraint: Member must have length less than or "
                            "equal to %d",
                            q, FG_REF_MAX);
    return lr_error_set(err, LR_EINVAL,
                        "1 validation error detected: Value '%s' at 'featureGroupName' failed "
                        "to satisfy constraint: Member must satisfy regular expression pattern: "
                        "%s",
                        q, FG_REF_PATTERN);
}

/* ---- lookup ---------------------------------------------------------- */

static uint32_t hash_bytes(const char *s, size_t n, bool fold)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (fold && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* Table size: a power of two at least twice the entries, so probes stay short. */
static uint32_t table_size(uint32_t n)
{
    uint32_t size = 16;
    while (size < 2 * n)
        size *= 2;
    return size;
}

static lr_status build_index(lr_fg_def *def)
{
    uint32_t size = table_size(def->n_features);
    uint32_t *tab = lr_arena_calloc(def->arena, size, sizeof *tab);
    if (tab == NULL)
        return LR_ENOMEM;
    for (uint32_t i = 0; i < def->n_features; i++) {
        const char *nm = def->features[i].name;
        uint32_t h = hash_bytes(nm, strlen(nm), false) & (size - 1);
        while (tab[h] != 0)
            h = (h + 1) & (size - 1);
        tab[h] = i + 1;
    }
    def->name_index = tab;
    def->name_index_size = size;
    return LR_OK;
}

int32_t lr_fg_def_find_feature(const lr_fg_def *def, const char *name, size_t len)
{
    if (def == NULL || name == NULL)
        return -1;
    if (def->name_index == NULL || def->name_index_size == 0) {
        /* A definition assembled by hand, without an index. */
        for (uint32_t i = 0; i < def->n_features; i++) {
            const char *nm = def->features[i].name;
            if (strncmp(nm, name, len) == 0 && nm[len] == '\0')
                return (int32_t)i;
        }
        return -1;
    }
    uint32_t mask = def->name_index_size - 1;
    uint32_t h = hash_bytes(name, len, false) & mask;
    for (uint32_t probes = 0; probes < def->name_index_size; probes++) {
        uint32_t e = def->name_index[h];
        if (e == 0)
            return -1;
        const char *nm = def->features[e - 1].name;
        if (strncmp(nm, name, len) == 0 && nm[len] == '\0')
            return (int32_t)(e - 1);
        h = (h + 1) & mask;
    }
    return -1;
}

/* ---- copying --------------------------------------------------------- */

static lr_fg_def *def_new(void)
{
    lr_fg_def *def = calloc(1, sizeof *def);
    if (def == NULL)
        return NULL;
    def->arena = lr_arena_new(0, DEF_ARENA_CAP);
    if (def->arena == NULL) {
        free(def);
        return NULL;
    }
    def->provisioned_read_units = -1;
    def->provisioned_write_units = -1;
    return def;
}

void lr_fg_def_free(lr_fg_def *def)
{
    if (def == NULL)
        return;
    lr_arena_free(def->arena);
    free(def);
}

/* Copies an optional string into a's arena; false on OOM. */
static bool dup_opt(lr_arena *a, const char **dst, const char *src)
{
    if (src == NULL) {
        *dst = NULL;
        return true;
    }
    *dst = lr_arena_strdup(a, src);
    return *dst != NULL;
}

/*
 * A deep copy of src with room for `extra` more features after its own
 * (n_features is src's; the caller appends and then builds the index).
 */
static lr_status def_copy(const lr_fg_def *src, uint32_t extra, lr_fg_def **out)
{
    lr_status st = LR_ENOMEM;
    lr_fg_def *d = def_new();
    lr_arena *a;
    uint32_t i;

    if (d == NULL)
        return LR_ENOMEM;
    a = d->arena;
    {
        lr_arena *keep = d->arena;
        *d = *src;
        d->arena = keep;
        d->name_index = NULL;
        d->name_index_size = 0;
        d->features = NULL;
        d->tags = NULL;
    }
    if (!dup_opt(a, &d->name, src->name) || !dup_opt(a, &d->record_id_name, src->record_id_name) ||
        !dup_opt(a, &d->event_time_name, src->event_time_name) ||
        !dup_opt(a, &d->online_storage_type, src->online_storage_type) ||
        !dup_opt(a, &d->online_kms_key_id, src->online_kms_key_id) ||
        !dup_opt(a, &d->offline_s3_uri, src->offline_s3_uri) ||
        !dup_opt(a, &d->offline_kms_key_id, src->offline_kms_key_id) ||
        !dup_opt(a, &d->table_format, src->table_format) ||
        !dup_opt(a, &d->dc_table_name, src->dc_table_name) ||
        !dup_opt(a, &d->dc_catalog, src->dc_catalog) ||
        !dup_opt(a, &d->dc_database, src->dc_database) ||
        !dup_opt(a, &d->throughput_mode, src->throughput_mode) ||
        !dup_opt(a, &d->role_arn, src->role_arn) ||
        !dup_opt(a, &d->description, src->description) || !dup_opt(a, &d->arn, src->arn) ||
        !dup_opt(a, &d->resolved_offline_uri, src->resolved_offline_uri))
        goto cleanup;
    d->features = lr_arena_calloc(a, (size_t)src->n_features + extra, sizeof *d->features);
    if (d->features == NULL)
        goto cleanup;
    for (i = 0; i < src->n_features; i++) {
        d->features[i] = src->features[i];
        if (!dup_opt(a, &d->features[i].name, src->features[i].name))
            goto cleanup;
    }
    if (src->n_tags) {
        d->tags = lr_arena_calloc(a, src->n_tags, sizeof *d->tags);
        if (d->tags == NULL)
            goto cleanup;
        for (i = 0; i < src->n_tags; i++) {
            if (!dup_opt(a, &d->tags[i].key, src->tags[i].key) ||
                !dup_opt(a, &d->tags[i].value, src->tags[i].value))
                goto cleanup;
        }
    }
    *out = d;
    d = NULL;
    st = LR_OK;

cleanup:
    lr_fg_def_free(d);
    return st;
}

lr_fg_def *lr_fg_def_clone(const lr_fg_def *def)
{
    lr_fg_def *d = NULL;
    if (def == NULL || def_copy(def, 0, &d) != LR_OK)
        return NULL;
    if (build_index(d) != LR_OK) {
        lr_fg_def_free(d);
        return NULL;
    }
    return d;
}

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

bool lr_fg_def_equal(const lr_fg_def *a, const lr_fg_def *b)
{
    uint32_t i;
    if (a == NULL || b == NULL)
        return a == b;
    if (!str_eq(a->name, b->name) || !str_eq(a->record_id_name, b->record_id_name) ||
        !str_eq(a->event_time_name, b->event_time_name) ||
        a->record_id_index != b->record_id_index || a->event_time_index != b->event_time_index ||
        a->n_features != b->n_features)
        return false;
    for (i = 0; i < a->n_features; i++) {
        const lr_feature_def *x = &a->features[i], *y = &b->features[i];
        if (!str_eq(x->name, y->name) || x->type != y->type || x->collection != y->collection ||
            x->vector_dim != y->vector_dim)
            return false;
    }
    if (a->has_online_config != b->has_online_config || a->online_enabled != b->online_enabled ||
        a->online_ttl.unit != b->online_ttl.unit || a->online_ttl.value != b->online_ttl.value ||
        !str_eq(a->online_storage_type, b->online_storage_type) ||
        !str_eq(a->online_kms_key_id, b->online_kms_key_id))
        return false;
    if (a->has_offline_config != b->has_offline_config ||
        !str_eq(a->offline_s3_uri, b->offline_s3_uri) ||
        !str_eq(a->offline_kms_key_id, b->offline_kms_key_id) ||
        a->disable_glue_table_creation != b->disable_glue_table_creation ||
        !str_eq(a->table_format, b->table_format) || !str_eq(a->dc_table_name, b->dc_table_name) ||
        !str_eq(a->dc_catalog, b->dc_catalog) || !str_eq(a->dc_database, b->dc_database))
        return false;
    if (!str_eq(a->throughput_mode, b->throughput_mode) ||
        a->provisioned_read_units != b->provisioned_read_units ||
        a->provisioned_write_units != b->provisioned_write_units ||
        !str_eq(a->role_arn, b->role_arn) || !str_eq(a->description, b->description) ||
        a->n_tags != b->n_tags)
        return false;
    for (i = 0; i < a->n_tags; i++) {
        if (!str_eq(a->tags[i].key, b->tags[i].key) || !str_eq(a->tags[i].value, b->tags[i].value))
            return false;
    }
    return str_eq(a->arn, b->arn) && a->creation_time_us == b->creation_time_us &&
           a->last_modified_time_us == b->last_modified_time_us && a->status == b->status &&
           a->offline_status == b->offline_status &&
           str_eq(a->resolved_offline_uri, b->resolved_offline_uri);
}

/* ---- validation context ---------------------------------------------- */

typedef struct vctx {
    lr_arena *arena; /* the definition's: strings are copied here */
    lr_error *err;
    lr_status st; /* first fatal error, LR_OK while none */
    unsigned n_violations;
    lr_buf msgs; /* "; "-joined constraint messages */
} vctx;

static void vctx_init(vctx *v, lr_arena *a, lr_error *err)
{
    v->arena = a;
    v->err = err;
    v->st = LR_OK;
    v->n_violations = 0;
    lr_buf_init(&v->msgs, MSGS_MAX);
}

/* A fatal error (type, unknown member, OOM). Only the first is kept. */
static void fail(vctx *v, lr_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(vctx *v, lr_status st, const char *fmt, ...)
{
    va_list ap;
    if (v->st != LR_OK)
        return;
    v->st = st;
    va_start(ap, fmt);
    lr_error_vset(v->err, st, fmt, ap);
    va_end(ap);
}

static void fail_oom(vctx *v)
{
    fail(v, LR_ENOMEM, "out of memory parsing a feature-group definition");
}

/* 'value' rendered for a message: printable, bounded, in single quotes. */
static void render(const char *s, char *q)
{
    size_t n = strlen(s), m = n > QUOTE_MAX ? QUOTE_MAX : n, i;
    q[0] = '\'';
    for (i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        q[1 + i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > QUOTE_MAX) {
        memcpy(q + 1 + m, "...", 3);
        m += 3;
    }
    q[1 + m] = '\'';
    q[2 + m] = '\0';
}

/*
 * Records a constraint violation: "Value <value> at '<path>' failed to
 * satisfy constraint: Member must ...". `value` is already rendered
 * ("null", "'abc'", "'0'").
 */
static void violation(vctx *v, const char *value, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(vctx *v, const char *value, const char *path, const char *fmt, ...)
{
    char rule[256];
    va_list ap;
    lr_status st = LR_OK;

    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (v->n_violations > 0)
        st = lr_buf_append_str(&v->msgs, "; ");
    if (st == LR_OK)
        st = lr_buf_printf(&v->msgs, "Value %s at '%s' failed to satisfy constraint: %s", value,
                           path, rule);
    v->n_violations++;
    /* Past MSGS_MAX the message is long enough: keep counting, stop appending. */
    if (st == LR_ENOMEM)
        fail_oom(v);
}

static void violation_str(vctx *v, const char *s, const char *path, const char *rule)
{
    char q[QUOTE_MAX + 8];
    render(s, q);
    violation(v, q, path, "%s", rule);
}

static void violation_null(vctx *v, const char *path)
{
    violation(v, "null", path, "Member must not be null");
}

/* Length as AWS counts it: UTF-16 code units of a valid UTF-8 string. */
static size_t utf16_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n += *p >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* Checks min <= length <= max; true when within. */
static bool check_len(vctx *v, const char *s, const char *path, size_t min, size_t max)
{
    char rule[96];
    size_t n = utf16_len(s);
    if (n < min) {
        snprintf(rule, sizeof rule, "Member must have length greater than or equal to %zu", min);
        violation_str(v, s, path, rule);
        return false;
    }
    if (n > max) {
        snprintf(rule, sizeof rule, "Member must have length less than or equal to %zu", max);
        violation_str(v, s, path, rule);
        return false;
    }
    return true;
}

static void check_pattern(vctx *v, bool ok, const char *s, const char *path, const char *pattern)
{
    char rule[256];
    if (ok)
        return;
    snprintf(rule, sizeof rule, "Member must satisfy regular expression pattern: %s", pattern);
    violation_str(v, s, path, rule);
}

static const char *json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

static void type_error(vctx *v, const char *path, const json_t *j, const char *want)
{
    fail(v, LR_EINVAL, "Invalid type at '%s': expected %s, got %s", path, want, json_type_name(j));
}

/* Member `key` of obj, NULL when absent or JSON null (AWS treats both alike). */
static json_t *member(json_t *obj, const char *key)
{
    json_t *j = json_object_get(obj, key);
    return json_is_null(j) ? NULL : j;
}

/* Joins a path and a member: "onlineStoreConfig" + "ttlDuration". */
static void sub_path(char *out, size_t cap, const char *path, const char *name)
{
    if (path[0])
        snprintf(out, cap, "%s.%s", path, name);
    else
        snprintf(out, cap, "%s", name);
}

/*
 * Rejects members of obj not in `allowed` (NULL-terminated), naming the
 * first in the object's order. `where` names the object for the message.
 */
static bool check_members(vctx *v, json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        bool ok = false;
        for (int i = 0; allowed[i]; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            char q[QUOTE_MAX + 8];
            render(key, q);
            if (where[0])
                fail(v, LR_EINVAL, "Unknown member %s at '%s'", q, where);
            else
                fail(v, LR_EINVAL, "Unknown member %s in the CreateFeatureGroup request", q);
            return false;
        }
    }
    return true;
}

/*
 * Reads string member `key` of obj into *out (an arena copy; NULL when
 * absent). A missing required member is a violation; a wrong type is fatal.
 * Returns true when a string was read.
 */
static bool get_str(vctx *v, json_t *obj, const char *key, const char *path, bool required,
                    const char **out)
{
    json_t *j = member(obj, key);
    *out = NULL;
    if (v->st != LR_OK)
        return false;
    if (j == NULL) {
        if (required)
            violation_null(v, path);
        return false;
    }
    if (!json_is_string(j)) {
        type_error(v, path, j, "a string");
        return false;
    }
    *out = lr_arena_strndup(v->arena, json_string_value(j), json_string_length(j));
    if (*out == NULL) {
        fail_oom(v);
        return false;
    }
    return true;
}

/*
 * Reads an enum member: returns its index in `names` (NULL-terminated), -1
 * when absent (a violation if required) or invalid (a violation).
 */
static int get_enum(vctx *v, json_t *obj, const char *key, const char *path, bool required,
                    const char *const *names)
{
    const char *s;
    char rule[160];
    size_t len;
    int i;

    if (!get_str(v, obj, key, path, required, &s))
        return -1;
    for (i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0)
            return i;
    }
    len = (size_t)snprintf(rule, sizeof rule, "Member must satisfy enum value set: [");
    for (i = 0; names[i] && len < sizeof rule; i++)
        len += (size_t)snprintf(rule + len, sizeof rule - len, "%s%s", i ? ", " : "", names[i]);
    if (len < sizeof rule)
        snprintf(rule + len, sizeof rule - len, "]");
    violation_str(v, s, path, rule);
    return -1;
}

/* Reads an integer member within [min, max]; true when present and in range. */
static bool get_int(vctx *v, json_t *obj, const char *key, const char *path, bool required,
                    int64_t min, int64_t max, int64_t *out)
{
    json_t *j = member(obj, key);
    char q[32];
    int64_t x;

    if (v->st != LR_OK)
        return false;
    if (j == NULL) {
        if (required)
            violation_null(v, path);
        return false;
    }
    if (!json_is_integer(j)) {
        type_error(v, path, j, "an integer");
        return false;
    }
    x = (int64_t)json_integer_value(j);
    snprintf(q, sizeof q, "'%lld'", (long long)x);
    if (x < min) {
        violation(v, q, path, "Member must have value greater than or equal to %lld",
                  (long long)min);
        return false;
    }
    if (x > max) {
        violation(v, q, path, "Member must have value less than or equal to %lld", (long long)max);
        return false;
    }
    *out = x;
    return true;
}

static bool get_bool(vctx *v, json_t *obj, const char *key, const char *path, bool *out)
{
    json_t *j = member(obj, key);
    if (v->st != LR_OK || j == NULL)
        return false;
    if (!json_is_boolean(j)) {
        type_error(v, path, j, "a boolean");
        return false;
    }
    *out = json_is_true(j);
    return true;
}

/* An object member: NULL when absent (violation if required) or on a type error. */
static json_t *get_obj(vctx *v, json_t *obj, const char *key, const char *path, bool required,
                       const char *const *allowed)
{
    json_t *j = member(obj, key);
    if (v->st != LR_OK)
        return NULL;
    if (j == NULL) {
        if (required)
            violation_null(v, path);
        return NULL;
    }
    if (!json_is_object(j)) {
        type_error(v, path, j, "an object");
        return NULL;
    }
    if (!check_members(v, j, path, allowed))
        return NULL;
    return j;
}

/* ---- member checks --------------------------------------------------- */

static void check_fg_name(vctx *v, const char *s, const char *path)
{
    check_len(v, s, path, 1, LR_FG_NAME_MAX);
    check_pattern(v, name_pattern_ok(s, strlen(s)), s, path, FG_NAME_PATTERN);
}

static void check_feature_name(vctx *v, const char *s, const char *path)
{
    check_len(v, s, path, 1, LR_FEATURE_NAME_MAX);
    check_pattern(v, name_pattern_ok(s, strlen(s)), s, path, FEATURE_NAME_PATTERN);
}

static bool kms_ok(const char *s)
{
    for (; *s; s++) {
        if (!is_alnum((unsigned char)*s) && *s != ':' && *s != '/' && *s != '_' && *s != '-')
            return false;
    }
    return true;
}

static bool role_arn_ok(const char *s)
{
    size_t i = 7, k;
    if (strncmp(s, "arn:aws", 7) != 0)
        return false;
    while ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-')
        i++;
    if (strncmp(s + i, ":iam::", 6) != 0)
        return false;
    i += 6;
    for (k = 0; k < 12; k++, i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    if (strncmp(s + i, ":role", 5) != 0)
        return false;
    i += 5;
    /* "/?[a-zA-Z_0-9+=,.@\-_/]+": the class holds '/', so one or more of it. */
    if (s[i] == '\0')
        return false;
    for (; s[i]; i++) {
        if (!is_alnum((unsigned char)s[i]) && !strchr("_+=,.@-/", s[i]))
            return false;
    }
    return true;
}

/* No control characters but tab (DataCatalogConfig's pattern). */
static bool dc_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/*
 * Tag keys and values: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$. ASCII is checked
 * exactly (letters, digits, space and _.:/=+-@); other code points are
 * accepted, since letters, numbers and separators cover nearly all of them
 * and Larder carries no Unicode category tables.
 */
static bool tag_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80)
            continue;
        if (!is_alnum(c) && !strchr(" _.:/=+-@", c))
            return false;
    }
    return true;
}

/* Any control character (C0 or DEL); paths must have none. */
static bool has_control(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

/*
 * S3Uri: "s3://bucket[/prefix]" with an S3 bucket name (3..63 of a-z 0-9 .
 * -, starting and ending with a letter or digit), "file:///absolute/path",
 * or a local path (absolute or relative) with no scheme. None may hold
 * control characters.
 */
static bool s3uri_ok(const char *s)
{
    size_t i, n;
    if (s[0] == '\0' || has_control(s))
        return false;
    if (strncmp(s, "s3://", 5) == 0) {
        const char *b = s + 5;
        const char *slash = strchr(b, '/');
        n = slash ? (size_t)(slash - b) : strlen(b);
        if (n < 3 || n > 63 || !is_alnum((unsigned char)b[0]) || !is_alnum((unsigned char)b[n - 1]))
            return false;
        for (i = 0; i < n; i++) {
            char c = b[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
                return false;
        }
        return true;
    }
    if (strncmp(s, "file://", 7) == 0)
        return s[7] == '/';
    /* Anything else that looks like "scheme://" is a scheme Larder cannot store to. */
    if ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) {
        for (i = 1; s[i]; i++) {
            char c = s[i];
            if (c == ':')
                return strncmp(s + i, "://", 3) != 0;
            if (!is_alnum((unsigned char)c) && c != '+' && c != '.' && c != '-')
                break;
        }
    }
    return true;
}

#define S3URI_RULE                                                                                 \
    "Member must be s3://bucket[/prefix] (bucket of 3 to 63 lowercase letters, digits, dots "      \
    "and hyphens), file:///absolute/path or a local directory path, without control "              \
    "characters"

static void check_s3uri(vctx *v, const char *s, const char *path)
{
    if (check_len(v, s, path, 1, LR_S3URI_MAX) && !s3uri_ok(s))
        violation_str(v, s, path, S3URI_RULE);
}

/* ---- parse: features -------------------------------------------------- */

static const char *const FD_MEMBERS[] = {"FeatureName", "FeatureType", "CollectionType",
                                         "CollectionConfig", NULL};
static const char *const CC_MEMBERS[] = {"VectorConfig", NULL};
static const char *const VC_MEMBERS[] = {"Dimension", NULL};

/* One FeatureDefinition; `path` is e.g. "featureDefinitions.3.member". */
static void parse_feature(vctx *v, json_t *fd, const char *path, lr_feature_def *f)
{
    char p[160], p2[200], p3[240];
    json_t *cc, *vc;
    int e;
    int64_t dim;

    if (!json_is_object(fd)) {
        type_error(v, path, fd, "an object");
        return;
    }
    if (!check_members(v, fd, path, FD_MEMBERS))
        return;
    sub_path(p, sizeof p, path, "featureName");
    if (get_str(v, fd, "FeatureName", p, true, &f->name))
        check_feature_name(v, f->name, p);
    sub_path(p, sizeof p, path, "featureType");
    e = get_enum(v, fd, "FeatureType", p, true, FEATURE_TYPES);
    f->type = e >= 0 ? (lr_feature_type)(e + 1) : LR_FT_STRING;
    sub_path(p, sizeof p, path, "collectionType");
    e = get_enum(v, fd, "CollectionType", p, false, COLLECTION_TYPES);
    f->collection = e >= 0 ? (lr_collection_type)(e + 1) : LR_COLL_NONE;
    sub_path(p, sizeof p, path, "collectionConfig");
    cc = get_obj(v, fd, "CollectionConfig", p, false, CC_MEMBERS);
    if (cc) {
        sub_path(p2, sizeof p2, p, "vectorConfig");
        vc = get_obj(v, cc, "VectorConfig", p2, true, VC_MEMBERS);
        if (vc) {
            sub_path(p3, sizeof p3, p2, "dimension");
            if (get_int(v, vc, "Dimension", p3, true, 1, LR_VECTOR_DIM_MAX, &dim))
                f->vector_dim = (uint32_t)dim;
        }
    }
}

/*
 * Parses a JSON array of FeatureDefinition into features[0..n). `list` is
 * the camelCase name for paths ("featureDefinitions", "featureAdditions").
 */
static void parse_feature_list(vctx *v, json_t *arr, const char *list, uint32_t max,
                               lr_feature_def **out, uint32_t *n_out)
{
    char path[96], q[48];
    size_t n, i;

    *out = NULL;
    *n_out = 0;
    if (!json_is_array(arr)) {
        type_error(v, list, arr, "an array");
        return;
    }
    n = json_array_size(arr);
    snprintf(q, sizeof q, "'[%zu items]'", n);
    if (n < 1) {
        violation(v, q, list, "Member must have length greater than or equal to 1");
        return;
    }
    if (n > max) {
        violation(v, q, list, "Member must have length less than or equal to %u", max);
        return;
    }
    *out = lr_arena_calloc(v->arena, n, sizeof **out);
    if (*out == NULL) {
        fail_oom(v);
        return;
    }
    for (i = 0; i < n && v->st == LR_OK; i++) {
        snprintf(path, sizeof path, "%s.%zu.member", list, i + 1);
        parse_feature(v, json_array_get(arr, i), path, &(*out)[i]);
    }
    *n_out = (uint32_t)n;
}

/*
 * Rules between the members of features new[first..n) (all of features[0..n)
 * for a new group): reserved names, case-insensitive duplicates against all
 * features, and CollectionType/CollectionConfig agreement.
 */
static lr_status check_features(const lr_feature_def *f, uint32_t n, uint32_t first,
                                const char *list, lr_error *err)
{
    lr_status st = LR_OK;
    uint32_t size = table_size(n), *tab = calloc(size, sizeof *tab);
    uint32_t i;

    if (tab == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory checking feature names");
    for (i = 0; i < n; i++) {
        const char *nm = f[i].name;
        size_t len = strlen(nm);
        uint32_t h = hash_bytes(nm, len, true) & (size - 1);
        unsigned pos = i >= first ? i - first + 1 : 0; /* 1-based in `list` */

        if (i >= first && lr_feature_name_reserved(nm, len)) {
            st = lr_error_set(err, LR_EINVAL,
                              "The feature name '%s' at '%s.%u.member.featureName' is reserved: "
                              "is_deleted, write_time and api_invocation_time cannot be feature "
                              "names.",
                              nm, list, pos);
            goto cleanup;
        }
        while (tab[h] != 0) {
            const char *other = f[tab[h] - 1].name;
            if (ascii_ieq(nm, len, other)) {
                st = lr_error_set(err, LR_EINVAL,
                                  "The feature name '%s' at '%s.%u.member.featureName' is "
                                  "already defined as '%s' (feature names are compared without "
                                  "regard to case).",
                                  nm, list, i >= first ? pos : i + 1, other);
                goto cleanup;
            }
            h = (h + 1) & (size - 1);
        }
        tab[h] = i + 1;
        if (i < first)
            continue;
        if (f[i].collection == LR_COLL_VECTOR) {
            if (f[i].type != LR_FT_FRACTIONAL) {
                st = lr_error_set(err, LR_EINVAL,
                                  "The feature '%s' at '%s.%u.member' has CollectionType Vector, "
                                  "which requires FeatureType Fractional.",
                                  nm, list, pos);
                goto cleanup;
            }
            if (f[i].vector_dim == 0) {
                st = lr_error_set(err, LR_EINVAL,
                                  "The feature '%s' at '%s.%u.member' has CollectionType Vector "
                                  "but no CollectionConfig.VectorConfig.Dimension.",
                                  nm, list, pos);
                goto cleanup;
            }
        } else if (f[i].vector_dim != 0) {
            st = lr_error_set(err, LR_EINVAL,
                              "The feature '%s' at '%s.%u.member' has a CollectionConfig, which "
                              "is only valid with CollectionType Vector.",
                              nm, list, pos);
            goto cleanup;
        }
    }

cleanup:
    free(tab);
    return st;
}

static bool any_collection(const lr_feature_def *f, uint32_t n, uint32_t first, uint32_t *which)
{
    for (uint32_t i = first; i < n; i++) {
        if (f[i].collection != LR_COLL_NONE) {
            *which = i;
            return true;
        }
    }
    return false;
}

static bool online_in_memory(const lr_fg_def *def)
{
    return def->has_online_config && def->online_enabled && def->online_storage_type &&
           strcmp(def->online_storage_type, "InMemory") == 0;
}

/* ---- parse: store configs --------------------------------------------- */

static const char *const ONLINE_MEMBERS[] = {"SecurityConfig", "EnableOnlineStore", "TtlDuration",
                                             "StorageType", NULL};
static const char *const SECURITY_MEMBERS[] = {"KmsKeyId", NULL};
static const char *const TTL_MEMBERS[] = {"Unit", "Value", NULL};
static const char *const OFFLINE_MEMBERS[] = {"S3StorageConfig", "DisableGlueTableCreation",
                                              "DataCatalogConfig", "TableFormat", NULL};
static const char *const S3_MEMBERS[] = {"S3Uri", "KmsKeyId", "ResolvedOutputS3Uri", NULL};
static const char *const DC_MEMBERS[] = {"TableName", "Catalog", "Database", NULL};
static const char *const THROUGHPUT_MEMBERS[] = {"ThroughputMode", "ProvisionedReadCapacityUnits",
                                                 "ProvisionedWriteCapacityUnits", NULL};
static const char *const TAG_MEMBERS[] = {"Key", "Value", NULL};
static const char *const STATUS_MEMBERS[] = {"Status", "BlockedReason", NULL};

static void parse_ttl(vctx *v, json_t *obj, const char *path, lr_ttl *ttl)
{
    char p[96];
    json_t *t = get_obj(v, obj, "TtlDuration", path, false, TTL_MEMBERS);
    int e;
    int64_t val;

    if (t == NULL)
        return;
    sub_path(p, sizeof p, path, "unit");
    e = get_enum(v, t, "Unit", p, true, TTL_UNITS);
    sub_path(p, sizeof p, path, "value");
    if (e < 0) {
        /* Still check the value's type and lower bound. */
        get_int(v, t, "Value", p, true, 1, INT64_MAX, &val);
        return;
    }
    ttl->unit = (lr_ttl_unit)(e + 1);
    if (get_int(v, t, "Value", p, true, 1, ttl_value_max(ttl->unit), &val))
        ttl->value = val;
    else
        ttl->unit = LR_TTL_NONE;
}

static void parse_online(vctx *v, json_t *root, lr_fg_def *def)
{
    json_t *o = get_obj(v, root, "OnlineStoreConfig", "onlineStoreConfig", false, ONLINE_MEMBERS);
    json_t *sec;
    int e;

    if (o == NULL)
        return;
    def->has_online_config = true;
    sec = get_obj(v, o, "SecurityConfig", "onlineStoreConfig.securityConfig", false,
                  SECURITY_MEMBERS);
    if (sec && get_str(v, sec, "KmsKeyId", "onlineStoreConfig.securityConfig.kmsKeyId", false,
                       &def->online_kms_key_id)) {
        const char *p = "onlineStoreConfig.securityConfig.kmsKeyId";
        if (check_len(v, def->online_kms_key_id, p, 0, KMS_MAX))
            check_pattern(v, kms_ok(def->online_kms_key_id), def->online_kms_key_id, p,
                          KMS_PATTERN);
    }
    get_bool(v, o, "EnableOnlineStore", "onlineStoreConfig.enableOnlineStore",
             &def->online_enabled);
    parse_ttl(v, o, "onlineStoreConfig.ttlDuration", &def->online_ttl);
    e = get_enum(v, o, "StorageType", "onlineStoreConfig.storageType", false, STORAGE_TYPES);
    if (e >= 0)
        def->online_storage_type = STORAGE_TYPES[e];
}

static void parse_offline(vctx *v, json_t *root, lr_fg_def *def, bool stored)
{
    json_t *o =
        get_obj(v, root, "OfflineStoreConfig", "offlineStoreConfig", false, OFFLINE_MEMBERS);
    json_t *s3, *dc;
    const char *resolved = NULL;
    int e;

    if (o == NULL)
        return;
    def->has_offline_config = true;
    s3 = get_obj(v, o, "S3StorageConfig", "offlineStoreConfig.s3StorageConfig", false, S3_MEMBERS);
    if (s3) {
        const char *p = "offlineStoreConfig.s3StorageConfig.s3Uri";
        /* The stored form may carry only the resolved URI (S3Uri defaulted). */
        if (get_str(v, s3, "S3Uri", p, !stored, &def->offline_s3_uri))
            check_s3uri(v, def->offline_s3_uri, p);
        p = "offlineStoreConfig.s3StorageConfig.kmsKeyId";
        if (get_str(v, s3, "KmsKeyId", p, false, &def->offline_kms_key_id) &&
            check_len(v, def->offline_kms_key_id, p, 0, KMS_MAX))
            check_pattern(v, kms_ok(def->offline_kms_key_id), def->offline_kms_key_id, p,
                          KMS_PATTERN);
        /* Assigned by Larder: kept from the stored form, ignored in a request
         * (a Describe output pasted into a request must still be accepted). */
        p = "offlineStoreConfig.s3StorageConfig.resolvedOutputS3Uri";
        if (get_str(v, s3, "ResolvedOutputS3Uri", p, false, &resolved) &&
            check_len(v, resolved, p, 1, LR_S3URI_MAX) && stored) {
            if (has_control(resolved))
                violation_str(v, resolved, p, S3URI_RULE);
            def->resolved_offline_uri = resolved;
        }
    }
    get_bool(v, o, "DisableGlueTableCreation", "offlineStoreConfig.disableGlueTableCreation",
             &def->disable_glue_table_creation);
    dc = get_obj(v, o, "DataCatalogConfig", "offlineStoreConfig.dataCatalogConfig", false,
                 DC_MEMBERS);
    if (dc) {
        static const char *const keys[] = {"TableName", "Catalog", "Database"};
        static const char *const paths[] = {"offlineStoreConfig.dataCatalogConfig.tableName",
                                            "offlineStoreConfig.dataCatalogConfig.catalog",
                                            "offlineStoreConfig.dataCatalogConfig.database"};
        const char **dst[] = {&def->dc_table_name, &def->dc_catalog, &def->dc_database};
        for (int i = 0; i < 3; i++) {
            if (get_str(v, dc, keys[i], paths[i], true, dst[i]) &&
                check_len(v, *dst[i], paths[i], 1, DC_MAX))
                check_pattern(v, dc_ok(*dst[i]), *dst[i], paths[i], DC_PATTERN);
        }
    }
    e = get_enum(v, o, "TableFormat", "offlineStoreConfig.tableFormat", false, TABLE_FORMATS);
    if (e >= 0)
        def->table_format = TABLE_FORMATS[e];
}

static void parse_throughput(vctx *v, json_t *root, lr_fg_def *def)
{
    json_t *t = get_obj(v, root, "ThroughputConfig", "throughputConfig", false, THROUGHPUT_MEMBERS);
    int64_t x;
    int e;

    if (t == NULL)
        return;
    e = get_enum(v, t, "ThroughputMode", "throughputConfig.throughputMode", true, THROUGHPUT_MODES);
    if (e >= 0)
        def->throughput_mode = THROUGHPUT_MODES[e];
    if (get_int(v, t, "ProvisionedReadCapacityUnits",
                "throughputConfig.provisionedReadCapacityUnits", false, 0, CAPACITY_MAX, &x))
        def->provisioned_read_units = x;
    if (get_int(v, t, "ProvisionedWriteCapacityUnits",
                "throughputConfig.provisionedWriteCapacityUnits", false, 0, CAPACITY_MAX, &x))
        def->provisioned_write_units = x;
}

static void parse_tags(vctx *v, json_t *root, lr_fg_def *def)
{
    json_t *arr = member(root, "Tags");
    char path[64], p[96], q[48];
    size_t n, i;

    if (arr == NULL || v->st != LR_OK)
        return;
    if (!json_is_array(arr)) {
        type_error(v, "tags", arr, "an array");
        return;
    }
    n = json_array_size(arr);
    if (n > LR_FG_TAGS_MAX) {
        snprintf(q, sizeof q, "'[%zu items]'", n);
        violation(v, q, "tags", "Member must have length less than or equal to %d", LR_FG_TAGS_MAX);
        return;
    }
    if (n == 0)
        return;
    def->tags = lr_arena_calloc(v->arena, n, sizeof *def->tags);
    if (def->tags == NULL) {
        fail_oom(v);
        return;
    }
    def->n_tags = (uint32_t)n;
    for (i = 0; i < n && v->st == LR_OK; i++) {
        json_t *t = json_array_get(arr, i);
        lr_tag *tag = &def->tags[i];
        snprintf(path, sizeof path, "tags.%zu.member", i + 1);
        if (!json_is_object(t)) {
            type_error(v, path, t, "an object");
            return;
        }
        if (!check_members(v, t, path, TAG_MEMBERS))
            return;
        snprintf(p, sizeof p, "%s.key", path);
        if (get_str(v, t, "Key", p, true, &tag->key) &&
            check_len(v, tag->key, p, 1, LR_TAG_KEY_MAX))
            check_pattern(v, tag_ok(tag->key), tag->key, p, TAG_PATTERN);
        snprintf(p, sizeof p, "%s.value", path);
        if (get_str(v, t, "Value", p, true, &tag->value) &&
            check_len(v, tag->value, p, 0, LR_TAG_VALUE_MAX))
            check_pattern(v, tag_ok(tag->value), tag->value, p, TAG_PATTERN);
    }
}

/* Fields the catalog assigns, present only in the stored form. */
static void parse_assigned(vctx *v, json_t *root, lr_fg_def *def)
{
    json_t *os;
    int64_t t;
    int e;

    if (get_str(v, root, "FeatureGroupArn", "featureGroupArn", false, &def->arn) &&
        check_len(v, def->arn, "featureGroupArn", 1, FG_REF_MAX)) {
        size_t n = strlen(def->arn), p = fg_arn_prefix_len(def->arn, n);
        if (p == 0 || !name_pattern_ok(def->arn + p, n - p))
            violation_str(v, def->arn, "featureGroupArn",
                          "Member must satisfy regular expression pattern: "
                          "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:feature-group/.*");
    }
    if (get_int(v, root, "CreationTimeUs", "creationTimeUs", false, INT64_MIN, INT64_MAX, &t))
        def->creation_time_us = t;
    if (get_int(v, root, "LastModifiedTimeUs", "lastModifiedTimeUs", false, INT64_MIN, INT64_MAX,
                &t))
        def->last_modified_time_us = t;
    e = get_enum(v, root, "FeatureGroupStatus", "featureGroupStatus", false, FG_STATUSES);
    if (e >= 0)
        def->status = (lr_fg_status)(e + 1);
    os = get_obj(v, root, "OfflineStoreStatus", "offlineStoreStatus", false, STATUS_MEMBERS);
    if (os) {
        const char *reason;
        e = get_enum(v, os, "Status", "offlineStoreStatus.status", true, OFFLINE_STATUSES);
        if (e >= 0)
            def->offline_status = (lr_offline_status)(e + 1);
        /* BlockedReason is accepted and not kept (Larder never blocks). */
        get_str(v, os, "BlockedReason", "offlineStoreStatus.blockedReason", false, &reason);
    }
}

static const char *const REQUEST_MEMBERS[] = {"FeatureGroupName",
                                              "RecordIdentifierFeatureName",
                                              "EventTimeFeatureName",
                                              "FeatureDefinitions",
                                              "OnlineStoreConfig",
                                              "OfflineStoreConfig",
                                              "ThroughputConfig",
                                              "RoleArn",
                                              "Description",
                                              "Tags",
                                              NULL};
static const char *const STORED_MEMBERS[] = {"FeatureGroupName",     "RecordIdentifierFeatureName",
                                             "EventTimeFeatureName", "FeatureDefinitions",
                                             "OnlineStoreConfig",    "OfflineStoreConfig",
                                             "ThroughputConfig",     "RoleArn",
                                             "Description",          "Tags",
                                             "FeatureGroupArn",      "CreationTimeUs",
                                             "LastModifiedTimeUs",   "FeatureGroupStatus",
                                             "OfflineStoreStatus",   NULL};

/* The first pass: types, members and constraints of the whole request. */
static void parse_members(vctx *v, json_t *root, lr_fg_def *def, bool stored)
{
    json_t *fds;

    if (!check_members(v, root, "", stored ? STORED_MEMBERS : REQUEST_MEMBERS))
        return;
    if (get_str(v, root, "FeatureGroupName", "featureGroupName", true, &def->name))
        check_fg_name(v, def->name, "featureGroupName");
    if (get_str(v, root, "RecordIdentifierFeatureName", "recordIdentifierFeatureName", true,
                &def->record_id_name))
        check_feature_name(v, def->record_id_name, "recordIdentifierFeatureName");
    if (get_str(v, root, "EventTimeFeatureName", "eventTimeFeatureName", true,
                &def->event_time_name))
        check_feature_name(v, def->event_time_name, "eventTimeFeatureName");
    fds = member(root, "FeatureDefinitions");
    if (fds == NULL)
        violation_null(v, "featureDefinitions");
    else
        parse_feature_list(v, fds, "featureDefinitions", LR_FG_FEATURES_MAX, &def->features,
                           &def->n_features);
    parse_online(v, root, def);
    parse_offline(v, root, def, stored);
    parse_throughput(v, root, def);
    if (get_str(v, root, "RoleArn", "roleArn", false, &def->role_arn) &&
        check_len(v, def->role_arn, "roleArn", ROLE_ARN_MIN, ROLE_ARN_MAX))
        check_pattern(v, role_arn_ok(def->role_arn), def->role_arn, "roleArn", ROLE_ARN_PATTERN);
    if (get_str(v, root, "Description", "description", false, &def->description))
        check_len(v, def->description, "description", 0, LR_FG_DESCRIPTION_MAX);
    parse_tags(v, root, def);
    if (stored)
        parse_assigned(v, root, def);
}

/* The second pass: rules between members. Returns the first broken. */
static lr_status check_rules(lr_fg_def *def, lr_error *err)
{
    lr_status st;
    int32_t rid, et;
    uint32_t i, j;
    const lr_feature_def *f;

    st = check_features(def->features, def->n_features, 0, "featureDefinitions", err);
    if (st != LR_OK)
        return st;
    if (build_index(def) != LR_OK)
        return lr_error_set(err, LR_ENOMEM, "out of memory indexing features");
    rid = lr_fg_def_find_feature(def, def->record_id_name, strlen(def->record_id_name));
    if (rid < 0)
        return lr_error_set(err, LR_EINVAL,
                            "The RecordIdentifierFeatureName '%s' is not defined in "
                            "FeatureDefinitions.",
                            def->record_id_name);
    et = lr_fg_def_find_feature(def, def->event_time_name, strlen(def->event_time_name));
    if (et < 0)
        return lr_error_set(err, LR_EINVAL,
                            "The EventTimeFeatureName '%s' is not defined in FeatureDefinitions.",
                            def->event_time_name);
    if (rid == et)
        return lr_error_set(err, LR_EINVAL,
                            "The RecordIdentifierFeatureName and the EventTimeFeatureName must "
                            "name different features, not both '%s'.",
                            def->record_id_name);
    f = &def->features[rid];
    if (f->collection != LR_COLL_NONE || f->type == LR_FT_FRACTIONAL)
        return lr_error_set(err, LR_EINVAL,
                            "The RecordIdentifierFeatureName '%s' must be a feature of type "
                            "Integral or String that is not a collection, not %s%s%s.",
                            f->name, lr_feature_type_name(f->type), f->collection ? " " : "",
                            f->collection ? lr_collection_type_name(f->collection) : "");
    f = &def->features[et];
    if (f->collection != LR_COLL_NONE || f->type == LR_FT_INTEGRAL)
        return lr_error_set(err, LR_EINVAL,
                            "The EventTimeFeatureName '%s' must be a feature of type String "
                            "(ISO-8601) or Fractional (epoch seconds) that is not a collection, "
                            "not %s%s%s.",
                            f->name, lr_feature_type_name(f->type), f->collection ? " " : "",
                            f->collection ? lr_collection_type_name(f->collection) : "");
    def->record_id_index = (uint32_t)rid;
    def->event_time_index = (uint32_t)et;
    if (!def->has_offline_config && !(def->has_online_config && def->online_enabled))
        return lr_error_set(err, LR_EINVAL,
                            "At least one of OnlineStoreConfig (with EnableOnlineStore true) and "
                            "OfflineStoreConfig must be specified.");
    if (any_collection(def->features, def->n_features, 0, &i) && !online_in_memory(def))
        return lr_error_set(err, LR_EINVAL,
                            "The feature '%s' at 'featureDefinitions.%u.member' has CollectionType "
                            "%s: collection types are supported only with an online store of "
                            "StorageType InMemory (OnlineStoreConfig.EnableOnlineStore true).",
                            def->features[i].name, i + 1,
                            lr_collection_type_name(def->features[i].collection));
    if (def->throughput_mode) {
        bool prov = strcmp(def->throughput_mode, "Provisioned") == 0;
        if (prov && (def->provisioned_read_units < 1 || def->provisioned_write_units < 1))
            return lr_error_set(err, LR_EINVAL,
                                "ThroughputConfig with ThroughputMode Provisioned requires "
                                "ProvisionedReadCapacityUnits and ProvisionedWriteCapacityUnits "
                                "of at least 1.");
        if (!prov && (def->provisioned_read_units >= 0 || def->provisioned_write_units >= 0))
            return lr_error_set(err, LR_EINVAL,
                                "ProvisionedReadCapacityUnits and ProvisionedWriteCapacityUnits "
                                "apply only to ThroughputMode Provisioned, not %s.",
                                def->throughput_mode);
    }
    for (i = 0; i < def->n_tags; i++) {
        const char *k = def->tags[i].key;
        if (strncmp(k, "aws:", 4) == 0)
            return lr_error_set(err, LR_EINVAL,
                                "The tag key '%s' at 'tags.%u.member.key' starts with 'aws:', "
                                "which is reserved for AWS use.",
                                k, i + 1);
        for (j = 0; j < i; j++) {
            if (strcmp(def->tags[j].key, k) == 0)
                return lr_error_set(err, LR_EINVAL,
                                    "The tag key '%s' at 'tags.%u.member.key' is already used by "
                                    "tags.%u: tag keys must be unique.",
                                    k, i + 1, j + 1);
        }
    }
    return LR_OK;
}

/* Ends the first pass: reports collected violations. */
static lr_status vctx_finish(vctx *v)
{
    lr_status st = v->st;
    if (st == LR_OK && v->n_violations > 0)
        st = lr_error_set(v->err, LR_EINVAL, "%u validation error%s detected: %s", v->n_violations,
                          v->n_violations == 1 ? "" : "s", v->msgs.data ? v->msgs.data : "");
    lr_buf_free(&v->msgs);
    return st;
}

static json_t *load_json(const char *json, size_t len, lr_error *err, lr_status *st)
{
    json_error_t jerr;
    json_t *root;

    if (json == NULL) {
        *st = lr_error_set(err, LR_EINVAL, "The feature-group definition is empty.");
        return NULL;
    }
    if (len > LR_FG_JSON_MAX) {
        *st = lr_error_set(err, LR_EINVAL,
                           "The feature-group definition is %zu bytes, over the limit of %d.", len,
                           LR_FG_JSON_MAX);
        return NULL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        *st = lr_error_set(err, LR_EINVAL, "Malformed JSON at line %d, column %d: %s", jerr.line,
                           jerr.column, jerr.text);
        return NULL;
    }
    *st = LR_OK;
    return root;
}

static lr_status parse_common(const char *json, size_t len, bool stored, lr_fg_def **out,
                              lr_error *err)
{
    lr_status st;
    lr_fg_def *def = NULL;
    json_t *root = load_json(json, len, err, &st);
    vctx v;

    if (root == NULL)
        return st;
    if (!json_is_object(root)) {
        st = lr_error_set(err, LR_EINVAL,
                          "The feature-group definition must be a JSON object, not %s.",
                          json_type_name(root));
        goto cleanup;
    }
    def = def_new();
    if (def == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory parsing a feature-group definition");
        goto cleanup;
    }
    vctx_init(&v, def->arena, err);
    parse_members(&v, root, def, stored);
    st = vctx_finish(&v);
    if (st != LR_OK)
        goto cleanup;
    st = check_rules(def, err);
    if (st != LR_OK)
        goto cleanup;
    *out = def;
    def = NULL;

cleanup:
    lr_fg_def_free(def);
    json_decref(root);
    return st;
}

lr_status lr_fg_def_parse(const char *json, size_t len, lr_fg_def **out, lr_error *err)
{
    return parse_common(json, len, false, out, err);
}

lr_status lr_fg_def_parse_stored(const char *json, size_t len, lr_fg_def **out, lr_error *err)
{
    return parse_common(json, len, true, out, err);
}

/* ---- updates ----------------------------------------------------------- */

lr_status lr_fg_def_add_features(const lr_fg_def *def, const char *json, size_t len,
                                 lr_fg_def **out, lr_error *err)
{
    lr_status st;
    lr_fg_def *nd = NULL;
    lr_feature_def *add = NULL;
    uint32_t n_add = 0, i;
    lr_arena *tmp = NULL;
    json_t *root = load_json(json, len, err, &st);
    vctx v;

    if (root == NULL)
        return st;
    tmp = lr_arena_new(0, DEF_ARENA_CAP);
    if (tmp == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory parsing FeatureAdditions");
        goto cleanup;
    }
    vctx_init(&v, tmp, err);
    parse_feature_list(&v, root, "featureAdditions", LR_FG_ADDITIONS_MAX, &add, &n_add);
    st = vctx_finish(&v);
    if (st != LR_OK)
        goto cleanup;
    if ((size_t)def->n_features + n_add > LR_FG_FEATURES_MAX) {
        st = lr_error_set(err, LR_EINVAL,
                          "Adding %u features to feature group '%s', which has %u, would exceed "
                          "the limit of %d feature definitions.",
                          n_add, def->name, def->n_features, LR_FG_FEATURES_MAX);
        goto cleanup;
    }
    st = def_copy(def, n_add, &nd);
    if (st != LR_OK) {
        lr_error_set(err, st, "out of memory copying a feature-group definition");
        goto cleanup;
    }
    for (i = 0; i < n_add; i++) {
        nd->features[def->n_features + i] = add[i];
        nd->features[def->n_features + i].name = lr_arena_strdup(nd->arena, add[i].name);
        if (nd->features[def->n_features + i].name == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory adding features");
            goto cleanup;
        }
    }
    nd->n_features = def->n_features + n_add;
    st = check_features(nd->features, nd->n_features, def->n_features, "featureAdditions", err);
    if (st != LR_OK)
        goto cleanup;
    if (any_collection(nd->features, nd->n_features, def->n_features, &i) &&
        !online_in_memory(nd)) {
        st = lr_error_set(err, LR_EINVAL,
                          "The feature '%s' at 'featureAdditions.%u.member' has CollectionType "
                          "%s: collection types are supported only with an online store of "
                          "StorageType InMemory.",
                          nd->features[i].name, i - def->n_features + 1,
                          lr_collection_type_name(nd->features[i].collection));
        goto cleanup;
    }
    if (build_index(nd) != LR_OK) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory indexing features");
        goto cleanup;
    }
    *out = nd;
    nd = NULL;

cleanup:
    lr_fg_def_free(nd);
    lr_arena_free(tmp);
    json_decref(root);
    return st;
}

lr_status lr_fg_def_set_ttl(const lr_fg_def *def, lr_ttl ttl, lr_fg_def **out, lr_error *err)
{
    lr_status st;
    lr_fg_def *nd = NULL;

    if (ttl.unit != LR_TTL_NONE) {
        if (ttl.unit < LR_TTL_SECONDS || ttl.unit > LR_TTL_WEEKS)
            return lr_error_set(err, LR_EINVAL,
                                "1 validation error detected: Value '%d' at "
                                "'onlineStoreConfig.ttlDuration.unit' failed to satisfy "
                                "constraint: Member must satisfy enum value set: [Seconds, "
                                "Minutes, Hours, Days, Weeks]",
                                (int)ttl.unit);
        if (ttl.value < 1)
            return lr_error_set(err, LR_EINVAL,
                                "1 validation error detected: Value '%lld' at "
                                "'onlineStoreConfig.ttlDuration.value' failed to satisfy "
                                "constraint: Member must have value greater than or equal to 1",
                                (long long)ttl.value);
        if (ttl.value > ttl_value_max(ttl.unit))
            return lr_error_set(err, LR_EINVAL,
                                "1 validation error detected: Value '%lld' at "
                                "'onlineStoreConfig.ttlDuration.value' failed to satisfy "
                                "constraint: Member must have value less than or equal to %lld",
                                (long long)ttl.value, (long long)ttl_value_max(ttl.unit));
    } else {
        ttl.value = 0;
    }
    if (!def->has_online_config || !def->online_enabled)
        return lr_error_set(err, LR_EINVAL,
                            "The feature group '%s' has no online store: TtlDuration applies to "
                            "the online store only.",
                            def->name);
    nd = lr_fg_def_clone(def);
    if (nd == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory copying a feature-group definition");
    nd->online_ttl = ttl;
    *out = nd;
    st = LR_OK;
    return st;
}

/* ---- JSON output ---------------------------------------------------------- */

/* A JSON writer over lr_buf with a sticky status: check once at the end. */
typedef struct jw {
    lr_buf *b;
    lr_status st;
    bool first; /* no member written yet at the current level */
} jw;

static void w_raw(jw *w, const char *s)
{
    if (w->st == LR_OK)
        w->st = lr_buf_append_str(w->b, s);
}

static void w_str(jw *w, const char *s)
{
    if (w->st == LR_OK)
        w->st = lr_buf_append_json_str(w->b, s, strlen(s));
}

static void w_open(jw *w, char c)
{
    char s[2] = {c, '\0'};
    w_raw(w, s);
    w->first = true;
}

static void w_close(jw *w, char c)
{
    char s[2] = {c, '\0'};
    w_raw(w, s);
    w->first = false;
}

/* "key": (with the comma before it when needed) */
static void w_key(jw *w, const char *key)
{
    if (!w->first)
        w_raw(w, ",");
    w->first = false;
    w_str(w, key);
    w_raw(w, ":");
}

/* An array element's separator. */
static void w_elem(jw *w)
{
    if (!w->first)
        w_raw(w, ",");
    w->first = false;
}

static void w_kstr(jw *w, const char *key, const char *val)
{
    if (val == NULL)
        return;
    w_key(w, key);
    w_str(w, val);
}

static void w_kint(jw *w, const char *key, long long val)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", val);
    w_key(w, key);
    w_raw(w, s);
}

static void w_kbool(jw *w, const char *key, bool val)
{
    w_key(w, key);
    w_raw(w, val ? "true" : "false");
}

/* Epoch seconds as a JSON number: integer, or with the fraction trimmed. */
static void w_kseconds(jw *w, const char *key, int64_t us)
{
    char s[48];
    uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t sec = mag / 1000000u, frac = mag % 1000000u;
    int n;

    if (frac == 0) {
        n = snprintf(s, sizeof s, "%s%llu", us < 0 ? "-" : "", (unsigned long long)sec);
    } else {
        n = snprintf(s, sizeof s, "%s%llu.%06llu", us < 0 ? "-" : "", (unsigned long long)sec,
                     (unsigned long long)frac);
        while (n > 0 && s[n - 1] == '0')
            s[--n] = '\0';
    }
    w_key(w, key);
    w_raw(w, s);
}

static void write_features(jw *w, const lr_fg_def *def)
{
    w_key(w, "FeatureDefinitions");
    w_open(w, '[');
    for (uint32_t i = 0; i < def->n_features; i++) {
        const lr_feature_def *f = &def->features[i];
        w_elem(w);
        w_open(w, '{');
        w_kstr(w, "FeatureName", f->name);
        w_kstr(w, "FeatureType", lr_feature_type_name(f->type));
        if (f->collection != LR_COLL_NONE)
            w_kstr(w, "CollectionType", lr_collection_type_name(f->collection));
        if (f->vector_dim) {
            w_key(w, "CollectionConfig");
            w_open(w, '{');
            w_key(w, "VectorConfig");
            w_open(w, '{');
            w_kint(w, "Dimension", f->vector_dim);
            w_close(w, '}');
            w_close(w, '}');
        }
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_online(jw *w, const lr_fg_def *def)
{
    if (!def->has_online_config)
        return;
    w_key(w, "OnlineStoreConfig");
    w_open(w, '{');
    if (def->online_kms_key_id) {
        w_key(w, "SecurityConfig");
        w_open(w, '{');
        w_kstr(w, "KmsKeyId", def->online_kms_key_id);
        w_close(w, '}');
    }
    w_kbool(w, "EnableOnlineStore", def->online_enabled);
    if (def->online_ttl.unit != LR_TTL_NONE) {
        w_key(w, "TtlDuration");
        w_open(w, '{');
        w_kstr(w, "Unit", lr_ttl_unit_name(def->online_ttl.unit));
        w_kint(w, "Value", def->online_ttl.value);
        w_close(w, '}');
    }
    w_kstr(w, "StorageType", def->online_storage_type);
    w_close(w, '}');
}

/* Lowercase "<name>_<creation epoch seconds>": SageMaker's default table name. */
static void default_table_name(const lr_fg_def *def, char *out, size_t cap)
{
    int64_t secs = def->creation_time_us / US_PER_SEC;
    if (def->creation_time_us < 0 && def->creation_time_us % US_PER_SEC)
        secs--;
    snprintf(out, cap, "%s_%lld", def->name, (long long)secs);
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
}

static void write_offline(jw *w, const lr_fg_def *def, lr_fg_json_form form)
{
    if (!def->has_offline_config)
        return;
    w_key(w, "OfflineStoreConfig");
    w_open(w, '{');
    if (def->offline_s3_uri || def->offline_kms_key_id ||
        (form != LR_FG_JSON_REQUEST && def->resolved_offline_uri)) {
        w_key(w, "S3StorageConfig");
        w_open(w, '{');
        w_kstr(w, "S3Uri", def->offline_s3_uri);
        w_kstr(w, "KmsKeyId", def->offline_kms_key_id);
        if (form != LR_FG_JSON_REQUEST)
            w_kstr(w, "ResolvedOutputS3Uri", def->resolved_offline_uri);
        w_close(w, '}');
    }
    if (form == LR_FG_JSON_DESCRIBE || def->disable_glue_table_creation)
        w_kbool(w, "DisableGlueTableCreation", def->disable_glue_table_creation);
    if (def->dc_table_name) {
        w_key(w, "DataCatalogConfig");
        w_open(w, '{');
        w_kstr(w, "TableName", def->dc_table_name);
        w_kstr(w, "Catalog", def->dc_catalog);
        w_kstr(w, "Database", def->dc_database);
        w_close(w, '}');
    } else if (form == LR_FG_JSON_DESCRIBE) {
        char table[LR_FG_NAME_MAX + 32];
        default_table_name(def, table, sizeof table);
        w_key(w, "DataCatalogConfig");
        w_open(w, '{');
        w_kstr(w, "TableName", table);
        w_kstr(w, "Catalog", "AwsDataCatalog");
        w_kstr(w, "Database", "sagemaker_featurestore");
        w_close(w, '}');
    }
    w_kstr(w, "TableFormat", def->table_format);
    w_close(w, '}');
}

static void write_throughput(jw *w, const lr_fg_def *def)
{
    if (def->throughput_mode == NULL)
        return;
    w_key(w, "ThroughputConfig");
    w_open(w, '{');
    w_kstr(w, "ThroughputMode", def->throughput_mode);
    if (def->provisioned_read_units >= 0)
        w_kint(w, "ProvisionedReadCapacityUnits", def->provisioned_read_units);
    if (def->provisioned_write_units >= 0)
        w_kint(w, "ProvisionedWriteCapacityUnits", def->provisioned_write_units);
    w_close(w, '}');
}

static void write_tags(jw *w, const lr_fg_def *def)
{
    if (def->n_tags == 0)
        return;
    w_key(w, "Tags");
    w_open(w, '[');
    for (uint32_t i = 0; i < def->n_tags; i++) {
        w_elem(w);
        w_open(w, '{');
        w_kstr(w, "Key", def->tags[i].key);
        w_kstr(w, "Value", def->tags[i].value);
        w_close(w, '}');
    }
    w_close(w, ']');
}

lr_status lr_fg_def_to_json(const lr_fg_def *def, lr_fg_json_form form, lr_buf *out)
{
    jw w = {out, LR_OK, true};
    size_t mark = out->len;
    /* DESCRIBE_TAGS is DESCRIBE plus the tags (which AWS serves through ListTags). */
    bool with_tags = form == LR_FG_JSON_DESCRIBE_TAGS;
    if (with_tags)
        form = LR_FG_JSON_DESCRIBE;
    bool assigned = form != LR_FG_JSON_REQUEST;

    if (def == NULL || def->name == NULL || def->record_id_name == NULL ||
        def->event_time_name == NULL)
        return LR_EINVAL;
    if (form != LR_FG_JSON_REQUEST && form != LR_FG_JSON_DESCRIBE && form != LR_FG_JSON_STORED)
        return LR_EINVAL;
    w_open(&w, '{');
    if (assigned)
        w_kstr(&w, "FeatureGroupArn", def->arn);
    w_kstr(&w, "FeatureGroupName", def->name);
    w_kstr(&w, "RecordIdentifierFeatureName", def->record_id_name);
    w_kstr(&w, "EventTimeFeatureName", def->event_time_name);
    write_features(&w, def);
    if (form == LR_FG_JSON_DESCRIBE) {
        w_kseconds(&w, "CreationTime", def->creation_time_us);
        if (def->last_modified_time_us)
            w_kseconds(&w, "LastModifiedTime", def->last_modified_time_us);
    } else if (form == LR_FG_JSON_STORED) {
        w_kint(&w, "CreationTimeUs", def->creation_time_us);
        w_kint(&w, "LastModifiedTimeUs", def->last_modified_time_us);
    }
    write_online(&w, def);
    write_offline(&w, def, form);
    write_throughput(&w, def);
    w_kstr(&w, "RoleArn", def->role_arn);
    if (assigned && def->status)
        w_kstr(&w, "FeatureGroupStatus", lr_fg_status_name(def->status));
    if (assigned && def->offline_status && (form == LR_FG_JSON_STORED || def->has_offline_config)) {
        w_key(&w, "OfflineStoreStatus");
        w_open(&w, '{');
        w_kstr(&w, "Status", lr_offline_status_name(def->offline_status));
        w_close(&w, '}');
    }
    w_kstr(&w, "Description", def->description);
    if (form != LR_FG_JSON_DESCRIBE || with_tags)
        write_tags(&w, def);
    if (form == LR_FG_JSON_DESCRIBE)
        w_kstr(&w, "NextToken", "");
    w_close(&w, '}');
    if (w.st != LR_OK) {
        /* Leave the buffer as it was. */
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return w.st;
}
