/*
 * metadata.h - Parquet's Thrift structures (parquet.thrift) as C structs,
 * with compact-protocol encoders and decoders (internal).
 *
 * Covers FileMetaData, SchemaElement, LogicalType, RowGroup, ColumnChunk,
 * ColumnMetaData, Statistics, KeyValue, SortingColumn, ColumnOrder and
 * PageHeader with DataPageHeader, DataPageHeaderV2 and DictionaryPageHeader.
 * Fields Larder has no use for (encryption, bloom filter headers, size and
 * geospatial statistics, encoding stats) are skipped on decode and never
 * encoded; unknown fields are skipped.
 *
 * Decoded footers live in an arena whose cap the caller chooses (the reader
 * bounds it by the footer's size); strings are copied into it and
 * NUL-terminated, while binary statistics point into the input bytes, which
 * must outlive the result. Page headers are small and fixed-size: they
 * decode without allocation, their statistics pointing into the input.
 *
 * Decoders check that required fields are present and that counts and
 * enum values are in range; cross-structure consistency (offsets against
 * the file size, schema shape) is the reader's job.
 */
#ifndef LARDER_PARQUET_METADATA_H
#define LARDER_PARQUET_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/status.h"

/* parquet.thrift enums. */
enum {
    LR__PQ_T_BOOLEAN = 0,
    LR__PQ_T_INT32 = 1,
    LR__PQ_T_INT64 = 2,
    LR__PQ_T_INT96 = 3,
    LR__PQ_T_FLOAT = 4,
    LR__PQ_T_DOUBLE = 5,
    LR__PQ_T_BYTE_ARRAY = 6,
    LR__PQ_T_FIXED_LEN_BYTE_ARRAY = 7,
};

enum {
    LR__PQ_REP_REQUIRED = 0,
    LR__PQ_REP_OPTIONAL = 1,
    LR__PQ_REP_REPEATED = 2,
};

enum {
    LR__PQ_CT_UTF8 = 0,
    LR__PQ_CT_MAP = 1,
    LR__PQ_CT_MAP_KEY_VALUE = 2,
    LR__PQ_CT_LIST = 3,
    LR__PQ_CT_ENUM = 4,
    LR__PQ_CT_DECIMAL = 5,
    LR__PQ_CT_DATE = 6,
    LR__PQ_CT_TIME_MILLIS = 7,
    LR__PQ_CT_TIME_MICROS = 8,
    LR__PQ_CT_TIMESTAMP_MILLIS = 9,
    LR__PQ_CT_TIMESTAMP_MICROS = 10,
    LR__PQ_CT_UINT_8 = 11,
    LR__PQ_CT_UINT_16 = 12,
    LR__PQ_CT_UINT_32 = 13,
    LR__PQ_CT_UINT_64 = 14,
    LR__PQ_CT_INT_8 = 15,
    LR__PQ_CT_INT_16 = 16,
    LR__PQ_CT_INT_32 = 17,
    LR__PQ_CT_INT_64 = 18,
    LR__PQ_CT_JSON = 19,
    LR__PQ_CT_BSON = 20,
    LR__PQ_CT_INTERVAL = 21,
};

enum {
    LR__PQ_ENC_PLAIN = 0,
    LR__PQ_ENC_PLAIN_DICTIONARY = 2,
    LR__PQ_ENC_RLE = 3,
    LR__PQ_ENC_BIT_PACKED = 4,
    LR__PQ_ENC_DELTA_BINARY_PACKED = 5,
    LR__PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    LR__PQ_ENC_DELTA_BYTE_ARRAY = 7,
    LR__PQ_ENC_RLE_DICTIONARY = 8,
    LR__PQ_ENC_BYTE_STREAM_SPLIT = 9,
};
#define LR__PQ_ENC_MAX 9

enum {
    LR__PQ_PAGE_DATA = 0,
    LR__PQ_PAGE_INDEX = 1,
    LR__PQ_PAGE_DICTIONARY = 2,
    LR__PQ_PAGE_DATA_V2 = 3,
};

/* LogicalType union members (field ids). 0: absent. */
enum {
    LR__PQ_LT_NONE = 0,
    LR__PQ_LT_STRING = 1,
    LR__PQ_LT_MAP = 2,
    LR__PQ_LT_LIST = 3,
    LR__PQ_LT_ENUM = 4,
    LR__PQ_LT_DECIMAL = 5,
    LR__PQ_LT_DATE = 6,
    LR__PQ_LT_TIME = 7,
    LR__PQ_LT_TIMESTAMP = 8,
    LR__PQ_LT_INTEGER = 10,
    LR__PQ_LT_UNKNOWN = 11, /* the NULL type */
    LR__PQ_LT_JSON = 12,
    LR__PQ_LT_BSON = 13,
    LR__PQ_LT_UUID = 14,
    LR__PQ_LT_FLOAT16 = 15,
    LR__PQ_LT_OTHER = 255, /* a member this code does not know */
};

/* TimeUnit union members. */
enum {
    LR__PQ_UNIT_MILLIS = 1,
    LR__PQ_UNIT_MICROS = 2,
    LR__PQ_UNIT_NANOS = 3,
};

/* ColumnOrder union members. */
enum {
    LR__PQ_ORDER_UNKNOWN = 0,
    LR__PQ_ORDER_TYPE_DEFINED = 1,
    LR__PQ_ORDER_IEEE754_TOTAL = 2,
};

typedef struct lr__pq_logical_type {
    uint8_t kind;      /* LR__PQ_LT_* */
    uint8_t unit;      /* TIME/TIMESTAMP: LR__PQ_UNIT_* */
    bool utc;          /* TIME/TIMESTAMP: isAdjustedToUTC */
    bool is_signed;    /* INTEGER */
    int8_t bit_width;  /* INTEGER: 8, 16, 32, 64 */
    int32_t scale;     /* DECIMAL */
    int32_t precision; /* DECIMAL */
} lr__pq_logical_type;

typedef struct lr__pq_statistics {
    const uint8_t *max, *min; /* deprecated fields 1 and 2 (signed order) */
    uint32_t max_len, min_len;
    const uint8_t *max_value, *min_value; /* fields 5 and 6 */
    uint32_t max_value_len, min_value_len;
    int64_t null_count, distinct_count, nan_count;
    bool has_max, has_min, has_max_value, has_min_value;
    bool has_null_count, has_distinct_count, has_nan_count;
    bool has_is_max_value_exact, is_max_value_exact;
    bool has_is_min_value_exact, is_min_value_exact;
} lr__pq_statistics;

typedef struct lr__pq_kv {
    const char *key;
    const char *value; /* NULL when absent */
    uint32_t key_len, value_len;
} lr__pq_kv;

typedef struct lr__pq_schema_element {
    const char *name;
    int32_t type; /* LR__PQ_T_*, -1: absent (a group) */
    int32_t type_length;
    int32_t repetition;       /* LR__PQ_REP_*, -1: absent */
    int32_t num_children;     /* -1: absent */
    int32_t converted_type;   /* LR__PQ_CT_*, -1: absent */
    int32_t scale, precision; /* -1: absent */
    int32_t field_id;
    bool has_type_length, has_field_id;
    lr__pq_logical_type logical; /* kind LR__PQ_LT_NONE: absent */
} lr__pq_schema_element;

typedef struct lr__pq_column_meta {
    int32_t type;
    int32_t *encodings;
    uint32_t n_encodings;
    const char **path;
    uint32_t n_path;
    int32_t codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    lr__pq_kv *kv;
    uint32_t n_kv;
    int64_t data_page_offset;
    int64_t index_page_offset;
    int64_t dictionary_page_offset;
    int64_t bloom_filter_offset;
    int32_t bloom_filter_length;
    bool has_index_page_offset, has_dictionary_page_offset, has_statistics;
    bool has_bloom_filter_offset, has_bloom_filter_length;
    lr__pq_statistics statistics;
} lr__pq_column_meta;

typedef struct lr__pq_column_chunk {
    const char *file_path; /* NULL when absent */
    int64_t file_offset;
    bool has_meta_data;
    bool encrypted; /* crypto_metadata or encrypted_column_metadata present */
    lr__pq_column_meta meta_data;
    int64_t offset_index_offset, column_index_offset;
    int32_t offset_index_length, column_index_length;
    bool has_offset_index, has_column_index;
} lr__pq_column_chunk;

typedef struct lr__pq_sorting_column {
    int32_t column_idx;
    bool descending;
    bool nulls_first;
} lr__pq_sorting_column;

typedef struct lr__pq_row_group {
    lr__pq_column_chunk *columns;
    uint32_t n_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    lr__pq_sorting_column *sorting_columns;
    uint32_t n_sorting_columns;
    int64_t file_offset;
    int64_t total_compressed_size;
    int16_t ordinal;
    bool has_file_offset, has_total_compressed_size, has_ordinal;
} lr__pq_row_group;

typedef struct lr__pq_file_meta {
    int32_t version;
    lr__pq_schema_element *schema;
    uint32_t n_schema;
    int64_t num_rows;
    lr__pq_row_group *row_groups;
    uint32_t n_row_groups;
    lr__pq_kv *kv;
    uint32_t n_kv;
    const char *created_by; /* NULL when absent */
    uint8_t *column_orders; /* LR__PQ_ORDER_* per leaf; NULL when absent */
    uint32_t n_column_orders;
    bool encrypted; /* encryption_algorithm present */
} lr__pq_file_meta;

typedef struct lr__pq_data_page_header {
    int32_t num_values;
    int32_t encoding;
    int32_t definition_level_encoding;
    int32_t repetition_level_encoding;
    bool has_statistics;
    lr__pq_statistics statistics;
} lr__pq_data_page_header;

typedef struct lr__pq_dict_page_header {
    int32_t num_values;
    int32_t encoding;
    bool is_sorted;
    bool has_is_sorted;
} lr__pq_dict_page_header;

typedef struct lr__pq_data_page_header_v2 {
    int32_t num_values;
    int32_t num_nulls;
    int32_t num_rows;
    int32_t encoding;
    int32_t definition_levels_byte_length;
    int32_t repetition_levels_byte_length;
    bool is_compressed; /* default true */
    bool has_statistics;
    lr__pq_statistics statistics;
} lr__pq_data_page_header_v2;

typedef struct lr__pq_page_header {
    int32_t type; /* LR__PQ_PAGE_* */
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    int32_t crc;
    bool has_crc;
    bool has_data_page_header, has_dictionary_page_header, has_data_page_header_v2;
    lr__pq_data_page_header data_page_header;
    lr__pq_dict_page_header dictionary_page_header;
    lr__pq_data_page_header_v2 data_page_header_v2;
} lr__pq_page_header;

/*
 * Decodes a FileMetaData from p[0..n) into *out, allocating from `arena`
 * (whose cap bounds the memory a hostile footer can claim). Everything in
 * *out lives as long as the arena, statistics as long as p[0..n). Errors: LR_ECORRUPT (malformed,
 * missing required fields, bad enum values), LR_ELIMIT or LR_ENOMEM (arena), with the details in
 * err.
 */
lr_status lr__pq_file_meta_decode(const uint8_t *p, size_t n, lr_arena *arena,
                                  lr__pq_file_meta *out, lr_error *err);

/* Appends the compact encoding of a FileMetaData. Errors: LR_ELIMIT, LR_ENOMEM. */
lr_status lr__pq_file_meta_encode(const lr__pq_file_meta *m, lr_buf *out);

/*
 * Decodes one PageHeader at p[0..n) and sets *consumed to its length.
 * Statistics point into p. Errors: LR_ECORRUPT (malformed, missing required
 * fields, negative sizes, a page type without its header struct).
 */
lr_status lr__pq_page_header_decode(const uint8_t *p, size_t n, lr__pq_page_header *out,
                                    size_t *consumed, lr_error *err);

/* Appends the compact encoding of a PageHeader. Errors: LR_ELIMIT, LR_ENOMEM. */
lr_status lr__pq_page_header_encode(const lr__pq_page_header *h, lr_buf *out);

/* Names for display (parquet.thrift spelling); "UNKNOWN(n)"-free: unknown -> "UNKNOWN". */
const char *lr__pq_type_name(int32_t type);
const char *lr__pq_encoding_name(int32_t enc);
const char *lr__pq_converted_type_name(int32_t ct);
const char *lr__pq_page_type_name(int32_t t);
const char *lr__pq_repetition_name(int32_t r);

#endif
