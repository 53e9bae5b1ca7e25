/*
 * cmd_parquet_convert.c - `larder parquet convert IN OUT.parquet`: CSV or
 * NDJSON records to one Parquet file, the conversion teams otherwise run
 * Firehose for.
 *
 * Columns come from a feature-group definition (--schema: Integral INT64,
 * Fractional DOUBLE, String STRING, collections as lists of those; values
 * parsed with SageMaker's rules from larder/value.h) or are inferred by a
 * first pass over the input (INT64, DOUBLE, BOOLEAN, TIMESTAMP for ISO-8601
 * UTC text, else STRING; nullable when a value is missing). Rows stream
 * through the writer's row API, so memory stays at one input record (capped)
 * plus one row group. The output appears only when the conversion succeeds:
 * it is written to a temporary file beside OUT and renamed.
 *
 * A bad record stops the conversion with its line number and the rule it
 * broke.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_parquet.h"
#include "larder/fg.h"
#include "larder/parquet.h"
#include "larder/value.h"

#define RECORD_MAX  ((size_t)64 << 20) /* one CSV record or NDJSON line */
#define COLUMNS_MAX 10000u
#define DEF_MAX     ((size_t)16 << 20) /* the --schema file */

static const char convert_usage[] =
    "Usage: larder parquet convert IN.csv|IN.ndjson OUT.parquet [--schema FG-DEF.json]\n"
    "                              [--codec snappy|zstd|gzip|none] [--zstd-level N]\n"
    "                              [--format csv|ndjson]\n"
    "\n"
    "Converts CSV (RFC 4180, a header row of column names) or NDJSON (one JSON\n"
    "object per line) to one Parquet file.\n"
    "\n"
    "  --schema FILE   type the columns by a feature-group definition (the JSON of\n"
    "                  CreateFeatureGroup): Integral INT64, Fractional DOUBLE, String\n"
    "                  STRING, List/Set/Vector collections as lists. Input columns\n"
    "                  must be features; features missing from a record are null;\n"
    "                  the record identifier and event time are required\n"
    "  (no --schema)   infer each column from the input: INT64, DOUBLE, BOOLEAN,\n"
    "                  TIMESTAMP (ISO-8601 UTC text) or STRING, and lists of those\n"
    "                  from NDJSON arrays; nullable when a value is empty or missing\n"
    "                  (inference reads IN twice: IN must be a file)\n"
    "  --codec C       snappy (default), zstd, gzip or none\n"
    "  --zstd-level N  zstd level 1..22 (implies --codec zstd)\n"
    "  --format F      the input format when IN's extension does not say it\n"
    "\n"
    "In CSV an empty field is null; collections are JSON arrays in one field.\n"
    "A bad record stops the conversion with its line number; OUT is written only\n"
    "when every record converted.\n";

typedef enum ctype { T_UNSET = 0, T_INT64, T_DOUBLE, T_BOOL, T_TS, T_STRING } ctype;

typedef struct ccol {
    char *name;
    ctype t;
    bool list;
    bool nullable;
    bool elem_nullable;
    bool seen;       /* inference: appeared in the current record */
    uint8_t shape;   /* inference (NDJSON): 0 not yet, 1 scalar, 2 list */
    bool conflict;   /* inference (NDJSON): list in some rows, scalar in others */
    int32_t feature; /* --schema: index of the feature, -1 otherwise */
} ccol;

typedef struct conv {
    const char *in_path;
    FILE *in;
    bool csv;
    uint64_t line;        /* current physical line */
    uint64_t record_line; /* where the current record started */
    lr_buf rec;           /* raw record text */
    lr_buf fields;        /* CSV: unescaped field data */
    size_t *fstart, *flen;
    uint32_t nf, fcap;
    bool at_start;

    ccol *cols;
    uint32_t n_cols;
    uint32_t *hash; /* name -> index + 1 */
    uint32_t hash_size;
    uint32_t *csv_map; /* CSV field -> column */
    uint32_t n_csv;

    lr_fg_def *def;
    lr_pq_writer *w;
    lr_error err;
} conv;

/* ---- input ---- */

/* Reads one physical line (with its '\n', if any) appended to b. false at EOF. */
static lr_status read_line(conv *c, lr_buf *b, bool *got)
{
    char chunk[65536];
    lr_status st;
    *got = false;
    for (;;) {
        size_t n;
        char *nl;
        if (fgets(chunk, sizeof chunk, c->in) == NULL) {
            if (ferror(c->in))
                return lr_error_set(&c->err, LR_EIO, "reading %s: %s", c->in_path, strerror(errno));
            break;
        }
        *got = true;
        n = strlen(chunk);
        /* fgets stops at NUL bytes too: trust the newline position only. */
        nl = memchr(chunk, '\n', n);
        if ((st = lr_buf_append(b, chunk, n)) != LR_OK)
            return lr_error_set(&c->err, st, "line %" PRIu64 ": record longer than %zu bytes",
                                c->line + 1, RECORD_MAX);
        if (nl)
            break;
    }
    if (*got) {
        c->line++;
        if (c->at_start) {
            c->at_start = false;
            if (b->len >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
                memmove(b->data, b->data + 3, b->len - 3);
                b->len -= 3;
            }
        }
    }
    return LR_OK;
}

static lr_status push_field(conv *c, size_t start)
{
    if (c->nf == c->fcap) {
        uint32_t ncap = c->fcap ? c->fcap * 2 : 64;
        size_t *ns, *nl;
        if (ncap > COLUMNS_MAX * 2)
            return lr_error_set(&c->err, LR_ELIMIT, "line %" PRIu64 ": more than %u fields",
                                c->record_line, COLUMNS_MAX);
        ns = realloc(c->fstart, ncap * sizeof *ns);
        if (ns == NULL)
            return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
        c->fstart = ns;
        nl = realloc(c->flen, ncap * sizeof *nl);
        if (nl == NULL)
            return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
        c->flen = nl;
        c->fcap = ncap;
    }
    c->fstart[c->nf] = start;
    c->flen[c->nf] = c->fields.len - start;
    c->nf++;
    return LR_OK;
}

/*
 * Reads one CSV record (RFC 4180: quoted fields may hold commas, quotes
 * doubled, and line breaks) into c->fields. *got is false at EOF. Blank
 * lines are skipped.
 */
static lr_status csv_record(conv *c, bool *got)
{
    lr_status st;
    size_t i = 0, start;
    bool quoted = false, in_field_quotes = false;

    lr_buf_clear(&c->rec);
    lr_buf_clear(&c->fields);
    c->nf = 0;
    for (;;) {
        if ((st = read_line(c, &c->rec, got)) != LR_OK)
            return st;
        if (!*got)
            return LR_OK;
        if (c->rec.len == 1 && c->rec.data[0] == '\n') {
            lr_buf_clear(&c->rec);
            continue;
        }
        if (c->rec.len == 2 && memcmp(c->rec.data, "\r\n", 2) == 0) {
            lr_buf_clear(&c->rec);
            continue;
        }
        break;
    }
    c->record_line = c->line;
    start = 0;
    (void)quoted;
    for (;;) {
        if (i >= c->rec.len) {
            bool more;
            if (!in_field_quotes)
                break;
            /* A quoted field continues on the next line. */
            if ((st = read_line(c, &c->rec, &more)) != LR_OK)
                return st;
            if (!more)
                return lr_error_set(&c->err, LR_EINVAL,
                                    "line %" PRIu64 ": a quoted field is not closed",
                                    c->record_line);
            continue;
        }
        {
            char ch = c->rec.data[i];
            if (in_field_quotes) {
                if (ch == '"') {
                    if (i + 1 < c->rec.len && c->rec.data[i + 1] == '"') {
                        lr_buf_append_byte(&c->fields, '"');
                        i += 2;
                        continue;
                    }
                    if (i + 1 >= c->rec.len) {
                        in_field_quotes = false;
                        i++;
                        continue;
                    }
                    in_field_quotes = false;
                    i++;
                    continue;
                }
                if ((st = lr_buf_append_byte(&c->fields, (uint8_t)ch)) != LR_OK)
                    return lr_error_set(&c->err, st, "line %" PRIu64 ": record too long",
                                        c->record_line);
                i++;
                continue;
            }
            if (ch == '"' && c->fields.len == start) {
                in_field_quotes = true;
                i++;
                continue;
            }
            if (ch == ',') {
                if ((st = push_field(c, start)) != LR_OK)
                    return st;
                start = c->fields.len;
                i++;
                continue;
            }
            if (ch == '\n' || (ch == '\r' && i + 1 < c->rec.len && c->rec.data[i + 1] == '\n')) {
                i = c->rec.len;
                continue;
            }
            if (ch == '"')
                return lr_error_set(&c->err, LR_EINVAL,
                                    "line %" PRIu64 ": a quote inside an unquoted field", c->line);
            if ((st = lr_buf_append_byte(&c->fields, (uint8_t)ch)) != LR_OK)
                return lr_error_set(&c->err, st, "line %" PRIu64 ": record too long",
                                    c->record_line);
            i++;
        }
    }
    return push_field(c, start);
}

static const char *field(const conv *c, uint32_t i, size_t *n)
{
    *n = c->flen[i];
    return c->fields.data ? c->fields.data + c->fstart[i] : "";
}

/* One NDJSON line as a JSON object. *obj NULL at EOF. Blank lines are skipped. */
static lr_status ndjson_record(conv *c, json_t **obj)
{
    json_error_t jerr;
    bool got;
    lr_status st;
    *obj = NULL;
    for (;;) {
        size_t n;
        lr_buf_clear(&c->rec);
        if ((st = read_line(c, &c->rec, &got)) != LR_OK)
            return st;
        if (!got)
            return LR_OK;
        n = c->rec.len;
        while (n > 0 && (c->rec.data[n - 1] == '\n' || c->rec.data[n - 1] == '\r' ||
                         c->rec.data[n - 1] == ' ' || c->rec.data[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        c->record_line = c->line;
        *obj = json_loadb(c->rec.data, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (*obj == NULL)
            return lr_error_set(&c->err, LR_EINVAL, "line %" PRIu64 ": %s (column %d)",
                                c->record_line, jerr.text, jerr.column);
        if (!json_is_object(*obj)) {
            json_decref(*obj);
            *obj = NULL;
            return lr_error_set(&c->err, LR_EINVAL, "line %" PRIu64 ": not a JSON object",
                                c->record_line);
        }
        return LR_OK;
    }
}

/* ---- columns ---- */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int32_t find_col(const conv *c, const char *s, size_t n)
{
    uint32_t pos;
    if (c->hash_size == 0)
        return -1;
    pos = name_hash(s, n) & (c->hash_size - 1);
    while (c->hash[pos]) {
        const ccol *col = &c->cols[c->hash[pos] - 1];
        if (strlen(col->name) == n && memcmp(col->name, s, n) == 0)
            return (int32_t)(c->hash[pos] - 1);
        pos = (pos + 1) & (c->hash_size - 1);
    }
    return -1;
}

static lr_status add_col(conv *c, const char *s, size_t n, uint32_t *idx)
{
    ccol *nc;
    uint32_t pos;
    if (c->n_cols >= COLUMNS_MAX)
        return lr_error_set(&c->err, LR_ELIMIT, "line %" PRIu64 ": more than %u columns",
                            c->record_line, COLUMNS_MAX);
    if (n == 0)
        return lr_error_set(&c->err, LR_EINVAL, "line %" PRIu64 ": a column without a name",
                            c->record_line);
    if ((nc = realloc(c->cols, ((size_t)c->n_cols + 1) * sizeof *nc)) == NULL)
        return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
    c->cols = nc;
    memset(&c->cols[c->n_cols], 0, sizeof *c->cols);
    c->cols[c->n_cols].feature = -1;
    if ((c->cols[c->n_cols].name = strndup(s, n)) == NULL)
        return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
    if ((size_t)(c->n_cols + 1) * 2 > c->hash_size) {
        uint32_t ns = c->hash_size ? c->hash_size * 2 : 64;
        uint32_t *nh = calloc(ns, sizeof *nh);
        if (nh == NULL)
            return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < c->n_cols; i++) {
            const char *nm = c->cols[i].name;
            uint32_t p = name_hash(nm, strlen(nm)) & (ns - 1);
            while (nh[p])
                p = (p + 1) & (ns - 1);
            nh[p] = i + 1;
        }
        free(c->hash);
        c->hash = nh;
        c->hash_size = ns;
    }
    pos = name_hash(s, n) & (c->hash_size - 1);
    while (c->hash[pos])
        pos = (pos + 1) & (c->hash_size - 1);
    c->hash[pos] = c->n_cols + 1;
    *idx = c->n_cols++;
    return LR_OK;
}

/* ---- inference ---- */

static bool ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static ctype classify_text(const char *s, size_t n)
{
    int64_t i;
    double d;
    if (lr_value_parse_integral(s, n, &i, NULL) == LR_OK)
        return T_INT64;
    if (lr_value_parse_fractional(s, n, &d, NULL) == LR_OK)
        return T_DOUBLE;
    if (ieq(s, n, "true") || ieq(s, n, "false"))
        return T_BOOL;
    if (lr_time_parse_iso8601(s, n, &i, NULL) == LR_OK)
        return T_TS;
    return T_STRING;
}

static ctype merge(ctype a, ctype b)
{
    if (a == T_UNSET)
        return b;
    if (b == T_UNSET || a == b)
        return a;
    if ((a == T_INT64 && b == T_DOUBLE) || (a == T_DOUBLE && b == T_INT64))
        return T_DOUBLE;
    return T_STRING;
}

static ctype classify_json(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        return T_INT64;
    case JSON_REAL:
        return T_DOUBLE;
    case JSON_TRUE:
    case JSON_FALSE:
        return T_BOOL;
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int64_t us;
        /* JSON has no NaN or infinities: producers write them as strings. */
        if ((n == 3 && memcmp(s, "NaN", 3) == 0) || (n == 8 && memcmp(s, "Infinity", 8) == 0) ||
            (n == 9 && memcmp(s, "-Infinity", 9) == 0))
            return T_DOUBLE;
        if (lr_time_parse_iso8601(s, n, &us, NULL) == LR_OK)
            return T_TS;
        return T_STRING;
    }
    default:
        return T_STRING;
    }
}

static void infer_json(ccol *col, json_t *v)
{
    size_t i;
    json_t *e;
    if (json_is_null(v)) {
        col->nullable = true;
        return;
    }
    if (json_is_array(v)) {
        if (col->shape == 1)
            col->conflict = true;
        col->shape = 2;
        json_array_foreach(v, i, e)
        {
            if (json_is_null(e))
                col->elem_nullable = true;
            else if (json_is_array(e) || json_is_object(e))
                col->t = merge(col->t, T_STRING);
            else
                col->t = merge(col->t, classify_json(e));
        }
        return;
    }
    if (col->shape == 2)
        col->conflict = true;
    col->shape = 1;
    col->t = merge(col->t, classify_json(v));
}

static lr_status csv_header(conv *c, bool schema_mode)
{
    bool got;
    lr_status st = csv_record(c, &got);
    if (st != LR_OK)
        return st;
    if (!got)
        return lr_error_set(&c->err, LR_EINVAL, "%s is empty: a CSV header is needed", c->in_path);
    if ((c->csv_map = calloc(c->nf, sizeof *c->csv_map)) == NULL)
        return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
    c->n_csv = c->nf;
    for (uint32_t i = 0; i < c->nf; i++) {
        size_t n;
        const char *name = field(c, i, &n);
        int32_t idx = find_col(c, name, n);
        if (schema_mode) {
            if (idx < 0)
                return lr_error_set(&c->err, LR_EINVAL,
                                    "line %" PRIu64 ": column '%.*s' is not a feature of %s",
                                    c->record_line, (int)(n > 200 ? 200 : n), name, c->def->name);
            for (uint32_t k = 0; k < i; k++) {
                if (c->csv_map[k] == (uint32_t)idx)
                    return lr_error_set(&c->err, LR_EINVAL,
                                        "line %" PRIu64 ": column '%s' appears twice",
                                        c->record_line, c->cols[idx].name);
            }
            c->csv_map[i] = (uint32_t)idx;
        } else {
            uint32_t ni;
            if (idx >= 0)
                return lr_error_set(&c->err, LR_EINVAL,
                                    "line %" PRIu64 ": column '%.*s' appears twice", c->record_line,
                                    (int)(n > 200 ? 200 : n), name);
            if ((st = add_col(c, name, n, &ni)) != LR_OK)
                return st;
            c->csv_map[i] = ni;
        }
    }
    return LR_OK;
}

static lr_status csv_check_width(conv *c)
{
    if (c->nf != c->n_csv)
        return lr_error_set(&c->err, LR_EINVAL,
                            "line %" PRIu64 ": %u fields where the header has %u", c->record_line,
                            c->nf, c->n_csv);
    return LR_OK;
}

/* The inference pass: reads the whole input once. */
static lr_status infer(conv *c)
{
    lr_status st;
    uint64_t records = 0;
    if (c->csv) {
        bool got;
        if ((st = csv_header(c, false)) != LR_OK)
            return st;
        for (;;) {
            if ((st = csv_record(c, &got)) != LR_OK)
                return st;
            if (!got)
                break;
            if ((st = csv_check_width(c)) != LR_OK)
                return st;
            for (uint32_t i = 0; i < c->nf; i++) {
                size_t n;
                const char *s = field(c, i, &n);
                ccol *col = &c->cols[c->csv_map[i]];
                if (n == 0)
                    col->nullable = true;
                else
                    col->t = merge(col->t, classify_text(s, n));
            }
            records++;
        }
    } else {
        for (;;) {
            json_t *obj, *v;
            const char *key;
            if ((st = ndjson_record(c, &obj)) != LR_OK)
                return st;
            if (obj == NULL)
                break;
            for (uint32_t i = 0; i < c->n_cols; i++)
                c->cols[i].seen = false;
            json_object_foreach(obj, key, v)
            {
                int32_t idx = find_col(c, key, strlen(key));
                if (idx < 0) {
                    uint32_t ni;
                    if ((st = add_col(c, key, strlen(key), &ni)) != LR_OK) {
                        json_decref(obj);
                        return st;
                    }
                    idx = (int32_t)ni;
                    /* Rows before this one lacked the column. */
                    c->cols[ni].nullable = records > 0;
                }
                c->cols[idx].seen = true;
                infer_json(&c->cols[idx], v);
            }
            for (uint32_t i = 0; i < c->n_cols; i++)
                c->cols[i].nullable |= !c->cols[i].seen;
            json_decref(obj);
            records++;
        }
    }
    if (c->n_cols == 0)
        return lr_error_set(&c->err, LR_EINVAL, "%s has no columns", c->in_path);
    for (uint32_t i = 0; i < c->n_cols; i++) {
        ccol *col = &c->cols[i];
        if (col->conflict) {
            col->list = false;
            col->t = T_STRING;
        } else {
            col->list = col->shape == 2;
        }
        if (col->t == T_UNSET)
            col->t = T_STRING;
    }
    return LR_OK;
}

/* Columns from a feature-group definition. */
static lr_status schema_columns(conv *c)
{
    for (uint32_t i = 0; i < c->def->n_features; i++) {
        const lr_feature_def *f = &c->def->features[i];
        uint32_t idx;
        lr_status st = add_col(c, f->name, strlen(f->name), &idx);
        ccol *col;
        if (st != LR_OK)
            return st;
        col = &c->cols[idx];
        col->feature = (int32_t)i;
        col->t = f->type == LR_FT_INTEGRAL     ? T_INT64
                 : f->type == LR_FT_FRACTIONAL ? T_DOUBLE
                                               : T_STRING;
        col->list = f->collection != LR_COLL_NONE;
        col->nullable = i != c->def->record_id_index && i != c->def->event_time_index;
    }
    return LR_OK;
}

/* ---- writing values ---- */

static lr_status col_err(conv *c, const ccol *col, const char *fmt, const char *what)
{
    return lr_error_set(&c->err, LR_EINVAL, "line %" PRIu64 ": column '%s': %s%s", c->record_line,
                        col->name, fmt, what ? what : "");
}

/* Checks the record identifier and event time of a --schema conversion. */
static lr_status check_special(conv *c, const ccol *col, const char *s, size_t n)
{
    lr_error e;
    int64_t us;
    if (col->feature < 0)
        return LR_OK;
    if ((uint32_t)col->feature == c->def->record_id_index && n == 0)
        return col_err(c, col, "the record identifier is empty", NULL);
    if ((uint32_t)col->feature == c->def->event_time_index &&
        lr_event_time_parse(s, n, c->def->features[col->feature].type, &us, &e) != LR_OK)
        return col_err(c, col, "", e.msg);
    return LR_OK;
}

static lr_status set_text(conv *c, uint32_t ci, const char *s, size_t n)
{
    ccol *col = &c->cols[ci];
    lr_error e;
    lr_status st;
    switch (col->t) {
    case T_INT64: {
        int64_t v;
        if (lr_value_parse_integral(s, n, &v, &e) != LR_OK)
            return col_err(c, col, "", e.msg);
        if ((st = check_special(c, col, s, n)) != LR_OK)
            return st;
        st = lr_pq_writer_set_i64(c->w, ci, v, &e);
        break;
    }
    case T_DOUBLE: {
        double v;
        if (lr_value_parse_fractional(s, n, &v, &e) != LR_OK)
            return col_err(c, col, "", e.msg);
        if ((st = check_special(c, col, s, n)) != LR_OK)
            return st;
        st = lr_pq_writer_set_double(c->w, ci, v, &e);
        break;
    }
    case T_BOOL:
        if (ieq(s, n, "true"))
            st = lr_pq_writer_set_bool(c->w, ci, true, &e);
        else if (ieq(s, n, "false"))
            st = lr_pq_writer_set_bool(c->w, ci, false, &e);
        else
            return col_err(c, col, "not a boolean (true or false)", NULL);
        break;
    case T_TS: {
        int64_t us;
        if (lr_time_parse_iso8601(s, n, &us, &e) != LR_OK)
            return col_err(c, col, "", e.msg);
        st = lr_pq_writer_set_i64(c->w, ci, us, &e);
        break;
    }
    default:
        if (lr_value_check_string(s, n, &e) != LR_OK)
            return col_err(c, col, "", e.msg);
        if ((st = check_special(c, col, s, n)) != LR_OK)
            return st;
        st = lr_pq_writer_set_bytes(c->w, ci, s, n, &e);
        break;
    }
    if (st != LR_OK)
        return lr_error_set(&c->err, st, "line %" PRIu64 ": column '%s': %s", c->record_line,
                            col->name, e.msg);
    return LR_OK;
}

/* A JSON value of a scalar slot (or list element when elem). */
static lr_status set_json(conv *c, uint32_t ci, json_t *v, bool elem)
{
    ccol *col = &c->cols[ci];
    lr_error e;
    lr_status st;
    char num[64];

    if (json_is_null(v)) {
        if (!elem)
            return LR_OK; /* left unset: null */
        if ((st = lr_pq_writer_set_null(c->w, ci, &e)) != LR_OK)
            return col_err(c, col, "null elements are not allowed", NULL);
        return LR_OK;
    }
    if (json_is_string(v))
        return set_text(c, ci, json_string_value(v), json_string_length(v));
    switch (col->t) {
    case T_INT64:
        if (!json_is_integer(v))
            return col_err(c, col, "not an integer", NULL);
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return set_text(c, ci, num, strlen(num));
    case T_DOUBLE:
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return set_text(c, ci, num, strlen(num));
        }
        if (!json_is_real(v))
            return col_err(c, col, "not a number", NULL);
        if ((st = lr_pq_writer_set_double(c->w, ci, json_real_value(v), &e)) != LR_OK)
            return lr_error_set(&c->err, st, "line %" PRIu64 ": %s", c->record_line, e.msg);
        return LR_OK;
    case T_BOOL:
        if (!json_is_boolean(v))
            return col_err(c, col, "not a boolean", NULL);
        if ((st = lr_pq_writer_set_bool(c->w, ci, json_is_true(v), &e)) != LR_OK)
            return lr_error_set(&c->err, st, "line %" PRIu64 ": %s", c->record_line, e.msg);
        return LR_OK;
    case T_TS:
        return col_err(c, col, "not an ISO-8601 timestamp string", NULL);
    default: {
        /* Numbers, booleans, arrays and objects keep their JSON text. */
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text == NULL)
            return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
        st = set_text(c, ci, text, strlen(text));
        free(text);
        return st;
    }
    }
}

static lr_status set_list(conv *c, uint32_t ci, json_t *arr)
{
    ccol *col = &c->cols[ci];
    lr_error e;
    lr_status st;
    size_t i;
    json_t *v;
    if (!json_is_array(arr))
        return col_err(c, col, "not a JSON array", NULL);
    if ((st = lr_pq_writer_list_begin(c->w, ci, &e)) != LR_OK)
        return lr_error_set(&c->err, st, "line %" PRIu64 ": %s", c->record_line, e.msg);
    json_array_foreach(arr, i, v)
    {
        if ((st = set_json(c, ci, v, true)) != LR_OK)
            return st;
    }
    if (col->feature >= 0) {
        const lr_feature_def *f = &c->def->features[col->feature];
        if (f->collection == LR_COLL_VECTOR && json_array_size(arr) != f->vector_dim)
            return lr_error_set(&c->err, LR_EINVAL,
                                "line %" PRIu64 ": column '%s': a Vector of %u values, not %zu",
                                c->record_line, col->name, f->vector_dim, json_array_size(arr));
    }
    if ((st = lr_pq_writer_list_end(c->w, ci, &e)) != LR_OK)
        return lr_error_set(&c->err, st, "line %" PRIu64 ": %s", c->record_line, e.msg);
    return LR_OK;
}

static lr_status end_row(conv *c)
{
    lr_error e;
    lr_status st = lr_pq_writer_end_row(c->w, &e);
    if (st != LR_OK)
        return lr_error_set(&c->err, st, "line %" PRIu64 ": %s", c->record_line, e.msg);
    return LR_OK;
}

/* The writing pass. */
static lr_status convert_rows(conv *c)
{
    lr_status st;
    if (c->csv) {
        bool got;
        for (;;) {
            if ((st = csv_record(c, &got)) != LR_OK)
                return st;
            if (!got)
                return LR_OK;
            if ((st = csv_check_width(c)) != LR_OK)
                goto fail;
            for (uint32_t i = 0; i < c->nf; i++) {
                size_t n;
                const char *s = field(c, i, &n);
                uint32_t ci = c->csv_map[i];
                if (n == 0)
                    continue;
                if (c->cols[ci].list) {
                    json_error_t jerr;
                    json_t *arr = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
                    if (arr == NULL) {
                        st = lr_error_set(&c->err, LR_EINVAL,
                                          "line %" PRIu64 ": column '%s': not a JSON array: %s",
                                          c->record_line, c->cols[ci].name, jerr.text);
                        goto fail;
                    }
                    st = set_list(c, ci, arr);
                    json_decref(arr);
                } else {
                    st = set_text(c, ci, s, n);
                }
                if (st != LR_OK)
                    goto fail;
            }
            if ((st = end_row(c)) != LR_OK)
                return st;
        }
    }
    for (;;) {
        json_t *obj, *v;
        const char *key;
        if ((st = ndjson_record(c, &obj)) != LR_OK)
            return st;
        if (obj == NULL)
            return LR_OK;
        st = LR_OK;
        json_object_foreach(obj, key, v)
        {
            int32_t ci = find_col(c, key, strlen(key));
            if (ci < 0) {
                st = lr_error_set(
                    &c->err, LR_EINVAL, "line %" PRIu64 ": column '%s' is %s", c->record_line, key,
                    c->def ? "not a feature of the group" : "new since the first pass");
                break;
            }
            if (c->cols[ci].list && !json_is_null(v))
                st = set_list(c, (uint32_t)ci, v);
            else
                st = set_json(c, (uint32_t)ci, v, false);
            if (st != LR_OK)
                break;
        }
        json_decref(obj);
        if (st != LR_OK)
            goto fail;
        if ((st = end_row(c)) != LR_OK)
            return st;
    }
fail:
    lr_pq_writer_discard_row(c->w);
    return st;
}

/* ---- the command ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static lr_status load_def(conv *c, const char *path)
{
    lr_buf b;
    lr_status st = cli_read_file(path, DEF_MAX, &b, &c->err);
    if (st != LR_OK)
        return st;
    st = lr_fg_def_parse(b.data, b.len, &c->def, &c->err);
    if (st != LR_OK)
        lr_error_prefix(&c->err, "%s", path);
    lr_buf_free(&b);
    return st;
}

static lr_status run(conv *c, const char *out_path, const char *schema, lr_pq_codec codec,
                     int level, lr_pq_write_stats *stats)
{
    lr_pq_column_def *defs = NULL;
    lr_pq_write_options opt;
    char *tmp = NULL;
    int fd = -1;
    lr_status st;

    if (schema) {
        if ((st = load_def(c, schema)) != LR_OK)
            return st;
        if ((st = schema_columns(c)) != LR_OK)
            return st;
        if (c->csv && (st = csv_header(c, true)) != LR_OK)
            return st;
    } else {
        struct stat sb;
        if (fstat(fileno(c->in), &sb) != 0 || !S_ISREG(sb.st_mode))
            return lr_error_set(&c->err, LR_EINVAL,
                                "inferring types reads the input twice: %s must be a file "
                                "(or give --schema)",
                                c->in_path);
        if ((st = infer(c)) != LR_OK)
            return st;
        rewind(c->in);
        c->line = 0;
        c->at_start = true;
        if (c->csv) {
            bool got;
            /* Skip the header; the columns are known. */
            if ((st = csv_record(c, &got)) != LR_OK)
                return st;
        }
    }
    if ((defs = calloc(c->n_cols, sizeof *defs)) == NULL)
        return lr_error_set(&c->err, LR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < c->n_cols; i++) {
        const ccol *col = &c->cols[i];
        lr_pq_column_def *d = &defs[i];
        d->name = col->name;
        d->optional = col->nullable;
        d->list = col->list;
        d->element_optional = col->list && col->elem_nullable;
        switch (col->t) {
        case T_INT64:
            d->type = LR_PQ_INT64;
            break;
        case T_DOUBLE:
            d->type = LR_PQ_DOUBLE;
            break;
        case T_BOOL:
            d->type = LR_PQ_BOOLEAN;
            break;
        case T_TS:
            d->type = LR_PQ_INT64;
            d->logical = LR_PQ_LOGICAL_TIMESTAMP;
            d->unit = LR_PQ_MICROS;
            d->utc = true;
            break;
        default:
            d->type = LR_PQ_BYTE_ARRAY;
            d->logical = LR_PQ_LOGICAL_STRING;
            break;
        }
    }
    {
        size_t n = strlen(out_path);
        if ((tmp = malloc(n + 16)) == NULL) {
            st = lr_error_set(&c->err, LR_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(tmp, n + 16, "%s.tmp-XXXXXX", out_path);
        if ((fd = mkstemp(tmp)) < 0) {
            st = lr_error_set(&c->err, LR_EIO, "cannot create %s: %s", tmp, strerror(errno));
            free(tmp);
            tmp = NULL;
            goto done;
        }
    }
    lr_pq_write_options_init(&opt);
    opt.codec = codec;
    opt.level = level;
    if ((st = lr_pq_writer_open(defs, c->n_cols, &opt, lr_pq_sink_fd(fd), &c->w, &c->err)) != LR_OK)
        goto done;
    if ((st = convert_rows(c)) != LR_OK)
        goto done;
    if ((st = lr_pq_writer_close(c->w, stats, &c->err)) != LR_OK)
        goto done;
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        st = lr_error_set(&c->err, LR_EIO, "writing %s: %s", out_path, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, out_path) != 0) {
        st = lr_error_set(&c->err, LR_EIO, "cannot create %s: %s", out_path, strerror(errno));
        goto done;
    }
    free(tmp);
    tmp = NULL;
done:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(defs);
    return st;
}

int pqcli_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"schema", required_argument, NULL, 's'},
                                         {"codec", required_argument, NULL, 'c'},
                                         {"zstd-level", required_argument, NULL, 'z'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *schema = NULL, *format = NULL, *in_path, *out_path;
    lr_pq_codec codec = LR_PQ_SNAPPY;
    bool codec_given = false;
    int level = 0, ch, rc = LR_EXIT_OK;
    lr_pq_write_stats stats;
    conv c;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            schema = optarg;
            break;
        case 'c': {
            lr_error e;
            if (lr_pq_codec_parse(optarg, &codec, &e) != LR_OK ||
                (codec != LR_PQ_SNAPPY && codec != LR_PQ_ZSTD && codec != LR_PQ_GZIP &&
                 codec != LR_PQ_UNCOMPRESSED))
                return cli_usage("parquet convert",
                                 "--codec is snappy, zstd, gzip or none, not '%s'", optarg);
            codec_given = true;
            break;
        }
        case 'z': {
            char *end;
            long v;
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > 22)
                return cli_usage("parquet convert", "--zstd-level is 1..22, not '%s'", optarg);
            level = (int)v;
            break;
        }
        case 'f':
            format = optarg;
            if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0)
                return cli_usage("parquet convert", "--format is csv or ndjson, not '%s'", format);
            break;
        case 'h':
            fputs(convert_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("parquet convert", "unknown option or missing value in '%s'",
                             argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage("parquet convert", "IN and OUT.parquet are needed");
    in_path = argv[optind];
    out_path = argv[optind + 1];
    if (level && !codec_given)
        codec = LR_PQ_ZSTD;
    if (level && codec != LR_PQ_ZSTD)
        return cli_usage("parquet convert", "--zstd-level goes with --codec zstd");

    memset(&c, 0, sizeof c);
    c.in_path = in_path;
    if (format)
        c.csv = strcmp(format, "csv") == 0;
    else if (ends_with(in_path, ".csv") || ends_with(in_path, ".csv.txt"))
        c.csv = true;
    else if (ends_with(in_path, ".ndjson") || ends_with(in_path, ".jsonl") ||
             ends_with(in_path, ".json"))
        c.csv = false;
    else
        return cli_usage("parquet convert", "cannot tell the format of '%s': give --format",
                         in_path);
    c.in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "rb");
    if (c.in == NULL)
        return cli_fail("cannot open %s: %s", in_path, strerror(errno));
    c.at_start = true;
    lr_buf_init(&c.rec, RECORD_MAX);
    lr_buf_init(&c.fields, RECORD_MAX);
    if (run(&c, out_path, schema, codec, level, &stats) != LR_OK)
        rc = cli_fail_err(&c.err);
    else
        fprintf(stderr, "%s: %" PRIu64 " row%s, %" PRIu64 " bytes\n", out_path, stats.rows,
                stats.rows == 1 ? "" : "s", stats.bytes);
    lr_pq_writer_free(c.w);
    if (c.in != stdin)
        fclose(c.in);
    lr_buf_free(&c.rec);
    lr_buf_free(&c.fields);
    free(c.fstart);
    free(c.flen);
    for (uint32_t i = 0; i < c.n_cols; i++)
        free(c.cols[i].name);
    free(c.cols);
    free(c.hash);
    free(c.csv_map);
    lr_fg_def_free(c.def);
    return rc;
}
