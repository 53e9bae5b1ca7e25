/*
 * entry.c - encoding and decoding write-ahead-log payloads (see entry.h).
 * Decoding treats the payload as untrusted: every length is checked against
 * what remains, so a damaged entry that slipped past its checksum yields
 * LR_ECORRUPT, never a read out of bounds.
 */
#include "offline/entry.h"

#include <string.h>

#include "larder/varint.h"

/* Little-endian fields, whatever the host's byte order. */
static uint32_t to_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

static uint64_t to_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

static void le32(unsigned char *p, uint32_t v)
{
    v = to_le32(v);
    memcpy(p, &v, 4);
}

static void le64(unsigned char *p, uint64_t v)
{
    v = to_le64(v);
    memcpy(p, &v, 8);
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return to_le32(v);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return to_le64(v);
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    return p + lr_varint_put(p, v);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* The most bytes one varint takes (a 64-bit value). */
#define VARINT_MAX 10

lr_status lr__entry_encode_record(lr_buf *out, uint32_t schema_id, const lr_record *rec,
                                  bool is_deleted, int64_t api_invocation_us)
{
    size_t bound = LR__ENTRY_RECORD_HDR;
    lr_status st;

    /*
     * A bound on the size first (every varint at its widest), so the entry
     * is written in place with one reservation and in one pass.
     */
    for (uint32_t i = 0; i < rec->n_values; i++) {
        const lr_feature_value *v = &rec->values[i];
        bound += 2 * VARINT_MAX;
        if (!v->is_list) {
            if (v->value.len > UINT32_MAX)
                return LR_ELIMIT;
            bound += v->value.len;
        } else {
            for (uint32_t k = 0; k < v->n_items; k++) {
                if (v->items[k].len > UINT32_MAX)
                    return LR_ELIMIT;
                bound += VARINT_MAX + v->items[k].len;
            }
        }
    }
    if ((st = lr_buf_reserve(out, bound)) != LR_OK)
        return st;
    unsigned char *start = (unsigned char *)out->data + out->len, *p = start;
    memset(p, 0, LR__ENTRY_RECORD_HDR);
    p[0] = LR__ENTRY_RECORD_COMPACT;
    p[1] = is_deleted ? 1 : 0;
    le32(p + 4, schema_id);
    le64(p + 8, (uint64_t)rec->event_time_us);
    le64(p + 24, (uint64_t)api_invocation_us);
    le32(p + 32, rec->n_values);
    p += LR__ENTRY_RECORD_HDR;
    for (uint32_t i = 0; i < rec->n_values; i++) {
        const lr_feature_value *v = &rec->values[i];
        uint64_t tag = (uint64_t)v->feature << 2;
        if (!v->is_list && v->num_kind == LR_NUM_INT) {
            /* Numbers validation parsed: nothing to parse again. */
            p = put_varint(p, tag | LR__ENTRY_KIND_INT);
            p = put_varint(p, zigzag(v->num.i));
        } else if (!v->is_list && v->num_kind == LR_NUM_DOUBLE) {
            uint64_t bits;
            memcpy(&bits, &v->num, sizeof bits);
            p = put_varint(p, tag | LR__ENTRY_KIND_DOUBLE);
            le64(p, bits);
            p += 8;
        } else if (!v->is_list) {
            p = put_varint(p, tag | LR__ENTRY_KIND_STRING);
            p = put_varint(p, v->value.len);
            if (v->value.len)
                memcpy(p, v->value.ptr, v->value.len);
            p += v->value.len;
        } else {
            p = put_varint(p, tag | LR__ENTRY_KIND_LIST);
            p = put_varint(p, v->n_items);
            for (uint32_t k = 0; k < v->n_items; k++) {
                p = put_varint(p, v->items[k].len);
                if (v->items[k].len)
                    memcpy(p, v->items[k].ptr, v->items[k].len);
                p += v->items[k].len;
            }
        }
    }
    out->len += (size_t)(p - start);
    out->data[out->len] = '\0';
    return LR_OK;
}

void lr__entry_stamp(void *payload, int64_t write_time_us)
{
    le64((unsigned char *)payload + LR__ENTRY_WRITE_TIME_OFF, (uint64_t)write_time_us);
}

typedef struct rd {
    const unsigned char *p;
    size_t left;
} rd;

static bool take32(rd *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = rd32(r->p);
    r->p += 4;
    r->left -= 4;
    return true;
}

static bool take_str(rd *r, lr_str *s)
{
    uint32_t n;
    if (!take32(r, &n) || r->left < n)
        return false;
    s->ptr = (const char *)r->p;
    s->len = n;
    r->p += n;
    r->left -= n;
    return true;
}

/* The 8 bytes of a number (kinds 2 and 3 of the fixed form, kind 3 of the compact one). */
static bool take_num64(rd *r, lr__entry_value *v)
{
    if (r->left < 8)
        return false;
    uint64_t bits = rd64(r->p);
    memcpy(&v->num, &bits, sizeof bits);
    r->p += 8;
    r->left -= 8;
    return true;
}

static bool is_record(const unsigned char *p, size_t n)
{
    return n >= LR__ENTRY_RECORD_HDR &&
           (p[0] == LR__ENTRY_RECORD || p[0] == LR__ENTRY_RECORD_COMPACT) && (p[1] & ~1u) == 0 &&
           p[2] == 0 && p[3] == 0;
}

lr_status lr__entry_open(const void *payload, size_t n, lr__entry_header *h,
                         lr__entry_cursor *c, lr_error *err)
{
    const unsigned char *p = payload;

    if (!is_record(p, n))
        return lr_error_set(err, LR_ECORRUPT, "log entry: not a record entry");
    h->is_deleted = p[1] & 1;
    h->schema_id = rd32(p + 4);
    h->event_time_us = (int64_t)rd64(p + 8);
    h->write_time_us = (int64_t)rd64(p + 16);
    h->api_invocation_us = (int64_t)rd64(p + 24);
    h->n_values = rd32(p + 32);
    c->compact = p[0] == LR__ENTRY_RECORD_COMPACT;
    c->p = p + LR__ENTRY_RECORD_HDR;
    c->left = n - LR__ENTRY_RECORD_HDR;
    c->remaining = h->n_values;
    /* Each value takes at least 2 bytes (compact) or 9. */
    if (h->n_values > c->left / (c->compact ? 2 : 9))
        return lr_error_set(err, LR_ECORRUPT, "log entry: %u values in %zu bytes", h->n_values,
                            c->left);
    return LR_OK;
}

/* A value of the first record form: u32 feature, u8 kind, fixed-width lengths. */
static bool next_fixed(rd *r, lr__entry_value *v)
{
    uint32_t f;
    if (!take32(r, &f) || r->left < 1)
        return false;
    v->feature = f;
    v->kind = *r->p;
    r->p++;
    r->left--;
    switch (v->kind) {
    case LR__ENTRY_KIND_STRING:
        return take_str(r, &v->str);
    case LR__ENTRY_KIND_INT:
    case LR__ENTRY_KIND_DOUBLE:
        return take_num64(r, v);
    case LR__ENTRY_KIND_LIST: {
        uint32_t k;
        lr_str it;
        if (!take32(r, &k) || k > r->left / 4)
            return false;
        v->n_items = k;
        v->items.p = r->p;
        v->items.remaining = k;
        v->items.compact = false;
        for (uint32_t j = 0; j < k; j++) {
            if (!take_str(r, &it))
                return false;
        }
        v->items.left = (size_t)(r->p - v->items.p);
        return true;
    }
    default:
        return false;
    }
}

int lr__entry_next_fixed(lr__entry_cursor *c, lr__entry_value *v)
{
    rd r = {c->p, c->left};

    if (c->remaining == 0)
        return c->left == 0 ? 0 : -1;
    if (!next_fixed(&r, v))
        return -1;
    c->p = r.p;
    c->left = r.left;
    c->remaining--;
    return 1;
}

lr_str lr__entry_item_next(lr__entry_cursor *items)
{
    lr_str s = {"", 0};
    if (items->remaining == 0)
        return s;
    if (items->compact) {
        size_t pos = 0;
        if (!lr__entry_take_vstr(items->p, items->left, &pos, &s))
            return (lr_str){"", 0};
        items->p += pos;
        items->left -= pos;
    } else {
        rd r = {items->p, items->left};
        if (!take_str(&r, &s))
            return (lr_str){"", 0};
        items->p = r.p;
        items->left = r.left;
    }
    items->remaining--;
    return s;
}

lr_status lr__entry_peek_record(const void *payload, size_t n, uint32_t *schema_id,
                                int64_t *event_time_us, lr_error *err)
{
    const unsigned char *p = payload;

    if (!is_record(p, n))
        return lr_error_set(err, LR_ECORRUPT, "log entry: not a record entry");
    *schema_id = rd32(p + 4);
    *event_time_us = (int64_t)rd64(p + 8);
    return LR_OK;
}

lr_status lr__entry_decode_record(const void *payload, size_t n, lr_arena *a,
                                  lr__record_entry *out, lr_error *err)
{
    lr__entry_header h;
    lr__entry_cursor c;
    lr__entry_value ev;
    lr_status st;
    uint32_t i = 0;
    int r;

    memset(out, 0, sizeof *out);
    if ((st = lr__entry_open(payload, n, &h, &c, err)) != LR_OK)
        return st;
    out->is_deleted = h.is_deleted;
    out->schema_id = h.schema_id;
    out->event_time_us = h.event_time_us;
    out->write_time_us = h.write_time_us;
    out->api_invocation_us = h.api_invocation_us;
    out->values = lr_arena_calloc(a, h.n_values ? h.n_values : 1, sizeof *out->values);
    if (out->values == NULL)
        return lr_error_set(err, LR_ENOMEM, "log entry: out of memory");
    while ((r = lr__entry_next(&c, &ev)) > 0) {
        lr_feature_value *v = &out->values[i++];
        v->feature = ev.feature;
        switch (ev.kind) {
        case LR__ENTRY_KIND_STRING:
            v->value = ev.str;
            break;
        case LR__ENTRY_KIND_INT:
        case LR__ENTRY_KIND_DOUBLE:
            v->value.ptr = "";
            v->num_kind = ev.kind == LR__ENTRY_KIND_INT ? LR_NUM_INT : LR_NUM_DOUBLE;
            memcpy(&v->num, &ev.num, sizeof v->num);
            break;
        default: { /* LIST */
            lr_str *items = lr_arena_calloc(a, ev.n_items ? ev.n_items : 1, sizeof *items);
            if (items == NULL)
                return lr_error_set(err, LR_ENOMEM, "log entry: out of memory");
            for (uint32_t j = 0; j < ev.n_items; j++)
                items[j] = lr__entry_item_next(&ev.items);
            v->is_list = true;
            v->items = items;
            v->n_items = ev.n_items;
            break;
        }
        }
    }
    if (r < 0)
        return lr_error_set(err, LR_ECORRUPT, "log entry: malformed record values");
    out->n_values = h.n_values;
    return LR_OK;
}

lr_status lr__entry_encode_schema(lr_buf *out, const lr_fg_def *def)
{
    unsigned char h[8] = {LR__ENTRY_SCHEMA, 0, 0, 0, 0, 0, 0, 0};
    size_t at = out->len;
    lr_status st = lr_buf_append(out, h, sizeof h);
    if (st == LR_OK)
        st = lr_fg_def_to_json(def, LR_FG_JSON_STORED, out);
    if (st == LR_OK) {
        size_t jl = out->len - at - sizeof h;
        if (jl > UINT32_MAX)
            return LR_ELIMIT;
        le32((unsigned char *)out->data + at + 4, (uint32_t)jl);
    }
    return st;
}

lr_status lr__entry_decode_schema(const void *payload, size_t n, lr_fg_def **out, lr_error *err)
{
    const unsigned char *p = payload;
    uint32_t jl;
    lr_status st;

    *out = NULL;
    if (n < 8 || p[0] != LR__ENTRY_SCHEMA)
        return lr_error_set(err, LR_ECORRUPT, "log schema entry: bad header");
    jl = rd32(p + 4);
    if (jl != n - 8)
        return lr_error_set(err, LR_ECORRUPT, "log schema entry: length %u in %zu bytes", jl, n);
    st = lr_fg_def_parse_stored((const char *)p + 8, jl, out, err);
    if (st != LR_OK && st != LR_ENOMEM) {
        if (err != NULL) {
            lr_error_prefix(err, "log schema entry");
            err->code = LR_ECORRUPT;
        }
        return LR_ECORRUPT;
    }
    return st;
}
