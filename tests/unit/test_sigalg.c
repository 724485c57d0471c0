/*
 * avow_sigalg: the table's facts, names, strict AlgorithmIdentifier DER,
 * key/algorithm fit (X.509 and JOSE) and verification. Signatures here are made with bare EVP calls
 * so that the verifier is checked against OpenSSL, not against avow's own signer.
 */
#include "testutil.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/rsa.h>

typedef struct keys {
    EVP_PKEY *p256, *p384, *p521, *rsa, *rsa_pss, *ed25519, *x25519;
} keys;

static int setup(void **state)
{
    keys *k = calloc(1, sizeof(*k));
    k->p256 = tu_key_ec("P-256");
    k->p384 = tu_key_ec("P-384");
    k->p521 = tu_key_ec("P-521");
    k->rsa = tu_key_rsa(2048);
    k->rsa_pss = tu_key_rsa_pss(2048);
    k->ed25519 = tu_key_ed25519();
    k->x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    *state = k;
    return k->x25519 == NULL;
}

static int teardown(void **state)
{
    keys *k = *state;
    if (k == NULL)
        return 0;
    EVP_PKEY_free(k->p256);
    EVP_PKEY_free(k->p384);
    EVP_PKEY_free(k->p521);
    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->rsa_pss);
    EVP_PKEY_free(k->ed25519);
    EVP_PKEY_free(k->x25519);
    free(k);
    return 0;
}

static const avow_sigalg ALL[] = {AVOW_SIGALG_ECDSA_SHA256,     AVOW_SIGALG_ECDSA_SHA384,
                                  AVOW_SIGALG_ECDSA_SHA512,     AVOW_SIGALG_RSA_PKCS1_SHA256,
                                  AVOW_SIGALG_RSA_PKCS1_SHA384, AVOW_SIGALG_RSA_PKCS1_SHA512,
                                  AVOW_SIGALG_RSA_PSS_SHA256,   AVOW_SIGALG_RSA_PSS_SHA384,
                                  AVOW_SIGALG_RSA_PSS_SHA512,   AVOW_SIGALG_ED25519};
#define NALL (sizeof(ALL) / sizeof(ALL[0]))

static EVP_PKEY *key_for(const keys *k, avow_sigalg alg)
{
    switch (alg) {
    case AVOW_SIGALG_ECDSA_SHA256:
        return k->p256;
    case AVOW_SIGALG_ECDSA_SHA384:
        return k->p384;
    case AVOW_SIGALG_ECDSA_SHA512:
        return k->p521;
    case AVOW_SIGALG_ED25519:
        return k->ed25519;
    default:
        return k->rsa;
    }
}

static const EVP_MD *md_for(avow_sigalg alg)
{
    switch (alg) {
    case AVOW_SIGALG_ECDSA_SHA256:
    case AVOW_SIGALG_RSA_PKCS1_SHA256:
    case AVOW_SIGALG_RSA_PSS_SHA256:
        return EVP_sha256();
    case AVOW_SIGALG_ECDSA_SHA384:
    case AVOW_SIGALG_RSA_PKCS1_SHA384:
    case AVOW_SIGALG_RSA_PSS_SHA384:
        return EVP_sha384();
    case AVOW_SIGALG_ED25519:
        return NULL;
    default:
        return EVP_sha512();
    }
}

static int is_pss(avow_sigalg alg)
{
    return alg == AVOW_SIGALG_RSA_PSS_SHA256 || alg == AVOW_SIGALG_RSA_PSS_SHA384 ||
           alg == AVOW_SIGALG_RSA_PSS_SHA512;
}

/* Independent signer: plain EVP, PSS with salt = digest length. */
static avow_buf evp_sign(EVP_PKEY *key, avow_sigalg alg, const uint8_t *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md_for(alg), NULL, key), 1);
    if (is_pss(alg)) {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_for(alg)) > 0);
    }
    size_t n = 0;
    assert_int_equal(EVP_DigestSign(ctx, NULL, &n, data, len), 1);
    avow_buf sig = {OPENSSL_malloc(n), 0};
    assert_int_equal(EVP_DigestSign(ctx, sig.ptr, &n, data, len), 1);
    sig.len = n;
    EVP_MD_CTX_free(ctx);
    return sig;
}

static const uint8_t MSG[] = "PKIX Evidence tbs stand-in";

static void test_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NALL; i++) {
        const char *n = avow_sigalg_name(ALL[i]);
        assert_non_null(n);
        assert_int_equal(avow_sigalg_by_name(n), ALL[i]);
    }
    assert_string_equal(avow_sigalg_name(AVOW_SIGALG_ECDSA_SHA256), "ecdsa-sha256");
    assert_string_equal(avow_sigalg_name(AVOW_SIGALG_RSA_PSS_SHA384), "rsa-pss-sha384");
    assert_null(avow_sigalg_name(AVOW_SIGALG_NONE));
    assert_null(avow_sigalg_name((avow_sigalg)77));
    assert_int_equal(avow_sigalg_by_name("ecdsa-sha1"), AVOW_SIGALG_NONE);
    assert_int_equal(avow_sigalg_by_name(NULL), AVOW_SIGALG_NONE);
}

static void test_der_identity(void **state)
{
    (void)state;
    for (size_t i = 0; i < NALL; i++) {
        avow_buf der = {0};
        assert_int_equal(avow_sigalg_to_der(ALL[i], &der), AVOW_OK);
        avow_sigalg back = AVOW_SIGALG_NONE;
        avow_diag d = {0};
        assert_int_equal(avow_sigalg_from_der(der.ptr, der.len, &back, &d), AVOW_OK);
        assert_int_equal(back, ALL[i]);
        /* OpenSSL parses it as the same AlgorithmIdentifier and re-encodes it identically. */
        const unsigned char *p = der.ptr;
        X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)der.len);
        assert_non_null(a);
        unsigned char *re = NULL;
        int n = i2d_X509_ALGOR(a, &re);
        assert_int_equal((size_t)n, der.len);
        assert_memory_equal(re, der.ptr, der.len);
        OPENSSL_free(re);
        X509_ALGOR_free(a);
        avow_buf_free(&der);
        TU_NO_OSSL_ERR();
    }
    avow_buf der = {0};
    assert_int_equal(avow_sigalg_to_der(AVOW_SIGALG_NONE, &der), AVOW_ERR_SIG_ALG);
    assert_null(der.ptr);
}

/* The exact bytes the Web PKI (Mozilla policy 5.1.1) uses. */
static void test_der_known_bytes(void **state)
{
    (void)state;
    static const char *pss256 = "304106092a864886f70d01010a3034a00f300d06096086480165030402010500"
                                "a11c301a06092a864886f70d010108300d06096086480165030402010500a203"
                                "020120";
    static const char *ecdsa256 = "300a06082a8648ce3d040302";
    static const char *pkcs1_384 = "300d06092a864886f70d01010c0500";
    static const char *ed = "300506032b6570";
    struct {
        avow_sigalg alg;
        const char *hex;
    } cases[] = {{AVOW_SIGALG_RSA_PSS_SHA256, pss256},
                 {AVOW_SIGALG_ECDSA_SHA256, ecdsa256},
                 {AVOW_SIGALG_RSA_PKCS1_SHA384, pkcs1_384},
                 {AVOW_SIGALG_ED25519, ed}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_buf der = {0};
        assert_int_equal(avow_sigalg_to_der(cases[i].alg, &der), AVOW_OK);
        long n = 0;
        unsigned char *want = OPENSSL_hexstr2buf(cases[i].hex, &n);
        assert_non_null(want);
        assert_int_equal(der.len, (size_t)n);
        assert_memory_equal(der.ptr, want, der.len);
        OPENSSL_free(want);
        avow_buf_free(&der);
    }
}

typedef struct bad_alg {
    const char *what;
    const char *hex;
    const char *field; /* expected diag.field */
} bad_alg;

static const bad_alg BAD[] = {
    {"PSS salt 20 with SHA-256",
     "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
     "08300d06096086480165030402010500a203020114",
     "parameters.saltLength"},
    {"PSS MGF1-SHA-384 with SHA-256",
     "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
     "08300d06096086480165030402020500a203020120",
     "parameters.maskGenAlgorithm.parameters"},
    {"PSS hash SHA-1",
     "303906092a864886f70d01010a302ca00b300906052b0e03021a0500a118301606092a864886f70d010108300906"
     "052b0e03021a0500a203020114",
     "parameters.hashAlgorithm"},
    {"PSS all defaults (empty params)", "300d06092a864886f70d01010a3000",
     "parameters.hashAlgorithm"},
    {"PSS without parameters", "300b06092a864886f70d01010a", "parameters"},
    {"PSS with trailerField 1",
     "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
     "08300d06096086480165030402010500a203020120a303020101",
     "parameters.trailerField"},
    {"PSS without saltLength",
     "303c06092a864886f70d01010a302fa00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
     "08300d06096086480165030402010500",
     "parameters.saltLength"},
    {"PSS mask generation not MGF1",
     "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
     "09300d06096086480165030402010500a203020120",
     "parameters.maskGenAlgorithm"},
    {"ECDSA with NULL parameters", "300c06082a8648ce3d0403020500", "parameters"},
    {"Ed25519 with NULL parameters", "300706032b65700500", "parameters"},
    {"PKCS#1 with NULL and more", "300f06092a864886f70d01010b05000500", "parameters"},
    {"PKCS#1 with a non-empty NULL", "300e06092a864886f70d01010b050100", "parameters"},
    {"PKCS#1 with an OID as parameters", "301006092a864886f70d01010b06032b6570", "parameters"},
    {"sha1WithRSAEncryption", "300d06092a864886f70d0101050500", "algorithm"},
    {"ecdsa-with-SHA1", "300906072a8648ce3d0401", "algorithm"},
    {"id-ecPublicKey as signature algorithm", "300906072a8648ce3d0201", "algorithm"},
    {"trailing byte after the SEQUENCE", "300a06082a8648ce3d04030200", ""},
    {"long-form length for a short SEQUENCE", "30810a06082a8648ce3d040302", ""},
    {"indefinite length", "308006082a8648ce3d0403020000", ""},
    {"truncated", "300a06082a8648ce3d0403", ""},
    {"not a SEQUENCE", "0408aabbccdd", ""},
    {"OID missing", "30020500", "algorithm"},
};

static void test_der_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        long n = 0;
        unsigned char *der = OPENSSL_hexstr2buf(BAD[i].hex, &n);
        if (der == NULL)
            fail_msg("bad hex in case '%s'", BAD[i].what);
        avow_sigalg alg = AVOW_SIGALG_ECDSA_SHA256;
        avow_diag d = {0};
        avow_err rc = avow_sigalg_from_der(der, (size_t)n, &alg, &d);
        if (rc != AVOW_ERR_SIG_ALG || strcmp(d.field, BAD[i].field) != 0)
            fail_msg("case '%s': rc %d field '%s' (%s)", BAD[i].what, rc, d.field, d.detail);
        assert_int_equal(alg, AVOW_SIGALG_NONE);
        assert_int_equal(d.code, AVOW_ERR_SIG_ALG);
        assert_true(d.detail[0] != '\0');
        OPENSSL_free(der);
        TU_NO_OSSL_ERR();
    }
    avow_sigalg alg;
    assert_int_equal(avow_sigalg_from_der(NULL, 0, &alg, NULL), AVOW_ERR_SIG_ALG);
    assert_int_equal(avow_sigalg_from_der(NULL, 3, &alg, NULL), AVOW_ERR_ARG);
}

/* RFC 4055 asks verifiers to take hash parameters absent as well as NULL. */
static void test_der_pss_absent_hash_params(void **state)
{
    (void)state;
    long n = 0;
    unsigned char *der = OPENSSL_hexstr2buf(
        "303d06092a864886f70d01010a3030a00d300b0609608648016503040203a11a301806092a864886f70d010108"
        "300b0609608648016503040203a203020140",
        &n);
    assert_non_null(der);
    avow_sigalg alg = AVOW_SIGALG_NONE;
    assert_int_equal(avow_sigalg_from_der(der, (size_t)n, &alg, NULL), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_RSA_PSS_SHA512);
    OPENSSL_free(der);
}

/*
 * RFC 4055 section 5: sha{256,384,512}WithRSAEncryption parameters are NULL
 * when written but must be accepted absent as well. Writing keeps NULL.
 */
static void test_der_pkcs1_absent_params(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        avow_sigalg alg;
    } cases[] = {{"300b06092a864886f70d01010b", AVOW_SIGALG_RSA_PKCS1_SHA256},
                 {"300b06092a864886f70d01010c", AVOW_SIGALG_RSA_PKCS1_SHA384},
                 {"300b06092a864886f70d01010d", AVOW_SIGALG_RSA_PKCS1_SHA512},
                 {"300d06092a864886f70d01010b0500", AVOW_SIGALG_RSA_PKCS1_SHA256}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long n = 0;
        unsigned char *der = OPENSSL_hexstr2buf(cases[i].hex, &n);
        assert_non_null(der);
        avow_sigalg alg = AVOW_SIGALG_NONE;
        avow_diag d = {0};
        avow_err rc = avow_sigalg_from_der(der, (size_t)n, &alg, &d);
        if (rc != AVOW_OK)
            fail_msg("%s: %s %s", cases[i].hex, d.field, d.detail);
        assert_int_equal(alg, cases[i].alg);
        OPENSSL_free(der);
        avow_buf out = {0};
        assert_int_equal(avow_sigalg_to_der(cases[i].alg, &out), AVOW_OK);
        assert_int_equal(out.len, 15); /* written with NULL */
        assert_memory_equal(out.ptr + 13, "\x05\x00", 2);
        avow_buf_free(&out);
        TU_NO_OSSL_ERR();
    }
}

static void test_roundtrip_every_alg(void **state)
{
    keys *k = *state;
    for (size_t i = 0; i < NALL; i++) {
        EVP_PKEY *key = key_for(k, ALL[i]);
        avow_buf sig = evp_sign(key, ALL[i], MSG, sizeof(MSG));
        avow_diag d = {0};
        avow_err rc = avow_sigalg_verify(ALL[i], key, MSG, sizeof(MSG), sig.ptr, sig.len, &d);
        if (rc != AVOW_OK)
            fail_msg("%s: %s", avow_sigalg_name(ALL[i]), d.detail);
        TU_NO_OSSL_ERR();

        /* A flipped bit anywhere in the signature or the data must fail. */
        sig.ptr[sig.len / 2] ^= 0x01;
        assert_int_equal(avow_sigalg_verify(ALL[i], key, MSG, sizeof(MSG), sig.ptr, sig.len, &d),
                         AVOW_ERR_SIG_INVALID);
        assert_int_equal(d.code, AVOW_ERR_SIG_INVALID);
        TU_NO_OSSL_ERR();
        sig.ptr[sig.len / 2] ^= 0x01;
        uint8_t msg[sizeof(MSG)];
        memcpy(msg, MSG, sizeof(msg));
        msg[3] ^= 0x80;
        assert_int_equal(avow_sigalg_verify(ALL[i], key, msg, sizeof(msg), sig.ptr, sig.len, NULL),
                         AVOW_ERR_SIG_INVALID);
        TU_NO_OSSL_ERR();
        avow_buf_free(&sig);
    }
}

static void test_pss_key_type(void **state)
{
    keys *k = *state;
    avow_buf sig = evp_sign(k->rsa_pss, AVOW_SIGALG_RSA_PSS_SHA256, MSG, sizeof(MSG));
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_RSA_PSS_SHA256, k->rsa_pss, MSG, sizeof(MSG),
                                        sig.ptr, sig.len, NULL),
                     AVOW_OK);
    /* An RSA-PSS key never verifies PKCS#1 v1.5. */
    avow_diag d = {0};
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_RSA_PKCS1_SHA256, k->rsa_pss, MSG, sizeof(MSG),
                                        sig.ptr, sig.len, &d),
                     AVOW_ERR_ALG_MISMATCH);
    assert_non_null(strstr(d.detail, "RSA-PSS"));
    avow_buf_free(&sig);
    TU_NO_OSSL_ERR();
}

static void test_alg_key_mismatch(void **state)
{
    keys *k = *state;
    struct {
        avow_sigalg alg;
        EVP_PKEY *key;
    } cases[] = {
        {AVOW_SIGALG_ECDSA_SHA256, k->rsa},      {AVOW_SIGALG_ECDSA_SHA256, k->ed25519},
        {AVOW_SIGALG_RSA_PKCS1_SHA256, k->p256}, {AVOW_SIGALG_RSA_PSS_SHA256, k->p256},
        {AVOW_SIGALG_ED25519, k->p256},          {AVOW_SIGALG_ED25519, k->rsa},
        {AVOW_SIGALG_ECDSA_SHA384, k->x25519},
    };
    uint8_t sig[72] = {0x30};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_diag d = {0};
        assert_int_equal(
            avow_sigalg_verify(cases[i].alg, cases[i].key, MSG, sizeof(MSG), sig, sizeof(sig), &d),
            AVOW_ERR_ALG_MISMATCH);
        assert_string_equal(d.field, "signatureAlgorithm");
        TU_NO_OSSL_ERR();
    }
    assert_int_equal(
        avow_sigalg_verify(AVOW_SIGALG_NONE, k->p256, MSG, sizeof(MSG), sig, sizeof(sig), NULL),
        AVOW_ERR_SIG_ALG);
}

static void test_ecdsa_raw_rs_rejected(void **state)
{
    keys *k = *state;
    struct {
        avow_sigalg alg;
        EVP_PKEY *key;
        int size;
    } cases[] = {{AVOW_SIGALG_ECDSA_SHA256, k->p256, 32}, {AVOW_SIGALG_ECDSA_SHA384, k->p384, 48}};
    for (size_t i = 0; i < 2; i++) {
        /* Retry until r's first byte is not 0x30, so the "is it DER" guess is unambiguous. */
        uint8_t raw[96];
        for (;;) {
            avow_buf sig = evp_sign(cases[i].key, cases[i].alg, MSG, sizeof(MSG));
            const unsigned char *p = sig.ptr;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);
            assert_non_null(es);
            assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, cases[i].size), cases[i].size);
            assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + cases[i].size, cases[i].size),
                             cases[i].size);
            ECDSA_SIG_free(es);
            avow_buf_free(&sig);
            if (raw[0] != 0x30)
                break;
        }
        avow_diag d = {0};
        assert_int_equal(avow_sigalg_verify(cases[i].alg, cases[i].key, MSG, sizeof(MSG), raw,
                                            2 * (size_t)cases[i].size, &d),
                         AVOW_ERR_SIG_INVALID);
        assert_non_null(strstr(d.detail, "raw r||s"));
        TU_NO_OSSL_ERR();
    }
    /* Not DER, not raw-sized: still refused, before OpenSSL sees it. */
    uint8_t junk[10] = {0x02, 0x01};
    avow_diag d = {0};
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_ECDSA_SHA256, k->p256, MSG, sizeof(MSG), junk,
                                        sizeof(junk), &d),
                     AVOW_ERR_SIG_INVALID);
    assert_non_null(strstr(d.detail, "DER"));
    /* DER that OpenSSL itself refuses (trailing garbage after the SEQUENCE). */
    avow_buf sig = evp_sign(k->p256, AVOW_SIGALG_ECDSA_SHA256, MSG, sizeof(MSG));
    uint8_t longer[80];
    memcpy(longer, sig.ptr, sig.len);
    longer[sig.len] = 0;
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_ECDSA_SHA256, k->p256, MSG, sizeof(MSG), longer,
                                        sig.len + 1, &d),
                     AVOW_ERR_SIG_INVALID);
    avow_buf_free(&sig);
    TU_NO_OSSL_ERR();
}

static void test_for_key(void **state)
{
    keys *k = *state;
    avow_sigalg alg;
    assert_int_equal(avow_sigalg_for_key(k->p256, 0, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_ECDSA_SHA256);
    assert_int_equal(avow_sigalg_for_key(k->p384, 1, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_ECDSA_SHA384);
    assert_int_equal(avow_sigalg_for_key(k->p521, 0, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_ECDSA_SHA512);
    assert_int_equal(avow_sigalg_for_key(k->rsa, 0, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_RSA_PKCS1_SHA256);
    assert_int_equal(avow_sigalg_for_key(k->rsa, 1, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_RSA_PSS_SHA256);
    assert_int_equal(avow_sigalg_for_key(k->rsa_pss, 0, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_RSA_PSS_SHA256);
    assert_int_equal(avow_sigalg_for_key(k->ed25519, 0, &alg), AVOW_OK);
    assert_int_equal(alg, AVOW_SIGALG_ED25519);
    assert_int_equal(avow_sigalg_for_key(k->x25519, 0, &alg), AVOW_ERR_UNSUPPORTED);
    assert_int_equal(alg, AVOW_SIGALG_NONE);
    assert_int_equal(avow_sigalg_for_key(NULL, 0, &alg), AVOW_ERR_ARG);
    TU_NO_OSSL_ERR();
}

/* The one table: every fact a caller reads, checked against OpenSSL's own numbers. */
static void test_table(void **state)
{
    (void)state;
    size_t n = 0, npq = 0;
    for (const avow_sigalg_desc *r; (r = avow_sigalg_info_at(n)) != NULL; n++) {
        assert_ptr_equal(avow_sigalg_info(r->alg), r);
        assert_int_equal(avow_sigalg_by_name(r->name), r->alg);
        /* ML-DSA and SLH-DSA: one key type, a fixed size, no JOSE name (tests/unit/test_pq.c). */
        if (r->family == AVOW_SIGALG_FAMILY_ML_DSA || r->family == AVOW_SIGALG_FAMILY_SLH_DSA) {
            npq++;
            assert_null(r->jose);
            assert_null(avow_sigalg_jose_name(r->alg));
            assert_non_null(r->key_type);
            assert_true(r->sig_len > 0);
        } else {
            assert_non_null(r->jose);
            assert_string_equal(avow_sigalg_jose_name(r->alg), r->jose);
            assert_int_equal(avow_sigalg_by_jose_name(r->jose), r->alg);
            assert_null(r->key_type);
            assert_int_equal(r->sig_len, 0);
            assert_int_equal(avow_sigalg_supported(r->alg), AVOW_OK);
        }
        assert_int_equal(r->prehash, r->hash != AVOW_HASH_NONE);
        if (r->hash != AVOW_HASH_NONE) {
            const EVP_MD *md = EVP_get_digestbyname(r->hash_name);
            assert_non_null(md);
            assert_int_equal((size_t)EVP_MD_get_size(md), r->hash_len);
            assert_ptr_equal(md_for(r->alg), EVP_get_digestbyname(r->hash_name));
        } else {
            assert_null(r->hash_name);
            assert_int_equal(r->hash_len, 0);
        }
        if (r->family == AVOW_SIGALG_FAMILY_ECDSA) {
            EC_GROUP *g = EC_GROUP_new_by_curve_name(r->ec_nid);
            assert_non_null(g);
            assert_int_equal(r->ec_coord_len, ((size_t)EC_GROUP_get_degree(g) + 7) / 8);
            assert_int_equal(EC_curve_nist2nid(r->ec_curve), r->ec_nid);
            EC_GROUP_free(g);
        } else {
            assert_null(r->ec_curve);
            assert_int_equal(r->ec_coord_len, 0);
        }
        assert_int_equal(r->pss_salt_len,
                         r->family == AVOW_SIGALG_FAMILY_RSA_PSS ? r->hash_len : (size_t)0);
        assert_int_equal(r->family == AVOW_SIGALG_FAMILY_RSA_PSS, is_pss(r->alg));
    }
    assert_int_equal(n - npq, NALL);
    assert_int_equal(npq, 15); /* ML-DSA-44/65/87 and the twelve SLH-DSA sets */
    assert_null(avow_sigalg_info(AVOW_SIGALG_NONE));
    assert_null(avow_sigalg_info((avow_sigalg)77));
    assert_string_equal(avow_sigalg_jose_name(AVOW_SIGALG_ECDSA_SHA512), "ES512");
    assert_int_equal(avow_sigalg_info(AVOW_SIGALG_ECDSA_SHA512)->ec_coord_len, 66);
    assert_string_equal(avow_sigalg_jose_name(AVOW_SIGALG_ED25519), "EdDSA");
    assert_null(avow_sigalg_jose_name(AVOW_SIGALG_NONE));
    /* JOSE names are case-sensitive; "none" and the MACs are never algorithms here. */
    static const char *const not_algs[] = {"none", "HS256", "es256", "ES256K", "Ed25519", ""};
    for (size_t i = 0; i < sizeof(not_algs) / sizeof(not_algs[0]); i++)
        assert_int_equal(avow_sigalg_by_jose_name(not_algs[i]), AVOW_SIGALG_NONE);
    assert_int_equal(avow_sigalg_by_jose_name(NULL), AVOW_SIGALG_NONE);
}

/* X.509 lets ecdsa-with-SHA256 sign with any curve; JOSE ties ES256 to P-256. */
static void test_fits_key(void **state)
{
    keys *k = *state;
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_non_null(k1);
    struct {
        avow_sigalg alg;
        EVP_PKEY *key;
        avow_err x509, jose;
    } cases[] = {
        {AVOW_SIGALG_ECDSA_SHA256, k->p256, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_ECDSA_SHA256, k->p384, AVOW_OK, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_ECDSA_SHA256, k1, AVOW_OK, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_ECDSA_SHA384, k->p384, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_ECDSA_SHA512, k->p521, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_ECDSA_SHA512, k->p384, AVOW_OK, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_ECDSA_SHA256, k->rsa, AVOW_ERR_ALG_MISMATCH, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_RSA_PKCS1_SHA256, k->rsa, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_RSA_PKCS1_SHA256, k->rsa_pss, AVOW_ERR_ALG_MISMATCH, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_RSA_PSS_SHA384, k->rsa, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_RSA_PSS_SHA384, k->rsa_pss, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_ED25519, k->ed25519, AVOW_OK, AVOW_OK},
        {AVOW_SIGALG_ED25519, k->x25519, AVOW_ERR_ALG_MISMATCH, AVOW_ERR_ALG_MISMATCH},
        {AVOW_SIGALG_NONE, k->p256, AVOW_ERR_SIG_ALG, AVOW_ERR_SIG_ALG},
        {AVOW_SIGALG_ECDSA_SHA256, NULL, AVOW_ERR_ARG, AVOW_ERR_ARG},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (avow_sigalg_fits_key(cases[i].alg, cases[i].key, 0) != cases[i].x509 ||
            avow_sigalg_fits_key(cases[i].alg, cases[i].key, AVOW_SIGALG_FIT_JOSE) != cases[i].jose)
            fail_msg("case %zu", i);
        TU_NO_OSSL_ERR();
    }
    EVP_PKEY_free(k1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_der_identity),
        cmocka_unit_test(test_der_known_bytes),
        cmocka_unit_test(test_der_rejects),
        cmocka_unit_test(test_der_pss_absent_hash_params),
        cmocka_unit_test(test_der_pkcs1_absent_params),
        cmocka_unit_test(test_roundtrip_every_alg),
        cmocka_unit_test(test_pss_key_type),
        cmocka_unit_test(test_alg_key_mismatch),
        cmocka_unit_test(test_ecdsa_raw_rs_rejected),
        cmocka_unit_test(test_for_key),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_fits_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
