/*
 * codec.c - Parquet page compression codecs (see codec.h).
 *
 * Each codec is a thin wrapper over its Debian library. What this file adds
 * is distrust: the caller's expected size is checked against a global cap
 * and against the codec's maximum expansion ratio before any output memory
 * is touched, every library is asked to write into exactly that many bytes
 * and its result must fill them exactly, and zero-byte outputs never reach a
 * library with a NULL buffer.
 *
 * The deprecated LZ4 codec had no agreed framing. Hadoop wrote blocks of
 * [4-byte BE decompressed size][4-byte BE compressed size][LZ4 block];
 * old parquet-cpp wrote one raw LZ4 block and some writers an LZ4 frame.
 * The decoder tries them in that order, as other readers do.
 */
#include "parquet/codec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef LARDER_HAVE_BROTLI
#include <brotli/decode.h>
#include <brotli/encode.h>
#endif

struct lr__pq_codec_ctx {
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    z_stream inf;      /* inflate state, valid when inf_ready */
    bool inf_ready;
    LZ4F_dctx *lz4f;
};

lr_status lr__pq_codec_ctx_new(lr__pq_codec_ctx **out, lr_error *err)
{
    lr__pq_codec_ctx *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory creating a codec context");
    *out = c;
    return LR_OK;
}

void lr__pq_codec_ctx_free(lr__pq_codec_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ZSTD_freeCCtx(ctx->zc);
    ZSTD_freeDCtx(ctx->zd);
    if (ctx->inf_ready)
        inflateEnd(&ctx->inf);
    if (ctx->lz4f)
        LZ4F_freeDecompressionContext(ctx->lz4f);
    free(ctx);
}

static const struct {
    int codec;
    const char *name;
} codec_names[] = {
    {LR__PQ_CODEC_UNCOMPRESSED, "UNCOMPRESSED"}, {LR__PQ_CODEC_SNAPPY, "SNAPPY"},
    {LR__PQ_CODEC_GZIP, "GZIP"},                 {LR__PQ_CODEC_LZO, "LZO"},
    {LR__PQ_CODEC_BROTLI, "BROTLI"},             {LR__PQ_CODEC_LZ4, "LZ4"},
    {LR__PQ_CODEC_ZSTD, "ZSTD"},                 {LR__PQ_CODEC_LZ4_RAW, "LZ4_RAW"},
};

const char *lr__pq_codec_name(int codec)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (codec_names[i].codec == codec)
            return codec_names[i].name;
    }
    return "UNKNOWN";
}

lr_status lr__pq_codec_parse(const char *name, int *codec, lr_error *err)
{
    if (name != NULL) {
        if (strcasecmp(name, "none") == 0) {
            *codec = LR__PQ_CODEC_UNCOMPRESSED;
            return LR_OK;
        }
        for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
            if (strcasecmp(name, codec_names[i].name) == 0) {
                *codec = codec_names[i].codec;
                return LR_OK;
            }
        }
    }
    return lr_error_set(err, LR_EINVAL,
                        "unknown codec '%s' (choose uncompressed, snappy, gzip, zstd, lz4_raw%s)",
                        name ? name : "",
#ifdef LARDER_HAVE_BROTLI
                        ", brotli"
#else
                        ""
#endif
    );
}

bool lr__pq_codec_can_decompress(int codec)
{
    switch (codec) {
    case LR__PQ_CODEC_UNCOMPRESSED:
    case LR__PQ_CODEC_SNAPPY:
    case LR__PQ_CODEC_GZIP:
    case LR__PQ_CODEC_LZ4:
    case LR__PQ_CODEC_ZSTD:
    case LR__PQ_CODEC_LZ4_RAW:
        return true;
#ifdef LARDER_HAVE_BROTLI
    case LR__PQ_CODEC_BROTLI:
        return true;
#endif
    default:
        return false;
    }
}

bool lr__pq_codec_can_compress(int codec)
{
    return codec != LR__PQ_CODEC_LZ4 && lr__pq_codec_can_decompress(codec);
}

/* Saturating a * b + c. */
static size_t sat_muladd(size_t a, size_t b, size_t c)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
        return SIZE_MAX;
    return r;
}

size_t lr__pq_decompress_max_expansion(int codec, size_t n)
{
    switch (codec) {
    case LR__PQ_CODEC_UNCOMPRESSED:
        return n;
    case LR__PQ_CODEC_SNAPPY:
        /* The densest element is a 3-byte copy of 64 bytes. */
        return sat_muladd(n, 22, 0);
    case LR__PQ_CODEC_GZIP:
        /* Deflate's limit is 1032:1 (a 258-byte match in two bits). */
        return sat_muladd(n, 1032, 258);
    case LR__PQ_CODEC_LZ4:
    case LR__PQ_CODEC_LZ4_RAW:
        /* Each 255 byte of a match-length extension adds 255 bytes. */
        return sat_muladd(n, 256, 64);
    case LR__PQ_CODEC_ZSTD:
        /* An RLE block: a 3-byte header and one byte give up to 128 KiB. */
        return sat_muladd(n, 43691, (size_t)1 << 17);
    default:
        return SIZE_MAX;
    }
}

size_t lr__pq_compress_bound(int codec, size_t n)
{
    if (n > LR__PQ_CODEC_MAX_OUTPUT)
        return 0;
    switch (codec) {
    case LR__PQ_CODEC_UNCOMPRESSED:
        return n;
    case LR__PQ_CODEC_SNAPPY:
        return snappy_max_compressed_length(n);
    case LR__PQ_CODEC_GZIP:
        /* deflateBound for default settings plus the gzip header and trailer. */
        return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 18 + 64;
    case LR__PQ_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    case LR__PQ_CODEC_LZ4_RAW:
        return (size_t)LZ4_compressBound((int)n);
#ifdef LARDER_HAVE_BROTLI
    case LR__PQ_CODEC_BROTLI:
        return BrotliEncoderMaxCompressedSize(n);
#endif
    default:
        return 0;
    }
}

/* ---- compression ----------------------------------------------------------- */

static lr_status reserve_out(lr_buf *dst, size_t bound, lr_error *err)
{
    lr_status st = lr_buf_reserve(dst, bound);
    if (st == LR_ELIMIT)
        return lr_error_set(err, st, "compressed page would exceed the buffer's %zu-byte limit",
                            dst->max);
    if (st != LR_OK)
        return lr_error_set(err, st, "out of memory reserving %zu bytes for compression", bound);
    return LR_OK;
}

static lr_status compress_gzip(const void *src, size_t n, int level, lr_buf *dst, lr_error *err)
{
    z_stream zs;
    size_t bound;
    int rc;
    lr_status st;

    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return lr_error_set(err, LR_ENOMEM, "zlib: cannot initialise deflate");
    bound = (size_t)deflateBound(&zs, (uLong)n) + 64;
    st = reserve_out(dst, bound, err);
    if (st != LR_OK)
        goto done;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)dst->data + dst->len;
    zs.avail_out = (uInt)bound;
    rc = deflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END) {
        st = lr_error_set(err, LR_EINTERNAL, "zlib deflate failed (%d)", rc);
        goto done;
    }
    dst->len += bound - zs.avail_out;
    dst->data[dst->len] = '\0';
done:
    deflateEnd(&zs);
    return st;
}

lr_status lr__pq_compress(lr__pq_codec_ctx *ctx, int codec, int level, const void *src, size_t n,
                          lr_buf *dst, lr_error *err)
{
    static const char empty[1] = {0};
    size_t bound;
    lr_status st;

    if (!lr__pq_codec_can_compress(codec))
        return lr_error_set(err, LR_EUNSUPPORTED, "cannot compress with codec %s (%d)",
                            lr__pq_codec_name(codec), codec);
    if (n > LR__PQ_CODEC_MAX_OUTPUT)
        return lr_error_set(err, LR_ELIMIT, "page of %zu bytes is above the %zu-byte limit", n,
                            LR__PQ_CODEC_MAX_OUTPUT);
    if (src == NULL)
        src = empty; /* only when n == 0: libraries get a valid pointer */
    switch (codec) {
    case LR__PQ_CODEC_UNCOMPRESSED:
        st = lr_buf_append(dst, src, n);
        if (st != LR_OK)
            return reserve_out(dst, n, err);
        return LR_OK;
    case LR__PQ_CODEC_SNAPPY: {
        size_t outlen;
        bound = snappy_max_compressed_length(n);
        st = reserve_out(dst, bound, err);
        if (st != LR_OK)
            return st;
        outlen = bound;
        if (snappy_compress(src, n, dst->data + dst->len, &outlen) != SNAPPY_OK)
            return lr_error_set(err, LR_EINTERNAL, "snappy compression failed");
        dst->len += outlen;
        dst->data[dst->len] = '\0';
        return LR_OK;
    }
    case LR__PQ_CODEC_GZIP:
        if (level == 0)
            level = 6;
        if (level < 1 || level > 9)
            return lr_error_set(err, LR_EINVAL, "GZIP level %d is not in 1..9", level);
        return compress_gzip(src, n, level, dst, err);
    case LR__PQ_CODEC_ZSTD: {
        size_t r;
        ZSTD_CCtx *zc;
        if (level == 0)
            level = 1;
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
            return lr_error_set(err, LR_EINVAL, "ZSTD level %d is not in %d..%d", level,
                                ZSTD_minCLevel(), ZSTD_maxCLevel());
        bound = ZSTD_compressBound(n);
        st = reserve_out(dst, bound, err);
        if (st != LR_OK)
            return st;
        if (ctx != NULL) {
            if (ctx->zc == NULL && (ctx->zc = ZSTD_createCCtx()) == NULL)
                return lr_error_set(err, LR_ENOMEM, "zstd: cannot create a context");
            zc = ctx->zc;
        } else if ((zc = ZSTD_createCCtx()) == NULL) {
            return lr_error_set(err, LR_ENOMEM, "zstd: cannot create a context");
        }
        r = ZSTD_compressCCtx(zc, dst->data + dst->len, bound, src, n, level);
        if (ctx == NULL)
            ZSTD_freeCCtx(zc);
        if (ZSTD_isError(r))
            return lr_error_set(err, LR_EINTERNAL, "zstd compression failed: %s",
                                ZSTD_getErrorName(r));
        dst->len += r;
        dst->data[dst->len] = '\0';
        return LR_OK;
    }
    case LR__PQ_CODEC_LZ4_RAW: {
        int r;
        bound = (size_t)LZ4_compressBound((int)n);
        st = reserve_out(dst, bound, err);
        if (st != LR_OK)
            return st;
        r = LZ4_compress_default(src, dst->data + dst->len, (int)n, (int)bound);
        if (r <= 0)
            return lr_error_set(err, LR_EINTERNAL, "lz4 compression failed");
        dst->len += (size_t)r;
        dst->data[dst->len] = '\0';
        return LR_OK;
    }
#ifdef LARDER_HAVE_BROTLI
    case LR__PQ_CODEC_BROTLI: {
        size_t outlen;
        char *out;
        if (level == 0)
            level = 6;
        if (level < 1 || level > 11)
            return lr_error_set(err, LR_EINVAL, "BROTLI level %d is not in 1..11", level);
        bound = BrotliEncoderMaxCompressedSize(n);
        if (bound == 0)
            return lr_error_set(err, LR_ELIMIT, "page too large for brotli");
        st = reserve_out(dst, bound, err);
        if (st != LR_OK)
            return st;
        outlen = bound;
        out = dst->data + dst->len;
        if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n,
                                   (const uint8_t *)src, &outlen, (uint8_t *)out))
            return lr_error_set(err, LR_EINTERNAL, "brotli compression failed");
        dst->len += outlen;
        dst->data[dst->len] = '\0';
        return LR_OK;
    }
#endif
    default:
        break;
    }
    return lr_error_set(err, LR_EUNSUPPORTED, "cannot compress with codec %s (%d)",
                        lr__pq_codec_name(codec), codec);
}

/* ---- decompression --------------------------------------------------------- */

static lr_status size_mismatch(lr_error *err, int codec)
{
    return lr_error_set(err, LR_ECORRUPT,
                        "%s data does not decompress to the page's declared uncompressed size",
                        lr__pq_codec_name(codec));
}

static lr_status decompress_snappy(const uint8_t *src, size_t n, uint8_t *out, size_t expected,
                                   lr_error *err)
{
    size_t len;

    if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
        return lr_error_set(err, LR_ECORRUPT, "SNAPPY data has a malformed length preamble");
    if (len != expected)
        return size_mismatch(err, LR__PQ_CODEC_SNAPPY);
    if (snappy_uncompress((const char *)src, n, (char *)out, &len) != SNAPPY_OK || len != expected)
        return lr_error_set(err, LR_ECORRUPT, "SNAPPY data is corrupt");
    return LR_OK;
}

/*
 * GZIP: one or more gzip members (zlib-wrapped deflate is accepted too, as
 * some writers produced it). Trailing zero bytes after the last member are
 * ignored; anything else after it is corruption.
 */
static lr_status decompress_gzip(lr__pq_codec_ctx *ctx, const uint8_t *src, size_t n, uint8_t *out,
                                 size_t expected, lr_error *err)
{
    z_stream local, *zs;
    bool own = ctx == NULL;
    lr_status st = LR_OK;
    uint8_t scratch[1];

    if (n > UINT_MAX || expected > UINT_MAX)
        return lr_error_set(err, LR_ELIMIT, "GZIP page too large");
    if (own) {
        memset(&local, 0, sizeof local);
        zs = &local;
        if (inflateInit2(zs, 15 + 32) != Z_OK)
            return lr_error_set(err, LR_ENOMEM, "zlib: cannot initialise inflate");
    } else {
        zs = &ctx->inf;
        if (!ctx->inf_ready) {
            memset(zs, 0, sizeof *zs);
            if (inflateInit2(zs, 15 + 32) != Z_OK)
                return lr_error_set(err, LR_ENOMEM, "zlib: cannot initialise inflate");
            ctx->inf_ready = true;
        } else if (inflateReset(zs) != Z_OK) {
            return lr_error_set(err, LR_EINTERNAL, "zlib: cannot reset inflate");
        }
    }
    zs->next_in = (Bytef *)(uintptr_t)src;
    zs->avail_in = (uInt)n;
    zs->next_out = expected ? out : scratch;
    zs->avail_out = (uInt)expected;
    for (;;) {
        int rc = inflate(zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            size_t k;
            if (zs->avail_in == 0)
                break;
            /* Another member, or trailing padding. */
            for (k = 0; k < zs->avail_in && zs->next_in[k] == 0; k++)
                ;
            if (k == zs->avail_in)
                break;
            if (inflateReset(zs) != Z_OK) {
                st = lr_error_set(err, LR_EINTERNAL, "zlib: cannot reset inflate");
                goto done;
            }
            continue;
        }
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && zs->avail_out == 0 && zs->avail_in > 0) {
            st = size_mismatch(err, LR__PQ_CODEC_GZIP);
            goto done;
        }
        if (rc == Z_BUF_ERROR) {
            st = lr_error_set(err, LR_ECORRUPT, "GZIP data is truncated");
            goto done;
        }
        st = lr_error_set(err, LR_ECORRUPT, "GZIP data is corrupt: %s",
                          zs->msg ? zs->msg : "inflate failed");
        goto done;
    }
    if (zs->avail_out != 0)
        st = size_mismatch(err, LR__PQ_CODEC_GZIP);
done:
    if (own)
        inflateEnd(zs);
    return st;
}

static lr_status decompress_zstd(lr__pq_codec_ctx *ctx, const uint8_t *src, size_t n, uint8_t *out,
                                 size_t expected, lr_error *err)
{
    ZSTD_DCtx *zd;
    size_t r;
    uint8_t scratch[1];

    if (ctx != NULL) {
        if (ctx->zd == NULL && (ctx->zd = ZSTD_createDCtx()) == NULL)
            return lr_error_set(err, LR_ENOMEM, "zstd: cannot create a context");
        zd = ctx->zd;
    } else if ((zd = ZSTD_createDCtx()) == NULL) {
        return lr_error_set(err, LR_ENOMEM, "zstd: cannot create a context");
    }
    r = ZSTD_decompressDCtx(zd, expected ? out : scratch, expected, src, n);
    if (ctx == NULL)
        ZSTD_freeDCtx(zd);
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
            return size_mismatch(err, LR__PQ_CODEC_ZSTD);
        return lr_error_set(err, LR_ECORRUPT, "ZSTD data is corrupt: %s", ZSTD_getErrorName(r));
    }
    if (r != expected)
        return size_mismatch(err, LR__PQ_CODEC_ZSTD);
    return LR_OK;
}

static bool lz4_raw_block(const uint8_t *src, size_t n, uint8_t *out, size_t expected)
{
    uint8_t scratch[1];
    int r;

    if (n > (size_t)INT_MAX || expected > (size_t)INT_MAX)
        return false;
    r = LZ4_decompress_safe((const char *)src, (char *)(expected ? out : scratch), (int)n,
                            (int)expected);
    return r >= 0 && (size_t)r == expected;
}

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Hadoop's BlockCompressorStream framing: [BE32 raw size][BE32 compressed size][block]... */
static bool lz4_hadoop(const uint8_t *src, size_t n, uint8_t *out, size_t expected)
{
    size_t done = 0;

    if (n < 8)
        return false;
    while (n >= 8) {
        size_t raw = load_be32(src), comp = load_be32(src + 4);
        src += 8;
        n -= 8;
        if (comp > n || raw > expected - done)
            return false;
        if (!lz4_raw_block(src, comp, out ? out + done : NULL, raw))
            return false;
        src += comp;
        n -= comp;
        done += raw;
    }
    return n == 0 && done == expected;
}

/* One LZ4 frame (lz4frame.h), as some writers used for the LZ4 codec. */
static bool lz4_frame(lr__pq_codec_ctx *ctx, const uint8_t *src, size_t n, uint8_t *out,
                      size_t expected)
{
    LZ4F_dctx *dc = ctx ? ctx->lz4f : NULL;
    size_t src_left = n, dst_left = expected, r;
    bool ok = false;
    uint8_t scratch[1];

    if (n < 4 || (src[0] | (src[1] << 8) | (src[2] << 16) | ((uint32_t)src[3] << 24)) !=
                     LZ4F_MAGICNUMBER)
        return false;
    if (dc == NULL) {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
            return false;
        if (ctx)
            ctx->lz4f = dc;
    } else {
        LZ4F_resetDecompressionContext(dc);
    }
    r = LZ4F_decompress(dc, expected ? out : scratch, &dst_left, src, &src_left, NULL);
    /* r == 0: the frame is complete; all input must be used and output filled. */
    if (!LZ4F_isError(r) && r == 0 && src_left == n && dst_left == expected)
        ok = true;
    if (ctx == NULL)
        LZ4F_freeDecompressionContext(dc);
    else if (!ok)
        LZ4F_resetDecompressionContext(dc);
    return ok;
}

#ifdef LARDER_HAVE_BROTLI
static lr_status decompress_brotli(const uint8_t *src, size_t n, uint8_t *out, size_t expected,
                                   lr_error *err)
{
    size_t len = expected;
    uint8_t scratch[1];
    BrotliDecoderResult r =
        BrotliDecoderDecompress(n, src, &len, expected ? out : scratch);

    if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
        return size_mismatch(err, LR__PQ_CODEC_BROTLI);
    if (r != BROTLI_DECODER_RESULT_SUCCESS)
        return lr_error_set(err, LR_ECORRUPT, "BROTLI data is corrupt or truncated");
    if (len != expected)
        return size_mismatch(err, LR__PQ_CODEC_BROTLI);
    return LR_OK;
}
#endif

lr_status lr__pq_decompress(lr__pq_codec_ctx *ctx, int codec, const void *src, size_t n, void *out,
                            size_t expected_size, lr_error *err)
{
    const uint8_t *s = src;

    if (!lr__pq_codec_can_decompress(codec))
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "compression codec %s (%d) is not supported%s",
                            lr__pq_codec_name(codec), codec,
                            codec == LR__PQ_CODEC_BROTLI ? " (this build has no brotli)" : "");
    if (expected_size > LR__PQ_CODEC_MAX_OUTPUT)
        return lr_error_set(err, LR_ELIMIT,
                            "page declares %zu uncompressed bytes, above the %zu-byte limit",
                            expected_size, LR__PQ_CODEC_MAX_OUTPUT);
    if (expected_size > lr__pq_decompress_max_expansion(codec, n))
        return lr_error_set(err, LR_ECORRUPT,
                            "page declares %zu uncompressed bytes, more than %s can expand %zu "
                            "bytes to",
                            expected_size, lr__pq_codec_name(codec), n);
    if (expected_size > 0 && out == NULL)
        return lr_error_set(err, LR_EINVAL, "no output buffer for %zu bytes", expected_size);
    if (n == 0) {
        /* Nothing to decode: only an empty page is consistent with that. */
        if (expected_size != 0)
            return lr_error_set(err, LR_ECORRUPT, "empty %s data cannot hold %zu bytes",
                                lr__pq_codec_name(codec), expected_size);
        return LR_OK;
    }
    if (s == NULL)
        return lr_error_set(err, LR_EINVAL, "no input buffer for %zu bytes", n);

    switch (codec) {
    case LR__PQ_CODEC_UNCOMPRESSED:
        if (n != expected_size)
            return lr_error_set(err, LR_ECORRUPT,
                                "uncompressed page holds %zu bytes but declares %zu", n,
                                expected_size);
        memcpy(out, s, n);
        return LR_OK;
    case LR__PQ_CODEC_SNAPPY:
        return decompress_snappy(s, n, out, expected_size, err);
    case LR__PQ_CODEC_GZIP:
        return decompress_gzip(ctx, s, n, out, expected_size, err);
    case LR__PQ_CODEC_ZSTD:
        return decompress_zstd(ctx, s, n, out, expected_size, err);
    case LR__PQ_CODEC_LZ4_RAW:
        if (!lz4_raw_block(s, n, out, expected_size))
            return lr_error_set(err, LR_ECORRUPT,
                                "LZ4_RAW data is corrupt or does not decompress to %zu bytes",
                                expected_size);
        return LR_OK;
    case LR__PQ_CODEC_LZ4:
        if (lz4_hadoop(s, n, out, expected_size) || lz4_raw_block(s, n, out, expected_size) ||
            lz4_frame(ctx, s, n, out, expected_size))
            return LR_OK;
        return lr_error_set(err, LR_ECORRUPT,
                            "LZ4 data is neither Hadoop-framed, a raw block nor a frame that "
                            "decompresses to %zu bytes",
                            expected_size);
#ifdef LARDER_HAVE_BROTLI
    case LR__PQ_CODEC_BROTLI:
        return decompress_brotli(s, n, out, expected_size, err);
#endif
    default:
        break;
    }
    return lr_error_set(err, LR_EUNSUPPORTED, "compression codec %d is not supported", codec);
}

lr_status lr__pq_decompress_buf(lr__pq_codec_ctx *ctx, int codec, const void *src, size_t n,
                                size_t expected_size, lr_buf *dst, lr_error *err)
{
    lr_status st;

    lr_buf_clear(dst);
    if (expected_size > dst->max)
        return lr_error_set(err, LR_ELIMIT,
                            "page declares %zu uncompressed bytes, above the %zu-byte limit",
                            expected_size, dst->max);
    if (expected_size > LR__PQ_CODEC_MAX_OUTPUT)
        return lr_error_set(err, LR_ELIMIT,
                            "page declares %zu uncompressed bytes, above the %zu-byte limit",
                            expected_size, LR__PQ_CODEC_MAX_OUTPUT);
    if (expected_size > lr__pq_decompress_max_expansion(codec, n))
        return lr__pq_decompress(ctx, codec, src, n, NULL, expected_size, err);
    if (expected_size > 0) {
        st = lr_buf_reserve(dst, expected_size);
        if (st != LR_OK)
            return lr_error_set(err, st, "cannot reserve %zu bytes for a page", expected_size);
    }
    st = lr__pq_decompress(ctx, codec, src, n, expected_size ? dst->data : NULL, expected_size,
                           err);
    if (st != LR_OK)
        return st;
    dst->len = expected_size;
    if (dst->data)
        dst->data[dst->len] = '\0';
    return LR_OK;
}
