/*
 * catalog_offline.h - TEMPORARY home of the offline store's catalog calls
 * until they move to the end of catalog.h (the catalog's header is being
 * written concurrently). Do not include this directly: include
 * larder/catalog.h or larder/offline.h.
 */
#ifndef LARDER_CATALOG_OFFLINE_H
#define LARDER_CATALOG_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_catalog lr_catalog;
struct lr_arena;

/* ---- Offline store: live files, partitions, log checkpoints ----
 *
 * A file of the offline store belongs to a generation of a feature group:
 * (fg_name, fg_created_us), so files of a deleted group never mix with those
 * of a new group of the same name. Files are identified by (root, key): the
 * group's offline root (its ResolvedOutputS3Uri) and the object key below
 * it. Only registered files are live; docs/offline-store.md explains the
 * protocol (announce, write, commit) that these calls implement.
 */

typedef struct lr_offline_file {
    const char *fg_name;
    int64_t fg_created_us;
    const char *partition;      /* "year=YYYY/month=MM/day=DD/hour=HH" */
    int64_t partition_start_us; /* start of that hour */
    const char *root;
    const char *key;
    int64_t rows;
    int64_t bytes;
    int64_t min_event_us;
    int64_t max_event_us;
    const char *log_id;     /* the log the rows came from; NULL otherwise */
    int64_t log_first_seq;  /* the log range the commit covered (0 without a log) */
    int64_t log_last_seq;
    int64_t created_us;     /* set by the catalog: registration (or announcement) time */
} lr_offline_file;

typedef struct lr_offline_file_list {
    lr_offline_file *items; /* strings owned by the list */
    size_t n;
    struct lr_arena *arena;
} lr_offline_file_list;

/* Frees a list filled by the calls below; the list is empty afterwards. NULL is fine. */
void lr_offline_file_list_free(lr_offline_file_list *l);

/*
 * Announces files a flush is about to write (fg_name, root, key, log_id of
 * each; other fields ignored), before writing them, so that garbage
 * collection can remove them should the flush never commit. Announcing a
 * file twice is LR_EEXIST. Errors: LR_EINVAL, LR_EEXIST, LR_EBUSY,
 * LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_announce(lr_catalog *cat, const lr_offline_file *files, size_t n,
                                      lr_error *err);

/*
 * Registers `n` files in one transaction.
 *
 * With log_id: the files come from log `log_id` entries (expected_seq,
 * new_seq]. The log's checkpoint must be expected_seq (0 when it has none)
 * and becomes new_seq; every file must have been announced, and its
 * announcement is removed. Otherwise nothing changes and the result is
 * LR_ECONFLICT: another flusher registered this range, or garbage
 * collection removed an announcement (its file may be gone), so the caller
 * must discard its files and re-read the checkpoint. n may be 0 (only the
 * checkpoint moves).
 *
 * Without log_id (repair, other writers): the files are registered as they
 * are; a file already registered is LR_EEXIST and nothing changes.
 *
 * created_us of each file is set to now. Errors: LR_EINVAL, LR_ECONFLICT,
 * LR_EEXIST, LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_commit(lr_catalog *cat, const char *log_id, int64_t expected_seq,
                                    int64_t new_seq, const lr_offline_file *files, size_t n,
                                    lr_error *err);

/* The checkpoint of log `log_id` (0 when it has none). Errors: LR_EBUSY, LR_EBACKEND. */
lr_status lr_catalog_offline_checkpoint(lr_catalog *cat, const char *log_id, int64_t *seq,
                                        lr_error *err);

/*
 * Forgets log `log_id`'s checkpoint, once the log itself is gone. Absent is
 * fine. Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_offline_checkpoint_delete(lr_catalog *cat, const char *log_id,
                                               lr_error *err);

/*
 * Live files of a group generation whose event times overlap [start_us,
 * end_us) (end exclusive; INT64_MIN / INT64_MAX for no bound), ordered by
 * partition then key. *out is filled (lr_offline_file_list_free()).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_files(lr_catalog *cat, const char *fg_name, int64_t fg_created_us,
                                   int64_t start_us, int64_t end_us, lr_offline_file_list *out,
                                   lr_error *err);

/* True (in *found) when (root, key) is a live file. Errors: LR_EBUSY, LR_EBACKEND. */
lr_status lr_catalog_offline_file_exists(lr_catalog *cat, const char *root, const char *key,
                                         bool *found, lr_error *err);

/*
 * Announcements older than `before_us` (fg_name, root, key, log_id,
 * created_us filled), oldest first, at most `max` (0: all).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_announced(lr_catalog *cat, int64_t before_us, size_t max,
                                       lr_offline_file_list *out, lr_error *err);

/*
 * Withdraws the announcement of (root, key) if it is still there; *removed
 * (may be NULL) says whether it was. A flush that then tries to commit that
 * file gets LR_ECONFLICT, so a file is deleted only after this succeeded.
 * Errors: LR_EBUSY, LR_EBACKEND.
 */
lr_status lr_catalog_offline_unannounce(lr_catalog *cat, const char *root, const char *key,
                                        bool *removed, lr_error *err);

/* One partition of a group generation with live files. */
typedef struct lr_offline_partition_info {
    char partition[40]; /* "year=YYYY/month=MM/day=DD/hour=HH" */
    int64_t start_us;
    int64_t files;
    int64_t rows;
    int64_t bytes;
    int64_t min_event_us;
    int64_t max_event_us;
    int64_t updated_us; /* when a file was last registered in it */
} lr_offline_partition_info;

/*
 * The partitions of a group generation with at least one live file, in
 * time order. *out: free() (NULL when *n is 0).
 * Errors: LR_EBUSY, LR_EBACKEND, LR_ENOMEM.
 */
lr_status lr_catalog_offline_partitions(lr_catalog *cat, const char *fg_name,
                                        int64_t fg_created_us, lr_offline_partition_info **out,
                                        size_t *n, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
