/*
 * Key pairs generated inside a token, with the attributes that the key
 * claims later report (sensitive, extractable, usage, end date).
 */
#include <string.h>

#include "backend/pkcs11/pkcs11_int.h"

/* DER OIDs for CKA_EC_PARAMS (namedCurve). */
static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t rsa_f4[] = {0x01, 0x00, 0x01};

/* Which object of the pair each capability's attribute lives on. */
static const struct {
    CK_ATTRIBUTE_TYPE attr;
    int on_private;
} cap_map[AVOW_CAP_COUNT_] = {
    [AVOW_CAP_ENCRYPT] = {CKA_ENCRYPT, 0}, [AVOW_CAP_DECRYPT] = {CKA_DECRYPT, 1},
    [AVOW_CAP_WRAP] = {CKA_WRAP, 0},       [AVOW_CAP_UNWRAP] = {CKA_UNWRAP, 1},
    [AVOW_CAP_SIGN] = {CKA_SIGN, 1},       [AVOW_CAP_SIGN_RECOVER] = {CKA_SIGN_RECOVER, 1},
    [AVOW_CAP_VERIFY] = {CKA_VERIFY, 0},   [AVOW_CAP_VERIFY_RECOVER] = {CKA_VERIFY_RECOVER, 0},
    [AVOW_CAP_DERIVE] = {CKA_DERIVE, 1},
};

#define TMPL_MAX 24

typedef struct tmpl {
    CK_ATTRIBUTE a[TMPL_MAX];
    CK_ULONG n;
} tmpl;

static void put(tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
    /* Sizes are fixed by the code below; TMPL_MAX leaves room for all of them. */
    if (t->n < TMPL_MAX) {
        t->a[t->n].type = type;
        t->a[t->n].pValue = (void *)v;
        t->a[t->n].ulValueLen = (CK_ULONG)len;
        t->n++;
    }
}

static int date_ok(const char *s)
{
    if (strlen(s) != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[4] - '0') * 10 + (s[5] - '0');
    int d = (s[6] - '0') * 10 + (s[7] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    /* A date the calendar does not have (2026-02-30) is a token's guess at best. */
    return d >= 1 && d <= mdays[m - 1] + (m == 2 && leap);
}

avow_err avow_p11_keygen(avow_p11_session *s, const avow_p11_keygen_params *p,
                         avow_p11_handle *priv, avow_p11_handle *pub, avow_diag *diag)
{
    if (s == NULL || p == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session or parameters");
    if (p->size != sizeof(*p))
        return avow__fail(diag, AVOW_ERR_ARG, "params.size",
                          "parameters not set up with avow_p11_keygen_params_init");
    if (p->end_date != NULL && !date_ok(p->end_date))
        return avow__fail(diag, AVOW_ERR_ARG, "end_date",
                          "end date must be a calendar date YYYYMMDD");
    if (p->type == AVOW_P11_KEY_RSA && p->rsa_bits != 0 &&
        (p->rsa_bits < 2048 || p->rsa_bits > 16384))
        return avow__fail(diag, AVOW_ERR_ARG, "rsa_bits", "RSA size must be 2048..16384 bits");

    static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = p->type == AVOW_P11_KEY_RSA ? CKK_RSA : CKK_EC;
    CK_ULONG bits = p->rsa_bits != 0 ? p->rsa_bits : 3072;
    CK_MECHANISM mech = {kt == CKK_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    const CK_BBOOL *token = p->session_only ? &no : &yes;
    unsigned caps = p->caps != 0 ? p->caps : (1u << AVOW_CAP_SIGN) | (1u << AVOW_CAP_VERIFY);

    tmpl tu = {.n = 0}, tr = {.n = 0};
    put(&tu, CKA_CLASS, &pub_class, sizeof(pub_class));
    put(&tu, CKA_KEY_TYPE, &kt, sizeof(kt));
    put(&tu, CKA_TOKEN, token, sizeof(CK_BBOOL));
    put(&tr, CKA_CLASS, &priv_class, sizeof(priv_class));
    put(&tr, CKA_KEY_TYPE, &kt, sizeof(kt));
    put(&tr, CKA_TOKEN, token, sizeof(CK_BBOOL));
    put(&tr, CKA_PRIVATE, &yes, sizeof(CK_BBOOL));
    put(&tr, CKA_SENSITIVE, p->sensitive ? &yes : &no, sizeof(CK_BBOOL));
    put(&tr, CKA_EXTRACTABLE, p->extractable ? &yes : &no, sizeof(CK_BBOOL));
    switch (p->type) {
    case AVOW_P11_KEY_EC_P256:
        put(&tu, CKA_EC_PARAMS, oid_p256, sizeof(oid_p256));
        break;
    case AVOW_P11_KEY_EC_P384:
        put(&tu, CKA_EC_PARAMS, oid_p384, sizeof(oid_p384));
        break;
    case AVOW_P11_KEY_RSA:
        put(&tu, CKA_MODULUS_BITS, &bits, sizeof(bits));
        put(&tu, CKA_PUBLIC_EXPONENT, rsa_f4, sizeof(rsa_f4));
        break;
    default:
        return avow__fail(diag, AVOW_ERR_ARG, "type", "unknown key type %d", (int)p->type);
    }
    for (int c = 0; c < AVOW_CAP_COUNT_; c++) {
        const CK_BBOOL *v = (caps >> c) & 1u ? &yes : &no;
        put(cap_map[c].on_private ? &tr : &tu, cap_map[c].attr, v, sizeof(CK_BBOOL));
    }
    if (p->label != NULL) {
        put(&tu, CKA_LABEL, p->label, strlen(p->label));
        put(&tr, CKA_LABEL, p->label, strlen(p->label));
    }
    if (p->id != NULL && p->id_len > 0) {
        put(&tu, CKA_ID, p->id, p->id_len);
        put(&tr, CKA_ID, p->id, p->id_len);
    }
    CK_DATE end;
    if (p->end_date != NULL) {
        memcpy(end.year, p->end_date, 4);
        memcpy(end.month, p->end_date + 4, 2);
        memcpy(end.day, p->end_date + 6, 2);
        put(&tu, CKA_END_DATE, &end, sizeof(end));
        put(&tr, CKA_END_DATE, &end, sizeof(end));
    }

    CK_OBJECT_HANDLE hu = 0, hr = 0;
    CK_RV rv = s->fl->C_GenerateKeyPair(s->h, &mech, tu.a, tu.n, tr.a, tr.n, &hu, &hr);
    avow__ossl_clear(); /* the module's OpenSSL, if any, shares our queue */
    if (rv != CKR_OK)
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GenerateKeyPair",
                              rv == CKR_SESSION_READ_ONLY    ? "open the session with AVOW_P11_RW"
                              : rv == CKR_USER_NOT_LOGGED_IN ? "log in first"
                                                             : NULL);
    if (priv != NULL)
        *priv = hr;
    if (pub != NULL)
        *pub = hu;
    return AVOW_OK;
}
