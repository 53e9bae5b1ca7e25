/*
 * test_writer.c - the Parquet writer, checked by reading its files back:
 * round trips over types x codecs x nullability x page and row-group sizes,
 * special values, lists, the row API, dictionary fallback, statistics and
 * footer metadata, and the errors the writer must give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "larder/parquet.h"
#include "larder/version.h"
#include "pq_test.h"

static lr_pq_column_def coldef(const char *name, lr_pq_type t, lr_pq_logical l, bool optional)
{
    lr_pq_column_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.type = t;
    d.logical = l;
    d.optional = optional;
    if (l == LR_PQ_LOGICAL_TIMESTAMP) {
        d.unit = LR_PQ_MICROS;
        d.utc = true;
    }
    return d;
}

static lr_pq_column_def listdef(const char *name, lr_pq_type t, lr_pq_logical l, bool optional,
                                bool elem_optional)
{
    lr_pq_column_def d = coldef(name, t, l, optional);
    d.list = true;
    d.element_optional = elem_optional;
    return d;
}

/* The scalar columns every matrix case writes, in both nullabilities. */
static uint32_t matrix_columns(lr_pq_column_def *defs, bool optional)
{
    uint32_t n = 0;
    defs[n++] = coldef(optional ? "b_opt" : "b", LR_PQ_BOOLEAN, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "i32_opt" : "i32", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "i64_opt" : "i64", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "f_opt" : "f", LR_PQ_FLOAT, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "d_opt" : "d", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "s_opt" : "s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, optional);
    defs[n++] =
        coldef(optional ? "bin_opt" : "bin", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_NONE, optional);
    defs[n++] = coldef(optional ? "ts_opt" : "ts", LR_PQ_INT64, LR_PQ_LOGICAL_TIMESTAMP, optional);
    return n;
}

static void roundtrip_case(lr_pq_codec codec, bool optional, uint32_t rows, uint32_t page_bytes,
                           uint64_t rg_rows, uint32_t card, bool dict, uint32_t write_batch,
                           uint32_t read_batch)
{
    lr_pq_column_def defs[16];
    tcol cols[16] = {0};
    lr_pq_write_options opt;
    tgen g;
    lr_buf file;
    uint32_t n = matrix_columns(defs, optional);

    memset(&g, 0, sizeof g);
    g.seed = rows * 31u + card + (optional ? 7 : 0);
    g.null_pct = 20;
    g.cardinality = card;
    g.specials = true;
    for (uint32_t i = 0; i < n; i++) {
        g.seed++;
        tcol_gen(&cols[i], &defs[i], rows, &g);
    }
    lr_pq_write_options_init(&opt);
    opt.codec = codec;
    opt.page_bytes = page_bytes;
    opt.row_group_rows = rg_rows;
    opt.dictionary = dict;
    pq_write_mem(cols, n, &opt, write_batch, &file);
    pq_check_file(file.data, file.len, cols, n, read_batch);
    lr_buf_free(&file);
    for (uint32_t i = 0; i < n; i++)
        tcol_free(&cols[i]);
}

static void test_roundtrip_matrix(void **state)
{
    static const lr_pq_codec codecs[] = {LR_PQ_UNCOMPRESSED, LR_PQ_SNAPPY, LR_PQ_ZSTD, LR_PQ_GZIP,
                                         LR_PQ_LZ4_RAW};
    (void)state;
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        for (int opt = 0; opt < 2; opt++) {
            /* one page, one row group */
            roundtrip_case(codecs[c], opt, 1000, 1 << 20, 0, 50, true, 0, 0);
            /* tiny pages, several row groups, odd batch sizes */
            roundtrip_case(codecs[c], opt, 3000, 512, 1100, 0, true, 333, 257);
            /* no dictionary */
            roundtrip_case(codecs[c], opt, 2000, 4096, 0, 10, false, 0, 1000);
        }
    }
}

static void test_roundtrip_sizes(void **state)
{
    (void)state;
    /* one row, rows around page and slice boundaries, many row groups */
    roundtrip_case(LR_PQ_SNAPPY, true, 1, 1 << 20, 0, 0, true, 0, 0);
    roundtrip_case(LR_PQ_SNAPPY, false, 4097, 1 << 20, 0, 3, true, 0, 1);
    roundtrip_case(LR_PQ_ZSTD, true, 20000, 1 << 10, 999, 100, true, 4096, 65536);
    roundtrip_case(LR_PQ_UNCOMPRESSED, true, 5000, 100, 1, 0, true, 7, 3);
}

static void test_empty_file(void **state)
{
    lr_pq_column_def defs[16];
    tcol cols[16] = {0};
    tgen g;
    lr_buf file;
    uint32_t n = matrix_columns(defs, true);
    (void)state;
    memset(&g, 0, sizeof g);

    for (uint32_t i = 0; i < n; i++)
        tcol_gen(&cols[i], &defs[i], 0, &g);
    pq_write_mem(cols, n, NULL, 0, &file);
    pq_check_file(file.data, file.len, cols, n, 0);
    {
        lr_pq_source src = lr_pq_source_mem(file.data, file.len);
        lr_pq_reader *r;
        assert_int_equal(lr_pq_reader_open(&src, &r, NULL), LR_OK);
        assert_int_equal(lr_pq_reader_num_row_groups(r), 0);
        lr_pq_reader_free(r);
    }
    lr_buf_free(&file);
    for (uint32_t i = 0; i < n; i++)
        tcol_free(&cols[i]);
}

static void test_all_null_columns(void **state)
{
    lr_pq_column_def defs[16];
    tcol cols[16] = {0};
    tgen g;
    lr_buf file;
    uint32_t n = matrix_columns(defs, true);
    (void)state;
    memset(&g, 0, sizeof g);
    g.null_pct = 100;
    for (uint32_t i = 0; i < n; i++)
        tcol_gen(&cols[i], &defs[i], 5000, &g);
    pq_write_mem(cols, n, NULL, 0, &file);
    pq_check_file(file.data, file.len, cols, n, 1000);
    {
        lr_pq_source src = lr_pq_source_mem(file.data, file.len);
        lr_pq_reader *r;
        lr_pq_stats st;
        assert_int_equal(lr_pq_reader_open(&src, &r, NULL), LR_OK);
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(lr_pq_reader_stats(r, 0, i, &st), LR_OK);
            assert_true(st.has_null_count);
            assert_int_equal(st.null_count, 5000);
            assert_false(st.has_min);
            assert_false(st.has_max);
            assert_false(lr_pq_reader_may_contain(r, 0, i, NULL, NULL));
        }
        lr_pq_reader_free(r);
    }
    lr_buf_free(&file);
    for (uint32_t i = 0; i < n; i++)
        tcol_free(&cols[i]);
}

static void test_long_strings(void **state)
{
    lr_pq_column_def defs[2] = {
        coldef("s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true),
        coldef("b", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_NONE, false),
    };
    tcol cols[2];
    tgen g;
    lr_buf file;
    lr_pq_write_options opt;
    (void)state;
    memset(&g, 0, sizeof g);
    g.max_str = 200000;
    g.null_pct = 10;
    tcol_gen(&cols[0], &defs[0], 60, &g);
    g.seed = 99;
    tcol_gen(&cols[1], &defs[1], 60, &g);
    lr_pq_write_options_init(&opt);
    opt.page_bytes = 100000;
    pq_write_mem(cols, 2, &opt, 0, &file);
    pq_check_file(file.data, file.len, cols, 2, 7);
    lr_buf_free(&file);
    tcol_free(&cols[0]);
    tcol_free(&cols[1]);
}

static void test_lists(void **state)
{
    static const lr_pq_codec codecs[] = {LR_PQ_UNCOMPRESSED, LR_PQ_SNAPPY, LR_PQ_ZSTD};
    lr_pq_column_def defs[8] = {
        listdef("l_i64", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, true, true),
        listdef("l_d", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, false, true),
        listdef("l_s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true, false),
        listdef("l_b", LR_PQ_BOOLEAN, LR_PQ_LOGICAL_NONE, false, false),
        listdef("l_i32", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, true, true),
        listdef("l_f", LR_PQ_FLOAT, LR_PQ_LOGICAL_NONE, true, true),
        coldef("id", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false),
        listdef("l_ts", LR_PQ_INT64, LR_PQ_LOGICAL_TIMESTAMP, true, true),
    };
    (void)state;
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        for (uint32_t variant = 0; variant < 3; variant++) {
            tcol cols[8];
            tgen g;
            lr_buf file;
            lr_pq_write_options opt;
            uint32_t rows = variant == 0 ? 10 : variant == 1 ? 3000 : 20000;
            memset(&g, 0, sizeof g);
            g.null_pct = 15;
            g.elem_null_pct = 20;
            g.max_list = variant == 2 ? 30 : 5;
            g.cardinality = variant == 1 ? 7 : 0;
            g.specials = true;
            for (uint32_t i = 0; i < 8; i++) {
                g.seed = i + 100 * variant;
                tcol_gen(&cols[i], &defs[i], rows, &g);
            }
            lr_pq_write_options_init(&opt);
            opt.codec = codecs[c];
            opt.page_bytes = variant == 2 ? 2000 : 1 << 20;
            opt.row_group_rows = variant == 2 ? 7000 : 0;
            /* Lists in several batches: offsets need not start at 0. */
            pq_write_mem(cols, 8, &opt, variant == 1 ? 777 : 0, &file);
            pq_check_file(file.data, file.len, cols, 8, variant == 1 ? 100 : 4096);
            pq_check_file(file.data, file.len, cols, 8, 1);
            lr_buf_free(&file);
            for (uint32_t i = 0; i < 8; i++)
                tcol_free(&cols[i]);
        }
    }
}

/* Lists where every row is empty, or null, or one huge list. */
static void test_list_edges(void **state)
{
    lr_pq_column_def d = listdef("l", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, true, true);
    uint8_t validity[4] = {1, 0, 1, 1};
    uint32_t offsets[5] = {0, 0, 0, 0, 100000};
    int32_t *vals = calloc(100000, sizeof *vals);
    uint8_t *ev = calloc(100000, 1);
    tcol c;
    lr_buf file;
    (void)state;
    for (uint32_t i = 0; i < 100000; i++) {
        vals[i] = (int32_t)i;
        ev[i] = i % 3 != 0;
    }
    memset(&c, 0, sizeof c);
    c.def = d;
    c.n_rows = 4;
    c.n_slots = 100000;
    c.validity = validity;
    c.list_offsets = offsets;
    c.elem_validity = ev;
    c.values = vals;
    {
        lr_pq_write_options opt;
        lr_pq_write_options_init(&opt);
        opt.page_bytes = 1000;
        pq_write_mem(&c, 1, &opt, 0, &file);
    }
    pq_check_file(file.data, file.len, &c, 1, 1);
    pq_check_file(file.data, file.len, &c, 1, 0);
    lr_buf_free(&file);
    free(vals);
    free(ev);
}

static lr_pq_reader *open_mem(const lr_buf *file)
{
    lr_pq_source src = lr_pq_source_mem(file->data, file->len);
    lr_pq_reader *r = NULL;
    lr_error err;
    if (lr_pq_reader_open(&src, &r, &err) != LR_OK)
        fail_msg("open: %s", err.msg);
    return r;
}

static void test_row_api(void **state)
{
    lr_pq_column_def defs[5] = {
        coldef("id", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false),
        coldef("name", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true),
        coldef("score", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, true),
        listdef("tags", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true, true),
        coldef("ok", LR_PQ_BOOLEAN, LR_PQ_LOGICAL_NONE, false),
    };
    lr_pq_writer *w;
    lr_buf file;
    lr_error err;
    lr_pq_reader *r;
    lr_pq_scan *s;
    const lr_pq_batch *b;
    uint32_t rows = 10000, seen = 0;
    (void)state;

    lr_buf_init(&file, 0);
    assert_int_equal(lr_pq_writer_open(defs, 5, NULL, lr_pq_sink_buf(&file), &w, &err), LR_OK);
    for (uint32_t i = 0; i < rows; i++) {
        char name[32];
        snprintf(name, sizeof name, "user-%u", i % 97);
        assert_int_equal(lr_pq_writer_set_i64(w, 0, (int64_t)i * 3, &err), LR_OK);
        if (i % 5)
            assert_int_equal(lr_pq_writer_set_bytes(w, 1, name, strlen(name), &err), LR_OK);
        if (i % 7 == 0)
            assert_int_equal(lr_pq_writer_set_null(w, 2, &err), LR_OK);
        else
            assert_int_equal(lr_pq_writer_set_double(w, 2, i / 4.0, &err), LR_OK);
        if (i % 4 == 1) {
            assert_int_equal(lr_pq_writer_set_null(w, 3, &err), LR_OK);
        } else {
            assert_int_equal(lr_pq_writer_list_begin(w, 3, &err), LR_OK);
            for (uint32_t k = 0; k < i % 4; k++) {
                if (k == 1)
                    assert_int_equal(lr_pq_writer_set_null(w, 3, &err), LR_OK);
                else
                    assert_int_equal(lr_pq_writer_set_bytes(w, 3, "tag", 3, &err), LR_OK);
            }
            assert_int_equal(lr_pq_writer_list_end(w, 3, &err), LR_OK);
        }
        assert_int_equal(lr_pq_writer_set_bool(w, 4, i & 1, &err), LR_OK);
        /* Misuse that must not disturb the row. */
        assert_int_equal(lr_pq_writer_set_i64(w, 0, 1, &err), LR_EINVAL);
        assert_int_equal(lr_pq_writer_set_double(w, 0, 1, &err), LR_EINVAL);
        assert_int_equal(lr_pq_writer_set_bytes(w, 99, "x", 1, &err), LR_EINVAL);
        assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
        /* A row missing its required id is discarded. */
        if (i % 1000 == 0) {
            assert_int_equal(lr_pq_writer_set_bool(w, 4, true, &err), LR_OK);
            assert_int_equal(lr_pq_writer_end_row(w, &err), LR_EINVAL);
        }
    }
    assert_int_equal(lr_pq_writer_rows(w), rows);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);

    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_num_rows(r), rows);
    assert_int_equal(lr_pq_scan_open(r, NULL, &s, &err), LR_OK);
    while (lr_pq_scan_next(s, &b, &err) == LR_OK && b) {
        for (uint32_t k = 0; k < b->n_rows; k++) {
            uint32_t i = seen + k;
            const lr_pq_column_batch *c = b->columns;
            char name[32];
            snprintf(name, sizeof name, "user-%u", i % 97);
            assert_int_equal(c[0].i64[k], (int64_t)i * 3);
            assert_int_equal(c[1].validity[k], i % 5 != 0);
            if (i % 5) {
                assert_int_equal(c[1].offsets[k + 1] - c[1].offsets[k], strlen(name));
                assert_memory_equal(c[1].bytes + c[1].offsets[k], name, strlen(name));
            }
            assert_int_equal(c[2].validity[k], i % 7 != 0);
            if (i % 7)
                assert_true(c[2].f64[k] == i / 4.0);
            assert_int_equal(c[3].validity[k], i % 4 != 1);
            if (i % 4 != 1) {
                uint32_t a = c[3].list_offsets[k], e = c[3].list_offsets[k + 1];
                assert_int_equal(e - a, i % 4);
                for (uint32_t j = a; j < e; j++)
                    assert_int_equal(c[3].elem_validity[j], j - a != 1);
            }
            assert_int_equal(c[4].bools[k], i & 1);
        }
        seen += b->n_rows;
    }
    assert_int_equal(seen, rows);
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
}

/* Mixing the row API and batches keeps row order. */
static void test_row_api_then_batch(void **state)
{
    lr_pq_column_def d = coldef("x", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, true);
    int32_t vals[3] = {10, 11, 12};
    uint8_t valid[3] = {1, 0, 1};
    lr_pq_column_batch b;
    lr_pq_writer *w;
    lr_buf file;
    lr_error err;
    tcol exp;
    int32_t ev[5] = {1, 0, 10, 11, 12};
    uint8_t evalid[5] = {1, 0, 1, 0, 1};
    (void)state;
    lr_buf_init(&file, 0);
    assert_int_equal(lr_pq_writer_open(&d, 1, NULL, lr_pq_sink_buf(&file), &w, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_i32(w, 0, 1, &err), LR_OK);
    /* a batch while a row is open is refused */
    memset(&b, 0, sizeof b);
    b.i32 = vals;
    b.validity = valid;
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 3, &err), LR_EINVAL);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_EINVAL);
    assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK); /* all null */
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 3, &err), LR_OK);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    memset(&exp, 0, sizeof exp);
    exp.def = d;
    exp.n_rows = 5;
    exp.values = ev;
    exp.validity = evalid;
    pq_check_file(file.data, file.len, &exp, 1, 0);
    lr_buf_free(&file);
}

static void test_dictionary_and_fallback(void **state)
{
    lr_pq_column_def defs[3] = {
        coldef("low", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, false),
        coldef("unique", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false),
        coldef("grows", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, false),
    };
    tcol cols[3];
    tgen g;
    lr_buf file;
    lr_pq_write_options opt;
    lr_pq_reader *r;
    lr_pq_chunk_info ci;
    const uint32_t PLAIN = 1u << 0, RLE_DICT = 1u << 8;
    uint32_t rows = 50000;
    (void)state;

    memset(&g, 0, sizeof g);
    g.cardinality = 20;
    tcol_gen(&cols[0], &defs[0], rows, &g);
    g.cardinality = 0;
    tcol_gen(&cols[1], &defs[1], rows, &g);
    /* Repeats early (so the dictionary pays at first), then many distinct values. */
    g.cardinality = 0;
    g.max_str = 40;
    tcol_gen(&cols[2], &defs[2], rows, &g);
    for (uint32_t i = 1; i < 3000; i++) {
        /* make rows 0..2999 copies of a few values by copying row i%5's bytes */
        uint32_t src = i % 5, len = cols[2].offsets[src + 1] - cols[2].offsets[src];
        uint32_t dlen = cols[2].offsets[i + 1] - cols[2].offsets[i];
        if (len <= dlen) {
            memcpy(cols[2].bytes + cols[2].offsets[i], cols[2].bytes + cols[2].offsets[src], len);
            memset(cols[2].bytes + cols[2].offsets[i] + len, 'z', dlen - len);
        }
    }
    lr_pq_write_options_init(&opt);
    opt.dictionary_bytes = 16 << 10;
    opt.page_bytes = 8 << 10;
    pq_write_mem(cols, 3, &opt, 0, &file);
    pq_check_file(file.data, file.len, cols, 3, 0);

    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_chunk_info(r, 0, 0, &ci), LR_OK);
    assert_true(ci.encodings & RLE_DICT);
    assert_true(ci.dictionary_page_offset > 0);
    assert_true(ci.data_page_offset > ci.dictionary_page_offset);
    assert_int_equal(ci.num_values, rows);
    /* Unique values: the dictionary does not pay, PLAIN only. */
    assert_int_equal(lr_pq_reader_chunk_info(r, 0, 1, &ci), LR_OK);
    assert_true(ci.encodings & PLAIN);
    assert_false(ci.encodings & RLE_DICT);
    assert_int_equal(ci.dictionary_page_offset, -1);
    /* Dictionary first, PLAIN after the fallback, both in one chunk. */
    assert_int_equal(lr_pq_reader_chunk_info(r, 0, 2, &ci), LR_OK);
    assert_true(ci.encodings & RLE_DICT);
    assert_true(ci.encodings & PLAIN);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
    for (int i = 0; i < 3; i++)
        tcol_free(&cols[i]);
}

static void write_values(const lr_pq_column_def *d, const void *values, const uint32_t *offsets,
                         const uint8_t *bytes, const uint8_t *validity, uint32_t n, lr_buf *file)
{
    lr_pq_column_batch b;
    lr_pq_writer *w;
    lr_error err;
    memset(&b, 0, sizeof b);
    b.values = values;
    b.offsets = offsets;
    b.bytes = bytes;
    b.validity = validity;
    lr_buf_init(file, 0);
    assert_int_equal(lr_pq_writer_open(d, 1, NULL, lr_pq_sink_buf(file), &w, &err), LR_OK);
    assert_int_equal(lr_pq_writer_write_batch(w, &b, n, &err), LR_OK);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
}

static void test_stats_numbers(void **state)
{
    lr_pq_column_def dd = coldef("d", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, true);
    lr_pq_column_def df = coldef("f", LR_PQ_FLOAT, LR_PQ_LOGICAL_NONE, false);
    lr_pq_column_def di = coldef("i", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, true);
    double dv[6] = {NAN, 3.5, -0.0, 7.25, 0.0, -2.0};
    uint8_t dvalid[6] = {1, 1, 1, 1, 1, 0};
    float fv[3] = {0.0f, NAN, 0.0f};
    int64_t iv[4] = {5, INT64_MIN, 0, INT64_MAX};
    uint8_t ivalid[4] = {1, 1, 0, 1};
    lr_buf file;
    lr_pq_reader *r;
    lr_pq_stats st;
    lr_pq_scalar lo, hi;
    (void)state;

    write_values(&dd, dv, NULL, NULL, dvalid, 6, &file);
    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_true(st.has_null_count);
    assert_int_equal(st.null_count, 1);
    assert_true(st.has_nan_count);
    assert_int_equal(st.nan_count, 1);
    assert_true(st.has_min && st.has_max);
    assert_true(st.min.f64 == -0.0 && signbit(st.min.f64));
    assert_true(st.max.f64 == 7.25);
    assert_int_equal(st.num_values, 6);
    lo.f64 = 8.0;
    hi.f64 = 9.0;
    assert_false(lr_pq_reader_may_contain(r, 0, 0, &lo, &hi));
    lo.f64 = 7.25;
    assert_true(lr_pq_reader_may_contain(r, 0, 0, &lo, &hi));
    hi.f64 = -1.0;
    assert_false(lr_pq_reader_may_contain(r, 0, 0, NULL, &hi));
    lr_pq_reader_free(r);
    lr_buf_free(&file);

    /* Only zeros: min is -0.0, max +0.0; NaN never a bound. */
    write_values(&df, fv, NULL, NULL, NULL, 3, &file);
    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_true(st.has_min && st.has_max);
    assert_true(st.min.f32 == 0.0f && signbit(st.min.f32));
    assert_true(st.max.f32 == 0.0f && !signbit(st.max.f32));
    assert_int_equal(st.nan_count, 1);
    assert_int_equal(st.null_count, 0);
    lr_pq_reader_free(r);
    lr_buf_free(&file);

    write_values(&di, iv, NULL, NULL, ivalid, 4, &file);
    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_true(st.min_exact && st.max_exact);
    assert_true(st.min.i64 == INT64_MIN);
    assert_true(st.max.i64 == INT64_MAX);
    assert_int_equal(st.null_count, 1);
    assert_false(st.has_nan_count);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
}

static void test_stats_strings(void **state)
{
    lr_pq_column_def ds = coldef("s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, false);
    lr_pq_column_def db = coldef("b", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_NONE, false);
    char longa[101], longz[101];
    uint8_t bin[200];
    uint8_t bytes[400];
    uint32_t off[4];
    lr_buf file;
    lr_pq_reader *r;
    lr_pq_stats st;
    lr_pq_scalar lo, hi;
    (void)state;

    memset(longa, 'a', 100);
    memset(longz, 'z', 100);
    /* "\xc3\xa9" (é) straddles the 64-byte cut in the minimum. */
    memcpy(longa + 63, "\xc3\xa9", 2);
    off[0] = 0;
    memcpy(bytes, longz, 100);
    off[1] = 100;
    memcpy(bytes + 100, "b", 1);
    off[2] = 101;
    memcpy(bytes + 101, longa, 100);
    off[3] = 201;
    write_values(&ds, NULL, off, bytes, NULL, 3, &file);
    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_true(st.has_min && st.has_max);
    assert_false(st.min_exact);
    assert_false(st.max_exact);
    /* min: cut before the two-byte character */
    assert_int_equal(st.min.bytes.len, 63);
    assert_memory_equal(st.min.bytes.ptr, longa, 63);
    /* max: 64 'z' bytes can round up: 63 'z' then '{' */
    assert_int_equal(st.max.bytes.len, 64);
    assert_memory_equal(st.max.bytes.ptr, longz, 63);
    assert_int_equal(st.max.bytes.ptr[63], 'z' + 1);
    lo.bytes.ptr = (const uint8_t *)"c";
    lo.bytes.len = 1;
    hi.bytes.ptr = (const uint8_t *)"d";
    hi.bytes.len = 1;
    assert_true(lr_pq_reader_may_contain(r, 0, 0, &lo, &hi));
    /* Above the rounded-up max: 63 'z' then '|'. */
    memset(longz, 'z', 63);
    longz[63] = '|';
    lo.bytes.ptr = (const uint8_t *)longz;
    lo.bytes.len = 64;
    assert_false(lr_pq_reader_may_contain(r, 0, 0, &lo, NULL));
    lr_pq_reader_free(r);
    lr_buf_free(&file);

    /* Binary: unsigned byte order, and a max of 0xFF bytes cannot round up: omitted. */
    memset(bin, 0xFF, 100);
    bin[100] = 0x7F;
    off[0] = 0;
    off[1] = 100;
    off[2] = 101;
    write_values(&db, NULL, off, bin, NULL, 2, &file);
    r = open_mem(&file);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_true(st.has_min);
    assert_int_equal(st.min.bytes.len, 1);
    assert_int_equal(st.min.bytes.ptr[0], 0x7F);
    assert_false(st.has_max);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
}

static void test_footer_metadata(void **state)
{
    lr_pq_column_def d = coldef("x", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false);
    lr_pq_kv kv[2] = {{"larder.fg", "orders"}, {"empty", NULL}};
    lr_pq_write_options opt;
    lr_pq_writer *w;
    lr_buf file;
    lr_error err;
    lr_pq_reader *r;
    const lr_pq_kv *got;
    uint32_t n;
    int64_t v = 42;
    lr_pq_column_batch b;
    (void)state;

    lr_pq_write_options_init(&opt);
    opt.kv = kv;
    opt.n_kv = 2;
    lr_buf_init(&file, 0);
    assert_int_equal(lr_pq_writer_open(&d, 1, &opt, lr_pq_sink_buf(&file), &w, &err), LR_OK);
    memset(&b, 0, sizeof b);
    b.i64 = &v;
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 1, &err), LR_OK);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    /* closed writers refuse more */
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 1, &err), LR_EINVAL);
    lr_pq_writer_free(w);
    assert_memory_equal(file.data, "PAR1", 4);
    assert_memory_equal(file.data + file.len - 4, "PAR1", 4);
    r = open_mem(&file);
    assert_string_equal(lr_pq_reader_created_by(r), LARDER_CREATED_BY);
    assert_true(strncmp(LARDER_CREATED_BY, "larder version ", 15) == 0);
    got = lr_pq_reader_kv(r, &n);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].key, "larder.fg");
    assert_string_equal(got[0].value, "orders");
    assert_string_equal(got[1].key, "empty");
    assert_null(got[1].value);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
}

static void test_writer_errors(void **state)
{
    lr_pq_column_def ok = coldef("x", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, false);
    lr_pq_column_def dup[2] = {ok, ok};
    lr_pq_column_def bad_ts = coldef("t", LR_PQ_INT32, LR_PQ_LOGICAL_TIMESTAMP, false);
    lr_pq_column_def int96 = coldef("t", LR_PQ_INT96, LR_PQ_LOGICAL_NONE, false);
    lr_pq_column_def noname = coldef("", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, false);
    lr_pq_write_options opt;
    lr_pq_writer *w = NULL;
    lr_buf file;
    lr_error err;
    int32_t v[2] = {1, 2};
    uint8_t valid[2] = {1, 0};
    lr_pq_column_batch b;
    (void)state;

    lr_buf_init(&file, 0);
    assert_int_equal(lr_pq_writer_open(dup, 2, NULL, lr_pq_sink_buf(&file), &w, &err), LR_EINVAL);
    assert_null(w);
    assert_int_equal(lr_pq_writer_open(&bad_ts, 1, NULL, lr_pq_sink_buf(&file), &w, &err),
                     LR_EINVAL);
    assert_int_equal(lr_pq_writer_open(&int96, 1, NULL, lr_pq_sink_buf(&file), &w, &err),
                     LR_EINVAL);
    assert_int_equal(lr_pq_writer_open(&noname, 1, NULL, lr_pq_sink_buf(&file), &w, &err),
                     LR_EINVAL);
    assert_int_equal(lr_pq_writer_open(&ok, 0, NULL, lr_pq_sink_buf(&file), &w, &err), LR_EINVAL);
    lr_pq_write_options_init(&opt);
    opt.codec = LR_PQ_LZ4;
    assert_int_equal(lr_pq_writer_open(&ok, 1, &opt, lr_pq_sink_buf(&file), &w, &err),
                     LR_EUNSUPPORTED);
    /* A null in a required column is refused and changes nothing. */
    assert_int_equal(lr_pq_writer_open(&ok, 1, NULL, lr_pq_sink_buf(&file), &w, &err), LR_OK);
    memset(&b, 0, sizeof b);
    b.i32 = v;
    b.validity = valid;
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 2, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "required"));
    b.validity = NULL;
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 2, &err), LR_OK);
    assert_int_equal(lr_pq_writer_set_null(w, 0, &err), LR_EINVAL);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    {
        tcol exp;
        memset(&exp, 0, sizeof exp);
        exp.def = ok;
        exp.n_rows = 2;
        exp.values = v;
        pq_check_file(file.data, file.len, &exp, 1, 0);
    }
    lr_buf_free(&file);
    lr_pq_writer_free(NULL);
}

/* A sink that fails after a few bytes: the writer reports it and frees cleanly. */
static lr_status failing_write(void *ctx, const void *data, size_t len, lr_error *err)
{
    size_t *left = ctx;
    (void)data;
    if (len > *left)
        return lr_error_set(err, LR_EIO, "disk full");
    *left -= len;
    return LR_OK;
}

static void test_sink_failure(void **state)
{
    lr_pq_column_def d = coldef("x", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false);
    int64_t v[1000];
    lr_pq_column_batch b;
    lr_pq_writer *w;
    lr_pq_sink sink;
    lr_error err;
    size_t left = 100;
    lr_status st;
    (void)state;
    for (int i = 0; i < 1000; i++)
        v[i] = i;
    sink.write = failing_write;
    sink.ctx = &left;
    assert_int_equal(lr_pq_writer_open(&d, 1, NULL, sink, &w, &err), LR_OK);
    memset(&b, 0, sizeof b);
    b.i64 = v;
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 1000, &err), LR_OK);
    st = lr_pq_writer_close(w, NULL, &err);
    assert_int_equal(st, LR_EIO);
    assert_non_null(strstr(err.msg, "disk full"));
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_EINVAL);
    lr_pq_writer_free(w);
}

static void test_fd_sink_and_file_reader(void **state)
{
    lr_pq_column_def d = coldef("s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true);
    tcol c;
    tgen g;
    char path[] = "/tmp/larder-pq-test-XXXXXX";
    int fd = mkstemp(path);
    lr_pq_writer *w;
    lr_pq_reader *r;
    lr_error err;
    lr_pq_column_batch b;
    (void)state;
    assert_true(fd >= 0);
    memset(&g, 0, sizeof g);
    g.null_pct = 30;
    tcol_gen(&c, &d, 777, &g);
    assert_int_equal(lr_pq_writer_open(&d, 1, NULL, lr_pq_sink_fd(fd), &w, &err), LR_OK);
    b = tcol_batch(&c);
    assert_int_equal(lr_pq_writer_write_batch(w, &b, 777, &err), LR_OK);
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    close(fd);
    assert_int_equal(lr_pq_reader_open_file(path, &r, &err), LR_OK);
    assert_int_equal(lr_pq_reader_num_rows(r), 777);
    lr_pq_reader_free(r);
    {
        FILE *f = fopen(path, "rb");
        lr_buf file;
        char chunk[4096];
        size_t n;
        lr_buf_init(&file, 0);
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            lr_buf_append(&file, chunk, n);
        fclose(f);
        pq_check_file(file.data, file.len, &c, 1, 100);
        lr_buf_free(&file);
    }
    unlink(path);
    assert_int_equal(lr_pq_reader_open_file(path, &r, &err), LR_EIO);
    tcol_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_matrix),   cmocka_unit_test(test_roundtrip_sizes),
        cmocka_unit_test(test_empty_file),         cmocka_unit_test(test_all_null_columns),
        cmocka_unit_test(test_long_strings),       cmocka_unit_test(test_lists),
        cmocka_unit_test(test_list_edges),         cmocka_unit_test(test_row_api),
        cmocka_unit_test(test_row_api_then_batch), cmocka_unit_test(test_dictionary_and_fallback),
        cmocka_unit_test(test_stats_numbers),      cmocka_unit_test(test_stats_strings),
        cmocka_unit_test(test_footer_metadata),    cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_sink_failure),       cmocka_unit_test(test_fd_sink_and_file_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
