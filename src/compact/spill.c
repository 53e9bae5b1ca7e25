/*
 * spill.c - sorted runs and their k-way merge: the external merge sort that
 * lets compaction handle a partition larger than its memory budget, and
 * the key ranges that let several threads write one partition's files.
 *
 * A run is either in memory (a table and the permutation that sorts it) or
 * spilled: a Parquet file under the job's spill folder holding the table's
 * rows in sorted order plus one extra column, the event time in
 * microseconds, so that merging never parses event times again. Spill
 * files are uncompressed and without dictionaries (written once, read once,
 * usually straight from the page cache: compressing them cost more CPU than
 * the I/O it saved) and have small row groups, so a reader holds little
 * memory during the merge.
 *
 * Every run keeps sample keys (every 1024th row in memory; the first row of
 * each row group when spilled). Split points chosen among them divide the
 * key space into ranges of about equal rows; a merge restricted to a range
 * starts in-memory runs by binary search and skips the row groups of
 * spilled runs that lie wholly outside it (the reader's row-group filter).
 * Ranges are bounded by record (identifier, event time), never inside one,
 * so the duplicates --dedup resolves always meet in the same merge.
 *
 * The merge keeps one cursor per run in a binary heap ordered by the row
 * key (lr__key_cmp; ties go to the lower run index, which keeps the merge
 * stable). A cursor over a spilled run reads a batch at a time; when it
 * must read its next batch, the rows it returned before become invalid,
 * which lr__merge_will_reload() announces so the caller can copy them out
 * first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compact/compact_internal.h"
#include "larder/arena.h"

#define SPILL_EV_COLUMN      "__larder_event_us"
#define SPILL_ROW_GROUP_ROWS 16384u
#define SPILL_BATCH_ROWS     4096u
#define GATHER_ROWS          8192u

void lr__run_free(lr__run *r)
{
    if (r == NULL)
        return;
    if (r->mem != NULL) {
        lr__table_free(r->mem);
        free(r->mem);
    }
    free(r->perm);
    if (r->path != NULL) {
        (void)unlink(r->path);
        free(r->path);
    }
    free(r->samples);
    lr_arena_free(r->arena);
    memset(r, 0, sizeof *r);
}

/* Adds a copy of key k to the run's samples. */
static lr_status add_sample(lr__run *r, size_t *cap, const lr__key *k)
{
    if (r->arena == NULL && (r->arena = lr_arena_new(0, 0)) == NULL)
        return LR_ENOMEM;
    if (r->n_samples == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        lr__key *ns = realloc(r->samples, nc * sizeof *ns);
        if (ns == NULL)
            return LR_ENOMEM;
        r->samples = ns;
        *cap = nc;
    }
    lr__key c = *k;
    if (k->id != NULL) {
        uint8_t *id = lr_arena_alloc(r->arena, k->id_len ? k->id_len : 1);
        if (id == NULL)
            return LR_ENOMEM;
        if (k->id_len > 0)
            memcpy(id, k->id, k->id_len);
        c.id = id;
    }
    r->samples[r->n_samples++] = c;
    return LR_OK;
}

lr_status lr__run_sample(lr__run *r, uint32_t every, lr_error *err)
{
    size_t cap = 0;
    lr__table *t = r->mem;
    lr__table_views(t);
    r->sample_every = every;
    for (size_t i = 0; i < t->rows; i += every) {
        lr__key k;
        uint32_t row = r->perm[i];
        lr__key_of(t->sc, t->views, row, t->ev[row], &k);
        if (add_sample(r, &cap, &k) != LR_OK)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    return LR_OK;
}

lr_status lr__spill_write(const lr__table *t, const uint32_t *perm, const char *path, lr__run *run,
                          lr_error *err)
{
    const lr__schema *sc = t->sc;
    lr_pq_column_def *defs = NULL;
    lr__builder *bs = NULL;
    lr_pq_column_batch *views = NULL;
    int64_t *ev = NULL;
    lr__rowref *refs = NULL;
    lr_pq_writer *w = NULL;
    lr_pq_write_options wo;
    size_t scap = 0;
    int fd = -1;
    lr_status st = LR_OK;
    uint32_t n = sc->n;

    defs = calloc((size_t)n + 1, sizeof *defs);
    bs = calloc(n, sizeof *bs);
    views = calloc((size_t)n + 1, sizeof *views);
    ev = malloc(GATHER_ROWS * sizeof *ev);
    refs = malloc(GATHER_ROWS * sizeof *refs);
    if (defs == NULL || bs == NULL || views == NULL || ev == NULL || refs == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(defs, sc->pq, n * sizeof *defs);
    defs[n].name = SPILL_EV_COLUMN;
    defs[n].type = LR_PQ_INT64;
    for (uint32_t c = 0; c < n; c++)
        lr__builder_init(&bs[c], sc->cols[c].type, sc->cols[c].list);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = lr_error_set(err, LR_EIO, "cannot create spill file %s: %s", path, strerror(errno));
        goto done;
    }
    lr_pq_write_options_init(&wo);
    wo.codec = LR_PQ_UNCOMPRESSED;
    wo.dictionary = false;
    wo.row_group_rows = SPILL_ROW_GROUP_ROWS;
    st = lr_pq_writer_open(defs, n + 1, &wo, lr_pq_sink_fd(fd), &w, err);
    run->sample_every = SPILL_ROW_GROUP_ROWS;
    for (size_t i = 0; i < t->rows && st == LR_OK; i += GATHER_ROWS) {
        uint32_t k = (uint32_t)(t->rows - i < GATHER_ROWS ? t->rows - i : GATHER_ROWS);
        for (uint32_t r = 0; r < k; r++) {
            refs[r].cols = t->views;
            refs[r].row = perm[i + r];
            if ((i + r) % SPILL_ROW_GROUP_ROWS == 0) {
                lr__key key;
                lr__key_of(sc, t->views, perm[i + r], t->ev[perm[i + r]], &key);
                if (add_sample(run, &scap, &key) != LR_OK)
                    st = LR_ENOMEM;
            }
        }
        for (uint32_t c = 0; c < n && st == LR_OK; c++) {
            lr__builder_clear(&bs[c]);
            st = lr__builder_gather(&bs[c], refs, k, c);
        }
        if (st != LR_OK) {
            lr_error_set(err, st, "out of memory writing a spill file");
            break;
        }
        for (uint32_t r = 0; r < k; r++)
            ev[r] = t->ev[perm[i + r]];
        for (uint32_t c = 0; c < n; c++)
            lr__builder_view(&bs[c], &views[c]);
        memset(&views[n], 0, sizeof views[n]);
        views[n].i64 = ev;
        st = lr_pq_writer_write_batch(w, views, k, err);
    }
    if (st == LR_OK)
        st = lr_pq_writer_close(w, NULL, err);
done:
    lr_pq_writer_free(w);
    if (fd >= 0 && close(fd) != 0 && st == LR_OK)
        st = lr_error_set(err, LR_EIO, "cannot write spill file %s: %s", path, strerror(errno));
    if (st != LR_OK && fd >= 0)
        (void)unlink(path);
    if (bs != NULL)
        for (uint32_t c = 0; c < n; c++)
            lr__builder_free(&bs[c]);
    free(bs);
    free(defs);
    free(views);
    free(ev);
    free(refs);
    return st;
}

/* ---- the merge ---- */

typedef struct cursor {
    lr__run *run;
    const lr__key *lo, *hi;
    /* memory runs */
    size_t pos;
    /* spilled runs */
    lr_pq_reader *rd;
    lr_pq_scan *scan;
    const lr_pq_batch *batch;
    uint32_t brow;
    /* the current row */
    const lr_pq_column_batch *cols;
    uint32_t row;
    lr__key key;
    bool done;
} cursor;

struct lr__merge {
    const lr__schema *sc;
    cursor *cur;
    size_t n;
    size_t *heap; /* cursor indexes */
    size_t nh;
    size_t last; /* cursor that produced the previous row, or SIZE_MAX */
};

static void mem_key(const lr__schema *sc, const lr__run *r, size_t pos, lr__key *k)
{
    uint32_t row = r->perm[pos];
    lr__key_of(sc, r->mem->views, row, r->mem->ev[row], k);
}

/* Loads the cursor's current row (skipping rows below lo; done at hi). */
static lr_status cursor_load(lr__merge *m, cursor *c, lr_error *err)
{
    const lr__schema *sc = m->sc;
    if (c->run->mem != NULL) {
        if (c->pos >= c->run->mem->rows) {
            c->done = true;
            return LR_OK;
        }
        c->cols = c->run->mem->views;
        c->row = c->run->perm[c->pos];
        mem_key(sc, c->run, c->pos, &c->key);
        if (c->hi != NULL && lr__key_cmp_record(&c->key, c->hi) >= 0)
            c->done = true;
        return LR_OK;
    }
    for (;;) {
        if (c->batch == NULL || c->brow >= c->batch->n_rows) {
            lr_status st = lr_pq_scan_next(c->scan, &c->batch, err);
            if (st != LR_OK) {
                if (err != NULL)
                    lr_error_prefix(err, "spill file %s", c->run->path);
                return st;
            }
            c->brow = 0;
            if (c->batch == NULL) {
                c->done = true;
                return LR_OK;
            }
        }
        c->cols = c->batch->columns;
        c->row = c->brow;
        lr__key_of(sc, c->cols, c->row, c->cols[sc->n].i64[c->row], &c->key);
        if (c->lo != NULL && lr__key_cmp_record(&c->key, c->lo) < 0) {
            c->brow++;
            continue;
        }
        if (c->hi != NULL && lr__key_cmp_record(&c->key, c->hi) >= 0)
            c->done = true;
        return LR_OK;
    }
}

/* Row-group filter of a spilled run: false when the group lies wholly outside [lo, hi). */
static bool rg_in_range(void *ctx, const lr_pq_reader *r, uint32_t rg)
{
    const cursor *c = ctx;
    const lr__run *run = c->run;
    (void)r;
    if (rg >= run->n_samples)
        return true;
    if (c->lo != NULL && rg + 1 < run->n_samples &&
        lr__key_cmp_record(&run->samples[rg + 1], c->lo) < 0)
        return false;
    if (c->hi != NULL && lr__key_cmp_record(&run->samples[rg], c->hi) >= 0)
        return false;
    return true;
}

static bool heap_less(const lr__merge *m, size_t a, size_t b)
{
    int x = lr__key_cmp(&m->cur[a].key, &m->cur[b].key);
    return x < 0 || (x == 0 && a < b);
}

static void heap_down(lr__merge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, s = i;
        if (l < m->nh && heap_less(m, m->heap[l], m->heap[s]))
            s = l;
        if (l + 1 < m->nh && heap_less(m, m->heap[l + 1], m->heap[s]))
            s = l + 1;
        if (s == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

void lr__merge_free(lr__merge *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        lr_pq_scan_free(m->cur[i].scan);
        lr_pq_reader_free(m->cur[i].rd);
    }
    free(m->cur);
    free(m->heap);
    free(m);
}

lr_status lr__merge_open(const lr__schema *sc, lr__run *runs, size_t n, const lr__key *lo,
                         const lr__key *hi, lr__merge **out, lr_error *err)
{
    lr__merge *m = calloc(1, sizeof *m);
    lr_status st = LR_OK;

    *out = NULL;
    if (m == NULL || (m->cur = calloc(n ? n : 1, sizeof *m->cur)) == NULL ||
        (m->heap = calloc(n ? n : 1, sizeof *m->heap)) == NULL) {
        lr__merge_free(m);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    m->sc = sc;
    m->n = n;
    m->last = SIZE_MAX;
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        cursor *c = &m->cur[i];
        c->run = &runs[i];
        c->lo = lo;
        c->hi = hi;
        if (runs[i].mem == NULL) {
            lr_pq_scan_options so;
            st = lr_pq_reader_open_file(runs[i].path, &c->rd, err);
            if (st == LR_OK && lr_pq_reader_num_columns(c->rd) != sc->n + 1)
                st = lr_error_set(err, LR_ECORRUPT, "spill file %s has %u columns, not %u",
                                  runs[i].path, lr_pq_reader_num_columns(c->rd), sc->n + 1);
            if (st == LR_OK) {
                memset(&so, 0, sizeof so);
                so.batch_rows = SPILL_BATCH_ROWS;
                /* Skip row groups only when they are exactly the sampled ones. */
                bool aligned = lr_pq_reader_num_row_groups(c->rd) == runs[i].n_samples;
                for (uint32_t g = 0; aligned && g + 1 < runs[i].n_samples; g++)
                    aligned = lr_pq_reader_row_group_rows(c->rd, g) == SPILL_ROW_GROUP_ROWS;
                if ((lo != NULL || hi != NULL) && aligned) {
                    so.filter = rg_in_range;
                    so.filter_ctx = c;
                }
                st = lr_pq_scan_open(c->rd, &so, &c->scan, err);
            }
        } else {
            /*
             * The run's views were set when it was sampled: merges over one run
             * may run on several threads at once and must only read it.
             */
            lr__run *r = &runs[i];
            if (lo != NULL) {
                /* The first row whose record is not below lo. */
                size_t a = 0, b = r->mem->rows;
                while (a < b) {
                    size_t mid = a + (b - a) / 2;
                    lr__key k;
                    mem_key(sc, r, mid, &k);
                    if (lr__key_cmp_record(&k, lo) < 0)
                        a = mid + 1;
                    else
                        b = mid;
                }
                c->pos = a;
            }
        }
        if (st == LR_OK)
            st = cursor_load(m, c, err);
        if (st == LR_OK && !c->done)
            m->heap[m->nh++] = i;
    }
    if (st != LR_OK) {
        lr__merge_free(m);
        return st;
    }
    for (size_t i = m->nh / 2; i-- > 0;)
        heap_down(m, i);
    *out = m;
    return LR_OK;
}

bool lr__merge_will_reload(const lr__merge *m)
{
    if (m->last == SIZE_MAX)
        return false;
    const cursor *c = &m->cur[m->last];
    return c->run->mem == NULL && c->batch != NULL && c->brow + 1 >= c->batch->n_rows;
}

lr_status lr__merge_next(lr__merge *m, const lr_pq_column_batch **cols, uint32_t *row, lr__key *key,
                         lr_error *err)
{
    /* Advance the cursor of the previous row now: its row was in use until this call. */
    if (m->last != SIZE_MAX) {
        cursor *c = &m->cur[m->last];
        if (c->run->mem != NULL)
            c->pos++;
        else
            c->brow++;
        lr_status st = cursor_load(m, c, err);
        if (st != LR_OK)
            return st;
        if (c->done)
            m->heap[0] = m->heap[--m->nh];
        if (m->nh > 0)
            heap_down(m, 0);
        m->last = SIZE_MAX;
    }
    if (m->nh == 0) {
        *cols = NULL;
        return LR_OK;
    }
    cursor *c = &m->cur[m->heap[0]];
    *cols = c->cols;
    *row = c->row;
    *key = c->key;
    m->last = m->heap[0];
    return LR_OK;
}
