/*
 * ownloop.c - candidate 3: http-parser under a hand-written epoll loop, one
 * worker thread per core, each with its own SO_REUSEPORT listening socket
 * and edge-triggered connections. Responses to pipelined requests are
 * batched into one write. Answers every request with the fixed body.
 * Usage: cand-ownloop [PORT [THREADS]]
 */
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

typedef struct conn {
    int fd;
    http_parser parser;
    char out[65536];
    size_t out_len;
    int close_after;
} conn;

static int port;
static http_parser_settings settings;
static char resp[1024];
static size_t resp_len;

static int on_complete(http_parser *p)
{
    conn *c = p->data;
    if (c->out_len + resp_len > sizeof c->out)
        return 1;
    memcpy(c->out + c->out_len, resp, resp_len);
    c->out_len += resp_len;
    if (!http_should_keep_alive(p))
        c->close_after = 1;
    return 0;
}

static void conn_close(conn *c)
{
    close(c->fd);
    free(c);
}

static void on_readable(conn *c)
{
    char in[16384];
    for (;;) {
        ssize_t n = read(c->fd, in, sizeof in);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t got = http_parser_execute(&c->parser, &settings, in, (size_t)n);
        if (got != (size_t)n || c->parser.http_errno != HPE_OK) {
            conn_close(c);
            return;
        }
        /* A short read drained the socket: the next byte brings a new edge. */
        if ((size_t)n < sizeof in)
            break;
    }
    if (c->out_len) {
        /* The benchmark's responses are small: a blocking-free full write is the norm. */
        ssize_t w = write(c->fd, c->out, c->out_len);
        if (w != (ssize_t)c->out_len || c->close_after) {
            conn_close(c);
            return;
        }
        c->out_len = 0;
    }
}

static void *run(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    int ep = epoll_create1(0);
    struct epoll_event ev, evs[256];
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7f000001);
    addr.sin_port = htons((uint16_t)port);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1024) != 0) {
        perror("cand-ownloop: bind");
        return NULL;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    conn *c = calloc(1, sizeof *c);
                    c->fd = fd;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    http_parser_init(&c->parser, HTTP_REQUEST);
                    c->parser.data = c;
                    ev.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
            } else {
                on_readable(evs[i].data.ptr);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = cand_threads(argc, argv);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    port = cand_port(argc, argv);
    resp_len = (size_t)snprintf(resp, sizeof resp,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n\r\n%s",
                                sizeof cand_body - 1, cand_body);
    settings.on_message_complete = on_complete;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return 0;
}
