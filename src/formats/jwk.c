/*
 * Public JWKs (RFC 7517, RFC 7518 section 6, RFC 8037) to and from
 * EVP_PKEY, and RFC 7638 thumbprints. Only public keys cross here: a JWK
 * with a private member is refused rather than stripped, because a sender
 * that puts its private key where a public one belongs has already failed.
 *
 * The curves and their coordinate sizes come from the algorithm table
 * (avow/sigalg.h): JOSE ties P-256 to ES256 and so on, and the table is the
 * one place that says so.
 */
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include <avow/jose.h>

#include "core/internal.h"
#include "core/json.h"
#include "core/sigalg_int.h"
#include "formats/jose_int.h"

/* Members that only a private (or symmetric) key has (RFC 7518 sections 6.2.2, 6.3.2, 6.4). */
static const char *const PRIVATE_MEMBERS[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

#define ED25519_LEN 32

/* --- import --- */

/* The base64url member name of jwk, decoded strictly. */
static avow_err get_b64(const json_t *jwk, const char *name, const char *field, avow_buf *out,
                        avow_diag *d)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.%s", field, name);
    const json_t *v = json_object_get(jwk, name);
    if (v == NULL)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "\"%s\" is missing", name);
    if (!json_is_string(v))
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "\"%s\" is not a string", name);
    avow_err rc = avow__b64url_decode(json_string_value(v), json_string_length(v), out);
    if (rc == AVOW_ERR_NOMEM)
        return avow__fail(d, rc, f, "out of memory");
    if (rc != AVOW_OK)
        return avow__fail(d, rc, f, "\"%s\" is not base64url", name);
    return AVOW_OK;
}

/* An EVP_PKEY of type from params; NULL (queue left for the caller) when OpenSSL refuses them. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld != NULL ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = params != NULL ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    EVP_PKEY *pkey = NULL;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static avow_err import_ec(const json_t *jwk, const char *field, EVP_PKEY **out, avow_diag *d)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.crv", field);
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (crv == NULL)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "EC key without a \"crv\" string");
    const avow_sigalg_desc *row = avow__sigalg_ec_row_of_crv(crv);
    if (row == NULL)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, f, "curve \"%.32s\" is not supported", crv);
    size_t n = row->ec_coord_len;
    avow_buf x = {0}, y = {0};
    avow_err rc = get_b64(jwk, "x", field, &x, d);
    if (rc == AVOW_OK)
        rc = get_b64(jwk, "y", field, &y, d);
    if (rc == AVOW_OK && (x.len != n || y.len != n)) {
        snprintf(f, sizeof(f), "%s.%s", field, x.len != n ? "x" : "y");
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "%s coordinates are %zu bytes, not %zu", crv, n,
                        x.len != n ? x.len : y.len);
    }
    uint8_t pt[1 + 2 * 66];
    if (rc == AVOW_OK) {
        if (2 * n + 1 > sizeof(pt)) {
            rc = avow__fail(d, AVOW_ERR_INTERNAL, field, "coordinate size %zu", n);
        } else {
            pt[0] = 0x04; /* uncompressed point */
            memcpy(pt + 1, x.ptr, n);
            memcpy(pt + 1 + n, y.ptr, n);
        }
    }
    avow_buf_free(&x);
    avow_buf_free(&y);
    if (rc != AVOW_OK)
        return rc;

    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(row->ec_nid),
                                        0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 2 * n + 1) == 1)
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    /* fromdata decodes the point onto the curve; the check says so explicitly. */
    EVP_PKEY_CTX *chk = pkey != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    if (pkey == NULL || chk == NULL || EVP_PKEY_public_check_quick(chk) != 1) {
        EVP_PKEY_CTX_free(chk);
        EVP_PKEY_free(pkey);
        return avow__fail_ossl(d, AVOW_ERR_MALFORMED, field, "(x, y) is not a point on %s", crv);
    }
    EVP_PKEY_CTX_free(chk);
    *out = pkey;
    return AVOW_OK;
}

/* Minimal big-endian unsigned integer: no leading zero byte, at least one byte. */
static int minimal(const avow_buf *b)
{
    return b->len > 0 && b->ptr[0] != 0;
}

static avow_err import_rsa(const json_t *jwk, const char *field, EVP_PKEY **out, avow_diag *d)
{
    char f[96];
    avow_buf n = {0}, e = {0};
    avow_err rc = get_b64(jwk, "n", field, &n, d);
    if (rc == AVOW_OK)
        rc = get_b64(jwk, "e", field, &e, d);
    BIGNUM *bn = NULL, *be = NULL;
    if (rc != AVOW_OK)
        goto done;
    snprintf(f, sizeof(f), "%s.n", field);
    if (!minimal(&n)) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "n is not minimally encoded (a leading zero)");
        goto done;
    }
    size_t bits = n.len * 8;
    for (uint8_t top = n.ptr[0]; !(top & 0x80); top <<= 1)
        bits--;
    if (bits < AVOW_JWK_RSA_MIN_BITS || bits > AVOW_JWK_RSA_MAX_BITS) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "a %zu-bit modulus (%u to %u bits accepted)",
                        bits, AVOW_JWK_RSA_MIN_BITS, AVOW_JWK_RSA_MAX_BITS);
        goto done;
    }
    if (!(n.ptr[n.len - 1] & 1)) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "the modulus is even");
        goto done;
    }
    snprintf(f, sizeof(f), "%s.e", field);
    if (!minimal(&e)) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "e is not minimally encoded (a leading zero)");
        goto done;
    }
    /*
     * SP 800-56B section 6.2: 2^16 < e < 2^256, e odd. Minimal, so three
     * bytes are at least 2^16, and odd makes that 65537.
     */
    if (e.len < 3 || e.len > 32 || !(e.ptr[e.len - 1] & 1)) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "e must be odd, from 65537 to 2^256 - 1");
        goto done;
    }
    bn = BN_bin2bn(n.ptr, (int)n.len, NULL);
    be = BN_bin2bn(e.ptr, (int)e.len, NULL);
    OSSL_PARAM_BLD *bld = bn != NULL && be != NULL ? OSSL_PARAM_BLD_new() : NULL;
    EVP_PKEY *pkey = NULL;
    if (bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    if (pkey == NULL) {
        rc = avow__fail_ossl(d, AVOW_ERR_MALFORMED, field, "OpenSSL refuses (n, e)");
        goto done;
    }
    *out = pkey;
done:
    BN_free(bn);
    BN_free(be);
    avow_buf_free(&n);
    avow_buf_free(&e);
    return rc;
}

static avow_err import_okp(const json_t *jwk, const char *field, EVP_PKEY **out, avow_diag *d)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.crv", field);
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (crv == NULL)
        return avow__fail(d, AVOW_ERR_MALFORMED, f, "OKP key without a \"crv\" string");
    if (strcmp(crv, "Ed25519") != 0)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, f, "OKP curve \"%.32s\" is not supported", crv);
    avow_buf x = {0};
    avow_err rc = get_b64(jwk, "x", field, &x, d);
    if (rc != AVOW_OK)
        return rc;
    snprintf(f, sizeof(f), "%s.x", field);
    if (x.len != ED25519_LEN) {
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "an Ed25519 key is %d bytes, not %zu",
                        ED25519_LEN, x.len);
        avow_buf_free(&x);
        return rc;
    }
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.ptr, x.len);
    avow_buf_free(&x);
    if (pkey == NULL)
        return avow__fail_ossl(d, AVOW_ERR_MALFORMED, f, "OpenSSL refuses the Ed25519 key");
    *out = pkey;
    return AVOW_OK;
}

avow_err avow__jwk_check_public(const json_t *jwk, const char *field, avow_diag *d)
{
    char f[96];
    if (!json_is_object(jwk))
        return avow__fail(d, AVOW_ERR_MALFORMED, field, "a JWK must be a JSON object");
    for (size_t i = 0; i < sizeof(PRIVATE_MEMBERS) / sizeof(PRIVATE_MEMBERS[0]); i++)
        if (json_object_get(jwk, PRIVATE_MEMBERS[i]) != NULL) {
            snprintf(f, sizeof(f), "%s.%s", field, PRIVATE_MEMBERS[i]);
            return avow__fail(d, AVOW_ERR_MALFORMED, f,
                              "private key member \"%s\" where a public key belongs",
                              PRIVATE_MEMBERS[i]);
        }
    return AVOW_OK;
}

avow_err avow__jwk_from_json(const json_t *jwk, const char *field, EVP_PKEY **out, avow_diag *d)
{
    char f[96];
    if (out == NULL)
        return avow__fail(d, AVOW_ERR_ARG, field, "no output");
    *out = NULL;
    avow_err prc = avow__jwk_check_public(jwk, field, d);
    if (prc != AVOW_OK)
        return prc;
    snprintf(f, sizeof(f), "%s.kty", field);
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    avow_err rc;
    if (kty == NULL)
        rc = avow__fail(d, AVOW_ERR_MALFORMED, f, "no \"kty\" string");
    else if (strcmp(kty, "EC") == 0)
        rc = import_ec(jwk, field, out, d);
    else if (strcmp(kty, "RSA") == 0)
        rc = import_rsa(jwk, field, out, d);
    else if (strcmp(kty, "OKP") == 0)
        rc = import_okp(jwk, field, out, d);
    else
        rc = avow__fail(d, AVOW_ERR_UNSUPPORTED, f,
                        "kty \"%.16s\" is not a public key type avow takes", kty);
    avow__ossl_clear();
    return rc;
}

avow_err avow_jwk_import(const char *json, size_t len, EVP_PKEY **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (json == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwk", "no JWK or output");
    json_t *j = NULL;
    avow_err rc = avow__json_load(json, len, AVOW_JWK_MAX_SIZE, "JWK", "jwk", &j, diag);
    if (rc != AVOW_OK)
        return rc;
    rc = avow__jwk_from_json(j, "jwk", out, diag);
    json_decref(j);
    return rc;
}

/* --- export --- */

/* base64url of the big-endian bytes of bn, padded to pad bytes (0: minimal). */
static json_t *b64_bn(const BIGNUM *bn, size_t pad)
{
    size_t n = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
    if (n == 0 || n > 2048)
        return NULL;
    uint8_t *b = OPENSSL_malloc(n);
    json_t *v = NULL;
    if (b != NULL && BN_bn2binpad(bn, b, (int)n) == (int)n) {
        char *s = avow__b64url_encode(b, n);
        v = s != NULL ? json_string(s) : NULL;
        OPENSSL_free(s);
    }
    OPENSSL_free(b);
    return v;
}

static json_t *bn_param(const EVP_PKEY *key, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        return NULL;
    json_t *v = b64_bn(bn, pad);
    BN_free(bn);
    return v;
}

/* Sets name to v (taken); 0 when v is NULL or jansson cannot. */
static int put(json_t *o, const char *name, json_t *v)
{
    return v != NULL && json_object_set_new(o, name, v) == 0;
}

avow_err avow__jwk_to_json(const EVP_PKEY *key, json_t **out, avow_diag *d)
{
    *out = NULL;
    if (key == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "jwk", "no key");
    json_t *o = json_object();
    if (o == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "jwk", "out of memory");
    int ok;
    if (EVP_PKEY_is_a(key, "EC")) {
        const avow_sigalg_desc *row = avow__sigalg_ec_row_of_key(key);
        if (row == NULL) {
            json_decref(o);
            return avow__fail(d, AVOW_ERR_UNSUPPORTED, "jwk.crv",
                              "only P-256, P-384 and P-521 keys have a JWK here");
        }
        ok = put(o, "kty", json_string("EC")) && put(o, "crv", json_string(row->ec_curve)) &&
             put(o, "x", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, row->ec_coord_len)) &&
             put(o, "y", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, row->ec_coord_len));
    } else if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
        ok = put(o, "kty", json_string("RSA")) &&
             put(o, "n", bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0)) &&
             put(o, "e", bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0));
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        uint8_t raw[ED25519_LEN];
        size_t n = sizeof(raw);
        char *x = EVP_PKEY_get_raw_public_key(key, raw, &n) == 1 && n == sizeof(raw)
                      ? avow__b64url_encode(raw, n)
                      : NULL;
        ok = x != NULL && put(o, "kty", json_string("OKP")) &&
             put(o, "crv", json_string("Ed25519")) && put(o, "x", json_string(x));
        OPENSSL_free(x);
    } else {
        json_decref(o);
        avow__ossl_clear();
        return avow__fail(
            d, AVOW_ERR_UNSUPPORTED, "jwk.kty", "a %s key has no JWK here (EC, RSA and Ed25519 do)",
            EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key) : "unknown");
    }
    if (!ok) {
        json_decref(o);
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "jwk", "cannot read the public key");
    }
    *out = o;
    return AVOW_OK;
}

/* The canonical text: required members only, sorted, no whitespace (RFC 7638 section 3.3). */
static avow_err canonical(const EVP_PKEY *key, char **text, avow_diag *d)
{
    json_t *o = NULL;
    avow_err rc = avow__jwk_to_json(key, &o, d);
    if (rc != AVOW_OK)
        return rc;
    *text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    return *text != NULL ? AVOW_OK : avow__fail(d, AVOW_ERR_NOMEM, "jwk", "out of memory");
}

avow_err avow_jwk_export(const EVP_PKEY *key, avow_buf *out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwk", "no output");
    out->ptr = NULL;
    out->len = 0;
    char *text = NULL;
    avow_err rc = canonical(key, &text, diag);
    if (rc != AVOW_OK)
        return rc;
    size_t n = strlen(text);
    out->ptr = OPENSSL_malloc(n + 1);
    if (out->ptr == NULL) {
        free(text);
        return avow__fail(diag, AVOW_ERR_NOMEM, "jwk", "out of memory");
    }
    memcpy(out->ptr, text, n + 1);
    out->len = n;
    free(text);
    return AVOW_OK;
}

avow_err avow_jwk_thumbprint(const EVP_PKEY *key, avow_buf *out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwk", "no output");
    out->ptr = NULL;
    out->len = 0;
    char *text = NULL;
    avow_err rc = canonical(key, &text, diag);
    if (rc != AVOW_OK)
        return rc;
    uint8_t md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) == 1;
    free(text);
    if (!ok || mdlen != sizeof(md))
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "jwk", "SHA-256 failed");
    return avow_b64url_encode(md, sizeof(md), out) == AVOW_OK
               ? AVOW_OK
               : avow__fail(diag, AVOW_ERR_NOMEM, "jwk", "out of memory");
}

/* --- JWK sets --- */

typedef struct jwks_key {
    EVP_PKEY *key;
    char *kid;      /* NULL: none */
    char *alg;      /* NULL: none */
    int use_sig;    /* -1: no "use"; 0: another use; 1: "sig" */
    int ops_verify; /* -1: no "key_ops"; 0: without "verify"; 1: with */
} jwks_key;

struct avow_jwks {
    size_t n;
    jwks_key keys[AVOW_JWKS_MAX_KEYS];
};

void avow_jwks_free(avow_jwks *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++) {
        EVP_PKEY_free(set->keys[i].key);
        OPENSSL_free(set->keys[i].kid);
        OPENSSL_free(set->keys[i].alg);
    }
    OPENSSL_free(set);
}

size_t avow_jwks_count(const avow_jwks *set)
{
    return set != NULL ? set->n : 0;
}

/* A string member or absent; -1 when present with another type. */
static int opt_string(const json_t *o, const char *name, const char **out)
{
    const json_t *v = json_object_get(o, name);
    *out = json_string_value(v);
    return v == NULL || json_is_string(v) ? 0 : -1;
}

/* The metadata of one member key; the key itself is read after. */
static avow_err jwks_meta(const json_t *k, const char *f, jwks_key *out, avow_diag *d)
{
    char g[96];
    const char *kid = NULL, *alg = NULL, *use = NULL;
    snprintf(g, sizeof(g), "%s.kid", f);
    if (opt_string(k, "kid", &kid) < 0)
        return avow__fail(d, AVOW_ERR_JWKS, g, "kid is not a string");
    snprintf(g, sizeof(g), "%s.alg", f);
    if (opt_string(k, "alg", &alg) < 0)
        return avow__fail(d, AVOW_ERR_JWKS, g, "alg is not a string");
    snprintf(g, sizeof(g), "%s.use", f);
    if (opt_string(k, "use", &use) < 0)
        return avow__fail(d, AVOW_ERR_JWKS, g, "use is not a string");
    out->use_sig = use == NULL ? -1 : strcmp(use, "sig") == 0;
    out->ops_verify = -1;
    const json_t *ops = json_object_get(k, "key_ops");
    if (ops != NULL) {
        snprintf(g, sizeof(g), "%s.key_ops", f);
        if (!json_is_array(ops))
            return avow__fail(d, AVOW_ERR_JWKS, g, "key_ops is not an array");
        out->ops_verify = 0;
        size_t i;
        json_t *op;
        json_array_foreach(ops, i, op)
        {
            if (!json_is_string(op))
                return avow__fail(d, AVOW_ERR_JWKS, g, "key_ops holds a non-string");
            if (strcmp(json_string_value(op), "verify") == 0)
                out->ops_verify = 1;
        }
    }
    if ((kid != NULL && (out->kid = OPENSSL_strdup(kid)) == NULL) ||
        (alg != NULL && (out->alg = OPENSSL_strdup(alg)) == NULL))
        return avow__fail(d, AVOW_ERR_NOMEM, f, "out of memory");
    return AVOW_OK;
}

static avow_err jwks_member(avow_jwks *set, const json_t *k, size_t i, avow_diag *d)
{
    char f[64], g[96];
    snprintf(f, sizeof(f), "jwks.keys[%zu]", i);
    if (!json_is_object(k))
        return avow__fail(d, AVOW_ERR_JWKS, f, "a key must be a JSON object");
    for (size_t m = 0; m < sizeof(PRIVATE_MEMBERS) / sizeof(PRIVATE_MEMBERS[0]); m++)
        if (json_object_get(k, PRIVATE_MEMBERS[m]) != NULL) {
            snprintf(g, sizeof(g), "%s.%s", f, PRIVATE_MEMBERS[m]);
            return avow__fail(d, AVOW_ERR_JWKS, g,
                              "private or secret key member \"%s\" in a set of public keys",
                              PRIVATE_MEMBERS[m]);
        }
    const char *kty = json_string_value(json_object_get(k, "kty"));
    snprintf(g, sizeof(g), "%s.kty", f);
    if (kty == NULL)
        return avow__fail(d, AVOW_ERR_JWKS, g, "no \"kty\" string");
    if (strcmp(kty, "oct") == 0)
        return avow__fail(d, AVOW_ERR_JWKS, g,
                          "a symmetric key (kty oct) in a set for public-key signatures");
    jwks_key *e = &set->keys[set->n];
    memset(e, 0, sizeof(*e));
    avow_diag sub;
    avow_diag_clear(&sub);
    avow_err rc = avow__jwk_from_json(k, f, &e->key, &sub);
    if (rc == AVOW_ERR_UNSUPPORTED)
        return AVOW_OK; /* RFC 7517 section 5: ignore keys of a kty or curve not understood */
    if (rc != AVOW_OK) {
        if (d != NULL)
            *d = sub;
        return rc;
    }
    set->n++; /* from here on the entry is freed with the set */
    if ((rc = jwks_meta(k, f, e, d)) != AVOW_OK)
        return rc;
    for (size_t j = 0; e->kid != NULL && j + 1 < set->n; j++)
        if (set->keys[j].kid != NULL && strcmp(set->keys[j].kid, e->kid) == 0) {
            snprintf(g, sizeof(g), "%s.kid", f);
            return avow__fail(d, AVOW_ERR_JWKS, g, "kid \"%.64s\" is given to two keys", e->kid);
        }
    return AVOW_OK;
}

avow_err avow_jwks_parse(const char *json, size_t len, avow_jwks **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (json == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwks", "no JWK set or output");
    json_t *root = NULL;
    avow_err rc = avow__json_load(json, len, AVOW_JWKS_MAX_SIZE, "JWK set", "jwks", &root, diag);
    if (rc != AVOW_OK)
        return rc;
    json_t *keys = json_object_get(root, "keys");
    avow_jwks *set = NULL;
    if (!json_is_object(root) || !json_is_array(keys) || json_array_size(keys) == 0) {
        rc = avow__fail(diag, AVOW_ERR_JWKS, "jwks.keys",
                        "a JWK set is an object with a non-empty \"keys\" array");
    } else if (json_array_size(keys) > AVOW_JWKS_MAX_KEYS) {
        rc = avow__fail(diag, AVOW_ERR_TOO_LARGE, "jwks.keys", "%zu keys, limit %u",
                        json_array_size(keys), AVOW_JWKS_MAX_KEYS);
    } else if ((set = OPENSSL_zalloc(sizeof(*set))) == NULL) {
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "jwks", "out of memory");
    } else {
        for (size_t i = 0; rc == AVOW_OK && i < json_array_size(keys); i++)
            rc = jwks_member(set, json_array_get(keys, i), i, diag);
        if (rc == AVOW_OK && set->n == 0)
            rc = avow__fail(diag, AVOW_ERR_JWKS, "jwks.keys",
                            "no key of a type avow takes (EC P-256/384/521, RSA, Ed25519)");
    }
    json_decref(root);
    avow__ossl_clear();
    if (rc != AVOW_OK) {
        avow_jwks_free(set);
        return rc;
    }
    *out = set;
    return AVOW_OK;
}

static int alg_fits(const avow_sigalg_desc *a, EVP_PKEY *k)
{
    int ok = avow_sigalg_fits_key(a->alg, k, AVOW_SIGALG_FIT_JOSE) == AVOW_OK;
    avow__ossl_clear();
    return ok;
}

avow_err avow_jwks_select(const avow_jwks *set, const char *kid, const char *alg, EVP_PKEY **out,
                          avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (set == NULL || alg == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwks", "no key set, alg or output");
    if (strcasecmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "jws.header.alg",
                          "alg \"%.16s\" is refused (no signature with a public key)", alg);
    const avow_sigalg_desc *a = avow_sigalg_info(avow_sigalg_by_jose_name(alg));
    if (a == NULL)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "jws.header.alg",
                          "alg \"%.32s\" is not supported", alg);
    const jwks_key *found = NULL;
    size_t at = 0;
    if (kid != NULL) {
        for (size_t i = 0; i < set->n && found == NULL; i++)
            if (set->keys[i].kid != NULL && strcmp(set->keys[i].kid, kid) == 0) {
                found = &set->keys[i];
                at = i;
            }
        if (found == NULL)
            return avow__fail(diag, AVOW_ERR_KID_UNKNOWN, "jws.header.kid",
                              "no key of the set has kid \"%.64s\"", kid);
    } else {
        size_t fits = 0;
        for (size_t i = 0; i < set->n; i++)
            if (alg_fits(a, set->keys[i].key) && set->keys[i].use_sig != 0 &&
                set->keys[i].ops_verify != 0 &&
                (set->keys[i].alg == NULL || strcmp(set->keys[i].alg, a->jose) == 0)) {
                if (fits++ == 0) {
                    found = &set->keys[i];
                    at = i;
                }
            }
        if (fits == 0)
            return avow__fail(diag, AVOW_ERR_KID_UNKNOWN, "jws.header",
                              "the token names no kid and no key of the set fits %s", a->jose);
        if (fits > 1)
            return avow__fail(diag, AVOW_ERR_AMBIGUOUS, "jws.header",
                              "the token names no kid and %zu keys of the set fit %s", fits,
                              a->jose);
    }
    char f[64];
    snprintf(f, sizeof(f), "jwks.keys[%zu]", at);
    if (found->use_sig == 0)
        return avow__fail(diag, AVOW_ERR_KEY_USE, f, "the key's \"use\" is not \"sig\"");
    if (found->ops_verify == 0)
        return avow__fail(diag, AVOW_ERR_KEY_USE, f, "the key's \"key_ops\" lacks \"verify\"");
    if (found->alg != NULL && strcmp(found->alg, a->jose) != 0)
        return avow__fail(diag, AVOW_ERR_KEY_USE, f,
                          "the key is for alg \"%.16s\", the token says %s", found->alg, a->jose);
    if (!alg_fits(a, found->key))
        return avow__fail(diag, AVOW_ERR_ALG_MISMATCH, f, "alg %s does not fit the key", a->jose);
    if (EVP_PKEY_up_ref(found->key) != 1)
        return avow__fail(diag, AVOW_ERR_NOMEM, f, "out of memory");
    *out = found->key;
    return AVOW_OK;
}

avow_err avow_jwks_select_for_jws(const avow_jwks *set, const char *jws, size_t len, EVP_PKEY **out,
                                  avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    avow_buf h = {0};
    avow_err rc = avow_jws_decode_unverified(jws, len, &h, NULL, diag);
    if (rc != AVOW_OK)
        return rc;
    json_error_t e;
    json_t *hdr = json_loadb((const char *)h.ptr, h.len, JSON_REJECT_DUPLICATES, &e);
    avow_buf_free(&h);
    const json_t *kid = json_object_get(hdr, "kid");
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (alg == NULL)
        rc = avow__fail(diag, AVOW_ERR_SIG_ALG, "jws.header.alg", "no alg (or not a string)");
    else if (kid != NULL && !json_is_string(kid))
        rc = avow__fail(diag, AVOW_ERR_MALFORMED, "jws.header.kid", "kid is not a string");
    else
        rc = avow_jwks_select(set, json_string_value(kid), alg, out, diag);
    json_decref(hdr);
    return rc;
}

char *avow__jwk_canonical_text(const json_t *jwk)
{
    static const char *const EC[] = {"crv", "kty", "x", "y", NULL};
    static const char *const RSA[] = {"e", "kty", "n", NULL};
    static const char *const OKP[] = {"crv", "kty", "x", NULL};
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *const *req = kty == NULL               ? NULL
                             : strcmp(kty, "EC") == 0  ? EC
                             : strcmp(kty, "RSA") == 0 ? RSA
                             : strcmp(kty, "OKP") == 0 ? OKP
                                                       : NULL;
    json_t *c = json_object();
    int bad = c == NULL || req == NULL;
    for (; !bad && *req != NULL; req++) {
        json_t *v = json_object_get(jwk, *req);
        bad = !json_is_string(v) || json_object_set(c, *req, v) != 0;
    }
    char *text = bad ? NULL : json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(c);
    return text;
}

avow_err avow__jwk_thumbprint_json(const json_t *jwk, avow_buf *out, avow_diag *d)
{
    out->ptr = NULL;
    out->len = 0;
    char *text = avow__jwk_canonical_text(jwk);
    if (text == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "jwk", "not an accepted public JWK");
    uint8_t md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) == 1;
    free(text);
    if (!ok || mdlen != sizeof(md))
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "jwk", "SHA-256 failed");
    return avow_b64url_encode(md, sizeof(md), out) == AVOW_OK
               ? AVOW_OK
               : avow__fail(d, AVOW_ERR_NOMEM, "jwk", "out of memory");
}
