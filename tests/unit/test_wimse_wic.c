/*
 * The relying party's check of a WIC (avow_wimse_verify_wic): a certificate
 * with one URI subjectAltName that is a Workload Identifier, chained to the
 * verifier's anchors, passes; each variant that breaks one rule is refused
 * with its own code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include <avow/wimse.h>

#include "testutil.h"

static EVP_PKEY *root_key, *other_key, *leaf_key;
static X509 *root, *other_root;
static avow_verifier *v;

static int setup(void **state)
{
    (void)state;
    root_key = tu_key_ec("P-256");
    other_key = tu_key_ec("P-256");
    leaf_key = tu_key_ec("P-256");
    root = tu_cert_issue("WIC Root", root_key, NULL, root_key, 1, 0);
    other_root = tu_cert_issue("Other Root", other_key, NULL, other_key, 1, 0);
    return avow_verifier_new(NULL, &v) != AVOW_OK || avow_verifier_add_anchor(v, root, NULL);
}

static int teardown(void **state)
{
    (void)state;
    avow_verifier_free(v);
    X509_free(root);
    X509_free(other_root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(other_key);
    EVP_PKEY_free(leaf_key);
    return 0;
}

/* A leaf for leaf_key with the subjectAltName san ("URI:...,DNS:..."; NULL none), re-signed. */
static X509 *wic(const char *san, int ca, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = tu_cert_issue("workload", leaf_key, issuer, issuer_key, ca, TU_AK_NO_EKU);
    assert_non_null(x);
    if (san != NULL) {
        GENERAL_NAMES *gens = GENERAL_NAMES_new();
        assert_int_equal(avow_san_parse(san, gens, NULL), AVOW_OK);
        assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT),
                         1);
        GENERAL_NAMES_free(gens);
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    return x;
}

static avow_err check(X509 *x, const char *trust_domain, char *id, size_t idcap)
{
    avow_wimse_verify_opts o;
    avow_wimse_verify_opts_init(&o);
    o.trust_domain = trust_domain;
    avow_wimse_result *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_wimse_verify_wic(x, NULL, v, &o, &r, &d);
    assert_non_null(r);
    assert_int_equal(avow_wimse_result_status(r), rc);
    if (id != NULL && avow_wimse_result_identifier(r) != NULL)
        snprintf(id, idcap, "%s", avow_wimse_result_identifier(r));
    if (rc == AVOW_OK)
        assert_true(EVP_PKEY_eq(avow_wimse_result_get0_key(r), leaf_key) == 1);
    else
        assert_true(d.field[0] != '\0');
    avow_buf js = {0};
    assert_int_equal(avow_wimse_result_to_json(r, &js, NULL), AVOW_OK);
    assert_non_null(strstr((const char *)js.ptr, rc == AVOW_OK ? "\"wic\"" : "\"reason\""));
    avow_buf_free(&js);
    avow_wimse_result_free(r);
    X509_free(x);
    return rc;
}

static void test_wic(void **state)
{
    (void)state;
    char id[256] = "";
    assert_int_equal(
        check(wic("URI:spiffe://example.org/ns/w1,DNS:w1.example.org", 0, root, root_key),
              "example.org", id, sizeof(id)),
        AVOW_OK);
    assert_string_equal(id, "spiffe://example.org/ns/w1");

    /* One rule broken each. */
    assert_int_equal(
        check(wic("URI:spiffe://example.org/a,URI:spiffe://example.org/b", 0, root, root_key), NULL,
              NULL, 0),
        AVOW_ERR_WIMSE_WIC_SAN);
    assert_int_equal(check(wic("DNS:w1.example.org", 0, root, root_key), NULL, NULL, 0),
                     AVOW_ERR_WIMSE_WIC_SAN);
    assert_int_equal(check(wic(NULL, 0, root, root_key), NULL, NULL, 0), AVOW_ERR_WIMSE_WIC_SAN);
    assert_int_equal(check(wic("URI:https://example.org/w", 0, root, root_key), NULL, NULL, 0),
                     AVOW_ERR_WIMSE_IDENTIFIER);
    assert_int_equal(check(wic("URI:spiffe://example.org/w/", 0, root, root_key), NULL, NULL, 0),
                     AVOW_ERR_WIMSE_IDENTIFIER);
    assert_int_equal(
        check(wic("URI:spiffe://other.org/w", 0, root, root_key), "example.org", NULL, 0),
        AVOW_ERR_WIMSE_TRUST_DOMAIN);
    assert_int_equal(check(wic("URI:spiffe://example.org/w", 1, root, root_key), NULL, NULL, 0),
                     AVOW_ERR_WIMSE_WIC);
    assert_int_equal(
        check(wic("URI:spiffe://example.org/w", 0, other_root, other_key), NULL, NULL, 0),
        AVOW_ERR_CHAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_wic)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
