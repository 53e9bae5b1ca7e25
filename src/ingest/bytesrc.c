/*
 * bytesrc.c - plain, gzip and zstd byte streams (see bytesrc.h).
 *
 * gzip goes through zlib's inflate with automatic header detection
 * (windowBits 15+32), restarted after each member so that concatenated
 * members (as `cat a.gz b.gz` makes) read as one stream. zstd goes through
 * ZSTD_decompressStream, which handles concatenated frames itself.
 */
#include "bytesrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CHUNK (256 * 1024)

typedef enum codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD } codec;

struct lr__bytesrc {
    int fd;
    bool own_fd;
    codec codec;
    uint64_t consumed;
    uint64_t size;
    char *in;       /* compressed input buffer */
    size_t in_len;  /* bytes in `in` */
    size_t in_pos;  /* bytes of `in` used */
    bool in_eof;
    z_stream z;
    bool z_init;
    bool z_member_done;
    ZSTD_DStream *zs;
    bool zs_mid_frame; /* the last call ended inside a frame */
    char path[256];
};

static lr_status fill(lr__bytesrc *s, lr_error *err)
{
    if (s->in_pos < s->in_len || s->in_eof)
        return LR_OK;
    ssize_t r;
    do {
        r = read(s->fd, s->in, IN_CHUNK);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return lr_error_set(err, LR_EIO, "reading %s: %s", s->path, strerror(errno));
    s->in_len = (size_t)r;
    s->in_pos = 0;
    s->consumed += (uint64_t)r;
    if (r == 0)
        s->in_eof = true;
    return LR_OK;
}

lr_status lr__bytesrc_open(const char *path, lr__bytesrc **out, lr_error *err)
{
    lr__bytesrc *s = calloc(1, sizeof *s);
    lr_status st;
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    s->in = malloc(IN_CHUNK);
    if (s->in == NULL) {
        free(s);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    if (strcmp(path, "-") == 0) {
        s->fd = 0;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            st = lr_error_set(err, LR_EIO, "cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
        s->own_fd = true;
        struct stat sb;
        if (fstat(s->fd, &sb) == 0 && S_ISREG(sb.st_mode))
            s->size = (uint64_t)sb.st_size;
        else if (fstat(s->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            st = lr_error_set(err, LR_EIO, "%s is a directory", path);
            goto fail;
        }
    }
    if ((st = fill(s, err)) != LR_OK)
        goto fail;
    /* Sniff: gzip 1f 8b; zstd 28 b5 2f fd. A short first read of a pipe is
     * fine: both magics are read whole in any real first chunk. */
    const unsigned char *m = (const unsigned char *)s->in;
    if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        s->codec = CODEC_GZIP;
        if (inflateInit2(&s->z, 15 + 32) != Z_OK) {
            st = lr_error_set(err, LR_ENOMEM, "cannot start gzip decompression");
            goto fail;
        }
        s->z_init = true;
    } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        s->codec = CODEC_ZSTD;
        s->zs = ZSTD_createDStream();
        if (s->zs == NULL || ZSTD_isError(ZSTD_initDStream(s->zs))) {
            st = lr_error_set(err, LR_ENOMEM, "cannot start zstd decompression");
            goto fail;
        }
    }
    *out = s;
    return LR_OK;
fail:
    lr__bytesrc_close(s);
    return st;
}

static lr_status read_gzip(lr__bytesrc *s, char *buf, size_t cap, size_t *n, lr_error *err)
{
    lr_status st;
    *n = 0;
    while (*n == 0) {
        if ((st = fill(s, err)) != LR_OK)
            return st;
        if (s->in_pos == s->in_len && s->in_eof) {
            if (!s->z_member_done && s->z.total_in > 0)
                return lr_error_set(err, LR_ECORRUPT, "%s: truncated gzip data", s->path);
            return LR_OK;
        }
        if (s->z_member_done) {
            /* Another member follows: start over (trailing zero padding is tolerated). */
            if ((unsigned char)s->in[s->in_pos] == 0) {
                s->in_pos++;
                continue;
            }
            inflateReset(&s->z);
            s->z_member_done = false;
        }
        s->z.next_in = (Bytef *)s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        s->z.next_out = (Bytef *)buf;
        s->z.avail_out = (uInt)cap;
        int zr = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = s->in_len - s->z.avail_in;
        *n = cap - s->z.avail_out;
        if (zr == Z_STREAM_END) {
            s->z_member_done = true;
        } else if (zr == Z_BUF_ERROR) {
            /* No progress possible with this input: need more. */
            if (s->in_eof && s->in_pos == s->in_len && *n == 0)
                return lr_error_set(err, LR_ECORRUPT, "%s: truncated gzip data", s->path);
        } else if (zr != Z_OK) {
            return lr_error_set(err, LR_ECORRUPT, "%s: corrupt gzip data (%s)", s->path,
                                s->z.msg ? s->z.msg : "inflate failed");
        }
    }
    return LR_OK;
}

static lr_status read_zstd(lr__bytesrc *s, char *buf, size_t cap, size_t *n, lr_error *err)
{
    lr_status st;
    *n = 0;
    while (*n == 0) {
        if ((st = fill(s, err)) != LR_OK)
            return st;
        if (s->in_pos == s->in_len && s->in_eof) {
            if (s->zs_mid_frame)
                return lr_error_set(err, LR_ECORRUPT, "%s: truncated zstd data", s->path);
            return LR_OK;
        }
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer o = {buf, cap, 0};
        size_t r = ZSTD_decompressStream(s->zs, &o, &in);
        if (ZSTD_isError(r))
            return lr_error_set(err, LR_ECORRUPT, "%s: corrupt zstd data (%s)", s->path,
                                ZSTD_getErrorName(r));
        s->in_pos = in.pos;
        *n = o.pos;
        s->zs_mid_frame = r != 0;
    }
    return LR_OK;
}

lr_status lr__bytesrc_read(lr__bytesrc *s, char *buf, size_t cap, size_t *n, lr_error *err)
{
    lr_status st;
    if (s->codec == CODEC_GZIP)
        return read_gzip(s, buf, cap, n, err);
    if (s->codec == CODEC_ZSTD)
        return read_zstd(s, buf, cap, n, err);
    *n = 0;
    if ((st = fill(s, err)) != LR_OK)
        return st;
    size_t avail = s->in_len - s->in_pos;
    size_t m = avail < cap ? avail : cap;
    memcpy(buf, s->in + s->in_pos, m);
    s->in_pos += m;
    *n = m;
    return LR_OK;
}

uint64_t lr__bytesrc_consumed(const lr__bytesrc *s)
{
    return s->consumed - (s->in_len - s->in_pos);
}

uint64_t lr__bytesrc_size(const lr__bytesrc *s)
{
    return s->size;
}

const char *lr__bytesrc_codec(const lr__bytesrc *s)
{
    return s->codec == CODEC_GZIP ? "gzip" : s->codec == CODEC_ZSTD ? "zstd" : "none";
}

void lr__bytesrc_close(lr__bytesrc *s)
{
    if (s == NULL)
        return;
    if (s->z_init)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    if (s->own_fd)
        close(s->fd);
    free(s->in);
    free(s);
}
