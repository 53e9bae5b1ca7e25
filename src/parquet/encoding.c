/*
 * encoding.c - Parquet value and level encodings (see encoding.h).
 *
 * Every decoder works on a [p, end) range and checks each read against it.
 * Bit unpacking has one fast path shared by the hybrid and the delta
 * decoders: values are taken eight at a time (a group of eight w-bit values
 * is exactly w bytes) with unaligned 64-bit little-endian loads, which is
 * safe whenever at least w + 8 bytes remain; near the end of the input the
 * group is first copied into a zero-padded scratch block. The hybrid decoder
 * specialises that loop per bit width so the shifts and masks are constants.
 */
#include "parquet/encoding.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "larder/varint.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LR_BIG_ENDIAN 1
#else
#define LR_BIG_ENDIAN 0
#endif

/* Forced inlining only where the compiler optimises: gcc at -O0 (the
 * sanitizer build) refuses always_inline on functions it does not inline. */
#ifdef __OPTIMIZE__
#define LR_INLINE static inline __attribute__((always_inline))
#else
#define LR_INLINE static inline
#endif

/* ---- small helpers -------------------------------------------------------- */

LR_INLINE uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if LR_BIG_ENDIAN
    v = __builtin_bswap64(v);
#endif
    return v;
}

LR_INLINE uint32_t load_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if LR_BIG_ENDIAN
    v = __builtin_bswap32(v);
#endif
    return v;
}

LR_INLINE void store_le32(uint8_t *p, uint32_t v)
{
#if LR_BIG_ENDIAN
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

/* Reads an unsigned LEB128 of at most 64 bits. 0 on success, -1 on truncation or overflow. */
static int read_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    unsigned shift = 0;

    for (;;) {
        uint8_t b;
        if (p >= end)
            return -1;
        b = *p++;
        if (shift == 63 && (b & 0x7e) != 0)
            return -1; /* bits beyond 64 */
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            break;
        shift += 7;
        if (shift > 63)
            return -1;
    }
    *pp = p;
    *out = v;
    return 0;
}

static uint64_t zigzag_decode(uint64_t v)
{
    return (v >> 1) ^ (uint64_t)-(int64_t)(v & 1);
}

static uint64_t zigzag_encode64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static lr_status buf_status(lr_error *err, lr_status st)
{
    if (st == LR_ELIMIT)
        return lr_error_set(err, st, "encoded data exceeds the buffer's size limit");
    return lr_error_set(err, st, "out of memory while encoding");
}

/* Prefixes err's message (when err is set) and returns st, whatever err is. */
static lr_status prefix_err(lr_error *err, lr_status st, const char *what)
{
    if (err != NULL)
        lr_error_prefix(err, "%s", what);
    return st;
}

unsigned lr__pq_bit_width(uint64_t max_value)
{
    return max_value == 0 ? 0 : 64u - (unsigned)__builtin_clzll(max_value);
}

/* ---- bit unpacking (LSB first) ------------------------------------------- */

static uint64_t mask_bits(unsigned w)
{
    return w >= 64 ? UINT64_MAX : (((uint64_t)1 << w) - 1);
}

/*
 * Unpacks one group of eight w-bit values (w <= 32) from in[0..w), which
 * must have at least w + 8 readable bytes. Inlined with a constant w.
 */
LR_INLINE void unpack8_u32_fast(const uint8_t *in, uint32_t *out, unsigned w)
{
    const uint64_t m = mask_bits(w);
    for (unsigned i = 0; i < 8; i++) {
        unsigned bit = i * w;
        out[i] = (uint32_t)((load_le64(in + (bit >> 3)) >> (bit & 7)) & m);
    }
}

#define LR_UNPACK_CASE(W)                       \
    case W:                                     \
        for (size_t g = 0; g < groups; g++)     \
            unpack8_u32_fast(in + g * W, out + g * 8, W); \
        break;

/*
 * Unpacks `groups` groups of eight w-bit values from in, which must have at
 * least groups * w + 8 readable bytes.
 */
static void unpack_groups_u32(const uint8_t *in, uint32_t *out, size_t groups, unsigned w)
{
    switch (w) {
    case 0:
        memset(out, 0, groups * 8 * sizeof *out);
        break;
        LR_UNPACK_CASE(1) LR_UNPACK_CASE(2) LR_UNPACK_CASE(3) LR_UNPACK_CASE(4)
        LR_UNPACK_CASE(5) LR_UNPACK_CASE(6) LR_UNPACK_CASE(7) LR_UNPACK_CASE(8)
        LR_UNPACK_CASE(9) LR_UNPACK_CASE(10) LR_UNPACK_CASE(11) LR_UNPACK_CASE(12)
        LR_UNPACK_CASE(13) LR_UNPACK_CASE(14) LR_UNPACK_CASE(15) LR_UNPACK_CASE(16)
        LR_UNPACK_CASE(17) LR_UNPACK_CASE(18) LR_UNPACK_CASE(19) LR_UNPACK_CASE(20)
        LR_UNPACK_CASE(21) LR_UNPACK_CASE(22) LR_UNPACK_CASE(23) LR_UNPACK_CASE(24)
        LR_UNPACK_CASE(25) LR_UNPACK_CASE(26) LR_UNPACK_CASE(27) LR_UNPACK_CASE(28)
        LR_UNPACK_CASE(29) LR_UNPACK_CASE(30) LR_UNPACK_CASE(31) LR_UNPACK_CASE(32)
    default:
        break;
    }
}

#undef LR_UNPACK_CASE

/*
 * Extracts the w-bit value (w <= 64) at bit offset `bit` of in, reading only
 * the bytes that hold it. The slow path, for partial groups.
 */
static uint64_t extract_bits(const uint8_t *in, uint64_t bit, unsigned w)
{
    uint64_t v = 0;
    const uint8_t *p = in + (bit >> 3);
    unsigned sh = (unsigned)(bit & 7);
    unsigned got = 0;
    unsigned need = w + sh;
    unsigned nbytes = (need + 7) / 8;

    if (w == 0)
        return 0;
    /* First byte's low `sh` bits belong to the previous value. */
    v = (uint64_t)(p[0] >> sh);
    got = 8 - sh;
    for (unsigned i = 1; i < nbytes; i++) {
        if (got < 64)
            v |= (uint64_t)p[i] << got;
        got += 8;
    }
    return v & mask_bits(w);
}

/*
 * Unpacks `n` values (a multiple of 8) of width w <= 64 starting at a group
 * boundary of in; `avail` is how many bytes of in may be read (at least
 * n / 8 * w). Used by the delta decoder.
 */
static void unpack_u64(const uint8_t *in, size_t avail, uint64_t *out, size_t n, unsigned w)
{
    const uint64_t m = mask_bits(w);
    size_t g, groups = n / 8;

    if (w == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    for (g = 0; g < groups; g++) {
        const uint8_t *gp = in + g * w;
        uint8_t tmp[64 + 16];
        if (avail - g * w < (size_t)w + 16) {
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, gp, w);
            gp = tmp;
        }
        for (unsigned i = 0; i < 8; i++) {
            unsigned bit = i * w;
            unsigned sh = bit & 7;
            const uint8_t *q = gp + (bit >> 3);
            uint64_t v = load_le64(q) >> sh;
            if (sh != 0 && sh + w > 64)
                v |= (uint64_t)q[8] << (64 - sh);
            out[g * 8 + i] = v & m;
        }
    }
}

/* ---- bit packing (LSB first) --------------------------------------------- */

typedef struct bitwriter {
    uint8_t *p;
    uint64_t acc;
    unsigned nbits;
} bitwriter;

LR_INLINE void bw_put(bitwriter *bw, uint64_t v, unsigned w)
{
    if (w > 32) {
        bw_put(bw, v & 0xffffffffu, 32);
        v >>= 32;
        w -= 32;
    }
    bw->acc |= (v & mask_bits(w)) << bw->nbits;
    bw->nbits += w;
    while (bw->nbits >= 8) {
        *bw->p++ = (uint8_t)bw->acc;
        bw->acc >>= 8;
        bw->nbits -= 8;
    }
}

LR_INLINE void bw_flush(bitwriter *bw)
{
    if (bw->nbits > 0) {
        *bw->p++ = (uint8_t)bw->acc;
        bw->acc = 0;
        bw->nbits = 0;
    }
}

/* ---- RLE / bit-packed hybrid: encoder ------------------------------------ */

/* Longest bit-packed run we write: 63 groups keeps its header in one byte. */
#define LR_RLE_MAX_LITERAL 504
/* Longest RLE run the spec allows. */
#define LR_RLE_MAX_RUN 0x7fffffffu

/* The value at index i of an array of 1-, 2- or 4-byte unsigned integers. */
LR_INLINE uint32_t val_at(const void *vals, size_t i, unsigned es)
{
    switch (es) {
    case 1:
        return ((const uint8_t *)vals)[i];
    case 2:
        return ((const uint16_t *)vals)[i];
    default:
        return ((const uint32_t *)vals)[i];
    }
}

/* Appends one bit-packed run of vals[0..n), padded with zeros to a multiple of 8. */
LR_INLINE lr_status rle_emit_literal(const void *vals, size_t n, unsigned es, unsigned w,
                                     lr_buf *dst, lr_error *err)
{
    size_t groups = (n + 7) / 8;
    size_t bytes = groups * w;
    uint8_t hdr[10];
    size_t hn = lr_varint_put(hdr, ((uint64_t)groups << 1) | 1);
    bitwriter bw;
    lr_status st = lr_buf_reserve(dst, hn + bytes);

    if (st != LR_OK)
        return buf_status(err, st);
    memcpy(dst->data + dst->len, hdr, hn);
    bw.p = (uint8_t *)dst->data + dst->len + hn;
    bw.acc = 0;
    bw.nbits = 0;
    for (size_t i = 0; i < n; i++)
        bw_put(&bw, val_at(vals, i, es), w);
    for (size_t i = n; i < groups * 8; i++)
        bw_put(&bw, 0, w);
    bw_flush(&bw);
    dst->len += hn + bytes;
    dst->data[dst->len] = '\0';
    return LR_OK;
}

static lr_status rle_emit_run(uint32_t value, size_t n, unsigned w, lr_buf *dst, lr_error *err)
{
    uint8_t tmp[16];
    size_t k = lr_varint_put(tmp, (uint64_t)n << 1);
    unsigned vbytes = (w + 7) / 8;
    lr_status st;

    for (unsigned i = 0; i < vbytes; i++)
        tmp[k++] = (uint8_t)(value >> (8 * i));
    st = lr_buf_append(dst, tmp, k);
    return st == LR_OK ? LR_OK : buf_status(err, st);
}

/*
 * The encoder proper, inlined into one copy per element size `es`.
 * Bit-packed runs in the middle of a stream must hold a multiple of 8
 * values (a reader cannot tell padding from values there), so a run of
 * equal values only becomes an RLE run once the pending literal values are
 * a multiple of 8; the values borrowed to round the literal up stay in it.
 */
LR_INLINE lr_status rle_encode_core(const void *vals, size_t n, unsigned es, unsigned w,
                                    lr_buf *dst, lr_error *err)
{
    size_t i = 0, lit_start = 0, lit_len = 0;
    lr_status st = LR_OK;

    while (i < n) {
        uint32_t v = val_at(vals, i, es);
        size_t r = 1;
        while (i + r < n && val_at(vals, i + r, es) == v && r < LR_RLE_MAX_RUN)
            r++;
        if (r >= 8) {
            size_t borrow = (8 - lit_len % 8) % 8;
            if (r - borrow >= 8) {
                lit_len += borrow;
                if (lit_len > 0) {
                    st = rle_emit_literal((const uint8_t *)vals + lit_start * es, lit_len, es, w,
                                          dst, err);
                    if (st != LR_OK)
                        goto done;
                }
                st = rle_emit_run(v, r - borrow, w, dst, err);
                if (st != LR_OK)
                    goto done;
                i += r;
                lit_start = i;
                lit_len = 0;
                continue;
            }
        }
        /* Add the values to the literal, flushing at the maximum length. */
        while (r > 0) {
            size_t take = LR_RLE_MAX_LITERAL - lit_len;
            if (take > r)
                take = r;
            lit_len += take;
            i += take;
            r -= take;
            if (lit_len == LR_RLE_MAX_LITERAL) {
                st = rle_emit_literal((const uint8_t *)vals + lit_start * es, lit_len, es, w, dst,
                                      err);
                if (st != LR_OK)
                    goto done;
                lit_start = i;
                lit_len = 0;
            }
        }
    }
    if (lit_len > 0)
        st = rle_emit_literal((const uint8_t *)vals + lit_start * es, lit_len, es, w, dst, err);
done:
    return st;
}

lr_status lr__pq_rle_encode_u32(const uint32_t *vals, size_t n, unsigned bit_width, lr_buf *dst,
                                lr_error *err)
{
    if (bit_width > 32)
        return lr_error_set(err, LR_EINVAL, "RLE bit width %u is above 32", bit_width);
    if (bit_width < 32) {
        uint32_t orv = 0;
        for (size_t i = 0; i < n; i++)
            orv |= vals[i];
        if (orv >> bit_width)
            return lr_error_set(err, LR_EINVAL, "a value does not fit in %u bits", bit_width);
    }
    return rle_encode_core(vals, n, 4, bit_width, dst, err);
}

lr_status lr__pq_rle_encode_u16(const uint16_t *vals, size_t n, unsigned bit_width, lr_buf *dst,
                                lr_error *err)
{
    uint32_t orv = 0;

    if (bit_width > 16)
        return lr_error_set(err, LR_EINVAL, "level bit width %u is above 16", bit_width);
    for (size_t i = 0; i < n; i++)
        orv |= vals[i];
    if (orv >> bit_width)
        return lr_error_set(err, LR_EINVAL, "a level does not fit in %u bits", bit_width);
    return rle_encode_core(vals, n, 2, bit_width, dst, err);
}

lr_status lr__pq_levels_encode_v1(const uint16_t *levels, size_t n, uint16_t max_level,
                                  lr_buf *dst, lr_error *err)
{
    size_t start = dst->len;
    size_t len;
    uint8_t prefix[4] = {0, 0, 0, 0};
    lr_status st = lr_buf_append(dst, prefix, 4);

    if (st != LR_OK)
        return buf_status(err, st);
    st = lr__pq_rle_encode_u16(levels, n, lr__pq_bit_width(max_level), dst, err);
    if (st != LR_OK) {
        dst->len = start;
        dst->data[start] = '\0';
        return st;
    }
    len = dst->len - start - 4;
    if (len > UINT32_MAX) {
        dst->len = start;
        dst->data[start] = '\0';
        return lr_error_set(err, LR_ELIMIT, "levels section of %zu bytes is too long", len);
    }
    store_le32((uint8_t *)dst->data + start, (uint32_t)len);
    return LR_OK;
}

/* ---- RLE / bit-packed hybrid: decoder ------------------------------------ */

lr_status lr__pq_rle_dec_init(lr__pq_rle_dec *d, const uint8_t *p, size_t len, unsigned bit_width,
                              lr_error *err)
{
    if (bit_width > 32)
        return lr_error_set(err, LR_EINVAL, "RLE bit width %u is above 32", bit_width);
    d->p = p;
    d->end = p ? p + len : p;
    d->bit_width = bit_width;
    d->rle_left = 0;
    d->rle_value = 0;
    d->bp_left = 0;
    d->bp = NULL;
    d->bp_idx = 0;
    return LR_OK;
}

lr_status lr__pq_rle_dec_init_dict(lr__pq_rle_dec *d, const uint8_t *p, size_t len,
                                   lr_error *err)
{
    if (len == 0)
        return lr_error_set(err, LR_ECORRUPT, "dictionary indices: missing bit width byte");
    if (p[0] > 32)
        return lr_error_set(err, LR_ECORRUPT, "dictionary indices: bit width %u is above 32",
                            (unsigned)p[0]);
    return lr__pq_rle_dec_init(d, p + 1, len - 1, p[0], err);
}

/*
 * Reads the next run header. 0 on success, -1 at the end of input, -2 for
 * a malformed run (message set).
 */
static int rle_next_run(lr__pq_rle_dec *d, lr_error *err)
{
    uint64_t hdr;
    const unsigned w = d->bit_width;

    if (d->p >= d->end)
        return -1;
    if (read_uleb(&d->p, d->end, &hdr) != 0 || hdr > UINT32_MAX) {
        lr_error_set(err, LR_ECORRUPT, "RLE/bit-packed hybrid: bad run header");
        return -2;
    }
    if (hdr & 1) {
        uint64_t groups = hdr >> 1;
        uint64_t bytes = groups * w;
        size_t avail = (size_t)(d->end - d->p);
        d->bp = d->p;
        d->bp_idx = 0;
        if (w == 0) {
            d->bp_left = groups * 8;
        } else if (bytes <= avail) {
            d->bp_left = groups * 8;
            d->p += bytes;
        } else {
            /* A final run cut short: take the whole values its bytes hold. */
            d->bp_left = ((uint64_t)avail * 8) / w;
            d->p = d->end;
        }
    } else {
        unsigned vbytes = (w + 7) / 8;
        uint32_t v = 0;
        if ((size_t)(d->end - d->p) < vbytes) {
            lr_error_set(err, LR_ECORRUPT, "RLE/bit-packed hybrid: truncated RLE run value");
            return -2;
        }
        for (unsigned i = 0; i < vbytes; i++)
            v |= (uint32_t)d->p[i] << (8 * i);
        d->p += vbytes;
        if (w < 32 && (v >> w) != 0) {
            lr_error_set(err, LR_ECORRUPT,
                         "RLE/bit-packed hybrid: run value %u does not fit in %u bits",
                         (unsigned)v, w);
            return -2;
        }
        d->rle_left = (uint32_t)(hdr >> 1);
        d->rle_value = v;
    }
    return 0;
}

/*
 * Decodes n (<= bp_left) bit-packed values of the current run into out
 * (32-bit), fast for whole groups.
 */
static void rle_unpack_u32(lr__pq_rle_dec *d, uint32_t *out, size_t n)
{
    const unsigned w = d->bit_width;
    size_t i = 0;

    if (w == 0) {
        memset(out, 0, n * sizeof *out);
        d->bp_idx += n;
        d->bp_left -= n;
        return;
    }
    /* Leading values up to a group boundary. */
    while (i < n && (d->bp_idx & 7) != 0) {
        out[i++] = (uint32_t)extract_bits(d->bp, d->bp_idx * w, w);
        d->bp_idx++;
    }
    if (n - i >= 8) {
        const uint8_t *g = d->bp + (d->bp_idx / 8) * w;
        size_t groups = (n - i) / 8;
        size_t avail = (size_t)(d->end - g);
        /* Whole groups with 8 spare bytes behind them take the fast path. */
        size_t fast = avail >= 8 ? (avail - 8) / w : 0;
        if (fast > groups)
            fast = groups;
        unpack_groups_u32(g, out + i, fast, w);
        i += fast * 8;
        d->bp_idx += fast * 8;
        for (size_t k = fast; k < groups; k++) {
            uint8_t tmp[32 + 8];
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, d->bp + (d->bp_idx / 8) * w, w);
            unpack_groups_u32(tmp, out + i, 1, w);
            i += 8;
            d->bp_idx += 8;
        }
    }
    while (i < n) {
        out[i++] = (uint32_t)extract_bits(d->bp, d->bp_idx * w, w);
        d->bp_idx++;
    }
    d->bp_left -= n;
}

static lr_status rle_short(lr_error *err, size_t got, size_t want)
{
    return lr_error_set(err, LR_ECORRUPT,
                        "RLE/bit-packed hybrid ended after %zu of %zu values", got, want);
}

lr_status lr__pq_rle_dec_get_u32(lr__pq_rle_dec *d, uint32_t *out, size_t count, lr_error *err)
{
    size_t i = 0;

    while (i < count) {
        if (d->rle_left > 0) {
            size_t n = count - i < d->rle_left ? count - i : d->rle_left;
            uint32_t v = d->rle_value;
            for (size_t k = 0; k < n; k++)
                out[i + k] = v;
            i += n;
            d->rle_left -= (uint32_t)n;
        } else if (d->bp_left > 0) {
            size_t n = (uint64_t)(count - i) < d->bp_left ? count - i : (size_t)d->bp_left;
            rle_unpack_u32(d, out + i, n);
            i += n;
        } else {
            int r = rle_next_run(d, err);
            if (r == -1)
                return rle_short(err, i, count);
            if (r == -2)
                return LR_ECORRUPT;
        }
    }
    return LR_OK;
}

lr_status lr__pq_rle_dec_get_indices(lr__pq_rle_dec *d, uint32_t *out, size_t count,
                                     uint32_t dict_size, lr_error *err)
{
    size_t i = 0;

    while (i < count) {
        if (d->rle_left > 0) {
            size_t n = count - i < d->rle_left ? count - i : d->rle_left;
            uint32_t v = d->rle_value;
            if (v >= dict_size)
                return lr_error_set(err, LR_ECORRUPT,
                                    "dictionary index %u out of range (dictionary has %u entries)",
                                    (unsigned)v, (unsigned)dict_size);
            for (size_t k = 0; k < n; k++)
                out[i + k] = v;
            i += n;
            d->rle_left -= (uint32_t)n;
        } else if (d->bp_left > 0) {
            size_t n = (uint64_t)(count - i) < d->bp_left ? count - i : (size_t)d->bp_left;
            uint32_t mx = 0;
            rle_unpack_u32(d, out + i, n);
            for (size_t k = 0; k < n; k++)
                mx = out[i + k] > mx ? out[i + k] : mx;
            if (mx >= dict_size)
                return lr_error_set(err, LR_ECORRUPT,
                                    "dictionary index %u out of range (dictionary has %u entries)",
                                    (unsigned)mx, (unsigned)dict_size);
            i += n;
        } else {
            int r = rle_next_run(d, err);
            if (r == -1)
                return rle_short(err, i, count);
            if (r == -2)
                return LR_ECORRUPT;
        }
    }
    return LR_OK;
}

lr_status lr__pq_rle_dec_get_u16(lr__pq_rle_dec *d, uint16_t *out, size_t count, lr_error *err)
{
    size_t i = 0;

    while (i < count) {
        if (d->rle_left > 0) {
            size_t n = count - i < d->rle_left ? count - i : d->rle_left;
            uint32_t v = d->rle_value;
            if (v > UINT16_MAX)
                return lr_error_set(err, LR_ECORRUPT, "level %u is above 65535", (unsigned)v);
            for (size_t k = 0; k < n; k++)
                out[i + k] = (uint16_t)v;
            i += n;
            d->rle_left -= (uint32_t)n;
        } else if (d->bp_left > 0) {
            uint32_t tmp[256];
            size_t n = (uint64_t)(count - i) < d->bp_left ? count - i : (size_t)d->bp_left;
            uint32_t mx = 0;
            if (n > 256)
                n = 256;
            rle_unpack_u32(d, tmp, n);
            for (size_t k = 0; k < n; k++) {
                mx |= tmp[k];
                out[i + k] = (uint16_t)tmp[k];
            }
            if (mx > UINT16_MAX)
                return lr_error_set(err, LR_ECORRUPT, "level above 65535 in bit-packed run");
            i += n;
        } else {
            int r = rle_next_run(d, err);
            if (r == -1)
                return rle_short(err, i, count);
            if (r == -2)
                return LR_ECORRUPT;
        }
    }
    return LR_OK;
}

lr_status lr__pq_rle_dec_skip(lr__pq_rle_dec *d, size_t count, lr_error *err)
{
    size_t i = 0;

    while (i < count) {
        if (d->rle_left > 0) {
            size_t n = count - i < d->rle_left ? count - i : d->rle_left;
            i += n;
            d->rle_left -= (uint32_t)n;
        } else if (d->bp_left > 0) {
            size_t n = (uint64_t)(count - i) < d->bp_left ? count - i : (size_t)d->bp_left;
            i += n;
            d->bp_idx += n;
            d->bp_left -= n;
        } else {
            int r = rle_next_run(d, err);
            if (r == -1)
                return rle_short(err, i, count);
            if (r == -2)
                return LR_ECORRUPT;
        }
    }
    return LR_OK;
}

lr_status lr__pq_levels_v1_section(const uint8_t *p, size_t len, const uint8_t **data,
                                   size_t *data_len, size_t *consumed, lr_error *err)
{
    uint32_t n;

    if (len < 4)
        return lr_error_set(err, LR_ECORRUPT, "levels: %zu bytes left, length prefix needs 4",
                            len);
    n = load_le32(p);
    if (n > len - 4)
        return lr_error_set(err, LR_ECORRUPT,
                            "levels: declared length %u exceeds the %zu bytes left",
                            (unsigned)n, len - 4);
    *data = p + 4;
    *data_len = n;
    if (consumed)
        *consumed = 4 + (size_t)n;
    return LR_OK;
}

lr_status lr__pq_bitpacked_levels_decode(const uint8_t *p, size_t len, unsigned bit_width,
                                         uint16_t *out, size_t count, size_t *consumed,
                                         lr_error *err)
{
    uint64_t bits;
    size_t bytes;
    uint64_t bit = 0;

    if (bit_width > 16)
        return lr_error_set(err, LR_EINVAL, "BIT_PACKED level width %u is above 16", bit_width);
    if (count > SIZE_MAX / 16)
        return lr_error_set(err, LR_ECORRUPT, "BIT_PACKED: too many levels");
    bits = (uint64_t)count * bit_width;
    bytes = (size_t)((bits + 7) / 8);
    if (bytes > len)
        return lr_error_set(err, LR_ECORRUPT,
                            "BIT_PACKED levels need %zu bytes, %zu are left", bytes, len);
    for (size_t i = 0; i < count; i++) {
        uint32_t v = 0;
        for (unsigned b = 0; b < bit_width; b++, bit++)
            v = (v << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1u);
        out[i] = (uint16_t)v;
    }
    if (consumed)
        *consumed = bytes;
    return LR_OK;
}

/* Decodes count values of a width-1 hybrid into bytes. */
static lr_status rle_get_u8(lr__pq_rle_dec *d, uint8_t *out, size_t count, lr_error *err)
{
    uint32_t tmp[512];
    size_t i = 0;

    while (i < count) {
        size_t n = count - i > 512 ? 512 : count - i;
        lr_status st;
        if (d->rle_left > 0) {
            size_t k = n < d->rle_left ? n : d->rle_left;
            memset(out + i, (int)d->rle_value, k);
            d->rle_left -= (uint32_t)k;
            i += k;
            continue;
        }
        st = lr__pq_rle_dec_get_u32(d, tmp, n, err);
        if (st != LR_OK)
            return st;
        for (size_t k = 0; k < n; k++)
            out[i + k] = (uint8_t)tmp[k];
        i += n;
    }
    return LR_OK;
}

lr_status lr__pq_rle_bool_decode(const uint8_t *p, size_t len, uint8_t *out, size_t count,
                                 size_t *consumed, lr_error *err)
{
    const uint8_t *data = NULL;
    size_t dlen = 0, used = 0;
    lr__pq_rle_dec d;
    lr_status st;

    st = lr__pq_levels_v1_section(p, len, &data, &dlen, &used, err);
    if (st != LR_OK)
        return prefix_err(err, st, "RLE booleans");
    st = lr__pq_rle_dec_init(&d, data, dlen, 1, err);
    if (st != LR_OK)
        return st;
    st = rle_get_u8(&d, out, count, err);
    if (st != LR_OK)
        return prefix_err(err, st, "RLE booleans");
    if (consumed)
        *consumed = used;
    return LR_OK;
}

lr_status lr__pq_rle_bool_encode(const uint8_t *vals, size_t n, lr_buf *dst, lr_error *err)
{
    size_t start = dst->len, len;
    uint8_t prefix[4] = {0, 0, 0, 0};
    lr_status st;

    for (size_t i = 0; i < n; i++) {
        if (vals[i] > 1)
            return lr_error_set(err, LR_EINVAL, "RLE booleans: value %zu is %u, not 0 or 1", i,
                                (unsigned)vals[i]);
    }
    st = lr_buf_append(dst, prefix, 4);
    if (st != LR_OK)
        return buf_status(err, st);
    st = rle_encode_core(vals, n, 1, 1, dst, err);
    if (st != LR_OK)
        goto fail;
    len = dst->len - start - 4;
    if (len > UINT32_MAX) {
        st = lr_error_set(err, LR_ELIMIT, "RLE booleans: %zu bytes is too long", len);
        goto fail;
    }
    store_le32((uint8_t *)dst->data + start, (uint32_t)len);
    return LR_OK;
fail:
    dst->len = start;
    dst->data[start] = '\0';
    return st;
}

/* ---- PLAIN ---------------------------------------------------------------- */

lr_status lr__pq_plain_decode_fixed(const uint8_t *p, size_t len, size_t count, size_t width,
                                    void *out, size_t *consumed, lr_error *err)
{
    size_t bytes;

    if (width != 4 && width != 8 && width != 12)
        return lr_error_set(err, LR_EINVAL, "PLAIN: unsupported value width %zu", width);
    if (count > len / width)
        return lr_error_set(err, LR_ECORRUPT, "PLAIN: %zu values of %zu bytes need more than the %zu bytes left",
                            count, width, len);
    bytes = count * width;
    if (bytes)
        memcpy(out, p, bytes);
#if LR_BIG_ENDIAN
    if (width == 4) {
        uint32_t *o = out;
        for (size_t i = 0; i < count; i++)
            o[i] = __builtin_bswap32(o[i]);
    } else if (width == 8) {
        uint64_t *o = out;
        for (size_t i = 0; i < count; i++)
            o[i] = __builtin_bswap64(o[i]);
    }
#endif
    if (consumed)
        *consumed = bytes;
    return LR_OK;
}

lr_status lr__pq_plain_decode_bool(const uint8_t *p, size_t len, uint64_t first_bit,
                                   uint8_t *out, size_t count, lr_error *err)
{
    uint64_t bits_avail = (uint64_t)len * 8;
    size_t i = 0;
    uint64_t bit = first_bit;

    if (first_bit > bits_avail || count > bits_avail - first_bit)
        return lr_error_set(err, LR_ECORRUPT, "PLAIN booleans: %zu values need more than the %zu bytes left",
                            count, len);
    /* Unaligned head, then whole bytes, then the tail. */
    while (i < count && (bit & 7) != 0) {
        out[i++] = (p[bit >> 3] >> (bit & 7)) & 1u;
        bit++;
    }
    while (count - i >= 8) {
        uint8_t b = p[bit >> 3];
        for (unsigned k = 0; k < 8; k++)
            out[i + k] = (b >> k) & 1u;
        i += 8;
        bit += 8;
    }
    while (i < count) {
        out[i++] = (p[bit >> 3] >> (bit & 7)) & 1u;
        bit++;
    }
    return LR_OK;
}

lr_status lr__pq_plain_decode_byte_array(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                         size_t count, size_t *consumed, lr_error *err)
{
    size_t off = 0;

    for (size_t i = 0; i < count; i++) {
        uint32_t n;
        if (len - off < 4)
            return lr_error_set(err, LR_ECORRUPT,
                                "PLAIN byte array %zu of %zu: length prefix past the end of the page",
                                i, count);
        n = load_le32(p + off);
        off += 4;
        if (n > len - off)
            return lr_error_set(err, LR_ECORRUPT,
                                "PLAIN byte array %zu of %zu: length %u runs past the end of the page",
                                i, count, (unsigned)n);
        out[i].ptr = p + off;
        out[i].len = n;
        off += n;
    }
    if (consumed)
        *consumed = off;
    return LR_OK;
}

lr_status lr__pq_plain_decode_flba(const uint8_t *p, size_t len, size_t type_len,
                                   lr__pq_bytes *out, size_t count, size_t *consumed,
                                   lr_error *err)
{
    if (type_len == 0 || type_len > INT32_MAX)
        return lr_error_set(err, LR_ECORRUPT, "FIXED_LEN_BYTE_ARRAY: bad type length %zu",
                            type_len);
    if (count > len / type_len)
        return lr_error_set(err, LR_ECORRUPT,
                            "PLAIN: %zu values of %zu bytes need more than the %zu bytes left",
                            count, type_len, len);
    for (size_t i = 0; i < count; i++) {
        out[i].ptr = p + i * type_len;
        out[i].len = (uint32_t)type_len;
    }
    if (consumed)
        *consumed = count * type_len;
    return LR_OK;
}

lr_status lr__pq_plain_encode_fixed(const void *vals, size_t count, size_t width, lr_buf *dst,
                                    lr_error *err)
{
    lr_status st;

    if (width != 4 && width != 8 && width != 12)
        return lr_error_set(err, LR_EINVAL, "PLAIN: unsupported value width %zu", width);
    if (count > SIZE_MAX / width)
        return lr_error_set(err, LR_ELIMIT, "PLAIN: too many values");
#if LR_BIG_ENDIAN
    if (width != 12) {
        st = lr_buf_reserve(dst, count * width);
        if (st != LR_OK)
            return buf_status(err, st);
        for (size_t i = 0; i < count; i++) {
            uint8_t *o = (uint8_t *)dst->data + dst->len + i * width;
            const uint8_t *s = (const uint8_t *)vals + i * width;
            for (size_t b = 0; b < width; b++)
                o[b] = s[width - 1 - b];
        }
        dst->len += count * width;
        dst->data[dst->len] = '\0';
        return LR_OK;
    }
#endif
    st = lr_buf_append(dst, vals, count * width);
    return st == LR_OK ? LR_OK : buf_status(err, st);
}

void lr__pq_bool_packer_init(lr__pq_bool_packer *bp)
{
    bp->byte = 0;
    bp->nbits = 0;
}

lr_status lr__pq_bool_packer_put(lr__pq_bool_packer *bp, bool v, lr_buf *dst, lr_error *err)
{
    lr_status st;

    bp->byte |= (uint8_t)((v ? 1u : 0u) << bp->nbits);
    if (++bp->nbits < 8)
        return LR_OK;
    st = lr_buf_append_byte(dst, bp->byte);
    bp->byte = 0;
    bp->nbits = 0;
    return st == LR_OK ? LR_OK : buf_status(err, st);
}

lr_status lr__pq_bool_packer_flush(lr__pq_bool_packer *bp, lr_buf *dst, lr_error *err)
{
    lr_status st;

    if (bp->nbits == 0)
        return LR_OK;
    st = lr_buf_append_byte(dst, bp->byte);
    bp->byte = 0;
    bp->nbits = 0;
    return st == LR_OK ? LR_OK : buf_status(err, st);
}

lr_status lr__pq_plain_encode_bool(const uint8_t *vals, size_t count, lr_buf *dst, lr_error *err)
{
    size_t bytes = count / 8 + (count % 8 != 0);
    uint8_t *o;
    lr_status st = lr_buf_reserve(dst, bytes);

    if (st != LR_OK)
        return buf_status(err, st);
    o = (uint8_t *)dst->data + dst->len;
    memset(o, 0, bytes);
    for (size_t i = 0; i < count; i++)
        o[i >> 3] |= (uint8_t)((vals[i] ? 1u : 0u) << (i & 7));
    dst->len += bytes;
    dst->data[dst->len] = '\0';
    return LR_OK;
}

lr_status lr__pq_plain_put_byte_array(lr_buf *dst, const void *v, size_t n, lr_error *err)
{
    lr_status st;
    uint8_t *o;

    if (n > UINT32_MAX)
        return lr_error_set(err, LR_ELIMIT, "byte array of %zu bytes is too long for Parquet", n);
    st = lr_buf_reserve(dst, 4 + n);
    if (st != LR_OK)
        return buf_status(err, st);
    o = (uint8_t *)dst->data + dst->len;
    store_le32(o, (uint32_t)n);
    if (n)
        memcpy(o + 4, v, n);
    dst->len += 4 + n;
    dst->data[dst->len] = '\0';
    return LR_OK;
}

lr_status lr__pq_plain_encode_byte_array(const lr__pq_bytes *vals, size_t count, lr_buf *dst,
                                         lr_error *err)
{
    for (size_t i = 0; i < count; i++) {
        lr_status st = lr__pq_plain_put_byte_array(dst, vals[i].ptr, vals[i].len, err);
        if (st != LR_OK)
            return st;
    }
    return LR_OK;
}

/* ---- INT96 ---------------------------------------------------------------- */

#define LR_JULIAN_EPOCH_DAY 2440588
#define LR_US_PER_DAY 86400000000LL
#define LR_NS_PER_DAY 86400000000000LL

static void int96_split(const uint8_t b[12], int64_t *nanos, int64_t *days)
{
    *nanos = (int64_t)load_le64(b);
    *days = (int64_t)load_le32(b + 8) - LR_JULIAN_EPOCH_DAY;
}

lr_status lr__pq_int96_to_micros(const uint8_t b[12], int64_t *us, lr_error *err)
{
    int64_t nanos, days, base, frac, res;

    int96_split(b, &nanos, &days);
    /* Floor division, so negative nanoseconds (never written, but possible) round down. */
    frac = nanos / 1000 - (nanos % 1000 < 0 ? 1 : 0);
    if (__builtin_mul_overflow(days, LR_US_PER_DAY, &base) ||
        __builtin_add_overflow(base, frac, &res))
        return lr_error_set(err, LR_ECORRUPT, "INT96 timestamp out of range");
    *us = res;
    return LR_OK;
}

lr_status lr__pq_int96_to_nanos(const uint8_t b[12], int64_t *ns, lr_error *err)
{
    int64_t nanos, days, base, res;

    int96_split(b, &nanos, &days);
    if (__builtin_mul_overflow(days, LR_NS_PER_DAY, &base) ||
        __builtin_add_overflow(base, nanos, &res))
        return lr_error_set(err, LR_ECORRUPT,
                            "INT96 timestamp out of the nanosecond range (1677..2262)");
    *ns = res;
    return LR_OK;
}

void lr__pq_int96_from_micros(int64_t us, uint8_t b[12])
{
    int64_t days = us / LR_US_PER_DAY;
    int64_t rem = us % LR_US_PER_DAY;
    uint64_t nanos;

    if (rem < 0) {
        rem += LR_US_PER_DAY;
        days -= 1;
    }
    nanos = (uint64_t)rem * 1000u;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(nanos >> (8 * i));
    store_le32(b + 8, (uint32_t)(days + LR_JULIAN_EPOCH_DAY));
}

/* ---- DELTA_BINARY_PACKED: decoder ---------------------------------------- */

lr_status lr__pq_delta_dec_init(lr__pq_delta_dec *d, const uint8_t *p, size_t len, bool is64,
                                lr_error *err)
{
    uint64_t block, mbs, total, first;
    const uint8_t *end = p ? p + len : p;

    memset(d, 0, sizeof *d);
    if (read_uleb(&p, end, &block) != 0 || read_uleb(&p, end, &mbs) != 0 ||
        read_uleb(&p, end, &total) != 0 || read_uleb(&p, end, &first) != 0)
        return lr_error_set(err, LR_ECORRUPT, "DELTA_BINARY_PACKED: truncated header");
    if (block == 0 || block % 128 != 0 || block > LR__PQ_DELTA_MAX_BLOCK)
        return lr_error_set(err, LR_ECORRUPT, "DELTA_BINARY_PACKED: bad block size %llu",
                            (unsigned long long)block);
    if (mbs == 0 || mbs > LR__PQ_DELTA_MAX_MINIBLOCKS || block % mbs != 0 ||
        (block / mbs) % 32 != 0)
        return lr_error_set(err, LR_ECORRUPT,
                            "DELTA_BINARY_PACKED: bad miniblock count %llu for block size %llu",
                            (unsigned long long)mbs, (unsigned long long)block);
    d->p = p;
    d->end = end;
    d->is64 = is64;
    d->miniblocks = (uint32_t)mbs;
    d->mb_values = (uint32_t)(block / mbs);
    d->total = total;
    d->produced = 0;
    d->first = zigzag_decode(first);
    if (!is64)
        d->first = (uint64_t)(int64_t)(int32_t)(uint32_t)d->first;
    d->last = d->first;
    d->widths = NULL;
    d->mb_index = 0;
    d->mb_avail = 0;
    return LR_OK;
}

uint64_t lr__pq_delta_dec_total(const lr__pq_delta_dec *d)
{
    return d->total;
}

/*
 * Moves to the next miniblock that holds values (reading a block header when
 * the current block is used up). `left` is the number of deltas still to
 * come, which sets how many values the miniblock holds.
 */
static lr_status delta_next_miniblock(lr__pq_delta_dec *d, uint64_t left, lr_error *err)
{
    /*
     * INT32 streams may use up to 64 bits too: DuckDB computes INT32 deltas
     * without wrapping and writes 33-bit miniblocks. Decoding modulo 2^32
     * still restores the values, so accept what arithmetic can use.
     */
    const unsigned maxw = 64;
    size_t body;

    if (d->widths == NULL || d->mb_index + 1 >= d->miniblocks) {
        uint64_t md;
        if (read_uleb(&d->p, d->end, &md) != 0)
            return lr_error_set(err, LR_ECORRUPT, "DELTA_BINARY_PACKED: truncated block header");
        if ((size_t)(d->end - d->p) < d->miniblocks)
            return lr_error_set(err, LR_ECORRUPT,
                                "DELTA_BINARY_PACKED: truncated miniblock bit widths");
        d->min_delta = zigzag_decode(md);
        d->widths = d->p;
        d->p += d->miniblocks;
        d->mb_index = 0;
    } else {
        d->mb_index++;
    }
    d->mb_width = d->widths[d->mb_index];
    if (d->mb_width > maxw)
        return lr_error_set(err, LR_ECORRUPT, "DELTA_BINARY_PACKED: miniblock bit width %u above %u",
                            (unsigned)d->mb_width, maxw);
    body = (size_t)d->mb_values / 8 * d->mb_width;
    if ((size_t)(d->end - d->p) < body)
        return lr_error_set(err, LR_ECORRUPT, "DELTA_BINARY_PACKED: truncated miniblock");
    d->mb = d->p;
    d->p += body;
    d->mb_pos = 0;
    d->mb_avail = left < d->mb_values ? (uint32_t)left : d->mb_values;
    return LR_OK;
}

/* Decodes the next count values as 64-bit (32-bit values are wrapped and sign-extended). */
static lr_status delta_get(lr__pq_delta_dec *d, int64_t *out64, int32_t *out32, size_t count,
                           lr_error *err)
{
    size_t i = 0;
    uint64_t buf[64];

    if ((uint64_t)count > d->total - d->produced)
        return lr_error_set(err, LR_ECORRUPT,
                            "DELTA_BINARY_PACKED: %zu values wanted, %llu left of %llu", count,
                            (unsigned long long)(d->total - d->produced),
                            (unsigned long long)d->total);
    if (count > 0 && d->produced == 0) {
        if (out64)
            out64[0] = (int64_t)d->first;
        else
            out32[0] = (int32_t)(uint32_t)d->first;
        i = 1;
        d->produced = 1;
    }
    while (i < count) {
        size_t n, start, k;
        if (d->mb_avail == 0) {
            lr_status st = delta_next_miniblock(d, d->total - d->produced, err);
            if (st != LR_OK)
                return st;
        }
        /* Decode the group(s) of 8 holding the next values into buf. */
        start = d->mb_pos & ~(size_t)7;
        n = count - i;
        if (n > d->mb_avail)
            n = d->mb_avail;
        if (n > 64 - (d->mb_pos - start))
            n = 64 - (d->mb_pos - start);
        {
            size_t end_pos = d->mb_pos + n;
            size_t groups_end = (end_pos + 7) & ~(size_t)7;
            const uint8_t *g = d->mb + start / 8 * d->mb_width;
            size_t avail = (size_t)(d->end - g);
            unpack_u64(g, avail, buf, groups_end - start, d->mb_width);
        }
        if (d->is64) {
            uint64_t last = d->last, md = d->min_delta;
            for (k = 0; k < n; k++) {
                last += md + buf[d->mb_pos - start + k];
                out64[i + k] = (int64_t)last;
            }
            d->last = last;
        } else {
            uint32_t last = (uint32_t)d->last, md = (uint32_t)d->min_delta;
            for (k = 0; k < n; k++) {
                last += md + (uint32_t)buf[d->mb_pos - start + k];
                if (out64)
                    out64[i + k] = (int64_t)(int32_t)last;
                else
                    out32[i + k] = (int32_t)last;
            }
            d->last = last;
        }
        d->mb_pos += (uint32_t)n;
        d->mb_avail -= (uint32_t)n;
        d->produced += n;
        i += n;
    }
    return LR_OK;
}

lr_status lr__pq_delta_dec_get_i32(lr__pq_delta_dec *d, int32_t *out, size_t count,
                                   lr_error *err)
{
    return delta_get(d, NULL, out, count, err);
}

lr_status lr__pq_delta_dec_get_i64(lr__pq_delta_dec *d, int64_t *out, size_t count,
                                   lr_error *err)
{
    return delta_get(d, out, NULL, count, err);
}

lr_status lr__pq_delta_dec_end(lr__pq_delta_dec *d, const uint8_t *start, size_t *end_offset,
                               lr_error *err)
{
    /* Deltas not yet inside a set-up miniblock. */
    uint64_t left;

    if (d->produced == 0 && d->total > 0)
        d->produced = 1; /* the first value lives in the header */
    left = d->total - d->produced;
    if (left > d->mb_avail)
        left -= d->mb_avail;
    else
        left = 0;
    d->produced = d->total;
    d->mb_avail = 0;
    while (left > 0) {
        lr_status st = delta_next_miniblock(d, left, err);
        if (st != LR_OK)
            return st;
        left -= d->mb_avail;
        d->mb_avail = 0;
    }
    *end_offset = (size_t)(d->p - start);
    return LR_OK;
}

static lr_status delta_decode_oneshot(const uint8_t *p, size_t len, int64_t *out64,
                                      int32_t *out32, size_t count, size_t *consumed,
                                      lr_error *err)
{
    lr__pq_delta_dec d;
    size_t end;
    lr_status st;

    if (count == 0 && len == 0) {
        /* A page whose values are all null may carry no values section. */
        if (consumed)
            *consumed = 0;
        return LR_OK;
    }
    st = lr__pq_delta_dec_init(&d, p, len, out64 != NULL, err);
    if (st != LR_OK)
        return st;
    st = delta_get(&d, out64, out32, count, err);
    if (st != LR_OK)
        return st;
    st = lr__pq_delta_dec_end(&d, p, &end, err);
    if (st != LR_OK)
        return st;
    if (consumed)
        *consumed = end;
    return LR_OK;
}

lr_status lr__pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out, size_t count,
                                  size_t *consumed, lr_error *err)
{
    return delta_decode_oneshot(p, len, NULL, out, count, consumed, err);
}

lr_status lr__pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out, size_t count,
                                  size_t *consumed, lr_error *err)
{
    return delta_decode_oneshot(p, len, out, NULL, count, consumed, err);
}

/* ---- DELTA_BINARY_PACKED: encoder ---------------------------------------- */

#define LR_DELTA_BLOCK 128
#define LR_DELTA_MINIBLOCKS 4
#define LR_DELTA_MB_VALUES (LR_DELTA_BLOCK / LR_DELTA_MINIBLOCKS)

/*
 * Encodes values given as 64-bit unsigned (32-bit values zero-extended) with
 * wrap-around at `bits` (32 or 64), so INT32 deltas never need more than 32
 * bits.
 */
static lr_status delta_encode(const uint64_t *vals32, const int64_t *vals64, size_t n,
                              unsigned bits, lr_buf *dst, lr_error *err)
{
    const uint64_t m = bits == 64 ? UINT64_MAX : 0xffffffffu;
    uint8_t hdr[40];
    size_t k = 0;
    lr_status st;
    size_t i;

#define LR_VAL(j) (vals64 ? (uint64_t)vals64[j] : vals32[j])
    k += lr_varint_put(hdr + k, LR_DELTA_BLOCK);
    k += lr_varint_put(hdr + k, LR_DELTA_MINIBLOCKS);
    k += lr_varint_put(hdr + k, n);
    if (n > 0) {
        int64_t first = bits == 64 ? (int64_t)LR_VAL(0) : (int64_t)(int32_t)(uint32_t)LR_VAL(0);
        k += lr_varint_put(hdr + k, zigzag_encode64(first));
    } else {
        k += lr_varint_put(hdr + k, 0);
    }
    st = lr_buf_append(dst, hdr, k);
    if (st != LR_OK)
        return buf_status(err, st);

    for (i = 1; i < n; i += LR_DELTA_BLOCK) {
        uint64_t deltas[LR_DELTA_BLOCK];
        size_t nd = n - i < LR_DELTA_BLOCK ? n - i : LR_DELTA_BLOCK;
        int64_t min = INT64_MAX;
        uint8_t widths[LR_DELTA_MINIBLOCKS];
        size_t used_mb = (nd + LR_DELTA_MB_VALUES - 1) / LR_DELTA_MB_VALUES;
        size_t body = 0;
        bitwriter bw;

        for (size_t j = 0; j < nd; j++) {
            uint64_t dlt = (LR_VAL(i + j) - LR_VAL(i + j - 1)) & m;
            int64_t sd = bits == 64 ? (int64_t)dlt : (int64_t)(int32_t)(uint32_t)dlt;
            deltas[j] = (uint64_t)sd;
            if (sd < min)
                min = sd;
        }
        for (size_t j = 0; j < nd; j++)
            deltas[j] = (deltas[j] - (uint64_t)min) & m;
        for (size_t mb = 0; mb < LR_DELTA_MINIBLOCKS; mb++) {
            uint64_t orv = 0;
            for (size_t j = mb * LR_DELTA_MB_VALUES; j < (mb + 1) * LR_DELTA_MB_VALUES && j < nd; j++)
                orv |= deltas[j];
            widths[mb] = mb < used_mb ? (uint8_t)lr__pq_bit_width(orv) : 0;
            if (mb < used_mb)
                body += (size_t)LR_DELTA_MB_VALUES / 8 * widths[mb];
        }
        k = lr_varint_put(hdr, zigzag_encode64(min));
        st = lr_buf_reserve(dst, k + LR_DELTA_MINIBLOCKS + body);
        if (st != LR_OK)
            return buf_status(err, st);
        memcpy(dst->data + dst->len, hdr, k);
        memcpy(dst->data + dst->len + k, widths, LR_DELTA_MINIBLOCKS);
        bw.p = (uint8_t *)dst->data + dst->len + k + LR_DELTA_MINIBLOCKS;
        bw.acc = 0;
        bw.nbits = 0;
        for (size_t mb = 0; mb < used_mb; mb++) {
            for (size_t j = mb * LR_DELTA_MB_VALUES; j < (mb + 1) * LR_DELTA_MB_VALUES; j++)
                bw_put(&bw, j < nd ? deltas[j] : 0, widths[mb]);
        }
        bw_flush(&bw);
        dst->len += k + LR_DELTA_MINIBLOCKS + body;
        dst->data[dst->len] = '\0';
    }
#undef LR_VAL
    return LR_OK;
}

lr_status lr__pq_delta_encode_i32(const int32_t *vals, size_t n, lr_buf *dst, lr_error *err)
{
    uint64_t *wide = NULL;
    lr_status st;

    if (n > 0) {
        wide = malloc(n * sizeof *wide);
        if (wide == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory encoding %zu values", n);
        for (size_t i = 0; i < n; i++)
            wide[i] = (uint32_t)vals[i];
    }
    st = delta_encode(wide, NULL, n, 32, dst, err);
    free(wide);
    return st;
}

lr_status lr__pq_delta_encode_i64(const int64_t *vals, size_t n, lr_buf *dst, lr_error *err)
{
    static const int64_t none = 0;
    return delta_encode(NULL, n ? vals : &none, n, 64, dst, err);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---------------------------- */

lr_status lr__pq_delta_length_decode(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                     size_t count, size_t *consumed, lr_error *err)
{
    lr__pq_delta_dec d;
    int32_t lens[256];
    size_t i = 0, end, off;
    lr_status st;

    if (count == 0 && len == 0) {
        if (consumed)
            *consumed = 0;
        return LR_OK;
    }
    st = lr__pq_delta_dec_init(&d, p, len, false, err);
    if (st != LR_OK)
        return prefix_err(err, st, "DELTA_LENGTH_BYTE_ARRAY lengths");
    while (i < count) {
        size_t n = count - i > 256 ? 256 : count - i;
        st = lr__pq_delta_dec_get_i32(&d, lens, n, err);
        if (st != LR_OK)
            return prefix_err(err, st, "DELTA_LENGTH_BYTE_ARRAY lengths");
        for (size_t k = 0; k < n; k++) {
            if (lens[k] < 0)
                return lr_error_set(err, LR_ECORRUPT,
                                    "DELTA_LENGTH_BYTE_ARRAY: negative length %d for value %zu",
                                    (int)lens[k], i + k);
            out[i + k].len = (uint32_t)lens[k];
        }
        i += n;
    }
    st = lr__pq_delta_dec_end(&d, p, &end, err);
    if (st != LR_OK)
        return prefix_err(err, st, "DELTA_LENGTH_BYTE_ARRAY lengths");
    off = end;
    for (i = 0; i < count; i++) {
        if (out[i].len > len - off)
            return lr_error_set(err, LR_ECORRUPT,
                                "DELTA_LENGTH_BYTE_ARRAY: value %zu of %u bytes runs past the end",
                                i, (unsigned)out[i].len);
        out[i].ptr = p + off;
        off += out[i].len;
    }
    if (consumed)
        *consumed = off;
    return LR_OK;
}

static lr_status lengths_encode(const lr__pq_bytes *vals, size_t n, const uint32_t *skip,
                                lr_buf *dst, lr_error *err)
{
    int32_t *lens = NULL;
    lr_status st;

    if (n > 0) {
        lens = malloc(n * sizeof *lens);
        if (lens == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory encoding %zu lengths", n);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t l = vals[i].len - (skip ? skip[i] : 0);
        if (l > INT32_MAX) {
            free(lens);
            return lr_error_set(err, LR_ELIMIT, "byte array %zu is too long", i);
        }
        lens[i] = (int32_t)l;
    }
    st = lr__pq_delta_encode_i32(lens, n, dst, err);
    free(lens);
    return st;
}

lr_status lr__pq_delta_length_encode(const lr__pq_bytes *vals, size_t n, lr_buf *dst,
                                     lr_error *err)
{
    lr_status st = lengths_encode(vals, n, NULL, dst, err);

    for (size_t i = 0; st == LR_OK && i < n; i++) {
        st = lr_buf_append(dst, vals[i].ptr, vals[i].len);
        if (st != LR_OK)
            st = buf_status(err, st);
    }
    return st;
}

lr_status lr__pq_delta_byte_array_decode(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                         size_t count, lr_buf *storage, size_t *consumed,
                                         lr_error *err)
{
    int32_t *prefix = NULL;
    size_t end1 = 0, used2 = 0, total = 0;
    uint8_t *o;
    lr_status st;

    lr_buf_clear(storage);
    if (count == 0 && len == 0) {
        if (consumed)
            *consumed = 0;
        return LR_OK;
    }
    if (count > 0) {
        prefix = malloc(count * sizeof *prefix);
        if (prefix == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory decoding %zu values", count);
            goto done;
        }
    }
    st = lr__pq_delta_decode_i32(p, len, prefix, count, &end1, err);
    if (st != LR_OK) {
        prefix_err(err, st, "DELTA_BYTE_ARRAY prefix lengths");
        goto done;
    }
    st = lr__pq_delta_length_decode(p + end1, len - end1, out, count, &used2, err);
    if (st != LR_OK) {
        prefix_err(err, st, "DELTA_BYTE_ARRAY suffixes");
        goto done;
    }
    /* Check every prefix and the total size before reserving anything. */
    {
        size_t prev = 0;
        for (size_t i = 0; i < count; i++) {
            size_t l;
            if (prefix[i] < 0 || (size_t)prefix[i] > prev) {
                st = lr_error_set(err, LR_ECORRUPT,
                                  "DELTA_BYTE_ARRAY: prefix length %d of value %zu exceeds the "
                                  "previous value's %zu bytes",
                                  (int)prefix[i], i, prev);
                goto done;
            }
            l = (size_t)prefix[i] + out[i].len;
            if (l > UINT32_MAX || l > storage->max || total > storage->max - l) {
                st = lr_error_set(err, LR_ELIMIT,
                                  "DELTA_BYTE_ARRAY: decoded values exceed the %zu-byte limit",
                                  storage->max);
                goto done;
            }
            total += l;
            prev = l;
        }
    }
    st = lr_buf_reserve(storage, total);
    if (st != LR_OK) {
        st = lr_error_set(err, st, "DELTA_BYTE_ARRAY: cannot hold %zu bytes of values", total);
        goto done;
    }
    o = (uint8_t *)storage->data;
    {
        size_t off = 0;
        const uint8_t *prev = o;
        for (size_t i = 0; i < count; i++) {
            size_t pl = (size_t)prefix[i];
            lr__pq_bytes suf = out[i];
            if (pl)
                memmove(o + off, prev, pl);
            if (suf.len)
                memcpy(o + off + pl, suf.ptr, suf.len);
            out[i].ptr = o + off;
            out[i].len = (uint32_t)(pl + suf.len);
            prev = o + off;
            off += pl + suf.len;
        }
        storage->len = off;
        storage->data[off] = '\0';
    }
    if (consumed)
        *consumed = end1 + used2;
done:
    free(prefix);
    return st;
}

lr_status lr__pq_delta_byte_array_encode(const lr__pq_bytes *vals, size_t n, lr_buf *dst,
                                         lr_error *err)
{
    uint32_t *prefix = NULL;
    int32_t *pl = NULL;
    lr_status st = LR_OK;

    if (n > 0) {
        prefix = malloc(n * sizeof *prefix);
        pl = malloc(n * sizeof *pl);
        if (prefix == NULL || pl == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory encoding %zu values", n);
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t k = 0;
        if (i > 0) {
            uint32_t lim = vals[i].len < vals[i - 1].len ? vals[i].len : vals[i - 1].len;
            while (k < lim && vals[i].ptr[k] == vals[i - 1].ptr[k])
                k++;
        }
        if (k > INT32_MAX) {
            st = lr_error_set(err, LR_ELIMIT, "byte array %zu is too long", i);
            goto done;
        }
        prefix[i] = k;
        pl[i] = (int32_t)k;
    }
    st = lr__pq_delta_encode_i32(pl, n, dst, err);
    if (st != LR_OK)
        goto done;
    st = lengths_encode(vals, n, prefix, dst, err);
    for (size_t i = 0; st == LR_OK && i < n; i++) {
        st = lr_buf_append(dst, vals[i].ptr + prefix[i], vals[i].len - prefix[i]);
        if (st != LR_OK)
            st = buf_status(err, st);
    }
done:
    free(prefix);
    free(pl);
    return st;
}

/* ---- BYTE_STREAM_SPLIT ----------------------------------------------------- */

lr_status lr__pq_bss_decode(const uint8_t *p, size_t len, size_t width, void *out, size_t count,
                            lr_error *err)
{
    size_t stride;
    uint8_t *o = out;

    if (width == 0 || width > 65536)
        return lr_error_set(err, LR_EINVAL, "BYTE_STREAM_SPLIT: bad value width %zu", width);
    if (len % width != 0)
        return lr_error_set(err, LR_ECORRUPT,
                            "BYTE_STREAM_SPLIT: %zu bytes is not a multiple of the %zu-byte width",
                            len, width);
    if (count == 0)
        return LR_OK;
    stride = len / width;
    if (count > stride)
        return lr_error_set(err, LR_ECORRUPT,
                            "BYTE_STREAM_SPLIT: %zu values wanted, the streams hold %zu", count,
                            stride);
    if (width == 4) {
        const uint8_t *s0 = p, *s1 = p + stride, *s2 = p + 2 * stride, *s3 = p + 3 * stride;
        for (size_t i = 0; i < count; i++) {
            uint8_t b[4] = {s0[i], s1[i], s2[i], s3[i]};
            memcpy(o + 4 * i, b, 4);
        }
    } else if (width == 8) {
        for (size_t i = 0; i < count; i++) {
            uint8_t b[8];
            for (size_t k = 0; k < 8; k++)
                b[k] = p[k * stride + i];
            memcpy(o + 8 * i, b, 8);
        }
    } else {
        for (size_t k = 0; k < width; k++) {
            const uint8_t *s = p + k * stride;
            for (size_t i = 0; i < count; i++)
                o[i * width + k] = s[i];
        }
    }
#if LR_BIG_ENDIAN
    if (width == 4 || width == 8) {
        for (size_t i = 0; i < count; i++) {
            uint8_t *v = o + i * width;
            for (size_t a = 0, b = width - 1; a < b; a++, b--) {
                uint8_t t = v[a];
                v[a] = v[b];
                v[b] = t;
            }
        }
    }
#endif
    return LR_OK;
}

lr_status lr__pq_bss_encode(const void *vals, size_t count, size_t width, lr_buf *dst,
                            lr_error *err)
{
    const uint8_t *v = vals;
    uint8_t *o;
    lr_status st;

    if (width == 0 || width > 65536)
        return lr_error_set(err, LR_EINVAL, "BYTE_STREAM_SPLIT: bad value width %zu", width);
    if (count > SIZE_MAX / width)
        return lr_error_set(err, LR_ELIMIT, "BYTE_STREAM_SPLIT: too many values");
    st = lr_buf_reserve(dst, count * width);
    if (st != LR_OK)
        return buf_status(err, st);
    o = (uint8_t *)dst->data + dst->len;
    for (size_t k = 0; k < width; k++) {
#if LR_BIG_ENDIAN
        size_t src_k = (width == 4 || width == 8) ? width - 1 - k : k;
#else
        size_t src_k = k;
#endif
        for (size_t i = 0; i < count; i++)
            o[k * count + i] = v[i * width + src_k];
    }
    dst->len += count * width;
    dst->data[dst->len] = '\0';
    return LR_OK;
}
