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

#endif
