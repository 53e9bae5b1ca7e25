/*
 * online_testlib.c - see online_testlib.h.
 */
#include "online/online_testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/value.h"
#include "support/testutil.h"

bool lr_test_redis_available(void)
{
    return access("/usr/bin/redis-server", X_OK) == 0 ||
           access("/usr/local/bin/redis-server", X_OK) == 0;
}

int lr_test_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits until the server answers PING (or the child died). */
static int wait_ready(lr_test_redis *r)
{
    for (int i = 0; i < 2000; i++) {
        struct timeval tv = {1, 0};
        redisContext *c;
        int status;
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->pid = -1;
            return -1;
        }
        c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
        if (c && !c->err) {
            redisReply *rep = redisCommand(c, "PING");
            /* LOADING or NOAUTH still mean it is up. */
            bool up = rep != NULL;
            freeReplyObject(rep);
            redisFree(c);
            if (up)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        sleep_ms(10);
    }
    return -1;
}

int lr_test_redis_start(lr_test_redis *r, const char *const *extra)
{
    const char *bin = access("/usr/bin/redis-server", X_OK) == 0 ? "/usr/bin/redis-server"
                                                                 : "/usr/local/bin/redis-server";
    for (int attempt = 0; attempt < 5; attempt++) {
        char port[16];
        const char *argv[40];
        int n = 0;
        memset(r, 0, sizeof *r);
        r->dir = lr_test_tmpdir("larder-redis");
        if (r->dir == NULL)
            return -1;
        r->port = lr_test_free_port();
        snprintf(port, sizeof port, "%d", r->port);
        argv[n++] = bin;
        argv[n++] = "--port";
        argv[n++] = port;
        argv[n++] = "--bind";
        argv[n++] = "127.0.0.1";
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
        argv[n++] = "--dir";
        argv[n++] = r->dir;
        argv[n++] = "--daemonize";
        argv[n++] = "no";
        argv[n++] = "--loglevel";
        argv[n++] = "warning";
        for (int i = 0; extra && extra[i] && n < 38; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        r->pid = fork();
        if (r->pid < 0)
            return -1;
        if (r->pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) {
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            execv(bin, (char *const *)argv);
            _exit(127);
        }
        if (wait_ready(r) == 0)
            return 0;
        lr_test_redis_stop(r); /* e.g. the port was taken meanwhile: try another */
    }
    return -1;
}

void lr_test_redis_stop(lr_test_redis *r)
{
    if (r->pid > 0) {
        int status;
        kill(r->pid, SIGTERM);
        for (int i = 0; i < 500; i++) {
            if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
                r->pid = -1;
                break;
            }
            sleep_ms(10);
        }
        if (r->pid > 0) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &status, 0);
        }
    }
    r->pid = -1;
    if (r->dir) {
        lr_test_rmtree(r->dir);
        free(r->dir);
        r->dir = NULL;
    }
}

long long lr_test_redis_cmd(const lr_test_redis *r, const char *password, int db, ...)
{
    struct timeval tv = {5, 0};
    const char *argv[32];
    size_t lens[32];
    int n = 0;
    long long result = -1;
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    redisReply *rep;
    va_list ap;

    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return -1;
    }
    if (password) {
        rep = redisCommand(c, "AUTH %s", password);
        freeReplyObject(rep);
    }
    if (db) {
        rep = redisCommand(c, "SELECT %d", db);
        freeReplyObject(rep);
    }
    va_start(ap, db);
    for (const char *a; n < 32 && (a = va_arg(ap, const char *)) != NULL; n++) {
        argv[n] = a;
        lens[n] = strlen(a);
    }
    va_end(ap);
    rep = redisCommandArgv(c, n, argv, lens);
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        result = rep->integer;
    else if (rep && (rep->type == REDIS_REPLY_STATUS || rep->type == REDIS_REPLY_STRING))
        result = 0;
    freeReplyObject(rep);
    redisFree(c);
    return result;
}

lr_fg_def *lr_test_def(const char *json)
{
    lr_fg_def *def = NULL;
    lr_error err;
    lr_error_clear(&err);
    if (lr_fg_def_parse(json, strlen(json), &def, &err) != LR_OK)
        fail_msg("definition: %s", err.msg);
    return def;
}

int64_t lr_test_clock(void *ctx)
{
    int64_t v = __atomic_load_n((int64_t *)ctx, __ATOMIC_SEQ_CST);
    return v ? v : lr_now_us();
}

void lr_test_rec_init(lr_test_rec *b, const lr_fg_def *def)
{
    memset(b, 0, sizeof *b);
    b->def = def;
}

static uint32_t feature(const lr_fg_def *def, const char *name)
{
    int32_t f = lr_fg_def_find_feature(def, name, strlen(name));
    if (f < 0)
        fail_msg("no feature %s", name);
    return (uint32_t)f;
}

void lr_test_rec_s(lr_test_rec *b, const char *name, const char *val, size_t len)
{
    lr_feature_value *v = &b->vals[b->nv++];
    assert_true(b->nv <= 64);
    memset(v, 0, sizeof *v);
    v->feature = feature(b->def, name);
    v->value.ptr = val;
    v->value.len = len;
}

void lr_test_rec_l(lr_test_rec *b, const char *name, int n, const char *const *items)
{
    lr_feature_value *v = &b->vals[b->nv++];
    assert_true(b->nv <= 64 && b->ni + (uint32_t)n <= 512);
    memset(v, 0, sizeof *v);
    v->feature = feature(b->def, name);
    v->is_list = true;
    v->items = &b->items[b->ni];
    v->n_items = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        b->items[b->ni].ptr = items[i];
        b->items[b->ni].len = strlen(items[i]);
        b->ni++;
    }
}

const lr_record *lr_test_rec_done(lr_test_rec *b)
{
    lr_error err;
    lr_error_clear(&err);
    b->rec.values = b->vals;
    b->rec.n_values = b->nv;
    if (lr_record_validate(b->def, &b->rec, &err) != LR_OK)
        fail_msg("record: %s", err.msg);
    return &b->rec;
}

static const lr_online_field *find_field(const lr_fg_def *def, const lr_online_row *row,
                                         const char *name)
{
    uint32_t f = feature(def, name);
    for (uint32_t i = 0; i < row->n_fields; i++) {
        if (row->fields[i].feature == f)
            return &row->fields[i];
    }
    return NULL;
}

char *lr_test_row_value(const lr_fg_def *def, const lr_online_row *row, const char *name,
                        size_t *len)
{
    const lr_online_field *f = find_field(def, row, name);
    char *out;
    if (f == NULL || f->is_list)
        return NULL;
    out = malloc(f->len + 1);
    assert_non_null(out);
    memcpy(out, f->data, f->len);
    out[f->len] = '\0';
    if (len)
        *len = f->len;
    return out;
}

char *lr_test_row_list(const lr_fg_def *def, const lr_online_row *row, const char *name)
{
    const lr_online_field *f = find_field(def, row, name);
    size_t pos = 0, o = 0;
    lr_str item;
    char *out;
    uint32_t n = 0;
    if (f == NULL || !f->is_list)
        return NULL;
    out = malloc(f->len + f->n_items + 1);
    assert_non_null(out);
    while (lr_online_field_item(f, &pos, &item)) {
        if (n++)
            out[o++] = '|';
        memcpy(out + o, item.ptr, item.len);
        o += item.len;
    }
    assert_int_equal(n, f->n_items);
    out[o] = '\0';
    return out;
}
