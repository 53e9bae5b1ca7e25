/*
 * online.c - the online store's public API: opens a backend from a URI,
 * validates and encodes writes (in the caller's thread, so a group commit
 * only copies bytes), prepares reads, pages record identifiers, and runs the
 * background sweeper thread. The record rules themselves live in the
 * backends (LMDB in its writer thread, Redis in a server-side script), on
 * the shared codec (online_codec.c).
 */
#include "online/online_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "larder/log.h"
#include "larder/value.h"

struct lr_online {
    const lr__ops *ops;
    void *ctx;
    lr__online_env env;

    pthread_mutex_t sw_mu;
    pthread_cond_t sw_cv;
    pthread_t sw_thread;
    bool sw_running;
    bool sw_stop;
    uint32_t sw_interval_ms;
};

struct lr_online_reader {
    lr_online *s;
    void *rctx;
    lr__rowbuf rb;
    lr__rkey *keys;
    size_t kcap;
};

void lr_online_options_init(lr_online_options *o)
{
    memset(o, 0, sizeof *o);
    o->durability = LR_ONLINE_SYNC;
}

/* mkdir -p */
static lr_status make_dirs(const char *path, lr_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return lr_error_set(err, LR_EINVAL, "online store: directory path is empty or too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return lr_error_set(err, LR_EIO, "online store: cannot create %s: %s", buf,
                                    strerror(errno));
            buf[i] = c;
        }
    }
    return LR_OK;
}

lr_status lr_online_open(const char *uri, const lr_online_options *opts, lr_online **out,
                         lr_error *err)
{
    lr_online *s;
    lr_status st;
    char *dir = NULL;

    *out = NULL;
    if (uri == NULL || uri[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "online store: empty URI");
    if ((s = calloc(1, sizeof *s)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    if (opts)
        s->env.opts = *opts;
    else
        lr_online_options_init(&s->env.opts);
    pthread_mutex_init(&s->sw_mu, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->sw_cv, &ca);
        pthread_condattr_destroy(&ca);
    }

    if (strncmp(uri, "redis://", 8) == 0) {
        st = lr__redis_open(uri, &s->env, &s->ops, &s->ctx, err);
    } else if (strncmp(uri, "rediss://", 9) == 0 || strncmp(uri, "unix:", 5) == 0 ||
               (strstr(uri, "://") && strncmp(uri, "lmdb:", 5) != 0)) {
        st = lr_error_set(err, LR_EUNSUPPORTED, "online store: '%.*s' URIs are not supported",
                          (int)strcspn(uri, ":"), uri);
    } else {
        const char *path = uri;
        size_t n;
        if (strncmp(uri, "lmdb:", 5) == 0) {
            path = uri + 5;
            if (strncmp(path, "//", 2) == 0)
                path += 2;
        }
        n = strlen(path);
        if (n == 0) {
            st = lr_error_set(err, LR_EINVAL, "online store: '%s' names no directory", uri);
            goto done;
        }
        if ((dir = malloc(n + sizeof "/online")) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            goto done;
        }
        memcpy(dir, path, n + 1);
        if (path == uri)
            memcpy(dir + n, "/online", sizeof "/online");
        if ((st = make_dirs(dir, err)) != LR_OK)
            goto done;
        st = lr__lmdb_open(dir, &s->env, &s->ops, &s->ctx, err);
    }
    if (st == LR_OK && s->env.opts.sweep_interval_ms > 0)
        st = lr_online_sweeper_start(s, s->env.opts.sweep_interval_ms, err);
done:
    free(dir);
    if (st != LR_OK) {
        lr_online_close(s);
        return st;
    }
    *out = s;
    return LR_OK;
}

void lr_online_close(lr_online *s)
{
    if (s == NULL)
        return;
    lr_online_sweeper_stop(s);
    if (s->ops)
        s->ops->close(s->ctx);
    pthread_cond_destroy(&s->sw_cv);
    pthread_mutex_destroy(&s->sw_mu);
    free(s);
}

const char *lr_online_backend(const lr_online *s)
{
    return s->ops->name;
}

int64_t lr_online_now(const lr_online *s)
{
    return lr__now(&s->env);
}

/* ---- Writes ---- */

static lr_status check_def(const lr_fg_def *def, lr_error *err)
{
    if (def == NULL || def->name == NULL || def->name[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "online store: no feature group given");
    if (!def->has_online_config || !def->online_enabled)
        return lr_error_set(err, LR_EINVAL, "feature group '%s' has no online store", def->name);
    if (def->record_id_index >= def->n_features || def->event_time_index >= def->n_features)
        return lr_error_set(err, LR_EINVAL, "feature group '%s': bad definition", def->name);
    return LR_OK;
}

static lr_status check_id(const char *id, size_t len, lr_error *err)
{
    if (id == NULL || len == 0)
        return lr_error_set(err, LR_EINVAL, "record identifier is empty");
    if (len > LR_RECORD_ID_MAX_BYTES)
        return lr_error_set(err, LR_EINVAL, "record identifier is longer than %d bytes",
                            LR_RECORD_ID_MAX_BYTES);
    return LR_OK;
}

static int64_t ttl_us(const lr_ttl *t)
{
    return t && t->unit != LR_TTL_NONE ? lr_ttl_micros(*t) : 0;
}

static int cmp_fv(const void *a, const void *b)
{
    const lr_feature_value *x = a, *y = b;
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

/* Formats an event time the way the event-time feature's type writes it. */
static size_t format_event_time(const lr_fg_def *def, int64_t us, char *out, size_t cap)
{
    if (def->features[def->event_time_index].type == LR_FT_FRACTIONAL) {
        int64_t sec = us / 1000000, frac = us % 1000000;
        if (frac < 0) {
            frac += 1000000;
            sec -= 1;
        }
        return (size_t)snprintf(out, cap, "%" PRId64 ".%06" PRId64, sec, frac);
    }
    return lr_time_format_iso8601(us, out);
}

/*
 * Turns a public write into a backend write. Memory the prepared form needs
 * (the encoded value, a sorted copy of update values) goes into *buf and
 * *sorted, which the caller frees.
 */
static lr_status prepare(lr_online_write *w, lr__wop *o, lr_buf *buf, lr_feature_value **sorted,
                         char *etbuf)
{
    lr_error *err = &w->error;
    const lr_fg_def *def = w->def;
    lr_status st;

    memset(o, 0, sizeof *o);
    o->kind = w->kind;
    o->err = err;
    if ((st = check_def(def, err)) != LR_OK)
        return st;
    o->group = def->name;
    o->group_len = strlen(def->name);
    o->id_feature = def->record_id_index;
    switch (w->kind) {
    case LR_ONLINE_PUT:
        if (w->record == NULL)
            return lr_error_set(err, LR_EINVAL, "put: no record given");
        o->id = w->record->record_id.ptr;
        o->id_len = w->record->record_id.len;
        if ((st = check_id(o->id, o->id_len, err)) != LR_OK)
            return st;
        o->event_time_us = w->record->event_time_us;
        {
            int64_t t = ttl_us(w->ttl);
            if (t == 0)
                t = ttl_us(&def->online_ttl);
            st = lr__value_encode_record(def, w->record, lr__expires_at(o->event_time_us, t), buf,
                                         err);
        }
        break;
    case LR_ONLINE_SOFT_DELETE: {
        lr_str et = w->event_time;
        o->id = w->record_id.ptr;
        o->id_len = w->record_id.len;
        if ((st = check_id(o->id, o->id_len, err)) != LR_OK)
            return st;
        o->event_time_us = w->event_time_us;
        if (et.ptr == NULL) {
            et.len = format_event_time(def, w->event_time_us, etbuf, LR_TIME_STR_MAX);
            et.ptr = etbuf;
        }
        st = lr__value_encode_tombstone(def, w->record_id, w->event_time_us, et,
                                        lr__expires_at(w->event_time_us, ttl_us(&def->online_ttl)),
                                        buf, err);
        break;
    }
    case LR_ONLINE_HARD_DELETE:
        o->id = w->record_id.ptr;
        o->id_len = w->record_id.len;
        if ((st = check_id(o->id, o->id_len, err)) != LR_OK)
            return st;
        o->event_time_us = w->event_time_us;
        lr_buf_clear(buf);
        if ((st = lr_buf_reserve(buf, LR__VALUE_HEADER + 1)) != LR_OK)
            return lr_error_set(err, st, "delete: %s", lr_strerror(st));
        lr__value_encode_header_only(w->event_time_us, (uint8_t *)buf->data);
        buf->len = LR__VALUE_HEADER + 1;
        break;
    case LR_ONLINE_UPDATE: {
        lr__update *u = &o->update;
        o->id = w->record_id.ptr;
        o->id_len = w->record_id.len;
        if ((st = check_id(o->id, o->id_len, err)) != LR_OK)
            return st;
        if (w->n_values == 0 || w->values == NULL)
            return lr_error_set(err, LR_EINVAL, "update: no features given");
        if (w->n_values > def->n_features)
            return lr_error_set(err, LR_EINVAL, "update: more features than the group defines");
        if ((*sorted = malloc(w->n_values * sizeof **sorted)) == NULL)
            return lr_error_set(err, LR_ENOMEM, "update: out of memory");
        memcpy(*sorted, w->values, w->n_values * sizeof **sorted);
        qsort(*sorted, w->n_values, sizeof **sorted, cmp_fv);
        for (uint32_t i = 0; i < w->n_values; i++) {
            const lr_feature_value *v = &(*sorted)[i];
            if (v->feature >= def->n_features)
                return lr_error_set(err, LR_EINVAL, "update: unknown feature index %u", v->feature);
            if (i > 0 && v->feature == (*sorted)[i - 1].feature)
                return lr_error_set(err, LR_EINVAL, "update: feature '%s' appears twice",
                                    def->features[v->feature].name);
            if (v->feature == def->record_id_index && (v->is_list || v->value.len != o->id_len ||
                                                       memcmp(v->value.ptr, o->id, o->id_len) != 0))
                return lr_error_set(err, LR_EINVAL,
                                    "update: the record identifier '%s' cannot be changed",
                                    def->record_id_name);
            if (v->feature == def->event_time_index) {
                if (v->is_list)
                    return lr_error_set(err, LR_EINVAL, "update: event time must be a scalar");
                if ((st = lr_event_time_parse(v->value.ptr, v->value.len,
                                              def->features[v->feature].type, &u->event_time_us,
                                              err)) != LR_OK)
                    return st;
                u->has_event_time = true;
            }
        }
        u->def = def;
        u->values = *sorted;
        u->n_values = w->n_values;
        u->ttl_us = ttl_us(w->ttl);
        u->group_ttl_us = ttl_us(&def->online_ttl);
        o->event_time_us = u->event_time_us;
        break;
    }
    default:
        return lr_error_set(err, LR_EINVAL, "online store: unknown write kind %d", (int)w->kind);
    }
    if (st == LR_OK) {
        o->value = (const uint8_t *)buf->data;
        o->value_len = buf->len;
    }
    return st;
}

lr_status lr_online_write_batch(lr_online *s, lr_online_write *w, size_t n, lr_error *err)
{
    lr__wop *wops = NULL;
    lr_buf *bufs = NULL;
    lr_feature_value **sorted = NULL;
    size_t *map = NULL, m = 0;
    char etbuf[LR_TIME_STR_MAX];
    lr_status st = LR_OK;

    if (n == 0 || n > LR_ONLINE_WRITE_BATCH_MAX)
        return lr_error_set(err, LR_EINVAL, "online store: a write batch holds 1..%d entries",
                            LR_ONLINE_WRITE_BATCH_MAX);
    wops = calloc(n, sizeof *wops);
    bufs = calloc(n, sizeof *bufs);
    sorted = calloc(n, sizeof *sorted);
    map = calloc(n, sizeof *map);
    if (!wops || !bufs || !sorted || !map) {
        st = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        lr_buf_init(&bufs[i], LR_ONLINE_VALUE_MAX);
        w[i].changed = false;
        lr_error_clear(&w[i].error);
        w[i].status = prepare(&w[i], &wops[m], &bufs[i], &sorted[i], etbuf);
        if (w[i].status == LR_OK)
            map[m++] = i;
    }
    if (m > 0) {
        st = s->ops->write(s->ctx, wops, m, err);
        for (size_t k = 0; k < m; k++) {
            lr_online_write *e = &w[map[k]];
            e->status = wops[k].status;
            e->changed = wops[k].changed;
        }
    }
done:
    if (bufs) {
        for (size_t i = 0; i < n; i++)
            lr_buf_free(&bufs[i]);
    }
    if (sorted) {
        for (size_t i = 0; i < n; i++)
            free(sorted[i]);
    }
    free(wops);
    free(bufs);
    free(sorted);
    free(map);
    return st;
}

/* Runs one write and returns its own status, with its message in err. */
static lr_status write_one(lr_online *s, lr_online_write *w, bool *changed, lr_error *err)
{
    lr_status st = lr_online_write_batch(s, w, 1, err);
    if (st == LR_OK && w->status != LR_OK) {
        st = w->status;
        if (err)
            *err = w->error;
    }
    if (changed)
        *changed = st == LR_OK && w->changed;
    return st;
}

lr_status lr_online_put(lr_online *s, const lr_fg_def *def, const lr_record *rec, const lr_ttl *ttl,
                        bool *changed, lr_error *err)
{
    lr_online_write w;
    memset(&w, 0, sizeof w);
    w.kind = LR_ONLINE_PUT;
    w.def = def;
    w.record = rec;
    w.ttl = ttl;
    return write_one(s, &w, changed, err);
}

lr_status lr_online_delete(lr_online *s, const lr_fg_def *def, const char *id, size_t id_len,
                           int64_t event_time_us, const char *event_time, size_t event_time_len,
                           bool hard, bool *changed, lr_error *err)
{
    lr_online_write w;
    memset(&w, 0, sizeof w);
    w.kind = hard ? LR_ONLINE_HARD_DELETE : LR_ONLINE_SOFT_DELETE;
    w.def = def;
    w.record_id.ptr = id;
    w.record_id.len = id_len;
    w.event_time_us = event_time_us;
    w.event_time.ptr = event_time;
    w.event_time.len = event_time_len;
    return write_one(s, &w, changed, err);
}

lr_status lr_online_update(lr_online *s, const lr_fg_def *def, const char *id, size_t id_len,
                           const lr_feature_value *values, uint32_t n, const lr_ttl *ttl,
                           lr_error *err)
{
    lr_online_write w;
    memset(&w, 0, sizeof w);
    w.kind = LR_ONLINE_UPDATE;
    w.def = def;
    w.record_id.ptr = id;
    w.record_id.len = id_len;
    w.values = values;
    w.n_values = n;
    w.ttl = ttl;
    return write_one(s, &w, NULL, err);
}

/* ---- Reads ---- */

lr_status lr_online_reader_open(lr_online *s, lr_online_reader **out, lr_error *err)
{
    lr_online_reader *r;
    lr_status st;

    *out = NULL;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    r->s = s;
    if (lr__rowbuf_init(&r->rb) != LR_OK || (r->keys = malloc(16 * sizeof *r->keys)) == NULL) {
        lr__rowbuf_free(&r->rb);
        free(r);
        return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    }
    r->kcap = 16;
    if ((st = s->ops->reader_open(s->ctx, &r->rctx, err)) != LR_OK) {
        lr__rowbuf_free(&r->rb);
        free(r->keys);
        free(r);
        return st;
    }
    *out = r;
    return LR_OK;
}

void lr_online_reader_close(lr_online_reader *r)
{
    if (r == NULL)
        return;
    r->s->ops->reader_close(r->rctx);
    lr__rowbuf_free(&r->rb);
    free(r->keys);
    free(r);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

lr_status lr_online_projection(const lr_fg_def *def, const lr_str *names, uint32_t n, uint32_t *out,
                               uint32_t *n_out, lr_error *err)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t f = lr_fg_def_find_feature(def, names[i].ptr, names[i].len);
        if (f < 0)
            return lr_error_set(
                err, LR_EINVAL, "feature '%.*s' is not defined in feature group '%s'",
                (int)(names[i].len > 64 ? 64 : names[i].len), names[i].ptr, def->name);
        out[m++] = (uint32_t)f;
    }
    qsort(out, m, sizeof *out, cmp_u32);
    *n_out = 0;
    for (uint32_t i = 0; i < m; i++) {
        if (*n_out == 0 || out[*n_out - 1] != out[i])
            out[(*n_out)++] = out[i];
    }
    return LR_OK;
}

static lr_status prep_key(const lr_fg_def *def, const char *id, size_t id_len, const uint32_t *proj,
                          uint32_t nproj, lr__rkey *k, lr_error *err)
{
    lr_status st;
    if (def == NULL || def->name == NULL)
        return lr_error_set(err, LR_EINVAL, "online store: no feature group given");
    if ((st = check_id(id, id_len, err)) != LR_OK)
        return st;
    for (uint32_t i = 1; proj && i < nproj; i++) {
        if (proj[i] <= proj[i - 1])
            return lr_error_set(err, LR_EINVAL, "online store: projection is not ascending");
    }
    k->group = def->name;
    k->group_len = strlen(def->name);
    k->id = id;
    k->id_len = id_len;
    k->proj = nproj ? proj : NULL;
    k->nproj = nproj;
    return LR_OK;
}

lr_status lr_online_get(lr_online_reader *r, const lr_fg_def *def, const char *id, size_t id_len,
                        const uint32_t *features, uint32_t n_features, lr_online_row *row,
                        lr_error *err)
{
    lr__rkey k;
    lr_status st;

    row->found = false;
    row->n_fields = 0;
    row->fields = NULL;
    if ((st = prep_key(def, id, id_len, features, n_features, &k, err)) != LR_OK)
        return st;
    lr__rowbuf_reset(&r->rb);
    if ((st = r->s->ops->get(r->rctx, &r->rb, &k, 1, row, err)) != LR_OK)
        return st;
    lr__rowbuf_finish(&r->rb, row, 1);
    return LR_OK;
}

lr_status lr_online_batch_get(lr_online_reader *r, const lr_online_key *keys, size_t n,
                              lr_online_row *rows, lr_error *err)
{
    lr_status st;

    if (n == 0 || n > LR_ONLINE_BATCH_GET_MAX)
        return lr_error_set(err, LR_EINVAL, "online store: a batch get holds 1..%d keys",
                            LR_ONLINE_BATCH_GET_MAX);
    if (n > r->kcap) {
        lr__rkey *p = realloc(r->keys, n * sizeof *p);
        if (p == NULL)
            return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
        r->keys = p;
        r->kcap = n;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].found = false;
        rows[i].n_fields = 0;
        rows[i].fields = NULL;
        if ((st = prep_key(keys[i].def, keys[i].record_id.ptr, keys[i].record_id.len,
                           keys[i].features, keys[i].n_features, &r->keys[i], err)) != LR_OK)
            return st;
    }
    lr__rowbuf_reset(&r->rb);
    if ((st = r->s->ops->get(r->rctx, &r->rb, r->keys, n, rows, err)) != LR_OK)
        return st;
    lr__rowbuf_finish(&r->rb, rows, n);
    return LR_OK;
}

/* ---- Listing, statistics, maintenance ---- */

/* A token is a version byte then the backend's key suffix of the last entry. */
#define TOKEN_VERSION 1
#define TOKEN_MAX     (LR_RECORD_ID_MAX_BYTES + 64)

lr_status lr_online_list(lr_online *s, const lr_fg_def *def, const lr_online_list_query *q,
                         lr_online_id_page *out, lr_error *err)
{
    lr__list_req req;
    uint8_t *tok = NULL, *last = NULL;
    size_t toklen = 0, last_len = 0;
    bool more = false;
    lr_status st;

    memset(out, 0, sizeof *out);
    memset(&req, 0, sizeof req);
    if (def == NULL || def->name == NULL)
        return lr_error_set(err, LR_EINVAL, "online store: no feature group given");
    req.group = def->name;
    req.group_len = strlen(def->name);
    req.id_feature = def->record_id_index;
    req.include_deleted = q && q->include_deleted;
    req.max_results = q && q->max_results ? q->max_results : 100;
    if (req.max_results > LR_ONLINE_LIST_MAX)
        return lr_error_set(err, LR_EINVAL, "MaxResults must be 1..%d", LR_ONLINE_LIST_MAX);
    if ((out->arena = lr_arena_new(16 * 1024, 64u * 1024 * 1024)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    if (q && q->next_token && q->next_token[0]) {
        if ((tok = lr_arena_alloc(out->arena, TOKEN_MAX)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            goto done;
        }
        if ((st = lr__token_decode(q->next_token, tok, TOKEN_MAX, &toklen, err)) != LR_OK)
            goto done;
        if (toklen < 2 || tok[0] != TOKEN_VERSION) {
            st = lr_error_set(err, LR_EINVAL, "Invalid pagination token");
            goto done;
        }
        req.after = tok + 1;
        req.after_len = toklen - 1;
    }
    if ((st = s->ops->list(s->ctx, &req, out, &more, &last, &last_len, err)) != LR_OK)
        goto done;
    if (more) {
        uint8_t *t;
        if (last_len + 1 > TOKEN_MAX) {
            st = lr_error_set(err, LR_EINTERNAL, "online store: a page position of %zu bytes",
                              last_len);
            goto done;
        }
        if ((t = lr_arena_alloc(out->arena, last_len + 1)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            goto done;
        }
        t[0] = TOKEN_VERSION;
        memcpy(t + 1, last, last_len);
        if ((out->next_token = lr__token_encode(out->arena, t, last_len + 1)) == NULL)
            st = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    }
done:
    if (st != LR_OK)
        lr_online_id_page_free(out);
    return st;
}

void lr_online_id_page_free(lr_online_id_page *p)
{
    if (p == NULL)
        return;
    lr_arena_free(p->arena);
    memset(p, 0, sizeof *p);
}

static lr_status check_group(const char *group, lr_error *err)
{
    if (group == NULL || group[0] == '\0' || strlen(group) > LR_FG_NAME_MAX)
        return lr_error_set(err, LR_EINVAL, "online store: bad feature group name");
    return LR_OK;
}

lr_status lr_online_drop_group(lr_online *s, const char *group, lr_error *err)
{
    lr_status st = check_group(group, err);
    return st != LR_OK ? st : s->ops->drop(s->ctx, group, err);
}

lr_status lr_online_group_stats(lr_online *s, const char *group, lr_online_stats *out,
                                lr_error *err)
{
    lr_status st = check_group(group, err);
    memset(out, 0, sizeof *out);
    return st != LR_OK ? st : s->ops->stats(s->ctx, group, out, err);
}

lr_status lr_online_sweep(lr_online *s, uint64_t max, uint64_t *removed, lr_error *err)
{
    uint64_t dummy;
    return s->ops->sweep(s->ctx, max ? max : UINT64_MAX, removed ? removed : &dummy, err);
}

static void *sweeper_main(void *arg)
{
    lr_online *s = arg;
    pthread_mutex_lock(&s->sw_mu);
    while (!s->sw_stop) {
        struct timespec ts;
        uint64_t removed = 0;
        lr_error e;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += s->sw_interval_ms / 1000;
        ts.tv_nsec += (long)(s->sw_interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!s->sw_stop && pthread_cond_timedwait(&s->sw_cv, &s->sw_mu, &ts) != ETIMEDOUT)
            ;
        if (s->sw_stop)
            break;
        pthread_mutex_unlock(&s->sw_mu);
        if (s->ops->sweep(s->ctx, UINT64_MAX, &removed, &e) != LR_OK)
            lr_log_warn("online", "sweeper: %s", lr_error_message(&e));
        else if (removed)
            lr_log_debug("online", "sweeper removed %" PRIu64 " expired records", removed);
        pthread_mutex_lock(&s->sw_mu);
    }
    pthread_mutex_unlock(&s->sw_mu);
    return NULL;
}

lr_status lr_online_sweeper_start(lr_online *s, uint32_t interval_ms, lr_error *err)
{
    int rc;
    if (interval_ms == 0)
        return lr_error_set(err, LR_EINVAL, "sweeper interval must be at least 1 ms");
    lr_online_sweeper_stop(s);
    pthread_mutex_lock(&s->sw_mu);
    s->sw_stop = false;
    s->sw_interval_ms = interval_ms;
    rc = pthread_create(&s->sw_thread, NULL, sweeper_main, s);
    s->sw_running = rc == 0;
    pthread_mutex_unlock(&s->sw_mu);
    if (rc != 0)
        return lr_error_set(err, LR_ENOMEM, "cannot start the sweeper thread: %s", strerror(rc));
    return LR_OK;
}

void lr_online_sweeper_stop(lr_online *s)
{
    bool running;
    pthread_mutex_lock(&s->sw_mu);
    running = s->sw_running;
    s->sw_stop = true;
    s->sw_running = false;
    pthread_cond_broadcast(&s->sw_cv);
    pthread_mutex_unlock(&s->sw_mu);
    if (running)
        pthread_join(s->sw_thread, NULL);
}
