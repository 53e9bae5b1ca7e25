/*
 * bytesrc.h - a byte stream from a file or stdin that undoes gzip or zstd
 * compression transparently (detected from the first bytes). Internal to
 * the ingest subsystem.
 */
#ifndef LARDER_INGEST_BYTESRC_H
#define LARDER_INGEST_BYTESRC_H

#include <stddef.h>
#include <stdint.h>

#include "larder/status.h"

typedef struct lr__bytesrc lr__bytesrc;

/* Opens path ("-": stdin). LR_EIO with the reason when it cannot be opened. */
lr_status lr__bytesrc_open(const char *path, lr__bytesrc **out, lr_error *err);

/*
 * Reads up to `cap` decompressed bytes into buf; *n = 0 at the end.
 * LR_EIO on read errors, LR_ECORRUPT on corrupt compressed data.
 */
lr_status lr__bytesrc_read(lr__bytesrc *s, char *buf, size_t cap, size_t *n, lr_error *err);

/* Compressed bytes consumed so far, and the file's size (0 when unknown). */
uint64_t lr__bytesrc_consumed(const lr__bytesrc *s);
uint64_t lr__bytesrc_size(const lr__bytesrc *s);

/* "gzip", "zstd" or "none". */
const char *lr__bytesrc_codec(const lr__bytesrc *s);

void lr__bytesrc_close(lr__bytesrc *s);

#endif
