/*
 * thrift.h - the Thrift compact protocol, as much of it as Parquet's metadata
 * needs: a writer that appends to an lr_buf and a bounded reader over a byte
 * range.
 *
 * The writer keeps a sticky status: after the first failure (LR_ELIMIT or
 * LR_ENOMEM from the buffer) every call is a no-op and lr__tw_status()
 * reports it, so encoders can write a whole struct and check once.
 *
 * The reader never reads outside [p, end), limits nesting to
 * LR__THRIFT_MAX_DEPTH, bounds every list size by the bytes that remain (an
 * element takes at least one byte), skips fields it does not know (including
 * nested structs, lists, sets and maps) and accepts bool list elements typed
 * 1 or 2. It does not allocate: binary values are returned as pointers into
 * the input. Messages (RPC envelopes) are not supported: Parquet has none.
 *
 * Not thread-safe per object; objects are cheap and live on the stack.
 */
#ifndef LARDER_PARQUET_THRIFT_H
#define LARDER_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

/* Compact-protocol type ids (field headers and list element types). */
enum {
    LR__T_STOP = 0,
    LR__T_BOOL_TRUE = 1,
    LR__T_BOOL_FALSE = 2,
    LR__T_I8 = 3,
    LR__T_I16 = 4,
    LR__T_I32 = 5,
    LR__T_I64 = 6,
    LR__T_DOUBLE = 7,
    LR__T_BINARY = 8,
    LR__T_LIST = 9,
    LR__T_SET = 10,
    LR__T_MAP = 11,
    LR__T_STRUCT = 12,
    LR__T_UUID = 13,
};

/* Deepest struct/list nesting either side accepts (Parquet needs 6). */
#define LR__THRIFT_MAX_DEPTH 32

/* ---- writer ---- */

typedef struct lr__tw {
    lr_buf *out;
    lr_status st;
    int depth;
    int16_t last_fid[LR__THRIFT_MAX_DEPTH + 1];
} lr__tw;

/* Starts writing at the end of `out` (borrowed; must outlive the writer). */
void lr__tw_init(lr__tw *w, lr_buf *out);
/* LR_OK, or the first error met (LR_ELIMIT, LR_ENOMEM, LR_EINTERNAL for misuse). */
lr_status lr__tw_status(const lr__tw *w);

/* Fields of the current struct; ids must increase within one struct. */
void lr__tw_bool(lr__tw *w, int16_t fid, bool v);
void lr__tw_i8(lr__tw *w, int16_t fid, int8_t v);
void lr__tw_i16(lr__tw *w, int16_t fid, int16_t v);
void lr__tw_i32(lr__tw *w, int16_t fid, int32_t v);
void lr__tw_i64(lr__tw *w, int16_t fid, int64_t v);
void lr__tw_double(lr__tw *w, int16_t fid, double v);
void lr__tw_binary(lr__tw *w, int16_t fid, const void *p, size_t n);
void lr__tw_string(lr__tw *w, int16_t fid, const char *s);
/* A struct-valued field: its fields follow, then lr__tw_struct_end(). */
void lr__tw_struct_begin(lr__tw *w, int16_t fid);
/* Writes the stop byte of the innermost open struct. */
void lr__tw_struct_end(lr__tw *w);
/* A list-valued field of `n` elements of compact type `elem`; elements follow. */
void lr__tw_list_begin(lr__tw *w, int16_t fid, uint8_t elem, uint32_t n);

/* List elements. */
void lr__tw_elem_i32(lr__tw *w, int32_t v);
void lr__tw_elem_i64(lr__tw *w, int64_t v);
void lr__tw_elem_bool(lr__tw *w, bool v);
void lr__tw_elem_binary(lr__tw *w, const void *p, size_t n);
/* A struct element: fields follow, then lr__tw_struct_end(). */
void lr__tw_elem_struct_begin(lr__tw *w);

/* ---- reader ---- */

typedef struct lr__tr {
    const uint8_t *p;
    const uint8_t *end;
    int depth;
    lr_error *err;
} lr__tr;

/* Reads [p, p+n). err (may be NULL) receives the details of any failure. */
void lr__tr_init(lr__tr *r, const void *p, size_t n, lr_error *err);

/* Bytes consumed so far relative to `start`. */
static inline size_t lr__tr_offset(const lr__tr *r, const void *start)
{
    return (size_t)(r->p - (const uint8_t *)start);
}

/*
 * Enters a struct (at the top level or as a field/element value). Checks the
 * nesting depth. Pair with lr__tr_struct_leave() after the stop field.
 */
lr_status lr__tr_struct_enter(lr__tr *r, int16_t *last_fid);
void lr__tr_struct_leave(lr__tr *r);

/*
 * Reads the next field header of the current struct. *type is LR__T_STOP at
 * the end of the struct. For bool fields the value is in the type
 * (LR__T_BOOL_TRUE / LR__T_BOOL_FALSE) and nothing else is to be read.
 * Errors: LR_ECORRUPT (truncated, bad type id).
 */
lr_status lr__tr_field(lr__tr *r, int16_t *last_fid, int16_t *fid, uint8_t *type);

/*
 * Value readers. Integers accept any integer wire type (i8, i16, i32, i64)
 * and check the range of the destination. `type` is the field's or list
 * element's type as read from the header. Errors: LR_ECORRUPT.
 */
lr_status lr__tr_i64(lr__tr *r, uint8_t type, int64_t *v);
lr_status lr__tr_i32(lr__tr *r, uint8_t type, int32_t *v);
/* A bool field: the value is the field's type (1 true, 2 false). */
lr_status lr__tr_bool(lr__tr *r, uint8_t type, bool *v);
/* A bool list element: one byte, 1 true, 0 or 2 false. */
lr_status lr__tr_elem_bool(lr__tr *r, bool *v);
lr_status lr__tr_double(lr__tr *r, uint8_t type, double *v);
/* A binary/string value: *p points into the input and is not NUL-terminated. */
lr_status lr__tr_binary(lr__tr *r, uint8_t type, const uint8_t **p, uint32_t *n);

/*
 * Reads a list/set header for a field of `type` (LR__T_LIST or LR__T_SET).
 * *n is bounded by the bytes that remain (LR_ECORRUPT otherwise). A bool
 * element type is reported as LR__T_BOOL_TRUE whether written as 1 or 2.
 */
lr_status lr__tr_list(lr__tr *r, uint8_t type, uint8_t *elem, uint32_t *n);

/* Skips one value of `type`, nested values included, within the depth limit. */
lr_status lr__tr_skip(lr__tr *r, uint8_t type);

#endif
