/*
 * Post-quantum signatures: the ML-DSA (FIPS 204, RFC 9881) and SLH-DSA
 * (FIPS 205, RFC 9909) rows of the algorithm table, and PKIX Evidence
 * signed by ECDSA and ML-DSA together.
 *
 * Every build checks the rows' names and AlgorithmIdentifiers. A build
 * against OpenSSL 3.0 (AVOW_TEST_PQ 0) checks that they refuse signing and
 * verifying with AVOW_ERR_UNSUPPORTED, and that hybrid Evidence made by the
 * PQ build (tests/vectors/pq/) is refused by default and accepted on its
 * ECDSA signature under AVOW_VERIFY_ANY_SIGNATURE. The PQ build (AVOW_TEST_PQ 1)
 * signs and verifies for real, against plain EVP calls, and checks that it
 * runs on OpenSSL 3.5 or later.
 */
#include "testutil.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>

#ifndef AVOW_TEST_PQ
#define AVOW_TEST_PQ 0
#endif

static const avow_sigalg PQ[] = {
    AVOW_SIGALG_ML_DSA_44,          AVOW_SIGALG_ML_DSA_65,          AVOW_SIGALG_ML_DSA_87,
    AVOW_SIGALG_SLH_DSA_SHA2_128S,  AVOW_SIGALG_SLH_DSA_SHA2_128F,  AVOW_SIGALG_SLH_DSA_SHA2_192S,
    AVOW_SIGALG_SLH_DSA_SHA2_192F,  AVOW_SIGALG_SLH_DSA_SHA2_256S,  AVOW_SIGALG_SLH_DSA_SHA2_256F,
    AVOW_SIGALG_SLH_DSA_SHAKE_128S, AVOW_SIGALG_SLH_DSA_SHAKE_128F, AVOW_SIGALG_SLH_DSA_SHAKE_192S,
    AVOW_SIGALG_SLH_DSA_SHAKE_192F, AVOW_SIGALG_SLH_DSA_SHAKE_256S, AVOW_SIGALG_SLH_DSA_SHAKE_256F};
#define NPQ (sizeof(PQ) / sizeof(PQ[0]))

static const uint8_t MSG[] = "PKIX Evidence tbs stand-in";

static avow_buf hex(const char *h)
{
    long n = 0;
    avow_buf b = {OPENSSL_hexstr2buf(h, &n), 0};
    assert_non_null(b.ptr);
    b.len = (size_t)n;
    return b;
}

/* The identifiers of RFC 9881 section 2 and RFC 9909 section 3, parameters absent. */
static void test_der_known_bytes(void **state)
{
    (void)state;
    static const struct {
        avow_sigalg alg;
        const char *name;
        const char *hex;
    } cases[] = {
        {AVOW_SIGALG_ML_DSA_44, "ml-dsa-44", "300b0609608648016503040311"},
        {AVOW_SIGALG_ML_DSA_65, "ml-dsa-65", "300b0609608648016503040312"},
        {AVOW_SIGALG_ML_DSA_87, "ml-dsa-87", "300b0609608648016503040313"},
        {AVOW_SIGALG_SLH_DSA_SHA2_128S, "slh-dsa-sha2-128s", "300b0609608648016503040314"},
        {AVOW_SIGALG_SLH_DSA_SHA2_128F, "slh-dsa-sha2-128f", "300b0609608648016503040315"},
        {AVOW_SIGALG_SLH_DSA_SHA2_256F, "slh-dsa-sha2-256f", "300b0609608648016503040319"},
        {AVOW_SIGALG_SLH_DSA_SHAKE_128S, "slh-dsa-shake-128s", "300b060960864801650304031a"},
        {AVOW_SIGALG_SLH_DSA_SHAKE_128F, "slh-dsa-shake-128f", "300b060960864801650304031b"},
        {AVOW_SIGALG_SLH_DSA_SHAKE_256F, "slh-dsa-shake-256f", "300b060960864801650304031f"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(avow_sigalg_name(cases[i].alg), cases[i].name);
        assert_int_equal(avow_sigalg_by_name(cases[i].name), cases[i].alg);
        avow_buf der = {0}, want = hex(cases[i].hex);
        assert_int_equal(avow_sigalg_to_der(cases[i].alg, &der), AVOW_OK);
        assert_int_equal(der.len, want.len);
        assert_memory_equal(der.ptr, want.ptr, der.len);
        avow_buf_free(&der);
        avow_buf_free(&want);
    }
    /* Every row both ways, and OpenSSL reads it as the same AlgorithmIdentifier. */
    for (size_t i = 0; i < NPQ; i++) {
        avow_buf der = {0};
        assert_int_equal(avow_sigalg_to_der(PQ[i], &der), AVOW_OK);
        avow_sigalg back = AVOW_SIGALG_NONE;
        avow_diag d = {0};
        assert_int_equal(avow_sigalg_from_der(der.ptr, der.len, &back, &d), AVOW_OK);
        assert_int_equal(back, PQ[i]);
        assert_int_equal(der.ptr[der.len - 1], 17 + i); /* sigAlgs 17..31 in table order */
        const unsigned char *p = der.ptr;
        X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)der.len);
        assert_non_null(a);
        const ASN1_OBJECT *obj = NULL;
        int ptype = 0;
        X509_ALGOR_get0(&obj, &ptype, NULL, a);
        assert_int_equal(ptype, V_ASN1_UNDEF); /* parameters absent, not NULL */
        char dotted[64];
        assert_true(OBJ_obj2txt(dotted, sizeof(dotted), obj, 1) > 0);
        char want[64];
        snprintf(want, sizeof(want), "2.16.840.1.101.3.4.3.%zu", 17 + i);
        assert_string_equal(dotted, want);
#if AVOW_TEST_PQ
        /* OpenSSL 3.5 names the OID after the parameter set the row's key type is. */
        assert_int_equal(OBJ_obj2nid(obj), OBJ_txt2nid(avow_sigalg_info(PQ[i])->key_type));
#endif
        X509_ALGOR_free(a);
        avow_buf_free(&der);
        TU_NO_OSSL_ERR();
    }
}

static void test_der_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *what, *hex, *field, *detail;
    } cases[] = {
        {"ML-DSA-65 with NULL parameters", "300d06096086480165030403120500", "parameters",
         "absent"},
        {"SLH-DSA-SHA2-128s with an empty SEQUENCE", "300d06096086480165030403143000", "parameters",
         "absent"},
        {"HashML-DSA-65 with SHA-512", "300b0609608648016503040321", "algorithm", "pre-hash"},
        {"HashSLH-DSA-SHAKE-256f", "300b060960864801650304032e", "algorithm", "pre-hash"},
        {"id-ecdsa-with-sha3-256 (same arc)", "300b060960864801650304030a", "algorithm",
         "unsupported"},
        {"sigAlgs 47 (unassigned)", "300b060960864801650304032f", "algorithm", "unsupported"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_buf der = hex(cases[i].hex);
        avow_sigalg alg = AVOW_SIGALG_ECDSA_SHA256;
        avow_diag d = {0};
        avow_err rc = avow_sigalg_from_der(der.ptr, der.len, &alg, &d);
        if (rc != AVOW_ERR_SIG_ALG || strcmp(d.field, cases[i].field) != 0 ||
            strstr(d.detail, cases[i].detail) == NULL)
            fail_msg("%s: rc %d field '%s' (%s)", cases[i].what, rc, d.field, d.detail);
        assert_int_equal(alg, AVOW_SIGALG_NONE);
        avow_buf_free(&der);
        TU_NO_OSSL_ERR();
    }
}

#if !AVOW_TEST_PQ

/* OpenSSL 3.0: the rows are there, and every operation says plainly it cannot be done. */
static void test_unsupported_here(void **state)
{
    (void)state;
    assert_true(OpenSSL_version_num() < 0x30500000L);
    EVP_PKEY *ec = tu_key_ec("P-256");
    uint8_t sig[3309] = {0};
    for (size_t i = 0; i < NPQ; i++) {
        assert_int_equal(avow_sigalg_supported(PQ[i]), AVOW_ERR_UNSUPPORTED);
        assert_int_equal(avow_sigalg_fits_key(PQ[i], ec, 0), AVOW_ERR_UNSUPPORTED);
        avow_diag d = {0};
        assert_int_equal(avow_sigalg_verify(PQ[i], ec, MSG, sizeof(MSG), sig, sizeof(sig), &d),
                         AVOW_ERR_UNSUPPORTED);
        assert_string_equal(d.field, "signatureAlgorithm");
        assert_non_null(strstr(d.detail, "OpenSSL 3.5"));
        avow_signer *s = NULL;
        assert_int_equal(avow_signer_new_pkey(ec, PQ[i], &s, &d), AVOW_ERR_UNSUPPORTED);
        assert_null(s);
        TU_NO_OSSL_ERR();
    }
    /* The classical rows are untouched. */
    assert_int_equal(avow_sigalg_supported(AVOW_SIGALG_ECDSA_SHA256), AVOW_OK);
    assert_int_equal(avow_sigalg_supported(AVOW_SIGALG_NONE), AVOW_ERR_SIG_ALG);
    EVP_PKEY_free(ec);
}

static avow_evidence *load_vector(const char *rel)
{
    avow_buf der = tu_read_vector(rel);
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    avow_err rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s %s", rel, d.field, d.detail);
    avow_buf_free(&der);
    return ev;
}

/*
 * Hybrid Evidence (ECDSA P-256 + ML-DSA-65, both AKs under their own roots)
 * made by the PQ build: here the ML-DSA signature is refused as unsupported,
 * so only "any signature" accepts it, on the ECDSA signature alone.
 */
static void test_hybrid_vector_on_classical_build(void **state)
{
    (void)state;
    avow_evidence *ev = load_vector("pq/hybrid.der");
    assert_int_equal(avow_evidence_signature_count(ev), 2);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    X509 *ec_root = tu_load_cert("pq/ec-root.crt");
    assert_int_equal(avow_verifier_add_anchor(v, ec_root, NULL), AVOW_OK);
    X509_free(ec_root);
    /* The ML-DSA root cannot even be parsed into a key here; it is not needed. */

    avow_evidence_result *r = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_verify_evidence(v, ev, NULL, &r, &d), AVOW_ERR_UNSUPPORTED);
    assert_string_equal(d.field, "signatures[1]");
    assert_non_null(strstr(d.detail, "ml-dsa-65"));
    assert_int_equal(r->sigs[0].status, AVOW_OK);
    assert_int_equal(r->sigs[1].status, AVOW_ERR_UNSUPPORTED);
    assert_int_equal(r->sigs[1].alg, AVOW_SIGALG_ML_DSA_65);
    avow_evidence_result_free(r);
    TU_NO_OSSL_ERR();

    avow_verify_opts any;
    avow_verify_opts_init(&any);
    any.flags = AVOW_VERIFY_ANY_SIGNATURE;
    assert_int_equal(avow_verify_evidence(v, ev, &any, &r, &d), AVOW_OK);
    assert_int_equal(avow_claimset_find(&r->claims, NULL, "vendor", NULL)->signed_by, 1);
    avow_evidence_result_free(r);
    TU_NO_OSSL_ERR();
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

#else /* AVOW_TEST_PQ */

/* The PQ build must not have picked up the system's OpenSSL 3.0 anywhere. */
static void test_runs_on_openssl_35(void **state)
{
    (void)state;
    assert_true(OpenSSL_version_num() >= 0x30500000L);
    assert_true(OPENSSL_VERSION_NUMBER >= 0x30500000L);
    for (size_t i = 0; i < NPQ; i++)
        assert_int_equal(avow_sigalg_supported(PQ[i]), AVOW_OK);
}

static EVP_PKEY *keygen(avow_sigalg alg)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, avow_sigalg_info(alg)->key_type);
    assert_non_null(k);
    return k;
}

/* An independent signer: plain EVP, one-shot, no digest (pure mode, empty context). */
static avow_buf evp_sign(EVP_PKEY *key, const uint8_t *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), 1);
    size_t n = 0;
    assert_int_equal(EVP_DigestSign(ctx, NULL, &n, data, len), 1);
    avow_buf sig = {OPENSSL_malloc(n), 0};
    assert_int_equal(EVP_DigestSign(ctx, sig.ptr, &n, data, len), 1);
    sig.len = n;
    EVP_MD_CTX_free(ctx);
    return sig;
}

static int evp_verify(EVP_PKEY *key, const uint8_t *sig, size_t sig_len, const uint8_t *data,
                      size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
    int ok = EVP_DigestVerify(ctx, sig, sig_len, data, len);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok == 1;
}

/* SLH-DSA's small sets sign in about half a second each: these sign, the rest only key-check. */
static int signs_here(avow_sigalg alg)
{
    return alg == AVOW_SIGALG_ML_DSA_44 || alg == AVOW_SIGALG_ML_DSA_65 ||
           alg == AVOW_SIGALG_ML_DSA_87 || alg == AVOW_SIGALG_SLH_DSA_SHA2_128S ||
           alg == AVOW_SIGALG_SLH_DSA_SHAKE_128S || alg == AVOW_SIGALG_SLH_DSA_SHA2_128F ||
           alg == AVOW_SIGALG_SLH_DSA_SHAKE_256F;
}

static void test_keys_and_signatures(void **state)
{
    (void)state;
    EVP_PKEY *ec = tu_key_ec("P-256");
    EVP_PKEY *keys[NPQ];
    for (size_t i = 0; i < NPQ; i++)
        keys[i] = keygen(PQ[i]);
    for (size_t i = 0; i < NPQ; i++) {
        const avow_sigalg_desc *r = avow_sigalg_info(PQ[i]);
        EVP_PKEY *key = keys[i];
        avow_sigalg alg = AVOW_SIGALG_NONE;
        assert_int_equal(avow_sigalg_for_key(key, 0, &alg), AVOW_OK);
        assert_int_equal(alg, PQ[i]);
        assert_int_equal(avow_sigalg_fits_key(PQ[i], key, 0), AVOW_OK);
        /* One parameter set per row: another set's key, or an EC key, does not fit. */
        EVP_PKEY *other = keys[(i + 1) % NPQ];
        assert_int_equal(avow_sigalg_fits_key(PQ[i], other, 0), AVOW_ERR_ALG_MISMATCH);
        assert_int_equal(avow_sigalg_fits_key(PQ[i], ec, 0), AVOW_ERR_ALG_MISMATCH);
        assert_int_equal(avow_sigalg_fits_key(AVOW_SIGALG_ECDSA_SHA256, key, 0),
                         AVOW_ERR_ALG_MISMATCH);
        assert_int_equal(avow_sigalg_fits_key(AVOW_SIGALG_ED25519, key, 0), AVOW_ERR_ALG_MISMATCH);
        /* The key's SPKI carries the same identifier as the signature (RFC 9881 section 4). */
        avow_buf spki = tu_spki(key), der = {0};
        assert_int_equal(avow_sigalg_to_der(PQ[i], &der), AVOW_OK);
        assert_true(spki.len > der.len + 4);
        assert_memory_equal(spki.ptr + (spki.ptr[1] == 0x82 ? 4 : 2), der.ptr, der.len);
        avow_buf_free(&der);
        avow_buf_free(&spki);
        TU_NO_OSSL_ERR();
        if (!signs_here(PQ[i]))
            continue;

        /* OpenSSL's signature verifies through the table... */
        avow_buf sig = evp_sign(key, MSG, sizeof(MSG));
        assert_int_equal(sig.len, r->sig_len);
        avow_diag d = {0};
        avow_err rc = avow_sigalg_verify(PQ[i], key, MSG, sizeof(MSG), sig.ptr, sig.len, &d);
        if (rc != AVOW_OK)
            fail_msg("%s: %s", r->name, d.detail);
        /* ...and fails with a flipped bit, other data, the wrong size or another key. */
        sig.ptr[sig.len / 2] ^= 0x04;
        assert_int_equal(avow_sigalg_verify(PQ[i], key, MSG, sizeof(MSG), sig.ptr, sig.len, &d),
                         AVOW_ERR_SIG_INVALID);
        assert_string_equal(d.field, "signatureValue");
        sig.ptr[sig.len / 2] ^= 0x04;
        assert_int_equal(avow_sigalg_verify(PQ[i], key, MSG, sizeof(MSG) - 1, sig.ptr, sig.len, &d),
                         AVOW_ERR_SIG_INVALID);
        assert_int_equal(avow_sigalg_verify(PQ[i], key, MSG, sizeof(MSG), sig.ptr, sig.len - 1, &d),
                         AVOW_ERR_SIG_INVALID);
        assert_non_null(strstr(d.detail, "bytes, not"));
        assert_int_equal(avow_sigalg_verify(PQ[i], other, MSG, sizeof(MSG), sig.ptr, sig.len, &d),
                         AVOW_ERR_ALG_MISMATCH);
        avow_buf_free(&sig);
        TU_NO_OSSL_ERR();

        /* The software signer's signature verifies with plain EVP. */
        avow_signer *s = NULL;
        assert_int_equal(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &s, &d), AVOW_OK);
        assert_int_equal(avow_signer_alg(s), PQ[i]);
        assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, &d), AVOW_OK);
        assert_int_equal(sig.len, r->sig_len);
        assert_true(evp_verify(key, sig.ptr, sig.len, MSG, sizeof(MSG)));
        avow_buf_free(&sig);
        avow_signer_free(s);
        assert_int_equal(avow_signer_new_pkey(key, PQ[(i + 1) % NPQ], &s, &d),
                         AVOW_ERR_ALG_MISMATCH);
        TU_NO_OSSL_ERR();
    }
    for (size_t i = 0; i < NPQ; i++)
        EVP_PKEY_free(keys[i]);
    EVP_PKEY_free(ec);
}

/* --- Evidence --- */

typedef struct fixture {
    EVP_PKEY *ec_root_key, *ec_ak_key, *pq_root_key, *mldsa_ak_key, *slh_ak_key;
    X509 *ec_root, *ec_ak, *pq_root, *mldsa_ak, *slh_ak;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->ec_root_key = tu_key_ec("P-256");
    f->ec_ak_key = tu_key_ec("P-256");
    f->pq_root_key = keygen(AVOW_SIGALG_ML_DSA_87);
    f->mldsa_ak_key = keygen(AVOW_SIGALG_ML_DSA_65);
    f->slh_ak_key = keygen(AVOW_SIGALG_SLH_DSA_SHAKE_128F);
    f->ec_root = tu_cert_issue("EC Root", f->ec_root_key, NULL, f->ec_root_key, 1, 0);
    f->ec_ak = tu_cert_issue("EC AK", f->ec_ak_key, f->ec_root, f->ec_root_key, 0, 0);
    /* A post-quantum hierarchy: ML-DSA-87 root, certificates signed with ML-DSA. */
    f->pq_root = tu_cert_issue("ML-DSA Root", f->pq_root_key, NULL, f->pq_root_key, 1, 0);
    f->mldsa_ak = tu_cert_issue("ML-DSA AK", f->mldsa_ak_key, f->pq_root, f->pq_root_key, 0, 0);
    f->slh_ak = tu_cert_issue("SLH-DSA AK", f->slh_ak_key, f->pq_root, f->pq_root_key, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    X509_free(f->ec_root);
    X509_free(f->ec_ak);
    X509_free(f->pq_root);
    X509_free(f->mldsa_ak);
    X509_free(f->slh_ak);
    EVP_PKEY_free(f->ec_root_key);
    EVP_PKEY_free(f->ec_ak_key);
    EVP_PKEY_free(f->pq_root_key);
    EVP_PKEY_free(f->mldsa_ak_key);
    EVP_PKEY_free(f->slh_ak_key);
    free(f);
    return 0;
}

static avow_evidence *make_unsigned(EVP_PKEY *const *ak, size_t nak)
{
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    size_t tr, pl;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tr, NULL), AVOW_OK);
    static const uint8_t nonce[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_NONCE, nonce, sizeof(nonce), &d),
                     AVOW_OK);
    for (size_t i = 0; i < nak; i++) {
        avow_buf spki = tu_spki(ak[i]);
        assert_int_equal(
            avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_AK_SPKI, spki.ptr, spki.len, &d), AVOW_OK);
        avow_buf_free(&spki);
    }
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme Corp", &d), AVOW_OK);
    return ev;
}

/* A back end that signs through another signer and then flips one bit of the signature. */
static avow_err corrupt_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                             avow_buf *sig, avow_diag *diag)
{
    (void)alg;
    avow_err rc = avow_signer_sign(impl, data, len, sig, diag);
    if (rc == AVOW_OK)
        sig->ptr[sig->len / 2] ^= 0x10;
    return rc;
}

static void corrupt_free(void *impl)
{
    avow_signer_free(impl);
}

static void sign_with(avow_evidence *ev, EVP_PKEY *key, X509 *cert, avow_sid_kind sid, int corrupt)
{
    avow_signer *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &s, &d), AVOW_OK);
    if (corrupt) {
        static const avow_signer_ops ops = {sizeof(avow_signer_ops), "corrupting", corrupt_sign,
                                            corrupt_free};
        avow_signer *outer = NULL;
        assert_int_equal(avow_signer_new(&ops, s, key, avow_signer_alg(s), &outer), AVOW_OK);
        s = outer;
    }
    if (cert != NULL)
        assert_int_equal(avow_signer_set1_cert(s, cert, NULL), AVOW_OK);
    avow_err rc = avow_evidence_sign(ev, s, sid, &d);
    if (rc != AVOW_OK)
        fail_msg("sign: %s %s", d.field, d.detail);
    avow_signer_free(s);
    TU_NO_OSSL_ERR();
}

/* Through DER and back, as a verifier receives it; *len gets the DER size. */
static avow_evidence *reparse(avow_evidence *ev, size_t *len)
{
    avow_buf der = {0};
    assert_int_equal(avow_evidence_encode(ev, &der), AVOW_OK);
    avow_evidence_free(ev);
    avow_evidence *out = NULL;
    avow_diag d = {0};
    avow_err rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &out, &d);
    if (rc != AVOW_OK)
        fail_msg("decode of %zu bytes: %s %s", der.len, d.field, d.detail);
    if (len != NULL)
        *len = der.len;
    avow_buf_free(&der);
    return out;
}

static avow_verifier *verifier(const fixture *f)
{
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, f->ec_root, NULL), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, f->pq_root, NULL), AVOW_OK);
    return v;
}

static avow_err verify(const avow_verifier *v, const avow_evidence *ev, unsigned flags,
                       avow_evidence_result **r, avow_diag *d)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.flags = flags;
    avow_err rc = avow_verify_evidence(v, ev, &o, r, d);
    TU_NO_OSSL_ERR();
    return rc;
}

static uint32_t vendor_signed_by(const avow_evidence_result *r)
{
    const avow_nclaim *c = avow_claimset_find(&r->claims, "platform", "vendor", NULL);
    assert_non_null(c);
    return c->signed_by;
}

/* ECDSA P-256 and ML-DSA-65 in one SignatureBlock list, each AK under its own root. */
static avow_evidence *hybrid(const fixture *f, int break_ec, int break_mldsa, size_t *len)
{
    EVP_PKEY *aks[] = {f->ec_ak_key, f->mldsa_ak_key};
    avow_evidence *ev = make_unsigned(aks, 2);
    sign_with(ev, f->ec_ak_key, f->ec_ak, AVOW_SID_CERT, break_ec);
    sign_with(ev, f->mldsa_ak_key, f->mldsa_ak, AVOW_SID_CERT, break_mldsa);
    return reparse(ev, len);
}

static void test_hybrid_evidence(void **state)
{
    fixture *f = *state;
    size_t len = 0;
    avow_evidence *ev = hybrid(f, 0, 0, &len);
    /* One ML-DSA-65 signature with its certificate is most of it; well inside the limit. */
    assert_true(len > 3309 + 1974 && len < 16 * 1024);
    avow_verifier *v = verifier(f);
    avow_evidence_result *r = NULL;
    avow_diag d = {0};
    avow_err rc = verify(v, ev, 0, &r, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s", d.field, d.detail);
    assert_int_equal(r->nsigs, 2);
    assert_int_equal(r->sigs[0].alg, AVOW_SIGALG_ECDSA_SHA256);
    assert_int_equal(r->sigs[1].alg, AVOW_SIGALG_ML_DSA_65);
    assert_int_equal(r->sigs[1].status, AVOW_OK);
    assert_int_equal(r->sigs[1].ak_spki, 1);
    assert_int_equal(X509_cmp(r->sigs[1].cert, f->mldsa_ak), 0);
    assert_int_equal(sk_X509_num(r->sigs[1].chain), 2);
    assert_int_equal(vendor_signed_by(r), 3);
    avow_evidence_result_free(r);
    /* The JSON and text results name the algorithm. */
    assert_int_equal(verify(v, ev, 0, &r, &d), AVOW_OK);
    avow_buf json = {0};
    assert_int_equal(avow_evidence_result_to_json(r, &json), AVOW_OK);
    assert_non_null(strstr((const char *)json.ptr, "\"ml-dsa-65\""));
    avow_buf_free(&json);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* A broken ML-DSA signature: refused by default, the ECDSA one alone under ANY. */
    ev = hybrid(f, 0, 1, NULL);
    assert_int_equal(verify(v, ev, 0, &r, &d), AVOW_ERR_SIG_INVALID);
    assert_string_equal(d.field, "signatures[1]");
    assert_int_equal(r->sigs[0].status, AVOW_OK);
    assert_int_equal(r->sigs[1].status, AVOW_ERR_SIG_INVALID);
    avow_evidence_result_free(r);
    assert_int_equal(verify(v, ev, AVOW_VERIFY_ANY_SIGNATURE, &r, &d), AVOW_OK);
    assert_int_equal(vendor_signed_by(r), 1);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* A broken ECDSA signature: the same, the other way round. */
    ev = hybrid(f, 1, 0, NULL);
    assert_int_equal(verify(v, ev, 0, &r, &d), AVOW_ERR_SIG_INVALID);
    assert_string_equal(d.field, "signatures[0]");
    avow_evidence_result_free(r);
    assert_int_equal(verify(v, ev, AVOW_VERIFY_ANY_SIGNATURE, &r, &d), AVOW_OK);
    assert_int_equal(vendor_signed_by(r), 2);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* Both broken: ANY fails too, with the first reason. */
    ev = hybrid(f, 1, 1, NULL);
    assert_int_equal(verify(v, ev, AVOW_VERIFY_ANY_SIGNATURE, NULL, &d), AVOW_ERR_SIG_INVALID);
    assert_string_equal(d.field, "signatures[0]");
    avow_evidence_free(ev);

    /* Without the ML-DSA root the ML-DSA AK is untrusted: CHAIN by default, ANY accepts. */
    ev = hybrid(f, 0, 0, NULL);
    avow_verifier *ec_only = NULL;
    assert_int_equal(avow_verifier_new(NULL, &ec_only), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(ec_only, f->ec_root, NULL), AVOW_OK);
    assert_int_equal(verify(ec_only, ev, 0, NULL, &d), AVOW_ERR_CHAIN);
    assert_string_equal(d.field, "signatures[1]");
    assert_int_equal(verify(ec_only, ev, AVOW_VERIFY_ANY_SIGNATURE, NULL, &d), AVOW_OK);
    avow_verifier_free(ec_only);
    avow_evidence_free(ev);
    avow_verifier_free(v);
}

/* Post-quantum signatures alone: ML-DSA with a certificate, SLH-DSA by SPKI and by key id. */
static void test_pq_only_evidence(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f);
    avow_evidence_result *r = NULL;
    avow_diag d = {0};

    avow_evidence *ev = make_unsigned(&f->mldsa_ak_key, 1);
    sign_with(ev, f->mldsa_ak_key, f->mldsa_ak, AVOW_SID_CERT, 0);
    ev = reparse(ev, NULL);
    assert_int_equal(verify(v, ev, 0, &r, &d), AVOW_OK);
    assert_int_equal(r->sigs[0].alg, AVOW_SIGALG_ML_DSA_65);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* One ML-DSA key listed twice in ak-spki is refused: its bytes decide (one encoding). */
    ev = make_unsigned(&f->mldsa_ak_key, 1);
    avow_buf spki = tu_spki(f->mldsa_ak_key);
    assert_int_equal(avow_evidence_add_bytes(ev, 0, AVOW_CLAIM_AK_SPKI, spki.ptr, spki.len, &d),
                     AVOW_ERR_DUP_CLAIM);
    avow_buf_free(&spki);
    avow_evidence_free(ev);
    TU_NO_OSSL_ERR();

    /* SLH-DSA, identified by SPKI: the verifier knows the certificate, the Evidence only the key.
     */
    assert_int_equal(avow_verifier_add_cert(v, f->slh_ak, NULL), AVOW_OK);
    ev = make_unsigned(&f->slh_ak_key, 1);
    sign_with(ev, f->slh_ak_key, f->slh_ak, AVOW_SID_SPKI, 0);
    ev = reparse(ev, NULL);
    avow_err rc = verify(v, ev, 0, &r, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s", d.field, d.detail);
    assert_int_equal(r->sigs[0].alg, AVOW_SIGALG_SLH_DSA_SHAKE_128F);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* ML-DSA by key id (RFC 5280 method 1 over the ML-DSA key), from the verifier's key set. */
    uint8_t kid[AVOW_KEY_ID_LEN];
    assert_int_equal(avow_spki_key_id(f->mldsa_ak_key, kid, &d), AVOW_OK);
    assert_int_equal(avow_verifier_add_key(v, kid, sizeof(kid), f->mldsa_ak_key, NULL), AVOW_OK);
    ev = make_unsigned(&f->mldsa_ak_key, 1);
    sign_with(ev, f->mldsa_ak_key, NULL, AVOW_SID_KEYID, 0);
    ev = reparse(ev, NULL);
    assert_int_equal(verify(v, ev, 0, &r, &d), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "key set");
    avow_evidence_result_free(r);
    avow_evidence_free(ev);
    avow_verifier_free(v);
}

/*
 * Limits sized for post-quantum signatures: Evidence of more than 32 KiB
 * (ECDSA, ML-DSA-65, ML-DSA-87 and SLH-DSA-SHA2-128f with their
 * certificates) decodes and verifies.
 */
static void test_large_evidence(void **state)
{
    fixture *f = *state;
    EVP_PKEY *k87 = keygen(AVOW_SIGALG_ML_DSA_87), *slh = keygen(AVOW_SIGALG_SLH_DSA_SHA2_128F);
    X509 *c87 = tu_cert_issue("ML-DSA-87 AK", k87, f->pq_root, f->pq_root_key, 0, 0);
    X509 *cslh = tu_cert_issue("SLH-DSA AK", slh, f->pq_root, f->pq_root_key, 0, 0);
    EVP_PKEY *aks[] = {f->ec_ak_key, f->mldsa_ak_key, k87, slh};
    avow_evidence *ev = make_unsigned(aks, 4);
    sign_with(ev, f->ec_ak_key, f->ec_ak, AVOW_SID_CERT, 0);
    sign_with(ev, f->mldsa_ak_key, f->mldsa_ak, AVOW_SID_CERT, 0);
    sign_with(ev, k87, c87, AVOW_SID_CERT, 0);
    sign_with(ev, slh, cslh, AVOW_SID_CERT, 0);
    size_t len = 0;
    ev = reparse(ev, &len);
    assert_true(len > 32 * 1024);
    assert_true(len <= AVOW_EVIDENCE_MAX_SIZE);
    avow_verifier *v = verifier(f);
    avow_evidence_result *r = NULL;
    avow_diag d = {0};
    avow_err rc = verify(v, ev, 0, &r, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s", d.field, d.detail);
    assert_int_equal(vendor_signed_by(r), 15);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    X509_free(c87);
    X509_free(cslh);
    EVP_PKEY_free(k87);
    EVP_PKEY_free(slh);
}

#endif /* AVOW_TEST_PQ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_known_bytes),
        cmocka_unit_test(test_der_rejects),
#if AVOW_TEST_PQ
        cmocka_unit_test(test_runs_on_openssl_35),
        cmocka_unit_test(test_keys_and_signatures),
        cmocka_unit_test_setup_teardown(test_hybrid_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pq_only_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_evidence, setup, teardown),
#else
        cmocka_unit_test(test_unsupported_here),
        cmocka_unit_test(test_hybrid_vector_on_classical_build),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
