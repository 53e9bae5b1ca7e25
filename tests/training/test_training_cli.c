/*
 * test_training_cli.c - `larder training-set`, `larder export` and
 * `larder materialize` as a user runs them: help, usage errors (exit 2),
 * failures with a one-line reason (exit 1), and results that match the
 * library's (the reference checks are in test_training.c).
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
#include <jansson.h>

#include "larder/value.h"
#include "support/testutil.h"
#include "training/pit_fixture.h"

static json_t *json_out(const lr_test_proc *p)
{
    json_error_t je;
    json_t *j = json_loads(p->out, 0, &je);
    if (j == NULL)
        fail_msg("not JSON (%s): %s / %s", je.text, p->out, p->err);
    return j;
}

static void test_cli(void **state)
{
    (void)state;
    pit_fx fx;
    lr_test_proc p;
    pit_fx_create(&fx, 3, 300);
    char *ent = lr_test_path(fx.dir, "e.csv");
    char *out = lr_test_path(fx.dir, "t.csv");
    char *pq = lr_test_path(fx.dir, "t.parquet");
    char *lat = lr_test_path(fx.dir, "latest.parquet");
    char csv[4096];
    size_t len = (size_t)snprintf(csv, sizeof csv, "who,when\n");
    for (int i = 0; i < 40; i++) {
        char ts[LR_TIME_STR_MAX];
        lr_time_format_iso8601(fx.times[(size_t)i % fx.n_times] + 1, ts);
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%d,%s\n", i % 33, ts);
    }
    assert_int_equal(lr_test_write_file(ent, csv, len), 0);

    /* Help and usage errors. */
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--help", NULL), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "--entity-id"));
    lr_test_proc_free(&p);
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--entities", ent, NULL), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "needs --entities"));
    lr_test_proc_free(&p);
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--entities", ent, "--entity-id",
                                    "who", "--timestamp", "when", "--features", "clicks",
                                    "--max-age", "soon", "--out", out, NULL),
                     0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "--max-age"));
    lr_test_proc_free(&p);
    /* A failure: one line, exit 1, no output file. */
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--entities", ent, "--entity-id",
                                    "who", "--timestamp", "when", "--features", "clicks:n,nope",
                                    "--out", out, NULL),
                     0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "no feature 'nope'"));
    assert_int_equal(lr_test_count_lines(p.err), 1);
    lr_test_proc_free(&p);

    /* CSV output with two groups, a projection and a max age. */
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--entities", ent, "--entity-id",
                                    "who", "--timestamp", "when", "--features", "clicks:x,n",
                                    "--features", "orders", "--max-age", "30m", "--out", out,
                                    "--json", NULL),
                     0);
    assert_int_equal(p.status, 0);
    json_t *j = json_out(&p);
    assert_int_equal(json_integer_value(json_object_get(j, "entity_rows")), 40);
    assert_true(json_integer_value(json_object_get(j, "matches")) > 0);
    json_decref(j);
    lr_test_proc_free(&p);
    char *argv[] = {"/bin/cat", out, NULL};
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    assert_int_equal(strncmp(p.out, "who,when,clicks__x,n,et,orders__x,amount\n", 41), 0);
    assert_int_equal(lr_test_count_lines(p.out), 41);
    lr_test_proc_free(&p);

    /* Parquet output, time travel, one thread, a small budget. */
    char asof[32];
    snprintf(asof, sizeof asof, "%.6f", (double)fx.g[0].rows[fx.g[0].n / 2].wt / 1e6);
    assert_int_equal(lr_test_larder(&p, fx.dir, "training-set", "--entities", ent, "--entity-id",
                                    "who", "--timestamp", "when", "--features", "clicks",
                                    "--as-of", asof, "--threads", "1", "--memory", "4M", "--out",
                                    pq, "--quiet", NULL),
                     0);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.err_len, 0);
    lr_test_proc_free(&p);
    pit_table t;
    pit_read_parquet(pq, &t);
    assert_int_equal(t.n_rows, 40);
    assert_int_equal(t.n_cols, 7);
    pit_table_free(&t);

    /* Export. */
    assert_int_equal(lr_test_larder(&p, fx.dir, "export", "orders", "--out", lat, NULL), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "--latest"));
    lr_test_proc_free(&p);
    assert_int_equal(lr_test_larder(&p, fx.dir, "export", "orders", "--latest", "--out", lat,
                                    "--json", NULL),
                     0);
    assert_int_equal(p.status, 0);
    j = json_out(&p);
    json_int_t rows = json_integer_value(json_object_get(j, "rows"));
    assert_true(rows > 0 && rows <= 30);
    json_decref(j);
    lr_test_proc_free(&p);
    pit_read_parquet(lat, &t);
    assert_int_equal((json_int_t)t.n_rows, rows);
    assert_string_equal(t.names[0], "oid");
    pit_table_free(&t);
    assert_int_equal(lr_test_larder(&p, fx.dir, "export", "nosuch", "--latest", "--out", lat, NULL),
                     0);
    assert_int_equal(p.status, 1);
    lr_test_proc_free(&p);

    /* Materialize: orders has no online store; clicks does. */
    assert_int_equal(lr_test_larder(&p, fx.dir, "materialize", "orders", NULL), 0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "no online store"));
    lr_test_proc_free(&p);
    assert_int_equal(lr_test_larder(&p, fx.dir, "materialize", "clicks", "--json", NULL), 0);
    assert_int_equal(p.status, 0);
    j = json_out(&p);
    json_int_t ids = json_integer_value(json_object_get(j, "ids"));
    assert_true(ids > 0);
    assert_int_equal(json_integer_value(json_object_get(j, "failed")), 0);
    json_decref(j);
    lr_test_proc_free(&p);
    /* An event-time window: fewer identifiers have rows in the first hour. */
    char end[LR_TIME_STR_MAX];
    lr_time_format_iso8601(PIT_BASE_US + PIT_HOUR_US, end);
    assert_int_equal(lr_test_larder(&p, fx.dir, "materialize", "clicks", "--end", end, "--json",
                                    NULL),
                     0);
    assert_int_equal(p.status, 0);
    j = json_out(&p);
    assert_true(json_integer_value(json_object_get(j, "ids")) < ids);
    json_decref(j);
    lr_test_proc_free(&p);

    free(ent);
    free(out);
    free(pq);
    free(lat);
    pit_fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
