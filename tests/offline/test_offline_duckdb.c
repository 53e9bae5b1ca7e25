/*
 * test_offline_duckdb.c - DuckDB reads the offline store (interop).
 *
 * Rows are written through the library (puts, a delete, several hours),
 * flushed, and read back by DuckDB with read_parquet over every .parquet file
 * below the root (a ** glob),
 * with hive_partitioning = true (tests/offline/interop/duck_offline.mjs):
 * exactly the rows written, with SageMaker's column types and the partition
 * values of the folders. Then DuckDB writes a partition with the group's
 * schema and one with a different schema: repair adopts the first (and
 * Larder's scan reads it) and refuses the second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "larder/catalog.h"
#include "larder/log.h"
#include "larder/objstore.h"
#include "larder/offline.h"
#include "support/testutil.h"

static const char FG_JSON[] =
    "{\"FeatureGroupName\":\"rides\",\"RecordIdentifierFeatureName\":\"id\","
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

static const char *script(void)
{
    return LR_TEST_SRCDIR "/tests/offline/interop/duck_offline.mjs";
}

/* Runs the DuckDB script; returns its stdout parsed as JSON (read) or NULL. */
static json_t *duck(const char *mode, const char *path, const char *kind)
{
    char *argv[] = {LR_NODE, (char *)script(), (char *)mode, (char *)path, (char *)kind, NULL};
    lr_test_proc p;
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    if (p.status != 0)
        fail_msg("duckdb script failed (%d): %s", p.status, p.err);
    json_t *j = NULL;
    if (strcmp(mode, "read") == 0) {
        json_error_t je;
        j = json_loads(p.out, 0, &je);
        if (j == NULL)
            fail_msg("bad JSON from DuckDB: %s", je.text);
    }
    lr_test_proc_free(&p);
    return j;
}

static void put(lr_offline *s, const lr_fg_def *def, const char *id, const char *ts,
                const char *amount, const char *price, int ntags, int64_t api_us)
{
    lr_feature_value v[6];
    lr_str tags[3] = {{"a", 1}, {"b'q", 3}, {"", 0}};
    lr_str emb[2] = {{"1.5", 3}, {"-0.125", 6}};
    lr_record rec;
    lr_error err;
    uint32_t n = 0;

    memset(v, 0, sizeof v);
    v[n].feature = 0;
    v[n++].value = (lr_str){id, strlen(id)};
    v[n].feature = 1;
    v[n++].value = (lr_str){ts, strlen(ts)};
    if (amount) {
        v[n].feature = 2;
        v[n++].value = (lr_str){amount, strlen(amount)};
    }
    if (price) {
        v[n].feature = 3;
        v[n++].value = (lr_str){price, strlen(price)};
    }
    if (ntags >= 0) {
        v[n].feature = 4;
        v[n].is_list = true;
        v[n].items = tags;
        v[n++].n_items = (uint32_t)ntags;
    }
    v[n].feature = 5;
    v[n].is_list = true;
    v[n].items = emb;
    v[n++].n_items = 2;
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = n;
    if (lr_record_validate(def, &rec, &err) != LR_OK || lr_offline_put(s, def, &rec, api_us, &err))
        fail_msg("put: %s", err.msg);
}

static const char *str(json_t *row, const char *k)
{
    json_t *v = json_object_get(row, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_duckdb_reads_and_repair(void **state)
{
    (void)state;
    char *dir = lr_test_tmpdir("larder-duck");
    lr_catalog *cat = NULL;
    lr_fg_def *req = NULL, *def = NULL;
    lr_offline *s = NULL;
    lr_error err;

    lr_log_set_level(LR_LOG_ERROR);
    assert_int_equal(lr_catalog_open(dir, NULL, &cat, &err), LR_OK);
    assert_int_equal(lr_fg_def_parse(FG_JSON, strlen(FG_JSON), &req, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(cat, req, &def, &err), LR_OK);
    assert_int_equal(lr_offline_open(dir, NULL, NULL, &s, &err), LR_OK);
    put(s, def, "r1", "2024-04-30T23:59:59.999Z", "-9223372036854775808", "0.1", 3, 1714521599000123);
    put(s, def, "r2", "2024-05-01T00:00:00Z", "42", NULL, 0, 1714521600000000);
    put(s, def, "r3", "2024-05-01T07:45:12.25Z", NULL, "-1e300", -1, 1714549512000000);
    assert_int_equal(lr_offline_delete(s, def, "r2", 2, "2024-05-01T00:30:00Z", 20,
                                       1714523400000000, &err),
                     LR_OK);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);

    const char *root = def->resolved_offline_uri;
    json_t *j = duck("read", root, NULL);
    json_t *types = json_object_get(j, "types");
    /* SageMaker's columns and types, partition columns from the folders only. */
    assert_string_equal(json_string_value(json_object_get(types, "id")), "VARCHAR");
    assert_string_equal(json_string_value(json_object_get(types, "ts")), "VARCHAR");
    assert_string_equal(json_string_value(json_object_get(types, "amount")), "BIGINT");
    assert_string_equal(json_string_value(json_object_get(types, "price")), "DOUBLE");
    assert_string_equal(json_string_value(json_object_get(types, "tags")), "VARCHAR[]");
    assert_string_equal(json_string_value(json_object_get(types, "emb")), "DOUBLE[]");
    assert_string_equal(json_string_value(json_object_get(types, "write_time")),
                        "TIMESTAMP WITH TIME ZONE");
    assert_string_equal(json_string_value(json_object_get(types, "api_invocation_time")),
                        "TIMESTAMP WITH TIME ZONE");
    assert_string_equal(json_string_value(json_object_get(types, "is_deleted")), "BOOLEAN");
    assert_int_equal(json_object_size(types), 13);

    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 4);
    json_t *r1 = json_array_get(rows, 0);
    assert_string_equal(str(r1, "id"), "r1");
    assert_string_equal(str(r1, "ts"), "2024-04-30T23:59:59.999Z");
    assert_string_equal(str(r1, "amount"), "-9223372036854775808");
    assert_true(json_real_value(json_object_get(r1, "price")) == 0.1);
    json_t *tags = json_object_get(r1, "tags");
    assert_int_equal(json_array_size(tags), 3);
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "b'q");
    assert_string_equal(json_string_value(json_array_get(tags, 2)), "");
    json_t *emb = json_object_get(r1, "emb");
    assert_true(json_number_value(json_array_get(emb, 1)) == -0.125);
    assert_string_equal(str(r1, "api_invocation_time"), "1714521599000123");
    assert_false(json_is_true(json_object_get(r1, "is_deleted")));
    assert_string_equal(str(r1, "year"), "2024");
    assert_string_equal(str(r1, "month"), "04");
    assert_string_equal(str(r1, "day"), "30");
    assert_string_equal(str(r1, "hour"), "23");

    json_t *r2 = json_array_get(rows, 1);
    assert_string_equal(str(r2, "id"), "r2");
    assert_true(json_is_null(json_object_get(r2, "price")));
    assert_int_equal(json_array_size(json_object_get(r2, "tags")), 0);
    json_t *d = json_array_get(rows, 2);
    assert_string_equal(str(d, "id"), "r2");
    assert_string_equal(str(d, "ts"), "2024-05-01T00:30:00Z");
    assert_true(json_is_true(json_object_get(d, "is_deleted")));
    assert_true(json_is_null(json_object_get(d, "amount")));
    assert_true(json_is_null(json_object_get(d, "emb")));
    json_t *r3 = json_array_get(rows, 3);
    assert_true(json_is_null(json_object_get(r3, "amount")));
    assert_true(json_is_null(json_object_get(r3, "tags")));
    assert_true(json_real_value(json_object_get(r3, "price")) == -1e300);
    assert_string_equal(str(r3, "hour"), "07");
    /* write_time: set by Larder at the append, in log order. */
    assert_true(strcmp(str(r1, "write_time"), "1714521600000000") > 0);
    json_decref(j);

    /* DuckDB writes two partitions; repair takes the one with the group's schema. */
    char path[4096], p2[4096];
    snprintf(path, sizeof path, "%s/year=2024/month=05/day=01/hour=10", root);
    snprintf(p2, sizeof p2, "%s/year=2024/month=05/day=01/hour=11", root);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s'", path, p2);
    assert_int_equal(system(cmd), 0);
    strcat(path, "/duck.parquet");
    strcat(p2, "/duck.parquet");
    duck("write", path, "same");
    duck("write", p2, "different");

    lr_offline_repair_report rep;
    assert_int_equal(lr_offline_repair(cat, "rides", false, &rep, &err), LR_OK);
    assert_int_equal(rep.n_added, 1);
    assert_non_null(strstr(rep.added[0].uri, "hour=10/duck.parquet"));
    assert_int_equal(rep.partitions_added, 1);
    assert_int_equal(rep.n_rejected, 1);
    assert_non_null(strstr(rep.rejected[0].uri, "hour=11/duck.parquet"));
    assert_non_null(strstr(rep.rejected[0].reason, "schema differs: column amount is INT32"));
    assert_int_equal(rep.n_missing, 0);
    lr_offline_repair_report_free(&rep);

    /* Larder's scan now reads DuckDB's row, with DuckDB's values. */
    lr_offline_scan_options o;
    lr_offline_scan_options_init(&o);
    assert_int_equal(lr_time_parse_iso8601("2024-05-01T10:00:00Z", 20, &o.start_us, &err), LR_OK);
    lr_offline_scan *sc = NULL;
    const lr_offline_batch *b;
    assert_int_equal(lr_offline_scan_open(cat, "rides", &o, &sc, &err), LR_OK);
    assert_int_equal(lr_offline_scan_next(sc, &b, &err), LR_OK);
    assert_non_null(b);
    assert_int_equal(b->n_rows, 1);
    assert_memory_equal(b->columns[0].bytes, "duck-1", 6);
    assert_int_equal(b->columns[2].i64[0], 5);
    assert_int_equal(b->columns[4].list_offsets[1], 2);
    assert_true(b->columns[5].f64[0] == 0.25);
    assert_int_equal(b->columns[6].i64[0], 1714559401000000LL);
    assert_int_equal(b->columns[7].i64[0], 1714559400500000LL);
    assert_int_equal(lr_offline_scan_next(sc, &b, &err), LR_OK);
    assert_null(b);
    lr_offline_scan_free(sc);
    lr_offline_group_stats gs;
    assert_int_equal(lr_offline_group_stats_get(cat, "rides", &gs, &err), LR_OK);
    assert_int_equal(gs.rows, 5);

    lr_offline_close(s);
    lr_fg_def_free(req);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    lr_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duckdb_reads_and_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
