/*
 * A signer whose key lives in a TPM: the digest is made here and signed by
 * TPM2_Sign (ESYS) with the scheme the signer's algorithm names, so the
 * private key never leaves the TPM. ECDSA comes back as r and s and is
 * returned as a DER ECDSA-Sig-Value, as every avow signer returns it.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <tss2/tss2_esys.h>

#include <avow/signer.h>
#include <avow/tpm.h>

#include "core/internal.h"

typedef struct tpm_key {
    ESYS_CONTEXT *esys; /* borrowed: outlives the signer */
    ESYS_TR key;
} tpm_key;

static avow_err ecdsa_der(const TPMS_SIGNATURE_ECC *e, avow_buf *sig, avow_diag *diag)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
    BIGNUM *s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es), BN_free(r), BN_free(s);
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "signature", "out of memory");
    }
    unsigned char *der = NULL;
    int n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signature", "i2d_ECDSA_SIG");
    sig->ptr = der;
    sig->len = (size_t)n;
    return AVOW_OK;
}

static avow_err tpm_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                         avow_buf *sig, avow_diag *diag)
{
    tpm_key *k = impl;
    const avow_sigalg_desc *a = avow_sigalg_info(alg);
    TPMT_SIG_SCHEME scheme;
    memset(&scheme, 0, sizeof(scheme));
    TPMI_ALG_HASH h = 0;
    if (a != NULL && a->hash == AVOW_HASH_SHA256)
        h = TPM2_ALG_SHA256;
    else if (a != NULL && a->hash == AVOW_HASH_SHA384)
        h = TPM2_ALG_SHA384;
    else if (a != NULL && a->hash == AVOW_HASH_SHA512)
        h = TPM2_ALG_SHA512;
    if (h == 0 ||
        (a->family != AVOW_SIGALG_FAMILY_ECDSA && a->family != AVOW_SIGALG_FAMILY_RSA_PKCS1))
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "alg",
                          "a TPM key signs ECDSA or RSA PKCS#1 v1.5 with SHA-2 here");
    scheme.scheme = a->family == AVOW_SIGALG_FAMILY_ECDSA ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA;
    scheme.details.any.hashAlg = h;
    TPM2B_DIGEST dg;
    memset(&dg, 0, sizeof(dg));
    unsigned int n = 0;
    if (!EVP_Digest(data, len, dg.buffer, &n, EVP_get_digestbyname(a->hash_name), NULL))
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "data", "digest failed");
    dg.size = (UINT16)n;
    /* A NULL ticket: the key is not restricted, so the TPM signs any digest. */
    TPMT_TK_HASHCHECK ticket;
    memset(&ticket, 0, sizeof(ticket));
    ticket.tag = TPM2_ST_HASHCHECK;
    ticket.hierarchy = TPM2_RH_NULL;
    TPMT_SIGNATURE *ts = NULL;
    TSS2_RC rc = Esys_Sign(k->esys, k->key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &dg,
                           &scheme, &ticket, &ts);
    if (rc != TSS2_RC_SUCCESS) {
        avow_err e = avow__fail(diag, AVOW_ERR_CRYPTO, "tpm", "TPM2_Sign failed (TSS2_RC 0x%x)",
                                (unsigned)rc);
        avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
        return e;
    }
    avow_err out = AVOW_OK;
    if (ts->sigAlg == TPM2_ALG_ECDSA) {
        out = ecdsa_der(&ts->signature.ecdsa, sig, diag);
    } else if (ts->sigAlg == TPM2_ALG_RSASSA) {
        sig->ptr = OPENSSL_memdup(ts->signature.rsassa.sig.buffer, ts->signature.rsassa.sig.size);
        sig->len = ts->signature.rsassa.sig.size;
        if (sig->ptr == NULL)
            out = avow__fail(diag, AVOW_ERR_NOMEM, "signature", "out of memory");
    } else {
        out = avow__fail(diag, AVOW_ERR_CRYPTO, "tpm", "TPM2_Sign answered with scheme 0x%04x",
                         (unsigned)ts->sigAlg);
    }
    Esys_Free(ts);
    return out;
}

static void tpm_free(void *impl)
{
    OPENSSL_free(impl);
}

static const avow_signer_ops TPM_OPS = {sizeof(avow_signer_ops), "tpm", tpm_sign, tpm_free};

avow_err avow_tpm_signer_new(void *esys, uint32_t key, EVP_PKEY *pub, avow_sigalg alg,
                             avow_signer **out, avow_diag *diag)
{
    if (esys == NULL || pub == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "esys", "no ESYS context, public key or output");
    *out = NULL;
    if (alg == AVOW_SIGALG_NONE && avow_sigalg_for_key(pub, 0, &alg) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "pub", "no default algorithm for the key");
    const avow_sigalg_desc *a = avow_sigalg_info(alg);
    if (a == NULL ||
        (a->family != AVOW_SIGALG_FAMILY_ECDSA && a->family != AVOW_SIGALG_FAMILY_RSA_PKCS1))
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "alg",
                          "a TPM key signs ECDSA or RSA PKCS#1 v1.5 here");
    tpm_key *k = OPENSSL_zalloc(sizeof(*k));
    if (k == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "signer", "out of memory");
    k->esys = esys;
    k->key = (ESYS_TR)key;
    avow_err rc = avow_signer_new(&TPM_OPS, k, pub, alg, out);
    if (rc != AVOW_OK) {
        OPENSSL_free(k);
        return avow__fail(diag, rc, "signer", "cannot make the signer");
    }
    return AVOW_OK;
}
