/*
 * cmd_datagen.c - `larder datagen smart-meter`: writes the deterministic
 * sample dataset (include/larder/datagen.h) as CSV, or prints its
 * feature-group definition.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/datagen.h"

static const char datagen_usage[] =
    "Usage: larder datagen smart-meter [--households N] [--days N] [--seed N]\n"
    "                                  --out FILE|-\n"
    "       larder datagen smart-meter --definition\n"
    "\n"
    "Writes daily household energy readings in the shape of the public\n"
    "smart-meter dataset as CSV (household_id, day, energy_median, energy_mean,\n"
    "energy_max, energy_count, energy_std, energy_sum, energy_min, event_time).\n"
    "The same options give the same bytes. Defaults: 5566 households, 829 days\n"
    "from 2011-11-23, seed 1 (about 3.5 million rows).\n"
    "\n"
    "  --definition   print the feature-group definition for the data\n"
    "  --json         print the summary as JSON\n";

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno || v > max)
        return cli_usage("datagen", "%s must be a whole number up to %" PRIu64, opt, max);
    *out = v;
    return LR_EXIT_OK;
}

int cmd_datagen(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"households", required_argument, NULL, 'H'},
                                         {"days", required_argument, NULL, 'd'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"definition", no_argument, NULL, 'D'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_datagen_opts o;
    lr_datagen_stats stats;
    lr_error err;
    const char *out_path = NULL;
    bool definition = false, json = false;
    uint64_t v;
    int c, rc;

    (void)cli;
    lr_datagen_opts_init(&o);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(datagen_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? LR_EXIT_USAGE : LR_EXIT_OK;
    }
    if (strcmp(argv[1], "smart-meter") != 0)
        return cli_usage("datagen", "unknown dataset '%s' (known: smart-meter)", argv[1]);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        rc = LR_EXIT_OK;
        switch (c) {
        case 'H':
            rc = parse_u64("--households", optarg, 999999, &v);
            o.households = (uint32_t)v;
            break;
        case 'd':
            rc = parse_u64("--days", optarg, 100000, &v);
            o.days = (uint32_t)v;
            break;
        case 's': rc = parse_u64("--seed", optarg, UINT64_MAX, &o.seed); break;
        case 'o': out_path = optarg; break;
        case 'D': definition = true; break;
        case 'j': json = true; break;
        case 'h': fputs(datagen_usage, stdout); return LR_EXIT_OK;
        default:
            return cli_usage("datagen", "unknown or incomplete option '%s'", argv[optind]);
        }
        if (rc != LR_EXIT_OK)
            return rc;
    }
    if (optind + 1 < argc)
        return cli_usage("datagen", "unexpected argument '%s'", argv[optind + 1]);
    if (definition) {
        fputs(lr_datagen_smart_meter_definition(), stdout);
        return LR_EXIT_OK;
    }
    if (out_path == NULL)
        return cli_usage("datagen", "smart-meter needs --out FILE (or - for stdout)");

    bool to_stdout = strcmp(out_path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(out_path, "wb");
    if (f == NULL)
        return cli_fail("cannot create %s: %s", out_path, strerror(errno));
    static char iobuf[1 << 20];
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    lr_status st = lr_datagen_smart_meter_csv(&o, f, &stats, &err);
    if (!to_stdout && fclose(f) != 0 && st == LR_OK)
        st = lr_error_set(&err, LR_EIO, "writing %s: %s", out_path, strerror(errno));
    if (st != LR_OK) {
        if (!to_stdout)
            remove(out_path);
        return cli_fail_err(&err);
    }
    if (!to_stdout) {
        if (json)
            printf("{\"rows\":%" PRIu64 ",\"partial_days\":%" PRIu64 ",\"bytes\":%" PRIu64
                   ",\"households\":%" PRIu32 ",\"days\":%" PRIu32 ",\"seed\":%" PRIu64 "}\n",
                   stats.rows, stats.partial_days, stats.bytes, o.households, o.days, o.seed);
        else
            fprintf(stderr, "wrote %" PRIu64 " rows (%" PRIu64 " partial days, %" PRIu64
                    " bytes) to %s\n", stats.rows, stats.partial_days, stats.bytes, out_path);
    }
    return LR_EXIT_OK;
}
