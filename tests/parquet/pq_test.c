/*
 * pq_test.c - Parquet test helpers (see pq_test.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_test.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static size_t width_of(lr_pq_type t)
{
    switch (t) {
    case LR_PQ_BOOLEAN:
        return 1;
    case LR_PQ_INT32:
    case LR_PQ_FLOAT:
        return 4;
    case LR_PQ_BYTE_ARRAY:
    case LR_PQ_FIXED_LEN_BYTE_ARRAY:
        return 0;
    default:
        return 8;
    }
}

/* A value drawn for slot i: special values first when asked, else random. */
static void gen_value(const lr_pq_column_def *d, const tgen *g, uint64_t *rng, uint32_t i,
                      void *out, uint8_t *strbuf, uint32_t *strlen_out)
{
    uint64_t r = rng_next(rng);
    uint64_t k = g->cardinality ? r % g->cardinality : r;
    static const double dspecial[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 1e308, -1e308, 4.9e-324};
    static const int64_t ispecial[] = {INT64_MIN, INT64_MAX, 0, -1, 1};
    static const int32_t i32special[] = {INT32_MIN, INT32_MAX, 0, -1, 1};
    bool sp = g->specials && i < 8;

    switch (d->type) {
    case LR_PQ_BOOLEAN:
        *(uint8_t *)out = (uint8_t)(k & 1);
        break;
    case LR_PQ_INT32: {
        int32_t v = sp ? i32special[i % 5] : (int32_t)(uint32_t)k;
        memcpy(out, &v, 4);
        break;
    }
    case LR_PQ_INT64: {
        int64_t v = sp ? ispecial[i % 5] : (int64_t)k;
        if (d->logical == LR_PQ_LOGICAL_TIMESTAMP && !sp)
            v = 1600000000000000LL + (int64_t)(k % 100000000000000ULL);
        memcpy(out, &v, 8);
        break;
    }
    case LR_PQ_FLOAT: {
        float v = sp ? (float)dspecial[i % 8] : (float)((double)(int64_t)k / 1e15);
        memcpy(out, &v, 4);
        break;
    }
    case LR_PQ_DOUBLE: {
        double v = sp ? dspecial[i % 8] : (double)(int64_t)k / 1e9;
        memcpy(out, &v, 8);
        break;
    }
    default: {
        uint32_t maxl = g->max_str ? g->max_str : 16;
        uint64_t r2 = k;
        uint32_t len = (uint32_t)(rng_next(&r2) % (maxl + 1));
        if (sp && i == 0)
            len = 0;
        for (uint32_t j = 0; j < len; j++) {
            uint64_t x = rng_next(&r2);
            /* Printable ASCII mostly, with some high bytes when not a STRING. */
            strbuf[j] = d->logical == LR_PQ_LOGICAL_STRING ? (uint8_t)(0x20 + x % 95) : (uint8_t)x;
        }
        *strlen_out = len;
        break;
    }
    }
}

void tcol_gen(tcol *c, const lr_pq_column_def *def, uint32_t n_rows, const tgen *g)
{
    uint64_t rng = g->seed * 7919 + 17;
    uint32_t max_list = g->max_list ? g->max_list : 4;
    uint32_t maxl = g->max_str ? g->max_str : 16;
    size_t w = width_of(def->type);
    uint32_t slots = 0, cap;
    uint8_t *strbuf = malloc((size_t)maxl + 1);
    size_t bytes_len = 0, bytes_cap = 64;

    memset(c, 0, sizeof *c);
    c->def = *def;
    c->n_rows = n_rows;
    if (def->optional)
        c->validity = calloc((size_t)n_rows + 1, 1);
    if (def->list) {
        c->list_offsets = calloc((size_t)n_rows + 1, 4);
        for (uint32_t r = 0; r < n_rows; r++) {
            bool valid = !def->optional || rng_next(&rng) % 100 >= g->null_pct;
            uint32_t len = valid ? (uint32_t)(rng_next(&rng) % (max_list + 1)) : 0;
            if (c->validity)
                c->validity[r] = valid;
            c->list_offsets[r] = slots;
            slots += len;
        }
        c->list_offsets[n_rows] = slots;
    } else {
        slots = n_rows;
        for (uint32_t r = 0; r < n_rows && c->validity; r++)
            c->validity[r] = rng_next(&rng) % 100 >= g->null_pct;
    }
    c->n_slots = slots;
    cap = slots + 1;
    if (def->list && def->element_optional) {
        c->elem_validity = calloc(cap, 1);
        for (uint32_t s = 0; s < slots; s++)
            c->elem_validity[s] = rng_next(&rng) % 100 >= g->elem_null_pct;
    }
    if (w) {
        c->values = calloc(cap, w);
    } else {
        c->offsets = calloc(cap, 4);
        c->bytes = malloc(bytes_cap);
    }
    for (uint32_t s = 0; s < slots; s++) {
        bool null = def->list ? (c->elem_validity && !c->elem_validity[s])
                              : (c->validity && !c->validity[s]);
        if (w) {
            if (!null)
                gen_value(def, g, &rng, s, (uint8_t *)c->values + (size_t)s * w, NULL, NULL);
        } else {
            uint32_t len = 0;
            if (!null)
                gen_value(def, g, &rng, s, NULL, strbuf, &len);
            while (bytes_len + len > bytes_cap) {
                bytes_cap *= 2;
                c->bytes = realloc(c->bytes, bytes_cap);
            }
            memcpy(c->bytes + bytes_len, strbuf, len);
            bytes_len += len;
            c->offsets[s + 1] = (uint32_t)bytes_len;
        }
    }
    free(strbuf);
}

void tcol_free(tcol *c)
{
    free(c->validity);
    free(c->list_offsets);
    free(c->elem_validity);
    free(c->values);
    free(c->offsets);
    free(c->bytes);
    memset(c, 0, sizeof *c);
}

lr_pq_column_batch tcol_batch(const tcol *c)
{
    lr_pq_column_batch b;
    memset(&b, 0, sizeof b);
    b.validity = c->validity;
    b.list_offsets = c->list_offsets;
    b.elem_validity = c->elem_validity;
    b.values = c->values;
    b.offsets = c->offsets;
    b.bytes = c->bytes;
    return b;
}

lr_pq_column_batch tcol_batch_slice(const tcol *c, uint32_t r0)
{
    lr_pq_column_batch b = tcol_batch(c);
    size_t w = width_of(c->def.type);
    if (b.validity)
        b.validity += r0;
    if (c->def.list) {
        /* List offsets stay absolute: only the per-row arrays move. */
        b.list_offsets += r0;
        return b;
    }
    if (w)
        b.values = (const uint8_t *)c->values + (size_t)r0 * w;
    else
        b.offsets = c->offsets + r0;
    return b;
}

void pq_write_mem(const tcol *cols, uint32_t n, const lr_pq_write_options *opt, uint32_t batch,
                  lr_buf *out)
{
    lr_pq_column_def defs[64];
    lr_pq_column_batch b[64];
    lr_pq_writer *w = NULL;
    lr_pq_write_stats stats;
    lr_error err;
    uint32_t rows = n ? cols[0].n_rows : 0;

    assert_true(n <= 64);
    for (uint32_t i = 0; i < n; i++)
        defs[i] = cols[i].def;
    lr_buf_init(out, 0);
    if (lr_pq_writer_open(defs, n, opt, lr_pq_sink_buf(out), &w, &err) != LR_OK)
        fail_msg("open: %s", err.msg);
    if (batch == 0 || batch > rows)
        batch = rows;
    for (uint32_t r0 = 0; r0 < rows; r0 += batch) {
        uint32_t k = rows - r0 < batch ? rows - r0 : batch;
        for (uint32_t i = 0; i < n; i++)
            b[i] = tcol_batch_slice(&cols[i], r0);
        if (lr_pq_writer_write_batch(w, b, k, &err) != LR_OK)
            fail_msg("write_batch: %s", err.msg);
    }
    if (lr_pq_writer_close(w, &stats, &err) != LR_OK)
        fail_msg("close: %s", err.msg);
    assert_int_equal(stats.rows, rows);
    assert_int_equal(stats.bytes, out->len);
    lr_pq_writer_free(w);
}

static bool same_value(lr_pq_type t, const void *a, const void *b)
{
    switch (t) {
    case LR_PQ_BOOLEAN:
        return (*(const uint8_t *)a != 0) == (*(const uint8_t *)b != 0);
    case LR_PQ_INT32:
        return memcmp(a, b, 4) == 0;
    case LR_PQ_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (isnan(x) && isnan(y)) || memcmp(a, b, 4) == 0;
    }
    case LR_PQ_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (isnan(x) && isnan(y)) || memcmp(a, b, 8) == 0;
    }
    default:
        return memcmp(a, b, 8) == 0;
    }
}

void pq_check_batch_column(const lr_pq_column_batch *b, uint32_t n_rows, const tcol *exp,
                           uint32_t first)
{
    size_t w = width_of(exp->def.type);
    for (uint32_t i = 0; i < n_rows; i++) {
        uint32_t r = first + i;
        bool ev = !exp->validity || exp->validity[r];
        bool gv = !b->validity || b->validity[i];
        uint32_t es0, es1, gs0, gs1;
        if (ev != gv)
            fail_msg("column %s row %u: validity %d, expected %d", exp->def.name, r, gv, ev);
        if (exp->def.list) {
            assert_non_null(b->list_offsets);
            es0 = exp->list_offsets[r];
            es1 = exp->list_offsets[r + 1];
            gs0 = b->list_offsets[i];
            gs1 = b->list_offsets[i + 1];
            if (!ev)
                es1 = es0;
            if (es1 - es0 != gs1 - gs0)
                fail_msg("column %s row %u: %u elements, expected %u", exp->def.name, r, gs1 - gs0,
                         es1 - es0);
        } else {
            if (!ev)
                continue;
            es0 = r;
            es1 = r + 1;
            gs0 = i;
            gs1 = i + 1;
        }
        for (uint32_t k = 0; k < es1 - es0; k++) {
            uint32_t es = es0 + k, gsl = gs0 + k;
            bool eev = !exp->def.list || !exp->elem_validity || exp->elem_validity[es];
            bool gev = !exp->def.list || !b->elem_validity || b->elem_validity[gsl];
            if (eev != gev)
                fail_msg("column %s row %u element %u: validity %d, expected %d", exp->def.name, r,
                         k, gev, eev);
            if (!eev)
                continue;
            if (w) {
                const uint8_t *ev_p = (const uint8_t *)exp->values + (size_t)es * w;
                const uint8_t *gv_p = (const uint8_t *)b->values + (size_t)gsl * w;
                if (!same_value(exp->def.type, ev_p, gv_p))
                    fail_msg("column %s row %u slot %u: value differs", exp->def.name, r, k);
            } else {
                uint32_t el = exp->offsets[es + 1] - exp->offsets[es];
                uint32_t gl = b->offsets[gsl + 1] - b->offsets[gsl];
                if (el != gl || (el && memcmp(exp->bytes + exp->offsets[es],
                                              b->bytes + b->offsets[gsl], el) != 0))
                    fail_msg("column %s row %u slot %u: bytes differ (len %u vs %u)", exp->def.name,
                             r, k, gl, el);
            }
        }
    }
}

void pq_check_file(const void *file, size_t len, const tcol *cols, uint32_t n, uint32_t batch_rows)
{
    lr_pq_source src = lr_pq_source_mem(file, len);
    lr_pq_reader *r = NULL;
    lr_pq_scan *s = NULL;
    lr_pq_scan_options so;
    const lr_pq_batch *b;
    lr_error err;
    uint64_t rows = 0, expect = n ? cols[0].n_rows : 0;

    if (lr_pq_reader_open(&src, &r, &err) != LR_OK)
        fail_msg("reader_open: %s", err.msg);
    assert_int_equal(lr_pq_reader_num_columns(r), n);
    assert_int_equal(lr_pq_reader_num_rows(r), expect);
    for (uint32_t i = 0; i < n; i++) {
        const lr_pq_column_def *d = lr_pq_reader_column(r, i);
        assert_string_equal(d->name, cols[i].def.name);
        assert_int_equal(d->type, cols[i].def.type);
        assert_int_equal(d->logical, cols[i].def.logical);
        assert_int_equal(d->optional, cols[i].def.optional);
        assert_int_equal(d->list, cols[i].def.list);
        assert_int_equal(d->element_optional, cols[i].def.element_optional);
        if (d->logical == LR_PQ_LOGICAL_TIMESTAMP) {
            assert_int_equal(d->unit, cols[i].def.unit);
            assert_int_equal(d->utc, cols[i].def.utc);
        }
    }
    memset(&so, 0, sizeof so);
    so.batch_rows = batch_rows;
    if (lr_pq_scan_open(r, &so, &s, &err) != LR_OK)
        fail_msg("scan_open: %s", err.msg);
    for (;;) {
        if (lr_pq_scan_next(s, &b, &err) != LR_OK)
            fail_msg("scan_next: %s", err.msg);
        if (b == NULL)
            break;
        assert_true(b->n_rows > 0);
        assert_true(batch_rows == 0 || b->n_rows <= batch_rows);
        assert_int_equal(b->first_row, rows);
        assert_int_equal(b->n_columns, n);
        for (uint32_t i = 0; i < n; i++)
            pq_check_batch_column(&b->columns[i], b->n_rows, &cols[i], (uint32_t)rows);
        rows += b->n_rows;
    }
    assert_int_equal(rows, expect);
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
}
