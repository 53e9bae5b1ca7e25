/*
 * gc.c - garbage collection of the offline store, and the catalog views
 * (partitions, group totals).
 *
 * Only what Larder itself left behind is ever removed: files a flush
 * announced in the catalog and never registered (its process died, or the
 * write or the commit failed), and the temporary remains of interrupted
 * object writes in those files' folders. A file is deleted only after its
 * announcement has been withdrawn, and a withdrawn announcement makes the
 * flush's commit fail, so a file can never be both registered and deleted.
 * The grace period keeps collection away from flushes still in progress.
 */
#include <stdlib.h>
#include <string.h>

#include "larder/log.h"
#include "offline/offline_internal.h"

/* Announcements examined per catalog query. */
#define GC_BATCH 1000

lr_status lr_offline_gc(lr_catalog *cat, int64_t grace_us, lr_offline_gc_report *report,
                        lr_error *err)
{
    lr_offline_gc_report r = {0, 0};
    lr_offline_file_list l = {0};
    lr_objstore *os = NULL;
    char *os_root = NULL;
    lr_status st = LR_OK;
    int64_t before = lr_now_us() - (grace_us > 0 ? grace_us : 0);

    for (;;) {
        size_t progress = 0;
        st = lr_catalog_offline_announced(cat, before, GC_BATCH, &l, err);
        if (st != LR_OK || l.n == 0)
            break;
        for (size_t i = 0; i < l.n && st == LR_OK; i++) {
            const lr_offline_file *f = &l.items[i];
            bool removed = false;
            if (os_root == NULL || strcmp(os_root, f->root) != 0) {
                lr_objstore_close(os);
                os = NULL;
                free(os_root);
                os_root = strdup(f->root);
                if (os_root == NULL) {
                    st = lr_error_set(err, LR_ENOMEM, "out of memory");
                    break;
                }
                lr_error e;
                if (lr_objstore_open(f->root, &os, &e) != LR_OK) {
                    /* A root this build cannot reach: leave its announcements alone. */
                    lr_log_warn("offline", "garbage collection skips %s: %s", f->root,
                                lr_error_message(&e));
                    continue;
                }
            }
            if (os == NULL)
                continue;
            st = lr_catalog_offline_unannounce(cat, f->root, f->key, &removed, err);
            if (st != LR_OK || !removed)
                continue;
            progress++;
            st = lr_objstore_delete(os, f->key, err);
            if (st != LR_OK)
                break;
            r.files_removed++;
            /* Temporary files of an interrupted put live in the object's folder. */
            const char *slash = strrchr(f->key, '/');
            if (slash != NULL) {
                char prefix[LR_OBJ_KEY_MAX + 1];
                uint64_t n = 0;
                size_t pl = (size_t)(slash - f->key) + 1;
                memcpy(prefix, f->key, pl);
                prefix[pl] = '\0';
                st = lr_objstore_abort_incomplete(os, prefix, before, &n, err);
                r.incomplete_removed += n;
            }
        }
        bool full = l.n == GC_BATCH;
        lr_offline_file_list_free(&l);
        if (st != LR_OK || !full || progress == 0)
            break;
    }
    lr_offline_file_list_free(&l);
    lr_objstore_close(os);
    free(os_root);
    if (report != NULL)
        *report = r;
    if (r.files_removed > 0)
        lr_log_info("offline", "garbage collection removed %llu unregistered file(s)",
                    (unsigned long long)r.files_removed);
    return st;
}

lr_status lr_offline_partitions(lr_catalog *cat, const char *fg, lr_offline_partition_info **out,
                                size_t *n, lr_error *err)
{
    lr_fg_def *def = NULL;
    lr_status st;

    *out = NULL;
    *n = 0;
    st = lr__offline_group(cat, fg, &def, err);
    if (st == LR_OK)
        st = lr_catalog_offline_partitions(cat, def->name, def->creation_time_us, out, n, err);
    lr_fg_def_free(def);
    return st;
}

lr_status lr_offline_group_stats_get(lr_catalog *cat, const char *fg, lr_offline_group_stats *out,
                                     lr_error *err)
{
    lr_offline_partition_info *p = NULL;
    size_t n = 0;
    lr_status st = lr_offline_partitions(cat, fg, &p, &n, err);

    memset(out, 0, sizeof *out);
    if (st != LR_OK)
        return st;
    out->partitions = n;
    for (size_t i = 0; i < n; i++) {
        out->files += (uint64_t)p[i].files;
        out->rows += (uint64_t)p[i].rows;
        out->bytes += (uint64_t)p[i].bytes;
    }
    free(p);
    return LR_OK;
}
