/*
 * cli.h - what every `larder` command shares: global options, the one-line
 * error convention, and small file helpers. The CLI uses only the public API
 * in include/larder/.
 *
 * Exit codes: 0 success, 1 failure (one line "larder: reason" on stderr),
 * 2 usage error.
 */
#ifndef LARDER_CLI_H
#define LARDER_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "larder/buf.h"
#include "larder/status.h"
#include "larder/value.h"

#define LR_EXIT_OK 0
#define LR_EXIT_FAIL 1
#define LR_EXIT_USAGE 2

typedef struct lr_cli {
    const char *data_dir; /* --data-dir, $LARDER_DATA_DIR, or ./larder-data */
    lr_settings settings;
    const char *prog;     /* "larder" */
} lr_cli;

/* A command: argv[0] is the command's name; getopt state is reset. */
typedef int (*lr_cli_fn)(lr_cli *cli, int argc, char **argv);

#define LR_X_DECL(fn, name, summary) int fn(lr_cli *cli, int argc, char **argv);
#include "cli/commands.h"
LR_CLI_COMMANDS(LR_X_DECL)
#undef LR_X_DECL

/* Prints "larder: <msg>" to stderr and returns LR_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "larder: <msg>" plus "(see 'larder CMD --help')" and returns LR_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the error's message and returns LR_EXIT_FAIL. */
int cli_fail_err(const lr_error *err);

/* Reads a whole file (or stdin for "-") into `out`, capped at `max` bytes. */
lr_status cli_read_file(const char *path, size_t max, lr_buf *out, lr_error *err);

/* Creates the data directory if missing (mode 0755). */
lr_status cli_ensure_data_dir(const lr_cli *cli, lr_error *err);

/*
 * The online store's URI: `flag` (--online) when given, else $LARDER_ONLINE,
 * else the data directory (LMDB in <data dir>/online/).
 */
const char *cli_online_uri(const lr_cli *cli, const char *flag);

struct lr_catalog;
struct lr_fg_def;
/*
 * Opens the catalog and loads feature group `ref` (a name or an ARN).
 * On success the caller owns *cat and *def. On failure prints the reason
 * and returns LR_EXIT_FAIL.
 */
int cli_load_group(lr_cli *cli, const char *ref, struct lr_catalog **cat, struct lr_fg_def **def);

/* Prints a buffer to stdout followed by a newline. */
void cli_print_buf(const lr_buf *b);

/* True when argv has -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

#endif
