/*
 * stats.c - reading column-chunk statistics safely, and row-group pruning.
 *
 * A wrong bound is worse than none (readers skip row groups with it), so a
 * bound is exposed only when its meaning is certain: min_value/max_value
 * when the column's order is type-defined (or the file predates
 * column_orders), the deprecated min/max only where signed comparison is the
 * column's order, never a NaN, and with the zero rules of parquet.thrift
 * (a +0.0 minimum may hide -0.0 values and a -0.0 maximum +0.0 ones).
 */
#include <math.h>
#include <string.h>

#include "parquet/internal.h"

static bool scalar_from_bytes(const lr__pq_leaf *leaf, const uint8_t *p, uint32_t n,
                              lr_pq_scalar *out)
{
    memset(out, 0, sizeof *out);
    switch (leaf->physical) {
    case LR__PQ_T_BOOLEAN:
        if (n < 1)
            return false;
        out->b = p[0] != 0;
        return true;
    case LR__PQ_T_INT32:
        if (n != 4)
            return false;
        memcpy(&out->i32, p, 4);
        return true;
    case LR__PQ_T_INT64:
        if (n != 8)
            return false;
        memcpy(&out->i64, p, 8);
        return true;
    case LR__PQ_T_FLOAT:
        if (n != 4)
            return false;
        memcpy(&out->f32, p, 4);
        return !isnan(out->f32);
    case LR__PQ_T_DOUBLE:
        if (n != 8)
            return false;
        memcpy(&out->f64, p, 8);
        return !isnan(out->f64);
    case LR__PQ_T_BYTE_ARRAY:
        out->bytes.ptr = p;
        out->bytes.len = n;
        return true;
    case LR__PQ_T_FIXED_LEN_BYTE_ARRAY:
        if ((int64_t)n != leaf->type_length)
            return false;
        out->bytes.ptr = p;
        out->bytes.len = n;
        return true;
    default:
        return false;
    }
}

void lr__pq_stats_decode(const lr_pq_reader *r, const lr__pq_leaf *leaf,
                         const lr__pq_column_meta *cm, lr_pq_stats *out)
{
    const lr__pq_statistics *s = &cm->statistics;
    const uint8_t *minp = NULL, *maxp = NULL;
    uint32_t minn = 0, maxn = 0;
    bool use_new = false;
    uint32_t col = (uint32_t)(leaf - r->leaves);

    memset(out, 0, sizeof *out);
    out->num_values = cm->num_values;
    if (!cm->has_statistics)
        return;
    out->has_null_count = s->has_null_count && s->null_count >= 0;
    out->null_count = s->null_count;
    out->has_nan_count = s->has_nan_count && s->nan_count >= 0;
    out->nan_count = s->nan_count;
    out->has_distinct_count = s->has_distinct_count && s->distinct_count >= 0;
    out->distinct_count = s->distinct_count;

    if (leaf->stats_ok) {
        uint8_t order = LR__PQ_ORDER_TYPE_DEFINED;
        if (r->meta.column_orders && col < r->meta.n_column_orders)
            order = r->meta.column_orders[col];
        use_new = order == LR__PQ_ORDER_TYPE_DEFINED;
    }
    /* Bounds are exact unless the writer says it truncated them. */
    if (use_new && (s->has_min_value || s->has_max_value)) {
        if (s->has_min_value) {
            minp = s->min_value;
            minn = s->min_value_len;
            out->min_exact = !s->has_is_min_value_exact || s->is_min_value_exact;
        }
        if (s->has_max_value) {
            maxp = s->max_value;
            maxn = s->max_value_len;
            out->max_exact = !s->has_is_max_value_exact || s->is_max_value_exact;
        }
    } else if (leaf->legacy_stats_ok && (s->has_min || s->has_max)) {
        if (s->has_min) {
            minp = s->min;
            minn = s->min_len;
            out->min_exact = true;
        }
        if (s->has_max) {
            maxp = s->max;
            maxn = s->max_len;
            out->max_exact = true;
        }
    }
    if (minp)
        out->has_min = scalar_from_bytes(leaf, minp, minn, &out->min);
    if (maxp)
        out->has_max = scalar_from_bytes(leaf, maxp, maxn, &out->max);
    if (leaf->physical == LR__PQ_T_FLOAT) {
        if (out->has_min && out->min.f32 == 0.0f)
            out->min.f32 = -0.0f;
        if (out->has_max && out->max.f32 == 0.0f)
            out->max.f32 = 0.0f;
    } else if (leaf->physical == LR__PQ_T_DOUBLE) {
        if (out->has_min && out->min.f64 == 0.0)
            out->min.f64 = -0.0;
        if (out->has_max && out->max.f64 == 0.0)
            out->max.f64 = 0.0;
    }
    /* Bounds that contradict each other are dropped rather than trusted. */
    if (out->has_min && out->has_max && lr__pq_scalar_cmp(leaf, &out->min, &out->max) > 0) {
        out->has_min = out->has_max = false;
        out->min_exact = out->max_exact = false;
    }
}

int lr__pq_scalar_cmp(const lr__pq_leaf *leaf, const lr_pq_scalar *a, const lr_pq_scalar *b)
{
    switch (leaf->physical) {
    case LR__PQ_T_BOOLEAN:
        return (int)a->b - (int)b->b;
    case LR__PQ_T_INT32:
        if (leaf->unsigned_order)
            return (uint32_t)a->i32 < (uint32_t)b->i32 ? -1 : (uint32_t)a->i32 > (uint32_t)b->i32;
        return a->i32 < b->i32 ? -1 : a->i32 > b->i32;
    case LR__PQ_T_INT64:
    case LR__PQ_T_INT96:
        if (leaf->unsigned_order)
            return (uint64_t)a->i64 < (uint64_t)b->i64 ? -1 : (uint64_t)a->i64 > (uint64_t)b->i64;
        return a->i64 < b->i64 ? -1 : a->i64 > b->i64;
    case LR__PQ_T_FLOAT:
        return a->f32 < b->f32 ? -1 : a->f32 > b->f32;
    case LR__PQ_T_DOUBLE:
        return a->f64 < b->f64 ? -1 : a->f64 > b->f64;
    default: {
        uint32_t n = a->bytes.len < b->bytes.len ? a->bytes.len : b->bytes.len;
        int c = n ? memcmp(a->bytes.ptr, b->bytes.ptr, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        return a->bytes.len < b->bytes.len ? -1 : a->bytes.len > b->bytes.len;
    }
    }
}

static bool scalar_is_nan(const lr__pq_leaf *leaf, const lr_pq_scalar *v)
{
    return (leaf->physical == LR__PQ_T_FLOAT && isnan(v->f32)) ||
           (leaf->physical == LR__PQ_T_DOUBLE && isnan(v->f64));
}

lr_status lr_pq_reader_stats(const lr_pq_reader *r, uint32_t rg, uint32_t col, lr_pq_stats *out)
{
    if (r == NULL || rg >= r->meta.n_row_groups || col >= r->n_leaves)
        return LR_EINVAL;
    lr__pq_stats_decode(r, &r->leaves[col], &r->meta.row_groups[rg].columns[col].meta_data, out);
    return LR_OK;
}

bool lr_pq_reader_may_contain(const lr_pq_reader *r, uint32_t rg, uint32_t col,
                              const lr_pq_scalar *lo, const lr_pq_scalar *hi)
{
    const lr__pq_leaf *leaf;
    lr_pq_stats s;

    if (r == NULL || rg >= r->meta.n_row_groups || col >= r->n_leaves)
        return true;
    leaf = &r->leaves[col];
    lr__pq_stats_decode(r, leaf, &r->meta.row_groups[rg].columns[col].meta_data, &s);
    /* Only nulls: no value can match. */
    if (s.has_null_count && s.null_count >= s.num_values)
        return false;
    if ((lo && scalar_is_nan(leaf, lo)) || (hi && scalar_is_nan(leaf, hi)))
        return true;
    if (lo && hi && lr__pq_scalar_cmp(leaf, lo, hi) > 0)
        return false;
    if (lo && s.has_max && lr__pq_scalar_cmp(leaf, &s.max, lo) < 0)
        return false;
    if (hi && s.has_min && lr__pq_scalar_cmp(leaf, &s.min, hi) > 0)
        return false;
    return true;
}
