/*
 * A policy's required statement types, each a submod of its own when the
 * request lacks it: a type listed twice is refused when the policy is
 * parsed, and two long types that differ only near the end still make two
 * submods. Both once made every appraisal fail with AVOW_ERR_ARG ("no result
 * could be made"): the submod names were cut to 63 bytes, and avow_ear_build
 * refuses a name given twice.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <avow/appraise.h>
#include <avow/request.h>

static avow_request *make_request(const tu_pki *pki, EVP_PKEY *key)
{
    avow_evidence *ev = NULL;
    size_t k;
    OK(avow_evidence_new(NULL, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL));
    OK(avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "device-key", NULL));
    avow_buf spki = tu_spki(key);
    OK(avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, NULL));
    avow_buf_free(&spki);
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_SENSITIVE, 1, NULL));
    avow_signer *ak = NULL;
    OK(avow_signer_new_pkey(pki->ak_key, AVOW_SIGALG_NONE, &ak, NULL));
    OK(avow_signer_set1_cert(ak, pki->ak, NULL));
    OK(avow_evidence_sign(ev, ak, AVOW_SID_CERT, NULL));
    avow_signer_free(ak);
    avow_buf evder = {0};
    OK(avow_evidence_encode(ev, &evder));
    avow_evidence_free(ev);

    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=device", NULL));
    OK(avow_request_builder_add_evidence(b, NULL, evder.ptr, evder.len, NULL));
    avow_buf_free(&evder);
    OK(avow_request_builder_add_cert(b, pki->inter, NULL));
    avow_signer *sg = NULL;
    OK(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &sg, NULL));
    avow_buf der = {0};
    OK(avow_request_builder_sign(b, sg, &der, NULL));
    avow_signer_free(sg);
    avow_request_builder_free(b);
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, NULL));
    avow_buf_free(&der);
    return r;
}

static avow_err parse(const char *required, avow_policy **p, avow_diag *d)
{
    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\"name\": \"types\", \"statements\": {\"required\": [%s]}, \"rules\": "
             "[{\"id\": \"s\", \"claim\": \"sensitive\", \"equals\": true}]}",
             required);
    return avow_policy_parse(doc, strlen(doc), p, d);
}

static void test_type_listed_twice(void **state)
{
    (void)state;
    avow_policy *p = NULL;
    avow_diag d;
    assert_int_equal(parse("\"1.2.3.4\", \"pkix-evidence\", \"1.2.3.4\"", &p, &d),
                     AVOW_ERR_BAD_POLICY);
    assert_null(p);
    assert_string_equal(d.field, "statements.required[2]");
    TU_NO_OSSL_ERR();
}

/* Two required types of 63 bytes that differ in the last byte: both reported, by full name. */
static void test_long_types_stay_apart(void **state)
{
    (void)state;
    char t1[64], t2[64], list[160];
    memset(t1, 'a', 62);
    t1[62] = '1';
    t1[63] = '\0';
    memcpy(t2, t1, sizeof(t2));
    t2[62] = '2';
    snprintf(list, sizeof(list), "\"%s\", \"%s\"", t1, t2);
    avow_policy *p = NULL;
    OK(parse(list, &p, NULL));

    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    OK(avow_verifier_add_anchor(v, pki.ca, NULL));
    avow_request *r = make_request(&pki, key);
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .policy = p};
    avow_appraisal *a = NULL;
    avow_diag d;
    avow_err rc = avow_appraise_request(v, r, &o, &a, &d);
    if (rc != AVOW_ERR_NOT_AFFIRMING)
        fail_msg("appraisal: %s (%s: %s)", avow_errname(rc), d.field, d.detail);
    assert_non_null(a);
    assert_int_equal(avow_appraisal_get0_ear(a)->nsubmods, 3);
    const char *types[2] = {t1, t2};
    for (int t = 0; t < 2; t++) {
        char want[80];
        snprintf(want, sizeof(want), "required:%s", types[t]);
        size_t i = 0;
        while (i < avow_appraisal_get0_ear(a)->nsubmods &&
               strcmp(avow_appraisal_get0_ear(a)->submods[i].name, want) != 0)
            i++;
        if (i == avow_appraisal_get0_ear(a)->nsubmods)
            fail_msg("no submod %s", want);
        assert_int_equal(avow_appraisal_get0_ear(a)->submods[i].status, AVOW_TIER_CONTRAINDICATED);
    }
    TU_NO_OSSL_ERR();

    avow_appraisal_free(a);
    avow_request_free(r);
    avow_verifier_free(v);
    EVP_PKEY_free(key);
    tu_pki_free(&pki);
    avow_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_listed_twice),
        cmocka_unit_test(test_long_types_stay_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
