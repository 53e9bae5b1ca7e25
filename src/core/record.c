/*
 * record.c - checking a record (PutRecord's Record, a row being ingested,
 * UpdateRecord's Features) against its feature-group definition.
 *
 * The rules are PutRecord's (record.h, docs/values.md): each feature defined
 * and given once, the record identifier and event time present, each value
 * parsing as its type, lists exactly for collection features, Sets without
 * duplicates, Vectors of the configured dimension, and the size limits.
 * This runs for every record written: it does not allocate, except to sort
 * a Set of more than SET_SMALL items when looking for duplicates.
 */
#include "larder/record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "larder/value.h"

/* Sets up to this size are checked pairwise, on the stack. */
#define SET_SMALL 32

typedef struct num_key {
    uint64_t key;
    uint32_t idx;
} num_key;

typedef struct str_key {
    lr_str s;
    uint32_t idx;
} str_key;

static int cmp_num(const void *a, const void *b)
{
    const num_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_str(const void *a, const void *b)
{
    const str_key *x = a, *y = b;
    if (x->s.len != y->s.len)
        return x->s.len < y->s.len ? -1 : 1;
    int c = x->s.len ? memcmp(x->s.ptr, y->s.ptr, x->s.len) : 0;
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * The identity of a numeric Set item: numerically equal values are
 * duplicates ("1" and "01", "0" and "-0", "1.0" and "1e0"); every NaN is
 * the same item.
 */
static uint64_t num_identity(lr_feature_type t, int64_t i, double d)
{
    uint64_t bits;
    if (t == LR_FT_INTEGRAL)
        return (uint64_t)i;
    if (isnan(d))
        return 0x7ff8000000000000ULL;
    if (d == 0)
        d = 0.0; /* -0 == 0 */
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

/* Printable, bounded copy for messages. */
static void quote(const lr_str *s, char *q, size_t cap)
{
    size_t max = cap - 4, m = s->len > max ? max : s->len, i;
    for (i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s->ptr[i];
        q[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (s->len > max) {
        memcpy(q + m, "...", 3);
        m += 3;
    }
    q[m] = '\0';
}

static lr_status dup_error(const lr_feature_def *f, const lr_feature_value *v, uint32_t idx,
                           lr_error *err)
{
    char q[72];
    quote(&v->items[idx], q, sizeof q);
    return lr_error_set(err, LR_EINVAL,
                        "Feature '%s' is a Set: the value '%s' (item %u) appears more than once",
                        f->name, q, idx + 1);
}

/*
 * Parses item `s` as f's type; numeric items also give their Set identity
 * and, when `num` is not NULL, their number (*kind: lr_num_kind).
 */
static lr_status parse_item(const lr_feature_def *f, const lr_str *s, uint64_t *key,
                            uint8_t *kind, int64_t *num, lr_error *err)
{
    lr_status st;
    int64_t i = 0;
    double d = 0;

    switch (f->type) {
    case LR_FT_INTEGRAL:
        st = lr_value_parse_integral(s->ptr, s->len, &i, err);
        if (st == LR_OK && num) {
            *kind = LR_NUM_INT;
            *num = i;
        }
        break;
    case LR_FT_FRACTIONAL:
        st = lr_value_parse_fractional(s->ptr, s->len, &d, err);
        if (st == LR_OK && num) {
            *kind = LR_NUM_DOUBLE;
            memcpy(num, &d, sizeof d);
        }
        break;
    case LR_FT_STRING:
        return lr_value_check_string(s->ptr, s->len, err);
    default:
        return lr_error_set(err, LR_EINVAL, "unknown feature type %d", (int)f->type);
    }
    if (st == LR_OK)
        *key = num_identity(f->type, i, d);
    return st;
}

static lr_status check_set(const lr_feature_def *f, const lr_feature_value *v, const uint64_t *keys,
                           lr_error *err)
{
    lr_status st = LR_OK;
    uint32_t n = v->n_items, i, j;
    void *sorted = NULL;

    if (n <= SET_SMALL) {
        for (i = 1; i < n; i++) {
            for (j = 0; j < i; j++) {
                bool same =
                    f->type == LR_FT_STRING
                        ? v->items[i].len == v->items[j].len &&
                              (v->items[i].len == 0 ||
                               memcmp(v->items[i].ptr, v->items[j].ptr, v->items[i].len) == 0)
                        : keys[i] == keys[j];
                if (same)
                    return dup_error(f, v, i, err);
            }
        }
        return LR_OK;
    }
    if (f->type == LR_FT_STRING) {
        str_key *k = malloc((size_t)n * sizeof *k);
        if (k == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory checking the Set '%s'", f->name);
        sorted = k;
        for (i = 0; i < n; i++) {
            k[i].s = v->items[i];
            k[i].idx = i;
        }
        qsort(k, n, sizeof *k, cmp_str);
        for (i = 1; i < n; i++) {
            if (k[i].s.len == k[i - 1].s.len &&
                (k[i].s.len == 0 || memcmp(k[i].s.ptr, k[i - 1].s.ptr, k[i].s.len) == 0)) {
                st = dup_error(f, v, k[i].idx, err);
                goto cleanup;
            }
        }
    } else {
        num_key *k = malloc((size_t)n * sizeof *k);
        if (k == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory checking the Set '%s'", f->name);
        sorted = k;
        for (i = 0; i < n; i++) {
            k[i].key = keys[i];
            k[i].idx = i;
        }
        qsort(k, n, sizeof *k, cmp_num);
        for (i = 1; i < n; i++) {
            if (k[i].key == k[i - 1].key) {
                st = dup_error(f, v, k[i].idx, err);
                goto cleanup;
            }
        }
    }

cleanup:
    free(sorted);
    return st;
}


/* lr_feature_value_validate; a scalar's number goes to *kind and *num when num is not NULL. */
static lr_status value_validate(const lr_feature_def *f, const lr_feature_value *v, uint8_t *kind,
                                int64_t *num, lr_error *err)
{
    lr_status st = LR_OK;
    uint64_t small[SET_SMALL], *keys = NULL, key = 0;
    uint32_t i;

    if (f->collection == LR_COLL_NONE) {
        if (v->is_list)
            return lr_error_set(err, LR_EINVAL,
                                "Feature '%s' is not a collection: give ValueAsString, not "
                                "ValueAsStringList",
                                f->name);
        st = parse_item(f, &v->value, &key, kind, num, err);
        if (st != LR_OK)
            lr_error_prefix(err, "Feature '%s'", f->name);
        return st;
    }
    if (!v->is_list)
        return lr_error_set(err, LR_EINVAL,
                            "Feature '%s' is a %s collection: give ValueAsStringList, not "
                            "ValueAsString",
                            f->name, lr_collection_type_name(f->collection));
    if (v->n_items > 0 && v->items == NULL)
        return lr_error_set(err, LR_EINVAL, "Feature '%s': the list has no items array", f->name);
    if (f->collection == LR_COLL_VECTOR && v->n_items != f->vector_dim)
        return lr_error_set(err, LR_EINVAL,
                            "Feature '%s' is a Vector of dimension %u: got %u values", f->name,
                            f->vector_dim, v->n_items);
    if (f->collection == LR_COLL_SET && f->type != LR_FT_STRING) {
        keys = small;
        if (v->n_items > SET_SMALL) {
            keys = malloc((size_t)v->n_items * sizeof *keys);
            if (keys == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory checking the Set '%s'", f->name);
        }
    }
    for (i = 0; i < v->n_items; i++) {
        st = parse_item(f, &v->items[i], &key, NULL, NULL, err);
        if (st != LR_OK) {
            lr_error_prefix(err, "Feature '%s' item %u", f->name, i + 1);
            goto cleanup;
        }
        if (keys)
            keys[i] = key;
    }
    if (f->collection == LR_COLL_SET)
        st = check_set(f, v, keys, err);

cleanup:
    if (keys != small)
        free(keys);
    return st;
}

lr_status lr_feature_value_validate(const lr_feature_def *f, const lr_feature_value *v,
                                    lr_error *err)
{
    return value_validate(f, v, NULL, NULL, err);
}

lr_status lr_record_validate(const lr_fg_def *def, lr_record *rec, lr_error *err)
{
    uint64_t stack_seen[(LR_FG_FEATURES_MAX + 63) / 64];
    uint64_t *seen = stack_seen;
    /*
     * total: the values' bytes, plus the names' once `exact`. Names are at
     * most LR_FEATURE_NAME_MAX bytes, so they are only measured when that
     * bound could reach the limit.
     */
    size_t total = 0, words = ((size_t)def->n_features + 63) / 64;
    bool exact = false;
    const lr_feature_value *rid = NULL, *et = NULL;
    lr_status st = LR_OK;
    uint32_t i, j;

    if (words > sizeof stack_seen / sizeof stack_seen[0]) {
        seen = calloc(words, sizeof *seen);
        if (seen == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory checking a record");
    } else {
        /* Usually one word: a store, not a memset's string instruction. */
        seen[0] = 0;
        if (words > 1)
            memset(seen + 1, 0, (words - 1) * sizeof *seen);
    }
    if (rec->n_values > 0 && rec->values == NULL) {
        st = lr_error_set(err, LR_EINVAL, "The record has no values array");
        goto cleanup;
    }
    /* First the cheap checks, so an oversized record is not parsed at all. */
    for (i = 0; i < rec->n_values; i++) {
        const lr_feature_value *v = &rec->values[i];
        const lr_feature_def *f;
        if (v->feature >= def->n_features) {
            st = lr_error_set(err, LR_EINVAL,
                              "Record value %u refers to feature %u, but feature group '%s' "
                              "defines %u features",
                              i + 1, v->feature, def->name, def->n_features);
            goto cleanup;
        }
        f = &def->features[v->feature];
        if (seen[v->feature / 64] & ((uint64_t)1 << (v->feature % 64))) {
            st = lr_error_set(err, LR_EINVAL,
                              "The feature '%s' appears more than once in the record", f->name);
            goto cleanup;
        }
        seen[v->feature / 64] |= (uint64_t)1 << (v->feature % 64);
        if (exact)
            total += strlen(f->name);
        if (v->is_list) {
            if (v->n_items > 0 && v->items == NULL) {
                st = lr_error_set(err, LR_EINVAL, "Feature '%s': the list has no items array",
                                  f->name);
                goto cleanup;
            }
            for (j = 0; j < v->n_items && total <= LR_RECORD_MAX_BYTES; j++)
                total += v->items[j].len;
        } else {
            total += v->value.len;
        }
        if (!exact && total + (size_t)(i + 1) * LR_FEATURE_NAME_MAX > LR_RECORD_MAX_BYTES) {
            /* Near the limit: from here on the names count exactly. */
            for (j = 0; j <= i; j++)
                total += strlen(def->features[rec->values[j].feature].name);
            exact = true;
        }
        if (total > LR_RECORD_MAX_BYTES) {
            st = lr_error_set(err, LR_EINVAL,
                              "The record is larger than the limit of %d bytes (feature names "
                              "and values)",
                              LR_RECORD_MAX_BYTES);
            goto cleanup;
        }
        if (v->feature == def->record_id_index)
            rid = v;
        else if (v->feature == def->event_time_index)
            et = v;
    }
    if (rid == NULL) {
        st = lr_error_set(err, LR_EINVAL,
                          "The record identifier feature '%s' is missing from the record",
                          def->record_id_name);
        goto cleanup;
    }
    if (et == NULL) {
        st = lr_error_set(err, LR_EINVAL, "The event time feature '%s' is missing from the record",
                          def->event_time_name);
        goto cleanup;
    }
    for (i = 0; i < rec->n_values; i++) {
        lr_feature_value *v = &rec->values[i];
        int64_t num = 0;
        uint8_t kind = LR_NUM_NONE;
        st = value_validate(&def->features[v->feature], v, &kind, &num, err);
        if (st != LR_OK)
            goto cleanup;
        v->num_kind = kind;
        memcpy(&v->num, &num, sizeof num);
    }
    /* Both are scalar: their features are never collections. */
    if (rid->value.len == 0 || rid->value.len > LR_RECORD_ID_MAX_BYTES) {
        st = lr_error_set(err, LR_EINVAL,
                          "The record identifier '%s' must be 1 to %d bytes long, not %zu",
                          def->record_id_name, LR_RECORD_ID_MAX_BYTES, rid->value.len);
        goto cleanup;
    }
    st = lr_event_time_parse(et->value.ptr, et->value.len,
                             def->features[def->event_time_index].type, &rec->event_time_us, err);
    if (st != LR_OK) {
        lr_error_prefix(err, "Feature '%s'", def->event_time_name);
        goto cleanup;
    }
    rec->record_id = rid->value;

cleanup:
    if (seen != stack_seen)
        free(seen);
    return st;
}
