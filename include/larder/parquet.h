/*
 * parquet.h - Larder's Parquet writer and reader (docs/parquet.md).
 *
 * The offline store, compaction, training sets and ingest read and write
 * Parquet through this header only; anything not declared here is not API.
 *
 * Schemas are flat lists of columns. A column is a scalar of a physical type
 * with an optional logical annotation, required or optional, or a list of
 * such scalars (the three-level LIST structure; list and elements nullable
 * independently). The reader also understands legacy two-level lists, INT96
 * timestamps, and the logical types other writers use for flat data.
 *
 * Data moves in column batches (lr_pq_column_batch): per column a typed
 * value array, a validity array of one byte per slot, byte arrays as
 * offsets into one data block, and lists as offsets into their elements.
 *
 * I/O goes through a sink (writer) and a source (reader) so that files,
 * memory and object storage work the same: the writer only appends, the
 * reader only reads ranges (read_at) of a source of known size.
 *
 * Threading: a writer, a reader and a scan are each used by one thread at a
 * time. A reader's metadata is immutable after open, so several scans of one
 * reader may run on different threads when the source's read_at is
 * thread-safe (the file and memory sources are).
 */
#ifndef LARDER_PARQUET_H
#define LARDER_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Physical types, numbered as in parquet.thrift. */
typedef enum lr_pq_type {
    LR_PQ_BOOLEAN = 0,
    LR_PQ_INT32 = 1,
    LR_PQ_INT64 = 2,
    LR_PQ_INT96 = 3, /* reading only: values arrive as int64 microseconds */
    LR_PQ_FLOAT = 4,
    LR_PQ_DOUBLE = 5,
    LR_PQ_BYTE_ARRAY = 6,
    LR_PQ_FIXED_LEN_BYTE_ARRAY = 7, /* reading only */
} lr_pq_type;

/* Logical annotations. The writer writes NONE, STRING, JSON, TIMESTAMP and DATE. */
typedef enum lr_pq_logical {
    LR_PQ_LOGICAL_NONE = 0,
    LR_PQ_LOGICAL_STRING = 1,    /* BYTE_ARRAY holding UTF-8 */
    LR_PQ_LOGICAL_TIMESTAMP = 2, /* INT64 (or INT96) since the epoch, in `unit` */
    LR_PQ_LOGICAL_DATE = 3,      /* INT32 days since the epoch */
    LR_PQ_LOGICAL_DECIMAL = 4,   /* INT32, INT64, BYTE_ARRAY, FIXED: unscaled, `scale` */
    LR_PQ_LOGICAL_INT = 5,       /* INT32/INT64 of `int_bits`, signed or not */
    LR_PQ_LOGICAL_TIME = 6,      /* INT32 (millis) / INT64 time of day in `unit` */
    LR_PQ_LOGICAL_JSON = 7,      /* BYTE_ARRAY holding JSON text */
    LR_PQ_LOGICAL_ENUM = 8,      /* BYTE_ARRAY holding UTF-8 */
    LR_PQ_LOGICAL_UUID = 9,      /* FIXED_LEN_BYTE_ARRAY(16) */
    LR_PQ_LOGICAL_FLOAT16 = 10,  /* FIXED_LEN_BYTE_ARRAY(2): IEEE half, little-endian */
} lr_pq_logical;

/* Time units of TIMESTAMP and TIME. MICROS is the zero default. */
typedef enum lr_pq_time_unit {
    LR_PQ_MICROS = 0,
    LR_PQ_MILLIS = 1,
    LR_PQ_NANOS = 2,
} lr_pq_time_unit;

/* Compression codecs, numbered as in parquet.thrift. */
typedef enum lr_pq_codec {
    LR_PQ_UNCOMPRESSED = 0,
    LR_PQ_SNAPPY = 1,
    LR_PQ_GZIP = 2,
    LR_PQ_BROTLI = 4, /* reading, when the build has it */
    LR_PQ_LZ4 = 5,    /* reading only (deprecated Hadoop framing) */
    LR_PQ_ZSTD = 6,
    LR_PQ_LZ4_RAW = 7,
} lr_pq_codec;

/*
 * One column. Zero-initialise and set what applies: a zeroed definition is a
 * required column without annotation. Strings are borrowed by the writer
 * (copied at open); the reader's definitions live as long as the reader.
 */
typedef struct lr_pq_column_def {
    const char *name;
    lr_pq_type type;
    lr_pq_logical logical;
    lr_pq_time_unit unit;  /* TIMESTAMP, TIME */
    bool utc;              /* TIMESTAMP, TIME: isAdjustedToUTC */
    bool optional;         /* the value (for a list column: the list) may be null */
    bool list;             /* a list of values of `type` */
    bool element_optional; /* list elements may be null */
    int32_t type_length;   /* FIXED_LEN_BYTE_ARRAY: bytes per value */
    int32_t precision;     /* DECIMAL */
    int32_t scale;         /* DECIMAL */
    uint8_t int_bits;      /* INT: 8, 16, 32 or 64 */
    bool int_signed;       /* INT */
    /*
     * Reading only: a list column of depth 2 is a list of lists (as in
     * legacy files such as parquet-mr's old list structure); inner lists
     * may be null when inner_optional. The writer writes depth 1 only.
     */
    uint8_t depth; /* list columns: 1, or 2 for a list of lists */
    bool inner_optional;
} lr_pq_column_def;

/* A key-value metadata pair. value may be NULL. */
typedef struct lr_pq_kv {
    const char *key;
    const char *value;
} lr_pq_kv;

/*
 * The data of one column for n_rows rows.
 *
 * Slots: a scalar column has one value slot per row; a list column has one
 * slot per element, the elements of row r being slots
 * list_offsets[r] .. list_offsets[r+1]-1.
 *
 * Values by physical type: BOOLEAN `bools` (one byte, 0 or 1), INT32 `i32`,
 * INT64 and INT96 `i64` (INT96 as microseconds since the epoch), FLOAT
 * `f32`, DOUBLE `f64`; BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY: slot i is
 * bytes[offsets[i] .. offsets[i+1]) (offsets has one entry more than slots).
 *
 * Validity: `validity` has one byte per row, 1 when the value (for a list
 * column: the list) is present, 0 when null; NULL means no nulls.
 * `elem_validity` has one byte per element slot of a list column, likewise.
 * A null slot still occupies its place in the value array (its value is
 * ignored by the writer and zero or empty from the reader); a null or empty
 * list has list_offsets[r] == list_offsets[r+1].
 *
 * Offsets index the arrays directly: the writer accepts offsets that do not
 * start at 0 (a slice of a larger batch); the reader's start at 0.
 *
 * Lists of lists (depth 2, reading only): list_offsets index inner lists,
 * inner list j is present when inner_validity[j] (NULL: never null) and
 * holds element slots inner_offsets[j] .. inner_offsets[j+1]-1.
 */
typedef struct lr_pq_column_batch {
    const uint8_t *validity;
    const uint32_t *list_offsets;
    const uint8_t *elem_validity;
    union {
        const void *values;
        const uint8_t *bools;
        const int32_t *i32;
        const int64_t *i64;
        const float *f32;
        const double *f64;
    };
    const uint32_t *offsets;
    const uint8_t *bytes;
    const uint32_t *inner_offsets;
    const uint8_t *inner_validity;
} lr_pq_column_batch;

/* ------------------------------------------------------------------------ */
/* Sinks and sources                                                         */
/* ------------------------------------------------------------------------ */

/* Where a writer appends its bytes, in order. write returns LR_OK or an error. */
typedef struct lr_pq_sink {
    lr_status (*write)(void *ctx, const void *data, size_t len, lr_error *err);
    void *ctx;
} lr_pq_sink;

/* A sink appending to `buf` (borrowed; its cap bounds the file). */
lr_pq_sink lr_pq_sink_buf(lr_buf *buf);

/*
 * A sink writing to the file descriptor `fd` (borrowed: not closed, not
 * synced) with write(2), retrying short writes and EINTR. Errors: LR_EIO.
 */
lr_pq_sink lr_pq_sink_fd(int fd);

/*
 * Where a reader reads from: read_at copies exactly len bytes at offset
 * into dst (the reader never asks beyond `size`).
 */
typedef struct lr_pq_source {
    lr_status (*read_at)(void *ctx, uint64_t offset, size_t len, void *dst, lr_error *err);
    uint64_t size;
    void *ctx;
} lr_pq_source;

/* A source over data[0..len) (borrowed; must outlive every reader and scan). */
lr_pq_source lr_pq_source_mem(const void *data, size_t len);

/*
 * A source over the open file `fd` (borrowed, read with pread(2)); its size
 * is taken now with fstat. Errors: LR_EIO.
 */
lr_status lr_pq_source_fd(int fd, lr_pq_source *out, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct lr_pq_write_options {
    lr_pq_codec codec;         /* default SNAPPY */
    int level;                 /* codec level (ZSTD 1..22, GZIP 1..9); 0: codec default */
    uint64_t row_group_bytes;  /* a row group ends at this many encoded bytes (128 MiB) */
    uint64_t row_group_rows;   /* ... or at this many rows (0: no row limit) */
    uint32_t page_bytes;       /* a data page ends near this many encoded bytes (1 MiB) */
    uint32_t page_rows;        /* ... or at this many rows (0: no row limit) */
    bool dictionary;           /* dictionary-encode columns (true) */
    uint32_t dictionary_bytes; /* largest dictionary page; beyond it PLAIN pages (1 MiB) */
    const lr_pq_kv *kv;        /* key-value metadata for the footer (copied at open) */
    uint32_t n_kv;
} lr_pq_write_options;

/* Fills the defaults shown above. */
void lr_pq_write_options_init(lr_pq_write_options *opt);

/* What close reports. */
typedef struct lr_pq_write_stats {
    uint64_t rows;
    uint64_t bytes; /* file size */
    uint32_t row_groups;
} lr_pq_write_stats;

typedef struct lr_pq_writer lr_pq_writer;

/*
 * Starts a file with `n_columns` columns (1..LR_PQ_MAX_COLUMNS) and writes
 * its magic to `sink`. opt may be NULL (defaults). Column definitions and
 * key-value metadata are copied. Errors: LR_EINVAL (empty or duplicate
 * name, a type/annotation the writer does not support, bad option),
 * LR_EUNSUPPORTED (codec), LR_ENOMEM, or the sink's error.
 */
lr_status lr_pq_writer_open(const lr_pq_column_def *columns, uint32_t n_columns,
                            const lr_pq_write_options *opt, lr_pq_sink sink, lr_pq_writer **out,
                            lr_error *err);

/*
 * Appends n_rows rows given as one lr_pq_column_batch per column, in schema
 * order (borrowed for the call). A row group that reaches its size is
 * written to the sink. Rows appended with the row API and not yet ended are
 * an error (LR_EINVAL). Errors: LR_EINVAL (a null in a required column or
 * element, offsets that decrease, a string over 2^31 bytes), LR_ELIMIT, LR_ENOMEM,
 * the codec's or the sink's error. After an error other than LR_EINVAL the
 * writer is failed and only lr_pq_writer_free() may follow.
 */
lr_status lr_pq_writer_write_batch(lr_pq_writer *w, const lr_pq_column_batch *columns,
                                   uint32_t n_rows, lr_error *err);

/*
 * The row API: set each column of the current row (in any order), then
 * lr_pq_writer_end_row(). A column not set is null (an error if required).
 * For a list column, lr_pq_writer_list_begin() starts the (non-null) list
 * and each following set on that column appends an element (set_null: a
 * null element) until lr_pq_writer_list_end(). Values are copied. Errors:
 * LR_EINVAL (column out of range, wrong type, set twice, null in a required
 * column), LR_ELIMIT, LR_ENOMEM. Rows are buffered and written in batches.
 */
lr_status lr_pq_writer_set_null(lr_pq_writer *w, uint32_t col, lr_error *err);
lr_status lr_pq_writer_set_bool(lr_pq_writer *w, uint32_t col, bool v, lr_error *err);
lr_status lr_pq_writer_set_i32(lr_pq_writer *w, uint32_t col, int32_t v, lr_error *err);
lr_status lr_pq_writer_set_i64(lr_pq_writer *w, uint32_t col, int64_t v, lr_error *err);
lr_status lr_pq_writer_set_float(lr_pq_writer *w, uint32_t col, float v, lr_error *err);
lr_status lr_pq_writer_set_double(lr_pq_writer *w, uint32_t col, double v, lr_error *err);
lr_status lr_pq_writer_set_bytes(lr_pq_writer *w, uint32_t col, const void *p, size_t n,
                                 lr_error *err);
lr_status lr_pq_writer_list_begin(lr_pq_writer *w, uint32_t col, lr_error *err);
lr_status lr_pq_writer_list_end(lr_pq_writer *w, uint32_t col, lr_error *err);
/* Ends the row. On LR_EINVAL the row is discarded and the writer stays usable. */
lr_status lr_pq_writer_end_row(lr_pq_writer *w, lr_error *err);
/* Discards the values set for the current row. */
void lr_pq_writer_discard_row(lr_pq_writer *w);

/* Rows accepted so far (ended rows and batches). */
uint64_t lr_pq_writer_rows(const lr_pq_writer *w);

/*
 * Writes the last row group and the footer. stats may be NULL. A row in
 * progress is an error (LR_EINVAL). The writer must still be freed.
 */
lr_status lr_pq_writer_close(lr_pq_writer *w, lr_pq_write_stats *stats, lr_error *err);

/* Frees the writer (an unclosed file is left incomplete). NULL is fine. */
void lr_pq_writer_free(lr_pq_writer *w);

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

/* Limits every reader applies to untrusted files. */
#define LR_PQ_MAX_COLUMNS     65536         /* leaf columns */
#define LR_PQ_MAX_FOOTER      (256u << 20)  /* footer bytes */
#define LR_PQ_MAX_PAGE_VALUES (16u << 20)   /* values in one page */
#define LR_PQ_MAX_BATCH_BYTES (1024u << 20) /* byte-array data in one column batch */

/* A typed value (statistics bounds). Bytes point into reader-owned memory. */
typedef struct lr_pq_scalar {
    union {
        bool b;
        int32_t i32;
        int64_t i64; /* INT64, INT96 (microseconds) */
        float f32;
        double f64;
        struct {
            const uint8_t *ptr;
            uint32_t len;
        } bytes;
    };
} lr_pq_scalar;

/*
 * Statistics of one column chunk, decoded and checked against the rules of
 * the column's sort order: has_min/has_max only when the bounds are
 * trustworthy (min_value/max_value under a type-defined order, or legacy
 * min/max where signed order is the column's order; never a NaN bound; a
 * zero minimum is -0.0 and a zero maximum +0.0). For list columns they
 * describe the elements.
 */
typedef struct lr_pq_stats {
    int64_t num_values; /* slots in the chunk, nulls included */
    bool has_null_count;
    int64_t null_count;
    bool has_nan_count;
    int64_t nan_count;
    bool has_distinct_count;
    int64_t distinct_count;
    bool has_min, has_max;
    bool min_exact, max_exact; /* false when the writer marked the bound truncated */
    lr_pq_scalar min, max;
} lr_pq_stats;

/* A column chunk's metadata, for inspection tools. */
typedef struct lr_pq_chunk_info {
    lr_pq_codec codec;
    int64_t num_values;
    int64_t total_compressed_size;   /* page headers included */
    int64_t total_uncompressed_size; /* page headers included */
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1 when absent */
    uint32_t encodings;             /* bit (1 << e) for each parquet.thrift Encoding e */
    lr_pq_stats stats;
} lr_pq_chunk_info;

typedef struct lr_pq_reader lr_pq_reader;

/*
 * Opens a file: reads and checks the magic and the footer and maps the
 * schema onto columns. The source is copied (its ctx must outlive the
 * reader). Every allocation is bounded by the file's size and the LR_PQ_MAX_*
 * limits. Errors: LR_ECORRUPT (not Parquet, malformed footer or schema),
 * LR_EUNSUPPORTED (encrypted footer), LR_ELIMIT, LR_ENOMEM, the source's
 * error. Columns of shapes Larder cannot read (lists nested deeper than
 * two levels) are listed but fail when scanned (LR_EUNSUPPORTED).
 */
lr_status lr_pq_reader_open(const lr_pq_source *src, lr_pq_reader **out, lr_error *err);

/* As lr_pq_reader_open on the file at `path`, which the reader opens and closes. */
lr_status lr_pq_reader_open_file(const char *path, lr_pq_reader **out, lr_error *err);

/* Frees the reader. Scans must be freed first. NULL is fine. */
void lr_pq_reader_free(lr_pq_reader *r);

/*
 * Leaf columns in file order. A column's name is its top-level field's name
 * (the list's name for a list column); a leaf inside a struct, or one of
 * several leaves under one top-level field, is named by its dotted path
 * ("s.a"). Definitions live as long as r.
 */
uint32_t lr_pq_reader_num_columns(const lr_pq_reader *r);
const lr_pq_column_def *lr_pq_reader_column(const lr_pq_reader *r, uint32_t col);
/* Index of the column named `name`, or -1. */
int32_t lr_pq_reader_find_column(const lr_pq_reader *r, const char *name);

int64_t lr_pq_reader_num_rows(const lr_pq_reader *r);
uint32_t lr_pq_reader_num_row_groups(const lr_pq_reader *r);
int64_t lr_pq_reader_row_group_rows(const lr_pq_reader *r, uint32_t rg);
/* The footer's created_by, or NULL. Lives as long as r. */
const char *lr_pq_reader_created_by(const lr_pq_reader *r);
/* Key-value metadata; *n receives the count. Lives as long as r. */
const lr_pq_kv *lr_pq_reader_kv(const lr_pq_reader *r, uint32_t *n);

/* Statistics of column `col` in row group `rg`. LR_EINVAL for bad indexes. */
lr_status lr_pq_reader_stats(const lr_pq_reader *r, uint32_t rg, uint32_t col, lr_pq_stats *out);

/* Metadata of column `col` in row group `rg`. LR_EINVAL for bad indexes. */
lr_status lr_pq_reader_chunk_info(const lr_pq_reader *r, uint32_t rg, uint32_t col,
                                  lr_pq_chunk_info *out);

/*
 * Row-group pruning: false only when the statistics prove that no non-null
 * value of `col` in row group `rg` lies in [lo, hi] (NULL: unbounded on
 * that side). Bounds are typed as the column's values (lr_pq_column_batch);
 * strings compare as unsigned bytes. True for bad indexes or unknown stats.
 */
bool lr_pq_reader_may_contain(const lr_pq_reader *r, uint32_t rg, uint32_t col,
                              const lr_pq_scalar *lo, const lr_pq_scalar *hi);

/* A batch of rows from one row group. Valid until the next lr_pq_scan_next/free. */
typedef struct lr_pq_batch {
    uint32_t n_rows;
    uint32_t n_columns;                /* the projected columns */
    const lr_pq_column_batch *columns; /* in projection order */
    uint32_t row_group;
    int64_t first_row; /* the file row number of the first row */
} lr_pq_batch;

/* Returns true to read row group `rg`. */
typedef bool (*lr_pq_row_group_filter)(void *ctx, const lr_pq_reader *r, uint32_t rg);

typedef struct lr_pq_scan_options {
    const uint32_t *columns; /* column indexes to read, in output order; NULL: all */
    uint32_t n_columns;
    lr_pq_row_group_filter filter; /* NULL: every row group */
    void *filter_ctx;
    uint32_t batch_rows; /* rows per batch at most (0: 65536) */
} lr_pq_scan_options;

typedef struct lr_pq_scan lr_pq_scan;

/*
 * Starts reading. Only the projected columns' chunks are read and
 * decompressed. opt may be NULL (all columns, all row groups). Errors:
 * LR_EINVAL (bad column index, duplicate), LR_EUNSUPPORTED (a column shape
 * Larder cannot read), LR_ENOMEM.
 */
lr_status lr_pq_scan_open(lr_pq_reader *r, const lr_pq_scan_options *opt, lr_pq_scan **out,
                          lr_error *err);

/*
 * Reads the next batch: *out points to it, or is NULL at the end. A batch
 * has at least one row and never spans row groups; it may hold fewer rows
 * than batch_rows (at row-group ends, or to keep byte data under
 * LR_PQ_MAX_BATCH_BYTES). Errors: LR_ECORRUPT (with the column and row group
 * in the message), LR_EUNSUPPORTED (an encoding or codec this build cannot
 * decode), LR_ELIMIT, LR_ENOMEM, the source's error; the scan is then done.
 */
lr_status lr_pq_scan_next(lr_pq_scan *s, const lr_pq_batch **out, lr_error *err);

/* Frees a scan. NULL is fine. */
void lr_pq_scan_free(lr_pq_scan *s);

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/* "INT64", "SNAPPY", "RLE_DICTIONARY", "TIMESTAMP"...; "UNKNOWN" otherwise. */
const char *lr_pq_type_name(lr_pq_type t);
const char *lr_pq_codec_name(lr_pq_codec c);
const char *lr_pq_encoding_name(int encoding);
const char *lr_pq_logical_name(lr_pq_logical l);
const char *lr_pq_time_unit_name(lr_pq_time_unit u); /* "MILLIS", "MICROS", "NANOS" */

/*
 * Parses a codec name as the CLI takes it ("snappy", "zstd", "gzip", "none"
 * or "uncompressed", "lz4_raw"), case-insensitively. LR_EINVAL otherwise.
 */
lr_status lr_pq_codec_parse(const char *name, lr_pq_codec *out, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
