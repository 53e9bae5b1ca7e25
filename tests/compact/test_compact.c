/*
 * test_compact.c - compaction's behaviour through the library: modes,
 * partition choice, sorting, dedup, the external merge, file sizes, copies,
 * grace periods, failures named by path, leases, dead and canceled jobs,
 * ingestion during compaction, job JSON and metrics.
 *
 * Data is written with the offline store's own write path, one file per
 * flush, and read back through the catalog (lr_offline_scan), so "the same
 * rows" is checked the way readers see the store.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compact/compact_internal.h"
#include "compact_testlib.h"
#include "larder/log.h"
#include "support/testutil.h"

static lr_status run(ct_env *e, const lr_compact_options *o, lr_compact_result *r, lr_error *err)
{
    lr_status st = lr_compact_run(e->dir, NULL, e->def->name, o, r, err);
    ct_reopen(e);
    return st;
}

static void must_run(ct_env *e, const lr_compact_options *o, lr_compact_result *r)
{
    lr_error err;
    if (run(e, o, r, &err) != LR_OK)
        fail_msg("compaction failed: %s", err.msg);
    assert_int_equal(r->status, LR_JOB_COMPLETED);
}

static void job_of(ct_env *e, int64_t id, lr_compact_job_list *l)
{
    lr_error err;
    if (lr_compact_job_get(e->cat, id, l, &err) != LR_OK)
        fail_msg("job %lld: %s", (long long)id, err.msg);
}

/* In place, full: every hour becomes one sorted file with the same rows. */
static void test_inplace_full(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    lr_compact_job_list jl;

    ct_setup(&e, "events");
    ct_fill(&e, "u", 0, 6, 50, 40);
    ct_fill(&e, "u", 1, 4, 30, 40);
    ct_fill(&e, "v", 5, 3, 20, 10);
    assert_int_equal(ct_live_files(&e), 13);
    ct_scan(e.cat, "events", &before);

    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 3);
    assert_int_equal(r.partitions_done, 3);
    assert_int_equal(r.files_in, 13);
    assert_int_equal(r.files_out, 3);
    assert_int_equal(r.rows_in, 300 + 120 + 60);
    assert_int_equal(r.rows_out, r.rows_in);
    assert_int_equal(r.rows_dropped, 0);
    assert_true(r.job_id > 0);
    assert_int_equal(ct_live_files(&e), 3);
    ct_scan(e.cat, "events", &after);
    ct_assert_same(&before, &after);
    ct_assert_files_sorted(&e);
    ct_assert_storage_is_catalog(&e); /* grace 0: old files are gone */

    job_of(&e, r.job_id, &jl);
    assert_int_equal(jl.items[0].status, LR_JOB_COMPLETED);
    assert_string_equal(jl.items[0].mode, "full");
    assert_int_equal(jl.items[0].partitions, 3);
    assert_int_equal(jl.items[0].partitions_done, 3);
    assert_int_equal(jl.items[0].files_in, 13);
    assert_int_equal(jl.items[0].files_out, 3);
    assert_int_equal(jl.items[0].rows_out, 480);
    assert_int_equal(jl.n_parts, 3);
    for (size_t i = 0; i < jl.n_parts; i++)
        assert_int_equal(jl.parts[i].status, LR_JOB_COMPLETED);
    assert_true(jl.items[0].end_us >= jl.items[0].start_us);
    lr_compact_job_list_free(&jl);
    lr_compact_result_free(&r);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* Incremental takes what changed since its last run, wherever it is: late data too. */
static void test_incremental_late_data(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;

    ct_setup(&e, "late");
    ct_fill(&e, "a", 0, 3, 10, 5);
    ct_fill(&e, "a", 30, 3, 10, 5); /* a day and six hours later */
    ct_options(&o);
    must_run(&e, &o, &r); /* never compacted: both */
    assert_int_equal(r.partitions, 2);
    lr_compact_result_free(&r);
    must_run(&e, &o, &r); /* nothing changed */
    assert_int_equal(r.partitions, 0);
    assert_true(r.job_id > 0); /* still a job */
    lr_compact_result_free(&r);

    /* Late data lands in the first, old partition. */
    ct_fill(&e, "late", 0, 2, 5, 5);
    ct_scan(e.cat, "late", &before);
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 1);
    assert_string_equal(r.parts[0].partition, "year=2024/month=06/day=01/hour=00");
    assert_int_equal(r.files_in, 3);
    assert_int_equal(r.files_out, 1);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "late", &after);
    ct_assert_same(&before, &after);
    ct_assert_storage_is_catalog(&e);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* Day mode: only the partitions of that UTC date. */
static void test_day_mode(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_error err;

    ct_setup(&e, "daily");
    ct_fill(&e, "d", 0, 2, 5, 5);
    ct_fill(&e, "d", 23, 2, 5, 5);
    ct_fill(&e, "d", 24, 2, 5, 5); /* the next day */
    ct_options(&o);
    o.mode = LR_COMPACT_DAY;
    assert_int_equal(run(&e, &o, &r, &err), LR_EINVAL); /* no date */
    lr_compact_result_free(&r);
    o.date = "2024-06-01";
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 2);
    assert_int_equal(ct_live_files(&e), 4);
    lr_compact_result_free(&r);
    o.date = "2024-06-31";
    assert_int_equal(run(&e, &o, &r, &err), LR_EINVAL);
    lr_compact_result_free(&r);
    ct_teardown(&e, false);
}

/* Group names holding date words are compacted like any other (the old tool's bug). */
static void test_date_word_names(void **state)
{
    (void)state;
    static const char *const names[] = {"day", "month", "year_hour", "hourly-day-month"};
    for (size_t i = 0; i < 4; i++) {
        ct_env e;
        ct_rows before, after;
        lr_compact_options o;
        lr_compact_result r;
        ct_setup(&e, names[i]);
        ct_fill(&e, "x", 2, 4, 8, 6);
        ct_fill(&e, "x", 26, 3, 8, 6);
        ct_scan(e.cat, names[i], &before);
        ct_options(&o);
        o.mode = LR_COMPACT_FULL;
        must_run(&e, &o, &r);
        assert_int_equal(r.partitions, 2);
        assert_int_equal(r.files_in, 7);
        assert_int_equal(r.files_out, 2);
        lr_compact_result_free(&r);
        /* ... and by day. */
        o.mode = LR_COMPACT_DAY;
        o.date = "2024-06-02";
        must_run(&e, &o, &r);
        assert_int_equal(r.partitions, 1);
        lr_compact_result_free(&r);
        ct_scan(e.cat, names[i], &after);
        ct_assert_same(&before, &after);
        ct_rows_free(&before);
        ct_rows_free(&after);
        ct_teardown(&e, false);
    }
}

/* Dedup keeps the latest api_invocation_time (then write_time) per id and event time. */
static void test_dedup(void **state)
{
    (void)state;
    ct_env e;
    ct_rows after;
    lr_compact_options o;
    lr_compact_result r;

    ct_setup(&e, "dups");
    /* id k written 3 times at the same event time with api 100, 300, 200; flushed apart. */
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < 20; k++) {
            char id[16];
            static const int64_t api[3] = {100, 300, 200};
            snprintf(id, sizeof id, "k%02d", k);
            ct_put(&e, id, CT_T0 + k * 1000000LL, f * 100 + k, 1, api[f]);
        }
        ct_flush(&e);
    }
    /* Same id, other event times: kept. */
    ct_put(&e, "k00", CT_T0 + 500000000LL, 7, 1, 50);
    ct_flush(&e);
    ct_options(&o);
    o.dedup = true;
    must_run(&e, &o, &r);
    assert_int_equal(r.rows_in, 61);
    assert_int_equal(r.rows_dropped, 40);
    assert_int_equal(r.rows_out, 21);
    assert_int_equal(r.parts[0].rows_dropped, 40);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "dups", &after);
    assert_int_equal(after.n, 21);
    /* The survivors are the api 300 rows: n = 100 + k. */
    for (size_t i = 0; i < after.n; i++) {
        const char *n = strchr(strchr(after.v[i], '|') + 1, '|') + 1;
        long v = strtol(n, NULL, 10);
        assert_true(v == 7 || (v >= 100 && v < 120));
    }
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* A small memory budget forces sorted runs on disk; a small target, several files. */
static void test_external_merge_and_sizes(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    lr_offline_file_list l = {0};
    lr_error err;

    ct_setup(&e, "big");
    ct_fill(&e, "id-with-a-long-common-prefix-", 0, 20, 1500, 997);
    ct_scan(e.cat, "big", &before);
    ct_options(&o);
    o.memory_bytes = (size_t)1 << 20; /* 1 MiB: about 8 runs for 30,000 rows */
    o.threads = 1;
    o.target_file_bytes = 128 << 10;
    o.mode = LR_COMPACT_FULL;
    must_run(&e, &o, &r);
    assert_true(r.files_out >= 3);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "big", &after);
    ct_assert_same(&before, &after);
    ct_assert_files_sorted(&e);
    ct_assert_storage_is_catalog(&e);
    /* Near the target: every file but the last within a factor of two. */
    assert_int_equal(lr_catalog_offline_files(e.cat, "big", e.def->creation_time_us, INT64_MIN,
                                              INT64_MAX, &l, &err),
                     LR_OK);
    int64_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        total += l.items[i].bytes;
        if (l.items[i].bytes > 2 * (int64_t)o.target_file_bytes)
            fail_msg("file %s is %lld bytes for a %llu target", l.items[i].key,
                     (long long)l.items[i].bytes, (unsigned long long)o.target_file_bytes);
    }
    assert_true((double)total / (double)l.n > 0.4 * (double)o.target_file_bytes);
    lr_offline_file_list_free(&l);
    /* The spill folder is gone. */
    char sp[4096];
    struct stat sb;
    snprintf(sp, sizeof sp, "%s/compact-tmp", e.dir);
    if (stat(sp, &sb) == 0) {
        size_t pq, tmp;
        ct_storage(sp, &pq, &tmp);
        assert_int_equal(pq, 0);
    }
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/*
 * One partition, four threads: readers share the files (and spill with a
 * small budget), writers split the key space; with dedup, duplicates never
 * straddle two writers.
 */
static void test_parallel_unit(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;

    ct_setup(&e, "one-hour");
    ct_fill(&e, "id-", 7, 30, 1500, 4000);
    /* Each of ids 0..299 written again, later, at the same event time as before. */
    for (int k = 0; k < 300; k++) {
        char id[32];
        snprintf(id, sizeof id, "id-%d", k);
        int64_t ev = CT_T0 + 7 * CT_HOUR + ((int64_t)k * 7919 % 3600) * 1000000 + (k % 3) * 1000;
        ct_put(&e, id, ev, k, 1, 9000000 + k);
        ct_put(&e, id, ev, k, 2, 9500000 + k); /* twice: the later one must win */
    }
    ct_flush(&e);
    ct_scan(e.cat, "one-hour", &before);
    lr__compact_par_min_rows = 1000;
    ct_options(&o);
    o.threads = 4;
    o.memory_bytes = (size_t)4 << 20;
    o.target_file_bytes = 64 << 10;
    o.mode = LR_COMPACT_FULL;
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 1);
    assert_int_equal(r.rows_in, 45600);
    assert_true(r.files_out >= 4);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "one-hour", &after);
    ct_assert_same(&before, &after);
    ct_assert_files_sorted(&e);
    ct_assert_storage_is_catalog(&e);
    ct_rows_free(&after);

    /*
     * Duplicates: the 600 rows above, and ct_fill's own: rows j and j + 36000
     * share id (j mod 4000) and event time (j * 7919 mod 3600 s, j mod 1500 mod 3 ms).
     */
    o.dedup = true;
    must_run(&e, &o, &r);
    assert_int_equal(r.rows_dropped, 9600);
    assert_int_equal(r.rows_out, 36000);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "one-hour", &after);
    assert_int_equal(after.n, 36000);
    for (size_t i = 1; i < after.n; i++) {
        /* No two survivors share id and event time (the first two fields). */
        const char *a = after.v[i - 1], *b = after.v[i];
        const char *ea = strchr(strchr(a, '|') + 1, '|'), *eb = strchr(strchr(b, '|') + 1, '|');
        assert_false(ea - a == eb - b && memcmp(a, b, (size_t)(ea - a)) == 0);
    }
    /* The survivors of ids 0..299 are the api 95xxxxx rows (n = k, two tags). */
    size_t late = 0;
    for (size_t i = 0; i < after.n; i++) {
        /* ...|write_time|api_invocation_time|is_deleted */
        const char *end = strrchr(after.v[i], '|'), *p = end - 1;
        while (p > after.v[i] && *p != '|')
            p--;
        long long api = strtoll(p + 1, NULL, 10);
        if (api >= 9500000 && api < 9500300)
            late++;
        assert_false(api >= 9000000 && api < 9000300); /* superseded */
    }
    assert_int_equal(late, 300);
    lr__compact_par_min_rows = 100000;
    ct_assert_files_sorted(&e);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* An unreadable input file fails its partition with its path; the others complete. */
static void test_unreadable_file(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    lr_offline_file_list l = {0};
    lr_error err;
    char bad[4096];

    ct_setup(&e, "broken");
    ct_fill(&e, "b", 0, 3, 10, 5);
    ct_fill(&e, "b", 1, 3, 10, 5);
    assert_int_equal(lr_catalog_offline_files(e.cat, "broken", e.def->creation_time_us, INT64_MIN,
                                              CT_T0 + CT_HOUR, &l, &err),
                     LR_OK);
    assert_int_equal(l.n, 3);
    snprintf(bad, sizeof bad, "%s/%s", l.items[1].root, l.items[1].key);
    lr_offline_file_list_free(&l);
    /* Damage the footer: the file is no longer Parquet. */
    FILE *f = fopen(bad, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -12, SEEK_END), 0);
    fwrite("garbagegarbage", 1, 12, f);
    fclose(f);
    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    assert_int_not_equal(run(&e, &o, &r, &err), LR_OK);
    assert_int_equal(r.status, LR_JOB_FAILED);
    assert_non_null(strstr(err.msg, bad));
    assert_int_equal(r.partitions_done, 1);
    assert_int_equal(r.partitions_failed, 1);
    assert_int_equal(r.parts[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(r.parts[0].error, bad));
    assert_int_equal(r.parts[1].status, LR_JOB_COMPLETED);
    lr_compact_job_list jl;
    job_of(&e, r.job_id, &jl);
    assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(jl.items[0].error, bad));
    assert_int_equal(jl.items[0].partitions_failed, 1);
    assert_int_equal(jl.items[0].partitions_done, 1);
    lr_compact_job_list_free(&jl);
    lr_compact_result_free(&r);
    /* The failed hour is as it was: three files, the damaged one still live. */
    assert_int_equal(ct_live_files(&e), 4);
    ct_assert_storage_is_catalog(&e);
    (void)before;
    (void)after;
    ct_teardown(&e, false);
}

/* The default compacted copy: compact-offline-store beside the source, replaced on rerun. */
static void test_copy(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    size_t pq, tmp;

    ct_setup(&e, "copied");
    ct_fill(&e, "c", 0, 3, 10, 5);
    ct_fill(&e, "c", 1, 3, 10, 5);
    ct_scan(e.cat, "copied", &before);
    ct_options(&o);
    o.copy = true;
    must_run(&e, &o, &r);
    assert_non_null(r.target_root);
    assert_non_null(strstr(r.target_root, "/compact-offline-store/copied-"));
    assert_null(strstr(e.def->resolved_offline_uri, "compact-offline-store"));
    char expect[4096];
    const char *seg = strstr(e.def->resolved_offline_uri, "/offline-store/");
    snprintf(expect, sizeof expect, "%.*s/compact-offline-store/%s",
             (int)(seg - e.def->resolved_offline_uri), e.def->resolved_offline_uri,
             seg + strlen("/offline-store/"));
    assert_string_equal(r.target_root, expect);
    ct_storage(r.target_root, &pq, &tmp);
    assert_int_equal(pq, 2);
    assert_int_equal(tmp, 0);
    assert_int_equal(ct_live_files(&e), 6); /* the source is untouched */
    lr_compact_result_free(&r);
    /* Incremental: nothing changed in the source. */
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 0);
    lr_compact_result_free(&r);
    /* New data in hour 1: its copy is replaced. */
    ct_fill(&e, "c2", 1, 1, 10, 5);
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 1);
    char root[4096];
    snprintf(root, sizeof root, "%s", r.target_root);
    lr_compact_result_free(&r);
    ct_storage(root, &pq, &tmp);
    assert_int_equal(pq, 2);
    /* By day: one file for the day; the hour files are retired in the same swap. */
    o.partition_mode = LR_COMPACT_BY_DAY;
    o.mode = LR_COMPACT_FULL;
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 1);
    assert_string_equal(r.parts[0].partition, "year=2024/month=06/day=01");
    lr_compact_result_free(&r);
    ct_storage(root, &pq, &tmp);
    assert_int_equal(pq, 1);
    char dayfile[4096];
    snprintf(dayfile, sizeof dayfile, "%s/year=2024/month=06/day=01/hour=00", root);
    struct stat sb;
    assert_int_not_equal(stat(dayfile, &sb), 0); /* the hour folder is gone */
    /* Back to hours: the day-level file is replaced by hour files. */
    o.partition_mode = LR_COMPACT_BY_HOUR;
    o.mode = LR_COMPACT_DAY;
    o.date = "2024-06-01";
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 1);
    assert_string_equal(r.parts[0].partition, "year=2024/month=06/day=01");
    assert_int_equal(r.files_out, 2);
    lr_compact_result_free(&r);
    ct_storage(root, &pq, &tmp);
    assert_int_equal(pq, 2);
    ct_scan(e.cat, "copied", &after);
    assert_int_equal(after.n, before.n + 10);
    ct_rows_free(&before);
    ct_rows_free(&after);
    /* In place by day is refused. */
    lr_error err;
    ct_options(&o);
    o.partition_mode = LR_COMPACT_BY_DAY;
    assert_int_equal(run(&e, &o, &r, &err), LR_EINVAL);
    lr_compact_result_free(&r);
    /* --target must be absolute. */
    ct_options(&o);
    o.target = "relative/path";
    assert_int_equal(run(&e, &o, &r, &err), LR_EINVAL);
    lr_compact_result_free(&r);
    ct_teardown(&e, false);
}

/* A target folder gets <target>/<name>-<epoch>/data. */
static void test_target(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    size_t pq, tmp;
    char target[4096], expect[4096];

    ct_setup(&e, "targeted");
    ct_fill(&e, "t", 3, 3, 10, 5);
    snprintf(target, sizeof target, "file://%s/elsewhere", e.dir);
    ct_options(&o);
    o.target = target;
    must_run(&e, &o, &r);
    snprintf(expect, sizeof expect, "%s/targeted-%lld/data", target,
             (long long)(e.def->creation_time_us / 1000000));
    assert_string_equal(r.target_root, expect);
    lr_compact_result_free(&r);
    snprintf(target, sizeof target, "%s/elsewhere", e.dir);
    ct_storage(target, &pq, &tmp);
    assert_int_equal(pq, 1);
    ct_teardown(&e, false);
}

/* With a grace period the old files leave the catalog at once and storage later. */
static void test_grace(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_offline_file_list l = {0};
    lr_error err;
    size_t pq, tmp;

    ct_setup(&e, "graceful");
    ct_fill(&e, "g", 0, 4, 10, 5);
    ct_options(&o);
    o.grace_us = 3600 * 1000000LL;
    must_run(&e, &o, &r);
    lr_compact_result_free(&r);
    assert_int_equal(ct_live_files(&e), 1);
    ct_storage(e.def->resolved_offline_uri, &pq, &tmp);
    assert_int_equal(pq, 5); /* the new file and the four retired ones */
    assert_int_equal(lr_catalog_compact_retired_due(e.cat, lr_now_us(), 0, &l, &err), LR_OK);
    assert_int_equal(l.n, 0);
    lr_offline_file_list_free(&l);
    assert_int_equal(
        lr_catalog_compact_retired_due(e.cat, lr_now_us() + 2 * 3600 * 1000000LL, 0, &l, &err),
        LR_OK);
    assert_int_equal(l.n, 4);
    lr_offline_file_list_free(&l);
    /* Cleanup leaves them until their grace has passed. */
    assert_int_equal(lr_compact_cleanup(e.cat, e.dir, NULL, NULL, &err), LR_OK);
    ct_storage(e.def->resolved_offline_uri, &pq, &tmp);
    assert_int_equal(pq, 5);
    /* Repair does not adopt them back, nor does the offline store's collection take them. */
    lr_offline_repair_report rep;
    assert_int_equal(lr_offline_repair(e.cat, "graceful", false, &rep, &err), LR_OK);
    assert_int_equal(rep.n_added, 0);
    lr_offline_repair_report_free(&rep);
    assert_int_equal(lr_offline_gc(e.cat, 0, NULL, &err), LR_OK);
    ct_storage(e.def->resolved_offline_uri, &pq, &tmp);
    assert_int_equal(pq, 5);
    assert_int_equal(ct_live_files(&e), 1);
    ct_teardown(&e, false);
}

/* --dry-run changes nothing and records no job. */
static void test_dry_run(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_compact_job_list jl;
    lr_error err;

    ct_setup(&e, "dry");
    ct_fill(&e, "d", 0, 3, 10, 5);
    ct_fill(&e, "d", 2, 2, 10, 5);
    ct_options(&o);
    o.dry_run = true;
    must_run(&e, &o, &r);
    assert_int_equal(r.job_id, 0);
    assert_int_equal(r.partitions, 2);
    assert_int_equal(r.files_in, 5);
    assert_int_equal(r.rows_in, 50);
    assert_int_equal(r.parts[0].status, LR_JOB_PENDING);
    lr_compact_result_free(&r);
    assert_int_equal(ct_live_files(&e), 5);
    assert_int_equal(lr_compact_jobs_list(e.cat, NULL, &jl, &err), LR_OK);
    assert_int_equal(jl.n, 0);
    lr_compact_job_list_free(&jl);
    ct_teardown(&e, false);
}

static bool always_cancel(void *ctx)
{
    (void)ctx;
    return true;
}

/* A canceled run ends Failed, and what it did not finish is as it was. */
static void test_cancel(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    lr_error err;

    ct_setup(&e, "stopped");
    for (int h = 0; h < 6; h++)
        ct_fill(&e, "s", h, 3, 2000, 100);
    ct_scan(e.cat, "stopped", &before);
    ct_options(&o);
    o.threads = 1;
    o.canceled = always_cancel;
    lr_status st = run(&e, &o, &r, &err);
    assert_int_equal(r.status, LR_JOB_FAILED);
    /* The coordinator polls every 200 ms: some partitions may finish first. */
    if (r.partitions_done < r.partitions) {
        assert_int_equal(st, LR_ECANCELED);
        lr_compact_job_list jl;
        job_of(&e, r.job_id, &jl);
        assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
        assert_int_equal(jl.items[0].partitions_done + jl.items[0].partitions_failed, 6);
        lr_compact_job_list_free(&jl);
    }
    lr_compact_result_free(&r);
    ct_scan(e.cat, "stopped", &after);
    ct_assert_same(&before, &after);
    ct_assert_storage_is_catalog(&e);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* A holder: this process, or a dead child's. */
static void dead_holder(lr_job_holder *h)
{
    lr_error err;
    assert_int_equal(lr__holder_self(h, &err), LR_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    h->pid = pid;
}

/* Leases: a live holder blocks; a dead one on this machine is taken over at once. */
static void test_leases(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_compact_job job;
    lr_job_holder me, dead;
    lr_error err;
    const char *part = "year=2024/month=06/day=01/hour=00";

    ct_setup(&e, "leased");
    ct_fill(&e, "l", 0, 3, 10, 5);
    ct_fill(&e, "l", 1, 3, 10, 5);
    assert_int_equal(lr__holder_self(&me, &err), LR_OK);
    /* Another live job (this process, as a stand-in) holds hour 0. */
    memset(&job, 0, sizeof job);
    job.fg_name = "leased";
    job.fg_created_us = e.def->creation_time_us;
    job.mode = "full";
    job.partition_mode = "hour";
    job.holder = me;
    job.expires_us = lr_now_us() + 3600 * 1000000LL;
    assert_int_equal(lr_catalog_job_create(e.cat, &job, &part, 1, &err), LR_OK);
    assert_int_equal(lr_catalog_lease_acquire(e.cat, "leased", e.def->creation_time_us, &part, 1,
                                              job.id, &me, job.expires_us, lr__holder_alive, NULL,
                                              &err),
                     LR_OK);
    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    assert_int_equal(run(&e, &o, &r, &err), LR_EBUSY);
    assert_int_equal(r.partitions_done, 1);
    assert_int_equal(r.parts[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(r.parts[0].error, "being compacted by job"));
    lr_compact_result_free(&r);
    assert_int_equal(lr_catalog_job_finish(e.cat, job.id, &me, LR_JOB_FAILED, "test", &err), LR_OK);

    /* A job of a dead process holds it: taken over, and the job shows Failed. */
    dead_holder(&dead);
    memset(&job, 0, sizeof job);
    job.fg_name = "leased";
    job.fg_created_us = e.def->creation_time_us;
    job.mode = "full";
    job.partition_mode = "hour";
    job.holder = dead;
    job.expires_us = lr_now_us() + 3600 * 1000000LL;
    assert_int_equal(lr_catalog_job_create(e.cat, &job, &part, 1, &err), LR_OK);
    assert_int_equal(lr_catalog_lease_acquire(e.cat, "leased", e.def->creation_time_us, &part, 1,
                                              job.id, &dead, job.expires_us, NULL, NULL, &err),
                     LR_OK);
    /* Another machine's holder would block until its expiry; this one is dead now. */
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions_done, 2); /* full: hour 1 again, and hour 0 taken over */
    lr_compact_result_free(&r);
    lr_compact_job_list jl;
    job_of(&e, job.id, &jl);
    assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(jl.items[0].error, "died"));
    assert_int_equal(jl.parts[0].status, LR_JOB_FAILED);
    lr_compact_job_list_free(&jl);

    /* A holder on another machine: alive until its lease expires. */
    lr_job_holder other = me;
    snprintf(other.host, sizeof other.host, "elsewhere.example");
    snprintf(other.boot_id, sizeof other.boot_id, "00000000-0000-0000-0000-000000000000");
    assert_true(lr__holder_alive(NULL, &other));
    memset(&job, 0, sizeof job);
    job.fg_name = "leased";
    job.fg_created_us = e.def->creation_time_us;
    job.mode = "full";
    job.partition_mode = "hour";
    job.holder = other;
    job.expires_us = lr_now_us() - 1; /* already lapsed */
    assert_int_equal(lr_catalog_job_create(e.cat, &job, &part, 1, &err), LR_OK);
    assert_int_equal(lr_catalog_lease_acquire(e.cat, "leased", e.def->creation_time_us, &part, 1,
                                              job.id, &other, job.expires_us, NULL, NULL, &err),
                     LR_OK);
    must_run(&e, &o, &r);
    lr_compact_result_free(&r);
    job_of(&e, job.id, &jl);
    assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(jl.items[0].error, "stopped renewing"));
    lr_compact_job_list_free(&jl);
    ct_teardown(&e, false);
}

static void kill_at_written(const char *p)
{
    if (strcmp(p, "written") == 0)
        raise(SIGKILL);
}

/* A job killed mid-run is Failed on the next look, and its leftovers go. */
static void test_killed_job(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_job_list jl;
    lr_error err;

    ct_setup(&e, "killed");
    ct_fill(&e, "k", 0, 4, 20, 10);
    ct_fill(&e, "k", 1, 4, 20, 10);
    ct_scan(e.cat, "killed", &before);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Die right after the first output file is written, before any swap. */
        lr_compact_options co;
        ct_options(&co);
        co.threads = 1;
        lr__compact_crash_hook = kill_at_written;
        lr_compact_run(e.dir, NULL, "killed", &co, NULL, NULL);
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    ct_reopen(&e);
    /* Before anyone looks: the row still says InProgress in the catalog. */
    assert_int_equal(lr_catalog_jobs_list(e.cat, NULL, &jl, &err), LR_OK);
    assert_int_equal(jl.n, 1);
    assert_int_equal(jl.items[0].status, LR_JOB_IN_PROGRESS);
    lr_compact_job_list_free(&jl);
    /* Looking declares it dead. */
    assert_int_equal(lr_compact_jobs_list(e.cat, NULL, &jl, &err), LR_OK);
    assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
    assert_non_null(strstr(jl.items[0].error, "died"));
    lr_compact_job_list_free(&jl);
    /* Its output file is still on disk, unregistered; cleanup removes it. */
    size_t pq, tmp;
    ct_storage(e.def->resolved_offline_uri, &pq, &tmp);
    assert_int_equal(pq, 9);
    lr_compact_cleanup_report rep;
    assert_int_equal(lr_compact_cleanup(e.cat, e.dir, NULL, &rep, &err), LR_OK);
    assert_int_equal(rep.pending_removed, 1);
    ct_assert_storage_is_catalog(&e);
    ct_scan(e.cat, "killed", &after);
    ct_assert_same(&before, &after);
    ct_rows_free(&after);
    /* The next run does the work. */
    ct_options(&o);
    lr_compact_result r;
    must_run(&e, &o, &r);
    assert_int_equal(r.partitions, 2);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "killed", &after);
    ct_assert_same(&before, &after);
    ct_assert_storage_is_catalog(&e);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* Ingestion goes on while compaction runs: every row is there once. */
typedef struct ingest_arg {
    ct_env *e;
    atomic_int stop;
    int written;
} ingest_arg;

static void *ingest_main(void *p)
{
    ingest_arg *a = p;
    int i = 0;
    while (!atomic_load(&a->stop) || i < 200) {
        char id[32];
        snprintf(id, sizeof id, "live%05d", i);
        ct_put(a->e, id, CT_T0 + (int64_t)(i % 3) * CT_HOUR + i * 1000LL, i, 1, 5000 + i);
        if (++i % 25 == 0)
            ct_flush(a->e);
    }
    ct_flush(a->e);
    a->written = i;
    return NULL;
}

static void test_ingest_during_compaction(void **state)
{
    (void)state;
    ct_env e;
    ct_rows before, after;
    lr_compact_options o;
    lr_compact_result r;
    ingest_arg a;
    pthread_t th;

    ct_setup(&e, "busy");
    for (int h = 0; h < 3; h++)
        ct_fill(&e, "old", h, 5, 400, 50);
    ct_scan(e.cat, "busy", &before);
    memset(&a, 0, sizeof a);
    atomic_init(&a.stop, 0);
    a.e = &e;
    assert_int_equal(pthread_create(&th, NULL, ingest_main, &a), 0);
    ct_options(&o);
    o.mode = LR_COMPACT_FULL;
    for (int k = 0; k < 3; k++) {
        lr_error err;
        lr_status st = lr_compact_run(e.dir, NULL, "busy", &o, &r, &err);
        if (st != LR_OK)
            fail_msg("compaction during ingestion: %s", err.msg);
        lr_compact_result_free(&r);
    }
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    ct_reopen(&e);
    /* One more run takes what arrived last; then everything is one file per hour. */
    must_run(&e, &o, &r);
    lr_compact_result_free(&r);
    ct_scan(e.cat, "busy", &after);
    assert_int_equal(after.n, before.n + (size_t)a.written);
    for (size_t i = 1; i < after.n; i++)
        assert_int_not_equal(strcmp(after.v[i - 1], after.v[i]), 0); /* nothing twice */
    assert_int_equal(ct_live_files(&e), 3);
    ct_assert_files_sorted(&e);
    ct_assert_storage_is_catalog(&e);
    ct_rows_free(&before);
    ct_rows_free(&after);
    ct_teardown(&e, false);
}

/* JSON for the server, and the metrics. */
static void test_jobs_json_and_metrics(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_result r;
    lr_compact_metrics m0, m1;
    lr_buf b;
    lr_error err;

    lr_compact_metrics_get(&m0);
    ct_setup(&e, "jsonish");
    ct_fill(&e, "j", 0, 2, 5, 5);
    ct_options(&o);
    must_run(&e, &o, &r);
    int64_t id1 = r.job_id;
    lr_compact_result_free(&r);
    must_run(&e, &o, &r);
    int64_t id2 = r.job_id;
    lr_compact_result_free(&r);
    lr_compact_metrics_get(&m1);
    assert_int_equal(m1.jobs_run - m0.jobs_run, 2);
    assert_int_equal(m1.files_in - m0.files_in, 2);
    assert_int_equal(m1.files_out - m0.files_out, 1);
    assert_int_equal(m1.rows_out - m0.rows_out, 10);
    assert_true(m1.last_duration_us > 0);

    lr_buf_init(&b, 0);
    lr_compact_job_query q;
    memset(&q, 0, sizeof q);
    q.max_results = 1;
    assert_int_equal(lr_compact_jobs_json(e.cat, &q, NULL, &b, &err), LR_OK);
    char expect[64];
    snprintf(expect, sizeof expect, "{\"Jobs\":[{\"JobId\":%lld,", (long long)id2);
    assert_memory_equal(b.data, expect, strlen(expect));
    snprintf(expect, sizeof expect, "\"NextToken\":\"%lld\"", (long long)id2);
    assert_non_null(strstr(b.data, expect));
    assert_non_null(strstr(b.data, "\"Status\":\"Completed\""));
    assert_non_null(strstr(b.data, "\"FeatureGroupName\":\"jsonish\""));
    lr_buf_clear(&b);
    char tok[32];
    snprintf(tok, sizeof tok, "%lld", (long long)id2);
    assert_int_equal(lr_compact_jobs_json(e.cat, &q, tok, &b, &err), LR_OK);
    snprintf(expect, sizeof expect, "{\"Jobs\":[{\"JobId\":%lld,", (long long)id1);
    assert_memory_equal(b.data, expect, strlen(expect));
    assert_null(strstr(b.data, "NextToken"));
    lr_buf_clear(&b);
    assert_int_equal(lr_compact_jobs_json(e.cat, &q, "x1", &b, &err), LR_EINVAL);
    assert_int_equal(lr_compact_job_json(e.cat, id1, &b, &err), LR_OK);
    assert_non_null(strstr(b.data, "\"PartitionResults\":[{\"Partition\":\"year=2024/month=06/"
                                   "day=01/hour=00\",\"Status\":\"Completed\""));
    assert_non_null(strstr(b.data, "\"FilesIn\":2"));
    lr_buf_clear(&b);
    assert_int_equal(lr_compact_job_json(e.cat, 999999, &b, &err), LR_ENOTFOUND);
    assert_int_equal(lr_compact_metrics_prometheus(&b), LR_OK);
    assert_non_null(strstr(b.data, "larder_compaction_jobs_total{status=\"completed\"}"));
    assert_non_null(strstr(b.data, "# TYPE larder_compaction_rows_total counter"));
    lr_buf_free(&b);
    ct_teardown(&e, false);
}

/* A job cannot be marked Completed while a partition is not. */
static void test_completed_means_completed(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_job job;
    lr_error err;
    const char *parts[2] = {"year=2024/month=06/day=01/hour=00",
                            "year=2024/month=06/day=01/hour=01"};

    ct_setup(&e, "honest");
    memset(&job, 0, sizeof job);
    job.fg_name = "honest";
    job.fg_created_us = e.def->creation_time_us;
    job.mode = "full";
    job.partition_mode = "hour";
    job.expires_us = lr_now_us() + 60000000;
    assert_int_equal(lr__holder_self(&job.holder, &err), LR_OK);
    assert_int_equal(lr_catalog_job_create(e.cat, &job, parts, 2, &err), LR_OK);
    assert_int_equal(
        lr_catalog_job_finish(e.cat, job.id, &job.holder, LR_JOB_COMPLETED, NULL, &err),
        LR_ECONFLICT);
    assert_int_equal(
        lr_catalog_job_finish(e.cat, job.id, &job.holder, LR_JOB_FAILED, "stopped", &err), LR_OK);
    lr_compact_job_list jl;
    job_of(&e, job.id, &jl);
    assert_int_equal(jl.items[0].status, LR_JOB_FAILED);
    assert_int_equal(jl.items[0].partitions_failed, 2);
    assert_string_equal(jl.parts[0].error, "not compacted: stopped");
    lr_compact_job_list_free(&jl);
    /* Ending it twice is refused. */
    assert_int_equal(
        lr_catalog_job_finish(e.cat, job.id, &job.holder, LR_JOB_FAILED, "again", &err),
        LR_ECONFLICT);
    ct_teardown(&e, false);
}

/* Scheduled rounds compact every group; the scheduler runs on demand and stops. */
static void test_schedule(void **state)
{
    (void)state;
    ct_env e;
    lr_compact_options o;
    lr_compact_schedule *s = NULL;
    lr_compact_metrics m0, m1;
    lr_error err;
    uint32_t failed = 9;

    ct_setup(&e, "sched");
    ct_fill(&e, "s", 0, 3, 5, 5);
    ct_options(&o);
    assert_int_equal(lr_compact_schedule_run_once(e.dir, NULL, &o, &failed, &err), LR_OK);
    assert_int_equal(failed, 0);
    ct_reopen(&e);
    assert_int_equal(ct_live_files(&e), 1);

    ct_fill(&e, "s", 1, 3, 5, 5);
    lr_compact_metrics_get(&m0);
    assert_int_equal(lr_compact_schedule_start(e.dir, NULL, "0 0 1 1 ? 2199", &o, &s, &err), LR_OK);
    assert_int_equal(lr_compact_schedule_next_us(s), 7226582400000000LL); /* 2199-01-01 */
    lr_compact_schedule_trigger(s);
    for (int i = 0; i < 3000; i++) { /* up to 5 minutes on a loaded machine */
        lr_compact_metrics_get(&m1);
        if (m1.schedule_rounds > m0.schedule_rounds)
            break;
        usleep(100000);
    }
    assert_true(m1.schedule_rounds > m0.schedule_rounds);
    lr_compact_schedule_stop(s);
    ct_reopen(&e);
    assert_int_equal(ct_live_files(&e), 2);
    assert_int_equal(lr_compact_schedule_start(e.dir, NULL, "61 * * * *", &o, &s, &err), LR_EINVAL);
    lr_compact_schedule_stop(NULL);
    ct_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inplace_full),
        cmocka_unit_test(test_incremental_late_data),
        cmocka_unit_test(test_day_mode),
        cmocka_unit_test(test_date_word_names),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_external_merge_and_sizes),
        cmocka_unit_test(test_parallel_unit),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_grace),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_leases),
        cmocka_unit_test(test_killed_job),
        cmocka_unit_test(test_ingest_during_compaction),
        cmocka_unit_test(test_jobs_json_and_metrics),
        cmocka_unit_test(test_completed_means_completed),
        cmocka_unit_test(test_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
