/*
 * api.c - routing, authentication and dispatch of complete requests, the
 * tables built from routes.h, and small helpers the operations share.
 *
 * /healthz and /metrics answer without a signature (health checks and
 * Prometheus scrapers do not sign); every other route requires a valid
 * SigV4 signature whenever the server has keys.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "larder/log.h"
#include "server/server_internal.h"

typedef struct route {
    lr__op op;
    const char *name;
    int method;
    const char *prefix;
    int named;
    const char *suffix;
} route;

static const route routes[] = {
#define LR_X_ROUTE(id, name, method, prefix, named, suffix)                                        \
    {id, name, method, prefix, named, suffix},
    LR_SRV_ROUTES(LR_X_ROUTE)
#undef LR_X_ROUTE
};

static const struct {
    lr__op op;
    const char *name;
} control_ops[] = {
#define LR_X_CTRL(id, name) {id, name},
    LR_SRV_CONTROL_OPS(LR_X_CTRL)
#undef LR_X_CTRL
};

static const struct {
    const char *code;
    int runtime_status;
    int control_status;
} errors[] = {
#define LR_X_ERRT(id, code, rt, cp) {code, rt, cp},
    LR_SRV_ERRORS(LR_X_ERRT)
#undef LR_X_ERRT
};

const char *lr__op_name(lr__op op)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (routes[i].op == op)
            return routes[i].name;
    }
    for (size_t i = 0; i < sizeof control_ops / sizeof control_ops[0]; i++) {
        if (control_ops[i].op == op)
            return control_ops[i].name;
    }
    return "Unknown";
}

bool lr__op_is_control(lr__op op)
{
    for (size_t i = 0; i < sizeof control_ops / sizeof control_ops[0]; i++) {
        if (control_ops[i].op == op)
            return true;
    }
    return false;
}

const char *lr__err_code(lr__err e)
{
    return e < ERR_COUNT ? errors[e].code : "InternalFailure";
}

int lr__err_status(lr__err e, bool control)
{
    if (e >= ERR_COUNT)
        return 500;
    return control ? errors[e].control_status : errors[e].runtime_status;
}

lr__err lr__err_from_status(lr_status st, bool control)
{
    switch (st) {
    case LR_EINVAL:
    case LR_ELIMIT:
        return control ? ERR_VALIDATION_EXCEPTION : ERR_VALIDATION;
    case LR_ENOTFOUND:
        return ERR_NOT_FOUND;
    case LR_EEXIST:
        return ERR_IN_USE;
    case LR_ECONFLICT:
        return control ? ERR_IN_USE : ERR_CONFLICT;
    case LR_EACCESS:
        return ERR_ACCESS_FORBIDDEN;
    case LR_EBUSY:
    case LR_EUNAVAILABLE:
        return ERR_UNAVAILABLE;
    case LR_EUNSUPPORTED:
        return control ? ERR_VALIDATION_EXCEPTION : ERR_VALIDATION;
    default:
        return ERR_INTERNAL;
    }
}

char *lr__pct_decode(lr_arena *a, const char *s, size_t n, size_t *out_len, bool *bad)
{
    char *o = lr_arena_alloc(a, n + 1);
    size_t j = 0;
    *bad = false;
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = -1, l = -1;
            if (i + 2 < n) {
                char x = s[i + 1], y = s[i + 2];
                h = (x >= '0' && x <= '9')   ? x - '0'
                    : (x >= 'a' && x <= 'f') ? x - 'a' + 10
                    : (x >= 'A' && x <= 'F') ? x - 'A' + 10
                                             : -1;
                l = (y >= '0' && y <= '9')   ? y - '0'
                    : (y >= 'a' && y <= 'f') ? y - 'a' + 10
                    : (y >= 'A' && y <= 'F') ? y - 'A' + 10
                                             : -1;
            }
            if (h < 0 || l < 0) {
                *bad = true;
                return NULL;
            }
            o[j++] = (char)(h * 16 + l);
            i += 2;
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    *out_len = j;
    return o;
}

void lr__route(lr__req *r)
{
    r->op = OP_NONE;
    if (r->path_len == 1 && r->path[0] == '/' && r->method == HTTP_POST) {
        size_t tl;
        const char *t = lr__req_header(r, "x-amz-target", &tl);
        r->op = OP_UNKNOWN;
        if (t != NULL && tl > 10 && memcmp(t, "SageMaker.", 10) == 0) {
            for (size_t i = 0; i < sizeof control_ops / sizeof control_ops[0]; i++) {
                if (strlen(control_ops[i].name) == tl - 10 &&
                    memcmp(control_ops[i].name, t + 10, tl - 10) == 0) {
                    r->op = control_ops[i].op;
                    break;
                }
            }
        }
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *rt = &routes[i];
        size_t pl = strlen(rt->prefix), sl = strlen(rt->suffix), seg;
        if (r->path_len < pl || memcmp(r->path, rt->prefix, pl) != 0)
            continue;
        if (!rt->named) {
            if (r->path_len != pl)
                continue;
        } else {
            const char *s = r->path + pl;
            size_t rest = r->path_len - pl;
            const char *slash = memchr(s, '/', rest);
            seg = slash != NULL ? (size_t)(slash - s) : rest;
            if (seg == 0 || rest - seg != sl || memcmp(s + seg, rt->suffix, sl) != 0)
                continue;
            if (rt->method == r->method) {
                r->fg_ref = s;
                r->fg_ref_len = seg;
            }
        }
        if (rt->method != r->method) {
            if (r->op == OP_NONE)
                r->op = OP_UNKNOWN; /* the path exists, not with this method */
            continue;
        }
        r->op = rt->op;
        return;
    }
    if (r->op == OP_NONE)
        r->op = OP_UNKNOWN;
}

static void respond_auth_error(lr__conn *c, lr__sigv4_result res, bool control, const char *msg)
{
    lr__err e = ERR_ACCESS_FORBIDDEN;
    if (control) {
        if (res == SIGV4_MISSING)
            e = ERR_MISSING_AUTH;
        else if (res == SIGV4_UNKNOWN_KEY)
            e = ERR_UNRECOGNIZED_CLIENT;
        else
            e = ERR_INVALID_SIGNATURE;
    }
    if (res == SIGV4_INTERNAL)
        e = ERR_INTERNAL;
    lr__respond_error(c, e, control, "%s", msg);
}

static bool authenticate(lr__worker *w, lr__conn *c, lr__req *req, bool control)
{
    lr_server *s = w->srv;
    lr__sigv4_req sr;
    lr__sigv4_result res;
    char msg[512];
    static const char *const methods[] = {
#define LR_X_M(num, name, string) [num] = #string,
        HTTP_METHOD_MAP(LR_X_M)
#undef LR_X_M
    };
    if (s->keys.n == 0)
        return true;
    sr.method = (req->method >= 0 && (size_t)req->method < sizeof methods / sizeof methods[0] &&
                 methods[req->method] != NULL)
                    ? methods[req->method]
                    : "GET";
    sr.path = req->path;
    sr.path_len = req->path_len;
    sr.query = req->query;
    sr.query_len = req->query_len;
    sr.hnames = req->hnames;
    sr.hname_lens = req->hname_lens;
    sr.hvalues = req->hvalues;
    sr.hvalue_lens = req->hvalue_lens;
    sr.n_headers = req->n_headers;
    sr.body = req->body;
    sr.body_len = req->body_len;
    res = lr__sigv4_verify(&s->keys, &w->sigcache, &sr, s->cfg.settings.region, "sagemaker",
                           (int64_t)time(NULL), s->cfg.clock_skew_s, &w->canon, msg, sizeof msg);
    if (res == SIGV4_OK)
        return true;
    respond_auth_error(c, res, control, msg);
    return false;
}

void lr__api_handle(lr__worker *w, lr__conn *c, lr__req *req)
{
    bool control;
    c->req_begin_ns = lr__mono_ns();
    c->last_status = 0;
    lr__route(req);
    control = lr__op_is_control(req->op);
    switch (req->op) {
    case OP_HEALTHZ: {
        static const char ok[] = "{\"status\":\"ok\"}";
        lr__respond(c, w->stopping ? 503 : 200, "application/json", NULL, ok, sizeof ok - 1);
        break;
    }
    case OP_METRICS: {
        lr_error err;
        lr_buf_clear(&w->scratch);
        lr_error_clear(&err);
        if (lr__metrics_render(w, &w->scratch, &err) != LR_OK)
            lr__respond_error(c, ERR_INTERNAL, false, "%s", lr_error_message(&err));
        else
            lr__respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, w->scratch.data,
                        w->scratch.len);
        break;
    }
    case OP_UNKNOWN:
    case OP_NONE: {
        size_t tl = 0;
        const char *t = lr__req_header(req, "x-amz-target", &tl);
        if (req->path_len == 1 && req->path[0] == '/' && req->method == HTTP_POST)
            lr__respond_error(c, ERR_UNKNOWN_OPERATION, true,
                              "Unknown operation: X-Amz-Target '%.*s' (expected "
                              "SageMaker.<Operation>)",
                              (int)(t != NULL ? (tl > 100 ? 100 : tl) : 0), t != NULL ? t : "");
        else
            lr__respond_error(c, ERR_NOT_FOUND_ROUTE, false, "No operation matches %s %.*s",
                              http_method_str((enum http_method)req->method),
                              (int)(req->path_len > 200 ? 200 : req->path_len), req->path);
        break;
    }
    default:
        if (!authenticate(w, c, req, control))
            break;
        if (control)
            lr__api_control(w, c, req, req->op);
        else
            lr__api_runtime(w, c, req);
        break;
    }
    if (c->state != CONN_DEFERRED)
        lr__metrics_observe(&w->metrics, req->op == OP_NONE ? OP_UNKNOWN : req->op, c->last_status,
                            lr__mono_ns() - c->req_begin_ns);
}
