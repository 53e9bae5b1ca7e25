/*
 * test_value.c - feature values (Integral, Fractional, String/UTF-8), event
 * times (ISO-8601 and epoch seconds), time formatting, civil dates, settings
 * and ARNs (value.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "larder/value.h"

/* ---- Integral ---------------------------------------------------------- */

static void int_ok(const char *s, int64_t want)
{
    int64_t v = 12345;
    lr_error err;
    lr_error_clear(&err);
    assert_int_equal(lr_value_parse_integral(s, strlen(s), &v, &err), LR_OK);
    assert_true(v == want);
    assert_int_equal(err.code, LR_OK); /* untouched on success */
}

static void int_bad(const char *s, const char *msg_part)
{
    int64_t v = 777;
    lr_error err;
    lr_error_clear(&err);
    assert_int_equal(lr_value_parse_integral(s, strlen(s), &v, &err), LR_EINVAL);
    assert_int_equal(err.code, LR_EINVAL);
    assert_non_null(strstr(err.msg, msg_part));
    assert_true(v == 777); /* out-parameter untouched on failure */
}

static void test_integral(void **state)
{
    (void)state;
    int_ok("0", 0);
    int_ok("-0", 0);
    int_ok("+0", 0);
    int_ok("42", 42);
    int_ok("+42", 42);
    int_ok("-42", -42);
    int_ok("007", 7);
    int_ok("9223372036854775807", INT64_MAX);
    int_ok("-9223372036854775808", INT64_MIN);
    int_ok("+9223372036854775807", INT64_MAX);
    int_ok("00000000000000000000000009223372036854775807", INT64_MAX);
    int_ok("9223372036854775806", INT64_MAX - 1);
    int_ok("-9223372036854775807", INT64_MIN + 1);

    int_bad("9223372036854775808", "out of the signed 64-bit range");
    int_bad("-9223372036854775809", "out of the signed 64-bit range");
    int_bad("99999999999999999999", "out of the signed 64-bit range");
    int_bad("18446744073709551616", "out of the signed 64-bit range");
    int_bad("", "empty");
    int_bad("-", "Integral");
    int_bad("+", "Integral");
    int_bad("+-1", "Integral");
    int_bad("--1", "Integral");
    int_bad(" 1", "Integral");
    int_bad("1 ", "Integral");
    int_bad("1.0", "Integral");
    int_bad("1.", "Integral");
    int_bad("1e3", "Integral");
    int_bad("0x10", "Integral");
    int_bad("1_000", "Integral");
    int_bad("١", "Integral"); /* ARABIC-INDIC DIGIT ONE */
    int_bad("NaN", "Integral");

    /* Length-bounded: bytes past n are not read. */
    {
        int64_t v = 0;
        assert_int_equal(lr_value_parse_integral("123abc", 3, &v, NULL), LR_OK);
        assert_true(v == 123);
    }
    /* A long offending value is quoted with a bound. */
    {
        char big[400];
        lr_error err;
        int64_t v;
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(lr_value_parse_integral(big, strlen(big), &v, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "..."));
        assert_true(strlen(err.msg) < 200);
    }
}

/* ---- Fractional -------------------------------------------------------- */

static double frac_ok(const char *s)
{
    double d = 0;
    lr_error err;
    lr_error_clear(&err);
    assert_int_equal(lr_value_parse_fractional(s, strlen(s), &d, &err), LR_OK);
    return d;
}

static void frac_bad(const char *s, const char *msg_part)
{
    double d = 5.0;
    lr_error err;
    lr_error_clear(&err);
    assert_int_equal(lr_value_parse_fractional(s, strlen(s), &d, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, msg_part));
    assert_true(d == 5.0);
}

static void test_fractional(void **state)
{
    double d;
    (void)state;
    assert_true(frac_ok("0") == 0.0);
    d = frac_ok("-0");
    assert_true(d == 0.0 && signbit(d));
    d = frac_ok("-0.0");
    assert_true(d == 0.0 && signbit(d));
    assert_true(frac_ok("1.5") == 1.5);
    assert_true(frac_ok("+1.5") == 1.5);
    assert_true(frac_ok("-1.5") == -1.5);
    assert_true(frac_ok(".5") == 0.5);
    assert_true(frac_ok("5.") == 5.0);
    assert_true(frac_ok("1e10") == 1e10);
    assert_true(frac_ok("1E-3") == 1e-3);
    assert_true(frac_ok("+1.5e+3") == 1500.0);
    assert_true(frac_ok("12345678901234567890") == 12345678901234567890.0);
    assert_true(frac_ok("0.1") == 0.1);
    assert_true(frac_ok("1.7976931348623157e308") == 1.7976931348623157e308);
    assert_true(frac_ok("4.9e-324") > 0);  /* smallest subnormal */
    assert_true(frac_ok("1e-400") == 0.0); /* underflow rounds to zero */
    assert_true(frac_ok("1e-99999999999999999999") == 0.0);
    assert_true(frac_ok("0e99999999999999999999") == 0.0);
    assert_true(isnan(frac_ok("NaN")));
    assert_true(isnan(frac_ok("+NaN")));
    assert_true(isnan(frac_ok("-NaN")));
    d = frac_ok("Infinity");
    assert_true(isinf(d) && d > 0);
    d = frac_ok("+Infinity");
    assert_true(isinf(d) && d > 0);
    d = frac_ok("-Infinity");
    assert_true(isinf(d) && d < 0);

    /* A literal longer than the stack buffer takes the heap path. */
    {
        char big[1001];
        big[0] = '0';
        big[1] = '.';
        memset(big + 2, '3', sizeof big - 3);
        big[sizeof big - 1] = '\0';
        d = frac_ok(big);
        assert_true(d == 1.0 / 3.0);
    }

    frac_bad("1e309", "out of the range");
    frac_bad("-1e309", "out of the range");
    frac_bad("1.7976931348623159e308", "out of the range");
    frac_bad("", "empty");
    frac_bad("nan", "Fractional");
    frac_bad("NAN", "Fractional");
    frac_bad("inf", "Fractional");
    frac_bad("Inf", "Fractional");
    frac_bad("infinity", "Fractional");
    frac_bad("INFINITY", "Fractional");
    frac_bad("NaN ", "Fractional");
    frac_bad("--1", "Fractional");
    frac_bad("+-1", "Fractional");
    frac_bad("1e", "Fractional");
    frac_bad("1e+", "Fractional");
    frac_bad("e5", "Fractional");
    frac_bad(".", "Fractional");
    frac_bad("-.", "Fractional");
    frac_bad(".e1", "Fractional");
    frac_bad(" 1", "Fractional");
    frac_bad("1 ", "Fractional");
    frac_bad("\t1", "Fractional");
    frac_bad("0x1p3", "Fractional");
    frac_bad("0x10", "Fractional");
    frac_bad("1.5f", "Fractional");
    frac_bad("1.5d", "Fractional");
    frac_bad("1,5", "Fractional");
    frac_bad("1.2.3", "Fractional");
    frac_bad("1e5.5", "Fractional");
    {
        double v = 0;
        assert_int_equal(lr_value_parse_fractional("2.5xyz", 3, &v, NULL), LR_OK);
        assert_true(v == 2.5);
    }
}

/* ---- String / UTF-8 ---------------------------------------------------- */

static void utf8_ok(const char *s, size_t n)
{
    assert_true(lr_utf8_valid(s, n));
    assert_int_equal(lr_value_check_string(s, n, NULL), LR_OK);
}

static void utf8_bad(const char *s, size_t n, size_t at)
{
    lr_error err;
    char want[64];
    assert_false(lr_utf8_valid(s, n));
    assert_int_equal(lr_value_check_string(s, n, &err), LR_EINVAL);
    snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", at);
    assert_non_null(strstr(err.msg, want));
}

static void test_utf8(void **state)
{
    (void)state;
    utf8_ok("", 0);
    utf8_ok("abc", 3);
    utf8_ok("a\0b", 3); /* NUL is valid UTF-8 */
    utf8_ok("\x7f", 1);
    utf8_ok("\xc2\x80", 2);         /* U+0080 */
    utf8_ok("\xc3\xa9", 2);         /* é */
    utf8_ok("\xdf\xbf", 2);         /* U+07FF */
    utf8_ok("\xe0\xa0\x80", 3);     /* U+0800 */
    utf8_ok("\xe2\x82\xac", 3);     /* € */
    utf8_ok("\xed\x9f\xbf", 3);     /* U+D7FF */
    utf8_ok("\xee\x80\x80", 3);     /* U+E000 */
    utf8_ok("\xef\xbf\xbf", 3);     /* U+FFFF */
    utf8_ok("\xf0\x90\x80\x80", 4); /* U+10000 */
    utf8_ok("\xf0\x9d\x84\x9e", 4); /* U+1D11E */
    utf8_ok("\xf4\x8f\xbf\xbf", 4); /* U+10FFFF */
    utf8_ok("0123456789abcdef\xc3\xa9xyz0123456789", 31);

    utf8_bad("\xc0\x80", 2, 0);         /* overlong NUL */
    utf8_bad("\xc1\xbf", 2, 0);         /* overlong */
    utf8_bad("\xe0\x80\x80", 3, 0);     /* overlong */
    utf8_bad("\xe0\x9f\xbf", 3, 0);     /* overlong U+07FF */
    utf8_bad("\xed\xa0\x80", 3, 0);     /* U+D800 surrogate */
    utf8_bad("\xed\xbf\xbf", 3, 0);     /* U+DFFF surrogate */
    utf8_bad("\xf0\x80\x80\x80", 4, 0); /* overlong */
    utf8_bad("\xf0\x8f\xbf\xbf", 4, 0); /* overlong U+FFFF */
    utf8_bad("\xf4\x90\x80\x80", 4, 0); /* U+110000 */
    utf8_bad("\xf5\x80\x80\x80", 4, 0);
    utf8_bad("\xff", 1, 0);
    utf8_bad("\xfe", 1, 0);
    utf8_bad("\x80", 1, 0); /* lone continuation */
    utf8_bad("ab\xbf", 3, 2);
    utf8_bad("\xe2\x82", 2, 0);     /* truncated */
    utf8_bad("\xe2\x28\xa1", 3, 0); /* bad continuation */
    utf8_bad("\xc3", 1, 0);
    utf8_bad("0123456789abcdef\xc3", 17, 16); /* after the 8-byte ASCII path */
    utf8_bad("01234567\xf0\x9d\x84", 11, 8);
    utf8_bad("\xc3\xa9\xc3", 3, 2);
    /* The length bounds the check: a truncated sequence past n is not seen. */
    assert_true(lr_utf8_valid("ab\xc3", 2));
}

/* ---- ISO-8601 ---------------------------------------------------------- */

static int64_t iso_ok(const char *s)
{
    int64_t us = 99;
    lr_error err;
    assert_int_equal(lr_time_parse_iso8601(s, strlen(s), &us, &err), LR_OK);
    /* The String event-time path is the same parser. */
    {
        int64_t us2 = 0;
        assert_int_equal(lr_event_time_parse(s, strlen(s), LR_FT_STRING, &us2, NULL), LR_OK);
        assert_true(us2 == us);
    }
    return us;
}

static void iso_bad(const char *s, const char *msg_part)
{
    int64_t us = 99;
    lr_error err;
    assert_int_equal(lr_time_parse_iso8601(s, strlen(s), &us, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "is not a valid event time"));
    assert_non_null(strstr(err.msg, msg_part));
    assert_true(us == 99);
}

static void test_iso8601(void **state)
{
    (void)state;
    assert_true(iso_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(iso_ok("2023-11-14T22:13:20Z") == 1700000000000000LL);
    assert_true(iso_ok("2023-11-14T22:13:20.123Z") == 1700000000123000LL);
    assert_true(iso_ok("1969-12-31T23:59:59.5Z") == -500000LL);
    assert_true(iso_ok("0001-01-01T00:00:00Z") == LR_TIME_MIN_US);
    assert_true(iso_ok("9999-12-31T23:59:59.999999Z") == LR_TIME_MAX_US);
    assert_true(iso_ok("9999-12-31T23:59:59.999999999Z") == LR_TIME_MAX_US);
    assert_true(iso_ok("2024-02-29T12:00:00Z") == 1709208000000000LL);
    assert_true(iso_ok("2000-02-29T00:00:00Z") == 951782400000000LL);
    assert_true(iso_ok("2024-12-31T23:59:59Z") == 1735689599000000LL);

    /* Fraction digits 1..9: kept to the microsecond, the rest truncated. */
    {
        static const char *fr[] = {".1",      ".12",      ".123",      ".1234",     ".12345",
                                   ".123456", ".1234567", ".12345678", ".123456789"};
        static const int64_t want[] = {100000, 120000, 123000, 123400, 123450,
                                       123456, 123456, 123456, 123456};
        for (int i = 0; i < 9; i++) {
            char s[40];
            snprintf(s, sizeof s, "1970-01-01T00:00:00%sZ", fr[i]);
            assert_true(iso_ok(s) == want[i]);
        }
        assert_true(iso_ok("1970-01-01T00:00:00.999999999Z") == 999999);
        assert_true(iso_ok("1970-01-01T00:00:00.000000Z") == 0);
    }

    iso_bad("2023-02-29T00:00:00Z", "the day does not exist in that month");
    iso_bad("1900-02-29T00:00:00Z", "the day does not exist");
    iso_bad("2024-04-31T00:00:00Z", "the day does not exist");
    iso_bad("2024-01-32T00:00:00Z", "the day does not exist");
    iso_bad("2024-01-00T00:00:00Z", "the day does not exist");
    iso_bad("2024-13-01T00:00:00Z", "the month must be between 01 and 12");
    iso_bad("2024-00-01T00:00:00Z", "the month");
    iso_bad("0000-12-31T23:59:59Z", "the year must be between 0001 and 9999");
    iso_bad("2024-01-01T24:00:00Z", "the hour");
    iso_bad("2024-01-01T23:60:00Z", "the minute");
    iso_bad("2024-01-01T23:59:60Z", "the second"); /* no leap seconds */
    iso_bad("2024-01-01T00:00:00.1234567890Z", "1 to 9 digits");
    iso_bad("2024-01-01T00:00:00.Z", "expected");
    iso_bad("2024-01-01T00:00:00", "expected");
    iso_bad("2024-01-01T00:00:00z", "expected");
    iso_bad("2024-01-01t00:00:00Z", "expected");
    iso_bad("2024-01-01 00:00:00Z", "expected");
    iso_bad("2024-01-01T00:00:00+00:00", "expected");
    iso_bad("2024-01-01T00:00:00.000+00:00", "expected");
    iso_bad("2024-01-01T00:00Z", "expected");
    iso_bad("2024-1-01T00:00:00Z", "expected");
    iso_bad("24-01-01T00:00:00Z", "expected");
    iso_bad("+2024-01-01T00:00:00Z", "expected");
    iso_bad("2024-01-01T00:00:00ZZ", "expected");
    iso_bad("2024-01-01T00:00:00.12a4Z", "expected");
    iso_bad("2024-01-01T0a:00:00Z", "expected");
    iso_bad("", "expected");
    iso_bad("2024-01-01", "expected");
    iso_bad("1700000000", "expected");
}

/* ---- epoch seconds ------------------------------------------------------ */

static int64_t epoch_ok(const char *s)
{
    int64_t us = 99;
    assert_int_equal(lr_event_time_parse(s, strlen(s), LR_FT_FRACTIONAL, &us, NULL), LR_OK);
    return us;
}

static void epoch_bad(const char *s, const char *msg_part)
{
    int64_t us = 99;
    lr_error err;
    assert_int_equal(lr_event_time_parse(s, strlen(s), LR_FT_FRACTIONAL, &us, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, msg_part));
    assert_true(us == 99);
}

static void test_epoch_seconds(void **state)
{
    (void)state;
    assert_true(epoch_ok("0") == 0);
    assert_true(epoch_ok("-0") == 0);
    assert_true(epoch_ok("0.0") == 0);
    assert_true(epoch_ok("1700000000") == 1700000000000000LL);
    assert_true(epoch_ok("1700000000.123456") == 1700000000123456LL);
    assert_true(epoch_ok("1700000000.1") == 1700000000100000LL);
    /* Rounded to the nearest microsecond, halves away from zero. */
    assert_true(epoch_ok("1700000000.1234564") == 1700000000123456LL);
    assert_true(epoch_ok("1700000000.1234565") == 1700000000123457LL);
    assert_true(epoch_ok("1700000000.12345649999") == 1700000000123456LL);
    assert_true(epoch_ok("-1.5") == -1500000LL);
    assert_true(epoch_ok("-0.0000005") == -1);
    assert_true(epoch_ok("0.0000005") == 1);
    assert_true(epoch_ok("0.0000004") == 0);
    assert_true(epoch_ok("0.00000049999999999999999999") == 0);
    assert_true(epoch_ok("1.7e9") == 1700000000000000LL);
    assert_true(epoch_ok("17e8") == 1700000000000000LL);
    assert_true(epoch_ok("1700000000123456e-6") == 1700000000123456LL);
    assert_true(epoch_ok("+1.5E+3") == 1500000000LL);
    assert_true(epoch_ok(".5") == 500000);
    assert_true(epoch_ok("5.") == 5000000);
    assert_true(epoch_ok("000000000000000000000000001") == 1000000);
    assert_true(epoch_ok("1e-400") == 0);
    assert_true(epoch_ok("0e999999999999") == 0);
    assert_true(epoch_ok("253402300799.999999") == LR_TIME_MAX_US);
    assert_true(epoch_ok("253402300799.9999994") == LR_TIME_MAX_US);
    assert_true(epoch_ok("-62135596800") == LR_TIME_MIN_US);
    assert_true(epoch_ok("-62135596800.0000004") == LR_TIME_MIN_US);
    /* Exact where a double is not: 2^53 + 1 microseconds. */
    assert_true(epoch_ok("9007199254.740993") == 9007199254740993LL);

    epoch_bad("253402300800", "must be between");
    epoch_bad("253402300799.9999995", "must be between");
    epoch_bad("-62135596800.000001", "must be between");
    epoch_bad("-62135596801", "must be between");
    epoch_bad("1e18", "must be between");
    epoch_bad("1e400", "must be between");
    epoch_bad("-1e400", "must be between");
    epoch_bad("99999999999999999999999999999", "must be between");
    epoch_bad("NaN", "finite decimal");
    epoch_bad("Infinity", "finite decimal");
    epoch_bad("-Infinity", "finite decimal");
    epoch_bad("", "finite decimal");
    epoch_bad("abc", "finite decimal");
    epoch_bad("1 ", "finite decimal");
    epoch_bad("0x10", "finite decimal");
    epoch_bad("1e", "finite decimal");
    epoch_bad(".", "finite decimal");
    epoch_bad("2024-01-01T00:00:00Z", "finite decimal");

    {
        int64_t us;
        lr_error err;
        assert_int_equal(lr_event_time_parse("1", 1, LR_FT_INTEGRAL, &us, &err), LR_EINVAL);
        assert_non_null(strstr(err.msg, "String or Fractional"));
    }
}

/* ---- formatting -------------------------------------------------------- */

static void fmt_is(int64_t us, const char *want)
{
    char out[LR_TIME_STR_MAX];
    size_t n = lr_time_format_iso8601(us, out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void millis_is(int64_t us, const char *want)
{
    char out[LR_TIME_STR_MAX];
    size_t n = lr_time_format_millis(us, out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_format(void **state)
{
    (void)state;
    fmt_is(0, "1970-01-01T00:00:00Z");
    fmt_is(1500000, "1970-01-01T00:00:01.500Z");
    fmt_is(1000001, "1970-01-01T00:00:01.000001Z");
    fmt_is(1123456, "1970-01-01T00:00:01.123456Z");
    fmt_is(1120000, "1970-01-01T00:00:01.120Z");
    fmt_is(-1, "1969-12-31T23:59:59.999999Z");
    fmt_is(-1000000, "1969-12-31T23:59:59Z");
    fmt_is(1700000000000000LL, "2023-11-14T22:13:20Z");
    fmt_is(LR_TIME_MIN_US, "0001-01-01T00:00:00Z");
    fmt_is(LR_TIME_MAX_US, "9999-12-31T23:59:59.999999Z");
    fmt_is(1709208000000000LL, "2024-02-29T12:00:00Z");
    /* Outside the event-time range it still formats, with wider years. */
    fmt_is(LR_TIME_MAX_US + 1, "10000-01-01T00:00:00Z");
    fmt_is(LR_TIME_MIN_US - 86400000000LL, "0000-12-31T00:00:00Z");
    {
        char out[LR_TIME_STR_MAX];
        lr_time_format_iso8601(INT64_MIN, out);
        assert_true(strlen(out) < LR_TIME_STR_MAX);
        lr_time_format_iso8601(INT64_MAX, out);
        assert_true(strlen(out) < LR_TIME_STR_MAX);
        assert_non_null(strstr(out, "294247-01-10T04:00:54.775807Z"));
    }

    millis_is(0, "1970-01-01T00:00:00.000Z");
    millis_is(1234567, "1970-01-01T00:00:01.234Z");
    millis_is(-1, "1969-12-31T23:59:59.999Z");
    millis_is(LR_TIME_MAX_US, "9999-12-31T23:59:59.999Z");

    /* Round trip over the whole range (a fixed pseudo-random sequence). */
    {
        uint64_t x = 88172645463325252ULL;
        uint64_t span = (uint64_t)(LR_TIME_MAX_US - LR_TIME_MIN_US) + 1;
        for (int i = 0; i < 20000; i++) {
            char out[LR_TIME_STR_MAX];
            int64_t us, back = 0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            us = LR_TIME_MIN_US + (int64_t)(x % span);
            if (i % 3 == 0)
                us -= us % 1000000; /* whole seconds */
            else if (i % 3 == 1)
                us -= us % 1000; /* whole milliseconds */
            if (us < LR_TIME_MIN_US)
                us += 1000000;
            lr_time_format_iso8601(us, out);
            assert_int_equal(lr_time_parse_iso8601(out, strlen(out), &back, NULL), LR_OK);
            assert_true(back == us);
        }
    }
}

/* ---- civil dates, clock ------------------------------------------------- */

static void test_civil(void **state)
{
    int64_t y;
    unsigned m, d;
    (void)state;
    assert_true(lr_days_from_civil(1970, 1, 1) == 0);
    assert_true(lr_days_from_civil(1969, 12, 31) == -1);
    assert_true(lr_days_from_civil(2000, 3, 1) == 11017);
    assert_true(lr_days_from_civil(1, 1, 1) == -719162);
    assert_true(lr_days_from_civil(9999, 12, 31) == 2932896);
    assert_true(lr_days_from_civil(2024, 2, 29) + 1 == lr_days_from_civil(2024, 3, 1));
    assert_true(lr_days_from_civil(2023, 2, 28) + 1 == lr_days_from_civil(2023, 3, 1));
    /* Year 0 is a leap year (proleptic Gregorian), -1 is not. */
    assert_true(lr_days_from_civil(0, 2, 29) + 1 == lr_days_from_civil(0, 3, 1));
    assert_true(lr_days_from_civil(-1, 12, 31) + 1 == lr_days_from_civil(0, 1, 1));
    assert_true(lr_days_from_civil(-1, 2, 28) + 1 == lr_days_from_civil(-1, 3, 1));
    assert_true(lr_days_from_civil(0, 1, 1) == -719528);

    lr_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    lr_civil_from_days(-719162, &y, &m, &d);
    assert_true(y == 1 && m == 1 && d == 1);
    lr_civil_from_days(-719529, &y, &m, &d);
    assert_true(y == -1 && m == 12 && d == 31);
    /* Inverse over several thousand years, consecutive days. */
    {
        int64_t py = 0;
        unsigned pm = 0, pd = 0;
        for (int64_t day = -1000000; day <= 3000000; day++) {
            lr_civil_from_days(day, &y, &m, &d);
            assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
            if (lr_days_from_civil(y, m, d) != day)
                fail_msg("day %lld", (long long)day);
            if (day > -1000000) {
                bool next_day = y == py && m == pm && d == pd + 1;
                bool next_month = y == py && m == pm + 1 && d == 1;
                bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
                assert_true(next_day || next_month || next_year);
            }
            py = y;
            pm = m;
            pd = d;
        }
    }
}

static void test_now(void **state)
{
    int64_t a, b;
    (void)state;
    a = lr_now_us();
    b = lr_now_us();
    /* 2020-01-01 .. 2200-01-01, and the realtime clock does not run backwards here. */
    assert_true(a > 1577836800000000LL && a < 7258118400000000LL);
    assert_true(b >= a - 1000000);
}

/* ---- settings and ARNs ------------------------------------------------- */

static void region_case(const char *region, lr_status want)
{
    lr_settings s;
    lr_error err;
    setenv("LARDER_REGION", region, 1);
    assert_int_equal(lr_settings_from_env(&s, &err), want);
    if (want == LR_OK && region[0])
        assert_string_equal(s.region, region);
    if (want != LR_OK)
        assert_non_null(strstr(err.msg, "LARDER_REGION"));
    unsetenv("LARDER_REGION");
}

static void account_case(const char *account, lr_status want)
{
    lr_settings s;
    lr_error err;
    setenv("LARDER_ACCOUNT", account, 1);
    assert_int_equal(lr_settings_from_env(&s, &err), want);
    if (want == LR_OK && account[0])
        assert_string_equal(s.account, account);
    if (want != LR_OK)
        assert_non_null(strstr(err.msg, "LARDER_ACCOUNT"));
    unsetenv("LARDER_ACCOUNT");
}

static void test_settings(void **state)
{
    lr_settings s;
    (void)state;
    unsetenv("LARDER_REGION");
    unsetenv("LARDER_ACCOUNT");
    assert_int_equal(lr_settings_from_env(&s, NULL), LR_OK);
    assert_string_equal(s.region, "us-east-1");
    assert_string_equal(s.account, "000000000000");

    region_case("eu-west-2", LR_OK);
    region_case("us-gov-west-1", LR_OK);
    region_case("ap-southeast-2", LR_OK);
    region_case("", LR_OK); /* empty: unset */
    region_case("us-east-10", LR_EINVAL);
    region_case("US-east-1", LR_EINVAL);
    region_case("useast-1", LR_EINVAL);
    region_case("us-1", LR_EINVAL);
    region_case("us--east-1", LR_EINVAL);
    region_case("us-east-", LR_EINVAL);
    region_case("us-east-1 ", LR_EINVAL);
    region_case("us-east1-1", LR_EINVAL);
    region_case("aa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-1", LR_EINVAL); /* too long */

    account_case("123456789012", LR_OK);
    account_case("", LR_OK);
    account_case("12345678901", LR_EINVAL);
    account_case("1234567890123", LR_EINVAL);
    account_case("12345678901a", LR_EINVAL);
}

static void test_arn_format(void **state)
{
    lr_settings s;
    char out[128];
    char tiny[10];
    (void)state;
    memset(&s, 0, sizeof s);
    strcpy(s.region, "eu-west-1");
    strcpy(s.account, "123456789012");
    assert_int_equal(lr_fg_arn_format(&s, "my-fg", out, sizeof out), LR_OK);
    assert_string_equal(out, "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/my-fg");
    assert_int_equal(lr_fg_arn_format(&s, "my-fg", tiny, sizeof tiny), LR_ELIMIT);
    assert_string_equal(tiny, "");
    /* Exactly fitting (length + NUL). */
    {
        size_t need = strlen("arn:aws:sagemaker:eu-west-1:123456789012:feature-group/my-fg") + 1;
        assert_int_equal(lr_fg_arn_format(&s, "my-fg", out, need), LR_OK);
        assert_int_equal(lr_fg_arn_format(&s, "my-fg", out, need - 1), LR_ELIMIT);
    }
    /* The name in the ARN comes back out of lr_fg_name_from_ref. */
    {
        const char *name;
        size_t len;
        assert_int_equal(lr_fg_arn_format(&s, "Orders_2024", out, sizeof out), LR_OK);
        assert_int_equal(lr_fg_name_from_ref(out, strlen(out), &name, &len, NULL), LR_OK);
        assert_int_equal(len, 11);
        assert_memory_equal(name, "Orders_2024", 11);
    }
}

/*
 * The fast path of Fractional parsing must agree bit for bit with strtod on
 * every input, fast-path or not: random decimals of every shape, around the
 * 2^53 and 10^22 boundaries.
 */
static void test_fractional_matches_strtod(void **state)
{
    uint64_t x = 88172645463325252ULL;
    char buf[64];
    (void)state;
    for (int k = 0; k < 300000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int len = 0;
        if (x & 1)
            buf[len++] = '-';
        int ndig = 1 + (int)((x >> 8) % 20);
        int point = (int)((x >> 16) % (unsigned)(ndig + 2)) - 1;
        uint64_t y = x;
        for (int d = 0; d < ndig; d++) {
            if (d == point)
                buf[len++] = '.';
            y = y * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[len++] = (char)('0' + (y >> 60) % 10);
        }
        if ((x >> 24) % 3 == 0)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "e%d",
                            (int)((x >> 32) % 60) - 30);
        buf[len] = '\0';
        double want = strtod(buf, NULL), got;
        assert_int_equal(lr_value_parse_fractional(buf, (size_t)len, &got, NULL), LR_OK);
        if (memcmp(&want, &got, sizeof got) != 0)
            fail_msg("%s: strtod %.17g, parsed %.17g", buf, want, got);
    }
    static const char *edge[] = {"9007199254740992",   "9007199254740993", "9007199254740993e1",
                                 "1e22",               "1e23",             "123456789e-22",
                                 "0.1",                "-0",               "0.000",
                                 "4.9e-324",           "1.7976931348623157e308",
                                 "00000000000000000000001.5", "1234567890123456789",
                                 ".5", "5.", "-.0", "+1.25", "0.0000000000000000000001",
                                 "0.00000000000000000000000000", "-0.0705", "9007199254740992.5"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        double want = strtod(edge[i], NULL), got;
        assert_int_equal(lr_value_parse_fractional(edge[i], strlen(edge[i]), &got, NULL), LR_OK);
        if (memcmp(&want, &got, sizeof got) != 0)
            fail_msg("%s: strtod %.17g, parsed %.17g", edge[i], want, got);
    }
    static const char *bad[] = {".", "-", "+.", "1.2.3", "1a", "-+1", "1.5 ", " 1", "0x10", "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double got;
        if (lr_value_parse_fractional(bad[i], strlen(bad[i]), &got, NULL) != LR_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fractional_matches_strtod),
        cmocka_unit_test(test_integral),      cmocka_unit_test(test_fractional),
        cmocka_unit_test(test_utf8),          cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_epoch_seconds), cmocka_unit_test(test_format),
        cmocka_unit_test(test_civil),         cmocka_unit_test(test_now),
        cmocka_unit_test(test_settings),      cmocka_unit_test(test_arn_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
