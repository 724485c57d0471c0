/*
 * POST /oauth/attest: the Client Attester (the passport model with the
 * service's Verifier behind it). The body is a JSON object:
 *
 *   {"client_id": "...",
 *    "evidence": "<base64 DER PKIX Evidence about the Client Instance Key>",
 *    "cnf_jwk": {JWK} or "cnf_key": "<PEM public key>",
 *    "pop": "<PoP JWT by that key, aud = the attester id>"}
 *   or {"client_id": "...", "csr": "<base64 DER attested CSR or CRMF>"}
 *
 * The Evidence's nonce must be one this service issued (POST
 * /oauth/challenge, newSession or the EST nonce: the same store); the
 * appraisal consumes it. avow_oauth_attest / avow_oauth_attest_request
 * decide; a Client Attestation JWT signed by the attester key comes back
 * only when the result is affirming and the attested key is the cnf key.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/oauth_int.h"
#include "service/token_front.h"

typedef struct attest_in {
    json_t *root;
    const char *client_id, *pop;
    avow_buf der; /* evidence or csr */
    int is_csr;
    EVP_PKEY *cnf;
    avow_buf spki;
} attest_in;

static avow_err parse_in(const svc_req *r, attest_in *in, avow_diag *d)
{
    static const char *const keys[] = {"client_id", "evidence", "csr", "cnf_jwk", "cnf_key", "pop"};
    avow_err err =
        svc_token_body(r, "attester request", keys, sizeof(keys) / sizeof(keys[0]), &in->root, d);
    if (err != AVOW_OK)
        return err;
    in->client_id = svc_token_str(in->root, "client_id");
    if (in->client_id == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "client_id", "missing or not a string");
    const char *ev = svc_token_str(in->root, "evidence"), *csr = svc_token_str(in->root, "csr");
    if ((ev == NULL) == (csr == NULL))
        return avow__fail(d, AVOW_ERR_ARG, "evidence", "give one of evidence and csr");
    in->is_csr = csr != NULL;
    const char *b64 = csr != NULL ? csr : ev;
    err = svc_b64_decode((const uint8_t *)b64, strlen(b64), &in->der, d);
    if (err == AVOW_OK)
        err = svc_token_cnf(in->root, &in->cnf, d);
    if (err == AVOW_OK && in->cnf == NULL && !in->is_csr)
        err = avow__fail(d, AVOW_ERR_ARG, "cnf_jwk", "Evidence needs the cnf key");
    in->pop = svc_token_str(in->root, "pop");
    if (err == AVOW_OK && !in->is_csr && in->pop == NULL)
        err = avow__fail(d, AVOW_ERR_ARG, "pop", "Evidence needs a PoP JWT by the cnf key");
    if (err == AVOW_OK && in->cnf != NULL)
        err = avow_spki_der(in->cnf, &in->spki, d);
    return err;
}

static avow_err run(svc_req *r, attest_in *in, avow_buf *jwt, avow_appraisal **ap, avow_diag *d)
{
    avow_service *s = r->s;
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonces = avow_ca_dir_get0_store(s->cd);
    ao.policy = s->policy;
    avow_oauth_attestation_opts o;
    avow_oauth_attestation_opts_init(&o);
    o.client_id = in->client_id;
    o.iss = s->oauth->attester_id;
    o.cnf_key = in->cnf;
    o.ttl = s->cfg.oauth->attestation_ttl;
    avow_err err;
    if (in->is_csr) {
        avow_request *req = NULL;
        err = avow_request_decode(in->der.ptr, in->der.len, AVOW_REQUEST_AUTO, 0, &req, d);
        pthread_mutex_lock(&s->sign_lock);
        if (err == AVOW_OK)
            err = avow_oauth_attest_request(s->v, req, &ao, svc_oauth_signer(s), &o, jwt, ap, d);
        pthread_mutex_unlock(&s->sign_lock);
        avow_request_free(req);
        return err;
    }
    avow_oauth_verify_opts vo;
    avow_oauth_verify_opts_init(&vo);
    vo.audience = s->oauth->attester_id;
    vo.leeway = s->cfg.oauth->leeway;
    vo.pop_max_age = s->cfg.oauth->pop_max_age;
    vo.replay = s->oauth->replay;
    svc_token_evidence ein;
    avow_view der = {in->der.ptr, in->der.len}, spki = {in->spki.ptr, in->spki.len};
    err = svc_token_evidence_in(s, in->pop, in->cnf, &vo, der, spki, &ein, d);
    if (err != AVOW_OK)
        return err;
    pthread_mutex_lock(&s->sign_lock);
    err = avow_oauth_attest(s->v, &ein.sin, &ao, svc_oauth_signer(s), &o, jwt, ap, d);
    pthread_mutex_unlock(&s->sign_lock);
    return err;
}

void svc_oauth_attest(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    if (!s->cfg.oauth->attester) {
        svc_problem(out, 404, "urn:avow:problem:not-found", "No such resource", AVOW_ERR_NOT_FOUND,
                    NULL);
        return;
    }
    attest_in in;
    memset(&in, 0, sizeof(in));
    avow_buf jwt = {0};
    avow_appraisal *ap = NULL;
    avow_err err = parse_in(r, &in, &d);
    if (err == AVOW_OK && !svc_oauth_client_allowed(s, in.client_id)) {
        err = avow__fail(&d, AVOW_ERR_OAUTH_CLIENT_UNKNOWN, "client_id", "%.200s is not registered",
                         in.client_id);
        svc_problem(out, 403, "urn:avow:problem:unknown-client", "Unknown client_id", err, &d);
    } else if (err != AVOW_OK) {
        svc_problem(out, err == AVOW_ERR_CONTENT_TYPE ? 415 : 400, "urn:avow:problem:malformed",
                    "The attester request cannot be used", err, &d);
    } else {
        err = run(r, &in, &jwt, &ap, &d);
        const avow_ear *ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
        if (ear != NULL)
            svc_metrics_appraisal(&s->m, ear);
        if (err == AVOW_OK) {
            json_t *o = json_object();
            int bad = o == NULL;
            avow__json_put(o, "client_attestation", json_stringn((const char *)jwt.ptr, jwt.len),
                           &bad);
            avow__json_put(o, "attester_id", json_string(s->oauth->attester_id), &bad);
            if (bad)
                svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
            else
                svc_json_body(out, 200, "application/json", o);
            json_decref(o);
        } else if (err == AVOW_ERR_NOT_AFFIRMING && ear != NULL) {
            avow_buf earjwt = {0};
            svc_sign_ear(s, ear, &earjwt);
            svc_problem_appraisal(out, 403, "urn:avow:problem:not-affirming", ear,
                                  earjwt.ptr != NULL ? (const char *)earjwt.ptr : NULL);
            avow_buf_free(&earjwt);
        } else if (err == AVOW_ERR_OAUTH_KEY_BINDING) {
            svc_problem(out, 403, "urn:avow:problem:key-binding",
                        "The attested key is not the cnf key", err, &d);
        } else {
            if (err == AVOW_ERR_STORE || err == AVOW_ERR_STORE_BUSY)
                svc_metrics_store_error(&s->m, err);
            svc_problem_err(out, err, &d);
        }
        out->code = err;
        svc_audit(r, "oauth.attest", out, ear, in.client_id);
    }
    json_decref(in.root);
    avow_buf_free(&in.der);
    avow_buf_free(&in.spki);
    EVP_PKEY_free(in.cnf);
    avow_buf_free(&jwt);
    avow_appraisal_free(ap);
}
