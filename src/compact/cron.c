/*
 * cron.c - cron expressions in UTC: the 5-field crontab form and the
 * 6-field form of AWS EventBridge ("0 0 * * ? *"), and the next time one
 * fires. See lr_cron in compact.h for the accepted syntax.
 *
 * Day matching follows each form's rule. crontab(5): when either day field
 * starts with '*' a day must match both, otherwise either (so "0 0 1 * 1"
 * fires on the 1st and on Mondays). EventBridge: one day field must be
 * '?', and the other decides. Day-of-week numbering differs too: 0-7 with
 * Sunday 0 and 7 in crontab, 1-7 with Sunday 1 in EventBridge.
 *
 * lr_cron_next walks days (skipping whole years and months that cannot
 * match), then hours and minutes within a matching day, so it costs at most
 * a few hundred thousand cheap steps even for expressions that fire once in
 * decades, and finds "never" (30 February) by reaching the end of 2199.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compact/compact_internal.h"

#define US_PER_MIN 60000000LL
#define US_PER_DAY 86400000000LL
#define YEAR_MIN   1970
#define YEAR_MAX   2199

enum { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR };

static const char *const field_names[] = {"minute", "hour",        "day-of-month",
                                          "month",  "day-of-week", "year"};
static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct fparse {
    int field;
    bool aws;
    int lo, hi; /* the field's range as written */
} fparse;

static lr_status bad(lr_error *err, const fparse *f, const char *tok, size_t n, const char *why)
{
    return lr_error_set(err, LR_EINVAL, "cron %s field '%.*s': %s", field_names[f->field],
                        (int)(n > 40 ? 40 : n), tok, why);
}

/* Reads a number or a name at *p; false when there is neither. */
static bool read_value(const fparse *f, const char **p, const char *end, int *v)
{
    const char *q = *p;
    if (q < end && isdigit((unsigned char)*q)) {
        long x = 0;
        while (q < end && isdigit((unsigned char)*q) && x < 100000)
            x = x * 10 + (*q++ - '0');
        *v = (int)x;
        *p = q;
        return true;
    }
    if (end - q >= 3 && (f->field == F_MONTH || f->field == F_DOW)) {
        const char *const *names = f->field == F_MONTH ? months : days;
        int count = f->field == F_MONTH ? 12 : 7;
        for (int i = 0; i < count; i++) {
            if (strncasecmp(q, names[i], 3) == 0) {
                /* Months are 1-based; days are written in the form's numbering. */
                *v = f->field == F_MONTH ? i + 1 : (f->aws ? i + 1 : i);
                *p = q + 3;
                return true;
            }
        }
    }
    return false;
}

/* Maps a written day-of-week to 0..6 (Sunday 0). */
static int dow_of(const fparse *f, int v)
{
    return f->aws ? v - 1 : v % 7;
}

static void set_bit(lr_cron *c, int field, int v)
{
    switch (field) {
    case F_MIN:
        c->minutes |= 1ULL << v;
        break;
    case F_HOUR:
        c->hours |= 1u << v;
        break;
    case F_DOM:
        c->dom |= 1u << v;
        break;
    case F_MONTH:
        c->months |= (uint16_t)(1u << v);
        break;
    case F_DOW:
        c->dow |= (uint8_t)(1u << v);
        break;
    case F_YEAR:
        c->years[(v - YEAR_MIN) / 64] |= 1ULL << ((v - YEAR_MIN) % 64);
        break;
    }
}

/* Parses one comma-separated item of a field. */
static lr_status parse_item(lr_cron *c, const fparse *f, const char *tok, size_t n, lr_error *err)
{
    const char *p = tok, *end = tok + n;
    int a, b, step = 1;
    bool range = false;

    if (n == 0)
        return bad(err, f, tok, n, "empty list item");
    /* Day-specific forms. */
    if (f->field == F_DOM) {
        if (n == 1 && *p == 'L') {
            c->dom_last = true;
            return LR_OK;
        }
        if (n == 2 && memcmp(p, "LW", 2) == 0) {
            c->dom_weekday |= 1u; /* bit 0: the last weekday of the month */
            return LR_OK;
        }
        if (n >= 2 && p[n - 1] == 'W') {
            if (!read_value(f, &p, end - 1, &a) || p != end - 1 || a < 1 || a > 31)
                return bad(err, f, tok, n, "expected nW with n in 1..31");
            c->dom_weekday |= 1u << a;
            return LR_OK;
        }
    }
    if (f->field == F_DOW) {
        const char *hash = memchr(p, '#', n);
        if (hash != NULL) {
            int k;
            const char *q = hash + 1;
            if (!read_value(f, &p, hash, &a) || p != hash || !read_value(f, &q, end, &k) ||
                q != end || a < f->lo || a > f->hi || k < 1 || k > 5)
                return bad(err, f, tok, n, "expected d#k with k in 1..5");
            c->dow_nth[dow_of(f, a)] |= (uint8_t)(1u << k);
            return LR_OK;
        }
        if (n >= 2 && p[n - 1] == 'L') {
            if (!read_value(f, &p, end - 1, &a) || p != end - 1 || a < f->lo || a > f->hi)
                return bad(err, f, tok, n, "expected dL (the last such weekday)");
            c->dow_last |= (uint8_t)(1u << dow_of(f, a));
            return LR_OK;
        }
        if (n == 1 && *p == 'L') {
            c->dow_last |= 1u << 6; /* EventBridge: L alone is the last Saturday */
            return LR_OK;
        }
    }
    if (*p == '*') {
        a = f->lo;
        b = f->hi;
        p++;
        if (p < end && *p != '/')
            return bad(err, f, tok, n, "unexpected text after '*'");
    } else {
        if (!read_value(f, &p, end, &a))
            return bad(err, f, tok, n, "expected a number or a name");
        b = a;
        if (p < end && *p == '-') {
            p++;
            range = true;
            if (!read_value(f, &p, end, &b))
                return bad(err, f, tok, n, "expected a number or a name after '-'");
        }
        if (p < end && *p == '/' && !range)
            b = f->hi; /* "a/n": from a to the end of the range */
    }
    if (p < end && *p == '/') {
        p++;
        if (!read_value(f, &p, end, &step) || step < 1)
            return bad(err, f, tok, n, "expected a positive step after '/'");
    }
    if (p != end)
        return bad(err, f, tok, n, "unexpected characters");
    if (a < f->lo || b > f->hi || a > b)
        return bad(err, f, tok, n, "value out of range");
    for (int v = a; v <= b; v += step)
        set_bit(c, f->field, f->field == F_DOW ? dow_of(f, v) : v);
    return LR_OK;
}

static lr_status parse_field(lr_cron *c, int field, bool aws, const char *tok, size_t n, bool *star,
                             lr_error *err)
{
    fparse f;
    f.field = field;
    f.aws = aws;
    switch (field) {
    case F_MIN:
        f.lo = 0, f.hi = 59;
        break;
    case F_HOUR:
        f.lo = 0, f.hi = 23;
        break;
    case F_DOM:
        f.lo = 1, f.hi = 31;
        break;
    case F_MONTH:
        f.lo = 1, f.hi = 12;
        break;
    case F_DOW:
        f.lo = aws ? 1 : 0, f.hi = 7;
        break;
    default:
        f.lo = YEAR_MIN, f.hi = YEAR_MAX;
        break;
    }
    *star = n > 0 && (tok[0] == '*' || tok[0] == '?');
    if (n == 1 && tok[0] == '?') {
        if (field != F_DOM && field != F_DOW)
            return bad(err, &f, tok, n, "'?' is for the day fields only");
        return parse_item(c, &f, "*", 1, err);
    }
    const char *p = tok, *end = tok + n;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        lr_status st = parse_item(c, &f, p, (size_t)(e - p), err);
        if (st != LR_OK)
            return st;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return LR_OK;
}

lr_status lr_cron_parse(const char *expr, lr_cron *out, lr_error *err)
{
    const char *tok[7];
    size_t len[7];
    int n = 0;
    const char *p = expr;
    bool star[6];
    lr_status st;

    memset(out, 0, sizeof *out);
    if (expr == NULL)
        return lr_error_set(err, LR_EINVAL, "no cron expression");
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (n == 7)
            break;
        tok[n] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        len[n] = (size_t)(p - tok[n]);
        n++;
    }
    if (n != 5 && n != 6)
        return lr_error_set(err, LR_EINVAL,
                            "cron expression '%.80s' has %d fields: expected 5 (minute hour "
                            "day-of-month month day-of-week) or 6 (the same plus year, as AWS "
                            "EventBridge writes them)",
                            expr, n);
    out->aws = n == 6;
    for (int i = 0; i < n; i++) {
        st = parse_field(out, i, out->aws, tok[i], len[i], &star[i], err);
        if (st != LR_OK)
            return st;
    }
    if (n == 5) {
        for (int i = 0; i < 4; i++)
            out->years[i] = ~0ULL;
    }
    bool dom_q = len[F_DOM] == 1 && tok[F_DOM][0] == '?';
    bool dow_q = len[F_DOW] == 1 && tok[F_DOW][0] == '?';
    if (out->aws && dom_q == dow_q)
        return lr_error_set(err, LR_EINVAL,
                            "cron expression '%.80s': in the 6-field form exactly one of "
                            "day-of-month and day-of-week must be '?'",
                            expr);
    out->dom_any = star[F_DOM];
    out->dow_any = star[F_DOW];
    return LR_OK;
}

/* ---- next ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return md[m - 1];
}

/* Weekday (0 = Sunday) of a day counted from 1970-01-01, a Thursday. */
static unsigned weekday(int64_t day)
{
    int64_t w = (day + 4) % 7;
    return (unsigned)(w < 0 ? w + 7 : w);
}

/* The weekday (Mon-Fri) nearest day n of the month, within the month (Quartz's W). */
static unsigned nearest_weekday(unsigned n, unsigned last, unsigned wd_of_n)
{
    if (n > last)
        n = last, wd_of_n = 0xff;
    if (wd_of_n == 6) /* Saturday: Friday before, or Monday after the 1st */
        return n > 1 ? n - 1 : n + 2;
    if (wd_of_n == 0) /* Sunday: Monday after, or Friday before the last day */
        return n < last ? n + 1 : n - 2;
    return n;
}

static bool day_matches(const lr_cron *c, int64_t day, int64_t y, unsigned m, unsigned d)
{
    unsigned last = days_in_month(y, m), wd = weekday(day);
    bool dm = (c->dom >> d) & 1u;
    if (c->dom_last && d == last)
        dm = true;
    if (c->dom_weekday != 0 && !dm) {
        for (unsigned n = 1; n <= 31 && !dm; n++) {
            if (!((c->dom_weekday >> n) & 1u) || n > last)
                continue;
            unsigned wn = weekday(day - d + n);
            dm = nearest_weekday(n, last, wn) == d;
        }
        if (!dm && (c->dom_weekday & 1u)) {
            unsigned wl = weekday(day - d + last);
            unsigned lw = wl == 6 ? last - 1 : wl == 0 ? last - 2 : last;
            dm = d == lw;
        }
    }
    bool wm = (c->dow >> wd) & 1u;
    if (!wm && ((c->dow_last >> wd) & 1u) && d + 7 > last)
        wm = true;
    if (!wm && c->dow_nth[wd] != 0 && ((c->dow_nth[wd] >> ((d - 1) / 7 + 1)) & 1u))
        wm = true;
    if (c->aws || c->dom_any || c->dow_any)
        return dm && wm;
    return dm || wm;
}

static bool year_set(const lr_cron *c, int64_t y)
{
    if (y < YEAR_MIN || y > YEAR_MAX)
        return false;
    int64_t i = y - YEAR_MIN;
    return (c->years[i / 64] >> (i % 64)) & 1u;
}

lr_status lr_cron_next(const lr_cron *c, int64_t after_us, int64_t *next_us, lr_error *err)
{
    int64_t t = (floor_div(after_us, US_PER_MIN) + 1) * US_PER_MIN;
    int64_t day = floor_div(t, US_PER_DAY);
    int start_min = (int)((t - day * US_PER_DAY) / US_PER_MIN);

    for (;;) {
        int64_t y;
        unsigned m, d;
        lr_civil_from_days(day, &y, &m, &d);
        if (y > YEAR_MAX)
            break;
        if (!year_set(c, y)) {
            day = lr_days_from_civil(y + 1, 1, 1);
            start_min = 0;
            continue;
        }
        if (!((c->months >> m) & 1u)) {
            day = m == 12 ? lr_days_from_civil(y + 1, 1, 1) : lr_days_from_civil(y, m + 1, 1);
            start_min = 0;
            continue;
        }
        if (day_matches(c, day, y, m, d)) {
            for (int h = start_min / 60; h < 24; h++) {
                if (!((c->hours >> h) & 1u))
                    continue;
                int m0 = h == start_min / 60 ? start_min % 60 : 0;
                for (int mi = m0; mi < 60; mi++) {
                    if ((c->minutes >> mi) & 1u) {
                        *next_us = day * US_PER_DAY + ((int64_t)h * 60 + mi) * US_PER_MIN;
                        return LR_OK;
                    }
                }
            }
        }
        day++;
        start_min = 0;
    }
    return lr_error_set(err, LR_ENOTFOUND, "the cron expression never fires again (until %d)",
                        YEAR_MAX);
}
