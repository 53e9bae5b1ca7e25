/*
 * test_record.c - records checked against a definition (record.h):
 * presence of the identifier and event time, duplicates, value types,
 * lists vs scalars, Sets, Vectors, and the size limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/fg.h"
#include "larder/record.h"
#include "larder/value.h"

/* Features: 0 id Integral, 1 ts Fractional, 2 name String, 3 tags String Set,
 * 4 scores Integral List, 5 emb Fractional Vector(4), 6 ids Integral Set,
 * 7 ws Fractional Set, 8 price Fractional. */
static const char DEF[] =
    "{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"name\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"Set\"},"
    "{\"FeatureName\":\"scores\",\"FeatureType\":\"Integral\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"emb\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":4}}},"
    "{\"FeatureName\":\"ids\",\"FeatureType\":\"Integral\",\"CollectionType\":\"Set\"},"
    "{\"FeatureName\":\"ws\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Set\"},"
    "{\"FeatureName\":\"price\",\"FeatureType\":\"Fractional\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"}}";

static const char DEF_ISO[] = "{\"FeatureGroupName\":\"h\",\"RecordIdentifierFeatureName\":\"key\","
                              "\"EventTimeFeatureName\":\"at\",\"FeatureDefinitions\":["
                              "{\"FeatureName\":\"key\",\"FeatureType\":\"String\"},"
                              "{\"FeatureName\":\"at\",\"FeatureType\":\"String\"}],"
                              "\"OfflineStoreConfig\":{}}";

static lr_fg_def *def_of(const char *json)
{
    lr_fg_def *def = NULL;
    lr_error err;
    if (lr_fg_def_parse(json, strlen(json), &def, &err) != LR_OK)
        fail_msg("definition: %s", err.msg);
    return def;
}

static lr_str S(const char *s)
{
    lr_str r = {s, strlen(s)};
    return r;
}

static lr_feature_value scalar(uint32_t f, const char *s)
{
    lr_feature_value v;
    memset(&v, 0, sizeof v);
    v.feature = f;
    v.value = S(s);
    return v;
}

static lr_feature_value list(uint32_t f, const lr_str *items, uint32_t n)
{
    lr_feature_value v;
    memset(&v, 0, sizeof v);
    v.feature = f;
    v.is_list = true;
    v.items = items;
    v.n_items = n;
    return v;
}

static lr_status check(const lr_fg_def *def, lr_feature_value *vals, uint32_t n, lr_record *rec,
                       lr_error *err)
{
    rec->values = vals;
    rec->n_values = n;
    lr_error_clear(err);
    return lr_record_validate(def, rec, err);
}

static void expect_bad(const lr_fg_def *def, lr_feature_value *vals, uint32_t n, const char *part)
{
    lr_record rec;
    lr_error err;
    memset(&rec, 0, sizeof rec);
    assert_int_equal(check(def, vals, n, &rec, &err), LR_EINVAL);
    if (strstr(err.msg, part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, part);
}

static void test_valid_record(void **state)
{
    lr_fg_def *def = def_of(DEF);
    lr_str tags[] = {S("a"), S("b"), S("")};
    lr_str scores[] = {S("1"), S("1"), S("-3")}; /* Lists may repeat */
    lr_str emb[] = {S("0.1"), S("-2"), S("NaN"), S("1e3")};
    lr_feature_value v[] = {scalar(1, "1700000000.25"), scalar(0, "42"),    scalar(2, "Zo\xc3\xab"),
                            list(3, tags, 3),           list(4, scores, 3), list(5, emb, 4),
                            scalar(8, "Infinity")};
    lr_record rec;
    lr_error err;
    (void)state;
    memset(&rec, 0, sizeof rec);
    assert_int_equal(check(def, v, 7, &rec, &err), LR_OK);
    assert_int_equal(rec.record_id.len, 2);
    assert_memory_equal(rec.record_id.ptr, "42", 2);
    assert_true(rec.event_time_us == 1700000000250000LL);
    /* Only the identifier and event time are required; empty lists are fine. */
    {
        lr_feature_value w[] = {scalar(0, "-7"), scalar(1, "0"), list(4, NULL, 0),
                                list(3, NULL, 0)};
        assert_int_equal(check(def, w, 4, &rec, &err), LR_OK);
        assert_true(rec.event_time_us == 0);
    }
    lr_fg_def_free(def);
}

static void test_presence_and_duplicates(void **state)
{
    lr_fg_def *def = def_of(DEF);
    (void)state;
    {
        lr_feature_value v[] = {scalar(1, "1"), scalar(2, "x")};
        expect_bad(def, v, 2, "The record identifier feature 'id' is missing from the record");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(2, "x")};
        expect_bad(def, v, 2, "The event time feature 'ts' is missing from the record");
    }
    expect_bad(def, NULL, 0, "The record identifier feature 'id' is missing");
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(2, "x"), scalar(2, "y")};
        expect_bad(def, v, 4, "The feature 'name' appears more than once in the record");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(9, "x")};
        expect_bad(def, v, 3,
                   "Record value 3 refers to feature 9, but feature group 'g' defines "
                   "9 features");
    }
    {
        lr_record rec;
        lr_error err;
        memset(&rec, 0, sizeof rec);
        assert_int_equal(check(def, NULL, 2, &rec, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "no values array"));
    }
    lr_fg_def_free(def);
}

static void test_value_types(void **state)
{
    lr_fg_def *def = def_of(DEF);
    (void)state;
    {
        lr_feature_value v[] = {scalar(0, "12a"), scalar(1, "1")};
        expect_bad(def, v, 2, "Feature 'id': '12a' is not a valid Integral");
    }
    {
        lr_feature_value v[] = {scalar(0, "9223372036854775808"), scalar(1, "1")};
        expect_bad(def, v, 2,
                   "Feature 'id': '9223372036854775808' is not a valid Integral: out "
                   "of the signed 64-bit range");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(8, "1e309")};
        expect_bad(def, v, 3, "Feature 'price': '1e309' is not a valid Fractional");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(8, "nan")};
        expect_bad(def, v, 3, "Feature 'price'");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(2, "a\xed\xa0\x80")};
        expect_bad(def, v, 3,
                   "Feature 'name': the value is not a valid String: invalid UTF-8 "
                   "at byte 1");
    }
    /* Event time: Fractional epoch seconds, finite and in range. */
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "NaN")};
        expect_bad(def, v, 2, "Feature 'ts': 'NaN' is not a valid event time");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "253402300800")};
        expect_bad(def, v, 2, "Feature 'ts': '253402300800' is not a valid event time");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "2024-01-01T00:00:00Z")};
        expect_bad(def, v, 2, "Feature 'ts'");
    }
    lr_fg_def_free(def);

    /* ISO-8601 event times for a String event-time feature. */
    def = def_of(DEF_ISO);
    {
        lr_feature_value v[] = {scalar(0, "k"), scalar(1, "2024-02-29T12:00:00.5Z")};
        lr_record rec;
        lr_error err;
        assert_int_equal(check(def, v, 2, &rec, &err), LR_OK);
        assert_true(rec.event_time_us == 1709208000500000LL);
    }
    {
        lr_feature_value v[] = {scalar(0, "k"), scalar(1, "2023-02-29T12:00:00Z")};
        expect_bad(def, v, 2,
                   "Feature 'at': '2023-02-29T12:00:00Z' is not a valid event time: "
                   "the day does not exist in that month");
    }
    {
        lr_feature_value v[] = {scalar(0, "k"), scalar(1, "1700000000")};
        expect_bad(def, v, 2, "Feature 'at'");
    }
    lr_fg_def_free(def);
}

static void test_lists_and_scalars(void **state)
{
    lr_fg_def *def = def_of(DEF);
    lr_str one[] = {S("x")};
    (void)state;
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(2, one, 1)};
        expect_bad(def, v, 3,
                   "Feature 'name' is not a collection: give ValueAsString, not "
                   "ValueAsStringList");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(3, "x")};
        expect_bad(def, v, 3,
                   "Feature 'tags' is a Set collection: give ValueAsStringList, not "
                   "ValueAsString");
    }
    {
        lr_feature_value v[] = {list(0, one, 1), scalar(1, "1")};
        expect_bad(def, v, 2, "Feature 'id' is not a collection");
    }
    {
        lr_str bad[] = {S("1"), S("2"), S("x3")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(4, bad, 3)};
        expect_bad(def, v, 3, "Feature 'scores' item 3: 'x3' is not a valid Integral");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(4, NULL, 2)};
        expect_bad(def, v, 3, "Feature 'scores': the list has no items array");
    }
    lr_fg_def_free(def);
}

static void test_vectors(void **state)
{
    lr_fg_def *def = def_of(DEF);
    lr_str four[] = {S("1"), S("2.5"), S("-3e-2"), S("0")};
    lr_str bad[] = {S("1"), S("x"), S("3"), S("4")};
    lr_record rec;
    lr_error err;
    (void)state;
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(5, four, 4)};
        assert_int_equal(check(def, v, 3, &rec, &err), LR_OK);
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(5, four, 3)};
        expect_bad(def, v, 3, "Feature 'emb' is a Vector of dimension 4: got 3 values");
    }
    {
        lr_str five[] = {S("1"), S("2"), S("3"), S("4"), S("5")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(5, five, 5)};
        expect_bad(def, v, 3, "dimension 4: got 5 values");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(5, NULL, 0)};
        expect_bad(def, v, 3, "dimension 4: got 0 values");
    }
    {
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(5, bad, 4)};
        expect_bad(def, v, 3, "Feature 'emb' item 2: 'x' is not a valid Fractional");
    }
    lr_fg_def_free(def);
}

/* A Set of n distinct decimal strings "0".."n-1" (prefix p). */
static lr_str *numbers(uint32_t n, const char *p, char **store)
{
    lr_str *items = calloc(n, sizeof *items);
    char *buf = calloc(n, 24);
    for (uint32_t i = 0; i < n; i++) {
        char *s = buf + (size_t)i * 24;
        snprintf(s, 24, "%s%u", p, i);
        items[i] = S(s);
    }
    *store = buf;
    return items;
}

static void test_sets(void **state)
{
    lr_fg_def *def = def_of(DEF);
    lr_record rec;
    lr_error err;
    (void)state;
    {
        lr_str t[] = {S("a"), S("b"), S("a")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(3, t, 3)};
        expect_bad(def, v, 3,
                   "Feature 'tags' is a Set: the value 'a' (item 3) appears more than "
                   "once");
    }
    {
        lr_str t[] = {S("a"), S("A"), S("")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(3, t, 3)};
        assert_int_equal(check(def, v, 3, &rec, &err), LR_OK);
    }
    {
        lr_str t[] = {S(""), S("")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(3, t, 2)};
        expect_bad(def, v, 3, "the value '' (item 2) appears more than once");
    }
    /* Numeric Sets compare values, not spellings. */
    {
        lr_str t[] = {S("1"), S("2"), S("01")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(6, t, 3)};
        expect_bad(def, v, 3, "Feature 'ids' is a Set: the value '01' (item 3)");
    }
    {
        lr_str t[] = {S("0"), S("-0.0")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(7, t, 2)};
        expect_bad(def, v, 3, "Feature 'ws' is a Set: the value '-0.0' (item 2)");
    }
    {
        lr_str t[] = {S("1.0"), S("1e0")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(7, t, 2)};
        expect_bad(def, v, 3, "the value '1e0'");
    }
    {
        lr_str t[] = {S("NaN"), S("1"), S("-NaN")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(7, t, 3)};
        expect_bad(def, v, 3, "the value '-NaN' (item 3)");
    }
    {
        lr_str t[] = {S("Infinity"), S("-Infinity"), S("1.5"), S("NaN")};
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(7, t, 4)};
        assert_int_equal(check(def, v, 3, &rec, &err), LR_OK);
    }
    /* Large Sets (the sorted path): distinct, then one duplicate at the end. */
    for (int f = 3; f <= 7; f += 3) {
        char *store;
        uint32_t n = 1000;
        lr_str *items = numbers(n + 1, f == 3 ? "s" : "", &store);
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list((uint32_t)f, items, n)};
        assert_int_equal(check(def, v, 3, &rec, &err), LR_OK);
        items[n] = items[517];
        v[2].n_items = n + 1;
        expect_bad(def, v, 3,
                   f == 3 ? "the value 's517' (item 1001)" : "the value '517' (item 1001)");
        free(items);
        free(store);
    }
    {
        /* Numeric identity in the sorted path too: "0517" equals "517". */
        char *store;
        lr_str *items = numbers(101, "", &store);
        items[100] = S("0517");
        items[99] = S("+50"); /* duplicates item 51 ("50") */
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), list(6, items, 101)};
        expect_bad(def, v, 3, "the value '+50' (item 100)");
        free(items);
        free(store);
    }
    lr_fg_def_free(def);
}

static void test_limits(void **state)
{
    lr_fg_def *def = def_of(DEF_ISO);
    lr_record rec;
    lr_error err;
    char *big = malloc(LR_RECORD_MAX_BYTES + 2);
    const char *ts = "2024-01-01T00:00:00Z";
    (void)state;

    /* The identifier: 1 to 2048 bytes. */
    memset(big, 'k', LR_RECORD_ID_MAX_BYTES + 1);
    big[LR_RECORD_ID_MAX_BYTES] = '\0';
    {
        lr_feature_value v[] = {scalar(0, big), scalar(1, ts)};
        assert_int_equal(check(def, v, 2, &rec, &err), LR_OK);
        assert_int_equal(rec.record_id.len, LR_RECORD_ID_MAX_BYTES);
        big[LR_RECORD_ID_MAX_BYTES] = 'k';
        big[LR_RECORD_ID_MAX_BYTES + 1] = '\0';
        v[0] = scalar(0, big);
        expect_bad(def, v, 2, "The record identifier 'key' must be 1 to 2048 bytes long, not 2049");
        v[0] = scalar(0, "");
        expect_bad(def, v, 2, "must be 1 to 2048 bytes long, not 0");
    }
    lr_fg_def_free(def);

    /* The whole record: names and values up to 350 KiB. */
    def = def_of(DEF);
    {
        /* id(2)+"1"(1) + ts(2)+"1"(1) + name(4) + value = limit */
        size_t fixed = 2 + 1 + 2 + 1 + 4;
        size_t n = LR_RECORD_MAX_BYTES - fixed;
        memset(big, 'v', n + 1);
        big[n] = '\0';
        lr_feature_value v[] = {scalar(0, "1"), scalar(1, "1"), scalar(2, big)};
        assert_int_equal(check(def, v, 3, &rec, &err), LR_OK);
        big[n] = 'v';
        big[n + 1] = '\0';
        v[2] = scalar(2, big);
        expect_bad(def, v, 3, "The record is larger than the limit of 358400 bytes");
        /* List items count too; the check stops before parsing them. */
        lr_str items[3] = {{big, 200000}, {big, 200000}, {"zz", 2}};
        lr_feature_value w[] = {scalar(0, "1"), scalar(1, "1"), list(3, items, 3)};
        expect_bad(def, w, 3, "larger than the limit");
    }
    free(big);
    lr_fg_def_free(def);
}

static void test_value_validate_direct(void **state)
{
    lr_feature_def f = {"n", LR_FT_INTEGRAL, LR_COLL_NONE, 0};
    lr_feature_value v = scalar(0, "5");
    lr_error err;
    (void)state;
    assert_int_equal(lr_feature_value_validate(&f, &v, &err), LR_OK);
    v = scalar(0, "5.0");
    assert_int_equal(lr_feature_value_validate(&f, &v, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "Feature 'n': '5.0' is not a valid Integral"));
    f.type = LR_FT_FRACTIONAL;
    assert_int_equal(lr_feature_value_validate(&f, &v, &err), LR_OK);
    f.type = LR_FT_STRING;
    v = scalar(0, "");
    assert_int_equal(lr_feature_value_validate(&f, &v, &err), LR_OK);
    f.type = (lr_feature_type)0;
    assert_int_equal(lr_feature_value_validate(&f, &v, &err), LR_EINVAL);
    /* NULL error pointers are allowed. */
    f.type = LR_FT_INTEGRAL;
    v = scalar(0, "x");
    assert_int_equal(lr_feature_value_validate(&f, &v, NULL), LR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_record), cmocka_unit_test(test_presence_and_duplicates),
        cmocka_unit_test(test_value_types),  cmocka_unit_test(test_lists_and_scalars),
        cmocka_unit_test(test_vectors),      cmocka_unit_test(test_sets),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_value_validate_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
