/*
 * scan.c - reading the offline store: the live files of a feature group
 * (from the catalog), pruned by event time, projected, in batches; and the
 * resolved scan that applies API.md's rule (see lr_offline_scan_open).
 *
 * Files may come from Larder's flusher or from other writers adopted by
 * repair, so values are normalised as they are copied into the scan's own
 * column builders: timestamps of any unit (and INT96) become microseconds,
 * a feature column a file lacks (a feature added after the file was
 * written) reads as nulls.
 *
 * A plain scan streams: one Parquet batch in, the rows in range out. A
 * resolved scan first reads the record identifier, event time and
 * is_deleted of every file in range to find, per record, the latest delete
 * marker; then it loads one hour partition at a time (all rows sharing a
 * record identifier and event time live in one partition, since the
 * partition is the event time's hour), sorts it by (identifier, event time,
 * api_invocation_time desc, write_time desc) and keeps the first row of
 * each (identifier, event time) unless it is a delete marker or an earlier
 * event than the record's latest delete.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/hash.h"
#include "larder/log.h"
#include "offline/offline_internal.h"

#define BATCH_ROWS_DEFAULT 4096
#define MEMORY_MAX_DEFAULT ((size_t)1 << 30)
#define STRING_BYTES_MAX ((size_t)1 << 31)

void lr_offline_scan_options_init(lr_offline_scan_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->start_us = INT64_MIN;
    opt->end_us = INT64_MAX;
    opt->batch_rows = BATCH_ROWS_DEFAULT;
    opt->memory_max = MEMORY_MAX_DEFAULT;
}

/* ---- column builders ---- */

typedef enum conv {
    CONV_NONE = 0,
    CONV_MILLIS, /* timestamp millis -> micros */
    CONV_NANOS,  /* timestamp nanos -> micros */
    CONV_I32,    /* INT32 -> int64 */
    CONV_F32,    /* FLOAT -> double */
} conv;

typedef struct builder {
    lr_offline_ctype type;
    bool list;
    uint8_t *valid;     /* per row */
    uint32_t *loff;     /* list offsets, rows + 1 */
    uint8_t *evalid;    /* per element slot */
    int64_t *i64;
    double *f64;
    uint8_t *b8;
    uint32_t *off;      /* string offsets, slots + 1 */
    lr_buf bytes;
    size_t rows, slots, cap_rows, cap_slots;
    lr_pq_column_batch view;
} builder;

static void builder_init(builder *b, lr_offline_ctype t, bool list)
{
    memset(b, 0, sizeof *b);
    b->type = t;
    b->list = list;
    lr_buf_init(&b->bytes, STRING_BYTES_MAX);
}

static void builder_free(builder *b)
{
    free(b->valid);
    free(b->loff);
    free(b->evalid);
    free(b->i64);
    free(b->f64);
    free(b->b8);
    free(b->off);
    lr_buf_free(&b->bytes);
    memset(b, 0, sizeof *b);
}

static void builder_clear(builder *b)
{
    b->rows = 0;
    b->slots = 0;
    lr_buf_clear(&b->bytes);
}

static size_t builder_mem(const builder *b)
{
    return b->cap_rows * (1 + 4) + b->cap_slots * (1 + 8 + 4) + b->bytes.cap;
}

static bool grow(void **p, size_t elem, size_t n)
{
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return false;
    *p = q;
    return true;
}

static lr_status reserve_rows(builder *b, size_t extra)
{
    if (b->rows + extra + 1 <= b->cap_rows)
        return LR_OK;
    size_t nc = b->cap_rows ? b->cap_rows : 256;
    while (nc < b->rows + extra + 1)
        nc *= 2;
    if (!grow((void **)&b->valid, 1, nc) || (b->list && !grow((void **)&b->loff, 4, nc + 1)))
        return LR_ENOMEM;
    if (b->list && b->cap_rows == 0)
        b->loff[0] = 0;
    b->cap_rows = nc;
    return LR_OK;
}

static lr_status reserve_slots(builder *b, size_t extra)
{
    if (b->slots + extra + 1 <= b->cap_slots)
        return LR_OK;
    size_t nc = b->cap_slots ? b->cap_slots : 256;
    while (nc < b->slots + extra + 1)
        nc *= 2;
    if (b->list && !grow((void **)&b->evalid, 1, nc))
        return LR_ENOMEM;
    switch (b->type) {
    case LR_OFFLINE_INT64:
    case LR_OFFLINE_TIMESTAMP:
        if (!grow((void **)&b->i64, 8, nc))
            return LR_ENOMEM;
        break;
    case LR_OFFLINE_DOUBLE:
        if (!grow((void **)&b->f64, 8, nc))
            return LR_ENOMEM;
        break;
    case LR_OFFLINE_BOOL:
        if (!grow((void **)&b->b8, 1, nc))
            return LR_ENOMEM;
        break;
    case LR_OFFLINE_STRING:
        if (!grow((void **)&b->off, 4, nc + 1))
            return LR_ENOMEM;
        if (b->cap_slots == 0)
            b->off[0] = 0;
        break;
    }
    b->cap_slots = nc;
    return LR_OK;
}

/* Appends one value slot (valid) from slot i of src. */
static lr_status put_slot(builder *b, const lr_pq_column_batch *src, conv cv, uint32_t i,
                          bool present)
{
    lr_status st = reserve_slots(b, 1);
    if (st != LR_OK)
        return st;
    size_t k = b->slots;
    switch (b->type) {
    case LR_OFFLINE_INT64:
    case LR_OFFLINE_TIMESTAMP: {
        int64_t v = 0;
        if (present) {
            if (cv == CONV_I32)
                v = src->i32[i];
            else
                v = src->i64[i];
            if (cv == CONV_MILLIS)
                v = v > INT64_MAX / 1000 ? INT64_MAX : v < INT64_MIN / 1000 ? INT64_MIN : v * 1000;
            else if (cv == CONV_NANOS)
                v = v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1;
        }
        b->i64[k] = v;
        break;
    }
    case LR_OFFLINE_DOUBLE:
        b->f64[k] = present ? (cv == CONV_F32 ? (double)src->f32[i] : src->f64[i]) : 0.0;
        break;
    case LR_OFFLINE_BOOL:
        b->b8[k] = present ? (src->bools[i] ? 1 : 0) : 0;
        break;
    case LR_OFFLINE_STRING:
        if (present) {
            uint32_t a = src->offsets[i], e = src->offsets[i + 1];
            /* An all-empty column may have no byte block at all (bytes NULL). */
            if (e > a && (st = lr_buf_append(&b->bytes, src->bytes + a, e - a)) != LR_OK)
                return st;
        }
        if (b->bytes.len > UINT32_MAX)
            return LR_ELIMIT;
        b->off[k + 1] = (uint32_t)b->bytes.len;
        break;
    }
    b->slots++;
    return LR_OK;
}

/* Appends row r of src (a pq column batch, or another builder's view). */
static lr_status builder_append(builder *b, const lr_pq_column_batch *src, conv cv, uint32_t r)
{
    lr_status st = reserve_rows(b, 1);
    bool valid = src->validity == NULL || src->validity[r];
    if (st != LR_OK)
        return st;
    b->valid[b->rows] = valid ? 1 : 0;
    if (!b->list) {
        st = put_slot(b, src, cv, r, valid);
    } else {
        if (valid) {
            uint32_t a = src->list_offsets[r], e = src->list_offsets[r + 1];
            for (uint32_t i = a; i < e && st == LR_OK; i++) {
                bool ev = src->elem_validity == NULL || src->elem_validity[i];
                st = put_slot(b, src, cv, i, ev);
                if (st == LR_OK)
                    b->evalid[b->slots - 1] = ev ? 1 : 0;
            }
        }
        if (b->slots > UINT32_MAX)
            st = LR_ELIMIT;
        b->loff[b->rows + 1] = (uint32_t)b->slots;
    }
    if (st == LR_OK)
        b->rows++;
    return st;
}

static lr_status builder_append_null(builder *b)
{
    lr_status st = reserve_rows(b, 1);
    if (st != LR_OK)
        return st;
    b->valid[b->rows] = 0;
    if (b->list) {
        b->loff[b->rows + 1] = (uint32_t)b->slots;
    } else {
        st = put_slot(b, NULL, CONV_NONE, 0, false);
        if (st != LR_OK)
            return st;
    }
    b->rows++;
    return LR_OK;
}

static const lr_pq_column_batch *builder_view(builder *b)
{
    lr_pq_column_batch *v = &b->view;
    memset(v, 0, sizeof *v);
    v->validity = b->valid;
    v->list_offsets = b->list ? b->loff : NULL;
    v->elem_validity = b->list ? b->evalid : NULL;
    switch (b->type) {
    case LR_OFFLINE_INT64:
    case LR_OFFLINE_TIMESTAMP:
        v->i64 = b->i64;
        break;
    case LR_OFFLINE_DOUBLE:
        v->f64 = b->f64;
        break;
    case LR_OFFLINE_BOOL:
        v->bools = b->b8;
        break;
    case LR_OFFLINE_STRING:
        v->offsets = b->off;
        v->bytes = (const uint8_t *)b->bytes.data;
        break;
    }
    if (b->type == LR_OFFLINE_STRING && b->off == NULL) {
        static const uint32_t zero = 0;
        v->offsets = &zero;
        v->bytes = (const uint8_t *)"";
    }
    return v;
}

/* ---- schema ---- */

/* The expected type of full-schema column i (features, then the three system columns). */
static void expected_type(const lr_fg_def *def, uint32_t i, lr_offline_ctype *t, bool *list)
{
    uint32_t k = def->n_features;
    *list = false;
    if (i == k || i == k + 1) {
        *t = LR_OFFLINE_TIMESTAMP;
        return;
    }
    if (i == k + 2) {
        *t = LR_OFFLINE_BOOL;
        return;
    }
    const lr_feature_def *f = &def->features[i];
    *list = f->collection != LR_COLL_NONE;
    if (f->collection == LR_COLL_VECTOR || f->type == LR_FT_FRACTIONAL)
        *t = LR_OFFLINE_DOUBLE;
    else if (f->type == LR_FT_INTEGRAL)
        *t = LR_OFFLINE_INT64;
    else
        *t = LR_OFFLINE_STRING;
}

static const char *full_name(const lr_fg_def *def, uint32_t i)
{
    uint32_t k = def->n_features;
    if (i < k)
        return def->features[i].name;
    return i == k ? LR_OFFLINE_COL_WRITE_TIME
                  : i == k + 1 ? LR_OFFLINE_COL_API_TIME : LR_OFFLINE_COL_IS_DELETED;
}

/*
 * Whether a file column can be read as (t, list), and how to convert. Exposed
 * to repair through lr__offline_column_matches (same rule).
 */
static bool column_conv(const lr_pq_column_def *c, lr_offline_ctype t, bool list, conv *cv)
{
    *cv = CONV_NONE;
    if (c->list != list)
        return false;
    switch (t) {
    case LR_OFFLINE_INT64:
        return c->type == LR_PQ_INT64 &&
               (c->logical == LR_PQ_LOGICAL_NONE ||
                (c->logical == LR_PQ_LOGICAL_INT && c->int_bits == 64 && c->int_signed));
    case LR_OFFLINE_DOUBLE:
        return c->type == LR_PQ_DOUBLE && c->logical == LR_PQ_LOGICAL_NONE;
    case LR_OFFLINE_STRING:
        return c->type == LR_PQ_BYTE_ARRAY &&
               (c->logical == LR_PQ_LOGICAL_STRING || c->logical == LR_PQ_LOGICAL_ENUM);
    case LR_OFFLINE_BOOL:
        return c->type == LR_PQ_BOOLEAN;
    case LR_OFFLINE_TIMESTAMP:
        if (c->type == LR_PQ_INT96)
            return true;
        if (c->type != LR_PQ_INT64 || c->logical != LR_PQ_LOGICAL_TIMESTAMP)
            return false;
        *cv = c->unit == LR_PQ_MILLIS ? CONV_MILLIS : c->unit == LR_PQ_NANOS ? CONV_NANOS
                                                                             : CONV_NONE;
        return true;
    }
    return false;
}

bool lr__offline_column_matches(const lr_fg_def *def, uint32_t i, const lr_pq_column_def *c);
bool lr__offline_column_matches(const lr_fg_def *def, uint32_t i, const lr_pq_column_def *c)
{
    lr_offline_ctype t;
    bool list;
    conv cv;
    expected_type(def, i, &t, &list);
    return column_conv(c, t, list, &cv);
}

static const char *ctype_name(lr_offline_ctype t, bool list)
{
    static const char *n[] = {"?", "bigint", "double", "string", "timestamp", "boolean"};
    static const char *l[] = {"?", "array<bigint>", "array<double>", "array<string>",
                              "array<timestamp>", "array<boolean>"};
    return list ? l[t] : n[t];
}

/* ---- the scan ---- */

typedef struct readcol {
    uint32_t full;    /* index in the full schema */
    int32_t file_col; /* index in the current file, -1: absent (nulls) */
    conv cv;
    builder *dst;     /* plain scans: the output builder (NULL: read for filtering only) */
} readcol;

/* Per-row keys of a resolved partition. */
typedef struct rowkey {
    uint32_t id_off, id_len; /* into keys bytes */
    int64_t et, api, wt;
    bool deleted;
    bool et_ok;
} rowkey;

struct lr_offline_scan {
    lr_catalog *cat;
    lr_fg_def *def;
    lr_offline_scan_options opt;
    uint32_t nfull;

    lr_offline_column *cols; /* output */
    uint32_t *out_full;      /* output column -> full index */
    uint32_t ncols;
    builder *out;
    lr_pq_column_batch *outv;
    lr_offline_batch batch;

    readcol *rc; /* what to read from each file */
    uint32_t nrc;
    int32_t rc_id, rc_et, rc_wt, rc_api, rc_del; /* positions in rc[], -1 when not read */

    lr_offline_file_list files;
    size_t next_file;
    lr_objstore *os;
    char *os_root;
    lr_pq_source src;
    lr_pq_reader *rd;
    lr_pq_scan *ps;
    uint32_t *proj;
    int32_t *proj_pos; /* rc index -> position in the pq batch, -1: absent */
    bool whole_file;   /* every row of the file is in range */
    const char *cur_key;

    /* resolved */
    bool prepared;
    char **del_ids; /* record id key -> latest delete event time */
    int64_t *del_et;
    size_t del_cap, del_n;
    builder *table; /* one per rc: the partition's rows */
    rowkey *keys;
    lr_buf keybytes;
    size_t nkeys, capkeys;
    uint32_t *order;
    size_t norder, emit_pos;
    bool done;
};

static void close_file(lr_offline_scan *s)
{
    lr_pq_scan_free(s->ps);
    s->ps = NULL;
    lr_pq_reader_free(s->rd);
    s->rd = NULL;
    lr__pq_source_objstore_free(&s->src);
    free(s->proj);
    s->proj = NULL;
    free(s->proj_pos);
    s->proj_pos = NULL;
}

void lr_offline_scan_free(lr_offline_scan *s)
{
    if (s == NULL)
        return;
    close_file(s);
    lr_objstore_close(s->os);
    free(s->os_root);
    for (uint32_t i = 0; i < s->ncols; i++)
        builder_free(&s->out[i]);
    if (s->table != NULL) {
        for (uint32_t i = 0; i < s->nrc; i++)
            builder_free(&s->table[i]);
    }
    free(s->table);
    free(s->out);
    free(s->outv);
    free(s->cols);
    free(s->out_full);
    free(s->rc);
    for (size_t i = 0; i < s->del_cap; i++)
        free(s->del_ids ? s->del_ids[i] : NULL);
    free(s->del_ids);
    free(s->del_et);
    free(s->keys);
    lr_buf_free(&s->keybytes);
    free(s->order);
    lr_offline_file_list_free(&s->files);
    lr_fg_def_free(s->def);
    free(s);
}

const lr_offline_column *lr_offline_scan_columns(const lr_offline_scan *s, uint32_t *n)
{
    *n = s->ncols;
    return s->cols;
}

static int32_t add_read(lr_offline_scan *s, uint32_t full)
{
    for (uint32_t i = 0; i < s->nrc; i++)
        if (s->rc[i].full == full)
            return (int32_t)i;
    s->rc[s->nrc].full = full;
    s->rc[s->nrc].file_col = -1;
    s->rc[s->nrc].dst = NULL;
    return (int32_t)s->nrc++;
}

lr_status lr_offline_scan_open(lr_catalog *cat, const char *fg, const lr_offline_scan_options *opt,
                               lr_offline_scan **out, lr_error *err)
{
    lr_offline_scan *s;
    lr_status st;
    uint32_t k;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    s->cat = cat;
    if (opt != NULL)
        s->opt = *opt;
    else
        lr_offline_scan_options_init(&s->opt);
    if (s->opt.batch_rows == 0)
        s->opt.batch_rows = BATCH_ROWS_DEFAULT;
    if (s->opt.memory_max == 0)
        s->opt.memory_max = MEMORY_MAX_DEFAULT;
    lr_buf_init(&s->keybytes, STRING_BYTES_MAX);
    if (s->opt.start_us >= s->opt.end_us) {
        st = lr_error_set(err, LR_EINVAL, "the scan's start must be before its end");
        goto fail;
    }
    st = lr__offline_group(cat, fg, &s->def, err);
    if (st != LR_OK)
        goto fail;
    k = s->def->n_features;
    s->nfull = k + 3;
    s->ncols = s->opt.columns ? s->opt.n_columns : s->nfull;
    if (s->ncols == 0 || s->ncols > s->nfull) {
        st = lr_error_set(err, LR_EINVAL, "a scan reads 1..%u columns", s->nfull);
        goto fail;
    }
    s->cols = calloc(s->ncols, sizeof *s->cols);
    s->out_full = calloc(s->ncols, sizeof *s->out_full);
    s->out = calloc(s->ncols, sizeof *s->out);
    s->outv = calloc(s->ncols, sizeof *s->outv);
    s->rc = calloc(s->nfull, sizeof *s->rc);
    if (!s->cols || !s->out_full || !s->out || !s->outv || !s->rc) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < s->ncols; i++) {
        uint32_t full = i;
        if (s->opt.columns != NULL) {
            const char *name = s->opt.columns[i];
            full = UINT32_MAX;
            for (uint32_t j = 0; j < s->nfull && name; j++)
                if (strcmp(full_name(s->def, j), name) == 0)
                    full = j;
            if (full == UINT32_MAX) {
                st = lr_error_set(err, LR_EINVAL, "feature group %s has no column '%s'", fg,
                                  name ? name : "");
                goto fail;
            }
            for (uint32_t j = 0; j < i; j++)
                if (s->out_full[j] == full) {
                    st = lr_error_set(err, LR_EINVAL, "column '%s' is asked for twice", name);
                    goto fail;
                }
        }
        s->out_full[i] = full;
        s->cols[i].name = full_name(s->def, full);
        expected_type(s->def, full, &s->cols[i].type, &s->cols[i].list);
        builder_init(&s->out[i], s->cols[i].type, s->cols[i].list);
    }
    /* Read the output columns, then what filtering and resolution need. */
    for (uint32_t i = 0; i < s->ncols; i++) {
        int32_t r = add_read(s, s->out_full[i]);
        s->rc[r].dst = &s->out[i];
    }
    s->rc_id = s->rc_wt = s->rc_api = s->rc_del = -1;
    s->rc_et = add_read(s, s->def->event_time_index);
    if (s->opt.resolved) {
        s->rc_id = add_read(s, s->def->record_id_index);
        s->rc_wt = add_read(s, k);
        s->rc_api = add_read(s, k + 1);
        s->rc_del = add_read(s, k + 2);
        s->table = calloc(s->nrc, sizeof *s->table);
        if (s->table == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < s->nrc; i++) {
            lr_offline_ctype t;
            bool list;
            expected_type(s->def, s->rc[i].full, &t, &list);
            builder_init(&s->table[i], t, list);
        }
    }
    st = lr_catalog_offline_files(cat, s->def->name, s->def->creation_time_us, s->opt.start_us,
                                  s->opt.end_us, &s->files, err);
    if (st != LR_OK)
        goto fail;
    *out = s;
    return LR_OK;
fail:
    lr_offline_scan_free(s);
    return st;
}

/* The event time of row r of a batch, from the event-time column (ISO string or epoch seconds). */
static bool row_event_time(const lr_offline_scan *s, const lr_pq_column_batch *et, uint32_t r,
                           int64_t *us)
{
    const lr_feature_def *f = &s->def->features[s->def->event_time_index];
    if (et->validity != NULL && !et->validity[r])
        return false;
    if (f->type == LR_FT_STRING) {
        uint32_t a = et->offsets[r], e = et->offsets[r + 1];
        return lr_time_parse_iso8601((const char *)et->bytes + a, e - a, us, NULL) == LR_OK;
    }
    double d = et->f64[r];
    if (!isfinite(d))
        return false;
    double x = d * 1e6;
    if (x < (double)LR_TIME_MIN_US || x > (double)LR_TIME_MAX_US)
        return false;
    *us = (int64_t)llround(x);
    return true;
}

static bool in_range(const lr_offline_scan *s, bool ok, int64_t us)
{
    if (!ok)
        return s->opt.start_us == INT64_MIN && s->opt.end_us == INT64_MAX;
    return us >= s->opt.start_us && us < s->opt.end_us;
}

/* Opens the next file; false at the end. */
static lr_status open_next_file(lr_offline_scan *s, bool *have, lr_error *err)
{
    lr_status st;
    *have = false;
    close_file(s);
    if (s->next_file >= s->files.n)
        return LR_OK;
    const lr_offline_file *f = &s->files.items[s->next_file++];
    s->cur_key = f->key;
    if (s->os_root == NULL || strcmp(s->os_root, f->root) != 0) {
        lr_objstore_close(s->os);
        s->os = NULL;
        free(s->os_root);
        s->os_root = strdup(f->root);
        if (s->os_root == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        st = lr__offline_objstore_open(f->root, s->def->name, &s->os, err);
        if (st != LR_OK)
            return st;
    }
    st = lr__pq_source_objstore(s->os, f->key, &s->src, err);
    if (st == LR_ENOTFOUND)
        return lr_error_set(err, LR_EIO,
                            "%s/%s is in the catalog but not in storage (run 'larder repair %s')",
                            f->root, f->key, s->def->name);
    if (st == LR_OK)
        st = lr_pq_reader_open(&s->src, &s->rd, err);
    if (st != LR_OK) {
        if (err != NULL)
            lr_error_prefix(err, "%s/%s", f->root, f->key);
        return st;
    }
    s->proj = calloc(s->nrc, sizeof *s->proj);
    s->proj_pos = calloc(s->nrc, sizeof *s->proj_pos);
    if (s->proj == NULL || s->proj_pos == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    uint32_t np = 0;
    for (uint32_t i = 0; i < s->nrc; i++) {
        readcol *c = &s->rc[i];
        const char *name = full_name(s->def, c->full);
        int32_t fc = lr_pq_reader_find_column(s->rd, name);
        lr_offline_ctype t;
        bool list;
        expected_type(s->def, c->full, &t, &list);
        c->file_col = fc;
        s->proj_pos[i] = -1;
        if (fc < 0) {
            if (c->full >= s->def->n_features || c->full == s->def->record_id_index ||
                c->full == s->def->event_time_index)
                return lr_error_set(err, LR_ECORRUPT, "%s/%s has no column %s", f->root, f->key,
                                    name);
            continue; /* a feature added after this file was written: nulls */
        }
        if (!column_conv(lr_pq_reader_column(s->rd, (uint32_t)fc), t, list, &c->cv))
            return lr_error_set(err, LR_ECORRUPT, "%s/%s: column %s is not %s", f->root, f->key,
                                name, ctype_name(t, list));
        s->proj[np] = (uint32_t)fc;
        s->proj_pos[i] = (int32_t)np++;
    }
    lr_pq_scan_options po;
    memset(&po, 0, sizeof po);
    po.columns = s->proj;
    po.n_columns = np;
    po.batch_rows = s->opt.batch_rows;
    st = lr_pq_scan_open(s->rd, &po, &s->ps, err);
    if (st != LR_OK) {
        if (err != NULL)
            lr_error_prefix(err, "%s/%s", f->root, f->key);
        return st;
    }
    s->whole_file = f->min_event_us >= s->opt.start_us && f->max_event_us < s->opt.end_us;
    *have = true;
    return LR_OK;
}

/* Copies row r of a pq batch into the builders of rc (dst or table). */
static lr_status copy_row(lr_offline_scan *s, const lr_pq_batch *pb, uint32_t r, bool to_table)
{
    lr_status st = LR_OK;
    for (uint32_t i = 0; i < s->nrc && st == LR_OK; i++) {
        builder *b = to_table ? &s->table[i] : s->rc[i].dst;
        if (b == NULL)
            continue;
        if (s->proj_pos[i] < 0)
            st = builder_append_null(b);
        else
            st = builder_append(b, &pb->columns[s->proj_pos[i]], s->rc[i].cv, r);
    }
    return st;
}

static void emit(lr_offline_scan *s, const lr_offline_batch **out)
{
    for (uint32_t i = 0; i < s->ncols; i++)
        s->outv[i] = *builder_view(&s->out[i]);
    s->batch.n_rows = (uint32_t)s->out[0].rows;
    s->batch.n_columns = s->ncols;
    s->batch.columns = s->outv;
    *out = &s->batch;
}

static void clear_out(lr_offline_scan *s)
{
    for (uint32_t i = 0; i < s->ncols; i++)
        builder_clear(&s->out[i]);
}

static lr_status oom(lr_error *err, lr_status st)
{
    return lr_error_set(err, st, "scan: %s", st == LR_ELIMIT ? "a batch is too large"
                                                             : "out of memory");
}

static lr_status plain_next(lr_offline_scan *s, const lr_offline_batch **out, lr_error *err)
{
    lr_status st;
    clear_out(s);
    for (;;) {
        if (s->ps == NULL) {
            bool have;
            st = open_next_file(s, &have, err);
            if (st != LR_OK)
                return st;
            if (!have) {
                *out = NULL;
                return LR_OK;
            }
        }
        const lr_pq_batch *pb = NULL;
        st = lr_pq_scan_next(s->ps, &pb, err);
        if (st != LR_OK) {
            if (err != NULL)
                lr_error_prefix(err, "%s/%s", s->os_root, s->cur_key);
            return st;
        }
        if (pb == NULL) {
            close_file(s);
            continue;
        }
        const lr_pq_column_batch *et = &pb->columns[s->proj_pos[s->rc_et]];
        for (uint32_t r = 0; r < pb->n_rows; r++) {
            if (!s->whole_file) {
                int64_t us = 0;
                bool ok = row_event_time(s, et, r, &us);
                if (!in_range(s, ok, us))
                    continue;
            }
            st = copy_row(s, pb, r, false);
            if (st != LR_OK)
                return oom(err, st);
        }
        if (s->out[0].rows > 0) {
            emit(s, out);
            return LR_OK;
        }
    }
}

/* ---- resolved ---- */

/* The identifier of row r as comparable bytes (Integral: sign-flipped big-endian). */
static void id_bytes(const lr_offline_scan *s, const lr_pq_column_batch *c, uint32_t r,
                     const uint8_t **p, uint32_t *n, uint8_t tmp[8])
{
    if (s->def->features[s->def->record_id_index].type == LR_FT_INTEGRAL) {
        uint64_t v = (uint64_t)c->i64[r] ^ (1ULL << 63);
        for (int i = 0; i < 8; i++)
            tmp[i] = (uint8_t)(v >> (56 - 8 * i));
        *p = tmp;
        *n = 8;
        return;
    }
    *p = c->bytes + c->offsets[r];
    *n = c->offsets[r + 1] - c->offsets[r];
}

/* Map keys are stored as a 4-byte length then the bytes. */
static lr_status del_put(lr_offline_scan *s, const uint8_t *p, uint32_t n, int64_t et)
{
    if ((s->del_n + 1) * 2 > s->del_cap) {
        size_t nc = s->del_cap ? s->del_cap * 2 : 256;
        char **ni = calloc(nc, sizeof *ni);
        int64_t *ne = calloc(nc, sizeof *ne);
        if (ni == NULL || ne == NULL) {
            free(ni);
            free(ne);
            return LR_ENOMEM;
        }
        for (size_t i = 0; i < s->del_cap; i++) {
            if (s->del_ids[i] == NULL)
                continue;
            uint32_t l;
            memcpy(&l, s->del_ids[i], 4);
            size_t h = lr_hash_bytes((const uint8_t *)s->del_ids[i] + 4, l, 0) & (nc - 1);
            while (ni[h])
                h = (h + 1) & (nc - 1);
            ni[h] = s->del_ids[i];
            ne[h] = s->del_et[i];
        }
        free(s->del_ids);
        free(s->del_et);
        s->del_ids = ni;
        s->del_et = ne;
        s->del_cap = nc;
    }
    size_t h = lr_hash_bytes(p, n, 0) & (s->del_cap - 1);
    while (s->del_ids[h]) {
        uint32_t l;
        memcpy(&l, s->del_ids[h], 4);
        if (l == n && memcmp(s->del_ids[h] + 4, p, n) == 0) {
            if (et > s->del_et[h])
                s->del_et[h] = et;
            return LR_OK;
        }
        h = (h + 1) & (s->del_cap - 1);
    }
    char *k = malloc((size_t)n + 4);
    if (k == NULL)
        return LR_ENOMEM;
    memcpy(k, &n, 4);
    memcpy(k + 4, p, n);
    s->del_ids[h] = k;
    s->del_et[h] = et;
    s->del_n++;
    return LR_OK;
}

static bool del_get(const lr_offline_scan *s, const uint8_t *p, uint32_t n, int64_t *et)
{
    if (s->del_cap == 0)
        return false;
    size_t h = lr_hash_bytes(p, n, 0) & (s->del_cap - 1);
    while (s->del_ids[h]) {
        uint32_t l;
        memcpy(&l, s->del_ids[h], 4);
        if (l == n && memcmp(s->del_ids[h] + 4, p, n) == 0) {
            *et = s->del_et[h];
            return true;
        }
        h = (h + 1) & (s->del_cap - 1);
    }
    return false;
}

/* Pass 1: the latest delete marker of each record in range. */
static lr_status prepare_deletes(lr_offline_scan *s, lr_error *err)
{
    lr_status st = LR_OK;
    bool have = true;
    size_t saved = s->next_file;

    while (st == LR_OK) {
        if (s->ps == NULL) {
            st = open_next_file(s, &have, err);
            if (st != LR_OK || !have)
                break;
        }
        const lr_pq_batch *pb = NULL;
        st = lr_pq_scan_next(s->ps, &pb, err);
        if (st != LR_OK)
            break;
        if (pb == NULL) {
            close_file(s);
            continue;
        }
        const lr_pq_column_batch *et = &pb->columns[s->proj_pos[s->rc_et]];
        const lr_pq_column_batch *id = &pb->columns[s->proj_pos[s->rc_id]];
        const lr_pq_column_batch *del = &pb->columns[s->proj_pos[s->rc_del]];
        for (uint32_t r = 0; r < pb->n_rows && st == LR_OK; r++) {
            if (!(del->validity == NULL || del->validity[r]) || !del->bools[r])
                continue;
            if (id->validity != NULL && !id->validity[r])
                continue;
            int64_t us = 0;
            bool ok = row_event_time(s, et, r, &us);
            if (!ok || !in_range(s, ok, us))
                continue;
            const uint8_t *p;
            uint32_t n;
            uint8_t tmp[8];
            id_bytes(s, id, r, &p, &n, tmp);
            st = del_put(s, p, n, us);
            if (st != LR_OK)
                st = oom(err, st);
        }
    }
    close_file(s);
    s->next_file = saved;
    return st;
}

static int key_cmp(const void *pa, const void *pb, void *arg)
{
    const lr_offline_scan *sc = arg;
    const rowkey *a = &sc->keys[*(const uint32_t *)pa];
    const rowkey *b = &sc->keys[*(const uint32_t *)pb];
    const uint8_t *kb = (const uint8_t *)sc->keybytes.data;
    uint32_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c = memcmp(kb + a->id_off, kb + b->id_off, n);
    if (c != 0)
        return c;
    if (a->id_len != b->id_len)
        return a->id_len < b->id_len ? -1 : 1;
    if (a->et != b->et)
        return a->et < b->et ? -1 : 1;
    /* Latest api_invocation_time first, then latest write_time. */
    if (a->api != b->api)
        return a->api > b->api ? -1 : 1;
    if (a->wt != b->wt)
        return a->wt > b->wt ? -1 : 1;
    return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static size_t table_mem(const lr_offline_scan *s)
{
    size_t m = s->capkeys * sizeof(rowkey) + s->keybytes.cap;
    for (uint32_t i = 0; i < s->nrc; i++)
        m += builder_mem(&s->table[i]);
    return m;
}

/* Loads the next partition's rows in range into the table and sorts them. */
static lr_status load_partition(lr_offline_scan *s, bool *have, lr_error *err)
{
    lr_status st = LR_OK;
    *have = false;
    for (uint32_t i = 0; i < s->nrc; i++)
        builder_clear(&s->table[i]);
    lr_buf_clear(&s->keybytes);
    s->nkeys = 0;
    s->norder = s->emit_pos = 0;
    if (s->next_file >= s->files.n)
        return LR_OK;
    const char *part = s->files.items[s->next_file].partition;
    int64_t part_start = s->files.items[s->next_file].partition_start_us;
    while (s->next_file < s->files.n &&
           s->files.items[s->next_file].partition_start_us == part_start &&
           strcmp(s->files.items[s->next_file].partition, part) == 0) {
        bool open;
        st = open_next_file(s, &open, err);
        if (st != LR_OK)
            return st;
        for (;;) {
            const lr_pq_batch *pb = NULL;
            st = lr_pq_scan_next(s->ps, &pb, err);
            if (st != LR_OK) {
                if (err != NULL)
                    lr_error_prefix(err, "%s/%s", s->os_root, s->cur_key);
                return st;
            }
            if (pb == NULL)
                break;
            const lr_pq_column_batch *et = &pb->columns[s->proj_pos[s->rc_et]];
            const lr_pq_column_batch *id = &pb->columns[s->proj_pos[s->rc_id]];
            const lr_pq_column_batch *wt =
                s->proj_pos[s->rc_wt] >= 0 ? &pb->columns[s->proj_pos[s->rc_wt]] : NULL;
            const lr_pq_column_batch *api =
                s->proj_pos[s->rc_api] >= 0 ? &pb->columns[s->proj_pos[s->rc_api]] : NULL;
            const lr_pq_column_batch *del = &pb->columns[s->proj_pos[s->rc_del]];
            for (uint32_t r = 0; r < pb->n_rows; r++) {
                int64_t us = 0;
                bool ok = row_event_time(s, et, r, &us);
                if (!in_range(s, ok, us) || (id->validity != NULL && !id->validity[r]))
                    continue;
                if (s->nkeys == s->capkeys) {
                    size_t nc = s->capkeys ? s->capkeys * 2 : 1024;
                    rowkey *nk = realloc(s->keys, nc * sizeof *nk);
                    if (nk == NULL)
                        return oom(err, LR_ENOMEM);
                    s->keys = nk;
                    s->capkeys = nc;
                }
                rowkey *k = &s->keys[s->nkeys];
                const uint8_t *p;
                uint32_t n;
                uint8_t tmp[8];
                id_bytes(s, id, r, &p, &n, tmp);
                k->id_off = (uint32_t)s->keybytes.len;
                k->id_len = n;
                st = lr_buf_append(&s->keybytes, p, n);
                if (st == LR_OK && s->keybytes.len > UINT32_MAX)
                    st = LR_ELIMIT;
                if (st != LR_OK)
                    return oom(err, st);
                k->et = us;
                k->et_ok = ok;
                /* A time column that is null sorts as the oldest. */
                k->wt = wt && (wt->validity == NULL || wt->validity[r]) ? 0 : INT64_MIN;
                k->api = api && (api->validity == NULL || api->validity[r]) ? 0 : INT64_MIN;
                k->deleted = (del->validity == NULL || del->validity[r]) && del->bools[r];
                st = copy_row(s, pb, r, true);
                if (st != LR_OK)
                    return oom(err, st);
                /* Normalised (micros) values come from the table's builders. */
                if (k->wt == 0)
                    k->wt = s->table[s->rc_wt].i64[s->table[s->rc_wt].slots - 1];
                if (k->api == 0)
                    k->api = s->table[s->rc_api].i64[s->table[s->rc_api].slots - 1];
                s->nkeys++;
                if ((s->nkeys & 1023) == 0 && table_mem(s) > s->opt.memory_max)
                    return lr_error_set(err, LR_ELIMIT,
                                        "resolving partition %s of %s needs more than %zu bytes "
                                        "of memory (raise the limit or narrow the range)",
                                        part, s->def->name, s->opt.memory_max);
            }
        }
        close_file(s);
    }
    free(s->order);
    s->order = malloc((s->nkeys ? s->nkeys : 1) * sizeof *s->order);
    if (s->order == NULL)
        return oom(err, LR_ENOMEM);
    for (size_t i = 0; i < s->nkeys; i++)
        s->order[i] = (uint32_t)i;
    qsort_r(s->order, s->nkeys, sizeof *s->order, key_cmp, s);
    /* Keep the first row of each (id, event time) unless deleted or hidden. */
    const uint8_t *kb = (const uint8_t *)s->keybytes.data;
    size_t w = 0;
    for (size_t i = 0; i < s->nkeys; i++) {
        const rowkey *k = &s->keys[s->order[i]];
        if (i > 0) {
            const rowkey *p = &s->keys[s->order[i - 1]];
            if (p->et == k->et && p->id_len == k->id_len &&
                memcmp(kb + p->id_off, kb + k->id_off, k->id_len) == 0)
                continue;
        }
        if (k->deleted)
            continue;
        int64_t del_et;
        if (del_get(s, kb + k->id_off, k->id_len, &del_et) && del_et > k->et)
            continue;
        s->order[w++] = s->order[i];
    }
    s->norder = w;
    *have = true;
    return LR_OK;
}

static lr_status resolved_next(lr_offline_scan *s, const lr_offline_batch **out, lr_error *err)
{
    lr_status st;
    if (!s->prepared) {
        st = prepare_deletes(s, err);
        if (st != LR_OK)
            return st;
        s->prepared = true;
    }
    clear_out(s);
    for (;;) {
        if (s->emit_pos < s->norder) {
            while (s->emit_pos < s->norder && s->out[0].rows < s->opt.batch_rows) {
                uint32_t r = s->order[s->emit_pos++];
                for (uint32_t i = 0; i < s->ncols; i++) {
                    /* out[i] reads from the table column that holds the same full column */
                    uint32_t t = 0;
                    while (s->rc[t].full != s->out_full[i])
                        t++;
                    st = builder_append(&s->out[i], builder_view(&s->table[t]), CONV_NONE, r);
                    if (st != LR_OK)
                        return oom(err, st);
                }
            }
            emit(s, out);
            return LR_OK;
        }
        bool have;
        st = load_partition(s, &have, err);
        if (st != LR_OK)
            return st;
        if (!have) {
            *out = NULL;
            return LR_OK;
        }
    }
}

lr_status lr_offline_scan_next(lr_offline_scan *s, const lr_offline_batch **out, lr_error *err)
{
    lr_status st;
    *out = NULL;
    if (s->done)
        return LR_OK;
    st = s->opt.resolved ? resolved_next(s, out, err) : plain_next(s, out, err);
    if (st != LR_OK || *out == NULL) {
        s->done = true;
        close_file(s);
    }
    return st;
}
