/*
 * online_lmdb.c - the online store on LMDB (the embedded default).
 *
 * Design
 * ------
 * Reads are the hot path. Each reader handle owns one LMDB read transaction
 * (MDB_NOTLS, so it is bound to the handle, not the thread). Between gets
 * the transaction stays open on its snapshot, and a get renews it only when
 * a newer commit exists (mdb_env_info, a read of the meta pages): in a
 * read-mostly phase a get is one B-tree lookup with no reader-table
 * traffic. So that an idle reader never pins an old snapshot (which would
 * keep LMDB from reusing pages that later commits free), the writer resets
 * every idle reader's transaction right after each commit, before it wakes
 * the writers' callers; a reader in the middle of a get is left alone and
 * renews on its next call. What a get returns is copied into the reader's
 * buffer, so nothing a caller holds points into a snapshot.
 *
 * A reader's `state` (on its own cache line) arbitrates between its owner
 * and the threads that may reset it: IDLE_RESET, IDLE_OPEN, ACTIVE (the
 * owner is in a get) and CLAIMED (another thread is resetting it). The owner
 * moves IDLE_* -> ACTIVE -> IDLE_OPEN with compare-and-swap; the writer,
 * resizer and sweeper move IDLE_OPEN -> CLAIMED -> IDLE_RESET.
 *
 * Writes go through one writer thread. Callers encode their records in their
 * own threads, queue a request and sleep; the writer takes every queued
 * request (up to group_commit_max entries), applies them in order in one
 * write transaction, commits (one fsync for the lot, per the durability
 * setting) and wakes the callers. So N concurrent putters pay for one sync
 * instead of N, and a put returns only once it is durable.
 *
 * Growing the map. When a commit fails with MDB_MAP_FULL the writer doubles
 * the map size and retries the same batch. mdb_env_set_mapsize() requires
 * that no transaction of this process is open, so the resizer raises
 * `resizing`, resets every idle reader, waits for active ones to finish,
 * resizes and lowers the flag; a reader that finds `resizing` raised after
 * it became ACTIVE resets its transaction, goes back to IDLE_RESET and
 * sleeps on a condition variable until the resize is over. Both sides use
 * sequentially consistent read-modify-write then load, so either the reader
 * sees the resize or the resizer sees the reader (Dekker). Transient reads
 * (list, stats) count in one shared counter instead. A map grown by another
 * process shows up as MDB_MAP_RESIZED, handled the same way with
 * mdb_env_set_mapsize(0).
 *
 * Layout (docs/online-store.md): the main database maps
 * `<group>\0<record id>` to the stored value (online_codec.c); identifiers
 * too long for LMDB's 511-byte keys are stored under a prefix of the id plus
 * its SHA-256, at exactly the maximum key length, which literal keys never
 * reach. "expiry" (MDB_DUPSORT) maps an 8-byte expires-at to record keys,
 * so the sweeper reads expired records in time order. "groups" holds each
 * group's record count and bytes. "meta" holds the format version.
 */
#include "online/online_internal.h"

#include <errno.h>
#include <lmdb.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "larder/log.h"

#define FORMAT_VERSION  "1"
#define KEY_MAX         511 /* LMDB's default MDB_MAXKEYSIZE */
#define HASH_LEN        SHA256_DIGEST_LENGTH
#define CHUNK           2000  /* records a drop or sweep deletes per transaction */
#define LIST_SCAN_MAX   10000 /* entries one list page may look at */
#define DEFAULT_MAP     ((uint64_t)1 << 30)
#define DEFAULT_MAP_MAX ((uint64_t)1 << 40)

typedef struct lmdb_store lmdb_store;

/* Reader states (see the design notes above). */
enum { RS_IDLE_RESET = 0, RS_IDLE_OPEN = 1, RS_ACTIVE = 2, RS_CLAIMED = 3 };

typedef struct lmdb_reader {
    /* First, on its own cache line: what other threads touch. */
    _Alignas(64) atomic_int state;
    lmdb_store *st;
    MDB_txn *txn;
    struct lmdb_reader *prev, *next;
    uint8_t key[KEY_MAX];
} lmdb_reader;

enum { REQ_WRITE, REQ_SWEEP, REQ_DROP };

/* A caller's request to the writer thread. Lives on the caller's stack. */
typedef struct wreq {
    int kind;
    lr__wop *ops; /* REQ_WRITE */
    size_t n;
    const char *group; /* REQ_DROP */
    uint64_t max;      /* REQ_SWEEP: most records to remove */
    uint64_t removed;  /* REQ_SWEEP result */
    bool more;         /* REQ_SWEEP / REQ_DROP: call again */
    lr_status status;  /* request-level failure */
    lr_error err;
    bool done;
    struct wreq *next;
} wreq;

struct lmdb_store {
    MDB_env *env;
    MDB_dbi records, expiry, groups, meta;
    lr__online_env oenv;
    size_t maxkey;
    uint64_t map_max;
    uint32_t batch_max;

    /* writer queue */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;    /* work queued / stop */
    pthread_cond_t done_cv; /* a batch finished */
    wreq *q_head, *q_tail;
    bool stopping;
    pthread_t writer;
    bool writer_started;
    wreq **batch;   /* the writer's scratch: requests of one commit */
    lr_buf scratch; /* the writer's scratch: merged update values */

    /* held across every write transaction and every resize */
    pthread_mutex_t txn_mu;

    /* the reader gate */
    _Alignas(64) atomic_int resizing;
    _Alignas(64) atomic_int tmp_active;
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    pthread_mutex_t reg_mu;
    lmdb_reader *readers;
};

/* ---- errors ---- */

static lr_status map_rc(int rc)
{
    switch (rc) {
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return LR_ELIMIT;
    case MDB_READERS_FULL:
        return LR_EBUSY;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return LR_ECORRUPT;
    case ENOMEM:
        return LR_ENOMEM;
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS:
        return LR_EIO;
    default:
        return LR_EBACKEND;
    }
}

static lr_status lmdb_fail(lr_error *err, int rc, const char *what)
{
    return lr_error_set(err, map_rc(rc), "online store (lmdb): %s: %s", what, mdb_strerror(rc));
}

/* ---- keys ---- */

static size_t make_key(const lmdb_store *st, const char *group, size_t glen, const char *id,
                       size_t idlen, uint8_t *out)
{
    memcpy(out, group, glen);
    out[glen] = 0;
    if (glen + 1 + idlen < st->maxkey) {
        memcpy(out + glen + 1, id, idlen);
        return glen + 1 + idlen;
    }
    {
        size_t pre = st->maxkey - glen - 1 - HASH_LEN;
        memcpy(out + glen + 1, id, pre);
        SHA256((const unsigned char *)id, idlen, out + glen + 1 + pre);
        return st->maxkey;
    }
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The expiry index key: expires-at, big-endian with the sign flipped. */
static void exp_key(int64_t t, uint8_t out[8])
{
    uint64_t u = (uint64_t)t ^ 0x8000000000000000ull;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

static int64_t exp_key_get(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)(u ^ 0x8000000000000000ull);
}

/* ---- the reader gate and map resizing ---- */

static void wait_resize(lmdb_store *st)
{
    pthread_mutex_lock(&st->gate_mu);
    while (atomic_load(&st->resizing))
        pthread_cond_wait(&st->gate_cv, &st->gate_mu);
    pthread_mutex_unlock(&st->gate_mu);
}

/*
 * Makes the reader ACTIVE. Returns whether its transaction is open (on a
 * snapshot); false means it is reset and must be renewed.
 */
static bool reader_enter(lmdb_reader *r)
{
    lmdb_store *st = r->st;
    for (;;) {
        int s = RS_IDLE_OPEN;
        bool open;
        if (atomic_compare_exchange_strong(&r->state, &s, RS_ACTIVE)) {
            open = true;
        } else if (s == RS_IDLE_RESET && atomic_compare_exchange_strong(&r->state, &s, RS_ACTIVE)) {
            open = false;
        } else {
            sched_yield(); /* CLAIMED: being reset right now */
            continue;
        }
        if (!atomic_load(&st->resizing))
            return open;
        if (open)
            mdb_txn_reset(r->txn);
        atomic_store(&r->state, RS_IDLE_RESET);
        wait_resize(st);
    }
}

/* Leaves a get with the transaction open (or reset, when `open` is false). */
static void reader_leave(lmdb_reader *r, bool open)
{
    atomic_store_explicit(&r->state, open ? RS_IDLE_OPEN : RS_IDLE_RESET, memory_order_release);
}

/* Resets r's transaction if r is idle on a snapshot. reg_mu is held. */
static void reader_release(lmdb_reader *r)
{
    int s = RS_IDLE_OPEN;
    if (atomic_compare_exchange_strong(&r->state, &s, RS_CLAIMED)) {
        mdb_txn_reset(r->txn);
        atomic_store(&r->state, RS_IDLE_RESET);
    }
}

/* Resets every idle reader's snapshot (after a commit, and by the sweeper). */
static void release_idle_readers(lmdb_store *st)
{
    pthread_mutex_lock(&st->reg_mu);
    for (lmdb_reader *r = st->readers; r; r = r->next)
        reader_release(r);
    pthread_mutex_unlock(&st->reg_mu);
}

static void tmp_enter(lmdb_store *st)
{
    for (;;) {
        atomic_fetch_add(&st->tmp_active, 1);
        if (!atomic_load(&st->resizing))
            return;
        atomic_fetch_sub(&st->tmp_active, 1);
        pthread_mutex_lock(&st->gate_mu);
        while (atomic_load(&st->resizing))
            pthread_cond_wait(&st->gate_cv, &st->gate_mu);
        pthread_mutex_unlock(&st->gate_mu);
    }
}

static void tmp_leave(lmdb_store *st)
{
    atomic_fetch_sub(&st->tmp_active, 1);
}

/* Sets the map size with every reader outside the gate. txn_mu is held. */
static int resize_locked(lmdb_store *st, size_t size)
{
    int rc;
    atomic_store(&st->resizing, 1);
    pthread_mutex_lock(&st->reg_mu);
    for (lmdb_reader *r = st->readers; r; r = r->next) {
        reader_release(r);
        while (atomic_load(&r->state) != RS_IDLE_RESET) {
            sched_yield();
            reader_release(r);
        }
    }
    pthread_mutex_unlock(&st->reg_mu);
    while (atomic_load(&st->tmp_active))
        sched_yield();
    rc = mdb_env_set_mapsize(st->env, size);
    pthread_mutex_lock(&st->gate_mu);
    atomic_store(&st->resizing, 0);
    pthread_cond_broadcast(&st->gate_cv);
    pthread_mutex_unlock(&st->gate_mu);
    return rc;
}

/* Adopts a map grown by another process (MDB_MAP_RESIZED) from a read path. */
static int adopt_resize(lmdb_store *st)
{
    int rc;
    pthread_mutex_lock(&st->txn_mu);
    rc = resize_locked(st, 0);
    pthread_mutex_unlock(&st->txn_mu);
    return rc;
}

/* Doubles the map. txn_mu is held. */
static lr_status grow_locked(lmdb_store *st, lr_error *err)
{
    MDB_envinfo info;
    uint64_t cur, next;
    int rc;

    mdb_env_info(st->env, &info);
    cur = info.me_mapsize;
    if (cur >= st->map_max)
        return lr_error_set(err, LR_ELIMIT,
                            "online store (lmdb): the map is full at its maximum of %llu bytes",
                            (unsigned long long)st->map_max);
    next = cur > st->map_max / 2 ? st->map_max : cur * 2;
    if ((rc = resize_locked(st, (size_t)next)) != 0)
        return lmdb_fail(err, rc, "growing the map");
    lr_log_info("online", "lmdb map grown from %llu to %llu bytes", (unsigned long long)cur,
                (unsigned long long)next);
    return LR_OK;
}

/* ---- write transaction steps ---- */

static int stats_add(lmdb_store *st, MDB_txn *txn, const void *group, size_t glen, int64_t drec,
                     int64_t dbytes)
{
    MDB_val k = {glen, (void *)group}, v;
    uint8_t buf[16];
    uint64_t rec = 0, bytes = 0;
    int rc = mdb_get(txn, st->groups, &k, &v);

    if (rc == 0 && v.mv_size == 16) {
        rec = get_u64le(v.mv_data);
        bytes = get_u64le((const uint8_t *)v.mv_data + 8);
    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    rec = drec < 0 && (uint64_t)-drec > rec ? 0 : rec + (uint64_t)drec;
    bytes = dbytes < 0 && (uint64_t)-dbytes > bytes ? 0 : bytes + (uint64_t)dbytes;
    if (rec == 0) {
        rc = mdb_del(txn, st->groups, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    put_u64le(buf, rec);
    put_u64le(buf + 8, bytes);
    v.mv_size = 16;
    v.mv_data = buf;
    return mdb_put(txn, st->groups, &k, &v, 0);
}

static int expiry_del(lmdb_store *st, MDB_txn *txn, int64_t t, const uint8_t *key, size_t klen)
{
    uint8_t ek[8];
    MDB_val k = {8, ek}, v = {klen, (void *)key};
    int rc;
    exp_key(t, ek);
    rc = mdb_del(txn, st->expiry, &k, &v);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int expiry_put(lmdb_store *st, MDB_txn *txn, int64_t t, const uint8_t *key, size_t klen)
{
    uint8_t ek[8];
    MDB_val k = {8, ek}, v = {klen, (void *)key};
    int rc;
    exp_key(t, ek);
    rc = mdb_put(txn, st->expiry, &k, &v, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

/* What is stored under a key right now. */
typedef struct old_rec {
    bool present;  /* a value is stored (maybe expired) */
    bool readable; /* its header decoded */
    bool live;     /* present, readable, not expired */
    lr__value_header h;
    size_t len;
    const uint8_t *data; /* valid until the next write in the txn */
} old_rec;

static int read_old(lmdb_store *st, MDB_txn *txn, const uint8_t *key, size_t klen, int64_t now,
                    old_rec *o)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, st->records, &k, &v);
    memset(o, 0, sizeof *o);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    o->present = true;
    o->len = v.mv_size;
    o->data = v.mv_data;
    if (lr__value_header_read(o->data, o->len, &o->h, NULL) == LR_OK) {
        o->readable = true;
        o->live = !lr__expired(&o->h, now);
    } else {
        lr_log_warn("online", "lmdb: replacing an undecodable stored value of %zu bytes", o->len);
    }
    return 0;
}

/* Stores value v under key, replacing o, keeping the indexes and stats. */
static int store_value(lmdb_store *st, MDB_txn *txn, const char *group, size_t glen,
                       const uint8_t *key, size_t klen, const old_rec *o, const uint8_t *v,
                       size_t vlen)
{
    MDB_val k = {klen, (void *)key}, val = {vlen, (void *)v};
    lr__value_header nh;
    int64_t old_exp = o->readable ? o->h.expires_at_us : 0;
    size_t old_len = o->len;
    bool present = o->present;
    int rc;

    lr__value_header_read(v, vlen, &nh, NULL); /* encoded by us: always valid */
    if ((rc = mdb_put(txn, st->records, &k, &val, 0)) != 0)
        return rc;
    if (old_exp != 0 && old_exp != nh.expires_at_us &&
        (rc = expiry_del(st, txn, old_exp, key, klen)) != 0)
        return rc;
    if (nh.expires_at_us != 0 && (rc = expiry_put(st, txn, nh.expires_at_us, key, klen)) != 0)
        return rc;
    if (present)
        return stats_add(st, txn, group, glen, 0, (int64_t)vlen - (int64_t)old_len);
    return stats_add(st, txn, group, glen, 1, (int64_t)(klen + vlen));
}

static int remove_record(lmdb_store *st, MDB_txn *txn, const void *group, size_t glen,
                         const uint8_t *key, size_t klen, const old_rec *o)
{
    MDB_val k = {klen, (void *)key};
    int64_t old_exp = o->readable ? o->h.expires_at_us : 0;
    size_t old_len = o->len;
    int rc;

    if ((rc = mdb_del(txn, st->records, &k, NULL)) != 0)
        return rc;
    if (old_exp != 0 && (rc = expiry_del(st, txn, old_exp, key, klen)) != 0)
        return rc;
    return stats_add(st, txn, group, glen, -1, -(int64_t)(klen + old_len));
}

/*
 * Applies one write. Returns an LMDB error that stops the transaction, or 0;
 * the write's own outcome goes into op.
 */
static int apply(lmdb_store *st, MDB_txn *txn, lr__wop *op, int64_t now)
{
    uint8_t key[KEY_MAX];
    size_t klen = make_key(st, op->group, op->group_len, op->id, op->id_len, key);
    old_rec o;
    int rc;

    op->status = LR_OK;
    op->changed = false;
    if ((rc = read_old(st, txn, key, klen, now, &o)) != 0)
        return rc;
    switch (op->kind) {
    case LR_ONLINE_PUT:
        if (o.live && op->event_time_us < o.h.event_time_us)
            return 0; /* older: the online store keeps the newer record */
        break;
    case LR_ONLINE_SOFT_DELETE:
        if (!o.live || op->event_time_us <= o.h.event_time_us)
            return 0;
        break;
    case LR_ONLINE_HARD_DELETE:
        if (!o.live)
            return 0;
        if (op->event_time_us <= o.h.event_time_us) {
            op->status = lr_error_set(op->err, LR_EINVAL,
                                      "HardDelete's EventTime must be newer than the stored "
                                      "record's EventTime");
            return 0;
        }
        if ((rc = remove_record(st, txn, op->group, op->group_len, key, klen, &o)) == 0)
            op->changed = true;
        return rc;
    case LR_ONLINE_UPDATE:
        if (!o.live) {
            op->status = lr_error_set(op->err, LR_ENOTFOUND, "record '%.*s' not found",
                                      (int)(op->id_len > 200 ? 200 : op->id_len), op->id);
            return 0;
        }
        op->status = lr__value_merge_update(o.data, o.len, &op->update, now, &st->scratch, op->err);
        if (op->status != LR_OK)
            return 0;
        if ((rc = store_value(st, txn, op->group, op->group_len, key, klen, &o,
                              (const uint8_t *)st->scratch.data, st->scratch.len)) == 0)
            op->changed = true;
        return rc;
    }
    if ((rc = store_value(st, txn, op->group, op->group_len, key, klen, &o, op->value,
                          op->value_len)) == 0)
        op->changed = true;
    return rc;
}

static int do_sweep(lmdb_store *st, MDB_txn *txn, wreq *r, int64_t now)
{
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t limit = r->max < CHUNK ? r->max : CHUNK, n = 0;
    int rc;

    r->removed = 0;
    r->more = false;
    if ((rc = mdb_cursor_open(txn, st->expiry, &c)) != 0)
        return rc;
    while (n < limit) {
        uint8_t key[KEY_MAX];
        size_t klen;
        old_rec o;
        int64_t t;
        if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) != 0)
            break;
        if (k.mv_size != 8 || v.mv_size > KEY_MAX) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((t = exp_key_get(k.mv_data)) > now)
            break;
        klen = v.mv_size;
        memcpy(key, v.mv_data, klen);
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        if ((rc = read_old(st, txn, key, klen, now, &o)) != 0)
            break;
        /* Only the record this entry was made for: a newer one has its own. */
        if (o.present && o.readable && o.h.expires_at_us == t) {
            const uint8_t *z = memchr(key, 0, klen);
            size_t glen = z ? (size_t)(z - key) : klen;
            MDB_val rk = {klen, key};
            if ((rc = mdb_del(txn, st->records, &rk, NULL)) != 0)
                break;
            if ((rc = stats_add(st, txn, key, glen, -1, -(int64_t)(klen + o.len))) != 0)
                break;
            r->removed++;
        }
        n++;
    }
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    r->more = rc == 0 && n == limit && limit < r->max;
    return rc;
}

static int do_drop(lmdb_store *st, MDB_txn *txn, wreq *r, int64_t now)
{
    MDB_cursor *c;
    MDB_val k, v;
    size_t glen = strlen(r->group);
    uint8_t prefix[LR_FG_NAME_MAX + 1];
    int n = 0, rc;

    r->more = false;
    memcpy(prefix, r->group, glen);
    prefix[glen] = 0;
    if ((rc = mdb_cursor_open(txn, st->records, &c)) != 0)
        return rc;
    for (;;) {
        lr__value_header h;
        k.mv_size = glen + 1;
        k.mv_data = prefix;
        if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        if (k.mv_size < glen + 1 || memcmp(k.mv_data, prefix, glen + 1) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        if (n == CHUNK) {
            r->more = true;
            break;
        }
        if (lr__value_header_read(v.mv_data, v.mv_size, &h, NULL) == LR_OK &&
            h.expires_at_us != 0 &&
            (rc = expiry_del(st, txn, h.expires_at_us, k.mv_data, k.mv_size)) != 0)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        n++;
    }
    mdb_cursor_close(c);
    (void)now;
    if (rc == MDB_NOTFOUND) {
        MDB_val gk = {glen, prefix};
        rc = r->more ? 0 : mdb_del(txn, st->groups, &gk, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

/* Marks every entry of the requests failed with the same error. */
static void fail_reqs(wreq **reqs, size_t n, lr_status s, const lr_error *e)
{
    for (size_t i = 0; i < n; i++) {
        reqs[i]->status = s;
        reqs[i]->err = *e;
        for (size_t j = 0; j < reqs[i]->n; j++) {
            reqs[i]->ops[j].status = s;
            *reqs[i]->ops[j].err = *e;
        }
    }
}

/* Runs requests in one write transaction, growing the map as needed. */
static void run_txn(lmdb_store *st, wreq **reqs, size_t n)
{
    lr_error e;
    int rc;

    pthread_mutex_lock(&st->txn_mu);
    for (;;) {
        MDB_txn *txn;
        int64_t now = lr__now(&st->oenv);
        if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) == MDB_MAP_RESIZED) {
            if ((rc = resize_locked(st, 0)) == 0)
                continue;
        }
        if (rc != 0)
            break;
        for (size_t i = 0; i < n && rc == 0; i++) {
            wreq *r = reqs[i];
            r->status = LR_OK;
            if (r->kind == REQ_SWEEP)
                rc = do_sweep(st, txn, r, now);
            else if (r->kind == REQ_DROP)
                rc = do_drop(st, txn, r, now);
            for (size_t j = 0; j < r->n && rc == 0; j++)
                rc = apply(st, txn, &r->ops[j], now);
        }
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL) {
            lr_status gs = grow_locked(st, &e);
            if (gs == LR_OK)
                continue;
            pthread_mutex_unlock(&st->txn_mu);
            fail_reqs(reqs, n, gs, &e);
            return;
        }
        break;
    }
    pthread_mutex_unlock(&st->txn_mu);
    if (rc == MDB_TXN_FULL && n > 1) {
        /* Too many dirty pages for one transaction: commit halves. */
        run_txn(st, reqs, n / 2);
        run_txn(st, reqs + n / 2, n - n / 2);
        return;
    }
    if (rc != 0) {
        lmdb_fail(&e, rc, "write transaction");
        fail_reqs(reqs, n, e.code, &e);
    }
}

static void *writer_main(void *arg)
{
    lmdb_store *st = arg;
    pthread_mutex_lock(&st->q_mu);
    for (;;) {
        size_t nreq = 0, nops = 0;
        while (st->q_head == NULL && !st->stopping)
            pthread_cond_wait(&st->q_cv, &st->q_mu);
        if (st->q_head == NULL)
            break;
        /* Take queued requests up to the group-commit size (at least one). */
        while (st->q_head && (nreq == 0 || nops + st->q_head->n <= st->batch_max) &&
               nreq < st->batch_max) {
            wreq *r = st->q_head;
            st->q_head = r->next;
            st->batch[nreq++] = r;
            nops += r->n ? r->n : 1;
        }
        if (st->q_head == NULL)
            st->q_tail = NULL;
        pthread_mutex_unlock(&st->q_mu);
        run_txn(st, st->batch, nreq);
        /* Idle readers drop their now-old snapshots before anyone hears of
         * the commit (so LMDB can reuse the pages it freed). */
        release_idle_readers(st);
        pthread_mutex_lock(&st->q_mu);
        for (size_t i = 0; i < nreq; i++)
            st->batch[i]->done = true;
        pthread_cond_broadcast(&st->done_cv);
    }
    pthread_mutex_unlock(&st->q_mu);
    return NULL;
}

/* Queues a request and waits until the writer has committed it. */
static lr_status submit(lmdb_store *st, wreq *r, lr_error *err)
{
    r->done = false;
    r->next = NULL;
    r->status = LR_OK;
    pthread_mutex_lock(&st->q_mu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->q_mu);
        return lr_error_set(err, LR_EUNAVAILABLE, "online store (lmdb): closing");
    }
    if (st->q_tail)
        st->q_tail->next = r;
    else
        st->q_head = r;
    st->q_tail = r;
    pthread_cond_signal(&st->q_cv);
    while (!r->done)
        pthread_cond_wait(&st->done_cv, &st->q_mu);
    pthread_mutex_unlock(&st->q_mu);
    if (r->status != LR_OK && err)
        *err = r->err;
    return r->status;
}

/* ---- backend operations ---- */

static lr_status l_write(void *ctx, lr__wop *ops, size_t n, lr_error *err)
{
    wreq r;
    memset(&r, 0, sizeof r);
    r.kind = REQ_WRITE;
    r.ops = ops;
    r.n = n;
    return submit(ctx, &r, err);
}

static lr_status l_sweep(void *ctx, uint64_t max, uint64_t *removed, lr_error *err)
{
    lmdb_store *st = ctx;
    lr_status s;
    wreq r;
    *removed = 0;
    do {
        memset(&r, 0, sizeof r);
        r.kind = REQ_SWEEP;
        r.max = max - *removed;
        if ((s = submit(st, &r, err)) != LR_OK)
            return s;
        *removed += r.removed;
    } while (r.more && *removed < max);
    return LR_OK;
}

static lr_status l_drop(void *ctx, const char *group, lr_error *err)
{
    lr_status s;
    wreq r;
    do {
        memset(&r, 0, sizeof r);
        r.kind = REQ_DROP;
        r.group = group;
        if ((s = submit(ctx, &r, err)) != LR_OK)
            return s;
    } while (r.more);
    return LR_OK;
}

static lr_status l_reader_open(void *ctx, void **rctx, lr_error *err)
{
    lmdb_store *st = ctx;
    lmdb_reader *r;
    int rc;

    r = aligned_alloc(64, (sizeof *r + 63) / 64 * 64);
    if (r == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store (lmdb): out of memory");
    memset(r, 0, sizeof *r);
    atomic_init(&r->state, RS_IDLE_RESET);
    r->st = st;
    for (;;) {
        tmp_enter(st);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &r->txn);
        if (rc == 0)
            mdb_txn_reset(r->txn);
        tmp_leave(st);
        if (rc != MDB_MAP_RESIZED)
            break;
        if ((rc = adopt_resize(st)) != 0)
            break;
    }
    if (rc != 0) {
        free(r);
        return lmdb_fail(err, rc, "opening a reader");
    }
    pthread_mutex_lock(&st->reg_mu);
    r->next = st->readers;
    if (st->readers)
        st->readers->prev = r;
    st->readers = r;
    pthread_mutex_unlock(&st->reg_mu);
    *rctx = r;
    return LR_OK;
}

static void l_reader_close(void *rctx)
{
    lmdb_reader *r = rctx;
    lmdb_store *st;
    if (r == NULL)
        return;
    st = r->st;
    pthread_mutex_lock(&st->reg_mu);
    if (r->prev)
        r->prev->next = r->next;
    else
        st->readers = r->next;
    if (r->next)
        r->next->prev = r->prev;
    pthread_mutex_unlock(&st->reg_mu);
    mdb_txn_abort(r->txn);
    free(r);
}

static lr_status l_get(void *rctx, lr__rowbuf *rb, const lr__rkey *keys, size_t n,
                       lr_online_row *rows, lr_error *err)
{
    lmdb_reader *r = rctx;
    lmdb_store *st = r->st;
    lr_status s = LR_OK;
    int rc;

    for (;;) {
        if (reader_enter(r)) {
            /* Open on a snapshot: still the latest commit (of any process)? */
            MDB_envinfo info;
            mdb_env_info(st->env, &info);
            if (info.me_last_txnid == mdb_txn_id(r->txn))
                break;
            mdb_txn_reset(r->txn);
        }
        if ((rc = mdb_txn_renew(r->txn)) == 0)
            break;
        reader_leave(r, false);
        if (rc != MDB_MAP_RESIZED || (rc = adopt_resize(st)) != 0)
            return lmdb_fail(err, rc, "starting a read");
    }
    for (size_t i = 0; i < n && s == LR_OK; i++) {
        const lr__rkey *k = &keys[i];
        MDB_val mk, mv;
        mk.mv_size = make_key(st, k->group, k->group_len, k->id, k->id_len, r->key);
        mk.mv_data = r->key;
        rc = mdb_get(r->txn, st->records, &mk, &mv);
        if (rc == 0)
            s = lr__rowbuf_add(rb, (uint32_t)i, mv.mv_data, mv.mv_size, k->proj, k->nproj,
                               &st->oenv, &rows[i], err);
        else if (rc == MDB_NOTFOUND)
            s = lr__rowbuf_miss(rb, (uint32_t)i, &rows[i], err);
        else
            s = lmdb_fail(err, rc, "get");
    }
    reader_leave(r, true);
    return s;
}

/* Begins a transient read transaction (list, stats); tmp_leave() after abort. */
static int tmp_begin(lmdb_store *st, MDB_txn **txn)
{
    int rc;
    for (;;) {
        tmp_enter(st);
        if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn)) == 0)
            return 0;
        tmp_leave(st);
        if (rc != MDB_MAP_RESIZED || (rc = adopt_resize(st)) != 0)
            return rc;
    }
}

static lr_status l_list(void *ctx, const lr__list_req *q, lr_online_id_page *page, bool *more,
                        uint8_t **last, size_t *last_len, lr_error *err)
{
    lmdb_store *st = ctx;
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t seek[KEY_MAX + 1], lastkey[KEY_MAX];
    size_t plen = q->group_len + 1, lastlen = 0, scanned = 0;
    int64_t now = lr__now(&st->oenv);
    lr_status s = LR_OK;
    int rc;

    *more = false;
    if (q->after_len > st->maxkey - plen)
        return lr_error_set(err, LR_EINVAL, "Invalid pagination token");
    page->ids = lr_arena_alloc(page->arena, q->max_results * sizeof *page->ids);
    if (page->ids == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store: out of memory");
    memcpy(seek, q->group, q->group_len);
    seek[q->group_len] = 0;
    if (q->after_len)
        memcpy(seek + plen, q->after, q->after_len);
    if ((rc = tmp_begin(st, &txn)) != 0)
        return lmdb_fail(err, rc, "starting a read");
    if ((rc = mdb_cursor_open(txn, st->records, &c)) != 0)
        goto done;
    k.mv_size = plen + q->after_len;
    k.mv_data = seek;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && q->after_len && k.mv_size == plen + q->after_len &&
        memcmp(k.mv_data, seek, k.mv_size) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        lr__value_header h;
        lr_str id;
        if (k.mv_size < plen || memcmp(k.mv_data, seek, plen) != 0)
            break;
        if (page->n == q->max_results || scanned == LIST_SCAN_MAX) {
            *more = true;
            break;
        }
        scanned++;
        lastlen = k.mv_size - plen;
        memcpy(lastkey, (const uint8_t *)k.mv_data + plen, lastlen);
        if ((s = lr__value_header_read(v.mv_data, v.mv_size, &h, err)) != LR_OK)
            goto done;
        if (lr__expired(&h, now) || ((h.flags & LR__FLAG_DELETED) && !q->include_deleted))
            continue;
        if (k.mv_size < st->maxkey) {
            id.ptr = (const char *)k.mv_data + plen;
            id.len = k.mv_size - plen;
        } else {
            bool found;
            if ((s = lr__value_find_scalar(v.mv_data, v.mv_size, q->id_feature, &id, &found,
                                           err)) != LR_OK)
                goto done;
            if (!found) {
                s = lr_error_set(err, LR_ECORRUPT,
                                 "online store (lmdb): a record has no identifier feature");
                goto done;
            }
        }
        {
            char *copy = lr_arena_strndup(page->arena, id.ptr, id.len);
            if (copy == NULL) {
                s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
                goto done;
            }
            page->ids[page->n].ptr = copy;
            page->ids[page->n].len = id.len;
            page->n++;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && *more) {
        if ((*last = lr_arena_alloc(page->arena, lastlen ? lastlen : 1)) == NULL) {
            s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            goto done;
        }
        memcpy(*last, lastkey, lastlen);
        *last_len = lastlen;
    }
done:
    if (c)
        mdb_cursor_close(c);
    mdb_txn_abort(txn);
    tmp_leave(st);
    if (s == LR_OK && rc != 0)
        s = lmdb_fail(err, rc, "list");
    return s;
}

static lr_status l_stats(void *ctx, const char *group, lr_online_stats *out, lr_error *err)
{
    lmdb_store *st = ctx;
    MDB_txn *txn;
    MDB_val k = {strlen(group), (void *)group}, v;
    int rc;

    if ((rc = tmp_begin(st, &txn)) != 0)
        return lmdb_fail(err, rc, "starting a read");
    rc = mdb_get(txn, st->groups, &k, &v);
    if (rc == 0 && v.mv_size == 16) {
        out->records = get_u64le(v.mv_data);
        out->bytes = get_u64le((const uint8_t *)v.mv_data + 8);
    }
    mdb_txn_abort(txn);
    tmp_leave(st);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return lmdb_fail(err, rc, "stats");
    return LR_OK;
}

static void l_close(void *ctx)
{
    lmdb_store *st = ctx;
    if (st == NULL)
        return;
    if (st->writer_started) {
        pthread_mutex_lock(&st->q_mu);
        st->stopping = true;
        pthread_cond_broadcast(&st->q_cv);
        pthread_mutex_unlock(&st->q_mu);
        pthread_join(st->writer, NULL);
    }
    if (st->env)
        mdb_env_close(st->env);
    lr_buf_free(&st->scratch);
    free(st->batch);
    pthread_mutex_destroy(&st->q_mu);
    pthread_cond_destroy(&st->q_cv);
    pthread_cond_destroy(&st->done_cv);
    pthread_mutex_destroy(&st->txn_mu);
    pthread_mutex_destroy(&st->gate_mu);
    pthread_cond_destroy(&st->gate_cv);
    pthread_mutex_destroy(&st->reg_mu);
    free(st);
}

static const lr__ops lmdb_ops = {
    .name = "lmdb",
    .close = l_close,
    .write = l_write,
    .reader_open = l_reader_open,
    .reader_close = l_reader_close,
    .get = l_get,
    .list = l_list,
    .drop = l_drop,
    .stats = l_stats,
    .sweep = l_sweep,
};

/* Opens the sub-databases and checks (or writes) the format version. */
static lr_status open_dbs(lmdb_store *st, lr_error *err)
{
    MDB_txn *txn;
    MDB_val k = {6, "format"}, v;
    int rc;

    for (;;) {
        rc = mdb_txn_begin(st->env, NULL, 0, &txn);
        if (rc != MDB_MAP_RESIZED)
            break;
        if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
            break;
    }
    if (rc != 0)
        return lmdb_fail(err, rc, "opening");
    /* Records live in the main database: a named one would cost every read
     * transaction an extra lookup of its root (LMDB marks named databases
     * stale at each renew). Record keys always hold a NUL, the names of the
     * sub-databases below never do, so they cannot collide. */
    if ((rc = mdb_dbi_open(txn, NULL, 0, &st->records)) != 0 ||
        (rc = mdb_dbi_open(txn, "expiry", MDB_CREATE | MDB_DUPSORT, &st->expiry)) != 0 ||
        (rc = mdb_dbi_open(txn, "groups", MDB_CREATE, &st->groups)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0)
        goto fail;
    rc = mdb_get(txn, st->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        v.mv_size = strlen(FORMAT_VERSION);
        v.mv_data = FORMAT_VERSION;
        if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
            goto fail;
    } else if (rc != 0) {
        goto fail;
    } else if (v.mv_size != strlen(FORMAT_VERSION) ||
               memcmp(v.mv_data, FORMAT_VERSION, v.mv_size) != 0) {
        int len = v.mv_size > 16 ? 16 : (int)v.mv_size;
        lr_error_set(err, LR_EUNSUPPORTED,
                     "online store (lmdb): format '%.*s' is not the format %s this build reads",
                     len, (const char *)v.mv_data, FORMAT_VERSION);
        mdb_txn_abort(txn);
        return LR_EUNSUPPORTED;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return lmdb_fail(err, rc, "opening");
    return LR_OK;
fail:
    mdb_txn_abort(txn);
    return lmdb_fail(err, rc, "opening sub-databases");
}

lr_status lr__lmdb_open(const char *dir, const lr__online_env *env, const lr__ops **ops, void **ctx,
                        lr_error *err)
{
    lmdb_store *st;
    const lr_online_options *o = &env->opts;
    unsigned flags = MDB_NOTLS;
    uint64_t map = o->lmdb_map_size ? o->lmdb_map_size : DEFAULT_MAP;
    lr_status s;
    int rc, dead = 0;

    st = aligned_alloc(64, (sizeof *st + 63) / 64 * 64);
    if (st == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store (lmdb): out of memory");
    memset(st, 0, sizeof *st);
    st->oenv = *env;
    st->map_max = o->lmdb_map_size_max ? o->lmdb_map_size_max : DEFAULT_MAP_MAX;
    if (st->map_max < map)
        st->map_max = map;
    st->batch_max = o->group_commit_max ? o->group_commit_max : 4096;
    atomic_init(&st->resizing, 0);
    atomic_init(&st->tmp_active, 0);
    pthread_mutex_init(&st->q_mu, NULL);
    pthread_cond_init(&st->q_cv, NULL);
    pthread_cond_init(&st->done_cv, NULL);
    pthread_mutex_init(&st->txn_mu, NULL);
    pthread_mutex_init(&st->gate_mu, NULL);
    pthread_cond_init(&st->gate_cv, NULL);
    pthread_mutex_init(&st->reg_mu, NULL);
    lr_buf_init(&st->scratch, LR_ONLINE_VALUE_MAX);
    if ((st->batch = malloc(st->batch_max * sizeof *st->batch)) == NULL) {
        s = lr_error_set(err, LR_ENOMEM, "online store (lmdb): out of memory");
        goto fail;
    }

    if (o->durability == LR_ONLINE_NOMETASYNC)
        flags |= MDB_NOMETASYNC;
    else if (o->durability == LR_ONLINE_NOSYNC)
        flags |= MDB_NOSYNC;
    if ((rc = mdb_env_create(&st->env)) != 0 ||
        (rc = mdb_env_set_maxreaders(st->env, o->lmdb_max_readers ? o->lmdb_max_readers : 1022)) !=
            0 ||
        (rc = mdb_env_set_maxdbs(st->env, 4)) != 0 ||
        (rc = mdb_env_set_mapsize(st->env, (size_t)map)) != 0) {
        s = lmdb_fail(err, rc, "creating the environment");
        goto fail;
    }
    if ((rc = mdb_env_open(st->env, dir, flags, 0644)) != 0) {
        s = lr_error_set(err, map_rc(rc), "online store (lmdb): cannot open %s: %s", dir,
                         mdb_strerror(rc));
        goto fail;
    }
    /* Reader slots left by crashed processes. */
    mdb_reader_check(st->env, &dead);
    if (dead)
        lr_log_info("online", "lmdb: cleared %d stale reader slots", dead);
    st->maxkey = (size_t)mdb_env_get_maxkeysize(st->env);
    if (st->maxkey > KEY_MAX)
        st->maxkey = KEY_MAX;
    if (st->maxkey < LR_FG_NAME_MAX + 1 + HASH_LEN + 64) {
        s = lr_error_set(err, LR_EUNSUPPORTED,
                         "online store (lmdb): keys of %zu bytes are too short", st->maxkey);
        goto fail;
    }
    if ((s = open_dbs(st, err)) != LR_OK)
        goto fail;
    if ((rc = pthread_create(&st->writer, NULL, writer_main, st)) != 0) {
        s = lr_error_set(err, LR_ENOMEM, "online store (lmdb): cannot start the writer: %s",
                         strerror(rc));
        goto fail;
    }
    st->writer_started = true;
    *ops = &lmdb_ops;
    *ctx = st;
    return LR_OK;
fail:
    l_close(st);
    return s;
}
