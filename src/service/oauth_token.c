/*
 * POST /oauth/token: the token endpoint of a minimal authorization server.
 * It takes the client_credentials grant only and authenticates the client
 * by attestation-based client authentication alone (avow_oauth_verify:
 * OAuth-Client-Attestation with -PoP, or combined with DPoP). On success it
 * answers an RFC 9068 access token (typ at+jwt) signed by the service's
 * attester key; in DPoP mode the token is bound to the cnf key (cnf.jkt)
 * and its token_type is DPoP. A fresh challenge rides on every answer
 * when challenges are required, for the client's next request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/rand.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/oauth_int.h"
#include "service/token_front.h"

#define MAX_VALUES 4u    /* occurrences kept per header; more is refused as repeated anyway */
#define FORM_MAX   8192u /* bytes of a token request body */

typedef struct hdrs {
    const char *att[MAX_VALUES], *pop[MAX_VALUES], *dpop[MAX_VALUES];
    size_t natt, npop, ndpop;
} hdrs;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    hdrs *h = cls;
    if (key == NULL || value == NULL)
        return MHD_YES;
    if (strcasecmp(key, AVOW_OAUTH_HDR_ATTESTATION) == 0)
        svc_token_keep(h->att, &h->natt, MAX_VALUES, value);
    else if (strcasecmp(key, AVOW_OAUTH_HDR_POP) == 0)
        svc_token_keep(h->pop, &h->npop, MAX_VALUES, value);
    else if (strcasecmp(key, AVOW_OAUTH_HDR_DPOP) == 0)
        svc_token_keep(h->dpop, &h->ndpop, MAX_VALUES, value);
    return MHD_YES;
}

/* application/x-www-form-urlencoded: grant_type and client_id, each at most once. */
avow_err svc_oauth_form_parse(const uint8_t *body, size_t len, svc_oauth_form *f, avow_diag *d)
{
    memset(f, 0, sizeof(*f));
    if (len > FORM_MAX)
        return avow__fail(d, AVOW_ERR_OAUTH_GRANT, "body", "a token request of %zu bytes", len);
    const char *p = (const char *)body, *end = p + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq == NULL)
            return avow__fail(d, AVOW_ERR_OAUTH_GRANT, "body", "a parameter without '='");
        size_t klen = (size_t)(eq - p);
        char *dst = NULL;
        size_t cap = 0;
        int *seen = NULL;
        if (klen == 10 && memcmp(p, "grant_type", 10) == 0)
            dst = f->grant_type, cap = sizeof(f->grant_type), seen = &f->has_grant;
        else if (klen == 9 && memcmp(p, "client_id", 9) == 0)
            dst = f->client_id, cap = sizeof(f->client_id), seen = &f->has_client;
        if (dst != NULL) {
            /* RFC 6749 3.2: request parameters MUST NOT be included more than once. */
            if (*seen)
                return avow__fail(d, AVOW_ERR_OAUTH_GRANT, "body", "%.*s given twice", (int)klen,
                                  p);
            if (!svc_form_decode(eq + 1, (size_t)(stop - eq - 1), dst, cap))
                return avow__fail(d, AVOW_ERR_OAUTH_GRANT, "body", "%.*s: bad encoding or size",
                                  (int)klen, p);
            *seen = 1;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    if (!f->has_grant)
        return avow__fail(d, AVOW_ERR_OAUTH_GRANT, "grant_type", "missing");
    return AVOW_OK;
}

/* The draft names the error; the status is ours (docs/serve.md). */
static unsigned status_of(const char *error)
{
    return error != NULL && strcmp(error, AVOW_OAUTH_ERR_INVALID_ATTESTATION) == 0 ? 401 : 400;
}

/* avow_oauth_verify over the request's headers, with this service's options. */
static avow_err verify_request(svc_req *r, const char *url, const char *client_id,
                               const char *access_token, avow_oauth_result **res, avow_diag *d)
{
    hdrs h;
    memset(&h, 0, sizeof(h));
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect, &h);
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    q.method = r->method;
    q.url = url;
    q.attestation = h.att;
    q.nattestation = h.natt;
    q.pop = h.pop;
    q.npop = h.npop;
    q.dpop = h.dpop;
    q.ndpop = h.ndpop;
    q.client_id = client_id;
    q.access_token = access_token;
    avow_oauth_verify_opts vo;
    svc_oauth_verify_opts(r->s, &vo);
    return avow_oauth_verify(&q, &vo, res, d);
}

/* The error answer for a refused request: the draft's error, or a problem for a store failure. */
static void refused(svc_req *r, avow_err err, const avow_oauth_result *res, const avow_diag *d,
                    svc_resp *out)
{
    if (res == NULL) {
        svc_problem_err(out, err, d);
        return;
    }
    const char *e = avow_oauth_result_error(res);
    if (e == NULL) {
        /* A store failure: no draft error, the client may retry. */
        svc_metrics_store_error(&r->s->m, err);
        svc_problem_err(out, err, avow_oauth_result_diag(res));
    } else {
        svc_oauth_error(out, status_of(e), e, err, avow_oauth_result_diag(res));
    }
    const char *ch = avow_oauth_result_challenge(res);
    if (ch != NULL)
        avow__strlcpy(out->oauth_challenge, ch, sizeof(out->oauth_challenge));
}

/* An RFC 9068 access token for the authenticated client, signed under sign_lock. */
static avow_err access_token(avow_service *s, const avow_oauth_result *res, int bound,
                             avow_buf *out, avow_diag *d)
{
    const svc_oauth_cfg *c = s->cfg.oauth;
    uint8_t rnd[16];
    avow_buf jti = {0};
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "jti", "no random bytes");
    avow_err err = avow_b64url_encode(rnd, sizeof(rnd), &jti);
    if (err != AVOW_OK)
        return avow__fail(d, err, "jti", "no memory");
    json_t *o = json_object();
    int bad = o == NULL;
    json_int_t now = (json_int_t)time(NULL);
    avow__json_put(o, "iss", json_string(c->issuer), &bad);
    avow__json_put(o, "sub", avow__json_text(avow_oauth_result_client_id(res)), &bad);
    avow__json_put(o, "client_id", avow__json_text(avow_oauth_result_client_id(res)), &bad);
    avow__json_put(o, "aud", json_string(c->issuer), &bad);
    avow__json_put(o, "iat", json_integer(now), &bad);
    avow__json_put(o, "exp", json_integer(now + (json_int_t)c->token_ttl), &bad);
    avow__json_put(o, "jti", json_stringn((const char *)jti.ptr, jti.len), &bad);
    if (bound) {
        json_t *cnf = json_object();
        avow__json_put(cnf, "jkt", json_string(avow_oauth_result_jkt(res)), &bad);
        avow__json_put(o, "cnf", cnf, &bad);
    }
    avow_buf_free(&jti);
    avow_buf payload = {0};
    if (!bad)
        err = avow__json_dump(o, JSON_SORT_KEYS | JSON_COMPACT, 0, &payload);
    json_decref(o);
    if (bad || err != AVOW_OK) {
        avow_buf_free(&payload);
        return avow__fail(d, AVOW_ERR_NOMEM, "access_token", "no memory");
    }
    avow_jws_sign_opts so;
    avow_jws_sign_opts_init(&so);
    so.typ = "at+jwt";
    so.field = "access_token";
    pthread_mutex_lock(&s->sign_lock);
    err = avow_jws_sign(svc_oauth_signer(s), payload.ptr, payload.len, &so, out, d);
    pthread_mutex_unlock(&s->sign_lock);
    avow_buf_free(&payload);
    return err;
}

/* A challenge for the client's next request, when the service asks for them. */
static void next_challenge(avow_service *s, svc_resp *out)
{
    if (!s->cfg.oauth->require_challenge || out->oauth_challenge[0] != '\0')
        return;
    avow_buf ch = {0};
    if (avow_oauth_challenge_issue(avow_ca_dir_get0_store(s->cd), s->cfg.oauth->challenge_ttl, 0,
                                   &ch, NULL) == AVOW_OK)
        avow__strlcpy(out->oauth_challenge, (const char *)ch.ptr, sizeof(out->oauth_challenge));
    avow_buf_free(&ch);
}

static void granted(svc_req *r, const avow_oauth_result *res, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    const char *cid = avow_oauth_result_client_id(res);
    if (!svc_oauth_client_allowed(s, cid)) {
        avow__fail(&d, AVOW_ERR_OAUTH_CLIENT_UNKNOWN, "client_id", "%.200s is not registered", cid);
        svc_oauth_error(out, 401, "invalid_client", AVOW_ERR_OAUTH_CLIENT_UNKNOWN, &d);
        return;
    }
    int bound = avow_oauth_result_mode(res) == AVOW_OAUTH_MODE_DPOP;
    avow_buf at = {0};
    avow_err err = access_token(s, res, bound, &at, &d);
    json_t *o = err == AVOW_OK ? json_object() : NULL;
    int bad = o == NULL;
    avow__json_put(o, "access_token", json_stringn((const char *)at.ptr, at.len), &bad);
    avow__json_put(o, "token_type", json_string(bound ? "DPoP" : "Bearer"), &bad);
    avow__json_put(o, "expires_in", json_integer((json_int_t)s->cfg.oauth->token_ttl), &bad);
    if (err != AVOW_OK)
        svc_problem_err(out, err, &d);
    else if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, "application/json", o);
    out->code = err;
    json_decref(o);
    avow_buf_free(&at);
}

void svc_oauth_token(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    static const char *const form_ct[] = {"application/x-www-form-urlencoded"};
    svc_oauth_form f;
    if (!svc_ctype_is(r, form_ct, 1)) {
        avow__fail(&d, AVOW_ERR_OAUTH_GRANT, "Content-Type", "want %s", form_ct[0]);
        svc_oauth_error(out, 400, "invalid_request", AVOW_ERR_OAUTH_GRANT, &d);
        return;
    }
    if (svc_oauth_form_parse(r->body, r->body_len, &f, &d) != AVOW_OK) {
        svc_oauth_error(out, 400, "invalid_request", AVOW_ERR_OAUTH_GRANT, &d);
        return;
    }
    if (strcmp(f.grant_type, "client_credentials") != 0) {
        avow__fail(&d, AVOW_ERR_OAUTH_GRANT, "grant_type", "only client_credentials is served");
        svc_oauth_error(out, 400, "unsupported_grant_type", AVOW_ERR_OAUTH_GRANT, &d);
        return;
    }
    char url[1024];
    if (svc_oauth_url(r, SVC_OAUTH_TOKEN, url, sizeof(url), &d) != AVOW_OK) {
        svc_oauth_error(out, 400, "invalid_request", d.code, &d);
        return;
    }
    avow_oauth_result *res = NULL;
    avow_err err = verify_request(r, url, f.has_client ? f.client_id : NULL, NULL, &res, &d);
    if (err == AVOW_OK && res != NULL)
        granted(r, res, out);
    else
        refused(r, err, res, &d, out);
    next_challenge(s, out);
    svc_audit(r, "oauth.token", out, NULL,
              res != NULL && avow_oauth_result_client_id(res) != NULL
                  ? avow_oauth_result_client_id(res)
                  : (f.has_client ? f.client_id : NULL));
    avow_oauth_result_free(res);
}

/*
 * POST /oauth/check: the same client authentication for a gateway or a
 * resource server in front of which avow sits. The client's headers are
 * forwarded as they came; "url" and "method" query parameters name the
 * original request (for DPoP htm/htu; default: this request), and
 * "Authorization: DPoP TOKEN" is the access token a DPoP proof must hash
 * (ath). The answer is avow_oauth_result_to_json: 200 when authenticated,
 * else the token endpoint's status and error, the challenge header included.
 */
void svc_oauth_check(svc_req *r, svc_resp *out)
{
    avow_diag d;
    avow_diag_clear(&d);
    char url[1024], method[16];
    const char *qu = svc_query(r, "url"), *qm = svc_query(r, "method");
    if (qu != NULL ? !svc_form_decode(qu, strlen(qu), url, sizeof(url))
                   : svc_oauth_url(r, r->path, url, sizeof(url), &d) != AVOW_OK) {
        avow__fail(&d, AVOW_ERR_OAUTH_GRANT, "url", "bad encoding, too long or no Host");
        svc_oauth_error(out, 400, "invalid_request", AVOW_ERR_OAUTH_GRANT, &d);
        return;
    }
    if (qm != NULL && !svc_form_decode(qm, strlen(qm), method, sizeof(method))) {
        avow__fail(&d, AVOW_ERR_OAUTH_GRANT, "method", "bad encoding or too long");
        svc_oauth_error(out, 400, "invalid_request", AVOW_ERR_OAUTH_GRANT, &d);
        return;
    }
    const char *authz = svc_header(r, "Authorization");
    const char *at = authz != NULL && strncasecmp(authz, "DPoP ", 5) == 0 ? authz + 5 : NULL;
    svc_req orig = *r;
    if (qm != NULL)
        orig.method = method;
    avow_oauth_result *res = NULL;
    avow_err err = verify_request(&orig, url, svc_query(r, "client_id"), at, &res, &d);
    if (err == AVOW_OK && res != NULL) {
        avow_buf_free(&out->body);
        if (avow_oauth_result_to_json(res, &out->body, &d) != AVOW_OK) {
            svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
        } else {
            out->status = 200;
            out->ctype = "application/json";
            out->code = AVOW_OK;
        }
    } else {
        refused(r, err, res, &d, out);
    }
    next_challenge(r->s, out);
    svc_audit(r, "oauth.check", out, NULL, res != NULL ? avow_oauth_result_client_id(res) : NULL);
    avow_oauth_result_free(res);
}
