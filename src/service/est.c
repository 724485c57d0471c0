/*
 * EST (RFC 7030) under /.well-known/est/: cacerts, simpleenroll,
 * csrattrs, and the freshness nonce of draft-ietf-lamps-attestation-
 * freshness-08. Enrolment is avow_ca_dir_issue, the call `avow ca issue`
 * makes: appraisal, certificate, and the nonce consumed in the transaction
 * that records it. A result that is not affirming is a problem document
 * with the EAR's reasons: 409 when the first reason is the nonce's
 * freshness (replayed, unknown, expired), else 403.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define CT_PKCS7    "application/pkcs7-mime; smime-type=certs-only"
#define CT_CSRATTRS "application/csrattrs"
#define CT_FRESH    "application/est-attestation-freshness+json"

/* A certs-only CMS SignedData (RFC 5652 degenerate case), base64, as EST sends certificates. */
static avow_err certs_only(X509 *cert, avow_buf *b64, avow_diag *d)
{
    PKCS7 *p7 = PKCS7_new();
    uint8_t *der = NULL;
    int len = -1;
    if (p7 != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) == 1 &&
        PKCS7_content_new(p7, NID_pkcs7_data) == 1 && PKCS7_add_certificate(p7, cert) == 1)
        len = i2d_PKCS7(p7, &der);
    PKCS7_free(p7);
    if (len <= 0)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "certificates", "cannot make certs-only CMS");
    avow_err err = svc_b64_encode(der, (size_t)len, b64);
    OPENSSL_free(der);
    return err == AVOW_OK ? AVOW_OK : avow__fail(d, err, "certificates", "cannot encode");
}

static int method_is(const svc_req *r, const char *m, svc_resp *out, const char *allow)
{
    if (strcmp(r->method, m) == 0)
        return 1;
    avow_diag d;
    avow_diag_clear(&d);
    avow__fail(&d, AVOW_ERR_CONTENT_TYPE, "method", "%s takes %s", r->path, allow);
    svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed", AVOW_ERR_CONTENT_TYPE,
                &d);
    out->allow = allow;
    return 0;
}

void svc_est_cacerts(svc_req *r, svc_resp *out)
{
    if (!method_is(r, "GET", out, "GET"))
        return;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err = certs_only(avow_ca_dir_get0_cert(r->s->cd), &out->body, &d);
    if (err != AVOW_OK) {
        svc_problem_err(out, err, &d);
        return;
    }
    out->status = 200;
    out->ctype = CT_PKCS7;
}

/* CsrAttrs ::= SEQUENCE OF AttrOrOID with the one OID id-aa-attestation (RFC 7030 4.5.2). */
void svc_est_csrattrs(svc_req *r, svc_resp *out)
{
    if (!method_is(r, "GET", out, "GET"))
        return;
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
    uint8_t *der = NULL;
    int len = oid != NULL ? i2d_ASN1_OBJECT(oid, &der) : -1;
    ASN1_OBJECT_free(oid);
    uint8_t seq[64];
    avow_diag d;
    avow_diag_clear(&d);
    if (len <= 0 || (size_t)len > sizeof(seq) - 2) {
        OPENSSL_free(der);
        avow__fail_ossl(&d, AVOW_ERR_CRYPTO, "csrattrs", "cannot encode the OID");
        svc_problem_err(out, AVOW_ERR_CRYPTO, &d);
        return;
    }
    seq[0] = 0x30;
    seq[1] = (uint8_t)len;
    memcpy(seq + 2, der, (size_t)len);
    OPENSSL_free(der);
    if (svc_b64_encode(seq, (size_t)len + 2, &out->body) != AVOW_OK) {
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
        return;
    }
    out->status = 200;
    out->ctype = CT_CSRATTRS;
}

/* --- nonce (attestation-freshness-08, section "EST") --- */

/* Reads {"len": 8..64, "reqTypeInfo": {"type": "...", "reqInfo": ...}}; both optional. */
static avow_err nonce_request(const svc_req *r, unsigned *len, json_t **type, avow_diag *d)
{
    *type = NULL;
    if (r->body_len == 0)
        return AVOW_OK;
    static const char *const cts[] = {CT_FRESH, "application/json"};
    if (!svc_ctype_is(r, cts, 2))
        return avow__fail(d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want %s", CT_FRESH);
    json_t *root = NULL;
    avow_err err = avow__json_load((const char *)r->body, r->body_len, 4096, "nonce request",
                                   "body", &root, d);
    if (err != AVOW_OK)
        return err;
    const char *k;
    json_t *v;
    if (!json_is_object(root))
        err = avow__fail(d, AVOW_ERR_JSON, "body", "want one JSON object");
    else
        json_object_foreach(root, k, v)
        {
            if (err != AVOW_OK)
                break;
            if (strcmp(k, "len") == 0) {
                if (!json_is_integer(v) || json_integer_value(v) < 8 ||
                    json_integer_value(v) > AVOW_NONCE_MAX_LEN)
                    err = avow__fail(d, AVOW_ERR_JSON, "len", "want an integer 8..64");
                else
                    /* Below 16 octets the store's minimum is given instead (docs/serve.md). */
                    *len = json_integer_value(v) < AVOW_NONCE_MIN_LEN
                               ? AVOW_NONCE_MIN_LEN
                               : (unsigned)json_integer_value(v);
            } else if (strcmp(k, "reqTypeInfo") == 0) {
                json_t *t = json_is_object(v) ? json_object_get(v, "type") : NULL;
                if (!json_is_object(v) || (t != NULL && !json_is_string(t)))
                    err = avow__fail(d, AVOW_ERR_JSON, "reqTypeInfo",
                                     "want an object with a string \"type\"");
                else if (t != NULL)
                    *type = json_incref(t);
            } else {
                /* The draft's members only: an unknown one is a client that speaks another
                 * revision (the -05 array form included), better told than ignored. */
                err = avow__fail(d, AVOW_ERR_JSON, "body", "unknown member \"%.40s\"", k);
            }
        }
    json_decref(root);
    if (err != AVOW_OK) {
        json_decref(*type);
        *type = NULL;
    }
    return err;
}

void svc_est_nonce(svc_req *r, svc_resp *out)
{
    if (strcmp(r->method, "GET") != 0 && !method_is(r, "POST", out, "GET, POST"))
        return;
    if (!svc_authenticate(r, out))
        return;
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    unsigned len = s->cfg.nonce_len;
    json_t *type = NULL;
    avow_err err = nonce_request(r, &len, &type, &d);
    if (err != AVOW_OK) {
        svc_problem_err(out, err == AVOW_ERR_JSON ? AVOW_ERR_MALFORMED : err, &d);
        return;
    }
    avow_buf nonce = {0}, b64 = {0};
    time_t expires = 0;
    err = avow_ca_dir_nonce(s->cd, len, s->cfg.nonce_ttl, 0, &nonce, &expires, &d);
    if (err == AVOW_OK)
        err = avow_b64url_encode(nonce.ptr, nonce.len, &b64);
    if (err != AVOW_OK) {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
        json_decref(type);
        avow_buf_free(&nonce);
        return;
    }
    json_t *o = json_object();
    int bad = o == NULL;
    if (o != NULL) {
        avow__json_put(o, "nonce", json_stringn((const char *)b64.ptr, b64.len), &bad);
        avow__json_put(o, "expiry", json_integer(s->cfg.nonce_ttl), &bad);
        if (type != NULL) {
            json_t *ti = json_object();
            avow__json_put(ti, "type", json_incref(type), &bad);
            avow__json_put(o, "respTypeInfo", ti, &bad);
        }
    }
    if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, CT_FRESH, o);
    if (!bad && s->cfg.nonce_cookie)
        svc_nonce_cookie_set(s, nonce.ptr, nonce.len, out);
    out->code = AVOW_OK;
    json_decref(o);
    json_decref(type);
    avow_buf_free(&b64);
    avow_buf_free(&nonce);
}

/* --- simpleenroll --- */

static void audit_enroll(svc_req *r, const avow_request *req, const svc_resp *out,
                         const avow_ear *ear)
{
    avow_buf subj = {0};
    if (req == NULL || avow_request_subject_text(req, &subj) != AVOW_OK)
        avow_buf_free(&subj);
    svc_audit(r, "est.enroll", out, ear, (const char *)subj.ptr);
    avow_buf_free(&subj);
}

static void serial_hex(X509 *cert, char *buf, size_t cap)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    buf[0] = '\0';
    if (hex != NULL) {
        size_t i = 0;
        for (; hex[i] != '\0' && i + 1 < cap; i++)
            buf[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
        buf[i] = '\0';
    }
    OPENSSL_free(hex);
    BN_free(bn);
}

void svc_est_enroll(svc_req *r, svc_resp *out)
{
    if (!method_is(r, "POST", out, "POST"))
        return;
    if (!svc_authenticate(r, out))
        return;
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    static const char *const cts[] = {"application/pkcs10"};
    avow_err err = AVOW_OK;
    if (!svc_ctype_is(r, cts, 1))
        err = avow__fail(&d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want application/pkcs10");
    avow_buf der = {0};
    avow_request *req = NULL;
    if (err == AVOW_OK)
        err = svc_b64_decode(r->body, r->body_len, &der, &d);
    if (err == AVOW_OK)
        err = avow_request_decode(der.ptr, der.len, AVOW_REQUEST_PKCS10, 0, &req, &d);
    avow_buf_free(&der);
    if (err != AVOW_OK) {
        /* Whatever the decoder found (a length past its limit included), the body is bad. */
        if (err == AVOW_ERR_CONTENT_TYPE || err == AVOW_ERR_NOMEM)
            svc_problem_err(out, err, &d);
        else
            svc_problem(out, 400, "urn:avow:problem:malformed", "The request cannot be parsed", err,
                        &d);
        audit_enroll(r, NULL, out, NULL);
        return;
    }
    avow_ca_dir_issue_opts io;
    avow_ca_dir_issue_opts_init(&io);
    avow_buf bound = {0};
    if (s->cfg.nonce_cookie) {
        if (!svc_nonce_cookie_get(r, &bound)) {
            avow__fail(&d, AVOW_ERR_NONCE_UNKNOWN, "Cookie",
                       "no nonce of this service is tied to this client: fetch one from "
                       "/.well-known/est/nonce and send its cookie back");
            svc_problem(out, 409, "urn:avow:problem:nonce-unbound",
                        "The nonce is not tied to this client", AVOW_ERR_NONCE_UNKNOWN, &d);
            audit_enroll(r, req, out, NULL);
            avow_request_free(req);
            return;
        }
        io.nonce = bound.ptr; /* the Evidence must carry the nonce this client fetched */
        io.nonce_len = bound.len;
    }
    io.policy = s->policy;
    /* A passport (an id-pe-cmw statement, docs/serve.md) is judged by the passport policy. */
    for (size_t i = 0; s->passport_policy != NULL && i < avow_request_statement_count(req); i++) {
        const avow_statement *st = avow_request_get0_statement(req, i);
        if (strcmp(st->type_text, AVOW_OID_CMW) == 0)
            io.policy = s->passport_policy;
    }
    io.issue.eku = s->cfg.cert_eku;
    avow_appraisal *ap = NULL;
    X509 *cert = NULL;
    pthread_mutex_lock(&s->sign_lock);
    err = avow_ca_dir_issue(s->cd, s->v, req, &io, &ap, &cert, &d);
    pthread_mutex_unlock(&s->sign_lock);
    const avow_ear *ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
    if (ear != NULL)
        svc_metrics_appraisal(&s->m, ear);
    if (err == AVOW_OK && cert != NULL) {
        serial_hex(cert, out->serial, sizeof(out->serial));
        err = certs_only(cert, &out->body, &d);
        out->status = 200;
        out->ctype = CT_PKCS7;
        out->code = AVOW_OK;
        if (err != AVOW_OK)
            svc_problem_err(out, err, &d);
    } else if (err == AVOW_ERR_NOT_AFFIRMING && ear != NULL) {
        avow_buf jwt = {0};
        svc_sign_ear(s, ear, &jwt);
        const char *type = NULL;
        unsigned status = svc_refusal_status(ear, &type);
        svc_problem_appraisal(out, status, type, ear, (const char *)jwt.ptr);
        avow_buf_free(&jwt);
        svc_recent_add(&s->recent, req, ear, out->code);
    } else {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
    }
    audit_enroll(r, req, out, ear);
    avow_buf_free(&bound);
    X509_free(cert);
    avow_appraisal_free(ap);
    avow_request_free(req);
}
