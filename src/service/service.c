/*
 * avow_service: what one `avow serve` holds for its lifetime (the CA
 * directory with its key and store, the verifier with its anchors, the
 * policy, the users, the TLS files, metrics and logs) and its start and
 * stop. The HTTP side is http.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "service/service_int.h"

#define TLS_FILE_MAX (256u * 1024u)
#define ANCHOR_MAX   (4u * 1024u * 1024u)

void avow_service_opts_init(avow_service_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

/* "HOST:PORT" or "[V6]:PORT", numeric only: a service binds what it was told, no lookups. */
static avow_err parse_listen(avow_service *s, const char *text, avow_diag *d)
{
    const char *host = text, *colon;
    size_t hlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return avow__fail(d, AVOW_ERR_CONFIG, "listen", "want [ADDRESS]:PORT: %s", text);
        host = text + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
        s->ipv6 = 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL)
            return avow__fail(d, AVOW_ERR_CONFIG, "listen", "want ADDRESS:PORT: %s", text);
        hlen = (size_t)(colon - text);
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = colon[1] >= '0' && colon[1] <= '9' ? strtoul(colon + 1, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || port > 65535 || hlen == 0 ||
        hlen >= sizeof(s->addr))
        return avow__fail(d, AVOW_ERR_CONFIG, "listen", "want ADDRESS:PORT (0..65535): %s", text);
    memcpy(s->addr, host, hlen);
    s->addr[hlen] = '\0';
    s->want_port = (uint16_t)port;
    return AVOW_OK;
}

/* Every certificate of a PEM bundle, or one DER certificate, as trust anchors. */
static avow_err add_anchors(avow_service *s, const char *path, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = avow_read_file(path, ANCHOR_MAX, &raw, d);
    if (err != AVOW_OK)
        return err;
    size_t added = 0;
    if (raw.len > 0 && raw.ptr[0] == 0x30) {
        const uint8_t *p = raw.ptr;
        X509 *c = d2i_X509(NULL, &p, (long)raw.len);
        if (c != NULL && p == raw.ptr + raw.len)
            err = avow_verifier_add_anchor(s->v, c, d), added++;
        X509_free(c);
    } else {
        BIO *b = BIO_new_mem_buf(raw.ptr, (int)raw.len);
        X509 *c;
        while (err == AVOW_OK && b != NULL &&
               (c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            err = avow_verifier_add_anchor(s->v, c, d);
            X509_free(c);
            added++;
        }
        BIO_free(b);
        ERR_clear_error(); /* the end of the bundle */
    }
    avow_buf_free(&raw);
    if (err == AVOW_OK && added == 0)
        err = avow__fail(d, AVOW_ERR_BAD_CERT, "anchors", "no certificate in %s", path);
    return err;
}

/*
 * A PEM public key from "iaks" (a PSA attester's IAK, found by the key ids
 * derived from it) or "result_keys" (another verifier's, for passports).
 */
static avow_err add_pubkey(avow_service *s, const char *path, int result, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = avow_read_file(path, ANCHOR_MAX, &raw, d);
    if (err != AVOW_OK)
        return err;
    BIO *b = BIO_new_mem_buf(raw.ptr, (int)raw.len);
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    avow_buf_free(&raw);
    if (k == NULL) {
        ERR_clear_error();
        return avow__fail(d, AVOW_ERR_CONFIG, result ? "result_keys" : "iaks",
                          "no PEM public key in %s", path);
    }
    err = result ? avow_verifier_add_result_key(s->v, NULL, k, d)
                 : avow_verifier_add_key(s->v, NULL, 0, k, d);
    EVP_PKEY_free(k);
    return err;
}

static avow_err read_text(const char *path, char **out, avow_diag *d)
{
    avow_buf b = {0};
    avow_err err = avow_read_file(path, TLS_FILE_MAX, &b, d);
    if (err != AVOW_OK)
        return err;
    char *t = OPENSSL_malloc(b.len + 1);
    if (t == NULL) {
        avow_buf_free(&b);
        return avow__fail(d, AVOW_ERR_NOMEM, "tls", "no memory");
    }
    memcpy(t, b.ptr, b.len);
    t[b.len] = '\0';
    avow_buf_free(&b);
    *out = t;
    return AVOW_OK;
}

/* est.client_ca: PEM text for GnuTLS to ask for certificates, a store for OpenSSL to judge. */
static avow_err load_client_ca(avow_service *s, avow_diag *d)
{
    if (s->cfg.plain_http)
        return avow__fail(d, AVOW_ERR_CONFIG, "est.auth", "tls-client authentication needs TLS");
    avow_err err = read_text(s->cfg.client_ca, &s->client_ca_pem, d);
    if (err != AVOW_OK)
        return err;
    X509_STORE *st = X509_STORE_new();
    BIO *b = BIO_new_mem_buf(s->client_ca_pem, -1);
    size_t n = 0;
    X509 *c;
    while (st != NULL && b != NULL && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(st, c) == 1)
            n++;
        X509_free(c);
    }
    BIO_free(b);
    ERR_clear_error();
    s->client_store = st;
    if (st == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "est.client_ca", "no memory");
    if (n == 0)
        return avow__fail(d, AVOW_ERR_BAD_CERT, "est.client_ca", "no PEM certificate in %s",
                          s->cfg.client_ca);
    return AVOW_OK;
}

/*
 * est.cookie_key: instances behind one load balancer must recognise each
 * other's nonce cookies, so they share a key file (0600) instead of each
 * drawing its own. The HMAC key is SHA-256 of the file's bytes (any length
 * from 32 bytes), under a label so the file could serve nothing else.
 */
static avow_err load_cookie_key(avow_service *s, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = svc_secret_file(s->cfg.cookie_key, "est.cookie_key", &raw, d);
    if (err != AVOW_OK)
        return err;
    static const char label[] = "avow est nonce cookie key";
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, label, sizeof(label)) != 1 ||
        EVP_DigestUpdate(md, raw.ptr, raw.len) != 1 ||
        EVP_DigestFinal_ex(md, s->cookie_key, &n) != 1 || n != sizeof(s->cookie_key))
        err = avow__fail_ossl(d, AVOW_ERR_CRYPTO, "est.cookie_key", "SHA-256 failed");
    EVP_MD_CTX_free(md);
    avow_buf_free(&raw);
    return err;
}

static avow_err setup(avow_service *s, const avow_service_opts *o, avow_diag *d)
{
    svc_config *c = &s->cfg;
    avow_err err = svc_config_load(o->config, c, d);
    if (err != AVOW_OK)
        return err;
    if (o->ca_dir != NULL && (free(c->ca), c->ca = strdup(o->ca_dir)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "ca", "no memory");
    if (o->listen != NULL && (free(c->listen), c->listen = strdup(o->listen)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "listen", "no memory");
    if (o->flags & AVOW_SERVICE_PLAIN_HTTP)
        c->plain_http = 1;
    if (c->ca == NULL)
        return avow__fail(d, AVOW_ERR_CONFIG, "ca", "no CA directory (\"ca\" or -ca DIR)");
    if (!c->plain_http && c->tls_cert == NULL)
        return avow__fail(d, AVOW_ERR_CONFIG, "tls",
                          "give tls.cert and tls.key, or ask for plain HTTP (\"plain_http\": "
                          "true, -plain-http)");
    err = parse_listen(s, c->listen != NULL ? c->listen : SVC_DEFAULT_LISTEN, d);
    if (err == AVOW_OK && !c->plain_http) {
        err = read_text(c->tls_cert, &s->tls_cert_pem, d);
        if (err == AVOW_OK)
            err = read_text(c->tls_key, &s->tls_key_pem, d);
    }
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    oo.pin_source = c->pin_source;
    oo.pkcs11_module = c->pkcs11_module;
    oo.store = c->store; /* NULL ("sqlite"): DIR/nonces.db */
    if (err == AVOW_OK)
        err = avow_ca_dir_open(c->ca, &oo, &s->cd, d);
    if (err == AVOW_OK && c->policy != NULL)
        err = avow_policy_load(c->policy, &s->policy, d);
    avow_profile p;
    avow_profile_default(&p);
    if (err == AVOW_OK && avow_verifier_new(&p, &s->v) != AVOW_OK)
        err = avow__fail(d, AVOW_ERR_NOMEM, "verifier", "no memory");
    if (err == AVOW_OK && c->nanchors + o->nanchors == 0)
        err = avow__fail(d, AVOW_ERR_CONFIG, "anchors",
                         "no trust anchors for attestation keys (\"anchors\" or -CAfile)");
    for (size_t i = 0; err == AVOW_OK && i < c->nanchors; i++)
        err = add_anchors(s, c->anchors[i], d);
    for (size_t i = 0; err == AVOW_OK && i < o->nanchors; i++)
        err = add_anchors(s, o->anchors[i], d);
    for (size_t i = 0; err == AVOW_OK && i < c->niaks; i++)
        err = add_pubkey(s, c->iaks[i], 0, d);
    /* Passports: the EARs this service signs in verifier sessions, and other verifiers'. */
    if (err == AVOW_OK)
        err = avow_verifier_add_result_key(
            s->v, NULL, avow_signer_get0_pubkey(avow_ca_get0_signer(avow_ca_dir_get0_ca(s->cd))),
            d);
    for (size_t i = 0; err == AVOW_OK && i < c->nresult_keys; i++)
        err = add_pubkey(s, c->result_keys[i], 1, d);
    if (err == AVOW_OK && c->passport_policy != NULL)
        err = avow_policy_load(c->passport_policy, &s->passport_policy, d);
    if (err == AVOW_OK && c->cookie_key != NULL)
        err = load_cookie_key(s, d);
    if (err == AVOW_OK && c->cmp)
        err = svc_cmp_setup(s, d);
    if (err == AVOW_OK && c->auth == SVC_AUTH_BASIC)
        err = svc_users_load(c->users, &s->users, d);
    if (err == AVOW_OK && c->auth == SVC_AUTH_TLS_CLIENT)
        err = load_client_ca(s, d);
    if (err == AVOW_OK)
        err = svc_log_open(&s->access, c->access_log, d);
    if (err == AVOW_OK)
        err = svc_log_open(&s->audit, c->audit_log, d);
    if (err == AVOW_OK)
        err = svc_oauth_setup(s, d);
    if (err == AVOW_OK)
        err = svc_wimse_setup(s, d);
    return err;
}

avow_err avow_service_new(const avow_service_opts *opts, avow_service **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "out", "NULL");
    *out = NULL;
    if (opts == NULL || opts->size != sizeof(avow_service_opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size", "unknown options size");
    avow_service *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "service", "no memory");
    pthread_mutex_init(&s->sign_lock, NULL);
    svc_metrics_init(&s->m);
    svc_recent_init(&s->recent);
    s->access.fd = s->audit.fd = -1;
    pthread_mutex_init(&s->access.lock, NULL);
    pthread_mutex_init(&s->audit.lock, NULL);
    avow_err err = AVOW_OK;
    if (RAND_bytes(s->cookie_key, sizeof(s->cookie_key)) != 1)
        err = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "cookie_key", "no random bytes");
    if (err == AVOW_OK)
        err = setup(s, opts, diag);
    if (err != AVOW_OK) {
        avow_service_free(s);
        return err;
    }
    *out = s;
    return AVOW_OK;
}

avow_err avow_service_start(avow_service *s, avow_diag *diag)
{
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "service", "NULL");
    if (s->daemon != NULL)
        return avow__fail(diag, AVOW_ERR_STATE, "service", "already started");
    return svc_http_start(s, diag);
}

uint16_t avow_service_port(const avow_service *s)
{
    return s != NULL ? s->port : 0;
}

unsigned avow_service_stop(avow_service *s, unsigned drain_ms)
{
    return s != NULL ? svc_http_stop(s, drain_ms) : 0;
}

void avow_service_free(avow_service *s)
{
    if (s == NULL)
        return;
    svc_http_stop(s, 0);
    avow_cmp_server_free(s->cmp);
    svc_oauth_free(s);
    svc_wimse_free(s);
    avow_verifier_free(s->v);
    avow_policy_free(s->policy);
    avow_policy_free(s->passport_policy);
    avow_ca_dir_free(s->cd);
    svc_users_free(s->users);
    OPENSSL_clear_free(s->tls_key_pem, s->tls_key_pem != NULL ? strlen(s->tls_key_pem) : 0);
    OPENSSL_free(s->tls_cert_pem);
    OPENSSL_free(s->client_ca_pem);
    X509_STORE_free(s->client_store);
    svc_log_close(&s->access);
    svc_log_close(&s->audit);
    svc_metrics_free(&s->m);
    svc_recent_free(&s->recent);
    pthread_mutex_destroy(&s->sign_lock);
    OPENSSL_cleanse(s->cookie_key, sizeof(s->cookie_key));
    svc_config_free(&s->cfg);
    free(s);
}

void svc_sign_ear(avow_service *s, const avow_ear *ear, avow_buf *jwt)
{
    avow_diag d;
    avow_diag_clear(&d);
    pthread_mutex_lock(&s->sign_lock);
    avow_err err =
        avow_ear_sign_jwt(ear, avow_ca_get0_signer(avow_ca_dir_get0_ca(s->cd)), NULL, jwt, &d);
    pthread_mutex_unlock(&s->sign_lock);
    if (err != AVOW_OK)
        avow_buf_free(jwt);
}
