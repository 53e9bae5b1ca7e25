/*
 * catalog_sqlite_offline.h - the SQLite schema of the offline store's
 * catalog tables (migration 2), kept beside the code that uses them
 * (catalog_sqlite_offline.c). docs/catalog.md documents the tables.
 *
 *   offline_files            live Parquet files: (root, key) -> group
 *                            generation, partition, rows, bytes, event-time
 *                            bounds, the log range a flush covered
 *   offline_partitions       partitions that have had files: first and last
 *                            registration times
 *   offline_announced        files a flush is writing (announce, write,
 *                            commit); what garbage collection may remove
 *   offline_log_checkpoints  per write-ahead log: last sequence registered
 */
#ifndef LARDER_CATALOG_SQLITE_OFFLINE_H
#define LARDER_CATALOG_SQLITE_OFFLINE_H

#define LR__SQLITE_OFFLINE_MIGRATION                                                       \
    "CREATE TABLE offline_files ("                                                         \
    "  root TEXT NOT NULL,"                                                                \
    "  key TEXT NOT NULL,"                                                                 \
    "  fg_name TEXT NOT NULL,"                                                             \
    "  fg_created_us INTEGER NOT NULL,"                                                    \
    "  partition TEXT NOT NULL,"                                                           \
    "  partition_start_us INTEGER NOT NULL,"                                               \
    "  rows INTEGER NOT NULL,"                                                             \
    "  bytes INTEGER NOT NULL,"                                                            \
    "  min_event_us INTEGER NOT NULL,"                                                     \
    "  max_event_us INTEGER NOT NULL,"                                                     \
    "  log_id TEXT,"                                                                       \
    "  log_first_seq INTEGER NOT NULL DEFAULT 0,"                                          \
    "  log_last_seq INTEGER NOT NULL DEFAULT 0,"                                           \
    "  created_us INTEGER NOT NULL,"                                                       \
    "  PRIMARY KEY (root, key)"                                                            \
    ");"                                                                                   \
    "CREATE INDEX offline_files_by_group ON offline_files"                                 \
    "  (fg_name, fg_created_us, partition_start_us, key);"                                 \
    "CREATE TABLE offline_partitions ("                                                    \
    "  fg_name TEXT NOT NULL,"                                                             \
    "  fg_created_us INTEGER NOT NULL,"                                                    \
    "  partition TEXT NOT NULL,"                                                           \
    "  start_us INTEGER NOT NULL,"                                                         \
    "  created_us INTEGER NOT NULL,"                                                       \
    "  updated_us INTEGER NOT NULL,"                                                       \
    "  PRIMARY KEY (fg_name, fg_created_us, partition)"                                    \
    ");"                                                                                   \
    "CREATE TABLE offline_announced ("                                                     \
    "  root TEXT NOT NULL,"                                                                \
    "  key TEXT NOT NULL,"                                                                 \
    "  fg_name TEXT NOT NULL,"                                                             \
    "  log_id TEXT,"                                                                       \
    "  created_us INTEGER NOT NULL,"                                                       \
    "  PRIMARY KEY (root, key)"                                                            \
    ");"                                                                                   \
    "CREATE INDEX offline_announced_by_time ON offline_announced (created_us);"            \
    "CREATE TABLE offline_log_checkpoints ("                                               \
    "  log_id TEXT NOT NULL PRIMARY KEY,"                                                  \
    "  seq INTEGER NOT NULL,"                                                              \
    "  updated_us INTEGER NOT NULL"                                                        \
    ");"

#endif
