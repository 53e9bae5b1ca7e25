/*
 * online_internal.h - what the online store's files share: the backend
 * interface (a table of operations plus a context), the prepared form of a
 * write, the stored-value codec (online_codec.c) and the row buffer that
 * readers fill.
 *
 * Layering: online.c validates and encodes, then calls a backend through
 * lr__online_ops; online_lmdb.c and online_redis.c implement the table and
 * never include each other. Both use the codec, so the value bytes are the
 * same on both (docs/online-store.md).
 */
#ifndef LARDER_ONLINE_INTERNAL_H
#define LARDER_ONLINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/online.h"
#include "larder/value.h"

/* What every backend gets at open: the options and the clock. */
typedef struct lr__online_env {
    lr_online_options opts;
} lr__online_env;

static inline int64_t lr__now(const lr__online_env *e)
{
    return e->opts.clock ? e->opts.clock(e->opts.clock_ctx) : lr_now_us();
}

/* ---- Stored value, format 1 ----
 *   0  u8   version (1)
 *   1  u8   flags (bit 0: soft-deleted; other bits must be zero)
 *   2  u64  event time, big-endian, microseconds with the sign bit flipped
 *  10  u64  expires-at, same encoding; the encoding of 0 means "no TTL"
 *  18  varint number of fields, then per field (ascending feature index):
 *      varint feature index, u8 kind (0 scalar, 1 list), varint length,
 *      payload; a list payload is varint item count then (varint length,
 *      bytes) per item.
 */
#define LR__VALUE_VERSION 1
#define LR__VALUE_HEADER  18
#define LR__FLAG_DELETED  0x01
#define LR__KIND_SCALAR   0
#define LR__KIND_LIST     1

typedef struct lr__value_header {
    uint8_t flags;
    int64_t event_time_us;
    int64_t expires_at_us; /* 0: none */
} lr__value_header;

/* Reads the fixed header. LR_ECORRUPT (with a message) when malformed. */
lr_status lr__value_header_read(const uint8_t *v, size_t n, lr__value_header *h, lr_error *err);

/* Writes the 18-byte header into out[0..18). */
void lr__value_header_write(uint8_t *out, const lr__value_header *h);

/* True when a record with this header has expired at `now`. */
static inline bool lr__expired(const lr__value_header *h, int64_t now)
{
    return h->expires_at_us != 0 && h->expires_at_us <= now;
}

/* expires-at for a write: event time + ttl, saturating; 0 ttl: none. Never 0. */
int64_t lr__expires_at(int64_t event_time_us, int64_t ttl_us);

/* Encodes a validated record (any value order) into out (cleared first). */
lr_status lr__value_encode_record(const lr_fg_def *def, const lr_record *rec, int64_t expires_at_us,
                                  lr_buf *out, lr_error *err);

/*
 * Encodes a soft-delete tombstone: the identifier and the event time as the
 * only features, flag deleted.
 */
lr_status lr__value_encode_tombstone(const lr_fg_def *def, lr_str id, int64_t event_time_us,
                                     lr_str event_time, int64_t expires_at_us, lr_buf *out,
                                     lr_error *err);

/* Encodes a header-only value (no fields): the hard-delete probe for Redis. */
void lr__value_encode_header_only(int64_t event_time_us, uint8_t out[LR__VALUE_HEADER + 1]);

/*
 * Reads the value of feature `feature` (scalar only) from a stored value:
 * *found false when absent. Used to recover long record identifiers.
 */
lr_status lr__value_find_scalar(const uint8_t *v, size_t n, uint32_t feature, lr_str *out,
                                bool *found, lr_error *err);

/* A prepared update: what UpdateRecord changes. */
typedef struct lr__update {
    const lr_fg_def *def;
    const lr_feature_value *values; /* sorted by feature index (online.c) */
    uint32_t n_values;
    bool has_event_time; /* the event-time feature is among the values */
    int64_t event_time_us;
    int64_t ttl_us;       /* the update's TTL, 0: none given */
    int64_t group_ttl_us; /* the group's default TTL, 0: none */
} lr__update;

/*
 * Applies an update to a stored value at time `now`, writing the merged
 * value into out. Errors: LR_ENOTFOUND (soft-deleted or expired),
 * LR_ECONFLICT (older event time), LR_ECORRUPT, LR_ELIMIT, LR_ENOMEM.
 */
lr_status lr__value_merge_update(const uint8_t *old, size_t old_len, const lr__update *u,
                                 int64_t now, lr_buf *out, lr_error *err);

/* Unsigned LEB128, at most 10 bytes; returns bytes written. */
size_t lr__varint_put(uint8_t *out, uint64_t v);
/* Reads a varint at *pos (< n) no larger than `max`; false when malformed. */
bool lr__varint_get(const uint8_t *v, size_t n, size_t *pos, uint64_t max, uint64_t *out);

/* base64url without padding, for opaque page tokens. */
char *lr__token_encode(lr_arena *a, const uint8_t *p, size_t n);
/* Decodes into out (cap bytes): LR_EINVAL "Invalid pagination token" when malformed. */
lr_status lr__token_decode(const char *tok, uint8_t *out, size_t cap, size_t *n, lr_error *err);

/* ---- Row buffer: where readers put what they return ---- */

typedef struct lr__rowbuf {
    lr_online_field *fields;
    size_t *doff; /* per field: offset of its data in `data` */
    uint32_t nfields, fcap;
    uint32_t *rfirst; /* per row: index of its first field */
    uint32_t rcap;
    char *data;
    size_t dlen, dcap;
} lr__rowbuf;

lr_status lr__rowbuf_init(lr__rowbuf *rb);
void lr__rowbuf_free(lr__rowbuf *rb);
static inline void lr__rowbuf_reset(lr__rowbuf *rb)
{
    rb->nfields = 0;
    rb->dlen = 0;
}

/*
 * Decodes stored value v[0..n) as row `i` of a call: copies the selected
 * features (proj ascending, NULL: all) into the buffer. Sets row->found to
 * false for a soft-deleted or expired value (by env's clock, read only when
 * the value has a TTL).
 * Pointers in rows[] are set by lr__rowbuf_finish().
 */
lr_status lr__rowbuf_add(lr__rowbuf *rb, uint32_t i, const uint8_t *v, size_t n,
                         const uint32_t *proj, uint32_t nproj, const lr__online_env *env,
                         lr_online_row *row, lr_error *err);
/* Marks row i as not found. */
lr_status lr__rowbuf_miss(lr__rowbuf *rb, uint32_t i, lr_online_row *row, lr_error *err);
/* Points rows[0..n) at the buffer once every row is added. */
void lr__rowbuf_finish(lr__rowbuf *rb, lr_online_row *rows, size_t n);

/* ---- Backend interface ---- */

/* A write as the backends see it: validated, encoded, with its key parts. */
typedef struct lr__wop {
    lr_online_write_kind kind;
    const char *group;
    size_t group_len;
    const char *id;
    size_t id_len;
    const uint8_t *value; /* PUT, SOFT_DELETE: the new value; HARD_DELETE: header only */
    size_t value_len;
    int64_t event_time_us; /* PUT and deletes: of the new value / the deletion */
    lr__update update;     /* UPDATE */
    uint32_t id_feature;   /* the group's record-identifier feature */
    /* results */
    lr_status status;
    bool changed;
    lr_error *err; /* the entry's error (never NULL) */
} lr__wop;

/* A key of a read, prepared. */
typedef struct lr__rkey {
    const char *group;
    size_t group_len;
    const char *id;
    size_t id_len;
    const uint32_t *proj;
    uint32_t nproj;
} lr__rkey;

/* One page of a list, as the backends produce it. */
typedef struct lr__list_req {
    const char *group;
    size_t group_len;
    uint32_t id_feature;
    bool include_deleted;
    uint32_t max_results;
    const uint8_t *after; /* resume after this backend key suffix (NULL: start) */
    size_t after_len;
} lr__list_req;

typedef struct lr__ops {
    const char *name;
    void (*close)(void *ctx);
    /* Applies wops in order; sets each one's status/changed/err. */
    lr_status (*write)(void *ctx, lr__wop *ops, size_t n, lr_error *err);
    lr_status (*reader_open)(void *ctx, void **rctx, lr_error *err);
    void (*reader_close)(void *rctx);
    /* Reads keys[0..n) into rows via rb (already reset). */
    lr_status (*get)(void *rctx, lr__rowbuf *rb, const lr__rkey *keys, size_t n,
                     lr_online_row *rows, lr_error *err);
    /* Fills page->ids (n) and, when more may follow, the token's key suffix
     * via *more/last (in the page's arena). */
    lr_status (*list)(void *ctx, const lr__list_req *req, lr_online_id_page *page, bool *more,
                      uint8_t **last, size_t *last_len, lr_error *err);
    lr_status (*drop)(void *ctx, const char *group, lr_error *err);
    lr_status (*stats)(void *ctx, const char *group, lr_online_stats *out, lr_error *err);
    lr_status (*sweep)(void *ctx, uint64_t max, uint64_t *removed, lr_error *err);
} lr__ops;

lr_status lr__lmdb_open(const char *dir, const lr__online_env *env, const lr__ops **ops, void **ctx,
                        lr_error *err);
lr_status lr__redis_open(const char *uri, const lr__online_env *env, const lr__ops **ops,
                         void **ctx, lr_error *err);

#endif
