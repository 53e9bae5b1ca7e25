/*
 * http.c - the server's HTTP/1.1 layer: one epoll loop per worker thread,
 * http-parser for requests, keep-alive and pipelining, chunked bodies,
 * limits on the header section and the body, timeouts for idle, slow and
 * non-reading clients, a cap on connections, and the graceful stop.
 *
 * Buffering: a connection reads into one input buffer that holds the
 * current request whole. The parser's callbacks record offsets (URL,
 * header names and values) into that buffer instead of copying, header
 * names are lowercased in place, and a chunked body is compacted in place
 * (each decoded piece is moved down behind the previous one: decoded data
 * is never longer than its encoding). Only when a request is complete is
 * the buffer compacted. Responses are built in the worker's output buffer
 * and written straight to the socket; a connection gets its own output
 * buffer only when the kernel does not take a response whole. So on the
 * steady keep-alive path nothing is allocated per request.
 *
 * Not here: routing, signatures and the operations (api*.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "larder/log.h"
#include "server/server_internal.h"

#define IN_CHUNK   16384      /* bytes read per read() */
#define IN_KEEP    65536      /* input buffers larger than this are freed when idle */
#define OUT_KEEP   262144     /* connection output buffers larger than this are freed */
#define LINGER_MS  2000       /* draining input after a closing response */
#define LINGER_MAX (1u << 20) /* most bytes drained before giving up */
#define SCAN_MS    250        /* how often deadlines are checked */
#define MAX_EVENTS 256

static http_parser_settings parser_settings;
static size_t g_max_header;

int64_t lr__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lr__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static lr__conn *conn_of(http_parser *p)
{
    return (lr__conn *)p->data;
}

static uint32_t off_of(lr__conn *c, const char *at)
{
    return (uint32_t)(at - c->in.data);
}

static int reject(lr__conn *c, lr__err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reject(lr__conn *c, lr__err e, const char *fmt, ...)
{
    va_list ap;
    if (c->reject == 0) {
        c->reject = (int)e + 1;
        va_start(ap, fmt);
        vsnprintf(c->reject_msg, sizeof c->reject_msg, fmt, ap);
        va_end(ap);
    }
    return 1;
}

static int head_add(lr__conn *c, size_t len)
{
    const lr_server_config *cfg = &c->w->srv->cfg;
    c->head_bytes += len;
    if (c->head_bytes > cfg->max_header_bytes)
        return reject(c, ERR_HEADERS_TOO_LARGE,
                      "The request line and headers exceed Larder's limit of %zu bytes "
                      "(--max-header-bytes)",
                      cfg->max_header_bytes);
    return 0;
}

static int on_message_begin(http_parser *p)
{
    lr__conn *c = conn_of(p);
    c->in_request = true;
    c->url.off = c->url.len = 0;
    c->n_hdrs = 0;
    c->last_was_value = true;
    c->body_start = UINT32_MAX;
    c->body_len = 0;
    c->head_bytes = 0;
    c->reject = 0;
    c->request_done = false;
    c->expect_continue = false;
    if (c->w->srv->cfg.request_timeout_ms > 0)
        c->deadline_ms = c->w->now_ms + c->w->srv->cfg.request_timeout_ms;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    lr__conn *c = conn_of(p);
    if (c->url.len == 0)
        c->url.off = off_of(c, at);
    c->url.len += (uint32_t)len;
    return head_add(c, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    lr__conn *c = conn_of(p);
    char *s = (char *)at; /* our own buffer: lowercase in place */
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    }
    if (c->last_was_value) {
        if (c->n_hdrs == LR__MAX_HEADERS)
            return reject(c, ERR_HEADERS_TOO_LARGE, "The request has more than %d headers",
                          LR__MAX_HEADERS);
        c->hdrs[c->n_hdrs].name.off = off_of(c, at);
        c->hdrs[c->n_hdrs].name.len = (uint32_t)len;
        c->hdrs[c->n_hdrs].value.off = 0;
        c->hdrs[c->n_hdrs].value.len = 0;
        c->n_hdrs++;
        c->last_was_value = false;
    } else {
        c->hdrs[c->n_hdrs - 1].name.len += (uint32_t)len;
    }
    return head_add(c, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    lr__conn *c = conn_of(p);
    lr__hdr *h;
    if (c->n_hdrs == 0)
        return 1;
    h = &c->hdrs[c->n_hdrs - 1];
    if (!c->last_was_value) {
        h->value.off = off_of(c, at);
        h->value.len = (uint32_t)len;
        c->last_was_value = true;
    } else {
        h->value.len += (uint32_t)len;
    }
    return head_add(c, len);
}

static int on_headers_complete(http_parser *p)
{
    lr__conn *c = conn_of(p);
    const lr_server_config *cfg = &c->w->srv->cfg;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > cfg->max_body_bytes) {
        reject(c, ERR_TOO_LARGE,
               "The request body of %llu bytes exceeds Larder's limit of %zu bytes "
               "(--max-body-bytes)",
               (unsigned long long)p->content_length, cfg->max_body_bytes);
        return 3; /* any value but 0, 1, 2 stops the parser */
    }
    for (uint32_t i = 0; i < c->n_hdrs; i++) {
        const lr__hdr *h = &c->hdrs[i];
        if (h->name.len == 6 && memcmp(c->in.data + h->name.off, "expect", 6) == 0 &&
            h->value.len == 12 && strncasecmp(c->in.data + h->value.off, "100-continue", 12) == 0)
            c->expect_continue = true;
    }
    if (c->expect_continue && c->fd >= 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        /* Best effort: a client that waits for it resends after its own timeout. */
        ssize_t wr = write(c->fd, cont, sizeof cont - 1);
        (void)wr;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    lr__conn *c = conn_of(p);
    const lr_server_config *cfg = &c->w->srv->cfg;
    uint32_t off = off_of(c, at);
    if ((size_t)c->body_len + len > cfg->max_body_bytes)
        return reject(c, ERR_TOO_LARGE,
                      "The request body exceeds Larder's limit of %zu bytes (--max-body-bytes)",
                      cfg->max_body_bytes);
    if (c->body_start == UINT32_MAX)
        c->body_start = off;
    if (c->body_start + c->body_len != off)
        memmove(c->in.data + c->body_start + c->body_len, at, len);
    c->body_len += (uint32_t)len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    lr__conn *c = conn_of(p);
    c->request_done = true;
    http_parser_pause(p, 1);
    return 0;
}

void lr__http_global_init(size_t max_header_bytes)
{
    memset(&parser_settings, 0, sizeof parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_url = on_url;
    parser_settings.on_header_field = on_header_field;
    parser_settings.on_header_value = on_header_value;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;
    /* The parser's own cap counts separators too; ours (on the content) decides. */
    if (max_header_bytes > g_max_header) {
        size_t lim = max_header_bytes * 2 + 65536;
        http_parser_set_max_header_size(lim > UINT32_MAX ? UINT32_MAX : (uint32_t)lim);
        g_max_header = max_header_bytes;
    }
}

const char *lr__req_header(const lr__req *r, const char *lname, size_t *len)
{
    size_t nl = strlen(lname);
    for (uint32_t i = 0; i < r->n_headers; i++) {
        if (r->hname_lens[i] == nl && memcmp(r->hnames[i], lname, nl) == 0) {
            *len = r->hvalue_lens[i];
            return r->hvalues[i];
        }
    }
    return NULL;
}

void lr__conn_init(lr__conn *c, lr__worker *w, int fd)
{
    lr_buf in = c->in, out = c->out; /* pooled structs keep small buffers */
    memset(c, 0, sizeof *c);
    c->in = in;
    c->out = out;
    lr_buf_clear(&c->in);
    lr_buf_clear(&c->out);
    c->in.max = w->srv->cfg.max_header_bytes + w->srv->cfg.max_body_bytes + 4 * IN_CHUNK;
    c->out.max = 0;
    c->fd = fd;
    c->w = w;
    c->state = CONN_READING;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->deadline_ms = w->now_ms + w->srv->cfg.idle_timeout_ms;
}

void lr__conn_release(lr__conn *c)
{
    lr_buf_free(&c->in);
    lr_buf_free(&c->out);
}

/* ---- responses ---- */

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static bool conn_closing(const lr__conn *c)
{
    return c->close_after || c->w->stopping;
}

/* Appends the decimal form of v. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

lr_status lr__respond(lr__conn *c, int status, const char *content_type, const char *extra,
                      const char *body, size_t body_len)
{
    lr_buf *o = &c->w->wout;
    size_t head_max = 160 + (content_type != NULL ? strlen(content_type) : 0) +
                      (extra != NULL ? strlen(extra) : 0);
    lr_status st;
    char *p;
    if (!c->req.keep_alive || c->w->stopping)
        c->close_after = true;
    c->last_status = status;
    /* Formatted by hand: this runs once per request, printf would dominate it. */
    st = lr_buf_reserve(o, head_max + body_len);
    if (st == LR_OK) {
        p = o->data + o->len;
        p = put_str(p, "HTTP/1.1 ");
        p = put_u64(p, (uint64_t)status);
        *p++ = ' ';
        p = put_str(p, reason(status));
        p = put_str(p, "\r\nServer: larder\r\n");
        if (content_type != NULL) {
            p = put_str(p, "Content-Type: ");
            p = put_str(p, content_type);
            p = put_str(p, "\r\n");
        }
        p = put_str(p, "Content-Length: ");
        p = put_u64(p, body_len);
        p = put_str(p, "\r\n");
        if (extra != NULL)
            p = put_str(p, extra);
        if (conn_closing(c))
            p = put_str(p, "Connection: close\r\n");
        p = put_str(p, "\r\n");
        if (body_len > 0)
            memcpy(p, body, body_len);
        p += body_len;
        o->len = (size_t)(p - o->data);
        o->data[o->len] = '\0';
        return LR_OK;
    }
    {
        /* A response too large for the output cap: say so instead. */
        static const char fail[] =
            "HTTP/1.1 500 Internal Server Error\r\nServer: larder\r\n"
            "x-amzn-ErrorType: InternalFailure\r\nContent-Type: application/json\r\n"
            "Content-Length: 66\r\nConnection: close\r\n\r\n"
            "{\"__type\":\"InternalFailure\",\"message\":\"response too large or OOM\"}";
        c->close_after = true;
        c->last_status = 500;
        lr_buf_append(o, fail, sizeof fail - 1);
    }
    return st;
}

void lr__respond_error(lr__conn *c, lr__err e, bool control, const char *fmt, ...)
{
    char msg[1024], extra[128];
    lr_buf *body = &c->w->scratch;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lr_buf_clear(body);
    snprintf(extra, sizeof extra, "x-amzn-ErrorType: %s\r\n", lr__err_code(e));
    if (lr_buf_printf(body, "{\"__type\":\"%s\",\"message\":", lr__err_code(e)) != LR_OK ||
        lr_buf_append_json_str(body, msg, strlen(msg)) != LR_OK ||
        lr_buf_append_byte(body, '}') != LR_OK) {
        lr_buf_clear(body);
        lr_buf_printf(body, "{\"__type\":\"%s\"}", lr__err_code(e));
    }
    lr__respond(c, lr__err_status(e, control),
                control ? "application/x-amz-json-1.1" : "application/json", extra, body->data,
                body->len);
}

/* ---- connection I/O ---- */

static void conn_close(lr__conn *c)
{
    lr__worker *w = c->w;
    if (c->state == CONN_CLOSED)
        return;
    c->state = CONN_CLOSED;
    if (!c->listed)
        return; /* fed in memory: the caller owns the struct */
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        atomic_fetch_sub_explicit(&w->srv->open_connections, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&w->metrics.open_connections, 1, memory_order_relaxed);
    }
    /* unlink from the open list; recycled at the end of the turn */
    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (w->conns == c)
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    w->n_conns--;
    c->prev = NULL;
    c->next = w->closed;
    w->closed = c;
}

static void begin_linger(lr__conn *c)
{
    if (c->fd < 0) {
        conn_close(c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->out_off = 0; /* counts drained bytes from here on */
    c->deadline_ms = c->w->now_ms + LINGER_MS;
}

/* Writes pending output. Returns false when the connection was closed. */
static bool conn_write_pending(lr__conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            atomic_fetch_add_explicit(&c->w->metrics.bytes_out, (uint64_t)n, memory_order_relaxed);
            c->deadline_ms = c->w->now_ms + c->w->srv->cfg.write_timeout_ms;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        conn_close(c);
        return false;
    }
    lr_buf_clear(&c->out);
    c->out_off = 0;
    if (c->out.cap > OUT_KEEP)
        lr_buf_free(&c->out);
    return true;
}

static bool out_pending(const lr__conn *c)
{
    return c->out.len > c->out_off;
}

/* Sends the worker's output for c. Returns false when c was closed. */
static bool conn_flush(lr__conn *c)
{
    lr__worker *w = c->w;
    if (c->fd < 0) {
        lr_buf_clear(&w->wout);
        if (c->close_after && c->state == CONN_READING)
            conn_close(c);
        return c->state != CONN_CLOSED;
    }
    if (w->wout.len > 0) {
        size_t off = 0;
        if (!out_pending(c)) {
            while (off < w->wout.len) {
                ssize_t n = write(c->fd, w->wout.data + off, w->wout.len - off);
                if (n > 0) {
                    off += (size_t)n;
                    continue;
                }
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                lr_buf_clear(&w->wout);
                conn_close(c);
                return false;
            }
            atomic_fetch_add_explicit(&w->metrics.bytes_out, off, memory_order_relaxed);
        }
        if (off < w->wout.len) {
            if (lr_buf_append(&c->out, w->wout.data + off, w->wout.len - off) != LR_OK) {
                lr_buf_clear(&w->wout);
                conn_close(c);
                return false;
            }
            c->deadline_ms = w->now_ms + w->srv->cfg.write_timeout_ms;
        }
        lr_buf_clear(&w->wout);
    }
    if (out_pending(c) && !conn_write_pending(c))
        return false;
    if (!out_pending(c) && c->close_after && c->state == CONN_READING)
        begin_linger(c);
    return c->state != CONN_CLOSED;
}

/* Builds c->req from the parse state. */
static void build_req(lr__conn *c)
{
    lr__req *r = &c->req;
    const char *url = c->in.data + c->url.off, *q;
    size_t ulen = c->url.len;
    memset(r, 0, offsetof(lr__req, hnames));
    r->method = (int)c->parser.method;
    r->keep_alive = http_should_keep_alive(&c->parser) != 0;
    q = memchr(url, '?', ulen);
    r->path = url;
    r->path_len = q != NULL ? (size_t)(q - url) : ulen;
    /* An absolute-form target (http://host/path) is reduced to its path. */
    if (r->path_len > 7 && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)) {
        const char *sl = memchr(url + 8, '/', r->path_len - 8);
        if (sl != NULL) {
            r->path_len -= (size_t)(sl - url);
            r->path = sl;
        }
    }
    r->query = q != NULL ? q + 1 : "";
    r->query_len = q != NULL ? ulen - (size_t)(q + 1 - url) : 0;
    r->body = c->body_start != UINT32_MAX ? c->in.data + c->body_start : "";
    r->body_len = c->body_len;
    r->n_headers = c->n_hdrs;
    for (uint32_t i = 0; i < c->n_hdrs; i++) {
        r->hnames[i] = c->in.data + c->hdrs[i].name.off;
        r->hname_lens[i] = c->hdrs[i].name.len;
        r->hvalues[i] = c->in.data + c->hdrs[i].value.off;
        r->hvalue_lens[i] = c->hdrs[i].value.len;
    }
    r->op = OP_NONE;
}

/* After a request is answered: drop its bytes from the input buffer. */
static void finish_request(lr__conn *c)
{
    size_t rest = c->in.len - c->in_parsed;
    if (rest > 0 && c->in_parsed > 0)
        memmove(c->in.data, c->in.data + c->in_parsed, rest);
    c->in.len = rest;
    if (c->in.data != NULL)
        c->in.data[rest] = '\0';
    c->in_parsed = 0;
    c->in_request = false;
    c->request_done = false;
    if (rest == 0 && c->in.cap > IN_KEEP)
        lr_buf_free(&c->in);
    c->deadline_ms = c->w->now_ms + c->w->srv->cfg.idle_timeout_ms;
}

/*
 * Parses and handles every complete request buffered on c, unless the
 * connection is deferred, closing, or has output the client has not taken.
 * Returns false when c was closed.
 */
static bool conn_process(lr__conn *c)
{
    while (c->state == CONN_READING && !out_pending(c) && !c->close_after &&
           c->in_parsed < c->in.len) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in.data + c->in_parsed,
                                       c->in.len - c->in_parsed);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        c->in_parsed += n;
        if (c->request_done && e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            build_req(c);
            lr__api_handle(c->w, c, &c->req);
            if (c->state == CONN_DEFERRED)
                return true;
            finish_request(c);
            if (!conn_flush(c))
                return false;
            continue;
        }
        if (e != HPE_OK) {
            /* A request that cannot be parsed: answer, then close. */
            c->close_after = true;
            c->req.keep_alive = false;
            if (c->reject != 0)
                lr__respond_error(c, (lr__err)(c->reject - 1), false, "%s", c->reject_msg);
            else if (e == HPE_HEADER_OVERFLOW)
                lr__respond_error(c, ERR_HEADERS_TOO_LARGE, false,
                                  "The request line and headers exceed Larder's limit of %zu "
                                  "bytes (--max-header-bytes)",
                                  c->w->srv->cfg.max_header_bytes);
            else
                lr__respond_error(c, ERR_BAD_REQUEST, false, "Malformed HTTP request: %s",
                                  http_errno_description(e));
            lr__metrics_observe(
                &c->w->metrics, OP_UNKNOWN,
                c->reject != 0 ? lr__err_status((lr__err)(c->reject - 1), false) : 400, 0);
            c->in_parsed = c->in.len;
            return conn_flush(c);
        }
        break; /* needs more input */
    }
    return c->state != CONN_CLOSED;
}

/* Reads what the socket has and processes it. Returns false when c was closed. */
static bool conn_read(lr__conn *c)
{
    for (;;) {
        size_t space;
        ssize_t n;
        if (c->state == CONN_LINGER) {
            char sink[4096];
            n = read(c->fd, sink, sizeof sink);
            if (n > 0) {
                c->out_off += (size_t)n;
                if (c->out_off > LINGER_MAX) {
                    conn_close(c);
                    return false;
                }
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return true;
            conn_close(c);
            return false;
        }
        if (c->state != CONN_READING || out_pending(c) || c->close_after)
            return true;
        if (c->in.cap - c->in.len < IN_CHUNK / 4) {
            lr_status st = lr_buf_reserve(&c->in, c->in.cap == 0 ? 4096 : IN_CHUNK);
            if (st != LR_OK) {
                c->close_after = true;
                lr__respond_error(c, st == LR_ELIMIT ? ERR_TOO_LARGE : ERR_INTERNAL, false, "%s",
                                  st == LR_ELIMIT ? "The request is too large"
                                                  : "Out of memory reading the request");
                return conn_flush(c);
            }
        }
        space = c->in.cap - c->in.len;
        n = read(c->fd, c->in.data + c->in.len, space);
        if (n > 0) {
            c->in.len += (size_t)n;
            c->in.data[c->in.len] = '\0';
            atomic_fetch_add_explicit(&c->w->metrics.bytes_in, (uint64_t)n, memory_order_relaxed);
            if (!conn_process(c))
                return false;
            if ((size_t)n < space)
                return true; /* drained: the next byte brings a new edge */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        /* EOF or error: nothing more will come (a half-sent request is dropped). */
        conn_close(c);
        return false;
    }
}

bool lr__conn_feed(lr__conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state == CONN_READING && !c->close_after) {
        size_t take;
        if (c->in.cap == c->in.len && lr_buf_reserve(&c->in, IN_CHUNK) != LR_OK)
            return false;
        take = c->in.cap - c->in.len;
        if (take > len)
            take = len;
        memcpy(c->in.data + c->in.len, data, take);
        c->in.len += take;
        c->in.data[c->in.len] = '\0';
        data += take;
        len -= take;
        if (!conn_process(c))
            return false;
        while (c->state == CONN_DEFERRED)
            lr__worker_flush_batch(c->w);
    }
    return c->state == CONN_READING && !c->close_after;
}

/* ---- the write batch ---- */

void lr__worker_flush_batch(lr__worker *w)
{
    for (int round = 0; round < 64 && w->n_batch > 0; round++) {
        lr__pending *run = w->batch;
        uint32_t n = w->n_batch;
        w->batch = w->running;
        w->running = run;
        w->n_batch = 0;
        lr__api_run_batch(w, run, n);
        for (uint32_t i = 0; i < n; i++) {
            lr__conn *c = run[i].conn;
            lr__api_finish_pending(w, &run[i]);
            c->state = CONN_READING;
            finish_request(c);
            if (conn_flush(c) && conn_process(c) && c->fd >= 0)
                conn_read(c);
        }
    }
}

void lr__worker_end_turn(lr__worker *w)
{
    lr__fg_cache_end_turn(&w->cache);
    lr_arena_reset(w->arena);
    while (w->closed != NULL) {
        lr__conn *c = w->closed;
        w->closed = c->next;
        if (c->in.cap > IN_KEEP)
            lr_buf_free(&c->in);
        if (c->out.cap > 0)
            lr_buf_free(&c->out);
        c->next = w->free_conns;
        w->free_conns = c;
    }
}

/* ---- accepting ---- */

static void refuse(int fd)
{
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nServer: larder\r\n"
        "x-amzn-ErrorType: ServiceUnavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: 79\r\nConnection: close\r\n\r\n"
        "{\"__type\":\"ServiceUnavailable\",\"message\":\"Too many connections; retry later.\"}";
    ssize_t n = write(fd, busy, sizeof busy - 1);
    (void)n;
    close(fd);
}

static void do_accept(lr__worker *w)
{
    lr_server *s = w->srv;
    for (int i = 0; i < 256; i++) {
        int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        lr__conn *c;
        struct epoll_event ev;
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && w->reserve_fd >= 0) {
                /* Out of descriptors: accept one with the spare and refuse it,
                 * so the backlog drains instead of spinning. */
                close(w->reserve_fd);
                fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0)
                    refuse(fd);
                w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                atomic_fetch_add_explicit(&w->metrics.rejected_connections, 1,
                                          memory_order_relaxed);
                lr_log_warn("server", "out of file descriptors: refusing connections");
            }
            return;
        }
        atomic_fetch_add_explicit(&w->metrics.accepted, 1, memory_order_relaxed);
        if (atomic_load_explicit(&s->open_connections, memory_order_relaxed) >=
            (int64_t)s->cfg.max_connections) {
            atomic_fetch_add_explicit(&w->metrics.rejected_connections, 1, memory_order_relaxed);
            refuse(fd);
            continue;
        }
        c = w->free_conns;
        if (c != NULL) {
            w->free_conns = c->next;
        } else if ((c = calloc(1, sizeof *c)) == NULL) {
            refuse(fd);
            continue;
        }
        lr__conn_init(c, w, fd);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            c->next = w->free_conns;
            w->free_conns = c;
            continue;
        }
        atomic_fetch_add_explicit(&s->open_connections, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->metrics.open_connections, 1, memory_order_relaxed);
        c->listed = true;
        c->next = w->conns;
        if (w->conns != NULL)
            w->conns->prev = c;
        w->conns = c;
        w->n_conns++;
    }
}

/* ---- deadlines and stopping ---- */

static void check_deadlines(lr__worker *w)
{
    lr__conn *c = w->conns, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (c->state == CONN_DEFERRED || c->deadline_ms == 0 || w->now_ms < c->deadline_ms)
            continue;
        if (c->state == CONN_READING && !out_pending(c) && c->in_request && !c->close_after) {
            /* A request that did not arrive in time (slow client). */
            c->close_after = true;
            c->req.keep_alive = false;
            lr__respond_error(c, ERR_REQUEST_TIMEOUT, false,
                              "The request was not received within %u ms",
                              w->srv->cfg.request_timeout_ms);
            lr__metrics_observe(&w->metrics, OP_UNKNOWN, 408, 0);
            if (conn_flush(c) && c->state == CONN_LINGER)
                continue;
        }
        conn_close(c);
    }
}

static void begin_stop(lr__worker *w)
{
    lr__conn *c, *next;
    w->stopping = true;
    if (w->listen_fd >= 0) {
        close(w->listen_fd);
        w->listen_fd = -1;
    }
    /* Idle connections go now; busy ones finish their request, then close. */
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == CONN_READING && !c->in_request && !out_pending(c) &&
            c->in.len == c->in_parsed)
            conn_close(c);
    }
}

static const int listen_marker = 0, wake_marker = 0;

void *lr__worker_main(void *arg)
{
    lr__worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    int64_t next_scan = 0, grace_end = 0;

    w->now_ms = lr__mono_ms();
    for (;;) {
        int n, timeout = w->n_batch > 0 ? 0 : (w->stopping ? 50 : SCAN_MS);
        if (w->stopping && w->n_conns == 0 && w->n_batch == 0)
            break;
        n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
        w->now_ms = lr__mono_ms();
        if (n < 0 && errno != EINTR) {
            lr_error_set(&w->failure_err, LR_EIO, "epoll_wait: %s", strerror(errno));
            w->failure = LR_EIO;
            break;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            lr__conn *c;
            if (p == &listen_marker) {
                if (!w->stopping)
                    do_accept(w);
                continue;
            }
            if (p == &wake_marker) {
                uint64_t v;
                ssize_t r = read(w->wake_fd, &v, sizeof v);
                (void)r;
                if (!w->stopping) {
                    begin_stop(w);
                    grace_end = w->now_ms + w->srv->cfg.shutdown_grace_ms;
                }
                continue;
            }
            c = p;
            if (c->state == CONN_CLOSED || c->state == CONN_DEFERRED)
                continue;
            if ((e & EPOLLOUT) && out_pending(c)) {
                if (!conn_write_pending(c))
                    continue;
                if (!out_pending(c)) {
                    if (c->close_after && c->state == CONN_READING) {
                        begin_linger(c);
                    } else if (!conn_process(c)) {
                        continue;
                    }
                    /* input that arrived while we were blocked on output */
                    if (c->state != CONN_CLOSED && !conn_read(c))
                        continue;
                }
            }
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                if (!conn_read(c))
                    continue;
                if ((e & EPOLLERR) && c->state != CONN_DEFERRED)
                    conn_close(c);
            }
        }
        lr__worker_flush_batch(w);
        lr__worker_end_turn(w);
        if (w->now_ms >= next_scan) {
            check_deadlines(w);
            next_scan = w->now_ms + SCAN_MS;
            lr__worker_end_turn(w);
        }
        if (w->stopping) {
            /* Connections that finished their request close once answered. */
            lr__conn *c, *next;
            for (c = w->conns; c != NULL; c = next) {
                next = c->next;
                if (c->state == CONN_READING && !c->in_request && !out_pending(c) &&
                    c->in.len == c->in_parsed)
                    conn_close(c);
            }
            if (w->now_ms >= grace_end) {
                for (c = w->conns; c != NULL; c = next) {
                    next = c->next;
                    if (c->state != CONN_DEFERRED)
                        conn_close(c);
                }
            }
            lr__worker_end_turn(w);
        }
    }
    /* Whatever is left (a stop with errors) is closed here. */
    while (w->conns != NULL)
        conn_close(w->conns);
    lr__worker_end_turn(w);
    return NULL;
}

lr_status lr__worker_register(lr__worker *w, lr_error *err)
{
    struct epoll_event ev;
    ev.events = EPOLLIN; /* level-triggered: accept() runs in bounded slices */
    ev.data.ptr = (void *)&listen_marker;
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fd, &ev) != 0)
        return lr_error_set(err, LR_EIO, "epoll_ctl: %s", strerror(errno));
    ev.events = EPOLLIN;
    ev.data.ptr = (void *)&wake_marker;
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev) != 0)
        return lr_error_set(err, LR_EIO, "epoll_ctl: %s", strerror(errno));
    return LR_OK;
}
