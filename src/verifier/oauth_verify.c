/*
 * The Authorization Server's (or Resource Server's) check of attestation-
 * based client authentication, draft -11 "Verification and Processing":
 * header dispatch, the Client Attestation, then the PoP JWT or the DPoP
 * proof of combined mode, then the state changes. Nothing is written to
 * the replay set or the challenge store until every check has passed, so a
 * forged request cannot burn an honest client's jti or challenge.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/jose.h>
#include <avow/oauth.h>

#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "formats/jose_int.h"
#include "formats/oauth_int.h"
#include "verifier/oauth_keys.h"

struct avow_oauth_result {
    avow_err status;
    const char *error; /* a draft error name (static) */
    avow_diag diag;
    avow_oauth_mode mode;
    char *client_id;
    EVP_PKEY *cnf;
    avow_buf jkt;
    char *claims;
    avow_buf challenge; /* a fresh one after use_attestation_challenge */
};

typedef struct pending {
    int set;
    uint8_t key[32];
    int64_t expires;
} pending;

typedef struct ctx {
    const avow_oauth_request *req;
    const avow_oauth_verify_opts *o;
    int64_t now;
    avow_oauth_result *r;
    avow_diag *d;
    const char *errname;
    avow_jws *att, *pop, *dpop;
    pending pop_jti, dpop_jti;
    avow_buf chal;           /* the challenge's bytes, consumed at the end when single-use */
    avow__jws_prep cnf_prep; /* from opts.key_cache: the cnf key's prepared verification */
} ctx;

#define FAIL(c, name, code, field, ...)                                                            \
    ((c)->errname = (name), avow__fail((c)->d, (code), (field), __VA_ARGS__))

static const char *const TYP_ATT[] = {AVOW_OAUTH_TYP_ATTESTATION, NULL};
static const char *const TYP_POP[] = {AVOW_OAUTH_TYP_POP, NULL};
static const char *const TYP_DPOP[] = {AVOW_OAUTH_TYP_DPOP, NULL};

void avow_oauth_request_init(avow_oauth_request *r)
{
    if (r == NULL)
        return;
    memset(r, 0, sizeof(*r));
    r->size = sizeof(*r);
}

void avow_oauth_verify_opts_init(avow_oauth_verify_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->leeway = AVOW_OAUTH_DEFAULT_LEEWAY;
    o->pop_max_age = AVOW_OAUTH_DEFAULT_POP_AGE;
    o->max_token = AVOW_OAUTH_MAX_TOKEN;
}

/* RFC 9110 token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
static int is_token68(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                     (s[i] >= '0' && s[i] <= '9') || strchr("-._~+/", s[i]) != NULL))
        i++;
    if (i == 0)
        return 0;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

/* Precisely one value of a header, token68 and within the size limit. */
static avow_err one_header(ctx *c, const char *const *v, size_t n, const char *name,
                           const char *err)
{
    if (n != 1 || v == NULL || v[0] == NULL)
        return FAIL(c, err, AVOW_ERR_OAUTH_HEADER, name, "%zu %s headers; precisely one is needed",
                    n, name);
    size_t len = strnlen(v[0], c->o->max_token + 1);
    if (len > c->o->max_token)
        return FAIL(c, err, AVOW_ERR_TOO_LARGE, name, "%s over %zu bytes", name, c->o->max_token);
    if (!is_token68(v[0], len))
        return FAIL(c, err, AVOW_ERR_OAUTH_HEADER, name, "%s is not token68 (RFC 9110)", name);
    return AVOW_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A JOSE refusal of typ is the module's MALFORMED; here it has its own code. */
static avow_err jose_fail(ctx *c, avow_err rc, const char *err)
{
    c->errname = err;
    if (rc == AVOW_ERR_MALFORMED && c->d != NULL && ends_with(c->d->field, ".header.typ"))
        c->d->code = rc = AVOW_ERR_OAUTH_TYP;
    return rc;
}

/* *v = integer claim; 0 absent, 1 present, -1 not an integer. */
static int int_claim(const json_t *o, const char *name, int64_t *v)
{
    const json_t *j = json_object_get(o, name);
    if (j == NULL)
        return 0;
    if (!json_is_integer(j))
        return -1;
    *v = (int64_t)json_integer_value(j);
    return 1;
}

/* A string claim of 1 to max bytes; NULL otherwise. */
static const char *str_claim(const json_t *o, const char *name, size_t max)
{
    const json_t *j = json_object_get(o, name);
    const char *s = json_string_value(j);
    if (s == NULL || s[0] == '\0' || json_string_length(j) > max ||
        strlen(s) != json_string_length(j))
        return NULL;
    return s;
}

/* ---- the Client Attestation ---- */

/* The header's alg, read only to choose between the signature keys and the shared secrets. */
static avow_err peek_alg(ctx *c, const char *t, size_t n, int *hmac)
{
    avow_buf h = {0};
    avow_err rc = avow_jws_peek_header(t, n, c->o->max_token, &h, c->d);
    if (rc != AVOW_OK) {
        if (c->d != NULL && strncmp(c->d->field, "jws", 3) == 0) {
            char f[96];
            snprintf(f, sizeof(f), "attestation%s", c->d->field + 3);
            avow__strlcpy(c->d->field, f, sizeof(c->d->field));
        }
        c->errname = AVOW_OAUTH_ERR_INVALID_ATTESTATION;
        return rc;
    }
    json_error_t e;
    json_t *j = json_loadb((const char *)h.ptr, h.len, JSON_REJECT_DUPLICATES, &e);
    const char *alg = json_string_value(json_object_get(j, "alg"));
    *hmac = alg != NULL && strncmp(alg, "HS", 2) == 0;
    json_decref(j);
    avow_buf_free(&h);
    return AVOW_OK;
}

static avow_err attestation_signature(ctx *c, const char *t, size_t n)
{
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_INVALID_ATTESTATION;
    int hmac = 0;
    avow_err rc = peek_alg(c, t, n, &hmac);
    if (rc != AVOW_OK)
        return rc;
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.typs = TYP_ATT;
    vo.algs = o->attestation_algs;
    vo.nalgs = o->nattestation_algs;
    vo.max_len = o->max_token;
    vo.flags = AVOW_JWS_PAYLOAD_JSON;
    vo.field = "attestation";
    if (hmac) {
        if (o->nattester_secrets == 0)
            return FAIL(c, E, AVOW_ERR_SIG_ALG, "attestation.header.alg",
                        "a MACed attestation, and no symmetric attester key is configured");
        for (size_t i = 0; i < o->nattester_secrets; i++) {
            rc = avow_jws_verify_hmac(t, n, o->attester_secrets[i].key, o->attester_secrets[i].len,
                                      &vo, &c->att, c->d);
            if (rc != AVOW_ERR_SIG_INVALID)
                break;
        }
    } else {
        if (o->nattester_keys == 0)
            return FAIL(c, E, AVOW_ERR_OAUTH_ATTESTER, "attestation",
                        "no trusted Client Attester key is configured");
        int mismatch_only = 1;
        for (size_t i = 0; i < o->nattester_keys; i++) {
            avow__jws_prep p;
            if (avow__oauth_attester_prep(o->key_cache, o->attester_keys[i], &p) != AVOW_OK)
                return FAIL(c, NULL, AVOW_ERR_NOMEM, "attestation", "out of memory");
            rc = avow__jws_verify_prep(t, n, o->attester_keys[i], &p, &vo, &c->att, c->d);
            EVP_PKEY_CTX_free(p.verify);
            if (rc == AVOW_ERR_SIG_INVALID)
                mismatch_only = 0;
            else if (rc != AVOW_ERR_ALG_MISMATCH)
                break;
        }
        /* Every key tried: an alg no key fits says algorithm confusion; else untrusted. */
        if (rc == AVOW_ERR_ALG_MISMATCH && !mismatch_only)
            rc = AVOW_ERR_SIG_INVALID;
    }
    if (rc == AVOW_ERR_SIG_INVALID) {
        char why[256];
        avow__strlcpy(why, c->d != NULL ? c->d->detail : "", sizeof(why));
        return FAIL(c, E, AVOW_ERR_OAUTH_ATTESTER, "attestation.signature",
                    "not signed by a trusted Client Attester (%s)", why);
    }
    return rc != AVOW_OK ? jose_fail(c, rc, E) : AVOW_OK;
}

static avow_err attestation_claims(ctx *c)
{
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_INVALID_ATTESTATION, *F = AVOW_OAUTH_ERR_USE_FRESH;
    const json_t *p = avow__jws_get0_payload_json(c->att);
    const char *sub = str_claim(p, "sub", 4096);
    if (sub == NULL)
        return FAIL(c, E, AVOW_ERR_OAUTH_CLAIM, "attestation.payload.sub",
                    "sub (the client_id) is missing, empty or not a string");
    int64_t exp = 0, iat = 0, nbf = 0;
    int has = int_claim(p, "exp", &exp);
    if (has <= 0)
        return FAIL(c, E, AVOW_ERR_OAUTH_CLAIM, "attestation.payload.exp",
                    has == 0 ? "exp is missing" : "exp is not an integer");
    if (avow__time_after(c->now, exp, o->leeway))
        return FAIL(c, F, AVOW_ERR_OAUTH_EXPIRED, "attestation.payload.exp",
                    "the attestation expired %llu s ago (leeway %u s)",
                    (unsigned long long)((uint64_t)c->now - (uint64_t)exp), o->leeway);
    has = int_claim(p, "iat", &iat);
    if (has < 0)
        return FAIL(c, E, AVOW_ERR_OAUTH_CLAIM, "attestation.payload.iat", "iat is not an integer");
    if (has > 0 && avow__time_after(iat, c->now, o->leeway))
        return FAIL(c, E, AVOW_ERR_BAD_TIME, "attestation.payload.iat",
                    "the attestation was issued in the future");
    if (o->attestation_max_age > 0 &&
        (has == 0 || avow__time_after(c->now, iat, (uint64_t)o->attestation_max_age + o->leeway)))
        return FAIL(c, F, AVOW_ERR_OAUTH_STALE, "attestation.payload.iat",
                    has == 0 ? "no iat, and this server takes attestations of at most %u s"
                             : "the attestation is older than %u s",
                    o->attestation_max_age);
    has = int_claim(p, "nbf", &nbf);
    if (has < 0)
        return FAIL(c, E, AVOW_ERR_OAUTH_CLAIM, "attestation.payload.nbf", "nbf is not an integer");
    if (has > 0 && avow__time_after(nbf, c->now, o->leeway))
        return FAIL(c, E, AVOW_ERR_BAD_TIME, "attestation.payload.nbf",
                    "the attestation is not valid yet");
    const json_t *cnf = json_object_get(p, "cnf");
    const json_t *jwk = json_object_get(cnf, "jwk");
    if (!json_is_object(cnf) || !json_is_object(jwk))
        return FAIL(c, E, AVOW_ERR_OAUTH_CNF, "attestation.payload.cnf",
                    "cnf must be an object with a \"jwk\" member (RFC 7800)");
    avow_diag kd;
    avow_diag_clear(&kd);
    avow_err krc = o->key_cache != NULL
                       ? avow__oauth_cnf_key(o->key_cache, jwk, "attestation.payload.cnf.jwk",
                                             &c->r->cnf, &c->cnf_prep, &c->r->jkt, &kd)
                       : avow__jwk_from_json(jwk, "attestation.payload.cnf.jwk", &c->r->cnf, &kd);
    if (krc == AVOW_ERR_NOMEM)
        return FAIL(c, NULL, krc, kd.field, "%s", kd.detail);
    if (krc != AVOW_OK)
        return FAIL(c, E, AVOW_ERR_OAUTH_CNF, kd.field, "cnf.jwk: %s", kd.detail);
    if (c->req->client_id != NULL && strcmp(c->req->client_id, sub) != 0)
        return FAIL(c, E, AVOW_ERR_OAUTH_CLIENT_ID, "client_id",
                    "the request's client_id is not the attestation's sub");
    if ((c->r->client_id = OPENSSL_strdup(sub)) == NULL ||
        (c->r->claims = OPENSSL_strdup((const char *)avow_jws_get0_payload(c->att)->ptr)) == NULL)
        return FAIL(c, NULL, AVOW_ERR_NOMEM, "attestation", "out of memory");
    return c->r->jkt.ptr != NULL ? AVOW_OK : avow__jwk_thumbprint_json(jwk, &c->r->jkt, c->d);
}

/* ---- challenges, jti and time ---- */

/* The challenge (PoP "challenge", DPoP "nonce" in combined mode) against what the server issued. */
static avow_err check_challenge(ctx *c, const json_t *p, const char *name, const char *field)
{
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_USE_CHALLENGE;
    const json_t *v = json_object_get(p, name);
    if (v != NULL && !json_is_string(v))
        return FAIL(c, AVOW_OAUTH_ERR_INVALID_ATTESTATION, AVOW_ERR_OAUTH_CLAIM, field,
                    "%s is not a string", name);
    if (o->challenges == NULL && o->expected_challenge == NULL)
        return AVOW_OK; /* this server uses no challenges: the claim is not understood */
    if (v == NULL)
        return (o->flags & AVOW_OAUTH_REQUIRE_CHALLENGE)
                   ? FAIL(c, E, AVOW_ERR_OAUTH_CHALLENGE_MISSING, field,
                          "this server requires a challenge and the proof carries none")
                   : AVOW_OK;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (o->expected_challenge != NULL) {
        if (avow__ct_equal((const uint8_t *)s, n, (const uint8_t *)o->expected_challenge,
                           strlen(o->expected_challenge)))
            return AVOW_OK;
        if (o->challenges == NULL)
            return FAIL(c, E, AVOW_ERR_OAUTH_CHALLENGE, field,
                        "%s is not the challenge of this session", name);
    }
    avow_buf b = {0};
    if (avow__b64url_decode(s, n, &b) != AVOW_OK || b.len < AVOW_NONCE_MIN_LEN ||
        b.len > AVOW_NONCE_MAX_LEN) {
        avow_buf_free(&b);
        return FAIL(c, E, AVOW_ERR_OAUTH_CHALLENGE, field, "%s is not a challenge of this server",
                    name);
    }
    avow_diag sd;
    avow_diag_clear(&sd);
    avow_err rc = avow_nonce_check(o->challenges, b.ptr, b.len, (time_t)c->now, &sd);
    if (rc == AVOW_OK) {
        c->chal = b;
        return AVOW_OK;
    }
    avow_buf_free(&b);
    if (rc == AVOW_ERR_STORE || rc == AVOW_ERR_STORE_BUSY || rc == AVOW_ERR_NOMEM) {
        if (c->d != NULL)
            *c->d = sd;
        c->errname = NULL;
        return rc;
    }
    return FAIL(c, E, AVOW_ERR_OAUTH_CHALLENGE, field, "%s: %s", name, avow_strerror(rc));
}

/* iat within [now - max_age - leeway, now + leeway]. */
static avow_err check_iat(ctx *c, const json_t *p, const char *field, const char *err, int64_t *iat)
{
    int has = int_claim(p, "iat", iat);
    if (has <= 0)
        return FAIL(c, err, AVOW_ERR_OAUTH_CLAIM, field,
                    has == 0 ? "iat is missing" : "iat is not an integer");
    if (avow__time_after(*iat, c->now, c->o->leeway))
        return FAIL(c, err, AVOW_ERR_OAUTH_IAT, field, "issued %llu s in the future (leeway %u s)",
                    (unsigned long long)((uint64_t)*iat - (uint64_t)c->now), c->o->leeway);
    if (avow__time_after(c->now, *iat, (uint64_t)c->o->pop_max_age + c->o->leeway))
        return FAIL(c, err, AVOW_ERR_OAUTH_IAT, field, "issued %llu s ago; the window is %u s",
                    (unsigned long long)((uint64_t)c->now - (uint64_t)*iat), c->o->pop_max_age);
    return AVOW_OK;
}

/* The replay-set key: SHA-256 over the kind, the scope and the jti, each NUL-terminated. */
static avow_err jti_key(const EVP_MD *md, const char *kind, const char *scope, const char *jti,
                        uint8_t out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned n = 0;
    int ok = m != NULL && EVP_DigestInit_ex(m, md != NULL ? md : EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(m, kind, strlen(kind) + 1) == 1 &&
             EVP_DigestUpdate(m, scope, strlen(scope) + 1) == 1 &&
             EVP_DigestUpdate(m, jti, strlen(jti) + 1) == 1 && EVP_DigestFinal_ex(m, out, &n) == 1;
    EVP_MD_CTX_free(m);
    return ok && n == 32 ? AVOW_OK : AVOW_ERR_CRYPTO;
}

/* jti present, not seen; remembered for the commit. */
static avow_err check_jti(ctx *c, const json_t *p, const char *kind, const char *scope, int64_t iat,
                          const char *field, const char *err, pending *out)
{
    const char *jti = str_claim(p, "jti", AVOW_OAUTH_MAX_JTI);
    if (jti == NULL)
        return FAIL(c, err, AVOW_ERR_OAUTH_CLAIM, field,
                    "jti is missing, empty, not a string or over %u bytes", AVOW_OAUTH_MAX_JTI);
    /* SHA-256 fetched once by the key cache when there is one (cnf_prep.md[0]). */
    if (jti_key(c->cnf_prep.md[0], kind, scope, jti, out->key) != AVOW_OK)
        return FAIL(c, NULL, AVOW_ERR_CRYPTO, field, "cannot hash the jti");
    /* Kept as long as a PoP of this iat could be accepted. */
    out->expires = iat + (int64_t)c->o->pop_max_age + (int64_t)c->o->leeway;
    out->set = 1;
    if (c->o->replay == NULL)
        return AVOW_OK;
    avow_diag sd;
    avow_diag_clear(&sd);
    avow_err rc = avow_oauth_replay_seen(c->o->replay, out->key, 32, c->now, &sd);
    if (rc == AVOW_ERR_OAUTH_REPLAY)
        return FAIL(c, err, rc, field, "this jti was already used");
    if (rc != AVOW_OK) {
        if (c->d != NULL)
            *c->d = sd;
        c->errname = NULL;
    }
    return rc;
}

/* ---- the PoP JWT ---- */

static avow_err check_pop(ctx *c)
{
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_INVALID_ATTESTATION;
    const char *t = c->req->pop[0];
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.typs = TYP_POP;
    vo.algs = o->pop_algs;
    vo.nalgs = o->npop_algs;
    vo.max_len = o->max_token;
    vo.flags = AVOW_JWS_PAYLOAD_JSON;
    vo.field = "pop";
    avow_err rc = avow__jws_verify_prep(t, strlen(t), c->r->cnf, &c->cnf_prep, &vo, &c->pop, c->d);
    if (rc == AVOW_ERR_SIG_INVALID || rc == AVOW_ERR_ALG_MISMATCH) {
        char why[256];
        avow__strlcpy(why, c->d != NULL ? c->d->detail : "", sizeof(why));
        return FAIL(c, E, AVOW_ERR_OAUTH_POP_SIG, "pop.signature",
                    "the PoP does not verify with the attestation's cnf key (%s)", why);
    }
    if (rc != AVOW_OK)
        return jose_fail(c, rc, E);
    const json_t *p = avow__jws_get0_payload_json(c->pop);
    const json_t *aud = json_object_get(p, "aud");
    if (json_is_array(aud) && (o->flags & AVOW_OAUTH_AUD_ARRAY_OF_ONE) && json_array_size(aud) == 1)
        aud = json_array_get(aud, 0);
    if (!json_is_string(aud))
        return FAIL(c, E, json_is_array(aud) ? AVOW_ERR_OAUTH_AUD : AVOW_ERR_OAUTH_CLAIM,
                    "pop.payload.aud", "aud must be one string (the draft allows one audience)");
    if (strlen(json_string_value(aud)) != json_string_length(aud) ||
        strcmp(json_string_value(aud), o->audience) != 0)
        return FAIL(c, E, AVOW_ERR_OAUTH_AUD, "pop.payload.aud", "aud is not %.128s", o->audience);
    int64_t iat = 0;
    if ((rc = check_iat(c, p, "pop.payload.iat", E, &iat)) != AVOW_OK ||
        (rc = check_challenge(c, p, "challenge", "pop.payload.challenge")) != AVOW_OK)
        return rc;
    return check_jti(c, p, "pop", c->r->client_id, iat, "pop.payload.jti", E, &c->pop_jti);
}

/* ---- DPoP (RFC 9449 section 4.3) ---- */

/* The URI without query and fragment, scheme and authority in lower case (RFC 3986 6.2.2.1). */
static char *htu_normal(const char *u)
{
    size_t n = strcspn(u, "?#");
    char *s = OPENSSL_strndup(u, n);
    if (s == NULL)
        return NULL;
    char *p = strstr(s, "://");
    char *end = p != NULL ? strchr(p + 3, '/') : NULL;
    if (end == NULL)
        end = s + strlen(s);
    for (char *q = s; p != NULL && q < end; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return s;
}

static avow_err check_dpop(ctx *c, int combined)
{
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_INVALID_DPOP;
    const char *t = c->req->dpop[0];
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.typs = TYP_DPOP;
    vo.algs = o->pop_algs;
    vo.nalgs = o->npop_algs;
    vo.max_len = o->max_token;
    vo.flags = AVOW_JWS_PAYLOAD_JSON | AVOW_JWS_KEY_FROM_JWK;
    vo.field = "dpop";
    avow_err rc = avow_jws_verify(t, strlen(t), NULL, &vo, &c->dpop, c->d);
    if (rc != AVOW_OK)
        return jose_fail(c, rc, E);
    EVP_PKEY *k = avow_jws_get0_key(c->dpop);
    if (combined && EVP_PKEY_eq(k, c->r->cnf) != 1)
        return FAIL(c, AVOW_OAUTH_ERR_INVALID_ATTESTATION, AVOW_ERR_DPOP_KEY, "dpop.header.jwk",
                    "the DPoP key is not the attestation's cnf key");
    const json_t *p = avow__jws_get0_payload_json(c->dpop);
    const char *htm = str_claim(p, "htm", 64);
    if (htm == NULL || c->req->method == NULL || strcmp(htm, c->req->method) != 0)
        return FAIL(c, E, AVOW_ERR_DPOP_HTM, "dpop.payload.htm",
                    "htm is missing or not the request's method");
    const char *htu = str_claim(p, "htu", 4096);
    if (htu == NULL || c->req->url == NULL)
        return FAIL(c, E, AVOW_ERR_DPOP_HTU, "dpop.payload.htu",
                    "htu is missing (or the request's URL is not known)");
    char *a = htu_normal(htu), *b = htu_normal(c->req->url);
    int same = a != NULL && b != NULL && strcmp(a, b) == 0;
    OPENSSL_free(a);
    OPENSSL_free(b);
    if (!same)
        return FAIL(c, E, AVOW_ERR_DPOP_HTU, "dpop.payload.htu", "htu is not the request's URL");
    int64_t iat = 0;
    if ((rc = check_iat(c, p, "dpop.payload.iat", E, &iat)) != AVOW_OK)
        return rc;
    if (c->req->access_token != NULL) {
        char *want = NULL;
        if (avow__oauth_ath(c->req->access_token, &want) != AVOW_OK)
            return FAIL(c, NULL, AVOW_ERR_CRYPTO, "dpop.payload.ath", "cannot hash the token");
        const json_t *ath = json_object_get(p, "ath");
        int ok = json_is_string(ath) &&
                 avow__ct_equal((const uint8_t *)json_string_value(ath), json_string_length(ath),
                                (const uint8_t *)want, strlen(want));
        OPENSSL_free(want);
        if (!ok)
            return FAIL(c, E, AVOW_ERR_DPOP_ATH, "dpop.payload.ath",
                        "ath is missing or not the hash of the access token");
    }
    if (combined && (rc = check_challenge(c, p, "nonce", "dpop.payload.nonce")) != AVOW_OK)
        return rc;
    avow_buf jkt = {0};
    const json_t *hjwk = json_object_get(avow__jws_get0_header_json(c->dpop), "jwk");
    if ((rc = avow__jwk_thumbprint_json(hjwk, &jkt, c->d)) != AVOW_OK)
        return rc;
    rc = check_jti(c, p, "dpop", (const char *)jkt.ptr, iat, "dpop.payload.jti",
                   combined ? AVOW_OAUTH_ERR_INVALID_ATTESTATION : E, &c->dpop_jti);
    avow_buf_free(&jkt);
    return rc;
}

/* ---- state changes, last ---- */

static avow_err record(ctx *c, const pending *p, const char *field)
{
    if (!p->set || c->o->replay == NULL)
        return AVOW_OK;
    avow_diag sd;
    avow_diag_clear(&sd);
    avow_err rc =
        avow_oauth_replay_insert(c->o->replay, p->key, sizeof(p->key), p->expires, c->now, &sd);
    if (rc == AVOW_ERR_OAUTH_REPLAY)
        return FAIL(c, AVOW_OAUTH_ERR_INVALID_ATTESTATION, rc, field, "this jti was already used");
    if (rc != AVOW_OK) {
        if (c->d != NULL)
            *c->d = sd;
        c->errname = NULL;
    }
    return rc;
}

static avow_err commit(ctx *c)
{
    avow_err rc = record(c, &c->pop_jti, "pop.payload.jti");
    if (rc == AVOW_OK)
        rc = record(c, &c->dpop_jti, "dpop.payload.jti");
    if (rc != AVOW_OK || c->chal.ptr == NULL || (c->o->flags & AVOW_OAUTH_CHALLENGE_REUSABLE))
        return rc;
    avow_diag sd;
    avow_diag_clear(&sd);
    rc = avow_nonce_consume(c->o->challenges, c->chal.ptr, c->chal.len, (time_t)c->now, &sd);
    if (rc == AVOW_ERR_STORE || rc == AVOW_ERR_STORE_BUSY) {
        if (c->d != NULL)
            *c->d = sd;
        c->errname = NULL;
        return rc;
    }
    if (rc != AVOW_OK) /* another request took it between the check and now */
        return FAIL(c, AVOW_OAUTH_ERR_USE_CHALLENGE, AVOW_ERR_OAUTH_CHALLENGE,
                    c->r->mode == AVOW_OAUTH_MODE_DPOP ? "dpop.payload.nonce"
                                                       : "pop.payload.challenge",
                    "challenge: %s", avow_strerror(rc));
    return AVOW_OK;
}

static avow_err run(ctx *c)
{
    const avow_oauth_request *q = c->req;
    const avow_oauth_verify_opts *o = c->o;
    const char *E = AVOW_OAUTH_ERR_INVALID_ATTESTATION;
    avow_err rc = one_header(c, q->attestation, q->nattestation, AVOW_OAUTH_HDR_ATTESTATION, E);
    if (rc != AVOW_OK)
        return rc;
    if (q->npop > 0 && (rc = one_header(c, q->pop, q->npop, AVOW_OAUTH_HDR_POP, E)) != AVOW_OK)
        return rc;
    if (q->ndpop > 0 && (rc = one_header(c, q->dpop, q->ndpop, AVOW_OAUTH_HDR_DPOP,
                                         AVOW_OAUTH_ERR_INVALID_DPOP)) != AVOW_OK)
        return rc;
    /* Dispatch (PR #209): a PoP header decides; else a DPoP proof is the PoP. */
    c->r->mode = q->npop == 1    ? AVOW_OAUTH_MODE_POP_JWT
                 : q->ndpop == 1 ? AVOW_OAUTH_MODE_DPOP
                                 : AVOW_OAUTH_MODE_NONE;
    if (c->r->mode == AVOW_OAUTH_MODE_NONE)
        return FAIL(c, E, AVOW_ERR_OAUTH_HEADER, AVOW_OAUTH_HDR_POP,
                    "neither an OAuth-Client-Attestation-PoP nor a DPoP header");
    if ((c->r->mode == AVOW_OAUTH_MODE_POP_JWT && (o->flags & AVOW_OAUTH_NO_POP_JWT)) ||
        (c->r->mode == AVOW_OAUTH_MODE_DPOP && (o->flags & AVOW_OAUTH_NO_COMBINED)))
        return FAIL(c, E, AVOW_ERR_OAUTH_METHOD,
                    c->r->mode == AVOW_OAUTH_MODE_DPOP ? AVOW_OAUTH_HDR_DPOP : AVOW_OAUTH_HDR_POP,
                    "this server does not take %s",
                    c->r->mode == AVOW_OAUTH_MODE_DPOP ? "attest_jwt_client_auth_dpop"
                                                       : "attest_jwt_client_auth");
    const char *t = q->attestation[0];
    if ((rc = attestation_signature(c, t, strlen(t))) != AVOW_OK ||
        (rc = attestation_claims(c)) != AVOW_OK)
        return rc;
    if (c->r->mode == AVOW_OAUTH_MODE_POP_JWT) {
        /* Any DPoP proof beside the PoP is checked under RFC 9449 alone. */
        if ((rc = check_pop(c)) != AVOW_OK || (q->ndpop == 1 && (rc = check_dpop(c, 0)) != AVOW_OK))
            return rc;
    } else if ((rc = check_dpop(c, 1)) != AVOW_OK) {
        return rc;
    }
    return commit(c);
}

avow_err avow_oauth_verify(const avow_oauth_request *req, const avow_oauth_verify_opts *opts,
                           avow_oauth_result **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (opts == NULL || opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_verify_opts_init");
    if (req == NULL || req->size != sizeof(*req))
        return avow__fail(diag, AVOW_ERR_ARG, "req.size",
                          "request not set up with avow_oauth_request_init");
    if (out == NULL || opts->audience == NULL || opts->audience[0] == '\0' || opts->max_token == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.audience", "no output, audience or max_token");
    if ((opts->flags & AVOW_OAUTH_REQUIRE_CHALLENGE) && opts->challenges == NULL &&
        opts->expected_challenge == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.flags",
                          "a challenge is required, and there is no store or session challenge");
    avow_oauth_result *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "oauth", "out of memory");
    ctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.o = opts;
    c.now = opts->now != 0 ? opts->now : (int64_t)time(NULL);
    c.r = r;
    c.d = &r->diag;
    avow_diag_clear(c.d);
    avow_err rc = run(&c);
    r->status = rc;
    r->error = rc == AVOW_OK ? NULL : c.errname;
    if (rc != AVOW_OK && r->diag.code == AVOW_OK)
        r->diag.code = rc;
    /* -11: a server that uses challenges hands a fresh one with use_attestation_challenge. */
    if (rc != AVOW_OK && r->error != NULL && strcmp(r->error, AVOW_OAUTH_ERR_USE_CHALLENGE) == 0 &&
        opts->challenges != NULL) {
        avow_diag cd;
        avow_diag_clear(&cd);
        (void)avow_oauth_challenge_issue(opts->challenges, opts->challenge_ttl, c.now,
                                         &r->challenge, &cd);
    }
    if (diag != NULL)
        *diag = r->diag;
    avow_jws_free(c.att);
    avow_jws_free(c.pop);
    avow_jws_free(c.dpop);
    avow_buf_free(&c.chal);
    EVP_PKEY_CTX_free(c.cnf_prep.verify);
    *out = r;
    return rc;
}

avow_err avow_oauth_possession(const char *pop, EVP_PKEY *key, const avow_oauth_verify_opts *opts,
                               avow_diag *diag)
{
    if (opts == NULL || opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_verify_opts_init");
    if (pop == NULL || key == NULL || opts->audience == NULL || opts->max_token == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "pop", "no PoP, key or audience");
    avow_oauth_result r;
    memset(&r, 0, sizeof(r));
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    q.pop = &pop;
    q.npop = 1;
    ctx c;
    memset(&c, 0, sizeof(c));
    c.req = &q;
    c.o = opts;
    c.now = opts->now != 0 ? opts->now : (int64_t)time(NULL);
    c.r = &r;
    c.d = diag;
    r.cnf = key;
    r.mode = AVOW_OAUTH_MODE_POP_JWT;
    avow_buf jkt = {0};
    avow_err rc = one_header(&c, q.pop, 1, AVOW_OAUTH_HDR_POP, AVOW_OAUTH_ERR_INVALID_ATTESTATION);
    if (rc == AVOW_OK)
        rc = avow_jwk_thumbprint(key, &jkt, diag);
    r.client_id = (char *)jkt.ptr;
    if (rc == AVOW_OK && (rc = check_pop(&c)) == AVOW_OK)
        rc = commit(&c);
    avow_buf_free(&jkt);
    avow_jws_free(c.pop);
    avow_buf_free(&c.chal);
    return rc;
}

void avow_oauth_result_free(avow_oauth_result *r)
{
    if (r == NULL)
        return;
    OPENSSL_free(r->client_id);
    EVP_PKEY_free(r->cnf);
    avow_buf_free(&r->jkt);
    OPENSSL_free(r->claims);
    avow_buf_free(&r->challenge);
    OPENSSL_free(r);
}

avow_err avow_oauth_result_status(const avow_oauth_result *r)
{
    return r != NULL ? r->status : AVOW_ERR_ARG;
}

const char *avow_oauth_result_error(const avow_oauth_result *r)
{
    return r != NULL ? r->error : NULL;
}

const avow_diag *avow_oauth_result_diag(const avow_oauth_result *r)
{
    return r != NULL ? &r->diag : NULL;
}

avow_oauth_mode avow_oauth_result_mode(const avow_oauth_result *r)
{
    return r != NULL ? r->mode : AVOW_OAUTH_MODE_NONE;
}

const char *avow_oauth_result_client_id(const avow_oauth_result *r)
{
    return r != NULL ? r->client_id : NULL;
}

EVP_PKEY *avow_oauth_result_get0_cnf(const avow_oauth_result *r)
{
    return r != NULL ? r->cnf : NULL;
}

const char *avow_oauth_result_jkt(const avow_oauth_result *r)
{
    return r != NULL ? (const char *)r->jkt.ptr : NULL;
}

const char *avow_oauth_result_claims(const avow_oauth_result *r)
{
    return r != NULL ? r->claims : NULL;
}

const char *avow_oauth_result_challenge(const avow_oauth_result *r)
{
    return r != NULL ? (const char *)r->challenge.ptr : NULL;
}

avow_err avow_oauth_result_to_json(const avow_oauth_result *r, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "result", "no result or output");
    static const char *const modes[] = {NULL, "attest_jwt_client_auth",
                                        "attest_jwt_client_auth_dpop"};
    json_t *o = json_object();
    int bad = o == NULL;
    avow__json_put(o, "authenticated", json_boolean(r->status == AVOW_OK), &bad);
    if (r->mode != AVOW_OAUTH_MODE_NONE)
        avow__json_put(o, "mode", json_string(modes[r->mode]), &bad);
    if (r->status == AVOW_OK) {
        json_error_t e;
        avow__json_put(o, "client_id", avow__json_text(r->client_id), &bad);
        avow__json_put(o, "jkt", avow__json_text((const char *)r->jkt.ptr), &bad);
        avow__json_put(o, "attestation", json_loads(r->claims, 0, &e), &bad);
    } else {
        avow__json_put(o, "error", r->error != NULL ? json_string(r->error) : json_null(), &bad);
        avow__json_put(o, "reason", avow__json_errname(r->status), &bad);
        /* Both may quote the hostile input: escaped as everywhere avow prints it. */
        char field[4 * sizeof(r->diag.field) + 1], detail[4 * sizeof(r->diag.detail) + 1];
        avow__escape_str(r->diag.field, 0, field, sizeof(field));
        avow__escape_str(r->diag.detail, 0, detail, sizeof(detail));
        avow__json_put(o, "check", avow__json_text(field), &bad);
        avow__json_put(o, "message", avow__json_text(detail), &bad);
        if (r->challenge.ptr != NULL)
            avow__json_put(o, "challenge", avow__json_text((const char *)r->challenge.ptr), &bad);
    }
    avow_err rc = bad ? avow__fail(diag, AVOW_ERR_NOMEM, "result", "out of memory")
                      : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(o);
    return rc;
}
