/*
 * commands.h - the one list of CLI commands. main.c builds the dispatch
 * table and the help text from it; each command lives in cmd_<name>.c.
 *
 * X(function, "name", "one-line summary")
 */
#ifndef LARDER_CLI_COMMANDS_H
#define LARDER_CLI_COMMANDS_H

#define LR_CLI_COMMANDS(X)                                                                 \
    X(cmd_fg, "fg", "create, describe, list, update and delete feature groups")            \
    X(cmd_ingest, "ingest", "load CSV, NDJSON or Parquet files into both stores")           \
    X(cmd_datagen, "datagen", "generate the smart-meter sample dataset")                     \
    X(cmd_serve, "serve", "serve the SageMaker Feature Store API over HTTP")                \
    X(cmd_put, "put", "write a record to a feature group")                                \
    X(cmd_get, "get", "read a record from the online store")                               \
    X(cmd_delete, "delete", "soft- or hard-delete a record")                               \
    X(cmd_records, "records", "list the record identifiers in the online store")           \
    X(cmd_offline, "offline", "print a feature group's offline rows (CSV or NDJSON)")       \
    X(cmd_partitions, "partitions", "list the offline store's partitions of a feature group") \
    X(cmd_repair, "repair", "register offline files found in storage (MSCK REPAIR)")         \
    X(cmd_ddl, "ddl", "print DDL for Athena, Hive, Trino, Spark or DuckDB")                  \
    X(cmd_parquet, "parquet", "inspect, print and convert Parquet files")                    \
    X(cmd_training, "training-set", "build a point-in-time training set from an entity file") \
    X(cmd_export, "export", "write the latest record per identifier from the offline store")   \
    X(cmd_materialize, "materialize", "load the online store from the offline store")         \
    X(cmd_compact, "compact", "rewrite small offline files into large sorted ones")   \
    X(cmd_jobs, "jobs", "list compaction jobs or show one")                        \
    X(cmd_version, "version", "print the version")

#endif
