/*
 * The Key Attestation Token (draft-bft-rats-kat-06) as decoded by kat.c:
 * the COSE_Sign1, its claims and the two COSE_Keys. The row in
 * src/verifier/kat/ verifies it; nothing else reads this.
 */
#ifndef AVOW_KAT_INT_H
#define AVOW_KAT_INT_H

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/cose.h>
#include <avow/err.h>

#include "formats/cbor_strict.h"

typedef struct avow__cose_key {
    int kty; /* 2 EC2, 1 OKP */
    int crv; /* 1 P-256, 2 P-384, 3 P-521, 6 Ed25519 */
    EVP_PKEY *pub;
    avow_buf enc;  /* the COSE_Key's bytes as the KAT carries them (what the link hashes) */
    avow_buf spki; /* DER SubjectPublicKeyInfo */
} avow__cose_key;

typedef struct avow__kat {
    avow_cose_msg *cose;
    cbor_item_t *claims;
    avow_view nonce; /* into claims */
    avow__cose_key ik, kak;
    size_t nunknown; /* claims of other keys, ignored (EAT) */
} avow__kat;

/*
 * Decodes a KAT: a COSE_Sign1 (tagged or not) in deterministic CBOR, bare
 * or in a DER OCTET STRING; claims eat_nonce (8..64 bytes), cnf {1:
 * COSE_Key} and kak-pub, every one checked. Errors: the CBOR and COSE ones,
 * AVOW_ERR_MISSING_CLAIM, AVOW_ERR_CLAIM_TYPE, AVOW_ERR_CLAIM_VALUE,
 * AVOW_ERR_KAT_COSE_KEY, AVOW_ERR_TOO_LARGE; the field names the claim.
 */
avow_err avow__kat_decode(const uint8_t *in, size_t len, avow__kat **out, avow_diag *d);
void avow__kat_free(avow__kat *k);

#endif
