/*
 * test_cron.c - cron expressions for the compaction schedule: both forms
 * (crontab's 5 fields, EventBridge's 6), their day-of-week numbering and
 * day rules, names, ranges, steps, L / W / #, and the next fire time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "larder/compact.h"
#include "larder/value.h"

static int64_t t(const char *iso)
{
    int64_t us = 0;
    assert_int_equal(lr_time_parse_iso8601(iso, strlen(iso), &us, NULL), LR_OK);
    return us;
}

/* The next fire time of expr after `after`, as ISO-8601. */
static void expect_next(const char *expr, const char *after, const char *want)
{
    lr_cron c;
    lr_error err;
    int64_t next = 0;
    char got[LR_TIME_STR_MAX];
    if (lr_cron_parse(expr, &c, &err) != LR_OK)
        fail_msg("'%s': %s", expr, err.msg);
    if (lr_cron_next(&c, t(after), &next, &err) != LR_OK)
        fail_msg("'%s' after %s: %s", expr, after, err.msg);
    lr_time_format_iso8601(next, got);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' after %s: %s, expected %s", expr, after, got, want);
}

static void test_basic(void **state)
{
    (void)state;
    /* The schedule teams use: midnight UTC every day. */
    expect_next("0 0 * * ? *", "2024-06-01T12:34:56Z", "2024-06-02T00:00:00Z");
    /* Strictly after: at the fire time itself, the next one. */
    expect_next("0 0 * * ? *", "2024-06-02T00:00:00Z", "2024-06-03T00:00:00Z");
    expect_next("0 0 * * *", "2024-12-31T23:59:59.5Z", "2025-01-01T00:00:00Z");
    expect_next("*/15 * * * *", "2024-06-01T12:34:56Z", "2024-06-01T12:45:00Z");
    expect_next("0/20 * * * *", "2024-06-01T12:41:00Z", "2024-06-01T13:00:00Z");
    expect_next("5,35 */6 * * *", "2024-06-01T06:36:00Z", "2024-06-01T12:05:00Z");
    expect_next("0 9-17 * * 1-5", "2024-06-01T10:00:00Z", "2024-06-03T09:00:00Z");
    expect_next("0 0 1 JAN-MAR *", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z");
    expect_next("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    expect_next("0 0 1 1 ? 2199", "2024-03-01T00:00:00Z", "2199-01-01T00:00:00Z");
    expect_next("30 4 1 6 ? 2024,2026", "2024-06-01T05:00:00Z", "2026-06-01T04:30:00Z");
}

static void test_day_of_week(void **state)
{
    (void)state;
    /* 2024-06-01 is a Saturday. crontab: 0 and 7 are Sunday, 1 Monday. */
    expect_next("0 12 * * 0", "2024-06-01T00:00:00Z", "2024-06-02T12:00:00Z");
    expect_next("0 12 * * 7", "2024-06-01T00:00:00Z", "2024-06-02T12:00:00Z");
    expect_next("0 12 * * SUN", "2024-06-01T00:00:00Z", "2024-06-02T12:00:00Z");
    expect_next("0 12 * * 1", "2024-06-01T00:00:00Z", "2024-06-03T12:00:00Z");
    /* EventBridge: 1 is Sunday, 2 Monday. */
    expect_next("0 12 ? * 1 *", "2024-06-01T00:00:00Z", "2024-06-02T12:00:00Z");
    expect_next("0 12 ? * 2 *", "2024-06-01T00:00:00Z", "2024-06-03T12:00:00Z");
    expect_next("0 12 ? * MON *", "2024-06-01T00:00:00Z", "2024-06-03T12:00:00Z");
    expect_next("0 12 ? * MON-FRI *", "2024-06-01T00:00:00Z", "2024-06-03T12:00:00Z");
    /* crontab: both day fields restricted fire on either. */
    expect_next("0 0 15 * 1", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z");
    expect_next("0 0 3 * 5", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z");
    /* ... but with a '*'-led field, both must match. */
    expect_next("0 0 */2 * 1", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z");
    expect_next("0 0 */2 * 2", "2024-06-01T00:00:00Z", "2024-06-11T00:00:00Z");
}

static void test_special_days(void **state)
{
    (void)state;
    expect_next("0 0 L * ? *", "2024-02-10T00:00:00Z", "2024-02-29T00:00:00Z");
    expect_next("0 0 L * ? *", "2023-02-10T00:00:00Z", "2023-02-28T00:00:00Z");
    /* 2024-06-15 is a Saturday: the nearest weekday is Friday the 14th. */
    expect_next("0 0 15W * ? *", "2024-06-01T00:00:00Z", "2024-06-14T00:00:00Z");
    /* 2024-06-01 is a Saturday: 1W is Monday the 3rd (never the month before). */
    expect_next("0 0 1W * ? *", "2024-05-31T12:00:00Z", "2024-06-03T00:00:00Z");
    /* The last weekday of June 2024 (the 30th is a Sunday): Friday the 28th. */
    expect_next("0 0 LW * ? *", "2024-06-01T00:00:00Z", "2024-06-28T00:00:00Z");
    /* EventBridge 6L: the last Friday. */
    expect_next("0 0 ? * 6L *", "2024-06-01T00:00:00Z", "2024-06-28T00:00:00Z");
    /* The first Monday of a month. */
    expect_next("0 0 ? * 2#1 *", "2024-06-05T00:00:00Z", "2024-07-01T00:00:00Z");
    expect_next("0 0 * * 1#3", "2024-06-01T00:00:00Z", "2024-06-17T00:00:00Z");
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",               /* no fields */
        "* * * *",        /* four */
        "* * * * * * *",  /* seven */
        "61 * * * *",     /* minute out of range */
        "0 24 * * *",     /* hour out of range */
        "0 0 0 * *",      /* day 0 */
        "0 0 * 13 *",     /* month 13 */
        "0 0 * * 8",      /* weekday 8 */
        "0 0 * * ? 2200", /* year out of range (6 fields) */
        "0 0 1 * 1 *",    /* 6 fields: both day fields given */
        "0 0 ? * ? *",    /* 6 fields: both '?' */
        "0 0 * * 0 *",    /* AWS weekdays are 1..7 */
        "? 0 * * *",      /* '?' outside the day fields */
        "*/0 * * * *",    /* step 0 */
        "5-1 * * * *",    /* reversed range */
        "0 0 L-3 * ? *",  /* offsets from L are not supported */
        "0 0 32W * ? *",  /* W of day 32 */
        "0 0 ? * 2#6 *",  /* a sixth Monday */
        "0 0 * * FOO",    /* unknown name */
        "1,,2 * * * *",   /* empty list item */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lr_cron c;
        lr_error err;
        if (lr_cron_parse(bad[i], &c, &err) != LR_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(strlen(err.msg) > 0);
    }
    /* Never fires: 30 February. */
    lr_cron c;
    lr_error err;
    int64_t next;
    assert_int_equal(lr_cron_parse("0 0 30 2 *", &c, &err), LR_OK);
    assert_int_equal(lr_cron_next(&c, t("2024-01-01T00:00:00Z"), &next, &err), LR_ENOTFOUND);
    /* After the last year: nothing. */
    assert_int_equal(lr_cron_parse("0 0 1 1 ? 2100", &c, &err), LR_OK);
    assert_int_equal(lr_cron_next(&c, t("2100-01-01T00:00:00Z"), &next, &err), LR_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_day_of_week),
        cmocka_unit_test(test_special_days),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
