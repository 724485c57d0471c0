/*
 * Internal helpers of the signature-algorithm table, shared by the software
 * signer and the verifier so both set up padding the same way.
 */
#ifndef AVOW_SIGALG_INT_H
#define AVOW_SIGALG_INT_H

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include <avow/sigalg.h>

/*
 * ML-DSA and SLH-DSA came with OpenSSL 3.5. Decided from the headers at
 * build time: a library built against 3.5 links that version (the PQ build
 * links it statically, see docs/design.md), so no run-time probe is needed.
 */
#if OPENSSL_VERSION_NUMBER >= 0x30500000L
#define AVOW__HAVE_PQ 1
#else
#define AVOW__HAVE_PQ 0
#endif

/* Digest of alg; NULL for Ed25519 (signed one-shot) and unknown values. */
const EVP_MD *avow__sigalg_md(avow_sigalg alg);

/* 1 when avow_sigalg_fits_key(alg, pkey, 0) is AVOW_OK. */
int avow__sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey);

/*
 * avow_sigalg_verify with the work done once per key: prepared is a context
 * of pkey on which EVP_PKEY_verify_init succeeded (no digest set; the
 * caller's own copy) and md the fetched digest of alg. For ECDSA the tbs is
 * hashed with md and the signature checked on the digest, as
 * EVP_DigestVerify does but without its fetches; the checks and errors are
 * avow_sigalg_verify's. Anything else (no context, another family) is
 * avow_sigalg_verify.
 */
avow_err avow__sigalg_verify_prepared(avow_sigalg alg, EVP_PKEY *pkey, EVP_PKEY_CTX *prepared,
                                      const EVP_MD *md, const uint8_t *data, size_t data_len,
                                      const uint8_t *sig, size_t sig_len, avow_diag *diag);

/* The ECDSA row whose JOSE curve pkey is on (P-256: ES256, ...); NULL for other keys and curves. */
const avow_sigalg_desc *avow__sigalg_ec_row_of_key(const EVP_PKEY *pkey);

/* The ECDSA row of a JOSE / JWK "crv" name ("P-256", exact); NULL for other names. */
const avow_sigalg_desc *avow__sigalg_ec_row_of_crv(const char *crv);

/*
 * The ML-DSA or SLH-DSA row that a DER SubjectPublicKeyInfo's algorithm
 * names (RFC 9881 and RFC 9909 give the key the signature's identifier),
 * in every build; NULL for other keys and malformed input. Only the
 * AlgorithmIdentifier is read. Such a key has one encoding (the raw public
 * key, parameters absent), so its bytes identify it.
 */
const avow_sigalg_desc *avow__sigalg_spki_pq_row(const uint8_t *spki, size_t len);

/*
 * Sets the padding of a context from EVP_Digest{Sign,Verify}Init so that it
 * matches avow_sigalg_to_der: PSS with MGF1 over the same hash and a salt
 * of the hash length. No-op for other families. Returns 1 on success.
 */
int avow__sigalg_set_padding(avow_sigalg alg, EVP_PKEY_CTX *pctx);

#endif
