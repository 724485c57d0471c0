/*
 * Helpers every unit test shares: vectors on disk, throw-away keys, a test
 * PKI (root -> intermediate -> attestation key) and OpenSSL queue checks.
 * Everything returned is owned by the caller; failures abort the test.
 */
#ifndef AVOW_TESTUTIL_H
#define AVOW_TESTUTIL_H

/* cmocka needs these before its own header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/avow.h>

/* The call must succeed. */
#define OK(call) assert_int_equal((call), AVOW_OK)

/* The OpenSSL error queue must be empty after every avow call. */
#define TU_NO_OSSL_ERR() assert_int_equal(ERR_peek_error(), 0)

/* Reads AVOW_VECTORS "/" rel into a buffer (avow_buf_free). */
avow_buf tu_read_vector(const char *rel);

/* Loads a PEM or DER certificate from AVOW_VECTORS "/" rel. */
X509 *tu_load_cert(const char *rel);

/* Fresh keys: group "P-256"/"P-384"/"P-521"; RSA of `bits`; RSA-PSS-typed; Ed25519. */
EVP_PKEY *tu_key_ec(const char *group);
EVP_PKEY *tu_key_rsa(unsigned bits);
EVP_PKEY *tu_key_rsa_pss(unsigned bits);
EVP_PKEY *tu_key_ed25519(void);

/* Variants of the attestation-key certificate profile. */
enum {
    TU_AK_NO_KU = 1u << 0,     /* no keyUsage extension */
    TU_AK_NO_DS = 1u << 1,     /* keyUsage without digitalSignature */
    TU_AK_NO_EKU = 1u << 2,    /* no extendedKeyUsage */
    TU_AK_OTHER_EKU = 1u << 3, /* EKU serverAuth instead of the AK EKU */
    TU_AK_NO_SKI = 1u << 4,    /* no subjectKeyIdentifier */
    TU_AK_EXPIRED = 1u << 5,   /* validity ended yesterday */
    TU_AK_TCG_EKU = 1u << 6    /* EKU tcg-kp-AIKCertificate (2.23.133.8.3), a TPM AK's */
};

/*
 * Issues a certificate for subject_key signed by issuer_key (issuer NULL =
 * self-signed). ca = 1 makes a CA; otherwise an AK certificate with KU
 * digitalSignature and EKU = the default profile's ak_eku, altered by ak_flags.
 */
X509 *tu_cert_issue(const char *cn, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key,
                    int ca, unsigned ak_flags);

/* A root CA -> intermediate CA -> AK chain, all P-256 unless ak_key is given. */
typedef struct tu_pki {
    EVP_PKEY *ca_key, *int_key, *ak_key;
    X509 *ca, *inter, *ak;
} tu_pki;

/* ak_key NULL = a new P-256 key; otherwise a reference is taken. */
void tu_pki_make(tu_pki *p, EVP_PKEY *ak_key, unsigned ak_flags);
void tu_pki_free(tu_pki *p);

/* DER SubjectPublicKeyInfo of key (avow_buf_free). */
avow_buf tu_spki(EVP_PKEY *key);

/* Seconds since the epoch of a UTC date-time. */
time_t tu_utc(int year, int mon, int day, int hour, int min, int sec);

#endif
