/*
 * json.c - the arena JSON reader of the record path (see json.h).
 *
 * A recursive-descent parser. Arrays and objects collect their children in
 * a chunked list on the arena and are then flattened into one array of the
 * exact size, so a value never moves once parsed.
 */
#include "server/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    lr_arena *a;
    const char *p, *end, *start;
    lr_error *err;
    lr_status st;
} parser;

typedef struct chunk {
    lr__jval vals[16];
    const char *keys[16];
    size_t key_lens[16];
    uint32_t n;
    struct chunk *next;
} chunk;

static lr_status fail(parser *ps, const char *what)
{
    int line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (ps->st == LR_OK)
        ps->st = lr_error_set(ps->err, LR_EINVAL, "%s (line %d, column %d)", what, line, col);
    return ps->st;
}

static lr_status oom(parser *ps)
{
    if (ps->st == LR_OK)
        ps->st = lr_error_set(ps->err, LR_ENOMEM, "out of memory reading the JSON body");
    return ps->st;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Length of a valid UTF-8 sequence at s (< end), or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Parses a string at ps->p ('"'); the result is in the arena. */
static lr_status parse_string(parser *ps, const char **out, size_t *out_len)
{
    const char *s = ps->p + 1, *q = s;
    char *buf, *o;
    bool plain = true;
    /* find the end first: the unescaped form is never longer */
    while (q < ps->end && *q != '"') {
        if (*q == '\\') {
            plain = false;
            q++;
        }
        q++;
    }
    if (q >= ps->end) {
        ps->p = ps->end;
        return fail(ps, "unterminated string");
    }
    buf = lr_arena_alloc(ps->a, (size_t)(q - s) + 1);
    if (buf == NULL)
        return oom(ps);
    if (plain) {
        for (const char *c = s; c < q;) {
            size_t n;
            if ((unsigned char)*c < 0x20) {
                ps->p = c;
                return fail(ps, "control character in a string");
            }
            if ((n = utf8_len((const unsigned char *)c, (const unsigned char *)q)) == 0) {
                ps->p = c;
                return fail(ps, "invalid UTF-8 in a string");
            }
            c += n;
        }
        memcpy(buf, s, (size_t)(q - s));
        buf[q - s] = '\0';
        *out = buf;
        *out_len = (size_t)(q - s);
        ps->p = q + 1;
        return LR_OK;
    }
    o = buf;
    for (const char *c = s; c < q;) {
        if (*c == '\\') {
            int u, lo;
            c++;
            switch (*c) {
            case '"':
                *o++ = '"';
                c++;
                break;
            case '\\':
                *o++ = '\\';
                c++;
                break;
            case '/':
                *o++ = '/';
                c++;
                break;
            case 'b':
                *o++ = '\b';
                c++;
                break;
            case 'f':
                *o++ = '\f';
                c++;
                break;
            case 'n':
                *o++ = '\n';
                c++;
                break;
            case 'r':
                *o++ = '\r';
                c++;
                break;
            case 't':
                *o++ = '\t';
                c++;
                break;
            case 'u':
                if (q - c < 5 || (u = hex4(c + 1)) < 0) {
                    ps->p = c;
                    return fail(ps, "invalid \\u escape");
                }
                c += 5;
                if (u >= 0xd800 && u <= 0xdbff) {
                    if (q - c < 6 || c[0] != '\\' || c[1] != 'u' || (lo = hex4(c + 2)) < 0xdc00 ||
                        lo > 0xdfff) {
                        ps->p = c;
                        return fail(ps, "invalid surrogate pair");
                    }
                    c += 6;
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                } else if (u >= 0xdc00 && u <= 0xdfff) {
                    ps->p = c;
                    return fail(ps, "invalid surrogate pair");
                }
                o = put_utf8(o, (unsigned)u);
                break;
            default:
                ps->p = c;
                return fail(ps, "invalid escape");
            }
        } else {
            size_t n;
            if ((unsigned char)*c < 0x20) {
                ps->p = c;
                return fail(ps, "control character in a string");
            }
            if ((n = utf8_len((const unsigned char *)c, (const unsigned char *)q)) == 0) {
                ps->p = c;
                return fail(ps, "invalid UTF-8 in a string");
            }
            memcpy(o, c, n);
            o += n;
            c += n;
        }
    }
    *o = '\0';
    *out = buf;
    *out_len = (size_t)(o - buf);
    ps->p = q + 1;
    return LR_OK;
}

static lr_status parse_number(parser *ps, lr__jval *v)
{
    const char *s = ps->p, *c = s;
    if (c < ps->end && *c == '-')
        c++;
    if (c < ps->end && *c == '0') {
        c++;
    } else if (c < ps->end && *c >= '1' && *c <= '9') {
        while (c < ps->end && *c >= '0' && *c <= '9')
            c++;
    } else {
        return fail(ps, "invalid number");
    }
    if (c < ps->end && *c == '.') {
        c++;
        if (c >= ps->end || *c < '0' || *c > '9') {
            ps->p = c;
            return fail(ps, "invalid number");
        }
        while (c < ps->end && *c >= '0' && *c <= '9')
            c++;
    }
    if (c < ps->end && (*c == 'e' || *c == 'E')) {
        c++;
        if (c < ps->end && (*c == '+' || *c == '-'))
            c++;
        if (c >= ps->end || *c < '0' || *c > '9') {
            ps->p = c;
            return fail(ps, "invalid number");
        }
        while (c < ps->end && *c >= '0' && *c <= '9')
            c++;
    }
    v->type = LR__J_NUMBER;
    v->s = s;
    v->len = (size_t)(c - s);
    ps->p = c;
    return LR_OK;
}

static lr_status parse_value(parser *ps, lr__jval *v, int depth);

/* Arrays and objects: children in chunks, then flattened. */
static lr_status parse_container(parser *ps, lr__jval *v, int depth, bool object)
{
    chunk first, *cur = &first;
    uint32_t total = 0;
    char close = object ? '}' : ']';
    first.n = 0;
    first.next = NULL;
    if (depth >= LR__JSON_DEPTH_MAX)
        return fail(ps, "nesting too deep");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            if (cur->n == 16) {
                chunk *nc = lr_arena_alloc(ps->a, sizeof *nc);
                if (nc == NULL)
                    return oom(ps);
                nc->n = 0;
                nc->next = NULL;
                cur->next = nc;
                cur = nc;
            }
            skip_ws(ps);
            if (object) {
                if (ps->p >= ps->end || *ps->p != '"')
                    return fail(ps, "expected a member name");
                if (parse_string(ps, &cur->keys[cur->n], &cur->key_lens[cur->n]) != LR_OK)
                    return ps->st;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':')
                    return fail(ps, "expected ':'");
                ps->p++;
            }
            if (parse_value(ps, &cur->vals[cur->n], depth + 1) != LR_OK)
                return ps->st;
            cur->n++;
            if (++total > 10000000)
                return fail(ps, "too many elements");
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                break;
            }
            return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    v->type = object ? LR__J_OBJECT : LR__J_ARRAY;
    v->n = total;
    v->items = lr_arena_alloc(ps->a, (total ? total : 1) * sizeof *v->items);
    if (v->items == NULL)
        return oom(ps);
    if (object) {
        v->keys = lr_arena_alloc(ps->a, (total ? total : 1) * sizeof *v->keys);
        v->key_lens = lr_arena_alloc(ps->a, (total ? total : 1) * sizeof *v->key_lens);
        if (v->keys == NULL || v->key_lens == NULL)
            return oom(ps);
    }
    total = 0;
    for (chunk *c = &first; c != NULL; c = c->next) {
        memcpy(v->items + total, c->vals, c->n * sizeof *c->vals);
        if (object) {
            memcpy(v->keys + total, c->keys, c->n * sizeof *c->keys);
            memcpy(v->key_lens + total, c->key_lens, c->n * sizeof *c->key_lens);
        }
        total += c->n;
    }
    return LR_OK;
}

static bool literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static lr_status parse_value(parser *ps, lr__jval *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, v, depth, true);
    case '[':
        return parse_container(ps, v, depth, false);
    case '"':
        v->type = LR__J_STRING;
        return parse_string(ps, &v->s, &v->len);
    case 't':
        if (!literal(ps, "true"))
            return fail(ps, "invalid literal");
        v->type = LR__J_TRUE;
        return LR_OK;
    case 'f':
        if (!literal(ps, "false"))
            return fail(ps, "invalid literal");
        v->type = LR__J_FALSE;
        return LR_OK;
    case 'n':
        if (!literal(ps, "null"))
            return fail(ps, "invalid literal");
        v->type = LR__J_NULL;
        return LR_OK;
    default:
        return parse_number(ps, v);
    }
}

lr_status lr__json_parse(lr_arena *arena, const char *text, size_t len, lr__jval **out,
                         lr_error *err)
{
    parser ps = {arena, text, text + len, text, err, LR_OK};
    lr__jval *v = lr_arena_alloc(arena, sizeof *v);
    *out = NULL;
    if (v == NULL)
        return oom(&ps);
    if (parse_value(&ps, v, 0) != LR_OK)
        return ps.st;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, "end of input expected");
    *out = v;
    return LR_OK;
}

const lr__jval *lr__json_get(const lr__jval *obj, const char *key)
{
    size_t kl;
    if (obj == NULL || obj->type != LR__J_OBJECT)
        return NULL;
    kl = strlen(key);
    for (uint32_t i = obj->n; i-- > 0;) {
        if (obj->key_lens[i] == kl && memcmp(obj->keys[i], key, kl) == 0)
            return &obj->items[i];
    }
    return NULL;
}

bool lr__json_int(const lr__jval *v, int64_t *out)
{
    char buf[32], *end;
    long long x;
    if (v == NULL || v->type != LR__J_NUMBER || v->len >= sizeof buf ||
        memchr(v->s, '.', v->len) != NULL || memchr(v->s, 'e', v->len) != NULL ||
        memchr(v->s, 'E', v->len) != NULL)
        return false;
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = x;
    return true;
}

lr_status lr__json_write(const lr__jval *v, lr_buf *out)
{
    lr_status st = LR_OK;
    switch (v->type) {
    case LR__J_NULL:
        return lr_buf_append_str(out, "null");
    case LR__J_FALSE:
        return lr_buf_append_str(out, "false");
    case LR__J_TRUE:
        return lr_buf_append_str(out, "true");
    case LR__J_NUMBER:
        return lr_buf_append(out, v->s, v->len);
    case LR__J_STRING:
        return lr_buf_append_json_str(out, v->s, v->len);
    case LR__J_ARRAY:
    case LR__J_OBJECT:
        st = lr_buf_append_byte(out, v->type == LR__J_OBJECT ? '{' : '[');
        for (uint32_t i = 0; i < v->n && st == LR_OK; i++) {
            if (i > 0)
                st = lr_buf_append_byte(out, ',');
            if (st == LR_OK && v->type == LR__J_OBJECT) {
                st = lr_buf_append_json_str(out, v->keys[i], v->key_lens[i]);
                if (st == LR_OK)
                    st = lr_buf_append_byte(out, ':');
            }
            if (st == LR_OK)
                st = lr__json_write(&v->items[i], out);
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(out, v->type == LR__J_OBJECT ? '}' : ']');
        return st;
    }
    return LR_EINVAL;
}
