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
    size_t size;      /* sizeof(avow_signer_ops) as the back end was compiled */
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
AVOW_EXPORT avow_err avow_signer_new_pkey(EVP_PKEY *pkey, avow_sigalg alg, avow_signer **out,
                                          avow_diag *diag);

/* avow_signer_open_opts.flags */
enum {
    /* pkcs11: only: when the token holds a certificate for the key (a
     * CKO_CERTIFICATE with the key's CKA_ID), set it on the signer. */
    AVOW_SIGNER_OPEN_TOKEN_CERT = 1u << 0
};

/* Fill with avow_signer_open_opts_init, then set what differs. */
typedef struct avow_signer_open_opts {
    size_t size;               /* set by avow_signer_open_opts_init */
    const char *pkcs11_module; /* pkcs11: refs: the module, a path or a p11-kit name */
    /* pkcs11: refs: "env:NAME", "file:PATH" or "pass:TEXT"; NULL = the URI's
     * pin-value or pin-source (avow_p11_pin_resolve). */
    const char *pin_source;
    avow_sigalg alg; /* NONE = the key's default (avow_sigalg_for_key with pss) */
    int pss;         /* 1: an RSA key's default is RSASSA-PSS, not PKCS#1 v1.5 */
    unsigned flags;  /* AVOW_SIGNER_OPEN_* */
} avow_signer_open_opts;

/* Defaults: no module, the URI's PIN, the key's default algorithm, no flags. No-op for NULL. */
AVOW_EXPORT void avow_signer_open_opts_init(avow_signer_open_opts *o);

/*
 * A signer over the key `ref` names, for callers that take keys by name:
 *   - a pkcs11: URI (RFC 7512): the private key in a token, which signs
 *     there (avow_p11_open with AVOW_P11_LOGIN on o->pkcs11_module and
 *     o->pin_source, avow_p11_find_key, avow_p11_signer_new);
 *   - anything else: a file holding an unencrypted private key, PEM or DER,
 *     PKCS#8 or the traditional forms (at most 1 MiB; the bytes read are
 *     cleansed).
 * o may be NULL (the defaults; a pkcs11: ref then fails for want of a
 * module). The file is read once; a token key keeps its session (and
 * module) for as long as the signer lives. Caller frees *out with
 * avow_signer_free.
 * Errors: AVOW_ERR_ARG (NULL ref or out, opts not set up with their _init,
 * a pkcs11: ref without a module), AVOW_ERR_SIG_ALG (o->alg not in the
 * table), AVOW_ERR_IO, AVOW_ERR_TOO_LARGE,
 * AVOW_ERR_MALFORMED (no private key in the file), AVOW_ERR_ALG_MISMATCH,
 * AVOW_ERR_UNSUPPORTED (key type, or a library built without PKCS#11),
 * and for pkcs11: those of avow_p11_open (AVOW_ERR_NO_PIN among them),
 * avow_p11_find_key (AVOW_ERR_NOT_FOUND, AVOW_ERR_AMBIGUOUS) and
 * avow_p11_signer_new.
 */
AVOW_EXPORT avow_err avow_signer_open(const char *ref, const avow_signer_open_opts *o,
                                      avow_signer **out, avow_diag *diag);

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
