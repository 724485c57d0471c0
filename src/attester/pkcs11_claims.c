/*
 * Claims read from a PKCS#11 token: platform claims from CK_INFO and
 * CK_TOKEN_INFO, key claims from a key's attributes. The mapping is
 * documented in docs/pkcs11.md; keep the two in step.
 */
#include <stdio.h>
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
    if (s == NULL || key == 0 || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session, key or output");
    return pubkey_of(s, key, out, diag);
}

avow_err avow_p11_get1_cert(avow_p11_session *s, avow_p11_handle key, X509 **out, avow_diag *diag)
{
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

/* --- platform claims --- */

static int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if ((c & 0xF0) == 0xE0)
            k = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3;
        else
            return 0;
        if (n - i - 1 < k)
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        /* overlong forms, surrogates, and code points past U+10FFFF */
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
            (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))
            return 0;
        i += k + 1;
    }
    return 1;
}

/*
 * A blank-padded CK_UTF8CHAR field as a C string, trailing blanks and NULs
 * cut. Version 2.x tokens may fill these with Latin-1; rather than refuse
 * the whole Evidence, non-UTF-8 bytes become '?'.
 */
static void field_text(const unsigned char *f, size_t n, char *out)
{
    while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\0'))
        n--;
    int ok = utf8_valid(f, n);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(ok || f[i] < 0x80 ? (f[i] != '\0' ? f[i] : ' ') : '?');
    out[n] = '\0';
}

avow_err avow_p11_add_platform_claims(avow_p11_session *s, avow_evidence *ev, size_t element,
                                      avow_diag *diag)
{
    if (s == NULL || ev == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session or evidence");
    CK_INFO info;
    CK_TOKEN_INFO ti;
    CK_RV rv = s->fl->C_GetInfo(&info);
    if (rv != CKR_OK)
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GetInfo", NULL);
    rv = s->fl->C_GetTokenInfo(s->slot, &ti);
    avow__ossl_clear();
    if (rv != CKR_OK)
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GetTokenInfo", NULL);

    char vendor[33], model[17], serial[17], swname[33], hwver[16], swver[48];
    field_text(ti.manufacturerID, sizeof(ti.manufacturerID), vendor);
    field_text(ti.model, sizeof(ti.model), model);
    field_text(ti.serialNumber, sizeof(ti.serialNumber), serial);
    field_text(info.libraryDescription, sizeof(info.libraryDescription), swname);
    snprintf(hwver, sizeof(hwver), "%u.%u", ti.hardwareVersion.major, ti.hardwareVersion.minor);
    snprintf(swver, sizeof(swver), "fw %u.%u / lib %u.%u", ti.firmwareVersion.major,
             ti.firmwareVersion.minor, info.libraryVersion.major, info.libraryVersion.minor);

    avow_err e = AVOW_OK;
    if (*vendor != '\0')
        e = avow_evidence_add_utf8(ev, element, AVOW_CLAIM_VENDOR, vendor, diag);
    if (e == AVOW_OK && *model != '\0')
        e = avow_evidence_add_bytes(ev, element, AVOW_CLAIM_HWMODEL, (const uint8_t *)model,
                                    strlen(model), diag);
    if (e == AVOW_OK)
        e = avow_evidence_add_utf8(ev, element, AVOW_CLAIM_HWVERSION, hwver, diag);
    if (e == AVOW_OK && *serial != '\0')
        e = avow_evidence_add_utf8(ev, element, AVOW_CLAIM_HWSERIAL, serial, diag);
    if (e == AVOW_OK && *swname != '\0')
        e = avow_evidence_add_utf8(ev, element, AVOW_CLAIM_SWNAME, swname, diag);
    if (e == AVOW_OK)
        e = avow_evidence_add_utf8(ev, element, AVOW_CLAIM_SWVERSION, swver, diag);
    return e;
}

/* --- key claims --- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/*
 * CKA_END_DATE is a CK_DATE ("YYYYMMDD", no time, no zone); the key is usable
 * through that whole day, so expiry is its last second in UTC. An empty or
 * zero date means "not set". *has 0 when unset or not a real date.
 */
static void end_date_time(const avow_buf *b, time_t *t, int *has)
{
    *has = 0;
    if (b->len != 8)
        return;
    unsigned v[8];
    int zero = 1;
    for (int i = 0; i < 8; i++) {
        if (b->ptr[i] < '0' || b->ptr[i] > '9')
            return;
        v[i] = b->ptr[i] - '0';
        zero &= v[i] == 0;
    }
    if (zero)
        return;
    long long y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    unsigned m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return;
    *t = (time_t)(days_from_civil(y, m, d) * 86400 + 86399);
    *has = 1;
}

/*
 * CKA_END_DATE of the key, else of its public object. Read into a fixed
 * CK_DATE rather than by a length query, and errors are taken as "no date":
 * SoftHSM 2.6 answers the length query with 0 for a set date and fails with
 * CKR_GENERAL_ERROR for private objects (it stores the date in clear but
 * decrypts it on the way out). An expiry is advisory; losing it must not
 * stop the attestation.
 */
static void read_end_date(avow_p11_session *s, CK_OBJECT_HANDLE key, CK_OBJECT_HANDLE pub,
                          time_t *t, int *has)
{
    CK_OBJECT_HANDLE objs[2] = {key, pub};
    *has = 0;
    for (int i = 0; i < 2 && !*has; i++) {
        if (objs[i] == 0 || (i == 1 && pub == key))
            continue;
        CK_DATE dt;
        memset(&dt, 0, sizeof(dt));
        CK_ATTRIBUTE a = {CKA_END_DATE, &dt, sizeof(dt)};
        CK_RV rv = s->fl->C_GetAttributeValue(s->h, objs[i], &a, 1);
        avow__ossl_clear();
        if (rv != CKR_OK || a.ulValueLen != sizeof(dt))
            continue;
        avow_buf b = {(uint8_t *)&dt, sizeof(dt)};
        end_date_time(&b, t, has);
    }
}

/* Everything a key element needs, read before the element is made. */
typedef struct key_facts {
    avow_buf label, id;
    int has_label, has_id;
    avow_buf spki;                                        /* empty for secret keys */
    int extractable, sensitive, never_extractable, local; /* -1 = absent */
    time_t expiry;
    int has_expiry;
    avow_capability caps[AVOW_CAP_COUNT_];
    size_t ncaps;
} key_facts;

static void key_facts_clear(key_facts *f)
{
    avow_buf_free(&f->label);
    avow_buf_free(&f->id);
    avow_buf_free(&f->spki);
}

static const CK_ATTRIBUTE_TYPE cap_attr[AVOW_CAP_COUNT_] = {
    [AVOW_CAP_ENCRYPT] = CKA_ENCRYPT, [AVOW_CAP_DECRYPT] = CKA_DECRYPT,
    [AVOW_CAP_WRAP] = CKA_WRAP,       [AVOW_CAP_UNWRAP] = CKA_UNWRAP,
    [AVOW_CAP_SIGN] = CKA_SIGN,       [AVOW_CAP_SIGN_RECOVER] = CKA_SIGN_RECOVER,
    [AVOW_CAP_VERIFY] = CKA_VERIFY,   [AVOW_CAP_VERIFY_RECOVER] = CKA_VERIFY_RECOVER,
    [AVOW_CAP_DERIVE] = CKA_DERIVE,
};

static avow_err read_facts(avow_p11_session *s, CK_OBJECT_HANDLE key, key_facts *f, avow_diag *d)
{
    avow_err e = avow__p11_attr(s, key, CKA_LABEL, &f->label, &f->has_label, d);
    if (e == AVOW_OK)
        e = avow__p11_attr(s, key, CKA_ID, &f->id, &f->has_id, d);
    if (e != AVOW_OK)
        return e;
    f->has_label &= f->label.len > 0;
    f->has_id &= f->id.len > 0;
    if (!f->has_label && !f->has_id)
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM, "identifier",
                          "key has neither CKA_LABEL nor CKA_ID to name it by");
    if (f->has_label && !utf8_valid(f->label.ptr, f->label.len))
        return avow__fail(d, AVOW_ERR_CLAIM_VALUE, "identifier", "CKA_LABEL is not UTF-8");

    CK_ULONG cls = 0;
    int present = 0;
    e = avow__p11_ulong(s, key, CKA_CLASS, &cls, &present, d);
    if (e != AVOW_OK)
        return e;
    if (!present || (cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY && cls != CKO_PUBLIC_KEY))
        return avow__fail(d, AVOW_ERR_ARG, "CKA_CLASS", "object is not a key");
    if (cls != CKO_SECRET_KEY) {
        EVP_PKEY *pk = NULL;
        e = pubkey_of(s, key, &pk, d);
        if (e != AVOW_OK)
            return e;
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(pk, &der);
        EVP_PKEY_free(pk);
        if (n <= 0)
            return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "spki", "i2d_PUBKEY");
        f->spki.ptr = der;
        f->spki.len = (size_t)n;
    }

    struct {
        CK_ATTRIBUTE_TYPE t;
        int *v;
    } bools[] = {{CKA_EXTRACTABLE, &f->extractable},
                 {CKA_SENSITIVE, &f->sensitive},
                 {CKA_NEVER_EXTRACTABLE, &f->never_extractable},
                 {CKA_LOCAL, &f->local}};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]) && e == AVOW_OK; i++)
        e = avow__p11_bool(s, key, bools[i].t, bools[i].v, d);
    if (e != AVOW_OK)
        return e;

    /* A key pair's usage is split between its two objects (sign on the
     * private, verify on the public); the element describes the pair. */
    CK_OBJECT_HANDLE pub = 0;
    e = avow__p11_partner(s, key, &pub, d);
    if (e != AVOW_OK)
        return e;
    read_end_date(s, key, pub, &f->expiry, &f->has_expiry);

    for (int c = 0; c < AVOW_CAP_COUNT_; c++) {
        int a = -1, b = -1;
        e = avow__p11_bool(s, key, cap_attr[c], &a, d);
        if (e == AVOW_OK && pub != 0 && pub != key)
            e = avow__p11_bool(s, pub, cap_attr[c], &b, d);
        if (e != AVOW_OK)
            return e;
        if (a == 1 || b == 1)
            f->caps[f->ncaps++] = (avow_capability)c;
    }
    return AVOW_OK;
}

avow_err avow_p11_add_key_claims(avow_p11_session *s, avow_p11_handle key, avow_evidence *ev,
                                 size_t *index, avow_diag *diag)
{
    if (s == NULL || key == 0 || ev == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session, key or evidence");
    key_facts f;
    memset(&f, 0, sizeof(f));
    avow_err e = read_facts(s, key, &f, diag);
    if (e != AVOW_OK) {
        key_facts_clear(&f);
        return e;
    }

    size_t el = 0;
    e = avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &el);
    if (e != AVOW_OK) {
        key_facts_clear(&f);
        return avow__fail(diag, e, "key", "cannot add a key element");
    }
    if (f.has_label) {
        avow_value v;
        memset(&v, 0, sizeof(v));
        v.type = AVOW_VALUE_UTF8;
        v.present = 1;
        v.bytes.ptr = f.label.ptr;
        v.bytes.len = f.label.len;
        e = avow_evidence_add_claim(ev, el, AVOW_CLAIM_KEY_IDENTIFIER, &v, diag);
    }
    if (e == AVOW_OK && f.has_id) {
        char *hex = avow__hex(f.id.ptr, f.id.len);
        e = hex != NULL ? avow_evidence_add_utf8(ev, el, AVOW_CLAIM_KEY_IDENTIFIER, hex, diag)
                        : avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
        OPENSSL_free(hex);
    }
    if (e == AVOW_OK && f.spki.len > 0)
        e = avow_evidence_add_bytes(ev, el, AVOW_CLAIM_KEY_SPKI, f.spki.ptr, f.spki.len, diag);
    struct {
        avow_claim_id id;
        int v;
    } bools[] = {{AVOW_CLAIM_KEY_EXTRACTABLE, f.extractable},
                 {AVOW_CLAIM_KEY_SENSITIVE, f.sensitive},
                 {AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, f.never_extractable},
                 {AVOW_CLAIM_KEY_LOCAL, f.local}};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]) && e == AVOW_OK; i++)
        if (bools[i].v >= 0)
            e = avow_evidence_add_bool(ev, el, bools[i].id, bools[i].v, diag);
    if (e == AVOW_OK && f.has_expiry)
        e = avow_evidence_add_time(ev, el, AVOW_CLAIM_KEY_EXPIRY, f.expiry, diag);
    if (e == AVOW_OK && f.ncaps > 0)
        e = avow_evidence_add_purposes(ev, el, f.caps, f.ncaps, diag);
    key_facts_clear(&f);
    if (e == AVOW_OK && index != NULL)
        *index = el;
    return e;
}

avow_err avow_p11_add_key_claims_uri(avow_p11_session *s, const char *uri, avow_evidence *ev,
                                     size_t *index, avow_diag *diag)
{
    avow_p11_handle h = 0;
    avow_err e = avow_p11_find_key(s, uri, &h, diag);
    if (e != AVOW_OK)
        return e;
    return avow_p11_add_key_claims(s, h, ev, index, diag);
}
