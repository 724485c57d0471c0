/*
 * The attester side of tcg-attest-tpm-certify: TPM2_Certify of a loaded key
 * by a loaded AK with the verifier's nonce as qualifyingData, TPM2_ReadPublic
 * of the key, and the three structures marshalled by libtss2-mu into the
 * statement (formats/tpm_certify.c checks and encodes them).
 */
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include <avow/tpm.h>

#include "core/internal.h"

static avow_err tss_fail(avow_diag *diag, TSS2_RC rc, const char *field, const char *what)
{
    avow_err e =
        avow__fail(diag, AVOW_ERR_CRYPTO, field, "%s failed (TSS2_RC 0x%x)", what, (unsigned)rc);
    avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
    return e;
}

avow_err avow_tpm_certify(void *esys, uint32_t key, uint32_t ak, const uint8_t *nonce,
                          size_t nonce_len, avow_buf *out, avow_diag *diag)
{
    if (esys == NULL || out == NULL || (nonce == NULL && nonce_len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "esys", "no ESYS context, nonce or output");
    out->ptr = NULL;
    out->len = 0;
    TPM2B_DATA q;
    memset(&q, 0, sizeof(q));
    if (nonce_len > sizeof(q.buffer))
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "nonce",
                          "%zu bytes; qualifyingData holds at most %zu", nonce_len,
                          sizeof(q.buffer));
    q.size = (UINT16)nonce_len;
    if (nonce_len > 0)
        memcpy(q.buffer, nonce, nonce_len);
    /* The AK's own scheme (a restricted signing key has one). */
    TPMT_SIG_SCHEME scheme;
    memset(&scheme, 0, sizeof(scheme));
    scheme.scheme = TPM2_ALG_NULL;
    TPM2B_ATTEST *att = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TPM2B_PUBLIC *pub = NULL;
    uint8_t sigb[sizeof(TPMT_SIGNATURE)], pubb[sizeof(TPMT_PUBLIC)];
    size_t sl = 0, pl = 0;
    avow_err rc = AVOW_OK;
    TSS2_RC t = Esys_Certify(esys, (ESYS_TR)key, (ESYS_TR)ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
                             ESYS_TR_NONE, &q, &scheme, &att, &sig);
    if (t != TSS2_RC_SUCCESS) {
        rc = tss_fail(diag, t, "key", "TPM2_Certify");
        goto done;
    }
    t = Esys_ReadPublic(esys, (ESYS_TR)key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
                        NULL);
    if (t != TSS2_RC_SUCCESS) {
        rc = tss_fail(diag, t, "key", "TPM2_ReadPublic");
        goto done;
    }
    if ((t = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigb, sizeof(sigb), &sl)) != TSS2_RC_SUCCESS ||
        (t = Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, pubb, sizeof(pubb), &pl)) !=
            TSS2_RC_SUCCESS) {
        rc = tss_fail(diag, t, "stmt", "marshalling");
        goto done;
    }
    rc = avow_tpm_certify_encode(att->attestationData, att->size, sigb, sl, pubb, pl, out, diag);
done:
    Esys_Free(att);
    Esys_Free(sig);
    Esys_Free(pub);
    return rc;
}
