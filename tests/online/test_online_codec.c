/*
 * test_online_codec.c - the stored-value format (online_codec.c): round
 * trips, the byte order of event times, the update merge and its TTL rules,
 * page tokens, and that no truncated or damaged value is ever trusted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "online/online_internal.h"
#include "online/online_testlib.h"

#define S 1000000LL

static const char DEF[] =
    "{\"FeatureGroupName\":\"g\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"a\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"l\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"}}";

static lr__online_env wall_env(void)
{
    lr__online_env e;
    memset(&e, 0, sizeof e);
    return e;
}

static void test_varint(void **state)
{
    uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
    (void)state;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t b[10];
        uint64_t out;
        size_t n = lr__varint_put(b, vals[i]), pos = 0;
        assert_true(n >= 1 && n <= 10);
        assert_true(lr__varint_get(b, n, &pos, UINT64_MAX, &out));
        assert_int_equal(pos, n);
        assert_true(out == vals[i]);
        pos = 0;
        assert_false(lr__varint_get(b, n - 1, &pos, UINT64_MAX, &out) && n > 1);
        pos = 0;
        if (vals[i] > 0)
            assert_false(lr__varint_get(b, n, &pos, vals[i] - 1, &out));
    }
}

static void test_header_order(void **state)
{
    int64_t times[] = {-62135596800000000LL, -1, 0, 1, 1704067200000000LL, INT64_MAX};
    (void)state;
    for (size_t i = 0; i < 6; i++) {
        for (size_t j = 0; j < 6; j++) {
            uint8_t a[LR__VALUE_HEADER + 1], b[LR__VALUE_HEADER + 1];
            int c;
            lr__value_encode_header_only(times[i], a);
            lr__value_encode_header_only(times[j], b);
            c = memcmp(a + 2, b + 2, 8);
            /* Byte order is numeric order: what the Redis script relies on. */
            assert_true((c < 0) == (times[i] < times[j]));
            assert_true((c == 0) == (times[i] == times[j]));
        }
    }
    {
        lr__value_header h = {LR__FLAG_DELETED, -5, 77}, g;
        uint8_t b[LR__VALUE_HEADER + 1] = {0};
        lr__value_header_write(b, &h);
        assert_int_equal(lr__value_header_read(b, sizeof b, &g, NULL), LR_OK);
        assert_int_equal(g.flags, LR__FLAG_DELETED);
        assert_int_equal(g.event_time_us, -5);
        assert_int_equal(g.expires_at_us, 77);
        b[0] = 2;
        assert_int_equal(lr__value_header_read(b, sizeof b, &g, NULL), LR_ECORRUPT);
        b[0] = 1;
        b[1] = 0x80;
        assert_int_equal(lr__value_header_read(b, sizeof b, &g, NULL), LR_ECORRUPT);
        assert_int_equal(lr__value_header_read(b, 5, &g, NULL), LR_ECORRUPT);
    }
    assert_int_equal(lr__expires_at(100, 0), 0);
    assert_int_equal(lr__expires_at(100, 5), 105);
    assert_int_equal(lr__expires_at(-5, 5), 1); /* never the "no TTL" value */
    assert_true(lr__expires_at(INT64_MAX - 1, 10) == INT64_MAX);
}

static const lr_record *sample(lr_test_rec *b, const lr_fg_def *def)
{
    const char *items[3] = {"x", "", "zz"};
    lr_test_rec_init(b, def);
    lr_test_rec_s(b, "id", "r1", 2);
    lr_test_rec_l(b, "l", 3, items);
    lr_test_rec_s(b, "ts", "2024-01-01T00:00:00Z", 20);
    lr_test_rec_s(b, "a", "alpha\0beta", 10);
    return lr_test_rec_done(b);
}

static void test_roundtrip_and_projection(void **state)
{
    lr_fg_def *def = lr_test_def(DEF);
    lr_test_rec b;
    lr_buf v;
    lr__rowbuf rb;
    lr_online_row row;
    lr__online_env env = wall_env();
    uint32_t proj[2] = {0, 3};
    size_t pos = 0;
    lr_str item, id;
    bool found;
    (void)state;

    lr_buf_init(&v, LR_ONLINE_VALUE_MAX);
    assert_int_equal(lr__value_encode_record(def, sample(&b, def), 0, &v, NULL), LR_OK);
    assert_int_equal((uint8_t)v.data[0], LR__VALUE_VERSION);
    assert_int_equal(lr__rowbuf_init(&rb), LR_OK);
    assert_int_equal(lr__rowbuf_add(&rb, 0, (uint8_t *)v.data, v.len, NULL, 0, &env, &row, NULL),
                     LR_OK);
    lr__rowbuf_finish(&rb, &row, 1);
    assert_true(row.found);
    assert_int_equal(row.n_fields, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(row.fields[i].feature, i); /* sorted by index */
    assert_int_equal(row.fields[0].len, 10);
    assert_memory_equal(row.fields[0].data, "alpha\0beta", 10);
    assert_true(row.fields[2].is_list);
    assert_int_equal(row.fields[2].n_items, 3);
    assert_true(lr_online_field_item(&row.fields[2], &pos, &item));
    assert_int_equal(item.len, 1);
    assert_true(lr_online_field_item(&row.fields[2], &pos, &item));
    assert_int_equal(item.len, 0);
    assert_true(lr_online_field_item(&row.fields[2], &pos, &item));
    assert_memory_equal(item.ptr, "zz", 2);
    assert_false(lr_online_field_item(&row.fields[2], &pos, &item));
    pos = 0;
    assert_false(lr_online_field_item(&row.fields[0], &pos, &item)); /* not a list */

    lr__rowbuf_reset(&rb);
    assert_int_equal(lr__rowbuf_add(&rb, 0, (uint8_t *)v.data, v.len, proj, 2, &env, &row, NULL),
                     LR_OK);
    lr__rowbuf_finish(&rb, &row, 1);
    assert_int_equal(row.n_fields, 2);
    assert_int_equal(row.fields[0].feature, 0);
    assert_int_equal(row.fields[1].feature, 3);
    assert_memory_equal(row.fields[1].data, "r1", 2);

    assert_int_equal(lr__value_find_scalar((uint8_t *)v.data, v.len, 3, &id, &found, NULL), LR_OK);
    assert_true(found);
    assert_memory_equal(id.ptr, "r1", 2);
    assert_int_equal(lr__value_find_scalar((uint8_t *)v.data, v.len, 2, &id, &found, NULL),
                     LR_ECORRUPT); /* a list is not a scalar */

    /* A tombstone: id and event time only, never returned. */
    lr_buf_clear(&v);
    assert_int_equal(
        lr__value_encode_tombstone(def, (lr_str){"r1", 2}, 5, (lr_str){"t", 1}, 0, &v, NULL),
        LR_OK);
    lr__rowbuf_reset(&rb);
    assert_int_equal(lr__rowbuf_add(&rb, 0, (uint8_t *)v.data, v.len, NULL, 0, &env, &row, NULL),
                     LR_OK);
    assert_false(row.found);
    assert_int_equal(lr__value_find_scalar((uint8_t *)v.data, v.len, 3, &id, &found, NULL), LR_OK);
    assert_true(found);
    assert_int_equal(lr__value_find_scalar((uint8_t *)v.data, v.len, 0, &id, &found, NULL), LR_OK);
    assert_false(found);
    lr__rowbuf_free(&rb);
    lr_buf_free(&v);
    lr_fg_def_free(def);
}

/* Every truncation and every single-byte change decodes or fails cleanly. */
static void test_damaged_values(void **state)
{
    lr_fg_def *def = lr_test_def(DEF);
    lr_test_rec b;
    lr_buf v;
    lr__rowbuf rb;
    lr__online_env env = wall_env();
    lr__update u;
    lr_buf out;
    (void)state;

    lr_buf_init(&v, LR_ONLINE_VALUE_MAX);
    lr_buf_init(&out, LR_ONLINE_VALUE_MAX);
    memset(&u, 0, sizeof u);
    u.def = def;
    assert_int_equal(lr__value_encode_record(def, sample(&b, def), 0, &v, NULL), LR_OK);
    assert_int_equal(lr__rowbuf_init(&rb), LR_OK);
    for (size_t n = 0; n < v.len; n++) {
        lr_online_row row;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, v.data, n);
        lr__rowbuf_reset(&rb);
        assert_int_equal(lr__rowbuf_add(&rb, 0, copy, n, NULL, 0, &env, &row, NULL), LR_ECORRUPT);
        assert_int_equal(lr__value_merge_update(copy, n, &u, 0, &out, NULL), LR_ECORRUPT);
        free(copy);
    }
    for (size_t i = 0; i < v.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            lr_online_row row;
            uint8_t *copy = malloc(v.len);
            lr_status st;
            memcpy(copy, v.data, v.len);
            copy[i] ^= (uint8_t)(1 << bit);
            lr__rowbuf_reset(&rb);
            st = lr__rowbuf_add(&rb, 0, copy, v.len, NULL, 0, &env, &row, NULL);
            assert_true(st == LR_OK || st == LR_ECORRUPT);
            if (st == LR_OK && row.found) {
                lr__rowbuf_finish(&rb, &row, 1);
                for (uint32_t k = 0; k < row.n_fields; k++) {
                    size_t pos = 0;
                    lr_str item;
                    while (lr_online_field_item(&row.fields[k], &pos, &item))
                        assert_true(item.ptr + item.len <= row.fields[k].data + row.fields[k].len);
                }
            }
            st = lr__value_merge_update(copy, v.len, &u, 0, &out, NULL);
            assert_true(st == LR_OK || st == LR_ECORRUPT || st == LR_ENOTFOUND ||
                        st == LR_ECONFLICT);
            free(copy);
        }
    }
    lr__rowbuf_free(&rb);
    lr_buf_free(&v);
    lr_buf_free(&out);
    lr_fg_def_free(def);
}

static void test_merge_update(void **state)
{
    lr_fg_def *def = lr_test_def(DEF);
    lr_test_rec b;
    lr_buf v, out;
    lr__update u;
    lr_feature_value vals[2];
    lr_str items[1] = {{"new", 3}};
    lr__value_header h;
    lr__rowbuf rb;
    lr_online_row row;
    lr__online_env env = wall_env();
    int64_t et = 1704067200 * S;
    (void)state;

    env.opts.clock = lr_test_clock; /* the merged record is read at et */
    env.opts.clock_ctx = &et;

    lr_buf_init(&v, LR_ONLINE_VALUE_MAX);
    lr_buf_init(&out, LR_ONLINE_VALUE_MAX);
    assert_int_equal(lr__value_encode_record(def, sample(&b, def), et + 100 * S, &v, NULL), LR_OK);
    memset(vals, 0, sizeof vals);
    vals[0].feature = 1;
    vals[0].value = (lr_str){"2024-01-01T00:00:10Z", 20};
    vals[1].feature = 2;
    vals[1].is_list = true;
    vals[1].items = items;
    vals[1].n_items = 1;
    memset(&u, 0, sizeof u);
    u.def = def;
    u.values = vals;
    u.n_values = 2;
    u.has_event_time = true;
    u.event_time_us = et + 10 * S;
    /* Keeps the record's TTL duration (100 s) from the new event time. */
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et, &out, NULL), LR_OK);
    assert_int_equal(lr__value_header_read((uint8_t *)out.data, out.len, &h, NULL), LR_OK);
    assert_int_equal(h.event_time_us, et + 10 * S);
    assert_int_equal(h.expires_at_us, et + 110 * S);
    assert_int_equal(lr__rowbuf_init(&rb), LR_OK);
    assert_int_equal(
        lr__rowbuf_add(&rb, 0, (uint8_t *)out.data, out.len, NULL, 0, &env, &row, NULL), LR_OK);
    lr__rowbuf_finish(&rb, &row, 1);
    assert_int_equal(row.n_fields, 4);
    assert_int_equal(row.fields[2].n_items, 1);
    assert_memory_equal(row.fields[2].data + 1, "new", 3);
    assert_memory_equal(row.fields[0].data, "alpha\0beta", 10);
    /* An explicit TTL wins; no event time keeps the old one. */
    u.has_event_time = false;
    u.ttl_us = 5 * S;
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et, &out, NULL), LR_OK);
    lr__value_header_read((uint8_t *)out.data, out.len, &h, NULL);
    assert_int_equal(h.event_time_us, et);
    assert_int_equal(h.expires_at_us, et + 5 * S);
    u.ttl_us = 0;
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et, &out, NULL), LR_OK);
    lr__value_header_read((uint8_t *)out.data, out.len, &h, NULL);
    assert_int_equal(h.expires_at_us, et + 100 * S);
    /* Rules. */
    u.has_event_time = true;
    u.event_time_us = et - 1;
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et, &out, NULL),
                     LR_ECONFLICT);
    u.event_time_us = et;
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et + 100 * S, &out, NULL),
                     LR_ENOTFOUND); /* expired */
    /* A record without TTL takes the group's when its event time moves. */
    assert_int_equal(lr__value_encode_record(def, sample(&b, def), 0, &v, NULL), LR_OK);
    u.event_time_us = et + S;
    u.group_ttl_us = 60 * S;
    assert_int_equal(lr__value_merge_update((uint8_t *)v.data, v.len, &u, et, &out, NULL), LR_OK);
    lr__value_header_read((uint8_t *)out.data, out.len, &h, NULL);
    assert_int_equal(h.expires_at_us, et + 61 * S);
    lr__rowbuf_free(&rb);
    lr_buf_free(&v);
    lr_buf_free(&out);
    lr_fg_def_free(def);
}

static void test_tokens(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    uint8_t in[100], out[100];
    size_t n;
    (void)state;
    for (size_t len = 1; len < 100; len++) {
        char *t;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(i * 37 + len);
        t = lr__token_encode(a, in, len);
        assert_non_null(t);
        assert_null(strpbrk(t, "+/="));
        assert_int_equal(lr__token_decode(t, out, sizeof out, &n, NULL), LR_OK);
        assert_int_equal(n, len);
        assert_memory_equal(in, out, len);
        assert_int_equal(lr__token_decode(t, out, len - 1, &n, NULL), LR_EINVAL);
    }
    assert_int_equal(lr__token_decode("", out, sizeof out, &n, NULL), LR_EINVAL);
    assert_int_equal(lr__token_decode("A", out, sizeof out, &n, NULL), LR_EINVAL);
    assert_int_equal(lr__token_decode("AB", out, sizeof out, &n, NULL), LR_EINVAL); /* bits left */
    assert_int_equal(lr__token_decode("AQ", out, sizeof out, &n, NULL), LR_OK);
    assert_int_equal(lr__token_decode("A+==", out, sizeof out, &n, NULL), LR_EINVAL);
    lr_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_header_order),
        cmocka_unit_test(test_roundtrip_and_projection),
        cmocka_unit_test(test_damaged_values),
        cmocka_unit_test(test_merge_update),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests_name("online codec", tests, NULL, NULL);
}
