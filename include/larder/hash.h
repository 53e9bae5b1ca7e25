/*
 * hash.h - the hashes of in-memory tables (dictionaries, reductions,
 * partitioning, row checksums): one integer mixer and one byte-string hash.
 * Not for anything persisted; values may change between versions.
 */
#ifndef LARDER_HASH_H
#define LARDER_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64's finalizer: every input bit reaches every output bit. */
static inline uint64_t lr_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The high and low halves of a 128-bit product, folded (one multiplication). */
static inline uint64_t lr__mul_fold(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * A hash of n bytes under `seed`. Strings of up to 16 bytes (identifiers,
 * dates, codes: most keys) take two loads that may overlap and one
 * product; longer ones one product per 16 bytes.
 */
static inline uint64_t lr_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t a = 0, b = 0;

    if (n <= 16) {
        if (n >= 8) {
            memcpy(&a, p, 8);
            memcpy(&b, p + n - 8, 8);
        } else if (n >= 4) {
            uint32_t x, y;
            memcpy(&x, p, 4);
            memcpy(&y, p + n - 4, 4);
            a = x;
            b = y;
        } else if (n > 0) {
            a = (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
        }
        return lr__mul_fold(a ^ seed ^ 0xa0761d6478bd642fULL, b ^ n ^ 0xe7037ed1a0b428dbULL);
    }
    uint64_t h = seed ^ n;
    size_t left = n;
    while (left > 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        h = lr__mul_fold(a ^ 0xa0761d6478bd642fULL, b ^ h ^ 0xe7037ed1a0b428dbULL);
        p += 16;
        left -= 16;
    }
    /* The last 16 bytes, overlapping what came before when fewer remain. */
    memcpy(&a, p + left - 16, 8);
    memcpy(&b, p + left - 8, 8);
    return lr_mix64(lr__mul_fold(a ^ 0x8ebc6af09c88c6e3ULL, b ^ h ^ 0x589965cc75374cc3ULL));
}

#ifdef __cplusplus
}
#endif
#endif
