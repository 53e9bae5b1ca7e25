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
#include "larder/csv.h"
#include "larder/ingest.h"

struct lr_ingest_input_parquet; /* input_parquet.c */

/* About this many bytes of whole rows per chunk. */
#define LR__INGEST_CHUNK ((size_t)4 << 20)
/* The chunk size of files read row by row (tests make it tiny to cut rows everywhere). */
extern size_t lr__ingest_chunk_target;

/* A chunk of whole rows of a CSV or NDJSON file. */
typedef struct lr__ingest_chunk {
    lr_buf data;
    uint64_t first_line; /* the physical line its first byte is on */
    uint64_t consumed;   /* bytes of the (compressed) file read when it was cut */
} lr__ingest_chunk;

struct lr_ingest_input {
    const lr_fg_def *def;
    lr_ingest_format format;
    char path[1024];

    /* CSV and NDJSON: the file, read in chunks of whole rows */
    lr__bytesrc *src;
    lr_buf pending;      /* read, not yet in a chunk; starts at a row */
    bool src_eof;
    uint64_t next_line;  /* the line pending starts on */
    lr__ingest_chunk own; /* the chunk being read row by row (not for workers) */
    bool worker;         /* rows come from chunks given by lr__ingest_input_set_chunk() */
    lr_status read_st;   /* a read error, reported after the whole rows before it */
    lr_error read_err;

    /* CSV: the tokenizer (csv.h), over the current chunk */
    struct lr_csv_reader *csv;
    lr_csv_options csv_opt;

    /* NDJSON: the current chunk */
    const char *buf;
    size_t pos, len;
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

/*
 * Chunks, for parsing one file on several threads (CSV and NDJSON only,
 * lr__ingest_input_chunked()). The reading thread takes chunks from the
 * file's input with lr__ingest_input_read_chunk() (data.len 0 at the end;
 * after a CSV header); each parsing thread has its own input made by
 * lr__ingest_input_for_chunks() (the same columns), points it at a chunk
 * with lr__ingest_input_set_chunk() and reads rows with
 * lr_ingest_input_next() until eof, which is the chunk's end. A file input
 * read row by row does the same internally.
 */
lr_status lr__ingest_input_read_chunk(lr_ingest_input *in, lr__ingest_chunk *c, size_t target,
                                      lr_error *err);
bool lr__ingest_input_chunked(const lr_ingest_input *in);
lr_status lr__ingest_input_for_chunks(const lr_ingest_input *in, lr_ingest_input **out,
                                      lr_error *err);
void lr__ingest_input_set_chunk(lr_ingest_input *in, const char *data, size_t len,
                                uint64_t first_line);

lr_status lr__ingest_parquet_open(lr_ingest_input *in, lr_error *err);
lr_status lr__ingest_parquet_next(lr_ingest_input *in, lr_record *rec, bool *eof, lr_error *err);
uint64_t lr__ingest_parquet_consumed(const lr_ingest_input *in);
void lr__ingest_parquet_close(lr_ingest_input *in);

#endif
