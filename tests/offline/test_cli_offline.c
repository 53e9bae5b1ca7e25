/*
 * test_cli_offline.c - the offline store's CLI commands against the real
 * binary: `larder offline` (CSV, NDJSON, ranges, --resolved, --columns),
 * `larder partitions`, `larder repair` and `larder ddl`, plus their usage
 * errors. Rows are written through the library into the same data
 * directory the commands read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/catalog.h"
#include "larder/log.h"
#include "larder/offline.h"
#include "support/testutil.h"

static const char FG_JSON[] =
    "{\"FeatureGroupName\":\"trips\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"city\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"km\",\"FeatureType\":\"Fractional\"}],"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

typedef struct fx {
    char *dir;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lr_test_proc p;
    f->dir = lr_test_tmpdir("larder-cli-off");
    char *def = lr_test_path(f->dir, "def.json");
    lr_test_write_file(def, FG_JSON, strlen(FG_JSON));
    lr_test_larder(&p, f->dir, "fg", "create", "--file", def, NULL);
    free(def);
    if (p.status != 0) {
        fprintf(stderr, "fg create: %s\n", p.err);
        lr_test_proc_free(&p);
        return -1;
    }
    lr_test_proc_free(&p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void put(lr_offline *s, const lr_fg_def *def, const char *id, const char *ts,
                const char *city, int64_t api)
{
    lr_feature_value v[4];
    lr_record rec;
    lr_error err;
    memset(v, 0, sizeof v);
    v[0].feature = 0;
    v[0].value = (lr_str){id, strlen(id)};
    v[1].feature = 1;
    v[1].value = (lr_str){ts, strlen(ts)};
    v[2].feature = 2;
    v[2].value = (lr_str){city, strlen(city)};
    v[3].feature = 3;
    v[3].value = (lr_str){"12.5", 4};
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = 4;
    if (lr_record_validate(def, &rec, &err) != LR_OK ||
        lr_offline_put(s, def, &rec, api, &err) != LR_OK)
        fail_msg("put: %s", err.msg);
}

/* Writes the test rows: ids 1..3 over two hours, id 2 twice and deleted later. */
static void write_rows(fx *f)
{
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_offline *s = NULL;
    lr_error err;
    lr_log_set_level(LR_LOG_ERROR);
    assert_int_equal(lr_catalog_open(f->dir, NULL, &cat, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(cat, "trips", &def, &err), LR_OK);
    assert_int_equal(lr_offline_open(f->dir, NULL, NULL, &s, &err), LR_OK);
    put(s, def, "1", "1704067200", "Lyon", 10);             /* 2024-01-01T00:00:00Z */
    put(s, def, "2", "1704067260.5", "Paris, \"FR\"", 11);   /* 00:01:00.5 */
    put(s, def, "2", "1704067260.5", "Nice", 12);            /* same time, later call */
    put(s, def, "3", "1704070800", "Lille", 13);             /* 01:00:00 */
    assert_int_equal(lr_offline_delete(s, def, "2", 1, "1704070900", 10, 14, &err), LR_OK);
    assert_int_equal(lr_offline_flush(s, &err), LR_OK);
    lr_offline_close(s);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
}

static void test_offline_command(void **state)
{
    fx *f = *state;
    lr_test_proc p;
    write_rows(f);

    lr_test_larder(&p, f->dir, "offline", "trips", NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(lr_test_count_lines(p.out), 6);
    assert_non_null(strstr(p.out, "id,ts,city,km,write_time,api_invocation_time,is_deleted\n"));
    assert_non_null(strstr(p.out, "1,1704067200,Lyon,12.5,"));
    assert_non_null(strstr(p.out, "2,1704067260.5,\"Paris, \"\"FR\"\"\",12.5,"));
    assert_non_null(strstr(p.out, ",1970-01-01T00:00:00.000011Z,false\n"));
    assert_non_null(strstr(p.out, "2,1704070900,,,"));
    assert_non_null(strstr(p.out, ",true\n"));
    lr_test_proc_free(&p);

    /* Range: the first hour only. */
    lr_test_larder(&p, f->dir, "offline", "trips", "--start", "2024-01-01T00:00:00Z", "--end",
                   "2024-01-01T01:00:00Z", "--format", "ndjson", NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(lr_test_count_lines(p.out), 3);
    assert_non_null(strstr(p.out, "{\"id\":1,\"ts\":1704067200,\"city\":\"Lyon\",\"km\":12.5,"
                                  "\"write_time\":\""));
    assert_non_null(strstr(p.out, "\"city\":\"Paris, \\\"FR\\\"\""));
    assert_non_null(strstr(p.out, "\"api_invocation_time\":\"1970-01-01T00:00:00.000012Z\","
                                  "\"is_deleted\":false}"));
    lr_test_proc_free(&p);

    /* Resolved: id 2 is deleted at 01:01:40, hiding its 00:01 row. */
    lr_test_larder(&p, f->dir, "offline", "trips", "--resolved", "--columns", "id,city", NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id,city\n1,Lyon\n3,Lille\n");
    lr_test_proc_free(&p);
    /* As of 01:00, id 2 shows its latest version. */
    lr_test_larder(&p, f->dir, "offline", "trips", "--resolved", "--columns", "id,city", "--end",
                   "2024-01-01T01:00:00Z", NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id,city\n1,Lyon\n2,Nice\n");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->dir, "offline", "trips", "--limit", "2", "--columns", "id", NULL);
    assert_string_equal(p.out, "id\n1\n2\n");
    lr_test_proc_free(&p);

    /* Usage errors and failures. */
    lr_test_larder(&p, f->dir, "offline", "trips", "--format", "xml", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "trips", "--start", "yesterday", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "trips", "--columns", "nope", NULL);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "no column 'nope'"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "nosuch", NULL);
    assert_int_equal(p.status, 1);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "--help", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "Usage: larder"));
    lr_test_proc_free(&p);
}

static void test_partitions_repair_ddl(void **state)
{
    fx *f = *state;
    lr_test_proc p;
    write_rows(f);

    lr_test_larder(&p, f->dir, "partitions", "trips", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "year=2024/month=01/day=01/hour=00"));
    assert_non_null(strstr(p.out, "year=2024/month=01/day=01/hour=01"));
    assert_non_null(strstr(p.out, "2 partition(s), 2 file(s), 5 row(s)"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "partitions", "trips", "--json", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "{\"Partition\":\"year=2024/month=01/day=01/hour=00\","
                                  "\"Files\":1,\"Rows\":3,"));
    assert_non_null(strstr(p.out, "\"Files\":2,\"Rows\":5,"));
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->dir, "repair", "trips", "--dry-run", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "dry run: would register 0 file(s) in 0 new partition(s); 2 "
                                  "Parquet file(s) in storage, 2 already registered"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "repair", "trips", "--json", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "\"FilesInStorage\":2,\"FilesRegistered\":2"));
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->dir, "ddl", "trips", "--dialect", "hive", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "CREATE EXTERNAL TABLE IF NOT EXISTS `sagemaker_featurestore`."
                                  "`trips_"));
    assert_non_null(strstr(p.out, "`id` bigint,\n  `ts` double,\n  `city` string,"));
    assert_non_null(strstr(p.out, "ADD IF NOT EXISTS\n  PARTITION (`year` = '2024', `month` = "
                                  "'01', `day` = '01', `hour` = '00')"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "ddl", "trips", "--dialect", "duckdb", "--table", "t", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "CREATE OR REPLACE VIEW \"t\" AS"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "ddl", "trips", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "ddl", "trips", "--dialect", "oracle", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
}


static void test_put_delete_feed_offline(void **state)
{
    fx *f = *state;
    lr_test_proc p;

    /* The group has only an offline store: put and delete go there, flushed on exit. */
    lr_test_larder(&p, f->dir, "put", "trips", "id=7", "ts=1704067200", "city=Rome", "km=3",
                   NULL);
    if (p.status != 0)
        fail_msg("put: %s", p.err);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "trips", "--columns", "id,city,is_deleted", NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id,city,is_deleted\n7,Rome,false\n");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->dir, "delete", "trips", "7", "--event-time", "1704067300", NULL);
    if (p.status != 0)
        fail_msg("delete: %s", p.err);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "trips", "--columns", "id,ts,city,is_deleted", NULL);
    assert_string_equal(p.out, "id,ts,city,is_deleted\n7,1704067200,Rome,false\n"
                               "7,1704067300,,true\n");
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "offline", "trips", "--resolved", "--columns", "id", NULL);
    assert_string_equal(p.out, "id\n");
    lr_test_proc_free(&p);

    /* TargetStores naming a store the group lacks writes nothing. */
    lr_test_larder(&p, f->dir, "put", "trips", "id=8", "ts=1704067200", "--target-stores",
                   "online", NULL);
    assert_int_equal(p.status, 1);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->dir, "partitions", "trips", NULL);
    assert_non_null(strstr(p.out, "1 partition(s), 2 file(s), 2 row(s)"));
    lr_test_proc_free(&p);

    /* Every command removed its log once flushed. */
    char *wal = lr_test_path(f->dir, "wal");
    char *args[] = {"/bin/sh", "-c", NULL, NULL};
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", wal);
    args[2] = cmd;
    assert_int_equal(lr_test_run(args, NULL, &p), 0);
    assert_int_equal(atoi(p.out), 0);
    lr_test_proc_free(&p);
    free(wal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offline_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partitions_repair_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_delete_feed_offline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
