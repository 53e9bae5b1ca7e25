/*
 * cmd_jobs.c - `larder jobs [list|show ID]`: compaction jobs from the
 * catalog, as a table or JSON (the same JSON as GET /v1/jobs). Looking at
 * jobs first declares dead the InProgress ones whose process died, so a
 * killed run shows as Failed, never as running or Completed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/compact.h"
#include "larder/value.h"

static const char jobs_usage[] =
    "Usage: larder [--data-dir DIR] jobs [list] [--group FG] [--status STATUS]\n"
    "                                    [--limit N] [--json]\n"
    "       larder [--data-dir DIR] jobs show ID [--json]\n"
    "\n"
    "Lists compaction jobs, newest first, or shows one with its partitions:\n"
    "status (InProgress, Completed, Failed), mode, files, rows and bytes in and\n"
    "out, start and end, and for a Failed job the partitions and files at fault.\n"
    "A job whose process died is shown Failed.\n"
    "\n"
    "  --group FG       only the jobs of this feature group\n"
    "  --status STATUS  only InProgress, Completed or Failed jobs\n"
    "  --limit N        at most N jobs (default 20, at most 100)\n"
    "  --json           JSON as the server's GET /v1/jobs and /v1/jobs/ID return it\n";

static void fmt_time(int64_t us, char *out)
{
    if (us == 0) {
        snprintf(out, LR_TIME_STR_MAX, "-");
        return;
    }
    lr_time_format_iso8601(us - us % 1000000, out);
}

static void fmt_duration(const lr_compact_job *j, char *out, size_t cap)
{
    int64_t end = j->end_us ? j->end_us : lr_now_us();
    double s = (double)(end - j->start_us) / 1e6;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, cap, "%.1fs", s);
    else if (s < 7200)
        snprintf(out, cap, "%.1fm", s / 60);
    else
        snprintf(out, cap, "%.1fh", s / 3600);
}

static int list_jobs(lr_catalog *cat, const char *group, lr_job_status status, uint32_t limit,
                     bool json)
{
    lr_compact_job_query q;
    lr_error err;

    memset(&q, 0, sizeof q);
    q.fg_name = group;
    q.status = status;
    q.max_results = limit;
    if (json) {
        lr_buf b;
        lr_buf_init(&b, 0);
        if (lr_compact_jobs_json(cat, &q, NULL, &b, &err) != LR_OK) {
            lr_buf_free(&b);
            return cli_fail_err(&err);
        }
        cli_print_buf(&b);
        lr_buf_free(&b);
        return LR_EXIT_OK;
    }
    lr_compact_job_list l;
    if (lr_compact_jobs_list(cat, &q, &l, &err) != LR_OK)
        return cli_fail_err(&err);
    printf("%-6s %-24s %-11s %-10s %-11s %-15s %-12s %-20s %s\n", "ID", "GROUP", "MODE", "STATUS",
           "PARTITIONS", "FILES", "ROWS", "STARTED", "TOOK");
    for (size_t i = 0; i < l.n; i++) {
        const lr_compact_job *j = &l.items[i];
        char parts[32], files[48], started[LR_TIME_STR_MAX], took[16];
        snprintf(parts, sizeof parts, "%" PRId64 "/%" PRId64, j->partitions_done, j->partitions);
        snprintf(files, sizeof files, "%" PRId64 "->%" PRId64, j->files_in, j->files_out);
        fmt_time(j->start_us, started);
        fmt_duration(j, took, sizeof took);
        printf("%-6" PRId64 " %-24.24s %-11s %-10s %-11s %-15s %-12" PRId64 " %-20s %s\n", j->id,
               j->fg_name, j->mode, lr_job_status_name(j->status), parts, files, j->rows_out,
               started, took);
    }
    if (l.n == 0)
        printf("(no jobs)\n");
    lr_compact_job_list_free(&l);
    return LR_EXIT_OK;
}

static int show_job(lr_catalog *cat, int64_t id, bool json)
{
    lr_error err;
    if (json) {
        lr_buf b;
        lr_buf_init(&b, 0);
        if (lr_compact_job_json(cat, id, &b, &err) != LR_OK) {
            lr_buf_free(&b);
            return cli_fail_err(&err);
        }
        cli_print_buf(&b);
        lr_buf_free(&b);
        return LR_EXIT_OK;
    }
    lr_compact_job_list l;
    if (lr_compact_job_get(cat, id, &l, &err) != LR_OK)
        return cli_fail_err(&err);
    const lr_compact_job *j = &l.items[0];
    char st[LR_TIME_STR_MAX], en[LR_TIME_STR_MAX], took[16];
    fmt_time(j->start_us, st);
    fmt_time(j->end_us, en);
    fmt_duration(j, took, sizeof took);
    printf("job:            %" PRId64 " (compaction)\n", j->id);
    printf("feature group:  %s\n", j->fg_name);
    printf("status:         %s\n", lr_job_status_name(j->status));
    if (j->error != NULL)
        printf("error:          %s\n", j->error);
    printf("mode:           %s%s%s, by %s%s\n", j->mode, j->date ? " " : "", j->date ? j->date : "",
           j->partition_mode, j->dedup ? ", dedup" : "");
    printf("target:         %s\n", j->target ? j->target : "in place");
    printf("holder:         pid %" PRId64 " on %s\n", j->holder.pid, j->holder.host);
    printf("started:        %s\n", st);
    printf("ended:          %s (%s)\n", en, took);
    printf("partitions:     %" PRId64 " planned, %" PRId64 " completed, %" PRId64 " failed\n",
           j->partitions, j->partitions_done, j->partitions_failed);
    printf("files:          %" PRId64 " -> %" PRId64 "\n", j->files_in, j->files_out);
    printf("rows:           %" PRId64 " -> %" PRId64 " (%" PRId64 " duplicates dropped)\n",
           j->rows_in, j->rows_out, j->rows_dropped);
    printf("bytes:          %" PRId64 " -> %" PRId64 "\n", j->bytes_in, j->bytes_out);
    if (l.n_parts > 0)
        printf("\n%-36s %-10s %-12s %-12s %s\n", "PARTITION", "STATUS", "FILES", "ROWS", "ERROR");
    for (size_t i = 0; i < l.n_parts; i++) {
        const lr_compact_job_partition *p = &l.parts[i];
        char files[40];
        snprintf(files, sizeof files, "%" PRId64 "->%" PRId64, p->files_in, p->files_out);
        printf("%-36s %-10s %-12s %-12" PRId64 " %s\n", p->partition, lr_job_status_name(p->status),
               files, p->rows_out, p->error ? p->error : "");
    }
    lr_compact_job_list_free(&l);
    return LR_EXIT_OK;
}

int cmd_jobs(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"group", required_argument, NULL, 'g'}, {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {0, 0, 0, 0}};
    const char *group = NULL;
    lr_job_status status = 0;
    uint32_t limit = 20;
    bool json = false;
    lr_catalog *cat = NULL;
    lr_error err;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'g':
            group = optarg;
            break;
        case 's':
            if (lr_job_status_parse(optarg, &status, &err) != LR_OK || status == LR_JOB_PENDING)
                return cli_usage("jobs", "--status must be InProgress, Completed or Failed");
            break;
        case 'l': {
            char *e;
            long v = strtol(optarg, &e, 10);
            if (*e != '\0' || v < 1 || v > 100)
                return cli_usage("jobs", "--limit must be 1..100");
            limit = (uint32_t)v;
            break;
        }
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(jobs_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("jobs", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    const char *verb = optind < argc ? argv[optind] : "list";
    int64_t id = 0;
    if (strcmp(verb, "list") == 0) {
        if (argc - optind > 1)
            return cli_usage("jobs", "unexpected argument '%s'", argv[optind + 1]);
    } else if (strcmp(verb, "show") == 0) {
        char *e = NULL;
        if (argc - optind != 2)
            return cli_usage("jobs", "show needs one job id");
        long long v = strtoll(argv[optind + 1], &e, 10);
        if (*e != '\0' || v <= 0)
            return cli_usage("jobs", "'%s' is not a job id", argv[optind + 1]);
        id = v;
    } else {
        return cli_usage("jobs", "unknown subcommand '%s' (list or show)", verb);
    }
    if (cli_ensure_data_dir(cli, &err) != LR_OK)
        return cli_fail_err(&err);
    if (lr_catalog_open(cli->data_dir, &cli->settings, &cat, &err) != LR_OK)
        return cli_fail("cannot open the catalog in %s: %s", cli->data_dir, lr_error_message(&err));
    rc = id ? show_job(cat, id, json) : list_jobs(cat, group, status, limit, json);
    lr_catalog_close(cat);
    return rc;
}
