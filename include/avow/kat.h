/*
 * avow/kat.h - key attestation linked to platform attestation
 * (draft-bft-rats-kat-06, merged into draft-reddy-rats-key-binding): the
 * Key Attestation Token (KAT, a COSE_Sign1 by the Key Attestation Key over
 * {eat_nonce, cnf: the attested key, kak-pub: the KAK}), the Platform
 * Attestation Token (PAT, here a PSA token) whose eat_nonce is the hash of
 * the KAK, and the bundle of the two (CAB, a CMW collection).
 *
 * Verification goes through the registry: a statement of type
 * AVOW_OID_KAT holds a CAB or a bare KAT; the registry's second pass over
 * a request's statements (avow/registry.h) checks that a platform token
 * binds the KAK, and only then is the KAT trusted. docs/kat.md has the
 * encoding choices. These functions make the objects (attesters, tests)
 * and compute the link.
 */
#ifndef AVOW_KAT_H
#define AVOW_KAT_H

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

/* Statement type of a KAT or CAB; avow's placeholder, no OID is assigned (docs/oids.md). */
#define AVOW_OID_KAT      "1.3.6.1.4.1.99999.9783.2"
#define AVOW_KAT_ROW_NAME "kat"
/*
 * PKIX Evidence claim (platform element) holding a platform token as a CBOR
 * CMW record in an OCTET STRING: the combined form, a platform token inside a
 * key attestation. avow's placeholder under its own arc.
 */
#define AVOW_OID_PLATFORM_TOKEN "1.3.6.1.4.1.99999.9783.3"

/* The CAB's collection type and the media type of its members. */
#define AVOW_KAT_CMWC_TYPE  "tag:ietf.org,2024-02-29:rats/kat"
#define AVOW_KAT_MEDIA_TYPE "application/eat+cwt"
/* kak-pub claim key (no IANA assignment; the draft's value). */
#define AVOW_KAT_CLAIM_KAK_PUB 2500

/* Largest KAT and CAB avow reads. */
#define AVOW_KAT_MAX_SIZE (32u * 1024u)

/*
 * The COSE_Key (RFC 9052 section 7) of a public key, in deterministic CBOR
 * (RFC 8949 section 4.2.1): EC2 {1: 2, -1: crv, -2: x, -3: y} for P-256,
 * P-384, P-521, OKP {1: 1, -1: 6, -2: x} for Ed25519. These are the bytes
 * a KAT's kak-pub carries and the link hashes. Errors: AVOW_ERR_ARG (another
 * key type), AVOW_ERR_CRYPTO, AVOW_ERR_NOMEM. *out is the caller's.
 */
AVOW_EXPORT avow_err avow_kat_cose_key(const EVP_PKEY *pub, avow_buf *out, avow_diag *diag);

/*
 * The eat_nonce that links a platform token to a key: the hash of `enc`
 * (the KAK's COSE_Key bytes for a KAT; the DER SubjectPublicKeyInfo of the
 * signer for PKIX Evidence), SHA-256, SHA-384 or SHA-512 by nonce_len 32,
 * 48 or 64 (the sizes a PSA nonce may have). Errors: AVOW_ERR_ARG.
 */
AVOW_EXPORT avow_err avow_kat_link_nonce(const uint8_t *enc, size_t len, size_t nonce_len,
                                         uint8_t *out);

/*
 * Builds a KAT: claims {8: {1: COSE_Key of ik}, 10: nonce (8..64 bytes),
 * 2500: COSE_Key of the signer's public key} signed as a COSE_Sign1 by kak
 * (AVOW_COSE_TAGGED adds tag 18; the draft's example is untagged).
 * Errors: AVOW_ERR_ARG, those of avow_kat_cose_key and avow_cose_sign1.
 */
AVOW_EXPORT avow_err avow_kat_sign(const uint8_t *nonce, size_t nonce_len, const EVP_PKEY *ik,
                                   avow_signer *kak, unsigned flags, avow_buf *out,
                                   avow_diag *diag);

/*
 * The CAB of a KAT and a PAT: {"kat": ["application/eat+cwt", kat], "pat":
 * ["application/eat+cwt", pat], "__cmwc_t": AVOW_KAT_CMWC_TYPE}, in
 * deterministic CBOR. Errors: AVOW_ERR_ARG, AVOW_ERR_TOO_LARGE, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_kat_bundle(const uint8_t *kat, size_t kat_len, const uint8_t *pat,
                                     size_t pat_len, avow_buf *out, avow_diag *diag);

/*
 * Splits a CAB into copies of its KAT and PAT, after checking its shape
 * strictly: deterministic CBOR, exactly the three members, records of a
 * media type application/eat+cwt (parameters allowed) and a non-empty byte
 * string; *pat_type (may be NULL) receives the PAT's media type text.
 * Errors: AVOW_ERR_KAT_BUNDLE (shape; diag names the member), the CBOR
 * ones, AVOW_ERR_MEDIA_TYPE, AVOW_ERR_TOO_LARGE. The outputs are the
 * caller's (avow_buf_free; the media type with OPENSSL_free).
 */
AVOW_EXPORT avow_err avow_kat_bundle_split(const uint8_t *in, size_t len, avow_buf *kat,
                                           avow_buf *pat, char **pat_type, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
