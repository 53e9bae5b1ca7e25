/*
 * training.c - the public calls of training.h: point-in-time training sets,
 * exports of the latest records and materialization into the online store.
 * Each runs in phases over the job context of spill.c:
 *
 *   1. entities (training sets): read the entity file's identifier and
 *      timestamp columns; each row with both goes, per key class, into the
 *      hash partition of its key; the time range of the rows, a sketch of
 *      the number of distinct keys and a Bloom filter of them are kept;
 *   2. features: per group, offline scans over the event-time range that
 *      can matter ([first entity time - max age, last entity time]), split
 *      between the workers by partitions, into the same hash partitions;
 *   3. join: the workers take partitions and join them (join.c);
 *   4. output: the entity file again, each row with its partitions'
 *      next results (training sets), or the partitions' results in order
 *      (export). Materialize writes the online store in phase 3 instead.
 *
 * The catalog is used only on the calling thread (phase 2 opens the scans
 * there; the workers only read files).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "larder/log.h"
#include "larder/value.h"
#include "training/training_internal.h"

#define BUCKETS_MAX 4096
#define HLL_BITS 12
#define PROGRESS_US 250000
#define WINDOW_BIG (64u << 10)
#define WINDOW_SMALL (4u << 10)

lr_status lr_training_format_parse(const char *s, lr_training_format *out, lr_error *err)
{
    if (s != NULL && strcmp(s, "csv") == 0) {
        *out = LR_TRAINING_CSV;
        return LR_OK;
    }
    if (s != NULL && strcmp(s, "parquet") == 0) {
        *out = LR_TRAINING_PARQUET;
        return LR_OK;
    }
    return lr_error_set(err, LR_EINVAL, "unknown format '%s' (csv or parquet)", s ? s : "");
}

void lr_training_set_options_init(lr_training_set_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->as_of_us = INT64_MAX;
    opt->codec = LR_PQ_SNAPPY;
}

void lr_training_export_options_init(lr_training_export_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->start_us = INT64_MIN;
    opt->end_us = INT64_MAX;
    opt->as_of_us = INT64_MAX;
    opt->codec = LR_PQ_SNAPPY;
}

void lr_training_materialize_options_init(lr_training_materialize_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->start_us = INT64_MIN;
    opt->end_us = INT64_MAX;
    opt->as_of_us = INT64_MAX;
}

/* ---- progress ---- */

typedef struct progress {
    const lr_training_resources *res;
    lr__tr_ctx *ctx;
    int64_t last_us;
} progress;

static void report(progress *p, const char *phase, uint64_t done, uint64_t total, bool force)
{
    if (force && done == total)
        lr_log_debug("training", "%s: %" PRIu64 " done at %.3f s", phase, done,
                     (lr_now_us() - p->ctx->start_us) / 1e6);
    if (p->res == NULL || p->res->progress == NULL)
        return;
    int64_t now = lr_now_us();
    if (!force && now - p->last_us < PROGRESS_US)
        return;
    p->last_us = now;
    lr_training_progress pr = {phase, done, total, now - p->ctx->start_us};
    p->res->progress(p->res->progress_ctx, &pr);
}

/* ---- worker threads ---- */

typedef struct pool {
    pthread_t *th;
    uint32_t n, started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t finished;
} pool;

typedef struct pool_arg {
    pool *pl;
    void (*fn)(void *);
    void *arg;
} pool_arg;

static void *pool_main(void *p)
{
    pool_arg *a = p;
    a->fn(a->arg);
    pthread_mutex_lock(&a->pl->mu);
    a->pl->finished++;
    pthread_cond_signal(&a->pl->cv);
    pthread_mutex_unlock(&a->pl->mu);
    return NULL;
}

/*
 * Runs fn(args + i * size) for i < n on n threads and waits, reporting
 * progress (the phase's counter) while it waits. LR_ENOMEM when a thread
 * cannot be started (the ones started are waited for).
 */
static lr_status run_pool(uint32_t n, void (*fn)(void *), void *args, size_t size, progress *pr,
                          const char *phase, _Atomic uint64_t *counter, uint64_t total,
                          lr_error *err)
{
    pool pl;
    pool_arg *pa = calloc(n, sizeof *pa);
    lr_status st = LR_OK;
    memset(&pl, 0, sizeof pl);
    pl.th = calloc(n, sizeof *pl.th);
    if (pa == NULL || pl.th == NULL) {
        free(pa);
        free(pl.th);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    pl.n = n;
    for (uint32_t i = 0; i < n; i++) {
        pa[i].pl = &pl;
        pa[i].fn = fn;
        pa[i].arg = (char *)args + (size_t)i * size;
        if (pthread_create(&pl.th[i], NULL, pool_main, &pa[i]) != 0) {
            st = lr_error_set(err, LR_ENOMEM, "cannot start a worker thread: %s", strerror(errno));
            pr->ctx->failed = 1;
            break;
        }
        pl.started++;
    }
    pthread_mutex_lock(&pl.mu);
    while (pl.finished < pl.started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&pl.cv, &pl.mu, &ts);
        if (counter != NULL && pl.finished < pl.started) {
            pthread_mutex_unlock(&pl.mu);
            report(pr, phase, atomic_load(counter), total, false);
            pthread_mutex_lock(&pl.mu);
        }
    }
    pthread_mutex_unlock(&pl.mu);
    for (uint32_t i = 0; i < pl.started; i++)
        pthread_join(pl.th[i], NULL);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
    free(pl.th);
    free(pa);
    return st;
}

/* ---- distinct keys (HyperLogLog) and the Bloom filter ---- */

typedef struct keyset {
    uint8_t reg[1u << HLL_BITS];
    uint64_t *h;
    size_t n, cap, max;
    bool over;
} keyset;

static void keyset_add(keyset *k, uint64_t h)
{
    uint32_t i = (uint32_t)(h >> (64 - HLL_BITS));
    uint64_t w = h << HLL_BITS;
    uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - HLL_BITS + 1);
    if (rank > k->reg[i])
        k->reg[i] = rank;
    if (k->over)
        return;
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 4096;
        uint64_t *nh = nc <= k->max ? realloc(k->h, nc * sizeof *nh) : NULL;
        if (nh == NULL) {
            /* Too many keys to remember: no filter (everything passes). */
            k->over = true;
            free(k->h);
            k->h = NULL;
            k->n = k->cap = 0;
            return;
        }
        k->h = nh;
        k->cap = nc;
    }
    k->h[k->n++] = h;
}

static double keyset_distinct(const keyset *k)
{
    const double m = (double)(1u << HLL_BITS);
    double sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < (1u << HLL_BITS); i++) {
        sum += ldexp(1.0, -(int)k->reg[i]);
        zeros += k->reg[i] == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / zeros);
    return e;
}

/* Builds the filter of k's keys; b->words NULL when there is none. */
static lr_status bloom_build(lr__tr_bloom *b, keyset *k, lr_error *err)
{
    memset(b, 0, sizeof *b);
    if (k->over || k->n == 0)
        return LR_OK;
    double d = keyset_distinct(k) * 1.1 + 64;
    size_t words = 8;
    while ((double)words * 64 < d * 12)
        words *= 2;
    b->words = calloc(words, sizeof *b->words);
    if (b->words == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    b->mask = words - 1;
    for (size_t i = 0; i < k->n; i++)
        lr__tr_bloom_add(b, k->h[i]);
    return LR_OK;
}

/* ---- shared setup ---- */

static uint32_t pow2_at_least(uint64_t v)
{
    uint32_t p = 1;
    while (p < v && p < BUCKETS_MAX)
        p *= 2;
    return p;
}

/* Chooses the number of top partitions from an estimate of the bytes to partition. */
static lr_status choose_buckets(lr__tr_ctx *ctx, const lr_training_resources *res, uint64_t est,
                                uint32_t *bits, lr_error *err)
{
    uint32_t b;
    if (res->buckets != 0) {
        if (res->buckets > 65536 || (res->buckets & (res->buckets - 1)) != 0)
            return lr_error_set(err, LR_EINVAL, "buckets must be a power of two up to 65536");
        b = res->buckets;
    } else {
        uint64_t need = est * 2 / (ctx->work_limit ? ctx->work_limit : 1) + 1;
        uint64_t min = (uint64_t)ctx->threads * 16;
        b = pow2_at_least(need > min ? need : min);
    }
    *bits = 0;
    while ((1u << *bits) < b)
        (*bits)++;
    lr__tr_ctx_set_parts(ctx, b);
    return LR_OK;
}

static lr_status job_nodes(lr__tr_job *job, uint32_t bits, lr_error *err)
{
    job->top_bits = bits;
    job->n_nodes = 1u << bits;
    job->nodes = calloc(job->n_nodes, sizeof *job->nodes);
    if (job->nodes == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < job->n_nodes; i++) {
        job->nodes[i].feat = calloc(job->n_groups, sizeof(lr__tr_list));
        job->nodes[i].res = calloc(job->n_groups, sizeof(lr__tr_list));
        if (job->nodes[i].feat == NULL || job->nodes[i].res == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    return LR_OK;
}

/* An estimate of a group's feature records in bytes. */
static lr_status group_estimate(lr_catalog *cat, const lr__tr_group *g, uint64_t *bytes,
                                lr_error *err)
{
    lr_offline_group_stats gs;
    lr_status st = lr_offline_group_stats_get(cat, g->def->name, &gs, err);
    if (st != LR_OK)
        return st;
    *bytes = gs.rows * (LR__TR_FREC_FIXED + 4 + 16 + (uint64_t)g->n_out * 12);
    return LR_OK;
}

typedef void (*task_fn)(void *);

static void scan_task_main(void *p)
{
    lr__tr_scan_run(p);
}

/*
 * Phase 2 for group g: scans its range on up to ctx->threads threads into
 * the job's nodes. *rows receives the rows partitioned.
 */
static lr_status scan_group(lr_catalog *cat, lr__tr_job *job, uint32_t gi,
                            const lr__tr_bloom *bloom, int64_t as_of, progress *pr, uint64_t *rows,
                            lr_error *err)
{
    lr__tr_ctx *ctx = job->ctx;
    lr__tr_group *g = &job->groups[gi];
    uint32_t T = ctx->threads, n = 0;
    int64_t *starts = calloc(T, sizeof *starts), *ends = calloc(T, sizeof *ends);
    lr__tr_scan_task *tasks = calloc(T, sizeof *tasks);
    lr__tr_list *lists = NULL;
    _Atomic uint64_t counter = 0;
    uint64_t total = 0;
    lr_status st;

    *rows = 0;
    if (starts == NULL || ends == NULL || tasks == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    if (g->lo >= g->hi) {
        st = LR_OK;
        goto done;
    }
    if ((st = lr__tr_split_ranges(cat, g, T, starts, ends, &n, &total, err)) != LR_OK)
        goto done;
    if (n == 0)
        goto done;
    lists = calloc((size_t)n * job->n_nodes, sizeof *lists);
    if (lists == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        lr_offline_scan_options so;
        lr_offline_scan_options_init(&so);
        so.start_us = starts[i];
        so.end_us = ends[i];
        so.columns = g->scan_cols;
        so.n_columns = g->n_scan;
        tasks[i].ctx = ctx;
        tasks[i].g = g;
        tasks[i].bloom = bloom;
        tasks[i].as_of_us = as_of;
        tasks[i].top_bits = job->top_bits;
        tasks[i].out = lists + (size_t)i * job->n_nodes;
        tasks[i].progress = &counter;
        if ((st = lr_offline_scan_open(cat, g->def->name, &so, &tasks[i].scan, err)) != LR_OK)
            goto done;
    }
    report(pr, "features", 0, total, true);
    if ((st = run_pool(n, scan_task_main, tasks, sizeof *tasks, pr, "features", &counter, total,
                       err)) != LR_OK)
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        if (tasks[i].st != LR_OK && tasks[i].st != LR_ECANCELED) {
            st = tasks[i].st;
            if (err != NULL)
                *err = tasks[i].err;
            goto done;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (tasks[i].st != LR_OK) {
            st = lr_error_set(err, LR_ECANCELED, "canceled");
            goto done;
        }
        *rows += tasks[i].rows;
    }
    report(pr, "features", atomic_load(&counter), total, true);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t b = 0; b < job->n_nodes; b++)
            lr__tr_list_concat(&job->nodes[b].feat[gi], &lists[(size_t)i * job->n_nodes + b]);
done:
    if (lists != NULL)
        for (size_t i = 0; i < (size_t)n * job->n_nodes; i++)
            lr__tr_list_free(ctx, &lists[i]);
    free(lists);
    if (tasks != NULL)
        for (uint32_t i = 0; i < T; i++)
            lr_offline_scan_free(tasks[i].scan);
    free(tasks);
    free(starts);
    free(ends);
    return st;
}

typedef struct join_arg {
    lr__tr_worker *w;
    lr_status st;
    lr_error err;
} join_arg;

static void join_main(void *p)
{
    join_arg *a = p;
    a->st = lr__tr_worker_run(a->w, &a->err);
}

/* Phase 3: joins (or reduces) every node on ctx->threads workers. */
static lr_status run_join(lr__tr_job *job, progress *pr, lr_error *err)
{
    uint32_t T = job->ctx->threads;
    join_arg *args = calloc(T, sizeof *args);
    lr_status st = LR_OK;
    if (args == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < T && st == LR_OK; i++)
        st = lr__tr_worker_new(job, &args[i].w, err);
    if (st == LR_OK) {
        report(pr, "join", 0, job->n_nodes, true);
        st = run_pool(T, join_main, args, sizeof *args, pr, "join", &job->done, job->n_nodes, err);
    }
    if (st == LR_OK) {
        for (uint32_t i = 0; i < T && st == LR_OK; i++) {
            if (args[i].st != LR_OK && args[i].st != LR_ECANCELED) {
                st = args[i].st;
                if (err != NULL)
                    *err = args[i].err;
            }
        }
        for (uint32_t i = 0; i < T && st == LR_OK; i++)
            if (args[i].st != LR_OK)
                st = lr_error_set(err, LR_ECANCELED, "canceled");
    }
    if (st == LR_OK)
        report(pr, "join", job->n_nodes, job->n_nodes, true);
    for (uint32_t i = 0; i < T; i++)
        lr__tr_worker_free(args[i].w);
    free(args);
    return st;
}

static lr_status resolve_max_age(const lr_fg_def *def, int64_t spec, int64_t *out, lr_error *err)
{
    if (spec == LR_TRAINING_MAX_AGE_NONE) {
        *out = 0;
    } else if (spec == LR_TRAINING_MAX_AGE_TTL) {
        *out = def->online_enabled && def->online_ttl.unit != LR_TTL_NONE
                   ? lr_ttl_micros(def->online_ttl)
                   : 0;
    } else if (spec > 0) {
        *out = spec;
    } else {
        return lr_error_set(err, LR_EINVAL, "a max age must be positive");
    }
    return LR_OK;
}

/* ---- training sets ---- */

/* Gives features whose names collide the "<group>__" prefix; checks the result is unique. */
static lr_status name_columns(lr__tr_group *groups, uint32_t ng, const lr_pq_column_def *ent,
                              uint32_t ne, lr_error *err)
{
    for (uint32_t g = 0; g < ng; g++) {
        for (uint32_t j = 0; j < groups[g].n_out; j++) {
            const char *name = groups[g].def->features[groups[g].feat[j]].name;
            bool clash = false;
            for (uint32_t i = 0; i < ne && !clash; i++)
                clash = strcmp(ent[i].name, name) == 0;
            for (uint32_t h = 0; h < ng && !clash; h++) {
                if (h == g)
                    continue;
                for (uint32_t k = 0; k < groups[h].n_out && !clash; k++)
                    clash = strcmp(groups[h].def->features[groups[h].feat[k]].name, name) == 0;
            }
            if (!clash)
                continue;
            size_t n = strlen(groups[g].def->name) + 2 + strlen(name) + 1;
            char *p = malloc(n);
            if (p == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            snprintf(p, n, "%s__%s", groups[g].def->name, name);
            free(groups[g].out_names[j]);
            groups[g].out_names[j] = p;
        }
    }
    /* A prefixed name can still meet an entity column of that very name. */
    for (uint32_t g = 0; g < ng; g++) {
        for (uint32_t j = 0; j < groups[g].n_out; j++) {
            const char *name = groups[g].out_names[j];
            bool dup = false;
            for (uint32_t i = 0; i < ne && !dup; i++)
                dup = strcmp(ent[i].name, name) == 0;
            for (uint32_t h = 0; h <= g && !dup; h++)
                for (uint32_t k = 0; k < (h == g ? j : groups[h].n_out) && !dup; k++)
                    dup = strcmp(groups[h].out_names[k], name) == 0;
            if (dup)
                return lr_error_set(err, LR_EINVAL,
                                    "output column '%.80s' would appear twice (rename the entity "
                                    "column)",
                                    name);
        }
    }
    return LR_OK;
}

typedef struct pit {
    lr__tr_ctx ctx;
    lr__tr_job job;
    lr__tr_group *groups;
    uint32_t ng;
    lr__tr_ent *ent;
    lr__tr_out *out;
    keyset *ks[LR__TR_KEY_CLASSES];
    lr__tr_bloom bloom[LR__TR_KEY_CLASSES];
    lr__tr_colbuf *cols; /* per output feature column */
    lr_pq_column_batch *views;
    lr_pq_column_def *defs;
    uint32_t n_feat_cols;
    bool used[LR__TR_KEY_CLASSES];
} pit;

/* Phase 1: entity keys into the top nodes. */
static lr_status pit_entities(pit *p, progress *pr, int64_t *min_ts, int64_t *max_ts, uint64_t *rows, lr_error *err)
{
    lr__tr_ctx *ctx = &p->ctx;
    lr__tr_job *job = &p->job;
    lr__tr_pw pw[LR__TR_KEY_CLASSES];
    lr__tr_list *lists = NULL;
    uint32_t mask = job->n_nodes - 1;
    uint8_t kbuf[LR__TR_KEY_MAX];
    lr_status st = LR_OK;
    uint32_t n;

    memset(pw, 0, sizeof pw);
    *min_ts = INT64_MAX;
    *max_ts = INT64_MIN;
    *rows = 0;
    lists = calloc((size_t)LR__TR_KEY_CLASSES * job->n_nodes, sizeof *lists);
    if (lists == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (int c = 0; c < LR__TR_KEY_CLASSES && st == LR_OK; c++)
        if (p->used[c])
            st = lr__tr_pw_init(&pw[c], ctx, job->n_nodes, lists + (size_t)c * job->n_nodes, false,
                                err);
    while (st == LR_OK && (st = lr__tr_ent_next(p->ent, &n, err)) == LR_OK && n > 0) {
        for (uint32_t r = 0; r < n && st == LR_OK; r++) {
            int64_t ts;
            bool has;
            if ((st = lr__tr_ent_ts(p->ent, r, &ts, &has, err)) != LR_OK || !has)
                continue;
            bool any = false;
            for (int c = 0; c < LR__TR_KEY_CLASSES && st == LR_OK; c++) {
                const uint8_t *key;
                uint32_t klen;
                uint8_t *d;
                if (!p->used[c] || !lr__tr_ent_key(p->ent, r, c, kbuf, &key, &klen))
                    continue;
                uint64_t h = lr__tr_hash(key, klen);
                st = lr__tr_pw_reserve(&pw[c], (uint32_t)h & mask, LR__TR_EREC_FIXED + klen, &d,
                                       err);
                if (st != LR_OK)
                    break;
                memcpy(d, &h, 8);
                memcpy(d + 8, &ts, 8);
                memcpy(d + 16, key, klen);
                keyset_add(p->ks[c], h);
                any = true;
            }
            if (any) {
                if (ts < *min_ts)
                    *min_ts = ts;
                if (ts > *max_ts)
                    *max_ts = ts;
            }
        }
        *rows += n;
        report(pr, "entities", *rows, 0, false);
    }
    for (int c = 0; c < LR__TR_KEY_CLASSES && st == LR_OK; c++)
        if (p->used[c])
            st = lr__tr_pw_flush(&pw[c], err);
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++) {
        if (p->used[c])
            lr__tr_pw_free(&pw[c]);
        for (uint32_t b = 0; b < job->n_nodes; b++) {
            lr__tr_list *l = &lists[(size_t)c * job->n_nodes + b];
            if (st == LR_OK)
                lr__tr_list_concat(&job->nodes[b].ent[c], l);
            else
                lr__tr_list_free(ctx, l);
        }
    }
    free(lists);
    report(pr, "entities", *rows, *rows, true);
    return st;
}

/* Phase 4: the entity file again, with each row's results. */
static lr_status pit_output(pit *p, const lr_training_set_options *opt, uint64_t n_rows,
                            progress *pr, lr_error *err)
{
    lr__tr_job *job = &p->job;
    uint32_t ne = lr__tr_ent_ncols(p->ent);
    uint8_t kbuf[LR__TR_KEY_MAX];
    uint64_t done = 0;
    size_t window = job->n_nodes * (size_t)p->ng > 1024 ? WINDOW_SMALL : WINDOW_BIG;
    lr_status st;
    uint32_t n;

    while ((st = lr__tr_ent_next(p->ent, &n, err)) == LR_OK && n > 0) {
        for (uint32_t c = 0; c < p->n_feat_cols; c++)
            lr__tr_colbuf_clear(&p->cols[c]);
        for (uint32_t r = 0; r < n && st == LR_OK; r++) {
            int64_t ts;
            bool has;
            uint64_t h[LR__TR_KEY_CLASSES];
            bool hk[LR__TR_KEY_CLASSES] = {false, false};
            if ((st = lr__tr_ent_ts(p->ent, r, &ts, &has, err)) != LR_OK)
                break;
            for (int c = 0; c < LR__TR_KEY_CLASSES && has; c++) {
                const uint8_t *key;
                uint32_t klen;
                if (p->used[c] && lr__tr_ent_key(p->ent, r, c, kbuf, &key, &klen)) {
                    h[c] = lr__tr_hash(key, klen);
                    hk[c] = true;
                }
            }
            uint32_t col = 0;
            for (uint32_t g = 0; g < p->ng && st == LR_OK; g++) {
                lr__tr_group *gr = &p->groups[g];
                const uint8_t *rec = NULL;
                uint32_t len = 0;
                if (hk[gr->key_class]) {
                    lr__tr_node *leaf = lr__tr_job_leaf(job, h[gr->key_class]);
                    if (leaf->res[g].records > 0) {
                        if (leaf->cur == NULL) {
                            leaf->cur = calloc(p->ng, sizeof *leaf->cur);
                            if (leaf->cur == NULL) {
                                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                                break;
                            }
                        }
                        st = lr__tr_cursor_next(&leaf->cur[g], &leaf->res[g], window, &rec, &len,
                                                err);
                    }
                }
                const uint8_t *pl = rec;
                for (uint32_t j = 0; j < gr->n_out && st == LR_OK; j++, col++) {
                    lr_status cs;
                    if (len == 0) {
                        cs = lr__tr_colbuf_null(&p->cols[col]);
                    } else {
                        const lr_feature_def *f = &gr->def->features[gr->feat[j]];
                        lr_offline_ctype t = lr__tr_feature_ctype(f);
                        lr__tr_val v;
                        lr__tr_val_decode(t, f->collection != LR_COLL_NONE, &pl, &v);
                        cs = lr__tr_colbuf_val(&p->cols[col], t, &v);
                    }
                    if (cs != LR_OK)
                        st = lr_error_set(err, cs, "%s: %s", opt->out,
                                          cs == LR_ELIMIT ? "a batch of output rows is too large"
                                                          : "out of memory");
                }
            }
        }
        if (st != LR_OK)
            break;
        const lr_pq_column_batch *ec = lr__tr_ent_columns(p->ent);
        memcpy(p->views, ec, ne * sizeof *p->views);
        for (uint32_t c = 0; c < p->n_feat_cols; c++)
            p->views[ne + c] = *lr__tr_colbuf_view(&p->cols[c]);
        if ((st = lr__tr_out_write(p->out, p->views, n, err)) != LR_OK)
            break;
        done += n;
        report(pr, "output", done, n_rows, false);
    }
    if (st == LR_OK)
        report(pr, "output", done, n_rows, true);
    return st;
}

static void pit_free(pit *p)
{
    lr__tr_job_free_nodes(&p->job);
    if (p->groups != NULL)
        for (uint32_t g = 0; g < p->ng; g++)
            lr__tr_group_free(&p->groups[g]);
    free(p->groups);
    lr__tr_ent_close(p->ent);
    lr__tr_out_free(p->out);
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++) {
        if (p->ks[c] != NULL)
            free(p->ks[c]->h);
        free(p->ks[c]);
        free(p->bloom[c].words);
    }
    if (p->cols != NULL)
        for (uint32_t c = 0; c < p->n_feat_cols; c++)
            lr__tr_colbuf_free(&p->cols[c]);
    free(p->cols);
    free(p->views);
    free(p->defs);
    lr__tr_ctx_free(&p->ctx);
}

lr_status lr_training_set_build(lr_catalog *cat, const lr_training_set_options *opt,
                                lr_training_stats *stats, lr_error *err)
{
    pit p;
    progress pr;
    lr_status st;
    struct stat sb;
    uint64_t est = 0, ent_rows = 0, feat_rows = 0;
    int64_t min_ts, max_ts;

    memset(&p, 0, sizeof p);
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (opt == NULL || opt->entities == NULL || opt->entity_id == NULL || opt->timestamp == NULL ||
        opt->out == NULL || opt->groups == NULL || opt->n_groups == 0)
        return lr_error_set(err, LR_EINVAL,
                            "a training set needs an entity file, its identifier and timestamp "
                            "columns, at least one feature group and an output file");
    /* The file is read twice (keys, then output): it must be a regular file. */
    if (stat(opt->entities, &sb) != 0)
        return lr_error_set(err, LR_EIO, "%s: %s", opt->entities, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return lr_error_set(err, LR_EINVAL,
                            "%s: the entity file must be a regular file (it is read twice)",
                            opt->entities);
    est += (uint64_t)sb.st_size * 2;
    if ((st = lr__tr_ctx_init(&p.ctx, &opt->res, err)) != LR_OK)
        goto done;
    p.ctx.start_us = lr_now_us();
    pr.res = &opt->res;
    pr.ctx = &p.ctx;
    pr.last_us = 0;
    p.ng = opt->n_groups;
    p.groups = calloc(p.ng, sizeof *p.groups);
    if (p.groups == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t g = 0; g < p.ng; g++) {
        const lr_training_features *f = &opt->groups[g];
        if (f->group == NULL) {
            st = lr_error_set(err, LR_EINVAL, "a feature group without a name");
            goto done;
        }
        for (uint32_t h = 0; h < g; h++)
            if (strcmp(opt->groups[h].group, f->group) == 0) {
                st = lr_error_set(err, LR_EINVAL,
                                  "feature group %s is given twice (list its features once)",
                                  f->group);
                goto done;
            }
        if ((st = lr__tr_group_init(&p.groups[g], cat, f->group, f->features, f->n_features, true,
                                    err)) != LR_OK ||
            (st = resolve_max_age(p.groups[g].def, f->max_age_us, &p.groups[g].max_age_us, err)) !=
                LR_OK)
            goto done;
        p.used[p.groups[g].key_class] = true;
        uint64_t ge;
        if ((st = group_estimate(cat, &p.groups[g], &ge, err)) != LR_OK)
            goto done;
        est += ge;
    }
    if ((st = lr__tr_ent_open(opt->entities, opt->entities_format, opt->entity_id, opt->timestamp,
                              true, &p.ent, err)) != LR_OK)
        goto done;
    if ((st = name_columns(p.groups, p.ng, lr__tr_ent_defs(p.ent), lr__tr_ent_ncols(p.ent), err)) !=
        LR_OK)
        goto done;

    /* Phase 1. */
    p.job.ctx = &p.ctx;
    p.job.mode = LR__TR_PIT;
    p.job.groups = p.groups;
    p.job.n_groups = p.ng;
    uint32_t bits;
    if ((st = choose_buckets(&p.ctx, &opt->res, est, &bits, err)) != LR_OK ||
        (st = job_nodes(&p.job, bits, err)) != LR_OK)
        goto done;
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++) {
        if (!p.used[c])
            continue;
        p.ks[c] = calloc(1, sizeof *p.ks[c]);
        if (p.ks[c] == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        p.ks[c]->max = p.ctx.memory_max / 16 / sizeof(uint64_t);
    }
    if ((st = pit_entities(&p, &pr, &min_ts, &max_ts, &ent_rows, err)) != LR_OK)
        goto done;
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++) {
        if (!p.used[c])
            continue;
        if ((st = bloom_build(&p.bloom[c], p.ks[c], err)) != LR_OK)
            goto done;
        free(p.ks[c]->h);
        p.ks[c]->h = NULL;
    }
    lr__tr_ent_close(p.ent);
    p.ent = NULL;

    /* Phase 2: per group, the event times that can answer some row. */
    for (uint32_t g = 0; g < p.ng; g++) {
        lr__tr_group *gr = &p.groups[g];
        uint64_t rows;
        if (min_ts > max_ts) {
            gr->lo = gr->hi = 0; /* no row has a key and a time: nothing to read */
        } else {
            gr->hi = max_ts + 1;
            gr->lo = gr->max_age_us > 0 && min_ts > INT64_MIN + gr->max_age_us
                         ? min_ts - gr->max_age_us + 1
                         : INT64_MIN;
        }
        const lr__tr_bloom *bl = p.bloom[gr->key_class].words ? &p.bloom[gr->key_class] : NULL;
        if ((st = scan_group(cat, &p.job, g, bl, opt->as_of_us, &pr, &rows, err)) != LR_OK)
            goto done;
        feat_rows += rows;
    }

    /* Phase 3. */
    if ((st = run_join(&p.job, &pr, err)) != LR_OK)
        goto done;

    /* Phase 4. */
    if ((st = lr__tr_ent_open(opt->entities, opt->entities_format, opt->entity_id, opt->timestamp,
                              false, &p.ent, err)) != LR_OK)
        goto done;
    uint32_t ne = lr__tr_ent_ncols(p.ent);
    for (uint32_t g = 0; g < p.ng; g++)
        p.n_feat_cols += p.groups[g].n_out;
    p.defs = calloc(ne + p.n_feat_cols, sizeof *p.defs);
    p.views = calloc(ne + p.n_feat_cols, sizeof *p.views);
    p.cols = calloc(p.n_feat_cols ? p.n_feat_cols : 1, sizeof *p.cols);
    if (p.defs == NULL || p.views == NULL || p.cols == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(p.defs, lr__tr_ent_defs(p.ent), ne * sizeof *p.defs);
    for (uint32_t g = 0, c = 0; g < p.ng; g++) {
        for (uint32_t j = 0; j < p.groups[g].n_out; j++, c++) {
            lr__tr_group_coldef(&p.groups[g], j, &p.defs[ne + c]);
            lr__tr_colbuf_init(&p.cols[c], p.defs[ne + c].type, p.defs[ne + c].list);
        }
    }
    if ((st = lr__tr_out_open(opt->out, opt->out_format, p.defs, ne + p.n_feat_cols, opt->codec,
                              p.ctx.memory_max / 8, &p.out, err)) != LR_OK)
        goto done;
    if ((st = pit_output(&p, opt, ent_rows, &pr, err)) != LR_OK)
        goto done;
    if (lr__tr_ent_rows(p.ent) != ent_rows) {
        st = lr_error_set(err, LR_EIO, "%s changed while the training set was built",
                          opt->entities);
        goto done;
    }
    st = lr__tr_out_commit(p.out, err);
done:
    if (stats != NULL) {
        stats->entity_rows = ent_rows;
        stats->feature_rows = feat_rows;
        stats->output_rows = st == LR_OK ? ent_rows : 0;
        stats->matches = atomic_load(&p.job.matches);
        stats->spilled_bytes = atomic_load(&p.ctx.spilled);
        stats->buckets = p.job.n_nodes;
        stats->threads = p.ctx.threads;
        stats->elapsed_us = p.ctx.start_us ? lr_now_us() - p.ctx.start_us : 0;
    }
    pit_free(&p);
    return st;
}

/* ---- export and materialize ---- */

typedef struct latest {
    lr__tr_ctx ctx;
    lr__tr_job job;
    lr__tr_group group;
    bool group_init;
} latest;

/* Phases 2 and 3 of export and materialize. */
static lr_status latest_run(latest *l, lr_catalog *cat, const char *group,
                            const char *const *features, uint32_t n_features, int64_t start,
                            int64_t end, int64_t as_of, const lr_training_resources *res,
                            lr__tr_mode mode, lr_online *online, progress *pr, uint64_t *rows,
                            lr_error *err)
{
    lr_status st;
    uint64_t est;
    uint32_t bits;

    *rows = 0;
    if (group == NULL)
        return lr_error_set(err, LR_EINVAL, "no feature group given");
    if (start >= end)
        return lr_error_set(err, LR_EINVAL, "the start must be before the end");
    if ((st = lr__tr_ctx_init(&l->ctx, res, err)) != LR_OK)
        return st;
    l->ctx.start_us = lr_now_us();
    pr->res = res;
    pr->ctx = &l->ctx;
    pr->last_us = 0;
    if ((st = lr__tr_group_init(&l->group, cat, group, features, n_features, false, err)) != LR_OK)
        return st;
    l->group_init = true;
    if (mode == LR__TR_MATERIALIZE && !l->group.def->online_enabled)
        return lr_error_set(err, LR_EINVAL, "feature group %s has no online store", group);
    l->group.lo = start;
    l->group.hi = end;
    l->job.ctx = &l->ctx;
    l->job.mode = mode;
    l->job.groups = &l->group;
    l->job.n_groups = 1;
    l->job.online = online;
    if ((st = group_estimate(cat, &l->group, &est, err)) != LR_OK ||
        (st = choose_buckets(&l->ctx, res, est, &bits, err)) != LR_OK ||
        (st = job_nodes(&l->job, bits, err)) != LR_OK)
        return st;
    if ((st = scan_group(cat, &l->job, 0, NULL, as_of, pr, rows, err)) != LR_OK)
        return st;
    return run_join(&l->job, pr, err);
}

static void latest_free(latest *l)
{
    lr__tr_job_free_nodes(&l->job);
    if (l->group_init)
        lr__tr_group_free(&l->group);
    lr__tr_ctx_free(&l->ctx);
}

/* Writes the results of node n (and its children, in order) to the output. */
static lr_status export_node(latest *l, lr__tr_node *n, lr__tr_out *out, lr__tr_colbuf *cols,
                             lr_pq_column_batch *views, uint32_t *pending, lr_error *err)
{
    const lr__tr_group *g = &l->group;
    lr_status st = LR_OK;
    if (n->child != NULL) {
        for (uint32_t i = 0; i < 256 && st == LR_OK; i++)
            st = export_node(l, &n->child[i], out, cols, views, pending, err);
        return st;
    }
    lr__tr_cursor cur;
    memset(&cur, 0, sizeof cur);
    for (;;) {
        const uint8_t *rec;
        uint32_t len;
        if ((st = lr__tr_cursor_next(&cur, &n->res[0], WINDOW_BIG, &rec, &len, err)) != LR_OK ||
            rec == NULL)
            break;
        for (uint32_t j = 0; j < g->n_out && st == LR_OK; j++) {
            const lr_feature_def *f = &g->def->features[g->feat[j]];
            lr_offline_ctype t = lr__tr_feature_ctype(f);
            lr__tr_val v;
            lr__tr_val_decode(t, f->collection != LR_COLL_NONE, &rec, &v);
            st = lr__tr_colbuf_val(&cols[j], t, &v);
        }
        if (st != LR_OK) {
            st = lr_error_set(err, st, "building the output: %s", lr_strerror(st));
            break;
        }
        if (++*pending == LR__TR_ENT_BATCH) {
            for (uint32_t j = 0; j < g->n_out; j++) {
                views[j] = *lr__tr_colbuf_view(&cols[j]);
            }
            st = lr__tr_out_write(out, views, *pending, err);
            for (uint32_t j = 0; j < g->n_out; j++)
                lr__tr_colbuf_clear(&cols[j]);
            *pending = 0;
            if (st != LR_OK)
                break;
        }
    }
    lr__tr_cursor_free(&cur);
    lr__tr_list_free(&l->ctx, &n->res[0]);
    return st;
}

lr_status lr_training_export(lr_catalog *cat, const lr_training_export_options *opt,
                             lr_training_stats *stats, lr_error *err)
{
    latest l;
    progress pr;
    lr__tr_out *out = NULL;
    lr__tr_colbuf *cols = NULL;
    lr_pq_column_batch *views = NULL;
    lr_pq_column_def *defs = NULL;
    uint64_t rows = 0;
    uint32_t pending = 0;
    lr_status st;

    memset(&l, 0, sizeof l);
    memset(&pr, 0, sizeof pr);
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (opt == NULL || opt->out == NULL)
        return lr_error_set(err, LR_EINVAL, "an export needs a feature group and an output file");
    if ((st = latest_run(&l, cat, opt->group, opt->features, opt->n_features, opt->start_us,
                         opt->end_us, opt->as_of_us, &opt->res, LR__TR_LATEST, NULL, &pr, &rows,
                         err)) != LR_OK)
        goto done;
    uint32_t n = l.group.n_out;
    cols = calloc(n, sizeof *cols);
    views = calloc(n, sizeof *views);
    defs = calloc(n, sizeof *defs);
    if (cols == NULL || views == NULL || defs == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t j = 0; j < n; j++) {
        lr__tr_group_coldef(&l.group, j, &defs[j]);
        lr__tr_colbuf_init(&cols[j], defs[j].type, defs[j].list);
    }
    if ((st = lr__tr_out_open(opt->out, opt->out_format, defs, n, opt->codec,
                              l.ctx.memory_max / 8, &out, err)) != LR_OK)
        goto done;
    for (uint32_t i = 0; i < l.job.n_nodes && st == LR_OK; i++) {
        st = export_node(&l, &l.job.nodes[i], out, cols, views, &pending, err);
        report(&pr, "output", i + 1, l.job.n_nodes, false);
    }
    if (st == LR_OK && pending > 0) {
        for (uint32_t j = 0; j < n; j++)
            views[j] = *lr__tr_colbuf_view(&cols[j]);
        st = lr__tr_out_write(out, views, pending, err);
    }
    if (st == LR_OK)
        st = lr__tr_out_commit(out, err);
done:
    if (stats != NULL) {
        stats->feature_rows = rows;
        stats->output_rows = st == LR_OK ? atomic_load(&l.job.out_rows) : 0;
        stats->spilled_bytes = atomic_load(&l.ctx.spilled);
        stats->buckets = l.job.n_nodes;
        stats->threads = l.ctx.threads;
        stats->elapsed_us = l.ctx.start_us ? lr_now_us() - l.ctx.start_us : 0;
    }
    if (cols != NULL)
        for (uint32_t j = 0; j < l.group.n_out; j++)
            lr__tr_colbuf_free(&cols[j]);
    free(cols);
    free(views);
    free(defs);
    lr__tr_out_free(out);
    latest_free(&l);
    return st;
}

lr_status lr_training_materialize(lr_catalog *cat, lr_online *online,
                                  const lr_training_materialize_options *opt,
                                  lr_training_materialize_stats *stats, lr_error *err)
{
    latest l;
    progress pr;
    uint64_t rows = 0;
    lr_status st;

    memset(&l, 0, sizeof l);
    memset(&pr, 0, sizeof pr);
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (opt == NULL || online == NULL)
        return lr_error_set(err, LR_EINVAL, "materialize needs a feature group and an online store");
    st = latest_run(&l, cat, opt->group, NULL, 0, opt->start_us, opt->end_us, opt->as_of_us,
                    &opt->res, LR__TR_MATERIALIZE, online, &pr, &rows, err);
    if (stats != NULL) {
        stats->feature_rows = rows;
        stats->ids = atomic_load(&l.job.ids);
        stats->written = atomic_load(&l.job.written);
        stats->unchanged = atomic_load(&l.job.unchanged);
        stats->deletes = atomic_load(&l.job.deletes);
        stats->failed = atomic_load(&l.job.failed);
        stats->spilled_bytes = atomic_load(&l.ctx.spilled);
        stats->elapsed_us = l.ctx.start_us ? lr_now_us() - l.ctx.start_us : 0;
    }
    latest_free(&l);
    return st;
}
