/*
 * test_offline_kill.c - the kill test of the offline store.
 *
 * Each round forks a child that puts records through the library's append
 * path and flushes every few records, reporting each acknowledged record
 * (put returned LR_OK) to the parent through a pipe. The child dies by
 * SIGKILL at a random point: either the parent kills it after a random
 * number of acknowledgements, or a crash hook kills it inside the flush
 * protocol (after announcing, after writing a file, inside and after
 * publishing the files, after committing, after truncating the log). Rounds alternate the
 * object store's two ways of making a flush's files durable (syncfs, or an
 * fsync per file and folder). The next round's flushes adopt the dead logs, so
 * recovery itself is also killed at random. At the end the parent flushes
 * (adopting whatever is left) and checks that every acknowledged record is
 * in the offline store exactly once, nothing is there twice, nothing that
 * was never attempted is there, and garbage collection leaves storage
 * holding exactly the registered files.
 *
 * Rounds: KILL_ROUNDS (20 in the default suite, more in the slow one).
 * The assertions hold whatever the timing; only the kill points vary.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/catalog.h"
#include "larder/log.h"
#include "larder/objstore.h"
#include "larder/offline.h"
#include "offline/objstore_internal.h"
#include "offline/offline_internal.h"
#include "support/testutil.h"

#ifndef KILL_ROUNDS
#define KILL_ROUNDS 20
#endif
#define MAX_PER_ROUND 400

static const char FG_JSON[] =
    "{\"FeatureGroupName\":\"events\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"}],"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static unsigned crash_odds; /* 1 in crash_odds per crash point; 0: never */
static unsigned rng_state;

static unsigned rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) & 0xffffff;
}

static void crash_hook(const char *point)
{
    (void)point;
    if (crash_odds && rnd() % crash_odds == 0)
        raise(SIGKILL);
}

static void child(const char *dir, int round, int fd)
{
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_offline *s = NULL;
    lr_offline_config c;
    lr_error err;
    static const lr_offline_sync policies[3] = {LR_OFFLINE_SYNC_EVERYSEC, LR_OFFLINE_SYNC_ALWAYS,
                                                LR_OFFLINE_SYNC_NO};

    lr_log_set_level(LR_LOG_ERROR);
    rng_state = (unsigned)round * 7919u + 17u;
    crash_odds = 3 + rnd() % 10;
    lr__offline_crash_hook = crash_hook;
    lr__objstore_crash_hook = crash_hook;
    lr_offline_config_init(&c);
    c.sync = policies[round % 3];
    lr__objstore_local_fsync_only = (round / 3) % 2 == 1;
    c.segment_bytes = 2048 + rnd() % 8192; /* several segments per flush */
    c.gc_grace_us = 0;                      /* collect leftovers at once */
    if (lr_catalog_open(dir, NULL, &cat, &err) != LR_OK ||
        lr_catalog_fg_get(cat, "events", &def, &err) != LR_OK ||
        lr_offline_open(dir, NULL, &c, &s, &err) != LR_OK) {
        fprintf(stderr, "child: %s\n", err.msg);
        _exit(2);
    }
    unsigned next_flush = 1 + rnd() % 25;
    for (int i = 0; i < MAX_PER_ROUND; i++) {
        char id[32], ts[32], n[16];
        lr_feature_value v[3];
        lr_record rec;
        snprintf(id, sizeof id, "r%d-%d", round, i);
        snprintf(ts, sizeof ts, "%d.%03d", 1717200000 + (i % 4) * 3600 + i, i % 1000);
        snprintf(n, sizeof n, "%d", i);
        memset(v, 0, sizeof v);
        v[0].feature = 0;
        v[0].value = (lr_str){id, strlen(id)};
        v[1].feature = 1;
        v[1].value = (lr_str){ts, strlen(ts)};
        v[2].feature = 2;
        v[2].value = (lr_str){n, strlen(n)};
        memset(&rec, 0, sizeof rec);
        rec.values = v;
        rec.n_values = 3;
        if (lr_record_validate(def, &rec, &err) != LR_OK ||
            lr_offline_put(s, def, &rec, 1000 + i, &err) != LR_OK) {
            fprintf(stderr, "child put: %s\n", err.msg);
            _exit(3);
        }
        int32_t ack = i;
        if (write(fd, &ack, sizeof ack) != (ssize_t)sizeof ack)
            _exit(4);
        if (--next_flush == 0) {
            if (lr_offline_flush(s, &err) != LR_OK && err.code != LR_ECONFLICT) {
                fprintf(stderr, "child flush: %s\n", err.msg);
                _exit(5);
            }
            next_flush = 1 + rnd() % 25;
        }
    }
    /* Survived every kill point: end without closing (an unclean exit). */
    _exit(0);
}

typedef struct seen {
    int count[KILL_ROUNDS][MAX_PER_ROUND];
    int acked[KILL_ROUNDS]; /* records 0..acked-1 were acknowledged */
} seen;

static lr_status count_log(void *arg, const char *id, lr_error *err)
{
    (void)id;
    (void)err;
    (*(int *)arg)++;
    return LR_OK;
}

static lr_status list_obj(void *arg, const lr_object_info *o, lr_error *err)
{
    (void)err;
    size_t l = strlen(o->key);
    if (l > 8 && strcmp(o->key + l - 8, ".parquet") == 0)
        (*(int *)arg)++;
    return LR_OK;
}

static void test_kill(void **state)
{
    (void)state;
    char *dir = lr_test_tmpdir("larder-kill");
    lr_catalog *cat = NULL;
    lr_fg_def *req = NULL, *def = NULL;
    lr_error err;
    seen *sn = calloc(1, sizeof *sn);
    unsigned parent_rng = 4242;

    assert_non_null(dir);
    assert_int_equal(lr_catalog_open(dir, NULL, &cat, &err), LR_OK);
    assert_int_equal(lr_fg_def_parse(FG_JSON, strlen(FG_JSON), &req, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(cat, req, &def, &err), LR_OK);

    for (int round = 0; round < KILL_ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(dir, round, p[1]);
        }
        close(p[1]);
        parent_rng = parent_rng * 1103515245u + 12345u;
        int kill_after = 1 + (int)((parent_rng >> 8) % 300);
        int got = 0;
        bool killed = false;
        for (;;) {
            int32_t ack;
            ssize_t k = read(p[0], &ack, sizeof ack);
            if (k < 0 && errno == EINTR)
                continue;
            if (k != (ssize_t)sizeof ack)
                break;
            assert_int_equal(ack, got);
            got++;
            if (!killed && got >= kill_after) {
                kill(pid, SIGKILL);
                killed = true;
            }
        }
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* Killed, or ran to the end; never a failure of its own. */
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        sn->acked[round] = got;
    }

    /* Restart: a new process flushes what the dead left behind. */
    lr_offline *s = NULL;
    lr_offline_config c;
    lr_offline_config_init(&c);
    c.gc_grace_us = 0;
    lr_log_set_level(LR_LOG_ERROR);
    assert_int_equal(lr_offline_open(dir, NULL, &c, &s, &err), LR_OK);
    if (lr_offline_flush(s, &err) != LR_OK)
        fail_msg("final flush: %s", err.msg);

    lr_offline_scan *sc = NULL;
    const lr_offline_batch *b;
    uint64_t rows = 0;
    assert_int_equal(lr_offline_scan_open(cat, "events", NULL, &sc, &err), LR_OK);
    for (;;) {
        if (lr_offline_scan_next(sc, &b, &err) != LR_OK)
            fail_msg("scan: %s", err.msg);
        if (b == NULL)
            break;
        const lr_pq_column_batch *id = &b->columns[0];
        for (uint32_t r = 0; r < b->n_rows; r++) {
            int round, i;
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%.*s", (int)(id->offsets[r + 1] - id->offsets[r]),
                     id->bytes + id->offsets[r]);
            assert_int_equal(sscanf(tmp, "r%d-%d", &round, &i), 2);
            assert_true(round >= 0 && round < KILL_ROUNDS && i >= 0 && i < MAX_PER_ROUND);
            /* n matches the id: the row is whole. */
            assert_int_equal(b->columns[2].i64[r], i);
            sn->count[round][i]++;
            rows++;
        }
    }
    lr_offline_scan_free(sc);

    uint64_t acked = 0;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        for (int i = 0; i < MAX_PER_ROUND; i++) {
            if (i < sn->acked[round]) {
                if (sn->count[round][i] != 1)
                    fail_msg("round %d record %d acknowledged, found %d times", round, i,
                             sn->count[round][i]);
            } else if (i == sn->acked[round]) {
                /* In flight when killed: written or not, but never twice. */
                assert_true(sn->count[round][i] <= 1);
            } else {
                assert_int_equal(sn->count[round][i], 0);
            }
        }
        acked += (uint64_t)sn->acked[round];
    }
    assert_true(rows >= acked);
    assert_true(rows <= acked + KILL_ROUNDS);

    /* Every log was adopted and removed; storage holds exactly the live files. */
    assert_int_equal(lr_offline_gc(cat, 0, NULL, &err), LR_OK);
    lr_offline_close(s);
    char walroot[4096];
    int logs = 0;
    snprintf(walroot, sizeof walroot, "%s/wal", dir);
    assert_int_equal(lr__wal_list(walroot, count_log, &logs, &err), LR_OK);
    assert_int_equal(logs, 0);
    lr_offline_group_stats gs;
    assert_int_equal(lr_offline_group_stats_get(cat, "events", &gs, &err), LR_OK);
    assert_int_equal(gs.rows, rows);
    lr_objstore *os = NULL;
    int stored = 0;
    assert_int_equal(lr_objstore_open(def->resolved_offline_uri, &os, &err), LR_OK);
    assert_int_equal(lr_objstore_list(os, "", list_obj, &stored, &err), LR_OK);
    /* Garbage collection also took the temporary files of the interrupted flushes. */
    uint64_t leftover = 0;
    assert_int_equal(lr_objstore_abort_incomplete(os, "", INT64_MAX, &leftover, &err), LR_OK);
    assert_int_equal(leftover, 0);
    lr_objstore_close(os);
    assert_int_equal((uint64_t)stored, gs.files);
    print_message("kill test: %d rounds, %llu acknowledged, %llu rows, %llu files\n", KILL_ROUNDS,
                  (unsigned long long)acked, (unsigned long long)rows,
                  (unsigned long long)gs.files);

    lr_fg_def_free(req);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    lr_test_rmtree(dir);
    free(dir);
    free(sn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
