/*
 * test_cli_ingest.c - `larder ingest` end to end: every input format and
 * type, bad rows in each mode, the same file twice, and the generator.
 * Runs the binary on a fresh data directory and reads the results back
 * through `larder get` (online) and `larder offline` (offline Parquet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testutil.h"

static const char def_json[] =
    "{\"FeatureGroupName\":\"orders\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"qty\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"price\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"note\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"tags\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\"},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static const char csv[] =
    "\xEF\xBB\xBFid,ts,qty,price,note,tags\r\n"
    "a,2024-03-01T10:00:00Z,1,9.5,\"hello, world\",\"[\"\"x\"\"]\"\r\n"
    "b,2024-03-01T11:30:00Z,-2,0.25,,\r\n"
    "a,2024-03-01T12:00:00Z,3,NaN,\"multi\nline\",[]\r\n"
    "a,2024-03-01T09:00:00Z,4,1,older,\r\n";

typedef struct fx {
    char *dir;
    char *data;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = lr_test_tmpdir("larder-cli-ingest");
    f->data = lr_test_path(f->dir, "data");
    char *def = lr_test_path(f->dir, "def.json");
    assert_int_equal(lr_test_write_file(def, def_json, sizeof def_json - 1), 0);
    lr_test_proc p;
    lr_test_larder(&p, f->data, "fg", "create", "--file", def, NULL);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);
    free(def);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f);
    return 0;
}

static char *put(fx *f, const char *name, const void *data, size_t len)
{
    char *p = lr_test_path(f->dir, name);
    assert_int_equal(lr_test_write_file(p, data, len), 0);
    return p;
}

/* Rows of `larder offline orders --format ndjson [--resolved]`, parsed. */
static json_t *offline_rows(fx *f, bool resolved)
{
    lr_test_proc p;
    if (resolved)
        lr_test_larder(&p, f->data, "offline", "orders", "--format", "ndjson", "--resolved", NULL);
    else
        lr_test_larder(&p, f->data, "offline", "orders", "--format", "ndjson", NULL);
    if (p.status != 0)
        fprintf(stderr, "offline: %s\n", p.err);
    assert_int_equal(p.status, 0);
    json_t *rows = json_array();
    char *save = NULL;
    for (char *line = strtok_r(p.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        json_array_append_new(rows, o);
    }
    lr_test_proc_free(&p);
    return rows;
}

static json_t *find_row(json_t *rows, const char *id, const char *ts)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0 &&
            strncmp(json_string_value(json_object_get(r, "ts")), ts, strlen(ts)) == 0)
            return r;
    }
    return NULL;
}

static void get_json(fx *f, const char *id, json_t **out)
{
    lr_test_proc p;
    lr_test_larder(&p, f->data, "get", "orders", id, "--json", NULL);
    if (p.status != 0)
        fprintf(stderr, "get %s: %s\n", id, p.err);
    assert_int_equal(p.status, 0);
    json_error_t je;
    *out = json_loads(p.out, 0, &je);
    assert_non_null(*out);
    lr_test_proc_free(&p);
}

static const char *record_value(json_t *get, const char *name)
{
    size_t i;
    json_t *fv;
    json_array_foreach(json_object_get(get, "Record"), i, fv)
    {
        if (strcmp(json_string_value(json_object_get(fv, "FeatureName")), name) == 0)
            return json_string_value(json_object_get(fv, "ValueAsString"));
    }
    return NULL;
}

static void test_csv_both_stores(void **state)
{
    fx *f = *state;
    char *path = put(f, "orders.csv", csv, sizeof csv - 1);
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", path, "--json", "--threads", "3", NULL);
    if (p.status != 0)
        fprintf(stderr, "%s\n", p.err);
    assert_int_equal(p.status, 0);
    json_error_t je;
    json_t *sum = json_loads(p.out, 0, &je);
    assert_non_null(sum);
    assert_int_equal(json_integer_value(json_object_get(sum, "rows")), 4);
    assert_int_equal(json_integer_value(json_object_get(sum, "rejected")), 0);
    assert_int_equal(json_integer_value(json_object_get(sum, "offline_rows")), 4);
    assert_int_equal(json_integer_value(json_object_get(sum, "online_written")), 2);
    json_decref(sum);
    lr_test_proc_free(&p);

    /* Online: the latest event time per id, values exactly as written. */
    json_t *a, *b;
    get_json(f, "a", &a);
    assert_string_equal(record_value(a, "ts"), "2024-03-01T12:00:00Z");
    assert_string_equal(record_value(a, "qty"), "3");
    assert_string_equal(record_value(a, "price"), "NaN");
    assert_string_equal(record_value(a, "note"), "multi\nline");
    get_json(f, "b", &b);
    assert_string_equal(record_value(b, "price"), "0.25");
    assert_null(record_value(b, "note")); /* an empty field is a missing value */
    json_decref(a);
    json_decref(b);

    /* Offline: every row, typed, in Parquet. */
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 4);
    json_t *r = find_row(rows, "a", "2024-03-01T10:00:00");
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "qty")), 1);
    assert_true(json_real_value(json_object_get(r, "price")) == 9.5);
    assert_string_equal(json_string_value(json_object_get(r, "note")), "hello, world");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "tags"), 0)), "x");
    assert_false(json_is_true(json_object_get(r, "is_deleted")));
    r = find_row(rows, "a", "2024-03-01T09:00:00");
    assert_non_null(r); /* older than the online record: offline only */
    json_decref(rows);
    free(path);
}

static void test_same_file_twice(void **state)
{
    fx *f = *state;
    char *path = put(f, "orders.csv", csv, sizeof csv - 1);
    lr_test_proc p;
    for (int i = 0; i < 2; i++) {
        lr_test_larder(&p, f->data, "ingest", "orders", path, "--json", NULL);
        assert_int_equal(p.status, 0);
        json_error_t je;
        json_t *sum = json_loads(p.out, 0, &je);
        /* The second time, equal event times rewrite the same values. */
        assert_int_equal(json_integer_value(json_object_get(sum, "offline_rows")), 4);
        json_decref(sum);
        lr_test_proc_free(&p);
    }
    json_t *a;
    get_json(f, "a", &a);
    assert_string_equal(record_value(a, "qty"), "3");
    json_decref(a);
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 8); /* doubled */
    json_decref(rows);
    rows = offline_rows(f, true);
    assert_int_equal(json_array_size(rows), 4); /* and resolvable */
    json_decref(rows);
    free(path);
}

static const char bad_csv[] = "id,ts,qty\n"
                              "a,2024-03-01T10:00:00Z,1\n"
                              "b,2024-03-01T10:00:00Z,1.5\n"
                              "c,2024-03-01T10:00:00Z,3\n"
                              "d,not-a-time,4\n"
                              "e,2024-03-01T10:00:00Z,5\n";

static void test_bad_rows_fail_mode(void **state)
{
    fx *f = *state;
    char *path = put(f, "bad.csv", bad_csv, sizeof bad_csv - 1);
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", path, NULL);
    assert_int_equal(p.status, 1);
    /* The reason names the file, the line and the feature; the summary says
     * what was written before the stop. */
    char want[512];
    snprintf(want, sizeof want, "larder: %s: line 3:", path);
    assert_non_null(strstr(p.err, want));
    assert_non_null(strstr(p.err, "qty"));
    assert_non_null(strstr(p.err, "stopped after 1 rows"));
    lr_test_proc_free(&p);
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    free(path);
}

static void test_bad_rows_skip_mode(void **state)
{
    fx *f = *state;
    char *path = put(f, "bad.csv", bad_csv, sizeof bad_csv - 1);
    char *rej = lr_test_path(f->dir, "rejects.ndjson");
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", path, "--on-error", "skip", "--rejects", rej,
                   "--json", NULL);
    assert_int_equal(p.status, 0);
    json_error_t je;
    json_t *sum = json_loads(p.out, 0, &je);
    assert_int_equal(json_integer_value(json_object_get(sum, "rows")), 3);
    assert_int_equal(json_integer_value(json_object_get(sum, "rejected")), 2);
    json_decref(sum);
    lr_test_proc_free(&p);

    FILE *fp = fopen(rej, "r");
    assert_non_null(fp);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "line")), n == 0 ? 3 : 5);
        assert_string_equal(json_string_value(json_object_get(o, "row")),
                            n == 0 ? "b,2024-03-01T10:00:00Z,1.5" : "d,not-a-time,4");
        assert_non_null(strstr(json_string_value(json_object_get(o, "error")),
                               n == 0 ? "qty" : "ts"));
        json_decref(o);
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 2);
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 3);
    json_decref(rows);
    free(path);
    free(rej);
}

static void test_ndjson_parquet_gzip(void **state)
{
    fx *f = *state;
    static const char nd[] =
        "{\"id\":\"n1\",\"ts\":\"2024-03-02T00:00:00Z\",\"qty\":7,\"tags\":[\"p\",\"q\"]}\n"
        "{\"id\":\"n2\",\"ts\":\"2024-03-02T00:00:00Z\",\"price\":2.5,\"note\":null}\n";
    char *ndpath = lr_test_path(f->dir, "in.ndjson.gz");
    gzFile gz = gzopen(ndpath, "wb");
    gzwrite(gz, nd, sizeof nd - 1);
    gzclose(gz);
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", ndpath, NULL);
    if (p.status != 0)
        fprintf(stderr, "%s\n", p.err);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);

    /* A Parquet file made by `larder parquet convert` from CSV goes back in. */
    static const char pcsv[] = "id,ts,qty,price\npq1,2024-03-03T00:00:00Z,11,1.25\n";
    char *pcsv_path = put(f, "p.csv", pcsv, sizeof pcsv - 1);
    char *ppath = lr_test_path(f->dir, "p.parquet");
    lr_test_larder(&p, NULL, "parquet", "convert", pcsv_path, ppath, NULL);
    if (p.status != 0)
        fprintf(stderr, "%s\n", p.err);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "ingest", "orders", ppath, NULL);
    if (p.status != 0)
        fprintf(stderr, "%s\n", p.err);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);

    json_t *g;
    get_json(f, "n1", &g);
    assert_string_equal(record_value(g, "qty"), "7");
    json_decref(g);
    get_json(f, "pq1", &g);
    assert_string_equal(record_value(g, "qty"), "11");
    assert_string_equal(record_value(g, "price"), "1.25");
    json_decref(g);
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 3);
    json_decref(rows);
    free(ndpath);
    free(pcsv_path);
    free(ppath);
}

/*
 * A compressed file cut short: the rows decompressed before the damage are
 * written (and flushed), the run fails with the file named once and the
 * reason, and the exit code is 1.
 */
static void test_truncated_gzip(void **state)
{
    fx *f = *state;
    char *path = lr_test_path(f->dir, "cut.csv.gz");
    gzFile gz = gzopen(path, "wb");
    gzputs(gz, "id,ts,qty\n");
    for (int i = 0; i < 200000; i++)
        gzprintf(gz, "k%d,2024-03-01T%02d:00:00Z,%d\n", i, i % 24, i);
    gzclose(gz);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size / 2), 0);

    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", path, "--json", NULL);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "truncated gzip data"));
    const char *first = strstr(p.err, "cut.csv.gz");
    assert_non_null(first);
    assert_null(strstr(first + 1, "cut.csv.gz")); /* named once */
    json_error_t je;
    json_t *sum = json_loads(p.out, 0, &je);
    assert_non_null(sum);
    json_int_t written = json_integer_value(json_object_get(sum, "offline_rows"));
    assert_true(written > 0 && written < 200000);
    json_decref(sum);
    lr_test_proc_free(&p);
    json_t *rows = offline_rows(f, false);
    assert_int_equal((json_int_t)json_array_size(rows), written);
    json_decref(rows);
    free(path);
}

static void test_usage_errors(void **state)
{
    fx *f = *state;
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "ingest", "nope", "/dev/null", NULL);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "nope"));
    lr_test_proc_free(&p);
    char *path = put(f, "h.csv", "id,ts,bogus\n", 12);
    lr_test_larder(&p, f->data, "ingest", "orders", path, NULL);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "'bogus' is not a feature"));
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "ingest", "orders", path, "--on-error", "maybe", NULL);
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    lr_test_larder(&p, f->data, "ingest", "orders", path, "--threads", "0", NULL);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "--threads"));
    lr_test_proc_free(&p);
    free(path);
}

static void test_datagen_deterministic(void **state)
{
    fx *f = *state;
    char *a = lr_test_path(f->dir, "a.csv"), *b = lr_test_path(f->dir, "b.csv");
    lr_test_proc p, q;
    lr_test_larder(&p, NULL, "datagen", "smart-meter", "--households", "30", "--days", "60",
                   "--seed", "9", "--out", a, NULL);
    lr_test_larder(&q, NULL, "datagen", "smart-meter", "--households", "30", "--days", "60",
                   "--seed", "9", "--out", b, NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(q.status, 0);
    lr_test_proc_free(&p);
    lr_test_proc_free(&q);
    char *argv[] = {"/usr/bin/cmp", a, b, NULL};
    lr_test_run(argv, NULL, &p);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);
    free(a);
    free(b);
}

/* Starts `larder serve` on a free loopback port; returns its pid and port. */
static pid_t start_server(fx *f, int *port)
{
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(lr_test_larder_bin(), lr_test_larder_bin(), "--data-dir", f->data, "serve",
              "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[512];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    const char *p = strstr(line, "http://127.0.0.1:");
    if (p == NULL)
        fail_msg("serve did not start: '%s'", line);
    *port = atoi(p + strlen("http://127.0.0.1:"));
    return pid;
}

/* GET path from the server; returns the body (malloc'd) and the status. */
static char *http_get(int port, const char *path, int *status)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    *status = atoi(buf + 9);
    char *body = strstr(buf, "\r\n\r\n");
    char *out = strdup(body ? body + 4 : "");
    free(buf);
    return out;
}

/* Ingest and a server share one data directory: the server sees the rows. */
static void test_ingest_while_serving(void **state)
{
    fx *f = *state;
    int port, status;
    pid_t pid = start_server(f, &port);

    char *body = http_get(port, "/FeatureGroup/orders?RecordIdentifierValueAsString=a", &status);
    assert_int_equal(status, 200);
    assert_string_equal(body, "{}"); /* nothing yet */
    free(body);

    char *path = put(f, "orders.csv", csv, sizeof csv - 1);
    lr_test_proc p;
    lr_test_larder(&p, f->data, "ingest", "orders", path, NULL);
    if (p.status != 0)
        fprintf(stderr, "%s\n", p.err);
    assert_int_equal(p.status, 0);
    lr_test_proc_free(&p);

    body = http_get(port, "/FeatureGroup/orders?RecordIdentifierValueAsString=a", &status);
    assert_int_equal(status, 200);
    json_error_t je;
    json_t *g = json_loads(body, 0, &je);
    assert_non_null(g);
    assert_string_equal(record_value(g, "qty"), "3");
    json_decref(g);
    free(body);

    /* The offline rows are there too, while the server still runs. */
    json_t *rows = offline_rows(f, false);
    assert_int_equal(json_array_size(rows), 4);
    json_decref(rows);

    assert_int_equal(kill(pid, SIGTERM), 0);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    assert_int_equal(WEXITSTATUS(wst), 0);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_both_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_file_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_fail_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_skip_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_parquet_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datagen_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_while_serving, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
