/*
 * fuzz_http.c - fuzz target for the server's request path: the HTTP/1.1
 * parser (http-parser plus Larder's buffering, limits, chunked bodies and
 * pipelining), the router, SigV4 verification and every API handler,
 * against real stores in a temporary directory (no socket: bytes are fed to
 * an in-memory connection, responses are dropped).
 *
 * The first byte of an input selects the mode: bit 0 set verifies
 * signatures against one configured key (so the signature code is
 * exercised), clear runs open (so the operations are). The rest is the raw
 * byte stream of one client connection, fed in pieces whose sizes come from
 * the second byte so that requests split at every position.
 *
 * The server must never crash, leak or hang; sanitizers report the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/catalog.h"
#include "larder/fg.h"
#include "server/server_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lr_server *srv;
static lr__worker *worker;
static char dir[64];

static const char fg_json[] =
    "{\"FeatureGroupName\":\"fz\",\"RecordIdentifierFeatureName\":\"id\","
    "\"EventTimeFeatureName\":\"t\",\"FeatureDefinitions\":["
    "{\"FeatureName\":\"id\",\"FeatureType\":\"String\"},"
    "{\"FeatureName\":\"t\",\"FeatureType\":\"Fractional\"},"
    "{\"FeatureName\":\"n\",\"FeatureType\":\"Integral\"},"
    "{\"FeatureName\":\"l\",\"FeatureType\":\"String\",\"CollectionType\":\"List\"},"
    "{\"FeatureName\":\"v\",\"FeatureType\":\"Fractional\",\"CollectionType\":\"Vector\","
    "\"CollectionConfig\":{\"VectorConfig\":{\"Dimension\":2}}}],"
    "\"OnlineStoreConfig\":{\"EnableOnlineStore\":true,\"StorageType\":\"InMemory\","
    "\"TtlDuration\":{\"Unit\":\"Days\",\"Value\":1}},"
    "\"OfflineStoreConfig\":{\"S3StorageConfig\":{\"S3Uri\":\"offline\"}}}";

static void cleanup(void)
{
    char cmd[128];
    lr_server_free(srv);
    srv = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_http: could not remove %s\n", dir);
}

static void setup(void)
{
    lr_server_config cfg;
    lr_fg_def *def = NULL;
    lr_error err;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/larder-fuzz-XXXXXX",
             tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("fuzz_http: mkdtemp");
        abort();
    }
    lr_server_config_init(&cfg);
    cfg.data_dir = dir;
    cfg.threads = 1;
    cfg.online_durability = LR_ONLINE_NOSYNC;
    cfg.use_env_credentials = false;
    cfg.max_header_bytes = 16384;
    cfg.max_body_bytes = 65536;
    if (lr__server_open_detached(&cfg, &srv, &err) != LR_OK) {
        fprintf(stderr, "fuzz_http: %s\n", lr_error_message(&err));
        abort();
    }
    if (lr__keyring_add(&srv->keys, "AKIDFUZZ", "fuzzsecret", &err) != LR_OK)
        abort();
    worker = lr__server_worker(srv, 0);
    if (lr_fg_def_parse(fg_json, sizeof fg_json - 1, &def, &err) != LR_OK ||
        lr_catalog_fg_create(worker->cat, def, NULL, &err) != LR_OK) {
        fprintf(stderr, "fuzz_http: %s\n", lr_error_message(&err));
        abort();
    }
    lr_fg_def_free(def);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lr__conn c;
    size_t keys, piece, off = 2;
    if (srv == NULL)
        setup();
    if (size < 2)
        return 0;
    keys = srv->keys.n;
    if ((data[0] & 1) == 0)
        srv->keys.n = 0; /* open mode for this input */
    piece = (size_t)data[1] * 8 + 1;
    memset(&c, 0, sizeof c);
    worker->now_ms = lr__mono_ms();
    lr__conn_init(&c, worker, -1);
    while (off < size) {
        size_t n = size - off < piece ? size - off : piece;
        if (!lr__conn_feed(&c, (const char *)data + off, n))
            break;
        off += n;
    }
    lr__worker_flush_batch(worker);
    lr__worker_end_turn(worker);
    lr__conn_release(&c);
    srv->keys.n = keys;
    return 0;
}
