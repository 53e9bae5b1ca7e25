/*
 * pq_test.h - helpers shared by the Parquet writer and reader tests: columns
 * of generated data, writing them to memory, and reading a file back to
 * compare every cell.
 */
#ifndef LARDER_TESTS_PQ_TEST_H
#define LARDER_TESTS_PQ_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/parquet.h"

/* One column of test data in the lr_pq_column_batch layout (owned arrays). */
typedef struct tcol {
    lr_pq_column_def def;
    uint32_t n_rows;
    uint32_t n_slots;
    uint8_t *validity;      /* NULL: no nulls */
    uint32_t *list_offsets; /* list columns */
    uint8_t *elem_validity; /* list columns; NULL: no null elements */
    void *values;
    uint32_t *offsets;
    uint8_t *bytes;
} tcol;

/* Generation knobs. */
typedef struct tgen {
    uint64_t seed;
    unsigned null_pct;      /* chance of a null value/list, percent (optional columns) */
    unsigned elem_null_pct; /* chance of a null element (element_optional) */
    uint32_t cardinality;   /* distinct values drawn from (0: all distinct) */
    uint32_t max_list;      /* longest list (0: 4) */
    uint32_t max_str;       /* longest string (0: 16) */
    bool specials;          /* mix in NaN, infinities, -0.0, extremes, empty strings */
} tgen;

void tcol_gen(tcol *c, const lr_pq_column_def *def, uint32_t n_rows, const tgen *g);
void tcol_free(tcol *c);
lr_pq_column_batch tcol_batch(const tcol *c);
/* A batch view starting at row r0 (list offsets stay absolute into the element arrays). */
lr_pq_column_batch tcol_batch_slice(const tcol *c, uint32_t r0);

/* Writes the columns (n_rows each) in batches of `batch` rows (0: one batch) into out. */
void pq_write_mem(const tcol *cols, uint32_t n, const lr_pq_write_options *opt, uint32_t batch,
                  lr_buf *out);

/* Reads `file` back with batches of batch_rows and asserts every cell equals cols. */
void pq_check_file(const void *file, size_t len, const tcol *cols, uint32_t n, uint32_t batch_rows);

/* Compares one column of a batch against rows [first, first+n_rows) of the expected column. */
void pq_check_batch_column(const lr_pq_column_batch *b, uint32_t n_rows, const tcol *exp,
                           uint32_t first);

#endif
