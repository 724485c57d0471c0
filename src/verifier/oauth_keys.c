/*
 * The key cache of an OAuth server (avow_oauth_key_cache): cnf JWKs already
 * imported, and the trusted attester keys, each with an ECDSA verification
 * prepared once. With OpenSSL 3.0 the import of a JWK (EVP_PKEY_fromdata,
 * the point's check) and the fetches of EVP_DigestVerifyInit cost about as
 * much as the signature check itself; a server that sees the same client
 * keys again pays them once.
 *
 * A cnf entry is found by the full RFC 7638 thumbprint input of the JWK
 * (the required members, sorted, compact: the only members the import
 * reads), compared byte for byte; a 64-bit FNV hash only skips unequal
 * entries faster. So a hit is the key the import would give, never a
 * different one. The private-member check runs on every call, as it reads
 * members outside that text. Attester entries hold a reference to the
 * caller's EVP_PKEY, so its address cannot be reused while it is cached.
 *
 * Readers share a read lock and copy what they need (EVP_PKEY_up_ref,
 * EVP_PKEY_CTX_dup); an insertion takes the write lock and replaces slots
 * round robin. The references dropped by an eviction go outside the lock.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/oauth.h>

#include "core/internal.h"
#include "formats/jose_int.h"
#include "verifier/oauth_keys.h"

#define ATTESTER_SLOTS 16

typedef struct cnf_slot {
    uint64_t hash;
    char *text; /* the thumbprint input; NULL: empty slot */
    size_t len;
    EVP_PKEY *key;
    EVP_PKEY_CTX *verify; /* ECDSA only */
    char jkt[48];         /* base64url SHA-256 of text: 43 characters */
} cnf_slot;

typedef struct att_slot {
    EVP_PKEY *key;
    EVP_PKEY_CTX *verify;
} att_slot;

struct avow_oauth_key_cache {
    CRYPTO_RWLOCK *lock;
    EVP_MD *md[3]; /* SHA-256, -384, -512, fetched once */
    cnf_slot *cnf;
    size_t ncnf, hand;
    att_slot att[ATTESTER_SLOTS];
    size_t natt;
};

avow_err avow_oauth_key_cache_new(size_t capacity, avow_oauth_key_cache **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "key_cache", "no output");
    *out = NULL;
    if (capacity == 0)
        capacity = AVOW_OAUTH_KEY_CACHE_DEFAULT;
    if (capacity > AVOW_OAUTH_KEY_CACHE_MAX)
        return avow__fail(diag, AVOW_ERR_ARG, "key_cache.capacity", "%zu keys; at most %u",
                          capacity, AVOW_OAUTH_KEY_CACHE_MAX);
    avow_oauth_key_cache *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "key_cache", "out of memory");
    c->lock = CRYPTO_THREAD_lock_new();
    c->cnf = OPENSSL_zalloc(capacity * sizeof(*c->cnf));
    c->ncnf = capacity;
    static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
    int ok = c->lock != NULL && c->cnf != NULL;
    for (size_t i = 0; ok && i < 3; i++)
        ok = (c->md[i] = EVP_MD_fetch(NULL, names[i], NULL)) != NULL;
    if (!ok) {
        avow_oauth_key_cache_free(c);
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "key_cache", "cannot set up the key cache");
    }
    *out = c;
    return AVOW_OK;
}

void avow_oauth_key_cache_free(avow_oauth_key_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->cnf != NULL && i < c->ncnf; i++) {
        free(c->cnf[i].text);
        EVP_PKEY_free(c->cnf[i].key);
        EVP_PKEY_CTX_free(c->cnf[i].verify);
    }
    OPENSSL_free(c->cnf);
    for (size_t i = 0; i < c->natt; i++) {
        EVP_PKEY_free(c->att[i].key);
        EVP_PKEY_CTX_free(c->att[i].verify);
    }
    for (size_t i = 0; i < 3; i++)
        EVP_MD_free(c->md[i]);
    CRYPTO_THREAD_lock_free(c->lock);
    OPENSSL_free(c);
}

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* A verification of key set up once (EC keys only: the prepared path is ECDSA's); NULL otherwise.
 */
static EVP_PKEY_CTX *prepare(EVP_PKEY *key)
{
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return NULL;
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (p != NULL && EVP_PKEY_verify_init(p) != 1) {
        EVP_PKEY_CTX_free(p);
        p = NULL;
    }
    avow__ossl_clear();
    return p;
}

void avow__oauth_prep_init(avow_oauth_key_cache *c, avow__jws_prep *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; c != NULL && i < 3; i++)
        p->md[i] = c->md[i];
}

static avow_err jkt_of(avow_oauth_key_cache *c, const char *text, size_t n, char out[48])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(text, n, md, &mdlen, c->md[0], NULL) != 1 || mdlen != sizeof(md))
        return AVOW_ERR_CRYPTO;
    avow_buf b = {0};
    if (avow_b64url_encode(md, sizeof(md), &b) != AVOW_OK || b.len >= 48) {
        avow_buf_free(&b);
        return AVOW_ERR_NOMEM;
    }
    memcpy(out, b.ptr, b.len + 1);
    avow_buf_free(&b);
    return AVOW_OK;
}

/* Copies of slot's key and verification into the caller's. */
static int hand_out(const EVP_PKEY *src_key, EVP_PKEY_CTX *src_verify, EVP_PKEY **key,
                    avow__jws_prep *p)
{
    if (src_verify != NULL && (p->verify = EVP_PKEY_CTX_dup(src_verify)) == NULL)
        return 0;
    if (key != NULL) {
        if (!EVP_PKEY_up_ref((EVP_PKEY *)src_key)) {
            EVP_PKEY_CTX_free(p->verify);
            p->verify = NULL;
            return 0;
        }
        *key = (EVP_PKEY *)src_key;
    }
    return 1;
}

avow_err avow__oauth_cnf_key(avow_oauth_key_cache *c, const json_t *jwk, const char *field,
                             EVP_PKEY **key, avow__jws_prep *p, avow_buf *jkt, avow_diag *d)
{
    *key = NULL;
    avow__oauth_prep_init(c, p);
    avow_err rc = avow__jwk_check_public(jwk, field, d);
    if (rc != AVOW_OK)
        return rc;
    char *text = avow__jwk_canonical_text(jwk);
    if (text == NULL) /* not a JWK avow takes: the import says why */
        return avow__jwk_from_json(jwk, field, key, d);
    size_t n = strlen(text);
    uint64_t h = fnv(text, n);
    int hit = 0, bad = 0;
    char jk[48];
    if (CRYPTO_THREAD_read_lock(c->lock)) {
        for (size_t i = 0; i < c->ncnf && !hit; i++) {
            const cnf_slot *s = &c->cnf[i];
            if (s->text != NULL && s->hash == h && s->len == n && memcmp(s->text, text, n) == 0) {
                hit = 1;
                bad = !hand_out(s->key, s->verify, key, p);
                memcpy(jk, s->jkt, sizeof(jk));
            }
        }
        CRYPTO_THREAD_unlock(c->lock);
    }
    if (bad) {
        free(text);
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    }
    if (!hit) {
        cnf_slot fresh = {.hash = h, .text = text, .len = n};
        if ((rc = avow__jwk_from_json(jwk, field, &fresh.key, d)) != AVOW_OK) {
            free(text);
            return rc;
        }
        if (jkt_of(c, text, n, fresh.jkt) != AVOW_OK) {
            EVP_PKEY_free(fresh.key);
            free(text);
            return avow__fail_ossl(d, AVOW_ERR_CRYPTO, field, "SHA-256 failed");
        }
        memcpy(jk, fresh.jkt, sizeof(jk));
        fresh.verify = prepare(fresh.key);
        if (!hand_out(fresh.key, fresh.verify, key, p)) {
            EVP_PKEY_free(fresh.key);
            EVP_PKEY_CTX_free(fresh.verify);
            free(text);
            return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
        }
        text = NULL;
        if (CRYPTO_THREAD_write_lock(c->lock)) {
            cnf_slot old = c->cnf[c->hand];
            c->cnf[c->hand] = fresh;
            c->hand = (c->hand + 1) % c->ncnf;
            CRYPTO_THREAD_unlock(c->lock);
            fresh = old; /* the evicted entry is dropped below, outside the lock */
        }
        free(fresh.text);
        EVP_PKEY_free(fresh.key);
        EVP_PKEY_CTX_free(fresh.verify);
    }
    free(text);
    size_t jn = strlen(jk);
    if ((jkt->ptr = OPENSSL_malloc(jn + 1)) == NULL) {
        EVP_PKEY_free(*key);
        *key = NULL;
        EVP_PKEY_CTX_free(p->verify);
        p->verify = NULL;
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    }
    memcpy(jkt->ptr, jk, jn + 1);
    jkt->len = jn;
    return AVOW_OK;
}

avow_err avow__oauth_attester_prep(avow_oauth_key_cache *c, EVP_PKEY *key, avow__jws_prep *p)
{
    avow__oauth_prep_init(c, p);
    if (c == NULL || key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return AVOW_OK;
    int hit = 0, bad = 0;
    if (CRYPTO_THREAD_read_lock(c->lock)) {
        for (size_t i = 0; i < c->natt && !hit; i++)
            if (c->att[i].key == key) {
                hit = 1;
                bad = !hand_out(key, c->att[i].verify, NULL, p);
            }
        CRYPTO_THREAD_unlock(c->lock);
    }
    if (bad)
        return AVOW_ERR_NOMEM;
    if (hit)
        return AVOW_OK;
    EVP_PKEY_CTX *v = prepare(key);
    if (v == NULL)
        return AVOW_OK; /* the plain path */
    if ((p->verify = EVP_PKEY_CTX_dup(v)) == NULL) {
        EVP_PKEY_CTX_free(v);
        return AVOW_ERR_NOMEM;
    }
    /* A full table stays as it is: attester keys are few, and a miss is only slower. */
    if (EVP_PKEY_up_ref(key)) {
        if (CRYPTO_THREAD_write_lock(c->lock)) {
            int dup = 0;
            for (size_t i = 0; i < c->natt; i++)
                dup |= c->att[i].key == key;
            if (!dup && c->natt < ATTESTER_SLOTS) {
                c->att[c->natt].key = key;
                c->att[c->natt++].verify = v;
                key = NULL;
                v = NULL;
            }
            CRYPTO_THREAD_unlock(c->lock);
        }
        EVP_PKEY_free(key); /* the reference taken above, unless the table keeps it */
    }
    EVP_PKEY_CTX_free(v);
    return AVOW_OK;
}
