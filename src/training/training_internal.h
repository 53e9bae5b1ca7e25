/*
 * training_internal.h - what the files of the training subsystem share:
 * the job context (memory budget, temporary files), chunk lists that live
 * in memory or in spill files, the partition writer, the entity reader, the
 * feature groups of a job and their offline scans, the join of one bucket,
 * and the output writer. Not API: include/larder/training.h is.
 *
 *   spill.c     context, chunks, lists, partition writer, cursors
 *   entities.c  entity files (CSV, Parquet): columns, keys, timestamps
 *   features.c  groups of a job; offline scans into hash partitions
 *   join.c      the point-in-time join and the latest-per-id reduction
 *   output.c    column builders; CSV and Parquet output files
 *   training.c  the three public calls: phases and worker threads
 */
#ifndef LARDER_TRAINING_INTERNAL_H
#define LARDER_TRAINING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/csv.h"
#include "larder/fg.h"
#include "larder/offline.h"
#include "larder/online.h"
#include "larder/parquet.h"
#include "larder/training.h"

/* ------------------------------------------------------------------------ */
/* Hashing and keys                                                          */
/* ------------------------------------------------------------------------ */

/* Key classes: how a record identifier is compared. */
enum { LR__TR_KEY_INT = 0, LR__TR_KEY_STR = 1, LR__TR_KEY_CLASSES = 2 };

/* Longest key: a record identifier (2 KB) or an integer's 8 bytes. */
#define LR__TR_KEY_MAX 2048

/* A 64-bit hash of n bytes (all bits well mixed). */
uint64_t lr__tr_hash(const void *p, size_t n);

/* An integer identifier as key bytes: big-endian with the sign flipped, so
 * that bytes compare as the numbers do. */
void lr__tr_int_key(int64_t v, uint8_t out[8]);
int64_t lr__tr_int_from_key(const uint8_t k[8]);

/* ------------------------------------------------------------------------ */
/* The job context                                                           */
/* ------------------------------------------------------------------------ */

typedef struct lr__tr_ctx {
    size_t memory_max;
    size_t hold_limit;      /* chunk data kept in memory before writers spill */
    size_t work_limit;      /* what one worker may load for one bucket */
    size_t chunk_max;       /* a buffer becomes a chunk at this size */
    uint32_t threads;
    _Atomic size_t held;    /* bytes of chunks and buffers in memory */
    _Atomic uint64_t spilled;
    _Atomic int failed;     /* a worker failed: the others stop early */
    char *temp_dir;
    pthread_mutex_t lock;   /* guards fds */
    bool lock_init;
    int *fds;
    size_t n_fds, cap_fds;
    int64_t start_us;
} lr__tr_ctx;

/* Sets up the context from the caller's resources (defaults applied). */
lr_status lr__tr_ctx_init(lr__tr_ctx *c, const lr_training_resources *res, lr_error *err);
/* Sizes chunks for `nparts` partitions per writer. */
void lr__tr_ctx_set_parts(lr__tr_ctx *c, uint32_t nparts);
/* Closes the spill files (already unlinked). */
void lr__tr_ctx_free(lr__tr_ctx *c);
/* A new spill file: created in temp_dir and unlinked at once. Thread-safe. */
lr_status lr__tr_ctx_tempfile(lr__tr_ctx *c, int *fd, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Chunks and lists                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A chunk holds whole records, each framed as a 4-byte length then the
 * bytes. It is in memory (mem) or in a spill file (fd, off).
 */
typedef struct lr__tr_chunk {
    struct lr__tr_chunk *next;
    uint8_t *mem;
    size_t cap; /* bytes allocated for mem (counted in ctx->held) */
    int fd;
    uint64_t off;
    size_t len;
    uint64_t records;
} lr__tr_chunk;

typedef struct lr__tr_list {
    lr__tr_chunk *head, *tail;
    uint64_t bytes, records;
} lr__tr_list;

void lr__tr_list_append(lr__tr_list *l, lr__tr_chunk *c);
/* Bytes of l's chunks that are on disk. */
uint64_t lr__tr_list_disk_bytes(const lr__tr_list *l);
/* Moves src's chunks to the end of dst. */
void lr__tr_list_concat(lr__tr_list *dst, lr__tr_list *src);
/* Frees the chunks (memory returned to the budget); the list is empty after. */
void lr__tr_list_free(lr__tr_ctx *ctx, lr__tr_list *l);
/* Reads every chunk of l that is on disk into memory (counted in held). */
lr_status lr__tr_list_load(lr__tr_ctx *ctx, lr__tr_list *l, lr_error *err);
/* Reads chunk c (on disk) into dst (c->len bytes). */
lr_status lr__tr_chunk_read(const lr__tr_chunk *c, uint8_t *dst, lr_error *err);

/* Walks the records of a loaded chunk: *pos starts at 0. */
static inline bool lr__tr_chunk_rec(const lr__tr_chunk *c, size_t *pos, const uint8_t **rec,
                                    uint32_t *len)
{
    if (*pos >= c->len)
        return false;
    uint32_t n;
    __builtin_memcpy(&n, c->mem + *pos, 4);
    *rec = c->mem + *pos + 4;
    *len = n;
    *pos += 4 + (size_t)n;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Partition writer                                                          */
/* ------------------------------------------------------------------------ */

typedef struct lr__tr_pbuf {
    uint8_t *data;
    size_t len, cap;
    uint64_t records;
    bool filled; /* a chunk was closed from this part */
} lr__tr_pbuf;

/*
 * Appends records to `nparts` lists (out[part]). Buffers become chunks at
 * ctx->chunk_max; chunks stay in memory until the context holds more than
 * its hold limit, then this writer writes what it holds to its spill file
 * and, from then on, every chunk it closes ("direct" mode, also chosen at
 * init). One writer is used by one thread.
 */
typedef struct lr__tr_pw {
    lr__tr_ctx *ctx;
    uint32_t nparts;
    lr__tr_pbuf *bufs;
    lr__tr_list *out;
    lr__tr_chunk **resident; /* chunks of this writer still in memory */
    size_t n_res, cap_res;
    int fd;
    uint64_t fend;
    bool direct;
} lr__tr_pw;

lr_status lr__tr_pw_init(lr__tr_pw *w, lr__tr_ctx *ctx, uint32_t nparts, lr__tr_list *out,
                         bool direct, lr_error *err);
/* Room for a record of len bytes in part `part`; fill *dst before the next call. */
lr_status lr__tr_pw_reserve(lr__tr_pw *w, uint32_t part, size_t len, uint8_t **dst,
                            lr_error *err);
/* Closes every buffer into its list. The writer stays usable. */
lr_status lr__tr_pw_flush(lr__tr_pw *w, lr_error *err);
/* Writes every chunk this writer holds in memory to its spill file. */
lr_status lr__tr_pw_spill(lr__tr_pw *w, lr_error *err);
/* Forgets the resident chunks (they stay where they are) and frees buffers. */
void lr__tr_pw_free(lr__tr_pw *w);

/* Sequential reading of a list that may be on disk, through a small window. */
typedef struct lr__tr_cursor {
    const lr__tr_chunk *c;
    size_t pos;      /* in the chunk */
    uint8_t *win;    /* disk chunks: bytes [win_off, win_off + win_len) of the chunk */
    size_t win_off, win_len, win_cap;
    bool started;
} lr__tr_cursor;

/*
 * The next record of `l`, or *rec = NULL at the end. Records of disk chunks
 * are read through a window of at least `window` bytes. *rec lives until
 * the next call.
 */
lr_status lr__tr_cursor_next(lr__tr_cursor *cur, const lr__tr_list *l, size_t window,
                             const uint8_t **rec, uint32_t *len, lr_error *err);
void lr__tr_cursor_free(lr__tr_cursor *cur);

/* ------------------------------------------------------------------------ */
/* Entity files                                                              */
/* ------------------------------------------------------------------------ */

#define LR__TR_ENT_BATCH 4096

typedef struct lr__tr_ent lr__tr_ent;

/*
 * Opens an entity file. keys_only: read only the identifier and timestamp
 * columns (the first pass); otherwise every column, for the output.
 * Errors: LR_EINVAL (format, missing column, a column type that cannot be
 * used), LR_EIO, LR_ECORRUPT, LR_ENOMEM.
 */
lr_status lr__tr_ent_open(const char *path, lr_training_format fmt, const char *id_col,
                          const char *ts_col, bool keys_only, lr__tr_ent **out, lr_error *err);
void lr__tr_ent_close(lr__tr_ent *e);

/* Output columns (all columns, in file order; names live as e). */
uint32_t lr__tr_ent_ncols(const lr__tr_ent *e);
const lr_pq_column_def *lr__tr_ent_defs(const lr__tr_ent *e);

/*
 * The next batch of rows (n = 0 at the end). Column batches (every column,
 * or only the identifier and timestamp columns when keys_only) live until
 * the next call.
 */
lr_status lr__tr_ent_next(lr__tr_ent *e, uint32_t *n, lr_error *err);
const lr_pq_column_batch *lr__tr_ent_columns(const lr__tr_ent *e);

/*
 * Row r of the current batch: its key for key class `cls` (into buf,
 * LR__TR_KEY_MAX bytes; *kp may point elsewhere), false when the row has no
 * usable identifier for that class.
 */
bool lr__tr_ent_key(const lr__tr_ent *e, uint32_t r, int cls, uint8_t *buf, const uint8_t **kp,
                    uint32_t *klen);

/*
 * Row r's timestamp. *has = false for a null or empty one. Errors:
 * LR_EINVAL naming the line (CSV) or row (Parquet) and the value.
 */
lr_status lr__tr_ent_ts(const lr__tr_ent *e, uint32_t r, int64_t *us, bool *has, lr_error *err);

/* Bytes read so far and the file's size, for progress. */
uint64_t lr__tr_ent_rows(const lr__tr_ent *e);

/* Parses text as a time (the forms training.h lists). Errors: LR_EINVAL. */
lr_status lr__tr_parse_time(const char *s, size_t n, int64_t *us, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Feature groups of a job                                                   */
/* ------------------------------------------------------------------------ */

/* Fixed part of a feature record: h, et, api, wt (8 each), del (1), klen (4). */
#define LR__TR_FREC_FIXED 37
/* Fixed part of an entity record: h, ts. */
#define LR__TR_EREC_FIXED 16

typedef struct lr__tr_group {
    lr_fg_def *def;
    int key_class;
    uint32_t n_out;        /* features carried (payload order) */
    uint32_t *feat;        /* their indexes in def */
    uint32_t *scan_col;    /* their columns in the scan */
    char **out_names;      /* output names (prefixed where names collide) */
    const char **scan_cols;
    uint32_t n_scan;
    int64_t max_age_us;    /* > 0, or 0: no limit */
    int64_t lo, hi;        /* event times read: [lo, hi) */
} lr__tr_group;

/*
 * Loads group `spec->group` from the catalog and resolves its features
 * (NULL: all_but_id ? every feature but the identifier : every feature).
 */
lr_status lr__tr_group_init(lr__tr_group *g, lr_catalog *cat, const char *name,
                            const char *const *features, uint32_t n_features, bool all_but_id,
                            lr_error *err);
void lr__tr_group_free(lr__tr_group *g);

/* The Parquet column of feature payload slot j (offline types, optional). */
void lr__tr_group_coldef(const lr__tr_group *g, uint32_t j, lr_pq_column_def *out);

/* A filter of the entity keys, so feature rows of other identifiers are dropped early. */
typedef struct lr__tr_bloom {
    uint64_t *words;
    uint64_t mask; /* words - 1 */
} lr__tr_bloom;

static inline bool lr__tr_bloom_has(const lr__tr_bloom *b, uint64_t h)
{
    uint64_t w = b->words[(h >> 32) & b->mask];
    uint64_t m = (1ULL << ((h >> 20) & 63)) | (1ULL << ((h >> 26) & 63)) | (1ULL << ((h >> 14) & 63));
    return (w & m) == m;
}

static inline void lr__tr_bloom_add(lr__tr_bloom *b, uint64_t h)
{
    b->words[(h >> 32) & b->mask] |=
        (1ULL << ((h >> 20) & 63)) | (1ULL << ((h >> 26) & 63)) | (1ULL << ((h >> 14) & 63));
}

/* What one scan worker does: rows of `scan` into the writer's partitions. */
typedef struct lr__tr_scan_task {
    lr__tr_ctx *ctx;
    lr__tr_group *g;
    lr_offline_scan *scan;
    const lr__tr_bloom *bloom; /* NULL: keep every identifier */
    int64_t as_of_us;
    uint32_t top_bits;
    lr__tr_list *out; /* per top bucket, this worker's */
    _Atomic uint64_t *progress;
    uint64_t rows;    /* rows partitioned */
    lr_status st;
    lr_error err;
} lr__tr_scan_task;

/* Runs a scan task to its end (a worker thread's body). */
void lr__tr_scan_run(lr__tr_scan_task *t);

/* Splits [lo, hi) of group g's partitions into at most n ranges of similar row counts. */
lr_status lr__tr_split_ranges(lr_catalog *cat, const lr__tr_group *g, uint32_t n,
                              int64_t *starts, int64_t *ends, uint32_t *n_out, uint64_t *rows,
                              lr_error *err);

/* Payload decoding: walks slot j's value at *p (see features.c for the layout). */
typedef struct lr__tr_val {
    bool null;
    bool list;
    uint32_t n_items;        /* list */
    const uint8_t *items;    /* list: the encoded items */
    int64_t i64;
    double f64;
    const uint8_t *s;
    uint32_t slen;
} lr__tr_val;

/* Decodes the value of a feature of type (t, list) at *p and advances *p. */
void lr__tr_val_decode(lr_offline_ctype t, bool list, const uint8_t **p, lr__tr_val *v);
/* Decodes list item i's value (call in order: *p starts at v->items). */
void lr__tr_item_decode(lr_offline_ctype t, const uint8_t **p, lr__tr_val *item);
/* The offline type of feature f. */
lr_offline_ctype lr__tr_feature_ctype(const lr_feature_def *f);

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* A growing column batch (scalars or lists of INT64, DOUBLE, BYTE_ARRAY). */
typedef struct lr__tr_colbuf {
    lr_pq_type type;
    bool list;
    uint8_t *valid;
    uint32_t *loff;
    uint8_t *evalid;
    int64_t *i64;
    double *f64;
    uint32_t *off;
    lr_buf bytes;
    size_t rows, slots, cap_rows, cap_slots;
    lr_pq_column_batch view;
} lr__tr_colbuf;

void lr__tr_colbuf_init(lr__tr_colbuf *b, lr_pq_type t, bool list);
void lr__tr_colbuf_clear(lr__tr_colbuf *b);
void lr__tr_colbuf_free(lr__tr_colbuf *b);
lr_status lr__tr_colbuf_null(lr__tr_colbuf *b);
lr_status lr__tr_colbuf_bytes(lr__tr_colbuf *b, const void *p, size_t n);
/* Appends a decoded feature value (a scalar or a list). */
lr_status lr__tr_colbuf_val(lr__tr_colbuf *b, lr_offline_ctype t, const lr__tr_val *v);
const lr_pq_column_batch *lr__tr_colbuf_view(lr__tr_colbuf *b);

typedef struct lr__tr_out lr__tr_out;

/*
 * Creates the output next to `path` (a temporary name, renamed on commit).
 * defs are copied. Errors: LR_EINVAL (format, names), LR_EIO, LR_ENOMEM.
 */
lr_status lr__tr_out_open(const char *path, lr_training_format fmt, const lr_pq_column_def *defs,
                          uint32_t n, lr_pq_codec codec, uint64_t row_group_bytes,
                          lr__tr_out **out, lr_error *err);
/* Appends n rows given as one column batch per column. */
lr_status lr__tr_out_write(lr__tr_out *o, const lr_pq_column_batch *cols, uint32_t n,
                           lr_error *err);
/* Finishes the file and renames it into place. */
lr_status lr__tr_out_commit(lr__tr_out *o, lr_error *err);
/* Removes an uncommitted file; frees. NULL is fine. */
void lr__tr_out_free(lr__tr_out *o);

/* The format a path's extension says (AUTO when it says nothing). */
lr_training_format lr__tr_format_of(const char *path);

/* Shortest text that reads back as the same double ("NaN", "Infinity"...). */
size_t lr__tr_fmt_double(double d, char out[40]);

/* ------------------------------------------------------------------------ */
/* The join                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum lr__tr_mode {
    LR__TR_PIT = 1,         /* training sets */
    LR__TR_LATEST = 2,      /* export */
    LR__TR_MATERIALIZE = 3, /* online store */
} lr__tr_mode;

/* A hash partition of the work; split into 256 children when too large. */
typedef struct lr__tr_node {
    lr__tr_list ent[LR__TR_KEY_CLASSES]; /* PIT: entity records */
    lr__tr_list *feat;                   /* per group */
    lr__tr_list *res;                    /* per group: results in entity order */
    struct lr__tr_node *child;           /* 256 children, or NULL */
    uint32_t child_shift;                /* hash bits the children use */
    lr__tr_cursor *cur;                  /* per group, output pass */
} lr__tr_node;

typedef struct lr__tr_job {
    lr__tr_ctx *ctx;
    lr__tr_mode mode;
    lr__tr_group *groups;
    uint32_t n_groups;
    lr__tr_node *nodes; /* top nodes */
    uint32_t n_nodes;
    uint32_t top_bits;
    _Atomic uint32_t next;  /* next top node to take */
    _Atomic uint64_t done;  /* top nodes finished */
    _Atomic uint64_t matches;
    _Atomic uint64_t out_rows;
    /* materialize */
    lr_online *online;
    _Atomic uint64_t ids, written, unchanged, deletes, failed;
} lr__tr_job;

/* A worker's state for the join (scratch arrays reused across nodes). */
typedef struct lr__tr_worker lr__tr_worker;

lr_status lr__tr_worker_new(lr__tr_job *job, lr__tr_worker **out, lr_error *err);
void lr__tr_worker_free(lr__tr_worker *w);
/* Takes top nodes until none is left (a worker thread's body). */
lr_status lr__tr_worker_run(lr__tr_worker *w, lr_error *err);

/* The leaf node that holds hash h's results. */
lr__tr_node *lr__tr_job_leaf(lr__tr_job *job, uint64_t h);
/* Frees every node's lists, cursors and children. */
void lr__tr_job_free_nodes(lr__tr_job *job);

#endif
