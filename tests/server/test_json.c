/*
 * test_json.c - the server's arena JSON reader (src/server/json.c): values,
 * escapes and UTF-8, the rejections (with line and column), nesting limits,
 * integers, duplicate members, and writing a tree back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/json.h"

static lr__jval *parse_ok(lr_arena *a, const char *text)
{
    lr__jval *v = NULL;
    lr_error err;
    lr_status st = lr__json_parse(a, text, strlen(text), &v, &err);
    if (st != LR_OK)
        fail_msg("%s: %s", text, err.msg);
    return v;
}

static void parse_bad(lr_arena *a, const char *text, const char *reason)
{
    lr__jval *v = NULL;
    lr_error err;
    assert_int_equal(lr__json_parse(a, text, strlen(text), &v, &err), LR_EINVAL);
    assert_null(v);
    if (strstr(err.msg, reason) == NULL)
        fail_msg("%s: expected '%s' in '%s'", text, reason, err.msg);
}

static void test_values(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    lr__jval *v;
    int64_t n;
    (void)state;
    v = parse_ok(a, " {\"Record\": [{\"FeatureName\": \"x\", \"ValueAsString\": \"1.50\"}],"
                    " \"n\": -12, \"f\": 1.5e3, \"t\": true, \"z\": null, \"e\": [] } ");
    assert_int_equal(v->type, LR__J_OBJECT);
    assert_int_equal(v->n, 6);
    assert_int_equal(lr__json_get(v, "Record")->type, LR__J_ARRAY);
    assert_string_equal(lr__json_get(&lr__json_get(v, "Record")->items[0], "ValueAsString")->s,
                        "1.50");
    assert_true(lr__json_int(lr__json_get(v, "n"), &n));
    assert_int_equal(n, -12);
    assert_false(lr__json_int(lr__json_get(v, "f"), &n));
    assert_int_equal(lr__json_get(v, "t")->type, LR__J_TRUE);
    assert_int_equal(lr__json_get(v, "z")->type, LR__J_NULL);
    assert_int_equal(lr__json_get(v, "e")->n, 0);
    assert_null(lr__json_get(v, "missing"));
    /* the last of duplicate members wins */
    v = parse_ok(a, "{\"a\":1,\"a\":2}");
    assert_true(lr__json_int(lr__json_get(v, "a"), &n));
    assert_int_equal(n, 2);
    /* more members than one chunk holds */
    v = parse_ok(a, "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
                    "29,30,31,32,33,34]");
    assert_int_equal(v->n, 35);
    assert_true(lr__json_int(&v->items[34], &n));
    assert_int_equal(n, 34);
    assert_false(lr__json_int(parse_ok(a, "99999999999999999999"), &n));
    lr_arena_free(a);
}

static void test_strings(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    lr__jval *v;
    (void)state;
    v = parse_ok(a, "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 \\u0000!\"");
    assert_int_equal(v->len, strlen("q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 ") + 2);
    assert_memory_equal(v->s, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 \0!", v->len);
    v = parse_ok(a, "\"\xc3\xbc\xe2\x82\xac\"");
    assert_string_equal(v->s, "\xc3\xbc\xe2\x82\xac");
    parse_bad(a, "\"\\ud83d\"", "surrogate");
    parse_bad(a, "\"\\ude00\"", "surrogate");
    parse_bad(a, "\"\\x\"", "invalid escape");
    parse_bad(a, "\"\\u12\"", "\\u escape");
    parse_bad(a, "\"a\nb\"", "control character");
    parse_bad(a, "\"\xff\"", "UTF-8");
    parse_bad(a, "\"\xc0\xaf\"", "UTF-8");
    parse_bad(a, "\"\xed\xa0\x80\"", "UTF-8"); /* an encoded surrogate */
    parse_bad(a, "\"abc", "unterminated");
    lr_arena_free(a);
}

static void test_rejections(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    char deep[200];
    lr_error err;
    lr__jval *v;
    (void)state;
    parse_bad(a, "", "unexpected end");
    parse_bad(a, "{", "expected a member name");
    parse_bad(a, "{\"a\" 1}", "expected ':'");
    parse_bad(a, "{\"a\":1,}", "expected a member name");
    parse_bad(a, "[1,]", "invalid number");
    parse_bad(a, "[1 2]", "expected ',' or ']'");
    parse_bad(a, "01", "end of input expected");
    parse_bad(a, "1.", "invalid number");
    parse_bad(a, "1e", "invalid number");
    parse_bad(a, "-", "invalid number");
    parse_bad(a, "tru", "invalid literal");
    parse_bad(a, "{} {}", "end of input expected");
    assert_int_equal(lr__json_parse(a, "{\n  \"a\": x}", 11, &v, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "line 2, column 8"));
    memset(deep, '[', 100);
    deep[100] = '\0';
    parse_bad(a, deep, "nesting too deep");
    lr_arena_free(a);
}

static void test_write(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    const char *text = "{\"a\":[1,-2.5e3,true,false,null],\"b\":\"x\\\"y\\u00e9\",\"c\":{}}";
    lr_buf out;
    (void)state;
    lr_buf_init(&out, 0);
    assert_int_equal(lr__json_write(parse_ok(a, text), &out), LR_OK);
    assert_string_equal(out.data, "{\"a\":[1,-2.5e3,true,false,null],\"b\":\"x\\\"y\xc3\xa9\",\"c\":{}}");
    lr_buf_free(&out);
    lr_arena_free(a);
}

static void test_arena_cap(void **state)
{
    lr_arena *a = lr_arena_new(4096, 8192);
    char big[20001];
    lr__jval *v;
    lr_error err;
    (void)state;
    big[0] = '[';
    for (int i = 0; i < 9999; i++) {
        big[1 + 2 * i] = '0';
        big[2 + 2 * i] = ',';
    }
    big[19999] = '0';
    big[20000] = ']';
    assert_int_equal(lr__json_parse(a, big, sizeof big, &v, &err), LR_ENOMEM);
    lr_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values), cmocka_unit_test(test_strings),
        cmocka_unit_test(test_rejections), cmocka_unit_test(test_write),
        cmocka_unit_test(test_arena_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
