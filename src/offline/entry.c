/*
 * entry.c - encoding and decoding write-ahead-log payloads (see entry.h).
 * Decoding treats the payload as untrusted: every length is checked against
 * what remains, so a damaged entry that slipped past its checksum yields
 * LR_ECORRUPT, never a read out of bounds.
 */
#include "offline/entry.h"

#include <string.h>

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static lr_status put_u32(lr_buf *b, uint32_t v)
{
    unsigned char t[4];
    le32(t, v);
    return lr_buf_append(b, t, 4);
}

static lr_status put_str(lr_buf *b, lr_str s)
{
    lr_status st;
    if (s.len > UINT32_MAX)
        return LR_ELIMIT;
    st = put_u32(b, (uint32_t)s.len);
    if (st == LR_OK && s.len)
        st = lr_buf_append(b, s.ptr, s.len);
    return st;
}

lr_status lr__entry_encode_record(lr_buf *out, uint32_t schema_id, const lr_record *rec,
                                  bool is_deleted, int64_t api_invocation_us)
{
    unsigned char h[LR__ENTRY_RECORD_HDR];
    lr_status st;

    memset(h, 0, sizeof h);
    h[0] = LR__ENTRY_RECORD;
    h[1] = is_deleted ? 1 : 0;
    le32(h + 4, schema_id);
    le64(h + 8, (uint64_t)rec->event_time_us);
    le64(h + 24, (uint64_t)api_invocation_us);
    le32(h + 32, rec->n_values);
    st = lr_buf_append(out, h, sizeof h);
    for (uint32_t i = 0; i < rec->n_values && st == LR_OK; i++) {
        const lr_feature_value *v = &rec->values[i];
        st = put_u32(out, v->feature);
        if (st == LR_OK)
            st = lr_buf_append_byte(out, v->is_list ? 1 : 0);
        if (st != LR_OK)
            break;
        if (!v->is_list) {
            st = put_str(out, v->value);
            continue;
        }
        st = put_u32(out, v->n_items);
        for (uint32_t k = 0; k < v->n_items && st == LR_OK; k++)
            st = put_str(out, v->items[k]);
    }
    return st;
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

lr_status lr__entry_peek_record(const void *payload, size_t n, uint32_t *schema_id,
                                int64_t *event_time_us, lr_error *err)
{
    const unsigned char *p = payload;

    if (n < LR__ENTRY_RECORD_HDR || p[0] != LR__ENTRY_RECORD || (p[1] & ~1u) != 0)
        return lr_error_set(err, LR_ECORRUPT, "log entry: not a record entry");
    *schema_id = rd32(p + 4);
    *event_time_us = (int64_t)rd64(p + 8);
    return LR_OK;
}

lr_status lr__entry_decode_record(const void *payload, size_t n, lr_arena *a,
                                  lr__record_entry *out, lr_error *err)
{
    const unsigned char *p = payload;
    rd r;
    uint32_t nv;

    memset(out, 0, sizeof *out);
    if (n < LR__ENTRY_RECORD_HDR || p[0] != LR__ENTRY_RECORD || (p[1] & ~1u) != 0)
        return lr_error_set(err, LR_ECORRUPT, "log entry: not a record entry");
    out->is_deleted = p[1] & 1;
    out->schema_id = rd32(p + 4);
    out->event_time_us = (int64_t)rd64(p + 8);
    out->write_time_us = (int64_t)rd64(p + 16);
    out->api_invocation_us = (int64_t)rd64(p + 24);
    nv = rd32(p + 32);
    r.p = p + LR__ENTRY_RECORD_HDR;
    r.left = n - LR__ENTRY_RECORD_HDR;
    /* Each value takes at least 9 bytes: bound the count before allocating. */
    if (nv > r.left / 9)
        return lr_error_set(err, LR_ECORRUPT, "log entry: %u values in %zu bytes", nv, r.left);
    out->values = lr_arena_calloc(a, nv ? nv : 1, sizeof *out->values);
    if (out->values == NULL)
        return lr_error_set(err, LR_ENOMEM, "log entry: out of memory");
    for (uint32_t i = 0; i < nv; i++) {
        lr_feature_value *v = &out->values[i];
        uint32_t f;
        if (!take32(&r, &f) || r.left < 1)
            goto bad;
        v->feature = f;
        uint8_t kind = *r.p;
        r.p++;
        r.left--;
        if (kind == 0) {
            if (!take_str(&r, &v->value))
                goto bad;
            continue;
        }
        if (kind != 1)
            goto bad;
        uint32_t k;
        if (!take32(&r, &k) || k > r.left / 4)
            goto bad;
        lr_str *items = lr_arena_calloc(a, k ? k : 1, sizeof *items);
        if (items == NULL)
            return lr_error_set(err, LR_ENOMEM, "log entry: out of memory");
        for (uint32_t j = 0; j < k; j++) {
            if (!take_str(&r, &items[j]))
                goto bad;
        }
        v->is_list = true;
        v->items = items;
        v->n_items = k;
    }
    if (r.left != 0)
        goto bad;
    out->n_values = nv;
    return LR_OK;
bad:
    return lr_error_set(err, LR_ECORRUPT, "log entry: malformed record values");
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
