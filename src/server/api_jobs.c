/*
 * api_jobs.c - Larder's own job API: GET /v1/jobs (compaction jobs, newest
 * first, filtered and paged by query parameters) and GET /v1/jobs/ID. The
 * JSON is compact.h's (lr_compact_jobs_json / lr_compact_job_json) so the
 * server and `larder jobs --json` never disagree on the shape.
 *
 * These are data, not health: they go through the same SigV4 check as the
 * SageMaker API (api.c) and answer errors in the runtime API's shape.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/compact.h"
#include "server/server_internal.h"

#define JOBS_MAX_RESULTS 1000 /* lr_catalog_jobs_list's cap */

static void fail(lr__conn *c, const lr_error *err)
{
    lr__respond_error(c, lr__err_from_status(err->code, false), false, "%s", lr_error_message(err));
}

/*
 * A positive decimal job id of s[0..n), or 0 when it is not one. Signs,
 * spaces and leading zeros are refused so each job has exactly one URL.
 */
static int64_t parse_id(const char *s, size_t n)
{
    int64_t v = 0;
    if (n == 0 || n > 19 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The query string's parameters; values are decoded into the worker's arena. */
typedef struct jobs_params {
    lr_compact_job_query q;
    const char *next_token;
} jobs_params;

/* Fills p from the query string; on a bad one answers 400 and returns false. */
static bool parse_query(lr__worker *w, lr__conn *c, const lr__req *req, jobs_params *p)
{
    const char *s = req->query, *end = req->query + req->query_len;
    memset(p, 0, sizeof *p);
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *pe = amp != NULL ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        size_t kl, vl = 0;
        bool bad = false;
        char *val;
        if (pe == s) { /* "a=1&&b=2": an empty pair is harmless */
            s = pe + 1;
            continue;
        }
        kl = (size_t)((eq != NULL ? eq : pe) - s);
        val = lr__pct_decode(w->arena, eq != NULL ? eq + 1 : pe,
                             eq != NULL ? (size_t)(pe - eq - 1) : 0, &vl, &bad);
        if (val == NULL) {
            if (bad)
                lr__respond_error(c, ERR_VALIDATION, false,
                                  "Bad percent-encoding in query parameter '%.*s'", (int)kl, s);
            else
                lr__respond_error(c, ERR_INTERNAL, false, "out of memory");
            return false;
        }
        /* NUL inside a value would silently truncate it below */
        if (strlen(val) != vl) {
            lr__respond_error(c, ERR_VALIDATION, false, "Query parameter '%.*s' holds a NUL",
                              (int)kl, s);
            return false;
        }
        if (kl == 13 && memcmp(s, "feature-group", 13) == 0) {
            if (vl == 0 || vl > LR_FG_NAME_MAX) {
                lr__respond_error(c, ERR_VALIDATION, false,
                                  "feature-group must be 1..%d characters", LR_FG_NAME_MAX);
                return false;
            }
            p->q.fg_name = val;
        } else if (kl == 6 && memcmp(s, "status", 6) == 0) {
            lr_error err;
            lr_error_clear(&err);
            if (lr_job_status_parse(val, &p->q.status, &err) != LR_OK) {
                lr__respond_error(c, ERR_VALIDATION, false,
                                  "status must be InProgress, Completed, Failed or Pending, not "
                                  "'%.64s'",
                                  val);
                return false;
            }
        } else if (kl == 5 && memcmp(s, "limit", 5) == 0) {
            int64_t n = parse_id(val, vl);
            if (n < 1 || n > JOBS_MAX_RESULTS) {
                lr__respond_error(c, ERR_VALIDATION, false,
                                  "limit must be an integer in 1..%d, not '%.32s'",
                                  JOBS_MAX_RESULTS, val);
                return false;
            }
            p->q.max_results = (uint32_t)n;
        } else if (kl == 10 && memcmp(s, "next-token", 10) == 0) {
            p->next_token = val; /* lr_compact_jobs_json validates it */
        } else {
            /* refused rather than ignored, so a misspelt filter is not a silent "all jobs" */
            lr__respond_error(c, ERR_VALIDATION, false,
                              "Unknown query parameter '%.*s' (expected feature-group, status, "
                              "limit, next-token)",
                              (int)(kl > 64 ? 64 : kl), s);
            return false;
        }
        if (pe == end)
            break;
        s = pe + 1;
    }
    return true;
}

static void list_jobs(lr__worker *w, lr__conn *c, const lr__req *req)
{
    jobs_params p;
    lr_error err;
    if (!parse_query(w, c, req, &p))
        return;
    lr_error_clear(&err);
    lr_buf_clear(&w->scratch);
    if (lr_compact_jobs_json(w->cat, &p.q, p.next_token, &w->scratch, &err) != LR_OK) {
        fail(c, &err);
        return;
    }
    lr__respond(c, 200, "application/json", NULL, w->scratch.data, w->scratch.len);
}

static void get_job(lr__worker *w, lr__conn *c, const lr__req *req)
{
    int64_t id = parse_id(req->fg_ref, req->fg_ref_len);
    lr_error err;
    if (id == 0) {
        lr__respond_error(c, ERR_VALIDATION, false,
                          "Job id must be a positive integer, not '%.*s'",
                          (int)(req->fg_ref_len > 64 ? 64 : req->fg_ref_len), req->fg_ref);
        return;
    }
    if (req->query_len > 0) {
        lr__respond_error(c, ERR_VALIDATION, false, "GET /v1/jobs/ID takes no query parameters");
        return;
    }
    lr_error_clear(&err);
    lr_buf_clear(&w->scratch);
    if (lr_compact_job_json(w->cat, id, &w->scratch, &err) != LR_OK) {
        if (err.code == LR_ENOTFOUND)
            lr__respond_error(c, ERR_NOT_FOUND, false, "Job %lld not found", (long long)id);
        else
            fail(c, &err);
        return;
    }
    lr__respond(c, 200, "application/json", NULL, w->scratch.data, w->scratch.len);
}

void lr__api_jobs(lr__worker *w, lr__conn *c, lr__req *req)
{
    if (req->op == OP_GET_JOB)
        get_job(w, c, req);
    else
        list_jobs(w, c, req);
}
