/*
 * catalog_sqlite.c - the embedded catalog backend on SQLite.
 *
 * Design. One SQLite file per data directory, shared by every process that
 * opens the directory (the server, CLI commands, background jobs):
 *
 *   - WAL mode: readers see a consistent snapshot and never block the one
 *     writer, nor the writer them.
 *   - synchronous=NORMAL: in WAL mode a commit appends to the WAL without an
 *     fsync; the WAL is synced at each checkpoint. A power loss may lose the
 *     last commits but never corrupts the database, and an application crash
 *     (the common case: a killed process) loses nothing, because the WAL is
 *     in the OS page cache. SQLite documents this as safe for WAL.
 *   - Every write runs in BEGIN IMMEDIATE: the write lock is taken up front,
 *     while the busy handler (10 s) can still wait for it. A deferred
 *     transaction that reads first and writes later could instead fail with
 *     SQLITE_BUSY_SNAPSHOT, which no busy timeout can resolve.
 *   - foreign_keys=ON: deleting a group cascades to its feature metadata and
 *     parameters.
 *   - Statements are prepared once per handle (SQLITE_PREPARE_PERSISTENT) and
 *     reset after each use so that no statement holds a read snapshot open.
 *
 * Schema versions live in PRAGMA user_version. `migrations` below is the
 * ordered list of steps; step i takes a store from version i to i+1 in one
 * transaction, which re-reads the version after taking the write lock so
 * that two processes opening a fresh directory at once migrate it once.
 * To change the schema, append one string to `migrations`; never edit a step
 * that has shipped (docs/catalog.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_sqlite_util.h"
#include "catalog/catalog_sqlite_offline.h"
#include "catalog/catalog_sqlite_compact.h"
#include "larder/arena.h"
#include "larder/buf.h"

#define BUSY_TIMEOUT_MS 10000
#define WAL_RETRY_MS    5
/* A stored definition: 2,500 features and 50 tags fit in far less. */
#define DEF_JSON_MAX (16u * 1024 * 1024)

/* ---- schema ---- */

static const char *const migrations[] = {
    /* 1: feature groups, feature metadata and feature parameters. */
    "CREATE TABLE feature_groups ("
    "  name TEXT NOT NULL PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  creation_time_us INTEGER NOT NULL,"
    "  last_modified_us INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  offline_status TEXT NOT NULL,"
    "  definition TEXT NOT NULL"
    ");"
    "CREATE INDEX feature_groups_by_creation ON feature_groups (creation_time_us, name);"
    "CREATE INDEX feature_groups_by_status ON feature_groups (status, name);"
    "CREATE INDEX feature_groups_by_offline_status ON feature_groups (offline_status, name);"
    "CREATE TABLE feature_metadata ("
    "  fg_name TEXT NOT NULL REFERENCES feature_groups (name) ON DELETE CASCADE,"
    "  feature_name TEXT NOT NULL,"
    "  feature_type TEXT NOT NULL,"
    "  description TEXT,"
    "  creation_time_us INTEGER NOT NULL,"
    "  last_modified_us INTEGER NOT NULL,"
    "  PRIMARY KEY (fg_name, feature_name)"
    ");"
    "CREATE TABLE feature_parameters ("
    "  fg_name TEXT NOT NULL,"
    "  feature_name TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (fg_name, feature_name, key),"
    "  FOREIGN KEY (fg_name, feature_name)"
    "    REFERENCES feature_metadata (fg_name, feature_name) ON DELETE CASCADE"
    ");",
    /* 2: the offline store: live files, partitions, announced files, log checkpoints. */
    LR__SQLITE_OFFLINE_MIGRATION,
    /* 3: compaction: jobs, leases, pending output, retired files, states, copies. */
    LR__SQLITE_COMPACT_MIGRATION,
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int lr__catalog_sqlite_schema_version(void)
{
    return N_MIGRATIONS;
}

/* ---- statements ---- */

#define FG_COLS "name, arn, creation_time_us, last_modified_us, status, offline_status, definition"

/* X(id, sql) */
#define STMT_LIST(X)                                                                               \
    X(S_BEGIN_WRITE, "BEGIN IMMEDIATE")                                                            \
    X(S_BEGIN_READ, "BEGIN")                                                                       \
    X(S_COMMIT, "COMMIT")                                                                          \
    X(S_ROLLBACK, "ROLLBACK")                                                                      \
    X(S_FG_INSERT, "INSERT INTO feature_groups (" FG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") \
    X(S_FG_GET, "SELECT " FG_COLS " FROM feature_groups WHERE name = ?1")                          \
    X(S_FG_EXISTS, "SELECT 1 FROM feature_groups WHERE name = ?1")                                 \
    X(S_FG_UPDATE, "UPDATE feature_groups SET definition = ?2, last_modified_us = ?3,"             \
                   " status = ?4, offline_status = ?5 WHERE name = ?1")                            \
    X(S_FG_DELETE, "DELETE FROM feature_groups WHERE name = ?1")                                   \
    X(S_FM_INSERT, "INSERT INTO feature_metadata (fg_name, feature_name, feature_type,"            \
                   " description, creation_time_us, last_modified_us)"                             \
                   " VALUES (?1, ?2, ?3, NULL, ?4, ?4) ON CONFLICT DO NOTHING")                    \
    X(S_FM_GET, "SELECT m.feature_type, m.description, m.creation_time_us,"                        \
                " m.last_modified_us, g.arn FROM feature_metadata m"                               \
                " JOIN feature_groups g ON g.name = m.fg_name"                                     \
                " WHERE m.fg_name = ?1 AND m.feature_name = ?2")                                   \
    X(S_FM_EXISTS, "SELECT 1 FROM feature_metadata WHERE fg_name = ?1 AND feature_name = ?2")      \
    X(S_FM_SET_DESC, "UPDATE feature_metadata SET description = ?3"                                \
                     " WHERE fg_name = ?1 AND feature_name = ?2")                                  \
    X(S_FM_TOUCH, "UPDATE feature_metadata SET last_modified_us ="                                 \
                  " max(?3, last_modified_us + 1) WHERE fg_name = ?1 AND feature_name = ?2")       \
    X(S_FP_LIST, "SELECT key, value FROM feature_parameters"                                       \
                 " WHERE fg_name = ?1 AND feature_name = ?2 ORDER BY key")                         \
    X(S_FP_UPSERT, "INSERT INTO feature_parameters (fg_name, feature_name, key, value)"            \
                   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (fg_name, feature_name, key)"             \
                   " DO UPDATE SET value = excluded.value")                                        \
    X(S_FP_DELETE, "DELETE FROM feature_parameters"                                                \
                   " WHERE fg_name = ?1 AND feature_name = ?2 AND key = ?3")                       \
    X(S_FP_COUNT, "SELECT count(*) FROM feature_parameters"                                        \
                  " WHERE fg_name = ?1 AND feature_name = ?2")

typedef enum stmt_id {
#define STMT_ENUM(id, sql) id,
    STMT_LIST(STMT_ENUM)
#undef STMT_ENUM
        S_COUNT
} stmt_id;

static const char *const stmt_sql[S_COUNT] = {
#define STMT_SQL(id, sql) sql,
    STMT_LIST(STMT_SQL)
#undef STMT_SQL
};

#define N_SORTS 4

typedef struct sqlite_ctx {
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
    /* ListFeatureGroups: [sort_by][ascending][has cursor] */
    sqlite3_stmt *list_stmts[N_SORTS][2][2];
} sqlite_ctx;

/*
 * Maps an SQLite result code to an lr_status and keeps SQLite's text.
 * Call right after the failing call, before anything else touches the
 * connection, so that sqlite3_errmsg() still describes this failure.
 */
lr_status lr__sqlite_error(sqlite3 *db, int rc, const char *what, lr_error *err)
{
    lr_status st;
    int ext = db ? sqlite3_extended_errcode(db) : rc;

    if ((ext & 0xff) != (rc & 0xff))
        ext = rc;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        st = LR_EBUSY;
        break;
    case SQLITE_CONSTRAINT:
        st = (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) ? LR_EEXIST
                                                                                      : LR_EBACKEND;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        st = LR_ECORRUPT;
        break;
    case SQLITE_NOMEM:
        st = LR_ENOMEM;
        break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        st = LR_EIO;
        break;
    default:
        st = LR_EBACKEND;
        break;
    }
    return lr_error_set(err, st, "catalog (sqlite): %s: %s (%s)", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), sqlite3_errstr(ext));
}

lr_status lr__sqlite_prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, lr_error *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, s, NULL);
    if (rc != SQLITE_OK) {
        *s = NULL;
        return lr__sqlite_error(db, rc, "prepare", err);
    }
    return LR_OK;
}

lr_status lr__sqlite_exec(sqlite3 *db, const char *sql, const char *what, lr_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LR_OK : lr__sqlite_error(db, rc, what, err);
}

void lr__sqlite_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

lr_status lr__sqlite_step_done(sqlite3 *db, sqlite3_stmt *s, const char *what, lr_error *err)
{
    int rc = sqlite3_step(s);
    lr_status st =
        (rc == SQLITE_DONE || rc == SQLITE_ROW) ? LR_OK : lr__sqlite_error(db, rc, what, err);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return st;
}

lr_status lr__sqlite_step_file(sqlite3 *db, sqlite3_stmt *s, const char *root, const char *key,
                               const char *what, bool *changed, lr_error *err)
{
    lr__sqlite_text(s, 1, root);
    lr__sqlite_text(s, 2, key);
    lr_status st = lr__sqlite_step_done(db, s, what, err);
    if (changed != NULL)
        *changed = st == LR_OK && sqlite3_changes(db) == 1;
    return st;
}

void lr__sqlite_bind_file(sqlite3_stmt *s, const lr_offline_file *f)
{
    lr__sqlite_text(s, 1, f->root);
    lr__sqlite_text(s, 2, f->key);
    lr__sqlite_text(s, 3, f->fg_name);
    sqlite3_bind_int64(s, 4, f->fg_created_us);
    lr__sqlite_text(s, 5, f->partition);
    sqlite3_bind_int64(s, 6, f->partition_start_us);
    sqlite3_bind_int64(s, 7, f->rows);
    sqlite3_bind_int64(s, 8, f->bytes);
    sqlite3_bind_int64(s, 9, f->min_event_us);
    sqlite3_bind_int64(s, 10, f->max_event_us);
}

static lr_status prepare(sqlite_ctx *c, const char *sql, sqlite3_stmt **out, lr_error *err)
{
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return lr__sqlite_error(c->db, rc, "prepare", err);
    }
    return LR_OK;
}

/* The cached statement `id`, prepared on first use, reset and unbound. */
static lr_status stmt(sqlite_ctx *c, stmt_id id, sqlite3_stmt **out, lr_error *err)
{
    if (c->stmts[id] == NULL) {
        lr_status st = prepare(c, stmt_sql[id], &c->stmts[id], err);
        if (st != LR_OK)
            return st;
    }
    sqlite3_reset(c->stmts[id]);
    sqlite3_clear_bindings(c->stmts[id]);
    *out = c->stmts[id];
    return LR_OK;
}

/* Ends a statement's run so that it holds no snapshot or lock. */
static void done_with(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/* Resets every cached statement: the cleanup of every operation. */
static void reset_all(sqlite_ctx *c)
{
    for (int i = 0; i < S_COUNT; i++)
        done_with(c->stmts[i]);
    for (int s = 0; s < N_SORTS; s++)
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < 2; k++)
                done_with(c->list_stmts[s][a][k]);
}

static lr_status bind_text(sqlite_ctx *c, sqlite3_stmt *s, int i, const char *v, lr_error *err)
{
    int rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
    return rc == SQLITE_OK ? LR_OK : lr__sqlite_error(c->db, rc, "bind", err);
}

static lr_status bind_i64(sqlite_ctx *c, sqlite3_stmt *s, int i, int64_t v, lr_error *err)
{
    int rc = sqlite3_bind_int64(s, i, (sqlite3_int64)v);
    return rc == SQLITE_OK ? LR_OK : lr__sqlite_error(c->db, rc, "bind", err);
}

/* Runs a statement that returns no rows. */
static lr_status exec_done(sqlite_ctx *c, sqlite3_stmt *s, const char *what, lr_error *err)
{
    int rc = sqlite3_step(s);
    lr_status st = LR_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = lr__sqlite_error(c->db, rc, what, err);
    done_with(s);
    return st;
}

static lr_status run(sqlite_ctx *c, stmt_id id, const char *what, lr_error *err)
{
    sqlite3_stmt *s;
    lr_status st = stmt(c, id, &s, err);
    if (st != LR_OK)
        return st;
    return exec_done(c, s, what, err);
}

static lr_status tx_begin_write(sqlite_ctx *c, lr_error *err)
{
    return run(c, S_BEGIN_WRITE, "begin write transaction", err);
}

static lr_status tx_begin_read(sqlite_ctx *c, lr_error *err)
{
    return run(c, S_BEGIN_READ, "begin read transaction", err);
}

static lr_status tx_commit(sqlite_ctx *c, lr_error *err)
{
    return run(c, S_COMMIT, "commit", err);
}

/* Rolls back an open transaction, if any; the original error is kept. */
static void tx_rollback(sqlite_ctx *c)
{
    reset_all(c);
    if (sqlite3_get_autocommit(c->db))
        return;
    /* If even the cached statement cannot be prepared, do not leave the
     * handle inside a transaction that every later call would trip over. */
    if (run(c, S_ROLLBACK, "rollback", NULL) != LR_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- open, pragmas, migrations ---- */

/* Runs a one-row pragma query and copies its first column as text. */
static lr_status pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap, lr_error *err)
{
    sqlite3_stmt *s = NULL;
    lr_status st = LR_OK;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK) {
        st = lr__sqlite_error(db, rc, sql, err);
        goto done;
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        st = lr__sqlite_error(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, sql, err);
        goto done;
    }
    if (sqlite3_column_text(s, 0) == NULL) {
        st = lr_error_set(err, LR_EBACKEND, "catalog (sqlite): %s returned no value", sql);
        goto done;
    }
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
done:
    sqlite3_finalize(s);
    return st;
}

static lr_status user_version(sqlite3 *db, int *v, lr_error *err)
{
    char buf[32];
    lr_status st = pragma_text(db, "PRAGMA user_version", buf, sizeof buf, err);
    if (st == LR_OK)
        *v = atoi(buf);
    return st;
}

static lr_status newer_store(int v, lr_error *err)
{
    return lr_error_set(err, LR_ECORRUPT,
                        "catalog schema version %d is newer than this larder (%d)", v,
                        N_MIGRATIONS);
}

/* Brings the store up to N_MIGRATIONS, one transaction per step. */
static lr_status migrate(sqlite_ctx *c, lr_error *err)
{
    lr_status st;
    int v = 0;
    char set[64];

    st = user_version(c->db, &v, err);
    if (st != LR_OK)
        goto done;
    while (v < N_MIGRATIONS) {
        st = tx_begin_write(c, err);
        if (st != LR_OK)
            goto done;
        /* Another process may have migrated while we waited for the lock. */
        st = user_version(c->db, &v, err);
        if (st != LR_OK)
            goto done;
        if (v < N_MIGRATIONS) {
            st = lr__sqlite_exec(c->db, migrations[v], "schema migration", err);
            if (st != LR_OK) {
                lr_error_prefix(err, "migrating the catalog from version %d to %d", v, v + 1);
                goto done;
            }
            snprintf(set, sizeof set, "PRAGMA user_version = %d", v + 1);
            st = lr__sqlite_exec(c->db, set, "schema migration", err);
            if (st != LR_OK)
                goto done;
            v++;
        }
        st = tx_commit(c, err);
        if (st != LR_OK)
            goto done;
    }
    if (v > N_MIGRATIONS)
        st = newer_store(v, err);
done:
    if (st != LR_OK)
        tx_rollback(c);
    return st;
}

/*
 * Switches a store to WAL (a no-op when it already is). Leaving rollback mode
 * needs an exclusive lock; when two processes create a store at once, SQLite
 * may answer SQLITE_BUSY at once instead of calling the busy handler (both
 * hold a shared lock and want an exclusive one: waiting could deadlock). One
 * of them then retries here, for as long as the busy timeout would wait.
 */
static lr_status enable_wal(sqlite3 *db, char *mode, size_t cap, lr_error *err)
{
    lr_status st;
    int waited_ms = 0;

    for (;;) {
        st = pragma_text(db, "PRAGMA journal_mode = WAL", mode, cap, err);
        if (st != LR_EBUSY || waited_ms >= BUSY_TIMEOUT_MS)
            break;
        sqlite3_sleep(WAL_RETRY_MS);
        waited_ms += WAL_RETRY_MS;
    }
    return st;
}

static void sqlite_close(void *ctx)
{
    sqlite_ctx *c = ctx;
    if (c == NULL)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    for (int s = 0; s < N_SORTS; s++)
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < 2; k++)
                sqlite3_finalize(c->list_stmts[s][a][k]);
    sqlite3_close(c->db);
    free(c);
}

lr_status lr__catalog_sqlite_open(const char *path, void **out, lr_error *err)
{
    lr_status st = LR_OK;
    sqlite_ctx *c = NULL;
    char mode[32];
    int rc;

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    rc = sqlite3_open_v2(path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = lr__sqlite_error(c->db, rc, "open", err);
        lr_error_prefix(err, "%s", path);
        goto done;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /* The first statement reads the header: a file that is not a database fails here. */
    st = enable_wal(c->db, mode, sizeof mode, err);
    if (st != LR_OK) {
        lr_error_prefix(err, "%s", path);
        goto done;
    }
    if (strcmp(mode, "wal") != 0) {
        st = lr_error_set(err, LR_EBACKEND,
                          "catalog (sqlite): %s: cannot enable WAL mode (journal mode is %s)", path,
                          mode);
        goto done;
    }
    st = lr__sqlite_exec(c->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", "pragmas", err);
    if (st != LR_OK)
        goto done;
    st = migrate(c, err);
    if (st != LR_OK)
        goto done;
    *out = c;
    c = NULL;
done:
    sqlite_close(c);
    return st;
}

/* ---- feature groups ---- */

static lr_status def_to_json(const lr_fg_def *def, lr_buf *b, lr_error *err)
{
    lr_status st = lr_fg_def_to_json(def, LR_FG_JSON_STORED, b);
    if (st != LR_OK)
        return lr_error_set(err, st, "catalog: cannot serialise FeatureGroup %s: %s", def->name,
                            lr_strerror(st));
    return LR_OK;
}

/* Inserts the feature-metadata rows of features [from, def->n_features). */
static lr_status insert_metadata(sqlite_ctx *c, const lr_fg_def *def, uint32_t from, int64_t t,
                                 lr_error *err)
{
    lr_status st = LR_OK;
    sqlite3_stmt *s;

    for (uint32_t i = from; i < def->n_features; i++) {
        st = stmt(c, S_FM_INSERT, &s, err);
        if (st != LR_OK)
            break;
        if ((st = bind_text(c, s, 1, def->name, err)) != LR_OK ||
            (st = bind_text(c, s, 2, def->features[i].name, err)) != LR_OK ||
            (st = bind_text(c, s, 3, lr_feature_type_name(def->features[i].type), err)) != LR_OK ||
            (st = bind_i64(c, s, 4, t, err)) != LR_OK)
            break;
        st = exec_done(c, s, "insert feature metadata", err);
        if (st != LR_OK)
            break;
    }
    return st;
}

static lr_status sqlite_fg_create(void *ctx, const lr_fg_def *def, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    lr_buf json;
    sqlite3_stmt *s;
    int rc;

    lr_buf_init(&json, DEF_JSON_MAX);
    st = def_to_json(def, &json, err);
    if (st != LR_OK)
        goto done;
    st = tx_begin_write(c, err);
    if (st != LR_OK)
        goto done;
    st = stmt(c, S_FG_INSERT, &s, err);
    if (st != LR_OK)
        goto done;
    if ((st = bind_text(c, s, 1, def->name, err)) != LR_OK ||
        (st = bind_text(c, s, 2, def->arn, err)) != LR_OK ||
        (st = bind_i64(c, s, 3, def->creation_time_us, err)) != LR_OK ||
        (st = bind_i64(c, s, 4, def->last_modified_time_us, err)) != LR_OK ||
        (st = bind_text(c, s, 5, lr_fg_status_name(def->status), err)) != LR_OK ||
        (st = bind_text(c, s, 6, lr_offline_status_name(def->offline_status), err)) != LR_OK ||
        (st = bind_text(c, s, 7, json.data, err)) != LR_OK)
        goto done;
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(c->db, rc, "insert feature group", err);
        if (st == LR_EEXIST)
            lr__catalog_err_fg_exists(err, def->name);
        goto done;
    }
    done_with(s);
    st = insert_metadata(c, def, 0, def->creation_time_us, err);
    if (st != LR_OK)
        goto done;
    st = tx_commit(c, err);
done:
    if (st != LR_OK)
        tx_rollback(c);
    reset_all(c);
    lr_buf_free(&json);
    return st;
}

/*
 * Reads a group's row and parses its definition. The row's columns are the
 * truth for the assigned fields (the JSON carries them too, but its times
 * are seconds with a fraction).
 */
static lr_status load_def(sqlite_ctx *c, const char *name, lr_fg_def **out, lr_error *err)
{
    lr_status st;
    sqlite3_stmt *s = NULL;
    lr_fg_def *def = NULL;
    const char *json, *arn;
    size_t json_len;
    lr_error perr;
    int rc;

    *out = NULL;
    st = stmt(c, S_FG_GET, &s, err);
    if (st != LR_OK)
        goto done;
    st = bind_text(c, s, 1, name, err);
    if (st != LR_OK)
        goto done;
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        st = lr__catalog_err_fg_not_found(err, name);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        st = lr__sqlite_error(c->db, rc, "read feature group", err);
        goto done;
    }
    /* Text before bytes, as SQLite asks, so the length is that of the UTF-8 text. */
    json = (const char *)sqlite3_column_text(s, 6);
    json_len = (size_t)sqlite3_column_bytes(s, 6);
    if (json == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory reading FeatureGroup %s", name);
        goto done;
    }
    lr_error_clear(&perr);
    st = lr_fg_def_parse_stored(json, json_len, &def, &perr);
    if (st == LR_ENOMEM) {
        lr_error_set(err, st, "out of memory reading FeatureGroup %s", name);
        goto done;
    }
    if (st != LR_OK || strcmp(def->name, name) != 0) {
        st = lr_error_set(err, LR_ECORRUPT,
                          "catalog: the stored definition of FeatureGroup %s is invalid: %s", name,
                          st != LR_OK ? lr_error_message(&perr) : "its name differs");
        goto done;
    }
    arn = (const char *)sqlite3_column_text(s, 1);
    def->arn = arn ? lr_arena_strdup(def->arena, arn) : NULL;
    def->creation_time_us = sqlite3_column_int64(s, 2);
    def->last_modified_time_us = sqlite3_column_int64(s, 3);
    if (def->arn == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory reading FeatureGroup %s", name);
        goto done;
    }
    if (!lr__fg_status_parse((const char *)sqlite3_column_text(s, 4), &def->status) ||
        !lr__offline_status_parse((const char *)sqlite3_column_text(s, 5), &def->offline_status)) {
        st = lr_error_set(err, LR_ECORRUPT, "catalog: FeatureGroup %s has an unknown status", name);
        goto done;
    }
    *out = def;
    def = NULL;
done:
    done_with(s);
    lr_fg_def_free(def);
    return st;
}

static lr_status sqlite_fg_get(void *ctx, const char *name, lr_fg_def **out, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st = load_def(c, name, out, err);
    reset_all(c);
    return st;
}

static lr_status sqlite_fg_update(void *ctx, const lr_fg_def *def, int64_t now_us, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    lr_fg_def *old = NULL, *m = NULL;
    lr_buf json;
    sqlite3_stmt *s;

    lr_buf_init(&json, DEF_JSON_MAX);
    st = tx_begin_write(c, err);
    if (st != LR_OK)
        goto done;
    st = load_def(c, def->name, &old, err);
    if (st != LR_OK)
        goto done;
    st = lr__catalog_fg_merge_update(old, def, now_us, &m, err);
    if (st != LR_OK)
        goto done;
    st = def_to_json(m, &json, err);
    if (st != LR_OK)
        goto done;
    st = stmt(c, S_FG_UPDATE, &s, err);
    if (st != LR_OK)
        goto done;
    if ((st = bind_text(c, s, 1, m->name, err)) != LR_OK ||
        (st = bind_text(c, s, 2, json.data, err)) != LR_OK ||
        (st = bind_i64(c, s, 3, m->last_modified_time_us, err)) != LR_OK ||
        (st = bind_text(c, s, 4, lr_fg_status_name(m->status), err)) != LR_OK ||
        (st = bind_text(c, s, 5, lr_offline_status_name(m->offline_status), err)) != LR_OK)
        goto done;
    st = exec_done(c, s, "update feature group", err);
    if (st != LR_OK)
        goto done;
    st = insert_metadata(c, m, old->n_features, m->last_modified_time_us, err);
    if (st != LR_OK)
        goto done;
    st = tx_commit(c, err);
done:
    if (st != LR_OK)
        tx_rollback(c);
    reset_all(c);
    lr_buf_free(&json);
    lr_fg_def_free(old);
    lr_fg_def_free(m);
    return st;
}

static lr_status sqlite_fg_delete(void *ctx, const char *name, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    sqlite3_stmt *s;

    st = tx_begin_write(c, err);
    if (st != LR_OK)
        goto done;
    st = stmt(c, S_FG_DELETE, &s, err);
    if (st != LR_OK)
        goto done;
    st = bind_text(c, s, 1, name, err);
    if (st != LR_OK)
        goto done;
    st = exec_done(c, s, "delete feature group", err);
    if (st != LR_OK)
        goto done;
    if (sqlite3_changes(c->db) == 0) {
        st = lr__catalog_err_fg_not_found(err, name);
        goto done;
    }
    st = tx_commit(c, err);
done:
    if (st != LR_OK)
        tx_rollback(c);
    reset_all(c);
    return st;
}

/* ---- listing ---- */

static const char *sort_column(lr_fg_sort_by by)
{
    switch (by) {
    case LR_SORT_STATUS:
        return "status";
    case LR_SORT_OFFLINE_STATUS:
        return "offline_status";
    case LR_SORT_NAME:
        return NULL;
    default:
        return "creation_time_us";
    }
}

/*
 * The list statement for one sort, order and page position. Filters bind
 * NULL to mean "any", so one statement serves every filter combination.
 */
static lr_status list_stmt(sqlite_ctx *c, lr_fg_sort_by by, bool asc, bool cursor,
                           sqlite3_stmt **out, lr_error *err)
{
    sqlite3_stmt **slot = &c->list_stmts[by][asc][cursor];
    const char *col = sort_column(by);
    const char *dir = asc ? "ASC" : "DESC";
    const char *cmp = asc ? ">" : "<";
    char sql[1024], where[128];

    if (*slot == NULL) {
        where[0] = '\0';
        if (cursor && col)
            snprintf(where, sizeof where, " AND (%s, name) %s (:ckey, :cname)", col, cmp);
        else if (cursor)
            snprintf(where, sizeof where, " AND name %s :cname", cmp);
        snprintf(sql, sizeof sql,
                 "SELECT name, arn, creation_time_us, status, offline_status FROM feature_groups"
                 " WHERE (:nc IS NULL OR instr(lower(name), :nc) > 0)"
                 " AND (:st IS NULL OR status = :st)"
                 " AND (:ost IS NULL OR offline_status = :ost)"
                 " AND creation_time_us > :after AND creation_time_us < :before%s"
                 " ORDER BY %s%s%s name %s LIMIT :lim",
                 where, col ? col : "", col ? " " : "", col ? (asc ? "ASC," : "DESC,") : "", dir);
        lr_status st = prepare(c, sql, slot, err);
        if (st != LR_OK)
            return st;
    }
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
    *out = *slot;
    return LR_OK;
}

static lr_status bind_named_text(sqlite_ctx *c, sqlite3_stmt *s, const char *name, const char *v,
                                 lr_error *err)
{
    int i = sqlite3_bind_parameter_index(s, name);
    return i ? bind_text(c, s, i, v, err) : LR_OK;
}

static lr_status bind_named_i64(sqlite_ctx *c, sqlite3_stmt *s, const char *name, int64_t v,
                                lr_error *err)
{
    int i = sqlite3_bind_parameter_index(s, name);
    return i ? bind_i64(c, s, i, v, err) : LR_OK;
}

/* Copies a text column into a fixed field; false when it does not fit. */
static bool copy_col(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    size_t n = (size_t)sqlite3_column_bytes(s, col);
    if (v == NULL || n >= cap)
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

static lr_status sqlite_fg_list(void *ctx, const lr_fg_list_query *q, const lr__fg_cursor *cur,
                                lr_fg_list *out, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    sqlite3_stmt *s;
    lr_fg_summary *items = NULL;
    char nc[65];
    uint32_t n = 0;
    bool more = false;
    int rc;

    st = list_stmt(c, q->sort_by, q->ascending, cur->set, &s, err);
    if (st != LR_OK)
        goto done;
    if (q->name_contains) {
        /* Names are ASCII, and SQLite's lower() folds ASCII only. */
        size_t i;
        for (i = 0; q->name_contains[i] && i < sizeof nc - 1; i++) {
            char ch = q->name_contains[i];
            nc[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        nc[i] = '\0';
    }
    if ((st = bind_named_text(c, s, ":nc", q->name_contains ? nc : NULL, err)) != LR_OK ||
        (st = bind_named_text(
             c, s, ":st",
             q->status_equals ? lr_fg_status_name((lr_fg_status)q->status_equals) : NULL, err)) !=
            LR_OK ||
        (st = bind_named_text(
             c, s, ":ost",
             q->offline_status_equals
                 ? lr_offline_status_name((lr_offline_status)q->offline_status_equals)
                 : NULL,
             err)) != LR_OK ||
        (st = bind_named_i64(c, s, ":after", q->created_after_us, err)) != LR_OK ||
        (st = bind_named_i64(c, s, ":before", q->created_before_us, err)) != LR_OK ||
        (st = bind_named_i64(c, s, ":lim", (int64_t)q->max_results + 1, err)) != LR_OK)
        goto done;
    if (cur->set) {
        if ((st = bind_named_text(c, s, ":cname", cur->name, err)) != LR_OK)
            goto done;
        if (q->sort_by == LR_SORT_CREATION_TIME)
            st = bind_named_i64(c, s, ":ckey", cur->time_us, err);
        else
            st = bind_named_text(c, s, ":ckey", cur->status, err);
        if (st != LR_OK)
            goto done;
    }
    items = calloc(q->max_results, sizeof *items);
    if (items == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        lr_fg_summary *it;
        if (n == q->max_results) {
            more = true;
            break;
        }
        it = &items[n];
        if (!copy_col(s, 0, it->name, sizeof it->name) ||
            !copy_col(s, 1, it->arn, sizeof it->arn) ||
            !lr__fg_status_parse((const char *)sqlite3_column_text(s, 3), &it->status) ||
            !lr__offline_status_parse((const char *)sqlite3_column_text(s, 4),
                                      &it->offline_status)) {
            st = lr_error_set(err, LR_ECORRUPT, "catalog: feature_groups has an invalid row");
            goto done;
        }
        it->creation_time_us = sqlite3_column_int64(s, 2);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = lr__sqlite_error(c->db, rc, "list feature groups", err);
        goto done;
    }
    if (more) {
        st = lr__fg_token_encode(q, &items[n - 1], &out->next_token);
        if (st != LR_OK) {
            lr_error_set(err, st, "catalog: cannot encode the next token");
            goto done;
        }
    }
    out->items = items;
    out->n = n;
    items = NULL;
done:
    reset_all(c);
    free(items);
    return st;
}

/* ---- feature metadata ---- */

/* The ENOTFOUND error for a missing feature: says whether the group exists. */
static lr_status feature_missing(sqlite_ctx *c, const char *fg, const char *feature, lr_error *err)
{
    lr_status st;
    sqlite3_stmt *s;
    int rc;

    st = stmt(c, S_FG_EXISTS, &s, err);
    if (st != LR_OK)
        return st;
    st = bind_text(c, s, 1, fg, err);
    if (st != LR_OK)
        goto done;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        st = lr__catalog_err_feature_not_found(err, fg, feature);
    else if (rc == SQLITE_DONE)
        st = lr__catalog_err_fg_not_found(err, fg);
    else
        st = lr__sqlite_error(c->db, rc, "read feature group", err);
done:
    done_with(s);
    return st;
}

static char *dup_col(sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    return v ? strdup((const char *)v) : NULL;
}

static lr_status sqlite_fm_get(void *ctx, const char *fg, const char *feature,
                               lr_feature_metadata *out, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    sqlite3_stmt *s;
    lr_feature_metadata m;
    uint32_t cap = 0;
    int rc;

    memset(&m, 0, sizeof m);
    st = tx_begin_read(c, err);
    if (st != LR_OK)
        goto done;
    st = stmt(c, S_FM_GET, &s, err);
    if (st != LR_OK)
        goto done;
    if ((st = bind_text(c, s, 1, fg, err)) != LR_OK ||
        (st = bind_text(c, s, 2, feature, err)) != LR_OK)
        goto done;
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        done_with(s);
        st = feature_missing(c, fg, feature, err);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        st = lr__sqlite_error(c->db, rc, "read feature metadata", err);
        goto done;
    }
    if (!lr__feature_type_parse((const char *)sqlite3_column_text(s, 0), &m.type)) {
        st = lr_error_set(err, LR_ECORRUPT, "catalog: feature %s of %s has an unknown type",
                          feature, fg);
        goto done;
    }
    m.fg_name = strdup(fg);
    m.feature_name = strdup(feature);
    m.fg_arn = dup_col(s, 4);
    if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
        m.description = dup_col(s, 1);
        if (m.description == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
    }
    m.creation_time_us = sqlite3_column_int64(s, 2);
    m.last_modified_time_us = sqlite3_column_int64(s, 3);
    done_with(s);
    if (m.fg_name == NULL || m.feature_name == NULL || m.fg_arn == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    st = stmt(c, S_FP_LIST, &s, err);
    if (st != LR_OK)
        goto done;
    if ((st = bind_text(c, s, 1, fg, err)) != LR_OK ||
        (st = bind_text(c, s, 2, feature, err)) != LR_OK)
        goto done;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        lr_feature_param *p;
        if (m.n_params == LR_FEATURE_PARAMS_TOTAL_MAX) {
            st = lr_error_set(err, LR_ECORRUPT,
                              "catalog: feature %s of %s has more than %d parameters", feature, fg,
                              LR_FEATURE_PARAMS_TOTAL_MAX);
            goto done;
        }
        if (m.n_params == cap) {
            uint32_t ncap = cap ? cap * 2 : 8;
            lr_feature_param *np = realloc(m.params, ncap * sizeof *np);
            if (np == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                goto done;
            }
            m.params = np;
            cap = ncap;
        }
        p = &m.params[m.n_params];
        p->key = dup_col(s, 0);
        p->value = dup_col(s, 1);
        m.n_params++;
        if (p->key == NULL || p->value == NULL) {
            st = lr_error_set(err, LR_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (rc != SQLITE_DONE) {
        st = lr__sqlite_error(c->db, rc, "read feature parameters", err);
        goto done;
    }
    done_with(s);
    st = tx_commit(c, err);
    if (st != LR_OK)
        goto done;
    *out = m;
    memset(&m, 0, sizeof m);
done:
    if (st != LR_OK)
        tx_rollback(c);
    reset_all(c);
    lr_feature_metadata_free(&m);
    return st;
}

static lr_status bind_feature(sqlite_ctx *c, sqlite3_stmt *s, const char *fg, const char *feature,
                              lr_error *err)
{
    lr_status st = bind_text(c, s, 1, fg, err);
    return st != LR_OK ? st : bind_text(c, s, 2, feature, err);
}

static lr_status sqlite_fm_update(void *ctx, const char *fg, const char *feature,
                                  const char *description, const lr_feature_param *additions,
                                  uint32_t n_add, const char *const *removals, uint32_t n_remove,
                                  int64_t now_us, lr_error *err)
{
    sqlite_ctx *c = ctx;
    lr_status st;
    sqlite3_stmt *s;
    int64_t count;
    int rc;

    st = tx_begin_write(c, err);
    if (st != LR_OK)
        goto done;
    st = stmt(c, S_FM_EXISTS, &s, err);
    if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK)
        goto done;
    rc = sqlite3_step(s);
    done_with(s);
    if (rc == SQLITE_DONE) {
        st = feature_missing(c, fg, feature, err);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        st = lr__sqlite_error(c->db, rc, "read feature metadata", err);
        goto done;
    }
    if (description) {
        st = stmt(c, S_FM_SET_DESC, &s, err);
        if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK ||
            (st = bind_text(c, s, 3, description, err)) != LR_OK ||
            (st = exec_done(c, s, "set feature description", err)) != LR_OK)
            goto done;
    }
    for (uint32_t i = 0; i < n_remove; i++) {
        st = stmt(c, S_FP_DELETE, &s, err);
        if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK ||
            (st = bind_text(c, s, 3, removals[i], err)) != LR_OK ||
            (st = exec_done(c, s, "remove feature parameter", err)) != LR_OK)
            goto done;
    }
    for (uint32_t i = 0; i < n_add; i++) {
        st = stmt(c, S_FP_UPSERT, &s, err);
        if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK ||
            (st = bind_text(c, s, 3, additions[i].key, err)) != LR_OK ||
            (st = bind_text(c, s, 4, additions[i].value, err)) != LR_OK ||
            (st = exec_done(c, s, "add feature parameter", err)) != LR_OK)
            goto done;
    }
    if (n_add > 0) {
        st = stmt(c, S_FP_COUNT, &s, err);
        if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK)
            goto done;
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
            st = lr__sqlite_error(c->db, rc, "count feature parameters", err);
            goto done;
        }
        count = sqlite3_column_int64(s, 0);
        done_with(s);
        if (count > LR_FEATURE_PARAMS_TOTAL_MAX) {
            st = lr_error_set(err, LR_ELIMIT,
                              "Feature %s of FeatureGroup %s would have %" PRId64
                              " parameters; at most %d are allowed",
                              feature, fg, count, LR_FEATURE_PARAMS_TOTAL_MAX);
            goto done;
        }
    }
    st = stmt(c, S_FM_TOUCH, &s, err);
    if (st != LR_OK || (st = bind_feature(c, s, fg, feature, err)) != LR_OK ||
        (st = bind_i64(c, s, 3, now_us, err)) != LR_OK ||
        (st = exec_done(c, s, "update feature metadata", err)) != LR_OK)
        goto done;
    st = tx_commit(c, err);
done:
    if (st != LR_OK)
        tx_rollback(c);
    reset_all(c);
    return st;
}

const lr__catalog_ops lr__catalog_sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .fg_create = sqlite_fg_create,
    .fg_get = sqlite_fg_get,
    .fg_update = sqlite_fg_update,
    .fg_delete = sqlite_fg_delete,
    .fg_list = sqlite_fg_list,
    .fm_get = sqlite_fm_get,
    .fm_update = sqlite_fm_update,
    .offline_announce = lr__sqlite_offline_announce,
    .offline_commit = lr__sqlite_offline_commit,
    .offline_checkpoint = lr__sqlite_offline_checkpoint,
    .offline_checkpoint_delete = lr__sqlite_offline_checkpoint_delete,
    .offline_files = lr__sqlite_offline_files,
    .offline_file_exists = lr__sqlite_offline_file_exists,
    .offline_announced = lr__sqlite_offline_announced,
    .offline_unannounce = lr__sqlite_offline_unannounce,
    .offline_partitions = lr__sqlite_offline_partitions,
    .compact = &lr__sqlite_compact_ops,
};

struct sqlite3 *lr__catalog_sqlite_db(void *ctx)
{
    return ((sqlite_ctx *)ctx)->db;
}
