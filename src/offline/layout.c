/*
 * layout.c - SageMaker's offline-store layout: hour partitions named
 * year=YYYY/month=MM/day=DD/hour=HH by the record's event time (UTC), file
 * names "<YYYYMMDDTHHMMSSZ>_<16 random alphanumerics>.parquet", and the
 * Parquet columns of a feature group (see offline.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "larder/offline.h"

#define US_PER_HOUR 3600000000LL
#define US_PER_DAY 86400000000LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

typedef struct civil {
    int64_t year;
    unsigned month, day, hour, minute, second;
} civil;

static void to_civil(int64_t us, civil *c)
{
    int64_t days = floor_div(us, US_PER_DAY);
    int64_t rem = us - days * US_PER_DAY; /* 0 .. one day */
    int64_t secs = rem / 1000000;
    lr_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (unsigned)(secs / 3600);
    c->minute = (unsigned)(secs / 60 % 60);
    c->second = (unsigned)(secs % 60);
}

static lr_status check_range(int64_t us, lr_error *err)
{
    if (us < LR_TIME_MIN_US || us > LR_TIME_MAX_US)
        return lr_error_set(err, LR_EINVAL,
                            "event time %lld is outside 0001-01-01T00:00:00Z .. "
                            "9999-12-31T23:59:59.999999Z",
                            (long long)us);
    return LR_OK;
}

lr_status lr_offline_partition_of(int64_t event_us, char *out, int64_t *start_us, lr_error *err)
{
    civil c;
    lr_status st = check_range(event_us, err);
    if (st != LR_OK)
        return st;
    to_civil(event_us, &c);
    snprintf(out, LR_OFFLINE_PARTITION_MAX, "year=%04lld/month=%02u/day=%02u/hour=%02u",
             (long long)c.year, c.month, c.day, c.hour);
    if (start_us)
        *start_us = floor_div(event_us, US_PER_HOUR) * US_PER_HOUR;
    return LR_OK;
}

/* Parses "<name>=<1..max digits>" at *p (within end), advancing past it. */
static bool take_field(const char **p, const char *end, const char *name, int max_digits,
                       unsigned long *v)
{
    size_t nl = strlen(name);
    const char *q = *p;
    int digits = 0;
    unsigned long x = 0;

    if ((size_t)(end - q) < nl + 1 || memcmp(q, name, nl) != 0 || q[nl] != '=')
        return false;
    q += nl + 1;
    while (q < end && *q >= '0' && *q <= '9' && digits < max_digits) {
        x = x * 10 + (unsigned long)(*q - '0');
        q++;
        digits++;
    }
    if (digits == 0 || (q < end && *q >= '0' && *q <= '9'))
        return false;
    *v = x;
    *p = q;
    return true;
}

lr_status lr_offline_partition_parse(const char *s, size_t len, int64_t *start_us, lr_error *err)
{
    const char *p = s, *end = s + len;
    unsigned long y, mo, d, h;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (!take_field(&p, end, "year", 4, &y) || p >= end || *p++ != '/' ||
        !take_field(&p, end, "month", 2, &mo) || p >= end || *p++ != '/' ||
        !take_field(&p, end, "day", 2, &d) || p >= end || *p++ != '/' ||
        !take_field(&p, end, "hour", 2, &h) || p != end)
        goto bad;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23)
        goto bad;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        goto bad;
    *start_us = lr_days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d) * US_PER_DAY +
                (int64_t)h * US_PER_HOUR;
    return LR_OK;
bad:
    return lr_error_set(err, LR_EINVAL,
                        "'%.*s' is not a partition year=YYYY/month=MM/day=DD/hour=HH",
                        (int)(len > 80 ? 80 : len), s);
}

static void random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char r[32];
        ssize_t k = getrandom(r, sizeof r, 0);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            /* No entropy source: rand() keeps names unique enough with the timestamp. */
            for (size_t j = 0; j < sizeof r; j++)
                r[j] = (unsigned char)rand();
            k = sizeof r;
        }
        for (ssize_t j = 0; j < k && i < n; j++) {
            /* Rejection sampling keeps the 62 symbols equally likely. */
            if (r[j] < 248)
                out[i++] = set[r[j] % 62];
        }
    }
    out[n] = '\0';
}

lr_status lr_offline_file_key(int64_t latest_event_us, char *out, lr_error *err)
{
    char part[LR_OFFLINE_PARTITION_MAX], rnd[17];
    civil c;
    lr_status st = lr_offline_partition_of(latest_event_us, part, NULL, err);
    if (st != LR_OK)
        return st;
    to_civil(latest_event_us, &c);
    random_alnum(rnd, 16);
    snprintf(out, LR_OFFLINE_KEY_MAX, "%s/%04lld%02u%02uT%02u%02u%02uZ_%s.parquet", part,
             (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, rnd);
    return LR_OK;
}

static void feature_column(const lr_feature_def *f, lr_pq_column_def *c)
{
    memset(c, 0, sizeof *c);
    c->name = f->name;
    c->optional = true;
    switch (f->type) {
    case LR_FT_INTEGRAL:
        c->type = LR_PQ_INT64;
        break;
    case LR_FT_FRACTIONAL:
        c->type = LR_PQ_DOUBLE;
        break;
    case LR_FT_STRING:
    default:
        c->type = LR_PQ_BYTE_ARRAY;
        c->logical = LR_PQ_LOGICAL_STRING;
        break;
    }
    if (f->collection != LR_COLL_NONE) {
        c->list = true;
        c->element_optional = false;
        if (f->collection == LR_COLL_VECTOR) {
            c->type = LR_PQ_DOUBLE;
            c->logical = LR_PQ_LOGICAL_NONE;
        }
    }
}

lr_status lr_offline_parquet_columns(const lr_fg_def *def, lr_pq_column_def **out, uint32_t *n,
                                     lr_error *err)
{
    uint32_t k = def->n_features;
    lr_pq_column_def *c = calloc((size_t)k + 3, sizeof *c);

    *out = NULL;
    *n = 0;
    if (c == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < k; i++)
        feature_column(&def->features[i], &c[i]);
    c[k].name = LR_OFFLINE_COL_WRITE_TIME;
    c[k + 1].name = LR_OFFLINE_COL_API_TIME;
    for (uint32_t i = k; i < k + 2; i++) {
        c[i].type = LR_PQ_INT64;
        c[i].logical = LR_PQ_LOGICAL_TIMESTAMP;
        c[i].unit = LR_PQ_MICROS;
        c[i].utc = true;
        c[i].optional = true;
    }
    c[k + 2].name = LR_OFFLINE_COL_IS_DELETED;
    c[k + 2].type = LR_PQ_BOOLEAN;
    c[k + 2].optional = true;
    *out = c;
    *n = k + 3;
    return LR_OK;
}

const char *lr_offline_sync_name(lr_offline_sync s)
{
    switch (s) {
    case LR_OFFLINE_SYNC_ALWAYS:
        return "always";
    case LR_OFFLINE_SYNC_NO:
        return "no";
    case LR_OFFLINE_SYNC_EVERYSEC:
    default:
        return "everysec";
    }
}

lr_status lr_offline_sync_parse(const char *s, lr_offline_sync *out, lr_error *err)
{
    if (s != NULL && strcmp(s, "everysec") == 0)
        *out = LR_OFFLINE_SYNC_EVERYSEC;
    else if (s != NULL && strcmp(s, "always") == 0)
        *out = LR_OFFLINE_SYNC_ALWAYS;
    else if (s != NULL && strcmp(s, "no") == 0)
        *out = LR_OFFLINE_SYNC_NO;
    else
        return lr_error_set(err, LR_EINVAL, "sync policy '%s': expected always, everysec or no",
                            s ? s : "");
    return LR_OK;
}
