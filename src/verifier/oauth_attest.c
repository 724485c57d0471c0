/*
 * The Client Attester: a Client Attestation JWT only for a Client
 * Instance Key that an appraisal found affirming. The attestation is the
 * Attestation Result of the passport model, so its cnf key must be the key
 * the appraisal was about, compared as keys (not encodings) both before
 * the appraisal (the caller's input) and after it (the appraisal's key).
 */
#include <string.h>

#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/oauth.h>

#include "core/internal.h"
#include "verifier/token_issue.h"

/* Not affirming, with the first reason of the EAR: what the attester tells the client. */
static avow_err not_affirming(const avow_appraisal *a, avow_diag *d)
{
    const avow_ear *e = avow_appraisal_get0_ear(a);
    for (size_t i = 0; e != NULL && i < e->nsubmods; i++) {
        if (e->submods[i].nreasons == 0)
            continue;
        const avow_ear_reason *r = &e->submods[i].reasons[0];
        return avow__fail(d, AVOW_ERR_NOT_AFFIRMING, "appraisal",
                          "not affirming: %s %s: %s: %.160s", r->is_rule ? "rule" : "check",
                          r->name, avow_errname(r->code) != NULL ? avow_errname(r->code) : "?",
                          r->detail);
    }
    return avow__fail(d, AVOW_ERR_NOT_AFFIRMING, "appraisal",
                      "the attestation about the key is not affirming");
}

/* After the appraisal: affirming, about the cnf key, then signed. */
static avow_err issue(avow_err rc, avow_appraisal *a, avow_signer *attester,
                      const avow_oauth_attestation_opts *o, avow_buf *jwt, avow_appraisal **ap,
                      avow_diag *d)
{
    if (rc == AVOW_ERR_NOT_AFFIRMING && a != NULL)
        rc = not_affirming(a, d);
    if (rc == AVOW_OK && a == NULL)
        rc = avow__fail(d, AVOW_ERR_INTERNAL, "appraisal", "no appraisal");
    if (rc == AVOW_OK && avow_appraisal_status(a) != AVOW_OK)
        rc = not_affirming(a, d);
    if (rc == AVOW_OK && !avow__token_same_key(avow_appraisal_key(a), o->cnf_key))
        rc = avow__fail(d, AVOW_ERR_OAUTH_KEY_BINDING, "cnf",
                        "the appraisal is not about the cnf key");
    if (rc == AVOW_OK)
        rc = avow_oauth_attestation_sign(attester, o, jwt, d);
    avow__token_appraisal_out(a, ap);
    return rc;
}

static avow_err args(avow_signer *attester, const avow_oauth_attestation_opts *o, avow_buf *jwt,
                     avow_appraisal **ap, avow_diag *d)
{
    avow__token_outputs_clear(jwt, ap);
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_attestation_opts_init");
    if (attester == NULL || jwt == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "attester", "no attester signer or output");
    return AVOW_OK;
}

avow_err avow_oauth_attest(const avow_verifier *v, const avow_statements_in *in,
                           const avow_appraise_opts *aopts, avow_signer *attester,
                           const avow_oauth_attestation_opts *o, avow_buf *jwt, avow_appraisal **ap,
                           avow_diag *diag)
{
    avow_err rc = args(attester, o, jwt, ap, diag);
    if (rc != AVOW_OK)
        return rc;
    if (in == NULL || o->cnf_key == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cnf", "no statements or cnf key");
    if (!avow__token_same_key(in->key, o->cnf_key))
        return avow__fail(diag, AVOW_ERR_OAUTH_KEY_BINDING, "cnf",
                          "the key to appraise is not the cnf key");
    avow_appraisal *a = NULL;
    rc = avow_appraise(v, in, aopts, &a, diag);
    return issue(rc, a, attester, o, jwt, ap, diag);
}

avow_err avow_oauth_attest_request(const avow_verifier *v, const avow_request *req,
                                   const avow_appraise_opts *aopts, avow_signer *attester,
                                   const avow_oauth_attestation_opts *o, avow_buf *jwt,
                                   avow_appraisal **ap, avow_diag *diag)
{
    avow_err rc = args(attester, o, jwt, ap, diag);
    if (rc != AVOW_OK)
        return rc;
    EVP_PKEY *key = req != NULL ? avow_request_get0_pubkey(req) : NULL;
    if (key == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request or request key");
    if (o->cnf_key != NULL && EVP_PKEY_eq(o->cnf_key, key) != 1)
        return avow__fail(diag, AVOW_ERR_OAUTH_KEY_BINDING, "cnf",
                          "the request's key is not the cnf key");
    avow_oauth_attestation_opts own = *o;
    own.cnf_key = key;
    avow_appraisal *a = NULL;
    rc = avow_appraise_request(v, req, aopts, &a, diag);
    return issue(rc, a, attester, &own, jwt, ap, diag);
}
