/*
 * EAR as a JWT (JWS compact serialisation, RFC 7515/7519), signed through
 * avow_signer and verified with OpenSSL via avow_sigalg_verify. The JOSE
 * algorithm is derived from the key, never trusted from the header alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <avow/ear.h>

#include "core/internal.h"
#include "verifier/ear_int.h"

#define JWT_MAX_LEN (AVOW_EAR_MAX_SIZE * 2u)

typedef enum fam { FAM_EC, FAM_RSA, FAM_PSS, FAM_ED } fam;

typedef struct jose_alg {
    const char *name;
    avow_sigalg alg;
    fam family;
    int ec_bits;      /* curve size for ES*: 256, 384, 521 */
    size_t coord_len; /* bytes of r and of s */
} jose_alg;

static const jose_alg JOSE_ALGS[] = {
    {"ES256", AVOW_SIGALG_ECDSA_SHA256, FAM_EC, 256, 32},
    {"ES384", AVOW_SIGALG_ECDSA_SHA384, FAM_EC, 384, 48},
    {"ES512", AVOW_SIGALG_ECDSA_SHA512, FAM_EC, 521, 66},
    {"RS256", AVOW_SIGALG_RSA_PKCS1_SHA256, FAM_RSA, 0, 0},
    {"RS384", AVOW_SIGALG_RSA_PKCS1_SHA384, FAM_RSA, 0, 0},
    {"RS512", AVOW_SIGALG_RSA_PKCS1_SHA512, FAM_RSA, 0, 0},
    {"PS256", AVOW_SIGALG_RSA_PSS_SHA256, FAM_PSS, 0, 0},
    {"PS384", AVOW_SIGALG_RSA_PSS_SHA384, FAM_PSS, 0, 0},
    {"PS512", AVOW_SIGALG_RSA_PSS_SHA512, FAM_PSS, 0, 0},
    {"EdDSA", AVOW_SIGALG_ED25519, FAM_ED, 0, 0},
};
#define NALGS (sizeof(JOSE_ALGS) / sizeof(JOSE_ALGS[0]))

/* 1 when key can sign or verify under a. */
static int alg_fits_key(const jose_alg *a, const EVP_PKEY *key)
{
    int id = EVP_PKEY_get_base_id(key);
    switch (a->family) {
    case FAM_EC:
        return id == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == a->ec_bits;
    case FAM_RSA:
        return id == EVP_PKEY_RSA;
    case FAM_PSS:
        return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
    case FAM_ED:
        return id == EVP_PKEY_ED25519;
    }
    return 0;
}

static const jose_alg *alg_for_signer(avow_sigalg alg, const EVP_PKEY *key)
{
    for (size_t i = 0; i < NALGS; i++)
        if (JOSE_ALGS[i].alg == alg && alg_fits_key(&JOSE_ALGS[i], key))
            return &JOSE_ALGS[i];
    return NULL;
}

static const jose_alg *alg_by_name(const char *name)
{
    for (size_t i = 0; i < NALGS; i++)
        if (strcmp(JOSE_ALGS[i].name, name) == 0)
            return &JOSE_ALGS[i];
    return NULL;
}

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

avow_err avow_ear_sign_jwt(const avow_ear *ear, avow_signer *signer, const char *kid, avow_buf *out,
                           avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (ear == NULL || signer == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwt", "no EAR, signer or output");
    EVP_PKEY *pub = avow_signer_get0_pubkey(signer);
    const jose_alg *a = pub != NULL ? alg_for_signer(avow_signer_alg(signer), pub) : NULL;
    if (a == NULL)
        return avow__fail(
            diag, AVOW_ERR_UNSUPPORTED, "jwt.alg", "no JOSE algorithm for %s with this key",
            avow_sigalg_name(avow_signer_alg(signer)) ? avow_sigalg_name(avow_signer_alg(signer))
                                                      : "none");

    avow_buf payload = {0}, sig = {0}, raw = {0};
    char *hb64 = NULL, *pb64 = NULL, *input = NULL, *sb64 = NULL, *jwt = NULL, *hjson = NULL;
    avow_err rc = avow_ear_to_json(ear, &payload, diag);
    if (rc != AVOW_OK)
        return rc;

    json_t *h = json_object();
    int bad = h == NULL;
    bad |= json_object_set_new(h, "alg", json_string(a->name)) != 0;
    bad |= json_object_set_new(h, "typ", json_string(AVOW_EAR_JWT_TYP)) != 0;
    if (kid != NULL)
        bad |= json_object_set_new(h, "kid", json_string(kid)) != 0;
    hjson = bad ? NULL : json_dumps(h, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(h);
    rc = AVOW_ERR_NOMEM;
    if (hjson == NULL) {
        rc = avow__fail(diag, AVOW_ERR_ARG, "jwt.kid", "cannot encode the header (kid not UTF-8?)");
        goto done;
    }
    hb64 = avow__b64url_encode((const uint8_t *)hjson, strlen(hjson));
    pb64 = avow__b64url_encode(payload.ptr, payload.len);
    if (hb64 == NULL || pb64 == NULL || (input = cat3(hb64, ".", pb64)) == NULL)
        goto nomem;
    rc = avow_signer_sign(signer, (const uint8_t *)input, strlen(input), &sig, diag);
    if (rc != AVOW_OK)
        goto done;
    if (a->family == FAM_EC) {
        rc = ecdsa_der_to_raw(&sig, a->coord_len, &raw);
        if (rc != AVOW_OK) {
            rc = avow__fail_ossl(diag, rc, "jwt.signature", "signer gave no DER ECDSA signature");
            goto done;
        }
        sb64 = avow__b64url_encode(raw.ptr, raw.len);
    } else {
        sb64 = avow__b64url_encode(sig.ptr, sig.len);
    }
    if (sb64 == NULL || (jwt = cat3(input, ".", sb64)) == NULL)
        goto nomem;
    out->len = strlen(jwt);
    out->ptr = (uint8_t *)jwt;
    jwt = NULL;
    rc = AVOW_OK;
    goto done;
nomem:
    rc = avow__fail(diag, AVOW_ERR_NOMEM, "jwt", "out of memory");
done:
    free(hjson);
    OPENSSL_free(hb64);
    OPENSSL_free(pb64);
    OPENSSL_free(input);
    OPENSSL_free(sb64);
    OPENSSL_free(jwt);
    avow_buf_free(&payload);
    avow_buf_free(&sig);
    avow_buf_free(&raw);
    return rc;
}

/* --- verifying --- */

static int typ_ok(const char *typ)
{
    return strcasecmp(typ, AVOW_EAR_JWT_TYP) == 0 ||
           strcasecmp(typ, "application/" AVOW_EAR_JWT_TYP) == 0 ||
           strcasecmp(typ, AVOW_EAR_MEDIA_TYPE_JWT) == 0;
}

static avow_err check_header(json_t *h, EVP_PKEY *pub, const jose_alg **alg, avow_diag *d)
{
    if (!json_is_object(h))
        return avow__fail(d, AVOW_ERR_MALFORMED, "jwt.header", "header is not a JSON object");
    json_t *ja = json_object_get(h, "alg");
    if (!json_is_string(ja))
        return avow__fail(d, AVOW_ERR_SIG_ALG, "jwt.header.alg", "no alg");
    const char *name = json_string_value(ja);
    if (strcasecmp(name, "none") == 0)
        return avow__fail(d, AVOW_ERR_SIG_ALG, "jwt.header.alg", "alg \"none\" is refused");
    if (strncmp(name, "HS", 2) == 0)
        return avow__fail(d, AVOW_ERR_SIG_ALG, "jwt.header.alg",
                          "alg \"%.16s\" (a shared-secret MAC) is refused", name);
    const jose_alg *a = alg_by_name(name);
    if (a == NULL)
        return avow__fail(d, AVOW_ERR_SIG_ALG, "jwt.header.alg", "alg \"%.32s\" is not supported",
                          name);
    if (!alg_fits_key(a, pub))
        return avow__fail(d, AVOW_ERR_ALG_MISMATCH, "jwt.header.alg",
                          "alg %s does not fit the verification key", a->name);
    json_t *typ = json_object_get(h, "typ");
    if (!json_is_string(typ) || !typ_ok(json_string_value(typ)))
        return avow__fail(d, AVOW_ERR_MALFORMED, "jwt.header.typ",
                          "typ must be \"%s\" (an EAR JWT)", AVOW_EAR_JWT_TYP);
    if (json_object_get(h, "crit") != NULL)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, "jwt.header.crit",
                          "critical header parameters are not supported");
    *alg = a;
    return AVOW_OK;
}

static avow_err check_payload(json_t *p, time_t now, unsigned leeway, avow_diag *d)
{
    if (!json_is_object(p))
        return avow__fail(d, AVOW_ERR_MALFORMED, "jwt.payload", "payload is not a JSON object");
    json_t *prof = json_object_get(p, "eat_profile");
    if (!json_is_string(prof) || (strcmp(json_string_value(prof), AVOW_EAR_PROFILE) != 0 &&
                                  strcmp(json_string_value(prof), AVOW_EAR_PROFILE_02) != 0))
        return avow__fail(d, AVOW_ERR_VERSION, "jwt.payload.eat_profile",
                          "payload is not an EAR of a profile avow reads");
    json_t *exp = json_object_get(p, "exp");
    if (exp != NULL) {
        if (!json_is_integer(exp))
            return avow__fail(d, AVOW_ERR_MALFORMED, "jwt.payload.exp", "exp is not an integer");
        json_int_t e = json_integer_value(exp);
        if ((json_int_t)now > e + (json_int_t)leeway)
            return avow__fail(d, AVOW_ERR_EXPIRED, "jwt.payload.exp", "the EAR expired %lld s ago",
                              (long long)((json_int_t)now - e));
    }
    json_t *nbf = json_object_get(p, "nbf");
    if (nbf != NULL &&
        (!json_is_integer(nbf) || json_integer_value(nbf) > (json_int_t)now + (json_int_t)leeway))
        return avow__fail(d, AVOW_ERR_BAD_TIME, "jwt.payload.nbf", "the EAR is not valid yet");
    return AVOW_OK;
}

static json_t *load_part(const avow_buf *b)
{
    json_error_t e;
    return json_loadb((const char *)b->ptr, b->len, JSON_REJECT_DUPLICATES, &e);
}

avow_err avow_ear_verify_jwt(const char *jwt, size_t len, EVP_PKEY *pub, time_t now,
                             unsigned leeway, avow_buf *payload, avow_diag *diag)
{
    if (payload != NULL) {
        payload->ptr = NULL;
        payload->len = 0;
    }
    if (jwt == NULL || pub == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwt", "no token or key");
    if (len > JWT_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "jwt", "token of %zu bytes, limit %u", len,
                          JWT_MAX_LEN);
    if (now == 0)
        now = time(NULL);
    const char *d1 = memchr(jwt, '.', len);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
        return avow__fail(diag, AVOW_ERR_MALFORMED, "jwt",
                          "not a JWS compact serialisation (three dot-separated parts)");

    avow_buf hb = {0}, pb = {0}, sb = {0}, der = {0};
    json_t *h = NULL, *p = NULL;
    avow_err rc;
    if (avow__b64url_decode(jwt, (size_t)(d1 - jwt), &hb) != AVOW_OK ||
        avow__b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pb) != AVOW_OK ||
        avow__b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jwt), &sb) != AVOW_OK) {
        rc = avow__fail(diag, AVOW_ERR_MALFORMED, "jwt", "a part is not base64url");
        goto done;
    }
    if ((h = load_part(&hb)) == NULL) {
        rc = avow__fail(diag, AVOW_ERR_JSON, "jwt.header", "header is not JSON");
        goto done;
    }
    const jose_alg *a = NULL;
    if ((rc = check_header(h, pub, &a, diag)) != AVOW_OK)
        goto done;

    const uint8_t *sig = sb.ptr;
    size_t sig_len = sb.len;
    if (a->family == FAM_EC) {
        if (sb.len != 2 * a->coord_len) {
            rc = avow__fail(diag, AVOW_ERR_SIG_INVALID, "jwt.signature",
                            "%s signature must be raw r||s of %zu bytes, not %zu (DER?)", a->name,
                            2 * a->coord_len, sb.len);
            goto done;
        }
        if ((rc = ecdsa_raw_to_der(sb.ptr, a->coord_len, &der)) != AVOW_OK) {
            rc = avow__fail_ossl(diag, rc, "jwt.signature", "cannot convert the signature");
            goto done;
        }
        sig = der.ptr;
        sig_len = der.len;
    }
    rc = avow_sigalg_verify(a->alg, pub, (const uint8_t *)jwt, (size_t)(d2 - jwt), sig, sig_len,
                            diag);
    if (rc != AVOW_OK)
        goto done;

    /* Only a verified payload is parsed further. */
    if ((p = load_part(&pb)) == NULL) {
        rc = avow__fail(diag, AVOW_ERR_JSON, "jwt.payload", "payload is not JSON");
        goto done;
    }
    if ((rc = check_payload(p, now, leeway, diag)) != AVOW_OK)
        goto done;
    if (payload != NULL) {
        payload->ptr = OPENSSL_malloc(pb.len + 1);
        if (payload->ptr == NULL) {
            rc = avow__fail(diag, AVOW_ERR_NOMEM, "jwt", "out of memory");
            goto done;
        }
        memcpy(payload->ptr, pb.ptr, pb.len);
        payload->ptr[pb.len] = '\0';
        payload->len = pb.len;
    }
    rc = AVOW_OK;
done:
    json_decref(h);
    json_decref(p);
    avow_buf_free(&hb);
    avow_buf_free(&pb);
    avow_buf_free(&sb);
    avow_buf_free(&der);
    ERR_clear_error();
    return rc;
}
