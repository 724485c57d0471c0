/*
 * The OAuth routes of `avow serve` (docs/serve.md, docs/oauth.md):
 *
 *   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
 *   POST /oauth/challenge   {"attestation_challenge": ...} (the draft's challenge endpoint)
 *   POST /oauth/token       client_credentials with attestation-based client authentication
 *   POST /oauth/attest      the Client Attester: Evidence or an attested CSR in, a Client
 *                           Attestation JWT out, only after an affirming appraisal
 *   POST /oauth/check       the same client authentication for a gateway or resource server
 *
 * Without an "oauth" member in the configuration every one of them is 404.
 */
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/oauth_int.h"

#define CT_JSON "application/json"

int svc_oauth_path(const char *path)
{
    return strncmp(path, SVC_OAUTH_PREFIX, strlen(SVC_OAUTH_PREFIX)) == 0 ||
           strcmp(path, SVC_OAUTH_METADATA) == 0;
}

static int method_is(svc_req *r, const char *want, svc_resp *out)
{
    if (strcmp(r->method, want) == 0)
        return 1;
    svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed", AVOW_ERR_CONTENT_TYPE,
                NULL);
    out->allow = want;
    return 0;
}

void svc_oauth_route(svc_req *r, svc_resp *out)
{
    static const struct {
        const char *path, *method;
        void (*fn)(svc_req *, svc_resp *);
    } routes[] = {
        {SVC_OAUTH_METADATA, "GET", svc_oauth_metadata},
        {SVC_OAUTH_CHALLENGE, "POST", svc_oauth_challenge},
        {SVC_OAUTH_TOKEN, "POST", svc_oauth_token},
        {SVC_OAUTH_ATTEST, "POST", svc_oauth_attest},
        {SVC_OAUTH_CHECK, "POST", svc_oauth_check},
    };
    for (size_t i = 0; r->s->oauth != NULL && i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(r->path, routes[i].path) == 0) {
            if (method_is(r, routes[i].method, out))
                routes[i].fn(r, out);
            return;
        }
    svc_problem(out, 404, "urn:avow:problem:not-found", "No such resource", AVOW_ERR_NOT_FOUND,
                NULL);
}

void svc_oauth_error(svc_resp *out, unsigned status, const char *error, avow_err reason,
                     const avow_diag *d)
{
    json_t *o = json_object();
    int bad = o == NULL;
    avow__json_put(o, "error", json_string(error), &bad);
    if (d != NULL && d->detail[0] != '\0') {
        char desc[512];
        /* RFC 6749 5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only. */
        size_t n = 0;
        for (size_t i = 0; d->detail[i] != '\0' && n + 1 < sizeof(desc); i++) {
            unsigned char ch = (unsigned char)d->detail[i];
            desc[n++] = ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\' ? (char)ch : '?';
        }
        desc[n] = '\0';
        avow__json_put(o, "error_description", json_string(desc), &bad);
    }
    if (reason != AVOW_OK)
        avow__json_put(o, "reason", avow__json_errname(reason), &bad);
    if (d != NULL && d->field[0] != '\0')
        avow__json_put(o, "check", avow__json_text(d->field), &bad);
    if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, status, CT_JSON, o);
    out->code = reason;
    json_decref(o);
}

void svc_oauth_challenge(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf ch = {0}, body = {0};
    avow_err err = avow_oauth_challenge_issue(avow_ca_dir_get0_store(s->cd),
                                              s->cfg.oauth->challenge_ttl, 0, &ch, &d);
    if (err == AVOW_OK)
        err = avow_oauth_challenge_to_json((const char *)ch.ptr, &body, &d);
    if (err != AVOW_OK) {
        svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
    } else {
        avow_buf_free(&out->body);
        out->body = body;
        body.ptr = NULL;
        out->status = 200;
        out->ctype = CT_JSON;
        out->code = AVOW_OK;
        avow__strlcpy(out->oauth_challenge, (const char *)ch.ptr, sizeof(out->oauth_challenge));
    }
    avow_buf_free(&body);
    avow_buf_free(&ch);
}

/* The URL clients reach this service by: base_url, else the scheme and Host of the request. */
avow_err svc_oauth_url(const svc_req *r, const char *path, char *buf, size_t cap, avow_diag *d)
{
    const char *base = r->s->cfg.oauth->base_url;
    const char *host = svc_header(r, "Host");
    int n;
    if (base != NULL)
        n = snprintf(buf, cap, "%s%s", base, path);
    else if (host == NULL || host[0] == '\0' || strpbrk(host, "/?#@ \t") != NULL)
        return avow__fail(d, AVOW_ERR_MALFORMED, "Host",
                          "no usable Host header for the request URL");
    else
        n = snprintf(buf, cap, "%s://%s%s", r->s->tls_cert_pem != NULL ? "https" : "http", host,
                     path);
    if (n < 0 || (size_t)n >= cap)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "Host", "the request URL is too long");
    return AVOW_OK;
}

void svc_oauth_metadata(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    char token[1024], challenge[1024], attest[1024];
    avow_err err = svc_oauth_url(r, SVC_OAUTH_TOKEN, token, sizeof(token), &d);
    if (err == AVOW_OK)
        err = svc_oauth_url(r, SVC_OAUTH_CHALLENGE, challenge, sizeof(challenge), &d);
    if (err == AVOW_OK)
        err = svc_oauth_url(r, SVC_OAUTH_ATTEST, attest, sizeof(attest), &d);
    avow_oauth_verify_opts vo;
    svc_oauth_verify_opts(s, &vo);
    avow_buf members = {0};
    if (err == AVOW_OK)
        err = avow_oauth_metadata_json(&vo, challenge, &members, &d);
    json_t *o = NULL;
    if (err == AVOW_OK)
        err = avow__json_load((const char *)members.ptr, members.len, members.len + 1, "metadata",
                              "metadata", &o, &d);
    avow_buf_free(&members);
    if (err != AVOW_OK) {
        svc_problem_err(out, err, &d);
        return;
    }
    int bad = !json_is_object(o);
    json_t *grants = json_array();
    bad |= grants == NULL || json_array_append_new(grants, json_string("client_credentials")) != 0;
    avow__json_put(o, "issuer", json_string(s->cfg.oauth->issuer), &bad);
    avow__json_put(o, "token_endpoint", json_string(token), &bad);
    avow__json_put(o, "grant_types_supported", grants, &bad);
    if (s->cfg.oauth->attester)
        avow__json_put(o, "avow_client_attester_endpoint", json_string(attest), &bad);
    if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, CT_JSON, o);
    out->code = AVOW_OK;
    json_decref(o);
}
