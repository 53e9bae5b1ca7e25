/*
 * objstore_local.c - the local-directory object-store backend.
 *
 * An object is a regular file at <root>/<key>. A put writes a temporary file
 * ".lrtmp.<random>" in the object's directory, fsyncs it, renames it over the
 * final name and fsyncs the directory (and every directory it had to
 * create), so a reader never sees a partial object and a returned put
 * survives a power loss. Directories are an implementation detail: they are
 * created on put and removed when a delete leaves them empty; a put that
 * races with such a removal simply creates the directory again.
 *
 * Listing walks the tree depth first, sorting each directory's entries with
 * a directory's name compared as "name/", which yields keys in ascending
 * byte order, as S3 lists them. Only regular files (or symbolic links to
 * them) are objects; temporary files are never listed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "offline/objstore_internal.h"

#define TMP_PREFIX ".lrtmp."
#define TMP_PREFIX_LEN (sizeof TMP_PREFIX - 1)
/* A put retries this often when a concurrent delete removes its directory. */
#define PUT_RETRIES 8

typedef struct local_ctx {
    char root[PATH_MAX]; /* no trailing '/' unless it is "/" */
} local_ctx;

lr_status lr__objstore_local_open(const char *path, void **ctx, lr_error *err)
{
    local_ctx *c;
    size_t n = strlen(path);

    *ctx = NULL;
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0 || n + 1 + LR_OBJ_KEY_MAX + 64 >= PATH_MAX)
        return lr_error_set(err, LR_EINVAL, "object store: path '%.200s' is too long", path);
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    memcpy(c->root, path, n);
    c->root[n] = '\0';
    *ctx = c;
    return LR_OK;
}

static void local_close(void *ctx)
{
    free(ctx);
}

/* <root>/<rel> into out (PATH_MAX); rel may be "". */
static void join(const local_ctx *c, const char *rel, char *out)
{
    if (rel[0] == '\0')
        snprintf(out, PATH_MAX, "%s", c->root);
    else if (strcmp(c->root, "/") == 0)
        snprintf(out, PATH_MAX, "/%s", rel);
    else
        snprintf(out, PATH_MAX, "%s/%s", c->root, rel);
}

static lr_status io_error(lr_error *err, const char *what, const char *path, int e)
{
    return lr_error_set(err, LR_EIO, "object store: %s %s: %s", what, path, strerror(e));
}

static int fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/*
 * Creates `dir` and its missing parents. Each directory created is made
 * durable by fsyncing its parent, so an object put below it survives a
 * power loss together with its path.
 */
static lr_status mkdir_p(const char *dir, lr_error *err)
{
    char tmp[PATH_MAX];
    char *p;
    size_t n = strlen(dir);
    struct stat sb;

    if (stat(dir, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return LR_OK;
        return io_error(err, "cannot create directory", dir, ENOTDIR);
    }
    memcpy(tmp, dir, n + 1);
    for (p = tmp + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0755) == 0) {
            char *slash = strrchr(tmp, '/');
            if (slash != NULL) {
                if (slash == tmp) {
                    (void)fsync_path("/");
                } else {
                    *slash = '\0';
                    (void)fsync_path(tmp);
                    *slash = '/';
                }
            }
        } else if (errno != EEXIST) {
            int e = errno;
            *p = c;
            return io_error(err, "cannot create directory", tmp, e);
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return LR_OK;
}

static void random_suffix(char *out, size_t n)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[32];
    size_t got = 0;

    if (n > sizeof r)
        n = sizeof r;
    while (got < n) {
        ssize_t k = getrandom(r + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            /* No entropy source: fall back to something unique per process. */
            snprintf((char *)r, sizeof r, "%016lx%08lx", (unsigned long)getpid(),
                     (unsigned long)random());
            break;
        }
        got += (size_t)k;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = alnum[r[i] % (sizeof alnum - 1)];
    out[n] = '\0';
}

static lr_status write_all(int fd, const void *data, size_t len, const char *path, lr_error *err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return io_error(err, "cannot write", path, errno);
        }
        p += k;
        len -= (size_t)k;
    }
    return LR_OK;
}

static lr_status local_put(void *ctx, const char *key, const void *data, size_t len,
                           lr_error *err)
{
    local_ctx *c = ctx;
    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], suffix[17];
    char *slash;
    int fd = -1;
    lr_status st = LR_OK;
    bool tmp_made = false;

    join(c, key, path);
    memcpy(dir, path, sizeof dir);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    for (int attempt = 0;; attempt++) {
        st = mkdir_p(dir, err);
        if (st != LR_OK)
            goto done;
        random_suffix(suffix, 16);
        snprintf(tmp, sizeof tmp, "%s/%s%s", strcmp(dir, "/") == 0 ? "" : dir, TMP_PREFIX,
                 suffix);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0)
            break;
        /* A concurrent delete removed the directory just created: retry. */
        if ((errno != ENOENT && errno != EEXIST) || attempt >= PUT_RETRIES) {
            st = io_error(err, "cannot create", tmp, errno);
            goto done;
        }
    }
    tmp_made = true;
    st = write_all(fd, data, len, tmp, err);
    if (st != LR_OK)
        goto done;
    if (fsync(fd) != 0) {
        st = io_error(err, "cannot fsync", tmp, errno);
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = io_error(err, "cannot close", tmp, errno);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = io_error(err, "cannot rename into", path, errno);
        goto done;
    }
    tmp_made = false;
    if (fsync_path(dir) != 0)
        st = io_error(err, "cannot fsync directory", dir, errno);
done:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    return st;
}

static lr_status open_object(const local_ctx *c, const char *key, int *fd, struct stat *sb,
                             lr_error *err)
{
    char path[PATH_MAX];
    join(c, key, path);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lr_error_set(err, LR_ENOTFOUND, "object store: no object %s", path);
        return io_error(err, "cannot open", path, errno);
    }
    if (fstat(*fd, sb) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        return io_error(err, "cannot stat", path, e);
    }
    if (!S_ISREG(sb->st_mode)) {
        close(*fd);
        *fd = -1;
        return lr_error_set(err, LR_ENOTFOUND, "object store: no object %s (not a file)", path);
    }
    return LR_OK;
}

static lr_status pread_all(int fd, void *dst, size_t len, uint64_t off, size_t *got,
                           const local_ctx *c, const char *key, lr_error *err)
{
    char *p = dst;
    size_t done = 0;
    while (done < len) {
        ssize_t k = pread(fd, p + done, len - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            char path[PATH_MAX];
            join(c, key, path);
            return io_error(err, "cannot read", path, errno);
        }
        if (k == 0)
            break;
        done += (size_t)k;
    }
    *got = done;
    return LR_OK;
}

static lr_status local_get(void *ctx, const char *key, size_t max, lr_buf *out, lr_error *err)
{
    local_ctx *c = ctx;
    struct stat sb;
    int fd = -1;
    size_t got = 0;
    lr_status st = open_object(c, key, &fd, &sb, err);

    if (st != LR_OK)
        return st;
    if ((uint64_t)sb.st_size > max) {
        st = lr_error_set(err, LR_ELIMIT, "object store: %s is %lld bytes, over the limit of %zu",
                          key, (long long)sb.st_size, max);
        goto done;
    }
    st = lr_buf_reserve(out, (size_t)sb.st_size);
    if (st != LR_OK) {
        lr_error_set(err, st, "object store: reading %s: %s", key, lr_strerror(st));
        goto done;
    }
    st = pread_all(fd, out->data, (size_t)sb.st_size, 0, &got, c, key, err);
    if (st != LR_OK)
        goto done;
    out->len = got;
    out->data[got] = '\0';
done:
    close(fd);
    return st;
}

static lr_status local_get_range(void *ctx, const char *key, uint64_t offset, size_t len,
                                 void *dst, size_t *got, lr_error *err)
{
    local_ctx *c = ctx;
    struct stat sb;
    int fd = -1;
    lr_status st = open_object(c, key, &fd, &sb, err);

    if (st != LR_OK)
        return st;
    if (offset >= (uint64_t)sb.st_size)
        *got = 0;
    else
        st = pread_all(fd, dst, len, offset, got, c, key, err);
    close(fd);
    return st;
}

static int64_t mtime_of(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000 + sb->st_mtim.tv_nsec / 1000;
}

static lr_status local_head(void *ctx, const char *key, uint64_t *size, int64_t *mtime_us,
                            lr_error *err)
{
    local_ctx *c = ctx;
    char path[PATH_MAX];
    struct stat sb;

    join(c, key, path);
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lr_error_set(err, LR_ENOTFOUND, "object store: no object %s", path);
        return io_error(err, "cannot stat", path, errno);
    }
    if (!S_ISREG(sb.st_mode))
        return lr_error_set(err, LR_ENOTFOUND, "object store: no object %s (not a file)", path);
    *size = (uint64_t)sb.st_size;
    *mtime_us = mtime_of(&sb);
    return LR_OK;
}

/* Removes empty directories from the key's parent up to (not including) the root. */
static void prune_dirs(const local_ctx *c, const char *key)
{
    char rel[LR_OBJ_KEY_MAX + 1];
    char path[PATH_MAX];
    char *slash;

    snprintf(rel, sizeof rel, "%s", key);
    while ((slash = strrchr(rel, '/')) != NULL) {
        *slash = '\0';
        join(c, rel, path);
        if (rmdir(path) != 0)
            break;
    }
}

static lr_status local_del(void *ctx, const char *key, lr_error *err)
{
    local_ctx *c = ctx;
    char path[PATH_MAX];

    join(c, key, path);
    if (unlink(path) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return LR_OK;
        return io_error(err, "cannot delete", path, errno);
    }
    prune_dirs(c, key);
    return LR_OK;
}

/* ---- walking ---- */

typedef struct dent {
    char *name;
    bool is_dir;
    bool is_file;
    struct stat sb;
} dent;

/* Compares as if directory names ended in '/', giving S3's key order. */
static int dent_cmp(const void *pa, const void *pb)
{
    const dent *a = pa, *b = pb;
    const unsigned char *x = (const unsigned char *)a->name;
    const unsigned char *y = (const unsigned char *)b->name;
    for (;;) {
        int cx = *x ? *x : (a->is_dir ? '/' : 0);
        int cy = *y ? *y : (b->is_dir ? '/' : 0);
        if (cx != cy || cx == 0 || cx == '/')
            return cx - cy;
        x++;
        y++;
    }
}

typedef struct walk {
    const local_ctx *c;
    const char *prefix;
    size_t prefix_len;
    bool tmp_only;            /* abort_incomplete: visit temporary files only */
    lr_objstore_list_fn fn;
    void *arg;
} walk;

static void free_dents(dent *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].name);
    free(d);
}

/* Reads and sorts one directory. A missing directory is empty. */
static lr_status read_dir(const char *path, dent **out, size_t *n_out, lr_error *err)
{
    DIR *d = opendir(path);
    struct dirent *e;
    dent *v = NULL;
    size_t n = 0, cap = 0;
    lr_status st = LR_OK;

    *out = NULL;
    *n_out = 0;
    if (d == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return LR_OK;
        return io_error(err, "cannot list", path, errno);
    }
    for (;;) {
        struct stat sb;
        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                st = io_error(err, "cannot list", path, errno);
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* removed meanwhile */
        bool is_dir = S_ISDIR(sb.st_mode);
        bool is_file = S_ISREG(sb.st_mode);
        if (S_ISLNK(sb.st_mode) && fstatat(dirfd(d), e->d_name, &sb, 0) == 0 &&
            S_ISREG(sb.st_mode))
            is_file = true; /* a link to a file is an object; links to directories are not followed */
        if (!is_dir && !is_file)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            dent *nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "object store: out of memory listing %s", path);
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].name = strdup(e->d_name);
        if (v[n].name == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "object store: out of memory listing %s", path);
            break;
        }
        v[n].is_dir = is_dir;
        v[n].is_file = is_file;
        v[n].sb = sb;
        n++;
    }
    closedir(d);
    if (st != LR_OK) {
        free_dents(v, n);
        return st;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, dent_cmp);
    *out = v;
    *n_out = n;
    return LR_OK;
}

/* True when some key below directory `rel` (with `rel`+'/' as its start) may match. */
static bool dir_may_match(const walk *w, const char *rel, size_t rl)
{
    size_t k = rl + 1 < w->prefix_len ? rl + 1 : w->prefix_len;
    char tmp[LR_OBJ_KEY_MAX + 2];
    if (rl + 1 > LR_OBJ_KEY_MAX)
        return false;
    memcpy(tmp, rel, rl);
    tmp[rl] = '/';
    return memcmp(tmp, w->prefix, k) == 0;
}

static lr_status walk_dir(walk *w, char *rel, size_t rl, int depth, lr_error *err)
{
    char path[PATH_MAX];
    dent *v = NULL;
    size_t n = 0;
    lr_status st;

    if (depth > 64)
        return LR_OK; /* deeper than any key can be */
    join(w->c, rel, path);
    st = read_dir(path, &v, &n, err);
    if (st != LR_OK)
        return st;
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        size_t nl = strlen(v[i].name);
        size_t kl = rl ? rl + 1 + nl : nl;
        if (kl > LR_OBJ_KEY_MAX)
            continue;
        if (rl)
            rel[rl] = '/';
        memcpy(rel + (rl ? rl + 1 : 0), v[i].name, nl + 1);
        bool is_tmp = strncmp(v[i].name, TMP_PREFIX, TMP_PREFIX_LEN) == 0;
        if (v[i].is_dir) {
            if (!is_tmp && dir_may_match(w, rel, kl))
                st = walk_dir(w, rel, kl, depth + 1, err);
        } else if (is_tmp == w->tmp_only &&
                   (kl >= w->prefix_len && memcmp(rel, w->prefix, w->prefix_len) == 0)) {
            lr_object_info info = {rel, (uint64_t)v[i].sb.st_size, mtime_of(&v[i].sb)};
            st = w->fn(w->arg, &info, err);
        }
        rel[rl] = '\0';
    }
    free_dents(v, n);
    return st;
}

static lr_status local_list(void *ctx, const char *prefix, lr_objstore_list_fn fn, void *arg,
                            lr_error *err)
{
    walk w = {ctx, prefix, strlen(prefix), false, fn, arg};
    char rel[LR_OBJ_KEY_MAX + 2] = "";
    return walk_dir(&w, rel, 0, 0, err);
}

typedef struct abort_arg {
    const local_ctx *c;
    int64_t older_than_us;
    uint64_t removed;
} abort_arg;

static lr_status abort_one(void *arg, const lr_object_info *obj, lr_error *err)
{
    abort_arg *a = arg;
    char path[PATH_MAX];
    if (obj->mtime_us >= a->older_than_us)
        return LR_OK;
    join(a->c, obj->key, path);
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return LR_OK;
        return io_error(err, "cannot remove", path, errno);
    }
    a->removed++;
    return LR_OK;
}

static lr_status local_abort_incomplete(void *ctx, const char *prefix, int64_t older_than_us,
                                        uint64_t *removed, lr_error *err)
{
    abort_arg a = {ctx, older_than_us, 0};
    walk w = {ctx, prefix, strlen(prefix), true, abort_one, &a};
    char rel[LR_OBJ_KEY_MAX + 2] = "";
    lr_status st = walk_dir(&w, rel, 0, 0, err);
    *removed = a.removed;
    return st;
}

const lr_objstore_ops lr__objstore_local_ops = {
    .scheme = "file",
    .close = local_close,
    .put = local_put,
    .get = local_get,
    .get_range = local_get_range,
    .head = local_head,
    .list = local_list,
    .del = local_del,
    .abort_incomplete = local_abort_incomplete,
};
