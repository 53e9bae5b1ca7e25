/*
 * metadata.c - encode and decode Parquet's Thrift structures (see metadata.h).
 *
 * Each decoder walks the fields of one struct, dispatches on the field id,
 * skips ids it does not know, and checks at the end that the required ones
 * were seen. Lists are sized from their header, which lr__tr_list already
 * bounded by the bytes left; the arena's cap bounds the rest.
 */
#include "parquet/metadata.h"

#include <string.h>

#include "parquet/thrift.h"

typedef struct dec {
    lr__tr r;
    lr_arena *arena; /* NULL for page headers: nothing is allocated */
    lr_error *err;
} dec;

static lr_status corrupt(dec *d, const char *what)
{
    return lr_error_set(d->err, LR_ECORRUPT, "corrupt Parquet metadata: %s", what);
}

static lr_status nomem(dec *d)
{
    return lr_error_set(d->err, LR_ELIMIT,
                        "Parquet metadata needs more memory than its size allows");
}

static void *alloc_array(dec *d, uint32_t n, size_t size)
{
    return lr_arena_calloc(d->arena, n ? n : 1, size);
}

/*
 * A decoder of a Thrift list of structs into an arena array, one per element
 * type: the list header, struct elements only, each element decoded with
 * `elem_dec`. *n_out is set once every element decoded.
 */
#define DEFINE_STRUCT_LIST(name, T, elem_dec, what)                                               \
    static lr_status name(dec *d, uint8_t t, T **out, uint32_t *n_out)                            \
    {                                                                                             \
        uint8_t elem;                                                                             \
        uint32_t n;                                                                               \
        lr_status st = lr__tr_list(&d->r, t, &elem, &n);                                          \
        if (st != LR_OK)                                                                          \
            return st;                                                                            \
        if (elem != LR__T_STRUCT)                                                                 \
            return corrupt(d, what " list of non-structs");                                      \
        if ((*out = alloc_array(d, n, sizeof **out)) == NULL)                                     \
            return nomem(d);                                                                      \
        for (uint32_t i = 0; i < n; i++) {                                                        \
            if ((st = elem_dec(d, elem, &(*out)[i])) != LR_OK)                                    \
                return st;                                                                        \
        }                                                                                         \
        *n_out = n;                                                                               \
        return LR_OK;                                                                             \
    }


static lr_status get_string(dec *d, uint8_t t, const char **out, uint32_t *len)
{
    const uint8_t *p;
    uint32_t n;
    lr_status st = lr__tr_binary(&d->r, t, &p, &n);
    char *s;
    if (st != LR_OK)
        return st;
    s = lr_arena_strndup(d->arena, (const char *)p, n);
    if (s == NULL)
        return nomem(d);
    *out = s;
    if (len)
        *len = n;
    return LR_OK;
}

static lr_status get_enum(dec *d, uint8_t t, int32_t *v, int32_t max, const char *what)
{
    lr_status st = lr__tr_i32(&d->r, t, v);
    if (st == LR_OK && (*v < 0 || *v > max))
        return lr_error_set(d->err, LR_ECORRUPT, "corrupt Parquet metadata: bad %s %d", what,
                            (int)*v);
    return st;
}

/* A struct whose fields this code ignores (empty marker structs and the like). */
static lr_status skip_struct(dec *d, uint8_t t)
{
    if (t != LR__T_STRUCT)
        return corrupt(d, "expected a struct");
    return lr__tr_skip(&d->r, t);
}

/* Wire types a field of each kind may have. */
enum { W_INT, W_BIN, W_STRUCT, W_LIST, W_BOOL };

static bool want_ok(uint8_t t, int kind)
{
    switch (kind) {
    case W_INT:
        return t == LR__T_I8 || t == LR__T_I16 || t == LR__T_I32 || t == LR__T_I64;
    case W_BIN:
        return t == LR__T_BINARY;
    case W_STRUCT:
        return t == LR__T_STRUCT;
    case W_LIST:
        return t == LR__T_LIST || t == LR__T_SET;
    default:
        return t == LR__T_BOOL_TRUE || t == LR__T_BOOL_FALSE;
    }
}

/*
 * Walking the fields of one struct:
 *
 *     fields f;
 *     if ((st = fields_begin(d, type, &f)) != LR_OK)
 *         return st;
 *     while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
 *         switch (f.fid) { case 1: ...; default: st = lr__tr_skip(&d->r, f.t); }
 *         if (st != LR_OK)
 *             break;
 *     }
 *     fields_end(d);
 *
 * f.seen has bit i set when field id i (1..31) was present with the
 * expected wire type.
 */
typedef struct fields {
    int16_t last;
    int16_t fid;
    uint8_t t;
    uint32_t seen;
} fields;

static lr_status fields_begin(dec *d, uint8_t type, fields *f)
{
    memset(f, 0, sizeof *f);
    if (type != LR__T_STRUCT)
        return corrupt(d, "expected a struct");
    return lr__tr_struct_enter(&d->r, &f->last);
}

static lr_status fields_next(dec *d, fields *f)
{
    lr_status st = lr__tr_field(&d->r, &f->last, &f->fid, &f->t);
    if (st == LR_OK && f->t != LR__T_STOP && f->fid > 0 && f->fid < 32)
        f->seen |= 1u << f->fid;
    return st;
}

static void fields_end(dec *d)
{
    lr__tr_struct_leave(&d->r);
}

/*
 * A known field id with another wire type is some writer's private
 * extension (Dremio reuses ColumnMetaData field 15 for a list): it is
 * skipped as unknown, and a required field skipped this way is then
 * reported missing. Returns false (with *st set) when the field was skipped.
 */
static bool want(dec *d, fields *f, int kind, lr_status *st)
{
    if (want_ok(f->t, kind))
        return true;
    if (f->fid > 0 && f->fid < 32)
        f->seen &= ~(1u << f->fid);
    *st = lr__tr_skip(&d->r, f->t);
    return false;
}

/* ---- decoders ---- */

static lr_status dec_statistics(dec *d, uint8_t t_in_, lr__pq_statistics *s)
{
    memset(s, 0, sizeof *s);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = lr__tr_binary(&d->r, f.t, &s->max, &s->max_len);
            s->has_max = true;
            break;
        case 2:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = lr__tr_binary(&d->r, f.t, &s->min, &s->min_len);
            s->has_min = true;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &s->null_count);
            s->has_null_count = true;
            break;
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &s->distinct_count);
            s->has_distinct_count = true;
            break;
        case 5:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = lr__tr_binary(&d->r, f.t, &s->max_value, &s->max_value_len);
            s->has_max_value = true;
            break;
        case 6:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = lr__tr_binary(&d->r, f.t, &s->min_value, &s->min_value_len);
            s->has_min_value = true;
            break;
        case 7:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &s->is_max_value_exact);
            s->has_is_max_value_exact = true;
            break;
        case 8:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &s->is_min_value_exact);
            s->has_is_min_value_exact = true;
            break;
        case 9:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &s->nan_count);
            s->has_nan_count = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    return LR_OK;
}

static lr_status dec_time_unit(dec *d, uint8_t t_in_, uint8_t *unit)
{
    *unit = 0;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
        case 2:
        case 3:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            *unit = (uint8_t)f.fid;
            st = skip_struct(d, f.t);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (*unit == 0)
        return corrupt(d, "time unit missing");
    return LR_OK;
}

static lr_status dec_time_like(dec *d, uint8_t t_in_, lr__pq_logical_type *lt)
{
    bool has_utc = false, has_unit = false;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &lt->utc);
            has_utc = true;
            break;
        case 2:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_time_unit(d, f.t, &lt->unit);
            has_unit = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (!has_utc || !has_unit)
        return corrupt(d, "TIME/TIMESTAMP logical type incomplete");
    return LR_OK;
}

static lr_status dec_decimal(dec *d, uint8_t t_in_, lr__pq_logical_type *lt)
{
    bool has_scale = false, has_precision = false;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &lt->scale);
            has_scale = true;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &lt->precision);
            has_precision = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (!has_scale || !has_precision)
        return corrupt(d, "DECIMAL logical type incomplete");
    return LR_OK;
}

static lr_status dec_int_type(dec *d, uint8_t t_in_, lr__pq_logical_type *lt)
{
    bool has_width = false, has_signed = false;
    int32_t w = 0;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &w);
            has_width = true;
            break;
        case 2:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &lt->is_signed);
            has_signed = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (!has_width || !has_signed || (w != 8 && w != 16 && w != 32 && w != 64))
        return corrupt(d, "INTEGER logical type incomplete or with a bad width");
    lt->bit_width = (int8_t)w;
    return LR_OK;
}

static lr_status dec_logical_type(dec *d, uint8_t t_in_, lr__pq_logical_type *lt)
{
    memset(lt, 0, sizeof *lt);
    /* Stays OTHER for a member newer than this code: readers then use the physical type. */
    lt->kind = LR__PQ_LT_OTHER;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case LR__PQ_LT_DECIMAL:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            lt->kind = LR__PQ_LT_DECIMAL;
            st = dec_decimal(d, f.t, lt);
            break;
        case LR__PQ_LT_TIME:
        case LR__PQ_LT_TIMESTAMP:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            lt->kind = (uint8_t)f.fid;
            st = dec_time_like(d, f.t, lt);
            break;
        case LR__PQ_LT_INTEGER:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            lt->kind = LR__PQ_LT_INTEGER;
            st = dec_int_type(d, f.t, lt);
            break;
        case LR__PQ_LT_STRING:
        case LR__PQ_LT_MAP:
        case LR__PQ_LT_LIST:
        case LR__PQ_LT_ENUM:
        case LR__PQ_LT_DATE:
        case LR__PQ_LT_UNKNOWN:
        case LR__PQ_LT_JSON:
        case LR__PQ_LT_BSON:
        case LR__PQ_LT_UUID:
        case LR__PQ_LT_FLOAT16:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            lt->kind = (uint8_t)f.fid;
            st = skip_struct(d, f.t);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    return LR_OK;
}

static lr_status dec_schema_element(dec *d, uint8_t t_in_, lr__pq_schema_element *e)
{
    memset(e, 0, sizeof *e);
    e->type = e->repetition = e->num_children = e->converted_type = -1;
    e->scale = e->precision = -1;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &e->type, LR__PQ_T_FIXED_LEN_BYTE_ARRAY, "physical type");
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &e->type_length);
            e->has_type_length = true;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            /* VECTOR (3) and anything newer are kept as is; the reader refuses them. */
            st = get_enum(d, f.t, &e->repetition, INT32_MAX, "repetition type");
            break;
        case 4:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = get_string(d, f.t, &e->name, NULL);
            break;
        case 5:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &e->num_children);
            if (st == LR_OK && e->num_children < 0)
                st = corrupt(d, "negative num_children");
            break;
        case 6:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &e->converted_type, INT32_MAX, "converted type");
            break;
        case 7:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &e->scale);
            break;
        case 8:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &e->precision);
            break;
        case 9:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &e->field_id);
            e->has_field_id = true;
            break;
        case 10:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_logical_type(d, f.t, &e->logical);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (e->name == NULL)
        return corrupt(d, "schema element without a name");
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_schema, lr__pq_schema_element, dec_schema_element, "schema")

static lr_status dec_kv(dec *d, uint8_t t_in_, lr__pq_kv *kv)
{
    memset(kv, 0, sizeof *kv);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = get_string(d, f.t, &kv->key, &kv->key_len);
            break;
        case 2:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = get_string(d, f.t, &kv->value, &kv->value_len);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (kv->key == NULL)
        return corrupt(d, "key-value pair without a key");
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_kv_list, lr__pq_kv, dec_kv, "key-value")

static lr_status dec_column_meta(dec *d, uint8_t t_in_, lr__pq_column_meta *m)
{
    memset(m, 0, sizeof *m);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &m->type, LR__PQ_T_FIXED_LEN_BYTE_ARRAY, "physical type");
            break;
        case 2: {
            if (!want(d, &f, W_LIST, &st))
                break;
            uint8_t elem;
            uint32_t n;
            if ((st = lr__tr_list(&d->r, f.t, &elem, &n)) != LR_OK)
                break;
            if ((m->encodings = alloc_array(d, n, sizeof *m->encodings)) == NULL) {
                st = nomem(d);
                break;
            }
            for (uint32_t i = 0; i < n && st == LR_OK; i++)
                st = lr__tr_i32(&d->r, elem, &m->encodings[i]);
            m->n_encodings = n;
            break;
        }
        case 3: {
            if (!want(d, &f, W_LIST, &st))
                break;
            uint8_t elem;
            uint32_t n;
            if ((st = lr__tr_list(&d->r, f.t, &elem, &n)) != LR_OK)
                break;
            if ((m->path = alloc_array(d, n, sizeof *m->path)) == NULL) {
                st = nomem(d);
                break;
            }
            for (uint32_t i = 0; i < n && st == LR_OK; i++)
                st = get_string(d, elem, &m->path[i], NULL);
            m->n_path = n;
            break;
        }
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &m->codec, INT32_MAX, "codec");
            break;
        case 5:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->num_values);
            break;
        case 6:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->total_uncompressed_size);
            break;
        case 7:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->total_compressed_size);
            break;
        case 8:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_kv_list(d, f.t, &m->kv, &m->n_kv);
            break;
        case 9:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->data_page_offset);
            break;
        case 10:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->index_page_offset);
            m->has_index_page_offset = true;
            break;
        case 11:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->dictionary_page_offset);
            m->has_dictionary_page_offset = true;
            break;
        case 12:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_statistics(d, f.t, &m->statistics);
            m->has_statistics = true;
            break;
        case 14:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->bloom_filter_offset);
            m->has_bloom_filter_offset = true;
            break;
        case 15:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &m->bloom_filter_length);
            m->has_bloom_filter_length = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    /* type, encodings, path_in_schema, codec, num_values, both sizes, data_page_offset */
    if ((f.seen & 0x2FE) != 0x2FE)
        return corrupt(d, "ColumnMetaData lacks a required field");
    if (m->num_values < 0 || m->total_compressed_size < 0 || m->total_uncompressed_size < 0)
        return corrupt(d, "ColumnMetaData has a negative count or size");
    return LR_OK;
}

static lr_status dec_column_chunk(dec *d, uint8_t t_in_, lr__pq_column_chunk *c)
{
    memset(c, 0, sizeof *c);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = get_string(d, f.t, &c->file_path, NULL);
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &c->file_offset);
            break;
        case 3:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_column_meta(d, f.t, &c->meta_data);
            c->has_meta_data = true;
            break;
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &c->offset_index_offset);
            c->has_offset_index = true;
            break;
        case 5:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &c->offset_index_length);
            break;
        case 6:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &c->column_index_offset);
            c->has_column_index = true;
            break;
        case 7:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &c->column_index_length);
            break;
        case 8:
        case 9:
            c->encrypted = true;
            st = lr__tr_skip(&d->r, f.t);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_column_chunks, lr__pq_column_chunk, dec_column_chunk, "column chunk")

static lr_status dec_sorting_column(dec *d, uint8_t t_in_, lr__pq_sorting_column *s)
{
    memset(s, 0, sizeof *s);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &s->column_idx);
            break;
        case 2:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &s->descending);
            break;
        case 3:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &s->nulls_first);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_sorting_columns, lr__pq_sorting_column, dec_sorting_column, "sorting column")

static lr_status dec_row_group(dec *d, uint8_t t_in_, lr__pq_row_group *g)
{
    bool has_columns = false, has_rows = false;
    memset(g, 0, sizeof *g);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_column_chunks(d, f.t, &g->columns, &g->n_columns);
            has_columns = true;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &g->total_byte_size);
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &g->num_rows);
            has_rows = true;
            break;
        case 4:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_sorting_columns(d, f.t, &g->sorting_columns, &g->n_sorting_columns);
            break;
        case 5:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &g->file_offset);
            g->has_file_offset = true;
            break;
        case 6:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &g->total_compressed_size);
            g->has_total_compressed_size = true;
            break;
        case 7: {
            if (!want(d, &f, W_INT, &st))
                break;
            int32_t v;
            st = lr__tr_i32(&d->r, f.t, &v);
            if (st == LR_OK && (v < INT16_MIN || v > INT16_MAX))
                st = corrupt(d, "row group ordinal out of range");
            g->ordinal = (int16_t)v;
            g->has_ordinal = true;
            break;
        }
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (!has_columns || !has_rows)
        return corrupt(d, "RowGroup lacks columns or num_rows");
    if (g->num_rows < 0)
        return corrupt(d, "RowGroup has a negative num_rows");
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_row_groups, lr__pq_row_group, dec_row_group, "row group")

static lr_status dec_column_order(dec *d, uint8_t t_in_, uint8_t *order)
{
    *order = LR__PQ_ORDER_UNKNOWN;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            *order = LR__PQ_ORDER_TYPE_DEFINED;
            st = skip_struct(d, f.t);
            break;
        case 2:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            *order = LR__PQ_ORDER_IEEE754_TOTAL;
            st = skip_struct(d, f.t);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    return LR_OK;
}

DEFINE_STRUCT_LIST(dec_column_orders, uint8_t, dec_column_order, "column order")

static lr_status dec_file_meta(dec *d, uint8_t t_in_, lr__pq_file_meta *m)
{
    bool has_version = false, has_schema = false, has_rows = false, has_groups = false;
    memset(m, 0, sizeof *m);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &m->version);
            has_version = true;
            break;
        case 2:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_schema(d, f.t, &m->schema, &m->n_schema);
            has_schema = true;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i64(&d->r, f.t, &m->num_rows);
            has_rows = true;
            break;
        case 4:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_row_groups(d, f.t, &m->row_groups, &m->n_row_groups);
            has_groups = true;
            break;
        case 5:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_kv_list(d, f.t, &m->kv, &m->n_kv);
            break;
        case 6:
            if (!want(d, &f, W_BIN, &st))
                break;
            st = get_string(d, f.t, &m->created_by, NULL);
            break;
        case 7:
            if (!want(d, &f, W_LIST, &st))
                break;
            st = dec_column_orders(d, f.t, &m->column_orders, &m->n_column_orders);
            break;
        case 8:
            m->encrypted = true;
            st = lr__tr_skip(&d->r, f.t);
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (!has_version || !has_schema || !has_rows || !has_groups)
        return corrupt(d, "FileMetaData lacks a required field");
    if (m->num_rows < 0)
        return corrupt(d, "FileMetaData has a negative num_rows");
    return LR_OK;
}

lr_status lr__pq_file_meta_decode(const uint8_t *p, size_t n, lr_arena *arena,
                                  lr__pq_file_meta *out, lr_error *err)
{
    dec d;
    lr__tr_init(&d.r, p, n, err);
    d.arena = arena;
    d.err = err;
    return dec_file_meta(&d, LR__T_STRUCT, out);
}

static lr_status dec_data_page_header(dec *d, uint8_t t_in_, lr__pq_data_page_header *h)
{
    uint32_t seen = 0;
    memset(h, 0, sizeof *h);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->num_values);
            seen |= 1;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->encoding, INT32_MAX, "encoding");
            seen |= 2;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->definition_level_encoding, INT32_MAX, "level encoding");
            seen |= 4;
            break;
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->repetition_level_encoding, INT32_MAX, "level encoding");
            seen |= 8;
            break;
        case 5:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_statistics(d, f.t, &h->statistics);
            h->has_statistics = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (seen != 15)
        return corrupt(d, "DataPageHeader lacks a required field");
    if (h->num_values < 0)
        return corrupt(d, "DataPageHeader has a negative num_values");
    return LR_OK;
}

static lr_status dec_dict_page_header(dec *d, uint8_t t_in_, lr__pq_dict_page_header *h)
{
    uint32_t seen = 0;
    memset(h, 0, sizeof *h);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->num_values);
            seen |= 1;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->encoding, INT32_MAX, "encoding");
            seen |= 2;
            break;
        case 3:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &h->is_sorted);
            h->has_is_sorted = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (seen != 3)
        return corrupt(d, "DictionaryPageHeader lacks a required field");
    if (h->num_values < 0)
        return corrupt(d, "DictionaryPageHeader has a negative num_values");
    return LR_OK;
}

static lr_status dec_data_page_header_v2(dec *d, uint8_t t_in_, lr__pq_data_page_header_v2 *h)
{
    uint32_t seen = 0;
    memset(h, 0, sizeof *h);
    h->is_compressed = true;
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->num_values);
            seen |= 1;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->num_nulls);
            seen |= 2;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->num_rows);
            seen |= 4;
            break;
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->encoding, INT32_MAX, "encoding");
            seen |= 8;
            break;
        case 5:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->definition_levels_byte_length);
            seen |= 16;
            break;
        case 6:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->repetition_levels_byte_length);
            seen |= 32;
            break;
        case 7:
            if (!want(d, &f, W_BOOL, &st))
                break;
            st = lr__tr_bool(&d->r, f.t, &h->is_compressed);
            break;
        case 8:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_statistics(d, f.t, &h->statistics);
            h->has_statistics = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (seen != 63)
        return corrupt(d, "DataPageHeaderV2 lacks a required field");
    if (h->num_values < 0 || h->num_nulls < 0 || h->num_rows < 0 || h->num_nulls > h->num_values ||
        h->definition_levels_byte_length < 0 || h->repetition_levels_byte_length < 0)
        return corrupt(d, "DataPageHeaderV2 has a negative or inconsistent count");
    return LR_OK;
}

static lr_status dec_page_header(dec *d, uint8_t t_in_, lr__pq_page_header *h)
{
    uint32_t seen = 0;
    memset(h, 0, sizeof *h);
    fields f;
    lr_status st;
    if ((st = fields_begin(d, t_in_, &f)) != LR_OK)
        return st;
    while ((st = fields_next(d, &f)) == LR_OK && f.t != LR__T_STOP) {
        switch (f.fid) {
        case 1:
            if (!want(d, &f, W_INT, &st))
                break;
            st = get_enum(d, f.t, &h->type, INT32_MAX, "page type");
            seen |= 1;
            break;
        case 2:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->uncompressed_page_size);
            seen |= 2;
            break;
        case 3:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->compressed_page_size);
            seen |= 4;
            break;
        case 4:
            if (!want(d, &f, W_INT, &st))
                break;
            st = lr__tr_i32(&d->r, f.t, &h->crc);
            h->has_crc = true;
            break;
        case 5:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_data_page_header(d, f.t, &h->data_page_header);
            h->has_data_page_header = true;
            break;
        case 7:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_dict_page_header(d, f.t, &h->dictionary_page_header);
            h->has_dictionary_page_header = true;
            break;
        case 8:
            if (!want(d, &f, W_STRUCT, &st))
                break;
            st = dec_data_page_header_v2(d, f.t, &h->data_page_header_v2);
            h->has_data_page_header_v2 = true;
            break;
        default:
            st = lr__tr_skip(&d->r, f.t);
        }
        if (st != LR_OK)
            break;
    }
    fields_end(d);
    if (st != LR_OK)
        return st;
    if (seen != 7)
        return corrupt(d, "PageHeader lacks a required field");
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        return corrupt(d, "PageHeader has a negative size");
    if ((h->type == LR__PQ_PAGE_DATA && !h->has_data_page_header) ||
        (h->type == LR__PQ_PAGE_DICTIONARY && !h->has_dictionary_page_header) ||
        (h->type == LR__PQ_PAGE_DATA_V2 && !h->has_data_page_header_v2))
        return corrupt(d, "PageHeader lacks the header of its page type");
    return LR_OK;
}

lr_status lr__pq_page_header_decode(const uint8_t *p, size_t n, lr__pq_page_header *out,
                                    size_t *consumed, lr_error *err)
{
    dec d;
    lr_status st;
    lr__tr_init(&d.r, p, n, err);
    d.arena = NULL;
    d.err = err;
    st = dec_page_header(&d, LR__T_STRUCT, out);
    if (st == LR_OK)
        *consumed = lr__tr_offset(&d.r, p);
    return st;
}

/* ---- encoders ---- */

static void enc_statistics(lr__tw *w, int16_t fid, const lr__pq_statistics *s)
{
    lr__tw_struct_begin(w, fid);
    if (s->has_max)
        lr__tw_binary(w, 1, s->max, s->max_len);
    if (s->has_min)
        lr__tw_binary(w, 2, s->min, s->min_len);
    if (s->has_null_count)
        lr__tw_i64(w, 3, s->null_count);
    if (s->has_distinct_count)
        lr__tw_i64(w, 4, s->distinct_count);
    if (s->has_max_value)
        lr__tw_binary(w, 5, s->max_value, s->max_value_len);
    if (s->has_min_value)
        lr__tw_binary(w, 6, s->min_value, s->min_value_len);
    if (s->has_is_max_value_exact)
        lr__tw_bool(w, 7, s->is_max_value_exact);
    if (s->has_is_min_value_exact)
        lr__tw_bool(w, 8, s->is_min_value_exact);
    if (s->has_nan_count)
        lr__tw_i64(w, 9, s->nan_count);
    lr__tw_struct_end(w);
}

static void enc_empty_struct(lr__tw *w, int16_t fid)
{
    lr__tw_struct_begin(w, fid);
    lr__tw_struct_end(w);
}

static void enc_logical_type(lr__tw *w, int16_t fid, const lr__pq_logical_type *lt)
{
    lr__tw_struct_begin(w, fid);
    switch (lt->kind) {
    case LR__PQ_LT_DECIMAL:
        lr__tw_struct_begin(w, LR__PQ_LT_DECIMAL);
        lr__tw_i32(w, 1, lt->scale);
        lr__tw_i32(w, 2, lt->precision);
        lr__tw_struct_end(w);
        break;
    case LR__PQ_LT_TIME:
    case LR__PQ_LT_TIMESTAMP:
        lr__tw_struct_begin(w, lt->kind);
        lr__tw_bool(w, 1, lt->utc);
        lr__tw_struct_begin(w, 2);
        enc_empty_struct(w, lt->unit);
        lr__tw_struct_end(w);
        lr__tw_struct_end(w);
        break;
    case LR__PQ_LT_INTEGER:
        lr__tw_struct_begin(w, LR__PQ_LT_INTEGER);
        lr__tw_i8(w, 1, lt->bit_width);
        lr__tw_bool(w, 2, lt->is_signed);
        lr__tw_struct_end(w);
        break;
    default:
        enc_empty_struct(w, lt->kind);
        break;
    }
    lr__tw_struct_end(w);
}

static void enc_kv_list(lr__tw *w, int16_t fid, const lr__pq_kv *kv, uint32_t n)
{
    lr__tw_list_begin(w, fid, LR__T_STRUCT, n);
    for (uint32_t i = 0; i < n; i++) {
        lr__tw_elem_struct_begin(w);
        lr__tw_binary(w, 1, kv[i].key, kv[i].key_len);
        if (kv[i].value)
            lr__tw_binary(w, 2, kv[i].value, kv[i].value_len);
        lr__tw_struct_end(w);
    }
}

static void enc_schema_element(lr__tw *w, const lr__pq_schema_element *e)
{
    lr__tw_elem_struct_begin(w);
    if (e->type >= 0)
        lr__tw_i32(w, 1, e->type);
    if (e->has_type_length)
        lr__tw_i32(w, 2, e->type_length);
    if (e->repetition >= 0)
        lr__tw_i32(w, 3, e->repetition);
    lr__tw_string(w, 4, e->name);
    if (e->num_children >= 0)
        lr__tw_i32(w, 5, e->num_children);
    if (e->converted_type >= 0)
        lr__tw_i32(w, 6, e->converted_type);
    if (e->scale >= 0)
        lr__tw_i32(w, 7, e->scale);
    if (e->precision >= 0)
        lr__tw_i32(w, 8, e->precision);
    if (e->has_field_id)
        lr__tw_i32(w, 9, e->field_id);
    if (e->logical.kind != LR__PQ_LT_NONE && e->logical.kind != LR__PQ_LT_OTHER)
        enc_logical_type(w, 10, &e->logical);
    lr__tw_struct_end(w);
}

static void enc_column_meta(lr__tw *w, int16_t fid, const lr__pq_column_meta *m)
{
    lr__tw_struct_begin(w, fid);
    lr__tw_i32(w, 1, m->type);
    lr__tw_list_begin(w, 2, LR__T_I32, m->n_encodings);
    for (uint32_t i = 0; i < m->n_encodings; i++)
        lr__tw_elem_i32(w, m->encodings[i]);
    lr__tw_list_begin(w, 3, LR__T_BINARY, m->n_path);
    for (uint32_t i = 0; i < m->n_path; i++)
        lr__tw_elem_binary(w, m->path[i], strlen(m->path[i]));
    lr__tw_i32(w, 4, m->codec);
    lr__tw_i64(w, 5, m->num_values);
    lr__tw_i64(w, 6, m->total_uncompressed_size);
    lr__tw_i64(w, 7, m->total_compressed_size);
    if (m->n_kv)
        enc_kv_list(w, 8, m->kv, m->n_kv);
    lr__tw_i64(w, 9, m->data_page_offset);
    if (m->has_index_page_offset)
        lr__tw_i64(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset)
        lr__tw_i64(w, 11, m->dictionary_page_offset);
    if (m->has_statistics)
        enc_statistics(w, 12, &m->statistics);
    if (m->has_bloom_filter_offset)
        lr__tw_i64(w, 14, m->bloom_filter_offset);
    if (m->has_bloom_filter_length)
        lr__tw_i32(w, 15, m->bloom_filter_length);
    lr__tw_struct_end(w);
}

static void enc_column_chunk(lr__tw *w, const lr__pq_column_chunk *c)
{
    lr__tw_elem_struct_begin(w);
    if (c->file_path)
        lr__tw_string(w, 1, c->file_path);
    lr__tw_i64(w, 2, c->file_offset);
    if (c->has_meta_data)
        enc_column_meta(w, 3, &c->meta_data);
    if (c->has_offset_index) {
        lr__tw_i64(w, 4, c->offset_index_offset);
        lr__tw_i32(w, 5, c->offset_index_length);
    }
    if (c->has_column_index) {
        lr__tw_i64(w, 6, c->column_index_offset);
        lr__tw_i32(w, 7, c->column_index_length);
    }
    lr__tw_struct_end(w);
}

static void enc_row_group(lr__tw *w, const lr__pq_row_group *g)
{
    lr__tw_elem_struct_begin(w);
    lr__tw_list_begin(w, 1, LR__T_STRUCT, g->n_columns);
    for (uint32_t i = 0; i < g->n_columns; i++)
        enc_column_chunk(w, &g->columns[i]);
    lr__tw_i64(w, 2, g->total_byte_size);
    lr__tw_i64(w, 3, g->num_rows);
    if (g->n_sorting_columns) {
        lr__tw_list_begin(w, 4, LR__T_STRUCT, g->n_sorting_columns);
        for (uint32_t i = 0; i < g->n_sorting_columns; i++) {
            lr__tw_elem_struct_begin(w);
            lr__tw_i32(w, 1, g->sorting_columns[i].column_idx);
            lr__tw_bool(w, 2, g->sorting_columns[i].descending);
            lr__tw_bool(w, 3, g->sorting_columns[i].nulls_first);
            lr__tw_struct_end(w);
        }
    }
    if (g->has_file_offset)
        lr__tw_i64(w, 5, g->file_offset);
    if (g->has_total_compressed_size)
        lr__tw_i64(w, 6, g->total_compressed_size);
    if (g->has_ordinal)
        lr__tw_i16(w, 7, g->ordinal);
    lr__tw_struct_end(w);
}

lr_status lr__pq_file_meta_encode(const lr__pq_file_meta *m, lr_buf *out)
{
    lr__tw w;
    lr__tw_init(&w, out);
    lr__tw_i32(&w, 1, m->version);
    lr__tw_list_begin(&w, 2, LR__T_STRUCT, m->n_schema);
    for (uint32_t i = 0; i < m->n_schema; i++)
        enc_schema_element(&w, &m->schema[i]);
    lr__tw_i64(&w, 3, m->num_rows);
    lr__tw_list_begin(&w, 4, LR__T_STRUCT, m->n_row_groups);
    for (uint32_t i = 0; i < m->n_row_groups; i++)
        enc_row_group(&w, &m->row_groups[i]);
    if (m->n_kv)
        enc_kv_list(&w, 5, m->kv, m->n_kv);
    if (m->created_by)
        lr__tw_string(&w, 6, m->created_by);
    if (m->column_orders) {
        lr__tw_list_begin(&w, 7, LR__T_STRUCT, m->n_column_orders);
        for (uint32_t i = 0; i < m->n_column_orders; i++) {
            lr__tw_elem_struct_begin(&w);
            if (m->column_orders[i] != LR__PQ_ORDER_UNKNOWN)
                enc_empty_struct(&w, m->column_orders[i]);
            lr__tw_struct_end(&w);
        }
    }
    lr__tw_struct_end(&w);
    return lr__tw_status(&w);
}

lr_status lr__pq_page_header_encode(const lr__pq_page_header *h, lr_buf *out)
{
    lr__tw w;
    lr__tw_init(&w, out);
    lr__tw_i32(&w, 1, h->type);
    lr__tw_i32(&w, 2, h->uncompressed_page_size);
    lr__tw_i32(&w, 3, h->compressed_page_size);
    if (h->has_crc)
        lr__tw_i32(&w, 4, h->crc);
    if (h->has_data_page_header) {
        const lr__pq_data_page_header *d = &h->data_page_header;
        lr__tw_struct_begin(&w, 5);
        lr__tw_i32(&w, 1, d->num_values);
        lr__tw_i32(&w, 2, d->encoding);
        lr__tw_i32(&w, 3, d->definition_level_encoding);
        lr__tw_i32(&w, 4, d->repetition_level_encoding);
        if (d->has_statistics)
            enc_statistics(&w, 5, &d->statistics);
        lr__tw_struct_end(&w);
    }
    if (h->has_dictionary_page_header) {
        const lr__pq_dict_page_header *d = &h->dictionary_page_header;
        lr__tw_struct_begin(&w, 7);
        lr__tw_i32(&w, 1, d->num_values);
        lr__tw_i32(&w, 2, d->encoding);
        if (d->has_is_sorted)
            lr__tw_bool(&w, 3, d->is_sorted);
        lr__tw_struct_end(&w);
    }
    if (h->has_data_page_header_v2) {
        const lr__pq_data_page_header_v2 *d = &h->data_page_header_v2;
        lr__tw_struct_begin(&w, 8);
        lr__tw_i32(&w, 1, d->num_values);
        lr__tw_i32(&w, 2, d->num_nulls);
        lr__tw_i32(&w, 3, d->num_rows);
        lr__tw_i32(&w, 4, d->encoding);
        lr__tw_i32(&w, 5, d->definition_levels_byte_length);
        lr__tw_i32(&w, 6, d->repetition_levels_byte_length);
        if (!d->is_compressed)
            lr__tw_bool(&w, 7, false);
        if (d->has_statistics)
            enc_statistics(&w, 8, &d->statistics);
        lr__tw_struct_end(&w);
    }
    lr__tw_struct_end(&w);
    return lr__tw_status(&w);
}

/* ---- names ---- */

const char *lr__pq_type_name(int32_t type)
{
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    if (type < 0 || type > 7)
        return "UNKNOWN";
    return names[type];
}

const char *lr__pq_encoding_name(int32_t enc)
{
    static const char *const names[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    if (enc < 0 || enc > LR__PQ_ENC_MAX)
        return "UNKNOWN";
    return names[enc];
}

const char *lr__pq_converted_type_name(int32_t ct)
{
    static const char *const names[] = {"UTF8",
                                        "MAP",
                                        "MAP_KEY_VALUE",
                                        "LIST",
                                        "ENUM",
                                        "DECIMAL",
                                        "DATE",
                                        "TIME_MILLIS",
                                        "TIME_MICROS",
                                        "TIMESTAMP_MILLIS",
                                        "TIMESTAMP_MICROS",
                                        "UINT_8",
                                        "UINT_16",
                                        "UINT_32",
                                        "UINT_64",
                                        "INT_8",
                                        "INT_16",
                                        "INT_32",
                                        "INT_64",
                                        "JSON",
                                        "BSON",
                                        "INTERVAL"};
    if (ct < 0 || ct > LR__PQ_CT_INTERVAL)
        return "UNKNOWN";
    return names[ct];
}

const char *lr__pq_page_type_name(int32_t t)
{
    static const char *const names[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                        "DATA_PAGE_V2"};
    if (t < 0 || t > 3)
        return "UNKNOWN";
    return names[t];
}

const char *lr__pq_repetition_name(int32_t r)
{
    static const char *const names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
    if (r < 0 || r > 2)
        return "UNKNOWN";
    return names[r];
}
