/*
 * catalog_offline.c - the public catalog calls of the offline store (see
 * the "Offline store" part of catalog.h): argument checks and the current
 * time, then the backend. The SQLite backend's side is in
 * catalog_sqlite_offline.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "larder/arena.h"

/* One commit registers at most this many files (a flush writes one per group and hour). */
#define FILES_PER_CALL_MAX 100000

void lr_offline_file_list_free(lr_offline_file_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    lr_arena_free(l->arena);
    memset(l, 0, sizeof *l);
}

static lr_status check_files(const lr_offline_file *files, size_t n, bool full, lr_error *err)
{
    if (n > FILES_PER_CALL_MAX)
        return lr_error_set(err, LR_EINVAL, "catalog: %zu files in one call (at most %d)", n,
                            FILES_PER_CALL_MAX);
    if (n > 0 && files == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no files");
    for (size_t i = 0; i < n; i++) {
        const lr_offline_file *f = &files[i];
        if (f->root == NULL || f->root[0] == '\0' || f->key == NULL || f->key[0] == '\0' ||
            f->fg_name == NULL || f->fg_name[0] == '\0')
            return lr_error_set(err, LR_EINVAL, "catalog: offline file %zu lacks a root, key or "
                                                "feature group", i);
        if (full && (f->partition == NULL || f->rows < 0 || f->bytes < 0 ||
                     f->min_event_us > f->max_event_us))
            return lr_error_set(err, LR_EINVAL,
                                "catalog: offline file %s/%s: bad partition, counts or bounds",
                                f->root, f->key);
    }
    return LR_OK;
}

lr_status lr_catalog_offline_announce(lr_catalog *cat, const lr_offline_file *files, size_t n,
                                      lr_error *err)
{
    lr_status st = check_files(files, n, false, err);
    if (st != LR_OK || n == 0)
        return st;
    return cat->ops->offline_announce(cat->ctx, files, n, lr_now_us(), err);
}

lr_status lr_catalog_offline_commit(lr_catalog *cat, const char *log_id, int64_t expected_seq,
                                    int64_t new_seq, const lr_offline_file *files, size_t n,
                                    lr_error *err)
{
    lr_status st = check_files(files, n, true, err);
    if (st != LR_OK)
        return st;
    if (log_id != NULL && (log_id[0] == '\0' || expected_seq < 0 || new_seq < expected_seq))
        return lr_error_set(err, LR_EINVAL, "catalog: bad log range (%lld, %lld]",
                            (long long)expected_seq, (long long)new_seq);
    if (log_id == NULL && n == 0)
        return LR_OK;
    return cat->ops->offline_commit(cat->ctx, log_id, expected_seq, new_seq, files, n, lr_now_us(),
                                    err);
}

lr_status lr_catalog_offline_checkpoint(lr_catalog *cat, const char *log_id, int64_t *seq,
                                        lr_error *err)
{
    *seq = 0;
    if (log_id == NULL || log_id[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no log id");
    return cat->ops->offline_checkpoint(cat->ctx, log_id, seq, err);
}

lr_status lr_catalog_offline_checkpoint_delete(lr_catalog *cat, const char *log_id,
                                               lr_error *err)
{
    if (log_id == NULL || log_id[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no log id");
    return cat->ops->offline_checkpoint_delete(cat->ctx, log_id, err);
}

lr_status lr_catalog_offline_files(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                   int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                                   lr_error *err)
{
    memset(out, 0, sizeof *out);
    if (fg_name == NULL || fg_name[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group");
    return cat->ops->offline_files(cat->ctx, fg_name, fg_created_us, start_us, end_us, out, err);
}

lr_status lr_catalog_offline_file_exists(lr_catalog *cat, const char *root, const char *key,
                                         bool *found, lr_error *err)
{
    *found = false;
    if (root == NULL || key == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no root or key");
    return cat->ops->offline_file_exists(cat->ctx, root, key, found, err);
}

lr_status lr_catalog_offline_announced(lr_catalog *cat, int64_t before_us, size_t max,
                                       lr_offline_file_list *out, lr_error *err)
{
    memset(out, 0, sizeof *out);
    return cat->ops->offline_announced(cat->ctx, before_us, max, out, err);
}

lr_status lr_catalog_offline_unannounce(lr_catalog *cat, const char *root, const char *key,
                                        bool *removed, lr_error *err)
{
    bool r = false;
    lr_status st;
    if (root == NULL || key == NULL)
        return lr_error_set(err, LR_EINVAL, "catalog: no root or key");
    st = cat->ops->offline_unannounce(cat->ctx, root, key, &r, err);
    if (removed != NULL)
        *removed = r;
    return st;
}

lr_status lr_catalog_offline_partitions(lr_catalog *cat, const char *fg_name,
                                        int64_t fg_created_us, lr_offline_partition_info **out,
                                        size_t *n, lr_error *err)
{
    *out = NULL;
    *n = 0;
    if (fg_name == NULL || fg_name[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "catalog: no feature group");
    return cat->ops->offline_partitions(cat->ctx, fg_name, fg_created_us, out, n, err);
}
