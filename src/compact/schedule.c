/*
 * schedule.c - scheduled compaction for `larder serve --compaction-schedule`
 * and the compaction metrics of /metrics.
 *
 * The scheduler is one thread. It sleeps until the cron expression's next
 * time (UTC; waking at least once a minute to run cleanup, so old files
 * past their grace are deleted even between rounds), then runs one round:
 * incremental compaction of every feature group with an offline store, one
 * group after the other, so a round never takes more than the configured
 * threads and memory. A round that overruns the next fire time simply
 * starts the next round when it ends (fire times missed meanwhile are not
 * queued up). Stopping cancels the round in progress: its job ends Failed
 * ("canceled") and its partitions already swapped stay swapped.
 *
 * Metrics are process-wide relaxed atomic counters, updated when jobs start
 * and end, so a server reports every run it made, scheduled or not.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compact/compact_internal.h"
#include "larder/log.h"

#define CLEANUP_EVERY_US (60LL * 1000000)

/* ---- metrics ---- */

static struct {
    atomic_uint_fast64_t jobs_run, jobs_failed, jobs_running, parts_done, parts_failed;
    atomic_uint_fast64_t files_in, files_out, rows_in, rows_out, rows_dropped, bytes_in, bytes_out,
        rounds;
    atomic_int_fast64_t last_duration_us, last_end_us;
} M;

void lr__metrics_job_start(void)
{
    atomic_fetch_add_explicit(&M.jobs_run, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.jobs_running, 1, memory_order_relaxed);
}

void lr__metrics_job_end(const lr_compact_result *r, bool failed)
{
    atomic_fetch_sub_explicit(&M.jobs_running, 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&M.jobs_failed, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.parts_done, r->partitions_done, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.parts_failed, r->partitions_failed, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.files_in, r->files_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.files_out, r->files_out, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.rows_in, r->rows_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.rows_out, r->rows_out, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.rows_dropped, r->rows_dropped, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.bytes_in, r->bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.bytes_out, r->bytes_out, memory_order_relaxed);
    atomic_store_explicit(&M.last_duration_us, r->elapsed_us, memory_order_relaxed);
    atomic_store_explicit(&M.last_end_us, lr_now_us(), memory_order_relaxed);
}

void lr__metrics_schedule_round(void)
{
    atomic_fetch_add_explicit(&M.rounds, 1, memory_order_relaxed);
}

void lr_compact_metrics_get(lr_compact_metrics *o)
{
    memset(o, 0, sizeof *o);
    o->jobs_run = atomic_load_explicit(&M.jobs_run, memory_order_relaxed);
    o->jobs_failed = atomic_load_explicit(&M.jobs_failed, memory_order_relaxed);
    o->jobs_running = atomic_load_explicit(&M.jobs_running, memory_order_relaxed);
    o->partitions_compacted = atomic_load_explicit(&M.parts_done, memory_order_relaxed);
    o->partitions_failed = atomic_load_explicit(&M.parts_failed, memory_order_relaxed);
    o->files_in = atomic_load_explicit(&M.files_in, memory_order_relaxed);
    o->files_out = atomic_load_explicit(&M.files_out, memory_order_relaxed);
    o->rows_in = atomic_load_explicit(&M.rows_in, memory_order_relaxed);
    o->rows_out = atomic_load_explicit(&M.rows_out, memory_order_relaxed);
    o->rows_dropped = atomic_load_explicit(&M.rows_dropped, memory_order_relaxed);
    o->bytes_in = atomic_load_explicit(&M.bytes_in, memory_order_relaxed);
    o->bytes_out = atomic_load_explicit(&M.bytes_out, memory_order_relaxed);
    o->last_duration_us = atomic_load_explicit(&M.last_duration_us, memory_order_relaxed);
    o->last_end_us = atomic_load_explicit(&M.last_end_us, memory_order_relaxed);
    o->schedule_rounds = atomic_load_explicit(&M.rounds, memory_order_relaxed);
}

lr_status lr_compact_metrics_prometheus(lr_buf *out)
{
    lr_compact_metrics m;
    lr_compact_metrics_get(&m);
    return lr_buf_printf(
        out,
        "# HELP larder_compaction_jobs_total Compaction jobs run, by outcome.\n"
        "# TYPE larder_compaction_jobs_total counter\n"
        "larder_compaction_jobs_total{status=\"completed\"} %llu\n"
        "larder_compaction_jobs_total{status=\"failed\"} %llu\n"
        "# HELP larder_compaction_jobs_running Compaction jobs running now.\n"
        "# TYPE larder_compaction_jobs_running gauge\n"
        "larder_compaction_jobs_running %llu\n"
        "# HELP larder_compaction_partitions_total Partitions compacted, by outcome.\n"
        "# TYPE larder_compaction_partitions_total counter\n"
        "larder_compaction_partitions_total{status=\"completed\"} %llu\n"
        "larder_compaction_partitions_total{status=\"failed\"} %llu\n"
        "# HELP larder_compaction_files_total Files read and written by compaction.\n"
        "# TYPE larder_compaction_files_total counter\n"
        "larder_compaction_files_total{direction=\"in\"} %llu\n"
        "larder_compaction_files_total{direction=\"out\"} %llu\n"
        "# HELP larder_compaction_rows_total Rows read, written and dropped as duplicates.\n"
        "# TYPE larder_compaction_rows_total counter\n"
        "larder_compaction_rows_total{direction=\"in\"} %llu\n"
        "larder_compaction_rows_total{direction=\"out\"} %llu\n"
        "larder_compaction_rows_total{direction=\"dropped\"} %llu\n"
        "# HELP larder_compaction_bytes_total Bytes of Parquet read and written.\n"
        "# TYPE larder_compaction_bytes_total counter\n"
        "larder_compaction_bytes_total{direction=\"in\"} %llu\n"
        "larder_compaction_bytes_total{direction=\"out\"} %llu\n"
        "# HELP larder_compaction_last_duration_seconds Duration of the last job that ended.\n"
        "# TYPE larder_compaction_last_duration_seconds gauge\n"
        "larder_compaction_last_duration_seconds %.6f\n"
        "# HELP larder_compaction_last_end_timestamp_seconds When the last job ended.\n"
        "# TYPE larder_compaction_last_end_timestamp_seconds gauge\n"
        "larder_compaction_last_end_timestamp_seconds %.6f\n"
        "# HELP larder_compaction_schedule_rounds_total Scheduled compaction rounds run.\n"
        "# TYPE larder_compaction_schedule_rounds_total counter\n"
        "larder_compaction_schedule_rounds_total %llu\n",
        (unsigned long long)(m.jobs_run - m.jobs_failed - m.jobs_running),
        (unsigned long long)m.jobs_failed, (unsigned long long)m.jobs_running,
        (unsigned long long)m.partitions_compacted, (unsigned long long)m.partitions_failed,
        (unsigned long long)m.files_in, (unsigned long long)m.files_out,
        (unsigned long long)m.rows_in, (unsigned long long)m.rows_out,
        (unsigned long long)m.rows_dropped, (unsigned long long)m.bytes_in,
        (unsigned long long)m.bytes_out, (double)m.last_duration_us / 1e6,
        (double)m.last_end_us / 1e6, (unsigned long long)m.schedule_rounds);
}

/* ---- one round ---- */

lr_status lr_compact_schedule_run_once(const char *data_dir, const lr_settings *settings,
                                       const lr_compact_options *opt, uint32_t *failed,
                                       lr_error *err)
{
    lr_compact_options o;
    lr_catalog *cat = NULL;
    lr_fg_list_query q;
    lr_fg_list page = {0};
    char **names = NULL;
    size_t n = 0, cap = 0;
    uint32_t nf = 0;
    lr_status st;

    if (opt != NULL)
        o = *opt;
    else
        lr_compact_options_init(&o);
    o.mode = LR_COMPACT_INCREMENTAL;
    o.date = NULL;
    o.dry_run = false;
    o.progress = NULL;
    st = lr_catalog_open(o.catalog_uri ? o.catalog_uri : data_dir, settings, &cat, err);
    if (st != LR_OK)
        return st;
    /* Names first, then the runs: a listing is not held open across long work. */
    lr_fg_list_query_init(&q);
    q.max_results = 100;
    q.sort_by = LR_SORT_NAME;
    q.ascending = true;
    q.offline_status_equals = LR_OFFLINE_ACTIVE;
    char *token = NULL;
    for (;;) {
        q.next_token = token;
        st = lr_catalog_fg_list(cat, &q, &page, err);
        free(token);
        token = NULL;
        if (st != LR_OK)
            goto done;
        for (uint32_t i = 0; i < page.n; i++) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                char **nn = realloc(names, nc * sizeof *nn);
                if (nn == NULL) {
                    st = lr_error_set(err, LR_ENOMEM, "out of memory");
                    goto done;
                }
                names = nn;
                cap = nc;
            }
            names[n] = strdup(page.items[i].name);
            if (names[n] == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                goto done;
            }
            n++;
        }
        if (page.next_token != NULL) {
            token = strdup(page.next_token);
            if (token == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                goto done;
            }
        }
        lr_fg_list_free(&page);
        if (token == NULL)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        lr_compact_result r;
        lr_error e;
        if (o.canceled != NULL && o.canceled(o.cancel_ctx)) {
            st = lr_error_set(err, LR_ECANCELED, "scheduled compaction canceled");
            goto done;
        }
        lr_status rs = lr_compact_run(data_dir, settings, names[i], &o, &r, &e);
        if (rs != LR_OK) {
            nf++;
            lr_log_warn("compact", "scheduled compaction of %s: %s", names[i],
                        lr_error_message(&e));
        } else if (r.partitions > 0) {
            lr_log_info("compact",
                        "scheduled compaction of %s: job %lld, %u partition(s), %llu files "
                        "into %llu",
                        names[i], (long long)r.job_id, r.partitions, (unsigned long long)r.files_in,
                        (unsigned long long)r.files_out);
        }
        lr_compact_result_free(&r);
        if (rs == LR_ECANCELED) {
            st = lr_error_set(err, LR_ECANCELED, "scheduled compaction canceled");
            goto done;
        }
    }
    {
        lr_error e;
        if (lr_compact_cleanup(cat, data_dir, o.tmp_dir, NULL, &e) != LR_OK)
            lr_log_warn("compact", "cleanup: %s", lr_error_message(&e));
    }
done:
    lr_fg_list_free(&page);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    lr_catalog_close(cat);
    if (failed != NULL)
        *failed = nf;
    return st;
}

/* ---- the scheduler thread ---- */

struct lr_compact_schedule {
    char *data_dir;
    lr_settings settings;
    lr_compact_options opt;
    char *catalog_uri, *tmp_dir, *target;
    lr_cron cron;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, trigger;
    atomic_bool canceled;
    int64_t next_us;
};

static bool sched_canceled(void *ctx)
{
    lr_compact_schedule *s = ctx;
    return atomic_load(&s->canceled);
}

static void abs_time(int64_t us, struct timespec *ts)
{
    ts->tv_sec = (time_t)(us / 1000000);
    ts->tv_nsec = (long)(us % 1000000) * 1000;
}

static void *sched_main(void *arg)
{
    lr_compact_schedule *s = arg;
    int64_t next_cleanup = lr_now_us() + CLEANUP_EVERY_US;

    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        int64_t now = lr_now_us();
        if (s->next_us == 0 || s->next_us <= now) {
            if (lr_cron_next(&s->cron, now, &s->next_us, NULL) != LR_OK)
                s->next_us = 0;
        }
        if (!s->trigger && (s->next_us == 0 || now < s->next_us)) {
            int64_t wake = next_cleanup;
            if (s->next_us != 0 && s->next_us < wake)
                wake = s->next_us;
            struct timespec ts;
            abs_time(wake, &ts);
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            if (s->stop)
                break;
            now = lr_now_us();
            if (!s->trigger && now >= next_cleanup && (s->next_us == 0 || now < s->next_us)) {
                pthread_mutex_unlock(&s->mu);
                lr_catalog *cat = NULL;
                lr_error e;
                if (lr_catalog_open(s->catalog_uri ? s->catalog_uri : s->data_dir, &s->settings,
                                    &cat, &e) != LR_OK ||
                    lr_compact_cleanup(cat, s->data_dir, s->tmp_dir, NULL, &e) != LR_OK)
                    lr_log_warn("compact", "periodic cleanup: %s", lr_error_message(&e));
                lr_catalog_close(cat);
                next_cleanup = lr_now_us() + CLEANUP_EVERY_US;
                pthread_mutex_lock(&s->mu);
            }
            if (!s->trigger && (s->next_us == 0 || lr_now_us() < s->next_us))
                continue;
        }
        s->trigger = false;
        pthread_mutex_unlock(&s->mu);
        lr_error e;
        uint32_t failed = 0;
        lr_status st =
            lr_compact_schedule_run_once(s->data_dir, &s->settings, &s->opt, &failed, &e);
        lr__metrics_schedule_round();
        if (st != LR_OK && st != LR_ECANCELED)
            lr_log_warn("compact", "scheduled round: %s", lr_error_message(&e));
        next_cleanup = lr_now_us() + CLEANUP_EVERY_US;
        pthread_mutex_lock(&s->mu);
        s->next_us = 0; /* recomputed from the time the round ended */
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void sched_free(lr_compact_schedule *s)
{
    free(s->data_dir);
    free(s->catalog_uri);
    free(s->tmp_dir);
    free(s->target);
    free(s);
}

lr_status lr_compact_schedule_start(const char *data_dir, const lr_settings *settings,
                                    const char *cron, const lr_compact_options *opt,
                                    lr_compact_schedule **out, lr_error *err)
{
    lr_compact_schedule *s;
    lr_status st;

    *out = NULL;
    if (data_dir == NULL || data_dir[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "the scheduler needs a data directory");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    st = lr_cron_parse(cron, &s->cron, err);
    if (st != LR_OK) {
        sched_free(s);
        return st;
    }
    if (settings != NULL)
        s->settings = *settings;
    else if ((st = lr_settings_from_env(&s->settings, err)) != LR_OK) {
        sched_free(s);
        return st;
    }
    if (opt != NULL)
        s->opt = *opt;
    else
        lr_compact_options_init(&s->opt);
    s->data_dir = strdup(data_dir);
    s->catalog_uri = s->opt.catalog_uri ? strdup(s->opt.catalog_uri) : NULL;
    s->tmp_dir = s->opt.tmp_dir ? strdup(s->opt.tmp_dir) : NULL;
    s->target = s->opt.target ? strdup(s->opt.target) : NULL;
    if (s->data_dir == NULL || (s->opt.catalog_uri && !s->catalog_uri) ||
        (s->opt.tmp_dir && !s->tmp_dir) || (s->opt.target && !s->target)) {
        sched_free(s);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    s->opt.catalog_uri = s->catalog_uri;
    s->opt.tmp_dir = s->tmp_dir;
    s->opt.target = s->target;
    s->opt.date = NULL;
    s->opt.progress = NULL;
    s->opt.canceled = sched_canceled;
    s->opt.cancel_ctx = s;
    atomic_init(&s->canceled, false);
    if (lr_cron_next(&s->cron, lr_now_us(), &s->next_us, NULL) != LR_OK)
        s->next_us = 0;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, sched_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        sched_free(s);
        return lr_error_set(err, LR_EINTERNAL, "cannot start the compaction scheduler thread");
    }
    *out = s;
    return LR_OK;
}

int64_t lr_compact_schedule_next_us(lr_compact_schedule *s)
{
    pthread_mutex_lock(&s->mu);
    int64_t v = s->next_us;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void lr_compact_schedule_trigger(lr_compact_schedule *s)
{
    pthread_mutex_lock(&s->mu);
    s->trigger = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void lr_compact_schedule_stop(lr_compact_schedule *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->canceled, true);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    sched_free(s);
}
