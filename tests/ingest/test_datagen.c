/*
 * test_datagen.c - the smart-meter generator: deterministic for a seed,
 * different across seeds, and every row internally consistent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "larder/datagen.h"
#include "larder/fg.h"

static char *generate(uint32_t households, uint32_t days, uint64_t seed, size_t *len,
                      lr_datagen_stats *st)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    lr_datagen_opts o;
    lr_error err;
    assert_non_null(f);
    lr_datagen_opts_init(&o);
    o.households = households;
    o.days = days;
    o.seed = seed;
    assert_int_equal(lr_datagen_smart_meter_csv(&o, f, st, &err), LR_OK);
    fclose(f);
    return buf;
}

static void test_deterministic(void **state)
{
    size_t l1, l2, l3;
    lr_datagen_stats s1, s2, s3;
    (void)state;
    char *a = generate(40, 200, 7, &l1, &s1);
    char *b = generate(40, 200, 7, &l2, &s2);
    char *c = generate(40, 200, 8, &l3, &s3);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    assert_true(l1 != l3 || memcmp(a, c, l1) != 0);
    assert_int_equal(s1.bytes, l1);
    assert_int_equal(s1.rows, s2.rows);
    free(a);
    free(b);
    free(c);
}

/* Parses one CSV line of the generator's fixed shape. */
typedef struct row {
    char id[16];
    char day[16];
    double median, mean, max, std, sum, min;
    int count;
    int has_std;
    char event_time[32];
} row;

static int parse_row(char *line, row *r)
{
    char *f[10];
    int n = 0;
    char *p = line;
    f[n++] = p;
    while (*p && n < 10) {
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
        p++;
    }
    if (n != 10)
        return -1;
    snprintf(r->id, sizeof r->id, "%s", f[0]);
    snprintf(r->day, sizeof r->day, "%s", f[1]);
    r->median = atof(f[2]);
    r->mean = atof(f[3]);
    r->max = atof(f[4]);
    r->count = atoi(f[5]);
    r->has_std = f[6][0] != '\0';
    r->std = atof(f[6]);
    r->sum = atof(f[7]);
    r->min = atof(f[8]);
    snprintf(r->event_time, sizeof r->event_time, "%s", f[9]);
    return 0;
}

static void test_rows_consistent(void **state)
{
    size_t len;
    lr_datagen_stats st;
    (void)state;
    char *csv = generate(60, 829, 1, &len, &st);
    char *save = NULL;
    char *line = strtok_r(csv, "\n", &save);
    assert_string_equal(line, "household_id,day,energy_median,energy_mean,energy_max,"
                              "energy_count,energy_std,energy_sum,energy_min,event_time");
    uint64_t rows = 0, partial = 0;
    char prev_id[16] = "", prev_day[16] = "";
    int households = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        row r;
        assert_int_equal(parse_row(line, &r), 0);
        rows++;
        assert_int_equal(strlen(r.id), 9);
        assert_true(strncmp(r.id, "MAC", 3) == 0);
        assert_true(r.count >= 1 && r.count <= 48);
        if (r.count < 48)
            partial++;
        assert_true(r.min >= 0 && r.min <= r.median + 1e-9 && r.median <= r.max + 1e-9);
        assert_true(r.min <= r.mean + 1e-6 && r.mean <= r.max + 1e-6);
        assert_true(fabs(r.sum - r.mean * r.count) < 1e-3 * r.count);
        assert_int_equal(r.has_std, r.count > 1);
        /* event_time is the day at midnight UTC. */
        assert_int_equal(strncmp(r.event_time, r.day, 10), 0);
        assert_string_equal(r.event_time + 10, "T00:00:00Z");
        if (strcmp(r.id, prev_id) != 0) {
            households++;
            assert_true(strcmp(r.id, prev_id) > 0);
        } else {
            assert_true(strcmp(r.day, prev_day) > 0); /* days ascend per household */
        }
        snprintf(prev_id, sizeof prev_id, "%s", r.id);
        snprintf(prev_day, sizeof prev_day, "%s", r.day);
    }
    assert_int_equal(rows, st.rows);
    assert_int_equal(partial, st.partial_days);
    assert_int_equal(households, 60);
    /* Households join over time and days go missing: fewer rows than the full grid,
     * but most of it (the public dataset covers about 76%). */
    assert_true(rows < 60u * 829u);
    assert_true(rows > 60u * 829u / 2);
    assert_true(partial >= 60); /* every household's last day is partial */
    free(csv);
}

static void test_bad_options(void **state)
{
    lr_datagen_opts o;
    lr_error err;
    (void)state;
    lr_datagen_opts_init(&o);
    o.households = 0;
    assert_int_equal(lr_datagen_smart_meter_csv(&o, stdout, NULL, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "households"));
    lr_datagen_opts_init(&o);
    o.days = 0;
    assert_int_equal(lr_datagen_smart_meter_csv(&o, stdout, NULL, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "days"));
}

static void test_definition_is_valid(void **state)
{
    lr_fg_def *def = NULL;
    lr_error err;
    (void)state;
    const char *json = lr_datagen_smart_meter_definition();
    assert_int_equal(lr_fg_def_parse(json, strlen(json), &def, &err), LR_OK);
    assert_string_equal(def->record_id_name, "household_id");
    assert_string_equal(def->event_time_name, "event_time");
    assert_int_equal(def->n_features, 10);
    assert_int_equal(def->features[lr_fg_def_find_feature(def, "energy_count", 12)].type,
                     LR_FT_INTEGRAL);
    lr_fg_def_free(def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_rows_consistent),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_definition_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
