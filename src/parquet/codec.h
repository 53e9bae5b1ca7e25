/*
 * codec.h - page compression codecs of the Parquet format (internal).
 *
 * Compresses and decompresses whole page bodies with the codecs of the
 * Parquet CompressionCodec enum: UNCOMPRESSED, SNAPPY (libsnappy), GZIP
 * (zlib, gzip framing; decompression accepts several concatenated members),
 * LZ4 (the deprecated Hadoop framing of big-endian length-prefixed LZ4
 * blocks, with a fallback to one raw LZ4 block as some writers produced),
 * ZSTD (libzstd), LZ4_RAW (one liblz4 block) and BROTLI (libbrotli, when the
 * build found it). LZO is not supported.
 *
 * Decompression never trusts sizes from the file: output is bounded by the
 * uncompressed size the page header declares, by LR__PQ_CODEC_MAX_OUTPUT and
 * by the largest expansion the codec can produce from the given input, and
 * a stream that yields any other number of bytes is LR_ECORRUPT. Zero bytes
 * are never decompressed into a NULL buffer.
 *
 * This module knows nothing about pages or Thrift: callers pass bytes.
 * Codec contexts are not thread-safe; use one per thread (or pass NULL and
 * pay for a fresh library context per call).
 */
#ifndef LARDER_PARQUET_CODEC_H
#define LARDER_PARQUET_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The values of parquet.thrift's CompressionCodec enum. */
#define LR__PQ_CODEC_UNCOMPRESSED 0
#define LR__PQ_CODEC_SNAPPY 1
#define LR__PQ_CODEC_GZIP 2
#define LR__PQ_CODEC_LZO 3
#define LR__PQ_CODEC_BROTLI 4
#define LR__PQ_CODEC_LZ4 5 /* deprecated Hadoop-framed LZ4 */
#define LR__PQ_CODEC_ZSTD 6
#define LR__PQ_CODEC_LZ4_RAW 7

/*
 * The most bytes one decompression may produce (1 GiB), whatever a page
 * header declares. Far above any page a real writer emits (about 1 MiB; a
 * few hundred MiB for huge dictionaries) and below what a 32-bit size field
 * could claim.
 */
#define LR__PQ_CODEC_MAX_OUTPUT ((size_t)1 << 30)

/* Reusable library contexts (zstd, zlib, brotli state). Opaque. */
typedef struct lr__pq_codec_ctx lr__pq_codec_ctx;

/*
 * Creates a codec context. Contexts make repeated compression and
 * decompression cheaper (zstd in particular); every function below also
 * accepts ctx == NULL. Errors: LR_ENOMEM.
 */
lr_status lr__pq_codec_ctx_new(lr__pq_codec_ctx **out, lr_error *err);

/* Frees a context. NULL is fine. */
void lr__pq_codec_ctx_free(lr__pq_codec_ctx *ctx);

/* The codec's name as parquet.thrift spells it ("SNAPPY"), "UNKNOWN" otherwise. */
const char *lr__pq_codec_name(int codec);

/*
 * Parses a codec name, case-insensitively ("zstd", "SNAPPY", "none" and
 * "uncompressed", "gzip", "lz4_raw", "lz4", "brotli"). LR_EINVAL with a
 * message listing the choices when the name is unknown.
 */
lr_status lr__pq_codec_parse(const char *name, int *codec, lr_error *err);

/* True when this build can decompress `codec` (LZO: never). */
bool lr__pq_codec_can_decompress(int codec);

/*
 * True when this build can compress with `codec`. Larder compresses with
 * UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW and (when built with it) BROTLI,
 * never with the deprecated LZ4 or LZO.
 */
bool lr__pq_codec_can_compress(int codec);

/*
 * An upper bound on the compressed size of `n` bytes with `codec`, or 0 when
 * the codec cannot compress (see lr__pq_codec_can_compress) or n is too big.
 */
size_t lr__pq_compress_bound(int codec, size_t n);

/*
 * Compresses src[0..n) with `codec` and APPENDS the result to `dst` (whose
 * existing contents are kept). `level` is the codec's level: 0 means the
 * codec's default (ZSTD 1, as Arrow's Parquet writers use: on encoded
 * pages it compresses about as well as level 3 and faster; GZIP 6, BROTLI
 * 6); ZSTD takes 1..22 (negative
 * levels are ZSTD's fast modes), GZIP 1..9, BROTLI 0..11, other codecs
 * ignore it. n may be 0 (src may then be NULL); codecs still emit their
 * empty-stream framing. Errors: LR_EUNSUPPORTED (codec cannot compress),
 * LR_EINVAL (level out of range), LR_ELIMIT (dst's cap), LR_ENOMEM,
 * LR_EINTERNAL (the library failed).
 */
lr_status lr__pq_compress(lr__pq_codec_ctx *ctx, int codec, int level, const void *src, size_t n,
                          lr_buf *dst, lr_error *err);

/*
 * Decompresses src[0..n) with `codec` into out[0..expected_size): the
 * stream must produce exactly expected_size bytes (the page header's
 * uncompressed_page_size). out may be NULL only when expected_size is 0; an
 * empty output is only accepted from a stream that decodes to nothing (for
 * UNCOMPRESSED: n == 0), and no library is called to decode zero bytes into
 * NULL. Errors: LR_EUNSUPPORTED (LZO, or BROTLI in a build without it),
 * LR_ELIMIT (expected_size above LR__PQ_CODEC_MAX_OUTPUT), LR_ECORRUPT
 * (malformed stream, a stream that decodes to more or fewer bytes than
 * expected, or expected_size beyond what the codec can expand n bytes to),
 * LR_ENOMEM. On failure the contents of out are unspecified.
 */
lr_status lr__pq_decompress(lr__pq_codec_ctx *ctx, int codec, const void *src, size_t n, void *out,
                            size_t expected_size, lr_error *err);

/*
 * As lr__pq_decompress, into `dst`: dst is cleared, then holds exactly
 * expected_size bytes on success. dst's cap (lr_buf.max) bounds the output
 * too (LR_ELIMIT), so a caller can impose a tighter limit than
 * LR__PQ_CODEC_MAX_OUTPUT. Memory is reserved only after expected_size has
 * passed every bound.
 */
lr_status lr__pq_decompress_buf(lr__pq_codec_ctx *ctx, int codec, const void *src, size_t n,
                                size_t expected_size, lr_buf *dst, lr_error *err);

/*
 * The largest output the codec can produce from n input bytes (saturating at
 * SIZE_MAX), used to reject page headers that declare an impossible
 * uncompressed size before any memory is reserved. SIZE_MAX for codecs
 * without a useful bound.
 */
size_t lr__pq_decompress_max_expansion(int codec, size_t n);

#ifdef __cplusplus
}
#endif
#endif
