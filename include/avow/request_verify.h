/*
 * avow/request_verify.h - verifying an attested certificate request: its
 * statements, certificates and public key become an avow_statements_in,
 * its self-signature (or CRMF POPOSigningKey) the proof of possession, and
 * avow_statements_verify does the rest.
 */
#ifndef AVOW_REQUEST_VERIFY_H
#define AVOW_REQUEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/export.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/verification.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What avow_statements_verify needs to verify req: its statements (at most
 * AVOW_REQUEST_MAX_STATEMENTS, written into stmts), the certificates of its
 * bundles, its SubjectPublicKeyInfo and its proof of possession. Everything
 * is borrowed from req.
 */
AVOW_EXPORT avow_err avow_request_statements(const avow_request *req,
                                             avow_statement_in stmts[AVOW_REQUEST_MAX_STATEMENTS],
                                             avow_statements_in *in);

/*
 * avow_request_statements, then avow_statements_verify. *out (may be NULL)
 * borrows from req and v: free it first (avow_verification_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_request_verify(const avow_verifier *v,
                                                         const avow_request *req,
                                                         const avow_verification_opts *opts,
                                                         avow_verification **out, avow_diag *diag);

/*
 * The request as text (like `openssl req -text`: kind, bundle shape,
 * subject, key, every statement through its registry row, certificates,
 * proof of possession) or JSON. reg NULL = built-in rows; profile NULL =
 * defaults. *out NUL-terminated, owned by the caller (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_request_to_text(const avow_request *r, const avow_registry *reg,
                                          const avow_profile *profile, avow_buf *out,
                                          avow_diag *diag);
AVOW_EXPORT avow_err avow_request_to_json(const avow_request *r, const avow_registry *reg,
                                          const avow_profile *profile, avow_buf *out,
                                          avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
