/*
 * test_sigv4.c - SigV4 verification (src/server/sigv4.c) against AWS's
 * published Signature Version 4 examples (inputs and expected outputs
 * written out here from the specification), plus the verifier's rejections
 * and the credentials-file parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/sigv4.h"
#include "support/testutil.h"

#define SECRET            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AMZ_DATE          "20150830T123600Z"
#define T_20150830_123600 1440938160LL

typedef struct hreq {
    const char *names[8];
    size_t nlens[8];
    const char *values[8];
    size_t vlens[8];
    lr__sigv4_req r;
} hreq;

static void hreq_init(hreq *h, const char *method, const char *path, const char *query,
                      const char *body)
{
    memset(h, 0, sizeof *h);
    h->r.method = method;
    h->r.path = path;
    h->r.path_len = strlen(path);
    h->r.query = query;
    h->r.query_len = strlen(query);
    h->r.body = body;
    h->r.body_len = strlen(body);
    h->r.hnames = h->names;
    h->r.hname_lens = h->nlens;
    h->r.hvalues = h->values;
    h->r.hvalue_lens = h->vlens;
}

static void hreq_add(hreq *h, const char *name, const char *value)
{
    uint32_t i = h->r.n_headers++;
    h->names[i] = name;
    h->nlens[i] = strlen(name);
    h->values[i] = value;
    h->vlens[i] = strlen(value);
}

static void signature_of(hreq *h, const char *signed_headers, const char *region,
                         const char *service, char out[65])
{
    lr_buf canon;
    char payload[65], scope[128];
    unsigned char key[32];
    lr_buf_init(&canon, 0);
    lr__sha256_hex(h->r.body, h->r.body_len, payload);
    assert_int_equal(
        lr__sigv4_canonical_request(&h->r, signed_headers, strlen(signed_headers), payload, &canon),
        LR_OK);
    snprintf(scope, sizeof scope, "20150830/%s/%s/aws4_request", region, service);
    lr__sigv4_signing_key(SECRET, "20150830", 8, region, strlen(region), service, strlen(service),
                          key);
    lr__sigv4_signature(key, AMZ_DATE, scope, strlen(scope), canon.data, canon.len, out);
    lr_buf_free(&canon);
}

/* AWS's "get-vanilla" example. */
static void test_get_vanilla(void **state)
{
    hreq h;
    lr_buf canon;
    char payload[65], sig[65];
    (void)state;
    hreq_init(&h, "GET", "/", "", "");
    hreq_add(&h, "host", "example.amazonaws.com");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    lr_buf_init(&canon, 0);
    lr__sha256_hex("", 0, payload);
    assert_int_equal(lr__sigv4_canonical_request(&h.r, "host;x-amz-date", 15, payload, &canon),
                     LR_OK);
    assert_string_equal(canon.data,
                        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "host;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lr_buf_free(&canon);
    signature_of(&h, "host;x-amz-date", "us-east-1", "service", sig);
    assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

/* "get-vanilla-query-order-key-case": parameters are sorted by key. */
static void test_query_order(void **state)
{
    hreq h;
    char sig[65];
    (void)state;
    hreq_init(&h, "GET", "/", "Param2=value2&Param1=value1", "");
    hreq_add(&h, "host", "example.amazonaws.com");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    signature_of(&h, "host;x-amz-date", "us-east-1", "service", sig);
    assert_string_equal(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

/* The IAM ListUsers example of the SigV4 documentation. */
static void test_iam_example(void **state)
{
    hreq h;
    lr_buf canon;
    char payload[65], hash[65], sig[65];
    unsigned char key[32];
    char keyhex[65];
    (void)state;
    hreq_init(&h, "GET", "/", "Action=ListUsers&Version=2010-05-08", "");
    hreq_add(&h, "content-type", "application/x-www-form-urlencoded; charset=utf-8");
    hreq_add(&h, "host", "iam.amazonaws.com");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    lr_buf_init(&canon, 0);
    lr__sha256_hex("", 0, payload);
    assert_int_equal(
        lr__sigv4_canonical_request(&h.r, "content-type;host;x-amz-date", 28, payload, &canon),
        LR_OK);
    lr__sha256_hex(canon.data, canon.len, hash);
    assert_string_equal(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    lr_buf_free(&canon);
    lr__sigv4_signing_key(SECRET, "20150830", 8, "us-east-1", 9, "iam", 3, key);
    for (int i = 0; i < 32; i++)
        snprintf(keyhex + 2 * i, 3, "%02x", key[i]);
    assert_string_equal(keyhex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    signature_of(&h, "content-type;host;x-amz-date", "us-east-1", "iam", sig);
    assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

/* Header values are trimmed and inner runs of spaces collapse to one. */
static void test_header_trim(void **state)
{
    hreq h;
    lr_buf canon;
    char payload[65], sig[65];
    (void)state;
    hreq_init(&h, "GET", "/", "", "");
    hreq_add(&h, "host", "example.amazonaws.com");
    hreq_add(&h, "my-header1", "  value1  a   b  ");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    lr_buf_init(&canon, 0);
    lr__sha256_hex("", 0, payload);
    assert_int_equal(
        lr__sigv4_canonical_request(&h.r, "host;my-header1;x-amz-date", 26, payload, &canon),
        LR_OK);
    assert_non_null(strstr(canon.data, "\nmy-header1:value1 a b\n"));
    lr_buf_free(&canon);
    signature_of(&h, "host;my-header1;x-amz-date", "us-east-1", "service", sig);
    assert_string_equal(sig, "f8abef309833a862aa415a3a36f92896dd1b70e10846f5761af0278c0a2ded4c");
}

/* Paths are encoded once more; query values are decoded and re-encoded. */
static void test_encoding(void **state)
{
    hreq h;
    lr_buf canon;
    char payload[65];
    (void)state;
    hreq_init(&h, "GET", "/FeatureGroup/a%3Ab", "b=%7e%20x&a=1+2&a=0", "");
    hreq_add(&h, "host", "h");
    lr_buf_init(&canon, 0);
    lr__sha256_hex("", 0, payload);
    assert_int_equal(lr__sigv4_canonical_request(&h.r, "host", 4, payload, &canon), LR_OK);
    assert_non_null(strstr(canon.data, "GET\n/FeatureGroup/a%253Ab\na=0&a=1%2B2&b=~%20x\n"));
    lr_buf_clear(&canon);
    /* a signed header the request lacks, a malformed escape */
    assert_int_equal(lr__sigv4_canonical_request(&h.r, "host;x-amz-date", 15, payload, &canon),
                     LR_EINVAL);
    h.r.query = "a=%zz";
    h.r.query_len = 5;
    assert_int_equal(lr__sigv4_canonical_request(&h.r, "host", 4, payload, &canon), LR_EINVAL);
    lr_buf_free(&canon);
}

/* Builds the Authorization header a client would send for h. */
static void authorize(hreq *h, const char *key_id, const char *secret, const char *region,
                      char *auth, size_t cap)
{
    lr_buf canon;
    char payload[65], scope[128], sig[65];
    unsigned char key[32];
    const char *sh = "host;x-amz-date";
    lr_buf_init(&canon, 0);
    lr__sha256_hex(h->r.body, h->r.body_len, payload);
    assert_int_equal(lr__sigv4_canonical_request(&h->r, sh, strlen(sh), payload, &canon), LR_OK);
    snprintf(scope, sizeof scope, "20150830/%s/sagemaker/aws4_request", region);
    lr__sigv4_signing_key(secret, "20150830", 8, region, strlen(region), "sagemaker", 9, key);
    lr__sigv4_signature(key, AMZ_DATE, scope, strlen(scope), canon.data, canon.len, sig);
    snprintf(auth, cap, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", key_id,
             scope, sh, sig);
    lr_buf_free(&canon);
}

static lr__sigv4_result verify(hreq *h, lr__keyring *k, int64_t now)
{
    lr__sigv4_cache cache;
    lr_buf canon;
    char msg[512];
    lr__sigv4_result r;
    memset(&cache, 0, sizeof cache);
    lr_buf_init(&canon, 1 << 20);
    r = lr__sigv4_verify(k, &cache, &h->r, "us-east-1", "sagemaker", now, 900, &canon, msg,
                         sizeof msg);
    lr_buf_free(&canon);
    return r;
}

static void test_verify(void **state)
{
    lr__keyring k = {0};
    hreq h;
    char auth[512];
    (void)state;
    assert_int_equal(lr__keyring_add(&k, "AKIDEXAMPLE", SECRET, NULL), LR_OK);
    hreq_init(&h, "PUT", "/FeatureGroup/fg", "", "{\"Record\":[]}");
    hreq_add(&h, "host", "127.0.0.1:8080");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MISSING);

    authorize(&h, "AKIDEXAMPLE", SECRET, "us-east-1", auth, sizeof auth);
    hreq_add(&h, "authorization", auth);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_OK);
    /* 15 minutes either way, not more */
    assert_int_equal(verify(&h, &k, T_20150830_123600 + 900), SIGV4_OK);
    assert_int_equal(verify(&h, &k, T_20150830_123600 + 901), SIGV4_SKEWED);
    assert_int_equal(verify(&h, &k, T_20150830_123600 - 901), SIGV4_SKEWED);
    /* a changed body */
    h.r.body = "{\"Record\":[1]}";
    h.r.body_len = strlen(h.r.body);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MISMATCH);
    /* X-Amz-Content-Sha256 must match the body */
    hreq_add(&h, "x-amz-content-sha256",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_BAD_PAYLOAD);

    /* a wrong secret, an unknown key, a wrong region */
    hreq_init(&h, "GET", "/FeatureGroup/fg", "RecordIdentifierValueAsString=a", "");
    hreq_add(&h, "host", "127.0.0.1:8080");
    hreq_add(&h, "x-amz-date", AMZ_DATE);
    authorize(&h, "AKIDEXAMPLE", "not-the-secret", "us-east-1", auth, sizeof auth);
    hreq_add(&h, "authorization", auth);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MISMATCH);
    authorize(&h, "AKIDOTHER", SECRET, "us-east-1", auth, sizeof auth);
    h.values[2] = auth;
    h.vlens[2] = strlen(auth);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_UNKNOWN_KEY);
    authorize(&h, "AKIDEXAMPLE", SECRET, "eu-west-1", auth, sizeof auth);
    h.values[2] = auth;
    h.vlens[2] = strlen(auth);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MALFORMED);
    h.values[2] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE";
    h.vlens[2] = strlen(h.values[2]);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MALFORMED);
    h.values[2] = "Basic dXNlcjpwYXNz";
    h.vlens[2] = strlen(h.values[2]);
    assert_int_equal(verify(&h, &k, T_20150830_123600), SIGV4_MALFORMED);
    lr__keyring_free(&k);
}

static void test_credentials_file(void **state)
{
    char *dir = lr_test_tmpdir("sigv4");
    char *path = lr_test_path(dir, "credentials");
    static const char good[] = "# keys\n[default]\naws_access_key_id = AK1\n"
                               "aws_secret_access_key=secret1\n\n[other]\n"
                               "AWS_ACCESS_KEY_ID=AK2\naws_secret_access_key = secret2 \n"
                               "region = eu-west-1\n";
    static const char half[] = "[default]\naws_access_key_id = AK1\n";
    lr__keyring k = {0};
    lr_error err;
    (void)state;
    assert_int_equal(lr_test_write_file(path, good, sizeof good - 1), 0);
    assert_int_equal(lr__keyring_load_file(&k, path, &err), LR_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(lr__keyring_find(&k, "AK1", 3)->secret, "secret1");
    assert_string_equal(lr__keyring_find(&k, "AK2", 3)->secret, "secret2");
    assert_null(lr__keyring_find(&k, "AK3", 3));
    lr__keyring_free(&k);
    assert_int_equal(lr_test_write_file(path, half, sizeof half - 1), 0);
    assert_int_equal(lr__keyring_load_file(&k, path, &err), LR_EINVAL);
    assert_non_null(strstr(err.msg, "aws_secret_access_key"));
    lr__keyring_free(&k);
    assert_int_equal(lr__keyring_load_file(&k, "/nonexistent/credentials", &err), LR_EIO);
    lr__keyring_free(&k);
    lr_test_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_vanilla),      cmocka_unit_test(test_query_order),
        cmocka_unit_test(test_iam_example),      cmocka_unit_test(test_header_trim),
        cmocka_unit_test(test_encoding),         cmocka_unit_test(test_verify),
        cmocka_unit_test(test_credentials_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
