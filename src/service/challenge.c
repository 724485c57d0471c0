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
 * the store; the result itself is returned once and not kept. With
 * ?passport=est the nonce is left for EST simpleenroll to consume when it
 * issues on the EAR (passport_of below).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define CR_PREFIX      "/challenge-response/v1/session/"
#define CT_PKIX_EV     "application/pkix-evidence"
#define CT_CMW_JSON    "application/cmw+json"
#define CT_CMW_CBOR    "application/cmw+cbor"
#define CT_SESSION     "application/vnd.veraison.challenge-response-session+json"
#define SESSION_ID_MAX 100u

/* DER content octets of id-pe-cmw (AVOW_OID_CMW): the CMW statement row dispatches PSA tokens. */
#define OID_CMW_DER "\x2b\x06\x01\x05\x05\x07\x01\x23"

static const char *const accepted[] = {CT_PKIX_EV, CT_CMW_JSON, CT_CMW_CBOR};

/*
 * What a body holds, as a statement for avow_appraise: PKIX Evidence DER as
 * it is, or a CMW (RFC 9999) whose type is application/pkix-evidence (its
 * value is the DER), or else one the id-pe-cmw row verifies (a PSA token
 * under the IAKs of "iaks"). A CMW of an Attestation Result is refused: a
 * verifier session appraises Evidence, not another verifier's word.
 */
typedef struct session_body {
    const char *ctype;
    avow_cmw *cmw;
    avow_buf wrapped; /* the CMW as the DER of an id-pe-cmw statement */
    avow_statement_in st;
} session_body;

static avow_err body_statement(const svc_req *r, const avow_profile *p, session_body *b,
                               avow_diag *d)
{
    static const char *const json_ct[] = {CT_CMW_JSON}, *const cbor_ct[] = {CT_CMW_CBOR};
    int json = svc_ctype_is(r, json_ct, 1);
    if (!json && !svc_ctype_is(r, cbor_ct, 1)) {
        b->ctype = CT_PKIX_EV;
        b->st =
            (avow_statement_in){{p->evidence_arc.der, p->evidence_arc.len}, {r->body, r->body_len}};
        return AVOW_OK;
    }
    b->ctype = json ? CT_CMW_JSON : CT_CMW_CBOR;
    avow_err err = avow_cmw_decode(r->body, r->body_len,
                                   json ? AVOW_CMW_FORM_JSON : AVOW_CMW_FORM_AUTO, &b->cmw, d);
    if (err != AVOW_OK)
        return err;
    if (!json && b->cmw->form == AVOW_CMW_FORM_JSON)
        return avow__fail(d, AVOW_ERR_CMW, "cmw", "JSON text sent as %s", CT_CMW_CBOR);
    const char *t = b->cmw->type;
    avow_media_type *mt = NULL;
    int pkix = t != NULL && avow_media_type_parse(t, strlen(t), &mt, NULL) == AVOW_OK &&
               avow_media_type_is(mt, "application", "pkix-evidence");
    avow_media_type_free(mt);
    if (pkix) {
        b->st = (avow_statement_in){{p->evidence_arc.der, p->evidence_arc.len},
                                    {b->cmw->value.ptr, b->cmw->value.len}};
        return AVOW_OK;
    }
    if (t != NULL && avow_ear_media_type_ok(t, strlen(t)))
        return avow__fail(d, AVOW_ERR_MEDIA_TYPE, "cmw[0]",
                          "an Attestation Result is not Evidence; send it to the CA (EST)");
    /* json UTF8String / cbor OCTET STRING; avow_cmw_decode took at most AVOW_CMW_MAX_SIZE. */
    size_t n = r->body_len, nl = n < 0x80 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : 3;
    size_t hl = 2 + nl;
    if ((b->wrapped.ptr = OPENSSL_malloc(hl + n)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "cmw", "no memory");
    uint8_t *w = b->wrapped.ptr;
    *w++ = json ? 0x0c : 0x04;
    if (nl == 0)
        *w++ = (uint8_t)n;
    else
        *w++ = (uint8_t)(0x80 | nl);
    for (size_t i = nl; i-- > 0;)
        *w++ = (uint8_t)(n >> (8 * i));
    memcpy(w, r->body, n);
    b->wrapped.len = hl + n;
    b->st =
        (avow_statement_in){{(const uint8_t *)OID_CMW_DER, 8}, {b->wrapped.ptr, b->wrapped.len}};
    return AVOW_OK;
}

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

/*
 * "?passport=est": the session's EAR is for this service's EST (a passport,
 * docs/serve.md). newSession then also sets the EST nonce cookie of the
 * session's nonce, and the POST checks the nonce without consuming it:
 * simpleenroll consumes it when it issues on the EAR, so one passport gets
 * one certificate. -1: a value other than "est".
 */
static int passport_of(const svc_req *r)
{
    const char *q = svc_query(r, "passport");
    return q == NULL ? 0 : strcmp(q, "est") == 0 ? 1 : -1;
}

static int passport_bad(const svc_req *r, svc_resp *out)
{
    if (passport_of(r) >= 0)
        return 0;
    avow_diag d;
    avow_diag_clear(&d);
    avow__fail(&d, AVOW_ERR_ARG, "passport", "want \"est\"");
    svc_problem(out, 400, "urn:avow:problem:malformed", "Bad passport", AVOW_ERR_ARG, &d);
    return 1;
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
    if (passport_bad(r, out))
        return;
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
        if (passport_of(r) == 1 && s->cfg.nonce_cookie)
            svc_nonce_cookie_set(s, nonce.ptr, nonce.len, out);
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
        avow__fail(&d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want %s, %s or %s", CT_PKIX_EV,
                   CT_CMW_JSON, CT_CMW_CBOR);
        svc_problem_err(out, AVOW_ERR_CONTENT_TYPE, &d);
        return;
    }
    if (passport_bad(r, out))
        return;
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
    session_body sb = {0};
    err = body_statement(r, avow_verifier_get0_profile(s->v), &sb, &d);
    if (err != AVOW_OK) {
        /* The nonce stays unused: nothing was appraised. */
        if (err == AVOW_ERR_MEDIA_TYPE)
            svc_problem(out, 415, "urn:avow:problem:media-type", "Not Evidence", err, &d);
        else if (err == AVOW_ERR_NOMEM)
            svc_problem_err(out, err, &d);
        else
            svc_problem(out, 400, "urn:avow:problem:malformed", "The CMW cannot be parsed", err,
                        &d);
        avow_cmw_free(sb.cmw);
        avow_buf_free(&sb.wrapped);
        return;
    }
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &sb.st;
    in.possession = AVOW_OK; /* no key to bind: the Evidence is about itself */
    /*
     * A passport names the key its EAR is for (key=, base64url DER SPKI):
     * the Evidence must attest it. Possession is proven where the EAR is
     * used, by the CSR's self-signature at simpleenroll.
     */
    avow_buf spki = {0};
    const char *kq = passport_of(r) == 1 ? svc_query(r, "key") : NULL;
    if (passport_of(r) == 1) {
        const uint8_t *kp = NULL;
        EVP_PKEY *k = NULL;
        if (kq == NULL || strlen(kq) > 2048 ||
            avow_b64url_decode(kq, strlen(kq), &spki, &d) != AVOW_OK ||
            (kp = spki.ptr, k = d2i_PUBKEY(NULL, &kp, (long)spki.len)) == NULL ||
            kp != spki.ptr + spki.len) {
            EVP_PKEY_free(k);
            ERR_clear_error();
            avow_buf_free(&spki);
            avow_cmw_free(sb.cmw);
            avow_buf_free(&sb.wrapped);
            avow__fail(&d, AVOW_ERR_ARG, "key",
                       "a passport needs key=, a base64url DER SubjectPublicKeyInfo");
            svc_problem(out, 400, "urn:avow:problem:malformed", "Bad key", AVOW_ERR_ARG, &d);
            return;
        }
        EVP_PKEY_free(k);
        in.key = (avow_view){spki.ptr, spki.len};
    }
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonce = nonce->ptr;
    ao.nonce_len = nonce->len;
    ao.nonces = avow_ca_dir_get0_store(s->cd);
    ao.policy = s->policy;
    if (passport_of(r) == 1)
        ao.flags |= AVOW_APPRAISE_CHECK_NONCE_ONLY; /* simpleenroll consumes it */
    avow_appraisal *ap = NULL;
    err = avow_appraise(s->v, &in, &ao, &ap, &d);
    avow_cmw_free(sb.cmw);
    avow_buf_free(&sb.wrapped);
    avow_buf_free(&spki);
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
        avow__json_put(evj, "type", json_string(sb.ctype), &bad);
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
