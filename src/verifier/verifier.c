/*
 * avow_verifier: the trust configuration of a verifier. All work that can be
 * done once (SPKI DER of keys and certificates, their hashes, warming
 * OpenSSL's extension cache) happens here, so verification itself only reads
 * the configuration; the one thing verifications write is the chain cache,
 * which has its own lock (chain_cache.c).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "core/internal.h"
#include "core/sigalg_int.h"
#include "verifier/verify_int.h"

avow_err avow_verifier_new(const avow_profile *profile, avow_verifier **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    avow_verifier *v = OPENSSL_zalloc(sizeof(*v));
    if (v == NULL)
        return AVOW_ERR_NOMEM;
    if (profile != NULL)
        v->profile = *profile;
    else
        avow_profile_default(&v->profile);
    v->result_max_age = AVOW_RESULT_MAX_AGE_DEFAULT;
    v->store = X509_STORE_new();
    v->untrusted = sk_X509_new_null();
    avow_err rc = avow__chain_cache_new(AVOW_VERIFIER_CACHE_DEFAULT, &v->cache);
    v->md[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
    v->md[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
    v->md[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
    if (v->store == NULL || v->untrusted == NULL || rc != AVOW_OK || v->md[0] == NULL ||
        v->md[1] == NULL || v->md[2] == NULL) {
        avow_verifier_free(v);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    *out = v;
    return AVOW_OK;
}

void avow_verifier_free(avow_verifier *v)
{
    if (v == NULL)
        return;
    X509_STORE_free(v->store);
    sk_X509_free(v->untrusted); /* references are held by certs[] */
    for (size_t i = 0; i < v->ncerts; i++) {
        X509_free(v->certs[i].cert);
        OPENSSL_free(v->certs[i].spki);
    }
    OPENSSL_free(v->certs);
    for (size_t i = 0; i < v->nkeys; i++) {
        OPENSSL_free(v->keys[i].id);
        OPENSSL_free(v->keys[i].spki);
        EVP_PKEY_free(v->keys[i].pub);
        EVP_PKEY_CTX_free(v->keys[i].verify);
    }
    OPENSSL_free(v->keys);
    for (size_t i = 0; i < v->nrkeys; i++) {
        OPENSSL_free(v->rkeys[i].kid);
        EVP_PKEY_free(v->rkeys[i].pub);
    }
    OPENSSL_free(v->rkeys);
    for (size_t i = 0; i < v->nsecrets; i++) {
        OPENSSL_free(v->secrets[i].id);
        OPENSSL_clear_free(v->secrets[i].key, v->secrets[i].key_len);
    }
    OPENSSL_free(v->secrets);
    avow__chain_cache_free(v->cache);
    for (size_t i = 0; i < sizeof(v->md) / sizeof(v->md[0]); i++)
        EVP_MD_free(v->md[i]);
    OPENSSL_free(v);
}

const EVP_MD *avow__verifier_md(const avow_verifier *v, avow_sigalg alg)
{
    const EVP_MD *md = avow__sigalg_md(alg);
    int nid = md != NULL ? EVP_MD_get_type(md) : NID_undef;
    switch (nid) {
    case NID_sha256:
        return v->md[0];
    case NID_sha384:
        return v->md[1];
    case NID_sha512:
        return v->md[2];
    default:
        return NULL;
    }
}

static avow_err avow_verifier_add_anchor_(avow_verifier *v, X509 *cert)
{
    if (v == NULL || cert == NULL)
        return AVOW_ERR_ARG;
    /* The anchor set's digest moves on with every anchor, so chains cached
     * under the old set are never found again (and age out of the cache). */
    uint8_t link[2 * AVOW__SHA256_LEN];
    memcpy(link, v->anchors, AVOW__SHA256_LEN);
    if (!avow__cert_sha256(NULL, cert, link + AVOW__SHA256_LEN))
        return AVOW_ERR_BAD_CERT;
    /* X509_STORE_add_cert takes its own reference; a repeated anchor is harmless. */
    if (!X509_STORE_add_cert(v->store, cert) ||
        EVP_Digest(link, sizeof(link), v->anchors, NULL, EVP_sha256(), NULL) != 1) {
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    return AVOW_OK;
}

avow_err avow_verifier_add_anchor(avow_verifier *v, X509 *cert, avow_diag *diag)
{
    avow_err rc = avow_verifier_add_anchor_(v, cert);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "anchor", "%s",
                      rc == AVOW_ERR_ARG        ? "no verifier or certificate"
                      : rc == AVOW_ERR_BAD_CERT ? "the certificate cannot be encoded"
                                                : avow_strerror(rc));
}

static avow_err spki_der(EVP_PKEY *pub, uint8_t **der, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(pub, &p);
    if (n <= 0) {
        avow__ossl_clear();
        return AVOW_ERR_BAD_SPKI;
    }
    *der = p;
    *len = (size_t)n;
    return AVOW_OK;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t ncap = *cap != 0 ? *cap * 2 : 8;
    void *p = OPENSSL_realloc(*arr, ncap * elem);
    if (p == NULL)
        return 0;
    *arr = p;
    *cap = ncap;
    return 1;
}

static avow_err avow_verifier_add_cert_(avow_verifier *v, X509 *cert)
{
    if (v == NULL || cert == NULL)
        return AVOW_ERR_ARG;
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub == NULL) {
        avow__ossl_clear();
        return AVOW_ERR_BAD_CERT;
    }
    if (!grow((void **)&v->certs, &v->capcerts, v->ncerts + 1, sizeof(*v->certs)))
        return AVOW_ERR_NOMEM;
    avow__vcert c = {cert, NULL, 0, {0}};
    if (!avow__cert_sha256(NULL, cert, c.sha256))
        return AVOW_ERR_BAD_CERT;
    avow_err rc = spki_der(pub, &c.spki, &c.spki_len);
    if (rc != AVOW_OK)
        return rc;
    /* Caches the parsed extensions now rather than inside concurrent verifies. */
    (void)X509_get0_subject_key_id(cert);
    if (!X509_up_ref(cert)) {
        OPENSSL_free(c.spki);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    if (!sk_X509_push(v->untrusted, cert)) {
        X509_free(cert);
        OPENSSL_free(c.spki);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    v->certs[v->ncerts++] = c;
    avow__ossl_clear();
    return AVOW_OK;
}

avow_err avow_verifier_add_cert(avow_verifier *v, X509 *cert, avow_diag *diag)
{
    avow_err rc = avow_verifier_add_cert_(v, cert);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "cert", "%s",
                      rc == AVOW_ERR_ARG        ? "no verifier or certificate"
                      : rc == AVOW_ERR_BAD_CERT ? "the certificate has no usable public key or "
                                                  "cannot be encoded"
                                                : avow_strerror(rc));
}

static avow_err avow_verifier_add_key_(avow_verifier *v, const uint8_t *key_id, size_t len,
                                       EVP_PKEY *pub)
{
    if (v == NULL || pub == NULL || (key_id == NULL && len != 0) || (key_id != NULL && len == 0))
        return AVOW_ERR_ARG;
    if (!grow((void **)&v->keys, &v->capkeys, v->nkeys + 1, sizeof(*v->keys)))
        return AVOW_ERR_NOMEM;
    avow__vkey k;
    memset(&k, 0, sizeof(k));
    k.pub = pub;
    avow_err rc = spki_der(pub, &k.spki, &k.spki_len);
    if (rc != AVOW_OK)
        return rc;
    /* Derived here once, so a keyId lookup during verification only compares. */
    rc = avow__key_ids_of_spki(k.spki, k.spki_len, &k.ids);
    const uint8_t *bits;
    size_t nbits;
    if (rc == AVOW_OK && (!avow__spki_bits(k.spki, k.spki_len, &bits, &nbits) ||
                          EVP_Digest(bits, nbits, k.bits_sha256, NULL, EVP_sha256(), NULL) != 1))
        rc = AVOW_ERR_CRYPTO;
    if (rc == AVOW_OK && key_id != NULL && (k.id = avow__memdup(key_id, len)) == NULL)
        rc = AVOW_ERR_NOMEM;
    if (rc == AVOW_OK && !EVP_PKEY_up_ref(pub))
        rc = AVOW_ERR_NOMEM;
    if (rc != AVOW_OK) {
        OPENSSL_free(k.id);
        OPENSSL_free(k.spki);
        avow__ossl_clear();
        return rc;
    }
    k.id_len = key_id != NULL ? len : 0;
    k.verify = avow__verify_prepare(pub); /* NULL is fine: the key verifies the usual way */
    v->keys[v->nkeys++] = k;
    return AVOW_OK;
}

avow_err avow_verifier_add_key(avow_verifier *v, const uint8_t *key_id, size_t len, EVP_PKEY *pub,
                               avow_diag *diag)
{
    avow_err rc = avow_verifier_add_key_(v, key_id, len, pub);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "pub", "%s",
                      rc == AVOW_ERR_ARG ? "no verifier or key, or a key id of length 0"
                      : rc == AVOW_ERR_BAD_SPKI
                          ? "the key cannot be encoded as a SubjectPublicKeyInfo"
                          : avow_strerror(rc));
}

void avow_verify_opts_init(avow_verify_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

/*
 * The time lives in the store's verify parameters as well, which every
 * X509_STORE_CTX made on the store inherits: so a set time of 0 (1970) is
 * that time, not "now", wherever a chain is built.
 */
avow_err avow_verifier_add_result_key(avow_verifier *v, const char *kid, EVP_PKEY *pub,
                                      avow_diag *diag)
{
    if (v == NULL || pub == NULL || (kid != NULL && kid[0] == '\0'))
        return avow__fail(diag, AVOW_ERR_ARG, "pub", "no verifier or key, or an empty kid");
    if (v->nrkeys >= AVOW_VERIFIER_MAX_RESULT_KEYS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "pub", "more than %u result keys",
                          AVOW_VERIFIER_MAX_RESULT_KEYS);
    if (!grow((void **)&v->rkeys, &v->caprkeys, v->nrkeys + 1, sizeof(*v->rkeys)))
        return avow__fail(diag, AVOW_ERR_NOMEM, "pub", "out of memory");
    avow__result_key k = {NULL, pub};
    if ((kid != NULL && (k.kid = OPENSSL_strdup(kid)) == NULL) || !EVP_PKEY_up_ref(pub)) {
        OPENSSL_free(k.kid);
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_NOMEM, "pub", "out of memory");
    }
    v->rkeys[v->nrkeys++] = k;
    return AVOW_OK;
}

void avow_verifier_set_result_max_age(avow_verifier *v, unsigned seconds)
{
    if (v != NULL)
        v->result_max_age = seconds;
}

void avow_verifier_set_time(avow_verifier *v, time_t at)
{
    if (v == NULL)
        return;
    v->at = at;
    v->at_set = 1;
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(v->store), at);
}

void avow_verifier_clear_time(avow_verifier *v)
{
    if (v == NULL)
        return;
    v->at = 0;
    v->at_set = 0;
    X509_VERIFY_PARAM_clear_flags(X509_STORE_get0_param(v->store), X509_V_FLAG_USE_CHECK_TIME);
}

void avow_verifier_set_flags(avow_verifier *v, unsigned flags)
{
    if (v != NULL)
        v->flags = flags;
}

const avow_profile *avow_verifier_get0_profile(const avow_verifier *v)
{
    return v != NULL ? &v->profile : NULL;
}

avow_err avow_verifier_set_cache(avow_verifier *v, size_t entries, avow_diag *diag)
{
    if (v == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "verifier", "no verifier");
    if (entries > AVOW_VERIFIER_CACHE_MAX)
        return avow__fail(diag, AVOW_ERR_ARG, "entries", "%zu entries, limit %u", entries,
                          (unsigned)AVOW_VERIFIER_CACHE_MAX);
    avow__chain_cache *c = NULL;
    if (entries > 0) {
        avow_err rc = avow__chain_cache_new(entries, &c);
        if (rc != AVOW_OK)
            return avow__fail(diag, rc, "entries", "%s", avow_strerror(rc));
    }
    avow__chain_cache_free(v->cache);
    v->cache = c;
    return AVOW_OK;
}

void avow_verifier_cache_stats(const avow_verifier *v, uint64_t *hits, uint64_t *misses,
                               size_t *entries)
{
    uint64_t h = 0, m = 0;
    size_t n = 0;
    if (v != NULL)
        avow__chain_cache_stats(v->cache, &h, &m, &n);
    if (hits != NULL)
        *hits = h;
    if (misses != NULL)
        *misses = m;
    if (entries != NULL)
        *entries = n;
}

const avow__vsecret *avow__verifier_secret(const avow_verifier *v, const uint8_t *id, size_t len)
{
    for (size_t i = 0; v != NULL && id != NULL && i < v->nsecrets; i++)
        if (v->secrets[i].id_len == len && memcmp(v->secrets[i].id, id, len) == 0)
            return &v->secrets[i];
    return NULL;
}

avow_err avow_verifier_add_secret(avow_verifier *v, const uint8_t *key_id, size_t len,
                                  const uint8_t *secret, size_t secret_len, avow_diag *diag)
{
    if (v == NULL || key_id == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "key_id", "a secret needs a verifier and a key id");
    if (secret == NULL || secret_len < 16 || secret_len > 1024)
        return avow__fail(diag, AVOW_ERR_ARG, "secret", "secret of %zu bytes; 16 to 1024",
                          secret_len);
    if (avow__verifier_secret(v, key_id, len) != NULL)
        return avow__fail(diag, AVOW_ERR_DUP_KEY, "key_id", "another secret has this key id");
    if (!grow((void **)&v->secrets, &v->capsecrets, v->nsecrets + 1, sizeof(*v->secrets)))
        return avow__fail(diag, AVOW_ERR_NOMEM, "secret", "out of memory");
    avow__vsecret k = {avow__memdup(key_id, len), len, avow__memdup(secret, secret_len),
                       secret_len};
    if (k.id == NULL || k.key == NULL) {
        OPENSSL_free(k.id);
        OPENSSL_clear_free(k.key, secret_len);
        return avow__fail(diag, AVOW_ERR_NOMEM, "secret", "out of memory");
    }
    v->secrets[v->nsecrets++] = k;
    return AVOW_OK;
}
