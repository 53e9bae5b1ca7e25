/*
 * log.h - leveled logging to stderr (or a file), safe from many threads.
 *
 * The level comes from lr_log_set_level() or the LARDER_LOG environment
 * variable (error, warn, info, debug). Each line is
 * "2026-11-21T10:00:00.123Z LEVEL subsystem: message".
 */
#ifndef LARDER_LOG_H
#define LARDER_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_log_level {
    LR_LOG_ERROR = 0,
    LR_LOG_WARN = 1,
    LR_LOG_INFO = 2,
    LR_LOG_DEBUG = 3,
} lr_log_level;

/* Sets the level; messages above it are dropped cheaply. */
void lr_log_set_level(lr_log_level level);
lr_log_level lr_log_get_level(void);

/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int lr_log_level_parse(const char *s);

/* Directs output to `f` (borrowed; NULL: stderr). */
void lr_log_set_file(FILE *f);

void lr_log(lr_log_level level, const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define lr_log_error(sub, ...) lr_log(LR_LOG_ERROR, sub, __VA_ARGS__)
#define lr_log_warn(sub, ...) lr_log(LR_LOG_WARN, sub, __VA_ARGS__)
#define lr_log_info(sub, ...) lr_log(LR_LOG_INFO, sub, __VA_ARGS__)
#define lr_log_debug(sub, ...) lr_log(LR_LOG_DEBUG, sub, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
