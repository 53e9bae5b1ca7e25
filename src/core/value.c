/*
 * value.c - parsing and checking of feature values given as strings
 * (ValueAsString / ValueAsStringList items): Integral, Fractional, String.
 *
 * These run for every value of every PutRecord and every ingested row, so
 * they avoid allocation and the C library's locale-dependent scanners where
 * they can. The rules are in value.h and, in full, docs/values.md. Event
 * times and the clock are in timefmt.c.
 */
#include "larder/value.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* How much of an offending value an error message quotes. */
#define QUOTE_MAX 64

/* Longest Fractional literal converted on the stack; longer ones use the heap. */
#define FRAC_STACK_MAX 128

/*
 * Writes a short, printable rendering of s[0..n) into q (QUOTE_MAX + 4
 * bytes) for error messages: non-printable bytes become '?', and long values
 * end in "...". Messages must stay one clean line whatever the input holds.
 */
static void quote(const char *s, size_t n, char *q)
{
    size_t i, m = n > QUOTE_MAX ? QUOTE_MAX : n;
    for (i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > QUOTE_MAX) {
        memcpy(q + m, "...", 3);
        m += 3;
    }
    q[m] = '\0';
}

lr_status lr_value_parse_integral(const char *s, size_t n, int64_t *out, lr_error *err)
{
    char q[QUOTE_MAX + 4];
    uint64_t acc = 0, limit;
    bool neg = false;
    size_t i = 0;

    if (n == 0)
        return lr_error_set(err, LR_EINVAL, "'' is not a valid Integral: the value is empty");
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        goto bad_form;
    /* The magnitude of INT64_MIN is one more than INT64_MAX. */
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            goto bad_form;
        if (acc > (limit - d) / 10) {
            quote(s, n, q);
            return lr_error_set(err, LR_EINVAL,
                                "'%s' is not a valid Integral: out of the signed 64-bit range", q);
        }
        acc = acc * 10 + d;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return LR_OK;

bad_form:
    quote(s, n, q);
    return lr_error_set(err, LR_EINVAL,
                        "'%s' is not a valid Integral: expected an optional sign and decimal "
                        "digits only",
                        q);
}

/*
 * Checks the Fractional grammar:
 *   [+-]? ( digits ('.' digits?)? | '.' digits ) ([eE] [+-]? digits)?
 * i.e. Java's Double.parseDouble decimal form without whitespace, hex or the
 * f/d suffixes. Returns true when s[0..n) matches.
 */
static bool frac_syntax_ok(const char *s, size_t n)
{
    size_t i = 0, int_digits = 0, frac_digits = 0, exp_digits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        int_digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0)
            return false;
    }
    return i == n;
}

/* strtod under the "C" locale, whatever locale the process has set. */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * Clinger's fast path: a decimal with at most 19 significant digits whose
 * integer value m is at most 2^53, scaled by 10^e with |e| <= 22, is m * 10^e
 * or m / 10^-e computed in doubles: both operands are exact, so the one
 * rounding of the operation gives the correctly rounded result, the same
 * double strtod gives. Most feature values (sensor readings, prices) take
 * this path. It checks the syntax as it goes (the same grammar as
 * frac_syntax_ok), so valid text needs one pass. Returns false when the
 * input is not valid or needs the general algorithm.
 */
static bool frac_fast(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    bool neg = false, any = false;
    uint64_t m = 0;
    int digits = 0;
    long exp10 = 0;

    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (m == 0 && s[i] == '0')
            continue;
        if (digits == 19)
            return false;
        m = m * 10 + (uint64_t)(s[i] - '0');
        digits++;
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            any = true;
            exp10--;
            if (m == 0 && s[i] == '0')
                continue;
            if (digits == 19)
                return false;
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        long e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t first = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (e > 100000)
                return false;
            e = e * 10 + (s[i] - '0');
        }
        if (i == first)
            return false; /* an exponent without digits */
        exp10 += eneg ? -e : e;
    }
    if (i != n || !any)
        return false;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    if (m > (1ULL << 53) || exp10 < -22 || exp10 > 22)
        return false;
    double d = (double)m;
    d = exp10 < 0 ? d / p10[-exp10] : d * p10[exp10];
    *out = neg ? -d : d;
    return true;
}

lr_status lr_value_parse_fractional(const char *s, size_t n, double *out, lr_error *err)
{
    char q[QUOTE_MAX + 4];
    char stackbuf[FRAC_STACK_MAX + 1];
    char *buf = stackbuf, *end = NULL;
    lr_status st = LR_OK;
    size_t i = 0;
    bool neg = false;
    double d;

    if (n == 0)
        return lr_error_set(err, LR_EINVAL, "'' is not a valid Fractional: the value is empty");
    if (frac_fast(s, n, out))
        return LR_OK;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    /* Java's spellings, case-sensitive, with an optional sign. */
    if (n - i == 3 && memcmp(s + i, "NaN", 3) == 0) {
        *out = NAN;
        return LR_OK;
    }
    if (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return LR_OK;
    }
    if (!frac_syntax_ok(s, n)) {
        quote(s, n, q);
        return lr_error_set(err, LR_EINVAL,
                            "'%s' is not a valid Fractional: expected a decimal number such as "
                            "-12.5 or 1.5e-3, NaN, Infinity or -Infinity",
                            q);
    }
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale == (locale_t)0)
        return lr_error_set(err, LR_ENOMEM, "out of memory creating the C locale");
    if (n > FRAC_STACK_MAX) {
        buf = malloc(n + 1);
        if (buf == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory parsing a Fractional value");
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    d = strtod_l(buf, &end, c_locale);
    if (end != buf + n) {
        /* Cannot happen after the syntax check; kept as a guard. */
        quote(s, n, q);
        st = lr_error_set(err, LR_EINVAL, "'%s' is not a valid Fractional", q);
        goto cleanup;
    }
    if (isinf(d)) {
        /* A finite literal too large for a double; underflow to 0 is fine. */
        quote(s, n, q);
        st = lr_error_set(err, LR_EINVAL,
                          "'%s' is not a valid Fractional: out of the range of a 64-bit double", q);
        goto cleanup;
    }
    *out = d;

cleanup:
    if (buf != stackbuf)
        free(buf);
    return st;
}

/*
 * Returns the length of the longest valid UTF-8 prefix of s[0..n). Rejects
 * overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF
 * (RFC 3629, section 4's table of well-formed byte sequences).
 */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            /* Skip ASCII eight bytes at a time: most values are ASCII. */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            while (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return i;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned char lo = 0x80, hi = 0xBF;
            if (c == 0xE0)
                lo = 0xA0; /* overlong below U+0800 */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
            if (i + 2 >= n || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
                return i;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned char lo = 0x80, hi = 0xBF;
            if (c == 0xF0)
                lo = 0x90; /* overlong below U+10000 */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
            if (i + 3 >= n || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return i;
            i += 4;
        } else {
            /* 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF. */
            return i;
        }
    }
    return n;
}

bool lr_utf8_valid(const char *s, size_t n)
{
    return utf8_valid_prefix((const unsigned char *)s, n) == n;
}

lr_status lr_value_check_string(const char *s, size_t n, lr_error *err)
{
    size_t at = utf8_valid_prefix((const unsigned char *)s, n);
    if (at != n)
        return lr_error_set(err, LR_EINVAL,
                            "the value is not a valid String: invalid UTF-8 at byte %zu", at);
    return LR_OK;
}
