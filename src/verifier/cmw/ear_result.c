/*
 * An Attestation Result in a request (the passport model): the EAR JWT is
 * trusted only under a key the CA configured for verifiers (never an
 * attester's key), must be fresh (the expected nonce, or an iat within
 * the configured age), affirming, and attest a key; the binding of that
 * key to the request's key is the registry's generic key binding.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <avow/ear.h>
#include <avow/jose.h>

#include "core/internal.h"
#include "verifier/cmw/cmw_int.h"
#include "verifier/registry_int.h"
#include "verifier/verify_int.h"

/* Clock skew allowed on exp, nbf and a future iat. */
#define RESULT_LEEWAY 60u

static const avow_vocab_element EAR_ELEMENTS[] = {
    {"result", 0},
    {"submod", 0},
    {"key", AVOW_VOCAB_KEY_ELEMENT},
};

/* The order of the claims below is the order ear_result_claims writes them in. */
static const avow_vocab_claim EAR_CLAIMS[] = {
    {"result", "profile", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"result", "status", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"result", "iat", AVOW_CV_INT, AVOW_TV_NONE, 0},
    {"result", "verifier", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"result", "nonce", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, AVOW_ROLE_NONCE},
    {"submod", "submod", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"submod", "submod-status", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    /* One per trustworthiness-vector key, in avow_tv_key order. */
    {"submod", "instance-identity", AVOW_CV_INT, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"submod", "configuration", AVOW_CV_INT, AVOW_TV_CONFIGURATION, 0},
    {"submod", "executables", AVOW_CV_INT, AVOW_TV_EXECUTABLES, 0},
    {"submod", "file-system", AVOW_CV_INT, AVOW_TV_FILE_SYSTEM, 0},
    {"submod", "hardware", AVOW_CV_INT, AVOW_TV_HARDWARE, 0},
    {"submod", "runtime-opaque", AVOW_CV_INT, AVOW_TV_RUNTIME_OPAQUE, 0},
    {"submod", "storage-opaque", AVOW_CV_INT, AVOW_TV_STORAGE_OPAQUE, 0},
    {"submod", "sourced-data", AVOW_CV_INT, AVOW_TV_SOURCED_DATA, 0},
    {"key", "spki", AVOW_CV_BYTES, AVOW_TV_NONE, AVOW_ROLE_KEY_SPKI},
};
#define C_SUBMOD 5u
#define C_VECTOR 7u
#define C_SPKI   (C_VECTOR + AVOW_TV_COUNT_)

const avow_vocabulary avow__ear_vocab = {"ear", sizeof(EAR_ELEMENTS) / sizeof(EAR_ELEMENTS[0]),
                                         EAR_ELEMENTS, sizeof(EAR_CLAIMS) / sizeof(EAR_CLAIMS[0]),
                                         EAR_CLAIMS};

void avow__ear_result_free(avow__ear_result *r)
{
    if (r == NULL)
        return;
    avow_ear_free(r->ear);
    avow_buf_free(&r->nonce);
    avow_buf_free(&r->akpub);
    OPENSSL_free(r);
}

/* "field: detail", cut to fit (the diag keeps the whole). */
static void set_detail(avow__ear_result *r, const char *field, const char *detail)
{
    avow__strlcpy(r->detail, field, sizeof(r->detail));
    size_t n = strlen(r->detail);
    if (n + 2 < sizeof(r->detail)) {
        memcpy(r->detail + n, ": ", 3);
        avow__strlcpy(r->detail + n + 2, detail, sizeof(r->detail) - n - 2);
    }
}

static avow_err fail(avow__ear_result *r, avow_diag *d, avow_err rc, const char *field,
                     const char *msg)
{
    avow__fail(d, rc, field, "%s", msg);
    r->status = rc;
    set_detail(r, field, msg);
    return rc;
}

/* The JWS kid, read before anything is verified, only to pick keys. */
static void peek_kid(const char *jwt, size_t len, char *kid, size_t cap)
{
    avow_buf h = {0};
    kid[0] = '\0';
    if (avow_jws_peek_header(jwt, len, 4096, &h, NULL) != AVOW_OK)
        return;
    json_t *o = json_loadb((const char *)h.ptr, h.len, 0, NULL);
    const char *k = json_string_value(json_object_get(o, "kid"));
    if (k != NULL && strlen(k) < cap)
        avow__strlcpy(kid, k, cap);
    json_decref(o);
    avow_buf_free(&h);
}

/* The signature under one of the result keys; *jws gets the verified JWS. */
static avow_err check_signature(const avow_verifier *v, const char *jwt, size_t len, time_t now,
                                avow__ear_result *r, avow_jws **jws, avow_diag *d)
{
    char kid[64];
    peek_kid(jwt, len, kid, sizeof(kid));
    avow_ear_verify_opts eo;
    avow_ear_verify_opts_init(&eo);
    eo.now = now;
    eo.leeway = RESULT_LEEWAY;
    eo.flags = AVOW_EAR_VERIFY_IAT_NOT_FUTURE;
    size_t tried = 0;
    for (size_t i = 0; i < v->nrkeys; i++) {
        const avow__result_key *k = &v->rkeys[i];
        if (k->kid != NULL && strcmp(k->kid, kid) != 0)
            continue;
        tried++;
        avow_diag kd;
        avow_diag_clear(&kd);
        avow_err rc = avow_ear_verify_jws(jwt, len, k->pub, &eo, jws, &kd);
        if (rc == AVOW_OK) {
            avow__strlcpy(r->kid, kid, sizeof(r->kid));
            const char *an = avow_sigalg_jose_name(avow_jws_alg(*jws));
            avow__strlcpy(r->alg, an != NULL ? an : "?", sizeof(r->alg));
            return AVOW_OK;
        }
        /* A key that does not fit the signature: the next may. Anything else is final. */
        if (rc != AVOW_ERR_SIG_INVALID && rc != AVOW_ERR_ALG_MISMATCH) {
            if (d != NULL)
                *d = kd;
            r->status = rc;
            set_detail(r, kd.field, kd.detail);
            return rc;
        }
    }
    char why[96];
    snprintf(why, sizeof(why), "%s trusted verifier key%s", tried == 0 ? "no" : "verifies under no",
             kid[0] != '\0' ? " for its kid" : "");
    return fail(r, d, AVOW_ERR_RESULT_UNTRUSTED, "ear.signature", why);
}

/* The attested key: ear_veraison_key_attestation.akpub, or a cnf jwk; both must agree. */
static avow_err attested_key(avow__ear_result *r, const avow_buf *payload, avow_diag *d)
{
    for (size_t i = 0; i < r->ear->nsubmods && r->akey == NULL; i++) {
        const avow_buf *ak = &r->ear->submods[i].akpub;
        if (ak->len == 0)
            continue;
        const uint8_t *p = ak->ptr;
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)ak->len);
        int ok = k != NULL && p == ak->ptr + ak->len;
        EVP_PKEY_free(k);
        avow__ossl_clear();
        if (!ok)
            return fail(r, d, AVOW_ERR_MALFORMED, "ear.submods.akpub",
                        "not one DER SubjectPublicKeyInfo");
        if ((r->akpub.ptr = avow__memdup(ak->ptr, ak->len)) == NULL)
            return fail(r, d, AVOW_ERR_NOMEM, "ear", "out of memory");
        r->akpub.len = ak->len;
        r->akey = "akpub";
    }
    json_t *o = json_loadb((const char *)payload->ptr, payload->len, 0, NULL);
    json_t *jwk = json_object_get(json_object_get(o, "cnf"), "jwk");
    avow_err rc = AVOW_OK;
    if (jwk != NULL) {
        char *text = json_dumps(jwk, JSON_COMPACT);
        EVP_PKEY *k = NULL;
        uint8_t *der = NULL;
        int n = 0;
        rc = text != NULL ? avow_jwk_import(text, strlen(text), &k, d) : AVOW_ERR_NOMEM;
        free(text);
        if (rc == AVOW_OK && (n = i2d_PUBKEY(k, &der)) <= 0)
            rc = AVOW_ERR_CRYPTO;
        EVP_PKEY_free(k);
        if (rc != AVOW_OK) {
            rc = fail(r, d, rc, "ear.cnf.jwk", "not a public JWK avow reads");
        } else if (r->akey != NULL &&
                   (r->akpub.len != (size_t)n || memcmp(r->akpub.ptr, der, (size_t)n) != 0)) {
            rc = fail(r, d, AVOW_ERR_MALFORMED, "ear.cnf.jwk",
                      "names another key than ear_veraison_key_attestation.akpub");
        } else if (r->akey == NULL) {
            r->akpub.ptr = der;
            r->akpub.len = (size_t)n;
            r->akey = "cnf.jwk";
            der = NULL;
        }
        OPENSSL_free(der);
        avow__ossl_clear();
    }
    json_decref(o);
    return rc;
}

static avow_tier overall(const avow_ear *ear)
{
    avow_tier t = ear->has_status ? ear->status : AVOW_TIER_AFFIRMING;
    for (size_t i = 0; i < ear->nsubmods; i++)
        if (avow_tier_worse(ear->submods[i].status, t))
            t = ear->submods[i].status;
    return t;
}

static avow_err check_result(const avow_verifier *v, const avow_buf *payload, time_t now,
                             int expect_nonce, avow__ear_result *r, avow_diag *d)
{
    avow_err rc = avow_ear_from_json((const char *)payload->ptr, payload->len, &r->ear, d);
    if (rc != AVOW_OK) {
        r->status = rc;
        set_detail(r, d != NULL ? d->field : "ear", d != NULL ? d->detail : avow_strerror(rc));
        return rc;
    }
    r->tier = overall(r->ear);
    if (r->ear->nonce != NULL &&
        avow_b64url_decode(r->ear->nonce, strlen(r->ear->nonce), &r->nonce, NULL) != AVOW_OK)
        return fail(r, d, AVOW_ERR_MALFORMED, "ear.eat_nonce", "not base64url");
    if ((rc = attested_key(r, payload, d)) != AVOW_OK)
        return rc;
    /* With an expected nonce statement.c compares eat_nonce; without one, the age decides. */
    if (!expect_nonce) {
        if (v->result_max_age == 0)
            return fail(r, d, AVOW_ERR_RESULT_STALE, "ear.iat",
                        "no nonce is expected and no result age is accepted");
        if (now > r->ear->iat && (uint64_t)(now - r->ear->iat) > v->result_max_age) {
            char why[64];
            snprintf(why, sizeof(why), "issued %llds ago; at most %us accepted",
                     (long long)(now - r->ear->iat), v->result_max_age);
            return fail(r, d, AVOW_ERR_RESULT_STALE, "ear.iat", why);
        }
    }
    if (r->tier != AVOW_TIER_AFFIRMING) {
        char why[64];
        snprintf(why, sizeof(why), "the verifier found it %s", avow_tier_name(r->tier));
        return fail(r, d, AVOW_ERR_NOT_AFFIRMING, "ear.ear_status", why);
    }
    r->status = AVOW_OK;
    return AVOW_OK;
}

avow_err avow__ear_result_verify(const avow_verifier *v, const char *jwt, size_t len,
                                 int expect_nonce, avow__ear_result **out, avow_diag *d)
{
    avow__ear_result *r = OPENSSL_zalloc(sizeof(*r));
    *out = r;
    if (r == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "ear", "out of memory");
    time_t now = v->at_set ? v->at : time(NULL);
    avow_jws *jws = NULL;
    avow_err rc = check_signature(v, jwt, len, now, r, &jws, d);
    if (rc == AVOW_OK)
        rc = check_result(v, avow_jws_get0_payload(jws), now, expect_nonce, r, d);
    avow_jws_free(jws);
    return rc;
}

static void put(avow_claimset *out, size_t idx, size_t el, avow_view bytes, int64_t integer)
{
    avow_nclaim *c = &out->items[out->count++];
    const avow_vocab_claim *vc = &EAR_CLAIMS[idx];
    c->element = vc->element;
    c->element_index = el;
    c->name = vc->name;
    c->known = 1;
    c->roles = vc->roles;
    c->value.type = vc->type;
    c->value.present = 1;
    c->value.bytes = bytes;
    c->value.integer = integer;
    c->signed_by = 1;
}

static avow_view cstr(const char *s)
{
    avow_view v = {(const uint8_t *)s, s != NULL ? strlen(s) : 0};
    return v;
}

avow_err avow__ear_result_claims(const avow__ear_result *r, avow_claimset *out)
{
    const avow_ear *e = r != NULL ? r->ear : NULL;
    size_t n = e != NULL ? 6 + e->nsubmods * (2 + AVOW_TV_COUNT_) : 0;
    avow_err rc = avow_claimset_alloc(out, n > 0 ? n : 1, 0, NULL);
    out->count = 0;
    if (rc != AVOW_OK || e == NULL)
        return rc;
    avow_view none = {NULL, 0};
    put(out, 0, 0, cstr(e->profile != NULL ? e->profile : AVOW_EAR_PROFILE), 0);
    put(out, 1, 0, cstr(avow_tier_name(r->tier)), 0);
    put(out, 2, 0, none, (int64_t)e->iat);
    if (e->developer != NULL)
        put(out, 3, 0, cstr(e->developer), 0);
    if (r->nonce.len > 0)
        put(out, 4, 0, (avow_view){r->nonce.ptr, r->nonce.len}, 0);
    for (size_t i = 0; i < e->nsubmods; i++) {
        const avow_ear_submod *s = &e->submods[i];
        put(out, C_SUBMOD, 1 + i, cstr(s->name), 0);
        put(out, C_SUBMOD + 1, 1 + i, cstr(avow_tier_name(s->status)), 0);
        for (unsigned k = 0; k < AVOW_TV_COUNT_; k++)
            if (s->vector_set & (1u << k))
                put(out, C_VECTOR + k, 1 + i, none, s->vector[k]);
    }
    if (r->akpub.len > 0)
        put(out, C_SPKI, 1 + e->nsubmods, (avow_view){r->akpub.ptr, r->akpub.len}, 0);
    return AVOW_OK;
}
