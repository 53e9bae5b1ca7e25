/*
 * cmd_offline.c - `larder offline FG`: prints the offline store's rows of a
 * feature group in an event-time range, as CSV or NDJSON, optionally
 * resolved (one row per record identifier and event time, deletes hidden).
 * A thin wrapper over lr_offline_scan_* (include/larder/offline.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/offline.h"
#include "larder/value.h"

#define MAX_COLUMNS 2600

static const char offline_usage[] =
    "Usage: larder [--data-dir DIR] offline FG [--start T] [--end T] [--resolved]\n"
    "                                  [--format csv|ndjson] [--columns A,B,...]\n"
    "                                  [--limit N]\n"
    "\n"
    "Prints the offline store's rows of feature group FG (a name or an ARN) whose\n"
    "event time is in [--start, --end) (ISO-8601 UTC; default: all), in partition\n"
    "order. Only files registered in the catalog are read.\n"
    "\n"
    "  --resolved      one row per (record identifier, event time): the latest\n"
    "                  api_invocation_time, then write_time; delete markers and the\n"
    "                  rows they hide (earlier event times of that record) left out\n"
    "  --format F      csv (default: a header, then one line per row) or ndjson\n"
    "  --columns LIST  the columns to print, in this order (default: every feature,\n"
    "                  then write_time, api_invocation_time, is_deleted)\n"
    "  --limit N       stop after N rows\n"
    "\n"
    "Values: timestamps as ISO-8601 UTC, collections as JSON arrays, nulls as an\n"
    "empty CSV field or JSON null.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

/* Shortest decimal that reads back as the same double. */
static void fmt_double(double d, char *out, size_t cap)
{
    if (isnan(d)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, cap, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

typedef struct printer {
    bool csv;
    lr_buf line;
    lr_buf cell;
} printer;

/* Appends `s` as a JSON string (quotes included). */
static lr_status json_str(lr_buf *b, const char *s, size_t n)
{
    return lr_buf_append_json_str(b, s, n);
}

/* One scalar slot as JSON (lists and NDJSON) into b. */
static lr_status slot_json(lr_buf *b, const lr_offline_column *c, const lr_pq_column_batch *cb,
                           uint32_t i)
{
    char t[64];
    switch (c->type) {
    case LR_OFFLINE_INT64:
        return lr_buf_printf(b, "%" PRId64, cb->i64[i]);
    case LR_OFFLINE_DOUBLE:
        fmt_double(cb->f64[i], t, sizeof t);
        if (!isfinite(cb->f64[i]))
            return json_str(b, t, strlen(t));
        return lr_buf_append_str(b, t);
    case LR_OFFLINE_TIMESTAMP: {
        char ts[LR_TIME_STR_MAX];
        size_t n = lr_time_format_iso8601(cb->i64[i], ts);
        return json_str(b, ts, n);
    }
    case LR_OFFLINE_BOOL:
        return lr_buf_append_str(b, cb->bools[i] ? "true" : "false");
    case LR_OFFLINE_STRING:
    default:
        return json_str(b, (const char *)cb->bytes + cb->offsets[i],
                        cb->offsets[i + 1] - cb->offsets[i]);
    }
}

/* A scalar slot as CSV text (unquoted) into b. */
static lr_status slot_text(lr_buf *b, const lr_offline_column *c, const lr_pq_column_batch *cb,
                           uint32_t i)
{
    char t[64];
    switch (c->type) {
    case LR_OFFLINE_INT64:
        return lr_buf_printf(b, "%" PRId64, cb->i64[i]);
    case LR_OFFLINE_DOUBLE:
        fmt_double(cb->f64[i], t, sizeof t);
        return lr_buf_append_str(b, t);
    case LR_OFFLINE_TIMESTAMP: {
        char ts[LR_TIME_STR_MAX];
        size_t n = lr_time_format_iso8601(cb->i64[i], ts);
        return lr_buf_append(b, ts, n);
    }
    case LR_OFFLINE_BOOL:
        return lr_buf_append_str(b, cb->bools[i] ? "true" : "false");
    case LR_OFFLINE_STRING:
    default:
        return lr_buf_append(b, cb->bytes + cb->offsets[i], cb->offsets[i + 1] - cb->offsets[i]);
    }
}

/* The value of row r of column c (JSON form when `json`, else CSV text) into b; false if null. */
static lr_status cell(lr_buf *b, const lr_offline_column *c, const lr_pq_column_batch *cb,
                      uint32_t r, bool json, bool *null)
{
    lr_status st = LR_OK;
    *null = cb->validity != NULL && !cb->validity[r];
    if (*null)
        return json ? lr_buf_append_str(b, "null") : LR_OK;
    if (!c->list)
        return json ? slot_json(b, c, cb, r) : slot_text(b, c, cb, r);
    st = lr_buf_append_byte(b, '[');
    for (uint32_t i = cb->list_offsets[r]; i < cb->list_offsets[r + 1] && st == LR_OK; i++) {
        if (i > cb->list_offsets[r])
            st = lr_buf_append_byte(b, ',');
        if (st == LR_OK) {
            if (cb->elem_validity != NULL && !cb->elem_validity[i])
                st = lr_buf_append_str(b, "null");
            else
                st = slot_json(b, c, cb, i);
        }
    }
    if (st == LR_OK)
        st = lr_buf_append_byte(b, ']');
    return st;
}

static lr_status print_row(printer *p, const lr_offline_column *cols, const lr_offline_batch *b,
                           uint32_t r)
{
    lr_status st = LR_OK;
    lr_buf_clear(&p->line);
    if (!p->csv)
        st = lr_buf_append_byte(&p->line, '{');
    for (uint32_t c = 0; c < b->n_columns && st == LR_OK; c++) {
        bool null;
        if (c > 0)
            st = lr_buf_append_byte(&p->line, ',');
        if (st != LR_OK)
            break;
        if (p->csv) {
            lr_buf_clear(&p->cell);
            st = cell(&p->cell, &cols[c], &b->columns[c], r, false, &null);
            if (st == LR_OK && !null)
                st = lr_buf_append_csv_field(&p->line, p->cell.data ? p->cell.data : "", p->cell.len,
                                             LR_CSV_QUOTE_SPACES);
        } else {
            st = json_str(&p->line, cols[c].name, strlen(cols[c].name));
            if (st == LR_OK)
                st = lr_buf_append_byte(&p->line, ':');
            if (st == LR_OK)
                st = cell(&p->line, &cols[c], &b->columns[c], r, true, &null);
        }
    }
    if (st == LR_OK && !p->csv)
        st = lr_buf_append_byte(&p->line, '}');
    if (st == LR_OK)
        st = lr_buf_append_byte(&p->line, '\n');
    if (st == LR_OK)
        fwrite(p->line.data, 1, p->line.len, stdout);
    return st;
}

static int parse_time(const char *flag, const char *s, int64_t *us)
{
    lr_error err;
    if (lr_time_parse_iso8601(s, strlen(s), us, &err) != LR_OK)
        return cli_usage("offline", "%s: %s", flag, lr_error_message(&err));
    return LR_EXIT_OK;
}

int cmd_offline(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"start", required_argument, NULL, 's'},
                                         {"end", required_argument, NULL, 'e'},
                                         {"resolved", no_argument, NULL, 'r'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"columns", required_argument, NULL, 'c'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {0, 0, 0, 0}};
    lr_offline_scan_options o;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    lr_offline_scan *scan = NULL;
    printer p;
    char *collist = NULL;
    const char *colv[MAX_COLUMNS];
    uint64_t limit = UINT64_MAX, printed = 0;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    if (cli_wants_help(argc, argv)) {
        fputs(offline_usage, stdout);
        return LR_EXIT_OK;
    }
    lr_offline_scan_options_init(&o);
    memset(&p, 0, sizeof p);
    p.csv = true;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if ((rc = parse_time("--start", optarg, &o.start_us)) != LR_EXIT_OK)
                return rc;
            break;
        case 'e':
            if ((rc = parse_time("--end", optarg, &o.end_us)) != LR_EXIT_OK)
                return rc;
            break;
        case 'r':
            o.resolved = true;
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0)
                p.csv = true;
            else if (strcmp(optarg, "ndjson") == 0)
                p.csv = false;
            else
                return cli_usage("offline", "--format must be csv or ndjson");
            break;
        case 'c':
            collist = optarg;
            break;
        case 'n': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || optarg[0] == '-')
                return cli_usage("offline", "--limit takes a number");
            limit = v;
            break;
        }
        default:
            return cli_usage("offline", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage("offline", "takes exactly one feature-group name");
    if (o.start_us >= o.end_us)
        return cli_usage("offline", "--start must be before --end");
    if (collist != NULL) {
        uint32_t n = 0;
        for (char *t = strtok(collist, ","); t != NULL; t = strtok(NULL, ",")) {
            if (n == MAX_COLUMNS)
                return cli_usage("offline", "too many columns");
            colv[n++] = t;
        }
        if (n == 0)
            return cli_usage("offline", "--columns needs at least one name");
        o.columns = colv;
        o.n_columns = n;
    }
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    if (lr_offline_scan_open(cat, def->name, &o, &scan, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    lr_buf_init(&p.line, 0);
    lr_buf_init(&p.cell, 0);
    uint32_t nc;
    const lr_offline_column *cols = lr_offline_scan_columns(scan, &nc);
    if (p.csv) {
        for (uint32_t i = 0; i < nc; i++) {
            if (i)
                fputc(',', stdout);
            fputs(cols[i].name, stdout);
        }
        fputc('\n', stdout);
    }
    while (printed < limit) {
        const lr_offline_batch *b = NULL;
        if (lr_offline_scan_next(scan, &b, &err) != LR_OK) {
            rc = cli_fail_err(&err);
            break;
        }
        if (b == NULL)
            break;
        for (uint32_t r = 0; r < b->n_rows && printed < limit; r++, printed++) {
            if (print_row(&p, cols, b, r) != LR_OK) {
                rc = cli_fail("out of memory formatting a row");
                goto done;
            }
        }
    }
    if (fflush(stdout) != 0 && rc == LR_EXIT_OK)
        rc = cli_fail("cannot write the output");
done:
    lr_buf_free(&p.line);
    lr_buf_free(&p.cell);
    lr_offline_scan_free(scan);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}
