/*
 * cmd_record.c - the record commands: `larder put`, `larder get`,
 * `larder delete` and `larder records`, thin wrappers over the online store
 * (include/larder/online.h) with the feature group's definition from the
 * catalog. The online store is LMDB in the data directory unless --online
 * (or $LARDER_ONLINE) names a Redis server.
 *
 * A put or delete also appends to the offline store (include/larder/
 * offline.h) when the group has one and TargetStores allow it, then flushes
 * before the command exits, so the row is in Parquet when it returns.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "larder/arena.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/offline.h"
#include "larder/online.h"
#include "larder/record.h"
#include "larder/value.h"

static const char put_usage[] =
    "Usage: larder [--data-dir DIR] put FG NAME=VALUE... [--ttl DURATION]\n"
    "                  [--target-stores online,offline] [--online URI]\n"
    "\n"
    "Writes one record (PutRecord) to feature group FG. Each argument NAME=VALUE\n"
    "sets a feature; collection features take a JSON array, e.g. tags='[\"a\",\"b\"]'\n"
    "or embedding='[0.5,1.25]'. The record identifier and the event time are\n"
    "required; every value must parse as its feature's type.\n"
    "\n"
    "  --ttl DURATION         the record's TTL (30s, 90m, 12h, 7d, 2w), overriding\n"
    "                         the group's default\n"
    "  --target-stores S      online, offline or both (default: the group's stores)\n"
    "  --online URI           the online store: a data directory, lmdb:PATH or\n"
    "                         redis://[user:password@]host:port[/db]\n"
    "                         (default $LARDER_ONLINE, else LMDB in the data dir)\n"
    "\n"
    "A record older than the stored one leaves the online store unchanged (a note\n"
    "says so); it still goes to the offline store. The offline row is flushed to\n"
    "Parquet before the command exits.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

static const char get_usage[] =
    "Usage: larder [--data-dir DIR] get FG ID [--features A,B,...] [--expires]\n"
    "                  [--json] [--online URI]\n"
    "\n"
    "Reads the record ID of feature group FG from the online store (GetRecord)\n"
    "and prints NAME=VALUE lines (collections as JSON arrays).\n"
    "\n"
    "  --features A,B   only these features\n"
    "  --expires        also print ExpiresAt=TIME when the record has a TTL\n"
    "  --json           print GetRecord's JSON response\n"
    "  --online URI     as for put\n"
    "\n"
    "A missing, expired or soft-deleted record is a failure (exit status 1).\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

static const char delete_usage[] =
    "Usage: larder [--data-dir DIR] delete FG ID --event-time TIME [--hard]\n"
    "                  [--online URI]\n"
    "\n"
    "Deletes the record ID of feature group FG (DeleteRecord). A soft delete\n"
    "(the default) keeps the identifier and event time with every other feature\n"
    "null; --hard removes the record. TIME is written as the group's event-time\n"
    "feature takes it (ISO-8601 UTC, or epoch seconds for a Fractional one).\n"
    "A soft delete that is not newer than the stored record changes nothing (a\n"
    "note says so); a hard delete that is not newer fails. Either kind appends a\n"
    "delete marker (is_deleted = true) to the offline store when the group has one.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

static const char records_usage[] =
    "Usage: larder [--data-dir DIR] records FG [--include-deleted]\n"
    "                  [--max-results N] [--next-token T] [--json] [--online URI]\n"
    "\n"
    "Lists the record identifiers of feature group FG in the online store\n"
    "(ListRecords), one per line. Without --max-results every page is read;\n"
    "with it, one page is printed and the token of the next one goes to stderr\n"
    "as 'next-token: T'.\n"
    "\n"
    "  --include-deleted   also list soft-deleted records\n"
    "  --max-results N     one page of at most N (1..1000) identifiers\n"
    "  --next-token T      continue after a previous page\n"
    "  --json              print ListRecords' JSON response\n"
    "  --online URI        as for put\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

/* Everything a record command holds; released by release(). */
typedef struct rec_ctx {
    lr_catalog *cat;
    lr_fg_def *def;
    lr_online *online;
    lr_online_reader *reader;
    lr_arena *arena;
} rec_ctx;

static void release(rec_ctx *c)
{
    lr_online_reader_close(c->reader);
    lr_online_close(c->online);
    lr_fg_def_free(c->def);
    lr_catalog_close(c->cat);
    lr_arena_free(c->arena);
}

/* Loads the group and opens its online store (and a reader when asked). */
static int open_group(lr_cli *cli, const char *ref, const char *online_flag, bool reader,
                      rec_ctx *c)
{
    lr_online_options o;
    lr_error err;
    int rc;

    if ((rc = cli_load_group(cli, ref, &c->cat, &c->def)) != LR_EXIT_OK)
        return rc;
    if (!c->def->has_online_config || !c->def->online_enabled)
        return cli_fail("feature group %s has no online store", c->def->name);
    lr_online_options_init(&o);
    if (lr_online_open(cli_online_uri(cli, online_flag), &o, &c->online, &err) != LR_OK)
        return cli_fail("online store: %s", lr_error_message(&err));
    if (reader && lr_online_reader_open(c->online, &c->reader, &err) != LR_OK)
        return cli_fail("online store: %s", lr_error_message(&err));
    return LR_EXIT_OK;
}

/*
 * Appends a row to the offline store (a record, or with rec NULL a delete
 * marker for id at event time `when`) and flushes it, so it is in Parquet
 * when the command returns.
 */
static int offline_append(lr_cli *cli, const lr_fg_def *def, const lr_record *rec, const char *id,
                          const char *when, int64_t api_us)
{
    lr_offline *s = NULL;
    lr_offline_config oc;
    lr_error err;
    lr_status st;
    int rc = LR_EXIT_OK;

    lr_offline_config_init(&oc);
    if (lr_offline_open(cli->data_dir, &cli->settings, &oc, &s, &err) != LR_OK)
        return cli_fail("offline store: %s", lr_error_message(&err));
    if (rec != NULL)
        st = lr_offline_put(s, def, rec, api_us, &err);
    else
        st = lr_offline_delete(s, def, id, strlen(id), when, strlen(when), api_us, &err);
    if (st != LR_OK)
        rc = cli_fail("offline store: %s", lr_error_message(&err));
    else if (lr_offline_flush(s, &err) != LR_OK)
        rc = cli_fail("offline store: the row is in the write-ahead log but not yet in Parquet "
                      "(the next flush writes it): %s",
                      lr_error_message(&err));
    lr_offline_close(s);
    return rc;
}

/* ---- put ---- */

/*
 * Parses a JSON array of strings and numbers into items, keeping number
 * text as written (a Fractional "0.1" stays "0.1"). Strings are decoded with
 * their escapes. Returns LR_EINVAL with a message on malformed input.
 */
static lr_status parse_list(lr_arena *a, const char *name, const char *s, lr_str **items,
                            uint32_t *n, lr_error *err)
{
    size_t len = strlen(s), i = 0, cap = 16;
    lr_str *out = lr_arena_alloc(a, cap * sizeof *out);
    uint32_t k = 0;

#define WS()                                                                                       \
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))               \
    i++
    if (out == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    WS();
    if (i >= len || s[i] != '[')
        goto bad;
    i++;
    WS();
    if (i < len && s[i] == ']') {
        i++;
        goto end;
    }
    for (;;) {
        lr_str item;
        WS();
        if (i >= len)
            goto bad;
        if (s[i] == '"') {
            size_t start = i++;
            json_t *j;
            json_error_t je;
            while (i < len && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= len)
                goto bad;
            i++;
            j = json_loadb(s + start, i - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            if (j == NULL || !json_is_string(j)) {
                json_decref(j);
                goto bad;
            }
            item.len = json_string_length(j);
            item.ptr = lr_arena_strndup(a, json_string_value(j), item.len);
            json_decref(j);
            if (item.ptr == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
        } else {
            size_t start = i;
            while (i < len && s[i] != ',' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
                   s[i] != '\n' && s[i] != '\r')
                i++;
            if (i == start)
                goto bad;
            item.ptr = s + start;
            item.len = i - start;
        }
        if (k == cap) {
            lr_str *grown = lr_arena_alloc(a, 2 * cap * sizeof *grown);
            if (grown == NULL)
                return lr_error_set(err, LR_ENOMEM, "out of memory");
            memcpy(grown, out, cap * sizeof *out);
            out = grown;
            cap *= 2;
        }
        out[k++] = item;
        WS();
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == ']') {
            i++;
            break;
        }
        goto bad;
    }
end:
    WS();
    if (i != len)
        goto bad;
#undef WS
    *items = out;
    *n = k;
    return LR_OK;
bad:
    return lr_error_set(err, LR_EINVAL,
                        "feature '%s' is a collection: its value must be a JSON array of "
                        "strings or numbers, e.g. %s='[\"a\",\"b\"]'",
                        name, name);
}

static int parse_targets(const char *cmd, const char *s, bool *online, bool *offline)
{
    char buf[64];
    *online = *offline = false;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "online") == 0 || strcmp(t, "OnlineStore") == 0)
            *online = true;
        else if (strcmp(t, "offline") == 0 || strcmp(t, "OfflineStore") == 0)
            *offline = true;
        else
            return cli_usage(cmd, "--target-stores: '%s' is not online or offline", t);
    }
    if (!*online && !*offline)
        return cli_usage(cmd, "--target-stores needs online, offline or both");
    return LR_EXIT_OK;
}

int cmd_put(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"ttl", required_argument, NULL, 't'},
                                         {"target-stores", required_argument, NULL, 's'},
                                         {"online", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *ttl_arg = NULL, *targets = NULL, *online_flag = NULL;
    rec_ctx c;
    lr_ttl ttl = {LR_TTL_NONE, 0};
    lr_record rec;
    lr_feature_value *vals = NULL;
    lr_error err;
    bool changed = false, want_online, want_offline;
    int ch, rc, nvals;
    int64_t api_us = lr_now_us(); /* api_invocation_time: when the command started */

    memset(&c, 0, sizeof c);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            ttl_arg = optarg;
            break;
        case 's':
            targets = optarg;
            break;
        case 'o':
            online_flag = optarg;
            break;
        case 'h':
            fputs(put_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("put", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return cli_usage("put", "needs a feature group and NAME=VALUE arguments");
    if (ttl_arg && lr_ttl_parse_short(ttl_arg, &ttl, &err) != LR_OK)
        return cli_usage("put", "--ttl: %s", lr_error_message(&err));
    for (int i = optind + 1; i < argc; i++) {
        if (strchr(argv[i], '=') == NULL || argv[i][0] == '=')
            return cli_usage("put", "'%s' is not NAME=VALUE", argv[i]);
    }
    if ((rc = cli_load_group(cli, argv[optind], &c.cat, &c.def)) != LR_EXIT_OK)
        goto done;
    want_online = c.def->has_online_config && c.def->online_enabled;
    want_offline = c.def->has_offline_config;
    if (targets) {
        bool on, off;
        if ((rc = parse_targets("put", targets, &on, &off)) != LR_EXIT_OK)
            goto done;
        if (off && !c.def->has_offline_config) {
            rc = cli_fail("feature group %s has no offline store", c.def->name);
            goto done;
        }
        if (on && !want_online) {
            rc = cli_fail("feature group %s has no online store", c.def->name);
            goto done;
        }
        want_online = on;
        want_offline = off;
    }
    if (!want_online && !want_offline) {
        rc = cli_fail("feature group %s has neither an online nor an offline store",
                      c.def->name);
        goto done;
    }

    /* Build the record from NAME=VALUE arguments. */
    nvals = argc - optind - 1;
    if ((c.arena = lr_arena_new(0, 64u * 1024 * 1024)) == NULL ||
        (vals = lr_arena_calloc(c.arena, (size_t)nvals, sizeof *vals)) == NULL) {
        rc = cli_fail("out of memory");
        goto done;
    }
    for (int i = 0; i < nvals; i++) {
        const char *arg = argv[optind + 1 + i], *eq = strchr(arg, '=');
        int32_t f = lr_fg_def_find_feature(c.def, arg, (size_t)(eq - arg));
        if (f < 0) {
            rc = cli_fail("feature '%.*s' is not defined in feature group %s", (int)(eq - arg), arg,
                          c.def->name);
            goto done;
        }
        vals[i].feature = (uint32_t)f;
        if (c.def->features[f].collection != LR_COLL_NONE) {
            lr_str *items = NULL;
            uint32_t n = 0;
            if (parse_list(c.arena, c.def->features[f].name, eq + 1, &items, &n, &err) != LR_OK) {
                rc = cli_fail_err(&err);
                goto done;
            }
            vals[i].is_list = true;
            vals[i].items = items;
            vals[i].n_items = n;
        } else {
            vals[i].value.ptr = eq + 1;
            vals[i].value.len = strlen(eq + 1);
        }
    }
    memset(&rec, 0, sizeof rec);
    rec.values = vals;
    rec.n_values = (uint32_t)nvals;
    if (lr_record_validate(c.def, &rec, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    if (want_online) {
        lr_online_options o;
        lr_online_options_init(&o);
        if (lr_online_open(cli_online_uri(cli, online_flag), &o, &c.online, &err) != LR_OK) {
            rc = cli_fail("online store: %s", lr_error_message(&err));
            goto done;
        }
        if (lr_online_put(c.online, c.def, &rec, ttl_arg ? &ttl : NULL, &changed, &err) !=
            LR_OK) {
            rc = cli_fail_err(&err);
            goto done;
        }
        if (!changed)
            fprintf(stderr,
                    "larder: note: the online store holds a newer record for '%.*s'; it was not "
                    "changed\n",
                    (int)(rec.record_id.len > 200 ? 200 : rec.record_id.len), rec.record_id.ptr);
    }
    if (want_offline && (rc = offline_append(cli, c.def, &rec, NULL, NULL, api_us)) != LR_EXIT_OK)
        goto done;
    rc = LR_EXIT_OK;
done:
    release(&c);
    return rc;
}

/* ---- get ---- */

static void print_list_json(lr_buf *b, const lr_online_field *f)
{
    size_t pos = 0;
    lr_str item;
    bool first = true;
    lr_buf_append(b, "[", 1);
    while (lr_online_field_item(f, &pos, &item)) {
        if (!first)
            lr_buf_append(b, ",", 1);
        lr_buf_append_json_str(b, item.ptr, item.len);
        first = false;
    }
    lr_buf_append(b, "]", 1);
}

int cmd_get(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"features", required_argument, NULL, 'f'}, {"expires", no_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},           {"online", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {0, 0, 0, 0}};
    const char *features = NULL, *online_flag = NULL, *id;
    bool expires = false, json = false;
    rec_ctx c;
    uint32_t *proj = NULL, nproj = 0;
    lr_online_row row;
    lr_error err;
    lr_buf out;
    int ch, rc;

    memset(&c, 0, sizeof c);
    lr_buf_init(&out, 0);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            features = optarg;
            break;
        case 'e':
            expires = true;
            break;
        case 'j':
            json = true;
            break;
        case 'o':
            online_flag = optarg;
            break;
        case 'h':
            fputs(get_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("get", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage("get", "needs a feature group and a record identifier");
    id = argv[optind + 1];
    if ((rc = open_group(cli, argv[optind], online_flag, true, &c)) != LR_EXIT_OK)
        goto done;
    if (features) {
        lr_str *names;
        uint32_t n = 1;
        const char *p = features;
        for (const char *q = features; *q; q++)
            n += *q == ',';
        c.arena = lr_arena_new(0, 0);
        names = c.arena ? lr_arena_alloc(c.arena, n * sizeof *names) : NULL;
        proj = c.arena ? lr_arena_alloc(c.arena, n * sizeof *proj) : NULL;
        if (names == NULL || proj == NULL) {
            rc = cli_fail("out of memory");
            goto done;
        }
        for (uint32_t i = 0; i < n; i++) {
            size_t len = strcspn(p, ",");
            names[i].ptr = p;
            names[i].len = len;
            p += len + (p[len] == ',');
        }
        if (lr_online_projection(c.def, names, n, proj, &nproj, &err) != LR_OK) {
            rc = cli_fail_err(&err);
            goto done;
        }
    }
    if (lr_online_get(c.reader, c.def, id, strlen(id), proj, nproj, &row, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    if (!row.found) {
        rc = cli_fail("no record '%s' in feature group %s", id, c.def->name);
        goto done;
    }
    if (json) {
        lr_buf_append_str(&out, "{\"Record\":[");
        for (uint32_t i = 0; i < row.n_fields; i++) {
            const lr_online_field *f = &row.fields[i];
            const char *name = c.def->features[f->feature].name;
            if (i)
                lr_buf_append(&out, ",", 1);
            lr_buf_append_str(&out, "{\"FeatureName\":");
            lr_buf_append_json_str(&out, name, strlen(name));
            if (f->is_list) {
                lr_buf_append_str(&out, ",\"ValueAsStringList\":");
                print_list_json(&out, f);
            } else {
                lr_buf_append_str(&out, ",\"ValueAsString\":");
                lr_buf_append_json_str(&out, f->data, f->len);
            }
            lr_buf_append(&out, "}", 1);
        }
        lr_buf_append(&out, "]", 1);
        if (expires && row.expires_at_us) {
            char t[LR_TIME_STR_MAX];
            lr_time_format_millis(row.expires_at_us, t);
            lr_buf_printf(&out, ",\"ExpiresAt\":\"%s\"", t);
        }
        lr_buf_append(&out, "}", 1);
        cli_print_buf(&out);
    } else {
        for (uint32_t i = 0; i < row.n_fields; i++) {
            const lr_online_field *f = &row.fields[i];
            lr_buf_clear(&out);
            lr_buf_append_str(&out, c.def->features[f->feature].name);
            lr_buf_append(&out, "=", 1);
            if (f->is_list)
                print_list_json(&out, f);
            else
                lr_buf_append(&out, f->data, f->len);
            cli_print_buf(&out);
        }
        if (expires && row.expires_at_us) {
            char t[LR_TIME_STR_MAX];
            lr_time_format_millis(row.expires_at_us, t);
            printf("ExpiresAt=%s\n", t);
        }
    }
    rc = LR_EXIT_OK;
done:
    lr_buf_free(&out);
    release(&c);
    return rc;
}

/* ---- delete ---- */

int cmd_delete(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"event-time", required_argument, NULL, 't'},
                                         {"hard", no_argument, NULL, 'H'},
                                         {"online", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *when = NULL, *online_flag = NULL, *id;
    bool hard = false, changed = false, want_online, want_offline;
    rec_ctx c;
    int64_t us, api_us = lr_now_us();
    lr_error err;
    int ch, rc;

    memset(&c, 0, sizeof c);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            when = optarg;
            break;
        case 'H':
            hard = true;
            break;
        case 'o':
            online_flag = optarg;
            break;
        case 'h':
            fputs(delete_usage, stdout);
            return LR_EXIT_OK;
        default:
            return cli_usage("delete", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage("delete", "needs a feature group and a record identifier");
    if (when == NULL)
        return cli_usage("delete", "needs --event-time TIME");
    id = argv[optind + 1];
    if ((rc = cli_load_group(cli, argv[optind], &c.cat, &c.def)) != LR_EXIT_OK)
        goto done;
    want_online = c.def->has_online_config && c.def->online_enabled;
    want_offline = c.def->has_offline_config;
    if (!want_online && !want_offline) {
        rc = cli_fail("feature group %s has neither an online nor an offline store",
                      c.def->name);
        goto done;
    }
    if (lr_event_time_parse(when, strlen(when), c.def->features[c.def->event_time_index].type, &us,
                            &err) != LR_OK) {
        rc = cli_fail("--event-time: %s", lr_error_message(&err));
        goto done;
    }
    if (want_online) {
        lr_online_options o;
        lr_online_options_init(&o);
        if (lr_online_open(cli_online_uri(cli, online_flag), &o, &c.online, &err) != LR_OK) {
            rc = cli_fail("online store: %s", lr_error_message(&err));
            goto done;
        }
        if (lr_online_delete(c.online, c.def, id, strlen(id), us, when, strlen(when), hard,
                             &changed, &err) != LR_OK) {
            rc = cli_fail_err(&err);
            goto done;
        }
        if (!changed)
            fprintf(stderr,
                    hard ? "larder: note: no record '%s' in the online store; nothing to delete\n"
                         : "larder: note: no record '%s' older than the deletion in the online "
                           "store; it was not changed\n",
                    id);
    }
    if (want_offline && (rc = offline_append(cli, c.def, NULL, id, when, api_us)) != LR_EXIT_OK)
        goto done;
    rc = LR_EXIT_OK;
done:
    release(&c);
    return rc;
}

/* ---- records ---- */

int cmd_records(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"include-deleted", no_argument, NULL, 'd'},
                                         {"max-results", required_argument, NULL, 'm'},
                                         {"next-token", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"online", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *online_flag = NULL;
    char *token = NULL;
    bool json = false, one_page = false, first = true;
    lr_online_list_query q;
    rec_ctx c;
    lr_buf out;
    lr_error err;
    int ch, rc;

    memset(&c, 0, sizeof c);
    memset(&q, 0, sizeof q);
    lr_buf_init(&out, 0);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            q.include_deleted = true;
            break;
        case 'm': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > LR_ONLINE_LIST_MAX)
                return cli_usage("records", "--max-results must be 1..%d", LR_ONLINE_LIST_MAX);
            q.max_results = (uint32_t)v;
            one_page = true;
            break;
        }
        case 'n':
            free(token);
            token = strdup(optarg);
            break;
        case 'j':
            json = true;
            break;
        case 'o':
            online_flag = optarg;
            break;
        case 'h':
            free(token);
            fputs(records_usage, stdout);
            return LR_EXIT_OK;
        default:
            free(token);
            return cli_usage("records", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        free(token);
        return cli_usage("records", "needs a feature group");
    }
    if ((rc = open_group(cli, argv[optind], online_flag, false, &c)) != LR_EXIT_OK)
        goto done;
    if (json)
        lr_buf_append_str(&out, "{\"RecordIdentifiers\":[");
    for (;;) {
        lr_online_id_page page;
        q.next_token = token;
        if (lr_online_list(c.online, c.def, &q, &page, &err) != LR_OK) {
            rc = cli_fail_err(&err);
            goto done;
        }
        for (uint32_t i = 0; i < page.n; i++) {
            if (json) {
                if (!first)
                    lr_buf_append(&out, ",", 1);
                lr_buf_append_json_str(&out, page.ids[i].ptr, page.ids[i].len);
            } else {
                fwrite(page.ids[i].ptr, 1, page.ids[i].len, stdout);
                fputc('\n', stdout);
            }
            first = false;
        }
        free(token);
        token = page.next_token ? strdup(page.next_token) : NULL;
        lr_online_id_page_free(&page);
        if (token == NULL || one_page)
            break;
    }
    if (json) {
        lr_buf_append(&out, "]", 1);
        if (token) {
            lr_buf_append_str(&out, ",\"NextToken\":");
            lr_buf_append_json_str(&out, token, strlen(token));
        }
        lr_buf_append(&out, "}", 1);
        cli_print_buf(&out);
    } else if (token) {
        fprintf(stderr, "next-token: %s\n", token);
    }
    rc = LR_EXIT_OK;
done:
    free(token);
    lr_buf_free(&out);
    release(&c);
    return rc;
}
