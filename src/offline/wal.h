/*
 * wal.h - the offline store's write-ahead log. Internal to src/offline/.
 *
 * A log is a directory <wal root>/<log id>/ owned by one process while it
 * lives (an exclusive flock on its LOCK file), holding:
 *   - segments "<first sequence, 20 digits>.wal": a 32-byte header, then
 *     entries, each a 24-byte header (magic, payload length, sequence,
 *     CRC-32C of the payload, CRC-32C of the header) and the payload;
 *   - "schemas.lrs": a segment-format file of side entries (the feature-group
 *     definitions that the log's records refer to), numbered from 1.
 * Sequence numbers start at 1 and have no gaps. docs/offline-store.md
 * describes the format byte by byte and the recovery rules.
 *
 * The log layer knows nothing about records: payloads are bytes. It offers
 * appending (with a sync policy), reading a range of sequence numbers,
 * recovering a log left by a dead process (a torn last entry is dropped; a
 * damaged entry anywhere else stops recovery with LR_ECORRUPT naming the
 * segment and the offset), deleting checkpointed segments and removing the
 * log.
 *
 * Threading: appends, syncs and stats may come from any thread (one mutex
 * serialises writers; fsyncs happen outside it). A reader is used by one
 * thread; several readers may run while appends continue.
 */
#ifndef LARDER_OFFLINE_WAL_H
#define LARDER_OFFLINE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

/* Sizes of the on-disk headers. */
#define LR__WAL_SEG_HDR 32
#define LR__WAL_ENTRY_HDR 24
/* Largest payload accepted (a record is at most 350 KB; definitions are larger). */
#define LR__WAL_PAYLOAD_MAX (32u * 1024 * 1024)
/* Longest log id. */
#define LR__WAL_ID_MAX 64

typedef enum lr__wal_sync_mode {
    LR__WAL_SYNC_EVERYSEC = 0,
    LR__WAL_SYNC_ALWAYS = 1,
    LR__WAL_SYNC_NO = 2,
} lr__wal_sync_mode;

typedef struct lr__wal lr__wal;

typedef struct lr__wal_config {
    lr__wal_sync_mode sync;
    uint64_t segment_bytes; /* rotate past this size (at least one entry per segment) */
} lr__wal_config;

/* One payload to append; the stamp callback may patch it under the log's lock. */
typedef struct lr__wal_item {
    void *data;
    size_t len;
} lr__wal_item;

/*
 * Called once per append with all its items, while the log's lock is held
 * and before the checksums are computed, with the sequence the first item
 * receives. Used to stamp times that must grow in log order. May be NULL.
 */
typedef void (*lr__wal_stamp_fn)(void *arg, lr__wal_item *items, size_t n, uint64_t first_seq);

/*
 * Called once per successful append, while the log's lock is still held,
 * with the items as written and the sequence of the first: appends are seen
 * in log order and only when they are in the log. May be NULL.
 */
typedef void (*lr__wal_appended_fn)(void *arg, const lr__wal_item *items, size_t n,
                                    uint64_t first_seq);

/*
 * Creates a new log for this process under `root` (created if missing): a
 * fresh directory with a unique id, locked for the life of the handle. With
 * sync EVERYSEC a background thread fsyncs once a second.
 * Errors: LR_EIO, LR_ENOMEM.
 */
lr_status lr__wal_create(const char *root, const lr__wal_config *cfg, lr__wal **out,
                         lr_error *err);

/*
 * Opens the existing log `id` under `root` for recovery, if no live process
 * holds it: *out is NULL (and LR_OK returned) when its lock is held or the
 * log has gone. Scans every segment: a torn last entry is truncated away
 * (docs/offline-store.md gives the exact rule). A damaged entry anywhere
 * else does not fail the call: reads then stop before it and
 * lr__wal_damaged() reports it. An adopted log accepts no appends.
 * Errors: LR_EIO, LR_ENOMEM.
 */
lr_status lr__wal_adopt(const char *root, const char *id, lr__wal **out, lr_error *err);

/*
 * True when recovery stopped at a damaged entry; err (may be NULL) is then
 * set to LR_ECORRUPT naming the segment file and the byte offset.
 */
bool lr__wal_damaged(const lr__wal *w, lr_error *err);

/* Closes the handle, releasing its lock. Entries stay on disk. NULL is fine. */
void lr__wal_close(lr__wal *w);

/*
 * Removes the whole log directory (segments, schemas, lock) and closes the
 * handle. The caller must know every entry is checkpointed.
 * Errors: LR_EIO (the handle is closed all the same).
 */
lr_status lr__wal_destroy(lr__wal *w, lr_error *err);

const char *lr__wal_id(const lr__wal *w);
const char *lr__wal_dir(const lr__wal *w);

/* The sequence of the last entry appended (or recovered); 0 for an empty log. */
uint64_t lr__wal_last_seq(lr__wal *w);

/*
 * Appends `n` payloads (each at most LR__WAL_PAYLOAD_MAX bytes) with one
 * write(2), rotating first if the current segment would grow past its size,
 * and syncs as the policy says (ALWAYS: fdatasync before returning, shared
 * by concurrent appenders). When it returns LR_OK the entries are in the
 * operating system's cache and survive the process being killed. *last_seq
 * (may be NULL) is the sequence of the last one.
 * On a failed write the segment is cut back to its previous end so the log
 * stays well formed; if even that fails, or an fsync fails, the log refuses
 * every later append (LR_EIO), since what reached the disk is unknown.
 * Errors: LR_EINVAL (empty or oversized payload, an adopted log), LR_EIO,
 * LR_ENOMEM.
 */
lr_status lr__wal_append(lr__wal *w, lr__wal_item *items, size_t n, lr__wal_stamp_fn stamp,
                         lr__wal_appended_fn appended, void *arg, uint64_t *last_seq,
                         lr_error *err);

/* Makes every appended entry durable (fdatasync). Errors: LR_EIO. */
lr_status lr__wal_sync(lr__wal *w, lr_error *err);

/*
 * Appends a side entry to schemas.lrs and fsyncs it (whatever the policy:
 * records refer to it). *id is its number (1, 2, ...).
 * Errors: as lr__wal_append.
 */
lr_status lr__wal_put_schema(lr__wal *w, const void *data, size_t len, uint32_t *id,
                             lr_error *err);

/*
 * Calls fn for every side entry of the log, in order.
 * Errors: LR_ECORRUPT, LR_EIO, LR_ENOMEM, or what fn returns.
 */
lr_status lr__wal_read_schemas(lr__wal *w,
                               lr_status (*fn)(void *arg, uint32_t id, const void *data,
                                               size_t len, lr_error *err),
                               void *arg, lr_error *err);

/* Bytes on disk in segments (headers included) and sequence bounds. */
typedef struct lr__wal_stats {
    uint64_t bytes;
    uint64_t segments;
    uint64_t first_seq; /* first sequence still on disk (0 when none) */
    uint64_t last_seq;
} lr__wal_stats;

void lr__wal_stats_get(lr__wal *w, lr__wal_stats *out);

/*
 * Deletes every segment all of whose entries have sequence <= `seq`. The
 * segment being appended to is never deleted.
 * Errors: LR_EIO.
 */
lr_status lr__wal_truncate_through(lr__wal *w, uint64_t seq, lr_error *err);

/* ---- reading ---- */

typedef struct lr__wal_reader lr__wal_reader;

/*
 * Reads entries with sequence in [from, to] (to: typically the last
 * sequence at the time of the call). Entries are checked as they are read.
 * Errors: LR_EIO, LR_ENOMEM.
 */
lr_status lr__wal_reader_open(lr__wal *w, uint64_t from, uint64_t to, lr__wal_reader **out,
                              lr_error *err);

/*
 * The next entry: *data and *len stay valid until the next call; *seq is
 * its sequence.
 * Returns LR_ENOTFOUND after the last one (err untouched).
 * Errors: LR_ECORRUPT (segment path and offset in err), LR_EIO, LR_ENOMEM.
 */
lr_status lr__wal_reader_next(lr__wal_reader *r, const void **data, size_t *len, uint64_t *seq,
                              lr_error *err);

void lr__wal_reader_close(lr__wal_reader *r);

/*
 * Lists the ids of the logs under `root` (directories whose names do not
 * start with '.'), calling fn for each. Stale hidden ".new-" directories of
 * processes that died while creating their log are removed on the way.
 * Errors: LR_EIO, or what fn returns.
 */
lr_status lr__wal_list(const char *root, lr_status (*fn)(void *arg, const char *id, lr_error *err),
                       void *arg, lr_error *err);

/* Total size of the segment files of every log under `root` (0 if none). */
uint64_t lr__wal_root_bytes(const char *root);

#endif
