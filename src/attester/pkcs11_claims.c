/*
 * Claims read from a PKCS#11 token: platform claims from CK_INFO and
 * CK_TOKEN_INFO, key claims from a key's attributes. The mapping is
 * documented in docs/pkcs11.md; keep the two in step.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "backend/pkcs11/pkcs11_int.h"

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
        e = avow_p11_get1_pubkey(s, key, &pk, d);
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

avow_err avow_p11_add_key_claims(avow_p11_session *s, avow_p11_handle handle, avow_evidence *ev,
                                 size_t *index, avow_diag *diag)
{
    CK_OBJECT_HANDLE key = avow__p11_h(handle);
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
    e = avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &el, diag);
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
