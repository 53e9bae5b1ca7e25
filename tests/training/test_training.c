/*
 * test_training.c - point-in-time training sets, exports and materialize
 * against a brute-force reference on random histories (pit_fixture.h):
 * ties in event time, duplicates with different api_invocation_time,
 * deletes before and after the entity time, TTL and max age, identifiers
 * with no records, entity times before all data, two groups whose feature
 * names collide with each other and with an entity column, time travel
 * (--as-of), spilling and partition splits under a small memory budget, one
 * and two threads; then entity file formats, the CSV output and the errors.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "larder/catalog.h"
#include "larder/online.h"
#include "larder/parquet.h"
#include "larder/training.h"
#include "larder/value.h"
#include "support/testutil.h"
#include "training/pit_fixture.h"

/* ---- entity rows ---- */

typedef struct ent {
    char user[16];
    int64_t t;
    bool has_t;
    char n[16];
    char label[8];
} ent;

static const char *const USERS[] = {"007", "abc", "", "31", "34"};

static ent *make_entities(const pit_fx *fx, size_t n)
{
    ent *e = calloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = pit_rand() % 100;
        if (k < 8)
            snprintf(e[i].user, sizeof e[i].user, "%s", USERS[pit_rand() % 5]);
        else
            snprintf(e[i].user, sizeof e[i].user, "%" PRIu64, pit_rand() % 30);
        static const int64_t deltas[] = {0, 1, -1, 300000000LL, 3 * PIT_HOUR_US, 59 * 60000000LL};
        e[i].t = fx->times[pit_rand() % fx->n_times] + deltas[pit_rand() % 6];
        if (pit_rand() % 20 == 0)
            e[i].t = PIT_BASE_US - PIT_HOUR_US; /* before all data */
        e[i].has_t = pit_rand() % 50 != 0;
        snprintf(e[i].n, sizeof e[i].n, "%zu", i);
        snprintf(e[i].label, sizeof e[i].label, "%" PRIu64, pit_rand() % 2);
    }
    return e;
}

/* Writes the entities as CSV: user, when, n, label (n collides with clicks' n). */
static char *write_entities_csv(const pit_fx *fx, const ent *e, size_t n, const char *name)
{
    size_t cap = 64 + n * 96, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf + len, cap - len, "user,when,n,label\r\n");
    for (size_t i = 0; i < n; i++) {
        char ts[LR_TIME_STR_MAX] = "";
        if (e[i].has_t)
            lr_time_format_iso8601(e[i].t, ts);
        len += (size_t)snprintf(buf + len, cap - len, "%s,%s,%s,\"%s\"\r\n", e[i].user, ts, e[i].n,
                                e[i].label);
    }
    char *path = lr_test_path(fx->dir, name);
    assert_int_equal(lr_test_write_file(path, buf, len), 0);
    free(buf);
    return path;
}

/* ---- checking an output against the reference ---- */

typedef struct expect {
    int64_t max_age[2]; /* resolved: 0 none */
    int64_t as_of;
} expect;

static void check_cell(const pit_table *t, size_t r, const char *col, const char *want,
                       const ent *e)
{
    int c = pit_col(t, col);
    if (c < 0)
        fail_msg("output has no column %s", col);
    const char *got = t->cells[r][c];
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fail_msg("row %zu (user '%s', t %" PRId64 "), column %s: got %s, want %s", r, e->user,
                 e->t, col, got ? got : "null", want ? want : "null");
}

static void check_output(const pit_fx *fx, const char *out, const ent *e, size_t n,
                         const expect *x)
{
    static const char *const ccols[] = {"ts", "clicks__n", "clicks__x", "s", "tags"};
    static const uint32_t cfeat[] = {1, 2, 3, 4, 5};
    static const char *const ocols[] = {"et", "orders__x", "amount"};
    static const uint32_t ofeat[] = {1, 2, 3};
    pit_table t;
    pit_read_parquet(out, &t);
    assert_int_equal(t.n_rows, n);
    assert_int_equal(t.n_cols, 12);
    assert_string_equal(t.names[0], "user");
    assert_string_equal(t.names[4], "ts");
    size_t matched = 0;
    for (size_t r = 0; r < n; r++) {
        char when[LR_TIME_STR_MAX] = "";
        if (e[r].has_t)
            lr_time_format_iso8601(e[r].t, when);
        check_cell(&t, r, "user", e[r].user[0] ? e[r].user : NULL, &e[r]);
        check_cell(&t, r, "when", e[r].has_t ? when : NULL, &e[r]);
        check_cell(&t, r, "n", e[r].n, &e[r]);
        check_cell(&t, r, "label", e[r].label, &e[r]);
        const pit_row *a = e[r].has_t ? pit_ref(&fx->g[0], e[r].user, e[r].t, x->max_age[0], x->as_of)
                                      : NULL;
        const pit_row *b = e[r].has_t ? pit_ref(&fx->g[1], e[r].user, e[r].t, x->max_age[1], x->as_of)
                                      : NULL;
        matched += (a != NULL) + (b != NULL);
        for (int i = 0; i < 5; i++)
            check_cell(&t, r, ccols[i], a ? a->cells[cfeat[i]] : NULL, &e[r]);
        for (int i = 0; i < 3; i++)
            check_cell(&t, r, ocols[i], b ? b->cells[ofeat[i]] : NULL, &e[r]);
    }
    /* The data must exercise both answers. */
    assert_true(matched > 0);
    pit_table_free(&t);
}

static lr_status build(const pit_fx *fx, const char *entities, const char *out, int64_t max_age,
                       int64_t as_of, const lr_training_resources *res, lr_training_stats *stats,
                       lr_error *err)
{
    lr_training_set_options o;
    lr_training_features g[2];
    memset(g, 0, sizeof g);
    g[0].group = "clicks";
    g[0].max_age_us = max_age;
    g[1].group = "orders";
    g[1].max_age_us = max_age;
    lr_training_set_options_init(&o);
    o.entities = entities;
    o.entity_id = "user";
    o.timestamp = "when";
    o.groups = g;
    o.n_groups = 2;
    o.as_of_us = as_of;
    o.out = out;
    if (res != NULL)
        o.res = *res;
    return lr_training_set_build(fx->cat, &o, stats, err);
}

/* An as-of time: the write_time of the row at fraction `frac` of clicks' rows. */
static int64_t as_of_at(const pit_fx *fx, double frac)
{
    const pit_group *g = &fx->g[0];
    int64_t *w = malloc(g->n * sizeof *w);
    for (size_t i = 0; i < g->n; i++)
        w[i] = g->rows[i].wt;
    for (size_t i = 1; i < g->n; i++)
        for (size_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
            int64_t x = w[j];
            w[j] = w[j - 1];
            w[j - 1] = x;
        }
    int64_t v = w[(size_t)(frac * (double)(g->n - 1))];
    free(w);
    return v;
}

static void test_pit_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        pit_fx fx;
        pit_fx_create(&fx, seed, 1500);
        size_t n = 400;
        ent *e = make_entities(&fx, n);
        char *entities = write_entities_csv(&fx, e, n, "entities.csv");
        char *out = lr_test_path(fx.dir, "out.parquet");
        lr_training_stats st;
        lr_error err;
        lr_training_resources res;

        /* The groups' TTLs (clicks 2 h, orders none), everything written. */
        memset(&res, 0, sizeof res);
        res.threads = 2;
        if (build(&fx, entities, out, LR_TRAINING_MAX_AGE_TTL, INT64_MAX, &res, &st, &err) != LR_OK)
            fail_msg("build: %s", err.msg);
        assert_int_equal(st.entity_rows, n);
        assert_int_equal(st.spilled_bytes, 0);
        expect x = {{2 * PIT_HOUR_US, 0}, INT64_MAX};
        check_output(&fx, out, e, n, &x);

        /* An explicit max age on one thread, no limit, and two as-of times. */
        res.threads = 1;
        assert_int_equal(build(&fx, entities, out, 45 * 60000000LL, INT64_MAX, &res, &st, &err),
                         LR_OK);
        expect y = {{45 * 60000000LL, 45 * 60000000LL}, INT64_MAX};
        check_output(&fx, out, e, n, &y);
        res.threads = 2;
        int64_t a = as_of_at(&fx, 0.5);
        assert_int_equal(build(&fx, entities, out, LR_TRAINING_MAX_AGE_NONE, a, &res, &st, &err),
                         LR_OK);
        expect z = {{0, 0}, a};
        check_output(&fx, out, e, n, &z);
        a = as_of_at(&fx, 0.8);
        assert_int_equal(build(&fx, entities, out, LR_TRAINING_MAX_AGE_TTL, a, &res, &st, &err),
                         LR_OK);
        expect w = {{2 * PIT_HOUR_US, 0}, a};
        check_output(&fx, out, e, n, &w);

        free(e);
        free(entities);
        free(out);
        pit_fx_free(&fx);
    }
}

static void test_pit_spill_and_split(void **state)
{
    (void)state;
    pit_fx fx;
    pit_fx_create(&fx, 42, 15000);
    size_t n = 600;
    ent *e = make_entities(&fx, n);
    char *entities = write_entities_csv(&fx, e, n, "entities.csv");
    char *out = lr_test_path(fx.dir, "out.parquet");
    char *tmp = lr_test_path(fx.dir, "spill");
    lr_training_stats st;
    lr_error err;
    lr_training_resources res;
    expect x = {{2 * PIT_HOUR_US, 0}, INT64_MAX};

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp);
    assert_int_equal(system(cmd), 0);

    /* One top partition in 1 MiB: it must be split (on disk), recursively. */
    memset(&res, 0, sizeof res);
    res.memory_max = 1 << 20;
    res.buckets = 1;
    res.threads = 2;
    res.temp_dir = tmp;
    if (build(&fx, entities, out, LR_TRAINING_MAX_AGE_TTL, INT64_MAX, &res, &st, &err) != LR_OK)
        fail_msg("build: %s", err.msg);
    assert_true(st.spilled_bytes > 0);
    assert_int_equal(st.buckets, 1);
    check_output(&fx, out, e, n, &x);

    /* Many partitions in 1 MiB on one thread: chunks are spilled as they are written. */
    res.buckets = 0;
    res.threads = 1;
    assert_int_equal(build(&fx, entities, out, LR_TRAINING_MAX_AGE_TTL, INT64_MAX, &res, &st, &err),
                     LR_OK);
    assert_true(st.spilled_bytes > 0);
    check_output(&fx, out, e, n, &x);

    /* Spill files are unlinked at once: nothing is left in the temporary directory. */
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", tmp);
    assert_int_equal(system(cmd), 0);

    /* The same without pressure: nothing spilled, same answers. */
    memset(&res, 0, sizeof res);
    assert_int_equal(build(&fx, entities, out, LR_TRAINING_MAX_AGE_TTL, INT64_MAX, &res, &st, &err),
                     LR_OK);
    assert_int_equal(st.spilled_bytes, 0);
    check_output(&fx, out, e, n, &x);

    free(e);
    free(entities);
    free(out);
    free(tmp);
    pit_fx_free(&fx);
}

/* ---- export ---- */

static const pit_row *latest_ref(const pit_group *g, const char *key, int64_t as_of)
{
    return pit_ref(g, key, INT64_MAX, 0, as_of);
}

static void check_export(const pit_fx *fx, int which, const char *out, int64_t as_of)
{
    const pit_group *g = &fx->g[which];
    pit_table t;
    pit_read_parquet(out, &t);
    assert_int_equal(t.n_cols, g->def->n_features);
    /* Every identifier whose latest row is not a delete, exactly once, with that row. */
    size_t want = 0;
    for (size_t i = 0; i < g->n; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(g->rows[j].key, g->rows[i].key) != 0;
        if (first && latest_ref(g, g->rows[i].key, as_of) != NULL)
            want++;
    }
    assert_int_equal(t.n_rows, want);
    for (size_t r = 0; r < t.n_rows; r++) {
        const char *key = t.cells[r][g->def->record_id_index];
        const pit_row *x = latest_ref(g, key, as_of);
        assert_non_null(x);
        for (uint32_t f = 0; f < g->def->n_features; f++) {
            const char *got = t.cells[r][f], *w = x->cells[f];
            if ((got == NULL) != (w == NULL) || (got && strcmp(got, w) != 0))
                fail_msg("export %s, id %s, feature %s: got %s, want %s", g->def->name, key,
                         g->def->features[f].name, got ? got : "null", w ? w : "null");
        }
        for (size_t q = 0; q < r; q++)
            assert_string_not_equal(t.cells[q][g->def->record_id_index], key);
    }
    pit_table_free(&t);
}

static void test_export_latest(void **state)
{
    (void)state;
    pit_fx fx;
    pit_fx_create(&fx, 7, 3000);
    char *out = lr_test_path(fx.dir, "latest.parquet");
    lr_training_export_options o;
    lr_training_stats st;
    lr_error err;
    for (int which = 0; which < 2; which++) {
        lr_training_export_options_init(&o);
        o.group = fx.g[which].def->name;
        o.out = out;
        if (lr_training_export(fx.cat, &o, &st, &err) != LR_OK)
            fail_msg("export: %s", err.msg);
        check_export(&fx, which, out, INT64_MAX);
        /* Time travel, and a small budget with one partition. */
        o.as_of_us = as_of_at(&fx, 0.4);
        o.res.memory_max = 1 << 20;
        o.res.buckets = 1;
        assert_int_equal(lr_training_export(fx.cat, &o, &st, &err), LR_OK);
        check_export(&fx, which, out, o.as_of_us);
    }
    /* A projection, as CSV. */
    char *csv = lr_test_path(fx.dir, "latest.csv");
    const char *feats[] = {"amount", "oid"};
    lr_training_export_options_init(&o);
    o.group = "orders";
    o.features = feats;
    o.n_features = 2;
    o.out = csv;
    assert_int_equal(lr_training_export(fx.cat, &o, &st, &err), LR_OK);
    lr_test_proc p;
    char *argv[] = {"/bin/cat", csv, NULL};
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    assert_int_equal(strncmp(p.out, "amount,oid\n", 11), 0);
    assert_int_equal(lr_test_count_lines(p.out), (int)st.output_rows + 1);
    lr_test_proc_free(&p);
    free(csv);
    free(out);
    pit_fx_free(&fx);
}

/* ---- materialize ---- */

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

static void test_materialize(void **state)
{
    (void)state;
    pit_fx fx;
    pit_fx_create(&fx, 11, 2400);
    const pit_group *g = &fx.g[0];
    lr_online_options oo;
    lr_online *on;
    lr_online_reader *rd;
    lr_error err;
    int64_t now = PIT_BASE_US + 9 * PIT_HOUR_US; /* two hours' TTL leaves the last two hours */
    lr_online_options_init(&oo);
    oo.durability = LR_ONLINE_NOSYNC;
    oo.clock = fixed_clock;
    oo.clock_ctx = &now;
    assert_int_equal(lr_online_open(fx.dir, &oo, &on, &err), LR_OK);

    /* A record already online with a newer event time than anything offline stays. */
    char ts[LR_TIME_STR_MAX];
    lr_time_format_iso8601(PIT_BASE_US + 10 * PIT_HOUR_US, ts);
    lr_feature_value v[3];
    memset(v, 0, sizeof v);
    v[0].feature = 0;
    v[0].value = (lr_str){"5", 1};
    v[1].feature = 1;
    v[1].value = (lr_str){ts, strlen(ts)};
    v[2].feature = 2;
    v[2].value = (lr_str){"424242", 6};
    lr_record rec = {v, 3, {NULL, 0}, 0};
    assert_int_equal(lr_record_validate(g->def, &rec, &err), LR_OK);
    assert_int_equal(lr_online_put(on, g->def, &rec, NULL, NULL, &err), LR_OK);

    lr_training_materialize_options mo;
    lr_training_materialize_stats ms;
    lr_training_materialize_options_init(&mo);
    mo.group = "clicks";
    if (lr_training_materialize(fx.cat, on, &mo, &ms, &err) != LR_OK)
        fail_msg("materialize: %s", err.msg);
    assert_int_equal(ms.failed, 0);
    assert_true(ms.ids > 0 && ms.deletes > 0 && ms.unchanged >= 1);

    /* Orders has no online store. */
    mo.group = "orders";
    assert_int_equal(lr_training_materialize(fx.cat, on, &mo, &ms, &err), LR_EINVAL);

    assert_int_equal(lr_online_reader_open(on, &rd, &err), LR_OK);
    const char *keys[32];
    char kb[32][8];
    size_t nk = 0;
    for (int i = 0; i < 30; i++) {
        snprintf(kb[i], sizeof kb[i], "%d", i);
        keys[nk++] = kb[i];
    }
    keys[nk++] = "abc";
    size_t found = 0;
    for (size_t i = 0; i < nk; i++) {
        lr_online_row row;
        assert_int_equal(lr_online_get(rd, g->def, keys[i], strlen(keys[i]), NULL, 0, &row, &err),
                         LR_OK);
        if (strcmp(keys[i], "5") == 0) {
            assert_true(row.found);
            assert_int_equal(row.event_time_us, PIT_BASE_US + 10 * PIT_HOUR_US);
            continue;
        }
        const pit_row *x = pit_ref(g, keys[i], INT64_MAX, 0, INT64_MAX);
        bool live = x != NULL && x->et + 2 * PIT_HOUR_US > now;
        if (row.found != live)
            fail_msg("id %s: found %d, want %d", keys[i], row.found, live);
        if (!live)
            continue;
        found++;
        assert_int_equal(row.event_time_us, x->et);
        for (uint32_t f = 0; f < row.n_fields; f++) {
            const lr_online_field *fl = &row.fields[f];
            const char *want = x->cells[fl->feature];
            assert_non_null(want);
            if (fl->is_list)
                continue; /* lists: checked through the count below */
            char got[128];
            snprintf(got, sizeof got, "%.*s", (int)fl->len, fl->data);
            if (g->def->features[fl->feature].type == LR_FT_FRACTIONAL) {
                char w2[64];
                snprintf(w2, sizeof w2, "%.17g", strtod(got, NULL));
                assert_string_equal(w2, want);
            } else {
                assert_string_equal(got, want);
            }
        }
    }
    assert_true(found > 0);
    lr_online_reader_close(rd);
    lr_online_close(on);
    pit_fx_free(&fx);
}

/* ---- entity formats, CSV output, errors ---- */

static void test_entity_formats_and_csv(void **state)
{
    (void)state;
    pit_fx fx;
    pit_fx_create(&fx, 5, 600);
    lr_error err;
    lr_training_stats st;
    /* Timestamps in every accepted text form name the same instant. */
    const pit_row *any = NULL;
    for (size_t i = 0; i < fx.g[0].n && any == NULL; i++)
        if (pit_ref(&fx.g[0], fx.g[0].rows[i].key, fx.g[0].rows[i].et, 0, INT64_MAX) != NULL &&
            strcmp(fx.g[0].rows[i].key, "abc") != 0)
            any = pit_ref(&fx.g[0], fx.g[0].rows[i].key, fx.g[0].rows[i].et, 0, INT64_MAX);
    assert_non_null(any);
    int64_t t = any->et + 1000000; /* a second later */
    char iso[LR_TIME_STR_MAX], day[16], space[64], plus[64], epoch[32];
    lr_time_format_iso8601(t, iso);
    snprintf(space, sizeof space, "%.10s %.*s", iso, (int)strlen(iso) - 12, iso + 11);
    snprintf(plus, sizeof plus, "%.*s+00:00", (int)strlen(iso) - 1, iso);
    snprintf(epoch, sizeof epoch, "%" PRId64 ".%06" PRId64, t / 1000000, t % 1000000);
    snprintf(day, sizeof day, "%.10s", iso);
    char csv[1024];
    snprintf(csv, sizeof csv,
             "\xEF\xBB\xBFk,when,note\n%s,%s,a\n%s,%s,\"b,\"\"q\"\"\"\n%s,%s,\n%s,%s,\"\"\n%s,%s,x\n",
             any->key, iso, any->key, space, any->key, plus, any->key, epoch, any->key, day);
    char *in = lr_test_path(fx.dir, "e.csv");
    char *out = lr_test_path(fx.dir, "o.csv");
    assert_int_equal(lr_test_write_file(in, csv, strlen(csv)), 0);
    lr_training_set_options o;
    const char *feats[] = {"s", "n", "tags"};
    lr_training_features g = {"clicks", feats, 3, LR_TRAINING_MAX_AGE_NONE};
    lr_training_set_options_init(&o);
    o.entities = in;
    o.entity_id = "k";
    o.timestamp = "when";
    o.groups = &g;
    o.n_groups = 1;
    o.out = out;
    if (lr_training_set_build(fx.cat, &o, &st, &err) != LR_OK)
        fail_msg("build: %s", err.msg);
    assert_int_equal(st.entity_rows, 5);
    lr_test_proc p;
    char *argv[] = {"/bin/cat", out, NULL};
    assert_int_equal(lr_test_run(argv, NULL, &p), 0);
    /* The header, then four rows with the same features and the date row. */
    char *line = strtok(p.out, "\n");
    assert_string_equal(line, "k,when,note,s,n,tags");
    char first[512] = "";
    for (int i = 0; i < 4; i++) {
        line = strtok(NULL, "\n");
        assert_non_null(line);
        /* Everything after the third comma-separated entity field is the same. */
        const char *feat = line;
        int commas = 0;
        bool q = false;
        for (; *feat && commas < 3; feat++) {
            if (*feat == '"')
                q = !q;
            else if (*feat == ',' && !q)
                commas++;
        }
        if (i == 0)
            snprintf(first, sizeof first, "%s", feat);
        else
            assert_string_equal(feat, first);
        if (i == 1)
            assert_non_null(strstr(line, ",\"b,\"\"q\"\"\","));
        if (i == 3)
            assert_non_null(strstr(line, ",\"\","));
    }
    /* The expected features: s (quoted when needed, "" when empty), n, tags as JSON. */
    char want[512] = "";
    const char *s = any->cells[4], *n = any->cells[2], *tags = any->cells[5];
    size_t wl = 0;
    if (s != NULL) {
        if (s[0] == '\0')
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "\"\"");
        else if (strchr(s, ',') || strchr(s, '"')) {
            want[wl++] = '"';
            for (const char *c = s; *c; c++) {
                if (*c == '"')
                    want[wl++] = '"';
                want[wl++] = *c;
            }
            want[wl++] = '"';
            want[wl] = '\0';
        } else
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s", s);
    }
    wl += (size_t)snprintf(want + wl, sizeof want - wl, ",%s,", n ? n : "");
    if (tags != NULL) {
        /* [a|b] -> "[""a"",""b""]" */
        if (strcmp(tags, "[]") == 0) {
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "[]");
        } else {
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "\"[");
            char tb[128];
            snprintf(tb, sizeof tb, "%.*s", (int)strlen(tags) - 2, tags + 1);
            char *save = NULL;
            bool firstitem = true;
            for (char *it = strtok_r(tb, "|", &save); it; it = strtok_r(NULL, "|", &save)) {
                wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s\"\"%s\"\"",
                                       firstitem ? "" : ",", it);
                firstitem = false;
            }
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "]\"");
        }
    }
    assert_string_equal(first, want);
    lr_test_proc_free(&p);

    /* Parquet entities: integer identifiers, TIMESTAMP millis, a DATE column kept. */
    lr_pq_column_def ec[3];
    memset(ec, 0, sizeof ec);
    ec[0].name = "uid";
    ec[0].type = LR_PQ_INT64;
    ec[1].name = "at";
    ec[1].type = LR_PQ_INT64;
    ec[1].logical = LR_PQ_LOGICAL_TIMESTAMP;
    ec[1].unit = LR_PQ_MILLIS;
    ec[1].utc = true;
    ec[1].optional = true;
    ec[2].name = "d";
    ec[2].type = LR_PQ_INT32;
    ec[2].logical = LR_PQ_LOGICAL_DATE;
    char *pq = lr_test_path(fx.dir, "e.parquet");
    char *pout = lr_test_path(fx.dir, "o.parquet");
    FILE *fp = fopen(pq, "wb");
    lr_pq_writer *w;
    assert_int_equal(lr_pq_writer_open(ec, 3, NULL, lr_pq_sink_fd(fileno(fp)), &w, &err), LR_OK);
    size_t ne = 300;
    int64_t *tt = calloc(ne, sizeof *tt);
    int64_t *uid = calloc(ne, sizeof *uid);
    for (size_t i = 0; i < ne; i++) {
        uid[i] = (int64_t)(pit_rand() % 32);
        tt[i] = (fx.times[pit_rand() % fx.n_times] / 1000 + (int64_t)(pit_rand() % 3) - 1) * 1000;
        assert_int_equal(lr_pq_writer_set_i64(w, 0, uid[i], &err), LR_OK);
        if (i % 37 == 5)
            assert_int_equal(lr_pq_writer_set_null(w, 1, &err), LR_OK);
        else
            assert_int_equal(lr_pq_writer_set_i64(w, 1, tt[i] / 1000, &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_i32(w, 2, 19783, &err), LR_OK);
        assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    }
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    fclose(fp);
    lr_training_features both[2] = {{"orders", NULL, 0, LR_TRAINING_MAX_AGE_TTL},
                                    {"clicks", NULL, 0, LR_TRAINING_MAX_AGE_TTL}};
    o.entities = pq;
    o.entity_id = "uid";
    o.timestamp = "at";
    o.groups = both;
    o.n_groups = 2;
    o.out = pout;
    if (lr_training_set_build(fx.cat, &o, &st, &err) != LR_OK)
        fail_msg("build: %s", err.msg);
    pit_table tb;
    pit_read_parquet(pout, &tb);
    assert_int_equal(tb.n_rows, ne);
    assert_string_equal(tb.names[2], "d");
    int cx = pit_col(&tb, "orders__x"), cn = pit_col(&tb, "n"), ca = pit_col(&tb, "amount");
    assert_true(cx > 0 && cn > 0 && ca > 0);
    for (size_t i = 0; i < ne; i++) {
        char u[24];
        snprintf(u, sizeof u, "%" PRId64, uid[i]);
        bool has = i % 37 != 5;
        const pit_row *a = has ? pit_ref(&fx.g[1], u, tt[i], 0, INT64_MAX) : NULL;
        const pit_row *b = has ? pit_ref(&fx.g[0], u, tt[i], 2 * PIT_HOUR_US, INT64_MAX) : NULL;
        const char *wa = a ? a->cells[3] : NULL, *wx = a ? a->cells[2] : NULL;
        const char *wn = b ? b->cells[2] : NULL;
        const char *ga = tb.cells[i][ca], *gx = tb.cells[i][cx], *gn = tb.cells[i][cn];
        assert_true((ga == NULL) == (wa == NULL) && (!ga || strcmp(ga, wa) == 0));
        assert_true((gx == NULL) == (wx == NULL) && (!gx || strcmp(gx, wx) == 0));
        assert_true((gn == NULL) == (wn == NULL) && (!gn || strcmp(gn, wn) == 0));
        assert_string_equal(tb.cells[i][2], "19783");
    }
    pit_table_free(&tb);

    /* Epoch seconds as DOUBLE, string identifiers, and entity columns of other
     * types kept as they are: a list (whose name takes clicks' tags) and nanoseconds. */
    lr_pq_column_def e2[4];
    memset(e2, 0, sizeof e2);
    e2[0].name = "who";
    e2[0].type = LR_PQ_BYTE_ARRAY;
    e2[0].logical = LR_PQ_LOGICAL_STRING;
    e2[1].name = "secs";
    e2[1].type = LR_PQ_DOUBLE;
    e2[2].name = "tags";
    e2[2].type = LR_PQ_BYTE_ARRAY;
    e2[2].logical = LR_PQ_LOGICAL_STRING;
    e2[2].list = true;
    e2[2].optional = true;
    e2[3].name = "ns";
    e2[3].type = LR_PQ_INT64;
    e2[3].logical = LR_PQ_LOGICAL_TIMESTAMP;
    e2[3].unit = LR_PQ_NANOS;
    fp = fopen(pq, "wb");
    assert_int_equal(lr_pq_writer_open(e2, 4, NULL, lr_pq_sink_fd(fileno(fp)), &w, &err), LR_OK);
    for (size_t i = 0; i < 50; i++) {
        char u[8];
        snprintf(u, sizeof u, "%zu", i % 31);
        tt[i] = fx.times[i % fx.n_times] + 2000000;
        assert_int_equal(lr_pq_writer_set_bytes(w, 0, u, strlen(u), &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_double(w, 1, (double)tt[i] / 1e6, &err), LR_OK);
        assert_int_equal(lr_pq_writer_list_begin(w, 2, &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_bytes(w, 2, "e", 1, &err), LR_OK);
        assert_int_equal(lr_pq_writer_list_end(w, 2, &err), LR_OK);
        assert_int_equal(lr_pq_writer_set_i64(w, 3, tt[i] * 1000 + 7, &err), LR_OK);
        assert_int_equal(lr_pq_writer_end_row(w, &err), LR_OK);
    }
    assert_int_equal(lr_pq_writer_close(w, NULL, &err), LR_OK);
    lr_pq_writer_free(w);
    fclose(fp);
    lr_training_features one = {"clicks", NULL, 0, LR_TRAINING_MAX_AGE_NONE};
    o.entity_id = "who";
    o.timestamp = "secs";
    o.groups = &one;
    o.n_groups = 1;
    if (lr_training_set_build(fx.cat, &o, &st, &err) != LR_OK)
        fail_msg("build: %s", err.msg);
    pit_read_parquet(pout, &tb);
    assert_int_equal(tb.n_rows, 50);
    int ct = pit_col(&tb, "clicks__tags"), cs = pit_col(&tb, "s");
    assert_true(ct > 0 && cs > 0);
    assert_string_equal(tb.names[2], "tags");
    for (size_t i = 0; i < 50; i++) {
        char u[8], ns[32];
        snprintf(u, sizeof u, "%zu", i % 31);
        snprintf(ns, sizeof ns, "%" PRId64, tt[i] * 1000 + 7);
        assert_string_equal(tb.cells[i][2], "[e]");
        assert_string_equal(tb.cells[i][3], ns);
        const pit_row *b = pit_ref(&fx.g[0], u, tt[i], 0, INT64_MAX);
        const char *wt = b ? b->cells[5] : NULL, *ws = b ? b->cells[4] : NULL;
        const char *gt = tb.cells[i][ct], *gs = tb.cells[i][cs];
        assert_true((gt == NULL) == (wt == NULL) && (!gt || strcmp(gt, wt) == 0));
        assert_true((gs == NULL) == (ws == NULL) && (!gs || strcmp(gs, ws) == 0));
    }
    pit_table_free(&tb);
    free(tt);
    free(uid);
    free(pq);
    free(pout);
    free(in);
    free(out);
    pit_fx_free(&fx);
}

static void expect_error(pit_fx *fx, const char *csv, const char *id, const char *ts,
                         const lr_training_features *g, uint32_t ng, lr_status want,
                         const char *needle)
{
    char *in = lr_test_path(fx->dir, "err.csv");
    char *out = lr_test_path(fx->dir, "err.parquet");
    lr_training_set_options o;
    lr_error err;
    assert_int_equal(lr_test_write_file(in, csv, strlen(csv)), 0);
    lr_training_set_options_init(&o);
    o.entities = in;
    o.entity_id = id;
    o.timestamp = ts;
    o.groups = g;
    o.n_groups = ng;
    o.out = out;
    lr_status st = lr_training_set_build(fx->cat, &o, NULL, &err);
    if (st != want || strstr(err.msg, needle) == NULL)
        fail_msg("status %d (want %d), message '%s' (want '%s')", st, want, err.msg, needle);
    /* A failed build leaves no output behind. */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "test ! -e '%s' && test -z \"$(ls '%s' | grep err.parquet)\"", out,
             fx->dir);
    assert_int_equal(system(cmd), 0);
    free(in);
    free(out);
}

static void test_errors(void **state)
{
    (void)state;
    pit_fx fx;
    pit_fx_create(&fx, 9, 90);
    lr_training_features c = {"clicks", NULL, 0, LR_TRAINING_MAX_AGE_TTL};
    const char *bad_feat[] = {"nope"};
    lr_training_features cf = {"clicks", bad_feat, 1, LR_TRAINING_MAX_AGE_TTL};
    lr_training_features twice[2] = {c, c};
    lr_training_features missing = {"nosuch", NULL, 0, LR_TRAINING_MAX_AGE_TTL};
    lr_training_features neg = {"clicks", NULL, 0, -5};
    const char *ok = "u,t\n1,2024-03-01T10:00:00Z\n";
    expect_error(&fx, ok, "user", "t", &c, 1, LR_EINVAL, "no column 'user'");
    expect_error(&fx, ok, "u", "when", &c, 1, LR_EINVAL, "no column 'when'");
    expect_error(&fx, "u,t\n1,2024-03-01T10:00:00Z\n2,yesterday\n", "u", "t", &c, 1, LR_EINVAL,
                 "line 3");
    expect_error(&fx, "u,t\n1,2024-03-01T10:00:00+02:00\n", "u", "t", &c, 1, LR_EINVAL, "line 2");
    expect_error(&fx, "u,t\n1,2024-03-01T10:00:00Z,x\n", "u", "t", &c, 1, LR_EINVAL,
                 "expected 2 fields");
    expect_error(&fx, ok, "u", "t", &cf, 1, LR_ENOTFOUND, "no feature 'nope'");
    expect_error(&fx, ok, "u", "t", twice, 2, LR_EINVAL, "given twice");
    expect_error(&fx, ok, "u", "t", &missing, 1, LR_ENOTFOUND, "nosuch");
    expect_error(&fx, ok, "u", "t", &neg, 1, LR_EINVAL, "max age");
    /* The entity file is read twice: a directory (or a pipe) is refused. */
    lr_training_set_options o;
    lr_error err;
    char *out = lr_test_path(fx.dir, "x.parquet");
    lr_training_set_options_init(&o);
    o.entities = fx.dir;
    o.entities_format = LR_TRAINING_CSV;
    o.entity_id = "u";
    o.timestamp = "t";
    o.groups = &c;
    o.n_groups = 1;
    o.out = out;
    assert_int_equal(lr_training_set_build(fx.cat, &o, NULL, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "regular file"));
    free(out);
    /* s collides with an entity column, and its prefixed name with another one. */
    expect_error(&fx, "u,t,s,clicks__s\n1,2024-03-01T10:00:00Z,x,y\n", "u", "t", &c, 1,
                 LR_EINVAL, "appear twice");
    pit_fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pit_random),
        cmocka_unit_test(test_pit_spill_and_split),
        cmocka_unit_test(test_export_latest),
        cmocka_unit_test(test_materialize),
        cmocka_unit_test(test_entity_formats_and_csv),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
