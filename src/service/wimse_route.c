/*
 * The WIMSE routes of `avow serve` (docs/serve.md, docs/wimse.md):
 *
 *   POST /wimse/issue   the identity server: an attested CSR, or Evidence with
 *                       the workload key and a PoP by it, in; after an affirming
 *                       appraisal a WIT (and from a CSR a WIC) for the
 *                       identifier the identifier policy gives
 *   POST /wimse/check   the relying party's check for a gateway in front of a
 *                       workload: the request's Workload-Identity-Token and
 *                       Workload-Proof-Token headers forwarded as they came;
 *                       200 with the verdict, or an RFC 9457 problem with the
 *                       reason
 *
 * Without a "wimse" member in the configuration both are 404. The state
 * opened at start: the identifier policy, the WIT signer (its own key, a
 * pkcs11: URI among them, or the CA's), the trusted issuer keys (ours
 * first) and the WPT jti replay set, which survives restarts.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/token_front.h"
#include "service/wimse_int.h"

#define CT_JSON    "application/json"
#define MAX_VALUES 4u /* occurrences kept per header; two are refused as repeated anyway */
#define URL_MAX    2048u

/* ---- state ---- */

static avow_err open_state(avow_service *s, svc_wimse *w, avow_diag *d)
{
    const svc_wimse_cfg *c = s->cfg.wimse;
    avow_err err = avow_wimse_idmap_load(c->idmap, NULL, &w->idmap, d);
    if (err == AVOW_OK && c->issuer_key != NULL) {
        avow_signer_open_opts so;
        avow_signer_open_opts_init(&so);
        so.pkcs11_module = s->cfg.pkcs11_module;
        so.pin_source = s->cfg.pin_source;
        err = avow_signer_open(c->issuer_key, &so, &w->own_signer, d);
    }
    if (err != AVOW_OK)
        return err;
    EVP_PKEY *own = avow_signer_get0_pubkey(svc_wimse_signer(s));
    if (own == NULL || EVP_PKEY_up_ref(own) != 1)
        return avow__fail(d, AVOW_ERR_INTERNAL, "wimse.issuer_key", "no public key");
    w->keys[w->nkeys++] = own;
    for (size_t i = 0; err == AVOW_OK && i < c->nissuer_keys; i++)
        if ((err = svc_public_key_load(c->issuer_keys[i], "wimse.issuer_keys", &w->keys[w->nkeys],
                                       d)) == AVOW_OK)
            w->nkeys++;
    /* The jti set where the nonces are: a Redis store shared by several instances is theirs. */
    const char *store = s->cfg.store;
    int shared =
        store != NULL && (strncmp(store, "redis://", 8) == 0 || strncmp(store, "unix:", 5) == 0);
    char path[4096];
    if (err == AVOW_OK && c->replay_db == NULL && !shared) {
        int n = snprintf(path, sizeof(path), "%s/wimse-replay.db", s->cfg.ca);
        if (n < 0 || (size_t)n >= sizeof(path))
            err = avow__fail(d, AVOW_ERR_CONFIG, "wimse.replay_db", "path too long");
    }
    if (err == AVOW_OK)
        err = avow_oauth_replay_open_uri(c->replay_db != NULL ? c->replay_db
                                         : shared             ? store
                                                              : path,
                                         &w->replay, d);
    if (err == AVOW_OK)
        err = avow_oauth_key_cache_new(0, &w->key_cache, d);
    if (err == AVOW_OK) {
        size_t n = strlen(c->issuer) + strlen(SVC_WIMSE_ISSUE) + 1;
        if ((w->pop_aud = malloc(n)) == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, "wimse", "no memory");
        snprintf(w->pop_aud, n, "%s%s", c->issuer, SVC_WIMSE_ISSUE);
    }
    return err;
}

avow_err svc_wimse_setup(avow_service *s, avow_diag *d)
{
    if (s->cfg.wimse == NULL)
        return AVOW_OK;
    if ((s->wimse = calloc(1, sizeof(*s->wimse))) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "wimse", "no memory");
    return open_state(s, s->wimse, d);
}

void svc_wimse_free(avow_service *s)
{
    svc_wimse *w = s->wimse;
    if (w == NULL)
        return;
    avow_wimse_idmap_free(w->idmap);
    avow_signer_free(w->own_signer);
    for (size_t i = 0; i < w->nkeys; i++)
        EVP_PKEY_free(w->keys[i]);
    avow_oauth_replay_free(w->replay);
    avow_oauth_key_cache_free(w->key_cache);
    free(w->pop_aud);
    free(w);
    s->wimse = NULL;
}

avow_signer *svc_wimse_signer(const avow_service *s)
{
    if (s->wimse != NULL && s->wimse->own_signer != NULL)
        return s->wimse->own_signer;
    return avow_ca_get0_signer(avow_ca_dir_get0_ca(s->cd));
}

/* ---- routing ---- */

int svc_wimse_path(const char *path)
{
    return strncmp(path, SVC_WIMSE_PREFIX, strlen(SVC_WIMSE_PREFIX)) == 0;
}

void svc_wimse_route(svc_req *r, svc_resp *out)
{
    static const struct {
        const char *path;
        void (*fn)(svc_req *, svc_resp *);
    } routes[] = {{SVC_WIMSE_ISSUE, svc_wimse_issue}, {SVC_WIMSE_CHECK, svc_wimse_check}};
    for (size_t i = 0; r->s->wimse != NULL && i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(r->path, routes[i].path) == 0) {
            if (strcmp(r->method, "POST") != 0) {
                svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                            AVOW_ERR_CONTENT_TYPE, NULL);
                out->allow = "POST";
                return;
            }
            routes[i].fn(r, out);
            return;
        }
    svc_problem(out, 404, "urn:avow:problem:not-found", "No such resource", AVOW_ERR_NOT_FOUND,
                NULL);
}

/* ---- POST /wimse/issue ---- */

/*
 * The body, application/json:
 *   {"csr": "<base64 DER attested PKCS#10 or CRMF>", "credentials": ["wit", "wic"]}
 *   {"evidence": "<base64 DER Evidence>", "cnf_jwk": {JWK} or "cnf_key": "<PEM>",
 *    "pop": "<PoP JWT by that key, aud = issuer + /wimse/issue>"}   (a WIT only)
 * "credentials" defaults to both from a CSR ("wic" only while wimse.wic is on).
 */
typedef struct issue_in {
    json_t *root;
    avow_buf der;
    int is_csr, want_wit, want_wic;
    const char *pop;
    EVP_PKEY *cnf;
    avow_buf spki;
} issue_in;

static avow_err credentials_of(const svc_req *r, issue_in *in, avow_diag *d)
{
    json_t *v = json_object_get(in->root, "credentials");
    if (v == NULL) {
        in->want_wit = 1;
        in->want_wic = in->is_csr && r->s->cfg.wimse->wic;
        return AVOW_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 2)
        return avow__fail(d, AVOW_ERR_ARG, "credentials", "want [\"wit\"], [\"wic\"] or both");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *name = json_string_value(json_array_get(v, i));
        int *flag = name == NULL               ? NULL
                    : strcmp(name, "wit") == 0 ? &in->want_wit
                    : strcmp(name, "wic") == 0 ? &in->want_wic
                                               : NULL;
        if (flag == NULL || *flag)
            return avow__fail(d, AVOW_ERR_ARG, "credentials",
                              "each entry \"wit\" or \"wic\", at most once");
        *flag = 1;
    }
    if (in->want_wic && !in->is_csr)
        return avow__fail(d, AVOW_ERR_ARG, "credentials", "a WIC needs a certificate request");
    if (in->want_wic && !r->s->cfg.wimse->wic)
        return avow__fail(d, AVOW_ERR_ARG, "credentials", "this service issues no WIC");
    return AVOW_OK;
}

static avow_err parse_in(const svc_req *r, issue_in *in, avow_diag *d)
{
    static const char *const keys[] = {"csr",     "evidence", "cnf_jwk",
                                       "cnf_key", "pop",      "credentials"};
    avow_err err =
        svc_token_body(r, "issue request", keys, sizeof(keys) / sizeof(keys[0]), &in->root, d);
    if (err != AVOW_OK)
        return err;
    const char *ev = svc_token_str(in->root, "evidence"), *csr = svc_token_str(in->root, "csr");
    if ((ev == NULL) == (csr == NULL))
        return avow__fail(d, AVOW_ERR_ARG, "csr", "give one of csr and evidence");
    in->is_csr = csr != NULL;
    if (in->is_csr &&
        (json_object_get(in->root, "cnf_jwk") != NULL ||
         json_object_get(in->root, "cnf_key") != NULL || json_object_get(in->root, "pop") != NULL))
        return avow__fail(d, AVOW_ERR_ARG, "csr",
                          "a CSR names its key and proves it: no cnf_jwk, cnf_key or pop");
    const char *b64 = csr != NULL ? csr : ev;
    err = svc_b64_decode((const uint8_t *)b64, strlen(b64), &in->der, d);
    if (err == AVOW_OK)
        err = credentials_of(r, in, d);
    if (err == AVOW_OK && !in->is_csr) {
        if ((in->pop = svc_token_str(in->root, "pop")) == NULL)
            err = avow__fail(d, AVOW_ERR_ARG, "pop", "Evidence needs a PoP JWT by the key");
        if (err == AVOW_OK)
            err = svc_token_cnf(in->root, &in->cnf, d);
        if (err == AVOW_OK && in->cnf == NULL)
            err = avow__fail(d, AVOW_ERR_ARG, "cnf_jwk", "Evidence needs the workload key");
        if (err == AVOW_OK)
            err = avow_spki_der(in->cnf, &in->spki, d);
    }
    return err;
}

static void issue_opts(const avow_service *s, avow_wimse_issue_opts *o)
{
    const svc_wimse_cfg *c = s->cfg.wimse;
    avow_wimse_issue_opts_init(o);
    o->idmap = s->wimse->idmap;
    o->iss = c->issuer;
    o->ttl = c->ttl;
    o->kid = c->kid;
    o->result = c->result;
    o->wic_days = c->wic_days;
}

/* The credentials for a certificate request: the WIC first (it consumes the nonce and writes
 * the ledger row), then the WIT from the same request, appraised again without the store:
 * its nonce was checked and used a moment ago, within this one request. */
static avow_err run_csr(svc_req *r, issue_in *in, avow_buf *wit, X509 **wic, avow_appraisal **ap,
                        avow_diag *d)
{
    avow_service *s = r->s;
    avow_request *req = NULL;
    avow_err err = avow_request_decode(in->der.ptr, in->der.len, AVOW_REQUEST_AUTO, 0, &req, d);
    if (err != AVOW_OK)
        return err;
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonces = avow_ca_dir_get0_store(s->cd);
    ao.policy = s->policy;
    avow_wimse_issue_opts io;
    issue_opts(s, &io);
    pthread_mutex_lock(&s->sign_lock);
    if (in->want_wic)
        err = avow_wimse_issue_wic(s->cd, s->v, req, &ao, &io, wic, ap, d);
    if (err == AVOW_OK && in->want_wit) {
        avow_appraisal *again = NULL;
        if (in->want_wic)
            ao.nonces = NULL;
        err = avow_wimse_issue_wit_request(s->v, req, &ao, svc_wimse_signer(s), &io, wit,
                                           *ap == NULL ? ap : &again, d);
        avow_appraisal_free(again);
    }
    pthread_mutex_unlock(&s->sign_lock);
    avow_request_free(req);
    return err;
}

static avow_err run_evidence(svc_req *r, issue_in *in, avow_buf *wit, avow_appraisal **ap,
                             avow_diag *d)
{
    avow_service *s = r->s;
    avow_oauth_verify_opts vo;
    avow_oauth_verify_opts_init(&vo);
    vo.audience = s->wimse->pop_aud;
    vo.leeway = s->cfg.wimse->leeway;
    vo.replay = s->wimse->replay;
    svc_token_evidence ein;
    avow_view der = {in->der.ptr, in->der.len}, spki = {in->spki.ptr, in->spki.len};
    avow_err err = svc_token_evidence_in(s, in->pop, in->cnf, &vo, der, spki, &ein, d);
    if (err != AVOW_OK)
        return err;
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonces = avow_ca_dir_get0_store(s->cd);
    ao.policy = s->policy;
    avow_wimse_issue_opts io;
    issue_opts(s, &io);
    pthread_mutex_lock(&s->sign_lock);
    err = avow_wimse_issue_wit(s->v, &ein.sin, &ao, svc_wimse_signer(s), &io, wit, ap, d);
    pthread_mutex_unlock(&s->sign_lock);
    return err;
}

static avow_err pem_of(X509 *cert, avow_buf *out, avow_diag *d)
{
    uint8_t *der = NULL;
    int len = i2d_X509(cert, &der);
    if (len <= 0)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "wic", "cannot encode the certificate");
    avow_err err = avow_armor(der, (size_t)len, "CERTIFICATE", out);
    OPENSSL_free(der);
    return err == AVOW_OK ? AVOW_OK : avow__fail(d, err, "wic", "cannot write PEM");
}

static void serial_hex(X509 *cert, char *buf, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    buf[0] = '\0';
    for (size_t i = 0; hex != NULL && hex[i] != '\0' && i + 1 < cap; i++) {
        buf[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
        buf[i + 1] = '\0';
    }
    OPENSSL_free(hex);
    BN_free(bn);
}

static void issued(svc_req *r, const avow_appraisal *ap, const avow_buf *wit, X509 *wic,
                   svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf uri = {0}, pem = {0};
    avow_err err = avow_wimse_idmap_resolve(s->wimse->idmap, ap, &uri, &d);
    if (err == AVOW_OK && wic != NULL)
        err = pem_of(wic, &pem, &d);
    json_t *o = err == AVOW_OK ? json_object() : NULL;
    int bad = o == NULL;
    avow__json_put(o, "identifier", avow__json_text((const char *)uri.ptr), &bad);
    if (wit->len > 0) {
        avow__json_put(o, "wit", json_stringn((const char *)wit->ptr, wit->len), &bad);
        avow__json_put(o, "expires_in", json_integer((json_int_t)s->cfg.wimse->ttl), &bad);
    }
    if (wic != NULL) {
        serial_hex(wic, out->serial, sizeof(out->serial));
        avow__json_put(o, "wic", json_stringn((const char *)pem.ptr, pem.len), &bad);
        avow__json_put(o, "serial", json_string(out->serial), &bad);
    }
    if (err != AVOW_OK)
        svc_problem_err(out, err, &d);
    else if (bad)
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
    else
        svc_json_body(out, 200, CT_JSON, o);
    out->code = err;
    json_decref(o);
    avow_buf_free(&uri);
    avow_buf_free(&pem);
}

void svc_wimse_issue(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    avow_diag d;
    avow_diag_clear(&d);
    issue_in in;
    memset(&in, 0, sizeof(in));
    avow_buf wit = {0};
    X509 *wic = NULL;
    avow_appraisal *ap = NULL;
    const avow_ear *ear = NULL;
    avow_err err = parse_in(r, &in, &d);
    if (err != AVOW_OK) {
        svc_problem(out, err == AVOW_ERR_CONTENT_TYPE ? 415 : 400, "urn:avow:problem:malformed",
                    "The issue request cannot be used", err, &d);
        goto done;
    }
    err = in.is_csr ? run_csr(r, &in, &wit, &wic, &ap, &d) : run_evidence(r, &in, &wit, &ap, &d);
    ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
    if (ear != NULL)
        svc_metrics_appraisal(&s->m, ear);
    if (err == AVOW_OK && ap != NULL) {
        issued(r, ap, &wit, wic, out);
    } else if (err == AVOW_ERR_NOT_AFFIRMING && ear != NULL) {
        avow_buf earjwt = {0};
        svc_sign_ear(s, ear, &earjwt);
        const char *type = NULL;
        unsigned status = svc_refusal_status(ear, &type);
        svc_problem_appraisal(out, status, type, ear,
                              earjwt.ptr != NULL ? (const char *)earjwt.ptr : NULL);
        avow_buf_free(&earjwt);
    } else if (err == AVOW_ERR_WIMSE_KEY_BINDING) {
        svc_problem(out, 403, "urn:avow:problem:key-binding",
                    "The attested key is not the workload key", err, &d);
    } else if (err == AVOW_ERR_WIMSE_NO_IDENTIFIER || err == AVOW_ERR_WIMSE_IDENTIFIER) {
        svc_problem(out, 403, "urn:avow:problem:no-identifier",
                    "The identifier policy gives this workload no identifier", err, &d);
    } else if (err == AVOW_ERR_MALFORMED || err == AVOW_ERR_ARG) {
        svc_problem(out, 400, "urn:avow:problem:malformed", "The request cannot be parsed", err,
                    &d);
    } else {
        if (err == AVOW_ERR_STORE || err == AVOW_ERR_STORE_BUSY)
            svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, &d);
    }
    out->code = err;
done:
    svc_audit(r, "wimse.issue", out, ear, NULL);
    json_decref(in.root);
    avow_buf_free(&in.der);
    avow_buf_free(&in.spki);
    EVP_PKEY_free(in.cnf);
    avow_buf_free(&wit);
    X509_free(wic);
    avow_appraisal_free(ap);
}

/* ---- POST /wimse/check ---- */

typedef struct hdrs {
    const char *wit[MAX_VALUES], *wpt[MAX_VALUES];
    size_t nwit, nwpt;
} hdrs;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    hdrs *h = cls;
    if (key == NULL || value == NULL)
        return MHD_YES;
    if (strcasecmp(key, AVOW_WIMSE_HDR_WIT) == 0)
        svc_token_keep(h->wit, &h->nwit, MAX_VALUES, value);
    else if (strcasecmp(key, AVOW_WIMSE_HDR_WPT) == 0)
        svc_token_keep(h->wpt, &h->nwpt, MAX_VALUES, value);
    return MHD_YES;
}

/* A query value arrives percent-encoded (http.c); a NUL, bad escapes or a long value are refused.
 */
static int url_ok(const char *u)
{
    return u != NULL && u[0] != '\0' && strlen(u) < URL_MAX;
}

/*
 * The WPT's aud: the "url" query parameter (the original request's target
 * URI, as a gateway saw it), else wimse.audience. The access token for ath
 * is "Authorization: Bearer|DPoP TOKEN"; the Txn-Token header is tth's.
 */
void svc_wimse_check(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    const svc_wimse_cfg *c = s->cfg.wimse;
    avow_diag d;
    avow_diag_clear(&d);
    const char *qurl = svc_query(r, "url");
    char qd[URL_MAX];
    const char *aud = qurl == NULL                                          ? c->audience
                      : svc_form_decode(qurl, strlen(qurl), qd, sizeof(qd)) ? qd
                                                                            : NULL;
    if (!url_ok(aud)) {
        avow__fail(&d, AVOW_ERR_ARG, "url",
                   "no audience: give ?url=TARGET or configure wimse.audience");
        svc_problem(out, 400, "urn:avow:problem:malformed", "No audience to check against",
                    AVOW_ERR_ARG, &d);
        return;
    }
    hdrs h;
    memset(&h, 0, sizeof(h));
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect, &h);
    const char *authz = svc_header(r, "Authorization");
    const char *at = NULL;
    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
        at = authz + 7;
    else if (authz != NULL && strncasecmp(authz, "DPoP ", 5) == 0)
        at = authz + 5;
    avow_wimse_request q;
    avow_wimse_request_init(&q);
    q.wit = h.wit;
    q.n_wit = h.nwit;
    q.wpt = h.wpt;
    q.n_wpt = h.nwpt;
    q.access_token = at;
    q.txn_token = svc_header(r, "Txn-Token");
    avow_wimse_verify_opts vo;
    avow_wimse_verify_opts_init(&vo);
    vo.issuer_pkeys = s->wimse->keys;
    vo.n_issuer_pkeys = s->wimse->nkeys;
    vo.issuer = c->issuer;
    vo.audience = aud;
    vo.trust_domain = c->trust_domain;
    vo.leeway = c->leeway;
    vo.replay = s->wimse->replay;
    vo.key_cache = s->wimse->key_cache;
    if (c->require_iss)
        vo.flags |= AVOW_WIMSE_REQUIRE_ISS;
    avow_wimse_result *res = NULL;
    avow_err err = avow_wimse_verify(&q, &vo, &res, &d);
    const avow_diag *why = res != NULL ? avow_wimse_result_diag(res) : &d;
    if (err == AVOW_OK && res != NULL) {
        avow_buf_free(&out->body);
        if (avow_wimse_result_to_json(res, &out->body, &d) != AVOW_OK) {
            svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
        } else {
            out->status = 200;
            out->ctype = CT_JSON;
            out->code = AVOW_OK;
        }
    } else if (err == AVOW_ERR_STORE || err == AVOW_ERR_STORE_BUSY || err == AVOW_ERR_NOMEM ||
               res == NULL) {
        if (err == AVOW_ERR_STORE || err == AVOW_ERR_STORE_BUSY)
            svc_metrics_store_error(&s->m, err);
        svc_problem_err(out, err, why);
    } else {
        svc_problem(out, 401, "urn:avow:problem:wimse-refused",
                    "The workload credentials do not authenticate this request", err, why);
    }
    svc_audit(r, "wimse.check", out, NULL, res != NULL ? avow_wimse_result_identifier(res) : NULL);
    avow_wimse_result_free(res);
}
