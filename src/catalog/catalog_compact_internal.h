/*
 * catalog_compact_internal.h - the compaction part of the catalog's backend
 * interface: what a backend implements for the compaction calls of
 * catalog.h (jobs, leases, pending output, the swap, retired files, states,
 * copies). catalog_compact.c checks arguments and takes the time, then calls
 * these through lr__catalog_ops.compact. Not API.
 */
#ifndef LARDER_CATALOG_COMPACT_INTERNAL_H
#define LARDER_CATALOG_COMPACT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "larder/catalog.h"

typedef struct lr__catalog_compact_ops {
    lr_status (*job_create)(void *ctx, lr_compact_job *job, const char *const *partitions, size_t n,
                            int64_t now_us, lr_error *err);
    lr_status (*job_heartbeat)(void *ctx, int64_t job_id, const lr_job_holder *h,
                               int64_t expires_us, bool *owned, lr_error *err);
    lr_status (*job_partition_fail)(void *ctx, const lr_compact_job_partition *p, int64_t now_us,
                                    lr_error *err);
    lr_status (*job_finish)(void *ctx, int64_t job_id, const lr_job_holder *h, lr_job_status status,
                            const char *error, int64_t now_us, lr_error *err);
    lr_status (*job_fail_dead)(void *ctx, int64_t job_id, const lr_job_holder *h,
                               const char *reason, int64_t now_us, bool *changed, lr_error *err);
    lr_status (*jobs_list)(void *ctx, const lr_compact_job_query *q, int64_t only_id,
                           lr_compact_job_list *out, lr_error *err);
    lr_status (*lease_acquire)(void *ctx, const char *fg_name, int64_t fg_created_us,
                               const char *const *partitions, size_t n, int64_t job_id,
                               const lr_job_holder *h, int64_t expires_us,
                               lr_job_holder_alive_fn alive, void *alive_ctx, int64_t now_us,
                               lr_error *err);
    lr_status (*lease_release)(void *ctx, int64_t job_id, const char *const *partitions, size_t n,
                               lr_error *err);
    lr_status (*pending_add)(void *ctx, int64_t job_id, const lr_offline_file *files, size_t n,
                             int64_t now_us, lr_error *err);
    lr_status (*pending_list)(void *ctx, int64_t job_id, lr_offline_file_list *out, lr_error *err);
    lr_status (*pending_remove)(void *ctx, const char *root, const char *key, lr_error *err);
    lr_status (*swap)(void *ctx, const lr_compact_swap *sw, int64_t now_us, lr_error *err);
    lr_status (*partition_files)(void *ctx, const char *copy_root, const char *fg_name,
                                 int64_t fg_created_us, const char *partition,
                                 lr_offline_file_list *out, lr_error *err);
    lr_status (*states)(void *ctx, const char *fg_name, int64_t fg_created_us, const char *dest,
                        lr_compact_state **out, size_t *n, lr_error *err);
    lr_status (*retired_due)(void *ctx, int64_t now_us, size_t max, lr_offline_file_list *out,
                             lr_error *err);
    lr_status (*retired_remove)(void *ctx, const lr_offline_file *files, size_t n, lr_error *err);
} lr__catalog_compact_ops;

#endif
