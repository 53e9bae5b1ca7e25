/*
 * record.h - a record as PutRecord sends it: a list of (feature, value) where
 * a value is one string (ValueAsString) or a list of strings
 * (ValueAsStringList), and its validation against a feature-group definition.
 *
 * A record does not own its strings: they point into the request body, a
 * parsed file line or an arena, and must outlive the record's use.
 */
#ifndef LARDER_RECORD_H
#define LARDER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/fg.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits (API.md): a record of 350 KB, a record identifier of 2 KB. */
#define LR_RECORD_MAX_BYTES (350 * 1024)
#define LR_RECORD_ID_MAX_BYTES (2 * 1024)

typedef struct lr_str {
    const char *ptr;
    size_t len;
} lr_str;

/* What lr_record_validate() learned of a scalar value's number. */
typedef enum lr_num_kind {
    LR_NUM_NONE = 0,   /* not parsed (a string, a list, or not validated): use `value` */
    LR_NUM_INT = 1,    /* an Integral scalar: num.i is its value */
    LR_NUM_DOUBLE = 2, /* a Fractional scalar: num.d is its value */
} lr_num_kind;

typedef struct lr_feature_value {
    uint32_t feature; /* index into the definition's features */
    bool is_list;     /* ValueAsStringList given */
    uint8_t num_kind; /* lr_num_kind: set for every value by lr_record_validate() */
    lr_str value;     /* scalar: ValueAsString */
    const lr_str *items;
    uint32_t n_items; /* list: ValueAsStringList */
    /*
     * The parsed number of a numeric scalar (num_kind != LR_NUM_NONE), so
     * that writers of typed data (the offline log) need not parse `value`
     * again. It always agrees with `value`; whoever changes `value` after
     * validation must reset num_kind to LR_NUM_NONE.
     */
    union {
        int64_t i;
        double d;
    } num;
} lr_feature_value;

typedef struct lr_record {
    lr_feature_value *values;
    uint32_t n_values;
    /* Filled by lr_record_validate(): */
    lr_str record_id;
    int64_t event_time_us;
} lr_record;

/*
 * Checks a record against `def`, in PutRecord's rules: every feature is
 * defined and appears once; the record identifier and the event time are
 * present (and scalar); every value parses as its type; collection features
 * use lists and scalar features do not; Set has no duplicates; Vector is
 * Fractional with exactly the configured dimension; the total size (feature
 * names plus values, in bytes) is within LR_RECORD_MAX_BYTES and the
 * identifier is 1 to LR_RECORD_ID_MAX_BYTES bytes. docs/values.md has the
 * rules. On success fills rec->record_id and rec->event_time_us, and each
 * value's num_kind and num (the parsed number of Integral and Fractional
 * scalars; LR_NUM_NONE for the others).
 * Errors: LR_EINVAL with the feature's name and the rule; LR_ENOMEM (only
 * when checking a Set of more than 32 items for duplicates).
 */
lr_status lr_record_validate(const lr_fg_def *def, lr_record *rec, lr_error *err);

/*
 * Checks one value of feature `f` (scalar when !is_list). Used by
 * lr_record_validate and by partial updates (UpdateRecord).
 */
lr_status lr_feature_value_validate(const lr_feature_def *f, const lr_feature_value *v,
                                    lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
