/*
 * avow/signer.h - one signing interface for Evidence, CSRs and tokens.
 *
 * A signer signs bytes with a key it may keep to itself (a PKCS#11 token, a
 * TPM): avow never needs the private key, only sign(tbs) -> signature, the
 * public key, the algorithm and, when there is one, the certificate chain.
 * Back ends fill an avow_signer_ops table; software keys come built in.
 */
#ifndef AVOW_SIGNER_H
#define AVOW_SIGNER_H

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

/* Signature algorithms avow signs and verifies with. */
typedef enum avow_sigalg {
    AVOW_SIGALG_NONE = 0,
    AVOW_SIGALG_ECDSA_SHA256,     /* ecdsa-with-SHA256 (P-256) */
    AVOW_SIGALG_ECDSA_SHA384,     /* ecdsa-with-SHA384 (P-384) */
    AVOW_SIGALG_ECDSA_SHA512,     /* ecdsa-with-SHA512 (P-521) */
    AVOW_SIGALG_RSA_PKCS1_SHA256, /* sha256WithRSAEncryption */
    AVOW_SIGALG_RSA_PKCS1_SHA384,
    AVOW_SIGALG_RSA_PKCS1_SHA512,
    AVOW_SIGALG_RSA_PSS_SHA256, /* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 */
    AVOW_SIGALG_RSA_PSS_SHA384, /* RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 */
    AVOW_SIGALG_RSA_PSS_SHA512, /* RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64 */
    AVOW_SIGALG_ED25519         /* id-Ed25519 */
} avow_sigalg;

/* Short name ("ecdsa-sha256", "rsa-pss-sha256", "ed25519"...), NULL for NONE. */
AVOW_EXPORT const char *avow_sigalg_name(avow_sigalg alg);
/* Algorithm by short name; AVOW_SIGALG_NONE when unknown. */
AVOW_EXPORT avow_sigalg avow_sigalg_by_name(const char *name);

/*
 * DER AlgorithmIdentifier of alg (parameters absent for ECDSA and Ed25519,
 * NULL for PKCS#1 v1.5, RSASSA-PSS-params for PSS). Caller frees *out.
 */
AVOW_EXPORT avow_err avow_sigalg_to_der(avow_sigalg alg, avow_buf *out);

/*
 * Parses a DER AlgorithmIdentifier strictly (exact PSS parameters, no
 * parameters where none belong). Errors: AVOW_ERR_SIG_ALG.
 */
AVOW_EXPORT avow_err avow_sigalg_from_der(const uint8_t *der, size_t len, avow_sigalg *alg,
                                          avow_diag *diag);

/*
 * The algorithm a key signs with by default: ECDSA with the hash that fits
 * its curve, RSA PKCS#1 v1.5 SHA-256 (or PSS when pss is 1), Ed25519.
 */
AVOW_EXPORT avow_err avow_sigalg_for_key(const EVP_PKEY *pkey, int pss, avow_sigalg *alg);

/*
 * Verifies sig over data with pkey under alg. Refuses an algorithm that does
 * not fit the key type (AVOW_ERR_ALG_MISMATCH); ECDSA signatures must be the
 * DER ECDSA-Sig-Value, never raw r||s. Returns AVOW_OK or AVOW_ERR_SIG_INVALID.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_sigalg_verify(avow_sigalg alg, EVP_PKEY *pkey,
                                                        const uint8_t *data, size_t data_len,
                                                        const uint8_t *sig, size_t sig_len,
                                                        avow_diag *diag);

typedef struct avow_signer avow_signer;

/* What a back end supplies. `impl` is the back end's own state. */
typedef struct avow_signer_ops {
    const char *name; /* "software", "pkcs11", ... */
    /* Signs data under alg; *sig is allocated with OPENSSL_malloc (freed by avow_buf_free). */
    avow_err (*sign)(void *impl, avow_sigalg alg, const uint8_t *data, size_t len, avow_buf *sig,
                     avow_diag *diag);
    /* Releases impl. */
    void (*free)(void *impl);
} avow_signer_ops;

/*
 * A signer over a back end. pub is the public key (reference taken), alg
 * the algorithm it will sign with. On success the signer owns impl and calls
 * ops->free on it; on failure impl is still the caller's. Caller frees
 * *out with avow_signer_free.
 */
AVOW_EXPORT avow_err avow_signer_new(const avow_signer_ops *ops, void *impl, EVP_PKEY *pub,
                                     avow_sigalg alg, avow_signer **out);

/*
 * A software signer over a private key (reference taken). alg NONE picks the
 * key's default (avow_sigalg_for_key with pss = 0).
 */
AVOW_EXPORT avow_err avow_signer_new_pkey(EVP_PKEY *pkey, avow_sigalg alg, avow_signer **out);

/* No-op for NULL. */
AVOW_EXPORT void avow_signer_free(avow_signer *s);

/* Sets the signer's certificate and the untrusted chain above it (references taken). */
AVOW_EXPORT avow_err avow_signer_set1_cert(avow_signer *s, X509 *cert, STACK_OF(X509) * chain);

/* Signs data; *sig owned by the caller (avow_buf_free). */
AVOW_EXPORT avow_err avow_signer_sign(avow_signer *s, const uint8_t *data, size_t len,
                                      avow_buf *sig, avow_diag *diag);

AVOW_EXPORT avow_sigalg avow_signer_alg(const avow_signer *s);
/* Borrowed: public key, certificate (may be NULL), chain (may be NULL). */
AVOW_EXPORT EVP_PKEY *avow_signer_get0_pubkey(const avow_signer *s);
AVOW_EXPORT X509 *avow_signer_get0_cert(const avow_signer *s);
AVOW_EXPORT STACK_OF(X509) * avow_signer_get0_chain(const avow_signer *s);

#ifdef __cplusplus
}
#endif
#endif
