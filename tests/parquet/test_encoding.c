/*
 * test_encoding.c - Parquet value and level encodings (src/parquet/encoding.c):
 * round trips at every bit width, the byte layouts the spec gives as
 * examples, streams written with other block layouts than ours, and
 * malformed or truncated input, which must fail cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parquet/encoding.h"

/* Deterministic xorshift64* so every run tests the same data. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t mask32(unsigned w)
{
    return w >= 32 ? UINT32_MAX : ((1u << w) - 1);
}

/* Fills n values of width w with a pattern: 0 random, 1 runs, 2 mixed, 3 constant. */
static void fill_pattern(uint32_t *v, size_t n, unsigned w, int pattern)
{
    size_t i = 0;
    while (i < n) {
        uint32_t x = (uint32_t)rnd() & mask32(w);
        size_t run;
        switch (pattern) {
        case 0:
            run = 1;
            break;
        case 1:
            run = 1 + rnd() % 40;
            break;
        case 2:
            run = (rnd() % 3 == 0) ? 8 + rnd() % 20 : 1 + rnd() % 5;
            break;
        default:
            run = n;
            x = mask32(w);
            break;
        }
        for (size_t k = 0; k < run && i < n; k++)
            v[i++] = x;
    }
}

static void test_bit_width(void **state)
{
    (void)state;
    assert_int_equal(lr__pq_bit_width(0), 0);
    assert_int_equal(lr__pq_bit_width(1), 1);
    assert_int_equal(lr__pq_bit_width(2), 2);
    assert_int_equal(lr__pq_bit_width(3), 2);
    assert_int_equal(lr__pq_bit_width(255), 8);
    assert_int_equal(lr__pq_bit_width(256), 9);
    assert_int_equal(lr__pq_bit_width(UINT32_MAX), 32);
    assert_int_equal(lr__pq_bit_width(UINT64_MAX), 64);
}

/* The spec's example: 0..7 with bit width 3 bit-packed is 0x88 0xC6 0xFA. */
static void test_rle_spec_example(void **state)
{
    uint32_t vals[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[8];
    lr_buf b;
    lr__pq_rle_dec d;
    static const uint8_t want[] = {0x03, 0x88, 0xc6, 0xfa};
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_rle_encode_u32(vals, 8, 3, &b, NULL), LR_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_int_equal(lr__pq_rle_dec_init(&d, (const uint8_t *)b.data, b.len, 3, NULL), LR_OK);
    assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 8, NULL), LR_OK);
    assert_memory_equal(out, vals, sizeof vals);
    lr_buf_free(&b);

    /* An RLE run: 100 x 5 with width 3 is header 200 (0xc8 0x01), value 0x05. */
    {
        uint32_t many[100];
        static const uint8_t want2[] = {0xc8, 0x01, 0x05};
        for (int i = 0; i < 100; i++)
            many[i] = 5;
        lr_buf_init(&b, 0);
        assert_int_equal(lr__pq_rle_encode_u32(many, 100, 3, &b, NULL), LR_OK);
        assert_int_equal(b.len, sizeof want2);
        assert_memory_equal(b.data, want2, sizeof want2);
        lr_buf_free(&b);
    }
}

/* Every bit width, several patterns and lengths, decoded in uneven chunks. */
static void test_rle_roundtrip_all_widths(void **state)
{
    static const size_t lens[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 503, 504, 505, 1000, 5003};
    uint32_t *v = malloc(5003 * sizeof *v), *out = malloc(5003 * sizeof *out);
    lr_buf b;
    (void)state;

    assert_non_null(v);
    assert_non_null(out);
    for (unsigned w = 0; w <= 32; w++) {
        for (int pat = 0; pat < 4; pat++) {
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                size_t n = lens[li], got = 0, chunk = 1 + (w + li) % 13;
                lr__pq_rle_dec d;
                lr_error err;
                fill_pattern(v, n, w, pat);
                lr_buf_init(&b, 0);
                assert_int_equal(lr__pq_rle_encode_u32(v, n, w, &b, &err), LR_OK);
                assert_int_equal(
                    lr__pq_rle_dec_init(&d, (const uint8_t *)b.data, b.len, w, &err), LR_OK);
                memset(out, 0xab, n * sizeof *out);
                while (got < n) {
                    size_t k = n - got < chunk ? n - got : chunk;
                    assert_int_equal(lr__pq_rle_dec_get_u32(&d, out + got, k, &err), LR_OK);
                    got += k;
                    chunk = chunk * 3 % 97 + 1;
                }
                if (n)
                    assert_memory_equal(out, v, n * sizeof *v);
                /* Reading past the encoded values (beyond the padding) fails. */
                {
                    lr__pq_rle_dec d2;
                    uint32_t *big = malloc((n + 16) * sizeof *big);
                    assert_non_null(big);
                    lr__pq_rle_dec_init(&d2, (const uint8_t *)b.data, b.len, w, NULL);
                    lr_error_clear(&err);
                    assert_int_equal(lr__pq_rle_dec_get_u32(&d2, big, n + 9, &err), LR_ECORRUPT);
                    assert_non_null(strstr(err.msg, "ended after"));
                    free(big);
                }
                lr_buf_free(&b);
            }
        }
    }
    free(v);
    free(out);
}

/* Skipping and then reading gives the same values as reading everything. */
static void test_rle_skip(void **state)
{
    uint32_t v[2000], out[2000];
    lr_buf b;
    (void)state;

    for (unsigned w = 1; w <= 20; w += 3) {
        lr__pq_rle_dec d;
        fill_pattern(v, 2000, w, 2);
        lr_buf_init(&b, 0);
        assert_int_equal(lr__pq_rle_encode_u32(v, 2000, w, &b, NULL), LR_OK);
        lr__pq_rle_dec_init(&d, (const uint8_t *)b.data, b.len, w, NULL);
        assert_int_equal(lr__pq_rle_dec_skip(&d, 3, NULL), LR_OK);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 10, NULL), LR_OK);
        assert_memory_equal(out, v + 3, 10 * sizeof *v);
        assert_int_equal(lr__pq_rle_dec_skip(&d, 1001, NULL), LR_OK);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 986, NULL), LR_OK);
        assert_memory_equal(out, v + 1014, 986 * sizeof *v);
        assert_int_equal(lr__pq_rle_dec_skip(&d, 9, NULL), LR_ECORRUPT); /* beyond any padding */
        lr_buf_free(&b);
    }
}

static void test_rle_u16_and_levels(void **state)
{
    uint16_t lv[3000], out[3000];
    lr_buf b;
    const uint8_t *data;
    size_t dlen, used;
    lr__pq_rle_dec d;
    (void)state;

    for (size_t i = 0; i < 3000; i++)
        lv[i] = (i % 100 < 70) ? 2 : (uint16_t)(rnd() % 3);
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_levels_encode_v1(lv, 3000, 2, &b, NULL), LR_OK);
    assert_int_equal(lr__pq_levels_v1_section((const uint8_t *)b.data, b.len, &data, &dlen, &used,
                                              NULL),
                     LR_OK);
    assert_int_equal(used, b.len);
    assert_int_equal(dlen, b.len - 4);
    lr__pq_rle_dec_init(&d, data, dlen, 2, NULL);
    assert_int_equal(lr__pq_rle_dec_get_u16(&d, out, 3000, NULL), LR_OK);
    assert_memory_equal(out, lv, sizeof lv);
    /* A declared length beyond the input is corrupt. */
    assert_int_equal(lr__pq_levels_v1_section((const uint8_t *)b.data, b.len - 1, &data, &dlen,
                                              &used, NULL),
                     LR_ECORRUPT);
    assert_int_equal(lr__pq_levels_v1_section((const uint8_t *)b.data, 3, &data, &dlen, &used,
                                              NULL),
                     LR_ECORRUPT);
    lr_buf_free(&b);

    /* Levels that do not fit the width are refused by the encoder. */
    lr_buf_init(&b, 0);
    lv[5] = 4;
    assert_int_equal(lr__pq_levels_encode_v1(lv, 10, 2, &b, NULL), LR_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(lr__pq_rle_encode_u16(lv, 10, 17, &b, NULL), LR_EINVAL);
    assert_int_equal(lr__pq_rle_encode_u32(NULL, 0, 33, &b, NULL), LR_EINVAL);
    lr_buf_free(&b);

    /* Width-17 values decoded as u16 are refused. */
    {
        uint32_t big[8] = {70000, 1, 2, 3, 4, 5, 6, 7};
        lr_buf_init(&b, 0);
        assert_int_equal(lr__pq_rle_encode_u32(big, 8, 17, &b, NULL), LR_OK);
        lr__pq_rle_dec_init(&d, (const uint8_t *)b.data, b.len, 17, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u16(&d, out, 8, NULL), LR_ECORRUPT);
        lr_buf_free(&b);
    }
}

static void test_rle_malformed(void **state)
{
    lr__pq_rle_dec d;
    uint32_t out[64];
    lr_error err;
    (void)state;

    /* A run header that never ends. */
    {
        static const uint8_t in[] = {0x80, 0x80, 0x80};
        lr__pq_rle_dec_init(&d, in, sizeof in, 3, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
    }
    /* A run header above 32 bits. */
    {
        static const uint8_t in[] = {0xfe, 0xff, 0xff, 0xff, 0x7f, 0x01};
        lr__pq_rle_dec_init(&d, in, sizeof in, 3, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
    }
    /* An RLE run whose value is missing. */
    {
        static const uint8_t in[] = {0x10};
        lr__pq_rle_dec_init(&d, in, sizeof in, 9, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    /* An RLE value with bits above the width. */
    {
        static const uint8_t in[] = {0x10, 0x09};
        lr__pq_rle_dec_init(&d, in, sizeof in, 3, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
    }
    /* A final bit-packed run cut short is read as far as its bytes go. */
    {
        static const uint8_t in[] = {0x05, 0x88, 0xc6, 0xfa, 0x88}; /* 16 values claimed */
        lr__pq_rle_dec_init(&d, in, sizeof in, 3, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 10, &err), LR_OK);
        assert_int_equal(out[7], 7);
        assert_int_equal(out[8], 0);
        assert_int_equal(out[9], 1);
        lr__pq_rle_dec_init(&d, in, sizeof in, 3, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 11, &err), LR_ECORRUPT);
    }
    /* Zero-length runs are skipped; they consume input so decoding ends. */
    {
        static const uint8_t in[] = {0x00, 0x01, 0x00, 0x01};
        lr__pq_rle_dec_init(&d, in, sizeof in, 0, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
    }
    /* Bit width 0: RLE runs carry no value bytes. */
    {
        static const uint8_t in[] = {0x14};
        lr__pq_rle_dec_init(&d, in, sizeof in, 0, NULL);
        assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 10, &err), LR_OK);
        assert_int_equal(out[9], 0);
    }
    assert_int_equal(lr__pq_rle_dec_init(&d, NULL, 0, 33, &err), LR_EINVAL);
    lr__pq_rle_dec_init(&d, NULL, 0, 4, NULL);
    assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 0, &err), LR_OK);
    assert_int_equal(lr__pq_rle_dec_get_u32(&d, out, 1, &err), LR_ECORRUPT);
}

static void test_dict_indices(void **state)
{
    uint32_t v[300], out[300];
    lr_buf b;
    lr__pq_rle_dec d;
    lr_error err;
    (void)state;

    for (int i = 0; i < 300; i++)
        v[i] = (uint32_t)(rnd() % 37);
    lr_buf_init(&b, 0);
    assert_int_equal(lr_buf_append_byte(&b, 6), LR_OK);
    assert_int_equal(lr__pq_rle_encode_u32(v, 300, 6, &b, NULL), LR_OK);
    assert_int_equal(lr__pq_rle_dec_init_dict(&d, (const uint8_t *)b.data, b.len, NULL), LR_OK);
    assert_int_equal(lr__pq_rle_dec_get_indices(&d, out, 300, 37, NULL), LR_OK);
    assert_memory_equal(out, v, sizeof v);
    /* A dictionary one entry short is caught. */
    v[150] = 36;
    lr_buf_clear(&b);
    lr_buf_append_byte(&b, 6);
    lr__pq_rle_encode_u32(v, 300, 6, &b, NULL);
    lr__pq_rle_dec_init_dict(&d, (const uint8_t *)b.data, b.len, NULL);
    assert_int_equal(lr__pq_rle_dec_get_indices(&d, out, 300, 36, &err), LR_ECORRUPT);
    assert_non_null(strstr(err.msg, "out of range"));
    /* ... also inside an RLE run. */
    {
        uint32_t same[50];
        for (int i = 0; i < 50; i++)
            same[i] = 9;
        lr_buf_clear(&b);
        lr_buf_append_byte(&b, 4);
        lr__pq_rle_encode_u32(same, 50, 4, &b, NULL);
        lr__pq_rle_dec_init_dict(&d, (const uint8_t *)b.data, b.len, NULL);
        assert_int_equal(lr__pq_rle_dec_get_indices(&d, out, 50, 9, &err), LR_ECORRUPT);
    }
    lr_buf_free(&b);
    {
        static const uint8_t bad[] = {33, 0};
        assert_int_equal(lr__pq_rle_dec_init_dict(&d, bad, sizeof bad, &err), LR_ECORRUPT);
        assert_int_equal(lr__pq_rle_dec_init_dict(&d, bad, 0, &err), LR_ECORRUPT);
    }
}

/* The spec's BIT_PACKED example: 0..7 with width 3 MSB first is 0x05 0x39 0x77. */
static void test_bitpacked_levels(void **state)
{
    static const uint8_t in[] = {0x05, 0x39, 0x77};
    uint16_t out[8];
    size_t used = 0;
    (void)state;

    assert_int_equal(lr__pq_bitpacked_levels_decode(in, sizeof in, 3, out, 8, &used, NULL), LR_OK);
    assert_int_equal(used, 3);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], i);
    /* 7 values need 21 bits = 3 bytes; 8 values with only 2 bytes is corrupt. */
    assert_int_equal(lr__pq_bitpacked_levels_decode(in, 3, 3, out, 7, &used, NULL), LR_OK);
    assert_int_equal(used, 3);
    assert_int_equal(lr__pq_bitpacked_levels_decode(in, 2, 3, out, 8, &used, NULL), LR_ECORRUPT);
    assert_int_equal(lr__pq_bitpacked_levels_decode(in, 3, 0, out, 8, &used, NULL), LR_OK);
    assert_int_equal(used, 0);
    assert_int_equal(out[7], 0);
    assert_int_equal(lr__pq_bitpacked_levels_decode(in, 3, 17, out, 1, &used, NULL), LR_EINVAL);
}

static void test_rle_bool(void **state)
{
    uint8_t v[1000], out[1000];
    lr_buf b;
    size_t used = 0;
    (void)state;

    for (int i = 0; i < 1000; i++)
        v[i] = (i / 37) % 2 ? 1 : (uint8_t)(rnd() & 1);
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_rle_bool_encode(v, 1000, &b, NULL), LR_OK);
    assert_int_equal(lr_buf_append(&b, "tail", 4), LR_OK);
    assert_int_equal(lr__pq_rle_bool_decode((const uint8_t *)b.data, b.len, out, 1000, &used, NULL),
                     LR_OK);
    assert_memory_equal(out, v, sizeof v);
    assert_int_equal(used, b.len - 4);
    assert_int_equal(lr__pq_rle_bool_decode((const uint8_t *)b.data, 3, out, 1, &used, NULL),
                     LR_ECORRUPT);
    assert_int_equal(
        lr__pq_rle_bool_decode((const uint8_t *)b.data, b.len, out, 1009, &used, NULL),
        LR_ECORRUPT);
    v[3] = 2;
    assert_int_equal(lr__pq_rle_bool_encode(v, 10, &b, NULL), LR_EINVAL);
    lr_buf_free(&b);
}

static void test_plain_fixed(void **state)
{
    int32_t i32[5] = {0, -1, INT32_MAX, INT32_MIN, 42}, o32[5];
    int64_t i64[3] = {INT64_MIN, INT64_MAX, -7}, o64[3];
    double f64[3] = {1.5, -0.0, 1e308}, of64[3];
    lr_buf b;
    size_t used;
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_plain_encode_fixed(i32, 5, 4, &b, NULL), LR_OK);
    assert_int_equal(b.len, 20);
    /* Little-endian on disk: -1 is ff ff ff ff, INT32_MAX is ff ff ff 7f. */
    assert_int_equal((uint8_t)b.data[8], 0xff);
    assert_int_equal((uint8_t)b.data[11], 0x7f);
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, b.len, 5, 4, o32, &used,
                                               NULL),
                     LR_OK);
    assert_memory_equal(o32, i32, sizeof i32);
    assert_int_equal(used, 20);
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, 19, 5, 4, o32, &used,
                                               NULL),
                     LR_ECORRUPT);
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, 20, 1, 3, o32, &used,
                                               NULL),
                     LR_EINVAL);
    lr_buf_clear(&b);
    lr__pq_plain_encode_fixed(i64, 3, 8, &b, NULL);
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, b.len, 3, 8, o64, NULL,
                                               NULL),
                     LR_OK);
    assert_memory_equal(o64, i64, sizeof i64);
    lr_buf_clear(&b);
    lr__pq_plain_encode_fixed(f64, 3, 8, &b, NULL);
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, b.len, 3, 8, of64, NULL,
                                               NULL),
                     LR_OK);
    assert_memory_equal(of64, f64, sizeof f64);
    /* A huge count cannot overflow the size check. */
    assert_int_equal(lr__pq_plain_decode_fixed((const uint8_t *)b.data, b.len, SIZE_MAX / 2, 8,
                                               of64, NULL, NULL),
                     LR_ECORRUPT);
    lr_buf_free(&b);
}

static void test_plain_bool(void **state)
{
    uint8_t v[21], out[21];
    lr_buf b;
    lr__pq_bool_packer bp;
    (void)state;

    for (int i = 0; i < 21; i++)
        v[i] = (uint8_t)((i * 7 + 3) % 5 < 2);
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_plain_encode_bool(v, 21, &b, NULL), LR_OK);
    assert_int_equal(b.len, 3);
    /* The packer writes the same bytes. */
    {
        lr_buf b2;
        lr_buf_init(&b2, 0);
        lr__pq_bool_packer_init(&bp);
        for (int i = 0; i < 21; i++)
            assert_int_equal(lr__pq_bool_packer_put(&bp, v[i], &b2, NULL), LR_OK);
        assert_int_equal(lr__pq_bool_packer_flush(&bp, &b2, NULL), LR_OK);
        assert_int_equal(b2.len, 3);
        assert_memory_equal(b2.data, b.data, 3);
        lr_buf_free(&b2);
    }
    for (unsigned first = 0; first < 21; first++) {
        assert_int_equal(
            lr__pq_plain_decode_bool((const uint8_t *)b.data, b.len, first, out, 21 - first, NULL),
            LR_OK);
        assert_memory_equal(out, v + first, 21 - first);
    }
    assert_int_equal(lr__pq_plain_decode_bool((const uint8_t *)b.data, b.len, 20, out, 5, NULL),
                     LR_ECORRUPT);
    assert_int_equal(lr__pq_plain_decode_bool((const uint8_t *)b.data, b.len, 100, out, 0, NULL),
                     LR_ECORRUPT);
    /* LSB first: true,false,false,... is 0x01. */
    {
        static const uint8_t one = 0x01;
        assert_int_equal(lr__pq_plain_decode_bool(&one, 1, 0, out, 8, NULL), LR_OK);
        assert_int_equal(out[0], 1);
        assert_int_equal(out[1], 0);
    }
    lr_buf_free(&b);
}

static void test_plain_byte_array(void **state)
{
    lr__pq_bytes in[4] = {{(const uint8_t *)"hello", 5}, {NULL, 0}, {(const uint8_t *)"x", 1},
                          {(const uint8_t *)"\0\xff", 2}};
    lr__pq_bytes out[4];
    lr_buf b;
    size_t used;
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_plain_encode_byte_array(in, 4, &b, NULL), LR_OK);
    assert_int_equal(b.len, 16 + 8);
    assert_int_equal(lr__pq_plain_decode_byte_array((const uint8_t *)b.data, b.len, out, 4, &used,
                                                    NULL),
                     LR_OK);
    assert_int_equal(used, b.len);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[i].len, in[i].len);
        if (in[i].len)
            assert_memory_equal(out[i].ptr, in[i].ptr, in[i].len);
    }
    /* Every truncation fails, none reads out of bounds (ASan). */
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.data, cut);
        assert_int_equal(lr__pq_plain_decode_byte_array(copy, cut, out, 4, &used, NULL),
                         LR_ECORRUPT);
        free(copy);
    }
    /* A length near 2^32 does not wrap the bounds check. */
    {
        static const uint8_t huge[] = {0xfc, 0xff, 0xff, 0xff, 'a'};
        assert_int_equal(lr__pq_plain_decode_byte_array(huge, sizeof huge, out, 1, &used, NULL),
                         LR_ECORRUPT);
    }
    lr_buf_free(&b);

    /* FIXED_LEN_BYTE_ARRAY. */
    {
        static const uint8_t fl[] = "abcdefghi";
        assert_int_equal(lr__pq_plain_decode_flba(fl, 9, 3, out, 3, &used, NULL), LR_OK);
        assert_int_equal(used, 9);
        assert_memory_equal(out[2].ptr, "ghi", 3);
        assert_int_equal(out[2].len, 3);
        assert_int_equal(lr__pq_plain_decode_flba(fl, 8, 3, out, 3, &used, NULL), LR_ECORRUPT);
        assert_int_equal(lr__pq_plain_decode_flba(fl, 8, 0, out, 3, &used, NULL), LR_ECORRUPT);
    }
}

static void test_int96(void **state)
{
    uint8_t b[12];
    int64_t us, ns;
    static const int64_t cases[] = {0, 1, -1, 1700000000123456LL, -86400000000LL - 5,
                                    -62135596800000000LL, 253402300799999999LL};
    (void)state;

    /* Julian day 2440588 at midnight is the epoch. */
    memset(b, 0, 12);
    b[8] = 0x8c;
    b[9] = 0x3d;
    b[10] = 0x25;
    b[11] = 0x00; /* 2440588 = 0x253d8c */
    assert_int_equal(lr__pq_int96_to_micros(b, &us, NULL), LR_OK);
    assert_int_equal(us, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lr__pq_int96_from_micros(cases[i], b);
        assert_int_equal(lr__pq_int96_to_micros(b, &us, NULL), LR_OK);
        assert_int_equal(us, cases[i]);
    }
    lr__pq_int96_from_micros(1700000000123456LL, b);
    assert_int_equal(lr__pq_int96_to_nanos(b, &ns, NULL), LR_OK);
    assert_int_equal(ns, 1700000000123456000LL);
    /* Year 9999 does not fit in int64 nanoseconds. */
    lr__pq_int96_from_micros(253402300799999999LL, b);
    assert_int_equal(lr__pq_int96_to_nanos(b, &ns, NULL), LR_ECORRUPT);
    /* A day count far out of range. */
    memset(b, 0xff, 12);
    b[7] = 0x7f;
    assert_int_equal(lr__pq_int96_to_micros(b, &us, NULL), LR_ECORRUPT);
}

/* ---- DELTA_BINARY_PACKED ----------------------------------------------- */

/*
 * A slow reference encoder with any block layout, bit by bit, as other
 * writers lay streams out (DuckDB: 256/8, parquet-mr: 128/4). Unneeded
 * miniblocks of the last block get width `junk_width` (readers must accept
 * arbitrary values there).
 */
static void put_uleb(lr_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        lr_buf_append_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    lr_buf_append_byte(b, (uint8_t)v);
}

static void ref_delta_encode(const int64_t *v, size_t n, unsigned block, unsigned mbs, bool is32,
                             uint8_t junk_width, lr_buf *b)
{
    unsigned mbv = block / mbs;
    put_uleb(b, block);
    put_uleb(b, mbs);
    put_uleb(b, n);
    put_uleb(b, n ? (((uint64_t)v[0] << 1) ^ (uint64_t)(v[0] >> 63)) : 0);
    for (size_t i = 1; i < n; i += block) {
        size_t nd = n - i < block ? n - i : block;
        int64_t *d = calloc(block, sizeof *d);
        int64_t mn = INT64_MAX;
        size_t used = (nd + mbv - 1) / mbv;
        for (size_t j = 0; j < nd; j++) {
            uint64_t diff = (uint64_t)v[i + j] - (uint64_t)v[i + j - 1];
            d[j] = is32 ? (int64_t)(int32_t)(uint32_t)diff : (int64_t)diff;
            if (d[j] < mn)
                mn = d[j];
        }
        put_uleb(b, ((uint64_t)mn << 1) ^ (uint64_t)(mn >> 63));
        unsigned *widths = calloc(mbs, sizeof *widths);
        for (unsigned m = 0; m < mbs; m++) {
            uint64_t orv = 0;
            for (size_t j = m * mbv; j < (m + 1) * mbv && j < nd; j++) {
                uint64_t rel = (uint64_t)d[j] - (uint64_t)mn;
                if (is32)
                    rel &= 0xffffffffu;
                orv |= rel;
            }
            widths[m] = m < used ? lr__pq_bit_width(orv) : junk_width;
            lr_buf_append_byte(b, (uint8_t)widths[m]);
        }
        for (unsigned m = 0; m < used; m++) {
            uint64_t acc = 0;
            unsigned nb = 0;
            for (size_t j = m * mbv; j < (m + 1) * mbv; j++) {
                uint64_t rel = j < nd ? (uint64_t)d[j] - (uint64_t)mn : 0;
                if (is32)
                    rel &= 0xffffffffu;
                for (unsigned bit = 0; bit < widths[m]; bit++) {
                    acc |= ((rel >> bit) & 1) << nb;
                    if (++nb == 8) {
                        lr_buf_append_byte(b, (uint8_t)acc);
                        acc = 0;
                        nb = 0;
                    }
                }
            }
            assert_int_equal(nb, 0);
        }
        free(widths);
        free(d);
    }
}

static void fill_i64(int64_t *v, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0:
            v[i] = (int64_t)i + 1000;
            break;
        case 1:
            v[i] = (int64_t)rnd();
            break;
        case 2:
            v[i] = (i & 1) ? INT64_MAX : INT64_MIN;
            break;
        case 3:
            v[i] = (int64_t)(rnd() % 1000) - 500;
            break;
        default:
            v[i] = 1700000000000000LL + (int64_t)i * 1000000 + (int64_t)(rnd() % 1000);
            break;
        }
    }
}

static void test_delta_exact_bytes(void **state)
{
    int32_t v[5] = {1, 2, 3, 4, 5}, out[5];
    static const uint8_t want[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    lr_buf b;
    size_t used;
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_delta_encode_i32(v, 5, &b, NULL), LR_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_int_equal(lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len, out, 5, &used, NULL),
                     LR_OK);
    assert_memory_equal(out, v, sizeof v);
    assert_int_equal(used, b.len);
    /* One value: a header only. Zero values: a header only. */
    lr_buf_clear(&b);
    assert_int_equal(lr__pq_delta_encode_i32(v, 1, &b, NULL), LR_OK);
    assert_int_equal(b.len, 5);
    assert_int_equal(lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len, out, 1, &used, NULL),
                     LR_OK);
    assert_int_equal(out[0], 1);
    assert_int_equal(used, 5);
    lr_buf_clear(&b);
    assert_int_equal(lr__pq_delta_encode_i64(NULL, 0, &b, NULL), LR_OK);
    assert_int_equal(lr__pq_delta_decode_i64((const uint8_t *)b.data, b.len, NULL, 0, &used, NULL),
                     LR_OK);
    assert_int_equal(used, b.len);
    /* An empty section for zero values (all-null page) is fine. */
    assert_int_equal(lr__pq_delta_decode_i64(NULL, 0, NULL, 0, &used, NULL), LR_OK);
    lr_buf_free(&b);
}

static void test_delta_roundtrip(void **state)
{
    static const size_t lens[] = {1, 2, 31, 32, 33, 127, 128, 129, 130, 257, 1000, 4099};
    int64_t *v = malloc(4099 * sizeof *v), *o = malloc(4099 * sizeof *o);
    int32_t *v32 = malloc(4099 * sizeof *v32), *o32 = malloc(4099 * sizeof *o32);
    (void)state;

    for (int kind = 0; kind < 5; kind++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li], used, got;
            lr_buf b;
            lr__pq_delta_dec d;
            fill_i64(v, n, kind);
            for (size_t i = 0; i < n; i++)
                v32[i] = (int32_t)(uint32_t)(uint64_t)v[i];
            /* int64 */
            lr_buf_init(&b, 0);
            assert_int_equal(lr__pq_delta_encode_i64(v, n, &b, NULL), LR_OK);
            lr_buf_append(&b, "xyz", 3);
            assert_int_equal(
                lr__pq_delta_decode_i64((const uint8_t *)b.data, b.len, o, n, &used, NULL), LR_OK);
            assert_memory_equal(o, v, n * sizeof *v);
            assert_int_equal(used, b.len - 3);
            /* In chunks, with the end found from the middle. */
            assert_int_equal(lr__pq_delta_dec_init(&d, (const uint8_t *)b.data, b.len, true, NULL),
                             LR_OK);
            assert_int_equal(lr__pq_delta_dec_total(&d), n);
            got = 0;
            while (got < n / 2) {
                size_t k = 1 + (got * 7) % 45;
                if (k > n / 2 - got)
                    k = n / 2 - got;
                assert_int_equal(lr__pq_delta_dec_get_i64(&d, o + got, k, NULL), LR_OK);
                got += k;
            }
            if (got)
                assert_memory_equal(o, v, got * sizeof *v);
            {
                size_t end;
                assert_int_equal(lr__pq_delta_dec_end(&d, (const uint8_t *)b.data, &end, NULL),
                                 LR_OK);
                assert_int_equal(end, b.len - 3);
            }
            /* Asking for more than declared is corrupt. */
            assert_int_equal(
                lr__pq_delta_decode_i64((const uint8_t *)b.data, b.len, o, n + 1, &used, NULL),
                LR_ECORRUPT);
            /* Every truncation fails cleanly. */
            for (size_t cut = 0; cut + 3 < b.len; cut += 1 + cut / 16) {
                uint8_t *copy = malloc(cut ? cut : 1);
                memcpy(copy, b.data, cut);
                assert_int_equal(lr__pq_delta_decode_i64(copy, cut, o, n, &used, NULL),
                                 LR_ECORRUPT);
                free(copy);
            }
            lr_buf_free(&b);

            /* int32, wrap-around arithmetic. */
            lr_buf_init(&b, 0);
            assert_int_equal(lr__pq_delta_encode_i32(v32, n, &b, NULL), LR_OK);
            assert_int_equal(
                lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len, o32, n, &used, NULL),
                LR_OK);
            assert_memory_equal(o32, v32, n * sizeof *v32);
            assert_int_equal(used, b.len);
            lr_buf_free(&b);

            /* Other writers' block layouts, junk widths in unused miniblocks. */
            {
                static const unsigned layouts[][2] = {{128, 1}, {128, 4}, {256, 8}, {1024, 32}};
                for (size_t L = 0; L < 4; L++) {
                    lr_buf_init(&b, 0);
                    ref_delta_encode(v, n, layouts[L][0], layouts[L][1], false, 0xee, &b);
                    lr_buf_append(&b, "!", 1);
                    assert_int_equal(
                        lr__pq_delta_decode_i64((const uint8_t *)b.data, b.len, o, n, &used, NULL),
                        LR_OK);
                    assert_memory_equal(o, v, n * sizeof *v);
                    assert_int_equal(used, b.len - 1);
                    lr_buf_free(&b);
                    {
                        int64_t *w = malloc(n * sizeof *w);
                        for (size_t i = 0; i < n; i++)
                            w[i] = v32[i];
                        lr_buf_init(&b, 0);
                        ref_delta_encode(w, n, layouts[L][0], layouts[L][1], true, 0, &b);
                        assert_int_equal(lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len,
                                                                 o32, n, &used, NULL),
                                         LR_OK);
                        assert_memory_equal(o32, v32, n * sizeof *v32);
                        assert_int_equal(used, b.len);
                        lr_buf_free(&b);
                        free(w);
                    }
                }
            }
        }
    }
    free(v);
    free(o);
    free(v32);
    free(o32);
}

static void test_delta_malformed(void **state)
{
    int64_t out[300];
    size_t used;
    lr_buf b;
    (void)state;

    /* Block size not a multiple of 128. */
    {
        static const uint8_t in[] = {0x08, 0x01, 0x05, 0x02, 0x02, 0x00};
        assert_int_equal(lr__pq_delta_decode_i64(in, sizeof in, out, 5, &used, NULL), LR_ECORRUPT);
    }
    /* Miniblock size not a multiple of 32 (128 / 8 = 16). */
    {
        static const uint8_t in[] = {0x80, 0x01, 0x08, 0x05, 0x02};
        assert_int_equal(lr__pq_delta_decode_i64(in, sizeof in, out, 5, &used, NULL), LR_ECORRUPT);
    }
    /* Zero miniblocks; a huge block size. */
    {
        static const uint8_t in[] = {0x80, 0x01, 0x00, 0x05, 0x02};
        static const uint8_t in2[] = {0x80, 0x80, 0x80, 0x80, 0x08, 0x04, 0x05, 0x02};
        assert_int_equal(lr__pq_delta_decode_i64(in, sizeof in, out, 5, &used, NULL), LR_ECORRUPT);
        assert_int_equal(lr__pq_delta_decode_i64(in2, sizeof in2, out, 5, &used, NULL),
                         LR_ECORRUPT);
    }
    /* A miniblock width above 64. */
    {
        int64_t v[40];
        for (int i = 0; i < 40; i++)
            v[i] = i * i;
        lr_buf_init(&b, 0);
        ref_delta_encode(v, 40, 128, 4, true, 0, &b);
        /* Header is 5 bytes, then min delta (1 byte), then the widths. */
        b.data[6] = 65;
        {
            int32_t o32[40];
            assert_int_equal(lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len, o32, 40,
                                                     &used, NULL),
                             LR_ECORRUPT);
        }
        assert_int_equal(
            lr__pq_delta_decode_i64((const uint8_t *)b.data, b.len, out, 40, &used, NULL),
            LR_ECORRUPT);
        lr_buf_free(&b);
    }
    /*
     * INT32 deltas computed without wrapping (DuckDB): INT32_MIN after
     * INT32_MAX is a delta of -(2^32 - 1), a 33-bit miniblock. Decoded modulo
     * 2^32 the values come back.
     */
    {
        int64_t v[70];
        int32_t o32[70];
        for (int i = 0; i < 70; i++)
            v[i] = (i % 3 == 0) ? INT32_MAX : (i % 3 == 1) ? INT32_MIN : i;
        lr_buf_init(&b, 0);
        ref_delta_encode(v, 70, 128, 4, false, 0, &b);
        /* The deltas span more than 2^32, so the first miniblock is 33 bits wide. */
        assert_int_equal(
            lr__pq_delta_decode_i32((const uint8_t *)b.data, b.len, o32, 70, &used, NULL), LR_OK);
        assert_int_equal(used, b.len);
        for (int i = 0; i < 70; i++)
            assert_int_equal(o32[i], (int32_t)v[i]);
        lr_buf_free(&b);
    }
    /* A total that claims more values than the data holds. */
    {
        static const uint8_t in[] = {0x80, 0x01, 0x04, 0xff, 0xff, 0x03, 0x02, 0x02, 0, 0, 0, 0};
        assert_int_equal(lr__pq_delta_decode_i64(in, sizeof in, out, 300, &used, NULL),
                         LR_ECORRUPT);
    }
    /* A varint longer than 64 bits. */
    {
        static const uint8_t in[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
        assert_int_equal(lr__pq_delta_decode_i64(in, sizeof in, out, 1, &used, NULL), LR_ECORRUPT);
    }
    /*
     * Width-0 blocks cost two bytes per 128 values, so a short stream may
     * declare many values; walking to its end stays bounded by its bytes.
     */
    {
        uint8_t in[5 + 2 * 100];
        size_t k = 0;
        in[k++] = 0x80;
        in[k++] = 0x01;
        in[k++] = 0x01; /* one miniblock of 128 */
        in[k++] = 0x81;
        in[k++] = 0x64; /* total 12801 */
        /* first value 0 is the next byte; then 100 blocks of (min delta 0, width 0). */
        in[k] = 0x00;
        k++;
        for (int i = 0; i < 99; i++) {
            in[k++] = 0x00;
            in[k++] = 0x00;
        }
        assert_int_equal(lr__pq_delta_decode_i64(in, k, out, 10, &used, NULL), LR_ECORRUPT);
    }
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ------------------------- */

static void test_delta_length(void **state)
{
    lr__pq_bytes in[4] = {{(const uint8_t *)"Hello", 5},
                          {(const uint8_t *)"World", 5},
                          {(const uint8_t *)"Foobar", 6},
                          {(const uint8_t *)"ABCDEF", 6}};
    lr__pq_bytes out[4];
    lr_buf b;
    size_t used;
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_delta_length_encode(in, 4, &b, NULL), LR_OK);
    /* The bytes follow the lengths, concatenated. */
    assert_memory_equal(b.data + b.len - 22, "HelloWorldFoobarABCDEF", 22);
    assert_int_equal(
        lr__pq_delta_length_decode((const uint8_t *)b.data, b.len, out, 4, &used, NULL), LR_OK);
    assert_int_equal(used, b.len);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[i].len, in[i].len);
        assert_memory_equal(out[i].ptr, in[i].ptr, in[i].len);
    }
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(
            lr__pq_delta_length_decode((const uint8_t *)b.data, cut, out, 4, &used, NULL),
            LR_ECORRUPT);
    lr_buf_free(&b);

    /* A negative length. */
    {
        int32_t lens[2] = {3, -1};
        lr_buf_init(&b, 0);
        lr__pq_delta_encode_i32(lens, 2, &b, NULL);
        lr_buf_append(&b, "abcdef", 6);
        assert_int_equal(
            lr__pq_delta_length_decode((const uint8_t *)b.data, b.len, out, 2, &used, NULL),
            LR_ECORRUPT);
        lr_buf_free(&b);
    }
}

static void test_delta_byte_array(void **state)
{
    static const char *words[] = {"axis", "axle", "babble", "babyhood", "", "b", "bb", "bb"};
    lr__pq_bytes in[8], out[8];
    lr_buf b, storage;
    size_t used;
    (void)state;

    for (int i = 0; i < 8; i++) {
        in[i].ptr = (const uint8_t *)words[i];
        in[i].len = (uint32_t)strlen(words[i]);
    }
    lr_buf_init(&b, 0);
    lr_buf_init(&storage, 1 << 20);
    assert_int_equal(lr__pq_delta_byte_array_encode(in, 8, &b, NULL), LR_OK);
    /* The spec's suffixes: axis, le, babble, yhood, then "", b, b, "". */
    assert_memory_equal(b.data + b.len - 19, "axislebabbleyhoodbb", 19);
    assert_int_equal(lr__pq_delta_byte_array_decode((const uint8_t *)b.data, b.len, out, 8,
                                                    &storage, &used, NULL),
                     LR_OK);
    assert_int_equal(used, b.len);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(out[i].len, in[i].len);
        if (in[i].len)
            assert_memory_equal(out[i].ptr, in[i].ptr, in[i].len);
    }
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(lr__pq_delta_byte_array_decode((const uint8_t *)b.data, cut, out, 8,
                                                        &storage, &used, NULL),
                         LR_ECORRUPT);
    lr_buf_free(&b);

    /* A prefix longer than the previous value. */
    {
        int32_t pre[2] = {0, 4};
        int32_t suf[2] = {3, 1};
        lr_buf_init(&b, 0);
        lr__pq_delta_encode_i32(pre, 2, &b, NULL);
        lr__pq_delta_encode_i32(suf, 2, &b, NULL);
        lr_buf_append(&b, "abcd", 4);
        assert_int_equal(lr__pq_delta_byte_array_decode((const uint8_t *)b.data, b.len, out, 2,
                                                        &storage, &used, NULL),
                         LR_ECORRUPT);
        lr_buf_free(&b);
    }
    /* A small input that would decode to far more than the storage cap. */
    {
        int32_t pre[200], suf[200];
        lr_buf small;
        lr_error err;
        for (int i = 0; i < 200; i++) {
            pre[i] = i ? 1000 : 0;
            suf[i] = i ? 0 : 1000;
        }
        lr_buf_init(&b, 0);
        lr__pq_delta_encode_i32(pre, 200, &b, NULL);
        lr__pq_delta_encode_i32(suf, 200, &b, NULL);
        for (int i = 0; i < 1000; i++)
            lr_buf_append_byte(&b, 'z');
        lr_buf_init(&small, 100000);
        lr__pq_bytes *o = malloc(200 * sizeof *o);
        assert_int_equal(lr__pq_delta_byte_array_decode((const uint8_t *)b.data, b.len, o, 200,
                                                        &small, &used, &err),
                         LR_ELIMIT);
        /* With room it decodes: 200 copies of the 1000-byte value. */
        assert_int_equal(lr__pq_delta_byte_array_decode((const uint8_t *)b.data, b.len, o, 200,
                                                        &storage, &used, NULL),
                         LR_OK);
        assert_int_equal(o[199].len, 1000);
        assert_int_equal(o[199].ptr[999], 'z');
        free(o);
        lr_buf_free(&small);
        lr_buf_free(&b);
    }
    lr_buf_free(&storage);
}

/* ---- BYTE_STREAM_SPLIT ---------------------------------------------------- */

static void test_bss(void **state)
{
    /* The spec's example: AA BB CC DD | 00 11 22 33 | A3 B4 C5 D6. */
    static const uint8_t raw[12] = {0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x11,
                                    0x22, 0x33, 0xa3, 0xb4, 0xc5, 0xd6};
    static const uint8_t enc[12] = {0xaa, 0x00, 0xa3, 0xbb, 0x11, 0xb4,
                                    0xcc, 0x22, 0xc5, 0xdd, 0x33, 0xd6};
    uint8_t out[64];
    lr_buf b;
    (void)state;

    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_bss_encode(raw, 3, 4, &b, NULL), LR_OK);
    assert_memory_equal(b.data, enc, 12);
    assert_int_equal(lr__pq_bss_decode(enc, 12, 4, out, 3, NULL), LR_OK);
    assert_memory_equal(out, raw, 12);
    /* Fewer values than the streams hold (stride stays len / width). */
    assert_int_equal(lr__pq_bss_decode(enc, 12, 4, out, 2, NULL), LR_OK);
    assert_memory_equal(out, raw, 8);
    /* Width 3 (FIXED_LEN_BYTE_ARRAY) and width 6. */
    assert_int_equal(lr__pq_bss_decode(enc, 12, 3, out, 4, NULL), LR_OK);
    assert_int_equal(out[0], 0xaa);
    assert_int_equal(out[1], 0x11);
    assert_int_equal(out[2], 0xc5);
    assert_int_equal(out[3], 0x00);
    assert_int_equal(lr__pq_bss_decode(enc, 12, 4, out, 4, NULL), LR_ECORRUPT);
    assert_int_equal(lr__pq_bss_decode(enc, 11, 4, out, 2, NULL), LR_ECORRUPT);
    assert_int_equal(lr__pq_bss_decode(enc, 12, 0, out, 2, NULL), LR_EINVAL);
    assert_int_equal(lr__pq_bss_decode(NULL, 0, 8, NULL, 0, NULL), LR_OK);
    lr_buf_free(&b);

    /* Doubles round trip. */
    {
        double d[100], od[100];
        for (int i = 0; i < 100; i++)
            d[i] = (double)rnd() / 3.0 - 7e18;
        lr_buf_init(&b, 0);
        assert_int_equal(lr__pq_bss_encode(d, 100, 8, &b, NULL), LR_OK);
        assert_int_equal(lr__pq_bss_decode((const uint8_t *)b.data, b.len, 8, od, 100, NULL),
                         LR_OK);
        assert_memory_equal(od, d, sizeof d);
        lr_buf_free(&b);
    }
}

/* Random bytes into every decoder: errors are fine, crashes are not (ASan). */
static void test_random_input(void **state)
{
    uint8_t in[512];
    uint32_t o32[600];
    uint16_t o16[600];
    int64_t o64[600];
    lr__pq_bytes ob[600];
    uint8_t o8[600];
    lr_buf storage;
    (void)state;

    lr_buf_init(&storage, 1 << 20);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = rnd() % sizeof in, count = rnd() % 600, used;
        uint8_t *p;
        lr__pq_rle_dec d;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rnd();
        if (iter % 3 == 0 && len > 4) {
            /* Make headers plausible so decoders get further in. */
            in[0] = 0x80;
            in[1] = 0x01;
            in[2] = 0x04;
            in[3] = (uint8_t)(count & 0x7f);
        }
        /* An exact-size heap copy so ASan catches any overread. */
        p = malloc(len ? len : 1);
        memcpy(p, in, len);
        lr__pq_rle_dec_init(&d, p, len, (unsigned)(rnd() % 33), NULL);
        (void)lr__pq_rle_dec_get_u32(&d, o32, count, NULL);
        lr__pq_rle_dec_init(&d, p, len, (unsigned)(rnd() % 17), NULL);
        (void)lr__pq_rle_dec_get_u16(&d, o16, count, NULL);
        if (lr__pq_rle_dec_init_dict(&d, p, len, NULL) == LR_OK)
            (void)lr__pq_rle_dec_get_indices(&d, o32, count, 100, NULL);
        (void)lr__pq_rle_bool_decode(p, len, o8, count, &used, NULL);
        (void)lr__pq_bitpacked_levels_decode(p, len, (unsigned)(rnd() % 17), o16, count, &used,
                                             NULL);
        (void)lr__pq_plain_decode_byte_array(p, len, ob, count, &used, NULL);
        (void)lr__pq_delta_decode_i64(p, len, o64, count, &used, NULL);
        (void)lr__pq_delta_decode_i32(p, len, (int32_t *)o32, count, &used, NULL);
        (void)lr__pq_delta_length_decode(p, len, ob, count, &used, NULL);
        (void)lr__pq_delta_byte_array_decode(p, len, ob, count, &storage, &used, NULL);
        (void)lr__pq_bss_decode(p, len, 1 + rnd() % 8, o64, count / 8, NULL);
        (void)lr__pq_plain_decode_bool(p, len, rnd() % 16, o8, count, NULL);
        free(p);
    }
    lr_buf_free(&storage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_rle_spec_example),
        cmocka_unit_test(test_rle_roundtrip_all_widths),
        cmocka_unit_test(test_rle_skip),
        cmocka_unit_test(test_rle_u16_and_levels),
        cmocka_unit_test(test_rle_malformed),
        cmocka_unit_test(test_dict_indices),
        cmocka_unit_test(test_bitpacked_levels),
        cmocka_unit_test(test_rle_bool),
        cmocka_unit_test(test_plain_fixed),
        cmocka_unit_test(test_plain_bool),
        cmocka_unit_test(test_plain_byte_array),
        cmocka_unit_test(test_int96),
        cmocka_unit_test(test_delta_exact_bytes),
        cmocka_unit_test(test_delta_roundtrip),
        cmocka_unit_test(test_delta_malformed),
        cmocka_unit_test(test_delta_length),
        cmocka_unit_test(test_delta_byte_array),
        cmocka_unit_test(test_bss),
        cmocka_unit_test(test_random_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
