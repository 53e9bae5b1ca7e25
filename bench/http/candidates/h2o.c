/*
 * h2o.c - candidate 2: libh2o (evloop flavour), one event loop per thread,
 * each thread with its own SO_REUSEPORT listening socket, answering every
 * request with the fixed GetRecord-shaped body.
 * Usage: cand-h2o [PORT [THREADS]]
 */
#include <h2o.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"

static h2o_globalconf_t config;
static int port;

typedef struct worker {
    pthread_t tid;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
} worker;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_send_inline(req, cand_body, sizeof cand_body - 1);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    worker *w = listener->data;
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&w->accept_ctx, sock);
}

static void *run(void *arg)
{
    worker *w = arg;
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7f000001);
    addr.sin_port = htons((uint16_t)port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0) {
        perror("cand-h2o: bind");
        return NULL;
    }
    h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = config.hosts;
    h2o_socket_t *ls = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    ls->data = w;
    h2o_socket_read_start(ls, on_accept);
    while (h2o_evloop_run(w->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = cand_threads(argc, argv);
    worker *ws = calloc((size_t)threads, sizeof *ws);
    port = cand_port(argc, argv);
    h2o_config_init(&config);
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_req;
    for (int i = 0; i < threads; i++)
        pthread_create(&ws[i].tid, NULL, run, &ws[i]);
    for (int i = 0; i < threads; i++)
        pthread_join(ws[i].tid, NULL);
    return 0;
}
