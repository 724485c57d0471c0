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

/*
 * The ways of deriving a key identifier from a public key that a keyId
 * SignerIdentifier (or a subjectKeyIdentifier) may have used. The "bits" are
 * the value of the subjectPublicKey BIT STRING without its unused-bits
 * octet; the SPKI is the whole DER SubjectPublicKeyInfo.
 */
typedef enum avow_key_id_method {
    AVOW_KEY_ID_RFC5280 = 0,         /* RFC 5280 4.2.1.2 (1): SHA-1 of the bits, 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA256,      /* RFC 7093 2 (1): SHA-256 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA384,      /* RFC 7093 2 (2): SHA-384 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA512,      /* RFC 7093 2 (3): SHA-512 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA256, /* RFC 7093 2 (4): SHA-256 of the SPKI, 32 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA384, /* RFC 7093 2 (4): SHA-384 of the SPKI, 48 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA512, /* RFC 7093 2 (4): SHA-512 of the SPKI, 64 bytes */
    AVOW_KEY_ID_METHOD_COUNT_
} avow_key_id_method;

/* Bytes of the longest key identifier of avow_key_id_method (SHA-512). */
#define AVOW_KEY_ID_MAX_LEN 64u

/*
 * The key identifier of pkey by `method` into out; *len gets its size (20,
 * 32, 48 or 64). AVOW_KEY_ID_RFC5280 is avow_spki_key_id. A verifier matches
 * a keyId against all of them for the raw keys it trusts (avow/verify.h).
 * Errors: AVOW_ERR_ARG (NULL argument, unknown method), AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_spki_key_id_by(EVP_PKEY *pkey, avow_key_id_method method,
                                         uint8_t out[AVOW_KEY_ID_MAX_LEN], size_t *len,
                                         avow_diag *diag);

/* Short name of a method ("rfc5280", "rfc7093-sha256", ... "rfc7093-spki-sha512"); NULL if unknown.
 */
AVOW_EXPORT const char *avow_key_id_method_name(avow_key_id_method method);

/* The DER of cert. *out is the caller's (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO. */
AVOW_EXPORT avow_err avow_cert_der(const X509 *cert, avow_buf *out, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
