/*
 * avow_signer: the one seam through which Evidence, CSRs and tokens are
 * signed. The generic part keeps the public key, algorithm and certificate
 * chain; the back end only turns bytes into a signature. The software back
 * end (a private EVP_PKEY in memory) lives here too because every build has it.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <avow/signer.h>

#include "core/internal.h"
#include "core/sigalg_int.h"
#include "core/signer_int.h"

struct avow_signer {
    avow_signer_ops ops; /* copied: a back end may build its table on the stack */
    void *impl;
    EVP_PKEY *pub;
    avow_sigalg alg;
    X509 *cert;
    STACK_OF(X509) * chain;
};

avow_err avow_signer_new(const avow_signer_ops *ops, void *impl, EVP_PKEY *pub, avow_sigalg alg,
                         avow_signer **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    if (ops == NULL || ops->size != sizeof(*ops) || ops->sign == NULL || pub == NULL)
        return AVOW_ERR_ARG;
    if (alg == AVOW_SIGALG_NONE) {
        avow_err rc = avow_sigalg_for_key(pub, 0, &alg);
        if (rc != AVOW_OK)
            return rc;
    }
    avow_err supported = avow_sigalg_supported(alg);
    if (supported != AVOW_OK)
        return supported;
    if (!avow__sigalg_fits_key(alg, pub))
        return AVOW_ERR_ALG_MISMATCH;
    avow_signer *s = OPENSSL_zalloc(sizeof(*s));
    if (s == NULL || !EVP_PKEY_up_ref(pub)) {
        OPENSSL_free(s);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    s->ops = *ops;
    s->impl = impl;
    s->pub = pub;
    s->alg = alg;
    *out = s;
    return AVOW_OK;
}

void avow_signer_free(avow_signer *s)
{
    if (s == NULL)
        return;
    if (s->ops.free != NULL)
        s->ops.free(s->impl);
    EVP_PKEY_free(s->pub);
    X509_free(s->cert);
    sk_X509_pop_free(s->chain, X509_free);
    OPENSSL_free(s);
}

avow_err avow_signer_set1_cert(avow_signer *s, X509 *cert, STACK_OF(X509) * chain)
{
    if (s == NULL || cert == NULL)
        return AVOW_ERR_ARG;
    /* A certificate for another key would make every signature unverifiable. */
    EVP_PKEY *cert_key = X509_get0_pubkey(cert);
    if (cert_key == NULL || EVP_PKEY_eq(cert_key, s->pub) != 1) {
        avow__ossl_clear();
        return AVOW_ERR_ARG;
    }
    STACK_OF(X509) *copy = NULL;
    if (chain != NULL && (copy = X509_chain_up_ref(chain)) == NULL) {
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    if (!X509_up_ref(cert)) {
        sk_X509_pop_free(copy, X509_free);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    X509_free(s->cert);
    sk_X509_pop_free(s->chain, X509_free);
    s->cert = cert;
    s->chain = copy;
    return AVOW_OK;
}

avow_err avow_signer_sign(avow_signer *s, const uint8_t *data, size_t len, avow_buf *sig,
                          avow_diag *diag)
{
    if (sig != NULL) {
        sig->ptr = NULL;
        sig->len = 0;
    }
    if (s == NULL || sig == NULL || (data == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "NULL argument");
    avow_err rc = s->ops.sign(s->impl, s->alg, data, len, sig, diag);
    if (rc != AVOW_OK) {
        avow_buf_free(sig);
        /* A back end that forgot to drain the queue must not leak it to our caller. */
        if (ERR_peek_error() != 0)
            avow__ossl_clear();
        return rc;
    }
    if (sig->ptr == NULL || sig->len == 0)
        return avow__fail(diag, AVOW_ERR_INTERNAL, NULL, "%s signer returned no signature",
                          s->ops.name != NULL ? s->ops.name : "back-end");
    return AVOW_OK;
}

avow_sigalg avow_signer_alg(const avow_signer *s)
{
    return s != NULL ? s->alg : AVOW_SIGALG_NONE;
}

EVP_PKEY *avow_signer_get0_pubkey(const avow_signer *s)
{
    return s != NULL ? s->pub : NULL;
}

X509 *avow_signer_get0_cert(const avow_signer *s)
{
    return s != NULL ? s->cert : NULL;
}

STACK_OF(X509) * avow_signer_get0_chain(const avow_signer *s)
{
    return s != NULL ? s->chain : NULL;
}

/* --- software back end --- */

static avow_err soft_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                          avow_buf *sig, avow_diag *diag)
{
    EVP_PKEY *pkey = impl;
    if (!avow__sigalg_fits_key(alg, pkey))
        return avow__fail(diag, AVOW_ERR_ALG_MISMATCH, NULL, "%s does not fit the signing key",
                          avow_sigalg_name(alg) != NULL ? avow_sigalg_name(alg) : "algorithm");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, NULL, "EVP_MD_CTX_new");
    EVP_PKEY_CTX *pctx = NULL;
    avow_err rc = AVOW_OK;
    size_t cap = 0;
    uint8_t *buf = NULL;
    /* Ed25519, ML-DSA and SLH-DSA have no separate digest: EVP_DigestSign is their one-shot form.
     */
    if (EVP_DigestSignInit(ctx, &pctx, avow__sigalg_md(alg), NULL, pkey) != 1 ||
        !avow__sigalg_set_padding(alg, pctx)) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, NULL, "cannot set up %s signing",
                             avow_sigalg_name(alg));
    } else if (EVP_DigestSign(ctx, NULL, &cap, data, len) != 1 ||
               (buf = OPENSSL_malloc(cap)) == NULL ||
               EVP_DigestSign(ctx, buf, &cap, data, len) != 1) {
        rc = avow__fail_ossl(diag, buf == NULL && cap != 0 ? AVOW_ERR_NOMEM : AVOW_ERR_CRYPTO, NULL,
                             "%s signing failed", avow_sigalg_name(alg));
        OPENSSL_free(buf);
        buf = NULL;
    }
    EVP_MD_CTX_free(ctx);
    if (rc == AVOW_OK) {
        sig->ptr = buf;
        sig->len = cap;
    }
    return rc;
}

static void soft_free(void *impl)
{
    EVP_PKEY_free(impl);
}

static const avow_signer_ops SOFT_OPS = {sizeof(avow_signer_ops), "software", soft_sign, soft_free};

EVP_PKEY *avow__signer_get0_private(const avow_signer *s)
{
    return s != NULL && s->ops.sign == soft_sign ? s->impl : NULL;
}

avow_err avow_signer_new_pkey(EVP_PKEY *pkey, avow_sigalg alg, avow_signer **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "signer", "no output");
    *out = NULL;
    if (pkey == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "key", "no key");
    if (!EVP_PKEY_up_ref(pkey)) {
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_NOMEM, "key", "out of memory");
    }
    avow_err rc = avow_signer_new(&SOFT_OPS, pkey, pkey, alg, out);
    if (rc != AVOW_OK) {
        EVP_PKEY_free(pkey);
        const char *an = avow_sigalg_name(alg);
        avow__fail(diag, rc, "key", "cannot sign with this %s key%s%s: %s",
                   EVP_PKEY_get0_type_name(pkey) != NULL ? EVP_PKEY_get0_type_name(pkey) : "",
                   an != NULL ? " under " : "", an != NULL ? an : "", avow_strerror(rc));
    }
    return rc;
}
