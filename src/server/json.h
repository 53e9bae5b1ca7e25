/*
 * json.h - a small JSON reader for request bodies on the record path.
 *
 * Parses RFC 8259 JSON into a tree allocated from an arena, so that reading
 * a PutRecord or BatchWriteRecord body costs no malloc (jansson, used by the
 * control plane, allocates every node and a hash table per object, which
 * dominated PutRecord's CPU time). Strings are unescaped (\u escapes
 * become UTF-8, surrogate pairs combined, lone surrogates and invalid UTF-8
 * rejected; \u0000 is allowed); numbers keep their literal text. Objects
 * keep their members in order; lookups return the last member of a name,
 * as jansson does. Nesting is limited to LR__JSON_DEPTH_MAX.
 */
#ifndef LARDER_SERVER_JSON_H
#define LARDER_SERVER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/status.h"

#define LR__JSON_DEPTH_MAX 64

typedef enum lr__jtype {
    LR__J_NULL = 0,
    LR__J_FALSE,
    LR__J_TRUE,
    LR__J_NUMBER,
    LR__J_STRING,
    LR__J_ARRAY,
    LR__J_OBJECT,
} lr__jtype;

typedef struct lr__jval lr__jval;

struct lr__jval {
    lr__jtype type;
    const char *s; /* STRING: the unescaped bytes (NUL-terminated); NUMBER: the literal */
    size_t len;
    lr__jval *items;   /* ARRAY / OBJECT: n values */
    const char **keys; /* OBJECT: n member names (unescaped, NUL-terminated) */
    size_t *key_lens;
    uint32_t n;
};

/*
 * Parses text[0..len) into *out (everything in `arena`). Errors: LR_EINVAL
 * with the reason, line and column in err; LR_ENOMEM / the arena's cap.
 */
lr_status lr__json_parse(lr_arena *arena, const char *text, size_t len, lr__jval **out,
                         lr_error *err);

/* The member `key` of an object (the last one of that name), or NULL. */
const lr__jval *lr__json_get(const lr__jval *obj, const char *key);

/* True for a NUMBER literal without fraction or exponent that fits int64. */
bool lr__json_int(const lr__jval *v, int64_t *out);

/* Appends v as compact JSON. */
lr_status lr__json_write(const lr__jval *v, lr_buf *out);

#endif
