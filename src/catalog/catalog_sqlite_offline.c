/*
 * catalog_sqlite_offline.c - the offline store's catalog operations on the
 * SQLite backend: announcing files, registering them together with a log
 * checkpoint (compare-and-set), listing live files and partitions, and the
 * garbage collector's view of announcements. Tables: catalog_sqlite_offline.h.
 *
 * Durability. The backend runs with synchronous=NORMAL, where a power loss
 * may drop the last commits. That is not acceptable for the two writes of
 * the flush protocol: an announcement must be on disk before its file is
 * written (or garbage collection could never recognise the file), and a
 * commit must be on disk before the flusher deletes the log segments it
 * covers. So announce and commit switch the connection to synchronous=FULL
 * for their transaction (the pragma is per connection) and back after.
 *
 * Statements are prepared per call: these operations run a few times a
 * minute, not on a hot path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_sqlite_util.h"
#include "larder/arena.h"

#define FILE_COLS                                                                          \
    "root, key, fg_name, fg_created_us, partition, partition_start_us, rows, bytes,"      \
    " min_event_us, max_event_us, log_id, log_first_seq, log_last_seq, created_us"

/* Starts a write transaction with fsync-on-commit (see the file comment). */
static lr_status begin_durable(sqlite3 *db, lr_error *err)
{
    lr_status st = lr__sqlite_exec(db, "PRAGMA synchronous = FULL", "pragma", err);
    if (st == LR_OK)
        st = lr__sqlite_exec(db, "BEGIN IMMEDIATE", "begin write transaction", err);
    if (st != LR_OK)
        (void)lr__sqlite_exec(db, "PRAGMA synchronous = NORMAL", "pragma", NULL);
    return st;
}

/* Commits (st == LR_OK) or rolls back, and restores synchronous=NORMAL. */
static lr_status end_durable(sqlite3 *db, lr_status st, lr_error *err)
{
    if (st == LR_OK)
        st = lr__sqlite_exec(db, "COMMIT", "commit", err);
    if (st != LR_OK && !sqlite3_get_autocommit(db))
        (void)lr__sqlite_exec(db, "ROLLBACK", "rollback", NULL);
    (void)lr__sqlite_exec(db, "PRAGMA synchronous = NORMAL", "pragma", NULL);
    return st;
}

lr_status lr__sqlite_offline_announce(void *ctx, const lr_offline_file *files, size_t n,
                                      int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *ins = NULL;
    lr_status st = begin_durable(db, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db,
              "INSERT INTO offline_announced (root, key, fg_name, log_id, created_us)"
              " VALUES (?1, ?2, ?3, ?4, ?5)",
              &ins, err);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        lr__sqlite_text(ins, 1, files[i].root);
        lr__sqlite_text(ins, 2, files[i].key);
        lr__sqlite_text(ins, 3, files[i].fg_name);
        lr__sqlite_text(ins, 4, files[i].log_id);
        sqlite3_bind_int64(ins, 5, now_us);
        st = lr__sqlite_step_done(db, ins, "announce file", err);
        if (st == LR_EEXIST)
            lr_error_set(err, st, "catalog: %s/%s is already announced", files[i].root,
                         files[i].key);
    }
    sqlite3_finalize(ins);
    return end_durable(db, st, err);
}

static lr_status read_checkpoint(sqlite3 *db, const char *log_id, int64_t *seq, lr_error *err)
{
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "SELECT seq FROM offline_log_checkpoints WHERE log_id = ?1", &s, err);
    *seq = 0;
    if (st == LR_OK) {
        lr__sqlite_text(s, 1, log_id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *seq = sqlite3_column_int64(s, 0);
        else if (rc != SQLITE_DONE)
            st = lr__sqlite_error(db, rc, "read log checkpoint", err);
    }
    sqlite3_finalize(s);
    return st;
}

lr_status lr__sqlite_offline_commit(void *ctx, const char *log_id, int64_t expected_seq,
                                    int64_t new_seq, const lr_offline_file *files, size_t n,
                                    int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *unann = NULL, *ins = NULL, *part = NULL, *cp = NULL;
    lr_status st = begin_durable(db, err);
    int64_t cur;

    if (st != LR_OK)
        return st;
    if (log_id != NULL) {
        st = read_checkpoint(db, log_id, &cur, err);
        if (st == LR_OK && cur != expected_seq)
            st = lr_error_set(err, LR_ECONFLICT,
                              "catalog: log %s is registered up to %" PRId64 ", not %" PRId64
                              " (another process flushed it)",
                              log_id, cur, expected_seq);
        if (st == LR_OK)
            st = lr__sqlite_prep(db, "DELETE FROM offline_announced WHERE root = ?1 AND key = ?2", &unann,
                      err);
    }
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "INSERT INTO offline_files (" FILE_COLS ") VALUES"
                      " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                  &ins, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "INSERT INTO offline_partitions (fg_name, fg_created_us, partition,"
                      " start_us, created_us, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                      " ON CONFLICT (fg_name, fg_created_us, partition)"
                      " DO UPDATE SET updated_us = max(updated_us, excluded.updated_us)",
                  &part, err);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        const lr_offline_file *f = &files[i];
        if (unann != NULL) {
            bool withdrawn;
            st = lr__sqlite_step_file(db, unann, f->root, f->key, "withdraw announcement",
                                      &withdrawn, err);
            if (st == LR_OK && !withdrawn)
                st = lr_error_set(err, LR_ECONFLICT,
                                  "catalog: %s/%s is no longer announced (garbage collection "
                                  "removed it)",
                                  f->root, f->key);
            if (st != LR_OK)
                break;
        }
        lr__sqlite_bind_file(ins, f);
        lr__sqlite_text(ins, 11, log_id);
        sqlite3_bind_int64(ins, 12, log_id ? f->log_first_seq : 0);
        sqlite3_bind_int64(ins, 13, log_id ? f->log_last_seq : 0);
        sqlite3_bind_int64(ins, 14, now_us);
        st = lr__sqlite_step_done(db, ins, "register file", err);
        if (st == LR_EEXIST)
            lr_error_set(err, st, "catalog: %s/%s is already registered", f->root, f->key);
        if (st != LR_OK)
            break;
        lr__sqlite_text(part, 1, f->fg_name);
        sqlite3_bind_int64(part, 2, f->fg_created_us);
        lr__sqlite_text(part, 3, f->partition);
        sqlite3_bind_int64(part, 4, f->partition_start_us);
        sqlite3_bind_int64(part, 5, now_us);
        st = lr__sqlite_step_done(db, part, "register partition", err);
    }
    if (st == LR_OK && log_id != NULL) {
        st = lr__sqlite_prep(db, "INSERT INTO offline_log_checkpoints (log_id, seq, updated_us)"
                      " VALUES (?1, ?2, ?3) ON CONFLICT (log_id)"
                      " DO UPDATE SET seq = excluded.seq, updated_us = excluded.updated_us",
                  &cp, err);
        if (st == LR_OK) {
            lr__sqlite_text(cp, 1, log_id);
            sqlite3_bind_int64(cp, 2, new_seq);
            sqlite3_bind_int64(cp, 3, now_us);
            st = lr__sqlite_step_done(db, cp, "move log checkpoint", err);
        }
    }
    sqlite3_finalize(unann);
    sqlite3_finalize(ins);
    sqlite3_finalize(part);
    sqlite3_finalize(cp);
    return end_durable(db, st, err);
}

lr_status lr__sqlite_offline_checkpoint(void *ctx, const char *log_id, int64_t *seq,
                                        lr_error *err)
{
    return read_checkpoint(lr__catalog_sqlite_db(ctx), log_id, seq, err);
}

lr_status lr__sqlite_offline_checkpoint_delete(void *ctx, const char *log_id, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "DELETE FROM offline_log_checkpoints WHERE log_id = ?1", &s, err);
    if (st == LR_OK) {
        lr__sqlite_text(s, 1, log_id);
        st = lr__sqlite_step_done(db, s, "forget log checkpoint", err);
    }
    sqlite3_finalize(s);
    return st;
}

/* Copies a text column into the arena ("" for NULL when `keep_null` is false). */
static const char *col_str(lr_arena *a, sqlite3_stmt *s, int i, bool keep_null, bool *oom)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    char *c;
    if (t == NULL) {
        if (keep_null)
            return NULL;
        t = (const unsigned char *)"";
    }
    c = lr_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
    if (c == NULL)
        *oom = true;
    return c;
}

/* Collects the rows of a SELECT FILE_COLS query into *out. */
static lr_status collect_files(sqlite3 *db, sqlite3_stmt *s, lr_offline_file_list *out,
                               lr_error *err)
{
    size_t cap = 0;
    bool oom = false;
    int rc;

    memset(out, 0, sizeof *out);
    out->arena = lr_arena_new(0, 0);
    if (out->arena == NULL)
        return lr_error_set(err, LR_ENOMEM, "catalog: out of memory");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            lr_offline_file *ni = realloc(out->items, nc * sizeof *ni);
            if (ni == NULL) {
                oom = true;
                break;
            }
            out->items = ni;
            cap = nc;
        }
        lr_offline_file *f = &out->items[out->n++];
        memset(f, 0, sizeof *f);
        f->root = col_str(out->arena, s, 0, false, &oom);
        f->key = col_str(out->arena, s, 1, false, &oom);
        f->fg_name = col_str(out->arena, s, 2, false, &oom);
        f->fg_created_us = sqlite3_column_int64(s, 3);
        f->partition = col_str(out->arena, s, 4, false, &oom);
        f->partition_start_us = sqlite3_column_int64(s, 5);
        f->rows = sqlite3_column_int64(s, 6);
        f->bytes = sqlite3_column_int64(s, 7);
        f->min_event_us = sqlite3_column_int64(s, 8);
        f->max_event_us = sqlite3_column_int64(s, 9);
        f->log_id = col_str(out->arena, s, 10, true, &oom);
        f->log_first_seq = sqlite3_column_int64(s, 11);
        f->log_last_seq = sqlite3_column_int64(s, 12);
        f->created_us = sqlite3_column_int64(s, 13);
        if (oom)
            break;
    }
    if (oom) {
        lr_offline_file_list_free(out);
        return lr_error_set(err, LR_ENOMEM, "catalog: out of memory");
    }
    if (rc != SQLITE_DONE) {
        lr_status st = lr__sqlite_error(db, rc, "list offline files", err);
        lr_offline_file_list_free(out);
        return st;
    }
    return LR_OK;
}

lr_status lr__sqlite_offline_files(void *ctx, const char *fg_name, int64_t fg_created_us,
                                   int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                                   lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "SELECT " FILE_COLS " FROM offline_files"
                            " WHERE fg_name = ?1 AND fg_created_us = ?2"
                            " AND max_event_us >= ?3 AND min_event_us < ?4"
                            " ORDER BY partition_start_us, partition, key",
                        &s, err);
    memset(out, 0, sizeof *out);
    if (st == LR_OK) {
        lr__sqlite_text(s, 1, fg_name);
        sqlite3_bind_int64(s, 2, fg_created_us);
        sqlite3_bind_int64(s, 3, start_us);
        sqlite3_bind_int64(s, 4, end_us);
        st = collect_files(db, s, out, err);
    }
    sqlite3_finalize(s);
    return st;
}

lr_status lr__sqlite_offline_file_exists(void *ctx, const char *root, const char *key,
                                         bool *found, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "SELECT 1 FROM offline_files WHERE root = ?1 AND key = ?2", &s, err);
    *found = false;
    if (st == LR_OK) {
        lr__sqlite_text(s, 1, root);
        lr__sqlite_text(s, 2, key);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *found = true;
        else if (rc != SQLITE_DONE)
            st = lr__sqlite_error(db, rc, "look up offline file", err);
    }
    sqlite3_finalize(s);
    return st;
}

lr_status lr__sqlite_offline_announced(void *ctx, int64_t before_us, size_t max,
                                       lr_offline_file_list *out, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "SELECT root, key, fg_name, 0, '', 0, 0, 0, 0, 0, log_id, 0, 0,"
                            " created_us FROM offline_announced WHERE created_us < ?1"
                            " ORDER BY created_us, root, key LIMIT ?2",
                        &s, err);
    memset(out, 0, sizeof *out);
    if (st == LR_OK) {
        sqlite3_bind_int64(s, 1, before_us);
        sqlite3_bind_int64(s, 2, max == 0 || max > INT64_MAX ? -1 : (int64_t)max);
        st = collect_files(db, s, out, err);
    }
    sqlite3_finalize(s);
    return st;
}

lr_status lr__sqlite_offline_unannounce(void *ctx, const char *root, const char *key,
                                        bool *removed, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db, "DELETE FROM offline_announced WHERE root = ?1 AND key = ?2", &s, err);
    *removed = false;
    if (st == LR_OK)
        st = lr__sqlite_step_file(db, s, root, key, "withdraw announcement", removed, err);
    sqlite3_finalize(s);
    return st;
}

lr_status lr__sqlite_offline_partitions(void *ctx, const char *fg_name, int64_t fg_created_us,
                                        lr_offline_partition_info **out, size_t *n,
                                        lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_offline_partition_info *v = NULL;
    size_t cap = 0, cnt = 0;
    int rc;
    lr_status st = lr__sqlite_prep(db, "SELECT f.partition, min(f.partition_start_us), count(*), sum(f.rows),"
                            " sum(f.bytes), min(f.min_event_us), max(f.max_event_us),"
                            " coalesce(max(p.updated_us), max(f.created_us))"
                            " FROM offline_files f LEFT JOIN offline_partitions p"
                            " ON p.fg_name = f.fg_name AND p.fg_created_us = f.fg_created_us"
                            " AND p.partition = f.partition"
                            " WHERE f.fg_name = ?1 AND f.fg_created_us = ?2"
                            " GROUP BY f.partition ORDER BY 2, 1",
                        &s, err);
    *out = NULL;
    *n = 0;
    if (st != LR_OK)
        goto done;
    lr__sqlite_text(s, 1, fg_name);
    sqlite3_bind_int64(s, 2, fg_created_us);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 32;
            lr_offline_partition_info *nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "catalog: out of memory");
                goto done;
            }
            v = nv;
            cap = nc;
        }
        lr_offline_partition_info *p = &v[cnt++];
        memset(p, 0, sizeof *p);
        snprintf(p->partition, sizeof p->partition, "%s",
                 (const char *)sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                         : "");
        p->start_us = sqlite3_column_int64(s, 1);
        p->files = sqlite3_column_int64(s, 2);
        p->rows = sqlite3_column_int64(s, 3);
        p->bytes = sqlite3_column_int64(s, 4);
        p->min_event_us = sqlite3_column_int64(s, 5);
        p->max_event_us = sqlite3_column_int64(s, 6);
        p->updated_us = sqlite3_column_int64(s, 7);
    }
    if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(db, rc, "list offline partitions", err);
        goto done;
    }
    *out = v;
    *n = cnt;
    v = NULL;
done:
    free(v);
    sqlite3_finalize(s);
    return st;
}
