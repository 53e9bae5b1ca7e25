/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every write-ahead-log
 * entry. Internal to the offline store.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it and a table-driven
 * software version (slicing by 8) otherwise; both give identical results.
 */
#ifndef LARDER_OFFLINE_CRC32C_H
#define LARDER_OFFLINE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends `crc` (0 for a fresh checksum) with `n` bytes at `p` and returns
 * the new value, so that crc32c(crc32c(0, a), b) == crc32c(0, a || b).
 * Thread-safe.
 */
uint32_t lr__crc32c(uint32_t crc, const void *p, size_t n);

/* The software path alone, for tests that compare it with the hardware path. */
uint32_t lr__crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
