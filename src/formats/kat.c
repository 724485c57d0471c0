/*
 * The Key Attestation Token and its bundle (draft-bft-rats-kat-06): strict
 * decoding of the KAT's COSE_Sign1 and claims, COSE_Key to and from
 * OpenSSL keys, the link hash, and the builders attesters and tests use.
 * The CAB is a CMW collection; avow_cmw refuses collections in general, so
 * this one shape is read here.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <avow/cmw.h>
#include <avow/kat.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/kat_int.h"

/* COSE_Key labels (RFC 9052, RFC 9053). */
#define L_KTY   1
#define L_KID   2
#define L_ALG   3
#define L_OPS   4
#define L_CRV   (-1)
#define L_X     (-2)
#define L_Y     (-3)
#define L_D     (-4)
#define KTY_OKP 1
#define KTY_EC2 2

static const struct {
    int crv;
    const char *group;
    size_t size;
} CURVES[] = {{1, "P-256", 32}, {2, "P-384", 48}, {3, "P-521", 66}};

void avow__kat_free(avow__kat *k)
{
    if (k == NULL)
        return;
    avow_cose_msg_free(k->cose);
    if (k->claims != NULL)
        cbor_decref(&k->claims);
    avow__cose_key *keys[2] = {&k->ik, &k->kak};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY_free(keys[i]->pub);
        avow_buf_free(&keys[i]->enc);
        avow_buf_free(&keys[i]->spki);
    }
    OPENSSL_free(k);
}

static avow_view bview(const cbor_item_t *it)
{
    avow_view v = {cbor_bytestring_handle(it), cbor_bytestring_length(it)};
    return v;
}

static int is_bytes(const cbor_item_t *it)
{
    return cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

static int int_of(const cbor_item_t *it, int64_t *v)
{
    return (cbor_isa_uint(it) || cbor_isa_negint(it)) && avow__cbor_int(it, v);
}

static EVP_PKEY *ec_key(const char *group, const uint8_t *x, const uint8_t *y, size_t n)
{
    uint8_t pt[1 + 2 * 66];
    pt[0] = 0x04;
    memcpy(pt + 1, x, n);
    memcpy(pt + 1 + n, y, n);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *ps = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (bld != NULL && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * n) &&
        (ps = OSSL_PARAM_BLD_to_param(bld)) != NULL && ctx != NULL &&
        EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, ps) > 0) {
        EVP_PKEY_CTX *c2 = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        if (c2 == NULL || EVP_PKEY_public_check(c2) <= 0) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
        EVP_PKEY_CTX_free(c2);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    avow__ossl_clear();
    return pk;
}

/* A public COSE_Key: EC2 on P-256/384/521 (uncompressed) or OKP Ed25519. */
static avow_err read_cose_key(const cbor_item_t *m, const char *field, avow__cose_key *k,
                              avow_diag *d)
{
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
        return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "a COSE_Key is a map");
    struct cbor_pair *p = cbor_map_handle(m);
    const cbor_item_t *x = NULL, *y = NULL;
    int64_t kty = 0, crv = 0;
    for (size_t i = 0; i < cbor_map_size(m); i++) {
        int64_t label;
        if (!int_of(p[i].key, &label))
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "a label that is not an integer");
        switch (label) {
        case L_KTY:
        case L_CRV:
            if (!int_of(p[i].value, label == L_KTY ? &kty : &crv))
                return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "%s is not an integer",
                                  label == L_KTY ? "kty" : "crv");
            break;
        case L_X:
        case L_Y:
            if (!is_bytes(p[i].value))
                return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field,
                                  "%s is not a byte string (compressed points are not read)",
                                  label == L_X ? "x" : "y");
            if (label == L_X)
                x = p[i].value;
            else
                y = p[i].value;
            break;
        case L_D:
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "holds a private key (d)");
        case L_KID:
        case L_ALG:
        case L_OPS:
            break; /* not part of the key's value */
        default:
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "label %lld is not read",
                              (long long)label);
        }
    }
    k->kty = (int)kty;
    k->crv = (int)crv;
    if (kty == KTY_OKP) {
        if (crv != 6 || x == NULL || y != NULL || cbor_bytestring_length(x) != 32)
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field,
                              "OKP key: only Ed25519 with a 32-byte x");
        k->pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, bview(x).ptr, 32);
    } else if (kty == KTY_EC2) {
        size_t c = 0;
        while (c < sizeof(CURVES) / sizeof(CURVES[0]) && CURVES[c].crv != crv)
            c++;
        if (c == sizeof(CURVES) / sizeof(CURVES[0]))
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "crv %lld is not P-256/384/521",
                              (long long)crv);
        if (x == NULL || y == NULL || cbor_bytestring_length(x) != CURVES[c].size ||
            cbor_bytestring_length(y) != CURVES[c].size)
            return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "x and y of %zu bytes needed",
                              CURVES[c].size);
        k->pub = ec_key(CURVES[c].group, bview(x).ptr, bview(y).ptr, CURVES[c].size);
    } else {
        return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "kty %lld is not EC2 or OKP",
                          (long long)kty);
    }
    if (k->pub == NULL) {
        avow__ossl_clear();
        return avow__fail(d, AVOW_ERR_KAT_COSE_KEY, field, "not a valid public key");
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pub, &der);
    if (n <= 0) {
        avow__ossl_clear();
        return avow__fail(d, AVOW_ERR_CRYPTO, field, "cannot encode the key");
    }
    k->spki.ptr = der;
    k->spki.len = (size_t)n;
    /* Strictly preferred input re-serialises to its own bytes: what the link hashes. */
    size_t cap = 0;
    unsigned char *enc = NULL;
    size_t len = cbor_serialize_alloc(m, &enc, &cap);
    if (len == 0)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    k->enc.ptr = avow__memdup(enc, len);
    free(enc);
    if (k->enc.ptr == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    k->enc.len = len;
    return AVOW_OK;
}

static avow_err read_claims(avow__kat *k, avow_diag *d)
{
    const cbor_item_t *m = k->claims;
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "kat", "the claims are not a map");
    struct cbor_pair *p = cbor_map_handle(m);
    int have_nonce = 0, have_cnf = 0, have_kak = 0;
    avow_err rc;
    for (size_t i = 0; i < cbor_map_size(m); i++) {
        int64_t key;
        if (!int_of(p[i].key, &key)) {
            k->nunknown++;
            continue;
        }
        if (key == 10) {
            if (!is_bytes(p[i].value))
                return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "kat.eat_nonce", "not a byte string");
            k->nonce = bview(p[i].value);
            if (k->nonce.len < 8 || k->nonce.len > 64)
                return avow__fail(d, AVOW_ERR_CLAIM_VALUE, "kat.eat_nonce",
                                  "%zu bytes; 8..64 expected", k->nonce.len);
            have_nonce = 1;
        } else if (key == 8) {
            const cbor_item_t *c = p[i].value;
            int64_t l;
            if (!cbor_isa_map(c) || !cbor_map_is_definite(c) || cbor_map_size(c) != 1 ||
                !int_of(cbor_map_handle(c)[0].key, &l) || l != 1)
                return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "kat.cnf",
                                  "want {1: COSE_Key} (RFC 8747)");
            if ((rc = read_cose_key(cbor_map_handle(c)[0].value, "kat.cnf.COSE_Key", &k->ik, d)) !=
                AVOW_OK)
                return rc;
            have_cnf = 1;
        } else if (key == AVOW_KAT_CLAIM_KAK_PUB) {
            if ((rc = read_cose_key(p[i].value, "kat.kak-pub", &k->kak, d)) != AVOW_OK)
                return rc;
            have_kak = 1;
        } else {
            k->nunknown++;
        }
    }
    if (!have_nonce || !have_cnf || !have_kak)
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM,
                          !have_nonce ? "kat.eat_nonce"
                          : !have_cnf ? "kat.cnf"
                                      : "kat.kak-pub",
                          "a KAT needs eat_nonce, cnf and kak-pub");
    return AVOW_OK;
}

avow_err avow__kat_decode(const uint8_t *in, size_t len, avow__kat **out, avow_diag *d)
{
    if (out == NULL || in == NULL || len == 0)
        return avow__fail(d, AVOW_ERR_ARG, "kat", "no token");
    *out = NULL;
    if (len > AVOW_KAT_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "kat", "%zu bytes; at most %u", len,
                          AVOW_KAT_MAX_SIZE);
    if (in[0] == 0x04) {
        uint8_t tag;
        size_t h, n;
        if (avow__der_header(in, len, &tag, &h, &n) != AVOW_OK || h + n != len)
            return avow__fail(d, AVOW_ERR_NOT_DER, "kat", "not one DER OCTET STRING");
        in += h;
        len = n;
        if (len == 0)
            return avow__fail(d, AVOW_ERR_EMPTY, "kat", "empty OCTET STRING");
    }
    avow__kat *k = OPENSSL_zalloc(sizeof(*k));
    if (k == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "kat", "out of memory");
    avow_err rc = avow_cose_decode(in, len, AVOW_COSE_SIGN1, 0, &k->cose, d);
    if (rc == AVOW_OK) {
        avow_view pl = avow_cose_msg_payload(k->cose);
        rc = avow__cbor_load(pl.ptr, pl.len, 0, "kat", &k->claims, d);
    }
    if (rc == AVOW_OK)
        rc = read_claims(k, d);
    if (rc != AVOW_OK) {
        avow__kat_free(k);
        return rc;
    }
    *out = k;
    return AVOW_OK;
}

/* --- building --- */

static int put_bytes(uint8_t *o, size_t *n, unsigned major, const uint8_t *p, size_t len)
{
    avow__cbor_head(o, n, major, len);
    memcpy(o + *n, p, len);
    *n += len;
    return 1;
}

avow_err avow_kat_cose_key(const EVP_PKEY *pub, avow_buf *out, avow_diag *diag)
{
    if (pub == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cose_key", "no key or output");
    out->ptr = NULL;
    out->len = 0;
    uint8_t buf[16 + 2 * 70], x[66], y[66];
    size_t n = 0;
    if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519) {
        size_t xl = 32;
        if (EVP_PKEY_get_raw_public_key(pub, x, &xl) != 1 || xl != 32) {
            avow__ossl_clear();
            return avow__fail(diag, AVOW_ERR_CRYPTO, "cose_key", "cannot read the Ed25519 key");
        }
        avow__cbor_head(buf, &n, 5, 3);
        avow__cbor_head(buf, &n, 0, 1), avow__cbor_head(buf, &n, 0, KTY_OKP);
        avow__cbor_head(buf, &n, 1, 0), avow__cbor_head(buf, &n, 0, 6);
        avow__cbor_head(buf, &n, 1, 1), put_bytes(buf, &n, 2, x, 32);
    } else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
        char group[32];
        size_t c = 0;
        if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           NULL) != 1)
            group[0] = '\0';
        while (c < sizeof(CURVES) / sizeof(CURVES[0]) &&
               OPENSSL_strcasecmp(group, CURVES[c].group) != 0 &&
               !(c == 0 && OPENSSL_strcasecmp(group, "prime256v1") == 0) &&
               !(c == 1 && OPENSSL_strcasecmp(group, "secp384r1") == 0) &&
               !(c == 2 && OPENSSL_strcasecmp(group, "secp521r1") == 0))
            c++;
        if (c == sizeof(CURVES) / sizeof(CURVES[0])) {
            avow__ossl_clear();
            return avow__fail(diag, AVOW_ERR_ARG, "cose_key", "curve %s has no COSE crv here",
                              group);
        }
        BIGNUM *bx = NULL, *by = NULL;
        size_t sz = CURVES[c].size;
        int ok = EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
                 EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
                 BN_bn2binpad(bx, x, (int)sz) == (int)sz && BN_bn2binpad(by, y, (int)sz) == (int)sz;
        BN_free(bx);
        BN_free(by);
        if (!ok) {
            avow__ossl_clear();
            return avow__fail(diag, AVOW_ERR_CRYPTO, "cose_key", "cannot read the EC point");
        }
        avow__cbor_head(buf, &n, 5, 4);
        avow__cbor_head(buf, &n, 0, 1), avow__cbor_head(buf, &n, 0, KTY_EC2);
        avow__cbor_head(buf, &n, 1, 0), avow__cbor_head(buf, &n, 0, (uint64_t)CURVES[c].crv);
        avow__cbor_head(buf, &n, 1, 1), put_bytes(buf, &n, 2, x, sz);
        avow__cbor_head(buf, &n, 1, 2), put_bytes(buf, &n, 2, y, sz);
    } else {
        return avow__fail(diag, AVOW_ERR_ARG, "cose_key", "only EC and Ed25519 keys");
    }
    if ((out->ptr = avow__memdup(buf, n)) == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cose_key", "out of memory");
    out->len = n;
    return AVOW_OK;
}

avow_err avow_kat_link_nonce(const uint8_t *enc, size_t len, size_t nonce_len, uint8_t *out)
{
    if (enc == NULL || out == NULL)
        return AVOW_ERR_ARG;
    int ok = 0;
    if (nonce_len == 32)
        ok = SHA256(enc, len, out) != NULL;
    else if (nonce_len == 48)
        ok = SHA384(enc, len, out) != NULL;
    else if (nonce_len == 64)
        ok = SHA512(enc, len, out) != NULL;
    else
        return AVOW_ERR_ARG;
    avow__ossl_clear();
    return ok ? AVOW_OK : AVOW_ERR_CRYPTO;
}

avow_err avow_kat_sign(const uint8_t *nonce, size_t nonce_len, const EVP_PKEY *ik, avow_signer *kak,
                       unsigned flags, avow_buf *out, avow_diag *diag)
{
    if (nonce == NULL || nonce_len < 8 || nonce_len > 64 || ik == NULL || kak == NULL ||
        out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "kat", "nonce (8..64 bytes), key, signer, output");
    avow_buf ikk = {0}, kk = {0};
    avow_err rc = avow_kat_cose_key(ik, &ikk, diag);
    if (rc == AVOW_OK)
        rc = avow_kat_cose_key(avow_signer_get0_pubkey(kak), &kk, diag);
    uint8_t *p = rc == AVOW_OK ? OPENSSL_malloc(32 + ikk.len + kk.len + nonce_len) : NULL;
    if (rc == AVOW_OK && p == NULL)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "kat", "out of memory");
    if (rc == AVOW_OK) {
        /* Deterministic order: 8, 10, 2500. */
        size_t n = 0;
        avow__cbor_head(p, &n, 5, 3);
        avow__cbor_head(p, &n, 0, 8);
        avow__cbor_head(p, &n, 5, 1);
        avow__cbor_head(p, &n, 0, 1);
        memcpy(p + n, ikk.ptr, ikk.len);
        n += ikk.len;
        avow__cbor_head(p, &n, 0, 10);
        put_bytes(p, &n, 2, nonce, nonce_len);
        avow__cbor_head(p, &n, 0, AVOW_KAT_CLAIM_KAK_PUB);
        memcpy(p + n, kk.ptr, kk.len);
        n += kk.len;
        rc = avow_cose_sign1(p, n, kak, flags & AVOW_COSE_TAGGED, out, diag);
    }
    OPENSSL_free(p);
    avow_buf_free(&ikk);
    avow_buf_free(&kk);
    return rc;
}

static const char *const MEMBERS[2] = {"kat", "pat"};

avow_err avow_kat_bundle(const uint8_t *kat, size_t kat_len, const uint8_t *pat, size_t pat_len,
                         avow_buf *out, avow_diag *diag)
{
    if (kat == NULL || pat == NULL || kat_len == 0 || pat_len == 0 || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cab", "a KAT and a PAT are needed");
    if (kat_len > AVOW_KAT_MAX_SIZE || pat_len > AVOW_KAT_MAX_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "cab", "member over %u bytes",
                          AVOW_KAT_MAX_SIZE);
    const uint8_t *v[2] = {kat, pat};
    size_t l[2] = {kat_len, pat_len};
    uint8_t *p = OPENSSL_malloc(128 + kat_len + pat_len);
    if (p == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cab", "out of memory");
    size_t n = 0, mt = strlen(AVOW_KAT_MEDIA_TYPE);
    /* Deterministic order of the keys' encodings: "kat", "pat", "__cmwc_t". */
    avow__cbor_head(p, &n, 5, 3);
    for (size_t i = 0; i < 2; i++) {
        put_bytes(p, &n, 3, (const uint8_t *)MEMBERS[i], 3);
        avow__cbor_head(p, &n, 4, 2);
        put_bytes(p, &n, 3, (const uint8_t *)AVOW_KAT_MEDIA_TYPE, mt);
        put_bytes(p, &n, 2, v[i], l[i]);
    }
    put_bytes(p, &n, 3, (const uint8_t *)"__cmwc_t", 8);
    put_bytes(p, &n, 3, (const uint8_t *)AVOW_KAT_CMWC_TYPE, strlen(AVOW_KAT_CMWC_TYPE));
    out->ptr = p;
    out->len = n;
    return AVOW_OK;
}

static int text_is(const cbor_item_t *it, const char *s)
{
    size_t n = strlen(s);
    return cbor_isa_string(it) && cbor_string_is_definite(it) && cbor_string_length(it) == n &&
           memcmp(cbor_string_handle(it), s, n) == 0;
}

static avow_err read_member(const cbor_item_t *r, const char *name, avow_buf *out, char **type,
                            avow_diag *d)
{
    char field[16];
    snprintf(field, sizeof(field), "cab.%s", name);
    if (!cbor_isa_array(r) || !cbor_array_is_definite(r) ||
        (cbor_array_size(r) != 2 && cbor_array_size(r) != 3))
        return avow__fail(d, AVOW_ERR_KAT_BUNDLE, field, "want a CMW record [type, value, ind?]");
    cbor_item_t **a = cbor_array_handle(r);
    if (!cbor_isa_string(a[0]) || !cbor_string_is_definite(a[0]) || !is_bytes(a[1]) ||
        cbor_bytestring_length(a[1]) == 0 || (cbor_array_size(r) == 3 && !cbor_isa_uint(a[2])))
        return avow__fail(d, AVOW_ERR_KAT_BUNDLE, field,
                          "want a media type, a non-empty byte string, an indicator");
    avow_media_type *mt = NULL;
    const char *t = (const char *)cbor_string_handle(a[0]);
    size_t tl = cbor_string_length(a[0]);
    avow_err rc = avow_media_type_parse(t, tl, &mt, d);
    if (rc != AVOW_OK)
        return rc;
    int ok = avow_media_type_is(mt, "application", "eat+cwt");
    avow_media_type_free(mt);
    if (!ok)
        return avow__fail(d, AVOW_ERR_KAT_BUNDLE, field, "media type is not application/eat+cwt");
    if (type != NULL && (*type = OPENSSL_strndup(t, tl)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    avow_view v = bview(a[1]);
    if ((out->ptr = avow__memdup(v.ptr, v.len)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
    out->len = v.len;
    return AVOW_OK;
}

avow_err avow_kat_bundle_split(const uint8_t *in, size_t len, avow_buf *kat, avow_buf *pat,
                               char **pat_type, avow_diag *diag)
{
    if (in == NULL || kat == NULL || pat == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cab", "no input or output");
    memset(kat, 0, sizeof(*kat));
    memset(pat, 0, sizeof(*pat));
    if (pat_type != NULL)
        *pat_type = NULL;
    if (len > 2 * AVOW_KAT_MAX_SIZE + 256)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "cab", "%zu bytes", len);
    cbor_item_t *m = NULL;
    avow_err rc = avow__cbor_load(in, len, 0, "cab", &m, diag);
    if (rc != AVOW_OK)
        return rc;
    const cbor_item_t *rec[2] = {NULL, NULL};
    int typed = 0;
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m) || cbor_map_size(m) != 3) {
        rc = avow__fail(diag, AVOW_ERR_KAT_BUNDLE, "cab",
                        "want a map of \"kat\", \"pat\" and \"__cmwc_t\"");
        goto done;
    }
    struct cbor_pair *p = cbor_map_handle(m);
    for (size_t i = 0; i < 3; i++) {
        if (text_is(p[i].key, "kat"))
            rec[0] = p[i].value;
        else if (text_is(p[i].key, "pat"))
            rec[1] = p[i].value;
        else if (text_is(p[i].key, "__cmwc_t")) {
            if (!text_is(p[i].value, AVOW_KAT_CMWC_TYPE)) {
                rc = avow__fail(diag, AVOW_ERR_KAT_BUNDLE, "cab.__cmwc_t",
                                "collection type is not %s", AVOW_KAT_CMWC_TYPE);
                goto done;
            }
            typed = 1;
        }
    }
    if (rec[0] == NULL || rec[1] == NULL || !typed) {
        rc = avow__fail(diag, AVOW_ERR_KAT_BUNDLE, "cab",
                        "want exactly the members \"kat\", \"pat\" and \"__cmwc_t\"");
        goto done;
    }
    if ((rc = read_member(rec[0], "kat", kat, NULL, diag)) == AVOW_OK)
        rc = read_member(rec[1], "pat", pat, pat_type, diag);
done:
    cbor_decref(&m);
    if (rc != AVOW_OK) {
        avow_buf_free(kat);
        avow_buf_free(pat);
        if (pat_type != NULL) {
            OPENSSL_free(*pat_type);
            *pat_type = NULL;
        }
    }
    return rc;
}
