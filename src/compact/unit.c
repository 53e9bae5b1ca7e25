/*
 * unit.c - compacting one unit (an hour, or a day of a compacted copy):
 * lease, snapshot, read and sort, write, verify, swap, delete.
 *
 *   1. Lease every source partition of the unit (all or none).
 *   2. Snapshot the live files of each source partition. Files registered
 *      after this moment are not read and not replaced: they stay live and
 *      the next run compacts them.
 *   3. Per output partition: read every snapshot file into a row table,
 *      normalising values and adding each row's hash to the input
 *      checksum; when a table outgrows its share of the memory budget, sort
 *      it and spill it as a run. The rows of each file must number what the
 *      catalog says.
 *   4. Merge the runs in key order into output files of about the target
 *      size; with dedup, keep only the last row of each (identifier, event
 *      time), adding the others to the dropped checksum. Each output file is
 *      recorded as pending (and announced) before it is written, then read
 *      back: its rows go to the output checksum.
 *   5. Check output + dropped == input (count and checksum). Only then:
 *   6. Swap in one catalog transaction (old files leave the live set and
 *      become retired, new files join it, the partition state and the job's
 *      counts are recorded).
 *   7. With no grace, delete the retired files at once; otherwise the next
 *      cleanup does, once their grace has passed.
 * Any failure before the swap removes what the unit wrote and leaves the
 * old files as they were.
 *
 * Threads. A unit given several threads (a run with fewer units than
 * threads, typically one day compacted into a copy) uses them in both
 * phases: the input files are shared out among readers, each with its own
 * table and runs; then the sorted key space is cut into ranges of about
 * equal rows (spill.c) and each range is merged and written, into its own
 * files, by one thread. The checksums are sums, so the threads' parts add
 * up to the unit's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compact/compact_internal.h"
#include "larder/arena.h"
#include "larder/log.h"

#define OUT_BATCH_ROWS  8192u
#define READ_BATCH_ROWS 8192u
#define ROW_GROUP_MAX   ((uint64_t)64 << 20)
/* Bytes per row the sort needs besides the table (entries and permutation). */
#define SORT_BYTES_PER_ROW 44u
/* Sample every this many rows of an in-memory run. */
#define MEM_SAMPLE_ROWS 1024u

typedef lr__rowref ref;

/* The new files of a unit (or of one range of it) and what they hold. */
typedef struct outset {
    lr_offline_file *files;
    size_t n, cap;
    lr_arena *arena; /* keys */
    lr__rowsum out_sum, drop_sum;
    uint64_t files_out, bytes_out, rows_out, rows_dropped;
} outset;

typedef struct ustate {
    lr__job_ctx *jc;
    lr_catalog *cat;
    lr__stores *stores;
    const lr__unit *u;
    const lr__schema *sc;
    const lr_compact_options *opt;
    const char *dst_root;
    lr_objstore *dst_os;
    unsigned par; /* threads for this unit */
    atomic_uint spill_seq;

    /* snapshot */
    lr_offline_file_list *src; /* per lease (source partition), in u->leases order */
    lr_offline_file_list old_copy;

    /* sorted runs of the current output, from every reader */
    lr__run *runs;
    size_t n_runs, cap_runs;

    /* checks and outputs of the whole unit */
    lr__rowsum in_sum;
    outset out;
    lr_compact_state *states;
    size_t n_states;

    lr_compact_partition_result *res;
} ustate;

/* Adds rows r0 .. r0+n-1 of `cols` to a checksum. */
static void sum_rows(lr__rowsum *sum, const lr__schema *sc, const lr_pq_column_batch *cols,
                     size_t r0, size_t n)
{
    uint64_t h[1024];
    while (n > 0) {
        uint32_t k = n < 1024 ? (uint32_t)n : 1024;
        lr__rows_hash(sc, cols, (uint32_t)r0, k, h);
        for (uint32_t i = 0; i < k; i++)
            lr__rowsum_add(sum, h[i]);
        r0 += k;
        n -= k;
    }
}

static lr_status stopped(const ustate *s, lr_error *err)
{
    int why = atomic_load(&s->jc->stop);
    if (why == 0)
        return LR_OK;
    if (why == LR_ECONFLICT)
        return lr_error_set(err, LR_ECONFLICT,
                            "the job was declared dead by another process (its lease lapsed)");
    return lr_error_set(err, LR_ECANCELED, "canceled");
}

static lr_status add_run(lr__run **runs, size_t *n, size_t *cap, lr__run *r, lr_error *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        lr__run *nr = realloc(*runs, nc * sizeof *nr);
        if (nr == NULL) {
            lr__run_free(r);
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        }
        *runs = nr;
        *cap = nc;
    }
    (*runs)[(*n)++] = *r;
    return LR_OK;
}

/* ---- reading ---- */

typedef struct colmap {
    int32_t file_col; /* -1: absent (nulls) */
    int64_t mult;     /* timestamps: 1, 1000 (millis), 0 (nanos) */
} colmap;

/* How a file column is read as schema column c; false when it cannot be. */
static bool column_fits(const lr__col *c, const lr_pq_column_def *d, int64_t *mult)
{
    *mult = 1;
    if (d->list != c->list || (d->list && d->depth > 1))
        return false;
    switch (c->type) {
    case LR__C_I64:
        return d->type == LR_PQ_INT64 &&
               (d->logical == LR_PQ_LOGICAL_NONE ||
                (d->logical == LR_PQ_LOGICAL_INT && d->int_bits == 64 && d->int_signed));
    case LR__C_F64:
        return d->type == LR_PQ_DOUBLE && d->logical == LR_PQ_LOGICAL_NONE;
    case LR__C_STR:
        return d->type == LR_PQ_BYTE_ARRAY &&
               (d->logical == LR_PQ_LOGICAL_STRING || d->logical == LR_PQ_LOGICAL_ENUM);
    case LR__C_BOOL:
        return d->type == LR_PQ_BOOLEAN;
    case LR__C_TS:
        if (d->type == LR_PQ_INT96)
            return true;
        if (d->type != LR_PQ_INT64 || d->logical != LR_PQ_LOGICAL_TIMESTAMP)
            return false;
        *mult = d->unit == LR_PQ_MILLIS ? 1000 : d->unit == LR_PQ_NANOS ? 0 : 1;
        return true;
    }
    return false;
}

/* Maps the schema onto a file's columns; a column the group lacks is an error. */
static lr_status map_columns(const lr__schema *sc, lr_pq_reader *rd, const char *path, colmap *m,
                             uint32_t *proj, uint32_t *n_proj, lr_error *err)
{
    uint32_t nf = lr_pq_reader_num_columns(rd), np = 0;
    for (uint32_t c = 0; c < sc->n; c++) {
        const lr__col *col = &sc->cols[c];
        int32_t fc = lr_pq_reader_find_column(rd, col->name);
        m[c].file_col = fc;
        m[c].mult = 1;
        if (fc < 0) {
            /* A feature added after the file was written reads as nulls. */
            if (c >= sc->def->n_features || c == sc->rid || c == sc->et)
                return lr_error_set(err, LR_ECORRUPT, "%s has no column %s", path, col->name);
            continue;
        }
        if (!column_fits(col, lr_pq_reader_column(rd, (uint32_t)fc), &m[c].mult))
            return lr_error_set(err, LR_ECORRUPT, "%s: column %s has an unexpected type", path,
                                col->name);
        proj[np] = (uint32_t)fc;
        m[c].file_col = (int32_t)np++;
    }
    if (np != nf) {
        for (uint32_t f = 0; f < nf; f++) {
            const char *name = lr_pq_reader_column(rd, f)->name;
            bool known = false;
            for (uint32_t c = 0; c < sc->n && !known; c++)
                known = strcmp(sc->cols[c].name, name) == 0;
            if (!known)
                return lr_error_set(err, LR_ECORRUPT,
                                    "%s has a column %s that the feature group does not define "
                                    "(compaction would drop it)",
                                    path, name);
        }
    }
    *n_proj = np;
    return LR_OK;
}

/* One reader of a unit's input: its table, its runs, its part of the input checksum. */
typedef struct sorter {
    ustate *s;
    lr__stores stores;
    lr__table table;
    bool table_ready;
    lr__run *runs;
    size_t n_runs, cap_runs;
    size_t budget;
    lr__rowsum in_sum;
    /* the files to read, shared among the readers of one output */
    const lr_offline_file *const *files;
    size_t n_files;
    atomic_size_t *next;
    uint64_t files_read;
    lr_status st;
    lr_error err;
    pthread_t th;
} sorter;

/* Appends a file batch to the table, normalised, and adds its rows to the input checksum. */
static lr_status append_batch(sorter *so, const lr_pq_batch *b, const colmap *m, lr_error *err)
{
    lr__table *t = &so->table;
    const lr__schema *sc = so->s->sc;
    uint32_t n = b->n_rows;
    size_t r0 = t->rows;
    lr_status st = LR_OK;

    for (uint32_t c = 0; c < sc->n && st == LR_OK; c++) {
        lr__builder *bd = &t->cols[c];
        if (m[c].file_col < 0) {
            for (uint32_t i = 0; i < n && st == LR_OK; i++)
                st = lr__builder_append_null(bd);
        } else {
            st = lr__builder_append_scaled(bd, &b->columns[m[c].file_col], 0, n, m[c].mult);
        }
    }
    if (st == LR_OK && t->cap_ev < r0 + n) {
        size_t nc = t->cap_ev ? t->cap_ev : 4096;
        while (nc < r0 + n)
            nc += nc / 2;
        int64_t *ne = realloc(t->ev, nc * sizeof *ne);
        if (ne == NULL)
            st = LR_ENOMEM;
        else {
            t->ev = ne;
            t->cap_ev = nc;
        }
    }
    if (st != LR_OK) {
        /* Leave the table consistent: drop the partial rows of this batch. */
        for (uint32_t c = 0; c < sc->n; c++)
            while (t->cols[c].rows > r0)
                lr__builder_pop(&t->cols[c]);
        return lr_error_set(err, st, "out of memory reading rows (%zu in memory)", r0);
    }
    const lr_pq_column_batch *et = &b->columns[m[sc->et].file_col];
    for (uint32_t i = 0; i < n; i++) {
        int64_t us;
        t->ev[r0 + i] = lr__event_us(sc, et, i, &us) ? us : INT64_MIN;
    }
    t->rows = r0 + n;
    lr__table_views(t);
    sum_rows(&so->in_sum, sc, t->views, r0, n);
    return LR_OK;
}

/* Sorts the table and writes it as a spilled run; the table is emptied. */
static lr_status spill(sorter *so, lr_error *err)
{
    ustate *s = so->s;
    lr__run r;
    uint32_t *perm = NULL;
    lr_status st;

    if (so->table.rows == 0)
        return LR_OK;
    memset(&r, 0, sizeof r);
    if (mkdir(s->jc->spill_dir, 0700) != 0 && errno != EEXIST)
        return lr_error_set(err, LR_EIO, "cannot create spill folder %s: %s", s->jc->spill_dir,
                            strerror(errno));
    if (asprintf(&r.path, "%s/run-%p-%u.parquet", s->jc->spill_dir, (void *)s,
                 atomic_fetch_add(&s->spill_seq, 1)) < 0) {
        r.path = NULL;
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    st = lr__table_sort(&so->table, &perm, err);
    if (st == LR_OK) {
        lr__table_views(&so->table);
        st = lr__spill_write(&so->table, perm, r.path, &r, err);
    }
    free(perm);
    if (st != LR_OK) {
        lr__run_free(&r);
        return st;
    }
    r.rows = so->table.rows;
    lr__table_clear(&so->table);
    return add_run(&so->runs, &so->n_runs, &so->cap_runs, &r, err);
}

static lr_status read_file(sorter *so, const lr_offline_file *f, lr_error *err)
{
    ustate *s = so->s;
    const lr__schema *sc = s->sc;
    lr__infile in;
    lr_objstore *os = NULL;
    lr_pq_scan *scan = NULL;
    colmap *m = NULL;
    uint32_t *proj = NULL, np = 0;
    char path[LR_OBJ_KEY_MAX * 2 + 2];
    int64_t rows = 0;
    lr_status st;

    memset(&in, 0, sizeof in);
    in.fd = -1;
    snprintf(path, sizeof path, "%s/%s", f->root, f->key);
    st = lr__stores_get(&so->stores, f->root, &os, err);
    if (st == LR_OK)
        st = lr__infile_open(os, f->root, f->key, &in, err);
    if (st == LR_ENOTFOUND)
        st = lr_error_set(err, LR_EIO, "%s is in the catalog but not in storage", path);
    else if (st != LR_OK && err != NULL && strstr(err->msg, f->key) == NULL)
        lr_error_prefix(err, "%s", path);
    if (st != LR_OK)
        goto done;
    m = calloc(sc->n, sizeof *m);
    proj = calloc(sc->n, sizeof *proj);
    if (m == NULL || proj == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    st = map_columns(sc, in.rd, path, m, proj, &np, err);
    if (st != LR_OK)
        goto done;
    lr_pq_scan_options po;
    memset(&po, 0, sizeof po);
    po.columns = proj;
    po.n_columns = np;
    po.batch_rows = READ_BATCH_ROWS;
    st = lr_pq_scan_open(in.rd, &po, &scan, err);
    for (;;) {
        const lr_pq_batch *b = NULL;
        if (st == LR_OK)
            st = stopped(s, err);
        if (st == LR_OK)
            st = lr_pq_scan_next(scan, &b, err);
        if (st != LR_OK) {
            if (err != NULL && strstr(err->msg, f->key) == NULL)
                lr_error_prefix(err, "%s", path);
            goto done;
        }
        if (b == NULL)
            break;
        st = append_batch(so, b, m, err);
        if (st != LR_OK)
            goto done;
        rows += b->n_rows;
        atomic_fetch_add(&s->jc->rows_read, b->n_rows);
        if (lr__table_mem(&so->table) + so->table.rows * SORT_BYTES_PER_ROW > so->budget) {
            st = spill(so, err);
            if (st != LR_OK)
                goto done;
        }
    }
    if (rows != f->rows)
        st = lr_error_set(err, LR_ECORRUPT, "%s holds %lld rows, the catalog says %lld", path,
                          (long long)rows, (long long)f->rows);
    atomic_fetch_add(&s->jc->bytes_read, (uint64_t)f->bytes);
done:
    lr_pq_scan_free(scan);
    lr__infile_close(&in);
    free(m);
    free(proj);
    return st;
}

/*
 * Reads the files handed out by so->next until none are left, then sorts
 * what remains in the table into an in-memory run (within the reader's
 * budget, whether or not it spilled before: only what does not fit goes to
 * disk).
 */
static void *sorter_main(void *arg)
{
    sorter *so = arg;
    lr_status st = LR_OK;
    for (;;) {
        size_t i = atomic_fetch_add(so->next, 1);
        if (i >= so->n_files)
            break;
        st = read_file(so, so->files[i], &so->err);
        if (st != LR_OK)
            break;
        so->files_read++;
    }
    if (st == LR_OK && so->table.rows > 0) {
        {
            lr__run r;
            memset(&r, 0, sizeof r);
            r.mem = malloc(sizeof *r.mem);
            if (r.mem == NULL) {
                st = lr_error_set(&so->err, LR_ENOMEM, "out of memory");
            } else if ((st = lr__table_sort(&so->table, &r.perm, &so->err)) != LR_OK) {
                free(r.mem);
            } else {
                *r.mem = so->table; /* the run takes the table */
                r.rows = so->table.rows;
                so->table_ready = false;
                st = lr__run_sample(&r, MEM_SAMPLE_ROWS, &so->err);
                if (st == LR_OK)
                    st = add_run(&so->runs, &so->n_runs, &so->cap_runs, &r, &so->err);
                else
                    lr__run_free(&r);
            }
        }
    }
    so->st = st;
    return NULL;
}

/* ---- writing ---- */

typedef struct writer {
    ustate *s;
    const lr__output *o;
    lr_catalog *cat; /* for the pending records of this writer's files */
    outset *os;
    const lr__key *lo, *hi; /* the key range merged (NULL: unbounded) */
    lr__table out;          /* rows gathered for the next write */
    ref *refs;
    uint32_t n_refs;
    lr__outfile *file;
    char key[LR_OBJ_KEY_MAX + 1];
    uint64_t file_rows;
    int64_t file_min, file_max; /* event times of the rows written to the file */
    int64_t pend_min, pend_max; /* ... of the rows gathered, not yet written */
    uint64_t rg_rows;           /* rows per row group (so flushed bytes measure the density) */
    uint32_t batch;             /* rows per write to the file */
    double bpr;                 /* output bytes per row, measured as row groups flush */
    uint64_t rows_left;         /* rows still to merge (an estimate under a range) */
    lr__key last;               /* the last row kept */
    lr_buf last_id;
    bool have_last;
    int64_t name_us; /* the time in output file names */
    lr_pq_write_options wo;
    lr_pq_kv kv[1];
    char job_str[32];
    lr_status st;
    lr_error err;
    pthread_t th;
} writer;

/* Copies the pending refs into the output table. */
static lr_status flush_refs(writer *w, lr_error *err)
{
    const lr__schema *sc = w->s->sc;
    for (uint32_t c = 0; c < sc->n; c++) {
        lr_status st = lr__builder_gather(&w->out.cols[c], w->refs, w->n_refs, c);
        if (st != LR_OK)
            return lr_error_set(err, st, "out of memory gathering output rows");
    }
    w->out.rows += w->n_refs;
    w->n_refs = 0;
    return LR_OK;
}

/* Reads a finished output file back: its rows join the output checksum. */
static lr_status verify_file(writer *w, uint64_t rows, lr_error *err)
{
    ustate *s = w->s;
    lr__infile in;
    lr_pq_scan *scan = NULL;
    uint64_t got = 0;
    lr_status st = lr__infile_open(s->dst_os, s->dst_root, w->key, &in, err);

    if (st == LR_OK && lr_pq_reader_num_columns(in.rd) != s->sc->n)
        st = lr_error_set(err, LR_ECORRUPT, "%s/%s: %u columns written, %u read back", s->dst_root,
                          w->key, s->sc->n, lr_pq_reader_num_columns(in.rd));
    if (st == LR_OK) {
        lr_pq_scan_options so;
        memset(&so, 0, sizeof so);
        so.batch_rows = READ_BATCH_ROWS;
        st = lr_pq_scan_open(in.rd, &so, &scan, err);
    }
    while (st == LR_OK) {
        const lr_pq_batch *b = NULL;
        st = lr_pq_scan_next(scan, &b, err);
        if (st != LR_OK || b == NULL)
            break;
        sum_rows(&w->os->out_sum, s->sc, b->columns, 0, b->n_rows);
        got += b->n_rows;
    }
    if (st == LR_OK && got != rows)
        st =
            lr_error_set(err, LR_ECORRUPT, "%s/%s: %" PRIu64 " rows written, %" PRIu64 " read back",
                         s->dst_root, w->key, rows, got);
    if (st != LR_OK && err != NULL && strstr(err->msg, w->key) == NULL)
        lr_error_prefix(err, "verifying %s/%s", s->dst_root, w->key);
    lr_pq_scan_free(scan);
    lr__infile_close(&in);
    return st;
}

static lr_status add_file(outset *os, const lr_offline_file *f, lr_error *err)
{
    if (os->n == os->cap) {
        size_t nc = os->cap ? os->cap * 2 : 8;
        lr_offline_file *nf = realloc(os->files, nc * sizeof *nf);
        if (nf == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        os->files = nf;
        os->cap = nc;
    }
    os->files[os->n++] = *f;
    return LR_OK;
}

/* Records a new output file as pending (announced) and opens it. */
static lr_status open_file(writer *w, lr_error *err)
{
    ustate *s = w->s;
    char fk[LR_OFFLINE_KEY_MAX];
    lr_offline_file pf;
    lr_status st = lr_offline_file_key(w->name_us, fk, err);

    if (st != LR_OK)
        return st;
    const char *base = strrchr(fk, '/');
    snprintf(w->key, sizeof w->key, "%s/%s", w->o->partition, base ? base + 1 : fk);
    char *k = lr_arena_strdup(w->os->arena, w->key);
    if (k == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    memset(&pf, 0, sizeof pf);
    pf.root = s->dst_root;
    pf.key = k;
    pf.fg_name = s->sc->def->name;
    st = lr_catalog_compact_pending_add(w->cat, s->jc->job_id, &pf, 1, err);
    if (st != LR_OK)
        return st;
    /* From here the file is the job's pending output: a failure must remove it. */
    pf.fg_created_us = s->sc->def->creation_time_us;
    pf.partition = w->o->partition;
    pf.partition_start_us = w->o->start_us;
    pf.rows = -1; /* not finished */
    st = add_file(w->os, &pf, err);
    if (st != LR_OK)
        return st;
    lr__compact_crash_point("announced");
    st = lr__outfile_open(s->dst_os, s->dst_root, w->key, s->sc, &w->wo, &w->file, err);
    w->file_rows = 0;
    w->file_min = INT64_MAX;
    w->file_max = INT64_MIN;
    return st;
}

static lr_status close_file(writer *w, lr_error *err)
{
    ustate *s = w->s;
    uint64_t bytes = 0;
    lr_status st = lr__outfile_close(w->file, &bytes, err);
    w->file = NULL;
    if (st != LR_OK)
        return st;
    lr__compact_crash_point("written");
    if (s->opt->verify) {
        st = verify_file(w, w->file_rows, err);
        if (st != LR_OK)
            return st;
    }
    lr_offline_file *f = &w->os->files[w->os->n - 1];
    f->rows = (int64_t)w->file_rows;
    f->bytes = (int64_t)bytes;
    if (w->file_min > w->file_max) {
        /* No row had a readable event time: the partition's start stands for it. */
        w->file_min = w->file_max = w->o->start_us;
    }
    f->min_event_us = w->file_min;
    f->max_event_us = w->file_max;
    w->os->files_out++;
    w->os->bytes_out += bytes;
    w->os->rows_out += w->file_rows;
    return LR_OK;
}

/* Writes the gathered rows to the current file (opening it when needed). */
static lr_status write_out(writer *w, lr_error *err)
{
    ustate *s = w->s;
    lr_status st = flush_refs(w, err);
    if (st != LR_OK || w->out.rows == 0)
        return st;
    if (w->file == NULL && (st = open_file(w, err)) != LR_OK)
        return st;
    lr__table_views(&w->out);
    if (!s->opt->verify)
        sum_rows(&w->os->out_sum, s->sc, w->out.views, 0, w->out.rows);
    st = lr__outfile_write(w->file, w->out.views, (uint32_t)w->out.rows, err);
    if (st != LR_OK)
        return st;
    w->file_rows += w->out.rows;
    if (w->pend_min < w->file_min)
        w->file_min = w->pend_min;
    if (w->pend_max > w->file_max)
        w->file_max = w->pend_max;
    w->pend_min = INT64_MAX;
    w->pend_max = INT64_MIN;
    atomic_fetch_add(&s->jc->rows_written, w->out.rows);
    lr__table_clear(&w->out);
    return LR_OK;
}

/* Drops the last kept row (a superseded duplicate), adding it to the dropped checksum. */
static lr_status drop_last(writer *w, lr_error *err)
{
    const lr__schema *sc = w->s->sc;
    if (w->n_refs > 0) {
        ref *r = &w->refs[--w->n_refs];
        lr__rowsum_add(&w->os->drop_sum, lr__row_hash(sc, r->cols, r->row));
    } else if (w->out.rows > 0) {
        lr__table_views(&w->out);
        lr__rowsum_add(&w->os->drop_sum,
                       lr__row_hash(sc, w->out.views, (uint32_t)(w->out.rows - 1)));
        for (uint32_t c = 0; c < sc->n; c++)
            lr__builder_pop(&w->out.cols[c]);
        w->out.rows--;
    } else {
        return lr_error_set(err, LR_EINTERNAL, "dedup: the row to drop was already written");
    }
    w->os->rows_dropped++;
    return LR_OK;
}

static lr_status remember_last(writer *w, const lr__key *k, lr_error *err)
{
    w->last = *k;
    w->have_last = true;
    if (k->id != NULL) {
        lr_buf_clear(&w->last_id);
        if (lr_buf_append(&w->last_id, k->id, k->id_len) != LR_OK)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        w->last.id = (const uint8_t *)w->last_id.data;
    }
    return LR_OK;
}

/*
 * Whether the current file is full: at the density measured so far, the
 * rows still to come would fill a whole number of files of about the target
 * size, and this one holds its share (so files come out even, not one full
 * and one tiny).
 */
static bool should_close(writer *w)
{
    uint64_t flushed = w->file_rows / w->rg_rows * w->rg_rows;
    if (flushed > 0)
        w->bpr = (double)lr__outfile_bytes(w->file) / (double)flushed;
    double target = (double)w->s->opt->target_file_bytes;
    double cur = w->bpr * (double)w->file_rows;
    double total = cur + w->bpr * (double)w->rows_left;
    double n = floor(total / target + 0.5);
    if (n < 1)
        n = 1;
    /* Past the estimate of a range's rows, fill up to the target rather than start a sliver. */
    if (w->rows_left == 0)
        return cur >= target;
    return cur >= total / n;
}

/* Prepares a writer for `rows` rows (of about `bytes` input bytes) of output o. */
static lr_status writer_init(writer *w, ustate *s, const lr__output *o, outset *os, uint64_t rows,
                             uint64_t bytes, int64_t name_us, lr_error *err)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->o = o;
    w->os = os;
    w->cat = s->cat;
    w->name_us = name_us;
    w->rows_left = rows;
    w->pend_min = INT64_MAX;
    w->pend_max = INT64_MIN;
    lr_buf_init(&w->last_id, 0);
    /*
     * Row groups of about an eighth of the target at the input's density, and
     * writes no larger than a row group: the bytes of flushed row groups then
     * measure the output's density as the file grows (should_close).
     */
    double target = (double)s->opt->target_file_bytes;
    w->bpr = rows > 0 && bytes > 0 ? (double)bytes / (double)rows : 64.0;
    double rg = target / w->bpr / 8;
    w->rg_rows = rg < 512 ? 512 : rg > (double)(1u << 20) ? (1u << 20) : (uint64_t)rg;
    w->batch = w->rg_rows < OUT_BATCH_ROWS ? (uint32_t)w->rg_rows : OUT_BATCH_ROWS;
    lr_pq_write_options_init(&w->wo);
    w->wo.codec = s->opt->codec;
    w->wo.row_group_rows = w->rg_rows;
    w->wo.row_group_bytes = ROW_GROUP_MAX;
    snprintf(w->job_str, sizeof w->job_str, "%lld", (long long)s->jc->job_id);
    w->kv[0].key = "larder.compaction.job";
    w->kv[0].value = w->job_str;
    w->wo.kv = w->kv;
    w->wo.n_kv = 1;
    w->refs = malloc(OUT_BATCH_ROWS * sizeof *w->refs);
    if (w->refs == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    return lr__table_init(&w->out, s->sc, err);
}

static void writer_free(writer *w)
{
    lr__outfile_abort(w->file);
    w->file = NULL;
    lr__table_free(&w->out);
    free(w->refs);
    w->refs = NULL;
    lr_buf_free(&w->last_id);
}

/* Merges the runs (within the writer's key range) into files. */
static lr_status write_range(writer *w, lr_error *err)
{
    ustate *s = w->s;
    lr__merge *m = NULL;
    lr_status st = lr__merge_open(s->sc, s->runs, s->n_runs, w->lo, w->hi, &m, err);
    uint32_t since_check = 0;

    while (st == LR_OK) {
        const lr_pq_column_batch *cols = NULL;
        uint32_t row = 0;
        lr__key k;
        if (lr__merge_will_reload(m) && (st = flush_refs(w, err)) != LR_OK)
            break;
        st = lr__merge_next(m, &cols, &row, &k, err);
        if (st != LR_OK || cols == NULL)
            break;
        if (++since_check == 4096) {
            since_check = 0;
            if ((st = stopped(s, err)) != LR_OK)
                break;
        }
        if (s->opt->dedup && w->have_last && lr__key_same_record(&k, &w->last)) {
            /* Sorted by api_invocation_time then write_time: this row supersedes the last. */
            st = drop_last(w, err);
            if (st == LR_OK)
                st = remember_last(w, &k, err);
        } else {
            /* A new (identifier, event time): what is gathered is final. */
            if (w->n_refs + w->out.rows >= w->batch)
                st = write_out(w, err);
            if (st == LR_OK && w->file != NULL && should_close(w))
                st = close_file(w, err);
            if (st == LR_OK)
                st = remember_last(w, &k, err);
        }
        if (st != LR_OK)
            break;
        if (w->rows_left > 0)
            w->rows_left--;
        w->refs[w->n_refs].cols = cols;
        w->refs[w->n_refs].row = row;
        w->n_refs++;
        if (k.ev != INT64_MIN) {
            if (k.ev < w->pend_min)
                w->pend_min = k.ev;
            if (k.ev > w->pend_max)
                w->pend_max = k.ev;
        }
        if (w->n_refs == OUT_BATCH_ROWS && (st = flush_refs(w, err)) != LR_OK)
            break;
    }
    if (st == LR_OK)
        st = write_out(w, err);
    if (st == LR_OK && w->file != NULL)
        st = close_file(w, err);
    lr__merge_free(m);
    return st;
}

/* A writer thread: its own catalog handle for its pending records. */
static void *writer_main(void *arg)
{
    writer *w = arg;
    lr_catalog *cat = NULL;
    w->st = lr_catalog_open(w->s->jc->catalog_uri, NULL, &cat, &w->err);
    if (w->st == LR_OK) {
        w->cat = cat;
        w->st = write_range(w, &w->err);
    }
    lr_catalog_close(cat);
    w->cat = NULL;
    return NULL;
}

/* ---- one output partition ---- */

static void free_runs(ustate *s)
{
    for (size_t i = 0; i < s->n_runs; i++)
        lr__run_free(&s->runs[i]);
    s->n_runs = 0;
}

static void outset_free(outset *os)
{
    free(os->files);
    lr_arena_free(os->arena);
    memset(os, 0, sizeof *os);
}

/* Moves a range's files and counts into the unit's. */
static lr_status outset_merge(outset *into, outset *from, lr_error *err)
{
    lr_status st = LR_OK;
    for (size_t i = 0; i < from->n && st == LR_OK; i++) {
        lr_offline_file f = from->files[i];
        f.key = lr_arena_strdup(into->arena, f.key);
        if (f.key == NULL)
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
        else
            st = add_file(into, &f, err);
    }
    lr__rowsum_merge(&into->out_sum, &from->out_sum);
    lr__rowsum_merge(&into->drop_sum, &from->drop_sum);
    into->files_out += from->files_out;
    into->bytes_out += from->bytes_out;
    into->rows_out += from->rows_out;
    into->rows_dropped += from->rows_dropped;
    return st;
}

static int cmp_sample(const void *a, const void *b)
{
    return lr__key_cmp_record(*(const lr__key *const *)a, *(const lr__key *const *)b);
}

/*
 * Up to k-1 split keys dividing the runs' rows into k ranges of about equal
 * rows, from the runs' samples (each standing for sample_every rows).
 * *splits points into the runs' samples. Returns the number of ranges.
 */
static size_t choose_splits(ustate *s, size_t k, const lr__key **splits, uint64_t *range_rows)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        n += s->runs[i].n_samples;
    const lr__key **v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL || n < k) {
        free(v);
        range_rows[0] = 0;
        for (size_t i = 0; i < s->n_runs; i++)
            range_rows[0] += s->runs[i].rows;
        return 1;
    }
    n = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        for (size_t j = 0; j < s->runs[i].n_samples; j++)
            v[n++] = &s->runs[i].samples[j];
    qsort(v, n, sizeof *v, cmp_sample);
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        total += s->runs[i].rows;
    size_t ranges = 1;
    uint64_t per = total / k, acc = 0, start = 0;
    for (size_t i = 0; i < n && ranges < k; i++) {
        /* Samples stand for about equal numbers of rows. */
        acc = (uint64_t)((double)total * (double)(i + 1) / (double)n);
        if (acc - start >= per && i + 1 < n && lr__key_cmp_record(v[i], v[i + 1]) != 0) {
            splits[ranges - 1] = v[i + 1];
            range_rows[ranges - 1] = acc - start;
            start = acc;
            ranges++;
        }
    }
    range_rows[ranges - 1] = total - start;
    free(v);
    return ranges;
}

/* Merges the runs into the output's files: one range, or s->par ranges in threads. */
static lr_status write_output(ustate *s, const lr__output *o, uint64_t rows, uint64_t bytes,
                              int64_t name_us, lr_error *err)
{
    size_t k = s->par;
    const lr__key *splits[64];
    uint64_t range_rows[64];
    writer *ws = NULL;
    outset *sets = NULL;
    lr_status st = LR_OK;

    if (k > 64)
        k = 64;
    uint64_t min_rows = lr__compact_par_min_rows ? lr__compact_par_min_rows : 1;
    if (k > 1 && rows / k < min_rows)
        k = rows / min_rows > 1 ? (size_t)(rows / min_rows) : 1;
    if (k > 1)
        k = choose_splits(s, k, splits, range_rows);
    else
        range_rows[0] = rows;
    ws = calloc(k, sizeof *ws);
    sets = calloc(k, sizeof *sets);
    if (ws == NULL || sets == NULL) {
        free(ws);
        free(sets);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < k && st == LR_OK; i++) {
        sets[i].arena = lr_arena_new(0, 0);
        if (sets[i].arena == NULL)
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
        else
            st = writer_init(&ws[i], s, o, &sets[i], range_rows[i],
                             rows ? (uint64_t)((double)bytes * range_rows[i] / rows) : 0, name_us,
                             err);
        ws[i].lo = i > 0 ? splits[i - 1] : NULL;
        ws[i].hi = i + 1 < k ? splits[i] : NULL;
    }
    if (st == LR_OK && k == 1) {
        st = write_range(&ws[0], err);
    } else if (st == LR_OK) {
        size_t started = 0;
        for (size_t i = 1; i < k; i++) {
            if (pthread_create(&ws[i].th, NULL, writer_main, &ws[i]) != 0)
                break;
            started = i;
        }
        /* Ranges without a thread are written here, after the first. */
        ws[0].st = write_range(&ws[0], &ws[0].err);
        for (size_t i = started + 1; i < k; i++)
            writer_main(&ws[i]);
        for (size_t i = 1; i <= started; i++)
            pthread_join(ws[i].th, NULL);
        for (size_t i = 0; i < k && st == LR_OK; i++)
            if (ws[i].st != LR_OK)
                st = lr_error_set(err, ws[i].err.code, "%s", ws[i].err.msg);
    }
    /* Every range's files become the unit's, written or not (a failure removes them). */
    for (size_t i = 0; i < k; i++) {
        lr_error me;
        if (sets[i].arena != NULL && outset_merge(&s->out, &sets[i], &me) != LR_OK && st == LR_OK)
            st = lr_error_set(err, me.code, "%s", me.msg);
        writer_free(&ws[i]);
        outset_free(&sets[i]);
    }
    free(ws);
    free(sets);
    return st;
}

static lr_status compact_output(ustate *s, const lr__output *o, lr_error *err)
{
    uint64_t rows = 0, bytes = 0;
    int64_t name_us = o->start_us;
    const lr_offline_file **files = NULL;
    size_t n_files = 0;
    sorter *sv = NULL;
    unsigned nr = 0;
    atomic_size_t next;
    int64_t t0 = lr_now_us();
    lr_status st = LR_OK;

    for (size_t k = 0; k < o->n_sources; k++) {
        size_t li = 0;
        while (li < s->u->n_leases && s->u->leases[li] != o->sources[k])
            li++;
        n_files += s->src[li].n;
    }
    files = malloc((n_files ? n_files : 1) * sizeof *files);
    if (files == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    n_files = 0;
    for (size_t k = 0; k < o->n_sources; k++) {
        size_t li = 0;
        while (li < s->u->n_leases && s->u->leases[li] != o->sources[k])
            li++;
        for (size_t i = 0; i < s->src[li].n; i++) {
            const lr_offline_file *f = &s->src[li].items[i];
            files[n_files++] = f;
            rows += (uint64_t)f->rows;
            bytes += (uint64_t)f->bytes;
            if (f->max_event_us > name_us)
                name_us = f->max_event_us;
        }
    }
    s->res->files_in += n_files;
    s->res->rows_in += rows;
    s->res->bytes_in += bytes;
    if (rows == 0 && n_files == 0)
        goto done;

    /* Phase 1: readers share the files out; each sorts (and spills) its own rows. */
    nr = s->par < n_files ? s->par : (unsigned)n_files;
    if (nr == 0)
        nr = 1;
    sv = calloc(nr, sizeof *sv);
    if (sv == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    atomic_init(&next, 0);
    for (unsigned i = 0; i < nr && st == LR_OK; i++) {
        sv[i].s = s;
        sv[i].files = files;
        sv[i].n_files = n_files;
        sv[i].next = &next;
        sv[i].budget = s->jc->mem_per_worker / nr;
        st = lr__table_init(&sv[i].table, s->sc, err);
        sv[i].table_ready = st == LR_OK;
    }
    if (st == LR_OK) {
        unsigned started = 0;
        for (unsigned i = 1; i < nr; i++) {
            if (pthread_create(&sv[i].th, NULL, sorter_main, &sv[i]) != 0)
                break;
            started = i;
        }
        sorter_main(&sv[0]);
        for (unsigned i = 1; i <= started; i++)
            pthread_join(sv[i].th, NULL);
        for (unsigned i = 0; i < nr && st == LR_OK; i++)
            if (sv[i].st != LR_OK)
                st = lr_error_set(err, sv[i].err.code, "%s", sv[i].err.msg);
    }
    for (unsigned i = 0; i < nr; i++) {
        lr__rowsum_merge(&s->in_sum, &sv[i].in_sum);
        for (size_t j = 0; j < sv[i].n_runs; j++) {
            if (st == LR_OK)
                st = add_run(&s->runs, &s->n_runs, &s->cap_runs, &sv[i].runs[j], err);
            else
                lr__run_free(&sv[i].runs[j]);
        }
        free(sv[i].runs);
        if (sv[i].table_ready)
            lr__table_free(&sv[i].table);
        lr__stores_free(&sv[i].stores);
    }
    if (st != LR_OK)
        goto done;

    /* Phase 2: merge and write, by key range. */
    int64_t t1 = lr_now_us();
    size_t spilled = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        spilled += s->runs[i].mem == NULL;
    lr_log_debug("compact", "%s: %" PRIu64 " rows of %zu files read by %u thread(s) in %.2f s, "
                 "%zu run(s), %zu spilled",
                 o->partition, rows, n_files, nr, (double)(t1 - t0) / 1e6, s->n_runs, spilled);
    st = write_output(s, o, rows, bytes, name_us, err);
    lr_log_debug("compact", "%s: merged and written in %.2f s", o->partition,
                 (double)(lr_now_us() - t1) / 1e6);
done:
    free_runs(s);
    free(sv);
    free(files);
    return st;
}

/* ---- the unit ---- */

static void set_failed(lr_compact_partition_result *res, const lr_error *e)
{
    res->status = LR_JOB_FAILED;
    res->code = e->code != LR_OK ? e->code : LR_EINTERNAL;
    free(res->error);
    res->error = strdup(lr_error_message(e));
}

/* Removes the unit's unswapped output: the files, then their pending records. */
static void discard_outputs(ustate *s)
{
    for (size_t i = 0; i < s->out.n; i++) {
        lr_error e;
        const lr_offline_file *f = &s->out.files[i];
        if (lr__object_remove(s->dst_os, f->key, &e) != LR_OK) {
            lr_log_warn("compact", "cannot remove %s/%s: %s (cleanup will retry)", f->root, f->key,
                        lr_error_message(&e));
            continue;
        }
        if (lr_catalog_compact_pending_remove(s->cat, f->root, f->key, &e) != LR_OK)
            lr_log_warn("compact", "cannot forget pending %s/%s: %s (cleanup will retry)", f->root,
                        f->key, lr_error_message(&e));
    }
    s->out.n = 0;
}

/* Deletes the old files of a swap whose grace is zero, then forgets them in one transaction. */
static void delete_retired(ustate *s, const lr_offline_file *old, size_t n)
{
    lr_offline_file *gone = malloc((n ? n : 1) * sizeof *gone);
    size_t n_gone = 0;
    lr_error e;
    if (gone == NULL) {
        lr_log_warn("compact", "out of memory deleting retired files (cleanup will retry)");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lr_objstore *os = NULL;
        if (lr__stores_get(s->stores, old[i].root, &os, &e) != LR_OK ||
            lr__object_remove(os, old[i].key, &e) != LR_OK) {
            lr_log_warn("compact", "cannot delete retired %s/%s yet: %s (cleanup will retry)",
                        old[i].root, old[i].key, lr_error_message(&e));
            continue;
        }
        gone[n_gone++] = old[i];
        lr__compact_crash_point("deleted");
    }
    if (n_gone > 0 && lr_catalog_compact_retired_remove(s->cat, gone, n_gone, &e) != LR_OK)
        lr_log_warn("compact", "cannot forget %zu deleted files yet: %s (cleanup will)", n_gone,
                    lr_error_message(&e));
    free(gone);
}

void lr__unit_run(lr__job_ctx *jc, lr_catalog *cat, lr__stores *stores, const lr__unit *u,
                  lr_compact_partition_result *res)
{
    const lr_fg_def *def = jc->def;
    ustate s;
    lr_error e;
    lr_offline_file *old = NULL;
    size_t n_old = 0;
    bool leased = false;
    lr_status st;

    memset(&s, 0, sizeof s);
    lr_error_clear(&e);
    memset(res, 0, sizeof *res);
    snprintf(res->partition, sizeof res->partition, "%s", u->name);
    res->status = LR_JOB_PENDING;
    s.jc = jc;
    s.cat = cat;
    s.stores = stores;
    s.u = u;
    s.sc = jc->sc;
    s.opt = jc->opt;
    s.res = res;
    s.par = jc->par ? jc->par : 1;
    atomic_init(&s.spill_seq, 0);
    s.dst_root = jc->copy_root ? jc->copy_root : def->resolved_offline_uri;
    s.out.arena = lr_arena_new(0, 0);
    s.src = calloc(u->n_leases ? u->n_leases : 1, sizeof *s.src);
    if (s.out.arena == NULL || s.src == NULL) {
        st = lr_error_set(&e, LR_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = stopped(&s, &e)) != LR_OK)
        goto done;
    st = lr__stores_get(stores, s.dst_root, &s.dst_os, &e);
    if (st != LR_OK)
        goto done;

    /* 1. Lease. */
    st = lr_catalog_lease_acquire(
        cat, def->name, def->creation_time_us, (const char *const *)u->leases, u->n_leases,
        jc->job_id, &jc->holder, lr_now_us() + jc->opt->lease_us, lr__holder_alive, NULL, &e);
    if (st != LR_OK)
        goto done;
    leased = true;
    lr__compact_crash_point("leased");

    /* 2. Snapshot. */
    for (size_t i = 0; i < u->n_leases && st == LR_OK; i++)
        st = lr_catalog_compact_partition_files(cat, NULL, def->name, def->creation_time_us,
                                                u->leases[i], &s.src[i], &e);
    if (st == LR_OK && jc->copy_root != NULL) {
        st = lr_catalog_compact_partition_files(cat, jc->copy_root, def->name,
                                                def->creation_time_us, u->name, &s.old_copy, &e);
        if (st == LR_OK && strstr(u->name, "/hour=") != NULL) {
            /* An hour of a day whose copy was rewritten by day since planning. */
            lr_offline_file_list day = {0};
            char dname[48];
            snprintf(dname, sizeof dname, "%.*s", (int)(strstr(u->name, "/hour=") - u->name),
                     u->name);
            st = lr_catalog_compact_partition_files(cat, jc->copy_root, def->name,
                                                    def->creation_time_us, dname, &day, &e);
            for (size_t i = 0; i < day.n && st == LR_OK; i++)
                if (strcmp(day.items[i].partition, dname) == 0)
                    st = lr_error_set(&e, LR_ECONFLICT,
                                      "the copy of %s was rewritten by day since this run "
                                      "planned; run again",
                                      dname);
            lr_offline_file_list_free(&day);
        }
    }
    if (st != LR_OK)
        goto done;

    /* 3-4. Read, sort, write, verify each output. */
    for (size_t i = 0; i < u->n_outs && st == LR_OK; i++)
        st = compact_output(&s, &u->outs[i], &e);
    if (st != LR_OK)
        goto done;

    /* 5. Nothing lost, nothing added. */
    {
        lr__rowsum got = s.out.out_sum;
        lr__rowsum_merge(&got, &s.out.drop_sum);
        if (!lr__rowsum_equal(&got, &s.in_sum)) {
            st = lr_error_set(&e, LR_EINTERNAL,
                              "%s: the new files do not hold the rows read (%" PRIu64
                              " read, %" PRIu64 " written, %" PRIu64
                              " dropped, or their checksums differ); nothing was changed",
                              u->name, s.in_sum.n, s.out.out_sum.n, s.out.drop_sum.n);
            goto done;
        }
    }
    res->files_out = s.out.files_out;
    res->bytes_out = s.out.bytes_out;
    res->rows_out = s.out.rows_out;
    res->rows_dropped = s.out.rows_dropped;
    lr__compact_crash_point("verified");

    /* 6. Swap. */
    size_t total_old = 0;
    if (jc->copy_root != NULL)
        total_old = s.old_copy.n;
    else
        for (size_t i = 0; i < u->n_leases; i++)
            total_old += s.src[i].n;
    old = calloc(total_old ? total_old : 1, sizeof *old);
    s.states = calloc(u->n_leases ? u->n_leases : 1, sizeof *s.states);
    if (old == NULL || s.states == NULL) {
        st = lr_error_set(&e, LR_ENOMEM, "out of memory");
        goto done;
    }
    if (jc->copy_root != NULL) {
        if (s.old_copy.n > 0)
            memcpy(old, s.old_copy.items, s.old_copy.n * sizeof *old);
        n_old = s.old_copy.n;
    } else {
        for (size_t i = 0; i < u->n_leases; i++) {
            if (s.src[i].n > 0)
                memcpy(old + n_old, s.src[i].items, s.src[i].n * sizeof *old);
            n_old += s.src[i].n;
        }
    }
    for (size_t i = 0; i < u->n_leases; i++) {
        lr_compact_state *cs = &s.states[s.n_states++];
        snprintf(cs->partition, sizeof cs->partition, "%s", u->leases[i]);
        if (jc->copy_root != NULL) {
            /* A copy is current while its source keeps the files it was made from. */
            cs->files = (int64_t)s.src[i].n;
            cs->fingerprint = lr__files_fingerprint(s.src[i].items, s.src[i].n);
        } else {
            /* In place the partition then holds exactly the new files of its output. */
            size_t a = 0, b;
            while (a < s.out.n && strcmp(s.out.files[a].partition, u->leases[i]) != 0)
                a++;
            b = a;
            while (b < s.out.n && strcmp(s.out.files[b].partition, u->leases[i]) == 0)
                b++;
            cs->files = (int64_t)(b - a);
            cs->fingerprint = lr__files_fingerprint(s.out.files + a, b - a);
        }
    }
    {
        lr_compact_job_partition r;
        lr_compact_swap sw;
        int64_t now = lr_now_us();
        memset(&r, 0, sizeof r);
        r.job_id = jc->job_id;
        r.partition = u->name;
        r.files_in = (int64_t)res->files_in;
        r.files_out = (int64_t)res->files_out;
        r.rows_in = (int64_t)res->rows_in;
        r.rows_out = (int64_t)res->rows_out;
        r.rows_dropped = (int64_t)res->rows_dropped;
        r.bytes_in = (int64_t)res->bytes_in;
        r.bytes_out = (int64_t)res->bytes_out;
        memset(&sw, 0, sizeof sw);
        sw.job_id = jc->job_id;
        sw.holder = &jc->holder;
        sw.fg_name = def->name;
        sw.fg_created_us = def->creation_time_us;
        sw.leases = (const char *const *)u->leases;
        sw.n_leases = u->n_leases;
        sw.copy_root = jc->copy_root;
        sw.old_files = old;
        sw.n_old = n_old;
        sw.new_files = s.out.files;
        sw.n_new = s.out.n;
        /* A copy has no catalog readers to protect; its old files go at once. */
        sw.delete_after_us =
            jc->copy_root != NULL || jc->opt->grace_us <= 0 ? now : now + jc->opt->grace_us;
        sw.dest = jc->dest;
        sw.states = s.states;
        sw.n_states = s.n_states;
        sw.result = &r;
        if ((st = stopped(&s, &e)) == LR_OK)
            st = lr_catalog_compact_swap(cat, &sw, &e);
        if (st != LR_OK)
            goto done;
        s.out.n = 0; /* swapped in: no longer ours to discard */
        res->status = LR_JOB_COMPLETED;
        lr__compact_crash_point("swapped");
        /* 7. Old files whose grace is over. */
        if (sw.delete_after_us <= lr_now_us())
            delete_retired(&s, old, n_old);
    }

done:
    if (st != LR_OK) {
        set_failed(res, &e);
        discard_outputs(&s);
        lr_compact_job_partition p;
        lr_error e2;
        memset(&p, 0, sizeof p);
        p.job_id = jc->job_id;
        p.partition = u->name;
        p.error = res->error;
        p.files_in = (int64_t)res->files_in;
        p.rows_in = (int64_t)res->rows_in;
        p.bytes_in = (int64_t)res->bytes_in;
        if (lr_catalog_job_partition_fail(cat, &p, &e2) != LR_OK && e2.code != LR_ECONFLICT)
            lr_log_warn("compact", "cannot record the failure of %s: %s", u->name,
                        lr_error_message(&e2));
        res->files_out = res->rows_out = res->bytes_out = res->rows_dropped = 0;
    }
    if (leased) {
        lr_error e3;
        if (lr_catalog_lease_release(cat, jc->job_id, (const char *const *)u->leases, u->n_leases,
                                     &e3) != LR_OK)
            lr_log_warn("compact", "cannot release the leases of %s: %s (they expire)", u->name,
                        lr_error_message(&e3));
    }
    free_runs(&s);
    free(s.runs);
    if (s.src != NULL)
        for (size_t i = 0; i < u->n_leases; i++)
            lr_offline_file_list_free(&s.src[i]);
    free(s.src);
    lr_offline_file_list_free(&s.old_copy);
    outset_free(&s.out);
    free(s.states);
    free(old);
}
