/*
 * online_redis.c - the online store on Redis (the shared backend), through
 * hiredis.
 *
 * Layout (docs/online-store.md), for group G (names are [a-zA-Z0-9_-], and
 * the braces are a hash tag so one group's keys share a cluster slot):
 *   lr:{G}:r:<id>   the stored value (online_codec.c), PEXPIREAT when it has
 *                   a TTL
 *   lr:{G}:ids      sorted set of every stored id, all scores 0, paged with
 *                   ZRANGEBYLEX for ListRecords
 *   lr:{G}:exp      sorted set id -> expires-at in ms, so records that Redis
 *                   expired can be taken out of :ids and the counters
 *   lr:{G}:ttl      hash id -> counted bytes, for records with a TTL
 *   lr:{G}:meta     hash {records, bytes}: the group's statistics
 *   lr:groups       set of groups that have had records (for the sweeper)
 *
 * Every write that depends on the stored record is one Lua script run
 * (EVALSHA of a script loaded once, reloaded on NOSCRIPT), so the event-time
 * rule is decided atomically on the server. The script compares the 8-byte
 * big-endian event times of the stored and the new value byte by byte (the
 * codec stores them sign-flipped, so byte order is numeric order; Lua's
 * doubles could not hold microseconds exactly). It also gets the caller's
 * clock so that "expired counts as absent" follows the same clock as LMDB.
 * UpdateRecord merges on the client and writes back with a compare-and-set
 * (the script checks the SHA-1 of the value it was computed from).
 *
 * Connections: a reader owns one; writes and maintenance take one from a
 * pool, so every thread works on its own connection. A connection that
 * fails (reset, timeout, server restart) is dropped and reconnected (AUTH
 * and SELECT again), and the command retried once: every command here is
 * idempotent in effect (reads, and conditional writes that give the same
 * state when applied twice).
 */
#include "online/online_internal.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_SCAN_MAX 10000
#define REAP_LIMIT    1000
#define CAS_ATTEMPTS  32

static const char WRITE_SCRIPT[] =
    "-- larder online store, format 1: conditional writes (docs/online-store.md)\n"
    "local rec, ids, exp, meta, ttl = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
    "local mode, id, new, expms = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
    "local NOTTL = '\\128\\0\\0\\0\\0\\0\\0\\0'\n"
    "local function cmp8(a, ai, b, bi)\n"
    "  for i = 0, 7 do\n"
    "    local x, y = string.byte(a, ai + i), string.byte(b, bi + i)\n"
    "    if x ~= y then if x > y then return 1 end return -1 end\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "local old = redis.call('GET', rec)\n"
    "if not old then\n"
    "  local sz = redis.call('HGET', ttl, id)\n"
    "  if sz then\n"
    "    redis.call('HDEL', ttl, id)\n"
    "    redis.call('ZREM', exp, id)\n"
    "    redis.call('ZREM', ids, id)\n"
    "    redis.call('HINCRBY', meta, 'records', -1)\n"
    "    redis.call('HINCRBY', meta, 'bytes', -tonumber(sz))\n"
    "  end\n"
    "end\n"
    "local live = false\n"
    "if old then\n"
    "  if #old < 19 or string.byte(old, 1) ~= 1 then\n"
    "    return redis.error_reply('ERR larder: stored value is not in format 1')\n"
    "  end\n"
    "  live = string.sub(old, 11, 18) == NOTTL or cmp8(old, 11, ARGV[7], 1) > 0\n"
    "end\n"
    "if mode == 'c' then\n"
    "  if not old or redis.sha1hex(old) ~= ARGV[6] then return -2 end\n"
    "elseif live then\n"
    "  local c = cmp8(new, 3, old, 3)\n"
    "  if mode == 'p' then\n"
    "    if c < 0 then return 0 end\n"
    "  elseif c <= 0 then\n"
    "    if mode == 'h' then return -1 end\n"
    "    return 0\n"
    "  end\n"
    "elseif mode ~= 'p' then\n"
    "  return 0\n"
    "end\n"
    "local klen = #rec\n"
    "if mode == 'h' then\n"
    "  redis.call('DEL', rec)\n"
    "  redis.call('ZREM', ids, id)\n"
    "  redis.call('ZREM', exp, id)\n"
    "  redis.call('HDEL', ttl, id)\n"
    "  redis.call('HINCRBY', meta, 'records', -1)\n"
    "  redis.call('HINCRBY', meta, 'bytes', -(klen + #old))\n"
    "  return 1\n"
    "end\n"
    "redis.call('SET', rec, new)\n"
    "if expms ~= '0' then\n"
    "  redis.call('PEXPIREAT', rec, expms)\n"
    "  redis.call('ZADD', exp, expms, id)\n"
    "  redis.call('HSET', ttl, id, klen + #new)\n"
    "elseif old then\n"
    "  redis.call('ZREM', exp, id)\n"
    "  redis.call('HDEL', ttl, id)\n"
    "end\n"
    "if old then\n"
    "  redis.call('HINCRBY', meta, 'bytes', #new - #old)\n"
    "else\n"
    "  redis.call('ZADD', ids, 0, id)\n"
    "  redis.call('HINCRBY', meta, 'records', 1)\n"
    "  redis.call('HINCRBY', meta, 'bytes', klen + #new)\n"
    "  redis.call('SADD', KEYS[6], ARGV[5])\n"
    "end\n"
    "return 1\n";

static const char REAP_SCRIPT[] =
    "-- larder online store: account for records that Redis expired\n"
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local c = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, ARGV[2])\n"
    "local removed = 0\n"
    "for _, id in ipairs(c) do\n"
    "  if redis.call('EXISTS', ARGV[1] .. id) == 0 then\n"
    "    local sz = redis.call('HGET', KEYS[4], id)\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    redis.call('ZREM', KEYS[2], id)\n"
    "    redis.call('HDEL', KEYS[4], id)\n"
    "    redis.call('HINCRBY', KEYS[3], 'records', -1)\n"
    "    if sz then redis.call('HINCRBY', KEYS[3], 'bytes', -tonumber(sz)) end\n"
    "    removed = removed + 1\n"
    "  end\n"
    "end\n"
    "return {removed, #c}\n";

typedef struct rconn {
    redisContext *c;
    struct rconn *next;
} rconn;

typedef struct redis_store {
    lr__online_env oenv;
    char host[256];
    int port;
    char *user; /* NULL: none */
    char *pass; /* NULL: no AUTH */
    long db;
    struct timeval tv;
    char wsha[41], rsha[41];
    pthread_mutex_t pool_mu;
    rconn *pool;
} redis_store;

typedef struct redis_reader {
    redis_store *st;
    rconn conn;
    lr_buf keys;
    size_t *koff;
    size_t kcap;
    redisReply **replies;
    /* the pipeline's argument vectors, kcap commands of 2 arguments */
    const char **argvs;
    const char *const **argv;
    size_t *lens;
    const size_t **lensp;
    int *argc;
} redis_reader;

/* ---- connections ---- */

static void conn_drop(rconn *cn)
{
    if (cn->c)
        redisFree(cn->c);
    cn->c = NULL;
}

static lr_status reply_error(const redisReply *r, const char *what, lr_error *err)
{
    lr_status s = LR_EBACKEND;
    if (strncmp(r->str, "WRONGPASS", 9) == 0 || strncmp(r->str, "NOAUTH", 6) == 0 ||
        strncmp(r->str, "NOPERM", 6) == 0 || strstr(r->str, "invalid password") ||
        strstr(r->str, "invalid username"))
        s = LR_EACCESS;
    else if (strstr(r->str, "larder:"))
        s = LR_ECORRUPT;
    return lr_error_set(err, s, "online store (redis): %s: %.*s", what,
                        (int)(r->len > 300 ? 300 : r->len), r->str);
}

static lr_status conn_open(redis_store *st, rconn *cn, lr_error *err)
{
    redisReply *r;
    lr_status s;

    cn->c = redisConnectWithTimeout(st->host, st->port, st->tv);
    if (cn->c == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    if (cn->c->err) {
        s = lr_error_set(err, LR_EUNAVAILABLE, "online store (redis): cannot connect to %s:%d: %s",
                         st->host, st->port, cn->c->errstr);
        conn_drop(cn);
        return s;
    }
    redisSetTimeout(cn->c, st->tv);
    redisEnableKeepAlive(cn->c);
    if (st->pass) {
        if (st->user)
            r = redisCommand(cn->c, "AUTH %s %s", st->user, st->pass);
        else
            r = redisCommand(cn->c, "AUTH %s", st->pass);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            /* Any refusal of AUTH is a credentials problem. */
            if (r)
                s = lr_error_set(err, LR_EACCESS, "online store (redis): AUTH: %.*s",
                                 (int)(r->len > 300 ? 300 : r->len), r->str);
            else
                s = lr_error_set(err, LR_EUNAVAILABLE, "online store (redis): AUTH: %s",
                                 cn->c->errstr);
            freeReplyObject(r);
            conn_drop(cn);
            return s;
        }
        freeReplyObject(r);
    }
    if (st->db != 0) {
        r = redisCommand(cn->c, "SELECT %ld", st->db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            s = r ? reply_error(r, "SELECT", err)
                  : lr_error_set(err, LR_EUNAVAILABLE, "online store (redis): SELECT: %s",
                                 cn->c->errstr);
            freeReplyObject(r);
            conn_drop(cn);
            return s;
        }
        freeReplyObject(r);
    }
    return LR_OK;
}

static lr_status pool_get(redis_store *st, rconn **out, lr_error *err)
{
    rconn *cn;
    lr_status s;

    pthread_mutex_lock(&st->pool_mu);
    cn = st->pool;
    if (cn)
        st->pool = cn->next;
    pthread_mutex_unlock(&st->pool_mu);
    if (cn == NULL) {
        if ((cn = calloc(1, sizeof *cn)) == NULL)
            return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
        if ((s = conn_open(st, cn, err)) != LR_OK) {
            free(cn);
            return s;
        }
    }
    *out = cn;
    return LR_OK;
}

static void pool_put(redis_store *st, rconn *cn)
{
    if (cn == NULL)
        return;
    pthread_mutex_lock(&st->pool_mu);
    cn->next = st->pool;
    st->pool = cn;
    pthread_mutex_unlock(&st->pool_mu);
}

/*
 * Sends n commands in one pipeline and reads their replies into out[0..n).
 * A connection failure drops the connection; the pipeline is sent again
 * once on a new one.
 */
static lr_status rpipe(redis_store *st, rconn *cn, size_t n, const int *argc,
                       const char *const *const *argv, const size_t *const *lens, redisReply **out,
                       lr_error *err)
{
    char why[128] = "";
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t got = 0;
        lr_status s;
        if (cn->c == NULL && (s = conn_open(st, cn, err)) != LR_OK)
            return s;
        for (size_t i = 0; i < n; i++) {
            if (redisAppendCommandArgv(cn->c, argc[i], (const char **)argv[i], lens[i]) != REDIS_OK)
                return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
        }
        for (; got < n; got++) {
            void *r = NULL;
            if (redisGetReply(cn->c, &r) != REDIS_OK || r == NULL)
                break;
            out[got] = r;
        }
        if (got == n)
            return LR_OK;
        for (size_t i = 0; i < got; i++)
            freeReplyObject(out[i]);
        snprintf(why, sizeof why, "%s", cn->c->errstr);
        conn_drop(cn);
    }
    return lr_error_set(err, LR_EUNAVAILABLE, "online store (redis) %s:%d: %s", st->host, st->port,
                        why);
}

static lr_status rcmd(redis_store *st, rconn *cn, int argc, const char **argv, const size_t *lens,
                      redisReply **out, lr_error *err)
{
    const char *const *av = argv;
    return rpipe(st, cn, 1, &argc, &av, &lens, out, err);
}

/* EVALSHA, loading the script when the server does not have it. */
static lr_status evalsha(redis_store *st, rconn *cn, const char *sha, const char *script, int argc,
                         const char **argv, size_t *lens, redisReply **out, lr_error *err)
{
    lr_status s;
    for (int attempt = 0; attempt < 2; attempt++) {
        redisReply *r;
        argv[0] = "EVALSHA";
        lens[0] = 7;
        argv[1] = sha;
        lens[1] = 40;
        if ((s = rcmd(st, cn, argc, argv, lens, &r, err)) != LR_OK)
            return s;
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && attempt == 0) {
            const char *la[3] = {"SCRIPT", "LOAD", script};
            size_t ll[3] = {6, 4, strlen(script)};
            freeReplyObject(r);
            if ((s = rcmd(st, cn, 3, la, ll, &r, err)) != LR_OK)
                return s;
            if (r->type == REDIS_REPLY_ERROR) {
                s = reply_error(r, "SCRIPT LOAD", err);
                freeReplyObject(r);
                return s;
            }
            freeReplyObject(r);
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            s = reply_error(r, "script", err);
            freeReplyObject(r);
            return s;
        }
        *out = r;
        return LR_OK;
    }
    return lr_error_set(err, LR_EBACKEND, "online store (redis): the script does not load");
}

/* ---- keys ---- */

typedef struct gkeys {
    char rec_prefix[96]; /* lr:{G}:r: */
    char ids[96], exp[96], meta[96], ttl[96];
    size_t rp_len;
} gkeys;

static void group_keys(const char *group, size_t glen, gkeys *k)
{
    int g = (int)glen;
    k->rp_len = (size_t)snprintf(k->rec_prefix, sizeof k->rec_prefix, "lr:{%.*s}:r:", g, group);
    snprintf(k->ids, sizeof k->ids, "lr:{%.*s}:ids", g, group);
    snprintf(k->exp, sizeof k->exp, "lr:{%.*s}:exp", g, group);
    snprintf(k->meta, sizeof k->meta, "lr:{%.*s}:meta", g, group);
    snprintf(k->ttl, sizeof k->ttl, "lr:{%.*s}:ttl", g, group);
}

static lr_status record_key(const gkeys *gk, const char *id, size_t idlen, lr_buf *out)
{
    lr_buf_clear(out);
    if (lr_buf_append(out, gk->rec_prefix, gk->rp_len) != LR_OK ||
        lr_buf_append(out, id, idlen) != LR_OK)
        return LR_ENOMEM;
    return LR_OK;
}

static uint64_t expires_ms(int64_t us)
{
    int64_t ms;
    if (us <= 0)
        return 1;
    ms = us / 1000 + (us % 1000 != 0);
    return (uint64_t)ms;
}

static void time8(int64_t t, char out[8])
{
    uint64_t u = (uint64_t)t ^ 0x8000000000000000ull;
    for (int i = 7; i >= 0; i--) {
        out[i] = (char)(uint8_t)u;
        u >>= 8;
    }
}

/* ---- writes ---- */

static lr_status run_script_write(redis_store *st, rconn *cn, const gkeys *gk, const lr_buf *rk,
                                  const lr__wop *op, char mode, const uint8_t *value, size_t vlen,
                                  const char *cas_sha, long long *result, lr_error *err)
{
    const char *argv[16];
    size_t lens[16];
    char expbuf[24], now8[8], m = mode;
    lr__value_header h;
    redisReply *r;
    lr_status s;

    if (lr__value_header_read(value, vlen, &h, err) != LR_OK)
        return LR_EINTERNAL;
    if (h.expires_at_us != 0)
        snprintf(expbuf, sizeof expbuf, "%llu", (unsigned long long)expires_ms(h.expires_at_us));
    else
        strcpy(expbuf, "0");
    time8(lr__now(&st->oenv), now8);
    argv[2] = "6";
    lens[2] = 1;
    argv[3] = rk->data;
    lens[3] = rk->len;
    argv[4] = gk->ids;
    lens[4] = strlen(gk->ids);
    argv[5] = gk->exp;
    lens[5] = strlen(gk->exp);
    argv[6] = gk->meta;
    lens[6] = strlen(gk->meta);
    argv[7] = gk->ttl;
    lens[7] = strlen(gk->ttl);
    argv[8] = "lr:groups";
    lens[8] = 9;
    argv[9] = &m;
    lens[9] = 1;
    argv[10] = op->id;
    lens[10] = op->id_len;
    argv[11] = (const char *)value;
    lens[11] = vlen;
    argv[12] = expbuf;
    lens[12] = strlen(expbuf);
    argv[13] = op->group;
    lens[13] = op->group_len;
    argv[14] = cas_sha ? cas_sha : "";
    lens[14] = cas_sha ? 40 : 0;
    /* ARGV[7]: the caller's clock, in the stored form. */
    argv[15] = now8;
    lens[15] = 8;
    if ((s = evalsha(st, cn, st->wsha, WRITE_SCRIPT, 16, argv, lens, &r, err)) != LR_OK)
        return s;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected script reply");
    }
    *result = r->integer;
    freeReplyObject(r);
    return LR_OK;
}

static lr_status write_update(redis_store *st, rconn *cn, const gkeys *gk, const lr_buf *rk,
                              lr__wop *op, lr_buf *merged, lr_error *err)
{
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const char *argv[2] = {"GET", rk->data};
        size_t lens[2] = {3, rk->len};
        unsigned char dig[SHA_DIGEST_LENGTH];
        char hex[41];
        redisReply *r;
        long long res;
        lr_status s;

        if ((s = rcmd(st, cn, 2, argv, lens, &r, err)) != LR_OK)
            return s;
        if (r->type == REDIS_REPLY_NIL) {
            freeReplyObject(r);
            op->status = lr_error_set(op->err, LR_ENOTFOUND, "record '%.*s' not found",
                                      (int)(op->id_len > 200 ? 200 : op->id_len), op->id);
            return LR_OK;
        }
        if (r->type != REDIS_REPLY_STRING) {
            s = r->type == REDIS_REPLY_ERROR
                    ? reply_error(r, "GET", err)
                    : lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected reply");
            freeReplyObject(r);
            return s;
        }
        op->status = lr__value_merge_update((const uint8_t *)r->str, r->len, &op->update,
                                            lr__now(&st->oenv), merged, op->err);
        SHA1((const unsigned char *)r->str, r->len, dig);
        freeReplyObject(r);
        if (op->status != LR_OK)
            return LR_OK;
        for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
            snprintf(hex + 2 * i, 3, "%02x", dig[i]);
        if ((s = run_script_write(st, cn, gk, rk, op, 'c', (const uint8_t *)merged->data,
                                  merged->len, hex, &res, err)) != LR_OK)
            return s;
        if (res == 1) {
            op->changed = true;
            return LR_OK;
        }
        /* Someone wrote in between: merge again from what is stored now. */
    }
    op->status = lr_error_set(op->err, LR_EBUSY, "update: the record kept changing; try again");
    return LR_OK;
}

static lr_status r_write(void *ctx, lr__wop *ops, size_t n, lr_error *err)
{
    redis_store *st = ctx;
    rconn *cn = NULL;
    lr_buf rk, merged;
    lr_status s;

    lr_buf_init(&rk, LR_RECORD_ID_MAX_BYTES + 128);
    lr_buf_init(&merged, LR_ONLINE_VALUE_MAX);
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        goto fail_all;
    for (size_t i = 0; i < n; i++) {
        lr__wop *op = &ops[i];
        gkeys gk;
        long long res = 0;
        op->status = LR_OK;
        op->changed = false;
        group_keys(op->group, op->group_len, &gk);
        if (record_key(&gk, op->id, op->id_len, &rk) != LR_OK) {
            s = lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
        } else if (op->kind == LR_ONLINE_UPDATE) {
            s = write_update(st, cn, &gk, &rk, op, &merged, err);
        } else {
            char mode = op->kind == LR_ONLINE_PUT           ? 'p'
                        : op->kind == LR_ONLINE_SOFT_DELETE ? 's'
                                                            : 'h';
            s = run_script_write(st, cn, &gk, &rk, op, mode, op->value, op->value_len, NULL, &res,
                                 err);
            if (s == LR_OK) {
                if (res == 1)
                    op->changed = true;
                else if (res == -1)
                    op->status = lr_error_set(op->err, LR_EINVAL,
                                              "HardDelete's EventTime must be newer than the "
                                              "stored record's EventTime");
            }
        }
        if (s != LR_OK) {
            /* Out of memory, the connection failed twice or the server
             * refused: this and every later entry fail with the same error. */
            for (size_t j = i; j < n; j++) {
                ops[j].status = s;
                if (err)
                    *ops[j].err = *err;
            }
            break;
        }
    }
    pool_put(st, cn);
    lr_buf_free(&rk);
    lr_buf_free(&merged);
    return s;
fail_all:
    for (size_t j = 0; j < n; j++) {
        ops[j].status = s;
        if (err)
            *ops[j].err = *err;
    }
    lr_buf_free(&rk);
    lr_buf_free(&merged);
    return s;
}

/* ---- reads ---- */

static void r_reader_close(void *rctx)
{
    redis_reader *r = rctx;
    if (r == NULL)
        return;
    conn_drop(&r->conn);
    lr_buf_free(&r->keys);
    free(r->koff);
    free(r->replies);
    free(r->argvs);
    free(r->argv);
    free(r->lens);
    free(r->lensp);
    free(r->argc);
    free(r);
}

/* Grows the reader's per-key arrays to n. */
static lr_status reader_grow(redis_reader *r, size_t n)
{
    void *p;
#define GROW(field, count)                                                                         \
    if ((p = realloc((void *)r->field, (count) * sizeof *r->field)) == NULL)                       \
        return LR_ENOMEM;                                                                          \
    r->field = p;
    GROW(koff, n)
    GROW(replies, n)
    GROW(argvs, 2 * n)
    GROW(argv, n)
    GROW(lens, 2 * n)
    GROW(lensp, n)
    GROW(argc, n)
#undef GROW
    r->kcap = n;
    return LR_OK;
}

static lr_status r_reader_open(void *ctx, void **rctx, lr_error *err)
{
    redis_store *st = ctx;
    redis_reader *r = calloc(1, sizeof *r);
    lr_status s;

    if (r == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    r->st = st;
    lr_buf_init(&r->keys, (size_t)LR_ONLINE_BATCH_GET_MAX * (LR_RECORD_ID_MAX_BYTES + 128));
    if (reader_grow(r, 16) != LR_OK)
        s = lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    else
        s = conn_open(st, &r->conn, err);
    if (s != LR_OK) {
        r_reader_close(r);
        return s;
    }
    *rctx = r;
    return LR_OK;
}

static lr_status r_get(void *rctx, lr__rowbuf *rb, const lr__rkey *keys, size_t n,
                       lr_online_row *rows, lr_error *err)
{
    redis_reader *r = rctx;
    redis_store *st = r->st;
    lr_status s;

    if (n > r->kcap && reader_grow(r, n) != LR_OK)
        return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    lr_buf_clear(&r->keys);
    for (size_t i = 0; i < n; i++) {
        gkeys gk;
        group_keys(keys[i].group, keys[i].group_len, &gk);
        r->koff[i] = r->keys.len;
        if (lr_buf_append(&r->keys, gk.rec_prefix, gk.rp_len) != LR_OK ||
            lr_buf_append(&r->keys, keys[i].id, keys[i].id_len) != LR_OK)
            return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? r->koff[i + 1] : r->keys.len;
        r->argvs[2 * i] = "GET";
        r->lens[2 * i] = 3;
        r->argvs[2 * i + 1] = r->keys.data + r->koff[i];
        r->lens[2 * i + 1] = end - r->koff[i];
        r->argv[i] = &r->argvs[2 * i];
        r->lensp[i] = &r->lens[2 * i];
        r->argc[i] = 2;
    }
    if ((s = rpipe(st, &r->conn, n, r->argc, r->argv, r->lensp, r->replies, err)) != LR_OK)
        return s;
    for (size_t i = 0; i < n && s == LR_OK; i++) {
        redisReply *rep = r->replies[i];
        if (rep->type == REDIS_REPLY_NIL)
            s = lr__rowbuf_miss(rb, (uint32_t)i, &rows[i], err);
        else if (rep->type == REDIS_REPLY_STRING)
            s = lr__rowbuf_add(rb, (uint32_t)i, (const uint8_t *)rep->str, rep->len, keys[i].proj,
                               keys[i].nproj, &st->oenv, &rows[i], err);
        else if (rep->type == REDIS_REPLY_ERROR)
            s = reply_error(rep, "GET", err);
        else
            s = lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected reply to GET");
    }
    for (size_t i = 0; i < n; i++)
        freeReplyObject(r->replies[i]);
    return s;
}

/* ---- listing ---- */

static lr_status r_list(void *ctx, const lr__list_req *q, lr_online_id_page *page, bool *more,
                        uint8_t **last, size_t *last_len, lr_error *err)
{
    redis_store *st = ctx;
    rconn *cn = NULL;
    gkeys gk;
    lr_buf start, kb;
    redisReply *ids = NULL, **hdrs = NULL;
    int64_t now = lr__now(&st->oenv);
    size_t scanned = 0, lastlen = 0;
    const char *lastp = NULL;
    char *lastcopy = NULL;
    lr_status s;

    *more = false;
    lr_buf_init(&start, LR_RECORD_ID_MAX_BYTES + 16);
    lr_buf_init(&kb, (size_t)REAP_LIMIT * (LR_RECORD_ID_MAX_BYTES + 128));
    group_keys(q->group, q->group_len, &gk);
    page->ids = lr_arena_alloc(page->arena, q->max_results * sizeof *page->ids);
    if (page->ids == NULL) {
        s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
        goto done;
    }
    if (q->after_len) {
        if (lr_buf_append(&start, "(", 1) != LR_OK ||
            lr_buf_append(&start, q->after, q->after_len) != LR_OK) {
            s = lr_error_set(err, LR_EINVAL, "Invalid pagination token");
            goto done;
        }
    } else {
        lr_buf_append(&start, "-", 1);
    }
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        goto done;
    for (;;) {
        char lim[16];
        const char *argv[7] = {"ZRANGEBYLEX", gk.ids, start.data, "+", "LIMIT", "0", lim};
        size_t lens[7] = {11, strlen(gk.ids), start.len, 1, 5, 1, 0};
        size_t want = q->max_results - page->n, nb;
        bool stop = false;

        if (page->n == q->max_results || scanned >= LIST_SCAN_MAX) {
            /* Is there anything after the last entry looked at? */
            snprintf(lim, sizeof lim, "1");
            lens[6] = 1;
            if ((s = rcmd(st, cn, 7, argv, lens, &ids, err)) != LR_OK)
                goto done;
            *more = ids->type == REDIS_REPLY_ARRAY && ids->elements > 0;
            break;
        }
        if (want < 16)
            want = 16;
        if (want > REAP_LIMIT)
            want = REAP_LIMIT;
        lens[6] = (size_t)snprintf(lim, sizeof lim, "%zu", want);
        if ((s = rcmd(st, cn, 7, argv, lens, &ids, err)) != LR_OK)
            goto done;
        if (ids->type != REDIS_REPLY_ARRAY) {
            s = ids->type == REDIS_REPLY_ERROR
                    ? reply_error(ids, "ZRANGEBYLEX", err)
                    : lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected reply");
            goto done;
        }
        if (ids->elements == 0)
            break;
        nb = ids->elements;
        /* Headers of the candidates, in one pipeline: gone (expired) ones
         * are nil, soft-deleted ones have the flag. */
        {
            const char **av = malloc(4 * nb * sizeof *av);
            const char *const **avp = malloc(nb * sizeof *avp);
            size_t *al = malloc(4 * nb * sizeof *al);
            const size_t **alp = malloc(nb * sizeof *alp);
            int *ac = malloc(nb * sizeof *ac);
            size_t *off = malloc(nb * sizeof *off);
            hdrs = calloc(nb, sizeof *hdrs);
            if (!av || !avp || !al || !alp || !ac || !off || !hdrs) {
                s = lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
            } else {
                lr_buf_clear(&kb);
                for (size_t i = 0; i < nb && s == LR_OK; i++) {
                    off[i] = kb.len;
                    if (lr_buf_append(&kb, gk.rec_prefix, gk.rp_len) != LR_OK ||
                        lr_buf_append(&kb, ids->element[i]->str, ids->element[i]->len) != LR_OK)
                        s = lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
                }
                for (size_t i = 0; i < nb && s == LR_OK; i++) {
                    size_t end = i + 1 < nb ? off[i + 1] : kb.len;
                    av[4 * i] = "GETRANGE";
                    al[4 * i] = 8;
                    av[4 * i + 1] = kb.data + off[i];
                    al[4 * i + 1] = end - off[i];
                    av[4 * i + 2] = "0";
                    al[4 * i + 2] = 1;
                    av[4 * i + 3] = "18";
                    al[4 * i + 3] = 2;
                    avp[i] = &av[4 * i];
                    alp[i] = &al[4 * i];
                    ac[i] = 4;
                }
                if (s == LR_OK)
                    s = rpipe(st, cn, nb, ac, avp, alp, hdrs, err);
            }
            free(av);
            free(avp);
            free(al);
            free(alp);
            free(ac);
            free(off);
            if (s != LR_OK) {
                free(hdrs);
                hdrs = NULL;
                goto done;
            }
        }
        for (size_t i = 0; i < nb; i++) {
            redisReply *h = hdrs[i], *id = ids->element[i];
            lr__value_header vh;
            if (stop)
                continue;
            if (page->n == q->max_results || scanned >= LIST_SCAN_MAX) {
                stop = true;
                continue;
            }
            scanned++;
            lastp = id->str;
            lastlen = id->len;
            if (h->type != REDIS_REPLY_STRING || h->len == 0)
                continue; /* expired by Redis: the reaper takes it out of the index */
            if (lr__value_header_read((const uint8_t *)h->str, h->len, &vh, err) != LR_OK) {
                s = LR_ECORRUPT;
                break;
            }
            if (lr__expired(&vh, now) || ((vh.flags & LR__FLAG_DELETED) && !q->include_deleted))
                continue;
            {
                char *copy = lr_arena_strndup(page->arena, id->str, id->len);
                if (copy == NULL) {
                    s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
                    break;
                }
                page->ids[page->n].ptr = copy;
                page->ids[page->n].len = id->len;
                page->n++;
            }
        }
        if (s == LR_OK && lastp) {
            /* Keep the last id beyond this reply: the next range starts after it. */
            free(lastcopy);
            if ((lastcopy = malloc(lastlen ? lastlen : 1)) == NULL) {
                s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            } else {
                memcpy(lastcopy, lastp, lastlen);
                lr_buf_clear(&start);
                if (lr_buf_append(&start, "(", 1) != LR_OK ||
                    lr_buf_append(&start, lastcopy, lastlen) != LR_OK)
                    s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
            }
            lastp = NULL;
        }
        for (size_t i = 0; i < nb; i++)
            freeReplyObject(hdrs[i]);
        free(hdrs);
        hdrs = NULL;
        freeReplyObject(ids);
        ids = NULL;
        if (s != LR_OK)
            goto done;
        if (stop) {
            *more = true;
            break;
        }
    }
    if (*more) {
        if (lastcopy == NULL) {
            *more = false;
        } else if ((*last = lr_arena_alloc(page->arena, lastlen ? lastlen : 1)) == NULL) {
            s = lr_error_set(err, LR_ENOMEM, "online store: out of memory");
        } else {
            memcpy(*last, lastcopy, lastlen);
            *last_len = lastlen;
        }
    }
done:
    if (ids)
        freeReplyObject(ids);
    free(lastcopy);
    pool_put(st, cn);
    lr_buf_free(&start);
    lr_buf_free(&kb);
    return s;
}

/* ---- maintenance ---- */

/* Runs the reaper on one group until it finds nothing more (or max). */
static lr_status reap_group(redis_store *st, rconn *cn, const char *group, size_t glen,
                            uint64_t max, uint64_t *removed, lr_error *err)
{
    gkeys gk;
    char lim[16];
    group_keys(group, glen, &gk);
    snprintf(lim, sizeof lim, "%d", REAP_LIMIT);
    for (;;) {
        const char *argv[10] = {NULL,    NULL,   "4",           gk.ids, gk.exp,
                                gk.meta, gk.ttl, gk.rec_prefix, lim};
        size_t lens[10] = {0,
                           0,
                           1,
                           strlen(gk.ids),
                           strlen(gk.exp),
                           strlen(gk.meta),
                           strlen(gk.ttl),
                           gk.rp_len,
                           strlen(lim)};
        redisReply *r;
        long long got, looked;
        lr_status s = evalsha(st, cn, st->rsha, REAP_SCRIPT, 9, argv, lens, &r, err);
        if (s != LR_OK)
            return s;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected reaper reply");
        }
        got = r->element[0]->integer;
        looked = r->element[1]->integer;
        freeReplyObject(r);
        *removed += (uint64_t)got;
        if (looked < REAP_LIMIT || got == 0 || *removed >= max)
            return LR_OK;
    }
}

static lr_status r_sweep(void *ctx, uint64_t max, uint64_t *removed, lr_error *err)
{
    redis_store *st = ctx;
    rconn *cn;
    redisReply *r;
    const char *argv[2] = {"SMEMBERS", "lr:groups"};
    size_t lens[2] = {8, 9};
    lr_status s;

    *removed = 0;
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        return s;
    if ((s = rcmd(st, cn, 2, argv, lens, &r, err)) != LR_OK)
        goto done;
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements && s == LR_OK && *removed < max; i++) {
            if (r->element[i]->len > LR_FG_NAME_MAX)
                continue;
            s = reap_group(st, cn, r->element[i]->str, r->element[i]->len, max, removed, err);
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        s = reply_error(r, "SMEMBERS", err);
    }
    freeReplyObject(r);
done:
    pool_put(st, cn);
    return s;
}

static lr_status r_stats(void *ctx, const char *group, lr_online_stats *out, lr_error *err)
{
    redis_store *st = ctx;
    rconn *cn;
    redisReply *r;
    gkeys gk;
    uint64_t removed = 0;
    lr_status s;

    group_keys(group, strlen(group), &gk);
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        return s;
    if ((s = reap_group(st, cn, group, strlen(group), UINT64_MAX, &removed, err)) != LR_OK)
        goto done;
    {
        const char *argv[4] = {"HMGET", gk.meta, "records", "bytes"};
        size_t lens[4] = {5, strlen(gk.meta), 7, 5};
        if ((s = rcmd(st, cn, 4, argv, lens, &r, err)) != LR_OK)
            goto done;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        if (r->element[0]->type == REDIS_REPLY_STRING) {
            long long v = strtoll(r->element[0]->str, NULL, 10);
            out->records = v > 0 ? (uint64_t)v : 0;
        }
        if (r->element[1]->type == REDIS_REPLY_STRING) {
            long long v = strtoll(r->element[1]->str, NULL, 10);
            out->bytes = v > 0 ? (uint64_t)v : 0;
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        s = reply_error(r, "HMGET", err);
    }
    freeReplyObject(r);
done:
    pool_put(st, cn);
    return s;
}

static lr_status r_drop(void *ctx, const char *group, lr_error *err)
{
    redis_store *st = ctx;
    rconn *cn;
    gkeys gk;
    char pattern[160], cursor[32] = "0";
    size_t glen = strlen(group), p = 0;
    lr_status s;

    group_keys(group, glen, &gk);
    /* The MATCH pattern, with glob characters escaped. */
    p += (size_t)snprintf(pattern, sizeof pattern, "lr:{");
    for (size_t i = 0; i < glen; i++) {
        if (strchr("*?[]\\", group[i]))
            pattern[p++] = '\\';
        pattern[p++] = group[i];
    }
    p += (size_t)snprintf(pattern + p, sizeof pattern - p, "}:r:*");
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        return s;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
        size_t lens[6] = {4, strlen(cursor), 5, p, 5, 4};
        redisReply *r, *u;
        if ((s = rcmd(st, cn, 6, argv, lens, &r, err)) != LR_OK)
            goto done;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof cursor) {
            s = r->type == REDIS_REPLY_ERROR
                    ? reply_error(r, "SCAN", err)
                    : lr_error_set(err, LR_EBACKEND, "online store (redis): unexpected SCAN reply");
            freeReplyObject(r);
            goto done;
        }
        memcpy(cursor, r->element[0]->str, r->element[0]->len);
        cursor[r->element[0]->len] = '\0';
        if (r->element[1]->elements > 0) {
            size_t k = r->element[1]->elements;
            const char **av = malloc((k + 1) * sizeof *av);
            size_t *al = malloc((k + 1) * sizeof *al);
            if (av == NULL || al == NULL) {
                free(av);
                free(al);
                freeReplyObject(r);
                s = lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
                goto done;
            }
            av[0] = "UNLINK";
            al[0] = 6;
            for (size_t i = 0; i < k; i++) {
                av[i + 1] = r->element[1]->element[i]->str;
                al[i + 1] = r->element[1]->element[i]->len;
            }
            s = rcmd(st, cn, (int)(k + 1), av, al, &u, err);
            free(av);
            free(al);
            if (s == LR_OK) {
                if (u->type == REDIS_REPLY_ERROR)
                    s = reply_error(u, "UNLINK", err);
                freeReplyObject(u);
            }
        }
        freeReplyObject(r);
        if (s != LR_OK)
            goto done;
    } while (strcmp(cursor, "0") != 0);
    {
        const char *argv[6] = {"DEL", gk.ids, gk.exp, gk.meta, gk.ttl};
        size_t lens[6] = {3, strlen(gk.ids), strlen(gk.exp), strlen(gk.meta), strlen(gk.ttl)};
        const char *sv[3] = {"SREM", "lr:groups", group};
        size_t sl[3] = {4, 9, glen};
        redisReply *r;
        if ((s = rcmd(st, cn, 5, argv, lens, &r, err)) != LR_OK)
            goto done;
        freeReplyObject(r);
        if ((s = rcmd(st, cn, 3, sv, sl, &r, err)) != LR_OK)
            goto done;
        freeReplyObject(r);
    }
done:
    pool_put(st, cn);
    return s;
}

static void r_close(void *ctx)
{
    redis_store *st = ctx;
    if (st == NULL)
        return;
    while (st->pool) {
        rconn *cn = st->pool;
        st->pool = cn->next;
        conn_drop(cn);
        free(cn);
    }
    free(st->user);
    free(st->pass);
    pthread_mutex_destroy(&st->pool_mu);
    free(st);
}

static const lr__ops redis_ops = {
    .name = "redis",
    .close = r_close,
    .write = r_write,
    .reader_open = r_reader_open,
    .reader_close = r_reader_close,
    .get = r_get,
    .list = r_list,
    .drop = r_drop,
    .stats = r_stats,
    .sweep = r_sweep,
};

/* ---- URI ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL on a bad escape or OOM. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int a, b;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            a = hexval(s[i + 1]);
            b = hexval(s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static lr_status parse_uri(redis_store *st, const char *uri, lr_error *err)
{
    const char *p = uri + 8, *end, *at, *host, *hend;
    size_t hlen;

    st->port = 6379;
    st->db = 0;
    end = p + strcspn(p, "/?#");
    at = NULL;
    for (const char *q = p; q < end; q++) {
        if (*q == '@')
            at = q;
    }
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p && (st->user = pct_decode(p, (size_t)(colon - p))) == NULL)
                goto bad;
            if ((st->pass = pct_decode(colon + 1, (size_t)(at - colon - 1))) == NULL)
                goto bad;
        } else if (at > p && (st->user = pct_decode(p, (size_t)(at - p))) == NULL) {
            goto bad;
        }
        p = at + 1;
    }
    if (*p == '[') {
        host = p + 1;
        if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
            goto bad;
        p = hend + 1;
    } else {
        host = p;
        hend = memchr(p, ':', (size_t)(end - p));
        if (hend == NULL)
            hend = end;
        p = hend;
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof st->host)
        goto bad;
    memcpy(st->host, host, hlen);
    st->host[hlen] = '\0';
    if (p < end) {
        long port = 0;
        if (*p != ':' || p + 1 == end)
            goto bad;
        for (p++; p < end; p++) {
            if (!isdigit((unsigned char)*p) || (port = port * 10 + (*p - '0')) > 65535)
                goto bad;
        }
        if (port == 0)
            goto bad;
        st->port = (int)port;
    }
    if (*end == '/') {
        const char *d = end + 1;
        long db = 0;
        if (*d != '\0') {
            for (; *d; d++) {
                if (!isdigit((unsigned char)*d) || (db = db * 10 + (*d - '0')) > 100000)
                    goto bad;
            }
        }
        st->db = db;
    } else if (*end != '\0') {
        goto bad;
    }
    return LR_OK;
bad:
    return lr_error_set(err, LR_EINVAL,
                        "online store: malformed Redis URI (expected "
                        "redis://[user:password@]host[:port][/db])");
}

static void sha1_hex(const char *s, char out[41])
{
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)s, strlen(s), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

lr_status lr__redis_open(const char *uri, const lr__online_env *env, const lr__ops **ops,
                         void **ctx, lr_error *err)
{
    redis_store *st = calloc(1, sizeof *st);
    uint32_t ms;
    rconn *cn = NULL;
    lr_status s;

    if (st == NULL)
        return lr_error_set(err, LR_ENOMEM, "online store (redis): out of memory");
    st->oenv = *env;
    pthread_mutex_init(&st->pool_mu, NULL);
    ms = env->opts.redis_timeout_ms ? env->opts.redis_timeout_ms : 5000;
    st->tv.tv_sec = ms / 1000;
    st->tv.tv_usec = (long)(ms % 1000) * 1000;
    if ((s = parse_uri(st, uri, err)) != LR_OK)
        goto fail;
    sha1_hex(WRITE_SCRIPT, st->wsha);
    sha1_hex(REAP_SCRIPT, st->rsha);
    /* Connect now (a wrong address or password fails here) and load both
     * scripts, checking that the server computed the same digests. */
    if ((s = pool_get(st, &cn, err)) != LR_OK)
        goto fail;
    for (int i = 0; i < 2; i++) {
        const char *script = i == 0 ? WRITE_SCRIPT : REAP_SCRIPT;
        const char *sha = i == 0 ? st->wsha : st->rsha;
        const char *argv[3] = {"SCRIPT", "LOAD", script};
        size_t lens[3] = {6, 4, strlen(script)};
        redisReply *r;
        if ((s = rcmd(st, cn, 3, argv, lens, &r, err)) != LR_OK)
            goto fail;
        if (r->type != REDIS_REPLY_STRING || r->len != 40 || memcmp(r->str, sha, 40) != 0) {
            s = r->type == REDIS_REPLY_ERROR
                    ? reply_error(r, "SCRIPT LOAD", err)
                    : lr_error_set(err, LR_EBACKEND, "online store (redis): SCRIPT LOAD failed");
            freeReplyObject(r);
            goto fail;
        }
        freeReplyObject(r);
    }
    pool_put(st, cn);
    *ops = &redis_ops;
    *ctx = st;
    return LR_OK;
fail:
    if (cn) {
        conn_drop(cn);
        free(cn);
    }
    r_close(st);
    return s;
}
