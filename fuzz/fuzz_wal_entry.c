/*
 * fuzz_wal_entry.c - fuzz target for the offline store's write-ahead-log
 * payloads (src/offline/entry.h), which recovery decodes from disk.
 *
 * Each input is decoded as a record entry. Decoding must never read out of
 * bounds; an accepted input in the compact form must encode back to exactly
 * the same bytes (the form has one encoding per record: minimal varints),
 * and one in the older fixed-width form must encode (compactly) to a record
 * that decodes to the same values. The input is also decoded as a
 * schema entry, which must either fail cleanly or give a definition that
 * encodes and decodes again. Any difference aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "offline/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_wal_entry: %s\n", what);
    abort();
}

static bool same_str(lr_str x, lr_str y)
{
    return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0);
}

static bool same_entry(const lr__record_entry *x, const lr__record_entry *y)
{
    if (x->n_values != y->n_values || x->is_deleted != y->is_deleted ||
        x->schema_id != y->schema_id || x->event_time_us != y->event_time_us ||
        x->write_time_us != y->write_time_us || x->api_invocation_us != y->api_invocation_us)
        return false;
    for (uint32_t i = 0; i < x->n_values; i++) {
        const lr_feature_value *u = &x->values[i], *v = &y->values[i];
        if (u->feature != v->feature || u->is_list != v->is_list || u->num_kind != v->num_kind)
            return false;
        if (u->num_kind != LR_NUM_NONE) {
            if (memcmp(&u->num, &v->num, sizeof u->num) != 0)
                return false;
        } else if (!u->is_list) {
            if (!same_str(u->value, v->value))
                return false;
        } else {
            if (u->n_items != v->n_items)
                return false;
            for (uint32_t k = 0; k < u->n_items; k++)
                if (!same_str(u->items[k], v->items[k]))
                    return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lr_arena *a = lr_arena_new(0, 64u << 20);
    lr__record_entry e;
    lr_error err;
    lr_fg_def *def = NULL;

    if (a == NULL)
        return 0;
    if (lr__entry_decode_record(data, size, a, &e, &err) == LR_OK) {
        lr_record rec;
        lr_buf b;
        memset(&rec, 0, sizeof rec);
        rec.values = e.values;
        rec.n_values = e.n_values;
        rec.event_time_us = e.event_time_us;
        lr_buf_init(&b, 0);
        if (lr__entry_encode_record(&b, e.schema_id, &rec, e.is_deleted, e.api_invocation_us) !=
            LR_OK)
            die("re-encoding failed");
        lr__entry_stamp(b.data, e.write_time_us);
        if (data[0] == LR__ENTRY_RECORD_COMPACT) {
            if (b.len != size || memcmp(b.data, data, size) != 0)
                die("record entry does not round-trip");
        } else {
            lr__record_entry e2;
            if (lr__entry_decode_record(b.data, b.len, a, &e2, &err) != LR_OK)
                die("re-encoded entry does not decode");
            if (!same_entry(&e, &e2))
                die("re-encoded entry differs");
        }
        lr_buf_free(&b);
    } else if (err.code != LR_ECORRUPT && err.code != LR_ENOMEM) {
        die("unexpected error code");
    }
    if (lr__entry_decode_schema(data, size, &def, &err) == LR_OK) {
        lr_buf b;
        lr_fg_def *again = NULL;
        lr_buf_init(&b, 0);
        if (lr__entry_encode_schema(&b, def) != LR_OK ||
            lr__entry_decode_schema(b.data, b.len, &again, &err) != LR_OK)
            die("schema entry does not round-trip");
        if (strcmp(again->name, def->name) != 0 || again->n_features != def->n_features)
            die("schema entry changed");
        lr_fg_def_free(again);
        lr_buf_free(&b);
        lr_fg_def_free(def);
    }
    lr_arena_free(a);
    return 0;
}
