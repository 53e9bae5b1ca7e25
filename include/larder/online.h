/*
 * online.h - the online store: the latest record per (feature group, record
 * identifier), with SageMaker's record semantics (DESIGN.md 3.2, API.md), on
 * one of two backends behind one interface:
 *   - LMDB (embedded default): lock-free readers on every thread, writes
 *     batched into group commits by one writer thread, the map grown when it
 *     fills, a background sweeper that removes expired records;
 *   - Redis (shared): event-time-conditional writes done atomically on the
 *     server by a Lua script, TTL with PEXPIREAT, pipelined batch reads, a
 *     connection per thread, reconnect after a lost connection.
 * docs/online-store.md describes the key layouts, the value encoding (with
 * its version byte), durability and the exact rules. Anything not declared
 * here is not API.
 *
 * Semantics, the same on both backends:
 *   - Put replaces the whole record when its event time is not older than the
 *     stored record's (equal: the newer write wins); an older put changes
 *     nothing and reports changed = false.
 *   - Soft delete keeps the identifier and the event time with every other
 *     feature null, when its event time is newer than the stored record's;
 *     otherwise (or when there is no record) it changes nothing. Soft-deleted
 *     records are never returned by get; list returns them on request.
 *   - Hard delete removes the record when its event time is newer than the
 *     stored record's; when it is not newer it fails with LR_EINVAL
 *     (SageMaker's ValidationError). No record: nothing to do.
 *   - Update (UpdateRecord) sets some features and keeps the others: a
 *     missing, expired or soft-deleted record is LR_ENOTFOUND, an event time
 *     older than the stored one is LR_ECONFLICT.
 *   - TTL: ExpiresAt = EventTime + TTL, the write's TTL overriding the
 *     group's default. An expired record is never returned, counts as absent
 *     for every write rule, and is removed physically in the background.
 *   - Values come back exactly as they were put (bytes preserved).
 *
 * Threading: an lr_online handle is shared by all threads. Writes, list,
 * stats, drop and sweep may be called from any thread at once. Gets go
 * through an lr_online_reader, which one thread uses at a time (open one per
 * thread). Close every reader before the store.
 */
#ifndef LARDER_ONLINE_H
#define LARDER_ONLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/fg.h"
#include "larder/record.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_online lr_online;
typedef struct lr_online_reader lr_online_reader;

/* Largest encoded stored value (a 350 KB record encodes well below it). */
#define LR_ONLINE_VALUE_MAX (4u * 1024 * 1024)
/* Most keys in one lr_online_batch_get() (the API allows 100). */
#define LR_ONLINE_BATCH_GET_MAX 1000
/* Most entries in one lr_online_write_batch(). */
#define LR_ONLINE_WRITE_BATCH_MAX 1000
/* Most record identifiers in one page of lr_online_list(). */
#define LR_ONLINE_LIST_MAX 1000

/*
 * When a write is durable (LMDB; Redis durability is the server's own
 * appendonly/save configuration). A killed process never loses an
 * acknowledged write in any mode: the data is in the OS page cache. The modes
 * differ on an operating-system crash or power loss:
 */
typedef enum lr_online_durability {
    /* fsync data and meta page at every group commit: nothing acknowledged
     * is ever lost (the default). */
    LR_ONLINE_SYNC = 0,
    /* MDB_NOMETASYNC: one fsync per commit, the meta page not flushed; an OS
     * crash may roll back the last committed group, never tear a record. */
    LR_ONLINE_NOMETASYNC = 1,
    /* MDB_NOSYNC: no fsync; an OS crash may lose any commit since the OS
     * last flushed (on file systems that reorder writes, also corrupt the
     * store). For bulk loads and caches. */
    LR_ONLINE_NOSYNC = 2,
} lr_online_durability;

/* A clock: microseconds since the epoch. */
typedef int64_t (*lr_online_clock_fn)(void *ctx);

typedef struct lr_online_options {
    lr_online_durability durability;
    /* The clock used for TTL (tests inject one); NULL: lr_now_us(). Called
     * from any thread. */
    lr_online_clock_fn clock;
    void *clock_ctx;
    /* LMDB: initial map size in bytes (0: 1 GiB; the map doubles when full
     * up to lmdb_map_size_max, 0: 1 TiB). */
    uint64_t lmdb_map_size;
    uint64_t lmdb_map_size_max;
    /* LMDB: reader slots, one per open reader plus transient reads (0: 1022). */
    uint32_t lmdb_max_readers;
    /* LMDB: most write entries in one group commit (0: 4096). */
    uint32_t group_commit_max;
    /* Sweeper interval in milliseconds; 0: no sweeper thread at open (start
     * one with lr_online_sweeper_start()). */
    uint32_t sweep_interval_ms;
    /* Redis: connect and command timeout in milliseconds (0: 5000). */
    uint32_t redis_timeout_ms;
} lr_online_options;

/* Fills the defaults above (full sync, wall clock, no sweeper thread). */
void lr_online_options_init(lr_online_options *o);

/*
 * Opens an online store. `uri` is one of:
 *   - a data directory: LMDB in `<dir>/online/` (created, parents too);
 *   - "lmdb:PATH": LMDB in the directory PATH (created);
 *   - "redis://[user:password@]host[:port][/db]": Redis (port 6379, db 0 by
 *     default; user and password are percent-decoded; with a password AUTH
 *     is sent, with a db SELECT). IPv6 hosts go in brackets.
 * `opts` may be NULL (defaults); it is copied. A Redis store connects once
 * and loads its scripts, so a wrong address or password fails here.
 * Only one handle per LMDB directory may be open in a process at a time
 * (several processes may share one directory).
 * Errors: LR_EINVAL (malformed URI), LR_EUNSUPPORTED (another scheme, or a
 * store format newer than this build), LR_EIO (directory), LR_EUNAVAILABLE
 * (Redis unreachable), LR_EACCESS (Redis refused the credentials),
 * LR_EBACKEND (any other backend error, with its text), LR_ENOMEM.
 */
lr_status lr_online_open(const char *uri, const lr_online_options *opts, lr_online **out,
                         lr_error *err);

/*
 * Stops the sweeper and the writer (after every queued write has committed)
 * and frees the store. Every reader must be closed first. NULL is fine.
 */
void lr_online_close(lr_online *s);

/* "lmdb" or "redis". */
const char *lr_online_backend(const lr_online *s);

/* The store's clock (the injected one, or the wall clock), in microseconds. */
int64_t lr_online_now(const lr_online *s);

/* ---- Writes ---- */

typedef enum lr_online_write_kind {
    LR_ONLINE_PUT = 1,
    LR_ONLINE_SOFT_DELETE = 2,
    LR_ONLINE_HARD_DELETE = 3,
    LR_ONLINE_UPDATE = 4,
} lr_online_write_kind;

/*
 * One write. Inputs are borrowed for the duration of the call. Fields not
 * used by a kind are ignored.
 */
typedef struct lr_online_write {
    lr_online_write_kind kind;
    const lr_fg_def *def; /* the group; must have an online store */
    /* PUT: a record that passed lr_record_validate(def, record). */
    const lr_record *record;
    /* deletes and UPDATE: the record identifier (1..2 KB of bytes). */
    lr_str record_id;
    /* deletes: the deletion's event time, parsed, and as given (a soft
     * delete keeps it as the event-time feature's value; ptr NULL: formatted
     * from event_time_us). */
    int64_t event_time_us;
    lr_str event_time;
    /* UPDATE: the features to set, each of which passed
     * lr_feature_value_validate(); the record identifier may appear only with
     * the same value; the event-time feature, when given, moves the event
     * time (and must not be older). */
    const lr_feature_value *values;
    uint32_t n_values;
    /* PUT and UPDATE: the record's TTL; NULL or unit LR_TTL_NONE: the
     * group's (UPDATE: see docs/online-store.md). */
    const lr_ttl *ttl;

    /* Results, filled by the call: */
    lr_status status; /* LR_OK, or why this entry failed */
    bool changed;     /* the online store changed */
    lr_error error;   /* the message when status != LR_OK */
} lr_online_write;

/*
 * Applies up to LR_ONLINE_WRITE_BATCH_MAX writes, in order (a later entry
 * sees an earlier one), and returns when all are durable per the store's
 * durability setting. Entries fail independently: each one's status,
 * changed and error say what happened to it. On LMDB the batch is committed
 * with other callers' writes in one transaction (group commit); on Redis each
 * entry is one atomic script call.
 * Returns LR_OK when every entry was processed (whatever its own status), or
 * the error that stopped the batch (also set on the entries it hit):
 * LR_EINVAL (n out of range), LR_ELIMIT (LMDB map at its maximum),
 * LR_EUNAVAILABLE, LR_EBACKEND, LR_ENOMEM.
 * Entry errors: LR_EINVAL (bad input, or a hard delete not newer than the
 * stored record), LR_ENOTFOUND / LR_ECONFLICT (update), LR_ELIMIT (value over
 * LR_ONLINE_VALUE_MAX), and the batch errors.
 */
lr_status lr_online_write_batch(lr_online *s, lr_online_write *w, size_t n, lr_error *err);

/*
 * PutRecord into the online store: `rec` must have passed
 * lr_record_validate(def, rec). `ttl` as in lr_online_write. *changed (may be
 * NULL) tells whether the store changed (false: an older event time).
 * Errors: as an entry of lr_online_write_batch().
 */
lr_status lr_online_put(lr_online *s, const lr_fg_def *def, const lr_record *rec, const lr_ttl *ttl,
                        bool *changed, lr_error *err);

/*
 * DeleteRecord: soft (hard = false) or hard, with the deletion's event time
 * (parsed, and as given: see lr_online_write). *changed may be NULL.
 * Errors: LR_EINVAL (also: a hard delete whose event time is not newer than
 * the stored record's), and the batch errors.
 */
lr_status lr_online_delete(lr_online *s, const lr_fg_def *def, const char *id, size_t id_len,
                           int64_t event_time_us, const char *event_time, size_t event_time_len,
                           bool hard, bool *changed, lr_error *err);

/*
 * UpdateRecord: sets `n` features of an existing record.
 * Errors: LR_ENOTFOUND (no record, expired or soft-deleted), LR_ECONFLICT
 * (event time older than the stored one), LR_EINVAL, and the batch errors.
 */
lr_status lr_online_update(lr_online *s, const lr_fg_def *def, const char *id, size_t id_len,
                           const lr_feature_value *values, uint32_t n, const lr_ttl *ttl,
                           lr_error *err);

/* ---- Reads ---- */

/*
 * One feature of a record read back. `data`/`len`: for a scalar the value's
 * bytes exactly as put; for a list, its n_items items in an internal form
 * (walk them with lr_online_field_item()). Not NUL-terminated.
 */
typedef struct lr_online_field {
    uint32_t feature; /* index into the group's definition */
    bool is_list;     /* ValueAsStringList */
    uint32_t n_items; /* list: the number of items */
    const char *data;
    size_t len;
} lr_online_field;

typedef struct lr_online_row {
    bool found; /* false: no record (or expired, or soft-deleted) */
    int64_t event_time_us;
    int64_t expires_at_us;         /* 0: no TTL */
    const lr_online_field *fields; /* ascending feature index */
    uint32_t n_fields;
} lr_online_row;

/*
 * Walks the items of a list field: start with *pos = 0; each call sets *item
 * (pointing into f->data) and returns true, false after the last item.
 */
bool lr_online_field_item(const lr_online_field *f, size_t *pos, lr_str *item);

/*
 * Opens a reader: a per-thread handle for gets (LMDB: a reader slot and a
 * read transaction, kept on its snapshot between calls and renewed when a
 * newer commit exists; the writer resets idle readers after each commit, so
 * an idle reader pins nothing. Redis: a connection of its own).
 * Errors: LR_EBUSY (LMDB reader slots exhausted), LR_EUNAVAILABLE,
 * LR_EACCESS, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_online_reader_open(lr_online *s, lr_online_reader **out, lr_error *err);

/* Closes a reader. NULL is fine. */
void lr_online_reader_close(lr_online_reader *r);

/*
 * Resolves feature names (a projection, GetRecord's FeatureName list) to
 * feature indexes, sorted ascending without duplicates, into `out` (room for
 * n entries); *n_out is the count. Errors: LR_EINVAL naming an unknown feature.
 */
lr_status lr_online_projection(const lr_fg_def *def, const lr_str *names, uint32_t n, uint32_t *out,
                               uint32_t *n_out, lr_error *err);

/*
 * GetRecord: reads the record `id` of group `def`. `features` (ascending,
 * from lr_online_projection(); NULL or n_features 0: all) selects the
 * features returned. Sets row->found; a missing, expired or soft-deleted
 * record is found = false with LR_OK.
 * Lifetime: row->fields and their data live in the reader's buffer and stay
 * valid until the next call on this reader or its close.
 * Cost: on LMDB no allocation once the reader's buffer has grown to the
 * largest record it has read, no lock, no system call.
 * Errors: LR_EINVAL (empty or over-long id, unsorted projection),
 * LR_ECORRUPT (a stored value that does not decode), LR_EUNAVAILABLE,
 * LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_online_get(lr_online_reader *r, const lr_fg_def *def, const char *id, size_t id_len,
                        const uint32_t *features, uint32_t n_features, lr_online_row *row,
                        lr_error *err);

/* One key of a batch get: a group, an identifier, an optional projection. */
typedef struct lr_online_key {
    const lr_fg_def *def;
    lr_str record_id;
    const uint32_t *features; /* ascending; NULL: all */
    uint32_t n_features;
} lr_online_key;

/*
 * BatchGetRecord: reads n (1..LR_ONLINE_BATCH_GET_MAX) keys of any groups
 * into rows[0..n) (one LMDB read transaction; one Redis pipeline). Rows live
 * as in lr_online_get(). Errors: as lr_online_get(); on error no row is valid.
 */
lr_status lr_online_batch_get(lr_online_reader *r, const lr_online_key *keys, size_t n,
                              lr_online_row *rows, lr_error *err);

/* ---- Listing, statistics, maintenance ---- */

typedef struct lr_online_list_query {
    bool include_deleted;   /* also list soft-deleted records */
    uint32_t max_results;   /* 1..LR_ONLINE_LIST_MAX; 0: 100 */
    const char *next_token; /* from the previous page, or NULL */
} lr_online_list_query;

typedef struct lr_online_id_page {
    lr_str *ids; /* n identifiers, in the backend's key order */
    uint32_t n;
    char *next_token;       /* NULL on the last page */
    struct lr_arena *arena; /* owns ids, their bytes and the token */
} lr_online_id_page;

/*
 * ListRecords: one page of the group's record identifiers (never expired
 * ones). A page may hold fewer than max_results identifiers and still have a
 * next token (a page scans a bounded number of entries). Tokens are opaque
 * and stable under concurrent writes: an identifier present for the whole
 * listing is returned exactly once.
 * On success *out is filled; free it with lr_online_id_page_free().
 * Errors: LR_EINVAL (max_results, malformed token), LR_EUNAVAILABLE,
 * LR_EBACKEND, LR_ECORRUPT, LR_ENOMEM.
 */
lr_status lr_online_list(lr_online *s, const lr_fg_def *def, const lr_online_list_query *q,
                         lr_online_id_page *out, lr_error *err);

/* Frees a page; NULL is fine. */
void lr_online_id_page_free(lr_online_id_page *p);

/* Removes every record of a group (DeleteFeatureGroup). */
lr_status lr_online_drop_group(lr_online *s, const char *group, lr_error *err);

typedef struct lr_online_stats {
    uint64_t records; /* stored records, soft-deleted ones included */
    uint64_t bytes;   /* bytes of their keys and values */
} lr_online_stats;

/*
 * Statistics of a group (for /metrics and OnlineStoreTotalSizeBytes).
 * Expired records count until the sweeper removes them.
 */
lr_status lr_online_group_stats(lr_online *s, const char *group, lr_online_stats *out,
                                lr_error *err);

/*
 * Removes up to `max` expired records now (LMDB: by the store's clock;
 * Redis: those the server has expired, to keep the indexes and statistics
 * exact). *removed (may be NULL) is the count.
 */
lr_status lr_online_sweep(lr_online *s, uint64_t max, uint64_t *removed, lr_error *err);

/*
 * Starts (or restarts with a new interval) the background sweeper thread,
 * which calls lr_online_sweep() every interval_ms (>= 1) until stopped.
 * Errors: LR_EINVAL, LR_ENOMEM (no thread).
 */
lr_status lr_online_sweeper_start(lr_online *s, uint32_t interval_ms, lr_error *err);

/* Stops the sweeper thread (waiting for a pass in progress). Idempotent. */
void lr_online_sweeper_stop(lr_online *s);

#ifdef __cplusplus
}
#endif
#endif
