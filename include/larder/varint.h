/*
 * varint.h - LEB128 varints (7 bits a byte, low bits first, the high bit set
 * on every byte but the last), as the online store's value encoding and the
 * offline store's log entries use them.
 */
#ifndef LARDER_VARINT_H
#define LARDER_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes the encoding of v takes (1..10). */
static inline size_t lr_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Writes v at out (room for lr_varint_len(v) bytes); returns the bytes written. */
static inline size_t lr_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/*
 * Reads a varint from p[*pos..n) into *out and moves *pos past it. Only the
 * minimal encoding of a value of at most 64 bits is accepted (no trailing
 * zero groups), so every value has exactly one encoding; false (with *pos
 * unchanged) when the bytes end first or the encoding is not minimal.
 */
static inline bool lr_varint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
    uint64_t x = 0;
    size_t i = *pos;
    if (i < n && p[i] < 0x80) {
        /* One byte, the common case (always minimal). */
        *out = p[i];
        *pos = i + 1;
        return true;
    }
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (i >= n)
            return false;
        uint8_t b = p[i++];
        if (shift == 63 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            if (b == 0 && shift > 0)
                return false;
            *pos = i;
            *out = x;
            return true;
        }
    }
    return false;
}

#ifdef __cplusplus
}
#endif
#endif
