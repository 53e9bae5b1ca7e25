/*
 * cmd_parquet.h - what the two files of `larder parquet` share: value
 * formatting (cmd_parquet.c) and the convert subcommand
 * (cmd_parquet_convert.c).
 */
#ifndef LARDER_CLI_CMD_PARQUET_H
#define LARDER_CLI_CMD_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/parquet.h"

/* The shortest text that reads back as d; NaN, Infinity, -Infinity. */
void pqcli_fmt_double(double d, char *out, size_t cap);

/* ISO-8601 of a timestamp in `unit` ("...Z" when utc); any int64. Returns the length. */
size_t pqcli_fmt_timestamp(int64_t v, lr_pq_time_unit unit, bool utc, char *out, size_t cap);

/* Appends value slot s of a column: as JSON (json) or as bare text. */
void pqcli_append_slot(lr_buf *out, const lr_pq_column_def *d, const lr_pq_column_batch *c,
                       uint32_t s, bool json);

/* `larder parquet convert ...`: argv[0] is "convert". Returns an exit status. */
int pqcli_convert(int argc, char **argv);

#endif
