/*
 * outfile.c - compaction's files in object storage: writing an output
 * file, reading an input file, removing an object with its temporary, and
 * a small cache of object stores by root.
 *
 * Writing. Object storage writes an object whole (lr_objstore_put), which
 * would mean holding a 128 MiB file in memory. For local roots, where the
 * object is a file, an output file is instead streamed to a temporary file
 * ".lrtmp.<basename of its key>" in its folder, fsynced, renamed over its
 * name and the folder fsynced: the same protocol and the same temporary
 * prefix as the local object store, so a reader never sees a partial file,
 * a finished file survives power loss, and the remains of a crash are
 * recognised (their name is derived from the pending key the catalog
 * recorded, so cleanup removes them exactly). Other stores get the
 * in-memory buffer and one put.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compact/compact_internal.h"

#define TMP_PREFIX    ".lrtmp."
#define MKDIR_RETRIES 8
/* Largest file built in memory for a non-local store. */
#define MEM_FILE_MAX ((size_t)4 << 30)

struct lr__outfile {
    lr_objstore *os;
    char key[LR_OBJ_KEY_MAX + 1];
    char path[PATH_MAX]; /* local: final path */
    char tmp[PATH_MAX];  /* local: temporary path */
    char dir[PATH_MAX];
    int fd;           /* local */
    lr_buf mem;       /* other stores */
    uint64_t written; /* bytes through the sink */
    lr_pq_writer *w;
    bool local;
};

void lr__outfile_tmp_key(const char *key, char *out, size_t cap)
{
    const char *slash = strrchr(key, '/');
    if (slash == NULL)
        snprintf(out, cap, "%s%s", TMP_PREFIX, key);
    else
        snprintf(out, cap, "%.*s/%s%s", (int)(slash - key), key, TMP_PREFIX, slash + 1);
}

static lr_status sink_write(void *ctx, const void *data, size_t len, lr_error *err)
{
    lr__outfile *f = ctx;
    if (f->local) {
        const char *p = data;
        size_t left = len;
        while (left > 0) {
            ssize_t k = write(f->fd, p, left);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return lr_error_set(err, LR_EIO, "cannot write %s: %s", f->tmp, strerror(errno));
            }
            p += k;
            left -= (size_t)k;
        }
    } else {
        lr_status st = lr_buf_append(&f->mem, data, len);
        if (st != LR_OK)
            return lr_error_set(err, st, "%s: file too large to build in memory", f->key);
    }
    f->written += len;
    return LR_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p, fsyncing each parent of a directory it creates. */
static lr_status mkdirs(const char *dir, lr_error *err)
{
    char tmp[PATH_MAX];
    struct stat sb;
    size_t n = strlen(dir);

    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return LR_OK;
    if (n >= sizeof tmp)
        return lr_error_set(err, LR_EINVAL, "path too long: %.200s", dir);
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0755) == 0) {
            char *slash = strrchr(tmp, '/');
            if (slash != NULL && slash != tmp) {
                *slash = '\0';
                (void)fsync_dir(tmp);
                *slash = '/';
            }
        } else if (errno != EEXIST) {
            int e = errno;
            *p = c;
            return lr_error_set(err, LR_EIO, "cannot create directory %s: %s", tmp, strerror(e));
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return LR_OK;
}

lr_status lr__outfile_open(lr_objstore *os, const char *root, const char *key, const lr__schema *sc,
                           const lr_pq_write_options *wo, lr__outfile **out, lr_error *err)
{
    lr__outfile *f = calloc(1, sizeof *f);
    const char *lp = NULL;
    lr_status st = LR_OK;

    *out = NULL;
    if (f == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    f->os = os;
    f->fd = -1;
    snprintf(f->key, sizeof f->key, "%s", key);
    lr_buf_init(&f->mem, MEM_FILE_MAX);
    f->local = lr_objstore_uri_local_path(root, &lp);
    if (f->local) {
        char tk[LR_OBJ_KEY_MAX + 64];
        lr__outfile_tmp_key(key, tk, sizeof tk);
        if ((size_t)snprintf(f->path, sizeof f->path, "%s/%s", lp, key) >= sizeof f->path ||
            (size_t)snprintf(f->tmp, sizeof f->tmp, "%s/%s", lp, tk) >= sizeof f->tmp) {
            st = lr_error_set(err, LR_EINVAL, "path too long: %s/%s", lp, key);
            goto done;
        }
        snprintf(f->dir, sizeof f->dir, "%s", f->path);
        *strrchr(f->dir, '/') = '\0';
        /* A concurrent delete may remove a folder it just emptied: create it again. */
        for (int attempt = 0;; attempt++) {
            st = mkdirs(f->dir, err);
            if (st != LR_OK)
                goto done;
            f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (f->fd >= 0)
                break;
            if (errno != ENOENT || attempt >= MKDIR_RETRIES) {
                st = lr_error_set(err, LR_EIO, "cannot create %s: %s", f->tmp, strerror(errno));
                goto done;
            }
        }
    }
    lr_pq_sink sink = {sink_write, f};
    st = lr_pq_writer_open(sc->pq, sc->n, wo, sink, &f->w, err);
done:
    if (st != LR_OK) {
        lr__outfile_abort(f);
        return st;
    }
    *out = f;
    return LR_OK;
}

lr_status lr__outfile_write(lr__outfile *f, const lr_pq_column_batch *cols, uint32_t n,
                            lr_error *err)
{
    lr_status st = lr_pq_writer_write_batch(f->w, cols, n, err);
    if (st != LR_OK && err != NULL)
        lr_error_prefix(err, "writing %s", f->key);
    return st;
}

uint64_t lr__outfile_bytes(const lr__outfile *f)
{
    return f->written;
}

uint64_t lr__outfile_rows(const lr__outfile *f)
{
    return lr_pq_writer_rows(f->w);
}

lr_status lr__outfile_close(lr__outfile *f, uint64_t *bytes, lr_error *err)
{
    lr_pq_write_stats ws;
    lr_status st = lr_pq_writer_close(f->w, &ws, err);

    if (st != LR_OK)
        goto done;
    if (f->local) {
        if (fsync(f->fd) != 0) {
            st = lr_error_set(err, LR_EIO, "cannot fsync %s: %s", f->tmp, strerror(errno));
            goto done;
        }
        if (close(f->fd) != 0) {
            f->fd = -1;
            st = lr_error_set(err, LR_EIO, "cannot close %s: %s", f->tmp, strerror(errno));
            goto done;
        }
        f->fd = -1;
        if (rename(f->tmp, f->path) != 0) {
            st = lr_error_set(err, LR_EIO, "cannot rename %s into %s: %s", f->tmp, f->path,
                              strerror(errno));
            goto done;
        }
        f->tmp[0] = '\0';
        if (fsync_dir(f->dir) != 0) {
            st =
                lr_error_set(err, LR_EIO, "cannot fsync directory %s: %s", f->dir, strerror(errno));
            goto done;
        }
    } else {
        st = lr_objstore_put(f->os, f->key, f->mem.data, f->mem.len, err);
        if (st != LR_OK)
            goto done;
    }
    if (bytes != NULL)
        *bytes = ws.bytes;
done:
    if (st != LR_OK) {
        lr__outfile_abort(f);
        return st;
    }
    lr_pq_writer_free(f->w);
    lr_buf_free(&f->mem);
    free(f);
    return LR_OK;
}

void lr__outfile_abort(lr__outfile *f)
{
    if (f == NULL)
        return;
    lr_pq_writer_free(f->w);
    if (f->fd >= 0)
        close(f->fd);
    if (f->local && f->tmp[0] != '\0')
        (void)unlink(f->tmp);
    lr_buf_free(&f->mem);
    free(f);
}

lr_status lr__object_remove(lr_objstore *os, const char *key, lr_error *err)
{
    lr_status st = lr_objstore_delete(os, key, err);
    const char *lp = NULL;
    if (st == LR_OK && lr_objstore_uri_local_path(lr_objstore_root(os), &lp)) {
        char tk[LR_OBJ_KEY_MAX + 64], path[PATH_MAX];
        lr__outfile_tmp_key(key, tk, sizeof tk);
        if ((size_t)snprintf(path, sizeof path, "%s/%s", lp, tk) < sizeof path &&
            unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
            st = lr_error_set(err, LR_EIO, "cannot delete %s: %s", path, strerror(errno));
    }
    return st;
}

/* ---- input files ---- */

typedef struct range_src {
    lr_objstore *os;
    char key[LR_OBJ_KEY_MAX + 1];
} range_src;

static lr_status range_read(void *ctx, uint64_t offset, size_t len, void *dst, lr_error *err)
{
    range_src *r = ctx;
    size_t got = 0;
    lr_status st = lr_objstore_get_range(r->os, r->key, offset, len, dst, &got, err);
    if (st == LR_OK && got != len)
        st = lr_error_set(err, LR_EIO, "%s: short read (%zu of %zu bytes)", r->key, got, len);
    return st;
}

lr_status lr__infile_open(lr_objstore *os, const char *root, const char *key, lr__infile *f,
                          lr_error *err)
{
    const char *lp = NULL;
    lr_status st;

    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (lr_objstore_uri_local_path(root, &lp)) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", lp, key) >= sizeof path)
            return lr_error_set(err, LR_EINVAL, "path too long: %s/%s", lp, key);
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0)
            return lr_error_set(err, errno == ENOENT ? LR_ENOTFOUND : LR_EIO, "cannot open %s: %s",
                                path, strerror(errno));
        st = lr_pq_source_fd(f->fd, &f->src, err);
    } else {
        range_src *r = calloc(1, sizeof *r);
        uint64_t size = 0;
        if (r == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        r->os = os;
        snprintf(r->key, sizeof r->key, "%s", key);
        f->src_ctx = r;
        st = lr_objstore_head(os, key, &size, NULL, err);
        f->src.read_at = range_read;
        f->src.ctx = r;
        f->src.size = size;
    }
    if (st == LR_OK)
        st = lr_pq_reader_open(&f->src, &f->rd, err);
    if (st != LR_OK)
        lr__infile_close(f);
    return st;
}

void lr__infile_close(lr__infile *f)
{
    lr_pq_reader_free(f->rd);
    if (f->fd >= 0)
        close(f->fd);
    free(f->src_ctx);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* ---- stores by root ---- */

lr_status lr__stores_get(lr__stores *s, const char *root, lr_objstore **os, lr_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].root, root) == 0) {
            *os = s->v[i].os;
            return LR_OK;
        }
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        void *nv = realloc(s->v, nc * sizeof *s->v);
        if (nv == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        s->v = nv;
        s->cap = nc;
    }
    char *r = strdup(root);
    if (r == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    lr_status st = lr_objstore_open(root, os, err);
    if (st != LR_OK) {
        free(r);
        return st;
    }
    s->v[s->n].root = r;
    s->v[s->n].os = *os;
    s->n++;
    return LR_OK;
}

void lr__stores_free(lr__stores *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].root);
        lr_objstore_close(s->v[i].os);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}
