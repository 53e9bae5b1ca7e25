/*
 * main.c - `larder`: global options, then dispatch to a command from the
 * table in commands.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "larder/version.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    lr_cli_fn fn;
} cli_command;

static const cli_command commands[] = {
#define LR_X_ENTRY(fn, name, summary) {name, summary, fn},
    LR_CLI_COMMANDS(LR_X_ENTRY)
#undef LR_X_ENTRY
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: larder [--data-dir DIR] COMMAND [ARGS...]\n\n"
               "Larder is a feature store: a SageMaker-compatible API, an online store\n"
               "(LMDB or Redis), an offline store of Parquet files, and a catalog.\n\n"
               "Global options:\n"
               "  --data-dir DIR   data directory (env LARDER_DATA_DIR, default ./larder-data)\n"
               "  -h, --help       this help; 'larder COMMAND --help' for a command\n"
               "  --version        print the version\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEnvironment: LARDER_DATA_DIR, LARDER_REGION (default us-east-1),\n"
               "LARDER_ACCOUNT (default 000000000000), LARDER_LOG (error|warn|info|debug).\n");
}

int cmd_version(lr_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv)) {
        printf("Usage: larder version\n\nPrints the version and build.\n");
        return LR_EXIT_OK;
    }
    if (argc > 1)
        return cli_usage("version", "unexpected argument '%s'", argv[1]);
    printf("larder %s (build %s)\n", LARDER_VERSION, LARDER_BUILD);
    return LR_EXIT_OK;
}

int main(int argc, char **argv)
{
    lr_cli cli;
    lr_error err;
    int i = 1;

    memset(&cli, 0, sizeof cli);
    cli.prog = "larder";
    cli.data_dir = getenv("LARDER_DATA_DIR");
    if (cli.data_dir == NULL || cli.data_dir[0] == '\0')
        cli.data_dir = "./larder-data";

    /* Global options come before the command. */
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        if (strcmp(a, "--data-dir") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "larder: --data-dir needs a directory\n");
                return LR_EXIT_USAGE;
            }
            cli.data_dir = argv[++i];
        } else if (strncmp(a, "--data-dir=", 11) == 0) {
            cli.data_dir = a + 11;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return LR_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            return cmd_version(&cli, 1, argv);
        } else {
            fprintf(stderr, "larder: unknown option '%s' (see 'larder --help')\n", a);
            return LR_EXIT_USAGE;
        }
        i++;
    }
    if (cli.data_dir[0] == '\0') {
        fprintf(stderr, "larder: --data-dir must not be empty\n");
        return LR_EXIT_USAGE;
    }
    if (i >= argc) {
        usage(stderr);
        return LR_EXIT_USAGE;
    }
    if (lr_settings_from_env(&cli.settings, &err) != LR_OK)
        return cli_fail_err(&err);

    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].fn(&cli, argc - i, argv + i);
    }
    fprintf(stderr, "larder: unknown command '%s' (see 'larder --help')\n", argv[i]);
    return LR_EXIT_USAGE;
}
