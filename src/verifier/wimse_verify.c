/*
 * The relying party's check of a WIT with its WPT, in the drafts' order.
 * The jti goes to the replay set only when every other check passed, so a
 * forged WPT cannot burn an honest workload's jti.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/wimse.h>

#include "core/internal.h"
#include "core/json.h"
#include "formats/jose_int.h"
#include "formats/wimse_int.h"
#include "verifier/verify_int.h"

struct avow_wimse_result {
    avow_err status;
    avow_diag diag;
    char *identifier, *trust_domain, *claims, *jkt;
    EVP_PKEY *key;
};

void avow_wimse_result_free(avow_wimse_result *r)
{
    if (r == NULL)
        return;
    OPENSSL_free(r->identifier);
    OPENSSL_free(r->trust_domain);
    OPENSSL_free(r->claims);
    OPENSSL_free(r->jkt);
    EVP_PKEY_free(r->key);
    OPENSSL_free(r);
}

avow_err avow_wimse_result_status(const avow_wimse_result *r)
{
    return r != NULL ? r->status : AVOW_ERR_ARG;
}
const avow_diag *avow_wimse_result_diag(const avow_wimse_result *r)
{
    return r != NULL ? &r->diag : NULL;
}
const char *avow_wimse_result_identifier(const avow_wimse_result *r)
{
    return r != NULL && r->status == AVOW_OK ? r->identifier : NULL;
}
const char *avow_wimse_result_trust_domain(const avow_wimse_result *r)
{
    return r != NULL && r->status == AVOW_OK ? r->trust_domain : NULL;
}
EVP_PKEY *avow_wimse_result_get0_key(const avow_wimse_result *r)
{
    return r != NULL ? r->key : NULL;
}
const char *avow_wimse_result_claims(const avow_wimse_result *r)
{
    return r != NULL ? r->claims : NULL;
}

avow_err avow_wimse_result_to_json(const avow_wimse_result *r, avow_buf *out, avow_diag *d)
{
    if (r == NULL || out == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "result", "no result or output");
    json_t *o = json_object();
    int bad = o == NULL;
    avow__json_put(o, "authenticated", json_boolean(r->status == AVOW_OK), &bad);
    if (r->status == AVOW_OK) {
        avow__json_put(o, "credential", json_string(r->claims != NULL ? "wit" : "wic"), &bad);
        avow__json_put(o, "identifier", avow__json_text(r->identifier), &bad);
        avow__json_put(o, "trust_domain", avow__json_text(r->trust_domain), &bad);
        if (r->jkt != NULL)
            avow__json_put(o, "jkt", avow__json_text(r->jkt), &bad);
        if (r->claims != NULL)
            avow__json_put(o, "claims", json_loads(r->claims, 0, NULL), &bad);
    } else {
        avow__json_put(o, "reason", avow__json_errname(r->status), &bad);
        avow__json_put(o, "check", avow__json_text(r->diag.field), &bad);
        avow__json_put(o, "message", avow__json_text(r->diag.detail), &bad);
    }
    avow_err rc =
        bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(o);
    return rc;
}

typedef struct ctx {
    const avow_wimse_request *req;
    const avow_wimse_verify_opts *o;
    avow_wimse_result *r;
    int64_t now;
    avow_jws *wit, *wpt;
    const char *cnf_alg;
} ctx;

#define FAIL(c, code, field, ...) avow__fail(&(c)->r->diag, (code), (field), __VA_ARGS__)

/* 1 when typ (any "application/" prefix, any case) is want. */
static int typ_is(const char *typ, const char *want)
{
    if (typ == NULL)
        return 0;
    if (strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    return strcasecmp(typ, want) == 0;
}

static avow_err peek(ctx *c, const char *t, const char *what, const char *typ, json_t **hdr)
{
    avow_buf h = {0};
    char field[32];
    snprintf(field, sizeof(field), "%s", what);
    avow_err rc = avow_jws_peek_header(t, strlen(t), c->o->max_token, &h, &c->r->diag);
    if (rc != AVOW_OK)
        return rc;
    *hdr = json_loads((const char *)h.ptr, JSON_REJECT_DUPLICATES, NULL);
    avow_buf_free(&h);
    if (!json_is_object(*hdr))
        return FAIL(c, AVOW_ERR_JSON, field, "the header is not a JSON object");
    const char *v = json_string_value(json_object_get(*hdr, "typ"));
    if (!typ_is(v, typ))
        return FAIL(c, AVOW_ERR_WIMSE_TYP,
                    strcmp(what, "wit") == 0 ? "wit.header.typ" : "wpt.header.typ",
                    "typ is %s%.64s%s, not %s", v != NULL ? "\"" : "", v != NULL ? v : "absent",
                    v != NULL ? "\"" : "", typ);
    return AVOW_OK;
}

static avow_err int_claim(ctx *c, const json_t *p, const char *name, const char *field, int req,
                          int64_t *out, int *has)
{
    const json_t *v = json_object_get(p, name);
    *has = v != NULL;
    if (v == NULL)
        return req ? FAIL(c, AVOW_ERR_WIMSE_CLAIM, field, "%s is missing", name) : AVOW_OK;
    if (!json_is_integer(v))
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, field, "%s is not an integer", name);
    *out = json_integer_value(v);
    return AVOW_OK;
}

/* exp present, not past, not too far; iat and nbf, when present, not in the future. */
static avow_err times(ctx *c, const json_t *p, const char *pre, unsigned max_ttl)
{
    char f[48];
    int64_t exp = 0, t = 0;
    int has = 0;
    snprintf(f, sizeof(f), "%s.claims.exp", pre);
    avow_err rc = int_claim(c, p, "exp", f, 1, &exp, &has);
    if (rc != AVOW_OK)
        return rc;
    if (avow__time_after(c->now, exp, c->o->leeway))
        return FAIL(c, AVOW_ERR_WIMSE_EXPIRED, f, "expired %lld s ago (leeway %u s)",
                    (long long)(c->now - exp), c->o->leeway);
    if (avow__time_after(exp, c->now, (uint64_t)max_ttl + c->o->leeway))
        return FAIL(c, AVOW_ERR_WIMSE_LIFETIME, f, "exp lies more than %u s ahead", max_ttl);
    static const char *const nt[] = {"iat", "nbf"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(f, sizeof(f), "%s.claims.%s", pre, nt[i]);
        if ((rc = int_claim(c, p, nt[i], f, 0, &t, &has)) != AVOW_OK)
            return rc;
        if (has && avow__time_after(t, c->now, c->o->leeway))
            return FAIL(c, AVOW_ERR_WIMSE_NOT_YET, f, "%s lies %lld s in the future (leeway %u s)",
                        nt[i], (long long)(t - c->now), c->o->leeway);
    }
    return AVOW_OK;
}

static avow_err wit_signature(ctx *c, const char *t)
{
    const avow_wimse_verify_opts *o = c->o;
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.max_len = o->max_token;
    vo.flags = AVOW_JWS_PAYLOAD_JSON;
    vo.field = "wit";
    avow_err rc = AVOW_ERR_WIMSE_ISSUER;
    if (o->issuer_keys != NULL) {
        EVP_PKEY *k = NULL;
        rc = avow_jwks_select_for_jws(o->issuer_keys, t, strlen(t), &k, &c->r->diag);
        if (rc == AVOW_OK) {
            rc = avow_jws_verify(t, strlen(t), k, &vo, &c->wit, &c->r->diag);
            EVP_PKEY_free(k);
        } else if (rc == AVOW_ERR_KID_UNKNOWN || rc == AVOW_ERR_KEY_USE) {
            return FAIL(c, AVOW_ERR_WIMSE_ISSUER, "wit.header.kid",
                        "no trusted issuer key fits (%s)", c->r->diag.detail);
        }
    }
    for (size_t i = 0; (rc == AVOW_ERR_WIMSE_ISSUER || rc == AVOW_ERR_ALG_MISMATCH ||
                        rc == AVOW_ERR_SIG_INVALID) &&
                       i < o->n_issuer_pkeys;
         i++)
        rc = avow_jws_verify(t, strlen(t), o->issuer_pkeys[i], &vo, &c->wit, &c->r->diag);
    if (rc == AVOW_ERR_SIG_INVALID || rc == AVOW_ERR_ALG_MISMATCH || rc == AVOW_ERR_WIMSE_ISSUER)
        return FAIL(c, AVOW_ERR_WIMSE_ISSUER, "wit.signature",
                    "not signed by a trusted WIT issuer key");
    return rc;
}

static avow_err check_wit(ctx *c, const char *t)
{
    const avow_wimse_verify_opts *o = c->o;
    json_t *h = NULL;
    avow_err rc = peek(c, t, "wit", AVOW_WIMSE_TYP_WIT, &h);
    json_decref(h);
    if (rc != AVOW_OK || (rc = wit_signature(c, t)) != AVOW_OK)
        return rc;
    const json_t *p = avow__jws_get0_payload_json(c->wit);
    const json_t *iss = json_object_get(p, "iss");
    if (iss != NULL && !json_is_string(iss))
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wit.claims.iss", "iss is not a string");
    if (iss == NULL && (o->flags & AVOW_WIMSE_REQUIRE_ISS))
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wit.claims.iss", "iss is missing");
    if (o->issuer != NULL && (iss == NULL || strcmp(json_string_value(iss), o->issuer) != 0))
        return FAIL(c, AVOW_ERR_WIMSE_ISS, "wit.claims.iss", "iss is not %.128s", o->issuer);
    const json_t *sub = json_object_get(p, "sub");
    if (sub == NULL)
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wit.claims.sub", "sub is missing");
    if (!json_is_string(sub))
        return FAIL(c, AVOW_ERR_WIMSE_IDENTIFIER, "wit.claims.sub",
                    "sub must be exactly one Workload Identifier (a string)");
    avow_buf td = {0};
    if ((rc = avow__wimse_identifier_check(json_string_value(sub), json_string_length(sub),
                                           o->schemes, "wit.claims.sub", &td, &c->r->diag)) !=
        AVOW_OK)
        return rc;
    c->r->trust_domain = (char *)td.ptr;
    if (o->trust_domain != NULL && strcmp(c->r->trust_domain, o->trust_domain) != 0)
        return FAIL(c, AVOW_ERR_WIMSE_TRUST_DOMAIN, "wit.claims.sub",
                    "trust domain %.64s is not %.64s", c->r->trust_domain, o->trust_domain);
    if ((rc = times(c, p, "wit", o->wit_max_ttl)) != AVOW_OK)
        return rc;
    const json_t *jti = json_object_get(p, "jti");
    if ((jti != NULL && (!json_is_string(jti) || json_string_length(jti) == 0 ||
                         json_string_length(jti) > AVOW_WIMSE_MAX_JTI)) ||
        (jti == NULL && (o->flags & AVOW_WIMSE_REQUIRE_WIT_JTI)))
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wit.claims.jti",
                    "jti is missing, empty, not a string or too long");
    const json_t *jwk = json_object_get(json_object_get(p, "cnf"), "jwk");
    if (!json_is_object(jwk))
        return FAIL(c, AVOW_ERR_WIMSE_CNF, "wit.claims.cnf.jwk", "cnf.jwk is missing");
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    if (alg == NULL)
        return FAIL(c, AVOW_ERR_WIMSE_CNF, "wit.claims.cnf.jwk.alg",
                    "cnf.jwk.alg is missing or not a string");
    avow_sigalg sa = avow_sigalg_by_jose_name(alg);
    if (sa == AVOW_SIGALG_NONE)
        return FAIL(c, AVOW_ERR_WIMSE_CNF, "wit.claims.cnf.jwk.alg",
                    "cnf.jwk.alg \"%.32s\" is not an asymmetric signature algorithm", alg);
    avow_diag kd;
    avow_diag_clear(&kd);
    if (avow__jwk_from_json(jwk, "wit.claims.cnf.jwk", &c->r->key, &kd) != AVOW_OK)
        return FAIL(c, AVOW_ERR_WIMSE_CNF, kd.field[0] ? kd.field : "wit.claims.cnf.jwk", "%s",
                    kd.detail);
    if (avow_sigalg_fits_key(sa, c->r->key, AVOW_SIGALG_FIT_JOSE) != AVOW_OK)
        return FAIL(c, AVOW_ERR_WIMSE_CNF, "wit.claims.cnf.jwk.alg",
                    "cnf.jwk.alg %.32s does not fit the key", alg);
    c->cnf_alg = alg;
    avow_buf jkt = {0};
    if ((rc = avow__jwk_thumbprint_json(jwk, &jkt, &c->r->diag)) != AVOW_OK)
        return rc;
    c->r->jkt = (char *)jkt.ptr;
    c->r->identifier = OPENSSL_strdup(json_string_value(sub));
    c->r->claims = OPENSSL_strdup((const char *)avow_jws_get0_payload(c->wit)->ptr);
    if (c->r->identifier == NULL || c->r->claims == NULL)
        return FAIL(c, AVOW_ERR_NOMEM, "wit", "out of memory");
    return AVOW_OK;
}

/* A hash claim: present exactly when the token travels with the request, and equal. */
static avow_err hash_claim(ctx *c, const json_t *p, const char *name, const char *token,
                           avow_err code, const char *field)
{
    const json_t *v = json_object_get(p, name);
    if (token == NULL)
        return v == NULL
                   ? AVOW_OK
                   : FAIL(c, code, field, "%s is present and the request has no such token", name);
    if (!json_is_string(v))
        return FAIL(c, code, field, "%s is missing or not a string", name);
    char *h = NULL;
    if (avow__wimse_hash(token, strlen(token), &h) != AVOW_OK)
        return FAIL(c, AVOW_ERR_CRYPTO, field, "cannot hash");
    int eq = strcmp(h, json_string_value(v)) == 0;
    OPENSSL_free(h);
    return eq ? AVOW_OK : FAIL(c, code, field, "%s is not the hash of the request's token", name);
}

static avow_err check_oth(ctx *c, const json_t *p)
{
    const json_t *oth = json_object_get(p, "oth");
    if (oth == NULL)
        return AVOW_OK;
    if (!json_is_object(oth) || json_object_size(oth) > AVOW_WIMSE_MAX_OTH)
        return FAIL(c, AVOW_ERR_WIMSE_OTH, "wpt.claims.oth", "oth is not an object of at most %u",
                    AVOW_WIMSE_MAX_OTH);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)oth, k, v)
    {
        const char *value = NULL;
        for (size_t i = 0; i < c->req->n_other_tokens && c->req->other_tokens != NULL; i++) {
            char *n = NULL;
            if (avow__wimse_field_name(c->req->other_tokens[i].name, &n) == AVOW_OK &&
                strcmp(n, k) == 0)
                value = c->req->other_tokens[i].value;
            OPENSSL_free(n);
        }
        if (value == NULL || !json_is_string(v))
            return FAIL(c, AVOW_ERR_WIMSE_OTH, "wpt.claims.oth",
                        "oth names \"%.64s\", which the request does not carry", k);
        char *h = NULL;
        if (avow__wimse_oth_hash(value, &h) != AVOW_OK)
            return FAIL(c, AVOW_ERR_CRYPTO, "wpt.claims.oth", "cannot hash");
        int eq = strcmp(h, json_string_value(v)) == 0;
        OPENSSL_free(h);
        if (!eq)
            return FAIL(c, AVOW_ERR_WIMSE_OTH, "wpt.claims.oth",
                        "oth[\"%.64s\"] is not the hash of that header", k);
    }
    return AVOW_OK;
}

static avow_err jti_key(const char *jkt, const char *jti, uint8_t out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned n = 0;
    int ok = m != NULL && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(m, "wimse-wpt", 10) == 1 &&
             EVP_DigestUpdate(m, jkt, strlen(jkt) + 1) == 1 &&
             EVP_DigestUpdate(m, jti, strlen(jti) + 1) == 1 && EVP_DigestFinal_ex(m, out, &n) == 1;
    EVP_MD_CTX_free(m);
    return ok && n == 32 ? AVOW_OK : AVOW_ERR_CRYPTO;
}

static avow_err check_wpt(ctx *c, const char *t, const char *wit)
{
    const avow_wimse_verify_opts *o = c->o;
    json_t *h = NULL;
    avow_err rc = peek(c, t, "wpt", AVOW_WIMSE_TYP_WPT, &h);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    if (rc == AVOW_OK && (alg == NULL || strcmp(alg, c->cnf_alg) != 0))
        rc = FAIL(c, AVOW_ERR_WIMSE_WPT_ALG, "wpt.header.alg",
                  "alg %.32s is not the WIT's cnf.jwk.alg %.32s", alg != NULL ? alg : "(none)",
                  c->cnf_alg);
    json_decref(h);
    if (rc != AVOW_OK)
        return rc;
    avow_sigalg sa = avow_sigalg_by_jose_name(c->cnf_alg);
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.max_len = o->max_token;
    vo.flags = AVOW_JWS_PAYLOAD_JSON;
    vo.field = "wpt";
    vo.algs = &sa;
    vo.nalgs = 1;
    rc = avow_jws_verify(t, strlen(t), c->r->key, &vo, &c->wpt, &c->r->diag);
    if (rc == AVOW_ERR_SIG_INVALID || rc == AVOW_ERR_ALG_MISMATCH)
        return FAIL(c, AVOW_ERR_WIMSE_WPT_SIG, "wpt.signature",
                    "the WPT does not verify with the WIT's cnf key");
    if (rc != AVOW_OK)
        return rc;
    const json_t *p = avow__jws_get0_payload_json(c->wpt);
    const json_t *aud = json_object_get(p, "aud");
    if (aud == NULL)
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wpt.claims.aud", "aud is missing");
    if (!json_is_string(aud) || strlen(json_string_value(aud)) != json_string_length(aud) ||
        strcmp(json_string_value(aud), o->audience) != 0)
        return FAIL(c, AVOW_ERR_WIMSE_AUD, "wpt.claims.aud", "aud is not %.128s", o->audience);
    if ((rc = times(c, p, "wpt", o->wpt_max_ttl)) != AVOW_OK)
        return rc;
    const char *jti = json_string_value(json_object_get(p, "jti"));
    if (jti == NULL || jti[0] == '\0' || strlen(jti) > AVOW_WIMSE_MAX_JTI)
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wpt.claims.jti",
                    "jti is missing, empty, not a string or too long");
    if (!json_is_string(json_object_get(p, "wth")))
        return FAIL(c, AVOW_ERR_WIMSE_CLAIM, "wpt.claims.wth", "wth is missing");
    if ((rc = hash_claim(c, p, "wth", wit, AVOW_ERR_WIMSE_WTH, "wpt.claims.wth")) != AVOW_OK ||
        (rc = hash_claim(c, p, "ath", c->req->access_token, AVOW_ERR_WIMSE_ATH,
                         "wpt.claims.ath")) != AVOW_OK ||
        (rc = hash_claim(c, p, "tth", c->req->txn_token, AVOW_ERR_WIMSE_TTH, "wpt.claims.tth")) !=
            AVOW_OK ||
        (rc = check_oth(c, p)) != AVOW_OK)
        return rc;
    if (o->replay == NULL)
        return AVOW_OK;
    uint8_t key[32];
    if (jti_key(c->r->jkt, jti, key) != AVOW_OK)
        return FAIL(c, AVOW_ERR_CRYPTO, "wpt.claims.jti", "cannot hash the jti");
    int64_t exp = json_integer_value(json_object_get(p, "exp"));
    avow_diag sd;
    avow_diag_clear(&sd);
    rc = avow_oauth_replay_insert(o->replay, key, sizeof(key), exp + (int64_t)o->leeway, c->now,
                                  &sd);
    if (rc == AVOW_ERR_OAUTH_REPLAY)
        return FAIL(c, AVOW_ERR_WIMSE_REPLAY, "wpt.claims.jti", "this jti was already used");
    if (rc != AVOW_OK)
        c->r->diag = sd;
    return rc;
}

avow_err avow_wimse_verify(const avow_wimse_request *req, const avow_wimse_verify_opts *o,
                           avow_wimse_result **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (req == NULL || req->size != sizeof(*req) || o == NULL || o->size != sizeof(*o) ||
        out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "request or options not set up with their _init");
    if (o->audience == NULL && !(o->flags & AVOW_WIMSE_VERIFY_WIT_ONLY))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.audience", "no audience");
    ctx c = {req, o, OPENSSL_zalloc(sizeof(avow_wimse_result)), 0, NULL, NULL, NULL};
    if (c.r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "result", "out of memory");
    c.now = o->now != 0 ? o->now : (int64_t)time(NULL);
    avow_err rc = AVOW_OK;
    int wit_only = (o->flags & AVOW_WIMSE_VERIFY_WIT_ONLY) && req->n_wpt == 0;
    if (req->n_wit != 1 || req->wit == NULL || req->wit[0] == NULL)
        rc = FAIL(&c, AVOW_ERR_WIMSE_HEADER, AVOW_WIMSE_HDR_WIT,
                  "%zu Workload-Identity-Token fields; exactly one is allowed", req->n_wit);
    else if (!wit_only && (req->n_wpt != 1 || req->wpt == NULL || req->wpt[0] == NULL))
        rc = FAIL(&c, AVOW_ERR_WIMSE_HEADER, AVOW_WIMSE_HDR_WPT,
                  "%zu Workload-Proof-Token fields; exactly one is allowed", req->n_wpt);
    else if (o->issuer_keys == NULL && o->n_issuer_pkeys == 0)
        rc = FAIL(&c, AVOW_ERR_WIMSE_ISSUER, "wit", "no trusted WIT issuer key is configured");
    else if (strlen(req->wit[0]) > o->max_token ||
             (!wit_only && strlen(req->wpt[0]) > o->max_token))
        rc = FAIL(&c, AVOW_ERR_TOO_LARGE, strlen(req->wit[0]) > o->max_token ? "wit" : "wpt",
                  "the token is over %zu bytes", o->max_token);
    if (rc == AVOW_OK)
        rc = check_wit(&c, req->wit[0]);
    if (rc == AVOW_OK && !wit_only)
        rc = check_wpt(&c, req->wpt[0], req->wit[0]);
    if (rc != AVOW_OK && c.r->diag.code != rc)
        c.r->diag.code = rc;
    c.r->status = rc;
    if (diag != NULL)
        *diag = c.r->diag;
    avow_jws_free(c.wit);
    avow_jws_free(c.wpt);
    *out = c.r;
    return rc;
}

/* The chain of a WIC to the verifier's anchors at now; untrusted may be NULL. */
static avow_err wic_chain(ctx *c, X509 *cert, STACK_OF(X509) * untrusted, const avow_verifier *v)
{
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    if (sc == NULL || !X509_STORE_CTX_init(sc, v->store, cert, untrusted)) {
        X509_STORE_CTX_free(sc);
        return FAIL(c, AVOW_ERR_NOMEM, "wic", "out of memory");
    }
    X509_STORE_CTX_set_time(sc, 0, (time_t)c->now);
    X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_ANY);
    avow_err rc = AVOW_OK;
    if (X509_verify_cert(sc) != 1)
        rc = FAIL(c, AVOW_ERR_CHAIN, "wic", "no valid chain to a trust anchor: %s",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
    X509_STORE_CTX_free(sc);
    avow__ossl_clear();
    return rc;
}

/* Exactly one URI subjectAltName; *uri borrowed from names. */
static avow_err wic_uri(ctx *c, const GENERAL_NAMES *names, const ASN1_IA5STRING **uri)
{
    int n = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_URI && n++ == 0)
            *uri = gn->d.uniformResourceIdentifier;
    }
    if (n != 1)
        return FAIL(c, AVOW_ERR_WIMSE_WIC_SAN, "wic.subjectAltName",
                    "%d URI names; a WIC carries exactly one, the identifier", n);
    return AVOW_OK;
}

avow_err avow_wimse_verify_wic(X509 *cert, STACK_OF(X509) * untrusted, const avow_verifier *v,
                               const avow_wimse_verify_opts *o, avow_wimse_result **out,
                               avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (cert == NULL || v == NULL || o == NULL || o->size != sizeof(*o) || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "no certificate, verifier or options set up with _init");
    ctx c = {NULL, o, OPENSSL_zalloc(sizeof(avow_wimse_result)), 0, NULL, NULL, NULL};
    if (c.r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "result", "out of memory");
    c.now = o->now != 0 ? o->now : (int64_t)time(NULL);
    GENERAL_NAMES *names = NULL;
    const ASN1_IA5STRING *uri = NULL;
    avow_buf td = {0};
    avow_err rc = wic_chain(&c, cert, untrusted, v);
    if (rc == AVOW_OK &&
        (X509_check_ca(cert) != 0 || ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
                                      !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))))
        rc = FAIL(&c, AVOW_ERR_WIMSE_WIC, "wic",
                  "a CA certificate, or keyUsage without digitalSignature");
    if (rc == AVOW_OK) {
        int crit = 0;
        names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
        if (names == NULL)
            rc = FAIL(&c, AVOW_ERR_WIMSE_WIC_SAN, "wic.subjectAltName",
                      crit == -2 ? "more than one subjectAltName extension" : "none");
    }
    if (rc == AVOW_OK)
        rc = wic_uri(&c, names, &uri);
    if (rc == AVOW_OK)
        rc = avow_wimse_identifier_check((const char *)ASN1_STRING_get0_data(uri),
                                         (size_t)ASN1_STRING_length(uri), o->schemes, &td,
                                         &c.r->diag);
    if (rc == AVOW_OK && o->trust_domain != NULL && strcmp((const char *)td.ptr, o->trust_domain))
        rc = FAIL(&c, AVOW_ERR_WIMSE_TRUST_DOMAIN, "wic.subjectAltName",
                  "trust domain %s is not %s", (const char *)td.ptr, o->trust_domain);
    if (rc == AVOW_OK) {
        c.r->identifier = OPENSSL_strndup((const char *)ASN1_STRING_get0_data(uri),
                                          (size_t)ASN1_STRING_length(uri));
        c.r->trust_domain = OPENSSL_strdup((const char *)td.ptr);
        c.r->key = X509_get_pubkey(cert);
        if (c.r->identifier == NULL || c.r->trust_domain == NULL || c.r->key == NULL)
            rc = FAIL(&c, AVOW_ERR_NOMEM, "result", "out of memory");
    }
    GENERAL_NAMES_free(names);
    avow_buf_free(&td);
    avow__ossl_clear();
    if (rc != AVOW_OK && c.r->diag.code != rc)
        c.r->diag.code = rc;
    c.r->status = rc;
    if (diag != NULL)
        *diag = c.r->diag;
    *out = c.r;
    return rc;
}
