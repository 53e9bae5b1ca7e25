/*
 * csv.c - the CSV tokenizer of csv.h: a small state machine over a
 * decompressed buffer (bytesrc.h), with a fast path that copies runs of
 * ordinary bytes at once. A field's content is unescaped into the record
 * buffer; the raw bytes of the record are kept too, for rejects files and
 * messages. Line numbers count physical lines, so a quoted field with
 * newlines moves the count on as an editor would show it.
 */
#include "larder/csv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytesrc.h"
#include "larder/buf.h"
#include "larder/ingest.h"

#define READ_CHUNK (1024 * 1024)
#define FIELDS_MAX_DEFAULT 4096

struct lr_csv_reader {
    lr__bytesrc *src;  /* NULL over memory (lr_csv_open_mem) */
    char *buf; /* decompressed bytes, or the caller's memory */
    bool mem;  /* buf is the caller's */
    size_t pos, len;
    bool src_eof;
    uint64_t line;     /* current physical line, from 1 */
    uint64_t rec_line; /* where the current record starts */
    lr_buf row;        /* unescaped fields of the current record */
    lr_buf raw;        /* raw text of the current record */
    const char *raw_ptr; /* ... or, for a record read in place, where it is */
    size_t raw_len;
    size_t *starts;    /* per field: offset of its content in row */
    size_t *lens;
    bool *quoted;
    lr_csv_field *fields;
    size_t n_fields;
    size_t field_start;
    bool truncated;
    lr_csv_options opt;
};

void lr_csv_options_init(lr_csv_options *opt)
{
    opt->record_max = LR_INGEST_ROW_MAX;
    opt->fields_max = FIELDS_MAX_DEFAULT;
}

static lr_status refill(lr_csv_reader *r, lr_error *err)
{
    size_t n;
    lr_status st = lr__bytesrc_read(r->src, r->buf, READ_CHUNK, &n, err);
    if (st != LR_OK)
        return st;
    r->pos = 0;
    r->len = n;
    if (n == 0)
        r->src_eof = true;
    return LR_OK;
}

/* A reader with its options and arrays, reading nothing yet. */
static lr_status reader_new(const lr_csv_options *opt, lr_csv_reader **out, lr_error *err)
{
    lr_csv_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    if (opt != NULL)
        r->opt = *opt;
    else
        lr_csv_options_init(&r->opt);
    if (r->opt.record_max == 0)
        r->opt.record_max = LR_INGEST_ROW_MAX;
    if (r->opt.fields_max == 0)
        r->opt.fields_max = FIELDS_MAX_DEFAULT;
    r->line = 1;
    lr_buf_init(&r->row, r->opt.record_max + 1);
    lr_buf_init(&r->raw, r->opt.record_max + 1);
    r->starts = calloc(r->opt.fields_max, sizeof *r->starts);
    r->lens = calloc(r->opt.fields_max, sizeof *r->lens);
    r->quoted = calloc(r->opt.fields_max, sizeof *r->quoted);
    r->fields = calloc(r->opt.fields_max, sizeof *r->fields);
    if (r->starts == NULL || r->lens == NULL || r->quoted == NULL || r->fields == NULL) {
        lr_csv_close(r);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    *out = r;
    return LR_OK;
}

lr_status lr_csv_open_mem(const char *data, size_t len, uint64_t first_line,
                          const lr_csv_options *opt, lr_csv_reader **out, lr_error *err)
{
    lr_status st = reader_new(opt, out, err);
    if (st == LR_OK)
        lr_csv_reset_mem(*out, data, len, first_line);
    return st;
}

void lr_csv_reset_mem(lr_csv_reader *r, const char *data, size_t len, uint64_t first_line)
{
    if (!r->mem)
        free(r->buf);
    r->mem = true;
    r->buf = (char *)data;
    r->pos = 0;
    r->len = len;
    r->src_eof = true;
    r->line = first_line;
    /* A byte-order mark is skipped only at the start of a file. */
    if (first_line == 1 && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

size_t lr_csv_offset(const lr_csv_reader *r)
{
    return r->pos;
}

uint64_t lr_csv_line(const lr_csv_reader *r)
{
    return r->line;
}

lr_status lr_csv_open(const char *path, const lr_csv_options *opt, lr_csv_reader **out,
                      lr_error *err)
{
    lr_csv_reader *r;
    lr_status st;

    *out = NULL;
    if ((st = reader_new(opt, &r, err)) != LR_OK)
        return st;
    r->buf = malloc(READ_CHUNK);
    if (r->buf == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    if ((st = lr__bytesrc_open(path, &r->src, err)) != LR_OK)
        goto fail;
    if ((st = refill(r, err)) != LR_OK)
        goto fail;
    /* A UTF-8 byte-order mark before the first record is skipped. */
    if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    *out = r;
    return LR_OK;
fail:
    lr_csv_close(r);
    return st;
}

void lr_csv_close(lr_csv_reader *r)
{
    if (r == NULL)
        return;
    lr__bytesrc_close(r->src);
    lr_buf_free(&r->row);
    lr_buf_free(&r->raw);
    if (!r->mem)
        free(r->buf);
    free(r->starts);
    free(r->lens);
    free(r->quoted);
    free(r->fields);
    free(r);
}

/* Ends the current field; `quoted` tells "" from an absent value. */
static void field_end(lr_csv_reader *r, bool quoted)
{
    if (r->n_fields >= r->opt.fields_max) {
        r->truncated = true;
        return;
    }
    r->starts[r->n_fields] = r->field_start;
    r->lens[r->n_fields] = r->row.len - r->field_start;
    r->quoted[r->n_fields] = quoted;
    r->n_fields++;
    r->field_start = r->row.len;
}

/* Points the public fields into the (final) record buffer. */
static void publish(lr_csv_reader *r, lr_csv_record *rec)
{
    const char *base = r->row.data ? r->row.data : "";
    for (size_t i = 0; i < r->n_fields; i++) {
        r->fields[i].ptr = base + r->starts[i];
        r->fields[i].len = r->lens[i];
        r->fields[i].quoted = r->quoted[i];
    }
    rec->fields = r->fields;
    rec->n_fields = r->n_fields;
    rec->truncated = r->truncated;
    rec->line = r->rec_line;
}

static lr_status too_long(lr_csv_reader *r, lr_error *err)
{
    return lr_error_set(err, LR_ELIMIT, "line %" PRIu64 ": row longer than %zu bytes",
                        r->rec_line, r->opt.record_max);
}

/* High bit set in each byte of v that is zero, exactly (no false positives). */
static inline uint64_t zero_bytes(uint64_t v)
{
    const uint64_t m = 0x7F7F7F7F7F7F7F7FULL;
    return ~(((v & m) + m) | v | m);
}

/* The first byte in [q, end) that is ',', LF, CR or '"', or NULL; 8 bytes at a time. */
static inline const char *next_special(const char *q, const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL;
    while (end - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        uint64_t m = zero_bytes(x ^ (ones * ',')) | zero_bytes(x ^ (ones * '\n')) |
                     zero_bytes(x ^ (ones * '\r')) | zero_bytes(x ^ (ones * '"'));
        if (m)
            return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
    for (; q < end; q++) {
        if (*q == ',' || *q == '\n' || *q == '\r' || *q == '"')
            return q;
    }
    return NULL;
}

/* Field [f, e) of a record read in place; past fields_max: dropped, the record truncated. */
static inline void push_field(lr_csv_reader *r, size_t *nf, const char *f, const char *e,
                              bool *truncated)
{
    if (*nf < r->opt.fields_max) {
        r->fields[*nf].ptr = f;
        r->fields[*nf].len = (size_t)(e - f);
        r->fields[*nf].quoted = false;
        (*nf)++;
    } else {
        *truncated = true;
    }
}

/*
 * The common record, read in place: it ends with a LF (or CRLF) inside the
 * buffer and holds no quote and no other CR. Its fields then point into the
 * buffer, with nothing copied. Returns false (nothing consumed) for any
 * other record, which the state machine reads.
 */
static bool next_in_place(lr_csv_reader *r, lr_csv_record *rec)
{
    for (;;) {
        const char *p = r->buf + r->pos, *end = r->buf + r->len, *f = p, *q = p;
        size_t nf = 0;
        bool truncated = false;
        for (;;) {
            const char *h = next_special(q, end);
            if (h == NULL || (size_t)(h - p) > r->opt.record_max || *h == '"')
                return false;
            const char *body_end = h, *next = h + 1;
            if (*h == '\r') {
                if (h + 1 >= end || h[1] != '\n')
                    return false; /* a lone CR, or a CR at the buffer's end */
                next = h + 2;
            } else if (*h == ',') {
                push_field(r, &nf, f, h, &truncated);
                f = q = h + 1;
                continue;
            }
            /* The record's end. */
            r->pos = (size_t)(next - r->buf);
            if (body_end == p) { /* a blank line */
                r->line++;
                break;
            }
            push_field(r, &nf, f, body_end, &truncated);
            rec->fields = r->fields;
            rec->n_fields = nf;
            rec->truncated = truncated;
            rec->line = r->line;
            r->rec_line = r->line;
            r->line++;
            r->raw_ptr = p;
            r->raw_len = (size_t)(body_end - p);
            return true;
        }
    }
}

lr_status lr_csv_next(lr_csv_reader *r, lr_csv_record *rec, bool *eof, lr_error *err)
{
    enum { START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } state = START;
    bool quoted = false, any = false, bad = false;
    char bad_msg[128] = "";
    lr_status st;

    memset(rec, 0, sizeof *rec);
    *eof = false;
    r->raw_ptr = NULL;
    if (next_in_place(r, rec))
        return LR_OK;
    lr_buf_clear(&r->row);
    lr_buf_clear(&r->raw);
    r->n_fields = 0;
    r->field_start = 0;
    r->truncated = false;
    r->rec_line = r->line;
    *eof = false;
    memset(rec, 0, sizeof *rec);
    rec->line = r->rec_line; /* also when an error ends the call early */

    for (;;) {
        if (r->pos == r->len) {
            if (r->src_eof)
                break;
            if ((st = refill(r, err)) != LR_OK)
                return st;
            if (r->len == 0)
                break;
        }
        char *p = r->buf + r->pos;
        char *end = r->buf + r->len;

        /* Fast path: a run of ordinary bytes in an unquoted or quoted field. */
        if (state == UNQUOTED || state == QUOTED || state == START) {
            char *q = p;
            if (state == QUOTED) {
                while (q < end && *q != '"' && *q != '\n')
                    q++;
            } else {
                while (q < end && *q != ',' && *q != '\n' && *q != '\r' && *q != '"')
                    q++;
            }
            if (q > p) {
                size_t n = (size_t)(q - p);
                if (r->raw.len + n > r->opt.record_max)
                    return too_long(r, err);
                if (lr_buf_append(&r->row, p, n) != LR_OK || lr_buf_append(&r->raw, p, n) != LR_OK)
                    return lr_error_set(err, LR_ENOMEM, "out of memory");
                r->pos += n;
                any = true;
                if (state == START)
                    state = UNQUOTED;
                continue;
            }
        }
        char c = *p;
        r->pos++;
        /* The raw text (never shorter than the unescaped fields) bounds the record. */
        if (r->raw.len >= r->opt.record_max)
            return too_long(r, err);
        /* The raw text keeps everything but the record's own line end. */
        if ((c != '\r' && c != '\n') || state == QUOTED) {
            if (lr_buf_append_byte(&r->raw, (uint8_t)c) != LR_OK)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
        }
        if (c == '\n')
            r->line++;
        switch (state) {
        case START:
        case UNQUOTED:
            if (c == ',') {
                field_end(r, quoted);
                quoted = false;
                state = START;
                any = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r') {
                    /* CRLF or a lone CR: either ends the record; swallow the LF. */
                    if (r->pos == r->len && !r->src_eof && (st = refill(r, err)) != LR_OK)
                        return st;
                    if (r->pos < r->len && r->buf[r->pos] == '\n')
                        r->pos++;
                    r->line++;
                }
                if (!any && r->n_fields == 0) {
                    /* A blank line: skip it. */
                    r->rec_line = rec->line = r->line;
                    lr_buf_clear(&r->raw);
                    continue;
                }
                goto record_end;
            } else if (c == '"') {
                if (state == START) {
                    state = QUOTED;
                    quoted = true;
                    any = true;
                } else if (!bad) {
                    bad = true;
                    snprintf(bad_msg, sizeof bad_msg,
                             "a quote inside an unquoted field (field %zu)", r->n_fields + 1);
                }
            }
            break;
        case QUOTED:
            if (c == '"') {
                state = QUOTE_IN_QUOTED;
            } else {
                if (lr_buf_append_byte(&r->row, (uint8_t)c) != LR_OK)
                    return lr_error_set(err, LR_ENOMEM, "out of memory");
            }
            break;
        case QUOTE_IN_QUOTED:
            if (c == '"') {
                if (lr_buf_append_byte(&r->row, '"') != LR_OK)
                    return lr_error_set(err, LR_ENOMEM, "out of memory");
                state = QUOTED;
            } else if (c == ',') {
                field_end(r, quoted);
                quoted = false;
                state = START;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r') {
                    if (r->pos == r->len && !r->src_eof && (st = refill(r, err)) != LR_OK)
                        return st;
                    if (r->pos < r->len && r->buf[r->pos] == '\n')
                        r->pos++;
                    r->line++;
                }
                goto record_end;
            } else {
                if (!bad) {
                    bad = true;
                    snprintf(bad_msg, sizeof bad_msg,
                             "unexpected character after a closing quote (field %zu)",
                             r->n_fields + 1);
                }
                /* The rest of the field is junk up to the next comma or line end. */
                state = UNQUOTED;
            }
            break;
        }
    }
    /* End of input. */
    if (!any && r->n_fields == 0) {
        *eof = true;
        return LR_OK;
    }
    if (state == QUOTED) {
        field_end(r, quoted);
        publish(r, rec);
        return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": unterminated quoted field",
                            r->rec_line);
    }
record_end:
    field_end(r, quoted);
    publish(r, rec);
    if (bad)
        return lr_error_set(err, LR_EINVAL, "line %" PRIu64 ": %s", r->rec_line, bad_msg);
    return LR_OK;
}

const char *lr_csv_raw(const lr_csv_reader *r, size_t *len)
{
    if (r->raw_ptr != NULL) {
        *len = r->raw_len;
        return r->raw_ptr;
    }
    *len = r->raw.len;
    return r->raw.data ? r->raw.data : "";
}

uint64_t lr_csv_consumed(const lr_csv_reader *r)
{
    return r->src ? lr__bytesrc_consumed(r->src) : r->pos;
}

uint64_t lr_csv_size(const lr_csv_reader *r)
{
    return r->src ? lr__bytesrc_size(r->src) : r->len;
}

/*
 * Where a block of CSV can be cut so that both sides hold whole records:
 * after the last line end (LF, or a CR not followed by LF) that is outside
 * quotes. Quotes toggle "inside" ("" toggles twice), so the state at any
 * point is the parity of the quotes before it, counted from a record start.
 */
size_t lr_csv_split_point(const char *p, size_t len, bool at_eof, uint64_t *lines)
{
    size_t cut = 0;
    uint64_t nl = 0, nl_at_cut = 0;

    if (memchr(p, '"', len) == NULL) {
        /* No quotes: the last line end, found from the back. */
        size_t i = len;
        while (i > 0) {
            char c = p[i - 1];
            if (c == '\n' || (c == '\r' && (i < len || at_eof))) {
                cut = i;
                break;
            }
            i--;
        }
        for (const char *q = p, *e = p + cut; q < e;) {
            const char *x = memchr(q, '\n', (size_t)(e - q));
            if (x == NULL)
                break;
            nl++;
            q = x + 1;
        }
        if (memchr(p, '\r', cut) != NULL) {
            for (size_t j = 0; j < cut; j++)
                nl += p[j] == '\r' && (j + 1 >= len || p[j + 1] != '\n');
        }
        *lines = nl;
        return cut;
    }
    /*
     * With quotes, the reader's own states decide (see lr_csv_next): a quote
     * opens a quoted field only at a field's start, a quote inside an
     * unquoted field is an error that does not open one, and after a
     * closing quote anything but a quote, a comma or a line end is junk up
     * to the next comma or line end. Any simpler rule (every quote toggles)
     * disagrees with the reader after a malformed row and cuts elsewhere.
     */
    enum { START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st = START;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (st == QUOTED) {
            if (c == '"')
                st = QUOTE_IN_QUOTED;
            else if (c == '\n')
                nl++;
            continue;
        }
        switch (c) {
        case '"':
            /* START opens a field; "" inside one is a quote; UNQUOTED stays (bad). */
            if (st == START || st == QUOTE_IN_QUOTED)
                st = QUOTED;
            break;
        case ',':
            st = START;
            break;
        case '\n':
            nl++;
            st = START;
            cut = i + 1;
            nl_at_cut = nl;
            break;
        case '\r':
            if (i + 1 < len) {
                if (p[i + 1] == '\n')
                    i++; /* CRLF: one line end */
                nl++;
                st = START;
                cut = i + 1;
                nl_at_cut = nl;
            } else if (at_eof) {
                nl++;
                cut = i + 1;
                nl_at_cut = nl;
            }
            break;
        default:
            if (st == START || st == QUOTE_IN_QUOTED)
                st = UNQUOTED;
            break;
        }
    }
    *lines = nl_at_cut;
    return cut;
}
