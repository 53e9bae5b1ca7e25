/*
 * cmd_serve.c - `larder serve`: runs the HTTP server (include/larder/server.h)
 * until SIGINT or SIGTERM, then stops gracefully. Options come from, in
 * increasing precedence: built-in defaults, a config file (--config FILE or
 * $LARDER_CONFIG: `name = value` lines using the long option names), the
 * environment (LARDER_LISTEN, LARDER_THREADS, ...), and the command line.
 * With --compaction-schedule it also runs scheduled compaction (compact.h)
 * in a thread of its own for as long as the server runs.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/compact.h"
#include "larder/log.h"
#include "larder/online.h"
#include "larder/server.h"

static const char serve_usage[] =
    "Usage: larder [--data-dir DIR] serve [OPTIONS]\n"
    "\n"
    "Serves the SageMaker Feature Store API over HTTP/1.1 on one port: the runtime\n"
    "(PutRecord, GetRecord, DeleteRecord, BatchGetRecord, BatchWriteRecord,\n"
    "ListRecords, UpdateRecord), the control plane (POST / with X-Amz-Target:\n"
    "SageMaker.<Op>), GET /healthz, GET /metrics (Prometheus) and Larder's job API\n"
    "(GET /v1/jobs, GET /v1/jobs/ID: compaction jobs as JSON). boto3 code works\n"
    "unchanged with endpoint_url=http://HOST:PORT.\n"
    "\n"
    "Options (environment variable in brackets):\n"
    "  --listen HOST:PORT      address to listen on; port 0 picks a free one\n"
    "                          [LARDER_LISTEN] (default 127.0.0.1:8080)\n"
    "  --threads N             worker threads [LARDER_THREADS] (default: one per CPU)\n"
    "  --online URI            online store: a directory, lmdb:PATH or\n"
    "                          redis://[user:pass@]host[:port][/db] [LARDER_ONLINE]\n"
    "                          (default: LMDB in the data directory)\n"
    "  --online-durability D   LMDB commits: sync (fsync data and meta, the default),\n"
    "                          nometasync (one fsync), nosync (none: an OS crash may\n"
    "                          lose recent writes) [LARDER_ONLINE_DURABILITY]\n"
    "  --credentials FILE      AWS credentials file whose keys sign requests\n"
    "                          [LARDER_CREDENTIALS]\n"
    "  --no-env-credentials    ignore LARDER_ACCESS_KEY_ID/LARDER_SECRET_ACCESS_KEY and\n"
    "                          AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n"
    "                          [LARDER_NO_ENV_CREDENTIALS=1]\n"
    "  --region REGION         region of ARNs and of the SigV4 scope [LARDER_REGION]\n"
    "                          (default us-east-1)\n"
    "  --account ID            12-digit account of ARNs [LARDER_ACCOUNT]\n"
    "  --max-connections N     open connections at most [LARDER_MAX_CONNECTIONS] (10000)\n"
    "  --max-header-bytes N    request line + headers [LARDER_MAX_HEADER_BYTES] (262144)\n"
    "  --max-body-bytes N      request body [LARDER_MAX_BODY_BYTES] (8388608)\n"
    "  --idle-timeout MS       idle keep-alive connection [LARDER_IDLE_TIMEOUT] (60000)\n"
    "  --request-timeout MS    whole request, first byte to last\n"
    "                          [LARDER_REQUEST_TIMEOUT] (30000)\n"
    "  --write-timeout MS      client not reading its response\n"
    "                          [LARDER_WRITE_TIMEOUT] (30000)\n"
    "  --shutdown-grace MS     in-flight work after SIGTERM [LARDER_SHUTDOWN_GRACE] (10000)\n"
    "  --clock-skew S          accepted X-Amz-Date skew [LARDER_CLOCK_SKEW] (900)\n"
    "  --compaction-schedule CRON\n"
    "                          compact every group with an offline store\n"
    "                          (incremental) whenever CRON matches, in UTC: 5 fields\n"
    "                          (crontab) or EventBridge's 6 (\"0 0 * * ? *\": daily at\n"
    "                          midnight); see docs/compaction.md\n"
    "                          [LARDER_COMPACTION_SCHEDULE] (default: none)\n"
    "  --config FILE           read options from FILE [LARDER_CONFIG]: one\n"
    "                          `name = value` per line, names as the long options\n"
    "                          (listen = 0.0.0.0:8080), '#' comments, true/false\n"
    "                          for switches. Precedence: options > environment >\n"
    "                          config file > defaults.\n"
    "  -h, --help              this help\n"
    "\n"
    "Security: requests are verified with AWS Signature Version 4 (service\n"
    "'sagemaker') against the configured keys. With no keys the server runs open\n"
    "and only on a loopback address (protected mode). /healthz and /metrics are\n"
    "never signed.\n"
    "\n"
    "Stops on SIGINT or SIGTERM: stops accepting, finishes in-flight requests,\n"
    "flushes the offline log. Exit status 0 after a clean stop, 1 on failure.\n"
    "More in docs/server.md.\n";

/* Every option, once: long name, environment variable, takes a value. */
#define SERVE_OPTIONS(X)                                                                           \
    X(OPT_LISTEN, "listen", "LARDER_LISTEN", 1)                                                    \
    X(OPT_THREADS, "threads", "LARDER_THREADS", 1)                                                 \
    X(OPT_ONLINE, "online", "LARDER_ONLINE", 1)                                                    \
    X(OPT_ONLINE_DURABILITY, "online-durability", "LARDER_ONLINE_DURABILITY", 1)                   \
    X(OPT_CREDENTIALS, "credentials", "LARDER_CREDENTIALS", 1)                                     \
    X(OPT_NO_ENV_CREDENTIALS, "no-env-credentials", "LARDER_NO_ENV_CREDENTIALS", 0)                \
    X(OPT_REGION, "region", "LARDER_REGION", 1)                                                    \
    X(OPT_ACCOUNT, "account", "LARDER_ACCOUNT", 1)                                                 \
    X(OPT_MAX_CONNECTIONS, "max-connections", "LARDER_MAX_CONNECTIONS", 1)                         \
    X(OPT_MAX_HEADER_BYTES, "max-header-bytes", "LARDER_MAX_HEADER_BYTES", 1)                      \
    X(OPT_MAX_BODY_BYTES, "max-body-bytes", "LARDER_MAX_BODY_BYTES", 1)                            \
    X(OPT_IDLE_TIMEOUT, "idle-timeout", "LARDER_IDLE_TIMEOUT", 1)                                  \
    X(OPT_REQUEST_TIMEOUT, "request-timeout", "LARDER_REQUEST_TIMEOUT", 1)                         \
    X(OPT_WRITE_TIMEOUT, "write-timeout", "LARDER_WRITE_TIMEOUT", 1)                               \
    X(OPT_SHUTDOWN_GRACE, "shutdown-grace", "LARDER_SHUTDOWN_GRACE", 1)                            \
    X(OPT_CLOCK_SKEW, "clock-skew", "LARDER_CLOCK_SKEW", 1)                                        \
    X(OPT_COMPACTION_SCHEDULE, "compaction-schedule", "LARDER_COMPACTION_SCHEDULE", 1)             \
    X(OPT_CONFIG, "config", "LARDER_CONFIG", 1)

enum serve_opt {
    OPT_NONE = 256,
#define X_ENUM(id, name, env, arg) id,
    SERVE_OPTIONS(X_ENUM)
#undef X_ENUM
        OPT_HELP
};

static const struct {
    int id;
    const char *name;
    const char *env;
    int arg;
} serve_opts[] = {
#define X_TAB(id, name, env, arg) {id, name, env, arg},
    SERVE_OPTIONS(X_TAB)
#undef X_TAB
};

#define N_OPTS (sizeof serve_opts / sizeof serve_opts[0])

/* Values of each option from the lowest to the highest source (strings owned here). */
typedef struct serve_values {
    char *v[N_OPTS];
} serve_values;

static int opt_index(int id)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (serve_opts[i].id == id)
            return (int)i;
    }
    return -1;
}

static int set_value(serve_values *sv, int idx, const char *val)
{
    char *d = strdup(val != NULL ? val : "1");
    if (d == NULL)
        return cli_fail("out of memory");
    free(sv->v[idx]);
    sv->v[idx] = d;
    return LR_EXIT_OK;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

static int load_config(serve_values *sv, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0, rc = LR_EXIT_OK;
    if (f == NULL)
        return cli_fail("cannot open config file %s: %s", path, strerror(errno));
    while (rc == LR_EXIT_OK && fgets(line, sizeof line, f) != NULL) {
        char *s = trim(line), *eq, *key, *val;
        int idx = -1;
        lineno++;
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            rc = cli_fail("%s:%d: expected 'name = value'", path, lineno);
            break;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        for (size_t i = 0; i < N_OPTS; i++) {
            if (strcmp(serve_opts[i].name, key) == 0)
                idx = (int)i;
        }
        if (idx < 0 || serve_opts[idx].id == OPT_CONFIG) {
            rc = cli_fail("%s:%d: unknown option '%s' (see 'larder serve --help')", path, lineno,
                          key);
            break;
        }
        if (!serve_opts[idx].arg && strcmp(val, "true") != 0 && strcmp(val, "1") != 0 &&
            strcmp(val, "false") != 0 && strcmp(val, "0") != 0) {
            rc = cli_fail("%s:%d: %s takes true or false", path, lineno, key);
            break;
        }
        if (!serve_opts[idx].arg && (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)) {
            free(sv->v[idx]);
            sv->v[idx] = NULL;
            continue;
        }
        rc = set_value(sv, idx, val);
    }
    fclose(f);
    return rc;
}

static int parse_u64(const char *name, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max)
        return cli_usage("serve", "--%s must be an integer in 0..%llu, not '%s'", name,
                         (unsigned long long)max, s);
    *out = v;
    return LR_EXIT_OK;
}

int cmd_serve(lr_cli *cli, int argc, char **argv)
{
    static struct option longopts[N_OPTS + 2];
    serve_values sv;
    lr_server_config cfg;
    lr_server *srv = NULL;
    lr_compact_schedule *sched = NULL;
    const char *schedule = NULL;
    lr_error err;
    sigset_t set;
    int rc = LR_EXIT_OK, c, sig = 0;
    const char *config_path;

    memset(&sv, 0, sizeof sv);
    if (cli_wants_help(argc, argv)) {
        fputs(serve_usage, stdout);
        return LR_EXIT_OK;
    }
    for (size_t i = 0; i < N_OPTS; i++) {
        longopts[i].name = serve_opts[i].name;
        longopts[i].has_arg = serve_opts[i].arg ? required_argument : no_argument;
        longopts[i].flag = NULL;
        longopts[i].val = serve_opts[i].id;
    }
    longopts[N_OPTS].name = "help";
    longopts[N_OPTS].val = OPT_HELP;
    memset(&longopts[N_OPTS + 1], 0, sizeof longopts[0]);

    /* the config file first (it is the lowest source after the defaults) */
    config_path = getenv("LARDER_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_path = argv[i] + 9;
    }
    if (config_path != NULL && config_path[0] != '\0' &&
        (rc = load_config(&sv, config_path)) != LR_EXIT_OK)
        goto done;
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *e = getenv(serve_opts[i].env);
        if (serve_opts[i].id == OPT_CONFIG || e == NULL || e[0] == '\0')
            continue;
        if (!serve_opts[i].arg && (strcmp(e, "0") == 0 || strcmp(e, "false") == 0))
            continue;
        if ((rc = set_value(&sv, (int)i, e)) != LR_EXIT_OK)
            goto done;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int idx;
        if (c == '?') {
            rc = cli_usage("serve", "unknown option '%s'", argv[optind - 1]);
            goto done;
        }
        if (c == ':') {
            rc = cli_usage("serve", "option '%s' needs a value", argv[optind - 1]);
            goto done;
        }
        if (c == 'h' || c == OPT_HELP) {
            fputs(serve_usage, stdout);
            goto done;
        }
        idx = opt_index(c);
        if (idx >= 0 && (rc = set_value(&sv, idx, optarg)) != LR_EXIT_OK)
            goto done;
    }
    if (optind < argc) {
        rc = cli_usage("serve", "unexpected argument '%s'", argv[optind]);
        goto done;
    }

    lr_server_config_init(&cfg);
    cfg.settings = cli->settings;
    cfg.data_dir = cli->data_dir;
    for (size_t i = 0; i < N_OPTS && rc == LR_EXIT_OK; i++) {
        const char *v = sv.v[i];
        uint64_t n = 0;
        if (v == NULL)
            continue;
        switch (serve_opts[i].id) {
        case OPT_LISTEN:
            cfg.listen = v;
            break;
        case OPT_ONLINE:
            cfg.online_uri = v;
            break;
        case OPT_ONLINE_DURABILITY:
            if (strcmp(v, "sync") == 0)
                cfg.online_durability = LR_ONLINE_SYNC;
            else if (strcmp(v, "nometasync") == 0)
                cfg.online_durability = LR_ONLINE_NOMETASYNC;
            else if (strcmp(v, "nosync") == 0)
                cfg.online_durability = LR_ONLINE_NOSYNC;
            else
                rc = cli_usage("serve", "--online-durability must be sync, nometasync or nosync");
            break;
        case OPT_CREDENTIALS:
            cfg.credentials_file = v;
            break;
        case OPT_NO_ENV_CREDENTIALS:
            cfg.use_env_credentials = false;
            break;
        case OPT_REGION:
            if (strlen(v) < 1 || strlen(v) >= sizeof cfg.settings.region)
                rc = cli_usage("serve", "--region must be 1..%zu characters",
                               sizeof cfg.settings.region - 1);
            else
                snprintf(cfg.settings.region, sizeof cfg.settings.region, "%s", v);
            break;
        case OPT_ACCOUNT:
            if (strlen(v) != 12 || strspn(v, "0123456789") != 12)
                rc = cli_usage("serve", "--account must be 12 digits");
            else
                snprintf(cfg.settings.account, sizeof cfg.settings.account, "%s", v);
            break;
        case OPT_THREADS:
            if ((rc = parse_u64("threads", v, 256, &n)) == LR_EXIT_OK)
                cfg.threads = (uint32_t)n;
            break;
        case OPT_MAX_CONNECTIONS:
            if ((rc = parse_u64("max-connections", v, 1000000, &n)) == LR_EXIT_OK)
                cfg.max_connections = (uint32_t)n;
            break;
        case OPT_MAX_HEADER_BYTES:
            if ((rc = parse_u64("max-header-bytes", v, 16u << 20, &n)) == LR_EXIT_OK)
                cfg.max_header_bytes = (size_t)n;
            break;
        case OPT_MAX_BODY_BYTES:
            if ((rc = parse_u64("max-body-bytes", v, 1u << 30, &n)) == LR_EXIT_OK)
                cfg.max_body_bytes = (size_t)n;
            break;
        case OPT_IDLE_TIMEOUT:
            if ((rc = parse_u64("idle-timeout", v, 86400000, &n)) == LR_EXIT_OK)
                cfg.idle_timeout_ms = (uint32_t)n;
            break;
        case OPT_REQUEST_TIMEOUT:
            if ((rc = parse_u64("request-timeout", v, 86400000, &n)) == LR_EXIT_OK)
                cfg.request_timeout_ms = (uint32_t)n;
            break;
        case OPT_WRITE_TIMEOUT:
            if ((rc = parse_u64("write-timeout", v, 86400000, &n)) == LR_EXIT_OK)
                cfg.write_timeout_ms = (uint32_t)n;
            break;
        case OPT_SHUTDOWN_GRACE:
            if ((rc = parse_u64("shutdown-grace", v, 86400000, &n)) == LR_EXIT_OK)
                cfg.shutdown_grace_ms = (uint32_t)n;
            break;
        case OPT_CLOCK_SKEW:
            if ((rc = parse_u64("clock-skew", v, 604800, &n)) == LR_EXIT_OK)
                cfg.clock_skew_s = (uint32_t)n;
            break;
        case OPT_COMPACTION_SCHEDULE: {
            /* checked before anything opens: a typo must not leave a server unscheduled */
            lr_cron cron;
            lr_error cerr;
            lr_error_clear(&cerr);
            if (lr_cron_parse(v, &cron, &cerr) != LR_OK)
                rc = cli_usage("serve", "--compaction-schedule '%s': %s", v,
                               lr_error_message(&cerr));
            else
                schedule = v;
            break;
        }
        default:
            break;
        }
    }
    if (rc != LR_EXIT_OK)
        goto done;
    if (cli_ensure_data_dir(cli, &err) != LR_OK) {
        rc = cli_fail_err(&err);
        goto done;
    }

    /* Signals are taken synchronously by this thread; workers inherit the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (lr_server_start(&cfg, &srv, &err) != LR_OK) {
        rc = cli_fail("cannot start the server: %s", lr_error_message(&err));
        goto done;
    }
    printf("larder: listening on http://%.*s:%u (data %s, %s)\n",
           (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen, lr_server_port(srv),
           cli->data_dir,
           lr_server_key_count(srv) > 0 ? "SigV4 required" : "open: no keys, loopback only");
    fflush(stdout);
    /*
     * Started only once the server is up, so a server that fails to start
     * never compacts; its rounds use their own catalog handles and store files.
     */
    if (schedule != NULL) {
        lr_compact_options copt;
        lr_compact_options_init(&copt);
        if (lr_compact_schedule_start(cli->data_dir, &cfg.settings, schedule, &copt, &sched,
                                      &err) != LR_OK) {
            rc = cli_fail("cannot start the compaction schedule: %s", lr_error_message(&err));
            lr_server_stop(srv);
            if (lr_server_wait(srv, &err) != LR_OK)
                lr_log_error("server", "stopping the server: %s", lr_error_message(&err));
            lr_server_free(srv);
            goto done;
        }
        lr_log_info("server", "compaction schedule '%s', next round at %lld us", schedule,
                    (long long)lr_compact_schedule_next_us(sched));
    }
    while (sigwait(&set, &sig) != 0)
        ;
    lr_log_info("server", "signal %d: stopping", sig);
    /* a round in progress is canceled (its job ends Failed) before the stores close */
    lr_compact_schedule_stop(sched);
    lr_server_stop(srv);
    if (lr_server_wait(srv, &err) != LR_OK)
        rc = cli_fail("stopping the server: %s", lr_error_message(&err));
    lr_server_free(srv);
done:
    for (size_t i = 0; i < N_OPTS; i++)
        free(sv.v[i]);
    return rc;
}
