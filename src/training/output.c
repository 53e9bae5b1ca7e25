/*
 * output.c - the files training sets and exports write: column builders
 * that turn decoded feature values (and CSV entity fields) into column
 * batches, and one writer for both formats that takes column batches:
 * Parquet through parquet.h, CSV as RFC 4180 text with a header.
 *
 * CSV conventions match what `larder ingest` reads back: a null is an
 * empty field, an empty string is "", collections are JSON arrays,
 * timestamps are ISO-8601 UTC, doubles the shortest text that reads back
 * as the same value ("NaN", "Infinity" and "-Infinity" as Java spells
 * them).
 *
 * The file is written under a temporary name in the same directory and
 * renamed into place only when complete, so a failed run never leaves a
 * truncated file where the output should be.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "larder/value.h"
#include "training/training_internal.h"

#define STRING_BYTES_MAX ((size_t)1 << 31)
#define CSV_FLUSH (1u << 20)

size_t lr__tr_fmt_double(double d, char out[40])
{
    if (isnan(d))
        return (size_t)snprintf(out, 40, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, 40, d > 0 ? "Infinity" : "-Infinity");
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 40, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)n;
}

/* ---- column builders ---- */

void lr__tr_colbuf_init(lr__tr_colbuf *b, lr_pq_type t, bool list)
{
    memset(b, 0, sizeof *b);
    b->type = t;
    b->list = list;
    lr_buf_init(&b->bytes, STRING_BYTES_MAX);
}

void lr__tr_colbuf_clear(lr__tr_colbuf *b)
{
    b->rows = 0;
    b->slots = 0;
    lr_buf_clear(&b->bytes);
}

void lr__tr_colbuf_free(lr__tr_colbuf *b)
{
    free(b->valid);
    free(b->loff);
    free(b->evalid);
    free(b->i64);
    free(b->f64);
    free(b->off);
    lr_buf_free(&b->bytes);
    memset(b, 0, sizeof *b);
}

static lr_status reserve_row(lr__tr_colbuf *b)
{
    if (b->rows + 2 <= b->cap_rows)
        return LR_OK;
    size_t nc = b->cap_rows ? b->cap_rows * 2 : 1024;
    uint8_t *v = realloc(b->valid, nc);
    if (v == NULL)
        return LR_ENOMEM;
    b->valid = v;
    if (b->list) {
        uint32_t *l = realloc(b->loff, (nc + 1) * sizeof *l);
        if (l == NULL)
            return LR_ENOMEM;
        if (b->loff == NULL)
            l[0] = 0;
        b->loff = l;
    }
    b->cap_rows = nc;
    return LR_OK;
}

static lr_status reserve_slot(lr__tr_colbuf *b)
{
    if (b->slots + 2 <= b->cap_slots)
        return LR_OK;
    size_t nc = b->cap_slots ? b->cap_slots * 2 : 1024;
    if (b->list) {
        uint8_t *e = realloc(b->evalid, nc);
        if (e == NULL)
            return LR_ENOMEM;
        b->evalid = e;
    }
    if (b->type == LR_PQ_INT64) {
        int64_t *v = realloc(b->i64, nc * sizeof *v);
        if (v == NULL)
            return LR_ENOMEM;
        b->i64 = v;
    } else if (b->type == LR_PQ_DOUBLE) {
        double *v = realloc(b->f64, nc * sizeof *v);
        if (v == NULL)
            return LR_ENOMEM;
        b->f64 = v;
    } else {
        uint32_t *o = realloc(b->off, (nc + 1) * sizeof *o);
        if (o == NULL)
            return LR_ENOMEM;
        if (b->off == NULL)
            o[0] = 0;
        b->off = o;
    }
    b->cap_slots = nc;
    return LR_OK;
}

/* Appends one value slot; v NULL: a null slot. */
static lr_status put_slot(lr__tr_colbuf *b, const lr__tr_val *v)
{
    lr_status st = reserve_slot(b);
    if (st != LR_OK)
        return st;
    size_t k = b->slots;
    if (b->type == LR_PQ_INT64) {
        b->i64[k] = v ? v->i64 : 0;
    } else if (b->type == LR_PQ_DOUBLE) {
        b->f64[k] = v ? v->f64 : 0.0;
    } else {
        if (v != NULL && (st = lr_buf_append(&b->bytes, v->s, v->slen)) != LR_OK)
            return st;
        if (b->bytes.len > UINT32_MAX)
            return LR_ELIMIT;
        b->off[k + 1] = (uint32_t)b->bytes.len;
    }
    b->slots++;
    return LR_OK;
}

lr_status lr__tr_colbuf_null(lr__tr_colbuf *b)
{
    lr_status st = reserve_row(b);
    if (st != LR_OK)
        return st;
    b->valid[b->rows] = 0;
    if (b->list)
        b->loff[b->rows + 1] = (uint32_t)b->slots;
    else if ((st = put_slot(b, NULL)) != LR_OK)
        return st;
    b->rows++;
    return LR_OK;
}

lr_status lr__tr_colbuf_bytes(lr__tr_colbuf *b, const void *p, size_t n)
{
    lr__tr_val v;
    lr_status st = reserve_row(b);
    if (st != LR_OK)
        return st;
    if (n > UINT32_MAX)
        return LR_ELIMIT;
    memset(&v, 0, sizeof v);
    v.s = p;
    v.slen = (uint32_t)n;
    if ((st = put_slot(b, &v)) != LR_OK)
        return st;
    b->valid[b->rows++] = 1;
    return LR_OK;
}

lr_status lr__tr_colbuf_val(lr__tr_colbuf *b, lr_offline_ctype t, const lr__tr_val *v)
{
    lr_status st;
    if (v->null)
        return lr__tr_colbuf_null(b);
    if ((st = reserve_row(b)) != LR_OK)
        return st;
    if (!b->list) {
        if ((st = put_slot(b, v)) != LR_OK)
            return st;
    } else {
        const uint8_t *p = v->items;
        for (uint32_t i = 0; i < v->n_items; i++) {
            lr__tr_val it;
            lr__tr_item_decode(t, &p, &it);
            if ((st = put_slot(b, it.null ? NULL : &it)) != LR_OK)
                return st;
            b->evalid[b->slots - 1] = it.null ? 0 : 1;
        }
        if (b->slots > UINT32_MAX)
            return LR_ELIMIT;
        b->loff[b->rows + 1] = (uint32_t)b->slots;
    }
    b->valid[b->rows++] = 1;
    return LR_OK;
}

const lr_pq_column_batch *lr__tr_colbuf_view(lr__tr_colbuf *b)
{
    static const uint32_t zero = 0;
    lr_pq_column_batch *v = &b->view;
    memset(v, 0, sizeof *v);
    v->validity = b->valid;
    v->list_offsets = b->list ? (b->loff ? b->loff : &zero) : NULL;
    v->elem_validity = b->list ? b->evalid : NULL;
    if (b->type == LR_PQ_INT64) {
        v->i64 = b->i64;
    } else if (b->type == LR_PQ_DOUBLE) {
        v->f64 = b->f64;
    } else {
        v->offsets = b->off ? b->off : &zero;
        v->bytes = b->bytes.data ? (const uint8_t *)b->bytes.data : (const uint8_t *)"";
    }
    return v;
}

/* ---- the output file ---- */

struct lr__tr_out {
    lr_training_format fmt;
    char *path;
    char *tmp;
    int fd;
    lr_pq_writer *pw;
    lr_pq_column_def *defs;
    char **names;
    uint32_t n;
    lr_buf csv;
    lr_buf cell;
};

void lr__tr_out_free(lr__tr_out *o)
{
    if (o == NULL)
        return;
    lr_pq_writer_free(o->pw);
    if (o->fd >= 0)
        close(o->fd);
    if (o->tmp != NULL)
        unlink(o->tmp);
    if (o->names != NULL)
        for (uint32_t i = 0; i < o->n; i++)
            free(o->names[i]);
    free(o->names);
    free(o->defs);
    free(o->path);
    free(o->tmp);
    lr_buf_free(&o->csv);
    lr_buf_free(&o->cell);
    free(o);
}

static lr_status write_all(lr__tr_out *o, const void *p, size_t n, lr_error *err)
{
    const char *s = p;
    while (n > 0) {
        ssize_t r = write(o->fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return lr_error_set(err, LR_EIO, "writing %s: %s", o->path,
                                r < 0 ? strerror(errno) : "nothing written");
        s += r;
        n -= (size_t)r;
    }
    return LR_OK;
}

lr_status lr__tr_out_open(const char *path, lr_training_format fmt, const lr_pq_column_def *defs,
                          uint32_t n, lr_pq_codec codec, uint64_t row_group_bytes,
                          lr__tr_out **out, lr_error *err)
{
    lr__tr_out *o;
    lr_status st;

    *out = NULL;
    if (fmt == LR_TRAINING_AUTO)
        fmt = lr__tr_format_of(path);
    if (fmt == LR_TRAINING_AUTO)
        return lr_error_set(err, LR_EINVAL,
                            "%s: cannot tell the output format from the name (name it .csv or "
                            ".parquet, or give the format)",
                            path);
    o = calloc(1, sizeof *o);
    if (o == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    o->fd = -1;
    o->fmt = fmt;
    o->n = n;
    lr_buf_init(&o->csv, 0);
    lr_buf_init(&o->cell, 0);
    o->path = strdup(path);
    o->tmp = malloc(strlen(path) + 16);
    o->defs = calloc(n ? n : 1, sizeof *o->defs);
    o->names = calloc(n ? n : 1, sizeof *o->names);
    if (o->path == NULL || o->tmp == NULL || o->defs == NULL || o->names == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        o->defs[i] = defs[i];
        o->names[i] = strdup(defs[i].name);
        if (o->names[i] == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto fail;
        }
        o->defs[i].name = o->names[i];
    }
    snprintf(o->tmp, strlen(path) + 16, "%s.tmp-XXXXXX", path);
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        free(o->tmp);
        o->tmp = NULL;
        st = lr_error_set(err, LR_EIO, "cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    if (fmt == LR_TRAINING_PARQUET) {
        lr_pq_write_options wo;
        lr_pq_write_options_init(&wo);
        wo.codec = codec;
        if (row_group_bytes > 0)
            wo.row_group_bytes = row_group_bytes;
        if ((st = lr_pq_writer_open(o->defs, n, &wo, lr_pq_sink_fd(o->fd), &o->pw, err)) != LR_OK) {
            lr_error_prefix(err, "%s", path);
            goto fail;
        }
    } else {
        st = LR_OK;
        for (uint32_t i = 0; i < n && st == LR_OK; i++) {
            if (i > 0)
                st = lr_buf_append_byte(&o->csv, ',');
            if (st == LR_OK)
                st = lr_buf_append_csv_field(&o->csv, o->names[i], strlen(o->names[i]),
                                             LR_CSV_QUOTE_EMPTY | LR_CSV_QUOTE_SPACES);
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(&o->csv, '\n');
        if (st != LR_OK) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto fail;
        }
    }
    *out = o;
    return LR_OK;
fail:
    lr__tr_out_free(o);
    return st;
}

/* Slot i of column c (def d) as text into b: JSON form inside lists. */
static lr_status slot_text(lr_buf *b, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                           uint32_t i, bool json)
{
    char t[64];
    size_t n;
    switch (d->type) {
    case LR_PQ_BOOLEAN:
        return lr_buf_append_str(b, c->bools[i] ? "true" : "false");
    case LR_PQ_INT32:
        if (d->logical == LR_PQ_LOGICAL_DATE) {
            int64_t y;
            unsigned m, dd;
            lr_civil_from_days(c->i32[i], &y, &m, &dd);
            n = (size_t)snprintf(t, sizeof t, "%04" PRId64 "-%02u-%02u", y, m, dd);
            break;
        }
        n = (size_t)snprintf(t, sizeof t, "%" PRId32, c->i32[i]);
        break;
    case LR_PQ_INT64:
    case LR_PQ_INT96:
        if (d->logical == LR_PQ_LOGICAL_TIMESTAMP || d->type == LR_PQ_INT96) {
            int64_t v = c->i64[i];
            if (d->type == LR_PQ_INT64 && d->unit == LR_PQ_MILLIS)
                v = v > LR_TIME_MAX_US / 1000 ? LR_TIME_MAX_US : v < LR_TIME_MIN_US / 1000 ? LR_TIME_MIN_US : v * 1000;
            else if (d->type == LR_PQ_INT64 && d->unit == LR_PQ_NANOS)
                v = v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1;
            char ts[LR_TIME_STR_MAX];
            n = lr_time_format_iso8601(v, ts);
            return json ? lr_buf_append_json_str(b, ts, n) : lr_buf_append(b, ts, n);
        }
        n = (size_t)snprintf(t, sizeof t, "%" PRId64, c->i64[i]);
        break;
    case LR_PQ_FLOAT:
        n = lr__tr_fmt_double((double)c->f32[i], t);
        if (json && !isfinite(c->f32[i]))
            return lr_buf_append_json_str(b, t, n);
        break;
    case LR_PQ_DOUBLE:
        n = lr__tr_fmt_double(c->f64[i], t);
        if (json && !isfinite(c->f64[i]))
            return lr_buf_append_json_str(b, t, n);
        break;
    default: {
        const char *s = (const char *)c->bytes + c->offsets[i];
        size_t len = c->offsets[i + 1] - c->offsets[i];
        return json ? lr_buf_append_json_str(b, s, len) : lr_buf_append(b, s, len);
    }
    }
    return lr_buf_append(b, t, n);
}

static lr_status csv_rows(lr__tr_out *o, const lr_pq_column_batch *cols, uint32_t n,
                          lr_error *err)
{
    lr_status st = LR_OK;
    for (uint32_t r = 0; r < n && st == LR_OK; r++) {
        for (uint32_t c = 0; c < o->n && st == LR_OK; c++) {
            const lr_pq_column_def *d = &o->defs[c];
            const lr_pq_column_batch *cb = &cols[c];
            if (c > 0 && (st = lr_buf_append_byte(&o->csv, ',')) != LR_OK)
                break;
            if (cb->validity != NULL && !cb->validity[r])
                continue;
            lr_buf_clear(&o->cell);
            if (!d->list) {
                st = slot_text(&o->cell, d, cb, r, false);
            } else {
                st = lr_buf_append_byte(&o->cell, '[');
                for (uint32_t i = cb->list_offsets[r]; i < cb->list_offsets[r + 1] && st == LR_OK;
                     i++) {
                    if (i > cb->list_offsets[r])
                        st = lr_buf_append_byte(&o->cell, ',');
                    if (st != LR_OK)
                        break;
                    if (cb->elem_validity != NULL && !cb->elem_validity[i])
                        st = lr_buf_append_str(&o->cell, "null");
                    else
                        st = slot_text(&o->cell, d, cb, i, true);
                }
                if (st == LR_OK)
                    st = lr_buf_append_byte(&o->cell, ']');
            }
            if (st == LR_OK)
                st = lr_buf_append_csv_field(&o->csv, o->cell.data ? o->cell.data : "", o->cell.len,
                                             LR_CSV_QUOTE_EMPTY | LR_CSV_QUOTE_SPACES);
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(&o->csv, '\n');
        if (st == LR_OK && o->csv.len >= CSV_FLUSH) {
            st = write_all(o, o->csv.data, o->csv.len, err);
            lr_buf_clear(&o->csv);
            if (st != LR_OK)
                return st;
        }
    }
    if (st != LR_OK)
        return lr_error_set(err, st, "%s: out of memory", o->path);
    return LR_OK;
}

lr_status lr__tr_out_write(lr__tr_out *o, const lr_pq_column_batch *cols, uint32_t n,
                           lr_error *err)
{
    if (n == 0)
        return LR_OK;
    if (o->fmt == LR_TRAINING_PARQUET) {
        lr_status st = lr_pq_writer_write_batch(o->pw, cols, n, err);
        if (st != LR_OK)
            lr_error_prefix(err, "%s", o->path);
        return st;
    }
    return csv_rows(o, cols, n, err);
}

lr_status lr__tr_out_commit(lr__tr_out *o, lr_error *err)
{
    lr_status st;
    if (o->fmt == LR_TRAINING_PARQUET) {
        if ((st = lr_pq_writer_close(o->pw, NULL, err)) != LR_OK)
            return lr_error_prefix(err, "%s", o->path);
    } else if (o->csv.len > 0) {
        if ((st = write_all(o, o->csv.data, o->csv.len, err)) != LR_OK)
            return st;
        lr_buf_clear(&o->csv);
    }
    if (fchmod(o->fd, 0644) != 0 || close(o->fd) != 0) {
        o->fd = -1;
        return lr_error_set(err, LR_EIO, "%s: %s", o->path, strerror(errno));
    }
    o->fd = -1;
    if (rename(o->tmp, o->path) != 0)
        return lr_error_set(err, LR_EIO, "cannot rename %s to %s: %s", o->tmp, o->path,
                            strerror(errno));
    free(o->tmp);
    o->tmp = NULL;
    return LR_OK;
}
