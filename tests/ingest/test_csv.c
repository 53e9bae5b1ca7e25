/*
 * test_csv.c - the CSV tokenizer of csv.h: fields with their quoted flag,
 * doubled quotes, embedded commas and line ends, the raw text of a record,
 * physical line numbers, blank lines, BOM, CRLF and lone CR, the field cap,
 * the record-size cap, and malformed records that leave the reader usable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/csv.h"
#include "support/testutil.h"

static char *dir;

static lr_csv_reader *open_text(const char *text, const lr_csv_options *opt)
{
    char *p = lr_test_path(dir, "t.csv");
    lr_csv_reader *r;
    lr_error err;
    assert_int_equal(lr_test_write_file(p, text, strlen(text)), 0);
    assert_int_equal(lr_csv_open(p, opt, &r, &err), LR_OK);
    free(p);
    return r;
}

static void field_is(const lr_csv_record *rec, size_t i, const char *want, bool quoted)
{
    assert_true(i < rec->n_fields);
    assert_int_equal(rec->fields[i].len, strlen(want));
    assert_memory_equal(rec->fields[i].ptr, want, strlen(want));
    assert_int_equal(rec->fields[i].quoted, quoted);
}

static void test_records(void **state)
{
    (void)state;
    lr_csv_record rec;
    lr_error err;
    bool eof;
    size_t n;
    lr_csv_reader *r = open_text("\xEF\xBB\xBF" "a,b,c\r\n"
                                 "1,\"x,\"\"y\"\"\",\r\n"
                                 "\n"
                                 "\"multi\nline\",,\"\"\r"
                                 "last,row,here",
                                 NULL);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_false(eof);
    assert_int_equal(rec.n_fields, 3);
    assert_int_equal(rec.line, 1);
    field_is(&rec, 0, "a", false);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_int_equal(rec.line, 2);
    field_is(&rec, 0, "1", false);
    field_is(&rec, 1, "x,\"y\"", true);
    field_is(&rec, 2, "", false);
    const char *raw = lr_csv_raw(r, &n);
    assert_int_equal(n, strlen("1,\"x,\"\"y\"\"\","));
    assert_memory_equal(raw, "1,\"x,\"\"y\"\"\",", n);
    /* A blank line is skipped; a quoted line end is content and counts as a line. */
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_int_equal(rec.line, 4);
    field_is(&rec, 0, "multi\nline", true);
    field_is(&rec, 1, "", false);
    field_is(&rec, 2, "", true);
    /* A lone CR ended that record; the last one has no line end. */
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_int_equal(rec.line, 6);
    field_is(&rec, 2, "here", false);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_true(eof);
    lr_csv_close(r);
}

static void test_malformed_and_limits(void **state)
{
    (void)state;
    lr_csv_record rec;
    lr_error err;
    bool eof;
    lr_csv_reader *r = open_text("a\"b,c\n\"q\"x,d\nok,1\n\"open,2\n", NULL);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "line 1: a quote inside an unquoted field"));
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "line 2: unexpected character after a closing quote"));
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    field_is(&rec, 0, "ok", false);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "line 4: unterminated quoted field"));
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_true(eof);
    lr_csv_close(r);

    lr_csv_options o;
    lr_csv_options_init(&o);
    o.fields_max = 2;
    o.record_max = 16;
    r = open_text("a,b,c\nshort\n0123456789,0123456789\n", &o);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_true(rec.truncated);
    assert_int_equal(rec.n_fields, 2);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_OK);
    assert_false(rec.truncated);
    assert_int_equal(lr_csv_next(r, &rec, &eof, &err), LR_ELIMIT);
    assert_non_null(strstr(err.msg, "line 3"));
    lr_csv_close(r);

    lr_csv_reader *none = NULL;
    assert_int_equal(lr_csv_open("/nonexistent/x.csv", NULL, &none, &err), LR_EIO);
    assert_null(none);
    lr_csv_close(NULL);
}

/*
 * A byte-at-a-time reference of the grammar in csv.h, written from the
 * RFC and independent of csv.c: appends "line|q:field|...|;" per record
 * (or "line|ERR;" for a malformed one) to out.
 */
static void reference(const char *t, size_t n, char *out)
{
    size_t i = 0;
    int line = 1;
    while (i < n) {
        /* Blank lines (LF, CRLF, lone CR) are skipped. */
        if (t[i] == '\n' || t[i] == '\r') {
            i += (t[i] == '\r' && i + 1 < n && t[i + 1] == '\n') ? 2 : 1;
            line++;
            continue;
        }
        int start = line;
        char rec[4096] = "";
        bool bad = false;
        for (;;) { /* one field */
            char fld[1024];
            size_t fl = 0;
            bool quoted = false;
            if (i < n && t[i] == '"') {
                quoted = true;
                i++;
                for (;;) {
                    if (i >= n) {
                        bad = true;
                        break;
                    }
                    if (t[i] == '"') {
                        if (i + 1 < n && t[i + 1] == '"') {
                            fld[fl++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (t[i] == '\n')
                        line++;
                    fld[fl++] = t[i++];
                }
                while (i < n && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
                    bad = true; /* text after the closing quote */
                    i++;
                }
            } else {
                while (i < n && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
                    if (t[i] == '"')
                        bad = true;
                    fld[fl++] = t[i++];
                }
            }
            fld[fl] = '\0';
            snprintf(rec + strlen(rec), sizeof rec - strlen(rec), "%c:%s|", quoted ? 'q' : 'u',
                     fld);
            if (i < n && t[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        if (i < n) { /* the record's end */
            i += (t[i] == '\r' && i + 1 < n && t[i + 1] == '\n') ? 2 : 1;
            line++;
        }
        if (bad)
            sprintf(out + strlen(out), "%d|ERR;", start);
        else
            sprintf(out + strlen(out), "%d|%s;", start, rec);
    }
}

/* Appends every record r reads, in the reference's notation. */
static void print_records(lr_csv_reader *r, char *out)
{
    lr_csv_record rec;
    lr_error err;
    bool eof;
    for (;;) {
        lr_status st = lr_csv_next(r, &rec, &eof, &err);
        if (st == LR_EINVAL) {
            sprintf(out + strlen(out), "%d|ERR;", (int)rec.line - 1);
            continue;
        }
        assert_int_equal(st, LR_OK);
        if (eof)
            break;
        sprintf(out + strlen(out), "%d|", (int)rec.line - 1);
        for (size_t i = 0; i < rec.n_fields; i++)
            sprintf(out + strlen(out), "%c:%.*s|", rec.fields[i].quoted ? 'q' : 'u',
                    (int)rec.fields[i].len, rec.fields[i].ptr);
        strcat(out, ";");
    }
}

/* The same, from the reader over memory (the in-place path and the state machine). */
static void actual(const char *t, size_t n, char *out)
{
    lr_csv_reader *r;
    lr_error err;
    assert_int_equal(lr_csv_open_mem(t, n, 2, NULL, &r, &err), LR_OK); /* no BOM handling */
    print_records(r, out);
    lr_csv_close(r);
}

/*
 * The same text cut into chunks with lr_csv_split_point (as ingest does,
 * with blocks of `target` bytes, growing a block that holds no whole
 * record) and each chunk read by its own reader from its first line.
 */
static void chunked(const char *t, size_t n, size_t target, char *out)
{
    size_t at = 0;
    uint64_t line = 2;
    while (at < n) {
        size_t want = target, cut = 0;
        uint64_t lines = 0;
        bool forced = false; /* the rest of the input, taken whole at its end */
        for (;;) {
            size_t avail = n - at < want ? n - at : want;
            bool eof = at + avail == n;
            cut = lr_csv_split_point(t + at, avail, eof, &lines);
            if (eof && cut < avail) {
                cut = avail;
                forced = true;
            }
            if (cut > 0)
                break;
            want += target;
        }
        lr_csv_reader *r;
        lr_error err;
        assert_int_equal(lr_csv_open_mem(t + at, cut, line, NULL, &r, &err), LR_OK);
        print_records(r, out);
        if (!forced) /* the next chunk starts on the line the cut reported */
            assert_int_equal(lr_csv_line(r), line + lines);
        lr_csv_close(r);
        line += lines;
        at += cut;
    }
}

/* Text with CR and LF shown as \\r and \\n, for failure messages (static buffer). */
static const char *shown(const char *t, size_t n)
{
    static char out[256];
    size_t w = 0;
    for (size_t i = 0; i < n && w + 3 < sizeof out; i++) {
        if (t[i] == '\n' || t[i] == '\r') {
            out[w++] = '\\';
            out[w++] = t[i] == '\n' ? 'n' : 'r';
        } else {
            out[w++] = t[i];
        }
    }
    out[w] = '\0';
    return out;
}

/* Random texts over the bytes that matter agree with the reference. */
static void test_against_reference(void **state)
{
    static const char alphabet[] = "ab,,\n\n\r\"\" ";
    uint64_t seed = 0x1234567;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        char t[64], want[8192] = "", got[8192] = "";
        size_t n = (size_t)(round % 60) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            t[i] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        reference(t, n, want);
        actual(t, n, got);
        if (strcmp(want, got) != 0)
            fail_msg("text %s\nwant %s\ngot  %s", shown(t, n), want, got);
        /* Cut into chunks the way ingest cuts files: the same records, bad ones too. */
        for (size_t target = 1; target <= 9; target += 4) {
            char cut[8192] = "";
            chunked(t, n, target, cut);
            if (strcmp(want, cut) != 0)
                fail_msg("text %s in chunks of %zu\nwant %s\ngot  %s", shown(t, n), target, want,
                         cut);
        }
    }
}

int main(void)
{
    dir = lr_test_tmpdir("larder-csv");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_malformed_and_limits),
        cmocka_unit_test(test_against_reference),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lr_test_rmtree(dir);
    free(dir);
    return rc;
}
