/*
 * test_fgdef.c - feature-group definitions (fg.h): every validation rule
 * accepted and rejected at its boundary, AWS-style messages, the three JSON
 * forms and their round trips, feature lookup, feature additions, TTL
 * updates, and the name and TTL helpers.
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

#include "larder/fg.h"
#include "larder/value.h"

/* ---- helpers ----------------------------------------------------------- */

static const char BASE[] =
    "{\"FeatureGroupName\":\"orders\","
    "\"RecordIdentifierFeatureName\":\"order_id\","
    "\"EventTimeFeatureName\":\"event_time\","
    "\"FeatureDefinitions\":["
    "{\"FeatureName\":\"order_id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"event_time\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"amount\",\"FeatureType\":\"Fractional\"}],"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://my-bucket/prefix\"}}}";

static json_t *base(void)
{
    json_error_t e;
    json_t *j = json_loads(BASE, 0, &e);
    assert_non_null(j);
    return j;
}

/* Sets (val != NULL) or removes (val == NULL) the member at a dotted path;
 * numeric components index arrays. Takes ownership of val. */
static void set(json_t *root, const char *path, json_t *val)
{
    char buf[256];
    char *parts[16];
    int n = 0;
    json_t *cur = root;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && n < 16; tok = strtok(NULL, "."))
        parts[n++] = tok;
    for (int i = 0; i < n - 1; i++) {
        json_t *next;
        if (json_is_array(cur))
            next = json_array_get(cur, (size_t)atoi(parts[i]));
        else {
            next = json_object_get(cur, parts[i]);
            if (next == NULL) {
                next = json_object();
                json_object_set_new(cur, parts[i], next);
            }
        }
        assert_non_null(next);
        cur = next;
    }
    if (json_is_array(cur)) {
        size_t idx = (size_t)atoi(parts[n - 1]);
        if (val)
            json_array_set_new(cur, idx, val);
        else
            json_array_remove(cur, idx);
    } else if (val) {
        json_object_set_new(cur, parts[n - 1], val);
    } else {
        json_object_del(cur, parts[n - 1]);
    }
}

static json_t *features(json_t *root)
{
    return json_object_get(root, "FeatureDefinitions");
}

static json_t *fd(const char *name, const char *type)
{
    return json_pack("{s:s, s:s}", "FeatureName", name, "FeatureType", type);
}

/* Parses j (consumed) and returns the status; the definition in *out if asked. */
static lr_status parse_j(json_t *j, lr_fg_def **out, lr_error *err)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    lr_fg_def *def = NULL;
    lr_status st;
    assert_non_null(s);
    json_decref(j);
    lr_error_clear(err);
    st = lr_fg_def_parse(s, strlen(s), &def, err);
    free(s);
    if (out)
        *out = def;
    else
        lr_fg_def_free(def);
    return st;
}

static lr_fg_def *expect_ok(json_t *j)
{
    lr_error err;
    lr_fg_def *def = NULL;
    lr_status st = parse_j(j, &def, &err);
    if (st != LR_OK)
        fail_msg("expected OK, got %s", err.msg);
    assert_non_null(def);
    return def;
}

static void accept(json_t *j)
{
    lr_fg_def_free(expect_ok(j));
}

/* Expects LR_EINVAL with a message containing `part`. */
static void reject(json_t *j, const char *part)
{
    lr_error err;
    lr_fg_def *def = NULL;
    lr_status st = parse_j(j, &def, &err);
    if (st != LR_EINVAL)
        fail_msg("expected EINVAL containing \"%s\", got %d", part, st);
    assert_null(def);
    if (strstr(err.msg, part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, part);
}

/* Expects exactly the message `msg`. */
static void reject_exact(json_t *j, const char *msg)
{
    lr_error err;
    assert_int_equal(parse_j(j, NULL, &err), LR_EINVAL);
    assert_string_equal(err.msg, msg);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static char *to_json(const lr_fg_def *def, lr_fg_json_form form)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    assert_int_equal(lr_fg_def_to_json(def, form, &b), LR_OK);
    return lr_buf_detach(&b, NULL);
}

/* ---- the basics -------------------------------------------------------- */

static void test_minimal(void **state)
{
    lr_fg_def *def = expect_ok(base());
    (void)state;
    assert_string_equal(def->name, "orders");
    assert_string_equal(def->record_id_name, "order_id");
    assert_string_equal(def->event_time_name, "event_time");
    assert_int_equal(def->n_features, 3);
    assert_int_equal(def->record_id_index, 0);
    assert_int_equal(def->event_time_index, 1);
    assert_int_equal(def->features[2].type, LR_FT_FRACTIONAL);
    assert_int_equal(def->features[2].collection, LR_COLL_NONE);
    assert_false(def->has_online_config);
    assert_true(def->has_offline_config);
    assert_string_equal(def->offline_s3_uri, "s3://my-bucket/prefix");
    assert_null(def->offline_kms_key_id);
    assert_null(def->description);
    assert_null(def->role_arn);
    assert_null(def->throughput_mode);
    assert_true(def->provisioned_read_units == -1);
    assert_int_equal(def->n_tags, 0);
    assert_null(def->arn);
    assert_true(def->creation_time_us == 0);
    assert_int_equal(def->status, 0);
    assert_int_equal(lr_fg_def_find_feature(def, "amount", 6), 2);
    assert_int_equal(lr_fg_def_find_feature(def, "Amount", 6), -1);
    lr_fg_def_free(def);
    lr_fg_def_free(NULL);
}

static const char FULL[] =
    "{\"FeatureGroupName\":\"Customer-Profile_v2\","
    "\"RecordIdentifierFeatureName\":\"customer_id\","
    "\"EventTimeFeatureName\":\"event_time\","
    "\"FeatureDefinitions\":["
    "{\"FeatureName\":\"customer_id\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"event_time\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"name\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"Set\"},"
    "{\"FeatureName\":\"scores\",\"FeatureType\":\"Integral\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"embedding\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":4}}}],"
    "\"OnlineStoreConfig\":{\"SecurityConfig\":{\"KmsKeyId\":\"arn:aws:kms:us-east-1:123456789012:"
    "key/1234abcd-12ab-34cd-56ef-1234567890ab\"},\"EnableOnlineStore\":true,"
    "\"TtlDuration\":{\"Unit\":\"Days\",\"Value\":30},\"StorageType\":\"InMemory\"},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://my-bucket/features\","
    "\"KmsKeyId\":\"alias/my-key\"},\"DisableGlueTableCreation\":true,"
    "\"DataCatalogConfig\":{\"TableName\":\"customers\",\"Catalog\":\"AwsDataCatalog\","
    "\"Database\":\"features_db\"},\"TableFormat\":\"Iceberg\"},"
    "\"ThroughputConfig\":{\"ThroughputMode\":\"Provisioned\",\"ProvisionedReadCapacityUnits\":10,"
    "\"ProvisionedWriteCapacityUnits\":5},"
    "\"RoleArn\":\"arn:aws:iam::123456789012:role/service-role/SageMakerRole\","
    "\"Description\":\"Customer profile features \\\"v2\\\" \xc3\xa9\","
    "\"Tags\":[{\"Key\":\"team\",\"Value\":\"ml-platform\"},{\"Key\":\"cost "
    "center\",\"Value\":\"\"}]}";

static void test_full_round_trip(void **state)
{
    lr_fg_def *def = NULL, *again = NULL, *stored = NULL, *clone;
    lr_error err;
    char *req, *st_json;
    (void)state;

    assert_int_equal(lr_fg_def_parse(FULL, strlen(FULL), &def, &err), LR_OK);
    assert_string_equal(def->name, "Customer-Profile_v2");
    assert_int_equal(def->n_features, 6);
    assert_int_equal(def->features[0].type, LR_FT_INTEGRAL);
    assert_int_equal(def->features[3].collection, LR_COLL_SET);
    assert_int_equal(def->features[4].collection, LR_COLL_LIST);
    assert_int_equal(def->features[5].collection, LR_COLL_VECTOR);
    assert_int_equal(def->features[5].vector_dim, 4);
    assert_true(def->has_online_config && def->online_enabled);
    assert_int_equal(def->online_ttl.unit, LR_TTL_DAYS);
    assert_true(def->online_ttl.value == 30);
    assert_string_equal(def->online_storage_type, "InMemory");
    assert_string_equal(
        def->online_kms_key_id,
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_string_equal(def->offline_kms_key_id, "alias/my-key");
    assert_true(def->disable_glue_table_creation);
    assert_string_equal(def->dc_table_name, "customers");
    assert_string_equal(def->dc_catalog, "AwsDataCatalog");
    assert_string_equal(def->dc_database, "features_db");
    assert_string_equal(def->table_format, "Iceberg");
    assert_string_equal(def->throughput_mode, "Provisioned");
    assert_true(def->provisioned_read_units == 10 && def->provisioned_write_units == 5);
    assert_string_equal(def->role_arn, "arn:aws:iam::123456789012:role/service-role/SageMakerRole");
    assert_string_equal(def->description, "Customer profile features \"v2\" \xc3\xa9");
    assert_int_equal(def->n_tags, 2);
    assert_string_equal(def->tags[1].key, "cost center");
    assert_string_equal(def->tags[1].value, "");

    /* REQUEST: exactly the request shape, in a stable member order. */
    req = to_json(def, LR_FG_JSON_REQUEST);
    assert_string_equal(req, FULL);
    assert_int_equal(lr_fg_def_parse(req, strlen(req), &again, &err), LR_OK);
    assert_true(lr_fg_def_equal(def, again));

    /* STORED: with the assigned fields, parsed back identically. */
    clone = lr_fg_def_clone(def);
    assert_non_null(clone);
    assert_true(lr_fg_def_equal(def, clone));
    clone->arn = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/Customer-Profile_v2";
    clone->creation_time_us = 1700000000123456LL;
    clone->last_modified_time_us = 1700000100000001LL;
    clone->status = LR_FG_CREATED;
    clone->offline_status = LR_OFFLINE_ACTIVE;
    clone->resolved_offline_uri =
        "s3://my-bucket/features/123456789012/sagemaker/us-east-1/offline-store/"
        "Customer-Profile_v2-1700000000/data";
    assert_false(lr_fg_def_equal(def, clone));
    st_json = to_json(clone, LR_FG_JSON_STORED);
    assert_int_equal(lr_fg_def_parse_stored(st_json, strlen(st_json), &stored, &err), LR_OK);
    assert_true(lr_fg_def_equal(clone, stored));
    assert_string_equal(stored->resolved_offline_uri, clone->resolved_offline_uri);
    assert_true(stored->creation_time_us == 1700000000123456LL);
    /* The stored form is not a request: its extra members are refused there. */
    assert_int_equal(lr_fg_def_parse(st_json, strlen(st_json), &again, &err) == LR_OK, false);
    assert_non_null(strstr(err.msg, "Unknown member 'FeatureGroupArn'"));
    /* A stored form writes itself identically. */
    {
        char *st2 = to_json(stored, LR_FG_JSON_STORED);
        assert_string_equal(st2, st_json);
        free(st2);
    }

    free(req);
    free(st_json);
    lr_fg_def_free(def);
    lr_fg_def_free(again);
    lr_fg_def_free(stored);
    /* clone's assigned strings are literals; the arena owns the rest. */
    clone->arn = NULL;
    clone->resolved_offline_uri = NULL;
    lr_fg_def_free(clone);
}

static void test_describe_form(void **state)
{
    lr_fg_def *def = expect_ok(base()), *c;
    json_t *d, *o;
    json_error_t je;
    char *s;
    (void)state;

    c = lr_fg_def_clone(def);
    c->arn = "arn:aws:sagemaker:us-east-1:000000000000:feature-group/orders";
    c->creation_time_us = 1700000000250000LL;
    c->last_modified_time_us = 1700000000000000LL;
    c->status = LR_FG_CREATED;
    c->offline_status = LR_OFFLINE_ACTIVE;
    c->resolved_offline_uri = "s3://my-bucket/prefix/000000000000/sagemaker/us-east-1/"
                              "offline-store/orders-1700000000/data";
    s = to_json(c, LR_FG_JSON_DESCRIBE);
    d = json_loads(s, 0, &je);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "FeatureGroupArn")), c->arn);
    assert_string_equal(json_string_value(json_object_get(d, "FeatureGroupName")), "orders");
    assert_true(json_real_value(json_object_get(d, "CreationTime")) == 1700000000.25);
    assert_non_null(strstr(s, "\"CreationTime\":1700000000.25,"));
    assert_true(json_integer_value(json_object_get(d, "LastModifiedTime")) == 1700000000);
    assert_string_equal(json_string_value(json_object_get(d, "FeatureGroupStatus")), "Created");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "OfflineStoreStatus"), "Status")),
        "Active");
    assert_string_equal(json_string_value(json_object_get(d, "NextToken")), "");
    assert_null(json_object_get(d, "Tags"));
    assert_null(json_object_get(d, "CreationTimeUs"));
    o = json_object_get(d, "OfflineStoreConfig");
    assert_true(json_is_false(json_object_get(o, "DisableGlueTableCreation")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "S3StorageConfig"),
                                                          "ResolvedOutputS3Uri")),
                        c->resolved_offline_uri);
    /* No DataCatalogConfig in the request: SageMaker's defaults. */
    o = json_object_get(o, "DataCatalogConfig");
    assert_string_equal(json_string_value(json_object_get(o, "TableName")), "orders_1700000000");
    assert_string_equal(json_string_value(json_object_get(o, "Catalog")), "AwsDataCatalog");
    assert_string_equal(json_string_value(json_object_get(o, "Database")),
                        "sagemaker_featurestore");
    /* Member order follows DescribeFeatureGroup's. */
    assert_true(strstr(s, "\"FeatureGroupArn\"") < strstr(s, "\"FeatureGroupName\""));
    assert_true(strstr(s, "\"FeatureDefinitions\"") < strstr(s, "\"CreationTime\""));
    assert_true(strstr(s, "\"OfflineStoreConfig\"") < strstr(s, "\"FeatureGroupStatus\""));
    assert_true(strstr(s, "\"FeatureGroupStatus\"") < strstr(s, "\"NextToken\""));
    json_decref(d);
    free(s);

    /* Upper-case names give a lower-case default table name. */
    c->name = "Orders-EU";
    s = to_json(c, LR_FG_JSON_DESCRIBE);
    assert_non_null(strstr(s, "\"TableName\":\"orders-eu_1700000000\""));
    free(s);
    /* Online only: no OfflineStoreConfig, no OfflineStoreStatus. */
    c->has_offline_config = false;
    c->has_online_config = true;
    c->online_enabled = true;
    c->offline_status = LR_OFFLINE_DISABLED;
    s = to_json(c, LR_FG_JSON_DESCRIBE);
    assert_null(strstr(s, "OfflineStore"));
    assert_non_null(strstr(s, "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}"));
    free(s);

    c->arn = NULL;
    c->resolved_offline_uri = NULL;
    c->name = NULL;
    lr_fg_def_free(c);
    lr_fg_def_free(def);
}

static void test_to_json_errors(void **state)
{
    lr_fg_def *def = expect_ok(base());
    lr_buf b;
    (void)state;
    lr_buf_init(&b, 40);
    assert_int_equal(lr_buf_append_str(&b, "prefix"), LR_OK);
    assert_int_equal(lr_fg_def_to_json(def, LR_FG_JSON_REQUEST, &b), LR_ELIMIT);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "prefix");
    assert_int_equal(lr_fg_def_to_json(def, (lr_fg_json_form)7, &b), LR_EINVAL);
    assert_int_equal(lr_fg_def_to_json(NULL, LR_FG_JSON_REQUEST, &b), LR_EINVAL);
    lr_buf_free(&b);
    lr_fg_def_free(def);
}

/* ---- names ------------------------------------------------------------- */

static void test_group_name(void **state)
{
    char *s64 = repeat('a', 64), *s65 = repeat('a', 65);
    json_t *j;
    (void)state;

    j = base();
    set(j, "FeatureGroupName", json_string(s64));
    accept(j);
    j = base();
    set(j, "FeatureGroupName", json_string(s65));
    reject(j, "2 validation errors detected: Value '");
    j = base();
    set(j, "FeatureGroupName", json_string(s65));
    reject(j, "at 'featureGroupName' failed to satisfy constraint: Member must have length less "
              "than or equal to 64");
    j = base();
    set(j, "FeatureGroupName", json_string("x y"));
    reject_exact(j, "1 validation error detected: Value 'x y' at 'featureGroupName' failed to "
                    "satisfy constraint: Member must satisfy regular expression pattern: "
                    "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}");
    j = base();
    set(j, "FeatureGroupName", json_string(""));
    reject(j, "Member must have length greater than or equal to 1");
    j = base();
    set(j, "FeatureGroupName", NULL);
    reject_exact(j, "1 validation error detected: Value null at 'featureGroupName' failed to "
                    "satisfy constraint: Member must not be null");
    j = base();
    set(j, "FeatureGroupName", json_null()); /* null is absent */
    reject(j, "Value null at 'featureGroupName'");

    static const char *good[] = {"a", "A9", "a-b", "a_b", "a--__b", "a-_-b", "0", "9lives"};
    static const char *bad[] = {"-a", "a-", "_a", "a_", "a.b", "a b", "caf\xc3\xa9", "a/b", "-"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        j = base();
        set(j, "FeatureGroupName", json_string(good[i]));
        accept(j);
        assert_true(lr_fg_name_valid(good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = base();
        set(j, "FeatureGroupName", json_string(bad[i]));
        reject(j, "Member must satisfy regular expression pattern");
        assert_false(lr_fg_name_valid(bad[i], strlen(bad[i])));
    }
    assert_true(lr_fg_name_valid(s64, 64));
    assert_false(lr_fg_name_valid(s65, 65));
    assert_false(lr_fg_name_valid("", 0));
    assert_false(lr_fg_name_valid(NULL, 0));
    /* A long hostile value is quoted with a bound. */
    {
        char *big = repeat('!', 5000);
        lr_error err;
        j = base();
        set(j, "FeatureGroupName", json_string(big));
        assert_int_equal(parse_j(j, NULL, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "!!!..."));
        free(big);
    }
    free(s64);
    free(s65);
}

static void test_feature_names(void **state)
{
    char *s64 = repeat('f', 64), *s65 = repeat('f', 65);
    json_t *j;
    (void)state;

    j = base();
    json_array_append_new(features(j), fd(s64, "String"));
    accept(j);
    j = base();
    json_array_append_new(features(j), fd(s65, "String"));
    reject(j, "at 'featureDefinitions.4.member.featureName' failed to satisfy constraint: Member "
              "must have length less than or equal to 64");
    j = base();
    set(j, "FeatureDefinitions.2.FeatureName", json_string("bad name"));
    reject_exact(j, "1 validation error detected: Value 'bad name' at "
                    "'featureDefinitions.3.member.featureName' failed to satisfy constraint: "
                    "Member must satisfy regular expression pattern: "
                    "[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}");
    j = base();
    set(j, "FeatureDefinitions.2.FeatureName", NULL);
    reject(j, "Value null at 'featureDefinitions.3.member.featureName'");

    /* Reserved names, whatever their case. */
    static const char *reserved[] = {"is_deleted", "write_time", "api_invocation_time",
                                     "Write_Time", "IS_DELETED"};
    for (size_t i = 0; i < 5; i++) {
        j = base();
        json_array_append_new(features(j), fd(reserved[i], "String"));
        reject(j, "at 'featureDefinitions.4.member.featureName' is reserved");
        assert_true(lr_feature_name_reserved(reserved[i], strlen(reserved[i])));
    }
    assert_false(lr_feature_name_reserved("is_deleted2", 11));
    assert_false(lr_feature_name_reserved("write", 5));
    assert_true(lr_feature_name_reserved("write_time_x", 10)); /* length-bounded */

    /* Unique regardless of case. */
    j = base();
    json_array_append_new(features(j), fd("Amount", "Integral"));
    reject(j, "The feature name 'Amount' at 'featureDefinitions.4.member.featureName' is already "
              "defined as 'amount'");
    j = base();
    json_array_append_new(features(j), fd("amount", "Fractional"));
    reject(j, "already defined as 'amount'");

    assert_true(lr_feature_name_valid(s64, 64));
    assert_false(lr_feature_name_valid(s65, 65));
    assert_false(lr_feature_name_valid("a b", 3));
    assert_true(lr_feature_name_valid("a-_b", 4));
    free(s64);
    free(s65);
}

static void test_definition_count(void **state)
{
    json_t *j;
    (void)state;
    for (int total = 2500; total <= 2501; total++) {
        j = base();
        for (int i = 3; i < total; i++) {
            char name[16];
            snprintf(name, sizeof name, "f%d", i);
            json_array_append_new(features(j), fd(name, "Integral"));
        }
        if (total == 2500) {
            lr_fg_def *def = expect_ok(j);
            assert_int_equal(def->n_features, 2500);
            /* Every feature is found through the index. */
            for (int i = 3; i < 2500; i++) {
                char name[16];
                snprintf(name, sizeof name, "f%d", i);
                assert_int_equal(lr_fg_def_find_feature(def, name, strlen(name)), i);
            }
            assert_int_equal(lr_fg_def_find_feature(def, "f2500", 5), -1);
            lr_fg_def_free(def);
        } else {
            reject(j, "Value '[2501 items]' at 'featureDefinitions' failed to satisfy "
                      "constraint: Member must have length less than or equal to 2500");
        }
    }
    j = base();
    set(j, "FeatureDefinitions", json_array());
    reject(j, "at 'featureDefinitions' failed to satisfy constraint: Member must have length "
              "greater than or equal to 1");
    j = base();
    set(j, "FeatureDefinitions", NULL);
    reject(j, "Value null at 'featureDefinitions'");
    j = base();
    set(j, "FeatureDefinitions", json_string("x"));
    reject(j, "Invalid type at 'featureDefinitions': expected an array, got a string");
    j = base();
    set(j, "FeatureDefinitions.1", json_integer(3));
    reject(j, "Invalid type at 'featureDefinitions.2.member': expected an object");
}

static void test_identifier_and_event_time(void **state)
{
    json_t *j;
    (void)state;
    j = base();
    set(j, "RecordIdentifierFeatureName", json_string("id"));
    reject_exact(j, "The RecordIdentifierFeatureName 'id' is not defined in FeatureDefinitions.");
    j = base();
    set(j, "EventTimeFeatureName", json_string("ts"));
    reject_exact(j, "The EventTimeFeatureName 'ts' is not defined in FeatureDefinitions.");
    j = base();
    set(j, "RecordIdentifierFeatureName", json_string("Order_ID")); /* case-sensitive */
    reject(j, "'Order_ID' is not defined");
    j = base();
    set(j, "RecordIdentifierFeatureName", json_string("bad name"));
    reject(j, "at 'recordIdentifierFeatureName' failed to satisfy constraint");
    j = base();
    set(j, "EventTimeFeatureName", NULL);
    reject(j, "Value null at 'eventTimeFeatureName'");

    /* Identifier: Integral or String, not a collection. */
    j = base();
    set(j, "FeatureDefinitions.0.FeatureType", json_string("Integral"));
    accept(j);
    j = base();
    set(j, "FeatureDefinitions.0.FeatureType", json_string("Fractional"));
    reject(j, "The RecordIdentifierFeatureName 'order_id' must be a feature of type Integral or "
              "String that is not a collection, not Fractional.");
    j = base();
    set(j, "FeatureDefinitions.0.CollectionType", json_string("List"));
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:s}", "EnableOnlineStore", 1, "StorageType", "InMemory"));
    reject(j, "not String List");

    /* Event time: String or Fractional, not a collection. */
    j = base();
    set(j, "FeatureDefinitions.1.FeatureType", json_string("Fractional"));
    accept(j);
    j = base();
    set(j, "FeatureDefinitions.1.FeatureType", json_string("Integral"));
    reject(j, "The EventTimeFeatureName 'event_time' must be a feature of type String");
    j = base();
    set(j, "FeatureDefinitions.1.CollectionType", json_string("Set"));
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:s}", "EnableOnlineStore", 1, "StorageType", "InMemory"));
    reject(j, "not String Set");

    /* One feature cannot be both. */
    j = base();
    set(j, "EventTimeFeatureName", json_string("order_id"));
    reject(j, "must name different features");
}

static void test_types_and_enums(void **state)
{
    json_t *j;
    (void)state;
    j = base();
    set(j, "FeatureDefinitions.2.FeatureType", json_string("integral"));
    reject_exact(j, "1 validation error detected: Value 'integral' at "
                    "'featureDefinitions.3.member.featureType' failed to satisfy constraint: "
                    "Member must satisfy enum value set: [Integral, Fractional, String]");
    j = base();
    set(j, "FeatureDefinitions.2.FeatureType", NULL);
    reject(j, "Value null at 'featureDefinitions.3.member.featureType'");
    j = base();
    set(j, "FeatureDefinitions.2.FeatureType", json_integer(1));
    reject(j, "Invalid type at 'featureDefinitions.3.member.featureType': expected a string, got "
              "an integer");
    j = base();
    set(j, "FeatureDefinitions.2.CollectionType", json_string("Map"));
    reject(j, "Member must satisfy enum value set: [List, Set, Vector]");
    j = base();
    set(j, "FeatureDefinitions.2.Extra", json_true());
    reject_exact(j, "Unknown member 'Extra' at 'featureDefinitions.3.member'");
}

static json_t *in_memory(json_t *j)
{
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:s}", "EnableOnlineStore", 1, "StorageType", "InMemory"));
    return j;
}

static void test_collections(void **state)
{
    json_t *j;
    lr_fg_def *def;
    (void)state;

    j = in_memory(base());
    json_array_append_new(features(j),
                          json_pack("{s:s, s:s, s:s, s:{s:{s:i}}}", "FeatureName", "emb",
                                    "FeatureType", "Fractional", "CollectionType", "Vector",
                                    "CollectionConfig", "VectorConfig", "Dimension", 8192));
    json_array_append_new(features(j),
                          json_pack("{s:s, s:s, s:s}", "FeatureName", "l", "FeatureType",
                                    "Integral", "CollectionType", "List"));
    json_array_append_new(features(j), json_pack("{s:s, s:s, s:s}", "FeatureName", "s",
                                                 "FeatureType", "String", "CollectionType", "Set"));
    def = expect_ok(j);
    assert_int_equal(def->features[3].vector_dim, 8192);
    assert_int_equal(def->features[4].collection, LR_COLL_LIST);
    assert_int_equal(def->features[5].vector_dim, 0);
    lr_fg_def_free(def);

    for (int dim = 0; dim <= 8193; dim += 8193) {
        j = in_memory(base());
        set(j, "FeatureDefinitions.2.CollectionType", json_string("Vector"));
        set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Dimension", json_integer(dim));
        reject(j, dim == 0 ? "Value '0' at "
                             "'featureDefinitions.3.member.collectionConfig.vectorConfig."
                             "dimension' failed to satisfy constraint: Member must have value "
                             "greater than or equal to 1"
                           : "Value '8193' at "
                             "'featureDefinitions.3.member.collectionConfig.vectorConfig."
                             "dimension' failed to satisfy constraint: Member must have value "
                             "less than or equal to 8192");
    }
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionType", json_string("Vector"));
    set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Dimension", json_integer(1));
    accept(j);
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionType", json_string("Vector"));
    set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Dimension", json_real(3.0));
    reject(j, "expected an integer, got a number with a fraction");
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionType", json_string("Vector"));
    set(j, "FeatureDefinitions.2.CollectionConfig", json_object());
    reject(j, "Value null at 'featureDefinitions.3.member.collectionConfig.vectorConfig'");
    /* Vector needs Fractional and a dimension. */
    j = in_memory(base());
    json_array_append_new(features(j),
                          json_pack("{s:s, s:s, s:s, s:{s:{s:i}}}", "FeatureName", "emb",
                                    "FeatureType", "Integral", "CollectionType", "Vector",
                                    "CollectionConfig", "VectorConfig", "Dimension", 3));
    reject(j, "The feature 'emb' at 'featureDefinitions.4.member' has CollectionType Vector, "
              "which requires FeatureType Fractional.");
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionType", json_string("Vector"));
    reject(j, "has CollectionType Vector but no CollectionConfig.VectorConfig.Dimension.");
    /* A CollectionConfig without Vector. */
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionType", json_string("List"));
    set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Dimension", json_integer(3));
    reject(j, "has a CollectionConfig, which is only valid with CollectionType Vector.");
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Dimension", json_integer(3));
    reject(j, "only valid with CollectionType Vector");
    j = in_memory(base());
    set(j, "FeatureDefinitions.2.CollectionConfig.VectorConfig.Other", json_integer(3));
    reject(j, "Unknown member 'Other' at 'featureDefinitions.3.member.collectionConfig."
              "vectorConfig'");

    /* Collections only with an InMemory online store. */
    j = base();
    set(j, "FeatureDefinitions.2.CollectionType", json_string("List"));
    reject(j, "The feature 'amount' at 'featureDefinitions.3.member' has CollectionType List: "
              "collection types are supported only with an online store of StorageType InMemory");
    j = base();
    set(j, "FeatureDefinitions.2.CollectionType", json_string("List"));
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:s}", "EnableOnlineStore", 1, "StorageType", "Standard"));
    reject(j, "StorageType InMemory");
    j = base();
    set(j, "FeatureDefinitions.2.CollectionType", json_string("List"));
    set(j, "OnlineStoreConfig", json_pack("{s:b}", "EnableOnlineStore", 1));
    reject(j, "StorageType InMemory");
    j = base();
    set(j, "FeatureDefinitions.2.CollectionType", json_string("List"));
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:s}", "EnableOnlineStore", 0, "StorageType", "InMemory"));
    reject(j, "StorageType InMemory");
}

static void test_store_configs(void **state)
{
    json_t *j;
    lr_fg_def *def;
    (void)state;

    j = base();
    set(j, "OfflineStoreConfig", NULL);
    reject_exact(j, "At least one of OnlineStoreConfig (with EnableOnlineStore true) and "
                    "OfflineStoreConfig must be specified.");
    j = base();
    set(j, "OfflineStoreConfig", NULL);
    set(j, "OnlineStoreConfig", json_pack("{s:b}", "EnableOnlineStore", 0));
    reject(j, "At least one of OnlineStoreConfig");
    j = base();
    set(j, "OfflineStoreConfig", NULL);
    set(j, "OnlineStoreConfig", json_object());
    reject(j, "At least one of OnlineStoreConfig");
    j = base();
    set(j, "OfflineStoreConfig", NULL);
    set(j, "OnlineStoreConfig", json_pack("{s:b}", "EnableOnlineStore", 1));
    def = expect_ok(j);
    assert_true(def->has_online_config && def->online_enabled && !def->has_offline_config);
    assert_null(def->online_storage_type);
    lr_fg_def_free(def);
    /* Online config present but disabled, next to an offline store. */
    j = base();
    set(j, "OnlineStoreConfig", json_object());
    def = expect_ok(j);
    assert_true(def->has_online_config && !def->online_enabled);
    lr_fg_def_free(def);

    j = base();
    set(j, "OnlineStoreConfig.EnableOnlineStore", json_string("true"));
    reject(j, "Invalid type at 'onlineStoreConfig.enableOnlineStore': expected a boolean, got a "
              "string");
    j = base();
    set(j, "OnlineStoreConfig.StorageType", json_string("Fast"));
    reject(j, "at 'onlineStoreConfig.storageType' failed to satisfy constraint: Member must "
              "satisfy enum value set: [Standard, InMemory]");
    j = base();
    set(j, "OnlineStoreConfig", json_string("yes"));
    reject(j, "Invalid type at 'onlineStoreConfig': expected an object");
    j = base();
    set(j, "OnlineStoreConfig.SecurityConfig.KmsKeyId", json_string("bad key!"));
    reject(j, "at 'onlineStoreConfig.securityConfig.kmsKeyId' failed to satisfy constraint: "
              "Member must satisfy regular expression pattern: [a-zA-Z0-9:/_-]*");
    {
        char *k = repeat('k', 2049);
        j = base();
        set(j, "OnlineStoreConfig.SecurityConfig.KmsKeyId", json_string(k));
        reject(j, "Member must have length less than or equal to 2048");
        k[2048] = '\0';
        j = base();
        set(j, "OnlineStoreConfig.EnableOnlineStore", json_true());
        set(j, "OnlineStoreConfig.SecurityConfig.KmsKeyId", json_string(k));
        accept(j);
        free(k);
    }

    /* TTL. */
    j = base();
    set(j, "OnlineStoreConfig",
        json_pack("{s:b, s:{s:s, s:i}}", "EnableOnlineStore", 1, "TtlDuration", "Unit", "Weeks",
                  "Value", 1));
    def = expect_ok(j);
    assert_int_equal(def->online_ttl.unit, LR_TTL_WEEKS);
    assert_true(lr_ttl_micros(def->online_ttl) == 604800000000LL);
    lr_fg_def_free(def);
    j = base();
    set(j, "OnlineStoreConfig.TtlDuration", json_pack("{s:s, s:i}", "Unit", "Hours", "Value", 0));
    reject_exact(j, "1 validation error detected: Value '0' at "
                    "'onlineStoreConfig.ttlDuration.value' failed to satisfy constraint: Member "
                    "must have value greater than or equal to 1");
    j = base();
    set(j, "OnlineStoreConfig.TtlDuration",
        json_pack("{s:s, s:i}", "Unit", "Fortnights", "Value", 2));
    reject(j, "Member must satisfy enum value set: [Seconds, Minutes, Hours, Days, Weeks]");
    j = base();
    set(j, "OnlineStoreConfig.TtlDuration", json_pack("{s:s}", "Unit", "Days"));
    reject(j, "Value null at 'onlineStoreConfig.ttlDuration.value'");
    j = base();
    set(j, "OnlineStoreConfig.TtlDuration", json_pack("{s:i}", "Value", 3));
    reject(j, "Value null at 'onlineStoreConfig.ttlDuration.unit'");
    /* The largest value whose microseconds fit, and one more. */
    {
        long long max_weeks = INT64_MAX / 604800000000LL;
        j = base();
        set(j, "OnlineStoreConfig",
            json_pack("{s:b, s:{s:s, s:I}}", "EnableOnlineStore", 1, "TtlDuration", "Unit", "Weeks",
                      "Value", (json_int_t)max_weeks));
        accept(j);
        j = base();
        set(j, "OnlineStoreConfig.TtlDuration",
            json_pack("{s:s, s:I}", "Unit", "Weeks", "Value", (json_int_t)max_weeks + 1));
        reject(j, "Member must have value less than or equal to 15250284");
    }
    j = base();
    set(j, "OnlineStoreConfig.TtlDuration",
        json_pack("{s:s, s:I}", "Unit", "Seconds", "Value", (json_int_t)INT64_MAX));
    reject(j, "Member must have value less than or equal to 9223372036854");
}

static void test_s3uri(void **state)
{
    static const char *good[] = {"s3://my-bucket",
                                 "s3://my-bucket/",
                                 "s3://my-bucket/a/b c/d",
                                 "s3://a.b-c",
                                 "s3://abc/x",
                                 "file:///tmp/larder",
                                 "file:///",
                                 "/var/lib/larder/offline",
                                 "relative/dir",
                                 "./here",
                                 "offline",
                                 "dir:with:colons",
                                 "a+b.c-d/x"};
    static const char *bad[] = {
        "s3://ab",       "s3://My-Bucket", "s3://bucket_x/p",   "s3://-bucket", "s3://bucket-",
        "s3://",         "s3:///x",        "file://relative/x", "file://",      "https://bucket/x",
        "gs://bucket/x", "/tmp/a\001b",    "/tmp/\x7f"};
    json_t *j;
    lr_fg_def *def;
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(good[i]));
        def = expect_ok(j);
        assert_string_equal(def->offline_s3_uri, good[i]);
        lr_fg_def_free(def);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(bad[i]));
        reject(j, "at 'offlineStoreConfig.s3StorageConfig.s3Uri' failed to satisfy constraint: "
                  "Member must be s3://bucket[/prefix]");
    }
    /* Bucket names of 63 and 64 characters. */
    {
        char uri[128];
        char *b63 = repeat('b', 63), *b64 = repeat('b', 64);
        snprintf(uri, sizeof uri, "s3://%s/p", b63);
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(uri));
        accept(j);
        snprintf(uri, sizeof uri, "s3://%s/p", b64);
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(uri));
        reject(j, "Member must be s3://");
        free(b63);
        free(b64);
    }
    /* 1024 and 1025 characters. */
    {
        char *p = repeat('p', 1025);
        p[0] = '/';
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(p));
        reject(j, "Member must have length less than or equal to 1024");
        p[1024] = '\0';
        j = base();
        set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(p));
        accept(j);
        free(p);
    }
    j = base();
    set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", json_string(""));
    reject(j, "Member must have length greater than or equal to 1");
    j = base();
    set(j, "OfflineStoreConfig.S3StorageConfig.S3Uri", NULL);
    reject(j, "Value null at 'offlineStoreConfig.s3StorageConfig.s3Uri'");
    /* Larder extension: no S3StorageConfig at all (the catalog picks the root). */
    j = base();
    set(j, "OfflineStoreConfig.S3StorageConfig", NULL);
    def = expect_ok(j);
    assert_true(def->has_offline_config);
    assert_null(def->offline_s3_uri);
    lr_fg_def_free(def);
    /* A ResolvedOutputS3Uri in a request is accepted and ignored. */
    j = base();
    set(j, "OfflineStoreConfig.S3StorageConfig.ResolvedOutputS3Uri",
        json_string("s3://my-bucket/prefix/x/data"));
    def = expect_ok(j);
    assert_null(def->resolved_offline_uri);
    lr_fg_def_free(def);
    j = base();
    set(j, "OfflineStoreConfig.S3StorageConfig.KmsKeyId", json_string("has space"));
    reject(j, "'offlineStoreConfig.s3StorageConfig.kmsKeyId' failed to satisfy constraint");
}

static void test_offline_members(void **state)
{
    json_t *j;
    lr_fg_def *def;
    char *s255 = repeat('t', 255), *s256 = repeat('t', 256);
    (void)state;

    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s, s:s}", "TableName", s255, "Catalog", "c", "Database", "d"));
    accept(j);
    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s, s:s}", "TableName", s256, "Catalog", "c", "Database", "d"));
    reject(j, "at 'offlineStoreConfig.dataCatalogConfig.tableName' failed to satisfy constraint: "
              "Member must have length less than or equal to 255");
    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s, s:s}", "TableName", "t", "Catalog", "", "Database", "d"));
    reject(j, "'offlineStoreConfig.dataCatalogConfig.catalog' failed to satisfy constraint: "
              "Member must have length greater than or equal to 1");
    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s}", "TableName", "t", "Catalog", "c"));
    reject(j, "Value null at 'offlineStoreConfig.dataCatalogConfig.database'");
    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s, s:s}", "TableName", "t\nx", "Catalog", "c", "Database", "d"));
    reject(j, "Member must satisfy regular expression pattern: [\\u0020-");
    j = base();
    set(j, "OfflineStoreConfig.DataCatalogConfig",
        json_pack("{s:s, s:s, s:s}", "TableName", "t\tx", "Catalog", "c", "Database", "d"));
    accept(j);

    for (int i = 0; i < 3; i++) {
        static const char *fmts[] = {"Default", "Glue", "Iceberg"};
        j = base();
        set(j, "OfflineStoreConfig.TableFormat", json_string(fmts[i]));
        def = expect_ok(j);
        assert_string_equal(def->table_format, fmts[i]);
        lr_fg_def_free(def);
    }
    j = base();
    set(j, "OfflineStoreConfig.TableFormat", json_string("Hudi"));
    reject(j, "Member must satisfy enum value set: [Default, Glue, Iceberg]");
    j = base();
    set(j, "OfflineStoreConfig.DisableGlueTableCreation", json_integer(1));
    reject(j, "expected a boolean");
    j = base();
    set(j, "OfflineStoreConfig.Compaction", json_true());
    reject_exact(j, "Unknown member 'Compaction' at 'offlineStoreConfig'");
    free(s255);
    free(s256);
}

static void test_description_and_tags(void **state)
{
    json_t *j, *tags;
    lr_fg_def *def;
    char *d128 = repeat('d', 128), *d129 = repeat('d', 129);
    char *k128 = repeat('k', 128), *k129 = repeat('k', 129);
    char *v256 = repeat('v', 256), *v257 = repeat('v', 257);
    (void)state;

    j = base();
    set(j, "Description", json_string(d128));
    accept(j);
    j = base();
    set(j, "Description", json_string(d129));
    reject(j, "at 'description' failed to satisfy constraint: Member must have length less than "
              "or equal to 128");
    /* Length counts characters (UTF-16 units, as AWS does), not bytes. */
    {
        char desc[128 * 2 + 1];
        for (int i = 0; i < 128; i++)
            memcpy(desc + 2 * i, "\xc3\xa9", 2);
        desc[256] = '\0';
        j = base();
        set(j, "Description", json_string(desc));
        accept(j);
        char emoji[64 * 4 + 5];
        for (int i = 0; i < 64; i++)
            memcpy(emoji + 4 * i, "\xf0\x9f\x98\x80", 4);
        emoji[256] = '\0';
        j = base();
        set(j, "Description", json_string(emoji)); /* 64 * 2 = 128 units */
        accept(j);
        memcpy(emoji + 256, "\xf0\x9f\x98\x80", 5);
        j = base();
        set(j, "Description", json_string(emoji)); /* 130 units */
        reject(j, "less than or equal to 128");
    }
    j = base();
    set(j, "Description", json_string(""));
    def = expect_ok(j);
    assert_string_equal(def->description, "");
    lr_fg_def_free(def);

    for (int n = 50; n <= 51; n++) {
        j = base();
        tags = json_array();
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", i);
            json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", key, "Value", "v"));
        }
        set(j, "Tags", tags);
        if (n == 50) {
            def = expect_ok(j);
            assert_int_equal(def->n_tags, 50);
            assert_string_equal(def->tags[49].key, "k49");
            lr_fg_def_free(def);
        } else {
            reject(j, "Value '[51 items]' at 'tags' failed to satisfy constraint: Member must "
                      "have length less than or equal to 50");
        }
    }
    j = base();
    set(j, "Tags", json_array());
    def = expect_ok(j);
    assert_int_equal(def->n_tags, 0);
    lr_fg_def_free(def);

#define ONE_TAG(k, v) json_pack("[{s:s, s:s}]", "Key", (k), "Value", (v))
    j = base();
    set(j, "Tags", ONE_TAG(k128, v256));
    accept(j);
    j = base();
    set(j, "Tags", ONE_TAG(k129, "v"));
    reject(j, "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less "
              "than or equal to 128");
    j = base();
    set(j, "Tags", ONE_TAG("", "v"));
    reject(j, "at 'tags.1.member.key' failed to satisfy constraint: Member must have length "
              "greater than or equal to 1");
    j = base();
    set(j, "Tags", ONE_TAG("k", v257));
    reject(j, "at 'tags.1.member.value' failed to satisfy constraint: Member must have length "
              "less than or equal to 256");
    j = base();
    set(j, "Tags", ONE_TAG("k#1", "v"));
    reject(j, "at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular "
              "expression pattern");
    j = base();
    set(j, "Tags", ONE_TAG("Kost\xc3\xa9 _.:/=+-@ 9", "\xe6\x97\xa5\xe6\x9c\xac"));
    accept(j);
    j = base();
    set(j, "Tags", ONE_TAG("aws:createdBy", "me"));
    reject_exact(j, "The tag key 'aws:createdBy' at 'tags.1.member.key' starts with 'aws:', which "
                    "is reserved for AWS use.");
    j = base();
    set(j, "Tags", ONE_TAG("AWS:x", "me")); /* only the lower-case prefix is reserved */
    accept(j);
    j = base();
    set(j, "Tags",
        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1", "Key", "a", "Value", "2"));
    reject(j, "The tag key 'a' at 'tags.2.member.key' is already used by tags.1");
    j = base();
    set(j, "Tags",
        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "a", "Value", "1", "Key", "A", "Value", "2"));
    accept(j);
    j = base();
    set(j, "Tags", json_pack("[{s:s}]", "Key", "a"));
    reject(j, "Value null at 'tags.1.member.value'");
    j = base();
    set(j, "Tags", json_pack("[{s:s, s:s, s:s}]", "Key", "a", "Value", "b", "Color", "c"));
    reject(j, "Unknown member 'Color' at 'tags.1.member'");
    j = base();
    set(j, "Tags", json_pack("{s:s}", "Key", "a"));
    reject(j, "Invalid type at 'tags': expected an array, got an object");
#undef ONE_TAG
    free(d128);
    free(d129);
    free(k128);
    free(k129);
    free(v256);
    free(v257);
}

static void test_role_arn(void **state)
{
    static const char *good[] = {"arn:aws:iam::123456789012:role/SageMakerRole",
                                 "arn:aws-cn:iam::123456789012:role/a",
                                 "arn:aws-us-gov:iam::123456789012:role/path/to/r+=,.@-_",
                                 "arn:aws:iam::123456789012:role//"};
    static const char *bad[] = {
        "arn:aws:iam::12345678901:role/r",    "arn:aws:iam::123456789012:role",
        "arn:aws:iam::123456789012:user/r",   "arn:aws:sts::123456789012:role/r",
        "arn:aws:iam::123456789012:role/a b", "arn:AWS:iam::123456789012:role/r"};
    json_t *j;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        j = base();
        set(j, "RoleArn", json_string(good[i]));
        accept(j);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = base();
        set(j, "RoleArn", json_string(bad[i]));
        reject(j,
               "at 'roleArn' failed to satisfy constraint: Member must satisfy regular "
               "expression pattern: arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    }
    j = base();
    set(j, "RoleArn", json_string("arn:aws:iam::1:role"));
    reject(j, "Member must have length greater than or equal to 20");
    {
        char *arn = malloc(2100);
        strcpy(arn, "arn:aws:iam::123456789012:role/");
        size_t n = strlen(arn);
        memset(arn + n, 'r', 2048 - n);
        arn[2048] = '\0';
        j = base();
        set(j, "RoleArn", json_string(arn));
        accept(j);
        arn[2048] = 'r';
        arn[2049] = '\0';
        j = base();
        set(j, "RoleArn", json_string(arn));
        reject(j, "Member must have length less than or equal to 2048");
        free(arn);
    }
}

static void test_throughput(void **state)
{
    json_t *j;
    lr_fg_def *def;
    (void)state;
    j = base();
    set(j, "ThroughputConfig", json_pack("{s:s}", "ThroughputMode", "OnDemand"));
    def = expect_ok(j);
    assert_string_equal(def->throughput_mode, "OnDemand");
    assert_true(def->provisioned_read_units == -1 && def->provisioned_write_units == -1);
    lr_fg_def_free(def);
    j = base();
    set(j, "ThroughputConfig",
        json_pack("{s:s, s:i, s:i}", "ThroughputMode", "Provisioned",
                  "ProvisionedReadCapacityUnits", 1, "ProvisionedWriteCapacityUnits", 1));
    accept(j);
    j = base();
    set(j, "ThroughputConfig",
        json_pack("{s:s, s:i, s:i}", "ThroughputMode", "Provisioned",
                  "ProvisionedReadCapacityUnits", 0, "ProvisionedWriteCapacityUnits", 1));
    reject(j, "ThroughputConfig with ThroughputMode Provisioned requires "
              "ProvisionedReadCapacityUnits and ProvisionedWriteCapacityUnits of at least 1.");
    j = base();
    set(j, "ThroughputConfig",
        json_pack("{s:s, s:i}", "ThroughputMode", "Provisioned", "ProvisionedReadCapacityUnits",
                  5));
    reject(j, "of at least 1");
    j = base();
    set(j, "ThroughputConfig",
        json_pack("{s:s, s:i}", "ThroughputMode", "OnDemand", "ProvisionedWriteCapacityUnits", 5));
    reject(j, "apply only to ThroughputMode Provisioned, not OnDemand.");
    j = base();
    set(j, "ThroughputConfig",
        json_pack("{s:s, s:i}", "ThroughputMode", "Provisioned", "ProvisionedReadCapacityUnits",
                  -1));
    reject(j, "Value '-1' at 'throughputConfig.provisionedReadCapacityUnits' failed to satisfy "
              "constraint: Member must have value greater than or equal to 0");
    j = base();
    set(j, "ThroughputConfig", json_pack("{s:s}", "ThroughputMode", "Burst"));
    reject(j, "Member must satisfy enum value set: [OnDemand, Provisioned]");
    j = base();
    set(j, "ThroughputConfig", json_object());
    reject(j, "Value null at 'throughputConfig.throughputMode'");
}

static void test_json_level(void **state)
{
    lr_fg_def *def = NULL;
    lr_error err;
    json_t *j;
    (void)state;

    assert_int_equal(lr_fg_def_parse("{", 1, &def, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "Malformed JSON at line 1"));
    assert_int_equal(lr_fg_def_parse("", 0, &def, &err), LR_EINVAL);
    assert_int_equal(lr_fg_def_parse("[]", 2, &def, &err), LR_EINVAL);
    assert_string_equal(err.msg, "The feature-group definition must be a JSON object, not an "
                                 "array.");
    assert_int_equal(lr_fg_def_parse(NULL, 0, &def, &err), LR_EINVAL);
    {
        static const char dup[] = "{\"FeatureGroupName\":\"a\",\"FeatureGroupName\":\"b\"}";
        assert_int_equal(lr_fg_def_parse(dup, strlen(dup), &def, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "duplicate"));
    }
    {
        /* Trailing garbage after the object. */
        char s[sizeof BASE + 4];
        snprintf(s, sizeof s, "%s x", BASE);
        assert_int_equal(lr_fg_def_parse(s, strlen(s), &def, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "Malformed JSON"));
        /* The length bounds the input: the object alone parses. */
        assert_int_equal(lr_fg_def_parse(s, strlen(BASE), &def, &err), LR_OK);
        lr_fg_def_free(def);
        def = NULL;
    }
    {
        /* Over the size cap: refused before parsing. */
        size_t n = (size_t)LR_FG_JSON_MAX + 1;
        char *big = malloc(n);
        memset(big, ' ', n);
        memcpy(big, BASE, strlen(BASE));
        assert_int_equal(lr_fg_def_parse(big, n, &def, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "over the limit of 4194304"));
        /* At the cap it is parsed (trailing whitespace is allowed). */
        assert_int_equal(lr_fg_def_parse(big, n - 1, &def, &err), LR_OK);
        lr_fg_def_free(def);
        def = NULL;
        free(big);
    }
    /* JSON text with a NUL escape is refused by the JSON layer. */
    {
        static const char nul[] = "{\"FeatureGroupName\":\"a\\u0000b\"}";
        assert_int_equal(lr_fg_def_parse(nul, strlen(nul), &def, &err), LR_EINVAL);
    }
    j = base();
    set(j, "Foo", json_integer(1));
    reject_exact(j, "Unknown member 'Foo' in the CreateFeatureGroup request");
    j = base();
    set(j, "FeatureGroupArn",
        json_string("arn:aws:sagemaker:us-east-1:000000000000:"
                    "feature-group/orders"));
    reject(j, "Unknown member 'FeatureGroupArn'");
    j = base();
    set(j, "FeatureGroupName", json_integer(5));
    reject_exact(j, "Invalid type at 'featureGroupName': expected a string, got an integer");
    j = base();
    set(j, "Description", json_null());
    accept(j);

    /* Constraint violations are collected and counted. */
    j = base();
    set(j, "FeatureGroupName", json_string("x y"));
    set(j, "Description", json_string(""));
    set(j, "FeatureDefinitions.2.FeatureType", json_string("Text"));
    set(j, "RoleArn", json_string("arn:aws:iam::123456789012:role/ok-role"));
    reject(j, "2 validation errors detected: Value 'x y' at 'featureGroupName' failed to satisfy "
              "constraint: Member must satisfy regular expression pattern: "
              "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}; Value 'Text' at "
              "'featureDefinitions.3.member.featureType'");
    /* Many violations: the message stays one bounded line. */
    {
        lr_error e2;
        j = base();
        for (int i = 0; i < 200; i++)
            json_array_append_new(features(j), fd("bad name", "Nope"));
        assert_int_equal(parse_j(j, NULL, &e2), LR_EINVAL);
        assert_non_null(strstr(e2.msg, "400 validation errors detected: "));
        assert_true(strlen(e2.msg) < LR_ERROR_MSG_MAX);
    }
}

static void test_stored_form(void **state)
{
    lr_fg_def *def = NULL;
    lr_error err;
    json_t *j;
    char *s;
    (void)state;

    /* Assigned fields are validated too. */
    j = base();
    set(j, "FeatureGroupStatus", json_string("Ready"));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(lr_fg_def_parse_stored(s, strlen(s), &def, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "Member must satisfy enum value set: [Creating, Created, "
                                    "CreateFailed, Deleting, DeleteFailed]"));
    free(s);
    j = base();
    set(j, "FeatureGroupArn", json_string("arn:aws:s3:::bucket"));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(lr_fg_def_parse_stored(s, strlen(s), &def, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "at 'featureGroupArn' failed to satisfy constraint"));
    free(s);
    j = base();
    set(j, "CreationTimeUs", json_real(1.5));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(lr_fg_def_parse_stored(s, strlen(s), &def, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "Invalid type at 'creationTimeUs'"));
    free(s);
    j = base();
    set(j, "OfflineStoreStatus",
        json_pack("{s:s, s:s}", "Status", "Blocked", "BlockedReason", "quota"));
    set(j, "CreationTimeUs", json_integer(-5));
    set(j, "OfflineStoreConfig.S3StorageConfig",
        json_pack("{s:s}", "ResolvedOutputS3Uri", "/data/offline/x/data"));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(lr_fg_def_parse_stored(s, strlen(s), &def, &err), LR_OK);
    assert_int_equal(def->offline_status, LR_OFFLINE_BLOCKED);
    assert_true(def->creation_time_us == -5);
    assert_null(def->offline_s3_uri);
    assert_string_equal(def->resolved_offline_uri, "/data/offline/x/data");
    free(s);
    /* Stored round trip with only the resolved URI. */
    {
        lr_fg_def *back = NULL;
        s = to_json(def, LR_FG_JSON_STORED);
        assert_int_equal(lr_fg_def_parse_stored(s, strlen(s), &back, &err), LR_OK);
        assert_true(lr_fg_def_equal(def, back));
        lr_fg_def_free(back);
        free(s);
        /* The REQUEST form has no S3StorageConfig then, and still parses. */
        s = to_json(def, LR_FG_JSON_REQUEST);
        assert_non_null(strstr(s, "\"OfflineStoreConfig\":{}"));
        assert_int_equal(lr_fg_def_parse(s, strlen(s), &back, &err), LR_OK);
        lr_fg_def_free(back);
        free(s);
    }
    lr_fg_def_free(def);
}

/* ---- updates ----------------------------------------------------------- */

static char *additions(int n, const char *prefix)
{
    json_t *a = json_array();
    char *s;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        json_array_append_new(a, fd(name, "Integral"));
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static void test_add_features(void **state)
{
    lr_fg_def *def = expect_ok(base()), *nd = NULL, *big = NULL;
    lr_error err;
    char *s;
    (void)state;

    s = additions(100, "new");
    assert_int_equal(lr_fg_def_add_features(def, s, strlen(s), &nd, &err), LR_OK);
    free(s);
    assert_int_equal(nd->n_features, 103);
    assert_int_equal(def->n_features, 3); /* the original is unchanged */
    assert_int_equal(lr_fg_def_find_feature(nd, "new99", 5), 102);
    assert_int_equal(lr_fg_def_find_feature(nd, "amount", 6), 2);
    assert_int_equal(lr_fg_def_find_feature(def, "new0", 4), -1);
    assert_int_equal(nd->record_id_index, 0);
    assert_string_equal(nd->offline_s3_uri, def->offline_s3_uri);
    lr_fg_def_free(nd);
    nd = NULL;

    s = additions(101, "new");
    assert_int_equal(lr_fg_def_add_features(def, s, strlen(s), &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "Value '[101 items]' at 'featureAdditions' failed to satisfy "
                                    "constraint: Member must have length less than or equal to "
                                    "100"));
    free(s);
    assert_int_equal(lr_fg_def_add_features(def, "[]", 2, &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "greater than or equal to 1"));
    assert_int_equal(lr_fg_def_add_features(def, "{}", 2, &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "expected an array"));

    {
        static const char dup[] = "[{\"FeatureName\":\"x\",\"FeatureType\":\"String\"},"
                                  "{\"FeatureName\":\"AMOUNT\",\"FeatureType\":\"String\"}]";
        assert_int_equal(lr_fg_def_add_features(def, dup, strlen(dup), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "The feature name 'AMOUNT' at "
                                        "'featureAdditions.2.member.featureName' is already "
                                        "defined as 'amount'"));
        static const char dup2[] = "[{\"FeatureName\":\"x\",\"FeatureType\":\"String\"},"
                                   "{\"FeatureName\":\"X\",\"FeatureType\":\"String\"}]";
        assert_int_equal(lr_fg_def_add_features(def, dup2, strlen(dup2), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "already defined as 'x'"));
        static const char res[] = "[{\"FeatureName\":\"Is_Deleted\",\"FeatureType\":\"String\"}]";
        assert_int_equal(lr_fg_def_add_features(def, res, strlen(res), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "'featureAdditions.1.member.featureName' is reserved"));
        static const char badt[] = "[{\"FeatureName\":\"y\",\"FeatureType\":\"Bool\"}]";
        assert_int_equal(lr_fg_def_add_features(def, badt, strlen(badt), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "'featureAdditions.1.member.featureType'"));
        static const char coll[] = "[{\"FeatureName\":\"y\",\"FeatureType\":\"String\","
                                   "\"CollectionType\":\"List\"}]";
        assert_int_equal(lr_fg_def_add_features(def, coll, strlen(coll), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "'featureAdditions.1.member' has CollectionType List"));
        assert_null(nd);
    }

    /* Up to 2500 in all, and not one more. */
    {
        json_t *j = base();
        for (int i = 3; i < 2450; i++) {
            char name[16];
            snprintf(name, sizeof name, "f%d", i);
            json_array_append_new(features(j), fd(name, "Integral"));
        }
        big = expect_ok(j);
        s = additions(50, "g");
        assert_int_equal(lr_fg_def_add_features(big, s, strlen(s), &nd, &err), LR_OK);
        assert_int_equal(nd->n_features, 2500);
        lr_fg_def_free(nd);
        nd = NULL;
        free(s);
        s = additions(51, "g");
        assert_int_equal(lr_fg_def_add_features(big, s, strlen(s), &nd, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "Adding 51 features to feature group 'orders', which has "
                                        "2450, would exceed the limit of 2500"));
        free(s);
        lr_fg_def_free(big);
    }
    /* Collections can be added to an InMemory group. */
    {
        lr_fg_def *mem = expect_ok(in_memory(base()));
        static const char vec[] = "[{\"FeatureName\":\"v\",\"FeatureType\":\"Fractional\","
                                  "\"CollectionType\":\"Vector\",\"CollectionConfig\":"
                                  "{\"VectorConfig\":{\"Dimension\":3}}}]";
        assert_int_equal(lr_fg_def_add_features(mem, vec, strlen(vec), &nd, &err), LR_OK);
        assert_int_equal(nd->features[3].vector_dim, 3);
        lr_fg_def_free(nd);
        lr_fg_def_free(mem);
    }
    lr_fg_def_free(def);
}

static void test_set_ttl(void **state)
{
    lr_fg_def *off = expect_ok(base()), *on, *nd = NULL, *cleared = NULL;
    lr_error err;
    json_t *j = base();
    (void)state;

    set(j, "OnlineStoreConfig", json_pack("{s:b}", "EnableOnlineStore", 1));
    on = expect_ok(j);
    assert_int_equal(lr_fg_def_set_ttl(on, (lr_ttl){LR_TTL_HOURS, 12}, &nd, &err), LR_OK);
    assert_int_equal(nd->online_ttl.unit, LR_TTL_HOURS);
    assert_true(nd->online_ttl.value == 12);
    assert_int_equal(on->online_ttl.unit, LR_TTL_NONE);
    assert_int_equal(lr_fg_def_find_feature(nd, "amount", 6), 2);
    assert_int_equal(lr_fg_def_set_ttl(nd, (lr_ttl){LR_TTL_NONE, 5}, &cleared, &err), LR_OK);
    assert_int_equal(cleared->online_ttl.unit, LR_TTL_NONE);
    assert_true(cleared->online_ttl.value == 0);
    assert_true(lr_fg_def_equal(cleared, on));
    lr_fg_def_free(cleared);
    lr_fg_def_free(nd);
    nd = NULL;

    assert_int_equal(lr_fg_def_set_ttl(on, (lr_ttl){LR_TTL_DAYS, 0}, &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "greater than or equal to 1"));
    assert_int_equal(lr_fg_def_set_ttl(on, (lr_ttl){(lr_ttl_unit)9, 1}, &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "enum value set"));
    assert_int_equal(lr_fg_def_set_ttl(on, (lr_ttl){LR_TTL_SECONDS, INT64_MAX}, &nd, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "less than or equal to 9223372036854"));
    assert_int_equal(lr_fg_def_set_ttl(off, (lr_ttl){LR_TTL_DAYS, 1}, &nd, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "has no online store"));
    assert_null(nd);
    lr_fg_def_free(on);
    lr_fg_def_free(off);
}

/* ---- helpers of fg.h ---------------------------------------------------- */

static void ref_ok(const char *ref, const char *name)
{
    const char *n = NULL;
    size_t len = 0;
    assert_int_equal(lr_fg_name_from_ref(ref, strlen(ref), &n, &len, NULL), LR_OK);
    assert_int_equal(len, strlen(name));
    assert_memory_equal(n, name, len);
}

static void ref_bad(const char *ref, const char *part)
{
    const char *n = NULL;
    size_t len = 0;
    lr_error err;
    assert_int_equal(lr_fg_name_from_ref(ref, strlen(ref), &n, &len, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, part));
    assert_null(n);
}

static void test_name_from_ref(void **state)
{
    (void)state;
    ref_ok("orders", "orders");
    ref_ok("arn:aws:sagemaker:us-east-1:123456789012:feature-group/orders", "orders");
    ref_ok("arn:aws-cn:sagemaker:cn-north-1:123456789012:feature-group/My-FG_2", "My-FG_2");
    ref_ok("arn:aws:sagemaker::123456789012:feature-group/x", "x");
    ref_bad("arn:aws:sagemaker:us-east-1:12345678901:feature-group/orders",
            "Member must satisfy regular expression pattern: (arn:aws");
    ref_bad("arn:aws:sagemaker:us-east-1:123456789012:model/orders", "regular expression");
    ref_bad("arn:aws:sagemaker:us-east-1:123456789012:feature-group/", "regular expression");
    ref_bad("arn:aws:sagemaker:US-EAST-1:123456789012:feature-group/x", "regular expression");
    ref_bad("bad name", "Value 'bad name' at 'featureGroupName'");
    ref_bad("", "length greater than or equal to 1");
    {
        char *n64 = repeat('n', 64), *n65 = repeat('n', 65);
        char arn[200];
        ref_ok(n64, n64);
        ref_bad(n65, "regular expression");
        snprintf(arn, sizeof arn, "arn:aws:sagemaker:us-east-1:123456789012:feature-group/%s", n64);
        ref_ok(arn, n64);
        snprintf(arn, sizeof arn, "arn:aws:sagemaker:us-east-1:123456789012:feature-group/%s", n65);
        ref_bad(arn, "regular expression");
        free(n64);
        free(n65);
        char *long_ref = repeat('a', 257);
        ref_bad(long_ref, "length less than or equal to 256");
        free(long_ref);
    }
}

static void test_ttl_helpers(void **state)
{
    lr_ttl t;
    lr_error err;
    (void)state;
    assert_int_equal(lr_ttl_parse_short("30s", &t, &err), LR_OK);
    assert_true(t.unit == LR_TTL_SECONDS && t.value == 30);
    assert_int_equal(lr_ttl_parse_short("15m", &t, &err), LR_OK);
    assert_true(t.unit == LR_TTL_MINUTES && t.value == 15);
    assert_int_equal(lr_ttl_parse_short("12h", &t, &err), LR_OK);
    assert_true(t.unit == LR_TTL_HOURS && t.value == 12);
    assert_int_equal(lr_ttl_parse_short("7d", &t, &err), LR_OK);
    assert_true(t.unit == LR_TTL_DAYS && t.value == 7);
    assert_int_equal(lr_ttl_parse_short("2w", &t, &err), LR_OK);
    assert_true(t.unit == LR_TTL_WEEKS && t.value == 2);
    assert_int_equal(lr_ttl_parse_short("15250284w", &t, &err), LR_OK);
    assert_true(t.value == 15250284);
    assert_int_equal(lr_ttl_parse_short("15250285w", &t, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
    assert_int_equal(lr_ttl_parse_short("99999999999999999999s", &t, &err), LR_EINVAL);
    assert_int_equal(lr_ttl_parse_short("0d", &t, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "at least 1"));
    static const char *bad[] = {"",    "d",   "7",   "7x",   "7D", "-7d",
                                "+7d", " 7d", "7d ", "7.5h", "7dd"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        t.unit = LR_TTL_NONE;
        assert_int_equal(lr_ttl_parse_short(bad[i], &t, &err), LR_EINVAL);
        assert_int_equal(t.unit, LR_TTL_NONE);
    }
    assert_int_equal(lr_ttl_parse_short(NULL, &t, &err), LR_EINVAL);

    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_SECONDS, 30}) == 30000000LL);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_MINUTES, 2}) == 120000000LL);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_HOURS, 1}) == 3600000000LL);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_DAYS, 1}) == 86400000000LL);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_WEEKS, 15250284}) == 15250284LL * 604800000000LL);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_WEEKS, 15250285}) == INT64_MAX); /* saturates */
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_NONE, 5}) == 0);
    assert_true(lr_ttl_micros((lr_ttl){LR_TTL_DAYS, 0}) == 0);

    assert_string_equal(lr_ttl_unit_name(LR_TTL_SECONDS), "Seconds");
    assert_string_equal(lr_ttl_unit_name(LR_TTL_WEEKS), "Weeks");
    assert_null(lr_ttl_unit_name(LR_TTL_NONE));
    assert_int_equal(lr_ttl_unit_parse("Minutes"), LR_TTL_MINUTES);
    assert_int_equal(lr_ttl_unit_parse("minutes"), LR_TTL_NONE);
    assert_int_equal(lr_ttl_unit_parse(NULL), LR_TTL_NONE);
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(lr_feature_type_name(LR_FT_INTEGRAL), "Integral");
    assert_string_equal(lr_feature_type_name(LR_FT_FRACTIONAL), "Fractional");
    assert_string_equal(lr_feature_type_name(LR_FT_STRING), "String");
    assert_string_equal(lr_feature_type_name((lr_feature_type)0), "Unknown");
    assert_null(lr_collection_type_name(LR_COLL_NONE));
    assert_string_equal(lr_collection_type_name(LR_COLL_LIST), "List");
    assert_string_equal(lr_collection_type_name(LR_COLL_SET), "Set");
    assert_string_equal(lr_collection_type_name(LR_COLL_VECTOR), "Vector");
    assert_string_equal(lr_fg_status_name(LR_FG_CREATING), "Creating");
    assert_string_equal(lr_fg_status_name(LR_FG_CREATED), "Created");
    assert_string_equal(lr_fg_status_name(LR_FG_CREATE_FAILED), "CreateFailed");
    assert_string_equal(lr_fg_status_name(LR_FG_DELETING), "Deleting");
    assert_string_equal(lr_fg_status_name(LR_FG_DELETE_FAILED), "DeleteFailed");
    assert_string_equal(lr_fg_status_name((lr_fg_status)0), "Unknown");
    assert_string_equal(lr_offline_status_name(LR_OFFLINE_ACTIVE), "Active");
    assert_string_equal(lr_offline_status_name(LR_OFFLINE_BLOCKED), "Blocked");
    assert_string_equal(lr_offline_status_name(LR_OFFLINE_DISABLED), "Disabled");
}

static void test_clone_and_lookup(void **state)
{
    lr_fg_def *def = NULL, *c;
    lr_error err;
    (void)state;
    assert_int_equal(lr_fg_def_parse(FULL, strlen(FULL), &def, &err), LR_OK);
    c = lr_fg_def_clone(def);
    assert_non_null(c);
    assert_true(lr_fg_def_equal(def, c));
    assert_ptr_not_equal(c->features, def->features);
    assert_ptr_not_equal(c->features[0].name, def->features[0].name);
    assert_ptr_not_equal(c->tags[0].key, def->tags[0].key);
    assert_null(lr_fg_def_clone(NULL));
    assert_true(lr_fg_def_equal(NULL, NULL));
    assert_false(lr_fg_def_equal(def, NULL));

    /* Each field is compared. */
    c->features[2].vector_dim = 9;
    assert_false(lr_fg_def_equal(def, c));
    c->features[2].vector_dim = 0;
    c->online_ttl.value = 31;
    assert_false(lr_fg_def_equal(def, c));
    c->online_ttl.value = 30;
    c->provisioned_write_units = 6;
    assert_false(lr_fg_def_equal(def, c));
    c->provisioned_write_units = 5;
    c->tags[1].value = "x";
    assert_false(lr_fg_def_equal(def, c));
    c->tags[1].value = "";
    assert_true(lr_fg_def_equal(def, c));
    c->disable_glue_table_creation = false;
    assert_false(lr_fg_def_equal(def, c));
    c->disable_glue_table_creation = true;

    /* Lookup: exact, case-sensitive, length-bounded. */
    assert_int_equal(lr_fg_def_find_feature(c, "embedding", 9), 5);
    assert_int_equal(lr_fg_def_find_feature(c, "embeddingX", 9), 5);
    assert_int_equal(lr_fg_def_find_feature(c, "embed", 5), -1);
    assert_int_equal(lr_fg_def_find_feature(c, "Embedding", 9), -1);
    assert_int_equal(lr_fg_def_find_feature(c, "", 0), -1);
    assert_int_equal(lr_fg_def_find_feature(c, NULL, 0), -1);
    assert_int_equal(lr_fg_def_find_feature(NULL, "x", 1), -1);
    /* A definition built by hand, without an index, is searched linearly. */
    {
        lr_feature_def fs[2] = {{"a", LR_FT_STRING, LR_COLL_NONE, 0},
                                {"b", LR_FT_STRING, LR_COLL_NONE, 0}};
        lr_fg_def hand;
        memset(&hand, 0, sizeof hand);
        hand.features = fs;
        hand.n_features = 2;
        assert_int_equal(lr_fg_def_find_feature(&hand, "b", 1), 1);
        assert_int_equal(lr_fg_def_find_feature(&hand, "c", 1), -1);
    }
    lr_fg_def_free(c);
    lr_fg_def_free(def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),          cmocka_unit_test(test_full_round_trip),
        cmocka_unit_test(test_describe_form),    cmocka_unit_test(test_to_json_errors),
        cmocka_unit_test(test_group_name),       cmocka_unit_test(test_feature_names),
        cmocka_unit_test(test_definition_count), cmocka_unit_test(test_identifier_and_event_time),
        cmocka_unit_test(test_types_and_enums),  cmocka_unit_test(test_collections),
        cmocka_unit_test(test_store_configs),    cmocka_unit_test(test_s3uri),
        cmocka_unit_test(test_offline_members),  cmocka_unit_test(test_description_and_tags),
        cmocka_unit_test(test_role_arn),         cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_json_level),       cmocka_unit_test(test_stored_form),
        cmocka_unit_test(test_add_features),     cmocka_unit_test(test_set_ttl),
        cmocka_unit_test(test_name_from_ref),    cmocka_unit_test(test_ttl_helpers),
        cmocka_unit_test(test_enum_names),       cmocka_unit_test(test_clone_and_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
