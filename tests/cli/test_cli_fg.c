/*
 * test_cli_fg.c - `larder fg` end to end: runs the binary against a fresh
 * data directory and checks stdout, stderr and the exit status.
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

#include "support/testutil.h"

static const char full_def[] =
    "{\"FeatureGroupName\":\"customers-v1\","
    "\"RecordIdentifierFeatureName\":\"customer_id\","
    "\"EventTimeFeatureName\":\"event_time\","
    "\"FeatureDefinitions\":["
    "{\"FeatureName\":\"customer_id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"event_time\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"age\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"spend_30d\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"segments\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"embedding\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":4}}}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\","
    "\"TtlDuration\":{\"Unit\":\"Hours\",\"Value\":36}},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://my-bucket/features\"},"
    "\"DisableGlueTableCreation\":false,"
    "\"DataCatalogConfig\":{\"TableName\":\"customers\",\"Catalog\":\"AwsDataCatalog\","
    "\"Database\":\"sagemaker_featurestore\"},\"TableFormat\":\"Glue\"},"
    "\"ThroughputConfig\":{\"ThroughputMode\":\"OnDemand\"},"
    "\"RoleArn\":\"arn:aws:iam::123456789012:role/FeatureStoreRole\","
    "\"Description\":\"Customer features for churn models\","
    "\"Tags\":[{\"Key\":\"team\",\"Value\":\"growth\"}]}";

typedef struct fixture {
    char *dir;
    char *data;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = lr_test_tmpdir("larder-cli-fg");
    assert_non_null(f->dir);
    f->data = lr_test_path(f->dir, "data");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f);
    return 0;
}

static char *write_tmp(fixture *f, const char *name, const char *text)
{
    char *p = lr_test_path(f->dir, name);
    assert_int_equal(lr_test_write_file(p, text, strlen(text)), 0);
    return p;
}

/* A failure prints exactly one line "larder: ..." on stderr and nothing on stdout. */
static void assert_one_line_failure(const lr_test_proc *p, int status, const char *needle)
{
    if (p->status != status || strstr(p->err, needle) == NULL)
        fprintf(stderr, "status %d, stderr: %s\n", p->status, p->err);
    assert_int_equal(p->status, status);
    assert_int_equal(lr_test_count_lines(p->err), 1);
    assert_true(strncmp(p->err, "larder: ", 8) == 0);
    assert_non_null(strstr(p->err, needle));
    assert_int_equal(p->out_len, 0);
}

static json_t *parse_json(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (j == NULL)
        fprintf(stderr, "bad JSON (%s): %s\n", je.text, s);
    assert_non_null(j);
    return j;
}

static void create_full(fixture *f)
{
    lr_test_proc p;
    char *def = write_tmp(f, "def.json", full_def);
    lr_test_larder(&p, f->data, "fg", "create", "--file", def, NULL);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.out,
                        "arn:aws:sagemaker:us-east-1:000000000000:feature-group/customers-v1\n");
    assert_int_equal(p.err_len, 0);
    lr_test_proc_free(&p);
    free(def);
}

static void test_create_describe_round_trip(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    json_t *in, *out;

    create_full(f);
    lr_test_larder(&p, f->data, "fg", "describe", "customers-v1", "--json", NULL);
    assert_int_equal(p.status, 0);
    out = parse_json(p.out);
    in = parse_json(full_def);

    /* Every member of the request comes back with the same value. */
    const char *key;
    json_t *val;
    json_object_foreach(in, key, val)
    {
        json_t *got = json_object_get(out, key);
        if (strcmp(key, "OfflineStoreConfig") == 0) {
            /* Describe adds ResolvedOutputS3Uri inside S3StorageConfig. */
            json_t *s3 = json_object_get(got, "S3StorageConfig");
            assert_non_null(s3);
            assert_string_equal(json_string_value(json_object_get(s3, "S3Uri")),
                                "s3://my-bucket/features");
            const char *resolved =
                json_string_value(json_object_get(s3, "ResolvedOutputS3Uri"));
            assert_non_null(resolved);
            static const char prefix[] = "s3://my-bucket/features/000000000000/sagemaker/"
                                         "us-east-1/offline-store/customers-v1-";
            assert_true(strncmp(resolved, prefix, sizeof prefix - 1) == 0);
            assert_non_null(strstr(resolved + sizeof prefix - 1, "/data"));
            assert_true(json_equal(json_object_get(got, "DataCatalogConfig"),
                                   json_object_get(val, "DataCatalogConfig")));
            assert_true(json_equal(json_object_get(got, "TableFormat"),
                                   json_object_get(val, "TableFormat")));
            assert_true(json_equal(json_object_get(got, "DisableGlueTableCreation"),
                                   json_object_get(val, "DisableGlueTableCreation")));
            continue;
        }
        if (got == NULL || !json_equal(got, val)) {
            char *a = json_dumps(val, JSON_COMPACT), *b = got ? json_dumps(got, JSON_COMPACT) : NULL;
            fprintf(stderr, "member %s: sent %s, described %s\n", key, a, b ? b : "(missing)");
            free(a);
            free(b);
        }
        assert_non_null(got);
        assert_true(json_equal(got, val));
    }
    assert_string_equal(json_string_value(json_object_get(out, "FeatureGroupArn")),
                        "arn:aws:sagemaker:us-east-1:000000000000:feature-group/customers-v1");
    assert_string_equal(json_string_value(json_object_get(out, "FeatureGroupStatus")), "Created");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(out, "OfflineStoreStatus"), "Status")),
        "Active");
    assert_true(json_is_number(json_object_get(out, "CreationTime")));
    assert_string_equal(json_string_value(json_object_get(out, "NextToken")), "");
    json_decref(in);
    json_decref(out);
    lr_test_proc_free(&p);

    /* The ARN is accepted wherever a name is. */
    lr_test_larder(&p, f->data, "fg", "describe",
                   "arn:aws:sagemaker:us-east-1:000000000000:feature-group/customers-v1", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "customers-v1"));
    assert_non_null(strstr(p.out, "[record identifier]"));
    lr_test_proc_free(&p);
}

static void test_create_twice_is_resource_in_use(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    char *def = write_tmp(f, "def.json", full_def);
    create_full(f);
    lr_test_larder(&p, f->data, "fg", "create", "--file", def, NULL);
    assert_one_line_failure(&p, 1, "already exists");
    lr_test_proc_free(&p);
    free(def);
}

/* Each invalid definition is refused with its reason, and nothing is created. */
static void test_invalid_definitions_refused(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *json;
        const char *needle;
    } cases[] = {
        {"{\"FeatureGroupName\":\"bad name\",\"RecordIdentifierFeatureName\":\"id\","
         "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
         "\"FeatureType\":\"String\"},{\"FeatureName\":\"t\",\"FeatureType\":\"String\"}],"
         "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://b-1/x\"}}}",
         "featureGroupName"},
        {"{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"id\","
         "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
         "\"FeatureType\":\"String\"},{\"FeatureName\":\"t\",\"FeatureType\":\"String\"},"
         "{\"FeatureName\":\"write_time\",\"FeatureType\":\"String\"}],"
         "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://b-1/x\"}}}",
         "write_time"},
        {"{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"missing\","
         "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
         "\"FeatureType\":\"String\"},{\"FeatureName\":\"t\",\"FeatureType\":\"String\"}],"
         "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://b-1/x\"}}}",
         "missing"},
        {"{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"id\","
         "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
         "\"FeatureType\":\"String\"},{\"FeatureName\":\"t\",\"FeatureType\":\"Integral\"}],"
         "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://b-1/x\"}}}",
         "EventTime"},
        {"{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"id\","
         "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
         "\"FeatureType\":\"String\"},{\"FeatureName\":\"t\",\"FeatureType\":\"String\"}]}",
         "StoreConfig"},
        {"{\"FeatureGroupName\":\"g\",", "JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lr_test_proc p;
        char *path = write_tmp(f, "bad.json", cases[i].json);
        lr_test_larder(&p, f->data, "fg", "create", "--file", path, NULL);
        assert_one_line_failure(&p, 1, cases[i].needle);
        lr_test_proc_free(&p);
        free(path);
    }
    lr_test_proc p;
    lr_test_larder(&p, f->data, "fg", "list", NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.out_len, 0);
    lr_test_proc_free(&p);
}

static void test_list_filters_and_json(void **state)
{
    fixture *f = *state;
    static const char tmpl[] =
        "{\"FeatureGroupName\":\"%s\",\"RecordIdentifierFeatureName\":\"id\","
        "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":[{\"FeatureName\":\"id\","
        "\"FeatureType\":\"Integral\"},{\"FeatureName\":\"t\",\"FeatureType\":\"Fractional\"}],"
        "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";
    const char *names[] = {"alpha-orders", "beta-orders", "gamma-clicks"};
    for (int i = 0; i < 3; i++) {
        char json[1024];
        lr_test_proc p;
        snprintf(json, sizeof json, tmpl, names[i]);
        char *path = write_tmp(f, "g.json", json);
        lr_test_larder(&p, f->data, "fg", "create", "--file", path, NULL);
        assert_int_equal(p.status, 0);
        lr_test_proc_free(&p);
        free(path);
    }
    lr_test_proc p;
    lr_test_larder(&p, f->data, "fg", "list", "--name-contains", "ORDERS", "--sort-by", "Name",
                   "--sort-order", "Ascending", NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(lr_test_count_lines(p.out), 2);
    assert_true(strncmp(p.out, "alpha-orders ", 13) == 0);
    assert_non_null(strstr(p.out, "\nbeta-orders "));
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "list", "--json", "--max-results", "2", NULL);
    assert_int_equal(p.status, 0);
    json_t *j = parse_json(p.out);
    json_t *items = json_object_get(j, "FeatureGroupSummaries");
    assert_int_equal(json_array_size(items), 2);
    /* Default order: newest first. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0),
                                                          "FeatureGroupName")),
                        "gamma-clicks");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(items, 0), "OfflineStoreStatus"), "Status")),
                        "Disabled");
    const char *token = json_string_value(json_object_get(j, "NextToken"));
    assert_non_null(token);
    lr_test_proc q;
    lr_test_larder(&q, f->data, "fg", "list", "--json", "--max-results", "2", "--next-token",
                   token, NULL);
    assert_int_equal(q.status, 0);
    json_t *j2 = parse_json(q.out);
    json_t *items2 = json_object_get(j2, "FeatureGroupSummaries");
    assert_int_equal(json_array_size(items2), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items2, 0),
                                                          "FeatureGroupName")),
                        "alpha-orders");
    assert_null(json_object_get(j2, "NextToken"));
    json_decref(j);
    json_decref(j2);
    lr_test_proc_free(&p);
    lr_test_proc_free(&q);

    lr_test_larder(&p, f->data, "fg", "list", "--max-results", "0", NULL);
    assert_one_line_failure(&p, 2, "--max-results");
    lr_test_proc_free(&p);
}

static void test_update_ttl_and_features(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    create_full(f);

    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", "--ttl", "7d", NULL);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);
    char *adds = write_tmp(f, "adds.json",
                           "[{\"FeatureName\":\"country\",\"FeatureType\":\"String\"},"
                           "{\"FeatureName\":\"orders_90d\",\"FeatureType\":\"Integral\"}]");
    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", "--add-features", adds, NULL);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "describe", "customers-v1", "--json", NULL);
    assert_int_equal(p.status, 0);
    json_t *j = parse_json(p.out);
    json_t *ttl = json_object_get(json_object_get(j, "OnlineStoreConfig"), "TtlDuration");
    assert_string_equal(json_string_value(json_object_get(ttl, "Unit")), "Days");
    assert_int_equal(json_integer_value(json_object_get(ttl, "Value")), 7);
    json_t *defs = json_object_get(j, "FeatureDefinitions");
    assert_int_equal(json_array_size(defs), 8);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(defs, 6), "FeatureName")), "country");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(defs, 7), "FeatureType")), "Integral");
    json_decref(j);
    lr_test_proc_free(&p);

    /* Adding an existing or reserved feature is refused and changes nothing. */
    char *dup = write_tmp(f, "dup.json", "[{\"FeatureName\":\"AGE\",\"FeatureType\":\"String\"}]");
    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", "--add-features", dup, NULL);
    assert_one_line_failure(&p, 1, "AGE");
    lr_test_proc_free(&p);
    char *res = write_tmp(f, "res.json",
                          "[{\"FeatureName\":\"is_deleted\",\"FeatureType\":\"String\"}]");
    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", "--add-features", res, NULL);
    assert_one_line_failure(&p, 1, "is_deleted");
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "fg", "describe", "customers-v1", "--json", NULL);
    j = parse_json(p.out);
    assert_int_equal(json_array_size(json_object_get(j, "FeatureDefinitions")), 8);
    json_decref(j);
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", "--ttl", "7 days", NULL);
    assert_one_line_failure(&p, 2, "--ttl");
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "fg", "update", "customers-v1", NULL);
    assert_one_line_failure(&p, 2, "exactly one of");
    lr_test_proc_free(&p);
    free(adds);
    free(dup);
    free(res);
}

static void test_feature_metadata(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    create_full(f);
    lr_test_larder(&p, f->data, "fg", "feature", "customers-v1", "age", "--description",
                   "Age in years", "--add-param", "unit=years", "--add-param", "pii=false",
                   "--json", NULL);
    assert_int_equal(p.status, 0);
    json_t *j = parse_json(p.out);
    assert_string_equal(json_string_value(json_object_get(j, "Description")), "Age in years");
    assert_string_equal(json_string_value(json_object_get(j, "FeatureType")), "Integral");
    assert_int_equal(json_array_size(json_object_get(j, "Parameters")), 2);
    json_decref(j);
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "feature", "customers-v1", "age", "--remove-param", "pii",
                   "--json", NULL);
    assert_int_equal(p.status, 0);
    j = parse_json(p.out);
    json_t *params = json_object_get(j, "Parameters");
    assert_int_equal(json_array_size(params), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(params, 0), "Key")),
                        "unit");
    json_decref(j);
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "feature", "customers-v1", "nope", NULL);
    assert_one_line_failure(&p, 1, "nope");
    lr_test_proc_free(&p);
}

static void test_delete(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    create_full(f);
    lr_test_larder(&p, f->data, "fg", "delete", "customers-v1", NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.out_len, 0);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "fg", "describe", "customers-v1", NULL);
    assert_one_line_failure(&p, 1, "customers-v1");
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "fg", "delete", "customers-v1", NULL);
    assert_one_line_failure(&p, 1, "customers-v1");
    lr_test_proc_free(&p);
    /* The name is free again. */
    create_full(f);
}

static void test_usage_and_help(void **state)
{
    fixture *f = *state;
    lr_test_proc p;
    lr_test_larder(&p, f->data, "fg", NULL);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "Usage: larder"));
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "create", NULL);
    assert_one_line_failure(&p, 2, "--file");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "create", "--bogus", NULL);
    assert_one_line_failure(&p, 2, "--bogus");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "explode", NULL);
    assert_one_line_failure(&p, 2, "explode");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "describe", "bad name!", NULL);
    assert_one_line_failure(&p, 1, "bad name!");
    lr_test_proc_free(&p);

    lr_test_larder(&p, f->data, "fg", "create", "--file", "/nonexistent/def.json", NULL);
    assert_one_line_failure(&p, 1, "/nonexistent/def.json");
    lr_test_proc_free(&p);

    const char *helps[][3] = {{"fg", "--help", NULL}, {"fg", "create", "--help"},
                              {"fg", "list", "-h"}};
    for (size_t i = 0; i < 3; i++) {
        lr_test_larder(&p, f->data, helps[i][0], helps[i][1], helps[i][2], NULL);
        assert_int_equal(p.status, 0);
        assert_non_null(strstr(p.out, "Usage: larder"));
        lr_test_proc_free(&p);
    }
    lr_test_larder(&p, NULL, "--help", NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "fg "));
    lr_test_proc_free(&p);
    lr_test_larder(&p, NULL, "nonsense", NULL);
    assert_one_line_failure(&p, 2, "nonsense");
    lr_test_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_describe_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_twice_is_resource_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_definitions_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_ttl_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feature_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_and_help, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
