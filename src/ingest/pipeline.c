/*
 * pipeline.c - `larder ingest`: files into the online and offline stores in
 * one pass (ingest.h).
 *
 * Design. One parser thread reads rows (input.c), validates them and copies
 * each valid row into a batch (its own arena, so the input's buffers can be
 * reused at once). Full batches go through a small queue to the calling
 * thread, which writes each batch to the offline store (one log append for
 * the whole batch) and to the online store. With three batches in flight,
 * parsing and writing overlap and memory stays bounded.
 *
 * Online store: only the latest record per identifier can survive, so each
 * batch is first reduced to one winner per identifier (latest event time;
 * on a tie, the row read later), which is what applying the rows one by one
 * would leave; the store's own event-time rule then decides against what is
 * already stored. For data ordered by record (as most exports are) this
 * turns thousands of writes into a handful.
 *
 * Bad rows never reach a store. With --on-error fail the parser stops at the
 * first one, after handing over the valid rows before it, so "what was
 * already written" is exactly the rows before the bad one.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/ingest.h"
#include "larder/offline.h"
#include "larder/online.h"
#include "larder/value.h"

#define BATCHES 3
#define PROGRESS_EVERY_US 100000

typedef struct batch {
    lr_arena *arena;
    lr_record *recs;
    uint32_t n;
    uint32_t cap;
} batch;

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *free_list[BATCHES];
    int n_free;
    batch *full[BATCHES + 1];
    int head, n_full;
    bool done; /* the parser has finished (after its last batch) */
} queue;

typedef struct run {
    const lr_fg_def *def;
    const char *const *files;
    uint32_t n_files;
    const lr_ingest_options *opt;
    queue q;
    batch batches[BATCHES];

    /* Written by the parser, read by the writer for progress. */
    _Atomic uint64_t rows;
    _Atomic uint64_t rejected;
    _Atomic uint64_t bytes_done;  /* bytes of finished files */
    _Atomic uint64_t bytes_cur;   /* bytes consumed of the current file */
    _Atomic uint32_t file_index;
    uint64_t bytes_total;

    atomic_bool stop;   /* the writer failed: the parser stops */
    lr_status parse_st; /* the parser's outcome */
    lr_error parse_err;
    uint32_t files_done;
    char stop_file[256];
    uint64_t stop_line;
} run;

void lr_ingest_options_init(lr_ingest_options *o)
{
    memset(o, 0, sizeof *o);
    o->online = true;
    o->offline = true;
    o->batch_rows = 32768;
    o->flush = true;
}

/* ---- the queue ---- */

static batch *take_free(run *r)
{
    batch *b = NULL;
    pthread_mutex_lock(&r->q.mu);
    while (r->q.n_free == 0 && !atomic_load(&r->stop))
        pthread_cond_wait(&r->q.cv, &r->q.mu);
    if (r->q.n_free > 0)
        b = r->q.free_list[--r->q.n_free];
    pthread_mutex_unlock(&r->q.mu);
    if (b) {
        lr_arena_reset(b->arena);
        b->n = 0;
    }
    return b;
}

static void push_full(run *r, batch *b)
{
    pthread_mutex_lock(&r->q.mu);
    r->q.full[(r->q.head + r->q.n_full) % (BATCHES + 1)] = b;
    r->q.n_full++;
    pthread_cond_broadcast(&r->q.cv);
    pthread_mutex_unlock(&r->q.mu);
}

static void give_back(run *r, batch *b)
{
    pthread_mutex_lock(&r->q.mu);
    r->q.free_list[r->q.n_free++] = b;
    pthread_cond_broadcast(&r->q.cv);
    pthread_mutex_unlock(&r->q.mu);
}

/* The next full batch, or NULL when the parser is done and all were taken. */
static batch *take_full(run *r)
{
    batch *b = NULL;
    pthread_mutex_lock(&r->q.mu);
    while (r->q.n_full == 0 && !r->q.done)
        pthread_cond_wait(&r->q.cv, &r->q.mu);
    if (r->q.n_full > 0) {
        b = r->q.full[r->q.head];
        r->q.head = (r->q.head + 1) % (BATCHES + 1);
        r->q.n_full--;
    }
    pthread_mutex_unlock(&r->q.mu);
    return b;
}

static void parser_done(run *r)
{
    pthread_mutex_lock(&r->q.mu);
    r->q.done = true;
    pthread_cond_broadcast(&r->q.cv);
    pthread_mutex_unlock(&r->q.mu);
}

/* ---- the parser ---- */

static lr_status copy_str(lr_arena *a, lr_str *s)
{
    if (s->len == 0) {
        s->ptr = "";
        return LR_OK;
    }
    char *p = lr_arena_alloc(a, s->len);
    if (p == NULL)
        return LR_ENOMEM;
    memcpy(p, s->ptr, s->len);
    s->ptr = p;
    return LR_OK;
}

/* Copies a validated record into the batch's arena. */
static lr_status batch_add(const lr_fg_def *def, batch *b, const lr_record *src)
{
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
                if (copy_str(b->arena, &items[k]) != LR_OK)
                    return LR_ENOMEM;
            }
            v->items = items;
        } else if (copy_str(b->arena, &v->value) != LR_OK) {
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

static void write_reject(run *r, const char *file, uint64_t line, const lr_error *e,
                         const lr_ingest_input *in)
{
    FILE *f = r->opt->rejects;
    lr_buf b;
    size_t raw_len = 0;
    const char *raw = in ? lr_ingest_input_raw(in, &raw_len) : NULL;
    if (f == NULL)
        return;
    lr_buf_init(&b, 0);
    lr_buf_append_str(&b, "{\"file\":");
    lr_buf_append_json_str(&b, file, strlen(file));
    lr_buf_printf(&b, ",\"line\":%" PRIu64 ",\"error\":", line);
    lr_buf_append_json_str(&b, e->msg, strlen(e->msg));
    if (raw) {
        /* Without the line's own newline: the row as it was written. */
        while (raw_len && (raw[raw_len - 1] == '\n' || raw[raw_len - 1] == '\r'))
            raw_len--;
        lr_buf_append_str(&b, ",\"row\":");
        lr_buf_append_json_str(&b, raw, raw_len);
    }
    lr_buf_append_str(&b, "}\n");
    if (b.data)
        fwrite(b.data, 1, b.len, f);
    lr_buf_free(&b);
}

static void *parser_main(void *arg)
{
    run *r = arg;
    const lr_ingest_options *opt = r->opt;
    batch *b = take_free(r);
    lr_status st = LR_OK;

    for (uint32_t fi = 0; fi < r->n_files && b && st == LR_OK; fi++) {
        const char *file = r->files[fi];
        lr_ingest_input *in = NULL;
        atomic_store(&r->file_index, fi);
        atomic_store(&r->bytes_cur, 0);
        st = lr_ingest_input_open(file, opt->format, r->def, &in, &r->parse_err);
        if (st != LR_OK)
            break;
        for (;;) {
            lr_record rec;
            uint64_t line;
            bool eof;
            lr_error rowerr;
            if (atomic_load(&r->stop)) {
                st = LR_ECANCELED;
                break;
            }
            lr_status rs = lr_ingest_input_next(in, &rec, &line, &eof, &rowerr);
            atomic_store(&r->bytes_cur, lr_ingest_input_consumed(in));
            if (rs == LR_EINVAL) {
                atomic_fetch_add(&r->rejected, 1);
                if (opt->skip_bad_rows) {
                    write_reject(r, file, line, &rowerr, in);
                    continue;
                }
                snprintf(r->stop_file, sizeof r->stop_file, "%s", file);
                r->stop_line = line;
                /* The row's message already starts with "line N" or "row N". */
                lr_error_set(&r->parse_err, LR_EINVAL, "%s: %s", file, rowerr.msg);
                st = LR_EINVAL;
                break;
            }
            if (rs != LR_OK) {
                lr_error_set(&r->parse_err, rs, "%s: %s", file, rowerr.msg);
                st = rs;
                break;
            }
            if (eof) {
                atomic_fetch_add(&r->bytes_done, lr_ingest_input_consumed(in));
                atomic_store(&r->bytes_cur, 0);
                r->files_done++;
                break;
            }
            if (batch_add(r->def, b, &rec) != LR_OK) {
                st = lr_error_set(&r->parse_err, LR_ENOMEM, "out of memory");
                break;
            }
            atomic_fetch_add(&r->rows, 1);
            if (b->n == b->cap) {
                push_full(r, b);
                if ((b = take_free(r)) == NULL) {
                    st = LR_ECANCELED;
                    break;
                }
            }
        }
        lr_ingest_input_close(in);
    }
    /* The valid rows before a stop are still written. */
    if (b) {
        if (b->n > 0)
            push_full(r, b);
        else
            give_back(r, b);
    }
    r->parse_st = st;
    parser_done(r);
    return NULL;
}

/* ---- the writer ---- */

typedef struct winner_table {
    uint32_t *slots; /* row index + 1; 0 empty */
    uint32_t size;
} winner_table;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/*
 * Reduces the batch to one winner per record identifier: the latest event
 * time, the later row on a tie. Fills idx with the winners' row indexes in
 * batch order and returns their count.
 */
static uint32_t reduce_latest(const batch *b, winner_table *t, uint32_t *idx)
{
    memset(t->slots, 0, t->size * sizeof *t->slots);
    uint32_t mask = t->size - 1;
    for (uint32_t i = 0; i < b->n; i++) {
        const lr_record *rec = &b->recs[i];
        uint32_t h = (uint32_t)hash_bytes(rec->record_id.ptr, rec->record_id.len) & mask;
        for (;;) {
            uint32_t s = t->slots[h];
            if (s == 0) {
                t->slots[h] = i + 1;
                break;
            }
            const lr_record *o = &b->recs[s - 1];
            if (o->record_id.len == rec->record_id.len &&
                memcmp(o->record_id.ptr, rec->record_id.ptr, rec->record_id.len) == 0) {
                if (rec->event_time_us >= o->event_time_us)
                    t->slots[h] = i + 1;
                break;
            }
            h = (h + 1) & mask;
        }
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const lr_record *rec = &b->recs[i];
        uint32_t h = (uint32_t)hash_bytes(rec->record_id.ptr, rec->record_id.len) & mask;
        while (t->slots[h] != 0) {
            const lr_record *o = &b->recs[t->slots[h] - 1];
            if (o->record_id.len == rec->record_id.len &&
                memcmp(o->record_id.ptr, rec->record_id.ptr, rec->record_id.len) == 0)
                break;
            h = (h + 1) & mask;
        }
        if (t->slots[h] == i + 1)
            idx[n++] = i;
    }
    return n;
}

typedef struct writer {
    lr_online *online;
    lr_offline *offline;
    lr_offline_write *off_rows;
    lr_online_write *on_rows;
    uint32_t *winners;
    winner_table table;
} writer;

static lr_status write_batch(run *r, writer *w, const batch *b, lr_ingest_summary *sum,
                             lr_error *err)
{
    lr_status st;
    int64_t now = lr_now_us();

    if (w->offline) {
        for (uint32_t i = 0; i < b->n; i++) {
            w->off_rows[i].def = r->def;
            w->off_rows[i].rec = &b->recs[i];
            w->off_rows[i].is_deleted = false;
            w->off_rows[i].api_invocation_us = now;
        }
        if ((st = lr_offline_write_batch(w->offline, w->off_rows, b->n, err)) != LR_OK)
            return lr_error_prefix(err, "offline store");
        sum->offline_rows += b->n;
    }
    if (w->online) {
        uint32_t n = reduce_latest(b, &w->table, w->winners);
        sum->online_unchanged += b->n - n;
        for (uint32_t off = 0; off < n; off += LR_ONLINE_WRITE_BATCH_MAX) {
            uint32_t m = n - off < LR_ONLINE_WRITE_BATCH_MAX ? n - off : LR_ONLINE_WRITE_BATCH_MAX;
            for (uint32_t k = 0; k < m; k++) {
                lr_online_write *ow = &w->on_rows[k];
                memset(ow, 0, sizeof *ow);
                ow->kind = LR_ONLINE_PUT;
                ow->def = r->def;
                ow->record = &b->recs[w->winners[off + k]];
            }
            if ((st = lr_online_write_batch(w->online, w->on_rows, m, err)) != LR_OK)
                return lr_error_prefix(err, "online store");
            for (uint32_t k = 0; k < m; k++) {
                const lr_online_write *ow = &w->on_rows[k];
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

static void report(run *r, lr_ingest_summary *sum, int64_t start, bool flushing)
{
    if (r->opt->progress == NULL)
        return;
    lr_ingest_progress p;
    uint32_t fi = atomic_load(&r->file_index);
    p.file = r->files[fi < r->n_files ? fi : r->n_files - 1];
    p.file_index = fi;
    p.n_files = r->n_files;
    p.rows = atomic_load(&r->rows);
    p.rejected = atomic_load(&r->rejected);
    p.bytes = atomic_load(&r->bytes_done) + atomic_load(&r->bytes_cur);
    p.bytes_total = r->bytes_total;
    p.elapsed_us = lr_now_us() - start;
    p.flushing = flushing;
    (void)sum;
    r->opt->progress(r->opt->progress_ctx, &p);
}

lr_status lr_ingest_run(lr_online *online, lr_offline *offline, const lr_fg_def *def,
                        const char *const *files, uint32_t n_files, const lr_ingest_options *opt,
                        lr_ingest_summary *summary, lr_error *err)
{
    lr_ingest_options defaults;
    lr_ingest_summary sum;
    writer w;
    run *r = NULL;
    pthread_t parser;
    bool parser_started = false;
    lr_status st = LR_OK;
    int64_t start = lr_now_us(), last_report = 0;

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

    uint32_t cap = opt->batch_rows ? opt->batch_rows : 32768;
    r = calloc(1, sizeof *r);
    w.off_rows = calloc(cap, sizeof *w.off_rows);
    w.on_rows = calloc(LR_ONLINE_WRITE_BATCH_MAX, sizeof *w.on_rows);
    w.winners = calloc(cap, sizeof *w.winners);
    w.table.size = 1;
    while (w.table.size < cap * 2)
        w.table.size <<= 1;
    w.table.slots = calloc(w.table.size, sizeof *w.table.slots);
    if (r == NULL || w.off_rows == NULL || w.on_rows == NULL || w.winners == NULL ||
        w.table.slots == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    r->def = def;
    r->files = files;
    r->n_files = n_files;
    r->opt = opt;
    pthread_mutex_init(&r->q.mu, NULL);
    pthread_cond_init(&r->q.cv, NULL);
    for (int i = 0; i < BATCHES; i++) {
        r->batches[i].arena = lr_arena_new(1024 * 1024, 0);
        r->batches[i].recs = calloc(cap, sizeof(lr_record));
        r->batches[i].cap = cap;
        if (r->batches[i].arena == NULL || r->batches[i].recs == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        r->q.free_list[r->q.n_free++] = &r->batches[i];
    }
    for (uint32_t i = 0; i < n_files; i++) {
        FILE *f = strcmp(files[i], "-") == 0 ? NULL : fopen(files[i], "rb");
        if (f) {
            if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0)
                r->bytes_total += (uint64_t)ftell(f);
            fclose(f);
        }
    }
    if (pthread_create(&parser, NULL, parser_main, r) != 0) {
        st = lr_error_set(err, LR_ENOMEM, "cannot start the parser thread");
        goto done;
    }
    parser_started = true;

    batch *b;
    while ((b = take_full(r)) != NULL) {
        if (st == LR_OK)
            st = write_batch(r, &w, b, &sum, err);
        if (st != LR_OK)
            atomic_store(&r->stop, true);
        give_back(r, b);
        int64_t now = lr_now_us();
        if (now - last_report >= PROGRESS_EVERY_US) {
            report(r, &sum, start, false);
            last_report = now;
        }
    }
    pthread_join(parser, NULL);
    parser_started = false;

    /* A store error comes first; then the parser's own outcome. */
    if (st == LR_OK && r->parse_st != LR_OK) {
        st = r->parse_st;
        if (err)
            *err = r->parse_err;
        snprintf(sum.stop_file, sizeof sum.stop_file, "%s", r->stop_file);
        sum.stop_line = r->stop_line;
    }
    /* Rows acknowledged by the offline store reach Parquet even when the run
     * stopped at a bad row: they were written, and the summary says so. */
    if (w.offline && opt->flush && (st == LR_OK || st == LR_EINVAL)) {
        report(r, &sum, start, true);
        lr_error ferr;
        lr_status fs = lr_offline_flush(w.offline, &ferr);
        if (fs != LR_OK) {
            if (st == LR_OK && err)
                *err = ferr;
            if (st == LR_OK)
                st = fs;
        }
    }
    sum.rows = atomic_load(&r->rows);
    sum.rejected = atomic_load(&r->rejected);
    sum.bytes = atomic_load(&r->bytes_done) + atomic_load(&r->bytes_cur);
    sum.files = r->files_done;
    sum.elapsed_us = lr_now_us() - start;
    report(r, &sum, start, false);
done:
    if (parser_started) {
        atomic_store(&r->stop, true);
        pthread_join(parser, NULL);
    }
    if (r) {
        for (int i = 0; i < BATCHES; i++) {
            lr_arena_free(r->batches[i].arena);
            free(r->batches[i].recs);
        }
        pthread_mutex_destroy(&r->q.mu);
        pthread_cond_destroy(&r->q.cv);
    }
    free(r);
    free(w.off_rows);
    free(w.on_rows);
    free(w.winners);
    free(w.table.slots);
    if (summary)
        *summary = sum;
    return st;
}
