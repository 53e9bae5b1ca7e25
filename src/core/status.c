/*
 * status.c - names and messages of lr_status codes, and lr_error helpers.
 */
#include "larder/status.h"

#include <stdio.h>
#include <string.h>

const char *lr_strerror(lr_status st)
{
    switch (st) {
#define LR_X_MSG(name, val, sname, msg)                                                    \
    case name:                                                                             \
        return msg;
        LR_STATUS_LIST(LR_X_MSG)
#undef LR_X_MSG
    }
    return "unknown error";
}

const char *lr_status_name(lr_status st)
{
    switch (st) {
#define LR_X_NAME(name, val, sname, msg)                                                   \
    case name:                                                                             \
        return sname;
        LR_STATUS_LIST(LR_X_NAME)
#undef LR_X_NAME
    }
    return "Unknown";
}

/* Messages are one line: logs, CLI stderr and HTTP bodies all rely on it. */
static void flatten(char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    }
}

lr_status lr_error_vset(lr_error *err, lr_status st, const char *fmt, va_list ap)
{
    if (err == NULL)
        return st;
    err->code = st;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    flatten(err->msg);
    return st;
}

lr_status lr_error_set(lr_error *err, lr_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(err, st, fmt, ap);
    va_end(ap);
    return st;
}

lr_status lr_error_prefix(lr_error *err, const char *fmt, ...)
{
    char prefix[LR_ERROR_MSG_MAX];
    char old[LR_ERROR_MSG_MAX];
    va_list ap;

    if (err == NULL)
        return LR_EINTERNAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old[0] ? old : lr_strerror(err->code));
    flatten(err->msg);
    return err->code;
}

void lr_error_clear(lr_error *err)
{
    if (err == NULL)
        return;
    err->code = LR_OK;
    err->msg[0] = '\0';
}

const char *lr_error_message(const lr_error *err)
{
    if (err == NULL)
        return "";
    return err->msg[0] ? err->msg : lr_strerror(err->code);
}
