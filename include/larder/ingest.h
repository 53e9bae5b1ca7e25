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
#include <stdio.h>

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


/* ------------------------------------------------------------------------ */
/* The pipeline: files into the online and offline stores                    */
/* ------------------------------------------------------------------------ */

struct lr_online;
struct lr_offline;

/* Progress, reported about ten times a second and at the end. */
typedef struct lr_ingest_progress {
    const char *file;       /* the file being read */
    uint32_t file_index;    /* from 0 */
    uint32_t n_files;
    uint64_t rows;          /* rows read and valid so far (all files) */
    uint64_t rejected;      /* bad rows so far */
    uint64_t bytes;         /* input bytes consumed so far (all files) */
    uint64_t bytes_total;   /* sum of the files' sizes (0 when unknown) */
    int64_t elapsed_us;
    bool flushing;          /* reading is done; the offline flush is running */
} lr_ingest_progress;

typedef void (*lr_ingest_progress_fn)(void *ctx, const lr_ingest_progress *p);

typedef struct lr_ingest_options {
    lr_ingest_format format; /* AUTO: by each file's name */
    bool online;             /* write the online store (when the group has one) */
    bool offline;            /* write the offline store (when the group has one) */
    bool skip_bad_rows;      /* false: stop at the first bad row (--on-error fail) */
    FILE *rejects;           /* skipped rows as NDJSON lines {file,line,error,row}; may be NULL */
    uint32_t batch_rows;     /* rows per write (0: 32768): one log append, one online commit */
    uint32_t threads;        /* parsing threads for CSV/NDJSON (0: one per core, at most 16) */
    size_t chunk_bytes;      /* CSV/NDJSON text per parsing task (0: 4 MiB) */
    bool flush;              /* flush the offline store at the end (true) */
    lr_ingest_progress_fn progress;
    void *progress_ctx;
} lr_ingest_options;

void lr_ingest_options_init(lr_ingest_options *o);

typedef struct lr_ingest_summary {
    uint64_t rows;             /* valid rows read */
    uint64_t rejected;         /* bad rows (skipped, or the one that stopped the run) */
    uint64_t offline_rows;     /* rows acknowledged by the offline store */
    uint64_t online_written;   /* online writes that changed a record */
    uint64_t online_unchanged; /* online writes that lost to a newer event time */
    uint64_t bytes;            /* input bytes */
    uint32_t files;            /* files read to the end */
    int64_t elapsed_us;
    /* Where the run stopped with --on-error fail (line 0: it did not). */
    char stop_file[256];
    uint64_t stop_line;
} lr_ingest_summary;

/*
 * Ingests `files` into the stores of group `def` (borrowed; as stored in
 * the catalog). Every valid row goes to the offline store (through its
 * write-ahead log, as a PutRecord would, with api_invocation_time = when
 * its batch was written) and to the online store, where the event-time rule
 * decides what stays (the latest event time per record; ties: the row read
 * later wins). CSV and NDJSON files are parsed and validated in chunks on
 * opt->threads threads while the calling thread writes the stores, in file
 * order (pipeline.c has the design). With opt->flush, the offline rows are in Parquet files and the
 * catalog when the call returns.
 *
 * A bad row: without skip_bad_rows the run stops there, having written every
 * valid row before it, and returns LR_EINVAL with "FILE:LINE: reason"
 * (summary->stop_file/stop_line say where); with skip_bad_rows it is counted,
 * written to opt->rejects, and the run goes on.
 * `online` / `offline` may be NULL when opt says not to write that store.
 * Errors: LR_EINVAL (a bad row, a file that does not fit the group, a store
 * requested that the group does not have), LR_EIO, and the stores' errors.
 */
lr_status lr_ingest_run(struct lr_online *online, struct lr_offline *offline,
                        const lr_fg_def *def, const char *const *files, uint32_t n_files,
                        const lr_ingest_options *opt, lr_ingest_summary *summary, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
