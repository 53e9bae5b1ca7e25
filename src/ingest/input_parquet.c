/*
 * input_parquet.c - rows of a feature group from a Parquet file (ingest.h).
 *
 * Columns are matched to features by name, as for CSV. Each cell becomes the
 * text a PutRecord would carry: integers in decimal, floating point in the
 * shortest form that reads back to the same double, booleans as true/false,
 * strings as their bytes; TIMESTAMP columns become ISO-8601 UTC for String
 * features (the event time, typically) and epoch seconds for Fractional ones;
 * DATE columns become yyyy-MM-dd (or midnight UTC ISO-8601 for an event-time
 * feature). Lists become ValueAsStringList items. A null is a missing value.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_internal.h"
#include "larder/parquet.h"
#include "larder/value.h"

struct lr_ingest_input_parquet {
    lr_pq_reader *reader;
    lr_pq_scan *scan;
    uint32_t *columns;       /* file column indexes, in projection order */
    int32_t *features;       /* feature per projected column */
    const lr_pq_batch *batch;
    uint32_t row;            /* next row in batch */
    uint64_t rows_done;
};

lr_status lr__ingest_parquet_open(lr_ingest_input *in, lr_error *err)
{
    struct lr_ingest_input_parquet *p = calloc(1, sizeof *p);
    lr_status st;
    if (p == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    in->pq = p;
    if ((st = lr_pq_reader_open_file(in->path, &p->reader, err)) != LR_OK)
        return lr_error_prefix(err, "%s", in->path);
    uint32_t n = lr_pq_reader_num_columns(p->reader);
    if (n > LR_FG_FEATURES_MAX + 16)
        return lr_error_set(err, LR_EINVAL, "%s: %u columns is more than a feature group holds",
                            in->path, n);
    p->columns = calloc(n ? n : 1, sizeof *p->columns);
    p->features = calloc(n ? n : 1, sizeof *p->features);
    if (p->columns == NULL || p->features == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t c = 0; c < n; c++) {
        const lr_pq_column_def *cd = lr_pq_reader_column(p->reader, c);
        int32_t f = lr_fg_def_find_feature(in->def, cd->name, strlen(cd->name));
        if (f < 0)
            return lr_error_set(err, LR_EINVAL,
                                "%s: column '%.80s' is not a feature of %s (columns are matched "
                                "to features by exact name)",
                                in->path, cd->name, in->def->name);
        const lr_feature_def *fd = &in->def->features[f];
        if ((fd->collection != LR_COLL_NONE) != cd->list)
            return lr_error_set(err, LR_EINVAL, "%s: column '%.80s' is %sa list but feature %s %s",
                                in->path, cd->name, cd->list ? "" : "not ", fd->name,
                                fd->collection != LR_COLL_NONE ? "is a collection" : "is not");
        p->columns[c] = c;
        p->features[c] = f;
        in->col_feature[c] = f;
    }
    in->n_columns = n;
    if ((st = lr__ingest_check_required(in, err)) != LR_OK)
        return lr_error_prefix(err, "%s", in->path);
    lr_pq_scan_options so = {p->columns, n, NULL, NULL, 4096};
    if ((st = lr_pq_scan_open(p->reader, &so, &p->scan, err)) != LR_OK)
        return lr_error_prefix(err, "%s", in->path);
    FILE *f = fopen(in->path, "rb");
    if (f) {
        if (fseek(f, 0, SEEK_END) == 0) {
            long sz = ftell(f);
            in->file_size = sz > 0 ? (uint64_t)sz : 0;
        }
        fclose(f);
    }
    in->row_line = 0;
    return LR_OK;
}

/* Formats one slot of a column as text in the row arena. */
static lr_status cell_text(lr_ingest_input *in, const lr_pq_column_def *cd,
                           const lr_pq_column_batch *cb, uint32_t slot, const lr_feature_def *fd,
                           bool is_event_time, lr_str *out, lr_error *err)
{
    char tmp[64];
    int n = 0;
    switch (cd->type) {
    case LR_PQ_BOOLEAN:
        n = snprintf(tmp, sizeof tmp, "%s", cb->bools[slot] ? "true" : "false");
        break;
    case LR_PQ_INT32:
        if (cd->logical == LR_PQ_LOGICAL_DATE) {
            int64_t y;
            unsigned m, d;
            lr_civil_from_days(cb->i32[slot], &y, &m, &d);
            if (is_event_time && fd->type == LR_FT_STRING)
                n = snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02uT00:00:00Z", y, m, d);
            else if (is_event_time)
                n = snprintf(tmp, sizeof tmp, "%" PRId64, (int64_t)cb->i32[slot] * 86400);
            else
                n = snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02u", y, m, d);
        } else {
            n = snprintf(tmp, sizeof tmp, "%" PRId32, cb->i32[slot]);
        }
        break;
    case LR_PQ_INT64:
    case LR_PQ_INT96: {
        int64_t v = cb->i64[slot];
        bool ts = cd->logical == LR_PQ_LOGICAL_TIMESTAMP || cd->type == LR_PQ_INT96;
        if (ts) {
            int64_t us = v;
            if (cd->type != LR_PQ_INT96) {
                if (cd->unit == LR_PQ_MILLIS)
                    us = v > INT64_MAX / 1000 ? INT64_MAX : v < INT64_MIN / 1000 ? INT64_MIN : v * 1000;
                else if (cd->unit == LR_PQ_NANOS)
                    us = v / 1000 - (v % 1000 < 0);
            }
            if (fd->type == LR_FT_STRING) {
                if (us < LR_TIME_MIN_US || us > LR_TIME_MAX_US)
                    return lr_error_set(err, LR_EINVAL, "column %s: timestamp out of range",
                                        cd->name);
                n = (int)lr_time_format_iso8601(us, tmp);
            } else if (fd->type == LR_FT_FRACTIONAL) {
                int64_t sec = us / 1000000, frac = us % 1000000;
                if (frac < 0) {
                    sec--;
                    frac += 1000000;
                }
                n = snprintf(tmp, sizeof tmp, "%" PRId64 ".%06" PRId64, sec, frac);
            } else {
                n = snprintf(tmp, sizeof tmp, "%" PRId64, us);
            }
        } else {
            n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
        }
        break;
    }
    case LR_PQ_FLOAT:
    case LR_PQ_DOUBLE: {
        double d = cd->type == LR_PQ_FLOAT ? (double)cb->f32[slot] : cb->f64[slot];
        if (isnan(d))
            n = snprintf(tmp, sizeof tmp, "NaN");
        else if (isinf(d))
            n = snprintf(tmp, sizeof tmp, "%s", d > 0 ? "Infinity" : "-Infinity");
        else
            for (int prec = cd->type == LR_PQ_FLOAT ? 9 : 15; prec <= 17; prec++) {
                n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
                if (strtod(tmp, NULL) == d)
                    break;
            }
        break;
    }
    case LR_PQ_BYTE_ARRAY:
    case LR_PQ_FIXED_LEN_BYTE_ARRAY:
        out->ptr = (const char *)cb->bytes + cb->offsets[slot];
        out->len = cb->offsets[slot + 1] - cb->offsets[slot];
        return LR_OK;
    }
    out->ptr = lr_arena_strndup(in->arena, tmp, (size_t)n);
    out->len = (size_t)n;
    if (out->ptr == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    return LR_OK;
}

lr_status lr__ingest_parquet_next(lr_ingest_input *in, lr_record *rec, bool *eof, lr_error *err)
{
    struct lr_ingest_input_parquet *p = in->pq;
    lr_status st;

    while (p->batch == NULL || p->row >= p->batch->n_rows) {
        if ((st = lr_pq_scan_next(p->scan, &p->batch, err)) != LR_OK)
            return lr_error_prefix(err, "%s", in->path);
        p->row = 0;
        if (p->batch == NULL) {
            *eof = true;
            return LR_OK;
        }
    }
    uint32_t r = p->row++;
    in->row_line = ++p->rows_done;
    uint32_t nv = 0;
    for (uint32_t c = 0; c < in->n_columns; c++) {
        const lr_pq_column_batch *cb = &p->batch->columns[c];
        const lr_pq_column_def *cd = lr_pq_reader_column(p->reader, p->columns[c]);
        const lr_feature_def *fd = &in->def->features[p->features[c]];
        bool is_et = (uint32_t)p->features[c] == in->def->event_time_index;
        if (cb->validity && !cb->validity[r])
            continue;
        lr_feature_value *v = &in->values[nv++];
        memset(v, 0, sizeof *v);
        v->feature = (uint32_t)p->features[c];
        if (cd->list) {
            uint32_t a = cb->list_offsets[r], b = cb->list_offsets[r + 1];
            lr_str *items = lr_arena_calloc(in->arena, b > a ? b - a : 1, sizeof *items);
            if (items == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            for (uint32_t s = a; s < b; s++) {
                if (cb->elem_validity && !cb->elem_validity[s])
                    return lr_error_set(err, LR_EINVAL, "feature %s: a list item is null",
                                        fd->name);
                if ((st = cell_text(in, cd, cb, s, fd, false, &items[s - a], err)) != LR_OK)
                    return st;
            }
            v->is_list = true;
            v->items = items;
            v->n_items = b - a;
        } else if ((st = cell_text(in, cd, cb, r, fd, is_et, &v->value, err)) != LR_OK) {
            return st;
        }
    }
    rec->values = in->values;
    rec->n_values = nv;
    return LR_OK;
}

uint64_t lr__ingest_parquet_consumed(const lr_ingest_input *in)
{
    const struct lr_ingest_input_parquet *p = in->pq;
    if (p == NULL || p->reader == NULL)
        return 0;
    int64_t total = lr_pq_reader_num_rows(p->reader);
    if (total <= 0)
        return in->file_size;
    return (uint64_t)((double)in->file_size * (double)p->rows_done / (double)total);
}

void lr__ingest_parquet_close(lr_ingest_input *in)
{
    struct lr_ingest_input_parquet *p = in->pq;
    if (p == NULL)
        return;
    lr_pq_scan_free(p->scan);
    lr_pq_reader_free(p->reader);
    free(p->columns);
    free(p->features);
    free(p);
    in->pq = NULL;
}
