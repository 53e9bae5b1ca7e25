/*
 * test_training_duckdb.c - training sets agree with DuckDB's ASOF JOIN
 * (interop). Random histories (pit_fixture.h) and a Parquet entity file;
 * Larder builds the training set; DuckDB computes each group's part from
 * the same offline files with the same deduplication (QUALIFY row_number()
 * over identifier and event time, latest api_invocation_time then
 * write_time), ASOF LEFT JOIN, nulls for delete markers and rows past the
 * max age (tests/training/interop/duck_pit_check.mjs); the two must hold
 * exactly the same rows. With and without time travel.
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

#include "larder/parquet.h"
#include "larder/training.h"
#include "larder/value.h"
#include "support/testutil.h"
#include "training/pit_fixture.h"

static void duck_check(const pit_fx *fx, int which, const char *entities, const char *larder,
                       int64_t max_age, int64_t as_of)
{
    const lr_fg_def *def = fx->g[which].def;
    json_t *spec = json_object();
    json_t *feats = json_array();
    json_object_set_new(spec, "root", json_string(def->resolved_offline_uri));
    json_object_set_new(spec, "entities", json_string(entities));
    json_object_set_new(spec, "larder", json_string(larder));
    json_object_set_new(spec, "id", json_string(def->record_id_name));
    json_object_set_new(spec, "id_integral",
                        json_boolean(def->features[def->record_id_index].type == LR_FT_INTEGRAL));
    json_object_set_new(spec, "et", json_string(def->event_time_name));
    json_object_set_new(spec, "et_iso",
                        json_boolean(def->features[def->event_time_index].type == LR_FT_STRING));
    if (which == 0) {
        static const char *const m[][2] = {{"ts", "ts"}, {"n", "n"}, {"clicks__x", "x"},
                                           {"s", "s"}, {"tags", "tags"}};
        for (size_t i = 0; i < 5; i++)
            json_array_append_new(feats, json_pack("[ss]", m[i][0], m[i][1]));
    } else {
        static const char *const m[][2] = {{"et", "et"}, {"orders__x", "x"}, {"amount", "amount"}};
        for (size_t i = 0; i < 3; i++)
            json_array_append_new(feats, json_pack("[ss]", m[i][0], m[i][1]));
    }
    json_object_set_new(spec, "features", feats);
    json_object_set_new(spec, "entity_id", json_string("user"));
    json_object_set_new(spec, "entity_ts", json_string("at"));
    json_object_set_new(spec, "row", json_string("row"));
    json_object_set_new(spec, "max_age_us", json_integer(max_age));
    json_object_set_new(spec, "as_of_us", as_of == INT64_MAX ? json_null() : json_integer(as_of));
    char *path = lr_test_path(fx->dir, "spec.json");
    assert_int_equal(json_dump_file(spec, path, 0), 0);
    json_decref(spec);

    char *argv[] = {LR_NODE, LR_TEST_SRCDIR "/tests/training/interop/duck_pit_check.mjs", path,
                    NULL};
    lr_test_proc p;
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    if (p.status != 0)
        fail_msg("duckdb script failed (%d): %s", p.status, p.err);
    json_error_t je;
    json_t *r = json_loads(p.out, 0, &je);
    if (r == NULL)
        fail_msg("bad JSON from DuckDB: %s (%s)", je.text, p.out);
    json_int_t rows = json_integer_value(json_object_get(r, "rows"));
    json_int_t duck_rows = json_integer_value(json_object_get(r, "duck_rows"));
    json_int_t matched = json_integer_value(json_object_get(r, "matched"));
    json_int_t lo = json_integer_value(json_object_get(r, "larder_only"));
    json_int_t dono = json_integer_value(json_object_get(r, "duck_only"));
    if (lo != 0 || dono != 0 || rows != duck_rows)
        fail_msg("%s: Larder and DuckDB differ: %s", def->name, p.out);
    assert_true(matched > 0 && matched < rows);
    json_decref(r);
    lr_test_proc_free(&p);
    free(path);
}

static void test_asof_join_agrees(void **state)
{
    (void)state;
    pit_fx fx;
    lr_error err;
    pit_fx_create(&fx, 21, 3000);

    /* Entities: row number, user (some unknown, some "007"), time (TIMESTAMP micros, UTC). */
    lr_pq_column_def ec[3];
    memset(ec, 0, sizeof ec);
    ec[0].name = "row";
    ec[0].type = LR_PQ_INT64;
    ec[1].name = "user";
    ec[1].type = LR_PQ_BYTE_ARRAY;
    ec[1].logical = LR_PQ_LOGICAL_STRING;
    ec[2].name = "at";
    ec[2].type = LR_PQ_INT64;
    ec[2].logical = LR_PQ_LOGICAL_TIMESTAMP;
    ec[2].unit = LR_PQ_MICROS;
    ec[2].utc = true;
    char *entities = lr_test_path(fx.dir, "entities.parquet");
    FILE *fp = fopen(entities, "wb");
    lr_pq_writer *w;
    assert_int_equal(lr_pq_writer_open(ec, 3, NULL, lr_pq_sink_fd(fileno(fp)), &w, &err), LR_OK);
    for (int64_t i = 0; i < 1500; i++) {
        char u[16];
        uint64_t k = pit_rand() % 40;
        if (k == 35)
            snprintf(u, sizeof u, "007");
        else if (k == 36)
            snprintf(u, sizeof u, "abc");
        else
            snprintf(u, sizeof u, "%" PRIu64, k);
        static const int64_t d[] = {0, 1, -1, 299999999, 7200000000LL, 7199999999LL};
        int64_t t = fx.times[pit_rand() % fx.n_times] + d[pit_rand() % 6];
        assert_int_equal(lr_pq_writer_set_i64(w, 0, i, &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_bytes(w, 1, u, strlen(u), &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_i64(w, 2, t, &err), LR_OK);
        assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    }
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    fclose(fp);

    char *out = lr_test_path(fx.dir, "training.parquet");
    lr_training_features g[2] = {{"clicks", NULL, 0, LR_TRAINING_MAX_AGE_TTL},
                                 {"orders", NULL, 0, LR_TRAINING_MAX_AGE_NONE}};
    lr_training_set_options o;
    lr_training_set_options_init(&o);
    o.entities = entities;
    o.entity_id = "user";
    o.timestamp = "at";
    o.groups = g;
    o.n_groups = 2;
    o.out = out;
    o.res.threads = 2;
    if (lr_training_set_build(fx.cat, &o, NULL, &err) != LR_OK)
        fail_msg("build: %s", err.msg);
    duck_check(&fx, 0, entities, out, 2 * PIT_HOUR_US, INT64_MAX);
    duck_check(&fx, 1, entities, out, 0, INT64_MAX);

    /* Time travel: the rows written by the middle of the history. */
    int64_t as_of = fx.g[1].rows[fx.g[1].n / 2].wt;
    o.as_of_us = as_of;
    g[1].max_age_us = 30 * 60000000LL;
    assert_int_equal(lr_training_set_build(fx.cat, &o, NULL, &err), LR_OK);
    duck_check(&fx, 0, entities, out, 2 * PIT_HOUR_US, as_of);
    duck_check(&fx, 1, entities, out, 30 * 60000000LL, as_of);

    free(out);
    free(entities);
    pit_fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asof_join_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
