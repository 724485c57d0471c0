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
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_public_only),
        cmocka_unit_test(test_evidence_key_id),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
