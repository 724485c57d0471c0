/*
 * A library built with AVOW_WITH_PKCS11=OFF: every avow_p11_* call exists,
 * fails with AVOW_ERR_UNSUPPORTED and says why, clears its out parameters,
 * and the calls that need no token still work. Skipped (77) in a build with
 * PKCS#11, where test_pkcs11 runs instead.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <avow/pkcs11.h>

#define OFF_TEXT "avow was built without PKCS#11 (AVOW_WITH_PKCS11=OFF)"

static void expect_off(avow_err rc, const avow_diag *d)
{
    assert_int_equal(rc, AVOW_ERR_UNSUPPORTED);
    assert_int_equal(d->code, AVOW_ERR_UNSUPPORTED);
    assert_string_equal(d->detail, OFF_TEXT);
    assert_string_equal(d->field, "pkcs11");
}

static void test_every_call_says_why(void **state)
{
    (void)state;
    avow_diag d;
    avow_diag_clear(&d);
    avow_p11_module *m = (avow_p11_module *)&d; /* any non-NULL value: must be cleared */
    avow_p11_session *s = (avow_p11_session *)&d;
    avow_p11_handle h = 42, h2 = 43;
    avow_buf b = {(uint8_t *)&d, 1}, b2 = {(uint8_t *)&d, 1};
    EVP_PKEY *pk = (EVP_PKEY *)&d;
    X509 *x = (X509 *)&d;
    avow_signer *sg = (avow_signer *)&d;

    expect_off(avow_p11_module_load("/usr/lib/softhsm/libsofthsm2.so", &m, &d), &d);
    assert_null(m);
    expect_off(avow_p11_session_open(NULL, "pkcs11:", 0, &s, &d), &d);
    assert_null(s);
    s = (avow_p11_session *)&d;
    expect_off(avow_p11_open("softhsm2", "pkcs11:token=t", "pass:1", AVOW_P11_LOGIN, &s, &d), &d);
    assert_null(s);
    expect_off(avow_p11_login(NULL, "1234", &d), &d);
    expect_off(avow_p11_pin_resolve("pkcs11:pin-value=1", NULL, &b, &d), &d);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    b.ptr = (uint8_t *)&d;
    expect_off(avow_p11_uri_get_object("pkcs11:object=k", &b, &b2, &d), &d);
    assert_null(b.ptr);
    assert_null(b2.ptr);
    b.ptr = (uint8_t *)&d;
    expect_off(avow_p11_uri_format_object("pkcs11:token=t", "k", NULL, 0, &b, &d), &d);
    assert_null(b.ptr);
    expect_off(avow_p11_find_object(NULL, "pkcs11:object=k", 3, &h, &d), &d);
    assert_int_equal(h, 0);
    h = 42;
    expect_off(avow_p11_find_key(NULL, "pkcs11:object=k", &h, &d), &d);
    assert_int_equal(h, 0);
    expect_off(avow_p11_get1_pubkey(NULL, 1, &pk, &d), &d);
    assert_null(pk);
    expect_off(avow_p11_get1_cert(NULL, 1, &x, &d), &d);
    assert_null(x);
    avow_evidence *ev = NULL;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    size_t idx = 0;
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &idx, NULL), AVOW_OK);
    expect_off(avow_p11_add_platform_claims(NULL, ev, idx, &d), &d);
    expect_off(avow_p11_add_key_claims(NULL, 1, ev, NULL, &d), &d);
    expect_off(avow_p11_add_key_claims_uri(NULL, "pkcs11:object=k", ev, NULL, &d), &d);
    assert_int_equal(avow_evidence_element_count(ev), 1);
    avow_evidence_free(ev);
    expect_off(avow_p11_signer_new(NULL, 1, AVOW_SIGALG_NONE, &sg, &d), &d);
    assert_null(sg);
    avow_p11_keygen_params p;
    avow_p11_keygen_params_init(&p);
    h = 42;
    expect_off(avow_p11_keygen(NULL, &p, &h, &h2, &d), &d);
    assert_int_equal(h, 0);
    assert_int_equal(h2, 0);
    /* NULL out parameters and diag are fine too. */
    assert_int_equal(avow_p11_module_load("x", NULL, NULL), AVOW_ERR_UNSUPPORTED);
    assert_int_equal(avow_p11_keygen(NULL, NULL, NULL, NULL, NULL), AVOW_ERR_UNSUPPORTED);
    avow_p11_module_free(NULL);
    avow_p11_session_free(NULL);
    TU_NO_OSSL_ERR();
}

static void test_token_free_calls_work(void **state)
{
    (void)state;
    /* Redaction needs no token: what the library prints stays free of PINs. */
    char buf[128];
    size_t n = avow_p11_uri_redact("pkcs11:token=ca;object=k?pin-value=1234", 0, buf, sizeof(buf));
    assert_string_equal(buf, "pkcs11:token=ca;object=k");
    assert_int_equal(n, strlen(buf));
    avow_p11_keygen_params p;
    memset(&p, 0x5a, sizeof(p));
    avow_p11_keygen_params_init(&p);
    assert_int_equal(p.size, sizeof(p));
    assert_int_equal(p.type, AVOW_P11_KEY_EC_P256);
    assert_int_equal(p.sensitive, 1);
    assert_null(p.label);
}

static void test_signer_open(void **state)
{
    (void)state;
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    o.pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
    o.pin_source = "pass:1234";
    avow_signer *sg = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    expect_off(avow_signer_open("pkcs11:token=t;object=k", &o, &sg, &d), &d);
    assert_null(sg);
    /* Without a module the build is still the reason given. */
    o.pkcs11_module = NULL;
    expect_off(avow_signer_open("pkcs11:token=t;object=k", &o, &sg, &d), &d);
}

int main(void)
{
    if (AVOW_WITH_PKCS11) {
        printf("SKIP: built with PKCS#11 (test_pkcs11 covers it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_call_says_why),
        cmocka_unit_test(test_token_free_calls_work),
        cmocka_unit_test(test_signer_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
