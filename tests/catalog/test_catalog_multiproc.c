/*
 * test_catalog_multiproc.c - several processes on one data directory.
 *
 * CHILDREN processes open a fresh data directory at the same moment (so they
 * race to create and migrate the store), each creates its own feature
 * groups and describes their features, and all of them contend on one
 * shared group: each adds a parameter to the same feature and a feature to
 * the group (read-modify-write, retried on LR_ECONFLICT). Meanwhile the
 * parent lists the catalog page by page. Every call must succeed (no
 * LR_EBUSY reaches a caller), every write must land, and every listing pass
 * must be strictly ordered without duplicates.
 *
 * Children report through their exit status; they never call cmocka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/catalog.h"
#include "support/testutil.h"

#define CHILDREN         8
#define GROUPS_PER_CHILD 40
#define MAX_GROUPS       (1 + CHILDREN * GROUPS_PER_CHILD)
#define CONFLICT_RETRIES 10000

static lr_settings settings(void)
{
    lr_settings s;
    memset(&s, 0, sizeof s);
    snprintf(s.region, sizeof s.region, "us-west-2");
    snprintf(s.account, sizeof s.account, "111122223333");
    return s;
}

static lr_status make_def(const char *name, lr_fg_def **out, lr_error *err)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"FeatureGroupName\":\"%s\",\"RecordIdentifierFeatureName\":\"id\","
             "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
             "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
             "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
             "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"}],"
             "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}",
             name);
    return lr_fg_def_parse(json, strlen(json), out, err);
}

static int child_fail(int id, const char *what, lr_status st, const lr_error *err)
{
    fprintf(stderr, "child %d: %s: %s: %s\n", id, what, lr_status_name(st), lr_error_message(err));
    return st == LR_EBUSY ? 2 : 1;
}

/* Adds feature c<id> to the shared group, re-reading on a conflict. */
static int child_add_feature(lr_catalog *cat, int id)
{
    char add[128];
    lr_error err;
    lr_status st = LR_OK;

    snprintf(add, sizeof add, "[{\"FeatureName\":\"c%d\",\"FeatureType\":\"String\"}]", id);
    for (int attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
        lr_fg_def *cur = NULL, *grown = NULL;
        st = lr_catalog_fg_get(cat, "shared", &cur, &err);
        if (st == LR_OK)
            st = lr_fg_def_add_features(cur, add, strlen(add), &grown, &err);
        if (st == LR_OK)
            st = lr_catalog_fg_update(cat, grown, &err);
        lr_fg_def_free(cur);
        lr_fg_def_free(grown);
        if (st != LR_ECONFLICT)
            break;
    }
    return st == LR_OK ? 0 : child_fail(id, "add feature to shared", st, &err);
}

static int child_main(const char *dir, int id)
{
    lr_settings s = settings();
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_error err;
    lr_status st;
    char name[64], desc[96], pkey[32];
    int rc = 0;

    st = lr_catalog_open(dir, &s, &cat, &err);
    if (st != LR_OK)
        return child_fail(id, "open", st, &err);

    st = make_def("shared", &def, &err);
    if (st == LR_OK)
        st = lr_catalog_fg_create(cat, def, NULL, &err);
    lr_fg_def_free(def);
    def = NULL;
    if (st != LR_OK && st != LR_EEXIST) {
        rc = child_fail(id, "create shared", st, &err);
        goto done;
    }

    for (int j = 0; j < GROUPS_PER_CHILD; j++) {
        lr_feature_param params[2] = {{"owner", NULL}, {"index", NULL}};
        char owner[16], index[16];
        snprintf(name, sizeof name, "p%d-g%02d", id, j);
        st = make_def(name, &def, &err);
        if (st == LR_OK)
            st = lr_catalog_fg_create(cat, def, NULL, &err);
        lr_fg_def_free(def);
        def = NULL;
        if (st != LR_OK) {
            rc = child_fail(id, name, st, &err);
            goto done;
        }
        snprintf(owner, sizeof owner, "child-%d", id);
        snprintf(index, sizeof index, "%d", j);
        params[0].value = owner;
        params[1].value = index;
        snprintf(desc, sizeof desc, "amount of %s", name);
        st =
            lr_catalog_feature_metadata_update(cat, name, "amount", desc, params, 2, NULL, 0, &err);
        if (st != LR_OK) {
            rc = child_fail(id, "describe", st, &err);
            goto done;
        }
        /* Contend on one row: every child's parameter must survive. */
        snprintf(pkey, sizeof pkey, "child-%d-%02d", id, j);
        params[0].key = pkey;
        params[0].value = name;
        st = lr_catalog_feature_metadata_update(cat, "shared", "amount", NULL, params, 1, NULL, 0,
                                                &err);
        if (st != LR_OK) {
            rc = child_fail(id, "describe shared", st, &err);
            goto done;
        }
    }
    rc = child_add_feature(cat, id);
done:
    lr_catalog_close(cat);
    return rc;
}

/* One full listing by name, page by page; checks order and uniqueness. */
static int list_pass(lr_catalog *cat, char names[][65])
{
    lr_fg_list_query q;
    lr_fg_list l;
    lr_error err;
    char *token = NULL;
    int n = 0;

    lr_fg_list_query_init(&q);
    q.sort_by = LR_SORT_NAME;
    q.ascending = true;
    q.max_results = 7;
    do {
        q.next_token = token;
        lr_status st = lr_catalog_fg_list(cat, &q, &l, &err);
        if (st != LR_OK)
            fail_msg("parent list: %s: %s", lr_status_name(st), err.msg);
        for (uint32_t i = 0; i < l.n; i++) {
            assert_true(n < MAX_GROUPS);
            if (n > 0)
                assert_true(strcmp(names[n - 1], l.items[i].name) < 0);
            snprintf(names[n++], 65, "%s", l.items[i].name);
        }
        free(token);
        token = l.next_token ? strdup(l.next_token) : NULL;
        lr_fg_list_free(&l);
    } while (token);
    return n;
}

static void test_processes_share_a_directory(void **state)
{
    char *dir = lr_test_tmpdir("catalog-mp");
    char *data = lr_test_path(dir, "data");
    lr_settings s = settings();
    static char names[MAX_GROUPS][65];
    pid_t pids[CHILDREN];
    int start[2], running = CHILDREN, passes = 0, failures = 0;
    lr_catalog *cat = NULL;
    lr_feature_metadata m;
    lr_fg_def *shared = NULL;
    lr_error err;
    (void)state;

    assert_non_null(dir);
    assert_int_equal(pipe(start), 0);
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char c;
            close(start[1]);
            /* Wait for the start signal: the parent closing its end. */
            while (read(start[0], &c, 1) > 0) {
            }
            _exit(child_main(data, i));
        }
    }
    close(start[0]);
    close(start[1]);

    /* The parent races the children to open the fresh directory, then lists. */
    assert_int_equal(lr_catalog_open(data, &s, &cat, &err), LR_OK);
    while (running > 0 || passes == 0) {
        list_pass(cat, names);
        passes++;
        for (int i = 0; i < CHILDREN; i++) {
            int status;
            if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                    failures++;
                pids[i] = 0;
                running--;
            }
        }
    }
    assert_int_equal(failures, 0);

    /* Every group landed. */
    assert_int_equal(list_pass(cat, names), MAX_GROUPS);
    for (int i = 0; i < CHILDREN; i++) {
        for (int j = 0; j < GROUPS_PER_CHILD; j++) {
            char name[64], desc[96], owner[16];
            snprintf(name, sizeof name, "p%d-g%02d", i, j);
            assert_int_equal(lr_catalog_feature_metadata_get(cat, name, "amount", &m, &err), LR_OK);
            snprintf(desc, sizeof desc, "amount of %s", name);
            snprintf(owner, sizeof owner, "child-%d", i);
            assert_string_equal(m.description, desc);
            assert_int_equal(m.n_params, 2);
            assert_string_equal(m.params[0].key, "index");
            assert_string_equal(m.params[1].key, "owner");
            assert_string_equal(m.params[1].value, owner);
            lr_feature_metadata_free(&m);
        }
    }
    /* Every contended write to the shared group landed. */
    assert_int_equal(lr_catalog_feature_metadata_get(cat, "shared", "amount", &m, &err), LR_OK);
    assert_int_equal(m.n_params, CHILDREN * GROUPS_PER_CHILD);
    lr_feature_metadata_free(&m);
    assert_int_equal(lr_catalog_fg_get(cat, "shared", &shared, &err), LR_OK);
    assert_int_equal(shared->n_features, 3 + CHILDREN);
    for (int i = 0; i < CHILDREN; i++) {
        char feat[16];
        snprintf(feat, sizeof feat, "c%d", i);
        assert_true(lr_fg_def_find_feature(shared, feat, strlen(feat)) >= 3);
        assert_int_equal(lr_catalog_feature_metadata_get(cat, "shared", feat, &m, &err), LR_OK);
        lr_feature_metadata_free(&m);
    }
    lr_fg_def_free(shared);
    lr_catalog_close(cat);
    lr_test_rmtree(dir);
    free(data);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processes_share_a_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
