/*
 * test_pipeline.c - lr_ingest_run with several parsing threads and tiny
 * chunks, against real stores (LMDB and the offline store): rows reach both
 * stores exactly as a single-threaded pass in file order would leave them,
 * rejects are listed in file order, and --on-error fail writes exactly the
 * rows before the bad one.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/ingest.h"
#include "larder/offline.h"
#include "larder/online.h"
#include "support/testutil.h"

#define ROWS 3000
#define IDS 97

static const char FG_JSON[] =
    "{\"FeatureGroupName\":\"p\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"s\",\"FeatureType\":\"String\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

typedef struct fx {
    char *dir;
    lr_settings settings;
    lr_catalog *cat;
    lr_fg_def *def;
    lr_online *online;
    lr_offline *offline;
    char *csv;
} fx;

/* Row i of the input: a bad one every 250 rows. */
static bool row_is_bad(int i)
{
    return i % 250 == 137;
}

static bool row_is_two_lines(int i)
{
    return !row_is_bad(i) && i % 7 == 0;
}

/* The physical line row i starts on: quoted fields with a newline take two. */
static int line_of(int i)
{
    int line = 2;
    for (int j = 0; j < i; j++)
        line += row_is_two_lines(j) ? 2 : 1;
    return line;
}

/*
 * Identifiers cycle over IDS values; event times grow by one second every
 * two rows, so consecutive rows of an identifier sometimes tie and the later
 * row must win. s holds the row's line, so order is checkable.
 */
static void make_csv(fx *f)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    lr_buf_append_str(&b, "id,ts,n,s\n");
    for (int i = 0, line = 2; i < ROWS; line += row_is_two_lines(i) ? 2 : 1, i++) {
        if (row_is_bad(i))
            lr_buf_printf(&b, "id%d,%d,not-a-number,\"line %d\"\n", i % IDS, 1000 + i / 2, line);
        else if (row_is_two_lines(i))
            lr_buf_printf(&b, "\"id%d\",%d,%d,\"line %d,\nquoted\"\n", i % IDS, 1000 + i / 2, i,
                          line);
        else
            lr_buf_printf(&b, "id%d,%d,%d,line %d\n", i % IDS, 1000 + i / 2, i, line);
    }
    f->csv = lr_test_path(f->dir, "in.csv");
    assert_int_equal(lr_test_write_file(f->csv, b.data, b.len), 0);
    lr_buf_free(&b);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lr_fg_def *req = NULL;
    lr_error err;
    lr_offline_config oc;

    f->dir = lr_test_tmpdir("larder-pipe");
    snprintf(f->settings.region, sizeof f->settings.region, "eu-west-1");
    snprintf(f->settings.account, sizeof f->settings.account, "123456789012");
    if (lr_catalog_open(f->dir, &f->settings, &f->cat, &err) != LR_OK ||
        lr_fg_def_parse(FG_JSON, strlen(FG_JSON), &req, &err) != LR_OK ||
        lr_catalog_fg_create(f->cat, req, &f->def, &err) != LR_OK)
        fail_msg("setup: %s", err.msg);
    lr_fg_def_free(req);
    if (lr_online_open(f->dir, NULL, &f->online, &err) != LR_OK)
        fail_msg("online: %s", err.msg);
    lr_offline_config_init(&oc);
    oc.background = false;
    oc.sync = LR_OFFLINE_SYNC_NO;
    if (lr_offline_open(f->dir, &f->settings, &oc, &f->offline, &err) != LR_OK)
        fail_msg("offline: %s", err.msg);
    make_csv(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lr_offline_close(f->offline);
    lr_online_close(f->online);
    lr_fg_def_free(f->def);
    lr_catalog_close(f->cat);
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f->csv);
    free(f);
    return 0;
}

/* The line numbers (from s) of the offline rows in write_time order; returns the count. */
static int offline_lines(fx *f, int *lines, int max)
{
    lr_offline_scan *s = NULL;
    lr_offline_scan_options o;
    const lr_offline_batch *b;
    lr_error err;
    int n = 0;
    int64_t *wt = calloc((size_t)max, sizeof *wt);

    lr_offline_scan_options_init(&o);
    assert_int_equal(lr_offline_scan_open(f->cat, "p", &o, &s, &err), LR_OK);
    while (lr_offline_scan_next(s, &b, &err) == LR_OK && b != NULL) {
        const lr_pq_column_batch *c = b->columns;
        for (uint32_t r = 0; r < b->n_rows; r++) {
            assert_true(n < max);
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*s", (int)(c[3].offsets[r + 1] - c[3].offsets[r]),
                     c[3].bytes + c[3].offsets[r]);
            lines[n] = atoi(tmp + 5);
            wt[n] = c[4].i64[r];
            n++;
        }
    }
    lr_offline_scan_free(s);
    /* Sort by write_time (insertion sort: small n, mostly ordered). */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && wt[j] < wt[j - 1]; j--) {
            int64_t t = wt[j];
            wt[j] = wt[j - 1];
            wt[j - 1] = t;
            int l = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = l;
        }
    }
    for (int i = 1; i < n; i++)
        assert_true(wt[i] > wt[i - 1]); /* distinct, so the order is the log's */
    free(wt);
    return n;
}

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    lr_buf b;
    char tmp[4096];
    size_t n;
    assert_non_null(fp);
    lr_buf_init(&b, 0);
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        lr_buf_append(&b, tmp, n);
    fclose(fp);
    lr_buf_append_str(&b, "");
    return b.data;
}

static void options(lr_ingest_options *o)
{
    lr_ingest_options_init(o);
    o->threads = 3;
    o->chunk_bytes = 100; /* a few rows per chunk: many chunks, cut everywhere */
    o->batch_rows = 64;
}

static void test_skip_mode_matches_file_order(void **state)
{
    fx *f = *state;
    lr_ingest_options o;
    lr_ingest_summary sum;
    lr_error err;
    char *rej_path = lr_test_path(f->dir, "rejects.ndjson");
    FILE *rej = fopen(rej_path, "w");
    const char *files[1] = {f->csv};
    int good = 0, bad = 0;

    for (int i = 0; i < ROWS; i++)
        row_is_bad(i) ? bad++ : good++;
    options(&o);
    o.skip_bad_rows = true;
    o.rejects = rej;
    assert_int_equal(lr_ingest_run(f->online, f->offline, f->def, files, 1, &o, &sum, &err),
                     LR_OK);
    fclose(rej);
    assert_int_equal(sum.rows, good);
    assert_int_equal(sum.rejected, bad);
    assert_int_equal(sum.offline_rows, good);
    assert_int_equal(sum.files, 1);

    /* Rejects in file order, one per bad row, with its line. */
    char *text = read_all(rej_path);
    assert_non_null(text);
    char *p = text;
    for (int i = 0; i < ROWS; i++) {
        if (!row_is_bad(i))
            continue;
        char want[64];
        snprintf(want, sizeof want, "\"line\":%d,", line_of(i));
        char *hit = strstr(p, want);
        assert_non_null(hit);
        p = strchr(hit, '\n');
        assert_non_null(p);
    }
    assert_null(strstr(p, "\"line\""));
    free(text);

    /* Offline: every good row once, in file order. */
    int *lines = calloc(ROWS, sizeof *lines);
    assert_int_equal(offline_lines(f, lines, ROWS), good);
    int k = 0;
    for (int i = 0; i < ROWS; i++) {
        if (!row_is_bad(i))
            assert_int_equal(lines[k++], line_of(i));
    }
    free(lines);

    /* Online: per identifier the latest event time, the later row on a tie. */
    lr_online_reader *rd = NULL;
    assert_int_equal(lr_online_reader_open(f->online, &rd, &err), LR_OK);
    for (int id = 0; id < IDS; id++) {
        int want = -1;
        for (int i = 0; i < ROWS; i++) {
            if (i % IDS == id && !row_is_bad(i) &&
                (want < 0 || 1000 + i / 2 >= 1000 + want / 2))
                want = i;
        }
        char key[16];
        snprintf(key, sizeof key, "id%d", id);
        lr_online_row row;
        assert_int_equal(lr_online_get(rd, f->def, key, strlen(key), NULL, 0, &row, &err), LR_OK);
        assert_true(row.found);
        char nbuf[32] = "";
        for (uint32_t j = 0; j < row.n_fields; j++) {
            if (row.fields[j].feature == 2)
                snprintf(nbuf, sizeof nbuf, "%.*s", (int)row.fields[j].len, row.fields[j].data);
        }
        assert_int_equal(atoi(nbuf), want);
    }
    lr_online_reader_close(rd);
    free(rej_path);
}

static void test_fail_mode_writes_rows_before(void **state)
{
    fx *f = *state;
    lr_ingest_options o;
    lr_ingest_summary sum;
    lr_error err;
    const char *files[1] = {f->csv};
    int first_bad = -1;

    for (int i = 0; i < ROWS && first_bad < 0; i++)
        if (row_is_bad(i))
            first_bad = i;
    options(&o);
    assert_int_equal(lr_ingest_run(f->online, f->offline, f->def, files, 1, &o, &sum, &err),
                     LR_EINVAL);
    assert_int_equal(sum.stop_line, line_of(first_bad));
    assert_string_equal(sum.stop_file, f->csv);
    assert_non_null(strstr(err.msg, "line "));
    assert_int_equal(sum.rows, first_bad);
    assert_int_equal(sum.offline_rows, first_bad);
    assert_int_equal(sum.rejected, 1);
    int *lines = calloc(ROWS, sizeof *lines);
    assert_int_equal(offline_lines(f, lines, ROWS), first_bad);
    for (int i = 0; i < first_bad; i++)
        assert_int_equal(lines[i], line_of(i));
    free(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_skip_mode_matches_file_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_mode_writes_rows_before, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
