/*
 * cmd_materialize.c - `larder materialize FG`: loads the online store from
 * the offline store (a backfill, or a rebuild after losing the online
 * store), through the online store's event-time rule; a thin wrapper over
 * lr_training_materialize() (include/larder/training.h).
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
#include "larder/online.h"
#include "larder/training.h"

static const char materialize_usage[] =
    "Usage: larder [--data-dir DIR] materialize FG [--start T] [--end T] [--as-of T]\n"
    "           [--online URI] [options]\n"
    "\n"
    "Loads the online store of feature group FG (a name or an ARN) from its offline\n"
    "store: for every record identifier, its latest row with an event time in\n"
    "[--start, --end) (default: all) is written to the online store, a put of the\n"
    "record or, when that row is a delete, a soft delete. The online store's rule\n"
    "decides: a record there with a newer event time stays. The group's TTL applies\n"
    "from each record's event time.\n"
    "\n"
    "  --start T, --end T  event times taken into account (ISO-8601 UTC or epoch\n"
    "                    seconds)\n"
    "  --as-of T         use only offline rows written at or before T\n"
    "  --online URI      the online store (default $LARDER_ONLINE, else LMDB in the\n"
    "                    data directory; redis://host:port/db for Redis)\n"
    TCLI_RESOURCE_HELP
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int cmd_materialize(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"start", required_argument, NULL, 's'},
                                         {"end", required_argument, NULL, 'e'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {"online", required_argument, NULL, 'o'},
                                         TCLI_RESOURCE_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_training_materialize_options opt;
    lr_training_materialize_stats stats;
    tcli_progress ui = {0};
    const char *online_flag = NULL;
    bool json = false;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_online *online = NULL;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    lr_training_materialize_options_init(&opt);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool handled;
        if ((rc = tcli_resource_option("materialize", c, optarg, &opt.res, &json, &ui, &handled)) !=
            LR_EXIT_OK)
            return rc;
        if (handled)
            continue;
        switch (c) {
        case 's':
            if ((rc = tcli_parse_time("materialize", "--start", optarg, &opt.start_us)) !=
                LR_EXIT_OK)
                return rc;
            break;
        case 'e':
            if ((rc = tcli_parse_time("materialize", "--end", optarg, &opt.end_us)) != LR_EXIT_OK)
                return rc;
            break;
        case 'a':
            if ((rc = tcli_parse_time("materialize", "--as-of", optarg, &opt.as_of_us)) !=
                LR_EXIT_OK)
                return rc;
            break;
        case 'o': online_flag = optarg; break;
        case 'h': fputs(materialize_usage, stdout); return LR_EXIT_OK;
        default:
            return cli_usage("materialize", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage("materialize", "takes exactly one feature-group name");
    if (opt.start_us >= opt.end_us)
        return cli_usage("materialize", "--start must be before --end");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    if (!def->online_enabled) {
        rc = cli_fail("feature group %s has no online store", def->name);
        goto done;
    }
    lr_online_options oo;
    lr_online_options_init(&oo);
    if (lr_online_open(cli_online_uri(cli, online_flag), &oo, &online, &err) != LR_OK) {
        rc = cli_fail("online store: %s", lr_error_message(&err));
        goto done;
    }
    opt.group = def->name;
    ui.tty = isatty(2) == 1;
    opt.res.progress = tcli_on_progress;
    opt.res.progress_ctx = &ui;
    lr_status st = lr_training_materialize(cat, online, &opt, &stats, &err);
    tcli_progress_end(&ui);
    if (st != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    double secs = stats.elapsed_us / 1e6;
    if (json) {
        fputs("{\"feature_group\":", stdout);
        tcli_json_str(def->name);
        printf(",\"feature_rows\":%" PRIu64 ",\"ids\":%" PRIu64 ",\"written\":%" PRIu64
               ",\"unchanged\":%" PRIu64 ",\"deletes\":%" PRIu64 ",\"failed\":%" PRIu64
               ",\"seconds\":%.3f}\n",
               stats.feature_rows, stats.ids, stats.written, stats.unchanged, stats.deletes,
               stats.failed, secs);
    } else if (!ui.quiet) {
        fprintf(stderr,
                "materialized %s: %" PRIu64 " identifiers from %" PRIu64 " offline rows: %" PRIu64
                " written, %" PRIu64 " kept (newer online), %" PRIu64 " deletes, %" PRIu64
                " failed, in %.2f s\n",
                def->name, stats.ids, stats.feature_rows, stats.written, stats.unchanged,
                stats.deletes, stats.failed, secs);
    }
    if (stats.failed > 0)
        rc = cli_fail("%" PRIu64 " records could not be written (see the log)", stats.failed);
done:
    lr_online_close(online);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
