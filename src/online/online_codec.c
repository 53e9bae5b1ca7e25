/*
 * online_codec.c - the online store's stored-value format (version 1), the
 * update merge, page tokens, and the row buffer that gets fill.
 *
 * The format is in online_internal.h and docs/online-store.md. It is the
 * same on every backend. Its header has fixed offsets so that a backend can
 * compare event times without decoding fields (the Redis Lua script reads
 * bytes 3..10); event times are stored big-endian with the sign bit flipped,
 * so byte order is numeric order. Decoding never trusts the bytes: every
 * length is checked against the buffer, feature indexes must ascend, and a
 * malformed value is LR_ECORRUPT, never a crash.
 */
#include "online/online_internal.h"

#include <stdlib.h>
#include <string.h>

#include "larder/varint.h"

#define SIGN_FLIP 0x8000000000000000ull
/* The row buffer's cap: a batch get's whole answer. */
#define ROWBUF_DATA_MAX ((size_t)256 * 1024 * 1024)

size_t lr__varint_put(uint8_t *out, uint64_t v)
{
    return lr_varint_put(out, v);
}

bool lr__varint_get(const uint8_t *v, size_t n, size_t *pos, uint64_t max, uint64_t *out)
{
    size_t p = *pos;
    uint64_t r;
    if (!lr_varint_get(v, n, &p, &r) || r > max)
        return false;
    *pos = p;
    *out = r;
    return true;
}

static void put_time(uint8_t *out, int64_t t)
{
    uint64_t u = (uint64_t)t ^ SIGN_FLIP;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

static int64_t get_time(const uint8_t *in)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | in[i];
    return (int64_t)(u ^ SIGN_FLIP);
}

lr_status lr__value_header_read(const uint8_t *v, size_t n, lr__value_header *h, lr_error *err)
{
    if (n < LR__VALUE_HEADER + 1)
        return lr_error_set(err, LR_ECORRUPT,
                            "online store: stored value of %zu bytes is truncated", n);
    if (v[0] != LR__VALUE_VERSION)
        return lr_error_set(err, LR_ECORRUPT,
                            "online store: stored value has format version %u; this build reads %u",
                            v[0], LR__VALUE_VERSION);
    if (v[1] & ~LR__FLAG_DELETED)
        return lr_error_set(err, LR_ECORRUPT, "online store: stored value has unknown flags 0x%02x",
                            v[1]);
    h->flags = v[1];
    h->event_time_us = get_time(v + 2);
    h->expires_at_us = get_time(v + 10);
    return LR_OK;
}

void lr__value_header_write(uint8_t *out, const lr__value_header *h)
{
    out[0] = LR__VALUE_VERSION;
    out[1] = h->flags;
    put_time(out + 2, h->event_time_us);
    put_time(out + 10, h->expires_at_us);
}

int64_t lr__expires_at(int64_t event_time_us, int64_t ttl_us)
{
    int64_t e;
    if (ttl_us <= 0)
        return 0;
    e = event_time_us > INT64_MAX - ttl_us ? INT64_MAX : event_time_us + ttl_us;
    /* 0 means "no TTL" in the format; 1 us later expires just the same. */
    return e == 0 ? 1 : e;
}

/* Bytes of a feature value's payload. */
static size_t payload_len(const lr_feature_value *fv)
{
    size_t n;
    if (!fv->is_list)
        return fv->value.len;
    n = lr_varint_len(fv->n_items);
    for (uint32_t i = 0; i < fv->n_items; i++)
        n += lr_varint_len(fv->items[i].len) + fv->items[i].len;
    return n;
}

static size_t field_len(uint32_t feature, size_t plen)
{
    return lr_varint_len(feature) + 1 + lr_varint_len(plen) + plen;
}

static uint8_t *write_field(uint8_t *p, const lr_feature_value *fv, size_t plen)
{
    p += lr__varint_put(p, fv->feature);
    *p++ = fv->is_list ? LR__KIND_LIST : LR__KIND_SCALAR;
    p += lr__varint_put(p, plen);
    if (!fv->is_list) {
        if (fv->value.len)
            memcpy(p, fv->value.ptr, fv->value.len);
        return p + fv->value.len;
    }
    p += lr__varint_put(p, fv->n_items);
    for (uint32_t i = 0; i < fv->n_items; i++) {
        p += lr__varint_put(p, fv->items[i].len);
        if (fv->items[i].len)
            memcpy(p, fv->items[i].ptr, fv->items[i].len);
        p += fv->items[i].len;
    }
    return p;
}

static int cmp_fv_ptr(const void *a, const void *b)
{
    const lr_feature_value *x = *(const lr_feature_value *const *)a;
    const lr_feature_value *y = *(const lr_feature_value *const *)b;
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

/*
 * Encodes header + the given values (pointers sorted by feature) into out.
 */
static lr_status encode_sorted(const lr_feature_value *const *vals, uint32_t n,
                               const lr__value_header *h, lr_buf *out, lr_error *err)
{
    size_t total = LR__VALUE_HEADER + lr_varint_len(n);
    uint8_t *p;
    lr_status st;

    for (uint32_t i = 0; i < n; i++) {
        total += field_len(vals[i]->feature, payload_len(vals[i]));
        if (total > LR_ONLINE_VALUE_MAX)
            return lr_error_set(err, LR_ELIMIT, "record encodes to more than %u bytes",
                                LR_ONLINE_VALUE_MAX);
    }
    lr_buf_clear(out);
    if ((st = lr_buf_reserve(out, total)) != LR_OK)
        return lr_error_set(err, st, "encoding a record: %s", lr_strerror(st));
    p = (uint8_t *)out->data;
    lr__value_header_write(p, h);
    p += LR__VALUE_HEADER;
    p += lr__varint_put(p, n);
    for (uint32_t i = 0; i < n; i++)
        p = write_field(p, vals[i], payload_len(vals[i]));
    out->len = (size_t)(p - (uint8_t *)out->data);
    out->data[out->len] = '\0';
    return LR_OK;
}

lr_status lr__value_encode_record(const lr_fg_def *def, const lr_record *rec, int64_t expires_at_us,
                                  lr_buf *out, lr_error *err)
{
    const lr_feature_value *stackv[64];
    const lr_feature_value **vals = stackv;
    lr__value_header h = {0, rec->event_time_us, expires_at_us};
    lr_status st = LR_OK;

    if (rec->n_values > def->n_features)
        return lr_error_set(err, LR_EINVAL, "record has %u values for %u features", rec->n_values,
                            def->n_features);
    if (rec->n_values > 64 && (vals = malloc(rec->n_values * sizeof *vals)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "encoding a record: out of memory");
    for (uint32_t i = 0; i < rec->n_values; i++)
        vals[i] = &rec->values[i];
    qsort(vals, rec->n_values, sizeof *vals, cmp_fv_ptr);
    for (uint32_t i = 0; i < rec->n_values; i++) {
        if (vals[i]->feature >= def->n_features ||
            (i > 0 && vals[i]->feature == vals[i - 1]->feature)) {
            st = lr_error_set(err, LR_EINVAL, "record has an unknown or repeated feature index %u",
                              vals[i]->feature);
            goto done;
        }
    }
    st = encode_sorted(vals, rec->n_values, &h, out, err);
done:
    if (vals != stackv)
        free(vals);
    return st;
}

lr_status lr__value_encode_tombstone(const lr_fg_def *def, lr_str id, int64_t event_time_us,
                                     lr_str event_time, int64_t expires_at_us, lr_buf *out,
                                     lr_error *err)
{
    lr_feature_value a, b;
    const lr_feature_value *vals[2];
    lr__value_header h = {LR__FLAG_DELETED, event_time_us, expires_at_us};

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.feature = def->record_id_index;
    a.value = id;
    b.feature = def->event_time_index;
    b.value = event_time;
    if (a.feature < b.feature) {
        vals[0] = &a;
        vals[1] = &b;
    } else {
        vals[0] = &b;
        vals[1] = &a;
    }
    return encode_sorted(vals, 2, &h, out, err);
}

void lr__value_encode_header_only(int64_t event_time_us, uint8_t out[LR__VALUE_HEADER + 1])
{
    lr__value_header h = {0, event_time_us, 0};
    lr__value_header_write(out, &h);
    out[LR__VALUE_HEADER] = 0; /* no fields */
}

/* A field as it sits in a stored value. */
typedef struct raw_field {
    uint32_t feature;
    uint8_t kind;
    const uint8_t *payload;
    size_t len;
} raw_field;

/*
 * Reads the next field at *pos. `prev` is the previous feature index + 1
 * (0 at the start) so ascending order is enforced.
 */
static bool next_field(const uint8_t *v, size_t n, size_t *pos, uint64_t prev, raw_field *f)
{
    uint64_t idx, len;
    if (!lr__varint_get(v, n, pos, LR_FG_FEATURES_MAX - 1, &idx) || idx < prev)
        return false;
    if (*pos >= n)
        return false;
    f->kind = v[(*pos)++];
    if (f->kind != LR__KIND_SCALAR && f->kind != LR__KIND_LIST)
        return false;
    if (!lr__varint_get(v, n, pos, UINT32_MAX, &len) || len > n - *pos)
        return false;
    f->feature = (uint32_t)idx;
    f->payload = v + *pos;
    f->len = (size_t)len;
    *pos += (size_t)len;
    return true;
}

/* Checks a list payload; sets the item count and where the items start. */
static bool list_check(const uint8_t *p, size_t n, uint32_t *count, size_t *items_at)
{
    uint64_t c, len;
    size_t pos = 0;
    if (!lr__varint_get(p, n, &pos, n, &c))
        return false;
    *items_at = pos;
    for (uint64_t i = 0; i < c; i++) {
        if (!lr__varint_get(p, n, &pos, UINT32_MAX, &len) || len > n - pos)
            return false;
        pos += (size_t)len;
    }
    if (pos != n)
        return false;
    *count = (uint32_t)c;
    return true;
}

lr_status lr__value_find_scalar(const uint8_t *v, size_t n, uint32_t feature, lr_str *out,
                                bool *found, lr_error *err)
{
    lr__value_header h;
    uint64_t nf;
    size_t pos = LR__VALUE_HEADER;
    lr_status st;
    raw_field f;

    *found = false;
    if ((st = lr__value_header_read(v, n, &h, err)) != LR_OK)
        return st;
    if (!lr__varint_get(v, n, &pos, LR_FG_FEATURES_MAX, &nf))
        goto corrupt;
    for (uint64_t i = 0, prev = 0; i < nf; i++) {
        if (!next_field(v, n, &pos, prev, &f))
            goto corrupt;
        prev = (uint64_t)f.feature + 1;
        if (f.feature == feature) {
            if (f.kind != LR__KIND_SCALAR)
                goto corrupt;
            out->ptr = (const char *)f.payload;
            out->len = f.len;
            *found = true;
            return LR_OK;
        }
        if (f.feature > feature)
            break;
    }
    return LR_OK;
corrupt:
    return lr_error_set(err, LR_ECORRUPT, "online store: malformed stored value");
}

lr_status lr__value_merge_update(const uint8_t *old, size_t old_len, const lr__update *u,
                                 int64_t now, lr_buf *out, lr_error *err)
{
    lr__value_header h, nh;
    raw_field *rf = NULL;
    lr_feature_value *conv = NULL;
    const lr_feature_value **vals = NULL;
    lr_str *items = NULL;
    uint64_t nf;
    size_t pos = LR__VALUE_HEADER, nitems = 0;
    uint32_t nout = 0;
    lr_status st;

    if ((st = lr__value_header_read(old, old_len, &h, err)) != LR_OK)
        return st;
    if (h.flags & LR__FLAG_DELETED)
        return lr_error_set(err, LR_ENOTFOUND, "record is soft-deleted");
    if (lr__expired(&h, now))
        return lr_error_set(err, LR_ENOTFOUND, "record has expired");
    nh.flags = 0;
    nh.event_time_us = u->has_event_time ? u->event_time_us : h.event_time_us;
    if (nh.event_time_us < h.event_time_us)
        return lr_error_set(err, LR_ECONFLICT,
                            "update's event time is older than the stored record's");
    if (u->ttl_us > 0)
        nh.expires_at_us = lr__expires_at(nh.event_time_us, u->ttl_us);
    else if (nh.event_time_us == h.event_time_us)
        nh.expires_at_us = h.expires_at_us;
    else if (h.expires_at_us != 0) /* keep the record's TTL, from the new event time */
        nh.expires_at_us = lr__expires_at(nh.event_time_us, h.expires_at_us > h.event_time_us
                                                                ? h.expires_at_us - h.event_time_us
                                                                : 1);
    else
        nh.expires_at_us = lr__expires_at(nh.event_time_us, u->group_ttl_us);

    if (!lr__varint_get(old, old_len, &pos, LR_FG_FEATURES_MAX, &nf))
        goto corrupt;
    rf = malloc((nf ? nf : 1) * sizeof *rf);
    conv = malloc((nf ? nf : 1) * sizeof *conv);
    vals = malloc((nf + u->n_values + 1) * sizeof *vals);
    if (rf == NULL || conv == NULL || vals == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "update: out of memory");
        goto done;
    }
    for (uint64_t i = 0, prev = 0; i < nf; i++) {
        if (!next_field(old, old_len, &pos, prev, &rf[i]))
            goto corrupt;
        prev = (uint64_t)rf[i].feature + 1;
        if (rf[i].kind == LR__KIND_LIST) {
            uint32_t c;
            size_t at;
            if (!list_check(rf[i].payload, rf[i].len, &c, &at))
                goto corrupt;
            nitems += c;
        }
    }
    if (pos != old_len)
        goto corrupt;
    /* Old list fields are re-expressed as feature values so one encoder
     * writes the merged record. */
    if (nitems && (items = malloc(nitems * sizeof *items)) == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "update: out of memory");
        goto done;
    }
    nitems = 0;
    for (uint64_t i = 0; i < nf; i++) {
        memset(&conv[i], 0, sizeof conv[i]);
        conv[i].feature = rf[i].feature;
        if (rf[i].kind == LR__KIND_SCALAR) {
            conv[i].value.ptr = (const char *)rf[i].payload;
            conv[i].value.len = rf[i].len;
        } else {
            uint32_t c;
            size_t at, p;
            uint64_t len = 0;
            list_check(rf[i].payload, rf[i].len, &c, &at);
            conv[i].is_list = true;
            conv[i].items = items + nitems;
            conv[i].n_items = c;
            p = at;
            for (uint32_t k = 0; k < c; k++) {
                lr__varint_get(rf[i].payload, rf[i].len, &p, rf[i].len, &len);
                items[nitems].ptr = (const char *)rf[i].payload + p;
                items[nitems].len = (size_t)len;
                nitems++;
                p += (size_t)len;
            }
        }
    }
    {
        uint64_t a = 0;
        uint32_t b = 0;
        while (a < nf || b < u->n_values) {
            if (b < u->n_values && (a >= nf || u->values[b].feature <= conv[a].feature)) {
                if (a < nf && u->values[b].feature == conv[a].feature)
                    a++;
                vals[nout++] = &u->values[b++];
            } else {
                vals[nout++] = &conv[a++];
            }
        }
    }
    st = encode_sorted(vals, nout, &nh, out, err);
    goto done;
corrupt:
    st = lr_error_set(err, LR_ECORRUPT, "online store: malformed stored value");
done:
    free(rf);
    free(conv);
    free(vals);
    free(items);
    return st;
}

/* ---- Page tokens: base64url, no padding ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *lr__token_encode(lr_arena *a, const uint8_t *p, size_t n)
{
    char *out = lr_arena_alloc(a, (n + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    if (out == NULL)
        return NULL;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

lr_status lr__token_decode(const char *tok, uint8_t *out, size_t cap, size_t *n, lr_error *err)
{
    size_t len = strlen(tok), o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (len == 0 || len % 4 == 1 || (len / 4) * 3 + 2 > cap + 2)
        goto bad;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(tok[i]);
        if (v < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                goto bad;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero for a canonical encoding. */
    if (acc & ((1u << bits) - 1))
        goto bad;
    *n = o;
    return LR_OK;
bad:
    return lr_error_set(err, LR_EINVAL, "Invalid pagination token");
}

/* ---- Row buffer ---- */

lr_status lr__rowbuf_init(lr__rowbuf *rb)
{
    memset(rb, 0, sizeof *rb);
    rb->fcap = 64;
    rb->rcap = 16;
    rb->dcap = 16 * 1024;
    rb->fields = malloc(rb->fcap * sizeof *rb->fields);
    rb->doff = malloc(rb->fcap * sizeof *rb->doff);
    rb->rfirst = malloc(rb->rcap * sizeof *rb->rfirst);
    rb->data = malloc(rb->dcap);
    if (!rb->fields || !rb->doff || !rb->rfirst || !rb->data) {
        lr__rowbuf_free(rb);
        return LR_ENOMEM;
    }
    return LR_OK;
}

void lr__rowbuf_free(lr__rowbuf *rb)
{
    if (rb == NULL)
        return;
    free(rb->fields);
    free(rb->doff);
    free(rb->rfirst);
    free(rb->data);
    memset(rb, 0, sizeof *rb);
}

static lr_status rb_grow(lr__rowbuf *rb, uint32_t row, uint64_t more_fields, size_t more_data,
                         lr_error *err)
{
    if (row >= rb->rcap) {
        uint32_t nc = rb->rcap * 2 > row + 1 ? rb->rcap * 2 : row + 1;
        uint32_t *p = realloc(rb->rfirst, nc * sizeof *p);
        if (p == NULL)
            goto oom;
        rb->rfirst = p;
        rb->rcap = nc;
    }
    if (rb->nfields + more_fields > rb->fcap) {
        uint64_t need = rb->nfields + more_fields, nc = rb->fcap;
        lr_online_field *f;
        size_t *d;
        while (nc < need)
            nc *= 2;
        if (nc > (uint64_t)LR_FG_FEATURES_MAX * LR_ONLINE_BATCH_GET_MAX)
            nc = need;
        f = realloc(rb->fields, nc * sizeof *f);
        if (f == NULL)
            goto oom;
        rb->fields = f;
        d = realloc(rb->doff, nc * sizeof *d);
        if (d == NULL)
            goto oom;
        rb->doff = d;
        rb->fcap = (uint32_t)nc;
    }
    if (more_data > ROWBUF_DATA_MAX - rb->dlen)
        return lr_error_set(err, LR_ELIMIT, "online store: a read's result is over %zu bytes",
                            ROWBUF_DATA_MAX);
    if (rb->dlen + more_data > rb->dcap) {
        size_t nc = rb->dcap;
        char *p;
        while (nc < rb->dlen + more_data)
            nc *= 2;
        if (nc > ROWBUF_DATA_MAX)
            nc = ROWBUF_DATA_MAX;
        if ((p = realloc(rb->data, nc)) == NULL)
            goto oom;
        rb->data = p;
        rb->dcap = nc;
    }
    return LR_OK;
oom:
    return lr_error_set(err, LR_ENOMEM, "online store: out of memory reading a record");
}

lr_status lr__rowbuf_miss(lr__rowbuf *rb, uint32_t i, lr_online_row *row, lr_error *err)
{
    lr_status st;
    if (i >= rb->rcap && (st = rb_grow(rb, i, 0, 0, err)) != LR_OK)
        return st;
    rb->rfirst[i] = rb->nfields;
    row->found = false;
    row->event_time_us = 0;
    row->expires_at_us = 0;
    row->n_fields = 0;
    row->fields = NULL;
    return LR_OK;
}

lr_status lr__rowbuf_add(lr__rowbuf *rb, uint32_t i, const uint8_t *v, size_t n,
                         const uint32_t *proj, uint32_t nproj, const lr__online_env *env,
                         lr_online_row *row, lr_error *err)
{
    lr__value_header h;
    uint64_t nf;
    size_t pos = LR__VALUE_HEADER;
    uint32_t pi = 0;
    lr_status st;
    raw_field f;

    if ((st = lr__value_header_read(v, n, &h, err)) != LR_OK)
        return st;
    if ((h.flags & LR__FLAG_DELETED) || (h.expires_at_us != 0 && lr__expired(&h, lr__now(env))))
        return lr__rowbuf_miss(rb, i, row, err);
    if (!lr__varint_get(v, n, &pos, LR_FG_FEATURES_MAX, &nf))
        goto corrupt;
    if ((st = rb_grow(rb, i, proj ? nproj : nf, n, err)) != LR_OK)
        return st;
    rb->rfirst[i] = rb->nfields;
    row->found = true;
    row->event_time_us = h.event_time_us;
    row->expires_at_us = h.expires_at_us;
    row->n_fields = 0;
    for (uint64_t k = 0, prev = 0; k < nf; k++) {
        lr_online_field *o;
        if (!next_field(v, n, &pos, prev, &f))
            goto corrupt;
        prev = (uint64_t)f.feature + 1;
        if (proj) {
            while (pi < nproj && proj[pi] < f.feature)
                pi++;
            if (pi >= nproj)
                break; /* nothing further is selected */
            if (proj[pi] != f.feature)
                continue;
        }
        o = &rb->fields[rb->nfields];
        o->feature = f.feature;
        o->is_list = f.kind == LR__KIND_LIST;
        o->n_items = 0;
        if (o->is_list) {
            size_t at;
            if (!list_check(f.payload, f.len, &o->n_items, &at))
                goto corrupt;
            f.payload += at;
            f.len -= at;
        }
        o->len = f.len;
        o->data = NULL;
        rb->doff[rb->nfields] = rb->dlen;
        if (f.len)
            memcpy(rb->data + rb->dlen, f.payload, f.len);
        rb->dlen += f.len;
        rb->nfields++;
        row->n_fields++;
    }
    if (!proj && pos != n)
        goto corrupt;
    return LR_OK;
corrupt:
    return lr_error_set(err, LR_ECORRUPT, "online store: malformed stored value");
}

void lr__rowbuf_finish(lr__rowbuf *rb, lr_online_row *rows, size_t n)
{
    for (uint32_t k = 0; k < rb->nfields; k++)
        rb->fields[k].data = rb->data + rb->doff[k];
    for (size_t i = 0; i < n; i++)
        rows[i].fields = rows[i].n_fields ? rb->fields + rb->rfirst[i] : NULL;
}

bool lr_online_field_item(const lr_online_field *f, size_t *pos, lr_str *item)
{
    uint64_t len;
    const uint8_t *p = (const uint8_t *)f->data;
    if (!f->is_list || *pos >= f->len)
        return false;
    if (!lr__varint_get(p, f->len, pos, UINT32_MAX, &len) || len > f->len - *pos)
        return false;
    item->ptr = f->data + *pos;
    item->len = (size_t)len;
    *pos += (size_t)len;
    return true;
}
