/*
 * The three JWTs of OAuth attestation-based client authentication as
 * claims sets: the Client Attestation (the attester's), its PoP and a DPoP
 * proof (the Client Instance's). Only the claims are built here; framing
 * and signing are the JOSE module's, through a signer, so a Client
 * Instance Key in a token signs without leaving it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <avow/jose.h>
#include <avow/oauth.h>

#include "core/internal.h"
#include "formats/jose_int.h"
#include "formats/oauth_int.h"

void avow_oauth_pop_opts_init(avow_oauth_pop_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_oauth_dpop_opts_init(avow_oauth_dpop_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_oauth_attestation_opts_init(avow_oauth_attestation_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow__oauth_random_id(char **out)
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return AVOW_ERR_CRYPTO;
    *out = avow__b64url_encode(r, sizeof(r));
    return *out != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

avow_err avow__oauth_ath(const char *token, char **out)
{
    uint8_t h[32];
    unsigned n = 0;
    if (EVP_Digest(token, strlen(token), h, &n, EVP_sha256(), NULL) != 1 || n != sizeof(h))
        return AVOW_ERR_CRYPTO;
    *out = avow__b64url_encode(h, n);
    return *out != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

/* extra claims as an object that names none of the claims avow sets. */
static avow_err extra_claims(const char *text, const char *const *own, const char *field,
                             json_t **out, avow_diag *d)
{
    json_error_t e;
    *out = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, &e) : json_object();
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return avow__fail(d, AVOW_ERR_ARG, field, "extra claims are not a JSON object");
    }
    for (; *own != NULL; own++)
        if (json_object_get(*out, *own) != NULL) {
            json_decref(*out);
            *out = NULL;
            return avow__fail(d, AVOW_ERR_ARG, field, "extra claims may not set \"%s\"", *own);
        }
    return AVOW_OK;
}

static int64_t now_or(int64_t t)
{
    return t != 0 ? t : (int64_t)time(NULL);
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v == NULL || json_object_set_new(o, k, json_string(v)) == 0;
}

/* The claims as compact JSON with sorted keys, then signed. */
static avow_err sign_claims(avow_signer *signer, json_t *claims, const avow_jws_sign_opts *so,
                            avow_buf *out, const char *field, avow_diag *d)
{
    char *text = json_dumps(claims, JSON_SORT_KEYS | JSON_COMPACT);
    if (text == NULL)
        return avow__fail(d, AVOW_ERR_ARG, field, "claims cannot be encoded (not UTF-8?)");
    avow_err rc = avow_jws_sign(signer, (const uint8_t *)text, strlen(text), so, out, d);
    free(text);
    return rc;
}

avow_err avow_oauth_pop_sign(avow_signer *signer, const avow_oauth_pop_opts *o, avow_buf *out,
                             avow_diag *d)
{
    static const char *const own[] = {"aud", "jti", "iat", "challenge", NULL};
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_pop_opts_init");
    if (signer == NULL || out == NULL || o->aud == NULL || o->aud[0] == '\0')
        return avow__fail(d, AVOW_ERR_ARG, "pop.aud", "no signer, output or aud");
    json_t *c = NULL;
    char *jti = NULL;
    avow_err rc = extra_claims(o->extra_claims_json, own, "pop.payload", &c, d);
    if (rc != AVOW_OK)
        return rc;
    if (o->jti == NULL && (rc = avow__oauth_random_id(&jti)) != AVOW_OK) {
        json_decref(c);
        return avow__fail(d, rc, "pop.jti", "no random jti");
    }
    if (!set_str(c, "aud", o->aud) || !set_str(c, "jti", o->jti != NULL ? o->jti : jti) ||
        json_object_set_new(c, "iat", json_integer(now_or(o->iat))) != 0 ||
        !set_str(c, "challenge", o->challenge)) {
        rc = avow__fail(d, AVOW_ERR_ARG, "pop.payload", "a claim cannot be encoded (not UTF-8?)");
    } else {
        avow_jws_sign_opts so;
        avow_jws_sign_opts_init(&so);
        so.typ = AVOW_OAUTH_TYP_POP;
        so.field = "pop";
        rc = sign_claims(signer, c, &so, out, "pop.payload", d);
    }
    OPENSSL_free(jti);
    json_decref(c);
    return rc;
}

avow_err avow_oauth_dpop_sign(avow_signer *signer, const avow_oauth_dpop_opts *o, avow_buf *out,
                              avow_diag *d)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_dpop_opts_init");
    if (signer == NULL || out == NULL || o->htm == NULL || o->htu == NULL || o->htm[0] == '\0' ||
        o->htu[0] == '\0')
        return avow__fail(d, AVOW_ERR_ARG, "dpop", "no signer, output, htm or htu");
    json_t *c = json_object();
    char *jti = NULL, *ath = NULL;
    avow_err rc = AVOW_OK;
    if (c == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "dpop", "out of memory");
    if (o->jti == NULL)
        rc = avow__oauth_random_id(&jti);
    if (rc == AVOW_OK && o->access_token != NULL)
        rc = avow__oauth_ath(o->access_token, &ath);
    if (rc != AVOW_OK) {
        rc = avow__fail(d, rc, "dpop", "no random jti or access token hash");
    } else if (!set_str(c, "htm", o->htm) || !set_str(c, "htu", o->htu) ||
               !set_str(c, "jti", o->jti != NULL ? o->jti : jti) ||
               json_object_set_new(c, "iat", json_integer(now_or(o->iat))) != 0 ||
               !set_str(c, "nonce", o->nonce) || !set_str(c, "ath", ath)) {
        rc = avow__fail(d, AVOW_ERR_ARG, "dpop.payload", "a claim cannot be encoded (not UTF-8?)");
    } else {
        avow_jws_sign_opts so;
        avow_jws_sign_opts_init(&so);
        so.typ = AVOW_OAUTH_TYP_DPOP;
        so.flags = AVOW_JWS_HEADER_JWK;
        so.field = "dpop";
        rc = sign_claims(signer, c, &so, out, "dpop.payload", d);
    }
    OPENSSL_free(jti);
    OPENSSL_free(ath);
    json_decref(c);
    return rc;
}

/* The attestation's claims set as compact sorted JSON (free()). */
static avow_err attestation_claims(const avow_oauth_attestation_opts *o, char **out, avow_diag *d)
{
    static const char *const own[] = {"sub", "exp", "iat", "cnf", "iss", NULL};
    *out = NULL;
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_oauth_attestation_opts_init");
    if (o->client_id == NULL || o->client_id[0] == '\0' || o->cnf_key == NULL || o->ttl == 0)
        return avow__fail(d, AVOW_ERR_ARG, "attestation", "no client_id, cnf key or ttl");
    json_t *c = NULL, *jwk = NULL, *cnf = NULL;
    avow_err rc = extra_claims(o->extra_claims_json, own, "attestation.payload", &c, d);
    if (rc != AVOW_OK)
        return rc;
    rc = avow__jwk_to_json(o->cnf_key, &jwk, d);
    if (rc == AVOW_OK && (cnf = json_object()) != NULL) {
        int bad = json_object_set_new(cnf, "jwk", jwk); /* takes jwk, also on failure */
        jwk = NULL;
        if (bad)
            rc = avow__fail(d, AVOW_ERR_NOMEM, "attestation.payload.cnf", "out of memory");
    } else if (rc == AVOW_OK) {
        rc = avow__fail(d, AVOW_ERR_NOMEM, "attestation.payload.cnf", "out of memory");
    }
    int64_t iat = now_or(o->iat);
    if (rc == AVOW_OK && (!set_str(c, "sub", o->client_id) || !set_str(c, "iss", o->iss) ||
                          json_object_set_new(c, "exp", json_integer(iat + (int64_t)o->ttl)) != 0 ||
                          ((o->flags & AVOW_OAUTH_ATT_NO_IAT) == 0 &&
                           json_object_set_new(c, "iat", json_integer(iat)) != 0) ||
                          json_object_set(c, "cnf", cnf) != 0))
        rc = avow__fail(d, AVOW_ERR_ARG, "attestation.payload",
                        "a claim cannot be encoded (not UTF-8?)");
    if (rc == AVOW_OK && (*out = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
        rc = avow__fail(d, AVOW_ERR_NOMEM, "attestation.payload", "out of memory");
    json_decref(jwk);
    json_decref(cnf);
    json_decref(c);
    return rc;
}

avow_err avow_oauth_attestation_sign(avow_signer *attester, const avow_oauth_attestation_opts *o,
                                     avow_buf *out, avow_diag *d)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (attester == NULL || out == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "attestation", "no signer or output");
    char *text = NULL;
    avow_err rc = attestation_claims(o, &text, d);
    if (rc != AVOW_OK)
        return rc;
    avow_jws_sign_opts so;
    avow_jws_sign_opts_init(&so);
    so.typ = AVOW_OAUTH_TYP_ATTESTATION;
    so.kid = o->kid;
    so.field = "attestation";
    rc = avow_jws_sign(attester, (const uint8_t *)text, strlen(text), &so, out, d);
    free(text);
    return rc;
}

avow_err avow_oauth_attestation_sign_hmac(const char *alg, const uint8_t *key, size_t keylen,
                                          const avow_oauth_attestation_opts *o, avow_buf *out,
                                          avow_diag *d)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    char *text = NULL;
    avow_err rc = attestation_claims(o, &text, d);
    if (rc != AVOW_OK)
        return rc;
    avow_jws_sign_opts so;
    avow_jws_sign_opts_init(&so);
    so.typ = AVOW_OAUTH_TYP_ATTESTATION;
    so.kid = o->kid;
    so.field = "attestation";
    rc = avow_jws_sign_hmac(alg, key, keylen, (const uint8_t *)text, strlen(text), &so, out, d);
    free(text);
    return rc;
}
