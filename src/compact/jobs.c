/*
 * jobs.c - compaction jobs as users see them, and cleanup after dead runs.
 *
 * A job row says InProgress from its start until its process ends it. A
 * process killed mid-run cannot end it, so every look at jobs (list, get,
 * JSON for the server, the CLI) first declares dead the InProgress jobs
 * whose holder is gone: on this machine at once (its pid no longer runs
 * the process that started the job), elsewhere once its expiry passed
 * without renewal. A killed or stopped run is therefore never shown as
 * running for long, and never as Completed.
 *
 * Cleanup then removes what dead runs left: output files recorded as
 * pending and never swapped in (the file first, then its record, so a
 * crash in between only repeats the deletion), spill folders, and retired
 * old files whose grace has passed.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compact/compact_internal.h"
#include "larder/log.h"

#define REAP_BATCH    1000u
#define RETIRED_BATCH 1000u
#define JSON_PAGE_MAX 100u
#define JSON_CAP      ((size_t)64 << 20)

/* Declares dead the InProgress jobs whose holder is gone. */
static lr_status reap(lr_catalog *cat, uint64_t *n_failed, lr_error *err)
{
    lr_compact_job_query q;
    lr_compact_job_list l = {0};
    int64_t now = lr_now_us();
    lr_status st;

    memset(&q, 0, sizeof q);
    q.status = LR_JOB_IN_PROGRESS;
    q.max_results = REAP_BATCH;
    for (;;) {
        st = lr_catalog_jobs_list(cat, &q, &l, err);
        if (st != LR_OK || l.n == 0)
            break;
        for (size_t i = 0; i < l.n && st == LR_OK; i++) {
            const lr_compact_job *j = &l.items[i];
            char why[256];
            bool changed = false;
            if (!lr__job_dead(j, now))
                continue;
            if (!lr__holder_alive(NULL, &j->holder))
                snprintf(why, sizeof why,
                         "the process running the job (pid %" PRId64 " on %s) died", j->holder.pid,
                         j->holder.host);
            else
                snprintf(why, sizeof why,
                         "the process running the job (pid %" PRId64
                         " on %s) stopped renewing its lease; presumed dead",
                         j->holder.pid, j->holder.host);
            st = lr_catalog_job_fail_dead(cat, j->id, &j->holder, why, &changed, err);
            if (st == LR_OK && changed) {
                if (n_failed != NULL)
                    (*n_failed)++;
                lr_log_warn("compact", "job %" PRId64 " of %s: %s", j->id, j->fg_name, why);
            }
        }
        bool more = l.n == REAP_BATCH;
        q.before_id = l.items[l.n - 1].id;
        lr_compact_job_list_free(&l);
        if (st != LR_OK || !more)
            break;
    }
    lr_compact_job_list_free(&l);
    return st;
}

lr_status lr__retired_sweep(lr_catalog *cat, lr__stores *stores, size_t max, uint64_t *removed,
                            lr_error *err)
{
    lr_offline_file_list l = {0};
    size_t done = 0;
    lr_status st = LR_OK;

    for (;;) {
        size_t batch = RETIRED_BATCH;
        if (max > 0 && max - done < batch)
            batch = max - done;
        if (batch == 0)
            break;
        st = lr_catalog_compact_retired_due(cat, lr_now_us(), batch, &l, err);
        if (st != LR_OK || l.n == 0)
            break;
        size_t progress = 0;
        for (size_t i = 0; i < l.n && st == LR_OK; i++) {
            lr_objstore *os = NULL;
            lr_error e;
            if (lr__stores_get(stores, l.items[i].root, &os, &e) != LR_OK) {
                lr_log_warn("compact", "cannot reach %s to delete %s: %s", l.items[i].root,
                            l.items[i].key, lr_error_message(&e));
                continue;
            }
            st = lr__object_remove(os, l.items[i].key, err);
            if (st == LR_OK)
                l.items[progress++] = l.items[i]; /* deleted: forget it below */
        }
        if (progress > 0) {
            lr_status fs = lr_catalog_compact_retired_remove(cat, l.items, progress, err);
            if (st == LR_OK)
                st = fs;
            if (fs == LR_OK && removed != NULL)
                *removed += progress;
        }
        bool full = l.n == batch;
        done += l.n;
        lr_offline_file_list_free(&l);
        if (st != LR_OK || !full || progress == 0)
            break;
    }
    lr_offline_file_list_free(&l);
    return st;
}

/* Removes the pending output of jobs that are no longer running. */
static lr_status sweep_pending(lr_catalog *cat, lr__stores *stores, uint64_t *removed,
                               lr_error *err)
{
    lr_offline_file_list l = {0};
    lr_status st = lr_catalog_compact_pending(cat, 0, &l, err);
    for (size_t i = 0; i < l.n && st == LR_OK; i++) {
        lr_objstore *os = NULL;
        lr_error e;
        if (lr__stores_get(stores, l.items[i].root, &os, &e) != LR_OK) {
            lr_log_warn("compact", "cannot reach %s to delete %s: %s", l.items[i].root,
                        l.items[i].key, lr_error_message(&e));
            continue;
        }
        st = lr__object_remove(os, l.items[i].key, err);
        if (st == LR_OK)
            st = lr_catalog_compact_pending_remove(cat, l.items[i].root, l.items[i].key, err);
        if (st == LR_OK && removed != NULL)
            (*removed)++;
    }
    lr_offline_file_list_free(&l);
    return st;
}

/* Removes spill folders "job-<id>" of jobs that are no longer running. */
static lr_status sweep_spill(lr_catalog *cat, const char *tmp_dir, uint64_t *removed, lr_error *err)
{
    DIR *d = opendir(tmp_dir);
    struct dirent *de;
    lr_status st = LR_OK;

    if (d == NULL)
        return LR_OK; /* nothing ever spilled */
    while ((de = readdir(d)) != NULL && st == LR_OK) {
        long long id;
        char tail;
        if (sscanf(de->d_name, "job-%lld%c", &id, &tail) != 1)
            continue;
        lr_compact_job_list l = {0};
        lr_error e;
        lr_status gs = lr_catalog_job_get(cat, id, &l, &e);
        bool running = gs == LR_OK && l.items[0].status == LR_JOB_IN_PROGRESS;
        lr_compact_job_list_free(&l);
        if (gs != LR_OK && gs != LR_ENOTFOUND) {
            st = lr_error_set(err, gs, "%s", lr_error_message(&e));
            break;
        }
        if (running)
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", tmp_dir, de->d_name) >= sizeof path)
            continue;
        DIR *sd = opendir(path);
        if (sd != NULL) {
            struct dirent *f;
            while ((f = readdir(sd)) != NULL) {
                char fp[4096 + 256];
                if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0)
                    continue;
                snprintf(fp, sizeof fp, "%s/%s", path, f->d_name);
                (void)unlink(fp);
            }
            closedir(sd);
        }
        if (rmdir(path) == 0 && removed != NULL)
            (*removed)++;
    }
    closedir(d);
    return st;
}

lr_status lr_compact_cleanup(lr_catalog *cat, const char *data_dir, const char *tmp_dir,
                             lr_compact_cleanup_report *report, lr_error *err)
{
    lr_compact_cleanup_report r;
    lr__stores stores = {0};
    char *own_tmp = NULL;
    lr_status st;

    memset(&r, 0, sizeof r);
    if (tmp_dir == NULL && data_dir != NULL) {
        if (asprintf(&own_tmp, "%s/compact-tmp", data_dir) < 0)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        tmp_dir = own_tmp;
    }
    st = reap(cat, &r.jobs_failed, err);
    if (st == LR_OK)
        st = sweep_pending(cat, &stores, &r.pending_removed, err);
    if (st == LR_OK)
        st = lr__retired_sweep(cat, &stores, 0, &r.retired_removed, err);
    if (st == LR_OK && tmp_dir != NULL)
        st = sweep_spill(cat, tmp_dir, &r.spill_removed, err);
    lr__stores_free(&stores);
    free(own_tmp);
    if (report != NULL)
        *report = r;
    return st;
}

lr_status lr_compact_jobs_list(lr_catalog *cat, const lr_compact_job_query *q,
                               lr_compact_job_list *out, lr_error *err)
{
    lr_status st = reap(cat, NULL, err);
    memset(out, 0, sizeof *out);
    if (st != LR_OK)
        return st;
    return lr_catalog_jobs_list(cat, q, out, err);
}

lr_status lr_compact_job_get(lr_catalog *cat, int64_t job_id, lr_compact_job_list *out,
                             lr_error *err)
{
    lr_status st = reap(cat, NULL, err);
    memset(out, 0, sizeof *out);
    if (st != LR_OK)
        return st;
    return lr_catalog_job_get(cat, job_id, out, err);
}

/* ---- JSON ---- */

static lr_status json_time(lr_buf *b, const char *name, int64_t us)
{
    char t[LR_TIME_STR_MAX];
    size_t n = lr_time_format_iso8601(us, t);
    lr_status st = lr_buf_printf(b, ",\"%s\":", name);
    return st == LR_OK ? lr_buf_append_json_str(b, t, n) : st;
}

static lr_status json_str(lr_buf *b, const char *name, const char *v)
{
    lr_status st = lr_buf_printf(b, ",\"%s\":", name);
    return st == LR_OK ? lr_buf_append_json_str(b, v, strlen(v)) : st;
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((st = (x)) != LR_OK)                                                                   \
            return st;                                                                             \
    } while (0)

static lr_status counts_json(lr_buf *b, int64_t fi, int64_t fo, int64_t ri, int64_t ro, int64_t rd,
                             int64_t bi, int64_t bo)
{
    return lr_buf_printf(b,
                         ",\"FilesIn\":%" PRId64 ",\"FilesOut\":%" PRId64 ",\"RowsIn\":%" PRId64
                         ",\"RowsOut\":%" PRId64 ",\"RowsDropped\":%" PRId64 ",\"BytesIn\":%" PRId64
                         ",\"BytesOut\":%" PRId64,
                         fi, fo, ri, ro, rd, bi, bo);
}

lr_status lr_compact_job_to_json(const lr_compact_job *j, const lr_compact_job_partition *parts,
                                 size_t n_parts, lr_buf *b)
{
    lr_status st;
    CHECK(lr_buf_printf(b, "{\"JobId\":%" PRId64 ",\"JobType\":\"Compaction\"", j->id));
    CHECK(json_str(b, "FeatureGroupName", j->fg_name ? j->fg_name : ""));
    CHECK(json_str(b, "Mode", j->mode ? j->mode : ""));
    if (j->date != NULL)
        CHECK(json_str(b, "Date", j->date));
    CHECK(json_str(b, "PartitionMode", j->partition_mode ? j->partition_mode : ""));
    if (j->target != NULL)
        CHECK(json_str(b, "Target", j->target));
    CHECK(lr_buf_printf(b, ",\"Dedup\":%s,\"GraceSeconds\":%.6g,\"TargetFileBytes\":%" PRId64,
                        j->dedup ? "true" : "false", (double)j->grace_us / 1e6,
                        j->target_file_bytes));
    CHECK(json_str(b, "Status", lr_job_status_name(j->status)));
    if (j->error != NULL)
        CHECK(json_str(b, "FailureReason", j->error));
    CHECK(lr_buf_append_str(b, ",\"Holder\":{\"Host\":"));
    CHECK(lr_buf_append_json_str(b, j->holder.host, strlen(j->holder.host)));
    CHECK(lr_buf_printf(b, ",\"Pid\":%" PRId64 "}", j->holder.pid));
    CHECK(json_time(b, "StartTime", j->start_us));
    if (j->end_us != 0)
        CHECK(json_time(b, "EndTime", j->end_us));
    CHECK(lr_buf_printf(b,
                        ",\"Partitions\":%" PRId64 ",\"PartitionsCompleted\":%" PRId64
                        ",\"PartitionsFailed\":%" PRId64,
                        j->partitions, j->partitions_done, j->partitions_failed));
    CHECK(counts_json(b, j->files_in, j->files_out, j->rows_in, j->rows_out, j->rows_dropped,
                      j->bytes_in, j->bytes_out));
    if (parts != NULL) {
        CHECK(lr_buf_append_str(b, ",\"PartitionResults\":["));
        for (size_t i = 0; i < n_parts; i++) {
            const lr_compact_job_partition *p = &parts[i];
            CHECK(lr_buf_append_str(b, i ? ",{\"Partition\":" : "{\"Partition\":"));
            CHECK(lr_buf_append_json_str(b, p->partition, strlen(p->partition)));
            CHECK(json_str(b, "Status", lr_job_status_name(p->status)));
            if (p->error != NULL)
                CHECK(json_str(b, "FailureReason", p->error));
            CHECK(counts_json(b, p->files_in, p->files_out, p->rows_in, p->rows_out,
                              p->rows_dropped, p->bytes_in, p->bytes_out));
            if (p->end_us != 0)
                CHECK(json_time(b, "EndTime", p->end_us));
            CHECK(lr_buf_append_byte(b, '}'));
        }
        CHECK(lr_buf_append_byte(b, ']'));
    }
    return lr_buf_append_byte(b, '}');
}

/* The partitions of job `id` within a list filled with_partitions. */
static const lr_compact_job_partition *parts_of(const lr_compact_job_list *l, int64_t id, size_t *n)
{
    size_t a = 0;
    *n = 0;
    if (l->parts == NULL)
        return NULL;
    while (a < l->n_parts && l->parts[a].job_id != id)
        a++;
    size_t e = a;
    while (e < l->n_parts && l->parts[e].job_id == id)
        e++;
    *n = e - a;
    return l->parts + a;
}

lr_status lr_compact_jobs_json(lr_catalog *cat, const lr_compact_job_query *q,
                               const char *next_token, lr_buf *out, lr_error *err)
{
    lr_compact_job_query qq;
    lr_compact_job_list l = {0};
    size_t start = out->len;
    uint32_t page;
    lr_status st;

    memset(&qq, 0, sizeof qq);
    if (q != NULL)
        qq = *q;
    page = qq.max_results ? qq.max_results : JSON_PAGE_MAX;
    if (page > JSON_PAGE_MAX)
        return lr_error_set(err, LR_EINVAL, "MaxResults %u is over %u", page, JSON_PAGE_MAX);
    if (next_token != NULL && next_token[0] != '\0') {
        char *e;
        long long id = strtoll(next_token, &e, 10);
        if (*e != '\0' || id <= 0 || e == next_token)
            return lr_error_set(err, LR_EINVAL, "Invalid pagination token");
        qq.before_id = id;
    }
    qq.max_results = page + 1;
    st = lr_compact_jobs_list(cat, &qq, &l, err);
    if (st != LR_OK)
        return st;
    size_t n = l.n > page ? page : l.n;
    st = lr_buf_append_str(out, "{\"Jobs\":[");
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        size_t np = 0;
        const lr_compact_job_partition *p = parts_of(&l, l.items[i].id, &np);
        if (i > 0)
            st = lr_buf_append_byte(out, ',');
        if (st == LR_OK)
            st = lr_compact_job_to_json(&l.items[i], qq.with_partitions ? p : NULL, np, out);
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(out, ']');
    if (st == LR_OK && l.n > page)
        st = lr_buf_printf(out, ",\"NextToken\":\"%" PRId64 "\"", l.items[n - 1].id);
    if (st == LR_OK)
        st = lr_buf_append_byte(out, '}');
    lr_compact_job_list_free(&l);
    if (st != LR_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
        return lr_error_set(err, st, "jobs JSON: %s", lr_strerror(st));
    }
    return LR_OK;
}

lr_status lr_compact_job_json(lr_catalog *cat, int64_t job_id, lr_buf *out, lr_error *err)
{
    lr_compact_job_list l = {0};
    size_t start = out->len;
    lr_status st = lr_compact_job_get(cat, job_id, &l, err);
    if (st != LR_OK)
        return st;
    st = lr_compact_job_to_json(&l.items[0], l.parts, l.n_parts, out);
    lr_compact_job_list_free(&l);
    if (st != LR_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
        return lr_error_set(err, st, "job JSON: %s", lr_strerror(st));
    }
    return LR_OK;
}
