/*
 * Keys and certificates as DER (avow/x509.h): the SubjectPublicKeyInfo of
 * every key type avow signs with, its RFC 5280 key identifier (checked
 * against OpenSSL's own subjectKeyIdentifier "hash" and against the keyId
 * avow_evidence_sign writes), and a certificate's DER; misuse refused with
 * the OpenSSL queue left empty.
 */
#include "testutil.h"

#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <avow/x509.h>

static void check_key(EVP_PKEY *key)
{
    avow_buf spki = {0};
    OK(avow_spki_der(key, &spki, NULL));
    TU_NO_OSSL_ERR();
    avow_buf want = tu_spki(key);
    assert_int_equal(spki.len, want.len);
    assert_memory_equal(spki.ptr, want.ptr, want.len);
    /* The DER reads back as the same key. */
    const unsigned char *p = spki.ptr;
    EVP_PKEY *back = d2i_PUBKEY(NULL, &p, (long)spki.len);
    assert_non_null(back);
    assert_int_equal(EVP_PKEY_eq(back, key), 1);
    EVP_PKEY_free(back);

    /* Method 1: SHA-1 of the subjectPublicKey bits, as OpenSSL's "hash" SKI computes it. */
    uint8_t id[AVOW_KEY_ID_LEN];
    OK(avow_spki_key_id(key, id, NULL));
    TU_NO_OSSL_ERR();
    X509 *cert = tu_cert_issue("kid", key, NULL, key, 1, 0);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
    assert_non_null(ski);
    assert_int_equal(ASN1_STRING_length(ski), AVOW_KEY_ID_LEN);
    assert_memory_equal(ASN1_STRING_get0_data(ski), id, AVOW_KEY_ID_LEN);

    avow_buf der = {0};
    OK(avow_cert_der(cert, &der, NULL));
    unsigned char *cd = NULL;
    int n = i2d_X509(cert, &cd);
    assert_int_equal(der.len, (size_t)n);
    assert_memory_equal(der.ptr, cd, der.len);
    OPENSSL_free(cd);
    avow_buf_free(&der);
    X509_free(cert);
    avow_buf_free(&want);
    avow_buf_free(&spki);
}

static void test_key_types(void **state)
{
    (void)state;
    EVP_PKEY *keys[] = {tu_key_ec("P-256"), tu_key_ec("P-384"), tu_key_ec("P-521"),
                        tu_key_rsa(2048), tu_key_ed25519()};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        check_key(keys[i]);
        EVP_PKEY_free(keys[i]);
    }
}

/* A public-only key gives the same SPKI and key id as its private key. */
static void test_public_only(void **state)
{
    (void)state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf a = {0}, b = {0};
    OK(avow_spki_der(key, &a, NULL));
    const unsigned char *p = a.ptr;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)a.len);
    assert_non_null(pub);
    OK(avow_spki_der(pub, &b, NULL));
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ptr, b.ptr, a.len);
    uint8_t k1[AVOW_KEY_ID_LEN], k2[AVOW_KEY_ID_LEN];
    OK(avow_spki_key_id(key, k1, NULL));
    OK(avow_spki_key_id(pub, k2, NULL));
    assert_memory_equal(k1, k2, sizeof(k1));
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    avow_buf_free(&a);
    avow_buf_free(&b);
}

/* The keyId avow_evidence_sign writes for a certificate-less signer is this key id. */
static void test_evidence_key_id(void **state)
{
    (void)state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(key, AVOW_SIGALG_ECDSA_SHA256, &s, NULL));
    avow_profile p;
    avow_profile_default(&p);
    avow_evidence *ev = NULL;
    OK(avow_evidence_new(&p, &ev));
    static const char claims[] = "{\"platform\":{\"vendor\":\"Acme\"}}";
    OK(avow_evidence_add_claims_json(ev, claims, sizeof(claims) - 1, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_KEYID, NULL));
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    uint8_t id[AVOW_KEY_ID_LEN];
    OK(avow_spki_key_id(key, id, NULL));
    /* keyId [0] EXPLICIT OCTET STRING inside the SignerIdentifier: A0 16 04 14 <id>. */
    int found = 0;
    for (size_t i = 0; i + 4 + sizeof(id) <= der.len && !found; i++)
        found = der.ptr[i] == 0xa0 && der.ptr[i + 1] == 2 + sizeof(id) && der.ptr[i + 2] == 0x04 &&
                der.ptr[i + 3] == sizeof(id) && memcmp(der.ptr + i + 4, id, sizeof(id)) == 0;
    assert_true(found);
    avow_buf_free(&der);
    avow_evidence_free(ev);
    avow_signer_free(s);
    EVP_PKEY_free(key);
}

/*
 * RFC 5280 4.2.1.2 method 1 and RFC 7093 section 2 methods 1-4, computed
 * here from the DER with plain EVP digests, for every key type.
 */
static void test_key_id_methods(void **state)
{
    (void)state;
    static const struct {
        avow_key_id_method m;
        const char *md;
        int whole_spki;
        size_t len;
        const char *name;
    } rows[] = {
        {AVOW_KEY_ID_RFC5280, "SHA1", 0, 20, "rfc5280"},
        {AVOW_KEY_ID_RFC7093_SHA256, "SHA256", 0, 20, "rfc7093-sha256"},
        {AVOW_KEY_ID_RFC7093_SHA384, "SHA384", 0, 20, "rfc7093-sha384"},
        {AVOW_KEY_ID_RFC7093_SHA512, "SHA512", 0, 20, "rfc7093-sha512"},
        {AVOW_KEY_ID_RFC7093_SPKI_SHA256, "SHA256", 1, 32, "rfc7093-spki-sha256"},
        {AVOW_KEY_ID_RFC7093_SPKI_SHA384, "SHA384", 1, 48, "rfc7093-spki-sha384"},
        {AVOW_KEY_ID_RFC7093_SPKI_SHA512, "SHA512", 1, 64, "rfc7093-spki-sha512"},
    };
    assert_int_equal(sizeof(rows) / sizeof(rows[0]), AVOW_KEY_ID_METHOD_COUNT_);
    EVP_PKEY *keys[] = {tu_key_ec("P-256"), tu_key_ec("P-384"), tu_key_rsa(2048), tu_key_ed25519()};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        avow_buf spki = tu_spki(keys[k]);
        X509_PUBKEY *xpk = NULL;
        const unsigned char *bits = NULL;
        int nbits = 0;
        assert_int_equal(X509_PUBKEY_set(&xpk, keys[k]), 1);
        assert_int_equal(X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, xpk), 1);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            uint8_t want[EVP_MAX_MD_SIZE], got[AVOW_KEY_ID_MAX_LEN];
            unsigned int wl = 0;
            size_t gl = 0;
            EVP_MD *md = EVP_MD_fetch(NULL, rows[i].md, NULL);
            assert_non_null(md);
            if (rows[i].whole_spki)
                assert_int_equal(EVP_Digest(spki.ptr, spki.len, want, &wl, md, NULL), 1);
            else
                assert_int_equal(EVP_Digest(bits, (size_t)nbits, want, &wl, md, NULL), 1);
            EVP_MD_free(md);
            OK(avow_spki_key_id_by(keys[k], rows[i].m, got, &gl, NULL));
            assert_int_equal(gl, rows[i].len);
            assert_memory_equal(got, want, gl); /* the leftmost bytes when truncated */
            assert_string_equal(avow_key_id_method_name(rows[i].m), rows[i].name);
        }
        /* Method 1 is avow_spki_key_id. */
        uint8_t a[AVOW_KEY_ID_LEN], b[AVOW_KEY_ID_MAX_LEN];
        size_t bl;
        OK(avow_spki_key_id(keys[k], a, NULL));
        OK(avow_spki_key_id_by(keys[k], AVOW_KEY_ID_RFC5280, b, &bl, NULL));
        assert_memory_equal(a, b, sizeof(a));
        TU_NO_OSSL_ERR();
        X509_PUBKEY_free(xpk);
        avow_buf_free(&spki);
        EVP_PKEY_free(keys[k]);
    }
    avow_diag d;
    uint8_t out[AVOW_KEY_ID_MAX_LEN];
    size_t n;
    EVP_PKEY *key = tu_key_ec("P-256");
    assert_int_equal(avow_spki_key_id_by(NULL, AVOW_KEY_ID_RFC5280, out, &n, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_spki_key_id_by(key, AVOW_KEY_ID_RFC5280, out, NULL, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_spki_key_id_by(key, AVOW_KEY_ID_METHOD_COUNT_, out, &n, &d),
                     AVOW_ERR_ARG);
    assert_string_equal(d.field, "method");
    assert_null(avow_key_id_method_name(AVOW_KEY_ID_METHOD_COUNT_));
    EVP_PKEY *empty = EVP_PKEY_new();
    assert_int_equal(avow_spki_key_id_by(empty, AVOW_KEY_ID_RFC5280, out, &n, &d), AVOW_ERR_CRYPTO);
    TU_NO_OSSL_ERR();
    EVP_PKEY_free(empty);
    EVP_PKEY_free(key);
}

static void test_misuse(void **state)
{
    (void)state;
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf out = {0};
    uint8_t id[AVOW_KEY_ID_LEN];
    assert_int_equal(avow_spki_der(NULL, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_spki_key_id(NULL, id, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_cert_der(NULL, &out, &d), AVOW_ERR_ARG);
    EVP_PKEY *key = tu_key_ec("P-256");
    assert_int_equal(avow_spki_der(key, NULL, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_spki_key_id(key, NULL, &d), AVOW_ERR_ARG);
    /* A key object without a key in it cannot be encoded: an error, the queue drained. */
    EVP_PKEY *empty = EVP_PKEY_new();
    assert_non_null(empty);
    assert_int_equal(avow_spki_der(empty, &out, &d), AVOW_ERR_CRYPTO);
    assert_string_equal(d.field, "spki");
    assert_null(out.ptr);
    TU_NO_OSSL_ERR();
    assert_int_equal(avow_spki_key_id(empty, id, &d), AVOW_ERR_CRYPTO);
    TU_NO_OSSL_ERR();
    EVP_PKEY_free(empty);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_types),       cmocka_unit_test(test_public_only),
        cmocka_unit_test(test_evidence_key_id), cmocka_unit_test(test_key_id_methods),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
