/*
 * buf.c - capped growable byte buffer (see buf.h).
 */
#include "larder/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lr_buf_init(lr_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
}

void lr_buf_free(lr_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void lr_buf_clear(lr_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

lr_status lr_buf_reserve(lr_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return LR_ELIMIT;
    need = b->len + extra;
    if (need <= b->cap && b->data)
        return LR_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 4 ? need : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    p = realloc(b->data, ncap + 1);
    if (p == NULL)
        return LR_ENOMEM;
    b->data = p;
    b->cap = ncap;
    b->data[b->len] = '\0';
    return LR_OK;
}

lr_status lr__buf_append_slow(lr_buf *b, const void *p, size_t n)
{
    lr_status st = lr_buf_reserve(b, n);
    if (st != LR_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return LR_OK;
}

lr_status lr_buf_append_str(lr_buf *b, const char *s)
{
    return lr_buf_append(b, s, strlen(s));
}

lr_status lr_buf_printf(lr_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    lr_status st;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return LR_EINVAL;
    }
    st = lr_buf_reserve(b, (size_t)n);
    if (st == LR_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return st;
}

/*
 * Whether any of the 8 bytes of x needs escaping in JSON (a control byte
 * below 0x20, '"' or '\\'), with the usual SWAR tests: a byte below 0x20
 * borrows when 0x20 is subtracted, a byte equal to c becomes zero in x ^ c.
 */
static inline bool needs_escape8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t lt = (x - ones * 0x20) & ~x;
    uint64_t zq = (q - ones) & ~q;
    uint64_t zb = (bs - ones) & ~bs;
    return ((lt | zq | zb) & highs) != 0;
}

lr_status lr_buf_append_json_str(lr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    lr_status st;
    size_t i = 0, start = 0;

    if ((st = lr_buf_append_byte(b, '"')) != LR_OK)
        return st;
    while (i < n) {
        /* Skip 8 plain bytes at a time; bytes of 0x80 and up are never escaped. */
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (needs_escape8(x))
                break;
            i += 8;
        }
        if (i < n && n - i < 8) {
            /* The tail, padded with a plain byte: most values end here at once. */
            uint64_t x;
            memset(&x, 'x', sizeof x);
            memcpy(&x, s + i, n - i);
            if (!needs_escape8(x))
                i = n;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c < 0x20) {
            esc[0] = '\\';
            elen = 2;
            switch (c) {
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
        } else {
            i++;
            continue;
        }
        if (i > start && (st = lr_buf_append(b, s + start, i - start)) != LR_OK)
            return st;
        if ((st = lr_buf_append(b, esc, elen)) != LR_OK)
            return st;
        start = ++i;
    }
    if (n > start && (st = lr_buf_append(b, s + start, n - start)) != LR_OK)
        return st;
    return lr_buf_append_byte(b, '"');
}

lr_status lr_buf_append_csv_field(lr_buf *b, const char *s, size_t n, unsigned flags)
{
    bool quote = n == 0 && (flags & LR_CSV_QUOTE_EMPTY);
    lr_status st;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (n > 0 && (flags & LR_CSV_QUOTE_SPACES) && (s[0] == ' ' || s[n - 1] == ' '))
        quote = true;
    if (!quote)
        return lr_buf_append(b, s, n);
    st = lr_buf_append_byte(b, '"');
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        if (s[i] == '"')
            st = lr_buf_append_byte(b, '"');
        if (st == LR_OK)
            st = lr_buf_append_byte(b, (uint8_t)s[i]);
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(b, '"');
    return st;
}

char *lr_buf_detach(lr_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
