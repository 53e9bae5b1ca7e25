/*
 * cmd_fg.c - `larder fg`: create, describe, list, update and delete feature
 * groups, and read or change feature metadata. Every subcommand is a thin
 * wrapper over the catalog API (include/larder/catalog.h) and the definition
 * parser (include/larder/fg.h); --json prints what the SageMaker API returns.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/value.h"

/* A definition file is JSON of at most 2500 features: a few MiB at most. */
#define FG_FILE_MAX (16u * 1024 * 1024)

static const char fg_usage[] =
    "Usage: larder [--data-dir DIR] fg SUBCOMMAND [ARGS...]\n"
    "\n"
    "Subcommands:\n"
    "  create --file DEF.json [--json]        create a feature group from a\n"
    "                                         CreateFeatureGroup request (JSON)\n"
    "  describe NAME [--json]                 show a feature group\n"
    "  list [--name-contains S] [--status S] [--offline-status S]\n"
    "       [--created-after T] [--created-before T]\n"
    "       [--sort-by Name|CreationTime|FeatureGroupStatus|OfflineStoreStatus]\n"
    "       [--sort-order Ascending|Descending] [--max-results N]\n"
    "       [--next-token T] [--all] [--json]  list feature groups\n"
    "  update NAME (--add-features FILE | --ttl DURATION|none) [--json]\n"
    "                                         add features (a JSON array of\n"
    "                                         FeatureDefinitions) or set the\n"
    "                                         online store's default TTL (7d, 12h...)\n"
    "  delete NAME                            delete a feature group (offline\n"
    "                                         data is kept)\n"
    "  feature NAME FEATURE [--description D] [--add-param KEY=VALUE]...\n"
    "       [--remove-param KEY]... [--json]  show or change feature metadata\n"
    "\n"
    "NAME may be a feature-group name or its ARN. Times (T) are ISO-8601 UTC.\n"
    "Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

static int open_catalog(lr_cli *cli, lr_catalog **cat)
{
    lr_error err;
    if (cli_ensure_data_dir(cli, &err) != LR_OK)
        return cli_fail_err(&err);
    if (lr_catalog_open(cli->data_dir, &cli->settings, cat, &err) != LR_OK)
        return cli_fail("cannot open the catalog in %s: %s", cli->data_dir,
                        lr_error_message(&err));
    return LR_EXIT_OK;
}

/* Accepts a name or an ARN; copies the name into `out`. */
static int resolve_name(const char *ref, char *out, size_t cap)
{
    const char *name;
    size_t len;
    lr_error err;
    if (lr_fg_name_from_ref(ref, strlen(ref), &name, &len, &err) != LR_OK)
        return cli_fail_err(&err);
    if (len >= cap)
        return cli_fail("feature group name is too long");
    memcpy(out, name, len);
    out[len] = '\0';
    return LR_EXIT_OK;
}

static void print_time(const char *label, int64_t us)
{
    char t[LR_TIME_STR_MAX];
    lr_time_format_iso8601(us, t);
    printf("%-26s %s\n", label, t);
}

/* Human-readable description; --json prints DescribeFeatureGroup's response
 * plus the Tags, so that every field of the create request comes back. */
static void print_def_text(const lr_fg_def *d)
{
    printf("%-26s %s\n", "FeatureGroupName", d->name);
    printf("%-26s %s\n", "FeatureGroupArn", d->arn ? d->arn : "");
    printf("%-26s %s\n", "FeatureGroupStatus", lr_fg_status_name(d->status));
    printf("%-26s %s\n", "OfflineStoreStatus", lr_offline_status_name(d->offline_status));
    print_time("CreationTime", d->creation_time_us);
    print_time("LastModifiedTime", d->last_modified_time_us);
    printf("%-26s %s\n", "RecordIdentifierFeature", d->record_id_name);
    printf("%-26s %s\n", "EventTimeFeature", d->event_time_name);
    if (d->has_online_config) {
        printf("%-26s %s", "OnlineStore", d->online_enabled ? "enabled" : "disabled");
        if (d->online_storage_type)
            printf(" (%s)", d->online_storage_type);
        if (d->online_ttl.unit != LR_TTL_NONE)
            printf(", TTL %" PRId64 " %s", d->online_ttl.value,
                   lr_ttl_unit_name(d->online_ttl.unit));
        printf("\n");
    }
    if (d->has_offline_config) {
        printf("%-26s %s\n", "OfflineStoreS3Uri", d->offline_s3_uri ? d->offline_s3_uri : "");
        if (d->resolved_offline_uri)
            printf("%-26s %s\n", "ResolvedOutputS3Uri", d->resolved_offline_uri);
    }
    if (d->description)
        printf("%-26s %s\n", "Description", d->description);
    printf("Features (%" PRIu32 "):\n", d->n_features);
    for (uint32_t i = 0; i < d->n_features; i++) {
        const lr_feature_def *f = &d->features[i];
        const char *coll = lr_collection_type_name(f->collection);
        printf("  %-40s %s", f->name, lr_feature_type_name(f->type));
        if (coll) {
            printf(" %s", coll);
            if (f->collection == LR_COLL_VECTOR)
                printf("(%" PRIu32 ")", f->vector_dim);
        }
        if (i == d->record_id_index)
            printf("  [record identifier]");
        if (i == d->event_time_index)
            printf("  [event time]");
        printf("\n");
    }
}

static int print_def_json(const lr_fg_def *d)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    if (lr_fg_def_to_json(d, LR_FG_JSON_DESCRIBE_TAGS, &b) != LR_OK) {
        lr_buf_free(&b);
        return cli_fail("out of memory");
    }
    cli_print_buf(&b);
    lr_buf_free(&b);
    return LR_EXIT_OK;
}

static int print_arn(const lr_fg_def *d, bool json)
{
    if (json) {
        lr_buf b;
        lr_buf_init(&b, 0);
        lr_buf_append_str(&b, "{\"FeatureGroupArn\":");
        lr_buf_append_json_str(&b, d->arn, strlen(d->arn));
        lr_buf_append_str(&b, "}");
        cli_print_buf(&b);
        lr_buf_free(&b);
    } else {
        printf("%s\n", d->arn);
    }
    return LR_EXIT_OK;
}

/* Resets getopt so each subcommand parses its own argv. */
static void reset_getopt(void)
{
    optind = 0;
    opterr = 0;
}

static int unknown_option(const char *sub, int argc, char **argv)
{
    const char *opt = (optind > 0 && optind <= argc) ? argv[optind - 1] : "?";
    return cli_usage("fg", "%s: unknown or incomplete option '%s'", sub, opt);
}

static int fg_create(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'}, {"json", no_argument, NULL, 'j'}, {0, 0, 0, 0}};
    const char *file = NULL;
    bool json = false;
    lr_buf body;
    lr_error err;
    lr_fg_def *def = NULL, *stored = NULL;
    lr_catalog *cat = NULL;
    int c, rc;

    reset_getopt();
    while ((c = getopt_long(argc, argv, "+f:j", opts, NULL)) != -1) {
        if (c == 'f')
            file = optarg;
        else if (c == 'j')
            json = true;
        else
            return unknown_option("create", argc, argv);
    }
    if (file == NULL)
        return cli_usage("fg", "create needs --file DEF.json");
    if (optind < argc)
        return cli_usage("fg", "create: unexpected argument '%s'", argv[optind]);

    if (cli_read_file(file, FG_FILE_MAX, &body, &err) != LR_OK)
        return cli_fail_err(&err);
    if (lr_fg_def_parse(body.data, body.len, &def, &err) != LR_OK) {
        lr_buf_free(&body);
        return cli_fail("%s: %s", file, lr_error_message(&err));
    }
    lr_buf_free(&body);
    if ((rc = open_catalog(cli, &cat)) != LR_EXIT_OK)
        goto done;
    if (lr_catalog_fg_create(cat, def, &stored, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    rc = print_arn(stored, json);
done:
    lr_fg_def_free(def);
    lr_fg_def_free(stored);
    lr_catalog_close(cat);
    return rc;
}

static int fg_describe(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0, 0, 0, 0}};
    bool json = false;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL;
    int c, rc;

    reset_getopt();
    while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else
            return unknown_option("describe", argc, argv);
    }
    if (optind + 1 != argc)
        return cli_usage("fg", "describe takes exactly one feature-group name");
    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        return rc;
    if (json) {
        rc = print_def_json(def);
    } else {
        print_def_text(def);
        rc = LR_EXIT_OK;
    }
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return rc;
}

static int parse_enum_arg(const char *opt, const char *val, const char *const *names, int n,
                          int first, int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(val, names[i]) == 0) {
            *out = first + i;
            return LR_EXIT_OK;
        }
    }
    return cli_usage("fg", "list: %s '%s' is not one of the allowed values", opt, val);
}

static int parse_time_arg(const char *opt, const char *val, int64_t *out)
{
    lr_error err;
    if (lr_time_parse_iso8601(val, strlen(val), out, &err) != LR_OK)
        return cli_usage("fg", "list: %s: %s", opt, lr_error_message(&err));
    return LR_EXIT_OK;
}

static void list_json_append(lr_buf *b, const lr_fg_summary *s, bool first)
{
    if (!first)
        lr_buf_append_byte(b, ',');
    lr_buf_append_str(b, "{\"FeatureGroupName\":");
    lr_buf_append_json_str(b, s->name, strlen(s->name));
    lr_buf_append_str(b, ",\"FeatureGroupArn\":");
    lr_buf_append_json_str(b, s->arn, strlen(s->arn));
    lr_buf_printf(b, ",\"CreationTime\":%" PRId64 ".%06" PRId64, s->creation_time_us / 1000000,
                  s->creation_time_us % 1000000);
    lr_buf_printf(b, ",\"FeatureGroupStatus\":\"%s\",\"OfflineStoreStatus\":{\"Status\":\"%s\"}}",
                  lr_fg_status_name(s->status), lr_offline_status_name(s->offline_status));
}

static int fg_list(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"name-contains", required_argument, NULL, 'n'},
                                         {"status", required_argument, NULL, 's'},
                                         {"offline-status", required_argument, NULL, 'o'},
                                         {"created-after", required_argument, NULL, 'a'},
                                         {"created-before", required_argument, NULL, 'b'},
                                         {"sort-by", required_argument, NULL, 'S'},
                                         {"sort-order", required_argument, NULL, 'O'},
                                         {"max-results", required_argument, NULL, 'm'},
                                         {"next-token", required_argument, NULL, 't'},
                                         {"all", no_argument, NULL, 'A'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0, 0, 0, 0}};
    static const char *const statuses[] = {"Creating", "Created", "CreateFailed", "Deleting",
                                           "DeleteFailed"};
    static const char *const offline[] = {"Active", "Blocked", "Disabled"};
    static const char *const sorts[] = {"CreationTime", "Name", "FeatureGroupStatus",
                                        "OfflineStoreStatus"};
    static const char *const orders[] = {"Descending", "Ascending"};
    lr_fg_list_query q;
    bool json = false, all = false;
    lr_catalog *cat = NULL;
    lr_buf out;
    lr_error err;
    char *token = NULL;
    int c, rc, v = 0;
    bool first = true;

    lr_fg_list_query_init(&q);
    reset_getopt();
    while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        rc = LR_EXIT_OK;
        switch (c) {
        case 'n': q.name_contains = optarg; break;
        case 's':
            rc = parse_enum_arg("--status", optarg, statuses, 5, LR_FG_CREATING, &v);
            q.status_equals = v;
            break;
        case 'o':
            rc = parse_enum_arg("--offline-status", optarg, offline, 3, LR_OFFLINE_ACTIVE, &v);
            q.offline_status_equals = v;
            break;
        case 'a': rc = parse_time_arg("--created-after", optarg, &q.created_after_us); break;
        case 'b': rc = parse_time_arg("--created-before", optarg, &q.created_before_us); break;
        case 'S':
            rc = parse_enum_arg("--sort-by", optarg, sorts, 4, 0, &v);
            q.sort_by = (lr_fg_sort_by)v;
            break;
        case 'O':
            rc = parse_enum_arg("--sort-order", optarg, orders, 2, 0, &v);
            q.ascending = v == 1;
            break;
        case 'm': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || n < 1 || n > 100)
                return cli_usage("fg", "list: --max-results must be 1..100");
            q.max_results = (uint32_t)n;
            break;
        }
        case 't': q.next_token = optarg; break;
        case 'A': all = true; break;
        case 'j': json = true; break;
        default: return unknown_option("list", argc, argv);
        }
        if (rc != LR_EXIT_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage("fg", "list: unexpected argument '%s'", argv[optind]);
    if ((rc = open_catalog(cli, &cat)) != LR_EXIT_OK)
        return rc;

    lr_buf_init(&out, 0);
    if (json)
        lr_buf_append_str(&out, "{\"FeatureGroupSummaries\":[");
    for (;;) {
        lr_fg_list page = {0};
        if (lr_catalog_fg_list(cat, &q, &page, &err) != LR_OK) {
            rc = cli_fail_err(&err);
            goto done;
        }
        for (uint32_t i = 0; i < page.n; i++) {
            const lr_fg_summary *s = &page.items[i];
            if (json) {
                list_json_append(&out, s, first);
            } else {
                char t[LR_TIME_STR_MAX];
                lr_time_format_iso8601(s->creation_time_us, t);
                printf("%-64s %-12s %-8s %s\n", s->name, lr_fg_status_name(s->status),
                       lr_offline_status_name(s->offline_status), t);
            }
            first = false;
        }
        free(token);
        token = page.next_token ? strdup(page.next_token) : NULL;
        lr_fg_list_free(&page);
        if (token == NULL || !all)
            break;
        q.next_token = token;
    }
    if (json) {
        lr_buf_append_byte(&out, ']');
        if (token) {
            lr_buf_append_str(&out, ",\"NextToken\":");
            lr_buf_append_json_str(&out, token, strlen(token));
        }
        lr_buf_append_byte(&out, '}');
        cli_print_buf(&out);
    } else if (token) {
        printf("NextToken: %s\n", token);
    }
    rc = LR_EXIT_OK;
done:
    free(token);
    lr_buf_free(&out);
    lr_catalog_close(cat);
    return rc;
}

static int fg_update(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"add-features", required_argument, NULL, 'a'},
                                         {"ttl", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0, 0, 0, 0}};
    const char *add_file = NULL, *ttl_arg = NULL;
    bool json = false;
    lr_catalog *cat = NULL;
    lr_fg_def *def = NULL, *next = NULL;
    lr_buf body = {0};
    lr_error err;
    int c, rc;

    reset_getopt();
    while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (c == 'a')
            add_file = optarg;
        else if (c == 't')
            ttl_arg = optarg;
        else if (c == 'j')
            json = true;
        else
            return unknown_option("update", argc, argv);
    }
    if (optind + 1 != argc)
        return cli_usage("fg", "update takes exactly one feature-group name");
    if ((add_file == NULL) == (ttl_arg == NULL))
        return cli_usage("fg", "update needs exactly one of --add-features FILE or --ttl DURATION");

    lr_ttl ttl = {LR_TTL_NONE, 0};
    if (ttl_arg && strcmp(ttl_arg, "none") != 0 && lr_ttl_parse_short(ttl_arg, &ttl, &err) != LR_OK)
        return cli_usage("fg", "update: --ttl: %s", lr_error_message(&err));
    if (add_file && cli_read_file(add_file, FG_FILE_MAX, &body, &err) != LR_OK)
        return cli_fail_err(&err);

    if ((rc = cli_load_group(cli, argv[optind], &cat, &def)) != LR_EXIT_OK)
        goto done;
    lr_status st = add_file ? lr_fg_def_add_features(def, body.data, body.len, &next, &err)
                            : lr_fg_def_set_ttl(def, ttl, &next, &err);
    if (st != LR_OK) {
        rc = add_file ? cli_fail("%s: %s", add_file, lr_error_message(&err)) : cli_fail_err(&err);
        goto done;
    }
    if (lr_catalog_fg_update(cat, next, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    rc = print_arn(next, json);
done:
    lr_buf_free(&body);
    lr_fg_def_free(def);
    lr_fg_def_free(next);
    lr_catalog_close(cat);
    return rc;
}

static int fg_delete(lr_cli *cli, int argc, char **argv)
{
    char name[LR_FG_NAME_MAX + 1];
    lr_catalog *cat = NULL;
    lr_error err;
    int rc;

    reset_getopt();
    if (getopt_long(argc, argv, "", (const struct option[]){{0, 0, 0, 0}}, NULL) != -1)
        return unknown_option("delete", argc, argv);
    if (optind + 1 != argc)
        return cli_usage("fg", "delete takes exactly one feature-group name");
    if ((rc = resolve_name(argv[optind], name, sizeof name)) != LR_EXIT_OK)
        return rc;
    if ((rc = open_catalog(cli, &cat)) != LR_EXIT_OK)
        return rc;
    if (lr_catalog_fg_delete(cat, name, &err) != LR_OK)
        rc = cli_fail_err(&err);
    lr_catalog_close(cat);
    return rc;
}

static void print_metadata(const lr_feature_metadata *m, bool json)
{
    if (json) {
        lr_buf b;
        lr_buf_init(&b, 0);
        lr_buf_append_str(&b, "{\"FeatureGroupArn\":");
        lr_buf_append_json_str(&b, m->fg_arn, strlen(m->fg_arn));
        lr_buf_append_str(&b, ",\"FeatureGroupName\":");
        lr_buf_append_json_str(&b, m->fg_name, strlen(m->fg_name));
        lr_buf_append_str(&b, ",\"FeatureName\":");
        lr_buf_append_json_str(&b, m->feature_name, strlen(m->feature_name));
        lr_buf_printf(&b, ",\"FeatureType\":\"%s\"", lr_feature_type_name(m->type));
        lr_buf_printf(&b, ",\"CreationTime\":%" PRId64 ".%06" PRId64, m->creation_time_us / 1000000,
                      m->creation_time_us % 1000000);
        lr_buf_printf(&b, ",\"LastModifiedTime\":%" PRId64 ".%06" PRId64,
                      m->last_modified_time_us / 1000000, m->last_modified_time_us % 1000000);
        if (m->description) {
            lr_buf_append_str(&b, ",\"Description\":");
            lr_buf_append_json_str(&b, m->description, strlen(m->description));
        }
        lr_buf_append_str(&b, ",\"Parameters\":[");
        for (uint32_t i = 0; i < m->n_params; i++) {
            lr_buf_append_str(&b, i ? ",{\"Key\":" : "{\"Key\":");
            lr_buf_append_json_str(&b, m->params[i].key, strlen(m->params[i].key));
            lr_buf_append_str(&b, ",\"Value\":");
            lr_buf_append_json_str(&b, m->params[i].value, strlen(m->params[i].value));
            lr_buf_append_byte(&b, '}');
        }
        lr_buf_append_str(&b, "]}");
        cli_print_buf(&b);
        lr_buf_free(&b);
        return;
    }
    printf("%-18s %s\n", "FeatureGroupName", m->fg_name);
    printf("%-18s %s\n", "FeatureName", m->feature_name);
    printf("%-18s %s\n", "FeatureType", lr_feature_type_name(m->type));
    printf("%-18s %s\n", "Description", m->description ? m->description : "");
    for (uint32_t i = 0; i < m->n_params; i++)
        printf("%-18s %s=%s\n", i ? "" : "Parameters", m->params[i].key, m->params[i].value);
}

#define FEATURE_PARAMS_MAX 25

static int fg_feature(lr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"description", required_argument, NULL, 'd'},
                                         {"add-param", required_argument, NULL, 'a'},
                                         {"remove-param", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {0, 0, 0, 0}};
    const char *description = NULL;
    lr_feature_param adds[FEATURE_PARAMS_MAX + 1];
    const char *removes[FEATURE_PARAMS_MAX + 1];
    char *add_copies[FEATURE_PARAMS_MAX + 1];
    uint32_t n_add = 0, n_remove = 0;
    bool json = false;
    char name[LR_FG_NAME_MAX + 1];
    lr_catalog *cat = NULL;
    lr_feature_metadata m;
    lr_error err;
    int c, rc = LR_EXIT_OK;

    memset(&m, 0, sizeof m);
    reset_getopt();
    while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (c == 'd') {
            description = optarg;
        } else if (c == 'a') {
            char *eq = strchr(optarg, '=');
            if (eq == NULL) {
                rc = cli_usage("fg", "feature: --add-param needs KEY=VALUE");
                goto done;
            }
            if (n_add > FEATURE_PARAMS_MAX) {
                rc = cli_usage("fg", "feature: at most %d --add-param per call",
                               FEATURE_PARAMS_MAX);
                goto done;
            }
            add_copies[n_add] = strdup(optarg);
            if (add_copies[n_add] == NULL) {
                rc = cli_fail("out of memory");
                goto done;
            }
            add_copies[n_add][eq - optarg] = '\0';
            adds[n_add].key = add_copies[n_add];
            adds[n_add].value = add_copies[n_add] + (eq - optarg) + 1;
            n_add++;
        } else if (c == 'r') {
            if (n_remove > FEATURE_PARAMS_MAX) {
                rc = cli_usage("fg", "feature: at most %d --remove-param per call",
                               FEATURE_PARAMS_MAX);
                goto done;
            }
            removes[n_remove++] = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            rc = unknown_option("feature", argc, argv);
            goto done;
        }
    }
    if (optind + 2 != argc) {
        rc = cli_usage("fg", "feature takes a feature-group name and a feature name");
        goto done;
    }
    if ((rc = resolve_name(argv[optind], name, sizeof name)) != LR_EXIT_OK)
        goto done;
    if ((rc = open_catalog(cli, &cat)) != LR_EXIT_OK)
        goto done;
    if ((description || n_add || n_remove) &&
        lr_catalog_feature_metadata_update(cat, name, argv[optind + 1], description, adds, n_add,
                                           removes, n_remove, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    if (lr_catalog_feature_metadata_get(cat, name, argv[optind + 1], &m, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }
    print_metadata(&m, json);
done:
    for (uint32_t i = 0; i < n_add; i++)
        free(add_copies[i]);
    lr_feature_metadata_free(&m);
    lr_catalog_close(cat);
    return rc;
}

int cmd_fg(lr_cli *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(lr_cli *, int, char **);
    } subs[] = {{"create", fg_create},   {"describe", fg_describe}, {"list", fg_list},
                {"update", fg_update},   {"delete", fg_delete},     {"feature", fg_feature}};

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(fg_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? LR_EXIT_USAGE : LR_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            if (cli_wants_help(argc - 1, argv + 1)) {
                fputs(fg_usage, stdout);
                return LR_EXIT_OK;
            }
            return subs[i].fn(cli, argc - 1, argv + 1);
        }
    }
    return cli_usage("fg", "unknown subcommand '%s'", argv[1]);
}
