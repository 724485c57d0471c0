/*
 * avow/signer.h - one signing interface for Evidence, CSRs and tokens.
 *
 * A signer signs bytes with a key it may keep to itself (a PKCS#11 token, a
 * TPM): avow never needs the private key, only sign(tbs) -> signature, the
 * public key, the algorithm and, when there is one, the certificate chain.
 * Back ends fill an avow_signer_ops table; software keys come built in.
 * The algorithms and their facts are in avow/sigalg.h (included here).
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
#include <avow/sigalg.h>

#ifdef __cplusplus
extern "C" {
#endif

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
