/*
 * compact.c - compaction runs: options, planning, the job, the workers,
 * the coordinator.
 *
 * Design
 * ------
 * Every flush of the offline store leaves one small Parquet file per group
 * and hour; thousands of them make every offline read slow. Compaction
 * rewrites the live files of a partition into a few large files sorted by
 * record identifier, event time and api_invocation_time, and replaces the
 * old files by the new ones. The offline store's one rule makes this safe:
 * the catalog's list of live files is the truth for every reader, so a
 * replacement is a catalog transaction, not a sequence of file operations
 * that a reader could catch halfway (which is how the in-place tools teams
 * use today lose or duplicate data: delete the originals, then copy the new
 * files back).
 *
 * A run is a job (a catalog row, InProgress until it ends) over units: an
 * hour partition, or for a compacted copy by day a whole day. Each unit is
 * compacted independently by one of `threads` workers (unit.c: lease,
 * snapshot, read and sort with spilling, write, read back and compare,
 * swap, delete), so a failing partition costs only itself; the job is
 * Completed only if every unit was swapped in, and the catalog refuses to
 * mark it Completed otherwise.
 *
 * The calling thread coordinates: it renews the job and its leases (a third
 * of the lease period), polls the caller's cancel callback and reports
 * progress. If the renewal finds the job no longer running (another process
 * declared it dead after its lease lapsed, e.g. the machine was suspended),
 * the workers stop before their next swap, and the swap itself re-checks
 * job and leases inside its transaction, so a presumed-dead run can never
 * overwrite a partition another run took over.
 *
 * Crash safety comes from ordering, not from cleanup being run: output
 * files are recorded (and announced, so repair never adopts them) before
 * they are written; old files are recorded as retired in the swap before
 * they are deleted. Whatever instant a run dies at, the catalog names every
 * file it left, and lr_compact_cleanup() (run at the start of every run,
 * and by the scheduler) deletes them once their owner is known to be dead.
 *
 * Memory: the budget (memory_bytes) is split among the workers and bounds
 * each worker's row table and sort arrays; beyond it the table is sorted
 * and spilled as a run, and the runs are merged. Besides the budget a
 * worker holds one output row group (at most 64 MiB compressed, or the
 * target size if smaller) and one batch per spilled run.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compact/compact_internal.h"
#include "larder/log.h"

#define THREADS_DEFAULT   2u
#define THREADS_MAX       64u
#define TICK_MS           200
#define ERROR_SUMMARY_MAX 4000

void (*lr__compact_crash_hook)(const char *point) = NULL;
uint64_t lr__compact_par_min_rows = 100000;

static const char *const mode_names[] = {"incremental", "day", "full"};
static const char *const pmode_names[] = {"hour", "day"};

const char *lr_compact_mode_name(lr_compact_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "unknown";
}

const char *lr_compact_partition_mode_name(lr_compact_partition_mode m)
{
    return (unsigned)m < 2 ? pmode_names[m] : "unknown";
}

lr_status lr_compact_mode_parse(const char *s, lr_compact_mode *out, lr_error *err)
{
    for (int i = 0; i < 3; i++)
        if (s != NULL && strcmp(s, mode_names[i]) == 0) {
            *out = (lr_compact_mode)i;
            return LR_OK;
        }
    return lr_error_set(err, LR_EINVAL, "mode '%.64s': expected incremental, day or full",
                        s ? s : "");
}

lr_status lr_compact_partition_mode_parse(const char *s, lr_compact_partition_mode *out,
                                          lr_error *err)
{
    for (int i = 0; i < 2; i++)
        if (s != NULL && strcmp(s, pmode_names[i]) == 0) {
            *out = (lr_compact_partition_mode)i;
            return LR_OK;
        }
    return lr_error_set(err, LR_EINVAL, "partition mode '%.64s': expected hour or day", s ? s : "");
}

void lr_compact_options_init(lr_compact_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->mode = LR_COMPACT_INCREMENTAL;
    opt->partition_mode = LR_COMPACT_BY_HOUR;
    opt->target_file_bytes = LR_COMPACT_TARGET_FILE_BYTES_DEFAULT;
    opt->grace_us = LR_COMPACT_GRACE_US_DEFAULT;
    opt->memory_bytes = LR_COMPACT_MEMORY_DEFAULT;
    opt->threads = THREADS_DEFAULT;
    opt->codec = LR_PQ_SNAPPY;
    opt->lease_us = LR_COMPACT_LEASE_US_DEFAULT;
    opt->verify = true;
}

void lr_compact_result_free(lr_compact_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_parts; i++)
        free(r->parts[i].error);
    free(r->parts);
    free(r->target_root);
    memset(r, 0, sizeof *r);
}

/* Parses "YYYY-MM-DD" into the start of that UTC day. */
static lr_status parse_date(const char *s, int64_t *start_us, lr_error *err)
{
    unsigned y, m, d;
    char tail;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
        s[4] != '-' || s[7] != '-' || y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return lr_error_set(err, LR_EINVAL, "--date '%.32s': expected a UTC date YYYY-MM-DD",
                            s ? s : "");
    *start_us = lr_days_from_civil(y, m, d) * 86400000000LL;
    return LR_OK;
}

static lr_status check_options(const lr_compact_options *o, int64_t *day_start, lr_error *err)
{
    if (o->mode == LR_COMPACT_DAY) {
        if (o->date == NULL)
            return lr_error_set(err, LR_EINVAL, "mode day needs --date YYYY-MM-DD");
        lr_status st = parse_date(o->date, day_start, err);
        if (st != LR_OK)
            return st;
    } else if (o->date != NULL) {
        return lr_error_set(err, LR_EINVAL, "--date applies to mode day only");
    }
    if ((unsigned)o->mode > LR_COMPACT_FULL || (unsigned)o->partition_mode > LR_COMPACT_BY_DAY)
        return lr_error_set(err, LR_EINVAL, "unknown mode or partition mode");
    if (o->partition_mode == LR_COMPACT_BY_DAY && !o->copy && o->target == NULL)
        return lr_error_set(err, LR_EINVAL,
                            "--partition-mode day writes a compacted copy: in place, the "
                            "offline store keeps its hour partitions (give --copy or --target)");
    if (o->copy && o->target != NULL)
        return lr_error_set(err, LR_EINVAL, "give either the default copy or --target, not both");
    if (o->target_file_bytes < 1024 || o->target_file_bytes > ((uint64_t)16 << 30))
        return lr_error_set(err, LR_EINVAL,
                            "target file size %" PRIu64 " is outside 1 KiB .. 16 GiB",
                            o->target_file_bytes);
    if (o->grace_us < 0)
        return lr_error_set(err, LR_EINVAL, "the grace period must not be negative");
    if (o->memory_bytes < ((size_t)1 << 20))
        return lr_error_set(err, LR_EINVAL, "the memory budget must be at least 1 MiB");
    if (o->threads > THREADS_MAX)
        return lr_error_set(err, LR_EINVAL, "at most %u threads", THREADS_MAX);
    if (o->lease_us < 1000000)
        return lr_error_set(err, LR_EINVAL, "the lease period must be at least 1 second");
    return LR_OK;
}

/* ---- workers ---- */

typedef struct run_ctx {
    lr__job_ctx jc;
    const lr__plan *plan;
    lr_compact_result *res;
    atomic_size_t next;
    atomic_uint done, failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned running;
} run_ctx;

typedef struct worker_arg {
    run_ctx *rc;
    pthread_t th;
    bool started;
} worker_arg;

static void *worker_main(void *arg)
{
    run_ctx *rc = ((worker_arg *)arg)->rc;
    lr_catalog *cat = NULL;
    lr__stores stores = {0};
    lr_error e;

    if (lr_catalog_open(rc->jc.catalog_uri, NULL, &cat, &e) != LR_OK) {
        /* Every unit this worker would have taken fails with the reason. */
        for (;;) {
            size_t i = atomic_fetch_add(&rc->next, 1);
            if (i >= rc->plan->n)
                break;
            lr_compact_partition_result *r = &rc->res->parts[i];
            snprintf(r->partition, sizeof r->partition, "%s", rc->plan->units[i].name);
            r->status = LR_JOB_FAILED;
            r->code = e.code;
            r->error = strdup(lr_error_message(&e));
            atomic_fetch_add(&rc->failed, 1);
        }
    } else {
        for (;;) {
            size_t i = atomic_fetch_add(&rc->next, 1);
            if (i >= rc->plan->n)
                break;
            lr__unit_run(&rc->jc, cat, &stores, &rc->plan->units[i], &rc->res->parts[i]);
            if (rc->res->parts[i].status == LR_JOB_COMPLETED)
                atomic_fetch_add(&rc->done, 1);
            else
                atomic_fetch_add(&rc->failed, 1);
            pthread_mutex_lock(&rc->mu);
            pthread_cond_signal(&rc->cv);
            pthread_mutex_unlock(&rc->mu);
        }
    }
    lr__stores_free(&stores);
    lr_catalog_close(cat);
    pthread_mutex_lock(&rc->mu);
    rc->running--;
    pthread_cond_signal(&rc->cv);
    pthread_mutex_unlock(&rc->mu);
    return NULL;
}

static void report(run_ctx *rc, int64_t t0)
{
    const lr_compact_options *o = rc->jc.opt;
    if (o->progress == NULL)
        return;
    lr_compact_progress p;
    memset(&p, 0, sizeof p);
    p.partitions_total = (uint32_t)rc->plan->n;
    p.partitions_done = atomic_load(&rc->done);
    p.partitions_failed = atomic_load(&rc->failed);
    for (size_t i = 0; i < rc->plan->n; i++)
        p.bytes_total += rc->plan->units[i].bytes_planned;
    p.bytes_read = atomic_load(&rc->jc.bytes_read);
    p.rows_read = atomic_load(&rc->jc.rows_read);
    p.rows_written = atomic_load(&rc->jc.rows_written);
    p.elapsed_us = lr_now_us() - t0;
    o->progress(o->progress_ctx, &p);
}

/* Removes a spill folder and whatever run files an error left in it. */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char p[4096];
            if ((size_t)snprintf(p, sizeof p, "%s/%s", path, de->d_name) < sizeof p)
                (void)unlink(p);
        }
        closedir(d);
    }
    (void)rmdir(path);
}

/* Coordinates the workers until they finish (see the file comment). */
static void coordinate(run_ctx *rc, lr_catalog *cat, int64_t t0)
{
    const lr_compact_options *o = rc->jc.opt;
    int64_t renew_every = o->lease_us / 3;
    int64_t next_renew = lr_now_us() + renew_every;
    int64_t next_report = 0;

    pthread_mutex_lock(&rc->mu);
    while (rc->running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rc->cv, &rc->mu, &ts);
        if (rc->running == 0)
            break;
        pthread_mutex_unlock(&rc->mu);
        int64_t now = lr_now_us();
        if (now >= next_renew) {
            bool owned = false;
            lr_error e;
            if (lr_catalog_job_heartbeat(cat, rc->jc.job_id, &rc->jc.holder, now + o->lease_us,
                                         &owned, &e) != LR_OK) {
                lr_log_warn("compact", "job %lld: cannot renew its lease: %s (will retry)",
                            (long long)rc->jc.job_id, lr_error_message(&e));
            } else if (!owned) {
                lr_log_error("compact", "job %lld was declared dead by another process: stopping",
                             (long long)rc->jc.job_id);
                int zero = 0;
                atomic_compare_exchange_strong(&rc->jc.stop, &zero, LR_ECONFLICT);
            }
            next_renew = now + renew_every;
        }
        if (o->canceled != NULL && o->canceled(o->cancel_ctx)) {
            int zero = 0;
            atomic_compare_exchange_strong(&rc->jc.stop, &zero, LR_ECANCELED);
        }
        if (now >= next_report) {
            report(rc, t0);
            next_report = now + 1000000 / 4;
        }
        pthread_mutex_lock(&rc->mu);
    }
    pthread_mutex_unlock(&rc->mu);
    report(rc, t0);
}

/* "K of N partitions failed: P: why; ..." */
static char *summarize(const lr_compact_result *r)
{
    lr_buf b;
    lr_buf_init(&b, ERROR_SUMMARY_MAX + 64);
    if (lr_buf_printf(&b, "%u of %u partition(s) failed", r->partitions_failed, r->partitions) !=
        LR_OK)
        return NULL;
    const char *sep = ": ";
    for (size_t i = 0; i < r->n_parts; i++) {
        const lr_compact_partition_result *p = &r->parts[i];
        if (p->status == LR_JOB_COMPLETED)
            continue;
        if (b.len > ERROR_SUMMARY_MAX) {
            (void)lr_buf_append_str(&b, "; ...");
            break;
        }
        if (lr_buf_printf(&b, "%s%s: %s", sep, p->partition,
                          p->error ? p->error : "not compacted") != LR_OK)
            break;
        sep = "; ";
    }
    return lr_buf_detach(&b, NULL);
}

static bool all_completed(const lr_compact_result *r)
{
    for (size_t i = 0; i < r->n_parts; i++)
        if (r->parts[i].status != LR_JOB_COMPLETED)
            return false;
    return true;
}

lr_status lr_compact_run(const char *data_dir, const lr_settings *settings, const char *fg,
                         const lr_compact_options *opt, lr_compact_result *res, lr_error *err)
{
    lr_compact_options defaults;
    lr_compact_result local;
    lr_settings set;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr__schema sc;
    lr__plan plan = {0};
    char *copy_root = NULL, *tmp_dir = NULL, *spill_dir = NULL, *summary = NULL;
    const char *catalog_uri;
    int64_t day_start = 0, t0 = lr_now_us();
    bool job_made = false, sc_ready = false, mu_ready = false;
    worker_arg *workers = NULL;
    unsigned n_workers = 0;
    run_ctx *rc = NULL;
    lr_status st;

    lr_error own_err;
    if (err == NULL)
        err = &own_err; /* the job's error is recorded even when the caller wants none */
    if (res == NULL)
        res = &local;
    memset(res, 0, sizeof *res);
    res->status = LR_JOB_FAILED;
    if (opt == NULL) {
        lr_compact_options_init(&defaults);
        opt = &defaults;
    }
    if (data_dir == NULL || data_dir[0] == '\0' || fg == NULL || fg[0] == '\0') {
        st = lr_error_set(err, LR_EINVAL, "compaction needs a data directory and a group");
        goto out;
    }
    if ((st = check_options(opt, &day_start, err)) != LR_OK)
        goto out;
    if (settings == NULL) {
        if ((st = lr_settings_from_env(&set, err)) != LR_OK)
            goto out;
        settings = &set;
    }
    catalog_uri = opt->catalog_uri ? opt->catalog_uri : data_dir;
    if ((st = lr_catalog_open(catalog_uri, settings, &cat, err)) != LR_OK)
        goto out;
    if (asprintf(&tmp_dir, "%s/compact-tmp", data_dir) < 0) {
        tmp_dir = NULL;
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto out;
    }
    if (!opt->dry_run) {
        lr_error ce;
        if (lr_compact_cleanup(cat, data_dir, opt->tmp_dir ? opt->tmp_dir : tmp_dir, NULL, &ce) !=
            LR_OK)
            lr_log_warn("compact", "cleanup before the run: %s", lr_error_message(&ce));
    }
    if ((st = lr_catalog_fg_get(cat, fg, &def, err)) != LR_OK)
        goto out;
    if (!def->has_offline_config || def->resolved_offline_uri == NULL) {
        st = lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", def->name);
        goto out;
    }
    if (opt->copy || opt->target != NULL) {
        if ((st = lr__copy_root(def, opt->target, &copy_root, err)) != LR_OK)
            goto out;
        res->target_root = strdup(copy_root);
        if (res->target_root == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto out;
        }
    }
    /* Both roots must be reachable by this build before anything is recorded. */
    for (int i = 0; i < 2; i++) {
        const char *root = i == 0 ? def->resolved_offline_uri : copy_root;
        lr_objstore *os = NULL;
        if (root == NULL)
            continue;
        st = lr_objstore_open(root, &os, err);
        lr_objstore_close(os);
        if (st != LR_OK)
            goto out;
    }
    if ((st = lr__schema_init(&sc, def, err)) != LR_OK)
        goto out;
    sc_ready = true;
    {
        lr__plan_input pin;
        memset(&pin, 0, sizeof pin);
        pin.cat = cat;
        pin.def = def;
        pin.opt = opt;
        pin.copy_root = copy_root;
        pin.dest = copy_root ? copy_root : "";
        pin.day_start_us = day_start;
        if ((st = lr__plan_make(&pin, &plan, err)) != LR_OK)
            goto out;
    }
    res->partitions = (uint32_t)plan.n;
    res->parts = calloc(plan.n ? plan.n : 1, sizeof *res->parts);
    if (res->parts == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto out;
    }
    res->n_parts = plan.n;
    for (size_t i = 0; i < plan.n; i++) {
        lr_compact_partition_result *p = &res->parts[i];
        snprintf(p->partition, sizeof p->partition, "%s", plan.units[i].name);
        p->status = LR_JOB_PENDING;
        p->files_in = plan.units[i].files_planned;
        p->rows_in = plan.units[i].rows_planned;
        p->bytes_in = plan.units[i].bytes_planned;
    }
    if (opt->dry_run) {
        for (size_t i = 0; i < plan.n; i++) {
            res->files_in += res->parts[i].files_in;
            res->rows_in += res->parts[i].rows_in;
            res->bytes_in += res->parts[i].bytes_in;
        }
        res->status = LR_JOB_COMPLETED;
        st = LR_OK;
        goto out;
    }
    for (size_t i = 0; i < plan.n; i++)
        res->parts[i].files_in = res->parts[i].rows_in = res->parts[i].bytes_in = 0;

    /* The job. */
    rc = calloc(1, sizeof *rc);
    if (rc == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = lr__holder_self(&rc->jc.holder, err)) != LR_OK)
        goto out;
    {
        lr_compact_job job;
        const char **names = calloc(plan.n ? plan.n : 1, sizeof *names);
        if (names == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < plan.n; i++)
            names[i] = plan.units[i].name;
        memset(&job, 0, sizeof job);
        job.fg_name = def->name;
        job.fg_created_us = def->creation_time_us;
        job.mode = lr_compact_mode_name(opt->mode);
        job.date = opt->mode == LR_COMPACT_DAY ? opt->date : NULL;
        job.partition_mode = lr_compact_partition_mode_name(opt->partition_mode);
        job.target = copy_root;
        job.dedup = opt->dedup;
        job.grace_us = opt->grace_us;
        job.target_file_bytes = (int64_t)opt->target_file_bytes;
        job.holder = rc->jc.holder;
        job.expires_us = lr_now_us() + opt->lease_us;
        st = lr_catalog_job_create(cat, &job, names, plan.n, err);
        free(names);
        if (st != LR_OK)
            goto out;
        res->job_id = job.id;
        rc->jc.job_id = job.id;
        job_made = true;
    }
    lr__metrics_job_start();
    if (asprintf(&spill_dir, "%s/job-%lld", opt->tmp_dir ? opt->tmp_dir : tmp_dir,
                 (long long)res->job_id) < 0) {
        spill_dir = NULL;
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto out;
    }
    if (mkdir(opt->tmp_dir ? opt->tmp_dir : tmp_dir, 0700) != 0 && errno != EEXIST) {
        st = lr_error_set(err, LR_EIO, "cannot create %s: %s",
                          opt->tmp_dir ? opt->tmp_dir : tmp_dir, strerror(errno));
        goto finish;
    }

    /* The workers. */
    rc->jc.data_dir = data_dir;
    rc->jc.catalog_uri = catalog_uri;
    rc->jc.opt = opt;
    rc->jc.def = def;
    rc->jc.sc = &sc;
    rc->jc.copy_root = copy_root;
    rc->jc.dest = copy_root ? copy_root : "";
    rc->jc.spill_dir = spill_dir;
    rc->plan = &plan;
    rc->res = res;
    n_workers = opt->threads ? opt->threads : THREADS_DEFAULT;
    /* Fewer units than threads: each unit gets the threads left over. */
    rc->jc.par = 1;
    if (n_workers > plan.n) {
        unsigned units = plan.n ? (unsigned)plan.n : 1;
        rc->jc.par = n_workers / units;
        n_workers = units;
    }
    rc->jc.mem_per_worker = opt->memory_bytes / n_workers;
    pthread_mutex_init(&rc->mu, NULL);
    pthread_cond_init(&rc->cv, NULL);
    mu_ready = true;
    workers = calloc(n_workers, sizeof *workers);
    if (workers == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto finish;
    }
    if (plan.n > 0) {
        for (unsigned i = 0; i < n_workers; i++) {
            workers[i].rc = rc;
            pthread_mutex_lock(&rc->mu);
            rc->running++;
            pthread_mutex_unlock(&rc->mu);
            if (pthread_create(&workers[i].th, NULL, worker_main, &workers[i]) != 0) {
                pthread_mutex_lock(&rc->mu);
                rc->running--;
                pthread_mutex_unlock(&rc->mu);
                if (i == 0) {
                    st = lr_error_set(err, LR_EINTERNAL, "cannot start a compaction thread");
                    goto finish;
                }
                break;
            }
            workers[i].started = true;
        }
        coordinate(rc, cat, t0);
        for (unsigned i = 0; i < n_workers; i++)
            if (workers[i].started)
                pthread_join(workers[i].th, NULL);
    }
    st = LR_OK;

finish:
    if (spill_dir != NULL)
        remove_dir(spill_dir);
    for (size_t i = 0; i < res->n_parts; i++) {
        const lr_compact_partition_result *p = &res->parts[i];
        if (p->status == LR_JOB_COMPLETED) {
            res->partitions_done++;
            res->files_out += p->files_out;
            res->rows_out += p->rows_out;
            res->rows_dropped += p->rows_dropped;
            res->bytes_out += p->bytes_out;
        } else {
            res->partitions_failed++;
        }
        res->files_in += p->files_in;
        res->rows_in += p->rows_in;
        res->bytes_in += p->bytes_in;
    }
    if (st == LR_OK && all_completed(res)) {
        lr_error fe;
        res->status = LR_JOB_COMPLETED;
        if (lr_catalog_job_finish(cat, res->job_id, &rc->jc.holder, LR_JOB_COMPLETED, NULL, &fe) !=
            LR_OK) {
            res->status = LR_JOB_FAILED;
            st = lr_error_set(err, fe.code, "job %lld: %s", (long long)res->job_id,
                              lr_error_message(&fe));
        }
    } else {
        lr_error fe;
        lr_status code = st;
        if (st == LR_OK) {
            summary = summarize(res);
            for (size_t i = 0; i < res->n_parts && code == LR_OK; i++)
                if (res->parts[i].status != LR_JOB_COMPLETED)
                    code = res->parts[i].code != LR_OK ? res->parts[i].code : LR_EINTERNAL;
            st = lr_error_set(err, code, "compaction of %s (job %lld) failed: %s", def->name,
                              (long long)res->job_id, summary ? summary : "out of memory");
        }
        res->status = LR_JOB_FAILED;
        if (lr_catalog_job_finish(cat, res->job_id, &rc->jc.holder, LR_JOB_FAILED,
                                  summary ? summary : err->msg, &fe) != LR_OK &&
            fe.code != LR_ECONFLICT)
            lr_log_warn("compact", "cannot record the end of job %lld: %s", (long long)res->job_id,
                        lr_error_message(&fe));
    }
    res->elapsed_us = lr_now_us() - t0;
    lr__metrics_job_end(res, res->status != LR_JOB_COMPLETED);

out:
    if (!job_made)
        res->elapsed_us = lr_now_us() - t0;
    if (mu_ready) {
        pthread_mutex_destroy(&rc->mu);
        pthread_cond_destroy(&rc->cv);
    }
    free(workers);
    free(rc);
    free(summary);
    free(spill_dir);
    free(tmp_dir);
    free(copy_root);
    lr__plan_free(&plan);
    if (sc_ready)
        lr__schema_free(&sc);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    if (res == &local)
        lr_compact_result_free(&local);
    return st;
}
