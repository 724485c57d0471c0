/*
 * The one escaping of text for people (avow_escape_text, core/escape.c) and
 * the text views that use it: a hostile claim value, certificate name or
 * detail must reach a terminal as inert text, in `evidence show` and
 * `evidence verify` alike, while printable input prints as before.
 */
#include "testutil.h"

#include <string.h>

#include <openssl/x509v3.h>

#include "core/escape.h"

static const struct {
    const char *what;
    const char *in;
    size_t len; /* 0: strlen(in) */
    unsigned flags;
    const char *out;
} CASES[] = {
    {"printable ASCII", "Acme Corp 9000-X", 0, 0, "Acme Corp 9000-X"},
    {"UTF-8 text", "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x94\x91", 0, 0,
     "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x94\x91"},
    {"ESC sequence", "a\x1b[2Jb", 0, 0, "a\\x1b[2Jb"},
    {"CR LF forge a line", "ok\r\nEvidence: TRUSTED", 0, 0, "ok\\x0d\\x0aEvidence: TRUSTED"},
    {"TAB and BEL", "\t\a", 0, 0, "\\x09\\x07"},
    {"NUL does not cut", "a\0b", 3, 0, "a\\x00b"},
    {"DEL", "\x7f", 0, 0, "\\x7f"},
    {"C1 CSI as UTF-8",
     "\xc2\x9b"
     "31m",
     0, 0,
     "\\xc2\\x9b"
     "31m"},
    {"NEL", "\xc2\x85", 0, 0, "\\xc2\\x85"},
    {"right-to-left override",
     "abc\xe2\x80\xae"
     "fed",
     0, 0,
     "abc\\xe2\\x80\\xae"
     "fed"},
    {"right-to-left isolate", "\xe2\x81\xa7", 0, 0, "\\xe2\\x81\\xa7"},
    {"line separator", "\xe2\x80\xa8", 0, 0, "\\xe2\\x80\\xa8"},
    {"arabic letter mark", "\xd8\x9c", 0, 0, "\\xd8\\x9c"},
    {"lone 8-bit byte", "\xff", 0, 0, "\\xff"},
    {"bare C1 byte", "\x9b", 0, 0, "\\x9b"},
    {"over-long slash", "\xc0\xaf", 0, 0, "\\xc0\\xaf"},
    {"surrogate", "\xed\xa0\x80", 0, 0, "\\xed\\xa0\\x80"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 0, 0, "\\xf4\\x90\\x80\\x80"},
    {"cut sequence, then text",
     "\xe2\x82"
     "A",
     0, 0,
     "\\xe2\\x82"
     "A"},
    {"quotes stay outside quotes", "say \"hi\" \\o/", 0, 0, "say \"hi\" \\o/"},
    {"quotes escaped inside quotes", "say \"hi\" \\o/", 0, AVOW_ESCAPE_QUOTED,
     "say \\\"hi\\\" \\\\o/"},
    {"empty", "", 0, 0, ""},
};

static void test_escape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        size_t len = CASES[i].len != 0 ? CASES[i].len : strlen(CASES[i].in);
        avow_buf out = {0};
        assert_int_equal(avow_escape_text((const uint8_t *)CASES[i].in, len, CASES[i].flags, &out),
                         AVOW_OK);
        if (out.len != strlen(CASES[i].out) || strcmp((char *)out.ptr, CASES[i].out) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", CASES[i].what, (char *)out.ptr, CASES[i].out);
        /* What comes out is printable ASCII or harmless UTF-8: never a control byte. */
        for (size_t k = 0; k < out.len; k++)
            assert_false(out.ptr[k] < 0x20 || out.ptr[k] == 0x7f);
        avow_buf_free(&out);
    }
    avow_buf out = {0};
    assert_int_equal(avow_escape_text(NULL, 1, 0, &out), AVOW_ERR_ARG);
    assert_int_equal(avow_escape_text(NULL, 0, 0, &out), AVOW_OK);
    assert_int_equal(out.len, 0);
    assert_string_equal((char *)out.ptr, "");
    avow_buf_free(&out);
}

/* A fixed buffer is cut between units, never inside an escape; the need is reported. */
static void test_escape_buf_cut(void **state)
{
    (void)state;
    char buf[8];
    size_t need = avow__escape_str("ab\x1b\x1b", 0, buf, sizeof(buf));
    assert_int_equal(need, 10);
    assert_string_equal(buf, "ab\\x1b"); /* the second \x1b (4 more) does not fit in 8 */
    need = avow__escape_str("abc", 0, buf, 4);
    assert_int_equal(need, 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(avow__escape_str("abc", 0, buf, 3), 3);
    assert_string_equal(buf, "ab");
}

/* Evidence whose claims and signer name try to drive the terminal. */
static const char VENDOR[] = "Acme\x1b[2J\r\nEvidence: TRUSTED\0hidden";
#define VENDOR_LEN (sizeof(VENDOR) - 1)
static const char SERIAL[] = "SN-1\xe2\x80\xae"
                             "evil";

static avow_evidence *hostile_evidence(tu_pki *pki)
{
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    size_t pl = 0;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL), AVOW_OK);
    avow_value v = {
        .type = AVOW_VALUE_UTF8, .present = 1, .bytes = {(const uint8_t *)VENDOR, VENDOR_LEN}};
    avow_err rc = avow_evidence_add_claim(ev, pl, AVOW_CLAIM_VENDOR, &v, &d);
    if (rc != AVOW_OK)
        fail_msg("vendor: %s %s", d.field, d.detail);
    assert_int_equal(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_HWSERIAL, SERIAL, &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_intermediate(ev, pki->inter, NULL), AVOW_OK);
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(pki->ak_key, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    assert_int_equal(avow_signer_set1_cert(s, pki->ak, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d), AVOW_OK);
    avow_signer_free(s);
    return ev;
}

/* No byte of the text may be a C0 control other than the line ends the format writes. */
static void assert_inert(const avow_buf *text)
{
    for (size_t k = 0; k < text->len; k++) {
        uint8_t c = text->ptr[k];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            fail_msg("control byte 0x%02x at %zu", c, k);
        if (c == 0xc2 && k + 1 < text->len && text->ptr[k + 1] >= 0x80 && text->ptr[k + 1] <= 0x9f)
            fail_msg("C1 control at %zu", k);
        if (c == 0xe2 && k + 2 < text->len && text->ptr[k + 1] == 0x80 && text->ptr[k + 2] == 0xae)
            fail_msg("bidi override at %zu", k);
    }
    assert_int_equal(strlen((char *)text->ptr), text->len); /* no NUL cuts it short */
}

static void test_result_text_escapes(void **state)
{
    (void)state;
    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    /* A signer certificate with an ESC and a C1 CSI in its subject. */
    X509 *evil = X509_dup(pki.ak);
    X509_NAME *n = X509_NAME_new();
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)"AK\x1b]0;pwned\a\xc2\x9b",
                                                -1, -1, 0),
                     1);
    assert_int_equal(X509_set_subject_name(evil, n), 1);
    X509_NAME_free(n);
    assert_true(X509_sign(evil, pki.int_key, EVP_sha256()) > 0);
    X509_free(pki.ak);
    pki.ak = evil;

    avow_evidence *ev = hostile_evidence(&pki);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, pki.ca, NULL), AVOW_OK);
    avow_evidence_result *r = NULL;
    assert_int_equal(avow_verify_evidence(v, ev, NULL, &r, NULL), AVOW_OK);
    avow_buf text = {0}, shown = {0};
    assert_int_equal(avow_evidence_result_to_text(r, &text), AVOW_OK);
    assert_inert(&text);
    const char *t = (const char *)text.ptr;
    /* The verdict is the first line, and the forged one is inside the quoted value. */
    assert_true(strncmp(t, "Evidence: TRUSTED\n", 18) == 0);
    assert_null(strstr(t + 1, "\nEvidence: "));
    const char *want_vendor =
        "    platform[0].vendor = \"Acme\\x1b[2J\\x0d\\x0aEvidence: TRUSTED\\x00hidden\"\n";
    if (strstr(t, want_vendor) == NULL)
        fail_msg("vendor line missing in:\n%s", t);
    assert_non_null(strstr(t, "    platform[0].hwserial = \"SN-1\\xe2\\x80\\xae"
                              "evil\"\n"));
    assert_non_null(
        strstr(t, "\\x1B]0;pwned\\x07\\xC2\\x9B")); /* X509_NAME_oneline's own escapes */
    /* avow evidence show writes the same value the same way. */
    assert_int_equal(avow_evidence_to_text(ev, &shown), AVOW_OK);
    assert_inert(&shown);
    assert_non_null(strstr((char *)shown.ptr,
                           "UTF8String: \"Acme\\x1b[2J\\x0d\\x0aEvidence: TRUSTED\\x00hidden\""));
    assert_non_null(strstr((char *)shown.ptr, "\\xc2\\x9b")); /* the RFC 2253 name's C1 byte */
    TU_NO_OSSL_ERR();
    avow_buf_free(&text);
    avow_buf_free(&shown);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    tu_pki_free(&pki);
}

/* Printable input prints exactly as the CLI printed it before the text moved here. */
static void test_result_text_format(void **state)
{
    (void)state;
    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    size_t tr = 0, pl = 0, key = 0;
    static const uint8_t nonce[] = {1, 2, 3, 4};
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tr, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_NONCE, nonce, 4, &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme \"Corp\"", &d),
                     AVOW_OK);
    assert_int_equal(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 3, &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "k1", &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_EXTRACTABLE, 0, &d), AVOW_OK);
    assert_int_equal(
        avow_evidence_add_time(ev, key, AVOW_CLAIM_KEY_EXPIRY, tu_utc(2030, 1, 2, 3, 4, 5), &d),
        AVOW_OK);
    assert_int_equal(avow_evidence_add_intermediate(ev, pki.inter, NULL), AVOW_OK);
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(pki.ak_key, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    assert_int_equal(avow_signer_set1_cert(s, pki.ak, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d), AVOW_OK);
    avow_signer_free(s);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, pki.ca, NULL), AVOW_OK);
    avow_verify_opts o = {sizeof(avow_verify_opts), nonce, 4, 0, NULL};
    avow_evidence_result *r = NULL;
    assert_int_equal(avow_verify_evidence(v, ev, &o, &r, NULL), AVOW_OK);
    avow_buf text = {0};
    assert_int_equal(avow_evidence_result_to_text(r, &text), AVOW_OK);
    static const char want[] =
        "Evidence: TRUSTED\n"
        "Nonce: matches the expected nonce\n"
        "Signature [0]: OK\n"
        "    signer: certificate, algorithm: ecdsa-sha256, key: certificate\n"
        "    subject: /O=avow tests/CN=Test AK\n"
        "    chain:   /O=avow tests/CN=Test Intermediate CA\n"
        "    chain:   /O=avow tests/CN=Test Root CA\n"
        "    ak-spki: no ak-spki claim\n"
        "Claims (6):\n"
        "    transaction[0].nonce = 01020304\n"
        "    platform[1].vendor = \"Acme \\\"Corp\\\"\"\n"
        "    platform[1].fipslevel = 3\n"
        "    key[2].identifier = \"k1\"\n"
        "    key[2].extractable = false\n"
        "    key[2].expiry = 2030-01-02T03:04:05Z\n";
    if (strncmp((char *)text.ptr, want, sizeof(want) - 1) != 0)
        fail_msg("got:\n%s", (char *)text.ptr);
    avow_buf_free(&text);
    avow_evidence_result_free(r);
    /* A failed signature says why; the reason line is escaped like the rest. */
    avow_verifier_free(v);
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verify_evidence(v, ev, &o, &r, NULL), AVOW_ERR_CHAIN);
    assert_int_equal(avow_evidence_result_to_text(r, &text), AVOW_OK);
    assert_non_null(strstr((char *)text.ptr, "Evidence: NOT TRUSTED\nReason: "));
    assert_non_null(strstr((char *)text.ptr, "Signature [0]: FAILED (AVOW_ERR_CHAIN)\n"));
    assert_non_null(strstr((char *)text.ptr, "    reason: certificate chain: "));
    assert_non_null(strstr((char *)text.ptr, "  (not covered by a verified signature)\n"));
    avow_buf_free(&text);
    assert_int_equal(avow_evidence_result_to_text(NULL, &text), AVOW_ERR_ARG);
    assert_null(text.ptr);
    assert_int_equal(avow_evidence_result_to_text(r, NULL), AVOW_ERR_ARG);
    TU_NO_OSSL_ERR();
    avow_buf_free(&text);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    tu_pki_free(&pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_buf_cut),
        cmocka_unit_test(test_result_text_escapes),
        cmocka_unit_test(test_result_text_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
