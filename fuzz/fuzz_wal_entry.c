/*
 * fuzz_wal_entry.c - fuzz target for the offline store's write-ahead-log
 * payloads (src/offline/entry.h), which recovery decodes from disk.
 *
 * Each input is decoded as a record entry. Decoding must never read out of
 * bounds; an accepted input must encode back to exactly the same bytes
 * (the format has one encoding per record). The input is also decoded as a
 * schema entry, which must either fail cleanly or give a definition that
 * encodes and decodes again. Any difference aborts.
 */
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
        if (b.len != size || memcmp(b.data, data, size) != 0)
            die("record entry does not round-trip");
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
