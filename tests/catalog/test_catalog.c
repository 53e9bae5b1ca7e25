/*
 * test_catalog.c - the catalog API on its SQLite backend: opening and
 * migrations, feature-group create/get/update/delete, listing with every
 * filter, sort and pagination, and feature metadata with its limits.
 *
 * Every test gets a fresh data directory. Where a test needs distinct
 * creation times it waits for the clock to advance (tick()), which makes
 * the order certain without depending on how long anything takes.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "larder/catalog.h"
#include "support/testutil.h"

#define ACCOUNT "123456789012"
#define REGION  "eu-west-1"

typedef struct fixture {
    char *dir; /* data directory (realpath) */
    lr_catalog *cat;
    lr_settings settings;
} fixture;

static lr_settings test_settings(void)
{
    lr_settings s;
    memset(&s, 0, sizeof s);
    snprintf(s.region, sizeof s.region, "%s", REGION);
    snprintf(s.account, sizeof s.account, "%s", ACCOUNT);
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lr_error err;
    char *dir;

    assert_non_null(f);
    dir = lr_test_tmpdir("catalog");
    assert_non_null(dir);
    f->dir = realpath(dir, NULL);
    free(dir);
    assert_non_null(f->dir);
    f->settings = test_settings();
    lr_error_clear(&err);
    assert_int_equal(lr_catalog_open(f->dir, &f->settings, &f->cat, &err), LR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lr_catalog_close(f->cat);
    lr_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Waits until the clock has moved past the current microsecond. */
static void tick(void)
{
    int64_t t = lr_now_us();
    while (lr_now_us() <= t) {
    }
}

/*
 * A definition with features id (String), ts (Fractional), amount
 * (Integral); an offline store at `s3uri` when it is not NULL.
 */
static lr_fg_def *make_def(const char *name, const char *s3uri)
{
    char json[2048];
    lr_fg_def *def = NULL;
    lr_error err;

    if (s3uri)
        snprintf(json, sizeof json,
                 "{\"FeatureGroupName\":\"%s\",\"RecordIdentifierFeatureName\":\"id\","
                 "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                 "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                 "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
                 "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"}],"
                 "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"%s\"}}}",
                 name, s3uri);
    else
        snprintf(json, sizeof json,
                 "{\"FeatureGroupName\":\"%s\",\"RecordIdentifierFeatureName\":\"id\","
                 "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                 "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                 "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
                 "{\"FeatureName\":\"amount\",\"FeatureType\":\"Integral\"}],"
                 "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}",
                 name);
    lr_error_clear(&err);
    if (lr_fg_def_parse(json, strlen(json), &def, &err) != LR_OK) {
        fail_msg("parse %s: %s", name, err.msg);
    }
    return def;
}

/* Creates a group, returns its stored definition, and ticks the clock. */
static lr_fg_def *create(lr_catalog *cat, const char *name, const char *s3uri)
{
    lr_fg_def *def = make_def(name, s3uri), *out = NULL;
    lr_error err;
    lr_error_clear(&err);
    if (lr_catalog_fg_create(cat, def, &out, &err) != LR_OK)
        fail_msg("create %s: %s", name, err.msg);
    lr_fg_def_free(def);
    tick();
    return out;
}

static void create_free(lr_catalog *cat, const char *name, const char *s3uri)
{
    lr_fg_def_free(create(cat, name, s3uri));
}

static sqlite3 *open_db(const char *dir)
{
    char *path = lr_test_path(dir, "catalog.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    free(path);
    return db;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* ---- open and migrations ---- */

static void test_open_creates_directory_and_schema(void **state)
{
    fixture *f = *state;
    char *nested = lr_test_path(f->dir, "a/b/c");
    char *file = lr_test_path(nested, "catalog.db");
    lr_catalog *cat = NULL;
    lr_error err;
    struct stat sb;
    sqlite3 *db;
    sqlite3_stmt *s;

    assert_int_equal(lr_catalog_open(nested, &f->settings, &cat, &err), LR_OK);
    assert_non_null(cat);
    assert_int_equal(stat(file, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    lr_catalog_close(cat);

    db = open_db(nested);
    assert_true(lr_catalog_schema_version() >= 1);
    assert_int_equal(query_int(db, "PRAGMA user_version"), lr_catalog_schema_version());
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                   "name IN ('feature_groups', 'feature_metadata', "
                                   "'feature_parameters')"),
                     3);
    sqlite3_close(db);
    free(file);
    free(nested);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    lr_catalog *cat = (lr_catalog *)&cat;
    lr_error err;
    char uri[4096];
    char *file = lr_test_path(f->dir, "plain-file");
    char *bad = lr_test_path(f->dir, "notadb");
    char *baddb = lr_test_path(bad, "catalog.db");

    assert_int_equal(lr_catalog_open(NULL, &f->settings, &cat, &err), LR_EINVAL);
    assert_null(cat);
    assert_int_equal(lr_catalog_open("", &f->settings, &cat, &err), LR_EINVAL);
    assert_int_equal(lr_catalog_open("postgresql://u@localhost/larder", &f->settings, &cat, &err),
                     LR_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_int_equal(lr_catalog_open("postgres://localhost", &f->settings, &cat, &err),
                     LR_EUNSUPPORTED);
    assert_int_equal(lr_catalog_open("sqlite:", &f->settings, &cat, &err), LR_EINVAL);
    assert_int_equal(lr_catalog_open("sqlite::memory:", &f->settings, &cat, &err), LR_EINVAL);
    assert_int_equal(
        lr_catalog_open("sqlite:/nonexistent-larder-dir/x/catalog.db", &f->settings, &cat, &err),
        LR_EIO);
    assert_null(cat);

    /* A data directory that is a regular file. */
    assert_int_equal(lr_test_write_file(file, "x", 1), 0);
    assert_int_equal(lr_catalog_open(file, &f->settings, &cat, &err), LR_EIO);
    assert_null(cat);

    /* A catalog.db that is not a database. */
    assert_int_equal(mkdir(bad, 0755), 0);
    memset(uri, 'z', sizeof uri);
    assert_int_equal(lr_test_write_file(baddb, uri, sizeof uri), 0);
    assert_int_equal(lr_catalog_open(bad, &f->settings, &cat, &err), LR_ECORRUPT);
    assert_null(cat);
    free(baddb);
    free(bad);
    free(file);
}

static void test_open_sqlite_uri(void **state)
{
    fixture *f = *state;
    char uri[4096];
    lr_catalog *cat = NULL;
    lr_error err;
    lr_fg_def *d;
    char want[4096];

    snprintf(uri, sizeof uri, "sqlite:%s/custom.db", f->dir);
    assert_int_equal(lr_catalog_open(uri, &f->settings, &cat, &err), LR_OK);
    /* The data directory is the file's directory: relative paths resolve there. */
    d = create(cat, "viaSqliteUri", "rel/off");
    snprintf(want, sizeof want,
             "%s/rel/off/" ACCOUNT "/sagemaker/" REGION "/offline-store/viaSqliteUri-%lld/data",
             f->dir, (long long)(d->creation_time_us / 1000000));
    assert_string_equal(d->resolved_offline_uri, want);
    lr_fg_def_free(d);
    lr_catalog_close(cat);

    /* The group lives in custom.db, not in the fixture's catalog.db. */
    assert_int_equal(lr_catalog_fg_get(f->cat, "viaSqliteUri", &d, &err), LR_ENOTFOUND);
    assert_int_equal(lr_catalog_open(uri, &f->settings, &cat, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(cat, "viaSqliteUri", &d, &err), LR_OK);
    lr_fg_def_free(d);
    lr_catalog_close(cat);
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    lr_catalog *cat = NULL;
    lr_error err;
    char sql[64], want[128];
    sqlite3 *db;
    int v = lr_catalog_schema_version();

    lr_catalog_close(f->cat);
    f->cat = NULL;
    db = open_db(f->dir);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    exec_ok(db, sql);
    sqlite3_close(db);

    assert_int_equal(lr_catalog_open(f->dir, &f->settings, &cat, &err), LR_ECORRUPT);
    assert_null(cat);
    snprintf(want, sizeof want, "catalog schema version %d is newer than this larder (%d)", v + 1,
             v);
    assert_string_equal(err.msg, want);

    /* The refused store is left as it was. */
    db = open_db(f->dir);
    assert_int_equal(query_int(db, "PRAGMA user_version"), v + 1);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    exec_ok(db, sql);
    sqlite3_close(db);
    assert_int_equal(lr_catalog_open(f->dir, &f->settings, &f->cat, &err), LR_OK);
}

static void test_migration_is_atomic(void **state)
{
    fixture *f = *state;
    char *dir = lr_test_path(f->dir, "premade");
    lr_catalog *cat = NULL;
    lr_error err;
    sqlite3 *db;

    /* A store at version 0 whose last table of step 1 already exists: step 1 fails midway. */
    assert_int_equal(mkdir(dir, 0755), 0);
    db = open_db(dir);
    exec_ok(db, "CREATE TABLE feature_parameters (x INTEGER)");
    sqlite3_close(db);
    assert_int_equal(lr_catalog_open(dir, &f->settings, &cat, &err), LR_EBACKEND);
    assert_null(cat);
    assert_non_null(strstr(err.msg, "from version 0 to 1"));
    assert_non_null(strstr(err.msg, "feature_parameters"));

    db = open_db(dir);
    assert_int_equal(query_int(db, "PRAGMA user_version"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                   "('feature_groups', 'feature_metadata')"),
                     0);
    exec_ok(db, "DROP TABLE feature_parameters");
    sqlite3_close(db);

    assert_int_equal(lr_catalog_open(dir, &f->settings, &cat, &err), LR_OK);
    lr_catalog_close(cat);
    db = open_db(dir);
    assert_int_equal(query_int(db, "PRAGMA user_version"), lr_catalog_schema_version());
    sqlite3_close(db);
    free(dir);
}

static void test_persistence_across_reopen(void **state)
{
    fixture *f = *state;
    lr_fg_def *a = create(f->cat, "persisted", "s3://bucket/p");
    lr_fg_def *b = NULL;
    lr_feature_param add = {"owner", "team-a"};
    lr_feature_metadata m;
    lr_error err;

    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "persisted", "amount", "cents",
                                                        &add, 1, NULL, 0, &err),
                     LR_OK);
    lr_catalog_close(f->cat);
    assert_int_equal(lr_catalog_open(f->dir, &f->settings, &f->cat, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "persisted", &b, &err), LR_OK);
    assert_string_equal(b->name, a->name);
    assert_string_equal(b->arn, a->arn);
    assert_int_equal(b->creation_time_us, a->creation_time_us);
    assert_int_equal(b->last_modified_time_us, a->last_modified_time_us);
    assert_string_equal(b->resolved_offline_uri, a->resolved_offline_uri);
    assert_int_equal(b->n_features, a->n_features);
    assert_int_equal(b->status, LR_FG_CREATED);
    assert_int_equal(b->offline_status, LR_OFFLINE_ACTIVE);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "persisted", "amount", &m, &err),
                     LR_OK);
    assert_string_equal(m.description, "cents");
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0].key, "owner");
    assert_string_equal(m.params[0].value, "team-a");
    lr_feature_metadata_free(&m);
    lr_fg_def_free(a);
    lr_fg_def_free(b);
}

/* ---- create, get, update, delete ---- */

static void test_create_assigns_fields(void **state)
{
    fixture *f = *state;
    lr_fg_def *def = make_def("orders", "s3://bucket/prefix/");
    lr_fg_def *out = NULL, *got = NULL;
    lr_error err;
    int64_t before = lr_now_us(), after;
    char want[512];

    assert_int_equal(lr_catalog_fg_create(f->cat, def, &out, &err), LR_OK);
    after = lr_now_us();
    assert_non_null(out);
    assert_string_equal(out->arn, "arn:aws:sagemaker:" REGION ":" ACCOUNT ":feature-group/orders");
    assert_true(out->creation_time_us >= before && out->creation_time_us <= after);
    assert_int_equal(out->last_modified_time_us, out->creation_time_us);
    assert_int_equal(out->status, LR_FG_CREATED);
    assert_int_equal(out->offline_status, LR_OFFLINE_ACTIVE);
    snprintf(want, sizeof want,
             "s3://bucket/prefix/" ACCOUNT "/sagemaker/" REGION "/offline-store/orders-%lld/data",
             (long long)(out->creation_time_us / 1000000));
    assert_string_equal(out->resolved_offline_uri, want);
    /* The input is not modified. */
    assert_null(def->arn);

    assert_int_equal(lr_catalog_fg_get(f->cat, "orders", &got, &err), LR_OK);
    assert_string_equal(got->arn, out->arn);
    assert_string_equal(got->resolved_offline_uri, want);
    assert_int_equal(got->creation_time_us, out->creation_time_us);
    assert_int_equal(got->n_features, 3);
    assert_string_equal(got->features[2].name, "amount");
    assert_int_equal(got->features[2].type, LR_FT_INTEGRAL);
    assert_string_equal(got->record_id_name, "id");
    assert_string_equal(got->event_time_name, "ts");
    lr_fg_def_free(got);
    lr_fg_def_free(out);
    lr_fg_def_free(def);

    /* No offline store: Disabled and no resolved URI; out may be NULL. */
    def = make_def("online-only", NULL);
    assert_int_equal(lr_catalog_fg_create(f->cat, def, NULL, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "online-only", &got, &err), LR_OK);
    assert_int_equal(got->offline_status, LR_OFFLINE_DISABLED);
    assert_null(got->resolved_offline_uri);
    lr_fg_def_free(got);
    lr_fg_def_free(def);
}

static void test_definition_round_trip(void **state)
{
    fixture *f = *state;
    const char *json =
        "{\"FeatureGroupName\":\"full\",\"RecordIdentifierFeatureName\":\"id\","
        "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
        "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
        "{\"FeatureName\":\"ts\",\"FeatureType\":\"String\"},"
        "{\"FeatureName\":\"score\",\"FeatureType\":\"Fractional\"}],"
        "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,"
        "\"TtlDuration\":{\"Unit\":\"Days\",\"Value\":7}},"
        "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"s3://bkt/x\"}},"
        "\"Description\":\"all the parts\","
        "\"Tags\":[{\"Key\":\"team\",\"Value\":\"growth\"},{\"Key\":\"env\",\"Value\":\"\"}]}";
    lr_fg_def *def = NULL, *got = NULL;
    lr_buf a, b;
    lr_error err;

    assert_int_equal(lr_fg_def_parse(json, strlen(json), &def, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(f->cat, def, NULL, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "full", &got, &err), LR_OK);
    assert_int_equal(got->n_tags, 2);
    assert_string_equal(got->description, "all the parts");
    assert_int_equal(got->online_ttl.unit, LR_TTL_DAYS);
    assert_int_equal(got->online_ttl.value, 7);
    /* Everything the request said survives the catalog unchanged. */
    lr_buf_init(&a, 0);
    lr_buf_init(&b, 0);
    assert_int_equal(lr_fg_def_to_json(def, LR_FG_JSON_REQUEST, &a), LR_OK);
    assert_int_equal(lr_fg_def_to_json(got, LR_FG_JSON_REQUEST, &b), LR_OK);
    assert_string_equal(a.data, b.data);
    lr_buf_free(&a);
    lr_buf_free(&b);
    lr_fg_def_free(got);
    lr_fg_def_free(def);
}

static void test_create_offline_uri_forms(void **state)
{
    fixture *f = *state;
    struct {
        const char *name, *s3uri, *root;
        bool in_data_dir; /* root is relative to the data directory */
    } cases[] = {
        {"s3-bucket-only", "s3://bucket", "s3://bucket", false},
        {"s3-slashes", "s3://bucket/a/b//", "s3://bucket/a/b", false},
        {"file-uri", "file:///srv/larder/off/", "file:///srv/larder/off", false},
        {"abs-path", "/srv/offline/", "/srv/offline", false},
        {"rel-path", "rel/dir", "rel/dir", true},
        {"dot-rel-path", "./dotted/", "dotted", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lr_fg_def *d = create(f->cat, cases[i].name, cases[i].s3uri), *g = NULL;
        char root[1024], want[2048];
        lr_error err;
        if (cases[i].in_data_dir)
            snprintf(root, sizeof root, "%s/%s", f->dir, cases[i].root);
        else
            snprintf(root, sizeof root, "%s", cases[i].root);
        snprintf(want, sizeof want,
                 "%s/" ACCOUNT "/sagemaker/" REGION "/offline-store/%s-%lld/data", root,
                 cases[i].name, (long long)(d->creation_time_us / 1000000));
        assert_string_equal(d->resolved_offline_uri, want);
        assert_int_equal(lr_catalog_fg_get(f->cat, cases[i].name, &g, &err), LR_OK);
        assert_string_equal(g->resolved_offline_uri, want);
        /* The S3Uri itself is kept as given. */
        assert_string_equal(g->offline_s3_uri, cases[i].s3uri);
        lr_fg_def_free(g);
        lr_fg_def_free(d);
    }
}

static void test_create_duplicate_and_case(void **state)
{
    fixture *f = *state;
    lr_fg_def *def = make_def("Dup", NULL), *out = (lr_fg_def *)&def;
    lr_fg_def *lower = NULL;
    lr_error err;

    assert_int_equal(lr_catalog_fg_create(f->cat, def, NULL, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_create(f->cat, def, &out, &err), LR_EEXIST);
    assert_null(out);
    assert_string_equal(err.msg, "Resource Already Exists: FeatureGroup with name Dup already "
                                 "exists. Choose a different name.");
    /* Names are case-sensitive. */
    lower = make_def("dup", NULL);
    assert_int_equal(lr_catalog_fg_create(f->cat, lower, NULL, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "dup", &out, &err), LR_OK);
    assert_string_equal(out->name, "dup");
    lr_fg_def_free(out);
    assert_int_equal(lr_catalog_fg_get(f->cat, "DUP", &out, &err), LR_ENOTFOUND);
    lr_fg_def_free(lower);
    lr_fg_def_free(def);

    /* A NULL definition is rejected. */
    assert_int_equal(lr_catalog_fg_create(f->cat, NULL, NULL, &err), LR_EINVAL);
}

static void test_missing_groups(void **state)
{
    fixture *f = *state;
    lr_fg_def *out = (lr_fg_def *)&out;
    lr_fg_def *def = make_def("ghost", NULL);
    lr_error err;

    assert_int_equal(lr_catalog_fg_get(f->cat, "ghost", &out, &err), LR_ENOTFOUND);
    assert_null(out);
    assert_string_equal(err.msg,
                        "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name "
                        "ghost");
    assert_int_equal(lr_catalog_fg_delete(f->cat, "ghost", &err), LR_ENOTFOUND);
    assert_string_equal(err.msg,
                        "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name "
                        "ghost");
    assert_int_equal(lr_catalog_fg_update(f->cat, def, &err), LR_ENOTFOUND);
    lr_fg_def_free(def);
}

static void test_metadata_rows_on_create(void **state)
{
    fixture *f = *state;
    lr_fg_def *d = create(f->cat, "meta", NULL);
    const char *names[] = {"id", "ts", "amount"};
    lr_feature_type types[] = {LR_FT_STRING, LR_FT_FRACTIONAL, LR_FT_INTEGRAL};
    lr_feature_metadata m;
    lr_error err;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "meta", names[i], &m, &err),
                         LR_OK);
        assert_string_equal(m.fg_name, "meta");
        assert_string_equal(m.fg_arn, d->arn);
        assert_string_equal(m.feature_name, names[i]);
        assert_int_equal(m.type, types[i]);
        assert_int_equal(m.creation_time_us, d->creation_time_us);
        assert_int_equal(m.last_modified_time_us, d->creation_time_us);
        assert_null(m.description);
        assert_int_equal(m.n_params, 0);
        assert_null(m.params);
        lr_feature_metadata_free(&m);
        assert_null(m.fg_name);
    }
    lr_fg_def_free(d);
}

static void test_update_adds_features(void **state)
{
    fixture *f = *state;
    lr_fg_def *orig = create(f->cat, "growing", "s3://bkt/p");
    lr_fg_def *cur = NULL, *grown = NULL, *after = NULL;
    const char *add = "[{\"FeatureName\":\"extra\",\"FeatureType\":\"String\"},"
                      "{\"FeatureName\":\"ratio\",\"FeatureType\":\"Fractional\"}]";
    lr_feature_metadata m;
    lr_error err;

    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "growing", "amount", "kept", NULL,
                                                        0, NULL, 0, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "growing", &cur, &err), LR_OK);
    assert_int_equal(lr_fg_def_add_features(cur, add, strlen(add), &grown, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, grown, &err), LR_OK);

    assert_int_equal(lr_catalog_fg_get(f->cat, "growing", &after, &err), LR_OK);
    assert_int_equal(after->n_features, 5);
    assert_string_equal(after->features[3].name, "extra");
    assert_string_equal(after->features[4].name, "ratio");
    assert_int_equal(after->features[4].type, LR_FT_FRACTIONAL);
    assert_string_equal(after->arn, orig->arn);
    assert_int_equal(after->creation_time_us, orig->creation_time_us);
    assert_string_equal(after->resolved_offline_uri, orig->resolved_offline_uri);
    assert_true(after->last_modified_time_us > orig->last_modified_time_us);
    assert_int_equal(after->status, LR_FG_CREATED);
    assert_int_equal(after->offline_status, LR_OFFLINE_ACTIVE);

    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "growing", "extra", &m, &err), LR_OK);
    assert_int_equal(m.type, LR_FT_STRING);
    assert_int_equal(m.creation_time_us, after->last_modified_time_us);
    lr_feature_metadata_free(&m);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "growing", "ratio", &m, &err), LR_OK);
    assert_int_equal(m.type, LR_FT_FRACTIONAL);
    lr_feature_metadata_free(&m);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "growing", "amount", &m, &err), LR_OK);
    assert_string_equal(m.description, "kept");
    assert_int_equal(m.creation_time_us, orig->creation_time_us);
    lr_feature_metadata_free(&m);

    lr_fg_def_free(after);
    lr_fg_def_free(grown);
    lr_fg_def_free(cur);
    lr_fg_def_free(orig);
}

static void test_update_conflict(void **state)
{
    fixture *f = *state;
    lr_fg_def *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL, *now = NULL;
    const char *add_a = "[{\"FeatureName\":\"from_a\",\"FeatureType\":\"String\"}]";
    const char *add_b = "[{\"FeatureName\":\"from_b\",\"FeatureType\":\"String\"}]";
    lr_error err;

    create_free(f->cat, "contended", NULL);
    assert_int_equal(lr_catalog_fg_get(f->cat, "contended", &a, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "contended", &b, &err), LR_OK);
    assert_int_equal(lr_fg_def_add_features(a, add_a, strlen(add_a), &a2, &err), LR_OK);
    assert_int_equal(lr_fg_def_add_features(b, add_b, strlen(add_b), &b2, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, a2, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, b2, &err), LR_ECONFLICT);
    assert_non_null(strstr(err.msg, "contended"));

    assert_int_equal(lr_catalog_fg_get(f->cat, "contended", &now, &err), LR_OK);
    assert_int_equal(now->n_features, 4);
    assert_string_equal(now->features[3].name, "from_a");
    assert_int_equal(lr_fg_def_find_feature(now, "from_b", 6), -1);
    lr_fg_def_free(now);
    lr_fg_def_free(a);
    lr_fg_def_free(b);
    lr_fg_def_free(a2);
    lr_fg_def_free(b2);
}

static void test_update_cannot_remove_or_change(void **state)
{
    fixture *f = *state;
    const char *fewer = "{\"FeatureGroupName\":\"fixed\",\"RecordIdentifierFeatureName\":\"id\","
                        "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                        "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                        "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"}],"
                        "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";
    const char *retyped = "{\"FeatureGroupName\":\"fixed\",\"RecordIdentifierFeatureName\":\"id\","
                          "\"EventTimeFeatureName\":\"ts\",\"FeatureDefinitions\":["
                          "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
                          "{\"FeatureName\":\"ts\",\"FeatureType\":\"Fractional\"},"
                          "{\"FeatureName\":\"amount\",\"FeatureType\":\"String\"}],"
                          "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true}}";
    lr_fg_def *d = NULL, *g = NULL;
    lr_error err;

    create_free(f->cat, "fixed", NULL);
    assert_int_equal(lr_fg_def_parse(fewer, strlen(fewer), &d, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, d, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "cannot be removed"));
    lr_fg_def_free(d);
    assert_int_equal(lr_fg_def_parse(retyped, strlen(retyped), &d, &err), LR_OK);
    assert_int_equal(lr_catalog_fg_update(f->cat, d, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "'amount'"));
    lr_fg_def_free(d);
    assert_int_equal(lr_catalog_fg_get(f->cat, "fixed", &g, &err), LR_OK);
    assert_int_equal(g->features[2].type, LR_FT_INTEGRAL);
    assert_int_equal(g->last_modified_time_us, g->creation_time_us);
    lr_fg_def_free(g);
}

static void test_update_status(void **state)
{
    fixture *f = *state;
    lr_fg_def *g = NULL;
    lr_error err;

    create_free(f->cat, "going", "s3://bkt");
    assert_int_equal(lr_catalog_fg_get(f->cat, "going", &g, &err), LR_OK);
    g->status = LR_FG_DELETING;
    g->offline_status = LR_OFFLINE_BLOCKED;
    assert_int_equal(lr_catalog_fg_update(f->cat, g, &err), LR_OK);
    lr_fg_def_free(g);
    assert_int_equal(lr_catalog_fg_get(f->cat, "going", &g, &err), LR_OK);
    assert_int_equal(g->status, LR_FG_DELETING);
    assert_int_equal(g->offline_status, LR_OFFLINE_BLOCKED);
    /* Zero keeps the stored status. */
    g->status = 0;
    g->offline_status = 0;
    assert_int_equal(lr_catalog_fg_update(f->cat, g, &err), LR_OK);
    lr_fg_def_free(g);
    assert_int_equal(lr_catalog_fg_get(f->cat, "going", &g, &err), LR_OK);
    assert_int_equal(g->status, LR_FG_DELETING);
    assert_int_equal(g->offline_status, LR_OFFLINE_BLOCKED);
    /* Out-of-range statuses are refused. */
    g->status = (lr_fg_status)42;
    assert_int_equal(lr_catalog_fg_update(f->cat, g, &err), LR_EINVAL);
    lr_fg_def_free(g);
}

static void test_delete_removes_metadata(void **state)
{
    fixture *f = *state;
    lr_feature_param add[2] = {{"a", "1"}, {"b", "2"}};
    lr_feature_metadata m;
    lr_fg_def *g = NULL;
    lr_error err;
    sqlite3 *db;

    create_free(f->cat, "doomed", NULL);
    create_free(f->cat, "survivor", NULL);
    assert_int_equal(
        lr_catalog_feature_metadata_update(f->cat, "doomed", "amount", "d", add, 2, NULL, 0, &err),
        LR_OK);
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "survivor", "amount", "s", add, 2,
                                                        NULL, 0, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_fg_delete(f->cat, "doomed", &err), LR_OK);
    assert_int_equal(lr_catalog_fg_get(f->cat, "doomed", &g, &err), LR_ENOTFOUND);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "doomed", "amount", &m, &err),
                     LR_ENOTFOUND);
    assert_non_null(strstr(err.msg, "FeatureGroup with name doomed"));

    db = open_db(f->dir);
    assert_int_equal(
        query_int(db, "SELECT count(*) FROM feature_metadata WHERE fg_name = 'doomed'"), 0);
    assert_int_equal(
        query_int(db, "SELECT count(*) FROM feature_parameters WHERE fg_name = 'doomed'"), 0);
    assert_int_equal(
        query_int(db, "SELECT count(*) FROM feature_metadata WHERE fg_name = 'survivor'"), 3);
    assert_int_equal(
        query_int(db, "SELECT count(*) FROM feature_parameters WHERE fg_name = 'survivor'"), 2);
    sqlite3_close(db);

    /* Re-created under the same name: fresh metadata. */
    create_free(f->cat, "doomed", NULL);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "doomed", "amount", &m, &err), LR_OK);
    assert_null(m.description);
    assert_int_equal(m.n_params, 0);
    lr_feature_metadata_free(&m);
}

/* ---- listing ---- */

/* Reads every page of `q` with page size `page`; returns the names, in order. */
static int list_all(lr_catalog *cat, lr_fg_list_query q, uint32_t page, char names[][65], int cap)
{
    lr_fg_list l;
    lr_error err;
    char *token = NULL;
    int n = 0;

    q.max_results = page;
    for (;;) {
        q.next_token = token;
        if (lr_catalog_fg_list(cat, &q, &l, &err) != LR_OK)
            fail_msg("list: %s", err.msg);
        assert_true(l.n <= page);
        for (uint32_t i = 0; i < l.n; i++) {
            assert_true(n < cap);
            snprintf(names[n++], 65, "%s", l.items[i].name);
        }
        free(token);
        token = l.next_token ? strdup(l.next_token) : NULL;
        if (l.next_token)
            assert_int_equal(l.n, page);
        lr_fg_list_free(&l);
        if (token == NULL)
            break;
    }
    return n;
}

static bool name_in(char names[][65], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void test_list_filters(void **state)
{
    fixture *f = *state;
    lr_fg_def *beta;
    lr_fg_list_query q;
    lr_fg_def *g = NULL;
    char names[32][65];
    lr_error err;
    int n;

    create_free(f->cat, "alpha-one", "s3://bkt");
    create_free(f->cat, "Alpha_two", NULL);
    beta = create(f->cat, "beta", "s3://bkt");
    create_free(f->cat, "a_b", "s3://bkt");
    create_free(f->cat, "axb", NULL);

    lr_fg_list_query_init(&q);
    q.name_contains = "ALPHA";
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 2);
    assert_true(name_in(names, n, "alpha-one") && name_in(names, n, "Alpha_two"));

    /* '_' is a literal, not a LIKE wildcard. */
    q.name_contains = "_";
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 2);
    assert_true(name_in(names, n, "a_b") && name_in(names, n, "Alpha_two"));

    q.name_contains = "zzz";
    assert_int_equal(list_all(f->cat, q, 100, names, 32), 0);

    lr_fg_list_query_init(&q);
    q.offline_status_equals = LR_OFFLINE_ACTIVE;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 3);
    assert_true(name_in(names, n, "alpha-one") && name_in(names, n, "beta") &&
                name_in(names, n, "a_b"));
    q.offline_status_equals = LR_OFFLINE_DISABLED;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 2);
    assert_true(name_in(names, n, "Alpha_two") && name_in(names, n, "axb"));

    lr_fg_list_query_init(&q);
    q.status_equals = LR_FG_CREATED;
    assert_int_equal(list_all(f->cat, q, 100, names, 32), 5);
    q.status_equals = LR_FG_CREATING;
    assert_int_equal(list_all(f->cat, q, 100, names, 32), 0);
    assert_int_equal(lr_catalog_fg_get(f->cat, "axb", &g, &err), LR_OK);
    g->status = LR_FG_CREATING;
    assert_int_equal(lr_catalog_fg_update(f->cat, g, &err), LR_OK);
    lr_fg_def_free(g);
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "axb");

    /* Creation-time bounds are exclusive. */
    lr_fg_list_query_init(&q);
    q.created_after_us = beta->creation_time_us;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 2);
    assert_true(name_in(names, n, "a_b") && name_in(names, n, "axb"));
    lr_fg_list_query_init(&q);
    q.created_before_us = beta->creation_time_us;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 2);
    assert_true(name_in(names, n, "alpha-one") && name_in(names, n, "Alpha_two"));
    q.created_before_us = beta->creation_time_us + 1;
    q.created_after_us = beta->creation_time_us - 1;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "beta");

    /* Filters combine. */
    lr_fg_list_query_init(&q);
    q.name_contains = "a";
    q.offline_status_equals = LR_OFFLINE_ACTIVE;
    q.created_after_us = beta->creation_time_us;
    n = list_all(f->cat, q, 100, names, 32);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "a_b");
    lr_fg_def_free(beta);
}

typedef struct row {
    char name[65];
    int64_t created;
    const char *status, *offline;
} row;

static lr_fg_sort_by cmp_by;
static bool cmp_asc;

static int cmp_rows(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int c = 0;
    switch (cmp_by) {
    case LR_SORT_CREATION_TIME:
        c = (a->created > b->created) - (a->created < b->created);
        break;
    case LR_SORT_STATUS:
        c = strcmp(a->status, b->status);
        break;
    case LR_SORT_OFFLINE_STATUS:
        c = strcmp(a->offline, b->offline);
        break;
    default:
        break;
    }
    if (c == 0)
        c = strcmp(a->name, b->name);
    return cmp_asc ? c : -c;
}

static void test_list_sorts(void **state)
{
    fixture *f = *state;
    const char *names[] = {"m-grp", "Zeta", "alpha", "b2", "B1", "k_1", "k-1", "0num"};
    enum { N = 8 };
    row rows[N];
    char got[N][65];
    lr_fg_list_query q;
    lr_error err;

    for (int i = 0; i < N; i++) {
        lr_fg_def *d = create(f->cat, names[i], (i % 3) ? "s3://bkt" : NULL);
        if (i % 4 == 1) {
            d->status = (i % 8 == 1) ? LR_FG_DELETING : LR_FG_CREATE_FAILED;
            if (i == 5)
                d->offline_status = LR_OFFLINE_BLOCKED;
            assert_int_equal(lr_catalog_fg_update(f->cat, d, &err), LR_OK);
            lr_fg_def_free(d);
            assert_int_equal(lr_catalog_fg_get(f->cat, names[i], &d, &err), LR_OK);
        }
        snprintf(rows[i].name, sizeof rows[i].name, "%s", d->name);
        rows[i].created = d->creation_time_us;
        rows[i].status = lr_fg_status_name(d->status);
        rows[i].offline = lr_offline_status_name(d->offline_status);
        lr_fg_def_free(d);
    }
    for (int by = LR_SORT_CREATION_TIME; by <= LR_SORT_OFFLINE_STATUS; by++) {
        for (int asc = 0; asc < 2; asc++) {
            for (uint32_t page = 1; page <= 10; page += 3) {
                lr_fg_list_query_init(&q);
                q.sort_by = (lr_fg_sort_by)by;
                q.ascending = asc;
                cmp_by = (lr_fg_sort_by)by;
                cmp_asc = asc;
                qsort(rows, N, sizeof rows[0], cmp_rows);
                assert_int_equal(list_all(f->cat, q, page, got, N), N);
                for (int i = 0; i < N; i++)
                    assert_string_equal(got[i], rows[i].name);
            }
        }
    }

    /* The default order is CreationTime Descending: newest first. */
    lr_fg_list_query_init(&q);
    assert_int_equal(list_all(f->cat, q, 10, got, N), N);
    assert_string_equal(got[0], "0num");
    assert_string_equal(got[N - 1], "m-grp");
}

static void test_list_max_results(void **state)
{
    fixture *f = *state;
    lr_fg_list_query q;
    lr_fg_list l;
    lr_error err;
    char name[16], big[80];

    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "g%02d", i);
        create_free(f->cat, name, NULL);
    }
    lr_fg_list_query_init(&q);
    assert_int_equal(q.max_results, 10);
    q.max_results = 0;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_int_equal(l.n, 10);
    assert_non_null(l.next_token);
    lr_fg_list_free(&l);
    assert_null(l.items);

    q.max_results = 100;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_int_equal(l.n, 12);
    assert_null(l.next_token);
    lr_fg_list_free(&l);

    q.max_results = 12;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_int_equal(l.n, 12);
    assert_null(l.next_token);
    lr_fg_list_free(&l);

    q.max_results = 101;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    assert_string_equal(err.msg, "1 validation error detected: Value '101' at 'maxResults' failed "
                                 "to satisfy constraint: Member must have value less than or "
                                 "equal to 100");
    assert_null(l.items);

    lr_fg_list_query_init(&q);
    q.name_contains = "";
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    memset(big, 'a', 65);
    big[65] = '\0';
    q.name_contains = big;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    lr_fg_list_query_init(&q);
    q.status_equals = 99;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    lr_fg_list_query_init(&q);
    q.offline_status_equals = -1;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    lr_fg_list_query_init(&q);
    q.sort_by = (lr_fg_sort_by)7;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
}

/* Fetches one page, appending its names; returns the (owned) next token. */
static char *page_into(lr_catalog *cat, lr_fg_list_query *q, const char *token, char names[][65],
                       int *n)
{
    lr_fg_list l;
    lr_error err;
    char *next;

    q->next_token = token;
    if (lr_catalog_fg_list(cat, q, &l, &err) != LR_OK)
        fail_msg("list: %s", err.msg);
    for (uint32_t i = 0; i < l.n; i++)
        snprintf(names[(*n)++], 65, "%s", l.items[i].name);
    next = l.next_token ? strdup(l.next_token) : NULL;
    lr_fg_list_free(&l);
    return next;
}

static void assert_unique(char names[][65], int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_string_not_equal(names[i], names[j]);
}

static void test_list_pagination_with_inserts(void **state)
{
    fixture *f = *state;
    lr_fg_list_query q;
    char seen[128][65], name[32];
    char *tok;
    int n = 0;
    lr_error err;

    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "orig-%02d", i);
        create_free(f->cat, name, NULL);
    }

    /* CreationTime Descending: groups created meanwhile are newer than the
     * position reached, so they do not appear; a deleted one is skipped. */
    lr_fg_list_query_init(&q);
    q.max_results = 7;
    tok = page_into(f->cat, &q, NULL, seen, &n);
    assert_int_equal(n, 7);
    assert_string_equal(seen[0], "orig-24");
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "late-%d", i);
        create_free(f->cat, name, NULL);
    }
    assert_int_equal(lr_catalog_fg_delete(f->cat, "orig-03", &err), LR_OK);
    while (tok) {
        char *next = page_into(f->cat, &q, tok, seen, &n);
        free(tok);
        tok = next;
        snprintf(name, sizeof name, "later-%d", n);
        create_free(f->cat, name, NULL);
    }
    assert_int_equal(n, 24);
    assert_unique(seen, n);
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "orig-%02d", i);
        assert_int_equal(name_in(seen, n, name), i != 3);
    }

    /* Name Ascending: names after the position appear, names before do not. */
    n = 0;
    lr_fg_list_query_init(&q);
    q.sort_by = LR_SORT_NAME;
    q.ascending = true;
    q.max_results = 10;
    tok = page_into(f->cat, &q, NULL, seen, &n);
    assert_int_equal(n, 10);
    create_free(f->cat, "0-before", NULL);
    create_free(f->cat, "zz-after", NULL);
    while (tok) {
        char *next = page_into(f->cat, &q, tok, seen, &n);
        free(tok);
        tok = next;
    }
    assert_unique(seen, n);
    assert_false(name_in(seen, n, "0-before"));
    assert_true(name_in(seen, n, "zz-after"));
    for (int i = 1; i < n; i++)
        assert_true(strcmp(seen[i - 1], seen[i]) < 0);
    /* Every group but the one inserted before the position. */
    lr_fg_list_query_init(&q);
    assert_int_equal(list_all(f->cat, q, 100, seen + n, 128 - n), n + 1);
}

static void test_list_bad_tokens(void **state)
{
    fixture *f = *state;
    lr_fg_list_query q, other;
    lr_fg_list l;
    lr_error err;
    char *tok, *bad;
    char big[2048];

    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "tok%d", i);
        create_free(f->cat, name, NULL);
    }
    lr_fg_list_query_init(&q);
    q.max_results = 2;
    q.name_contains = "TOK";
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_non_null(l.next_token);
    tok = strdup(l.next_token);
    lr_fg_list_free(&l);

    /* The same query with another page size accepts it. */
    q.next_token = tok;
    q.max_results = 3;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_int_equal(l.n, 3);
    assert_null(l.next_token);
    assert_string_equal(l.items[0].name, "tok2");
    lr_fg_list_free(&l);

    const char *garbage[] = {"", "xyz", "00", "zzzzzzzzzzzzzzzzzzzzzzzz"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        q.next_token = garbage[i];
        assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
        assert_string_equal(err.msg, "Invalid pagination token");
        assert_null(l.items);
    }
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    q.next_token = big;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);

    /* One character changed. */
    bad = strdup(tok);
    bad[3] = bad[3] == '0' ? '1' : '0';
    q.next_token = bad;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_EINVAL);
    assert_string_equal(err.msg, "Invalid pagination token");
    free(bad);

    /* Reused with another query. */
    other = q;
    other.next_token = tok;
    other.name_contains = "tok";
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_OK); /* case-folded: same */
    lr_fg_list_free(&l);
    other.name_contains = "to";
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_EINVAL);
    other = q;
    other.next_token = tok;
    other.sort_by = LR_SORT_NAME;
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_EINVAL);
    other = q;
    other.next_token = tok;
    other.ascending = true;
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_EINVAL);
    other = q;
    other.next_token = tok;
    other.status_equals = LR_FG_CREATED;
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_EINVAL);
    other = q;
    other.next_token = tok;
    other.created_after_us = 0;
    assert_int_equal(lr_catalog_fg_list(f->cat, &other, &l, &err), LR_EINVAL);
    free(tok);
}

/* ---- feature metadata ---- */

static void test_metadata_update_and_get(void **state)
{
    fixture *f = *state;
    lr_feature_param add1[3] = {{"zeta", "last"}, {"alpha", "first"}, {"mid", ""}};
    lr_feature_param add2[1] = {{"alpha", "changed"}};
    const char *rm[2] = {"mid", "never-there"};
    lr_feature_metadata m;
    lr_error err;
    int64_t lm;

    create_free(f->cat, "described", NULL);
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "described", "amount",
                                                        "amount in cents", add1, 3, NULL, 0, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "described", "amount", &m, &err),
                     LR_OK);
    assert_string_equal(m.description, "amount in cents");
    assert_int_equal(m.n_params, 3);
    assert_string_equal(m.params[0].key, "alpha");
    assert_string_equal(m.params[0].value, "first");
    assert_string_equal(m.params[1].key, "mid");
    assert_string_equal(m.params[1].value, "");
    assert_string_equal(m.params[2].key, "zeta");
    assert_true(m.last_modified_time_us > m.creation_time_us);
    lm = m.last_modified_time_us;
    lr_feature_metadata_free(&m);

    /* NULL description: unchanged; overwrite and removals (absent keys ignored). */
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "described", "amount", NULL, add2,
                                                        1, rm, 2, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "described", "amount", &m, &err),
                     LR_OK);
    assert_string_equal(m.description, "amount in cents");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[0].key, "alpha");
    assert_string_equal(m.params[0].value, "changed");
    assert_string_equal(m.params[1].key, "zeta");
    assert_true(m.last_modified_time_us > lm);
    lm = m.last_modified_time_us;
    lr_feature_metadata_free(&m);

    /* An empty description is stored as empty; other features are untouched. */
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "described", "amount", "", NULL, 0,
                                                        NULL, 0, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "described", "amount", &m, &err),
                     LR_OK);
    assert_string_equal(m.description, "");
    assert_int_equal(m.n_params, 2);
    assert_true(m.last_modified_time_us > lm);
    lr_feature_metadata_free(&m);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "described", "id", &m, &err), LR_OK);
    assert_null(m.description);
    assert_int_equal(m.n_params, 0);
    assert_int_equal(m.last_modified_time_us, m.creation_time_us);
    lr_feature_metadata_free(&m);
}

static void test_metadata_limits(void **state)
{
    fixture *f = *state;
    char desc[1024], key[300], val[300];
    lr_feature_param many[26], one;
    const char *rm[26];
    lr_feature_metadata m;
    lr_error err;
    size_t i;

    create_free(f->cat, "limited", NULL);
    /* 255 characters of two bytes each are fine; 256 are not. */
    desc[0] = '\0';
    for (i = 0; i < 255; i++)
        strcat(desc, "\xc3\xa9");
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", desc, NULL, 0,
                                                        NULL, 0, &err),
                     LR_OK);
    strcat(desc, "x");
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", desc, NULL, 0,
                                                        NULL, 0, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "Description"));
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", "bad \xff",
                                                        NULL, 0, NULL, 0, &err),
                     LR_EINVAL);

    for (i = 0; i < 26; i++) {
        static char keys[26][8];
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        many[i].key = keys[i];
        many[i].value = "v";
        rm[i] = keys[i];
    }
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, many, 26,
                                                        NULL, 0, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "parameterAdditions"));
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, NULL, 0,
                                                        rm, 26, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "parameterRemovals"));
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, many, 25,
                                                        rm, 25, &err),
                     LR_EINVAL); /* the same keys added and removed */

    memset(key, 'k', 255);
    key[255] = '\0';
    memset(val, 'v', 255);
    val[255] = '\0';
    one.key = key;
    one.value = val;
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, &one, 1,
                                                        NULL, 0, &err),
                     LR_OK);
    key[255] = 'k';
    key[256] = '\0';
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, &one, 1,
                                                        NULL, 0, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "ParameterAdditions.1.Key"));
    key[255] = '\0';
    val[255] = 'v';
    val[256] = '\0';
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, &one, 1,
                                                        NULL, 0, &err),
                     LR_EINVAL);
    assert_non_null(strstr(err.msg, "ParameterAdditions.1.Value"));

    char *bad_keys[] = {"", "new\nline", "tab\there", "c1\xc2\x85", "bad\xc3"};
    for (i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        one.key = bad_keys[i];
        one.value = "ok";
        assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, &one,
                                                            1, NULL, 0, &err),
                         LR_EINVAL);
        one.key = "ok";
        one.value = bad_keys[i][0] ? bad_keys[i] : (char *)"\x7f";
        assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, &one,
                                                            1, NULL, 0, &err),
                         LR_EINVAL);
    }
    lr_feature_param dup[2] = {{"same", "1"}, {"same", "2"}};
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "limited", "amount", NULL, dup, 2,
                                                        NULL, 0, &err),
                     LR_EINVAL);

    /* Rejected calls changed nothing. */
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "limited", "amount", &m, &err), LR_OK);
    assert_int_equal(m.n_params, 1);
    assert_int_equal(strlen(m.params[0].key), 255);
    assert_int_equal(strlen(m.params[0].value), 255);
    assert_int_equal(strlen(m.description), 510);
    lr_feature_metadata_free(&m);
}

static void test_metadata_total_cap(void **state)
{
    fixture *f = *state;
    static char keys[LR_FEATURE_PARAMS_TOTAL_MAX + 1][12];
    lr_feature_param batch[25];
    lr_feature_param extra = {NULL, "v"};
    const char *rm[1];
    lr_feature_metadata m;
    lr_error err;

    create_free(f->cat, "capped", NULL);
    for (int i = 0; i <= LR_FEATURE_PARAMS_TOTAL_MAX; i++)
        snprintf(keys[i], sizeof keys[i], "p%04d", i);
    for (int b = 0; b < LR_FEATURE_PARAMS_TOTAL_MAX / 25; b++) {
        for (int i = 0; i < 25; i++) {
            batch[i].key = keys[b * 25 + i];
            batch[i].value = "v";
        }
        assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "capped", "amount", NULL, batch,
                                                            25, NULL, 0, &err),
                         LR_OK);
    }
    extra.key = keys[LR_FEATURE_PARAMS_TOTAL_MAX];
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "capped", "amount", "d", &extra, 1,
                                                        NULL, 0, &err),
                     LR_ELIMIT);
    assert_non_null(strstr(err.msg, "1000"));
    /* Atomic: the description given with the rejected call was not set. */
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "capped", "amount", &m, &err), LR_OK);
    assert_int_equal(m.n_params, LR_FEATURE_PARAMS_TOTAL_MAX);
    assert_null(m.description);
    assert_string_equal(m.params[0].key, "p0000");
    assert_string_equal(m.params[999].key, "p0999");
    lr_feature_metadata_free(&m);

    /* Overwriting at the cap is fine, as is removing one and adding one. */
    extra.key = keys[0];
    extra.value = "new";
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "capped", "amount", NULL, &extra, 1,
                                                        NULL, 0, &err),
                     LR_OK);
    extra.key = keys[LR_FEATURE_PARAMS_TOTAL_MAX];
    rm[0] = keys[1];
    assert_int_equal(lr_catalog_feature_metadata_update(f->cat, "capped", "amount", NULL, &extra, 1,
                                                        rm, 1, &err),
                     LR_OK);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "capped", "amount", &m, &err), LR_OK);
    assert_int_equal(m.n_params, LR_FEATURE_PARAMS_TOTAL_MAX);
    assert_string_equal(m.params[0].value, "new");
    assert_string_equal(m.params[1].key, "p0002");
    assert_string_equal(m.params[999].key, "p1000");
    lr_feature_metadata_free(&m);
}

static void test_metadata_not_found(void **state)
{
    fixture *f = *state;
    lr_feature_metadata m;
    lr_error err;

    create_free(f->cat, "present", NULL);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "absent", "amount", &m, &err),
                     LR_ENOTFOUND);
    assert_string_equal(err.msg, "Resource Not Found: Amazon SageMaker can't find a FeatureGroup "
                                 "with name absent");
    assert_null(m.fg_name);
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "present", "nope", &m, &err),
                     LR_ENOTFOUND);
    assert_string_equal(err.msg, "Resource Not Found: Amazon SageMaker can't find a Feature with "
                                 "name nope in FeatureGroup present");
    assert_int_equal(
        lr_catalog_feature_metadata_update(f->cat, "absent", "amount", "d", NULL, 0, NULL, 0, &err),
        LR_ENOTFOUND);
    assert_non_null(strstr(err.msg, "FeatureGroup with name absent"));
    assert_int_equal(
        lr_catalog_feature_metadata_update(f->cat, "present", "nope", "d", NULL, 0, NULL, 0, &err),
        LR_ENOTFOUND);
    assert_non_null(strstr(err.msg, "Feature with name nope"));
    /* Names are case-sensitive here too. */
    assert_int_equal(lr_catalog_feature_metadata_get(f->cat, "present", "AMOUNT", &m, &err),
                     LR_ENOTFOUND);
}

static void test_corrupt_rows_reported(void **state)
{
    fixture *f = *state;
    lr_fg_def *g = (lr_fg_def *)&g;
    lr_fg_list_query q;
    lr_fg_list l;
    lr_error err;
    sqlite3 *db;

    create_free(f->cat, "mangled", NULL);
    create_free(f->cat, "renamed", NULL);
    create_free(f->cat, "badstatus", NULL);
    db = open_db(f->dir);
    exec_ok(db, "UPDATE feature_groups SET definition = '{\"bogus\": 1}' WHERE name = 'mangled'");
    exec_ok(db, "UPDATE feature_groups SET definition = (SELECT definition FROM feature_groups "
                "WHERE name = 'badstatus') WHERE name = 'renamed'");
    exec_ok(db, "UPDATE feature_groups SET status = 'Sleeping' WHERE name = 'badstatus'");
    sqlite3_close(db);

    assert_int_equal(lr_catalog_fg_get(f->cat, "mangled", &g, &err), LR_ECORRUPT);
    assert_null(g);
    assert_non_null(strstr(err.msg, "FeatureGroup mangled"));
    assert_int_equal(lr_catalog_fg_get(f->cat, "renamed", &g, &err), LR_ECORRUPT);
    assert_non_null(strstr(err.msg, "its name differs"));
    assert_int_equal(lr_catalog_fg_get(f->cat, "badstatus", &g, &err), LR_ECORRUPT);
    lr_fg_list_query_init(&q);
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_ECORRUPT);
    assert_null(l.items);
    /* The handle stays usable after errors. */
    q.status_equals = LR_FG_CREATED;
    assert_int_equal(lr_catalog_fg_list(f->cat, &q, &l, &err), LR_OK);
    assert_int_equal(l.n, 2);
    lr_fg_list_free(&l);
}

static void test_free_null(void **state)
{
    lr_fg_list l;
    lr_feature_metadata m;
    (void)state;
    memset(&l, 0, sizeof l);
    memset(&m, 0, sizeof m);
    lr_fg_list_free(NULL);
    lr_fg_list_free(&l);
    lr_feature_metadata_free(NULL);
    lr_feature_metadata_free(&m);
    lr_catalog_close(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_directory_and_schema),
        T(test_open_errors),
        T(test_open_sqlite_uri),
        T(test_newer_schema_refused),
        T(test_migration_is_atomic),
        T(test_persistence_across_reopen),
        T(test_create_assigns_fields),
        T(test_definition_round_trip),
        T(test_create_offline_uri_forms),
        T(test_create_duplicate_and_case),
        T(test_missing_groups),
        T(test_metadata_rows_on_create),
        T(test_update_adds_features),
        T(test_update_conflict),
        T(test_update_cannot_remove_or_change),
        T(test_update_status),
        T(test_delete_removes_metadata),
        T(test_list_filters),
        T(test_list_sorts),
        T(test_list_max_results),
        T(test_list_pagination_with_inserts),
        T(test_list_bad_tokens),
        T(test_metadata_update_and_get),
        T(test_metadata_limits),
        T(test_metadata_total_cap),
        T(test_metadata_not_found),
        T(test_corrupt_rows_reported),
        cmocka_unit_test(test_free_null),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
