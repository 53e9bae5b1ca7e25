/*
 * objstore.c - the object-storage handle: URI dispatch, key checks, and the
 * calls that forward to a backend (see include/larder/objstore.h). The
 * backends live in objstore_<name>.c and know nothing of one another.
 */
#include "larder/objstore.h"

#include <stdlib.h>
#include <string.h>

#include "offline/objstore_internal.h"

struct lr_objstore {
    const lr_objstore_ops *ops;
    void *ctx;
    char *root;
};

#define URI_MAX 4096
#define TMP_PREFIX ".lrtmp."

bool lr_objstore_uri_local_path(const char *uri, const char **path)
{
    if (uri == NULL)
        return false;
    if (strncmp(uri, "file://", 7) == 0) {
        if (uri[7] != '/')
            return false;
        *path = uri + 7;
        return true;
    }
    if (strstr(uri, "://") != NULL)
        return false;
    *path = uri;
    return true;
}

lr_status lr_objstore_new(const lr_objstore_ops *ops, void *ctx, const char *root_uri,
                          lr_objstore **out, lr_error *err)
{
    lr_objstore *os;

    *out = NULL;
    if (ops == NULL || root_uri == NULL)
        return lr_error_set(err, LR_EINVAL, "object store: no backend");
    if (ops->batch_begin != NULL &&
        (ops->batch_put == NULL || ops->batch_commit == NULL || ops->batch_free == NULL))
        return lr_error_set(err, LR_EINVAL, "object store: the %s backend's batch operations "
                                            "are incomplete", ops->scheme ? ops->scheme : "?");
    os = calloc(1, sizeof *os);
    if (os == NULL || (os->root = strdup(root_uri)) == NULL) {
        free(os);
        ops->close(ctx);
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    }
    os->ops = ops;
    os->ctx = ctx;
    *out = os;
    return LR_OK;
}

lr_status lr_objstore_open(const char *uri, lr_objstore **out, lr_error *err)
{
    const char *path;
    const char *sep;
    void *ctx = NULL;
    lr_status st;

    *out = NULL;
    if (uri == NULL || uri[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "object store: empty URI");
    if (strlen(uri) > URI_MAX)
        return lr_error_set(err, LR_EINVAL, "object store: URI longer than %d bytes", URI_MAX);
    if (lr_objstore_uri_local_path(uri, &path)) {
        if (path[0] == '\0')
            return lr_error_set(err, LR_EINVAL, "object store: empty path in '%s'", uri);
        st = lr__objstore_local_open(path, &ctx, err);
        if (st != LR_OK)
            return st;
        return lr_objstore_new(&lr__objstore_local_ops, ctx, uri, out, err);
    }
    if (strncmp(uri, "file://", 7) == 0)
        return lr_error_set(err, LR_EINVAL,
                            "object store: '%s' is not an absolute file:// URI (file:///path)",
                            uri);
    sep = strstr(uri, "://");
    return lr_error_set(err, LR_EUNSUPPORTED,
                        "object store: the %.*s:// backend is not in this build (offline "
                        "root '%s'); use a local directory or a file:// URI",
                        (int)(sep - uri), uri, uri);
}

void lr_objstore_close(lr_objstore *os)
{
    if (os == NULL)
        return;
    os->ops->close(os->ctx);
    free(os->root);
    free(os);
}

const char *lr_objstore_root(const lr_objstore *os)
{
    return os->root;
}

const char *lr_objstore_scheme(const lr_objstore *os)
{
    return os->ops->scheme;
}

bool lr_objstore_key_valid(const char *key)
{
    size_t n;
    const char *seg;

    if (key == NULL)
        return false;
    n = strlen(key);
    if (n == 0 || n > LR_OBJ_KEY_MAX || key[0] == '/' || key[n - 1] == '/')
        return false;
    seg = key;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.') ||
            (len >= sizeof TMP_PREFIX - 1 && memcmp(seg, TMP_PREFIX, sizeof TMP_PREFIX - 1) == 0))
            return false;
        if (end == NULL)
            break;
        seg = end + 1;
    }
    return true;
}

static lr_status bad_key(lr_error *err, const char *key)
{
    return lr_error_set(err, LR_EINVAL, "object store: invalid key '%.200s'", key ? key : "");
}

static lr_status check_prefix(const char *prefix, lr_error *err)
{
    if (prefix == NULL || strlen(prefix) > LR_OBJ_KEY_MAX)
        return lr_error_set(err, LR_EINVAL, "object store: invalid prefix");
    return LR_OK;
}

lr_status lr_objstore_put(lr_objstore *os, const char *key, const void *data, size_t len,
                          lr_error *err)
{
    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    return os->ops->put(os->ctx, key, data, len, err);
}

/*
 * A batch: the backend's own when it has batch operations, else a plain
 * sequence of puts (each durable when it returns, so the commit has
 * nothing left to do).
 */
struct lr_objstore_batch {
    lr_objstore *os;
    void *ctx;   /* the backend's batch; NULL without batch operations */
    bool closed; /* committed, or a put or the commit failed */
};

lr_status lr_objstore_batch_begin(lr_objstore *os, lr_objstore_batch **out, lr_error *err)
{
    lr_objstore_batch *b = calloc(1, sizeof *b);
    lr_status st;

    *out = NULL;
    if (b == NULL)
        return lr_error_set(err, LR_ENOMEM, "object store: out of memory");
    b->os = os;
    if (os->ops->batch_begin != NULL) {
        st = os->ops->batch_begin(os->ctx, &b->ctx, err);
        if (st != LR_OK) {
            free(b);
            return st;
        }
    }
    *out = b;
    return LR_OK;
}

lr_status lr_objstore_batch_put(lr_objstore_batch *b, const char *key, const void *data,
                                size_t len, lr_error *err)
{
    lr_status st;

    if (b->closed)
        return lr_error_set(err, LR_EINVAL, "object store: put into a finished batch");
    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    if (b->ctx != NULL)
        st = b->os->ops->batch_put(b->ctx, key, data, len, err);
    else
        st = b->os->ops->put(b->os->ctx, key, data, len, err);
    if (st != LR_OK)
        b->closed = true;
    return st;
}

lr_status lr_objstore_batch_commit(lr_objstore_batch *b, lr_error *err)
{
    lr_status st = LR_OK;

    if (b->closed)
        return lr_error_set(err, LR_EINVAL, "object store: commit of a finished batch");
    b->closed = true;
    if (b->ctx != NULL)
        st = b->os->ops->batch_commit(b->ctx, err);
    return st;
}

void lr_objstore_batch_free(lr_objstore_batch *b)
{
    if (b == NULL)
        return;
    if (b->ctx != NULL)
        b->os->ops->batch_free(b->ctx);
    free(b);
}

lr_status lr_objstore_get(lr_objstore *os, const char *key, size_t max, lr_buf *out,
                          lr_error *err)
{
    lr_buf_init(out, max);
    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    return os->ops->get(os->ctx, key, max, out, err);
}

lr_status lr_objstore_get_range(lr_objstore *os, const char *key, uint64_t offset, size_t len,
                                void *dst, size_t *got, lr_error *err)
{
    *got = 0;
    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    return os->ops->get_range(os->ctx, key, offset, len, dst, got, err);
}

lr_status lr_objstore_head(lr_objstore *os, const char *key, uint64_t *size, int64_t *mtime_us,
                           lr_error *err)
{
    uint64_t s;
    int64_t m;
    lr_status st;

    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    st = os->ops->head(os->ctx, key, &s, &m, err);
    if (st == LR_OK) {
        if (size)
            *size = s;
        if (mtime_us)
            *mtime_us = m;
    }
    return st;
}

lr_status lr_objstore_list(lr_objstore *os, const char *prefix, lr_objstore_list_fn fn, void *arg,
                           lr_error *err)
{
    lr_status st = check_prefix(prefix, err);
    if (st != LR_OK)
        return st;
    return os->ops->list(os->ctx, prefix, fn, arg, err);
}

lr_status lr_objstore_delete(lr_objstore *os, const char *key, lr_error *err)
{
    if (!lr_objstore_key_valid(key))
        return bad_key(err, key);
    return os->ops->del(os->ctx, key, err);
}

lr_status lr_objstore_abort_incomplete(lr_objstore *os, const char *prefix, int64_t older_than_us,
                                       uint64_t *removed, lr_error *err)
{
    uint64_t n = 0;
    lr_status st = check_prefix(prefix, err);
    if (st == LR_OK)
        st = os->ops->abort_incomplete(os->ctx, prefix, older_than_us, &n, err);
    if (removed)
        *removed = n;
    return st;
}

lr_status lr_objstore_uri_join(const char *root, const char *key, char **out, lr_error *err)
{
    size_t rl = strlen(root), kl = strlen(key);
    char *p;

    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    while (kl > 0 && key[0] == '/') {
        key++;
        kl--;
    }
    p = malloc(rl + 1 + kl + 1);
    if (p == NULL) {
        *out = NULL;
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    memcpy(p, root, rl);
    p[rl] = '/';
    memcpy(p + rl + 1, key, kl);
    p[rl + 1 + kl] = '\0';
    *out = p;
    return LR_OK;
}
