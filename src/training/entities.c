/*
 * entities.c - entity files for training sets: CSV (through the tokenizer
 * of csv.h) or Parquet, read in batches of column data either whole (for
 * the output, which keeps every column) or as just the identifier and the
 * timestamp (for the first pass). CSV columns are strings; Parquet columns
 * keep their types where the writer can write them again.
 *
 * The same row always yields the same key and timestamp, so the output
 * pass can find each row's results by reading the file a second time.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/value.h"
#include "training/training_internal.h"

typedef enum id_kind { ID_STR, ID_I32, ID_I64 } id_kind;

typedef enum ts_kind {
    TS_STR,   /* text */
    TS_MICROS, /* i64 microseconds (TIMESTAMP micros, INT96) */
    TS_MILLIS,
    TS_NANOS,
    TS_DATE,   /* i32 days */
    TS_SEC_I64,
    TS_SEC_I32,
    TS_SEC_F64,
    TS_SEC_F32,
} ts_kind;

struct lr__tr_ent {
    lr_training_format fmt;
    char *path;
    bool keys_only;
    uint32_t n_cols;
    lr_pq_column_def *defs;
    char **names;
    int32_t id_col, ts_col;
    id_kind idk;
    ts_kind tsk;
    uint64_t rows;   /* rows returned before the current batch */
    uint32_t n;      /* rows in the current batch */
    const lr_pq_column_batch *cols;
    uint32_t id_pos, ts_pos;
    /* CSV */
    lr_csv_reader *csv;
    lr__tr_colbuf *cb; /* built columns: every column, or id and ts */
    lr_pq_column_batch *cbv;
    uint32_t n_cb;
    uint64_t *lines;
    /* Parquet */
    lr_pq_reader *rd;
    lr_pq_scan *scan;
};

lr_training_format lr__tr_format_of(const char *path)
{
    size_t n = strlen(path);
    static const char *const z[] = {".gz", ".zst", ".zstd"};
    for (size_t i = 0; i < 3; i++) {
        size_t m = strlen(z[i]);
        if (n > m && strcmp(path + n - m, z[i]) == 0) {
            n -= m;
            break;
        }
    }
    if (n >= 4 && strncmp(path + n - 4, ".csv", 4) == 0)
        return LR_TRAINING_CSV;
    if (n >= 8 && strncmp(path + n - 8, ".parquet", 8) == 0)
        return LR_TRAINING_PARQUET;
    return LR_TRAINING_AUTO;
}

void lr__tr_ent_close(lr__tr_ent *e)
{
    if (e == NULL)
        return;
    lr_csv_close(e->csv);
    for (uint32_t i = 0; i < e->n_cb; i++)
        lr__tr_colbuf_free(&e->cb[i]);
    free(e->cb);
    free(e->cbv);
    free(e->lines);
    lr_pq_scan_free(e->scan);
    lr_pq_reader_free(e->rd);
    if (e->names != NULL)
        for (uint32_t i = 0; i < e->n_cols; i++)
            free(e->names[i]);
    free(e->names);
    free(e->defs);
    free(e->path);
    free(e);
}

uint32_t lr__tr_ent_ncols(const lr__tr_ent *e)
{
    return e->n_cols;
}

const lr_pq_column_def *lr__tr_ent_defs(const lr__tr_ent *e)
{
    return e->defs;
}

const lr_pq_column_batch *lr__tr_ent_columns(const lr__tr_ent *e)
{
    return e->cols;
}

uint64_t lr__tr_ent_rows(const lr__tr_ent *e)
{
    return e->rows + e->n;
}

static lr_status find_cols(lr__tr_ent *e, const char *id_col, const char *ts_col, lr_error *err)
{
    e->id_col = e->ts_col = -1;
    for (uint32_t i = 0; i < e->n_cols; i++) {
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(e->names[i], e->names[j]) == 0)
                return lr_error_set(err, LR_EINVAL, "%s: column '%.80s' appears twice", e->path,
                                    e->names[i]);
        if (strcmp(e->names[i], id_col) == 0)
            e->id_col = (int32_t)i;
        if (strcmp(e->names[i], ts_col) == 0)
            e->ts_col = (int32_t)i;
    }
    if (e->id_col < 0)
        return lr_error_set(err, LR_EINVAL, "%s has no column '%.80s' (--entity-id)", e->path,
                            id_col);
    if (e->ts_col < 0)
        return lr_error_set(err, LR_EINVAL, "%s has no column '%.80s' (--timestamp)", e->path,
                            ts_col);
    if (e->id_col == e->ts_col)
        return lr_error_set(err, LR_EINVAL, "the identifier and timestamp columns must differ");
    return LR_OK;
}

/* ---- CSV ---- */

static lr_status csv_open(lr__tr_ent *e, const char *id_col, const char *ts_col, lr_error *err)
{
    lr_csv_record rec;
    bool eof;
    lr_status st;

    if ((st = lr_csv_open(e->path, NULL, &e->csv, err)) != LR_OK)
        return st;
    st = lr_csv_next(e->csv, &rec, &eof, err);
    if (st != LR_OK)
        return lr_error_prefix(err, "%s: header", e->path);
    if (eof)
        return lr_error_set(err, LR_EINVAL, "%s: empty file (a CSV header row is required)",
                            e->path);
    if (rec.truncated)
        return lr_error_set(err, LR_EINVAL, "%s: too many columns", e->path);
    e->n_cols = (uint32_t)rec.n_fields;
    e->names = calloc(e->n_cols, sizeof *e->names);
    e->defs = calloc(e->n_cols, sizeof *e->defs);
    if (e->names == NULL || e->defs == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < e->n_cols; i++) {
        if (rec.fields[i].len == 0)
            return lr_error_set(err, LR_EINVAL, "%s: column %u has an empty name", e->path, i + 1);
        e->names[i] = strndup(rec.fields[i].ptr, rec.fields[i].len);
        if (e->names[i] == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        e->defs[i].name = e->names[i];
        e->defs[i].type = LR_PQ_BYTE_ARRAY;
        e->defs[i].logical = LR_PQ_LOGICAL_STRING;
        e->defs[i].optional = true;
    }
    if ((st = find_cols(e, id_col, ts_col, err)) != LR_OK)
        return st;
    e->idk = ID_STR;
    e->tsk = TS_STR;
    e->n_cb = e->keys_only ? 2 : e->n_cols;
    e->cb = calloc(e->n_cb, sizeof *e->cb);
    e->cbv = calloc(e->n_cb, sizeof *e->cbv);
    e->lines = calloc(LR__TR_ENT_BATCH, sizeof *e->lines);
    if (e->cb == NULL || e->cbv == NULL || e->lines == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < e->n_cb; i++)
        lr__tr_colbuf_init(&e->cb[i], LR_PQ_BYTE_ARRAY, false);
    e->id_pos = e->keys_only ? 0 : (uint32_t)e->id_col;
    e->ts_pos = e->keys_only ? 1 : (uint32_t)e->ts_col;
    e->cols = e->cbv;
    return LR_OK;
}

static lr_status csv_field_put(lr__tr_colbuf *b, const lr_csv_field *f)
{
    if (f->len == 0 && !f->quoted)
        return lr__tr_colbuf_null(b);
    return lr__tr_colbuf_bytes(b, f->ptr, f->len);
}

static lr_status csv_next(lr__tr_ent *e, lr_error *err)
{
    lr_status st;
    for (uint32_t i = 0; i < e->n_cb; i++)
        lr__tr_colbuf_clear(&e->cb[i]);
    e->n = 0;
    while (e->n < LR__TR_ENT_BATCH) {
        lr_csv_record rec;
        bool eof;
        if ((st = lr_csv_next(e->csv, &rec, &eof, err)) != LR_OK)
            return lr_error_prefix(err, "%s", e->path);
        if (eof)
            break;
        if (rec.n_fields != e->n_cols || rec.truncated)
            return lr_error_set(err, LR_EINVAL, "%s: line %" PRIu64 ": expected %u fields, found %zu",
                                e->path, rec.line, e->n_cols, rec.n_fields);
        if (e->keys_only) {
            st = csv_field_put(&e->cb[0], &rec.fields[e->id_col]);
            if (st == LR_OK)
                st = csv_field_put(&e->cb[1], &rec.fields[e->ts_col]);
        } else {
            st = LR_OK;
            for (uint32_t i = 0; i < e->n_cols && st == LR_OK; i++)
                st = csv_field_put(&e->cb[i], &rec.fields[i]);
        }
        if (st != LR_OK)
            return lr_error_set(err, st, "%s: line %" PRIu64 ": %s", e->path, rec.line,
                                st == LR_ELIMIT ? "a batch of rows is too large" : "out of memory");
        e->lines[e->n++] = rec.line;
    }
    for (uint32_t i = 0; i < e->n_cb; i++)
        e->cbv[i] = *lr__tr_colbuf_view(&e->cb[i]);
    return LR_OK;
}

/* ---- Parquet ---- */

static lr_status unsupported(const lr__tr_ent *e, const lr_pq_column_def *d, const char *what,
                             lr_error *err)
{
    return lr_error_set(err, LR_EINVAL,
                        "%s: column '%.80s' is %s, which a training set cannot carry (leave it out "
                        "of the entity file or cast it)",
                        e->path, d->name, what);
}

/* The output definition of a Parquet entity column. */
static lr_status out_def(const lr__tr_ent *e, const lr_pq_column_def *src, lr_pq_column_def *d,
                         lr_error *err)
{
    *d = *src;
    if (src->list && src->depth > 1)
        return unsupported(e, src, "a list of lists", err);
    switch (src->type) {
    case LR_PQ_INT96:
        d->type = LR_PQ_INT64;
        d->logical = LR_PQ_LOGICAL_TIMESTAMP;
        d->unit = LR_PQ_MICROS;
        d->utc = true;
        return LR_OK;
    case LR_PQ_FIXED_LEN_BYTE_ARRAY:
        return unsupported(e, src, "FIXED_LEN_BYTE_ARRAY", err);
    default:
        break;
    }
    switch (src->logical) {
    case LR_PQ_LOGICAL_NONE:
    case LR_PQ_LOGICAL_STRING:
    case LR_PQ_LOGICAL_TIMESTAMP:
    case LR_PQ_LOGICAL_DATE:
        return LR_OK;
    case LR_PQ_LOGICAL_JSON:
    case LR_PQ_LOGICAL_ENUM:
        d->logical = LR_PQ_LOGICAL_STRING;
        return LR_OK;
    case LR_PQ_LOGICAL_INT:
        if (!src->int_signed)
            return unsupported(e, src, "an unsigned integer", err);
        d->logical = LR_PQ_LOGICAL_NONE;
        d->int_bits = 0;
        return LR_OK;
    case LR_PQ_LOGICAL_DECIMAL:
        return unsupported(e, src, "a DECIMAL", err);
    case LR_PQ_LOGICAL_TIME:
        return unsupported(e, src, "a TIME", err);
    case LR_PQ_LOGICAL_UUID:
        return unsupported(e, src, "a UUID", err);
    default:
        break;
    }
    return unsupported(e, src, lr_pq_logical_name(src->logical), err);
}

static lr_status pq_open(lr__tr_ent *e, const char *id_col, const char *ts_col, lr_error *err)
{
    lr_status st;
    if ((st = lr_pq_reader_open_file(e->path, &e->rd, err)) != LR_OK)
        return lr_error_prefix(err, "%s", e->path);
    e->n_cols = lr_pq_reader_num_columns(e->rd);
    e->names = calloc(e->n_cols ? e->n_cols : 1, sizeof *e->names);
    e->defs = calloc(e->n_cols ? e->n_cols : 1, sizeof *e->defs);
    if (e->names == NULL || e->defs == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < e->n_cols; i++) {
        const lr_pq_column_def *c = lr_pq_reader_column(e->rd, i);
        e->names[i] = strdup(c->name);
        if (e->names[i] == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    if ((st = find_cols(e, id_col, ts_col, err)) != LR_OK)
        return st;
    for (uint32_t i = 0; i < e->n_cols; i++) {
        if ((st = out_def(e, lr_pq_reader_column(e->rd, i), &e->defs[i], err)) != LR_OK)
            return st;
        e->defs[i].name = e->names[i];
    }
    const lr_pq_column_def *idc = lr_pq_reader_column(e->rd, (uint32_t)e->id_col);
    const lr_pq_column_def *tsc = lr_pq_reader_column(e->rd, (uint32_t)e->ts_col);
    if (idc->list || tsc->list)
        return lr_error_set(err, LR_EINVAL, "%s: the identifier and timestamp columns must not be lists",
                            e->path);
    if (idc->type == LR_PQ_BYTE_ARRAY)
        e->idk = ID_STR;
    else if (idc->type == LR_PQ_INT64 && idc->logical != LR_PQ_LOGICAL_DECIMAL)
        e->idk = ID_I64;
    else if (idc->type == LR_PQ_INT32 && idc->logical != LR_PQ_LOGICAL_DECIMAL &&
             idc->logical != LR_PQ_LOGICAL_DATE)
        e->idk = ID_I32;
    else
        return lr_error_set(err, LR_EINVAL,
                            "%s: the identifier column '%.80s' must hold strings or integers",
                            e->path, idc->name);
    if (tsc->type == LR_PQ_INT96)
        e->tsk = TS_MICROS;
    else if (tsc->logical == LR_PQ_LOGICAL_TIMESTAMP)
        e->tsk = tsc->unit == LR_PQ_MILLIS ? TS_MILLIS : tsc->unit == LR_PQ_NANOS ? TS_NANOS
                                                                                 : TS_MICROS;
    else if (tsc->logical == LR_PQ_LOGICAL_DATE)
        e->tsk = TS_DATE;
    else if (tsc->type == LR_PQ_BYTE_ARRAY)
        e->tsk = TS_STR;
    else if (tsc->type == LR_PQ_DOUBLE)
        e->tsk = TS_SEC_F64;
    else if (tsc->type == LR_PQ_FLOAT)
        e->tsk = TS_SEC_F32;
    else if (tsc->type == LR_PQ_INT64 &&
             (tsc->logical == LR_PQ_LOGICAL_NONE || tsc->logical == LR_PQ_LOGICAL_INT))
        e->tsk = TS_SEC_I64;
    else if (tsc->type == LR_PQ_INT32 &&
             (tsc->logical == LR_PQ_LOGICAL_NONE || tsc->logical == LR_PQ_LOGICAL_INT))
        e->tsk = TS_SEC_I32;
    else
        return lr_error_set(err, LR_EINVAL,
                            "%s: the timestamp column '%.80s' must be a timestamp, a date, "
                            "epoch seconds or text",
                            e->path, tsc->name);
    lr_pq_scan_options so;
    uint32_t proj[2] = {(uint32_t)e->id_col, (uint32_t)e->ts_col};
    memset(&so, 0, sizeof so);
    so.batch_rows = LR__TR_ENT_BATCH;
    if (e->keys_only) {
        so.columns = proj;
        so.n_columns = 2;
    }
    e->id_pos = e->keys_only ? 0 : (uint32_t)e->id_col;
    e->ts_pos = e->keys_only ? 1 : (uint32_t)e->ts_col;
    if ((st = lr_pq_scan_open(e->rd, &so, &e->scan, err)) != LR_OK)
        return lr_error_prefix(err, "%s", e->path);
    return LR_OK;
}

static lr_status pq_next(lr__tr_ent *e, lr_error *err)
{
    const lr_pq_batch *b = NULL;
    lr_status st = lr_pq_scan_next(e->scan, &b, err);
    if (st != LR_OK)
        return lr_error_prefix(err, "%s", e->path);
    e->n = b ? b->n_rows : 0;
    e->cols = b ? b->columns : NULL;
    return LR_OK;
}

/* ---- common ---- */

lr_status lr__tr_ent_open(const char *path, lr_training_format fmt, const char *id_col,
                          const char *ts_col, bool keys_only, lr__tr_ent **out, lr_error *err)
{
    lr__tr_ent *e;
    lr_status st;

    *out = NULL;
    if (fmt == LR_TRAINING_AUTO)
        fmt = lr__tr_format_of(path);
    if (fmt == LR_TRAINING_AUTO)
        return lr_error_set(err, LR_EINVAL,
                            "%s: cannot tell the entity file's format from its name (name it "
                            ".csv or .parquet, or give the format)",
                            path);
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    e->fmt = fmt;
    e->keys_only = keys_only;
    e->path = strdup(path);
    if (e->path == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    st = fmt == LR_TRAINING_CSV ? csv_open(e, id_col, ts_col, err) : pq_open(e, id_col, ts_col, err);
    if (st != LR_OK)
        goto fail;
    *out = e;
    return LR_OK;
fail:
    lr__tr_ent_close(e);
    return st;
}

lr_status lr__tr_ent_next(lr__tr_ent *e, uint32_t *n, lr_error *err)
{
    e->rows += e->n;
    e->n = 0;
    lr_status st = e->fmt == LR_TRAINING_CSV ? csv_next(e, err) : pq_next(e, err);
    *n = st == LR_OK ? e->n : 0;
    return st;
}

bool lr__tr_ent_key(const lr__tr_ent *e, uint32_t r, int cls, uint8_t *buf, const uint8_t **kp,
                    uint32_t *klen)
{
    const lr_pq_column_batch *c = &e->cols[e->id_pos];
    int64_t v;
    if (c->validity != NULL && !c->validity[r])
        return false;
    if (e->idk == ID_STR) {
        const uint8_t *s = c->bytes + c->offsets[r];
        uint32_t n = c->offsets[r + 1] - c->offsets[r];
        if (n == 0)
            return false;
        if (cls == LR__TR_KEY_STR) {
            if (n > LR__TR_KEY_MAX)
                return false;
            *kp = s;
            *klen = n;
            return true;
        }
        if (lr_value_parse_integral((const char *)s, n, &v, NULL) != LR_OK)
            return false;
    } else {
        v = e->idk == ID_I32 ? c->i32[r] : c->i64[r];
    }
    if (cls == LR__TR_KEY_INT) {
        lr__tr_int_key(v, buf);
        *klen = 8;
    } else {
        *klen = (uint32_t)snprintf((char *)buf, LR__TR_KEY_MAX, "%" PRId64, v);
    }
    *kp = buf;
    return true;
}

/* Epoch seconds to microseconds, within Larder's time range. */
static bool seconds_us(double d, int64_t *us)
{
    if (!isfinite(d))
        return false;
    double x = d * 1e6;
    if (x < (double)LR_TIME_MIN_US || x > (double)LR_TIME_MAX_US)
        return false;
    *us = (int64_t)llround(x);
    return true;
}

lr_status lr__tr_parse_time(const char *s, size_t n, int64_t *us, lr_error *err)
{
    char buf[64];
    if (lr_time_parse_iso8601(s, n, us, NULL) == LR_OK)
        return LR_OK;
    if (n >= 10 && n < 48 && s[4] == '-' && s[7] == '-') {
        /* A date, or a date and time with ' ' for 'T' and without 'Z' or with +00:00. */
        size_t m = n;
        if (m == 10) {
            memcpy(buf, s, 10);
            memcpy(buf + 10, "T00:00:00Z", 10);
            m = 20;
        } else if (s[10] == 'T' || s[10] == ' ') {
            static const char *const utc[] = {"Z", "+00:00", "+0000", "+00", " UTC", "UTC"};
            for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++) {
                size_t k = strlen(utc[i]);
                if (m > 11 + k && memcmp(s + m - k, utc[i], k) == 0) {
                    m -= k;
                    break;
                }
            }
            memcpy(buf, s, m);
            buf[10] = 'T';
            buf[m++] = 'Z';
        } else {
            m = 0;
        }
        if (m > 0 && lr_time_parse_iso8601(buf, m, us, NULL) == LR_OK)
            return LR_OK;
    } else if (n > 0 && n < 64 && lr_event_time_parse(s, n, LR_FT_FRACTIONAL, us, NULL) == LR_OK) {
        return LR_OK;
    }
    return lr_error_set(err, LR_EINVAL,
                        "'%.*s' is not a time (ISO-8601 UTC such as 2024-05-01T10:00:00Z, a "
                        "date, or epoch seconds)",
                        (int)(n > 64 ? 64 : n), s);
}

lr_status lr__tr_ent_ts(const lr__tr_ent *e, uint32_t r, int64_t *us, bool *has, lr_error *err)
{
    const lr_pq_column_batch *c = &e->cols[e->ts_pos];
    bool ok = true;
    *has = false;
    if (c->validity != NULL && !c->validity[r])
        return LR_OK;
    switch (e->tsk) {
    case TS_STR: {
        const char *s = (const char *)c->bytes + c->offsets[r];
        uint32_t n = c->offsets[r + 1] - c->offsets[r];
        if (n == 0)
            return LR_OK;
        lr_status st = lr__tr_parse_time(s, n, us, err);
        if (st != LR_OK) {
            if (e->fmt == LR_TRAINING_CSV)
                return lr_error_prefix(err, "%s: line %" PRIu64 ": column %s", e->path,
                                       e->lines[r], e->names[e->ts_col]);
            return lr_error_prefix(err, "%s: row %" PRIu64 ": column %s", e->path,
                                   e->rows + r + 1, e->names[e->ts_col]);
        }
        *has = true;
        return LR_OK;
    }
    case TS_MICROS:
        *us = c->i64[r];
        break;
    case TS_MILLIS:
        ok = c->i64[r] <= LR_TIME_MAX_US / 1000 && c->i64[r] >= LR_TIME_MIN_US / 1000;
        *us = ok ? c->i64[r] * 1000 : 0;
        break;
    case TS_NANOS: {
        int64_t v = c->i64[r];
        *us = v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1;
        break;
    }
    case TS_DATE:
        *us = (int64_t)c->i32[r] * 86400 * 1000000;
        break;
    case TS_SEC_I64:
        ok = seconds_us((double)c->i64[r], us);
        break;
    case TS_SEC_I32:
        ok = seconds_us((double)c->i32[r], us);
        break;
    case TS_SEC_F64:
        ok = seconds_us(c->f64[r], us);
        break;
    case TS_SEC_F32:
        ok = seconds_us((double)c->f32[r], us);
        break;
    }
    if (!ok || *us < LR_TIME_MIN_US || *us > LR_TIME_MAX_US)
        return lr_error_set(err, LR_EINVAL, "%s: row %" PRIu64 ": column %s: a time out of range",
                            e->path, e->rows + r + 1, e->names[e->ts_col]);
    *has = true;
    return LR_OK;
}
