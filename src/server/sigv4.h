/*
 * sigv4.h - AWS Signature Version 4 verification for the server, and the
 * keys it verifies against.
 *
 * The canonical request is built exactly as AWS defines it for services
 * other than S3: the path as sent, URI-encoded once more (every byte outside
 * A-Z a-z 0-9 - _ . ~ and '/' becomes %XX); the query's parameters decoded,
 * re-encoded (everything but unreserved), sorted by key then value; the
 * signed headers lowercased, values trimmed with inner runs of spaces
 * collapsed, repeated headers joined by ','; the payload hash is the hex
 * SHA-256 of the body, and must equal X-Amz-Content-Sha256 when that header
 * is present. The signing key is derived from the secret, the credential
 * scope's date, region and service; the signature is compared in constant
 * time. X-Amz-Date must be within the skew window of the server's clock.
 *
 * Hashing uses OpenSSL's SHA-256 block functions on stack contexts, and the
 * derived signing key (with its HMAC pads) is cached per worker, so
 * verifying a request allocates nothing.
 */
#ifndef LARDER_SERVER_SIGV4_H
#define LARDER_SERVER_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/status.h"

#define LR__KEY_ID_MAX     128
#define LR__KEY_SECRET_MAX 128

typedef struct lr__key {
    char id[LR__KEY_ID_MAX + 1];
    char secret[LR__KEY_SECRET_MAX + 1];
} lr__key;

typedef struct lr__keyring {
    lr__key *keys;
    size_t n;
} lr__keyring;

/*
 * Adds every aws_access_key_id / aws_secret_access_key pair of an AWS
 * credentials file (ini: [profile] sections, `key = value`, '#'/';'
 * comments). Errors: LR_EIO (unreadable), LR_EINVAL (a section with only
 * one of the pair, an over-long key, a file with no keys; the line number
 * is in the message), LR_ENOMEM.
 */
lr_status lr__keyring_load_file(lr__keyring *k, const char *path, lr_error *err);
/*
 * Adds LARDER_ACCESS_KEY_ID/LARDER_SECRET_ACCESS_KEY and
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when both of a pair are set.
 * Errors: LR_EINVAL (one of a pair set without the other), LR_ENOMEM.
 */
lr_status lr__keyring_load_env(lr__keyring *k, lr_error *err);
/* Adds one pair. Errors: LR_EINVAL (empty or over-long), LR_ENOMEM. */
lr_status lr__keyring_add(lr__keyring *k, const char *id, const char *secret, lr_error *err);
const lr__key *lr__keyring_find(const lr__keyring *k, const char *id, size_t len);
void lr__keyring_free(lr__keyring *k);

/* A request as SigV4 sees it. Header names must already be lowercase. */
typedef struct lr__sigv4_req {
    const char *method;
    const char *path;
    size_t path_len;
    const char *query;
    size_t query_len;
    const char *const *hnames;
    const size_t *hname_lens;
    const char *const *hvalues;
    const size_t *hvalue_lens;
    uint32_t n_headers;
    const char *body;
    size_t body_len;
} lr__sigv4_req;

typedef enum lr__sigv4_result {
    SIGV4_OK = 0,
    SIGV4_MISSING,     /* no Authorization header */
    SIGV4_MALFORMED,   /* unparsable Authorization, missing date, bad scope */
    SIGV4_UNKNOWN_KEY, /* access key not configured */
    SIGV4_SKEWED,      /* X-Amz-Date outside the window */
    SIGV4_BAD_PAYLOAD, /* X-Amz-Content-Sha256 does not match the body */
    SIGV4_MISMATCH,    /* signature differs */
    SIGV4_INTERNAL,    /* out of memory / canonical request over its cap */
} lr__sigv4_result;

/* A per-thread cache of the last derived signing key. */
typedef struct lr__sigv4_cache {
    char key_id[LR__KEY_ID_MAX + 1];
    char scope[128]; /* date/region/service */
    unsigned char kSigning[32];
    bool valid;
} lr__sigv4_cache;

/*
 * Verifies `r` against the keyring. `region`/`service` are what the scope
 * must name; `now_s` is the server's clock (epoch seconds); `skew_s` the
 * window. `canon` is scratch space (cleared and reused). On failure `msg`
 * (of `msg_cap` bytes) says why, in AWS's words.
 */
lr__sigv4_result lr__sigv4_verify(const lr__keyring *keys, lr__sigv4_cache *cache,
                                  const lr__sigv4_req *r, const char *region, const char *service,
                                  int64_t now_s, uint32_t skew_s, lr_buf *canon, char *msg,
                                  size_t msg_cap);

/* ---- building blocks, exposed for the unit tests ---- */

/* Hex SHA-256 (64 chars + NUL) of data. */
void lr__sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Appends the canonical request for `r` with the given signed-headers list
 * ("host;x-amz-date", as in the Authorization header) and payload hash.
 * Errors: LR_EINVAL (a signed header that the request lacks, a malformed
 * query escape), LR_ELIMIT / LR_ENOMEM from the buffer.
 */
lr_status lr__sigv4_canonical_request(const lr__sigv4_req *r, const char *signed_headers,
                                      size_t signed_headers_len, const char *payload_hash,
                                      lr_buf *out);

/* Derives the signing key for secret/date(yyyymmdd)/region/service. */
void lr__sigv4_signing_key(const char *secret, const char *date, size_t date_len,
                           const char *region, size_t region_len, const char *service,
                           size_t service_len, unsigned char out[32]);

/* Hex HMAC-SHA256(key, string to sign) of amz_date/scope/canonical request. */
void lr__sigv4_signature(const unsigned char kSigning[32], const char *amz_date, const char *scope,
                         size_t scope_len, const char *canon, size_t canon_len, char out[65]);

#endif
