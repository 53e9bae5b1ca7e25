/*
 * cmd_parquet.c - `larder parquet schema|meta|cat|convert`: inspecting and
 * printing Parquet files, and converting CSV/NDJSON to Parquet
 * (cmd_parquet_convert.c). Everything goes through include/larder/parquet.h.
 *
 * Values print the same way in every format: integers exactly, floating
 * point as the shortest text that reads back as the same value (NaN,
 * Infinity, -Infinity, -0), timestamps as ISO-8601 (with Z when UTC), dates
 * as YYYY-MM-DD, decimals scaled, UUIDs in their 8-4-4-4-12 form, other
 * binary as 0x followed by hex, lists as JSON arrays. CSV follows RFC 4180
 * (a header, CRLF-free lines, quotes doubled) with nulls as empty fields;
 * NDJSON prints one object per row with nulls as null and non-finite
 * numbers as strings.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_parquet.h"
#include "larder/parquet.h"
#include "larder/value.h"

static const char parquet_usage[] =
    "Usage: larder parquet schema FILE [--json]\n"
    "       larder parquet meta FILE [--json]\n"
    "       larder parquet cat FILE [--columns A,B,...] [--limit N] [--format csv|ndjson]\n"
    "       larder parquet convert IN.csv|IN.ndjson OUT.parquet [--schema FG-DEF.json]\n"
    "                              [--codec snappy|zstd|gzip|none] [--zstd-level N]\n"
    "\n"
    "Inspects, prints and converts Parquet files.\n"
    "\n"
    "  schema   the columns: name, physical type, annotation, nullability\n"
    "  meta     footer metadata: row groups, column chunks, encodings, codecs, sizes,\n"
    "           offsets and statistics\n"
    "  cat      the rows as CSV (default) or NDJSON\n"
    "  convert  CSV or NDJSON to Parquet, typed by a feature-group definition or\n"
    "           by types inferred from the input\n"
    "\n"
    "'larder parquet SUBCOMMAND --help' describes each subcommand.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

static const char schema_usage[] =
    "Usage: larder parquet schema FILE [--json]\n"
    "\n"
    "Prints one line per column: its name, physical type, logical annotation and\n"
    "nullability (lists: list<...> with the nullability of the list and of its\n"
    "elements). --json prints the same as a JSON array of column objects.\n";

static const char meta_usage[] =
    "Usage: larder parquet meta FILE [--json]\n"
    "\n"
    "Prints the footer: file size, created_by, rows, key-value metadata, and per\n"
    "row group its rows and sizes and per column chunk its codec, encodings,\n"
    "value count, compressed and uncompressed sizes (page headers included),\n"
    "page offsets and statistics (null count, NaN count, min and max; bounds a\n"
    "writer truncated are marked inexact). --json prints one JSON object.\n";

static const char cat_usage[] =
    "Usage: larder parquet cat FILE [--columns A,B,...] [--limit N] [--format csv|ndjson]\n"
    "\n"
    "Prints the rows of FILE.\n"
    "\n"
    "  --columns LIST  the columns to print, in this order (default: all); only\n"
    "                  these columns are read and decompressed\n"
    "  --limit N       stop after N rows\n"
    "  --format F      csv (default: RFC 4180 with a header) or ndjson (one JSON\n"
    "                  object per row)\n"
    "\n"
    "Values: integers exact; floating point as the shortest text that reads back\n"
    "as the same double (FLOAT widened exactly), with NaN, Infinity, -Infinity;\n"
    "timestamps ISO-8601 (Z when UTC); dates\n"
    "YYYY-MM-DD; binary as 0x<hex>; lists as JSON arrays; nulls empty in CSV and\n"
    "null in NDJSON.\n";

/* ---- value formatting (shared with convert through cmd_parquet.h) ---- */

void pqcli_fmt_double(double d, char *out, size_t cap)
{
    if (isnan(d)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, cap, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/*
 * FLOAT prints as its exact value widened to double (0.1f is
 * 0.10000000149011612), as JSON readers and the other Parquet readers see it.
 */
static void fmt_float(float f, char *out, size_t cap)
{
    pqcli_fmt_double((double)f, out, cap);
}

/* An IEEE 754 half (FLOAT16, little-endian bytes) as a double. */
static double half_to_double(const uint8_t *p)
{
    unsigned h = (unsigned)p[0] | (unsigned)p[1] << 8;
    int e = (int)((h >> 10) & 0x1F);
    unsigned m = h & 0x3FF;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m + 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

/* A timestamp of any int64 value in `unit` as ISO-8601; years past 9999 keep all digits. */
size_t pqcli_fmt_timestamp(int64_t v, lr_pq_time_unit unit, bool utc, char *out, size_t cap)
{
    int64_t per_sec = unit == LR_PQ_MILLIS ? 1000 : unit == LR_PQ_NANOS ? 1000000000 : 1000000;
    int64_t frac, secs = floor_div(v, per_sec, &frac), tod;
    int64_t days = floor_div(secs, 86400, &tod), y;
    unsigned m, d;
    int n, digits = unit == LR_PQ_MILLIS ? 3 : unit == LR_PQ_NANOS ? 9 : 6;

    lr_civil_from_days(days, &y, &m, &d);
    n = snprintf(out, cap, "%s%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", y < 0 ? "-" : "",
                 y < 0 ? -y : y, m, d, (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
    if (frac) {
        /* Trim trailing zeros to 3, 6 or 9 digits. */
        while (digits > 3 && frac % 1000 == 0) {
            frac /= 1000;
            digits -= 3;
        }
        n += snprintf(out + n, cap - (size_t)n, ".%0*" PRId64, digits, frac);
    }
    if (utc)
        n += snprintf(out + n, cap - (size_t)n, "Z");
    return (size_t)n;
}

static void fmt_date(int32_t days, char *out, size_t cap)
{
    int64_t y;
    unsigned m, d;
    lr_civil_from_days(days, &y, &m, &d);
    snprintf(out, cap, "%s%04" PRId64 "-%02u-%02u", y < 0 ? "-" : "", y < 0 ? -y : y, m, d);
}

static void fmt_time(int64_t v, lr_pq_time_unit unit, char *out, size_t cap)
{
    char tmp[64];
    /* the timestamp formatter on day 0, without the date */
    pqcli_fmt_timestamp(v, unit, false, tmp, sizeof tmp);
    snprintf(out, cap, "%s", strchr(tmp, 'T') ? strchr(tmp, 'T') + 1 : tmp);
}

/* Unscaled integer text -> decimal text with `scale` digits after the point. */
static void scale_text(const char *digits, int32_t scale, lr_buf *out)
{
    bool neg = digits[0] == '-';
    const char *p = neg ? digits + 1 : digits;
    size_t n = strlen(p);
    if (neg)
        lr_buf_append_byte(out, '-');
    if (scale <= 0) {
        lr_buf_append(out, p, n);
        return;
    }
    if (n <= (size_t)scale) {
        lr_buf_append_str(out, "0.");
        for (size_t i = n; i < (size_t)scale; i++)
            lr_buf_append_byte(out, '0');
        lr_buf_append(out, p, n);
        return;
    }
    lr_buf_append(out, p, n - (size_t)scale);
    lr_buf_append_byte(out, '.');
    lr_buf_append(out, p + n - (size_t)scale, (size_t)scale);
}

/* Big-endian two's complement bytes -> decimal text (any length). */
static void bigint_text(const uint8_t *b, uint32_t n, char *out, size_t cap)
{
    uint8_t mag[64];
    char rev[160];
    size_t k = 0;
    bool neg = n > 0 && (b[0] & 0x80);
    if (n > sizeof mag) {
        snprintf(out, cap, "0");
        return;
    }
    memcpy(mag, b, n);
    if (neg) {
        /* negate: invert and add one */
        int carry = 1;
        for (uint32_t i = n; i-- > 0;) {
            int v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    for (;;) {
        bool zero = true;
        unsigned rem = 0;
        for (uint32_t i = 0; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= mag[i] == 0;
        }
        rev[k++] = (char)('0' + rem);
        if (zero || k == sizeof rev)
            break;
    }
    {
        size_t o = 0;
        if (neg && o + 1 < cap)
            out[o++] = '-';
        while (k > 0 && o + 1 < cap)
            out[o++] = rev[--k];
        out[o] = '\0';
    }
}

static bool is_text(const lr_pq_column_def *d)
{
    return d->type == LR_PQ_BYTE_ARRAY &&
           (d->logical == LR_PQ_LOGICAL_STRING || d->logical == LR_PQ_LOGICAL_JSON ||
            d->logical == LR_PQ_LOGICAL_ENUM);
}

/* Appends UTF-8 text, replacing invalid sequences with U+FFFD, as a JSON string or raw. */
static void append_text(lr_buf *out, const uint8_t *p, size_t n, bool json)
{
    if (!lr_utf8_valid((const char *)p, n)) {
        lr_buf clean;
        lr_buf_init(&clean, 0);
        for (size_t i = 0; i < n;) {
            size_t len = (p[i] & 0x80) == 0      ? 1
                         : (p[i] & 0xE0) == 0xC0 ? 2
                         : (p[i] & 0xF0) == 0xE0 ? 3
                                                 : 4;
            if (i + len <= n && lr_utf8_valid((const char *)p + i, len)) {
                lr_buf_append(&clean, p + i, len);
                i += len;
            } else {
                lr_buf_append(&clean, "\xEF\xBF\xBD", 3);
                i++;
            }
        }
        append_text(out, (const uint8_t *)clean.data, clean.len, json);
        lr_buf_free(&clean);
        return;
    }
    if (json)
        lr_buf_append_json_str(out, (const char *)p, n);
    else
        lr_buf_append(out, p, n);
}

/*
 * Appends one value slot. json: as a JSON value (strings quoted, non-finite
 * numbers as strings); else as bare text (the CSV layer quotes it).
 */
void pqcli_append_slot(lr_buf *out, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                       uint32_t s, bool json)
{
    char t[256];
    bool quote = false;
    switch (d->type) {
    case LR_PQ_BOOLEAN:
        lr_buf_append_str(out, c->bools[s] ? "true" : "false");
        return;
    case LR_PQ_INT32:
        if (d->logical == LR_PQ_LOGICAL_DATE) {
            fmt_date(c->i32[s], t, sizeof t);
            quote = true;
        } else if (d->logical == LR_PQ_LOGICAL_TIME) {
            fmt_time(c->i32[s], d->unit, t, sizeof t);
            quote = true;
        } else if (d->logical == LR_PQ_LOGICAL_DECIMAL) {
            char digits[32];
            lr_buf tmp;
            snprintf(digits, sizeof digits, "%" PRId32, c->i32[s]);
            lr_buf_init(&tmp, 0);
            scale_text(digits, d->scale, &tmp);
            lr_buf_append(out, tmp.data, tmp.len);
            lr_buf_free(&tmp);
            return;
        } else if (d->logical == LR_PQ_LOGICAL_INT && !d->int_signed) {
            snprintf(t, sizeof t, "%" PRIu32, (uint32_t)c->i32[s]);
        } else {
            snprintf(t, sizeof t, "%" PRId32, c->i32[s]);
        }
        break;
    case LR_PQ_INT64:
    case LR_PQ_INT96:
        if (d->logical == LR_PQ_LOGICAL_TIMESTAMP) {
            pqcli_fmt_timestamp(c->i64[s], d->type == LR_PQ_INT96 ? LR_PQ_MICROS : d->unit, d->utc,
                                t, sizeof t);
            quote = true;
        } else if (d->logical == LR_PQ_LOGICAL_TIME) {
            fmt_time(c->i64[s], d->unit, t, sizeof t);
            quote = true;
        } else if (d->logical == LR_PQ_LOGICAL_DECIMAL) {
            char digits[32];
            lr_buf tmp;
            snprintf(digits, sizeof digits, "%" PRId64, c->i64[s]);
            lr_buf_init(&tmp, 0);
            scale_text(digits, d->scale, &tmp);
            lr_buf_append(out, tmp.data, tmp.len);
            lr_buf_free(&tmp);
            return;
        } else if (d->logical == LR_PQ_LOGICAL_INT && !d->int_signed) {
            snprintf(t, sizeof t, "%" PRIu64, (uint64_t)c->i64[s]);
        } else {
            snprintf(t, sizeof t, "%" PRId64, c->i64[s]);
        }
        break;
    case LR_PQ_FLOAT:
        fmt_float(c->f32[s], t, sizeof t);
        quote = !isfinite(c->f32[s]);
        break;
    case LR_PQ_DOUBLE:
        pqcli_fmt_double(c->f64[s], t, sizeof t);
        quote = !isfinite(c->f64[s]);
        break;
    default: {
        const uint8_t *p = c->bytes + c->offsets[s];
        uint32_t n = c->offsets[s + 1] - c->offsets[s];
        if (is_text(d)) {
            append_text(out, p, n, json);
            return;
        }
        if (d->logical == LR_PQ_LOGICAL_FLOAT16 && n == 2) {
            double v = half_to_double(p);
            pqcli_fmt_double(v, t, sizeof t);
            if (json && !isfinite(v))
                lr_buf_append_json_str(out, t, strlen(t));
            else
                lr_buf_append_str(out, t);
            return;
        }
        if (d->logical == LR_PQ_LOGICAL_DECIMAL) {
            char digits[160];
            lr_buf tmp;
            bigint_text(p, n, digits, sizeof digits);
            lr_buf_init(&tmp, 0);
            scale_text(digits, d->scale, &tmp);
            lr_buf_append(out, tmp.data, tmp.len);
            lr_buf_free(&tmp);
            return;
        }
        if (json)
            lr_buf_append_byte(out, '"');
        if (d->logical == LR_PQ_LOGICAL_UUID && n == 16) {
            for (uint32_t i = 0; i < 16; i++)
                lr_buf_printf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
                              p[i]);
        } else {
            lr_buf_append_str(out, "0x");
            for (uint32_t i = 0; i < n; i++)
                lr_buf_printf(out, "%02x", p[i]);
        }
        if (json)
            lr_buf_append_byte(out, '"');
        return;
    }
    }
    if (json && quote)
        lr_buf_append_json_str(out, t, strlen(t));
    else
        lr_buf_append_str(out, t);
}

static bool elem_valid(const lr_pq_column_batch *c, uint32_t s)
{
    return !c->elem_validity || c->elem_validity[s];
}

/* A list cell as a JSON array (nested for lists of lists). */
static void append_list(lr_buf *out, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                        uint32_t row)
{
    lr_buf_append_byte(out, '[');
    for (uint32_t i = c->list_offsets[row]; i < c->list_offsets[row + 1]; i++) {
        if (i > c->list_offsets[row])
            lr_buf_append_byte(out, ',');
        if (d->depth == 2) {
            if (c->inner_validity && !c->inner_validity[i]) {
                lr_buf_append_str(out, "null");
                continue;
            }
            lr_buf_append_byte(out, '[');
            for (uint32_t k = c->inner_offsets[i]; k < c->inner_offsets[i + 1]; k++) {
                if (k > c->inner_offsets[i])
                    lr_buf_append_byte(out, ',');
                if (elem_valid(c, k))
                    pqcli_append_slot(out, d, c, k, true);
                else
                    lr_buf_append_str(out, "null");
            }
            lr_buf_append_byte(out, ']');
        } else if (elem_valid(c, i)) {
            pqcli_append_slot(out, d, c, i, true);
        } else {
            lr_buf_append_str(out, "null");
        }
    }
    lr_buf_append_byte(out, ']');
}

/* ---- schema ---- */

static void type_text(const lr_pq_column_def *d, lr_buf *out)
{
    lr_buf_append_str(out, lr_pq_type_name(d->type));
    if (d->type == LR_PQ_FIXED_LEN_BYTE_ARRAY)
        lr_buf_printf(out, "(%d)", (int)d->type_length);
    switch (d->logical) {
    case LR_PQ_LOGICAL_NONE:
        break;
    case LR_PQ_LOGICAL_TIMESTAMP:
    case LR_PQ_LOGICAL_TIME:
        lr_buf_printf(out, " %s(%s%s)", lr_pq_logical_name(d->logical),
                      lr_pq_time_unit_name(d->unit), d->utc ? ", UTC" : "");
        break;
    case LR_PQ_LOGICAL_DECIMAL:
        lr_buf_printf(out, " DECIMAL(%d,%d)", (int)d->precision, (int)d->scale);
        break;
    case LR_PQ_LOGICAL_INT:
        lr_buf_printf(out, " INT(%u,%s)", (unsigned)d->int_bits,
                      d->int_signed ? "signed" : "unsigned");
        break;
    default:
        lr_buf_printf(out, " %s", lr_pq_logical_name(d->logical));
        break;
    }
}

static int open_reader(const char *path, lr_pq_reader **r)
{
    lr_error err;
    if (lr_pq_reader_open_file(path, r, &err) != LR_OK)
        return cli_fail_err(&err);
    return LR_EXIT_OK;
}

static int do_schema(const char *path, bool json)
{
    lr_pq_reader *r;
    lr_buf out;
    int rc = open_reader(path, &r);
    if (rc != LR_EXIT_OK)
        return rc;
    lr_buf_init(&out, 0);
    if (json)
        lr_buf_append_byte(&out, '[');
    for (uint32_t i = 0; i < lr_pq_reader_num_columns(r); i++) {
        const lr_pq_column_def *d = lr_pq_reader_column(r, i);
        lr_buf type;
        lr_buf_init(&type, 0);
        type_text(d, &type);
        if (json) {
            if (i)
                lr_buf_append_byte(&out, ',');
            lr_buf_append_str(&out, "{\"name\":");
            lr_buf_append_json_str(&out, d->name, strlen(d->name));
            lr_buf_printf(&out, ",\"type\":\"%s\",\"logical\":\"%s\"", lr_pq_type_name(d->type),
                          lr_pq_logical_name(d->logical));
            if (d->logical == LR_PQ_LOGICAL_TIMESTAMP || d->logical == LR_PQ_LOGICAL_TIME)
                lr_buf_printf(&out, ",\"unit\":\"%s\",\"utc\":%s", lr_pq_time_unit_name(d->unit),
                              d->utc ? "true" : "false");
            if (d->logical == LR_PQ_LOGICAL_DECIMAL)
                lr_buf_printf(&out, ",\"precision\":%d,\"scale\":%d", (int)d->precision,
                              (int)d->scale);
            if (d->type == LR_PQ_FIXED_LEN_BYTE_ARRAY)
                lr_buf_printf(&out, ",\"type_length\":%d", (int)d->type_length);
            lr_buf_printf(&out, ",\"optional\":%s", d->optional ? "true" : "false");
            if (d->list) {
                lr_buf_printf(&out, ",\"list\":true,\"depth\":%u,\"element_optional\":%s",
                              d->depth ? (unsigned)d->depth : 1u,
                              d->element_optional ? "true" : "false");
                if (d->depth == 2)
                    lr_buf_printf(&out, ",\"inner_optional\":%s",
                                  d->inner_optional ? "true" : "false");
            }
            lr_buf_printf(&out, ",\"display\":");
            lr_buf_append_json_str(&out, type.data, type.len);
            lr_buf_append_byte(&out, '}');
        } else if (d->list) {
            lr_buf_printf(&out, "%s %s%s%s%s %s, elements %s\n", d->name, "list<",
                          d->depth == 2 ? "list<" : "", type.data, d->depth == 2 ? ">>" : ">",
                          d->optional ? "optional" : "required",
                          d->element_optional ? "optional" : "required");
        } else {
            lr_buf_printf(&out, "%s %s %s\n", d->name, type.data,
                          d->optional ? "optional" : "required");
        }
        lr_buf_free(&type);
    }
    if (json) {
        lr_buf_append_byte(&out, ']');
        cli_print_buf(&out);
    } else if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
    }
    lr_buf_free(&out);
    lr_pq_reader_free(r);
    return LR_EXIT_OK;
}

/* ---- meta ---- */

static void stat_value(lr_buf *out, const lr_pq_column_def *d, const lr_pq_scalar *v, bool json)
{
    lr_pq_column_batch c;
    uint32_t off[2];
    memset(&c, 0, sizeof c);
    switch (d->type) {
    case LR_PQ_BOOLEAN:
        c.bools = (const uint8_t *)&v->b;
        break;
    case LR_PQ_INT32:
        c.i32 = &v->i32;
        break;
    case LR_PQ_INT64:
    case LR_PQ_INT96:
        c.i64 = &v->i64;
        break;
    case LR_PQ_FLOAT:
        c.f32 = &v->f32;
        break;
    case LR_PQ_DOUBLE:
        c.f64 = &v->f64;
        break;
    default:
        off[0] = 0;
        off[1] = v->bytes.len;
        c.offsets = off;
        c.bytes = v->bytes.ptr;
        break;
    }
    if (json) {
        lr_buf tmp;
        lr_buf_init(&tmp, 0);
        pqcli_append_slot(&tmp, d, &c, 0, true);
        /* Quote bare numbers too? No: JSON numbers stay numbers, others are already quoted. */
        lr_buf_append(out, tmp.data, tmp.len);
        lr_buf_free(&tmp);
    } else {
        pqcli_append_slot(out, d, &c, 0, false);
    }
}

static void encodings_text(lr_buf *out, uint32_t mask, bool json)
{
    bool first = true;
    for (int e = 0; e < 32; e++) {
        if (!(mask & (1u << e)))
            continue;
        if (!first)
            lr_buf_append_str(out, json ? "," : " ");
        first = false;
        if (json)
            lr_buf_printf(out, "\"%s\"", lr_pq_encoding_name(e));
        else
            lr_buf_append_str(out, lr_pq_encoding_name(e));
    }
}

static int do_meta(const char *path, bool json)
{
    lr_pq_reader *r;
    lr_buf out;
    const lr_pq_kv *kv;
    uint32_t n_kv, n_rg, n_col;
    const char *cb;
    FILE *f;
    long size = -1;
    int rc = open_reader(path, &r);
    if (rc != LR_EXIT_OK)
        return rc;
    if ((f = fopen(path, "rb")) != NULL) {
        if (fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        fclose(f);
    }
    kv = lr_pq_reader_kv(r, &n_kv);
    n_rg = lr_pq_reader_num_row_groups(r);
    n_col = lr_pq_reader_num_columns(r);
    cb = lr_pq_reader_created_by(r);
    lr_buf_init(&out, 0);
    if (json) {
        lr_buf_append_str(&out, "{\"file\":");
        lr_buf_append_json_str(&out, path, strlen(path));
        lr_buf_printf(&out, ",\"size\":%ld,\"created_by\":", size);
        if (cb)
            lr_buf_append_json_str(&out, cb, strlen(cb));
        else
            lr_buf_append_str(&out, "null");
        lr_buf_printf(&out, ",\"num_rows\":%" PRId64 ",\"num_columns\":%u,\"key_value_metadata\":{",
                      lr_pq_reader_num_rows(r), n_col);
        for (uint32_t i = 0; i < n_kv; i++) {
            if (i)
                lr_buf_append_byte(&out, ',');
            lr_buf_append_json_str(&out, kv[i].key, strlen(kv[i].key));
            lr_buf_append_byte(&out, ':');
            if (kv[i].value)
                lr_buf_append_json_str(&out, kv[i].value, strlen(kv[i].value));
            else
                lr_buf_append_str(&out, "null");
        }
        lr_buf_append_str(&out, "},\"row_groups\":[");
    } else {
        lr_buf_printf(&out,
                      "file: %s\nsize: %ld\ncreated_by: %s\nrows: %" PRId64
                      "\ncolumns: %u\nrow groups: %u\n",
                      path, size, cb ? cb : "(none)", lr_pq_reader_num_rows(r), n_col, n_rg);
        for (uint32_t i = 0; i < n_kv; i++) {
            const char *v = kv[i].value ? kv[i].value : "(null)";
            lr_buf_printf(&out, "metadata: %s = %.*s%s\n", kv[i].key, 200, v,
                          strlen(v) > 200 ? "..." : "");
        }
    }
    for (uint32_t g = 0; g < n_rg; g++) {
        int64_t comp = 0, unc = 0;
        for (uint32_t c = 0; c < n_col; c++) {
            lr_pq_chunk_info ci;
            if (lr_pq_reader_chunk_info(r, g, c, &ci) == LR_OK) {
                comp += ci.total_compressed_size;
                unc += ci.total_uncompressed_size;
            }
        }
        if (json)
            lr_buf_printf(&out,
                          "%s{\"index\":%u,\"num_rows\":%" PRId64 ",\"compressed_size\":%" PRId64
                          ",\"uncompressed_size\":%" PRId64 ",\"columns\":[",
                          g ? "," : "", g, lr_pq_reader_row_group_rows(r, g), comp, unc);
        else
            lr_buf_printf(&out,
                          "\nrow group %u: %" PRId64 " rows, %" PRId64 " bytes (%" PRId64
                          " uncompressed)\n",
                          g, lr_pq_reader_row_group_rows(r, g), comp, unc);
        for (uint32_t c = 0; c < n_col; c++) {
            const lr_pq_column_def *d = lr_pq_reader_column(r, c);
            lr_pq_chunk_info ci;
            const lr_pq_stats *st = &ci.stats;
            if (lr_pq_reader_chunk_info(r, g, c, &ci) != LR_OK)
                continue;
            if (json) {
                lr_buf_append_str(&out, c ? ",{\"name\":" : "{\"name\":");
                lr_buf_append_json_str(&out, d->name, strlen(d->name));
                lr_buf_printf(&out, ",\"codec\":\"%s\",\"encodings\":[",
                              lr_pq_codec_name(ci.codec));
                encodings_text(&out, ci.encodings, true);
                lr_buf_printf(&out,
                              "],\"num_values\":%" PRId64 ",\"compressed_size\":%" PRId64
                              ",\"uncompressed_size\":%" PRId64 ",\"data_page_offset\":%" PRId64
                              ",\"dictionary_page_offset\":",
                              ci.num_values, ci.total_compressed_size, ci.total_uncompressed_size,
                              ci.data_page_offset);
                if (ci.dictionary_page_offset >= 0)
                    lr_buf_printf(&out, "%" PRId64, ci.dictionary_page_offset);
                else
                    lr_buf_append_str(&out, "null");
                lr_buf_append_str(&out, ",\"statistics\":{");
                lr_buf_append_str(&out, "\"null_count\":");
                if (st->has_null_count)
                    lr_buf_printf(&out, "%" PRId64, st->null_count);
                else
                    lr_buf_append_str(&out, "null");
                if (st->has_nan_count)
                    lr_buf_printf(&out, ",\"nan_count\":%" PRId64, st->nan_count);
                if (st->has_distinct_count)
                    lr_buf_printf(&out, ",\"distinct_count\":%" PRId64, st->distinct_count);
                if (st->has_min) {
                    lr_buf_append_str(&out, ",\"min\":");
                    stat_value(&out, d, &st->min, true);
                    lr_buf_printf(&out, ",\"min_exact\":%s", st->min_exact ? "true" : "false");
                }
                if (st->has_max) {
                    lr_buf_append_str(&out, ",\"max\":");
                    stat_value(&out, d, &st->max, true);
                    lr_buf_printf(&out, ",\"max_exact\":%s", st->max_exact ? "true" : "false");
                }
                lr_buf_append_str(&out, "}}");
            } else {
                lr_buf_printf(&out, "  %s: %s ", d->name, lr_pq_codec_name(ci.codec));
                encodings_text(&out, ci.encodings, false);
                lr_buf_printf(&out,
                              ", %" PRId64 " values, %" PRId64 " bytes (%" PRId64
                              " uncompressed), data page at %" PRId64,
                              ci.num_values, ci.total_compressed_size, ci.total_uncompressed_size,
                              ci.data_page_offset);
                if (ci.dictionary_page_offset >= 0)
                    lr_buf_printf(&out, ", dictionary at %" PRId64, ci.dictionary_page_offset);
                lr_buf_append_str(&out, "\n    stats:");
                if (st->has_null_count)
                    lr_buf_printf(&out, " nulls=%" PRId64, st->null_count);
                if (st->has_nan_count)
                    lr_buf_printf(&out, " nans=%" PRId64, st->nan_count);
                if (st->has_min) {
                    lr_buf_append_str(&out, " min=");
                    stat_value(&out, d, &st->min, false);
                    if (!st->min_exact)
                        lr_buf_append_str(&out, " (inexact)");
                }
                if (st->has_max) {
                    lr_buf_append_str(&out, " max=");
                    stat_value(&out, d, &st->max, false);
                    if (!st->max_exact)
                        lr_buf_append_str(&out, " (inexact)");
                }
                if (!st->has_null_count && !st->has_min && !st->has_max)
                    lr_buf_append_str(&out, " (none)");
                lr_buf_append_byte(&out, '\n');
            }
        }
        if (json)
            lr_buf_append_str(&out, "]}");
    }
    if (json) {
        lr_buf_append_str(&out, "]}");
        cli_print_buf(&out);
    } else {
        fwrite(out.data, 1, out.len, stdout);
    }
    lr_buf_free(&out);
    lr_pq_reader_free(r);
    return LR_EXIT_OK;
}

/* ---- cat ---- */

/* Resolves "a,b" into column indexes. */
static int parse_columns(lr_pq_reader *r, const char *list, uint32_t **out, uint32_t *n)
{
    char *copy = strdup(list), *save = NULL, *tok;
    uint32_t cap = 8, k = 0;
    uint32_t *cols = malloc(cap * sizeof *cols);
    int rc = LR_EXIT_OK;
    if (copy == NULL || cols == NULL) {
        free(copy);
        free(cols);
        return cli_fail("out of memory");
    }
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int32_t c = lr_pq_reader_find_column(r, tok);
        if (c < 0) {
            rc = cli_fail("no column '%s' in the file", tok);
            break;
        }
        for (uint32_t i = 0; i < k; i++) {
            if (cols[i] == (uint32_t)c) {
                rc = cli_usage("parquet cat", "column '%s' given twice", tok);
                break;
            }
        }
        if (rc != LR_EXIT_OK)
            break;
        if (k == cap) {
            uint32_t *nc = realloc(cols, (size_t)cap * 2 * sizeof *cols);
            if (nc == NULL) {
                rc = cli_fail("out of memory");
                break;
            }
            cols = nc;
            cap *= 2;
        }
        cols[k++] = (uint32_t)c;
    }
    free(copy);
    if (rc == LR_EXIT_OK && k == 0)
        rc = cli_usage("parquet cat", "--columns needs at least one column");
    if (rc != LR_EXIT_OK) {
        free(cols);
        return rc;
    }
    *out = cols;
    *n = k;
    return LR_EXIT_OK;
}

static int do_cat(const char *path, const char *columns, int64_t limit, bool csv)
{
    lr_pq_reader *r;
    lr_pq_scan *s = NULL;
    lr_pq_scan_options so;
    const lr_pq_batch *b;
    uint32_t *cols = NULL, n_cols = 0;
    lr_buf line, cellb;
    lr_error err;
    int64_t printed = 0;
    int rc = open_reader(path, &r);
    static char obuf[1 << 16];

    if (rc != LR_EXIT_OK)
        return rc;
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    memset(&so, 0, sizeof so);
    if (columns) {
        if ((rc = parse_columns(r, columns, &cols, &n_cols)) != LR_EXIT_OK)
            goto done;
        so.columns = cols;
        so.n_columns = n_cols;
    } else {
        n_cols = lr_pq_reader_num_columns(r);
    }
    if (limit >= 0 && limit < 65536)
        so.batch_rows = limit > 0 ? (uint32_t)limit : 1;
    lr_buf_init(&line, 0);
    lr_buf_init(&cellb, 0);
    if (csv) {
        for (uint32_t i = 0; i < n_cols; i++) {
            const lr_pq_column_def *d = lr_pq_reader_column(r, cols ? cols[i] : i);
            if (i)
                lr_buf_append_byte(&line, ',');
            lr_buf_append_csv_field(&line, d->name, strlen(d->name), 0);
        }
        lr_buf_append_byte(&line, '\n');
        fwrite(line.data, 1, line.len, stdout);
    }
    if (limit == 0)
        goto done_bufs;
    if (lr_pq_scan_open(r, &so, &s, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done_bufs;
    }
    for (;;) {
        if (lr_pq_scan_next(s, &b, &err) != LR_OK) {
            fflush(stdout);
            rc = cli_fail_err(&err);
            break;
        }
        if (b == NULL)
            break;
        for (uint32_t row = 0; row < b->n_rows && (limit < 0 || printed < limit); row++) {
            lr_buf_clear(&line);
            if (!csv)
                lr_buf_append_byte(&line, '{');
            for (uint32_t i = 0; i < b->n_columns; i++) {
                const lr_pq_column_def *d = lr_pq_reader_column(r, cols ? cols[i] : i);
                const lr_pq_column_batch *c = &b->columns[i];
                bool valid = !c->validity || c->validity[row];
                if (i)
                    lr_buf_append_byte(&line, ',');
                if (!csv) {
                    lr_buf_append_json_str(&line, d->name, strlen(d->name));
                    lr_buf_append_byte(&line, ':');
                    if (!valid)
                        lr_buf_append_str(&line, "null");
                    else if (d->list)
                        append_list(&line, d, c, row);
                    else
                        pqcli_append_slot(&line, d, c, row, true);
                    continue;
                }
                if (!valid)
                    continue;
                lr_buf_clear(&cellb);
                if (d->list)
                    append_list(&cellb, d, c, row);
                else
                    pqcli_append_slot(&cellb, d, c, row, false);
                lr_buf_append_csv_field(&line, cellb.data ? cellb.data : "", cellb.len, 0);
            }
            lr_buf_append_str(&line, csv ? "\n" : "}\n");
            if (fwrite(line.data, 1, line.len, stdout) != line.len) {
                rc = cli_fail("writing output: %s", strerror(errno));
                goto done_bufs;
            }
            printed++;
        }
        if (limit >= 0 && printed >= limit)
            break;
    }
done_bufs:
    lr_buf_free(&line);
    lr_buf_free(&cellb);
done:
    if (fflush(stdout) != 0 && rc == LR_EXIT_OK)
        rc = cli_fail("writing output: %s", strerror(errno));
    lr_pq_scan_free(s);
    lr_pq_reader_free(r);
    free(cols);
    return rc;
}

/* ---- dispatch ---- */

static int sub_schema_meta(int argc, char **argv, bool meta)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *cmd = meta ? "parquet meta" : "parquet schema";
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(meta ? meta_usage : schema_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage(cmd, optind >= argc ? "a FILE is needed" : "one FILE only");
    return meta ? do_meta(argv[optind], json) : do_schema(argv[optind], json);
}

static int sub_cat(int argc, char **argv)
{
    static const struct option opts[] = {{"columns", required_argument, NULL, 'c'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *columns = NULL;
    int64_t limit = -1;
    bool csv = true;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            columns = optarg;
            break;
        case 'n': {
            char *end;
            errno = 0;
            limit = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || limit < 0)
                return cli_usage("parquet cat", "--limit needs a number >= 0, not '%s'", optarg);
            break;
        }
        case 'f':
            if (strcmp(optarg, "csv") == 0)
                csv = true;
            else if (strcmp(optarg, "ndjson") == 0 || strcmp(optarg, "json") == 0)
                csv = false;
            else
                return cli_usage("parquet cat", "--format is csv or ndjson, not '%s'", optarg);
            break;
        case 'h':
            fputs(cat_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("parquet cat", "unknown option or missing value in '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage("parquet cat", optind >= argc ? "a FILE is needed" : "one FILE only");
    return do_cat(argv[optind], columns, limit, csv);
}

int cmd_parquet(lr_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        if (argc < 2) {
            fputs(parquet_usage, stderr);
            return LR_EXIT_USAGE;
        }
        fputs(parquet_usage, stdout);
        return LR_EXIT_OK;
    }
    if (strcmp(argv[1], "schema") == 0)
        return sub_schema_meta(argc - 1, argv + 1, false);
    if (strcmp(argv[1], "meta") == 0)
        return sub_schema_meta(argc - 1, argv + 1, true);
    if (strcmp(argv[1], "cat") == 0)
        return sub_cat(argc - 1, argv + 1);
    if (strcmp(argv[1], "convert") == 0)
        return pqcli_convert(argc - 1, argv + 1);
    return cli_usage("parquet", "unknown subcommand '%s'", argv[1]);
}
