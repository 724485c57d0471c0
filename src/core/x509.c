/* Keys and certificates as DER (avow/x509.h). */
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include <avow/x509.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/x509_int.h"

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

/* The subjectPublicKey bits (without the unused-bits octet) of a DER SubjectPublicKeyInfo. */
static int spki_bits(const uint8_t *spki, size_t len, const uint8_t **bits, size_t *nbits)
{
    uint8_t tag;
    size_t h, n, ah, an;
    if (avow__der_header(spki, len, &tag, &h, &n) != AVOW_OK || tag != 0x30 || h + n != len)
        return 0;
    const uint8_t *p = spki + h, *end = p + n;
    if (avow__der_header(p, n, &tag, &ah, &an) != AVOW_OK || tag != 0x30)
        return 0;
    p += ah + an;
    if (avow__der_header(p, (size_t)(end - p), &tag, &h, &n) != AVOW_OK || tag != 0x03 ||
        p + h + n != end || n == 0)
        return 0;
    *bits = p + h + 1;
    *nbits = n - 1;
    return 1;
}

int avow__spki_bits(const uint8_t *spki, size_t len, const uint8_t **bits, size_t *nbits)
{
    return spki != NULL && spki_bits(spki, len, bits, nbits);
}

avow_err avow__key_ids_of_spki(const uint8_t *spki, size_t len, avow__key_ids *out)
{
    const uint8_t *bits;
    size_t nbits;
    memset(out, 0, sizeof(*out));
    if (spki == NULL || !spki_bits(spki, len, &bits, &nbits))
        return AVOW_ERR_BAD_SPKI;
    uint8_t md[SHA512_DIGEST_LENGTH];
    int ok = SHA1(bits, nbits, out->id[AVOW_KEY_ID_RFC5280]) != NULL;
    /* RFC 7093 methods 1-3 keep the leftmost 160 bits; method 4 the whole hash. */
    ok = ok && SHA256(bits, nbits, md) != NULL;
    if (ok)
        memcpy(out->id[AVOW_KEY_ID_RFC7093_SHA256], md, AVOW_KEY_ID_LEN);
    ok = ok && SHA384(bits, nbits, md) != NULL;
    if (ok)
        memcpy(out->id[AVOW_KEY_ID_RFC7093_SHA384], md, AVOW_KEY_ID_LEN);
    ok = ok && SHA512(bits, nbits, md) != NULL;
    if (ok)
        memcpy(out->id[AVOW_KEY_ID_RFC7093_SHA512], md, AVOW_KEY_ID_LEN);
    ok = ok && SHA256(spki, len, out->id[AVOW_KEY_ID_RFC7093_SPKI_SHA256]) != NULL &&
         SHA384(spki, len, out->id[AVOW_KEY_ID_RFC7093_SPKI_SHA384]) != NULL &&
         SHA512(spki, len, out->id[AVOW_KEY_ID_RFC7093_SPKI_SHA512]) != NULL;
    if (!ok) {
        avow__ossl_clear();
        return AVOW_ERR_CRYPTO;
    }
    for (int m = AVOW_KEY_ID_RFC5280; m <= AVOW_KEY_ID_RFC7093_SHA512; m++)
        out->len[m] = AVOW_KEY_ID_LEN;
    out->len[AVOW_KEY_ID_RFC7093_SPKI_SHA256] = SHA256_DIGEST_LENGTH;
    out->len[AVOW_KEY_ID_RFC7093_SPKI_SHA384] = SHA384_DIGEST_LENGTH;
    out->len[AVOW_KEY_ID_RFC7093_SPKI_SHA512] = SHA512_DIGEST_LENGTH;
    return AVOW_OK;
}

int avow__key_ids_find(const avow__key_ids *ids, const uint8_t *id, size_t len)
{
    for (int m = 0; m < AVOW_KEY_ID_METHOD_COUNT_; m++)
        if (ids->len[m] != 0 && ids->len[m] == len && memcmp(ids->id[m], id, len) == 0)
            return m;
    return -1;
}

avow_err avow_spki_key_id_by(EVP_PKEY *pkey, avow_key_id_method method,
                             uint8_t out[AVOW_KEY_ID_MAX_LEN], size_t *len, avow_diag *diag)
{
    if (pkey == NULL || out == NULL || len == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "spki", "no key or no output");
    if ((unsigned)method >= AVOW_KEY_ID_METHOD_COUNT_)
        return avow__fail(diag, AVOW_ERR_ARG, "method", "unknown key identifier method %d",
                          (int)method);
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    if (n <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "spki", "cannot encode the public key");
    avow__key_ids ids;
    avow_err rc = avow__key_ids_of_spki(der, (size_t)n, &ids);
    OPENSSL_free(der);
    if (rc != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_CRYPTO, "spki", "cannot hash the public key");
    memcpy(out, ids.id[method], ids.len[method]);
    *len = ids.len[method];
    return AVOW_OK;
}

const char *avow_key_id_method_name(avow_key_id_method method)
{
    static const char *const names[AVOW_KEY_ID_METHOD_COUNT_] = {"rfc5280",
                                                                 "rfc7093-sha256",
                                                                 "rfc7093-sha384",
                                                                 "rfc7093-sha512",
                                                                 "rfc7093-spki-sha256",
                                                                 "rfc7093-spki-sha384",
                                                                 "rfc7093-spki-sha512"};
    return (unsigned)method < AVOW_KEY_ID_METHOD_COUNT_ ? names[method] : NULL;
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
