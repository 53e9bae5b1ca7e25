/*
 * spill.c - bounded memory for the training subsystem: the job context
 * (the memory budget and the spill files), chunk lists whose chunks live in
 * memory or in a spill file, the partition writer that fills them, and the
 * cursor that reads a list back in order through a small window.
 *
 * The budget is split three ways (training_internal.h): chunks held in
 * memory across phases (hold_limit, three quarters), and per worker what one
 * bucket of the join may load (work_limit, the last quarter shared by the
 * workers). Writers check the shared `held` counter as they go; a writer
 * that finds it over the hold limit writes its own chunks out and keeps
 * writing to disk from then on, so the pressure it saw is relieved by the
 * writer that adds to it and no thread waits for another.
 *
 * Spill files are created with mkstemp and unlinked at once: their space is
 * returned when the job closes them, or when the process dies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "larder/hash.h"
#include "training/training_internal.h"

#define MEMORY_DEFAULT ((size_t)2 << 30)
#define MEMORY_MIN ((size_t)1 << 20)
#define CHUNK_MIN ((size_t)4 << 10)
#define CHUNK_MAX ((size_t)1 << 20)

/* ---- hashing ---- */

uint64_t lr__tr_hash(const void *p, size_t n)
{
    return lr_hash_bytes(p, n, 0);
}

void lr__tr_int_key(int64_t v, uint8_t out[8])
{
    uint64_t u = (uint64_t)v ^ (1ULL << 63);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(u >> (56 - 8 * i));
}

int64_t lr__tr_int_from_key(const uint8_t k[8])
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | k[i];
    return (int64_t)(u ^ (1ULL << 63));
}

/* ---- context ---- */

lr_status lr__tr_ctx_init(lr__tr_ctx *c, const lr_training_resources *res, lr_error *err)
{
    memset(c, 0, sizeof *c);
    c->memory_max = res && res->memory_max ? res->memory_max : MEMORY_DEFAULT;
    if (c->memory_max < MEMORY_MIN)
        return lr_error_set(err, LR_EINVAL, "the memory budget must be at least 1 MiB");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = res && res->threads ? res->threads : (cpus > 0 ? (uint32_t)cpus : 1);
    if (c->threads > 256)
        return lr_error_set(err, LR_EINVAL, "at most 256 threads");
    c->hold_limit = c->memory_max / 4 * 3;
    c->work_limit = c->memory_max / 4 / c->threads;
    lr__tr_ctx_set_parts(c, 256);
    const char *dir = res && res->temp_dir ? res->temp_dir : getenv("TMPDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    c->temp_dir = strdup(dir);
    if (c->temp_dir == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->lock_init = true;
    return LR_OK;
}

void lr__tr_ctx_set_parts(lr__tr_ctx *c, uint32_t nparts)
{
    /* Every writer's open buffers together stay a small part of the budget. */
    size_t m = c->hold_limit / 4 / nparts / c->threads;
    c->chunk_max = m < CHUNK_MIN ? CHUNK_MIN : m > CHUNK_MAX ? CHUNK_MAX : m;
}

void lr__tr_ctx_free(lr__tr_ctx *c)
{
    for (size_t i = 0; i < c->n_fds; i++)
        close(c->fds[i]);
    free(c->fds);
    free(c->temp_dir);
    if (c->lock_init)
        pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof *c);
}

lr_status lr__tr_ctx_tempfile(lr__tr_ctx *c, int *fd, lr_error *err)
{
    size_t n = strlen(c->temp_dir) + 32;
    char *path = malloc(n);
    lr_status st = LR_OK;
    if (path == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    snprintf(path, n, "%s/larder-spill-XXXXXX", c->temp_dir);
    *fd = mkstemp(path);
    if (*fd < 0) {
        st = lr_error_set(err, LR_EIO, "cannot create a spill file in %s: %s", c->temp_dir,
                          strerror(errno));
        goto done;
    }
    unlink(path);
    pthread_mutex_lock(&c->lock);
    if (c->n_fds == c->cap_fds) {
        size_t nc = c->cap_fds ? c->cap_fds * 2 : 8;
        int *nf = realloc(c->fds, nc * sizeof *nf);
        if (nf == NULL) {
            pthread_mutex_unlock(&c->lock);
            close(*fd);
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
        c->fds = nf;
        c->cap_fds = nc;
    }
    c->fds[c->n_fds++] = *fd;
    pthread_mutex_unlock(&c->lock);
done:
    free(path);
    return st;
}

/* ---- lists ---- */

void lr__tr_list_append(lr__tr_list *l, lr__tr_chunk *c)
{
    c->next = NULL;
    if (l->tail != NULL)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->bytes += c->len;
    l->records += c->records;
}

uint64_t lr__tr_list_disk_bytes(const lr__tr_list *l)
{
    uint64_t d = 0;
    for (const lr__tr_chunk *c = l->head; c != NULL; c = c->next)
        if (c->mem == NULL)
            d += c->len;
    return d;
}

void lr__tr_list_concat(lr__tr_list *dst, lr__tr_list *src)
{
    if (src->head == NULL)
        return;
    if (dst->tail != NULL)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->bytes += src->bytes;
    dst->records += src->records;
    memset(src, 0, sizeof *src);
}

void lr__tr_list_free(lr__tr_ctx *ctx, lr__tr_list *l)
{
    lr__tr_chunk *c = l->head;
    while (c != NULL) {
        lr__tr_chunk *n = c->next;
        if (c->mem != NULL) {
            atomic_fetch_sub(&ctx->held, c->cap);
            free(c->mem);
        }
        free(c);
        c = n;
    }
    memset(l, 0, sizeof *l);
}

lr_status lr__tr_chunk_read(const lr__tr_chunk *c, uint8_t *dst, lr_error *err)
{
    size_t done = 0;
    while (done < c->len) {
        ssize_t r = pread(c->fd, dst + done, c->len - done, (off_t)(c->off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return lr_error_set(err, LR_EIO, "reading a spill file: %s",
                                r < 0 ? strerror(errno) : "unexpected end of file");
        done += (size_t)r;
    }
    return LR_OK;
}

lr_status lr__tr_list_load(lr__tr_ctx *ctx, lr__tr_list *l, lr_error *err)
{
    for (lr__tr_chunk *c = l->head; c != NULL; c = c->next) {
        if (c->mem != NULL)
            continue;
        uint8_t *m = malloc(c->len ? c->len : 1);
        if (m == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        lr_status st = lr__tr_chunk_read(c, m, err);
        if (st != LR_OK) {
            free(m);
            return st;
        }
        c->mem = m;
        c->cap = c->len ? c->len : 1;
        atomic_fetch_add(&ctx->held, c->cap);
    }
    return LR_OK;
}

/* ---- partition writer ---- */

lr_status lr__tr_pw_init(lr__tr_pw *w, lr__tr_ctx *ctx, uint32_t nparts, lr__tr_list *out,
                         bool direct, lr_error *err)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->nparts = nparts;
    w->out = out;
    w->fd = -1;
    w->direct = direct;
    w->bufs = calloc(nparts, sizeof *w->bufs);
    if (w->bufs == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    return LR_OK;
}

void lr__tr_pw_free(lr__tr_pw *w)
{
    if (w->bufs != NULL) {
        for (uint32_t i = 0; i < w->nparts; i++) {
            if (w->bufs[i].data != NULL) {
                atomic_fetch_sub(&w->ctx->held, w->bufs[i].cap);
                free(w->bufs[i].data);
            }
        }
    }
    free(w->bufs);
    free(w->resident);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

static lr_status write_at(lr__tr_pw *w, const uint8_t *p, size_t n, uint64_t *off, lr_error *err)
{
    lr_status st;
    if (w->fd < 0 && (st = lr__tr_ctx_tempfile(w->ctx, &w->fd, err)) != LR_OK)
        return st;
    *off = w->fend;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(w->fd, p + done, n - done, (off_t)(w->fend + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return lr_error_set(err, LR_EIO, "writing a spill file in %s: %s", w->ctx->temp_dir,
                                r < 0 ? strerror(errno) : "no space written");
        done += (size_t)r;
    }
    w->fend += n;
    atomic_fetch_add(&w->ctx->spilled, n);
    return LR_OK;
}

/* Moves part p's buffer into a chunk of its list (in memory, or on disk when direct). */
static lr_status close_buf(lr__tr_pw *w, uint32_t p, lr_error *err)
{
    lr__tr_pbuf *b = &w->bufs[p];
    lr_status st;
    if (b->len == 0)
        return LR_OK;
    lr__tr_chunk *c = calloc(1, sizeof *c);
    if (c == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    c->len = b->len;
    c->records = b->records;
    c->fd = -1;
    if (w->direct) {
        if ((st = write_at(w, b->data, b->len, &c->off, err)) != LR_OK) {
            free(c);
            return st;
        }
        c->fd = w->fd;
        b->len = 0; /* the buffer is reused */
    } else {
        if (w->n_res == w->cap_res) {
            size_t nc = w->cap_res ? w->cap_res * 2 : 64;
            lr__tr_chunk **nr = realloc(w->resident, nc * sizeof *nr);
            if (nr == NULL) {
                free(c);
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            }
            w->resident = nr;
            w->cap_res = nc;
        }
        c->mem = b->data;
        c->cap = b->cap;
        w->resident[w->n_res++] = c;
        b->data = NULL;
        b->len = b->cap = 0;
    }
    b->records = 0;
    b->filled = true;
    lr__tr_list_append(&w->out[p], c);
    return LR_OK;
}

lr_status lr__tr_pw_spill(lr__tr_pw *w, lr_error *err)
{
    lr_status st;
    for (size_t i = 0; i < w->n_res; i++) {
        lr__tr_chunk *c = w->resident[i];
        if (c->mem == NULL)
            continue;
        if ((st = write_at(w, c->mem, c->len, &c->off, err)) != LR_OK)
            return st;
        c->fd = w->fd;
        atomic_fetch_sub(&w->ctx->held, c->cap);
        free(c->mem);
        c->mem = NULL;
        c->cap = 0;
    }
    w->n_res = 0;
    w->direct = true;
    for (uint32_t p = 0; p < w->nparts; p++)
        if ((st = close_buf(w, p, err)) != LR_OK)
            return st;
    return LR_OK;
}

lr_status lr__tr_pw_reserve(lr__tr_pw *w, uint32_t part, size_t len, uint8_t **dst,
                            lr_error *err)
{
    lr__tr_pbuf *b = &w->bufs[part];
    lr__tr_ctx *ctx = w->ctx;
    lr_status st;
    size_t need = len + 4;

    if (len > UINT32_MAX)
        return lr_error_set(err, LR_ELIMIT, "a record over 4 GiB");
    if (b->len > 0 && b->len + need > ctx->chunk_max && (st = close_buf(w, part, err)) != LR_OK)
        return st;
    if (b->len + need > b->cap) {
        /* A part's first buffer grows from small (many parts stay small); once a
         * part has filled a chunk, its next buffers start at the chunk size. */
        size_t nc = b->cap ? b->cap : b->filled ? ctx->chunk_max : 4096;
        while (nc < b->len + need)
            nc *= 2;
        if (nc > ctx->chunk_max && b->len + need <= ctx->chunk_max)
            nc = ctx->chunk_max;
        uint8_t *nd = realloc(b->data, nc);
        if (nd == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        atomic_fetch_add(&ctx->held, nc - b->cap);
        b->data = nd;
        b->cap = nc;
        if (!w->direct && atomic_load_explicit(&ctx->held, memory_order_relaxed) > ctx->hold_limit &&
            (st = lr__tr_pw_spill(w, err)) != LR_OK)
            return st;
    }
    uint32_t n32 = (uint32_t)len;
    memcpy(b->data + b->len, &n32, 4);
    *dst = b->data + b->len + 4;
    b->len += need;
    b->records++;
    return LR_OK;
}

lr_status lr__tr_pw_flush(lr__tr_pw *w, lr_error *err)
{
    lr_status st;
    for (uint32_t p = 0; p < w->nparts; p++)
        if ((st = close_buf(w, p, err)) != LR_OK)
            return st;
    if (!w->direct && atomic_load(&w->ctx->held) > w->ctx->hold_limit)
        return lr__tr_pw_spill(w, err);
    return LR_OK;
}

/* ---- cursor ---- */

void lr__tr_cursor_free(lr__tr_cursor *cur)
{
    free(cur->win);
    memset(cur, 0, sizeof *cur);
}

/* Makes bytes [pos, pos + n) of the current disk chunk available in the window. */
static lr_status window(lr__tr_cursor *cur, size_t pos, size_t n, size_t want, lr_error *err)
{
    const lr__tr_chunk *c = cur->c;
    if (pos >= cur->win_off && pos + n <= cur->win_off + cur->win_len)
        return LR_OK;
    size_t len = want > n ? want : n;
    if (pos + len > c->len)
        len = c->len - pos;
    if (len > cur->win_cap) {
        uint8_t *nw = realloc(cur->win, len);
        if (nw == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        cur->win = nw;
        cur->win_cap = len;
    }
    lr__tr_chunk part = *c;
    part.off = c->off + pos;
    part.len = len;
    lr_status st = lr__tr_chunk_read(&part, cur->win, err);
    if (st != LR_OK)
        return st;
    cur->win_off = pos;
    cur->win_len = len;
    return LR_OK;
}

lr_status lr__tr_cursor_next(lr__tr_cursor *cur, const lr__tr_list *l, size_t want,
                             const uint8_t **rec, uint32_t *len, lr_error *err)
{
    lr_status st;
    *rec = NULL;
    *len = 0;
    if (!cur->started) {
        cur->started = true;
        cur->c = l->head;
        cur->pos = 0;
        cur->win_len = 0;
    }
    while (cur->c != NULL && cur->pos >= cur->c->len) {
        cur->c = cur->c->next;
        cur->pos = 0;
        cur->win_off = cur->win_len = 0;
    }
    if (cur->c == NULL)
        return LR_OK;
    const lr__tr_chunk *c = cur->c;
    uint32_t n;
    if (c->mem != NULL) {
        memcpy(&n, c->mem + cur->pos, 4);
        *rec = c->mem + cur->pos + 4;
    } else {
        if ((st = window(cur, cur->pos, 4, want, err)) != LR_OK)
            return st;
        memcpy(&n, cur->win + (cur->pos - cur->win_off), 4);
        if ((st = window(cur, cur->pos + 4, n, want, err)) != LR_OK)
            return st;
        *rec = cur->win + (cur->pos + 4 - cur->win_off);
    }
    *len = n;
    cur->pos += 4 + (size_t)n;
    return LR_OK;
}
