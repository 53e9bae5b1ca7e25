/*
 * pq_matrix.c - writes the interop matrix: Parquet files made by Larder's
 * writer (public API only) over types x codecs x nullability x page and
 * row-group sizes, plus the special cases readers trip on (empty files,
 * all-null columns, long strings, NaN and infinities, extreme values,
 * lists with null and empty entries), and next to each file the values
 * Larder meant to write.
 *
 *   pq_matrix [--small] OUTDIR [CASE]
 *
 * writes OUTDIR/<case>.parquet, OUTDIR/<case>.expect.ndjson (one JSON array
 * per row, in column order) and OUTDIR/manifest.json (the cases, their
 * columns and row counts). The scripts in tests/parquet/interop read the files with
 * DuckDB, arrow-rs and hyparquet and compare every cell with the
 * expectations.
 *
 * Canonical cell values in the expectations: null; integers and timestamps
 * (in microseconds, whatever the column's unit) as decimal strings; FLOAT
 * and DOUBLE as JSON numbers printed exactly (%.17g of the value as a
 * double) or the strings "NaN", "Infinity", "-Infinity"; booleans; strings
 * as JSON strings; lists as arrays of those.
 *
 * The data is generated from a fixed seed, so every run writes the same
 * files. --small caps every case at 24 rows with pages of 5 rows (seed files
 * for the fuzzers: small, yet with several pages and encodings).
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "larder/buf.h"
#include "larder/parquet.h"

/* Column kinds of the matrix. */
typedef enum kind { K_I32, K_I64, K_F32, K_F64, K_BOOL, K_STR, K_TS_US, K_TS_MS } kind;

static const char *const kind_names[] = {"int32", "int64", "float", "double",
                                         "bool",  "string", "ts_us", "ts_ms"};

/* How values are generated. */
typedef enum gen {
    G_RANDOM,   /* random over the type's range */
    G_LOWCARD,  /* a few distinct values: dictionary pages */
    G_SEQ,      /* increasing: delta-friendly, many distinct */
    G_EXTREME,  /* min/max/zero and other boundaries */
    G_SPECIAL,  /* NaN, infinities, -0.0, denormals (floats); odd strings */
    G_LONG,     /* long strings (up to 300 KB) */
    G_DISTINCT, /* many distinct strings: dictionary fallback */
} gen;

typedef struct colspec {
    const char *name;
    kind k;
    bool optional;      /* the value (or the list) may be null */
    int null_pct;       /* chance of a null value/list, 0..100 (100: all null) */
    bool list;
    bool elem_optional; /* list elements may be null */
    gen g;
} colspec;

/* One column's generated data, in the writer's batch layout. */
typedef struct coldata {
    colspec spec;
    uint8_t *validity;      /* per row */
    uint32_t *list_offsets; /* per row + 1 */
    uint8_t *elem_validity; /* per slot */
    void *values;           /* per slot */
    uint32_t *offsets;      /* per slot + 1 (strings) */
    lr_buf bytes;           /* string data */
    size_t slots;
} coldata;

typedef struct matrix_case {
    const char *name;
    lr_pq_codec codec;
    int level;
    uint32_t rows;
    uint32_t batch_rows;   /* rows per write_batch call (0: all at once) */
    bool row_api;          /* write with the row API instead */
    uint64_t row_group_rows;
    uint64_t row_group_bytes;
    uint32_t page_rows;
    uint32_t page_bytes;
    int dictionary;        /* -1 default, 0 off, 1 on */
    uint32_t dictionary_bytes;
    const colspec *cols;
    uint32_t ncols;
} matrix_case;

/* ---- deterministic data ---------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static bool chance(int pct)
{
    return (int)(rnd() % 100) < pct;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "pq_matrix: out of memory\n");
        exit(2);
    }
    return p;
}

static size_t kind_size(kind k)
{
    switch (k) {
    case K_I32:
        return 4;
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

#define TS_MIN_US (-62135596800000000LL) /* 0001-01-01 */
#define TS_MAX_US (253402300799999999LL) /* 9999-12-31T23:59:59.999999 */

static const char *const odd_strings[] = {
    "", "a", "héllo wörld", "日本語テキスト", "emoji 🙂🚀", "quote \" backslash \\ slash /",
    "tab\tnewline\ncr\r", "\x01\x02\x1f control", "trailing space ", "0", "-1", "null",
    "NaN", "true", "{\"json\": [1, 2]}", "comma, separated", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
};
#define N_ODD (sizeof odd_strings / sizeof odd_strings[0])

static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
                                    "golf", "hotel"};

/* Appends one generated string of about 12 characters (or per gen). */
static void gen_string(gen g, size_t i, lr_buf *b)
{
    char tmp[64];
    switch (g) {
    case G_LOWCARD:
        lr_buf_append_str(b, words[rnd() % 8]);
        break;
    case G_SEQ:
        snprintf(tmp, sizeof tmp, "key-%08zu", i);
        lr_buf_append_str(b, tmp);
        break;
    case G_EXTREME:
    case G_SPECIAL:
        lr_buf_append_str(b, odd_strings[rnd() % N_ODD]);
        break;
    case G_LONG: {
        size_t n = (rnd() % 4 == 0) ? 100000 + rnd() % 200000 : rnd() % 2000;
        for (size_t k = 0; k < n; k++)
            lr_buf_append_byte(b, (uint8_t)('a' + (k * 7 + i) % 26));
        break;
    }
    case G_DISTINCT:
        snprintf(tmp, sizeof tmp, "distinct-%016" PRIx64 "-%zu", rnd(), i);
        lr_buf_append_str(b, tmp);
        break;
    default: {
        size_t n = 4 + rnd() % 16;
        for (size_t k = 0; k < n; k++)
            tmp[k] = (char)(' ' + rnd() % 95);
        lr_buf_append(b, tmp, n);
        break;
    }
    }
}

/* Writes slot `s` of a fixed-width column. */
static void gen_value(const colspec *c, size_t s, void *values)
{
    static const int32_t ext32[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1, INT32_MAX - 1};
    static const int64_t ext64[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1,
                                    (int64_t)INT32_MIN - 1, (int64_t)INT32_MAX + 1};
    static const float spf[] = {0.0f, -0.0f, 1.0f, -1.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f,
                                (float)NAN, (float)INFINITY, -(float)INFINITY, 0.1f, 3.4e38f};
    static const double spd[] = {0.0, -0.0, 1.0, -1.0, DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324,
                                 NAN, INFINITY, -INFINITY, 0.1, 1e308, 2.2250738585072009e-308};
    switch (c->k) {
    case K_I32: {
        int32_t v;
        if (c->g == G_EXTREME)
            v = ext32[rnd() % 7];
        else if (c->g == G_LOWCARD)
            v = (int32_t)(rnd() % 10) * 1000 - 3000;
        else if (c->g == G_SEQ)
            v = (int32_t)s * 3 - 1000;
        else
            v = (int32_t)(uint32_t)rnd();
        ((int32_t *)values)[s] = v;
        break;
    }
    case K_I64: {
        int64_t v;
        if (c->g == G_EXTREME)
            v = ext64[rnd() % 9];
        else if (c->g == G_LOWCARD)
            v = (int64_t)(rnd() % 7) * 1000000007LL;
        else if (c->g == G_SEQ)
            v = (int64_t)s + 10000000000LL;
        else
            v = (int64_t)rnd();
        ((int64_t *)values)[s] = v;
        break;
    }
    case K_F32: {
        float v;
        if (c->g == G_SPECIAL || c->g == G_EXTREME)
            v = spf[rnd() % 13];
        else if (c->g == G_LOWCARD)
            v = (float)(rnd() % 5) * 0.25f;
        else
            v = (float)((double)(int64_t)rnd() / 9.3e15);
        ((float *)values)[s] = v;
        break;
    }
    case K_F64: {
        double v;
        if (c->g == G_SPECIAL || c->g == G_EXTREME)
            v = spd[rnd() % 14];
        else if (c->g == G_LOWCARD)
            v = (double)(rnd() % 5) * 0.1;
        else if (c->g == G_SEQ)
            v = (double)s * 0.5;
        else
            v = (double)(int64_t)rnd() / 7.7e12;
        ((double *)values)[s] = v;
        break;
    }
    case K_BOOL:
        ((uint8_t *)values)[s] = c->g == G_LOWCARD ? (s % 50 != 0) : (uint8_t)(rnd() & 1);
        break;
    case K_TS_US: {
        int64_t v;
        if (c->g == G_EXTREME)
            v = (rnd() & 1) ? TS_MIN_US : TS_MAX_US;
        else if (c->g == G_SEQ)
            v = 1700000000000000LL + (int64_t)s * 1000123;
        else
            v = TS_MIN_US / 4 + (int64_t)(rnd() % (uint64_t)(TS_MAX_US / 2));
        ((int64_t *)values)[s] = v;
        break;
    }
    case K_TS_MS: {
        int64_t v;
        if (c->g == G_EXTREME)
            v = (rnd() & 1) ? TS_MIN_US / 1000 : TS_MAX_US / 1000;
        else if (c->g == G_SEQ)
            v = 1700000000000LL + (int64_t)s * 1001;
        else
            v = (int64_t)(rnd() % 4000000000000ULL);
        ((int64_t *)values)[s] = v;
        break;
    }
    case K_STR:
        break;
    }
}

static void gen_column(coldata *cd, const colspec *spec, uint32_t rows)
{
    size_t cap_slots = rows, s = 0;
    bool has_bytes = spec->k == K_STR;

    memset(cd, 0, sizeof *cd);
    cd->spec = *spec;
    lr_buf_init(&cd->bytes, 0);
    cd->validity = xcalloc(rows, 1);
    if (spec->list) {
        cd->list_offsets = xcalloc((size_t)rows + 1, sizeof *cd->list_offsets);
        cap_slots = (size_t)rows * 3 + 8;
    }
    cd->elem_validity = xcalloc(cap_slots, 1);
    cd->values = xcalloc(cap_slots, has_bytes ? 1 : kind_size(spec->k));
    if (has_bytes)
        cd->offsets = xcalloc(cap_slots + 1, sizeof *cd->offsets);
    for (uint32_t r = 0; r < rows; r++) {
        bool present = !spec->optional || !chance(spec->null_pct);
        size_t n = 1;
        cd->validity[r] = present;
        if (spec->list) {
            cd->list_offsets[r] = (uint32_t)s;
            n = present ? (size_t)(rnd() % 4 == 0 ? 0 : rnd() % 7) : 0;
        }
        for (size_t k = 0; k < n; k++) {
            bool ev = spec->list ? (!spec->elem_optional || !chance(20)) : present;
            if (s >= cap_slots) {
                size_t ncap = cap_slots * 2;
                cd->elem_validity = realloc(cd->elem_validity, ncap);
                cd->values = realloc(cd->values, ncap * (has_bytes ? 1 : kind_size(spec->k)));
                if (has_bytes)
                    cd->offsets = realloc(cd->offsets, (ncap + 1) * sizeof *cd->offsets);
                if (!cd->elem_validity || !cd->values || (has_bytes && !cd->offsets)) {
                    fprintf(stderr, "pq_matrix: out of memory\n");
                    exit(2);
                }
                cap_slots = ncap;
            }
            cd->elem_validity[s] = ev;
            if (has_bytes) {
                cd->offsets[s] = (uint32_t)cd->bytes.len;
                if (ev)
                    gen_string(spec->g, s, &cd->bytes);
            } else if (ev) {
                gen_value(spec, s, cd->values);
            } else {
                memset((uint8_t *)cd->values + s * kind_size(spec->k), 0, kind_size(spec->k));
            }
            s++;
        }
    }
    if (spec->list)
        cd->list_offsets[rows] = (uint32_t)s;
    if (has_bytes)
        cd->offsets[s] = (uint32_t)cd->bytes.len;
    cd->slots = s;
}

/* The bytes of string slot s (never a null pointer, even with no data at all). */
static const char *str_at(const coldata *cd, size_t s)
{
    return cd->bytes.data ? cd->bytes.data + cd->offsets[s] : "";
}

static void free_column(coldata *cd)
{
    free(cd->validity);
    free(cd->list_offsets);
    free(cd->elem_validity);
    free(cd->values);
    free(cd->offsets);
    lr_buf_free(&cd->bytes);
}

/* ---- writing ---------------------------------------------------------------- */

static lr_pq_column_def column_def(const colspec *c)
{
    lr_pq_column_def d;
    memset(&d, 0, sizeof d);
    d.name = c->name;
    d.optional = c->optional;
    d.list = c->list;
    d.element_optional = c->elem_optional;
    switch (c->k) {
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
    case K_TS_US:
    case K_TS_MS:
        d.type = LR_PQ_INT64;
        d.logical = LR_PQ_LOGICAL_TIMESTAMP;
        d.unit = c->k == K_TS_US ? LR_PQ_MICROS : LR_PQ_MILLIS;
        d.utc = true;
        break;
    }
    return d;
}

/*
 * The batch for rows [r0, r0 + n) of a column, with list and byte offsets
 * rebased to start at 0 (the scratch arrays hold the rebased copies).
 */
static lr_pq_column_batch sub_batch(const coldata *cd, uint32_t r0, uint32_t n, uint32_t *lo_tmp,
                                    uint32_t *off_tmp)
{
    lr_pq_column_batch b;
    size_t s0 = r0, s1 = (size_t)r0 + n;
    size_t es = cd->spec.k == K_STR ? 1 : kind_size(cd->spec.k);

    memset(&b, 0, sizeof b);
    if (cd->spec.optional)
        b.validity = cd->validity + r0;
    if (cd->spec.list) {
        s0 = cd->list_offsets[r0];
        s1 = cd->list_offsets[r0 + n];
        for (uint32_t i = 0; i <= n; i++)
            lo_tmp[i] = cd->list_offsets[r0 + i] - (uint32_t)s0;
        b.list_offsets = lo_tmp;
        if (cd->spec.elem_optional)
            b.elem_validity = cd->elem_validity + s0;
    }
    if (cd->spec.k == K_STR) {
        uint32_t base = cd->offsets[s0];
        for (size_t i = 0; i <= s1 - s0; i++)
            off_tmp[i] = cd->offsets[s0 + i] - base;
        b.offsets = off_tmp;
        /* All-null or all-empty string columns never allocated any bytes. */
        b.bytes = cd->bytes.data ? (const uint8_t *)cd->bytes.data + base : (const uint8_t *)"";
    } else {
        b.values = (const uint8_t *)cd->values + s0 * es;
    }
    return b;
}

static lr_status write_row_api(lr_pq_writer *w, const coldata *cols, uint32_t ncols,
                               uint32_t rows, lr_error *err)
{
    lr_status st = LR_OK;
    for (uint32_t r = 0; r < rows && st == LR_OK; r++) {
        for (uint32_t c = 0; c < ncols && st == LR_OK; c++) {
            const coldata *cd = &cols[c];
            size_t s0 = r, s1 = (size_t)r + 1;
            if (!cd->validity[r] && cd->spec.optional) {
                st = lr_pq_writer_set_null(w, c, err);
                continue;
            }
            if (cd->spec.list) {
                s0 = cd->list_offsets[r];
                s1 = cd->list_offsets[r + 1];
                st = lr_pq_writer_list_begin(w, c, err);
            }
            for (size_t s = s0; s < s1 && st == LR_OK; s++) {
                if (cd->spec.list && !cd->elem_validity[s]) {
                    st = lr_pq_writer_set_null(w, c, err);
                    continue;
                }
                switch (cd->spec.k) {
                case K_I32:
                    st = lr_pq_writer_set_i32(w, c, ((const int32_t *)cd->values)[s], err);
                    break;
                case K_I64:
                case K_TS_US:
                case K_TS_MS:
                    st = lr_pq_writer_set_i64(w, c, ((const int64_t *)cd->values)[s], err);
                    break;
                case K_F32:
                    st = lr_pq_writer_set_float(w, c, ((const float *)cd->values)[s], err);
                    break;
                case K_F64:
                    st = lr_pq_writer_set_double(w, c, ((const double *)cd->values)[s], err);
                    break;
                case K_BOOL:
                    st = lr_pq_writer_set_bool(w, c, ((const uint8_t *)cd->values)[s] != 0, err);
                    break;
                case K_STR:
                    st = lr_pq_writer_set_bytes(w, c, str_at(cd, s),
                                                cd->offsets[s + 1] - cd->offsets[s], err);
                    break;
                }
            }
            if (cd->spec.list && st == LR_OK)
                st = lr_pq_writer_list_end(w, c, err);
        }
        if (st == LR_OK)
            st = lr_pq_writer_end_row(w, err);
    }
    return st;
}

/* ---- expectations --------------------------------------------------------- */

static void put_number(lr_buf *b, double v)
{
    if (isnan(v))
        lr_buf_append_str(b, "\"NaN\"");
    else if (isinf(v))
        lr_buf_append_str(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        lr_buf_printf(b, "%.17g", v);
}

static void put_slot(lr_buf *b, const coldata *cd, size_t s)
{
    switch (cd->spec.k) {
    case K_I32:
        lr_buf_printf(b, "\"%" PRId32 "\"", ((const int32_t *)cd->values)[s]);
        break;
    case K_I64:
    case K_TS_US:
        lr_buf_printf(b, "\"%" PRId64 "\"", ((const int64_t *)cd->values)[s]);
        break;
    case K_TS_MS:
        lr_buf_printf(b, "\"%" PRId64 "\"", ((const int64_t *)cd->values)[s] * 1000);
        break;
    case K_F32:
        put_number(b, (double)((const float *)cd->values)[s]);
        break;
    case K_F64:
        put_number(b, ((const double *)cd->values)[s]);
        break;
    case K_BOOL:
        lr_buf_append_str(b, ((const uint8_t *)cd->values)[s] ? "true" : "false");
        break;
    case K_STR:
        lr_buf_append_json_str(b, str_at(cd, s),
                               cd->offsets[s + 1] - cd->offsets[s]);
        break;
    }
}

static int write_expect(const char *path, const coldata *cols, uint32_t ncols, uint32_t rows)
{
    FILE *f = fopen(path, "w");
    lr_buf line;

    if (f == NULL)
        return -1;
    lr_buf_init(&line, 0);
    for (uint32_t r = 0; r < rows; r++) {
        lr_buf_clear(&line);
        lr_buf_append_byte(&line, '[');
        for (uint32_t c = 0; c < ncols; c++) {
            const coldata *cd = &cols[c];
            if (c)
                lr_buf_append_byte(&line, ',');
            if (cd->spec.optional && !cd->validity[r]) {
                lr_buf_append_str(&line, "null");
            } else if (cd->spec.list) {
                lr_buf_append_byte(&line, '[');
                for (uint32_t s = cd->list_offsets[r]; s < cd->list_offsets[r + 1]; s++) {
                    if (s > cd->list_offsets[r])
                        lr_buf_append_byte(&line, ',');
                    if (cd->elem_validity[s])
                        put_slot(&line, cd, s);
                    else
                        lr_buf_append_str(&line, "null");
                }
                lr_buf_append_byte(&line, ']');
            } else {
                put_slot(&line, cd, r);
            }
        }
        lr_buf_append_str(&line, "]\n");
        if (fwrite(line.data, 1, line.len, f) != line.len) {
            lr_buf_free(&line);
            fclose(f);
            return -1;
        }
    }
    lr_buf_free(&line);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- the cases ------------------------------------------------------------ */

#define SCALARS(G, NP)                                                                      \
    {"i32", K_I32, false, 0, false, false, G}, {"i32_opt", K_I32, true, NP, false, false, G},    \
        {"i64", K_I64, false, 0, false, false, G},                                            \
        {"i64_opt", K_I64, true, NP, false, false, G},                                        \
        {"f32", K_F32, false, 0, false, false, G},                                            \
        {"f32_opt", K_F32, true, NP, false, false, G},                                        \
        {"f64", K_F64, false, 0, false, false, G},                                            \
        {"f64_opt", K_F64, true, NP, false, false, G},                                        \
        {"b", K_BOOL, false, 0, false, false, G}, {"b_opt", K_BOOL, true, NP, false, false, G}, \
        {"s", K_STR, false, 0, false, false, G}, {"s_opt", K_STR, true, NP, false, false, G},    \
        {"ts_us", K_TS_US, false, 0, false, false, G},                                        \
        {"ts_us_opt", K_TS_US, true, NP, false, false, G},                                    \
        {"ts_ms", K_TS_MS, false, 0, false, false, G},                                        \
        {"ts_ms_opt", K_TS_MS, true, NP, false, false, G}

static const colspec c_types[] = {SCALARS(G_RANDOM, 30)};
static const colspec c_lowcard[] = {SCALARS(G_LOWCARD, 10)};
static const colspec c_seq[] = {SCALARS(G_SEQ, 5)};
static const colspec c_extreme[] = {SCALARS(G_EXTREME, 20)};
static const colspec c_special[] = {SCALARS(G_SPECIAL, 25)};
static const colspec c_allnull[] = {
    SCALARS(G_RANDOM, 100),
    {"l_i64", K_I64, true, 100, true, true, G_RANDOM},
    {"l_s", K_STR, true, 100, true, true, G_RANDOM},
};

#define LISTS(G)                                                                     \
    {"l_i32", K_I32, true, 15, true, true, G}, {"l_i64", K_I64, true, 15, true, true, G}, \
        {"l_f32", K_F32, true, 15, true, true, G},                                   \
        {"l_f64", K_F64, true, 15, true, true, G},                                   \
        {"l_b", K_BOOL, true, 15, true, true, G}, {"l_s", K_STR, true, 15, true, true, G}, \
        {"l_ts_us", K_TS_US, true, 15, true, true, G},                               \
        {"l_ts_ms", K_TS_MS, true, 15, true, true, G},                               \
        {"lr_i64", K_I64, false, 0, true, false, G}, {"lr_s", K_STR, false, 0, true, false, G}, \
        {"lo_f64", K_F64, true, 30, true, false, G},                                 \
        {"le_s", K_STR, false, 0, true, true, G}, {"id", K_I64, false, 0, false, false, G_SEQ}

static const colspec c_lists[] = {LISTS(G_RANDOM)};
static const colspec c_lists_special[] = {LISTS(G_SPECIAL)};
static const colspec c_long[] = {
    {"id", K_I64, false, 0, false, false, G_SEQ},
    {"long", K_STR, false, 0, false, false, G_LONG},
    {"long_opt", K_STR, true, 30, false, false, G_LONG},
    {"l_long", K_STR, true, 20, true, true, G_LONG},
};
static const colspec c_fallback[] = {
    {"id", K_I64, false, 0, false, false, G_SEQ},
    {"distinct", K_STR, false, 0, false, false, G_DISTINCT},
    {"distinct_opt", K_STR, true, 20, false, false, G_DISTINCT},
    {"i64_rand", K_I64, true, 10, false, false, G_RANDOM},
    {"f64_rand", K_F64, false, 0, false, false, G_RANDOM},
    {"word", K_STR, false, 0, false, false, G_LOWCARD},
};
static const colspec c_feature[] = {
    /* The shape of an offline-store file. */
    {"record_id", K_STR, false, 0, false, false, G_SEQ},
    {"event_time", K_TS_US, false, 0, false, false, G_SEQ},
    {"f1", K_F64, true, 5, false, false, G_RANDOM},
    {"f2", K_I64, true, 5, false, false, G_LOWCARD},
    {"tags", K_STR, true, 10, true, false, G_LOWCARD},
    {"write_time", K_TS_US, false, 0, false, false, G_SEQ},
    {"api_invocation_time", K_TS_US, false, 0, false, false, G_SEQ},
    {"is_deleted", K_BOOL, false, 0, false, false, G_LOWCARD},
};

#define NC(a) (uint32_t)(sizeof a / sizeof a[0])

/* name, codec, level, rows, batch, row_api, rg_rows, rg_bytes, page_rows, page_bytes, dict, dict_bytes */
static const matrix_case cases[] = {
    {"types_none", LR_PQ_UNCOMPRESSED, 0, 2500, 1000, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_snappy", LR_PQ_SNAPPY, 0, 2500, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_gzip", LR_PQ_GZIP, 0, 2500, 777, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_zstd", LR_PQ_ZSTD, 0, 2500, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_zstd9", LR_PQ_ZSTD, 9, 2500, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_lz4raw", LR_PQ_LZ4_RAW, 0, 2500, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"types_nodict", LR_PQ_SNAPPY, 0, 2500, 0, false, 0, 0, 0, 0, 0, 0, c_types, NC(c_types)},
    {"types_rowapi", LR_PQ_ZSTD, 0, 1500, 0, true, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"lowcard_snappy", LR_PQ_SNAPPY, 0, 5000, 0, false, 0, 0, 0, 0, -1, 0, c_lowcard, NC(c_lowcard)},
    {"lowcard_nodict", LR_PQ_UNCOMPRESSED, 0, 5000, 0, false, 0, 0, 0, 0, 0, 0, c_lowcard, NC(c_lowcard)},
    {"seq_zstd", LR_PQ_ZSTD, 0, 20000, 4096, false, 0, 0, 0, 0, -1, 0, c_seq, NC(c_seq)},
    {"small_pages", LR_PQ_SNAPPY, 0, 3000, 0, false, 0, 0, 7, 0, -1, 0, c_types, NC(c_types)},
    {"small_page_bytes", LR_PQ_GZIP, 0, 3000, 500, false, 0, 0, 0, 256, -1, 0, c_types, NC(c_types)},
    {"small_rowgroups", LR_PQ_ZSTD, 0, 3000, 0, false, 333, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"tiny_rowgroups", LR_PQ_SNAPPY, 0, 50, 0, false, 1, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"rowgroup_bytes", LR_PQ_UNCOMPRESSED, 0, 6000, 1000, false, 0, 65536, 0, 4096, -1, 0, c_types, NC(c_types)},
    {"one_row", LR_PQ_SNAPPY, 0, 1, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"empty", LR_PQ_SNAPPY, 0, 0, 0, false, 0, 0, 0, 0, -1, 0, c_types, NC(c_types)},
    {"empty_lists", LR_PQ_ZSTD, 0, 0, 0, false, 0, 0, 0, 0, -1, 0, c_lists, NC(c_lists)},
    {"all_null", LR_PQ_SNAPPY, 0, 1000, 0, false, 0, 0, 0, 0, -1, 0, c_allnull, NC(c_allnull)},
    {"extremes", LR_PQ_ZSTD, 0, 2000, 0, false, 0, 0, 0, 0, -1, 0, c_extreme, NC(c_extreme)},
    {"extremes_plain", LR_PQ_UNCOMPRESSED, 0, 2000, 0, false, 0, 0, 13, 0, 0, 0, c_extreme, NC(c_extreme)},
    {"special_floats", LR_PQ_SNAPPY, 0, 2000, 0, false, 0, 0, 0, 0, -1, 0, c_special, NC(c_special)},
    {"special_nodict", LR_PQ_GZIP, 0, 2000, 0, false, 0, 0, 0, 0, 0, 0, c_special, NC(c_special)},
    {"lists_snappy", LR_PQ_SNAPPY, 0, 3000, 1000, false, 0, 0, 0, 0, -1, 0, c_lists, NC(c_lists)},
    {"lists_zstd_pages", LR_PQ_ZSTD, 0, 3000, 0, false, 400, 0, 11, 0, -1, 0, c_lists, NC(c_lists)},
    {"lists_nodict", LR_PQ_UNCOMPRESSED, 0, 2000, 0, false, 0, 0, 0, 0, 0, 0, c_lists, NC(c_lists)},
    {"lists_special", LR_PQ_GZIP, 0, 2000, 0, false, 0, 0, 0, 0, -1, 0, c_lists_special, NC(c_lists_special)},
    {"lists_rowapi", LR_PQ_SNAPPY, 0, 1000, 0, true, 0, 0, 0, 0, -1, 0, c_lists, NC(c_lists)},
    {"long_strings", LR_PQ_ZSTD, 0, 300, 0, false, 0, 0, 0, 65536, -1, 0, c_long, NC(c_long)},
    {"long_strings_none", LR_PQ_UNCOMPRESSED, 0, 120, 0, false, 50, 0, 0, 0, 0, 0, c_long, NC(c_long)},
    {"dict_fallback", LR_PQ_SNAPPY, 0, 30000, 5000, false, 0, 0, 0, 0, 1, 4096, c_fallback, NC(c_fallback)},
    {"feature_group", LR_PQ_SNAPPY, 0, 50000, 8192, false, 0, 0, 0, 0, -1, 0, c_feature, NC(c_feature)},
};

static bool small_mode;

static int run_case(const char *dir, const matrix_case *mc_in, lr_buf *manifest, bool first)
{
    matrix_case small = *mc_in;
    const matrix_case *mc = mc_in;
    lr_pq_column_def *defs;
    coldata *cols;
    lr_pq_write_options opt;
    lr_pq_writer *w = NULL;
    lr_pq_write_stats ws;
    lr_error err;
    lr_status st;
    char path[4096];
    int fd = -1, rc = 1;

    if (small_mode) {
        if (small.rows > 24)
            small.rows = 24;
        small.page_rows = 5;
        if (small.row_group_rows > 12)
            small.row_group_rows = 12;
        if (small.cols == c_long)
            return 0; /* long strings make no small seed */
        mc = &small;
    }
    defs = xcalloc(mc->ncols, sizeof *defs);
    cols = xcalloc(mc->ncols, sizeof *cols);
    /* Each case has its own seed so cases do not shift when one changes. */
    rng = 0x9e3779b97f4a7c15ull;
    for (const char *p = mc->name; *p; p++)
        rng = (rng ^ (uint8_t)*p) * 0x100000001b3ull;
    if (rng == 0)
        rng = 1;
    for (uint32_t c = 0; c < mc->ncols; c++) {
        gen_column(&cols[c], &mc->cols[c], mc->rows);
        defs[c] = column_def(&mc->cols[c]);
    }
    lr_pq_write_options_init(&opt);
    opt.codec = mc->codec;
    opt.level = mc->level;
    if (mc->row_group_rows)
        opt.row_group_rows = mc->row_group_rows;
    if (mc->row_group_bytes)
        opt.row_group_bytes = mc->row_group_bytes;
    if (mc->page_rows)
        opt.page_rows = mc->page_rows;
    if (mc->page_bytes)
        opt.page_bytes = mc->page_bytes;
    if (mc->dictionary >= 0)
        opt.dictionary = mc->dictionary != 0;
    if (mc->dictionary_bytes)
        opt.dictionary_bytes = mc->dictionary_bytes;
    {
        static const lr_pq_kv kv[] = {{"larder.matrix", "1"}, {"empty.value", ""}};
        opt.kv = kv;
        opt.n_kv = 2;
    }

    snprintf(path, sizeof path, "%s/%s.parquet", dir, mc->name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "pq_matrix: %s: %s\n", path, strerror(errno));
        goto done;
    }
    st = lr_pq_writer_open(defs, mc->ncols, &opt, lr_pq_sink_fd(fd), &w, &err);
    if (st != LR_OK)
        goto fail;
    if (mc->row_api) {
        st = write_row_api(w, cols, mc->ncols, mc->rows, &err);
    } else {
        uint32_t step = mc->batch_rows ? mc->batch_rows : (mc->rows ? mc->rows : 1);
        lr_pq_column_batch *b = xcalloc(mc->ncols, sizeof *b);
        uint32_t **lo = xcalloc(mc->ncols, sizeof *lo), **off = xcalloc(mc->ncols, sizeof *off);
        st = LR_OK;
        for (uint32_t r0 = 0; r0 < mc->rows && st == LR_OK; r0 += step) {
            uint32_t n = mc->rows - r0 < step ? mc->rows - r0 : step;
            for (uint32_t c = 0; c < mc->ncols; c++) {
                free(lo[c]);
                free(off[c]);
                lo[c] = xcalloc((size_t)n + 1, sizeof **lo);
                off[c] = xcalloc(cols[c].slots + 1, sizeof **off);
                b[c] = sub_batch(&cols[c], r0, n, lo[c], off[c]);
            }
            st = lr_pq_writer_write_batch(w, b, n, &err);
        }
        for (uint32_t c = 0; c < mc->ncols; c++) {
            free(lo[c]);
            free(off[c]);
        }
        free(lo);
        free(off);
        free(b);
    }
    if (st != LR_OK)
        goto fail;
    st = lr_pq_writer_close(w, &ws, &err);
    if (st != LR_OK)
        goto fail;
    if (ws.rows != mc->rows) {
        fprintf(stderr, "pq_matrix: %s: wrote %" PRIu64 " rows, expected %u\n", mc->name, ws.rows,
                mc->rows);
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s.expect.ndjson", dir, mc->name);
    if (write_expect(path, cols, mc->ncols, mc->rows) != 0) {
        fprintf(stderr, "pq_matrix: cannot write %s\n", path);
        goto done;
    }
    lr_buf_printf(manifest, "%s\n  {\"name\": \"%s\", \"codec\": \"%s\", \"rows\": %u, "
                            "\"row_groups\": %u, \"columns\": [",
                  first ? "" : ",", mc->name, lr_pq_codec_name(mc->codec), mc->rows,
                  ws.row_groups);
    for (uint32_t c = 0; c < mc->ncols; c++)
        lr_buf_printf(manifest, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"list\": %s, "
                                "\"optional\": %s}",
                      c ? ", " : "", mc->cols[c].name, kind_names[mc->cols[c].k],
                      mc->cols[c].list ? "true" : "false", mc->cols[c].optional ? "true" : "false");
    lr_buf_append_str(manifest, "]}");
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "pq_matrix: %s: %s: %s\n", mc->name, lr_status_name(st),
            lr_error_message(&err));
done:
    lr_pq_writer_free(w);
    if (fd >= 0)
        close(fd);
    for (uint32_t c = 0; c < mc->ncols; c++)
        free_column(&cols[c]);
    free(cols);
    free(defs);
    return rc;
}

int main(int argc, char **argv)
{
    lr_buf manifest;
    char path[4096];
    FILE *f;
    int failed = 0;
    const char *only;

    if (argc > 1 && strcmp(argv[1], "--small") == 0) {
        small_mode = true;
        argv++;
        argc--;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: pq_matrix [--small] OUTDIR [CASE]\n");
        return 2;
    }
    only = argc > 2 ? argv[2] : NULL;
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "pq_matrix: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    lr_buf_init(&manifest, 0);
    lr_buf_append_str(&manifest, "[");
    for (size_t i = 0, n = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only && strcmp(only, cases[i].name) != 0)
            continue;
        if (run_case(argv[1], &cases[i], &manifest, n == 0) != 0)
            failed++;
        else
            n++;
    }
    lr_buf_append_str(&manifest, "\n]\n");
    snprintf(path, sizeof path, "%s/manifest.json", argv[1]);
    f = fopen(path, "w");
    if (f == NULL || fwrite(manifest.data, 1, manifest.len, f) != manifest.len || fclose(f) != 0) {
        fprintf(stderr, "pq_matrix: cannot write %s\n", path);
        failed++;
    }
    lr_buf_free(&manifest);
    if (failed)
        fprintf(stderr, "pq_matrix: %d case(s) failed\n", failed);
    return failed ? 1 : 0;
}
