/*
 * test_objstore.c - the object-storage interface and its local-directory
 * backend: URIs, key rules, whole-object put/get, range reads, head, listing
 * by prefix in S3's key order, deletes (idempotent, pruning empty folders),
 * removal of the remains of interrupted puts, and batches (on the syncfs
 * path and the fsync path, freed uncommitted, failing midway, and through
 * a backend without batch operations).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/objstore.h"
#include "larder/value.h"
#include "offline/objstore_internal.h"
#include "support/testutil.h"

static int setup(void **state)
{
    char *dir = lr_test_tmpdir("larder-os");
    *state = dir;
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    lr_test_rmtree(*state);
    free(*state);
    return 0;
}

static void test_uris_and_keys(void **state)
{
    (void)state;
    lr_objstore *os = NULL;
    lr_error err;
    const char *p;

    assert_true(lr_objstore_uri_local_path("file:///srv/x", &p));
    assert_string_equal(p, "/srv/x");
    assert_true(lr_objstore_uri_local_path("relative/dir", &p));
    assert_false(lr_objstore_uri_local_path("s3://bucket/x", &p));
    assert_int_equal(lr_objstore_open("s3://bucket/prefix", &os, &err), LR_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "s3://"));
    assert_int_equal(lr_objstore_open("file://relative", &os, &err), LR_EINVAL);
    assert_int_equal(lr_objstore_open("", &os, &err), LR_EINVAL);

    assert_true(lr_objstore_key_valid("a"));
    assert_true(lr_objstore_key_valid("year=2024/month=01/x.parquet"));
    assert_false(lr_objstore_key_valid(""));
    assert_false(lr_objstore_key_valid("/a"));
    assert_false(lr_objstore_key_valid("a/"));
    assert_false(lr_objstore_key_valid("a//b"));
    assert_false(lr_objstore_key_valid("a/../b"));
    assert_false(lr_objstore_key_valid("./b"));
    assert_false(lr_objstore_key_valid("a/.lrtmp.x"));

    char *j = NULL;
    assert_int_equal(lr_objstore_uri_join("s3://b/p/", "k/x", &j, &err), LR_OK);
    assert_string_equal(j, "s3://b/p/k/x");
    free(j);
}

typedef struct listing {
    char keys[64][128];
    uint64_t sizes[64];
    int n;
} listing;

static lr_status collect(void *arg, const lr_object_info *o, lr_error *err)
{
    listing *l = arg;
    (void)err;
    if (l->n < 64) {
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", o->key);
        l->sizes[l->n] = o->size;
        l->n++;
    }
    return LR_OK;
}

static void test_put_get_list_delete(void **state)
{
    const char *dir = *state;
    char uri[4096], root[4096];
    lr_objstore *os = NULL;
    lr_error err;
    lr_buf b;
    listing l;

    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(uri, sizeof uri, "file://%s", root);
    assert_int_equal(lr_objstore_open(uri, &os, &err), LR_OK);
    assert_string_equal(lr_objstore_scheme(os), "file");
    assert_string_equal(lr_objstore_root(os), uri);

    /* Listing a root that does not exist yet is empty, not an error. */
    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 0);

    const char *keys[] = {"b/x", "a-c", "a/b/c", "a/bc", "a/b0", "a.b", "z"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(lr_objstore_put(os, keys[i], keys[i], strlen(keys[i]), &err), LR_OK);
    /* A put onto a folder fails: locally a key cannot also be a folder. */
    assert_int_equal(lr_objstore_put(os, "a/b", "x", 1, &err), LR_EIO);

    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "", collect, &l, &err), LR_OK);
    /* S3's order: bytes ascending ('-' < '.' < '/' < '0'). */
    const char *sorted[] = {"a-c", "a.b", "a/b/c", "a/b0", "a/bc", "b/x", "z"};
    assert_int_equal(l.n, 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(l.keys[i], sorted[i]);

    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "a/b", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], "a/b/c");
    assert_string_equal(l.keys[1], "a/b0");
    assert_string_equal(l.keys[2], "a/bc");
    assert_int_equal(l.sizes[0], 5);

    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "a/b/", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 1);

    /* Whole gets, capped gets, range gets, head. */
    assert_int_equal(lr_objstore_get(os, "a/b/c", 100, &b, &err), LR_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "a/b/c", 5);
    lr_buf_free(&b);
    assert_int_equal(lr_objstore_get(os, "a/b/c", 4, &b, &err), LR_ELIMIT);
    lr_buf_free(&b);
    assert_int_equal(lr_objstore_get(os, "nope", 4, &b, &err), LR_ENOTFOUND);
    lr_buf_free(&b);
    assert_int_equal(lr_objstore_get(os, "a", 4, &b, &err), LR_ENOTFOUND); /* a folder */
    lr_buf_free(&b);
    char rbuf[8];
    size_t got = 0;
    assert_int_equal(lr_objstore_get_range(os, "a/b/c", 2, 8, rbuf, &got, &err), LR_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(rbuf, "b/c", 3);
    assert_int_equal(lr_objstore_get_range(os, "a/b/c", 9, 8, rbuf, &got, &err), LR_OK);
    assert_int_equal(got, 0);
    uint64_t size = 0;
    int64_t mtime = 0;
    assert_int_equal(lr_objstore_head(os, "z", &size, &mtime, &err), LR_OK);
    assert_int_equal(size, 1);
    assert_true(mtime > lr_now_us() - 3600LL * 1000000);
    assert_int_equal(lr_objstore_head(os, "zz", &size, &mtime, &err), LR_ENOTFOUND);

    /* Overwrite replaces the whole object. */
    assert_int_equal(lr_objstore_put(os, "z", "longer", 6, &err), LR_OK);
    assert_int_equal(lr_objstore_head(os, "z", &size, NULL, &err), LR_OK);
    assert_int_equal(size, 6);

    /* Deletes are idempotent and remove folders they leave empty. */
    assert_int_equal(lr_objstore_delete(os, "b/x", &err), LR_OK);
    assert_int_equal(lr_objstore_delete(os, "b/x", &err), LR_OK);
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/b", root);
    assert_int_not_equal(stat(p, &sb), 0);
    assert_int_equal(lr_objstore_delete(os, "a/b/c", &err), LR_OK);
    snprintf(p, sizeof p, "%s/a/b", root);
    assert_int_not_equal(stat(p, &sb), 0); /* emptied, so removed */
    snprintf(p, sizeof p, "%s/a", root);
    assert_int_equal(stat(p, &sb), 0); /* still holds a/b0 and a/bc */
    /* And a put into a folder a delete just removed works. */
    assert_int_equal(lr_objstore_put(os, "b/y/z", "1", 1, &err), LR_OK);
    lr_objstore_close(os);
}

static void test_abort_incomplete(void **state)
{
    const char *dir = *state;
    lr_objstore *os = NULL;
    lr_error err;
    listing l;
    char p[4096];
    uint64_t n = 0;

    assert_int_equal(lr_objstore_open(dir, &os, &err), LR_OK);
    assert_int_equal(lr_objstore_put(os, "p/obj", "x", 1, &err), LR_OK);
    /* What a crashed put leaves: a temporary file in the object's folder. */
    snprintf(p, sizeof p, "%s/p/.lrtmp.deadbeef", dir);
    assert_int_equal(lr_test_write_file(p, "part", 4), 0);
    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 1); /* never listed */
    /* Younger than the threshold: kept. */
    assert_int_equal(lr_objstore_abort_incomplete(os, "p/", lr_now_us() - 3600LL * 1000000, &n,
                                                  &err),
                     LR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(lr_objstore_abort_incomplete(os, "p/", lr_now_us() + 1000000, &n, &err),
                     LR_OK);
    assert_int_equal(n, 1);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/p/obj", dir);
    assert_int_equal(access(p, F_OK), 0);
    lr_objstore_close(os);
}

/* Removes and counts the temporary files under the root (they are never listed). */
static int tmp_files(lr_objstore *os)
{
    lr_error err;
    uint64_t removed = 0;
    assert_int_equal(lr_objstore_abort_incomplete(os, "", lr_now_us() + 3600LL * 1000000,
                                                  &removed, &err),
                     LR_OK);
    return (int)removed;
}

static void expect_object(lr_objstore *os, const char *key, const char *data)
{
    lr_buf b;
    lr_error err;
    assert_int_equal(lr_objstore_get(os, key, 1 << 20, &b, &err), LR_OK);
    assert_int_equal(b.len, strlen(data));
    assert_memory_equal(b.data, data, b.len);
    lr_buf_free(&b);
}

/* One batch across new and existing folders: nothing shows before the commit, all after. */
static void batch_round(const char *dir, bool fsync_only)
{
    char root[4096];
    lr_objstore *os = NULL;
    lr_objstore_batch *b = NULL;
    lr_error err;
    listing l;
    char key[64], val[64];

    lr__objstore_local_fsync_only = fsync_only;
    snprintf(root, sizeof root, "%s/%s", dir, fsync_only ? "fsync" : "auto");
    assert_int_equal(lr_objstore_open(root, &os, &err), LR_OK);
    assert_int_equal(lr_objstore_put(os, "year=2024/month=01/day=01/hour=00/old", "old", 3, &err),
                     LR_OK);

    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    for (int i = 0; i < 40; i++) {
        /* Two objects per folder; folders old and new, some days and months new. */
        snprintf(key, sizeof key, "year=2024/month=0%d/day=%02d/hour=%02d/f%d", 1 + i / 16,
                 1 + (i / 4) % 4, (i / 2) % 2, i);
        snprintf(val, sizeof val, "value %d", i);
        assert_int_equal(lr_objstore_batch_put(b, key, val, strlen(val), &err), LR_OK);
    }
    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 1); /* only the object put before */
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_OK);
    /* A batch is used once. */
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_EINVAL);
    assert_int_equal(lr_objstore_batch_put(b, "x", "x", 1, &err), LR_EINVAL);
    lr_objstore_batch_free(b);

    memset(&l, 0, sizeof l);
    assert_int_equal(lr_objstore_list(os, "", collect, &l, &err), LR_OK);
    assert_int_equal(l.n, 41);
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "year=2024/month=0%d/day=%02d/hour=%02d/f%d", 1 + i / 16,
                 1 + (i / 4) % 4, (i / 2) % 2, i);
        snprintf(val, sizeof val, "value %d", i);
        expect_object(os, key, val);
    }
    assert_int_equal(tmp_files(os), 0);

    /* An empty batch commits and touches nothing. */
    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_OK);
    lr_objstore_batch_free(b);

    /* Freed without a commit: no object, no temporary file. */
    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "new/a", "a", 1, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "year=2024/month=01/day=01/hour=00/old", "new", 3,
                                           &err),
                     LR_OK);
    lr_objstore_batch_free(b);
    assert_int_equal(lr_objstore_head(os, "new/a", NULL, NULL, &err), LR_ENOTFOUND);
    expect_object(os, "year=2024/month=01/day=01/hour=00/old", "old");
    assert_int_equal(tmp_files(os), 0);

    /* A put that fails (its folder is an object) ends the batch; freeing cleans up. */
    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "ok/1", "1", 1, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "year=2024/month=01/day=01/hour=00/old/x", "x", 1,
                                           &err),
                     LR_EIO);
    assert_int_equal(lr_objstore_batch_put(b, "ok/2", "2", 1, &err), LR_EINVAL);
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_EINVAL);
    assert_int_equal(lr_objstore_batch_put(b, "bad//key", "", 0, &err), LR_EINVAL);
    lr_objstore_batch_free(b);
    assert_int_equal(lr_objstore_head(os, "ok/1", NULL, NULL, &err), LR_ENOTFOUND);
    assert_int_equal(tmp_files(os), 0);

    /* A commit onto a folder fails as a put does; the batch's other objects may remain whole. */
    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "year=2024/month=01", "x", 1, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_EIO);
    lr_objstore_batch_free(b);
    assert_int_equal(tmp_files(os), 0);

    lr_objstore_close(os);
    lr__objstore_local_fsync_only = false;
}

static void test_batch(void **state)
{
    batch_round(*state, false);
    batch_round(*state, true);
    lr_objstore_batch_free(NULL);
}

static lr_status plain_open(const char *dir, const lr_objstore_ops *ops, lr_objstore **os)
{
    void *ctx = NULL;
    lr_error err;
    lr_status st = lr__objstore_local_open(dir, &ctx, &err);
    if (st != LR_OK)
        return st;
    st = lr_objstore_new(ops, ctx, dir, os, &err);
    if (st == LR_EINVAL)
        lr__objstore_local_ops.close(ctx); /* not taken */
    return st;
}

/* A backend without batch operations gets batches made of single puts. */
static void test_batch_fallback(void **state)
{
    const char *dir = *state;
    lr_objstore_ops plain = lr__objstore_local_ops;
    lr_objstore *os = NULL;
    lr_objstore_batch *b = NULL;
    lr_error err;

    plain.batch_begin = NULL;
    plain.batch_put = NULL;
    plain.batch_commit = NULL;
    plain.batch_free = NULL;
    assert_int_equal(plain_open(dir, &plain, &os), LR_OK);
    assert_int_equal(lr_objstore_batch_begin(os, &b, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "p/q/1", "one", 3, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_put(b, "p/r/2", "two", 3, &err), LR_OK);
    assert_int_equal(lr_objstore_batch_commit(b, &err), LR_OK);
    lr_objstore_batch_free(b);
    expect_object(os, "p/q/1", "one");
    expect_object(os, "p/r/2", "two");
    lr_objstore_close(os);

    /* Batch operations given in part are refused. */
    plain.batch_begin = lr__objstore_local_ops.batch_begin;
    os = NULL;
    assert_int_equal(plain_open(dir, &plain, &os), LR_EINVAL);
    assert_null(os);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uris_and_keys),
        cmocka_unit_test_setup_teardown(test_put_get_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_fallback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
