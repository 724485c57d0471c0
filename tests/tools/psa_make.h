/*
 * A PSA attestation token (RFC 9783, 2023 profile) for tests: one set of
 * claims with a chosen nonce, instance id and lifecycle, signed ES256 by the
 * IAK as a tagged COSE_Sign1. Shared by psa_tool and the unit tests that
 * need a platform token (test_kat, test_combined). The implementation id,
 * the one software component's measurement and signer id are fixed
 * printable 32-byte strings, so that a policy can name them as JSON strings
 * (tests/cli/tpm_psa_policy.sh, policies/tpm-psa.json).
 */
#ifndef AVOW_TESTS_PSA_MAKE_H
#define AVOW_TESTS_PSA_MAKE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/avow.h>

typedef struct tu_psa_claims {
    const uint8_t *nonce; /* eat_nonce, 32..64 bytes */
    size_t nonce_len;
    const uint8_t *ueid; /* instance id; NULL: the one avow derives from iak */
    size_t ueid_len;
    unsigned lifecycle; /* e.g. 0x3000 secured, 0x2000 not yet */
} tu_psa_claims;

/* The token into *out (avow_buf_free). */
avow_err tu_psa_token(EVP_PKEY *iak, const tu_psa_claims *c, avow_buf *out, avow_diag *d);

#endif
