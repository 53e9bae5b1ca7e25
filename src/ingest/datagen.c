/*
 * datagen.c - the smart-meter sample data generator (see datagen.h).
 *
 * Each household gets its own random stream derived from (seed, household),
 * so the output depends only on the options. A household has a base load, a
 * peak amplitude and a daily profile (night trough, morning and evening
 * peaks); each half-hourly reading is shaped by the season (peak in
 * mid-January), weekends, day-to-day variation, noise and occasional spikes,
 * and rounded to the meter's resolution of 1 Wh. Households join over the
 * first ~16 months (as the real trial's did), a few leave early, and days go
 * missing alone or in outages; a household's first and last days are
 * partial (fewer than 48 readings), as in the public dataset.
 *
 * Statistics per day are computed from the readings exactly as pandas would
 * (median of an even count is the mean of the middle two; std is the sample
 * standard deviation, empty for a single reading).
 */
#include "larder/datagen.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "larder/smart_meter_def.h"
#include "larder/value.h"

#define DG_HOUSEHOLDS_MAX 999999u
#define DG_DAYS_MAX 100000u
#define DG_SLOTS 48

typedef struct rng {
    uint64_t s[4];
    double spare;
    bool has_spare;
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = false;
    r->spare = 0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_unit(r) * n);
}

/* Standard normal by Box-Muller; each pair of uniforms gives two values. */
static double rng_normal(rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double u1 = rng_unit(r), u2 = rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double mag = sqrt(-2.0 * log(u1));
    r->spare = mag * sin(2.0 * M_PI * u2);
    r->has_spare = true;
    return mag * cos(2.0 * M_PI * u2);
}

/* Relative demand by half-hour slot: night trough, morning and evening peaks. */
static double profile(int slot)
{
    double h = slot / 2.0;
    double morning = exp(-0.5 * ((h - 7.75) / 1.1) * ((h - 7.75) / 1.1));
    double evening = exp(-0.5 * ((h - 19.0) / 2.0) * ((h - 19.0) / 2.0));
    double night = (h < 5.5) ? -0.35 : 0.0;
    return 0.25 + 0.55 * morning + 1.0 * evening + night;
}

void lr_datagen_opts_init(lr_datagen_opts *o)
{
    o->households = 5566;
    o->days = 829;
    o->seed = 1;
}

/* Appends v (>= 0) with at most `decimals` decimals, trailing zeros trimmed, at least one. */
static char *fmt_fixed(char *p, double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    int64_t n = llround(v * scale[decimals]);
    int64_t ip = n / (int64_t)scale[decimals];
    int64_t fp = n % (int64_t)scale[decimals];
    char digits[24];
    int k = 0;
    do {
        digits[k++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (k)
        *p++ = digits[--k];
    *p++ = '.';
    char frac[8];
    for (int i = decimals - 1; i >= 0; i--) {
        frac[i] = (char)('0' + fp % 10);
        fp /= 10;
    }
    int last = decimals - 1;
    while (last > 0 && frac[last] == '0')
        last--;
    memcpy(p, frac, (size_t)last + 1);
    return p + last + 1;
}

static char *fmt_uint(char *p, uint64_t v)
{
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *p++ = d[--k];
    return p;
}

/* Insertion sort: at most 48 readings a day, where it beats qsort by far. */
static void sort_readings(int *a, int n)
{
    for (int i = 1; i < n; i++) {
        int v = a[i], j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

typedef struct household {
    double base;      /* kWh per half-hour */
    double amplitude; /* kWh per half-hour at a profile of 1 */
    uint32_t first_day;
    uint32_t last_day; /* inclusive */
} household;

static void household_init(rng *r, uint32_t days, household *h)
{
    h->base = 0.045 * exp(0.45 * rng_normal(r));
    h->amplitude = 0.20 * exp(0.55 * rng_normal(r));
    /* A third joined in the first month, the rest over the next ~16 months. */
    uint32_t join_span = days * 58 / 100;
    h->first_day = rng_unit(r) < 0.33 ? rng_below(r, days / 27 + 1) : rng_below(r, join_span + 1);
    if (h->first_day >= days)
        h->first_day = days - 1;
    h->last_day = days - 1;
    if (rng_unit(r) < 0.08 && days - h->first_day > 90) {
        uint32_t span = days - h->first_day - 60;
        h->last_day = h->first_day + 60 + rng_below(r, span);
        if (h->last_day >= days)
            h->last_day = days - 1;
    }
}

lr_status lr_datagen_smart_meter_csv(const lr_datagen_opts *o, FILE *out, lr_datagen_stats *stats,
                                     lr_error *err)
{
    static const char header[] = "household_id,day,energy_median,energy_mean,energy_max,"
                                 "energy_count,energy_std,energy_sum,energy_min,event_time\n";
    const int64_t epoch_day0 = lr_days_from_civil(2011, 11, 23);
    lr_datagen_stats st = {0, 0, 0};
    char line[256];
    double prof[DG_SLOTS];

    for (int i = 0; i < DG_SLOTS; i++)
        prof[i] = profile(i);
    if (o->households == 0 || o->households > DG_HOUSEHOLDS_MAX)
        return lr_error_set(err, LR_EINVAL, "households must be 1..%u", DG_HOUSEHOLDS_MAX);
    if (o->days == 0 || o->days > DG_DAYS_MAX)
        return lr_error_set(err, LR_EINVAL, "days must be 1..%u", DG_DAYS_MAX);
    if (fputs(header, out) == EOF)
        goto io_error;
    st.bytes = sizeof header - 1;

    for (uint32_t hh = 0; hh < o->households; hh++) {
        rng r;
        household h;
        bool outage = false;
        uint32_t outage_left = 0;

        rng_seed(&r, o->seed, hh + 1);
        household_init(&r, o->days, &h);
        for (uint32_t d = h.first_day; d <= h.last_day; d++) {
            int readings[DG_SLOTS];
            int first_slot = 0, count = DG_SLOTS;

            /* Missing days: single days (0.6%) and outages of 2..14 days (0.15%). */
            if (outage) {
                if (--outage_left == 0)
                    outage = false;
                continue;
            }
            if (d != h.first_day && d != h.last_day) {
                double u = rng_unit(&r);
                if (u < 0.0015) {
                    outage = true;
                    outage_left = 1 + rng_below(&r, 13);
                    continue;
                }
                if (u < 0.0075)
                    continue;
            }
            if (d == h.first_day && h.first_day != 0) {
                count = 1 + (int)rng_below(&r, DG_SLOTS - 1);
                first_slot = DG_SLOTS - count;
            } else if (d == h.last_day) {
                count = 1 + (int)rng_below(&r, DG_SLOTS - 1);
            }

            int64_t days = epoch_day0 + d;
            int64_t y;
            unsigned m, dd;
            lr_civil_from_days(days, &y, &m, &dd);
            /* 1970-01-01 was a Thursday: days % 7 == 2 is Saturday, 3 Sunday. */
            int64_t wd = ((days % 7) + 7) % 7;
            double weekend = (wd == 2 || wd == 3) ? 1.08 : 1.0;
            double doy = (double)(days - lr_days_from_civil(y, 1, 1));
            double season = 1.0 + 0.35 * cos(2.0 * M_PI * (doy - 15.0) / 365.25);
            double daily = exp(0.18 * rng_normal(&r));

            int64_t sum = 0;
            int mn = 1 << 30, mx = 0;
            for (int i = 0; i < count; i++) {
                int slot = first_slot + i;
                double kwh = (h.base + h.amplitude * prof[slot]) * season * weekend * daily;
                kwh *= 1.0 + 0.3 * rng_normal(&r);
                if (rng_unit(&r) < 0.04)
                    kwh += 0.2 + 1.3 * rng_unit(&r);
                if (kwh < 0)
                    kwh = 0;
                int wh = (int)lround(kwh * 1000.0);
                readings[i] = wh;
                sum += wh;
                if (wh < mn)
                    mn = wh;
                if (wh > mx)
                    mx = wh;
            }
            double mean = (double)sum / count / 1000.0;
            double var = 0;
            for (int i = 0; i < count; i++) {
                double dv = readings[i] / 1000.0 - mean;
                var += dv * dv;
            }
            sort_readings(readings, count);
            double median = (count % 2) ? readings[count / 2] / 1000.0
                                        : (readings[count / 2 - 1] + readings[count / 2]) / 2000.0;

            char *p = line;
            memcpy(p, "MAC", 3);
            p += 3;
            uint32_t id = hh + 2;
            for (int k = 5; k >= 0; k--) {
                p[k] = (char)('0' + id % 10);
                id /= 10;
            }
            p += 6;
            int n = snprintf(p, 16, ",%04lld-%02u-%02u,", (long long)y, m, dd);
            char *day_str = p + 1;
            p += n;
            p = fmt_fixed(p, median, 4);
            *p++ = ',';
            p = fmt_fixed(p, mean, 6);
            *p++ = ',';
            p = fmt_fixed(p, mx / 1000.0, 3);
            *p++ = ',';
            p = fmt_uint(p, (uint64_t)count);
            *p++ = ',';
            if (count > 1)
                p = fmt_fixed(p, sqrt(var / (count - 1)), 6);
            *p++ = ',';
            p = fmt_fixed(p, (double)sum / 1000.0, 3);
            *p++ = ',';
            p = fmt_fixed(p, mn / 1000.0, 3);
            *p++ = ',';
            memcpy(p, day_str, 10);
            p += 10;
            memcpy(p, "T00:00:00Z\n", 11);
            p += 11;
            size_t len = (size_t)(p - line);
            if (fwrite(line, 1, len, out) != len)
                goto io_error;
            st.rows++;
            st.bytes += len;
            if (count < DG_SLOTS)
                st.partial_days++;
        }
    }
    if (fflush(out) != 0)
        goto io_error;
    if (stats)
        *stats = st;
    return LR_OK;
io_error:
    return lr_error_set(err, LR_EIO, "writing the sample data: %s", strerror(errno));
}

const char *lr_datagen_smart_meter_definition(void)
{
    /* Generated at build time from examples/smart-meter.json (one source). */
    return LR_SMART_METER_DEFINITION;
}
