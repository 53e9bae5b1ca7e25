/*
 * writer.c - the Parquet writer: column batches in, a Parquet file out
 * through a sink.
 *
 * Design. Each column keeps the current data page (levels, and either PLAIN
 * values or dictionary indices) and the row group's finished pages,
 * compressed, in memory: a column chunk must start with its dictionary page,
 * which is known only when the chunk ends. When the row group reaches its
 * size, each column's dictionary page and data pages go to the sink in
 * schema order and the chunk's metadata is kept for the footer. Memory is
 * therefore about one row group, compressed, plus a page per column.
 *
 * Encodings: data page v1 only; levels as the RLE/bit-packed hybrid with a
 * 4-byte length; values PLAIN or RLE_DICTIONARY with a PLAIN dictionary page.
 * A column starts each chunk dictionary-encoded (unless disabled or boolean)
 * and falls back to PLAIN pages for the rest of the chunk when its
 * dictionary outgrows dictionary_bytes. When the chunk's first page shows
 * that the dictionary does not pay (dictionary plus indices no smaller than
 * the plain values), that page is rewritten PLAIN and the dictionary dropped,
 * as parquet-mr does.
 *
 * Statistics per chunk: null_count always; min_value/max_value by the type's
 * order (strings as unsigned bytes, truncated to LR__PQ_STATS_TRUNCATE bytes
 * with the max rounded up or left out); NaN never a bound and nan_count for
 * floating point; a zero minimum written as -0.0 and a zero maximum as +0.0.
 * In dictionary mode the bounds are updated only when an entry is added.
 *
 * Batches are processed in slices of rows across all columns, so that row
 * groups end on the same row in every column, and each column checks its
 * page size after every few hundred rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "larder/hash.h"
#include "larder/version.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/internal.h"

#define SLICE_ROWS   4096u       /* rows per slice across columns */
#define SUB_ROWS     512u        /* rows between page-size checks */
#define SUB_BYTES    (64u << 10) /* byte-array data between page-size checks */
#define ROWBUF_ROWS  4096u       /* rows the row API buffers before writing */
#define DICT_SAMPLE  1024u       /* values after which a chunk's dictionary is first judged */
#define ROWBUF_BYTES (4u << 20)
#define PAGE_MAX     ((size_t)INT32_MAX - 4096) /* a page's body must fit an i32 */
#define PAGE_HDR_MAX 96u /* room reserved for a data page header (they take about 30 bytes) */
#define STAGE_BYTES  ((size_t)1 << 20) /* small pages are gathered into writes of this size */
#define BUF_MAX      ((size_t)1 << 40) /* caps the growable buffers (the row group bounds them) */

/* ---- dictionary ---- */

typedef struct dict {
    uint32_t *slots; /* entry index + 1; 0: empty */
    uint32_t mask;
    uint32_t n;
    lr_buf data;    /* the dictionary page body (PLAIN) */
    uint32_t *offs; /* byte arrays: where entry i's bytes start in data */
    size_t offs_cap;
} dict;

static void dict_clear(dict *d)
{
    if (d->slots && d->n)
        memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
    d->n = 0;
    lr_buf_clear(&d->data);
}

static void dict_free(dict *d)
{
    free(d->slots);
    free(d->offs);
    lr_buf_free(&d->data);
}

/* ---- statistics accumulator ---- */

typedef struct wstats {
    int64_t null_count;
    int64_t nan_count;
    bool has; /* min/max hold a value */
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t b;
    } min, max;
    lr_buf bmin, bmax; /* byte arrays */
} wstats;

/* ---- row API staging ---- */

typedef struct rowcol {
    lr_buf vals;          /* fixed-width slots */
    lr_buf validity;      /* per row */
    lr_buf list_offsets;  /* per row, u32 */
    lr_buf elem_validity; /* per slot */
    lr_buf offsets;       /* per slot + 1, u32 */
    lr_buf bytes;
    uint32_t n_slots;   /* slots committed */
    uint32_t row_slot0; /* first slot of the row in progress */
    uint8_t state;      /* ROW_* */
} rowcol;

enum { ROW_UNSET = 0, ROW_SET, ROW_LIST_OPEN, ROW_LIST_DONE };

/* ---- column writer ---- */

typedef struct colw {
    lr_pq_column_def def;
    int32_t phys;
    size_t width; /* 1 (bool), 4, 8; 0 for byte arrays */
    bool is_bytes;
    uint16_t max_def, max_rep;

    /* current page */
    uint16_t *def_lv, *rep_lv;
    size_t def_cap, rep_cap;
    uint32_t n_lv;
    lr_buf plain;
    uint32_t *idx;
    size_t idx_cap;
    uint32_t n_idx;
    uint32_t page_rows;

    bool dict_on;
    bool dict_pages;   /* a data page of this chunk uses the dictionary */
    bool plain_pages;  /* a data page of this chunk is PLAIN */
    bool first_page;   /* no data page flushed yet in this chunk */
    bool dict_checked; /* the early dictionary check ran in this chunk */
    dict d;

    /* finished pages of the chunk: regions of `chunk`, with gaps between them */
    lr_buf chunk;
    struct page_region {
        size_t off;
        size_t len;
    } * pages;
    size_t pages_cap;
    uint32_t n_pages;
    int64_t chunk_values;
    int64_t chunk_uncompressed;
    int64_t chunk_compressed;

    wstats st;
    uint32_t *sel; /* slots of the non-null values of a sub-slice */
    size_t sel_cap;

    rowcol rc;
} colw;

struct lr_pq_writer {
    lr_pq_sink sink;
    lr_pq_write_options opt;
    lr_arena *arena;
    colw *cols;
    uint32_t n_cols;
    lr__pq_schema_element *schema;
    uint32_t n_schema;
    lr__pq_kv *kv;
    uint32_t n_kv;

    uint64_t offset;
    uint64_t rows;
    uint64_t rg_rows;
    lr__pq_row_group *groups;
    uint32_t n_groups, groups_cap;

    lr__pq_codec_ctx *codec;
    lr_buf body, cbuf, hdr, tmp, stage;

    uint32_t row_rows; /* rows buffered by the row API */
    size_t row_bytes;
    bool row_started; /* a set_* call since the last end_row */
    bool failed;
    bool closed;
};

/* ---- helpers ---- */

static lr_status fail(lr_pq_writer *w, lr_status st)
{
    if (st != LR_OK && st != LR_EINVAL)
        w->failed = true;
    return st;
}

static lr_status grow(void *pp, size_t *cap, size_t need, lr_error *err)
{
    void **p = pp;
    size_t ncap;
    void *np;
    if (need <= *cap)
        return LR_OK;
    if (need > BUF_MAX)
        return lr_error_set(err, LR_ELIMIT, "Parquet writer buffer over its limit");
    ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    if ((np = realloc(*p, ncap)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet");
    *p = np;
    *cap = ncap;
    return LR_OK;
}

static lr_status buf_err(lr_status st, lr_error *err)
{
    if (st == LR_OK)
        return st;
    return lr_error_set(err, st, "Parquet writer: %s", lr_strerror(st));
}

static lr_status sink_write(lr_pq_writer *w, const void *p, size_t n, lr_error *err)
{
    lr_status st;
    if (n == 0)
        return LR_OK;
    if ((st = w->sink.write(w->sink.ctx, p, n, err)) != LR_OK)
        return st;
    w->offset += n;
    return LR_OK;
}

/* ---- dictionary operations ---- */

static lr_status dict_rehash(colw *c, lr_error *err)
{
    dict *d = &c->d;
    uint32_t nsize = d->slots ? (d->mask + 1) * 2 : 1024;
    uint32_t *ns = calloc(nsize, sizeof *ns);
    if (ns == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet");
    for (uint32_t i = 0; i < d->n; i++) {
        uint64_t h;
        uint32_t pos;
        if (c->is_bytes) {
            const uint8_t *p = (const uint8_t *)d->data.data + d->offs[i];
            uint32_t len;
            memcpy(&len, p - 4, 4);
            h = lr_hash_bytes(p, len, 0);
        } else if (c->width == 4) {
            uint32_t v;
            memcpy(&v, d->data.data + (size_t)i * 4, 4);
            h = lr_mix64(v);
        } else {
            uint64_t v;
            memcpy(&v, d->data.data + (size_t)i * 8, 8);
            h = lr_mix64(v);
        }
        pos = (uint32_t)h & (nsize - 1);
        while (ns[pos])
            pos = (pos + 1) & (nsize - 1);
        ns[pos] = i + 1;
    }
    free(d->slots);
    d->slots = ns;
    d->mask = nsize - 1;
    return LR_OK;
}

/* ---- statistics ---- */

static void stats_reset(wstats *s)
{
    s->null_count = 0;
    s->nan_count = 0;
    s->has = false;
    lr_buf_clear(&s->bmin);
    lr_buf_clear(&s->bmax);
}

static void stats_i32(wstats *s, int32_t v)
{
    if (!s->has) {
        s->min.i32 = s->max.i32 = v;
        s->has = true;
    } else if (v < s->min.i32) {
        s->min.i32 = v;
    } else if (v > s->max.i32) {
        s->max.i32 = v;
    }
}

static void stats_i64(wstats *s, int64_t v)
{
    if (!s->has) {
        s->min.i64 = s->max.i64 = v;
        s->has = true;
    } else if (v < s->min.i64) {
        s->min.i64 = v;
    } else if (v > s->max.i64) {
        s->max.i64 = v;
    }
}

static void stats_f32(wstats *s, float v)
{
    if (isnan(v)) {
        s->nan_count++;
        return;
    }
    if (!s->has) {
        s->min.f32 = s->max.f32 = v;
        s->has = true;
        return;
    }
    if (v < s->min.f32)
        s->min.f32 = v;
    if (v > s->max.f32)
        s->max.f32 = v;
}

static void stats_f64(wstats *s, double v)
{
    if (isnan(v)) {
        s->nan_count++;
        return;
    }
    if (!s->has) {
        s->min.f64 = s->max.f64 = v;
        s->has = true;
        return;
    }
    if (v < s->min.f64)
        s->min.f64 = v;
    if (v > s->max.f64)
        s->max.f64 = v;
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static lr_status stats_bytes(wstats *s, const uint8_t *p, size_t n, lr_error *err)
{
    lr_status st = LR_OK;
    if (!s->has) {
        if ((st = lr_buf_append(&s->bmin, p, n)) == LR_OK)
            st = lr_buf_append(&s->bmax, p, n);
        s->has = st == LR_OK;
        return buf_err(st, err);
    }
    if (bytes_cmp(p, n, (const uint8_t *)s->bmin.data, s->bmin.len) < 0) {
        lr_buf_clear(&s->bmin);
        st = lr_buf_append(&s->bmin, p, n);
    } else if (bytes_cmp(p, n, (const uint8_t *)s->bmax.data, s->bmax.len) > 0) {
        lr_buf_clear(&s->bmax);
        st = lr_buf_append(&s->bmax, p, n);
    }
    return buf_err(st, err);
}

/* ---- appending values to the current page ---- */

static lr_status idx_push_reserve(colw *c, size_t n, lr_error *err)
{
    return grow(&c->idx, &c->idx_cap, ((size_t)c->n_idx + n) * sizeof *c->idx, err);
}

/* Fixed-width values: a template over the C type and its statistics. */
#define DEFINE_PUT_FIXED(NAME, T, UT, STATS)                                                       \
    static lr_status NAME(colw *c, const T *v, const uint32_t *sel, uint32_t n, lr_error *err)     \
    {                                                                                              \
        lr_status st;                                                                              \
        if (c->dict_on) {                                                                          \
            dict *d = &c->d;                                                                       \
            if ((st = idx_push_reserve(c, n, err)) != LR_OK)                                       \
                return st;                                                                         \
            for (uint32_t i = 0; i < n; i++) {                                                     \
                UT bits;                                                                           \
                uint32_t pos, e;                                                                   \
                memcpy(&bits, &v[sel[i]], sizeof bits);                                            \
                if ((size_t)(d->n + 1) * 2 > (size_t)d->mask + 1 || d->slots == NULL) {            \
                    if ((st = dict_rehash(c, err)) != LR_OK)                                       \
                        return st;                                                                 \
                }                                                                                  \
                pos = (uint32_t)lr_mix64(bits) & d->mask;                                          \
                for (;;) {                                                                         \
                    UT cur;                                                                        \
                    e = d->slots[pos];                                                             \
                    if (e == 0)                                                                    \
                        break;                                                                     \
                    memcpy(&cur, d->data.data + (size_t)(e - 1) * sizeof(UT), sizeof cur);         \
                    if (cur == bits)                                                               \
                        break;                                                                     \
                    pos = (pos + 1) & d->mask;                                                     \
                }                                                                                  \
                if (e == 0) {                                                                      \
                    if ((st = lr_buf_append(&d->data, &bits, sizeof bits)) != LR_OK)               \
                        return buf_err(st, err);                                                   \
                    e = ++d->n;                                                                    \
                    d->slots[pos] = e;                                                             \
                    STATS(&c->st, v[sel[i]]);                                                      \
                }                                                                                  \
                c->idx[c->n_idx++] = e - 1;                                                        \
            }                                                                                      \
            return LR_OK;                                                                          \
        }                                                                                          \
        if ((st = lr_buf_reserve(&c->plain, (size_t)n * sizeof(T))) != LR_OK)                      \
            return buf_err(st, err);                                                               \
        {                                                                                          \
            T *out = (T *)(void *)(c->plain.data + c->plain.len);                                  \
            for (uint32_t i = 0; i < n; i++) {                                                     \
                T x = v[sel[i]];                                                                   \
                out[i] = x;                                                                        \
                STATS(&c->st, x);                                                                  \
            }                                                                                      \
        }                                                                                          \
        c->plain.len += (size_t)n * sizeof(T);                                                     \
        return LR_OK;                                                                              \
    }

DEFINE_PUT_FIXED(put_i32, int32_t, uint32_t, stats_i32)
DEFINE_PUT_FIXED(put_i64, int64_t, uint64_t, stats_i64)
DEFINE_PUT_FIXED(put_f32, float, uint32_t, stats_f32)
DEFINE_PUT_FIXED(put_f64, double, uint64_t, stats_f64)

static lr_status put_bool(colw *c, const uint8_t *v, const uint32_t *sel, uint32_t n, lr_error *err)
{
    lr_status st;
    uint8_t *out;
    if ((st = lr_buf_reserve(&c->plain, n)) != LR_OK)
        return buf_err(st, err);
    out = (uint8_t *)c->plain.data + c->plain.len;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b = v[sel[i]] != 0;
        out[i] = b;
        if (!c->st.has) {
            c->st.min.b = c->st.max.b = b;
            c->st.has = true;
        } else {
            c->st.min.b &= b;
            c->st.max.b |= b;
        }
    }
    c->plain.len += n;
    return LR_OK;
}

static lr_status put_bytes(colw *c, const uint32_t *offsets, const uint8_t *bytes,
                           const uint32_t *sel, uint32_t n, lr_error *err)
{
    lr_status st;
    if (c->dict_on) {
        dict *d = &c->d;
        if ((st = idx_push_reserve(c, n, err)) != LR_OK)
            return st;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t s = sel[i], len = offsets[s + 1] - offsets[s], pos, e;
            const uint8_t *p = bytes + offsets[s];
            uint64_t h = lr_hash_bytes(p, len, 0);
            if ((size_t)(d->n + 1) * 2 > (size_t)d->mask + 1 || d->slots == NULL) {
                if ((st = dict_rehash(c, err)) != LR_OK)
                    return st;
            }
            pos = (uint32_t)h & d->mask;
            for (;;) {
                const uint8_t *q;
                uint32_t qlen;
                e = d->slots[pos];
                if (e == 0)
                    break;
                q = (const uint8_t *)d->data.data + d->offs[e - 1];
                memcpy(&qlen, q - 4, 4);
                if (qlen == len && (len == 0 || memcmp(q, p, len) == 0))
                    break;
                pos = (pos + 1) & d->mask;
            }
            if (e == 0) {
                if ((st = grow(&d->offs, &d->offs_cap, ((size_t)d->n + 1) * sizeof *d->offs,
                               err)) != LR_OK)
                    return st;
                if ((st = lr__pq_plain_put_byte_array(&d->data, p, len, err)) != LR_OK)
                    return st;
                d->offs[d->n] = (uint32_t)(d->data.len - len);
                e = ++d->n;
                d->slots[pos] = e;
                if ((st = stats_bytes(&c->st, p, len, err)) != LR_OK)
                    return st;
            }
            c->idx[c->n_idx++] = e - 1;
        }
        return LR_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = sel[i], len = offsets[s + 1] - offsets[s];
        const uint8_t *p = bytes + offsets[s];
        if ((st = lr__pq_plain_put_byte_array(&c->plain, p, len, err)) != LR_OK)
            return st;
        if ((st = stats_bytes(&c->st, p, len, err)) != LR_OK)
            return st;
    }
    return LR_OK;
}

static lr_status put_values(colw *c, const lr_pq_column_batch *b, const uint32_t *sel, uint32_t n,
                            lr_error *err)
{
    if (n == 0)
        return LR_OK;
    switch (c->phys) {
    case LR__PQ_T_BOOLEAN:
        return put_bool(c, b->bools, sel, n, err);
    case LR__PQ_T_INT32:
        return put_i32(c, b->i32, sel, n, err);
    case LR__PQ_T_INT64:
        return put_i64(c, b->i64, sel, n, err);
    case LR__PQ_T_FLOAT:
        return put_f32(c, b->f32, sel, n, err);
    case LR__PQ_T_DOUBLE:
        return put_f64(c, b->f64, sel, n, err);
    default:
        return put_bytes(c, b->offsets, b->bytes, sel, n, err);
    }
}

/* ---- pages ---- */

static size_t dict_bytes(const colw *c)
{
    return c->d.data.len;
}

static size_t page_estimate(const colw *c)
{
    size_t lv = c->n_lv / 4 + 16;
    if (c->dict_on) {
        unsigned bw = lr__pq_bit_width(c->d.n ? c->d.n - 1 : 0);
        return lv + ((size_t)c->n_idx * (bw ? bw : 1) + 7) / 8;
    }
    return lv + (c->phys == LR__PQ_T_BOOLEAN ? c->plain.len / 8 : c->plain.len);
}

/* Turns the dictionary indices of the current page back into PLAIN values. */
static lr_status indices_to_plain(colw *c, lr_error *err)
{
    lr_status st;
    lr_buf_clear(&c->plain);
    if (c->is_bytes) {
        for (uint32_t i = 0; i < c->n_idx; i++) {
            const uint8_t *q = (const uint8_t *)c->d.data.data + c->d.offs[c->idx[i]];
            uint32_t len;
            memcpy(&len, q - 4, 4);
            if ((st = lr__pq_plain_put_byte_array(&c->plain, q, len, err)) != LR_OK)
                return st;
        }
        return LR_OK;
    }
    if ((st = lr_buf_reserve(&c->plain, (size_t)c->n_idx * c->width)) != LR_OK)
        return buf_err(st, err);
    for (uint32_t i = 0; i < c->n_idx; i++)
        memcpy(c->plain.data + c->plain.len + (size_t)i * c->width,
               c->d.data.data + (size_t)c->idx[i] * c->width, c->width);
    c->plain.len += (size_t)c->n_idx * c->width;
    return LR_OK;
}

static lr_status compress_body(lr_pq_writer *w, const lr_buf *body, const lr_buf **out,
                               lr_error *err)
{
    lr_status st;
    if (w->opt.codec == LR_PQ_UNCOMPRESSED) {
        *out = body;
        return LR_OK;
    }
    lr_buf_clear(&w->cbuf);
    if ((st = lr__pq_compress(w->codec, (int)w->opt.codec, w->opt.level, body->data, body->len,
                              &w->cbuf, err)) != LR_OK)
        return st;
    if (w->cbuf.len > PAGE_MAX)
        return lr_error_set(err, LR_ELIMIT, "a compressed Parquet page is over 2 GiB");
    *out = &w->cbuf;
    return LR_OK;
}

/*
 * Whether the dictionary pays its way on the chunk's first page: when the
 * dictionary plus the indices are no smaller than the PLAIN values, the
 * page's indices become PLAIN values and the chunk continues without a
 * dictionary (as parquet-mr decides).
 */
static lr_status dict_check(colw *c, lr_error *err)
{
    size_t raw = c->is_bytes ? 0 : (size_t)c->n_idx * c->width;
    lr_status st;
    if (c->is_bytes) {
        for (uint32_t i = 0; i < c->n_idx; i++) {
            uint32_t len;
            memcpy(&len, c->d.data.data + c->d.offs[c->idx[i]] - 4, 4);
            raw += 4 + (size_t)len;
        }
    }
    if (dict_bytes(c) + page_estimate(c) < raw)
        return LR_OK;
    if ((st = indices_to_plain(c, err)) != LR_OK)
        return st;
    c->dict_on = false;
    dict_clear(&c->d);
    return LR_OK;
}

static lr_status flush_page(lr_pq_writer *w, colw *c, lr_error *err)
{
    lr__pq_page_header h;
    const lr_buf *body = &w->body;
    lr_status st;
    bool use_dict = c->dict_on;
    size_t hdr_len, gap_at, payload_at;

    if (c->n_lv == 0)
        return LR_OK;
    /* The chunk's first dictionary page is checked for paying its way. */
    if (use_dict && c->first_page) {
        if ((st = dict_check(c, err)) != LR_OK)
            return st;
        use_dict = c->dict_on;
    }
    lr_buf_clear(&w->body);
    if (c->max_rep > 0 &&
        (st = lr__pq_levels_encode_v1(c->rep_lv, c->n_lv, c->max_rep, &w->body, err)) != LR_OK)
        return st;
    if (c->max_def > 0 &&
        (st = lr__pq_levels_encode_v1(c->def_lv, c->n_lv, c->max_def, &w->body, err)) != LR_OK)
        return st;
    if (use_dict) {
        unsigned bw = lr__pq_bit_width(c->d.n ? c->d.n - 1 : 0);
        uint8_t b;
        if (bw == 0)
            bw = 1;
        b = (uint8_t)bw;
        if ((st = lr_buf_append(&w->body, &b, 1)) != LR_OK)
            return buf_err(st, err);
        if ((st = lr__pq_rle_encode_u32(c->idx, c->n_idx, bw, &w->body, err)) != LR_OK)
            return st;
    } else if (c->phys == LR__PQ_T_BOOLEAN) {
        if ((st = lr__pq_plain_encode_bool((const uint8_t *)c->plain.data, c->plain.len, &w->body,
                                           err)) != LR_OK)
            return st;
    } else if (w->body.len == 0) {
        /* No levels: the PLAIN values are the whole body, no copy needed. */
        body = &c->plain;
    } else if ((st = lr_buf_append(&w->body, c->plain.data, c->plain.len)) != LR_OK) {
        return buf_err(st, err);
    }
    if (body->len > PAGE_MAX)
        return lr_error_set(err, LR_ELIMIT, "column '%s': a Parquet page is over 2 GiB",
                            c->def.name);
    /*
     * The payload is compressed straight into the chunk after a gap wide
     * enough for any page header; the header then goes just before it. The
     * unused head of the gap is never written out (see write_pages).
     */
    gap_at = c->chunk.len;
    if ((st = lr_buf_reserve(&c->chunk, PAGE_HDR_MAX)) != LR_OK)
        return buf_err(st, err);
    c->chunk.len += PAGE_HDR_MAX;
    payload_at = c->chunk.len;
    if (w->opt.codec == LR_PQ_UNCOMPRESSED)
        st = buf_err(lr_buf_append(&c->chunk, body->data, body->len), err);
    else
        st = lr__pq_compress(w->codec, (int)w->opt.codec, w->opt.level, body->data, body->len,
                             &c->chunk, err);
    if (st == LR_OK && c->chunk.len - payload_at > PAGE_MAX)
        st = lr_error_set(err, LR_ELIMIT, "a compressed Parquet page is over 2 GiB");
    if (st != LR_OK) {
        c->chunk.len = gap_at;
        return st;
    }
    memset(&h, 0, sizeof h);
    h.type = LR__PQ_PAGE_DATA;
    h.uncompressed_page_size = (int32_t)body->len;
    h.compressed_page_size = (int32_t)(c->chunk.len - payload_at);
    h.has_data_page_header = true;
    h.data_page_header.num_values = (int32_t)c->n_lv;
    h.data_page_header.encoding = use_dict ? LR__PQ_ENC_RLE_DICTIONARY : LR__PQ_ENC_PLAIN;
    h.data_page_header.definition_level_encoding = LR__PQ_ENC_RLE;
    h.data_page_header.repetition_level_encoding = LR__PQ_ENC_RLE;
    lr_buf_clear(&w->hdr);
    if ((st = lr__pq_page_header_encode(&h, &w->hdr)) != LR_OK) {
        c->chunk.len = gap_at;
        return buf_err(st, err);
    }
    hdr_len = w->hdr.len;
    if (hdr_len > PAGE_HDR_MAX) {
        c->chunk.len = gap_at;
        return lr_error_set(err, LR_EINTERNAL, "page header of %zu bytes", hdr_len);
    }
    memcpy(c->chunk.data + payload_at - hdr_len, w->hdr.data, hdr_len);
    if ((st = grow(&c->pages, &c->pages_cap, ((size_t)c->n_pages + 1) * sizeof *c->pages, err)) !=
        LR_OK) {
        c->chunk.len = gap_at;
        return st;
    }
    c->pages[c->n_pages].off = payload_at - hdr_len;
    c->pages[c->n_pages].len = hdr_len + (c->chunk.len - payload_at);
    c->chunk_compressed += (int64_t)c->pages[c->n_pages].len;
    c->n_pages++;
    c->chunk_values += c->n_lv;
    c->chunk_uncompressed += (int64_t)(hdr_len + body->len);
    if (use_dict)
        c->dict_pages = true;
    else
        c->plain_pages = true;
    c->first_page = false;
    c->n_lv = 0;
    c->n_idx = 0;
    c->page_rows = 0;
    lr_buf_clear(&c->plain);
    return LR_OK;
}

/* ---- statistics for the footer ---- */

static bool utf8_cont(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

/* Copies a bound into the arena, truncated as the notes say. */
static lr_status stats_bound(lr_pq_writer *w, const colw *c, const uint8_t *p, size_t n,
                             bool is_max, const uint8_t **out, uint32_t *out_len, bool *exact,
                             lr_error *err)
{
    bool text = c->def.logical == LR_PQ_LOGICAL_STRING || c->def.logical == LR_PQ_LOGICAL_JSON;
    size_t cut = n;
    uint8_t *q;

    *exact = true;
    if (c->is_bytes && n > LR__PQ_STATS_TRUNCATE) {
        *exact = false;
        cut = LR__PQ_STATS_TRUNCATE;
        if (text) {
            while (cut > 0 && utf8_cont(p[cut]))
                cut--;
        }
        if (is_max) {
            /* Round up: increment the last byte that can be, dropping what follows. */
            size_t i = cut;
            while (i > 0) {
                uint8_t b = p[i - 1];
                if (text ? b < 0x7F : b < 0xFF)
                    break;
                i--;
            }
            if (i == 0) {
                *out = NULL;
                return LR_OK;
            }
            if ((q = lr_arena_alloc(w->arena, i)) == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet statistics");
            memcpy(q, p, i);
            q[i - 1]++;
            *out = q;
            *out_len = (uint32_t)i;
            return LR_OK;
        }
    }
    if ((q = lr_arena_alloc(w->arena, cut ? cut : 1)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet statistics");
    if (cut)
        memcpy(q, p, cut);
    *out = q;
    *out_len = (uint32_t)cut;
    return LR_OK;
}

static lr_status build_stats(lr_pq_writer *w, const colw *c, lr__pq_statistics *s, lr_error *err)
{
    const wstats *ws = &c->st;
    uint8_t tmin[8], tmax[8];
    const uint8_t *pmin = tmin, *pmax = tmax;
    size_t nmin = 0, nmax = 0;
    bool exact;
    lr_status st;

    memset(s, 0, sizeof *s);
    s->has_null_count = true;
    s->null_count = ws->null_count;
    if (c->phys == LR__PQ_T_FLOAT || c->phys == LR__PQ_T_DOUBLE) {
        s->has_nan_count = true;
        s->nan_count = ws->nan_count;
    }
    if (!ws->has)
        return LR_OK;
    switch (c->phys) {
    case LR__PQ_T_BOOLEAN:
        tmin[0] = ws->min.b;
        tmax[0] = ws->max.b;
        nmin = nmax = 1;
        break;
    case LR__PQ_T_INT32:
        memcpy(tmin, &ws->min.i32, 4);
        memcpy(tmax, &ws->max.i32, 4);
        nmin = nmax = 4;
        break;
    case LR__PQ_T_INT64:
        memcpy(tmin, &ws->min.i64, 8);
        memcpy(tmax, &ws->max.i64, 8);
        nmin = nmax = 8;
        break;
    case LR__PQ_T_FLOAT: {
        float mn = ws->min.f32 == 0.0f ? -0.0f : ws->min.f32;
        float mx = ws->max.f32 == 0.0f ? 0.0f : ws->max.f32;
        memcpy(tmin, &mn, 4);
        memcpy(tmax, &mx, 4);
        nmin = nmax = 4;
        break;
    }
    case LR__PQ_T_DOUBLE: {
        double mn = ws->min.f64 == 0.0 ? -0.0 : ws->min.f64;
        double mx = ws->max.f64 == 0.0 ? 0.0 : ws->max.f64;
        memcpy(tmin, &mn, 8);
        memcpy(tmax, &mx, 8);
        nmin = nmax = 8;
        break;
    }
    default:
        pmin = (const uint8_t *)ws->bmin.data;
        nmin = ws->bmin.len;
        pmax = (const uint8_t *)ws->bmax.data;
        nmax = ws->bmax.len;
        break;
    }
    if ((st = stats_bound(w, c, pmin, nmin, false, &s->min_value, &s->min_value_len, &exact,
                          err)) != LR_OK)
        return st;
    s->has_min_value = true;
    s->has_is_min_value_exact = true;
    s->is_min_value_exact = exact;
    if ((st = stats_bound(w, c, pmax, nmax, true, &s->max_value, &s->max_value_len, &exact, err)) !=
        LR_OK)
        return st;
    if (s->max_value) {
        s->has_max_value = true;
        s->has_is_max_value_exact = true;
        s->is_max_value_exact = exact;
    }
    return LR_OK;
}

/* ---- row groups ---- */

static void chunk_reset(lr_pq_writer *w, colw *c)
{
    c->dict_on = w->opt.dictionary && c->phys != LR__PQ_T_BOOLEAN;
    c->dict_pages = c->plain_pages = false;
    c->first_page = true;
    c->dict_checked = false;
    dict_clear(&c->d);
    lr_buf_clear(&c->chunk);
    c->n_pages = 0;
    c->chunk_values = 0;
    c->chunk_uncompressed = 0;
    c->chunk_compressed = 0;
    stats_reset(&c->st);
}

/*
 * Writes the chunk's data pages: large pages straight from the chunk buffer,
 * small ones gathered so that a sink sees few, large writes.
 */
static lr_status write_pages(lr_pq_writer *w, colw *c, lr_error *err)
{
    lr_status st;
    lr_buf_clear(&w->stage);
    for (uint32_t i = 0; i < c->n_pages; i++) {
        const char *p = c->chunk.data + c->pages[i].off;
        size_t n = c->pages[i].len;
        if (n >= STAGE_BYTES / 4) {
            if ((st = sink_write(w, w->stage.data, w->stage.len, err)) != LR_OK ||
                (st = sink_write(w, p, n, err)) != LR_OK)
                return st;
            lr_buf_clear(&w->stage);
            continue;
        }
        if ((st = lr_buf_append(&w->stage, p, n)) != LR_OK)
            return buf_err(st, err);
        if (w->stage.len >= STAGE_BYTES) {
            if ((st = sink_write(w, w->stage.data, w->stage.len, err)) != LR_OK)
                return st;
            lr_buf_clear(&w->stage);
        }
    }
    return sink_write(w, w->stage.data, w->stage.len, err);
}

static lr_status write_column_chunk(lr_pq_writer *w, colw *c, lr__pq_column_chunk *cc,
                                    lr_error *err)
{
    lr__pq_column_meta *m = &cc->meta_data;
    uint64_t start = w->offset;
    int64_t dict_total = 0, dict_unc = 0;
    lr_status st;
    int32_t encs[4];
    uint32_t ne = 0;

    if ((st = flush_page(w, c, err)) != LR_OK)
        return st;
    if (c->dict_pages) {
        lr__pq_page_header h;
        const lr_buf *payload = NULL;
        if (dict_bytes(c) > PAGE_MAX)
            return lr_error_set(err, LR_ELIMIT, "column '%s': dictionary page over 2 GiB",
                                c->def.name);
        if ((st = compress_body(w, &c->d.data, &payload, err)) != LR_OK)
            return st;
        memset(&h, 0, sizeof h);
        h.type = LR__PQ_PAGE_DICTIONARY;
        h.uncompressed_page_size = (int32_t)c->d.data.len;
        h.compressed_page_size = (int32_t)payload->len;
        h.has_dictionary_page_header = true;
        h.dictionary_page_header.num_values = (int32_t)c->d.n;
        h.dictionary_page_header.encoding = LR__PQ_ENC_PLAIN;
        lr_buf_clear(&w->hdr);
        if ((st = lr__pq_page_header_encode(&h, &w->hdr)) != LR_OK)
            return buf_err(st, err);
        if ((st = sink_write(w, w->hdr.data, w->hdr.len, err)) != LR_OK ||
            (st = sink_write(w, payload->data, payload->len, err)) != LR_OK)
            return st;
        dict_total = (int64_t)(w->hdr.len + payload->len);
        dict_unc = (int64_t)(w->hdr.len + c->d.data.len);
    }
    if ((st = write_pages(w, c, err)) != LR_OK)
        return st;

    memset(cc, 0, sizeof *cc);
    cc->file_offset = (int64_t)start;
    cc->has_meta_data = true;
    m->type = c->phys;
    if (c->dict_pages || c->plain_pages)
        encs[ne++] = LR__PQ_ENC_PLAIN;
    if (c->max_def > 0 || c->max_rep > 0)
        encs[ne++] = LR__PQ_ENC_RLE;
    if (c->dict_pages)
        encs[ne++] = LR__PQ_ENC_RLE_DICTIONARY;
    if (ne == 0)
        encs[ne++] = LR__PQ_ENC_PLAIN;
    if ((m->encodings = lr_arena_alloc(w->arena, ne * sizeof *m->encodings)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet metadata");
    memcpy(m->encodings, encs, ne * sizeof *encs);
    m->n_encodings = ne;
    m->n_path = c->def.list ? 3 : 1;
    if ((m->path = lr_arena_alloc(w->arena, m->n_path * sizeof *m->path)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet metadata");
    m->path[0] = c->def.name;
    if (c->def.list) {
        m->path[1] = "list";
        m->path[2] = "element";
    }
    m->codec = (int32_t)w->opt.codec;
    m->num_values = c->chunk_values;
    m->total_uncompressed_size = dict_unc + c->chunk_uncompressed;
    m->total_compressed_size = dict_total + c->chunk_compressed;
    m->data_page_offset = (int64_t)start + dict_total;
    if (c->dict_pages) {
        m->has_dictionary_page_offset = true;
        m->dictionary_page_offset = (int64_t)start;
    }
    m->has_statistics = true;
    if ((st = build_stats(w, c, &m->statistics, err)) != LR_OK)
        return st;
    return LR_OK;
}

static lr_status flush_row_group(lr_pq_writer *w, lr_error *err)
{
    lr__pq_row_group *g;
    lr_status st;

    if (w->rg_rows == 0)
        return LR_OK;
    if (w->n_groups == w->groups_cap) {
        size_t cap = w->groups_cap;
        if ((st = grow(&w->groups, &cap, ((size_t)w->groups_cap * 2 + 8) * sizeof *w->groups,
                       err)) != LR_OK)
            return st;
        w->groups_cap = (uint32_t)(cap / sizeof *w->groups);
    }
    g = &w->groups[w->n_groups];
    memset(g, 0, sizeof *g);
    if ((g->columns = lr_arena_calloc(w->arena, w->n_cols, sizeof *g->columns)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet metadata");
    g->n_columns = w->n_cols;
    g->has_file_offset = true;
    g->file_offset = (int64_t)w->offset;
    for (uint32_t i = 0; i < w->n_cols; i++) {
        colw *c = &w->cols[i];
        if ((st = write_column_chunk(w, c, &g->columns[i], err)) != LR_OK) {
            lr_error_prefix(err, "column '%s'", c->def.name);
            return st;
        }
        g->total_byte_size += g->columns[i].meta_data.total_uncompressed_size;
        g->total_compressed_size += g->columns[i].meta_data.total_compressed_size;
        chunk_reset(w, c);
    }
    g->has_total_compressed_size = true;
    g->num_rows = (int64_t)w->rg_rows;
    if (w->n_groups <= INT16_MAX) {
        g->has_ordinal = true;
        g->ordinal = (int16_t)w->n_groups;
    }
    w->n_groups++;
    w->rg_rows = 0;
    return LR_OK;
}

static size_t row_group_estimate(const lr_pq_writer *w)
{
    size_t total = 0;
    for (uint32_t i = 0; i < w->n_cols; i++) {
        const colw *c = &w->cols[i];
        total +=
            c->chunk.len + page_estimate(c) + (c->dict_on || c->dict_pages ? dict_bytes(c) : 0);
    }
    return total;
}

/* ---- appending rows ---- */

static lr_status levels_reserve(colw *c, size_t n, lr_error *err)
{
    size_t need = ((size_t)c->n_lv + n) * sizeof(uint16_t);
    lr_status st;
    if (c->max_def > 0 && (st = grow(&c->def_lv, &c->def_cap, need, err)) != LR_OK)
        return st;
    if (c->max_rep > 0 && (st = grow(&c->rep_lv, &c->rep_cap, need, err)) != LR_OK)
        return st;
    return LR_OK;
}

static lr_status sel_reserve(colw *c, size_t n, lr_error *err)
{
    return grow(&c->sel, &c->sel_cap, n * sizeof *c->sel, err);
}

/* Appends rows [r0, r0+n) of a flat column to the current page. */
static lr_status append_flat(colw *c, const lr_pq_column_batch *b, uint32_t r0, uint32_t n,
                             lr_error *err)
{
    uint32_t nsel = 0;
    lr_status st;
    if ((st = sel_reserve(c, n, err)) != LR_OK)
        return st;
    if (c->max_def > 0) {
        uint16_t *d;
        if ((st = levels_reserve(c, n, err)) != LR_OK)
            return st;
        d = c->def_lv + c->n_lv;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t v = b->validity ? b->validity[r0 + i] != 0 : 1;
            d[i] = v;
            c->sel[nsel] = r0 + i;
            nsel += v;
        }
        c->st.null_count += n - nsel;
    } else {
        for (uint32_t i = 0; i < n; i++)
            c->sel[i] = r0 + i;
        nsel = n;
    }
    c->n_lv += n;
    c->page_rows += n;
    return put_values(c, b, c->sel, nsel, err);
}

/* Appends rows [r0, r0+n) of a list column. */
static lr_status append_list(colw *c, const lr_pq_column_batch *b, uint32_t r0, uint32_t n,
                             lr_error *err)
{
    uint16_t list_def = c->def.optional ? 1 : 0;
    uint32_t slots = b->list_offsets[r0 + n] - b->list_offsets[r0];
    uint32_t nsel = 0;
    size_t entries = (size_t)slots + n;
    lr_status st;

    if ((st = levels_reserve(c, entries, err)) != LR_OK ||
        (st = sel_reserve(c, entries, err)) != LR_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = r0 + i;
        uint32_t a = b->list_offsets[r], e = b->list_offsets[r + 1];
        if (b->validity && !b->validity[r]) {
            c->rep_lv[c->n_lv] = 0;
            c->def_lv[c->n_lv++] = 0;
            c->st.null_count++;
            continue;
        }
        if (a == e) {
            c->rep_lv[c->n_lv] = 0;
            c->def_lv[c->n_lv++] = list_def;
            c->st.null_count++;
            continue;
        }
        for (uint32_t k = a; k < e; k++) {
            bool valid = !b->elem_validity || b->elem_validity[k];
            c->rep_lv[c->n_lv] = k == a ? 0 : 1;
            c->def_lv[c->n_lv++] = valid ? c->max_def : (uint16_t)(c->max_def - 1);
            c->sel[nsel] = k;
            nsel += valid;
            c->st.null_count += !valid;
        }
    }
    c->page_rows += n;
    return put_values(c, b, c->sel, nsel, err);
}

/* Bytes of byte-array data in rows [r0, r0+n) (list elements included). */
static uint64_t rows_bytes(const colw *c, const lr_pq_column_batch *b, uint32_t r0, uint32_t n)
{
    uint32_t s0 = r0, s1 = r0 + n;
    if (!c->is_bytes)
        return 0;
    if (c->def.list) {
        s0 = b->list_offsets[r0];
        s1 = b->list_offsets[r0 + n];
    }
    return (uint64_t)b->offsets[s1] - b->offsets[s0];
}

static lr_status append_rows(lr_pq_writer *w, colw *c, const lr_pq_column_batch *b, uint32_t r0,
                             uint32_t n, lr_error *err)
{
    lr_status st;
    while (n > 0) {
        uint32_t k = n < SUB_ROWS ? n : SUB_ROWS;
        if (w->opt.page_rows && k > w->opt.page_rows - c->page_rows)
            k = w->opt.page_rows - c->page_rows;
        /* Big values: fewer rows between checks, at least one. */
        while (k > 1 && rows_bytes(c, b, r0, k) > SUB_BYTES)
            k /= 2;
        if (k == 0)
            k = 1;
        st = c->def.list ? append_list(c, b, r0, k, err) : append_flat(c, b, r0, k, err);
        if (st != LR_OK)
            return st;
        /* Unique values show early: judge the dictionary after a sample. */
        if (c->dict_on && c->first_page && !c->dict_checked && c->n_idx >= DICT_SAMPLE) {
            c->dict_checked = true;
            if ((st = dict_check(c, err)) != LR_OK)
                return st;
        }
        if (c->dict_on && dict_bytes(c) > w->opt.dictionary_bytes) {
            /* Pages so far keep the dictionary; the rest of the chunk is PLAIN. */
            if ((st = flush_page(w, c, err)) != LR_OK)
                return st;
            c->dict_on = false;
        } else if (page_estimate(c) >= w->opt.page_bytes ||
                   (w->opt.page_rows && c->page_rows >= w->opt.page_rows)) {
            if ((st = flush_page(w, c, err)) != LR_OK)
                return st;
        }
        r0 += k;
        n -= k;
    }
    return LR_OK;
}

/* Checks a batch before any of it is appended, so a bad batch changes nothing. */
static lr_status validate_batch(const lr_pq_writer *w, const lr_pq_column_batch *cols,
                                uint32_t n_rows, lr_error *err)
{
    for (uint32_t i = 0; i < w->n_cols; i++) {
        const colw *c = &w->cols[i];
        const lr_pq_column_batch *b = &cols[i];
        uint32_t first = 0, slots = n_rows;
        if (b->validity && !c->def.optional) {
            for (uint32_t r = 0; r < n_rows; r++) {
                if (!b->validity[r])
                    return lr_error_set(err, LR_EINVAL,
                                        "column '%s' is required but row %u is null", c->def.name,
                                        r);
            }
        }
        if (c->def.list) {
            if (b->list_offsets == NULL)
                return lr_error_set(err, LR_EINVAL, "list column '%s' without list offsets",
                                    c->def.name);
            for (uint32_t r = 0; r < n_rows; r++) {
                if (b->list_offsets[r + 1] < b->list_offsets[r])
                    return lr_error_set(err, LR_EINVAL,
                                        "column '%s': list offsets decrease at row %u", c->def.name,
                                        r);
            }
            first = n_rows ? b->list_offsets[0] : 0;
            slots = n_rows ? b->list_offsets[n_rows] : 0;
            if (b->elem_validity && !c->def.element_optional) {
                for (uint32_t s = first; s < slots; s++) {
                    if (!b->elem_validity[s])
                        return lr_error_set(err, LR_EINVAL,
                                            "column '%s': elements are required but element %u "
                                            "is null",
                                            c->def.name, s);
                }
            }
        }
        if (c->is_bytes) {
            if (b->offsets == NULL ||
                (slots > first && b->bytes == NULL && b->offsets[slots] != b->offsets[first]))
                return lr_error_set(err, LR_EINVAL, "column '%s' without byte offsets or data",
                                    c->def.name);
            for (uint32_t s = first; s < slots; s++) {
                if (b->offsets[s + 1] < b->offsets[s])
                    return lr_error_set(err, LR_EINVAL,
                                        "column '%s': byte offsets decrease at value %u",
                                        c->def.name, s);
            }
        } else if (slots > first && b->values == NULL) {
            return lr_error_set(err, LR_EINVAL, "column '%s' without values", c->def.name);
        }
    }
    return LR_OK;
}

static lr_status write_rows(lr_pq_writer *w, const lr_pq_column_batch *cols, uint32_t n_rows,
                            lr_error *err)
{
    uint32_t done = 0;
    lr_status st;
    while (done < n_rows) {
        uint32_t k = n_rows - done < SLICE_ROWS ? n_rows - done : SLICE_ROWS;
        if (w->opt.row_group_rows && (uint64_t)k > w->opt.row_group_rows - w->rg_rows)
            k = (uint32_t)(w->opt.row_group_rows - w->rg_rows);
        for (uint32_t i = 0; i < w->n_cols; i++) {
            if ((st = append_rows(w, &w->cols[i], &cols[i], done, k, err)) != LR_OK) {
                lr_error_prefix(err, "column '%s'", w->cols[i].def.name);
                return st;
            }
        }
        done += k;
        w->rg_rows += k;
        w->rows += k;
        if ((w->opt.row_group_rows && w->rg_rows >= w->opt.row_group_rows) ||
            row_group_estimate(w) >= w->opt.row_group_bytes) {
            if ((st = flush_row_group(w, err)) != LR_OK)
                return st;
        }
    }
    return LR_OK;
}

static lr_status flush_row_buffer(lr_pq_writer *w, lr_error *err);

lr_status lr_pq_writer_write_batch(lr_pq_writer *w, const lr_pq_column_batch *columns,
                                   uint32_t n_rows, lr_error *err)
{
    lr_status st;
    if (w->failed || w->closed)
        return lr_error_set(err, LR_EINVAL, "Parquet writer is %s",
                            w->closed ? "closed" : "failed");
    if (w->row_started)
        return lr_error_set(err, LR_EINVAL, "a row is in progress (lr_pq_writer_end_row)");
    if ((st = flush_row_buffer(w, err)) != LR_OK)
        return fail(w, st);
    if (n_rows == 0)
        return LR_OK;
    if (columns == NULL && w->n_cols > 0)
        return lr_error_set(err, LR_EINVAL, "no columns given");
    if ((st = validate_batch(w, columns, n_rows, err)) != LR_OK)
        return st;
    return fail(w, write_rows(w, columns, n_rows, err));
}

/* ---- the row API ---- */

static lr_status row_col(lr_pq_writer *w, uint32_t col, int32_t phys, colw **out, lr_error *err)
{
    colw *c;
    if (w->failed || w->closed)
        return lr_error_set(err, LR_EINVAL, "Parquet writer is %s",
                            w->closed ? "closed" : "failed");
    if (col >= w->n_cols)
        return lr_error_set(err, LR_EINVAL, "no column %u (the schema has %u)", col, w->n_cols);
    c = &w->cols[col];
    if (phys >= 0 && c->phys != phys)
        return lr_error_set(err, LR_EINVAL, "column '%s' is %s, not %s", c->def.name,
                            lr__pq_type_name(c->phys), lr__pq_type_name(phys));
    if (c->def.list ? c->rc.state != ROW_LIST_OPEN : c->rc.state != ROW_UNSET)
        return lr_error_set(err, LR_EINVAL,
                            c->def.list ? "list column '%s' needs lr_pq_writer_list_begin"
                                        : "column '%s' is already set in this row",
                            c->def.name);
    *out = c;
    return LR_OK;
}

/* Appends one slot (a value or, valid == false, a null) to the staged row. */
static lr_status row_put(lr_pq_writer *w, colw *c, const void *v, size_t n, bool valid,
                         lr_error *err)
{
    rowcol *rc = &c->rc;
    lr_status st;
    uint8_t vb = valid;

    if (!valid && (c->def.list ? !c->def.element_optional : !c->def.optional))
        return lr_error_set(err, LR_EINVAL, "column '%s' is required: null not allowed",
                            c->def.name);
    if (c->is_bytes) {
        uint32_t end;
        if (n > INT32_MAX || rc->bytes.len + n > UINT32_MAX)
            return lr_error_set(err, LR_ELIMIT, "column '%s': value too large", c->def.name);
        if ((st = lr_buf_append(&rc->bytes, valid ? v : "", valid ? n : 0)) != LR_OK)
            return buf_err(st, err);
        end = (uint32_t)rc->bytes.len;
        if ((st = lr_buf_append(&rc->offsets, &end, 4)) != LR_OK)
            return buf_err(st, err);
        w->row_bytes += n;
    } else {
        uint64_t zero = 0;
        if ((st = lr_buf_append(&rc->vals, valid ? v : &zero, c->width)) != LR_OK)
            return buf_err(st, err);
    }
    if (c->def.list) {
        if ((st = lr_buf_append(&rc->elem_validity, &vb, 1)) != LR_OK)
            return buf_err(st, err);
    } else {
        if ((st = lr_buf_append(&rc->validity, &vb, 1)) != LR_OK)
            return buf_err(st, err);
        rc->state = ROW_SET;
    }
    rc->n_slots++;
    w->row_started = true;
    return LR_OK;
}

lr_status lr_pq_writer_set_null(lr_pq_writer *w, uint32_t col, lr_error *err)
{
    colw *c;
    lr_status st;
    if (col < w->n_cols && w->cols[col].def.list && w->cols[col].rc.state == ROW_UNSET) {
        /* A null list: the row's list is absent. */
        c = &w->cols[col];
        if (!c->def.optional)
            return lr_error_set(err, LR_EINVAL, "list column '%s' is required", c->def.name);
        if (w->failed || w->closed)
            return lr_error_set(err, LR_EINVAL, "Parquet writer is not writable");
        c->rc.state = ROW_LIST_DONE;
        {
            uint8_t zero = 0;
            uint32_t off = c->rc.row_slot0;
            if ((st = lr_buf_append(&c->rc.validity, &zero, 1)) != LR_OK ||
                (st = lr_buf_append(&c->rc.list_offsets, &off, 4)) != LR_OK)
                return buf_err(st, err);
        }
        w->row_started = true;
        return LR_OK;
    }
    if ((st = row_col(w, col, -1, &c, err)) != LR_OK)
        return st;
    return row_put(w, c, NULL, 0, false, err);
}

lr_status lr_pq_writer_set_bool(lr_pq_writer *w, uint32_t col, bool v, lr_error *err)
{
    colw *c;
    uint8_t b = v;
    lr_status st = row_col(w, col, LR__PQ_T_BOOLEAN, &c, err);
    return st != LR_OK ? st : row_put(w, c, &b, 1, true, err);
}

lr_status lr_pq_writer_set_i32(lr_pq_writer *w, uint32_t col, int32_t v, lr_error *err)
{
    colw *c;
    lr_status st = row_col(w, col, LR__PQ_T_INT32, &c, err);
    return st != LR_OK ? st : row_put(w, c, &v, 4, true, err);
}

lr_status lr_pq_writer_set_i64(lr_pq_writer *w, uint32_t col, int64_t v, lr_error *err)
{
    colw *c;
    lr_status st = row_col(w, col, LR__PQ_T_INT64, &c, err);
    return st != LR_OK ? st : row_put(w, c, &v, 8, true, err);
}

lr_status lr_pq_writer_set_float(lr_pq_writer *w, uint32_t col, float v, lr_error *err)
{
    colw *c;
    lr_status st = row_col(w, col, LR__PQ_T_FLOAT, &c, err);
    return st != LR_OK ? st : row_put(w, c, &v, 4, true, err);
}

lr_status lr_pq_writer_set_double(lr_pq_writer *w, uint32_t col, double v, lr_error *err)
{
    colw *c;
    lr_status st = row_col(w, col, LR__PQ_T_DOUBLE, &c, err);
    return st != LR_OK ? st : row_put(w, c, &v, 8, true, err);
}

lr_status lr_pq_writer_set_bytes(lr_pq_writer *w, uint32_t col, const void *p, size_t n,
                                 lr_error *err)
{
    colw *c;
    lr_status st = row_col(w, col, LR__PQ_T_BYTE_ARRAY, &c, err);
    return st != LR_OK ? st : row_put(w, c, p, n, true, err);
}

lr_status lr_pq_writer_list_begin(lr_pq_writer *w, uint32_t col, lr_error *err)
{
    colw *c;
    uint8_t one = 1;
    uint32_t off;
    lr_status st;
    if (w->failed || w->closed)
        return lr_error_set(err, LR_EINVAL, "Parquet writer is not writable");
    if (col >= w->n_cols)
        return lr_error_set(err, LR_EINVAL, "no column %u (the schema has %u)", col, w->n_cols);
    c = &w->cols[col];
    if (!c->def.list)
        return lr_error_set(err, LR_EINVAL, "column '%s' is not a list", c->def.name);
    if (c->rc.state != ROW_UNSET)
        return lr_error_set(err, LR_EINVAL, "column '%s' is already set in this row", c->def.name);
    off = c->rc.row_slot0;
    if ((st = lr_buf_append(&c->rc.validity, &one, 1)) != LR_OK ||
        (st = lr_buf_append(&c->rc.list_offsets, &off, 4)) != LR_OK)
        return buf_err(st, err);
    c->rc.state = ROW_LIST_OPEN;
    w->row_started = true;
    return LR_OK;
}

lr_status lr_pq_writer_list_end(lr_pq_writer *w, uint32_t col, lr_error *err)
{
    if (col >= w->n_cols || !w->cols[col].def.list || w->cols[col].rc.state != ROW_LIST_OPEN)
        return lr_error_set(err, LR_EINVAL, "no list open in column %u", col);
    w->cols[col].rc.state = ROW_LIST_DONE;
    return LR_OK;
}

static void rowcol_truncate(colw *c)
{
    rowcol *rc = &c->rc;
    rc->n_slots = rc->row_slot0;
    if (c->is_bytes) {
        uint32_t end;
        rc->offsets.len = ((size_t)rc->n_slots + 1) * 4;
        memcpy(&end, rc->offsets.data + (size_t)rc->n_slots * 4, 4);
        rc->bytes.len = end;
    } else {
        rc->vals.len = (size_t)rc->n_slots * c->width;
    }
    if (c->def.list)
        rc->elem_validity.len = rc->n_slots;
    rc->state = ROW_UNSET;
}

void lr_pq_writer_discard_row(lr_pq_writer *w)
{
    for (uint32_t i = 0; i < w->n_cols; i++) {
        colw *c = &w->cols[i];
        rowcol *rc = &c->rc;
        rowcol_truncate(c);
        rc->validity.len = w->row_rows;
        if (c->def.list)
            rc->list_offsets.len = (size_t)w->row_rows * 4;
    }
    w->row_started = false;
}

static void rowbuf_reset(lr_pq_writer *w)
{
    for (uint32_t i = 0; i < w->n_cols; i++) {
        rowcol *rc = &w->cols[i].rc;
        uint32_t zero = 0;
        lr_buf_clear(&rc->vals);
        lr_buf_clear(&rc->validity);
        lr_buf_clear(&rc->list_offsets);
        lr_buf_clear(&rc->elem_validity);
        lr_buf_clear(&rc->offsets);
        lr_buf_clear(&rc->bytes);
        /* offsets always hold the first entry; the buffer had room for it before. */
        (void)lr_buf_append(&rc->offsets, &zero, 4);
        rc->n_slots = rc->row_slot0 = 0;
        rc->state = ROW_UNSET;
    }
    w->row_rows = 0;
    w->row_bytes = 0;
}

static lr_status flush_row_buffer(lr_pq_writer *w, lr_error *err)
{
    static const uint8_t no_bytes[8];
    lr_pq_column_batch *cols = NULL;
    lr_status st;
    if (w->row_rows == 0)
        return LR_OK;
    if ((cols = calloc(w->n_cols, sizeof *cols)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory writing Parquet");
    for (uint32_t i = 0; i < w->n_cols; i++) {
        colw *c = &w->cols[i];
        rowcol *rc = &c->rc;
        lr_pq_column_batch *b = &cols[i];
        b->validity = (const uint8_t *)rc->validity.data;
        if (c->def.list) {
            uint32_t end = rc->n_slots;
            if ((st = lr_buf_append(&rc->list_offsets, &end, 4)) != LR_OK) {
                st = buf_err(st, err);
                goto done;
            }
            b->list_offsets = (const uint32_t *)(void *)rc->list_offsets.data;
            b->elem_validity = (const uint8_t *)rc->elem_validity.data;
        }
        /* Columns with no slots yet still get valid (unread) pointers. */
        if (c->is_bytes) {
            b->offsets = (const uint32_t *)(void *)rc->offsets.data;
            b->bytes = rc->bytes.data ? (const uint8_t *)rc->bytes.data : no_bytes;
        } else {
            b->values = rc->vals.data ? (const void *)rc->vals.data : (const void *)no_bytes;
        }
    }
    st = write_rows(w, cols, w->row_rows, err);
    if (st == LR_OK)
        rowbuf_reset(w);
done:
    free(cols);
    return st;
}

lr_status lr_pq_writer_end_row(lr_pq_writer *w, lr_error *err)
{
    lr_status st = LR_OK;
    if (w->failed || w->closed)
        return lr_error_set(err, LR_EINVAL, "Parquet writer is %s",
                            w->closed ? "closed" : "failed");
    for (uint32_t i = 0; i < w->n_cols && st == LR_OK; i++) {
        colw *c = &w->cols[i];
        rowcol *rc = &c->rc;
        if (rc->state == ROW_LIST_OPEN) {
            st = lr_error_set(err, LR_EINVAL, "list column '%s' was not ended", c->def.name);
        } else if (rc->state == ROW_UNSET) {
            if (c->def.list)
                st = lr_pq_writer_set_null(w, i, err);
            else
                st = row_put(w, c, NULL, 0, false, err);
        }
    }
    if (st != LR_OK) {
        if (st == LR_EINVAL || st == LR_ELIMIT)
            lr_pq_writer_discard_row(w);
        else
            w->failed = true;
        return st;
    }
    for (uint32_t i = 0; i < w->n_cols; i++) {
        rowcol *rc = &w->cols[i].rc;
        rc->row_slot0 = rc->n_slots;
        rc->state = ROW_UNSET;
    }
    w->row_rows++;
    w->row_started = false;
    if (w->row_rows >= ROWBUF_ROWS || w->row_bytes >= ROWBUF_BYTES)
        return fail(w, flush_row_buffer(w, err));
    return LR_OK;
}

uint64_t lr_pq_writer_rows(const lr_pq_writer *w)
{
    return w->rows + w->row_rows;
}

/* ---- open, close, free ---- */

static lr_status check_column(const lr_pq_column_def *c, lr_error *err)
{
    if (c->name == NULL || c->name[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "a Parquet column needs a name");
    switch (c->type) {
    case LR_PQ_BOOLEAN:
    case LR_PQ_INT32:
    case LR_PQ_INT64:
    case LR_PQ_FLOAT:
    case LR_PQ_DOUBLE:
    case LR_PQ_BYTE_ARRAY:
        break;
    default:
        return lr_error_set(err, LR_EINVAL, "column '%s': the writer does not write %s", c->name,
                            lr_pq_type_name(c->type));
    }
    if (c->list && c->depth > 1)
        return lr_error_set(err, LR_EINVAL, "column '%s': the writer does not write lists of lists",
                            c->name);
    if (!c->list && c->element_optional)
        return lr_error_set(err, LR_EINVAL, "column '%s': element_optional without list", c->name);
    return LR_OK;
}

lr_status lr_pq_writer_open(const lr_pq_column_def *columns, uint32_t n_columns,
                            const lr_pq_write_options *opt, lr_pq_sink sink, lr_pq_writer **out,
                            lr_error *err)
{
    lr_pq_writer *w;
    lr_status st;

    *out = NULL;
    if (n_columns == 0 || n_columns > LR_PQ_MAX_COLUMNS)
        return lr_error_set(err, LR_EINVAL, "a Parquet file needs 1..%u columns, not %u",
                            (unsigned)LR_PQ_MAX_COLUMNS, n_columns);
    if (sink.write == NULL)
        return lr_error_set(err, LR_EINVAL, "Parquet writer needs a sink");
    if ((w = calloc(1, sizeof *w)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
    w->sink = sink;
    if (opt)
        w->opt = *opt;
    else
        lr_pq_write_options_init(&w->opt);
    if (w->opt.page_bytes == 0)
        w->opt.page_bytes = 1u << 20;
    if (w->opt.row_group_bytes == 0)
        w->opt.row_group_bytes = (uint64_t)128 << 20;
    /* A dictionary page must fit an i32 size, with room to spare for one more slice. */
    if (w->opt.dictionary_bytes == 0 || w->opt.dictionary_bytes > (1u << 30))
        w->opt.dictionary_bytes = w->opt.dictionary_bytes ? 1u << 30 : 1u << 20;
    if (!lr__pq_codec_can_compress((int)w->opt.codec)) {
        st = lr_error_set(err, LR_EUNSUPPORTED, "the Parquet writer cannot compress with %s",
                          lr__pq_codec_name((int)w->opt.codec));
        goto fail;
    }
    lr_buf_init(&w->body, PAGE_MAX + 1);
    lr_buf_init(&w->cbuf, 0);
    lr_buf_init(&w->hdr, 0);
    lr_buf_init(&w->tmp, 0);
    lr_buf_init(&w->stage, 0);
    if ((w->arena = lr_arena_new(0, 0)) == NULL ||
        (w->cols = calloc(n_columns, sizeof *w->cols)) == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
        goto fail;
    }
    w->n_cols = n_columns;
    for (uint32_t i = 0; i < n_columns; i++) {
        colw *c = &w->cols[i];
        lr_buf_init(&c->plain, PAGE_MAX);
        lr_buf_init(&c->chunk, BUF_MAX);
        lr_buf_init(&c->d.data, PAGE_MAX);
        lr_buf_init(&c->st.bmin, 0);
        lr_buf_init(&c->st.bmax, 0);
        lr_buf_init(&c->rc.vals, 0);
        lr_buf_init(&c->rc.validity, 0);
        lr_buf_init(&c->rc.list_offsets, 0);
        lr_buf_init(&c->rc.elem_validity, 0);
        lr_buf_init(&c->rc.offsets, 0);
        lr_buf_init(&c->rc.bytes, UINT32_MAX);
    }
    for (uint32_t i = 0; i < n_columns; i++) {
        colw *c = &w->cols[i];
        if ((st = check_column(&columns[i], err)) != LR_OK)
            goto fail;
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(columns[j].name, columns[i].name) == 0) {
                st = lr_error_set(err, LR_EINVAL, "duplicate column name '%s'", columns[i].name);
                goto fail;
            }
        }
        c->def = columns[i];
        if ((c->def.name = lr_arena_strdup(w->arena, columns[i].name)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
            goto fail;
        }
        c->phys = (int32_t)c->def.type;
        c->is_bytes = c->phys == LR__PQ_T_BYTE_ARRAY;
        c->width = c->phys == LR__PQ_T_BOOLEAN                                ? 1
                   : (c->phys == LR__PQ_T_INT32 || c->phys == LR__PQ_T_FLOAT) ? 4
                   : c->is_bytes                                              ? 0
                                                                              : 8;
        if (c->def.list) {
            c->max_rep = 1;
            c->max_def =
                (uint16_t)((c->def.optional ? 1 : 0) + 1 + (c->def.element_optional ? 1 : 0));
        } else {
            c->max_def = c->def.optional ? 1 : 0;
        }
        chunk_reset(w, c);
    }
    if ((st = lr__pq_schema_build(columns, n_columns, w->arena, &w->schema, &w->n_schema, err)) !=
        LR_OK)
        goto fail;
    /* The schema must name the arena copies, not the caller's strings. */
    for (uint32_t i = 0, k = 1; i < n_columns; i++) {
        w->schema[k].name = w->cols[i].def.name;
        k += w->cols[i].def.list ? 3 : 1;
    }
    w->n_kv = w->opt.n_kv;
    if (w->n_kv) {
        if ((w->kv = lr_arena_calloc(w->arena, w->n_kv, sizeof *w->kv)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
            goto fail;
        }
        for (uint32_t i = 0; i < w->n_kv; i++) {
            const lr_pq_kv *kv = &w->opt.kv[i];
            if (kv->key == NULL) {
                st = lr_error_set(err, LR_EINVAL, "key-value metadata %u has no key", i);
                goto fail;
            }
            w->kv[i].key = lr_arena_strdup(w->arena, kv->key);
            w->kv[i].key_len = (uint32_t)strlen(kv->key);
            if (kv->value) {
                w->kv[i].value = lr_arena_strdup(w->arena, kv->value);
                w->kv[i].value_len = (uint32_t)strlen(kv->value);
            }
            if (w->kv[i].key == NULL || (kv->value && w->kv[i].value == NULL)) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
                goto fail;
            }
        }
    }
    w->opt.kv = NULL;
    if ((st = lr__pq_codec_ctx_new(&w->codec, err)) != LR_OK)
        goto fail;
    rowbuf_reset(w);
    for (uint32_t i = 0; i < n_columns; i++) {
        if (w->cols[i].rc.offsets.len != 4) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet writer");
            goto fail;
        }
    }
    if ((st = sink_write(w, LR__PQ_MAGIC, 4, err)) != LR_OK)
        goto fail;
    *out = w;
    return LR_OK;
fail:
    lr_pq_writer_free(w);
    return st;
}

lr_status lr_pq_writer_close(lr_pq_writer *w, lr_pq_write_stats *stats, lr_error *err)
{
    lr__pq_file_meta m;
    uint8_t tail[8];
    uint32_t flen;
    lr_status st;

    if (w->failed || w->closed)
        return lr_error_set(err, LR_EINVAL, "Parquet writer is %s",
                            w->closed ? "closed" : "failed");
    if (w->row_started)
        return lr_error_set(err, LR_EINVAL, "a row is in progress (lr_pq_writer_end_row)");
    if ((st = flush_row_buffer(w, err)) != LR_OK || (st = flush_row_group(w, err)) != LR_OK)
        return fail(w, st);
    memset(&m, 0, sizeof m);
    m.version = 1;
    m.schema = w->schema;
    m.n_schema = w->n_schema;
    m.num_rows = (int64_t)w->rows;
    m.row_groups = w->groups;
    m.n_row_groups = w->n_groups;
    m.kv = w->kv;
    m.n_kv = w->n_kv;
    m.created_by = LARDER_CREATED_BY;
    if ((m.column_orders = lr_arena_alloc(w->arena, w->n_cols)) == NULL)
        return fail(w, lr_error_set(err, LR_ENOMEM, "out of memory writing the Parquet footer"));
    memset(m.column_orders, LR__PQ_ORDER_TYPE_DEFINED, w->n_cols);
    m.n_column_orders = w->n_cols;
    lr_buf_clear(&w->tmp);
    if ((st = lr__pq_file_meta_encode(&m, &w->tmp)) != LR_OK)
        return fail(w, buf_err(st, err));
    if (w->tmp.len > UINT32_MAX)
        return fail(w, lr_error_set(err, LR_ELIMIT, "Parquet footer over 4 GiB"));
    flen = (uint32_t)w->tmp.len;
    tail[0] = (uint8_t)flen;
    tail[1] = (uint8_t)(flen >> 8);
    tail[2] = (uint8_t)(flen >> 16);
    tail[3] = (uint8_t)(flen >> 24);
    memcpy(tail + 4, LR__PQ_MAGIC, 4);
    if ((st = sink_write(w, w->tmp.data, w->tmp.len, err)) != LR_OK ||
        (st = sink_write(w, tail, 8, err)) != LR_OK)
        return fail(w, st);
    w->closed = true;
    if (stats) {
        stats->rows = w->rows;
        stats->bytes = w->offset;
        stats->row_groups = w->n_groups;
    }
    return LR_OK;
}

void lr_pq_writer_free(lr_pq_writer *w)
{
    if (w == NULL)
        return;
    for (uint32_t i = 0; w->cols && i < w->n_cols; i++) {
        colw *c = &w->cols[i];
        free(c->def_lv);
        free(c->rep_lv);
        free(c->idx);
        free(c->sel);
        lr_buf_free(&c->plain);
        lr_buf_free(&c->chunk);
        free(c->pages);
        dict_free(&c->d);
        lr_buf_free(&c->st.bmin);
        lr_buf_free(&c->st.bmax);
        lr_buf_free(&c->rc.vals);
        lr_buf_free(&c->rc.validity);
        lr_buf_free(&c->rc.list_offsets);
        lr_buf_free(&c->rc.elem_validity);
        lr_buf_free(&c->rc.offsets);
        lr_buf_free(&c->rc.bytes);
    }
    free(w->cols);
    free(w->groups);
    lr_buf_free(&w->body);
    lr_buf_free(&w->cbuf);
    lr_buf_free(&w->hdr);
    lr_buf_free(&w->tmp);
    lr_buf_free(&w->stage);
    lr__pq_codec_ctx_free(w->codec);
    lr_arena_free(w->arena);
    free(w);
}
