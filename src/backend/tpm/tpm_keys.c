/*
 * TPM keys for the attester: the TPM behind a TCTI, the primary every key
 * of avow's hangs under, and keys made and loaded as TPM2B_PUBLIC /
 * TPM2B_PRIVATE pairs. The primary comes from a fixed template on every
 * open instead of a persistent handle: nothing is written to the TPM's NV,
 * and a TPM with the same owner seed gives the same parent, so the key
 * files stay loadable.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include <avow/tpm.h>

#include "core/internal.h"

#define MAX_LOADED 4

struct avow_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR primary;
    ESYS_TR loaded[MAX_LOADED];
    size_t nloaded;
};

static avow_err tss_fail(avow_diag *diag, avow_err code, TSS2_RC rc, const char *field,
                         const char *what)
{
    avow_err e = avow__fail(diag, code, field, "%s failed (TSS2_RC 0x%x)", what, (unsigned)rc);
    avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
    return e;
}

#define KEY_ATTRS                                                                                  \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH)

/* The template of docs/tpm.md; `storage` for the primary, else a signing key of kind k. */
static void key_template(TPM2B_PUBLIC *t, int storage, avow_tpm_key_kind k, avow_tpm_key_type type)
{
    memset(t, 0, sizeof(*t));
    TPMT_PUBLIC *p = &t->publicArea;
    p->nameAlg = TPM2_ALG_SHA256;
    if (storage) {
        p->objectAttributes =
            KEY_ATTRS | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    } else {
        p->objectAttributes = KEY_ATTRS | TPMA_OBJECT_SIGN_ENCRYPT;
        if (k == AVOW_TPM_KEY_AK)
            p->objectAttributes |= TPMA_OBJECT_RESTRICTED;
        if (k == AVOW_TPM_KEY_DUPLICABLE)
            p->objectAttributes &= ~(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT);
    }
    if (!storage && type == AVOW_TPM_RSA_2048) {
        p->type = TPM2_ALG_RSA;
        TPMS_RSA_PARMS *r = &p->parameters.rsaDetail;
        r->symmetric.algorithm = TPM2_ALG_NULL;
        r->scheme.scheme = k == AVOW_TPM_KEY_AK ? TPM2_ALG_RSASSA : TPM2_ALG_NULL;
        r->scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        r->keyBits = 2048;
        return;
    }
    p->type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS *e = &p->parameters.eccDetail;
    if (storage) {
        e->symmetric.algorithm = TPM2_ALG_AES;
        e->symmetric.keyBits.aes = 128;
        e->symmetric.mode.aes = TPM2_ALG_CFB;
    } else {
        e->symmetric.algorithm = TPM2_ALG_NULL;
    }
    /* A restricted signing key needs its scheme; an unrestricted one takes the signer's. */
    e->scheme.scheme = k == AVOW_TPM_KEY_AK && !storage ? TPM2_ALG_ECDSA : TPM2_ALG_NULL;
    e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    e->curveID = TPM2_ECC_NIST_P256;
    e->kdf.scheme = TPM2_ALG_NULL;
}

avow_err avow_tpm_open(const char *tcti, avow_tpm **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "tpm", "no output");
    *out = NULL;
    avow_tpm *t = OPENSSL_zalloc(sizeof(*t));
    if (t == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "tpm", "out of memory");
    t->primary = ESYS_TR_NONE;
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        OPENSSL_free(t);
        return tss_fail(diag, AVOW_ERR_IO, rc, "tpm", "opening the TCTI");
    }
    if ((rc = Esys_Initialize(&t->esys, t->tcti, NULL)) != TSS2_RC_SUCCESS) {
        avow_tpm_free(t);
        return tss_fail(diag, AVOW_ERR_IO, rc, "tpm", "Esys_Initialize");
    }
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC tmpl;
    key_template(&tmpl, 1, AVOW_TPM_KEY_SIGN, AVOW_TPM_EC_P256);
    TPM2B_DATA outside;
    memset(&outside, 0, sizeof(outside));
    TPML_PCR_SELECTION pcrs;
    memset(&pcrs, 0, sizeof(pcrs));
    rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &sens, &tmpl, &outside, &pcrs, &t->primary, NULL, NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        avow_tpm_free(t);
        /* A TPM that does not answer at all is unreachable, not a failed command. */
        return tss_fail(
            diag, (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER ? AVOW_ERR_IO : AVOW_ERR_CRYPTO,
            rc, "tpm", "TPM2_CreatePrimary");
    }
    *out = t;
    return AVOW_OK;
}

void avow_tpm_free(avow_tpm *t)
{
    if (t == NULL)
        return;
    if (t->esys != NULL) {
        for (size_t i = 0; i < t->nloaded; i++)
            (void)Esys_FlushContext(t->esys, t->loaded[i]);
        if (t->primary != ESYS_TR_NONE)
            (void)Esys_FlushContext(t->esys, t->primary);
        Esys_Finalize(&t->esys);
    }
    if (t->tcti != NULL)
        Tss2_TctiLdr_Finalize(&t->tcti);
    OPENSSL_free(t);
}

void *avow_tpm_get0_esys(const avow_tpm *t)
{
    return t != NULL ? t->esys : NULL;
}

static avow_err marshal_pair(const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv, avow_buf *pb,
                             avow_buf *kb, avow_diag *diag)
{
    uint8_t a[sizeof(TPM2B_PUBLIC)], b[sizeof(TPM2B_PRIVATE)];
    size_t al = 0, bl = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, a, sizeof(a), &al);
    if (rc == TSS2_RC_SUCCESS)
        rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, b, sizeof(b), &bl);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(diag, AVOW_ERR_CRYPTO, rc, "key", "marshalling");
    pb->ptr = OPENSSL_memdup(a, al);
    kb->ptr = OPENSSL_memdup(b, bl);
    if (pb->ptr == NULL || kb->ptr == NULL) {
        avow_buf_free(pb), avow_buf_free(kb);
        return avow__fail(diag, AVOW_ERR_NOMEM, "key", "out of memory");
    }
    pb->len = al;
    kb->len = bl;
    return AVOW_OK;
}

avow_err avow_tpm_keygen(avow_tpm *t, avow_tpm_key_kind kind, avow_tpm_key_type type, avow_buf *pub,
                         avow_buf *priv, avow_diag *diag)
{
    if (pub != NULL)
        pub->ptr = NULL, pub->len = 0;
    if (priv != NULL)
        priv->ptr = NULL, priv->len = 0;
    if (t == NULL || pub == NULL || priv == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "tpm", "no TPM or output");
    if (kind > AVOW_TPM_KEY_DUPLICABLE || type > AVOW_TPM_RSA_2048)
        return avow__fail(diag, AVOW_ERR_ARG, "kind", "unknown key kind or type");
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC tmpl;
    key_template(&tmpl, 0, kind, type);
    TPM2B_DATA outside;
    memset(&outside, 0, sizeof(outside));
    TPML_PCR_SELECTION pcrs;
    memset(&pcrs, 0, sizeof(pcrs));
    TPM2B_PRIVATE *kp = NULL;
    TPM2B_PUBLIC *pp = NULL;
    TSS2_RC rc = Esys_Create(t->esys, t->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                             &sens, &tmpl, &outside, &pcrs, &kp, &pp, NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(diag, AVOW_ERR_CRYPTO, rc, "key", "TPM2_Create");
    avow_err e = marshal_pair(pp, kp, pub, priv, diag);
    Esys_Free(kp);
    Esys_Free(pp);
    return e;
}

avow_err avow_tpm_load(avow_tpm *t, const uint8_t *pub, size_t pub_len, const uint8_t *priv,
                       size_t priv_len, uint32_t *key, EVP_PKEY **pkey, avow_diag *diag)
{
    if (pkey != NULL)
        *pkey = NULL;
    if (t == NULL || pub == NULL || priv == NULL || key == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "tpm", "no TPM, key files or output");
    if (t->nloaded == MAX_LOADED)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "key", "at most %d keys are loaded at once",
                          MAX_LOADED);
    TPM2B_PUBLIC p;
    TPM2B_PRIVATE k;
    memset(&p, 0, sizeof(p));
    memset(&k, 0, sizeof(k));
    size_t po = 0, ko = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, pub_len, &po, &p);
    if (rc != TSS2_RC_SUCCESS || po != pub_len)
        return tss_fail(diag, AVOW_ERR_TPM_STRUCT, rc, "key.pub",
                        "reading one TPM2B_PUBLIC to its last byte");
    rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv, priv_len, &ko, &k);
    if (rc != TSS2_RC_SUCCESS || ko != priv_len)
        return tss_fail(diag, AVOW_ERR_TPM_STRUCT, rc, "key.priv",
                        "reading one TPM2B_PRIVATE to its last byte");
    EVP_PKEY *pk = NULL;
    if (pkey != NULL) {
        avow_buf spki = {0};
        avow_err e = avow_tpm_public_spki(pub, pub_len, &spki, diag);
        if (e != AVOW_OK)
            return e;
        const unsigned char *q = spki.ptr;
        pk = d2i_PUBKEY(NULL, &q, (long)spki.len);
        avow_buf_free(&spki);
        if (pk == NULL)
            return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "key.pub", "cannot read the public key");
    }
    ESYS_TR h = ESYS_TR_NONE;
    rc = Esys_Load(t->esys, t->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &k, &p, &h);
    if (rc != TSS2_RC_SUCCESS) {
        EVP_PKEY_free(pk);
        return tss_fail(diag, AVOW_ERR_CRYPTO, rc, "key",
                        "TPM2_Load (a key of another TPM or another parent?)");
    }
    t->loaded[t->nloaded++] = h;
    *key = (uint32_t)h;
    if (pkey != NULL)
        *pkey = pk;
    return AVOW_OK;
}
