/*
 * An attested certificate request as a set of statements about its key:
 * the statements and certificates of its bundles, its public key, and its
 * self-signature as the proof of possession.
 */
#include <string.h>

#include <avow/request_verify.h>

#include "core/internal.h"

avow_err avow_request_statements(const avow_request *req,
                                 avow_statement_in stmts[AVOW_REQUEST_MAX_STATEMENTS],
                                 avow_statements_in *in)
{
    if (req == NULL || stmts == NULL || in == NULL)
        return AVOW_ERR_ARG;
    size_t n = avow_request_statement_count(req);
    if (n > AVOW_REQUEST_MAX_STATEMENTS)
        return AVOW_ERR_TOO_LARGE;
    avow_statements_in_init(in);
    for (size_t i = 0; i < n; i++) {
        const avow_statement *st = avow_request_get0_statement(req, i);
        stmts[i].type = st->type;
        stmts[i].der = st->der;
    }
    in->nstatements = n;
    in->statements = stmts;
    in->untrusted = avow_request_get0_certs(req);
    in->key = avow_request_spki(req);
    in->possession = avow_request_pop(req, &in->possession_detail);
    return AVOW_OK;
}

avow_err avow_request_verify(const avow_verifier *v, const avow_request *req,
                             const avow_verification_opts *opts, avow_verification **out,
                             avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    avow_statement_in stmts[AVOW_REQUEST_MAX_STATEMENTS];
    avow_statements_in in;
    avow_err rc = avow_request_statements(req, stmts, &in);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "request", "no verifier or request");
    if (v == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no verifier or request");
    return avow_statements_verify(v, &in, opts, out, diag);
}
