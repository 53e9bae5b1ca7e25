/*
 * test_cli_online.c - `larder put/get/delete/records` end to end: runs the
 * binary against a fresh data directory, on LMDB and on a redis-server the
 * test starts (--online and $LARDER_ONLINE), and checks stdout, stderr and
 * the exit status.
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

#include "online/online_testlib.h"
#include "support/testutil.h"

static const char DEF[] =
    "{\"FeatureGroupName\":\"people\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"age\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"score\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"emb\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":2}}}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static const char ONLINE_ONLY[] =
    "{\"FeatureGroupName\":\"cache\",\"RecordIdentifierFeatureName\":\"k\","
    "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"k\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"t\",\"FeatureType\":\"Fractional\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";

static lr_test_redis g_redis;
static bool g_have_redis;

typedef struct fx {
    char *dir;
    char *data;
    char online[128]; /* "" for LMDB in the data directory */
    bool redis;
} fx;

static int group_setup(void **state)
{
    (void)state;
    g_have_redis = lr_test_redis_available() && lr_test_redis_start(&g_redis, NULL) == 0;
    if (!g_have_redis) {
        /* The suite fails rather than skips: a missing server is a broken setup. */
        fprintf(stderr, "cannot start redis-server (scripts/install-deps installs it)\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_have_redis)
        lr_test_redis_stop(&g_redis);
    return 0;
}

static void run_ok(fx *f, lr_test_proc *p, const char *const *args);

static int setup_common(void **state, bool redis)
{
    fx *f = calloc(1, sizeof *f);
    char *path;
    assert_non_null(f);
    f->dir = lr_test_tmpdir("larder-cli-online");
    f->data = lr_test_path(f->dir, "data");
    f->redis = redis;
    if (redis) {
        if (!g_have_redis) {
            lr_test_rmtree(f->dir);
            free(f->dir);
            free(f->data);
            free(f);
            *state = NULL;
            return 0;
        }
        assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 0, "FLUSHALL", NULL), 0);
        snprintf(f->online, sizeof f->online, "redis://127.0.0.1:%d/2", g_redis.port);
    }
    unsetenv("LARDER_ONLINE");
    for (int i = 0; i < 2; i++) {
        lr_test_proc p;
        const char *json = i == 0 ? DEF : ONLINE_ONLY;
        path = lr_test_path(f->dir, i == 0 ? "def.json" : "def2.json");
        assert_int_equal(lr_test_write_file(path, json, strlen(json)), 0);
        {
            const char *args[] = {"fg", "create", "--file", path, NULL};
            run_ok(f, &p, args);
        }
        lr_test_proc_free(&p);
        free(path);
    }
    *state = f;
    return 0;
}

static int setup_lmdb(void **state)
{
    return setup_common(state, false);
}

static int setup_redis(void **state)
{
    return setup_common(state, true);
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f == NULL)
        return 0;
    unsetenv("LARDER_ONLINE");
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f);
    return 0;
}

/*
 * Runs `larder --data-dir D CMD [--online URI] ARGS...` (the flag only for
 * record commands on Redis).
 */
static void run(fx *f, lr_test_proc *p, const char *const *args)
{
    char *argv[64];
    int n = 0;
    bool record_cmd = args[0] && strcmp(args[0], "fg") != 0;
    argv[n++] = (char *)lr_test_larder_bin();
    argv[n++] = "--data-dir";
    argv[n++] = f->data;
    argv[n++] = (char *)args[0];
    /* Right after the command, so a test's own later --online wins and a
     * "--" in the test's arguments still ends the options. */
    if (f->online[0] && record_cmd && !getenv("LARDER_ONLINE")) {
        argv[n++] = "--online";
        argv[n++] = f->online;
    }
    for (int i = 1; args[i]; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    assert_int_equal(lr_test_run(argv, NULL, p), 0);
}

static void run_ok(fx *f, lr_test_proc *p, const char *const *args)
{
    run(f, p, args);
    if (p->status != 0)
        fail_msg("larder %s %s: exit %d: %s", args[0], args[1] ? args[1] : "", p->status, p->err);
}

/* Expects exit status `status` with exactly one line "larder: ...<needle>..." on stderr. */
static void run_fail(fx *f, const char *const *args, int status, const char *needle)
{
    lr_test_proc p;
    run(f, &p, args);
    if (p.status != status)
        fail_msg("larder %s: exit %d, expected %d (stderr: %s)", args[0], p.status, status, p.err);
    assert_int_equal(lr_test_count_lines(p.err), 1);
    assert_true(strncmp(p.err, "larder: ", 8) == 0);
    if (needle && strstr(p.err, needle) == NULL)
        fail_msg("stderr '%s' lacks '%s'", p.err, needle);
    assert_int_equal(p.out_len, 0);
    lr_test_proc_free(&p);
}

#define NEED(state)                                                                                \
    do {                                                                                           \
        if (*(state) == NULL)                                                                      \
            fail_msg("the store could not be set up");                                             \
    } while (0)

static void test_put_get(void **state)
{
    NEED(state);
    fx *f = *state;
    lr_test_proc p;
    json_t *j;
    json_error_t je;

    {
        const char *a[] = {"put",
                           "people",
                           "id=u1",
                           "ts=2030-01-01T00:00:00Z",
                           "age=42",
                           "score=0.1",
                           "tags=[\"a\", \"b,c\", \"\\u00e9\\n\"]",
                           "emb=[0.5,1e-3]",
                           "--ttl",
                           "1d",
                           NULL};
        run_ok(f, &p, a);
        assert_int_equal(p.out_len, 0);
        /* The group has an offline store: the row went there too, silently. */
        assert_int_equal(p.err_len, 0);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"get", "people", "u1", "--expires", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "id=u1\n"
                                   "ts=2030-01-01T00:00:00Z\n"
                                   "age=42\n"
                                   "score=0.1\n"
                                   "tags=[\"a\",\"b,c\",\"\xc3\xa9\\n\"]\n"
                                   "emb=[\"0.5\",\"1e-3\"]\n"
                                   "ExpiresAt=2030-01-02T00:00:00.000Z\n");
        assert_int_equal(p.err_len, 0);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"get",        "people",   "u1",        "--json",
                           "--features", "tags,age", "--expires", NULL};
        run_ok(f, &p, a);
        j = json_loads(p.out, 0, &je);
        assert_non_null(j);
        assert_int_equal(json_array_size(json_object_get(j, "Record")), 2);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(j, "Record"), 0), "FeatureName")),
                            "age");
        assert_string_equal(json_string_value(json_array_get(
                                json_object_get(json_array_get(json_object_get(j, "Record"), 1),
                                                "ValueAsStringList"),
                                2)),
                            "\xc3\xa9\n");
        assert_string_equal(json_string_value(json_object_get(j, "ExpiresAt")),
                            "2030-01-02T00:00:00.000Z");
        json_decref(j);
        lr_test_proc_free(&p);
    }
    /* Older: the online store keeps the newer record, and says so. */
    {
        const char *a[] = {"put", "people", "id=u1", "ts=2029-01-01T00:00:00Z", "age=1", NULL};
        run_ok(f, &p, a);
        assert_non_null(strstr(p.err, "holds a newer record for 'u1'"));
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"get", "people", "u1", "--features", "age", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "age=42\n");
        lr_test_proc_free(&p);
    }
    /* A group without an offline store: no note. */
    {
        const char *a[] = {"put", "cache", "k=-7", "t=1700000000.5", NULL};
        run_ok(f, &p, a);
        assert_int_equal(p.err_len, 0);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"get", "cache", "--", "-7", NULL}; /* an id that looks like an option */
        run_ok(f, &p, a);
        assert_string_equal(p.out, "k=-7\nt=1700000000.5\n");
        lr_test_proc_free(&p);
    }
}

static void test_delete_and_records(void **state)
{
    NEED(state);
    fx *f = *state;
    lr_test_proc p;
    char token[512];
    char *nl;

    for (int i = 0; i < 5; i++) {
        char id[16];
        const char *a[] = {"put", "people", id, "ts=2030-01-01T00:00:00Z", NULL};
        snprintf(id, sizeof id, "id=r%d", i);
        run_ok(f, &p, a);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"records", "people", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "r0\nr1\nr2\nr3\nr4\n");
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"delete", "people", "r1", "--event-time", "2030-01-01T00:00:01Z", NULL};
        run_ok(f, &p, a);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"get", "people", "r1", NULL};
        run_fail(f, a, 1, "no record 'r1'");
    }
    /* Not newer: a soft delete changes nothing and says so. */
    {
        const char *a[] = {"delete", "people", "r2", "--event-time", "2030-01-01T00:00:00Z", NULL};
        run_ok(f, &p, a);
        assert_non_null(strstr(p.err, "not changed"));
        lr_test_proc_free(&p);
    }
    /* A hard delete that is not newer is a validation error. */
    {
        const char *a[] = {"delete", "people", "r2", "--event-time", "2029-12-31T00:00:00Z",
                           "--hard", NULL};
        run_fail(f, a, 1, "newer");
    }
    {
        const char *a[] = {"delete", "people", "r3", "--event-time", "2030-01-02T00:00:00Z",
                           "--hard", NULL};
        run_ok(f, &p, a);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"records", "people", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "r0\nr2\nr4\n");
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"records", "people", "--include-deleted", "--json", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "{\"RecordIdentifiers\":[\"r0\",\"r1\",\"r2\",\"r4\"]}\n");
        lr_test_proc_free(&p);
    }
    /* Pages. */
    {
        const char *a[] = {"records", "people", "--include-deleted", "--max-results", "3", NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "r0\nr1\nr2\n");
        assert_true(strncmp(p.err, "next-token: ", 12) == 0);
        snprintf(token, sizeof token, "%s", p.err + 12);
        if ((nl = strchr(token, '\n')) != NULL)
            *nl = '\0';
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"records",       "people", "--include-deleted",
                           "--max-results", "3",      "--next-token",
                           token,           NULL};
        run_ok(f, &p, a);
        assert_string_equal(p.out, "r4\n");
        assert_int_equal(p.err_len, 0);
        lr_test_proc_free(&p);
    }
    {
        const char *a[] = {"records", "people", "--next-token", "!bad", NULL};
        run_fail(f, a, 1, "Invalid pagination token");
    }
    {
        const char *a[] = {"delete", "cache", "5", "--event-time", "1700000001", NULL};
        run_ok(f, &p, a); /* nothing there: a note, exit 0 */
        assert_non_null(strstr(p.err, "not changed"));
        lr_test_proc_free(&p);
    }
}

static void test_errors(void **state)
{
    NEED(state);
    fx *f = *state;
    lr_test_proc p;
    {
        const char *a[] = {"put", "nope", "id=1", "ts=2030-01-01T00:00:00Z", NULL};
        run_fail(f, a, 1, "nope");
    }
    {
        const char *a[] = {"get", "nope", "1", NULL};
        run_fail(f, a, 1, "nope");
    }
    {
        const char *a[] = {"put", "people", "id=u", "ts=2030-01-01T00:00:00Z", "age=4.5", NULL};
        run_fail(f, a, 1, "age");
    }
    {
        const char *a[] = {"put", "people", "id=u", "ts=yesterday", NULL};
        run_fail(f, a, 1, "ts");
    }
    {
        const char *a[] = {"put", "people", "id=u", NULL};
        run_fail(f, a, 1, "ts");
    }
    {
        const char *a[] = {"put", "people", "id=u", "ts=2030-01-01T00:00:00Z", "height=3", NULL};
        run_fail(f, a, 1, "height");
    }
    {
        const char *a[] = {"put", "people", "id=u", "ts=2030-01-01T00:00:00Z", "tags=a,b", NULL};
        run_fail(f, a, 1, "JSON array");
    }
    {
        const char *a[] = {"put", "people", "id=u", "ts=2030-01-01T00:00:00Z", "emb=[1]", NULL};
        run_fail(f, a, 1, "emb");
    }
    {
        const char *a[] = {"put", "people", "justtext", NULL};
        run_fail(f, a, 2, "NAME=VALUE");
    }
    {
        const char *a[] = {"put",   "people", "id=u", "ts=2030-01-01T00:00:00Z",
                           "--ttl", "soon",   NULL};
        run_fail(f, a, 2, "--ttl");
    }
    {
        /* The offline store only: the online store does not get the record. */
        const char *a[] = {
            "put", "people", "id=u", "ts=2030-01-01T00:00:00Z", "--target-stores", "offline", NULL};
        lr_test_proc p2;
        run_ok(f, &p2, a);
        lr_test_proc_free(&p2);
        const char *g[] = {"get", "people", "u", NULL};
        run_fail(f, g, 1, NULL);
    }
    {
        const char *a[] = {"put", "cache", "k=1", "t=1", "--target-stores", "offline", NULL};
        run_fail(f, a, 1, "no offline store");
    }
    {
        const char *a[] = {"put",  "people", "id=u", "ts=2030-01-01T00:00:00Z", "--target-stores",
                           "disk", NULL};
        run_fail(f, a, 2, "disk");
    }
    {
        const char *a[] = {"delete", "people", "u", NULL};
        run_fail(f, a, 2, "--event-time");
    }
    {
        const char *a[] = {"delete", "people", "u", "--event-time", "12", NULL};
        run_fail(f, a, 1, "event-time");
    }
    {
        const char *a[] = {"get", "people", NULL};
        run_fail(f, a, 2, NULL);
    }
    {
        const char *a[] = {"get", "people", "u", "--features", "age,nope", NULL};
        run_fail(f, a, 1, "nope");
    }
    {
        const char *a[] = {"records", "people", "--max-results", "0", NULL};
        run_fail(f, a, 2, "--max-results");
    }
    {
        const char *a[] = {"get", "people", "u", "--online", "redis://127.0.0.1:1", NULL};
        run_fail(f, a, 1, "online store");
    }
    {
        const char *a[] = {"get", "people", "u", "--online", "gopher://x", NULL};
        lr_test_proc q;
        run(f, &q, a);
        assert_int_equal(q.status, 1);
        lr_test_proc_free(&q);
    }
    for (int i = 0; i < 4; i++) {
        const char *cmds[] = {"put", "get", "delete", "records"};
        const char *a[] = {cmds[i], "--help", NULL};
        run_ok(f, &p, a);
        assert_non_null(strstr(p.out, "Usage: larder"));
        assert_non_null(strstr(p.out, cmds[i]));
        lr_test_proc_free(&p);
    }
}

/* $LARDER_ONLINE picks the store when --online is not given. */
static void test_env_online(void **state)
{
    NEED(state);
    fx *f = *state;
    lr_test_proc p;
    assert_true(f->redis); /* registered for the Redis fixture only */
    setenv("LARDER_ONLINE", f->online, 1);
    {
        const char *a[] = {"put", "cache", "k=9", "t=5", NULL};
        run_ok(f, &p, a);
        lr_test_proc_free(&p);
    }
    assert_int_equal(lr_test_redis_cmd(&g_redis, NULL, 2, "EXISTS", "lr:{cache}:r:9", NULL), 1);
    unsetenv("LARDER_ONLINE");
    /* Without it, the data directory's LMDB store has no such record. */
    {
        char *argv[] = {
            (char *)lr_test_larder_bin(), "--data-dir", f->data, "get", "cache", "9", NULL};
        assert_int_equal(lr_test_run(argv, NULL, &p), 0);
        assert_int_equal(p.status, 1);
        lr_test_proc_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup_lmdb, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_records, setup_lmdb, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup_lmdb, teardown),
        cmocka_unit_test_setup_teardown(test_put_get, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_records, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_env_online, setup_redis, teardown),
    };
    return cmocka_run_group_tests_name("cli online", tests, group_setup, group_teardown);
}
