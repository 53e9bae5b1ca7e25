/*
 * table.c - rows in memory for compaction: the group's columns as
 * builders (values, validity, list and string offsets), the event time of
 * each row, the order-independent row checksum, sort keys and the sort.
 *
 * Rows arrive normalised (every schema column present and typed as the
 * schema says: timestamps in microseconds, a feature a file lacks as
 * nulls), so a row hashes and compares the same whether it sits in a table,
 * in a spilled run or in an output file read back: that is what makes the
 * checksum comparison between input and output meaningful.
 *
 * Sort order (docs/compaction.md): record identifier (strings as unsigned
 * bytes, numbers numerically), event time, api_invocation_time, write_time,
 * nulls first. The sort works on 40-byte entries holding the keys by value
 * (so comparisons touch one cache line) with an order-preserving 8-byte
 * prefix of the identifier taken after the table's longest common prefix,
 * and falls back to the whole identifier only when prefixes tie.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compact/compact_internal.h"
#include "larder/hash.h"

#define STR_BYTES_MAX ((size_t)1 << 32) /* a builder's string data must fit uint32 offsets */

/* ---- schema ---- */

lr_status lr__schema_init(lr__schema *s, const lr_fg_def *def, lr_error *err)
{
    uint32_t k = def->n_features, n = 0;
    lr_status st;

    memset(s, 0, sizeof *s);
    s->def = def;
    st = lr_offline_parquet_columns(def, &s->pq, &n, err);
    if (st != LR_OK)
        return st;
    s->cols = calloc(n, sizeof *s->cols);
    if (s->cols == NULL) {
        lr__schema_free(s);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    s->n = n;
    for (uint32_t i = 0; i < k; i++) {
        const lr_feature_def *f = &def->features[i];
        lr__col *c = &s->cols[i];
        c->name = f->name;
        c->list = f->collection != LR_COLL_NONE;
        if (f->collection == LR_COLL_VECTOR || f->type == LR_FT_FRACTIONAL)
            c->type = LR__C_F64;
        else if (f->type == LR_FT_INTEGRAL)
            c->type = LR__C_I64;
        else
            c->type = LR__C_STR;
    }
    s->wt = k;
    s->api = k + 1;
    s->del = k + 2;
    s->cols[k] = (lr__col){LR_OFFLINE_COL_WRITE_TIME, LR__C_TS, false};
    s->cols[k + 1] = (lr__col){LR_OFFLINE_COL_API_TIME, LR__C_TS, false};
    s->cols[k + 2] = (lr__col){LR_OFFLINE_COL_IS_DELETED, LR__C_BOOL, false};
    s->rid = def->record_id_index;
    s->et = def->event_time_index;
    s->rid_type = s->cols[s->rid].type;
    s->et_string = s->cols[s->et].type == LR__C_STR;
    return LR_OK;
}

void lr__schema_free(lr__schema *s)
{
    if (s == NULL)
        return;
    free(s->cols);
    free(s->pq);
    memset(s, 0, sizeof *s);
}

/* ---- builders ---- */

void lr__builder_init(lr__builder *b, lr__ctype t, bool list)
{
    memset(b, 0, sizeof *b);
    b->type = t;
    b->list = list;
}

void lr__builder_free(lr__builder *b)
{
    free(b->valid);
    free(b->loff);
    free(b->evalid);
    free(b->vals);
    free(b->off);
    free(b->bytes);
    memset(b, 0, sizeof *b);
}

void lr__builder_clear(lr__builder *b)
{
    b->nulls = 0;
    b->rows = 0;
    b->slots = 0;
    b->nbytes = 0;
}

static size_t val_size(lr__ctype t)
{
    switch (t) {
    case LR__C_BOOL:
        return 1;
    case LR__C_STR:
        return 0;
    default:
        return 8;
    }
}

size_t lr__builder_mem(const lr__builder *b)
{
    return b->cap_rows * (1 + (b->list ? 4 : 0)) +
           b->cap_slots * ((b->list ? 1 : 0) + val_size(b->type) + (b->type == LR__C_STR ? 4 : 0)) +
           b->cap_bytes;
}

static bool grow(void **p, size_t elem, size_t n)
{
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return false;
    *p = q;
    return true;
}

static size_t next_cap(size_t cur, size_t need)
{
    size_t nc = cur ? cur : 1024;
    while (nc < need)
        nc += nc / 2 + 1024;
    return nc;
}

static lr_status reserve_rows(lr__builder *b, size_t extra)
{
    size_t need = b->rows + extra + 1;
    if (need <= b->cap_rows)
        return LR_OK;
    size_t nc = next_cap(b->cap_rows, need);
    if (!grow((void **)&b->valid, 1, nc))
        return LR_ENOMEM;
    if (b->list) {
        if (!grow((void **)&b->loff, 4, nc + 1))
            return LR_ENOMEM;
        if (b->cap_rows == 0)
            b->loff[0] = 0;
    }
    b->cap_rows = nc;
    return LR_OK;
}

static lr_status reserve_slots(lr__builder *b, size_t extra)
{
    size_t need = b->slots + extra + 1;
    if (need <= b->cap_slots)
        return LR_OK;
    if (need > UINT32_MAX)
        return LR_ELIMIT;
    size_t nc = next_cap(b->cap_slots, need);
    if (nc > UINT32_MAX)
        nc = UINT32_MAX;
    if (b->list && !grow((void **)&b->evalid, 1, nc))
        return LR_ENOMEM;
    if (b->type == LR__C_STR) {
        if (!grow((void **)&b->off, 4, nc + 1))
            return LR_ENOMEM;
        if (b->cap_slots == 0)
            b->off[0] = 0;
    } else if (!grow(&b->vals, val_size(b->type), nc)) {
        return LR_ENOMEM;
    }
    b->cap_slots = nc;
    return LR_OK;
}

static lr_status reserve_bytes(lr__builder *b, size_t extra)
{
    size_t need = b->nbytes + extra;
    if (need <= b->cap_bytes)
        return LR_OK;
    if (need >= STR_BYTES_MAX)
        return LR_ELIMIT;
    size_t nc = next_cap(b->cap_bytes, need);
    if (nc >= STR_BYTES_MAX)
        nc = STR_BYTES_MAX - 1;
    if (!grow((void **)&b->bytes, 1, nc))
        return LR_ENOMEM;
    b->cap_bytes = nc;
    return LR_OK;
}

void lr__builder_view(const lr__builder *b, lr_pq_column_batch *v)
{
    /* A column with no element yet (lists all null or empty) still has a valid shape. */
    static const uint32_t zero_off[1] = {0};
    static const int64_t no_values[1] = {0};
    static const uint8_t no_bytes[1] = {0};
    memset(v, 0, sizeof *v);
    v->validity = b->nulls ? b->valid : NULL; /* no nulls: readers skip the bytes */
    v->list_offsets = b->list ? b->loff : NULL;
    v->elem_validity = b->list ? (b->evalid ? b->evalid : no_bytes) : NULL;
    if (b->type == LR__C_STR) {
        v->offsets = b->off ? b->off : zero_off;
        v->bytes = b->bytes ? b->bytes : no_bytes;
    } else {
        v->values = b->vals ? b->vals : (const void *)no_values;
    }
}

/*
 * Copies slots [a, e) of src's values (and element validity for lists)
 * after this builder's slots. `mult` scales timestamps (1, 1000) or, when
 * 0, divides nanoseconds by 1000.
 */
static lr_status copy_slots(lr__builder *b, const lr_pq_column_batch *src, uint32_t a, uint32_t e,
                            int64_t mult)
{
    size_t n = e - a;
    if (n == 0)
        return LR_OK;
    lr_status st = reserve_slots(b, n);
    if (st != LR_OK)
        return st;
    if (b->list) {
        if (src->elem_validity)
            memcpy(b->evalid + b->slots, src->elem_validity + a, n);
        else
            memset(b->evalid + b->slots, 1, n);
    }
    switch (b->type) {
    case LR__C_I64:
    case LR__C_TS: {
        int64_t *d = (int64_t *)b->vals + b->slots;
        if (mult == 1) {
            memcpy(d, src->i64 + a, n * 8);
        } else if (mult == 0) {
            for (size_t i = 0; i < n; i++) {
                int64_t v = src->i64[a + i];
                /* floor division: timestamps before 1970 round down */
                d[i] = v / 1000 - (v % 1000 < 0 ? 1 : 0);
            }
        } else {
            for (size_t i = 0; i < n; i++)
                d[i] = src->i64[a + i] * mult;
        }
        break;
    }
    case LR__C_F64:
        memcpy((double *)b->vals + b->slots, src->f64 + a, n * 8);
        break;
    case LR__C_BOOL:
        memcpy((uint8_t *)b->vals + b->slots, src->bools + a, n);
        break;
    case LR__C_STR: {
        uint32_t base = src->offsets[a], len = src->offsets[e] - base;
        st = reserve_bytes(b, len);
        if (st != LR_OK)
            return st;
        if (len > 0)
            memcpy(b->bytes + b->nbytes, src->bytes + base, len);
        uint32_t shift = (uint32_t)b->nbytes;
        for (size_t i = 0; i < n; i++)
            b->off[b->slots + i + 1] = src->offsets[a + i + 1] - base + shift;
        b->nbytes += len;
        break;
    }
    }
    b->slots += n;
    return LR_OK;
}

lr_status lr__builder_append_scaled(lr__builder *b, const lr_pq_column_batch *src, uint32_t r0,
                                    uint32_t n, int64_t mult)
{
    lr_status st = reserve_rows(b, n);
    if (st != LR_OK)
        return st;
    if (src->validity) {
        memcpy(b->valid + b->rows, src->validity + r0, n);
        for (uint32_t i = 0; i < n; i++)
            b->nulls += src->validity[r0 + i] == 0;
    } else {
        memset(b->valid + b->rows, 1, n);
    }
    if (!b->list) {
        st = copy_slots(b, src, r0, r0 + n, mult);
    } else {
        uint32_t a = src->list_offsets[r0], e = src->list_offsets[r0 + n];
        uint32_t shift = (uint32_t)b->slots;
        st = copy_slots(b, src, a, e, mult);
        if (st == LR_OK)
            for (uint32_t i = 0; i < n; i++)
                b->loff[b->rows + i + 1] = src->list_offsets[r0 + i + 1] - a + shift;
    }
    if (st == LR_OK)
        b->rows += n;
    return st;
}

lr_status lr__builder_append(lr__builder *b, const lr_pq_column_batch *src, uint32_t r)
{
    return lr__builder_append_scaled(b, src, r, 1, 1);
}

lr_status lr__builder_append_null(lr__builder *b)
{
    lr_status st = reserve_rows(b, 1);
    if (st == LR_OK && !b->list)
        st = reserve_slots(b, 1);
    if (st != LR_OK)
        return st;
    b->valid[b->rows] = 0;
    b->nulls++;
    if (b->list) {
        b->loff[b->rows + 1] = (uint32_t)b->slots;
    } else {
        if (b->type == LR__C_STR)
            b->off[b->slots + 1] = (uint32_t)b->nbytes;
        else if (b->type == LR__C_BOOL)
            ((uint8_t *)b->vals)[b->slots] = 0;
        else
            ((int64_t *)b->vals)[b->slots] = 0;
        b->slots++;
    }
    b->rows++;
    return LR_OK;
}

lr_status lr__builder_gather(lr__builder *b, const lr__rowref *refs, uint32_t n, uint32_t col)
{
    lr_status st = reserve_rows(b, n);
    if (st != LR_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        const lr_pq_column_batch *s = &refs[i].cols[col];
        uint8_t v = s->validity ? s->validity[refs[i].row] : 1;
        b->valid[b->rows + i] = v;
        b->nulls += v == 0;
    }
    if (b->list) {
        for (uint32_t i = 0; i < n; i++) {
            const lr_pq_column_batch *s = &refs[i].cols[col];
            uint32_t r = refs[i].row;
            st = copy_slots(b, s, s->list_offsets[r], s->list_offsets[r + 1], 1);
            if (st != LR_OK)
                return st;
            b->loff[b->rows + i + 1] = (uint32_t)b->slots;
        }
        b->rows += n;
        return LR_OK;
    }
    if ((st = reserve_slots(b, n)) != LR_OK)
        return st;
    switch (b->type) {
    case LR__C_I64:
    case LR__C_TS:
    case LR__C_F64: {
        uint8_t *d = (uint8_t *)b->vals + b->slots * 8;
        for (uint32_t i = 0; i < n; i++)
            memcpy(d + (size_t)i * 8, (const uint8_t *)refs[i].cols[col].values + refs[i].row * 8u,
                   8);
        break;
    }
    case LR__C_BOOL: {
        uint8_t *d = (uint8_t *)b->vals + b->slots;
        for (uint32_t i = 0; i < n; i++)
            d[i] = refs[i].cols[col].bools[refs[i].row];
        break;
    }
    case LR__C_STR: {
        size_t total = 0;
        for (uint32_t i = 0; i < n; i++) {
            const lr_pq_column_batch *s = &refs[i].cols[col];
            total += s->offsets[refs[i].row + 1] - s->offsets[refs[i].row];
        }
        if ((st = reserve_bytes(b, total)) != LR_OK)
            return st;
        for (uint32_t i = 0; i < n; i++) {
            const lr_pq_column_batch *s = &refs[i].cols[col];
            uint32_t a = s->offsets[refs[i].row], len = s->offsets[refs[i].row + 1] - a;
            if (len > 0)
                memcpy(b->bytes + b->nbytes, s->bytes + a, len);
            b->nbytes += len;
            b->off[b->slots + i + 1] = (uint32_t)b->nbytes;
        }
        break;
    }
    }
    b->slots += n;
    b->rows += n;
    return LR_OK;
}

void lr__builder_pop(lr__builder *b)
{
    if (b->rows == 0)
        return;
    b->rows--;
    if (b->valid[b->rows] == 0)
        b->nulls--;
    b->slots = b->list ? b->loff[b->rows] : b->rows;
    if (b->type == LR__C_STR)
        b->nbytes = b->off != NULL ? b->off[b->slots] : 0;
}

/* ---- table ---- */

lr_status lr__table_init(lr__table *t, const lr__schema *sc, lr_error *err)
{
    memset(t, 0, sizeof *t);
    t->sc = sc;
    t->cols = calloc(sc->n, sizeof *t->cols);
    t->views = calloc(sc->n, sizeof *t->views);
    if (t->cols == NULL || t->views == NULL) {
        free(t->cols);
        free(t->views);
        memset(t, 0, sizeof *t);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < sc->n; i++)
        lr__builder_init(&t->cols[i], sc->cols[i].type, sc->cols[i].list);
    return LR_OK;
}

void lr__table_free(lr__table *t)
{
    if (t == NULL || t->sc == NULL)
        return;
    for (uint32_t i = 0; i < t->sc->n; i++)
        lr__builder_free(&t->cols[i]);
    free(t->cols);
    free(t->views);
    free(t->ev);
    memset(t, 0, sizeof *t);
}

void lr__table_clear(lr__table *t)
{
    for (uint32_t i = 0; i < t->sc->n; i++)
        lr__builder_clear(&t->cols[i]);
    t->rows = 0;
}

size_t lr__table_mem(const lr__table *t)
{
    size_t m = t->cap_ev * 8;
    for (uint32_t i = 0; i < t->sc->n; i++)
        m += lr__builder_mem(&t->cols[i]);
    return m;
}

void lr__table_views(lr__table *t)
{
    for (uint32_t i = 0; i < t->sc->n; i++)
        lr__builder_view(&t->cols[i], &t->views[i]);
}

bool lr__event_us(const lr__schema *sc, const lr_pq_column_batch *c, uint32_t r, int64_t *us)
{
    if (c->validity != NULL && !c->validity[r])
        return false;
    if (sc->et_string) {
        uint32_t a = c->offsets[r], e = c->offsets[r + 1];
        return lr_time_parse_iso8601((const char *)c->bytes + a, e - a, us, NULL) == LR_OK;
    }
    double d = c->f64[r];
    if (!isfinite(d))
        return false;
    double x = d * 1e6;
    if (x < (double)LR_TIME_MIN_US || x > (double)LR_TIME_MAX_US)
        return false;
    *us = (int64_t)llround(x);
    return true;
}

/* ---- row checksums ---- */

/*
 * One multiply per 64-bit word folded in; rows get a full lr_mix64 at the end
 * (lr__rows_hash), which is what spreads every input bit over the hash.
 */
static inline uint64_t fold(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 32);
}

/* The hash of slot i of a column's values. */
static inline uint64_t slot_hash(lr__ctype t, const lr_pq_column_batch *c, uint32_t i)
{
    switch (t) {
    case LR__C_I64:
    case LR__C_TS:
        return (uint64_t)c->i64[i] ^ 0x5851F42D4C957F2DULL;
    case LR__C_F64: {
        uint64_t u;
        memcpy(&u, &c->f64[i], 8);
        return u ^ 0x14057B7EF767814FULL;
    }
    case LR__C_BOOL:
        return (uint64_t)(c->bools[i] != 0) + 0x2545F4914F6CDD1DULL;
    case LR__C_STR:
        return lr_hash_bytes(c->bytes + c->offsets[i], c->offsets[i + 1] - c->offsets[i],
                          0x27BB2EE687B0B0FDULL);
    }
    return 0;
}

#define NULL_HASH 0xA0761D6478BD642FULL
#define COL_SEED  0x9E3779B97F4A7C15ULL

static uint64_t list_hash(lr__ctype t, const lr_pq_column_batch *b, uint32_t r)
{
    uint32_t a = b->list_offsets[r], e = b->list_offsets[r + 1];
    uint64_t v = fold(0xE7037ED1A0B428DBULL, e - a);
    for (uint32_t i = a; i < e; i++) {
        uint64_t x = (b->elem_validity != NULL && !b->elem_validity[i]) ? 0x8EBC6AF09C88C6E3ULL
                                                                        : slot_hash(t, b, i);
        v = fold(v, x);
    }
    return v;
}

/*
 * Column by column over the rows (the type is decided once per column, the
 * inner loops are tight); the same value as row by row.
 */
void lr__rows_hash(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r0, uint32_t n,
                   uint64_t *h)
{
    for (uint32_t i = 0; i < n; i++)
        h[i] = 0x6A09E667F3BCC909ULL;
    for (uint32_t c = 0; c < sc->n; c++) {
        const lr_pq_column_batch *b = &cols[c];
        const lr__col *col = &sc->cols[c];
        const uint8_t *valid = b->validity;
        uint64_t add = c * COL_SEED;
#define EACH(expr)                                                                                 \
    for (uint32_t i = 0; i < n; i++) {                                                             \
        uint32_t r = r0 + i;                                                                       \
        uint64_t v = (valid != NULL && !valid[r]) ? NULL_HASH : (expr);                            \
        h[i] = fold(h[i], v + add);                                                                \
    }
        if (col->list) {
            EACH(list_hash(col->type, b, r))
            continue;
        }
        switch (col->type) {
        case LR__C_I64:
        case LR__C_TS:
            EACH((uint64_t)b->i64[r] ^ 0x5851F42D4C957F2DULL)
            break;
        case LR__C_F64:
            EACH(slot_hash(LR__C_F64, b, r))
            break;
        case LR__C_BOOL:
            EACH((uint64_t)(b->bools[r] != 0) + 0x2545F4914F6CDD1DULL)
            break;
        case LR__C_STR:
            EACH(lr_hash_bytes(b->bytes + b->offsets[r], b->offsets[r + 1] - b->offsets[r],
                            0x27BB2EE687B0B0FDULL))
            break;
        }
#undef EACH
    }
    for (uint32_t i = 0; i < n; i++)
        h[i] = lr_mix64(h[i]);
}

uint64_t lr__row_hash(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r)
{
    uint64_t h;
    lr__rows_hash(sc, cols, r, 1, &h);
    return h;
}

void lr__rowsum_add(lr__rowsum *s, uint64_t h)
{
    s->a += h;
    s->b += (h ^ 0xD1B54A32D192ED03ULL) * 0x94D049BB133111EBULL;
    s->n++;
}

void lr__rowsum_merge(lr__rowsum *into, const lr__rowsum *s)
{
    into->a += s->a;
    into->b += s->b;
    into->n += s->n;
}

bool lr__rowsum_equal(const lr__rowsum *x, const lr__rowsum *y)
{
    return x->a == y->a && x->b == y->b && x->n == y->n;
}

/* ---- keys ---- */

/* An order-preserving 8-byte image of p[0..n) (big-endian, zero-padded). */
static inline uint64_t prefix8(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    size_t m = n < 8 ? n : 8;
    for (size_t i = 0; i < m; i++)
        k |= (uint64_t)p[i] << (56 - 8 * i);
    return k;
}

static inline uint64_t num_key(lr__ctype t, const lr_pq_column_batch *c, uint32_t r)
{
    if (t == LR__C_I64)
        return (uint64_t)c->i64[r] ^ 0x8000000000000000ULL;
    uint64_t u;
    double d = c->f64[r];
    if (d == 0)
        d = 0; /* -0.0 sorts with +0.0 */
    memcpy(&u, &d, 8);
    return (u & 0x8000000000000000ULL) ? ~u : u ^ 0x8000000000000000ULL;
}

static inline int64_t ts_or_min(const lr_pq_column_batch *c, uint32_t r)
{
    if (c->validity != NULL && !c->validity[r])
        return INT64_MIN;
    return c->i64[r];
}

void lr__key_of(const lr__schema *sc, const lr_pq_column_batch *cols, uint32_t r, int64_t ev,
                lr__key *k)
{
    const lr_pq_column_batch *id = &cols[sc->rid];
    k->id = NULL;
    k->id_len = 0;
    if (id->validity != NULL && !id->validity[r]) {
        k->k0 = 0; /* nulls first; a null identifier is never valid, but sort it anyway */
        k->id = NULL;
    } else if (sc->rid_type == LR__C_STR) {
        uint32_t a = id->offsets[r], e = id->offsets[r + 1];
        k->id = id->bytes + a;
        k->id_len = e - a;
        k->k0 = prefix8(k->id, k->id_len);
    } else {
        k->k0 = num_key(sc->rid_type, id, r);
    }
    k->ev = ev;
    k->api = ts_or_min(&cols[sc->api], r);
    k->wt = ts_or_min(&cols[sc->wt], r);
}

static inline int id_cmp(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    uint32_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

int lr__key_cmp(const lr__key *a, const lr__key *b)
{
    if (a->k0 != b->k0)
        return a->k0 < b->k0 ? -1 : 1;
    if (a->id != NULL || b->id != NULL) {
        if (a->id == NULL || b->id == NULL)
            return a->id == NULL ? -1 : 1;
        int c = id_cmp(a->id, a->id_len, b->id, b->id_len);
        if (c != 0)
            return c;
    }
    if (a->ev != b->ev)
        return a->ev < b->ev ? -1 : 1;
    if (a->api != b->api)
        return a->api < b->api ? -1 : 1;
    if (a->wt != b->wt)
        return a->wt < b->wt ? -1 : 1;
    return 0;
}

int lr__key_cmp_record(const lr__key *a, const lr__key *b)
{
    if (a->k0 != b->k0)
        return a->k0 < b->k0 ? -1 : 1;
    if (a->id != NULL || b->id != NULL) {
        if (a->id == NULL || b->id == NULL)
            return a->id == NULL ? -1 : 1;
        int c = id_cmp(a->id, a->id_len, b->id, b->id_len);
        if (c != 0)
            return c;
    }
    return a->ev < b->ev ? -1 : a->ev > b->ev;
}

bool lr__key_same_record(const lr__key *a, const lr__key *b)
{
    if (a->k0 != b->k0 || a->ev != b->ev)
        return false;
    if (a->id == NULL || b->id == NULL)
        return a->id == b->id;
    return a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0;
}

/* ---- the sort ---- */

typedef struct sentry {
    uint64_t k0;
    int64_t ev, api, wt;
    uint32_t row;
    uint32_t null_id; /* 1: null identifier (sorts first) */
} sentry;

typedef struct sort_ctx {
    bool str;
    size_t lcp;
    const uint32_t *off;
    const uint8_t *bytes;
} sort_ctx;

static inline int ent_cmp(const sort_ctx *c, const sentry *a, const sentry *b)
{
    if (a->null_id != b->null_id)
        return a->null_id ? -1 : 1;
    if (a->k0 != b->k0)
        return a->k0 < b->k0 ? -1 : 1;
    if (c->str && !a->null_id) {
        uint32_t ao = c->off[a->row], al = c->off[a->row + 1] - ao;
        uint32_t bo = c->off[b->row], bl = c->off[b->row + 1] - bo;
        /* The first lcp + 8 bytes are equal (or the strings ended): compare the rest. */
        if (al > c->lcp + 8 || bl > c->lcp + 8 || al != bl) {
            int x = id_cmp(c->bytes + ao, al, c->bytes + bo, bl);
            if (x != 0)
                return x;
        }
    }
    if (a->ev != b->ev)
        return a->ev < b->ev ? -1 : 1;
    if (a->api != b->api)
        return a->api < b->api ? -1 : 1;
    if (a->wt != b->wt)
        return a->wt < b->wt ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row; /* stable: input order breaks ties */
}

static void ent_swap(sentry *a, sentry *b)
{
    sentry t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(const sort_ctx *c, sentry *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        sentry x = v[i];
        size_t j = i;
        while (j > 0 && ent_cmp(c, &x, &v[j - 1]) < 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void sift_down(const sort_ctx *c, sentry *v, size_t i, size_t n)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && ent_cmp(c, &v[l], &v[m]) > 0)
            m = l;
        if (l + 1 < n && ent_cmp(c, &v[l + 1], &v[m]) > 0)
            m = l + 1;
        if (m == i)
            return;
        ent_swap(&v[i], &v[m]);
        i = m;
    }
}

static void heap_sort(const sort_ctx *c, sentry *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(c, v, i, n);
    for (size_t i = n; i-- > 1;) {
        ent_swap(&v[0], &v[i]);
        sift_down(c, v, 0, i);
    }
}

/* Introsort: quicksort with median-of-three, insertion sort below 24, heap sort when deep. */
static void intro_sort(const sort_ctx *c, sentry *v, size_t n, int depth)
{
    while (n > 24) {
        if (depth-- == 0) {
            heap_sort(c, v, n);
            return;
        }
        size_t mid = n / 2;
        if (ent_cmp(c, &v[mid], &v[0]) < 0)
            ent_swap(&v[mid], &v[0]);
        if (ent_cmp(c, &v[n - 1], &v[0]) < 0)
            ent_swap(&v[n - 1], &v[0]);
        if (ent_cmp(c, &v[n - 1], &v[mid]) < 0)
            ent_swap(&v[n - 1], &v[mid]);
        sentry pivot = v[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (ent_cmp(c, &v[i], &pivot) < 0)
                i++;
            while (ent_cmp(c, &pivot, &v[j]) < 0)
                j--;
            if (i >= j)
                break;
            ent_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        /* Recurse into the smaller side, loop on the larger. */
        if (j + 1 < n - j - 1) {
            intro_sort(c, v, j + 1, depth);
            v += j + 1;
            n -= j + 1;
        } else {
            intro_sort(c, v + j + 1, n - j - 1, depth);
            n = j + 1;
        }
    }
    insertion_sort(c, v, n);
}

lr_status lr__table_sort(const lr__table *t, uint32_t **perm, lr_error *err)
{
    const lr__schema *sc = t->sc;
    const lr__builder *id = &t->cols[sc->rid];
    size_t n = t->rows;
    sentry *v = NULL;
    uint32_t *p = NULL;
    sort_ctx c;
    lr_pq_column_batch idv, apiv, wtv;

    *perm = NULL;
    v = malloc((n ? n : 1) * sizeof *v);
    p = malloc((n ? n : 1) * sizeof *p);
    if (v == NULL || p == NULL) {
        free(v);
        free(p);
        return lr_error_set(err, LR_ENOMEM, "out of memory sorting %zu rows", n);
    }
    lr__builder_view(id, &idv);
    lr__builder_view(&t->cols[sc->api], &apiv);
    lr__builder_view(&t->cols[sc->wt], &wtv);
    memset(&c, 0, sizeof c);
    c.str = sc->rid_type == LR__C_STR;
    c.off = idv.offsets;
    c.bytes = idv.bytes;
    if (c.str && n > 0) {
        /* The longest prefix every identifier shares: skipped by the 8-byte key. */
        uint32_t f0 = idv.offsets[0];
        size_t lcp = idv.offsets[1] - f0;
        for (size_t r = 1; r < n && lcp > 0; r++) {
            uint32_t a = idv.offsets[r], l = idv.offsets[r + 1] - a;
            size_t m = l < lcp ? l : lcp, k = 0;
            while (k < m && idv.bytes[a + k] == idv.bytes[f0 + k])
                k++;
            lcp = k;
        }
        c.lcp = lcp;
    }
    for (size_t r = 0; r < n; r++) {
        sentry *e = &v[r];
        e->row = (uint32_t)r;
        e->null_id = idv.validity == NULL || idv.validity[r] ? 0 : 1;
        if (e->null_id)
            e->k0 = 0;
        else if (c.str) {
            uint32_t a = idv.offsets[r], l = idv.offsets[r + 1] - a;
            e->k0 = l > c.lcp ? prefix8(idv.bytes + a + c.lcp, l - c.lcp) : 0;
        } else {
            e->k0 = num_key(sc->rid_type, &idv, (uint32_t)r);
        }
        e->ev = t->ev[r];
        e->api = ts_or_min(&apiv, (uint32_t)r);
        e->wt = ts_or_min(&wtv, (uint32_t)r);
    }
    int depth = 2;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    intro_sort(&c, v, n, depth);
    for (size_t r = 0; r < n; r++)
        p[r] = v[r].row;
    free(v);
    *perm = p;
    return LR_OK;
}
