/*
 * bench_compact.c - the compaction benchmark's data: one day of many small
 * offline files of the smart-meter group, as the offline store's flusher
 * leaves them (bench/compact/run.sh times Larder and DuckDB on them).
 *
 *   bench_compact gen DIR [--files N] [--rows R] [--households H] [--seed S]
 *
 * Creates a data directory DIR with the group "smart-meter"
 * (examples/smart-meter.json) and N Parquet files (default 10,000) of R rows
 * each (default 1,000), written in SageMaker's layout under the group's
 * offline root and registered in the catalog as live files: file i holds
 * events of hour i % 24 of 2024-06-01, household ids MAC000000.. drawn at
 * random among H (default 50,000), ISO-8601 event times, seven energy
 * readings, write and api_invocation times, is_deleted false. Files use
 * SNAPPY and dictionaries, as the flusher writes them. Prints one JSON line:
 * {"files","rows","bytes","root"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "larder/catalog.h"
#include "larder/datagen.h"
#include "larder/fg.h"
#include "larder/offline.h"
#include "larder/parquet.h"
#include "larder/value.h"

#define DAY_US       1717200000000000LL /* 2024-06-01T00:00:00Z */
#define HOUR_US      3600000000LL
#define COMMIT_BATCH 500

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int die(const char *what, const lr_error *e)
{
    fprintf(stderr, "bench_compact: %s: %s\n", what, e ? lr_error_message(e) : strerror(errno));
    return 1;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Reading with three decimals, as meters report them. */
static double reading(double lo, double hi)
{
    double v = lo + (hi - lo) * (double)(next_rand() % 1000000) / 1e6;
    return (double)(int64_t)(v * 1000) / 1000;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long files = 10000, rows = 1000, households = 50000;
    lr_catalog *cat = NULL;
    lr_fg_def *req = NULL, *def = NULL;
    lr_pq_column_def *cols = NULL;
    uint32_t ncols = 0;
    lr_error err;

    if (argc < 3 || strcmp(argv[1], "gen") != 0) {
        fprintf(stderr, "usage: bench_compact gen DIR [--files N] [--rows R] [--households H] "
                        "[--seed S]\n");
        return 2;
    }
    dir = argv[2];
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--files") == 0)
            files = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--households") == 0)
            households = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            rng = strtoull(argv[i + 1], NULL, 10) | 1;
    }
    if (files < 1 || rows < 1 || households < 1)
        return die("bad arguments", NULL);
    const char *json = lr_datagen_smart_meter_definition();
    if (lr_catalog_open(dir, NULL, &cat, &err) != LR_OK)
        return die("catalog", &err);
    if (lr_fg_def_parse(json, strlen(json), &req, &err) != LR_OK ||
        lr_catalog_fg_create(cat, req, &def, &err) != LR_OK)
        return die("create group", &err);
    if (lr_offline_parquet_columns(def, &cols, &ncols, &err) != LR_OK)
        return die("columns", &err);
    const char *root = def->resolved_offline_uri;

    /* Column buffers for one file. */
    uint32_t n = (uint32_t)rows;
    char *idb = malloc((size_t)n * 16), *dayb = malloc((size_t)n * 16),
         *etb = malloc((size_t)n * 32);
    uint32_t *ido = malloc((n + 1) * sizeof *ido), *dayo = malloc((n + 1) * sizeof *dayo),
             *eto = malloc((n + 1) * sizeof *eto);
    double *vals[6];
    for (int k = 0; k < 6; k++)
        vals[k] = malloc(n * sizeof(double));
    int64_t *cnt = malloc(n * sizeof *cnt), *wt = malloc(n * sizeof *wt),
            *api = malloc(n * sizeof *api);
    uint8_t *del = calloc(n, 1);
    lr_offline_file *batch = calloc(COMMIT_BATCH, sizeof *batch);
    char(*keys)[LR_OFFLINE_KEY_MAX] = calloc(COMMIT_BATCH, sizeof *keys);
    char(*parts)[LR_OFFLINE_PARTITION_MAX] = calloc(COMMIT_BATCH, sizeof *parts);
    if (!idb || !dayb || !etb || !ido || !dayo || !eto || !cnt || !wt || !api || !del || !batch ||
        !keys || !parts)
        return die("out of memory", NULL);
    uint64_t total_bytes = 0;
    size_t nb = 0;
    int64_t api_clock = DAY_US;

    for (long f = 0; f < files; f++) {
        int hour = (int)(f % 24);
        int64_t base = DAY_US + hour * HOUR_US, max_ev = base;
        uint32_t ib = 0, db = 0, eb = 0;
        ido[0] = dayo[0] = eto[0] = 0;
        for (uint32_t r = 0; r < n; r++) {
            int64_t ev = base + (int64_t)(next_rand() % 3600) * 1000000;
            char ts[LR_TIME_STR_MAX];
            size_t tl = lr_time_format_iso8601(ev, ts);
            ib +=
                (uint32_t)sprintf(idb + ib, "MAC%06ld", (long)(next_rand() % (uint64_t)households));
            memcpy(dayb + db, "2024-06-01", 10);
            db += 10;
            memcpy(etb + eb, ts, tl);
            eb += (uint32_t)tl;
            ido[r + 1] = ib;
            dayo[r + 1] = db;
            eto[r + 1] = eb;
            double mean = reading(0.05, 0.9);
            vals[0][r] = reading(0.05, mean);
            vals[1][r] = mean;
            vals[2][r] = reading(mean, 3.5);
            vals[3][r] = reading(0.01, 0.6);
            vals[4][r] = mean * 48;
            vals[5][r] = reading(0.0, 0.05);
            cnt[r] = 48;
            api[r] = ++api_clock;
            wt[r] = api[r] + 1000 + (int64_t)(next_rand() % 5000);
            if (ev > max_ev)
                max_ev = ev;
        }
        /* Columns in the group's order: household_id, day, median, mean, max, count, std, sum, min,
         * event_time. */
        lr_pq_column_batch b[13];
        memset(b, 0, sizeof b);
        b[0].offsets = ido, b[0].bytes = (const uint8_t *)idb;
        b[1].offsets = dayo, b[1].bytes = (const uint8_t *)dayb;
        b[2].f64 = vals[0];
        b[3].f64 = vals[1];
        b[4].f64 = vals[2];
        b[5].i64 = cnt;
        b[6].f64 = vals[3];
        b[7].f64 = vals[4];
        b[8].f64 = vals[5];
        b[9].offsets = eto, b[9].bytes = (const uint8_t *)etb;
        b[10].i64 = wt;
        b[11].i64 = api;
        b[12].bools = del;

        char key[LR_OFFLINE_KEY_MAX], path[4096];
        if (lr_offline_file_key(max_ev, key, &err) != LR_OK)
            return die("key", &err);
        snprintf(path, sizeof path, "%s/%s", root, key);
        *strrchr(path, '/') = '\0';
        if (mkdirs(path) != 0)
            return die(path, NULL);
        snprintf(path, sizeof path, "%s/%s", root, key);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return die(path, NULL);
        lr_pq_writer *w = NULL;
        lr_pq_write_stats ws;
        if (lr_pq_writer_open(cols, ncols, NULL, lr_pq_sink_fd(fd), &w, &err) != LR_OK ||
            lr_pq_writer_write_batch(w, b, n, &err) != LR_OK ||
            lr_pq_writer_close(w, &ws, &err) != LR_OK)
            return die("write", &err);
        lr_pq_writer_free(w);
        close(fd);
        total_bytes += ws.bytes;

        lr_offline_file *of = &batch[nb];
        memset(of, 0, sizeof *of);
        memcpy(keys[nb], key, sizeof key);
        lr_offline_partition_of(base, parts[nb], &of->partition_start_us, NULL);
        of->fg_name = def->name;
        of->fg_created_us = def->creation_time_us;
        of->partition = parts[nb];
        of->root = root;
        of->key = keys[nb];
        of->rows = n;
        of->bytes = (int64_t)ws.bytes;
        of->min_event_us = base;
        of->max_event_us = max_ev;
        if (++nb == COMMIT_BATCH || f == files - 1) {
            if (lr_catalog_offline_commit(cat, NULL, 0, 0, batch, nb, &err) != LR_OK)
                return die("register", &err);
            nb = 0;
        }
    }
    printf("{\"files\":%ld,\"rows\":%ld,\"bytes\":%" PRIu64 ",\"root\":\"%s\"}\n", files,
           files * rows, total_bytes, root);
    free(cols);
    lr_fg_def_free(req);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return 0;
}
