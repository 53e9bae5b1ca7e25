/*
 * ddl.c - `larder ddl`: the statements that make a group's offline store
 * queryable in Athena, Hive, Trino, Spark or DuckDB (see lr_offline_ddl).
 *
 * The table mirrors SageMaker's Glue table: the features with their types,
 * write_time and api_invocation_time as timestamps, is_deleted as boolean,
 * partitioned by year, month, day and hour as strings (the folder values),
 * stored as Parquet at the group's ResolvedOutputS3Uri. Partitions come from
 * the catalog's live files, using the folder names as they are in storage
 * (files adopted by repair may be in "month=1" rather than "month=01").
 */
#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offline/offline_internal.h"

/* Partitions per ALTER TABLE ... ADD statement. */
#define PARTS_PER_STMT 100

lr_status lr_offline_dialect_parse(const char *s, lr_offline_dialect *out, lr_error *err)
{
    static const struct {
        const char *name;
        lr_offline_dialect d;
    } names[] = {{"athena", LR_DDL_ATHENA}, {"hive", LR_DDL_HIVE},     {"trino", LR_DDL_TRINO},
                 {"spark", LR_DDL_SPARK},   {"duckdb", LR_DDL_DUCKDB}};
    for (size_t i = 0; s != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].d;
            return LR_OK;
        }
    }
    return lr_error_set(err, LR_EINVAL,
                        "dialect '%s': expected athena, hive, trino, spark or duckdb", s ? s : "");
}

typedef struct w {
    lr_buf *b;
    lr_status st;
} w;

static void put(w *o, const char *s)
{
    if (o->st == LR_OK)
        o->st = lr_buf_append_str(o->b, s);
}

static void putn(w *o, const char *s, size_t n)
{
    if (o->st == LR_OK)
        o->st = lr_buf_append(o->b, s, n);
}

/* An identifier quoted with `q` (backtick or double quote), the quote doubled inside. */
static void ident(w *o, const char *s, char q)
{
    char qs[2] = {q, 0};
    put(o, qs);
    for (; *s; s++) {
        if (*s == q)
            put(o, qs);
        putn(o, s, 1);
    }
    put(o, qs);
}

/* A SQL string literal. */
static void lit(w *o, const char *s, size_t n)
{
    put(o, "'");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            put(o, "'");
        putn(o, s + i, 1);
    }
    put(o, "'");
}

static void lits(w *o, const char *s)
{
    lit(o, s, strlen(s));
}

static const char *base_type(lr_offline_dialect d, int kind)
{
    /* kind: 0 bigint, 1 double, 2 string, 3 timestamp, 4 boolean */
    static const char *hive[] = {"bigint", "double", "string", "timestamp", "boolean"};
    static const char *trino[] = {"bigint", "double", "varchar", "timestamp", "boolean"};
    static const char *spark[] = {"BIGINT", "DOUBLE", "STRING", "TIMESTAMP", "BOOLEAN"};
    return d == LR_DDL_TRINO ? trino[kind] : d == LR_DDL_SPARK ? spark[kind] : hive[kind];
}

static void col_type(w *o, lr_offline_dialect d, const lr_feature_def *f)
{
    int kind = f->collection == LR_COLL_VECTOR || f->type == LR_FT_FRACTIONAL ? 1
               : f->type == LR_FT_INTEGRAL                                     ? 0
                                                                               : 2;
    if (f->collection == LR_COLL_NONE) {
        put(o, base_type(d, kind));
        return;
    }
    if (d == LR_DDL_TRINO) {
        put(o, "array(");
        put(o, base_type(d, kind));
        put(o, ")");
    } else {
        put(o, d == LR_DDL_SPARK ? "ARRAY<" : "array<");
        put(o, base_type(d, kind));
        put(o, ">");
    }
}

/* The LOCATION of a table or partition: URIs as they are, local paths as file:// URIs. */
static void location(w *o, const char *root, const char *sub, bool duck)
{
    lr_buf t;
    const char *path;
    lr_buf_init(&t, 0);
    if (!duck && strstr(root, "://") == NULL && lr_objstore_uri_local_path(root, &path))
        o->st = o->st == LR_OK ? lr_buf_printf(&t, "file://%s", root) : o->st;
    else if (o->st == LR_OK)
        o->st = lr_buf_append_str(&t, duck && lr_objstore_uri_local_path(root, &path) ? path
                                                                                       : root);
    if (o->st == LR_OK && sub != NULL)
        o->st = lr_buf_printf(&t, "/%s", sub);
    if (o->st == LR_OK)
        lit(o, t.data ? t.data : "", t.len);
    lr_buf_free(&t);
}

/* Distinct partition folders of the live files, in order, with their values. */
typedef struct part {
    char dir[LR_OBJ_KEY_MAX + 1];
    char val[4][16];
} part;

static lr_status partitions(const lr_offline_file_list *files, const char *root, part **out,
                            size_t *n, lr_error *err)
{
    part *v = calloc(files->n + 1, sizeof *v);
    size_t k = 0;
    static const char *names[4] = {"year=", "month=", "day=", "hour="};

    *out = NULL;
    *n = 0;
    if (v == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    for (size_t i = 0; i < files->n; i++) {
        const char *key = files->items[i].key;
        const char *slash = strrchr(key, '/');
        if (strcmp(files->items[i].root, root) != 0 || slash == NULL ||
            (size_t)(slash - key) > LR_OBJ_KEY_MAX)
            continue;
        size_t dl = (size_t)(slash - key);
        if (k > 0 && strlen(v[k - 1].dir) == dl && memcmp(v[k - 1].dir, key, dl) == 0)
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strlen(v[j].dir) == dl && memcmp(v[j].dir, key, dl) == 0;
        if (dup)
            continue;
        memcpy(v[k].dir, key, dl);
        v[k].dir[dl] = '\0';
        const char *p = v[k].dir;
        bool ok = true;
        for (int f = 0; f < 4 && ok; f++) {
            size_t nl = strlen(names[f]);
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            ok = len > nl && len - nl < sizeof v[k].val[f] && strncmp(p, names[f], nl) == 0 &&
                 (f == 3 ? end == NULL : end != NULL);
            if (ok) {
                memcpy(v[k].val[f], p + nl, len - nl);
                v[k].val[f][len - nl] = '\0';
            }
            p = end ? end + 1 : p + len;
        }
        if (ok)
            k++;
    }
    *out = v;
    *n = k;
    return LR_OK;
}

static void default_table(const lr_fg_def *def, char *out, size_t cap)
{
    size_t j = 0;
    for (const char *p = def->name; *p && j + 1 < cap; p++)
        out[j++] = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
    snprintf(out + j, cap - j, "_%lld", (long long)(def->creation_time_us / 1000000));
}

static const char *sys_kinds[3][2] = {
    {LR_OFFLINE_COL_WRITE_TIME, "3"},
    {LR_OFFLINE_COL_API_TIME, "3"},
    {LR_OFFLINE_COL_IS_DELETED, "4"},
};

static void columns(w *o, lr_offline_dialect d, const lr_fg_def *def, char q, bool with_parts)
{
    for (uint32_t i = 0; i < def->n_features; i++) {
        put(o, "  ");
        ident(o, def->features[i].name, q);
        put(o, " ");
        col_type(o, d, &def->features[i]);
        put(o, ",\n");
    }
    for (int i = 0; i < 3; i++) {
        put(o, "  ");
        ident(o, sys_kinds[i][0], q);
        put(o, " ");
        put(o, base_type(d, sys_kinds[i][1][0] - '0'));
        put(o, i < 2 || with_parts ? ",\n" : "\n");
    }
    if (with_parts) {
        static const char *pn[4] = {"year", "month", "day", "hour"};
        for (int i = 0; i < 4; i++) {
            put(o, "  ");
            ident(o, pn[i], q);
            put(o, " ");
            put(o, base_type(d, 2));
            put(o, i < 3 ? ",\n" : "\n");
        }
    }
}

lr_status lr_offline_ddl(lr_catalog *cat, const char *fg, lr_offline_dialect dialect,
                         const lr_offline_ddl_options *opt, lr_buf *out, lr_error *err)
{
    lr_fg_def *def = NULL;
    lr_offline_file_list files = {0};
    part *parts = NULL;
    size_t np = 0;
    char table[LR_FG_NAME_MAX + 32];
    const char *db, *tb, *tc;
    lr_status st;
    w o = {out, LR_OK};
    static const char *pn[4] = {"year", "month", "day", "hour"};

    st = lr__offline_group(cat, fg, &def, err);
    if (st != LR_OK)
        goto done;
    st = lr_catalog_offline_files(cat, def->name, def->creation_time_us, INT64_MIN, INT64_MAX,
                                  &files, err);
    if (st == LR_OK)
        st = partitions(&files, def->resolved_offline_uri, &parts, &np, err);
    if (st != LR_OK)
        goto done;
    default_table(def, table, sizeof table);
    db = opt && opt->database ? opt->database
         : def->dc_database   ? def->dc_database
                              : "sagemaker_featurestore";
    tb = opt && opt->table ? opt->table : def->dc_table_name ? def->dc_table_name : table;
    tc = opt && opt->trino_catalog ? opt->trino_catalog : "hive";
    const char *root = def->resolved_offline_uri;

    switch (dialect) {
    case LR_DDL_ATHENA:
    case LR_DDL_HIVE:
    case LR_DDL_SPARK: {
        bool spark = dialect == LR_DDL_SPARK;
        put(&o, spark ? "CREATE TABLE IF NOT EXISTS " : "CREATE EXTERNAL TABLE IF NOT EXISTS ");
        ident(&o, db, '`');
        put(&o, ".");
        ident(&o, tb, '`');
        put(&o, " (\n");
        columns(&o, dialect, def, '`', spark);
        if (spark) {
            put(&o, ")\nUSING PARQUET\nPARTITIONED BY (`year`, `month`, `day`, `hour`)\n");
        } else {
            put(&o, ")\nPARTITIONED BY (`year` string, `month` string, `day` string, "
                    "`hour` string)\nSTORED AS PARQUET\n");
        }
        put(&o, "LOCATION ");
        location(&o, root, NULL, false);
        put(&o, ";\n");
        for (size_t i = 0; i < np; i++) {
            if (i % PARTS_PER_STMT == 0) {
                put(&o, "ALTER TABLE ");
                ident(&o, db, '`');
                put(&o, ".");
                ident(&o, tb, '`');
                put(&o, " ADD IF NOT EXISTS\n");
            }
            put(&o, "  PARTITION (");
            for (int f = 0; f < 4; f++) {
                if (f)
                    put(&o, ", ");
                ident(&o, pn[f], '`');
                put(&o, " = ");
                lits(&o, parts[i].val[f]);
            }
            put(&o, ") LOCATION ");
            location(&o, root, parts[i].dir, false);
            put(&o, (i + 1) % PARTS_PER_STMT == 0 || i + 1 == np ? ";\n" : "\n");
        }
        break;
    }
    case LR_DDL_TRINO:
        put(&o, "CREATE TABLE IF NOT EXISTS ");
        ident(&o, tc, '"');
        put(&o, ".");
        ident(&o, db, '"');
        put(&o, ".");
        ident(&o, tb, '"');
        put(&o, " (\n");
        columns(&o, dialect, def, '"', true);
        put(&o, ")\nWITH (\n  external_location = ");
        location(&o, root, NULL, false);
        put(&o, ",\n  format = 'PARQUET',\n  partitioned_by = ARRAY['year', 'month', 'day', "
                "'hour']\n);\n");
        for (size_t i = 0; i < np; i++) {
            put(&o, "CALL ");
            ident(&o, tc, '"');
            put(&o, ".system.register_partition(");
            lits(&o, db);
            put(&o, ", ");
            lits(&o, tb);
            put(&o, ", ARRAY['year', 'month', 'day', 'hour'], ARRAY[");
            for (int f = 0; f < 4; f++) {
                if (f)
                    put(&o, ", ");
                lits(&o, parts[i].val[f]);
            }
            put(&o, "]);\n");
        }
        break;
    case LR_DDL_DUCKDB:
        put(&o, "CREATE OR REPLACE VIEW ");
        ident(&o, tb, '"');
        put(&o, " AS\nSELECT * FROM read_parquet(");
        if (opt && opt->live_files_only) {
            put(&o, "[");
            size_t k = 0;
            for (size_t i = 0; i < files.n; i++) {
                char *uri = NULL;
                const char *path;
                if (lr_objstore_uri_join(files.items[i].root, files.items[i].key, &uri, err) !=
                    LR_OK) {
                    st = LR_ENOMEM;
                    goto done;
                }
                put(&o, k++ ? ",\n  " : "\n  ");
                lits(&o, lr_objstore_uri_local_path(uri, &path) ? path : uri);
                free(uri);
            }
            put(&o, k ? "\n]" : "]");
        } else {
            location(&o, root, "**/*.parquet", true);
        }
        put(&o, ", hive_partitioning = true);\n");
        break;
    default:
        st = lr_error_set(err, LR_EINVAL, "unknown dialect %d", (int)dialect);
        goto done;
    }
    if (o.st != LR_OK)
        st = lr_error_set(err, o.st, "ddl: %s", lr_strerror(o.st));
done:
    free(parts);
    lr_offline_file_list_free(&files);
    lr_fg_def_free(def);
    return st;
}
