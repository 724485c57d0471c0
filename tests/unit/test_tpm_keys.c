/*
 * TPM key files without a TPM (avow_tpm_key_check, what avow_tpm_load
 * checks first): the pairs tests/vectors/tpm/ holds (made by avow tpm
 * keygen on swtpm, README there) are accepted, and each field broken in
 * turn is refused with its own code and the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_mu.h>

#include <avow/tpm.h>

#include "testutil.h"

static const char *const PAIRS[] = {"sign-p256", "ak-p256", "sign-rsa2048", "dup-p256"};

static avow_buf read_part(const char *name, const char *ext)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "tpm/%s.%s", name, ext);
    return tu_read_vector(rel);
}

static void test_pairs_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(PAIRS) / sizeof(PAIRS[0]); i++) {
        avow_buf pub = read_part(PAIRS[i], "pub"), priv = read_part(PAIRS[i], "priv");
        avow_diag d;
        avow_diag_clear(&d);
        assert_int_equal(avow_tpm_key_check(pub.ptr, pub.len, priv.ptr, priv.len, &d), AVOW_OK);
        assert_int_equal(avow_tpm_key_check(pub.ptr, pub.len, NULL, 0, &d), AVOW_OK);
        assert_int_equal(avow_tpm_key_check(NULL, 0, priv.ptr, priv.len, &d), AVOW_OK);
        /* a .priv given as the .pub, and the other way round */
        assert_int_equal(avow_tpm_key_check(priv.ptr, priv.len, NULL, 0, &d), AVOW_ERR_TPM_STRUCT);
        assert_int_equal(avow_tpm_key_check(NULL, 0, pub.ptr, pub.len, &d), AVOW_ERR_TPM_KEY_BLOB);
        avow_buf_free(&pub);
        avow_buf_free(&priv);
    }
    assert_int_equal(avow_tpm_key_check(NULL, 0, NULL, 0, NULL), AVOW_ERR_ARG);
}

/* What a case changes in the unmarshalled TPM2B_PUBLIC before it is marshalled again. */
typedef enum { P_NAME_ALG, P_TYPE_HASH, P_NO_SIGN, P_CURVE, P_Y, P_RSA_BITS } pub_change;

static const struct {
    const char *what;
    const char *pair;
    pub_change change;
    avow_err want;
    const char *field;
} PUB_CASES[] = {
    {"nameAlg SHA-1", "sign-p256", P_NAME_ALG, AVOW_ERR_TPM_NAME_ALG, "key.pub.nameAlg"},
    {"a keyedHash object", "sign-p256", P_TYPE_HASH, AVOW_ERR_TPM_KEY_KIND, "key.pub.type"},
    {"sign clear", "ak-p256", P_NO_SIGN, AVOW_ERR_TPM_KEY_KIND, "key.pub.objectAttributes"},
    {"curve BN P-256", "sign-p256", P_CURVE, AVOW_ERR_TPM_KEY_KIND,
     "key.pub.parameters.eccDetail.curveID"},
    {"y + 1: off the curve", "sign-p256", P_Y, AVOW_ERR_TPM_STRUCT, "key.pub.unique"},
    {"keyBits 1024", "sign-rsa2048", P_RSA_BITS, AVOW_ERR_TPM_KEY_KIND,
     "key.pub.parameters.rsaDetail.keyBits"},
};

static void test_pub_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(PUB_CASES) / sizeof(PUB_CASES[0]); i++) {
        avow_buf pub = read_part(PUB_CASES[i].pair, "pub");
        TPM2B_PUBLIC p;
        memset(&p, 0, sizeof(p));
        size_t off = 0;
        assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.ptr, pub.len, &off, &p),
                         TSS2_RC_SUCCESS);
        TPMT_PUBLIC *t = &p.publicArea;
        switch (PUB_CASES[i].change) {
        case P_NAME_ALG:
            t->nameAlg = TPM2_ALG_SHA1;
            break;
        case P_TYPE_HASH:
            t->type = TPM2_ALG_KEYEDHASH;
            memset(&t->parameters, 0, sizeof(t->parameters));
            t->parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
            memset(&t->unique, 0, sizeof(t->unique));
            t->unique.keyedHash.size = 32;
            break;
        case P_NO_SIGN:
            t->objectAttributes &= ~TPMA_OBJECT_SIGN_ENCRYPT;
            break;
        case P_CURVE:
            t->parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
            break;
        case P_Y:
            t->unique.ecc.y.buffer[t->unique.ecc.y.size - 1] ^= 1;
            break;
        case P_RSA_BITS:
            t->parameters.rsaDetail.keyBits = 1024;
            break;
        }
        uint8_t buf[sizeof(TPM2B_PUBLIC)];
        size_t n = 0;
        p.size = 0; /* the marshaller writes the size of what it marshals */
        assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, buf, sizeof(buf), &n), TSS2_RC_SUCCESS);
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = avow_tpm_key_check(buf, n, NULL, 0, &d);
        if (rc != PUB_CASES[i].want || strcmp(d.field, PUB_CASES[i].field) != 0)
            fail_msg("%s: %s at %s, not %s at %s", PUB_CASES[i].what, avow_errname(rc), d.field,
                     avow_errname(PUB_CASES[i].want), PUB_CASES[i].field);
        avow_buf_free(&pub);
    }
}

/* Byte-level damage to either file: sizes, trailing bytes, the private area's parts. */
typedef enum {
    B_SHORT,     /* the last byte gone */
    B_TRAILING,  /* one byte more */
    B_SIZE_ZERO, /* the size field 0, the file 2 bytes */
    B_INNER,     /* pub: TPMT_PUBLIC cut by a byte, the size field to match */
    B_HMAC_SHA1, /* priv: integrity HMAC size 20 */
    B_HMAC_ONLY, /* priv: the integrity HMAC and nothing after it */
    B_HMAC_LONG, /* priv: integrity size beyond the area */
    B_EMPTY      /* no byte at all */
} byte_change;

static const struct {
    const char *what;
    int priv;
    byte_change change;
    avow_err want;
    const char *field;
} BYTE_CASES[] = {
    {"pub one byte short", 0, B_SHORT, AVOW_ERR_TPM_STRUCT, "key.pub.size"},
    {"pub one byte more", 0, B_TRAILING, AVOW_ERR_TPM_STRUCT, "key.pub.size"},
    {"pub size 0", 0, B_SIZE_ZERO, AVOW_ERR_TPM_STRUCT, "key.pub.size"},
    {"pub TPMT_PUBLIC cut", 0, B_INNER, AVOW_ERR_TPM_STRUCT, "key.pub.publicArea"},
    {"pub empty", 0, B_EMPTY, AVOW_ERR_TPM_STRUCT, "key.pub"},
    {"priv one byte short", 1, B_SHORT, AVOW_ERR_TPM_STRUCT, "key.priv.size"},
    {"priv one byte more", 1, B_TRAILING, AVOW_ERR_TPM_STRUCT, "key.priv.size"},
    {"priv size 0", 1, B_SIZE_ZERO, AVOW_ERR_TPM_STRUCT, "key.priv.size"},
    {"priv SHA-1 integrity", 1, B_HMAC_SHA1, AVOW_ERR_TPM_KEY_BLOB, "key.priv.integrity"},
    {"priv integrity only", 1, B_HMAC_ONLY, AVOW_ERR_TPM_KEY_BLOB, "key.priv.sensitive"},
    {"priv integrity past the end", 1, B_HMAC_LONG, AVOW_ERR_TPM_KEY_BLOB, "key.priv.integrity"},
    {"priv empty", 1, B_EMPTY, AVOW_ERR_TPM_STRUCT, "key.priv"},
};

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void test_byte_damage(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(BYTE_CASES) / sizeof(BYTE_CASES[0]); i++) {
        avow_buf f = read_part("sign-p256", BYTE_CASES[i].priv ? "priv" : "pub");
        uint8_t buf[1024];
        assert_true(f.len + 1 <= sizeof(buf));
        memcpy(buf, f.ptr, f.len);
        size_t n = f.len;
        switch (BYTE_CASES[i].change) {
        case B_SHORT:
            n--;
            break;
        case B_TRAILING:
            buf[n++] = 0;
            break;
        case B_SIZE_ZERO:
            put16(buf, 0);
            n = 2;
            break;
        case B_INNER:
            n--;
            put16(buf, n - 2);
            break;
        case B_HMAC_SHA1:
            put16(buf + 2, 20);
            break;
        case B_HMAC_ONLY:
            n = 2 + 2 + 32;
            put16(buf, n - 2);
            break;
        case B_HMAC_LONG:
            put16(buf + 2, n);
            break;
        case B_EMPTY:
            n = 0;
            break;
        }
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = BYTE_CASES[i].priv ? avow_tpm_key_check(NULL, 0, buf, n, &d)
                                         : avow_tpm_key_check(buf, n, NULL, 0, &d);
        if (rc != BYTE_CASES[i].want || strcmp(d.field, BYTE_CASES[i].field) != 0)
            fail_msg("%s: %s at %s, not %s at %s", BYTE_CASES[i].what, avow_errname(rc), d.field,
                     avow_errname(BYTE_CASES[i].want), BYTE_CASES[i].field);
        avow_buf_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_accepted),
        cmocka_unit_test(test_pub_fields),
        cmocka_unit_test(test_byte_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
