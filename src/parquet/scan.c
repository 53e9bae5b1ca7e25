/*
 * scan.c - reading column chunks into batches.
 *
 * A scan walks the selected row groups; for each it reads the projected
 * columns' chunks (one read_at each, bounded by the data region) and then
 * fills batches column by column. A column reader decodes its pages
 * lazily: the page header, then the body (decompressed only when it holds
 * bytes), then levels in chunks of LVL_CHUNK entries and values as those
 * levels ask for them. Values are decoded densely into the output and then
 * spread over the null slots in place, back to front.
 *
 * Memory per column is the chunk, one decompressed page, the dictionary
 * and the batch output; a page's declared value count is checked against
 * the bytes it occupies (LR__PQ_MAX_VALUES_PER_BYTE) and LR_PQ_MAX_PAGE_VALUES
 * so that neither memory nor work follows a hostile header.
 *
 * Rows: a flat column gives one row per level entry; a list column starts a
 * row at each repetition level 0 and peeks one entry ahead (possibly into
 * the next page) to know where a batch's last row ends.
 */
#include <stdlib.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/internal.h"

#define LVL_CHUNK          1024 /* level entries decoded at a time, per column */
#define VAL_CHUNK          4096 /* dictionary indices and lengths decoded at a time */
#define DEFAULT_BATCH_ROWS 65536u
/* Element slots one column batch may hold (list columns). */
#define MAX_BATCH_SLOTS ((size_t)64 << 20)

typedef enum lvl_mode { LVL_NONE = 0, LVL_RLE, LVL_ARRAY } lvl_mode;

typedef struct outcol {
    uint8_t *values;
    size_t values_cap;
    uint8_t *validity;
    size_t validity_cap;
    uint32_t *list_offsets;
    size_t lo_cap;
    uint8_t *elem_validity;
    size_t ev_cap;
    uint32_t *offsets;
    size_t off_cap;
    uint8_t *bytes;
    size_t bytes_cap;
    size_t bytes_len;
    uint32_t *inner_offsets; /* lists of lists */
    size_t io_cap;
    uint8_t *inner_validity;
    size_t iv_cap;
    uint32_t n_rows;
    uint32_t n_slots;
    uint32_t n_inner;
} outcol;

/* Decoding scratch, one per scan. */
struct scratch {
    uint32_t idx[VAL_CHUNK];
    int32_t len[VAL_CHUNK];
    int64_t i64[VAL_CHUNK];
};

typedef struct colr {
    const lr__pq_leaf *leaf;
    uint32_t col;
    int codec;
    size_t width; /* bytes per output value; 0 for byte arrays */
    bool is_bytes;

    lr_buf chunk;
    size_t pos;
    bool seen_data_page;
    bool any_row;

    /* dictionary */
    bool has_dict;
    lr_buf dict_page;
    void *dict_vals; /* typed values, or lr__pq_bytes views */
    size_t dict_vals_cap;
    uint32_t dict_n;

    /* current data page */
    lr_buf page;
    uint32_t page_left; /* level entries not yet decoded into the level buffer */
    int32_t enc;
    const uint8_t *vp, *vend;
    uint64_t bool_bit; /* PLAIN booleans: next bit */
    size_t data_off;   /* DELTA_LENGTH_BYTE_ARRAY: next byte after the lengths */
    bool vals_ready;   /* lazily initialised decoders are set up */
    lr__pq_rle_dec idx_dec;
    lr__pq_delta_dec delta_dec;
    lr_buf mat; /* materialised values (BYTE_STREAM_SPLIT, DELTA_BYTE_ARRAY) */
    lr_buf mat_storage;
    size_t mat_pos, mat_n;

    lvl_mode rep_mode, def_mode;
    lr__pq_rle_dec rep_dec, def_dec;
    lr_buf rep_arr, def_arr; /* BIT_PACKED levels, decoded per page */
    size_t arr_pos;

    uint16_t rep_buf[LVL_CHUNK];
    uint16_t def_buf[LVL_CHUNK];
    struct scratch *sc; /* shared by the scan's columns (filled one at a time) */
    uint32_t lb_pos, lb_n;

} colr;

struct lr_pq_scan {
    lr_pq_reader *r;
    uint32_t n_cols;
    uint32_t *cols;
    colr **cr;
    outcol *oc;
    lr_pq_column_batch *cb;
    lr_pq_batch batch;
    lr__pq_codec_ctx *codec;
    struct scratch *sc;
    lr_pq_row_group_filter filter;
    void *filter_ctx;
    uint32_t batch_rows;
    uint32_t rg_batch_rows;
    uint32_t next_rg;
    int64_t next_rg_first_row;
    bool rg_active;
    uint32_t rg;
    int64_t rg_first_row;
    int64_t rg_rows_left;
    int64_t rg_rows_done;
    bool done;
};

/* ---- small helpers ---- */

static lr_status grow(void *pp, size_t *cap, size_t need, size_t max, lr_error *err)
{
    void **p = pp;
    size_t ncap;
    void *np;
    if (need <= *cap)
        return LR_OK;
    if (need > max)
        return lr_error_set(err, LR_ELIMIT, "Parquet batch exceeds the limit of %zu bytes", max);
    ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap = ncap > max / 2 ? max : ncap * 2;
    if ((np = realloc(*p, ncap)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory reading Parquet");
    *p = np;
    *cap = ncap;
    return LR_OK;
}

static uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static lr_status corrupt(lr_error *err, const char *what)
{
    return lr_error_set(err, LR_ECORRUPT, "corrupt page data: %s", what);
}

static unsigned bit_width16(uint16_t max)
{
    return lr__pq_bit_width(max);
}

/* Reserves room in the output for `slots` more value slots and `rows` more rows. */
static lr_status out_reserve(colr *c, outcol *o, size_t rows, size_t slots, lr_error *err)
{
    size_t ns = (size_t)o->n_slots + slots, nr = (size_t)o->n_rows + rows;
    lr_status st;
    if (ns > MAX_BATCH_SLOTS)
        return lr_error_set(err, LR_ELIMIT,
                            "a Parquet batch would hold more than %zu values of one column",
                            MAX_BATCH_SLOTS);
    if (c->is_bytes) {
        if ((st = grow(&o->offsets, &o->off_cap, (ns + 1) * 4, SIZE_MAX / 2, err)) != LR_OK)
            return st;
    } else if ((st = grow(&o->values, &o->values_cap, ns * c->width + 8, SIZE_MAX / 2, err)) !=
               LR_OK) {
        return st;
    }
    if (c->leaf->max_def > 0 &&
        (st = grow(&o->validity, &o->validity_cap, nr + 1, SIZE_MAX / 2, err)) != LR_OK)
        return st;
    if (c->leaf->max_rep > 0) {
        if ((st = grow(&o->list_offsets, &o->lo_cap, (nr + 1) * 4, SIZE_MAX / 2, err)) != LR_OK)
            return st;
        if ((st = grow(&o->elem_validity, &o->ev_cap, ns + 1, SIZE_MAX / 2, err)) != LR_OK)
            return st;
    }
    if (c->leaf->max_rep > 1) {
        /* Each level entry opens at most one inner list. */
        size_t ni = (size_t)o->n_inner + slots;
        if ((st = grow(&o->inner_offsets, &o->io_cap, (ni + 1) * 4, SIZE_MAX / 2, err)) != LR_OK)
            return st;
        if ((st = grow(&o->inner_validity, &o->iv_cap, ni + 1, SIZE_MAX / 2, err)) != LR_OK)
            return st;
    }
    return LR_OK;
}

static lr_status bytes_reserve(outcol *o, size_t extra, lr_error *err)
{
    if (extra > LR_PQ_MAX_BATCH_BYTES || o->bytes_len > LR_PQ_MAX_BATCH_BYTES - extra)
        return lr_error_set(err, LR_ELIMIT,
                            "a Parquet batch would hold more than %u bytes of one column",
                            (unsigned)LR_PQ_MAX_BATCH_BYTES);
    return grow(&o->bytes, &o->bytes_cap, o->bytes_len + extra, LR_PQ_MAX_BATCH_BYTES, err);
}

static lr_status append_bytes(outcol *o, uint32_t slot, const uint8_t *p, size_t n, lr_error *err)
{
    lr_status st;
    if (o->bytes_len + n > o->bytes_cap && (st = bytes_reserve(o, n, err)) != LR_OK)
        return st;
    if (n)
        memcpy(o->bytes + o->bytes_len, p, n);
    o->bytes_len += n;
    o->offsets[slot + 1] = (uint32_t)o->bytes_len;
    return LR_OK;
}

/*
 * INT96 (Impala, Spark): nanoseconds of the day, then a Julian day as a
 * signed 32-bit number. Converted with 64-bit wrap-around as Spark and
 * arrow do, so the far-future dates Spark writes through an overflowing
 * nanosecond product come back as the microseconds Spark meant.
 */
static int64_t int96_micros(const uint8_t *p)
{
    int64_t nanos;
    int32_t day;
    uint64_t us;
    memcpy(&nanos, p, 8);
    memcpy(&day, p + 8, 4);
    us = (uint64_t)((int64_t)day - 2440588) * UINT64_C(86400000000) + (uint64_t)(nanos / 1000);
    return (int64_t)us;
}

/* ---- dictionary ---- */

static lr_status decompress_into(lr_pq_scan *s, colr *c, const uint8_t *src, size_t n, size_t usize,
                                 lr_buf *dst, const uint8_t **out, lr_error *err)
{
    lr_status st;
    if (usize == 0) {
        *out = src;
        return LR_OK;
    }
    if (c->codec == LR__PQ_CODEC_UNCOMPRESSED) {
        if (n != usize)
            return corrupt(err, "uncompressed page whose sizes differ");
        *out = src;
        return LR_OK;
    }
    st = lr__pq_decompress_buf(s->codec, c->codec, src, n, usize, dst, err);
    if (st != LR_OK)
        return st;
    *out = (const uint8_t *)dst->data;
    return LR_OK;
}

static lr_status load_dict(lr_pq_scan *s, colr *c, const lr__pq_page_header *h, const uint8_t *body,
                           lr_error *err)
{
    const lr__pq_dict_page_header *dh = &h->dictionary_page_header;
    const uint8_t *p;
    size_t n = (size_t)h->uncompressed_page_size;
    uint32_t num = (uint32_t)dh->num_values;
    lr_status st;

    if (dh->encoding != LR__PQ_ENC_PLAIN && dh->encoding != LR__PQ_ENC_PLAIN_DICTIONARY)
        return lr_error_set(err, LR_EUNSUPPORTED, "dictionary page encoded as %s",
                            lr__pq_encoding_name(dh->encoding));
    if ((st = decompress_into(s, c, body, (size_t)h->compressed_page_size, n, &c->dict_page, &p,
                              err)) != LR_OK)
        return st;
    switch (c->leaf->physical) {
    case LR__PQ_T_BOOLEAN:
        if (num > n * 8)
            return corrupt(err, "dictionary page holds fewer values than it declares");
        if ((st = grow(&c->dict_vals, &c->dict_vals_cap, (size_t)num + 1, SIZE_MAX, err)) != LR_OK)
            return st;
        st = lr__pq_plain_decode_bool(p, n, 0, c->dict_vals, num, err);
        break;
    case LR__PQ_T_INT32:
    case LR__PQ_T_FLOAT:
    case LR__PQ_T_INT64:
    case LR__PQ_T_DOUBLE:
        if ((uint64_t)num * c->width > n)
            return corrupt(err, "dictionary page holds fewer values than it declares");
        if ((st = grow(&c->dict_vals, &c->dict_vals_cap, (size_t)num * c->width + 8, SIZE_MAX,
                       err)) != LR_OK)
            return st;
        st = lr__pq_plain_decode_fixed(p, n, num, c->width, c->dict_vals, NULL, err);
        break;
    case LR__PQ_T_INT96: {
        int64_t *v;
        if ((uint64_t)num * 12 > n)
            return corrupt(err, "dictionary page holds fewer values than it declares");
        if ((st = grow(&c->dict_vals, &c->dict_vals_cap, (size_t)num * 8 + 8, SIZE_MAX, err)) !=
            LR_OK)
            return st;
        v = c->dict_vals;
        for (uint32_t i = 0; i < num; i++)
            v[i] = int96_micros(p + (size_t)i * 12);
        st = LR_OK;
        break;
    }
    case LR__PQ_T_BYTE_ARRAY:
        if ((uint64_t)num * 4 > n)
            return corrupt(err, "dictionary page holds fewer values than it declares");
        if ((st = grow(&c->dict_vals, &c->dict_vals_cap, ((size_t)num + 1) * sizeof(lr__pq_bytes),
                       SIZE_MAX, err)) != LR_OK)
            return st;
        st = lr__pq_plain_decode_byte_array(p, n, c->dict_vals, num, NULL, err);
        break;
    case LR__PQ_T_FIXED_LEN_BYTE_ARRAY:
        if ((uint64_t)num * (uint64_t)c->leaf->type_length > n)
            return corrupt(err, "dictionary page holds fewer values than it declares");
        if ((st = grow(&c->dict_vals, &c->dict_vals_cap, ((size_t)num + 1) * sizeof(lr__pq_bytes),
                       SIZE_MAX, err)) != LR_OK)
            return st;
        st = lr__pq_plain_decode_flba(p, n, (size_t)c->leaf->type_length, c->dict_vals, num, NULL,
                                      err);
        break;
    default:
        return corrupt(err, "dictionary for an unknown type");
    }
    if (st != LR_OK)
        return st;
    c->dict_n = num;
    c->has_dict = true;
    return LR_OK;
}

/* ---- data pages ---- */

static lr_status levels_v1(colr *c, uint16_t max, int32_t enc, uint32_t num, const uint8_t **p,
                           const uint8_t *end, lvl_mode *mode, lr__pq_rle_dec *dec, lr_buf *arr,
                           lr_error *err)
{
    unsigned bw = bit_width16(max);
    lr_status st;
    if (max == 0) {
        *mode = LVL_NONE;
        return LR_OK;
    }
    if (enc == LR__PQ_ENC_RLE) {
        const uint8_t *data;
        size_t dlen, consumed;
        if ((st = lr__pq_levels_v1_section(*p, (size_t)(end - *p), &data, &dlen, &consumed, err)) !=
            LR_OK)
            return st;
        if ((st = lr__pq_rle_dec_init(dec, data, dlen, bw, err)) != LR_OK)
            return st;
        *p += consumed;
        *mode = LVL_RLE;
        return LR_OK;
    }
    if (enc == LR__PQ_ENC_BIT_PACKED) {
        size_t consumed;
        /* Each level takes bw bits, so the page bounds the allocation. */
        if ((uint64_t)num * bw > (uint64_t)(end - *p) * 8)
            return corrupt(err, "BIT_PACKED levels shorter than the page's value count");
        arr->len = 0;
        if ((st = lr_buf_reserve(arr, (size_t)num * 2 + 2)) != LR_OK)
            return lr_error_set(err, st, "reading levels: %s", lr_strerror(st));
        if ((st = lr__pq_bitpacked_levels_decode(*p, (size_t)(end - *p), bw, (uint16_t *)arr->data,
                                                 num, &consumed, err)) != LR_OK)
            return st;
        *p += consumed;
        *mode = LVL_ARRAY;
        c->arr_pos = 0;
        return LR_OK;
    }
    return lr_error_set(err, LR_EUNSUPPORTED, "levels encoded as %s", lr__pq_encoding_name(enc));
}

static size_t value_width(const colr *c)
{
    switch (c->leaf->physical) {
    case LR__PQ_T_INT32:
    case LR__PQ_T_FLOAT:
        return 4;
    case LR__PQ_T_INT64:
    case LR__PQ_T_DOUBLE:
        return 8;
    case LR__PQ_T_FIXED_LEN_BYTE_ARRAY:
        return (size_t)c->leaf->type_length;
    default:
        return 0;
    }
}

/* Decoders that need the values section are set up on first use: all-null pages may have none. */
static lr_status values_setup(colr *c, lr_error *err)
{
    size_t len = (size_t)(c->vend - c->vp);
    lr_status st;
    int32_t phys = c->leaf->physical;

    switch (c->enc) {
    case LR__PQ_ENC_PLAIN:
        break;
    case LR__PQ_ENC_PLAIN_DICTIONARY:
    case LR__PQ_ENC_RLE_DICTIONARY:
        if (!c->has_dict)
            return corrupt(err, "dictionary-encoded page without a dictionary page");
        if ((st = lr__pq_rle_dec_init_dict(&c->idx_dec, c->vp, len, err)) != LR_OK)
            return st;
        break;
    case LR__PQ_ENC_RLE: {
        const uint8_t *data;
        size_t dlen, consumed;
        if (phys != LR__PQ_T_BOOLEAN)
            goto unsupported;
        if ((st = lr__pq_levels_v1_section(c->vp, len, &data, &dlen, &consumed, err)) != LR_OK)
            return st;
        if ((st = lr__pq_rle_dec_init(&c->idx_dec, data, dlen, 1, err)) != LR_OK)
            return st;
        break;
    }
    case LR__PQ_ENC_DELTA_BINARY_PACKED:
        if (phys != LR__PQ_T_INT32 && phys != LR__PQ_T_INT64)
            goto unsupported;
        /*
         * INT32 decodes through the 64-bit decoder and is narrowed: some
         * writers (DuckDB) compute INT32 deltas in 64 bits and need 33-bit
         * miniblocks, and wrap-around arithmetic gives the same low 32 bits.
         */
        if ((st = lr__pq_delta_dec_init(&c->delta_dec, c->vp, len, true, err)) != LR_OK)
            return st;
        break;
    case LR__PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        lr__pq_delta_dec walk;
        size_t end_off;
        if (phys != LR__PQ_T_BYTE_ARRAY)
            goto unsupported;
        if ((st = lr__pq_delta_dec_init(&walk, c->vp, len, false, err)) != LR_OK)
            return st;
        if ((st = lr__pq_delta_dec_end(&walk, c->vp, &end_off, err)) != LR_OK)
            return st;
        if (end_off > len)
            return corrupt(err, "DELTA_LENGTH_BYTE_ARRAY lengths run past the page");
        if ((st = lr__pq_delta_dec_init(&c->delta_dec, c->vp, len, false, err)) != LR_OK)
            return st;
        /* The lengths stream is followed by the concatenated bytes. */
        c->data_off = end_off;
        break;
    }
    case LR__PQ_ENC_DELTA_BYTE_ARRAY: {
        lr__pq_delta_dec hdr;
        uint64_t total;
        size_t consumed, cap;
        if (phys != LR__PQ_T_BYTE_ARRAY && phys != LR__PQ_T_FIXED_LEN_BYTE_ARRAY)
            goto unsupported;
        if ((st = lr__pq_delta_dec_init(&hdr, c->vp, len, false, err)) != LR_OK)
            return st;
        total = lr__pq_delta_dec_total(&hdr);
        if (total > LR_PQ_MAX_PAGE_VALUES)
            return corrupt(err, "DELTA_BYTE_ARRAY declares too many values");
        c->mat.len = 0;
        if ((st = lr_buf_reserve(&c->mat, ((size_t)total + 1) * sizeof(lr__pq_bytes))) != LR_OK)
            return lr_error_set(err, st, "decoding DELTA_BYTE_ARRAY: %s", lr_strerror(st));
        /* Prefixes can rebuild long values from short input: bound the output. */
        cap = len * 256 > ((size_t)16 << 20) ? len * 256 : ((size_t)16 << 20);
        if (cap > LR_PQ_MAX_BATCH_BYTES)
            cap = LR_PQ_MAX_BATCH_BYTES;
        c->mat_storage.max = cap;
        if ((st = lr__pq_delta_byte_array_decode(c->vp, len, (lr__pq_bytes *)c->mat.data,
                                                 (size_t)total, &c->mat_storage, &consumed, err)) !=
            LR_OK)
            return st;
        c->mat_pos = 0;
        c->mat_n = (size_t)total;
        break;
    }
    case LR__PQ_ENC_BYTE_STREAM_SPLIT: {
        size_t w = value_width(c), n;
        if (w == 0 || phys == LR__PQ_T_INT96)
            goto unsupported;
        if (len % w != 0)
            return corrupt(err, "BYTE_STREAM_SPLIT data is not a whole number of values");
        n = len / w;
        c->mat.len = 0;
        if ((st = lr_buf_reserve(&c->mat, len + 8)) != LR_OK)
            return lr_error_set(err, st, "decoding BYTE_STREAM_SPLIT: %s", lr_strerror(st));
        if ((st = lr__pq_bss_decode(c->vp, len, w, c->mat.data, n, err)) != LR_OK)
            return st;
        c->mat_pos = 0;
        c->mat_n = n;
        break;
    }
    default:
        goto unsupported;
    }
    c->vals_ready = true;
    return LR_OK;
unsupported:
    return lr_error_set(err, LR_EUNSUPPORTED, "%s values encoded as %s", lr__pq_type_name(phys),
                        lr__pq_encoding_name(c->enc));
}

static lr_status setup_data_page(lr_pq_scan *s, colr *c, const lr__pq_page_header *h,
                                 const uint8_t *body, size_t hlen, lr_error *err)
{
    const lr__pq_leaf *leaf = c->leaf;
    uint32_t num;
    const uint8_t *p, *end;
    lr_status st;

    if (h->type == LR__PQ_PAGE_DATA) {
        const lr__pq_data_page_header *dh = &h->data_page_header;
        num = (uint32_t)dh->num_values;
        if ((uint64_t)num >
                (uint64_t)LR__PQ_MAX_VALUES_PER_BYTE * ((uint64_t)h->compressed_page_size + hlen) ||
            num > LR_PQ_MAX_PAGE_VALUES)
            return corrupt(err, "page declares more values than it can hold");
        if ((st = decompress_into(s, c, body, (size_t)h->compressed_page_size,
                                  (size_t)h->uncompressed_page_size, &c->page, &p, err)) != LR_OK)
            return st;
        end = p + h->uncompressed_page_size;
        if ((st = levels_v1(c, leaf->max_rep, dh->repetition_level_encoding, num, &p, end,
                            &c->rep_mode, &c->rep_dec, &c->rep_arr, err)) != LR_OK)
            return st;
        if ((st = levels_v1(c, leaf->max_def, dh->definition_level_encoding, num, &p, end,
                            &c->def_mode, &c->def_dec, &c->def_arr, err)) != LR_OK)
            return st;
        c->enc = dh->encoding;
        c->vp = p;
        c->vend = end;
    } else {
        const lr__pq_data_page_header_v2 *dh = &h->data_page_header_v2;
        size_t rl = (size_t)dh->repetition_levels_byte_length;
        size_t dl = (size_t)dh->definition_levels_byte_length;
        size_t csize = (size_t)h->compressed_page_size, usize = (size_t)h->uncompressed_page_size;
        num = (uint32_t)dh->num_values;
        if ((uint64_t)num > (uint64_t)LR__PQ_MAX_VALUES_PER_BYTE * ((uint64_t)csize + hlen) ||
            num > LR_PQ_MAX_PAGE_VALUES)
            return corrupt(err, "page declares more values than it can hold");
        if (rl > csize || dl > csize - rl || rl + dl > usize)
            return corrupt(err, "data page v2 level lengths exceed the page");
        if (leaf->max_rep > 0) {
            if ((st = lr__pq_rle_dec_init(&c->rep_dec, body, rl, bit_width16(leaf->max_rep),
                                          err)) != LR_OK)
                return st;
            c->rep_mode = LVL_RLE;
        } else {
            c->rep_mode = LVL_NONE;
        }
        if (leaf->max_def > 0) {
            if ((st = lr__pq_rle_dec_init(&c->def_dec, body + rl, dl, bit_width16(leaf->max_def),
                                          err)) != LR_OK)
                return st;
            c->def_mode = LVL_RLE;
        } else {
            c->def_mode = LVL_NONE;
        }
        if (dh->is_compressed) {
            if ((st = decompress_into(s, c, body + rl + dl, csize - rl - dl, usize - rl - dl,
                                      &c->page, &p, err)) != LR_OK)
                return st;
        } else {
            if (csize - rl - dl != usize - rl - dl)
                return corrupt(err, "uncompressed data page v2 whose sizes differ");
            p = body + rl + dl;
        }
        c->enc = dh->encoding;
        c->vp = p;
        c->vend = p + (usize - rl - dl);
    }
    c->page_left = num;
    c->lb_pos = c->lb_n = 0;
    c->bool_bit = 0;
    c->vals_ready = false;
    c->seen_data_page = true;
    return LR_OK;
}

/* Loads the next data page. *end is set when the chunk has no more pages. */
static lr_status next_page(lr_pq_scan *s, colr *c, bool *end, lr_error *err)
{
    *end = false;
    for (;;) {
        lr__pq_page_header h;
        size_t hlen, avail;
        const uint8_t *start;
        lr_status st;

        if (c->pos >= c->chunk.len) {
            *end = true;
            return LR_OK;
        }
        start = (const uint8_t *)c->chunk.data + c->pos;
        avail = c->chunk.len - c->pos;
        if ((st = lr__pq_page_header_decode(start, avail, &h, &hlen, err)) != LR_OK)
            return st;
        if ((size_t)h.compressed_page_size > avail - hlen)
            return corrupt(err, "page runs past the end of its column chunk");
        c->pos += hlen + (size_t)h.compressed_page_size;
        switch (h.type) {
        case LR__PQ_PAGE_DICTIONARY:
            if (c->has_dict || c->seen_data_page)
                return corrupt(err, "dictionary page after the first page");
            if ((st = load_dict(s, c, &h, start + hlen, err)) != LR_OK)
                return st;
            break;
        case LR__PQ_PAGE_DATA:
        case LR__PQ_PAGE_DATA_V2:
            return setup_data_page(s, c, &h, start + hlen, hlen, err);
        default:
            /* Index pages and page types newer than this code carry no values. */
            break;
        }
    }
}

static lr_status get_levels(colr *c, lvl_mode mode, lr__pq_rle_dec *dec, lr_buf *arr, uint16_t *out,
                            uint32_t n, lr_error *err)
{
    if (mode == LVL_RLE)
        return lr__pq_rle_dec_get_u16(dec, out, n, err);
    memcpy(out, (const uint16_t *)arr->data + c->arr_pos, (size_t)n * 2);
    return LR_OK;
}

/* Decodes the next level entries of the page into the level buffer. */
static lr_status lvl_refill(colr *c, lr_error *err)
{
    uint32_t n = c->page_left < LVL_CHUNK ? c->page_left : LVL_CHUNK;
    lr_status st;
    if (c->leaf->max_rep > 0 &&
        (st = get_levels(c, c->rep_mode, &c->rep_dec, &c->rep_arr, c->rep_buf, n, err)) != LR_OK)
        return st;
    if (c->leaf->max_def > 0 &&
        (st = get_levels(c, c->def_mode, &c->def_dec, &c->def_arr, c->def_buf, n, err)) != LR_OK)
        return st;
    c->arr_pos += n;
    c->lb_pos = 0;
    c->lb_n = n;
    c->page_left -= n;
    return LR_OK;
}

/* ---- values ---- */

static lr_status gather_dict(colr *c, outcol *o, uint32_t at, const uint32_t *idx, uint32_t n,
                             lr_error *err)
{
    lr_status st;
    switch (c->leaf->physical) {
    case LR__PQ_T_BOOLEAN: {
        const uint8_t *d = c->dict_vals;
        uint8_t *out = o->values + at;
        for (uint32_t i = 0; i < n; i++)
            out[i] = d[idx[i]];
        return LR_OK;
    }
    case LR__PQ_T_INT32:
    case LR__PQ_T_FLOAT: {
        const uint32_t *d = c->dict_vals;
        uint32_t *out = (uint32_t *)(void *)(o->values + (size_t)at * 4);
        for (uint32_t i = 0; i < n; i++)
            out[i] = d[idx[i]];
        return LR_OK;
    }
    case LR__PQ_T_INT64:
    case LR__PQ_T_DOUBLE:
    case LR__PQ_T_INT96: {
        const uint64_t *d = c->dict_vals;
        uint64_t *out = (uint64_t *)(void *)(o->values + (size_t)at * 8);
        for (uint32_t i = 0; i < n; i++)
            out[i] = d[idx[i]];
        return LR_OK;
    }
    default: {
        const lr__pq_bytes *d = c->dict_vals;
        size_t total = 0;
        for (uint32_t i = 0; i < n; i++)
            total += d[idx[i]].len;
        if ((st = bytes_reserve(o, total, err)) != LR_OK)
            return st;
        for (uint32_t i = 0; i < n; i++) {
            const lr__pq_bytes *v = &d[idx[i]];
            if (v->len)
                memcpy(o->bytes + o->bytes_len, v->ptr, v->len);
            o->bytes_len += v->len;
            o->offsets[at + i + 1] = (uint32_t)o->bytes_len;
        }
        return LR_OK;
    }
    }
}

static lr_status decode_plain(colr *c, outcol *o, uint32_t at, uint32_t n, lr_error *err)
{
    size_t avail = (size_t)(c->vend - c->vp);
    lr_status st;
    switch (c->leaf->physical) {
    case LR__PQ_T_BOOLEAN:
        st = lr__pq_plain_decode_bool(c->vp, avail, c->bool_bit, o->values + at, n, err);
        c->bool_bit += n;
        return st;
    case LR__PQ_T_INT32:
    case LR__PQ_T_FLOAT:
    case LR__PQ_T_INT64:
    case LR__PQ_T_DOUBLE: {
        size_t bytes = (size_t)n * c->width;
        if (bytes > avail)
            return corrupt(err, "PLAIN values run past the end of the page");
        memcpy(o->values + (size_t)at * c->width, c->vp, bytes);
        c->vp += bytes;
        return LR_OK;
    }
    case LR__PQ_T_INT96: {
        int64_t *out = (int64_t *)(void *)(o->values + (size_t)at * 8);
        if ((uint64_t)n * 12 > avail)
            return corrupt(err, "PLAIN values run past the end of the page");
        for (uint32_t i = 0; i < n; i++) {
            out[i] = int96_micros(c->vp);
            c->vp += 12;
        }
        return LR_OK;
    }
    case LR__PQ_T_BYTE_ARRAY: {
        const uint8_t *p = c->vp, *end = c->vend;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t len;
            if (end - p < 4)
                return corrupt(err, "PLAIN byte array runs past the end of the page");
            len = le32(p);
            p += 4;
            if (len > (size_t)(end - p))
                return corrupt(err, "PLAIN byte array runs past the end of the page");
            if ((st = append_bytes(o, at + i, p, len, err)) != LR_OK)
                return st;
            p += len;
        }
        c->vp = p;
        return LR_OK;
    }
    case LR__PQ_T_FIXED_LEN_BYTE_ARRAY: {
        size_t w = (size_t)c->leaf->type_length;
        if ((uint64_t)n * w > avail)
            return corrupt(err, "PLAIN values run past the end of the page");
        if ((st = bytes_reserve(o, (size_t)n * w, err)) != LR_OK)
            return st;
        for (uint32_t i = 0; i < n; i++) {
            memcpy(o->bytes + o->bytes_len, c->vp, w);
            o->bytes_len += w;
            o->offsets[at + i + 1] = (uint32_t)o->bytes_len;
            c->vp += w;
        }
        return LR_OK;
    }
    default:
        return corrupt(err, "unknown physical type");
    }
}

/* Decodes n non-null values densely into output slots at..at+n-1. */
static lr_status decode_dense(colr *c, outcol *o, uint32_t at, uint32_t n, lr_error *err)
{
    lr_status st;
    if (n == 0)
        return LR_OK;
    if (!c->vals_ready && (st = values_setup(c, err)) != LR_OK)
        return st;
    switch (c->enc) {
    case LR__PQ_ENC_PLAIN:
        return decode_plain(c, o, at, n, err);
    case LR__PQ_ENC_PLAIN_DICTIONARY:
    case LR__PQ_ENC_RLE_DICTIONARY:
        for (uint32_t done = 0; done < n;) {
            uint32_t k = n - done < VAL_CHUNK ? n - done : VAL_CHUNK;
            if ((st = lr__pq_rle_dec_get_indices(&c->idx_dec, c->sc->idx, k, c->dict_n, err)) !=
                LR_OK)
                return st;
            if ((st = gather_dict(c, o, at + done, c->sc->idx, k, err)) != LR_OK)
                return st;
            done += k;
        }
        return LR_OK;
    case LR__PQ_ENC_RLE:
        for (uint32_t done = 0; done < n;) {
            uint32_t k = n - done < VAL_CHUNK ? n - done : VAL_CHUNK;
            if ((st = lr__pq_rle_dec_get_u32(&c->idx_dec, c->sc->idx, k, err)) != LR_OK)
                return st;
            for (uint32_t i = 0; i < k; i++)
                o->values[at + done + i] = (uint8_t)(c->sc->idx[i] & 1);
            done += k;
        }
        return LR_OK;
    case LR__PQ_ENC_DELTA_BINARY_PACKED:
        if (c->leaf->physical == LR__PQ_T_INT32) {
            int32_t *out = (int32_t *)(void *)(o->values + (size_t)at * 4);
            for (uint32_t done = 0; done < n;) {
                uint32_t k = n - done < VAL_CHUNK ? n - done : VAL_CHUNK;
                if ((st = lr__pq_delta_dec_get_i64(&c->delta_dec, c->sc->i64, k, err)) != LR_OK)
                    return st;
                for (uint32_t i = 0; i < k; i++)
                    out[done + i] = (int32_t)(uint32_t)(uint64_t)c->sc->i64[i];
                done += k;
            }
            return LR_OK;
        }
        return lr__pq_delta_dec_get_i64(&c->delta_dec,
                                        (int64_t *)(void *)(o->values + (size_t)at * 8), n, err);
    case LR__PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        for (uint32_t done = 0; done < n;) {
            uint32_t k = n - done < VAL_CHUNK ? n - done : VAL_CHUNK;
            size_t avail = (size_t)(c->vend - c->vp);
            if ((st = lr__pq_delta_dec_get_i32(&c->delta_dec, c->sc->len, k, err)) != LR_OK)
                return st;
            for (uint32_t i = 0; i < k; i++) {
                int32_t len = c->sc->len[i];
                if (len < 0 || (size_t)len > avail - c->data_off)
                    return corrupt(err, "DELTA_LENGTH_BYTE_ARRAY length past the data");
                if ((st = append_bytes(o, at + done + i, c->vp + c->data_off, (size_t)len, err)) !=
                    LR_OK)
                    return st;
                c->data_off += (size_t)len;
            }
            done += k;
        }
        return LR_OK;
    case LR__PQ_ENC_DELTA_BYTE_ARRAY: {
        const lr__pq_bytes *v = (const lr__pq_bytes *)c->mat.data;
        if (c->mat_n - c->mat_pos < n)
            return corrupt(err, "page holds fewer values than its levels say");
        for (uint32_t i = 0; i < n; i++) {
            const lr__pq_bytes *b = &v[c->mat_pos + i];
            if (c->leaf->physical == LR__PQ_T_FIXED_LEN_BYTE_ARRAY &&
                b->len != (uint32_t)c->leaf->type_length)
                return corrupt(err, "DELTA_BYTE_ARRAY value of the wrong fixed length");
            if ((st = append_bytes(o, at + i, b->ptr, b->len, err)) != LR_OK)
                return st;
        }
        c->mat_pos += n;
        return LR_OK;
    }
    case LR__PQ_ENC_BYTE_STREAM_SPLIT: {
        size_t w = value_width(c);
        const uint8_t *src = (const uint8_t *)c->mat.data + c->mat_pos * w;
        if (c->mat_n - c->mat_pos < n)
            return corrupt(err, "page holds fewer values than its levels say");
        if (c->is_bytes) {
            for (uint32_t i = 0; i < n; i++) {
                if ((st = append_bytes(o, at + i, src + (size_t)i * w, w, err)) != LR_OK)
                    return st;
            }
        } else {
            memcpy(o->values + (size_t)at * w, src, (size_t)n * w);
        }
        c->mat_pos += n;
        return LR_OK;
    }
    default:
        return corrupt(err, "unsupported encoding");
    }
}

/*
 * Spreads n_valid dense values at slots at.. over k slots following
 * valid[0..k), back to front (in place: a dense index never exceeds its slot).
 */
static void scatter(colr *c, outcol *o, uint32_t at, uint32_t k, uint32_t n_valid,
                    const uint8_t *valid)
{
    uint32_t j = n_valid;
    if (n_valid == k)
        return;
    if (c->is_bytes) {
        uint32_t *off = o->offsets + at;
        for (uint32_t i = k; i-- > 0;) {
            off[i + 1] = off[j];
            if (valid[i])
                j--;
        }
        return;
    }
    switch (c->width) {
    case 1: {
        uint8_t *v = o->values + at;
        for (uint32_t i = k; i-- > 0;)
            v[i] = valid[i] ? v[--j] : 0;
        break;
    }
    case 4: {
        uint32_t *v = (uint32_t *)(void *)(o->values + (size_t)at * 4);
        for (uint32_t i = k; i-- > 0;)
            v[i] = valid[i] ? v[--j] : 0;
        break;
    }
    default: {
        uint64_t *v = (uint64_t *)(void *)(o->values + (size_t)at * 8);
        for (uint32_t i = k; i-- > 0;)
            v[i] = valid[i] ? v[--j] : 0;
        break;
    }
    }
}

/* ---- filling a column ---- */

static lr_status need_page(lr_pq_scan *s, colr *c, bool *end, lr_error *err)
{
    lr_status st;
    *end = false;
    while (c->lb_pos == c->lb_n && (c->leaf->max_def > 0 || c->leaf->max_rep > 0)) {
        if (c->page_left == 0) {
            if ((st = next_page(s, c, end, err)) != LR_OK || *end)
                return st;
            continue;
        }
        return lvl_refill(c, err);
    }
    return LR_OK;
}

static lr_status fill_flat(lr_pq_scan *s, colr *c, outcol *o, uint32_t rows, lr_error *err)
{
    const lr__pq_leaf *leaf = c->leaf;
    lr_status st;
    bool end;

    while (rows > 0) {
        uint32_t k;
        if (leaf->max_def == 0) {
            if (c->page_left == 0) {
                if ((st = next_page(s, c, &end, err)) != LR_OK)
                    return st;
                if (end)
                    return corrupt(err, "column chunk has fewer values than its row group's rows");
                continue;
            }
            k = rows < c->page_left ? rows : c->page_left;
            if ((st = out_reserve(c, o, k, k, err)) != LR_OK)
                return st;
            if ((st = decode_dense(c, o, o->n_slots, k, err)) != LR_OK)
                return st;
            c->page_left -= k;
        } else {
            const uint16_t *d;
            uint8_t *valid;
            uint32_t nn = 0, bad = 0;
            if ((st = need_page(s, c, &end, err)) != LR_OK)
                return st;
            if (end)
                return corrupt(err, "column chunk has fewer values than its row group's rows");
            k = c->lb_n - c->lb_pos;
            if (k > rows)
                k = rows;
            if ((st = out_reserve(c, o, k, k, err)) != LR_OK)
                return st;
            d = c->def_buf + c->lb_pos;
            valid = o->validity + o->n_rows;
            for (uint32_t i = 0; i < k; i++) {
                uint8_t v = d[i] == leaf->max_def;
                valid[i] = v;
                nn += v;
                bad |= d[i] > leaf->max_def;
            }
            if (bad)
                return corrupt(err, "definition level above the column's maximum");
            if ((st = decode_dense(c, o, o->n_slots, nn, err)) != LR_OK)
                return st;
            scatter(c, o, o->n_slots, k, nn, valid);
            c->lb_pos += k;
        }
        o->n_rows += k;
        o->n_slots += k;
        rows -= k;
    }
    return LR_OK;
}

static lr_status fill_list(lr_pq_scan *s, colr *c, outcol *o, uint32_t rows, lr_error *err)
{
    const lr__pq_leaf *leaf = c->leaf;
    uint32_t started = 0;
    lr_status st;
    bool end, stop = false;
    uint16_t list_def = (uint16_t)(leaf->rep_def - 1);

    while (!stop) {
        uint32_t i, slot_start, nn = 0, avail;
        if ((st = need_page(s, c, &end, err)) != LR_OK)
            return st;
        if (end) {
            if (started < rows)
                return corrupt(err, "column chunk has fewer rows than its row group");
            break;
        }
        avail = c->lb_n - c->lb_pos;
        if ((st = out_reserve(c, o, avail, avail, err)) != LR_OK)
            return st;
        slot_start = o->n_slots;
        for (i = c->lb_pos; i < c->lb_n; i++) {
            uint16_t r = leaf->max_rep > 0 ? c->rep_buf[i] : 0;
            uint16_t d = leaf->max_def > 0 ? c->def_buf[i] : 0;
            if (r > leaf->max_rep || d > leaf->max_def)
                return corrupt(err, "level above the column's maximum");
            if (r == 0) {
                if (started == rows) {
                    stop = true;
                    break;
                }
                started++;
                c->any_row = true;
                o->list_offsets[o->n_rows] = o->n_slots;
                if (o->validity)
                    o->validity[o->n_rows] = d >= list_def;
                o->n_rows++;
            } else if (!c->any_row || o->n_rows == 0) {
                return corrupt(err, "first value of a column chunk continues a list");
            } else if (d < leaf->rep_def || o->list_offsets[o->n_rows - 1] == o->n_slots) {
                /* A repeated value is an element of a list that has one already. */
                return corrupt(err, "repeated value continues a null or empty list");
            }
            if (d >= leaf->rep_def) {
                uint8_t v = d == leaf->max_def;
                o->elem_validity[o->n_slots++] = v;
                nn += v;
            }
        }
        if ((st = decode_dense(c, o, slot_start, nn, err)) != LR_OK)
            return st;
        scatter(c, o, slot_start, o->n_slots - slot_start, nn, o->elem_validity + slot_start);
        c->lb_pos = i;
    }
    o->list_offsets[o->n_rows] = o->n_slots;
    return LR_OK;
}

/*
 * Lists of lists: repetition level 0 starts a row (and its outer list), 1
 * starts an inner list in the current outer list, 2 adds an element to the
 * current inner list. rep_def and rep_def2 are the definition levels at
 * which the outer and inner lists have an item.
 */
static lr_status fill_list2(lr_pq_scan *s, colr *c, outcol *o, uint32_t rows, lr_error *err)
{
    const lr__pq_leaf *leaf = c->leaf;
    uint16_t d1 = leaf->rep_def, d2 = leaf->rep_def2;
    uint32_t started = 0;
    lr_status st;
    bool end, stop = false;

    while (!stop) {
        uint32_t i, slot_start, nn = 0, avail;
        if ((st = need_page(s, c, &end, err)) != LR_OK)
            return st;
        if (end) {
            if (started < rows)
                return corrupt(err, "column chunk has fewer rows than its row group");
            break;
        }
        avail = c->lb_n - c->lb_pos;
        if ((st = out_reserve(c, o, avail, avail, err)) != LR_OK)
            return st;
        slot_start = o->n_slots;
        for (i = c->lb_pos; i < c->lb_n; i++) {
            uint16_t r = c->rep_buf[i];
            uint16_t d = c->def_buf[i];
            if (r > 2 || d > leaf->max_def)
                return corrupt(err, "level above the column's maximum");
            if (r == 0) {
                if (started == rows) {
                    stop = true;
                    break;
                }
                started++;
                c->any_row = true;
                o->list_offsets[o->n_rows] = o->n_inner;
                if (o->validity)
                    o->validity[o->n_rows] = d + 1 >= d1;
                o->n_rows++;
            } else if (!c->any_row || o->n_rows == 0) {
                return corrupt(err, "first value of a column chunk continues a list");
            }
            if (r <= 1 && d >= d1) {
                o->inner_offsets[o->n_inner] = o->n_slots;
                o->inner_validity[o->n_inner] = d + 1 >= d2;
                o->n_inner++;
            } else if (r == 2 && o->n_inner == 0) {
                return corrupt(err, "element outside any inner list");
            }
            if (d >= d2) {
                uint8_t v = d == leaf->max_def;
                o->elem_validity[o->n_slots++] = v;
                nn += v;
            }
        }
        if ((st = decode_dense(c, o, slot_start, nn, err)) != LR_OK)
            return st;
        scatter(c, o, slot_start, o->n_slots - slot_start, nn, o->elem_validity + slot_start);
        c->lb_pos = i;
    }
    o->list_offsets[o->n_rows] = o->n_inner;
    o->inner_offsets[o->n_inner] = o->n_slots;
    return LR_OK;
}

/* ---- chunks and row groups ---- */

static lr_status chunk_start(lr_pq_scan *s, colr *c, uint32_t rg, lr_error *err)
{
    const lr_pq_reader *r = s->r;
    const lr__pq_column_meta *cm = &r->meta.row_groups[rg].columns[c->col].meta_data;
    int64_t start = cm->data_page_offset, len = cm->total_compressed_size;
    lr_status st;

    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset >= 4 &&
        cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    if (start < 4 || (uint64_t)start >= r->data_end ||
        (uint64_t)len > r->data_end - (uint64_t)start)
        return lr_error_set(err, LR_ECORRUPT,
                            "corrupt Parquet footer: column chunk at %lld (%lld bytes) lies "
                            "outside the data",
                            (long long)start, (long long)len);
    if (!lr__pq_codec_can_decompress(cm->codec))
        return lr_error_set(err, LR_EUNSUPPORTED, "codec %s is not supported",
                            lr__pq_codec_name(cm->codec));
    c->codec = cm->codec;
    c->chunk.len = 0;
    c->chunk.max = (size_t)len;
    if ((st = lr_buf_reserve(&c->chunk, (size_t)len)) != LR_OK)
        return lr_error_set(err, st, "reading a column chunk of %lld bytes: %s", (long long)len,
                            lr_strerror(st));
    if (len > 0 && (st = r->src.read_at(r->src.ctx, (uint64_t)start, (size_t)len, c->chunk.data,
                                        err)) != LR_OK)
        return st;
    c->chunk.len = (size_t)len;
    c->pos = 0;
    c->has_dict = false;
    c->dict_n = 0;
    c->seen_data_page = false;
    c->any_row = false;
    c->page_left = 0;
    c->lb_pos = c->lb_n = 0;
    return LR_OK;
}

static lr_status start_row_group(lr_pq_scan *s, uint32_t rg, lr_error *err)
{
    const lr__pq_row_group *g = &s->r->meta.row_groups[rg];
    uint64_t limit = s->batch_rows;
    lr_status st;

    for (uint32_t i = 0; i < s->n_cols; i++) {
        colr *c = s->cr[i];
        const lr__pq_column_meta *cm = &g->columns[c->col].meta_data;
        if ((st = chunk_start(s, c, rg, err)) != LR_OK) {
            lr_error_prefix(err, "column '%s', row group %u", c->leaf->def.name, rg);
            return st;
        }
        /* Keep byte data and list elements of one batch well under the limits. */
        if (g->num_rows > 0) {
            uint64_t per_row = (uint64_t)cm->total_uncompressed_size / (uint64_t)g->num_rows + 1;
            uint64_t slots = (uint64_t)cm->num_values / (uint64_t)g->num_rows + 1;
            if (c->is_bytes && (LR_PQ_MAX_BATCH_BYTES / 4) / per_row < limit)
                limit = (LR_PQ_MAX_BATCH_BYTES / 4) / per_row;
            if (c->leaf->max_rep > 0 && (MAX_BATCH_SLOTS / 4) / slots < limit)
                limit = (MAX_BATCH_SLOTS / 4) / slots;
        }
    }
    s->rg_batch_rows = limit ? (uint32_t)limit : 1;
    return LR_OK;
}

static void out_reset(colr *c, outcol *o)
{
    o->n_rows = 0;
    o->n_slots = 0;
    o->n_inner = 0;
    o->bytes_len = 0;
    if (c->is_bytes && o->offsets)
        o->offsets[0] = 0;
}

static void batch_column(colr *c, outcol *o, lr_pq_column_batch *b)
{
    memset(b, 0, sizeof *b);
    b->validity = c->leaf->max_def > 0 && (c->leaf->max_rep == 0 || c->leaf->rep_def > 1)
                      ? o->validity
                      : NULL;
    if (c->leaf->max_rep == 1) {
        b->list_offsets = o->list_offsets;
        b->elem_validity = c->leaf->max_def > c->leaf->rep_def ? o->elem_validity : NULL;
    } else if (c->leaf->max_rep == 2) {
        b->list_offsets = o->list_offsets;
        b->inner_offsets = o->inner_offsets;
        b->inner_validity = c->leaf->def.inner_optional ? o->inner_validity : NULL;
        b->elem_validity = c->leaf->max_def > c->leaf->rep_def2 ? o->elem_validity : NULL;
    }
    if (c->is_bytes) {
        b->offsets = o->offsets;
        b->bytes = o->bytes;
    } else {
        b->values = o->values;
    }
}

lr_status lr_pq_scan_next(lr_pq_scan *s, const lr_pq_batch **out, lr_error *err)
{
    lr_status st = LR_OK;
    uint32_t want;

    *out = NULL;
    if (s->done)
        return LR_OK;
    while (!s->rg_active || s->rg_rows_left == 0) {
        const lr_pq_reader *r = s->r;
        uint32_t g;
        s->rg_active = false;
        if (s->next_rg >= r->meta.n_row_groups) {
            s->done = true;
            return LR_OK;
        }
        g = s->next_rg++;
        s->rg_first_row = s->next_rg_first_row;
        s->next_rg_first_row += r->meta.row_groups[g].num_rows;
        if (r->meta.row_groups[g].num_rows == 0)
            continue;
        if (s->filter && !s->filter(s->filter_ctx, r, g))
            continue;
        if ((st = start_row_group(s, g, err)) != LR_OK)
            goto fail;
        s->rg = g;
        s->rg_active = true;
        s->rg_rows_left = r->meta.row_groups[g].num_rows;
        s->rg_rows_done = 0;
    }
    want = s->rg_batch_rows;
    if ((int64_t)want > s->rg_rows_left)
        want = (uint32_t)s->rg_rows_left;
    for (uint32_t i = 0; i < s->n_cols; i++) {
        colr *c = s->cr[i];
        outcol *o = &s->oc[i];
        out_reset(c, o);
        if (c->is_bytes && (st = out_reserve(c, o, 1, 1, err)) != LR_OK)
            goto fail_col;
        if (c->is_bytes)
            o->offsets[0] = 0;
        st = c->leaf->max_rep == 2   ? fill_list2(s, c, o, want, err)
             : c->leaf->max_rep == 1 ? fill_list(s, c, o, want, err)
                                     : fill_flat(s, c, o, want, err);
        if (st != LR_OK)
            goto fail_col;
        batch_column(c, o, &s->cb[i]);
        continue;
    fail_col:
        lr_error_prefix(err, "column '%s', row group %u", c->leaf->def.name, s->rg);
        goto fail;
    }
    s->batch.n_rows = want;
    s->batch.n_columns = s->n_cols;
    s->batch.columns = s->cb;
    s->batch.row_group = s->rg;
    s->batch.first_row = s->rg_first_row + s->rg_rows_done;
    s->rg_rows_left -= want;
    s->rg_rows_done += want;
    *out = &s->batch;
    return LR_OK;
fail:
    s->done = true;
    return st;
}

static void colr_free(colr *c)
{
    if (c == NULL)
        return;
    lr_buf_free(&c->chunk);
    lr_buf_free(&c->dict_page);
    free(c->dict_vals);
    lr_buf_free(&c->page);
    lr_buf_free(&c->mat);
    lr_buf_free(&c->mat_storage);
    lr_buf_free(&c->rep_arr);
    lr_buf_free(&c->def_arr);
    free(c);
}

void lr_pq_scan_free(lr_pq_scan *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->n_cols; i++) {
        if (s->cr)
            colr_free(s->cr[i]);
        if (s->oc) {
            outcol *o = &s->oc[i];
            free(o->values);
            free(o->validity);
            free(o->list_offsets);
            free(o->elem_validity);
            free(o->offsets);
            free(o->bytes);
            free(o->inner_offsets);
            free(o->inner_validity);
        }
    }
    free(s->cr);
    free(s->oc);
    free(s->cb);
    free(s->cols);
    free(s->sc);
    lr__pq_codec_ctx_free(s->codec);
    free(s);
}

lr_status lr_pq_scan_open(lr_pq_reader *r, const lr_pq_scan_options *opt, lr_pq_scan **out,
                          lr_error *err)
{
    lr_pq_scan *s;
    lr_status st;
    uint32_t n = opt && opt->columns ? opt->n_columns : r->n_leaves;

    *out = NULL;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory starting a Parquet scan");
    s->r = r;
    s->n_cols = n;
    s->batch_rows = opt && opt->batch_rows ? opt->batch_rows : DEFAULT_BATCH_ROWS;
    s->filter = opt ? opt->filter : NULL;
    s->filter_ctx = opt ? opt->filter_ctx : NULL;
    s->cols = calloc(n ? n : 1, sizeof *s->cols);
    s->cr = calloc(n ? n : 1, sizeof *s->cr);
    s->oc = calloc(n ? n : 1, sizeof *s->oc);
    s->cb = calloc(n ? n : 1, sizeof *s->cb);
    s->sc = malloc(sizeof *s->sc);
    if (s->cols == NULL || s->cr == NULL || s->oc == NULL || s->cb == NULL || s->sc == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory starting a Parquet scan");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t col = opt && opt->columns ? opt->columns[i] : i;
        const lr__pq_leaf *leaf;
        colr *c;
        if (col >= r->n_leaves) {
            st = lr_error_set(err, LR_EINVAL, "no column %u (the file has %u)", col, r->n_leaves);
            goto fail;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (s->cols[j] == col) {
                st = lr_error_set(err, LR_EINVAL, "column '%s' projected twice",
                                  r->leaves[col].def.name);
                goto fail;
            }
        }
        leaf = &r->leaves[col];
        if (!leaf->supported) {
            st = lr_error_set(err, LR_EUNSUPPORTED, "column '%s': %s", leaf->def.name,
                              leaf->why_unsupported);
            goto fail;
        }
        s->cols[i] = col;
        if ((c = calloc(1, sizeof *c)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory starting a Parquet scan");
            goto fail;
        }
        s->cr[i] = c;
        c->sc = s->sc;
        c->leaf = leaf;
        c->col = col;
        c->is_bytes = leaf->physical == LR__PQ_T_BYTE_ARRAY ||
                      leaf->physical == LR__PQ_T_FIXED_LEN_BYTE_ARRAY;
        switch (leaf->physical) {
        case LR__PQ_T_BOOLEAN:
            c->width = 1;
            break;
        case LR__PQ_T_INT32:
        case LR__PQ_T_FLOAT:
            c->width = 4;
            break;
        case LR__PQ_T_INT64:
        case LR__PQ_T_DOUBLE:
        case LR__PQ_T_INT96:
            c->width = 8;
            break;
        default:
            c->width = 0;
            break;
        }
        lr_buf_init(&c->chunk, 0);
        lr_buf_init(&c->dict_page, LR__PQ_CODEC_MAX_OUTPUT);
        lr_buf_init(&c->page, LR__PQ_CODEC_MAX_OUTPUT);
        lr_buf_init(&c->mat, 0);
        lr_buf_init(&c->mat_storage, LR_PQ_MAX_BATCH_BYTES);
        lr_buf_init(&c->rep_arr, 0);
        lr_buf_init(&c->def_arr, 0);
    }
    if ((st = lr__pq_codec_ctx_new(&s->codec, err)) != LR_OK)
        goto fail;
    *out = s;
    return LR_OK;
fail:
    lr_pq_scan_free(s);
    return st;
}
