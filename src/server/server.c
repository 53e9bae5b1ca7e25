/*
 * server.c - the server's life: configuration checks, keys and protected
 * mode, binding, opening the stores, starting the workers, and the
 * graceful stop (workers drain, then the offline log is flushed and the
 * stores are closed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "larder/log.h"
#include "larder/offline.h"
#include "server/server_internal.h"

#define THREADS_MAX 256
#define ARENA_BLOCK (256u * 1024)
#define SCRATCH_MAX (256u * 1024 * 1024) /* the largest response body */
#define CANON_MAX   (64u * 1024 * 1024)

void lr_server_config_init(lr_server_config *cfg)
{
    lr_error err;
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->use_env_credentials = true;
    cfg->max_connections = 10000;
    cfg->max_header_bytes = 256 * 1024;
    cfg->max_body_bytes = 8 * 1024 * 1024;
    cfg->idle_timeout_ms = 60000;
    cfg->request_timeout_ms = 30000;
    cfg->write_timeout_ms = 30000;
    cfg->shutdown_grace_ms = 10000;
    cfg->clock_skew_s = 900;
    if (lr_settings_from_env(&cfg->settings, &err) != LR_OK) {
        snprintf(cfg->settings.region, sizeof cfg->settings.region, "us-east-1");
        snprintf(cfg->settings.account, sizeof cfg->settings.account, "000000000000");
    }
}

/* Splits "host:port" / "[v6]:port". */
static lr_status split_listen(const char *s, char *host, size_t hcap, uint16_t *port, lr_error *err)
{
    const char *colon;
    char *end;
    unsigned long p;
    size_t hl;
    if (s == NULL || *s == '\0')
        return lr_error_set(err, LR_EINVAL, "--listen: empty address (expected HOST:PORT)");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return lr_error_set(err, LR_EINVAL, "--listen %s: expected [IPv6]:PORT", s);
        hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= hcap)
            return lr_error_set(err, LR_EINVAL, "--listen %s: bad host", s);
        memcpy(host, s + 1, hl);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return lr_error_set(err, LR_EINVAL, "--listen %s: expected HOST:PORT", s);
        hl = (size_t)(colon - s);
        if (hl == 0 || hl >= hcap)
            return lr_error_set(err, LR_EINVAL, "--listen %s: bad host", s);
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535)
        return lr_error_set(err, LR_EINVAL, "--listen %s: port must be 0..65535", s);
    *port = (uint16_t)p;
    return LR_OK;
}

static bool is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

static int bind_socket(const struct sockaddr_storage *addr, socklen_t alen, bool reuseport,
                       lr_error *err)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) {
        lr_error_set(err, LR_EIO, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, alen) != 0) {
        lr_error_set(err, LR_EIO, "cannot bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (reuseport && listen(fd, 4096) != 0) {
        lr_error_set(err, LR_EIO, "listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static lr_status check_config(const lr_server_config *c, lr_error *err)
{
    if (c->data_dir == NULL || c->data_dir[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "a data directory is required");
    if (c->threads > THREADS_MAX)
        return lr_error_set(err, LR_EINVAL, "--threads must be 0..%d", THREADS_MAX);
    if (c->max_connections < 1 || c->max_connections > 1000000)
        return lr_error_set(err, LR_EINVAL, "--max-connections must be 1..1000000");
    if (c->max_header_bytes < 1024 || c->max_header_bytes > 16u * 1024 * 1024)
        return lr_error_set(err, LR_EINVAL, "--max-header-bytes must be 1024..16777216");
    if (c->max_body_bytes < 1024 || c->max_body_bytes > 1024u * 1024 * 1024)
        return lr_error_set(err, LR_EINVAL, "--max-body-bytes must be 1024..1073741824");
    if (c->idle_timeout_ms < 1 || c->request_timeout_ms < 1 || c->write_timeout_ms < 1)
        return lr_error_set(err, LR_EINVAL, "timeouts must be at least 1 ms");
    if (c->online_durability != LR_ONLINE_SYNC && c->online_durability != LR_ONLINE_NOMETASYNC &&
        c->online_durability != LR_ONLINE_NOSYNC)
        return lr_error_set(err, LR_EINVAL,
                            "--online-durability must be sync, nometasync or nosync");
    if (c->clock_skew_s < 1 || c->clock_skew_s > 7 * 86400)
        return lr_error_set(err, LR_EINVAL, "--clock-skew must be 1..604800 seconds");
    return LR_OK;
}

static lr_status worker_init(lr_server *s, lr__worker *w, uint32_t i,
                             const struct sockaddr_storage *addr, socklen_t alen, lr_error *err)
{
    lr_status st;
    w->srv = s;
    w->index = i;
    w->listen_fd = w->wake_fd = w->epfd = w->reserve_fd = -1;
    lr_buf_init(&w->scratch, SCRATCH_MAX);
    lr_buf_init(&w->frags, 0);
    lr_buf_init(&w->wout, SCRATCH_MAX + 65536);
    lr_buf_init(&w->canon, CANON_MAX);
    w->arena = lr_arena_new(ARENA_BLOCK, (size_t)s->cfg.max_body_bytes * 8 + 64u * 1024 * 1024);
    w->batch = calloc(LR__BATCH_MAX, sizeof *w->batch);
    w->running = calloc(LR__BATCH_MAX, sizeof *w->running);
    w->wbuf = calloc(LR__BATCH_MAX, sizeof *w->wbuf);
    w->obuf = calloc(LR__BATCH_MAX, sizeof *w->obuf);
    if (w->arena == NULL || w->batch == NULL || w->running == NULL || w->wbuf == NULL ||
        w->obuf == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory starting a worker");
    if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        return lr_error_set(err, LR_EIO, "epoll/eventfd: %s", strerror(errno));
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (addr != NULL) {
        if ((w->listen_fd = bind_socket(addr, alen, true, err)) < 0)
            return err->code;
        if ((st = lr__worker_register(w, err)) != LR_OK)
            return st;
    }
    if ((st = lr_catalog_open(s->data_dir, &s->cfg.settings, &w->cat, err)) != LR_OK)
        return lr_error_prefix(err, "opening the catalog");
    if ((st = lr_online_reader_open(s->online, &w->reader, err)) != LR_OK)
        return lr_error_prefix(err, "opening an online reader");
    return LR_OK;
}

static void worker_free(lr__worker *w)
{
    lr__conn *c;
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    while ((c = w->free_conns) != NULL) {
        w->free_conns = c->next;
        lr__conn_release(c);
        free(c);
    }
    lr__fg_cache_free(&w->cache);
    lr_online_reader_close(w->reader);
    lr_catalog_close(w->cat);
    lr_arena_free(w->arena);
    lr_buf_free(&w->scratch);
    lr_buf_free(&w->frags);
    free(w->frag_off);
    lr_buf_free(&w->wout);
    lr_buf_free(&w->canon);
    free(w->batch);
    free(w->running);
    free(w->wbuf);
    free(w->obuf);
}

/* A server struct with the configuration copied in (strings into s). */
static lr_status server_alloc(const lr_server_config *cfg, lr_server **out, lr_error *err)
{
    lr_server *s;
    lr_status st;
    *out = NULL;
    if ((st = check_config(cfg, err)) != LR_OK)
        return st;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    s->cfg = *cfg;
    snprintf(s->data_dir, sizeof s->data_dir, "%s", cfg->data_dir);
    snprintf(s->online_uri, sizeof s->online_uri, "%s",
             cfg->online_uri != NULL && cfg->online_uri[0] ? cfg->online_uri : cfg->data_dir);
    s->cfg.data_dir = s->data_dir;
    s->cfg.online_uri = s->online_uri;
    s->cfg.listen = NULL;
    s->cfg.credentials_file = NULL;
    s->n_workers = cfg->threads ? cfg->threads : (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->n_workers < 1)
        s->n_workers = 1;
    if (s->n_workers > THREADS_MAX)
        s->n_workers = THREADS_MAX;
    s->started_ms = lr__mono_ms();
    *out = s;
    return LR_OK;
}

static lr_status open_stores(lr_server *s, bool background, lr_error *err)
{
    lr_online_options oo;
    lr_offline_config oc;
    lr_status st;
    /* OpenSSL's one-time initialisation here, on the starting thread: run
     * lazily on a store's thread instead, it leaves that thread's error
     * state allocated after the thread ends. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
        return lr_error_set(err, LR_EINTERNAL, "cannot initialise OpenSSL");
    lr_online_options_init(&oo);
    oo.sweep_interval_ms = background ? 1000 : 0;
    oo.durability = (lr_online_durability)s->cfg.online_durability;
    if ((st = lr_online_open(s->online_uri, &oo, &s->online, err)) != LR_OK)
        return lr_error_prefix(err, "opening the online store %s", s->online_uri);
    if ((st = lr_catalog_open(s->data_dir, &s->cfg.settings, &s->cat_admin, err)) != LR_OK)
        return lr_error_prefix(err, "opening the catalog in %s", s->data_dir);
    lr_offline_config_init(&oc);
    oc.background = background;
    if ((st = lr_offline_open(s->data_dir, &s->cfg.settings, &oc, &s->offline, err)) != LR_OK)
        return lr_error_prefix(err, "opening the offline store in %s", s->data_dir);
    return LR_OK;
}

lr_status lr__server_open_detached(const lr_server_config *cfg, lr_server **out, lr_error *err)
{
    lr_server *s;
    lr_status st = server_alloc(cfg, &s, err);
    if (st != LR_OK)
        return st;
    if (cfg->threads == 0)
        s->n_workers = 1;
    lr__http_global_init(cfg->max_header_bytes);
    if ((st = open_stores(s, false, err)) != LR_OK)
        goto fail;
    s->workers = calloc(s->n_workers, sizeof *s->workers);
    if (s->workers == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if ((st = worker_init(s, &s->workers[i], i, NULL, 0, err)) != LR_OK)
            goto fail;
        s->workers[i].now_ms = lr__mono_ms();
    }
    s->waited = true; /* nothing to join */
    *out = s;
    return LR_OK;
fail:
    lr_server_free(s);
    return st;
}

lr__worker *lr__server_worker(lr_server *s, uint32_t i)
{
    return i < s->n_workers ? &s->workers[i] : NULL;
}

lr_status lr_server_start(const lr_server_config *cfg, lr_server **out, lr_error *err)
{
    lr_server *s = NULL;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage addr;
    socklen_t alen;
    lr_status st;
    int rc, probe;
    char portstr[8];

    *out = NULL;
    if ((st = server_alloc(cfg, &s, err)) != LR_OK)
        return st;

    if ((st = split_listen(cfg->listen, s->host, sizeof s->host, &s->port, err)) != LR_OK)
        goto fail;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(portstr, sizeof portstr, "%u", s->port);
    if ((rc = getaddrinfo(s->host, portstr, &hints, &ai)) != 0 || ai == NULL) {
        st = lr_error_set(err, LR_EINVAL, "--listen %s: cannot resolve '%s': %s", cfg->listen,
                          s->host, gai_strerror(rc));
        goto fail;
    }
    memset(&addr, 0, sizeof addr);
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    alen = ai->ai_addrlen;
    freeaddrinfo(ai);

    /* keys, then protected mode */
    if (cfg->credentials_file != NULL && cfg->credentials_file[0] != '\0' &&
        (st = lr__keyring_load_file(&s->keys, cfg->credentials_file, err)) != LR_OK)
        goto fail;
    if (cfg->use_env_credentials && (st = lr__keyring_load_env(&s->keys, err)) != LR_OK)
        goto fail;
    if (s->keys.n == 0 && !is_loopback(&addr)) {
        st = lr_error_set(err, LR_EINVAL,
                          "refusing to listen on %s without keys (protected mode): anyone could "
                          "read and write the store. Add keys with --credentials FILE (an AWS "
                          "credentials file with aws_access_key_id and aws_secret_access_key) or "
                          "the environment variables LARDER_ACCESS_KEY_ID and "
                          "LARDER_SECRET_ACCESS_KEY, or listen on a loopback address such as "
                          "127.0.0.1",
                          cfg->listen);
        goto fail;
    }
    raise_fd_limit();
    lr__http_global_init(cfg->max_header_bytes);

    /* the port: probe it without SO_REUSEPORT so a port in use is an error, not a share */
    if (s->port != 0) {
        if ((probe = bind_socket(&addr, alen, false, err)) < 0) {
            st = lr_error_prefix(err, "--listen %s", cfg->listen);
            goto fail;
        }
        close(probe);
    }

    if ((st = open_stores(s, true, err)) != LR_OK)
        goto fail;

    s->workers = calloc(s->n_workers, sizeof *s->workers);
    if (s->workers == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if ((st = worker_init(s, &s->workers[i], i, &addr, alen, err)) != LR_OK)
            goto fail;
        if (i == 0 && s->port == 0) {
            struct sockaddr_storage bound;
            socklen_t bl = sizeof bound;
            if (getsockname(s->workers[0].listen_fd, (struct sockaddr *)&bound, &bl) != 0) {
                st = lr_error_set(err, LR_EIO, "getsockname: %s", strerror(errno));
                goto fail;
            }
            s->port =
                ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
            set_port(&addr, s->port);
        }
    }
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if ((rc = pthread_create(&s->workers[i].thread, NULL, lr__worker_main, &s->workers[i])) !=
            0) {
            st = lr_error_set(err, LR_ENOMEM, "cannot start a worker thread: %s", strerror(rc));
            goto fail;
        }
        s->workers[i].started = true;
    }
    lr_log_info("server", "listening on %s:%u with %u workers, %zu keys", s->host, s->port,
                s->n_workers, s->keys.n);
    *out = s;
    return LR_OK;
fail:
    lr_server_free(s);
    return st;
}

uint16_t lr_server_port(const lr_server *s)
{
    return s->port;
}

size_t lr_server_key_count(const lr_server *s)
{
    return s->keys.n;
}

void lr_server_stop(lr_server *s)
{
    uint64_t one = 1;
    if (s == NULL)
        return;
    atomic_store(&s->stop_requested, true);
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (s->workers[i].wake_fd >= 0) {
            ssize_t n = write(s->workers[i].wake_fd, &one, sizeof one);
            (void)n;
        }
    }
}

lr_status lr_server_wait(lr_server *s, lr_error *err)
{
    lr_status st = LR_OK;
    if (s == NULL || s->waited)
        return LR_OK;
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (s->workers[i].started) {
            pthread_join(s->workers[i].thread, NULL);
            s->workers[i].started = false;
            if (s->workers[i].failure != LR_OK && st == LR_OK) {
                st = s->workers[i].failure;
                if (err != NULL)
                    *err = s->workers[i].failure_err;
            }
        }
    }
    s->waited = true;
    if (s->offline != NULL) {
        lr_error e2;
        lr_status fs = lr_offline_flush(s->offline, &e2);
        if (fs != LR_OK) {
            lr_log_error("server", "flushing the offline log: %s", lr_error_message(&e2));
            if (st == LR_OK) {
                st = fs;
                if (err != NULL)
                    *err = e2;
            }
        }
    }
    return st;
}

void lr_server_free(lr_server *s)
{
    bool running = false;
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->workers != NULL && i < s->n_workers; i++)
        running |= s->workers[i].started;
    if (running) {
        lr_server_stop(s);
        lr_server_wait(s, NULL);
    }
    for (uint32_t i = 0; s->workers != NULL && i < s->n_workers; i++)
        worker_free(&s->workers[i]);
    free(s->workers);
    lr_offline_close(s->offline);
    lr_catalog_close(s->cat_admin);
    lr_online_close(s->online);
    lr__keyring_free(&s->keys);
    free(s);
}
