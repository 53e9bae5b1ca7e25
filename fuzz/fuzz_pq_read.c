/*
 * fuzz_pq_read.c - fuzz target for Parquet footer and page decoding.
 *
 * Each input is a whole Parquet file. The reader opens it from memory; on
 * success every metadata accessor is called for every row group and column,
 * then every column is scanned to the end (all columns at once, and again
 * with a projection of every other column and tiny batches, chosen from the
 * input so both paths are exercised). Corrupt input must give an error with
 * a one-line message, never a crash, a hang, a leak or an out-of-bounds read;
 * a scan that succeeds must hand back batches whose shape is consistent:
 * rows within the row group, offsets that never decrease and stay within
 * their data. Any violation aborts, which libFuzzer and the replay driver
 * both report.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_pq_read: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_error(lr_status st, const lr_error *err)
{
    if (st == LR_OK)
        die("error path with LR_OK", NULL);
    if (st == LR_EINTERNAL)
        die("internal error", err->msg);
    if (err->code != st)
        die("error code differs from the status", err->msg);
    if (err->msg[0] == '\0')
        die("empty error message", lr_status_name(st));
    if (strlen(err->msg) >= LR_ERROR_MSG_MAX || strchr(err->msg, '\n'))
        die("malformed error message", err->msg);
}

/* Checks one column of a batch against its definition; touches every byte. */
static void check_column(const lr_pq_column_def *def, const lr_pq_column_batch *cb,
                         uint32_t n_rows)
{
    uint64_t first = 0, slots = n_rows;
    volatile uint8_t sink = 0;

    if (def->list) {
        if (cb->list_offsets == NULL)
            die("list column without offsets", def->name);
        for (uint32_t r = 0; r < n_rows; r++) {
            if (cb->list_offsets[r + 1] < cb->list_offsets[r])
                die("list offsets decrease", def->name);
            if (cb->validity && !cb->validity[r] && cb->list_offsets[r + 1] != cb->list_offsets[r])
                die("a null list has elements", def->name);
        }
        first = cb->list_offsets[0];
        slots = cb->list_offsets[n_rows];
        if (cb->elem_validity)
            for (uint64_t s = first; s < slots; s++)
                sink ^= cb->elem_validity[s];
    }
    if (cb->validity)
        for (uint32_t r = 0; r < n_rows; r++)
            sink ^= cb->validity[r];
    switch (def->type) {
    case LR_PQ_BYTE_ARRAY:
    case LR_PQ_FIXED_LEN_BYTE_ARRAY:
        if (cb->offsets == NULL)
            die("byte column without offsets", def->name);
        for (uint64_t s = first; s < slots; s++) {
            if (cb->offsets[s + 1] < cb->offsets[s])
                die("byte offsets decrease", def->name);
            if (def->type == LR_PQ_FIXED_LEN_BYTE_ARRAY && cb->offsets[s + 1] != cb->offsets[s] &&
                cb->offsets[s + 1] - cb->offsets[s] != (uint32_t)def->type_length)
                die("fixed-length value of the wrong length", def->name);
        }
        for (uint64_t b = cb->offsets[first]; b < cb->offsets[slots]; b++)
            sink ^= cb->bytes[b];
        break;
    case LR_PQ_BOOLEAN:
        for (uint64_t s = first; s < slots; s++) {
            if (cb->bools[s] > 1)
                die("boolean that is not 0 or 1", def->name);
        }
        break;
    case LR_PQ_INT32:
    case LR_PQ_FLOAT:
        for (uint64_t s = first; s < slots; s++)
            sink ^= (uint8_t)cb->i32[s];
        break;
    default:
        for (uint64_t s = first; s < slots; s++)
            sink ^= (uint8_t)cb->i64[s];
        break;
    }
    (void)sink;
}

static void scan_all(lr_pq_reader *r, const lr_pq_scan_options *opt)
{
    lr_pq_scan *s = NULL;
    lr_error err;
    lr_status st;
    const lr_pq_batch *b;
    int64_t total = 0;
    uint32_t guard = 0;

    lr_error_clear(&err);
    st = lr_pq_scan_open(r, opt, &s, &err);
    if (st != LR_OK) {
        check_error(st, &err);
        return;
    }
    for (;;) {
        st = lr_pq_scan_next(s, &b, &err);
        if (st != LR_OK) {
            check_error(st, &err);
            break;
        }
        if (b == NULL)
            break;
        if (b->n_rows == 0)
            die("empty batch", NULL);
        if (b->row_group >= lr_pq_reader_num_row_groups(r))
            die("batch from a row group that does not exist", NULL);
        if (b->n_rows > lr_pq_reader_row_group_rows(r, b->row_group))
            die("batch larger than its row group", NULL);
        for (uint32_t c = 0; c < b->n_columns; c++) {
            uint32_t col = opt && opt->columns ? opt->columns[c] : c;
            check_column(lr_pq_reader_column(r, col), &b->columns[c], b->n_rows);
        }
        total += b->n_rows;
        if (++guard > 10000000)
            die("scan does not end", NULL);
    }
    if (st == LR_OK && opt == NULL && lr_pq_reader_num_columns(r) > 0) {
        int64_t want = 0;
        for (uint32_t g = 0; g < lr_pq_reader_num_row_groups(r); g++)
            want += lr_pq_reader_row_group_rows(r, g);
        if (total != want)
            die("a complete scan returned a different number of rows than the row groups hold",
                NULL);
    }
    lr_pq_scan_free(s);
}

/* Row-group filter for the second scan: every other row group. */
static bool odd_groups(void *ctx, const lr_pq_reader *r, uint32_t rg)
{
    (void)ctx;
    (void)r;
    return (rg & 1) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lr_pq_source src = lr_pq_source_mem(data, size);
    lr_pq_reader *r = NULL;
    lr_error err;
    lr_status st;
    uint32_t ncols, nrg;

    lr_error_clear(&err);
    st = lr_pq_reader_open(&src, &r, &err);
    if (st != LR_OK) {
        check_error(st, &err);
        return 0;
    }
    ncols = lr_pq_reader_num_columns(r);
    nrg = lr_pq_reader_num_row_groups(r);
    (void)lr_pq_reader_created_by(r);
    {
        uint32_t nkv = 0;
        const lr_pq_kv *kv = lr_pq_reader_kv(r, &nkv);
        for (uint32_t i = 0; i < nkv; i++) {
            if (kv[i].key == NULL)
                die("key-value pair without a key", NULL);
            (void)strlen(kv[i].key);
            if (kv[i].value)
                (void)strlen(kv[i].value);
        }
    }
    for (uint32_t c = 0; c < ncols; c++) {
        const lr_pq_column_def *d = lr_pq_reader_column(r, c);
        if (d == NULL || d->name == NULL)
            die("column without a definition", NULL);
        if (lr_pq_reader_find_column(r, d->name) < 0)
            die("column not found by its own name", d->name);
    }
    for (uint32_t g = 0; g < nrg && g < 4096; g++) {
        (void)lr_pq_reader_row_group_rows(r, g);
        for (uint32_t c = 0; c < ncols && c < 256; c++) {
            lr_pq_stats stats;
            lr_pq_chunk_info info;
            lr_pq_scalar lo;
            memset(&lo, 0, sizeof lo);
            if (lr_pq_reader_stats(r, g, c, &stats) == LR_OK && stats.has_min && stats.has_max)
                (void)lr_pq_reader_may_contain(r, g, c, &stats.min, &stats.max);
            (void)lr_pq_reader_chunk_info(r, g, c, &info);
            (void)lr_pq_reader_may_contain(r, g, c, &lo, NULL);
        }
    }
    /* Bad indexes are rejected, not crashed on. */
    {
        lr_pq_stats stats;
        if (lr_pq_reader_stats(r, nrg, 0, &stats) != LR_EINVAL)
            die("stats accepted a bad row group", NULL);
    }

    /* Scan 1: every column. */
    scan_all(r, NULL);

    /* Scan 2: every other column, tiny batches, every other row group. */
    if (ncols > 0) {
        uint32_t *cols = malloc(sizeof *cols * ncols);
        lr_pq_scan_options opt;
        uint32_t n = 0;
        if (cols == NULL)
            die("out of memory", NULL);
        for (uint32_t c = ncols; c-- > 0;)
            if ((c & 1) == (size & 1))
                cols[n++] = c;
        memset(&opt, 0, sizeof opt);
        opt.columns = cols;
        opt.n_columns = n;
        opt.batch_rows = 1 + (uint32_t)(size % 7);
        opt.filter = (size & 2) ? odd_groups : NULL;
        if (n > 0)
            scan_all(r, &opt);
        free(cols);
    }
    lr_pq_reader_free(r);
    return 0;
}
