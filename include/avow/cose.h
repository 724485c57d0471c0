/*
 * avow/cose.h - COSE_Sign1 and COSE_Mac0 (RFC 9052, algorithms of RFC
 * 9053) over libcbor and OpenSSL: strict decoding, verification with the
 * algorithm the key allows, and signing for tests and attesters.
 *
 * Decoding walks the bytes before libcbor sees them: definite lengths
 * only, shortest-form arguments unless AVOW_COSE_NON_PREFERRED, no
 * repeated map key (in either header bucket, or one label in both),
 * bounded size and nesting, nothing after the message. The protected
 * header is decoded with the same rules; `alg` must be in it (an alg in
 * the unprotected bucket is not covered by the signature), `crit` must
 * list only labels avow interprets and the protected header holds (alg,
 * content type, kid), a detached payload is refused. Unknown labels and
 * x5chain are ignored: keys are the caller's to choose.
 *
 * Verification never trusts the message to choose the key type:
 * avow_cose_verify_sign1 takes a public key and accepts only ES256 (P-256),
 * ES384 (P-384), ES512 (P-521) and EdDSA (Ed25519) on a key of that kind;
 * avow_cose_verify_mac0 takes a secret and accepts only HMAC 256/256,
 * 384/384 and 512/512, comparing tags in constant time. An ECDSA signature
 * is raw r||s of twice the curve's size, as COSE writes it.
 */
#ifndef AVOW_COSE_H
#define AVOW_COSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The two message kinds, numbered by their CBOR tags. */
typedef enum avow_cose_kind {
    AVOW_COSE_ANY = 0,   /* avow_cose_decode: decided by the tag */
    AVOW_COSE_MAC0 = 17, /* COSE_Mac0_Tagged */
    AVOW_COSE_SIGN1 = 18 /* COSE_Sign1_Tagged */
} avow_cose_kind;

/* COSE algorithm identifiers avow verifies (RFC 9053). */
#define AVOW_COSE_ES256   (-7)
#define AVOW_COSE_ES384   (-35)
#define AVOW_COSE_ES512   (-36)
#define AVOW_COSE_EDDSA   (-8)
#define AVOW_COSE_HMAC256 5 /* HMAC 256/256 */
#define AVOW_COSE_HMAC384 6
#define AVOW_COSE_HMAC512 7

/* Flags of avow_cose_decode and the builders. */
enum {
    AVOW_COSE_TAGGED = 1u << 0,   /* decode: the tag must be present; build: write it */
    AVOW_COSE_UNTAGGED = 1u << 1, /* decode: the tag must be absent */
    /* decode: accept arguments in a longer form than needed (RFC 9783 asks a
     * PSA verifier to tolerate non-preferred serialization); indefinite lengths,
     * repeated keys and trailing bytes are refused regardless. */
    AVOW_COSE_NON_PREFERRED = 1u << 2
};

/* Largest message avow_cose_decode reads. */
#define AVOW_COSE_MAX_SIZE (64u * 1024u)

/* A decoded message. Opaque. */
typedef struct avow_cose_msg avow_cose_msg;

/*
 * Decodes a COSE_Sign1 or COSE_Mac0 (kind; AVOW_COSE_ANY reads the tag,
 * so an untagged message needs a kind). Errors: AVOW_ERR_CBOR,
 * AVOW_ERR_CBOR_INDEFINITE, AVOW_ERR_CBOR_NOT_PREFERRED,
 * AVOW_ERR_CBOR_DUP_KEY, AVOW_ERR_TRUNCATED, AVOW_ERR_TRAILING,
 * AVOW_ERR_TOO_LARGE, AVOW_ERR_COSE (structure, header types, the tag,
 * crit), AVOW_ERR_UNSUPPORTED (detached payload, a text alg). The field in
 * diag names the part ("cose.protected.alg"). Caller frees *out with
 * avow_cose_msg_free.
 */
AVOW_EXPORT avow_err avow_cose_decode(const uint8_t *in, size_t len, avow_cose_kind kind,
                                      unsigned flags, avow_cose_msg **out, avow_diag *diag);
/* No-op for NULL. */
AVOW_EXPORT void avow_cose_msg_free(avow_cose_msg *m);

AVOW_EXPORT avow_cose_kind avow_cose_msg_kind(const avow_cose_msg *m);
/* 1 when the message carried its tag. */
AVOW_EXPORT int avow_cose_msg_tagged(const avow_cose_msg *m);
/* The protected alg (an integer; the decoder refuses a missing one). */
AVOW_EXPORT int64_t avow_cose_msg_alg(const avow_cose_msg *m);
/* The payload, the protected header's bytes, the signature or tag, the kid
 * (protected or unprotected; empty when absent). Borrowed from m. */
AVOW_EXPORT avow_view avow_cose_msg_payload(const avow_cose_msg *m);
AVOW_EXPORT avow_view avow_cose_msg_protected(const avow_cose_msg *m);
AVOW_EXPORT avow_view avow_cose_msg_signature(const avow_cose_msg *m);
AVOW_EXPORT avow_view avow_cose_msg_kid(const avow_cose_msg *m);

/* "ES256", "ES384", "ES512", "EdDSA", "HMAC 256/256", ...; NULL for others. */
AVOW_EXPORT const char *avow_cose_alg_name(int64_t alg);

/*
 * Verifies a COSE_Sign1 with pub (external_aad may be NULL/0). Errors:
 * AVOW_ERR_COSE_ALG (a Mac0, or an alg avow does not verify with a public
 * key), AVOW_ERR_ALG_MISMATCH (the key is not of the alg's type or curve),
 * AVOW_ERR_SIG_INVALID (wrong size or does not verify).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_cose_verify_sign1(const avow_cose_msg *m, EVP_PKEY *pub,
                                                            const uint8_t *aad, size_t aad_len,
                                                            avow_diag *diag);

/*
 * Verifies a COSE_Mac0 with the secret key[0..key_len) (at least 16
 * bytes). Errors: AVOW_ERR_COSE_ALG (a Sign1, or not an HMAC alg),
 * AVOW_ERR_ARG (key too short), AVOW_ERR_MAC_INVALID.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_cose_verify_mac0(const avow_cose_msg *m,
                                                           const uint8_t *key, size_t key_len,
                                                           const uint8_t *aad, size_t aad_len,
                                                           avow_diag *diag);

/*
 * The Sig_structure ("Signature1") or MAC_structure ("MAC0") of RFC 9052
 * sections 4.4 and 6.3 over a protected header, external_aad and payload,
 * in a new buffer (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_cose_tbs(avow_cose_kind kind, const uint8_t *prot, size_t prot_len,
                                   const uint8_t *aad, size_t aad_len, const uint8_t *payload,
                                   size_t payload_len, avow_buf *out);

/*
 * Builds a COSE_Sign1 over payload signed by signer (ECDSA P-256/384/521
 * with the curve's hash, or Ed25519), protected header {1: alg}, empty
 * unprotected header; AVOW_COSE_TAGGED writes tag 18. *out owned by the
 * caller. Errors: AVOW_ERR_COSE_ALG (the signer's algorithm has no COSE
 * alg here), the signer's errors.
 */
AVOW_EXPORT avow_err avow_cose_sign1(const uint8_t *payload, size_t len, avow_signer *signer,
                                     unsigned flags, avow_buf *out, avow_diag *diag);

/* Builds a COSE_Mac0 with an HMAC alg (AVOW_COSE_HMAC*) and the secret key. */
AVOW_EXPORT avow_err avow_cose_mac0(const uint8_t *payload, size_t len, int64_t alg,
                                    const uint8_t *key, size_t key_len, unsigned flags,
                                    avow_buf *out, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
