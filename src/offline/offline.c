/*
 * offline.c - the offline store's handle: opening and closing, the append
 * path (records and delete markers into the write-ahead log), the flusher
 * thread and its triggers, and the metrics. The flush itself is in
 * flush.c; docs/offline-store.md describes the whole write path.
 *
 * The append path touches no catalog and no object storage: it encodes the
 * rows, makes sure the log describes each row's feature-group version (a
 * schema entry, written once per version per log), and appends the batch
 * with one write. The flusher thread wakes when the unflushed bytes reach
 * cfg.flush_bytes (an append signals it), when the oldest unflushed entry
 * reaches cfg.flush_age_us, and every cfg.flush_age_us to adopt the logs of
 * dead processes and collect garbage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "larder/log.h"
#include "larder/value.h"
#include "offline/entry.h"
#include "offline/offline_internal.h"

#define MiB (1024u * 1024u)

void (*lr__offline_crash_hook)(const char *point) = NULL;

void lr_offline_config_init(lr_offline_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->catalog_uri = NULL;
    cfg->sync = LR_OFFLINE_SYNC_EVERYSEC;
    cfg->segment_bytes = 64ull * MiB;
    cfg->flush_bytes = 64ull * MiB;
    cfg->flush_age_us = 60LL * 1000000;
    cfg->background = false;
    cfg->flush_on_close = true;
    cfg->gc_grace_us = 3600LL * 1000000;
    cfg->codec = LR_PQ_SNAPPY;
    cfg->memtable = true;
}

/* ---- helpers shared by the offline files ---- */

lr_status lr__offline_group(lr_catalog *cat, const char *fg, lr_fg_def **def, lr_error *err)
{
    lr_status st = lr_catalog_fg_get(cat, fg, def, err);
    if (st != LR_OK)
        return st;
    if (!(*def)->has_offline_config || (*def)->resolved_offline_uri == NULL) {
        lr_fg_def_free(*def);
        *def = NULL;
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", fg);
    }
    return LR_OK;
}

lr_status lr__offline_objstore_open(const char *root, const char *fg, lr_objstore **out,
                                    lr_error *err)
{
    lr_status st = lr_objstore_open(root, out, err);
    if (st == LR_EUNSUPPORTED)
        lr_error_set(err, st,
                     "the offline store of feature group %s is at %s, and this build has no "
                     "S3 backend yet: give the group a local path or a file:// S3Uri",
                     fg, root);
    return st;
}

typedef struct os_src {
    lr_objstore *os;
    char key[LR_OBJ_KEY_MAX + 1];
} os_src;

static lr_status os_read_at(void *ctx, uint64_t offset, size_t len, void *dst, lr_error *err)
{
    os_src *s = ctx;
    size_t got = 0;
    lr_status st = lr_objstore_get_range(s->os, s->key, offset, len, dst, &got, err);
    if (st == LR_OK && got != len)
        st = lr_error_set(err, LR_EIO, "%s/%s: short read (object changed while reading?)",
                          lr_objstore_root(s->os), s->key);
    return st;
}

lr_status lr__pq_source_objstore(lr_objstore *os, const char *key, lr_pq_source *out,
                                 lr_error *err)
{
    uint64_t size;
    os_src *s;
    lr_status st;

    memset(out, 0, sizeof *out);
    if (strlen(key) > LR_OBJ_KEY_MAX)
        return lr_error_set(err, LR_EINVAL, "object key too long");
    st = lr_objstore_head(os, key, &size, NULL, err);
    if (st != LR_OK)
        return st;
    s = malloc(sizeof *s);
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    s->os = os;
    snprintf(s->key, sizeof s->key, "%s", key);
    out->read_at = os_read_at;
    out->size = size;
    out->ctx = s;
    return LR_OK;
}

void lr__pq_source_objstore_free(lr_pq_source *src)
{
    if (src == NULL)
        return;
    free(src->ctx);
    src->ctx = NULL;
}

/* ---- the flusher thread ---- */

static bool own_flush_due(lr_offline *s, int64_t now, int64_t *deadline)
{
    bool due;
    pthread_mutex_lock(&s->mu);
    due = s->pending_bytes >= s->cfg.flush_bytes ||
          (s->oldest_us != 0 && now - s->oldest_us >= s->cfg.flush_age_us);
    if (s->oldest_us != 0 && s->oldest_us + s->cfg.flush_age_us < *deadline)
        *deadline = s->oldest_us + s->cfg.flush_age_us;
    pthread_mutex_unlock(&s->mu);
    return due;
}

static lr_status flush_own(lr_offline *s, lr_error *err);

static void *flusher_main(void *arg)
{
    lr_offline *s = arg;
    int64_t next_adopt = lr_now_us(); /* adopt at start: a restart replays at once */

    pthread_mutex_lock(&s->cv_mu);
    while (!s->stop) {
        int64_t now = lr_now_us();
        int64_t deadline = next_adopt;
        bool own = own_flush_due(s, now, &deadline);
        bool adopt = now >= next_adopt;
        if (!own && !adopt && !s->wake) {
            struct timespec ts;
            int64_t wait_us = deadline - now;
            if (wait_us < 1000)
                wait_us = 1000;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + (wait_us % 1000000) * 1000;
            ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&s->cv, &s->cv_mu, &ts);
            continue;
        }
        s->wake = false;
        pthread_mutex_unlock(&s->cv_mu);
        lr_error e;
        lr_error_clear(&e);
        if (own && flush_own(s, &e) != LR_OK)
            lr_log_error("offline", "flush failed: %s", lr_error_message(&e));
        if (adopt) {
            pthread_mutex_lock(&s->flush_mu);
            if (lr__offline_adopt_orphans(s, &e) != LR_OK)
                lr_log_error("offline", "recovering logs: %s", lr_error_message(&e));
            lr_offline_gc_report gr;
            if (lr_offline_gc(s->cat, s->cfg.gc_grace_us, &gr, &e) != LR_OK)
                lr_log_error("offline", "garbage collection: %s", lr_error_message(&e));
            pthread_mutex_unlock(&s->flush_mu);
            next_adopt = lr_now_us() + s->cfg.flush_age_us;
        }
        pthread_mutex_lock(&s->cv_mu);
    }
    pthread_mutex_unlock(&s->cv_mu);
    return NULL;
}

static void wake_flusher(lr_offline *s)
{
    if (!s->thread_started)
        return;
    pthread_mutex_lock(&s->cv_mu);
    s->wake = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->cv_mu);
}

/* ---- open / close ---- */

/* A memtable holds about one flush of entries. */
static uint64_t memtable_cap(const lr_offline *s)
{
    return s->cfg.flush_bytes < MiB ? MiB : s->cfg.flush_bytes;
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static void store_free(lr_offline *s)
{
    if (s == NULL)
        return;
    lr__wal_close(s->wal);
    lr_catalog_close(s->cat);
    for (size_t i = 0; i < s->n_schemas; i++)
        free(s->schemas[i].name);
    free(s->schemas);
    for (size_t i = 0; i < s->n_damaged; i++)
        free(s->damaged_reported[i]);
    free(s->damaged_reported);
    lr__memtable_free(s->mt);
    pthread_mutex_destroy(&s->mt_mu);
    pthread_mutex_destroy(&s->schema_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->flush_mu);
    pthread_mutex_destroy(&s->cv_mu);
    pthread_cond_destroy(&s->cv);
    free(s->data_dir);
    free(s->wal_root);
    free(s->catalog_uri);
    free(s);
}

lr_status lr_offline_open(const char *data_dir, const lr_settings *settings,
                          const lr_offline_config *cfg, lr_offline **out, lr_error *err)
{
    lr_offline *s;
    lr_status st;
    lr__wal_config wc;
    char abs[PATH_MAX];

    *out = NULL;
    if (data_dir == NULL || data_dir[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "offline store: no data directory");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
    pthread_mutex_init(&s->schema_mu, NULL);
    pthread_mutex_init(&s->mt_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->flush_mu, NULL);
    pthread_mutex_init(&s->cv_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        lr_offline_config_init(&s->cfg);
    if (s->cfg.flush_bytes == 0 || s->cfg.segment_bytes == 0 || s->cfg.flush_age_us <= 0 ||
        s->cfg.gc_grace_us < 0 || (unsigned)s->cfg.sync > LR_OFFLINE_SYNC_NO) {
        st = lr_error_set(err, LR_EINVAL, "offline store: bad configuration (sizes and ages "
                                          "must be positive)");
        goto fail;
    }
    if (settings != NULL) {
        s->settings = *settings;
    } else {
        st = lr_settings_from_env(&s->settings, err);
        if (st != LR_OK)
            goto fail;
    }
    /* Open the catalog first: it creates the data directory when missing. */
    s->catalog_uri = strdup(s->cfg.catalog_uri ? s->cfg.catalog_uri : data_dir);
    if (s->catalog_uri == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
        goto fail;
    }
    s->cfg.catalog_uri = s->catalog_uri;
    st = lr_catalog_open(s->catalog_uri, &s->settings, &s->cat, err);
    if (st != LR_OK)
        goto fail;
    if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
        st = lr_error_set(err, LR_EIO, "offline store: cannot create %s: %s", data_dir,
                          strerror(errno));
        goto fail;
    }
    if (realpath(data_dir, abs) == NULL) {
        st = lr_error_set(err, LR_EIO, "offline store: %s: %s", data_dir, strerror(errno));
        goto fail;
    }
    s->data_dir = strdup(abs);
    s->wal_root = path_join(abs, "wal");
    if (s->data_dir == NULL || s->wal_root == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
        goto fail;
    }
    wc.sync = s->cfg.sync == LR_OFFLINE_SYNC_ALWAYS ? LR__WAL_SYNC_ALWAYS
              : s->cfg.sync == LR_OFFLINE_SYNC_NO   ? LR__WAL_SYNC_NO
                                                    : LR__WAL_SYNC_EVERYSEC;
    wc.segment_bytes = s->cfg.segment_bytes;
    st = lr__wal_create(s->wal_root, &wc, &s->wal, err);
    if (st != LR_OK)
        goto fail;
    /* The log is new, so an empty memtable describes it (no entries, no schemas). */
    if (s->cfg.memtable)
        s->mt = lr__memtable_new(memtable_cap(s));
    if (s->cfg.background) {
        if (pthread_create(&s->thread, NULL, flusher_main, s) != 0) {
            st = lr_error_set(err, LR_ENOMEM, "offline store: cannot start the flusher");
            goto fail;
        }
        s->thread_started = true;
    }
    *out = s;
    return LR_OK;
fail:
    if (s->wal != NULL) {
        lr__wal_destroy(s->wal, NULL);
        s->wal = NULL;
    }
    store_free(s);
    return st;
}

void lr_offline_close(lr_offline *s)
{
    lr_error e;
    uint64_t last, cp;

    if (s == NULL)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->cv_mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->cv_mu);
        pthread_join(s->thread, NULL);
        s->thread_started = false;
    }
    lr_error_clear(&e);
    if (s->cfg.flush_on_close && flush_own(s, &e) != LR_OK)
        lr_log_error("offline", "flush at close failed, the log %s stays for recovery: %s",
                     lr__wal_dir(s->wal), lr_error_message(&e));
    last = lr__wal_last_seq(s->wal);
    pthread_mutex_lock(&s->mu);
    cp = s->checkpoint;
    pthread_mutex_unlock(&s->mu);
    if (cp >= last) {
        /* Everything is in Parquet: remove the log, then its checkpoint. */
        char id[LR__WAL_ID_MAX + 1];
        snprintf(id, sizeof id, "%s", lr__wal_id(s->wal));
        lr__wal *w = s->wal;
        s->wal = NULL;
        if (lr__wal_destroy(w, &e) != LR_OK)
            lr_log_warn("offline", "removing the flushed log: %s", lr_error_message(&e));
        else if (cp > 0 && lr_catalog_offline_checkpoint_delete(s->cat, id, &e) != LR_OK)
            lr_log_warn("offline", "forgetting the log's checkpoint: %s", lr_error_message(&e));
    }
    store_free(s);
}

/* ---- appending ---- */

/* The schema id of def's version in the own log, writing the entry once. */
static lr_status schema_id_for(lr_offline *s, const lr_fg_def *def, uint32_t *id, lr_error *err)
{
    lr_status st = LR_OK;
    lr_buf b;

    pthread_mutex_lock(&s->schema_mu);
    for (size_t i = 0; i < s->n_schemas; i++) {
        lr__schema_ref *r = &s->schemas[i];
        if (r->created_us == def->creation_time_us &&
            r->modified_us == def->last_modified_time_us && strcmp(r->name, def->name) == 0) {
            *id = r->id;
            goto unlock;
        }
    }
    if (s->n_schemas == s->cap_schemas) {
        size_t nc = s->cap_schemas ? s->cap_schemas * 2 : 8;
        lr__schema_ref *n = realloc(s->schemas, nc * sizeof *n);
        if (n == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
            goto unlock;
        }
        s->schemas = n;
        s->cap_schemas = nc;
    }
    lr_buf_init(&b, LR__WAL_PAYLOAD_MAX);
    st = lr__entry_encode_schema(&b, def);
    if (st != LR_OK) {
        lr_error_set(err, st, "offline store: encoding the definition of %s: %s", def->name,
                     lr_strerror(st));
    } else {
        st = lr__wal_put_schema(s->wal, b.data, b.len, id, err);
    }
    if (st == LR_OK) {
        pthread_mutex_lock(&s->mt_mu);
        if (s->mt != NULL)
            lr__memtable_schema(s->mt, *id, b.data, b.len);
        pthread_mutex_unlock(&s->mt_mu);
    }
    lr_buf_free(&b);
    if (st != LR_OK)
        goto unlock;
    lr__schema_ref *r = &s->schemas[s->n_schemas];
    r->name = strdup(def->name);
    if (r->name == NULL) {
        /* The entry is in the log; without the cache a later write just adds another. */
        st = lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
        goto unlock;
    }
    r->created_us = def->creation_time_us;
    r->modified_us = def->last_modified_time_us;
    r->id = *id;
    s->n_schemas++;
unlock:
    pthread_mutex_unlock(&s->schema_mu);
    return st;
}

/*
 * write_time: the time of the append (one clock reading for all its
 * entries, which reach the log in one write), strictly increasing in log
 * order.
 */
static void stamp_write_time(void *arg, lr__wal_item *items, size_t n, uint64_t first_seq)
{
    lr_offline *s = arg;
    int64_t now = lr_now_us();
    (void)first_seq;
    for (size_t i = 0; i < n; i++) {
        if (now <= s->last_write_us)
            now = s->last_write_us + 1;
        s->last_write_us = now;
        lr__entry_stamp(items[i].data, now);
    }
}

/* After an append, under the log's lock: the entries go to the memtable too. */
static void stage_entries(void *arg, const lr__wal_item *items, size_t n, uint64_t first_seq)
{
    lr_offline *s = arg;
    pthread_mutex_lock(&s->mt_mu);
    if (s->mt != NULL)
        lr__memtable_add(s->mt, items, n, first_seq, s->wal_root);
    pthread_mutex_unlock(&s->mt_mu);
}

/* The checks of a row's group (lr_offline_encode_add() makes them once per run of one group). */
static lr_status check_group(const lr_fg_def *d, lr_error *err)
{
    const char *path;

    if (!d->has_offline_config || d->resolved_offline_uri == NULL)
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", d->name);
    if (!lr_objstore_uri_local_path(d->resolved_offline_uri, &path))
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "the offline store of feature group %s is at %s, and this build has "
                            "no S3 backend yet: give the group a local path or a file:// S3Uri",
                            d->name, d->resolved_offline_uri);
    return LR_OK;
}

static lr_status check_row(const lr_offline_write *r, lr_error *err)
{
    if (r->def == NULL || r->rec == NULL)
        return lr_error_set(err, LR_EINVAL, "offline store: a row without a group or record");
    if (r->rec->record_id.ptr == NULL || r->rec->record_id.len == 0)
        return lr_error_set(err, LR_EINVAL,
                            "offline store: the record was not validated (no record identifier)");
    if (r->rec->event_time_us < LR_TIME_MIN_US || r->rec->event_time_us > LR_TIME_MAX_US)
        return lr_error_set(err, LR_EINVAL, "offline store: event time out of range");
    return LR_OK;
}

void lr_offline_encoded_init(lr_offline_encoded *e)
{
    memset(e, 0, sizeof *e);
    lr_buf_init(&e->payloads, 0);
}

void lr_offline_encoded_free(lr_offline_encoded *e)
{
    if (e == NULL)
        return;
    lr_buf_free(&e->payloads);
    free(e->offs);
    free(e->items);
    memset(e, 0, sizeof *e);
}

lr_status lr_offline_encode(lr_offline *s, const lr_offline_write *rows, size_t n,
                            lr_offline_encoded *e, lr_error *err)
{
    e->n = 0; /* lr_offline_encode_add() then starts the buffer afresh */
    if (n == 0)
        return lr_error_set(err, LR_EINVAL, "offline store: nothing to write");
    return lr_offline_encode_add(s, rows, n, e, err);
}

lr_status lr_offline_encode_add(lr_offline *s, const lr_offline_write *rows, size_t n,
                                lr_offline_encoded *e, lr_error *err)
{
    lr_status st = LR_OK;
    size_t base = e->n;

    if (e->n == 0)
        lr_buf_clear(&e->payloads);
    if (base + n + 1 > e->cap) {
        size_t nc = e->cap ? e->cap : 64;
        while (nc < base + n + 1)
            nc *= 2;
        size_t *no = realloc(e->offs, nc * sizeof *no);
        if (no == NULL)
            return lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
        e->offs = no;
        lr__wal_item *ni = realloc(e->items, nc * sizeof *ni);
        if (ni == NULL)
            return lr_error_set(err, LR_ENOMEM, "offline store: out of memory");
        e->items = ni;
        e->cap = nc;
    }
    const lr_fg_def *prev = NULL;
    uint32_t sid = 0;
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        st = check_row(&rows[i], err);
        if (st == LR_OK && rows[i].def != prev) {
            /* Rows come in runs of one group: its checks and schema once per run. */
            st = check_group(rows[i].def, err);
            if (st == LR_OK)
                st = schema_id_for(s, rows[i].def, &sid, err);
            if (st == LR_OK)
                prev = rows[i].def;
        }
        if (st != LR_OK)
            break;
        e->offs[base + i] = e->payloads.len;
        st = lr__entry_encode_record(&e->payloads, sid, rows[i].rec, rows[i].is_deleted,
                                     rows[i].api_invocation_us);
        if (st == LR_OK && e->payloads.len - e->offs[base + i] > LR__WAL_PAYLOAD_MAX)
            st = LR_ELIMIT;
        if (st != LR_OK)
            lr_error_set(err, st, "offline store: encoding a record of %s: %s", rows[i].def->name,
                         lr_strerror(st));
    }
    if (st != LR_OK) {
        /* The rows encoded before stay; the failed call adds none. */
        e->payloads.len = base > 0 ? e->offs[base] : 0;
        if (e->payloads.data != NULL)
            e->payloads.data[e->payloads.len] = '\0';
        return st;
    }
    e->n = base + n;
    e->offs[e->n] = e->payloads.len;
    return LR_OK;
}

lr_status lr_offline_append(lr_offline *s, lr_offline_encoded *e, lr_error *err)
{
    lr_status st;
    uint64_t bytes = 0;
    int64_t now;
    size_t n = e->n;

    if (n == 0)
        return lr_error_set(err, LR_EINVAL, "offline store: nothing to write");
    for (size_t i = 0; i < n; i++) {
        e->items[i].data = e->payloads.data + e->offs[i];
        e->items[i].len = e->offs[i + 1] - e->offs[i];
        bytes += LR__WAL_ENTRY_HDR + e->items[i].len;
    }
    st = lr__wal_append(s->wal, e->items, n, stamp_write_time, stage_entries, s, NULL, err);
    if (st != LR_OK)
        return st;
    now = lr_now_us();
    bool due;
    pthread_mutex_lock(&s->mu);
    if (s->oldest_us == 0)
        s->oldest_us = now;
    s->pending_bytes += bytes;
    if (s->flushing) {
        if (s->after_oldest_us == 0)
            s->after_oldest_us = now;
        s->after_bytes += bytes;
    }
    due = s->pending_bytes >= s->cfg.flush_bytes;
    pthread_mutex_unlock(&s->mu);
    if (due)
        wake_flusher(s);
    return LR_OK;
}

lr_status lr_offline_write_batch(lr_offline *s, const lr_offline_write *rows, size_t n,
                                 lr_error *err)
{
    lr_offline_encoded e;
    lr_offline_encoded_init(&e);
    lr_status st = lr_offline_encode(s, rows, n, &e, err);
    if (st == LR_OK)
        st = lr_offline_append(s, &e, err);
    lr_offline_encoded_free(&e);
    return st;
}

lr_status lr_offline_put(lr_offline *s, const lr_fg_def *def, const lr_record *rec,
                         int64_t api_invocation_us, lr_error *err)
{
    lr_offline_write w = {def, rec, false, api_invocation_us};
    return lr_offline_write_batch(s, &w, 1, err);
}

lr_status lr_offline_delete(lr_offline *s, const lr_fg_def *def, const char *record_id,
                            size_t record_id_len, const char *event_time, size_t event_time_len,
                            int64_t api_invocation_us, lr_error *err)
{
    lr_feature_value v[2];
    lr_record rec;
    lr_status st;
    int64_t et;

    if (def == NULL || record_id == NULL || event_time == NULL)
        return lr_error_set(err, LR_EINVAL, "offline store: delete without identifier or time");
    memset(v, 0, sizeof v);
    v[0].feature = def->record_id_index;
    v[0].value.ptr = record_id;
    v[0].value.len = record_id_len;
    v[1].feature = def->event_time_index;
    v[1].value.ptr = event_time;
    v[1].value.len = event_time_len;
    if (record_id_len == 0 || record_id_len > LR_RECORD_ID_MAX_BYTES)
        return lr_error_set(err, LR_EINVAL,
                            "RecordIdentifierValueAsString must be 1..%d bytes",
                            LR_RECORD_ID_MAX_BYTES);
    st = lr_feature_value_validate(&def->features[def->record_id_index], &v[0], err);
    if (st != LR_OK)
        return st;
    st = lr_event_time_parse(event_time, event_time_len,
                             def->features[def->event_time_index].type, &et, err);
    if (st != LR_OK)
        return st;
    memset(&rec, 0, sizeof rec);
    rec.values = v;
    rec.n_values = 2;
    rec.record_id = v[0].value;
    rec.event_time_us = et;
    lr_offline_write w = {def, &rec, true, api_invocation_us};
    return lr_offline_write_batch(s, &w, 1, err);
}

/* ---- flushing ---- */

static lr_status flush_own(lr_offline *s, lr_error *err)
{
    uint64_t upto, done = 0;
    lr_status st;

    pthread_mutex_lock(&s->flush_mu);
    upto = lr__wal_last_seq(s->wal);
    pthread_mutex_lock(&s->mu);
    s->flushing = true;
    s->flush_upto = upto;
    s->after_oldest_us = 0;
    s->after_bytes = 0;
    pthread_mutex_unlock(&s->mu);
    /* Take the memtable (it may hold a few entries past upto: they are flushed too). */
    pthread_mutex_lock(&s->mt_mu);
    lr__memtable *mt = s->mt;
    s->mt = mt != NULL ? lr__memtable_fork(mt, memtable_cap(s)) : NULL;
    pthread_mutex_unlock(&s->mt_mu);

    st = lr__offline_flush_log(s, s->wal, upto, &done, mt, err);
    lr__memtable_free(mt);

    pthread_mutex_lock(&s->mu);
    s->flushing = false;
    if (done > s->checkpoint)
        s->checkpoint = done;
    /* (An append moves the log's last sequence before it takes mu to count itself.) */
    if (s->checkpoint >= lr__wal_last_seq(s->wal)) {
        /* Everything is flushed, also what the memtable took past upto. */
        s->oldest_us = 0;
        s->pending_bytes = 0;
    } else if (s->checkpoint >= upto) {
        /* What remains unflushed is what arrived during the flush (at most). */
        s->oldest_us = s->after_oldest_us;
        s->pending_bytes = s->after_bytes;
    }
    if (st != LR_OK)
        s->m.flush_errors++;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->flush_mu);
    return st;
}

lr_status lr_offline_flush(lr_offline *s, lr_error *err)
{
    lr_status st = flush_own(s, err);
    lr_status st2;
    lr_error e2;

    pthread_mutex_lock(&s->flush_mu);
    lr_error_clear(&e2);
    st2 = lr__offline_adopt_orphans(s, &e2);
    if (st2 == LR_OK)
        st2 = lr_offline_gc(s->cat, s->cfg.gc_grace_us, NULL, &e2);
    pthread_mutex_unlock(&s->flush_mu);
    if (st == LR_OK && st2 != LR_OK) {
        if (err != NULL)
            *err = e2;
        st = st2;
    }
    return st;
}

lr_status lr_offline_sync_now(lr_offline *s, lr_error *err)
{
    return lr__wal_sync(s->wal, err);
}

void lr_offline_metrics_get(lr_offline *s, lr_offline_metrics *out)
{
    uint64_t last = lr__wal_last_seq(s->wal);
    int64_t now = lr_now_us();

    pthread_mutex_lock(&s->mu);
    *out = s->m;
    out->pending_entries = last > s->checkpoint ? last - s->checkpoint : 0;
    out->lag_us = s->oldest_us != 0 && now > s->oldest_us ? now - s->oldest_us : 0;
    if (out->pending_entries == 0)
        out->lag_us = 0;
    pthread_mutex_unlock(&s->mu);
    out->log_bytes = lr__wal_root_bytes(s->wal_root);
}
