/*
 * fuzz_pq_roundtrip.c - fuzz target for the Parquet write -> read round trip.
 *
 * The input is read as a schema, writer options and values:
 *   byte 0      number of columns (1..6)
 *   byte 1      codec (UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW), dictionary on/off
 *   byte 2      page rows and row-group rows (small values force many pages/groups)
 *   byte 3      row API or column batches, and the batch size
 *   2 per col   kind (INT32, INT64, FLOAT, DOUBLE, BOOLEAN, STRING, TIMESTAMP
 *               micros/millis) and flags (optional, list, optional elements)
 *   1 byte      number of rows (0..255)
 *   the rest    the values, taken byte by byte (zeros once the input runs out)
 * The file is written to memory with Larder's writer, read back with its
 * reader, and every value, null and list must come back bit for bit (floats
 * included: -0.0 and NaN payloads must survive dictionary encoding). The
 * writer must accept every such input. Any difference aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 6
#define MAX_ROWS 256
#define MAX_LIST 5
#define MAX_STR 40

enum { K_I32, K_I64, K_F32, K_F64, K_BOOL, K_STR, K_TS_US, K_TS_MS, K_COUNT };

typedef struct input {
    const uint8_t *p;
    size_t left;
} input;

static uint8_t next(input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static void take(input *in, void *out, size_t n)
{
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++)
        o[i] = next(in);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_pq_roundtrip: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

typedef struct col {
    int kind;
    bool optional, list, elem_optional;
    uint8_t *validity;      /* rows */
    uint32_t *list_offsets; /* rows + 1 */
    uint8_t *elem_validity; /* slots */
    uint8_t *values;        /* slots * width (not strings) */
    uint32_t *offsets;      /* slots + 1 (strings) */
    uint8_t *bytes;
    size_t slots, nbytes;
} col;

static size_t width_of(int kind)
{
    switch (kind) {
    case K_I32:
    case K_F32:
        return 4;
    case K_BOOL:
        return 1;
    case K_STR:
        return 0;
    default:
        return 8;
    }
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        die("out of memory", NULL);
    return p;
}

static void gen(col *c, uint32_t rows, input *in)
{
    size_t cap = c->list ? (size_t)rows * MAX_LIST : rows;
    size_t w = width_of(c->kind);

    c->validity = xcalloc(rows, 1);
    c->list_offsets = xcalloc((size_t)rows + 1, sizeof *c->list_offsets);
    c->elem_validity = xcalloc(cap, 1);
    c->values = xcalloc(cap, w ? w : 1);
    c->offsets = xcalloc(cap + 1, sizeof *c->offsets);
    c->bytes = xcalloc(cap * MAX_STR, 1);
    for (uint32_t r = 0; r < rows; r++) {
        bool present = !c->optional || (next(in) & 3) != 0;
        size_t n = c->list ? (present ? next(in) % (MAX_LIST + 1) : 0) : 1;
        c->validity[r] = present;
        c->list_offsets[r] = (uint32_t)c->slots;
        for (size_t k = 0; k < n; k++) {
            size_t s = c->slots++;
            bool ev = c->list ? (!c->elem_optional || (next(in) & 3) != 0) : present;
            c->elem_validity[s] = ev;
            c->offsets[s] = (uint32_t)c->nbytes;
            if (!ev)
                continue;
            if (c->kind == K_STR) {
                size_t len = next(in) % (MAX_STR + 1);
                take(in, c->bytes + c->nbytes, len);
                c->nbytes += len;
            } else if (c->kind == K_BOOL) {
                c->values[s] = next(in) & 1;
            } else {
                take(in, c->values + s * w, w);
            }
        }
    }
    c->list_offsets[rows] = (uint32_t)c->slots;
    c->offsets[c->slots] = (uint32_t)c->nbytes;
}

static void free_col(col *c)
{
    free(c->validity);
    free(c->list_offsets);
    free(c->elem_validity);
    free(c->values);
    free(c->offsets);
    free(c->bytes);
}

static lr_pq_column_def def_of(const col *c, char *name)
{
    lr_pq_column_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.optional = c->optional;
    d.list = c->list;
    d.element_optional = c->elem_optional;
    switch (c->kind) {
    case K_I32:
        d.type = LR_PQ_INT32;
        break;
    case K_I64:
        d.type = LR_PQ_INT64;
        break;
    case K_F32:
        d.type = LR_PQ_FLOAT;
        break;
    case K_F64:
        d.type = LR_PQ_DOUBLE;
        break;
    case K_BOOL:
        d.type = LR_PQ_BOOLEAN;
        break;
    case K_STR:
        d.type = LR_PQ_BYTE_ARRAY;
        d.logical = LR_PQ_LOGICAL_STRING;
        break;
    default:
        d.type = LR_PQ_INT64;
        d.logical = LR_PQ_LOGICAL_TIMESTAMP;
        d.unit = c->kind == K_TS_US ? LR_PQ_MICROS : LR_PQ_MILLIS;
        d.utc = true;
        break;
    }
    return d;
}

/* The batch for rows [r0, r0 + n), list and byte offsets rebased to 0. */
static lr_pq_column_batch batch_of(const col *c, uint32_t r0, uint32_t n, uint32_t *lo,
                                   uint32_t *off)
{
    lr_pq_column_batch b;
    size_t s0 = r0, s1 = (size_t)r0 + n, w = width_of(c->kind);

    memset(&b, 0, sizeof b);
    if (c->optional)
        b.validity = c->validity + r0;
    if (c->list) {
        s0 = c->list_offsets[r0];
        s1 = c->list_offsets[r0 + n];
        for (uint32_t i = 0; i <= n; i++)
            lo[i] = c->list_offsets[r0 + i] - (uint32_t)s0;
        b.list_offsets = lo;
        if (c->elem_optional)
            b.elem_validity = c->elem_validity + s0;
    }
    if (c->kind == K_STR) {
        for (size_t i = 0; i <= s1 - s0; i++)
            off[i] = c->offsets[s0 + i] - c->offsets[s0];
        b.offsets = off;
        b.bytes = c->bytes + c->offsets[s0];
    } else {
        b.values = c->values + s0 * w;
    }
    return b;
}

static lr_status write_rows(lr_pq_writer *w, col *cols, uint32_t ncols, uint32_t rows,
                            lr_error *err)
{
    lr_status st = LR_OK;
    for (uint32_t r = 0; r < rows && st == LR_OK; r++) {
        for (uint32_t ci = 0; ci < ncols && st == LR_OK; ci++) {
            col *c = &cols[ci];
            size_t s0 = r, s1 = (size_t)r + 1, w8 = width_of(c->kind);
            if (c->optional && !c->validity[r]) {
                st = lr_pq_writer_set_null(w, ci, err);
                continue;
            }
            if (c->list) {
                s0 = c->list_offsets[r];
                s1 = c->list_offsets[r + 1];
                st = lr_pq_writer_list_begin(w, ci, err);
            }
            for (size_t s = s0; s < s1 && st == LR_OK; s++) {
                const uint8_t *v = c->values + s * w8;
                if (c->list && !c->elem_validity[s]) {
                    st = lr_pq_writer_set_null(w, ci, err);
                    continue;
                }
                switch (c->kind) {
                case K_I32: {
                    int32_t x;
                    memcpy(&x, v, 4);
                    st = lr_pq_writer_set_i32(w, ci, x, err);
                    break;
                }
                case K_F32: {
                    float x;
                    memcpy(&x, v, 4);
                    st = lr_pq_writer_set_float(w, ci, x, err);
                    break;
                }
                case K_F64: {
                    double x;
                    memcpy(&x, v, 8);
                    st = lr_pq_writer_set_double(w, ci, x, err);
                    break;
                }
                case K_BOOL:
                    st = lr_pq_writer_set_bool(w, ci, v[0] != 0, err);
                    break;
                case K_STR:
                    st = lr_pq_writer_set_bytes(w, ci, c->bytes + c->offsets[s],
                                                c->offsets[s + 1] - c->offsets[s], err);
                    break;
                default: {
                    int64_t x;
                    memcpy(&x, v, 8);
                    st = lr_pq_writer_set_i64(w, ci, x, err);
                    break;
                }
                }
            }
            if (c->list && st == LR_OK)
                st = lr_pq_writer_list_end(w, ci, err);
        }
        if (st == LR_OK)
            st = lr_pq_writer_end_row(w, err);
    }
    return st;
}

/* Compares the slot s of the original with slot t of a read batch column. */
static void compare_slot(const col *c, size_t s, const lr_pq_column_batch *b, size_t t)
{
    size_t w = width_of(c->kind);
    if (c->kind == K_STR) {
        uint32_t la = c->offsets[s + 1] - c->offsets[s];
        uint32_t lb = b->offsets[t + 1] - b->offsets[t];
        if (la != lb || (la && memcmp(c->bytes + c->offsets[s], b->bytes + b->offsets[t], la)))
            die("string differs", NULL);
    } else if (c->kind == K_BOOL) {
        if ((c->values[s] != 0) != (b->bools[t] != 0))
            die("boolean differs", NULL);
    } else if (memcmp(c->values + s * w, (const uint8_t *)b->values + t * w, w) != 0) {
        die("value differs", NULL);
    }
}

static void verify(const uint8_t *file, size_t len, col *cols, uint32_t ncols, uint32_t rows)
{
    lr_pq_source src = lr_pq_source_mem(file, len);
    lr_pq_reader *r = NULL;
    lr_pq_scan *scan = NULL;
    const lr_pq_batch *b;
    lr_error err;
    uint32_t row = 0;

    if (lr_pq_reader_open(&src, &r, &err) != LR_OK)
        die("cannot read back the file", err.msg);
    if (lr_pq_reader_num_rows(r) != rows || lr_pq_reader_num_columns(r) != ncols)
        die("row or column count differs", NULL);
    if (lr_pq_scan_open(r, NULL, &scan, &err) != LR_OK)
        die("cannot scan the file", err.msg);
    for (;;) {
        if (lr_pq_scan_next(scan, &b, &err) != LR_OK)
            die("scan failed", err.msg);
        if (b == NULL)
            break;
        if (row + b->n_rows > rows)
            die("more rows than written", NULL);
        for (uint32_t ci = 0; ci < ncols; ci++) {
            const col *c = &cols[ci];
            const lr_pq_column_batch *cb = &b->columns[ci];
            for (uint32_t i = 0; i < b->n_rows; i++) {
                uint32_t rr = row + i;
                bool present = cb->validity ? cb->validity[i] != 0 : true;
                if (present != (c->validity[rr] != 0))
                    die("null differs", NULL);
                if (!present)
                    continue;
                if (c->list) {
                    size_t a0 = c->list_offsets[rr], a1 = c->list_offsets[rr + 1];
                    size_t b0 = cb->list_offsets[i], b1 = cb->list_offsets[i + 1];
                    if (a1 - a0 != b1 - b0)
                        die("list length differs", NULL);
                    for (size_t k = 0; k < a1 - a0; k++) {
                        bool ev = cb->elem_validity ? cb->elem_validity[b0 + k] != 0 : true;
                        if (ev != (c->elem_validity[a0 + k] != 0))
                            die("null element differs", NULL);
                        if (ev)
                            compare_slot(c, a0 + k, cb, b0 + k);
                    }
                } else {
                    compare_slot(c, rr, cb, i);
                }
            }
        }
        row += b->n_rows;
    }
    if (row != rows)
        die("fewer rows than written", NULL);
    lr_pq_scan_free(scan);
    lr_pq_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lr_pq_codec codecs[] = {LR_PQ_UNCOMPRESSED, LR_PQ_SNAPPY, LR_PQ_GZIP, LR_PQ_ZSTD,
                                         LR_PQ_LZ4_RAW};
    input in = {data, size};
    col cols[MAX_COLS];
    lr_pq_column_def defs[MAX_COLS];
    char names[MAX_COLS][8];
    lr_pq_write_options opt;
    lr_pq_writer *w = NULL;
    lr_buf out;
    lr_error err;
    lr_status st;
    uint32_t ncols, rows;
    uint8_t b1, b2, b3;
    bool row_api;
    uint32_t step;

    memset(cols, 0, sizeof cols);
    ncols = 1 + next(&in) % MAX_COLS;
    b1 = next(&in);
    b2 = next(&in);
    b3 = next(&in);
    for (uint32_t c = 0; c < ncols; c++) {
        uint8_t k = next(&in), f = next(&in);
        cols[c].kind = k % K_COUNT;
        cols[c].optional = f & 1;
        cols[c].list = (f >> 1) & 1;
        cols[c].elem_optional = cols[c].list && ((f >> 2) & 1);
        snprintf(names[c], sizeof names[c], "c%u", (unsigned)c);
        defs[c] = def_of(&cols[c], names[c]);
    }
    rows = next(&in);
    for (uint32_t c = 0; c < ncols; c++)
        gen(&cols[c], rows, &in);

    lr_pq_write_options_init(&opt);
    opt.codec = codecs[b1 % 5];
    opt.dictionary = (b1 >> 3) & 1;
    opt.dictionary_bytes = (b1 & 0x40) ? 64 : opt.dictionary_bytes; /* force fallback */
    opt.page_rows = b2 & 15;
    opt.row_group_rows = b2 >> 4;
    row_api = b3 & 1;
    step = 1 + (b3 >> 1);

    lr_buf_init(&out, 64u << 20);
    st = lr_pq_writer_open(defs, ncols, &opt, lr_pq_sink_buf(&out), &w, &err);
    if (st == LR_EUNSUPPORTED)
        goto done; /* a codec this build does not write */
    if (st != LR_OK)
        die("writer_open failed", err.msg);
    if (row_api) {
        st = write_rows(w, cols, ncols, rows, &err);
    } else {
        lr_pq_column_batch batches[MAX_COLS];
        uint32_t *lo[MAX_COLS], *off[MAX_COLS];
        for (uint32_t c = 0; c < ncols; c++) {
            lo[c] = xcalloc(MAX_ROWS + 1, sizeof *lo[c]);
            off[c] = xcalloc(cols[c].slots + 1, sizeof *off[c]);
        }
        st = LR_OK;
        for (uint32_t r0 = 0; r0 < rows && st == LR_OK; r0 += step) {
            uint32_t n = rows - r0 < step ? rows - r0 : step;
            for (uint32_t c = 0; c < ncols; c++)
                batches[c] = batch_of(&cols[c], r0, n, lo[c], off[c]);
            st = lr_pq_writer_write_batch(w, batches, n, &err);
        }
        for (uint32_t c = 0; c < ncols; c++) {
            free(lo[c]);
            free(off[c]);
        }
    }
    if (st != LR_OK)
        die("writing failed", err.msg);
    st = lr_pq_writer_close(w, NULL, &err);
    if (st != LR_OK)
        die("close failed", err.msg);
    verify((const uint8_t *)out.data, out.len, cols, ncols, rows);
done:
    lr_pq_writer_free(w);
    lr_buf_free(&out);
    for (uint32_t c = 0; c < ncols; c++)
        free_col(&cols[c]);
    return 0;
}
