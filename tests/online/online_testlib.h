/*
 * online_testlib.h - helpers for the online-store tests: a real redis-server
 * on a free loopback port, feature-group definitions, building records, an
 * injectable clock.
 */
#ifndef LARDER_ONLINE_TESTLIB_H
#define LARDER_ONLINE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "larder/fg.h"
#include "larder/online.h"
#include "larder/record.h"

/* A redis-server child process. */
typedef struct lr_test_redis {
    pid_t pid;
    int port;
    char *dir;
} lr_test_redis;

/* True when redis-server is installed. */
bool lr_test_redis_available(void);

/*
 * Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no`
 * (plus extra arguments, NULL-terminated list, may be NULL) in a temporary
 * directory on a free port, and waits until it answers PING (up to 20 s).
 * Returns 0 on success.
 */
int lr_test_redis_start(lr_test_redis *r, const char *const *extra);

/* Stops the server (SIGTERM, then SIGKILL if it lingers) and removes its dir. */
void lr_test_redis_stop(lr_test_redis *r);

/* Runs one command on the server (db 0 unless `db`), returning the integer
 * reply or -1; NULL-terminated argument list. For FLUSHALL and the like. */
long long lr_test_redis_cmd(const lr_test_redis *r, const char *password, int db, ...);

/* A free TCP port on 127.0.0.1 (bound then released). */
int lr_test_free_port(void);

/* Parses a CreateFeatureGroup JSON; fails the test on error. */
lr_fg_def *lr_test_def(const char *json);

/* An injectable clock: returns *(int64_t *)ctx when non-zero, else the wall clock. */
int64_t lr_test_clock(void *ctx);

/* Builds records feature by feature. */
typedef struct lr_test_rec {
    const lr_fg_def *def;
    lr_feature_value vals[64];
    lr_str items[512];
    uint32_t nv, ni;
    lr_record rec;
} lr_test_rec;

void lr_test_rec_init(lr_test_rec *b, const lr_fg_def *def);
/* A scalar value (`len` bytes; pass strlen for C strings). */
void lr_test_rec_s(lr_test_rec *b, const char *name, const char *val, size_t len);
/* A list value of n C strings. */
void lr_test_rec_l(lr_test_rec *b, const char *name, int n, const char *const *items);
/* Validates (the test fails on error) and returns the record. */
const lr_record *lr_test_rec_done(lr_test_rec *b);

/* The value of feature `name` in a row as a malloc'd NUL-terminated copy, or NULL. */
char *lr_test_row_value(const lr_fg_def *def, const lr_online_row *row, const char *name,
                        size_t *len);
/* A list feature's items joined with '|' (malloc'd), or NULL when absent. */
char *lr_test_row_list(const lr_fg_def *def, const lr_online_row *row, const char *name);

#endif
