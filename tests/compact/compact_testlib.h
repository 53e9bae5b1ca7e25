/*
 * compact_testlib.h - what compaction's tests share: a data directory with
 * one feature group whose offline files are made through the offline
 * store's own write path, rows read back as sorted canonical strings (so
 * two readings compare as multisets), and checks of what storage holds.
 */
#ifndef LARDER_COMPACT_TESTLIB_H
#define LARDER_COMPACT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/catalog.h"
#include "larder/compact.h"
#include "larder/offline.h"

/* 2024-06-01T00:00:00Z, the first hour the tests write to. */
#define CT_T0   1717200000000000LL
#define CT_HOUR 3600000000LL

typedef struct ct_env {
    char *dir;
    lr_catalog *cat;
    lr_fg_def *def;
    lr_offline *store;
} ct_env;

/*
 * A fresh data directory with group `name` (id String, ts String event
 * time, n Integral, f Fractional, tags String List) and an offline store
 * flushed by hand.
 */
void ct_setup(ct_env *e, const char *name);
/* Closes everything; removes the directory unless `keep`. */
void ct_teardown(ct_env *e, bool keep);
/* Reopens the catalog handle (after another process changed things). */
void ct_reopen(ct_env *e);

/* One row: n and f derived from the arguments; tags has `ntags` (-1: null). */
void ct_put(ct_env *e, const char *id, int64_t event_us, int64_t n, int ntags, int64_t api_us);
/* Everything put so far into Parquet files and the catalog (one file per hour touched). */
void ct_flush(ct_env *e);
/*
 * `files` flushes of `rows_per_file` rows each into hour `hour` (0: CT_T0's),
 * ids "<prefix><k>" for k < ids, event times spread over the hour.
 */
void ct_fill(ct_env *e, const char *prefix, int hour, int files, int rows_per_file, int ids);

/* Rows as canonical strings, sorted: compare two readings as multisets. */
typedef struct ct_rows {
    char **v;
    size_t n;
} ct_rows;

void ct_scan(lr_catalog *cat, const char *fg, ct_rows *out);
/* As ct_scan, but returns the scan's error code instead of failing (concurrent readers). */
lr_status ct_try_scan(lr_catalog *cat, const char *fg, ct_rows *out);
void ct_rows_free(ct_rows *r);
void ct_assert_same(const ct_rows *a, const ct_rows *b);

/* Live files of the group. */
size_t ct_live_files(ct_env *e);
/* Parquet files and ".lrtmp." leftovers under a root (recursively). */
void ct_storage(const char *root, size_t *parquet, size_t *tmp);
/* Storage under the group's root holds exactly the live files, and no temporaries. */
void ct_assert_storage_is_catalog(ct_env *e);
/* Every live file is sorted by record id, event time, api_invocation_time. */
void ct_assert_files_sorted(ct_env *e);

/* lr_compact_options with test defaults: 2 threads, grace 0, small lease. */
void ct_options(lr_compact_options *o);

#endif
