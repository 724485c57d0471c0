/*
 * Claims JSON in (avow_evidence_add_claims_json) and the JSON and text views
 * out: a table of refused documents with the error and JSON path each gives,
 * and the round trip hand-written -> printed -> rebuilt with identical tbs.
 */
#include "testutil.h"

#include <jansson.h>

#include <string.h>

static avow_evidence *fresh(void)
{
    avow_evidence *ev = NULL;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    return ev;
}

static const struct bad_case {
    const char *json;
    avow_err err;
    const char *field; /* the JSON path named in the diagnostic */
    const char *why;
} bad_cases[] = {
    {"[1]", AVOW_ERR_JSON, "json", "the document is not an object"},
    {"{\"platform\":", AVOW_ERR_JSON, "json", "not JSON"},
    {"{\"colour\":1}", AVOW_ERR_JSON, "colour", "unknown top-level member"},
    {"{\"platform\":{\"colour\":\"red\"}}", AVOW_ERR_JSON, "platform.colour", "unknown claim"},
    {"{\"platform\":{\"nonce\":\"x\"}}", AVOW_ERR_CLAIM_PLACE, "platform.nonce",
     "claim of another element"},
    {"{\"platform\":{\"fipsboot\":\"yes\"}}", AVOW_ERR_CLAIM_TYPE, "platform.fipsboot",
     "string for a BOOLEAN"},
    {"{\"platform\":{\"uptime\":1.5}}", AVOW_ERR_CLAIM_TYPE, "platform.uptime",
     "real for an INTEGER"},
    {"{\"platform\":{\"vendor\":7}}", AVOW_ERR_CLAIM_TYPE, "platform.vendor",
     "number for a UTF8String"},
    {"{\"platform\":{\"oemid\":{\"hex\":\"0g\"}}}", AVOW_ERR_JSON, "platform.oemid", "bad hex"},
    {"{\"platform\":{\"oemid\":{\"base64\":\"!!\"}}}", AVOW_ERR_JSON, "platform.oemid",
     "bad base64"},
    {"{\"platform\":{\"oemid\":{\"rot13\":\"x\"}}}", AVOW_ERR_JSON, "platform.oemid",
     "unknown byte encoding"},
    {"{\"platform\":{\"oemid\":{\"hex\":\"00\",\"base64\":\"AA==\"}}}", AVOW_ERR_CLAIM_TYPE,
     "platform.oemid", "two encodings"},
    {"{\"transaction\":{\"timestamp\":\"yesterday\"}}", AVOW_ERR_BAD_TIME, "transaction.timestamp",
     "not RFC 3339"},
    {"{\"transaction\":{\"timestamp\":\"2025-02-29T00:00:00Z\"}}", AVOW_ERR_BAD_TIME,
     "transaction.timestamp", "no such day"},
    {"{\"transaction\":{\"ak-spki\":\"auto\"}}", AVOW_ERR_ARG, "transaction.ak-spki",
     "auto without signer keys"},
    {"{\"transaction\":{\"timestamp\":\"0000-01-01T00:00:00+23:59\"}}", AVOW_ERR_CLAIM_VALUE,
     "transaction.timestamp", "before year 0000 in UTC"},
    {"{\"keys\":[{\"identifier\":\"k\",\"expiry\":\"9999-12-31T23:59:59-00:01\"}]}",
     AVOW_ERR_CLAIM_VALUE, "keys[0].expiry", "after year 9999 in UTC"},
    {"{\"transaction\":{\"ak-spki\":[]}}", AVOW_ERR_EMPTY, "transaction.ak-spki", "empty list"},
    {"{\"transaction\":{\"nonce\":{\"hex\":\"\"}}}", AVOW_ERR_CLAIM_VALUE, "transaction.nonce",
     "empty nonce"},
    {"{\"transaction\":{\"nonce\":\"\"}}", AVOW_ERR_CLAIM_VALUE, "transaction.nonce",
     "empty nonce as text"},
    {"{\"platform\":{\"hwmodel\":{\"base64\":\"\"}}}", AVOW_ERR_CLAIM_VALUE, "platform.hwmodel",
     "empty hwmodel"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[{\"name\":\"oemid\",\"value\":\"\"}]}]}",
     AVOW_ERR_CLAIM_VALUE, "elements[0].claims[0].value", "empty printed oemid"},
    {"{\"keys\":[{\"identifier\":\"k\",\"purpose\":[\"sign\",\"fly\"]}]}", AVOW_ERR_JSON,
     "keys[0].purpose[1]", "unknown capability"},
    {"{\"keys\":[{\"identifier\":\"k\",\"purpose\":\"sign\"}]}", AVOW_ERR_CLAIM_TYPE,
     "keys[0].purpose", "purpose not a list"},
    {"{\"keys\":[{}]}", AVOW_ERR_EMPTY, "keys[0]", "key element without claims"},
    {"{\"keys\":{\"identifier\":\"k\"}}", AVOW_ERR_JSON, "keys", "keys not an array"},
    {"{\"version\":2}", AVOW_ERR_VERSION, "version", "version other than 1"},
    {"{\"elements\":[{\"type\":\"vault\",\"claims\":[]}]}", AVOW_ERR_JSON, "elements[0].type",
     "unknown element type"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[]}]}", AVOW_ERR_EMPTY, "elements[0].claims",
     "element without claims"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[{\"name\":\"vendor\",\"type\":\"int\","
     "\"value\":\"A\"}]}]}",
     AVOW_ERR_CLAIM_TYPE, "elements[0].claims[0].type", "declared type differs"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[{\"name\":\"vendor\"}]}]}",
     AVOW_ERR_VALUE_MISSING, "elements[0].claims[0].value", "claim without value member"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[{\"name\":\"1.2.3\",\"value\":\"00\"}]}]}",
     AVOW_ERR_JSON, "elements[0].claims[0].name", "unknown claim cannot be rebuilt"},
    {"{\"elements\":[{\"type\":\"platform\",\"claims\":[{\"name\":\"hwmodel\",\"value\":\"HSM\"}]}]"
     "}",
     AVOW_ERR_JSON, "elements[0].claims[0].value", "printed bytes are hex"},
    {"{\"elements\":[{\"type\":\"platform\",\"extra\":1,\"claims\":[]}]}", AVOW_ERR_JSON,
     "elements[0].extra", "unknown element member"},
};

static void test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        avow_evidence *ev = fresh();
        avow_diag d;
        avow_diag_clear(&d);
        avow_err err = avow_evidence_add_claims_json(ev, c->json, strlen(c->json), &d);
        if (err != c->err || strcmp(d.field, c->field) != 0)
            fail_msg("%s: got %s at \"%s\" (%s), wanted %s at \"%s\"", c->why, avow_errname(err),
                     d.field, d.detail, avow_errname(c->err), c->field);
        TU_NO_OSSL_ERR();
        avow_evidence_free(ev);
    }
}

/* "now" and "auto" are resolved by the reader, from what the caller says. */
static void test_specials(void **state)
{
    (void)state;
    static const char doc[] = "{\"transaction\":{\"timestamp\":\"now\",\"ak-spki\":\"auto\"}}";
    static const char listed[] = "{\"elements\":[{\"type\":\"transaction\",\"claims\":["
                                 "{\"name\":\"timestamp\",\"value\":\"now\"},"
                                 "{\"name\":\"ak-spki\",\"value\":\"auto\"}]}]}";
    EVP_PKEY *k1 = tu_key_ec("P-256"), *k2 = tu_key_ed25519();
    avow_buf s1 = tu_spki(k1), s2 = tu_spki(k2);
    avow_view spkis[2] = {{s1.ptr, s1.len}, {s2.ptr, s2.len}};
    avow_claims_json_opts o;
    avow_claims_json_opts_init(&o);
    o.now_given = 1;
    o.now = tu_utc(2026, 12, 1, 12, 0, 0);
    o.nsigner_spkis = 2;
    o.signer_spkis = spkis;
    const char *docs[2] = {doc, listed};
    for (size_t i = 0; i < 2; i++) {
        avow_evidence *ev = fresh();
        OK(avow_evidence_add_claims_json_ex(ev, docs[i], strlen(docs[i]), &o, NULL));
        const avow_element *tx = avow_evidence_get0_element(ev, 0);
        assert_int_equal(tx->nclaims, 3);
        assert_int_equal(tx->claims[0].id, AVOW_CLAIM_TIMESTAMP);
        assert_int_equal(tx->claims[0].value.time, o.now);
        assert_int_equal(tx->claims[1].id, AVOW_CLAIM_AK_SPKI);
        assert_memory_equal(tx->claims[1].value.bytes.ptr, s1.ptr, s1.len);
        assert_memory_equal(tx->claims[2].value.bytes.ptr, s2.ptr, s2.len);
        avow_evidence_free(ev);
    }
    /* Without a time given, "now" is the clock's. */
    avow_evidence *ev = fresh();
    static const char nowdoc[] = "{\"transaction\":{\"timestamp\":\"now\"}}";
    time_t before = time(NULL);
    OK(avow_evidence_add_claims_json(ev, nowdoc, sizeof(nowdoc) - 1, NULL));
    time_t t = avow_evidence_get0_element(ev, 0)->claims[0].value.time;
    assert_true(t >= before && t <= time(NULL) + 1);
    avow_evidence_free(ev);
    avow_buf_free(&s1);
    avow_buf_free(&s2);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
}

/* The first and last second GeneralizedTime has, reached through an offset. */
static void test_time_edges(void **state)
{
    (void)state;
    const char *j = "{\"transaction\":{\"timestamp\":\"0000-01-01T23:59:00+23:59\"},"
                    "\"keys\":[{\"identifier\":\"k\",\"expiry\":\"9999-12-31T22:59:59-01:00\"}]}";
    avow_evidence *ev = fresh();
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err = avow_evidence_add_claims_json(ev, j, strlen(j), &d);
    if (err != AVOW_OK)
        fail_msg("%s: %s", d.field, d.detail);
    avow_buf json = {0};
    assert_int_equal(avow_evidence_to_json(ev, &json), AVOW_OK);
    assert_non_null(strstr((char *)json.ptr, "\"0000-01-01T00:00:00Z\""));
    assert_non_null(strstr((char *)json.ptr, "\"9999-12-31T23:59:59Z\""));
    avow_buf_free(&json);
    /* The builder refuses what GeneralizedTime cannot hold, with its own code. */
    avow_evidence_free(ev);
    size_t t = 0;
    ev = fresh();
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL), AVOW_OK);
    assert_int_equal(
        avow_evidence_add_time(ev, t, AVOW_CLAIM_TIMESTAMP, (time_t)-62167219201LL, &d),
        AVOW_ERR_CLAIM_VALUE);
    assert_string_equal(d.field, "timestamp");
    assert_int_equal(
        avow_evidence_add_time(ev, t, AVOW_CLAIM_TIMESTAMP, (time_t)-62167219200LL, &d), AVOW_OK);
    TU_NO_OSSL_ERR();
    avow_evidence_free(ev);
}

static const char hand[] =
    "{\"transaction\":{\"nonce\":{\"hex\":\"0102\"},\"timestamp\":\"2026-07-21T13:13:38+02:"
    "00\"},"
    "\"platform\":{\"vendor\":\"Acme\",\"hwmodel\":\"HSM-9000\",\"oemid\":{\"base64\":\"AQID\"}"
    ","
    "\"fipsboot\":true,\"fipslevel\":3,\"dbgstat\":1},"
    "\"keys\":[{\"identifier\":[\"k1\",\"k1-alias\"],\"extractable\":false,"
    "\"expiry\":\"2030-01-01T00:00:00Z\",\"purpose\":[\"sign\",\"derive\",\"1.2.3.4\"]}]}";

static void test_round_trip(void **state)
{
    (void)state;
    avow_diag d;
    avow_evidence *ev = fresh(), *again = fresh();
    avow_buf json = {0}, text = {0}, der1 = {0}, der2 = {0};
    assert_int_equal(avow_evidence_add_claims_json(ev, hand, strlen(hand), &d), AVOW_OK);
    assert_int_equal(avow_evidence_to_json(ev, &json), AVOW_OK);
    assert_non_null(strstr((char *)json.ptr, "\"value\": \"2026-07-21T11:13:38Z\""));
    assert_non_null(strstr((char *)json.ptr, "\"derive\""));
    assert_non_null(strstr((char *)json.ptr, "\"1.2.3.4\""));
    assert_int_equal(avow_evidence_add_claims_json(again, (char *)json.ptr, json.len, &d), AVOW_OK);
    assert_int_equal(avow_evidence_encode(ev, &der1), AVOW_OK);
    assert_int_equal(avow_evidence_encode(again, &der2), AVOW_OK);
    assert_int_equal(der1.len, der2.len);
    assert_memory_equal(der1.ptr, der2.ptr, der1.len);

    assert_int_equal(avow_evidence_to_text(ev, &text), AVOW_OK);
    assert_int_equal(strlen((char *)text.ptr), text.len);
    assert_non_null(strstr((char *)text.ptr, "48534d2d39303030 (\"HSM-9000\")"));
    assert_non_null(strstr((char *)text.ptr, "vendor ("));
    assert_non_null(strstr((char *)text.ptr, "UTF8String: \"Acme\""));
    assert_non_null(strstr((char *)text.ptr, "purpose ("));
    assert_non_null(strstr((char *)text.ptr, "sign, derive, 1.2.3.4"));
    assert_non_null(strstr((char *)text.ptr, "Signatures: 0 (unsigned)"));
    TU_NO_OSSL_ERR();
    avow_buf_free(&json);
    avow_buf_free(&text);
    avow_buf_free(&der1);
    avow_buf_free(&der2);
    avow_evidence_free(ev);
    avow_evidence_free(again);
}

/* Transaction and platform given twice join one element; a claim given twice does not. */
static void test_joins_elements(void **state)
{
    (void)state;
    avow_diag d;
    avow_evidence *ev = fresh();
    const char *a = "{\"platform\":{\"vendor\":\"Acme\"}}";
    const char *b = "{\"platform\":{\"hwserial\":\"SN1\"}}";
    assert_int_equal(avow_evidence_add_claims_json(ev, a, strlen(a), &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_claims_json(ev, b, strlen(b), &d), AVOW_OK);
    assert_int_equal(avow_evidence_element_count(ev), 1);
    assert_int_equal(avow_evidence_get0_element(ev, 0)->nclaims, 2);
    assert_int_not_equal(avow_evidence_add_claims_json(ev, a, strlen(a), &d), AVOW_OK);
    assert_string_equal(d.field, "platform.vendor");
    TU_NO_OSSL_ERR();
    avow_evidence_free(ev);
}

static void test_signed_views(void **state)
{
    (void)state;
    tu_pki p;
    tu_pki_make(&p, NULL, 0);
    avow_diag d;
    avow_signer *s = NULL;
    avow_evidence *ev = fresh();
    avow_buf json = {0}, text = {0};
    const char *c = "{\"platform\":{\"vendor\":\"Acme\"}}";
    assert_int_equal(avow_evidence_add_claims_json(ev, c, strlen(c), &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_intermediate(ev, p.inter, NULL), AVOW_OK);
    assert_int_equal(avow_signer_new_pkey(p.ak_key, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    assert_int_equal(avow_signer_set1_cert(s, p.ak, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d), AVOW_OK);
    assert_int_equal(avow_evidence_to_text(ev, &text), AVOW_OK);
    assert_non_null(strstr((char *)text.ptr, "Signer: certificate"));
    assert_non_null(strstr((char *)text.ptr, "Algorithm: ecdsa-sha256 (1.2.840.10045.4.3.2)"));
    assert_non_null(strstr((char *)text.ptr, "Intermediate certificates: 1"));
    assert_int_equal(avow_evidence_to_json(ev, &json), AVOW_OK);
    assert_non_null(strstr((char *)json.ptr, "\"sid\": \"cert\""));
    assert_non_null(strstr((char *)json.ptr, "\"intermediates\""));
    /* the printed document, signatures and all, is valid claims input */
    avow_evidence *again = fresh();
    assert_int_equal(avow_evidence_add_claims_json(again, (char *)json.ptr, json.len, &d), AVOW_OK);
    TU_NO_OSSL_ERR();
    avow_evidence_free(again);
    avow_buf_free(&json);
    avow_buf_free(&text);

    /* A second block whose SignerIdentifier holds all three fields: each is printed, and
     * the printed form still reads back as claims. */
    assert_int_equal(avow_evidence_sign_sid(ev, s, AVOW_SID_ALL, &d), AVOW_OK);
    assert_int_equal(avow_evidence_to_text(ev, &text), AVOW_OK);
    assert_non_null(strstr((char *)text.ptr, "[1] Signer: key id "));
    assert_non_null(strstr((char *)text.ptr, ", public key EC P-256 (256 bit), certificate\n"));
    assert_int_equal(avow_evidence_to_json(ev, &json), AVOW_OK);
    json_t *root = json_loads((const char *)json.ptr, 0, NULL);
    assert_non_null(root);
    json_t *sig = json_array_get(json_object_get(root, "signatures"), 1);
    assert_string_equal(json_string_value(json_object_get(sig, "sid")), "cert");
    json_t *fields = json_object_get(sig, "sidFields");
    assert_int_equal(json_array_size(fields), 3);
    assert_string_equal(json_string_value(json_array_get(fields, 0)), "keyid");
    assert_string_equal(json_string_value(json_array_get(fields, 1)), "spki");
    assert_string_equal(json_string_value(json_array_get(fields, 2)), "cert");
    assert_non_null(json_object_get(sig, "keyId"));
    assert_non_null(json_object_get(sig, "spki"));
    assert_non_null(json_object_get(sig, "certificate"));
    json_t *first =
        json_object_get(json_array_get(json_object_get(root, "signatures"), 0), "sidFields");
    assert_int_equal(json_array_size(first), 1);
    json_decref(root);
    again = fresh();
    assert_int_equal(avow_evidence_add_claims_json(again, (char *)json.ptr, json.len, &d), AVOW_OK);
    avow_evidence_free(again);
    TU_NO_OSSL_ERR();
    avow_buf_free(&json);
    avow_buf_free(&text);
    avow_signer_free(s);
    avow_evidence_free(ev);
    tu_pki_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_time_edges),     cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_joins_elements), cmocka_unit_test(test_signed_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
