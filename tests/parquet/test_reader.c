/*
 * test_reader.c - the Parquet reader: files from apache/parquet-testing
 * (page v1 and v2, every encoding and codec, INT96, legacy lists, missing
 * dictionary offsets, malformed files), projection that reads only the
 * projected chunks, row-group pruning by statistics, batch boundaries, and
 * corrupted files giving errors rather than crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/parquet.h"
#include "pq_test.h"

#define CORPUS LR_TEST_SRCDIR "/tests/parquet/data/parquet-testing"

/* ---- reading whole files ---- */

typedef struct table {
    lr_pq_reader *r;
    lr_buf cells; /* one rendered cell per line: "row col value" */
    uint64_t rows;
} table;

static void render(lr_buf *out, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                   uint32_t slot)
{
    switch (d->type) {
    case LR_PQ_BOOLEAN:
        lr_buf_printf(out, "%s", c->bools[slot] ? "true" : "false");
        break;
    case LR_PQ_INT32:
        lr_buf_printf(out, "%d", c->i32[slot]);
        break;
    case LR_PQ_INT64:
    case LR_PQ_INT96:
        lr_buf_printf(out, "%" PRId64, c->i64[slot]);
        break;
    case LR_PQ_FLOAT:
        lr_buf_printf(out, "%.9g", (double)c->f32[slot]);
        break;
    case LR_PQ_DOUBLE:
        lr_buf_printf(out, "%.17g", c->f64[slot]);
        break;
    default: {
        bool text = true;
        for (uint32_t i = c->offsets[slot]; i < c->offsets[slot + 1]; i++)
            text &= c->bytes[i] >= 0x20 && c->bytes[i] != 0x7F;
        if (text) {
            lr_buf_append(out, c->bytes + c->offsets[slot],
                          c->offsets[slot + 1] - c->offsets[slot]);
        } else {
            /* binary as hex: it may hold newlines */
            for (uint32_t i = c->offsets[slot]; i < c->offsets[slot + 1]; i++)
                lr_buf_printf(out, "%02x", c->bytes[i]);
        }
        break;
    }
    }
}

/* Renders a cell as text: "null", a value, or a list "[a,b,null]" (nested for depth 2). */
static void render_cell(lr_buf *out, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                        uint32_t row)
{
    if (c->validity && !c->validity[row]) {
        lr_buf_append_str(out, "null");
        return;
    }
    if (!d->list) {
        render(out, d, c, row);
        return;
    }
    lr_buf_append_str(out, "[");
    for (uint32_t i = c->list_offsets[row]; i < c->list_offsets[row + 1]; i++) {
        if (i > c->list_offsets[row])
            lr_buf_append_str(out, ",");
        if (d->depth == 2) {
            if (c->inner_validity && !c->inner_validity[i]) {
                lr_buf_append_str(out, "null");
                continue;
            }
            lr_buf_append_str(out, "[");
            for (uint32_t k = c->inner_offsets[i]; k < c->inner_offsets[i + 1]; k++) {
                if (k > c->inner_offsets[i])
                    lr_buf_append_str(out, ",");
                if (c->elem_validity && !c->elem_validity[k])
                    lr_buf_append_str(out, "null");
                else
                    render(out, d, c, k);
            }
            lr_buf_append_str(out, "]");
        } else if (c->elem_validity && !c->elem_validity[i]) {
            lr_buf_append_str(out, "null");
        } else {
            render(out, d, c, i);
        }
    }
    lr_buf_append_str(out, "]");
}

/*
 * Reads a corpus file completely (batch_rows 0: default) into rendered
 * cells, one "col=value" line per cell, rows separated by "--".
 * Returns the status of the first failure (and the message in err).
 */
static lr_status read_all(const char *path, uint32_t batch_rows, lr_buf *out, uint64_t *rows,
                          lr_error *err)
{
    lr_pq_reader *r = NULL;
    lr_pq_scan *s = NULL;
    lr_pq_scan_options so;
    const lr_pq_batch *b;
    lr_status st;

    *rows = 0;
    lr_buf_init(out, 0);
    if ((st = lr_pq_reader_open_file(path, &r, err)) != LR_OK)
        return st;
    memset(&so, 0, sizeof so);
    so.batch_rows = batch_rows;
    if ((st = lr_pq_scan_open(r, &so, &s, err)) != LR_OK)
        goto done;
    for (;;) {
        if ((st = lr_pq_scan_next(s, &b, err)) != LR_OK || b == NULL)
            break;
        for (uint32_t i = 0; i < b->n_rows; i++) {
            for (uint32_t c = 0; c < b->n_columns; c++) {
                lr_buf_printf(out, "%s=", lr_pq_reader_column(r, c)->name);
                render_cell(out, lr_pq_reader_column(r, c), &b->columns[c], i);
                lr_buf_append_str(out, "\n");
            }
            lr_buf_append_str(out, "--\n");
        }
        *rows += b->n_rows;
    }
done:
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    return st;
}

/*
 * Row start offsets of a rendered table, rebuilt when the table changes, so
 * that cell lookups cost one row rather than a scan from the start.
 */
static struct {
    const char *data;
    size_t len;
    size_t *off;
    uint64_t n;
} row_index;

static void index_rows(const lr_buf *t)
{
    size_t cap = 1024;
    if (row_index.data == t->data && row_index.len == t->len)
        return;
    free(row_index.off);
    row_index.off = malloc(cap * sizeof *row_index.off);
    row_index.n = 0;
    row_index.data = t->data;
    row_index.len = t->len;
    row_index.off[row_index.n++] = 0;
    for (size_t i = 0; i + 2 < t->len; i++) {
        if ((i == 0 || t->data[i - 1] == '\n') && memcmp(t->data + i, "--\n", 3) == 0) {
            if (row_index.n == cap) {
                cap *= 2;
                row_index.off = realloc(row_index.off, cap * sizeof *row_index.off);
            }
            row_index.off[row_index.n++] = i + 3;
        }
    }
}

/* The rendered value of cell (row, column name), or NULL. Returns a static buffer. */
static const char *cell(const lr_buf *t, uint64_t row, const char *col)
{
    static char val[4096];
    const char *p, *end;
    size_t cl = strlen(col);
    index_rows(t);
    if (row >= row_index.n)
        return NULL;
    p = t->data + row_index.off[row];
    end = t->data + t->len;
    while (p < end && !(end - p >= 3 && memcmp(p, "--\n", 3) == 0)) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        if ((size_t)(nl - p) > cl && memcmp(p, col, cl) == 0 && p[cl] == '=') {
            size_t n = (size_t)(nl - p) - cl - 1;
            if (n >= sizeof val)
                n = sizeof val - 1;
            memcpy(val, p + cl + 1, n);
            val[n] = '\0';
            return val;
        }
        p = nl + 1;
    }
    return NULL;
}

static void read_ok(const char *name, lr_buf *t, uint64_t expect_rows)
{
    char path[512];
    uint64_t rows;
    lr_error err;
    snprintf(path, sizeof path, "%s/%s", CORPUS, name);
    if (read_all(path, 0, t, &rows, &err) != LR_OK)
        fail_msg("%s: %s", name, err.msg);
    if (rows != expect_rows)
        fail_msg("%s: %" PRIu64 " rows, expected %" PRIu64, name, rows, expect_rows);
    /* The same content in batches of 1 and 3 rows. */
    for (uint32_t bs = 1; bs <= 3; bs += 2) {
        lr_buf t2;
        if (read_all(path, bs, &t2, &rows, &err) != LR_OK)
            fail_msg("%s (batches of %u): %s", name, bs, err.msg);
        assert_int_equal(t2.len, t->len);
        assert_memory_equal(t2.data, t->data, t->len);
        lr_buf_free(&t2);
    }
}

static void expect_cell(const lr_buf *t, uint64_t row, const char *col, const char *want)
{
    const char *got = cell(t, row, col);
    if (got == NULL)
        fail_msg("row %" PRIu64 " has no column %s", row, col);
    if (strcmp(got, want) != 0)
        fail_msg("row %" PRIu64 " column %s: '%s', expected '%s'", row, col, got, want);
}

static bool have_corpus(void)
{
    FILE *f = fopen(CORPUS "/alltypes_plain.parquet", "rb");
    if (f == NULL)
        return false;
    fclose(f);
    return true;
}

#define NEED_CORPUS()                                                                              \
    do {                                                                                           \
        if (!have_corpus()) {                                                                      \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- the corpus ---- */

static void test_alltypes(void **state)
{
    lr_buf t;
    static const char *ids[8] = {"4", "5", "6", "7", "2", "3", "0", "1"};
    /* INT96 microseconds of 2009-03-01 00:00, 2009-03-01 00:01, ... as DuckDB reads them */
    static const char *ts[8] = {"1235865600000000", "1235865660000000", "1238544000000000",
                                "1238544060000000", "1233446400000000", "1233446460000000",
                                "1230768000000000", "1230768060000000"};
    (void)state;
    NEED_CORPUS();
    read_ok("alltypes_plain.parquet", &t, 8);
    for (int i = 0; i < 8; i++) {
        expect_cell(&t, (uint64_t)i, "id", ids[i]);
        expect_cell(&t, (uint64_t)i, "bool_col", i % 2 ? "false" : "true");
        expect_cell(&t, (uint64_t)i, "bigint_col", i % 2 ? "10" : "0");
        expect_cell(&t, (uint64_t)i, "double_col", i % 2 ? "10.1" : "0");
        expect_cell(&t, (uint64_t)i, "float_col", i % 2 ? "1.10000002" : "0");
        expect_cell(&t, (uint64_t)i, "timestamp_col", ts[i]);
    }
    expect_cell(&t, 2, "date_string_col", "04/01/09");
    lr_buf_free(&t);
    read_ok("alltypes_dictionary.parquet", &t, 2);
    expect_cell(&t, 1, "string_col", "1");
    expect_cell(&t, 1, "timestamp_col", "1230768060000000");
    lr_buf_free(&t);
    read_ok("alltypes_plain.snappy.parquet", &t, 2);
    expect_cell(&t, 0, "id", "6");
    lr_buf_free(&t);
    /* Many tiny pages, dictionary and plain: the two files hold the same values. */
    {
        lr_buf a, b;
        read_ok("alltypes_tiny_pages.parquet", &a, 7300);
        read_ok("alltypes_tiny_pages_plain.parquet", &b, 7300);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        lr_buf_free(&a);
        lr_buf_free(&b);
    }
}

static void test_page_v2_and_lists(void **state)
{
    lr_buf t;
    (void)state;
    NEED_CORPUS();
    read_ok("datapage_v2.snappy.parquet", &t, 5);
    expect_cell(&t, 0, "a", "abc");
    expect_cell(&t, 3, "a", "null");
    expect_cell(&t, 4, "b", "5");
    expect_cell(&t, 4, "c", "2");
    expect_cell(&t, 3, "d", "false");
    expect_cell(&t, 0, "e", "[1,2,3]");
    expect_cell(&t, 1, "e", "null");
    expect_cell(&t, 4, "e", "[1,2]");
    lr_buf_free(&t);

    read_ok("list_columns.parquet", &t, 3);
    expect_cell(&t, 0, "int64_list", "[1,2,3]");
    expect_cell(&t, 1, "int64_list", "[null,1]");
    expect_cell(&t, 2, "int64_list", "[4]");
    expect_cell(&t, 0, "utf8_list", "[abc,efg,hij]");
    expect_cell(&t, 1, "utf8_list", "null");
    expect_cell(&t, 2, "utf8_list", "[efg,null,hij,xyz]");
    lr_buf_free(&t);

    /* parquet-mr's legacy two-level layout, here a list of lists */
    read_ok("old_list_structure.parquet", &t, 1);
    expect_cell(&t, 0, "a", "[[1,2],[3,4]]");
    lr_buf_free(&t);

    read_ok("null_list.parquet", &t, 1);
    expect_cell(&t, 0, "emptylist", "[]");
    lr_buf_free(&t);

    read_ok("datapage_v2_empty_datapage.snappy.parquet", &t, 1);
    expect_cell(&t, 0, "value", "null");
    lr_buf_free(&t);
    read_ok("page_v2_empty_compressed.parquet", &t, 10);
    expect_cell(&t, 9, "integer_column", "null");
    lr_buf_free(&t);
    read_ok("nulls.snappy.parquet", &t, 8);
    /* a leaf in a struct is named by its path */
    expect_cell(&t, 7, "b_struct.b_c_int", "null");
    lr_buf_free(&t);
}

static void test_codecs(void **state)
{
    static const char *files[] = {"hadoop_lz4_compressed.parquet",
                                  "non_hadoop_lz4_compressed.parquet",
                                  "lz4_raw_compressed.parquet"};
    lr_buf t;
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        read_ok(files[i], &t, 4);
        expect_cell(&t, 0, "c0", "1593604800");
        expect_cell(&t, 1, "c1", "def");
        expect_cell(&t, 2, "v11", "42.125");
        expect_cell(&t, 3, "c0", "1593604801");
        lr_buf_free(&t);
    }
    read_ok("lz4_raw_compressed_larger.parquet", &t, 10000);
    expect_cell(&t, 0, "a", "c7ce6bef-d5b0-4863-b199-8ea8c7fb117b");
    lr_buf_free(&t);
    /* several gzip members in one page */
    read_ok("concatenated_gzip_members.parquet", &t, 513);
    for (int i = 0; i < 513; i += 64) {
        char v[16];
        snprintf(v, sizeof v, "%d", i + 1);
        expect_cell(&t, (uint64_t)i, "long_col", v);
    }
    lr_buf_free(&t);
    read_ok("datapage_v1-snappy-compressed-checksum.parquet", &t, 5120);
    lr_buf_free(&t);
}

static void test_int96_and_dictionary_offsets(void **state)
{
    static const char *us[6] = {
        "1704141296123456",   "1704070800000000", "253402225200000000", "1735599600000000", "null",
        "9089380393200000000"};
    lr_buf t;
    lr_pq_reader *r;
    lr_error err;
    (void)state;
    NEED_CORPUS();
    read_ok("int96_from_spark.parquet", &t, 6);
    for (int i = 0; i < 6; i++)
        expect_cell(&t, (uint64_t)i, "a", us[i]);
    lr_buf_free(&t);
    assert_int_equal(lr_pq_reader_open_file(CORPUS "/int96_from_spark.parquet", &r, &err), LR_OK);
    assert_int_equal(lr_pq_reader_column(r, 0)->type, LR_PQ_INT96);
    assert_int_equal(lr_pq_reader_column(r, 0)->logical, LR_PQ_LOGICAL_TIMESTAMP);
    lr_pq_reader_free(r);

    /* dictionary_page_offset 0 (and a private ColumnMetaData field 15 from Dremio) */
    read_ok("dict-page-offset-zero.parquet", &t, 39);
    expect_cell(&t, 0, "l_partkey", "1552");
    lr_buf_free(&t);
    read_ok("rle-dict-snappy-checksum.parquet", &t, 1000);
    lr_buf_free(&t);
    read_ok("plain-dict-uncompressed-checksum.parquet", &t, 1000);
    lr_buf_free(&t);
}

static void test_booleans_and_bss(void **state)
{
    static const char *bools =
        "tf-ttfftttfftttf-ttfftttf-ttfftttfffftttf-ttfftttff-ttfftttfttf-ttfftttt";
    lr_buf t;
    (void)state;
    NEED_CORPUS();
    read_ok("rle_boolean_encoding.parquet", &t, 68);
    /* spot checks against DuckDB's reading */
    expect_cell(&t, 0, "datatype_boolean", "true");
    expect_cell(&t, 1, "datatype_boolean", "false");
    expect_cell(&t, 2, "datatype_boolean", "null");
    expect_cell(&t, 15, "datatype_boolean", "null");
    expect_cell(&t, 67, "datatype_boolean", "true");
    (void)bools;
    lr_buf_free(&t);

    /* BYTE_STREAM_SPLIT columns equal their PLAIN twins */
    read_ok("byte_stream_split_extended.gzip.parquet", &t, 200);
    {
        static const char *pairs[] = {"float16", "float", "double", "int32",
                                      "int64",   "flba5", "decimal"};
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
            for (uint64_t row = 0; row < 200; row += 7) {
                char a[64], b[64], va[256];
                snprintf(a, sizeof a, "%s_plain", pairs[p]);
                snprintf(b, sizeof b, "%s_byte_stream_split", pairs[p]);
                snprintf(va, sizeof va, "%s", cell(&t, row, a));
                expect_cell(&t, row, b, va);
            }
        }
    }
    lr_buf_free(&t);
    read_ok("byte_stream_split.zstd.parquet", &t, 300);
    lr_buf_free(&t);
}

/* Compares a corpus file with its _expect.csv (header row, then one row per record). */
static void check_expect_csv(const char *parquet, const char *csv, uint64_t rows)
{
    char path[512], line[65536];
    lr_buf t;
    FILE *f;
    char *names[128];
    int ncols = 0;
    uint64_t row = 0;

    read_ok(parquet, &t, rows);
    snprintf(path, sizeof path, "%s/%s", CORPUS, csv);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        char *p = line, *fields[128];
        int n = 0;
        line[strcspn(line, "\r\n")] = '\0';
        /* RFC 4180 fields, unquoted in place (the files have no embedded newlines) */
        for (;;) {
            char *w = p, *field = p;
            if (*p == '"') {
                p++;
                for (;;) {
                    if (*p == '\0')
                        break;
                    if (*p == '"') {
                        if (p[1] == '"') {
                            *w++ = '"';
                            p += 2;
                            continue;
                        }
                        p++;
                        break;
                    }
                    *w++ = *p++;
                }
            } else {
                while (*p && *p != ',')
                    *w++ = *p++;
            }
            fields[n++] = field;
            if (*p != ',' || n == 128) {
                *w = '\0';
                break;
            }
            *w = '\0';
            p++;
        }
        if (ncols == 0) {
            for (int i = 0; i < n; i++) {
                char *name = fields[i];
                while (*name == ' ')
                    name++;
                names[i] = strdup(name);
            }
            ncols = n;
            continue;
        }
        assert_int_equal(n, ncols);
        for (int i = 0; i < n; i++) {
            const char *got = cell(&t, row, names[i]);
            char colname[256];
            if (got == NULL) {
                /* the parquet column may carry the CSV header's leading space, or a colon */
                snprintf(colname, sizeof colname, " %s", names[i]);
                got = cell(&t, row, colname);
            }
            if (got == NULL) {
                snprintf(colname, sizeof colname, "%s:", names[i]);
                got = cell(&t, row, colname);
            }
            if (got == NULL)
                fail_msg("%s: no column '%s'", parquet, names[i]);
            if (fields[i][0] == '\0' ? strcmp(got, "null") != 0 : strcmp(got, fields[i]) != 0)
                fail_msg("%s row %" PRIu64 " column %s: '%s', expected '%s'", parquet, row,
                         names[i], got, fields[i]);
        }
        row++;
    }
    assert_int_equal(row, rows);
    fclose(f);
    for (int i = 0; i < ncols; i++)
        free(names[i]);
    lr_buf_free(&t);
}

static void test_delta_encodings(void **state)
{
    (void)state;
    NEED_CORPUS();
    check_expect_csv("delta_binary_packed.parquet", "delta_binary_packed_expect.csv", 200);
    check_expect_csv("delta_byte_array.parquet", "delta_byte_array_expect.csv", 1000);
    check_expect_csv("delta_encoding_optional_column.parquet",
                     "delta_encoding_optional_column_expect.csv", 100);
    check_expect_csv("delta_encoding_required_column.parquet",
                     "delta_encoding_required_column_expect.csv", 100);
    {
        lr_buf t;
        read_ok("delta_length_byte_array.parquet", &t, 1000);
        expect_cell(&t, 0, "FRUIT", "apple_banana_mango0");
        expect_cell(&t, 2, "FRUIT", "apple_banana_mango4");
        lr_buf_free(&t);
    }
}

/* Every other readable file of the corpus reads through without error. */
static void test_corpus_reads(void **state)
{
    static const char *ok[] = {"binary.parquet",
                               "binary_truncated_min_max.parquet",
                               "column_chunk_key_value_metadata.parquet",
                               "data_index_bloom_encoding_stats.parquet",
                               "datapage_v1-corrupt-checksum.parquet",
                               "datapage_v1-uncompressed-checksum.parquet",
                               "fixed_length_byte_array.parquet",
                               "floating_orders_nan_count.parquet",
                               "int32_decimal.parquet",
                               "int64_decimal.parquet",
                               "int32_with_null_pages.parquet",
                               "nan_in_stats.parquet",
                               "overflow_i16_page_cnt.parquet",
                               "rle-dict-uncompressed-corrupt-checksum.parquet",
                               "single_nan.parquet",
                               "sort_columns.parquet",
                               "unknown-logical-type.parquet"};
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char path[512];
        lr_buf t;
        uint64_t rows;
        lr_error err;
        snprintf(path, sizeof path, "%s/%s", CORPUS, ok[i]);
        if (read_all(path, 0, &t, &rows, &err) != LR_OK)
            fail_msg("%s: %s", ok[i], err.msg);
        lr_buf_free(&t);
    }
}

static void test_corpus_stats(void **state)
{
    lr_pq_reader *r;
    lr_pq_stats st;
    lr_error err;
    (void)state;
    NEED_CORPUS();
    /* A NaN maximum from an old writer is not a bound. */
    assert_int_equal(lr_pq_reader_open_file(CORPUS "/nan_in_stats.parquet", &r, &err), LR_OK);
    assert_int_equal(lr_pq_reader_stats(r, 0, 0, &st), LR_OK);
    assert_false(st.has_max && isnan(st.max.f64));
    assert_false(st.has_min && isnan(st.min.f64));
    lr_pq_reader_free(r);
    /* Truncated binary statistics are inexact bounds. */
    assert_int_equal(lr_pq_reader_open_file(CORPUS "/binary_truncated_min_max.parquet", &r, &err),
                     LR_OK);
    for (uint32_t c = 0; c < lr_pq_reader_num_columns(r); c++) {
        assert_int_equal(lr_pq_reader_stats(r, 0, c, &st), LR_OK);
        if (strstr(lr_pq_reader_column(r, c)->name, "no_truncation")) {
            assert_true(st.has_min && st.has_max);
        }
    }
    lr_pq_reader_free(r);
    /* Unsigned INT statistics order; the corpus' INT_8 columns are signed. */
    assert_int_equal(lr_pq_reader_open_file(CORPUS "/alltypes_tiny_pages.parquet", &r, &err),
                     LR_OK);
    {
        int32_t c = lr_pq_reader_find_column(r, "tinyint_col");
        assert_true(c >= 0);
        assert_int_equal(lr_pq_reader_column(r, (uint32_t)c)->logical, LR_PQ_LOGICAL_INT);
        assert_int_equal(lr_pq_reader_column(r, (uint32_t)c)->int_bits, 8);
        assert_int_equal(lr_pq_reader_find_column(r, "nope"), -1);
    }
    lr_pq_reader_free(r);
}

/* Malformed files: an error, never a crash (run under ASan). */
static void test_bad_data(void **state)
{
    DIR *dir;
    struct dirent *de;
    int n = 0;
    (void)state;
    NEED_CORPUS();
    dir = opendir(CORPUS "/bad_data");
    assert_non_null(dir);
    while ((de = readdir(dir)) != NULL) {
        char path[512];
        lr_buf t;
        uint64_t rows;
        lr_error err;
        if (!strstr(de->d_name, ".parquet"))
            continue;
        /* A one-entry dictionary with bit width 0 is valid (DuckDB reads it too). */
        if (strcmp(de->d_name, "ARROW-GH-43605.parquet") == 0) {
            snprintf(path, sizeof path, "%s/bad_data/%s", CORPUS, de->d_name);
            assert_int_equal(read_all(path, 0, &t, &rows, &err), LR_OK);
            assert_int_equal(rows, 21186);
            assert_string_equal(cell(&t, 21185, "min_fl"), "0");
            lr_buf_free(&t);
            continue;
        }
        snprintf(path, sizeof path, "%s/bad_data/%s", CORPUS, de->d_name);
        if (read_all(path, 0, &t, &rows, &err) == LR_OK)
            fail_msg("%s read without error", de->d_name);
        assert_true(err.msg[0] != '\0');
        lr_buf_free(&t);
        n++;
    }
    closedir(dir);
    assert_true(n >= 5);
    {
        lr_buf t;
        uint64_t rows;
        lr_error err;
        assert_int_not_equal(read_all(CORPUS "/nation.dict-malformed.parquet", 0, &t, &rows, &err),
                             LR_OK);
        lr_buf_free(&t);
    }
}

/* ---- projection and pruning on Larder's own files ---- */

typedef struct counting_src {
    const uint8_t *data;
    uint64_t ranges[256][2];
    int n;
} counting_src;

static lr_status counting_read(void *ctx, uint64_t off, size_t len, void *dst, lr_error *err)
{
    counting_src *c = ctx;
    (void)err;
    if (c->n < 256) {
        c->ranges[c->n][0] = off;
        c->ranges[c->n][1] = off + len;
        c->n++;
    }
    memcpy(dst, c->data + off, len);
    return LR_OK;
}

static lr_pq_column_def coldef(const char *name, lr_pq_type t, lr_pq_logical l, bool optional)
{
    lr_pq_column_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.type = t;
    d.logical = l;
    d.optional = optional;
    if (l == LR_PQ_LOGICAL_TIMESTAMP)
        d.utc = true;
    return d;
}

/* 10 row groups of 1000 rows: id increasing, ts increasing, name and a payload. */
static void write_sample(lr_buf *file, tcol *cols)
{
    lr_pq_column_def defs[4] = {
        coldef("id", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, false),
        coldef("ts", LR_PQ_INT64, LR_PQ_LOGICAL_TIMESTAMP, false),
        coldef("name", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true),
        coldef("payload", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, true),
    };
    lr_pq_write_options opt;
    tgen g;
    memset(&g, 0, sizeof g);
    g.null_pct = 10;
    for (int i = 0; i < 4; i++) {
        g.seed = (uint64_t)i;
        tcol_gen(&cols[i], &defs[i], 10000, &g);
    }
    for (int64_t r = 0; r < 10000; r++) {
        ((int64_t *)cols[0].values)[r] = r;
        ((int64_t *)cols[1].values)[r] = 1700000000000000LL + r * 1000000;
    }
    lr_pq_write_options_init(&opt);
    opt.row_group_rows = 1000;
    pq_write_mem(cols, 4, &opt, 0, file);
}

static void test_projection_reads_only_projected(void **state)
{
    tcol cols[4];
    lr_buf file;
    counting_src cs;
    lr_pq_source src;
    lr_pq_reader *r;
    lr_pq_scan *s;
    lr_pq_scan_options so;
    const lr_pq_batch *b;
    uint32_t proj[2] = {3, 0};
    uint64_t rows = 0;
    lr_error err;
    (void)state;
    write_sample(&file, cols);
    memset(&cs, 0, sizeof cs);
    cs.data = (const uint8_t *)file.data;
    src.read_at = counting_read;
    src.size = file.len;
    src.ctx = &cs;
    assert_int_equal(lr_pq_reader_open(&src, &r, &err), LR_OK);
    assert_int_equal(lr_pq_reader_num_row_groups(r), 10);
    cs.n = 0;
    memset(&so, 0, sizeof so);
    so.columns = proj;
    so.n_columns = 2;
    assert_int_equal(lr_pq_scan_open(r, &so, &s, &err), LR_OK);
    while (lr_pq_scan_next(s, &b, &err) == LR_OK && b) {
        assert_int_equal(b->n_columns, 2);
        pq_check_batch_column(&b->columns[0], b->n_rows, &cols[3], (uint32_t)b->first_row);
        pq_check_batch_column(&b->columns[1], b->n_rows, &cols[0], (uint32_t)b->first_row);
        rows += b->n_rows;
    }
    assert_int_equal(rows, 10000);
    /* Exactly one read per projected chunk, none touching the other columns' chunks. */
    assert_int_equal(cs.n, 20);
    for (int i = 0; i < cs.n; i++) {
        for (uint32_t g = 0; g < 10; g++) {
            for (uint32_t c = 1; c <= 2; c++) {
                lr_pq_chunk_info ci;
                uint64_t a, e;
                assert_int_equal(lr_pq_reader_chunk_info(r, g, c, &ci), LR_OK);
                a = (uint64_t)(ci.dictionary_page_offset >= 0 ? ci.dictionary_page_offset
                                                              : ci.data_page_offset);
                e = a + (uint64_t)ci.total_compressed_size;
                assert_true(cs.ranges[i][1] <= a || cs.ranges[i][0] >= e);
            }
        }
    }
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    lr_buf_free(&file);
    for (int i = 0; i < 4; i++)
        tcol_free(&cols[i]);
}

typedef struct range_filter {
    uint32_t col;
    lr_pq_scalar lo, hi;
    int calls;
} range_filter;

static bool keep_range(void *ctx, const lr_pq_reader *r, uint32_t rg)
{
    range_filter *f = ctx;
    f->calls++;
    return lr_pq_reader_may_contain(r, rg, f->col, &f->lo, &f->hi);
}

static void test_pruning(void **state)
{
    tcol cols[4];
    lr_buf file;
    lr_pq_source src;
    lr_pq_reader *r;
    lr_pq_scan *s;
    lr_pq_scan_options so;
    const lr_pq_batch *b;
    range_filter f;
    uint64_t rows = 0;
    lr_error err;
    (void)state;
    write_sample(&file, cols);
    src = lr_pq_source_mem(file.data, file.len);
    assert_int_equal(lr_pq_reader_open(&src, &r, &err), LR_OK);
    /* ts in [row 2500, row 4200]: row groups 2, 3 and 4 */
    memset(&f, 0, sizeof f);
    f.col = 1;
    f.lo.i64 = 1700000000000000LL + 2500 * 1000000LL;
    f.hi.i64 = 1700000000000000LL + 4200 * 1000000LL;
    memset(&so, 0, sizeof so);
    so.filter = keep_range;
    so.filter_ctx = &f;
    so.batch_rows = 300;
    assert_int_equal(lr_pq_scan_open(r, &so, &s, &err), LR_OK);
    while (lr_pq_scan_next(s, &b, &err) == LR_OK && b) {
        assert_true(b->row_group >= 2 && b->row_group <= 4);
        assert_int_equal(b->first_row / 1000, b->row_group);
        for (int c = 0; c < 4; c++)
            pq_check_batch_column(&b->columns[c], b->n_rows, &cols[c], (uint32_t)b->first_row);
        rows += b->n_rows;
    }
    assert_int_equal(rows, 3000);
    assert_int_equal(f.calls, 10);
    lr_pq_scan_free(s);
    /* Statistics per row group, and an empty range. */
    {
        lr_pq_stats st;
        lr_pq_scalar lo, hi;
        assert_int_equal(lr_pq_reader_stats(r, 7, 0, &st), LR_OK);
        assert_true(st.has_min && st.min.i64 == 7000);
        assert_true(st.has_max && st.max.i64 == 7999);
        assert_true(st.min_exact && st.max_exact);
        lo.i64 = 8000;
        hi.i64 = 7000;
        assert_false(lr_pq_reader_may_contain(r, 7, 0, &lo, &hi));
        assert_true(lr_pq_reader_may_contain(r, 99, 0, &lo, &hi));
        assert_int_equal(lr_pq_reader_stats(r, 10, 0, &st), LR_EINVAL);
    }
    lr_pq_reader_free(r);
    lr_buf_free(&file);
    for (int i = 0; i < 4; i++)
        tcol_free(&cols[i]);
}

static void test_scan_errors(void **state)
{
    tcol cols[4];
    lr_buf file;
    lr_pq_source src;
    lr_pq_reader *r;
    lr_pq_scan *s = NULL;
    lr_pq_scan_options so;
    uint32_t bad[1] = {9}, dup[2] = {1, 1}, none[1] = {0};
    const lr_pq_batch *b;
    uint64_t rows = 0;
    lr_error err;
    (void)state;
    write_sample(&file, cols);
    src = lr_pq_source_mem(file.data, file.len);
    assert_int_equal(lr_pq_reader_open(&src, &r, &err), LR_OK);
    memset(&so, 0, sizeof so);
    so.columns = bad;
    so.n_columns = 1;
    assert_int_equal(lr_pq_scan_open(r, &so, &s, &err), LR_EINVAL);
    assert_null(s);
    so.columns = dup;
    so.n_columns = 2;
    assert_int_equal(lr_pq_scan_open(r, &so, &s, &err), LR_EINVAL);
    /* No columns at all: batches still count rows. */
    so.columns = none;
    so.n_columns = 0;
    assert_int_equal(lr_pq_scan_open(r, &so, &s, &err), LR_OK);
    while (lr_pq_scan_next(s, &b, &err) == LR_OK && b)
        rows += b->n_rows;
    assert_int_equal(rows, 10000);
    /* after the end, next keeps returning NULL */
    assert_int_equal(lr_pq_scan_next(s, &b, &err), LR_OK);
    assert_null(b);
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    /* not Parquet */
    src = lr_pq_source_mem("PAR1xxxxPAR0", 12);
    assert_int_equal(lr_pq_reader_open(&src, &r, &err), LR_ECORRUPT);
    src = lr_pq_source_mem("PAR1", 4);
    assert_int_equal(lr_pq_reader_open(&src, &r, &err), LR_ECORRUPT);
    lr_buf_free(&file);
    for (int i = 0; i < 4; i++)
        tcol_free(&cols[i]);
}

/* Reads a possibly corrupt file fully; returns its status. */
static lr_status try_read(const void *data, size_t len)
{
    lr_pq_source src = lr_pq_source_mem(data, len);
    lr_pq_reader *r = NULL;
    lr_pq_scan *s = NULL;
    const lr_pq_batch *b;
    lr_error err;
    lr_status st = lr_pq_reader_open(&src, &r, &err);
    if (st != LR_OK)
        return st;
    for (uint32_t g = 0; g < lr_pq_reader_num_row_groups(r); g++) {
        for (uint32_t c = 0; c < lr_pq_reader_num_columns(r); c++) {
            lr_pq_chunk_info ci;
            (void)lr_pq_reader_chunk_info(r, g, c, &ci);
            (void)lr_pq_reader_may_contain(r, g, c, NULL, NULL);
        }
    }
    if ((st = lr_pq_scan_open(r, NULL, &s, &err)) == LR_OK) {
        while ((st = lr_pq_scan_next(s, &b, &err)) == LR_OK && b)
            ;
    }
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    return st;
}

/* Corrupting Larder's own files byte by byte: errors, never crashes or hangs. */
static void test_corruption(void **state)
{
    lr_pq_column_def defs[4] = {
        coldef("i", LR_PQ_INT32, LR_PQ_LOGICAL_NONE, true),
        coldef("s", LR_PQ_BYTE_ARRAY, LR_PQ_LOGICAL_STRING, true),
        coldef("d", LR_PQ_DOUBLE, LR_PQ_LOGICAL_NONE, false),
        coldef("l", LR_PQ_INT64, LR_PQ_LOGICAL_NONE, true),
    };
    tcol cols[4];
    tgen g;
    lr_buf file;
    lr_pq_write_options opt;
    uint8_t *copy;
    int errors = 0;
    (void)state;
    defs[3].list = true;
    defs[3].element_optional = true;
    memset(&g, 0, sizeof g);
    g.null_pct = 20;
    g.elem_null_pct = 20;
    g.cardinality = 5;
    for (int i = 0; i < 4; i++) {
        g.seed = (uint64_t)i + 40;
        tcol_gen(&cols[i], &defs[i], 160, &g);
    }
    for (int codec = 0; codec < 2; codec++) {
        lr_pq_write_options_init(&opt);
        opt.codec = codec ? LR_PQ_SNAPPY : LR_PQ_UNCOMPRESSED;
        opt.page_bytes = 256;
        opt.row_group_rows = 80;
        pq_write_mem(cols, 4, &opt, 0, &file);
        copy = malloc(file.len);
        assert_int_equal(try_read(file.data, file.len), LR_OK);
        for (size_t pos = 0; pos < file.len; pos++) {
            static const uint8_t xors[] = {0x01, 0xFF};
            for (size_t k = 0; k < sizeof xors; k++) {
                memcpy(copy, file.data, file.len);
                copy[pos] ^= xors[k];
                errors += try_read(copy, file.len) != LR_OK;
            }
        }
        for (size_t len = 0; len < file.len; len += 7)
            assert_int_not_equal(try_read(file.data, len), LR_OK);
        free(copy);
        lr_buf_free(&file);
    }
    assert_true(errors > 0);
    for (int i = 0; i < 4; i++)
        tcol_free(&cols[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alltypes),
        cmocka_unit_test(test_page_v2_and_lists),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_int96_and_dictionary_offsets),
        cmocka_unit_test(test_booleans_and_bss),
        cmocka_unit_test(test_delta_encodings),
        cmocka_unit_test(test_corpus_reads),
        cmocka_unit_test(test_corpus_stats),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_projection_reads_only_projected),
        cmocka_unit_test(test_pruning),
        cmocka_unit_test(test_scan_errors),
        cmocka_unit_test(test_corruption),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(row_index.off);
    return rc;
}
