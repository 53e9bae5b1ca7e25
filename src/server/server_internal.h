/*
 * server_internal.h - what the server's files share: the server, its worker
 * threads, connections and requests, and the functions each file provides.
 *
 * Threading model: N workers, each with its own epoll loop, its own
 * SO_REUSEPORT listening socket, its own catalog handle, online reader,
 * feature-group cache, arena, scratch buffers and metrics. A connection lives
 * on one worker for its whole life, so nothing on the request path is shared
 * between threads except the online store's own write queue and an atomic
 * generation counter that invalidates the feature-group caches.
 */
#ifndef LARDER_SERVER_INTERNAL_H
#define LARDER_SERVER_INTERNAL_H

#include <http_parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/fg.h"
#include "larder/online.h"
#include "larder/record.h"
#include "larder/server.h"
#include "larder/status.h"
#include "server/routes.h"
#include "server/sigv4.h"

/* ---- operations, errors ---- */

typedef enum lr__op {
    OP_NONE = 0,
#define LR_X_OP(id, name, method, prefix, named, suffix) id,
    LR_SRV_ROUTES(LR_X_OP)
#undef LR_X_OP
#define LR_X_COP(id, name) id,
        LR_SRV_CONTROL_OPS(LR_X_COP)
#undef LR_X_COP
            OP_UNKNOWN, /* no route: counted under this name */
    OP_COUNT
} lr__op;

typedef enum lr__err {
#define LR_X_ERR(id, code, rt, cp) id,
    LR_SRV_ERRORS(LR_X_ERR)
#undef LR_X_ERR
        ERR_COUNT
} lr__err;

/* The operation's name ("GetRecord"); "Unknown" for OP_UNKNOWN. */
const char *lr__op_name(lr__op op);
/* True for the control-plane operations. */
bool lr__op_is_control(lr__op op);
/* The error's code and its HTTP status for a runtime or control-plane op. */
const char *lr__err_code(lr__err e);
int lr__err_status(lr__err e, bool control);

/* ---- requests ---- */

#define LR__MAX_HEADERS 100

typedef struct lr__span {
    uint32_t off;
    uint32_t len;
} lr__span;

typedef struct lr__hdr {
    lr__span name; /* lowercased in place */
    lr__span value;
} lr__hdr;

/* A parsed request; pointers are into the connection's input buffer. */
typedef struct lr__req {
    int method; /* enum http_method */
    const char *path;
    size_t path_len;
    const char *query; /* without '?'; "" when absent */
    size_t query_len;
    const char *body;
    size_t body_len;
    const char *hnames[LR__MAX_HEADERS];
    size_t hname_lens[LR__MAX_HEADERS];
    const char *hvalues[LR__MAX_HEADERS];
    size_t hvalue_lens[LR__MAX_HEADERS];
    uint32_t n_headers;
    bool keep_alive;
    /* routing */
    lr__op op;
    const char *fg_ref; /* the {name} segment, still percent-encoded */
    size_t fg_ref_len;
} lr__req;

/* The value of header `lname` (lowercase), or NULL; *len set. First match. */
const char *lr__req_header(const lr__req *r, const char *lname, size_t *len);

/* ---- connections ---- */

typedef enum lr__conn_state {
    CONN_READING = 0, /* reading and parsing requests */
    CONN_DEFERRED,    /* a request waits for the worker's write batch */
    CONN_LINGER,      /* response sent, write side shut, draining input */
    CONN_CLOSED,
} lr__conn_state;

typedef struct lr__worker lr__worker;

typedef struct lr__conn {
    int fd; /* -1 for a connection fed in memory (fuzzing) */
    lr__worker *w;
    lr__conn_state state;
    http_parser parser;
    lr_buf in;        /* raw input; holds the current request whole */
    size_t in_parsed; /* bytes of `in` the parser has consumed */
    size_t req_start; /* offset of the current request's first byte */
    bool in_request;  /* a request has started and not completed */
    /* parse state of the current request */
    lr__span url;
    lr__hdr hdrs[LR__MAX_HEADERS];
    uint32_t n_hdrs;
    bool last_was_value;
    uint32_t body_start; /* offset where the de-chunked body is compacted */
    uint32_t body_len;
    size_t head_bytes;
    int reject; /* lr__err + 1 when the request is refused while parsing */
    char reject_msg[160];
    bool request_done; /* on_message_complete fired */
    bool expect_continue;
    bool close_after; /* close once the output is written */
    lr_buf out;       /* output not yet written (allocated only on a short write) */
    size_t out_off;
    int64_t deadline_ms; /* idle, request, write or linger deadline */
    int64_t req_begin_ns;
    int last_status;              /* status of the last response appended */
    bool listed;                  /* on the worker's list (accepted sockets only) */
    lr__req req;                  /* the request being handled */
    struct lr__conn *prev, *next; /* the worker's list of connections */
} lr__conn;

/* ---- the write batch: PutRecord / DeleteRecord writes gathered per loop turn ---- */

typedef struct lr__pending {
    lr__conn *conn;
    lr__op op;
    const lr_fg_def *def;
    bool to_online;
    bool to_offline;
    lr_online_write write;
    lr_ttl ttl;
    lr_record record;
    int64_t invoked_us;
    lr_status st; /* the entry's outcome after the batch ran */
    lr_error err;
} lr__pending;

#define LR__BATCH_MAX 512

/* ---- feature-group cache (per worker) ---- */

typedef struct lr__fg_entry {
    char name[LR_FG_NAME_MAX + 1];
    lr_fg_def *def; /* owned */
    int64_t loaded_ms;
} lr__fg_entry;

#define LR__FG_CACHE_SLOTS 1024 /* power of two */

typedef struct lr__fg_cache {
    lr__fg_entry slots[LR__FG_CACHE_SLOTS];
    uint32_t n;
    uint64_t gen;      /* the server generation the entries belong to */
    lr_fg_def **grave; /* replaced definitions, freed at the end of the loop turn */
    uint32_t n_grave, cap_grave;
} lr__fg_cache;

/* ---- metrics (per worker; written by its thread, read by /metrics) ---- */

#define LR__STATUS_SLOTS 12
#define LR__LAT_BUCKETS  16

typedef struct lr__metrics {
    _Atomic uint64_t requests[OP_COUNT][LR__STATUS_SLOTS];
    _Atomic uint64_t lat_bucket[OP_COUNT][LR__LAT_BUCKETS];
    _Atomic uint64_t lat_sum_ns[OP_COUNT];
    _Atomic uint64_t lat_count[OP_COUNT];
    _Atomic int64_t open_connections;
    _Atomic uint64_t accepted;
    _Atomic uint64_t rejected_connections;
    _Atomic uint64_t bytes_in;
    _Atomic uint64_t bytes_out;
} lr__metrics;

/* The status codes metrics count by name; the last slot is "other". */
int lr__metrics_status_slot(int http_status);
int lr__metrics_slot_status(int slot);
/* Upper bounds of the latency buckets, in seconds (the last is +Inf). */
double lr__metrics_bucket_le(int bucket);
void lr__metrics_observe(lr__metrics *m, lr__op op, int http_status, int64_t ns);
/* Writes the Prometheus text exposition of the whole server into `out`. */
lr_status lr__metrics_render(lr__worker *w, lr_buf *out, lr_error *err);

/* ---- workers and the server ---- */

struct lr__worker {
    struct lr_server *srv;
    uint32_t index;
    pthread_t thread;
    bool started;
    int epfd;
    int listen_fd;
    int wake_fd; /* eventfd: stop requests */
    lr_catalog *cat;
    lr_online_reader *reader;
    lr_arena *arena; /* request memory, reset at the end of each loop turn */
    lr_buf scratch;  /* response bodies */
    lr_buf wout;     /* responses of the connection being served */
    /* GetRecord's per-feature JSON openings ({"FeatureName":"<name>",) for
     * the last group served: the definition they were made for, and each
     * feature's offset in frags (n_features + 1 entries). */
    const lr_fg_def *frag_def;
    int64_t frag_created_us, frag_modified_us;
    char frag_name[LR_FG_NAME_MAX + 1];
    lr_buf frags;
    uint32_t *frag_off;
    lr__fg_cache cache;
    lr__pending *batch;            /* writes gathered this turn (LR__BATCH_MAX) */
    lr__pending *running;          /* the batch being applied */
    lr_online_write *wbuf;         /* the batch's online writes, contiguous (LR__BATCH_MAX) */
    struct lr_offline_write *obuf; /* its offline rows (LR__BATCH_MAX) */
    uint32_t n_batch;
    lr__conn *closed;     /* closed this turn, recycled at its end */
    int reserve_fd;       /* spare descriptor, released to shed load on EMFILE */
    lr__conn *conns;      /* every open connection */
    lr__conn *free_conns; /* pooled connection structs */
    uint32_t n_conns;
    int64_t now_ms; /* CLOCK_MONOTONIC, refreshed every loop turn */
    bool stopping;
    lr__metrics metrics;
    lr_status failure;
    lr_error failure_err;
    /* SigV4 scratch: the canonical request (reused, capped) */
    lr_buf canon;
    lr__sigv4_cache sigcache;
};

struct lr_server {
    lr_server_config cfg;
    char host[256];
    uint16_t port;
    int family;
    lr__keyring keys;
    lr_online *online;
    struct lr_offline *offline;
    lr_catalog *cat_admin; /* used only by start/wait, never by workers */
    lr__worker *workers;
    uint32_t n_workers;
    _Atomic uint64_t fg_gen;          /* bumped on every control-plane change */
    _Atomic int64_t open_connections; /* across workers (the max_connections cap) */
    atomic_bool stop_requested;
    int64_t started_ms;
    bool waited;
    char data_dir[4096];
    char online_uri[4096];
};

/*
 * For fuzzing and in-process tests: validates cfg, opens the stores and
 * sets up cfg->threads (at least 1) workers without sockets or threads and
 * without the offline flusher. Requests are then fed with lr__conn_feed()
 * on connections made by lr__conn_init(c, worker, -1). Free with
 * lr_server_free(). Errors: as lr_server_start().
 */
lr_status lr__server_open_detached(const lr_server_config *cfg, lr_server **out, lr_error *err);
lr__worker *lr__server_worker(lr_server *s, uint32_t i);

/* Monotonic milliseconds / nanoseconds. */
int64_t lr__mono_ms(void);
int64_t lr__mono_ns(void);

/* ---- http.c ---- */

/* Sets the process-wide parser limits (once, before any worker runs). */
void lr__http_global_init(size_t max_header_bytes);
/* Registers the worker's listening socket and wake-up descriptor with its epoll set. */
lr_status lr__worker_register(lr__worker *w, lr_error *err);
/* The worker's event loop; returns when the worker has stopped. */
void *lr__worker_main(void *arg);
/* Initialises a connection struct for `fd` (-1: in memory) on worker w. */
void lr__conn_init(lr__conn *c, lr__worker *w, int fd);
/* Releases a connection's buffers (the struct itself is the caller's). */
void lr__conn_release(lr__conn *c);
/*
 * Appends input to a connection and handles every complete request in it,
 * writing responses to the socket (or dropping them for fd -1). Returns
 * false when the connection is to be closed.
 */
bool lr__conn_feed(lr__conn *c, const char *data, size_t len);
/* Runs the worker's pending write batch and answers its connections. */
void lr__worker_flush_batch(lr__worker *w);
/* Ends a loop turn: frees retired definitions and resets the arena. */
void lr__worker_end_turn(lr__worker *w);

/*
 * Appends a complete response to the worker's output for connection c:
 * status line, Content-Type (NULL: none), Content-Length, optional extra
 * header lines (each ending in CRLF), Connection: close when the connection
 * is closing, then the body.
 */
lr_status lr__respond(lr__conn *c, int status, const char *content_type, const char *extra,
                      const char *body, size_t body_len);
/* An error response: x-amzn-ErrorType and {"__type","message"}. */
void lr__respond_error(lr__conn *c, lr__err e, bool control, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- api.c / api_runtime.c / api_control.c ---- */

/* Routes a complete request (fills req->op, fg_ref). */
void lr__route(lr__req *req);
/*
 * Handles a routed request: verifies its signature, runs the operation and
 * appends the response, or queues a write in the worker's batch and sets the
 * connection to CONN_DEFERRED. Records metrics for answered requests.
 */
void lr__api_handle(lr__worker *w, lr__conn *c, lr__req *req);
/* Applies the writes of ps[0..n) (online, then offline). */
void lr__api_run_batch(lr__worker *w, lr__pending *ps, uint32_t n);
/* Called for each batch entry after the batch ran: appends its response. */
void lr__api_finish_pending(lr__worker *w, lr__pending *p);

void lr__api_runtime(lr__worker *w, lr__conn *c, lr__req *req);
void lr__api_control(lr__worker *w, lr__conn *c, lr__req *req, lr__op op);
/* GET /v1/jobs and GET /v1/jobs/ID (api_jobs.c). */
void lr__api_jobs(lr__worker *w, lr__conn *c, lr__req *req);
/* Maps a library status to an API error. */
lr__err lr__err_from_status(lr_status st, bool control);

/* The group's definition from the worker's cache (loading it on a miss).
 * The pointer stays valid until the end of the loop turn. */
lr_status lr__fg_lookup(lr__worker *w, const char *name, size_t len, const lr_fg_def **out,
                        lr_error *err);
/* Marks every worker's cache stale (after a control-plane change). */
void lr__fg_invalidate(struct lr_server *s);
void lr__fg_cache_free(lr__fg_cache *c);
void lr__fg_cache_end_turn(lr__fg_cache *c);

/* Percent-decodes s[0..n) into the arena ('+' stays '+'); NULL on OOM or a bad escape. */
char *lr__pct_decode(lr_arena *a, const char *s, size_t n, size_t *out_len, bool *bad);

#endif
