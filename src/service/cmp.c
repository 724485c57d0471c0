/*
 * CMP at /pkix/ (RFC 6712 transfer: POST application/pkixcmp, DER both
 * ways): the "cmp" member of the configuration made into an
 * avow_cmp_server over the service's CA directory and verifier, and the
 * handler that hands it each message. Every answer the server made,
 * rejections included, is 200 with the DER PKIMessage (what it came to is in
 * the PKIStatusInfo); a body it could make no answer to is 400.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define CT_PKIXCMP "application/pkixcmp"
#define PEM_MAX    (1024u * 1024u)

static avow_err load_key(const char *path, EVP_PKEY **out, avow_diag *d)
{
    avow_buf pem = {0};
    avow_err err = svc_secret_file(path, "cmp.protect_key", &pem, d);
    if (err != AVOW_OK)
        return err;
    BIO *b = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    *out = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    avow_buf_free(&pem);
    if (*out == NULL)
        return avow__fail_ossl(d, AVOW_ERR_CONFIG, "cmp.protect_key",
                               "no unencrypted PEM private key in %s", path);
    return AVOW_OK;
}

/* The first PEM certificate of path, or with store != NULL every one into it. */
static avow_err load_certs(const char *path, const char *field, X509 **first, X509_STORE *store,
                           avow_diag *d)
{
    avow_buf pem = {0};
    avow_err err = avow_read_file(path, PEM_MAX, &pem, d);
    if (err != AVOW_OK)
        return err;
    BIO *b = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    size_t n = 0;
    X509 *c;
    while (b != NULL && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (first != NULL && *first == NULL)
            *first = c, c = NULL;
        else if (store != NULL && X509_STORE_add_cert(store, c) != 1)
            n--;
        X509_free(c);
        n++;
        if (store == NULL)
            break;
    }
    BIO_free(b);
    ERR_clear_error(); /* the end of the file */
    avow_buf_free(&pem);
    if (n == 0)
        return avow__fail(d, AVOW_ERR_BAD_CERT, field, "no PEM certificate in %s", path);
    return AVOW_OK;
}

avow_err svc_cmp_setup(avow_service *s, avow_diag *d)
{
    const svc_config *c = &s->cfg;
    avow_cmp_server_opts o;
    avow_cmp_server_opts_init(&o);
    o.flags = c->cmp_flags;
    o.nonce_len = c->nonce_len;
    o.nonce_ttl = c->nonce_ttl;
    avow_ca_dir_issue_opts io;
    avow_ca_dir_issue_opts_init(&io);
    io.policy = s->policy;
    io.issue.eku = c->cert_eku;
    o.issue = &io;
    avow_buf secret = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    X509_STORE *trusted = NULL;
    avow_err err = AVOW_OK;
    if (c->cmp_secret != NULL &&
        (err = svc_secret_read(c->cmp_secret, "cmp.secret", &secret, d)) == AVOW_OK) {
        o.secret = secret.ptr;
        o.secret_len = secret.len;
    }
    if (err == AVOW_OK && c->cmp_ref != NULL) {
        o.ref = (const uint8_t *)c->cmp_ref;
        o.ref_len = strlen(c->cmp_ref);
    }
    if (err == AVOW_OK && c->cmp_protect_key != NULL &&
        (err = load_key(c->cmp_protect_key, &key, d)) == AVOW_OK &&
        (err = load_certs(c->cmp_protect_cert, "cmp.protect_cert", &cert, NULL, d)) == AVOW_OK) {
        o.protect_key = key;
        o.protect_cert = cert;
    }
    if (err == AVOW_OK && c->cmp_trusted != NULL) {
        if ((trusted = X509_STORE_new()) == NULL)
            err = avow__fail(d, AVOW_ERR_NOMEM, "cmp.trusted", "no memory");
        if (err == AVOW_OK)
            err = load_certs(c->cmp_trusted, "cmp.trusted", NULL, trusted, d);
        o.trusted = trusted;
    }
    if (err == AVOW_OK)
        err = avow_cmp_server_new(s->cd, s->v, &o, &s->cmp, d);
    avow_buf_free(&secret);
    EVP_PKEY_free(key);
    X509_free(cert);
    X509_STORE_free(trusted);
    return err;
}

static const char *body_name(int t)
{
    static const struct {
        int t;
        const char *name;
    } names[] = {{AVOW_CMP_BODY_IR, "ir"},          {AVOW_CMP_BODY_IP, "ip"},
                 {AVOW_CMP_BODY_CR, "cr"},          {AVOW_CMP_BODY_CP, "cp"},
                 {AVOW_CMP_BODY_P10CR, "p10cr"},    {AVOW_CMP_BODY_KUR, "kur"},
                 {AVOW_CMP_BODY_RR, "rr"},          {AVOW_CMP_BODY_PKICONF, "pkiconf"},
                 {AVOW_CMP_BODY_GENM, "genm"},      {AVOW_CMP_BODY_GENP, "genp"},
                 {AVOW_CMP_BODY_ERROR, "error"},    {AVOW_CMP_BODY_CERTCONF, "certConf"},
                 {AVOW_CMP_BODY_POLLREQ, "pollReq"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == t)
            return names[i].name;
    return "other";
}

static int is_enrolment(int t)
{
    return t == AVOW_CMP_BODY_IR || t == AVOW_CMP_BODY_CR || t == AVOW_CMP_BODY_P10CR;
}

/* The audit event of one message: cmp.<request body> with what it came to. */
static void audit(svc_req *r, const svc_resp *out, const avow_cmp_result *res)
{
    if (r->s->audit.fd < 0)
        return;
    json_t *o = json_object();
    int bad = o == NULL;
    if (o == NULL)
        return;
    char now[32] = "", event[32];
    (void)avow_time_format(time(NULL), now, sizeof(now));
    snprintf(event, sizeof(event), "cmp.%s",
             res->req_type < 0 ? "undecodable" : body_name(res->req_type));
    avow__json_put(o, "time", json_string(now), &bad);
    avow__json_put(o, "event", json_string(event), &bad);
    avow__json_put(o, "peer", avow__json_text(r->peer), &bad);
    avow__json_put(o, "status", json_integer(out->status), &bad);
    avow__json_put(o, "code", avow__json_errname(res->outcome), &bad);
    if (res->rsp_type >= 0)
        avow__json_put(o, "response", json_string(body_name(res->rsp_type)), &bad);
    if (res->serial[0] != '\0')
        avow__json_put(o, "serial", avow__json_text(res->serial), &bad);
    if (is_enrolment(res->req_type)) {
        const char *t = avow_tier_name(res->tier);
        avow__json_put(o, "ear_status", json_string(t != NULL ? t : "none"), &bad);
    }
    if (res->reason[0] != '\0')
        avow__json_put(o, "reason", avow__json_text(res->reason), &bad);
    svc_log_write(&r->s->audit, o);
}

void svc_cmp_pkix(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    static const char *const cts[] = {CT_PKIXCMP};
    if (s->cmp == NULL) {
        svc_problem(out, 404, "urn:avow:problem:not-found",
                    "CMP is not configured (\"cmp\" in the configuration)", AVOW_ERR_NOT_FOUND,
                    NULL);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                    AVOW_ERR_CONTENT_TYPE, NULL);
        out->allow = "POST";
        return;
    }
    if (!svc_ctype_is(r, cts, 1)) {
        avow__fail(&d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want " CT_PKIXCMP);
        svc_problem_err(out, AVOW_ERR_CONTENT_TYPE, &d);
        return;
    }
    avow_cmp_result res;
    memset(&res, 0, sizeof(res));
    res.size = sizeof(res);
    avow_buf rsp = {0};
    /* The CA's signer (perhaps a PKCS#11 session) is shared with EST: one thread at a time. */
    pthread_mutex_lock(&s->sign_lock);
    avow_err err = avow_cmp_server_handle_ex(s->cmp, r->body, r->body_len, &rsp, &res, &d);
    pthread_mutex_unlock(&s->sign_lock);
    if (err == AVOW_OK) {
        out->status = 200;
        out->ctype = CT_PKIXCMP;
        out->body = rsp;
        out->code = res.outcome;
        avow__strlcpy(out->serial, res.serial, sizeof(out->serial));
    } else {
        avow_buf_free(&rsp);
        res.outcome = err;
        if (err == AVOW_ERR_NOMEM || err == AVOW_ERR_TOO_LARGE)
            svc_problem_err(out, err, &d);
        else
            svc_problem(out, 400, "urn:avow:problem:malformed",
                        "The body is not a CMP message this server can answer", err, &d);
    }
    if (is_enrolment(res.req_type) && err == AVOW_OK)
        svc_metrics_outcome(&s->m, res.tier, res.outcome);
    svc_metrics_store_error(&s->m, res.outcome);
    audit(r, out, &res);
}
