/*
 * cmd_repair.c - `larder repair FG [--dry-run]`: Hive's MSCK REPAIR TABLE
 * for the offline store (lr_offline_repair in include/larder/offline.h):
 * registers Parquet files found in storage whose schema is the group's,
 * reports the ones it refuses and the registered files storage lacks, and
 * says what it did.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/offline.h"

static const char repair_usage[] =
    "Usage: larder [--data-dir DIR] repair FG [--dry-run] [--json]\n"
    "\n"
    "Compares feature group FG's offline storage with the catalog (like Hive's\n"
    "MSCK REPAIR TABLE):\n"
    "  - registers .parquet files in year=/month=/day=/hour= folders that the\n"
    "    catalog does not list and whose columns match the group's (files written\n"
    "    by other tools, such as DuckDB or Spark);\n"
    "  - refuses files with another schema, outside the layout, or left by an\n"
    "    interrupted flush, and says why;\n"
    "  - reports files the catalog lists but storage lacks.\n"
    "\n"
    "  --dry-run   report what would be registered; change nothing\n"
    "  --json      machine-readable report\n"
    "Exit status: 0 success (also when files were refused), 1 failure, 2 usage error.\n";

static void print_items(const char *title, const lr_offline_repair_item *v, size_t n)
{
    if (n == 0)
        return;
    printf("%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        if (v[i].reason)
            printf("  %s: %s\n", v[i].uri, v[i].reason);
        else
            printf("  %s\n", v[i].uri);
    }
}

static lr_status json_items(lr_buf *b, const char *name, const lr_offline_repair_item *v, size_t n)
{
    lr_status st = lr_buf_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; i < n && st == LR_OK; i++) {
        st = lr_buf_append_str(b, i ? ",{\"Uri\":" : "{\"Uri\":");
        if (st == LR_OK)
            st = lr_buf_append_json_str(b, v[i].uri, strlen(v[i].uri));
        if (st == LR_OK && v[i].reason) {
            st = lr_buf_append_str(b, ",\"Reason\":");
            if (st == LR_OK)
                st = lr_buf_append_json_str(b, v[i].reason, strlen(v[i].reason));
        }
        if (st == LR_OK)
            st = lr_buf_append_byte(b, '}');
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(b, ']');
    return st;
}

int cmd_repair(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0, 0, 0, 0}};
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_offline_repair_report r;
    bool dry = false, json = false;
    lr_error err;
    int c, rc;

    if (cli_wants_help(argc, argv)) {
        fputs(repair_usage, stdout);
        return LR_EXIT_OK;
    }
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n')
            dry = true;
        else if (c == 'j')
            json = true;
        else
            return cli_usage("repair", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind + 1 != argc)
        return cli_usage("repair", "takes exactly one feature-group name");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    if (lr_offline_repair(cat, def->name, dry, &r, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    if (json) {
        lr_buf b;
        lr_buf_init(&b, 0);
        lr_status st = lr_buf_printf(&b,
                                     "{\"DryRun\":%s,\"FilesInStorage\":%llu,"
                                     "\"FilesRegistered\":%llu,\"PartitionsAdded\":%llu",
                                     dry ? "true" : "false",
                                     (unsigned long long)r.files_in_storage,
                                     (unsigned long long)r.files_registered,
                                     (unsigned long long)r.partitions_added);
        if (st == LR_OK)
            st = json_items(&b, "Added", r.added, r.n_added);
        if (st == LR_OK)
            st = json_items(&b, "Rejected", r.rejected, r.n_rejected);
        if (st == LR_OK)
            st = json_items(&b, "Missing", r.missing, r.n_missing);
        if (st == LR_OK)
            st = lr_buf_append_byte(&b, '}');
        if (st == LR_OK)
            cli_print_buf(&b);
        else
            rc = cli_fail("out of memory");
        lr_buf_free(&b);
    } else {
        print_items(dry ? "would register" : "registered", r.added, r.n_added);
        print_items("refused", r.rejected, r.n_rejected);
        print_items("listed in the catalog but missing from storage", r.missing, r.n_missing);
        printf("%s %zu file(s) in %llu new partition(s); %llu Parquet file(s) in storage, %llu "
               "already registered, %zu refused, %zu missing\n",
               dry ? "dry run: would register" : "registered", r.n_added,
               (unsigned long long)r.partitions_added, (unsigned long long)r.files_in_storage,
               (unsigned long long)r.files_registered, r.n_rejected, r.n_missing);
    }
    lr_offline_repair_report_free(&r);
done:
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
