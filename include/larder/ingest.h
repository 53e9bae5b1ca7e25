/*
 * ingest.h - bulk ingestion: reading rows from CSV, NDJSON and Parquet files
 * (plain, gzip- or zstd-compressed) as records of a feature group, and (in
 * the pipeline part) writing them to the online and offline stores.
 *
 * Inputs: columns (CSV header names, NDJSON member names, Parquet column
 * names) are matched to features by exact name; a column that is not a
 * feature is an error at open time, so a typo never drops data silently.
 * Every row is validated by lr_record_validate(); a bad row is reported with
 * its file and line (CSV/NDJSON: the line where the row starts; Parquet: the
 * row number, from 1) and the input can go on with the next row.
 */
#ifndef LARDER_INGEST_H
#define LARDER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/fg.h"
#include "larder/record.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_ingest_format {
    LR_INGEST_AUTO = 0, /* by extension, after any .gz/.zst/.zstd: .csv, .ndjson/.jsonl, .parquet */
    LR_INGEST_CSV,
    LR_INGEST_NDJSON,
    LR_INGEST_PARQUET,
} lr_ingest_format;

/* Parses "csv", "ndjson" (or "jsonl"), "parquet"; -1 otherwise. */
int lr_ingest_format_parse(const char *s);
const char *lr_ingest_format_name(lr_ingest_format f);

/* Limits on one row: a CSV record or NDJSON line may not exceed this. */
#define LR_INGEST_ROW_MAX (4u * 1024 * 1024)

typedef struct lr_ingest_input lr_ingest_input;

/*
 * Opens `path` ("-" for stdin, CSV or NDJSON only) as rows of `def`
 * (borrowed; must outlive the input). Compression is detected from the
 * content (gzip, zstd). CSV: RFC 4180 with a header row, an optional UTF-8
 * BOM, LF or CRLF line ends, quoted fields with embedded commas, quotes and
 * newlines; an empty field is a missing value; a collection feature's field
 * is a JSON array. NDJSON: one object per line; null is a missing value.
 * Errors: LR_EIO (cannot open/read), LR_EINVAL (unknown format, a column
 * that is not a feature, a duplicate column, no record identifier or event
 * time column), LR_ENOMEM.
 */
lr_status lr_ingest_input_open(const char *path, lr_ingest_format format, const lr_fg_def *def,
                               lr_ingest_input **out, lr_error *err);

/*
 * Reads and validates the next row into *rec. Strings in rec live until the
 * next call or close. *where is the row's line (CSV/NDJSON) or row number
 * (Parquet). At the end, returns LR_OK with *eof = true.
 * Errors: LR_EINVAL for a bad row ("line 12: ..."): the input stays usable
 * and the next call reads the following row; LR_EIO, LR_ECORRUPT, LR_ELIMIT
 * (a row over LR_INGEST_ROW_MAX) end the input.
 */
lr_status lr_ingest_input_next(lr_ingest_input *in, lr_record *rec, uint64_t *where, bool *eof,
                               lr_error *err);

/* The raw text of the row last returned or rejected (CSV/NDJSON; NULL for Parquet). */
const char *lr_ingest_input_raw(const lr_ingest_input *in, size_t *len);

/* Bytes of the file consumed so far, and its size (0 when unknown, e.g. stdin). */
uint64_t lr_ingest_input_consumed(const lr_ingest_input *in);
uint64_t lr_ingest_input_size(const lr_ingest_input *in);

void lr_ingest_input_close(lr_ingest_input *in);

#ifdef __cplusplus
}
#endif
#endif
