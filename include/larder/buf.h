/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Every buffer that grows from input (HTTP bodies, JSON, CSV lines, Parquet
 * pages) is an lr_buf with a cap, so hostile input fails with LR_ELIMIT
 * instead of exhausting memory. The data is always NUL-terminated (the NUL is
 * not counted in len) so text can be passed to C string functions.
 */
#ifndef LARDER_BUF_H
#define LARDER_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_buf {
    char *data;  /* NULL until the first append; owned by the buffer */
    size_t len;  /* bytes in use */
    size_t cap;  /* bytes allocated (excluding the NUL slot) */
    size_t max;  /* the cap: len may never exceed it (0: SIZE_MAX/2) */
} lr_buf;

/* Initialises an empty buffer that may hold at most `max` bytes. */
void lr_buf_init(lr_buf *b, size_t max);

/* Frees the data; the buffer is empty and reusable afterwards. NULL is fine. */
void lr_buf_free(lr_buf *b);

/* Empties the buffer, keeping its memory. */
void lr_buf_clear(lr_buf *b);

/*
 * Ensures room for `extra` more bytes. LR_ELIMIT past the cap, LR_ENOMEM when
 * allocation fails; the contents are unchanged on failure.
 */
lr_status lr_buf_reserve(lr_buf *b, size_t extra);

/* The out-of-line halves of the appends below (growth and the cap). */
lr_status lr__buf_append_slow(lr_buf *b, const void *p, size_t n);

/*
 * Appends n bytes. Inline because it runs for every value on the hot paths
 * (CSV fields, log entries, Parquet byte columns): when the bytes fit, it is
 * a copy and no call.
 */
static inline lr_status lr_buf_append(lr_buf *b, const void *p, size_t n)
{
    if (b->data != NULL && n <= b->cap - b->len) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return LR_OK;
    }
    return lr__buf_append_slow(b, p, n);
}

static inline lr_status lr_buf_append_byte(lr_buf *b, uint8_t c)
{
    if (b->data != NULL && b->len < b->cap) {
        b->data[b->len++] = (char)c;
        b->data[b->len] = '\0';
        return LR_OK;
    }
    return lr__buf_append_slow(b, &c, 1);
}

lr_status lr_buf_append_str(lr_buf *b, const char *s);
lr_status lr_buf_printf(lr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends `s` as a JSON string literal, quotes included, escaping as RFC 8259. */
lr_status lr_buf_append_json_str(lr_buf *b, const char *s, size_t n);

/* Options of lr_buf_append_csv_field: also quote these, which readers may take otherwise. */
#define LR_CSV_QUOTE_EMPTY 1u  /* "" (an empty string, not a missing value) */
#define LR_CSV_QUOTE_SPACES 2u /* leading or trailing spaces (some readers trim them) */

/*
 * Appends s[0..n) as an RFC 4180 field: quoted (quotes doubled) when it holds
 * a comma, a quote, CR or LF, or what `flags` names. Errors: as lr_buf_append.
 */
lr_status lr_buf_append_csv_field(lr_buf *b, const char *s, size_t n, unsigned flags);

/*
 * Takes the data out of the buffer: the caller owns it (free()) and the
 * buffer is empty. Returns NULL for a buffer that never allocated.
 */
char *lr_buf_detach(lr_buf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
