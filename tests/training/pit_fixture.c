/*
 * pit_fixture.c - random offline histories and the brute-force reference
 * of the point-in-time rule for the training-set tests (pit_fixture.h).
 *
 * The reference is deliberately naive: for an entity row it scans every raw
 * row of the group, keeps those of the same identifier with an event time
 * at or before the row's time (and written by the as-of time), takes the
 * greatest (event time, api_invocation_time, write_time), and answers null
 * when that row is a delete marker or older than the max age.
 */
#include "training/pit_fixture.h"

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/log.h"
#include "larder/offline.h"
#include "larder/parquet.h"
#include "larder/record.h"
#include "larder/value.h"
#include "support/testutil.h"

static const char CLICKS[] =
    "{\"FeatureGroupName\":\"clicks\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"x\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"s\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\","
    "\"TtlDuration\":{\"Unit\":\"Hours\",\"Value\":2}},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static const char ORDERS[] =
    "{\"FeatureGroupName\":\"orders\",\"RecordIdentifierFeatureName\":\"oid\","
    "\"EventTimeFeatureName\":\"et\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"oid\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"et\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"x\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"}],"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static uint64_t rng;

void pit_seed(uint64_t s)
{
    rng = s;
}

uint64_t pit_rand(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- canonical cell text ---- */

static void cat_str(char **s, size_t *len, const char *p, size_t n)
{
    *s = realloc(*s, *len + n + 1);
    assert_non_null(*s);
    memcpy(*s + *len, p, n);
    *len += n;
    (*s)[*len] = '\0';
}

typedef enum kind { K_I64, K_F64, K_STR, K_I32, K_BOOL } kind;

static void slot_text(char **s, size_t *len, kind k, const lr_pq_column_batch *c, uint32_t i)
{
    char t[64];
    int n = 0;
    switch (k) {
    case K_I64: n = snprintf(t, sizeof t, "%" PRId64, c->i64[i]); break;
    case K_I32: n = snprintf(t, sizeof t, "%" PRId32, c->i32[i]); break;
    case K_F64: n = snprintf(t, sizeof t, "%.17g", c->f64[i]); break;
    case K_BOOL: n = snprintf(t, sizeof t, "%s", c->bools[i] ? "true" : "false"); break;
    case K_STR:
        cat_str(s, len, (const char *)c->bytes + c->offsets[i], c->offsets[i + 1] - c->offsets[i]);
        return;
    }
    cat_str(s, len, t, (size_t)n);
}

static char *cell_text(kind k, bool list, const lr_pq_column_batch *c, uint32_t r)
{
    char *s = NULL;
    size_t len = 0;
    if (c->validity != NULL && !c->validity[r])
        return NULL;
    cat_str(&s, &len, "", 0);
    if (!list) {
        slot_text(&s, &len, k, c, r);
        return s;
    }
    cat_str(&s, &len, "[", 1);
    for (uint32_t i = c->list_offsets[r]; i < c->list_offsets[r + 1]; i++) {
        if (i > c->list_offsets[r])
            cat_str(&s, &len, "|", 1);
        if (c->elem_validity != NULL && !c->elem_validity[i])
            cat_str(&s, &len, "<null>", 6);
        else
            slot_text(&s, &len, k, c, i);
    }
    cat_str(&s, &len, "]", 1);
    return s;
}

static kind offline_kind(lr_offline_ctype t)
{
    switch (t) {
    case LR_OFFLINE_DOUBLE: return K_F64;
    case LR_OFFLINE_STRING: return K_STR;
    case LR_OFFLINE_BOOL: return K_BOOL;
    default: return K_I64;
    }
}

static kind pq_kind(const lr_pq_column_def *d)
{
    switch (d->type) {
    case LR_PQ_DOUBLE: return K_F64;
    case LR_PQ_BYTE_ARRAY: return K_STR;
    case LR_PQ_BOOLEAN: return K_BOOL;
    case LR_PQ_INT32: return K_I32;
    default: return K_I64;
    }
}

/* ---- writing histories ---- */

static void put(lr_offline *s, const lr_fg_def *def, lr_feature_value *v, uint32_t n, int64_t api)
{
    lr_record rec;
    lr_error err;
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = n;
    if (lr_record_validate(def, &rec, &err) != LR_OK || lr_offline_put(s, def, &rec, api, &err) != LR_OK)
        fail_msg("put: %s", err.msg);
}

static lr_feature_value sval(uint32_t f, const char *s)
{
    lr_feature_value v;
    memset(&v, 0, sizeof v);
    v.feature = f;
    v.value.ptr = s;
    v.value.len = strlen(s);
    return v;
}

static void write_group(pit_fx *fx, lr_offline *s, int which, size_t rows)
{
    const lr_fg_def *def = fx->g[which].def;
    char prev_id[32] = "", prev_et[64] = "";
    for (size_t i = 0; i < rows; i++) {
        char id[32], et[64], nb[32], xb[64], sb[32], t1[16], t2[16];
        lr_str tags[2] = {{t1, 0}, {t2, 0}};
        uint64_t k = pit_rand() % 100;
        size_t ti = (size_t)(pit_rand() % fx->n_times);
        int64_t et_us = fx->times[ti];
        int64_t api = PIT_BASE_US + (int64_t)(pit_rand() % 400) * 1000;
        snprintf(id, sizeof id, "%" PRIu64, pit_rand() % 30);
        if (which == 0 && pit_rand() % 40 == 0)
            snprintf(id, sizeof id, "abc");
        if (which == 0)
            lr_time_format_iso8601(et_us, et);
        else if (et_us % 1000000 == 0)
            snprintf(et, sizeof et, "%" PRId64, et_us / 1000000);
        else
            snprintf(et, sizeof et, "%" PRId64 ".5", et_us / 1000000);
        if (i > 0 && k < 20) {
            /* Same identifier and event time as the row before: a duplicate. */
            snprintf(id, sizeof id, "%s", prev_id);
            snprintf(et, sizeof et, "%s", prev_et);
        }
        snprintf(prev_id, sizeof prev_id, "%s", id);
        snprintf(prev_et, sizeof prev_et, "%s", et);
        if (k >= 85) {
            lr_error err;
            if (lr_offline_delete(s, def, id, strlen(id), et, strlen(et), api, &err) != LR_OK)
                fail_msg("delete: %s", err.msg);
            continue;
        }
        lr_feature_value v[6];
        uint32_t n = 0;
        v[n++] = sval(0, id);
        v[n++] = sval(1, et);
        snprintf(nb, sizeof nb, "%" PRId64, (int64_t)(pit_rand() % 2000) - 1000);
        snprintf(xb, sizeof xb, "%.17g", (double)(pit_rand() % 100000) / 7.0);
        if (which == 0) {
            if (pit_rand() % 5)
                v[n++] = sval(2, nb);
            if (pit_rand() % 5)
                v[n++] = sval(3, xb);
            uint64_t sk = pit_rand() % 6;
            snprintf(sb, sizeof sb, "s,\"%" PRIu64, pit_rand() % 100);
            if (sk == 0)
                v[n++] = sval(4, "");
            else if (sk > 1)
                v[n++] = sval(4, sb);
            uint64_t nt = pit_rand() % 4;
            if (nt < 3) {
                tags[0].len = (size_t)snprintf(t1, sizeof t1, "t%" PRIu64, pit_rand() % 5);
                tags[1].len = (size_t)snprintf(t2, sizeof t2, "u%" PRIu64, pit_rand() % 5);
                memset(&v[n], 0, sizeof v[n]);
                v[n].feature = 5;
                v[n].is_list = true;
                v[n].items = tags;
                v[n++].n_items = (uint32_t)nt;
            }
        } else {
            if (pit_rand() % 5)
                v[n++] = sval(2, xb);
            if (pit_rand() % 5)
                v[n++] = sval(3, nb);
        }
        put(s, def, v, n, api);
    }
}

static void load_group(pit_fx *fx, int which)
{
    pit_group *g = &fx->g[which];
    const lr_fg_def *def = g->def;
    lr_offline_scan *sc;
    lr_error err;
    const lr_offline_batch *b;
    for (size_t i = 0; i < g->n; i++) {
        for (uint32_t f = 0; f < def->n_features; f++)
            free(g->rows[i].cells[f]);
        free(g->rows[i].cells);
        free(g->rows[i].key);
    }
    free(g->rows);
    g->rows = NULL;
    g->n = 0;
    assert_int_equal(lr_offline_scan_open(fx->cat, def->name, NULL, &sc, &err), LR_OK);
    uint32_t nc;
    const lr_offline_column *cols = lr_offline_scan_columns(sc, &nc);
    for (;;) {
        assert_int_equal(lr_offline_scan_next(sc, &b, &err), LR_OK);
        if (b == NULL)
            break;
        g->rows = realloc(g->rows, (g->n + b->n_rows) * sizeof *g->rows);
        for (uint32_t r = 0; r < b->n_rows; r++) {
            pit_row *x = &g->rows[g->n++];
            uint32_t k = def->n_features;
            x->cells = calloc(k, sizeof *x->cells);
            for (uint32_t f = 0; f < k; f++)
                x->cells[f] = cell_text(offline_kind(cols[f].type), cols[f].list, &b->columns[f], r);
            x->key = strdup(x->cells[def->record_id_index]);
            const lr_pq_column_batch *et = &b->columns[def->event_time_index];
            if (which == 0)
                assert_int_equal(lr_time_parse_iso8601((const char *)et->bytes + et->offsets[r],
                                                       et->offsets[r + 1] - et->offsets[r], &x->et,
                                                       NULL),
                                 LR_OK);
            else
                x->et = (int64_t)llround(et->f64[r] * 1e6);
            x->wt = b->columns[k].i64[r];
            x->api = b->columns[k + 1].i64[r];
            x->del = b->columns[k + 2].bools[r];
        }
    }
    lr_offline_scan_free(sc);
}

void pit_fx_load(pit_fx *fx)
{
    load_group(fx, 0);
    load_group(fx, 1);
}

void pit_fx_create(pit_fx *fx, uint64_t seed, size_t rows)
{
    lr_error err;
    lr_fg_def *req;
    lr_offline *s;
    lr_offline_config cfg;

    memset(fx, 0, sizeof *fx);
    lr_log_set_level(LR_LOG_ERROR);
    pit_seed(seed);
    fx->dir = lr_test_tmpdir("larder-pit");
    assert_int_equal(lr_catalog_open(fx->dir, NULL, &fx->cat, &err), LR_OK);
    const char *defs[2] = {CLICKS, ORDERS};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lr_fg_def_parse(defs[i], strlen(defs[i]), &req, &err), LR_OK);
        assert_int_equal(lr_catalog_fg_create(fx->cat, req, &fx->g[i].def, &err), LR_OK);
        lr_fg_def_free(req);
    }
    /* Event times every ten minutes over ten hours, some with a fraction. */
    fx->n_times = 61;
    fx->times = calloc(fx->n_times, sizeof *fx->times);
    for (size_t i = 0; i < fx->n_times; i++)
        fx->times[i] = PIT_BASE_US + (int64_t)i * 600000000LL + (i % 7 == 3 ? 500000 : 0);
    lr_offline_config_init(&cfg);
    cfg.background = false;
    cfg.sync = LR_OFFLINE_SYNC_NO;
    assert_int_equal(lr_offline_open(fx->dir, NULL, &cfg, &s, &err), LR_OK);
    for (int part = 0; part < 3; part++) {
        write_group(fx, s, 0, rows / 3);
        write_group(fx, s, 1, rows / 3);
        assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    }
    lr_offline_close(s);
    pit_fx_load(fx);
}

void pit_fx_free(pit_fx *fx)
{
    for (int i = 0; i < 2; i++) {
        pit_group *g = &fx->g[i];
        for (size_t r = 0; r < g->n; r++) {
            for (uint32_t f = 0; f < g->def->n_features; f++)
                free(g->rows[r].cells[f]);
            free(g->rows[r].cells);
            free(g->rows[r].key);
        }
        free(g->rows);
        lr_fg_def_free(g->def);
    }
    lr_catalog_close(fx->cat);
    lr_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx->times);
    memset(fx, 0, sizeof *fx);
}

/* ---- the reference ---- */

static bool key_matches(const pit_group *g, const pit_row *r, const char *user)
{
    if (user == NULL || user[0] == '\0')
        return false;
    if (g->def->features[g->def->record_id_index].type == LR_FT_STRING)
        return strcmp(r->key, user) == 0;
    int64_t v;
    if (lr_value_parse_integral(user, strlen(user), &v, NULL) != LR_OK)
        return false;
    return strtoll(r->key, NULL, 10) == v;
}

const pit_row *pit_ref(const pit_group *g, const char *user, int64_t t, int64_t max_age,
                       int64_t as_of)
{
    const pit_row *best = NULL;
    for (size_t i = 0; i < g->n; i++) {
        const pit_row *r = &g->rows[i];
        if (r->et > t || r->wt > as_of || !key_matches(g, r, user))
            continue;
        if (best == NULL || r->et > best->et ||
            (r->et == best->et &&
             (r->api > best->api || (r->api == best->api && r->wt > best->wt))))
            best = r;
    }
    if (best == NULL || best->del)
        return NULL;
    if (max_age > 0 && t - best->et >= max_age)
        return NULL;
    return best;
}

/* ---- reading outputs ---- */

void pit_read_parquet(const char *path, pit_table *t)
{
    lr_pq_reader *rd;
    lr_pq_scan *sc;
    lr_error err;
    const lr_pq_batch *b;
    memset(t, 0, sizeof *t);
    if (lr_pq_reader_open_file(path, &rd, &err) != LR_OK)
        fail_msg("%s: %s", path, err.msg);
    t->n_cols = lr_pq_reader_num_columns(rd);
    t->names = calloc(t->n_cols, sizeof *t->names);
    for (uint32_t c = 0; c < t->n_cols; c++)
        t->names[c] = strdup(lr_pq_reader_column(rd, c)->name);
    assert_int_equal(lr_pq_scan_open(rd, NULL, &sc, &err), LR_OK);
    for (;;) {
        assert_int_equal(lr_pq_scan_next(sc, &b, &err), LR_OK);
        if (b == NULL)
            break;
        t->cells = realloc(t->cells, (t->n_rows + b->n_rows) * sizeof *t->cells);
        for (uint32_t r = 0; r < b->n_rows; r++) {
            char **row = calloc(t->n_cols, sizeof *row);
            for (uint32_t c = 0; c < t->n_cols; c++) {
                const lr_pq_column_def *d = lr_pq_reader_column(rd, c);
                row[c] = cell_text(pq_kind(d), d->list, &b->columns[c], r);
            }
            t->cells[t->n_rows++] = row;
        }
    }
    lr_pq_scan_free(sc);
    lr_pq_reader_free(rd);
}

void pit_table_free(pit_table *t)
{
    for (size_t r = 0; r < t->n_rows; r++) {
        for (uint32_t c = 0; c < t->n_cols; c++)
            free(t->cells[r][c]);
        free(t->cells[r]);
    }
    free(t->cells);
    for (uint32_t c = 0; c < t->n_cols; c++)
        free(t->names[c]);
    free(t->names);
    memset(t, 0, sizeof *t);
}

int pit_col(const pit_table *t, const char *name)
{
    for (uint32_t c = 0; c < t->n_cols; c++)
        if (strcmp(t->names[c], name) == 0)
            return (int)c;
    return -1;
}
