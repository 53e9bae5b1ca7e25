/*
 * reader.c - opening a Parquet file: magic, footer, schema mapping and the
 * checks that make every later read safe; the reader's accessors.
 *
 * Footer memory is bounded twice: the footer may not be longer than the
 * file (nor LR_PQ_MAX_FOOTER), and the decoded metadata lives in an arena
 * capped at a fixed multiple of the footer's length, so a footer that
 * declares millions of empty structs fails with LR_ELIMIT instead of
 * exhausting memory. Every column chunk's metadata is checked against the
 * schema here; a chunk's byte range is checked against the data region
 * when a scan reads it, so that one bad chunk does not hide the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/internal.h"

/* Decoded metadata may take this many bytes per footer byte (plus a floor). */
#define META_BYTES_PER_FOOTER_BYTE 48
#define META_ARENA_FLOOR           ((size_t)1 << 20)

static lr_status check_chunks(lr_pq_reader *r, lr_error *err)
{
    const lr__pq_file_meta *m = &r->meta;
    int64_t total_rows = 0;

    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lr__pq_row_group *rg = &m->row_groups[g];
        if (rg->n_columns != r->n_leaves)
            return lr_error_set(err, LR_ECORRUPT,
                                "corrupt Parquet footer: row group %u has %u column chunks for %u "
                                "columns",
                                g, rg->n_columns, r->n_leaves);
        if (rg->num_rows > INT64_MAX - total_rows)
            return lr_error_set(err, LR_ECORRUPT, "corrupt Parquet footer: row count overflows");
        total_rows += rg->num_rows;
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const lr__pq_column_chunk *cc = &rg->columns[c];
            const lr__pq_column_meta *cm = &cc->meta_data;
            const lr__pq_leaf *leaf = &r->leaves[c];
            if (cc->encrypted)
                return lr_error_set(err, LR_EUNSUPPORTED,
                                    "column '%s' is encrypted, which Larder does not read",
                                    leaf->def.name);
            if (!cc->has_meta_data)
                return lr_error_set(err, LR_ECORRUPT,
                                    "corrupt Parquet footer: column '%s' in row group %u has no "
                                    "metadata",
                                    leaf->def.name, g);
            if (cc->file_path)
                return lr_error_set(err, LR_EUNSUPPORTED,
                                    "column '%s' is stored in another file (%s)", leaf->def.name,
                                    cc->file_path);
            if (cm->type != leaf->physical)
                return lr_error_set(err, LR_ECORRUPT,
                                    "corrupt Parquet footer: column '%s' is %s in the schema but "
                                    "%s in row group %u",
                                    leaf->def.name, lr__pq_type_name(leaf->physical),
                                    lr__pq_type_name(cm->type), g);
        }
    }
    return LR_OK;
}

static lr_status read_footer(lr_pq_reader *r, lr_error *err)
{
    uint8_t tail[8];
    uint8_t head[4];
    uint32_t flen;
    lr_status st;
    size_t cap;

    if (r->file_size < 12)
        return lr_error_set(err, LR_ECORRUPT, "not a Parquet file: %llu bytes",
                            (unsigned long long)r->file_size);
    if ((st = r->src.read_at(r->src.ctx, 0, 4, head, err)) != LR_OK)
        return st;
    if ((st = r->src.read_at(r->src.ctx, r->file_size - 8, 8, tail, err)) != LR_OK)
        return st;
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "Parquet file has an encrypted footer, which Larder does not read");
    if (memcmp(head, LR__PQ_MAGIC, 4) != 0 || memcmp(tail + 4, LR__PQ_MAGIC, 4) != 0)
        return lr_error_set(err, LR_ECORRUPT, "not a Parquet file: no PAR1 magic");
    flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
           (uint32_t)tail[3] << 24;
    if (flen == 0 || (uint64_t)flen > r->file_size - 12)
        return lr_error_set(err, LR_ECORRUPT,
                            "corrupt Parquet file: footer length %u does not fit in %llu bytes",
                            flen, (unsigned long long)r->file_size);
    if (flen > LR_PQ_MAX_FOOTER)
        return lr_error_set(err, LR_ELIMIT, "Parquet footer of %u bytes is over the limit of %u",
                            flen, (unsigned)LR_PQ_MAX_FOOTER);
    r->data_end = r->file_size - 8 - flen;
    if ((r->footer = malloc(flen)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory reading the Parquet footer");
    if ((st = r->src.read_at(r->src.ctx, r->data_end, flen, r->footer, err)) != LR_OK)
        return st;
    cap = (size_t)flen * META_BYTES_PER_FOOTER_BYTE + META_ARENA_FLOOR;
    if ((r->arena = lr_arena_new(0, cap)) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory reading the Parquet footer");
    st = lr__pq_file_meta_decode(r->footer, flen, r->arena, &r->meta, err);
    if (st != LR_OK)
        return st;
    if (r->meta.encrypted)
        return lr_error_set(err, LR_EUNSUPPORTED,
                            "Parquet file is encrypted, which Larder does not read");
    return LR_OK;
}

static lr_status open_common(lr_pq_reader *r, lr_error *err)
{
    lr_status st;
    if ((st = read_footer(r, err)) != LR_OK)
        return st;
    if ((st = lr__pq_schema_map(r, err)) != LR_OK)
        return st;
    if ((st = check_chunks(r, err)) != LR_OK)
        return st;
    r->n_kv = r->meta.n_kv;
    if ((r->kv = lr_arena_calloc(r->arena, r->n_kv ? r->n_kv : 1, sizeof *r->kv)) == NULL)
        return lr_error_set(err, LR_ELIMIT, "Parquet metadata too large for its file");
    for (uint32_t i = 0; i < r->n_kv; i++) {
        r->kv[i].key = r->meta.kv[i].key;
        r->kv[i].value = r->meta.kv[i].value;
    }
    return LR_OK;
}

static lr_pq_reader *reader_new(void)
{
    lr_pq_reader *r = calloc(1, sizeof *r);
    if (r)
        r->owned_fd = -1;
    return r;
}

lr_status lr_pq_reader_open(const lr_pq_source *src, lr_pq_reader **out, lr_error *err)
{
    lr_pq_reader *r;
    lr_status st;

    *out = NULL;
    if (src == NULL || src->read_at == NULL)
        return lr_error_set(err, LR_EINVAL, "Parquet reader needs a source");
    if ((r = reader_new()) == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory opening a Parquet file");
    r->src = *src;
    r->file_size = src->size;
    if ((st = open_common(r, err)) != LR_OK) {
        lr_pq_reader_free(r);
        return st;
    }
    *out = r;
    return LR_OK;
}

lr_status lr_pq_reader_open_file(const char *path, lr_pq_reader **out, lr_error *err)
{
    lr_pq_reader *r = NULL;
    lr_status st;
    int fd;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lr_error_set(err, LR_EIO, "cannot open %s: %s", path, strerror(errno));
    if ((r = reader_new()) == NULL) {
        close(fd);
        return lr_error_set(err, LR_ENOMEM, "out of memory opening %s", path);
    }
    r->owned_fd = fd;
    if ((st = lr_pq_source_fd(fd, &r->src, err)) != LR_OK)
        goto fail;
    r->file_size = r->src.size;
    if ((st = open_common(r, err)) != LR_OK)
        goto fail;
    *out = r;
    return LR_OK;
fail:
    lr_error_prefix(err, "%s", path);
    lr_pq_reader_free(r);
    return st;
}

void lr_pq_reader_free(lr_pq_reader *r)
{
    if (r == NULL)
        return;
    if (r->owned_fd >= 0)
        close(r->owned_fd);
    lr_arena_free(r->arena);
    free(r->footer);
    free(r);
}

uint32_t lr_pq_reader_num_columns(const lr_pq_reader *r)
{
    return r->n_leaves;
}

const lr_pq_column_def *lr_pq_reader_column(const lr_pq_reader *r, uint32_t col)
{
    if (col >= r->n_leaves)
        return NULL;
    return &r->leaves[col].def;
}

int32_t lr_pq_reader_find_column(const lr_pq_reader *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_leaves; i++) {
        if (strcmp(r->leaves[i].def.name, name) == 0)
            return (int32_t)i;
    }
    return -1;
}

int64_t lr_pq_reader_num_rows(const lr_pq_reader *r)
{
    return r->meta.num_rows;
}

uint32_t lr_pq_reader_num_row_groups(const lr_pq_reader *r)
{
    return r->meta.n_row_groups;
}

int64_t lr_pq_reader_row_group_rows(const lr_pq_reader *r, uint32_t rg)
{
    if (rg >= r->meta.n_row_groups)
        return 0;
    return r->meta.row_groups[rg].num_rows;
}

const char *lr_pq_reader_created_by(const lr_pq_reader *r)
{
    return r->meta.created_by;
}

const lr_pq_kv *lr_pq_reader_kv(const lr_pq_reader *r, uint32_t *n)
{
    *n = r->n_kv;
    return r->kv;
}

lr_status lr_pq_reader_chunk_info(const lr_pq_reader *r, uint32_t rg, uint32_t col,
                                  lr_pq_chunk_info *out)
{
    const lr__pq_column_meta *cm;
    if (r == NULL || rg >= r->meta.n_row_groups || col >= r->n_leaves)
        return LR_EINVAL;
    cm = &r->meta.row_groups[rg].columns[col].meta_data;
    memset(out, 0, sizeof *out);
    out->codec = (lr_pq_codec)cm->codec;
    out->num_values = cm->num_values;
    out->total_compressed_size = cm->total_compressed_size;
    out->total_uncompressed_size = cm->total_uncompressed_size;
    out->data_page_offset = cm->data_page_offset;
    out->dictionary_page_offset = cm->has_dictionary_page_offset ? cm->dictionary_page_offset : -1;
    for (uint32_t i = 0; i < cm->n_encodings; i++) {
        if (cm->encodings[i] >= 0 && cm->encodings[i] < 32)
            out->encodings |= 1u << cm->encodings[i];
    }
    lr__pq_stats_decode(r, &r->leaves[col], cm, &out->stats);
    return LR_OK;
}
