/*
 * WIMSE tokens as built: the Workload Identifier grammar (each refusal
 * with its reason), a WIT and a WPT that verify as JWS with the claims
 * the drafts ask for, and the identifier policy's document and claim
 * names checked at load against the registry's vocabularies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <avow/profile.h>
#include <avow/registry.h>
#include <avow/wimse.h>

#include "testutil.h"

#define NOW ((int64_t)1800000000)

static void test_identifier(void **state)
{
    (void)state;
    static const char *const good[] = {"spiffe://example.org/ns/prod/sa/web",
                                       "wimse://td.example/a%2Fb/c", "spiffe://a_b-c.d/x~y"};
    static const char *const bad[] = {"spiffe:/example.org/x",
                                      "https://example.org/x",
                                      "spiffe://Example.org/x",
                                      "spiffe://example.org",
                                      "spiffe://example.org/",
                                      "spiffe://example.org/a//b",
                                      "spiffe://example.org/./a",
                                      "spiffe://example.org/a/..",
                                      "spiffe://example.org/a?q",
                                      "spiffe://example.org/a#f",
                                      "spiffe://user@example.org/a",
                                      "spiffe://example.org:443/a",
                                      "spiffe://.example.org/a",
                                      "spiffe://example..org/a",
                                      "spiffe://example.org/a%zz",
                                      "spiffe://example.org/a b",
                                      "example.org/a",
                                      ""};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        avow_buf td = {0};
        assert_int_equal(avow_wimse_identifier_check(good[i], strlen(good[i]), NULL, &td, NULL),
                         AVOW_OK);
        assert_non_null(td.ptr);
        avow_buf_free(&td);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = avow_wimse_identifier_check(bad[i], strlen(bad[i]), NULL, NULL, &d);
        if (rc != AVOW_ERR_WIMSE_IDENTIFIER)
            fail_msg("%s: %s", bad[i], avow_errname(rc));
        assert_string_equal(d.field, "sub");
        assert_true(d.detail[0] != '\0');
    }
    static const char *const only_wimse[] = {"wimse", NULL};
    assert_int_equal(avow_wimse_identifier_check(good[0], strlen(good[0]), only_wimse, NULL, NULL),
                     AVOW_ERR_WIMSE_IDENTIFIER);
}

static json_t *payload_of(const char *jws, EVP_PKEY *key, const char *typ)
{
    const char *typs[] = {typ, NULL};
    avow_jws_verify_opts vo;
    avow_jws_verify_opts_init(&vo);
    vo.typs = typs;
    vo.flags = AVOW_JWS_PAYLOAD_JSON;
    avow_jws *j = NULL;
    assert_int_equal(avow_jws_verify(jws, strlen(jws), key, &vo, &j, NULL), AVOW_OK);
    json_t *p = json_loads((const char *)avow_jws_get0_payload(j)->ptr, 0, NULL);
    avow_jws_free(j);
    assert_non_null(p);
    return p;
}

static void test_wit_wpt(void **state)
{
    (void)state;
    EVP_PKEY *ik = EVP_EC_gen("P-256"), *wk = EVP_EC_gen("P-384");
    avow_signer *is = NULL, *ws = NULL;
    assert_int_equal(avow_signer_new_pkey(ik, AVOW_SIGALG_NONE, &is, NULL), AVOW_OK);
    assert_int_equal(avow_signer_new_pkey(wk, AVOW_SIGALG_NONE, &ws, NULL), AVOW_OK);
    avow_wimse_issue_opts io;
    avow_wimse_issue_opts_init(&io);
    io.now = NOW;
    io.iss = "https://ids.example.org";
    avow_buf wit = {0}, wpt = {0};
    assert_int_equal(
        avow_wimse_wit_sign(is, "spiffe://example.org/w", wk, "a.b.c", &io, &wit, NULL), AVOW_OK);
    json_t *p = payload_of((const char *)wit.ptr, ik, "wit+jwt");
    assert_string_equal(json_string_value(json_object_get(p, "sub")), "spiffe://example.org/w");
    assert_int_equal(json_integer_value(json_object_get(p, "exp")), NOW + 3600);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(p, "cnf"), "jwk"), "alg")),
                        "ES384");
    assert_non_null(json_object_get(p, "ear_sha256"));
    assert_null(json_object_get(p, "ear"));
    json_decref(p);
    io.ttl = 86401;
    avow_buf x = {0};
    assert_int_equal(avow_wimse_wit_sign(is, "spiffe://example.org/w", wk, NULL, &io, &x, NULL),
                     AVOW_ERR_ARG);
    io.ttl = 0;
    assert_int_equal(avow_wimse_wit_sign(is, "https://example.org/w", wk, NULL, &io, &x, NULL),
                     AVOW_ERR_WIMSE_IDENTIFIER);

    avow_wimse_token_ref oth[] = {{"X-Custom-Token", "  abc "}};
    avow_wimse_wpt_opts po;
    avow_wimse_wpt_opts_init(&po);
    po.wit = (const char *)wit.ptr;
    po.aud = "https://svc.example.org/path";
    po.now = NOW;
    po.access_token = "tok";
    po.other_tokens = oth;
    po.n_other_tokens = 1;
    assert_int_equal(avow_wimse_wpt_sign(ws, &po, &wpt, NULL), AVOW_OK);
    p = payload_of((const char *)wpt.ptr, wk, "wpt+jwt");
    assert_int_equal(json_integer_value(json_object_get(p, "exp")), NOW + 60);
    assert_non_null(json_object_get(p, "wth"));
    assert_non_null(json_object_get(p, "ath"));
    assert_null(json_object_get(p, "tth"));
    assert_non_null(json_object_get(json_object_get(p, "oth"), "x-custom-token"));
    assert_true(strlen(json_string_value(json_object_get(p, "jti"))) >= 22);
    json_decref(p);
    po.ttl = 301;
    assert_int_equal(avow_wimse_wpt_sign(ws, &po, &x, NULL), AVOW_ERR_ARG);
    avow_buf_free(&wit);
    avow_buf_free(&wpt);
    avow_signer_free(is);
    avow_signer_free(ws);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(wk);
}

static void test_idmap_parse(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"identifiers\": []}",
        "{\"identifiers\": [{\"uri\": 1}]}",
        "{\"identifiers\": [{\"uri\": \"spiffe://a/b\", \"x\": 1}]}",
        "{\"identifiers\": [{\"uri\": \"spiffe://a/b\"}], \"other\": 1}",
        "{\"identifiers\": [{\"uri\": \"spiffe://a/b\", \"when\": {\"a\": 1}}]}",
        "{\"identifiers\": [{\"uri\": \"spiffe://a/b\"}], \"schemes\": [\"HTTP\"]}"};
    static const avow_err want[] = {
        AVOW_ERR_JSON,        AVOW_ERR_WIMSE_IDMAP, AVOW_ERR_WIMSE_IDMAP, AVOW_ERR_WIMSE_IDMAP,
        AVOW_ERR_WIMSE_IDMAP, AVOW_ERR_WIMSE_IDMAP, AVOW_ERR_WIMSE_IDMAP, AVOW_ERR_WIMSE_IDMAP};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_wimse_idmap *m = NULL;
        avow_err rc = avow_wimse_idmap_parse(bad[i], strlen(bad[i]), NULL, &m, NULL);
        if (rc != want[i])
            fail_msg("%s: %s", bad[i], avow_errname(rc));
        assert_null(m);
    }
    const char *good = "{\"identifiers\": [{\"when\": {\"pkix:hwmodel\": \"SoftHSM v2\"}, "
                       "\"uri\": \"spiffe://example.org/hsm/{hwserial}\"}], \"trust_domains\": "
                       "[\"example.org\"]}";
    avow_wimse_idmap *m = NULL;
    assert_int_equal(avow_wimse_idmap_parse(good, strlen(good), NULL, &m, NULL), AVOW_OK);
    avow_wimse_idmap_free(m);
}

/* A caller's statement type that only names its vocabulary: its claims are names rules may use. */
static const avow_vocab_element TOY_ELEMENTS[] = {{"toy", 0}};
static const avow_vocab_claim TOY_CLAIMS[] = {{"toy", "serial", AVOW_CV_TEXT, AVOW_TV_NONE, 0}};
static const avow_vocabulary TOY_VOCAB = {"toy", 1, TOY_ELEMENTS, 1, TOY_CLAIMS};

/* rule 1 of a two-rule policy: when (a claim name) and uri. */
static avow_err idmap_with(const char *when_name, const char *uri, const avow_registry *reg,
                           avow_diag *d)
{
    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\"identifiers\": [{\"when\": {\"pkix:hwmodel\": \"SoftHSM v2\"}, "
             "\"uri\": \"spiffe://example.org/a\"}, {\"when\": {\"%s\": \"x\"}, \"uri\": \"%s\"}]}",
             when_name, uri);
    avow_wimse_idmap *m = NULL;
    avow_diag_clear(d);
    avow_err rc = avow_wimse_idmap_parse(doc, strlen(doc), reg, &m, d);
    assert_true((rc == AVOW_OK) == (m != NULL));
    avow_wimse_idmap_free(m);
    return rc;
}

/*
 * The claim names of "when" and of "{claim}" are judged at load as the
 * appraisal policy's rules are: a refusal names the rule (its field) and
 * the claim; a caller's registry adds its vocabulary's names.
 */
static void test_idmap_vocabulary(void **state)
{
    (void)state;
    static const struct {
        const char *when, *uri, *why;
    } bad[] = {
        {"pkix:hwmodle", "spiffe://example.org/b", "its vocabulary has no such claim"},
        {"hwmodle", "spiffe://example.org/b", "no registered vocabulary has it"},
        {"nosuch:hwmodel", "spiffe://example.org/b", "no registered statement type"},
        {"tpm:hwmodel", "spiffe://example.org/b", "its vocabulary has no such claim"},
        {"hwmodel", "spiffe://example.org/{pkix:keyid}", "uri substitutes unknown claim"},
        {"hwmodel", "spiffe://example.org/{toy:serial}", "no registered statement type"},
        {"toy:serial", "spiffe://example.org/b", "no registered statement type"},
    };
    avow_diag d;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_err rc = idmap_with(bad[i].when, bad[i].uri, NULL, &d);
        if (rc != AVOW_ERR_WIMSE_IDMAP_CLAIM || strcmp(d.field, "idmap.identifiers[1]") != 0 ||
            strstr(d.detail, bad[i].why) == NULL)
            fail_msg("%s %s: %s %s: %s", bad[i].when, bad[i].uri, avow_errname(rc), d.field,
                     d.detail);
    }
    /* the message quotes the claim as written */
    assert_int_equal(idmap_with("pkix:hwmodle", "spiffe://example.org/b", NULL, &d),
                     AVOW_ERR_WIMSE_IDMAP_CLAIM);
    assert_non_null(strstr(d.detail, "\"pkix:hwmodle\""));
    /* known: prefixed, bare, another built-in vocabulary's, a dotted OID, substituted */
    static const char *const good[][2] = {
        {"pkix:hwmodel", "spiffe://example.org/{pkix:hwserial}"},
        {"hwmodel", "spiffe://example.org/{identifier}"},
        {"tpm:fixed-tpm", "spiffe://example.org/tpm/{tpm:tpm-name}"},
        {"1.3.6.1.4.1.99999.1.2", "spiffe://example.org/b"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (idmap_with(good[i][0], good[i][1], NULL, &d) != AVOW_OK)
            fail_msg("%s %s: %s %s", good[i][0], good[i][1], d.field, d.detail);
    /* a syntax fault of {claim} is the document's, not the vocabulary's */
    assert_int_equal(idmap_with("hwmodel", "spiffe://example.org/{pkix:keyid", NULL, &d),
                     AVOW_ERR_WIMSE_IDMAP);
    assert_int_equal(idmap_with("hwmodel", "spiffe://example.org/{}", NULL, &d),
                     AVOW_ERR_WIMSE_IDMAP);
    /* with the caller's registry its vocabulary's names load, the built-ins' still do */
    avow_registry *reg = NULL;
    assert_int_equal(avow_registry_new(&reg), AVOW_OK);
    avow_statement_type row = {.size = sizeof(avow_statement_type),
                               .name = "test-toy",
                               .oid_kind = AVOW_TYPE_OID_FIXED,
                               .vocab = &TOY_VOCAB};
    assert_int_equal(avow_oid_from_text(&row.oid, "1.3.6.1.4.1.99999.77"), AVOW_OK);
    assert_int_equal(avow_registry_add(reg, &row, NULL), AVOW_OK);
    assert_int_equal(idmap_with("toy:serial", "spiffe://example.org/{toy:serial}", reg, &d),
                     AVOW_OK);
    assert_int_equal(idmap_with("serial", "spiffe://example.org/{pkix:hwserial}", reg, &d),
                     AVOW_OK);
    assert_int_equal(idmap_with("toy:hwmodel", "spiffe://example.org/b", reg, &d),
                     AVOW_ERR_WIMSE_IDMAP_CLAIM);
    avow_registry_free(reg);
    /* the error has its name and text */
    assert_string_equal(avow_errname(AVOW_ERR_WIMSE_IDMAP_CLAIM), "AVOW_ERR_WIMSE_IDMAP_CLAIM");
    assert_int_equal(AVOW_ERR_WIMSE_IDMAP_CLAIM, 354);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifier),
        cmocka_unit_test(test_wit_wpt),
        cmocka_unit_test(test_idmap_parse),
        cmocka_unit_test(test_idmap_vocabulary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
