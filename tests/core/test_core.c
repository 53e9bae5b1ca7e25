/*
 * test_core.c - status codes, lr_error, arenas and capped buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/status.h"

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(lr_status_name(LR_OK), "OK");
    assert_string_equal(lr_status_name(LR_EINVAL), "ValidationError");
    assert_string_equal(lr_status_name(LR_ENOTFOUND), "ResourceNotFound");
    assert_string_equal(lr_strerror(LR_ENOMEM), "out of memory");
    assert_string_equal(lr_strerror((lr_status)-999), "unknown error");
}

static void test_error_set_prefix(void **state)
{
    lr_error err;
    (void)state;
    lr_error_clear(&err);
    assert_int_equal(err.code, LR_OK);
    assert_string_equal(lr_error_message(&err), "success");
    assert_int_equal(lr_error_set(&err, LR_EINVAL, "bad %s\nline", "thing"), LR_EINVAL);
    assert_string_equal(err.msg, "bad thing line");
    assert_int_equal(lr_error_prefix(&err, "field %d", 3), LR_EINVAL);
    assert_string_equal(err.msg, "field 3: bad thing line");
    /* NULL error pointers are allowed everywhere. */
    assert_int_equal(lr_error_set(NULL, LR_EIO, "x"), LR_EIO);
    lr_error_clear(NULL);
}

static void test_error_truncates(void **state)
{
    lr_error err;
    char big[2000];
    (void)state;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lr_error_set(&err, LR_EINVAL, "%s", big);
    assert_int_equal(strlen(err.msg), LR_ERROR_MSG_MAX - 1);
}

static void test_arena_alloc_align_reset(void **state)
{
    lr_arena *a = lr_arena_new(1024, 0);
    (void)state;
    assert_non_null(a);
    for (int i = 0; i < 1000; i++) {
        char *p = lr_arena_alloc(a, (size_t)(i % 37) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
    }
    /* An oversized allocation gets its own block and leaves the current one usable. */
    char *big = lr_arena_alloc(a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    assert_string_equal(lr_arena_strdup(a, "hello"), "hello");
    assert_string_equal(lr_arena_sprintf(a, "%d-%s", 42, "x"), "42-x");
    assert_true(lr_arena_used(a) > 100000);
    lr_arena_reset(a);
    assert_int_equal(lr_arena_used(a), 0);
    assert_non_null(lr_arena_alloc(a, 10));
    lr_arena_free(a);
    lr_arena_free(NULL);
}

/* Blocks kept by a reset, up to the retained bytes, are what the next blocks come from. */
static void test_arena_retain(void **state)
{
    (void)state;
    lr_arena *a = lr_arena_new(4096, 3 * 4096);
    lr_arena_retain(a, 4096);
    for (int i = 0; i < 3; i++)
        assert_non_null(lr_arena_alloc(a, 4000)); /* a block each */
    assert_null(lr_arena_alloc(a, 4000));         /* the cap */
    assert_int_equal(lr_arena_spare(a), 0);
    lr_arena_reset(a);
    /* One block kept to fill next, one spare (the retained bytes), one freed. */
    assert_int_equal(lr_arena_spare(a), 4096);
    assert_non_null(lr_arena_alloc(a, 4000)); /* the kept block */
    assert_int_equal(lr_arena_spare(a), 4096);
    assert_non_null(lr_arena_alloc(a, 4000)); /* the spare */
    assert_int_equal(lr_arena_spare(a), 0);
    assert_non_null(lr_arena_alloc(a, 4000)); /* a new block */
    assert_null(lr_arena_alloc(a, 4000));     /* the cap still holds */
    lr_arena_reset(a); /* again: one kept, one spare, one freed */
    assert_int_equal(lr_arena_spare(a), 4096);
    lr_arena_free(a);

    /* Oversized blocks are never spares; without retain there are none. */
    a = lr_arena_new(4096, 0);
    lr_arena_retain(a, 1 << 20);
    for (int i = 0; i < 3; i++)
        assert_non_null(lr_arena_alloc(a, 4000));
    assert_non_null(lr_arena_alloc(a, 100000));
    lr_arena_reset(a);
    assert_int_equal(lr_arena_spare(a), 2 * 4096);
    lr_arena_free(a);
    a = lr_arena_new(4096, 0);
    for (int i = 0; i < 3; i++)
        assert_non_null(lr_arena_alloc(a, 4000));
    lr_arena_reset(a);
    assert_int_equal(lr_arena_spare(a), 0);
    lr_arena_free(a);
}

static void test_arena_cap(void **state)
{
    lr_arena *a = lr_arena_new(4096, 8192);
    (void)state;
    assert_non_null(lr_arena_alloc(a, 4000));
    assert_non_null(lr_arena_alloc(a, 4000));
    assert_null(lr_arena_alloc(a, 4000)); /* third block would pass the cap */
    assert_null(lr_arena_calloc(a, SIZE_MAX / 2, 4)); /* overflow is caught */
    lr_arena_free(a);
}

static void test_buf_cap(void **state)
{
    lr_buf b;
    (void)state;
    lr_buf_init(&b, 10);
    assert_int_equal(lr_buf_append_str(&b, "12345"), LR_OK);
    assert_int_equal(lr_buf_append_str(&b, "67890"), LR_OK);
    assert_int_equal(lr_buf_append_byte(&b, 'x'), LR_ELIMIT);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "1234567890");
    lr_buf_clear(&b);
    assert_int_equal(lr_buf_printf(&b, "%d", 123456), LR_OK);
    assert_string_equal(b.data, "123456");
    assert_int_equal(lr_buf_printf(&b, "%s", "abcdefgh"), LR_ELIMIT);
    assert_string_equal(b.data, "123456"); /* unchanged on failure */
    lr_buf_free(&b);
    lr_buf_free(NULL);
}

static void test_buf_json_str(void **state)
{
    lr_buf b;
    (void)state;
    lr_buf_init(&b, 0);
    const char in[] = "a\"b\\c\n\x01\xc3\xa9";
    assert_int_equal(lr_buf_append_json_str(&b, in, sizeof in - 1), LR_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    size_t len;
    char *p = lr_buf_detach(&b, &len);
    assert_int_equal(len, strlen(p));
    assert_null(b.data);
    free(p);

    /* Every byte value at every position of strings of 1..24 bytes (the
     * escaper skips 8 bytes at a time) matches a byte-at-a-time reference. */
    for (size_t n = 1; n <= 24; n++) {
        for (size_t at = 0; at < n; at++) {
            for (int c = 0; c < 256; c++) {
                char src[24], want[24 * 6 + 3];
                size_t w = 0;
                memset(src, 'x', n);
                src[at] = (char)c;
                want[w++] = '"';
                for (size_t i = 0; i < n; i++) {
                    unsigned char u = (unsigned char)src[i];
                    if (u == '"' || u == '\\') {
                        want[w++] = '\\';
                        want[w++] = (char)u;
                    } else if (u == '\n' || u == '\r' || u == '\t' || u == '\b' || u == '\f') {
                        want[w++] = '\\';
                        want[w++] = u == '\n' ? 'n' : u == '\r' ? 'r' : u == '\t' ? 't'
                                                    : u == '\b' ? 'b' : 'f';
                    } else if (u < 0x20) {
                        w += (size_t)sprintf(want + w, "\\u%04x", u);
                    } else {
                        want[w++] = (char)u;
                    }
                }
                want[w++] = '"';
                lr_buf_init(&b, 0);
                assert_int_equal(lr_buf_append_json_str(&b, src, n), LR_OK);
                assert_int_equal(b.len, w);
                assert_memory_equal(b.data, want, w);
                lr_buf_free(&b);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_error_set_prefix),
        cmocka_unit_test(test_error_truncates),
        cmocka_unit_test(test_arena_alloc_align_reset),
        cmocka_unit_test(test_arena_cap),
        cmocka_unit_test(test_arena_retain),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_json_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
