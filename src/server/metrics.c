/*
 * metrics.c - request counters and latency histograms per worker, and the
 * Prometheus text exposition of GET /metrics.
 *
 * Each worker owns its counters and is their only writer (relaxed atomic
 * adds, no lock, no shared cache line with another worker); /metrics sums
 * them with relaxed loads. Store figures (online records and bytes per
 * group) are read from the stores when /metrics is scraped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/compact.h"
#include "larder/offline.h"
#include "server/server_internal.h"

static const int status_slots[LR__STATUS_SLOTS - 1] = {200, 400, 403, 404, 405, 408,
                                                       409, 413, 431, 500, 503};

static const double bucket_le[LR__LAT_BUCKETS - 1] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                      0.005,  0.01,    0.025,  0.05,  0.1,
                                                      0.25,   0.5,     1.0,    2.5,   5.0};

int lr__metrics_status_slot(int http_status)
{
    for (int i = 0; i < LR__STATUS_SLOTS - 1; i++) {
        if (status_slots[i] == http_status)
            return i;
    }
    return LR__STATUS_SLOTS - 1;
}

int lr__metrics_slot_status(int slot)
{
    return slot < LR__STATUS_SLOTS - 1 ? status_slots[slot] : 0;
}

double lr__metrics_bucket_le(int bucket)
{
    return bucket < LR__LAT_BUCKETS - 1 ? bucket_le[bucket] : -1.0;
}

void lr__metrics_observe(lr__metrics *m, lr__op op, int http_status, int64_t ns)
{
    int b = 0;
    double s = (double)ns / 1e9;
    if (op <= OP_NONE || op >= OP_COUNT)
        op = OP_UNKNOWN;
    atomic_fetch_add_explicit(&m->requests[op][lr__metrics_status_slot(http_status)], 1,
                              memory_order_relaxed);
    while (b < LR__LAT_BUCKETS - 1 && s > bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&m->lat_bucket[op][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lat_sum_ns[op], ns > 0 ? (uint64_t)ns : 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lat_count[op], 1, memory_order_relaxed);
}

static uint64_t sum_u64(lr_server *s, size_t offset)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < s->n_workers; i++) {
        const _Atomic uint64_t *p =
            (const _Atomic uint64_t *)((const char *)&s->workers[i].metrics + offset);
        t += atomic_load_explicit(p, memory_order_relaxed);
    }
    return t;
}

#define SUM(s, field) sum_u64((s), offsetof(lr__metrics, field))

/* Appends the label value escaped as Prometheus requires (\\, \", \n). */
static lr_status label(lr_buf *o, const char *s)
{
    lr_status st = LR_OK;
    for (; *s && st == LR_OK; s++) {
        if (*s == '\\' || *s == '"')
            st = lr_buf_printf(o, "\\%c", *s);
        else if (*s == '\n')
            st = lr_buf_append_str(o, "\\n");
        else
            st = lr_buf_append_byte(o, (uint8_t)*s);
    }
    return st;
}

static lr_status render_requests(lr_server *s, lr_buf *o)
{
    lr_status st = lr_buf_append_str(
        o, "# HELP larder_requests_total Requests answered, by operation and HTTP status.\n"
           "# TYPE larder_requests_total counter\n");
    for (int op = 1; op < OP_COUNT && st == LR_OK; op++) {
        for (int sl = 0; sl < LR__STATUS_SLOTS && st == LR_OK; sl++) {
            uint64_t v = SUM(s, requests[op][sl]);
            int code = lr__metrics_slot_status(sl);
            if (v == 0)
                continue;
            if (code != 0)
                st = lr_buf_printf(
                    o, "larder_requests_total{operation=\"%s\",status=\"%d\"} %" PRIu64 "\n",
                    lr__op_name((lr__op)op), code, v);
            else
                st = lr_buf_printf(
                    o, "larder_requests_total{operation=\"%s\",status=\"other\"} %" PRIu64 "\n",
                    lr__op_name((lr__op)op), v);
        }
    }
    if (st == LR_OK)
        st = lr_buf_append_str(
            o, "# HELP larder_request_duration_seconds Time from a complete request to its "
               "response.\n# TYPE larder_request_duration_seconds histogram\n");
    for (int op = 1; op < OP_COUNT && st == LR_OK; op++) {
        uint64_t count = SUM(s, lat_count[op]), cum = 0;
        if (count == 0)
            continue;
        for (int b = 0; b < LR__LAT_BUCKETS && st == LR_OK; b++) {
            cum += SUM(s, lat_bucket[op][b]);
            if (b < LR__LAT_BUCKETS - 1)
                st = lr_buf_printf(o,
                                   "larder_request_duration_seconds_bucket{operation=\"%s\","
                                   "le=\"%g\"} %" PRIu64 "\n",
                                   lr__op_name((lr__op)op), lr__metrics_bucket_le(b), cum);
            else
                st = lr_buf_printf(o,
                                   "larder_request_duration_seconds_bucket{operation=\"%s\","
                                   "le=\"+Inf\"} %" PRIu64 "\n",
                                   lr__op_name((lr__op)op), cum);
        }
        if (st == LR_OK)
            st = lr_buf_printf(o,
                               "larder_request_duration_seconds_sum{operation=\"%s\"} %.9f\n"
                               "larder_request_duration_seconds_count{operation=\"%s\"} %" PRIu64
                               "\n",
                               lr__op_name((lr__op)op), (double)SUM(s, lat_sum_ns[op]) / 1e9,
                               lr__op_name((lr__op)op), count);
    }
    return st;
}

/* Online records and bytes of every feature group (the catalog lists them). */
static lr_status render_online(lr__worker *w, lr_buf *o, lr_error *err)
{
    lr_fg_list_query q;
    lr_fg_list page = {0};
    lr_buf rec, bytes;
    uint64_t groups = 0;
    char *token = NULL;
    lr_status st;

    lr_buf_init(&rec, 0);
    lr_buf_init(&bytes, 0);
    st = lr_buf_append_str(&rec, "# HELP larder_online_records Records in the online store "
                                 "(soft-deleted included), by feature group.\n"
                                 "# TYPE larder_online_records gauge\n");
    if (st == LR_OK)
        st = lr_buf_append_str(&bytes, "# HELP larder_online_bytes Bytes of keys and values in "
                                       "the online store, by feature group.\n"
                                       "# TYPE larder_online_bytes gauge\n");
    for (int pages = 0; st == LR_OK && pages < 10000; pages++) {
        lr_fg_list_query_init(&q);
        q.sort_by = LR_SORT_NAME;
        q.ascending = true;
        q.max_results = 100;
        q.next_token = token;
        st = lr_catalog_fg_list(w->cat, &q, &page, err);
        free(token);
        token = NULL;
        if (st != LR_OK)
            break;
        for (uint32_t i = 0; i < page.n && st == LR_OK; i++) {
            lr_online_stats os;
            lr_error e2;
            groups++;
            if (lr_online_group_stats(w->srv->online, page.items[i].name, &os, &e2) != LR_OK)
                continue;
            if ((st = lr_buf_append_str(&rec, "larder_online_records{feature_group=\"")) == LR_OK &&
                (st = label(&rec, page.items[i].name)) == LR_OK)
                st = lr_buf_printf(&rec, "\"} %" PRIu64 "\n", os.records);
            if (st == LR_OK &&
                (st = lr_buf_append_str(&bytes, "larder_online_bytes{feature_group=\"")) == LR_OK &&
                (st = label(&bytes, page.items[i].name)) == LR_OK)
                st = lr_buf_printf(&bytes, "\"} %" PRIu64 "\n", os.bytes);
        }
        if (page.next_token != NULL && (token = strdup(page.next_token)) == NULL)
            st = LR_ENOMEM;
        lr_fg_list_free(&page);
        if (token == NULL)
            break;
    }
    free(token);
    if (st == LR_OK)
        st =
            lr_buf_printf(o,
                          "# HELP larder_feature_groups Feature groups in the catalog.\n"
                          "# TYPE larder_feature_groups gauge\nlarder_feature_groups %" PRIu64 "\n",
                          groups);
    if (st == LR_OK)
        st = lr_buf_append(o, rec.data, rec.len);
    if (st == LR_OK)
        st = lr_buf_append(o, bytes.data, bytes.len);
    lr_buf_free(&rec);
    lr_buf_free(&bytes);
    if (st != LR_OK && err != NULL && err->code == LR_OK)
        lr_error_set(err, st, "rendering metrics: %s", lr_strerror(st));
    return st;
}

lr_status lr__metrics_render(lr__worker *w, lr_buf *o, lr_error *err)
{
    lr_server *s = w->srv;
    int64_t open = 0;
    lr_status st;

    for (uint32_t i = 0; i < s->n_workers; i++)
        open += atomic_load_explicit(&s->workers[i].metrics.open_connections, memory_order_relaxed);
    st = render_requests(s, o);
    if (st == LR_OK)
        st = lr_buf_printf(
            o,
            "# HELP larder_open_connections Open client connections.\n"
            "# TYPE larder_open_connections gauge\nlarder_open_connections %" PRId64 "\n"
            "# HELP larder_connections_accepted_total Connections accepted.\n"
            "# TYPE larder_connections_accepted_total counter\n"
            "larder_connections_accepted_total %" PRIu64 "\n"
            "# HELP larder_connections_rejected_total Connections refused (over the cap or out "
            "of descriptors).\n# TYPE larder_connections_rejected_total counter\n"
            "larder_connections_rejected_total %" PRIu64 "\n"
            "# HELP larder_received_bytes_total Bytes read from clients.\n"
            "# TYPE larder_received_bytes_total counter\nlarder_received_bytes_total %" PRIu64 "\n"
            "# HELP larder_sent_bytes_total Bytes written to clients.\n"
            "# TYPE larder_sent_bytes_total counter\nlarder_sent_bytes_total %" PRIu64 "\n"
            "# HELP larder_worker_threads Worker threads.\n# TYPE larder_worker_threads gauge\n"
            "larder_worker_threads %u\n"
            "# HELP larder_uptime_seconds Seconds since the server started.\n"
            "# TYPE larder_uptime_seconds gauge\nlarder_uptime_seconds %.3f\n",
            open, SUM(s, accepted), SUM(s, rejected_connections), SUM(s, bytes_in),
            SUM(s, bytes_out), s->n_workers, (double)(lr__mono_ms() - s->started_ms) / 1000.0);
    if (st == LR_OK && s->offline != NULL) {
        lr_offline_metrics om;
        lr_offline_metrics_get(s->offline, &om);
        st = lr_buf_printf(
            o,
            "# HELP larder_offline_lag_seconds Age of the oldest write not yet in Parquet.\n"
            "# TYPE larder_offline_lag_seconds gauge\nlarder_offline_lag_seconds %.6f\n"
            "# HELP larder_offline_pending_entries Writes logged and not yet in Parquet.\n"
            "# TYPE larder_offline_pending_entries gauge\nlarder_offline_pending_entries %" PRIu64
            "\n"
            "# HELP larder_offline_log_bytes Bytes of write-ahead log segments.\n"
            "# TYPE larder_offline_log_bytes gauge\nlarder_offline_log_bytes %" PRIu64 "\n"
            "# HELP larder_offline_flushes_total Flushes that registered Parquet files.\n"
            "# TYPE larder_offline_flushes_total counter\nlarder_offline_flushes_total %" PRIu64
            "\n"
            "# HELP larder_offline_flush_errors_total Flushes that failed.\n"
            "# TYPE larder_offline_flush_errors_total counter\n"
            "larder_offline_flush_errors_total %" PRIu64 "\n"
            "# HELP larder_offline_files_written_total Parquet files written.\n"
            "# TYPE larder_offline_files_written_total counter\n"
            "larder_offline_files_written_total %" PRIu64 "\n"
            "# HELP larder_offline_rows_written_total Rows written to Parquet.\n"
            "# TYPE larder_offline_rows_written_total counter\n"
            "larder_offline_rows_written_total %" PRIu64 "\n",
            (double)om.lag_us / 1e6, om.pending_entries, om.log_bytes, om.flushes, om.flush_errors,
            om.files_written, om.rows_written);
    }
    if (st == LR_OK)
        st = render_online(w, o, err);
    /* process-wide counters: runs started by the schedule and by other threads alike */
    if (st == LR_OK && (st = lr_compact_metrics_prometheus(o)) != LR_OK && err != NULL &&
        err->code == LR_OK)
        lr_error_set(err, st, "rendering compaction metrics: %s", lr_strerror(st));
    return st;
}
