/*
 * catalog_sqlite_util.h - SQLite helpers shared by the SQLite catalog's
 * files (catalog_sqlite.c and its offline and compaction parts): one mapping
 * of SQLite result codes onto lr_status, and the statement helpers.
 */
#ifndef LARDER_CATALOG_SQLITE_UTIL_H
#define LARDER_CATALOG_SQLITE_UTIL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "larder/catalog.h"
#include "larder/status.h"

/*
 * Maps an SQLite result code to an lr_status (BUSY/LOCKED -> LR_EBUSY,
 * duplicate key -> LR_EEXIST, CORRUPT/NOTADB -> LR_ECORRUPT, NOMEM ->
 * LR_ENOMEM, CANTOPEN/IOERR/FULL -> LR_EIO, else LR_EBACKEND) and sets err
 * with SQLite's own text. Call right after the failing call. db may be NULL.
 */
lr_status lr__sqlite_error(sqlite3 *db, int rc, const char *what, lr_error *err);

/* Prepares `sql` (*s is NULL on failure). */
lr_status lr__sqlite_prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, lr_error *err);

/* Runs SQL text without results. */
lr_status lr__sqlite_exec(sqlite3 *db, const char *sql, const char *what, lr_error *err);

/* Binds v (borrowed until the statement is reset) or NULL. */
void lr__sqlite_text(sqlite3_stmt *s, int i, const char *v);

/* Steps a statement that returns no rows, then resets it for the next use. */
lr_status lr__sqlite_step_done(sqlite3 *db, sqlite3_stmt *s, const char *what, lr_error *err);

/*
 * Binds root and key to ?1 and ?2 of a statement keyed by an offline file
 * (a DELETE ... WHERE root = ?1 AND key = ?2) and steps it; *changed (may
 * be NULL): whether it changed exactly one row.
 */
lr_status lr__sqlite_step_file(sqlite3 *db, sqlite3_stmt *s, const char *root, const char *key,
                               const char *what, bool *changed, lr_error *err);

/*
 * Binds the columns every registration of an offline file has to ?1..?10:
 * root, key, group name, group creation, partition, partition start, rows,
 * bytes, min and max event time.
 */
void lr__sqlite_bind_file(sqlite3_stmt *s, const lr_offline_file *f);

#endif
