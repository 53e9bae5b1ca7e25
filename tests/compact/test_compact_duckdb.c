/*
 * test_compact_duckdb.c - DuckDB reads compaction's output (interop).
 *
 * Rows are written through the offline store (many small files over three
 * hours, with duplicates: the same record id and event time written again
 * with later api_invocation_times). DuckDB reads every Parquet file under
 * the group's folder, as a tool that reads the folders directly would
 * (tests/compact/interop/duck_compact.mjs), before and after compaction
 * with a grace period of zero:
 *   - after compaction, the same multiset of rows;
 *   - after compaction with --dedup, exactly the rows DuckDB itself keeps
 *     under the offline store's rule (a window over the rows before);
 *   - every file sorted by record id, event time, api_invocation_time;
 *   - every file near the target size (all within a factor of 1.6 above;
 *     all but the smallest of a partition at least half of it).
 * The same checks run on a compacted copy written by day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "compact_testlib.h"
#include "larder/log.h"
#include "support/testutil.h"

#define TARGET (96u << 10)

static json_t *duck(const char *mode, const char *root)
{
    char script[] = LR_TEST_SRCDIR "/tests/compact/interop/duck_compact.mjs";
    char *argv[] = {LR_NODE, script, (char *)mode, (char *)root, NULL};
    lr_test_proc p;
    json_error_t je;
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    if (p.status != 0)
        fail_msg("duckdb script failed (%d): %s", p.status, p.err);
    json_t *j = json_loads(p.out, 0, &je);
    if (j == NULL)
        fail_msg("bad JSON from DuckDB: %s", je.text);
    lr_test_proc_free(&p);
    return j;
}

static void assert_same_rows(json_t *a, json_t *b)
{
    json_t *ra = json_object_get(a, "rows"), *rb = json_object_get(b, "rows");
    if (json_array_size(ra) != json_array_size(rb))
        fail_msg("DuckDB read %zu rows before, %zu after", json_array_size(ra),
                 json_array_size(rb));
    for (size_t i = 0; i < json_array_size(ra); i++) {
        const char *x = json_string_value(json_array_get(ra, i));
        const char *y = json_string_value(json_array_get(rb, i));
        if (strcmp(x, y) != 0)
            fail_msg("row %zu differs:\n  %s\n  %s", i, x, y);
    }
}

static void assert_files(const char *root, size_t expect_rows)
{
    json_t *f = duck("files", root);
    json_t *files = json_object_get(f, "files");
    size_t rows = 0, small = 0;
    double lo = 1e18, hi = 0;
    assert_true(json_array_size(files) > 0);
    for (size_t i = 0; i < json_array_size(files); i++) {
        json_t *x = json_array_get(files, i);
        const char *path = json_string_value(json_object_get(x, "path"));
        double bytes = (double)json_integer_value(json_object_get(x, "bytes"));
        if (!json_is_true(json_object_get(x, "sorted")))
            fail_msg("%s is not sorted by id, event time, api_invocation_time", path);
        if (bytes > 1.6 * TARGET)
            fail_msg("%s is %.0f bytes for a target of %u", path, bytes, TARGET);
        if (bytes < 0.5 * TARGET)
            small++;
        lo = bytes < lo ? bytes : lo;
        hi = bytes > hi ? bytes : hi;
        rows += (size_t)json_integer_value(json_object_get(x, "rows"));
    }
    print_message("%zu files of %.0f to %.0f bytes (target %u)\n", json_array_size(files), lo, hi,
                  TARGET);
    /* At most one file under half the target per partition (three hours, or one day). */
    assert_true(small <= 3);
    assert_int_equal(rows, expect_rows);
    json_decref(f);
}

static void fill(ct_env *e)
{
    for (int h = 0; h < 3; h++)
        ct_fill(e, "household-", h, 12, 900, 500);
    /* Duplicates: ids 0..99 of hour 0 written again at the same event times, later. */
    for (int k = 0; k < 100; k++) {
        char id[32];
        snprintf(id, sizeof id, "household-%d", k);
        int64_t ev = CT_T0 + ((int64_t)k * 7919 % 3600) * 1000000 + (k % 900 % 3) * 1000;
        ct_put(e, id, ev, k, 2, 900000 + k);
    }
    ct_flush(e);
}

static void test_duckdb_reads_compacted(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_error err;
    const char *root;

    ct_setup(&e, "smart-meter-day");
    fill(&e);
    root = e.def->resolved_offline_uri;
    json_t *before = duck("rows", root);
    json_t *deduped = duck("dedup", root);
    size_t n_before = json_array_size(json_object_get(before, "rows"));
    size_t n_dedup = json_array_size(json_object_get(deduped, "rows"));
    assert_true(n_dedup < n_before);

    /* A compacted copy by day: the same rows, one sorted set of files per day. */
    ct_options(&o);
    o.copy = true;
    o.partition_mode = LR_COMPACT_BY_DAY;
    o.target_file_bytes = TARGET;
    if (lr_compact_run(e.dir, NULL, "smart-meter-day", &o, &r, &err) != LR_OK)
        fail_msg("copy: %s", err.msg);
    json_t *copy = duck("rows", r.target_root);
    json_t *cr = json_object_get(copy, "rows");
    assert_int_equal(json_array_size(cr), n_before);
    assert_files(r.target_root, n_before);
    lr_compact_result_free(&r);
    json_decref(copy);

    /* In place: the same multiset, sorted files near the target size. */
    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    o.target_file_bytes = TARGET;
    if (lr_compact_run(e.dir, NULL, "smart-meter-day", &o, &r, &err) != LR_OK)
        fail_msg("compaction: %s", err.msg);
    assert_true(r.files_out > 3);
    assert_true(r.files_out < r.files_in);
    lr_compact_result_free(&r);
    json_t *after = duck("rows", root);
    assert_same_rows(before, after);
    assert_files(root, n_before);
    json_decref(after);

    /* With --dedup: exactly what DuckDB keeps under the same rule. */
    o.dedup = true;
    if (lr_compact_run(e.dir, NULL, "smart-meter-day", &o, &r, &err) != LR_OK)
        fail_msg("dedup compaction: %s", err.msg);
    assert_int_equal(r.rows_dropped, n_before - n_dedup);
    lr_compact_result_free(&r);
    json_t *dd = duck("rows", root);
    assert_same_rows(deduped, dd);
    assert_files(root, n_dedup);
    json_decref(dd);

    json_decref(before);
    json_decref(deduped);
    ct_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duckdb_reads_compacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
