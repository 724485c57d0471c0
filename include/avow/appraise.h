/*
 * avow/appraise.h - one call from attestation statements to an Attestation
 * Result: verify the statements (avow_statements_verify: possession, every
 * statement through the registry, key binding), check freshness against a
 * nonce store, apply the appraisal policy to the claims of the statement
 * the key is bound to, and build the EAR. avow_appraise_request is the
 * same for an attested certificate request; `avow csr verify`, `avow ca
 * issue` and the service go through here, and so will OAuth client
 * attestation and workload credentials.
 */
#ifndef AVOW_APPRAISE_H
#define AVOW_APPRAISE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avow/ear.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/nonce.h>
#include <avow/policy.h>
#include <avow/request.h>
#include <avow/verification.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* avow_appraise_opts.flags */
enum {
    /*
     * Check the nonce against the store (known, unused, not expired) but do
     * not consume it: the caller consumes avow_appraisal.nonce itself once
     * it has done what the nonce guards, e.g. with avow_nonce_consume_record
     * in the transaction that records a certificate (avow_ca_dir_issue).
     */
    AVOW_APPRAISE_CHECK_NONCE_ONLY = 1u << 0
};

typedef struct avow_appraise_opts {
    size_t size; /* set by avow_appraise_opts_init */
    /* Expected nonce. With a store and no nonce given, the nonce the bound
     * (verified) statement carries is the one checked against the store. */
    const uint8_t *nonce;
    size_t nonce_len;
    avow_nonce_store *nonces;      /* consume the nonce once in this store; NULL: none */
    const avow_policy *policy;     /* NULL = avow_policy_default */
    time_t now;                    /* 0 = the current time (appraisals do not happen in 1970) */
    unsigned verify_flags;         /* AVOW_VERIFY_* for every statement */
    unsigned request_flags;        /* AVOW_REQVERIFY_* */
    const avow_registry *registry; /* extra statement types; NULL = built-ins */
    unsigned ear_ttl;              /* > 0: the EAR expires after this many seconds */
    const char *build;             /* ear_verifier_id.build; NULL = "avow <version>" */
    unsigned flags;                /* AVOW_APPRAISE_* */
} avow_appraise_opts;

AVOW_EXPORT void avow_appraise_opts_init(avow_appraise_opts *o);

/* Everything one appraisal produced. Opaque; read with the accessors. */
typedef struct avow_appraisal avow_appraisal;

/*
 * Appraises a set of statements about one key. Returns AVOW_OK only when
 * the result is affirming; AVOW_ERR_NOT_AFFIRMING when it is not (the
 * reasons are in the EAR's avow_reasons); another code when no result
 * could be made (no memory, bad arguments). Whenever *out is set (also
 * with AVOW_ERR_NOT_AFFIRMING) the caller frees it with
 * avow_appraisal_free; it borrows nothing.
 *
 * The nonce goes to the store only when possession and the statement
 * carrying the nonce have both verified, so a copy of an honest request
 * with a broken signature cannot burn its nonce. When the store itself
 * fails (AVOW_ERR_STORE, AVOW_ERR_STORE_BUSY) nothing is said about the
 * device: that code is returned with the store's reason in diag and *out
 * stays NULL, so no EAR exists to be signed.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_appraise(const avow_verifier *v,
                                                   const avow_statements_in *in,
                                                   const avow_appraise_opts *opts,
                                                   avow_appraisal **out, avow_diag *diag);

/* avow_appraise on the statements, certificates, key and proof of possession of req. */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_appraise_request(const avow_verifier *v,
                                                           const avow_request *req,
                                                           const avow_appraise_opts *opts,
                                                           avow_appraisal **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_appraisal_free(avow_appraisal *a);

/* AVOW_OK only when the EAR is affirming; else AVOW_ERR_NOT_AFFIRMING. */
AVOW_EXPORT avow_err avow_appraisal_status(const avow_appraisal *a);
/* The EAR's overall status. */
AVOW_EXPORT avow_tier avow_appraisal_tier(const avow_appraisal *a);
/* The Attestation Result. Borrowed. */
AVOW_EXPORT const avow_ear *avow_appraisal_get0_ear(const avow_appraisal *a);
/* Verification of the statements. Borrowed. */
AVOW_EXPORT const avow_verification *avow_appraisal_get0_verification(const avow_appraisal *a);
/* The policy on the bound statement; NULL when nothing was bound. Borrowed. */
AVOW_EXPORT const avow_policy_report *avow_appraisal_get0_report(const avow_appraisal *a);
/*
 * The store's answer (avow_nonce_consume, or avow_nonce_check with
 * AVOW_APPRAISE_CHECK_NONCE_ONLY); AVOW_OK when no store was used.
 */
AVOW_EXPORT avow_err avow_appraisal_freshness(const avow_appraisal *a);
/* The nonce put to the store (empty when none was). Borrowed. */
AVOW_EXPORT avow_view avow_appraisal_nonce(const avow_appraisal *a);
/* The attested key the appraisal was about (the input's key; empty when none). Borrowed. */
AVOW_EXPORT avow_view avow_appraisal_key(const avow_appraisal *a);

/*
 * The EAR as indented JSON with sorted keys (full 0), or {"ear", "request",
 * "policy", "freshness"} (full 1): what `avow csr verify` prints.
 * NUL-terminated, ending in a newline; owned by the caller.
 */
AVOW_EXPORT avow_err avow_appraisal_to_json(const avow_appraisal *a, int full, avow_buf *out,
                                            avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
