/*
 * pipeline.c - `larder ingest`: files into the online and offline stores in
 * one pass (ingest.h).
 *
 * Design. Three kinds of threads share the work through a fixed set of
 * batch slots, so memory stays bounded:
 *
 *   reader   reads each file in chunks of whole rows (a few MiB of CSV or
 *            NDJSON, cut after a row end outside quotes; input_internal.h)
 *            and numbers them in file order. Parquet files it parses itself
 *            into batches of rows (their decoding is columnar already).
 *   parsers  (one per core) each take the next chunk, parse and validate
 *            its rows into the chunk's batch: values point into the chunk's
 *            own text where they can, other strings are copied into the
 *            batch's arena. Bad rows become rejects lines in the batch (skip)
 *            or end the batch with the error (fail). Then they encode the
 *            batch's rows as offline log entries (lr_offline_encode).
 *   writer   (the calling thread) takes the batches in their numbered order
 *            (whatever order the parsers finish in) and writes each: one
 *            offline log append of the encoded rows, online commits of at
 *            most batch_rows rows, then its rejects.
 *
 * Writing in file order keeps every rule of a single-threaded pass: the
 * offline log holds the rows in file order, "the row read later wins" ties
 * in the online store, rejects are listed in file order, and with
 * --on-error fail exactly the rows before the bad one are written: the
 * writer writes the failing batch's rows (those before the bad row), then
 * stops everything and discards the batches after it.
 *
 * Online store: only the latest record per identifier can survive, so each
 * batch is first reduced to one winner per identifier (latest event time;
 * on a tie, the row read later), which is what applying the rows one by one
 * would leave; the store's own event-time rule then decides against what is
 * already stored. For data ordered by record (as most exports are) this
 * turns thousands of writes into a handful.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input_internal.h"
#include "larder/hash.h"
#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/ingest.h"
#include "larder/offline.h"
#include "larder/online.h"
#include "larder/value.h"

#define PROGRESS_EVERY_US 100000
#define PARSERS_MAX 16
#define PARQUET_BATCH_ROWS 32768
#define ENCODE_ROWS 256 /* rows fill() leaves to encode() at a time */
#define ARENA_RETAIN (64u << 20) /* per batch slot: its arena's blocks kept between chunks */

typedef struct batch {
    uint64_t seq;
    uint32_t file;           /* index into the run's files */
    bool parse;              /* a chunk for the parsers (else ready as it is) */
    bool file_end;           /* no rows: the file is read to its end */
    uint64_t consumed;       /* the file's bytes read when the batch was cut */
    lr__ingest_chunk chunk;  /* CSV/NDJSON: the rows' text */
    lr_arena *arena;         /* value arrays and strings not in the chunk */
    lr_record *recs;
    uint32_t n, cap;
    lr_buf rejects;          /* lines for the rejects file */
    uint64_t rejected;
    lr_offline_encoded enc;  /* the rows as offline log entries, encoded by the parser */
    uint32_t encoded;        /* rows [0, encoded) are in enc */
    int64_t api_us;          /* their api_invocation_time: when the batch was started */
    lr_offline_write *wr;
    uint32_t wr_cap;
    lr_status enc_st;        /* encoding failed: the writer stops with enc_err */
    lr_error enc_err;
    lr_status st;            /* not LR_OK: the run stops after this batch's rows */
    lr_error err;
    uint64_t stop_line;
} batch;

typedef struct run {
    const lr_fg_def *def;
    lr_offline *offline;      /* NULL: no offline writes */
    const char *const *files;
    uint32_t n_files;
    const lr_ingest_options *opt;
    size_t chunk_bytes;

    pthread_mutex_t mu;
    pthread_cond_t cv;        /* any change below */
    batch *slots;
    uint32_t n_slots;
    batch **free_list;
    uint32_t n_free;
    batch **work;             /* chunks to parse, a FIFO ring of n_slots */
    uint32_t work_head, n_work;
    batch **ready;            /* by seq % n_slots */
    uint64_t issued;          /* batches numbered so far */
    bool reader_done;
    lr_ingest_input **columns; /* per chunked file: the columns, for the parsers */

    atomic_bool stop;         /* stop reading and parsing */
    _Atomic uint64_t bytes_read; /* of all files, as the reader goes */
    _Atomic uint32_t file_index;
    uint64_t bytes_total;
} run;

void lr_ingest_options_init(lr_ingest_options *o)
{
    memset(o, 0, sizeof *o);
    o->online = true;
    o->offline = true;
    o->batch_rows = 32768;
    o->flush = true;
}

/* ---- the slots ---- */

static batch *take_free(run *r)
{
    batch *b = NULL;
    pthread_mutex_lock(&r->mu);
    while (r->n_free == 0 && !atomic_load(&r->stop))
        pthread_cond_wait(&r->cv, &r->mu);
    if (r->n_free > 0 && !atomic_load(&r->stop))
        b = r->free_list[--r->n_free];
    pthread_mutex_unlock(&r->mu);
    if (b) {
        lr_arena_reset(b->arena);
        lr_buf_clear(&b->rejects);
        b->n = 0;
        b->rejected = 0;
        b->parse = b->file_end = false;
        b->st = LR_OK;
        b->enc_st = LR_OK;
        b->enc.n = 0;
        b->encoded = 0;
        b->api_us = lr_now_us();
        lr_error_clear(&b->err);
        b->stop_line = 0;
        b->consumed = 0;
    }
    return b;
}

/* Numbers b and hands it on: to the parsers, or straight to the writer. */
static void issue(run *r, batch *b)
{
    pthread_mutex_lock(&r->mu);
    b->seq = r->issued++;
    if (b->parse) {
        r->work[(r->work_head + r->n_work) % r->n_slots] = b;
        r->n_work++;
    } else {
        r->ready[b->seq % r->n_slots] = b;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* ---- rows into batches ---- */

/* Copies a string into the batch unless it already lies in the batch's chunk. */
static lr_status keep_str(batch *b, lr_str *s)
{
    const char *lo = b->chunk.data.data, *hi = lo ? lo + b->chunk.data.len : NULL;
    if (s->len == 0) {
        s->ptr = "";
        return LR_OK;
    }
    if (lo != NULL && s->ptr >= lo && s->ptr + s->len <= hi)
        return LR_OK;
    char *p = lr_arena_alloc(b->arena, s->len);
    if (p == NULL)
        return LR_ENOMEM;
    memcpy(p, s->ptr, s->len);
    s->ptr = p;
    return LR_OK;
}

/* Adds a validated record to the batch; its strings are kept (see keep_str). */
static lr_status batch_add(const lr_fg_def *def, batch *b, const lr_record *src)
{
    if (b->n == b->cap) {
        uint32_t nc = b->cap ? b->cap * 2 : 4096;
        lr_record *nr = realloc(b->recs, (size_t)nc * sizeof *nr);
        if (nr == NULL)
            return LR_ENOMEM;
        b->recs = nr;
        b->cap = nc;
    }
    lr_record *dst = &b->recs[b->n];
    lr_feature_value *vals = lr_arena_alloc(b->arena, (src->n_values ? src->n_values : 1) *
                                                          sizeof *vals);
    if (vals == NULL)
        return LR_ENOMEM;
    memcpy(vals, src->values, src->n_values * sizeof *vals);
    for (uint32_t i = 0; i < src->n_values; i++) {
        lr_feature_value *v = &vals[i];
        if (v->is_list) {
            lr_str *items = lr_arena_alloc(b->arena, (v->n_items ? v->n_items : 1) * sizeof *items);
            if (items == NULL)
                return LR_ENOMEM;
            for (uint32_t k = 0; k < v->n_items; k++) {
                items[k] = v->items[k];
                if (keep_str(b, &items[k]) != LR_OK)
                    return LR_ENOMEM;
            }
            v->items = items;
        } else if (keep_str(b, &v->value) != LR_OK) {
            return LR_ENOMEM;
        }
        if (v->feature == def->record_id_index)
            dst->record_id = v->value;
    }
    dst->values = vals;
    dst->n_values = src->n_values;
    dst->event_time_us = src->event_time_us;
    b->n++;
    return LR_OK;
}

static void add_reject(const char *file, uint64_t line, const lr_error *e,
                       const lr_ingest_input *in, batch *b)
{
    lr_buf *out = &b->rejects;
    size_t raw_len = 0;
    const char *raw = in ? lr_ingest_input_raw(in, &raw_len) : NULL;
    lr_buf_append_str(out, "{\"file\":");
    lr_buf_append_json_str(out, file, strlen(file));
    lr_buf_printf(out, ",\"line\":%" PRIu64 ",\"error\":", line);
    lr_buf_append_json_str(out, e->msg, strlen(e->msg));
    if (raw) {
        /* Without the line's own newline: the row as it was written. */
        while (raw_len && (raw[raw_len - 1] == '\n' || raw[raw_len - 1] == '\r'))
            raw_len--;
        lr_buf_append_str(out, ",\"row\":");
        lr_buf_append_json_str(out, raw, raw_len);
    }
    lr_buf_append_str(out, "}\n");
}

/*
 * Encodes the batch's rows not yet encoded as offline log entries, so that
 * the writer only appends them (encoding is per-row work that parallelizes;
 * the append is one write in file order). fill() calls it every
 * ENCODE_ROWS rows, while their values are still in the cache.
 */
static void encode(run *r, batch *b)
{
    uint32_t n = b->n - b->encoded;
    if (r->offline == NULL || n == 0 || b->enc_st != LR_OK)
        return;
    if (n > b->wr_cap) {
        lr_offline_write *nw = realloc(b->wr, (size_t)n * sizeof *nw);
        if (nw == NULL) {
            b->enc_st = lr_error_set(&b->enc_err, LR_ENOMEM, "out of memory");
            return;
        }
        b->wr = nw;
        b->wr_cap = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        b->wr[i].def = r->def;
        b->wr[i].rec = &b->recs[b->encoded + i];
        b->wr[i].is_deleted = false;
        b->wr[i].api_invocation_us = b->api_us;
    }
    b->enc_st = lr_offline_encode_add(r->offline, b->wr, n, &b->enc, &b->enc_err);
    b->encoded = b->n;
}

/*
 * Reads rows from `in` into b until the input's end (a chunk's or a
 * file's), b is full (max_rows), or a row stops the run. *eof says whether
 * the input ended.
 */
static void fill(run *r, lr_ingest_input *in, const char *file, batch *b, uint32_t max_rows,
                 bool *eof)
{
    *eof = false;
    while (b->n < max_rows) {
        lr_record rec;
        uint64_t line;
        lr_error rowerr;
        if ((b->n & 1023) == 0 && atomic_load(&r->stop)) {
            b->st = LR_ECANCELED;
            return;
        }
        lr_status rs = lr_ingest_input_next(in, &rec, &line, eof, &rowerr);
        if (rs == LR_EINVAL) {
            b->rejected++;
            if (r->opt->skip_bad_rows) {
                add_reject(file, line, &rowerr, in, b);
                continue;
            }
            /* The row's message already starts with "line N" or "row N". */
            b->st = lr_error_set(&b->err, LR_EINVAL, "%s: %s", file, rowerr.msg);
            b->stop_line = line;
            return;
        }
        if (rs != LR_OK) {
            b->st = lr_error_set(&b->err, rs, "%s: %s", file, rowerr.msg);
            return;
        }
        if (*eof)
            return;
        if (batch_add(r->def, b, &rec) != LR_OK) {
            b->st = lr_error_set(&b->err, LR_ENOMEM, "out of memory");
            return;
        }
        if (b->n - b->encoded >= ENCODE_ROWS)
            encode(r, b);
    }
}

/* ---- the reader ---- */

static void *reader_main(void *arg)
{
    run *r = arg;
    const lr_ingest_options *opt = r->opt;
    uint64_t before = 0; /* bytes of the files already read */

    for (uint32_t fi = 0; fi < r->n_files && !atomic_load(&r->stop); fi++) {
        const char *file = r->files[fi];
        lr_ingest_input *in = NULL;
        lr_error e;
        batch *b;
        bool stopped = false;

        atomic_store(&r->file_index, fi);
        lr_status st = lr_ingest_input_open(file, opt->format, r->def, &in, &e);
        if (st == LR_OK && lr__ingest_input_chunked(in))
            st = lr__ingest_input_for_chunks(in, &r->columns[fi], &e);
        if (st != LR_OK) {
            if ((b = take_free(r)) != NULL) {
                b->file = fi;
                b->st = st;
                b->err = e;
                issue(r, b);
            }
            lr_ingest_input_close(in);
            break;
        }
        for (;;) {
            if ((b = take_free(r)) == NULL) {
                stopped = true;
                break;
            }
            b->file = fi;
            bool eof = false;
            if (lr__ingest_input_chunked(in)) {
                /* Its errors name the file already. */
                st = lr__ingest_input_read_chunk(in, &b->chunk, r->chunk_bytes, &b->err);
                if (st != LR_OK) {
                    b->st = st;
                } else if (b->chunk.data.len == 0) {
                    eof = true;
                } else {
                    b->parse = true;
                }
            } else {
                lr_buf_clear(&b->chunk.data);
                fill(r, in, file, b, PARQUET_BATCH_ROWS, &eof);
                encode(r, b);
            }
            b->consumed = lr_ingest_input_consumed(in);
            atomic_store(&r->bytes_read, before + b->consumed);
            if (eof && b->st == LR_OK && !b->parse)
                b->file_end = true;
            issue(r, b);
            if (b->st != LR_OK) {
                stopped = true;
                break;
            }
            if (eof)
                break;
        }
        before += lr_ingest_input_consumed(in);
        lr_ingest_input_close(in);
        if (stopped)
            break;
    }
    pthread_mutex_lock(&r->mu);
    r->reader_done = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- the parsers ---- */

static void *parser_main(void *arg)
{
    run *r = arg;
    lr_ingest_input *in = NULL;
    uint32_t in_file = UINT32_MAX;

    for (;;) {
        batch *b = NULL;
        pthread_mutex_lock(&r->mu);
        while (r->n_work == 0 && !r->reader_done)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->n_work > 0) {
            b = r->work[r->work_head];
            r->work_head = (r->work_head + 1) % r->n_slots;
            r->n_work--;
        }
        pthread_mutex_unlock(&r->mu);
        if (b == NULL)
            break;
        if (!atomic_load(&r->stop)) {
            if (in_file != b->file) {
                lr_ingest_input_close(in);
                in = NULL;
                in_file = UINT32_MAX;
                if (lr__ingest_input_for_chunks(r->columns[b->file], &in, &b->err) == LR_OK)
                    in_file = b->file;
                else
                    b->st = b->err.code;
            }
            if (in != NULL) {
                bool eof;
                lr__ingest_input_set_chunk(in, b->chunk.data.data, b->chunk.data.len,
                                           b->chunk.first_line);
                fill(r, in, r->files[b->file], b, UINT32_MAX, &eof);
                encode(r, b);
            }
        } else {
            b->st = LR_ECANCELED;
        }
        pthread_mutex_lock(&r->mu);
        r->ready[b->seq % r->n_slots] = b;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    lr_ingest_input_close(in);
    return NULL;
}

/* ---- the writer ---- */

typedef struct winner_table {
    uint32_t *slots; /* row index + 1; 0 empty */
    uint32_t size;
} winner_table;

/*
 * Reduces recs to one winner per record identifier: the latest event time,
 * the later row on a tie. Fills idx with the winners' row indexes in order
 * and returns their count. t has at least 2 * n_recs slots; slot_of has
 * room for n_recs (each row's slot).
 */
static uint32_t reduce_latest(const lr_record *recs, uint32_t n_recs, winner_table *t,
                              uint32_t *slot_of, uint32_t *idx)
{
    memset(t->slots, 0, t->size * sizeof *t->slots);
    uint32_t mask = t->size - 1;
    for (uint32_t i = 0; i < n_recs; i++) {
        const lr_record *rec = &recs[i];
        uint32_t h = (uint32_t)lr_hash_bytes(rec->record_id.ptr, rec->record_id.len, 0) & mask;
        for (;;) {
            uint32_t s = t->slots[h];
            if (s == 0) {
                t->slots[h] = i + 1;
                break;
            }
            const lr_record *o = &recs[s - 1];
            if (o->record_id.len == rec->record_id.len &&
                memcmp(o->record_id.ptr, rec->record_id.ptr, rec->record_id.len) == 0) {
                if (rec->event_time_us >= o->event_time_us)
                    t->slots[h] = i + 1;
                break;
            }
            h = (h + 1) & mask;
        }
        slot_of[i] = h; /* an identifier keeps its slot: nothing is ever removed */
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_recs; i++) {
        if (t->slots[slot_of[i]] == i + 1)
            idx[n++] = i;
    }
    return n;
}

typedef struct writer {
    lr_online *online;
    lr_offline *offline;
    lr_online_write *on_rows;   /* LR_ONLINE_WRITE_BATCH_MAX */
    uint32_t *winners;          /* batch_rows */
    uint32_t *slot_of;          /* batch_rows: reduce_latest's scratch */
    winner_table table;         /* 2 * batch_rows slots, a power of two */
    uint32_t batch_rows;
} writer;

/* Writes rows [0, n) of `recs` to the online store (n <= w->batch_rows). */
static lr_status write_online(run *r, writer *w, const lr_record *recs, uint32_t n,
                              lr_ingest_summary *sum, lr_error *err)
{
    lr_status st;

    if (w->online) {
        uint32_t m = reduce_latest(recs, n, &w->table, w->slot_of, w->winners);
        sum->online_unchanged += n - m;
        for (uint32_t off = 0; off < m; off += LR_ONLINE_WRITE_BATCH_MAX) {
            uint32_t k = m - off < LR_ONLINE_WRITE_BATCH_MAX ? m - off : LR_ONLINE_WRITE_BATCH_MAX;
            for (uint32_t j = 0; j < k; j++) {
                lr_online_write *ow = &w->on_rows[j];
                memset(ow, 0, sizeof *ow);
                ow->kind = LR_ONLINE_PUT;
                ow->def = r->def;
                ow->record = &recs[w->winners[off + j]];
            }
            if ((st = lr_online_write_batch(w->online, w->on_rows, k, err)) != LR_OK)
                return lr_error_prefix(err, "online store");
            for (uint32_t j = 0; j < k; j++) {
                const lr_online_write *ow = &w->on_rows[j];
                if (ow->status != LR_OK) {
                    const lr_record *rec = ow->record;
                    return lr_error_set(err, ow->status, "online store: record %.*s: %s",
                                        (int)(rec->record_id.len > 100 ? 100 : rec->record_id.len),
                                        rec->record_id.ptr, lr_error_message(&ow->error));
                }
                if (ow->changed)
                    sum->online_written++;
                else
                    sum->online_unchanged++;
            }
        }
    }
    return LR_OK;
}

typedef struct progress_state {
    uint64_t rows, rejected;
    int64_t start, last;
} progress_state;

static void report(run *r, const progress_state *ps, bool flushing)
{
    if (r->opt->progress == NULL)
        return;
    lr_ingest_progress p;
    uint32_t fi = atomic_load(&r->file_index);
    p.file = r->files[fi < r->n_files ? fi : r->n_files - 1];
    p.file_index = fi;
    p.n_files = r->n_files;
    p.rows = ps->rows;
    p.rejected = ps->rejected;
    p.bytes = atomic_load(&r->bytes_read);
    p.bytes_total = r->bytes_total;
    p.elapsed_us = lr_now_us() - ps->start;
    p.flushing = flushing;
    r->opt->progress(r->opt->progress_ctx, &p);
}

/* The next batch in order, or NULL when every numbered batch was taken and the reader is done. */
static batch *take_ready(run *r, uint64_t seq)
{
    batch *b = NULL;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (seq < r->issued && r->ready[seq % r->n_slots] != NULL) {
            b = r->ready[seq % r->n_slots];
            r->ready[seq % r->n_slots] = NULL;
            break;
        }
        if (seq >= r->issued && r->reader_done)
            break;
        pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return b;
}

static void give_back(run *r, batch *b)
{
    pthread_mutex_lock(&r->mu);
    r->free_list[r->n_free++] = b;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void stop_all(run *r)
{
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static uint32_t default_parsers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PARSERS_MAX ? PARSERS_MAX : (uint32_t)n;
}

lr_status lr_ingest_run(lr_online *online, lr_offline *offline, const lr_fg_def *def,
                        const char *const *files, uint32_t n_files, const lr_ingest_options *opt,
                        lr_ingest_summary *summary, lr_error *err)
{
    lr_ingest_options defaults;
    lr_ingest_summary sum;
    writer w;
    run *r = NULL;
    pthread_t reader, parsers[PARSERS_MAX];
    uint32_t n_parsers = 0, n_started = 0;
    bool reader_started = false;
    lr_status st = LR_OK;
    progress_state ps = {0, 0, lr_now_us(), 0};

    memset(&sum, 0, sizeof sum);
    memset(&w, 0, sizeof w);
    if (opt == NULL) {
        lr_ingest_options_init(&defaults);
        opt = &defaults;
    }
    if (n_files == 0)
        return lr_error_set(err, LR_EINVAL, "no input files");
    w.online = opt->online ? online : NULL;
    w.offline = opt->offline ? offline : NULL;
    if (opt->online && online && !(def->has_online_config && def->online_enabled))
        return lr_error_set(err, LR_EINVAL, "feature group %s has no online store", def->name);
    if (opt->offline && offline && !def->has_offline_config)
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", def->name);
    if (w.online == NULL && w.offline == NULL)
        return lr_error_set(err, LR_EINVAL, "no store to write (target stores)");

    n_parsers = opt->threads ? opt->threads : default_parsers();
    if (n_parsers > PARSERS_MAX)
        n_parsers = PARSERS_MAX;
    w.batch_rows = opt->batch_rows ? opt->batch_rows : 32768;
    r = calloc(1, sizeof *r);
    w.on_rows = calloc(LR_ONLINE_WRITE_BATCH_MAX, sizeof *w.on_rows);
    w.winners = calloc(w.batch_rows, sizeof *w.winners);
    w.slot_of = calloc(w.batch_rows, sizeof *w.slot_of);
    w.table.size = 1;
    while (w.table.size < w.batch_rows * 2)
        w.table.size <<= 1;
    w.table.slots = calloc(w.table.size, sizeof *w.table.slots);
    if (r == NULL || w.on_rows == NULL || w.winners == NULL || w.slot_of == NULL ||
        w.table.slots == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    r->def = def;
    r->offline = w.offline;
    r->files = files;
    r->n_files = n_files;
    r->opt = opt;
    r->chunk_bytes = opt->chunk_bytes ? opt->chunk_bytes : LR__INGEST_CHUNK;
    r->n_slots = 2 * n_parsers + 2;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->slots = calloc(r->n_slots, sizeof *r->slots);
    r->free_list = calloc(r->n_slots, sizeof *r->free_list);
    r->work = calloc(r->n_slots, sizeof *r->work);
    r->ready = calloc(r->n_slots, sizeof *r->ready);
    r->columns = calloc(n_files, sizeof *r->columns);
    if (r->slots == NULL || r->free_list == NULL || r->work == NULL || r->ready == NULL ||
        r->columns == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < r->n_slots; i++) {
        batch *b = &r->slots[i];
        lr_buf_init(&b->chunk.data, 0);
        lr_buf_init(&b->rejects, 0);
        lr_offline_encoded_init(&b->enc);
        b->arena = lr_arena_new(1024 * 1024, 0);
        if (b->arena == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        /* A chunk's value arrays take about the same memory each time. */
        lr_arena_retain(b->arena, ARENA_RETAIN);
        r->free_list[r->n_free++] = b;
    }
    for (uint32_t i = 0; i < n_files; i++) {
        FILE *f = strcmp(files[i], "-") == 0 ? NULL : fopen(files[i], "rb");
        if (f) {
            if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0)
                r->bytes_total += (uint64_t)ftell(f);
            fclose(f);
        }
    }
    /* Parsers first: without one, chunks the reader issued would never be ready. */
    for (; n_started < n_parsers; n_started++) {
        if (pthread_create(&parsers[n_started], NULL, parser_main, r) != 0)
            break;
    }
    if (n_started == 0) {
        st = lr_error_set(err, LR_ENOMEM, "cannot start a parser thread");
        goto done;
    }
    if (pthread_create(&reader, NULL, reader_main, r) != 0) {
        st = lr_error_set(err, LR_ENOMEM, "cannot start the reader thread");
        /* No batch was issued: the parsers end when told reading is over. */
        pthread_mutex_lock(&r->mu);
        r->reader_done = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        goto done;
    }
    reader_started = true;

    /*
     * Write the batches in order. After a stop (a bad row, an error) the
     * remaining batches are taken back unwritten, so every thread ends.
     */
    lr_status run_st = LR_OK; /* the first batch that stopped the run */
    for (uint64_t seq = 0;; seq++) {
        batch *b = take_ready(r, seq);
        if (b == NULL)
            break;
        if (st == LR_OK && run_st == LR_OK) {
            if (w.offline && b->n > 0) {
                if (b->enc_st != LR_OK) {
                    st = b->enc_st;
                    if (err)
                        *err = b->enc_err;
                } else {
                    st = lr_offline_append(w.offline, &b->enc, err);
                }
                if (st != LR_OK)
                    lr_error_prefix(err, "offline store");
                else
                    sum.offline_rows += b->n;
            }
            for (uint32_t off = 0; off < b->n && st == LR_OK; off += w.batch_rows) {
                uint32_t m = b->n - off < w.batch_rows ? b->n - off : w.batch_rows;
                st = write_online(r, &w, b->recs + off, m, &sum, err);
                if (st == LR_OK)
                    ps.rows += m;
            }
            if (st == LR_OK) {
                if (b->rejects.len > 0 && opt->rejects != NULL)
                    fwrite(b->rejects.data, 1, b->rejects.len, opt->rejects);
                ps.rejected += b->rejected;
                if (b->file_end)
                    sum.files++;
                sum.bytes = atomic_load(&r->bytes_read);
                if (b->st != LR_OK) {
                    run_st = b->st;
                    if (err)
                        *err = b->err;
                    snprintf(sum.stop_file, sizeof sum.stop_file, "%s", files[b->file]);
                    sum.stop_line = b->stop_line;
                }
            }
            if (st != LR_OK || run_st != LR_OK)
                stop_all(r);
        }
        give_back(r, b);
        int64_t now = lr_now_us();
        if (now - ps.last >= PROGRESS_EVERY_US) {
            report(r, &ps, false);
            ps.last = now;
        }
    }
    pthread_join(reader, NULL);
    reader_started = false;
    for (uint32_t i = 0; i < n_started; i++)
        pthread_join(parsers[i], NULL);
    n_started = 0;

    /* A store error comes first; then the input's own outcome. */
    if (st == LR_OK)
        st = run_st;
    /* Rows acknowledged by the offline store reach Parquet even when the run
     * stopped at a bad row: they were written, and the summary says so. */
    if (w.offline && opt->flush && (st == LR_OK || st == LR_EINVAL)) {
        report(r, &ps, true);
        lr_error ferr;
        lr_status fs = lr_offline_flush(w.offline, &ferr);
        if (fs != LR_OK) {
            if (st == LR_OK && err)
                *err = ferr;
            if (st == LR_OK)
                st = fs;
        }
    }
    sum.rows = ps.rows;
    sum.rejected = ps.rejected;
    sum.bytes = atomic_load(&r->bytes_read);
    sum.elapsed_us = lr_now_us() - ps.start;
    report(r, &ps, false);
done:
    if (reader_started || n_started > 0) {
        stop_all(r);
        for (uint64_t seq = 0;; seq++) { /* not reached normally: the loop above drains */
            batch *b = take_ready(r, seq);
            if (b == NULL)
                break;
            give_back(r, b);
        }
        if (reader_started)
            pthread_join(reader, NULL);
        for (uint32_t i = 0; i < n_started; i++)
            pthread_join(parsers[i], NULL);
    }
    if (r) {
        for (uint32_t i = 0; r->slots && i < r->n_slots; i++) {
            lr_arena_free(r->slots[i].arena);
            free(r->slots[i].recs);
            lr_buf_free(&r->slots[i].chunk.data);
            lr_buf_free(&r->slots[i].rejects);
            lr_offline_encoded_free(&r->slots[i].enc);
            free(r->slots[i].wr);
        }
        for (uint32_t i = 0; r->columns && i < n_files; i++)
            lr_ingest_input_close(r->columns[i]);
        free(r->slots);
        free(r->free_list);
        free(r->work);
        free(r->ready);
        free(r->columns);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
    }
    free(r);
    free(w.on_rows);
    free(w.winners);
    free(w.slot_of);
    free(w.table.slots);
    if (summary)
        *summary = sum;
    return st;
}
