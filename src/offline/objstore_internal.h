/*
 * objstore_internal.h - the object-store backends built into Larder. Not
 * API: only src/offline/ includes this.
 */
#ifndef LARDER_OFFLINE_OBJSTORE_INTERNAL_H
#define LARDER_OFFLINE_OBJSTORE_INTERNAL_H

#include "larder/objstore.h"

/* ---- local directory (objstore_local.c) ---- */

extern const lr_objstore_ops lr__objstore_local_ops;

/*
 * Creates the context of a store rooted at the local directory `path`
 * (absolute or relative to the working directory; need not exist yet).
 * Errors: LR_EINVAL (path too long), LR_ENOMEM.
 */
lr_status lr__objstore_local_open(const char *path, void **ctx, lr_error *err);

/*
 * Tests: when true, batches of the local backend never use syncfs(2) and
 * fsync each file and directory instead (the path taken on filesystems
 * where syncfs is not known to be as strong), so both paths are tested on
 * any machine. Set it before starting a batch; false by default.
 */
extern bool lr__objstore_local_fsync_only;

/*
 * Crash injection for the kill tests, as lr__offline_crash_hook: called
 * inside a batch commit of the local backend (after its files' data is
 * durable, after each rename). NULL by default.
 */
extern void (*lr__objstore_crash_hook)(const char *point);

#endif
