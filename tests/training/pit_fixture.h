/*
 * pit_fixture.h - shared by the training-set tests: a data directory with
 * two feature groups whose offline stores hold random histories written
 * through the offline store's library API (puts with ties in event time,
 * duplicates with different api_invocation_time, deletes), the raw rows
 * read back with a plain offline scan, and a brute-force reference of the
 * point-in-time rule (docs/training-sets.md) computed from those raw rows.
 *
 * Groups:
 *   clicks: id String, ts String (ISO-8601), n Integral, x Fractional,
 *           s String, tags String List; online TTL 2 hours.
 *   orders: oid Integral, et Fractional (epoch seconds), x Fractional,
 *           amount Integral; no online store.
 */
#ifndef LARDER_TESTS_PIT_FIXTURE_H
#define LARDER_TESTS_PIT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/catalog.h"
#include "larder/fg.h"

#define PIT_HOUR_US 3600000000LL
#define PIT_BASE_US 1709287200000000LL /* 2024-03-01T10:00:00Z */

typedef struct pit_row {
    char *key;     /* identifier as text (Integral: decimal) */
    int64_t et;    /* event time, microseconds */
    int64_t api, wt;
    bool del;
    char **cells;  /* per feature of the definition: canonical text, NULL for null */
} pit_row;

typedef struct pit_group {
    lr_fg_def *def;
    pit_row *rows;
    size_t n;
} pit_group;

typedef struct pit_fx {
    char *dir;
    lr_catalog *cat;
    pit_group g[2]; /* clicks, orders */
    int64_t *times; /* event times used (for entity timestamps near them) */
    size_t n_times;
} pit_fx;

/* Creates the directory, the groups and `rows` random rows per group. */
void pit_fx_create(pit_fx *fx, uint64_t seed, size_t rows);
void pit_fx_free(pit_fx *fx);

/* Re-reads the raw rows of both groups (after more data was written). */
void pit_fx_load(pit_fx *fx);

/*
 * The reference: the raw row that answers entity (user, t) for group g, or
 * NULL; max_age 0 means none; rows written after as_of are ignored.
 */
const pit_row *pit_ref(const pit_group *g, const char *user, int64_t t, int64_t max_age,
                       int64_t as_of);

/* Canonical text of a Parquet cell (as pit_row cells): NULL for null. Caller frees. */
struct lr_pq_column_def;
typedef struct pit_table {
    uint32_t n_cols;
    char **names;
    size_t n_rows;
    char ***cells; /* [row][col] */
} pit_table;

/* Reads a whole Parquet file as canonical text cells. */
void pit_read_parquet(const char *path, pit_table *t);
void pit_table_free(pit_table *t);
/* Index of column `name`, or -1. */
int pit_col(const pit_table *t, const char *name);

/* A random number (splitmix64 on a test-local state). */
uint64_t pit_rand(void);
void pit_seed(uint64_t s);

#endif
