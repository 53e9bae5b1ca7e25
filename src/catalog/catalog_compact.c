/*
 * catalog_compact.c - the public catalog calls of compaction (the
 * "Compaction" part of catalog.h): argument checks and the current time,
 * then the backend's lr__catalog_compact_ops. The SQLite side is in
 * catalog_sqlite_compact.c; the policy (what to compact, who is alive) is
 * in src/compact/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_compact_internal.h"
#include "catalog/catalog_internal.h"
#include "larder/arena.h"

/* Partitions named in one call (a job over ten years of hours stays below). */
#define PARTITIONS_PER_CALL_MAX 1000000
/* Files in one swap or pending call. */
#define FILES_PER_CALL_MAX 1000000

static const char *const status_names[] = {NULL, "InProgress", "Completed", "Failed", "Pending"};

const char *lr_job_status_name(lr_job_status s)
{
    if ((int)s >= 1 && (int)s <= 4)
        return status_names[s];
    return "Unknown";
}

lr_status lr_job_status_parse(const char *s, lr_job_status *out, lr_error *err)
{
    for (int i = 1; i <= 4; i++) {
        if (s != NULL && strcmp(s, status_names[i]) == 0) {
            *out = (lr_job_status)i;
            return LR_OK;
        }
    }
    return lr_error_set(err, LR_EINVAL,
                        "job status '%.64s': expected InProgress, Completed, Failed or Pending",
                        s ? s : "");
}

void lr_compact_job_list_free(lr_compact_job_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    free(l->parts);
    lr_arena_free(l->arena);
    memset(l, 0, sizeof *l);
}

static lr_status unsupported(lr_catalog *cat, lr_error *err)
{
    return lr_error_set(err, LR_EUNSUPPORTED, "catalog (%s): compaction is not supported",
                        cat->ops->name);
}

#define NEED_BACKEND(cat, err)                                                                     \
    do {                                                                                           \
        if ((cat)->ops->compact == NULL)                                                           \
            return unsupported((cat), (err));                                                      \
    } while (0)

static lr_status check_holder(const lr_job_holder *h, lr_error *err)
{
    if (h == NULL || h->host[0] == '\0' || h->pid <= 0 ||
        memchr(h->host, '\0', sizeof h->host) == NULL ||
        memchr(h->boot_id, '\0', sizeof h->boot_id) == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: a job needs a holder (host and pid)");
    return LR_OK;
}

static lr_status check_partitions(const char *const *p, size_t n, bool need_one, lr_error *err)
{
    if (n > PARTITIONS_PER_CALL_MAX)
        return lr_error_set(err, LR_EINVAL, "catalog: %zu partitions in one call (at most %d)", n,
                            PARTITIONS_PER_CALL_MAX);
    if (need_one && n == 0)
        return lr_error_set(err, LR_EINVAL, "catalog: no partitions");
    for (size_t i = 0; i < n; i++)
        if (p == NULL || p[i] == NULL || p[i][0] == '\0')
            return lr_error_set(err, LR_EINVAL, "catalog: partition %zu is empty", i);
    return LR_OK;
}

static lr_status check_files(const lr_offline_file *f, size_t n, bool full, lr_error *err)
{
    if (n > FILES_PER_CALL_MAX)
        return lr_error_set(err, LR_EINVAL, "catalog: %zu files in one call (at most %d)", n,
                            FILES_PER_CALL_MAX);
    if (n > 0 && f == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no files");
    for (size_t i = 0; i < n; i++) {
        if (f[i].root == NULL || f[i].root[0] == '\0' || f[i].key == NULL || f[i].key[0] == '\0')
            return lr_error_set(err, LR_EINVAL, "catalog: file %zu lacks a root or key", i);
        if (full && (f[i].fg_name == NULL || f[i].partition == NULL || f[i].rows < 0 ||
                     f[i].bytes < 0 || f[i].min_event_us > f[i].max_event_us))
            return lr_error_set(err, LR_EINVAL,
                                "catalog: file %s/%s: bad group, partition, counts or bounds",
                                f[i].root, f[i].key);
    }
    return LR_OK;
}

lr_status lr_catalog_job_create(lr_catalog *cat, lr_compact_job *job, const char *const *partitions,
                                size_t n, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if (job == NULL || job->fg_name == NULL || job->fg_name[0] == '\0' || job->mode == NULL ||
        job->partition_mode == NULL)
        return lr_error_set(err, LR_EINVAL,
                            "catalog: a job needs a group, mode and partition mode");
    if ((st = check_holder(&job->holder, err)) != LR_OK ||
        (st = check_partitions(partitions, n, false, err)) != LR_OK)
        return st;
    return cat->ops->compact->job_create(cat->ctx, job, partitions, n, lr_now_us(), err);
}

lr_status lr_catalog_job_heartbeat(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                   int64_t expires_us, bool *owned, lr_error *err)
{
    bool o = false;
    lr_status st;
    NEED_BACKEND(cat, err);
    if ((st = check_holder(holder, err)) != LR_OK)
        return st;
    st = cat->ops->compact->job_heartbeat(cat->ctx, job_id, holder, expires_us, &o, err);
    if (owned != NULL)
        *owned = o;
    return st;
}

lr_status lr_catalog_job_partition_fail(lr_catalog *cat, const lr_compact_job_partition *p,
                                        lr_error *err)
{
    NEED_BACKEND(cat, err);
    if (p == NULL || p->partition == NULL || p->partition[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no partition");
    return cat->ops->compact->job_partition_fail(cat->ctx, p, lr_now_us(), err);
}

lr_status lr_catalog_job_finish(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                lr_job_status status, const char *error, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if (status != LR_JOB_COMPLETED && status != LR_JOB_FAILED)
        return lr_error_set(err, LR_EINVAL, "catalog: a job ends Completed or Failed");
    if ((st = check_holder(holder, err)) != LR_OK)
        return st;
    return cat->ops->compact->job_finish(cat->ctx, job_id, holder, status, error, lr_now_us(), err);
}

lr_status lr_catalog_job_fail_dead(lr_catalog *cat, int64_t job_id, const lr_job_holder *holder,
                                   const char *reason, bool *changed, lr_error *err)
{
    bool c = false;
    lr_status st;
    NEED_BACKEND(cat, err);
    if (holder == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no holder");
    st = cat->ops->compact->job_fail_dead(cat->ctx, job_id, holder, reason, lr_now_us(), &c, err);
    if (changed != NULL)
        *changed = c;
    return st;
}

lr_status lr_catalog_jobs_list(lr_catalog *cat, const lr_compact_job_query *q,
                               lr_compact_job_list *out, lr_error *err)
{
    lr_compact_job_query d;
    memset(out, 0, sizeof *out);
    NEED_BACKEND(cat, err);
    if (q == NULL) {
        memset(&d, 0, sizeof d);
        q = &d;
    }
    if (q->max_results > 1000)
        return lr_error_set(err, LR_EINVAL, "catalog: max_results %u is over 1000", q->max_results);
    if (q->status != 0 && (q->status < LR_JOB_IN_PROGRESS || q->status > LR_JOB_FAILED))
        return lr_error_set(err, LR_EINVAL, "catalog: unknown job status %d", (int)q->status);
    return cat->ops->compact->jobs_list(cat->ctx, q, 0, out, err);
}

lr_status lr_catalog_job_get(lr_catalog *cat, int64_t job_id, lr_compact_job_list *out,
                             lr_error *err)
{
    lr_compact_job_query q;
    lr_status st;
    memset(out, 0, sizeof *out);
    NEED_BACKEND(cat, err);
    memset(&q, 0, sizeof q);
    q.max_results = 1;
    q.with_partitions = true;
    st = cat->ops->compact->jobs_list(cat->ctx, &q, job_id, out, err);
    if (st == LR_OK && out->n == 0) {
        lr_compact_job_list_free(out);
        st = lr_error_set(err, LR_ENOTFOUND, "no job %lld", (long long)job_id);
    }
    return st;
}

lr_status lr_catalog_lease_acquire(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                   const char *const *partitions, size_t n, int64_t job_id,
                                   const lr_job_holder *holder, int64_t expires_us,
                                   lr_job_holder_alive_fn alive, void *alive_ctx, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if (fg_name == NULL || fg_name[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group");
    if ((st = check_holder(holder, err)) != LR_OK ||
        (st = check_partitions(partitions, n, true, err)) != LR_OK)
        return st;
    return cat->ops->compact->lease_acquire(cat->ctx, fg_name, fg_created_us, partitions, n, job_id,
                                            holder, expires_us, alive, alive_ctx, lr_now_us(), err);
}

lr_status lr_catalog_lease_release(lr_catalog *cat, int64_t job_id, const char *const *partitions,
                                   size_t n, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if ((st = check_partitions(partitions, n, false, err)) != LR_OK)
        return st;
    return cat->ops->compact->lease_release(cat->ctx, job_id, partitions, n, err);
}

lr_status lr_catalog_compact_pending_add(lr_catalog *cat, int64_t job_id,
                                         const lr_offline_file *files, size_t n, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if ((st = check_files(files, n, false, err)) != LR_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (files[i].fg_name == NULL || files[i].fg_name[0] == '\0')
            return lr_error_set(err, LR_EINVAL, "catalog: file %zu lacks a feature group", i);
    if (n == 0)
        return LR_OK;
    return cat->ops->compact->pending_add(cat->ctx, job_id, files, n, lr_now_us(), err);
}

lr_status lr_catalog_compact_pending(lr_catalog *cat, int64_t job_id, lr_offline_file_list *out,
                                     lr_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_BACKEND(cat, err);
    return cat->ops->compact->pending_list(cat->ctx, job_id, out, err);
}

lr_status lr_catalog_compact_pending_remove(lr_catalog *cat, const char *root, const char *key,
                                            lr_error *err)
{
    NEED_BACKEND(cat, err);
    if (root == NULL || key == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no root or key");
    return cat->ops->compact->pending_remove(cat->ctx, root, key, err);
}

lr_status lr_catalog_compact_swap(lr_catalog *cat, const lr_compact_swap *sw, lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if (sw == NULL || sw->fg_name == NULL || sw->fg_name[0] == '\0' || sw->result == NULL ||
        sw->result->partition == NULL || sw->dest == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: incomplete swap");
    if (sw->n_states > 0 && sw->states == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no states");
    if (sw->copy_root != NULL && sw->copy_root[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: empty copy root");
    if ((st = check_holder(sw->holder, err)) != LR_OK ||
        (st = check_partitions(sw->leases, sw->n_leases, true, err)) != LR_OK ||
        (st = check_files(sw->old_files, sw->n_old, false, err)) != LR_OK ||
        (st = check_files(sw->new_files, sw->n_new, true, err)) != LR_OK)
        return st;
    return cat->ops->compact->swap(cat->ctx, sw, lr_now_us(), err);
}

lr_status lr_catalog_compact_partition_files(lr_catalog *cat, const char *copy_root,
                                             const char *fg_name, int64_t fg_created_us,
                                             const char *partition, lr_offline_file_list *out,
                                             lr_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_BACKEND(cat, err);
    if (fg_name == NULL || fg_name[0] == '\0' || partition == NULL || partition[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group or partition");
    return cat->ops->compact->partition_files(cat->ctx, copy_root, fg_name, fg_created_us,
                                              partition, out, err);
}

lr_status lr_catalog_compact_states(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                    const char *dest, lr_compact_state **out, size_t *n,
                                    lr_error *err)
{
    *out = NULL;
    *n = 0;
    NEED_BACKEND(cat, err);
    if (fg_name == NULL || fg_name[0] == '\0' || dest == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group or destination");
    return cat->ops->compact->states(cat->ctx, fg_name, fg_created_us, dest, out, n, err);
}

lr_status lr_catalog_compact_retired_due(lr_catalog *cat, int64_t now_us, size_t max,
                                         lr_offline_file_list *out, lr_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_BACKEND(cat, err);
    return cat->ops->compact->retired_due(cat->ctx, now_us, max, out, err);
}

lr_status lr_catalog_compact_retired_remove(lr_catalog *cat, const lr_offline_file *files, size_t n,
                                            lr_error *err)
{
    lr_status st;
    NEED_BACKEND(cat, err);
    if ((st = check_files(files, n, false, err)) != LR_OK || n == 0)
        return st;
    return cat->ops->compact->retired_remove(cat->ctx, files, n, err);
}
