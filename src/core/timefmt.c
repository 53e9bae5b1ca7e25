/*
 * timefmt.c - event times (ISO-8601 UTC and fractional epoch seconds) to and
 * from microseconds since the epoch, civil-date arithmetic, the clock, and
 * the region/account settings that ARNs are built from.
 *
 * Event-time parsing runs for every record written, so it is hand-written
 * over fixed positions (no sscanf, no strtod, no allocation). Fractional
 * epoch seconds are converted from their decimal digits exactly, not through
 * a double, so "1700000000.123456" is exactly 1700000000123456 us.
 */
#include "larder/value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC  1000000LL
#define SEC_PER_DAY 86400LL
#define QUOTE_MAX   64

/* Printable, bounded copy of s[0..n) for messages (see value.c). */
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

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31; y may be zero or negative). Eras of 400 years keep the arithmetic
 * in non-negative integers within an era.
 */
int64_t lr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                                     /* [0, 399] */
    doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                             /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void lr_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = mm;
    *y = yoe + era * 400 + (mm <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads `k` decimal digits at p into *v; false if any is not a digit. */
static bool digits(const char *p, int k, unsigned *v)
{
    unsigned acc = 0;
    for (int i = 0; i < k; i++) {
        unsigned dgt = (unsigned)(unsigned char)p[i] - '0';
        if (dgt > 9)
            return false;
        acc = acc * 10 + dgt;
    }
    *v = acc;
    return true;
}

lr_status lr_time_parse_iso8601(const char *s, size_t n, int64_t *us, lr_error *err)
{
    char q[QUOTE_MAX + 4];
    unsigned year, mon, day, hh, mm, ss, frac = 0;
    const char *why = "expected yyyy-MM-ddTHH:mm:ssZ with an optional fraction of 1 to 9 "
                      "digits (ISO-8601, UTC)";
    size_t i;

    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        goto bad;
    if (!digits(s, 4, &year) || !digits(s + 5, 2, &mon) || !digits(s + 8, 2, &day) ||
        !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss))
        goto bad;
    if (n == 20) {
        if (s[19] != 'Z')
            goto bad;
    } else {
        /* ".f{1,9}Z": keep six digits, truncate the rest. */
        size_t nd = n - 21;
        if (s[19] != '.' || s[n - 1] != 'Z' || nd < 1 || nd > 9)
            goto bad;
        for (i = 0; i < nd; i++) {
            unsigned dgt = (unsigned)(unsigned char)s[20 + i] - '0';
            if (dgt > 9)
                goto bad;
            if (i < 6)
                frac = frac * 10 + dgt;
        }
        for (; i < 6; i++)
            frac *= 10;
    }
    why = NULL;
    if (year < 1)
        why = "the year must be between 0001 and 9999";
    else if (mon < 1 || mon > 12)
        why = "the month must be between 01 and 12";
    else if (day < 1 || day > days_in_month(year, mon))
        why = "the day does not exist in that month";
    else if (hh > 23)
        why = "the hour must be between 00 and 23";
    else if (mm > 59)
        why = "the minute must be between 00 and 59";
    else if (ss > 59)
        why = "the second must be between 00 and 59";
    if (why)
        goto bad;
    *us = ((lr_days_from_civil(year, mon, day) * SEC_PER_DAY + (int64_t)hh * 3600 +
            (int64_t)mm * 60 + ss) *
           US_PER_SEC) +
          frac;
    return LR_OK;

bad:
    quote(s, n, q);
    return lr_error_set(err, LR_EINVAL, "'%s' is not a valid event time: %s", q, why);
}

/*
 * Converts decimal epoch seconds (the Fractional grammar of value.c: sign,
 * digits, optional fraction, optional exponent) to microseconds exactly from
 * the digits, rounding half away from zero at the microsecond. Returns false
 * on a syntax error; *range_ok is false when the value is outside
 * LR_TIME_MIN_US..LR_TIME_MAX_US.
 */
static bool epoch_decimal_to_us(const char *s, size_t n, int64_t *us, bool *range_ok)
{
    /* Up to 20 significant digits are kept; 19 always suffice (see below). */
    unsigned char sig[20];
    int nsig = 0;
    int64_t point = 0; /* digits of sig before the decimal point */
    int64_t exp = 0;
    bool neg = false, any_digit = false, exp_neg = false;
    size_t i = 0;

    *range_ok = true;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        any_digit = true;
        if (nsig == 0 && s[i] == '0')
            continue; /* leading zero */
        if (nsig < (int)sizeof sig)
            sig[nsig++] = (unsigned char)(s[i] - '0');
        /* Past 20 digits the value is out of range anyway; count the position. */
        if (point < INT64_MAX / 2)
            point++;
    }
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            any_digit = true;
            if (nsig == 0 && s[i] == '0') {
                if (point > -INT64_MAX / 2)
                    point--;
                continue;
            }
            if (nsig < (int)sizeof sig)
                sig[nsig++] = (unsigned char)(s[i] - '0');
        }
    }
    if (!any_digit)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool exp_digit = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            exp_neg = s[i] == '-';
            i++;
        }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            exp_digit = true;
            if (exp < 1000000000)
                exp = exp * 10 + (s[i] - '0'); /* saturates far beyond any range */
        }
        if (!exp_digit)
            return false;
    }
    if (i != n)
        return false;
    if (nsig == 0) {
        *us = 0;
        return true;
    }
    /* Number of integer digits of the value in microseconds. */
    int64_t k = point + (exp_neg ? -exp : exp) + 6;
    if (k > 18) {
        /* At least 10^18 us: beyond year 9999 in either direction. */
        *range_ok = false;
        return true;
    }
    uint64_t v = 0;
    for (int64_t j = 0; j < k; j++)
        v = v * 10 + (j < nsig ? sig[j] : 0);
    /* Round half away from zero on the first dropped digit. */
    if (k >= 0 && k < nsig && sig[k] >= 5)
        v++;
    /* k <= 18 digits (plus one from rounding) stays far below INT64_MAX. */
    *us = neg ? -(int64_t)v : (int64_t)v;
    if (*us < LR_TIME_MIN_US || *us > LR_TIME_MAX_US)
        *range_ok = false;
    return true;
}

lr_status lr_event_time_parse(const char *s, size_t n, lr_feature_type type, int64_t *us,
                              lr_error *err)
{
    char q[QUOTE_MAX + 4];
    bool range_ok;
    int64_t v;

    if (type == LR_FT_STRING)
        return lr_time_parse_iso8601(s, n, us, err);
    if (type != LR_FT_FRACTIONAL)
        return lr_error_set(err, LR_EINVAL,
                            "an event time feature must be of type String or Fractional");
    if (!epoch_decimal_to_us(s, n, &v, &range_ok)) {
        quote(s, n, q);
        return lr_error_set(err, LR_EINVAL,
                            "'%s' is not a valid event time: expected epoch seconds as a finite "
                            "decimal number such as 1700000000.123",
                            q);
    }
    if (!range_ok) {
        quote(s, n, q);
        return lr_error_set(err, LR_EINVAL,
                            "'%s' is not a valid event time: epoch seconds must be between "
                            "-62135596800 (0001-01-01T00:00:00Z) and 253402300799.999999 "
                            "(9999-12-31T23:59:59.999999Z)",
                            q);
    }
    *us = v;
    return LR_OK;
}

/* Writes v (0 <= v < 10^k) as exactly k digits. */
static void put_digits(char *p, unsigned long long v, int k)
{
    for (int i = k - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/*
 * Formats the date and time of day of `us` as "yyyy-MM-ddTHH:mm:ss" and
 * returns the length, setting *sub to the microseconds within the second.
 * Years outside 0..9999 are written with as many digits as they need and a
 * leading '-' when negative.
 */
static size_t format_seconds(int64_t us, char *out, int64_t *sub)
{
    int64_t secs = us / US_PER_SEC, rem = us % US_PER_SEC;
    int64_t days, sod, y;
    unsigned m, d;
    size_t len = 0;

    if (rem < 0) {
        rem += US_PER_SEC;
        secs--;
    }
    days = secs / SEC_PER_DAY;
    sod = secs % SEC_PER_DAY;
    if (sod < 0) {
        sod += SEC_PER_DAY;
        days--;
    }
    lr_civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) {
        put_digits(out, (unsigned long long)y, 4);
        len = 4;
    } else {
        int w = snprintf(out, 24, "%lld", (long long)y);
        len = w > 0 ? (size_t)w : 0;
    }
    out[len++] = '-';
    put_digits(out + len, m, 2);
    len += 2;
    out[len++] = '-';
    put_digits(out + len, d, 2);
    len += 2;
    out[len++] = 'T';
    put_digits(out + len, (unsigned long long)(sod / 3600), 2);
    len += 2;
    out[len++] = ':';
    put_digits(out + len, (unsigned long long)(sod / 60 % 60), 2);
    len += 2;
    out[len++] = ':';
    put_digits(out + len, (unsigned long long)(sod % 60), 2);
    len += 2;
    *sub = rem;
    return len;
}

size_t lr_time_format_iso8601(int64_t us, char *out)
{
    int64_t sub;
    size_t len = format_seconds(us, out, &sub);

    if (sub != 0) {
        out[len++] = '.';
        if (sub % 1000 == 0) {
            put_digits(out + len, (unsigned long long)(sub / 1000), 3);
            len += 3;
        } else {
            put_digits(out + len, (unsigned long long)sub, 6);
            len += 6;
        }
    }
    out[len++] = 'Z';
    out[len] = '\0';
    return len;
}

size_t lr_time_format_millis(int64_t us, char *out)
{
    int64_t sub;
    size_t len = format_seconds(us, out, &sub);

    out[len++] = '.';
    put_digits(out + len, (unsigned long long)(sub / 1000), 3);
    len += 3;
    out[len++] = 'Z';
    out[len] = '\0';
    return len;
}

int64_t lr_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

/* [a-z]{2}(-[a-z]+)+-\d : "us-east-1", "us-gov-west-1", "ap-southeast-2". */
static bool region_valid(const char *s)
{
    size_t n = strlen(s), i, groups = 0;

    if (n < 6 || n >= sizeof(((lr_settings *)0)->region))
        return false;
    if (s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z')
        return false;
    if (s[n - 2] != '-' || s[n - 1] < '0' || s[n - 1] > '9')
        return false;
    /* s[2 .. n-2) must be one or more "-[a-z]+" groups. */
    i = 2;
    while (i < n - 2) {
        size_t letters = 0;
        if (s[i] != '-')
            return false;
        i++;
        while (i < n - 2 && s[i] >= 'a' && s[i] <= 'z') {
            i++;
            letters++;
        }
        if (letters == 0)
            return false;
        groups++;
    }
    return groups >= 1;
}

static bool account_valid(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return i == 12;
}

lr_status lr_settings_from_env(lr_settings *s, lr_error *err)
{
    const char *region = getenv("LARDER_REGION");
    const char *account = getenv("LARDER_ACCOUNT");
    char q[QUOTE_MAX + 4];

    memset(s, 0, sizeof *s);
    strcpy(s->region, "us-east-1");
    strcpy(s->account, "000000000000");
    /* An empty variable counts as unset, as in most shells' tools. */
    if (region && region[0]) {
        if (!region_valid(region)) {
            quote(region, strlen(region), q);
            return lr_error_set(err, LR_EINVAL,
                                "LARDER_REGION '%s' is not a region name like us-east-1 "
                                "(pattern [a-z]{2}(-[a-z]+)+-\\d)",
                                q);
        }
        strcpy(s->region, region);
    }
    if (account && account[0]) {
        if (!account_valid(account)) {
            quote(account, strlen(account), q);
            return lr_error_set(err, LR_EINVAL,
                                "LARDER_ACCOUNT '%s' is not an account id of 12 digits", q);
        }
        strcpy(s->account, account);
    }
    return LR_OK;
}

lr_status lr_fg_arn_format(const lr_settings *s, const char *name, char *out, size_t cap)
{
    int n;
    if (s == NULL || name == NULL || out == NULL || cap == 0)
        return LR_EINVAL;
    n = snprintf(out, cap, "arn:aws:sagemaker:%s:%s:feature-group/%s", s->region, s->account, name);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return LR_ELIMIT;
    }
    return LR_OK;
}
