/*
 * log.c - leveled logging (see log.h). One formatted line is written with a
 * single fputs under the stdio lock so lines from threads never interleave.
 */
#include "larder/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int g_level = -1; /* -1: not yet read from the environment */
static FILE *_Atomic g_file = NULL;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int lr_log_level_parse(const char *s)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0)
            return i;
    }
    return -1;
}

lr_log_level lr_log_get_level(void)
{
    int l = atomic_load(&g_level);
    if (l < 0) {
        const char *env = getenv("LARDER_LOG");
        l = env ? lr_log_level_parse(env) : -1;
        if (l < 0)
            l = LR_LOG_WARN;
        atomic_store(&g_level, l);
    }
    return (lr_log_level)l;
}

void lr_log_set_level(lr_log_level level)
{
    atomic_store(&g_level, (int)level);
}

void lr_log_set_file(FILE *f)
{
    atomic_store(&g_file, f);
}

void lr_log(lr_log_level level, const char *subsystem, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    va_list ap;

    if ((int)level > (int)lr_log_get_level())
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
                          level_names[level], subsystem);
    if (n < sizeof line) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    n = strlen(line);
    if (n + 1 >= sizeof line)
        n = sizeof line - 2;
    line[n] = '\n';
    line[n + 1] = '\0';
    FILE *f = atomic_load(&g_file);
    fputs(line, f ? f : stderr);
}
