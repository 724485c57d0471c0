/*
 * Internal helpers of the signature-algorithm table, shared by the software
 * signer and the verifier so both set up padding the same way.
 */
#ifndef AVOW_SIGALG_INT_H
#define AVOW_SIGALG_INT_H

#include <openssl/evp.h>

#include <avow/sigalg.h>

/* Digest of alg; NULL for Ed25519 (signed one-shot) and unknown values. */
const EVP_MD *avow__sigalg_md(avow_sigalg alg);

/* 1 when avow_sigalg_fits_key(alg, pkey, 0) is AVOW_OK. */
int avow__sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey);

/* The ECDSA row whose JOSE curve pkey is on (P-256: ES256, ...); NULL for other keys and curves. */
const avow_sigalg_desc *avow__sigalg_ec_row_of_key(const EVP_PKEY *pkey);

/* The ECDSA row of a JOSE / JWK "crv" name ("P-256", exact); NULL for other names. */
const avow_sigalg_desc *avow__sigalg_ec_row_of_crv(const char *crv);

/*
 * Sets the padding of a context from EVP_Digest{Sign,Verify}Init so that it
 * matches avow_sigalg_to_der: PSS with MGF1 over the same hash and a salt
 * of the hash length. No-op for other families. Returns 1 on success.
 */
int avow__sigalg_set_padding(avow_sigalg alg, EVP_PKEY_CTX *pctx);

#endif
