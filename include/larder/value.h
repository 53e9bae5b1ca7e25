/*
 * value.h - parsing and validating feature values (ValueAsString /
 * ValueAsStringList) and event times, and the settings Larder runs with
 * (region, account) that ARNs are built from.
 *
 * Rules (docs/values.md has the full table):
 * - Integral: optional sign then decimal digits, signed 64-bit; overflow is
 *   rejected. No whitespace, no decimal point, no exponent.
 * - Fractional: a decimal number as Java's Double.parseDouble takes it
 *   without surrounding whitespace, hex forms or f/d suffixes; "NaN" and
 *   "Infinity" (case-sensitive, optionally signed) are accepted as values of
 *   Fractional features (but never as event times); a finite literal that
 *   overflows a double is rejected. Locale-independent.
 * - String: valid UTF-8 (no overlong forms, no surrogates), may be empty.
 * - Event time: String features take ISO-8601 UTC "yyyy-MM-ddTHH:mm:ssZ" with
 *   an optional fraction of 1..9 digits (kept to the microsecond: further
 *   digits past the sixth are truncated); Fractional features take epoch seconds.
 *   Epoch seconds convert exactly from their digits, rounding to the nearest
 *   microsecond (halves away from zero).
 *   Both map to microseconds since the epoch in the range
 *   0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z.
 */
#ifndef LARDER_VALUE_H
#define LARDER_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/fg.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Microseconds since the epoch of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
#define LR_TIME_MIN_US (-62135596800000000LL)
#define LR_TIME_MAX_US (253402300799999999LL)

/*
 * Each returns LR_OK or LR_EINVAL with a message naming the rule and quoting
 * (at most 64 bytes of) the value; s need not be NUL-terminated. The
 * Fractional parser allocates only for literals over 128 bytes (LR_ENOMEM
 * if that fails). Thread-safe.
 */
lr_status lr_value_parse_integral(const char *s, size_t n, int64_t *out, lr_error *err);
lr_status lr_value_parse_fractional(const char *s, size_t n, double *out, lr_error *err);
lr_status lr_value_check_string(const char *s, size_t n, lr_error *err);

/* True when s[0..n) is valid UTF-8. */
bool lr_utf8_valid(const char *s, size_t n);

/*
 * Parses an event time given as the event-time feature's type
 * (LR_FT_STRING: ISO-8601; LR_FT_FRACTIONAL: epoch seconds) into microseconds.
 */
lr_status lr_event_time_parse(const char *s, size_t n, lr_feature_type type, int64_t *us,
                              lr_error *err);

/* Parses ISO-8601 UTC only (as for String event times). */
lr_status lr_time_parse_iso8601(const char *s, size_t n, int64_t *us, lr_error *err);

/*
 * Formats microseconds as "yyyy-MM-ddTHH:mm:ss[.ffffff]Z" (fraction only when
 * non-zero, trimmed of trailing zeros to 3 or 6 digits). `out` must hold
 * LR_TIME_STR_MAX bytes. Returns the length.
 */
#define LR_TIME_STR_MAX 40
size_t lr_time_format_iso8601(int64_t us, char *out);

/* Formats microseconds as fixed "yyyy-MM-ddTHH:mm:ss.SSSZ" (SageMaker's ExpiresAt). */
size_t lr_time_format_millis(int64_t us, char *out);

/* Current time in microseconds since the epoch (CLOCK_REALTIME). */
int64_t lr_now_us(void);

/* Civil date <-> days since epoch (proleptic Gregorian). */
int64_t lr_days_from_civil(int64_t y, unsigned m, unsigned d);
void lr_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Region and account used in ARNs and in the offline layout. */
typedef struct lr_settings {
    char region[32];  /* default "us-east-1", env LARDER_REGION */
    char account[16]; /* 12 digits, default "000000000000", env LARDER_ACCOUNT */
} lr_settings;

/*
 * Fills defaults then applies LARDER_REGION ([a-z]{2}(-[a-z]+)+-\d) and
 * LARDER_ACCOUNT (12 digits); an empty variable counts as unset.
 * LR_EINVAL naming the variable on a bad value.
 */
lr_status lr_settings_from_env(lr_settings *s, lr_error *err);

/*
 * "arn:aws:sagemaker:<region>:<account>:feature-group/<name>" into a buffer
 * of `cap` bytes. LR_ELIMIT (and an empty string) when it does not fit,
 * LR_EINVAL on NULL arguments.
 */
lr_status lr_fg_arn_format(const lr_settings *s, const char *name, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
