/*
 * objstore.h - object storage: the interface through which the offline store
 * reads and writes its Parquet files, and its local-directory backend.
 *
 * The interface is shaped like S3 so that an S3-compatible backend can follow
 * without changing callers:
 *   - objects are written whole (put) and never appended to or renamed;
 *   - a put is atomic: a reader sees either no object or the whole object,
 *     never a partial one, and an object that a put has returned for survives
 *     a crash of the process and of the machine;
 *   - keys are '/'-separated strings relative to the store's root, listed by
 *     string prefix (there are no directories to create, rename or remove);
 *   - every object has a size and a last-modified time.
 *
 * Backends implement lr_objstore_ops (a table of functions plus a context)
 * and never include one another. lr_objstore_open() picks one by URI:
 *   - "file:///abs/dir" or a plain path: the local-directory backend. A put
 *     writes a temporary file in the object's directory, fsyncs it, renames
 *     it over the final name and fsyncs the directory. Temporary files are
 *     named ".lrtmp.*", are never listed, and abort_incomplete() removes
 *     those left behind by a crash. Empty directories left by deletes are
 *     removed. Unlike S3, a key cannot also be a folder: with "a/b/c"
 *     stored, a put of "a/b" fails (LR_EIO).
 *   - "s3://bucket/prefix": not in this build (LR_EUNSUPPORTED).
 *
 * Batches. Writers of many objects at once (a flush writes one file per
 * partition) use a batch: lr_objstore_batch_begin(), one
 * lr_objstore_batch_put() per object, lr_objstore_batch_commit(). Every
 * object of a batch is as atomic as a single put, and all of them are
 * durable once the commit returns, but the backend may pay for durability
 * once per batch instead of once per object. The local backend writes each
 * object to its temporary file, then at the commit makes all of them
 * durable together (one syncfs(2) of the filesystem on Linux where it
 * reports write-back errors, else an fsync of each file), renames them all,
 * and makes the new names durable together (a second syncfs, or one fsync
 * per distinct directory). An S3 backend can upload the objects of a batch
 * in parallel.
 *
 * Threading: one handle may be used from many threads at once (the local
 * backend keeps no mutable state); several processes may share one root.
 * A batch belongs to one thread at a time.
 */
#ifndef LARDER_OBJSTORE_H
#define LARDER_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest key accepted, in bytes (S3's limit). */
#define LR_OBJ_KEY_MAX 1024

/* What a list or head call reports about one object. */
typedef struct lr_object_info {
    const char *key;  /* relative to the root; valid during the callback only */
    uint64_t size;    /* bytes */
    int64_t mtime_us; /* last modified, microseconds since the epoch */
} lr_object_info;

/*
 * Called once per object by list(). Returning anything but LR_OK stops the
 * listing, and list() returns that status (with the callback's err).
 */
typedef lr_status (*lr_objstore_list_fn)(void *arg, const lr_object_info *obj, lr_error *err);

/*
 * A backend. Every function receives a key already checked by
 * lr_objstore_key_valid() and must follow the contract of the matching
 * lr_objstore_* function below.
 */
typedef struct lr_objstore_ops {
    const char *scheme; /* "file", "s3" */
    void (*close)(void *ctx);
    lr_status (*put)(void *ctx, const char *key, const void *data, size_t len, lr_error *err);
    lr_status (*get)(void *ctx, const char *key, size_t max, lr_buf *out, lr_error *err);
    lr_status (*get_range)(void *ctx, const char *key, uint64_t offset, size_t len, void *dst,
                           size_t *got, lr_error *err);
    lr_status (*head)(void *ctx, const char *key, uint64_t *size, int64_t *mtime_us,
                      lr_error *err);
    lr_status (*list)(void *ctx, const char *prefix, lr_objstore_list_fn fn, void *arg,
                      lr_error *err);
    lr_status (*del)(void *ctx, const char *key, lr_error *err);
    lr_status (*abort_incomplete)(void *ctx, const char *prefix, int64_t older_than_us,
                                  uint64_t *removed, lr_error *err);
    /*
     * Batches (optional: a backend that leaves batch_begin NULL gets one
     * put per object, durable as it is put, and a commit with nothing left
     * to do). batch_begin creates *batch; batch_free (never NULL then)
     * releases it, removing what an uncommitted batch wrote.
     */
    lr_status (*batch_begin)(void *ctx, void **batch, lr_error *err);
    lr_status (*batch_put)(void *batch, const char *key, const void *data, size_t len,
                           lr_error *err);
    lr_status (*batch_commit)(void *batch, lr_error *err);
    void (*batch_free)(void *batch);
} lr_objstore_ops;

typedef struct lr_objstore lr_objstore;

/*
 * Opens the store rooted at `uri` (see the file comment). The local backend
 * does not create the root until the first put. On success *out is a new
 * handle (lr_objstore_close()).
 * Errors: LR_EINVAL (empty, over-long or malformed URI, a relative file://
 * URI), LR_EUNSUPPORTED (s3:// or another scheme this build lacks, with the
 * scheme named), LR_ENOMEM.
 */
lr_status lr_objstore_open(const char *uri, lr_objstore **out, lr_error *err);

/*
 * Wraps a backend (for other backends and tests). `ctx` is owned by the
 * handle from now on and released by ops->close. `root_uri` is copied.
 * Errors: LR_EINVAL (NULL ops, or batch operations given in part: ctx is
 * then not taken), LR_ENOMEM (ctx is then closed).
 */
lr_status lr_objstore_new(const lr_objstore_ops *ops, void *ctx, const char *root_uri,
                          lr_objstore **out, lr_error *err);

/* Closes the handle. NULL is fine. */
void lr_objstore_close(lr_objstore *os);

/* The root URI as given to open; lives as long as the handle. */
const char *lr_objstore_root(const lr_objstore *os);

/* The scheme of the backend ("file"). */
const char *lr_objstore_scheme(const lr_objstore *os);

/*
 * True when `key` is a valid object key: 1..LR_OBJ_KEY_MAX bytes, no NUL, no
 * leading or trailing '/', no empty, "." or ".." segment, and no segment
 * starting with ".lrtmp." (reserved for temporary files).
 */
bool lr_objstore_key_valid(const char *key);

/*
 * Writes the object `key` with `len` bytes, replacing any object of that
 * name, atomically and durably (see the file comment).
 * Errors: LR_EINVAL (bad key), LR_EIO (with the path and the system's
 * reason), LR_ENOMEM.
 */
lr_status lr_objstore_put(lr_objstore *os, const char *key, const void *data, size_t len,
                          lr_error *err);

typedef struct lr_objstore_batch lr_objstore_batch;

/*
 * Starts a batch of puts into `os` (see the file comment). The handle must
 * outlive the batch. On success *out is a new batch
 * (lr_objstore_batch_free()).
 * Errors: LR_ENOMEM.
 */
lr_status lr_objstore_batch_begin(lr_objstore *os, lr_objstore_batch **out, lr_error *err);

/*
 * Adds the object `key` with `len` bytes to the batch, replacing any object
 * of that name once it appears. `data` is borrowed for the call only. The
 * object appears, whole, at some instant between this call and the return
 * of lr_objstore_batch_commit() (the local backend: at the commit); it is
 * durable only once the commit has returned LR_OK.
 * After an error the batch can only be freed.
 * Errors: LR_EINVAL (bad key, or the batch is committed or failed), LR_EIO
 * (with the path and the system's reason), LR_ENOMEM.
 */
lr_status lr_objstore_batch_put(lr_objstore_batch *b, const char *key, const void *data,
                                size_t len, lr_error *err);

/*
 * Makes every object of the batch present and durable: after LR_OK each of
 * them survives a crash of the process and of the machine. On an error
 * each object is either absent or whole (which ones is unknown) and may
 * not be durable; the batch can only be freed. Committing an empty batch
 * is LR_OK and touches nothing.
 * Errors: LR_EINVAL (committed twice, or after a failed put), LR_EIO,
 * LR_ENOMEM.
 */
lr_status lr_objstore_batch_commit(lr_objstore_batch *b, lr_error *err);

/*
 * Frees a batch. An uncommitted (or failed) batch's objects that have not
 * appeared are abandoned and their partial data removed; what a crash
 * leaves behind is removed by lr_objstore_abort_incomplete(). NULL is fine.
 */
void lr_objstore_batch_free(lr_objstore_batch *b);

/*
 * Reads the whole object into `out` (initialised by this call with cap
 * `max`; the caller frees it with lr_buf_free(), also on error).
 * Errors: LR_EINVAL, LR_ENOTFOUND, LR_ELIMIT (larger than max), LR_EIO,
 * LR_ENOMEM.
 */
lr_status lr_objstore_get(lr_objstore *os, const char *key, size_t max, lr_buf *out,
                          lr_error *err);

/*
 * Reads up to `len` bytes at `offset` into `dst`; *got is the number read,
 * less than len only at the end of the object (0 at or past the end).
 * Errors: LR_EINVAL, LR_ENOTFOUND, LR_EIO.
 */
lr_status lr_objstore_get_range(lr_objstore *os, const char *key, uint64_t offset, size_t len,
                                void *dst, size_t *got, lr_error *err);

/*
 * Size and last-modified time of an object (either pointer may be NULL).
 * Errors: LR_EINVAL, LR_ENOTFOUND, LR_EIO.
 */
lr_status lr_objstore_head(lr_objstore *os, const char *key, uint64_t *size, int64_t *mtime_us,
                           lr_error *err);

/*
 * Calls fn for every object whose key starts with `prefix` ("" for all), at
 * any depth, in ascending byte order of the keys (as S3 lists). Objects put
 * or deleted during the listing may or may not be seen.
 * Errors: LR_EINVAL (prefix over LR_OBJ_KEY_MAX or containing NUL), LR_EIO,
 * LR_ENOMEM, or what fn returned.
 */
lr_status lr_objstore_list(lr_objstore *os, const char *prefix, lr_objstore_list_fn fn, void *arg,
                           lr_error *err);

/*
 * Deletes an object. Deleting an object that does not exist is LR_OK (as in
 * S3), so deletes can be retried. Errors: LR_EINVAL, LR_EIO.
 */
lr_status lr_objstore_delete(lr_objstore *os, const char *key, lr_error *err);

/*
 * Removes the remains of puts that never completed (crashed writers) under
 * `prefix` and last modified before `older_than_us`; *removed (may be NULL)
 * counts them. S3's equivalent is aborting stale multipart uploads.
 * Errors: LR_EINVAL, LR_EIO, LR_ENOMEM.
 */
lr_status lr_objstore_abort_incomplete(lr_objstore *os, const char *prefix, int64_t older_than_us,
                                       uint64_t *removed, lr_error *err);

/*
 * Joins a root URI and a key into "root/key" (one '/' between them), as
 * stored in the catalog and shown to users. *out: free().
 * Errors: LR_ENOMEM.
 */
lr_status lr_objstore_uri_join(const char *root, const char *key, char **out, lr_error *err);

/*
 * For "file://" URIs and plain paths, sets *path to the local path (a
 * pointer into uri) and returns true; false for any other scheme.
 */
bool lr_objstore_uri_local_path(const char *uri, const char **path);

#ifdef __cplusplus
}
#endif
#endif
