/*
 * cmd_ingest.c - `larder ingest FG FILE...`: bulk ingestion into the online
 * and offline stores in one pass (include/larder/ingest.h), with a progress
 * bar on a terminal and a one-line (or JSON) summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/ingest.h"
#include "larder/offline.h"
#include "larder/online.h"

static const char ingest_usage[] =
    "Usage: larder [--data-dir DIR] ingest FG FILE... [--format csv|ndjson|parquet]\n"
    "           [--target-stores online,offline] [--on-error fail|skip]\n"
    "           [--rejects FILE] [--online URI] [--threads N] [--json] [--quiet]\n"
    "\n"
    "Writes every row of the files to the offline store (through its write-ahead\n"
    "log, so the offline guarantees hold) and the latest record per identifier to\n"
    "the online store. Columns are matched to features by name. Files may be gzip-\n"
    "or zstd-compressed; the format comes from the name (x.csv, x.ndjson.gz,\n"
    "x.parquet) unless --format says. When the command returns, the rows are in\n"
    "the offline store's Parquet files.\n"
    "\n"
    "  --target-stores S   online, offline or both (default: the group's stores)\n"
    "  --on-error fail     stop at the first bad row with its file, line and reason\n"
    "                      (default); the rows before it are written\n"
    "  --on-error skip     skip bad rows, count them, and write each to --rejects\n"
    "                      as an NDJSON line {file, line, error, row}\n"
    "  --online URI        the online store (default $LARDER_ONLINE, else LMDB in\n"
    "                      the data directory; redis://host:port/db for Redis)\n"
    "  --threads N         threads parsing CSV/NDJSON (default: one per core); one\n"
    "                      more writes the stores, in file order\n"
    "  --json              print the summary as JSON on stdout\n"
    "  --quiet             no progress bar\n";

typedef struct progress_ui {
    bool tty;
    bool quiet;
    int64_t last_us;
} progress_ui;

static void fmt_count(char *out, size_t cap, double v)
{
    if (v >= 1e9)
        snprintf(out, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, cap, "%.1fk", v / 1e3);
    else
        snprintf(out, cap, "%.0f", v);
}

/* Redraws one status line on stderr: bar, rows, rows/s, bytes, ETA. */
static void on_progress(void *ctx, const lr_ingest_progress *p)
{
    progress_ui *ui = ctx;
    if (!ui->tty || ui->quiet)
        return;
    double secs = p->elapsed_us / 1e6;
    char rows[16], rate[16], bytes[16];
    fmt_count(rows, sizeof rows, (double)p->rows);
    fmt_count(rate, sizeof rate, secs > 0 ? p->rows / secs : 0);
    fmt_count(bytes, sizeof bytes, (double)p->bytes);
    if (p->flushing) {
        fprintf(stderr, "\r\033[Kwriting Parquet files for %s rows...", rows);
        return;
    }
    double frac = p->bytes_total ? (double)p->bytes / (double)p->bytes_total : 0;
    if (frac > 1)
        frac = 1;
    char bar[26];
    int fill = (int)(frac * 24);
    for (int i = 0; i < 24; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[24] = '\0';
    char eta[32] = "";
    if (frac > 0.01 && frac < 1) {
        int rem = (int)(secs / frac - secs);
        snprintf(eta, sizeof eta, " ETA %d:%02d", rem / 60, rem % 60);
    }
    fprintf(stderr, "\r\033[K[%s] %3.0f%% %s rows %s rows/s %sB%s", bar, frac * 100, rows, rate,
            bytes, eta);
    if (p->rejected)
        fprintf(stderr, " (%" PRIu64 " rejected)", p->rejected);
}

static int parse_targets(const char *s, bool *online, bool *offline)
{
    *online = *offline = false;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "online") == 0 || strcmp(t, "OnlineStore") == 0)
            *online = true;
        else if (strcmp(t, "offline") == 0 || strcmp(t, "OfflineStore") == 0)
            *offline = true;
        else
            return cli_usage("ingest", "--target-stores: '%s' is not online or offline", t);
    }
    if (!*online && !*offline)
        return cli_usage("ingest", "--target-stores needs online, offline or both");
    return LR_EXIT_OK;
}

int cmd_ingest(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"target-stores", required_argument, NULL, 't'},
                                         {"on-error", required_argument, NULL, 'e'},
                                         {"rejects", required_argument, NULL, 'r'},
                                         {"online", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 'T'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_ingest_options opt;
    lr_ingest_summary sum;
    progress_ui ui = {0};
    const char *online_flag = NULL, *rejects_path = NULL, *targets = NULL;
    bool json = false;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_online *online = NULL;
    lr_offline *offline = NULL;
    FILE *rejects = NULL;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    lr_ingest_options_init(&opt);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            int f = lr_ingest_format_parse(optarg);
            if (f < 0)
                return cli_usage("ingest", "--format must be csv, ndjson or parquet");
            opt.format = (lr_ingest_format)f;
            break;
        }
        case 't': targets = optarg; break;
        case 'e':
            if (strcmp(optarg, "fail") == 0)
                opt.skip_bad_rows = false;
            else if (strcmp(optarg, "skip") == 0)
                opt.skip_bad_rows = true;
            else
                return cli_usage("ingest", "--on-error must be fail or skip");
            break;
        case 'r': rejects_path = optarg; break;
        case 'o': online_flag = optarg; break;
        case 'T': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || n < 1 || n > 16)
                return cli_usage("ingest", "--threads must be 1 to 16");
            opt.threads = (uint32_t)n;
            break;
        }
        case 'j': json = true; break;
        case 'q': ui.quiet = true; break;
        case 'h': fputs(ingest_usage, stdout); return LR_EXIT_OK;
        default:
            return cli_usage("ingest", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return cli_usage("ingest", "needs a feature group and at least one file");
    if (rejects_path && !opt.skip_bad_rows)
        return cli_usage("ingest", "--rejects goes with --on-error skip");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;

    bool want_online = def->has_online_config && def->online_enabled;
    bool want_offline = def->has_offline_config;
    if (targets) {
        bool on, off;
        if ((rc = parse_targets(targets, &on, &off)) != LR_EXIT_OK)
            goto done;
        if (on && !want_online) {
            rc = cli_fail("feature group %s has no online store", def->name);
            goto done;
        }
        if (off && !want_offline) {
            rc = cli_fail("feature group %s has no offline store", def->name);
            goto done;
        }
        want_online = on;
        want_offline = off;
    }
    opt.online = want_online;
    opt.offline = want_offline;

    if (rejects_path) {
        rejects = fopen(rejects_path, "w");
        if (rejects == NULL) {
            rc = cli_fail("cannot create %s: %s", rejects_path, strerror(errno));
            goto done;
        }
        opt.rejects = rejects;
    }
    if (want_online) {
        lr_online_options oo;
        lr_online_options_init(&oo);
        if (lr_online_open(cli_online_uri(cli, online_flag), &oo, &online, &err) != LR_OK) {
            rc = cli_fail("online store: %s", lr_error_message(&err));
            goto done;
        }
    }
    if (want_offline) {
        lr_offline_config cfg;
        lr_offline_config_init(&cfg);
        /* The flusher runs in the background and publishes from the memtable
         * (no read-back of the log) every 1 GiB of log, one file per hour
         * partition per flush; the rest is flushed when the input ends. A
         * load of up to ~6M rows of a narrow group is one flush: fewer,
         * larger files, at the cost of memory for the memtable. */
        cfg.background = true;
        cfg.flush_bytes = 1024ull * 1024 * 1024;
        if (lr_offline_open(cli->data_dir, &cli->settings, &cfg, &offline, &err) != LR_OK) {
            rc = cli_fail("offline store: %s", lr_error_message(&err));
            goto done;
        }
    }
    ui.tty = isatty(2) == 1;
    opt.progress = on_progress;
    opt.progress_ctx = &ui;

    lr_status st = lr_ingest_run(online, offline, def, (const char *const *)argv + optind + 1,
                                 (uint32_t)(argc - optind - 1), &opt, &sum, &err);
    if (ui.tty && !ui.quiet)
        fputs("\r\033[K", stderr);
    double secs = sum.elapsed_us / 1e6;
    double rate = secs > 0 ? sum.rows / secs : 0;
    if (json) {
        printf("{\"feature_group\":\"%s\",\"files\":%" PRIu32 ",\"rows\":%" PRIu64
               ",\"rejected\":%" PRIu64 ",\"offline_rows\":%" PRIu64
               ",\"online_written\":%" PRIu64 ",\"online_unchanged\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"seconds\":%.3f,\"rows_per_second\":%.0f,\"ok\":%s}\n",
               def->name, sum.files, sum.rows, sum.rejected, sum.offline_rows, sum.online_written,
               sum.online_unchanged, sum.bytes, secs, rate, st == LR_OK ? "true" : "false");
    } else {
        fprintf(stderr,
                "%s %" PRIu64 " rows (%" PRIu64 " rejected) from %" PRIu32 " file%s in %.1f s "
                "(%.0f rows/s): offline %" PRIu64 " rows, online %" PRIu64 " records changed, %"
                PRIu64 " older or superseded\n",
                st == LR_OK ? "ingested" : "stopped after", sum.rows, sum.rejected, sum.files,
                sum.files == 1 ? "" : "s", secs, rate, sum.offline_rows, sum.online_written,
                sum.online_unchanged);
    }
    if (st != LR_OK)
        rc = cli_fail_err(&err);
done:
    if (rejects && fclose(rejects) != 0 && rc == LR_EXIT_OK)
        rc = cli_fail("writing %s: %s", rejects_path, strerror(errno));
    lr_offline_close(offline);
    lr_online_close(online);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
