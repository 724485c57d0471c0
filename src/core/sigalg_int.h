/*
 * Internal helpers of the signature-algorithm table, shared by the software
 * signer and the verifier so both set up padding the same way.
 */
#ifndef AVOW_SIGALG_INT_H
#define AVOW_SIGALG_INT_H

#include <openssl/evp.h>

#include <avow/signer.h>

/* Digest of alg; NULL for Ed25519 (signed one-shot) and unknown values. */
const EVP_MD *avow__sigalg_md(avow_sigalg alg);

/* 1 when pkey's type belongs to alg's family (EC/ECDSA, RSA/PKCS#1, RSA or RSA-PSS/PSS, Ed25519).
 */
int avow__sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey);

/*
 * Sets the padding of a context from EVP_Digest{Sign,Verify}Init so that it
 * matches avow_sigalg_to_der: PSS with MGF1 over the same hash and a salt
 * of the hash length. No-op for other families. Returns 1 on success.
 */
int avow__sigalg_set_padding(avow_sigalg alg, EVP_PKEY_CTX *pctx);

#endif
