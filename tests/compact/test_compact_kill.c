/*
 * test_compact_kill.c - compaction killed with SIGKILL at random points.
 *
 * Each round adds a few files to random hours, then forks one compaction
 * (or, every third round, two racing each other for the leases) and kills
 * it: either a crash hook inside the protocol fires (after the lease, the
 * announcement of an output file, writing it, verifying, the swap, each
 * deletion), or the parent sends SIGKILL after a random delay. Options vary
 * by round: mode, threads (more threads than changed partitions split a
 * partition among readers and key-range writers), a tiny memory budget that
 * forces spilled runs,
 * small target sizes, and a grace period of zero (old files deleted right
 * after the swap) or of an hour.
 *
 * While the children run, a reader thread in the parent scans the group
 * through the catalog again and again: every scan that completes must
 * return exactly the rows written (no row lost, none twice: a reader never
 * sees both a partition's old files and its new ones). After each round the
 * rows are checked again.
 *
 * At the end a run without kills must complete; then storage must hold
 * exactly the live files plus the retired files still in their grace
 * period (nothing the killed runs wrote is left), no job may be InProgress,
 * and every Completed job must have every partition Completed.
 *
 * Rounds: KILL_ROUNDS (20 in the default suite, 200 under `slow`). The
 * assertions hold whatever the timing; only where the kills land varies.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compact/compact_internal.h"
#include "compact_testlib.h"
#include "larder/log.h"
#include "support/testutil.h"

#ifndef KILL_ROUNDS
#define KILL_ROUNDS 20
#endif

static const char *const FG = "meter-day-month_hour";

static unsigned crash_odds;
static unsigned rng;

static unsigned rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

static void crash_hook(const char *point)
{
    (void)point;
    if (crash_odds != 0 && rnd() % crash_odds == 0)
        raise(SIGKILL);
}

static void child(const char *dir, unsigned seed)
{
    lr_compact_options o;
    lr_error err;

    lr_log_set_level(LR_LOG_ERROR);
    rng = seed;
    /* A quarter of the runs only risk the parent's SIGKILL. */
    crash_odds = rnd() % 4 == 0 ? 0 : 3 + rnd() % 40;
    lr__compact_crash_hook = crash_hook;
    ct_options(&o);
    o.mode = rnd() % 3 == 0 ? LR_COMPACT_INCREMENTAL : LR_COMPACT_FULL;
    o.threads = 1 + rnd() % 4;
    lr__compact_par_min_rows = 500; /* few partitions, many threads: key ranges in parallel */
    if (rnd() % 3 == 0)
        o.memory_bytes = (size_t)1 << 20; /* spill */
    o.target_file_bytes = (uint64_t)(16 + rnd() % 64) << 10;
    o.grace_us = rnd() % 4 == 0 ? 3600 * 1000000LL : 0;
    lr_status st = lr_compact_run(dir, NULL, FG, &o, NULL, &err);
    _exit(st == LR_OK ? 0 : 1);
}

typedef struct reader {
    const char *dir;
    const ct_rows *expect;
    atomic_int stop;
    unsigned scans, retries;
    char failure[512];
} reader;

static void *reader_main(void *p)
{
    reader *r = p;
    lr_catalog *cat = NULL;
    lr_error err;
    if (lr_catalog_open(r->dir, NULL, &cat, &err) != LR_OK) {
        snprintf(r->failure, sizeof r->failure, "reader: %s", err.msg);
        return NULL;
    }
    while (!atomic_load(&r->stop) && r->failure[0] == '\0') {
        ct_rows got;
        lr_status st = ct_try_scan(cat, FG, &got);
        if (st != LR_OK) {
            /* A file deleted after the scan listed it (grace 0): read again. */
            r->retries++;
            continue;
        }
        r->scans++;
        if (got.n != r->expect->n) {
            snprintf(r->failure, sizeof r->failure, "a reader saw %zu rows, not %zu", got.n,
                     r->expect->n);
        } else {
            for (size_t i = 0; i < got.n; i++) {
                if (strcmp(got.v[i], r->expect->v[i]) != 0) {
                    snprintf(r->failure, sizeof r->failure, "a reader saw row %.200s", got.v[i]);
                    break;
                }
            }
        }
        ct_rows_free(&got);
    }
    lr_catalog_close(cat);
    return NULL;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void test_kill(void **state)
{
    (void)state;
    ct_env e;
    ct_rows expect;
    lr_error err;
    unsigned parent_rng = 777;
    unsigned killed = 0, completed = 0, failed = 0, scans = 0, retries = 0;

    ct_setup(&e, FG);
    for (int h = 0; h < 6; h++)
        ct_fill(&e, "m", h, 3, 200, 60);
    for (int round = 0; round < KILL_ROUNDS; round++) {
        /* New small files in two random hours, some of them late. */
        parent_rng = parent_rng * 1103515245u + 12345u;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "r%d-", round);
        ct_fill(&e, prefix, (int)((parent_rng >> 8) % 8), 1 + (int)((parent_rng >> 12) % 2), 150,
                40);
        ct_fill(&e, prefix, (int)((parent_rng >> 16) % 8), 1, 100, 40);
        ct_reopen(&e);
        ct_scan(e.cat, FG, &expect);

        /* Fork before the reader thread starts: a child must not inherit its locks. */
        int nchild = round % 3 == 2 ? 2 : 1;
        pid_t pids[2];
        for (int c = 0; c < nchild; c++) {
            pids[c] = fork();
            assert_true(pids[c] >= 0);
            if (pids[c] == 0)
                child(e.dir, (unsigned)round * 7919u + (unsigned)c * 104729u + 1u);
        }
        reader rd;
        memset(&rd, 0, sizeof rd);
        rd.dir = e.dir;
        rd.expect = &expect;
        atomic_init(&rd.stop, 0);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
        parent_rng = parent_rng * 1103515245u + 12345u;
        unsigned delay = (parent_rng >> 8) % 400000; /* up to 0.4 s */
        sleep_us(delay);
        for (int c = 0; c < nchild; c++) {
            int status;
            pid_t w = waitpid(pids[c], &status, WNOHANG);
            if (w == 0) {
                kill(pids[c], SIGKILL);
                assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
            }
            if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
                fail_msg("round %d: a compaction died of signal %d", round, WTERMSIG(status));
            if (WIFSIGNALED(status))
                killed++;
            else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                completed++;
            else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                failed++; /* lost a lease race, or canceled by the other's takeover */
            else
                fail_msg("child ended with status %d", status);
        }
        atomic_store(&rd.stop, 1);
        pthread_join(th, NULL);
        if (rd.failure[0] != '\0')
            fail_msg("round %d: %s", round, rd.failure);
        scans += rd.scans;
        retries += rd.retries;

        ct_rows got;
        ct_reopen(&e);
        ct_scan(e.cat, FG, &got);
        ct_assert_same(&expect, &got);
        ct_rows_free(&got);
        ct_rows_free(&expect);
    }

    /* The next run finishes the work and removes what the killed runs left. */
    lr_compact_options o;
    lr_compact_result r;
    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    ct_scan(e.cat, FG, &expect);
    if (lr_compact_run(e.dir, NULL, FG, &o, &r, &err) != LR_OK)
        fail_msg("final run: %s", err.msg);
    assert_int_equal(r.status, LR_JOB_COMPLETED);
    lr_compact_result_free(&r);
    ct_reopen(&e);
    ct_rows got;
    ct_scan(e.cat, FG, &got);
    ct_assert_same(&expect, &got);
    ct_rows_free(&got);
    ct_rows_free(&expect);
    ct_assert_files_sorted(&e);

    /* Storage: the live files, plus retired ones still in their grace period, only. */
    lr_offline_file_list retired = {0}, pending = {0};
    assert_int_equal(lr_catalog_compact_retired_due(e.cat, INT64_MAX, 0, &retired, &err), LR_OK);
    assert_int_equal(lr_catalog_compact_pending(e.cat, 0, &pending, &err), LR_OK);
    assert_int_equal(pending.n, 0);
    size_t pq, tmp, live = ct_live_files(&e), in_root = 0;
    for (size_t i = 0; i < retired.n; i++)
        if (strcmp(retired.items[i].root, e.def->resolved_offline_uri) == 0)
            in_root++;
    ct_storage(e.def->resolved_offline_uri, &pq, &tmp);
    assert_int_equal(tmp, 0);
    if (pq != live + in_root)
        fail_msg("storage holds %zu files: %zu live and %zu retired expected", pq, live, in_root);
    lr_offline_file_list_free(&retired);
    lr_offline_file_list_free(&pending);

    /* Jobs: none still running; Completed ones did everything. */
    lr_compact_job_query q;
    lr_compact_job_list jl;
    memset(&q, 0, sizeof q);
    q.max_results = 1000;
    q.with_partitions = true;
    assert_int_equal(lr_compact_jobs_list(e.cat, &q, &jl, &err), LR_OK);
    unsigned jobs_failed = 0;
    for (size_t i = 0; i < jl.n; i++) {
        assert_int_not_equal(jl.items[i].status, LR_JOB_IN_PROGRESS);
        if (jl.items[i].status == LR_JOB_COMPLETED)
            assert_int_equal(jl.items[i].partitions_done, jl.items[i].partitions);
        else
            jobs_failed++;
    }
    for (size_t i = 0; i < jl.n_parts; i++) {
        for (size_t j = 0; j < jl.n; j++)
            if (jl.items[j].id == jl.parts[i].job_id && jl.items[j].status == LR_JOB_COMPLETED)
                assert_int_equal(jl.parts[i].status, LR_JOB_COMPLETED);
    }
    lr_compact_job_list_free(&jl);
    /* Every killed run is a Failed job (some died before recording one). */
    assert_true(jobs_failed <= killed + failed);
    print_message("kill test: %d rounds, %u killed, %u completed, %u failed; %u reader scans "
                  "(%u retried)\n",
                  KILL_ROUNDS, killed, completed, failed, scans, retries);
    ct_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
