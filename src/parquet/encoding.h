/*
 * encoding.h - value and level encodings of the Parquet format (internal).
 *
 * Encoders and decoders for the byte layouts inside (decompressed) page
 * bodies, from parquet-format's Encodings.md:
 *   - the RLE/bit-packed hybrid (levels, dictionary indices, RLE booleans),
 *     bit widths 0..32, encoder and decoder;
 *   - the deprecated BIT_PACKED level encoding (MSB first), decoder;
 *   - PLAIN for every physical type (INT32, INT64, INT96, FLOAT, DOUBLE,
 *     BOOLEAN bit-packed LSB first, BYTE_ARRAY length-prefixed,
 *     FIXED_LEN_BYTE_ARRAY), decoders and encoders;
 *   - DELTA_BINARY_PACKED (int32/int64), decoder and encoder;
 *   - DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY, decoders;
 *   - BYTE_STREAM_SPLIT (4-, 8- and n-byte values), decoder and encoder.
 *
 * It knows nothing about pages, Thrift, schemas or nulls: a caller passes
 * the bytes of one encoded section and the number of values it expects
 * (for values: the page's non-null count). Every decoder checks each read
 * against the end of its input, never reads past it, fails with
 * LR_ECORRUPT (truncated or malformed input) or LR_ELIMIT (a declared size
 * beyond a bound) instead of crashing, and never allocates in proportion to
 * a size the input declares before checking that the input can hold it.
 *
 * Byte arrays are returned as views (lr__pq_bytes) into the caller's input
 * buffer, which must outlive them, except DELTA_BYTE_ARRAY whose values are
 * rebuilt into caller-provided storage. Multi-byte values are little-endian
 * on disk; decoders convert to host order.
 *
 * Nothing here is thread-shared; decoder structs belong to one caller.
 */
#ifndef LARDER_PARQUET_ENCODING_H
#define LARDER_PARQUET_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A borrowed byte string: a view into a buffer owned by someone else. */
typedef struct lr__pq_bytes {
    const uint8_t *ptr; /* may be NULL when len == 0 */
    uint32_t len;
} lr__pq_bytes;

/* The number of bits needed for values 0..max_value (0 for 0, 32 at most). */
unsigned lr__pq_bit_width(uint64_t max_value);

/* ------------------------------------------------------------------------ */
/* RLE / bit-packed hybrid                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Appends the RLE/bit-packed hybrid encoding of vals[0..n) with `bit_width`
 * (0..32) to dst, WITHOUT any length prefix. Every value must fit in
 * bit_width bits (LR_EINVAL otherwise). Runs of 8 or more equal values
 * become RLE runs, the rest bit-packed runs of up to 504 values (the last
 * one padded with zeros to a multiple of 8). n == 0 appends nothing.
 * Errors: LR_EINVAL, LR_ELIMIT (dst's cap), LR_ENOMEM.
 */
lr_status lr__pq_rle_encode_u32(const uint32_t *vals, size_t n, unsigned bit_width, lr_buf *dst,
                                lr_error *err);

/* As lr__pq_rle_encode_u32 for 16-bit values such as levels (bit_width 0..16). */
lr_status lr__pq_rle_encode_u16(const uint16_t *vals, size_t n, unsigned bit_width, lr_buf *dst,
                                lr_error *err);

/*
 * Appends the levels section of a data page v1: a 4-byte little-endian
 * length, then lr__pq_rle_encode_u16(levels, n, lr__pq_bit_width(max_level)).
 * (Data page v2 writes the hybrid without the prefix: use the function
 * above.) Errors as lr__pq_rle_encode_u32.
 */
lr_status lr__pq_levels_encode_v1(const uint16_t *levels, size_t n, uint16_t max_level,
                                  lr_buf *dst, lr_error *err);

/*
 * Decoder state for one hybrid stream. Initialise with lr__pq_rle_dec_init
 * (or _init_dict); the fields are private. The stream may be read in any
 * number of calls.
 */
typedef struct lr__pq_rle_dec {
    const uint8_t *p;   /* next unread run header */
    const uint8_t *end; /* end of input */
    unsigned bit_width;
    uint32_t rle_left;  /* values left in the current RLE run */
    uint32_t rle_value;
    uint64_t bp_left;   /* values left (and present) in the current bit-packed run */
    const uint8_t *bp;  /* start of the current bit-packed run's data */
    uint64_t bp_idx;    /* index of the next value in that run */
} lr__pq_rle_dec;

/*
 * Starts decoding a hybrid stream of `bit_width` (0..32) bits per value from
 * p[0..len), which the caller keeps alive while decoding. LR_EINVAL for a
 * bad bit width.
 */
lr_status lr__pq_rle_dec_init(lr__pq_rle_dec *d, const uint8_t *p, size_t len, unsigned bit_width,
                              lr_error *err);

/*
 * Starts decoding dictionary indices of an RLE_DICTIONARY/PLAIN_DICTIONARY
 * data page: p[0] is the bit width (0..32), the hybrid follows. LR_ECORRUPT
 * when len is 0 or the width is above 32.
 */
lr_status lr__pq_rle_dec_init_dict(lr__pq_rle_dec *d, const uint8_t *p, size_t len,
                                   lr_error *err);

/*
 * Decodes exactly `count` values into out[0..count). LR_ECORRUPT when the
 * stream ends first or is malformed (a run header that does not fit, an RLE
 * value with bits above bit_width). A final bit-packed run shorter than its
 * header claims is accepted as far as its bytes go.
 */
lr_status lr__pq_rle_dec_get_u32(lr__pq_rle_dec *d, uint32_t *out, size_t count, lr_error *err);

/* As lr__pq_rle_dec_get_u32 into 16-bit values; LR_ECORRUPT for a value above 65535. */
lr_status lr__pq_rle_dec_get_u16(lr__pq_rle_dec *d, uint16_t *out, size_t count, lr_error *err);

/*
 * As lr__pq_rle_dec_get_u32 for dictionary indices, which must all be below
 * dict_size (LR_ECORRUPT naming the index otherwise).
 */
lr_status lr__pq_rle_dec_get_indices(lr__pq_rle_dec *d, uint32_t *out, size_t count,
                                     uint32_t dict_size, lr_error *err);

/*
 * Skips `count` values. Same errors as lr__pq_rle_dec_get_u32. Used for
 * levels and indices of rows a reader does not want.
 */
lr_status lr__pq_rle_dec_skip(lr__pq_rle_dec *d, size_t count, lr_error *err);

/*
 * Reads the levels section of a data page v1 encoded as RLE: a 4-byte
 * little-endian length n, then n bytes of hybrid. Points *data at the
 * hybrid bytes and sets *data_len to n and *consumed to 4 + n. LR_ECORRUPT when the prefix or
 * the hybrid does not fit in len.
 */
lr_status lr__pq_levels_v1_section(const uint8_t *p, size_t len, const uint8_t **data,
                                   size_t *data_len, size_t *consumed, lr_error *err);

/*
 * Decodes `count` levels in the deprecated BIT_PACKED encoding (values
 * packed most significant bit first, no length prefix, no run headers) with
 * `bit_width` (0..16). *consumed is set to ceil(count * bit_width / 8).
 * LR_ECORRUPT when p[0..len) is shorter.
 */
lr_status lr__pq_bitpacked_levels_decode(const uint8_t *p, size_t len, unsigned bit_width,
                                         uint16_t *out, size_t count, size_t *consumed,
                                         lr_error *err);

/*
 * RLE-encoded booleans as in data pages (v1 and v2): a 4-byte little-endian
 * length, then the hybrid with bit width 1. Decodes `count` values (0 or 1)
 * into out and sets *consumed (may be NULL) to 4 + the length.
 */
lr_status lr__pq_rle_bool_decode(const uint8_t *p, size_t len, uint8_t *out, size_t count,
                                 size_t *consumed, lr_error *err);

/* Appends RLE-encoded booleans (length prefix then hybrid, width 1). vals are 0/1. */
lr_status lr__pq_rle_bool_encode(const uint8_t *vals, size_t n, lr_buf *dst, lr_error *err);

/* ------------------------------------------------------------------------ */
/* PLAIN                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Decodes `count` fixed-width little-endian values of `width` bytes (4 or 8:
 * INT32, FLOAT, INT64, DOUBLE; or 12 for INT96, copied as is) from p[0..len)
 * into out (count * width bytes, host order). *consumed (may be NULL) is set
 * to count * width. LR_ECORRUPT when len is shorter, LR_EINVAL for another
 * width.
 */
lr_status lr__pq_plain_decode_fixed(const uint8_t *p, size_t len, size_t count, size_t width,
                                    void *out, size_t *consumed, lr_error *err);

/*
 * Decodes `count` PLAIN booleans (bit-packed, least significant bit first)
 * starting at bit `first_bit` of p, into out (one byte, 0 or 1, per value).
 * LR_ECORRUPT when p[0..len) holds fewer than first_bit + count bits.
 */
lr_status lr__pq_plain_decode_bool(const uint8_t *p, size_t len, uint64_t first_bit,
                                   uint8_t *out, size_t count, lr_error *err);

/*
 * Decodes `count` PLAIN BYTE_ARRAY values (4-byte little-endian length, then
 * the bytes) into views of p. *consumed (may be NULL) is set to the bytes
 * used. LR_ECORRUPT when a length runs past len.
 */
lr_status lr__pq_plain_decode_byte_array(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                         size_t count, size_t *consumed, lr_error *err);

/*
 * Decodes `count` PLAIN FIXED_LEN_BYTE_ARRAY values of type_len (1..2^31-1)
 * bytes into views of p. *consumed (may be NULL) is set to count * type_len.
 */
lr_status lr__pq_plain_decode_flba(const uint8_t *p, size_t len, size_t type_len,
                                   lr__pq_bytes *out, size_t count, size_t *consumed,
                                   lr_error *err);

/* Appends count host-order values of width 4 or 8 (or 12) as PLAIN little-endian. */
lr_status lr__pq_plain_encode_fixed(const void *vals, size_t count, size_t width, lr_buf *dst,
                                    lr_error *err);

/*
 * Incremental PLAIN boolean packer: bits are collected LSB first and
 * appended one byte per 8 values; lr__pq_plain_bool_flush writes the last
 * partial byte (zero padded). Zero-initialise or use _init.
 */
typedef struct lr__pq_bool_packer {
    uint8_t byte;
    unsigned nbits;
} lr__pq_bool_packer;

void lr__pq_bool_packer_init(lr__pq_bool_packer *bp);
lr_status lr__pq_bool_packer_put(lr__pq_bool_packer *bp, bool v, lr_buf *dst, lr_error *err);
lr_status lr__pq_bool_packer_flush(lr__pq_bool_packer *bp, lr_buf *dst, lr_error *err);

/* Appends count PLAIN booleans (vals 0/1), bit-packed LSB first, zero padded. */
lr_status lr__pq_plain_encode_bool(const uint8_t *vals, size_t count, lr_buf *dst, lr_error *err);

/* Appends one PLAIN BYTE_ARRAY value (4-byte LE length, bytes). n <= UINT32_MAX. */
lr_status lr__pq_plain_put_byte_array(lr_buf *dst, const void *v, size_t n, lr_error *err);

/* Appends count PLAIN BYTE_ARRAY values. */
lr_status lr__pq_plain_encode_byte_array(const lr__pq_bytes *vals, size_t count, lr_buf *dst,
                                         lr_error *err);

/*
 * INT96 timestamps (Impala/Spark): 8 bytes little-endian nanoseconds of the
 * day, then 4 bytes little-endian Julian day. Converts to microseconds
 * (truncating toward negative infinity) or nanoseconds since the Unix
 * epoch. LR_ECORRUPT when the result does not fit in int64 (the nanosecond
 * form covers years 1677..2262 only).
 */
lr_status lr__pq_int96_to_micros(const uint8_t b[12], int64_t *us, lr_error *err);
lr_status lr__pq_int96_to_nanos(const uint8_t b[12], int64_t *ns, lr_error *err);

/* Encodes microseconds since the epoch as INT96 (for tests and writers). */
void lr__pq_int96_from_micros(int64_t us, uint8_t b[12]);

/* ------------------------------------------------------------------------ */
/* DELTA_BINARY_PACKED                                                       */
/* ------------------------------------------------------------------------ */

/* Sane bounds on a DELTA_BINARY_PACKED header. */
#define LR__PQ_DELTA_MAX_BLOCK 65536u     /* values per block */
#define LR__PQ_DELTA_MAX_MINIBLOCKS 1024u /* miniblocks per block */

/*
 * Decoder state for one DELTA_BINARY_PACKED stream (private fields). The
 * stream may be read in any number of calls; lr__pq_delta_dec_end then
 * finds where it ends (for the encodings that put data after it).
 */
typedef struct lr__pq_delta_dec {
    const uint8_t *p;   /* next unread byte (after the current miniblock) */
    const uint8_t *end; /* end of input */
    bool is64;
    uint32_t miniblocks;   /* per block */
    uint32_t mb_values;    /* values per miniblock */
    uint64_t total;        /* values the header declares */
    uint64_t produced;     /* values handed out so far */
    uint64_t first;        /* the header's first value */
    uint64_t last;         /* previous value (wrap-around arithmetic) */
    uint64_t min_delta;    /* current block's min delta */
    const uint8_t *widths; /* current block's miniblock bit widths (NULL: no block yet) */
    uint32_t mb_index;     /* current miniblock within the block */
    uint32_t mb_width;     /* its bit width */
    uint32_t mb_pos;       /* index of the next value in it */
    uint32_t mb_avail;     /* values of it still to hand out */
    const uint8_t *mb;     /* its packed data */
} lr__pq_delta_dec;

/*
 * Parses the header (block size, miniblocks per block, total count, first
 * value) of a stream in p[0..len), which the caller keeps alive. is64
 * selects INT64 (else INT32: values and deltas wrap at 32 bits).
 * LR_ECORRUPT for a truncated header, a block size that is not a multiple of
 * 128, a miniblock size that is not a multiple of 32, or sizes above the
 * LR__PQ_DELTA_MAX_* bounds.
 */
lr_status lr__pq_delta_dec_init(lr__pq_delta_dec *d, const uint8_t *p, size_t len, bool is64,
                                lr_error *err);

/* The number of values the header declares. */
uint64_t lr__pq_delta_dec_total(const lr__pq_delta_dec *d);

/*
 * Decodes the next `count` values. LR_ECORRUPT when fewer remain (of the
 * declared total) or the data is truncated or malformed (a miniblock bit
 * width above 64). INT32 streams with miniblocks wider than 32 bits, which
 * the spec forbids but DuckDB writes, decode modulo 2^32.
 */
lr_status lr__pq_delta_dec_get_i32(lr__pq_delta_dec *d, int32_t *out, size_t count,
                                   lr_error *err);
lr_status lr__pq_delta_dec_get_i64(lr__pq_delta_dec *d, int64_t *out, size_t count,
                                   lr_error *err);

/*
 * Walks past the values not yet decoded and sets *end_offset to the offset
 * from the start of the input of the first byte after the stream (every
 * miniblock the stream declares is taken at its full size). LR_ECORRUPT when
 * the stream is truncated.
 */
lr_status lr__pq_delta_dec_end(lr__pq_delta_dec *d, const uint8_t *start, size_t *end_offset,
                               lr_error *err);

/*
 * One-shot decoders: `count` values from p[0..len); *consumed (may be NULL)
 * is set to the stream's length. LR_ECORRUPT when the stream declares fewer
 * than count values (more are decoded only as far as count, then skipped).
 */
lr_status lr__pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out, size_t count,
                                  size_t *consumed, lr_error *err);
lr_status lr__pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out, size_t count,
                                  size_t *consumed, lr_error *err);

/*
 * Appends the DELTA_BINARY_PACKED encoding of vals[0..n) (block size 128, 4
 * miniblocks of 32 values, as parquet-mr and arrow write) to dst.
 */
lr_status lr__pq_delta_encode_i32(const int32_t *vals, size_t n, lr_buf *dst, lr_error *err);
lr_status lr__pq_delta_encode_i64(const int64_t *vals, size_t n, lr_buf *dst, lr_error *err);

/* ------------------------------------------------------------------------ */
/* DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY                              */
/* ------------------------------------------------------------------------ */

/*
 * DELTA_LENGTH_BYTE_ARRAY: a DELTA_BINARY_PACKED stream of `count` lengths,
 * then the concatenated bytes. Decodes `count` values into views of p;
 * *consumed (may be NULL) is set to the bytes used. LR_ECORRUPT on negative
 * lengths or lengths that run past len.
 */
lr_status lr__pq_delta_length_decode(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                     size_t count, size_t *consumed, lr_error *err);

/* Appends DELTA_LENGTH_BYTE_ARRAY encoding of vals[0..n) (tests, writers). */
lr_status lr__pq_delta_length_encode(const lr__pq_bytes *vals, size_t n, lr_buf *dst,
                                     lr_error *err);

/*
 * DELTA_BYTE_ARRAY (incremental/front coding): a DELTA_BINARY_PACKED stream
 * of prefix lengths, then DELTA_LENGTH_BYTE_ARRAY suffixes; value i is the
 * first prefix[i] bytes of value i-1 followed by suffix i. Valid for
 * BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY. The values are rebuilt into
 * `storage`, which is cleared first and whose cap bounds the total output
 * (LR_ELIMIT); the views in out point into storage and stay valid until
 * storage is next changed. LR_ECORRUPT when a prefix is longer than the
 * previous value, lengths are negative or data is truncated.
 */
lr_status lr__pq_delta_byte_array_decode(const uint8_t *p, size_t len, lr__pq_bytes *out,
                                         size_t count, lr_buf *storage, size_t *consumed,
                                         lr_error *err);

/* Appends DELTA_BYTE_ARRAY encoding of vals[0..n) (tests, writers). */
lr_status lr__pq_delta_byte_array_encode(const lr__pq_bytes *vals, size_t n, lr_buf *dst,
                                         lr_error *err);

/* ------------------------------------------------------------------------ */
/* BYTE_STREAM_SPLIT                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Decodes the first `count` values of `width` bytes (4: FLOAT/INT32, 8:
 * DOUBLE/INT64, any 1..65536 for FIXED_LEN_BYTE_ARRAY) from the `width`
 * byte streams that make up p[0..len), into out (count * width bytes,
 * values in host order for widths 4 and 8, as stored for other widths).
 * Each stream is len / width bytes long (the page's value count, which may
 * exceed count); LR_ECORRUPT when len is not a multiple of width or the
 * streams hold fewer than count values.
 */
lr_status lr__pq_bss_decode(const uint8_t *p, size_t len, size_t width, void *out, size_t count,
                            lr_error *err);

/* Appends BYTE_STREAM_SPLIT encoding of count values of `width` bytes. */
lr_status lr__pq_bss_encode(const void *vals, size_t count, size_t width, lr_buf *dst,
                            lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
