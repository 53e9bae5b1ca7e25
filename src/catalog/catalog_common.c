/*
 * catalog_common.c - what every catalog backend shares: SageMaker's error
 * messages, status names, the ResolvedOutputS3Uri rule, the merge of an
 * updated definition with the stored one, and ListFeatureGroups tokens.
 *
 * Tokens. A next token is the hex encoding of "<sort key>\n<name>" (the last
 * item's position) followed by 16 hex digits of FNV-1a-64 over a fingerprint
 * of the query and that payload. The hash makes a token from another query
 * (other filters or sort) or a damaged token fail with "Invalid pagination
 * token" instead of silently starting somewhere else. It is a consistency
 * check, not a secret: a forged token can only choose a start position.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "larder/arena.h"

lr_status lr__catalog_err_fg_not_found(lr_error *err, const char *name)
{
    return lr_error_set(err, LR_ENOTFOUND,
                        "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with "
                        "name %s",
                        name);
}

lr_status lr__catalog_err_fg_exists(lr_error *err, const char *name)
{
    return lr_error_set(err, LR_EEXIST,
                        "Resource Already Exists: FeatureGroup with name %s already exists. "
                        "Choose a different name.",
                        name);
}

lr_status lr__catalog_err_feature_not_found(lr_error *err, const char *fg, const char *feature)
{
    return lr_error_set(err, LR_ENOTFOUND,
                        "Resource Not Found: Amazon SageMaker can't find a Feature with name %s "
                        "in FeatureGroup %s",
                        feature, fg);
}

bool lr__fg_status_parse(const char *s, lr_fg_status *out)
{
    if (s == NULL)
        return false;
    for (int v = LR_FG_CREATING; v <= LR_FG_DELETE_FAILED; v++) {
        const char *n = lr_fg_status_name((lr_fg_status)v);
        if (n && strcmp(n, s) == 0) {
            *out = (lr_fg_status)v;
            return true;
        }
    }
    return false;
}

bool lr__offline_status_parse(const char *s, lr_offline_status *out)
{
    if (s == NULL)
        return false;
    for (int v = LR_OFFLINE_ACTIVE; v <= LR_OFFLINE_DISABLED; v++) {
        const char *n = lr_offline_status_name((lr_offline_status)v);
        if (n && strcmp(n, s) == 0) {
            *out = (lr_offline_status)v;
            return true;
        }
    }
    return false;
}

bool lr__feature_type_parse(const char *s, lr_feature_type *out)
{
    if (s == NULL)
        return false;
    for (int v = LR_FT_INTEGRAL; v <= LR_FT_STRING; v++) {
        const char *n = lr_feature_type_name((lr_feature_type)v);
        if (n && strcmp(n, s) == 0) {
            *out = (lr_feature_type)v;
            return true;
        }
    }
    return false;
}

/* "scheme://" per RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static bool has_scheme(const char *s)
{
    size_t i = 0;
    if (!isalpha((unsigned char)s[0]))
        return false;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return strncmp(s + i, "://", 3) == 0;
}

lr_status lr__catalog_resolve_offline_uri(const char *data_dir, const lr_settings *s,
                                          const char *name, int64_t creation_us, const char *s3uri,
                                          struct lr_arena *arena, const char **out, lr_error *err)
{
    const char *root_src;
    const char *prefix = "";
    const char *sep = "";
    size_t len;
    int64_t secs;
    char *res;

    if (s3uri == NULL || s3uri[0] == '\0') {
        prefix = data_dir;
        sep = "/";
        root_src = "offline";
    } else if (has_scheme(s3uri) || s3uri[0] == '/') {
        root_src = s3uri;
    } else {
        prefix = data_dir;
        sep = "/";
        root_src = s3uri;
        while (root_src[0] == '.' && root_src[1] == '/') {
            root_src += 2;
            while (root_src[0] == '/')
                root_src++;
        }
    }
    len = strlen(root_src);
    while (len > 0 && root_src[len - 1] == '/')
        len--;
    /* A relative path of only "./" or "." names the data directory itself. */
    if (prefix[0] != '\0' && (len == 0 || (len == 1 && root_src[0] == '.'))) {
        sep = "";
        len = 0;
    }
    /* Floor division: the directory is named after the whole second. */
    secs = creation_us / 1000000;
    if (creation_us % 1000000 < 0)
        secs--;
    if (len > INT32_MAX)
        return lr_error_set(err, LR_EINVAL, "OfflineStoreConfig.S3StorageConfig.S3Uri too long");
    res = lr_arena_sprintf(arena, "%s%s%.*s/%s/sagemaker/%s/offline-store/%s-%" PRId64 "/data",
                           prefix, sep, (int)len, root_src, s->account, s->region, name, secs);
    if (res == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory resolving the offline store URI");
    *out = res;
    return LR_OK;
}

static bool same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

lr_status lr__catalog_fg_merge_update(const lr_fg_def *old, const lr_fg_def *def, int64_t now_us,
                                      lr_fg_def **out, lr_error *err)
{
    lr_status st = LR_OK;
    lr_fg_def *m = NULL;

    *out = NULL;
    if (def->last_modified_time_us != 0 &&
        def->last_modified_time_us != old->last_modified_time_us) {
        st = lr_error_set(err, LR_ECONFLICT,
                          "FeatureGroup %s was modified by another request since it was read; "
                          "read it again and retry",
                          old->name);
        goto done;
    }
    if (!same_str(old->record_id_name, def->record_id_name) ||
        !same_str(old->event_time_name, def->event_time_name)) {
        st = lr_error_set(err, LR_EINVAL,
                          "FeatureGroup %s: RecordIdentifierFeatureName and "
                          "EventTimeFeatureName cannot be changed",
                          old->name);
        goto done;
    }
    if (def->n_features < old->n_features) {
        st = lr_error_set(err, LR_EINVAL, "FeatureGroup %s: features cannot be removed", old->name);
        goto done;
    }
    for (uint32_t i = 0; i < old->n_features; i++) {
        const lr_feature_def *a = &old->features[i];
        const lr_feature_def *b = &def->features[i];
        if (!same_str(a->name, b->name) || a->type != b->type || a->collection != b->collection ||
            a->vector_dim != b->vector_dim) {
            st = lr_error_set(err, LR_EINVAL,
                              "FeatureGroup %s: feature '%s' cannot be removed or changed",
                              old->name, a->name);
            goto done;
        }
    }
    m = lr_fg_def_clone(def);
    if (m == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory copying a feature group definition");
        goto done;
    }
    m->arn = old->arn ? lr_arena_strdup(m->arena, old->arn) : NULL;
    m->resolved_offline_uri =
        old->resolved_offline_uri ? lr_arena_strdup(m->arena, old->resolved_offline_uri) : NULL;
    if ((old->arn && m->arn == NULL) ||
        (old->resolved_offline_uri && m->resolved_offline_uri == NULL)) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory copying a feature group definition");
        goto done;
    }
    m->creation_time_us = old->creation_time_us;
    m->last_modified_time_us =
        now_us > old->last_modified_time_us ? now_us : old->last_modified_time_us + 1;
    m->status = def->status ? def->status : old->status;
    m->offline_status = def->offline_status ? def->offline_status : old->offline_status;
    *out = m;
    m = NULL;
done:
    lr_fg_def_free(m);
    return st;
}

/* ---- tokens ---- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    /* The NUL separates fields, so ("ab","c") and ("a","bc") differ. */
    return fnv(h, s, strlen(s) + 1);
}

static uint64_t fnv_i64(uint64_t h, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    return fnv_str(h, num);
}

/* Every query field but max_results and the token itself. */
static uint64_t query_fingerprint(const lr_fg_list_query *q)
{
    uint64_t h = fnv_str(FNV_OFFSET, "larder-fg-list-v1");
    h = fnv_i64(h, (int64_t)q->sort_by);
    h = fnv_i64(h, q->ascending ? 1 : 0);
    if (q->name_contains) {
        h = fnv_str(h, "n");
        for (const char *p = q->name_contains; *p; p++) {
            char c = (char)tolower((unsigned char)*p);
            h = fnv(h, &c, 1);
        }
        h = fnv(h, "", 1);
    } else {
        h = fnv_str(h, "-");
    }
    h = fnv_i64(h, q->status_equals);
    h = fnv_i64(h, q->offline_status_equals);
    h = fnv_i64(h, q->created_after_us);
    h = fnv_i64(h, q->created_before_us);
    return h;
}

static const char HEX[] = "0123456789abcdef";

lr_status lr__fg_token_encode(const lr_fg_list_query *q, const lr_fg_summary *last, char **out)
{
    char payload[128];
    char *tok;
    size_t n, i;
    uint64_t mac;
    int w;

    *out = NULL;
    switch (q->sort_by) {
    case LR_SORT_CREATION_TIME:
        w = snprintf(payload, sizeof payload, "%" PRId64 "\n%s", last->creation_time_us,
                     last->name);
        break;
    case LR_SORT_STATUS:
        w = snprintf(payload, sizeof payload, "%s\n%s", lr_fg_status_name(last->status),
                     last->name);
        break;
    case LR_SORT_OFFLINE_STATUS:
        w = snprintf(payload, sizeof payload, "%s\n%s",
                     lr_offline_status_name(last->offline_status), last->name);
        break;
    default:
        w = snprintf(payload, sizeof payload, "\n%s", last->name);
        break;
    }
    if (w < 0 || (size_t)w >= sizeof payload)
        return LR_EINTERNAL;
    n = (size_t)w;
    mac = fnv(query_fingerprint(q), payload, n);
    tok = malloc(2 * n + 16 + 1);
    if (tok == NULL)
        return LR_ENOMEM;
    for (i = 0; i < n; i++) {
        tok[2 * i] = HEX[(unsigned char)payload[i] >> 4];
        tok[2 * i + 1] = HEX[(unsigned char)payload[i] & 15];
    }
    for (int k = 0; k < 16; k++)
        tok[2 * n + (size_t)k] = HEX[(mac >> (60 - 4 * k)) & 15];
    tok[2 * n + 16] = '\0';
    *out = tok;
    return LR_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

lr_status lr__fg_token_decode(const lr_fg_list_query *q, lr__fg_cursor *cur, lr_error *err)
{
    char payload[LR__FG_TOKEN_MAX / 2 + 1];
    const char *tok = q->next_token;
    size_t len, n, i;
    uint64_t mac = 0;
    char *nl, *name, *key;

    memset(cur, 0, sizeof *cur);
    if (tok == NULL)
        return LR_OK;
    len = strlen(tok);
    if (len > LR__FG_TOKEN_MAX || len < 16 + 2 || (len - 16) % 2 != 0)
        goto bad;
    n = (len - 16) / 2;
    for (i = 0; i < n; i++) {
        int hi = hexval(tok[2 * i]), lo = hexval(tok[2 * i + 1]);
        if (hi < 0 || lo < 0)
            goto bad;
        payload[i] = (char)(hi << 4 | lo);
        if (payload[i] == '\0')
            goto bad;
    }
    payload[n] = '\0';
    for (i = 2 * n; i < len; i++) {
        int v = hexval(tok[i]);
        if (v < 0)
            goto bad;
        mac = mac << 4 | (uint64_t)v;
    }
    if (mac != fnv(query_fingerprint(q), payload, n))
        goto bad;
    nl = strchr(payload, '\n');
    if (nl == NULL)
        goto bad;
    *nl = '\0';
    key = payload;
    name = nl + 1;
    if (!lr_fg_name_valid(name, strlen(name)))
        goto bad;
    switch (q->sort_by) {
    case LR_SORT_CREATION_TIME: {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(key, &end, 10);
        if (errno != 0 || end == key || *end != '\0')
            goto bad;
        cur->time_us = (int64_t)v;
        break;
    }
    case LR_SORT_STATUS: {
        lr_fg_status s;
        if (!lr__fg_status_parse(key, &s))
            goto bad;
        snprintf(cur->status, sizeof cur->status, "%s", key);
        break;
    }
    case LR_SORT_OFFLINE_STATUS: {
        lr_offline_status s;
        if (!lr__offline_status_parse(key, &s))
            goto bad;
        snprintf(cur->status, sizeof cur->status, "%s", key);
        break;
    }
    default:
        if (key[0] != '\0')
            goto bad;
        break;
    }
    snprintf(cur->name, sizeof cur->name, "%s", name);
    cur->set = true;
    return LR_OK;
bad:
    memset(cur, 0, sizeof *cur);
    return lr_error_set(err, LR_EINVAL, "Invalid pagination token");
}
