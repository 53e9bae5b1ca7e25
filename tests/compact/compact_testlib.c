/*
 * compact_testlib.c - helpers of compaction's tests (compact_testlib.h).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "compact_testlib.h"
#include "larder/buf.h"
#include "larder/log.h"
#include "larder/parquet.h"
#include "larder/record.h"
#include "larder/value.h"
#include "support/testutil.h"

static const char FG_FMT[] =
    "{\"FeatureGroupName\":\"%s\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"f\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

void ct_options(lr_compact_options *o)
{
    lr_compact_options_init(o);
    o->threads = 2;
    o->grace_us = 0;
    o->lease_us = 30 * 1000000LL;
}

void ct_setup(ct_env *e, const char *name)
{
    char json[2048];
    lr_fg_def *req = NULL;
    lr_offline_config c;
    lr_error err;

    memset(e, 0, sizeof *e);
    lr_log_set_level(LR_LOG_ERROR);
    e->dir = lr_test_tmpdir("larder-compact");
    assert_non_null(e->dir);
    snprintf(json, sizeof json, FG_FMT, name);
    assert_int_equal(lr_catalog_open(e->dir, NULL, &e->cat, &err), LR_OK);
    if (lr_fg_def_parse(json, strlen(json), &req, &err) != LR_OK ||
        lr_catalog_fg_create(e->cat, req, &e->def, &err) != LR_OK)
        fail_msg("create %s: %s", name, err.msg);
    lr_fg_def_free(req);
    lr_offline_config_init(&c);
    c.sync = LR_OFFLINE_SYNC_NO;
    c.flush_on_close = true;
    assert_int_equal(lr_offline_open(e->dir, NULL, &c, &e->store, &err), LR_OK);
}

void ct_teardown(ct_env *e, bool keep)
{
    lr_offline_close(e->store);
    lr_fg_def_free(e->def);
    lr_catalog_close(e->cat);
    if (!keep)
        lr_test_rmtree(e->dir);
    free(e->dir);
    memset(e, 0, sizeof *e);
}

void ct_reopen(ct_env *e)
{
    lr_error err;
    lr_catalog_close(e->cat);
    assert_int_equal(lr_catalog_open(e->dir, NULL, &e->cat, &err), LR_OK);
}

void ct_put(ct_env *e, const char *id, int64_t event_us, int64_t n, int ntags, int64_t api_us)
{
    char ts[LR_TIME_STR_MAX], ns[32], fs[32];
    lr_str tags[3] = {{"a", 1}, {"bb", 2}, {"", 0}};
    lr_feature_value v[5];
    lr_record rec;
    lr_error err;
    uint32_t k = 0;

    lr_time_format_iso8601(event_us, ts);
    snprintf(ns, sizeof ns, "%lld", (long long)n);
    snprintf(fs, sizeof fs, "%.3f", (double)n / 8.0);
    memset(v, 0, sizeof v);
    v[k].feature = 0;
    v[k++].value = (lr_str){id, strlen(id)};
    v[k].feature = 1;
    v[k++].value = (lr_str){ts, strlen(ts)};
    v[k].feature = 2;
    v[k++].value = (lr_str){ns, strlen(ns)};
    if (n % 5 != 0) { /* every fifth row has a null f */
        v[k].feature = 3;
        v[k++].value = (lr_str){fs, strlen(fs)};
    }
    if (ntags >= 0) {
        v[k].feature = 4;
        v[k].is_list = true;
        v[k].items = tags;
        v[k++].n_items = (uint32_t)(ntags > 3 ? 3 : ntags);
    }
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = k;
    if (lr_record_validate(e->def, &rec, &err) != LR_OK ||
        lr_offline_put(e->store, e->def, &rec, api_us, &err) != LR_OK)
        fail_msg("put %s: %s", id, err.msg);
}

void ct_flush(ct_env *e)
{
    lr_error err;
    if (lr_offline_flush(e->store, &err) != LR_OK)
        fail_msg("flush: %s", err.msg);
}

void ct_fill(ct_env *e, const char *prefix, int hour, int files, int rows_per_file, int ids)
{
    static int64_t api = 1000;
    int64_t base = CT_T0 + (int64_t)hour * CT_HOUR;
    for (int f = 0; f < files; f++) {
        for (int r = 0; r < rows_per_file; r++) {
            char id[64];
            int k = (f * rows_per_file + r) % ids;
            snprintf(id, sizeof id, "%s%d", prefix, k);
            int64_t ev =
                base + ((int64_t)(f * rows_per_file + r) * 7919 % 3600) * 1000000 + (r % 3) * 1000;
            ct_put(e, id, ev, f * rows_per_file + r, (r % 5) - 1, ++api);
        }
        ct_flush(e);
    }
}

/* ---- rows as strings ---- */

static void fmt_slot(lr_buf *b, const lr_offline_column *c, const lr_pq_column_batch *v, uint32_t i)
{
    switch (c->type) {
    case LR_OFFLINE_INT64:
    case LR_OFFLINE_TIMESTAMP:
        lr_buf_printf(b, "%lld", (long long)v->i64[i]);
        break;
    case LR_OFFLINE_DOUBLE:
        lr_buf_printf(b, "%.17g", v->f64[i]);
        break;
    case LR_OFFLINE_BOOL:
        lr_buf_printf(b, "%s", v->bools[i] ? "true" : "false");
        break;
    case LR_OFFLINE_STRING:
        lr_buf_append_json_str(b, (const char *)v->bytes + v->offsets[i],
                               v->offsets[i + 1] - v->offsets[i]);
        break;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

lr_status ct_try_scan(lr_catalog *cat, const char *fg, ct_rows *out)
{
    lr_offline_scan *s = NULL;
    const lr_offline_batch *bt;
    const lr_offline_column *cols;
    uint32_t nc = 0;
    size_t cap = 0;
    lr_error err;
    lr_status st;

    memset(out, 0, sizeof *out);
    st = lr_offline_scan_open(cat, fg, NULL, &s, &err);
    if (st != LR_OK)
        return st;
    cols = lr_offline_scan_columns(s, &nc);
    for (;;) {
        st = lr_offline_scan_next(s, &bt, &err);
        if (st != LR_OK || bt == NULL)
            break;
        for (uint32_t r = 0; r < bt->n_rows; r++) {
            lr_buf b;
            lr_buf_init(&b, 0);
            for (uint32_t c = 0; c < nc; c++) {
                const lr_pq_column_batch *v = &bt->columns[c];
                if (c > 0)
                    lr_buf_append_byte(&b, '|');
                if (v->validity != NULL && !v->validity[r]) {
                    lr_buf_append_str(&b, "null");
                } else if (cols[c].list) {
                    lr_buf_append_byte(&b, '[');
                    for (uint32_t i = v->list_offsets[r]; i < v->list_offsets[r + 1]; i++) {
                        if (i > v->list_offsets[r])
                            lr_buf_append_byte(&b, ',');
                        if (v->elem_validity != NULL && !v->elem_validity[i])
                            lr_buf_append_str(&b, "null");
                        else
                            fmt_slot(&b, &cols[c], v, i);
                    }
                    lr_buf_append_byte(&b, ']');
                } else {
                    fmt_slot(&b, &cols[c], v, r);
                }
            }
            if (out->n == cap) {
                cap = cap ? cap * 2 : 1024;
                out->v = realloc(out->v, cap * sizeof *out->v);
                assert_non_null(out->v);
            }
            out->v[out->n++] = lr_buf_detach(&b, NULL);
        }
    }
    lr_offline_scan_free(s);
    if (st != LR_OK) {
        ct_rows_free(out);
        return st;
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return LR_OK;
}

void ct_scan(lr_catalog *cat, const char *fg, ct_rows *out)
{
    lr_status st = ct_try_scan(cat, fg, out);
    if (st != LR_OK)
        fail_msg("scan of %s failed: %s", fg, lr_strerror(st));
}

void ct_rows_free(ct_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

void ct_assert_same(const ct_rows *a, const ct_rows *b)
{
    if (a->n != b->n)
        fail_msg("%zu rows before, %zu after", a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            fail_msg("row %zu differs:\n  %s\n  %s", i, a->v[i], b->v[i]);
}

/* ---- storage ---- */

size_t ct_live_files(ct_env *e)
{
    lr_offline_file_list l = {0};
    lr_error err;
    assert_int_equal(lr_catalog_offline_files(e->cat, e->def->name, e->def->creation_time_us,
                                              INT64_MIN, INT64_MAX, &l, &err),
                     LR_OK);
    size_t n = l.n;
    lr_offline_file_list_free(&l);
    return n;
}

static void walk(const char *dir, size_t *parquet, size_t *tmp)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char p[4096];
        struct stat sb;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (lstat(p, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk(p, parquet, tmp);
        } else if (strncmp(de->d_name, ".lrtmp.", 7) == 0) {
            (*tmp)++;
        } else {
            size_t l = strlen(de->d_name);
            if (l > 8 && strcmp(de->d_name + l - 8, ".parquet") == 0)
                (*parquet)++;
        }
    }
    closedir(d);
}

void ct_storage(const char *root, size_t *parquet, size_t *tmp)
{
    *parquet = 0;
    *tmp = 0;
    walk(root, parquet, tmp);
}

void ct_assert_storage_is_catalog(ct_env *e)
{
    lr_offline_file_list l = {0};
    lr_error err;
    size_t pq, tmp;
    assert_int_equal(lr_catalog_offline_files(e->cat, e->def->name, e->def->creation_time_us,
                                              INT64_MIN, INT64_MAX, &l, &err),
                     LR_OK);
    for (size_t i = 0; i < l.n; i++) {
        char p[4096];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", l.items[i].root, l.items[i].key);
        if (stat(p, &sb) != 0)
            fail_msg("live file %s is missing from storage", p);
    }
    ct_storage(e->def->resolved_offline_uri, &pq, &tmp);
    if (pq != l.n || tmp != 0)
        fail_msg("storage holds %zu parquet files and %zu temporaries; the catalog %zu files", pq,
                 tmp, l.n);
    lr_offline_file_list_free(&l);
}

/* Compares (id, event time string as microseconds, api) of consecutive rows. */
void ct_assert_files_sorted(ct_env *e)
{
    lr_offline_file_list l = {0};
    lr_error err;
    assert_int_equal(lr_catalog_offline_files(e->cat, e->def->name, e->def->creation_time_us,
                                              INT64_MIN, INT64_MAX, &l, &err),
                     LR_OK);
    for (size_t i = 0; i < l.n; i++) {
        char p[4096], prev_id[256] = "";
        int64_t prev_ev = INT64_MIN, prev_api = INT64_MIN;
        lr_pq_reader *rd = NULL;
        lr_pq_scan *s = NULL;
        const lr_pq_batch *b;
        uint32_t cols[3];
        lr_pq_scan_options so;
        bool first = true;
        snprintf(p, sizeof p, "%s/%s", l.items[i].root, l.items[i].key);
        if (lr_pq_reader_open_file(p, &rd, &err) != LR_OK)
            fail_msg("%s: %s", p, err.msg);
        cols[0] = (uint32_t)lr_pq_reader_find_column(rd, "id");
        cols[1] = (uint32_t)lr_pq_reader_find_column(rd, "ts");
        cols[2] = (uint32_t)lr_pq_reader_find_column(rd, "api_invocation_time");
        memset(&so, 0, sizeof so);
        so.columns = cols;
        so.n_columns = 3;
        assert_int_equal(lr_pq_scan_open(rd, &so, &s, &err), LR_OK);
        while (lr_pq_scan_next(s, &b, &err) == LR_OK && b != NULL) {
            for (uint32_t r = 0; r < b->n_rows; r++) {
                const lr_pq_column_batch *id = &b->columns[0], *ts = &b->columns[1];
                char cur[256];
                int64_t ev = 0;
                snprintf(cur, sizeof cur, "%.*s", (int)(id->offsets[r + 1] - id->offsets[r]),
                         id->bytes + id->offsets[r]);
                assert_int_equal(lr_time_parse_iso8601((const char *)ts->bytes + ts->offsets[r],
                                                       ts->offsets[r + 1] - ts->offsets[r], &ev,
                                                       NULL),
                                 LR_OK);
                int64_t api = b->columns[2].i64[r];
                if (!first) {
                    int c = strcmp(prev_id, cur);
                    if (c > 0 || (c == 0 && (prev_ev > ev || (prev_ev == ev && prev_api > api))))
                        fail_msg("%s is not sorted at %s", p, cur);
                }
                first = false;
                snprintf(prev_id, sizeof prev_id, "%s", cur);
                prev_ev = ev;
                prev_api = api;
            }
        }
        lr_pq_scan_free(s);
        lr_pq_reader_free(rd);
    }
    lr_offline_file_list_free(&l);
}
