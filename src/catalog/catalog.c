/*
 * catalog.c - the public catalog API: chooses a backend from the URI, checks
 * arguments against SageMaker's limits, assigns what the catalog assigns
 * (ARN, times, statuses, ResolvedOutputS3Uri), then calls the backend.
 *
 * Keeping validation and assignment here means every backend behaves alike
 * and a backend only has to store and fetch atomically.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "catalog/catalog_internal.h"
#include "larder/arena.h"

#define NAME_CONTAINS_MAX   64
#define MAX_RESULTS_DEFAULT 10
#define MAX_RESULTS_MAX     100

int lr_catalog_schema_version(void)
{
    return lr__catalog_sqlite_schema_version();
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* mkdir -p: creates each missing component of `path` (at most PATH_MAX). */
static lr_status make_dirs(const char *path, lr_error *err)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    struct stat sb;

    if (len >= sizeof buf)
        return lr_error_set(err, LR_EINVAL, "catalog: data directory path is too long");
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lr_error_set(err, LR_EIO, "catalog: cannot create directory %s: %s", buf,
                                strerror(errno));
        if (i < len)
            buf[i] = '/';
    }
    if (stat(path, &sb) != 0)
        return lr_error_set(err, LR_EIO, "catalog: cannot open directory %s: %s", path,
                            strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return lr_error_set(err, LR_EIO, "catalog: %s is not a directory", path);
    return LR_OK;
}

/* realpath() into a malloc'd string, with a message naming the path. */
static lr_status absolute_dir(const char *dir, char **out, lr_error *err)
{
    char *abs = realpath(dir, NULL);
    if (abs == NULL) {
        if (errno == ENOMEM)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        return lr_error_set(err, LR_EIO, "catalog: cannot resolve directory %s: %s", dir,
                            strerror(errno));
    }
    *out = abs;
    return LR_OK;
}

static char *join_path(const char *dir, const char *base)
{
    size_t a = strlen(dir), b = strlen(base);
    char *p = malloc(a + 1 + b + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, a);
    /* realpath("/") is "/": do not double the separator. */
    if (a == 0 || dir[a - 1] != '/')
        p[a++] = '/';
    memcpy(p + a, base, b + 1);
    return p;
}

lr_status lr_catalog_open(const char *uri, const lr_settings *settings, lr_catalog **out,
                          lr_error *err)
{
    lr_status st = LR_OK;
    lr_catalog *cat = NULL;
    char *file = NULL;
    char *parent = NULL;

    if (out == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no output handle");
    *out = NULL;
    if (uri == NULL || uri[0] == '\0') {
        st = lr_error_set(err, LR_EINVAL, "catalog: empty catalog URI or data directory");
        goto done;
    }
    if (strlen(uri) >= PATH_MAX) {
        st = lr_error_set(err, LR_EINVAL, "catalog: catalog URI is too long");
        goto done;
    }
    if (starts_with(uri, "postgresql://") || starts_with(uri, "postgres://")) {
        st = lr_error_set(err, LR_EUNSUPPORTED,
                          "catalog: the PostgreSQL catalog backend is not available in this "
                          "build; use a data directory or sqlite:PATH");
        goto done;
    }
    cat = calloc(1, sizeof *cat);
    if (cat == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    if (settings) {
        cat->settings = *settings;
        cat->settings.region[sizeof cat->settings.region - 1] = '\0';
        cat->settings.account[sizeof cat->settings.account - 1] = '\0';
    } else {
        st = lr_settings_from_env(&cat->settings, err);
        if (st != LR_OK)
            goto done;
    }

    if (starts_with(uri, "sqlite:")) {
        const char *path = uri + strlen("sqlite:");
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        if (base[0] == '\0' || strcmp(path, ":memory:") == 0) {
            st = lr_error_set(err, LR_EINVAL,
                              "catalog: sqlite: needs a file path (in-memory catalogs cannot be "
                              "shared between processes)");
            goto done;
        }
        if (slash == NULL) {
            parent = strdup(".");
        } else if (slash == path) {
            parent = strdup("/");
        } else {
            parent = strndup(path, (size_t)(slash - path));
        }
        if (parent == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        st = absolute_dir(parent, &cat->data_dir, err);
        if (st != LR_OK)
            goto done;
        file = join_path(cat->data_dir, base);
    } else {
        st = make_dirs(uri, err);
        if (st != LR_OK)
            goto done;
        st = absolute_dir(uri, &cat->data_dir, err);
        if (st != LR_OK)
            goto done;
        file = join_path(cat->data_dir, "catalog.db");
    }
    if (file == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    /* Keep "/" as the root but drop any other trailing separator. */
    {
        size_t n = strlen(cat->data_dir);
        if (n > 1 && cat->data_dir[n - 1] == '/')
            cat->data_dir[n - 1] = '\0';
    }
    st = lr__catalog_sqlite_open(file, &cat->ctx, err);
    if (st != LR_OK)
        goto done;
    cat->ops = &lr__catalog_sqlite_ops;
    *out = cat;
    cat = NULL;
done:
    if (cat) {
        free(cat->data_dir);
        free(cat);
    }
    free(file);
    free(parent);
    return st;
}

void lr_catalog_close(lr_catalog *cat)
{
    if (cat == NULL)
        return;
    if (cat->ops)
        cat->ops->close(cat->ctx);
    free(cat->data_dir);
    free(cat);
}

static lr_status check_handle(const lr_catalog *cat, lr_error *err)
{
    if (cat == NULL || cat->ops == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no catalog handle");
    return LR_OK;
}

lr_status lr_catalog_fg_create(lr_catalog *cat, const lr_fg_def *def, lr_fg_def **out,
                               lr_error *err)
{
    lr_status st;
    lr_fg_def *stored = NULL;
    char arn[256];

    if (out)
        *out = NULL;
    st = check_handle(cat, err);
    if (st != LR_OK)
        goto done;
    if (def == NULL || def->name == NULL || !lr_fg_name_valid(def->name, strlen(def->name)) ||
        def->n_features == 0) {
        st = lr_error_set(err, LR_EINVAL,
                          "catalog: a feature group needs a valid name and at least one feature");
        goto done;
    }
    st = lr_fg_arn_format(&cat->settings, def->name, arn, sizeof arn);
    if (st != LR_OK) {
        lr_error_set(err, st, "catalog: cannot format the ARN of FeatureGroup %s", def->name);
        goto done;
    }
    stored = lr_fg_def_clone(def);
    if (stored == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory copying a feature group definition");
        goto done;
    }
    stored->arn = lr_arena_strdup(stored->arena, arn);
    if (stored->arn == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    stored->creation_time_us = lr_now_us();
    stored->last_modified_time_us = stored->creation_time_us;
    stored->status = LR_FG_CREATED;
    stored->offline_status = def->has_offline_config ? LR_OFFLINE_ACTIVE : LR_OFFLINE_DISABLED;
    stored->resolved_offline_uri = NULL;
    if (def->has_offline_config) {
        st = lr__catalog_resolve_offline_uri(cat->data_dir, &cat->settings, def->name,
                                             stored->creation_time_us, def->offline_s3_uri,
                                             stored->arena, &stored->resolved_offline_uri, err);
        if (st != LR_OK)
            goto done;
    }
    st = cat->ops->fg_create(cat->ctx, stored, err);
    if (st != LR_OK)
        goto done;
    if (out) {
        *out = stored;
        stored = NULL;
    }
done:
    lr_fg_def_free(stored);
    return st;
}

lr_status lr_catalog_fg_get(lr_catalog *cat, const char *name, lr_fg_def **out, lr_error *err)
{
    lr_status st;

    if (out == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no output definition");
    *out = NULL;
    st = check_handle(cat, err);
    if (st != LR_OK)
        return st;
    if (name == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group name");
    return cat->ops->fg_get(cat->ctx, name, out, err);
}

lr_status lr_catalog_fg_update(lr_catalog *cat, const lr_fg_def *def, lr_error *err)
{
    lr_status st = check_handle(cat, err);

    if (st != LR_OK)
        return st;
    if (def == NULL || def->name == NULL || def->n_features == 0)
        return lr_error_set(err, LR_EINVAL,
                            "catalog: an update needs a definition with a name and features");
    if (def->status != 0 && (def->status < LR_FG_CREATING || def->status > LR_FG_DELETE_FAILED))
        return lr_error_set(err, LR_EINVAL, "catalog: unknown FeatureGroupStatus %d",
                            (int)def->status);
    if (def->offline_status != 0 &&
        (def->offline_status < LR_OFFLINE_ACTIVE || def->offline_status > LR_OFFLINE_DISABLED))
        return lr_error_set(err, LR_EINVAL, "catalog: unknown OfflineStoreStatus %d",
                            (int)def->offline_status);
    return cat->ops->fg_update(cat->ctx, def, lr_now_us(), err);
}

lr_status lr_catalog_fg_delete(lr_catalog *cat, const char *name, lr_error *err)
{
    lr_status st = check_handle(cat, err);

    if (st != LR_OK)
        return st;
    if (name == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group name");
    return cat->ops->fg_delete(cat->ctx, name, err);
}

void lr_fg_list_query_init(lr_fg_list_query *q)
{
    memset(q, 0, sizeof *q);
    q->name_contains = NULL;
    q->created_after_us = INT64_MIN;
    q->created_before_us = INT64_MAX;
    q->sort_by = LR_SORT_CREATION_TIME;
    q->ascending = false;
    q->max_results = MAX_RESULTS_DEFAULT;
    q->next_token = NULL;
}

lr_status lr_catalog_fg_list(lr_catalog *cat, const lr_fg_list_query *q, lr_fg_list *out,
                             lr_error *err)
{
    lr_status st;
    lr_fg_list_query eq;
    lr__fg_cursor cur;

    if (out == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no output list");
    memset(out, 0, sizeof *out);
    st = check_handle(cat, err);
    if (st != LR_OK)
        return st;
    if (q == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no list query");
    eq = *q;
    if (eq.max_results == 0)
        eq.max_results = MAX_RESULTS_DEFAULT;
    if (eq.max_results > MAX_RESULTS_MAX)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%u' at 'maxResults' failed to "
                            "satisfy constraint: Member must have value less than or equal to %d",
                            eq.max_results, MAX_RESULTS_MAX);
    if (eq.name_contains) {
        size_t n = strlen(eq.name_contains);
        if (n == 0 || n > NAME_CONTAINS_MAX)
            return lr_error_set(err, LR_EINVAL,
                                "1 validation error detected: Value '%.64s' at 'nameContains' "
                                "failed to satisfy constraint: Member must have length between "
                                "1 and %d",
                                eq.name_contains, NAME_CONTAINS_MAX);
    }
    if (eq.status_equals != 0 &&
        (eq.status_equals < LR_FG_CREATING || eq.status_equals > LR_FG_DELETE_FAILED))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: unknown value %d at "
                            "'featureGroupStatusEquals'",
                            eq.status_equals);
    if (eq.offline_status_equals != 0 && (eq.offline_status_equals < LR_OFFLINE_ACTIVE ||
                                          eq.offline_status_equals > LR_OFFLINE_DISABLED))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: unknown value %d at "
                            "'offlineStoreStatusEquals'",
                            eq.offline_status_equals);
    if (eq.sort_by < LR_SORT_CREATION_TIME || eq.sort_by > LR_SORT_OFFLINE_STATUS)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: unknown value %d at 'sortBy'",
                            (int)eq.sort_by);
    st = lr__fg_token_decode(&eq, &cur, err);
    if (st != LR_OK)
        return st;
    return cat->ops->fg_list(cat->ctx, &eq, &cur, out, err);
}

void lr_fg_list_free(lr_fg_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof *l);
}

lr_status lr_catalog_feature_metadata_get(lr_catalog *cat, const char *fg, const char *feature,
                                          lr_feature_metadata *out, lr_error *err)
{
    lr_status st;

    if (out == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no output metadata");
    memset(out, 0, sizeof *out);
    st = check_handle(cat, err);
    if (st != LR_OK)
        return st;
    if (fg == NULL || feature == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group or feature name");
    return cat->ops->fm_get(cat->ctx, fg, feature, out, err);
}

void lr_feature_metadata_free(lr_feature_metadata *m)
{
    if (m == NULL)
        return;
    free(m->fg_name);
    free(m->fg_arn);
    free(m->feature_name);
    free(m->description);
    for (uint32_t i = 0; i < m->n_params; i++) {
        free(m->params[i].key);
        free(m->params[i].value);
    }
    free(m->params);
    memset(m, 0, sizeof *m);
}

/*
 * Counts the characters of valid UTF-8 text and reports whether it holds a
 * control character (C0, DEL or C1), which SageMaker's patterns exclude.
 */
static bool utf8_text(const char *s, size_t *chars, bool *control)
{
    size_t n = strlen(s), count = 0;
    const unsigned char *p = (const unsigned char *)s;

    *control = false;
    if (!lr_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; count++) {
        uint32_t cp;
        if (p[i] < 0x80) {
            cp = p[i];
            i += 1;
        } else if (p[i] < 0xE0) {
            cp = (uint32_t)(p[i] & 0x1F) << 6 | (p[i + 1] & 0x3F);
            i += 2;
        } else if (p[i] < 0xF0) {
            cp = (uint32_t)(p[i] & 0x0F) << 12 | (uint32_t)(p[i + 1] & 0x3F) << 6 |
                 (p[i + 2] & 0x3F);
            i += 3;
        } else {
            cp = (uint32_t)(p[i] & 0x07) << 18 | (uint32_t)(p[i + 1] & 0x3F) << 12 |
                 (uint32_t)(p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F);
            i += 4;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            *control = true;
    }
    *chars = count;
    return true;
}

static lr_status check_text(const char *what, const char *s, size_t min, size_t max,
                            bool allow_control, lr_error *err)
{
    size_t chars;
    bool control;

    if (!utf8_text(s, &chars, &control))
        return lr_error_set(err, LR_EINVAL, "%s: not valid UTF-8", what);
    if (chars < min || chars > max)
        return lr_error_set(err, LR_EINVAL,
                            "%s: must have length between %zu and %zu characters, got %zu", what,
                            min, max, chars);
    if (control && !allow_control)
        return lr_error_set(err, LR_EINVAL, "%s: must not contain control characters", what);
    return LR_OK;
}

lr_status lr_catalog_feature_metadata_update(lr_catalog *cat, const char *fg, const char *feature,
                                             const char *description,
                                             const lr_feature_param *additions, uint32_t n_add,
                                             const char *const *removals, uint32_t n_remove,
                                             lr_error *err)
{
    lr_status st = check_handle(cat, err);
    char what[64];

    if (st != LR_OK)
        return st;
    if (fg == NULL || feature == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group or feature name");
    if ((n_add > 0 && additions == NULL) || (n_remove > 0 && removals == NULL))
        return lr_error_set(err, LR_EINVAL, "catalog: parameter count without parameters");
    if (description) {
        /* SageMaker's Description pattern admits any text, newlines included. */
        st = check_text("Description", description, 0, LR_FEATURE_DESCRIPTION_MAX, true, err);
        if (st != LR_OK)
            return st;
    }
    if (n_add > LR_FEATURE_PARAMS_MAX)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value at 'parameterAdditions' failed "
                            "to satisfy constraint: Member must have length less than or equal "
                            "to %d",
                            LR_FEATURE_PARAMS_MAX);
    if (n_remove > LR_FEATURE_PARAMS_MAX)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value at 'parameterRemovals' failed "
                            "to satisfy constraint: Member must have length less than or equal "
                            "to %d",
                            LR_FEATURE_PARAMS_MAX);
    for (uint32_t i = 0; i < n_add; i++) {
        const lr_feature_param *p = &additions[i];
        if (p->key == NULL || p->value == NULL)
            return lr_error_set(err, LR_EINVAL, "ParameterAdditions.%u: missing Key or Value",
                                i + 1);
        snprintf(what, sizeof what, "ParameterAdditions.%u.Key", i + 1);
        st = check_text(what, p->key, 1, LR_FEATURE_PARAM_KEY_MAX, false, err);
        if (st != LR_OK)
            return st;
        snprintf(what, sizeof what, "ParameterAdditions.%u.Value", i + 1);
        st = check_text(what, p->value, 0, LR_FEATURE_PARAM_VALUE_MAX, false, err);
        if (st != LR_OK)
            return st;
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(additions[j].key, p->key) == 0)
                return lr_error_set(err, LR_EINVAL,
                                    "ParameterAdditions: key '%s' is given more than once", p->key);
        }
    }
    for (uint32_t i = 0; i < n_remove; i++) {
        if (removals[i] == NULL)
            return lr_error_set(err, LR_EINVAL, "ParameterRemovals.%u: missing key", i + 1);
        snprintf(what, sizeof what, "ParameterRemovals.%u", i + 1);
        st = check_text(what, removals[i], 1, LR_FEATURE_PARAM_KEY_MAX, false, err);
        if (st != LR_OK)
            return st;
        for (uint32_t j = 0; j < n_add; j++) {
            if (strcmp(additions[j].key, removals[i]) == 0)
                return lr_error_set(err, LR_EINVAL,
                                    "Parameter key '%s' is in both ParameterAdditions and "
                                    "ParameterRemovals",
                                    removals[i]);
        }
    }
    return cat->ops->fm_update(cat->ctx, fg, feature, description, additions, n_add, removals,
                               n_remove, lr_now_us(), err);
}
