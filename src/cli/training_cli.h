/*
 * training_cli.h - what the training-set, export and materialize commands
 * share (defined in cmd_training.c): option parsing for times, sizes and
 * durations, the resource options, and the progress line.
 */
#ifndef LARDER_CLI_TRAINING_CLI_H
#define LARDER_CLI_TRAINING_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "larder/training.h"

/* Parses a time: ISO-8601 UTC, or epoch seconds. Prints a usage error and returns non-zero. */
int tcli_parse_time(const char *cmd, const char *flag, const char *s, int64_t *us);

/* Parses a byte size: a number with an optional K, M or G suffix (powers of 1024). */
int tcli_parse_size(const char *cmd, const char *flag, const char *s, size_t *out);

/* Parses a positive count (threads). */
int tcli_parse_count(const char *cmd, const char *flag, const char *s, uint32_t *out);

/* Prints s as a JSON string on stdout. */
void tcli_json_str(const char *s);

/* Progress on a terminal: one line on stderr, redrawn. */
typedef struct tcli_progress {
    bool tty;
    bool quiet;
} tcli_progress;

void tcli_on_progress(void *ctx, const lr_training_progress *p);
/* Clears the progress line, if one was drawn. */
void tcli_progress_end(const tcli_progress *ui);

/* The long options of TCLI_RESOURCE_HELP, for a getopt_long table. */
#define TCLI_RESOURCE_OPTIONS                                                                      \
    {"memory", required_argument, NULL, 'm'}, {"threads", required_argument, NULL, 'T'},        \
        {"temp-dir", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},           \
        {"quiet", no_argument, NULL, 'q'}

/*
 * Handles option `c` when it is one of TCLI_RESOURCE_OPTIONS (*handled
 * true): --memory, --threads and --temp-dir into *res, --json into *json,
 * --quiet into ui. Returns LR_EXIT_OK or the exit code of a usage error.
 */
int tcli_resource_option(const char *cmd, int c, const char *arg, lr_training_resources *res,
                         bool *json, tcli_progress *ui, bool *handled);

/* Resource options shared by the three commands (--memory, --threads, --temp-dir). */
#define TCLI_RESOURCE_HELP                                                                 \
    "  --memory SIZE    memory for data held at once (default 2G; K, M, G suffixes);\n"   \
    "                   beyond it work spills to temporary files\n"                        \
    "  --threads N      worker threads (default: the number of CPUs)\n"                   \
    "  --temp-dir DIR   where spill files go (default $TMPDIR, else /tmp)\n"              \
    "  --json           print the summary as JSON on stdout\n"                             \
    "  --quiet          no progress line\n"

#endif
