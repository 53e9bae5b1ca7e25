/*
 * test_cli_parquet.c - `larder parquet`: convert (CSV and NDJSON, inferred
 * and from a feature-group definition), cat (CSV and NDJSON, projection,
 * limit), schema and meta (text and JSON), and the exit statuses and
 * one-line messages of bad input and bad usage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/testutil.h"

typedef struct ctx {
    char *dir;
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    c->dir = lr_test_tmpdir("larder-cli-pq");
    *state = c;
    return c->dir ? 0 : -1;
}

static int teardown(void **state)
{
    ctx *c = *state;
    lr_test_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static char *put(ctx *c, const char *name, const char *text)
{
    char *p = lr_test_path(c->dir, name);
    assert_int_equal(lr_test_write_file(p, text, strlen(text)), 0);
    return p;
}

/* Runs `larder parquet ARGS...`; trailing NULLs end the arguments. */
#define run(p, c, ...)                                                                             \
    assert_int_equal(lr_test_larder(p, (c)->dir, "parquet", __VA_ARGS__, NULL), 0)

static void expect_fail(const lr_test_proc *p, int status, const char *needle)
{
    if (p->status != status)
        fail_msg("status %d (expected %d), stderr: %s", p->status, status, p->err);
    assert_int_equal(lr_test_count_lines(p->err), 1);
    assert_true(strncmp(p->err, "larder: ", 8) == 0);
    if (needle && strstr(p->err, needle) == NULL)
        fail_msg("stderr '%s' lacks '%s'", p->err, needle);
}

static void test_csv_roundtrip(void **state)
{
    ctx *c = *state;
    static const char csv[] = "id,name,score,active,ts,note\n"
                              "1,alice,1.5,true,2024-01-01T00:00:00Z,\"hello, world\"\n"
                              "2,bob,,false,2024-01-02T10:00:00.5Z,\"multi\nline\"\n"
                              "3,\"carol \"\"c\"\"\",-0,TRUE,2024-01-03T00:00:00Z,\n";
    char *in = put(c, "a.csv", csv), *out = lr_test_path(c->dir, "a.parquet");
    lr_test_proc p;

    run(&p, c, "convert", in, out, "--codec", "zstd", NULL, NULL);
    if (p.status != 0)
        fail_msg("convert: %s", p.err);
    lr_test_proc_free(&p);

    run(&p, c, "schema", out, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id INT64 required\n"
                               "name BYTE_ARRAY STRING required\n"
                               "score DOUBLE optional\n"
                               "active BOOLEAN required\n"
                               "ts INT64 TIMESTAMP(MICROS, UTC) required\n"
                               "note BYTE_ARRAY STRING optional\n");
    lr_test_proc_free(&p);

    run(&p, c, "cat", out, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id,name,score,active,ts,note\n"
                               "1,alice,1.5,true,2024-01-01T00:00:00Z,\"hello, world\"\n"
                               "2,bob,,false,2024-01-02T10:00:00.500Z,\"multi\nline\"\n"
                               "3,\"carol \"\"c\"\"\",-0,true,2024-01-03T00:00:00Z,\n");
    lr_test_proc_free(&p);

    run(&p, c, "cat", out, "--format", "ndjson", "--columns", "note,id", "--limit", "2");
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "{\"note\":\"hello, world\",\"id\":1}\n"
                               "{\"note\":\"multi\\nline\",\"id\":2}\n");
    lr_test_proc_free(&p);

    run(&p, c, "cat", out, "--limit", "0", NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "id,name,score,active,ts,note\n");
    lr_test_proc_free(&p);
    free(in);
    free(out);
}

static void test_ndjson_inferred(void **state)
{
    ctx *c = *state;
    static const char nd[] =
        "{\"id\": 1, \"tags\": [\"a\", \"b\"], \"x\": 1.5, \"obj\": {\"k\": 1}}\n"
        "\n"
        "{\"id\": 2, \"tags\": [], \"x\": 2, \"extra\": true}\n"
        "{\"id\": 9007199254740993, \"tags\": null, \"x\": \"NaN\"}\n";
    char *in = put(c, "b.ndjson", nd), *out = lr_test_path(c->dir, "b.parquet");
    lr_test_proc p;
    json_t *root;
    json_error_t jerr;

    run(&p, c, "convert", in, out, NULL, NULL, NULL, NULL, NULL);
    if (p.status != 0)
        fail_msg("convert: %s", p.err);
    lr_test_proc_free(&p);
    run(&p, c, "cat", out, "--format", "ndjson", NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(
        p.out,
        "{\"id\":1,\"tags\":[\"a\",\"b\"],\"x\":1.5,\"obj\":\"{\\\"k\\\":1}\",\"extra\":null}\n"
        "{\"id\":2,\"tags\":[],\"x\":2,\"obj\":null,\"extra\":true}\n"
        "{\"id\":9007199254740993,\"tags\":null,\"x\":\"NaN\",\"obj\":null,\"extra\":null}\n");
    lr_test_proc_free(&p);

    run(&p, c, "schema", out, "--json", NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    root = json_loads(p.out, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_array_size(root), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(root, 1), "name")),
                        "tags");
    assert_true(json_is_true(json_object_get(json_array_get(root, 1), "list")));
    assert_true(json_is_false(json_object_get(json_array_get(root, 0), "optional")));
    json_decref(root);
    lr_test_proc_free(&p);

    run(&p, c, "meta", out, "--json", NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    root = json_loads(p.out, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "num_rows")), 3);
    {
        json_t *rg = json_array_get(json_object_get(root, "row_groups"), 0);
        json_t *col = json_array_get(json_object_get(rg, "columns"), 0);
        json_t *st = json_object_get(col, "statistics");
        assert_string_equal(json_string_value(json_object_get(col, "codec")), "SNAPPY");
        assert_int_equal(json_integer_value(json_object_get(st, "min")), 1);
        assert_int_equal(json_integer_value(json_object_get(st, "null_count")), 0);
    }
    assert_non_null(
        strstr(json_string_value(json_object_get(root, "created_by")), "larder version"));
    json_decref(root);
    lr_test_proc_free(&p);

    run(&p, c, "meta", out, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "row group 0: 3 rows"));
    assert_non_null(strstr(p.out, "stats: nulls=0 min=1 max=9007199254740993"));
    lr_test_proc_free(&p);
    free(in);
    free(out);
}

static void test_convert_with_definition(void **state)
{
    ctx *c = *state;
    static const char def[] =
        "{\"FeatureGroupName\": \"orders\", \"RecordIdentifierFeatureName\": \"order_id\","
        " \"EventTimeFeatureName\": \"event_time\", \"FeatureDefinitions\": ["
        " {\"FeatureName\": \"order_id\", \"FeatureType\": \"String\"},"
        " {\"FeatureName\": \"event_time\", \"FeatureType\": \"String\"},"
        " {\"FeatureName\": \"amount\", \"FeatureType\": \"Fractional\"},"
        " {\"FeatureName\": \"qty\", \"FeatureType\": \"Integral\"},"
        " {\"FeatureName\": \"emb\", \"FeatureType\": \"Fractional\", \"CollectionType\": "
        "\"Vector\", \"CollectionConfig\": {\"VectorConfig\": {\"Dimension\": 2}}}],"
        " \"OnlineStoreConfig\": {\"EnableOnlineStore\": true, \"StorageType\": \"InMemory\"}}";
    char *defp = put(c, "fg.json", def);
    char *in = put(c, "o.csv",
                   "order_id,event_time,amount,qty,emb\n"
                   "o1,2024-01-01T00:00:00Z,9.5,3,\"[1.0, 2.5]\"\n"
                   "o2,2024-01-01T00:00:01Z,,,\n");
    char *out = lr_test_path(c->dir, "o.parquet");
    char *bad1 = put(c, "bad1.csv", "order_id,event_time,amount\no3,notatime,1\n");
    char *bad2 = put(c, "bad2.csv", "order_id,event_time,zzz\n");
    char *bad3 = put(c, "bad3.ndjson",
                     "{\"order_id\":\"o1\",\"event_time\":\"2024-01-01T00:00:00Z\",\"emb\":[1,2]}\n"
                     "{\"order_id\":\"o1\",\"event_time\":\"2024-01-01T00:00:00Z\",\"qty\":1.5}\n");
    char *bad4 = put(c, "bad4.csv", "a,b\n1,2\n3\n");
    char *badout = lr_test_path(c->dir, "bad.parquet");
    lr_test_proc p;
    struct stat sb;

    run(&p, c, "convert", in, out, "--schema", defp, NULL, NULL, NULL);
    if (p.status != 0)
        fail_msg("convert: %s", p.err);
    lr_test_proc_free(&p);
    run(&p, c, "cat", out, "--format", "ndjson", NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out, "{\"order_id\":\"o1\",\"event_time\":\"2024-01-01T00:00:00Z\","
                               "\"amount\":9.5,\"qty\":3,\"emb\":[1,2.5]}\n"
                               "{\"order_id\":\"o2\",\"event_time\":\"2024-01-01T00:00:01Z\","
                               "\"amount\":null,\"qty\":null,\"emb\":null}\n");
    lr_test_proc_free(&p);

    run(&p, c, "convert", bad1, badout, "--schema", defp, NULL, NULL, NULL);
    expect_fail(&p, 1, "line 2: column 'event_time'");
    lr_test_proc_free(&p);
    run(&p, c, "convert", bad2, badout, "--schema", defp, NULL, NULL, NULL);
    expect_fail(&p, 1, "line 1: column 'zzz' is not a feature of orders");
    lr_test_proc_free(&p);
    run(&p, c, "convert", bad3, badout, "--schema", defp, NULL, NULL, NULL);
    expect_fail(&p, 1, "line 2: column 'qty'");
    lr_test_proc_free(&p);
    run(&p, c, "convert", bad4, badout, NULL, NULL, NULL, NULL, NULL);
    expect_fail(&p, 1, "line 3: 1 fields where the header has 2");
    lr_test_proc_free(&p);
    /* A failed conversion leaves no output behind. */
    assert_int_not_equal(stat(badout, &sb), 0);
    free(defp);
    free(in);
    free(out);
    free(bad1);
    free(bad2);
    free(bad3);
    free(bad4);
    free(badout);
}

static void test_usage_and_errors(void **state)
{
    ctx *c = *state;
    char *notpq = put(c, "x.txt", "hello, this is not parquet");
    char *missing = lr_test_path(c->dir, "missing.parquet");
    lr_test_proc p;

    run(&p, c, "cat", notpq, NULL, NULL, NULL, NULL, NULL);
    expect_fail(&p, 1, "not a Parquet file");
    lr_test_proc_free(&p);
    run(&p, c, "meta", missing, NULL, NULL, NULL, NULL, NULL);
    expect_fail(&p, 1, "cannot open");
    lr_test_proc_free(&p);
    run(&p, c, "cat", notpq, "--format", "xml", NULL, NULL, NULL, NULL);
    expect_fail(&p, 2, "--format");
    lr_test_proc_free(&p);
    run(&p, c, "frobnicate", NULL, NULL, NULL, NULL, NULL, NULL);
    expect_fail(&p, 2, "unknown subcommand");
    lr_test_proc_free(&p);
    run(&p, c, "convert", notpq, NULL, NULL, NULL, NULL, NULL);
    expect_fail(&p, 2, NULL);
    lr_test_proc_free(&p);
    {
        static const char *subs[] = {"schema", "meta", "cat", "convert"};
        for (int i = 0; i < 4; i++) {
            run(&p, c, subs[i], "--help", NULL, NULL, NULL, NULL, NULL);
            assert_int_equal(p.status, 0);
            assert_non_null(strstr(p.out, "Usage: larder parquet"));
            lr_test_proc_free(&p);
        }
    }
    run(&p, c, "--help", NULL, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);
    free(notpq);
    free(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_roundtrip),
        cmocka_unit_test(test_ndjson_inferred),
        cmocka_unit_test(test_convert_with_definition),
        cmocka_unit_test(test_usage_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
