/*
 * pq_bench.c - Larder's side of the Parquet benchmark (bench/parquet/run.mjs
 * runs it next to DuckDB and writes the table in docs/BENCHMARKS.md).
 *
 *   pq_bench [--rows N] [--reps R] [--codec snappy,zstd] [--level L] DIR
 *
 * Generates N rows (default 10,000,000) of the benchmark schema in memory
 * (not timed):
 *   id INT64 (0..N-1), ts TIMESTAMP(UTC, micros) increasing with jitter,
 *   d1..d4 DOUBLE, s STRING of 12 characters from a million distinct keys,
 *   dn DOUBLE with 10% nulls,
 * then for each codec writes DIR/larder_<codec>.parquet with the public
 * writer (column batches of 64 Ki rows, default options otherwise) and
 * reads it back in full with the public reader, touching every value so
 * nothing is left unmaterialised. Each step runs R times (default 3); the
 * best wall-clock time and the best CPU time count. One JSON line per codec
 * goes to stdout:
 *   {"codec":"SNAPPY","rows":N,"bytes":B,"write_s":W,"read_s":R,
 *    "write_cpu_s":w,"read_cpu_s":r,"checksum":"..."}
 * The checksum (of the values read) lets the runner check that DuckDB reads
 * the same data.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "larder/parquet.h"

#define N_COLS 8
#define BATCH 65536
#define STR_LEN 12

typedef struct data {
    uint32_t rows;
    int64_t *id, *ts;
    double *d[4], *dn;
    uint8_t *dn_valid;
    uint32_t *s_off;
    char *s_bytes;
} data;

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Wall-clock time, and this process's CPU time (the machine may be shared). */
static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "pq_bench: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void generate(data *d, uint32_t rows)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    d->rows = rows;
    d->id = xmalloc(sizeof *d->id * rows);
    d->ts = xmalloc(sizeof *d->ts * rows);
    for (int k = 0; k < 4; k++)
        d->d[k] = xmalloc(sizeof *d->d[k] * rows);
    d->dn = xmalloc(sizeof *d->dn * rows);
    d->dn_valid = xmalloc(rows);
    d->s_off = xmalloc(sizeof *d->s_off * ((size_t)rows + 1));
    d->s_bytes = xmalloc((size_t)rows * STR_LEN);
    int64_t t = 1704067200000000LL; /* 2024-01-01 */
    for (uint32_t i = 0; i < rows; i++) {
        uint64_t r = rnd();
        uint64_t key = r % 1000000;
        d->id[i] = i;
        t += 1000 + (int64_t)(r >> 40) % 2000;
        d->ts[i] = t;
        d->d[0][i] = (double)(rnd() >> 11) * 0x1.0p-53;             /* uniform [0,1) */
        d->d[1][i] = round((double)(rnd() % 1000000) / 100.0) / 10; /* prices, 1 decimal */
        d->d[2][i] = (double)(int64_t)(rnd() % 200001) - 100000.0;  /* integral values */
        d->d[3][i] = (double)(rnd() % 8) * 0.25;                    /* low cardinality */
        d->dn_valid[i] = rnd() % 10 != 0;
        d->dn[i] = d->dn_valid[i] ? (double)(rnd() >> 11) * 0x1.0p-40 : 0.0;
        d->s_off[i] = i * STR_LEN;
        memcpy(d->s_bytes + (size_t)i * STR_LEN, "key-", 4);
        for (int k = 0; k < 8; k++) {
            d->s_bytes[(size_t)i * STR_LEN + 4 + (size_t)k] = digits[key % 36];
            key /= 36;
        }
    }
    d->s_off[rows] = rows * STR_LEN;
}

static const lr_pq_column_def *schema(void)
{
    static lr_pq_column_def defs[N_COLS];
    static const char *names[N_COLS] = {"id", "ts", "d1", "d2", "d3", "d4", "s", "dn"};
    memset(defs, 0, sizeof defs);
    for (int c = 0; c < N_COLS; c++) {
        defs[c].name = names[c];
        defs[c].type = LR_PQ_DOUBLE;
    }
    defs[0].type = LR_PQ_INT64;
    defs[1].type = LR_PQ_INT64;
    defs[1].logical = LR_PQ_LOGICAL_TIMESTAMP;
    defs[1].unit = LR_PQ_MICROS;
    defs[1].utc = true;
    defs[6].type = LR_PQ_BYTE_ARRAY;
    defs[6].logical = LR_PQ_LOGICAL_STRING;
    defs[7].optional = true;
    return defs;
}

static int level; /* --level: the codec level (0: the writer's default) */

static int write_file(const data *d, const char *path, lr_pq_codec codec, uint64_t *bytes)
{
    lr_pq_write_options opt;
    lr_pq_writer *w = NULL;
    lr_pq_write_stats ws;
    lr_error err;
    lr_status st;
    uint32_t *off = xmalloc(sizeof *off * (BATCH + 1));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;

    if (fd < 0) {
        fprintf(stderr, "pq_bench: %s: %s\n", path, strerror(errno));
        free(off);
        return -1;
    }
    lr_pq_write_options_init(&opt);
    opt.codec = codec;
    opt.level = level;
    st = lr_pq_writer_open(schema(), N_COLS, &opt, lr_pq_sink_fd(fd), &w, &err);
    for (uint32_t r0 = 0; st == LR_OK && r0 < d->rows; r0 += BATCH) {
        uint32_t n = d->rows - r0 < BATCH ? d->rows - r0 : BATCH;
        lr_pq_column_batch b[N_COLS];
        memset(b, 0, sizeof b);
        b[0].i64 = d->id + r0;
        b[1].i64 = d->ts + r0;
        for (int k = 0; k < 4; k++)
            b[2 + k].f64 = d->d[k] + r0;
        for (uint32_t i = 0; i <= n; i++)
            off[i] = d->s_off[r0 + i] - d->s_off[r0];
        b[6].offsets = off;
        b[6].bytes = (const uint8_t *)d->s_bytes + d->s_off[r0];
        b[7].f64 = d->dn + r0;
        b[7].validity = d->dn_valid + r0;
        st = lr_pq_writer_write_batch(w, b, n, &err);
    }
    if (st == LR_OK)
        st = lr_pq_writer_close(w, &ws, &err);
    if (st != LR_OK) {
        fprintf(stderr, "pq_bench: writing %s: %s\n", path, lr_error_message(&err));
    } else {
        *bytes = ws.bytes;
        rc = 0;
    }
    lr_pq_writer_free(w);
    close(fd);
    free(off);
    return rc;
}

/*
 * Reads every column of every row and folds every value into a checksum:
 * integer columns summed (timestamps modulo 1000003), doubles summed, string
 * lengths and first bytes
 * summed, nulls counted.
 */
static int read_file(const char *path, char *checksum, size_t cap)
{
    lr_pq_reader *r = NULL;
    lr_pq_scan *s = NULL;
    const lr_pq_batch *b;
    lr_error err;
    lr_status st;
    int64_t sum_id = 0, sum_ts = 0, sum_len = 0, sum_c = 0, nulls = 0, rows = 0;
    double sum_d[5] = {0, 0, 0, 0, 0};

    st = lr_pq_reader_open_file(path, &r, &err);
    if (st == LR_OK)
        st = lr_pq_scan_open(r, NULL, &s, &err);
    while (st == LR_OK) {
        st = lr_pq_scan_next(s, &b, &err);
        if (st != LR_OK || b == NULL)
            break;
        const lr_pq_column_batch *c = b->columns;
        for (uint32_t i = 0; i < b->n_rows; i++) {
            sum_id += c[0].i64[i];
            sum_ts += c[1].i64[i] % 1000003;
            for (int k = 0; k < 4; k++)
                sum_d[k] += c[2 + k].f64[i];
            sum_len += c[6].offsets[i + 1] - c[6].offsets[i];
            sum_c += c[6].bytes[c[6].offsets[i]];
            if (c[7].validity && !c[7].validity[i])
                nulls++;
            else
                sum_d[4] += c[7].f64[i];
        }
        rows += b->n_rows;
    }
    if (st != LR_OK)
        fprintf(stderr, "pq_bench: reading %s: %s\n", path, lr_error_message(&err));
    else
        snprintf(checksum, cap,
                 "rows=%" PRId64 " id=%" PRId64 " ts=%" PRId64 " d1=%.6e d2=%.6e d3=%.6e d4=%.6e "
                 "len=%" PRId64 " c=%" PRId64 " dn=%.6e nulls=%" PRId64,
                 rows, sum_id, sum_ts, sum_d[0], sum_d[1], sum_d[2], sum_d[3], sum_len, sum_c,
                 sum_d[4], nulls);
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    return st == LR_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint32_t rows = 10000000, reps = 3;
    const char *codecs = "snappy,zstd", *dir = NULL;
    data d;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
            level = atoi(argv[++i]);
        else if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc)
            codecs = argv[++i];
        else if (argv[i][0] != '-' && dir == NULL)
            dir = argv[i];
        else {
            fprintf(stderr, "usage: pq_bench [--rows N] [--reps R] [--codec snappy,zstd] [--level L] DIR\n");
            return 2;
        }
    }
    if (dir == NULL || rows == 0 || reps == 0) {
        fprintf(stderr, "usage: pq_bench [--rows N] [--reps R] [--codec snappy,zstd] [--level L] DIR\n");
        return 2;
    }
    mkdir(dir, 0755);
    generate(&d, rows);
    char list[256];
    snprintf(list, sizeof list, "%s", codecs);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        lr_pq_codec codec;
        lr_error err;
        char path[4096], sum[512] = "";
        double best_w = INFINITY, best_r = INFINITY, cpu_w = INFINITY, cpu_r = INFINITY;
        uint64_t bytes = 0;
        if (lr_pq_codec_parse(name, &codec, &err) != LR_OK) {
            fprintf(stderr, "pq_bench: %s\n", err.msg);
            return 2;
        }
        snprintf(path, sizeof path, "%s/larder_%s.parquet", dir, name);
        for (uint32_t k = 0; k < reps; k++) {
            double t0 = now(), c0 = cpu();
            if (write_file(&d, path, codec, &bytes) != 0)
                return 1;
            double t1 = now(), c1 = cpu();
            if (read_file(path, sum, sizeof sum) != 0)
                return 1;
            double t2 = now(), c2 = cpu();
            best_w = fmin(best_w, t1 - t0);
            best_r = fmin(best_r, t2 - t1);
            cpu_w = fmin(cpu_w, c1 - c0);
            cpu_r = fmin(cpu_r, c2 - c1);
        }
        printf("{\"codec\":\"%s\",\"rows\":%u,\"bytes\":%" PRIu64 ",\"write_s\":%.4f,"
               "\"read_s\":%.4f,\"write_cpu_s\":%.4f,\"read_cpu_s\":%.4f,\"checksum\":\"%s\","
               "\"path\":\"%s\"}\n",
               lr_pq_codec_name(codec), rows, bytes, best_w, best_r, cpu_w, cpu_r, sum, path);
        fflush(stdout);
    }
    return 0;
}
