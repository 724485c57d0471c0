/*
 * What the two token issuers after an appraisal share: the Client Attester
 * (oauth_attest.c, a Client Attestation JWT) and the WIMSE identity server
 * (wimse_issue.c, a WIT). Both bind the token to the key the appraisal was
 * about and hand the appraisal back alike.
 */
#ifndef AVOW_VERIFIER_TOKEN_ISSUE_H
#define AVOW_VERIFIER_TOKEN_ISSUE_H

#include <avow/appraise.h>

#include "core/internal.h"

/* 1 when spki is a SubjectPublicKeyInfo (to its last byte) of the same public key as key. */
int avow__token_same_key(avow_view spki, EVP_PKEY *key);

/* An issuing call's outputs before anything else: *out empty, *ap NULL (either may be NULL). */
void avow__token_outputs_clear(avow_buf *out, avow_appraisal **ap);

/* The appraisal to the caller through ap when asked for, else freed. */
void avow__token_appraisal_out(avow_appraisal *a, avow_appraisal **ap);

#endif
