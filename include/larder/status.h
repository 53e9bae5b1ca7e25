/*
 * status.h - Larder's one error enum, its names and messages, and the error
 * struct that carries a detailed message from a failing call to its caller.
 *
 * Every library call returns an lr_status: LR_OK (0) on success, a negative
 * code otherwise. Calls that can say more take an `lr_error *` (may be NULL)
 * and fill it with the code and a one-line message that names the rule and
 * the field, in the words a SageMaker user would expect.
 *
 * Codes are only ever added at the end of the list, so their numbers are
 * stable across versions (they appear in logs and the catalog's job table).
 */
#ifndef LARDER_STATUS_H
#define LARDER_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(enum name, value, short name, default message) */
#define LR_STATUS_LIST(X)                                                                   \
    X(LR_OK, 0, "OK", "success")                                                           \
    X(LR_ENOMEM, -1, "OutOfMemory", "out of memory")                                       \
    X(LR_EINVAL, -2, "ValidationError", "invalid input")                                   \
    X(LR_ENOTFOUND, -3, "ResourceNotFound", "not found")                                   \
    X(LR_EEXIST, -4, "ResourceInUse", "already exists")                                    \
    X(LR_EIO, -5, "IOError", "input/output error")                                         \
    X(LR_ECORRUPT, -6, "Corrupt", "corrupt data")                                          \
    X(LR_ELIMIT, -7, "LimitExceeded", "size limit exceeded")                               \
    X(LR_EBUSY, -8, "Busy", "resource busy")                                               \
    X(LR_ECONFLICT, -9, "ConflictException", "conflict")                                   \
    X(LR_EBACKEND, -10, "BackendError", "storage backend error")                           \
    X(LR_EUNSUPPORTED, -11, "Unsupported", "not supported")                                \
    X(LR_EACCESS, -12, "AccessForbidden", "access denied")                                 \
    X(LR_ECANCELED, -13, "Canceled", "canceled")                                           \
    X(LR_EINTERNAL, -14, "InternalFailure", "internal error")                              \
    X(LR_EUNAVAILABLE, -15, "ServiceUnavailable", "service unavailable")

typedef enum lr_status {
#define LR_X_ENUM(name, val, sname, msg) name = val,
    LR_STATUS_LIST(LR_X_ENUM)
#undef LR_X_ENUM
} lr_status;

/* Capacity of lr_error.msg, including the terminating NUL. */
#define LR_ERROR_MSG_MAX 512

/*
 * A detailed error. Filled by the callee on failure; untouched on success.
 * The message is a single line (no trailing newline, no embedded newlines).
 */
typedef struct lr_error {
    lr_status code;
    char msg[LR_ERROR_MSG_MAX];
} lr_error;

/* A static default message for the code ("out of memory"). Never NULL. */
const char *lr_strerror(lr_status st);

/* The code's short name ("ValidationError"), SageMaker-style where one exists. */
const char *lr_status_name(lr_status st);

/*
 * Sets *err (when err is not NULL) to code `st` with a printf-style message
 * and returns `st`, so a caller can write `return lr_error_set(err, ...)`.
 * Newlines in the formatted message are replaced by spaces; an over-long
 * message is truncated.
 */
lr_status lr_error_set(lr_error *err, lr_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lr_status lr_error_vset(lr_error *err, lr_status st, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefixes an existing message: "ctx: old message". Returns err->code. */
lr_status lr_error_prefix(lr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears an error to LR_OK with an empty message. NULL is fine. */
void lr_error_clear(lr_error *err);

/* The message of an error, or lr_strerror(code) if the message is empty. */
const char *lr_error_message(const lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
