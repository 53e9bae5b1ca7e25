/*
 * cmd_partitions.c - `larder partitions FG`: the offline store's partitions
 * of a feature group with their file count, rows and bytes, from the
 * catalog (lr_offline_partitions in include/larder/offline.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/offline.h"
#include "larder/value.h"

static const char partitions_usage[] =
    "Usage: larder [--data-dir DIR] partitions FG [--json]\n"
    "\n"
    "Lists the partitions (year=/month=/day=/hour= folders) of feature group FG's\n"
    "offline store that hold live files, with their file count, rows, bytes and\n"
    "event-time range, then the totals. Only files registered in the catalog count\n"
    "(see 'larder repair').\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int cmd_partitions(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0, 0, 0, 0}};
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_offline_partition_info *p = NULL;
    size_t n = 0;
    bool json = false;
    lr_error err;
    lr_buf b;
    int c, rc;
    int64_t files = 0, rows = 0, bytes = 0;

    if (cli_wants_help(argc, argv)) {
        fputs(partitions_usage, stdout);
        return LR_EXIT_OK;
    }
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else
            return cli_usage("partitions", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind + 1 != argc)
        return cli_usage("partitions", "takes exactly one feature-group name");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    lr_buf_init(&b, 0);
    if (lr_offline_partitions(cat, def->name, &p, &n, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        files += p[i].files;
        rows += p[i].rows;
        bytes += p[i].bytes;
    }
    if (json) {
        char t1[LR_TIME_STR_MAX], t2[LR_TIME_STR_MAX];
        lr_status st = lr_buf_append_str(&b, "{\"FeatureGroupName\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(&b, def->name, strlen(def->name));
        if (st == LR_OK)
            st = lr_buf_append_str(&b, ",\"Location\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(&b, def->resolved_offline_uri,
                                        strlen(def->resolved_offline_uri));
        if (st == LR_OK)
            st = lr_buf_append_str(&b, ",\"Partitions\":[");
        for (size_t i = 0; i < n && st == LR_OK; i++) {
            lr_time_format_iso8601(p[i].min_event_us, t1);
            lr_time_format_iso8601(p[i].max_event_us, t2);
            st = lr_buf_printf(&b,
                               "%s{\"Partition\":\"%s\",\"Files\":%" PRId64 ",\"Rows\":%" PRId64
                               ",\"Bytes\":%" PRId64 ",\"MinEventTime\":\"%s\","
                               "\"MaxEventTime\":\"%s\"}",
                               i ? "," : "", p[i].partition, p[i].files, p[i].rows, p[i].bytes,
                               t1, t2);
        }
        if (st == LR_OK)
            st = lr_buf_printf(&b,
                               "],\"Files\":%" PRId64 ",\"Rows\":%" PRId64 ",\"Bytes\":%" PRId64
                               "}",
                               files, rows, bytes);
        if (st != LR_OK) {
            rc = cli_fail("out of memory");
            goto done;
        }
        cli_print_buf(&b);
        goto done;
    }
    printf("%-36s %8s %12s %14s  %s\n", "PARTITION", "FILES", "ROWS", "BYTES",
           "EVENT TIMES");
    for (size_t i = 0; i < n; i++) {
        char t1[LR_TIME_STR_MAX], t2[LR_TIME_STR_MAX];
        lr_time_format_iso8601(p[i].min_event_us, t1);
        lr_time_format_iso8601(p[i].max_event_us, t2);
        printf("%-36s %8" PRId64 " %12" PRId64 " %14" PRId64 "  %s .. %s\n", p[i].partition,
               p[i].files, p[i].rows, p[i].bytes, t1, t2);
    }
    printf("%zu partition(s), %" PRId64 " file(s), %" PRId64 " row(s), %" PRId64 " byte(s)\n", n,
           files, rows, bytes);
done:
    lr_buf_free(&b);
    free(p);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
