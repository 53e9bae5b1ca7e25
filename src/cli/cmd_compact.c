/*
 * cmd_compact.c - `larder compact FG`: rewrite a feature group's small
 * offline files into large sorted ones (include/larder/compact.h,
 * docs/compaction.md), with a progress bar on a terminal, a summary (or
 * JSON), and an exit status that says whether every partition was done.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "larder/compact.h"
#include "larder/fg.h"
#include "larder/parquet.h"

static const char compact_usage[] =
    "Usage: larder [--data-dir DIR] compact FG [--mode incremental|day|full]\n"
    "           [--date YYYY-MM-DD] [--partition-mode hour|day] [--copy | --target URI]\n"
    "           [--target-file-size SIZE] [--dedup] [--grace DURATION] [--dry-run]\n"
    "           [--threads N] [--memory SIZE] [--codec snappy|zstd|gzip|none]\n"
    "           [--json] [--quiet]\n"
    "\n"
    "Rewrites the small files of a feature group's offline store into files of\n"
    "about --target-file-size, sorted by record identifier, event time and\n"
    "api_invocation_time. Each partition is read, sorted (spilling to disk past\n"
    "--memory), written, read back and compared (rows and a checksum) before one\n"
    "catalog transaction swaps the old files for the new: readers see one or the\n"
    "other, never both. A killed run loses nothing; the next run cleans up.\n"
    "\n"
    "  --mode incremental  every partition whose files changed since its last\n"
    "                      compaction, late data included (default)\n"
    "  --mode full         every partition\n"
    "  --mode day          the partitions of one UTC date (needs --date)\n"
    "  --partition-mode    hour: one set of files per hour=HH folder (default);\n"
    "                      day: one per day=DD folder (copies only)\n"
    "  --copy              write the default compacted copy: the offline path with\n"
    "                      its offline-store segment replaced by compact-offline-store\n"
    "  --target URI        write a compacted copy to URI/<group>-<epoch>/data\n"
    "                      (a directory or file:// URI); default: in place\n"
    "  --target-file-size  e.g. 128MiB (default), 512MiB, 64MB\n"
    "  --dedup             drop rows superseded under the offline store's rule:\n"
    "                      same identifier and event time, keep the latest\n"
    "                      api_invocation_time, then write_time\n"
    "  --grace DURATION    keep old files this long after the swap for readers that\n"
    "                      listed them: 0, 30s, 15m (default), 1h, 2d\n"
    "  --dry-run           show what would be compacted; change nothing\n"
    "  --threads N         partitions compacted at once (default 2)\n"
    "  --memory SIZE       sorting memory for all threads (default 1GiB)\n"
    "  --json              print the result as JSON on stdout\n"
    "  --quiet             no progress bar\n"
    "\n"
    "Exit status 0 when the job Completed, 1 when any partition failed (the job is\n"
    "then Failed; 'larder jobs show ID' names the partitions and files).\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool is_canceled(void *ctx)
{
    (void)ctx;
    return interrupted != 0;
}

/* "128MiB", "64MB", "1g", "4096": bytes. KB/MB/GB are decimal, KiB/MiB/GiB and K/M/G binary. */
static bool parse_size(const char *s, uint64_t *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || v < 0)
        return false;
    while (*e == ' ')
        e++;
    uint64_t mult = 1;
    char u[8] = "";
    size_t n = strlen(e);
    if (n >= sizeof u)
        return false;
    for (size_t i = 0; i <= n; i++)
        u[i] = (char)tolower((unsigned char)e[i]);
    if (u[0] == '\0' || strcmp(u, "b") == 0)
        mult = 1;
    else if (strcmp(u, "k") == 0 || strcmp(u, "kib") == 0)
        mult = 1ULL << 10;
    else if (strcmp(u, "m") == 0 || strcmp(u, "mib") == 0)
        mult = 1ULL << 20;
    else if (strcmp(u, "g") == 0 || strcmp(u, "gib") == 0)
        mult = 1ULL << 30;
    else if (strcmp(u, "kb") == 0)
        mult = 1000;
    else if (strcmp(u, "mb") == 0)
        mult = 1000 * 1000;
    else if (strcmp(u, "gb") == 0)
        mult = 1000ULL * 1000 * 1000;
    else
        return false;
    double b = v * (double)mult;
    if (b > 1e18)
        return false;
    *out = (uint64_t)(b + 0.5);
    return true;
}

/* "0", "500ms", "30s", "15m", "1h", "2d", "1w": microseconds. */
static bool parse_duration(const char *s, int64_t *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || v < 0)
        return false;
    double mult;
    if (*e == '\0')
        mult = v == 0 ? 1 : -1; /* a bare number must be 0 */
    else if (strcmp(e, "ms") == 0)
        mult = 1e3;
    else if (strcmp(e, "s") == 0)
        mult = 1e6;
    else if (strcmp(e, "m") == 0)
        mult = 60e6;
    else if (strcmp(e, "h") == 0)
        mult = 3600e6;
    else if (strcmp(e, "d") == 0)
        mult = 86400e6;
    else if (strcmp(e, "w") == 0)
        mult = 7 * 86400e6;
    else
        return false;
    if (mult < 0 || v * mult > 9e18)
        return false;
    *out = (int64_t)(v * mult + 0.5);
    return true;
}

static void fmt_bytes(char *out, size_t cap, double v)
{
    if (v >= (double)(1ULL << 30))
        snprintf(out, cap, "%.2f GiB", v / (double)(1ULL << 30));
    else if (v >= (double)(1ULL << 20))
        snprintf(out, cap, "%.1f MiB", v / (double)(1ULL << 20));
    else if (v >= 1024)
        snprintf(out, cap, "%.1f KiB", v / 1024);
    else
        snprintf(out, cap, "%.0f B", v);
}

typedef struct ui {
    bool tty, quiet;
} ui;

/* One redrawn status line on stderr: bar, partitions, rows, throughput, ETA. */
static void on_progress(void *ctx, const lr_compact_progress *p)
{
    ui *u = ctx;
    if (!u->tty || u->quiet)
        return;
    double secs = (double)p->elapsed_us / 1e6;
    double frac = p->bytes_total ? (double)p->bytes_read / (double)p->bytes_total : 0;
    if (frac > 1)
        frac = 1;
    char bar[26], rate[32], eta[32] = "";
    int fill = (int)(frac * 24);
    for (int i = 0; i < 24; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[24] = '\0';
    fmt_bytes(rate, sizeof rate, secs > 0 ? (double)p->bytes_read / secs : 0);
    if (frac > 0.02 && frac < 1) {
        int rem = (int)(secs / frac - secs);
        snprintf(eta, sizeof eta, " ETA %d:%02d", rem / 60, rem % 60);
    }
    fprintf(stderr, "\r\033[K[%s] %3.0f%% %u/%u partitions, %" PRIu64 " rows read, %s/s%s%s", bar,
            frac * 100, p->partitions_done, p->partitions_total, p->rows_read, rate, eta,
            p->partitions_failed ? " (failures)" : "");
}

static void print_json(const char *fg, const lr_compact_result *r, bool dry, const lr_error *err,
                       lr_status st)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    lr_buf_append_str(&b, "{\"FeatureGroupName\":");
    lr_buf_append_json_str(&b, fg, strlen(fg));
    if (r->job_id > 0)
        lr_buf_printf(&b, ",\"JobId\":%lld", (long long)r->job_id);
    lr_buf_printf(&b, ",\"DryRun\":%s,\"Status\":\"%s\"", dry ? "true" : "false",
                  dry ? "Planned" : lr_job_status_name(r->status));
    if (r->target_root != NULL) {
        lr_buf_append_str(&b, ",\"Target\":");
        lr_buf_append_json_str(&b, r->target_root, strlen(r->target_root));
    }
    if (st != LR_OK) {
        const char *m = lr_error_message(err);
        lr_buf_append_str(&b, ",\"FailureReason\":");
        lr_buf_append_json_str(&b, m, strlen(m));
    }
    lr_buf_printf(&b,
                  ",\"Partitions\":%u,\"PartitionsCompleted\":%u,\"PartitionsFailed\":%u,"
                  "\"FilesIn\":%" PRIu64 ",\"FilesOut\":%" PRIu64 ",\"RowsIn\":%" PRIu64
                  ",\"RowsOut\":%" PRIu64 ",\"RowsDropped\":%" PRIu64 ",\"BytesIn\":%" PRIu64
                  ",\"BytesOut\":%" PRIu64 ",\"Seconds\":%.3f,\"PartitionResults\":[",
                  r->partitions, r->partitions_done, r->partitions_failed, r->files_in,
                  r->files_out, r->rows_in, r->rows_out, r->rows_dropped, r->bytes_in, r->bytes_out,
                  (double)r->elapsed_us / 1e6);
    for (size_t i = 0; i < r->n_parts; i++) {
        const lr_compact_partition_result *p = &r->parts[i];
        lr_buf_append_str(&b, i ? ",{\"Partition\":" : "{\"Partition\":");
        lr_buf_append_json_str(&b, p->partition, strlen(p->partition));
        lr_buf_printf(&b, ",\"Status\":\"%s\"", dry ? "Planned" : lr_job_status_name(p->status));
        if (p->error != NULL) {
            lr_buf_append_str(&b, ",\"FailureReason\":");
            lr_buf_append_json_str(&b, p->error, strlen(p->error));
        }
        lr_buf_printf(&b,
                      ",\"FilesIn\":%" PRIu64 ",\"FilesOut\":%" PRIu64 ",\"RowsIn\":%" PRIu64
                      ",\"RowsOut\":%" PRIu64 ",\"RowsDropped\":%" PRIu64 ",\"BytesIn\":%" PRIu64
                      ",\"BytesOut\":%" PRIu64 "}",
                      p->files_in, p->files_out, p->rows_in, p->rows_out, p->rows_dropped,
                      p->bytes_in, p->bytes_out);
    }
    lr_buf_append_str(&b, "]}");
    cli_print_buf(&b);
    lr_buf_free(&b);
}

static void print_text(const char *fg, const lr_compact_result *r, bool dry)
{
    char bi[32], bo[32];
    fmt_bytes(bi, sizeof bi, (double)r->bytes_in);
    fmt_bytes(bo, sizeof bo, (double)r->bytes_out);
    if (dry) {
        printf("would compact %u partition(s) of %s: %" PRIu64 " files, %" PRIu64 " rows, %s%s%s\n",
               r->partitions, fg, r->files_in, r->rows_in, bi, r->target_root ? " into " : "",
               r->target_root ? r->target_root : "");
        for (size_t i = 0; i < r->n_parts; i++) {
            const lr_compact_partition_result *p = &r->parts[i];
            fmt_bytes(bi, sizeof bi, (double)p->bytes_in);
            printf("  %-36s %6" PRIu64 " files %10" PRIu64 " rows %12s\n", p->partition,
                   p->files_in, p->rows_in, bi);
        }
        return;
    }
    double secs = (double)r->elapsed_us / 1e6;
    printf("job %lld %s: %s, %u of %u partition(s) compacted, %" PRIu64 " files into %" PRIu64
           ", %" PRIu64 " rows",
           (long long)r->job_id, lr_job_status_name(r->status), fg, r->partitions_done,
           r->partitions, r->files_in, r->files_out, r->rows_out);
    if (r->rows_dropped > 0)
        printf(" (%" PRIu64 " duplicates dropped)", r->rows_dropped);
    printf(", %s into %s in %.1f s (%.0f rows/s)\n", bi, bo, secs,
           secs > 0 ? (double)r->rows_in / secs : 0);
    for (size_t i = 0; i < r->n_parts; i++)
        if (r->parts[i].status == LR_JOB_FAILED)
            printf("  failed %s: %s\n", r->parts[i].partition,
                   r->parts[i].error ? r->parts[i].error : "");
}

int cmd_compact(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"mode", required_argument, NULL, 'm'},
                                         {"date", required_argument, NULL, 'D'},
                                         {"partition-mode", required_argument, NULL, 'p'},
                                         {"copy", no_argument, NULL, 'c'},
                                         {"target", required_argument, NULL, 't'},
                                         {"target-file-size", required_argument, NULL, 's'},
                                         {"dedup", no_argument, NULL, 'd'},
                                         {"grace", required_argument, NULL, 'g'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"threads", required_argument, NULL, 'T'},
                                         {"memory", required_argument, NULL, 'M'},
                                         {"codec", required_argument, NULL, 'C'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    lr_compact_options o;
    lr_compact_result r;
    lr_error err;
    ui u = {false, false};
    bool json = false;
    char name[LR_FG_NAME_MAX + 1], target_abs[PATH_MAX + 16];
    int c;

    lr_compact_options_init(&o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (lr_compact_mode_parse(optarg, &o.mode, &err) != LR_OK)
                return cli_usage("compact", "%s", err.msg);
            break;
        case 'D':
            o.date = optarg;
            break;
        case 'p':
            if (lr_compact_partition_mode_parse(optarg, &o.partition_mode, &err) != LR_OK)
                return cli_usage("compact", "%s", err.msg);
            break;
        case 'c':
            o.copy = true;
            break;
        case 't':
            o.target = optarg;
            break;
        case 's':
            if (!parse_size(optarg, &o.target_file_bytes))
                return cli_usage("compact", "--target-file-size '%s': expected e.g. 128MiB",
                                 optarg);
            break;
        case 'd':
            o.dedup = true;
            break;
        case 'g':
            if (!parse_duration(optarg, &o.grace_us))
                return cli_usage("compact", "--grace '%s': expected 0 or e.g. 30s, 15m, 1h, 2d",
                                 optarg);
            break;
        case 'n':
            o.dry_run = true;
            break;
        case 'T': {
            char *e;
            long v = strtol(optarg, &e, 10);
            if (*e != '\0' || v < 1 || v > 64)
                return cli_usage("compact", "--threads must be 1..64");
            o.threads = (uint32_t)v;
            break;
        }
        case 'M': {
            uint64_t v;
            if (!parse_size(optarg, &v) || v > SIZE_MAX)
                return cli_usage("compact", "--memory '%s': expected e.g. 512MiB", optarg);
            o.memory_bytes = (size_t)v;
            break;
        }
        case 'C':
            if (lr_pq_codec_parse(optarg, &o.codec, &err) != LR_OK)
                return cli_usage("compact", "%s", err.msg);
            break;
        case 'j':
            json = true;
            break;
        case 'q':
            u.quiet = true;
            break;
        case 'h':
            fputs(compact_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("compact", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage("compact", "needs exactly one feature group");
    if (o.mode == LR_COMPACT_DAY && o.date == NULL)
        return cli_usage("compact", "--mode day needs --date YYYY-MM-DD");
    if (o.mode != LR_COMPACT_DAY && o.date != NULL)
        return cli_usage("compact", "--date goes with --mode day");
    if (o.copy && o.target != NULL)
        return cli_usage("compact", "--copy and --target are two ways to say where: give one");
    {
        const char *nm;
        size_t len;
        if (lr_fg_name_from_ref(argv[optind], strlen(argv[optind]), &nm, &len, &err) != LR_OK)
            return cli_fail_err(&err);
        memcpy(name, nm, len);
        name[len] = '\0';
    }
    /* A relative --target is relative to the working directory, as for any CLI path. */
    if (o.target != NULL && strstr(o.target, "://") == NULL && o.target[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return cli_fail("cannot resolve --target %s: no working directory", o.target);
        snprintf(target_abs, sizeof target_abs, "%s/%s", cwd, o.target);
        o.target = target_abs;
    }
    if (cli_ensure_data_dir(cli, &err) != LR_OK)
        return cli_fail_err(&err);
    u.tty = isatty(2) == 1;
    o.progress = on_progress;
    o.progress_ctx = &u;
    o.canceled = is_canceled;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    lr_status st = lr_compact_run(cli->data_dir, &cli->settings, name, &o, &r, &err);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (u.tty && !u.quiet)
        fputs("\r\033[K", stderr);
    if (json)
        print_json(name, &r, o.dry_run, &err, st);
    else if (st == LR_OK || r.job_id > 0)
        print_text(name, &r, o.dry_run);
    lr_compact_result_free(&r);
    if (st != LR_OK)
        return cli_fail_err(&err);
    return LR_EXIT_OK;
}
