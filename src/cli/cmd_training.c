/*
 * cmd_training.c - `larder training-set`: a point-in-time training set
 * from an entity file and feature groups' offline stores, a thin wrapper
 * over lr_training_set_build() (include/larder/training.h); plus the helpers
 * that export and materialize share (training_cli.h).
 */
#include <errno.h>
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
#include "larder/value.h"

#define GROUPS_MAX 64

static const char training_usage[] =
    "Usage: larder [--data-dir DIR] training-set --entities FILE --entity-id COL\n"
    "           --timestamp COL --features FG[:F1,F2,...] [--features ...]\n"
    "           [--max-age DUR|none] [--as-of T] --out FILE [options]\n"
    "\n"
    "Builds a point-in-time correct training set: for every row of the entity file\n"
    "and every feature group, the group's record as it was at the row's timestamp:\n"
    "the latest record with event time <= the timestamp (duplicates resolved by the\n"
    "latest api_invocation_time, then write_time; a delete hides the record), no\n"
    "older than the max age; nulls when there is none. The output keeps the entity\n"
    "rows in order with all their columns, then the features; a feature whose name\n"
    "is taken (by an entity column or another group's feature) is named FG__NAME.\n"
    "docs/training-sets.md has the exact rules.\n"
    "\n"
    "  --entities FILE      CSV (may be .gz/.zst) or Parquet, with a header/schema\n"
    "  --entity-id COL      the column holding record identifiers\n"
    "  --timestamp COL      the column holding the rows' times: ISO-8601 UTC, a\n"
    "                       Parquet timestamp or date, or epoch seconds\n"
    "  --features FG[:LIST] a feature group and, optionally, the features wanted\n"
    "                       (default: all but the record identifier); repeatable\n"
    "  --max-age DUR        ignore records older than DUR at the row's time (7d, 12h,\n"
    "                       90m, 3600s, 1w), or 'none'; default: each group's TTL\n"
    "  --as-of T            time travel: use only offline rows written at or before\n"
    "                       T (ISO-8601 UTC or epoch seconds)\n"
    "  --out FILE           the output, .parquet or .csv (replaced when complete)\n"
    "  --entities-format F  csv or parquet, when the name does not say\n"
    "  --format F           the output's format, when the name does not say\n"
    "  --codec C            Parquet compression: snappy (default), zstd, gzip, none\n" TCLI_RESOURCE_HELP
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int tcli_parse_time(const char *cmd, const char *flag, const char *s, int64_t *us)
{
    size_t n = strlen(s);
    if (lr_time_parse_iso8601(s, n, us, NULL) == LR_OK ||
        lr_event_time_parse(s, n, LR_FT_FRACTIONAL, us, NULL) == LR_OK)
        return LR_EXIT_OK;
    return cli_usage(cmd, "%s: '%s' is not a time (yyyy-MM-ddTHH:mm:ssZ or epoch seconds)", flag,
                     s);
}

int tcli_parse_size(const char *cmd, const char *flag, const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (end == s || errno != 0)
        return cli_usage(cmd, "%s: '%s' is not a size", flag, s);
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    else if (*end != '\0')
        return cli_usage(cmd, "%s: '%s' is not a size (a number, then K, M or G)", flag, s);
    if (shift && end[1] != '\0' && !((end[1] == 'B' || end[1] == 'i') && end[2] == '\0'))
        return cli_usage(cmd, "%s: '%s' is not a size", flag, s);
    if (v == 0 || v > (SIZE_MAX >> shift))
        return cli_usage(cmd, "%s: '%s' is out of range", flag, s);
    *out = (size_t)v << shift;
    return LR_EXIT_OK;
}

int tcli_parse_count(const char *cmd, const char *flag, const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v == 0 || v > 256)
        return cli_usage(cmd, "%s: '%s' is not a number from 1 to 256", flag, s);
    *out = (uint32_t)v;
    return LR_EXIT_OK;
}

int tcli_resource_option(const char *cmd, int c, const char *arg, lr_training_resources *res,
                         bool *json, tcli_progress *ui, bool *handled)
{
    *handled = true;
    switch (c) {
    case 'm': return tcli_parse_size(cmd, "--memory", arg, &res->memory_max);
    case 'T': return tcli_parse_count(cmd, "--threads", arg, &res->threads);
    case 'd': res->temp_dir = arg; return LR_EXIT_OK;
    case 'j': *json = true; return LR_EXIT_OK;
    case 'q': ui->quiet = true; return LR_EXIT_OK;
    default: *handled = false; return LR_EXIT_OK;
    }
}

void tcli_on_progress(void *ctx, const lr_training_progress *p)
{
    tcli_progress *ui = ctx;
    if (!ui->tty || ui->quiet)
        return;
    double secs = p->elapsed_us / 1e6;
    if (p->total > 0)
        fprintf(stderr, "\r\033[K%s: %" PRIu64 " of %" PRIu64 " (%.0f%%), %.1f s", p->phase,
                p->done, p->total, 100.0 * (double)p->done / (double)p->total, secs);
    else
        fprintf(stderr, "\r\033[K%s: %" PRIu64 ", %.1f s", p->phase, p->done, secs);
}

void tcli_json_str(const char *s)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    if (lr_buf_append_json_str(&b, s, strlen(s)) == LR_OK)
        fwrite(b.data, 1, b.len, stdout);
    else
        fputs("\"\"", stdout);
    lr_buf_free(&b);
}

void tcli_progress_end(const tcli_progress *ui)
{
    if (ui->tty && !ui->quiet)
        fputs("\r\033[K", stderr);
}

/* Splits "FG[:a,b,c]" into a group spec; the strings live in *owned. */
static int parse_features(const char *arg, lr_training_features *f, char **owned)
{
    char *s = strdup(arg);
    if (s == NULL)
        return cli_fail("out of memory");
    *owned = s;
    memset(f, 0, sizeof *f);
    f->max_age_us = LR_TRAINING_MAX_AGE_TTL;
    char *colon = strchr(s, ':');
    f->group = s;
    if (colon == NULL)
        return LR_EXIT_OK;
    *colon = '\0';
    char *list = colon + 1;
    uint32_t n = 1;
    for (char *q = list; *q; q++)
        n += *q == ',';
    const char **names = calloc(n, sizeof *names);
    if (names == NULL)
        return cli_fail("out of memory");
    f->features = names;
    f->n_features = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        names[f->n_features++] = t;
    if (f->n_features == 0 || *f->group == '\0')
        return cli_usage("training-set", "--features '%s': expected FG or FG:F1,F2,...", arg);
    return LR_EXIT_OK;
}

int cmd_training(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"entities", required_argument, NULL, 'e'},
                                         {"entity-id", required_argument, NULL, 'i'},
                                         {"timestamp", required_argument, NULL, 't'},
                                         {"features", required_argument, NULL, 'f'},
                                         {"max-age", required_argument, NULL, 'a'},
                                         {"as-of", required_argument, NULL, 's'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"entities-format", required_argument, NULL, 'E'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"codec", required_argument, NULL, 'c'},
                                         TCLI_RESOURCE_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_training_set_options opt;
    lr_training_features groups[GROUPS_MAX];
    char *owned[GROUPS_MAX];
    uint32_t ng = 0;
    int64_t max_age = LR_TRAINING_MAX_AGE_TTL;
    tcli_progress ui = {0};
    bool json = false;
    lr_catalog *cat = NULL;
    lr_training_stats stats;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    lr_training_set_options_init(&opt);
    memset(owned, 0, sizeof owned);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool handled;
        if ((rc = tcli_resource_option("training-set", c, optarg, &opt.res, &json, &ui, &handled)) !=
            LR_EXIT_OK)
            goto done;
        if (handled)
            continue;
        switch (c) {
        case 'e': opt.entities = optarg; break;
        case 'i': opt.entity_id = optarg; break;
        case 't': opt.timestamp = optarg; break;
        case 'f':
            if (ng == GROUPS_MAX) {
                rc = cli_usage("training-set", "at most %d --features", GROUPS_MAX);
                goto done;
            }
            if ((rc = parse_features(optarg, &groups[ng], &owned[ng])) != LR_EXIT_OK) {
                ng++;
                goto done;
            }
            ng++;
            break;
        case 'a':
            if (strcmp(optarg, "none") == 0) {
                max_age = LR_TRAINING_MAX_AGE_NONE;
            } else {
                lr_ttl ttl;
                if (lr_ttl_parse_short(optarg, &ttl, &err) != LR_OK) {
                    rc = cli_usage("training-set", "--max-age: '%s' is not a duration (7d, 12h, "
                                                   "90m, 3600s, 1w) or none",
                                   optarg);
                    goto done;
                }
                max_age = lr_ttl_micros(ttl);
            }
            break;
        case 's':
            if ((rc = tcli_parse_time("training-set", "--as-of", optarg, &opt.as_of_us)) !=
                LR_EXIT_OK)
                goto done;
            break;
        case 'o': opt.out = optarg; break;
        case 'E':
        case 'F': {
            lr_training_format f;
            if (lr_training_format_parse(optarg, &f, &err) != LR_OK) {
                rc = cli_usage("training-set", "--%s must be csv or parquet",
                               c == 'E' ? "entities-format" : "format");
                goto done;
            }
            if (c == 'E')
                opt.entities_format = f;
            else
                opt.out_format = f;
            break;
        }
        case 'c':
            if (lr_pq_codec_parse(optarg, &opt.codec, &err) != LR_OK) {
                rc = cli_usage("training-set", "--codec: %s", lr_error_message(&err));
                goto done;
            }
            break;
        case 'h': fputs(training_usage, stdout); goto done;
        default:
            rc = cli_usage("training-set", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    if (optind != argc) {
        rc = cli_usage("training-set", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (opt.entities == NULL || opt.entity_id == NULL || opt.timestamp == NULL || opt.out == NULL ||
        ng == 0) {
        rc = cli_usage("training-set",
                       "needs --entities, --entity-id, --timestamp, --features and --out");
        goto done;
    }
    for (uint32_t i = 0; i < ng; i++)
        groups[i].max_age_us = max_age;
    opt.groups = groups;
    opt.n_groups = ng;
    ui.tty = isatty(2) == 1;
    opt.res.progress = tcli_on_progress;
    opt.res.progress_ctx = &ui;
    if (lr_catalog_open(cli->data_dir, &cli->settings, &cat, &err) != LR_OK) {
        rc = cli_fail("cannot open the catalog in %s: %s", cli->data_dir, lr_error_message(&err));
        goto done;
    }
    lr_status st = lr_training_set_build(cat, &opt, &stats, &err);
    tcli_progress_end(&ui);
    if (st != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    double secs = stats.elapsed_us / 1e6;
    if (json) {
        fputs("{\"out\":", stdout);
        tcli_json_str(opt.out);
        printf(",\"entity_rows\":%" PRIu64 ",\"feature_rows\":%" PRIu64
               ",\"matches\":%" PRIu64 ",\"spilled_bytes\":%" PRIu64
               ",\"buckets\":%" PRIu32 ",\"threads\":%" PRIu32 ",\"seconds\":%.3f}\n",
               stats.entity_rows, stats.feature_rows, stats.matches,
               stats.spilled_bytes, stats.buckets, stats.threads, secs);
    } else if (!ui.quiet) {
        fprintf(stderr,
                "wrote %s: %" PRIu64 " entity rows, %" PRIu64 " (row, group) matches from %" PRIu64
                " offline rows in %.2f s\n",
                opt.out, stats.entity_rows, stats.matches, stats.feature_rows, secs);
    }
done:
    for (uint32_t i = 0; i < ng; i++) {
        free((void *)groups[i].features);
        free(owned[i]);
    }
    lr_catalog_close(cat);
    return rc;
}
