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

/* The primary's nameAlg (key_template): the hash of every key blob's outer integrity HMAC. */
#define PRIMARY_HMAC_LEN 32

/* TPM2B_PUBLIC of a signing key avow loads, the whole of pub[0..len), into *p. */
static avow_err read_key_public(const uint8_t *pub, size_t len, TPM2B_PUBLIC *p, avow_buf *spki,
                                avow_diag *diag)
{
    memset(p, 0, sizeof(*p));
    if (len < 2)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "key.pub", "%zu bytes, not a TPM2B_PUBLIC",
                          len);
    /* The size field against the file first: the unmarshaller would name neither. */
    size_t inner = (size_t)pub[0] << 8 | pub[1];
    if (inner == 0 || inner != len - 2)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "key.pub.size",
                          "size %zu for a file of %zu bytes after the size field", inner, len - 2);
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, len, &off, p);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(diag, AVOW_ERR_TPM_STRUCT, rc, "key.pub.publicArea",
                        "unmarshalling the TPMT_PUBLIC");
    if (off != len)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "key.pub.publicArea",
                          "%zu bytes after the TPMT_PUBLIC", len - off);
    const TPMT_PUBLIC *t = &p->publicArea;
    if (t->nameAlg != TPM2_ALG_SHA256 && t->nameAlg != TPM2_ALG_SHA384 &&
        t->nameAlg != TPM2_ALG_SHA512)
        return avow__fail(diag, AVOW_ERR_TPM_NAME_ALG, "key.pub.nameAlg",
                          "nameAlg 0x%04x is not SHA-256, SHA-384 or SHA-512",
                          (unsigned)t->nameAlg);
    if (t->type != TPM2_ALG_ECC && t->type != TPM2_ALG_RSA)
        return avow__fail(diag, AVOW_ERR_TPM_KEY_KIND, "key.pub.type",
                          "type 0x%04x is not ECC (0x0023) or RSA (0x0001)", (unsigned)t->type);
    if (!(t->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT))
        return avow__fail(diag, AVOW_ERR_TPM_KEY_KIND, "key.pub.objectAttributes",
                          "0x%08x: sign is clear, avow loads signing keys",
                          (unsigned)t->objectAttributes);
    if (t->type == TPM2_ALG_ECC) {
        TPMI_ECC_CURVE c = t->parameters.eccDetail.curveID;
        if (c != TPM2_ECC_NIST_P256 && c != TPM2_ECC_NIST_P384 && c != TPM2_ECC_NIST_P521)
            return avow__fail(diag, AVOW_ERR_TPM_KEY_KIND, "key.pub.parameters.eccDetail.curveID",
                              "curve 0x%04x is not NIST P-256, P-384 or P-521", (unsigned)c);
    } else {
        TPMI_RSA_KEY_BITS b = t->parameters.rsaDetail.keyBits;
        if (b != 2048 && b != 3072 && b != 4096)
            return avow__fail(diag, AVOW_ERR_TPM_KEY_KIND, "key.pub.parameters.rsaDetail.keyBits",
                              "%u bits, not 2048, 3072 or 4096", (unsigned)b);
    }
    /* The key itself (coordinates on the curve, modulus of keyBits) as the verifier reads it. */
    avow_buf key = {0};
    avow_diag kd;
    avow_diag_clear(&kd);
    avow_err e = avow_tpm_public_spki(pub, len, &key, &kd);
    if (e != AVOW_OK)
        return avow__fail(diag, e, "key.pub.unique", "%s", kd.detail);
    if (spki != NULL)
        *spki = key;
    else
        avow_buf_free(&key);
    return AVOW_OK;
}

/*
 * TPM2B_PRIVATE, the whole of priv[0..len), into *k: TPM2_Create's private
 * area is the outer integrity HMAC (a TPM2B_DIGEST of the parent's nameAlg)
 * followed by the encrypted sensitive area (TPM 2.0 Library Part 1,
 * Protected Storage: the outer wrapper, with no IV for TPM2_Create); only
 * the sizes can be read without the parent's seed.
 */
static avow_err read_key_private(const uint8_t *priv, size_t len, TPM2B_PRIVATE *k, avow_diag *diag)
{
    memset(k, 0, sizeof(*k));
    if (len < 2)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "key.priv", "%zu bytes, not a TPM2B_PRIVATE",
                          len);
    size_t inner = (size_t)priv[0] << 8 | priv[1];
    if (inner == 0 || inner != len - 2 || inner > sizeof(k->buffer))
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "key.priv.size",
                          "size %zu for a file of %zu bytes after the size field (1..%zu)", inner,
                          len - 2, sizeof(k->buffer));
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv, len, &off, k);
    if (rc != TSS2_RC_SUCCESS || off != len)
        return tss_fail(diag, AVOW_ERR_TPM_STRUCT, rc, "key.priv",
                        "reading one TPM2B_PRIVATE to its last byte");
    size_t hmac = inner < 2 ? 0 : (size_t)k->buffer[0] << 8 | k->buffer[1];
    if (inner < 2 || hmac != PRIMARY_HMAC_LEN)
        return avow__fail(diag, AVOW_ERR_TPM_KEY_BLOB, "key.priv.integrity",
                          "integrity HMAC of %zu bytes, not the %d of avow's primary (SHA-256)",
                          hmac, PRIMARY_HMAC_LEN);
    if (inner <= 2 + hmac)
        return avow__fail(diag, AVOW_ERR_TPM_KEY_BLOB, "key.priv.sensitive",
                          "no encrypted sensitive area after the integrity HMAC");
    return AVOW_OK;
}

avow_err avow_tpm_key_check(const uint8_t *pub, size_t pub_len, const uint8_t *priv,
                            size_t priv_len, avow_diag *diag)
{
    if (pub == NULL && priv == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "key", "no key file");
    TPM2B_PUBLIC p;
    TPM2B_PRIVATE k;
    avow_err rc = AVOW_OK;
    if (pub != NULL)
        rc = read_key_public(pub, pub_len, &p, NULL, diag);
    if (rc == AVOW_OK && priv != NULL)
        rc = read_key_private(priv, priv_len, &k, diag);
    OPENSSL_cleanse(&k, sizeof(k));
    return rc;
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
    avow_buf spki = {0};
    avow_err e = read_key_public(pub, pub_len, &p, &spki, diag);
    if (e == AVOW_OK)
        e = read_key_private(priv, priv_len, &k, diag);
    if (e != AVOW_OK) {
        avow_buf_free(&spki);
        OPENSSL_cleanse(&k, sizeof(k));
        return e;
    }
    EVP_PKEY *pk = NULL;
    if (pkey != NULL) {
        const unsigned char *q = spki.ptr;
        pk = d2i_PUBKEY(NULL, &q, (long)spki.len);
    }
    avow_buf_free(&spki);
    if (pkey != NULL && pk == NULL) {
        OPENSSL_cleanse(&k, sizeof(k));
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "key.pub", "cannot read the public key");
    }
    ESYS_TR h = ESYS_TR_NONE;
    TSS2_RC rc =
        Esys_Load(t->esys, t->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &k, &p, &h);
    OPENSSL_cleanse(&k, sizeof(k));
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
