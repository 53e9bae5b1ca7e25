/*
 * test_online_crash.c - a writer process killed with SIGKILL at random
 * points, over and over, on one LMDB online store.
 *
 * Each round forks a child that opens the store (full sync) and runs four
 * threads of puts and soft deletes, each on its own keys with event times
 * that only grow. After every write returns, the child reports it on a pipe
 * ("acknowledged"). The parent kills the child after a random number of
 * acknowledgements, collects what was still in the pipe, reopens the store
 * and checks that every acknowledged write is there (the stored event time
 * of each key is at least its last acknowledged one) and that no record is
 * torn: every stored record decodes, and its payload matches its checksum
 * and version. The store carries over from round to round.
 * LR_CRASH_ROUNDS rounds (20 by default; the `slow` build runs more).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/online.h"
#include "larder/value.h"
#include "online/online_testlib.h"
#include "support/testutil.h"

#ifndef LR_CRASH_ROUNDS
#define LR_CRASH_ROUNDS 20
#endif

#define KEYS    400
#define THREADS 4
#define S       1000000LL
#define T0      (1704067200LL * S)

static const char DEF[] = "{\"FeatureGroupName\":\"crash\",\"RecordIdentifierFeatureName\":\"id\","
                          "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                          "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                          "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
                          "{\"FeatureName\":\"ver\",\"FeatureType\":\"Integral\"},"
                          "{\"FeatureName\":\"payload\",\"FeatureType\":\"String\"},"
                          "{\"FeatureName\":\"sum\",\"FeatureType\":\"Integral\"}],"
                          "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";

/* The payload of key k at version v: its length and bytes depend on both. */
static size_t payload(int k, int64_t v, char *out)
{
    size_t n = 20 + (size_t)((k * 131 + v * 7) % 3000);
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull ^ (uint64_t)v;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = (char)('a' + (x >> 60));
    }
    return n;
}

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h & 0x7fffffffffffffffull;
}

typedef struct child_ctx {
    lr_online *s;
    lr_fg_def *def;
    int fd;
    int thread;
    int64_t base; /* versions of this round start above it */
} child_ctx;

static void *child_thread(void *arg)
{
    child_ctx *c = arg;
    char *pay = malloc(4096);
    int64_t v = c->base;
    unsigned seed = (unsigned)(c->thread * 7919 + c->base);
    for (;;) {
        int k = c->thread + THREADS * (int)(rand_r(&seed) % (KEYS / THREADS));
        char id[16], when[LR_TIME_STR_MAX], ver[24], sum[24], line[64];
        lr_error err;
        bool changed, del = rand_r(&seed) % 10 == 0;
        lr_status st;
        int len;
        v++;
        snprintf(id, sizeof id, "k%d", k);
        lr_time_format_iso8601(T0 + v * S, when);
        if (del) {
            st = lr_online_delete(c->s, c->def, id, strlen(id), T0 + v * S, when, strlen(when),
                                  false, &changed, &err);
        } else {
            lr_test_rec b;
            size_t n = payload(k, v, pay);
            lr_test_rec_init(&b, c->def);
            snprintf(ver, sizeof ver, "%lld", (long long)v);
            snprintf(sum, sizeof sum, "%llu", (unsigned long long)fnv(pay, n));
            lr_test_rec_s(&b, "id", id, strlen(id));
            lr_test_rec_s(&b, "ts", when, strlen(when));
            lr_test_rec_s(&b, "ver", ver, strlen(ver));
            lr_test_rec_s(&b, "payload", pay, n);
            lr_test_rec_s(&b, "sum", sum, strlen(sum));
            b.rec.values = b.vals;
            b.rec.n_values = b.nv;
            if (lr_record_validate(c->def, &b.rec, &err) != LR_OK) {
                fprintf(stderr, "child: %s\n", err.msg);
                _exit(3);
            }
            st = lr_online_put(c->s, c->def, &b.rec, NULL, &changed, &err);
        }
        if (st != LR_OK) {
            fprintf(stderr, "child: %s\n", err.msg);
            _exit(4);
        }
        len = snprintf(line, sizeof line, "%d %lld %c\n", k, (long long)v, del ? 'D' : 'P');
        if (write(c->fd, line, (size_t)len) != len) /* atomic: under PIPE_BUF */
            _exit(5);
    }
    return NULL;
}

static void child_main(const char *dir, int fd, int round)
{
    lr_online_options o;
    child_ctx ctx[THREADS];
    pthread_t th[THREADS];
    lr_fg_def *def = NULL;
    lr_online *s;
    lr_error err;

    lr_online_options_init(&o);
    o.lmdb_map_size = 1024 * 1024; /* grows as the rounds add data */
    if (lr_fg_def_parse(DEF, strlen(DEF), &def, &err) != LR_OK)
        _exit(1);
    if (lr_online_open(dir, &o, &s, &err) != LR_OK) {
        fprintf(stderr, "child: open: %s\n", err.msg);
        _exit(2);
    }
    for (int t = 0; t < THREADS; t++) {
        ctx[t].s = s;
        ctx[t].def = def;
        ctx[t].fd = fd;
        ctx[t].thread = t;
        /* Each thread's versions are above everything of earlier rounds. */
        ctx[t].base = (int64_t)round * 10000000LL + (int64_t)t * 1000000LL;
        if (pthread_create(&th[t], NULL, child_thread, &ctx[t]) != 0)
            _exit(6);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    _exit(0);
}

typedef struct ack {
    int64_t v; /* last acknowledged version (0: none) */
    char kind;
    bool put; /* a put was acknowledged at some point: a record exists */
} ack;

/* Reads "k v K" lines from the pipe into acks; returns the number read. */
static int read_acks(int fd, ack *acks, int want, char *buf, size_t *have)
{
    int got = 0;
    for (;;) {
        char *nl;
        ssize_t n;
        while ((nl = memchr(buf, '\n', *have)) != NULL) {
            int k;
            long long v;
            char kind;
            *nl = '\0';
            assert_int_equal(sscanf(buf, "%d %lld %c", &k, &v, &kind), 3);
            assert_true(k >= 0 && k < KEYS);
            /* One thread per key, in order: versions only grow. */
            assert_true(v > acks[k].v);
            acks[k].v = v;
            acks[k].kind = kind;
            acks[k].put = acks[k].put || kind == 'P';
            got++;
            *have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, *have);
        }
        if (want >= 0 && got >= want)
            return got;
        n = read(fd, buf + *have, 4096 - *have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return got;
        *have += (size_t)n;
    }
}

static void verify(const char *dir, const lr_fg_def *def, const ack *acks)
{
    lr_online_options o;
    lr_online *s;
    lr_online_reader *r;
    lr_error err;
    lr_online_list_query q = {true, 1000, NULL};
    lr_online_id_page page;
    lr_online_stats st;
    char *pay = malloc(4096);
    bool listed[KEYS] = {false};
    uint32_t nlisted = 0;

    lr_online_options_init(&o);
    if (lr_online_open(dir, &o, &s, &err) != LR_OK)
        fail_msg("reopen: %s", err.msg);
    assert_int_equal(lr_online_reader_open(s, &r, &err), LR_OK);
    /* Every stored record, tombstones too, decodes (list reads each header). */
    assert_int_equal(lr_online_list(s, def, &q, &page, &err), LR_OK);
    assert_null(page.next_token);
    for (uint32_t i = 0; i < page.n; i++) {
        int k = atoi(page.ids[i].ptr + 1);
        assert_true(k >= 0 && k < KEYS);
        listed[k] = true;
        nlisted++;
    }
    lr_online_id_page_free(&page);
    assert_int_equal(lr_online_group_stats(s, "crash", &st, &err), LR_OK);
    assert_int_equal(st.records, nlisted);
    for (int k = 0; k < KEYS; k++) {
        char id[16];
        lr_online_row row;
        snprintf(id, sizeof id, "k%d", k);
        if (lr_online_get(r, def, id, strlen(id), NULL, 0, &row, &err) != LR_OK)
            fail_msg("get %s: %s", id, err.msg);
        if (!acks[k].put)
            continue; /* soft deletes of nothing leave nothing */
        /* Acknowledged writes are never lost: no key without a record. */
        if (!listed[k])
            fail_msg("%s: acknowledged version %lld lost", id, (long long)acks[k].v);
        if (row.found) {
            char *ver = lr_test_row_value(def, &row, "ver", NULL);
            char *sum = lr_test_row_value(def, &row, "sum", NULL);
            size_t plen;
            char *got = lr_test_row_value(def, &row, "payload", &plen);
            int64_t v;
            size_t n;
            assert_non_null(ver);
            assert_non_null(sum);
            assert_non_null(got);
            v = strtoll(ver, NULL, 10);
            /* The record is whole: its version, event time, payload and
             * checksum agree. */
            assert_true(row.event_time_us == T0 + v * S);
            n = payload(k, v, pay);
            assert_int_equal(plen, n);
            assert_memory_equal(got, pay, n);
            assert_true(strtoull(sum, NULL, 10) == fnv(got, plen));
            /* Not older than the last acknowledged write; when equal, that
             * write was a put. */
            if (v < acks[k].v || (v == acks[k].v && acks[k].kind != 'P'))
                fail_msg("%s: found version %lld, last acknowledged %lld %c", id, (long long)v,
                         (long long)acks[k].v, acks[k].kind);
            free(ver);
            free(sum);
            free(got);
        } else if (acks[k].kind == 'P') {
            /* Hidden: only a soft delete newer than the acknowledged put
             * (in flight at the kill) may explain it. Its tombstone is listed. */
            assert_true(listed[k]);
        }
    }
    lr_online_reader_close(r);
    lr_online_close(s);
    free(pay);
}

static void test_crash_rounds(void **state)
{
    char *dir = lr_test_tmpdir("larder-crash");
    lr_fg_def *def = lr_test_def(DEF);
    ack *acks = calloc(KEYS, sizeof *acks);
    unsigned seed = (unsigned)getpid();
    char *buf = malloc(4096);
    long total = 0;
    (void)state;

    for (int round = 1; round <= LR_CRASH_ROUNDS; round++) {
        int fds[2], status, want, got;
        size_t have = 0;
        pid_t pid;
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, fds[1], round);
        }
        close(fds[1]);
        /* Kill after a random number of acknowledgements (sometimes none:
         * the child may be opening the store). */
        want = round % 7 == 0 ? 0 : (int)(rand_r(&seed) % 300);
        got = read_acks(fds[0], acks, want, buf, &have);
        kill(pid, SIGKILL);
        got += read_acks(fds[0], acks, -1, buf, &have); /* acknowledged before death */
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("round %d: the child exited with status %d before the kill", round, status);
        total += got;
        verify(dir, def, acks);
    }
    print_message("%d rounds, %ld acknowledged writes verified\n", LR_CRASH_ROUNDS, total);
    free(buf);
    free(acks);
    lr_fg_def_free(def);
    lr_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_rounds),
    };
    return cmocka_run_group_tests_name("online crash", tests, NULL, NULL);
}
