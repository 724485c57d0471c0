/*
 * Inside the CMW row: an Attestation Result (an EAR JWT) a request carries
 * instead of Evidence (the passport model), checked against the verifier's
 * result keys and turned into `ear:*` claims. row.c unwraps the CMW and
 * routes by media type; ear_result.c does the EAR.
 */
#ifndef AVOW_CMW_INT_H
#define AVOW_CMW_INT_H

#include <avow/ear.h>
#include <avow/registry.h>

/* What the EAR check learnt; claims come only from a verified signature. */
typedef struct avow__ear_result {
    avow_err status;
    char detail[200];
    char alg[16];     /* the JWS alg, when it verified */
    char kid[64];     /* the JWS kid, when it verified and had one */
    avow_ear *ear;    /* set once the signature verified and the payload read */
    avow_tier tier;   /* the overall status (top level, else the worst submod) */
    avow_buf nonce;   /* eat_nonce decoded */
    avow_buf akpub;   /* the attested key, SPKI DER */
    const char *akey; /* where it came from: "akpub" or "cnf.jwk"; NULL: none */
} avow__ear_result;

/* The `ear` vocabulary: the result, its submods, the attested key. */
extern const avow_vocabulary avow__ear_vocab;

/*
 * Verifies jwt (NUL-terminated, len bytes) with v's result keys at the
 * verification time: signature (alg bound to the key), exp/nbf/iat, the
 * payload an EAR, freshness by nonce (expected_nonce given: eat_nonce must
 * be present; statement.c compares it) or else by age (iat within the
 * verifier's result max age), the status affirming. *out is always set
 * (free with avow__ear_result_free). Errors: AVOW_ERR_RESULT_UNTRUSTED,
 * AVOW_ERR_RESULT_STALE, AVOW_ERR_NOT_AFFIRMING, AVOW_ERR_NONCE_MISSING,
 * avow_ear_verify_jws's and avow_ear_from_json's.
 */
avow_err avow__ear_result_verify(const avow_verifier *v, const char *jwt, size_t len,
                                 int expect_nonce, avow__ear_result **out, avow_diag *d);
void avow__ear_result_free(avow__ear_result *r);

/* The claims of a verified result (every claim signed); none for an unverified one. */
avow_err avow__ear_result_claims(const avow__ear_result *r, avow_claimset *out);

#endif
