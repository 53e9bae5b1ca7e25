/*
 * io.c - the file and memory sinks and sources of the Parquet API, writer
 * option defaults, and the names of types, codecs and encodings.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "larder/parquet.h"
#include "parquet/codec.h"
#include "parquet/internal.h"
#include "parquet/metadata.h"

static lr_status buf_write(void *ctx, const void *data, size_t len, lr_error *err)
{
    lr_status st = lr_buf_append(ctx, data, len);
    if (st != LR_OK)
        return lr_error_set(err, st, "writing Parquet to memory: %s", lr_strerror(st));
    return LR_OK;
}

lr_pq_sink lr_pq_sink_buf(lr_buf *buf)
{
    lr_pq_sink s;
    s.write = buf_write;
    s.ctx = buf;
    return s;
}

static lr_status fd_write(void *ctx, const void *data, size_t len, lr_error *err)
{
    int fd = (int)(intptr_t)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lr_error_set(err, LR_EIO, "writing Parquet file: %s", strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return LR_OK;
}

lr_pq_sink lr_pq_sink_fd(int fd)
{
    lr_pq_sink s;
    s.write = fd_write;
    s.ctx = (void *)(intptr_t)fd;
    return s;
}

static lr_status mem_read_at(void *ctx, uint64_t offset, size_t len, void *dst, lr_error *err)
{
    (void)err;
    if (len)
        memcpy(dst, (const uint8_t *)ctx + offset, len);
    return LR_OK;
}

lr_pq_source lr_pq_source_mem(const void *data, size_t len)
{
    lr_pq_source s;
    s.read_at = mem_read_at;
    s.size = len;
    s.ctx = (void *)(uintptr_t)data;
    return s;
}

static lr_status fd_read_at(void *ctx, uint64_t offset, size_t len, void *dst, lr_error *err)
{
    int fd = (int)(intptr_t)ctx;
    uint8_t *p = dst;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lr_error_set(err, LR_EIO, "reading Parquet file: %s", strerror(errno));
        }
        if (n == 0)
            return lr_error_set(err, LR_EIO, "reading Parquet file: unexpected end of file");
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return LR_OK;
}

lr_status lr_pq_source_fd(int fd, lr_pq_source *out, lr_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return lr_error_set(err, LR_EIO, "stat of Parquet file: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return lr_error_set(err, LR_EIO, "Parquet input is not a regular file");
    out->read_at = fd_read_at;
    out->size = (uint64_t)sb.st_size;
    out->ctx = (void *)(intptr_t)fd;
    return LR_OK;
}

void lr_pq_write_options_init(lr_pq_write_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->codec = LR_PQ_SNAPPY;
    opt->level = 0;
    opt->row_group_bytes = (uint64_t)128 << 20;
    opt->row_group_rows = 0;
    opt->page_bytes = 1u << 20;
    opt->page_rows = 0;
    opt->dictionary = true;
    opt->dictionary_bytes = 1u << 20;
}

const char *lr_pq_type_name(lr_pq_type t)
{
    return lr__pq_type_name((int32_t)t);
}

const char *lr_pq_codec_name(lr_pq_codec c)
{
    return lr__pq_codec_name((int)c);
}

const char *lr_pq_encoding_name(int encoding)
{
    return lr__pq_encoding_name(encoding);
}

const char *lr_pq_logical_name(lr_pq_logical l)
{
    switch (l) {
    case LR_PQ_LOGICAL_NONE:
        return "NONE";
    case LR_PQ_LOGICAL_STRING:
        return "STRING";
    case LR_PQ_LOGICAL_TIMESTAMP:
        return "TIMESTAMP";
    case LR_PQ_LOGICAL_DATE:
        return "DATE";
    case LR_PQ_LOGICAL_DECIMAL:
        return "DECIMAL";
    case LR_PQ_LOGICAL_INT:
        return "INT";
    case LR_PQ_LOGICAL_TIME:
        return "TIME";
    case LR_PQ_LOGICAL_JSON:
        return "JSON";
    case LR_PQ_LOGICAL_ENUM:
        return "ENUM";
    case LR_PQ_LOGICAL_UUID:
        return "UUID";
    case LR_PQ_LOGICAL_FLOAT16:
        return "FLOAT16";
    }
    return "UNKNOWN";
}

const char *lr_pq_time_unit_name(lr_pq_time_unit u)
{
    switch (u) {
    case LR_PQ_MILLIS:
        return "MILLIS";
    case LR_PQ_MICROS:
        return "MICROS";
    case LR_PQ_NANOS:
        return "NANOS";
    }
    return "UNKNOWN";
}

lr_status lr_pq_codec_parse(const char *name, lr_pq_codec *out, lr_error *err)
{
    int c;
    lr_status st = lr__pq_codec_parse(name, &c, err);
    if (st != LR_OK)
        return st;
    *out = (lr_pq_codec)c;
    return LR_OK;
}
