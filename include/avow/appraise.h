/*
 * avow/appraise.h - one call from an attested request to an Attestation
 * Result: verify the request (proof of possession, every statement through
 * the registry, key binding), check freshness against a nonce store, apply
 * the appraisal policy to the bound statement's claims, and build the EAR.
 * `avow csr verify`, `avow ca issue` and the service all go through here.
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
#include <avow/request_verify.h>
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
    /* Expected nonce. With a store and no nonce given, the nonce claim of the
     * bound (verified) statement is the one checked against the store. */
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

/* Everything one appraisal produced; read-only for the caller. */
typedef struct avow_appraisal {
    avow_err status; /* AVOW_OK only when the EAR is affirming; else AVOW_ERR_NOT_AFFIRMING
                        or an error that stopped the appraisal early */
    avow_tier tier;  /* the EAR's overall status */
    avow_request_result *request; /* verification of the request */
    avow_policy_report *report;   /* policy on the bound statement; NULL when nothing was bound */
    avow_err freshness; /* the store's answer (avow_nonce_consume, or avow_nonce_check with
                           AVOW_APPRAISE_CHECK_NONCE_ONLY); AVOW_OK when no store was used */
    avow_ear *ear;      /* the Attestation Result */
    avow_buf nonce;     /* the nonce put to the store; empty when none was */
} avow_appraisal;

/*
 * Appraises req. Returns AVOW_OK only when the result is affirming;
 * AVOW_ERR_NOT_AFFIRMING when it is not (the reasons are in the EAR's
 * avow_reasons); another code when no result could be made (no memory,
 * bad arguments). Whenever *out is set (also with AVOW_ERR_NOT_AFFIRMING)
 * the caller frees it with avow_appraisal_free; it borrows nothing.
 *
 * The nonce goes to the store only when the request's proof of possession
 * and the statement carrying the nonce have both verified, so a copy of an
 * honest request with a broken signature cannot burn its nonce. When the
 * store itself fails (AVOW_ERR_STORE, AVOW_ERR_STORE_BUSY) nothing is said
 * about the device: that code is returned with the store's reason in diag
 * and *out stays NULL, so no EAR exists to be signed.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_appraise_request(const avow_verifier *v,
                                                           const avow_request *req,
                                                           const avow_appraise_opts *opts,
                                                           avow_appraisal **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_appraisal_free(avow_appraisal *a);

#ifdef __cplusplus
}
#endif
#endif
