/*
 * join.c - the point-in-time join, and the latest-record reduction behind
 * export and materialize.
 *
 * Design. A point-in-time join asks, for each entity row (id, t), for the
 * record of `id` as it was known at t. Two facts shape the algorithm:
 *
 * 1. The answer for (id, t) depends only on the rows of `id`: among its
 *    rows with event time <= t, the group of rows with the latest event
 *    time decides. Its winner (latest api_invocation_time, then
 *    write_time) is the answer, unless it is a delete marker (a delete
 *    hides everything before it, so the answer is null) or older than the
 *    max age (null too: everything earlier is older still). Nothing else
 *    about the history matters, so no row needs to be compared with the
 *    rows of another identifier.
 * 2. So the work partitions by identifier. Entity rows and feature rows
 *    are both spread over hash partitions of the identifier (a grace hash
 *    join); a partition is joined on its own, by one worker thread, with
 *    only its own rows in memory. Partitions are sized from the inputs so
 *    that one fits a worker's share of the memory budget; one that does
 *    not (a bad estimate, skew) is split again on further hash bits, into
 *    256 children on disk, recursively. Only an identifier whose history
 *    alone exceeds the budget cannot be joined (LR_ELIMIT).
 *
 * Within a partition, identifiers get dense numbers from a hash table
 * built over the entity keys; feature rows of identifiers that no entity
 * has are dropped on lookup. Both sides are then grouped by identifier
 * with a counting sort, and each identifier's rows are sorted by time
 * (entities by t; features by event time, then latest api_invocation_time
 * and write_time first), which makes the first row of each event-time group
 * its winner. One merge pass per identifier then answers every entity row:
 * walking the entity times upwards, advance over the feature rows with
 * event time <= t, remembering the start of the last event-time group.
 * The cost is linear apart from the per-identifier sorts, which are small.
 *
 * Results are written per partition in the entity rows' own order (the
 * order in which the entity file put them into the partition), as the
 * payload of the matched row or an empty record for null. The output pass
 * reads the entity file again, finds each row's partition from its key, and
 * takes the next result of that partition: no sort by row number is needed
 * and results can stay on disk. A partition where no row matched writes
 * nothing at all.
 *
 * The latest-record reduction (export, materialize) is the same walk with
 * t = +infinity and no entities: per identifier, the winner of the latest
 * event-time group, skipped when it is a delete marker (export) or turned
 * into a soft delete (materialize).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/log.h"
#include "larder/record.h"
#include "larder/value.h"
#include "training/training_internal.h"

#define SPLIT_FANOUT 256
/* Bytes of scratch per record, for the size check (index arrays, tables). */
#define ENT_COST 56
#define FEAT_COST 64

typedef struct frow {
    int64_t et, api, wt;
    const uint8_t *pl;
    uint32_t plen;
    uint32_t kid;
    uint8_t del;
} frow;

typedef struct erow {
    int64_t ts;
    uint32_t i;
} erow;

struct lr__tr_worker {
    lr__tr_job *job;
    lr__tr_pw res;
    lr__tr_list res_target;
    /* identifiers */
    uint32_t *table;
    size_t table_cap;
    uint64_t *kh;
    const uint8_t **kkey;
    uint32_t *klen;
    size_t kcap;
    uint32_t nk;
    uint32_t *kstart; /* kcap + 1 */
    uint32_t *fstart; /* kcap + 1 */
    /* entities */
    erow *ent;
    erow *eord;
    uint32_t *ekid;
    int64_t *match;
    size_t ecap;
    /* features */
    frow *fr;
    frow *fs;
    size_t fcap;
    int64_t *best; /* latest mode: per kid, index into fr (-1: none) */
    uint32_t *korder;
    /* materialize */
    lr_online_write *wr;
    lr_record *recs;
    lr_feature_value *vals;
    lr_arena *arena;
    uint32_t n_wr;
};

/* ---- scratch ---- */

static bool grow(void **p, size_t need, size_t elem)
{
    void *q = realloc(*p, (need ? need : 1) * elem);
    if (q == NULL)
        return false;
    *p = q;
    return true;
}

static lr_status need_kids(lr__tr_worker *w, size_t n, lr_error *err)
{
    if (n <= w->kcap)
        return LR_OK;
    if (!grow((void **)&w->kh, n, sizeof *w->kh) ||
        !grow((void **)&w->kkey, n, sizeof *w->kkey) ||
        !grow((void **)&w->klen, n, sizeof *w->klen) ||
        !grow((void **)&w->kstart, n + 1, sizeof *w->kstart) ||
        !grow((void **)&w->fstart, n + 1, sizeof *w->fstart) ||
        !grow((void **)&w->best, n, sizeof *w->best) ||
        !grow((void **)&w->korder, n, sizeof *w->korder))
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    w->kcap = n;
    return LR_OK;
}

static lr_status need_table(lr__tr_worker *w, size_t n, uint32_t *bits, lr_error *err)
{
    uint32_t b = 4;
    while (((size_t)1 << b) < n * 2)
        b++;
    size_t cap = (size_t)1 << b;
    if (cap > w->table_cap) {
        uint32_t *t = realloc(w->table, cap * sizeof *t);
        if (t == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        w->table = t;
        w->table_cap = cap;
    }
    memset(w->table, 0, cap * sizeof *w->table);
    *bits = b;
    w->nk = 0;
    return LR_OK;
}

static lr_status need_ents(lr__tr_worker *w, size_t n, lr_error *err)
{
    if (n <= w->ecap)
        return LR_OK;
    if (!grow((void **)&w->ent, n, sizeof *w->ent) ||
        !grow((void **)&w->eord, n, sizeof *w->eord) ||
        !grow((void **)&w->ekid, n, sizeof *w->ekid) ||
        !grow((void **)&w->match, n, sizeof *w->match))
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    w->ecap = n;
    return LR_OK;
}

static lr_status need_feats(lr__tr_worker *w, size_t n, lr_error *err)
{
    if (n <= w->fcap)
        return LR_OK;
    if (!grow((void **)&w->fr, n, sizeof *w->fr) ||
        !grow((void **)&w->fs, n, sizeof *w->fs))
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    w->fcap = n;
    return LR_OK;
}

static inline size_t slot_of(uint64_t h, uint32_t bits)
{
    return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

/* The identifier number of (h, key), inserting it when `insert`; -1 when absent. */
static inline int64_t kid_of(lr__tr_worker *w, uint32_t bits, uint64_t h, const uint8_t *key,
                             uint32_t klen, bool insert)
{
    size_t mask = ((size_t)1 << bits) - 1;
    size_t i = slot_of(h, bits);
    for (;;) {
        uint32_t s = w->table[i];
        if (s == 0) {
            if (!insert)
                return -1;
            uint32_t k = w->nk++;
            w->kh[k] = h;
            w->kkey[k] = key;
            w->klen[k] = klen;
            w->table[i] = k + 1;
            return k;
        }
        uint32_t k = s - 1;
        if (w->kh[k] == h && w->klen[k] == klen && memcmp(w->kkey[k], key, klen) == 0)
            return k;
        i = (i + 1) & mask;
    }
}

/* ---- sorting ---- */

/* Feature order: event time ascending, then the winner first (latest
 * api_invocation_time, latest write_time; on a full tie a delete marker,
 * then the greater payload, so the choice never depends on read order). */
static inline int frow_cmp(const frow *a, const frow *b)
{
    if (a->et != b->et)
        return a->et < b->et ? -1 : 1;
    if (a->api != b->api)
        return a->api > b->api ? -1 : 1;
    if (a->wt != b->wt)
        return a->wt > b->wt ? -1 : 1;
    if (a->del != b->del)
        return a->del > b->del ? -1 : 1;
    uint32_t n = a->plen < b->plen ? a->plen : b->plen;
    int c = memcmp(a->pl, b->pl, n);
    if (c != 0)
        return -c;
    return a->plen == b->plen ? 0 : a->plen > b->plen ? -1 : 1;
}

/* a beats b for "latest record": a later event time, or a's winning the tie. */
static inline bool latest_better(const frow *a, const frow *b)
{
    return a->et > b->et || (a->et == b->et && frow_cmp(a, b) < 0);
}

/* Sorts v[0..n) by frow_cmp: quicksort on the median of three, insertion sort
 * for short runs; rows move by value (no comparator calls through qsort). */
static void frow_sort(frow *v, size_t n)
{
    frow t;
    while (n > 16) {
        size_t m = n / 2;
        if (frow_cmp(&v[m], &v[0]) < 0) {
            t = v[m];
            v[m] = v[0];
            v[0] = t;
        }
        if (frow_cmp(&v[n - 1], &v[m]) < 0) {
            t = v[n - 1];
            v[n - 1] = v[m];
            v[m] = t;
            if (frow_cmp(&v[m], &v[0]) < 0) {
                t = v[m];
                v[m] = v[0];
                v[0] = t;
            }
        }
        frow pivot = v[m];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (frow_cmp(&v[i], &pivot) < 0)
                i++;
            while (frow_cmp(&pivot, &v[j]) < 0)
                j--;
            if (i >= j)
                break;
            t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        /* v[0..j] <= pivot <= v[j+1..n): recurse into the smaller side. */
        size_t left = j + 1;
        if (left < n - left) {
            frow_sort(v, left);
            v += left;
            n -= left;
        } else {
            frow_sort(v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        frow x = v[i];
        size_t j = i;
        while (j > 0 && frow_cmp(&v[j - 1], &x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static int erow_qcmp(const void *pa, const void *pb)
{
    const erow *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static void erow_sort(erow *v, size_t n)
{
    if (n > 24) {
        qsort(v, n, sizeof *v, erow_qcmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        erow x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].ts > x.ts) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* ---- the worker ---- */

lr_status lr__tr_worker_new(lr__tr_job *job, lr__tr_worker **out, lr_error *err)
{
    lr__tr_worker *w = calloc(1, sizeof *w);
    lr_status st;
    *out = NULL;
    if (w == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    w->job = job;
    if ((st = lr__tr_pw_init(&w->res, job->ctx, 1, &w->res_target, false, err)) != LR_OK) {
        free(w);
        return st;
    }
    if (job->mode == LR__TR_MATERIALIZE) {
        w->wr = calloc(LR_ONLINE_WRITE_BATCH_MAX, sizeof *w->wr);
        w->recs = calloc(LR_ONLINE_WRITE_BATCH_MAX, sizeof *w->recs);
        w->vals = calloc((size_t)LR_ONLINE_WRITE_BATCH_MAX * job->groups[0].n_out, sizeof *w->vals);
        w->arena = lr_arena_new(1 << 20, 0);
        if (w->wr == NULL || w->recs == NULL || w->vals == NULL || w->arena == NULL) {
            lr__tr_worker_free(w);
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        }
    }
    *out = w;
    return LR_OK;
}

void lr__tr_worker_free(lr__tr_worker *w)
{
    if (w == NULL)
        return;
    lr__tr_pw_free(&w->res);
    free(w->table);
    free(w->kh);
    free(w->kkey);
    free(w->klen);
    free(w->kstart);
    free(w->fstart);
    free(w->ent);
    free(w->eord);
    free(w->ekid);
    free(w->match);
    free(w->fr);
    free(w->fs);
    free(w->best);
    free(w->korder);
    free(w->wr);
    free(w->recs);
    free(w->vals);
    lr_arena_free(w->arena);
    free(w);
}

/* Starts writing results into list l. */
static void res_target(lr__tr_worker *w, lr__tr_list *l)
{
    w->res.out = l;
}

static lr_status res_put(lr__tr_worker *w, const uint8_t *p, uint32_t n, lr_error *err)
{
    uint8_t *dst;
    lr_status st = lr__tr_pw_reserve(&w->res, 0, n, &dst, err);
    if (st == LR_OK && n > 0)
        memcpy(dst, p, n);
    return st;
}

/* ---- splitting a partition that is too large ---- */

static lr_status split_list(lr__tr_worker *w, lr__tr_list *src, lr__tr_list **dst,
                            uint32_t shift, lr_error *err)
{
    lr__tr_ctx *ctx = w->job->ctx;
    lr__tr_list out[SPLIT_FANOUT];
    lr__tr_pw pw;
    uint8_t *tmp = NULL;
    lr_status st;

    memset(out, 0, sizeof out);
    if ((st = lr__tr_pw_init(&pw, ctx, SPLIT_FANOUT, out, true, err)) != LR_OK)
        return st;
    for (lr__tr_chunk *c = src->head; c != NULL && st == LR_OK; c = c->next) {
        lr__tr_chunk view = *c;
        if (view.mem == NULL) {
            uint8_t *t = realloc(tmp, c->len ? c->len : 1);
            if (t == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                break;
            }
            tmp = t;
            if ((st = lr__tr_chunk_read(c, tmp, err)) != LR_OK)
                break;
            view.mem = tmp;
        }
        size_t pos = 0;
        const uint8_t *rec;
        uint32_t len;
        while (st == LR_OK && lr__tr_chunk_rec(&view, &pos, &rec, &len)) {
            uint64_t h;
            uint8_t *d;
            memcpy(&h, rec, 8);
            st = lr__tr_pw_reserve(&pw, (uint32_t)(h >> shift) & (SPLIT_FANOUT - 1), len, &d, err);
            if (st == LR_OK)
                memcpy(d, rec, len);
        }
    }
    if (st == LR_OK)
        st = lr__tr_pw_flush(&pw, err);
    lr__tr_pw_free(&pw);
    free(tmp);
    for (uint32_t i = 0; i < SPLIT_FANOUT; i++) {
        if (st == LR_OK)
            lr__tr_list_concat(dst[i], &out[i]);
        else
            lr__tr_list_free(ctx, &out[i]);
    }
    lr__tr_list_free(ctx, src);
    return st;
}

static lr_status node_children(lr__tr_job *job, lr__tr_node *n, lr_error *err)
{
    n->child = calloc(SPLIT_FANOUT, sizeof *n->child);
    if (n->child == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < SPLIT_FANOUT; i++) {
        n->child[i].feat = calloc(job->n_groups, sizeof(lr__tr_list));
        n->child[i].res = calloc(job->n_groups, sizeof(lr__tr_list));
        if (n->child[i].feat == NULL || n->child[i].res == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    return LR_OK;
}

/* Bytes one worker needs to join node n in memory. */
static uint64_t node_work(const lr__tr_job *job, const lr__tr_node *n)
{
    uint64_t disk = 0, ents = 0, feats = 0;
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++) {
        disk += lr__tr_list_disk_bytes(&n->ent[c]);
        ents += n->ent[c].records;
    }
    for (uint32_t g = 0; g < job->n_groups; g++) {
        disk += lr__tr_list_disk_bytes(&n->feat[g]);
        if (n->feat[g].records > feats)
            feats = n->feat[g].records;
    }
    return disk + ents * ENT_COST + feats * FEAT_COST;
}

static uint64_t node_records(const lr__tr_job *job, const lr__tr_node *n)
{
    uint64_t r = 0;
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++)
        r += n->ent[c].records;
    for (uint32_t g = 0; g < job->n_groups; g++)
        r += n->feat[g].records;
    return r;
}

/* ---- the point-in-time join of one partition ---- */

/* Loads the entity records of class c: keys into the table, rows into w->ent. */
static lr_status load_entities(lr__tr_worker *w, lr__tr_list *l, uint32_t *bits, size_t *n_out,
                               lr_error *err)
{
    lr_status st;
    size_t n = (size_t)l->records;
    *n_out = 0;
    if ((st = lr__tr_list_load(w->job->ctx, l, err)) != LR_OK ||
        (st = need_ents(w, n, err)) != LR_OK || (st = need_kids(w, n, err)) != LR_OK ||
        (st = need_table(w, n, bits, err)) != LR_OK)
        return st;
    size_t i = 0;
    for (lr__tr_chunk *c = l->head; c != NULL; c = c->next) {
        size_t pos = 0;
        const uint8_t *rec;
        uint32_t len;
        while (lr__tr_chunk_rec(c, &pos, &rec, &len)) {
            uint64_t h;
            memcpy(&h, rec, 8);
            memcpy(&w->ent[i].ts, rec + 8, 8);
            w->ent[i].i = (uint32_t)i;
            w->ekid[i] = (uint32_t)kid_of(w, *bits, h, rec + LR__TR_EREC_FIXED,
                                          len - LR__TR_EREC_FIXED, true);
            i++;
        }
    }
    /* Group by identifier (counting sort), then order each identifier's rows by time. */
    memset(w->kstart, 0, (w->nk + 1) * sizeof *w->kstart);
    for (size_t j = 0; j < n; j++)
        w->kstart[w->ekid[j] + 1]++;
    for (uint32_t k = 0; k < w->nk; k++)
        w->kstart[k + 1] += w->kstart[k];
    for (size_t j = 0; j < n; j++)
        w->eord[w->kstart[w->ekid[j]]++] = w->ent[j];
    for (uint32_t k = w->nk; k > 0; k--)
        w->kstart[k] = w->kstart[k - 1];
    w->kstart[0] = 0;
    for (uint32_t k = 0; k < w->nk; k++)
        erow_sort(w->eord + w->kstart[k], w->kstart[k + 1] - w->kstart[k]);
    *n_out = n;
    return LR_OK;
}

/* Reads a feature record's fixed part into r (kid not set). */
static inline void frec_parse(const uint8_t *rec, uint32_t len, frow *r, uint64_t *h,
                              const uint8_t **key, uint32_t *klen)
{
    memcpy(h, rec, 8);
    memcpy(&r->et, rec + 8, 8);
    memcpy(&r->api, rec + 16, 8);
    memcpy(&r->wt, rec + 24, 8);
    r->del = rec[32];
    memcpy(klen, rec + 33, 4);
    *key = rec + LR__TR_FREC_FIXED;
    r->pl = rec + LR__TR_FREC_FIXED + *klen;
    r->plen = len - LR__TR_FREC_FIXED - *klen;
}

static lr_status pit_group(lr__tr_worker *w, lr__tr_node *node, uint32_t g, uint32_t bits,
                           size_t n_ent, lr_error *err)
{
    lr__tr_job *job = w->job;
    lr__tr_list *l = &node->feat[g];
    int64_t max_age = job->groups[g].max_age_us;
    size_t nf = 0, matches = 0;
    lr_status st;

    if ((st = lr__tr_list_load(job->ctx, l, err)) != LR_OK ||
        (st = need_feats(w, (size_t)l->records, err)) != LR_OK)
        return st;
    for (lr__tr_chunk *c = l->head; c != NULL; c = c->next) {
        size_t pos = 0;
        const uint8_t *rec, *key;
        uint32_t len, klen;
        while (lr__tr_chunk_rec(c, &pos, &rec, &len)) {
            uint64_t h;
            frow *r = &w->fr[nf];
            frec_parse(rec, len, r, &h, &key, &klen);
            int64_t k = kid_of(w, bits, h, key, klen, false);
            if (k < 0)
                continue;
            r->kid = (uint32_t)k;
            nf++;
        }
    }
    memset(w->fstart, 0, (w->nk + 1) * sizeof *w->fstart);
    for (size_t j = 0; j < nf; j++)
        w->fstart[w->fr[j].kid + 1]++;
    for (uint32_t k = 0; k < w->nk; k++)
        w->fstart[k + 1] += w->fstart[k];
    for (size_t j = 0; j < nf; j++)
        w->fs[w->fstart[w->fr[j].kid]++] = w->fr[j];
    for (uint32_t k = w->nk; k > 0; k--)
        w->fstart[k] = w->fstart[k - 1];
    w->fstart[0] = 0;

    for (uint32_t k = 0; k < w->nk; k++) {
        frow *fs = w->fs + w->fstart[k];
        size_t nfk = w->fstart[k + 1] - w->fstart[k];
        const erow *es = w->eord + w->kstart[k];
        size_t nek = w->kstart[k + 1] - w->kstart[k];
        frow_sort(fs, nfk);
        size_t p = 0;
        int64_t cur = -1;
        for (size_t e = 0; e < nek; e++) {
            int64_t t = es[e].ts;
            while (p < nfk && fs[p].et <= t) {
                if (p == 0 || fs[p].et != fs[p - 1].et)
                    cur = (int64_t)p;
                p++;
            }
            bool ok = cur >= 0 && !fs[cur].del && (max_age <= 0 || t - fs[cur].et < max_age);
            w->match[es[e].i] = ok ? (int64_t)w->fstart[k] + cur : -1;
            matches += ok;
        }
    }
    if (matches > 0) {
        res_target(w, &node->res[g]);
        for (size_t i = 0; i < n_ent && st == LR_OK; i++) {
            int64_t m = w->match[i];
            st = m < 0 ? res_put(w, NULL, 0, err) : res_put(w, w->fs[m].pl, w->fs[m].plen, err);
        }
        if (st == LR_OK)
            st = lr__tr_pw_flush(&w->res, err);
        atomic_fetch_add_explicit(&job->matches, matches, memory_order_relaxed);
    }
    lr__tr_list_free(job->ctx, l);
    return st;
}

static lr_status pit_node(lr__tr_worker *w, lr__tr_node *node, lr_error *err)
{
    lr__tr_job *job = w->job;
    lr_status st = LR_OK;
    for (int c = 0; c < LR__TR_KEY_CLASSES && st == LR_OK; c++) {
        bool used = false;
        for (uint32_t g = 0; g < job->n_groups; g++)
            used |= job->groups[g].key_class == c && node->feat[g].records > 0;
        if (used && node->ent[c].records > 0) {
            uint32_t bits;
            size_t n;
            st = load_entities(w, &node->ent[c], &bits, &n, err);
            for (uint32_t g = 0; g < job->n_groups && st == LR_OK; g++)
                if (job->groups[g].key_class == c && node->feat[g].records > 0)
                    st = pit_group(w, node, g, bits, n, err);
        }
        lr__tr_list_free(job->ctx, &node->ent[c]);
    }
    for (uint32_t g = 0; g < job->n_groups; g++)
        lr__tr_list_free(job->ctx, &node->feat[g]);
    return st;
}

/* ---- the latest record per identifier ---- */

static int korder_cmp(const void *pa, const void *pb, void *arg)
{
    const lr__tr_worker *w = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    uint32_t n = w->klen[a] < w->klen[b] ? w->klen[a] : w->klen[b];
    int c = memcmp(w->kkey[a], w->kkey[b], n);
    if (c != 0)
        return c;
    return w->klen[a] < w->klen[b] ? -1 : w->klen[a] > w->klen[b];
}

/* Formats a decoded scalar as the text PutRecord would have sent. */
static lr_status scalar_text(lr__tr_worker *w, lr_offline_ctype t, const lr__tr_val *v,
                             lr_str *out)
{
    char tmp[40];
    size_t n;
    if (t == LR_OFFLINE_STRING) {
        out->ptr = (const char *)v->s;
        out->len = v->slen;
        return LR_OK;
    }
    if (t == LR_OFFLINE_DOUBLE)
        n = lr__tr_fmt_double(v->f64, tmp);
    else
        n = (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v->i64);
    char *s = lr_arena_strndup(w->arena, tmp, n);
    if (s == NULL)
        return LR_ENOMEM;
    out->ptr = s;
    out->len = n;
    return LR_OK;
}

/* Builds entry w->wr[w->n_wr] from a winner row of group g. */
static lr_status mat_entry(lr__tr_worker *w, const lr__tr_group *g, const frow *r, lr_error *err)
{
    const lr_fg_def *def = g->def;
    lr_online_write *e = &w->wr[w->n_wr];
    lr_record *rec = &w->recs[w->n_wr];
    lr_feature_value *vals = w->vals + (size_t)w->n_wr * g->n_out;
    const uint8_t *p = r->pl;
    uint32_t nv = 0;
    lr_str id = {NULL, 0}, et = {NULL, 0};

    memset(e, 0, sizeof *e);
    for (uint32_t j = 0; j < g->n_out; j++) {
        const lr_feature_def *f = &def->features[g->feat[j]];
        lr_offline_ctype t = lr__tr_feature_ctype(f);
        lr__tr_val v;
        lr__tr_val_decode(t, f->collection != LR_COLL_NONE, &p, &v);
        if (v.null)
            continue;
        lr_feature_value *fv = &vals[nv];
        memset(fv, 0, sizeof *fv);
        fv->feature = g->feat[j];
        if (!v.list) {
            if (scalar_text(w, t, &v, &fv->value) != LR_OK)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
        } else {
            lr_str *items = lr_arena_calloc(w->arena, v.n_items ? v.n_items : 1, sizeof *items);
            if (items == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            const uint8_t *ip = v.items;
            uint32_t ni = 0;
            for (uint32_t i = 0; i < v.n_items; i++) {
                lr__tr_val it;
                lr__tr_item_decode(t, &ip, &it);
                if (it.null)
                    continue; /* PutRecord has no null list items */
                if (scalar_text(w, t, &it, &items[ni++]) != LR_OK)
                    return lr_error_set(err, LR_ENOMEM, "out of memory");
            }
            fv->is_list = true;
            fv->items = items;
            fv->n_items = ni;
        }
        if (g->feat[j] == def->record_id_index)
            id = fv->value;
        if (g->feat[j] == def->event_time_index)
            et = fv->value;
        nv++;
    }
    e->def = def;
    if (r->del) {
        e->kind = LR_ONLINE_SOFT_DELETE;
        e->record_id = id;
        e->event_time_us = r->et;
        e->event_time = et;
        if (id.ptr == NULL)
            return LR_OK; /* cannot happen for rows the offline store wrote */
    } else {
        memset(rec, 0, sizeof *rec);
        rec->values = vals;
        rec->n_values = nv;
        lr_error verr;
        if (lr_record_validate(def, rec, &verr) != LR_OK) {
            atomic_fetch_add(&w->job->failed, 1);
            lr_log_warn("training", "materialize %s: a record is not valid (%s): skipped",
                        def->name, verr.msg);
            return LR_OK;
        }
        e->kind = LR_ONLINE_PUT;
        e->record = rec;
    }
    w->n_wr++;
    return LR_OK;
}

static lr_status mat_flush(lr__tr_worker *w, lr_error *err)
{
    lr__tr_job *job = w->job;
    lr_status st = LR_OK;
    if (w->n_wr > 0) {
        st = lr_online_write_batch(job->online, w->wr, w->n_wr, err);
        if (st == LR_OK) {
            for (uint32_t i = 0; i < w->n_wr; i++) {
                const lr_online_write *e = &w->wr[i];
                if (e->status != LR_OK) {
                    if (atomic_fetch_add(&job->failed, 1) < 10)
                        lr_log_warn("training", "materialize %s: %s", e->def->name, e->error.msg);
                } else if (e->changed) {
                    atomic_fetch_add_explicit(&job->written, 1, memory_order_relaxed);
                } else {
                    atomic_fetch_add_explicit(&job->unchanged, 1, memory_order_relaxed);
                }
            }
        }
    }
    w->n_wr = 0;
    lr_arena_reset(w->arena);
    return st;
}

static lr_status latest_node(lr__tr_worker *w, lr__tr_node *node, lr_error *err)
{
    lr__tr_job *job = w->job;
    const lr__tr_group *g = &job->groups[0];
    lr__tr_list *l = &node->feat[0];
    size_t n = (size_t)l->records, nf = 0;
    uint32_t bits;
    lr_status st;

    if (n == 0)
        return LR_OK;
    if ((st = lr__tr_list_load(job->ctx, l, err)) != LR_OK || (st = need_feats(w, n, err)) != LR_OK ||
        (st = need_kids(w, n, err)) != LR_OK || (st = need_table(w, n, &bits, err)) != LR_OK)
        goto done;
    for (lr__tr_chunk *c = l->head; c != NULL; c = c->next) {
        size_t pos = 0;
        const uint8_t *rec, *key;
        uint32_t len, klen;
        while (lr__tr_chunk_rec(c, &pos, &rec, &len)) {
            uint64_t h;
            frow *r = &w->fr[nf];
            frec_parse(rec, len, r, &h, &key, &klen);
            uint32_t before = w->nk;
            uint32_t k = (uint32_t)kid_of(w, bits, h, key, klen, true);
            r->kid = k;
            /* Keep the winner of the latest event-time group. */
            if (k == before || latest_better(r, &w->fr[w->best[k]]))
                w->best[k] = (int64_t)nf;
            nf++;
        }
    }
    for (uint32_t k = 0; k < w->nk; k++)
        w->korder[k] = k;
    qsort_r(w->korder, w->nk, sizeof *w->korder, korder_cmp, w);
    if (job->mode == LR__TR_LATEST) {
        uint64_t rows = 0;
        res_target(w, &node->res[0]);
        for (uint32_t i = 0; i < w->nk && st == LR_OK; i++) {
            const frow *r = &w->fr[w->best[w->korder[i]]];
            if (r->del)
                continue;
            st = res_put(w, r->pl, r->plen, err);
            rows++;
        }
        if (st == LR_OK)
            st = lr__tr_pw_flush(&w->res, err);
        atomic_fetch_add_explicit(&job->out_rows, rows, memory_order_relaxed);
    } else {
        for (uint32_t i = 0; i < w->nk && st == LR_OK; i++) {
            const frow *r = &w->fr[w->best[w->korder[i]]];
            atomic_fetch_add_explicit(&job->ids, 1, memory_order_relaxed);
            if (r->del)
                atomic_fetch_add_explicit(&job->deletes, 1, memory_order_relaxed);
            st = mat_entry(w, g, r, err);
            if (st == LR_OK && w->n_wr == LR_ONLINE_WRITE_BATCH_MAX)
                st = mat_flush(w, err);
        }
        if (st == LR_OK)
            st = mat_flush(w, err);
    }
done:
    lr__tr_list_free(job->ctx, l);
    return st;
}

/* ---- one partition, splitting it when it does not fit ---- */

static lr_status process(lr__tr_worker *w, lr__tr_node *node, uint32_t shift, lr_error *err)
{
    lr__tr_job *job = w->job;
    lr__tr_ctx *ctx = job->ctx;
    lr_status st = LR_OK;
    uint64_t work = node_work(job, node);

    if (atomic_load_explicit(&ctx->failed, memory_order_relaxed))
        return LR_ECANCELED;
    if (work > ctx->work_limit && shift + 8 <= 64 && node_records(job, node) > 1) {
        lr__tr_list *dst[SPLIT_FANOUT];
        if ((st = node_children(job, node, err)) != LR_OK)
            return st;
        node->child_shift = shift;
        for (int c = 0; c < LR__TR_KEY_CLASSES && st == LR_OK; c++) {
            for (uint32_t i = 0; i < SPLIT_FANOUT; i++)
                dst[i] = &node->child[i].ent[c];
            st = split_list(w, &node->ent[c], dst, shift, err);
        }
        for (uint32_t g = 0; g < job->n_groups && st == LR_OK; g++) {
            for (uint32_t i = 0; i < SPLIT_FANOUT; i++)
                dst[i] = &node->child[i].feat[g];
            st = split_list(w, &node->feat[g], dst, shift, err);
        }
        for (uint32_t i = 0; i < SPLIT_FANOUT && st == LR_OK; i++)
            st = process(w, &node->child[i], shift + 8, err);
        return st;
    }
    if (work > ctx->memory_max / 2)
        return lr_error_set(err, LR_ELIMIT,
                            "one record identifier's rows need more than the memory budget "
                            "(%zu bytes; raise it)",
                            ctx->memory_max);
    if (job->mode == LR__TR_PIT)
        return pit_node(w, node, err);
    return latest_node(w, node, err);
}

lr_status lr__tr_worker_run(lr__tr_worker *w, lr_error *err)
{
    lr__tr_job *job = w->job;
    lr_status st = LR_OK;
    for (;;) {
        uint32_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n_nodes)
            break;
        if ((st = process(w, &job->nodes[i], job->top_bits, err)) != LR_OK)
            break;
        atomic_fetch_add(&job->done, 1);
    }
    if (st != LR_OK && st != LR_ECANCELED)
        atomic_store(&job->ctx->failed, 1);
    return st;
}

lr__tr_node *lr__tr_job_leaf(lr__tr_job *job, uint64_t h)
{
    lr__tr_node *n = &job->nodes[h & (job->n_nodes - 1)];
    while (n->child != NULL)
        n = &n->child[(h >> n->child_shift) & (SPLIT_FANOUT - 1)];
    return n;
}

static void free_node(lr__tr_job *job, lr__tr_node *n)
{
    lr__tr_ctx *ctx = job->ctx;
    if (n->child != NULL) {
        for (uint32_t i = 0; i < SPLIT_FANOUT; i++)
            free_node(job, &n->child[i]);
        free(n->child);
    }
    for (int c = 0; c < LR__TR_KEY_CLASSES; c++)
        lr__tr_list_free(ctx, &n->ent[c]);
    for (uint32_t g = 0; g < job->n_groups; g++) {
        if (n->feat != NULL)
            lr__tr_list_free(ctx, &n->feat[g]);
        if (n->res != NULL)
            lr__tr_list_free(ctx, &n->res[g]);
        if (n->cur != NULL)
            lr__tr_cursor_free(&n->cur[g]);
    }
    free(n->feat);
    free(n->res);
    free(n->cur);
    memset(n, 0, sizeof *n);
}

void lr__tr_job_free_nodes(lr__tr_job *job)
{
    if (job->nodes == NULL)
        return;
    for (uint32_t i = 0; i < job->n_nodes; i++)
        free_node(job, &job->nodes[i]);
    free(job->nodes);
    job->nodes = NULL;
}
