/*
 * test_cli_compact.c - `larder compact` and `larder jobs`: output, JSON and
 * exit status (0 when the job Completed, 1 when it failed with the reason on
 * stderr, 2 for usage errors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "compact_testlib.h"
#include "support/testutil.h"

static json_t *parse(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (j == NULL)
        fail_msg("bad JSON (%s): %s", je.text, s);
    return j;
}

#define LARDER(p, dir, ...) assert_int_equal(lr_test_larder(p, dir, __VA_ARGS__, NULL), 0)

static void test_cli(void **state)
{
    (void)state;
    ct_env e;
    lr_test_proc p;
    char bad[4096];

    ct_setup(&e, "cli-day");
    ct_fill(&e, "c", 0, 3, 10, 5);
    ct_fill(&e, "c", 1, 2, 10, 5);
    ct_fill(&e, "c", 30, 2, 10, 5);
    char *dir = strdup(e.dir);
    assert_non_null(dir);

    /* Usage errors: exit 2. */
    LARDER(&p, dir, "compact", "cli-day", "--mode", "day");
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "--date"));
    lr_test_proc_free(&p);
    LARDER(&p, dir, "compact", "cli-day", "--grace", "10x");
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    LARDER(&p, dir, "compact", "cli-day", "--target-file-size", "big");
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    LARDER(&p, dir, "jobs", "show");
    assert_int_equal(p.status, 2);
    lr_test_proc_free(&p);
    LARDER(&p, dir, "compact", "--help");
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "compact-offline-store"));
    lr_test_proc_free(&p);

    /* An unknown group: exit 1, one line. */
    LARDER(&p, dir, "compact", "nosuch");
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "nosuch"));
    assert_int_equal(lr_test_count_lines(p.err), 1);
    lr_test_proc_free(&p);

    /* Dry run: the plan, nothing done. */
    LARDER(&p, dir, "compact", "cli-day", "--dry-run");
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "would compact 3 partition(s) of cli-day: 7 files"));
    lr_test_proc_free(&p);

    /* One day, as JSON. */
    LARDER(&p, dir, "compact", "cli-day", "--mode", "day", "--date", "2024-06-01", "--grace", "0",
           "--json");
    assert_int_equal(p.status, 0);
    json_t *j = parse(p.out);
    assert_string_equal(json_string_value(json_object_get(j, "Status")), "Completed");
    assert_int_equal(json_integer_value(json_object_get(j, "JobId")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "Partitions")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "FilesIn")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "FilesOut")), 2);
    json_decref(j);
    lr_test_proc_free(&p);

    /* Damage the one file of the next day's partition that is left: the job fails with its path. */
    ct_reopen(&e);
    lr_offline_file_list l = {0};
    lr_error err;
    assert_int_equal(lr_catalog_offline_files(e.cat, "cli-day", e.def->creation_time_us,
                                              CT_T0 + 30 * CT_HOUR, INT64_MAX, &l, &err),
                     LR_OK);
    assert_int_equal(l.n, 2);
    snprintf(bad, sizeof bad, "%s/%s", l.items[0].root, l.items[0].key);
    lr_offline_file_list_free(&l);
    FILE *f = fopen(bad, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_SET);
    fwrite("XXXX", 1, 4, f);
    fclose(f);
    LARDER(&p, dir, "compact", "cli-day");
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, bad));
    assert_int_equal(lr_test_count_lines(p.err), 1);
    assert_non_null(strstr(p.out, "job 2 Failed"));
    lr_test_proc_free(&p);

    /* Jobs: the table, one job, and JSON as the server serves it. */
    LARDER(&p, dir, "jobs");
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "Completed"));
    assert_non_null(strstr(p.out, "Failed"));
    lr_test_proc_free(&p);
    LARDER(&p, dir, "jobs", "show", "2");
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "status:         Failed"));
    assert_non_null(strstr(p.out, bad));
    lr_test_proc_free(&p);
    LARDER(&p, dir, "jobs", "show", "2", "--json");
    assert_int_equal(p.status, 0);
    j = parse(p.out);
    assert_string_equal(json_string_value(json_object_get(j, "Status")), "Failed");
    json_t *parts = json_object_get(j, "PartitionResults");
    assert_int_equal(json_array_size(parts), 1);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(parts, 0), "FailureReason")), bad));
    json_decref(j);
    lr_test_proc_free(&p);
    LARDER(&p, dir, "jobs", "list", "--status", "Completed", "--json");
    assert_int_equal(p.status, 0);
    j = parse(p.out);
    assert_int_equal(json_array_size(json_object_get(j, "Jobs")), 1);
    json_decref(j);
    lr_test_proc_free(&p);
    LARDER(&p, dir, "jobs", "show", "99");
    assert_int_equal(p.status, 1);
    lr_test_proc_free(&p);

    ct_teardown(&e, false);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
