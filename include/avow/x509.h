/*
 * avow/x509.h - keys and certificates as DER, the way avow writes them:
 * the SubjectPublicKeyInfo of a key, its RFC 5280 key identifier and the
 * encoding of a certificate, so that callers need no ASN.1 of their own.
 */
#ifndef AVOW_X509_H
#define AVOW_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a key identifier (SHA-1). */
#define AVOW_KEY_ID_LEN 20u

/*
 * The DER SubjectPublicKeyInfo of pkey (its public part; a private key
 * gives its public key). *out is the caller's (avow_buf_free). Errors:
 * AVOW_ERR_ARG (pkey or out NULL), AVOW_ERR_CRYPTO (the key cannot be
 * encoded: no public part, a type OpenSSL cannot write).
 */
AVOW_EXPORT avow_err avow_spki_der(EVP_PKEY *pkey, avow_buf *out, avow_diag *diag);

/*
 * The key identifier of RFC 5280 4.2.1.2, method 1: SHA-1 of the value of
 * the subjectPublicKey BIT STRING in pkey's SubjectPublicKeyInfo. It names a
 * key in a keyId SignerIdentifier when no certificate gives a
 * subjectKeyIdentifier, and is `avow evidence create`'s default key
 * identifier. Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_spki_key_id(EVP_PKEY *pkey, uint8_t out[AVOW_KEY_ID_LEN],
                                      avow_diag *diag);

/* The DER of cert. *out is the caller's (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO. */
AVOW_EXPORT avow_err avow_cert_der(const X509 *cert, avow_buf *out, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
