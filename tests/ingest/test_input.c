/*
 * test_input.c - reading ingest inputs: CSV (quoting, empty values, BOM,
 * CRLF, embedded newlines), NDJSON, Parquet, gzip and zstd compression, and
 * bad rows reported with their line while the input goes on.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "ingest/input_internal.h"
#include "larder/buf.h"
#include "larder/fg.h"
#include "larder/ingest.h"
#include "larder/parquet.h"
#include "support/testutil.h"

static const char def_json[] =
    "{\"FeatureGroupName\":\"t\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"x\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"s\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"}}";

typedef struct fx {
    char *dir;
    lr_fg_def *def;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lr_error err;
    f->dir = lr_test_tmpdir("larder-input");
    assert_int_equal(lr_fg_def_parse(def_json, strlen(def_json), &f->def, &err), LR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lr_test_rmtree(f->dir);
    free(f->dir);
    lr_fg_def_free(f->def);
    free(f);
    return 0;
}

static char *put_file(fx *f, const char *name, const void *data, size_t len)
{
    char *p = lr_test_path(f->dir, name);
    assert_int_equal(lr_test_write_file(p, data, len), 0);
    return p;
}

/* The value of feature `name` in rec as a NUL-terminated copy, or NULL when absent. */
static char *value_of(const lr_fg_def *def, const lr_record *rec, const char *name)
{
    int32_t fi = lr_fg_def_find_feature(def, name, strlen(name));
    for (uint32_t i = 0; i < rec->n_values; i++) {
        const lr_feature_value *v = &rec->values[i];
        if ((int32_t)v->feature != fi)
            continue;
        if (!v->is_list)
            return strndup(v->value.ptr, v->value.len);
        /* Lists as a|b|c for comparison. */
        size_t cap = 16;
        for (uint32_t k = 0; k < v->n_items; k++)
            cap += v->items[k].len + 1;
        char *s = calloc(1, cap);
        for (uint32_t k = 0; k < v->n_items; k++) {
            if (k)
                strcat(s, "|");
            strncat(s, v->items[k].ptr, v->items[k].len);
        }
        return s;
    }
    return NULL;
}

static void expect_feature(const lr_fg_def *def, const lr_record *rec, const char *name,
                         const char *want)
{
    char *got = value_of(def, rec, name);
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_csv_quoting_bom_crlf(void **state)
{
    fx *f = *state;
    static const char csv[] =
        "\xEF\xBB\xBFid,ts,n,x,s,tags\r\n"
        "a,2024-01-01T00:00:00Z,1,1.5,plain,\r\n"
        "\"b,1\",2024-01-02T00:00:00Z,-9223372036854775808,1e-3,\"say \"\"hi\"\"\",\"[\"\"u\"\",\"\"v\"\"]\"\r\n"
        "\r\n"
        "c,2024-01-03T00:00:00.5Z,,,\"\",[]\r\n"
        "d,2024-01-04T00:00:00Z,7,NaN,\"two\nlines\",\r\n"
        "e,2024-01-05T00:00:00Z,8,2,last,"; /* no final newline */
    char *path = put_file(f, "in.csv", csv, sizeof csv - 1);
    lr_ingest_input *in;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof;

    assert_int_equal(lr_ingest_input_open(path, LR_INGEST_AUTO, f->def, &in, &err), LR_OK);
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_false(eof);
    assert_int_equal(line, 2);
    expect_feature(f->def, &rec, "id", "a");
    expect_feature(f->def, &rec, "x", "1.5");
    expect_feature(f->def, &rec, "tags", NULL);
    assert_int_equal(rec.record_id.len, 1);
    assert_memory_equal(rec.record_id.ptr, "a", 1);

    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_int_equal(line, 3);
    expect_feature(f->def, &rec, "id", "b,1");
    expect_feature(f->def, &rec, "n", "-9223372036854775808");
    expect_feature(f->def, &rec, "s", "say \"hi\"");
    expect_feature(f->def, &rec, "tags", "u|v");

    /* The blank line is skipped; "" is an empty string, an empty field is missing. */
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_int_equal(line, 5);
    expect_feature(f->def, &rec, "id", "c");
    expect_feature(f->def, &rec, "n", NULL);
    expect_feature(f->def, &rec, "x", NULL);
    expect_feature(f->def, &rec, "s", "");
    expect_feature(f->def, &rec, "tags", "");
    assert_int_equal(rec.event_time_us, 1704240000500000LL);

    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_int_equal(line, 6);
    expect_feature(f->def, &rec, "s", "two\nlines");
    expect_feature(f->def, &rec, "x", "NaN");
    size_t raw_len;
    const char *raw = lr_ingest_input_raw(in, &raw_len);
    assert_int_equal(raw_len, strlen("d,2024-01-04T00:00:00Z,7,NaN,\"two\nlines\","));
    assert_memory_equal(raw, "d,2024-01-04T00:00:00Z,7,NaN,\"two\nlines\",", raw_len);

    /* The embedded newline moved the line count on. */
    lr_status st = lr_ingest_input_next(in, &rec, &line, &eof, &err);
    if (st != LR_OK)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, LR_OK);
    assert_int_equal(line, 8);
    expect_feature(f->def, &rec, "s", "last");

    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_true(eof);
    assert_int_equal(lr_ingest_input_consumed(in), sizeof csv - 1);
    assert_int_equal(lr_ingest_input_size(in), sizeof csv - 1);
    lr_ingest_input_close(in);
    free(path);
}

/* Every row of `path` as "line:id:s|" or "line:ERR|", read with chunks of `target` bytes. */
static char *all_rows(fx *f, const char *path, size_t target)
{
    lr_ingest_input *in;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof = false;
    lr_buf out;

    lr__ingest_chunk_target = target;
    lr_buf_init(&out, 0);
    assert_int_equal(lr_ingest_input_open(path, LR_INGEST_AUTO, f->def, &in, &err), LR_OK);
    for (;;) {
        lr_status st = lr_ingest_input_next(in, &rec, &line, &eof, &err);
        if (st == LR_EINVAL) {
            lr_buf_printf(&out, "%" PRIu64 ":ERR|", line);
            continue;
        }
        assert_int_equal(st, LR_OK);
        if (eof)
            break;
        char *id = value_of(f->def, &rec, "id"), *sv = value_of(f->def, &rec, "s");
        lr_buf_printf(&out, "%" PRIu64 ":%s:%s|", line, id, sv ? sv : "-");
        free(id);
        free(sv);
    }
    lr_ingest_input_close(in);
    lr__ingest_chunk_target = LR__INGEST_CHUNK;
    return out.data;
}

/*
 * Files are read in chunks cut at row ends outside quotes: whatever the
 * chunk size, the rows, their values and their line numbers are the same.
 */
static void test_chunk_boundaries(void **state)
{
    fx *f = *state;
    static const char csv[] =
        "\xEF\xBB\xBFid,ts,s\r\n"
        "a,2024-01-01T00:00:00Z,plain\r\n"
        "\"b,\"\"1\"\"\",2024-01-02T00:00:00Z,\"x\ny\r\nz\"\n"
        "\n"
        "c,2024-01-03T00:00:00Z,\"\"\"\"\rd,2024-01-04T00:00:00Z,lone-cr-before\n"
        "e,2024-01-05T00:00:00Z,bad\"quote\n"
        "f,2024-01-06T00:00:00Z,\"q,\"\r\n"
        "g,2024-01-07T00:00:00Z,end";
    static const char want_csv[] =
        "2:a:plain|3:b,\"1\":x\ny\r\nz|7:c:\"|8:d:lone-cr-before|9:ERR|10:f:q,|11:g:end|";
    static const char nd[] =
        "{\"id\":\"a\",\"ts\":\"2024-01-01T00:00:00Z\",\"s\":\"x\\ny\"}\n"
        "\n"
        "{\"id\":\"b\",\"ts\":\"2024-01-02T00:00:00Z\"}\r\n"
        "{\"id\":\"c\",\"ts\":\"nope\"}\n"
        "{\"id\":\"d\",\"ts\":\"2024-01-04T00:00:00Z\",\"s\":\"\u00e9\"}";
    static const char want_nd[] = "1:a:x\ny|3:b:-|4:ERR|5:d:\xC3\xA9|";
    char *cpath = put_file(f, "chunks.csv", csv, sizeof csv - 1);
    char *npath = put_file(f, "chunks.ndjson", nd, sizeof nd - 1);
    static const size_t sizes[] = {LR__INGEST_CHUNK, 1, 2, 3, 5, 7, 11, 16, 31, 64, 1000};

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *got = all_rows(f, cpath, sizes[i]);
        if (strcmp(got, want_csv) != 0)
            fail_msg("chunks of %zu bytes: %s", sizes[i], got);
        free(got);
        got = all_rows(f, npath, sizes[i]);
        if (strcmp(got, want_nd) != 0)
            fail_msg("NDJSON chunks of %zu bytes: %s", sizes[i], got);
        free(got);
    }
    free(cpath);
    free(npath);
}

static void test_csv_bad_rows_continue(void **state)
{
    fx *f = *state;
    static const char csv[] = "id,ts,n\n"
                              "a,2024-01-01T00:00:00Z,1\n"
                              "b,2024-01-01T00:00:00Z,12x\n"
                              "c,2024-01-01T00:00:00Z\n"
                              "d,2024-13-01T00:00:00Z,1\n"
                              ",2024-01-01T00:00:00Z,1\n"
                              "e,2024-01-01T00:00:00Z,9223372036854775808\n"
                              "f,2024-01-01T00:00:00Z,\"3\"x\n"
                              "g,2024-01-01T00:00:00Z,4\n"
                              "h,2024-01-01T00:00:00Z,\"5\n";
    static const struct {
        uint64_t line;
        const char *needle;
    } want[] = {{3, "n"}, {4, "expected 3 fields, found 2"}, {5, "ts"},
                {6, "id"}, {7, "n"},  {8, "closing quote"}};
    char *path = put_file(f, "bad.csv", csv, sizeof csv - 1);
    lr_ingest_input *in;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof;

    assert_int_equal(lr_ingest_input_open(path, LR_INGEST_CSV, f->def, &in, &err), LR_OK);
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    expect_feature(f->def, &rec, "id", "a");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        lr_status st = lr_ingest_input_next(in, &rec, &line, &eof, &err);
        if (st != LR_EINVAL || strstr(err.msg, want[i].needle) == NULL)
            fprintf(stderr, "case %zu: status %d, %s\n", i, st, err.msg);
        assert_int_equal(st, LR_EINVAL);
        assert_false(eof);
        assert_int_equal(line, want[i].line);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "line %llu", (unsigned long long)want[i].line);
        assert_non_null(strstr(err.msg, prefix));
        assert_non_null(strstr(err.msg, want[i].needle));
    }
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    expect_feature(f->def, &rec, "id", "g");
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "unterminated"));
    assert_int_equal(line, 10);
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_true(eof);
    lr_ingest_input_close(in);
    free(path);
}

static void test_csv_header_errors(void **state)
{
    fx *f = *state;
    static const struct {
        const char *csv;
        const char *needle;
    } cases[] = {
        {"id,ts,bogus\n", "'bogus' is not a feature"},
        {"id,n\n", "event time feature 'ts'"},
        {"ts,n\n", "record identifier feature 'id'"},
        {"id,ts,id\n", "appears twice"},
        {"", "empty file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = put_file(f, "h.csv", cases[i].csv, strlen(cases[i].csv));
        lr_ingest_input *in = NULL;
        lr_error err;
        assert_int_equal(lr_ingest_input_open(path, LR_INGEST_CSV, f->def, &in, &err), LR_EINVAL);
        assert_null(in);
        if (strstr(err.msg, cases[i].needle) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        assert_non_null(strstr(err.msg, cases[i].needle));
        free(path);
    }
    lr_ingest_input *in = NULL;
    lr_error err;
    assert_int_equal(lr_ingest_input_open("/nonexistent/x.csv", LR_INGEST_AUTO, f->def, &in, &err),
                     LR_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.csv"));
    assert_int_equal(lr_ingest_input_open("noext", LR_INGEST_AUTO, f->def, &in, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "--format"));
}

static void test_ndjson(void **state)
{
    fx *f = *state;
    static const char nd[] =
        "{\"id\":\"a\",\"ts\":\"2024-01-01T00:00:00Z\",\"n\":42,\"x\":0.1,\"tags\":[\"p\",1]}\n"
        "\n"
        "{\"id\":\"b\",\"ts\":\"2024-01-01T00:00:00Z\",\"s\":null,\"x\":1e300}\r\n"
        "{\"id\":\"c\",\"ts\":\"2024-01-01T00:00:00Z\",\"nope\":1}\n"
        "[1,2]\n"
        "{\"id\":\"d\",\"ts\":\"2024-01-01T00:00:00Z\",\"n\":\"7\"}";
    char *path = put_file(f, "in.ndjson", nd, sizeof nd - 1);
    lr_ingest_input *in;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof;
    assert_int_equal(lr_ingest_input_open(path, LR_INGEST_AUTO, f->def, &in, &err), LR_OK);
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_int_equal(line, 1);
    expect_feature(f->def, &rec, "n", "42");
    expect_feature(f->def, &rec, "x", "0.1");
    expect_feature(f->def, &rec, "tags", "p|1");
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_int_equal(line, 3);
    expect_feature(f->def, &rec, "s", NULL);
    expect_feature(f->def, &rec, "x", "1e+300");
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_EINVAL);
    assert_int_equal(line, 4);
    assert_non_null(strstr(err.msg, "'nope' is not a feature"));
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_EINVAL);
    assert_int_equal(line, 5);
    assert_non_null(strstr(err.msg, "object"));
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    expect_feature(f->def, &rec, "n", "7");
    assert_int_equal(lr_ingest_input_next(in, &rec, &line, &eof, &err), LR_OK);
    assert_true(eof);
    lr_ingest_input_close(in);
    free(path);
}

/* Reads a file to the end and returns the ids joined by spaces. */
static char *read_ids(fx *f, const char *path)
{
    lr_ingest_input *in;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof;
    char *out = calloc(1, 4096);
    if (lr_ingest_input_open(path, LR_INGEST_AUTO, f->def, &in, &err) != LR_OK)
        fail_msg("open %s: %s", path, err.msg);
    for (;;) {
        if (lr_ingest_input_next(in, &rec, &line, &eof, &err) != LR_OK)
            fail_msg("%s: %s", path, err.msg);
        if (eof)
            break;
        strncat(out, rec.record_id.ptr, rec.record_id.len);
        strcat(out, " ");
    }
    lr_ingest_input_close(in);
    return out;
}

static void test_gzip_and_zstd(void **state)
{
    fx *f = *state;
    static const char csv[] = "id,ts\nx1,2024-01-01T00:00:00Z\nx2,2024-01-01T00:00:00Z\n";
    static const char csv2[] = "x3,2024-01-01T00:00:00Z\n";

    /* gzip: two concatenated members, as `cat a.gz b.gz` makes. */
    char *gzpath = lr_test_path(f->dir, "in.csv.gz");
    gzFile gz = gzopen(gzpath, "wb");
    gzwrite(gz, csv, sizeof csv - 1);
    gzclose(gz);
    FILE *fp = fopen(gzpath, "ab");
    char *tmp2 = lr_test_path(f->dir, "second.gz");
    gz = gzopen(tmp2, "wb");
    gzwrite(gz, csv2, sizeof csv2 - 1);
    gzclose(gz);
    FILE *f2 = fopen(tmp2, "rb");
    char chunk[4096];
    size_t n = fread(chunk, 1, sizeof chunk, f2);
    fclose(f2);
    fwrite(chunk, 1, n, fp);
    fclose(fp);
    char *ids = read_ids(f, gzpath);
    assert_string_equal(ids, "x1 x2 x3 ");
    free(ids);

    /* zstd */
    size_t bound = ZSTD_compressBound(sizeof csv - 1);
    char *z = malloc(bound);
    size_t zn = ZSTD_compress(z, bound, csv, sizeof csv - 1, 3);
    assert_false(ZSTD_isError(zn));
    char *zpath = put_file(f, "in.csv.zst", z, zn);
    ids = read_ids(f, zpath);
    assert_string_equal(ids, "x1 x2 ");
    free(ids);

    /* A truncated zstd file is an error, not a short read (the cut-off last
     * row may be reported as a bad row first). */
    char *tpath = put_file(f, "trunc.csv.zst", z, zn - 4);
    lr_ingest_input *in = NULL;
    lr_error err;
    lr_record rec;
    uint64_t line;
    bool eof = false;
    lr_status st = lr_ingest_input_open(tpath, LR_INGEST_AUTO, f->def, &in, &err);
    while (in && (st == LR_OK || st == LR_EINVAL) && !eof)
        st = lr_ingest_input_next(in, &rec, &line, &eof, &err);
    if (st != LR_ECORRUPT)
        fprintf(stderr, "truncated zstd: status %d: %s\n", st, err.msg);
    assert_int_equal(st, LR_ECORRUPT);
    assert_non_null(strstr(err.msg, "zstd"));
    lr_ingest_input_close(in);
    free(z);
    free(zpath);
    free(tpath);
    free(gzpath);
    free(tmp2);
}

static void test_parquet(void **state)
{
    fx *f = *state;
    lr_pq_column_def cols[5];
    memset(cols, 0, sizeof cols);
    cols[0] = (lr_pq_column_def){.name = "id", .type = LR_PQ_BYTE_ARRAY,
                                 .logical = LR_PQ_LOGICAL_STRING};
    cols[1] = (lr_pq_column_def){.name = "ts", .type = LR_PQ_INT64,
                                 .logical = LR_PQ_LOGICAL_TIMESTAMP, .unit = LR_PQ_MICROS,
                                 .utc = true};
    cols[2] = (lr_pq_column_def){.name = "n", .type = LR_PQ_INT64, .optional = true};
    cols[3] = (lr_pq_column_def){.name = "x", .type = LR_PQ_DOUBLE};
    cols[4] = (lr_pq_column_def){.name = "tags", .type = LR_PQ_BYTE_ARRAY,
                                 .logical = LR_PQ_LOGICAL_STRING, .list = true,
                                 .optional = true};
    char *path = lr_test_path(f->dir, "in.parquet");
    lr_buf out;
    lr_buf_init(&out, 0);
    lr_pq_writer *w;
    lr_error err;
    assert_int_equal(lr_pq_writer_open(cols, 5, NULL, lr_pq_sink_buf(&out), &w, &err), LR_OK);
    for (int r = 0; r < 3; r++) {
        char id[8];
        snprintf(id, sizeof id, "p%d", r);
        assert_int_equal(lr_pq_writer_set_bytes(w, 0, id, strlen(id), &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_i64(w, 1, 1704067200000000LL + r * 1500000, &err), LR_OK);
        if (r != 1)
            assert_int_equal(lr_pq_writer_set_i64(w, 2, r * 10, &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_double(w, 3, 0.1 * r, &err), LR_OK);
        if (r == 2) {
            assert_int_equal(lr_pq_writer_list_begin(w, 4, &err), LR_OK);
            assert_int_equal(lr_pq_writer_set_bytes(w, 4, "k", 1, &err), LR_OK);
            assert_int_equal(lr_pq_writer_set_bytes(w, 4, "l", 1, &err), LR_OK);
            assert_int_equal(lr_pq_writer_list_end(w, 4, &err), LR_OK);
        }
        assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    }
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    assert_int_equal(lr_test_write_file(path, out.data, out.len), 0);
    lr_buf_free(&out);

    lr_ingest_input *in;
    lr_record rec;
    uint64_t row;
    bool eof;
    assert_int_equal(lr_ingest_input_open(path, LR_INGEST_AUTO, f->def, &in, &err), LR_OK);
    assert_int_equal(lr_ingest_input_next(in, &rec, &row, &eof, &err), LR_OK);
    assert_int_equal(row, 1);
    expect_feature(f->def, &rec, "id", "p0");
    expect_feature(f->def, &rec, "ts", "2024-01-01T00:00:00Z");
    expect_feature(f->def, &rec, "n", "0");
    expect_feature(f->def, &rec, "x", "0");
    expect_feature(f->def, &rec, "tags", NULL);
    assert_int_equal(lr_ingest_input_next(in, &rec, &row, &eof, &err), LR_OK);
    assert_int_equal(row, 2);
    expect_feature(f->def, &rec, "ts", "2024-01-01T00:00:01.500Z");
    expect_feature(f->def, &rec, "n", NULL);
    expect_feature(f->def, &rec, "x", "0.1");
    assert_int_equal(rec.event_time_us, 1704067201500000LL);
    assert_int_equal(lr_ingest_input_next(in, &rec, &row, &eof, &err), LR_OK);
    expect_feature(f->def, &rec, "tags", "k|l");
    expect_feature(f->def, &rec, "x", "0.2");
    assert_int_equal(lr_ingest_input_next(in, &rec, &row, &eof, &err), LR_OK);
    assert_true(eof);
    lr_ingest_input_close(in);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_quoting_bom_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_bad_rows_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_header_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_and_zstd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parquet, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
