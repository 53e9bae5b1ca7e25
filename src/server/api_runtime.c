/*
 * api_runtime.c - the SageMaker Feature Store runtime operations: GetRecord,
 * PutRecord, DeleteRecord, BatchGetRecord, BatchWriteRecord, ListRecords and
 * UpdateRecord, with SageMaker's validation, error codes and messages.
 *
 * GetRecord is the hot path: the query is decoded into the worker's arena
 * (whose first block is reused turn after turn), the group comes from the
 * worker's cache, the record from the worker's online reader, and the JSON
 * is written into the worker's scratch buffer: no allocation, no lock.
 *
 * PutRecord and DeleteRecord are validated at once and then queued in the
 * worker's write batch; at the end of the loop turn the batch goes to the
 * online store in one call (one group commit with other workers' batches)
 * and to the offline log in one append, and then every queued request is
 * answered. A connection waits (reads nothing more) while its write is
 * queued, so pipelined requests keep their order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/log.h"
#include "larder/offline.h"
#include "larder/value.h"
#include "server/json.h"
#include "server/server_internal.h"

#define MAX_BATCH_GET_RECORDS   100
#define MAX_BATCH_GET_GROUPS    100
#define MAX_BATCH_WRITE_ENTRIES 25
#define MAX_UPDATE_FEATURES     100
#define MAX_LIST_RESULTS        100

/* ---- small helpers ---- */

static void fail(lr__conn *c, const lr_error *err)
{
    lr__respond_error(c, lr__err_from_status(err->code, false), false, "%s", lr_error_message(err));
}

static void validation(lr__conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void validation(lr__conn *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lr__respond_error(c, ERR_VALIDATION, false, "%s", msg);
}

static bool online_enabled(const lr_fg_def *d)
{
    return d->has_online_config && d->online_enabled;
}

static bool offline_enabled(const lr_fg_def *d)
{
    return d->has_offline_config && d->offline_status != LR_OFFLINE_DISABLED;
}

/* Resolves a group reference (name or ARN, percent-encoded or not). */
static lr_status resolve_group(lr__worker *w, const char *ref, size_t len, bool encoded,
                               const lr_fg_def **def, lr_error *err)
{
    const char *name = ref;
    size_t nl = len;
    if (encoded && memchr(ref, '%', len) != NULL) {
        bool bad;
        ref = lr__pct_decode(w->arena, ref, len, &len, &bad);
        if (ref == NULL)
            return lr_error_set(err, bad ? LR_EINVAL : LR_ENOMEM,
                                bad ? "Malformed percent-escape in the feature group name"
                                    : "out of memory");
    }
    if (len > 2048)
        return lr_error_set(err, LR_EINVAL, "Feature group name or ARN longer than 2048 bytes");
    if (lr_fg_name_from_ref(ref, len, &name, &nl, err) != LR_OK)
        return err->code;
    return lr__fg_lookup(w, name, nl, def, err);
}

/* The group of a {name} route; answers the error itself. */
static const lr_fg_def *route_group(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = NULL;
    lr_error err;
    if (resolve_group(w, req->fg_ref, req->fg_ref_len, true, &def, &err) != LR_OK) {
        fail(c, &err);
        return NULL;
    }
    return def;
}

/* Accessors of the arena JSON tree (server/json.h); NULL-safe. */
static bool j_is_object(const lr__jval *v)
{
    return v != NULL && v->type == LR__J_OBJECT;
}

static bool j_is_array(const lr__jval *v)
{
    return v != NULL && v->type == LR__J_ARRAY;
}

static bool j_is_string(const lr__jval *v)
{
    return v != NULL && v->type == LR__J_STRING;
}

static bool j_is_boolean(const lr__jval *v)
{
    return v != NULL && (v->type == LR__J_TRUE || v->type == LR__J_FALSE);
}

static bool j_is_true(const lr__jval *v)
{
    return v != NULL && v->type == LR__J_TRUE;
}

static bool j_is_integer(const lr__jval *v)
{
    int64_t x;
    return lr__json_int(v, &x);
}

static int64_t j_int(const lr__jval *v)
{
    int64_t x = 0;
    lr__json_int(v, &x);
    return x;
}

static size_t j_size(const lr__jval *v)
{
    return j_is_array(v) ? v->n : 0;
}

static const lr__jval *j_at(const lr__jval *v, size_t i)
{
    return j_is_array(v) && i < v->n ? &v->items[i] : NULL;
}

static const char *j_str(const lr__jval *v)
{
    return j_is_string(v) ? v->s : NULL;
}

static size_t j_len(const lr__jval *v)
{
    return j_is_string(v) ? v->len : 0;
}

/* The request body as a JSON object in the worker's arena; answers the error itself. */
static const lr__jval *parse_body(lr__worker *w, lr__conn *c, const lr__req *req)
{
    lr__jval *j;
    lr_error err;
    if (req->body_len == 0) {
        validation(c, "The request body is empty: a JSON object is required");
        return NULL;
    }
    if (lr__json_parse(w->arena, req->body, req->body_len, &j, &err) != LR_OK) {
        if (err.code == LR_EINVAL)
            validation(c, "Malformed JSON in the request body: %s", err.msg);
        else /* the worker arena's cap: a body of very many tiny values */
            validation(c, "The request body has too many JSON values to read");
        return NULL;
    }
    if (!j_is_object(j)) {
        validation(c, "The request body must be a JSON object");
        return NULL;
    }
    return j;
}

static lr_status copy_str(lr__worker *w, const lr__jval *v, lr_str *out, lr_error *err)
{
    (void)w;
    (void)err;
    out->ptr = v->s; /* already in the arena, unescaped */
    out->len = v->len;
    return LR_OK;
}

/* [{FeatureName, ValueAsString | ValueAsStringList}] -> rec's values (strings in the arena). */
static lr_status parse_values(lr__worker *w, const lr_fg_def *def, const lr__jval *arr,
                              const char *field, lr_record *rec, lr_error *err)
{
    size_t n;
    memset(rec, 0, sizeof *rec);
    if (!j_is_array(arr))
        return lr_error_set(err, LR_EINVAL, "%s must be a list of FeatureValue", field);
    n = j_size(arr);
    if (n < 1 || n > LR_FG_FEATURES_MAX)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value at '%s' failed to satisfy "
                            "constraint: Member must have length between 1 and %d",
                            field, LR_FG_FEATURES_MAX);
    rec->values = lr_arena_calloc(w->arena, n, sizeof *rec->values);
    if (rec->values == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory (request too large)");
    for (size_t i = 0; i < n; i++) {
        const lr__jval *fv = j_at(arr, i), *fn, *vs, *vl;
        lr_feature_value *v = &rec->values[i];
        int32_t idx;
        if (!j_is_object(fv) || !j_is_string(fn = lr__json_get(fv, "FeatureName")))
            return lr_error_set(err, LR_EINVAL, "%s.%zu.FeatureName must be a string", field,
                                i + 1);
        idx = lr_fg_def_find_feature(def, j_str(fn), j_len(fn));
        if (idx < 0)
            return lr_error_set(err, LR_EINVAL,
                                "Feature '%.64s' is not defined in FeatureGroup '%s'", j_str(fn),
                                def->name);
        v->feature = (uint32_t)idx;
        vs = lr__json_get(fv, "ValueAsString");
        vl = lr__json_get(fv, "ValueAsStringList");
        if ((vs != NULL) == (vl != NULL))
            return lr_error_set(err, LR_EINVAL,
                                "Feature '%s': exactly one of ValueAsString and "
                                "ValueAsStringList must be given",
                                def->features[idx].name);
        if (vs != NULL) {
            if (!j_is_string(vs))
                return lr_error_set(err, LR_EINVAL, "Feature '%s': ValueAsString must be a string",
                                    def->features[idx].name);
            if (copy_str(w, vs, &v->value, err) != LR_OK)
                return err->code;
        } else {
            size_t m;
            lr_str *items;
            if (!j_is_array(vl))
                return lr_error_set(err, LR_EINVAL,
                                    "Feature '%s': ValueAsStringList must be a list of strings",
                                    def->features[idx].name);
            m = j_size(vl);
            items = lr_arena_calloc(w->arena, m ? m : 1, sizeof *items);
            if (items == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory (request too large)");
            for (size_t k = 0; k < m; k++) {
                const lr__jval *it = j_at(vl, k);
                if (!j_is_string(it))
                    return lr_error_set(err, LR_EINVAL,
                                        "Feature '%s': ValueAsStringList must hold strings only",
                                        def->features[idx].name);
                if (copy_str(w, it, &items[k], err) != LR_OK)
                    return err->code;
            }
            v->is_list = true;
            v->items = items;
            v->n_items = (uint32_t)m;
        }
    }
    rec->n_values = (uint32_t)n;
    return LR_OK;
}

/* A whole record, as PutRecord takes it, validated against the group. */
static lr_status parse_record(lr__worker *w, const lr_fg_def *def, const lr__jval *arr,
                              const char *field, lr_record *rec, lr_error *err)
{
    lr_status st = parse_values(w, def, arr, field, rec, err);
    return st != LR_OK ? st : lr_record_validate(def, rec, err);
}

/* TtlDuration {Unit, Value}. */
static lr_status parse_ttl(const lr__jval *o, lr_ttl *out, lr_error *err)
{
    const lr__jval *u = lr__json_get(o, "Unit"), *v = lr__json_get(o, "Value");
    if (!j_is_object(o) || !j_is_string(u) || !j_is_integer(v))
        return lr_error_set(err, LR_EINVAL,
                            "TtlDuration must be {\"Unit\": Seconds|Minutes|Hours|Days|Weeks, "
                            "\"Value\": integer >= 1}");
    out->unit = lr_ttl_unit_parse(j_str(u));
    out->value = j_int(v);
    if (out->unit == LR_TTL_NONE)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%.32s' at 'ttlDuration.unit' "
                            "failed to satisfy constraint: Member must satisfy enum value set: "
                            "[Seconds, Minutes, Hours, Days, Weeks]",
                            j_str(u));
    if (out->value < 1 || out->value > 1000000000)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%lld' at 'ttlDuration.value' "
                            "failed to satisfy constraint: Member must have value between 1 and "
                            "1000000000",
                            (long long)out->value);
    return LR_OK;
}

/* TargetStores: 1..2 of OnlineStore, OfflineStore (no repeats) checked against the group. */
static lr_status parse_target_stores(const lr_fg_def *def, const lr__jval *arr, bool *on, bool *off,
                                     lr_error *err)
{
    if (arr == NULL) {
        *on = online_enabled(def);
        *off = offline_enabled(def);
        return LR_OK;
    }
    *on = *off = false;
    if (!j_is_array(arr) || j_size(arr) < 1 || j_size(arr) > 2)
        return lr_error_set(err, LR_EINVAL,
                            "TargetStores must list 1 or 2 of OnlineStore, "
                            "OfflineStore");
    for (size_t i = 0; i < j_size(arr); i++) {
        const char *s = j_str(j_at(arr, i));
        bool *flag = s == NULL                        ? NULL
                     : strcmp(s, "OnlineStore") == 0  ? on
                     : strcmp(s, "OfflineStore") == 0 ? off
                                                      : NULL;
        if (flag == NULL)
            return lr_error_set(err, LR_EINVAL,
                                "1 validation error detected: Value at 'targetStores' failed to "
                                "satisfy constraint: Member must satisfy enum value set: "
                                "[OnlineStore, OfflineStore]");
        if (*flag)
            return lr_error_set(err, LR_EINVAL, "TargetStores lists %s twice", s);
        *flag = true;
    }
    if (*on && !online_enabled(def))
        return lr_error_set(err, LR_EINVAL, "FeatureGroup '%s' does not have an OnlineStore",
                            def->name);
    if (*off && !offline_enabled(def))
        return lr_error_set(err, LR_EINVAL, "FeatureGroup '%s' does not have an OfflineStore",
                            def->name);
    return LR_OK;
}

/* ---- query strings ---- */

typedef struct qparam {
    const char *key;
    size_t klen;
    const char *val; /* raw (encoded) */
    size_t vlen;
} qparam;

/* Calls fn for each key=value of the query; stops at the first non-zero return. */
static bool query_next(const char **q, const char *end, qparam *p)
{
    while (*q < end) {
        const char *s = *q, *e = memchr(s, '&', (size_t)(end - s)), *eq;
        if (e == NULL)
            e = end;
        *q = e < end ? e + 1 : end;
        if (e == s)
            continue;
        eq = memchr(s, '=', (size_t)(e - s));
        p->key = s;
        p->klen = eq != NULL ? (size_t)(eq - s) : (size_t)(e - s);
        p->val = eq != NULL ? eq + 1 : e;
        p->vlen = eq != NULL ? (size_t)(e - eq - 1) : 0;
        return true;
    }
    return false;
}

static bool key_is(const qparam *p, const char *k)
{
    return p->klen == strlen(k) && memcmp(p->key, k, p->klen) == 0;
}

static const char *decode(lr__worker *w, const qparam *p, size_t *len, lr_error *err)
{
    bool bad;
    const char *s;
    if (memchr(p->val, '%', p->vlen) == NULL && memchr(p->val, '+', p->vlen) == NULL) {
        *len = p->vlen;
        return p->val;
    }
    s = lr__pct_decode(w->arena, p->val, p->vlen, len, &bad);
    if (s == NULL)
        lr_error_set(err, bad ? LR_EINVAL : LR_ENOMEM, "%s",
                     bad ? "Malformed percent-escape in the query string" : "out of memory");
    return s;
}

/* ---- JSON output ---- */

/*
 * The JSON openings {"FeatureName":"<name>" of def's features, made once per
 * group version and reused while the worker serves it (NULL when out of
 * memory: append_row then writes them itself). A definition is immutable
 * and a version (name, creation and last-modified times) has one list of
 * features, so a key of all four cannot match other names.
 */
static const lr_buf *feature_openings(lr__worker *w, const lr_fg_def *def, const uint32_t **off)
{
    if (w->frag_def == def && w->frag_created_us == def->creation_time_us &&
        w->frag_modified_us == def->last_modified_time_us && w->frag_off != NULL &&
        strcmp(w->frag_name, def->name) == 0) {
        *off = w->frag_off;
        return &w->frags;
    }
    w->frag_def = NULL;
    uint32_t *no = realloc(w->frag_off, ((size_t)def->n_features + 1) * sizeof *no);
    if (no == NULL)
        return NULL;
    w->frag_off = no;
    lr_buf_clear(&w->frags);
    for (uint32_t i = 0; i < def->n_features; i++) {
        const char *name = def->features[i].name;
        no[i] = (uint32_t)w->frags.len;
        if (lr_buf_append_str(&w->frags, "{\"FeatureName\":") != LR_OK ||
            lr_buf_append_json_str(&w->frags, name, strlen(name)) != LR_OK)
            return NULL;
    }
    no[def->n_features] = (uint32_t)w->frags.len;
    w->frag_def = def;
    snprintf(w->frag_name, sizeof w->frag_name, "%s", def->name);
    w->frag_created_us = def->creation_time_us;
    w->frag_modified_us = def->last_modified_time_us;
    *off = no;
    return &w->frags;
}

static lr_status append_row(lr_buf *o, const lr_fg_def *def, const lr_online_row *row,
                            const lr_buf *frags, const uint32_t *frag_off)
{
    lr_status st = lr_buf_append_byte(o, '[');
    for (uint32_t i = 0; i < row->n_fields && st == LR_OK; i++) {
        const lr_online_field *f = &row->fields[i];
        if (i > 0)
            st = lr_buf_append_byte(o, ',');
        if (st == LR_OK && frags != NULL) {
            st = lr_buf_append(o, frags->data + frag_off[f->feature],
                               frag_off[f->feature + 1] - frag_off[f->feature]);
        } else if (st == LR_OK) {
            const char *name = def->features[f->feature].name;
            st = lr_buf_append_str(o, "{\"FeatureName\":");
            if (st == LR_OK)
                st = lr_buf_append_json_str(o, name, strlen(name));
        }
        if (st != LR_OK)
            break;
        if (!f->is_list) {
            st = lr_buf_append_str(o, ",\"ValueAsString\":");
            if (st == LR_OK)
                st = lr_buf_append_json_str(o, f->data, f->len);
        } else {
            size_t pos = 0;
            lr_str item;
            bool first = true;
            st = lr_buf_append_str(o, ",\"ValueAsStringList\":[");
            while (st == LR_OK && lr_online_field_item(f, &pos, &item)) {
                if (!first)
                    st = lr_buf_append_byte(o, ',');
                if (st == LR_OK)
                    st = lr_buf_append_json_str(o, item.ptr, item.len);
                first = false;
            }
            if (st == LR_OK)
                st = lr_buf_append_byte(o, ']');
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(o, '}');
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(o, ']');
    return st;
}

static lr_status append_expires(lr_buf *o, const lr_online_row *row)
{
    char t[LR_TIME_STR_MAX];
    lr_time_format_millis(row->expires_at_us, t);
    return lr_buf_printf(o, ",\"ExpiresAt\":\"%s\"", t);
}

static void respond_json(lr__conn *c, lr_status st, lr_buf *body)
{
    if (st != LR_OK) {
        lr__respond_error(c, ERR_INTERNAL, false, "cannot build the response: %s", lr_strerror(st));
        return;
    }
    lr__respond(c, 200, "application/json", NULL, body->data, body->len);
}

static lr_status parse_expiration(const char *v, size_t n, bool *enabled, lr_error *err)
{
    if (n == 7 && memcmp(v, "Enabled", 7) == 0)
        *enabled = true;
    else if (n == 8 && memcmp(v, "Disabled", 8) == 0)
        *enabled = false;
    else
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value '%.*s' at "
                            "'expirationTimeResponse' failed to satisfy constraint: Member must "
                            "satisfy enum value set: [Enabled, Disabled]",
                            (int)(n > 32 ? 32 : n), v);
    return LR_OK;
}

static lr_status check_record_id(size_t len, lr_error *err)
{
    if (len == 0 || len > LR_RECORD_ID_MAX_BYTES)
        return lr_error_set(err, LR_EINVAL,
                            "1 validation error detected: Value at "
                            "'recordIdentifierValueAsString' failed to satisfy constraint: "
                            "Member must have length between 1 and %d bytes",
                            LR_RECORD_ID_MAX_BYTES);
    return LR_OK;
}

/* ---- GetRecord ---- */

static void get_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = route_group(w, c, req);
    const char *q = req->query, *qend = req->query + req->query_len, *id = NULL;
    size_t id_len = 0;
    lr_str *names = NULL;
    uint32_t n_names = 0, cap_names = 0, *proj = NULL, n_proj = 0;
    bool expires = false;
    qparam p;
    lr_online_row row;
    lr_error err;
    lr_status st;

    if (def == NULL)
        return;
    while (query_next(&q, qend, &p)) {
        if (key_is(&p, "RecordIdentifierValueAsString")) {
            if ((id = decode(w, &p, &id_len, &err)) == NULL) {
                fail(c, &err);
                return;
            }
        } else if (key_is(&p, "FeatureName")) {
            const char *v;
            size_t vl;
            if (n_names == cap_names) {
                uint32_t nc = cap_names ? cap_names * 2 : 16;
                lr_str *nn;
                if (nc > LR_FG_FEATURES_MAX)
                    nc = LR_FG_FEATURES_MAX;
                if (n_names == nc) {
                    validation(c, "At most %d FeatureName values may be given", LR_FG_FEATURES_MAX);
                    return;
                }
                nn = lr_arena_alloc(w->arena, nc * sizeof *nn);
                if (nn == NULL) {
                    validation(c, "out of memory");
                    return;
                }
                if (n_names)
                    memcpy(nn, names, n_names * sizeof *nn);
                names = nn;
                cap_names = nc;
            }
            if ((v = decode(w, &p, &vl, &err)) == NULL) {
                fail(c, &err);
                return;
            }
            names[n_names].ptr = v;
            names[n_names].len = vl;
            n_names++;
        } else if (key_is(&p, "ExpirationTimeResponse")) {
            if (parse_expiration(p.val, p.vlen, &expires, &err) != LR_OK) {
                fail(c, &err);
                return;
            }
        }
    }
    if (id == NULL) {
        validation(c, "1 validation error detected: Value null at "
                      "'recordIdentifierValueAsString' failed to satisfy constraint: "
                      "Member must not be null");
        return;
    }
    if (check_record_id(id_len, &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    if (!online_enabled(def)) {
        validation(c, "FeatureGroup '%s' does not have an OnlineStore", def->name);
        return;
    }
    if (n_names > 0) {
        proj = lr_arena_alloc(w->arena, n_names * sizeof *proj);
        if (proj == NULL) {
            validation(c, "out of memory");
            return;
        }
        if (lr_online_projection(def, names, n_names, proj, &n_proj, &err) != LR_OK) {
            fail(c, &err);
            return;
        }
    }
    st = lr_online_get(w->reader, def, id, id_len, proj, n_proj, &row, &err);
    if (st != LR_OK) {
        fail(c, &err);
        return;
    }
    lr_buf_clear(&w->scratch);
    if (!row.found) {
        st = lr_buf_append_str(&w->scratch, "{}");
    } else {
        st = lr_buf_append_str(&w->scratch, "{\"Record\":");
        if (st == LR_OK) {
            const uint32_t *off = NULL;
            const lr_buf *frags = feature_openings(w, def, &off);
            st = append_row(&w->scratch, def, &row, frags, off);
        }
        if (st == LR_OK && expires && row.expires_at_us != 0)
            st = append_expires(&w->scratch, &row);
        if (st == LR_OK)
            st = lr_buf_append_byte(&w->scratch, '}');
    }
    respond_json(c, st, &w->scratch);
}

/* ---- the write batch ---- */

static lr__pending *pending_slot(lr__worker *w, lr__conn *c, lr__pending *local)
{
    lr__pending *p = w->n_batch < LR__BATCH_MAX ? &w->batch[w->n_batch] : local;
    memset(p, 0, sizeof *p);
    p->conn = c;
    p->invoked_us = lr_now_us();
    return p;
}

/* Queues p (or, when the batch is full, runs it at once). */
static void pending_commit(lr__worker *w, lr__conn *c, lr__pending *p, lr__pending *local)
{
    if (p != local) {
        w->n_batch++;
        c->state = CONN_DEFERRED;
        return;
    }
    lr__api_run_batch(w, p, 1);
    p->conn = c;
    /* answered inline: the caller's metrics observation covers it */
    if (p->st != LR_OK)
        fail(c, &p->err);
    else
        lr__respond(c, 200, "application/json", NULL, "", 0);
}

void lr__api_run_batch(lr__worker *w, lr__pending *ps, uint32_t n)
{
    lr_server *s = w->srv;
    uint32_t nw = 0, no = 0;
    lr_error err;

    for (uint32_t i = 0; i < n; i++) {
        ps[i].st = LR_OK;
        if (ps[i].to_online)
            w->wbuf[nw++] = ps[i].write;
    }
    if (nw > 0) {
        lr_status st;
        lr_error_clear(&err);
        st = lr_online_write_batch(s->online, w->wbuf, nw, &err);
        nw = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!ps[i].to_online)
                continue;
            ps[i].write = w->wbuf[nw++];
            if (ps[i].write.status != LR_OK) {
                ps[i].st = ps[i].write.status;
                ps[i].err = ps[i].write.error;
            } else if (st != LR_OK && ps[i].write.status == LR_OK && !ps[i].write.changed &&
                       err.code != LR_OK) {
                /* the batch stopped before this entry */
                ps[i].st = st;
                ps[i].err = err;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!ps[i].to_offline || ps[i].st != LR_OK)
            continue;
        w->obuf[no].def = ps[i].def;
        w->obuf[no].rec = &ps[i].record;
        w->obuf[no].is_deleted = ps[i].op == OP_DELETE_RECORD;
        w->obuf[no].api_invocation_us = ps[i].invoked_us;
        no++;
    }
    if (no > 0) {
        lr_error_clear(&err);
        if (lr_offline_write_batch(s->offline, w->obuf, no, &err) != LR_OK) {
            lr_log_error("server", "offline log append failed: %s", lr_error_message(&err));
            for (uint32_t i = 0; i < n; i++) {
                if (ps[i].to_offline && ps[i].st == LR_OK) {
                    ps[i].st = err.code == LR_EINVAL ? LR_EINVAL : LR_EINTERNAL;
                    lr_error_set(&ps[i].err, ps[i].st, "Offline store write failed: %s",
                                 lr_error_message(&err));
                }
            }
        }
    }
}

void lr__api_finish_pending(lr__worker *w, lr__pending *p)
{
    lr__conn *c = p->conn;
    if (p->st != LR_OK)
        fail(c, &p->err);
    else
        lr__respond(c, 200, "application/json", NULL, "", 0);
    lr__metrics_observe(&w->metrics, p->op, c->last_status, lr__mono_ns() - c->req_begin_ns);
}

/* ---- PutRecord ---- */

static void put_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = route_group(w, c, req);
    lr__pending local, *p;
    const lr__jval *j, *ttl;
    lr_error err;

    if (def == NULL)
        return;
    if ((j = parse_body(w, c, req)) == NULL)
        return;
    p = pending_slot(w, c, &local);
    p->op = OP_PUT_RECORD;
    p->def = def;
    if (lr__json_get(j, "Record") == NULL) {
        validation(c, "1 validation error detected: Value null at 'record' failed to "
                      "satisfy constraint: Member must not be null");
        return;
    }
    if (parse_record(w, def, lr__json_get(j, "Record"), "Record", &p->record, &err) != LR_OK ||
        parse_target_stores(def, lr__json_get(j, "TargetStores"), &p->to_online, &p->to_offline,
                            &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    if ((ttl = lr__json_get(j, "TtlDuration")) != NULL && parse_ttl(ttl, &p->ttl, &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    p->write.kind = LR_ONLINE_PUT;
    p->write.def = def;
    p->write.record = &p->record;
    p->write.ttl = p->ttl.unit != LR_TTL_NONE ? &p->ttl : NULL;
    pending_commit(w, c, p, &local);
}

/* ---- DeleteRecord ---- */

static void delete_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = route_group(w, c, req);
    const char *q = req->query, *qend = req->query + req->query_len, *id = NULL, *et = NULL;
    size_t id_len = 0, et_len = 0;
    bool hard = false, any_target = false, on = false, off = false;
    lr__pending local, *p;
    lr_feature_value *vals;
    qparam qp;
    lr_error err;
    int64_t et_us;

    if (def == NULL)
        return;
    while (query_next(&q, qend, &qp)) {
        if (key_is(&qp, "RecordIdentifierValueAsString")) {
            if ((id = decode(w, &qp, &id_len, &err)) == NULL) {
                fail(c, &err);
                return;
            }
        } else if (key_is(&qp, "EventTime")) {
            if ((et = decode(w, &qp, &et_len, &err)) == NULL) {
                fail(c, &err);
                return;
            }
        } else if (key_is(&qp, "DeletionMode")) {
            if (qp.vlen == 10 && memcmp(qp.val, "HardDelete", 10) == 0)
                hard = true;
            else if (qp.vlen == 10 && memcmp(qp.val, "SoftDelete", 10) == 0)
                hard = false;
            else {
                validation(c,
                           "1 validation error detected: Value '%.*s' at "
                           "'deletionMode' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [SoftDelete, HardDelete]",
                           (int)(qp.vlen > 32 ? 32 : qp.vlen), qp.val);
                return;
            }
        } else if (key_is(&qp, "TargetStores")) {
            bool *flag = (qp.vlen == 11 && memcmp(qp.val, "OnlineStore", 11) == 0)    ? &on
                         : (qp.vlen == 12 && memcmp(qp.val, "OfflineStore", 12) == 0) ? &off
                                                                                      : NULL;
            if (flag == NULL) {
                validation(c, "1 validation error detected: Value at 'targetStores' "
                              "failed to satisfy constraint: Member must satisfy enum "
                              "value set: [OnlineStore, OfflineStore]");
                return;
            }
            *flag = true;
            any_target = true;
        }
    }
    if (id == NULL) {
        validation(c, "1 validation error detected: Value null at "
                      "'recordIdentifierValueAsString' failed to satisfy constraint: "
                      "Member must not be null");
        return;
    }
    if (et == NULL) {
        validation(c, "1 validation error detected: Value null at 'eventTime' failed to "
                      "satisfy constraint: Member must not be null");
        return;
    }
    if (check_record_id(id_len, &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    if (lr_event_time_parse(et, et_len, def->features[def->event_time_index].type, &et_us, &err) !=
        LR_OK) {
        lr_error_prefix(&err, "EventTime");
        {
            fail(c, &err);
            return;
        }
    }
    if (!any_target) {
        on = online_enabled(def);
        off = offline_enabled(def);
    } else if ((on && !online_enabled(def)) || (off && !offline_enabled(def))) {
        validation(c, "FeatureGroup '%s' does not have an %s", def->name,
                   on && !online_enabled(def) ? "OnlineStore" : "OfflineStore");
        return;
    }
    p = pending_slot(w, c, &local);
    p->op = OP_DELETE_RECORD;
    p->def = def;
    p->to_online = on;
    p->to_offline = off;
    vals = lr_arena_calloc(w->arena, 2, sizeof *vals);
    if (vals == NULL) {
        validation(c, "out of memory");
        return;
    }
    vals[0].feature = def->record_id_index;
    vals[0].value.ptr = id;
    vals[0].value.len = id_len;
    vals[1].feature = def->event_time_index;
    vals[1].value.ptr = et;
    vals[1].value.len = et_len;
    p->record.values = vals;
    p->record.n_values = 2;
    if (lr_record_validate(def, &p->record, &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    p->write.kind = hard ? LR_ONLINE_HARD_DELETE : LR_ONLINE_SOFT_DELETE;
    p->write.def = def;
    p->write.record_id.ptr = id;
    p->write.record_id.len = id_len;
    p->write.event_time_us = et_us;
    p->write.event_time.ptr = et;
    p->write.event_time.len = et_len;
    pending_commit(w, c, p, &local);
}

/* ---- BatchGetRecord ---- */

static lr_status append_batch_error(lr_buf *o, bool *first, const char *fg, size_t fgl,
                                    const char *id, size_t idl, const char *code, const char *msg)
{
    lr_status st =
        lr_buf_append_str(o, *first ? "{\"FeatureGroupName\":" : ",{\"FeatureGroupName\":");
    *first = false;
    if (st == LR_OK)
        st = lr_buf_append_json_str(o, fg, fgl);
    if (st == LR_OK)
        st = lr_buf_append_str(o, ",\"RecordIdentifierValueAsString\":");
    if (st == LR_OK)
        st = lr_buf_append_json_str(o, id, idl);
    if (st == LR_OK)
        st = lr_buf_printf(o, ",\"ErrorCode\":\"%s\",\"ErrorMessage\":", code);
    if (st == LR_OK)
        st = lr_buf_append_json_str(o, msg, strlen(msg));
    if (st == LR_OK)
        st = lr_buf_append_byte(o, '}');
    return st;
}

static void batch_get_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr__jval *j = parse_body(w, c, req), *ids, *exp;
    lr_online_key keys[MAX_BATCH_GET_RECORDS];
    lr_online_row rows[MAX_BATCH_GET_RECORDS];
    const char *key_fg[MAX_BATCH_GET_RECORDS];
    size_t key_fgl[MAX_BATCH_GET_RECORDS];
    size_t nk = 0, total = 0;
    bool expires = false, first_err = true;
    lr_buf errs;
    lr_error err;
    lr_status st = LR_OK;

    if (j == NULL)
        return;
    lr_buf_init(&errs, 0);
    ids = lr__json_get(j, "Identifiers");
    if (!j_is_array(ids) || j_size(ids) < 1 || j_size(ids) > MAX_BATCH_GET_GROUPS) {
        validation(c,
                   "1 validation error detected: Value at 'identifiers' failed to satisfy "
                   "constraint: Member must have length between 1 and %d",
                   MAX_BATCH_GET_GROUPS);
        goto done;
    }
    if ((exp = lr__json_get(j, "ExpirationTimeResponse")) != NULL) {
        if (!j_is_string(exp) ||
            parse_expiration(j_str(exp), j_len(exp), &expires, &err) != LR_OK) {
            validation(c, "ExpirationTimeResponse must be Enabled or Disabled");
            goto done;
        }
    }
    /* count and check the shape first: the limit is on records in total */
    for (size_t g = 0; g < j_size(ids); g++) {
        const lr__jval *ident = j_at(ids, g),
                       *rids = lr__json_get(ident, "RecordIdentifiersValueAsString");
        if (!j_is_object(ident) || !j_is_string(lr__json_get(ident, "FeatureGroupName")) ||
            !j_is_array(rids) || j_size(rids) < 1 || j_size(rids) > MAX_BATCH_GET_RECORDS) {
            validation(c,
                       "Identifiers.%zu must have a FeatureGroupName and 1..%d "
                       "RecordIdentifiersValueAsString",
                       g + 1, MAX_BATCH_GET_RECORDS);
            goto done;
        }
        total += j_size(rids);
    }
    if (total > MAX_BATCH_GET_RECORDS) {
        validation(c, "BatchGetRecord accepts at most %d records in total; the request has %zu",
                   MAX_BATCH_GET_RECORDS, total);
        goto done;
    }
    for (size_t g = 0; g < j_size(ids); g++) {
        const lr__jval *ident = j_at(ids, g), *fgn = lr__json_get(ident, "FeatureGroupName");
        const lr__jval *rids = lr__json_get(ident, "RecordIdentifiersValueAsString");
        const lr__jval *fnames = lr__json_get(ident, "FeatureNames");
        const lr_fg_def *def = NULL;
        uint32_t *proj = NULL, n_proj = 0;
        const char *gname = j_str(fgn);
        size_t gl = j_len(fgn);
        const char *problem = NULL, *code = "ValidationError";
        char msg[600];

        lr_error_clear(&err);
        if (resolve_group(w, gname, gl, false, &def, &err) != LR_OK) {
            problem = lr_error_message(&err);
            code = err.code == LR_ENOTFOUND ? "ResourceNotFound" : "ValidationError";
        } else if (!online_enabled(def)) {
            snprintf(msg, sizeof msg, "FeatureGroup '%s' does not have an OnlineStore", def->name);
            problem = msg;
        } else if (fnames != NULL) {
            size_t nf = j_is_array(fnames) ? j_size(fnames) : 0;
            lr_str *names = lr_arena_calloc(w->arena, nf ? nf : 1, sizeof *names);
            proj = lr_arena_calloc(w->arena, nf ? nf : 1, sizeof *proj);
            if (!j_is_array(fnames) || nf < 1 || nf > LR_FG_FEATURES_MAX) {
                problem = "FeatureNames must be a list of 1..2500 feature names";
            } else if (names == NULL || proj == NULL) {
                problem = "out of memory";
            } else {
                for (size_t k = 0; k < nf && problem == NULL; k++) {
                    const lr__jval *fn = j_at(fnames, k);
                    if (!j_is_string(fn))
                        problem = "FeatureNames must hold strings";
                    else {
                        names[k].ptr = j_str(fn);
                        names[k].len = j_len(fn);
                    }
                }
                if (problem == NULL &&
                    lr_online_projection(def, names, (uint32_t)nf, proj, &n_proj, &err) != LR_OK)
                    problem = lr_error_message(&err);
            }
        }
        for (size_t k = 0; k < j_size(rids); k++) {
            const lr__jval *rid = j_at(rids, k);
            const char *idv = j_is_string(rid) ? j_str(rid) : "";
            size_t idl = j_is_string(rid) ? j_len(rid) : 0;
            const char *p2 = problem;
            if (p2 == NULL && (!j_is_string(rid) || idl == 0 || idl > LR_RECORD_ID_MAX_BYTES))
                p2 = "RecordIdentifierValueAsString must be a string of 1..2048 bytes";
            if (p2 != NULL) {
                if ((st = append_batch_error(&errs, &first_err, gname, gl, idv, idl, code, p2)) !=
                    LR_OK)
                    goto out_err;
                continue;
            }
            keys[nk].def = def;
            keys[nk].record_id.ptr = idv;
            keys[nk].record_id.len = idl;
            keys[nk].features = n_proj ? proj : NULL;
            keys[nk].n_features = n_proj;
            key_fg[nk] = gname;
            key_fgl[nk] = gl;
            nk++;
        }
    }
    if (nk > 0 && lr_online_batch_get(w->reader, keys, nk, rows, &err) != LR_OK) {
        fail(c, &err);
        goto done;
    }
    lr_buf_clear(&w->scratch);
    st = lr_buf_append_str(&w->scratch, "{\"Records\":[");
    {
        bool first = true;
        for (size_t i = 0; i < nk && st == LR_OK; i++) {
            if (!rows[i].found)
                continue;
            st = lr_buf_append_str(&w->scratch,
                                   first ? "{\"FeatureGroupName\":" : ",{\"FeatureGroupName\":");
            first = false;
            if (st == LR_OK)
                st = lr_buf_append_json_str(&w->scratch, key_fg[i], key_fgl[i]);
            if (st == LR_OK)
                st = lr_buf_append_str(&w->scratch, ",\"RecordIdentifierValueAsString\":");
            if (st == LR_OK)
                st = lr_buf_append_json_str(&w->scratch, keys[i].record_id.ptr,
                                            keys[i].record_id.len);
            if (st == LR_OK)
                st = lr_buf_append_str(&w->scratch, ",\"Record\":");
            if (st == LR_OK)
                st = append_row(&w->scratch, keys[i].def, &rows[i], NULL, NULL);
            if (st == LR_OK && expires && rows[i].expires_at_us != 0)
                st = append_expires(&w->scratch, &rows[i]);
            if (st == LR_OK)
                st = lr_buf_append_byte(&w->scratch, '}');
        }
    }
    if (st == LR_OK)
        st = lr_buf_append_str(&w->scratch, "],\"Errors\":[");
    if (st == LR_OK && errs.len > 0)
        st = lr_buf_append(&w->scratch, errs.data, errs.len);
    if (st == LR_OK)
        st = lr_buf_append_str(&w->scratch, "],\"UnprocessedIdentifiers\":[]}");
out_err:
    respond_json(c, st, &w->scratch);
done:
    lr_buf_free(&errs);
}

/* ---- BatchWriteRecord ---- */

static void batch_write_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr__jval *j = parse_body(w, c, req), *entries, *dttl;
    lr__pending *ps = NULL;
    lr_ttl default_ttl = {LR_TTL_NONE, 0};
    size_t n;
    uint32_t np = 0;
    bool first = true;
    lr_buf errs;
    lr_error err;
    lr_status st = LR_OK;
    char **entry_json = NULL;
    size_t idx[MAX_BATCH_WRITE_ENTRIES];

    if (j == NULL)
        return;
    lr_buf_init(&errs, 0);
    entries = lr__json_get(j, "Entries");
    n = j_size(entries);
    if (!j_is_array(entries) || n < 1 || n > MAX_BATCH_WRITE_ENTRIES) {
        validation(c,
                   "1 validation error detected: Value at 'entries' failed to satisfy "
                   "constraint: Member must have length between 1 and %d",
                   MAX_BATCH_WRITE_ENTRIES);
        goto done;
    }
    if ((dttl = lr__json_get(j, "TtlDuration")) != NULL &&
        parse_ttl(dttl, &default_ttl, &err) != LR_OK) {
        fail(c, &err);
        goto done;
    }
    ps = calloc(n, sizeof *ps);
    entry_json = calloc(n, sizeof *entry_json);
    if (ps == NULL || entry_json == NULL) {
        lr__respond_error(c, ERR_INTERNAL, false, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const lr__jval *e = j_at(entries, i), *fgn, *ttl;
        lr__pending *p = &ps[np];
        const lr_fg_def *def = NULL;
        memset(p, 0, sizeof *p);
        p->op = OP_PUT_RECORD;
        p->invoked_us = lr_now_us();
        lr_error_clear(&err);
        if (e != NULL) { /* the entry as sent, echoed in Errors */
            lr_buf one;
            lr_buf_init(&one, 0);
            if (lr__json_write(e, &one) == LR_OK)
                entry_json[i] = lr_arena_strndup(w->arena, one.data, one.len);
            lr_buf_free(&one);
        }
        if (!j_is_object(e) || !j_is_string(fgn = lr__json_get(e, "FeatureGroupName")))
            lr_error_set(&err, LR_EINVAL, "Entries.%zu.FeatureGroupName must be a string", i + 1);
        else if (resolve_group(w, j_str(fgn), j_len(fgn), false, &def, &err) == LR_OK &&
                 parse_record(w, def, lr__json_get(e, "Record"), "Record", &p->record, &err) ==
                     LR_OK &&
                 parse_target_stores(def, lr__json_get(e, "TargetStores"), &p->to_online,
                                     &p->to_offline, &err) == LR_OK) {
            if ((ttl = lr__json_get(e, "TtlDuration")) != NULL)
                parse_ttl(ttl, &p->ttl, &err);
            else
                p->ttl = default_ttl;
        }
        if (err.code != LR_OK) {
            const char *code = err.code == LR_ENOTFOUND ? "ResourceNotFound" : "ValidationError";
            if (!first)
                st = lr_buf_append_byte(&errs, ',');
            first = false;
            if (st == LR_OK)
                st = lr_buf_printf(&errs, "{\"Entry\":%s,\"ErrorCode\":\"%s\",\"ErrorMessage\":",
                                   entry_json[i] != NULL ? entry_json[i] : "{}", code);
            if (st == LR_OK)
                st = lr_buf_append_json_str(&errs, lr_error_message(&err),
                                            strlen(lr_error_message(&err)));
            if (st == LR_OK)
                st = lr_buf_append_byte(&errs, '}');
            if (st != LR_OK)
                break;
            continue;
        }
        p->def = def;
        p->conn = c;
        p->write.kind = LR_ONLINE_PUT;
        p->write.def = def;
        p->write.record = &p->record;
        p->write.ttl = p->ttl.unit != LR_TTL_NONE ? &p->ttl : NULL;
        idx[np] = i;
        np++;
    }
    if (st == LR_OK && np > 0) {
        lr__api_run_batch(w, ps, np);
        for (uint32_t i = 0; i < np && st == LR_OK; i++) {
            const char *code;
            if (ps[i].st == LR_OK)
                continue;
            code = lr__err_code(lr__err_from_status(ps[i].st, false));
            if (!first)
                st = lr_buf_append_byte(&errs, ',');
            first = false;
            if (st == LR_OK)
                st = lr_buf_printf(&errs, "{\"Entry\":%s,\"ErrorCode\":\"%s\",\"ErrorMessage\":",
                                   entry_json[idx[i]] != NULL ? entry_json[idx[i]] : "{}", code);
            if (st == LR_OK)
                st = lr_buf_append_json_str(&errs, lr_error_message(&ps[i].err),
                                            strlen(lr_error_message(&ps[i].err)));
            if (st == LR_OK)
                st = lr_buf_append_byte(&errs, '}');
        }
    }
    lr_buf_clear(&w->scratch);
    if (st == LR_OK)
        st = lr_buf_append_str(&w->scratch, "{\"Errors\":[");
    if (st == LR_OK && errs.len > 0)
        st = lr_buf_append(&w->scratch, errs.data, errs.len);
    if (st == LR_OK)
        st = lr_buf_append_str(&w->scratch, "],\"UnprocessedEntries\":[]}");
    respond_json(c, st, &w->scratch);
done:
    free(entry_json);
    free(ps);
    lr_buf_free(&errs);
}

/* ---- ListRecords ---- */

static void list_records(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = route_group(w, c, req);
    const lr__jval *j, *v;
    lr_online_list_query q = {false, MAX_LIST_RESULTS, NULL};
    lr_online_id_page page = {0};
    lr_error err;
    lr_status st;

    if (def == NULL)
        return;
    if (req->body_len == 0) {
        static const lr__jval empty = {LR__J_OBJECT, NULL, 0, NULL, NULL, NULL, 0};
        j = &empty;
    } else if ((j = parse_body(w, c, req)) == NULL) {
        return;
    }
    if (j == NULL) {
        lr__respond_error(c, ERR_INTERNAL, false, "out of memory");
        return;
    }
    if ((v = lr__json_get(j, "IncludeSoftDeletedRecords")) != NULL) {
        if (!j_is_boolean(v)) {
            validation(c, "IncludeSoftDeletedRecords must be a boolean");
            return;
        }
        q.include_deleted = j_is_true(v);
    }
    if ((v = lr__json_get(j, "MaxResults")) != NULL) {
        if (!j_is_integer(v) || j_int(v) < 1 || j_int(v) > MAX_LIST_RESULTS) {
            validation(c,
                       "1 validation error detected: Value at 'maxResults' failed to "
                       "satisfy constraint: Member must have value between 1 and %d",
                       MAX_LIST_RESULTS);
            return;
        }
        q.max_results = (uint32_t)j_int(v);
    }
    if ((v = lr__json_get(j, "NextToken")) != NULL) {
        if (!j_is_string(v) || j_len(v) > 8192) {
            validation(c, "NextToken must be a string of at most 8192 characters");
            return;
        }
        q.next_token = j_str(v);
    }
    if (!online_enabled(def)) {
        validation(c, "FeatureGroup '%s' does not have an OnlineStore", def->name);
        return;
    }
    st = lr_online_list(w->srv->online, def, &q, &page, &err);
    if (st != LR_OK) {
        fail(c, &err);
        return;
    }
    lr_buf_clear(&w->scratch);
    st = lr_buf_append_str(&w->scratch, "{\"RecordIdentifiers\":[");
    for (uint32_t i = 0; i < page.n && st == LR_OK; i++) {
        if (i > 0)
            st = lr_buf_append_byte(&w->scratch, ',');
        if (st == LR_OK)
            st = lr_buf_append_json_str(&w->scratch, page.ids[i].ptr, page.ids[i].len);
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
    lr_online_id_page_free(&page);
    respond_json(c, st, &w->scratch);
}

/* ---- UpdateRecord ---- */

/* The stored record `id` as an lr_record (strings in the arena), for the offline row. */
static lr_status read_back(lr__worker *w, const lr_fg_def *def, const lr_str *id, lr_record *rec,
                           bool *found, lr_error *err)
{
    lr_online_row row;
    lr_status st = lr_online_get(w->reader, def, id->ptr, id->len, NULL, 0, &row, err);
    *found = false;
    if (st != LR_OK || !row.found)
        return st;
    rec->values = lr_arena_calloc(w->arena, row.n_fields ? row.n_fields : 1, sizeof *rec->values);
    if (rec->values == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < row.n_fields; i++) {
        const lr_online_field *f = &row.fields[i];
        lr_feature_value *v = &rec->values[i];
        v->feature = f->feature;
        v->is_list = f->is_list;
        if (!f->is_list) {
            v->value.ptr = lr_arena_strndup(w->arena, f->data, f->len);
            v->value.len = f->len;
            if (v->value.ptr == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
        } else {
            lr_str *items = lr_arena_calloc(w->arena, f->n_items ? f->n_items : 1, sizeof *items);
            size_t pos = 0;
            uint32_t k = 0;
            lr_str it;
            if (items == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            while (k < f->n_items && lr_online_field_item(f, &pos, &it)) {
                items[k].ptr = lr_arena_strndup(w->arena, it.ptr, it.len);
                items[k].len = it.len;
                if (items[k].ptr == NULL)
                    return lr_error_set(err, LR_ENOMEM, "out of memory");
                k++;
            }
            v->items = items;
            v->n_items = k;
        }
    }
    rec->n_values = row.n_fields;
    *found = true;
    return lr_record_validate(def, rec, err);
}

static void update_record(lr__worker *w, lr__conn *c, lr__req *req)
{
    const lr_fg_def *def = route_group(w, c, req);
    const lr__jval *j, *rid, *feats, *ttl_j;
    lr_str id = {NULL, 0};
    lr_record vals;
    lr_ttl ttl = {LR_TTL_NONE, 0};
    bool on = false, off = false, has_event_time = false, found;
    int64_t invoked = lr_now_us();
    size_t n;
    lr_error err;
    lr_status st;

    if (def == NULL || (j = parse_body(w, c, req)) == NULL)
        return;
    memset(&vals, 0, sizeof vals);
    lr_error_clear(&err);
    rid = lr__json_get(j, "RecordIdentifierValueAsString");
    feats = lr__json_get(j, "Features");
    n = j_size(feats);
    if (!j_is_string(rid))
        lr_error_set(&err, LR_EINVAL,
                     "1 validation error detected: Value null at "
                     "'recordIdentifierValueAsString' failed to satisfy "
                     "constraint: Member must not be null");
    else if (!j_is_array(feats) || n < 1 || n > MAX_UPDATE_FEATURES)
        lr_error_set(&err, LR_EINVAL,
                     "1 validation error detected: Value at 'features' failed "
                     "to satisfy constraint: Member must have length between 1 "
                     "and %d",
                     MAX_UPDATE_FEATURES);
    else if (copy_str(w, rid, &id, &err) == LR_OK && check_record_id(id.len, &err) == LR_OK &&
             parse_target_stores(def, lr__json_get(j, "TargetStores"), &on, &off, &err) == LR_OK &&
             ((ttl_j = lr__json_get(j, "TtlDuration")) == NULL ||
              parse_ttl(ttl_j, &ttl, &err) == LR_OK))
        parse_values(w, def, feats, "Features", &vals, &err);
    if (err.code != LR_OK) {
        fail(c, &err);
        return;
    }
    if (!on) {
        validation(c,
                   "UpdateRecord needs the OnlineStore of FeatureGroup '%s' in "
                   "TargetStores",
                   def->name);
        return;
    }
    for (uint32_t i = 0; i < vals.n_values; i++) {
        const lr_feature_value *v = &vals.values[i];
        for (uint32_t k = 0; k < i; k++) {
            if (vals.values[k].feature == v->feature) {
                validation(c, "Feature '%s' appears more than once in Features",
                           def->features[v->feature].name);
                return;
            }
        }
        if (lr_feature_value_validate(&def->features[v->feature], v, &err) != LR_OK) {
            fail(c, &err);
            return;
        }
        if (v->feature == def->event_time_index)
            has_event_time = true;
    }
    if (ttl.unit != LR_TTL_NONE && !has_event_time) {
        validation(c,
                   "TtlDuration can only be set together with the EventTime feature "
                   "'%s'",
                   def->event_time_name);
        return;
    }
    st = lr_online_update(w->srv->online, def, id.ptr, id.len, vals.values, vals.n_values,
                          ttl.unit != LR_TTL_NONE ? &ttl : NULL, &err);
    if (st != LR_OK) {
        fail(c, &err);
        return;
    }
    if (off) {
        /* The offline store keeps whole rows: write the merged record. */
        lr_record merged;
        if (read_back(w, def, &id, &merged, &found, &err) != LR_OK ||
            (found && lr_offline_put(w->srv->offline, def, &merged, invoked, &err) != LR_OK)) {
            lr_log_error("server", "UpdateRecord offline write failed: %s", lr_error_message(&err));
            {
                lr__respond_error(c, ERR_INTERNAL, false, "Offline store write failed: %s",
                                  lr_error_message(&err));
                return;
            }
        }
    }
    lr__respond(c, 200, "application/json", NULL, "", 0);
}

void lr__api_runtime(lr__worker *w, lr__conn *c, lr__req *req)
{
    switch (req->op) {
    case OP_GET_RECORD:
        get_record(w, c, req);
        break;
    case OP_PUT_RECORD:
        put_record(w, c, req);
        break;
    case OP_DELETE_RECORD:
        delete_record(w, c, req);
        break;
    case OP_BATCH_GET_RECORD:
        batch_get_record(w, c, req);
        break;
    case OP_BATCH_WRITE_RECORD:
        batch_write_record(w, c, req);
        break;
    case OP_LIST_RECORDS:
        list_records(w, c, req);
        break;
    case OP_UPDATE_RECORD:
        update_record(w, c, req);
        break;
    case OP_LIST_JOBS:
    case OP_GET_JOB:
        lr__api_jobs(w, c, req);
        break;
    default:
        lr__respond_error(c, ERR_NOT_FOUND_ROUTE, false, "No such operation");
        break;
    }
}
