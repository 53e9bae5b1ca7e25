/*
 * bench_online.c - throughput and latency of the online store on the
 * smart-meter schema (examples/smart-meter.json: household_id, day, seven
 * energy figures, event_time).
 *
 *   bench_online --uri URI [--records N] [--threads 1,2] [--get-ops N]
 *                [--put-ops N] [--durability sync|nometasync|nosync]
 *                [--skip-load] [--label TEXT]
 *
 * Loads N records (ids MAC0000000.., in batches of 1000), then for each
 * thread count: gets of random ids (each thread its own reader), first
 * untimed for throughput, then each call timed for p50/p99/p99.9; and puts
 * of random ids with a newer event time, each call timed. Prints one
 * Markdown table row per measurement: wall-clock ops/s, and ops per CPU
 * second of the benchmark's threads (the per-core figure on a machine that
 * other work shares; for Redis it leaves out the server's CPU). bench/online/run.sh runs the whole
 * comparison (LMDB, Redis, redis-benchmark) and docs/BENCHMARKS.md has the
 * figures.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "larder/datagen.h"
#include "larder/online.h"
#include "larder/record.h"
#include "larder/value.h"

#define NFEAT 10
#define BATCH 1000
#define DAY0  1609459200LL /* 2021-01-01 */

typedef struct cfg {
    const char *uri;
    const char *label;
    uint64_t records;
    uint64_t get_ops;
    uint64_t put_ops;
    int threads[8];
    int nthreads;
    lr_online_durability durability;
    int skip_load;
} cfg;

static lr_fg_def *g_def;
static lr_online *g_store;
static cfg g_cfg;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread: per-core figures on a shared machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "MAC%07u" without printf: the benchmark should time the store. */
static size_t format_id(char *out, uint64_t k)
{
    out[0] = 'M';
    out[1] = 'A';
    out[2] = 'C';
    for (int i = 9; i >= 3; i--) {
        out[i] = (char)('0' + k % 10);
        k /= 10;
    }
    out[10] = '\0';
    return 10;
}

static uint64_t rng(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One record's text, built in place. */
typedef struct rowbuf {
    char text[NFEAT][40];
    lr_feature_value vals[NFEAT];
    lr_record rec;
} rowbuf;

static void make_row(rowbuf *r, uint64_t id, int64_t day, uint64_t *seed)
{
    static const char *names[NFEAT] = {
        "household_id", "day",        "energy_median", "energy_mean", "energy_max",
        "energy_count", "energy_std", "energy_sum",    "energy_min",  "event_time"};
    double mean = (double)(rng(seed) % 100000) / 10000.0;
    lr_error err;
    int64_t t = (DAY0 + day * 86400) * 1000000LL;
    format_id(r->text[0], id);
    lr_time_format_iso8601(t, r->text[1]);
    r->text[1][10] = '\0'; /* the date */
    snprintf(r->text[2], 40, "%.3f", mean * 0.9);
    snprintf(r->text[3], 40, "%.6f", mean);
    snprintf(r->text[4], 40, "%.3f", mean * 2.5);
    snprintf(r->text[5], 40, "%d", 48);
    snprintf(r->text[6], 40, "%.6f", mean / 3.0);
    snprintf(r->text[7], 40, "%.3f", mean * 48);
    snprintf(r->text[8], 40, "%.3f", mean / 10.0);
    lr_time_format_iso8601(t, r->text[9]);
    for (int i = 0; i < NFEAT; i++) {
        int32_t f = lr_fg_def_find_feature(g_def, names[i], strlen(names[i]));
        memset(&r->vals[i], 0, sizeof r->vals[i]);
        r->vals[i].feature = (uint32_t)f;
        r->vals[i].value.ptr = r->text[i];
        r->vals[i].value.len = strlen(r->text[i]);
    }
    memset(&r->rec, 0, sizeof r->rec);
    r->rec.values = r->vals;
    r->rec.n_values = NFEAT;
    if (lr_record_validate(g_def, &r->rec, &err) != LR_OK) {
        fprintf(stderr, "bench: record: %s\n", err.msg);
        exit(1);
    }
}

/* ---- load ---- */

typedef struct load_arg {
    uint64_t from, to;
} load_arg;

static void *load_main(void *p)
{
    load_arg *a = p;
    rowbuf *rows = malloc(BATCH * sizeof *rows);
    lr_online_write *w = malloc(BATCH * sizeof *w);
    uint64_t seed = a->from;
    for (uint64_t i = a->from; i < a->to;) {
        size_t n = 0;
        lr_error err;
        for (; n < BATCH && i < a->to; n++, i++) {
            make_row(&rows[n], i, 0, &seed);
            memset(&w[n], 0, sizeof w[n]);
            w[n].kind = LR_ONLINE_PUT;
            w[n].def = g_def;
            w[n].record = &rows[n].rec;
        }
        if (lr_online_write_batch(g_store, w, n, &err) != LR_OK) {
            fprintf(stderr, "bench: load: %s\n", err.msg);
            exit(1);
        }
    }
    free(rows);
    free(w);
    return NULL;
}

/* ---- timed phases ---- */

typedef struct worker {
    int id;
    uint64_t ops;
    int timed;
    uint32_t *lat; /* ns, per op when timed */
    double secs;
    double cpu; /* CPU seconds the thread used */
    uint64_t found;
} worker;

static void *get_main(void *p)
{
    worker *w = p;
    lr_online_reader *r;
    lr_error err;
    uint64_t seed = 0x1234 + (uint64_t)w->id * 7777 + (uint64_t)w->timed;
    char id[16];
    double t0;
    if (lr_online_reader_open(g_store, &r, &err) != LR_OK) {
        fprintf(stderr, "bench: reader: %s\n", err.msg);
        exit(1);
    }
    t0 = now_s();
    w->cpu = cpu_s();
    for (uint64_t i = 0; i < w->ops; i++) {
        lr_online_row row;
        uint64_t k = rng(&seed) % g_cfg.records, s = 0;
        size_t n = format_id(id, k);
        if (w->timed)
            s = now_ns();
        if (lr_online_get(r, g_def, id, n, NULL, 0, &row, &err) != LR_OK) {
            fprintf(stderr, "bench: get: %s\n", err.msg);
            exit(1);
        }
        if (w->timed)
            w->lat[i] = (uint32_t)(now_ns() - s);
        w->found += row.found;
    }
    w->secs = now_s() - t0;
    w->cpu = cpu_s() - w->cpu;
    lr_online_reader_close(r);
    return NULL;
}

static void *put_main(void *p)
{
    worker *w = p;
    uint64_t seed = 0x9876 + (uint64_t)w->id * 31337;
    rowbuf row;
    double t0 = now_s();
    w->cpu = cpu_s();
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t k = rng(&seed) % g_cfg.records, s;
        lr_error err;
        bool changed;
        /* Days grow through the run, so nearly every put replaces the record. */
        make_row(&row, k, 1 + (int64_t)(i * 8 + (uint64_t)w->id), &seed);
        s = now_ns();
        if (lr_online_put(g_store, g_def, &row.rec, NULL, &changed, &err) != LR_OK) {
            fprintf(stderr, "bench: put: %s\n", err.msg);
            exit(1);
        }
        w->lat[i] = (uint32_t)(now_ns() - s);
    }
    w->secs = now_s() - t0;
    w->cpu = cpu_s() - w->cpu;
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, uint64_t n, double p)
{
    uint64_t i = (uint64_t)(p * (double)(n - 1));
    return v[i] / 1000.0;
}

/* Runs `fn` on t threads, ops each; prints a row. */
static void phase(const char *op, void *(*fn)(void *), int t, uint64_t ops, int timed)
{
    worker w[8];
    pthread_t th[8];
    uint32_t *all = NULL;
    double secs = 0, cpu = 0;
    uint64_t total = 0;
    for (int i = 0; i < t; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        w[i].ops = ops;
        w[i].timed = timed;
        if (timed && (w[i].lat = malloc(ops * sizeof *w[i].lat)) == NULL) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        pthread_create(&th[i], NULL, fn, &w[i]);
    }
    for (int i = 0; i < t; i++) {
        pthread_join(th[i], NULL);
        if (w[i].secs > secs)
            secs = w[i].secs;
        cpu += w[i].cpu;
        total += w[i].ops;
    }
    if (timed) {
        uint64_t k = 0;
        all = malloc(total * sizeof *all);
        for (int i = 0; i < t; i++) {
            memcpy(all + k, w[i].lat, w[i].ops * sizeof *all);
            k += w[i].ops;
            free(w[i].lat);
        }
        qsort(all, total, sizeof *all, cmp_u32);
        printf("| %s | %s | %d | %" PRIu64 " | %.0f | %.0f | %.1f | %.1f | %.1f |\n", g_cfg.label,
               op, t, total, (double)total / secs, (double)total / cpu, pct(all, total, 0.50),
               pct(all, total, 0.99), pct(all, total, 0.999));
        free(all);
    } else {
        printf("| %s | %s | %d | %" PRIu64 " | %.0f | %.0f | | | |\n", g_cfg.label, op, t, total,
               (double)total / secs, (double)total / cpu);
    }
    fflush(stdout);
    if (fn == get_main) {
        for (int i = 0; i < t; i++) {
            if (w[i].found != w[i].ops) {
                fprintf(stderr, "bench: %" PRIu64 " of %" PRIu64 " gets found nothing\n",
                        w[i].ops - w[i].found, w[i].ops);
                exit(1);
            }
        }
    }
}

/*
 * The floor: LMDB's own mdb_get on the same keys, with the same read
 * transaction renew/reset around each get, no decoding and no copy. Run
 * after the store is closed (LMDB allows one environment handle per process).
 */
static void raw_lmdb_floor(const char *dir, uint64_t ops)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint64_t seed = 0x1234, found = 0;
    char key[64];
    size_t glen = strlen(g_def->name);
    double t0, cpu;
    int rc;

    if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 4)) != 0 ||
        (rc = mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0644)) != 0 ||
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
        (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
        fprintf(stderr, "bench: raw lmdb: %s\n", mdb_strerror(rc));
        exit(1);
    }
    mdb_txn_reset(txn);
    memcpy(key, g_def->name, glen);
    key[glen] = '\0';
    t0 = now_s();
    cpu = cpu_s();
    for (uint64_t i = 0; i < ops; i++) {
        MDB_val k, v;
        k.mv_size = glen + 1 + format_id(key + glen + 1, rng(&seed) % g_cfg.records);
        k.mv_data = key;
        mdb_txn_renew(txn);
        found += mdb_get(txn, dbi, &k, &v) == 0;
        mdb_txn_reset(txn);
    }
    t0 = now_s() - t0;
    cpu = cpu_s() - cpu;
    printf("| %s | raw mdb_get (floor) | 1 | %" PRIu64 " | %.0f | %.0f | | | |\n", g_cfg.label, ops,
           (double)ops / t0, (double)ops / cpu);
    if (found != ops)
        fprintf(stderr, "bench: raw lmdb found %" PRIu64 " of %" PRIu64 "\n", found, ops);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_online --uri URI [--records N] [--threads 1,2] [--get-ops N]\n"
                    "       [--put-ops N] [--durability sync|nometasync|nosync] [--skip-load]\n"
                    "       [--label TEXT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    lr_online_options o;
    lr_error err;
    const char *defjson = lr_datagen_smart_meter_definition();

    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.records = 1000000;
    g_cfg.get_ops = 2000000;
    g_cfg.put_ops = 20000;
    g_cfg.threads[0] = 1;
    g_cfg.threads[1] = 2;
    g_cfg.nthreads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--skip-load") == 0) {
            g_cfg.skip_load = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--uri") == 0) {
            g_cfg.uri = v;
        } else if (strcmp(a, "--label") == 0) {
            g_cfg.label = v;
        } else if (strcmp(a, "--records") == 0) {
            g_cfg.records = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--get-ops") == 0) {
            g_cfg.get_ops = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--put-ops") == 0) {
            g_cfg.put_ops = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--threads") == 0) {
            char *s = strdup(v), *save = NULL;
            g_cfg.nthreads = 0;
            for (char *t = strtok_r(s, ",", &save); t && g_cfg.nthreads < 8;
                 t = strtok_r(NULL, ",", &save)) {
                int n = atoi(t);
                if (n < 1 || n > 8)
                    usage();
                g_cfg.threads[g_cfg.nthreads++] = n;
            }
            free(s);
        } else if (strcmp(a, "--durability") == 0) {
            if (strcmp(v, "sync") == 0)
                g_cfg.durability = LR_ONLINE_SYNC;
            else if (strcmp(v, "nometasync") == 0)
                g_cfg.durability = LR_ONLINE_NOMETASYNC;
            else if (strcmp(v, "nosync") == 0)
                g_cfg.durability = LR_ONLINE_NOSYNC;
            else
                usage();
        } else {
            usage();
        }
    }
    if (g_cfg.uri == NULL || g_cfg.records == 0)
        usage();
    if (g_cfg.label == NULL)
        g_cfg.label = g_cfg.uri;
    if (lr_fg_def_parse(defjson, strlen(defjson), &g_def, &err) != LR_OK) {
        fprintf(stderr, "bench: definition: %s\n", err.msg);
        return 1;
    }
    lr_online_options_init(&o);
    o.durability = g_cfg.durability;
    if (lr_online_open(g_cfg.uri, &o, &g_store, &err) != LR_OK) {
        fprintf(stderr, "bench: open %s: %s\n", g_cfg.uri, err.msg);
        return 1;
    }
    if (!g_cfg.skip_load) {
        /* Loaded on two threads in batches of 1000 (BatchWriteRecord-like). */
        load_arg la[2] = {{0, g_cfg.records / 2}, {g_cfg.records / 2, g_cfg.records}};
        pthread_t th[2];
        double t0 = now_s(), secs;
        lr_online_stats st;
        lr_online_drop_group(g_store, g_def->name, &err);
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, load_main, &la[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        secs = now_s() - t0;
        lr_online_group_stats(g_store, g_def->name, &st, &err);
        printf("| %s | load (batches of %d) | 2 | %" PRIu64 " | %.0f | | | | |\n", g_cfg.label,
               BATCH, g_cfg.records, (double)g_cfg.records / secs);
        fprintf(stderr, "loaded %" PRIu64 " records, %" PRIu64 " bytes of keys and values\n",
                st.records, st.bytes);
    }
    for (int i = 0; i < g_cfg.nthreads; i++) {
        int t = g_cfg.threads[i];
        if (g_cfg.get_ops) {
            phase("get", get_main, t, g_cfg.get_ops, 0);
            phase("get (timed)", get_main, t, g_cfg.get_ops / 2, 1);
        }
    }
    for (int i = 0; i < g_cfg.nthreads; i++) {
        if (g_cfg.put_ops)
            phase("put", put_main, g_cfg.threads[i], g_cfg.put_ops, 1);
    }
    lr_online_close(g_store);
    if (strncmp(g_cfg.uri, "redis://", 8) != 0 && g_cfg.get_ops) {
        char dir[4096];
        if (strncmp(g_cfg.uri, "lmdb:", 5) == 0)
            snprintf(dir, sizeof dir, "%s", g_cfg.uri + 5);
        else
            snprintf(dir, sizeof dir, "%s/online", g_cfg.uri);
        raw_lmdb_floor(dir, g_cfg.get_ops);
    }
    lr_fg_def_free(g_def);
    return 0;
}
