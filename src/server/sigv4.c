/*
 * sigv4.c - AWS Signature Version 4 verification and the server's keyring
 * (see sigv4.h for the rules followed).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co: allocation-free hashing */
#include "server/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/value.h"

/* ---- keyring ---- */

lr_status lr__keyring_add(lr__keyring *k, const char *id, const char *secret, lr_error *err)
{
    size_t il = strlen(id), sl = strlen(secret);
    lr__key *nk;
    if (il == 0 || sl == 0)
        return lr_error_set(err, LR_EINVAL, "an access key id and its secret must not be empty");
    if (il > LR__KEY_ID_MAX || sl > LR__KEY_SECRET_MAX)
        return lr_error_set(err, LR_EINVAL, "access key id or secret longer than %d characters",
                            LR__KEY_ID_MAX);
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->keys[i].id, id) == 0) {
            memcpy(k->keys[i].secret, secret, sl + 1); /* a later source overrides */
            return LR_OK;
        }
    }
    nk = realloc(k->keys, (k->n + 1) * sizeof *nk);
    if (nk == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory loading keys");
    k->keys = nk;
    memcpy(nk[k->n].id, id, il + 1);
    memcpy(nk[k->n].secret, secret, sl + 1);
    k->n++;
    return LR_OK;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Adds the pair collected for one section, or complains about half a pair. */
static lr_status flush_section(lr__keyring *k, const char *path, const char *section, char *id,
                               char *secret, lr_error *err)
{
    lr_status st = LR_OK;
    if (id[0] != '\0' && secret[0] != '\0')
        st = lr__keyring_add(k, id, secret, err);
    else if (id[0] != '\0' || secret[0] != '\0')
        st = lr_error_set(err, LR_EINVAL, "%s: section [%s] has %s but no %s", path, section,
                          id[0] ? "aws_access_key_id" : "aws_secret_access_key",
                          id[0] ? "aws_secret_access_key" : "aws_access_key_id");
    id[0] = secret[0] = '\0';
    return st;
}

lr_status lr__keyring_load_file(lr__keyring *k, const char *path, lr_error *err)
{
    FILE *f = fopen(path, "r");
    char line[1024], section[128] = "", id[LR__KEY_ID_MAX + 1] = "",
                     secret[LR__KEY_SECRET_MAX + 1] = "";
    size_t before = k->n;
    int lineno = 0;
    lr_status st = LR_OK;

    if (f == NULL)
        return lr_error_set(err, LR_EIO, "cannot open credentials file %s: %s", path,
                            strerror(errno));
    while (fgets(line, sizeof line, f) != NULL) {
        char *s, *eq, *key, *val;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            st = lr_error_set(err, LR_EINVAL, "%s:%d: line longer than %zu bytes", path, lineno,
                              sizeof line - 2);
            goto done;
        }
        s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close == NULL) {
                st =
                    lr_error_set(err, LR_EINVAL, "%s:%d: section header without ']'", path, lineno);
                goto done;
            }
            if ((st = flush_section(k, path, section, id, secret, err)) != LR_OK)
                goto done;
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            st = lr_error_set(err, LR_EINVAL, "%s:%d: expected 'key = value'", path, lineno);
            goto done;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if (strcasecmp(key, "aws_access_key_id") == 0 ||
            strcasecmp(key, "aws_secret_access_key") == 0) {
            bool is_id = strcasecmp(key, "aws_access_key_id") == 0;
            size_t max = is_id ? LR__KEY_ID_MAX : LR__KEY_SECRET_MAX;
            if (strlen(val) > max || val[0] == '\0') {
                st = lr_error_set(err, LR_EINVAL, "%s:%d: %s must be 1..%zu characters", path,
                                  lineno, key, max);
                goto done;
            }
            memcpy(is_id ? id : secret, val, strlen(val) + 1);
        }
    }
    if (ferror(f)) {
        st = lr_error_set(err, LR_EIO, "reading %s: %s", path, strerror(errno));
        goto done;
    }
    if ((st = flush_section(k, path, section, id, secret, err)) != LR_OK)
        goto done;
    if (k->n == before)
        st = lr_error_set(err, LR_EINVAL,
                          "%s holds no aws_access_key_id / aws_secret_access_key pair", path);
done:
    explicit_bzero(secret, sizeof secret);
    explicit_bzero(line, sizeof line);
    fclose(f);
    return st;
}

static lr_status env_pair(lr__keyring *k, const char *idvar, const char *secvar, lr_error *err)
{
    const char *id = getenv(idvar), *sec = getenv(secvar);
    bool has_id = id != NULL && id[0] != '\0', has_sec = sec != NULL && sec[0] != '\0';
    if (!has_id && !has_sec)
        return LR_OK;
    if (has_id != has_sec)
        return lr_error_set(err, LR_EINVAL, "%s is set but %s is not", has_id ? idvar : secvar,
                            has_id ? secvar : idvar);
    return lr__keyring_add(k, id, sec, err);
}

lr_status lr__keyring_load_env(lr__keyring *k, lr_error *err)
{
    lr_status st = env_pair(k, "LARDER_ACCESS_KEY_ID", "LARDER_SECRET_ACCESS_KEY", err);
    if (st == LR_OK)
        st = env_pair(k, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", err);
    return st;
}

const lr__key *lr__keyring_find(const lr__keyring *k, const char *id, size_t len)
{
    for (size_t i = 0; i < k->n; i++) {
        if (strlen(k->keys[i].id) == len && memcmp(k->keys[i].id, id, len) == 0)
            return &k->keys[i];
    }
    return NULL;
}

void lr__keyring_free(lr__keyring *k)
{
    if (k == NULL)
        return;
    if (k->keys != NULL)
        explicit_bzero(k->keys, k->n * sizeof *k->keys);
    free(k->keys);
    k->keys = NULL;
    k->n = 0;
}

/* ---- hashing ---- */

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[d[i] >> 4];
        out[2 * i + 1] = hexdig[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void lr__sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(d, &c);
    to_hex(d, 32, out);
}

/* HMAC-SHA256 (RFC 2104) over up to three message parts. */
static void hmac3(const unsigned char *key, size_t klen, const void *m1, size_t l1, const void *m2,
                  size_t l2, const void *m3, size_t l3, unsigned char out[32])
{
    unsigned char k[64], pad[64], inner[32];
    SHA256_CTX c;
    memset(k, 0, sizeof k);
    if (klen > 64) {
        SHA256_Init(&c);
        SHA256_Update(&c, key, klen);
        SHA256_Final(k, &c);
    } else {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, m1, l1);
    if (l2)
        SHA256_Update(&c, m2, l2);
    if (l3)
        SHA256_Update(&c, m3, l3);
    SHA256_Final(inner, &c);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, inner, 32);
    SHA256_Final(out, &c);
    explicit_bzero(k, sizeof k);
    explicit_bzero(pad, sizeof pad);
}

void lr__sigv4_signing_key(const char *secret, const char *date, size_t date_len,
                           const char *region, size_t region_len, const char *service,
                           size_t service_len, unsigned char out[32])
{
    unsigned char k[32];
    size_t sl = strlen(secret);
    /* kDate = HMAC("AWS4" + secret, date): the key is the concatenation. */
    {
        unsigned char key0[4 + LR__KEY_SECRET_MAX + 64];
        size_t kl = 4 + sl;
        if (kl > sizeof key0)
            kl = sizeof key0;
        memcpy(key0, "AWS4", 4);
        memcpy(key0 + 4, secret, kl - 4);
        hmac3(key0, kl, date, date_len, NULL, 0, NULL, 0, k);
        explicit_bzero(key0, sizeof key0);
    }
    hmac3(k, 32, region, region_len, NULL, 0, NULL, 0, k);
    hmac3(k, 32, service, service_len, NULL, 0, NULL, 0, k);
    hmac3(k, 32, "aws4_request", 12, NULL, 0, NULL, 0, out);
    explicit_bzero(k, sizeof k);
}

void lr__sigv4_signature(const unsigned char kSigning[32], const char *amz_date, const char *scope,
                         size_t scope_len, const char *canon, size_t canon_len, char out[65])
{
    char head[128], chash[65];
    unsigned char sig[32];
    int hl;
    lr__sha256_hex(canon, canon_len, chash);
    hl = snprintf(head, sizeof head, "AWS4-HMAC-SHA256\n%s\n", amz_date);
    if (hl < 0 || (size_t)hl >= sizeof head)
        hl = 0;
    /* string to sign = head + scope + "\n" + hash(canonical request) */
    {
        char tail[66];
        tail[0] = '\n';
        memcpy(tail + 1, chash, 64);
        hmac3(kSigning, 32, head, (size_t)hl, scope, scope_len, tail, 65, sig);
    }
    to_hex(sig, 32, out);
}

/* ---- canonical request ---- */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static lr_status append_encoded(lr_buf *b, const char *s, size_t n, bool keep_slash)
{
    lr_status st = lr_buf_reserve(b, n * 3);
    if (st != LR_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            b->data[b->len++] = (char)c;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = "0123456789ABCDEF"[c >> 4];
            b->data[b->len++] = "0123456789ABCDEF"[c & 15];
        }
    }
    b->data[b->len] = '\0';
    return LR_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes then re-encodes a query component (AWS: encode every byte but unreserved). */
static lr_status append_requoted(lr_buf *b, const char *s, size_t n)
{
    lr_status st = lr_buf_reserve(b, n * 3);
    if (st != LR_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                return LR_EINVAL;
            c = (unsigned char)(h * 16 + l);
            i += 2;
        }
        if (unreserved(c)) {
            b->data[b->len++] = (char)c;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = "0123456789ABCDEF"[c >> 4];
            b->data[b->len++] = "0123456789ABCDEF"[c & 15];
        }
    }
    b->data[b->len] = '\0';
    return LR_OK;
}

typedef struct qparam {
    size_t koff, klen, voff, vlen;
} qparam;

static int qparam_cmp(const void *a, const void *b, void *base)
{
    const qparam *x = a, *y = b;
    const char *d = base;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(d + x->koff, d + y->koff, n);
    if (c != 0)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    n = x->vlen < y->vlen ? x->vlen : y->vlen;
    c = memcmp(d + x->voff, d + y->voff, n);
    if (c != 0)
        return c;
    return x->vlen < y->vlen ? -1 : (x->vlen > y->vlen ? 1 : 0);
}

/* Appends `s` trimmed with inner runs of spaces/tabs collapsed to one space. */
static lr_status append_header_value(lr_buf *b, const char *s, size_t n)
{
    size_t i = 0, e = n;
    bool space = false;
    lr_status st = lr_buf_reserve(b, n);
    if (st != LR_OK)
        return st;
    while (i < e && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    for (; i < e; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            space = true;
            continue;
        }
        if (space)
            b->data[b->len++] = ' ';
        space = false;
        b->data[b->len++] = s[i];
    }
    b->data[b->len] = '\0';
    return LR_OK;
}

#define QPARAMS_STACK 128

lr_status lr__sigv4_canonical_request(const lr__sigv4_req *r, const char *signed_headers,
                                      size_t signed_headers_len, const char *payload_hash,
                                      lr_buf *out)
{
    qparam stackp[QPARAMS_STACK], *params = stackp;
    size_t np = 0, capp = QPARAMS_STACK, start;
    lr_status st = LR_OK;

    /* 1. the query's parameters, re-encoded, at the front of `out` for sorting */
    start = out->len;
    for (size_t i = 0; i < r->query_len;) {
        size_t e = i, eq;
        while (e < r->query_len && r->query[e] != '&')
            e++;
        if (e > i) {
            if (np == capp) {
                qparam *np2;
                size_t nc = capp * 2;
                if (params == stackp) {
                    np2 = malloc(nc * sizeof *np2);
                    if (np2 != NULL)
                        memcpy(np2, stackp, sizeof stackp);
                } else {
                    np2 = realloc(params, nc * sizeof *np2);
                }
                if (np2 == NULL) {
                    st = LR_ENOMEM;
                    goto done;
                }
                params = np2;
                capp = nc;
            }
            eq = i;
            while (eq < e && r->query[eq] != '=')
                eq++;
            params[np].koff = out->len;
            if ((st = append_requoted(out, r->query + i, eq - i)) != LR_OK)
                goto done;
            params[np].klen = out->len - params[np].koff;
            params[np].voff = out->len;
            if (eq < e && (st = append_requoted(out, r->query + eq + 1, e - eq - 1)) != LR_OK)
                goto done;
            params[np].vlen = out->len - params[np].voff;
            np++;
        }
        i = e + 1;
    }
    qsort_r(params, np, sizeof *params, qparam_cmp, out->data);

    /* 2. the canonical request itself, after the scratch */
    {
        size_t canon_start = out->len;
        if ((st = lr_buf_append_str(out, r->method)) != LR_OK ||
            (st = lr_buf_append_byte(out, '\n')) != LR_OK)
            goto done;
        if (r->path_len == 0)
            st = lr_buf_append_byte(out, '/');
        else
            st = append_encoded(out, r->path, r->path_len, true);
        if (st != LR_OK || (st = lr_buf_append_byte(out, '\n')) != LR_OK)
            goto done;
        for (size_t i = 0; i < np; i++) {
            if (i > 0 && (st = lr_buf_append_byte(out, '&')) != LR_OK)
                goto done;
            if ((st = lr_buf_reserve(out, params[i].klen + params[i].vlen + 1)) != LR_OK)
                goto done;
            /* data may have moved: copy from offsets */
            memmove(out->data + out->len, out->data + params[i].koff, params[i].klen);
            out->len += params[i].klen;
            out->data[out->len++] = '=';
            memmove(out->data + out->len, out->data + params[i].voff, params[i].vlen);
            out->len += params[i].vlen;
            out->data[out->len] = '\0';
        }
        if ((st = lr_buf_append_byte(out, '\n')) != LR_OK)
            goto done;
        /* canonical headers, in the order of the signed-headers list */
        for (size_t i = 0; i < signed_headers_len;) {
            size_t e = i;
            bool found = false;
            while (e < signed_headers_len && signed_headers[e] != ';')
                e++;
            if (e == i) {
                st = LR_EINVAL;
                goto done;
            }
            if ((st = lr_buf_append(out, signed_headers + i, e - i)) != LR_OK ||
                (st = lr_buf_append_byte(out, ':')) != LR_OK)
                goto done;
            for (uint32_t h = 0; h < r->n_headers; h++) {
                if (r->hname_lens[h] != e - i ||
                    memcmp(r->hnames[h], signed_headers + i, e - i) != 0)
                    continue;
                if (found && (st = lr_buf_append_byte(out, ',')) != LR_OK)
                    goto done;
                if ((st = append_header_value(out, r->hvalues[h], r->hvalue_lens[h])) != LR_OK)
                    goto done;
                found = true;
            }
            if (!found) {
                st = LR_EINVAL;
                goto done;
            }
            if ((st = lr_buf_append_byte(out, '\n')) != LR_OK)
                goto done;
            i = e + 1;
        }
        if ((st = lr_buf_append_byte(out, '\n')) != LR_OK ||
            (st = lr_buf_append(out, signed_headers, signed_headers_len)) != LR_OK ||
            (st = lr_buf_append_byte(out, '\n')) != LR_OK ||
            (st = lr_buf_append_str(out, payload_hash)) != LR_OK)
            goto done;
        /* move the canonical request to where `out` started */
        memmove(out->data + start, out->data + canon_start, out->len - canon_start);
        out->len = start + (out->len - canon_start);
        out->data[out->len] = '\0';
    }
done:
    if (params != stackp)
        free(params);
    if (st != LR_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return st;
}

/* ---- verification ---- */

static const char *find_header(const lr__sigv4_req *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (uint32_t i = 0; i < r->n_headers; i++) {
        if (r->hname_lens[i] == nl && memcmp(r->hnames[i], name, nl) == 0) {
            *len = r->hvalue_lens[i];
            return r->hvalues[i];
        }
    }
    return NULL;
}

/* Parses yyyyMMddTHHmmssZ into epoch seconds. */
static bool parse_amz_date(const char *s, size_t n, int64_t *out)
{
    int v[6], pos[6][2] = {{0, 4}, {4, 2}, {6, 2}, {9, 2}, {11, 2}, {13, 2}};
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    for (int i = 0; i < 6; i++) {
        int x = 0;
        for (int j = 0; j < pos[i][1]; j++) {
            char c = s[pos[i][0] + j];
            if (c < '0' || c > '9')
                return false;
            x = x * 10 + (c - '0');
        }
        v[i] = x;
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    *out = lr_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400 + v[3] * 3600 +
           v[4] * 60 + v[5];
    return true;
}

/* Finds "Name=" in the Authorization parameters; value up to ',' or end. */
static const char *auth_param(const char *s, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == ','))
            i++;
        if (n - i > nl && memcmp(s + i, name, nl) == 0 && s[i + nl] == '=') {
            size_t st = i + nl + 1, e = st;
            while (e < n && s[e] != ',' && s[e] != ' ')
                e++;
            *vlen = e - st;
            return s + st;
        }
        while (i < n && s[i] != ',')
            i++;
    }
    return NULL;
}

static void fmt_amz(int64_t t, char out[17])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, sec = t - days * 86400;
    int64_t y;
    unsigned m, d;
    lr_civil_from_days(days, &y, &m, &d);
    snprintf(out, 17, "%04d%02u%02uT%02d%02d%02dZ", (int)(y % 10000), m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

lr__sigv4_result lr__sigv4_verify(const lr__keyring *keys, lr__sigv4_cache *cache,
                                  const lr__sigv4_req *r, const char *region, const char *service,
                                  int64_t now_s, uint32_t skew_s, lr_buf *canon, char *msg,
                                  size_t msg_cap)
{
    static const char algo[] = "AWS4-HMAC-SHA256 ";
    size_t alen, dlen, cl, shl, sgl, cslen;
    const char *auth = find_header(r, "authorization", &alen), *amz, *cred, *sh, *sig;
    const char *p, *scope, *hdr_hash;
    char payload_hash[65], expect[65], amz_date[17], now_str[17];
    int64_t t;
    const lr__key *key;
    const char *slash[4];
    size_t ns = 0;

    if (auth == NULL) {
        snprintf(msg, msg_cap,
                 "Missing Authentication Token: the request is not signed "
                 "(an AWS Signature Version 4 Authorization header is required)");
        return SIGV4_MISSING;
    }
    if (alen < sizeof algo - 1 || memcmp(auth, algo, sizeof algo - 1) != 0) {
        snprintf(msg, msg_cap, "Authorization header must use the AWS4-HMAC-SHA256 algorithm");
        return SIGV4_MALFORMED;
    }
    auth += sizeof algo - 1;
    alen -= sizeof algo - 1;
    cred = auth_param(auth, alen, "Credential", &cl);
    sh = auth_param(auth, alen, "SignedHeaders", &shl);
    sig = auth_param(auth, alen, "Signature", &sgl);
    if (cred == NULL || sh == NULL || sig == NULL || sgl != 64 || shl == 0) {
        snprintf(msg, msg_cap,
                 "Authorization header requires 'Credential', 'SignedHeaders' "
                 "and 'Signature' parameters");
        return SIGV4_MALFORMED;
    }
    /* Credential=AKID/yyyymmdd/region/service/aws4_request */
    for (p = cred; p < cred + cl && ns < 4; p++) {
        if (*p == '/')
            slash[ns++] = p;
    }
    if (ns != 4 || memchr(slash[3] + 1, '/', (size_t)(cred + cl - slash[3] - 1)) != NULL) {
        snprintf(msg, msg_cap,
                 "Credential should be AccessKeyId/yyyymmdd/region/service/"
                 "aws4_request");
        return SIGV4_MALFORMED;
    }
    scope = slash[0] + 1;
    cslen = (size_t)(slash[3] - scope);
    amz = find_header(r, "x-amz-date", &dlen);
    if (amz == NULL || !parse_amz_date(amz, dlen, &t)) {
        snprintf(msg, msg_cap,
                 "Authorization header requires an X-Amz-Date header of the form "
                 "yyyyMMddTHHmmssZ");
        return SIGV4_MALFORMED;
    }
    memcpy(amz_date, amz, 16);
    amz_date[16] = '\0';
    if ((size_t)(slash[1] - slash[0] - 1) != 8 || memcmp(slash[0] + 1, amz, 8) != 0) {
        snprintf(msg, msg_cap,
                 "Date in Credential scope does not match YYYYMMDD from "
                 "X-Amz-Date: %.8s",
                 amz);
        return SIGV4_MALFORMED;
    }
    if ((size_t)(slash[2] - slash[1] - 1) != strlen(region) ||
        memcmp(slash[1] + 1, region, strlen(region)) != 0) {
        snprintf(msg, msg_cap,
                 "Credential should be scoped to a valid region, not '%.*s'. "
                 "Larder's region is '%s'",
                 (int)(slash[2] - slash[1] - 1 > 64 ? 64 : slash[2] - slash[1] - 1), slash[1] + 1,
                 region);
        return SIGV4_MALFORMED;
    }
    if ((size_t)(slash[3] - slash[2] - 1) != strlen(service) ||
        memcmp(slash[2] + 1, service, strlen(service)) != 0) {
        snprintf(msg, msg_cap, "Credential should be scoped to correct service: '%s'", service);
        return SIGV4_MALFORMED;
    }
    if ((size_t)(cred + cl - slash[3] - 1) != 12 || memcmp(slash[3] + 1, "aws4_request", 12) != 0) {
        snprintf(msg, msg_cap,
                 "Credential should be scoped with a valid terminator: "
                 "'aws4_request'");
        return SIGV4_MALFORMED;
    }
    key = lr__keyring_find(keys, cred, (size_t)(slash[0] - cred));
    if (key == NULL) {
        snprintf(msg, msg_cap, "The security token included in the request is invalid.");
        return SIGV4_UNKNOWN_KEY;
    }
    if (t > now_s + (int64_t)skew_s || t < now_s - (int64_t)skew_s) {
        fmt_amz(now_s, now_str);
        snprintf(msg, msg_cap,
                 "Signature %s: %s is %s than %u seconds from the server's "
                 "time %s",
                 t < now_s ? "expired" : "not yet current", amz_date,
                 t < now_s ? "earlier" : "later", skew_s, now_str);
        return SIGV4_SKEWED;
    }
    lr__sha256_hex(r->body != NULL ? r->body : "", r->body_len, payload_hash);
    hdr_hash = find_header(r, "x-amz-content-sha256", &dlen);
    if (hdr_hash != NULL) {
        bool eq = dlen == 64;
        for (size_t i = 0; eq && i < 64; i++)
            eq = tolower((unsigned char)hdr_hash[i]) == payload_hash[i];
        if (!eq) {
            snprintf(msg, msg_cap,
                     "The provided 'x-amz-content-sha256' header does not match "
                     "what was computed.");
            return SIGV4_BAD_PAYLOAD;
        }
    }
    lr_buf_clear(canon);
    {
        lr_status st = lr__sigv4_canonical_request(r, sh, shl, payload_hash, canon);
        if (st == LR_EINVAL) {
            snprintf(msg, msg_cap,
                     "The request signature we calculated does not match the "
                     "signature you provided: a signed header is missing or the "
                     "query string has a malformed escape.");
            return SIGV4_MISMATCH;
        }
        if (st != LR_OK) {
            snprintf(msg, msg_cap, "cannot verify the signature: %s", lr_strerror(st));
            return SIGV4_INTERNAL;
        }
    }
    if (!cache->valid || strcmp(cache->key_id, key->id) != 0 || cslen >= sizeof cache->scope ||
        strlen(cache->scope) != cslen || memcmp(cache->scope, scope, cslen) != 0) {
        if (cslen >= sizeof cache->scope) {
            snprintf(msg, msg_cap, "Credential scope is too long");
            return SIGV4_MALFORMED;
        }
        lr__sigv4_signing_key(key->secret, slash[0] + 1, 8, region, strlen(region), service,
                              strlen(service), cache->kSigning);
        memcpy(cache->key_id, key->id, strlen(key->id) + 1);
        memcpy(cache->scope, scope, cslen);
        cache->scope[cslen] = '\0';
        cache->valid = true;
    }
    lr__sigv4_signature(cache->kSigning, amz_date, scope, cslen + 13, canon->data, canon->len,
                        expect);
    {
        char given[65];
        for (size_t i = 0; i < 64; i++)
            given[i] = (char)tolower((unsigned char)sig[i]);
        given[64] = '\0';
        if (CRYPTO_memcmp(given, expect, 64) != 0) {
            snprintf(msg, msg_cap,
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult "
                     "the service documentation for details.");
            return SIGV4_MISMATCH;
        }
    }
    return SIGV4_OK;
}
