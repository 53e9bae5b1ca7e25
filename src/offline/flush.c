/*
 * flush.c - the flusher: from write-ahead-log entries to hourly Parquet
 * files registered in the catalog, and the adoption of logs whose process
 * died.
 *
 * Design. A log is flushed in chunks. A chunk is the entries
 * (checkpoint, end] of one log, read back from its segments (so a live
 * flush and a replay after a crash are the same code), grouped into buckets
 * by feature-group generation (name and creation time) and event-time hour.
 * Each bucket becomes one Parquet file, and the chunk is published by a
 * three-step protocol:
 *
 *   1. announce: one catalog transaction records the keys of the files about
 *      to be written, so that garbage collection can recognise them as
 *      Larder's leftovers if the flush never completes;
 *   2. write: every file goes into an object-store batch (one per offline
 *      root), and the batches are committed once all are written, so the
 *      files become durable and visible together and the cost of
 *      durability is paid per flush, not per file (two syncfs calls on
 *      Linux instead of two fsyncs or more per file);
 *   3. commit: one catalog transaction moves the log's checkpoint from the
 *      value read at the start (compare-and-set) to `end`, registers every
 *      file and withdraws the announcements.
 *
 * A crash before 3 leaves files nobody lists (invisible, collected after
 * the grace period) and a checkpoint that did not move (the entries replay).
 * A crash after 3 leaves segments that the next flush deletes. The
 * compare-and-set makes registration idempotent: a range registered once
 * cannot be registered again, however many processes replay it. A commit
 * that fails with an unknown outcome never deletes files: a file is removed
 * only after its announcement was withdrawn, which is impossible once it is
 * registered.
 *
 * Numeric scalars are in the log as the numbers validation parsed; strings,
 * list items and the values of older logs are the strings PutRecord
 * accepted (already validated), parsed here into typed columns. A value
 * that no longer parses (it cannot happen unless the log was edited) is
 * written as null with a warning rather than blocking the log forever.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "larder/hash.h"
#include "larder/arena.h"
#include "larder/log.h"
#include "larder/value.h"
#include "offline/entry.h"
#include "offline/offline_internal.h"

/* Parquet files of one flush never exceed this (a chunk is about flush_bytes of log). */
#define FILE_MAX ((size_t)4 << 30)
#define CHUNK_MIN ((uint64_t)1 << 20)

/* ---- schemas of a log ---- */

typedef struct schema_slot {
    uint32_t id;
    lr_fg_def *def;
    size_t gen; /* index into generations */
} schema_slot;

typedef struct generation {
    const char *name;
    int64_t created_us;
    const lr_fg_def *latest; /* the newest version the log holds */
} generation;

typedef struct schemas {
    schema_slot *slots; /* by id - 1 */
    size_t n;
    generation *gens;
    size_t n_gens;
} schemas;

static void schemas_free(schemas *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        lr_fg_def_free(sc->slots[i].def);
    free(sc->slots);
    free(sc->gens);
    memset(sc, 0, sizeof *sc);
}

/* Adds schema `id` (the next one), taking `def`. */
static lr_status schema_insert(schemas *sc, uint32_t id, lr_fg_def *def, lr_error *err)
{
    size_t g;

    if (id != sc->n + 1) {
        lr_fg_def_free(def);
        return lr_error_set(err, LR_ECORRUPT, "log schemas out of order (%u after %zu)", id,
                            sc->n);
    }
    schema_slot *ns = realloc(sc->slots, (sc->n + 1) * sizeof *ns);
    if (ns == NULL) {
        lr_fg_def_free(def);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    sc->slots = ns;
    for (g = 0; g < sc->n_gens; g++) {
        if (sc->gens[g].created_us == def->creation_time_us &&
            strcmp(sc->gens[g].name, def->name) == 0)
            break;
    }
    if (g == sc->n_gens) {
        generation *ng = realloc(sc->gens, (sc->n_gens + 1) * sizeof *ng);
        if (ng == NULL) {
            lr_fg_def_free(def);
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        }
        sc->gens = ng;
        sc->gens[g].name = def->name;
        sc->gens[g].created_us = def->creation_time_us;
        sc->gens[g].latest = def;
        sc->n_gens++;
    } else if (def->last_modified_time_us >= sc->gens[g].latest->last_modified_time_us &&
               def->n_features >= sc->gens[g].latest->n_features) {
        sc->gens[g].latest = def;
    }
    sc->slots[sc->n].id = id;
    sc->slots[sc->n].def = def;
    sc->slots[sc->n].gen = g;
    sc->n++;
    return LR_OK;
}

static lr_status schema_add(void *arg, uint32_t id, const void *data, size_t len, lr_error *err)
{
    lr_fg_def *def = NULL;
    lr_status st = lr__entry_decode_schema(data, len, &def, err);
    if (st != LR_OK)
        return st;
    return schema_insert(arg, id, def, err);
}

/* ---- buckets ---- */

/*
 * Reading the log, each entry's payload is appended to its bucket's own
 * blocks (one sequential stream per bucket: rows of one hour are rarely
 * adjacent in the log, and decoding them there would scatter every row's
 * values over a dozen columns of hundreds of files). Writing a file then
 * decodes its bucket's payloads, in order, straight into the typed columns
 * of the file (the shape lr_pq_writer_write_batch() takes), on as many
 * threads as the flush has. A column holds one slot per row (a null:
 * validity 0 and a zero or empty value), or for list columns one slot per
 * element.
 */
enum { COL_I64, COL_F64, COL_STR, COL_BOOL };

typedef struct colbuf {
    uint8_t kind;        /* COL_* */
    bool list;
    lr_feature_type type; /* the feature's type as written (Vector: Fractional) */
    lr_buf validity;     /* one byte per row */
    lr_buf vals;         /* COL_I64/COL_F64: 8 bytes per slot; COL_BOOL: 1 byte */
    lr_buf offsets;      /* COL_STR: u32 per slot, after a leading 0 */
    lr_buf bytes;        /* COL_STR */
    lr_buf list_offsets; /* lists: u32 per row, after a leading 0 */
} colbuf;

/*
 * A bucket's entries, each a u32 length and the log entry's payload, in
 * blocks filled in order. Blocks double from PBLOCK_MIN up to PBLOCK_MAX (an
 * entry larger than that gets a block of its own), so nothing is copied as
 * a bucket grows and a small bucket takes little memory.
 */
typedef struct pblock {
    struct pblock *next;
    size_t len, cap;
    unsigned char data[];
} pblock;

#define PBLOCK_MIN (4u << 10)
#define PBLOCK_MAX (256u << 10)

typedef struct bucket {
    size_t gen;
    int64_t hour_us;
    const lr_fg_def *def; /* the file's columns: its generation's newest definition (publish) */
    pblock *first, *last; /* the entries */
    uint32_t n;           /* rows */
    int64_t min_et, max_et;
    char key[LR_OFFLINE_KEY_MAX];
    char partition[LR_OFFLINE_PARTITION_MAX];
    int64_t rows_written, bytes;
} bucket;

typedef struct chunk {
    bucket *b;
    size_t nb, capb;
    size_t *index; /* open addressing over (gen, hour): bucket index + 1 */
    size_t index_cap;
    uint64_t first_seq, last_seq;
    uint64_t entries;
    uint64_t bytes; /* payload bytes added: the chunk's size */
} chunk;

static lr_status index_grow(chunk *c, lr_error *err)
{
    size_t nc = c->index_cap ? c->index_cap * 2 : 64;
    size_t *ni = calloc(nc, sizeof *ni);
    if (ni == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->nb; i++) {
        size_t h = lr_mix64((uint64_t)c->b[i].hour_us * 31 + c->b[i].gen) & (nc - 1);
        while (ni[h])
            h = (h + 1) & (nc - 1);
        ni[h] = i + 1;
    }
    free(c->index);
    c->index = ni;
    c->index_cap = nc;
    return LR_OK;
}

/*
 * The start of the UTC hour holding `et`. Times far outside the partition
 * range (years 0000..9999) are returned as they are, for bucket_for() to
 * reject, rather than overflow.
 */
static int64_t hour_start(int64_t et)
{
    const int64_t hour = 3600LL * 1000000;
    int64_t q;

    if (et < -(INT64_C(1) << 62))
        return et;
    q = et / hour;
    if (et % hour < 0)
        q--;
    return q * hour;
}

static void cols_free(colbuf *cols, uint32_t n)
{
    for (uint32_t i = 0; cols && i < n; i++) {
        lr_buf_free(&cols[i].validity);
        lr_buf_free(&cols[i].vals);
        lr_buf_free(&cols[i].offsets);
        lr_buf_free(&cols[i].bytes);
        lr_buf_free(&cols[i].list_offsets);
    }
    free(cols);
}

/* The empty columns of a file of `def`, in lr_offline_parquet_columns() order. */
static lr_status cols_new(const lr_fg_def *def, colbuf **out, uint32_t *n, lr_error *err)
{
    uint32_t k = def->n_features, nc = k + 3;
    colbuf *cols = calloc(nc, sizeof *cols);
    lr_status st = LR_OK;
    const uint32_t zero = 0;

    if (cols == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nc && st == LR_OK; i++) {
        colbuf *c = &cols[i];
        lr_buf_init(&c->validity, 0);
        lr_buf_init(&c->vals, 0);
        lr_buf_init(&c->offsets, 0);
        lr_buf_init(&c->bytes, 0);
        lr_buf_init(&c->list_offsets, 0);
        if (i < k) {
            const lr_feature_def *f = &def->features[i];
            c->list = f->collection != LR_COLL_NONE;
            c->type = f->collection == LR_COLL_VECTOR ? LR_FT_FRACTIONAL : f->type;
            c->kind = c->type == LR_FT_INTEGRAL     ? COL_I64
                      : c->type == LR_FT_FRACTIONAL ? COL_F64
                                                    : COL_STR;
        } else {
            c->kind = i < k + 2 ? COL_I64 : COL_BOOL;
        }
        if (c->kind == COL_STR)
            st = lr_buf_append(&c->offsets, &zero, 4);
        if (st == LR_OK && c->list)
            st = lr_buf_append(&c->list_offsets, &zero, 4);
    }
    if (st != LR_OK) {
        cols_free(cols, nc);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    *out = cols;
    *n = nc;
    return LR_OK;
}

/*
 * The bucket of (gen, hour), made on first use. The hour's partition is
 * checked when its bucket is made: an hour lies wholly inside or outside
 * the partition range, so one check covers every entry of the bucket.
 */
static lr_status bucket_for(chunk *c, size_t gen, int64_t hour_us, bucket **out, lr_error *err)
{
    size_t h;
    lr_status st;

    if ((c->nb + 1) * 2 > c->index_cap && (st = index_grow(c, err)) != LR_OK)
        return st;
    h = lr_mix64((uint64_t)hour_us * 31 + gen) & (c->index_cap - 1);
    while (c->index[h]) {
        bucket *b = &c->b[c->index[h] - 1];
        if (b->gen == gen && b->hour_us == hour_us) {
            *out = b;
            return LR_OK;
        }
        h = (h + 1) & (c->index_cap - 1);
    }
    {
        char part[LR_OFFLINE_PARTITION_MAX];
        st = lr_offline_partition_of(hour_us, part, NULL, err);
        if (st != LR_OK)
            return st;
    }
    if (c->nb == c->capb) {
        size_t nc = c->capb ? c->capb * 2 : 16;
        bucket *nb = realloc(c->b, nc * sizeof *nb);
        if (nb == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        c->b = nb;
        c->capb = nc;
    }
    bucket *b = &c->b[c->nb];
    memset(b, 0, sizeof *b);
    b->gen = gen;
    b->hour_us = hour_us;
    b->min_et = INT64_MAX;
    b->max_et = INT64_MIN;
    c->index[h] = ++c->nb;
    *out = b;
    return LR_OK;
}

/* Room for `need` more bytes at the end of b's entries; false when out of memory. */
static bool bucket_room(bucket *b, size_t need)
{
    if (b->last != NULL && b->last->cap - b->last->len >= need)
        return true;
    size_t cap = b->last == NULL ? PBLOCK_MIN : b->last->cap * 2;
    if (cap > PBLOCK_MAX)
        cap = PBLOCK_MAX;
    if (cap < need)
        cap = need;
    pblock *p = malloc(sizeof *p + cap);
    if (p == NULL)
        return false;
    p->next = NULL;
    p->len = 0;
    p->cap = cap;
    if (b->last != NULL)
        b->last->next = p;
    else
        b->first = p;
    b->last = p;
    return true;
}

static void chunk_reset(chunk *c)
{
    for (size_t i = 0; i < c->nb; i++) {
        for (pblock *p = c->b[i].first, *next; p != NULL; p = next) {
            next = p->next;
            free(p);
        }
    }
    c->nb = 0;
    if (c->index)
        memset(c->index, 0, c->index_cap * sizeof *c->index);
    c->first_seq = c->last_seq = 0;
    c->entries = 0;
    c->bytes = 0;
}

static void chunk_free(chunk *c)
{
    chunk_reset(c);
    free(c->b);
    free(c->index);
}

/* ---- entries into columns ---- */

/* A bucket's entries in log order. */
typedef struct entry_iter {
    const pblock *p;
    size_t at;
} entry_iter;

/* The next entry's payload and length; false after the last. */
static bool entry_next(entry_iter *it, const unsigned char **payload, uint32_t *len)
{
    while (it->p != NULL && it->at >= it->p->len) {
        it->p = it->p->next;
        it->at = 0;
    }
    if (it->p == NULL)
        return false;
    memcpy(len, it->p->data + it->at, 4);
    *payload = it->p->data + it->at + 4;
    it->at += 4 + (size_t)*len;
    return true;
}

static void warn_value(const lr_fg_def *def, uint32_t f, const char *why)
{
    lr_log_warn("offline", "feature group %s, feature %s: %s; written as null", def->name,
                f < def->n_features ? def->features[f].name : "?", why);
}

/* The number of value slots a column holds. */
static uint32_t col_slots(const colbuf *c)
{
    if (c->kind == COL_STR)
        return (uint32_t)(c->offsets.len / 4 - 1);
    return (uint32_t)(c->vals.len / (c->kind == COL_BOOL ? 1 : 8));
}

/* Parses a logged string as a numeric column's value; false when it does not parse. */
static bool parse_num(const colbuf *c, lr_str s, uint64_t *bits)
{
    if (c->kind == COL_I64) {
        int64_t i;
        if (lr_value_parse_integral(s.ptr, s.len, &i, NULL) != LR_OK)
            return false;
        memcpy(bits, &i, 8);
        return true;
    }
    double d;
    if (lr_value_parse_fractional(s.ptr, s.len, &d, NULL) != LR_OK)
        return false;
    memcpy(bits, &d, 8);
    return true;
}

/*
 * Whether logged scalar v fits non-list column c, and for a numeric column
 * its 8 bytes: a number of the column's own type, or a string that parses
 * as one (the logs of older versions). A string column takes strings only.
 */
static bool scalar_fits(const colbuf *c, const lr__entry_value *v, uint64_t *bits)
{
    switch (v->kind) {
    case LR__ENTRY_KIND_INT:
    case LR__ENTRY_KIND_DOUBLE:
        if (c->kind != (v->kind == LR__ENTRY_KIND_INT ? COL_I64 : COL_F64))
            return false;
        memcpy(bits, &v->num, 8);
        return true;
    case LR__ENTRY_KIND_STRING:
        return c->kind == COL_STR || parse_num(c, v->str, bits);
    default:
        return false;
    }
}

/* Appends one value slot of a string column. */
static lr_status put_str(colbuf *c, lr_str s)
{
    lr_status st;
    if (c->bytes.len + s.len > UINT32_MAX)
        return LR_ELIMIT;
    if ((st = lr_buf_append(&c->bytes, s.ptr, s.len)) != LR_OK)
        return st;
    uint32_t end = (uint32_t)c->bytes.len;
    return lr_buf_append(&c->offsets, &end, 4);
}

/*
 * Appends a present value of feature column `c` from a logged value.
 * *ok false (nothing appended) when the value does not fit the column: a
 * number of another type, a list for a scalar, a string that does not
 * parse. Errors: LR_ENOMEM, LR_ELIMIT.
 */
static lr_status col_put(colbuf *c, const lr__entry_value *v, bool *ok)
{
    lr_status st = LR_OK;
    uint64_t bits;

    *ok = false;
    if (!c->list) {
        if (!scalar_fits(c, v, &bits))
            return LR_OK;
        st = c->kind == COL_STR ? put_str(c, v->str) : lr_buf_append(&c->vals, &bits, 8);
    } else {
        if (v->kind != LR__ENTRY_KIND_LIST)
            return LR_OK;
        /* A list is all or nothing: check every item before appending. */
        if (c->kind != COL_STR) {
            lr__entry_cursor it = v->items;
            for (uint32_t j = 0; j < v->n_items; j++) {
                if (!parse_num(c, lr__entry_item_next(&it), &bits))
                    return LR_OK;
            }
        }
        lr__entry_cursor it = v->items;
        for (uint32_t j = 0; j < v->n_items && st == LR_OK; j++) {
            lr_str s = lr__entry_item_next(&it);
            if (c->kind == COL_STR) {
                st = put_str(c, s);
            } else {
                parse_num(c, s, &bits);
                st = lr_buf_append(&c->vals, &bits, 8);
            }
        }
        uint32_t end = col_slots(c);
        if (st == LR_OK)
            st = lr_buf_append(&c->list_offsets, &end, 4);
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(&c->validity, 1);
    *ok = st == LR_OK;
    return st;
}

/* Appends a null row to column `c`. */
static lr_status col_null(colbuf *c)
{
    static const uint64_t zero;
    lr_status st;
    if (c->list) {
        uint32_t end = col_slots(c);
        st = lr_buf_append(&c->list_offsets, &end, 4);
    } else if (c->kind == COL_STR) {
        uint32_t end = (uint32_t)c->bytes.len;
        st = lr_buf_append(&c->offsets, &end, 4);
    } else {
        st = lr_buf_append(&c->vals, &zero, c->kind == COL_BOOL ? 1 : 8);
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(&c->validity, 0);
    return st;
}

/* Appends one logged record entry to the columns of a file of `def`; set: k bytes of scratch. */
static lr_status row_add(const lr_fg_def *def, colbuf *cols, uint8_t *set,
                         const lr__entry_header *h, lr__entry_cursor *cur, lr_error *err)
{
    uint32_t k = def->n_features;
    lr__entry_value v;
    lr_status st = LR_OK;
    int r;

    memset(set, 0, k);
    while ((r = lr__entry_next(cur, &v)) > 0) {
        bool ok;
        if (v.feature >= k) {
            warn_value(def, v.feature, "feature index outside the definition");
            continue;
        }
        if (set[v.feature]) {
            warn_value(def, v.feature, "the feature appears twice in one entry");
            continue;
        }
        if ((st = col_put(&cols[v.feature], &v, &ok)) != LR_OK)
            goto fail;
        if (!ok)
            warn_value(def, v.feature, "the logged value does not fit the feature's type");
        set[v.feature] = ok;
    }
    if (r < 0)
        return lr_error_set(err, LR_ECORRUPT, "log entry: malformed record values");
    for (uint32_t i = 0; i < k && st == LR_OK; i++) {
        if (!set[i])
            st = col_null(&cols[i]);
    }
    int64_t wt = h->write_time_us, at = h->api_invocation_us;
    uint8_t del = h->is_deleted, one = 1;
    if (st == LR_OK && (st = lr_buf_append(&cols[k].vals, &wt, 8)) == LR_OK &&
        (st = lr_buf_append_byte(&cols[k].validity, one)) == LR_OK &&
        (st = lr_buf_append(&cols[k + 1].vals, &at, 8)) == LR_OK &&
        (st = lr_buf_append_byte(&cols[k + 1].validity, one)) == LR_OK &&
        (st = lr_buf_append_byte(&cols[k + 2].vals, del)) == LR_OK)
        st = lr_buf_append_byte(&cols[k + 2].validity, one);
fail:
    if (st != LR_OK)
        return lr_error_set(err, st, st == LR_ELIMIT ? "a partition of a flush is too large"
                                                      : "out of memory");
    return LR_OK;
}

bool lr__offline_flat_rows = true;

/* Sets the length of a buffer filled in place (reserved for it beforehand). */
static void buf_set_len(lr_buf *b, size_t n)
{
    b->len = n;
    b->data[n] = '\0';
}

/*
 * The bucket's entries into the columns when no feature is a list (the
 * common case): every column then has exactly one slot a row, so a value
 * goes straight to its row's slot of arrays sized for the bucket up front,
 * and the validity bytes, zero until a value arrives, mark the nulls and
 * catch a feature given twice. Same result as row_add() row by row.
 */
static lr_status rows_flat(const lr_fg_def *def, colbuf *cols, const pblock *first, uint32_t n,
                           lr_error *err)
{
    uint32_t k = def->n_features, nstr = 0, *str = NULL, row = 0;
    lr_status st = LR_OK;

    str = malloc((k ? k : 1) * sizeof *str);
    if (str == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < k + 3 && st == LR_OK; i++) {
        colbuf *c = &cols[i];
        if ((st = lr_buf_reserve(&c->validity, n)) != LR_OK)
            break;
        memset(c->validity.data, 0, n);
        if (c->kind == COL_STR) {
            str[nstr++] = i;
            st = lr_buf_reserve(&c->offsets, (size_t)n * 4);
        } else {
            size_t w = c->kind == COL_BOOL ? 1 : 8;
            if ((st = lr_buf_reserve(&c->vals, (size_t)n * w)) == LR_OK)
                memset(c->vals.data, 0, (size_t)n * w);
        }
    }
    if (st != LR_OK)
        goto fail;
    entry_iter it = {first, 0};
    const unsigned char *payload;
    uint32_t len;
    for (; entry_next(&it, &payload, &len); row++) {
        lr__entry_header h;
        lr__entry_cursor cur;
        lr__entry_value v;
        int r;
        if (row >= n) {
            st = lr_error_set(err, LR_ECORRUPT, "a flush bucket holds more rows than counted");
            goto done;
        }
        if ((st = lr__entry_open(payload, len, &h, &cur, err)) != LR_OK)
            goto done;
        while ((r = lr__entry_next(&cur, &v)) > 0) {
            if (v.feature >= k) {
                warn_value(def, v.feature, "feature index outside the definition");
                continue;
            }
            colbuf *c = &cols[v.feature];
            uint8_t *valid = (uint8_t *)c->validity.data + row;
            if (*valid) {
                warn_value(def, v.feature, "the feature appears twice in one entry");
                continue;
            }
            uint64_t bits;
            if (!scalar_fits(c, &v, &bits)) {
                warn_value(def, v.feature, "the logged value does not fit the feature's type");
                continue;
            }
            if (c->kind != COL_STR) {
                memcpy((char *)c->vals.data + (size_t)row * 8, &bits, 8);
            } else if (c->bytes.len + v.str.len > UINT32_MAX) {
                st = LR_ELIMIT;
                goto fail;
            } else if ((st = lr_buf_append(&c->bytes, v.str.ptr, v.str.len)) != LR_OK) {
                goto fail;
            }
            *valid = 1;
        }
        if (r < 0) {
            st = lr_error_set(err, LR_ECORRUPT, "log entry: malformed record values");
            goto done;
        }
        for (uint32_t j = 0; j < nstr; j++) {
            colbuf *c = &cols[str[j]];
            uint32_t end = (uint32_t)c->bytes.len;
            memcpy((char *)c->offsets.data + 4 + (size_t)row * 4, &end, 4);
        }
        memcpy((char *)cols[k].vals.data + (size_t)row * 8, &h.write_time_us, 8);
        memcpy((char *)cols[k + 1].vals.data + (size_t)row * 8, &h.api_invocation_us, 8);
        cols[k + 2].vals.data[row] = (char)h.is_deleted;
        cols[k].validity.data[row] = cols[k + 1].validity.data[row] =
            cols[k + 2].validity.data[row] = 1;
    }
    if (row != n) {
        st = lr_error_set(err, LR_ECORRUPT, "a flush bucket holds fewer rows than counted");
        goto done;
    }
    for (uint32_t i = 0; i < k + 3; i++) {
        colbuf *c = &cols[i];
        buf_set_len(&c->validity, n);
        if (c->kind == COL_STR)
            buf_set_len(&c->offsets, 4 + (size_t)n * 4);
        else
            buf_set_len(&c->vals, (size_t)n * (c->kind == COL_BOOL ? 1 : 8));
    }
    goto done;
fail:
    st = lr_error_set(err, st, st == LR_ELIMIT ? "a partition of a flush is too large"
                                              : "out of memory");
done:
    free(str);
    return st;
}

/* The bucket's entries into the columns entry by entry (row_add), for any group. */
static lr_status rows_generic(const lr_fg_def *def, colbuf *cols, const pblock *first,
                              lr_error *err)
{
    uint8_t *set = malloc(def->n_features ? def->n_features : 1);
    entry_iter it = {first, 0};
    const unsigned char *payload;
    uint32_t len;
    lr_status st = LR_OK;

    if (set == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    while (st == LR_OK && entry_next(&it, &payload, &len)) {
        lr__entry_header h;
        lr__entry_cursor cur;
        st = lr__entry_open(payload, len, &h, &cur, err);
        if (st == LR_OK)
            st = row_add(def, cols, set, &h, &cur, err);
    }
    free(set);
    return st;
}

/*
 * Adds one log entry to its bucket. Only its header is read here; its
 * values are decoded when its file is written (a malformed entry, which
 * its checksum makes a bug rather than damage, then fails the flush after
 * the announcement, which is undone).
 */
static lr_status chunk_add(chunk *c, const schemas *sc, const void *payload, size_t len,
                           uint64_t seq, const char *log_dir, lr_error *err)
{
    uint32_t schema_id, n32 = (uint32_t)len;
    int64_t et;
    lr_status st;
    bucket *b = NULL;

    st = lr__entry_peek_record(payload, len, &schema_id, &et, err);
    if (st == LR_OK && (schema_id == 0 || schema_id > sc->n))
        st = lr_error_set(err, LR_ECORRUPT, "unknown schema %u (the log has %zu)", schema_id,
                          sc->n);
    if (st == LR_OK)
        st = bucket_for(c, sc->slots[schema_id - 1].gen, hour_start(et), &b, err);
    if (st == LR_OK && (len > UINT32_MAX || b->n == UINT32_MAX))
        st = lr_error_set(err, LR_ELIMIT, "a partition of a flush is too large");
    if (st == LR_OK && !bucket_room(b, 4 + len))
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
    if (st == LR_OK) {
        pblock *p = b->last;
        memcpy(p->data + p->len, &n32, 4);
        memcpy(p->data + p->len + 4, payload, len);
        p->len += 4 + len;
    }
    if (st != LR_OK) {
        if (err != NULL)
            lr_error_prefix(err, "log %s sequence %" PRIu64, log_dir, seq);
        return st;
    }
    b->n++;
    if (et < b->min_et)
        b->min_et = et;
    if (et > b->max_et)
        b->max_et = et;
    if (c->entries == 0)
        c->first_seq = seq;
    c->last_seq = seq;
    c->entries++;
    c->bytes += len;
    return LR_OK;
}

/* ---- Parquet ---- */

/* Encodes bucket b's Parquet file into `out` (an initialized buffer, cleared first). */
static lr_status write_bucket(const lr_offline *s, bucket *b, const char *log_id, const chunk *c,
                              lr_buf *out, lr_error *err)
{
    static const uint64_t none[1];
    const lr_fg_def *def = b->def;
    lr_pq_column_def *cols = NULL;
    lr_pq_column_batch *batch = NULL;
    uint32_t ncols;
    lr_pq_write_options opt;
    lr_pq_writer *w = NULL;
    lr_pq_write_stats stats;
    char range[LR__WAL_ID_MAX + 64];
    lr_pq_kv kv[1];
    colbuf *data = NULL;
    uint32_t ndata = 0;
    lr_status st;

    lr_buf_clear(out);
    st = lr_offline_parquet_columns(def, &cols, &ncols, err);
    if (st == LR_OK)
        st = cols_new(def, &data, &ndata, err);
    if (st != LR_OK)
        goto done;
    batch = calloc(ncols, sizeof *batch);
    if (batch == NULL || ndata != ncols) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    /* The bucket's entries, in log order, into the columns. */
    bool lists = false;
    for (uint32_t i = 0; i < def->n_features; i++)
        lists |= data[i].list;
    lists |= !lr__offline_flat_rows;
    st = lists ? rows_generic(def, data, b->first, err) : rows_flat(def, data, b->first, b->n, err);
    if (st != LR_OK)
        goto done;
    for (uint32_t i = 0; i < ncols; i++) {
        const colbuf *cb = &data[i];
        batch[i].validity = (const uint8_t *)cb->validity.data;
        if (cb->list)
            batch[i].list_offsets = (const uint32_t *)cb->list_offsets.data;
        if (cb->kind == COL_STR) {
            batch[i].offsets = (const uint32_t *)cb->offsets.data;
            batch[i].bytes = cb->bytes.data ? (const uint8_t *)cb->bytes.data
                                            : (const uint8_t *)none;
        } else {
            batch[i].values = cb->vals.data ? (const void *)cb->vals.data : (const void *)none;
        }
    }
    lr_pq_write_options_init(&opt);
    opt.codec = s->cfg.codec;
    snprintf(range, sizeof range, "%s:%" PRIu64 "-%" PRIu64, log_id, c->first_seq, c->last_seq);
    kv[0].key = "larder.offline.log_range";
    kv[0].value = range;
    opt.kv = kv;
    opt.n_kv = 1;
    st = lr_pq_writer_open(cols, ncols, &opt, lr_pq_sink_buf(out), &w, err);
    if (st == LR_OK)
        st = lr_pq_writer_write_batch(w, batch, b->n, err);
    if (st == LR_OK)
        st = lr_pq_writer_close(w, &stats, err);
    if (st == LR_OK) {
        b->rows_written = (int64_t)stats.rows;
        b->bytes = (int64_t)out->len;
    } else if (err != NULL) {
        lr_error_prefix(err, "writing Parquet for %s %s", def->name, b->partition);
    }
done:
    lr_pq_writer_free(w);
    cols_free(data, ndata);
    free(batch);
    free(cols);
    return st;
}

/* ---- publishing a chunk ---- */

/* Withdraws announcements and deletes the files whose announcement we withdrew. */
static void discard_files(lr_offline *s, const lr_offline_file *files, size_t n)
{
    lr_objstore *os = NULL;
    const char *os_root = NULL;

    for (size_t i = 0; i < n; i++) {
        bool removed = false;
        lr_error e;
        if (lr_catalog_offline_unannounce(s->cat, files[i].root, files[i].key, &removed, &e) !=
            LR_OK) {
            lr_log_warn("offline", "cannot withdraw %s/%s (garbage collection will): %s",
                        files[i].root, files[i].key, lr_error_message(&e));
            continue;
        }
        if (!removed)
            continue;
        if (os_root == NULL || strcmp(os_root, files[i].root) != 0) {
            lr_objstore_close(os);
            os = NULL;
            os_root = files[i].root;
            if (lr_objstore_open(files[i].root, &os, &e) != LR_OK)
                continue;
        }
        if (os != NULL && lr_objstore_delete(os, files[i].key, &e) != LR_OK)
            lr_log_warn("offline", "cannot delete %s/%s: %s", files[i].root, files[i].key,
                        lr_error_message(&e));
    }
    lr_objstore_close(os);
}

/*
 * The objects of one chunk under one offline root (one per group generation
 * in practice): one object-store handle and one batch, committed together
 * after every file of the chunk is written.
 */
typedef struct root_batch {
    const char *root;
    lr_objstore *os;
    lr_objstore_batch *batch;
} root_batch;

/* The batch for generation `gen`'s root, opening it on first use. */
static lr_status batch_for(const schemas *sc, size_t gen, root_batch *rb, size_t *n_rb,
                           size_t *gen_rb, lr_error *err)
{
    const lr_fg_def *def = sc->gens[gen].latest;
    size_t i;
    lr_status st;

    if (gen_rb[gen] != SIZE_MAX)
        return LR_OK;
    if (def->resolved_offline_uri == NULL)
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", def->name);
    for (i = 0; i < *n_rb; i++) {
        if (strcmp(rb[i].root, def->resolved_offline_uri) == 0)
            break;
    }
    if (i == *n_rb) {
        rb[i].root = def->resolved_offline_uri;
        st = lr__offline_objstore_open(rb[i].root, def->name, &rb[i].os, err);
        if (st == LR_OK)
            st = lr_objstore_batch_begin(rb[i].os, &rb[i].batch, err);
        (*n_rb)++; /* counted even on failure, so that cleanup closes what opened */
        if (st != LR_OK)
            return st;
    }
    gen_rb[gen] = i;
    return LR_OK;
}

/*
 * Writing a chunk's files on several threads: each takes the next bucket,
 * encodes its Parquet file into its own buffer (the CPU-heavy part) and
 * hands it to the object-store batch under a lock. The first error stops
 * the others; the caller then discards what was announced.
 */
typedef struct writers {
    lr_offline *s;
    chunk *c;
    root_batch *rb;
    const size_t *gen_rb;
    lr_offline_file *files;
    const char *log_id;
    pthread_mutex_t mu; /* everything below, and the object-store batches */
    size_t next;
    int64_t rows;
    lr_status st;
    lr_error err;
} writers;

static void *write_files_main(void *arg)
{
    writers *ws = arg;
    lr_buf data;
    lr_error e;

    lr_buf_init(&data, FILE_MAX);
    for (;;) {
        pthread_mutex_lock(&ws->mu);
        size_t i = ws->next++;
        bool go = ws->st == LR_OK && i < ws->c->nb;
        pthread_mutex_unlock(&ws->mu);
        if (!go)
            break;
        bucket *b = &ws->c->b[i];
        /* One output buffer for all of this thread's files (the batch put copies it). */
        lr_status st = write_bucket(ws->s, b, ws->log_id, ws->c, &data, &e);
        pthread_mutex_lock(&ws->mu);
        if (st == LR_OK && ws->st == LR_OK)
            st = lr_objstore_batch_put(ws->rb[ws->gen_rb[b->gen]].batch, b->key, data.data,
                                       data.len, &e);
        if (st == LR_OK) {
            ws->files[i].rows = b->rows_written;
            ws->files[i].bytes = b->bytes;
            ws->rows += b->rows_written;
            lr__offline_crash_point("written");
        } else if (ws->st == LR_OK) {
            ws->st = st;
            ws->err = e;
        }
        pthread_mutex_unlock(&ws->mu);
    }
    lr_buf_free(&data);
    return NULL;
}

static lr_status write_files(writers *ws, lr_error *err)
{
    pthread_t tid[LR__FLUSH_THREADS_MAX];
    uint32_t n = ws->s->cfg.flush_threads, started = 0;

    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (uint32_t)cpus : 1;
    }
    if (n > LR__FLUSH_THREADS_MAX)
        n = LR__FLUSH_THREADS_MAX;
    if (n > ws->c->nb)
        n = (uint32_t)ws->c->nb;
    pthread_mutex_init(&ws->mu, NULL);
    lr_error_clear(&ws->err);
    /* The calling thread is one of the writers. */
    for (uint32_t i = 1; i < n; i++) {
        if (pthread_create(&tid[started], NULL, write_files_main, ws) != 0)
            break;
        started++;
    }
    write_files_main(ws);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&ws->mu);
    if (ws->st != LR_OK && err != NULL)
        *err = ws->err;
    return ws->st;
}

static lr_status publish(lr_offline *s, lr__wal *w, chunk *c, const schemas *sc,
                         uint64_t expected, uint64_t *checkpoint, lr_error *err)
{
    lr_offline_file *files = NULL;
    root_batch *rb = NULL;
    size_t n_rb = 0, *gen_rb = NULL;
    lr_status st = LR_OK;
    int64_t rows = 0;
    bool announced = false;
    const char *log_id = lr__wal_id(w);

    if (c->nb > 0) {
        files = calloc(c->nb, sizeof *files);
        rb = calloc(sc->n_gens, sizeof *rb);
        gen_rb = malloc(sc->n_gens * sizeof *gen_rb);
        if (files == NULL || rb == NULL || gen_rb == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t g = 0; g < sc->n_gens; g++)
            gen_rb[g] = SIZE_MAX;
    }
    for (size_t i = 0; i < c->nb; i++) {
        bucket *b = &c->b[i];
        /* The generation's newest version: a memtable's bucket may predate it. */
        b->def = sc->gens[b->gen].latest;
        const lr_fg_def *def = b->def;
        st = lr_offline_file_key(b->max_et, b->key, err);
        if (st == LR_OK)
            st = lr_offline_partition_of(b->max_et, b->partition, NULL, err);
        if (st != LR_OK)
            goto done;
        files[i].fg_name = def->name;
        files[i].fg_created_us = def->creation_time_us;
        files[i].partition = b->partition;
        files[i].partition_start_us = b->hour_us;
        files[i].root = def->resolved_offline_uri;
        files[i].key = b->key;
        files[i].min_event_us = b->min_et;
        files[i].max_event_us = b->max_et;
        files[i].log_id = log_id;
        files[i].log_first_seq = (int64_t)expected + 1;
        files[i].log_last_seq = (int64_t)c->last_seq;
    }
    if (c->nb > 0) {
        st = lr_catalog_offline_announce(s->cat, files, c->nb, err);
        if (st != LR_OK)
            goto done;
        announced = true;
        lr__offline_crash_point("announced");
    }
    /*
     * Write every file of the chunk, then make them durable and visible in
     * one commit per root: a flush of hundreds of partitions costs a few
     * flushes of the disk, not a few per file. Nothing is registered yet,
     * so a crash anywhere here leaves only announced, invisible files.
     */
    for (size_t i = 0; i < c->nb; i++) {
        st = batch_for(sc, c->b[i].gen, rb, &n_rb, gen_rb, err);
        if (st != LR_OK)
            goto done;
    }
    if (c->nb > 0) {
        writers ws = {.s = s, .c = c, .rb = rb, .gen_rb = gen_rb, .files = files,
                      .log_id = log_id, .st = LR_OK};
        st = write_files(&ws, err);
        if (st != LR_OK)
            goto done;
        rows = ws.rows;
    }
    for (size_t i = 0; i < n_rb; i++) {
        st = lr_objstore_batch_commit(rb[i].batch, err);
        if (st != LR_OK) {
            if (err != NULL)
                lr_error_prefix(err, "publishing files under %s", rb[i].root);
            goto done;
        }
        lr__offline_crash_point("published");
    }
    st = lr_catalog_offline_commit(s->cat, log_id, (int64_t)expected, (int64_t)c->last_seq, files,
                                   c->nb, err);
    if (st != LR_OK && st != LR_ECONFLICT) {
        /* Unknown outcome: did the commit happen? The checkpoint says. */
        int64_t now_cp = -1;
        if (lr_catalog_offline_checkpoint(s->cat, log_id, &now_cp, NULL) == LR_OK &&
            now_cp == (int64_t)c->last_seq)
            st = LR_OK;
    }
    if (st != LR_OK)
        goto done;
    announced = false;
    *checkpoint = c->last_seq;
    lr__offline_crash_point("committed");
    pthread_mutex_lock(&s->mu);
    s->m.flushes++;
    s->m.files_written += c->nb;
    s->m.rows_written += (uint64_t)rows;
    s->m.last_flush_us = lr_now_us();
    pthread_mutex_unlock(&s->mu);
done:
    /* Uncommitted batches remove their temporary files; discard_files the rest. */
    for (size_t i = 0; i < n_rb; i++) {
        lr_objstore_batch_free(rb[i].batch);
        lr_objstore_close(rb[i].os);
    }
    if (announced)
        discard_files(s, files, c->nb);
    free(gen_rb);
    free(rb);
    free(files);
    return st;
}

/* ---- the memtable ---- */

struct lr__memtable {
    schemas sc;
    chunk c;
    uint64_t base; /* the entries (base, c.last_seq] are here, in log order */
    uint64_t cap;  /* payload bytes it takes at most */
    bool full;     /* it takes no more entries (cap reached, or a gap) */
    bool broken;   /* an entry could not be kept: never published */
    bool no_schemas; /* a schema could not be kept: neither this one nor its forks are used */
};

lr__memtable *lr__memtable_new(uint64_t cap)
{
    lr__memtable *m = calloc(1, sizeof *m);
    if (m != NULL)
        m->cap = cap;
    return m;
}

lr__memtable *lr__memtable_fork(const lr__memtable *old, uint64_t cap)
{
    lr__memtable *m = lr__memtable_new(cap);
    if (m == NULL)
        return NULL;
    m->no_schemas = old->no_schemas;
    for (size_t i = 0; i < old->sc.n && !m->no_schemas; i++) {
        lr_fg_def *d = lr_fg_def_clone(old->sc.slots[i].def);
        if (d == NULL || schema_insert(&m->sc, old->sc.slots[i].id, d, NULL) != LR_OK)
            m->no_schemas = true;
    }
    return m;
}

void lr__memtable_free(lr__memtable *m)
{
    if (m == NULL)
        return;
    chunk_free(&m->c);
    schemas_free(&m->sc);
    free(m);
}

void lr__memtable_schema(lr__memtable *m, uint32_t id, const void *payload, size_t len)
{
    if (!m->no_schemas && schema_add(&m->sc, id, payload, len, NULL) != LR_OK)
        m->no_schemas = true;
}

void lr__memtable_add(lr__memtable *m, const lr__wal_item *items, size_t n, uint64_t first_seq,
                      const char *log_dir)
{
    uint64_t bytes = 0;

    if (m->broken || m->no_schemas || m->full)
        return;
    if (m->c.entries == 0)
        m->base = first_seq - 1;
    else if (first_seq != m->c.last_seq + 1)
        m->full = true; /* a gap: what follows is read back from the log */
    for (size_t i = 0; i < n; i++)
        bytes += items[i].len;
    if (m->c.bytes + bytes > m->cap)
        m->full = true;
    for (size_t i = 0; i < n && !m->full; i++) {
        if (chunk_add(&m->c, &m->sc, items[i].data, items[i].len, first_seq + i, log_dir, NULL) !=
            LR_OK)
            m->broken = true; /* a bucket may hold part of an entry: drop it all */
    }
}

lr_status lr__offline_flush_log(lr_offline *s, lr__wal *w, uint64_t upto, uint64_t *done,
                                lr__memtable *mt, lr_error *err)
{
    schemas sc = {0};
    chunk c = {0};
    lr__wal_reader *r = NULL;
    int64_t cp = 0;
    uint64_t checkpoint;
    uint64_t chunk_limit = s->cfg.flush_bytes > CHUNK_MIN ? s->cfg.flush_bytes : CHUNK_MIN;
    lr_status st;

    if (done)
        *done = 0;
    st = lr_catalog_offline_checkpoint(s->cat, lr__wal_id(w), &cp, err);
    if (st != LR_OK)
        return st;
    checkpoint = (uint64_t)cp;
    /* The entries right after the checkpoint are staged in memory: publish them as they are. */
    if (mt != NULL && !mt->broken && !mt->no_schemas && mt->c.entries > 0 &&
        mt->base == checkpoint) {
        st = publish(s, w, &mt->c, &mt->sc, checkpoint, &checkpoint, err);
        if (st != LR_OK)
            goto trim;
    }
    if (checkpoint >= upto)
        goto trim;
    st = lr__wal_read_schemas(w, schema_add, &sc, err);
    if (st != LR_OK)
        goto out;
    st = lr__wal_reader_open(w, checkpoint + 1, upto, &r, err);
    if (st != LR_OK)
        goto out;
    for (;;) {
        const void *p;
        size_t len;
        uint64_t seq;
        lr_status rs = lr__wal_reader_next(r, &p, &len, &seq, err);
        if (rs != LR_OK && rs != LR_ENOTFOUND) {
            st = rs;
            break;
        }
        if (rs == LR_OK) {
            st = chunk_add(&c, &sc, p, len, seq, lr__wal_dir(w), err);
            if (st != LR_OK)
                break;
        }
        bool end = rs == LR_ENOTFOUND;
        if (c.entries > 0 && (end || c.bytes >= chunk_limit)) {
            st = publish(s, w, &c, &sc, checkpoint, &checkpoint, err);
            chunk_reset(&c);
            if (st != LR_OK)
                break;
        }
        if (end)
            break;
    }
    if (st == LR_OK && checkpoint < upto) {
        /* Entries the reader did not return: the log ends early. */
        st = lr_error_set(err, LR_ECORRUPT, "log %s: entries %" PRIu64 "..%" PRIu64 " are missing",
                          lr__wal_dir(w), checkpoint + 1, upto);
    }
out:
    lr__wal_reader_close(r);
    chunk_free(&c);
    schemas_free(&sc);
trim:
    if (done)
        *done = checkpoint;
    if (checkpoint > 0) {
        lr_error e;
        if (lr__wal_truncate_through(w, checkpoint, &e) != LR_OK)
            lr_log_warn("offline", "%s", lr_error_message(&e));
        else
            lr__offline_crash_point("truncated");
    }
    return st;
}

/* ---- adoption ---- */

typedef struct adopt_ctx {
    lr_offline *s;
    lr_status first;
    lr_error first_err;
} adopt_ctx;

static bool damage_reported(lr_offline *s, const char *id)
{
    bool seen = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_damaged && !seen; i++)
        seen = strcmp(s->damaged_reported[i], id) == 0;
    if (!seen) {
        char **n = realloc(s->damaged_reported, (s->n_damaged + 1) * sizeof *n);
        if (n != NULL) {
            s->damaged_reported = n;
            if ((n[s->n_damaged] = strdup(id)) != NULL)
                s->n_damaged++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return seen;
}

static lr_status adopt_one(void *arg, const char *id, lr_error *err)
{
    adopt_ctx *a = arg;
    lr_offline *s = a->s;
    lr__wal *w = NULL;
    lr_error e, damage;
    lr_status st;
    uint64_t last, done = 0;

    (void)err;
    if (strcmp(id, lr__wal_id(s->wal)) == 0)
        return LR_OK;
    lr_error_clear(&e);
    st = lr__wal_adopt(s->wal_root, id, &w, &e);
    if (st != LR_OK || w == NULL)
        goto out;
    last = lr__wal_last_seq(w);
    st = lr__offline_flush_log(s, w, last, &done, NULL, &e);
    if (st != LR_OK)
        goto out;
    if (lr__wal_damaged(w, &damage)) {
        /* Flushed up to the damage; the rest needs a person. Keep the log. */
        if (!damage_reported(s, id))
            lr_log_error("offline",
                         "the log %s of a dead process is damaged; everything before the "
                         "damage is flushed, the log is kept: %s",
                         lr__wal_dir(w), lr_error_message(&damage));
        goto out;
    }
    if (done >= last) {
        lr__wal *gone = w;
        w = NULL;
        st = lr__wal_destroy(gone, &e);
        if (st == LR_OK && done > 0)
            st = lr_catalog_offline_checkpoint_delete(s->cat, id, &e);
        if (st == LR_OK) {
            pthread_mutex_lock(&s->mu);
            s->m.logs_adopted++;
            pthread_mutex_unlock(&s->mu);
            lr_log_info("offline", "recovered the log %s of a dead process (%" PRIu64
                                   " entries)", id, last);
        }
    }
out:
    lr__wal_close(w);
    if (st != LR_OK && a->first == LR_OK) {
        a->first = st;
        a->first_err = e;
    }
    return LR_OK; /* go on with the other logs */
}

lr_status lr__offline_adopt_orphans(lr_offline *s, lr_error *err)
{
    adopt_ctx a = {s, LR_OK, {0}};
    lr_status st = lr__wal_list(s->wal_root, adopt_one, &a, err);
    if (st != LR_OK)
        return st;
    if (a.first != LR_OK) {
        if (err != NULL)
            *err = a.first_err;
        return a.first;
    }
    return LR_OK;
}
