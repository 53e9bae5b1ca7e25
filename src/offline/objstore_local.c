/*
 * objstore_local.c - the local-directory object-store backend.
 *
 * An object is a regular file at <root>/<key>. A put writes a temporary file
 * ".lrtmp.<random>" in the object's directory, fsyncs it, renames it over the
 * final name and fsyncs the directory (and the parent of every directory it
 * had to create), so a reader never sees a partial object and a returned
 * put survives a power loss. Directories are an implementation detail: they
 * are created on put, from the deepest missing level up and only when
 * creating the temporary file finds the folder missing, and removed when a
 * delete leaves them empty; a put that races with such a removal simply
 * creates the directory again.
 *
 * A batch writes every object to its temporary file first and publishes
 * them together at the commit, so that durability costs a fixed number of
 * flushes per batch instead of two or more per object: on filesystems where
 * syncfs(2) is as strong as fsync (syncfs_usable), one syncfs before the
 * renames and one after; elsewhere each file is fsynced as it is written
 * and each distinct directory once after the renames. A single put is a
 * batch of one that always fsyncs: syncing a whole filesystem for one small
 * file could cost far more than two fsyncs.
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
#ifdef __linux__
#include <linux/magic.h>
#include <pthread.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#endif

#include "larder/arena.h"
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
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return rc;
    }
    return close(fd);
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

/* ---- puts and batches ---- */

bool lr__objstore_local_fsync_only = false;
void (*lr__objstore_crash_hook)(const char *point) = NULL;

static void crash_point(const char *point)
{
    if (lr__objstore_crash_hook != NULL)
        lr__objstore_crash_hook(point);
}

/*
 * Whether one syncfs(2) can stand in for an fsync of every file and
 * directory written on the filesystem of `fd`. It can where it is as
 * strong as fsync: Linux 5.8 or later, whose syncfs reports write-back
 * errors that happened since `fd` was opened (earlier kernels drop them, so
 * a failed write could pass unnoticed), on a local filesystem whose
 * sync_fs commits its journal and flushes the disk's cache. Network and
 * FUSE filesystems differ in what syncfs promises, so they get fsyncs.
 */
#ifdef __linux__
static int kernel_ok = -1;
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;

static void kernel_check(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    kernel_ok = uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
                (major > 5 || (major == 5 && minor >= 8));
}

static bool syncfs_usable(int fd)
{
    struct statfs sf;

    if (lr__objstore_local_fsync_only)
        return false;
    pthread_once(&kernel_once, kernel_check);
    if (kernel_ok != 1 || fstatfs(fd, &sf) != 0)
        return false;
    switch ((unsigned long)sf.f_type) {
    case EXT4_SUPER_MAGIC: /* also ext2 and ext3 */
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
        return true;
    default:
        return false;
    }
}
#else
static bool syncfs_usable(int fd)
{
    (void)fd;
    return false;
}
#endif

/* An object of a batch, written to its temporary file. */
typedef struct local_obj {
    const char *tmp;  /* the temporary file, in the object's directory */
    const char *path; /* the object's name */
    bool renamed;
} local_obj;

/* A filesystem (device) that a batch wrote to. */
typedef struct local_dev {
    dev_t dev;
    int fd;      /* a directory on it, opened before the batch wrote there */
    bool syncfs; /* false: each file was fsynced when written; fsync directories */
} local_dev;

/* A directory whose entries changed: fsynced at the commit unless its device uses syncfs. */
typedef struct local_dir {
    const char *path;
    size_t dev; /* index into devs; SIZE_MAX until the put knows it */
} local_dir;

typedef struct local_batch {
    const local_ctx *c;
    bool fsync_only; /* single puts: never syncfs */
    lr_arena *arena; /* the paths below */
    local_obj *objs;
    size_t n_objs, cap_objs;
    local_dev *devs;
    size_t n_devs, cap_devs;
    local_dir *dirs;
    size_t n_dirs, cap_dirs;
} local_batch;

/*
 * Room for one more than `n` elements of `size` bytes in `v` (of *cap):
 * `v` itself, or a larger copy (*cap updated), or NULL when out of memory
 * (`v` and *cap unchanged).
 */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    size_t nc = *cap ? *cap * 2 : 16;
    void *nv = realloc(v, nc * size);
    if (nv != NULL)
        *cap = nc;
    return nv;
}

static lr_status add_dir(local_batch *b, const char *path, size_t len, size_t dev, lr_error *err)
{
    local_dir *nd = grow(b->dirs, &b->cap_dirs, b->n_dirs, sizeof *b->dirs);
    if (nd == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    b->dirs = nd;
    char *p = lr_arena_strndup(b->arena, path, len);
    if (p == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    b->dirs[b->n_dirs].path = p;
    b->dirs[b->n_dirs].dev = dev;
    b->n_dirs++;
    return LR_OK;
}

/* Records that directory `dir` was created: its parent's entries changed. */
static lr_status note_created(local_batch *b, const char *dir, lr_error *err)
{
    const char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return add_dir(b, ".", 1, SIZE_MAX, err);
    return add_dir(b, slash == dir ? "/" : dir, slash == dir ? 1 : (size_t)(slash - dir),
                   SIZE_MAX, err);
}

/*
 * Creates directory `dir` and whichever of its ancestors are missing,
 * climbing from `dir` only as far as the first level that exists, then
 * creating downwards. The caller calls it only after creating a file in
 * `dir` failed, so writing into existing folders costs no mkdir at all.
 * Each directory created is recorded (note_created): its entry becomes
 * durable with the batch. EEXIST on the way down is a concurrent writer
 * creating the same folder, which is fine.
 */
static lr_status make_dirs(local_batch *b, const char *dir, lr_error *err)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir), len = n;
    lr_status st;

    memcpy(tmp, dir, n + 1);
    for (;;) {
        if (mkdir(tmp, 0755) == 0) {
            if ((st = note_created(b, tmp, err)) != LR_OK)
                return st;
            break;
        }
        if (errno == EEXIST)
            break;
        if (errno != ENOENT)
            return io_error(err, "cannot create directory", tmp, errno);
        char *slash = strrchr(tmp, '/');
        if (slash == NULL || slash == tmp)
            return io_error(err, "cannot create directory", tmp, ENOENT);
        *slash = '\0';
        len = (size_t)(slash - tmp);
    }
    while (len < n) {
        tmp[len] = '/';
        len = strlen(tmp);
        if (mkdir(tmp, 0755) == 0) {
            if ((st = note_created(b, tmp, err)) != LR_OK)
                return st;
        } else if (errno != EEXIST) {
            return io_error(err, "cannot create directory", tmp, errno);
        }
    }
    return LR_OK;
}

/* The device entry of a file just created in `dir`, opening a descriptor on a new device. */
static lr_status dev_for(local_batch *b, int fd, const char *dir, size_t *out, lr_error *err)
{
    struct stat sb;

    if (fstat(fd, &sb) != 0)
        return io_error(err, "cannot stat a file in", dir, errno);
    for (size_t i = 0; i < b->n_devs; i++) {
        if (b->devs[i].dev == sb.st_dev) {
            *out = i;
            return LR_OK;
        }
    }
    local_dev *nd = grow(b->devs, &b->cap_devs, b->n_devs, sizeof *b->devs);
    if (nd == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    b->devs = nd;
    /* Opened before this file's data is written: syncfs reports errors from here on. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return io_error(err, "cannot open directory", dir, errno);
    local_dev *d = &b->devs[b->n_devs];
    d->dev = sb.st_dev;
    d->fd = dfd;
    d->syncfs = !b->fsync_only && syncfs_usable(dfd);
    *out = b->n_devs++;
    return LR_OK;
}

static lr_status batch_new(local_ctx *c, bool fsync_only, local_batch **out, lr_error *err)
{
    local_batch *b = calloc(1, sizeof *b);

    *out = NULL;
    if (b == NULL || (b->arena = lr_arena_new(16 * 1024, 0)) == NULL) {
        free(b);
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    }
    b->c = c;
    b->fsync_only = fsync_only;
    *out = b;
    return LR_OK;
}

static lr_status local_batch_begin(void *ctx, void **batch, lr_error *err)
{
    local_batch *b = NULL;
    lr_status st = batch_new(ctx, false, &b, err);
    *batch = b;
    return st;
}

static void local_batch_free(void *batch)
{
    local_batch *b = batch;

    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_objs; i++) {
        if (!b->objs[i].renamed)
            (void)unlink(b->objs[i].tmp);
    }
    for (size_t i = 0; i < b->n_devs; i++)
        close(b->devs[i].fd);
    free(b->objs);
    free(b->devs);
    free(b->dirs);
    lr_arena_free(b->arena);
    free(b);
}

/*
 * Writes one object of a batch to a temporary file in its directory
 * (creating the directory if needed). On a device without syncfs the file
 * is fsynced before it is closed: an fsync on a descriptor opened later
 * could miss a write-back error that happened in between.
 */
static lr_status local_batch_put(void *batch, const char *key, const void *data, size_t len,
                                 lr_error *err)
{
    local_batch *b = batch;
    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], suffix[17];
    char *slash;
    size_t dl, dev = 0, first_dir = b->n_dirs;
    int fd = -1;
    lr_status st;
    bool tmp_made = false;

    join(b->c, key, path);
    memcpy(dir, path, sizeof dir);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    dl = strlen(dir);
    local_obj *no = grow(b->objs, &b->cap_objs, b->n_objs, sizeof *b->objs);
    if (no == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    b->objs = no;
    for (int attempt = 0;; attempt++) {
        random_suffix(suffix, 16);
        snprintf(tmp, sizeof tmp, "%s/%s%s", strcmp(dir, "/") == 0 ? "" : dir, TMP_PREFIX,
                 suffix);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0)
            break;
        /* The folder is missing (new, or a concurrent delete removed it): create it. */
        if ((errno != ENOENT && errno != EEXIST) || attempt >= PUT_RETRIES) {
            st = io_error(err, "cannot create", tmp, errno);
            goto done;
        }
        if (errno == ENOENT && (st = make_dirs(b, dir, err)) != LR_OK)
            goto done;
    }
    tmp_made = true;
    st = dev_for(b, fd, dir, &dev, err);
    if (st != LR_OK)
        goto done;
    for (size_t i = first_dir; i < b->n_dirs; i++)
        b->dirs[i].dev = dev;
    if (!b->devs[dev].syncfs && (st = add_dir(b, dir, dl, dev, err)) != LR_OK)
        goto done;
    st = write_all(fd, data, len, tmp, err);
    if (st != LR_OK)
        goto done;
    /*
     * Its write-back starts now (advisory, not waited for), so the syncfs
     * at the commit finds most of the batch already written.
     */
    if (b->devs[dev].syncfs)
        (void)sync_file_range(fd, 0, (off_t)len, SYNC_FILE_RANGE_WRITE);
    if (!b->devs[dev].syncfs && fsync(fd) != 0) {
        st = io_error(err, "cannot fsync", tmp, errno);
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = io_error(err, "cannot close", tmp, errno);
        goto done;
    }
    fd = -1;
    local_obj *o = &b->objs[b->n_objs];
    o->tmp = lr_arena_strdup(b->arena, tmp);
    o->path = lr_arena_strdup(b->arena, path);
    o->renamed = false;
    if (o->tmp == NULL || o->path == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "object store: out of memory");
        goto done;
    }
    b->n_objs++;
    tmp_made = false; /* the batch owns it now */
done:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    return st;
}

static int dir_cmp(const void *pa, const void *pb)
{
    const local_dir *a = pa, *b = pb;
    return strcmp(a->path, b->path);
}

/* Makes the data, or after the renames the names, of every syncfs device durable. */
static lr_status sync_devices(local_batch *b, lr_error *err)
{
#ifdef __linux__
    for (size_t i = 0; i < b->n_devs; i++) {
        if (b->devs[i].syncfs && syncfs(b->devs[i].fd) != 0)
            return lr_error_set(err, LR_EIO, "object store: cannot sync the filesystem of %s: %s",
                                b->c->root, strerror(errno));
    }
#else
    (void)b;
    (void)err;
#endif
    return LR_OK;
}

/*
 * Publishes a batch: the files' data is made durable (syncfs, or the fsync
 * each had when written), then every file is renamed into place, then the
 * renames and created folders are made durable (syncfs again, or one fsync
 * per distinct directory). Durable data before the rename is what makes an
 * object whole after a power loss; durable names before returning are what
 * makes it present.
 */
static lr_status local_batch_commit(void *batch, lr_error *err)
{
    local_batch *b = batch;
    lr_status st;

    if (b->n_objs == 0)
        return LR_OK;
    st = sync_devices(b, err);
    if (st != LR_OK)
        return st;
    crash_point("batch synced");
    for (size_t i = 0; i < b->n_objs; i++) {
        if (rename(b->objs[i].tmp, b->objs[i].path) != 0)
            return io_error(err, "cannot rename into", b->objs[i].path, errno);
        b->objs[i].renamed = true;
        crash_point("batch renamed");
    }
    st = sync_devices(b, err);
    if (st != LR_OK)
        return st;
    if (b->n_dirs > 1)
        qsort(b->dirs, b->n_dirs, sizeof *b->dirs, dir_cmp);
    for (size_t i = 0; i < b->n_dirs; i++) {
        const local_dir *d = &b->dirs[i];
        if (i > 0 && strcmp(d->path, b->dirs[i - 1].path) == 0)
            continue;
        if (d->dev < b->n_devs && b->devs[d->dev].syncfs)
            continue;
        if (fsync_path(d->path) != 0)
            return io_error(err, "cannot fsync directory", d->path, errno);
    }
    return LR_OK;
}

/* A single put is a batch of one that fsyncs, never syncing a whole filesystem for one file. */
static lr_status local_put(void *ctx, const char *key, const void *data, size_t len,
                           lr_error *err)
{
    local_batch *b = NULL;
    lr_status st = batch_new(ctx, true, &b, err);

    if (st == LR_OK)
        st = local_batch_put(b, key, data, len, err);
    if (st == LR_OK)
        st = local_batch_commit(b, err);
    local_batch_free(b);
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
    .batch_begin = local_batch_begin,
    .batch_put = local_batch_put,
    .batch_commit = local_batch_commit,
    .batch_free = local_batch_free,
};
