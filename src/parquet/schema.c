/*
 * schema.c - between Parquet's schema tree (a depth-first list of
 * SchemaElements) and Larder's flat columns.
 *
 * Reading: every leaf becomes a column. Its definition and repetition
 * levels come from the OPTIONAL and REPEATED nodes on its path; a leaf under
 * exactly one REPEATED node is a list column (the three-level LIST layout,
 * the legacy two-level layouts and bare repeated fields alike), the list
 * being null when an ancestor above the repeated node is null and empty
 * when the repeated node is not reached. Logical types come from
 * logicalType when present and known, else from converted_type.
 *
 * Writing: a scalar column is one leaf under the root; a list column is
 *   <optional|required> group <name> (LIST) {
 *     repeated group list { <optional|required> <type> element; } }
 */
#include <stdio.h>
#include <string.h>

#include "parquet/internal.h"

/* ---- reading ---- */

typedef struct walk {
    lr_pq_reader *r;
    lr_error *err;
    uint32_t next;     /* next schema element to visit */
    uint32_t n_leaves; /* leaves seen so far */
    uint32_t cap;      /* capacity of r->leaves */
    const char *path[LR__PQ_MAX_SCHEMA_DEPTH];
} walk;

static void map_logical(const lr__pq_schema_element *e, lr_pq_column_def *d, bool *unsigned_order)
{
    const lr__pq_logical_type *lt = &e->logical;
    *unsigned_order = false;
    if (e->type == LR__PQ_T_INT96) {
        /* Impala/Spark timestamps: nanoseconds of a Julian day, read as microseconds. */
        d->logical = LR_PQ_LOGICAL_TIMESTAMP;
        d->unit = LR_PQ_MICROS;
        d->utc = false;
        return;
    }
    if (lt->kind != LR__PQ_LT_NONE && lt->kind != LR__PQ_LT_OTHER) {
        switch (lt->kind) {
        case LR__PQ_LT_STRING:
            d->logical = LR_PQ_LOGICAL_STRING;
            break;
        case LR__PQ_LT_ENUM:
            d->logical = LR_PQ_LOGICAL_ENUM;
            break;
        case LR__PQ_LT_JSON:
            d->logical = LR_PQ_LOGICAL_JSON;
            break;
        case LR__PQ_LT_UUID:
            d->logical = LR_PQ_LOGICAL_UUID;
            break;
        case LR__PQ_LT_FLOAT16:
            d->logical = LR_PQ_LOGICAL_FLOAT16;
            break;
        case LR__PQ_LT_DATE:
            d->logical = LR_PQ_LOGICAL_DATE;
            break;
        case LR__PQ_LT_TIME:
        case LR__PQ_LT_TIMESTAMP:
            d->logical = lt->kind == LR__PQ_LT_TIME ? LR_PQ_LOGICAL_TIME : LR_PQ_LOGICAL_TIMESTAMP;
            d->unit = lt->unit == LR__PQ_UNIT_MILLIS  ? LR_PQ_MILLIS
                      : lt->unit == LR__PQ_UNIT_NANOS ? LR_PQ_NANOS
                                                      : LR_PQ_MICROS;
            d->utc = lt->utc;
            break;
        case LR__PQ_LT_DECIMAL:
            d->logical = LR_PQ_LOGICAL_DECIMAL;
            d->precision = lt->precision;
            d->scale = lt->scale;
            break;
        case LR__PQ_LT_INTEGER:
            d->logical = LR_PQ_LOGICAL_INT;
            d->int_bits = (uint8_t)lt->bit_width;
            d->int_signed = lt->is_signed;
            *unsigned_order = !lt->is_signed;
            break;
        default:
            break;
        }
        return;
    }
    switch (e->converted_type) {
    case LR__PQ_CT_UTF8:
        d->logical = LR_PQ_LOGICAL_STRING;
        break;
    case LR__PQ_CT_ENUM:
        d->logical = LR_PQ_LOGICAL_ENUM;
        break;
    case LR__PQ_CT_JSON:
        d->logical = LR_PQ_LOGICAL_JSON;
        break;
    case LR__PQ_CT_DATE:
        d->logical = LR_PQ_LOGICAL_DATE;
        break;
    case LR__PQ_CT_TIME_MILLIS:
    case LR__PQ_CT_TIME_MICROS:
        d->logical = LR_PQ_LOGICAL_TIME;
        d->unit = e->converted_type == LR__PQ_CT_TIME_MILLIS ? LR_PQ_MILLIS : LR_PQ_MICROS;
        d->utc = true;
        break;
    case LR__PQ_CT_TIMESTAMP_MILLIS:
    case LR__PQ_CT_TIMESTAMP_MICROS:
        d->logical = LR_PQ_LOGICAL_TIMESTAMP;
        d->unit = e->converted_type == LR__PQ_CT_TIMESTAMP_MILLIS ? LR_PQ_MILLIS : LR_PQ_MICROS;
        d->utc = true;
        break;
    case LR__PQ_CT_DECIMAL:
        d->logical = LR_PQ_LOGICAL_DECIMAL;
        d->precision = e->precision;
        d->scale = e->scale < 0 ? 0 : e->scale;
        break;
    case LR__PQ_CT_INT_8:
    case LR__PQ_CT_INT_16:
    case LR__PQ_CT_INT_32:
    case LR__PQ_CT_INT_64:
        d->logical = LR_PQ_LOGICAL_INT;
        d->int_bits = (uint8_t)(8u << (e->converted_type - LR__PQ_CT_INT_8));
        d->int_signed = true;
        break;
    case LR__PQ_CT_UINT_8:
    case LR__PQ_CT_UINT_16:
    case LR__PQ_CT_UINT_32:
    case LR__PQ_CT_UINT_64:
        d->logical = LR_PQ_LOGICAL_INT;
        d->int_bits = (uint8_t)(8u << (e->converted_type - LR__PQ_CT_UINT_8));
        d->int_signed = false;
        *unsigned_order = true;
        break;
    default:
        break;
    }
}

/* Whether an annotation fits its physical type; a mismatch drops the annotation. */
static bool logical_fits(const lr_pq_column_def *d)
{
    switch (d->logical) {
    case LR_PQ_LOGICAL_NONE:
        return true;
    case LR_PQ_LOGICAL_STRING:
    case LR_PQ_LOGICAL_ENUM:
    case LR_PQ_LOGICAL_JSON:
        return d->type == LR_PQ_BYTE_ARRAY;
    case LR_PQ_LOGICAL_UUID:
        return d->type == LR_PQ_FIXED_LEN_BYTE_ARRAY && d->type_length == 16;
    case LR_PQ_LOGICAL_FLOAT16:
        return d->type == LR_PQ_FIXED_LEN_BYTE_ARRAY && d->type_length == 2;
    case LR_PQ_LOGICAL_DATE:
        return d->type == LR_PQ_INT32;
    case LR_PQ_LOGICAL_TIME:
        return (d->type == LR_PQ_INT32 && d->unit == LR_PQ_MILLIS) ||
               (d->type == LR_PQ_INT64 && d->unit != LR_PQ_MILLIS);
    case LR_PQ_LOGICAL_TIMESTAMP:
        return d->type == LR_PQ_INT64 || d->type == LR_PQ_INT96;
    case LR_PQ_LOGICAL_DECIMAL:
        return (d->type == LR_PQ_INT32 || d->type == LR_PQ_INT64 || d->type == LR_PQ_BYTE_ARRAY ||
                d->type == LR_PQ_FIXED_LEN_BYTE_ARRAY) &&
               d->scale >= 0 && d->precision > 0 && d->scale <= d->precision;
    case LR_PQ_LOGICAL_INT:
        return (d->type == LR_PQ_INT32 && d->int_bits <= 32) ||
               (d->type == LR_PQ_INT64 && d->int_bits == 64);
    }
    return false;
}

static char *join_path(lr_arena *a, const char *const *path, unsigned n)
{
    size_t len = 0;
    char *s, *p;
    for (unsigned i = 0; i < n; i++)
        len += strlen(path[i]) + 1;
    if ((s = lr_arena_alloc(a, len ? len : 1)) == NULL)
        return NULL;
    p = s;
    for (unsigned i = 0; i < n; i++) {
        size_t l = strlen(path[i]);
        if (i)
            *p++ = '.';
        memcpy(p, path[i], l);
        p += l;
    }
    *p = '\0';
    return s;
}

static lr_status add_leaf(walk *w, const lr__pq_schema_element *e, unsigned depth, uint16_t max_def,
                          uint16_t max_rep, const uint16_t *rep_defs)
{
    lr_pq_reader *r = w->r;
    lr__pq_leaf *leaf;
    lr_pq_column_def *d;

    if (w->n_leaves >= LR_PQ_MAX_COLUMNS)
        return lr_error_set(w->err, LR_ELIMIT, "Parquet schema has more than %u columns",
                            (unsigned)LR_PQ_MAX_COLUMNS);
    if (w->n_leaves == w->cap) {
        uint32_t ncap = w->cap ? w->cap * 2 : 16;
        lr__pq_leaf *nl = lr_arena_alloc(r->arena, (size_t)ncap * sizeof *nl);
        if (nl == NULL)
            return lr_error_set(w->err, LR_ELIMIT, "Parquet schema too large for its file");
        if (w->n_leaves)
            memcpy(nl, r->leaves, (size_t)w->n_leaves * sizeof *nl);
        r->leaves = nl;
        w->cap = ncap;
    }
    leaf = &r->leaves[w->n_leaves];
    memset(leaf, 0, sizeof *leaf);
    d = &leaf->def;
    leaf->schema_index = (uint32_t)(e - r->meta.schema);
    leaf->physical = e->type;
    leaf->type_length = e->has_type_length ? e->type_length : 0;
    leaf->max_def = max_def;
    leaf->max_rep = max_rep;
    leaf->rep_def = rep_defs[0];
    leaf->rep_def2 = rep_defs[1];
    leaf->supported = true;
    d->type = (lr_pq_type)e->type;
    d->type_length = leaf->type_length;
    if (max_rep == 0) {
        d->optional = max_def > 0;
    } else if (max_rep == 1) {
        d->list = true;
        d->depth = 1;
        d->optional = leaf->rep_def > 1;
        d->element_optional = max_def > leaf->rep_def;
    } else {
        /* Ancestors above the outer repeated node make the list nullable, and so on inward. */
        d->list = true;
        d->depth = 2;
        d->optional = leaf->rep_def > 1;
        d->inner_optional = leaf->rep_def2 > leaf->rep_def + 1;
        d->element_optional = max_def > leaf->rep_def2;
    }
    if (max_rep > 2) {
        leaf->supported = false;
        leaf->why_unsupported = "lists nested more than two deep";
    }
    if (e->type == LR__PQ_T_FIXED_LEN_BYTE_ARRAY &&
        (!e->has_type_length || e->type_length <= 0 || e->type_length > (1 << 20))) {
        leaf->supported = false;
        leaf->why_unsupported = "FIXED_LEN_BYTE_ARRAY without a valid type_length";
    }
    map_logical(e, d, &leaf->unsigned_order);
    if (!logical_fits(d)) {
        d->logical = LR_PQ_LOGICAL_NONE;
        leaf->unsigned_order = false;
    }
    /* The path for now; names are settled once every leaf is known. */
    d->name = join_path(r->arena, w->path, depth);
    if (d->name == NULL)
        return lr_error_set(w->err, LR_ELIMIT, "Parquet schema too large for its file");

    /* Which statistics follow the column's order (parquet.thrift ColumnOrder). */
    switch (e->type) {
    case LR__PQ_T_BOOLEAN:
    case LR__PQ_T_FLOAT:
    case LR__PQ_T_DOUBLE:
        leaf->stats_ok = true;
        leaf->legacy_stats_ok = true;
        break;
    case LR__PQ_T_INT32:
    case LR__PQ_T_INT64:
        leaf->stats_ok = true;
        leaf->legacy_stats_ok = !leaf->unsigned_order;
        break;
    case LR__PQ_T_BYTE_ARRAY:
    case LR__PQ_T_FIXED_LEN_BYTE_ARRAY:
        /* Unsigned bytes, except DECIMAL (signed value) and FLOAT16/INTERVAL. */
        leaf->stats_ok = d->logical != LR_PQ_LOGICAL_DECIMAL &&
                         e->logical.kind != LR__PQ_LT_FLOAT16 &&
                         e->converted_type != LR__PQ_CT_INTERVAL;
        leaf->legacy_stats_ok = false;
        break;
    default: /* INT96: order undefined under TYPE_ORDER */
        break;
    }
    w->n_leaves++;
    return LR_OK;
}

static lr_status visit(walk *w, unsigned depth, uint16_t def, uint16_t rep, const uint16_t *rd)
{
    uint16_t rep_defs[2] = {rd[0], rd[1]};
    const lr__pq_file_meta *m = &w->r->meta;
    const lr__pq_schema_element *e;
    lr_status st;

    if (w->next >= m->n_schema)
        return lr_error_set(w->err, LR_ECORRUPT,
                            "corrupt Parquet schema: children counts exceed the element list");
    if (depth >= LR__PQ_MAX_SCHEMA_DEPTH)
        return lr_error_set(w->err, LR_ECORRUPT, "Parquet schema nested too deeply");
    e = &m->schema[w->next++];
    w->path[depth] = e->name;
    if (e->repetition == LR__PQ_REP_OPTIONAL) {
        def++;
    } else if (e->repetition == LR__PQ_REP_REPEATED) {
        def++;
        rep++;
        if (rep <= 2)
            rep_defs[rep - 1] = def;
    } else if (e->repetition != LR__PQ_REP_REQUIRED) {
        return lr_error_set(w->err, LR_EUNSUPPORTED,
                            "Parquet schema element '%s' has repetition type %d", e->name,
                            (int)e->repetition);
    }
    if (e->num_children < 0) {
        if (e->type < 0)
            return lr_error_set(w->err, LR_ECORRUPT,
                                "corrupt Parquet schema: leaf '%s' has no type", e->name);
        return add_leaf(w, e, depth + 1, def, rep, rep_defs);
    }
    /* Each child needs an element of its own, so a larger count is a lie. */
    if ((uint32_t)e->num_children > m->n_schema - w->next)
        return lr_error_set(w->err, LR_ECORRUPT,
                            "corrupt Parquet schema: group '%s' claims %d children", e->name,
                            (int)e->num_children);
    for (int32_t i = 0; i < e->num_children; i++) {
        if ((st = visit(w, depth + 1, def, rep, rep_defs)) != LR_OK)
            return st;
    }
    return LR_OK;
}

lr_status lr__pq_schema_map(lr_pq_reader *r, lr_error *err)
{
    const lr__pq_file_meta *m = &r->meta;
    const lr__pq_schema_element *root;
    walk w;
    lr_status st;
    uint32_t *top_of = NULL, *leaves_under = NULL;

    memset(&w, 0, sizeof w);
    w.r = r;
    w.err = err;
    r->leaves = NULL;
    r->n_leaves = 0;
    if (m->n_schema == 0)
        return lr_error_set(err, LR_ECORRUPT, "corrupt Parquet schema: no root element");
    root = &m->schema[0];
    if (root->num_children < 0)
        return lr_error_set(err, LR_ECORRUPT, "corrupt Parquet schema: the root is not a group");
    if ((uint32_t)root->num_children > m->n_schema - 1)
        return lr_error_set(err, LR_ECORRUPT, "corrupt Parquet schema: root claims %d children",
                            (int)root->num_children);
    w.next = 1;
    /* Leaves record which top-level field they belong to through their path. */
    top_of = lr_arena_calloc(r->arena, m->n_schema, sizeof *top_of);
    leaves_under = lr_arena_calloc(r->arena, m->n_schema, sizeof *leaves_under);
    if (top_of == NULL || leaves_under == NULL)
        return lr_error_set(err, LR_ELIMIT, "Parquet schema too large for its file");
    for (int32_t i = 0; i < root->num_children; i++) {
        uint32_t top = w.next, first_leaf = w.n_leaves;
        static const uint16_t none[2] = {0, 0};
        if ((st = visit(&w, 0, 0, 0, none)) != LR_OK)
            return st;
        for (uint32_t l = first_leaf; l < w.n_leaves; l++)
            top_of[l] = top;
        leaves_under[top] = w.n_leaves - first_leaf;
    }
    if (w.next != m->n_schema)
        return lr_error_set(err, LR_ECORRUPT,
                            "corrupt Parquet schema: %u elements outside the tree",
                            (unsigned)(m->n_schema - w.next));
    r->n_leaves = w.n_leaves;
    /*
     * A top-level field with one leaf gives the column its own name when the
     * leaf is the field itself or the element of a list; a leaf in a struct
     * keeps its dotted path.
     */
    for (uint32_t l = 0; l < r->n_leaves; l++) {
        const lr__pq_schema_element *top = &m->schema[top_of[l]];
        if (leaves_under[top_of[l]] == 1 && (top->num_children < 0 || r->leaves[l].max_rep > 0))
            r->leaves[l].def.name = top->name;
    }
    return LR_OK;
}

/* ---- writing ---- */

static lr_status leaf_annotation(const lr_pq_column_def *c, lr__pq_schema_element *e, lr_error *err)
{
    e->type = (int32_t)c->type;
    switch (c->logical) {
    case LR_PQ_LOGICAL_NONE:
        break;
    case LR_PQ_LOGICAL_STRING:
        if (c->type != LR_PQ_BYTE_ARRAY)
            goto bad;
        e->logical.kind = LR__PQ_LT_STRING;
        e->converted_type = LR__PQ_CT_UTF8;
        break;
    case LR_PQ_LOGICAL_JSON:
        if (c->type != LR_PQ_BYTE_ARRAY)
            goto bad;
        e->logical.kind = LR__PQ_LT_JSON;
        e->converted_type = LR__PQ_CT_JSON;
        break;
    case LR_PQ_LOGICAL_TIMESTAMP:
        if (c->type != LR_PQ_INT64)
            goto bad;
        e->logical.kind = LR__PQ_LT_TIMESTAMP;
        e->logical.utc = c->utc;
        switch (c->unit) {
        case LR_PQ_MILLIS:
            e->logical.unit = LR__PQ_UNIT_MILLIS;
            if (c->utc)
                e->converted_type = LR__PQ_CT_TIMESTAMP_MILLIS;
            break;
        case LR_PQ_MICROS:
            e->logical.unit = LR__PQ_UNIT_MICROS;
            if (c->utc)
                e->converted_type = LR__PQ_CT_TIMESTAMP_MICROS;
            break;
        case LR_PQ_NANOS:
            e->logical.unit = LR__PQ_UNIT_NANOS;
            break;
        default:
            goto bad;
        }
        break;
    case LR_PQ_LOGICAL_DATE:
        if (c->type != LR_PQ_INT32)
            goto bad;
        e->logical.kind = LR__PQ_LT_DATE;
        e->converted_type = LR__PQ_CT_DATE;
        break;
    default:
        goto bad;
    }
    return LR_OK;
bad:
    return lr_error_set(err, LR_EINVAL,
                        "column '%s': the Parquet writer does not write %s with type %s", c->name,
                        lr_pq_logical_name(c->logical), lr_pq_type_name(c->type));
}

static void element_init(lr__pq_schema_element *e, const char *name)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->type = e->repetition = e->num_children = e->converted_type = -1;
    e->scale = e->precision = -1;
}

lr_status lr__pq_schema_build(const lr_pq_column_def *cols, uint32_t n, lr_arena *arena,
                              lr__pq_schema_element **out, uint32_t *n_out, lr_error *err)
{
    uint32_t total = 1, k = 0;
    lr__pq_schema_element *s;
    lr_status st;

    for (uint32_t i = 0; i < n; i++)
        total += cols[i].list ? 3 : 1;
    if ((s = lr_arena_calloc(arena, total, sizeof *s)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory building the Parquet schema");
    element_init(&s[k], "schema");
    s[k++].num_children = (int32_t)n;
    for (uint32_t i = 0; i < n; i++) {
        const lr_pq_column_def *c = &cols[i];
        if (c->list) {
            element_init(&s[k], c->name);
            s[k].repetition = c->optional ? LR__PQ_REP_OPTIONAL : LR__PQ_REP_REQUIRED;
            s[k].num_children = 1;
            s[k].converted_type = LR__PQ_CT_LIST;
            s[k].logical.kind = LR__PQ_LT_LIST;
            k++;
            element_init(&s[k], "list");
            s[k].repetition = LR__PQ_REP_REPEATED;
            s[k].num_children = 1;
            k++;
            element_init(&s[k], "element");
            s[k].repetition = c->element_optional ? LR__PQ_REP_OPTIONAL : LR__PQ_REP_REQUIRED;
        } else {
            element_init(&s[k], c->name);
            s[k].repetition = c->optional ? LR__PQ_REP_OPTIONAL : LR__PQ_REP_REQUIRED;
        }
        if ((st = leaf_annotation(c, &s[k], err)) != LR_OK)
            return st;
        k++;
    }
    *out = s;
    *n_out = total;
    return LR_OK;
}
