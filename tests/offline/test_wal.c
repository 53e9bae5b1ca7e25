/*
 * test_wal.c - the offline store's write-ahead log: CRC-32C, round trips,
 * segment rotation, sync policies, recovery of a dead process's log, a
 * torn last entry cut at every byte offset (detected and dropped, never
 * replayed half), damage in the middle of the log (recovery stops there
 * and names the segment and the offset), locking between processes, and
 * the record-entry codec.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "larder/arena.h"
#include "larder/log.h"
#include "offline/crc32c.h"
#include "offline/entry.h"
#include "offline/wal.h"
#include "support/testutil.h"

typedef struct fixture {
    char *dir;
    char *root;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = lr_test_tmpdir("larder-wal");
    f->root = lr_test_path(f->dir, "wal");
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f->root);
    free(f);
    return 0;
}

static lr__wal_config cfg_of(lr__wal_sync_mode sync, uint64_t seg)
{
    lr__wal_config c = {sync, seg};
    return c;
}

/* Payload i: "entry-<i>-" followed by i % 300 bytes of a pattern. */
static size_t make_payload(uint64_t i, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "entry-%llu-", (unsigned long long)i);
    size_t len = (size_t)n + (size_t)(i % 300);
    for (size_t k = (size_t)n; k < len && k < cap; k++)
        buf[k] = (char)('a' + (k * 7 + i) % 26);
    return len;
}

static void append_n(lr__wal *w, uint64_t first, uint64_t n)
{
    char buf[512];
    for (uint64_t i = first; i < first + n; i++) {
        lr__wal_item it;
        uint64_t seq = 0;
        lr_error err;
        it.data = buf;
        it.len = make_payload(i, buf, sizeof buf);
        assert_int_equal(lr__wal_append(w, &it, 1, NULL, NULL, NULL, &seq, &err), LR_OK);
        assert_int_equal(seq, i);
    }
}

/* Reads [from, to], handing every entry to check in turn; returns how many were read. */
static uint64_t read_each(lr__wal *w, uint64_t from, uint64_t to,
                          void (*check)(uint64_t seq, const void *p, size_t len, void *ctx),
                          void *ctx)
{
    lr__wal_reader *r = NULL;
    lr_error err;
    uint64_t n = 0;

    assert_int_equal(lr__wal_reader_open(w, from, to, &r, &err), LR_OK);
    for (;;) {
        const void *p;
        size_t len;
        uint64_t seq;
        lr_status st = lr__wal_reader_next(r, &p, &len, &seq, &err);
        if (st == LR_ENOTFOUND)
            break;
        assert_int_equal(st, LR_OK);
        assert_int_equal(seq, from + n);
        check(seq, p, len, ctx);
        n++;
    }
    lr__wal_reader_close(r);
    return n;
}

static void check_made(uint64_t seq, const void *p, size_t len, void *ctx)
{
    char buf[512];
    size_t want = make_payload(seq, buf, sizeof buf);
    (void)ctx;
    assert_int_equal(len, want);
    assert_memory_equal(p, buf, len);
}

/* Reads [from, to] and checks every payload; returns how many were read. */
static uint64_t read_check(lr__wal *w, uint64_t from, uint64_t to)
{
    return read_each(w, from, to, check_made, NULL);
}

static void test_crc32c(void **state)
{
    (void)state;
    /* The standard check value of CRC-32C. */
    assert_int_equal(lr__crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lr__crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lr__crc32c(0, "", 0), 0);
    /* Incremental equals one-shot; hardware equals software at every alignment. */
    unsigned char buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len < 200; len += 13) {
            uint32_t a = lr__crc32c(0, buf + off, len);
            assert_int_equal(a, lr__crc32c_sw(0, buf + off, len));
            uint32_t b = lr__crc32c(lr__crc32c(0, buf + off, len / 2), buf + off + len / 2,
                                    len - len / 2);
            assert_int_equal(a, b);
        }
    }
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_NO, 64 << 20);

    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    assert_int_equal(lr__wal_last_seq(w), 0);
    append_n(w, 1, 500);
    assert_int_equal(lr__wal_last_seq(w), 500);
    assert_int_equal(read_check(w, 1, 500), 500);
    assert_int_equal(read_check(w, 120, 130), 11);
    assert_int_equal(read_check(w, 499, 10000), 2);
    assert_int_equal(read_check(w, 501, 600), 0);

    /* A batch gets consecutive sequences with one write. */
    char a[8] = "batch-a", b[8] = "batch-b";
    lr__wal_item items[2] = {{a, 7}, {b, 7}};
    uint64_t last = 0;
    assert_int_equal(lr__wal_append(w, items, 2, NULL, NULL, NULL, &last, &err), LR_OK);
    assert_int_equal(last, 502);

    /* Oversized and empty payloads are refused. */
    lr__wal_item empty = {a, 0};
    assert_int_equal(lr__wal_append(w, &empty, 1, NULL, NULL, NULL, NULL, &err), LR_EINVAL);
    assert_int_equal(lr__wal_last_seq(w), 502);
    lr__wal_close(w);
}

static void check_item(uint64_t seq, const void *p, size_t len, void *ctx)
{
    const lr__wal_item *items = ctx;
    assert_int_equal(len, items[seq - 1].len);
    assert_memory_equal(p, items[seq - 1].data, len);
}

/*
 * One append of entries of every size: many small ones, and among them
 * entries around 1 MiB and of 3 MiB, with 1-byte ones between them. Every
 * entry reads back whole and in order, also once another handle adopts
 * the log.
 */
static void test_append_sizes(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_EVERYSEC, 256 << 20);
    enum { N = 6000 };
    static const size_t big[] = {(1u << 20) - 24, (1u << 20) - 23, (1u << 20), 3u << 20, 1,
                                 (1u << 20) + 1};
    lr__wal_item *items = calloc(N, sizeof *items);
    assert_non_null(items);

    for (size_t i = 0; i < N; i++) {
        size_t len = i % 1000 == 999 ? big[(i / 1000) % 6] : 1 + (i * 37) % 400;
        unsigned char *p = malloc(len);
        for (size_t k = 0; k < len; k++)
            p[k] = (unsigned char)(i * 31 + k * 7);
        items[i].data = p;
        items[i].len = len;
    }
    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    uint64_t last = 0;
    assert_int_equal(lr__wal_append(w, items, N, NULL, NULL, NULL, &last, &err), LR_OK);
    assert_int_equal(last, N);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(read_each(w, 1, N, check_item, items), N);
        if (pass == 0) {
            /* The same log adopted by another handle reads the same. */
            char id[LR__WAL_ID_MAX + 1];
            snprintf(id, sizeof id, "%s", lr__wal_id(w));
            lr__wal_close(w);
            assert_int_equal(lr__wal_adopt(f->root, id, &w, &err), LR_OK);
            assert_non_null(w);
            assert_false(lr__wal_damaged(w, NULL));
        }
    }
    lr__wal_close(w);
    for (size_t i = 0; i < N; i++)
        free(items[i].data);
    free(items);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".wal") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_rotation_and_truncation(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_EVERYSEC, 8192);
    lr__wal_stats s;

    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    append_n(w, 1, 400);
    int segs = count_segments(lr__wal_dir(w));
    assert_true(segs > 5);
    lr__wal_stats_get(w, &s);
    assert_int_equal(s.segments, (uint64_t)segs);
    assert_int_equal(s.last_seq, 400);
    assert_int_equal(s.first_seq, 1);
    /* Reads cross segment boundaries. */
    assert_int_equal(read_check(w, 1, 400), 400);
    assert_int_equal(read_check(w, 37, 390), 354);

    /* Truncating through 200 deletes exactly the segments wholly <= 200. */
    assert_int_equal(lr__wal_truncate_through(w, 200, &err), LR_OK);
    lr__wal_stats_get(w, &s);
    assert_true(s.first_seq <= 201);
    assert_true(s.first_seq > 150);
    assert_int_equal(count_segments(lr__wal_dir(w)), (int)s.segments);
    assert_int_equal(read_check(w, 201, 400), 200);
    /* The current segment is never deleted. */
    assert_int_equal(lr__wal_truncate_through(w, 400, &err), LR_OK);
    lr__wal_stats_get(w, &s);
    assert_int_equal(s.segments, 1);
    append_n(w, 401, 5);
    assert_int_equal(read_check(w, 401, 405), 5);
    lr__wal_close(w);
}

static void test_sync_policies(void **state)
{
    fixture *f = *state;
    lr__wal_sync_mode modes[3] = {LR__WAL_SYNC_ALWAYS, LR__WAL_SYNC_EVERYSEC, LR__WAL_SYNC_NO};
    for (int m = 0; m < 3; m++) {
        lr__wal *w = NULL;
        lr_error err;
        lr__wal_config c = cfg_of(modes[m], 4096);
        char id[LR__WAL_ID_MAX + 1];
        assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
        append_n(w, 1, 100);
        assert_int_equal(lr__wal_sync(w, &err), LR_OK);
        snprintf(id, sizeof id, "%s", lr__wal_id(w));
        lr__wal_close(w);
        /* Whatever the policy, a closed log recovers completely. */
        lr__wal *a = NULL;
        assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
        assert_non_null(a);
        assert_false(lr__wal_damaged(a, NULL));
        assert_int_equal(lr__wal_last_seq(a), 100);
        assert_int_equal(read_check(a, 1, 100), 100);
        assert_int_equal(lr__wal_destroy(a, &err), LR_OK);
    }
}

/* The path of the segment file with the highest first sequence. */
static void last_segment(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char best[64] = "";
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".wal") == 0 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    snprintf(out, cap, "%s/%s", dir, best);
}

static off_t file_size(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

static void copy_dir(const char *from, const char *to)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    assert_int_equal(system(cmd), 0);
}

static void test_torn_last_entry(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_NO, 1 << 20);
    char id[LR__WAL_ID_MAX + 1], seg[4096], master[4096], work[4096], wseg[4096];
    off_t before, after;

    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    append_n(w, 1, 20);
    last_segment(lr__wal_dir(w), seg, sizeof seg);
    before = file_size(seg);
    append_n(w, 21, 1);
    after = file_size(seg);
    assert_true(after - before > LR__WAL_ENTRY_HDR);
    snprintf(id, sizeof id, "%s", lr__wal_id(w));
    lr__wal_close(w);

    /* Keep the intact log aside; each round works on a copy cut at one offset. */
    snprintf(master, sizeof master, "%s/master", f->dir);
    snprintf(work, sizeof work, "%s/%s", f->root, id);
    copy_dir(work, master);
    for (off_t cut = before; cut < after; cut++) {
        lr__wal *a = NULL;
        copy_dir(master, work);
        snprintf(wseg, sizeof wseg, "%s/%s", work, strrchr(seg, '/') + 1);
        assert_int_equal(truncate(wseg, cut), 0);
        assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
        assert_non_null(a);
        assert_false(lr__wal_damaged(a, NULL));
        /* The torn entry is gone: 20 entries, all intact, and the file cut back. */
        assert_int_equal(lr__wal_last_seq(a), 20);
        assert_int_equal(read_check(a, 1, 1000), 20);
        assert_int_equal(file_size(wseg), before);
        lr__wal_close(a);
    }

    /* A zero-filled tail (size extended, data lost in a power cut) is torn too. */
    {
        lr__wal *a = NULL;
        copy_dir(master, work);
        snprintf(wseg, sizeof wseg, "%s/%s", work, strrchr(seg, '/') + 1);
        int fd = open(wseg, O_WRONLY);
        char zeros[300] = {0};
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, zeros, sizeof zeros, before), (ssize_t)sizeof zeros);
        close(fd);
        assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
        assert_false(lr__wal_damaged(a, NULL));
        assert_int_equal(lr__wal_last_seq(a), 20);
        assert_int_equal(read_check(a, 1, 1000), 20);
        lr__wal_close(a);
    }
    /* The intact copy recovers all 21. */
    {
        lr__wal *a = NULL;
        copy_dir(master, work);
        assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
        assert_int_equal(lr__wal_last_seq(a), 21);
        assert_int_equal(read_check(a, 1, 1000), 21);
        lr__wal_close(a);
    }
}

static void test_corruption_mid_log(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL, *a = NULL;
    lr_error err, damage;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_NO, 4096);
    char id[LR__WAL_ID_MAX + 1], seg[4096];

    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    append_n(w, 1, 10);
    /* The first segment now holds entries 1..n; damage the payload of entry 4. */
    snprintf(seg, sizeof seg, "%s/%020d.wal", lr__wal_dir(w), 1);
    append_n(w, 11, 200); /* more segments follow */
    snprintf(id, sizeof id, "%s", lr__wal_id(w));
    lr__wal_close(w);

    /* Entry k (1-based) starts after the header and the previous entries. */
    char buf[512];
    off_t off = LR__WAL_SEG_HDR;
    for (uint64_t i = 1; i < 4; i++)
        off += LR__WAL_ENTRY_HDR + (off_t)make_payload(i, buf, sizeof buf);
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    char byte;
    assert_int_equal(pread(fd, &byte, 1, off + LR__WAL_ENTRY_HDR + 3), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, off + LR__WAL_ENTRY_HDR + 3), 1);
    close(fd);

    assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
    assert_non_null(a);
    assert_true(lr__wal_damaged(a, &damage));
    assert_int_equal(damage.code, LR_ECORRUPT);
    /* The message names the segment file and the entry's offset. */
    char want[64];
    snprintf(want, sizeof want, "offset %lld", (long long)off);
    assert_non_null(strstr(damage.msg, seg));
    assert_non_null(strstr(damage.msg, want));
    assert_non_null(strstr(damage.msg, "checksum"));
    /* Reads stop before the damage: entries 1..3 only. */
    assert_int_equal(lr__wal_last_seq(a), 3);
    assert_int_equal(read_check(a, 1, 1000), 3);
    lr__wal_close(a);

    /* A damaged header in the middle is corruption too, not a torn tail. */
    fd = open(seg, O_RDWR);
    byte = 0;
    assert_int_equal(pread(fd, &byte, 1, off), 1);
    byte ^= 0x01;
    assert_int_equal(pwrite(fd, &byte, 1, off), 1);
    close(fd);
    assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
    assert_true(lr__wal_damaged(a, &damage));
    assert_non_null(strstr(damage.msg, want));
    lr__wal_close(a);
}

static void test_lock_between_processes(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL, *a = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_NO, 1 << 20);
    char id[LR__WAL_ID_MAX + 1];
    int pipefd[2];

    /* A child creates a log, appends and waits; while it lives, nobody adopts it. */
    assert_int_equal(pipe(pipefd), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        close(go[1]);
        if (lr__wal_create(f->root, &c, &w, &err) != LR_OK)
            _exit(2);
        append_n(w, 1, 7);
        char msg[LR__WAL_ID_MAX + 1];
        snprintf(msg, sizeof msg, "%s", lr__wal_id(w));
        if (write(pipefd[1], msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(3);
        char x;
        if (read(go[0], &x, 1) < 0)
            _exit(4);
        _exit(0); /* dies without closing: the lock goes with the process */
    }
    close(pipefd[1]);
    close(go[0]);
    assert_int_equal(read(pipefd[0], id, sizeof id), (ssize_t)sizeof id);
    assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
    assert_null(a); /* held by a live process */
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(lr__wal_adopt(f->root, id, &a, &err), LR_OK);
    assert_non_null(a);
    assert_int_equal(lr__wal_last_seq(a), 7);
    /* A second adopter is locked out while the first holds it. */
    lr__wal *b = NULL;
    assert_int_equal(lr__wal_adopt(f->root, id, &b, &err), LR_OK);
    assert_null(b);
    /* An adopted log refuses appends. */
    char p[4] = "xyz";
    lr__wal_item it = {p, 3};
    assert_int_equal(lr__wal_append(a, &it, 1, NULL, NULL, NULL, NULL, &err), LR_EINVAL);
    assert_int_equal(lr__wal_destroy(a, &err), LR_OK);
    /* Gone: adopt finds nothing. */
    assert_int_equal(lr__wal_adopt(f->root, id, &b, &err), LR_OK);
    assert_null(b);
    close(pipefd[0]);
    close(go[1]);
}

static lr_status count_id(void *arg, const char *id, lr_error *err)
{
    (void)id;
    (void)err;
    (*(int *)arg)++;
    return LR_OK;
}

static lr_status collect_schema(void *arg, uint32_t id, const void *data, size_t len,
                                lr_error *err)
{
    (void)err;
    char *out = arg;
    size_t used = strlen(out);
    snprintf(out + used, 256 - used, "%u:%.*s;", id, (int)len, (const char *)data);
    return LR_OK;
}

static void test_schemas_and_listing(void **state)
{
    fixture *f = *state;
    lr__wal *w = NULL, *a = NULL;
    lr_error err;
    lr__wal_config c = cfg_of(LR__WAL_SYNC_EVERYSEC, 1 << 20);
    uint32_t id1 = 0, id2 = 0;
    char got[256] = "";
    char logid[LR__WAL_ID_MAX + 1];
    int n = 0;

    assert_int_equal(lr__wal_create(f->root, &c, &w, &err), LR_OK);
    assert_int_equal(lr__wal_put_schema(w, "first", 5, &id1, &err), LR_OK);
    assert_int_equal(lr__wal_put_schema(w, "second", 6, &id2, &err), LR_OK);
    assert_int_equal(id1, 1);
    assert_int_equal(id2, 2);
    assert_int_equal(lr__wal_read_schemas(w, collect_schema, got, &err), LR_OK);
    assert_string_equal(got, "1:first;2:second;");
    snprintf(logid, sizeof logid, "%s", lr__wal_id(w));
    lr__wal_close(w);

    /* A stale hidden directory of a process that died while creating its log goes away. */
    char stale[4096];
    snprintf(stale, sizeof stale, "%s/.new-dead", f->root);
    assert_int_equal(mkdir(stale, 0755), 0);
    assert_int_equal(lr__wal_list(f->root, count_id, &n, &err), LR_OK);
    assert_int_equal(n, 1);
    struct stat sb;
    assert_int_not_equal(stat(stale, &sb), 0);

    got[0] = '\0';
    assert_int_equal(lr__wal_adopt(f->root, logid, &a, &err), LR_OK);
    assert_int_equal(lr__wal_read_schemas(a, collect_schema, got, &err), LR_OK);
    assert_string_equal(got, "1:first;2:second;");
    assert_int_equal(lr__wal_destroy(a, &err), LR_OK);
    n = 0;
    assert_int_equal(lr__wal_list(f->root, count_id, &n, &err), LR_OK);
    assert_int_equal(n, 0);
}

static void test_entry_codec(void **state)
{
    (void)state;
    lr_str items[3] = {{"1.5", 3}, {"", 0}, {"-2", 2}};
    lr_feature_value v[3];
    memset(v, 0, sizeof v);
    v[0].feature = 0;
    v[0].value = (lr_str){"id-1", 4};
    v[1].feature = 1;
    v[1].value = (lr_str){"2024-01-02T03:04:05Z", 20};
    v[2].feature = 7;
    v[2].is_list = true;
    v[2].items = items;
    v[2].n_items = 3;
    lr_record rec = {v, 3, {"id-1", 4}, 1704164645000000LL};
    lr_buf b;
    lr_buf_init(&b, 0);
    assert_int_equal(lr__entry_encode_record(&b, 9, &rec, true, 123456789), LR_OK);
    lr__entry_stamp(b.data, 987654321);

    lr_arena *a = lr_arena_new(0, 0);
    lr__record_entry e;
    lr_error err;
    assert_int_equal(lr__entry_decode_record(b.data, b.len, a, &e, &err), LR_OK);
    assert_int_equal(e.schema_id, 9);
    assert_true(e.is_deleted);
    assert_int_equal(e.event_time_us, 1704164645000000LL);
    assert_int_equal(e.write_time_us, 987654321);
    assert_int_equal(e.api_invocation_us, 123456789);
    assert_int_equal(e.n_values, 3);
    assert_int_equal(e.values[2].feature, 7);
    assert_true(e.values[2].is_list);
    assert_int_equal(e.values[2].n_items, 3);
    assert_int_equal(e.values[2].items[1].len, 0);
    assert_memory_equal(e.values[2].items[2].ptr, "-2", 2);
    assert_memory_equal(e.values[1].value.ptr, "2024-01-02T03:04:05Z", 20);

    /* Every truncation of the payload is rejected, never read past. */
    for (size_t cut = 0; cut < b.len; cut++) {
        lr_arena_reset(a);
        assert_int_equal(lr__entry_decode_record(b.data, cut, a, &e, &err), LR_ECORRUPT);
    }

    /* Numbers validation parsed are logged as numbers, bit for bit, in the compact form. */
    lr_feature_value t[3];
    memset(t, 0, sizeof t);
    t[0].feature = 0;
    t[0].value = (lr_str){"id-1", 4};
    t[1].feature = 2;
    t[1].value = (lr_str){"-9223372036854775808", 20};
    t[1].num_kind = LR_NUM_INT;
    t[1].num.i = INT64_MIN;
    t[2].feature = 3;
    t[2].value = (lr_str){"-0.0", 4};
    t[2].num_kind = LR_NUM_DOUBLE;
    t[2].num.d = -0.0;
    lr_record trec = {t, 3, {"id-1", 4}, 1704164645000000LL};
    lr_buf_clear(&b);
    assert_int_equal(lr__entry_encode_record(&b, 1, &trec, false, 5), LR_OK);
    /* tag+len+"id-1", tag + 10-byte zigzag varint, tag + 8 bytes */
    assert_int_equal(b.len, LR__ENTRY_RECORD_HDR + 6 + 11 + 9);
    lr_arena_reset(a);
    assert_int_equal(lr__entry_decode_record(b.data, b.len, a, &e, &err), LR_OK);
    assert_int_equal(e.n_values, 3);
    assert_int_equal(e.values[0].num_kind, LR_NUM_NONE);
    assert_memory_equal(e.values[0].value.ptr, "id-1", 4);
    assert_int_equal(e.values[1].num_kind, LR_NUM_INT);
    assert_true(e.values[1].num.i == INT64_MIN);
    assert_int_equal(e.values[2].num_kind, LR_NUM_DOUBLE);
    assert_true(e.values[2].num.d == 0 && signbit(e.values[2].num.d));
    for (size_t cut = 0; cut < b.len; cut++) {
        lr_arena_reset(a);
        assert_int_equal(lr__entry_decode_record(b.data, cut, a, &e, &err), LR_ECORRUPT);
    }
    /* Integers of every size round-trip through the zigzag varint. */
    static const int64_t ints[] = {0, 1, -1, 63, -64, 64, 48, 1LL << 40, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        t[1].num.i = ints[i];
        lr_buf_clear(&b);
        assert_int_equal(lr__entry_encode_record(&b, 1, &trec, false, 5), LR_OK);
        lr_arena_reset(a);
        assert_int_equal(lr__entry_decode_record(b.data, b.len, a, &e, &err), LR_OK);
        assert_true(e.values[1].num.i == ints[i]);
    }
    /* A varint longer than 64 bits is damage, not a value. */
    b.data[LR__ENTRY_RECORD_HDR + 6] = (char)0xff; /* the second tag: continues... */
    memset(b.data + LR__ENTRY_RECORD_HDR + 7, 0xff, b.len - LR__ENTRY_RECORD_HDR - 7);
    lr_arena_reset(a);
    assert_int_equal(lr__entry_decode_record(b.data, b.len, a, &e, &err), LR_ECORRUPT);

    /* The fixed-width form of earlier versions (type 2) is still read. */
    static const unsigned char legacy_values[] = {
        0, 0, 0, 0, 0, 4, 0, 0, 0, 'i', 'd', '-', '1',             /* id: string */
        2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x80,                  /* INT64_MIN */
        3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x80,                  /* -0.0 */
        7, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0,    /* ["a", ""] */
        5, 0, 0, 0, 0, 3, 0, 0, 0, '2', '.', '5'};                 /* a number as text */
    unsigned char legacy[LR__ENTRY_RECORD_HDR + sizeof legacy_values];
    memset(legacy, 0, LR__ENTRY_RECORD_HDR);
    legacy[0] = LR__ENTRY_RECORD;
    legacy[4] = 1;
    legacy[32] = 5;
    memcpy(legacy + LR__ENTRY_RECORD_HDR, legacy_values, sizeof legacy_values);
    lr_arena_reset(a);
    assert_int_equal(lr__entry_decode_record(legacy, sizeof legacy, a, &e, &err), LR_OK);
    assert_int_equal(e.n_values, 5);
    assert_memory_equal(e.values[0].value.ptr, "id-1", 4);
    assert_true(e.values[1].num_kind == LR_NUM_INT && e.values[1].num.i == INT64_MIN);
    assert_true(e.values[2].num_kind == LR_NUM_DOUBLE && signbit(e.values[2].num.d));
    assert_true(e.values[3].is_list && e.values[3].n_items == 2);
    assert_memory_equal(e.values[3].items[0].ptr, "a", 1);
    assert_int_equal(e.values[3].items[1].len, 0);
    assert_int_equal(e.values[4].num_kind, LR_NUM_NONE);
    assert_memory_equal(e.values[4].value.ptr, "2.5", 3);
    for (size_t cut = 0; cut < sizeof legacy; cut++) {
        lr_arena_reset(a);
        assert_int_equal(lr__entry_decode_record(legacy, cut, a, &e, &err), LR_ECORRUPT);
    }
    /* An unknown value kind is damage, not a value. */
    legacy[LR__ENTRY_RECORD_HDR + 13 + 4] = 9; /* the second value's kind */
    lr_arena_reset(a);
    assert_int_equal(lr__entry_decode_record(legacy, sizeof legacy, a, &e, &err), LR_ECORRUPT);
    lr_arena_free(a);
    lr_buf_free(&b);
}

int main(void)
{
    lr_log_set_level(LR_LOG_ERROR); /* recovery warns about every torn entry it drops */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_last_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corruption_mid_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_between_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schemas_and_listing, setup, teardown),
        cmocka_unit_test(test_entry_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
