/*
 * thrift.c - Thrift compact protocol writer and bounded reader (see thrift.h).
 *
 * Integers are zigzag varints; i8 is a raw byte; doubles are 8 bytes little
 * endian; binary is a varint length then the bytes. A field header is
 * (delta << 4) | type when the id grows by 1..15, otherwise the type byte
 * followed by the id as a zigzag i16. A list header is (size << 4) | type for
 * sizes up to 14, otherwise 0xF0 | type followed by the size as a varint.
 */
#include "parquet/thrift.h"

#include <string.h>

/* ---- writer ---- */

void lr__tw_init(lr__tw *w, lr_buf *out)
{
    w->out = out;
    w->st = LR_OK;
    w->depth = 0;
    w->last_fid[0] = 0;
}

lr_status lr__tw_status(const lr__tw *w)
{
    return w->st;
}

static void put_bytes(lr__tw *w, const void *p, size_t n)
{
    if (w->st == LR_OK)
        w->st = lr_buf_append(w->out, p, n);
}

static void put_varint(lr__tw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(w, tmp, n);
}

static uint64_t zigzag64(int64_t v)
{
    /* Shift as unsigned: left-shifting a negative value is undefined in C. */
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void put_field_header(lr__tw *w, int16_t fid, uint8_t type)
{
    int16_t last;
    if (w->st != LR_OK)
        return;
    if (w->depth < 0 || w->depth > LR__THRIFT_MAX_DEPTH) {
        w->st = LR_EINTERNAL;
        return;
    }
    last = w->last_fid[w->depth];
    if (fid > last && fid - last <= 15) {
        uint8_t b = (uint8_t)(((fid - last) << 4) | type);
        put_bytes(w, &b, 1);
    } else {
        put_bytes(w, &type, 1);
        put_varint(w, zigzag64(fid));
    }
    w->last_fid[w->depth] = fid;
}

void lr__tw_bool(lr__tw *w, int16_t fid, bool v)
{
    put_field_header(w, fid, v ? LR__T_BOOL_TRUE : LR__T_BOOL_FALSE);
}

void lr__tw_i8(lr__tw *w, int16_t fid, int8_t v)
{
    uint8_t b = (uint8_t)v;
    put_field_header(w, fid, LR__T_I8);
    put_bytes(w, &b, 1);
}

void lr__tw_i16(lr__tw *w, int16_t fid, int16_t v)
{
    put_field_header(w, fid, LR__T_I16);
    put_varint(w, zigzag64(v));
}

void lr__tw_i32(lr__tw *w, int16_t fid, int32_t v)
{
    put_field_header(w, fid, LR__T_I32);
    put_varint(w, zigzag64(v));
}

void lr__tw_i64(lr__tw *w, int16_t fid, int64_t v)
{
    put_field_header(w, fid, LR__T_I64);
    put_varint(w, zigzag64(v));
}

void lr__tw_double(lr__tw *w, int16_t fid, double v)
{
    uint64_t bits;
    uint8_t b[8];
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
    put_field_header(w, fid, LR__T_DOUBLE);
    put_bytes(w, b, 8);
}

void lr__tw_binary(lr__tw *w, int16_t fid, const void *p, size_t n)
{
    put_field_header(w, fid, LR__T_BINARY);
    lr__tw_elem_binary(w, p, n);
}

void lr__tw_string(lr__tw *w, int16_t fid, const char *s)
{
    lr__tw_binary(w, fid, s, strlen(s));
}

static void push_struct(lr__tw *w)
{
    if (w->st != LR_OK)
        return;
    if (w->depth >= LR__THRIFT_MAX_DEPTH) {
        w->st = LR_EINTERNAL;
        return;
    }
    w->depth++;
    w->last_fid[w->depth] = 0;
}

void lr__tw_struct_begin(lr__tw *w, int16_t fid)
{
    put_field_header(w, fid, LR__T_STRUCT);
    push_struct(w);
}

void lr__tw_struct_end(lr__tw *w)
{
    uint8_t stop = 0;
    put_bytes(w, &stop, 1);
    if (w->st == LR_OK)
        w->depth--;
}

void lr__tw_list_begin(lr__tw *w, int16_t fid, uint8_t elem, uint32_t n)
{
    put_field_header(w, fid, LR__T_LIST);
    if (n < 15) {
        uint8_t b = (uint8_t)((n << 4) | elem);
        put_bytes(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xF0 | elem);
        put_bytes(w, &b, 1);
        put_varint(w, n);
    }
}

void lr__tw_elem_i32(lr__tw *w, int32_t v)
{
    put_varint(w, zigzag64(v));
}

void lr__tw_elem_i64(lr__tw *w, int64_t v)
{
    put_varint(w, zigzag64(v));
}

void lr__tw_elem_bool(lr__tw *w, bool v)
{
    uint8_t b = v ? 1 : 0;
    put_bytes(w, &b, 1);
}

void lr__tw_elem_binary(lr__tw *w, const void *p, size_t n)
{
    if (n > INT32_MAX) {
        if (w->st == LR_OK)
            w->st = LR_ELIMIT;
        return;
    }
    put_varint(w, n);
    if (n)
        put_bytes(w, p, n);
}

void lr__tw_elem_struct_begin(lr__tw *w)
{
    push_struct(w);
}

/* ---- reader ---- */

void lr__tr_init(lr__tr *r, const void *p, size_t n, lr_error *err)
{
    r->p = p;
    r->end = r->p + n;
    r->depth = 0;
    r->err = err;
}

static lr_status corrupt(lr__tr *r, const char *what)
{
    return lr_error_set(r->err, LR_ECORRUPT, "corrupt Thrift metadata: %s", what);
}

static lr_status get_varint(lr__tr *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (r->p >= r->end)
            return corrupt(r, "truncated varint");
        b = *r->p++;
        /* The tenth byte may carry only the top bit of a 64-bit value. */
        if (shift == 63 && b > 1)
            return corrupt(r, "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return LR_OK;
        }
    }
    return corrupt(r, "varint longer than 10 bytes");
}

static int64_t unzigzag64(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

lr_status lr__tr_struct_enter(lr__tr *r, int16_t *last_fid)
{
    if (r->depth >= LR__THRIFT_MAX_DEPTH)
        return corrupt(r, "nesting too deep");
    r->depth++;
    *last_fid = 0;
    return LR_OK;
}

void lr__tr_struct_leave(lr__tr *r)
{
    if (r->depth > 0)
        r->depth--;
}

lr_status lr__tr_field(lr__tr *r, int16_t *last_fid, int16_t *fid, uint8_t *type)
{
    uint8_t b, t, delta;
    if (r->p >= r->end)
        return corrupt(r, "truncated struct");
    b = *r->p++;
    t = b & 0x0F;
    delta = b >> 4;
    if (t == LR__T_STOP) {
        if (delta != 0)
            return corrupt(r, "bad stop field");
        *type = LR__T_STOP;
        *fid = 0;
        return LR_OK;
    }
    if (t > LR__T_UUID)
        return corrupt(r, "unknown field type");
    if (delta) {
        int32_t id = *last_fid + delta;
        if (id > INT16_MAX)
            return corrupt(r, "field id out of range");
        *fid = (int16_t)id;
    } else {
        uint64_t zz;
        int64_t id;
        lr_status st = get_varint(r, &zz);
        if (st != LR_OK)
            return st;
        id = unzigzag64(zz);
        if (id < INT16_MIN || id > INT16_MAX)
            return corrupt(r, "field id out of range");
        *fid = (int16_t)id;
    }
    *last_fid = *fid;
    *type = t;
    return LR_OK;
}

lr_status lr__tr_i64(lr__tr *r, uint8_t type, int64_t *v)
{
    uint64_t zz;
    lr_status st;
    switch (type) {
    case LR__T_I8:
        if (r->p >= r->end)
            return corrupt(r, "truncated i8");
        *v = (int8_t)*r->p++;
        return LR_OK;
    case LR__T_I16:
    case LR__T_I32:
    case LR__T_I64:
        if ((st = get_varint(r, &zz)) != LR_OK)
            return st;
        *v = unzigzag64(zz);
        return LR_OK;
    default:
        return corrupt(r, "integer field has a non-integer type");
    }
}

lr_status lr__tr_i32(lr__tr *r, uint8_t type, int32_t *v)
{
    int64_t x;
    lr_status st = lr__tr_i64(r, type, &x);
    if (st != LR_OK)
        return st;
    if (x < INT32_MIN || x > INT32_MAX)
        return corrupt(r, "i32 out of range");
    *v = (int32_t)x;
    return LR_OK;
}

lr_status lr__tr_bool(lr__tr *r, uint8_t type, bool *v)
{
    if (type == LR__T_BOOL_TRUE)
        *v = true;
    else if (type == LR__T_BOOL_FALSE)
        *v = false;
    else
        return corrupt(r, "bool field has a non-bool type");
    return LR_OK;
}

lr_status lr__tr_elem_bool(lr__tr *r, bool *v)
{
    if (r->p >= r->end)
        return corrupt(r, "truncated bool");
    *v = *r->p++ == 1;
    return LR_OK;
}

lr_status lr__tr_double(lr__tr *r, uint8_t type, double *v)
{
    uint64_t bits = 0;
    if (type != LR__T_DOUBLE)
        return corrupt(r, "double field has a non-double type");
    if (r->end - r->p < 8)
        return corrupt(r, "truncated double");
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    memcpy(v, &bits, 8);
    return LR_OK;
}

lr_status lr__tr_binary(lr__tr *r, uint8_t type, const uint8_t **p, uint32_t *n)
{
    uint64_t len;
    lr_status st;
    if (type != LR__T_BINARY)
        return corrupt(r, "binary field has a non-binary type");
    if ((st = get_varint(r, &len)) != LR_OK)
        return st;
    if (len > (uint64_t)(r->end - r->p) || len > INT32_MAX)
        return corrupt(r, "binary length past the end");
    *p = r->p;
    *n = (uint32_t)len;
    r->p += len;
    return LR_OK;
}

lr_status lr__tr_list(lr__tr *r, uint8_t type, uint8_t *elem, uint32_t *n)
{
    uint8_t b, t;
    uint64_t size;
    lr_status st;
    if (type != LR__T_LIST && type != LR__T_SET)
        return corrupt(r, "list field has a non-list type");
    if (r->p >= r->end)
        return corrupt(r, "truncated list header");
    b = *r->p++;
    t = b & 0x0F;
    size = b >> 4;
    if (size == 15) {
        if ((st = get_varint(r, &size)) != LR_OK)
            return st;
    }
    if (t == LR__T_BOOL_FALSE)
        t = LR__T_BOOL_TRUE;
    if (t == LR__T_STOP || t > LR__T_UUID)
        return corrupt(r, "bad list element type");
    /* Every element takes at least one byte, so a larger size is a lie. */
    if (size > (uint64_t)(r->end - r->p))
        return corrupt(r, "list size past the end");
    *elem = t;
    *n = (uint32_t)size;
    return LR_OK;
}

lr_status lr__tr_skip(lr__tr *r, uint8_t type)
{
    lr_status st = LR_OK;
    uint64_t u;
    switch (type) {
    case LR__T_BOOL_TRUE:
    case LR__T_BOOL_FALSE:
        return LR_OK;
    case LR__T_I8:
        if (r->p >= r->end)
            return corrupt(r, "truncated i8");
        r->p++;
        return LR_OK;
    case LR__T_I16:
    case LR__T_I32:
    case LR__T_I64:
        return get_varint(r, &u);
    case LR__T_DOUBLE:
        if (r->end - r->p < 8)
            return corrupt(r, "truncated double");
        r->p += 8;
        return LR_OK;
    case LR__T_UUID:
        if (r->end - r->p < 16)
            return corrupt(r, "truncated uuid");
        r->p += 16;
        return LR_OK;
    case LR__T_BINARY: {
        const uint8_t *p;
        uint32_t n;
        return lr__tr_binary(r, type, &p, &n);
    }
    case LR__T_STRUCT: {
        int16_t last, fid;
        uint8_t t;
        if ((st = lr__tr_struct_enter(r, &last)) != LR_OK)
            return st;
        for (;;) {
            if ((st = lr__tr_field(r, &last, &fid, &t)) != LR_OK)
                break;
            if (t == LR__T_STOP)
                break;
            if ((st = lr__tr_skip(r, t)) != LR_OK)
                break;
        }
        lr__tr_struct_leave(r);
        return st;
    }
    case LR__T_LIST:
    case LR__T_SET: {
        uint8_t elem;
        uint32_t n;
        if ((st = lr__tr_list(r, type, &elem, &n)) != LR_OK)
            return st;
        if (r->depth >= LR__THRIFT_MAX_DEPTH)
            return corrupt(r, "nesting too deep");
        r->depth++;
        for (uint32_t i = 0; i < n && st == LR_OK; i++) {
            if (elem == LR__T_BOOL_TRUE) {
                bool b;
                st = lr__tr_elem_bool(r, &b);
            } else {
                st = lr__tr_skip(r, elem);
            }
        }
        r->depth--;
        return st;
    }
    case LR__T_MAP: {
        uint64_t size;
        uint8_t kv, kt, vt;
        if ((st = get_varint(r, &size)) != LR_OK)
            return st;
        if (size == 0)
            return LR_OK;
        if (r->p >= r->end)
            return corrupt(r, "truncated map header");
        kv = *r->p++;
        kt = kv >> 4;
        vt = kv & 0x0F;
        if (kt == LR__T_STOP || kt > LR__T_UUID || vt == LR__T_STOP || vt > LR__T_UUID)
            return corrupt(r, "bad map element type");
        if (size > (uint64_t)(r->end - r->p) / 2)
            return corrupt(r, "map size past the end");
        if (r->depth >= LR__THRIFT_MAX_DEPTH)
            return corrupt(r, "nesting too deep");
        r->depth++;
        for (uint64_t i = 0; i < size && st == LR_OK; i++) {
            bool b;
            st = (kt == LR__T_BOOL_TRUE || kt == LR__T_BOOL_FALSE) ? lr__tr_elem_bool(r, &b)
                                                                   : lr__tr_skip(r, kt);
            if (st == LR_OK)
                st = (vt == LR__T_BOOL_TRUE || vt == LR__T_BOOL_FALSE) ? lr__tr_elem_bool(r, &b)
                                                                       : lr__tr_skip(r, vt);
        }
        r->depth--;
        return st;
    }
    default:
        return corrupt(r, "unknown type");
    }
}
