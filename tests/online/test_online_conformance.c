/*
 * test_online_conformance.c - the online store's conformance suite: every
 * rule of include/larder/online.h, run against one backend. CMake builds
 * this file twice: LR_TEST_REDIS=0 runs it on LMDB in a temporary directory
 * (label unit), LR_TEST_REDIS=1 on a real redis-server that the suite starts
 * on a free loopback port and stops (label integration). A few tests at the
 * end exercise what only one backend has (map growth, reconnects, AUTH).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/online.h"
#include "larder/value.h"
#include "online/online_testlib.h"
#include "support/testutil.h"

#ifndef LR_TEST_REDIS
#define LR_TEST_REDIS 0
#endif

#define S 1000000LL /* microseconds per second */

static const char PEOPLE[] =
    "{\"FeatureGroupName\":\"people\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"name\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"age\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"score\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"}}";

static const char OTHER[] =
    "{\"FeatureGroupName\":\"other-group_2\",\"RecordIdentifierFeatureName\":\"k\","
    "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"t\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"v\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"k\",\"FeatureType\":\"Integral\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"}}";

static const char TTLG[] = "{\"FeatureGroupName\":\"ttlg\",\"RecordIdentifierFeatureName\":\"id\","
                           "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                           "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                           "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
                           "{\"FeatureName\":\"x\",\"FeatureType\":\"String\"}],"
                           "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,"
                           "\"TtlDuration\":{\"Unit\":\"Hours\",\"Value\":1}}}";

static lr_test_redis g_redis;
static bool g_have_redis;
static char g_uri[256];

typedef struct fx {
    char *dir;
    char uri[4096];
    lr_online_options opts;
    lr_online *s;
    lr_online_reader *r;
    int64_t now; /* the injected clock (0: wall clock) */
    int64_t t0;  /* event-time base */
    lr_fg_def *people, *other, *ttlg;
    char tsbuf[16][LR_TIME_STR_MAX];
    int tsi;
} fx;

/* ---- fixture ---- */

static int group_setup(void **state)
{
    (void)state;
    if (!LR_TEST_REDIS)
        return 0;
    g_have_redis = lr_test_redis_available() && lr_test_redis_start(&g_redis, NULL) == 0;
    if (!g_have_redis) {
        /* The suite fails rather than skips: a missing server is a broken setup. */
        fprintf(stderr, "cannot start redis-server (scripts/install-deps installs it)\n");
        return -1;
    }
    snprintf(g_uri, sizeof g_uri, "redis://127.0.0.1:%d", g_redis.port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_have_redis)
        lr_test_redis_stop(&g_redis);
    return 0;
}

static void open_store(fx *f)
{
    lr_error err;
    lr_error_clear(&err);
    if (lr_online_open(f->uri, &f->opts, &f->s, &err) != LR_OK)
        fail_msg("open %s: %s", f->uri, err.msg);
    if (lr_online_reader_open(f->s, &f->r, &err) != LR_OK)
        fail_msg("reader: %s", err.msg);
}

static void close_store(fx *f)
{
    lr_online_reader_close(f->r);
    lr_online_close(f->s);
    f->r = NULL;
    f->s = NULL;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    if (LR_TEST_REDIS) {
        if (!g_have_redis) {
            free(f);
            *state = NULL;
            return 0;
        }
        assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "FLUSHALL", NULL), 0);
        snprintf(f->uri, sizeof f->uri, "%s", g_uri);
        /* Event times near the server's real time, so that Redis's own
         * expiry (PEXPIREAT, by its clock) agrees with the injected one. */
        f->t0 = (lr_now_us() / S + 86400) * S;
    } else {
        f->dir = lr_test_tmpdir("larder-online");
        assert_non_null(f->dir);
        snprintf(f->uri, sizeof f->uri, "%s", f->dir);
        f->t0 = 1704067200LL * S; /* 2024-01-01T00:00:00Z */
    }
    lr_online_options_init(&f->opts);
    f->opts.clock = lr_test_clock;
    f->opts.clock_ctx = &f->now;
    f->opts.durability = LR_ONLINE_NOSYNC; /* the crash test covers sync */
    f->opts.lmdb_map_size = 256 * 1024;    /* small: every test grows the map */
    f->people = lr_test_def(PEOPLE);
    f->other = lr_test_def(OTHER);
    f->ttlg = lr_test_def(TTLG);
    open_store(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f == NULL)
        return 0;
    close_store(f);
    lr_fg_def_free(f->people);
    lr_fg_def_free(f->other);
    lr_fg_def_free(f->ttlg);
    if (f->dir) {
        lr_test_rmtree(f->dir);
        free(f->dir);
    }
    free(f);
    return 0;
}

#define NEED_BACKEND(state)                                                                        \
    do {                                                                                           \
        if (*(state) == NULL)                                                                      \
            fail_msg("the store could not be set up");                                             \
    } while (0)

/* ---- helpers ---- */

/* An ISO-8601 event time `sec` seconds after t0 (valid for a few calls). */
static const char *ts(fx *f, int64_t sec)
{
    char *b = f->tsbuf[f->tsi++ % 16];
    lr_time_format_iso8601(f->t0 + sec * S, b);
    return b;
}

typedef struct person {
    const char *id, *ts, *name, *age, *score;
    int ntags;
    const char *tags[4];
} person;

static lr_status put_person(fx *f, const person *p, const lr_ttl *ttl, bool *changed, lr_error *err)
{
    lr_test_rec b;
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "id", p->id, strlen(p->id));
    lr_test_rec_s(&b, "ts", p->ts, strlen(p->ts));
    if (p->name)
        lr_test_rec_s(&b, "name", p->name, strlen(p->name));
    if (p->age)
        lr_test_rec_s(&b, "age", p->age, strlen(p->age));
    if (p->score)
        lr_test_rec_s(&b, "score", p->score, strlen(p->score));
    if (p->ntags >= 0)
        lr_test_rec_l(&b, "tags", p->ntags, p->tags);
    return lr_online_put(f->s, f->people, lr_test_rec_done(&b), ttl, changed, err);
}

static bool put_simple(fx *f, const char *id, const char *when, const char *name)
{
    person p = {id, when, name, NULL, NULL, -1, {NULL}};
    bool changed = false;
    lr_error err;
    if (put_person(f, &p, NULL, &changed, &err) != LR_OK)
        fail_msg("put %s: %s", id, err.msg);
    return changed;
}

/* Gets `id` from people; returns the name (malloc'd) or NULL when not found. */
static char *get_name(fx *f, const char *id)
{
    lr_online_row row;
    lr_error err;
    if (lr_online_get(f->r, f->people, id, strlen(id), NULL, 0, &row, &err) != LR_OK)
        fail_msg("get %s: %s", id, err.msg);
    if (!row.found)
        return NULL;
    return lr_test_row_value(f->people, &row, "name", NULL);
}

static void assert_name(fx *f, const char *id, const char *want)
{
    char *got = get_name(f, id);
    if (want == NULL) {
        if (got)
            fail_msg("%s: expected no record, got name '%s'", id, got);
    } else {
        if (got == NULL)
            fail_msg("%s: expected name '%s', found nothing", id, want);
        assert_string_equal(got, want);
    }
    free(got);
}

static lr_status del(fx *f, const lr_fg_def *def, const char *id, const char *when, bool hard,
                     bool *changed, lr_error *err)
{
    int64_t us;
    assert_int_equal(lr_time_parse_iso8601(when, strlen(when), &us, NULL), LR_OK);
    return lr_online_delete(f->s, def, id, strlen(id), us, when, strlen(when), hard, changed, err);
}

/* Lists every page (page size `max`) into a newline-joined string. */
static char *list_all(fx *f, const lr_fg_def *def, bool include_deleted, uint32_t max, int *pages)
{
    lr_buf out;
    char *token = NULL;
    lr_error err;
    int n = 0;
    lr_buf_init(&out, 0);
    lr_buf_append(&out, "", 0);
    do {
        lr_online_list_query q = {include_deleted, max, token};
        lr_online_id_page page;
        if (lr_online_list(f->s, def, &q, &page, &err) != LR_OK)
            fail_msg("list: %s", err.msg);
        assert_true(page.n <= max);
        for (uint32_t i = 0; i < page.n; i++) {
            lr_buf_append(&out, page.ids[i].ptr, page.ids[i].len);
            lr_buf_append(&out, "\n", 1);
        }
        free(token);
        token = page.next_token ? strdup(page.next_token) : NULL;
        lr_online_id_page_free(&page);
        n++;
        assert_true(n < 100000);
    } while (token);
    if (pages)
        *pages = n;
    return lr_buf_detach(&out, NULL);
}

static lr_online_stats stats(fx *f, const char *group)
{
    lr_online_stats st;
    lr_error err;
    if (lr_online_group_stats(f->s, group, &st, &err) != LR_OK)
        fail_msg("stats: %s", err.msg);
    return st;
}

/* ---- the rules ---- */

static void test_put_get_roundtrip(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    person p = {"u1", ts(f, 0), "Ann", "42", "0.5", 3, {"a", "b", ""}};
    lr_online_row row;
    lr_error err;
    bool changed = false;
    char *v;
    uint32_t proj[2], nproj;
    lr_str names[2] = {{"tags", 4}, {"name", 4}};

    assert_int_equal(put_person(f, &p, NULL, &changed, &err), LR_OK);
    assert_true(changed);
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.n_fields, 6);
    assert_int_equal(row.event_time_us, f->t0);
    assert_int_equal(row.expires_at_us, 0);
    for (uint32_t i = 1; i < row.n_fields; i++)
        assert_true(row.fields[i].feature > row.fields[i - 1].feature);
    v = lr_test_row_value(f->people, &row, "id", NULL);
    assert_string_equal(v, "u1");
    free(v);
    v = lr_test_row_value(f->people, &row, "ts", NULL);
    assert_string_equal(v, p.ts);
    free(v);
    v = lr_test_row_value(f->people, &row, "age", NULL);
    assert_string_equal(v, "42");
    free(v);
    v = lr_test_row_value(f->people, &row, "score", NULL);
    assert_string_equal(v, "0.5");
    free(v);
    v = lr_test_row_list(f->people, &row, "tags");
    assert_string_equal(v, "a|b|");
    free(v);

    /* Projection. */
    assert_int_equal(lr_online_projection(f->people, names, 2, proj, &nproj, &err), LR_OK);
    assert_int_equal(nproj, 2);
    assert_true(proj[0] < proj[1]);
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, proj, nproj, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.n_fields, 2);
    v = lr_test_row_value(f->people, &row, "name", NULL);
    assert_string_equal(v, "Ann");
    free(v);
    names[0].ptr = "nope";
    assert_int_equal(lr_online_projection(f->people, names, 2, proj, &nproj, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "nope"));
    proj[0] = 5;
    proj[1] = 2;
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, proj, 2, &row, &err), LR_EINVAL);

    /* Misses and bad ids. */
    assert_int_equal(lr_online_get(f->r, f->people, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);
    assert_int_equal(lr_online_get(f->r, f->other, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);
    assert_int_equal(lr_online_get(f->r, f->people, "", 0, NULL, 0, &row, &err), LR_EINVAL);
    assert_string_equal(lr_online_backend(f->s), LR_TEST_REDIS ? "redis" : "lmdb");
}

static void test_event_time_rules(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    person p = {"u1", ts(f, 20), "D", NULL, NULL, -1, {NULL}};
    lr_online_row row;
    lr_error err;
    bool changed = true;

    assert_true(put_simple(f, "u1", ts(f, 10), "A"));
    assert_false(put_simple(f, "u1", ts(f, 5), "B")); /* older: no change */
    assert_name(f, "u1", "A");
    assert_true(put_simple(f, "u1", ts(f, 10), "C")); /* equal: the newer write wins */
    assert_name(f, "u1", "C");
    /* A put replaces the whole record: features it omits are gone. */
    p.age = NULL;
    {
        person q = {"u1", ts(f, 15), "E", "7", NULL, 1, {"x"}};
        assert_int_equal(put_person(f, &q, NULL, &changed, &err), LR_OK);
        assert_true(changed);
    }
    assert_int_equal(put_person(f, &p, NULL, &changed, &err), LR_OK);
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.n_fields, 3);
    assert_null(lr_test_row_value(f->people, &row, "age", NULL));
    assert_null(lr_test_row_list(f->people, &row, "tags"));
    assert_int_equal(row.event_time_us, f->t0 + 20 * S);
    /* Fractional event times too. */
    {
        lr_test_rec b;
        lr_test_rec_init(&b, f->other);
        lr_test_rec_s(&b, "k", "7", 1);
        lr_test_rec_s(&b, "t", "1700000000.25", 13);
        lr_test_rec_s(&b, "v", "first", 5);
        assert_int_equal(lr_online_put(f->s, f->other, lr_test_rec_done(&b), NULL, &changed, &err),
                         LR_OK);
        assert_true(changed);
        lr_test_rec_init(&b, f->other);
        lr_test_rec_s(&b, "k", "7", 1);
        lr_test_rec_s(&b, "t", "1700000000.125", 14);
        lr_test_rec_s(&b, "v", "older", 5);
        assert_int_equal(lr_online_put(f->s, f->other, lr_test_rec_done(&b), NULL, &changed, &err),
                         LR_OK);
        assert_false(changed);
        assert_int_equal(lr_online_get(f->r, f->other, "7", 1, NULL, 0, &row, &err), LR_OK);
        assert_true(row.found);
        assert_int_equal(row.event_time_us, 1700000000250000LL);
    }
}

static void test_soft_delete(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_error err;
    bool changed = true;
    char *ids;
    lr_test_rec b;
    lr_online_row row;

    assert_true(put_simple(f, "u1", ts(f, 10), "A"));
    assert_true(put_simple(f, "u2", ts(f, 10), "B"));
    assert_int_equal(del(f, f->people, "u1", ts(f, 5), false, &changed, &err), LR_OK);
    assert_false(changed);
    assert_int_equal(del(f, f->people, "u1", ts(f, 10), false, &changed, &err), LR_OK);
    assert_false(changed); /* not newer: nothing changes */
    assert_name(f, "u1", "A");
    assert_int_equal(del(f, f->people, "u1", ts(f, 11), false, &changed, &err), LR_OK);
    assert_true(changed);
    assert_name(f, "u1", NULL);
    ids = list_all(f, f->people, false, 100, NULL);
    assert_string_equal(ids, "u2\n");
    free(ids);
    ids = list_all(f, f->people, true, 100, NULL);
    assert_string_equal(ids, "u1\nu2\n");
    free(ids);
    /* Updating a soft-deleted record: not found. */
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "name", "Z", 1);
    assert_int_equal(lr_online_update(f->s, f->people, "u1", 2, b.vals, b.nv, NULL, &err),
                     LR_ENOTFOUND);
    /* The tombstone keeps its event time: older puts stay out. */
    assert_false(put_simple(f, "u1", ts(f, 10), "old"));
    assert_name(f, "u1", NULL);
    /* Equal event time: the put wins over the tombstone. */
    assert_true(put_simple(f, "u1", ts(f, 11), "back"));
    assert_name(f, "u1", "back");
    /* A soft delete of a record that does not exist changes nothing. */
    assert_int_equal(del(f, f->people, "ghost", ts(f, 50), false, &changed, &err), LR_OK);
    assert_false(changed);
    ids = list_all(f, f->people, true, 100, NULL);
    assert_string_equal(ids, "u1\nu2\n");
    free(ids);
    /* A tombstone of a soft-deleted record moves forward. */
    assert_int_equal(del(f, f->people, "u2", ts(f, 20), false, &changed, &err), LR_OK);
    assert_true(changed);
    assert_int_equal(del(f, f->people, "u2", ts(f, 30), false, &changed, &err), LR_OK);
    assert_true(changed);
    assert_false(put_simple(f, "u2", ts(f, 25), "x"));
    assert_int_equal(lr_online_get(f->r, f->people, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);
    /* A soft delete without the event time's text formats it. */
    assert_int_equal(
        lr_online_delete(f->s, f->people, "u1", 2, f->t0 + 40 * S, NULL, 0, false, &changed, &err),
        LR_OK);
    assert_true(changed);
    assert_name(f, "u1", NULL);
}

static void test_hard_delete(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_error err;
    bool changed = true;
    char *ids;

    assert_true(put_simple(f, "u1", ts(f, 10), "A"));
    assert_int_equal(del(f, f->people, "u1", ts(f, 10), true, &changed, &err), LR_EINVAL);
    assert_false(changed);
    assert_non_null(strstr(err.msg, "newer"));
    assert_int_equal(del(f, f->people, "u1", ts(f, 9), true, &changed, &err), LR_EINVAL);
    assert_name(f, "u1", "A");
    assert_int_equal(del(f, f->people, "u1", ts(f, 11), true, &changed, &err), LR_OK);
    assert_true(changed);
    assert_name(f, "u1", NULL);
    ids = list_all(f, f->people, true, 100, NULL);
    assert_string_equal(ids, "");
    free(ids);
    /* Removed means absent: any event time may be put again. */
    assert_true(put_simple(f, "u1", ts(f, 1), "again"));
    assert_name(f, "u1", "again");
    /* A hard delete of nothing is not an error. */
    assert_int_equal(del(f, f->people, "nobody", ts(f, 1), true, &changed, &err), LR_OK);
    assert_false(changed);
    /* A hard delete removes a soft-deleted record too. */
    assert_int_equal(del(f, f->people, "u1", ts(f, 2), false, &changed, &err), LR_OK);
    assert_true(changed);
    assert_int_equal(del(f, f->people, "u1", ts(f, 2), true, &changed, &err), LR_EINVAL);
    assert_int_equal(del(f, f->people, "u1", ts(f, 3), true, &changed, &err), LR_OK);
    assert_true(changed);
    ids = list_all(f, f->people, true, 100, NULL);
    assert_string_equal(ids, "");
    free(ids);
}

static lr_status update(fx *f, const char *id, lr_test_rec *b, const lr_ttl *ttl, lr_error *err)
{
    for (uint32_t i = 0; i < b->nv; i++)
        assert_int_equal(
            lr_feature_value_validate(&f->people->features[b->vals[i].feature], &b->vals[i], NULL),
            LR_OK);
    return lr_online_update(f->s, f->people, id, strlen(id), b->vals, b->nv, ttl, err);
}

static void test_update(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    person p = {"u1", ts(f, 10), "A", "1", NULL, 1, {"x"}};
    const char *pq[2] = {"p", "q"};
    lr_test_rec b;
    lr_online_row row;
    lr_error err;
    bool changed;
    char *v;

    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "name", "B", 1);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_ENOTFOUND);
    assert_int_equal(put_person(f, &p, NULL, &changed, &err), LR_OK);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_OK);
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.event_time_us, f->t0 + 10 * S);
    v = lr_test_row_value(f->people, &row, "name", NULL);
    assert_string_equal(v, "B");
    free(v);
    v = lr_test_row_value(f->people, &row, "age", NULL);
    assert_string_equal(v, "1");
    free(v);
    v = lr_test_row_list(f->people, &row, "tags");
    assert_string_equal(v, "x");
    free(v);
    /* Older event time: conflict; nothing changes. */
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "ts", ts(f, 5), strlen(ts(f, 5)));
    lr_test_rec_s(&b, "name", "no", 2);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_ECONFLICT);
    assert_name(f, "u1", "B");
    /* Newer event time moves it; lists are replaced whole. */
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "age", "2", 1);
    lr_test_rec_s(&b, "ts", ts(f, 12), strlen(ts(f, 12)));
    lr_test_rec_l(&b, "tags", 2, pq);
    lr_test_rec_s(&b, "score", "-1e300", 6);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_OK);
    assert_int_equal(lr_online_get(f->r, f->people, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_int_equal(row.event_time_us, f->t0 + 12 * S);
    assert_int_equal(row.n_fields, 6);
    v = lr_test_row_value(f->people, &row, "age", NULL);
    assert_string_equal(v, "2");
    free(v);
    v = lr_test_row_list(f->people, &row, "tags");
    assert_string_equal(v, "p|q");
    free(v);
    v = lr_test_row_value(f->people, &row, "name", NULL);
    assert_string_equal(v, "B");
    free(v);
    /* Equal event time is fine. */
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "ts", ts(f, 12), strlen(ts(f, 12)));
    lr_test_rec_s(&b, "id", "u1", 2);
    lr_test_rec_s(&b, "name", "C", 1);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_OK);
    assert_name(f, "u1", "C");
    /* The identifier cannot change; a feature cannot appear twice. */
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "id", "u9", 2);
    assert_int_equal(update(f, "u1", &b, NULL, &err), LR_EINVAL);
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "name", "a", 1);
    lr_test_rec_s(&b, "name", "b", 1);
    assert_int_equal(lr_online_update(f->s, f->people, "u1", 2, b.vals, b.nv, NULL, &err),
                     LR_EINVAL);
    assert_int_equal(lr_online_update(f->s, f->people, "u1", 2, b.vals, 0, NULL, &err), LR_EINVAL);
    assert_name(f, "u1", "C");
}

static void test_ttl(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_ttl ten_min = {LR_TTL_MINUTES, 10};
    lr_online_row row;
    lr_error err;
    bool changed;
    char *ids;
    lr_test_rec b;
    lr_online_stats st;

#define PUT_TTLG(id, when, xval, ttl)                                                              \
    do {                                                                                           \
        lr_test_rec_init(&b, f->ttlg);                                                             \
        lr_test_rec_s(&b, "id", id, strlen(id));                                                   \
        lr_test_rec_s(&b, "ts", when, strlen(when));                                               \
        lr_test_rec_s(&b, "x", xval, strlen(xval));                                                \
        assert_int_equal(lr_online_put(f->s, f->ttlg, lr_test_rec_done(&b), ttl, &changed, &err),  \
                         LR_OK);                                                                   \
    } while (0)

    PUT_TTLG("u1", ts(f, 0), "group ttl", NULL);
    PUT_TTLG("u2", ts(f, 0), "record ttl", &ten_min);
    f->now = f->t0 + 30 * 60 * S;
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.expires_at_us, f->t0 + 3600 * S);
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found); /* 10 minutes are over */
    f->now = f->t0 + 5 * 60 * S;
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.expires_at_us, f->t0 + 600 * S);
    /* The instant of expiry already counts as expired. */
    f->now = f->t0 + 600 * S;
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);
    ids = list_all(f, f->ttlg, true, 10, NULL);
    assert_string_equal(ids, "u1\n");
    free(ids);
    /* An expired record counts as absent: an older put is accepted, and
     * update and deletes find nothing. */
    lr_test_rec_init(&b, f->ttlg);
    lr_test_rec_s(&b, "x", "upd", 3);
    assert_int_equal(lr_online_update(f->s, f->ttlg, "u2", 2, b.vals, b.nv, NULL, &err),
                     LR_ENOTFOUND);
    assert_int_equal(del(f, f->ttlg, "u2", ts(f, 100), true, &changed, &err), LR_OK);
    assert_false(changed);
    PUT_TTLG("u2", ts(f, -100), "older", NULL);
    assert_true(changed);
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.expires_at_us, f->t0 + 3500 * S); /* group TTL from its event time */
    /* Update keeps the record's TTL duration when it moves the event time. */
    lr_test_rec_init(&b, f->ttlg);
    lr_test_rec_s(&b, "ts", ts(f, 0), strlen(ts(f, 0)));
    assert_int_equal(lr_online_update(f->s, f->ttlg, "u2", 2, b.vals, b.nv, NULL, &err), LR_OK);
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_int_equal(row.expires_at_us, f->t0 + 3600 * S);
    /* ... and an update's own TTL replaces it. */
    lr_test_rec_init(&b, f->ttlg);
    lr_test_rec_s(&b, "x", "short", 5);
    assert_int_equal(lr_online_update(f->s, f->ttlg, "u2", 2, b.vals, b.nv, &ten_min, &err), LR_OK);
    f->now = f->t0 + 60 * S;
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u2", 2, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    assert_int_equal(row.expires_at_us, f->t0 + 600 * S);
    /* A record TTL overrides a group without one, too. */
    {
        person p = {"t1", ts(f, 0), "ttl", NULL, NULL, -1, {NULL}};
        lr_ttl one_week = {LR_TTL_WEEKS, 1};
        assert_int_equal(put_person(f, &p, &one_week, &changed, &err), LR_OK);
        assert_int_equal(lr_online_get(f->r, f->people, "t1", 2, NULL, 0, &row, &err), LR_OK);
        assert_int_equal(row.expires_at_us, f->t0 + 7 * 86400 * S);
    }
    /* Two hours later everything in ttlg has expired. */
    f->now = f->t0 + 2 * 3600 * S;
    assert_int_equal(lr_online_get(f->r, f->ttlg, "u1", 2, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);
    ids = list_all(f, f->ttlg, true, 10, NULL);
    assert_string_equal(ids, "");
    free(ids);
    assert_int_equal(del(f, f->ttlg, "u1", ts(f, 9999), false, &changed, &err), LR_OK);
    assert_false(changed);

    if (!LR_TEST_REDIS) {
        uint64_t removed = 0;
        st = stats(f, "ttlg");
        assert_int_equal(st.records, 2); /* until swept */
        assert_int_equal(lr_online_sweep(f->s, 0, &removed, &err), LR_OK);
        assert_int_equal(removed, 2);
        st = stats(f, "ttlg");
        assert_int_equal(st.records, 0);
        assert_int_equal(st.bytes, 0);
        assert_int_equal(stats(f, "people").records, 1); /* t1 expires next week */
        /* The sweeper thread does the same in the background. */
        PUT_TTLG("s1", ts(f, 0), "swept", NULL);
        assert_int_equal(stats(f, "ttlg").records, 1);
        assert_int_equal(lr_online_sweeper_start(f->s, 1, &err), LR_OK);
        for (int i = 0; i < 20000 && stats(f, "ttlg").records != 0; i++) {
            struct timespec t = {0, 1000000};
            nanosleep(&t, NULL);
        }
        assert_int_equal(stats(f, "ttlg").records, 0);
        lr_online_sweeper_stop(f->s);
        lr_online_sweeper_stop(f->s);
    } else {
        /* Redis holds the expiry itself (PEXPIREAT, in ms, rounded up). */
        char key[64];
        uint64_t removed = 0;
        snprintf(key, sizeof key, "lr:{ttlg}:r:u1");
        assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "PEXPIRETIME", key, NULL),
                         (f->t0 + 3600 * S) / 1000);
        /* A record whose expiry has passed by the server's clock is gone at
         * once; the sweeper then fixes the counters and the id index. */
        f->now = 0;
        f->t0 = (lr_now_us() / S - 7200) * S;
        PUT_TTLG("gone", ts(f, 0), "expired already", NULL);
        assert_true(changed);
        assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "EXISTS", "lr:{ttlg}:r:gone", NULL),
                         0);
        st = stats(f, "ttlg"); /* stats reaps first */
        assert_int_equal(lr_online_sweep(f->s, 0, &removed, &err), LR_OK);
        assert_int_equal(
            lr_test_redis_cmd(&g_redis, NULL, 0, "ZSCORE", "lr:{ttlg}:ids", "gone", NULL), -1);
        assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "HLEN", "lr:{ttlg}:ttl", NULL),
                         2); /* u1 and u2 are still there by the server's clock */
        assert_int_equal(st.records, 2);
    }
#undef PUT_TTLG
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_pagination(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    char *ids[250], *all;
    lr_buf want;
    lr_error err;
    bool changed;
    int pages;

    for (int i = 0; i < 250; i++) {
        char id[16];
        int k = (i * 97) % 250; /* insert out of order */
        snprintf(id, sizeof id, "id%04d", k);
        ids[i] = strdup(id);
        put_simple(f, id, ts(f, 1), "n");
    }
    qsort(ids, 250, sizeof *ids, cmp_str);
    for (int i = 0; i < 250; i += 25)
        assert_int_equal(del(f, f->people, ids[i], ts(f, 2), false, &changed, &err), LR_OK);
    lr_buf_init(&want, 0);
    for (int i = 0; i < 250; i++) {
        if (i % 25) {
            lr_buf_append_str(&want, ids[i]);
            lr_buf_append(&want, "\n", 1);
        }
    }
    all = list_all(f, f->people, false, 7, &pages);
    assert_string_equal(all, want.data);
    assert_true(pages >= 240 / 7);
    free(all);
    lr_buf_clear(&want);
    for (int i = 0; i < 250; i++) {
        lr_buf_append_str(&want, ids[i]);
        lr_buf_append(&want, "\n", 1);
    }
    all = list_all(f, f->people, true, 100, &pages);
    assert_string_equal(all, want.data);
    assert_int_equal(pages, 3);
    free(all);
    all = list_all(f, f->people, true, 1000, &pages);
    assert_string_equal(all, want.data);
    assert_int_equal(pages, 1);
    free(all);

    /* A token resumes after its position under concurrent writes: an id
     * added before it is not returned, one added after it is, nothing is
     * returned twice. */
    {
        lr_online_list_query q = {false, 10, NULL};
        lr_online_id_page page;
        char *tok;
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_OK);
        assert_int_equal(page.n, 10);
        assert_non_null(page.next_token);
        tok = strdup(page.next_token);
        lr_online_id_page_free(&page);
        lr_online_id_page_free(&page); /* idempotent */
        put_simple(f, "id0000a", ts(f, 1), "before");
        put_simple(f, "zzz", ts(f, 1), "after");
        {
            int count = 0;
            bool saw_after = false;
            char *t = tok;
            while (t) {
                lr_online_list_query q2 = {false, 50, t};
                assert_int_equal(lr_online_list(f->s, f->people, &q2, &page, &err), LR_OK);
                for (uint32_t i = 0; i < page.n; i++) {
                    assert_string_not_equal(page.ids[i].ptr, "id0000a");
                    if (strcmp(page.ids[i].ptr, "zzz") == 0)
                        saw_after = true;
                    count++;
                }
                free(t);
                t = page.next_token ? strdup(page.next_token) : NULL;
                lr_online_id_page_free(&page);
            }
            assert_true(saw_after);
            assert_int_equal(count, 240 - 10 + 1);
        }
    }

    /* Bad queries. */
    {
        lr_online_list_query q = {false, 1001, NULL};
        lr_online_id_page page;
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_EINVAL);
        q.max_results = 5;
        q.next_token = "!!notatoken";
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_EINVAL);
        assert_string_equal(err.msg, "Invalid pagination token");
        q.next_token = "AAAA"; /* decodes, but not a token of ours */
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_EINVAL);
        q.next_token = "AQ"; /* version byte alone */
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_EINVAL);
        q.next_token = "";
        assert_int_equal(lr_online_list(f->s, f->people, &q, &page, &err), LR_OK);
        assert_int_equal(page.n, 5);
        lr_online_id_page_free(&page);
        /* An empty group lists nothing. */
        assert_int_equal(lr_online_list(f->s, f->ttlg, &q, &page, &err), LR_OK);
        assert_int_equal(page.n, 0);
        assert_null(page.next_token);
        lr_online_id_page_free(&page);
    }
    for (int i = 0; i < 250; i++)
        free(ids[i]);
    lr_buf_free(&want);
}

static void test_batch_get(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_online_key keys[5];
    lr_online_row rows[5];
    lr_error err;
    lr_test_rec b;
    bool changed;
    uint32_t proj[1];
    char *v;

    put_simple(f, "u1", ts(f, 1), "one");
    put_simple(f, "u2", ts(f, 1), "two");
    lr_test_rec_init(&b, f->other);
    lr_test_rec_s(&b, "k", "-5", 2);
    lr_test_rec_s(&b, "t", "12.5", 4);
    lr_test_rec_s(&b, "v", "neg", 3);
    assert_int_equal(lr_online_put(f->s, f->other, lr_test_rec_done(&b), NULL, &changed, &err),
                     LR_OK);
    proj[0] = (uint32_t)lr_fg_def_find_feature(f->people, "name", 4);
    memset(keys, 0, sizeof keys);
    keys[0].def = f->people;
    keys[0].record_id = (lr_str){"u2", 2};
    keys[0].features = proj;
    keys[0].n_features = 1;
    keys[1].def = f->other;
    keys[1].record_id = (lr_str){"-5", 2};
    keys[2].def = f->people;
    keys[2].record_id = (lr_str){"missing", 7};
    keys[3].def = f->people;
    keys[3].record_id = (lr_str){"u1", 2};
    keys[4].def = f->other;
    keys[4].record_id = (lr_str){"u1", 2}; /* same id, other group */
    assert_int_equal(lr_online_batch_get(f->r, keys, 5, rows, &err), LR_OK);
    assert_true(rows[0].found);
    assert_int_equal(rows[0].n_fields, 1);
    v = lr_test_row_value(f->people, &rows[0], "name", NULL);
    assert_string_equal(v, "two");
    free(v);
    assert_true(rows[1].found);
    assert_int_equal(rows[1].n_fields, 3);
    assert_int_equal(rows[1].event_time_us, 12500000);
    v = lr_test_row_value(f->other, &rows[1], "v", NULL);
    assert_string_equal(v, "neg");
    free(v);
    assert_false(rows[2].found);
    assert_true(rows[3].found);
    v = lr_test_row_value(f->people, &rows[3], "name", NULL);
    assert_string_equal(v, "one");
    free(v);
    assert_false(rows[4].found);
    assert_int_equal(lr_online_batch_get(f->r, keys, 0, rows, &err), LR_EINVAL);
    /* A large batch (the buffers grow). */
    {
        enum { N = 300 };
        lr_online_key *k = calloc(N, sizeof *k);
        lr_online_row *r = calloc(N, sizeof *r);
        char(*idb)[16] = calloc(N, 16);
        for (int i = 0; i < N; i++) {
            snprintf(idb[i], 16, "b%d", i);
            if (i % 3 == 0)
                put_simple(f, idb[i], ts(f, 1), idb[i]);
            k[i].def = f->people;
            k[i].record_id = (lr_str){idb[i], strlen(idb[i])};
        }
        assert_int_equal(lr_online_batch_get(f->r, k, N, r, &err), LR_OK);
        for (int i = 0; i < N; i++) {
            assert_int_equal(r[i].found, i % 3 == 0);
            if (r[i].found) {
                v = lr_test_row_value(f->people, &r[i], "name", NULL);
                assert_string_equal(v, idb[i]);
                free(v);
            }
        }
        free(k);
        free(r);
        free(idb);
    }
}

static void test_drop_and_stats(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_online_stats st;
    lr_error err;
    lr_test_rec b;
    bool changed;
    char *ids;
    uint64_t bytes5;

    st = stats(f, "people");
    assert_int_equal(st.records, 0);
    assert_int_equal(st.bytes, 0);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "p%d", i);
        put_simple(f, id, ts(f, 1), "name");
    }
    for (int i = 0; i < 3; i++) {
        char k[8];
        snprintf(k, sizeof k, "%d", i);
        lr_test_rec_init(&b, f->other);
        lr_test_rec_s(&b, "k", k, strlen(k));
        lr_test_rec_s(&b, "t", "1", 1);
        assert_int_equal(lr_online_put(f->s, f->other, lr_test_rec_done(&b), NULL, &changed, &err),
                         LR_OK);
    }
    st = stats(f, "people");
    assert_int_equal(st.records, 5);
    assert_true(st.bytes > 5 * 20);
    bytes5 = st.bytes;
    put_simple(f, "p0", ts(f, 2), "a much longer name than before");
    st = stats(f, "people");
    assert_int_equal(st.records, 5);
    assert_true(st.bytes > bytes5);
    assert_int_equal(del(f, f->people, "p1", ts(f, 5), false, &changed, &err), LR_OK);
    assert_int_equal(stats(f, "people").records, 5); /* tombstones count */
    assert_int_equal(del(f, f->people, "p2", ts(f, 5), true, &changed, &err), LR_OK);
    assert_int_equal(stats(f, "people").records, 4);
    assert_int_equal(stats(f, "other-group_2").records, 3);
    assert_int_equal(lr_online_drop_group(f->s, "people", &err), LR_OK);
    st = stats(f, "people");
    assert_int_equal(st.records, 0);
    assert_int_equal(st.bytes, 0);
    assert_name(f, "p0", NULL);
    ids = list_all(f, f->people, true, 100, NULL);
    assert_string_equal(ids, "");
    free(ids);
    assert_int_equal(stats(f, "other-group_2").records, 3);
    ids = list_all(f, f->other, true, 100, NULL);
    assert_string_equal(ids, "0\n1\n2\n");
    free(ids);
    /* Dropping again, or an unknown group, is fine; a bad name is not. */
    assert_int_equal(lr_online_drop_group(f->s, "people", &err), LR_OK);
    assert_int_equal(lr_online_drop_group(f->s, "", &err), LR_EINVAL);
    /* The group works again after a drop. */
    assert_true(put_simple(f, "p0", ts(f, 0), "fresh"));
    assert_int_equal(stats(f, "people").records, 1);
    /* Many records: the drop takes several transactions. */
    for (int i = 0; i < 4500; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%05d", i);
        put_simple(f, id, ts(f, 0), "m");
    }
    assert_int_equal(stats(f, "people").records, 4501);
    assert_int_equal(lr_online_drop_group(f->s, "people", &err), LR_OK);
    assert_int_equal(stats(f, "people").records, 0);
}

/* Appends the UTF-8 encoding of code point c. */
static void utf8_put(lr_buf *b, uint32_t c)
{
    uint8_t o[4];
    size_t n;
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        n = 1;
    } else if (c < 0x800) {
        o[0] = (uint8_t)(0xC0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        o[0] = (uint8_t)(0xF0 | (c >> 18));
        o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (uint8_t)(0x80 | (c & 0x3F));
        n = 4;
    }
    lr_buf_append(b, o, n);
}

static void test_utf8_and_limits(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_buf all, big;
    lr_test_rec b;
    lr_online_row row;
    lr_error err;
    bool changed;
    size_t len;
    char *v, *ids;
    bool seen[256] = {false};
    char id1[LR_RECORD_ID_MAX_BYTES + 1], id2[LR_RECORD_ID_MAX_BYTES + 1];

    /* Every byte value UTF-8 can hold (NUL included): all of U+0000..U+07FF,
     * every lead and continuation byte of the 3- and 4-byte forms. */
    lr_buf_init(&all, 0);
    for (uint32_t c = 0; c < 0x800; c++)
        utf8_put(&all, c);
    for (uint32_t c = 0x800; c < 0x10000; c += 0x3F) {
        if (c < 0xD800 || c > 0xDFFF)
            utf8_put(&all, c);
    }
    utf8_put(&all, 0xFFFF);
    for (uint32_t c = 0x10000; c <= 0x10FFFF; c += 0xFFF)
        utf8_put(&all, c);
    utf8_put(&all, 0x10FFFF);
    for (size_t i = 0; i < all.len; i++)
        seen[(uint8_t)all.data[i]] = true;
    for (int c = 0; c < 256; c++)
        assert_int_equal(seen[c], (c < 0xC0 || (c >= 0xC2 && c <= 0xF4)));
    assert_true(lr_utf8_valid(all.data, all.len));

    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "id", all.data + 1, 299); /* U+0001..U+00D5 */
    lr_test_rec_s(&b, "ts", ts(f, 1), strlen(ts(f, 1)));
    lr_test_rec_s(&b, "name", all.data, all.len);
    {
        const char *items[3] = {"", "\xF4\x8F\xBF\xBF", "\xE2\x82\xAC"};
        lr_test_rec_l(&b, "tags", 3, items);
    }
    assert_int_equal(lr_online_put(f->s, f->people, lr_test_rec_done(&b), NULL, &changed, &err),
                     LR_OK);
    assert_int_equal(lr_online_get(f->r, f->people, all.data + 1, 299, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    v = lr_test_row_value(f->people, &row, "name", &len);
    assert_int_equal(len, all.len);
    assert_memory_equal(v, all.data, all.len);
    free(v);
    v = lr_test_row_list(f->people, &row, "tags");
    assert_string_equal(v, "|\xF4\x8F\xBF\xBF|\xE2\x82\xAC");
    free(v);
    v = lr_test_row_value(f->people, &row, "id", &len);
    assert_int_equal(len, 299);
    assert_memory_equal(v, all.data + 1, 299);
    free(v);
    /* An id with a NUL byte is its own record. */
    assert_int_equal(lr_online_get(f->r, f->people, "a\0b", 3, NULL, 0, &row, &err), LR_OK);
    assert_false(row.found);

    /* Maximum identifiers: two 2 KB ids that differ only in the last byte
     * (longer than LMDB's keys: they are stored hashed). */
    memset(id1, 'k', LR_RECORD_ID_MAX_BYTES);
    memcpy(id2, id1, LR_RECORD_ID_MAX_BYTES);
    id1[LR_RECORD_ID_MAX_BYTES - 1] = '1';
    id2[LR_RECORD_ID_MAX_BYTES - 1] = '2';
    id1[LR_RECORD_ID_MAX_BYTES] = id2[LR_RECORD_ID_MAX_BYTES] = '\0';
    put_simple(f, id1, ts(f, 1), "one");
    put_simple(f, id2, ts(f, 1), "two");
    assert_name(f, id1, "one");
    assert_name(f, id2, "two");
    assert_false(put_simple(f, id1, ts(f, 0), "older"));
    assert_name(f, id1, "one");
    assert_int_equal(lr_online_delete(f->s, f->people, id2, LR_RECORD_ID_MAX_BYTES, f->t0 + 5 * S,
                                      NULL, 0, false, &changed, &err),
                     LR_OK);
    assert_true(changed);
    ids = list_all(f, f->people, true, 1, NULL);
    /* Both come back whole, in the backend's key order. */
    assert_int_equal(strlen(ids), 2 * (LR_RECORD_ID_MAX_BYTES + 1) + 300);
    assert_non_null(strstr(ids, id1));
    assert_non_null(strstr(ids, id2));
    free(ids);
    ids = list_all(f, f->people, false, 1, NULL);
    assert_non_null(strstr(ids, id1));
    assert_null(strstr(ids, id2));
    free(ids);
    {
        char over[LR_RECORD_ID_MAX_BYTES + 2];
        memset(over, 'x', sizeof over);
        assert_int_equal(lr_online_get(f->r, f->people, over, sizeof over, NULL, 0, &row, &err),
                         LR_EINVAL);
    }

    /* A record at the 350 KB limit comes back byte for byte. */
    lr_buf_init(&big, 0);
    while (big.len < LR_RECORD_MAX_BYTES - 200)
        lr_buf_append(&big, all.data,
                      all.len < LR_RECORD_MAX_BYTES - 200 - big.len
                          ? all.len
                          : LR_RECORD_MAX_BYTES - 200 - big.len);
    /* The cut may split a character: end on a character boundary. */
    while (!lr_utf8_valid(big.data, big.len))
        big.len--;
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "id", "big", 3);
    lr_test_rec_s(&b, "ts", ts(f, 1), strlen(ts(f, 1)));
    lr_test_rec_s(&b, "name", big.data, big.len);
    assert_int_equal(lr_online_put(f->s, f->people, lr_test_rec_done(&b), NULL, &changed, &err),
                     LR_OK);
    assert_int_equal(lr_online_get(f->r, f->people, "big", 3, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    v = lr_test_row_value(f->people, &row, "name", &len);
    assert_int_equal(len, big.len);
    assert_memory_equal(v, big.data, big.len);
    free(v);
    /* And again with a small record in between (buffer reuse). */
    assert_name(f, id1, "one");
    assert_int_equal(lr_online_get(f->r, f->people, "big", 3, NULL, 0, &row, &err), LR_OK);
    assert_int_equal(row.n_fields, 3);
    lr_buf_free(&big);
    lr_buf_free(&all);
}

/* ---- many threads ---- */

enum { CONC_IDS = 40, CONC_READERS = 4 };

typedef struct conc {
    fx *f;
    int versions;
    volatile int done;
    int failures;
    long reads;
    pthread_mutex_t mu;
} conc;

static void *conc_writer(void *arg)
{
    conc *c = arg;
    fx *f = c->f;
    for (int v = 1; v <= c->versions; v++) {
        for (int i = 0; i < CONC_IDS; i++) {
            char id[16], name[16], age[16], t1[16], t2[16];
            const char *tags[2] = {t1, t2};
            person p;
            lr_error err;
            bool changed;
            snprintf(id, sizeof id, "c%d", i);
            snprintf(name, sizeof name, "v%d", v);
            snprintf(age, sizeof age, "%d", v);
            snprintf(t1, sizeof t1, "%d", v);
            snprintf(t2, sizeof t2, "%d", 2 * v);
            {
                char when[LR_TIME_STR_MAX];
                lr_time_format_iso8601(f->t0 + v * S, when);
                memset(&p, 0, sizeof p);
                p.id = id;
                p.ts = when;
                p.name = name;
                p.age = age;
                p.ntags = 2;
                p.tags[0] = tags[0];
                p.tags[1] = tags[1];
                if (put_person(f, &p, NULL, &changed, &err) != LR_OK || !changed) {
                    pthread_mutex_lock(&c->mu);
                    c->failures++;
                    pthread_mutex_unlock(&c->mu);
                }
            }
        }
    }
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *conc_reader(void *arg)
{
    conc *c = arg;
    fx *f = c->f;
    lr_online_reader *r;
    lr_error err;
    int last[CONC_IDS] = {0};
    unsigned seed = (unsigned)(uintptr_t)&r;
    long reads = 0;
    int bad = 0;

    if (lr_online_reader_open(f->s, &r, &err) != LR_OK)
        return (void *)1;
    while (!__atomic_load_n(&c->done, __ATOMIC_SEQ_CST) || reads < 1000) {
        int i = (int)(rand_r(&seed) % CONC_IDS), v;
        char id[16], want[32];
        lr_online_row row;
        char *name, *age, *tags;
        snprintf(id, sizeof id, "c%d", i);
        if (lr_online_get(r, f->people, id, strlen(id), NULL, 0, &row, &err) != LR_OK) {
            bad++;
            break;
        }
        reads++;
        if (!row.found)
            continue;
        name = lr_test_row_value(f->people, &row, "name", NULL);
        age = lr_test_row_value(f->people, &row, "age", NULL);
        tags = lr_test_row_list(f->people, &row, "tags");
        v = age ? atoi(age) : -1;
        snprintf(want, sizeof want, "v%d", v);
        if (!name || strcmp(name, want) != 0 || row.event_time_us != f->t0 + v * S)
            bad++;
        snprintf(want, sizeof want, "%d|%d", v, 2 * v);
        if (!tags || strcmp(tags, want) != 0)
            bad++;
        if (v < last[i]) /* never back in time */
            bad++;
        last[i] = v;
        free(name);
        free(age);
        free(tags);
    }
    lr_online_reader_close(r);
    pthread_mutex_lock(&c->mu);
    c->failures += bad;
    c->reads += reads;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void test_readers_while_writing(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    pthread_t w, rd[CONC_READERS];
    conc c;

    memset(&c, 0, sizeof c);
    c.f = f;
    c.versions = LR_TEST_REDIS ? 40 : 150;
    pthread_mutex_init(&c.mu, NULL);
    for (int i = 0; i < CONC_READERS; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, conc_reader, &c), 0);
    assert_int_equal(pthread_create(&w, NULL, conc_writer, &c), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < CONC_READERS; i++) {
        void *ret;
        pthread_join(rd[i], &ret);
        assert_null(ret);
    }
    assert_int_equal(c.failures, 0);
    assert_true(c.reads >= CONC_READERS * 1000);
    for (int i = 0; i < CONC_IDS; i++) {
        char id[16], want[16];
        snprintf(id, sizeof id, "c%d", i);
        snprintf(want, sizeof want, "v%d", c.versions);
        assert_name(f, id, want);
    }
    pthread_mutex_destroy(&c.mu);
}

typedef struct many {
    fx *f;
    int thread;
    int failures;
} many;

static void *many_writer(void *arg)
{
    many *m = arg;
    for (int i = 0; i < 150; i++) {
        char id[32], when[LR_TIME_STR_MAX];
        person p;
        lr_error err;
        bool changed;
        snprintf(id, sizeof id, "w%d-%d", m->thread, i);
        lr_time_format_iso8601(m->f->t0, when);
        memset(&p, 0, sizeof p);
        p.id = id;
        p.ts = when;
        p.name = id;
        p.ntags = -1;
        if (put_person(m->f, &p, NULL, &changed, &err) != LR_OK || !changed)
            m->failures++;
    }
    return NULL;
}

static void test_many_writers(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    enum { T = 8 };
    pthread_t th[T];
    many m[T];

    for (int t = 0; t < T; t++) {
        m[t].f = f;
        m[t].thread = t;
        m[t].failures = 0;
        assert_int_equal(pthread_create(&th[t], NULL, many_writer, &m[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(m[t].failures, 0);
    }
    assert_int_equal(stats(f, "people").records, T * 150);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < 150; i += 37) {
            char id[32];
            snprintf(id, sizeof id, "w%d-%d", t, i);
            assert_name(f, id, id);
        }
    }
}

static void test_write_batch(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_test_rec b1, b2;
    lr_online_write w[5];
    lr_error err;

    put_simple(f, "u1", ts(f, 10), "A");
    lr_test_rec_init(&b1, f->people);
    lr_test_rec_s(&b1, "id", "n1", 2);
    lr_test_rec_s(&b1, "ts", ts(f, 1), strlen(ts(f, 1)));
    lr_test_rec_done(&b1);
    lr_test_rec_init(&b2, f->people);
    lr_test_rec_s(&b2, "name", "upd", 3);
    memset(w, 0, sizeof w);
    w[0].kind = LR_ONLINE_PUT;
    w[0].def = f->people;
    w[0].record = &b1.rec;
    w[1].kind = LR_ONLINE_UPDATE; /* sees entry 0 */
    w[1].def = f->people;
    w[1].record_id = (lr_str){"n1", 2};
    w[1].values = b2.vals;
    w[1].n_values = b2.nv;
    w[2].kind = LR_ONLINE_HARD_DELETE; /* not newer: fails alone */
    w[2].def = f->people;
    w[2].record_id = (lr_str){"u1", 2};
    w[2].event_time_us = f->t0;
    w[3].kind = LR_ONLINE_SOFT_DELETE;
    w[3].def = NULL; /* invalid entry */
    w[4].kind = LR_ONLINE_SOFT_DELETE;
    w[4].def = f->people;
    w[4].record_id = (lr_str){"u1", 2};
    w[4].event_time_us = f->t0 + 11 * S;
    assert_int_equal(lr_online_write_batch(f->s, w, 5, &err), LR_OK);
    assert_int_equal(w[0].status, LR_OK);
    assert_true(w[0].changed);
    assert_int_equal(w[1].status, LR_OK);
    assert_true(w[1].changed);
    assert_int_equal(w[2].status, LR_EINVAL);
    assert_false(w[2].changed);
    assert_true(w[2].error.msg[0] != '\0');
    assert_int_equal(w[3].status, LR_EINVAL);
    assert_int_equal(w[4].status, LR_OK);
    assert_true(w[4].changed);
    assert_name(f, "n1", "upd");
    assert_name(f, "u1", NULL);
    assert_int_equal(lr_online_write_batch(f->s, w, 0, &err), LR_EINVAL);
    /* A group without an online store takes no writes. */
    {
        lr_fg_def *off = lr_test_def(
            "{\"FeatureGroupName\":\"offonly\",\"RecordIdentifierFeatureName\":\"id\","
            "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
            "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
            "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"}],"
            "\"OnlineStoreConfig\":{\"EnableOnlineStore\":false},"
            "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://bucket/prefix\"}}}");
        lr_test_rec b3;
        bool changed;
        lr_test_rec_init(&b3, off);
        lr_test_rec_s(&b3, "id", "x", 1);
        lr_test_rec_s(&b3, "ts", ts(f, 1), strlen(ts(f, 1)));
        assert_int_equal(lr_online_put(f->s, off, lr_test_rec_done(&b3), NULL, &changed, &err),
                         LR_EINVAL);
        assert_non_null(strstr(err.msg, "no online store"));
        lr_fg_def_free(off);
    }
}

static void test_reopen(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    put_simple(f, "keep", ts(f, 1), "kept");
    close_store(f);
    f->opts.durability = LR_ONLINE_SYNC;
    open_store(f);
    assert_name(f, "keep", "kept");
    assert_true(put_simple(f, "keep", ts(f, 2), "synced"));
    close_store(f);
    f->opts.durability = LR_ONLINE_NOMETASYNC;
    open_store(f);
    assert_name(f, "keep", "synced");
    assert_int_equal(stats(f, "people").records, 1);
}

static void test_open_errors(void **state)
{
    lr_online *s = NULL;
    lr_error err;
    char uri[128];
    int port = lr_test_free_port();
    (void)state;

    assert_int_equal(lr_online_open("", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("lmdb:", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://host:99999", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://host:12x", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://host/db", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://host?x=1", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("redis://:%zz@host", NULL, &s, &err), LR_EINVAL);
    assert_int_equal(lr_online_open("rediss://host", NULL, &s, &err), LR_EUNSUPPORTED);
    snprintf(uri, sizeof uri, "redis://127.0.0.1:%d/0", port);
    assert_int_equal(lr_online_open(uri, NULL, &s, &err), LR_EUNAVAILABLE);
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_null(s);
    assert_int_equal(lr_online_open("/proc/no/such/dir", NULL, &s, &err), LR_EIO);
    lr_online_close(NULL);
    lr_online_reader_close(NULL);
    lr_online_id_page_free(NULL);
}

/* ---- backend-specific ---- */

#if !LR_TEST_REDIS /* LMDB only: map growth, other processes */
static void test_lmdb_map_growth_and_limit(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    char big[4000];
    lr_test_rec b;
    lr_error err;
    bool changed;
    lr_status st = LR_OK;
    int i;
    struct stat sb;
    char *path;

    memset(big, 'g', sizeof big);
    /* The map starts at 256 KiB: 2000 records of 4 KB need ~8 MiB. */
    for (i = 0; i < 2000; i++) {
        char id[16];
        snprintf(id, sizeof id, "g%d", i);
        lr_test_rec_init(&b, f->people);
        lr_test_rec_s(&b, "id", id, strlen(id));
        lr_test_rec_s(&b, "ts", ts(f, 1), strlen(ts(f, 1)));
        lr_test_rec_s(&b, "name", big, sizeof big);
        assert_int_equal(lr_online_put(f->s, f->people, lr_test_rec_done(&b), NULL, &changed, &err),
                         LR_OK);
    }
    path = lr_test_path(f->dir, "online/data.mdb");
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 8 * 1000 * 1000);
    free(path);
    assert_int_equal(stats(f, "people").records, 2000);

    /* With a maximum, a full map is LR_ELIMIT, and what was committed stays. */
    close_store(f);
    lr_test_rmtree(f->dir);
    f->opts.lmdb_map_size_max = 512 * 1024;
    open_store(f);
    for (i = 0; i < 1000 && st == LR_OK; i++) {
        char id[16];
        snprintf(id, sizeof id, "h%d", i);
        lr_test_rec_init(&b, f->people);
        lr_test_rec_s(&b, "id", id, strlen(id));
        lr_test_rec_s(&b, "ts", ts(f, 1), strlen(ts(f, 1)));
        lr_test_rec_s(&b, "name", big, sizeof big);
        st = lr_online_put(f->s, f->people, lr_test_rec_done(&b), NULL, &changed, &err);
    }
    assert_int_equal(st, LR_ELIMIT);
    assert_non_null(strstr(err.msg, "full"));
    assert_true(i > 10);
    {
        lr_online_row row;
        assert_int_equal(lr_online_get(f->r, f->people, "h0", 2, NULL, 0, &row, &err), LR_OK);
        assert_true(row.found);
        assert_int_equal(row.n_fields, 3);
    }
}

/* A reader sees commits of other processes (its snapshot is checked per get). */
static void test_lmdb_other_process(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    pid_t pid;
    int status;

    put_simple(f, "x", ts(f, 1), "mine");
    assert_name(f, "x", "mine"); /* the reader now holds a snapshot */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lr_online *s;
        lr_test_rec b;
        lr_online_options o;
        bool changed;
        lr_online_options_init(&o);
        if (lr_online_open(f->uri, &o, &s, NULL) != LR_OK)
            _exit(1);
        lr_test_rec_init(&b, f->people);
        lr_test_rec_s(&b, "id", "x", 1);
        lr_test_rec_s(&b, "ts", ts(f, 2), strlen(ts(f, 2)));
        lr_test_rec_s(&b, "name", "theirs", 6);
        b.rec.values = b.vals;
        b.rec.n_values = b.nv;
        if (lr_record_validate(f->people, &b.rec, NULL) != LR_OK ||
            lr_online_put(s, f->people, &b.rec, NULL, &changed, NULL) != LR_OK || !changed)
            _exit(2);
        lr_online_close(s);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_name(f, "x", "theirs");
}

#endif

#if LR_TEST_REDIS /* Redis only: reconnects, scripts, AUTH and SELECT */
static void test_redis_reconnect_and_scripts(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_online_row row;
    lr_error err;

    put_simple(f, "r1", ts(f, 1), "one");
    assert_name(f, "r1", "one");
    /* Every client connection dies: the next calls reconnect. */
    assert_true(lr_test_redis_cmd(&g_redis, NULL, 0, "CLIENT", "KILL", "TYPE", "normal", NULL) >=
                1);
    assert_name(f, "r1", "one");
    assert_true(put_simple(f, "r2", ts(f, 1), "two"));
    /* The server forgets the scripts: they are loaded again. */
    assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "SCRIPT", "FLUSH", NULL), 0);
    assert_true(put_simple(f, "r3", ts(f, 1), "three"));
    assert_name(f, "r3", "three");
    /* A value that is not ours is reported, not trusted. */
    lr_test_redis_cmd(&g_redis, NULL, 0, "SET", "lr:{people}:r:junk", "not a record", NULL);
    assert_int_equal(lr_online_get(f->r, f->people, "junk", 4, NULL, 0, &row, &err), LR_ECORRUPT);
    {
        person p = {"junk", ts(f, 1), "x", NULL, NULL, -1, {NULL}};
        bool changed;
        assert_int_equal(put_person(f, &p, NULL, &changed, &err), LR_ECORRUPT);
    }
}

static void test_redis_auth_select(void **state)
{
    NEED_BACKEND(state);
    fx *f = *state;
    lr_test_redis secure;
    const char *extra[] = {"--requirepass", "s3cr et/@:", NULL};
    lr_online *s = NULL;
    lr_online_reader *r;
    lr_online_row row;
    lr_error err;
    char uri[256];
    bool changed;
    lr_test_rec b;

    assert_int_equal(lr_test_redis_start(&secure, extra), 0);
    snprintf(uri, sizeof uri, "redis://127.0.0.1:%d", secure.port);
    assert_int_equal(lr_online_open(uri, NULL, &s, &err), LR_EACCESS);
    snprintf(uri, sizeof uri, "redis://:wrong@127.0.0.1:%d", secure.port);
    assert_int_equal(lr_online_open(uri, NULL, &s, &err), LR_EACCESS);
    snprintf(uri, sizeof uri, "redis://default:s3cr%%20et%%2F%%40%%3A@127.0.0.1:%d/5", secure.port);
    assert_int_equal(lr_online_open(uri, &f->opts, &s, &err), LR_OK);
    lr_test_rec_init(&b, f->people);
    lr_test_rec_s(&b, "id", "sec", 3);
    lr_test_rec_s(&b, "ts", ts(f, 1), strlen(ts(f, 1)));
    assert_int_equal(lr_online_put(s, f->people, lr_test_rec_done(&b), NULL, &changed, &err),
                     LR_OK);
    assert_int_equal(lr_online_reader_open(s, &r, &err), LR_OK);
    assert_int_equal(lr_online_get(r, f->people, "sec", 3, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    /* It went to database 5, not 0. */
    assert_int_equal(
        lr_test_redis_cmd(&secure, "s3cr et/@:", 5, "EXISTS", "lr:{people}:r:sec", NULL), 1);
    assert_int_equal(
        lr_test_redis_cmd(&secure, "s3cr et/@:", 0, "EXISTS", "lr:{people}:r:sec", NULL), 0);
    /* After losing every connection, reconnecting authenticates and selects again. */
    lr_test_redis_cmd(&secure, "s3cr et/@:", 0, "CLIENT", "KILL", "TYPE", "normal", NULL);
    assert_int_equal(lr_online_get(r, f->people, "sec", 3, NULL, 0, &row, &err), LR_OK);
    assert_true(row.found);
    lr_online_reader_close(r);
    lr_online_close(s);
    lr_test_redis_stop(&secure);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_time_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hard_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_while_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test(test_open_errors),
#if LR_TEST_REDIS
        cmocka_unit_test_setup_teardown(test_redis_reconnect_and_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_auth_select, setup, teardown),
#else
        cmocka_unit_test_setup_teardown(test_lmdb_map_growth_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lmdb_other_process, setup, teardown),
#endif
    };
    return cmocka_run_group_tests_name(LR_TEST_REDIS ? "online conformance (redis)"
                                                     : "online conformance (lmdb)",
                                       tests, group_setup, group_teardown);
}
