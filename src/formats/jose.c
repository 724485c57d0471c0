/*
 * JOSE: base64url, JWS compact serialisation (RFC 7515) and the time
 * claims of JWTs (RFC 7519). Signing goes through avow_signer, so a key in
 * a token signs without leaving it; verification goes through
 * avow_sigalg_verify with the algorithm the key allows, never the one the
 * header alone asks for. The JSON is jansson's, parsed with duplicate
 * members refused; every signature is made and checked by OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include <avow/jose.h>

#include "core/internal.h"
#include "core/sigalg_int.h"
#include "formats/jose_int.h"

/* --- base64url --- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *avow__b64url_encode(const uint8_t *p, size_t len)
{
    size_t n = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    char *s = OPENSSL_malloc(n + 1);
    if (s == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        s[o++] = B64URL[v >> 18 & 63];
        s[o++] = B64URL[v >> 12 & 63];
        s[o++] = B64URL[v >> 6 & 63];
        s[o++] = B64URL[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        s[o++] = B64URL[v >> 18 & 63];
        s[o++] = B64URL[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        s[o++] = B64URL[v >> 18 & 63];
        s[o++] = B64URL[v >> 12 & 63];
        s[o++] = B64URL[v >> 6 & 63];
    }
    s[o] = '\0';
    return s;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

avow_err avow__b64url_decode(const char *s, size_t len, avow_buf *out)
{
    out->ptr = NULL;
    out->len = 0;
    if (len % 4 == 1)
        return AVOW_ERR_MALFORMED;
    if (len == 0)
        return AVOW_OK;
    uint8_t *b = OPENSSL_malloc(len / 4 * 3 + 3);
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val(s[i]);
        if (v < 0) {
            OPENSSL_free(b);
            return AVOW_ERR_MALFORMED;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* non-zero padding bits: not the canonical encoding */
        OPENSSL_free(b);
        return AVOW_ERR_MALFORMED;
    }
    out->ptr = b;
    out->len = o;
    return AVOW_OK;
}

avow_err avow_b64url_encode(const uint8_t *p, size_t len, avow_buf *out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    if (p == NULL && len != 0)
        return AVOW_ERR_ARG;
    char *s = avow__b64url_encode(p, len);
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    out->ptr = (uint8_t *)s;
    out->len = strlen(s);
    return AVOW_OK;
}

avow_err avow_b64url_decode(const char *s, size_t len, avow_buf *out, avow_diag *diag)
{
    if (out == NULL || (s == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "base64url", "NULL argument");
    avow_err rc = avow__b64url_decode(s, len, out);
    if (rc == AVOW_ERR_MALFORMED)
        return avow__fail(diag, rc, "base64url",
                          "not canonical unpadded base64url (RFC 4648 section 5)");
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "base64url", "out of memory");
    return AVOW_OK;
}

/* --- time claims --- */

int avow__time_after(int64_t a, int64_t b, uint64_t slack)
{
    if (a <= b)
        return 0;
    /* 0 < a - b < 2^64, so the unsigned difference is exact. */
    return (uint64_t)a - (uint64_t)b > slack;
}

/* *v = the integer claim name; 0 absent, 1 present, -1 present but not an integer. */
static int int_claim(const json_t *claims, const char *name, int64_t *v)
{
    json_t *j = json_object_get(claims, name);
    if (j == NULL)
        return 0;
    if (!json_is_integer(j))
        return -1;
    *v = (int64_t)json_integer_value(j);
    return 1;
}

avow_err avow__jwt_check_times(const json_t *claims, int64_t now, unsigned leeway, unsigned flags,
                               const char *field, const char *what, avow_diag *d)
{
    char f[96];
    int64_t v = 0;
    int has = int_claim(claims, "exp", &v);
    snprintf(f, sizeof(f), "%s.exp", field);
    if (has < 0)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "exp is not an integer");
    if (has == 0 && (flags & AVOW__JWT_EXP_REQUIRED))
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM, f, "the %s has no exp", what);
    if (has > 0 && avow__time_after(now, v, leeway))
        return avow__fail(d, AVOW_ERR_EXPIRED, f, "the %s expired %llu s ago", what,
                          (unsigned long long)((uint64_t)now - (uint64_t)v));

    has = int_claim(claims, "nbf", &v);
    snprintf(f, sizeof(f), "%s.nbf", field);
    if (has < 0)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "nbf is not an integer");
    if (has > 0 && avow__time_after(v, now, leeway))
        return avow__fail(d, AVOW_ERR_BAD_TIME, f, "the %s is not valid yet", what);

    has = int_claim(claims, "iat", &v);
    snprintf(f, sizeof(f), "%s.iat", field);
    if (has < 0)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "iat is not an integer");
    if (has == 0 && (flags & AVOW__JWT_IAT_REQUIRED))
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM, f, "the %s has no iat", what);
    if (has > 0 && (flags & AVOW__JWT_IAT_NOT_FUTURE) && avow__time_after(v, now, leeway))
        return avow__fail(d, AVOW_ERR_BAD_TIME, f, "the %s was issued in the future", what);
    return AVOW_OK;
}

/* --- ECDSA signature forms --- */

/* DER ECDSA-Sig-Value to raw r||s of 2 * n bytes. */
static avow_err ecdsa_der_to_raw(const avow_buf *der, size_t n, avow_buf *raw)
{
    const unsigned char *p = der->ptr;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der->len);
    if (sig == NULL || p != der->ptr + der->len) {
        ECDSA_SIG_free(sig);
        return AVOW_ERR_CRYPTO;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    raw->ptr = OPENSSL_malloc(2 * n);
    avow_err rc = AVOW_OK;
    if (raw->ptr == NULL)
        rc = AVOW_ERR_NOMEM;
    else if (BN_bn2binpad(r, raw->ptr, (int)n) != (int)n ||
             BN_bn2binpad(s, raw->ptr + n, (int)n) != (int)n)
        rc = AVOW_ERR_CRYPTO;
    ECDSA_SIG_free(sig);
    if (rc != AVOW_OK) {
        OPENSSL_free(raw->ptr);
        raw->ptr = NULL;
        return rc;
    }
    raw->len = 2 * n;
    return AVOW_OK;
}

/* Raw r||s (exactly 2 * n bytes, checked by the caller) to DER. */
static avow_err ecdsa_raw_to_der(const uint8_t *raw, size_t n, avow_buf *der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)n, NULL), *s = BN_bin2bn(raw + n, (int)n, NULL);
    avow_err rc = AVOW_ERR_NOMEM;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return rc;
    }
    unsigned char *p = NULL;
    int len = i2d_ECDSA_SIG(sig, &p);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return AVOW_ERR_CRYPTO;
    der->ptr = avow__memdup(p, (size_t)len);
    OPENSSL_free(p);
    if (der->ptr == NULL)
        return rc;
    der->len = (size_t)len;
    return AVOW_OK;
}

/* --- signing --- */

static char *cat3(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), ls = strlen(sep);
    char *s = OPENSSL_malloc(la + ls + lb + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}

/* Members the header gets from avow itself, never from header_json. */
static const char *const OWN_MEMBERS[] = {"alg", "typ", "kid", "jwk", "crit"};

/* The protected header as compact JSON with sorted keys (free()). */
static avow_err build_header(const avow_sigalg_desc *a, EVP_PKEY *pub, const avow_jws_sign_opts *o,
                             const char *pfx, char **out, avow_diag *d)
{
    *out = NULL;
    char f[96];
    snprintf(f, sizeof(f), "%s.header", pfx);
    json_t *h = NULL;
    if (o->header_json != NULL) {
        json_error_t e;
        h = json_loads(o->header_json, JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object(h)) {
            json_decref(h);
            return avow__fail(d, AVOW_ERR_ARG, f, "header_json is not a JSON object");
        }
        for (size_t i = 0; i < sizeof(OWN_MEMBERS) / sizeof(OWN_MEMBERS[0]); i++)
            if (json_object_get(h, OWN_MEMBERS[i]) != NULL) {
                json_decref(h);
                return avow__fail(d, AVOW_ERR_ARG, f, "header_json may not set \"%s\"",
                                  OWN_MEMBERS[i]);
            }
    } else if ((h = json_object()) == NULL) {
        return avow__fail(d, AVOW_ERR_NOMEM, f, "out of memory");
    }
    avow_err rc = AVOW_OK;
    if (json_object_set_new(h, "alg", json_string(a->jose)) != 0) {
        rc = avow__fail(d, AVOW_ERR_NOMEM, f, "out of memory");
    } else if (o->typ != NULL && json_object_set_new(h, "typ", json_string(o->typ)) != 0) {
        snprintf(f, sizeof(f), "%s.header.typ", pfx);
        rc = avow__fail(d, AVOW_ERR_ARG, f, "cannot encode typ (not UTF-8?)");
    } else if (o->kid != NULL && json_object_set_new(h, "kid", json_string(o->kid)) != 0) {
        snprintf(f, sizeof(f), "%s.header.kid", pfx);
        rc = avow__fail(d, AVOW_ERR_ARG, f, "cannot encode the header (kid not UTF-8?)");
    }
    if (rc == AVOW_OK && (o->flags & AVOW_JWS_HEADER_JWK)) {
        json_t *jwk = NULL;
        rc = avow__jwk_to_json(pub, &jwk, d);
        if (rc == AVOW_OK && json_object_set_new(h, "jwk", jwk) != 0)
            rc = avow__fail(d, AVOW_ERR_NOMEM, f, "out of memory");
    }
    if (rc == AVOW_OK && (*out = json_dumps(h, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
        rc = avow__fail(d, AVOW_ERR_NOMEM, f, "cannot encode the header");
    json_decref(h);
    return rc;
}

avow_err avow_jws_sign(avow_signer *signer, const uint8_t *payload, size_t len,
                       const avow_jws_sign_opts *opts, avow_buf *out, avow_diag *diag)
{
    static const avow_jws_sign_opts none = {.size = sizeof(avow_jws_sign_opts)};
    const avow_jws_sign_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_jws_sign_opts_init");
    const char *pfx = o->field != NULL ? o->field : "jws";
    char f[96];
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (signer == NULL || out == NULL || (payload == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, pfx, "no signer, payload or output");
    EVP_PKEY *pub = avow_signer_get0_pubkey(signer);
    avow_sigalg alg = avow_signer_alg(signer);
    const avow_sigalg_desc *a = avow_sigalg_info(alg);
    if (a == NULL || a->jose == NULL || pub == NULL ||
        avow_sigalg_fits_key(alg, pub, AVOW_SIGALG_FIT_JOSE) != AVOW_OK) {
        avow__ossl_clear();
        snprintf(f, sizeof(f), "%s.alg", pfx);
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, f, "no JOSE algorithm for %s with this key",
                          a != NULL ? a->name : "no algorithm");
    }

    avow_buf sig = {0}, raw = {0};
    char *hjson = NULL, *hb64 = NULL, *pb64 = NULL, *input = NULL, *sb64 = NULL, *jws = NULL;
    avow_err rc = build_header(a, pub, o, pfx, &hjson, diag);
    if (rc != AVOW_OK)
        goto done;
    hb64 = avow__b64url_encode((const uint8_t *)hjson, strlen(hjson));
    pb64 = avow__b64url_encode(payload, len);
    if (hb64 == NULL || pb64 == NULL || (input = cat3(hb64, ".", pb64)) == NULL)
        goto nomem;
    rc = avow_signer_sign(signer, (const uint8_t *)input, strlen(input), &sig, diag);
    if (rc != AVOW_OK)
        goto done;
    if (a->family == AVOW_SIGALG_FAMILY_ECDSA) {
        rc = ecdsa_der_to_raw(&sig, a->ec_coord_len, &raw);
        if (rc != AVOW_OK) {
            snprintf(f, sizeof(f), "%s.signature", pfx);
            rc = avow__fail_ossl(diag, rc, f, "signer gave no DER ECDSA signature");
            goto done;
        }
        sb64 = avow__b64url_encode(raw.ptr, raw.len);
    } else {
        sb64 = avow__b64url_encode(sig.ptr, sig.len);
    }
    if (sb64 == NULL || (jws = cat3(input, ".", sb64)) == NULL)
        goto nomem;
    out->len = strlen(jws);
    out->ptr = (uint8_t *)jws;
    jws = NULL;
    rc = AVOW_OK;
    goto done;
nomem:
    rc = avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
done:
    free(hjson);
    OPENSSL_free(hb64);
    OPENSSL_free(pb64);
    OPENSSL_free(input);
    OPENSSL_free(sb64);
    OPENSSL_free(jws);
    avow_buf_free(&sig);
    avow_buf_free(&raw);
    avow__ossl_clear();
    return rc;
}

/* --- verifying --- */

struct avow_jws {
    avow_sigalg alg;
    json_t *header;
    json_t *payload_json; /* with AVOW_JWS_PAYLOAD_JSON */
    avow_buf header_text; /* NUL-terminated */
    avow_buf payload;     /* NUL-terminated */
    EVP_PKEY *key;
};

void avow_jws_free(avow_jws *jws)
{
    if (jws == NULL)
        return;
    json_decref(jws->header);
    json_decref(jws->payload_json);
    avow_buf_free(&jws->header_text);
    avow_buf_free(&jws->payload);
    EVP_PKEY_free(jws->key);
    OPENSSL_free(jws);
}

avow_sigalg avow_jws_alg(const avow_jws *jws)
{
    return jws != NULL ? jws->alg : AVOW_SIGALG_NONE;
}

const avow_buf *avow_jws_get0_header(const avow_jws *jws)
{
    return jws != NULL ? &jws->header_text : NULL;
}

const char *avow_jws_header_string(const avow_jws *jws, const char *name)
{
    if (jws == NULL || name == NULL)
        return NULL;
    return json_string_value(json_object_get(jws->header, name));
}

const avow_buf *avow_jws_get0_payload(const avow_jws *jws)
{
    return jws != NULL ? &jws->payload : NULL;
}

EVP_PKEY *avow_jws_get0_key(const avow_jws *jws)
{
    return jws != NULL ? jws->key : NULL;
}

json_t *avow__jws_get0_header_json(const avow_jws *jws)
{
    return jws != NULL ? jws->header : NULL;
}

json_t *avow__jws_get0_payload_json(const avow_jws *jws)
{
    return jws != NULL ? jws->payload_json : NULL;
}

void avow__jws_take_payload(avow_jws *jws, avow_buf *out)
{
    *out = jws->payload;
    jws->payload.ptr = NULL;
    jws->payload.len = 0;
}

/* A NUL-terminated copy of a decoded part (the NUL is not counted). */
static avow_err terminate(avow_buf *b)
{
    uint8_t *p = OPENSSL_malloc(b->len + 1);
    if (p == NULL)
        return AVOW_ERR_NOMEM;
    if (b->len > 0)
        memcpy(p, b->ptr, b->len);
    size_t len = b->len;
    p[len] = '\0';
    avow_buf_free(b); /* zeroes b */
    b->ptr = p;
    b->len = len;
    return AVOW_OK;
}

static const char *strip_application(const char *t)
{
    return strncasecmp(t, "application/", 12) == 0 ? t + 12 : t;
}

static int typ_accepted(const avow_jws_verify_opts *o, const char *typ)
{
    const char *bare = typ != NULL ? strip_application(typ) : NULL;
    if (o->typs != NULL) {
        int found = 0;
        for (const char *const *t = o->typs; bare != NULL && *t != NULL && !found; t++)
            found = strcasecmp(bare, strip_application(*t)) == 0;
        if (!found)
            return 0;
    }
    return o->typ_ok == NULL || o->typ_ok(bare, o->typ_arg) == 1;
}

/* One check of the header: alg against the key (or the header's jwk), typ, crit. */
static avow_err check_header(const json_t *h, EVP_PKEY **key, const avow_jws_verify_opts *o,
                             const char *pfx, const avow_sigalg_desc **alg, avow_diag *d)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.header.alg", pfx);
    const char *name = json_string_value(json_object_get(h, "alg"));
    if (name == NULL)
        return avow__fail(d, AVOW_ERR_SIG_ALG, f, "no alg (or not a string)");
    if (strcasecmp(name, "none") == 0)
        return avow__fail(d, AVOW_ERR_SIG_ALG, f, "alg \"none\" is refused");
    if (strncmp(name, "HS", 2) == 0)
        return avow__fail(d, AVOW_ERR_SIG_ALG, f, "alg \"%.16s\" (a shared-secret MAC) is refused",
                          name);
    const avow_sigalg_desc *a = avow_sigalg_info(avow_sigalg_by_jose_name(name));
    if (a == NULL)
        return avow__fail(d, AVOW_ERR_SIG_ALG, f, "alg \"%.32s\" is not supported", name);
    if (o->algs != NULL) {
        size_t i = 0;
        while (i < o->nalgs && o->algs[i] != a->alg)
            i++;
        if (i == o->nalgs)
            return avow__fail(d, AVOW_ERR_SIG_ALG, f, "alg %s is not accepted here", a->jose);
    }
    if (o->flags & AVOW_JWS_KEY_FROM_JWK) {
        char jf[96];
        snprintf(jf, sizeof(jf), "%s.header.jwk", pfx);
        const json_t *jwk = json_object_get(h, "jwk");
        if (jwk == NULL)
            return avow__fail(d, AVOW_ERR_MISSING_CLAIM, jf, "no jwk in the header");
        avow_err rc = avow__jwk_from_json(jwk, jf, key, d);
        if (rc != AVOW_OK)
            return rc;
    }
    avow_err fit = avow_sigalg_fits_key(a->alg, *key, AVOW_SIGALG_FIT_JOSE);
    if (fit != AVOW_OK)
        return avow__fail(d, AVOW_ERR_ALG_MISMATCH, f, "alg %s does not fit the verification key",
                          a->jose);
    snprintf(f, sizeof(f), "%s.header.typ", pfx);
    const json_t *typ = json_object_get(h, "typ");
    if (typ != NULL && !json_is_string(typ))
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "typ is not a string");
    if (!typ_accepted(o, json_string_value(typ))) {
        if (o->typs != NULL && o->typs[0] != NULL)
            return avow__fail(d, AVOW_ERR_MALFORMED, f, "typ must be \"%.64s\"%s", o->typs[0],
                              o->typs[1] != NULL ? " (or another accepted value)" : "");
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "typ is not one this verifier takes");
    }
    snprintf(f, sizeof(f), "%s.header.crit", pfx);
    if (json_object_get(h, "crit") != NULL)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, f,
                          "critical header parameters are not supported");
    *alg = a;
    return AVOW_OK;
}

static json_t *load_part(const avow_buf *b)
{
    json_error_t e;
    return json_loadb((const char *)b->ptr, b->len, JSON_REJECT_DUPLICATES, &e);
}

/* The header part decoded, bounded and parsed into a JSON object. */
static avow_err parse_header(avow_jws *j, const char *pfx, avow_diag *diag)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.header", pfx);
    if (j->header_text.len > AVOW_JWS_MAX_HEADER)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, f, "header of %zu bytes, limit %u",
                          j->header_text.len, AVOW_JWS_MAX_HEADER);
    if ((j->header = load_part(&j->header_text)) == NULL)
        return avow__fail(diag, AVOW_ERR_JSON, f, "header is not JSON (or repeats a member)");
    if (!json_is_object(j->header))
        return avow__fail(diag, AVOW_ERR_MALFORMED, f, "header is not a JSON object");
    return AVOW_OK;
}

/* The caller's prefetched digest for alg's hash; NULL when it has none. */
static const EVP_MD *prep_md(const avow__jws_prep *p, avow_sigalg alg)
{
    const EVP_MD *want = avow__sigalg_md(alg);
    int nid = want != NULL ? EVP_MD_get_type(want) : NID_undef;
    for (size_t i = 0; i < 3; i++)
        if (p->md[i] != NULL && EVP_MD_get_type(p->md[i]) == nid)
            return p->md[i];
    return NULL;
}

/* The signature over the signing input, raw r||s turned into DER for ECDSA. */
static avow_err check_signature(const avow_sigalg_desc *a, EVP_PKEY *k, const avow__jws_prep *p,
                                const char *input, size_t input_len, const avow_buf *sb,
                                const char *pfx, avow_diag *diag)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.signature", pfx);
    avow_buf der = {0};
    const uint8_t *sig = sb->ptr;
    size_t sig_len = sb->len;
    if (sig_len == 0)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, f, "empty signature");
    if (a->family == AVOW_SIGALG_FAMILY_ECDSA) {
        if (sb->len != 2 * a->ec_coord_len)
            return avow__fail(diag, AVOW_ERR_SIG_INVALID, f,
                              "%s signature must be raw r||s of %zu bytes, not %zu (DER?)", a->jose,
                              2 * a->ec_coord_len, sb->len);
        avow_err rc = ecdsa_raw_to_der(sb->ptr, a->ec_coord_len, &der);
        if (rc != AVOW_OK)
            return avow__fail_ossl(diag, rc, f, "cannot convert the signature");
        sig = der.ptr;
        sig_len = der.len;
    }
    const EVP_MD *md = p != NULL ? prep_md(p, a->alg) : NULL;
    avow_err rc =
        md != NULL && p->verify != NULL
            ? avow__sigalg_verify_prepared(a->alg, k, p->verify, md, (const uint8_t *)input,
                                           input_len, sig, sig_len, diag)
            : avow_sigalg_verify(a->alg, k, (const uint8_t *)input, input_len, sig, sig_len, diag);
    if (rc != AVOW_OK && diag != NULL)
        avow__strlcpy(diag->field, f, sizeof(diag->field));
    avow_buf_free(&der);
    return rc;
}

/* Only a verified payload is parsed. */
static avow_err parse_payload(avow_jws *j, const char *pfx, avow_diag *diag)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.payload", pfx);
    if ((j->payload_json = load_part(&j->payload)) == NULL)
        return avow__fail(diag, AVOW_ERR_JSON, f, "payload is not JSON (or repeats a member)");
    if (!json_is_object(j->payload_json))
        return avow__fail(diag, AVOW_ERR_MALFORMED, f, "payload is not a JSON object");
    return AVOW_OK;
}

/*
 * The three parts of a compact JWS decoded into j (header parsed) and *sb;
 * *input_len is the length of the signing input (header.payload).
 */
static avow_err frame(const char *jws, size_t len, size_t max_len, const char *pfx, avow_jws *j,
                      avow_buf *sb, size_t *input_len, avow_diag *diag)
{
    size_t max = max_len != 0 ? max_len : AVOW_JWS_MAX_SIZE;
    if (len > max)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, pfx, "token of %zu bytes, limit %zu", len, max);
    const char *d1 = memchr(jws, '.', len);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)) != NULL)
        return avow__fail(diag, AVOW_ERR_MALFORMED, pfx,
                          "not a JWS compact serialisation (three dot-separated parts)");
    avow_err rc;
    if ((rc = avow__b64url_decode(jws, (size_t)(d1 - jws), &j->header_text)) != AVOW_OK ||
        (rc = avow__b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &j->payload)) != AVOW_OK ||
        (sb != NULL &&
         (rc = avow__b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jws), sb)) != AVOW_OK))
        return rc == AVOW_ERR_NOMEM ? avow__fail(diag, rc, pfx, "out of memory")
                                    : avow__fail(diag, rc, pfx, "a part is not base64url");
    *input_len = (size_t)(d2 - jws);
    return parse_header(j, pfx, diag);
}

avow_err avow_jws_verify(const char *jws, size_t len, EVP_PKEY *key,
                         const avow_jws_verify_opts *opts, avow_jws **out, avow_diag *diag)
{
    return avow__jws_verify_prep(jws, len, key, NULL, opts, out, diag);
}

avow_err avow__jws_verify_prep(const char *jws, size_t len, EVP_PKEY *key,
                               const avow__jws_prep *prep, const avow_jws_verify_opts *opts,
                               avow_jws **out, avow_diag *diag)
{
    static const avow_jws_verify_opts none = {.size = sizeof(avow_jws_verify_opts)};
    const avow_jws_verify_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_jws_verify_opts_init");
    const char *pfx = o->field != NULL ? o->field : "jws";
    if (out != NULL)
        *out = NULL;
    int from_jwk = (o->flags & AVOW_JWS_KEY_FROM_JWK) != 0;
    if (jws == NULL || out == NULL || (key == NULL) != from_jwk)
        return avow__fail(diag, AVOW_ERR_ARG, pfx, "no token, output or key (or a key and jwk)");
    avow_jws *j = OPENSSL_zalloc(sizeof(*j));
    avow_buf sb = {0};
    size_t input_len = 0;
    avow_err rc;
    if (j == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
    if ((rc = frame(jws, len, o->max_len, pfx, j, &sb, &input_len, diag)) != AVOW_OK)
        goto done;
    const avow_sigalg_desc *a = NULL;
    EVP_PKEY *k = key;
    rc = check_header(j->header, &k, o, pfx, &a, diag);
    if (from_jwk)
        j->key = k; /* ours, whatever happened after the import */
    if (rc != AVOW_OK || (rc = check_signature(a, k, from_jwk ? NULL : prep, jws, input_len, &sb,
                                               pfx, diag)) != AVOW_OK)
        goto done;
    if ((o->flags & AVOW_JWS_PAYLOAD_JSON) && (rc = parse_payload(j, pfx, diag)) != AVOW_OK)
        goto done;
    if (terminate(&j->header_text) != AVOW_OK || terminate(&j->payload) != AVOW_OK ||
        (!from_jwk && !EVP_PKEY_up_ref(key))) {
        rc = avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
        goto done;
    }
    if (!from_jwk)
        j->key = key;
    j->alg = a->alg;
    *out = j;
    j = NULL;
    rc = AVOW_OK;
done:
    avow_jws_free(j);
    avow_buf_free(&sb);
    ERR_clear_error();
    return rc;
}

void avow_jws_sign_opts_init(avow_jws_sign_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_jws_verify_opts_init(avow_jws_verify_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

/* --- unverified inspection --- */

avow_err avow_jws_decode_unverified(const char *jws, size_t len, avow_buf *header,
                                    avow_buf *payload, avow_diag *diag)
{
    if (header != NULL)
        *header = (avow_buf){0};
    if (payload != NULL)
        *payload = (avow_buf){0};
    if (jws == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jws", "no token");
    /* The framing of avow_jws_verify, signature part included: only the verification is left out.
     */
    avow_jws j = {0};
    avow_buf sb = {0};
    size_t input_len = 0;
    avow_err rc = frame(jws, len, 0, "jws", &j, &sb, &input_len, diag);
    if (rc == AVOW_OK && (terminate(&j.header_text) != AVOW_OK || terminate(&j.payload) != AVOW_OK))
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "jws", "out of memory");
    if (rc == AVOW_OK && header != NULL) {
        *header = j.header_text;
        j.header_text = (avow_buf){0};
    }
    if (rc == AVOW_OK && payload != NULL) {
        *payload = j.payload;
        j.payload = (avow_buf){0};
    }
    json_decref(j.header);
    avow_buf_free(&j.header_text);
    avow_buf_free(&j.payload);
    avow_buf_free(&sb);
    return rc;
}

/* --- additions for OAuth client attestation --- */

avow_err avow_jws_peek_header(const char *jws, size_t len, size_t max_len, avow_buf *header,
                              avow_diag *diag)
{
    if (header != NULL) {
        header->ptr = NULL;
        header->len = 0;
    }
    if (jws == NULL || header == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jws", "no token or output");
    avow_jws *j = OPENSSL_zalloc(sizeof(*j));
    size_t input_len = 0;
    if (j == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "jws", "out of memory");
    avow_err rc = frame(jws, len, max_len, "jws", j, NULL, &input_len, diag);
    if (rc == AVOW_OK && terminate(&j->header_text) != AVOW_OK)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "jws", "out of memory");
    if (rc == AVOW_OK) {
        *header = j->header_text;
        j->header_text.ptr = NULL;
        j->header_text.len = 0;
    }
    avow_jws_free(j);
    return rc;
}

/* The hash of an HS* name; NULL for any other. */
static const EVP_MD *hmac_md(const char *alg)
{
    if (alg == NULL)
        return NULL;
    if (strcmp(alg, "HS256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "HS384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "HS512") == 0)
        return EVP_sha512();
    return NULL;
}

static avow_err hmac_of(const EVP_MD *md, const uint8_t *key, size_t keylen, const char *in,
                        size_t len, uint8_t *mac, unsigned *maclen)
{
    if (HMAC(md, key, (int)keylen, (const unsigned char *)in, len, mac, maclen) == NULL)
        return AVOW_ERR_CRYPTO;
    return AVOW_OK;
}

avow_err avow_jws_sign_hmac(const char *alg, const uint8_t *key, size_t keylen,
                            const uint8_t *payload, size_t len, const avow_jws_sign_opts *opts,
                            avow_buf *out, avow_diag *diag)
{
    static const avow_jws_sign_opts none = {.size = sizeof(avow_jws_sign_opts)};
    const avow_jws_sign_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_jws_sign_opts_init");
    const char *pfx = o->field != NULL ? o->field : "jws";
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    const EVP_MD *md = hmac_md(alg);
    if (out == NULL || key == NULL || (payload == NULL && len != 0) || md == NULL ||
        (o->flags & AVOW_JWS_HEADER_JWK))
        return avow__fail(diag, AVOW_ERR_ARG, pfx, "no HS256/384/512, key, payload or output");
    if (keylen < (size_t)EVP_MD_get_size(md) || keylen > INT32_MAX)
        return avow__fail(diag, AVOW_ERR_ARG, pfx, "an %s key needs at least %d bytes", alg,
                          EVP_MD_get_size(md));
    avow_sigalg_desc hs = {0};
    hs.jose = alg;
    char *hjson = NULL, *hb64 = NULL, *pb64 = NULL, *input = NULL, *sb64 = NULL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    avow_err rc = build_header(&hs, NULL, o, pfx, &hjson, diag);
    if (rc != AVOW_OK)
        goto done;
    hb64 = avow__b64url_encode((const uint8_t *)hjson, strlen(hjson));
    pb64 = avow__b64url_encode(payload, len);
    rc = AVOW_ERR_NOMEM;
    if (hb64 == NULL || pb64 == NULL || (input = cat3(hb64, ".", pb64)) == NULL)
        goto nomem;
    if ((rc = hmac_of(md, key, keylen, input, strlen(input), mac, &maclen)) != AVOW_OK) {
        rc = avow__fail_ossl(diag, rc, pfx, "HMAC failed");
        goto done;
    }
    if ((sb64 = avow__b64url_encode(mac, maclen)) == NULL ||
        (out->ptr = (uint8_t *)cat3(input, ".", sb64)) == NULL)
        goto nomem;
    out->len = strlen((const char *)out->ptr);
    rc = AVOW_OK;
    goto done;
nomem:
    rc = avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
done:
    OPENSSL_cleanse(mac, sizeof(mac));
    free(hjson);
    OPENSSL_free(hb64);
    OPENSSL_free(pb64);
    OPENSSL_free(input);
    OPENSSL_free(sb64);
    return rc;
}

/* typ and crit of a MACed token, as check_header judges them. */
static avow_err check_header_hmac(const json_t *h, const avow_jws_verify_opts *o, const char *pfx,
                                  avow_diag *d)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.header.typ", pfx);
    const json_t *typ = json_object_get(h, "typ");
    if (typ != NULL && !json_is_string(typ))
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "typ is not a string");
    if (!typ_accepted(o, json_string_value(typ)))
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "typ must be \"%.64s\"",
                          o->typs != NULL && o->typs[0] != NULL ? o->typs[0] : "accepted");
    snprintf(f, sizeof(f), "%s.header.crit", pfx);
    if (json_object_get(h, "crit") != NULL)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, f,
                          "critical header parameters are not supported");
    return AVOW_OK;
}

avow_err avow_jws_verify_hmac(const char *jws, size_t len, const uint8_t *key, size_t keylen,
                              const avow_jws_verify_opts *opts, avow_jws **out, avow_diag *diag)
{
    static const avow_jws_verify_opts none = {.size = sizeof(avow_jws_verify_opts)};
    const avow_jws_verify_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_jws_verify_opts_init");
    const char *pfx = o->field != NULL ? o->field : "jws";
    if (out != NULL)
        *out = NULL;
    if (jws == NULL || out == NULL || key == NULL || (o->flags & AVOW_JWS_KEY_FROM_JWK))
        return avow__fail(diag, AVOW_ERR_ARG, pfx, "no token, output or key");
    avow_jws *j = OPENSSL_zalloc(sizeof(*j));
    avow_buf sb = {0};
    size_t input_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    char f[96];
    avow_err rc;
    if (j == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
    if ((rc = frame(jws, len, o->max_len, pfx, j, &sb, &input_len, diag)) != AVOW_OK)
        goto done;
    snprintf(f, sizeof(f), "%s.header.alg", pfx);
    const char *alg = json_string_value(json_object_get(j->header, "alg"));
    const EVP_MD *md = hmac_md(alg);
    if (md == NULL) {
        rc = avow__fail(diag, AVOW_ERR_SIG_ALG, f, "alg must be HS256, HS384 or HS512 here");
        goto done;
    }
    if (keylen < (size_t)EVP_MD_get_size(md) || keylen > INT32_MAX) {
        rc = avow__fail(diag, AVOW_ERR_ARG, f, "the %s key is shorter than %d bytes", alg,
                        EVP_MD_get_size(md));
        goto done;
    }
    if ((rc = check_header_hmac(j->header, o, pfx, diag)) != AVOW_OK)
        goto done;
    snprintf(f, sizeof(f), "%s.signature", pfx);
    if ((rc = hmac_of(md, key, keylen, jws, input_len, mac, &maclen)) != AVOW_OK) {
        rc = avow__fail_ossl(diag, rc, f, "HMAC failed");
        goto done;
    }
    if (sb.len != maclen || CRYPTO_memcmp(sb.ptr, mac, maclen) != 0) {
        rc = avow__fail(diag, AVOW_ERR_SIG_INVALID, f, "the %s MAC does not verify", alg);
        goto done;
    }
    if ((o->flags & AVOW_JWS_PAYLOAD_JSON) && (rc = parse_payload(j, pfx, diag)) != AVOW_OK)
        goto done;
    if (terminate(&j->header_text) != AVOW_OK || terminate(&j->payload) != AVOW_OK) {
        rc = avow__fail(diag, AVOW_ERR_NOMEM, pfx, "out of memory");
        goto done;
    }
    j->alg = AVOW_SIGALG_NONE;
    *out = j;
    j = NULL;
    rc = AVOW_OK;
done:
    OPENSSL_cleanse(mac, sizeof(mac));
    avow_jws_free(j);
    avow_buf_free(&sb);
    ERR_clear_error();
    return rc;
}
