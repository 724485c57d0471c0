/* Keys and certificates as DER (avow/x509.h). */
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <avow/x509.h>

#include "core/internal.h"

avow_err avow_spki_der(EVP_PKEY *pkey, avow_buf *out, avow_diag *diag)
{
    if (pkey == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "spki", "no key or no output");
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "spki", "cannot encode the public key");
    out->ptr = der;
    out->len = (size_t)len;
    return AVOW_OK;
}

avow_err avow_spki_key_id(EVP_PKEY *pkey, uint8_t out[AVOW_KEY_ID_LEN], avow_diag *diag)
{
    if (pkey == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "spki", "no key or no output");
    X509_PUBKEY *xpk = NULL;
    const unsigned char *bits = NULL;
    int nbits = 0;
    int ok = X509_PUBKEY_set(&xpk, pkey) &&
             X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, xpk) && nbits >= 0 &&
             SHA1(bits, (size_t)nbits, out) != NULL;
    X509_PUBKEY_free(xpk);
    if (!ok)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "spki", "cannot hash the public key");
    return AVOW_OK;
}

avow_err avow_cert_der(const X509 *cert, avow_buf *out, avow_diag *diag)
{
    if (cert == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "certificate", "no certificate or no output");
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    if (len <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certificate", "cannot encode");
    out->ptr = der;
    out->len = (size_t)len;
    return AVOW_OK;
}
