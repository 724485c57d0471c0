/*
 * The verifier in the background-check model, shaped like Veraison's
 * challenge-response API (docs/serve.md lists the differences):
 *
 *   POST /challenge-response/v1/newSession[?nonceSize=N]
 *        201, Location: session/ID, {"nonce", "expiry", "accept", "status": "waiting"}
 *   POST /challenge-response/v1/session/ID   (Content-Type: an accepted media type)
 *        200, {..., "status": "complete", "evidence", "result": EAR JWT}
 *   GET  /challenge-response/v1/session/ID   the session's state
 *
 * A session is a nonce of the CA's store: ID is the nonce in base64url,
 * its expiry the nonce's, and it completes once because the appraisal
 * consumes the nonce (avow_appraise with the store). No other state is
 * kept, so sessions survive restarts and are shared by every process on
 * the store; the result itself is returned once and not kept.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define CR_PREFIX      "/challenge-response/v1/session/"
#define CT_PKIX_EV     "application/pkix-evidence"
#define CT_SESSION     "application/vnd.veraison.challenge-response-session+json"
#define SESSION_ID_MAX 100u

static const char *const accepted[] = {CT_PKIX_EV};

static json_t *session_json(const uint8_t *nonce, size_t len, time_t expires, const char *status)
{
    json_t *o = json_object(), *acc = json_array();
    int bad = o == NULL || acc == NULL;
    avow_buf b64 = {0};
    char exp[32] = "";
    if (!bad && (svc_b64_encode(nonce, len, &b64) != AVOW_OK ||
                 avow_time_format(expires, exp, sizeof(exp)) != AVOW_OK))
        bad = 1;
    if (!bad) {
        /* One line: svc_b64_encode wraps at 64 characters. */
        size_t w = 0;
        for (size_t i = 0; i < b64.len; i++)
            if (b64.ptr[i] != '\n')
                b64.ptr[w++] = b64.ptr[i];
        for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
            json_array_append_new(acc, json_string(accepted[i]));
        avow__json_put(o, "nonce", json_stringn((const char *)b64.ptr, w), &bad);
        avow__json_put(o, "expiry", json_string(exp), &bad);
        avow__json_put(o, "accept", acc, &bad);
        acc = NULL;
        avow__json_put(o, "status", json_string(status), &bad);
    }
    json_decref(acc);
    avow_buf_free(&b64);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void svc_cr_new(svc_req *r, svc_resp *out)
{
    if (strcmp(r->method, "POST") != 0) {
        svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                    AVOW_ERR_CONTENT_TYPE, NULL);
        out->allow = "POST";
        return;
    }
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    unsigned len = s->cfg.nonce_len;
    const char *q = svc_query(r, "nonceSize");
    if (q != NULL) {
        char *end = NULL;
        unsigned long v = q[0] >= '1' && q[0] <= '9' ? strtoul(q, &end, 10) : 0;
        if (end == NULL || *end != '\0' || v < AVOW_NONCE_MIN_LEN || v > AVOW_NONCE_MAX_LEN) {
            avow__fail(&d, AVOW_ERR_ARG, "nonceSize", "want %u..%u", AVOW_NONCE_MIN_LEN,
                       AVOW_NONCE_MAX_LEN);
            svc_problem(out, 400, "urn:avow:problem:malformed", "Bad nonceSize", AVOW_ERR_ARG, &d);
            return;
        }
        len = (unsigned)v;
    }
    if (svc_query(r, "nonce") != NULL) {
        avow__fail(&d, AVOW_ERR_UNSUPPORTED, "nonce",
                   "the service issues the nonce; a caller's nonce is not taken");
        svc_problem(out, 400, "urn:avow:problem:malformed", "Caller nonces are not supported",
                    AVOW_ERR_UNSUPPORTED, &d);
        return;
    }
    avow_buf nonce = {0}, id = {0};
    time_t expires = 0;
    avow_err err = avow_ca_dir_nonce(s->cd, len, s->cfg.nonce_ttl, 0, &nonce, &expires, &d);
    if (err == AVOW_OK)
        err = avow_b64url_encode(nonce.ptr, nonce.len, &id);
    json_t *o = err == AVOW_OK ? session_json(nonce.ptr, nonce.len, expires, "waiting") : NULL;
    if (err != AVOW_OK) {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
    } else if (o == NULL) {
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    } else {
        snprintf(out->location, sizeof(out->location), "%s%.*s", CR_PREFIX, (int)id.len,
                 (const char *)id.ptr);
        svc_json_body(out, 201, CT_SESSION, o);
        out->code = AVOW_OK;
    }
    json_decref(o);
    avow_buf_free(&id);
    avow_buf_free(&nonce);
}

/* Appraises the Evidence of the body against the session's nonce; the store consumes it. */
static void session_post(svc_req *r, const avow_buf *nonce, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    if (!svc_ctype_is(r, accepted, sizeof(accepted) / sizeof(accepted[0]))) {
        avow__fail(&d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want %s", CT_PKIX_EV);
        svc_problem_err(out, AVOW_ERR_CONTENT_TYPE, &d);
        return;
    }
    avow_err err = avow_nonce_check(avow_ca_dir_get0_store(s->cd), nonce->ptr, nonce->len, 0, &d);
    if (err == AVOW_ERR_NONCE_UNKNOWN) {
        svc_problem(out, 404, "urn:avow:problem:no-session", "No such session", err, &d);
        return;
    }
    if (err == AVOW_ERR_NONCE_REPLAY || err == AVOW_ERR_NONCE_EXPIRED) {
        svc_problem(out, 409,
                    err == AVOW_ERR_NONCE_REPLAY ? "urn:avow:problem:session-complete"
                                                 : "urn:avow:problem:session-expired",
                    err == AVOW_ERR_NONCE_REPLAY ? "The session is complete"
                                                 : "The session has expired",
                    err, &d);
        return;
    }
    if (err != AVOW_OK) {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
        return;
    }
    const avow_profile *p = avow_verifier_get0_profile(s->v);
    avow_statement_in st = {{p->evidence_arc.der, p->evidence_arc.len}, {r->body, r->body_len}};
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &st;
    in.possession = AVOW_OK; /* no key to bind: the Evidence is about itself */
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonce = nonce->ptr;
    ao.nonce_len = nonce->len;
    ao.nonces = avow_ca_dir_get0_store(s->cd);
    ao.policy = s->policy;
    avow_appraisal *ap = NULL;
    err = avow_appraise(s->v, &in, &ao, &ap, &d);
    const avow_ear *ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
    if (ear == NULL) {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err != AVOW_OK ? err : AVOW_ERR_INTERNAL, &d);
        avow_appraisal_free(ap);
        return;
    }
    svc_metrics_appraisal(&s->m, ear);
    avow_buf jwt = {0}, ev = {0};
    svc_sign_ear(s, ear, &jwt);
    json_t *o = session_json(nonce->ptr, nonce->len, time(NULL), "complete");
    json_t *evj = json_object();
    int bad = o == NULL || evj == NULL || jwt.ptr == NULL ||
              svc_b64_encode(r->body, r->body_len, &ev) != AVOW_OK;
    if (!bad) {
        size_t w = 0;
        for (size_t i = 0; i < ev.len; i++)
            if (ev.ptr[i] != '\n')
                ev.ptr[w++] = ev.ptr[i];
        avow__json_put(evj, "type", json_string(CT_PKIX_EV), &bad);
        avow__json_put(evj, "value", json_stringn((const char *)ev.ptr, w), &bad);
        avow__json_put(o, "evidence", evj, &bad);
        evj = NULL;
        avow__json_put(o, "result", json_string((const char *)jwt.ptr), &bad);
        /* The expiry of a complete session is the time it completed. */
    }
    if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, CT_SESSION, o);
    out->code = avow_appraisal_status(ap);
    svc_audit(r, "cr.appraise", out, ear, NULL);
    json_decref(evj);
    json_decref(o);
    avow_buf_free(&ev);
    avow_buf_free(&jwt);
    avow_appraisal_free(ap);
}

static void session_get(svc_req *r, const avow_buf *nonce, svc_resp *out)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err =
        avow_nonce_check(avow_ca_dir_get0_store(r->s->cd), nonce->ptr, nonce->len, 0, &d);
    const char *status = err == AVOW_OK                  ? "waiting"
                         : err == AVOW_ERR_NONCE_REPLAY  ? "complete"
                         : err == AVOW_ERR_NONCE_EXPIRED ? "failed"
                                                         : NULL;
    if (status == NULL) {
        if (err == AVOW_ERR_NONCE_UNKNOWN)
            svc_problem(out, 404, "urn:avow:problem:no-session", "No such session", err, &d);
        else
            svc_problem_err(out, err, &d);
        return;
    }
    /* The store keeps no expiry for us to read back here; the nonce's is in newSession. */
    json_t *o = session_json(nonce->ptr, nonce->len, time(NULL), status);
    if (o == NULL)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, CT_SESSION, o);
    json_decref(o);
}

void svc_cr_session(svc_req *r, const char *id, svc_resp *out)
{
    avow_diag d;
    avow_diag_clear(&d);
    size_t n = strlen(id);
    avow_buf nonce = {0};
    if (n == 0 || n > SESSION_ID_MAX || avow_b64url_decode(id, n, &nonce, &d) != AVOW_OK ||
        nonce.len < AVOW_NONCE_MIN_LEN || nonce.len > AVOW_NONCE_MAX_LEN) {
        avow_buf_free(&nonce);
        avow__fail(&d, AVOW_ERR_NOT_FOUND, "session", "not a session id");
        svc_problem(out, 404, "urn:avow:problem:no-session", "No such session", AVOW_ERR_NOT_FOUND,
                    &d);
        return;
    }
    if (strcmp(r->method, "POST") == 0)
        session_post(r, &nonce, out);
    else if (strcmp(r->method, "GET") == 0)
        session_get(r, &nonce, out);
    else {
        svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                    AVOW_ERR_CONTENT_TYPE, NULL);
        out->allow = "GET, POST";
    }
    avow_buf_free(&nonce);
}
