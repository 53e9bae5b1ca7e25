/*
 * input_internal.h - the state of an ingest input, shared by the CSV/NDJSON
 * reader (input.c) and the Parquet reader (input_parquet.c).
 */
#ifndef LARDER_INGEST_INPUT_INTERNAL_H
#define LARDER_INGEST_INPUT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytesrc.h"
#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/ingest.h"

struct lr_ingest_input_parquet; /* input_parquet.c */

struct lr_ingest_input {
    const lr_fg_def *def;
    lr_ingest_format format;
    char path[1024];

    /* CSV: the tokenizer (csv.h) */
    struct lr_csv_reader *csv;

    /* NDJSON */
    lr__bytesrc *src;
    char *buf; /* decompressed bytes */
    size_t pos, len;
    bool src_eof;
    uint64_t line;     /* current physical line, from 1 */
    lr_buf raw;        /* raw text of the current row */

    uint64_t row_line; /* where the current row starts (Parquet: row number) */
    uint32_t n_columns;
    int32_t *col_feature; /* column -> feature index */
    json_t *row_json;     /* NDJSON: the current row, whose strings values point into */

    /* The current record. */
    lr_feature_value *values;
    lr_arena *arena; /* per-row memory, reset each row */

    /* Parquet */
    struct lr_ingest_input_parquet *pq;
    uint64_t file_size;
};

/* Checks that columns for the record identifier and the event time exist. */
lr_status lr__ingest_check_required(lr_ingest_input *in, lr_error *err);

lr_status lr__ingest_parquet_open(lr_ingest_input *in, lr_error *err);
lr_status lr__ingest_parquet_next(lr_ingest_input *in, lr_record *rec, bool *eof, lr_error *err);
uint64_t lr__ingest_parquet_consumed(const lr_ingest_input *in);
void lr__ingest_parquet_close(lr_ingest_input *in);

#endif
