/*
 * buf.c - capped growable byte buffer (see buf.h).
 */
#include "larder/buf.h"

#include <stdarg.h>
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

lr_status lr_buf_append_json_str(lr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    lr_status st;
    size_t i, run = 0;

    /* Worst case 6 bytes per input byte; reserve per run instead. */
    if ((st = lr_buf_append_byte(b, '"')) != LR_OK)
        return st;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c < 0x20) {
            esc[0] = '\\';
            switch (c) {
            case '\n': esc[1] = 'n'; elen = 2; break;
            case '\r': esc[1] = 'r'; elen = 2; break;
            case '\t': esc[1] = 't'; elen = 2; break;
            case '\b': esc[1] = 'b'; elen = 2; break;
            case '\f': esc[1] = 'f'; elen = 2; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
        } else {
            run++;
            continue;
        }
        if (run && (st = lr_buf_append(b, s + i - run, run)) != LR_OK)
            return st;
        run = 0;
        if ((st = lr_buf_append(b, esc, elen)) != LR_OK)
            return st;
    }
    if (run && (st = lr_buf_append(b, s + n - run, run)) != LR_OK)
        return st;
    return lr_buf_append_byte(b, '"');
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
