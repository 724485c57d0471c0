/*
 * Internal interface of the verifier: building the normalised claim set
 * that verify hands to appraisal.
 */
#ifndef AVOW_VERIFY_INT_H
#define AVOW_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <openssl/x509.h>

#include <avow/claims.h>
#include <avow/evidence.h>
#include <avow/profile.h>
#include <avow/verify.h>

#include "core/x509_int.h"

/* An untrusted certificate with what lookups compare, computed once when added. */
typedef struct avow__vcert {
    X509 *cert;
    uint8_t *spki; /* DER SubjectPublicKeyInfo */
    size_t spki_len;
} avow__vcert;

/* A trusted raw key, found by its explicit key id, a derived one, or its SPKI DER. */
typedef struct avow__vkey {
    uint8_t *id; /* the caller's key id; NULL when none was given */
    size_t id_len;
    EVP_PKEY *pub;
    uint8_t *spki;
    size_t spki_len;
    avow__key_ids ids; /* RFC 5280 and RFC 7093 identifiers of spki */
} avow__vkey;

/*
 * Everything is set up by the avow_verifier_* setters and only read by
 * avow_verify_evidence, which is what makes concurrent verification safe:
 * the X509_STORE is filled as anchors are added, never during a verify.
 */
struct avow_verifier {
    avow_profile profile;
    X509_STORE *store;          /* trust anchors */
    STACK_OF(X509) * untrusted; /* the certs of `certs`, for path building */
    avow__vcert *certs;
    size_t ncerts, capcerts;
    avow__vkey *keys;
    size_t nkeys, capkeys;
    time_t at;
    int at_set; /* at is meant, even 0; unset: the current time at each verification */
    unsigned flags;
};

/*
 * Fills *out with one avow_nclaim per claim of ev, in element order, each
 * with signed_by set to `signed_by` (every signature covers all of tbs).
 * Values are views into ev; the names made for unknown OIDs live in the same
 * allocation as the items, so avow_claimset_clear frees everything.
 * unknown_elements / unknown_claims (may be NULL) receive the counts of
 * entries outside the claim table. Errors: AVOW_ERR_NOMEM.
 */
avow_err avow__claimset_build(const avow_evidence *ev, uint32_t signed_by, avow_claimset *out,
                              size_t *unknown_elements, size_t *unknown_claims);

/*
 * avow_verify_evidence, with the claim set of the result made only when
 * want_claims is 1 (the registry row makes its own from the signatures).
 */
avow_err avow__verify_evidence(const avow_verifier *v, const avow_evidence *ev,
                               const avow_verify_opts *opts, int want_claims,
                               avow_evidence_result **out, avow_diag *diag);

#endif
