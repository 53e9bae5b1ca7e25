/*
 * features.c - the feature groups of a job and the scans that bring their
 * offline rows into hash partitions.
 *
 * A group's rows are read with plain offline scans (offline.h) of only the
 * columns needed: the record identifier, the event time, write_time,
 * api_invocation_time, is_deleted and the requested features. The event-time
 * range is split at partition boundaries into one range per worker with
 * about the same number of rows, so the workers read disjoint files.
 *
 * Each row becomes a feature record in the partition of its identifier's
 * hash:
 *   h (8) | event time us (8) | api_invocation_time (8) | write_time (8) |
 *   is_deleted (1) | key length (4) | key | payload
 * where the payload holds the requested features in order, each as a flag
 * byte (0 null, 1 present) and, when present, the value: INT64 and DOUBLE as
 * 8 bytes, strings as a 4-byte length and the bytes, lists as a 4-byte count
 * and per item a flag byte and the item's value. Rows without a valid event
 * time or identifier can never match and are dropped here, as are rows
 * written after the as-of time and rows of identifiers that no entity row
 * has (a Bloom filter of the entity keys).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/value.h"
#include "training/training_internal.h"

lr_offline_ctype lr__tr_feature_ctype(const lr_feature_def *f)
{
    if (f->collection == LR_COLL_VECTOR || f->type == LR_FT_FRACTIONAL)
        return LR_OFFLINE_DOUBLE;
    return f->type == LR_FT_INTEGRAL ? LR_OFFLINE_INT64 : LR_OFFLINE_STRING;
}

static lr_status add_scan_col(lr__tr_group *g, const char *name, uint32_t *pos)
{
    for (uint32_t i = 0; i < g->n_scan; i++) {
        if (strcmp(g->scan_cols[i], name) == 0) {
            *pos = i;
            return LR_OK;
        }
    }
    *pos = g->n_scan;
    g->scan_cols[g->n_scan++] = name;
    return LR_OK;
}

lr_status lr__tr_group_init(lr__tr_group *g, lr_catalog *cat, const char *name,
                            const char *const *features, uint32_t n_features, bool all_but_id,
                            lr_error *err)
{
    lr_status st;
    lr_fg_def *def;

    memset(g, 0, sizeof *g);
    if ((st = lr_catalog_fg_get(cat, name, &g->def, err)) != LR_OK)
        return st;
    def = g->def;
    if (!def->has_offline_config || def->resolved_offline_uri == NULL)
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", name);
    lr_feature_type idt = def->features[def->record_id_index].type;
    lr_feature_type ett = def->features[def->event_time_index].type;
    if (idt != LR_FT_INTEGRAL && idt != LR_FT_STRING)
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "feature group %s: record identifiers of type %s are not supported",
                            name, lr_feature_type_name(idt));
    if (ett != LR_FT_STRING && ett != LR_FT_FRACTIONAL)
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "feature group %s: event times of type %s are not supported", name,
                            lr_feature_type_name(ett));
    g->key_class = idt == LR_FT_INTEGRAL ? LR__TR_KEY_INT : LR__TR_KEY_STR;

    uint32_t n = features ? n_features : def->n_features - (all_but_id ? 1 : 0);
    if (features != NULL && n_features == 0)
        return lr_error_set(err, LR_EINVAL, "feature group %s: an empty feature list", name);
    g->feat = calloc(n ? n : 1, sizeof *g->feat);
    g->scan_col = calloc(n ? n : 1, sizeof *g->scan_col);
    g->out_names = calloc(n ? n : 1, sizeof *g->out_names);
    g->scan_cols = calloc(n + 5, sizeof *g->scan_cols);
    if (g->feat == NULL || g->scan_col == NULL || g->out_names == NULL || g->scan_cols == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    if (features == NULL) {
        for (uint32_t i = 0, k = 0; i < def->n_features; i++)
            if (!all_but_id || i != def->record_id_index)
                g->feat[k++] = i;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            const char *f = features[i];
            int32_t fi = f ? lr_fg_def_find_feature(def, f, strlen(f)) : -1;
            if (fi < 0)
                return lr_error_set(err, LR_ENOTFOUND, "feature group %s has no feature '%.80s'",
                                    name, f ? f : "");
            for (uint32_t j = 0; j < i; j++)
                if (g->feat[j] == (uint32_t)fi)
                    return lr_error_set(err, LR_EINVAL,
                                        "feature %s of group %s is asked for twice", f, name);
            g->feat[i] = (uint32_t)fi;
        }
    }
    g->n_out = n;
    uint32_t pos;
    add_scan_col(g, def->record_id_name, &pos);
    add_scan_col(g, def->event_time_name, &pos);
    add_scan_col(g, LR_OFFLINE_COL_WRITE_TIME, &pos);
    add_scan_col(g, LR_OFFLINE_COL_API_TIME, &pos);
    add_scan_col(g, LR_OFFLINE_COL_IS_DELETED, &pos);
    for (uint32_t j = 0; j < n; j++) {
        add_scan_col(g, def->features[g->feat[j]].name, &g->scan_col[j]);
        g->out_names[j] = strdup(def->features[g->feat[j]].name);
        if (g->out_names[j] == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    g->lo = INT64_MIN;
    g->hi = INT64_MAX;
    return LR_OK;
}

void lr__tr_group_free(lr__tr_group *g)
{
    if (g->out_names != NULL)
        for (uint32_t j = 0; j < g->n_out; j++)
            free(g->out_names[j]);
    free(g->out_names);
    free(g->feat);
    free(g->scan_col);
    free(g->scan_cols);
    lr_fg_def_free(g->def);
    memset(g, 0, sizeof *g);
}

void lr__tr_group_coldef(const lr__tr_group *g, uint32_t j, lr_pq_column_def *d)
{
    const lr_feature_def *f = &g->def->features[g->feat[j]];
    lr_offline_ctype t = lr__tr_feature_ctype(f);
    memset(d, 0, sizeof *d);
    d->name = g->out_names[j];
    d->optional = true;
    d->list = f->collection != LR_COLL_NONE;
    d->element_optional = d->list;
    if (t == LR_OFFLINE_INT64) {
        d->type = LR_PQ_INT64;
    } else if (t == LR_OFFLINE_DOUBLE) {
        d->type = LR_PQ_DOUBLE;
    } else {
        d->type = LR_PQ_BYTE_ARRAY;
        d->logical = LR_PQ_LOGICAL_STRING;
    }
}

/* ---- event-time ranges per worker ---- */

lr_status lr__tr_split_ranges(lr_catalog *cat, const lr__tr_group *g, uint32_t n,
                              int64_t *starts, int64_t *ends, uint32_t *n_out, uint64_t *rows,
                              lr_error *err)
{
    lr_offline_partition_info *p = NULL;
    size_t np = 0;
    uint64_t total = 0;
    lr_status st;

    *n_out = 0;
    *rows = 0;
    if ((st = lr_offline_partitions(cat, g->def->name, &p, &np, err)) != LR_OK)
        return st;
    /* Keep the partitions whose rows can fall in [lo, hi). */
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i].max_event_us < g->lo || p[i].min_event_us >= g->hi)
            continue;
        p[k++] = p[i];
        total += (uint64_t)(p[i].rows > 0 ? p[i].rows : 0);
    }
    np = k;
    *rows = total;
    if (np == 0)
        goto done;
    starts[0] = g->lo;
    uint32_t r = 0;
    uint64_t acc = 0;
    for (size_t i = 0; i < np; i++) {
        /* A new range starts at this partition once the current one has its share. */
        if (r + 1 < n && acc >= total * (r + 1) / n && p[i].start_us > starts[r] &&
            p[i].start_us < g->hi) {
            ends[r] = p[i].start_us;
            starts[++r] = p[i].start_us;
        }
        acc += (uint64_t)(p[i].rows > 0 ? p[i].rows : 0);
    }
    ends[r] = g->hi;
    *n_out = r + 1;
done:
    free(p);
    return LR_OK;
}

/* ---- payload ---- */

static size_t slot_size(lr_offline_ctype t, const lr_pq_column_batch *c, uint32_t i)
{
    if (t == LR_OFFLINE_STRING)
        return 4 + (size_t)(c->offsets[i + 1] - c->offsets[i]);
    return 8;
}

static uint8_t *slot_put(uint8_t *p, lr_offline_ctype t, const lr_pq_column_batch *c, uint32_t i)
{
    if (t == LR_OFFLINE_STRING) {
        uint32_t n = c->offsets[i + 1] - c->offsets[i];
        memcpy(p, &n, 4);
        memcpy(p + 4, c->bytes + c->offsets[i], n);
        return p + 4 + n;
    }
    memcpy(p, t == LR_OFFLINE_DOUBLE ? (const void *)&c->f64[i] : (const void *)&c->i64[i], 8);
    return p + 8;
}

static size_t value_size(lr_offline_ctype t, bool list, const lr_pq_column_batch *c, uint32_t r)
{
    if (c->validity != NULL && !c->validity[r])
        return 1;
    if (!list)
        return 1 + slot_size(t, c, r);
    size_t n = 1 + 4;
    for (uint32_t i = c->list_offsets[r]; i < c->list_offsets[r + 1]; i++) {
        n += 1;
        if (c->elem_validity == NULL || c->elem_validity[i])
            n += slot_size(t, c, i);
    }
    return n;
}

static uint8_t *value_put(uint8_t *p, lr_offline_ctype t, bool list, const lr_pq_column_batch *c,
                          uint32_t r)
{
    if (c->validity != NULL && !c->validity[r]) {
        *p = 0;
        return p + 1;
    }
    *p++ = 1;
    if (!list)
        return slot_put(p, t, c, r);
    uint32_t n = c->list_offsets[r + 1] - c->list_offsets[r];
    memcpy(p, &n, 4);
    p += 4;
    for (uint32_t i = c->list_offsets[r]; i < c->list_offsets[r + 1]; i++) {
        if (c->elem_validity != NULL && !c->elem_validity[i]) {
            *p++ = 0;
            continue;
        }
        *p++ = 1;
        p = slot_put(p, t, c, i);
    }
    return p;
}

static void scalar_decode(lr_offline_ctype t, const uint8_t **pp, lr__tr_val *v)
{
    const uint8_t *p = *pp;
    if (t == LR_OFFLINE_STRING) {
        memcpy(&v->slen, p, 4);
        v->s = p + 4;
        *pp = p + 4 + v->slen;
    } else {
        if (t == LR_OFFLINE_DOUBLE)
            memcpy(&v->f64, p, 8);
        else
            memcpy(&v->i64, p, 8);
        *pp = p + 8;
    }
}

void lr__tr_item_decode(lr_offline_ctype t, const uint8_t **p, lr__tr_val *item)
{
    memset(item, 0, sizeof *item);
    item->null = **p == 0;
    (*p)++;
    if (!item->null)
        scalar_decode(t, p, item);
}

void lr__tr_val_decode(lr_offline_ctype t, bool list, const uint8_t **p, lr__tr_val *v)
{
    memset(v, 0, sizeof *v);
    v->list = list;
    v->null = **p == 0;
    (*p)++;
    if (v->null)
        return;
    if (!list) {
        scalar_decode(t, p, v);
        return;
    }
    memcpy(&v->n_items, *p, 4);
    *p += 4;
    v->items = *p;
    /* Skip the items. */
    for (uint32_t i = 0; i < v->n_items; i++) {
        lr__tr_val item;
        lr__tr_item_decode(t, p, &item);
    }
}

/* ---- the scan worker ---- */

static bool event_time(const lr_pq_column_batch *c, bool is_string, uint32_t r, int64_t *us)
{
    if (c->validity != NULL && !c->validity[r])
        return false;
    if (is_string)
        return lr_time_parse_iso8601((const char *)c->bytes + c->offsets[r],
                                     c->offsets[r + 1] - c->offsets[r], us, NULL) == LR_OK;
    /* As the offline scan converts epoch seconds, so ranges agree. */
    double d = c->f64[r];
    if (!isfinite(d))
        return false;
    double x = d * 1e6;
    if (x < (double)LR_TIME_MIN_US || x > (double)LR_TIME_MAX_US)
        return false;
    *us = (int64_t)llround(x);
    return true;
}

static inline int64_t ts_or_min(const lr_pq_column_batch *c, uint32_t r)
{
    return c->validity != NULL && !c->validity[r] ? INT64_MIN : c->i64[r];
}

void lr__tr_scan_run(lr__tr_scan_task *t)
{
    lr__tr_group *g = t->g;
    const lr_fg_def *def = g->def;
    lr__tr_pw pw;
    bool et_str = def->features[def->event_time_index].type == LR_FT_STRING;
    bool id_int = g->key_class == LR__TR_KEY_INT;
    uint32_t mask = (1u << t->top_bits) - 1;
    lr_offline_ctype *types = NULL;
    bool *lists = NULL;
    lr_status st;

    t->st = lr__tr_pw_init(&pw, t->ctx, 1u << t->top_bits, t->out, false, &t->err);
    if (t->st != LR_OK)
        return;
    types = calloc(g->n_out ? g->n_out : 1, sizeof *types);
    lists = calloc(g->n_out ? g->n_out : 1, sizeof *lists);
    if (types == NULL || lists == NULL) {
        st = lr_error_set(&t->err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t j = 0; j < g->n_out; j++) {
        const lr_feature_def *f = &def->features[g->feat[j]];
        types[j] = lr__tr_feature_ctype(f);
        lists[j] = f->collection != LR_COLL_NONE;
    }
    for (;;) {
        const lr_offline_batch *b = NULL;
        if (atomic_load_explicit(&t->ctx->failed, memory_order_relaxed)) {
            st = LR_ECANCELED;
            break;
        }
        if ((st = lr_offline_scan_next(t->scan, &b, &t->err)) != LR_OK || b == NULL)
            break;
        const lr_pq_column_batch *idc = &b->columns[0], *etc = &b->columns[1];
        const lr_pq_column_batch *wtc = &b->columns[2], *apic = &b->columns[3];
        const lr_pq_column_batch *delc = &b->columns[4];
        for (uint32_t r = 0; r < b->n_rows; r++) {
            int64_t et, wt = ts_or_min(wtc, r);
            uint8_t kbuf[8];
            const uint8_t *key;
            uint32_t klen;
            if (wt > t->as_of_us || (idc->validity != NULL && !idc->validity[r]))
                continue;
            if (!event_time(etc, et_str, r, &et) || et < g->lo || et >= g->hi)
                continue;
            if (id_int) {
                lr__tr_int_key(idc->i64[r], kbuf);
                key = kbuf;
                klen = 8;
            } else {
                key = idc->bytes + idc->offsets[r];
                klen = idc->offsets[r + 1] - idc->offsets[r];
                if (klen == 0 || klen > LR__TR_KEY_MAX)
                    continue;
            }
            uint64_t h = lr__tr_hash(key, klen);
            if (t->bloom != NULL && !lr__tr_bloom_has(t->bloom, h))
                continue;
            size_t len = LR__TR_FREC_FIXED + klen;
            for (uint32_t j = 0; j < g->n_out; j++)
                len += value_size(types[j], lists[j], &b->columns[g->scan_col[j]], r);
            uint8_t *p;
            if ((st = lr__tr_pw_reserve(&pw, (uint32_t)h & mask, len, &p, &t->err)) != LR_OK)
                goto done;
            int64_t api = ts_or_min(apic, r);
            uint8_t del = (delc->validity == NULL || delc->validity[r]) && delc->bools[r];
            memcpy(p, &h, 8);
            memcpy(p + 8, &et, 8);
            memcpy(p + 16, &api, 8);
            memcpy(p + 24, &wt, 8);
            p[32] = del;
            memcpy(p + 33, &klen, 4);
            memcpy(p + 37, key, klen);
            p += 37 + klen;
            for (uint32_t j = 0; j < g->n_out; j++)
                p = value_put(p, types[j], lists[j], &b->columns[g->scan_col[j]], r);
            t->rows++;
        }
        atomic_fetch_add_explicit(t->progress, b->n_rows, memory_order_relaxed);
    }
    if (st == LR_OK)
        st = lr__tr_pw_flush(&pw, &t->err);
done:
    if (st != LR_OK && st != LR_ECANCELED)
        atomic_store(&t->ctx->failed, 1);
    t->st = st;
    lr__tr_pw_free(&pw);
    free(types);
    free(lists);
}
