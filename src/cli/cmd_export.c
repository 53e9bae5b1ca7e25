/*
 * cmd_export.c - `larder export FG --latest`: the latest record of every
 * identifier of a feature group, from its offline store, to a Parquet or
 * CSV file; a thin wrapper over lr_training_export()
 * (include/larder/training.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/training_cli.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/training.h"

static const char export_usage[] =
    "Usage: larder [--data-dir DIR] export FG --latest --out FILE [--as-of T]\n"
    "           [--start T] [--end T] [--features F1,F2,...] [options]\n"
    "\n"
    "Writes the latest record of every record identifier of feature group FG (a\n"
    "name or an ARN) from its offline store: per identifier, the row with the\n"
    "latest event time (duplicates resolved by the latest api_invocation_time, then\n"
    "write_time); identifiers whose latest row is a delete are left out. No TTL\n"
    "applies. Rows come grouped by a hash of the identifier (not sorted).\n"
    "\n"
    "  --latest          the latest record per identifier (the only mode)\n"
    "  --out FILE        the output, .parquet or .csv (replaced when complete)\n"
    "  --as-of T         time travel: use only rows written at or before T\n"
    "  --start T, --end T  only rows with event times in [start, end)\n"
    "  --features LIST   the features to write (default: all, in definition order)\n"
    "  --format F        csv or parquet, when the name does not say\n"
    "  --codec C         Parquet compression: snappy (default), zstd, gzip, none\n"
    TCLI_RESOURCE_HELP
    "Times are ISO-8601 UTC (2024-05-01T10:00:00Z) or epoch seconds.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int cmd_export(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"latest", no_argument, NULL, 'l'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {"start", required_argument, NULL, 's'},
                                         {"end", required_argument, NULL, 'e'},
                                         {"features", required_argument, NULL, 'f'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"codec", required_argument, NULL, 'c'},
                                         TCLI_RESOURCE_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_training_export_options opt;
    lr_training_stats stats;
    tcli_progress ui = {0};
    bool json = false, latest = false;
    char *flist = NULL;
    const char **names = NULL;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    lr_training_export_options_init(&opt);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool handled;
        if ((rc = tcli_resource_option("export", c, optarg, &opt.res, &json, &ui, &handled)) !=
            LR_EXIT_OK)
            goto done;
        if (handled)
            continue;
        switch (c) {
        case 'l': latest = true; break;
        case 'o': opt.out = optarg; break;
        case 'a':
            if ((rc = tcli_parse_time("export", "--as-of", optarg, &opt.as_of_us)) != LR_EXIT_OK)
                goto done;
            break;
        case 's':
            if ((rc = tcli_parse_time("export", "--start", optarg, &opt.start_us)) != LR_EXIT_OK)
                goto done;
            break;
        case 'e':
            if ((rc = tcli_parse_time("export", "--end", optarg, &opt.end_us)) != LR_EXIT_OK)
                goto done;
            break;
        case 'f':
            free(flist);
            flist = strdup(optarg);
            if (flist == NULL) {
                rc = cli_fail("out of memory");
                goto done;
            }
            break;
        case 'F':
            if (lr_training_format_parse(optarg, &opt.out_format, &err) != LR_OK) {
                rc = cli_usage("export", "--format must be csv or parquet");
                goto done;
            }
            break;
        case 'c':
            if (lr_pq_codec_parse(optarg, &opt.codec, &err) != LR_OK) {
                rc = cli_usage("export", "--codec: %s", lr_error_message(&err));
                goto done;
            }
            break;
        case 'h': fputs(export_usage, stdout); goto done;
        default:
            rc = cli_usage("export", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    if (optind + 1 != argc) {
        rc = cli_usage("export", "takes exactly one feature-group name");
        goto done;
    }
    if (!latest) {
        rc = cli_usage("export", "--latest is required (the only export mode)");
        goto done;
    }
    if (opt.out == NULL) {
        rc = cli_usage("export", "--out is required");
        goto done;
    }
    if (opt.start_us >= opt.end_us) {
        rc = cli_usage("export", "--start must be before --end");
        goto done;
    }
    if (flist != NULL) {
        uint32_t n = 1;
        for (char *q = flist; *q; q++)
            n += *q == ',';
        names = calloc(n, sizeof *names);
        if (names == NULL) {
            rc = cli_fail("out of memory");
            goto done;
        }
        for (char *save = NULL, *t = strtok_r(flist, ",", &save); t; t = strtok_r(NULL, ",", &save))
            names[opt.n_features++] = t;
        if (opt.n_features == 0) {
            rc = cli_usage("export", "--features needs at least one name");
            goto done;
        }
        opt.features = names;
    }
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        goto done;
    opt.group = def->name;
    ui.tty = isatty(2) == 1;
    opt.res.progress = tcli_on_progress;
    opt.res.progress_ctx = &ui;
    lr_status st = lr_training_export(cat, &opt, &stats, &err);
    tcli_progress_end(&ui);
    if (st != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    double secs = stats.elapsed_us / 1e6;
    if (json) {
        fputs("{\"feature_group\":", stdout);
        tcli_json_str(def->name);
        fputs(",\"out\":", stdout);
        tcli_json_str(opt.out);
        printf(",\"rows\":%" PRIu64 ",\"feature_rows\":%" PRIu64 ",\"spilled_bytes\":%" PRIu64
               ",\"seconds\":%.3f}\n",
               stats.output_rows, stats.feature_rows, stats.spilled_bytes, secs);
    } else if (!ui.quiet) {
        fprintf(stderr, "wrote %s: %" PRIu64 " records from %" PRIu64 " offline rows in %.2f s\n",
                opt.out, stats.output_rows, stats.feature_rows, secs);
    }
done:
    free(names);
    free(flist);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
