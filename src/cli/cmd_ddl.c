/*
 * cmd_ddl.c - `larder ddl FG --dialect D`: prints the statements that make
 * feature group FG's offline store queryable in Athena, Hive, Trino, Spark
 * or DuckDB (lr_offline_ddl in include/larder/offline.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/offline.h"

/* DDL for a group with 2,500 features and many partitions stays far below this. */
#define DDL_MAX (256u * 1024 * 1024)

static const char ddl_usage[] =
    "Usage: larder [--data-dir DIR] ddl FG --dialect athena|hive|trino|spark|duckdb\n"
    "                              [--database DB] [--table T] [--trino-catalog C]\n"
    "                              [--live-files]\n"
    "\n"
    "Prints the statements that register feature group FG's offline store: an\n"
    "external table with the group's columns (plus write_time, api_invocation_time,\n"
    "is_deleted), partitioned by year, month, day and hour, stored as Parquet at the\n"
    "group's location, then its partitions. DuckDB gets a view over read_parquet\n"
    "with hive_partitioning.\n"
    "\n"
    "  --database DB      database or schema (default: the group's DataCatalogConfig,\n"
    "                     else sagemaker_featurestore)\n"
    "  --table T          table or view name (default: DataCatalogConfig's, else\n"
    "                     <name>_<creation epoch>, as SageMaker names it)\n"
    "  --trino-catalog C  Trino catalog of the Hive connector (default hive)\n"
    "  --live-files       DuckDB: list the catalog's live files instead of a glob,\n"
    "                     so files not (yet) registered are never read\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int cmd_ddl(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"dialect", required_argument, NULL, 'd'},
                                         {"database", required_argument, NULL, 'b'},
                                         {"table", required_argument, NULL, 't'},
                                         {"trino-catalog", required_argument, NULL, 'c'},
                                         {"live-files", no_argument, NULL, 'l'},
                                         {0, 0, 0, 0}};
    lr_offline_ddl_options o = {NULL, NULL, NULL, false};
    lr_offline_dialect d = 0;
    bool have_dialect = false;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_error err;
    lr_buf b;
    int c, rc;

    if (cli_wants_help(argc, argv)) {
        fputs(ddl_usage, stdout);
        return LR_EXIT_OK;
    }
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (lr_offline_dialect_parse(optarg, &d, &err) != LR_OK)
                return cli_usage("ddl", "%s", lr_error_message(&err));
            have_dialect = true;
            break;
        case 'b':
            o.database = optarg;
            break;
        case 't':
            o.table = optarg;
            break;
        case 'c':
            o.trino_catalog = optarg;
            break;
        case 'l':
            o.live_files_only = true;
            break;
        default:
            return cli_usage("ddl", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!have_dialect)
        return cli_usage("ddl", "--dialect is required");
    if (optind + 1 != argc)
        return cli_usage("ddl", "takes exactly one feature-group name");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    lr_buf_init(&b, DDL_MAX);
    if (lr_offline_ddl(cat, def->name, d, &o, &b, &err) != LR_OK)
        rc = cli_fail_err(&err);
    else if (b.len > 0)
        fwrite(b.data, 1, b.len, stdout);
    lr_buf_free(&b);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
