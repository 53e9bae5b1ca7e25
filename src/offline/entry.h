/*
 * entry.h - the payloads of the offline store's write-ahead log: record
 * entries (one row of the offline store) and schema entries (the feature-
 * group definition the records of a log refer to). Internal to src/offline/.
 *
 * Record payload (little-endian; docs/offline-store.md):
 *   0  u8  type = 3          1 u8 flags (bit 0: is_deleted)   2 u16 0
 *   4  u32 schema id (the schemas.lrs entry holding the definition)
 *   8  i64 event time, microseconds
 *   16 i64 write_time, microseconds (stamped under the log's lock)
 *   24 i64 api_invocation_time, microseconds
 *   32 u32 number of values, then per value a varint tag (feature index
 *        << 2 | kind) and by kind
 *          0 string scalar: varint length + bytes
 *          1 list:          varint count, then per item varint length + bytes
 *          2 Integral:      zigzag varint
 *          3 Fractional:    f64 (IEEE 754 bits, 8 bytes)
 *   (varints: LEB128, 7 bits a byte, low bits first.)
 * Numeric scalars are stored as the numbers validation parsed (kinds 2 and
 * 3), so the flusher writes them without parsing; strings and list items
 * are the strings PutRecord received (validated before the append).
 *
 * Type 2, written by earlier versions and still read: the same header, and
 * per value a u32 feature index, a u8 kind, then a u32 length + bytes
 * (kind 0), a u32 count then u32 length + bytes per item (kind 1), or 8
 * bytes (kinds 2 and 3). Logs older still hold kinds 0 and 1 only, numbers
 * as strings; the flusher parses those.
 *
 * Schema payload: u8 type = 1, u8 0, u16 0, u32 length, then the
 * definition as lr_fg_def_to_json(LR_FG_JSON_STORED).
 */
#ifndef LARDER_OFFLINE_ENTRY_H
#define LARDER_OFFLINE_ENTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/fg.h"
#include "larder/record.h"
#include "larder/status.h"
#include "larder/varint.h"

#define LR__ENTRY_SCHEMA 1
#define LR__ENTRY_RECORD 2         /* values in the fixed-width form (read only) */
#define LR__ENTRY_RECORD_COMPACT 3 /* values in the compact form (written) */
#define LR__ENTRY_WRITE_TIME_OFF 16
#define LR__ENTRY_KIND_STRING 0
#define LR__ENTRY_KIND_LIST 1
#define LR__ENTRY_KIND_INT 2
#define LR__ENTRY_KIND_DOUBLE 3
#define LR__ENTRY_RECORD_HDR 36

/* A decoded record entry; strings point into the payload or the arena. */
typedef struct lr__record_entry {
    uint32_t schema_id;
    bool is_deleted;
    int64_t event_time_us;
    int64_t write_time_us;
    int64_t api_invocation_us;
    lr_feature_value *values;
    uint32_t n_values;
} lr__record_entry;

/*
 * Appends the payload of a record entry to `out` (write_time zero: stamp it
 * with lr__entry_stamp). Errors: LR_ELIMIT (out's cap), LR_ENOMEM.
 */
lr_status lr__entry_encode_record(lr_buf *out, uint32_t schema_id, const lr_record *rec,
                                  bool is_deleted, int64_t api_invocation_us);

/* Sets the write_time of an encoded record payload. */
void lr__entry_stamp(void *payload, int64_t write_time_us);

/*
 * Decodes a record payload of `n` bytes. Arrays come from `a` and strings
 * point into the payload, which must outlive the result.
 * Errors: LR_ECORRUPT (malformed), LR_ENOMEM.
 */
lr_status lr__entry_decode_record(const void *payload, size_t n, lr_arena *a,
                                  lr__record_entry *out, lr_error *err);

/*
 * Reading a record payload value by value, without allocating (the
 * flusher's path into typed columns). lr__entry_open() checks and reads the
 * header; each lr__entry_next() returns 1 with the next value, 0 at the end
 * of a well-formed payload, or -1 when the payload is malformed (a length
 * past the end, an unknown kind, bytes left over). A list's items are
 * checked by lr__entry_next() and read with lr__entry_item_next().
 */
typedef struct lr__entry_header {
    uint32_t schema_id;
    bool is_deleted;
    int64_t event_time_us;
    int64_t write_time_us;
    int64_t api_invocation_us;
    uint32_t n_values;
} lr__entry_header;

typedef struct lr__entry_cursor {
    const unsigned char *p;
    size_t left;
    uint32_t remaining; /* values not yet returned */
    bool compact;       /* the compact value form (type 3) */
} lr__entry_cursor;

typedef struct lr__entry_value {
    uint32_t feature;
    uint8_t kind;   /* LR__ENTRY_KIND_* */
    lr_str str;     /* KIND_STRING */
    union {
        int64_t i;  /* KIND_INT */
        double d;   /* KIND_DOUBLE */
    } num;
    uint32_t n_items; /* KIND_LIST: the items, for lr__entry_item_next() */
    lr__entry_cursor items;
} lr__entry_value;

lr_status lr__entry_open(const void *payload, size_t n, lr__entry_header *h,
                         lr__entry_cursor *c, lr_error *err);
/* A value of the fixed-width form (type 2): lr__entry_next() for those entries. */
int lr__entry_next_fixed(lr__entry_cursor *c, lr__entry_value *v);

/* A varint length and that many bytes of p[*pos..n); false when they do not fit. */
static inline bool lr__entry_take_vstr(const unsigned char *p, size_t n, size_t *pos, lr_str *s)
{
    uint64_t len;
    size_t at = *pos;
    if (!lr_varint_get(p, n, &at, &len) || len > n - at)
        return false;
    s->ptr = (const char *)p + at;
    s->len = (size_t)len;
    *pos = at + (size_t)len;
    return true;
}

/*
 * The compact form (type 3), decoded inline: the flusher calls this once per
 * logged value. Varint feature << 2 | kind, varint lengths, zigzag integers,
 * 8-byte doubles; every length is checked against what remains.
 */
static inline int lr__entry_next(lr__entry_cursor *c, lr__entry_value *v)
{
    const unsigned char *p = c->p;
    size_t n = c->left, pos = 0;
    uint64_t tag, x;

    if (!c->compact)
        return lr__entry_next_fixed(c, v);
    if (c->remaining == 0)
        return n == 0 ? 0 : -1;
    if (!lr_varint_get(p, n, &pos, &tag) || (tag >> 2) > UINT32_MAX)
        return -1;
    v->feature = (uint32_t)(tag >> 2);
    v->kind = (uint8_t)(tag & 3);
    switch (v->kind) {
    case LR__ENTRY_KIND_STRING:
        if (!lr__entry_take_vstr(p, n, &pos, &v->str))
            return -1;
        break;
    case LR__ENTRY_KIND_INT:
        if (!lr_varint_get(p, n, &pos, &x))
            return -1;
        v->num.i = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
        break;
    case LR__ENTRY_KIND_DOUBLE:
        if (n - pos < 8)
            return -1;
        memcpy(&x, p + pos, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
#endif
        memcpy(&v->num.d, &x, 8);
        pos += 8;
        break;
    default: { /* LIST */
        lr_str it;
        if (!lr_varint_get(p, n, &pos, &x) || x > n - pos)
            return -1;
        size_t start = pos;
        for (uint64_t j = 0; j < x; j++) {
            if (!lr__entry_take_vstr(p, n, &pos, &it))
                return -1;
        }
        v->n_items = (uint32_t)x;
        v->items.p = p + start;
        v->items.left = pos - start;
        v->items.remaining = v->n_items;
        v->items.compact = true;
        break;
    }
    }
    c->p = p + pos;
    c->left = n - pos;
    c->remaining--;
    return 1;
}

/* The next item of a list returned by lr__entry_next() (exactly n_items times). */
lr_str lr__entry_item_next(lr__entry_cursor *items);

/*
 * Reads only the fixed header of a record payload: its schema id and event
 * time, for grouping entries without decoding their values. The values are
 * checked by lr__entry_decode_record() when the entry is used.
 * Errors: LR_ECORRUPT (not a record entry, or shorter than its header).
 */
lr_status lr__entry_peek_record(const void *payload, size_t n, uint32_t *schema_id,
                                int64_t *event_time_us, lr_error *err);

/* Appends the payload of a schema entry for `def`. Errors: LR_ELIMIT, LR_ENOMEM. */
lr_status lr__entry_encode_schema(lr_buf *out, const lr_fg_def *def);

/*
 * Decodes a schema payload into a new definition (lr_fg_def_free()).
 * Errors: LR_ECORRUPT, LR_ENOMEM.
 */
lr_status lr__entry_decode_schema(const void *payload, size_t n, lr_fg_def **out, lr_error *err);

#endif
