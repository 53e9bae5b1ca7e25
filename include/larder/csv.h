/*
 * csv.h - a streaming CSV tokenizer (part of the ingest subsystem): reads a
 * file (plain, gzip or zstd, detected from its first bytes; "-" is stdin)
 * as records of fields, whatever the columns mean. `larder ingest` maps the
 * fields onto a feature group's features (ingest.h); training sets read
 * entity files of arbitrary columns with it (training.h).
 *
 * Grammar: RFC 4180. Fields are separated by ',' and records end at LF,
 * CRLF or a lone CR; a field that starts with '"' is quoted and may hold
 * commas, line ends and doubled quotes (""). A UTF-8 byte-order mark at the
 * start of the file is skipped; blank lines are skipped. Each field says
 * whether it was quoted, so a caller can tell an empty value ("") from a
 * missing one (nothing between the commas).
 *
 * What it does not do: it does not interpret values, does not check that
 * records have the same number of fields, and does not guess delimiters.
 *
 * Threading: a reader is used by one thread at a time.
 */
#ifndef LARDER_CSV_H
#define LARDER_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One field of a record: ptr[0..len) is its unescaped content (not NUL-terminated). */
typedef struct lr_csv_field {
    const char *ptr;
    size_t len;
    bool quoted; /* the field was written in quotes */
} lr_csv_field;

/* A record. Fields live until the next lr_csv_next() or lr_csv_close(). */
typedef struct lr_csv_record {
    const lr_csv_field *fields;
    size_t n_fields;
    bool truncated; /* the record had more than fields_max fields; the rest were dropped */
    uint64_t line;  /* the physical line (from 1) where the record starts */
} lr_csv_record;

typedef struct lr_csv_options {
    size_t record_max;   /* longest record in bytes: 4 MiB (LR_INGEST_ROW_MAX) */
    uint32_t fields_max; /* most fields kept per record: 4096 */
} lr_csv_options;

/* Fills the defaults above. */
void lr_csv_options_init(lr_csv_options *opt);

typedef struct lr_csv_reader lr_csv_reader;

/*
 * Opens `path` ("-": stdin) and reads its first block (to skip a BOM).
 * opt may be NULL (defaults). Errors: LR_EIO (cannot open or read: the
 * message names the file), LR_ECORRUPT (bad compressed data), LR_ENOMEM.
 */
lr_status lr_csv_open(const char *path, const lr_csv_options *opt, lr_csv_reader **out,
                      lr_error *err);

/*
 * A reader over data[0..len) (borrowed: it must outlive the records read),
 * whose first byte is on physical line `first_line` (a byte-order mark is
 * skipped only when first_line is 1). Errors: LR_ENOMEM.
 */
lr_status lr_csv_open_mem(const char *data, size_t len, uint64_t first_line,
                          const lr_csv_options *opt, lr_csv_reader **out, lr_error *err);

/* Points a reader made by lr_csv_open_mem() at new memory, as if reopened. */
void lr_csv_reset_mem(lr_csv_reader *r, const char *data, size_t len, uint64_t first_line);

/* Over memory: the offset of the next unread byte, and its physical line. */
size_t lr_csv_offset(const lr_csv_reader *r);
uint64_t lr_csv_line(const lr_csv_reader *r);

/*
 * Where the block p[0..len), which starts at a record boundary, can be cut
 * into whole records and a rest: the offset just after its last record end
 * outside quotes (0 when it holds none). A CR as the block's last byte
 * counts as a record end only when at_eof (the next byte could be its LF).
 * *lines: the physical lines the records before the cut span, as the
 * reader counts them (each LF, and each lone CR outside quotes).
 */
size_t lr_csv_split_point(const char *p, size_t len, bool at_eof, uint64_t *lines);

/*
 * Reads the next record into *rec; at the end of the input returns LR_OK
 * with *eof = true. Errors: LR_EINVAL for a malformed record ("line 12:
 * unterminated quoted field", "a quote inside an unquoted field", "unexpected
 * character after a closing quote"): the record has been consumed and
 * filled in as far as it could be read, and the next call reads the
 * following record; LR_ELIMIT (a record over record_max), LR_EIO,
 * LR_ECORRUPT and LR_ENOMEM end the input.
 */
lr_status lr_csv_next(lr_csv_reader *r, lr_csv_record *rec, bool *eof, lr_error *err);

/*
 * The raw text of the record last returned (or rejected), without its
 * final line end. Lives as the record's fields.
 */
const char *lr_csv_raw(const lr_csv_reader *r, size_t *len);

/* Bytes of the file consumed so far (compressed), and its size (0 when unknown). */
uint64_t lr_csv_consumed(const lr_csv_reader *r);
uint64_t lr_csv_size(const lr_csv_reader *r);

/* Closes the file and frees the reader. NULL is fine. */
void lr_csv_close(lr_csv_reader *r);

#ifdef __cplusplus
}
#endif
#endif
