/*
 * What the store holds, written out by the library (the bytes `avow ca nonce
 * -json`, `ca list -json`, `ca show` print): an issued nonce as one JSON line,
 * a ledger row as JSON and as text with the subject escaped, the whole
 * ledger as a JSON array, and an EAR pretty-printed without being reread.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avow/ear.h>
#include <avow/ledger.h>
#include <avow/nonce.h>

static const uint8_t CERT[] = {0x30, 0x03, 0x02, 0x01, 0x05};
#define HEX_AA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_BB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static avow_issuance row(const char *serial, const char *subject)
{
    avow_issuance r;
    memset(&r, 0, sizeof(r));
    snprintf(r.serial, sizeof(r.serial), "%s", serial);
    r.subject = subject;
    memset(r.spki_sha256, 0xaa, sizeof(r.spki_sha256));
    memset(r.request_sha256, 0xbb, sizeof(r.request_sha256));
    r.nonce[0] = 1;
    r.nonce[1] = 2;
    r.nonce_len = 2;
    r.issued = 1000;
    r.not_after = 2000;
    r.ear_json = "{\"ear_status\":\"affirming\",\"x\":[1,{\"b\":2,\"a\":1}]}";
    r.cert_der = CERT;
    r.cert_der_len = sizeof(CERT);
    return r;
}

static void expect_text(const avow_buf *b, const char *want)
{
    assert_non_null(b->ptr);
    assert_int_equal(b->len, strlen(want));
    assert_string_equal((const char *)b->ptr, want); /* NUL-terminated */
}

static void test_nonce_json(void **state)
{
    (void)state;
    uint8_t nonce[16];
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)(0xf0 + i);
    avow_buf out = {0};
    OK(avow_nonce_to_json(nonce, sizeof(nonce), tu_utc(2025, 1, 31, 12, 5, 0), 300, &out, NULL));
    expect_text(&out, "{\"expires\": \"2025-01-31T12:05:00Z\", \"nonce\": "
                      "\"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\", \"ttl\": 300}\n");
    avow_buf_free(&out);
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_nonce_to_json(NULL, 16, 0, 300, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_to_json(nonce, 0, 0, 300, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_to_json(nonce, AVOW_NONCE_MAX_LEN + 1, 0, 300, &out, &d),
                     AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_to_json(nonce, 16, 0, 300, NULL, &d), AVOW_ERR_ARG);
    if (sizeof(time_t) >= 8) {
        assert_int_equal(avow_nonce_to_json(nonce, 16, (time_t)AVOW_TIME_MAX + 1, 300, &out, &d),
                         AVOW_ERR_BAD_TIME);
        assert_null(out.ptr);
    }
}

static const char ROW_JSON[] = "{\n"
                               "  \"issued\": \"1970-01-01T00:16:40Z\",\n"
                               "  \"nonce\": \"0102\",\n"
                               "  \"not_after\": \"1970-01-01T00:33:20Z\",\n"
                               "  \"request_sha256\": \"" HEX_BB "\",\n"
                               "  \"serial\": \"0a1b\",\n"
                               "  \"spki_sha256\": \"" HEX_AA "\",\n"
                               "  \"subject\": \"CN=device 1,O=avow test\"\n"
                               "}\n";

static void test_issuance_json(void **state)
{
    (void)state;
    avow_issuance r = row("0a1b", "CN=device 1,O=avow test");
    avow_buf out = {0};
    OK(avow_issuance_to_json(&r, 0, &out, NULL));
    expect_text(&out, ROW_JSON);
    avow_buf_free(&out);
    OK(avow_issuance_to_json(&r, AVOW_ISSUANCE_JSON_FULL, &out, NULL));
    expect_text(&out, "{\n"
                      "  \"certificate\": \"-----BEGIN CERTIFICATE-----\\nMAMCAQU=\\n"
                      "-----END CERTIFICATE-----\\n\",\n"
                      "  \"ear\": {\n"
                      "    \"ear_status\": \"affirming\",\n"
                      "    \"x\": [\n"
                      "      1,\n"
                      "      {\n"
                      "        \"a\": 1,\n"
                      "        \"b\": 2\n"
                      "      }\n"
                      "    ]\n"
                      "  },\n"
                      "  \"issued\": \"1970-01-01T00:16:40Z\",\n"
                      "  \"nonce\": \"0102\",\n"
                      "  \"not_after\": \"1970-01-01T00:33:20Z\",\n"
                      "  \"request_sha256\": \"" HEX_BB "\",\n"
                      "  \"serial\": \"0a1b\",\n"
                      "  \"spki_sha256\": \"" HEX_AA "\",\n"
                      "  \"subject\": \"CN=device 1,O=avow test\"\n"
                      "}\n");
    avow_buf_free(&out);
    /* A damaged stored EAR is reported, not printed half. */
    avow_diag d;
    avow_diag_clear(&d);
    r.ear_json = "{\"ear_status\":";
    assert_int_equal(avow_issuance_to_json(&r, AVOW_ISSUANCE_JSON_FULL, &out, &d), AVOW_ERR_JSON);
    assert_string_equal(d.field, "ear");
    assert_null(out.ptr);
    assert_int_equal(avow_issuance_to_text(&r, &out, &d), AVOW_ERR_JSON);
    assert_null(out.ptr);
    assert_int_equal(avow_issuance_to_json(NULL, 0, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_issuance_to_json(&r, 0, NULL, &d), AVOW_ERR_ARG);
    r.cert_der = NULL;
    assert_int_equal(avow_issuance_to_json(&r, AVOW_ISSUANCE_JSON_FULL, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_issuance_to_text(&r, &out, &d), AVOW_ERR_ARG);
}

static void test_issuance_text(void **state)
{
    (void)state;
    /* The subject is the request's: escaped, so it cannot forge a line of its own. */
    avow_issuance r = row("0a1b", "CN=evil\x1b[2J\r\nserial: 00");
    avow_buf out = {0};
    OK(avow_issuance_to_text(&r, &out, NULL));
    expect_text(&out, "serial: 0a1b\n"
                      "subject: CN=evil\\x1b[2J\\x0d\\x0aserial: 00\n"
                      "issued: 1970-01-01T00:16:40Z\n"
                      "not_after: 1970-01-01T00:33:20Z\n"
                      "spki_sha256: " HEX_AA "\n"
                      "request_sha256: " HEX_BB "\n"
                      "nonce: 0102\n"
                      "\n"
                      "-----BEGIN CERTIFICATE-----\n"
                      "MAMCAQU=\n"
                      "-----END CERTIFICATE-----\n"
                      "\n"
                      "{\n"
                      "  \"ear_status\": \"affirming\",\n"
                      "  \"x\": [\n"
                      "    1,\n"
                      "    {\n"
                      "      \"a\": 1,\n"
                      "      \"b\": 2\n"
                      "    }\n"
                      "  ]\n"
                      "}\n");
    avow_buf_free(&out);
    /* JSON keeps the value itself (jansson escapes it for the JSON reader). */
    OK(avow_issuance_to_json(&r, 0, &out, NULL));
    assert_non_null(strstr((const char *)out.ptr, "\"CN=evil\\u001B[2J\\r\\nserial: 00\""));
    avow_buf_free(&out);
}

static void test_ledger_json(void **state)
{
    (void)state;
    char dir[] = "/tmp/avow-ledger-json-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/nonces.db", dir);
    avow_nonce_store *s = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    OK(avow_nonce_store_open_sqlite(path, &s, &d));
    avow_buf out = {0};
    OK(avow_ledger_to_json(s, &out, &d));
    expect_text(&out, "[]\n");
    avow_buf_free(&out);
    const char *serials[] = {"0a1b", "0c0d"};
    for (size_t i = 0; i < 2; i++) {
        avow_buf n = {0};
        OK(avow_nonce_issue(s, 16, 60, 1000, &n, &d));
        avow_issuance r = row(serials[i], "CN=device 1,O=avow test");
        memcpy(r.nonce, n.ptr, n.len);
        r.nonce_len = n.len;
        OK(avow_nonce_consume_record(s, n.ptr, n.len, 1001, &r, &d));
        avow_buf_free(&n);
    }
    OK(avow_ledger_to_json(s, &out, &d));
    const char *text = (const char *)out.ptr;
    assert_true(text[0] == '[' && text[out.len - 2] == ']' && text[out.len - 1] == '\n');
    const char *first = strstr(text, "\"serial\": \"0a1b\"");
    const char *second = strstr(text, "\"serial\": \"0c0d\"");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);          /* the order of issue */
    assert_null(strstr(text, "\"ear\"")); /* rows only */
    assert_null(strstr(text, "CERTIFICATE"));
    avow_buf_free(&out);
    assert_int_equal(avow_ledger_to_json(NULL, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_ledger_to_json(s, NULL, &d), AVOW_ERR_ARG);
    avow_nonce_store_free(s);
    unlink(path);
    rmdir(dir);
}

static void test_ear_pretty(void **state)
{
    (void)state;
    static const char ear[] = "{\"iat\":5,\"ear_status\":\"warning\",\"unknown\":{\"z\":null}}";
    avow_buf out = {0};
    OK(avow_ear_json_pretty(ear, sizeof(ear) - 1, &out, NULL));
    expect_text(&out, "{\n  \"ear_status\": \"warning\",\n  \"iat\": 5,\n  \"unknown\": {\n"
                      "    \"z\": null\n  }\n}\n");
    avow_buf_free(&out);
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_ear_json_pretty("{\"a\":1,\"a\":2}", 13, &out, &d), AVOW_ERR_JSON);
    assert_int_equal(avow_ear_json_pretty("{\"a\":", 5, &out, &d), AVOW_ERR_JSON);
    assert_null(out.ptr);
    assert_int_equal(avow_ear_json_pretty(NULL, 0, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_ear_json_pretty(ear, sizeof(ear) - 1, NULL, &d), AVOW_ERR_ARG);
    size_t big = AVOW_EAR_MAX_SIZE + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    assert_int_equal(avow_ear_json_pretty(huge, big, &out, &d), AVOW_ERR_TOO_LARGE);
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_json),    cmocka_unit_test(test_issuance_json),
        cmocka_unit_test(test_issuance_text), cmocka_unit_test(test_ledger_json),
        cmocka_unit_test(test_ear_pretty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
