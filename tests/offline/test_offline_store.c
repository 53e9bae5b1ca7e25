/*
 * test_offline_store.c - the offline store end to end on a real catalog and
 * a local directory: puts and deletes through the log, flushes into hourly
 * Parquet files at SageMaker's paths with SageMaker's columns, scans (range
 * pruning, projection, batches), the resolved scan's rule, adoption of a
 * dead process's log, the catalog's compare-and-set, garbage collection,
 * partitions and totals, repair and DDL.
 */
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/catalog.h"
#include "larder/log.h"
#include "larder/offline.h"
#include "larder/parquet.h"
#include "larder/record.h"
#include "offline/offline_internal.h"
#include "support/testutil.h"

typedef struct fx {
    char *dir;
    lr_catalog *cat;
    lr_fg_def *def;
    lr_settings settings;
} fx;

static const char FG_JSON[] =
    "{\"FeatureGroupName\":\"orders\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"price\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"emb\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":2}}}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lr_fg_def *req = NULL;
    lr_error err;
    f->dir = lr_test_tmpdir("larder-off");
    snprintf(f->settings.region, sizeof f->settings.region, "eu-west-1");
    snprintf(f->settings.account, sizeof f->settings.account, "123456789012");
    if (lr_catalog_open(f->dir, &f->settings, &f->cat, &err) != LR_OK ||
        lr_fg_def_parse(FG_JSON, strlen(FG_JSON), &req, &err) != LR_OK ||
        lr_catalog_fg_create(f->cat, req, &f->def, &err) != LR_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    lr_fg_def_free(req);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lr_fg_def_free(f->def);
    lr_catalog_close(f->cat);
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static lr_offline *open_store(fx *f, lr_offline_sync sync)
{
    lr_offline_config c;
    lr_offline *s = NULL;
    lr_error err;
    lr_offline_config_init(&c);
    c.sync = sync;
    c.gc_grace_us = 3600LL * 1000000;
    if (lr_offline_open(f->dir, &f->settings, &c, &s, &err) != LR_OK)
        fail_msg("open: %s", err.msg);
    return s;
}

/*
 * Puts one record: id, ts, amount (NULL: absent), price, tags, emb. With
 * as_strings, the numbers validation parsed are dropped before the append,
 * so the log holds them as strings, as logs written before typed entries do.
 */
static void put_ex(lr_offline *s, const lr_fg_def *def, const char *id, const char *ts,
                   const char *amount, const char *price, int64_t api_us, bool as_strings)
{
    lr_feature_value v[6];
    lr_str tags[2] = {{"red", 3}, {"big", 3}};
    lr_str emb[2] = {{"0.5", 3}, {"-1.25", 5}};
    lr_record rec;
    lr_error err;
    uint32_t n = 0;

    memset(v, 0, sizeof v);
    v[n].feature = 0;
    v[n++].value = (lr_str){id, strlen(id)};
    v[n].feature = 1;
    v[n++].value = (lr_str){ts, strlen(ts)};
    if (amount != NULL) {
        v[n].feature = 2;
        v[n++].value = (lr_str){amount, strlen(amount)};
    }
    v[n].feature = 3;
    v[n++].value = (lr_str){price, strlen(price)};
    v[n].feature = 4;
    v[n].is_list = true;
    v[n].items = tags;
    v[n++].n_items = 2;
    v[n].feature = 5;
    v[n].is_list = true;
    v[n].items = emb;
    v[n++].n_items = 2;
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = n;
    if (lr_record_validate(def, &rec, &err) != LR_OK)
        fail_msg("validate: %s", err.msg);
    assert_int_equal(v[n - 3].num_kind, LR_NUM_DOUBLE); /* price */
    assert_int_equal(v[n - 2].num_kind, LR_NUM_NONE);   /* a list */
    for (uint32_t i = 0; as_strings && i < n; i++)
        v[i].num_kind = LR_NUM_NONE;
    if (lr_offline_put(s, def, &rec, api_us, &err) != LR_OK)
        fail_msg("put: %s", err.msg);
}

static void put(lr_offline *s, const lr_fg_def *def, const char *id, const char *ts,
                const char *amount, int64_t api_us)
{
    put_ex(s, def, id, ts, amount, "2.5", api_us, false);
}

typedef struct row {
    char id[32];
    char ts[40];
    bool has_amount;
    int64_t amount;
    double price;
    int ntags;
    int64_t write_us, api_us;
    bool deleted;
} row;

/* Reads every row of a scan into rows (at most max); returns the count. */
static int scan_all(fx *f, const lr_offline_scan_options *opt, row *rows, int max)
{
    lr_offline_scan *s = NULL;
    lr_error err;
    const lr_offline_batch *b;
    int n = 0;
    uint32_t nc;

    if (lr_offline_scan_open(f->cat, "orders", opt, &s, &err) != LR_OK)
        fail_msg("scan: %s", err.msg);
    const lr_offline_column *cols = lr_offline_scan_columns(s, &nc);
    assert_int_equal(nc, 9);
    assert_string_equal(cols[6].name, "write_time");
    assert_int_equal(cols[6].type, LR_OFFLINE_TIMESTAMP);
    assert_int_equal(cols[4].type, LR_OFFLINE_STRING);
    assert_true(cols[4].list);
    for (;;) {
        lr_status st = lr_offline_scan_next(s, &b, &err);
        if (st != LR_OK)
            fail_msg("scan_next: %s", err.msg);
        if (b == NULL)
            break;
        assert_true(b->n_rows > 0);
        for (uint32_t r = 0; r < b->n_rows && n < max; r++, n++) {
            const lr_pq_column_batch *c = b->columns;
            row *w = &rows[n];
            memset(w, 0, sizeof *w);
            snprintf(w->id, sizeof w->id, "%.*s", (int)(c[0].offsets[r + 1] - c[0].offsets[r]),
                     c[0].bytes + c[0].offsets[r]);
            snprintf(w->ts, sizeof w->ts, "%.*s", (int)(c[1].offsets[r + 1] - c[1].offsets[r]),
                     c[1].bytes + c[1].offsets[r]);
            w->has_amount = c[2].validity == NULL || c[2].validity[r];
            w->amount = c[2].i64[r];
            w->price = (c[3].validity == NULL || c[3].validity[r]) ? c[3].f64[r] : -1;
            w->ntags = (c[4].validity == NULL || c[4].validity[r])
                           ? (int)(c[4].list_offsets[r + 1] - c[4].list_offsets[r])
                           : -1;
            w->write_us = c[6].i64[r];
            w->api_us = c[7].i64[r];
            w->deleted = c[8].bools[r];
        }
    }
    lr_offline_scan_free(s);
    return n;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char p[4096];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            n += count_files(p);
        else
            n++;
    }
    closedir(d);
    return n;
}

static void test_put_flush_scan(void **state)
{
    fx *f = *state;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_ALWAYS);
    lr_error err;
    row rows[64];
    lr_offline_metrics m;

    put(s, f->def, "a", "2024-03-05T10:15:00Z", "7", 1000);
    put(s, f->def, "b", "2024-03-05T10:59:59.5Z", NULL, 1001);
    put(s, f->def, "a", "2024-03-05T11:00:00Z", "8", 1002);
    put(s, f->def, "c", "2023-12-31T23:30:00Z", "-9", 1003);
    lr_offline_metrics_get(s, &m);
    assert_int_equal(m.pending_entries, 4);
    assert_true(m.log_bytes > 0);
    assert_int_equal(m.files_written, 0);

    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_metrics_get(s, &m);
    assert_int_equal(m.pending_entries, 0);
    assert_int_equal(m.lag_us, 0);
    assert_int_equal(m.files_written, 3); /* three hours */
    assert_int_equal(m.rows_written, 4);

    /* SageMaker's layout under the resolved root. */
    lr_offline_file_list l;
    assert_int_equal(lr_catalog_offline_files(f->cat, "orders", f->def->creation_time_us,
                                              INT64_MIN, INT64_MAX, &l, &err),
                     LR_OK);
    assert_int_equal(l.n, 3);
    char want_root[4096];
    snprintf(want_root, sizeof want_root,
             "%s/offline/123456789012/sagemaker/eu-west-1/offline-store/orders-%lld/data",
             f->dir, (long long)(f->def->creation_time_us / 1000000));
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^year=[0-9]{4}/month=[0-9]{2}/day=[0-9]{2}/hour=[0-9]{2}/"
                             "[0-9]{8}T[0-9]{6}Z_[A-Za-z0-9]{16}\\.parquet$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    for (size_t i = 0; i < l.n; i++) {
        char *rp = realpath(f->dir, NULL);
        char want2[4096];
        snprintf(want2, sizeof want2,
                 "%s/offline/123456789012/sagemaker/eu-west-1/offline-store/orders-%lld/data", rp,
                 (long long)(f->def->creation_time_us / 1000000));
        free(rp);
        assert_true(strcmp(l.items[i].root, want_root) == 0 ||
                    strcmp(l.items[i].root, want2) == 0);
        assert_int_equal(regexec(&re, l.items[i].key, 0, NULL, 0), 0);
    }
    regfree(&re);
    /* Ordered by partition; the name's timestamp is the file's latest event time. */
    assert_string_equal(l.items[0].partition, "year=2023/month=12/day=31/hour=23");
    assert_non_null(strstr(l.items[0].key, "/20231231T233000Z_"));
    assert_string_equal(l.items[1].partition, "year=2024/month=03/day=05/hour=10");
    assert_non_null(strstr(l.items[1].key, "/20240305T105959Z_"));
    assert_int_equal(l.items[1].rows, 2);
    assert_string_equal(l.items[2].partition, "year=2024/month=03/day=05/hour=11");
    lr_offline_file_list_free(&l);

    /* Everything back, with the right values. */
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    int n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].id, "c");
    assert_int_equal(rows[0].amount, -9);
    assert_string_equal(rows[1].id, "a");
    assert_string_equal(rows[1].ts, "2024-03-05T10:15:00Z");
    assert_true(rows[1].has_amount);
    assert_int_equal(rows[1].amount, 7);
    assert_true(rows[1].price == 2.5);
    assert_int_equal(rows[1].ntags, 2);
    assert_int_equal(rows[1].api_us, 1000);
    assert_false(rows[1].deleted);
    assert_string_equal(rows[2].id, "b");
    assert_false(rows[2].has_amount);
    /* write_time grows in log order. */
    assert_true(rows[1].write_us < rows[2].write_us);

    /* Range pruning: [10:30, 11:00) holds only b. */
    assert_int_equal(lr_time_parse_iso8601("2024-03-05T10:30:00Z", 20, &o.start_us, &err), LR_OK);
    assert_int_equal(lr_time_parse_iso8601("2024-03-05T11:00:00Z", 20, &o.end_us, &err), LR_OK);
    n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "b");

    /* Projection and small batches. */
    const char *cols[2] = {"amount", "id"};
    lr_offline_scan_options_init(&o);
    o.columns = cols;
    o.n_columns = 2;
    o.batch_rows = 1;
    lr_offline_scan *sc = NULL;
    assert_int_equal(lr_offline_scan_open(f->cat, "orders", &o, &sc, &err), LR_OK);
    const lr_offline_batch *b;
    int batches = 0;
    while (lr_offline_scan_next(sc, &b, &err) == LR_OK && b != NULL) {
        assert_int_equal(b->n_rows, 1);
        assert_int_equal(b->n_columns, 2);
        batches++;
    }
    assert_int_equal(batches, 4);
    lr_offline_scan_free(sc);
    const char *bad[1] = {"nope"};
    o.columns = bad;
    o.n_columns = 1;
    assert_int_equal(lr_offline_scan_open(f->cat, "orders", &o, &sc, &err), LR_EINVAL);

    /* Partitions and totals. */
    lr_offline_partition_info *p = NULL;
    size_t np = 0;
    assert_int_equal(lr_offline_partitions(f->cat, "orders", &p, &np, &err), LR_OK);
    assert_int_equal(np, 3);
    assert_int_equal(p[1].files, 1);
    assert_int_equal(p[1].rows, 2);
    assert_true(p[1].bytes > 0);
    free(p);
    lr_offline_group_stats gs;
    assert_int_equal(lr_offline_group_stats_get(f->cat, "orders", &gs, &err), LR_OK);
    assert_int_equal(gs.files, 3);
    assert_int_equal(gs.partitions, 3);
    assert_int_equal(gs.rows, 4);

    /* Closing removes the fully flushed log. */
    char walroot[4096];
    snprintf(walroot, sizeof walroot, "%s/wal", f->dir);
    lr_offline_close(s);
    assert_int_equal(count_files(walroot), 0);
}

/*
 * Numbers reach Parquet with the same values whether the log holds them as
 * the numbers validation parsed or as strings (logs of older versions).
 */
static void test_typed_and_string_numbers(void **state)
{
    fx *f = *state;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);
    lr_error err;
    row rows[16];
    static const char *amounts[] = {"9223372036854775807", "-9223372036854775808", "0", "-42"};
    static const char *prices[] = {"1e308", "-0.0", "0.1", "NaN"};

    for (int i = 0; i < 8; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        put_ex(s, f->def, id, "2024-03-05T10:15:00Z", amounts[i % 4], prices[i % 4], i,
               i >= 4);
    }
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    assert_int_equal(scan_all(f, &o, rows, 16), 8);
    for (int i = 0; i < 8; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        assert_string_equal(rows[i].id, id);
        assert_true(rows[i].has_amount);
        assert_int_equal(rows[i].amount, strtoll(amounts[i % 4], NULL, 10));
        double want = strtod(prices[i % 4], NULL);
        assert_memory_equal(&rows[i].price, &want, sizeof want); /* -0.0 and NaN bit for bit */
        assert_int_equal(rows[i].ntags, 2);
    }
    lr_offline_close(s);
}

/* A scanned row: its write_time and its values as text. */
typedef struct srow {
    int64_t wt;
    char text[160];
} srow;

static int srow_cmp(const void *pa, const void *pb)
{
    const srow *a = pa, *b = pb;
    return (a->wt > b->wt) - (a->wt < b->wt);
}

/*
 * Every row of `group` (ncols columns, at most max rows) formatted by fmt,
 * in write_time order (unique within a process), concatenated; *count
 * gets the number of rows. The caller frees the result.
 */
static char *scan_signature(fx *f, const char *group, uint32_t ncols, int max, int *count,
                            void (*fmt)(const lr_pq_column_batch *c, uint32_t r, srow *out))
{
    lr_offline_scan *sc = NULL;
    lr_offline_scan_options o;
    const lr_offline_batch *b;
    lr_error err;
    srow *rows = calloc((size_t)max, sizeof *rows);
    int n = 0;
    lr_buf sig;

    lr_offline_scan_options_init(&o);
    assert_int_equal(lr_offline_scan_open(f->cat, group, &o, &sc, &err), LR_OK);
    while (lr_offline_scan_next(sc, &b, &err) == LR_OK && b != NULL) {
        assert_int_equal(b->n_columns, ncols);
        for (uint32_t r = 0; r < b->n_rows; r++, n++) {
            assert_true(n < max);
            fmt(b->columns, r, &rows[n]);
        }
    }
    lr_offline_scan_free(sc);
    qsort(rows, (size_t)n, sizeof *rows, srow_cmp);
    lr_buf_init(&sig, 0);
    for (int i = 0; i < n; i++)
        lr_buf_append_str(&sig, rows[i].text);
    free(rows);
    *count = n;
    return sig.data;
}

#define VALID(k) (c[k].validity == NULL || c[k].validity[r])
#define STR(k) (int)(c[k].offsets[r + 1] - c[k].offsets[r]), c[k].bytes + c[k].offsets[r]

/* orders: id/ts/amount/extra; write_time is column 7. */
static void fmt_history(const lr_pq_column_batch *c, uint32_t r, srow *out)
{
    out->wt = c[7].i64[r];
    bool extra = VALID(6);
    snprintf(out->text, sizeof out->text, "%.*s/%.*s/%lld/%.*s;", STR(0), STR(1),
             (long long)c[2].i64[r], extra ? (int)(c[6].offsets[r + 1] - c[6].offsets[r]) : 1,
             extra ? (const char *)c[6].bytes + c[6].offsets[r] : "-");
}

/* meters: every column, nulls marked; write_time is column 5. */
static void fmt_flat(const lr_pq_column_batch *c, uint32_t r, srow *out)
{
    out->wt = c[5].i64[r];
    snprintf(out->text, sizeof out->text, "%.*s/%.*s/%s%lld/%s%.17g/%s%.*s/%lld/%d;", STR(0),
             STR(1), VALID(2) ? "" : "null:", (long long)c[2].i64[r], VALID(3) ? "" : "null:",
             c[3].f64[r], VALID(4) ? "" : "null:", STR(4), (long long)c[6].i64[r],
             (int)c[7].bools[r]);
}

#undef VALID
#undef STR

/*
 * One history written with the memtable and once without (every flush
 * reading the log back): the same rows reach Parquet, in the same order,
 * also when the memtable overflows its cap mid-way (the rest is read back)
 * and when the group gains a feature between two writes.
 */
static char *history_signature(void **state, bool memtable)
{
    fx *f = *state;
    lr_offline_config c;
    lr_offline *s = NULL;
    lr_error err;
    lr_fg_def *v2 = NULL, *stored = NULL;

    lr_offline_config_init(&c);
    c.memtable = memtable;
    c.sync = LR_OFFLINE_SYNC_NO;
    c.flush_bytes = 1; /* the memtable's cap is its floor, 1 MiB: ~7000 rows */
    assert_int_equal(lr_offline_open(f->dir, &f->settings, &c, &s, &err), LR_OK);
    for (int i = 0; i < 9000; i++) {
        char id[16], ts[32], amount[16];
        snprintf(id, sizeof id, "k%d", i % 500);
        snprintf(ts, sizeof ts, "2024-05-0%dT%02d:00:00Z", 1 + i % 3, i % 24);
        snprintf(amount, sizeof amount, "%d", i);
        put(s, f->def, id, ts, amount, i);
    }
    /* The group gains a feature; rows of both versions share hours. */
    static const char add[] = "[{\"FeatureName\":\"extra\",\"FeatureType\":\"String\"}]";
    assert_int_equal(lr_fg_def_add_features(f->def, add, strlen(add), &v2, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, v2, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "orders", &stored, &err), LR_OK);
    for (int i = 0; i < 50; i++) {
        lr_feature_value v[4];
        memset(v, 0, sizeof v);
        char id[16], amount[16];
        snprintf(id, sizeof id, "n%d", i);
        snprintf(amount, sizeof amount, "%d", 100000 + i);
        v[0].feature = 0;
        v[0].value = (lr_str){id, strlen(id)};
        v[1].feature = 1;
        v[1].value = (lr_str){"2024-05-01T05:00:00Z", 20};
        v[2].feature = 2;
        v[2].value = (lr_str){amount, strlen(amount)};
        v[3].feature = 6;
        v[3].value = (lr_str){"new", 3};
        lr_record rec = {v, 4, {NULL, 0}, 0};
        assert_int_equal(lr_record_validate(stored, &rec, &err), LR_OK);
        assert_int_equal(lr_offline_put(s, stored, &rec, 5, &err), LR_OK);
    }
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_close(s);

    /* Every row as id/ts/amount/extra, in write_time order. */
    int n = 0;
    char *sig = scan_signature(f, "orders", 10, 10000, &n, fmt_history);
    assert_int_equal(n, 9050);
    lr_fg_def_free(v2);
    lr_fg_def_free(stored);
    return sig;
}

/*
 * A group without list features: its buckets are decoded straight into row
 * slots (rows_flat); with the test hook off, entry by entry as groups with
 * lists are. Both must write the same rows, including for entries a
 * validated write never makes (a feature twice, an index outside the
 * definition, a number of the wrong type, a string that is not a number),
 * which become nulls with a warning.
 */
static const char FLAT_JSON[] =
    "{\"FeatureGroupName\":\"meters\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"price\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"note\",\"FeatureType\":\"String\"}],"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static char *flat_signature(void **state, bool flat)
{
    fx *f = *state;
    lr_fg_def *req = NULL, *def = NULL;
    lr_error err;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);

    assert_int_equal(lr_fg_def_parse(FLAT_JSON, strlen(FLAT_JSON), &req, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(f->cat, req, &def, &err), LR_OK);
    for (int i = 0; i < 600; i++) {
        lr_feature_value v[6];
        char id[16], ts[32], amount[16], price[16], note[16];
        uint32_t n = 0;
        memset(v, 0, sizeof v);
        snprintf(id, sizeof id, "m%d", i % 37);
        snprintf(ts, sizeof ts, "2024-06-0%dT%02d:30:00Z", 1 + i % 2, i % 3);
        snprintf(amount, sizeof amount, "%d", i - 300);
        snprintf(price, sizeof price, "%d.%02d", i, i % 100);
        snprintf(note, sizeof note, i % 5 ? "n%d" : "", i);
        v[n].feature = 0;
        v[n++].value = (lr_str){id, strlen(id)};
        v[n].feature = 1;
        v[n++].value = (lr_str){ts, strlen(ts)};
        if (i % 4 != 1) {
            v[n].feature = 2;
            v[n++].value = (lr_str){amount, strlen(amount)};
        }
        if (i % 6 != 2) {
            v[n].feature = 3;
            v[n++].value = (lr_str){price, strlen(price)};
        }
        if (i % 3 != 0) {
            v[n].feature = 4;
            v[n++].value = (lr_str){note, strlen(note)};
        }
        lr_record rec = {v, n, {NULL, 0}, 0};
        assert_int_equal(lr_record_validate(def, &rec, &err), LR_OK);
        for (uint32_t j = 0; i % 7 == 0 && j < n; j++)
            v[j].num_kind = LR_NUM_NONE; /* numbers as strings, as older logs hold them */
        if (i % 50 == 48) {
            /* What validation never lets through: the flusher writes nulls. */
            int odd = (i / 50) % 4;
            if (odd == 0 && n < 6) { /* amount twice: the first counts */
                v[n] = v[0];
                v[n].feature = 2;
                v[n].num_kind = LR_NUM_INT;
                v[n++].num.i = 999999;
            } else if (odd == 1 && n < 6) { /* a feature the group does not have */
                v[n] = v[0];
                v[n++].feature = 9;
            } else if (odd == 2) { /* price logged as an Integral */
                for (uint32_t j = 0; j < n; j++) {
                    if (v[j].feature == 3) {
                        v[j].num_kind = LR_NUM_INT;
                        v[j].num.i = 5;
                    }
                }
            } else { /* amount logged as a string that is not a number */
                for (uint32_t j = 0; j < n; j++) {
                    if (v[j].feature == 2) {
                        v[j].num_kind = LR_NUM_NONE;
                        v[j].value = (lr_str){"abc", 3};
                    }
                }
            }
        }
        rec.n_values = n;
        assert_int_equal(lr_offline_put(s, def, &rec, 1000 + i, &err), LR_OK);
        if (i % 9 == 0) /* a delete of the same row */
            assert_int_equal(
                lr_offline_delete(s, def, id, strlen(id), ts, strlen(ts), 2000 + i, &err), LR_OK);
    }
    lr__offline_flat_rows = flat;
    lr_status fst = lr_offline_flush(s, &err);
    lr__offline_flat_rows = true;
    assert_int_equal(fst, LR_OK);
    lr_offline_close(s);

    int n = 0;
    char *sig = scan_signature(f, "meters", 8, 1000, &n, fmt_flat);
    assert_int_equal(n, 600 + 67);
    lr_fg_def_free(req);
    lr_fg_def_free(def);
    return sig;
}

static void test_flat_rows_match_generic(void **state)
{
    char *flat = flat_signature(state, true);
    teardown(state);
    assert_int_equal(setup(state), 0);
    char *generic = flat_signature(state, false);
    assert_string_equal(flat, generic);
    /* Plain rows, nulls, an empty string, a delete. */
    assert_non_null(strstr(flat, "m1/2024-06-02T01:30:00Z/null:0/1.01/n1/1001/0;"));
    assert_non_null(strstr(flat, "m3/2024-06-02T00:30:00Z/-297/3.0299999999999998/null:/1003/0;"));
    assert_non_null(strstr(flat, "m5/2024-06-02T02:30:00Z/null:0/5.0499999999999998//1005/0;"));
    assert_non_null(strstr(flat, "m0/2024-06-01T00:30:00Z/null:0/null:0/null:/2000/1;"));
    /* The odd entries: the first amount counts; the unknown feature is dropped; the wrong
     * kind and the non-number are nulls. */
    assert_non_null(strstr(flat, "m11/2024-06-01T00:30:00Z/-252/48.479999999999997/null:/1048/0;"));
    assert_non_null(strstr(flat, "m24/2024-06-01T02:30:00Z/-202/null:0/n98/1098/0;"));
    assert_non_null(strstr(flat, "m0/2024-06-01T01:30:00Z/-152/null:0/n148/1148/0;"));
    assert_non_null(
        strstr(flat, "m13/2024-06-01T00:30:00Z/null:0/198.97999999999999/null:/1198/0;"));
    free(flat);
    free(generic);
}

/*
 * A batch encoded in parts (lr_offline_encode_add): a part with a bad row
 * adds nothing and leaves the earlier parts, and the batch appends as one.
 */
static void test_encode_in_parts(void **state)
{
    fx *f = *state;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);
    lr_error err;
    static const char *ids[] = {"a1", "a2", "b1", "b2", "c1"};
    lr_feature_value v[5][2];
    lr_record rec[5];
    lr_offline_write w[5];
    lr_offline_encoded e;

    for (int i = 0; i < 5; i++) {
        memset(v[i], 0, sizeof v[i]);
        v[i][0].value = (lr_str){ids[i], 2};
        v[i][1].feature = 1;
        v[i][1].value = (lr_str){"2024-03-05T10:15:00Z", 20};
        rec[i] = (lr_record){v[i], 2, {NULL, 0}, 0};
        assert_int_equal(lr_record_validate(f->def, &rec[i], &err), LR_OK);
        w[i] = (lr_offline_write){f->def, &rec[i], false, 100 + i};
    }
    rec[3].record_id = (lr_str){NULL, 0}; /* not validated: refused */
    lr_offline_encoded_init(&e);
    assert_int_equal(lr_offline_encode_add(s, w, 2, &e, &err), LR_OK);
    assert_int_equal(e.n, 2);
    size_t len = e.payloads.len;
    assert_int_equal(lr_offline_encode_add(s, w + 2, 2, &e, &err), LR_EINVAL);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.payloads.len, len);
    assert_int_equal(lr_offline_encode_add(s, w + 4, 1, &e, &err), LR_OK);
    assert_int_equal(e.n, 3);
    assert_int_equal(lr_offline_append(s, &e, &err), LR_OK);
    /* lr_offline_encode starts afresh. */
    assert_int_equal(lr_offline_encode(s, w + 2, 1, &e, &err), LR_OK);
    assert_int_equal(e.n, 1);
    lr_offline_encoded_free(&e);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);

    row rows[8];
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    assert_int_equal(scan_all(f, &o, rows, 8), 3);
    assert_string_equal(rows[0].id, "a1");
    assert_string_equal(rows[1].id, "a2");
    assert_string_equal(rows[2].id, "c1");
    assert_int_equal(rows[2].api_us, 104);
    assert_true(rows[0].write_us < rows[1].write_us && rows[1].write_us < rows[2].write_us);
    lr_offline_close(s);
}

static void test_memtable_matches_log(void **state)
{
    char *with = history_signature(state, true);
    teardown(state);
    assert_int_equal(setup(state), 0);
    char *without = history_signature(state, false);
    assert_string_equal(with, without);
    assert_non_null(strstr(with, "n49/2024-05-01T05:00:00Z/100049/new;"));
    assert_non_null(strstr(with, "k499/2024-05-03T23:00:00Z/8999/-;"));
    free(with);
    free(without);
}

static void test_resolved_and_deletes(void **state)
{
    fx *f = *state;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_EVERYSEC);
    lr_error err;
    row rows[64];
    lr_offline_scan_options o;

    /* x: two writes at one event time; the later api_invocation_time wins. */
    put(s, f->def, "x", "2024-01-01T00:10:00Z", "1", 2000);
    put(s, f->def, "x", "2024-01-01T00:10:00Z", "2", 1000);
    /* y: put, then deleted at a later event time, then put again after the delete. */
    put(s, f->def, "y", "2024-01-01T00:20:00Z", "10", 1000);
    assert_int_equal(lr_offline_delete(s, f->def, "y", 1, "2024-01-01T02:00:00Z", 20, 3000,
                                       &err),
                     LR_OK);
    put(s, f->def, "y", "2024-01-01T03:00:00Z", "11", 4000);
    /* z: a delete at the same event time that wins by api_invocation_time. */
    put(s, f->def, "z", "2024-01-01T00:30:00Z", "5", 1000);
    assert_int_equal(lr_offline_delete(s, f->def, "z", 1, "2024-01-01T00:30:00Z", 20, 1500,
                                       &err),
                     LR_OK);
    /* A bad delete is refused. */
    assert_int_equal(lr_offline_delete(s, f->def, "z", 1, "yesterday", 9, 1, &err), LR_EINVAL);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);

    lr_offline_scan_options_init(&o);
    int n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 7); /* every row stays in the history */
    int deletes = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].deleted) {
            deletes++;
            assert_false(rows[i].has_amount); /* only id and event time */
            assert_int_equal(rows[i].ntags, -1);
        }
    }
    assert_int_equal(deletes, 2);

    o.resolved = true;
    n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "x");
    assert_int_equal(rows[0].amount, 1);
    assert_string_equal(rows[1].id, "y");
    assert_string_equal(rows[1].ts, "2024-01-01T03:00:00Z");

    /* As of 02:30: y's delete hides its 00:20 row; the 03:00 row is outside. */
    assert_int_equal(lr_time_parse_iso8601("2024-01-01T02:30:00Z", 20, &o.end_us, &err), LR_OK);
    n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "x");
    /* As of 01:00 (the delete not yet happened), y's first row shows. */
    assert_int_equal(lr_time_parse_iso8601("2024-01-01T01:00:00Z", 20, &o.end_us, &err), LR_OK);
    n = scan_all(f, &o, rows, 64);
    assert_int_equal(n, 2);
    assert_string_equal(rows[1].id, "y");
    assert_int_equal(rows[1].amount, 10);
    lr_offline_close(s);
}

static void test_adopt_dead_process(void **state)
{
    fx *f = *state;
    lr_error err;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lr_offline *s = NULL;
        lr_offline_config c;
        lr_fg_def *def = NULL;
        lr_catalog *cat = NULL;
        lr_offline_config_init(&c);
        c.sync = LR_OFFLINE_SYNC_NO;
        if (lr_catalog_open(f->dir, &f->settings, &cat, &err) != LR_OK ||
            lr_catalog_fg_get(cat, "orders", &def, &err) != LR_OK ||
            lr_offline_open(f->dir, &f->settings, &c, &s, &err) != LR_OK)
            _exit(2);
        for (int i = 0; i < 50; i++) {
            char id[16];
            snprintf(id, sizeof id, "k%d", i);
            put(s, def, id, "2024-06-01T12:00:00Z", "1", i);
        }
        _exit(0); /* dies without flushing or closing */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char walroot[4096];
    snprintf(walroot, sizeof walroot, "%s/wal", f->dir);
    assert_true(count_files(walroot) > 0);

    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_metrics m;
    lr_offline_metrics_get(s, &m);
    assert_int_equal(m.logs_adopted, 1);
    row rows[64];
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    assert_int_equal(scan_all(f, &o, rows, 64), 50);
    /* Flushing again adds nothing. */
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    assert_int_equal(scan_all(f, &o, rows, 64), 50);
    lr_offline_close(s);
    assert_int_equal(count_files(walroot), 0);
}

static void test_commit_is_compare_and_set(void **state)
{
    fx *f = *state;
    lr_error err;
    lr_offline_file file;
    memset(&file, 0, sizeof file);
    file.fg_name = "orders";
    file.fg_created_us = f->def->creation_time_us;
    file.partition = "year=2024/month=01/day=01/hour=00";
    file.partition_start_us = 1704067200000000LL;
    file.root = "/nowhere";
    file.key = "year=2024/month=01/day=01/hour=00/x.parquet";
    file.rows = 1;
    file.bytes = 10;
    file.min_event_us = file.max_event_us = file.partition_start_us;
    file.log_id = "log-1";

    /* Not announced: refused. */
    assert_int_equal(lr_catalog_offline_commit(f->cat, "log-1", 0, 5, &file, 1, &err),
                     LR_ECONFLICT);
    assert_int_equal(lr_catalog_offline_announce(f->cat, &file, 1, &err), LR_OK);
    assert_int_equal(lr_catalog_offline_announce(f->cat, &file, 1, &err), LR_EEXIST);
    /* Wrong expected checkpoint: refused, nothing changes. */
    assert_int_equal(lr_catalog_offline_commit(f->cat, "log-1", 3, 5, &file, 1, &err),
                     LR_ECONFLICT);
    assert_int_equal(lr_catalog_offline_commit(f->cat, "log-1", 0, 5, &file, 1, &err), LR_OK);
    int64_t cp;
    assert_int_equal(lr_catalog_offline_checkpoint(f->cat, "log-1", &cp, &err), LR_OK);
    assert_int_equal(cp, 5);
    /* The same range again: refused (a replay can never register twice). */
    assert_int_equal(lr_catalog_offline_announce(f->cat, &file, 1, &err), LR_OK);
    assert_int_equal(lr_catalog_offline_commit(f->cat, "log-1", 0, 5, &file, 1, &err),
                     LR_ECONFLICT);
    bool removed = false;
    assert_int_equal(lr_catalog_offline_unannounce(f->cat, file.root, file.key, &removed, &err),
                     LR_OK);
    assert_true(removed);
    bool found = false;
    assert_int_equal(lr_catalog_offline_file_exists(f->cat, file.root, file.key, &found, &err),
                     LR_OK);
    assert_true(found);
    assert_int_equal(lr_catalog_offline_checkpoint_delete(f->cat, "log-1", &err), LR_OK);
    assert_int_equal(lr_catalog_offline_checkpoint(f->cat, "log-1", &cp, &err), LR_OK);
    assert_int_equal(cp, 0);
}

static void test_gc(void **state)
{
    fx *f = *state;
    lr_error err;
    lr_objstore *os = NULL;
    lr_offline_gc_report r;
    const char *root = f->def->resolved_offline_uri;
    lr_offline_file a;

    assert_int_equal(lr_objstore_open(root, &os, &err), LR_OK);
    /* A leftover of a failed flush (announced, written, never committed)... */
    memset(&a, 0, sizeof a);
    a.fg_name = "orders";
    a.root = root;
    a.key = "year=2024/month=01/day=01/hour=00/20240101T000000Z_AAAAAAAAAAAAAAAA.parquet";
    a.log_id = "dead-log";
    assert_int_equal(lr_catalog_offline_announce(f->cat, &a, 1, &err), LR_OK);
    assert_int_equal(lr_objstore_put(os, a.key, "junk", 4, &err), LR_OK);
    /* ...and a file some other tool wrote, which gc must never touch. */
    const char *foreign = "year=2024/month=01/day=01/hour=00/part-0.parquet";
    assert_int_equal(lr_objstore_put(os, foreign, "data", 4, &err), LR_OK);

    /* Within the grace period nothing goes. */
    assert_int_equal(lr_offline_gc(f->cat, 3600LL * 1000000, &r, &err), LR_OK);
    assert_int_equal(r.files_removed, 0);
    assert_int_equal(lr_objstore_head(os, a.key, NULL, NULL, &err), LR_OK);
    /* Past it the leftover goes, the foreign file stays. */
    usleep(2000);
    assert_int_equal(lr_offline_gc(f->cat, 1000, &r, &err), LR_OK);
    assert_int_equal(r.files_removed, 1);
    assert_int_equal(lr_objstore_head(os, a.key, NULL, NULL, &err), LR_ENOTFOUND);
    assert_int_equal(lr_objstore_head(os, foreign, NULL, NULL, &err), LR_OK);
    lr_offline_file_list l;
    assert_int_equal(lr_catalog_offline_announced(f->cat, INT64_MAX, 0, &l, &err), LR_OK);
    assert_int_equal(l.n, 0);
    lr_offline_file_list_free(&l);
    lr_objstore_close(os);
}

/* Writes a Parquet file with the given columns and one row as another tool would. */
static void write_foreign(lr_objstore *os, const char *key, const lr_fg_def *def, bool same,
                          const char *ts)
{
    lr_pq_column_def *cols = NULL;
    uint32_t n;
    lr_error err;
    lr_buf b;
    lr_pq_writer *w = NULL;

    assert_int_equal(lr_offline_parquet_columns(def, &cols, &n, &err), LR_OK);
    if (!same)
        cols[2].type = LR_PQ_INT32; /* amount as a 32-bit integer */
    /* Another writer stores timestamps in milliseconds. */
    cols[n - 3].unit = LR_PQ_MILLIS;
    lr_buf_init(&b, 0);
    assert_int_equal(lr_pq_writer_open(cols, n, NULL, lr_pq_sink_buf(&b), &w, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_bytes(w, 0, "f1", 2, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_bytes(w, 1, ts, strlen(ts), &err), LR_OK);
    if (same)
        assert_int_equal(lr_pq_writer_set_i64(w, 2, 42, &err), LR_OK);
    else
        assert_int_equal(lr_pq_writer_set_i32(w, 2, 42, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_i64(w, n - 3, 1700000000123LL, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_i64(w, n - 2, 1700000000123456LL, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_bool(w, n - 1, false, &err), LR_OK);
    assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    assert_int_equal(lr_objstore_put(os, key, b.data, b.len, &err), LR_OK);
    lr_buf_free(&b);
    free(cols);
}

static void test_repair(void **state)
{
    fx *f = *state;
    lr_error err;
    lr_objstore *os = NULL;
    lr_offline_repair_report r;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);

    put(s, f->def, "a", "2024-02-01T05:00:00Z", "1", 1);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_close(s);
    assert_int_equal(lr_objstore_open(f->def->resolved_offline_uri, &os, &err), LR_OK);
    write_foreign(os, "year=2024/month=2/day=1/hour=6/data_0.parquet", f->def, true,
                  "2024-02-01T06:30:00Z");
    write_foreign(os, "year=2024/month=02/day=01/hour=07/other.parquet", f->def, false,
                  "2024-02-01T07:30:00Z");
    write_foreign(os, "misplaced.parquet", f->def, true, "2024-02-01T07:30:00Z");
    assert_int_equal(lr_objstore_put(os, "year=2024/month=02/day=01/hour=07/_SUCCESS", "", 0,
                                     &err),
                     LR_OK);

    /* Dry run: reports, registers nothing. */
    assert_int_equal(lr_offline_repair(f->cat, "orders", true, &r, &err), LR_OK);
    assert_int_equal(r.files_in_storage, 4);
    assert_int_equal(r.files_registered, 1);
    assert_int_equal(r.n_added, 1);
    assert_non_null(strstr(r.added[0].uri, "hour=6/data_0.parquet"));
    assert_int_equal(r.n_rejected, 2);
    assert_int_equal(r.partitions_added, 1);
    int schema = 0, layout = 0;
    for (size_t i = 0; i < r.n_rejected; i++) {
        if (strstr(r.rejected[i].reason, "schema differs: column amount") != NULL)
            schema++;
        if (strstr(r.rejected[i].reason, "year=YYYY") != NULL)
            layout++;
    }
    assert_int_equal(schema, 1);
    assert_int_equal(layout, 1);
    lr_offline_repair_report_free(&r);
    lr_offline_group_stats gs;
    assert_int_equal(lr_offline_group_stats_get(f->cat, "orders", &gs, &err), LR_OK);
    assert_int_equal(gs.files, 1);

    /* For real: the matching file becomes live and readable. */
    assert_int_equal(lr_offline_repair(f->cat, "orders", false, &r, &err), LR_OK);
    assert_int_equal(r.n_added, 1);
    lr_offline_repair_report_free(&r);
    assert_int_equal(lr_offline_group_stats_get(f->cat, "orders", &gs, &err), LR_OK);
    assert_int_equal(gs.files, 2);
    assert_int_equal(gs.partitions, 2);
    row rows[8];
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    assert_int_equal(scan_all(f, &o, rows, 8), 2);
    assert_string_equal(rows[1].id, "f1");
    assert_int_equal(rows[1].amount, 42);
    assert_int_equal(rows[1].write_us, 1700000000123000LL); /* millis normalised */
    assert_int_equal(rows[1].ntags, -1); /* absent list */

    /* A registered file that storage lost is reported. */
    lr_offline_file_list l;
    assert_int_equal(lr_catalog_offline_files(f->cat, "orders", f->def->creation_time_us,
                                              INT64_MIN, INT64_MAX, &l, &err),
                     LR_OK);
    assert_int_equal(lr_objstore_delete(os, l.items[0].key, &err), LR_OK);
    lr_offline_file_list_free(&l);
    assert_int_equal(lr_offline_repair(f->cat, "orders", true, &r, &err), LR_OK);
    assert_int_equal(r.n_missing, 1);
    assert_int_equal(r.n_added, 0);
    lr_offline_repair_report_free(&r);
    lr_objstore_close(os);
}

static void test_ddl(void **state)
{
    fx *f = *state;
    lr_error err;
    lr_buf b;
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);
    put(s, f->def, "a", "2024-02-01T05:00:00Z", "1", 1);
    put(s, f->def, "a", "2024-02-02T05:00:00Z", "1", 1);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_close(s);

    lr_offline_dialect d;
    assert_int_equal(lr_offline_dialect_parse("athena", &d, &err), LR_OK);
    assert_int_equal(lr_offline_dialect_parse("oracle", &d, &err), LR_EINVAL);

    lr_buf_init(&b, 0);
    assert_int_equal(lr_offline_ddl(f->cat, "orders", LR_DDL_ATHENA, NULL, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "CREATE EXTERNAL TABLE IF NOT EXISTS "
                                   "`sagemaker_featurestore`.`orders_"));
    assert_non_null(strstr(b.data, "`amount` bigint,"));
    assert_non_null(strstr(b.data, "`price` double,"));
    assert_non_null(strstr(b.data, "`tags` array<string>,"));
    assert_non_null(strstr(b.data, "`emb` array<double>,"));
    assert_non_null(strstr(b.data, "`write_time` timestamp,"));
    assert_non_null(strstr(b.data, "`is_deleted` boolean\n"));
    assert_non_null(strstr(b.data, "PARTITIONED BY (`year` string, `month` string, `day` string, "
                                   "`hour` string)"));
    assert_non_null(strstr(b.data, "STORED AS PARQUET"));
    assert_non_null(strstr(b.data, "LOCATION 'file://"));
    assert_non_null(strstr(b.data, "PARTITION (`year` = '2024', `month` = '02', `day` = '01', "
                                   "`hour` = '05') LOCATION 'file://"));
    assert_non_null(strstr(b.data, "/data/year=2024/month=02/day=02/hour=05';\n"));
    lr_buf_clear(&b);

    lr_offline_ddl_options opt = {"db", "t", NULL, false};
    assert_int_equal(lr_offline_ddl(f->cat, "orders", LR_DDL_TRINO, &opt, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "CREATE TABLE IF NOT EXISTS \"hive\".\"db\".\"t\""));
    assert_non_null(strstr(b.data, "\"tags\" array(varchar)"));
    assert_non_null(strstr(b.data, "partitioned_by = ARRAY['year', 'month', 'day', 'hour']"));
    assert_non_null(strstr(b.data, "CALL \"hive\".system.register_partition('db', 't', "
                                   "ARRAY['year', 'month', 'day', 'hour'], "
                                   "ARRAY['2024', '02', '01', '05']);"));
    lr_buf_clear(&b);

    assert_int_equal(lr_offline_ddl(f->cat, "orders", LR_DDL_SPARK, &opt, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "USING PARQUET\nPARTITIONED BY (`year`, `month`, `day`, "
                                   "`hour`)"));
    assert_non_null(strstr(b.data, "`hour` STRING\n"));
    lr_buf_clear(&b);

    assert_int_equal(lr_offline_ddl(f->cat, "orders", LR_DDL_DUCKDB, &opt, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "CREATE OR REPLACE VIEW \"t\" AS\nSELECT * FROM "
                                   "read_parquet('/"));
    assert_non_null(strstr(b.data, "/data/**/*.parquet', hive_partitioning = true);"));
    lr_buf_clear(&b);
    opt.live_files_only = true;
    assert_int_equal(lr_offline_ddl(f->cat, "orders", LR_DDL_DUCKDB, &opt, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "read_parquet([\n  '/"));
    assert_int_equal(lr_test_count_lines(b.data), 5);
    lr_buf_free(&b);
}

static void test_no_offline_store(void **state)
{
    fx *f = *state;
    lr_error err;
    const char *json = "{\"FeatureGroupName\":\"online_only\",\"RecordIdentifierFeatureName\":"
                       "\"id\",\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                       "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                       "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"}],"
                       "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";
    lr_fg_def *req = NULL, *def = NULL;
    assert_int_equal(lr_fg_def_parse(json, strlen(json), &req, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(f->cat, req, &def, &err), LR_OK);
    lr_offline *s = open_store(f, LR_OFFLINE_SYNC_NO);
    assert_int_equal(lr_offline_delete(s, def, "a", 1, "1700000000", 10, 1, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "no offline store"));
    lr_offline_scan *sc = NULL;
    assert_int_equal(lr_offline_scan_open(f->cat, "online_only", NULL, &sc, &err), LR_EINVAL);
    assert_int_equal(lr_offline_scan_open(f->cat, "missing", NULL, &sc, &err), LR_ENOTFOUND);
    lr_offline_close(s);
    lr_fg_def_free(req);
    lr_fg_def_free(def);
}


/* Polls `m` until cond holds or 60 s pass: correctness never depends on how long it takes. */
#define WAIT_FOR(s, m, cond)                                                                       \
    do {                                                                                       \
        for (int i_ = 0; i_ < 6000; i_++) {                                                    \
            lr_offline_metrics_get((s), &(m));                                                 \
            if (cond)                                                                          \
                break;                                                                         \
            usleep(10000);                                                                     \
        }                                                                                      \
        lr_offline_metrics_get((s), &(m));                                                     \
        assert_true(cond);                                                                     \
    } while (0)

static void test_background_flusher(void **state)
{
    fx *f = *state;
    lr_offline_config c;
    lr_offline *s = NULL;
    lr_offline_metrics m;
    lr_error err;
    row rows[64];
    lr_offline_scan_options o;

    lr_offline_config_init(&c);
    c.background = true;
    c.flush_bytes = 2048;        /* a few records trigger a flush by size */
    c.flush_age_us = 300000;     /* one record waits at most this long */
    assert_int_equal(lr_offline_open(f->dir, &f->settings, &c, &s, &err), LR_OK);
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        put(s, f->def, id, "2024-07-01T08:00:00Z", "1", i);
    }
    WAIT_FOR(s, m, m.rows_written == 30);
    assert_true(m.flushes >= 1);
    put(s, f->def, "late", "2024-07-01T09:00:00Z", "1", 99);
    lr_offline_metrics_get(s, &m);
    assert_true(m.pending_entries <= 1);
    WAIT_FOR(s, m, m.pending_entries == 0 && m.rows_written == 31);
    assert_int_equal(m.lag_us, 0);
    lr_offline_scan_options_init(&o);
    assert_int_equal(scan_all(f, &o, rows, 64), 31);
    lr_offline_close(s);
}

int main(void)
{
    lr_log_set_level(LR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_flush_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_and_string_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memtable_matches_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flat_rows_match_generic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolved_and_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_dead_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_compare_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_offline_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_flusher, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
