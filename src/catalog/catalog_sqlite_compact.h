/*
 * catalog_sqlite_compact.h - the SQLite schema of compaction's catalog
 * tables, kept beside the code that uses them (catalog_sqlite_compact.c).
 * docs/catalog.md and docs/compaction.md document the tables.
 *
 *   compact_jobs            one row per run: options, holder, status, totals
 *   compact_job_partitions  the partitions of a job: outcome and counts
 *   compact_leases          source hour partitions being compacted, by whom
 *   compact_pending         files a job wrote and has not swapped in (they
 *                           are also in offline_announced)
 *   compact_retired         files swapped out, deleted once their grace ends
 *   compact_state           what the last compaction of a source partition
 *                           covered, per destination (incremental mode)
 *   compact_copy_files      the live files of compacted copies
 */
#ifndef LARDER_CATALOG_SQLITE_COMPACT_H
#define LARDER_CATALOG_SQLITE_COMPACT_H

#include <sqlite3.h>

#include "catalog/catalog_compact_internal.h"

#define LR__SQLITE_COMPACT_MIGRATION                                                               \
    "CREATE TABLE compact_jobs ("                                                                  \
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"                                                      \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  fg_created_us INTEGER NOT NULL,"                                                            \
    "  mode TEXT NOT NULL,"                                                                        \
    "  date TEXT,"                                                                                 \
    "  partition_mode TEXT NOT NULL,"                                                              \
    "  target TEXT,"                                                                               \
    "  dedup INTEGER NOT NULL,"                                                                    \
    "  grace_us INTEGER NOT NULL,"                                                                 \
    "  target_file_bytes INTEGER NOT NULL,"                                                        \
    "  status TEXT NOT NULL,"                                                                      \
    "  error TEXT,"                                                                                \
    "  holder_host TEXT NOT NULL,"                                                                 \
    "  holder_boot TEXT NOT NULL,"                                                                 \
    "  holder_pid INTEGER NOT NULL,"                                                               \
    "  holder_start INTEGER NOT NULL,"                                                             \
    "  start_us INTEGER NOT NULL,"                                                                 \
    "  end_us INTEGER NOT NULL DEFAULT 0,"                                                         \
    "  expires_us INTEGER NOT NULL,"                                                               \
    "  partitions INTEGER NOT NULL DEFAULT 0,"                                                     \
    "  partitions_done INTEGER NOT NULL DEFAULT 0,"                                                \
    "  partitions_failed INTEGER NOT NULL DEFAULT 0,"                                              \
    "  files_in INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  files_out INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  rows_in INTEGER NOT NULL DEFAULT 0,"                                                        \
    "  rows_out INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  rows_dropped INTEGER NOT NULL DEFAULT 0,"                                                   \
    "  bytes_in INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  bytes_out INTEGER NOT NULL DEFAULT 0"                                                       \
    ");"                                                                                           \
    "CREATE INDEX compact_jobs_by_status ON compact_jobs (status, id);"                            \
    "CREATE INDEX compact_jobs_by_group ON compact_jobs (fg_name, id);"                            \
    "CREATE TABLE compact_job_partitions ("                                                        \
    "  job_id INTEGER NOT NULL REFERENCES compact_jobs (id) ON DELETE CASCADE,"                    \
    "  partition TEXT NOT NULL,"                                                                   \
    "  status TEXT NOT NULL,"                                                                      \
    "  error TEXT,"                                                                                \
    "  files_in INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  files_out INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  rows_in INTEGER NOT NULL DEFAULT 0,"                                                        \
    "  rows_out INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  rows_dropped INTEGER NOT NULL DEFAULT 0,"                                                   \
    "  bytes_in INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  bytes_out INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  end_us INTEGER NOT NULL DEFAULT 0,"                                                         \
    "  PRIMARY KEY (job_id, partition)"                                                            \
    ");"                                                                                           \
    "CREATE TABLE compact_leases ("                                                                \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  fg_created_us INTEGER NOT NULL,"                                                            \
    "  partition TEXT NOT NULL,"                                                                   \
    "  job_id INTEGER NOT NULL,"                                                                   \
    "  holder_host TEXT NOT NULL,"                                                                 \
    "  holder_boot TEXT NOT NULL,"                                                                 \
    "  holder_pid INTEGER NOT NULL,"                                                               \
    "  holder_start INTEGER NOT NULL,"                                                             \
    "  acquired_us INTEGER NOT NULL,"                                                              \
    "  expires_us INTEGER NOT NULL,"                                                               \
    "  PRIMARY KEY (fg_name, fg_created_us, partition)"                                            \
    ");"                                                                                           \
    "CREATE INDEX compact_leases_by_job ON compact_leases (job_id);"                               \
    "CREATE TABLE compact_pending ("                                                               \
    "  root TEXT NOT NULL,"                                                                        \
    "  key TEXT NOT NULL,"                                                                         \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  job_id INTEGER NOT NULL,"                                                                   \
    "  created_us INTEGER NOT NULL,"                                                               \
    "  PRIMARY KEY (root, key)"                                                                    \
    ");"                                                                                           \
    "CREATE INDEX compact_pending_by_job ON compact_pending (job_id);"                             \
    "CREATE TABLE compact_retired ("                                                               \
    "  root TEXT NOT NULL,"                                                                        \
    "  key TEXT NOT NULL,"                                                                         \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  job_id INTEGER NOT NULL,"                                                                   \
    "  retired_us INTEGER NOT NULL,"                                                               \
    "  delete_after_us INTEGER NOT NULL,"                                                          \
    "  PRIMARY KEY (root, key)"                                                                    \
    ");"                                                                                           \
    "CREATE INDEX compact_retired_by_time ON compact_retired (delete_after_us);"                   \
    "CREATE TABLE compact_state ("                                                                 \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  fg_created_us INTEGER NOT NULL,"                                                            \
    "  partition TEXT NOT NULL,"                                                                   \
    "  dest TEXT NOT NULL,"                                                                        \
    "  files INTEGER NOT NULL,"                                                                    \
    "  fingerprint INTEGER NOT NULL,"                                                              \
    "  job_id INTEGER NOT NULL,"                                                                   \
    "  compacted_us INTEGER NOT NULL,"                                                             \
    "  PRIMARY KEY (fg_name, fg_created_us, dest, partition)"                                      \
    ");"                                                                                           \
    "CREATE TABLE compact_copy_files ("                                                            \
    "  root TEXT NOT NULL,"                                                                        \
    "  key TEXT NOT NULL,"                                                                         \
    "  fg_name TEXT NOT NULL,"                                                                     \
    "  fg_created_us INTEGER NOT NULL,"                                                            \
    "  partition TEXT NOT NULL,"                                                                   \
    "  partition_start_us INTEGER NOT NULL,"                                                       \
    "  rows INTEGER NOT NULL,"                                                                     \
    "  bytes INTEGER NOT NULL,"                                                                    \
    "  min_event_us INTEGER NOT NULL,"                                                             \
    "  max_event_us INTEGER NOT NULL,"                                                             \
    "  job_id INTEGER NOT NULL,"                                                                   \
    "  created_us INTEGER NOT NULL,"                                                               \
    "  PRIMARY KEY (root, key)"                                                                    \
    ");"                                                                                           \
    "CREATE INDEX compact_copy_files_by_partition ON compact_copy_files"                           \
    "  (root, fg_name, fg_created_us, partition, key);"

/* The compaction operations of the SQLite backend (catalog_sqlite_compact.c). */
extern const lr__catalog_compact_ops lr__sqlite_compact_ops;

#endif
