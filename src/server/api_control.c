/*
 * api_control.c - the feature-group control plane (JSON 1.1, POST / with
 * X-Amz-Target: SageMaker.<Op>): CreateFeatureGroup, DescribeFeatureGroup,
 * UpdateFeatureGroup, DeleteFeatureGroup, ListFeatureGroups,
 * DescribeFeatureMetadata, UpdateFeatureMetadata and Search over feature
 * groups. Every call goes through the worker's catalog handle; a change
 * bumps the server's generation so that every worker's cache of
 * definitions is refreshed before its next request.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/log.h"
#include "larder/value.h"
#include "server/server_internal.h"

#define SEARCH_SCAN_MAX    100000 /* groups a Search looks at, at most */
#define SEARCH_DEPTH_MAX   5      /* nesting of SubExpressions */
#define SEARCH_FILTERS_MAX 20     /* filters (and subexpressions) per expression */

static const char ctype[] = "application/x-amz-json-1.1";

static void cfail(lr__conn *c, const lr_error *err)
{
    lr__respond_error(c, lr__err_from_status(err->code, true), true, "%s", lr_error_message(err));
}

static void cvalidation(lr__conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cvalidation(lr__conn *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lr__respond_error(c, ERR_VALIDATION_EXCEPTION, true, "%s", msg);
}

static void respond_buf(lr__conn *c, lr_status st, const lr_buf *b)
{
    if (st != LR_OK)
        lr__respond_error(c, ERR_INTERNAL, true, "cannot build the response: %s", lr_strerror(st));
    else
        lr__respond(c, 200, ctype, NULL, b->data, b->len);
}

static json_t *cparse(lr__conn *c, const lr__req *req)
{
    json_error_t je;
    json_t *j =
        json_loadb(req->body_len ? req->body : "{}", req->body_len ? req->body_len : 2, 0, &je);
    if (j == NULL) {
        cvalidation(c, "Malformed JSON in the request body: %s (line %d, column %d)", je.text,
                    je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        cvalidation(c, "The request body must be a JSON object");
        return NULL;
    }
    return j;
}

/* FeatureGroupName (a name or an ARN) into `out`. */
static lr_status group_name(json_t *j, const char *member, char out[LR_FG_NAME_MAX + 1],
                            lr_error *err)
{
    json_t *v = json_object_get(j, "FeatureGroupName");
    const char *name;
    size_t nl;
    if (!json_is_string(v))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value null at '%s' failed to satisfy "
                            "constraint: Member must not be null",
                            member);
    if (lr_fg_name_from_ref(json_string_value(v), json_string_length(v), &name, &nl, err) != LR_OK)
        return err->code;
    if (!lr_fg_name_valid(name, nl))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%.64s' at '%s' failed to "
                            "satisfy constraint: Member must satisfy regular expression pattern",
                            name, member);
    memcpy(out, name, nl);
    out[nl] = '\0';
    return LR_OK;
}

static lr_status arn_response(lr_buf *b, const char *arn)
{
    lr_status st = lr_buf_append_str(b, "{\"FeatureGroupArn\":");
    if (st == LR_OK)
        st = lr_buf_append_json_str(b, arn, strlen(arn));
    if (st == LR_OK)
        st = lr_buf_append_byte(b, '}');
    return st;
}

/* ---- CreateFeatureGroup ---- */

static void create_fg(lr__worker *w, lr__conn *c, lr__req *req)
{
    lr_fg_def *def = NULL, *stored = NULL;
    lr_error err;
    lr_status st;
    if (req->body_len == 0) {
        cvalidation(c, "The request body is empty: a JSON object is required");
        return;
    }
    if (lr_fg_def_parse(req->body, req->body_len, &def, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    st = lr_catalog_fg_create(w->cat, def, &stored, &err);
    lr_fg_def_free(def);
    if (st != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr__fg_invalidate(w->srv);
    lr_buf_clear(&w->scratch);
    respond_buf(c, arn_response(&w->scratch, stored->arn), &w->scratch);
    lr_fg_def_free(stored);
}

/* ---- DescribeFeatureGroup ---- */

/* The DescribeFeatureGroup object of def (plus OnlineStoreTotalSizeBytes) into b. */
static lr_status describe_json(lr__worker *w, const lr_fg_def *def, lr_buf *b)
{
    lr_status st = lr_fg_def_to_json(def, LR_FG_JSON_DESCRIBE, b);
    if (st == LR_OK && def->has_online_config && def->online_enabled && b->len > 0 &&
        b->data[b->len - 1] == '}') {
        lr_online_stats os;
        lr_error e2;
        if (lr_online_group_stats(w->srv->online, def->name, &os, &e2) == LR_OK) {
            b->len--;
            st = lr_buf_printf(b, ",\"OnlineStoreTotalSizeBytes\":%" PRIu64 "}", os.bytes);
        }
    }
    return st;
}

static void describe_fg(lr__worker *w, lr__conn *c, json_t *j)
{
    char name[LR_FG_NAME_MAX + 1];
    lr_fg_def *def = NULL;
    lr_error err;
    if (group_name(j, "featureGroupName", name, &err) != LR_OK ||
        lr_catalog_fg_get(w->cat, name, &def, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr_buf_clear(&w->scratch);
    respond_buf(c, describe_json(w, def, &w->scratch), &w->scratch);
    lr_fg_def_free(def);
}

/* ---- UpdateFeatureGroup ---- */

static void update_fg(lr__worker *w, lr__conn *c, json_t *j)
{
    char name[LR_FG_NAME_MAX + 1];
    json_t *adds = json_object_get(j, "FeatureAdditions"),
           *osc = json_object_get(j, "OnlineStoreConfig");
    json_t *tpc = json_object_get(j, "ThroughputConfig");
    lr_ttl ttl = {LR_TTL_NONE, 0};
    bool set_ttl = false;
    char *adds_json = NULL;
    lr_error err;
    lr_status st = LR_OK;

    if (group_name(j, "featureGroupName", name, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    if (adds == NULL && osc == NULL && tpc == NULL) {
        cvalidation(c, "UpdateFeatureGroup needs one of FeatureAdditions, "
                       "OnlineStoreConfig or ThroughputConfig");
        return;
    }
    if (osc != NULL) {
        json_t *t = json_object_get(osc, "TtlDuration");
        if (!json_is_object(osc)) {
            cvalidation(c, "OnlineStoreConfig must be an object");
            return;
        }
        if (t != NULL) {
            json_t *u = json_object_get(t, "Unit"), *v = json_object_get(t, "Value");
            if (!json_is_object(t) || !json_is_string(u) || !json_is_integer(v) ||
                (ttl.unit = lr_ttl_unit_parse(json_string_value(u))) == LR_TTL_NONE ||
                (ttl.value = json_integer_value(v)) < 1 || ttl.value > 1000000000) {
                cvalidation(c, "OnlineStoreConfig.TtlDuration must be {\"Unit\": "
                               "Seconds|Minutes|Hours|Days|Weeks, \"Value\": 1..1000000000}");
                return;
            }
        }
        set_ttl = true; /* an OnlineStoreConfig without TtlDuration clears it */
    }
    if (tpc != NULL) {
        json_t *m = json_object_get(tpc, "ThroughputMode");
        if (!json_is_object(tpc) ||
            (m != NULL &&
             (!json_is_string(m) || (strcmp(json_string_value(m), "OnDemand") != 0 &&
                                     strcmp(json_string_value(m), "Provisioned") != 0)))) {
            cvalidation(c, "ThroughputConfig.ThroughputMode must be OnDemand or "
                           "Provisioned");
            return;
        }
        /* Larder has no throughput modes: accepted and ignored (docs/server.md). */
    }
    if (adds != NULL && (adds_json = json_dumps(adds, JSON_COMPACT)) == NULL) {
        cvalidation(c, "FeatureAdditions must be a list of FeatureDefinition");
        return;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        lr_fg_def *cur = NULL, *next = NULL, *tmp = NULL;
        st = lr_catalog_fg_get(w->cat, name, &cur, &err);
        if (st == LR_OK && adds_json != NULL) {
            st = lr_fg_def_add_features(cur, adds_json, strlen(adds_json), &next, &err);
        }
        if (st == LR_OK && set_ttl) {
            if (!cur->has_online_config || !cur->online_enabled) {
                st = lr_error_set(&err, LR_EINVAL,
                                  "FeatureGroup '%s' has no OnlineStore: its TtlDuration cannot "
                                  "be set",
                                  name);
            } else {
                st = lr_fg_def_set_ttl(next != NULL ? next : cur, ttl, &tmp, &err);
                if (st == LR_OK) {
                    lr_fg_def_free(next);
                    next = tmp;
                }
            }
        }
        if (st == LR_OK && next != NULL)
            st = lr_catalog_fg_update(w->cat, next, &err);
        if (st == LR_OK) {
            lr__fg_invalidate(w->srv);
            lr_buf_clear(&w->scratch);
            st = arn_response(&w->scratch, cur->arn);
            lr_fg_def_free(cur);
            lr_fg_def_free(next);
            free(adds_json);
            {
                respond_buf(c, st, &w->scratch);
                return;
            }
        }
        lr_fg_def_free(cur);
        lr_fg_def_free(next);
        if (st != LR_ECONFLICT)
            break;
    }
    free(adds_json);
    cfail(c, &err);
}

/* ---- DeleteFeatureGroup ---- */

static void delete_fg(lr__worker *w, lr__conn *c, json_t *j)
{
    char name[LR_FG_NAME_MAX + 1];
    lr_error err;
    if (group_name(j, "featureGroupName", name, &err) != LR_OK ||
        lr_catalog_fg_delete(w->cat, name, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr__fg_invalidate(w->srv);
    if (lr_online_drop_group(w->srv->online, name, &err) != LR_OK)
        lr_log_error("server", "DeleteFeatureGroup %s: dropping online records: %s", name,
                     lr_error_message(&err));
    lr__respond(c, 200, ctype, NULL, "{}", 2);
}

/* ---- ListFeatureGroups ---- */

static lr_status time_member(json_t *j, const char *key, int64_t *us, lr_error *err)
{
    json_t *v = json_object_get(j, key);
    double s;
    if (v == NULL)
        return LR_OK;
    if (json_is_number(v)) {
        s = json_number_value(v);
        if (!isfinite(s) || s < -62135596800.0 || s > 253402300799.0)
            return lr_error_set(err, LR_EINVAL, "%s is out of range", key);
        *us = (int64_t)llround(s * 1e6);
        return LR_OK;
    }
    if (json_is_string(v))
        return lr_time_parse_iso8601(json_string_value(v), json_string_length(v), us, err);
    return lr_error_set(err, LR_EINVAL, "%s must be a timestamp (epoch seconds)", key);
}

static int parse_enum(json_t *v, const char *const *names, int n)
{
    if (!json_is_string(v))
        return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0)
            return i;
    }
    return -1;
}

static void list_fgs(lr__worker *w, lr__conn *c, json_t *j)
{
    static const char *const sort_names[] = {"CreationTime", "Name", "FeatureGroupStatus",
                                             "OfflineStoreStatus"};
    static const char *const order_names[] = {"Ascending", "Descending"};
    static const char *const fg_status[] = {"",         "Creating",    "Created", "CreateFailed",
                                            "Deleting", "DeleteFailed"};
    static const char *const off_status[] = {"", "Active", "Blocked", "Disabled"};
    lr_fg_list_query q;
    lr_fg_list page = {0};
    json_t *v;
    lr_error err;
    lr_status st;
    int e;

    lr_fg_list_query_init(&q);
    lr_error_clear(&err);
    if ((v = json_object_get(j, "NameContains")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 64) {
            cvalidation(c, "NameContains must be a string of 1..64 characters");
            return;
        }
        q.name_contains = json_string_value(v);
    }
    if ((v = json_object_get(j, "FeatureGroupStatusEquals")) != NULL) {
        if ((e = parse_enum(v, fg_status + 1, 5)) < 0) {
            cvalidation(c, "FeatureGroupStatusEquals must be one of Creating, Created, "
                           "CreateFailed, Deleting, DeleteFailed");
            return;
        }
        q.status_equals = e + 1;
    }
    if ((v = json_object_get(j, "OfflineStoreStatusEquals")) != NULL) {
        if ((e = parse_enum(v, off_status + 1, 3)) < 0) {
            cvalidation(c, "OfflineStoreStatusEquals must be one of Active, Blocked, "
                           "Disabled");
            return;
        }
        q.offline_status_equals = e + 1;
    }
    if (time_member(j, "CreationTimeAfter", &q.created_after_us, &err) != LR_OK ||
        time_member(j, "CreationTimeBefore", &q.created_before_us, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    if ((v = json_object_get(j, "SortBy")) != NULL) {
        if ((e = parse_enum(v, sort_names, 4)) < 0) {
            cvalidation(c, "SortBy must be one of Name, FeatureGroupStatus, "
                           "OfflineStoreStatus, CreationTime");
            return;
        }
        q.sort_by = (lr_fg_sort_by)e;
    }
    if ((v = json_object_get(j, "SortOrder")) != NULL) {
        if ((e = parse_enum(v, order_names, 2)) < 0) {
            cvalidation(c, "SortOrder must be Ascending or Descending");
            return;
        }
        q.ascending = e == 0;
    }
    if ((v = json_object_get(j, "MaxResults")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100) {
            cvalidation(c, "1 validation error detected: Value at 'maxResults' failed to "
                           "satisfy constraint: Member must have value between 1 and 100");
            return;
        }
        q.max_results = (uint32_t)json_integer_value(v);
    }
    if ((v = json_object_get(j, "NextToken")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) > 8192) {
            cvalidation(c, "NextToken must be a string of at most 8192 characters");
            return;
        }
        if (json_string_length(v) > 0)
            q.next_token = json_string_value(v);
    }
    st = lr_catalog_fg_list(w->cat, &q, &page, &err);
    if (st != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr_buf_clear(&w->scratch);
    st = lr_buf_append_str(&w->scratch, "{\"FeatureGroupSummaries\":[");
    for (uint32_t i = 0; i < page.n && st == LR_OK; i++) {
        const lr_fg_summary *s = &page.items[i];
        st = lr_buf_append_str(&w->scratch,
                               i ? ",{\"FeatureGroupName\":" : "{\"FeatureGroupName\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(&w->scratch, s->name, strlen(s->name));
        if (st == LR_OK)
            st = lr_buf_append_str(&w->scratch, ",\"FeatureGroupArn\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(&w->scratch, s->arn, strlen(s->arn));
        if (st == LR_OK)
            st = lr_buf_printf(&w->scratch,
                               ",\"CreationTime\":%.6f,\"FeatureGroupStatus\":\"%s\","
                               "\"OfflineStoreStatus\":{\"Status\":\"%s\"}}",
                               (double)s->creation_time_us / 1e6, lr_fg_status_name(s->status),
                               lr_offline_status_name(s->offline_status));
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(&w->scratch, ']');
    if (st == LR_OK && page.next_token != NULL) {
        st = lr_buf_append_str(&w->scratch, ",\"NextToken\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(&w->scratch, page.next_token, strlen(page.next_token));
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(&w->scratch, '}');
    lr_fg_list_free(&page);
    respond_buf(c, st, &w->scratch);
}

/* ---- feature metadata ---- */

static lr_status feature_name(json_t *j, char out[LR_FEATURE_NAME_MAX + 1], lr_error *err)
{
    json_t *v = json_object_get(j, "FeatureName");
    if (!json_is_string(v))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value null at "
                            "'featureName' failed to satisfy constraint: Member "
                            "must not be null");
    if (!lr_feature_name_valid(json_string_value(v), json_string_length(v)))
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%.64s' at 'featureName' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}",
                            json_string_value(v));
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return LR_OK;
}

static void describe_metadata(lr__worker *w, lr__conn *c, json_t *j)
{
    char fg[LR_FG_NAME_MAX + 1], fn[LR_FEATURE_NAME_MAX + 1];
    lr_feature_metadata m;
    lr_buf *b = &w->scratch;
    lr_error err;
    lr_status st;
    if (group_name(j, "featureGroupName", fg, &err) != LR_OK ||
        feature_name(j, fn, &err) != LR_OK ||
        lr_catalog_feature_metadata_get(w->cat, fg, fn, &m, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr_buf_clear(b);
    st = lr_buf_append_str(b, "{\"FeatureGroupArn\":");
    if (st == LR_OK)
        st = lr_buf_append_json_str(b, m.fg_arn, strlen(m.fg_arn));
    if (st == LR_OK)
        st = lr_buf_append_str(b, ",\"FeatureGroupName\":");
    if (st == LR_OK)
        st = lr_buf_append_json_str(b, m.fg_name, strlen(m.fg_name));
    if (st == LR_OK)
        st = lr_buf_append_str(b, ",\"FeatureName\":");
    if (st == LR_OK)
        st = lr_buf_append_json_str(b, m.feature_name, strlen(m.feature_name));
    if (st == LR_OK)
        st = lr_buf_printf(
            b, ",\"FeatureType\":\"%s\",\"CreationTime\":%.6f,\"LastModifiedTime\":%.6f",
            lr_feature_type_name(m.type), (double)m.creation_time_us / 1e6,
            (double)m.last_modified_time_us / 1e6);
    if (st == LR_OK && m.description != NULL) {
        st = lr_buf_append_str(b, ",\"Description\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(b, m.description, strlen(m.description));
    }
    if (st == LR_OK)
        st = lr_buf_append_str(b, ",\"Parameters\":[");
    for (uint32_t i = 0; i < m.n_params && st == LR_OK; i++) {
        st = lr_buf_append_str(b, i ? ",{\"Key\":" : "{\"Key\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(b, m.params[i].key, strlen(m.params[i].key));
        if (st == LR_OK)
            st = lr_buf_append_str(b, ",\"Value\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(b, m.params[i].value, strlen(m.params[i].value));
        if (st == LR_OK)
            st = lr_buf_append_byte(b, '}');
    }
    if (st == LR_OK)
        st = lr_buf_append_str(b, "]}");
    lr_feature_metadata_free(&m);
    respond_buf(c, st, b);
}

static void update_metadata(lr__worker *w, lr__conn *c, json_t *j)
{
    char fg[LR_FG_NAME_MAX + 1], fn[LR_FEATURE_NAME_MAX + 1];
    json_t *d = json_object_get(j, "Description"), *adds = json_object_get(j, "ParameterAdditions");
    json_t *rems = json_object_get(j, "ParameterRemovals");
    lr_feature_param params[LR_FEATURE_PARAMS_MAX];
    const char *removals[LR_FEATURE_PARAMS_MAX];
    size_t na = 0, nr = 0;
    lr_error err;

    if (group_name(j, "featureGroupName", fg, &err) != LR_OK ||
        feature_name(j, fn, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    if (d != NULL && !json_is_string(d)) {
        cvalidation(c, "Description must be a string");
        return;
    }
    if (adds != NULL) {
        if (!json_is_array(adds) || json_array_size(adds) > LR_FEATURE_PARAMS_MAX) {
            cvalidation(c,
                        "1 validation error detected: Value at 'parameterAdditions' "
                        "failed to satisfy constraint: Member must have length less "
                        "than or equal to %d",
                        LR_FEATURE_PARAMS_MAX);
            return;
        }
        for (na = 0; na < json_array_size(adds); na++) {
            json_t *p = json_array_get(adds, na), *k = json_object_get(p, "Key"),
                   *v = json_object_get(p, "Value");
            if (!json_is_string(k) || !json_is_string(v)) {
                cvalidation(c, "ParameterAdditions.%zu must have string Key and Value", na + 1);
                return;
            }
            params[na].key = (char *)json_string_value(k);
            params[na].value = (char *)json_string_value(v);
        }
    }
    if (rems != NULL) {
        if (!json_is_array(rems) || json_array_size(rems) > LR_FEATURE_PARAMS_MAX) {
            cvalidation(c,
                        "1 validation error detected: Value at 'parameterRemovals' "
                        "failed to satisfy constraint: Member must have length less "
                        "than or equal to %d",
                        LR_FEATURE_PARAMS_MAX);
            return;
        }
        for (nr = 0; nr < json_array_size(rems); nr++) {
            json_t *k = json_array_get(rems, nr);
            if (!json_is_string(k)) {
                cvalidation(c, "ParameterRemovals must hold strings");
                return;
            }
            removals[nr] = json_string_value(k);
        }
    }
    if (lr_catalog_feature_metadata_update(w->cat, fg, fn, d != NULL ? json_string_value(d) : NULL,
                                           params, (uint32_t)na, removals, (uint32_t)nr,
                                           &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    lr__respond(c, 200, ctype, NULL, "{}", 2);
}

/* ---- Search (Resource = FeatureGroup) ---- */

/* The value at a dotted property path ("OfflineStoreStatus.Status") of o. */
static json_t *property(json_t *o, const char *path)
{
    char part[128];
    while (o != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        o = json_is_object(o) ? json_object_get(o, part) : NULL;
        path += n + (dot != NULL);
    }
    return o;
}

/* A filter value as a number for comparison with a numeric property. */
static bool value_number(const char *s, double *out)
{
    char *end;
    int64_t us;
    lr_error e;
    double d = strtod(s, &end);
    if (end != s && *end == '\0') {
        *out = d;
        return true;
    }
    if (lr_time_parse_iso8601(s, strlen(s), &us, &e) == LR_OK) {
        *out = (double)us / 1e6;
        return true;
    }
    return false;
}

static int cmp_value(json_t *v, const char *value, bool *ok)
{
    *ok = true;
    if (json_is_number(v)) {
        double a = json_number_value(v), b;
        if (!value_number(value, &b)) {
            *ok = false;
            return 0;
        }
        return a < b ? -1 : a > b ? 1 : 0;
    }
    if (json_is_string(v))
        return strcmp(json_string_value(v), value);
    if (json_is_boolean(v))
        return strcasecmp(json_is_true(v) ? "true" : "false", value);
    *ok = false;
    return 0;
}

static lr_status check_filter(json_t *f, lr_error *err)
{
    static const char *const ops[] = {"Equals",      "NotEquals",
                                      "GreaterThan", "GreaterThanOrEqualTo",
                                      "LessThan",    "LessThanOrEqualTo",
                                      "Contains",    "Exists",
                                      "NotExists",   "In"};
    json_t *n = json_object_get(f, "Name"), *op = json_object_get(f, "Operator"),
           *v = json_object_get(f, "Value");
    int k = op == NULL ? 0 : parse_enum(op, ops, 10);
    if (!json_is_object(f) || !json_is_string(n) || json_string_length(n) < 1 ||
        json_string_length(n) > 1024)
        return lr_error_set(err, LR_EINVAL, "Each Filter needs a Name (1..1024 characters)");
    if (k < 0)
        return lr_error_set(err, LR_EINVAL, "Filter Operator '%.40s' is not supported",
                            json_is_string(op) ? json_string_value(op) : "?");
    if (k != 7 && k != 8 && !json_is_string(v))
        return lr_error_set(err, LR_EINVAL, "Filter '%s' needs a Value", json_string_value(n));
    if (v != NULL && (!json_is_string(v) || json_string_length(v) > 1024))
        return lr_error_set(err, LR_EINVAL,
                            "Filter Value must be a string of at most 1024 "
                            "characters");
    return LR_OK;
}

static bool eval_filter(json_t *f, json_t *obj)
{
    const char *name = json_string_value(json_object_get(f, "Name"));
    const char *op = json_object_get(f, "Operator")
                         ? json_string_value(json_object_get(f, "Operator"))
                         : "Equals";
    const char *value = json_string_value(json_object_get(f, "Value"));
    json_t *v = property(obj, name);
    bool ok;
    int c;
    if (strcmp(op, "Exists") == 0)
        return v != NULL && !json_is_null(v);
    if (strcmp(op, "NotExists") == 0)
        return v == NULL || json_is_null(v);
    if (v == NULL)
        return strcmp(op, "NotEquals") == 0;
    if (strcmp(op, "Contains") == 0)
        return json_is_string(v) && strstr(json_string_value(v), value) != NULL;
    if (strcmp(op, "In") == 0) {
        const char *s = value;
        while (*s) {
            const char *comma = strchr(s, ',');
            size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
            char one[1025];
            memcpy(one, s, n);
            one[n] = '\0';
            c = cmp_value(v, one, &ok);
            if (ok && c == 0)
                return true;
            s += n + (comma != NULL);
        }
        return false;
    }
    c = cmp_value(v, value, &ok);
    if (!ok)
        return false;
    if (strcmp(op, "Equals") == 0)
        return c == 0;
    if (strcmp(op, "NotEquals") == 0)
        return c != 0;
    if (strcmp(op, "GreaterThan") == 0)
        return c > 0;
    if (strcmp(op, "GreaterThanOrEqualTo") == 0)
        return c >= 0;
    if (strcmp(op, "LessThan") == 0)
        return c < 0;
    return c <= 0;
}

static lr_status check_expr(json_t *e, int depth, lr_error *err)
{
    json_t *filters = json_object_get(e, "Filters"), *subs = json_object_get(e, "SubExpressions");
    json_t *op = json_object_get(e, "Operator");
    if (!json_is_object(e))
        return lr_error_set(err, LR_EINVAL, "SearchExpression must be an object");
    if (depth > SEARCH_DEPTH_MAX)
        return lr_error_set(err, LR_EINVAL, "SearchExpression nests deeper than %d levels",
                            SEARCH_DEPTH_MAX);
    if (json_object_get(e, "NestedFilters") != NULL)
        return lr_error_set(err, LR_EINVAL,
                            "NestedFilters are not supported for FeatureGroup "
                            "searches");
    if (op != NULL && (!json_is_string(op) || (strcmp(json_string_value(op), "And") != 0 &&
                                               strcmp(json_string_value(op), "Or") != 0)))
        return lr_error_set(err, LR_EINVAL, "SearchExpression Operator must be And or Or");
    if ((filters != NULL &&
         (!json_is_array(filters) || json_array_size(filters) > SEARCH_FILTERS_MAX)) ||
        (subs != NULL && (!json_is_array(subs) || json_array_size(subs) > SEARCH_FILTERS_MAX)))
        return lr_error_set(err, LR_EINVAL, "Filters and SubExpressions are lists of at most %d",
                            SEARCH_FILTERS_MAX);
    for (size_t i = 0; i < json_array_size(filters); i++) {
        if (check_filter(json_array_get(filters, i), err) != LR_OK)
            return err->code;
    }
    for (size_t i = 0; i < json_array_size(subs); i++) {
        if (check_expr(json_array_get(subs, i), depth + 1, err) != LR_OK)
            return err->code;
    }
    return LR_OK;
}

static bool eval_expr(json_t *e, json_t *obj)
{
    json_t *filters = json_object_get(e, "Filters"), *subs = json_object_get(e, "SubExpressions");
    json_t *op = json_object_get(e, "Operator");
    bool is_or = op != NULL && strcmp(json_string_value(op), "Or") == 0;
    size_t n = json_array_size(filters) + json_array_size(subs);
    if (n == 0)
        return true;
    for (size_t i = 0; i < json_array_size(filters); i++) {
        bool r = eval_filter(json_array_get(filters, i), obj);
        if (r && is_or)
            return true;
        if (!r && !is_or)
            return false;
    }
    for (size_t i = 0; i < json_array_size(subs); i++) {
        bool r = eval_expr(json_array_get(subs, i), obj);
        if (r && is_or)
            return true;
        if (!r && !is_or)
            return false;
    }
    return !is_or;
}

typedef struct hit {
    json_t *obj;
    const char *name;
} hit;

typedef struct sort_spec {
    const char *by;
    bool desc;
} sort_spec;

static int hit_cmp(const void *a, const void *b, void *ctx)
{
    const hit *x = a, *y = b;
    const sort_spec *sp = ctx;
    json_t *u = property(x->obj, sp->by), *v = property(y->obj, sp->by);
    int c = 0;
    if (u == NULL || v == NULL)
        c = (u == NULL) - (v == NULL);
    else if (json_is_number(u) && json_is_number(v))
        c = json_number_value(u) < json_number_value(v)
                ? -1
                : json_number_value(u) > json_number_value(v);
    else if (json_is_string(u) && json_is_string(v))
        c = strcmp(json_string_value(u), json_string_value(v));
    if (c == 0)
        c = strcmp(x->name, y->name);
    return sp->desc ? -c : c;
}

static uint32_t query_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void search(lr__worker *w, lr__conn *c, json_t *j)
{
    json_t *res = json_object_get(j, "Resource"), *expr = json_object_get(j, "SearchExpression");
    json_t *sb = json_object_get(j, "SortBy"), *so = json_object_get(j, "SortOrder");
    json_t *mr = json_object_get(j, "MaxResults"), *nt = json_object_get(j, "NextToken");
    const char *sort_by = "CreationTime";
    bool desc = true;
    size_t max = 10, offset = 0, nhits = 0, caphits = 0;
    hit *hits = NULL;
    char *qtext = NULL, *token = NULL;
    uint32_t qh;
    lr_buf body;
    lr_error err;
    lr_status st = LR_OK;

    lr_buf_init(&body, 0);
    lr_error_clear(&err);
    if (!json_is_string(res)) {
        cvalidation(c, "1 validation error detected: Value null at 'resource' failed to "
                       "satisfy constraint: Member must not be null");
        return;
    }
    if (strcmp(json_string_value(res), "FeatureGroup") != 0) {
        cvalidation(c, "Larder searches Resource FeatureGroup only, not '%.64s'",
                    json_string_value(res));
        return;
    }
    if (expr != NULL && check_expr(expr, 1, &err) != LR_OK) {
        cfail(c, &err);
        return;
    }
    if (sb != NULL) {
        if (!json_is_string(sb) || json_string_length(sb) < 1 || json_string_length(sb) > 255) {
            cvalidation(c, "SortBy must be a property name of 1..255 characters");
            return;
        }
        sort_by = json_string_value(sb);
    }
    if (so != NULL) {
        if (!json_is_string(so) || (strcmp(json_string_value(so), "Ascending") != 0 &&
                                    strcmp(json_string_value(so), "Descending") != 0)) {
            cvalidation(c, "SortOrder must be Ascending or Descending");
            return;
        }
        desc = strcmp(json_string_value(so), "Descending") == 0;
    }
    if (mr != NULL) {
        if (!json_is_integer(mr) || json_integer_value(mr) < 1 || json_integer_value(mr) > 100) {
            cvalidation(c, "1 validation error detected: Value at 'maxResults' failed to "
                           "satisfy constraint: Member must have value between 1 and 100");
            return;
        }
        max = (size_t)json_integer_value(mr);
    }
    /* the token names the offset and the query it belongs to */
    {
        json_t *copy = json_deep_copy(j);
        if (copy == NULL) {
            lr__respond_error(c, ERR_INTERNAL, true, "out of memory");
            return;
        }
        json_object_del(copy, "NextToken");
        json_object_del(copy, "MaxResults");
        qtext = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(copy);
        if (qtext == NULL) {
            lr__respond_error(c, ERR_INTERNAL, true, "out of memory");
            return;
        }
        qh = query_hash(qtext);
        free(qtext);
    }
    if (nt != NULL && !(json_is_string(nt) && json_string_length(nt) == 0)) {
        unsigned long long off;
        unsigned int h;
        char tail;
        if (!json_is_string(nt) ||
            sscanf(json_string_value(nt), "s1.%llu.%x%c", &off, &h, &tail) != 2 || h != qh ||
            off > SEARCH_SCAN_MAX) {
            cvalidation(c, "Invalid pagination token");
            return;
        }
        offset = (size_t)off;
    }
    /* every group, as DescribeFeatureGroup shows it */
    for (int pages = 0; pages < SEARCH_SCAN_MAX / 100 && st == LR_OK; pages++) {
        lr_fg_list_query q;
        lr_fg_list page = {0};
        lr_fg_list_query_init(&q);
        q.sort_by = LR_SORT_NAME;
        q.ascending = true;
        q.max_results = 100;
        q.next_token = token;
        st = lr_catalog_fg_list(w->cat, &q, &page, &err);
        free(token);
        token = NULL;
        if (st != LR_OK)
            break;
        for (uint32_t i = 0; i < page.n && st == LR_OK; i++) {
            lr_fg_def *def = NULL;
            json_t *obj;
            json_error_t je;
            if (lr_catalog_fg_get(w->cat, page.items[i].name, &def, &err) != LR_OK)
                continue; /* deleted meanwhile */
            lr_buf_clear(&body);
            st = describe_json(w, def, &body);
            lr_fg_def_free(def);
            if (st != LR_OK)
                break;
            obj = json_loadb(body.data, body.len, 0, &je);
            if (obj == NULL) {
                st =
                    lr_error_set(&err, LR_EINTERNAL, "describe output does not parse: %s", je.text);
                break;
            }
            json_object_del(obj, "NextToken");
            if (expr != NULL && !eval_expr(expr, obj)) {
                json_decref(obj);
                continue;
            }
            if (nhits == caphits) {
                size_t nc = caphits ? caphits * 2 : 64;
                hit *nh = realloc(hits, nc * sizeof *nh);
                if (nh == NULL) {
                    json_decref(obj);
                    st = lr_error_set(&err, LR_ENOMEM, "out of memory");
                    break;
                }
                hits = nh;
                caphits = nc;
            }
            hits[nhits].obj = obj;
            hits[nhits].name = json_string_value(json_object_get(obj, "FeatureGroupName"));
            if (hits[nhits].name == NULL)
                hits[nhits].name = "";
            nhits++;
        }
        if (st == LR_OK && page.next_token != NULL && (token = strdup(page.next_token)) == NULL)
            st = lr_error_set(&err, LR_ENOMEM, "out of memory");
        lr_fg_list_free(&page);
        if (token == NULL)
            break;
    }
    free(token);
    if (st == LR_OK) {
        sort_spec sp = {sort_by, desc};
        if (nhits > 1)
            qsort_r(hits, nhits, sizeof *hits, hit_cmp, &sp);
        lr_buf_clear(&w->scratch);
        st = lr_buf_append_str(&w->scratch, "{\"Results\":[");
        for (size_t i = offset; i < nhits && i < offset + max && st == LR_OK; i++) {
            char *s = json_dumps(hits[i].obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s == NULL) {
                st = LR_ENOMEM;
                break;
            }
            st = lr_buf_printf(&w->scratch, "%s{\"FeatureGroup\":%s}", i > offset ? "," : "", s);
            free(s);
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(&w->scratch, ']');
        if (st == LR_OK && offset + max < nhits)
            st = lr_buf_printf(&w->scratch, ",\"NextToken\":\"s1.%zu.%x\"", offset + max, qh);
        if (st == LR_OK)
            st = lr_buf_append_byte(&w->scratch, '}');
        respond_buf(c, st, &w->scratch);
    } else {
        cfail(c, &err);
    }
    for (size_t i = 0; i < nhits; i++)
        json_decref(hits[i].obj);
    free(hits);
    lr_buf_free(&body);
}

void lr__api_control(lr__worker *w, lr__conn *c, lr__req *req, lr__op op)
{
    json_t *j;
    if (op == OP_CREATE_FEATURE_GROUP) {
        create_fg(w, c, req);
        return;
    }
    if ((j = cparse(c, req)) == NULL)
        return;
    switch (op) {
    case OP_DESCRIBE_FEATURE_GROUP:
        describe_fg(w, c, j);
        break;
    case OP_UPDATE_FEATURE_GROUP:
        update_fg(w, c, j);
        break;
    case OP_DELETE_FEATURE_GROUP:
        delete_fg(w, c, j);
        break;
    case OP_LIST_FEATURE_GROUPS:
        list_fgs(w, c, j);
        break;
    case OP_DESCRIBE_FEATURE_METADATA:
        describe_metadata(w, c, j);
        break;
    case OP_UPDATE_FEATURE_METADATA:
        update_metadata(w, c, j);
        break;
    case OP_SEARCH:
        search(w, c, j);
        break;
    default:
        lr__respond_error(c, ERR_UNKNOWN_OPERATION, true, "Unknown operation");
        break;
    }
    json_decref(j);
}
