/*
 * server.h - `larder serve`: the SageMaker Feature Store API over HTTP/1.1.
 *
 * One port serves the runtime API (PutRecord, GetRecord, DeleteRecord,
 * BatchGetRecord, BatchWriteRecord, ListRecords, UpdateRecord), the
 * feature-group control plane (POST / with X-Amz-Target: SageMaker.<Op>),
 * GET /healthz and GET /metrics (Prometheus text). Requests are verified
 * with AWS Signature Version 4 (service `sagemaker`) when keys are
 * configured; with no keys the server runs open and refuses to bind to
 * anything but a loopback address (protected mode). docs/server.md has the
 * design, every option and every limit.
 *
 * Lifecycle: lr_server_config_init() -> adjust -> lr_server_start() (binds,
 * opens the stores, starts the worker threads, returns) -> lr_server_stop()
 * (from any thread or a signal handler) -> lr_server_wait() (joins, flushes,
 * closes) -> lr_server_free(). Anything not declared here is not API.
 */
#ifndef LARDER_SERVER_H
#define LARDER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/status.h"
#include "larder/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_server lr_server;

typedef struct lr_server_config {
    const char *listen;           /* "HOST:PORT", "[v6]:PORT"; port 0 picks a free port */
    uint32_t threads;             /* worker threads; 0: one per online CPU */
    const char *data_dir;         /* catalog, online store and offline root (required) */
    const char *online_uri;       /* NULL: LMDB in the data directory (lr_online_open) */
    const char *credentials_file; /* AWS ini file of keys; NULL: none */
    bool use_env_credentials;     /* also take keys from LARDER_/AWS_ env variables */
    lr_settings settings;         /* region (also the SigV4 scope) and account */

    uint32_t max_connections;    /* open connections in all (default 10000) */
    size_t max_header_bytes;     /* request line + headers (default 256 KiB) */
    size_t max_body_bytes;       /* request body after de-chunking (default 8 MiB) */
    uint32_t idle_timeout_ms;    /* keep-alive connection with no request (60 s) */
    uint32_t request_timeout_ms; /* first byte to last byte of a request (30 s) */
    uint32_t write_timeout_ms;   /* a response not drained by the client (30 s) */
    uint32_t shutdown_grace_ms;  /* in-flight work after stop (10 s) */
    uint32_t clock_skew_s;       /* SigV4 X-Amz-Date window either side (900) */
    int online_durability;       /* lr_online_durability (LMDB): LR_ONLINE_SYNC by default */
} lr_server_config;

/* Fills the defaults listed above (listen 127.0.0.1:8080, env credentials on). */
void lr_server_config_init(lr_server_config *cfg);

/*
 * Validates the configuration, loads the keys, enforces protected mode, binds
 * the port, opens the catalog and the stores and starts the workers. On
 * success *out is a running server. Errors: LR_EINVAL (a bad option, with its
 * name; no keys on a non-loopback address, with how to add them), LR_EIO
 * (bind, credentials file), LR_EACCESS, the stores' open errors, LR_ENOMEM.
 */
lr_status lr_server_start(const lr_server_config *cfg, lr_server **out, lr_error *err);

/* The port actually bound (useful with port 0). */
uint16_t lr_server_port(const lr_server *s);

/* How many keys SigV4 verification knows (0: the server runs open). */
size_t lr_server_key_count(const lr_server *s);

/*
 * Asks the server to stop: stop accepting, finish in-flight requests (up to
 * the grace period), close idle connections. Async-signal-safe and
 * idempotent; returns at once.
 */
void lr_server_stop(lr_server *s);

/*
 * Waits until the workers have stopped, then flushes and closes the stores.
 * Returns the first error a worker or the flush met (LR_OK normally).
 */
lr_status lr_server_wait(lr_server *s, lr_error *err);

/* Frees a server (stopping and waiting first if it still runs). NULL is fine. */
void lr_server_free(lr_server *s);

#ifdef __cplusplus
}
#endif
#endif
