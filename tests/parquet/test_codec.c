/*
 * test_codec.c - Parquet page codecs (src/parquet/codec.c): round trips for
 * every codec Larder writes, the legacy framings it only reads (Hadoop LZ4,
 * raw and framed LZ4 under the LZ4 codec, concatenated GZIP members), size
 * checks against declared sizes, limits, and corrupt streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <lz4frame.h>

#include "parquet/codec.h"

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Text-like data that compresses, or random bytes that do not. */
static uint8_t *make_data(size_t n, bool random)
{
    static const char *words[] = {"feature", "group", "record", "larder", "parquet", "42", " "};
    uint8_t *p = malloc(n ? n : 1);
    size_t i = 0;
    assert_non_null(p);
    while (i < n) {
        if (random) {
            p[i++] = (uint8_t)rnd();
        } else {
            const char *w = words[rnd() % 7];
            for (size_t k = 0; w[k] && i < n; k++)
                p[i++] = (uint8_t)w[k];
        }
    }
    return p;
}

static const int write_codecs[] = {LR__PQ_CODEC_UNCOMPRESSED, LR__PQ_CODEC_SNAPPY,
                                   LR__PQ_CODEC_GZIP,         LR__PQ_CODEC_ZSTD,
                                   LR__PQ_CODEC_LZ4_RAW,      LR__PQ_CODEC_BROTLI};
#define N_WRITE_CODECS (sizeof write_codecs / sizeof write_codecs[0])

static void test_names(void **state)
{
    int c = -1;
    lr_error err;
    (void)state;

    assert_string_equal(lr__pq_codec_name(LR__PQ_CODEC_SNAPPY), "SNAPPY");
    assert_string_equal(lr__pq_codec_name(LR__PQ_CODEC_LZ4_RAW), "LZ4_RAW");
    assert_string_equal(lr__pq_codec_name(99), "UNKNOWN");
    assert_int_equal(lr__pq_codec_parse("zstd", &c, NULL), LR_OK);
    assert_int_equal(c, LR__PQ_CODEC_ZSTD);
    assert_int_equal(lr__pq_codec_parse("None", &c, NULL), LR_OK);
    assert_int_equal(c, LR__PQ_CODEC_UNCOMPRESSED);
    assert_int_equal(lr__pq_codec_parse("Lz4_Raw", &c, NULL), LR_OK);
    assert_int_equal(c, LR__PQ_CODEC_LZ4_RAW);
    assert_int_equal(lr__pq_codec_parse("xz", &c, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "snappy"));
    assert_int_equal(lr__pq_codec_parse(NULL, &c, &err), LR_EINVAL);
    assert_false(lr__pq_codec_can_decompress(LR__PQ_CODEC_LZO));
    assert_true(lr__pq_codec_can_decompress(LR__PQ_CODEC_LZ4));
    assert_false(lr__pq_codec_can_compress(LR__PQ_CODEC_LZ4));
    assert_true(lr__pq_codec_can_compress(LR__PQ_CODEC_ZSTD));
}

static void test_roundtrip(void **state)
{
    static const size_t sizes[] = {0, 1, 7, 100, 4096, 65537, 1 << 20};
    lr__pq_codec_ctx *ctx = NULL;
    (void)state;

    assert_int_equal(lr__pq_codec_ctx_new(&ctx, NULL), LR_OK);
    for (size_t ci = 0; ci < N_WRITE_CODECS; ci++) {
        int codec = write_codecs[ci];
        if (!lr__pq_codec_can_compress(codec))
            continue;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (int random = 0; random < 2; random++) {
                size_t n = sizes[si];
                uint8_t *src = make_data(n, random);
                lr_buf c, d;
                lr_error err;
                lr__pq_codec_ctx *use = (si % 2) ? ctx : NULL;
                lr_buf_init(&c, 0);
                lr_buf_init(&d, 0);
                /* Appends after what dst holds. */
                lr_buf_append(&c, "HDR", 3);
                assert_int_equal(lr__pq_compress(use, codec, 0, src, n, &c, &err), LR_OK);
                assert_memory_equal(c.data, "HDR", 3);
                assert_true(c.len - 3 <= lr__pq_compress_bound(codec, n) || n == 0);
                if (!random && n >= 4096 && codec != LR__PQ_CODEC_UNCOMPRESSED)
                    assert_true(c.len - 3 < n / 2);
                assert_int_equal(lr__pq_decompress_buf(use, codec, c.data + 3, c.len - 3, n, &d,
                                                       &err),
                                 LR_OK);
                assert_int_equal(d.len, n);
                if (n)
                    assert_memory_equal(d.data, src, n);
                /* One byte more or less than the stream holds is corrupt. */
                if (n > 0) {
                    assert_int_equal(lr__pq_decompress_buf(use, codec, c.data + 3, c.len - 3,
                                                           n - 1, &d, &err),
                                     LR_ECORRUPT);
                }
                assert_int_equal(
                    lr__pq_decompress_buf(use, codec, c.data + 3, c.len - 3, n + 1, &d, &err),
                    LR_ECORRUPT);
                /* Truncated streams fail without reading past the end (ASan). */
                if (c.len - 3 > 1) {
                    size_t cut = (c.len - 3) / 2;
                    uint8_t *t = malloc(cut);
                    memcpy(t, c.data + 3, cut);
                    assert_int_not_equal(
                        lr__pq_decompress_buf(use, codec, t, cut, n, &d, &err), LR_OK);
                    free(t);
                }
                lr_buf_free(&c);
                lr_buf_free(&d);
                free(src);
            }
        }
    }
    lr__pq_codec_ctx_free(ctx);
    lr__pq_codec_ctx_free(NULL);
}

static void test_levels(void **state)
{
    uint8_t *src = make_data(100000, false);
    lr_buf c, d;
    lr_error err;
    (void)state;

    lr_buf_init(&c, 0);
    lr_buf_init(&d, 0);
    for (int lvl = 1; lvl <= 19; lvl += 6) {
        lr_buf_clear(&c);
        assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_ZSTD, lvl, src, 100000, &c, NULL),
                         LR_OK);
        assert_int_equal(
            lr__pq_decompress_buf(NULL, LR__PQ_CODEC_ZSTD, c.data, c.len, 100000, &d, NULL), LR_OK);
        assert_memory_equal(d.data, src, 100000);
    }
    lr_buf_clear(&c);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_ZSTD, -3, src, 1000, &c, NULL), LR_OK);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_ZSTD, 99, src, 1000, &c, &err), LR_EINVAL);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_GZIP, 9, src, 1000, &c, NULL), LR_OK);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_GZIP, 10, src, 1000, &c, &err), LR_EINVAL);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_LZ4, 0, src, 1000, &c, &err),
                     LR_EUNSUPPORTED);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_LZO, 0, src, 1000, &c, &err),
                     LR_EUNSUPPORTED);
    lr_buf_free(&c);
    lr_buf_free(&d);
    free(src);
}

/* A stream whose declared size is far beyond what its bytes can expand to. */
static void test_limits(void **state)
{
    uint8_t *src = make_data(1000, false);
    lr_buf c, d;
    lr_error err;
    uint8_t out[16];
    (void)state;

    lr_buf_init(&c, 0);
    lr_buf_init(&d, 0);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_SNAPPY, 0, src, 1000, &c, NULL), LR_OK);
    /* Above the global cap: LR_ELIMIT, nothing reserved. */
    assert_int_equal(lr__pq_decompress_buf(NULL, LR__PQ_CODEC_SNAPPY, c.data, c.len,
                                           LR__PQ_CODEC_MAX_OUTPUT + 1, &d, &err),
                     LR_ELIMIT);
    assert_null(d.data);
    /* Beyond the codec's expansion: corrupt, nothing reserved. */
    assert_int_equal(lr__pq_decompress_buf(NULL, LR__PQ_CODEC_SNAPPY, c.data, 10, 100000000, &d,
                                           &err),
                     LR_ECORRUPT);
    assert_null(d.data);
    assert_int_equal(
        lr__pq_decompress_buf(NULL, LR__PQ_CODEC_UNCOMPRESSED, c.data, 10, 11, &d, &err),
        LR_ECORRUPT);
    assert_null(d.data);
    /* The destination's own cap. */
    {
        lr_buf small;
        lr_buf_init(&small, 999);
        assert_int_equal(
            lr__pq_decompress_buf(NULL, LR__PQ_CODEC_SNAPPY, c.data, c.len, 1000, &small, &err),
            LR_ELIMIT);
        lr_buf_free(&small);
    }
    /* Empty pages: never decompressed; n == 0 must mean size 0. */
    assert_int_equal(lr__pq_decompress(NULL, LR__PQ_CODEC_ZSTD, NULL, 0, NULL, 0, &err), LR_OK);
    assert_int_equal(lr__pq_decompress(NULL, LR__PQ_CODEC_SNAPPY, NULL, 0, out, 5, &err),
                     LR_ECORRUPT);
    assert_int_equal(lr__pq_decompress_buf(NULL, LR__PQ_CODEC_GZIP, NULL, 0, 0, &d, &err), LR_OK);
    assert_int_equal(d.len, 0);
    assert_int_equal(lr__pq_decompress(NULL, LR__PQ_CODEC_SNAPPY, c.data, c.len, NULL, 1000, &err),
                     LR_EINVAL);
    /* Unsupported codecs. */
    assert_int_equal(lr__pq_decompress(NULL, LR__PQ_CODEC_LZO, c.data, c.len, out, 16, &err),
                     LR_EUNSUPPORTED);
    assert_int_equal(lr__pq_decompress(NULL, 42, c.data, c.len, out, 16, &err), LR_EUNSUPPORTED);
    lr_buf_free(&c);
    lr_buf_free(&d);
    free(src);
}

/* Every codec's framing of an empty page decodes to 0 bytes into NULL. */
static void test_empty_streams(void **state)
{
    (void)state;
    for (size_t ci = 0; ci < N_WRITE_CODECS; ci++) {
        int codec = write_codecs[ci];
        lr_buf c, d;
        if (!lr__pq_codec_can_compress(codec))
            continue;
        lr_buf_init(&c, 0);
        lr_buf_init(&d, 0);
        assert_int_equal(lr__pq_compress(NULL, codec, 0, NULL, 0, &c, NULL), LR_OK);
        assert_int_equal(lr__pq_decompress(NULL, codec, c.data, c.len, NULL, 0, NULL), LR_OK);
        assert_int_equal(lr__pq_decompress_buf(NULL, codec, c.data, c.len, 0, &d, NULL), LR_OK);
        if (codec != LR__PQ_CODEC_UNCOMPRESSED) {
            uint8_t one[1];
            assert_int_equal(lr__pq_decompress(NULL, codec, c.data, c.len, one, 1, NULL),
                             LR_ECORRUPT);
        }
        lr_buf_free(&c);
        lr_buf_free(&d);
    }
}

static void test_gzip_members(void **state)
{
    uint8_t *a = make_data(5000, false), *b = make_data(3000, true);
    lr_buf c, d;
    lr__pq_codec_ctx *ctx;
    (void)state;

    lr__pq_codec_ctx_new(&ctx, NULL);
    lr_buf_init(&c, 0);
    lr_buf_init(&d, 0);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_GZIP, 1, a, 5000, &c, NULL), LR_OK);
    assert_int_equal(lr__pq_compress(NULL, LR__PQ_CODEC_GZIP, 9, b, 3000, &c, NULL), LR_OK);
    /* Trailing zero padding is tolerated. */
    for (int i = 0; i < 3; i++)
        lr_buf_append_byte(&c, 0);
    for (int pass = 0; pass < 2; pass++) {
        lr__pq_codec_ctx *use = pass ? ctx : NULL;
        assert_int_equal(
            lr__pq_decompress_buf(use, LR__PQ_CODEC_GZIP, c.data, c.len, 8000, &d, NULL), LR_OK);
        assert_memory_equal(d.data, a, 5000);
        assert_memory_equal(d.data + 5000, b, 3000);
    }
    /* Garbage after the members is corrupt. */
    lr_buf_append(&c, "junk", 4);
    assert_int_equal(lr__pq_decompress_buf(ctx, LR__PQ_CODEC_GZIP, c.data, c.len, 8000, &d, NULL),
                     LR_ECORRUPT);
    lr_buf_free(&c);
    lr_buf_free(&d);
    lr__pq_codec_ctx_free(ctx);
    free(a);
    free(b);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The deprecated LZ4 codec: Hadoop framing, raw blocks and LZ4 frames. */
static void test_lz4_legacy(void **state)
{
    uint8_t *src = make_data(70000, false);
    int bound = LZ4_compressBound(40000);
    uint8_t *buf = malloc((size_t)bound * 2 + 16);
    lr__pq_codec_ctx *ctx;
    lr_buf d;
    size_t off = 0;
    int c1, c2;
    (void)state;

    lr__pq_codec_ctx_new(&ctx, NULL);
    lr_buf_init(&d, 0);
    /* Hadoop: two blocks of 40000 and 30000 bytes. */
    c1 = LZ4_compress_default((const char *)src, (char *)buf + 8, 40000, bound);
    put_be32(buf, 40000);
    put_be32(buf + 4, (uint32_t)c1);
    off = 8 + (size_t)c1;
    c2 = LZ4_compress_default((const char *)src + 40000, (char *)buf + off + 8, 30000, bound);
    put_be32(buf + off, 30000);
    put_be32(buf + off + 4, (uint32_t)c2);
    off += 8 + (size_t)c2;
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(lr__pq_decompress_buf(pass ? ctx : NULL, LR__PQ_CODEC_LZ4, buf, off,
                                               70000, &d, NULL),
                         LR_OK);
        assert_memory_equal(d.data, src, 70000);
    }
    /* A wrong declared size fails every framing. */
    assert_int_equal(lr__pq_decompress_buf(ctx, LR__PQ_CODEC_LZ4, buf, off, 69999, &d, NULL),
                     LR_ECORRUPT);
    /* A raw block under the LZ4 codec (old parquet-cpp). */
    c1 = LZ4_compress_default((const char *)src, (char *)buf, 70000, bound * 2);
    assert_true(c1 > 0);
    assert_int_equal(
        lr__pq_decompress_buf(ctx, LR__PQ_CODEC_LZ4, buf, (size_t)c1, 70000, &d, NULL), LR_OK);
    assert_memory_equal(d.data, src, 70000);
    /* And as LZ4_RAW. */
    assert_int_equal(
        lr__pq_decompress_buf(ctx, LR__PQ_CODEC_LZ4_RAW, buf, (size_t)c1, 70000, &d, NULL), LR_OK);
    /* An LZ4 frame under the LZ4 codec. */
    {
        size_t fb = LZ4F_compressFrameBound(70000, NULL);
        uint8_t *f = malloc(fb);
        size_t fl = LZ4F_compressFrame(f, fb, src, 70000, NULL);
        assert_false(LZ4F_isError(fl));
        for (int pass = 0; pass < 2; pass++) {
            assert_int_equal(
                lr__pq_decompress_buf(pass ? ctx : NULL, LR__PQ_CODEC_LZ4, f, fl, 70000, &d, NULL),
                LR_OK);
            assert_memory_equal(d.data, src, 70000);
        }
        assert_int_equal(lr__pq_decompress_buf(ctx, LR__PQ_CODEC_LZ4, f, fl - 5, 70000, &d, NULL),
                         LR_ECORRUPT);
        free(f);
    }
    /* A Hadoop header that points past the input. */
    put_be32(buf, 100);
    put_be32(buf + 4, 0x7fffffff);
    assert_int_equal(lr__pq_decompress_buf(ctx, LR__PQ_CODEC_LZ4, buf, 64, 100, &d, NULL),
                     LR_ECORRUPT);
    lr_buf_free(&d);
    lr__pq_codec_ctx_free(ctx);
    free(buf);
    free(src);
}

/* Random bytes as every codec's input must fail cleanly (ASan). */
static void test_garbage(void **state)
{
    static const int codecs[] = {LR__PQ_CODEC_SNAPPY, LR__PQ_CODEC_GZIP,   LR__PQ_CODEC_ZSTD,
                                 LR__PQ_CODEC_LZ4,    LR__PQ_CODEC_LZ4_RAW, LR__PQ_CODEC_BROTLI};
    lr__pq_codec_ctx *ctx;
    lr_buf d;
    (void)state;

    lr__pq_codec_ctx_new(&ctx, NULL);
    lr_buf_init(&d, 1 << 20);
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = 1 + rnd() % 300, expect = rnd() % 5000;
        uint8_t *p = malloc(n);
        int codec = codecs[iter % 6];
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)rnd();
        if (iter % 4 == 1 && codec == LR__PQ_CODEC_GZIP && n > 3) {
            p[0] = 0x1f;
            p[1] = 0x8b;
            p[2] = 8;
        }
        (void)lr__pq_decompress_buf(iter % 2 ? ctx : NULL, codec, p, n, expect, &d, NULL);
        free(p);
    }
    lr_buf_free(&d);
    lr__pq_codec_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),         cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_levels),        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_empty_streams), cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_lz4_legacy),    cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
