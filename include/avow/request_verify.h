/*
 * avow/request_verify.h - verifying an attested certificate request:
 * proof of possession, every statement through the evidence-type registry
 * (the bundle's certs as untrusted certificates, the expected nonce passed
 * through), and the binding of the request's key to an attested key
 * element. The result is what appraisal policy, EAR, the CA and the CLI read.
 */
#ifndef AVOW_REQUEST_VERIFY_H
#define AVOW_REQUEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/export.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Request verification flags; 0 is fully strict. */
enum {
    /* When no verified statement has a key element whose spki equals the
     * request's SPKI, accept a key element whose `identifier` claim equals
     * opts->bind_identifier (the identifier the policy names). */
    AVOW_REQVERIFY_BIND_BY_IDENTIFIER = 1u << 0
};

typedef struct avow_request_verify_opts {
    const uint8_t *nonce; /* expected nonce for every statement; NULL when none is expected */
    size_t nonce_len;
    unsigned verify_flags;         /* AVOW_VERIFY_* handed to each statement verifier */
    unsigned flags;                /* AVOW_REQVERIFY_* */
    const avow_registry *registry; /* caller rows; NULL = built-ins only */
    const uint8_t
        *bind_identifier; /* with AVOW_REQVERIFY_BIND_BY_IDENTIFIER (UTF-8, not NUL-terminated) */
    size_t bind_identifier_len;
} avow_request_verify_opts;

typedef struct avow_request_result {
    /*
     * Overall: AVOW_OK only when the POP verifies, no statement of a known
     * type failed, at least one statement verified, and the key is bound.
     * Otherwise the first of: AVOW_ERR_POP, the first failing known
     * statement's status, AVOW_ERR_STATEMENT_TYPE (no statement of a known
     * type at all), AVOW_ERR_KEY_BINDING. Statements of unknown types are
     * reported (status AVOW_ERR_STATEMENT_TYPE) and are not fatal by themselves.
     */
    avow_err status;
    avow_err pop;           /* AVOW_OK or AVOW_ERR_POP */
    const char *pop_detail; /* borrowed from the request */
    avow_err binding;       /* AVOW_OK or AVOW_ERR_KEY_BINDING */
    const char *bound_by;   /* "spki", "identifier" or NULL */
    long bound_statement;   /* index of the statement the key is bound to, or -1 */
    long bound_element;     /* index of the attested key element in it, or -1 */
    size_t verified;        /* statements with status AVOW_OK */
    size_t unknown;         /* statements with status AVOW_ERR_STATEMENT_TYPE */
    size_t nstatements;
    avow_statement_result *statements; /* one per request statement, same order */
    char detail[256];                  /* why status is not AVOW_OK */
} avow_request_result;

/*
 * Verifies req against v. *out (may be NULL) receives the full result in
 * every case once the arguments are valid; it borrows from req and v, so
 * free it first (avow_request_result_free). Returns out->status.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_request_verify(const avow_verifier *v,
                                                         const avow_request *req,
                                                         const avow_request_verify_opts *opts,
                                                         avow_request_result **out,
                                                         avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_request_result_free(avow_request_result *r);

/* Claims of the statement the key is bound to (for policy); NULL when unbound. Borrowed. */
AVOW_EXPORT const avow_claimset *avow_request_result_bound_claims(const avow_request_result *r);

#ifdef __cplusplus
}
#endif
#endif
