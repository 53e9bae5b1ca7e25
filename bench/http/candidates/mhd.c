/*
 * mhd.c - candidate 1: libmicrohttpd, epoll, internal thread pool (one thread
 * per core), answering every request with the fixed GetRecord-shaped body.
 * Usage: cand-mhd [PORT [THREADS]]
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static struct MHD_Response *resp;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data; (void)upload_size;
    (void)state;
    return MHD_queue_response(c, MHD_HTTP_OK, resp);
}

int main(int argc, char **argv)
{
    int port = cand_port(argc, argv), threads = cand_threads(argc, argv);
    sigset_t set;
    int sig;

    resp = MHD_create_response_from_buffer(sizeof cand_body - 1, (void *)cand_body,
                                           MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL,
        NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "cand-mhd: cannot start on port %d\n", port);
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(resp);
    return 0;
}
