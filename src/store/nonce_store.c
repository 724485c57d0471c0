/*
 * The nonce store front end: argument checks, random nonces, time; the
 * back end (nonce_sqlite.c, later Redis) only stores and flips the flag.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <avow/nonce.h>

#include "core/internal.h"

struct avow_nonce_store {
    const avow_nonce_store_ops *ops;
    void *impl;
};

avow_err avow_nonce_store_new(const avow_nonce_store_ops *ops, void *impl, avow_nonce_store **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    if (ops == NULL || ops->insert == NULL || ops->consume == NULL || ops->purge == NULL)
        return AVOW_ERR_ARG;
    avow_nonce_store *s = OPENSSL_zalloc(sizeof(*s));
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    s->ops = ops;
    s->impl = impl;
    *out = s;
    return AVOW_OK;
}

void avow_nonce_store_free(avow_nonce_store *s)
{
    if (s == NULL)
        return;
    if (s->ops->free != NULL)
        s->ops->free(s->impl);
    OPENSSL_free(s);
}

const char *avow_nonce_store_name(const avow_nonce_store *s)
{
    return s != NULL && s->ops->name != NULL ? s->ops->name : "unknown";
}

static time_t now_or(time_t now)
{
    return now != 0 ? now : time(NULL);
}

avow_err avow_nonce_issue(avow_nonce_store *s, size_t len, unsigned ttl, time_t now, avow_buf *out,
                          avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (s == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store or output");
    if (len == 0)
        len = AVOW_NONCE_DEFAULT_LEN;
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce.len", "nonce length %zu is outside %u..%u",
                          len, AVOW_NONCE_MIN_LEN, AVOW_NONCE_MAX_LEN);
    if (ttl == 0)
        ttl = AVOW_NONCE_DEFAULT_TTL;
    now = now_or(now);
    uint8_t *b = OPENSSL_malloc(len);
    if (b == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce", "out of memory");
    avow_err rc = AVOW_ERR_INTERNAL;
    /* A 128-bit or longer random value does not collide; retry once anyway. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (RAND_bytes(b, (int)len) != 1) {
            rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "nonce", "RAND_bytes failed");
            break;
        }
        rc = s->ops->insert(s->impl, b, len, now, now + (time_t)ttl, diag);
        if (rc != AVOW_ERR_DUP_KEY)
            break;
    }
    if (rc != AVOW_OK) {
        OPENSSL_free(b);
        return rc;
    }
    out->ptr = b;
    out->len = len;
    return AVOW_OK;
}

avow_err avow_nonce_consume(avow_nonce_store *s, const uint8_t *nonce, size_t len, time_t now,
                            avow_diag *diag)
{
    if (s == NULL || (nonce == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store or nonce");
    /* A length no issued nonce can have is simply not one of ours. */
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                          "a %zu-byte nonce was not issued by this verifier", len);
    return s->ops->consume(s->impl, nonce, len, now_or(now), diag);
}

avow_err avow_nonce_purge(avow_nonce_store *s, time_t now, unsigned grace, size_t *removed,
                          avow_diag *diag)
{
    if (removed != NULL)
        *removed = 0;
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store");
    return s->ops->purge(s->impl, now_or(now) - (time_t)grace, removed, diag);
}
