/*
 * internal.h - what the Parquet writer and reader files share (internal):
 * the reader's state, the schema mapping between Parquet's schema tree and
 * Larder's flat columns, and the statistics rules.
 *
 * Layering inside src/parquet: thrift <- metadata <- schema, stats <-
 * writer, reader <- scan; codec and encoding (byte-level) are used by the
 * writer and the scan only.
 */
#ifndef LARDER_PARQUET_INTERNAL_H
#define LARDER_PARQUET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/parquet.h"
#include "larder/status.h"
#include "parquet/metadata.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Larder's Parquet code assumes a little-endian host"
#endif

#define LR__PQ_MAGIC "PAR1"

/* Deepest schema tree the reader accepts. */
#define LR__PQ_MAX_SCHEMA_DEPTH 64

/* Bytes of a statistics bound the writer keeps before truncating. */
#define LR__PQ_STATS_TRUNCATE 64

/*
 * Work bound on hostile pages: a page may declare at most this many values
 * per byte it occupies in the file (header included). RLE runs let real
 * files reach a few thousand; this is far above that and still stops a small
 * file from declaring billions of values per page.
 */
#define LR__PQ_MAX_VALUES_PER_BYTE (1u << 20)

/* How a leaf column sits in the schema tree, for level decoding. */
typedef struct lr__pq_leaf {
    lr_pq_column_def def;  /* public view; def.name lives in the reader's arena */
    uint32_t schema_index; /* of the leaf element */
    int32_t physical;      /* LR__PQ_T_* */
    int32_t type_length;
    uint16_t max_def;
    uint16_t max_rep;
    uint16_t rep_def;     /* def level of the (outer) repeated node (max_rep >= 1) */
    uint16_t rep_def2;    /* def level of the inner repeated node (max_rep == 2) */
    bool supported;       /* false: max_rep > 1, or a type Larder cannot read */
    bool legacy_stats_ok; /* deprecated min/max follow this column's order */
    bool stats_ok;        /* min_value/max_value may be used */
    bool unsigned_order;  /* INT(bits, unsigned): compare as unsigned */
    const char *why_unsupported;
} lr__pq_leaf;

struct lr_pq_reader {
    lr_pq_source src;
    int owned_fd; /* -1 unless opened by lr_pq_reader_open_file */
    uint64_t file_size;
    uint64_t data_end; /* first byte of the footer */
    uint8_t *footer;   /* raw FileMetaData bytes (statistics point here) */
    lr_arena *arena;   /* decoded metadata */
    lr__pq_file_meta meta;
    lr__pq_leaf *leaves;
    uint32_t n_leaves;
    lr_pq_kv *kv;
    uint32_t n_kv;
};

/*
 * Maps a decoded schema onto leaf columns (reader). Fills r->leaves and
 * r->n_leaves from r->meta, allocating from r->arena. Errors: LR_ECORRUPT
 * (a malformed tree: bad child counts, a leaf without a type, too deep),
 * LR_ELIMIT (more than LR_PQ_MAX_COLUMNS leaves), LR_ENOMEM.
 */
lr_status lr__pq_schema_map(lr_pq_reader *r, lr_error *err);

/*
 * Builds the schema elements of a writer's columns: the root, then per
 * column one leaf or the three LIST elements. *out is allocated from `arena`.
 * Errors: LR_EINVAL (a type/annotation pair the writer does not write),
 * LR_ENOMEM.
 */
lr_status lr__pq_schema_build(const lr_pq_column_def *cols, uint32_t n, lr_arena *arena,
                              lr__pq_schema_element **out, uint32_t *n_out, lr_error *err);

/* Decodes a chunk's statistics for the public API (see lr_pq_stats). */
void lr__pq_stats_decode(const lr_pq_reader *r, const lr__pq_leaf *leaf,
                         const lr__pq_column_meta *cm, lr_pq_stats *out);

/* Compares two values of a leaf's type by its sort order: <0, 0, >0. */
int lr__pq_scalar_cmp(const lr__pq_leaf *leaf, const lr_pq_scalar *a, const lr_pq_scalar *b);

#endif
