/*
 * pit_gen.c - data for the point-in-time join benchmark (bench/pit/run.sh):
 * a feature group whose offline store holds ROWS rows over IDS record
 * identifiers, spread over HOURS hourly partitions (one Parquet file each,
 * in SageMaker's layout, registered in the catalog as repair would), with
 * duplicates (same identifier and event time, later api_invocation_time)
 * and delete markers; and an entity file of ENTITIES rows (identifier,
 * timestamp, label) as Parquet.
 *
 *   pit_gen DATA_DIR ENTITIES.parquet [--ids N] [--rows N] [--entities N]
 *           [--hours N] [--seed N]
 *
 * Identifiers are "u" and six digits; a tenth of the entity rows name
 * identifiers with no rows; entity times span the feature data plus a day on
 * each side. Deterministic for a seed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/objstore.h"
#include "larder/offline.h"
#include "larder/parquet.h"
#include "larder/value.h"

#define GROUP "pit_bench"
#define START_US 1704067200000000LL /* 2024-01-01T00:00:00Z */
#define HOUR_US 3600000000LL

static const char def_json[] =
    "{\"FeatureGroupName\":\"" GROUP "\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"event_time\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"event_time\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"f_int\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"f_dbl\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"f_str\",\"FeatureType\":\"String\"}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void die(const char *what, const lr_error *err)
{
    fprintf(stderr, "pit_gen: %s: %s\n", what, err ? lr_error_message(err) : "failed");
    exit(1);
}

typedef struct row {
    uint32_t id;
    int64_t et;
    bool del;
} row;

int main(int argc, char **argv)
{
    uint64_t ids = 100000, rows = 10000000, ents = 1000000, hours = 720, seed = 1;
    lr_error err;
    if (argc < 3) {
        fprintf(stderr, "usage: pit_gen DATA_DIR ENTITIES.parquet [--ids N] [--rows N] "
                        "[--entities N] [--hours N] [--seed N]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        uint64_t v = strtoull(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--ids") == 0)
            ids = v;
        else if (strcmp(argv[i], "--rows") == 0)
            rows = v;
        else if (strcmp(argv[i], "--entities") == 0)
            ents = v;
        else if (strcmp(argv[i], "--hours") == 0)
            hours = v;
        else if (strcmp(argv[i], "--seed") == 0)
            seed = v;
    }
    rng_state = seed;

    lr_settings settings;
    lr_catalog *cat;
    lr_fg_def *req, *def;
    if (lr_settings_from_env(&settings, &err) != LR_OK)
        die("settings", &err);
    if (lr_catalog_open(argv[1], &settings, &cat, &err) != LR_OK)
        die("catalog", &err);
    if (lr_fg_def_parse(def_json, strlen(def_json), &req, &err) != LR_OK)
        die("definition", &err);
    if (lr_catalog_fg_create(cat, req, &def, &err) != LR_OK)
        die("create group", &err);
    lr_fg_def_free(req);

    lr_pq_column_def *cols;
    uint32_t ncols;
    if (lr_offline_parquet_columns(def, &cols, &ncols, &err) != LR_OK)
        die("columns", &err);
    lr_objstore *os;
    if (lr_objstore_open(def->resolved_offline_uri, &os, &err) != LR_OK)
        die("object store", &err);

    uint64_t per_hour = rows / hours;
    row *hr = malloc(per_hour * sizeof *hr);
    lr_buf file;
    lr_buf_init(&file, 0);
    int64_t wt = START_US + (int64_t)hours * HOUR_US + 1000000, api = wt - 500000;
    for (uint64_t h = 0; h < hours; h++) {
        int64_t hs = START_US + (int64_t)h * HOUR_US, min_et = INT64_MAX, max_et = INT64_MIN;
        lr_pq_writer *w;
        lr_pq_write_options wo;
        lr_pq_write_options_init(&wo);
        lr_buf_clear(&file);
        if (lr_pq_writer_open(cols, ncols, &wo, lr_pq_sink_buf(&file), &w, &err) != LR_OK)
            die("writer", &err);
        for (uint64_t r = 0; r < per_hour; r++) {
            row *x = &hr[r];
            uint64_t k = rnd() % 100;
            if (r > 0 && k < 3) {
                *x = hr[rnd() % r]; /* a duplicate: same id and event time */
                x->del = false;
            } else {
                x->id = (uint32_t)(rnd() % ids);
                x->et = hs + (int64_t)(rnd() % (uint64_t)HOUR_US);
                x->del = k == 3;
            }
            char id[16], ts[LR_TIME_STR_MAX], s[16];
            int idn = snprintf(id, sizeof id, "u%06" PRIu32, x->id);
            size_t tsn = lr_time_format_iso8601(x->et, ts);
            int sn = snprintf(s, sizeof s, "v%" PRIu64, rnd() % 1000);
            wt += 1 + (int64_t)(rnd() % 3);
            api += 1 + (int64_t)(rnd() % 3);
            lr_pq_writer_set_bytes(w, 0, id, (size_t)idn, &err);
            lr_pq_writer_set_bytes(w, 1, ts, tsn, &err);
            if (x->del) {
                lr_pq_writer_set_null(w, 2, &err);
                lr_pq_writer_set_null(w, 3, &err);
                lr_pq_writer_set_null(w, 4, &err);
            } else {
                lr_pq_writer_set_i64(w, 2, (int64_t)(rnd() % 1000000), &err);
                lr_pq_writer_set_double(w, 3, (double)(rnd() % 1000000) / 64.0, &err);
                lr_pq_writer_set_bytes(w, 4, s, (size_t)sn, &err);
            }
            lr_pq_writer_set_i64(w, 5, wt, &err);
            lr_pq_writer_set_i64(w, 6, api, &err);
            lr_pq_writer_set_bool(w, 7, x->del, &err);
            if (lr_pq_writer_end_row(w, &err) != LR_OK)
                die("row", &err);
            if (x->et < min_et)
                min_et = x->et;
            if (x->et > max_et)
                max_et = x->et;
        }
        if (lr_pq_writer_close(w, NULL, &err) != LR_OK)
            die("close", &err);
        lr_pq_writer_free(w);
        char key[LR_OFFLINE_KEY_MAX], part[LR_OFFLINE_PARTITION_MAX];
        int64_t pstart = 0;
        if (lr_offline_file_key(max_et, key, &err) != LR_OK ||
            lr_offline_partition_of(max_et, part, &pstart, &err) != LR_OK)
            die("key", &err);
        if (lr_objstore_put(os, key, file.data, file.len, &err) != LR_OK)
            die("put", &err);
        lr_offline_file f;
        memset(&f, 0, sizeof f);
        f.fg_name = def->name;
        f.fg_created_us = def->creation_time_us;
        f.partition = part;
        f.partition_start_us = pstart;
        f.root = def->resolved_offline_uri;
        f.key = key;
        f.rows = (int64_t)per_hour;
        f.bytes = (int64_t)file.len;
        f.min_event_us = min_et;
        f.max_event_us = max_et;
        if (lr_catalog_offline_commit(cat, NULL, 0, 0, &f, 1, &err) != LR_OK)
            die("register", &err);
    }
    free(hr);
    lr_buf_free(&file);
    lr_objstore_close(os);
    free(cols);

    /* The entity file. */
    lr_pq_column_def ec[3];
    memset(ec, 0, sizeof ec);
    ec[0].name = "user_id";
    ec[0].type = LR_PQ_BYTE_ARRAY;
    ec[0].logical = LR_PQ_LOGICAL_STRING;
    ec[1].name = "ts";
    ec[1].type = LR_PQ_INT64;
    ec[1].logical = LR_PQ_LOGICAL_TIMESTAMP;
    ec[1].unit = LR_PQ_MICROS;
    ec[1].utc = true;
    ec[2].name = "label";
    ec[2].type = LR_PQ_INT64;
    FILE *fp = fopen(argv[2], "wb");
    if (fp == NULL) {
        perror(argv[2]);
        return 1;
    }
    lr_pq_writer *w;
    if (lr_pq_writer_open(ec, 3, NULL, lr_pq_sink_fd(fileno(fp)), &w, &err) != LR_OK)
        die("entity writer", &err);
    int64_t span = (int64_t)hours * HOUR_US + 2 * 24 * HOUR_US;
    for (uint64_t i = 0; i < ents; i++) {
        char id[16];
        int n = snprintf(id, sizeof id, "u%06" PRIu64, rnd() % (ids + ids / 10));
        lr_pq_writer_set_bytes(w, 0, id, (size_t)n, &err);
        lr_pq_writer_set_i64(w, 1, START_US - 24 * HOUR_US + (int64_t)(rnd() % (uint64_t)span),
                             &err);
        lr_pq_writer_set_i64(w, 2, (int64_t)(rnd() % 2), &err);
        if (lr_pq_writer_end_row(w, &err) != LR_OK)
            die("entity row", &err);
    }
    if (lr_pq_writer_close(w, NULL, &err) != LR_OK)
        die("entity close", &err);
    lr_pq_writer_free(w);
    fclose(fp);
    printf("%s: %" PRIu64 " offline rows in %" PRIu64 " files, %" PRIu64 " ids; %s: %" PRIu64
           " entity rows\n",
           def->name, per_hour * hours, hours, ids, argv[2], ents);
    lr_fg_def_free(def);
    lr_catalog_close(cat);
    return 0;
}
