/*
 * wal.c - the offline store's write-ahead log (see wal.h and
 * docs/offline-store.md).
 *
 * Design. Each process that writes owns one log directory, so writers never
 * share a file and need no cross-process locking on the hot path: an append
 * is one pwritev(2) under a mutex at the end of the current segment. The
 * directory is created under a hidden name, locked (flock on LOCK), then
 * renamed into place, so any visible log either belongs to a live process
 * (lock held) or to a dead one (lock free), and a recovering process takes
 * the lock before touching it. flock locks die with their process, so no
 * stale-lock heuristics are needed.
 *
 * Durability follows Redis's appendfsync: ALWAYS fdatasyncs before an append
 * returns (concurrent appenders share one fdatasync: group commit);
 * EVERYSEC leaves it to a thread that fdatasyncs once a second; NO leaves it
 * to the kernel. Whatever the policy, an append returns only after write(2)
 * has copied the entries into the kernel, so they survive the process being
 * killed. Segment creation and rotation fsync the old segment and the
 * directory (except under NO), so a synced entry is never in a file whose
 * name is lost.
 *
 * Integrity: every entry carries a CRC-32C of its payload and of its header.
 * A crash can only damage the end of the last segment (the one being
 * written), so recovery drops a damaged tail there and treats damage
 * anywhere else as corruption, which it reports and never skips.
 */
#include "offline/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "larder/log.h"
#include "offline/crc32c.h"

#define SEG_MAGIC "LRDRWAL1"
#define SCHEMA_MAGIC "LRDRSCH1"
#define SEG_VERSION 1u
#define ENTRY_MAGIC 0x3145524Cu /* "LRE1" little-endian */
#define SCHEMAS_NAME "schemas.lrs"
#define LOCK_NAME "LOCK"
#define SEG_SUFFIX ".wal"
#define READ_CHUNK (1u << 20)
#define ITEMS_PER_WRITE 256 /* items per pwritev (two iovecs each, under IOV_MAX) */
#define RETIRED_MAX 8 /* ended segments awaiting drop_retired */
#define WRITEBACK_BYTES (4u << 20) /* write-back started every this many bytes (start_writeback) */

/* ---- little-endian helpers ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- the handle ---- */

typedef struct seginfo {
    uint64_t first_seq;
    uint64_t size;
} seginfo;

struct lr__wal {
    char root[PATH_MAX];
    char id[LR__WAL_ID_MAX + 1];
    char dir[PATH_MAX];
    int lock_fd;
    bool adopted;
    lr__wal_config cfg;

    pthread_mutex_t mu; /* segments, sizes, sequence, schemas */
    seginfo *segs;      /* ascending; the last is the current segment */
    size_t nsegs, capsegs;
    int seg_fd;         /* current segment, -1 for an adopted log */
    uint64_t kicked;    /* the current segment's bytes whose write-back was started */
    int retired[RETIRED_MAX]; /* ended segments whose page cache the sync thread drops */
    size_t n_retired;
    uint64_t last_seq;
    bool failed;        /* a write or sync failed: refuse appends */
    int schema_fd;
    uint64_t schema_size;
    uint32_t schema_last;

    pthread_mutex_t sync_mu; /* one fdatasync at a time; guards synced_seq */
    uint64_t synced_seq;

    pthread_mutex_t cv_mu;
    pthread_cond_t cv;
    bool stop;
    bool thread_started;
    pthread_t thread;

    bool damaged;
    lr_error damage;
};

static lr_status sys_error(lr_error *err, const char *what, const char *path, int e)
{
    return lr_error_set(err, LR_EIO, "write-ahead log: %s %s: %s", what, path, strerror(e));
}

static void seg_path(const lr__wal *w, uint64_t first, char *out)
{
    snprintf(out, PATH_MAX, "%s/%020" PRIu64 SEG_SUFFIX, w->dir, first);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static lr_status pwrite_all(int fd, const void *p, size_t n, uint64_t off, const char *path,
                            lr_error *err)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = pwrite(fd, c, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sys_error(err, "cannot write", path, errno);
        }
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return LR_OK;
}

static void seg_header(unsigned char *h, const char *magic, uint64_t first_seq)
{
    memset(h, 0, LR__WAL_SEG_HDR);
    memcpy(h, magic, 8);
    put32(h + 8, SEG_VERSION);
    put32(h + 12, LR__WAL_SEG_HDR);
    put64(h + 16, first_seq);
    put32(h + 24, lr__crc32c(0, h, 24));
}

/* Creates a file holding just a header. */
static lr_status create_headed(const char *path, const char *magic, uint64_t first_seq, bool sync,
                               int *fd_out, lr_error *err)
{
    unsigned char h[LR__WAL_SEG_HDR];
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    lr_status st;

    *fd_out = -1;
    if (fd < 0)
        return sys_error(err, "cannot create", path, errno);
    seg_header(h, magic, first_seq);
    st = pwrite_all(fd, h, sizeof h, 0, path, err);
    if (st == LR_OK && sync && fdatasync(fd) != 0)
        st = sys_error(err, "cannot fsync", path, errno);
    if (st != LR_OK) {
        close(fd);
        unlink(path);
        return st;
    }
    *fd_out = fd;
    return LR_OK;
}

static lr_status segs_push(lr__wal *w, uint64_t first, uint64_t size, lr_error *err)
{
    if (w->nsegs == w->capsegs) {
        size_t nc = w->capsegs ? w->capsegs * 2 : 8;
        seginfo *n = realloc(w->segs, nc * sizeof *n);
        if (n == NULL)
            return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
        w->segs = n;
        w->capsegs = nc;
    }
    w->segs[w->nsegs].first_seq = first;
    w->segs[w->nsegs].size = size;
    w->nsegs++;
    return LR_OK;
}

static lr__wal *wal_alloc(const char *root, const char *id)
{
    lr__wal *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    snprintf(w->root, sizeof w->root, "%s", root);
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->dir, sizeof w->dir, "%s/%s", root, id);
    w->lock_fd = -1;
    w->seg_fd = -1;
    w->schema_fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->sync_mu, NULL);
    pthread_mutex_init(&w->cv_mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return w;
}

static void stop_thread(lr__wal *w)
{
    if (!w->thread_started)
        return;
    pthread_mutex_lock(&w->cv_mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->cv_mu);
    pthread_join(w->thread, NULL);
    w->thread_started = false;
}

static void wal_free(lr__wal *w)
{
    for (size_t i = 0; i < w->n_retired; i++)
        close(w->retired[i]);
    if (w->seg_fd >= 0)
        close(w->seg_fd);
    if (w->schema_fd >= 0)
        close(w->schema_fd);
    if (w->lock_fd >= 0)
        close(w->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->sync_mu);
    pthread_mutex_destroy(&w->cv_mu);
    pthread_cond_destroy(&w->cv);
    free(w->segs);
    free(w);
}

/* fdatasyncs the current segment up to the last sequence; group commit. */
static lr_status sync_upto(lr__wal *w, uint64_t want, lr_error *err)
{
    lr_status st = LR_OK;
    pthread_mutex_lock(&w->sync_mu);
    if (w->synced_seq < want) {
        uint64_t target;
        int fd;
        char path[PATH_MAX];
        pthread_mutex_lock(&w->mu);
        target = w->last_seq;
        fd = w->seg_fd >= 0 ? dup(w->seg_fd) : -1;
        seg_path(w, w->nsegs ? w->segs[w->nsegs - 1].first_seq : 0, path);
        pthread_mutex_unlock(&w->mu);
        if (fd < 0) {
            st = sys_error(err, "cannot sync", path, errno);
        } else {
            if (fdatasync(fd) != 0) {
                st = sys_error(err, "cannot fsync", path, errno);
                pthread_mutex_lock(&w->mu);
                w->failed = true;
                pthread_mutex_unlock(&w->mu);
            } else {
                w->synced_seq = target;
            }
            close(fd);
        }
    }
    pthread_mutex_unlock(&w->sync_mu);
    return st;
}

/*
 * Ended segments are read again only after a crash or when the memtable
 * did not hold their entries, so their page cache is dropped as soon as
 * their data is on disk (fdatasynced when they ended): here, on the sync
 * thread, instead of at their removal after a flush, which would then
 * take about 20 ms a segment on the flushing thread.
 */
static void drop_retired(lr__wal *w)
{
    int fds[RETIRED_MAX];
    size_t n;

    pthread_mutex_lock(&w->mu);
    n = w->n_retired;
    memcpy(fds, w->retired, n * sizeof *fds);
    w->n_retired = 0;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        (void)posix_fadvise(fds[i], 0, 0, POSIX_FADV_DONTNEED);
        close(fds[i]);
    }
}

static void *sync_thread(void *arg)
{
    lr__wal *w = arg;
    struct timespec ts;

    pthread_mutex_lock(&w->cv_mu);
    while (!w->stop) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->cv, &w->cv_mu, &ts);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->cv_mu);
        drop_retired(w);
        uint64_t last;
        pthread_mutex_lock(&w->mu);
        last = w->last_seq;
        pthread_mutex_unlock(&w->mu);
        lr_error e;
        if (sync_upto(w, last, &e) != LR_OK)
            lr_log_error("offline", "%s", e.msg);
        pthread_mutex_lock(&w->cv_mu);
    }
    pthread_mutex_unlock(&w->cv_mu);
    return NULL;
}

static lr_status mkdir_p(const char *dir, lr_error *err)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: bad directory '%s'", dir);
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return sys_error(err, "cannot create", tmp, errno);
        *p = c;
        if (c == '\0')
            break;
    }
    return LR_OK;
}

static void make_id(char *out, size_t cap)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[8];
    char rnd[9];
    struct timespec ts;
    ssize_t k;

    clock_gettime(CLOCK_REALTIME, &ts);
    do {
        k = getrandom(r, sizeof r, 0);
    } while (k < 0 && errno == EINTR);
    if (k != (ssize_t)sizeof r) {
        uint64_t x = (uint64_t)ts.tv_nsec * 6364136223846793005ULL ^ (uint64_t)getpid();
        memcpy(r, &x, sizeof r);
    }
    for (int i = 0; i < 8; i++)
        rnd[i] = alnum[r[i] % (sizeof alnum - 1)];
    rnd[8] = '\0';
    snprintf(out, cap, "%013" PRIx64 "-%ld-%s",
             (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u, (long)getpid(), rnd);
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

lr_status lr__wal_create(const char *root, const lr__wal_config *cfg, lr__wal **out,
                         lr_error *err)
{
    char id[LR__WAL_ID_MAX + 1], tmpname[LR__WAL_ID_MAX + 8], tmpdir[PATH_MAX], p[PATH_MAX];
    lr__wal *w = NULL;
    lr_status st;
    bool sync = cfg->sync != LR__WAL_SYNC_NO;
    bool made_tmp = false;

    *out = NULL;
    if (strlen(root) + LR__WAL_ID_MAX + 32 >= PATH_MAX)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: path '%.200s' is too long", root);
    st = mkdir_p(root, err);
    if (st != LR_OK)
        return st;
    make_id(id, sizeof id);
    w = wal_alloc(root, id);
    if (w == NULL)
        return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
    w->cfg = *cfg;
    if (w->cfg.segment_bytes < 4096)
        w->cfg.segment_bytes = 4096;
    /* Build the log under a hidden name, locked, then rename it into view. */
    snprintf(tmpname, sizeof tmpname, ".new-%s", id);
    snprintf(tmpdir, sizeof tmpdir, "%s/%s", root, tmpname);
    if (mkdir(tmpdir, 0755) != 0) {
        st = sys_error(err, "cannot create", tmpdir, errno);
        goto fail;
    }
    made_tmp = true;
    snprintf(p, sizeof p, "%s/" LOCK_NAME, tmpdir);
    w->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0 || flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        st = sys_error(err, "cannot lock", p, errno);
        goto fail;
    }
    snprintf(p, sizeof p, "%s/" SCHEMAS_NAME, tmpdir);
    st = create_headed(p, SCHEMA_MAGIC, 1, sync, &w->schema_fd, err);
    if (st != LR_OK)
        goto fail;
    w->schema_size = LR__WAL_SEG_HDR;
    snprintf(p, sizeof p, "%s/%020d" SEG_SUFFIX, tmpdir, 1);
    st = create_headed(p, SEG_MAGIC, 1, sync, &w->seg_fd, err);
    if (st != LR_OK)
        goto fail;
    st = segs_push(w, 1, LR__WAL_SEG_HDR, err);
    if (st != LR_OK)
        goto fail;
    if (sync && fsync_dir(tmpdir) != 0) {
        st = sys_error(err, "cannot fsync", tmpdir, errno);
        goto fail;
    }
    if (rename(tmpdir, w->dir) != 0) {
        st = sys_error(err, "cannot rename into", w->dir, errno);
        goto fail;
    }
    made_tmp = false;
    if (sync && fsync_dir(root) != 0) {
        st = sys_error(err, "cannot fsync", root, errno);
        goto fail;
    }
    if (cfg->sync == LR__WAL_SYNC_EVERYSEC) {
        if (pthread_create(&w->thread, NULL, sync_thread, w) != 0) {
            st = lr_error_set(err, LR_ENOMEM, "write-ahead log: cannot start the sync thread");
            goto fail;
        }
        w->thread_started = true;
    }
    *out = w;
    return LR_OK;
fail:
    if (made_tmp) {
        rm_dir_files(tmpdir);
        rmdir(tmpdir);
    } else if (w->seg_fd >= 0) {
        rm_dir_files(w->dir);
        rmdir(w->dir);
    }
    wal_free(w);
    return st;
}

/* ---- reading one segment ---- */

typedef enum seg_res {
    SEG_ENTRY = 0, /* an entry was returned */
    SEG_END,       /* clean end of the file */
    SEG_TORN,      /* the file ends inside a damaged tail (see recovery) */
    SEG_BAD,       /* damage followed by valid data, or a read error: err is set */
} seg_res;

typedef struct segcur {
    char path[PATH_MAX];
    int fd;
    uint64_t file_size;
    uint64_t first_seq;
    uint64_t next_seq;  /* expected sequence of the next entry */
    uint64_t off;       /* file offset of buf[pos] */
    unsigned char *buf;
    size_t cap, pos, end; /* valid bytes: buf[pos..end) */
    uint64_t entry_off; /* offset of the entry last returned or damaged */
} segcur;

static void segcur_close(segcur *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

/* Makes at least `need` bytes available at buf[pos]; fewer only at EOF. */
static lr_status segcur_fill(segcur *c, size_t need, lr_error *err)
{
    if (c->end - c->pos >= need)
        return LR_OK;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->end - c->pos);
        c->off += c->pos;
        c->end -= c->pos;
        c->pos = 0;
    }
    if (need > c->cap) {
        size_t nc = c->cap ? c->cap : READ_CHUNK;
        while (nc < need)
            nc *= 2;
        unsigned char *nb = realloc(c->buf, nc);
        if (nb == NULL)
            return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory reading %s",
                                c->path);
        c->buf = nb;
        c->cap = nc;
    }
    while (c->end < need) {
        uint64_t at = c->off + c->end;
        if (at >= c->file_size)
            break;
        size_t want = c->cap - c->end;
        if (want > c->file_size - at)
            want = (size_t)(c->file_size - at);
        ssize_t k = pread(c->fd, c->buf + c->end, want, (off_t)at);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sys_error(err, "cannot read", c->path, errno);
        }
        if (k == 0) {
            c->file_size = at; /* shrank meanwhile */
            break;
        }
        c->end += (size_t)k;
    }
    return LR_OK;
}

/*
 * Opens a segment and checks its header. SEG_TORN when the header itself is
 * incomplete or all zero (a file being created when the process died);
 * SEG_BAD with err for any other bad header.
 */
static seg_res segcur_open(segcur *c, const char *path, const char *magic, uint64_t size_hint,
                           lr_error *err)
{
    struct stat sb;
    lr_status st;

    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        sys_error(err, "cannot open", path, errno);
        return SEG_BAD;
    }
    if (fstat(c->fd, &sb) != 0) {
        sys_error(err, "cannot stat", path, errno);
        return SEG_BAD;
    }
    c->file_size = (uint64_t)sb.st_size;
    if (size_hint && size_hint < c->file_size)
        c->file_size = size_hint;
    st = segcur_fill(c, LR__WAL_SEG_HDR, err);
    if (st != LR_OK)
        return SEG_BAD;
    if (c->end < LR__WAL_SEG_HDR)
        return SEG_TORN;
    const unsigned char *h = c->buf;
    if (memcmp(h, magic, 8) != 0 || get32(h + 24) != lr__crc32c(0, h, 24) ||
        get32(h + 8) != SEG_VERSION || get32(h + 12) != LR__WAL_SEG_HDR) {
        bool zero = true;
        for (size_t i = 0; i < LR__WAL_SEG_HDR; i++)
            zero = zero && h[i] == 0;
        if (zero)
            return SEG_TORN;
        lr_error_set(err, LR_ECORRUPT, "write-ahead log: %s offset 0: bad segment header", path);
        return SEG_BAD;
    }
    c->first_seq = get64(h + 16);
    c->next_seq = c->first_seq;
    c->pos = LR__WAL_SEG_HDR;
    c->entry_off = LR__WAL_SEG_HDR;
    return SEG_ENTRY;
}

/* Checks the entry header at h; its payload length in *len. */
static bool header_ok(const unsigned char *h, uint32_t *len)
{
    if (get32(h) != ENTRY_MAGIC || get32(h + 20) != lr__crc32c(0, h, 20))
        return false;
    *len = get32(h + 4);
    return *len > 0 && *len <= LR__WAL_PAYLOAD_MAX;
}

/*
 * After damage at `from`: true when no valid entry header starts anywhere
 * in [from + 1, EOF), i.e. the damage is a tail that nothing follows.
 */
static bool nothing_valid_after(segcur *c, uint64_t from, lr_error *err)
{
    uint64_t at = from + 1;
    unsigned char *buf = malloc(READ_CHUNK + LR__WAL_ENTRY_HDR);
    bool none = true;

    if (buf == NULL) {
        lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory reading %s", c->path);
        return false;
    }
    while (none && at + LR__WAL_ENTRY_HDR <= c->file_size) {
        size_t want = READ_CHUNK + LR__WAL_ENTRY_HDR;
        if (want > c->file_size - at)
            want = (size_t)(c->file_size - at);
        ssize_t k = pread(c->fd, buf, want, (off_t)at);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i + LR__WAL_ENTRY_HDR <= (size_t)k; i++) {
            uint32_t len;
            if (buf[i] == (ENTRY_MAGIC & 0xff) && header_ok(buf + i, &len)) {
                none = false;
                break;
            }
        }
        if ((size_t)k <= LR__WAL_ENTRY_HDR)
            break;
        at += (uint64_t)k - LR__WAL_ENTRY_HDR + 1;
    }
    free(buf);
    return none;
}

/*
 * Reads the next entry. `tail_ok`: this is the last segment of a log being
 * recovered, where a damaged tail (incomplete entry at EOF, or damage that
 * no valid entry follows) is SEG_TORN rather than SEG_BAD.
 */
static seg_res segcur_next(segcur *c, bool tail_ok, const unsigned char **payload, uint32_t *len,
                           uint64_t *seq, lr_error *err)
{
    uint32_t n;
    const unsigned char *h;
    const char *why;
    uint64_t scan_from; /* where to look for valid entries after damage */

    c->entry_off = c->off + c->pos;
    if (segcur_fill(c, LR__WAL_ENTRY_HDR, err) != LR_OK)
        return SEG_BAD;
    if (c->end - c->pos == 0)
        return SEG_END;
    if (c->end - c->pos < LR__WAL_ENTRY_HDR) {
        why = "incomplete entry header";
        goto torn_or_bad;
    }
    h = c->buf + c->pos;
    if (!header_ok(h, &n)) {
        why = "bad entry header";
        scan_from = c->entry_off;
        goto damaged;
    }
    if (get64(h + 8) != c->next_seq) {
        lr_error_set(err, LR_ECORRUPT,
                     "write-ahead log: %s offset %" PRIu64 ": sequence %" PRIu64
                     " where %" PRIu64 " was expected",
                     c->path, c->entry_off, get64(h + 8), c->next_seq);
        return SEG_BAD;
    }
    if (segcur_fill(c, LR__WAL_ENTRY_HDR + (size_t)n, err) != LR_OK)
        return SEG_BAD;
    h = c->buf + c->pos;
    if (c->end - c->pos < LR__WAL_ENTRY_HDR + (size_t)n) {
        why = "incomplete entry";
        goto torn_or_bad;
    }
    if (lr__crc32c(0, h + LR__WAL_ENTRY_HDR, n) != get32(h + 16)) {
        why = "payload checksum mismatch";
        /* The header is sound, so the entry's extent is known: look past it. */
        scan_from = c->entry_off + LR__WAL_ENTRY_HDR + n - 1;
        goto damaged;
    }
    *payload = h + LR__WAL_ENTRY_HDR;
    *len = n;
    *seq = c->next_seq++;
    c->pos += LR__WAL_ENTRY_HDR + (size_t)n;
    return SEG_ENTRY;

damaged:
    if (tail_ok && nothing_valid_after(c, scan_from, err))
        return SEG_TORN;
    goto bad;
torn_or_bad:
    if (tail_ok)
        return SEG_TORN;
bad:
    lr_error_set(err, LR_ECORRUPT, "write-ahead log: %s offset %" PRIu64 ": %s", c->path,
                 c->entry_off, why);
    return SEG_BAD;
}

/* ---- recovery ---- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Segment first-sequence numbers found in dir, ascending. *v: free(). */
static lr_status list_segments(const char *dir, uint64_t **v, size_t *n, lr_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *v = NULL;
    *n = 0;
    if (d == NULL)
        return sys_error(err, "cannot list", dir, errno);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char *endp;
        if (l != 20 + sizeof SEG_SUFFIX - 1 || strcmp(e->d_name + 20, SEG_SUFFIX) != 0)
            continue;
        errno = 0;
        unsigned long long f = strtoull(e->d_name, &endp, 10);
        if (errno != 0 || endp != e->d_name + 20 || f == 0)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(*v, nc * sizeof *nv);
            if (nv == NULL) {
                closedir(d);
                free(*v);
                *v = NULL;
                *n = 0;
                return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
            }
            *v = nv;
            cap = nc;
        }
        (*v)[(*n)++] = (uint64_t)f;
    }
    closedir(d);
    if (*n > 1)
        qsort(*v, *n, sizeof **v, u64_cmp);
    return LR_OK;
}

static void set_damage(lr__wal *w, const lr_error *e)
{
    w->damaged = true;
    w->damage = *e;
}

/*
 * Scans every segment of an adopted log, truncating a torn tail of the last
 * one, and fills w->segs and w->last_seq up to the first damage.
 */
static lr_status recover_segments(lr__wal *w, lr_error *err)
{
    uint64_t *firsts = NULL;
    size_t n = 0;
    lr_status st = list_segments(w->dir, &firsts, &n, err);
    uint64_t expect = 0; /* 0: whatever the first segment says */

    if (st != LR_OK)
        return st;
    for (size_t i = 0; i < n && !w->damaged; i++) {
        char path[PATH_MAX];
        segcur c;
        lr_error e;
        bool last = i + 1 == n;
        seg_path(w, firsts[i], path);
        seg_res r = segcur_open(&c, path, SEG_MAGIC, 0, &e);
        if (r == SEG_TORN && last) {
            /* Created just before the process died: nothing in it. */
            segcur_close(&c);
            lr_log_warn("offline", "write-ahead log: dropping torn segment %s", path);
            if (unlink(path) != 0)
                st = sys_error(err, "cannot remove", path, errno);
            break;
        }
        if (r != SEG_ENTRY) {
            if (r == SEG_TORN)
                lr_error_set(&e, LR_ECORRUPT, "write-ahead log: %s offset 0: torn segment header "
                                              "before later segments", path);
            segcur_close(&c);
            if (e.code != LR_ECORRUPT) {
                *err = e;
                st = e.code;
                break;
            }
            set_damage(w, &e);
            break;
        }
        if (c.first_seq != firsts[i] || (expect && c.first_seq != expect)) {
            lr_error_set(&e, LR_ECORRUPT,
                         "write-ahead log: %s offset 0: segment starts at sequence %" PRIu64
                         " where %" PRIu64 " was expected",
                         path, c.first_seq, expect ? expect : firsts[i]);
            segcur_close(&c);
            set_damage(w, &e);
            break;
        }
        for (;;) {
            const unsigned char *p;
            uint32_t len;
            uint64_t seq;
            r = segcur_next(&c, last, &p, &len, &seq, &e);
            if (r == SEG_ENTRY)
                continue;
            if (r == SEG_TORN) {
                lr_log_warn("offline",
                            "write-ahead log: dropping a torn entry at %s offset %" PRIu64, path,
                            c.entry_off);
                if (truncate(path, (off_t)c.entry_off) != 0)
                    st = sys_error(err, "cannot truncate", path, errno);
            } else if (r == SEG_BAD) {
                if (e.code == LR_ECORRUPT)
                    set_damage(w, &e);
                else {
                    *err = e;
                    st = e.code;
                }
            }
            break;
        }
        if (st == LR_OK) {
            st = segs_push(w, c.first_seq, c.entry_off, err);
            if (c.next_seq > c.first_seq)
                w->last_seq = c.next_seq - 1;
            else if (w->last_seq < c.first_seq - 1)
                w->last_seq = c.first_seq - 1;
            expect = c.next_seq;
        }
        segcur_close(&c);
        if (st != LR_OK)
            break;
    }
    free(firsts);
    return st;
}

/* Recovers schemas.lrs: counts entries and truncates a torn tail. */
static lr_status recover_schemas(lr__wal *w, lr_error *err)
{
    char path[PATH_MAX];
    segcur c;
    lr_error e;
    lr_status st = LR_OK;
    seg_res r;

    snprintf(path, sizeof path, "%s/" SCHEMAS_NAME, w->dir);
    if (access(path, F_OK) != 0)
        return LR_OK; /* no record can refer to a schema that was never written */
    r = segcur_open(&c, path, SCHEMA_MAGIC, 0, &e);
    if (r == SEG_ENTRY) {
        for (;;) {
            const unsigned char *p;
            uint32_t len;
            uint64_t seq;
            r = segcur_next(&c, true, &p, &len, &seq, &e);
            if (r != SEG_ENTRY)
                break;
        }
    }
    if (r == SEG_TORN) {
        lr_log_warn("offline", "write-ahead log: dropping a torn entry at %s offset %" PRIu64,
                    path, c.entry_off);
        if (truncate(path, (off_t)c.entry_off) != 0)
            st = sys_error(err, "cannot truncate", path, errno);
    } else if (r == SEG_BAD) {
        if (e.code == LR_ECORRUPT && !w->damaged)
            set_damage(w, &e);
        else if (e.code != LR_ECORRUPT) {
            *err = e;
            st = e.code;
        }
    }
    w->schema_last = c.next_seq > 0 ? (uint32_t)(c.next_seq - 1) : 0;
    w->schema_size = c.entry_off;
    segcur_close(&c);
    return st;
}

lr_status lr__wal_adopt(const char *root, const char *id, lr__wal **out, lr_error *err)
{
    char p[PATH_MAX];
    struct stat a, b;
    lr__wal *w;
    lr_status st;

    *out = NULL;
    if (strlen(id) > LR__WAL_ID_MAX || strchr(id, '/') != NULL || id[0] == '.')
        return lr_error_set(err, LR_EINVAL, "write-ahead log: bad log id '%.80s'", id);
    w = wal_alloc(root, id);
    if (w == NULL)
        return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
    w->adopted = true;
    snprintf(p, sizeof p, "%s/" LOCK_NAME, w->dir);
    w->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        st = (errno == ENOENT || errno == ENOTDIR) ? LR_OK : sys_error(err, "cannot open", p, errno);
        goto fail;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        st = (errno == EWOULDBLOCK) ? LR_OK : sys_error(err, "cannot lock", p, errno);
        goto fail;
    }
    /* The log may have been removed by its last adopter between open and flock. */
    if (fstat(w->lock_fd, &a) != 0 || stat(p, &b) != 0 || a.st_ino != b.st_ino ||
        a.st_dev != b.st_dev) {
        st = LR_OK;
        goto fail;
    }
    st = recover_segments(w, err);
    if (st == LR_OK)
        st = recover_schemas(w, err);
    if (st != LR_OK)
        goto fail;
    *out = w;
    return LR_OK;
fail:
    wal_free(w);
    return st;
}

bool lr__wal_damaged(const lr__wal *w, lr_error *err)
{
    if (w->damaged && err != NULL)
        *err = w->damage;
    return w->damaged;
}

void lr__wal_close(lr__wal *w)
{
    if (w == NULL)
        return;
    stop_thread(w);
    if (!w->adopted && w->cfg.sync != LR__WAL_SYNC_NO && !w->failed && w->seg_fd >= 0)
        (void)fdatasync(w->seg_fd);
    wal_free(w);
}

lr_status lr__wal_destroy(lr__wal *w, lr_error *err)
{
    char p[PATH_MAX];
    lr_status st = LR_OK;

    stop_thread(w);
    if (w->seg_fd >= 0) {
        close(w->seg_fd);
        w->seg_fd = -1;
    }
    if (w->schema_fd >= 0) {
        close(w->schema_fd);
        w->schema_fd = -1;
    }
    /* Segments first, the lock last: a log without segments replays nothing. */
    {
        uint64_t *firsts = NULL;
        size_t n = 0;
        if (list_segments(w->dir, &firsts, &n, err) == LR_OK) {
            for (size_t i = 0; i < n; i++) {
                seg_path(w, firsts[i], p);
                if (unlink(p) != 0 && errno != ENOENT && st == LR_OK)
                    st = sys_error(err, "cannot remove", p, errno);
            }
        } else {
            st = LR_EIO;
        }
        free(firsts);
    }
    if (st == LR_OK) {
        rm_dir_files(w->dir);
        if (rmdir(w->dir) != 0 && errno != ENOENT)
            st = sys_error(err, "cannot remove", w->dir, errno);
    }
    wal_free(w);
    return st;
}

const char *lr__wal_id(const lr__wal *w)
{
    return w->id;
}

const char *lr__wal_dir(const lr__wal *w)
{
    return w->dir;
}

uint64_t lr__wal_last_seq(lr__wal *w)
{
    uint64_t v;
    pthread_mutex_lock(&w->mu);
    v = w->last_seq;
    pthread_mutex_unlock(&w->mu);
    return v;
}

/* Starts a new segment for sequence last_seq + 1. Called with mu held. */
static lr_status rotate(lr__wal *w, lr_error *err)
{
    char path[PATH_MAX];
    int fd;
    bool sync = w->cfg.sync != LR__WAL_SYNC_NO;
    uint64_t first = w->last_seq + 1;
    lr_status st;

    seg_path(w, w->segs[w->nsegs - 1].first_seq, path);
    if (sync && fdatasync(w->seg_fd) != 0) {
        w->failed = true;
        return sys_error(err, "cannot fsync", path, errno);
    }
    seg_path(w, first, path);
    st = create_headed(path, SEG_MAGIC, first, sync, &fd, err);
    if (st != LR_OK)
        return st;
    if (sync && fsync_dir(w->dir) != 0) {
        st = sys_error(err, "cannot fsync", w->dir, errno);
        close(fd);
        unlink(path);
        return st;
    }
    st = segs_push(w, first, LR__WAL_SEG_HDR, err);
    if (st != LR_OK) {
        close(fd);
        unlink(path);
        return st;
    }
    if (w->thread_started && w->n_retired < RETIRED_MAX) {
        /* Its data is on disk (above): the sync thread drops its page cache. */
        w->retired[w->n_retired++] = w->seg_fd;
        pthread_mutex_lock(&w->cv_mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->cv_mu);
    } else {
        close(w->seg_fd);
    }
    w->seg_fd = fd;
    w->kicked = 0;
    return LR_OK;
}

/*
 * Starts the write-back of what the current segment gained since the last
 * start, once that is WRITEBACK_BYTES, without waiting for it (the kernel
 * would otherwise keep it dirty until memory runs short or it expires). So
 * the fdatasync that ends a segment, which runs under the log's lock,
 * waits only for the last few megabytes instead of the whole segment.
 */
static void start_writeback(lr__wal *w, uint64_t size)
{
    if (w->cfg.sync == LR__WAL_SYNC_NO || size - w->kicked < WRITEBACK_BYTES)
        return;
    /* Advisory: on failure the fdatasync at the segment's end does it all. */
    (void)sync_file_range(w->seg_fd, (off_t)w->kicked, (off_t)(size - w->kicked),
                          SYNC_FILE_RANGE_WRITE);
    w->kicked = size;
}

static lr_status pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t off, const char *path,
                             lr_error *err)
{
    while (cnt > 0) {
        ssize_t k = pwritev(fd, iov, cnt, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sys_error(err, "cannot write", path, errno);
        }
        off += (uint64_t)k;
        while (cnt > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return LR_OK;
}

lr_status lr__wal_append(lr__wal *w, lr__wal_item *items, size_t n, lr__wal_stamp_fn stamp,
                         lr__wal_appended_fn appended, void *stamp_arg, uint64_t *last_seq,
                         lr_error *err)
{
    unsigned char hstack[16 * LR__WAL_ENTRY_HDR];
    unsigned char *hdrs = hstack;
    struct iovec iov[2 * ITEMS_PER_WRITE];
    uint64_t total = 0, mine = 0;
    lr_status st = LR_OK;
    char path[PATH_MAX];

    if (n == 0)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: nothing to append");
    for (size_t i = 0; i < n; i++) {
        if (items[i].len == 0 || items[i].len > LR__WAL_PAYLOAD_MAX)
            return lr_error_set(err, LR_EINVAL, "write-ahead log: entry of %zu bytes (1..%u)",
                                items[i].len, LR__WAL_PAYLOAD_MAX);
        total += LR__WAL_ENTRY_HDR + items[i].len;
    }
    if (w->adopted)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: %s is being recovered", w->dir);
    if (n > 16) {
        hdrs = malloc(n * LR__WAL_ENTRY_HDR);
        if (hdrs == NULL)
            return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
    }

    pthread_mutex_lock(&w->mu);
    if (w->failed) {
        st = lr_error_set(err, LR_EIO,
                          "write-ahead log: %s refuses writes after an earlier I/O error",
                          w->dir);
        goto unlock;
    }
    seginfo *cur = &w->segs[w->nsegs - 1];
    if (cur->size > LR__WAL_SEG_HDR && cur->size + total > w->cfg.segment_bytes) {
        st = rotate(w, err);
        if (st != LR_OK)
            goto unlock;
        cur = &w->segs[w->nsegs - 1];
    }
    seg_path(w, cur->first_seq, path);
    if (stamp)
        stamp(stamp_arg, items, n, w->last_seq + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char *h = hdrs + i * LR__WAL_ENTRY_HDR;
        uint64_t seq = w->last_seq + 1 + i;
        put32(h, ENTRY_MAGIC);
        put32(h + 4, (uint32_t)items[i].len);
        put64(h + 8, seq);
        put32(h + 16, lr__crc32c(0, items[i].data, items[i].len));
        put32(h + 20, lr__crc32c(0, h, 20));
    }
    {
        uint64_t off = cur->size;
        for (size_t i = 0; i < n && st == LR_OK; i += ITEMS_PER_WRITE) {
            size_t k = n - i < ITEMS_PER_WRITE ? n - i : ITEMS_PER_WRITE;
            uint64_t bytes = 0;
            for (size_t j = 0; j < k; j++) {
                iov[2 * j].iov_base = hdrs + (i + j) * LR__WAL_ENTRY_HDR;
                iov[2 * j].iov_len = LR__WAL_ENTRY_HDR;
                iov[2 * j + 1].iov_base = items[i + j].data;
                iov[2 * j + 1].iov_len = items[i + j].len;
                bytes += LR__WAL_ENTRY_HDR + items[i + j].len;
            }
            st = pwritev_all(w->seg_fd, iov, (int)(2 * k), off, path, err);
            off += bytes;
        }
        if (st != LR_OK) {
            /* Cut the partial batch off so the log stays well formed. */
            if (ftruncate(w->seg_fd, (off_t)cur->size) != 0)
                w->failed = true;
            goto unlock;
        }
    }
    cur->size += total;
    start_writeback(w, cur->size);
    if (appended)
        appended(stamp_arg, items, n, w->last_seq + 1);
    w->last_seq += n;
    mine = w->last_seq;
unlock:
    pthread_mutex_unlock(&w->mu);
    if (hdrs != hstack)
        free(hdrs);
    if (st == LR_OK && w->cfg.sync == LR__WAL_SYNC_ALWAYS)
        st = sync_upto(w, mine, err);
    if (st == LR_OK && last_seq)
        *last_seq = mine;
    return st;
}

lr_status lr__wal_sync(lr__wal *w, lr_error *err)
{
    if (w->adopted)
        return LR_OK;
    return sync_upto(w, lr__wal_last_seq(w), err);
}

lr_status lr__wal_put_schema(lr__wal *w, const void *data, size_t len, uint32_t *id,
                             lr_error *err)
{
    unsigned char h[LR__WAL_ENTRY_HDR];
    struct iovec iov[2];
    char path[PATH_MAX];
    lr_status st;

    if (len == 0 || len > LR__WAL_PAYLOAD_MAX)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: schema entry of %zu bytes", len);
    if (w->adopted)
        return lr_error_set(err, LR_EINVAL, "write-ahead log: %s is being recovered", w->dir);
    snprintf(path, sizeof path, "%s/" SCHEMAS_NAME, w->dir);
    pthread_mutex_lock(&w->mu);
    if (w->failed) {
        st = lr_error_set(err, LR_EIO,
                          "write-ahead log: %s refuses writes after an earlier I/O error", w->dir);
        goto unlock;
    }
    put32(h, ENTRY_MAGIC);
    put32(h + 4, (uint32_t)len);
    put64(h + 8, (uint64_t)w->schema_last + 1);
    put32(h + 16, lr__crc32c(0, data, len));
    put32(h + 20, lr__crc32c(0, h, 20));
    iov[0].iov_base = h;
    iov[0].iov_len = sizeof h;
    iov[1].iov_base = (void *)data;
    iov[1].iov_len = len;
    st = pwritev_all(w->schema_fd, iov, 2, w->schema_size, path, err);
    if (st == LR_OK && fdatasync(w->schema_fd) != 0)
        st = sys_error(err, "cannot fsync", path, errno);
    if (st != LR_OK) {
        if (ftruncate(w->schema_fd, (off_t)w->schema_size) != 0)
            w->failed = true;
        goto unlock;
    }
    w->schema_size += sizeof h + len;
    *id = ++w->schema_last;
unlock:
    pthread_mutex_unlock(&w->mu);
    return st;
}

lr_status lr__wal_read_schemas(lr__wal *w,
                               lr_status (*fn)(void *arg, uint32_t id, const void *data,
                                               size_t len, lr_error *err),
                               void *arg, lr_error *err)
{
    char path[PATH_MAX];
    segcur c;
    lr_status st = LR_OK;
    uint64_t size, count;

    pthread_mutex_lock(&w->mu);
    size = w->schema_size;
    count = w->schema_last;
    pthread_mutex_unlock(&w->mu);
    if (count == 0)
        return LR_OK;
    snprintf(path, sizeof path, "%s/" SCHEMAS_NAME, w->dir);
    if (segcur_open(&c, path, SCHEMA_MAGIC, size, err) != SEG_ENTRY) {
        segcur_close(&c);
        if (err && err->code == LR_OK)
            lr_error_set(err, LR_ECORRUPT, "write-ahead log: %s: bad header", path);
        return err ? err->code : LR_ECORRUPT;
    }
    for (uint64_t i = 0; i < count && st == LR_OK; i++) {
        const unsigned char *p;
        uint32_t len;
        uint64_t seq;
        seg_res r = segcur_next(&c, false, &p, &len, &seq, err);
        if (r == SEG_ENTRY)
            st = fn(arg, (uint32_t)seq, p, len, err);
        else if (r == SEG_END)
            st = lr_error_set(err, LR_ECORRUPT, "write-ahead log: %s ends after %" PRIu64
                                                " of %" PRIu64 " schema entries",
                              path, i, count);
        else
            st = LR_ECORRUPT;
    }
    segcur_close(&c);
    return st;
}

void lr__wal_stats_get(lr__wal *w, lr__wal_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->nsegs; i++)
        out->bytes += w->segs[i].size;
    out->segments = w->nsegs;
    out->first_seq = w->nsegs ? w->segs[0].first_seq : 0;
    out->last_seq = w->last_seq;
    pthread_mutex_unlock(&w->mu);
}

lr_status lr__wal_truncate_through(lr__wal *w, uint64_t seq, lr_error *err)
{
    lr_status st = LR_OK;
    size_t drop = 0, nfds = 0;
    char path[PATH_MAX];
    int *fds = NULL;

    pthread_mutex_lock(&w->mu);
    /* Segment i holds [first_i, first_{i+1} - 1]; the last one is never dropped. */
    size_t want = 0;
    while (want + 1 < w->nsegs && w->segs[want + 1].first_seq - 1 <= seq)
        want++;
    if (want > 0)
        fds = malloc(want * sizeof *fds);
    while (drop < want) {
        seg_path(w, w->segs[drop].first_seq, path);
        /* Held open, the removal only unlinks the name; the close frees the rest. */
        int fd = fds ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (unlink(path) != 0 && errno != ENOENT) {
            st = sys_error(err, "cannot remove", path, errno);
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd >= 0)
            fds[nfds++] = fd;
        drop++;
    }
    if (drop > 0) {
        memmove(w->segs, w->segs + drop, (w->nsegs - drop) * sizeof *w->segs);
        w->nsegs -= drop;
    }
    pthread_mutex_unlock(&w->mu);

    /*
     * After the lock, so appends do not wait for the file system: closing
     * the last descriptor frees what page cache the segment still has, and
     * its blocks.
     */
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    free(fds);
    return st;
}

/* ---- reader ---- */

struct lr__wal_reader {
    lr__wal *w;
    seginfo *segs; /* snapshot */
    size_t nsegs;
    size_t i;      /* index of the open segment, nsegs when none */
    bool open;
    segcur c;
    uint64_t from, to;
};

lr_status lr__wal_reader_open(lr__wal *w, uint64_t from, uint64_t to, lr__wal_reader **out,
                              lr_error *err)
{
    lr__wal_reader *r = calloc(1, sizeof *r);

    *out = NULL;
    if (r == NULL)
        return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
    pthread_mutex_lock(&w->mu);
    r->segs = malloc((w->nsegs ? w->nsegs : 1) * sizeof *r->segs);
    if (r->segs != NULL) {
        memcpy(r->segs, w->segs, w->nsegs * sizeof *r->segs);
        r->nsegs = w->nsegs;
    }
    if (to > w->last_seq)
        to = w->last_seq;
    pthread_mutex_unlock(&w->mu);
    if (r->segs == NULL) {
        free(r);
        return lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
    }
    r->w = w;
    r->from = from ? from : 1;
    r->to = to;
    r->c.fd = -1;
    /* Start in the last segment whose first sequence is <= from. */
    r->i = 0;
    while (r->i + 1 < r->nsegs && r->segs[r->i + 1].first_seq <= r->from)
        r->i++;
    *out = r;
    return LR_OK;
}

lr_status lr__wal_reader_next(lr__wal_reader *r, const void **data, size_t *len, uint64_t *seq,
                              lr_error *err)
{
    for (;;) {
        if (r->from > r->to || r->i >= r->nsegs)
            return LR_ENOTFOUND;
        if (!r->open) {
            char path[PATH_MAX];
            seg_path(r->w, r->segs[r->i].first_seq, path);
            seg_res o = segcur_open(&r->c, path, SEG_MAGIC, r->segs[r->i].size, err);
            if (o != SEG_ENTRY) {
                segcur_close(&r->c);
                if (o == SEG_TORN)
                    lr_error_set(err, LR_ECORRUPT, "write-ahead log: %s offset 0: torn header",
                                 path);
                return err ? err->code : LR_ECORRUPT;
            }
            r->open = true;
        }
        const unsigned char *p;
        uint32_t n;
        uint64_t s;
        seg_res res = segcur_next(&r->c, false, &p, &n, &s, err);
        if (res == SEG_ENTRY) {
            if (s < r->from)
                continue;
            *data = p;
            *len = n;
            *seq = s;
            r->from = s + 1;
            return LR_OK;
        }
        if (res == SEG_BAD)
            return err ? err->code : LR_ECORRUPT;
        segcur_close(&r->c);
        r->open = false;
        r->i++;
        if (r->i < r->nsegs && r->segs[r->i].first_seq != r->from && r->from <= r->to)
            return lr_error_set(err, LR_ECORRUPT,
                                "write-ahead log: %s: sequence %" PRIu64
                                " is missing between segments",
                                r->w->dir, r->from);
    }
}

void lr__wal_reader_close(lr__wal_reader *r)
{
    if (r == NULL)
        return;
    segcur_close(&r->c);
    free(r->segs);
    free(r);
}

/* ---- the root ---- */

/* Removes a ".new-*" directory when its creator died (its lock is free). */
static void reap_new_dir(const char *root, const char *name)
{
    char dir[PATH_MAX], lock[PATH_MAX];
    int fd;
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(lock, sizeof lock, "%s/" LOCK_NAME, dir);
    fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            rmdir(dir); /* died before creating the lock */
        return;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        rm_dir_files(dir);
        rmdir(dir);
    }
    close(fd);
}

lr_status lr__wal_list(const char *root, lr_status (*fn)(void *arg, const char *id, lr_error *err),
                       void *arg, lr_error *err)
{
    DIR *d = opendir(root);
    struct dirent *e;
    lr_status st = LR_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL) {
        if (errno == ENOENT)
            return LR_OK;
        return sys_error(err, "cannot list", root, errno);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            if (strncmp(e->d_name, ".new-", 5) == 0)
                reap_new_dir(root, e->d_name);
            continue;
        }
        if (strlen(e->d_name) > LR__WAL_ID_MAX)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (nn == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "write-ahead log: out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    for (size_t i = 0; i < n && st == LR_OK; i++)
        st = fn(arg, names[i], err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

uint64_t lr__wal_root_bytes(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    uint64_t total = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char dir[PATH_MAX];
        DIR *s;
        struct dirent *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
        s = opendir(dir);
        if (s == NULL)
            continue;
        while ((f = readdir(s)) != NULL) {
            size_t l = strlen(f->d_name);
            struct stat sb;
            if (l <= 4 || strcmp(f->d_name + l - 4, SEG_SUFFIX) != 0)
                continue;
            if (fstatat(dirfd(s), f->d_name, &sb, 0) == 0)
                total += (uint64_t)sb.st_size;
        }
        closedir(s);
    }
    closedir(d);
    return total;
}
