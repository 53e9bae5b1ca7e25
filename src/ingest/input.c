/*
 * input.c - rows of a feature group from CSV, NDJSON (and Parquet, in
 * input_parquet.c) files: the reading half of `larder ingest` (ingest.h).
 *
 * CSV records come from the tokenizer of csv.h (csv.c), which keeps the
 * raw text of each record for the rejects file and counts physical lines.
 * An unquoted empty field is a missing value; a quoted empty field ("") is
 * an empty string, so String features can hold "".
 *
 * Chunks. CSV and NDJSON files are read in chunks of whole rows (a few MiB,
 * cut after the last row end outside quotes), each with the physical line
 * it starts on. Rows are parsed from a chunk in memory, so the same code
 * reads a file row by row (lr_ingest_input_next) and lets the ingest
 * pipeline hand chunks to several parsing threads (input_internal.h).
 */
#include "larder/ingest.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytesrc.h"
#include "input_internal.h"
#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/csv.h"

#define READ_CHUNK (1024 * 1024)
#define COLUMNS_MAX (LR_FG_FEATURES_MAX + 16)

int lr_ingest_format_parse(const char *s)
{
    if (strcmp(s, "csv") == 0)
        return LR_INGEST_CSV;
    if (strcmp(s, "ndjson") == 0 || strcmp(s, "jsonl") == 0)
        return LR_INGEST_NDJSON;
    if (strcmp(s, "parquet") == 0)
        return LR_INGEST_PARQUET;
    return -1;
}

const char *lr_ingest_format_name(lr_ingest_format f)
{
    switch (f) {
    case LR_INGEST_CSV: return "csv";
    case LR_INGEST_NDJSON: return "ndjson";
    case LR_INGEST_PARQUET: return "parquet";
    case LR_INGEST_AUTO: break;
    }
    return "auto";
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

/* The format from the file name: the extension before any compression suffix. */
static lr_ingest_format format_from_name(const char *path)
{
    size_t n = strlen(path);
    if (ends_with(path, n, ".gz"))
        n -= 3;
    else if (ends_with(path, n, ".zst"))
        n -= 4;
    else if (ends_with(path, n, ".zstd"))
        n -= 5;
    if (ends_with(path, n, ".csv"))
        return LR_INGEST_CSV;
    if (ends_with(path, n, ".ndjson") || ends_with(path, n, ".jsonl"))
        return LR_INGEST_NDJSON;
    if (ends_with(path, n, ".parquet"))
        return LR_INGEST_PARQUET;
    return LR_INGEST_AUTO;
}

/* ---- chunks of whole rows ---- */

/* NDJSON: rows end at LF (JSON strings cannot hold a raw one). */
static size_t ndjson_split_point(const char *p, size_t len, uint64_t *lines)
{
    const char *last = NULL;
    uint64_t n = 0;
    for (const char *q = p, *e = p + len; q < e;) {
        const char *x = memchr(q, '\n', (size_t)(e - q));
        if (x == NULL)
            break;
        n++;
        last = x;
        q = x + 1;
    }
    *lines = n;
    return last ? (size_t)(last - p) + 1 : 0;
}

lr_status lr__ingest_input_read_chunk(lr_ingest_input *in, lr__ingest_chunk *c, size_t target,
                                      lr_error *err)
{
    size_t want = target;
    lr_status st;

    lr_buf_clear(&c->data);
    c->first_line = in->next_line;
    for (;;) {
        while (!in->src_eof && in->read_st == LR_OK && in->pending.len < want) {
            size_t n, room = want - in->pending.len;
            if (room > READ_CHUNK)
                room = READ_CHUNK;
            if (lr_buf_reserve(&in->pending, room) != LR_OK)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            st = lr__bytesrc_read(in->src, in->pending.data + in->pending.len, room, &n,
                                  &in->read_err);
            if (st != LR_OK) {
                /* Damaged or unreadable input: the whole rows before it still go out. */
                in->read_st = st;
                break;
            }
            in->pending.len += n;
            in->pending.data[in->pending.len] = '\0';
            if (n == 0)
                in->src_eof = true;
        }
        if (in->pending.len == 0 && in->read_st == LR_OK)
            return LR_OK; /* the end */
        uint64_t lines = 0;
        size_t cut = in->format == LR_INGEST_CSV
                         ? lr_csv_split_point(in->pending.data, in->pending.len, in->src_eof,
                                              &lines)
                         : ndjson_split_point(in->pending.data, in->pending.len, &lines);
        if (in->src_eof && cut < in->pending.len)
            cut = in->pending.len; /* the last row has no line end (or a quote is open) */
        if (cut == 0 && in->read_st != LR_OK) {
            /* After a read error: the whole rows before it went out already. */
            if (err != NULL)
                *err = in->read_err;
            return in->read_st;
        }
        if (cut > 0) {
            /* The chunk takes the buffer; the rest (part of a row) moves to a fresh one. */
            lr_buf t = c->data;
            c->data = in->pending;
            in->pending = t;
            lr_buf_clear(&in->pending);
            if (lr_buf_append(&in->pending, c->data.data + cut, c->data.len - cut) != LR_OK)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            c->data.len = cut;
            c->data.data[cut] = '\0';
            in->next_line += lines;
            c->consumed = lr__bytesrc_consumed(in->src);
            return LR_OK;
        }
        /* No row ends in what is read: read more, up to the longest row. */
        if (in->pending.len > LR_INGEST_ROW_MAX + target)
            return lr_error_set(err, LR_ELIMIT, "%s: line %" PRIu64 ": row longer than %u bytes",
                                in->path, in->next_line, LR_INGEST_ROW_MAX);
        want = in->pending.len + READ_CHUNK;
    }
}

size_t lr__ingest_chunk_target = LR__INGEST_CHUNK;

/* File mode: moves on to the next chunk of the file; false at its end. */
static lr_status next_own_chunk(lr_ingest_input *in, bool *got, lr_error *err)
{
    lr_status st = lr__ingest_input_read_chunk(in, &in->own, lr__ingest_chunk_target, err);
    *got = st == LR_OK && in->own.data.len > 0;
    if (*got)
        lr__ingest_input_set_chunk(in, in->own.data.data, in->own.data.len, in->own.first_line);
    return st;
}

void lr__ingest_input_set_chunk(lr_ingest_input *in, const char *data, size_t len,
                                uint64_t first_line)
{
    if (in->format == LR_INGEST_CSV) {
        lr_csv_reset_mem(in->csv, data, len, first_line);
    } else {
        in->buf = data;
        in->pos = 0;
        in->len = len;
        in->line = first_line;
    }
}

bool lr__ingest_input_chunked(const lr_ingest_input *in)
{
    return in->format == LR_INGEST_CSV || in->format == LR_INGEST_NDJSON;
}

lr_status lr__ingest_input_for_chunks(const lr_ingest_input *in, lr_ingest_input **out,
                                      lr_error *err)
{
    lr_ingest_input *w = calloc(1, sizeof *w);
    lr_status st = LR_OK;

    *out = NULL;
    if (w == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    w->def = in->def;
    w->format = in->format;
    w->worker = true;
    memcpy(w->path, in->path, sizeof w->path);
    w->n_columns = in->n_columns;
    lr_buf_init(&w->raw, LR_INGEST_ROW_MAX + 1);
    lr_buf_init(&w->pending, 0);
    lr_buf_init(&w->own.data, 0);
    w->arena = lr_arena_new(64 * 1024, 64u * 1024 * 1024);
    w->values = calloc(COLUMNS_MAX, sizeof *w->values);
    w->col_feature = calloc(COLUMNS_MAX, sizeof *w->col_feature);
    if (w->arena == NULL || w->values == NULL || w->col_feature == NULL)
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
    if (st == LR_OK) {
        memcpy(w->col_feature, in->col_feature, COLUMNS_MAX * sizeof *w->col_feature);
        if (w->format == LR_INGEST_CSV)
            st = lr_csv_open_mem("", 0, 1, &in->csv_opt, &w->csv, err);
    }
    if (st != LR_OK) {
        lr_ingest_input_close(w);
        return st;
    }
    *out = w;
    return LR_OK;
}

/* ---- values shared by CSV and NDJSON ---- */

/* Formats a JSON number as text: integers exactly, reals in the shortest form that round-trips. */
static const char *json_number_text(lr_arena *a, const json_t *v, size_t *len)
{
    char tmp[40];
    int n;
    if (json_is_integer(v)) {
        n = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        double d = json_real_value(v);
        n = 0;
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    *len = (size_t)n;
    return lr_arena_strndup(a, tmp, (size_t)n);
}

/* Turns a JSON array into list items in the row arena. */
static lr_status json_list_items(lr_ingest_input *in, const json_t *arr, const char *feature,
                                 lr_feature_value *v, lr_error *err)
{
    size_t n = json_array_size(arr);
    lr_str *items = lr_arena_calloc(in->arena, n ? n : 1, sizeof *items);
    if (items == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (json_is_string(e)) {
            items[i].ptr = json_string_value(e);
            items[i].len = json_string_length(e);
            items[i].ptr = lr_arena_strndup(in->arena, items[i].ptr, items[i].len);
        } else if (json_is_number(e)) {
            items[i].ptr = json_number_text(in->arena, e, &items[i].len);
        } else if (json_is_boolean(e)) {
            items[i].ptr = json_is_true(e) ? "true" : "false";
            items[i].len = strlen(items[i].ptr);
        } else {
            return lr_error_set(err, LR_EINVAL,
                                "feature %s: list item %zu must be a string or a number", feature,
                                i);
        }
        if (items[i].ptr == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    v->is_list = true;
    v->items = items;
    v->n_items = (uint32_t)n;
    return LR_OK;
}

/* ---- CSV (records from the tokenizer of csv.h) ---- */

static lr_status map_column(lr_ingest_input *in, const char *name, size_t len, uint32_t col,
                            lr_error *err)
{
    int32_t f = lr_fg_def_find_feature(in->def, name, len);
    if (f < 0)
        return lr_error_set(err, LR_EINVAL,
                            "column '%.*s' is not a feature of %s (columns are matched to "
                            "features by exact name)",
                            (int)(len > 80 ? 80 : len), name, in->def->name);
    for (uint32_t i = 0; i < col; i++) {
        if (in->col_feature[i] == f)
            return lr_error_set(err, LR_EINVAL, "column '%.*s' appears twice",
                                (int)(len > 80 ? 80 : len), name);
    }
    in->col_feature[col] = f;
    return LR_OK;
}

lr_status lr__ingest_check_required(lr_ingest_input *in, lr_error *err)
{
    bool id = false, et = false;
    for (uint32_t i = 0; i < in->n_columns; i++) {
        id |= in->col_feature[i] == (int32_t)in->def->record_id_index;
        et |= in->col_feature[i] == (int32_t)in->def->event_time_index;
    }
    if (!id)
        return lr_error_set(err, LR_EINVAL, "no column for the record identifier feature '%s'",
                            in->def->record_id_name);
    if (!et)
        return lr_error_set(err, LR_EINVAL, "no column for the event time feature '%s'",
                            in->def->event_time_name);
    return LR_OK;
}

static lr_status csv_open(lr_ingest_input *in, lr_error *err)
{
    lr_csv_record rec;
    bool eof;
    lr_status st;

    if ((st = lr__ingest_input_read_chunk(in, &in->own, lr__ingest_chunk_target, err)) != LR_OK)
        return st; /* the message names the file */
    if ((st = lr_csv_open_mem(in->own.data.data ? in->own.data.data : "", in->own.data.len, 1,
                              &in->csv_opt, &in->csv, err)) != LR_OK)
        return st;
    st = lr_csv_next(in->csv, &rec, &eof, err);
    if (st != LR_OK)
        return lr_error_prefix(err, "%s: header", in->path);
    if (eof)
        return lr_error_set(err, LR_EINVAL, "%s: empty file (a CSV header row is required)",
                            in->path);
    if (rec.truncated)
        return lr_error_set(err, LR_EINVAL, "%s: more than %u columns", in->path, COLUMNS_MAX);
    in->n_columns = (uint32_t)rec.n_fields;
    for (uint32_t i = 0; i < in->n_columns; i++) {
        if ((st = map_column(in, rec.fields[i].ptr, rec.fields[i].len, i, err)) != LR_OK)
            return lr_error_prefix(err, "%s: header", in->path);
    }
    if ((st = lr__ingest_check_required(in, err)) != LR_OK)
        return lr_error_prefix(err, "%s", in->path);
    /* The rows after the header go back in front of what is still unread. */
    size_t off = lr_csv_offset(in->csv);
    lr_buf rest;
    lr_buf_init(&rest, 0);
    if (lr_buf_append(&rest, in->own.data.data + off, in->own.data.len - off) != LR_OK ||
        lr_buf_append(&rest, in->pending.data, in->pending.len) != LR_OK) {
        lr_buf_free(&rest);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    lr_buf_free(&in->pending);
    in->pending = rest;
    in->next_line = lr_csv_line(in->csv);
    lr_buf_clear(&in->own.data);
    lr_csv_reset_mem(in->csv, "", 0, in->next_line);
    return LR_OK;
}

static lr_status csv_next(lr_ingest_input *in, lr_record *rec, bool *eof, lr_error *err)
{
    lr_csv_record cr;
    lr_status st;
    for (;;) {
        st = lr_csv_next(in->csv, &cr, eof, err);
        in->row_line = cr.line;
        if (st != LR_OK || !*eof || in->worker)
            break;
        bool got;
        if ((st = next_own_chunk(in, &got, err)) != LR_OK || !got)
            break;
    }
    if (st != LR_OK || *eof)
        return st;
    if (cr.n_fields != in->n_columns || cr.truncated)
        return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": expected %u fields, found %s%zu",
                            in->row_line, in->n_columns, cr.truncated ? "over " : "",
                            cr.n_fields);
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->n_columns; i++) {
        const lr_csv_field *fl = &cr.fields[i];
        if (fl->len == 0 && !fl->quoted)
            continue; /* missing value */
        lr_feature_value *v = &in->values[n++];
        const lr_feature_def *f = &in->def->features[in->col_feature[i]];
        memset(v, 0, sizeof *v);
        v->feature = (uint32_t)in->col_feature[i];
        const char *text = fl->ptr;
        if (f->collection != LR_COLL_NONE) {
            json_error_t je;
            json_t *arr = json_loadb(text, fl->len, JSON_DECODE_ANY, &je);
            if (arr == NULL || !json_is_array(arr)) {
                json_decref(arr);
                return lr_error_set(err, LR_EINVAL,
                                    "line %" PRIu64 ": feature %s: a %s value must be a JSON "
                                    "array such as [\"a\",\"b\"]",
                                    in->row_line, f->name, lr_collection_type_name(f->collection));
            }
            st = json_list_items(in, arr, f->name, v, err);
            json_decref(arr);
            if (st != LR_OK)
                return lr_error_prefix(err, "line %" PRIu64, in->row_line);
        } else {
            v->value.ptr = text;
            v->value.len = fl->len;
        }
    }
    rec->values = in->values;
    rec->n_values = n;
    return LR_OK;
}

/* ---- NDJSON ---- */

static lr_status ndjson_read_line(lr_ingest_input *in, bool *got, lr_error *err)
{
    lr_status st;
    lr_buf_clear(&in->raw);
    *got = false;
    for (;;) {
        if (in->pos == in->len) {
            if (in->raw.len > 0 || in->worker)
                break;
            bool more;
            if ((st = next_own_chunk(in, &more, err)) != LR_OK)
                return st;
            if (!more)
                break;
            in->row_line = in->line;
        }
        const char *p = in->buf + in->pos;
        const char *nl = memchr(p, '\n', in->len - in->pos);
        size_t n = nl ? (size_t)(nl - p) : in->len - in->pos;
        if (in->raw.len + n > LR_INGEST_ROW_MAX)
            return lr_error_set(err, LR_ELIMIT, "line %" PRIu64 ": line longer than %u bytes",
                                in->line, LR_INGEST_ROW_MAX);
        if (lr_buf_append(&in->raw, p, n) != LR_OK)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        in->pos += n;
        if (nl) {
            in->pos++;
            *got = true;
            return LR_OK;
        }
    }
    *got = in->raw.len > 0;
    return LR_OK;
}

static lr_status ndjson_next(lr_ingest_input *in, lr_record *rec, bool *eof, lr_error *err)
{
    bool got;
    lr_status st;
    json_t *obj = NULL;

    for (;;) {
        in->row_line = in->line;
        if ((st = ndjson_read_line(in, &got, err)) != LR_OK)
            return st;
        if (!got) {
            *eof = true;
            return LR_OK;
        }
        in->line++;
        /* Skip blank lines (and a trailing CR); strip a BOM on the first line. */
        size_t len = in->raw.len;
        const char *s = in->raw.data;
        if (in->row_line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        size_t lead = 0;
        while (lead < len && (s[lead] == ' ' || s[lead] == '\t'))
            lead++;
        if (lead == len)
            continue;
        json_error_t je;
        obj = json_loadb(s + lead, len - lead, JSON_REJECT_DUPLICATES, &je);
        if (obj == NULL)
            return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": invalid JSON: %s",
                                in->row_line, je.text);
        break;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": expected a JSON object",
                            in->row_line);
    }
    /* The row's strings must outlive the JSON object: keep it until the next row. */
    json_decref(in->row_json);
    in->row_json = obj;

    uint32_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int32_t fi = lr_fg_def_find_feature(in->def, key, strlen(key));
        if (fi < 0)
            return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": '%.80s' is not a feature of %s",
                                in->row_line, key, in->def->name);
        if (json_is_null(val))
            continue;
        const lr_feature_def *f = &in->def->features[fi];
        lr_feature_value *v = &in->values[n++];
        memset(v, 0, sizeof *v);
        v->feature = (uint32_t)fi;
        if (json_is_array(val)) {
            if ((st = json_list_items(in, val, f->name, v, err)) != LR_OK)
                return lr_error_prefix(err, "line %" PRIu64, in->row_line);
        } else if (json_is_string(val)) {
            v->value.ptr = json_string_value(val);
            v->value.len = json_string_length(val);
        } else if (json_is_number(val)) {
            v->value.ptr = json_number_text(in->arena, val, &v->value.len);
            if (v->value.ptr == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
        } else if (json_is_boolean(val)) {
            v->value.ptr = json_is_true(val) ? "true" : "false";
            v->value.len = strlen(v->value.ptr);
        } else {
            return lr_error_set(err, LR_EINVAL,
                                "line %" PRIu64 ": feature %s: a value must be a string, a "
                                "number or an array",
                                in->row_line, f->name);
        }
    }
    rec->values = in->values;
    rec->n_values = n;
    return LR_OK;
}

/* ---- the public calls ---- */

lr_status lr_ingest_input_open(const char *path, lr_ingest_format format, const lr_fg_def *def,
                               lr_ingest_input **out, lr_error *err)
{
    lr_ingest_input *in;
    lr_status st;

    if (format == LR_INGEST_AUTO)
        format = format_from_name(path);
    if (format == LR_INGEST_AUTO)
        return lr_error_set(err, LR_EINVAL,
                            "%s: cannot tell the format from the name (use --format "
                            "csv|ndjson|parquet)",
                            path);
    in = calloc(1, sizeof *in);
    if (in == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    in->def = def;
    in->format = format;
    in->line = 1;
    in->next_line = 1;
    in->buf = "";
    snprintf(in->path, sizeof in->path, "%s", path);
    lr_buf_init(&in->raw, LR_INGEST_ROW_MAX + 1);
    lr_buf_init(&in->pending, 0);
    lr_buf_init(&in->own.data, 0);
    lr_csv_options_init(&in->csv_opt);
    in->csv_opt.record_max = LR_INGEST_ROW_MAX;
    in->csv_opt.fields_max = COLUMNS_MAX;
    in->arena = lr_arena_new(64 * 1024, 64u * 1024 * 1024);
    in->values = calloc(COLUMNS_MAX, sizeof *in->values);
    in->col_feature = calloc(COLUMNS_MAX, sizeof *in->col_feature);
    if (in->arena == NULL || in->values == NULL || in->col_feature == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    if (format == LR_INGEST_PARQUET) {
        if ((st = lr__ingest_parquet_open(in, err)) != LR_OK)
            goto fail;
        *out = in;
        return LR_OK;
    }
    if ((st = lr__bytesrc_open(path, &in->src, err)) != LR_OK)
        goto fail;
    if (format == LR_INGEST_CSV && (st = csv_open(in, err)) != LR_OK)
        goto fail;
    *out = in;
    return LR_OK;
fail:
    lr_ingest_input_close(in);
    return st;
}

lr_status lr_ingest_input_next(lr_ingest_input *in, lr_record *rec, uint64_t *where, bool *eof,
                               lr_error *err)
{
    lr_status st;
    *eof = false;
    lr_arena_reset(in->arena);
    switch (in->format) {
    case LR_INGEST_CSV: st = csv_next(in, rec, eof, err); break;
    case LR_INGEST_NDJSON: st = ndjson_next(in, rec, eof, err); break;
    case LR_INGEST_PARQUET: st = lr__ingest_parquet_next(in, rec, eof, err); break;
    default: st = lr_error_set(err, LR_EINVAL, "unknown input format"); break;
    }
    *where = in->row_line;
    if (st != LR_OK || *eof)
        return st;
    if ((st = lr_record_validate(in->def, rec, err)) != LR_OK)
        return lr_error_prefix(err, "%s %" PRIu64,
                               in->format == LR_INGEST_PARQUET ? "row" : "line", in->row_line);
    return LR_OK;
}

const char *lr_ingest_input_raw(const lr_ingest_input *in, size_t *len)
{
    if (in->format == LR_INGEST_PARQUET) {
        *len = 0;
        return NULL;
    }
    if (in->format == LR_INGEST_CSV)
        return in->csv ? lr_csv_raw(in->csv, len) : (*len = 0, "");
    *len = in->raw.len;
    return in->raw.data ? in->raw.data : "";
}

uint64_t lr_ingest_input_consumed(const lr_ingest_input *in)
{
    if (in->format == LR_INGEST_PARQUET)
        return lr__ingest_parquet_consumed(in);
    return in->src ? lr__bytesrc_consumed(in->src) : 0;
}

uint64_t lr_ingest_input_size(const lr_ingest_input *in)
{
    if (in->format == LR_INGEST_PARQUET)
        return in->file_size;
    return in->src ? lr__bytesrc_size(in->src) : 0;
}

void lr_ingest_input_close(lr_ingest_input *in)
{
    if (in == NULL)
        return;
    if (in->format == LR_INGEST_PARQUET)
        lr__ingest_parquet_close(in);
    lr__bytesrc_close(in->src);
    lr_csv_close(in->csv);
    json_decref(in->row_json);
    lr_buf_free(&in->raw);
    lr_buf_free(&in->pending);
    lr_buf_free(&in->own.data);
    lr_arena_free(in->arena);
    free(in->values);
    free(in->col_feature);
    free(in);
}
