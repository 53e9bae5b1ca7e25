/*
 * catalog_sqlite_compact.c - compaction's catalog operations on the SQLite
 * backend: jobs and their partitions, leases, pending output, the swap,
 * retired files, partition states and the live files of compacted copies.
 * Tables: catalog_sqlite_compact.h.
 *
 * Every write is one BEGIN IMMEDIATE transaction, so each check and the
 * change it guards happen under the one write lock (a lease cannot be taken
 * between its check and the swap that relies on it). Two writes must be on
 * disk before the caller acts on them, as in the offline store's flush:
 * recording pending output (before the files are written: otherwise a
 * crash could leave files that nothing identifies as a compaction's) and
 * the swap (before retired files are deleted). Those two switch the
 * connection to synchronous=FULL for their transaction.
 *
 * Statements are prepared per call: these operations run a few times per
 * partition compacted, never on a hot path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_sqlite_util.h"
#include "catalog/catalog_sqlite_compact.h"
#include "larder/arena.h"

#define JOB_COLS                                                                                   \
    "id, fg_name, fg_created_us, mode, date, partition_mode, target, dedup, grace_us,"             \
    " target_file_bytes, status, error, holder_host, holder_boot, holder_pid,"                     \
    " holder_start, start_us, end_us, expires_us, partitions, partitions_done,"                    \
    " partitions_failed, files_in, files_out, rows_in, rows_out, rows_dropped, bytes_in,"          \
    " bytes_out"

#define PART_COLS                                                                                  \
    "job_id, partition, status, error, files_in, files_out, rows_in, rows_out,"                    \
    " rows_dropped, bytes_in, bytes_out, end_us"

#define HOLDER_MATCH                                                                               \
    "holder_host = ?%d AND holder_boot = ?%d AND holder_pid = ?%d AND holder_start = ?%d"

/* ---- helpers ---- */

/* Binds a holder at parameters first .. first+3. */
static void bind_holder(sqlite3_stmt *s, int first, const lr_job_holder *h)
{
    lr__sqlite_text(s, first, h->host);
    lr__sqlite_text(s, first + 1, h->boot_id);
    sqlite3_bind_int64(s, first + 2, h->pid);
    sqlite3_bind_int64(s, first + 3, h->start_ticks);
}

/* Starts a write transaction; `durable` makes its commit fsync (file comment). */
static lr_status begin(sqlite3 *db, bool durable, lr_error *err)
{
    lr_status st = LR_OK;
    if (durable)
        st = lr__sqlite_exec(db, "PRAGMA synchronous = FULL", "pragma", err);
    if (st == LR_OK)
        st = lr__sqlite_exec(db, "BEGIN IMMEDIATE", "begin write transaction", err);
    if (st != LR_OK && durable)
        (void)lr__sqlite_exec(db, "PRAGMA synchronous = NORMAL", "pragma", NULL);
    return st;
}

/* Commits (st == LR_OK) or rolls back; restores synchronous=NORMAL after a durable one. */
static lr_status end(sqlite3 *db, bool durable, lr_status st, lr_error *err)
{
    if (st == LR_OK)
        st = lr__sqlite_exec(db, "COMMIT", "commit", err);
    if (st != LR_OK && !sqlite3_get_autocommit(db))
        (void)lr__sqlite_exec(db, "ROLLBACK", "rollback", NULL);
    if (durable)
        (void)lr__sqlite_exec(db, "PRAGMA synchronous = NORMAL", "pragma", NULL);
    return st;
}

static lr_status oom(lr_error *err)
{
    return lr_error_set(err, LR_ENOMEM, "catalog: out of memory");
}

/* Copies a text column into the arena; NULL stays NULL. */
static const char *col_str(lr_arena *a, sqlite3_stmt *s, int i, bool *failed)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    char *c;
    if (t == NULL)
        return NULL;
    c = lr_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
    if (c == NULL)
        *failed = true;
    return c;
}

/* Reads the job row at the start of an open write transaction: its status and holder. */
static lr_status job_row(sqlite3 *db, int64_t id, bool *found, char *status, size_t cap,
                         lr_job_holder *h, lr_error *err)
{
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db,
                        "SELECT status, holder_host, holder_boot, holder_pid, holder_start"
                        " FROM compact_jobs WHERE id = ?1",
                        &s, err);
    *found = false;
    if (st != LR_OK)
        return st;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = true;
        snprintf(status, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        memset(h, 0, sizeof *h);
        snprintf(h->host, sizeof h->host, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(h->boot_id, sizeof h->boot_id, "%s", (const char *)sqlite3_column_text(s, 2));
        h->pid = sqlite3_column_int64(s, 3);
        h->start_ticks = sqlite3_column_int64(s, 4);
    } else if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(db, rc, "read job", err);
    }
    sqlite3_finalize(s);
    return st;
}

static bool holder_equal(const lr_job_holder *a, const lr_job_holder *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->boot_id, b->boot_id) == 0 &&
           a->pid == b->pid && a->start_ticks == b->start_ticks;
}

/* Checks, inside a write transaction, that job `id` is InProgress under `h`. */
static lr_status check_running(sqlite3 *db, int64_t id, const lr_job_holder *h, lr_error *err)
{
    char status[32];
    lr_job_holder cur;
    bool found;
    lr_status st = job_row(db, id, &found, status, sizeof status, &cur, err);
    if (st != LR_OK)
        return st;
    if (!found)
        return lr_error_set(err, LR_ENOTFOUND, "no job %" PRId64, id);
    if (strcmp(status, "InProgress") != 0)
        return lr_error_set(err, LR_ECONFLICT, "job %" PRId64 " is %s, no longer running", id,
                            status);
    if (!holder_equal(&cur, h))
        return lr_error_set(err, LR_ECONFLICT,
                            "job %" PRId64 " is run by pid %" PRId64 " on %s, not this process", id,
                            cur.pid, cur.host);
    return LR_OK;
}

/* ---- jobs ---- */

static lr_status job_create(void *ctx, lr_compact_job *job, const char *const *partitions, size_t n,
                            int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *ins = NULL, *part = NULL;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db,
              "INSERT INTO compact_jobs (fg_name, fg_created_us, mode, date, partition_mode,"
              " target, dedup, grace_us, target_file_bytes, status, holder_host, holder_boot,"
              " holder_pid, holder_start, start_us, expires_us, partitions) VALUES (?1, ?2,"
              " ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'InProgress', ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
              &ins, err);
    if (st == LR_OK) {
        lr__sqlite_text(ins, 1, job->fg_name);
        sqlite3_bind_int64(ins, 2, job->fg_created_us);
        lr__sqlite_text(ins, 3, job->mode);
        lr__sqlite_text(ins, 4, job->date);
        lr__sqlite_text(ins, 5, job->partition_mode);
        lr__sqlite_text(ins, 6, job->target);
        sqlite3_bind_int(ins, 7, job->dedup ? 1 : 0);
        sqlite3_bind_int64(ins, 8, job->grace_us);
        sqlite3_bind_int64(ins, 9, job->target_file_bytes);
        bind_holder(ins, 10, &job->holder);
        sqlite3_bind_int64(ins, 14, now_us);
        sqlite3_bind_int64(ins, 15, job->expires_us);
        sqlite3_bind_int64(ins, 16, (int64_t)n);
        st = lr__sqlite_step_done(db, ins, "create job", err);
    }
    if (st == LR_OK) {
        job->id = sqlite3_last_insert_rowid(db);
        job->start_us = now_us;
        job->status = LR_JOB_IN_PROGRESS;
        st = lr__sqlite_prep(db,
                  "INSERT INTO compact_job_partitions (job_id, partition, status)"
                  " VALUES (?1, ?2, 'Pending')",
                  &part, err);
    }
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        sqlite3_bind_int64(part, 1, job->id);
        lr__sqlite_text(part, 2, partitions[i]);
        st = lr__sqlite_step_done(db, part, "record job partition", err);
        if (st == LR_EEXIST)
            lr_error_set(err, LR_EINVAL, "catalog: partition %s named twice", partitions[i]);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(part);
    return end(db, false, st, err);
}

static lr_status job_heartbeat(void *ctx, int64_t job_id, const lr_job_holder *h,
                               int64_t expires_us, bool *owned, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *j = NULL, *l = NULL;
    char sql[512];
    lr_status st = begin(db, false, err);

    *owned = false;
    if (st != LR_OK)
        return st;
    snprintf(sql, sizeof sql,
             "UPDATE compact_jobs SET expires_us = ?1 WHERE id = ?2 AND status = 'InProgress'"
             " AND " HOLDER_MATCH,
             3, 4, 5, 6);
    st = lr__sqlite_prep(db, sql, &j, err);
    if (st == LR_OK) {
        sqlite3_bind_int64(j, 1, expires_us);
        sqlite3_bind_int64(j, 2, job_id);
        bind_holder(j, 3, h);
        st = lr__sqlite_step_done(db, j, "renew job", err);
        *owned = st == LR_OK && sqlite3_changes(db) == 1;
    }
    if (st == LR_OK && *owned) {
        st = lr__sqlite_prep(db, "UPDATE compact_leases SET expires_us = ?1 WHERE job_id = ?2", &l, err);
        if (st == LR_OK) {
            sqlite3_bind_int64(l, 1, expires_us);
            sqlite3_bind_int64(l, 2, job_id);
            st = lr__sqlite_step_done(db, l, "renew leases", err);
        }
    }
    sqlite3_finalize(j);
    sqlite3_finalize(l);
    st = end(db, false, st, err);
    if (st != LR_OK)
        *owned = false;
    return st;
}

static void bind_counts(sqlite3_stmt *s, int first, const lr_compact_job_partition *p)
{
    sqlite3_bind_int64(s, first, p->files_in);
    sqlite3_bind_int64(s, first + 1, p->files_out);
    sqlite3_bind_int64(s, first + 2, p->rows_in);
    sqlite3_bind_int64(s, first + 3, p->rows_out);
    sqlite3_bind_int64(s, first + 4, p->rows_dropped);
    sqlite3_bind_int64(s, first + 5, p->bytes_in);
    sqlite3_bind_int64(s, first + 6, p->bytes_out);
}

/*
 * Ends a Pending partition of a job with `status` and p's counts; when
 * `add_totals` the counts are added to the job's. LR_ECONFLICT when the
 * partition is not Pending, LR_ENOTFOUND when the job has no such partition.
 */
static lr_status end_partition(sqlite3 *db, const lr_compact_job_partition *p, const char *status,
                               const char *error, bool add_totals, int64_t now_us, lr_error *err)
{
    sqlite3_stmt *u = NULL, *q = NULL, *t = NULL;
    lr_status st = lr__sqlite_prep(db,
                        "UPDATE compact_job_partitions SET status = ?1, error = ?2,"
                        " files_in = ?3, files_out = ?4, rows_in = ?5, rows_out = ?6,"
                        " rows_dropped = ?7, bytes_in = ?8, bytes_out = ?9, end_us = ?10"
                        " WHERE job_id = ?11 AND partition = ?12 AND status = 'Pending'",
                        &u, err);
    if (st == LR_OK) {
        lr__sqlite_text(u, 1, status);
        lr__sqlite_text(u, 2, error);
        bind_counts(u, 3, p);
        sqlite3_bind_int64(u, 10, now_us);
        sqlite3_bind_int64(u, 11, p->job_id);
        lr__sqlite_text(u, 12, p->partition);
        st = lr__sqlite_step_done(db, u, "end job partition", err);
    }
    if (st == LR_OK && sqlite3_changes(db) != 1) {
        st = lr__sqlite_prep(db,
                  "SELECT status FROM compact_job_partitions WHERE job_id = ?1"
                  " AND partition = ?2",
                  &q, err);
        if (st == LR_OK) {
            sqlite3_bind_int64(q, 1, p->job_id);
            lr__sqlite_text(q, 2, p->partition);
            int rc = sqlite3_step(q);
            if (rc == SQLITE_ROW)
                st =
                    lr_error_set(err, LR_ECONFLICT, "partition %s of job %" PRId64 " is already %s",
                                 p->partition, p->job_id, (const char *)sqlite3_column_text(q, 0));
            else if (rc == SQLITE_DONE)
                st = lr_error_set(err, LR_ENOTFOUND, "job %" PRId64 " has no partition %s",
                                  p->job_id, p->partition);
            else
                st = lr__sqlite_error(db, rc, "read job partition", err);
        }
    }
    if (st == LR_OK) {
        st = lr__sqlite_prep(db,
                  add_totals ? "UPDATE compact_jobs SET partitions_done = partitions_done + 1,"
                               " files_in = files_in + ?1, files_out = files_out + ?2,"
                               " rows_in = rows_in + ?3, rows_out = rows_out + ?4,"
                               " rows_dropped = rows_dropped + ?5, bytes_in = bytes_in + ?6,"
                               " bytes_out = bytes_out + ?7 WHERE id = ?8"
                             : "UPDATE compact_jobs SET partitions_failed = partitions_failed + 1"
                               " WHERE id = ?8",
                  &t, err);
        if (st == LR_OK) {
            if (add_totals)
                bind_counts(t, 1, p);
            sqlite3_bind_int64(t, 8, p->job_id);
            st = lr__sqlite_step_done(db, t, "update job totals", err);
        }
    }
    sqlite3_finalize(u);
    sqlite3_finalize(q);
    sqlite3_finalize(t);
    return st;
}

static lr_status job_partition_fail(void *ctx, const lr_compact_job_partition *p, int64_t now_us,
                                    lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    char status[32];
    lr_job_holder h;
    bool found;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = job_row(db, p->job_id, &found, status, sizeof status, &h, err);
    if (st == LR_OK && !found)
        st = lr_error_set(err, LR_ENOTFOUND, "no job %" PRId64, p->job_id);
    if (st == LR_OK && strcmp(status, "InProgress") != 0)
        st = lr_error_set(err, LR_ECONFLICT, "job %" PRId64 " is %s, no longer running", p->job_id,
                          status);
    if (st == LR_OK)
        st = end_partition(db, p, "Failed", p->error ? p->error : "failed", false, now_us, err);
    return end(db, false, st, err);
}

/* Marks the Pending partitions of a job Failed with "not compacted: <why>". */
static lr_status fail_pending(sqlite3 *db, int64_t job_id, const char *why, int64_t now_us,
                              lr_error *err)
{
    sqlite3_stmt *u = NULL, *c = NULL;
    lr_status st = lr__sqlite_prep(db,
                        "UPDATE compact_job_partitions SET status = 'Failed',"
                        " error = 'not compacted: ' || ?1, end_us = ?2"
                        " WHERE job_id = ?3 AND status = 'Pending'",
                        &u, err);
    if (st == LR_OK) {
        lr__sqlite_text(u, 1, why ? why : "the job ended first");
        sqlite3_bind_int64(u, 2, now_us);
        sqlite3_bind_int64(u, 3, job_id);
        st = lr__sqlite_step_done(db, u, "fail pending partitions", err);
    }
    if (st == LR_OK && sqlite3_changes(db) > 0) {
        int n = sqlite3_changes(db);
        st = lr__sqlite_prep(db,
                  "UPDATE compact_jobs SET partitions_failed = partitions_failed + ?1"
                  " WHERE id = ?2",
                  &c, err);
        if (st == LR_OK) {
            sqlite3_bind_int(c, 1, n);
            sqlite3_bind_int64(c, 2, job_id);
            st = lr__sqlite_step_done(db, c, "update job totals", err);
        }
    }
    sqlite3_finalize(u);
    sqlite3_finalize(c);
    return st;
}

static lr_status job_finish(void *ctx, int64_t job_id, const lr_job_holder *h, lr_job_status status,
                            const char *error, int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *q = NULL, *u = NULL;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = check_running(db, job_id, h, err);
    if (st == LR_OK && status == LR_JOB_COMPLETED) {
        /* Nothing is reported Completed that did not happen. */
        st = lr__sqlite_prep(db,
                  "SELECT count(*) FROM compact_job_partitions WHERE job_id = ?1"
                  " AND status != 'Completed'",
                  &q, err);
        if (st == LR_OK) {
            sqlite3_bind_int64(q, 1, job_id);
            int rc = sqlite3_step(q);
            if (rc != SQLITE_ROW)
                st = lr__sqlite_error(db, rc, "count job partitions", err);
            else if (sqlite3_column_int64(q, 0) != 0)
                st = lr_error_set(err, LR_ECONFLICT,
                                  "job %" PRId64 " cannot be Completed: %lld partition(s) are not",
                                  job_id, (long long)sqlite3_column_int64(q, 0));
        }
    }
    if (st == LR_OK && status == LR_JOB_FAILED)
        st = fail_pending(db, job_id, error, now_us, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "UPDATE compact_jobs SET status = ?1, error = ?2, end_us = ?3"
                  " WHERE id = ?4",
                  &u, err);
    if (st == LR_OK) {
        lr__sqlite_text(u, 1, lr_job_status_name(status));
        lr__sqlite_text(u, 2, error);
        sqlite3_bind_int64(u, 3, now_us);
        sqlite3_bind_int64(u, 4, job_id);
        st = lr__sqlite_step_done(db, u, "end job", err);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    return end(db, false, st, err);
}

static lr_status job_fail_dead(void *ctx, int64_t job_id, const lr_job_holder *h,
                               const char *reason, int64_t now_us, bool *changed, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *u = NULL, *l = NULL;
    char sql[512];
    lr_status st = begin(db, false, err);

    *changed = false;
    if (st != LR_OK)
        return st;
    snprintf(sql, sizeof sql,
             "UPDATE compact_jobs SET status = 'Failed', error = ?1, end_us = ?2"
             " WHERE id = ?3 AND status = 'InProgress' AND " HOLDER_MATCH,
             4, 5, 6, 7);
    st = lr__sqlite_prep(db, sql, &u, err);
    if (st == LR_OK) {
        lr__sqlite_text(u, 1, reason ? reason : "the process running the job died");
        sqlite3_bind_int64(u, 2, now_us);
        sqlite3_bind_int64(u, 3, job_id);
        bind_holder(u, 4, h);
        st = lr__sqlite_step_done(db, u, "fail dead job", err);
        *changed = st == LR_OK && sqlite3_changes(db) == 1;
    }
    if (st == LR_OK && *changed)
        st = fail_pending(db, job_id, reason, now_us, err);
    if (st == LR_OK && *changed) {
        st = lr__sqlite_prep(db, "DELETE FROM compact_leases WHERE job_id = ?1", &l, err);
        if (st == LR_OK) {
            sqlite3_bind_int64(l, 1, job_id);
            st = lr__sqlite_step_done(db, l, "release leases", err);
        }
    }
    sqlite3_finalize(u);
    sqlite3_finalize(l);
    st = end(db, false, st, err);
    if (st != LR_OK)
        *changed = false;
    return st;
}

static lr_status read_job(lr_arena *a, sqlite3_stmt *s, lr_compact_job *j, bool *failed)
{
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(s, 0);
    j->fg_name = col_str(a, s, 1, failed);
    j->fg_created_us = sqlite3_column_int64(s, 2);
    j->mode = col_str(a, s, 3, failed);
    j->date = col_str(a, s, 4, failed);
    j->partition_mode = col_str(a, s, 5, failed);
    j->target = col_str(a, s, 6, failed);
    j->dedup = sqlite3_column_int(s, 7) != 0;
    j->grace_us = sqlite3_column_int64(s, 8);
    j->target_file_bytes = sqlite3_column_int64(s, 9);
    if (lr_job_status_parse((const char *)sqlite3_column_text(s, 10), &j->status, NULL) != LR_OK)
        j->status = LR_JOB_FAILED;
    j->error = col_str(a, s, 11, failed);
    snprintf(j->holder.host, sizeof j->holder.host, "%s",
             sqlite3_column_text(s, 12) ? (const char *)sqlite3_column_text(s, 12) : "");
    snprintf(j->holder.boot_id, sizeof j->holder.boot_id, "%s",
             sqlite3_column_text(s, 13) ? (const char *)sqlite3_column_text(s, 13) : "");
    j->holder.pid = sqlite3_column_int64(s, 14);
    j->holder.start_ticks = sqlite3_column_int64(s, 15);
    j->start_us = sqlite3_column_int64(s, 16);
    j->end_us = sqlite3_column_int64(s, 17);
    j->expires_us = sqlite3_column_int64(s, 18);
    j->partitions = sqlite3_column_int64(s, 19);
    j->partitions_done = sqlite3_column_int64(s, 20);
    j->partitions_failed = sqlite3_column_int64(s, 21);
    j->files_in = sqlite3_column_int64(s, 22);
    j->files_out = sqlite3_column_int64(s, 23);
    j->rows_in = sqlite3_column_int64(s, 24);
    j->rows_out = sqlite3_column_int64(s, 25);
    j->rows_dropped = sqlite3_column_int64(s, 26);
    j->bytes_in = sqlite3_column_int64(s, 27);
    j->bytes_out = sqlite3_column_int64(s, 28);
    return LR_OK;
}

static lr_status read_parts(sqlite3 *db, lr_compact_job_list *out, lr_error *err)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    bool failed = false;
    lr_status st = lr__sqlite_prep(db,
                        "SELECT " PART_COLS " FROM compact_job_partitions WHERE job_id = ?1"
                        " ORDER BY partition",
                        &s, err);
    for (size_t i = 0; i < out->n && st == LR_OK; i++) {
        int rc;
        sqlite3_bind_int64(s, 1, out->items[i].id);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (out->n_parts == cap) {
                size_t nc = cap ? cap * 2 : 32;
                lr_compact_job_partition *np = realloc(out->parts, nc * sizeof *np);
                if (np == NULL) {
                    failed = true;
                    break;
                }
                out->parts = np;
                cap = nc;
            }
            lr_compact_job_partition *p = &out->parts[out->n_parts++];
            memset(p, 0, sizeof *p);
            p->job_id = sqlite3_column_int64(s, 0);
            p->partition = col_str(out->arena, s, 1, &failed);
            if (lr_job_status_parse((const char *)sqlite3_column_text(s, 2), &p->status, NULL) !=
                LR_OK)
                p->status = LR_JOB_FAILED;
            p->error = col_str(out->arena, s, 3, &failed);
            p->files_in = sqlite3_column_int64(s, 4);
            p->files_out = sqlite3_column_int64(s, 5);
            p->rows_in = sqlite3_column_int64(s, 6);
            p->rows_out = sqlite3_column_int64(s, 7);
            p->rows_dropped = sqlite3_column_int64(s, 8);
            p->bytes_in = sqlite3_column_int64(s, 9);
            p->bytes_out = sqlite3_column_int64(s, 10);
            p->end_us = sqlite3_column_int64(s, 11);
            if (failed)
                break;
        }
        if (failed)
            st = oom(err);
        else if (rc != SQLITE_DONE)
            st = lr__sqlite_error(db, rc, "list job partitions", err);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return st;
}

static lr_status jobs_list(void *ctx, const lr_compact_job_query *q, int64_t only_id,
                           lr_compact_job_list *out, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    bool failed = false;
    int rc = SQLITE_DONE;
    lr_status st;

    memset(out, 0, sizeof *out);
    out->arena = lr_arena_new(0, 0);
    if (out->arena == NULL)
        return oom(err);
    /* One read transaction: the jobs and their partitions from one snapshot. */
    st = lr__sqlite_exec(db, "BEGIN", "begin read transaction", err);
    if (st != LR_OK)
        goto done;
    st = lr__sqlite_prep(db,
              "SELECT " JOB_COLS " FROM compact_jobs WHERE (?1 IS NULL OR fg_name = ?1)"
              " AND (?2 IS NULL OR status = ?2) AND (?3 = 0 OR id < ?3)"
              " AND (?4 = 0 OR id = ?4) ORDER BY id DESC LIMIT ?5",
              &s, err);
    if (st != LR_OK)
        goto done;
    lr__sqlite_text(s, 1, q->fg_name);
    lr__sqlite_text(s, 2, q->status ? lr_job_status_name(q->status) : NULL);
    sqlite3_bind_int64(s, 3, q->before_id);
    sqlite3_bind_int64(s, 4, only_id);
    sqlite3_bind_int64(s, 5, q->max_results ? q->max_results : 100);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            lr_compact_job *ni = realloc(out->items, nc * sizeof *ni);
            if (ni == NULL) {
                failed = true;
                break;
            }
            out->items = ni;
            cap = nc;
        }
        read_job(out->arena, s, &out->items[out->n++], &failed);
        if (failed)
            break;
    }
    if (failed) {
        st = oom(err);
        goto done;
    }
    if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(db, rc, "list jobs", err);
        goto done;
    }
    if (q->with_partitions)
        st = read_parts(db, out, err);
done:
    sqlite3_finalize(s);
    if (!sqlite3_get_autocommit(db))
        (void)lr__sqlite_exec(db, "COMMIT", "end read transaction", NULL);
    if (st != LR_OK)
        lr_compact_job_list_free(out);
    return st;
}

/* ---- leases ---- */

static lr_status lease_acquire(void *ctx, const char *fg_name, int64_t fg_created_us,
                               const char *const *partitions, size_t n, int64_t job_id,
                               const lr_job_holder *h, int64_t expires_us,
                               lr_job_holder_alive_fn alive, void *alive_ctx, int64_t now_us,
                               lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *q = NULL, *up = NULL;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db,
              "SELECT l.job_id, l.holder_host, l.holder_boot, l.holder_pid, l.holder_start,"
              " l.expires_us, j.status FROM compact_leases l LEFT JOIN compact_jobs j"
              " ON j.id = l.job_id WHERE l.fg_name = ?1 AND l.fg_created_us = ?2"
              " AND l.partition = ?3",
              &q, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "INSERT INTO compact_leases (fg_name, fg_created_us, partition, job_id,"
                  " holder_host, holder_boot, holder_pid, holder_start, acquired_us,"
                  " expires_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                  " ON CONFLICT (fg_name, fg_created_us, partition) DO UPDATE SET"
                  " job_id = excluded.job_id, holder_host = excluded.holder_host,"
                  " holder_boot = excluded.holder_boot, holder_pid = excluded.holder_pid,"
                  " holder_start = excluded.holder_start, acquired_us = excluded.acquired_us,"
                  " expires_us = excluded.expires_us",
                  &up, err);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        lr__sqlite_text(q, 1, fg_name);
        sqlite3_bind_int64(q, 2, fg_created_us);
        lr__sqlite_text(q, 3, partitions[i]);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            int64_t other = sqlite3_column_int64(q, 0);
            const unsigned char *js = sqlite3_column_text(q, 6);
            lr_job_holder oh;
            memset(&oh, 0, sizeof oh);
            snprintf(oh.host, sizeof oh.host, "%s", (const char *)sqlite3_column_text(q, 1));
            snprintf(oh.boot_id, sizeof oh.boot_id, "%s", (const char *)sqlite3_column_text(q, 2));
            oh.pid = sqlite3_column_int64(q, 3);
            oh.start_ticks = sqlite3_column_int64(q, 4);
            bool free_ =
                other == job_id || js == NULL || strcmp((const char *)js, "InProgress") != 0 ||
                sqlite3_column_int64(q, 5) < now_us || (alive != NULL && !alive(alive_ctx, &oh));
            if (!free_)
                st = lr_error_set(err, LR_EBUSY,
                                  "partition %s of %s is being compacted by job %" PRId64
                                  " (pid %" PRId64 " on %s)",
                                  partitions[i], fg_name, other, oh.pid, oh.host);
        } else if (rc != SQLITE_DONE) {
            st = lr__sqlite_error(db, rc, "read lease", err);
        }
        sqlite3_reset(q);
        if (st != LR_OK)
            break;
        lr__sqlite_text(up, 1, fg_name);
        sqlite3_bind_int64(up, 2, fg_created_us);
        lr__sqlite_text(up, 3, partitions[i]);
        sqlite3_bind_int64(up, 4, job_id);
        bind_holder(up, 5, h);
        sqlite3_bind_int64(up, 9, now_us);
        sqlite3_bind_int64(up, 10, expires_us);
        st = lr__sqlite_step_done(db, up, "take lease", err);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(up);
    return end(db, false, st, err);
}

static lr_status lease_release(void *ctx, int64_t job_id, const char *const *partitions, size_t n,
                               lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *d = NULL;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db,
              n == 0 ? "DELETE FROM compact_leases WHERE job_id = ?1"
                     : "DELETE FROM compact_leases WHERE job_id = ?1 AND partition = ?2",
              &d, err);
    for (size_t i = 0; st == LR_OK && (i < n || (n == 0 && i == 0)); i++) {
        sqlite3_bind_int64(d, 1, job_id);
        if (n > 0)
            lr__sqlite_text(d, 2, partitions[i]);
        st = lr__sqlite_step_done(db, d, "release lease", err);
    }
    sqlite3_finalize(d);
    return end(db, false, st, err);
}

/* ---- pending output ---- */

static lr_status pending_add(void *ctx, int64_t job_id, const lr_offline_file *files, size_t n,
                             int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *ann = NULL, *pend = NULL;
    lr_status st = begin(db, true, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db,
              "INSERT INTO offline_announced (root, key, fg_name, log_id, created_us)"
              " VALUES (?1, ?2, ?3, NULL, ?4)",
              &ann, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "INSERT INTO compact_pending (root, key, fg_name, job_id, created_us)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
                  &pend, err);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        lr__sqlite_text(ann, 1, files[i].root);
        lr__sqlite_text(ann, 2, files[i].key);
        lr__sqlite_text(ann, 3, files[i].fg_name);
        sqlite3_bind_int64(ann, 4, now_us);
        st = lr__sqlite_step_done(db, ann, "announce file", err);
        if (st == LR_OK) {
            lr__sqlite_text(pend, 1, files[i].root);
            lr__sqlite_text(pend, 2, files[i].key);
            lr__sqlite_text(pend, 3, files[i].fg_name);
            sqlite3_bind_int64(pend, 4, job_id);
            sqlite3_bind_int64(pend, 5, now_us);
            st = lr__sqlite_step_done(db, pend, "record pending output", err);
        }
        if (st == LR_EEXIST)
            lr_error_set(err, st, "catalog: %s/%s is already announced", files[i].root,
                         files[i].key);
    }
    sqlite3_finalize(ann);
    sqlite3_finalize(pend);
    return end(db, true, st, err);
}

/* Collects rows shaped as (root, key, fg_name, fg_created_us, partition, partition_start_us,
 * rows, bytes, min_event_us, max_event_us, log_id, log_first_seq, log_last_seq, created_us). */
static lr_status collect_files(sqlite3 *db, sqlite3_stmt *s, lr_offline_file_list *out,
                               lr_error *err)
{
    size_t cap = 0;
    bool failed = false;
    int rc;

    memset(out, 0, sizeof *out);
    out->arena = lr_arena_new(0, 0);
    if (out->arena == NULL)
        return oom(err);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            lr_offline_file *ni = realloc(out->items, nc * sizeof *ni);
            if (ni == NULL) {
                failed = true;
                break;
            }
            out->items = ni;
            cap = nc;
        }
        lr_offline_file *f = &out->items[out->n++];
        memset(f, 0, sizeof *f);
        f->root = col_str(out->arena, s, 0, &failed);
        f->key = col_str(out->arena, s, 1, &failed);
        f->fg_name = col_str(out->arena, s, 2, &failed);
        f->fg_created_us = sqlite3_column_int64(s, 3);
        f->partition = col_str(out->arena, s, 4, &failed);
        f->partition_start_us = sqlite3_column_int64(s, 5);
        f->rows = sqlite3_column_int64(s, 6);
        f->bytes = sqlite3_column_int64(s, 7);
        f->min_event_us = sqlite3_column_int64(s, 8);
        f->max_event_us = sqlite3_column_int64(s, 9);
        f->log_id = col_str(out->arena, s, 10, &failed);
        f->log_first_seq = sqlite3_column_int64(s, 11);
        f->log_last_seq = sqlite3_column_int64(s, 12);
        f->created_us = sqlite3_column_int64(s, 13);
        if (failed)
            break;
    }
    if (failed) {
        lr_offline_file_list_free(out);
        return oom(err);
    }
    if (rc != SQLITE_DONE) {
        lr_status st = lr__sqlite_error(db, rc, "list files", err);
        lr_offline_file_list_free(out);
        return st;
    }
    return LR_OK;
}

static lr_status pending_list(void *ctx, int64_t job_id, lr_offline_file_list *out, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st;

    if (job_id > 0)
        st = lr__sqlite_prep(db,
                  "SELECT root, key, fg_name, 0, '', 0, 0, 0, 0, 0, NULL, 0, 0, created_us"
                  " FROM compact_pending WHERE job_id = ?1 ORDER BY root, key",
                  &s, err);
    else
        st = lr__sqlite_prep(db,
                  "SELECT p.root, p.key, p.fg_name, 0, '', 0, 0, 0, 0, 0, NULL, 0, 0,"
                  " p.created_us FROM compact_pending p LEFT JOIN compact_jobs j"
                  " ON j.id = p.job_id WHERE j.status IS NULL OR j.status != 'InProgress'"
                  " ORDER BY p.root, p.key",
                  &s, err);
    if (st == LR_OK) {
        if (job_id > 0)
            sqlite3_bind_int64(s, 1, job_id);
        st = collect_files(db, s, out, err);
    }
    sqlite3_finalize(s);
    return st;
}

static lr_status pending_remove(void *ctx, const char *root, const char *key, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *a = NULL, *p = NULL;
    lr_status st = begin(db, false, err);

    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db, "DELETE FROM offline_announced WHERE root = ?1 AND key = ?2", &a, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "DELETE FROM compact_pending WHERE root = ?1 AND key = ?2", &p, err);
    if (st == LR_OK)
        st = lr__sqlite_step_file(db, a, root, key, "withdraw announcement", NULL, err);
    if (st == LR_OK) {
        st = lr__sqlite_step_file(db, p, root, key, "forget pending output", NULL, err);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(p);
    return end(db, false, st, err);
}

/* ---- the swap ---- */

static lr_status swap(void *ctx, const lr_compact_swap *sw, int64_t now_us, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *lease = NULL, *del_old = NULL, *retire = NULL, *del_pend = NULL, *del_ann = NULL,
                 *ins = NULL, *part = NULL, *state = NULL, *ann_old = NULL;
    bool copy = sw->copy_root != NULL;
    lr_status st = begin(db, true, err);

    if (st != LR_OK)
        return st;
    st = check_running(db, sw->job_id, sw->holder, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "SELECT job_id FROM compact_leases WHERE fg_name = ?1"
                  " AND fg_created_us = ?2 AND partition = ?3",
                  &lease, err);
    for (size_t i = 0; i < sw->n_leases && st == LR_OK; i++) {
        lr__sqlite_text(lease, 1, sw->fg_name);
        sqlite3_bind_int64(lease, 2, sw->fg_created_us);
        lr__sqlite_text(lease, 3, sw->leases[i]);
        int rc = sqlite3_step(lease);
        if (rc == SQLITE_ROW && sqlite3_column_int64(lease, 0) == sw->job_id)
            ;
        else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            st = lr_error_set(err, LR_ECONFLICT,
                              "job %" PRId64 " no longer holds the lease of partition %s",
                              sw->job_id, sw->leases[i]);
        else
            st = lr__sqlite_error(db, rc, "read lease", err);
        sqlite3_reset(lease);
    }
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  copy ? "DELETE FROM compact_copy_files WHERE root = ?1 AND key = ?2"
                       : "DELETE FROM offline_files WHERE root = ?1 AND key = ?2",
                  &del_old, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "INSERT INTO compact_retired (root, key, fg_name, job_id, retired_us,"
                  " delete_after_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                  " ON CONFLICT (root, key) DO UPDATE SET"
                  " delete_after_us = min(delete_after_us, excluded.delete_after_us)",
                  &retire, err);
    /*
     * A retired file stays announced until it is deleted: repair then never
     * adopts it back during its grace period, and the offline store's garbage
     * collection, which counts from the announcement time, waits for the
     * grace to end before its own grace starts.
     */
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  "INSERT INTO offline_announced (root, key, fg_name, log_id, created_us)"
                  " VALUES (?1, ?2, ?3, NULL, ?4) ON CONFLICT (root, key) DO UPDATE SET"
                  " created_us = max(created_us, excluded.created_us)",
                  &ann_old, err);
    for (size_t i = 0; i < sw->n_old && st == LR_OK; i++) {
        const lr_offline_file *f = &sw->old_files[i];
        lr__sqlite_text(ann_old, 1, f->root);
        lr__sqlite_text(ann_old, 2, f->key);
        lr__sqlite_text(ann_old, 3, sw->fg_name);
        sqlite3_bind_int64(ann_old, 4, sw->delete_after_us);
        st = lr__sqlite_step_done(db, ann_old, "announce retired file", err);
        if (st != LR_OK)
            break;
        bool unregistered;
        st = lr__sqlite_step_file(db, del_old, f->root, f->key, "unregister file", &unregistered,
                                  err);
        if (st == LR_OK && !unregistered)
            st = lr_error_set(err, LR_ECONFLICT, "%s/%s is no longer live", f->root, f->key);
        if (st != LR_OK)
            break;
        lr__sqlite_text(retire, 1, f->root);
        lr__sqlite_text(retire, 2, f->key);
        lr__sqlite_text(retire, 3, sw->fg_name);
        sqlite3_bind_int64(retire, 4, sw->job_id);
        sqlite3_bind_int64(retire, 5, now_us);
        sqlite3_bind_int64(retire, 6, sw->delete_after_us);
        st = lr__sqlite_step_done(db, retire, "retire file", err);
    }
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "DELETE FROM compact_pending WHERE root = ?1 AND key = ?2 AND job_id = ?3",
                  &del_pend, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "DELETE FROM offline_announced WHERE root = ?1 AND key = ?2", &del_ann, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db,
                  copy ? "INSERT INTO compact_copy_files (root, key, fg_name, fg_created_us,"
                         " partition, partition_start_us, rows, bytes, min_event_us,"
                         " max_event_us, job_id, created_us) VALUES (?1, ?2, ?3, ?4, ?5,"
                         " ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                       : "INSERT INTO offline_files (root, key, fg_name, fg_created_us,"
                         " partition, partition_start_us, rows, bytes, min_event_us,"
                         " max_event_us, log_id, log_first_seq, log_last_seq, created_us)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, 0, 0,"
                         " ?12)",
                  &ins, err);
    if (st == LR_OK && !copy)
        st = lr__sqlite_prep(db,
                  "INSERT INTO offline_partitions (fg_name, fg_created_us, partition,"
                  " start_us, created_us, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                  " ON CONFLICT (fg_name, fg_created_us, partition)"
                  " DO UPDATE SET updated_us = max(updated_us, excluded.updated_us)",
                  &part, err);
    for (size_t i = 0; i < sw->n_new && st == LR_OK; i++) {
        const lr_offline_file *f = &sw->new_files[i];
        lr__sqlite_text(del_pend, 1, f->root);
        lr__sqlite_text(del_pend, 2, f->key);
        sqlite3_bind_int64(del_pend, 3, sw->job_id);
        st = lr__sqlite_step_done(db, del_pend, "withdraw pending output", err);
        if (st == LR_OK && sqlite3_changes(db) != 1)
            st = lr_error_set(err, LR_ECONFLICT,
                              "%s/%s is not pending output of job %" PRId64
                              " (cleaned up as a dead job's?)",
                              f->root, f->key, sw->job_id);
        if (st != LR_OK)
            break;
        bool withdrawn;
        st = lr__sqlite_step_file(db, del_ann, f->root, f->key, "withdraw announcement",
                                  &withdrawn, err);
        if (st == LR_OK && !withdrawn)
            st = lr_error_set(err, LR_ECONFLICT,
                              "%s/%s is no longer announced (garbage collection removed it)",
                              f->root, f->key);
        if (st != LR_OK)
            break;
        lr__sqlite_bind_file(ins, f);
        if (copy)
            sqlite3_bind_int64(ins, 11, sw->job_id);
        sqlite3_bind_int64(ins, 12, now_us);
        st = lr__sqlite_step_done(db, ins, "register file", err);
        if (st == LR_EEXIST)
            lr_error_set(err, st, "catalog: %s/%s is already registered", f->root, f->key);
        if (st == LR_OK && part != NULL) {
            lr__sqlite_text(part, 1, f->fg_name);
            sqlite3_bind_int64(part, 2, f->fg_created_us);
            lr__sqlite_text(part, 3, f->partition);
            sqlite3_bind_int64(part, 4, f->partition_start_us);
            sqlite3_bind_int64(part, 5, now_us);
            st = lr__sqlite_step_done(db, part, "register partition", err);
        }
    }
    if (st == LR_OK && sw->n_states > 0)
        st = lr__sqlite_prep(db,
                  "INSERT INTO compact_state (fg_name, fg_created_us, partition, dest, files,"
                  " fingerprint, job_id, compacted_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                  " ?8) ON CONFLICT (fg_name, fg_created_us, dest, partition) DO UPDATE SET"
                  " files = excluded.files, fingerprint = excluded.fingerprint,"
                  " job_id = excluded.job_id, compacted_us = excluded.compacted_us",
                  &state, err);
    for (size_t i = 0; i < sw->n_states && st == LR_OK; i++) {
        lr__sqlite_text(state, 1, sw->fg_name);
        sqlite3_bind_int64(state, 2, sw->fg_created_us);
        lr__sqlite_text(state, 3, sw->states[i].partition);
        lr__sqlite_text(state, 4, sw->dest);
        sqlite3_bind_int64(state, 5, sw->states[i].files);
        sqlite3_bind_int64(state, 6, (int64_t)sw->states[i].fingerprint);
        sqlite3_bind_int64(state, 7, sw->job_id);
        sqlite3_bind_int64(state, 8, now_us);
        st = lr__sqlite_step_done(db, state, "record partition state", err);
    }
    if (st == LR_OK) {
        lr_compact_job_partition r = *sw->result;
        r.job_id = sw->job_id;
        st = end_partition(db, &r, "Completed", NULL, true, now_us, err);
    }
    sqlite3_finalize(lease);
    sqlite3_finalize(del_old);
    sqlite3_finalize(retire);
    sqlite3_finalize(del_pend);
    sqlite3_finalize(del_ann);
    sqlite3_finalize(ins);
    sqlite3_finalize(part);
    sqlite3_finalize(state);
    sqlite3_finalize(ann_old);
    return end(db, true, st, err);
}

/* ---- views ---- */

static lr_status partition_files(void *ctx, const char *copy_root, const char *fg_name,
                                 int64_t fg_created_us, const char *partition,
                                 lr_offline_file_list *out, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st;

    if (copy_root == NULL) {
        st = lr__sqlite_prep(db,
                  "SELECT root, key, fg_name, fg_created_us, partition, partition_start_us,"
                  " rows, bytes, min_event_us, max_event_us, log_id, log_first_seq,"
                  " log_last_seq, created_us FROM offline_files WHERE fg_name = ?1"
                  " AND fg_created_us = ?2 AND partition = ?3 ORDER BY key",
                  &s, err);
    } else {
        /* partition itself, or below it: '/' (0x2f) then anything, i.e. < prefix || '0'. */
        st = lr__sqlite_prep(db,
                  "SELECT root, key, fg_name, fg_created_us, partition, partition_start_us,"
                  " rows, bytes, min_event_us, max_event_us, NULL, 0, 0, created_us"
                  " FROM compact_copy_files WHERE root = ?4 AND fg_name = ?1"
                  " AND fg_created_us = ?2 AND (partition = ?3 OR (partition > ?3 || '/'"
                  " AND partition < ?3 || '0')) ORDER BY partition, key",
                  &s, err);
    }
    if (st == LR_OK) {
        lr__sqlite_text(s, 1, fg_name);
        sqlite3_bind_int64(s, 2, fg_created_us);
        lr__sqlite_text(s, 3, partition);
        if (copy_root != NULL)
            lr__sqlite_text(s, 4, copy_root);
        st = collect_files(db, s, out, err);
    }
    sqlite3_finalize(s);
    return st;
}

static lr_status states(void *ctx, const char *fg_name, int64_t fg_created_us, const char *dest,
                        lr_compact_state **out, size_t *n, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_compact_state *v = NULL;
    size_t cap = 0, cnt = 0;
    int rc;
    lr_status st = lr__sqlite_prep(db,
                        "SELECT partition, files, fingerprint, job_id, compacted_us"
                        " FROM compact_state WHERE fg_name = ?1 AND fg_created_us = ?2"
                        " AND dest = ?3 ORDER BY partition",
                        &s, err);
    if (st != LR_OK)
        goto done;
    lr__sqlite_text(s, 1, fg_name);
    sqlite3_bind_int64(s, 2, fg_created_us);
    lr__sqlite_text(s, 3, dest);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 64;
            lr_compact_state *nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                st = oom(err);
                goto done;
            }
            v = nv;
            cap = nc;
        }
        lr_compact_state *p = &v[cnt++];
        memset(p, 0, sizeof *p);
        snprintf(p->partition, sizeof p->partition, "%s",
                 sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "");
        p->files = sqlite3_column_int64(s, 1);
        p->fingerprint = (uint64_t)sqlite3_column_int64(s, 2);
        p->job_id = sqlite3_column_int64(s, 3);
        p->compacted_us = sqlite3_column_int64(s, 4);
    }
    if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(db, rc, "list partition states", err);
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

static lr_status retired_due(void *ctx, int64_t now_us, size_t max, lr_offline_file_list *out,
                             lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL;
    lr_status st = lr__sqlite_prep(db,
                        "SELECT root, key, fg_name, 0, '', 0, 0, 0, 0, 0, NULL, 0, 0,"
                        " delete_after_us FROM compact_retired WHERE delete_after_us <= ?1"
                        " ORDER BY delete_after_us, root, key LIMIT ?2",
                        &s, err);
    if (st == LR_OK) {
        sqlite3_bind_int64(s, 1, now_us);
        sqlite3_bind_int64(s, 2, max == 0 || max > INT64_MAX ? -1 : (int64_t)max);
        st = collect_files(db, s, out, err);
    }
    sqlite3_finalize(s);
    return st;
}

static lr_status retired_remove(void *ctx, const lr_offline_file *files, size_t n, lr_error *err)
{
    sqlite3 *db = lr__catalog_sqlite_db(ctx);
    sqlite3_stmt *s = NULL, *a = NULL;
    lr_status st = begin(db, false, err);
    if (st != LR_OK)
        return st;
    st = lr__sqlite_prep(db, "DELETE FROM compact_retired WHERE root = ?1 AND key = ?2", &s, err);
    if (st == LR_OK)
        st = lr__sqlite_prep(db, "DELETE FROM offline_announced WHERE root = ?1 AND key = ?2", &a, err);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        st = lr__sqlite_step_file(db, s, files[i].root, files[i].key, "forget retired file", NULL,
                                  err);
        if (st == LR_OK)
            st = lr__sqlite_step_file(db, a, files[i].root, files[i].key, "withdraw announcement",
                                      NULL, err);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(a);
    return end(db, false, st, err);
}

const lr__catalog_compact_ops lr__sqlite_compact_ops = {
    .job_create = job_create,
    .job_heartbeat = job_heartbeat,
    .job_partition_fail = job_partition_fail,
    .job_finish = job_finish,
    .job_fail_dead = job_fail_dead,
    .jobs_list = jobs_list,
    .lease_acquire = lease_acquire,
    .lease_release = lease_release,
    .pending_add = pending_add,
    .pending_list = pending_list,
    .pending_remove = pending_remove,
    .swap = swap,
    .partition_files = partition_files,
    .states = states,
    .retired_due = retired_due,
    .retired_remove = retired_remove,
};
