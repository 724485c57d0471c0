/*
 * The public half and the certificate of a key object in a token: what the
 * signer needs to make an avow_signer and what the key claims report as spki.
 * Tokens store public keys in several ways; this reads each of them.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "backend/pkcs11/pkcs11_int.h"

/* --- public keys --- */

static avow_err ec_point_bytes(const avow_buf *raw, int field_bytes, const uint8_t **p, size_t *len,
                               ASN1_OCTET_STRING **hold)
{
    /* PKCS#11 says CKA_EC_POINT is the DER OCTET STRING of the point, but some
     * tokens return the bare point. A bare uncompressed point has exactly
     * 1 + 2 * field bytes and starts with 04; anything else must be DER. */
    *hold = NULL;
    if (raw->len == (size_t)(1 + 2 * field_bytes) && raw->ptr[0] == 0x04) {
        *p = raw->ptr;
        *len = raw->len;
        return AVOW_OK;
    }
    const unsigned char *q = raw->ptr;
    ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)raw->len);
    if (os == NULL || q != raw->ptr + raw->len) {
        ASN1_OCTET_STRING_free(os);
        return AVOW_ERR_BAD_SPKI;
    }
    *hold = os;
    *p = ASN1_STRING_get0_data(os);
    *len = (size_t)ASN1_STRING_length(os);
    return AVOW_OK;
}

static avow_err pkey_from_ec(const avow_buf *params, const avow_buf *point, EVP_PKEY **out,
                             avow_diag *d)
{
    const unsigned char *q = params->ptr;
    ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &q, (long)params->len);
    int nid = oid != NULL && q == params->ptr + params->len ? OBJ_obj2nid(oid) : NID_undef;
    ASN1_OBJECT_free(oid);
    const char *group = nid != NID_undef ? OSSL_EC_curve_nid2name(nid) : NULL;
    if (group == NULL)
        return avow__fail_ossl(d, AVOW_ERR_UNSUPPORTED, "CKA_EC_PARAMS",
                               "CKA_EC_PARAMS is not a named curve OpenSSL knows");
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    int fb = g != NULL ? (EC_GROUP_get_degree(g) + 7) / 8 : 0;
    EC_GROUP_free(g);

    const uint8_t *pt = NULL;
    size_t ptlen = 0;
    ASN1_OCTET_STRING *hold = NULL;
    if (ec_point_bytes(point, fb, &pt, &ptlen, &hold) != AVOW_OK)
        return avow__fail_ossl(d, AVOW_ERR_BAD_SPKI, "CKA_EC_POINT",
                               "CKA_EC_POINT is neither a point nor a DER OCTET STRING");

    avow_err e = AVOW_OK;
    OSSL_PARAM ps[3];
    ps[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    ps[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, ptlen);
    ps[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, ps) <= 0)
        e = avow__fail_ossl(d, AVOW_ERR_BAD_SPKI, "CKA_EC_POINT",
                            "EVP_PKEY_fromdata: EC point not on the curve");
    EVP_PKEY_CTX_free(ctx);
    ASN1_OCTET_STRING_free(hold);
    return e;
}

static avow_err pkey_from_rsa(const avow_buf *n, const avow_buf *ex, EVP_PKEY **out, avow_diag *d)
{
    avow_err e = AVOW_OK;
    BIGNUM *bn = BN_bin2bn(n->ptr, (int)n->len, NULL);
    BIGNUM *be = BN_bin2bn(ex->ptr, (int)ex->len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *ps = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (bn == NULL || be == NULL || bld == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        (ps = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
        e = avow__fail_ossl(d, AVOW_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, ps) <= 0)
        e = avow__fail_ossl(d, AVOW_ERR_BAD_SPKI, "CKA_MODULUS", "EVP_PKEY_fromdata: bad RSA key");
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return e;
}

/* Two attributes of one object, both present and non-empty, or *ok = 0. */
static avow_err attr_pair(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t1,
                          CK_ATTRIBUTE_TYPE t2, avow_buf *a, avow_buf *b, int *ok, avow_diag *d)
{
    int p1 = 0, p2 = 0;
    *ok = 0;
    avow_err e = avow__p11_attr(s, o, t1, a, &p1, d);
    if (e == AVOW_OK)
        e = avow__p11_attr(s, o, t2, b, &p2, d);
    if (e == AVOW_OK && p1 && p2 && a->len > 0 && b->len > 0) {
        *ok = 1;
        return AVOW_OK;
    }
    avow_buf_free(a);
    avow_buf_free(b);
    return e;
}

static avow_err pubkey_of(avow_p11_session *s, CK_OBJECT_HANDLE o, EVP_PKEY **out, avow_diag *d)
{
    *out = NULL;
    CK_OBJECT_HANDLE pub = 0;
    avow_err e = avow__p11_partner(s, o, &pub, d);
    if (e != AVOW_OK)
        return e;

    /* CKA_PUBLIC_KEY_INFO is the token's own SPKI; prefer it when filled. */
    CK_OBJECT_HANDLE objs[2] = {o, pub};
    for (int i = 0; i < 2; i++) {
        if (objs[i] == 0 || (i == 1 && pub == o))
            continue;
        avow_buf b;
        int present = 0;
        e = avow__p11_attr(s, objs[i], CKA_PUBLIC_KEY_INFO, &b, &present, d);
        if (e != AVOW_OK)
            return e;
        if (present && b.len > 0) {
            const unsigned char *q = b.ptr;
            EVP_PKEY *k = d2i_PUBKEY(NULL, &q, (long)b.len);
            int whole = k != NULL && q == b.ptr + b.len;
            avow_buf_free(&b);
            if (!whole) {
                EVP_PKEY_free(k);
                return avow__fail_ossl(d, AVOW_ERR_BAD_SPKI, "CKA_PUBLIC_KEY_INFO",
                                       "CKA_PUBLIC_KEY_INFO is not a SubjectPublicKeyInfo");
            }
            *out = k;
            return AVOW_OK;
        }
        avow_buf_free(&b);
    }

    CK_ULONG kt = 0;
    int present = 0;
    e = avow__p11_ulong(s, o, CKA_KEY_TYPE, &kt, &present, d);
    if (e != AVOW_OK)
        return e;
    if (!present)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, "CKA_KEY_TYPE", "object is not a key");

    avow_buf a = {0}, b = {0};
    int ok = 0;
    if (kt == CKK_EC) {
        if (pub != 0)
            e = attr_pair(s, pub, CKA_EC_PARAMS, CKA_EC_POINT, &a, &b, &ok, d);
        if (e != AVOW_OK)
            return e;
        if (!ok)
            return avow__fail(d, AVOW_ERR_NOT_FOUND, "CKA_EC_POINT",
                              "EC key without a public key object (same CKA_ID) or "
                              "CKA_PUBLIC_KEY_INFO");
        e = pkey_from_ec(&a, &b, out, d);
    } else if (kt == CKK_RSA) {
        /* Private RSA objects carry the public parts too; use them when the
         * public object is gone. */
        CK_OBJECT_HANDLE from[2] = {pub, o};
        for (int i = 0; i < 2 && !ok && e == AVOW_OK; i++)
            if (from[i] != 0)
                e = attr_pair(s, from[i], CKA_MODULUS, CKA_PUBLIC_EXPONENT, &a, &b, &ok, d);
        if (e != AVOW_OK)
            return e;
        if (!ok)
            return avow__fail(d, AVOW_ERR_NOT_FOUND, "CKA_MODULUS",
                              "RSA key without readable CKA_MODULUS and CKA_PUBLIC_EXPONENT");
        e = pkey_from_rsa(&a, &b, out, d);
    } else {
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, "CKA_KEY_TYPE", "key type 0x%lx not supported",
                          (unsigned long)kt);
    }
    avow_buf_free(&a);
    avow_buf_free(&b);
    return e;
}

avow_err avow_p11_get1_pubkey(avow_p11_session *s, avow_p11_handle key, EVP_PKEY **out,
                              avow_diag *diag)
{
    if (s == NULL || avow__p11_h(key) == 0 || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session, key or output");
    return pubkey_of(s, avow__p11_h(key), out, diag);
}

avow_err avow_p11_get1_cert(avow_p11_session *s, avow_p11_handle handle, X509 **out,
                            avow_diag *diag)
{
    CK_OBJECT_HANDLE key = avow__p11_h(handle);
    if (s == NULL || key == 0 || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session, key or output");
    *out = NULL;
    avow_buf id;
    int present = 0;
    avow_err e = avow__p11_attr(s, key, CKA_ID, &id, &present, diag);
    if (e != AVOW_OK)
        return e;
    if (!present || id.len == 0) {
        avow_buf_free(&id);
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "CKA_ID",
                          "key has no CKA_ID to find its certificate by");
    }
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
                            {CKA_ID, id.ptr, id.len}};
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;
    e = avow__p11_find(s, tmpl, 3, &h, 1, &n, diag);
    avow_buf_free(&id);
    if (e != AVOW_OK)
        return e;
    if (n == 0)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "CKA_ID",
                          "no certificate object has the key's CKA_ID");
    avow_buf der;
    e = avow__p11_attr(s, h, CKA_VALUE, &der, &present, diag);
    if (e != AVOW_OK)
        return e;
    const unsigned char *q = der.ptr;
    X509 *x = present && der.len > 0 ? d2i_X509(NULL, &q, (long)der.len) : NULL;
    if (x == NULL || q != der.ptr + der.len) {
        X509_free(x);
        avow_buf_free(&der);
        return avow__fail_ossl(diag, AVOW_ERR_BAD_CERT, "CKA_VALUE",
                               "the certificate object's CKA_VALUE is not a DER certificate");
    }
    avow_buf_free(&der);
    *out = x;
    return AVOW_OK;
}
