/*
 * Names from people (avow/x509.h): distinguished names in RFC 4514 text
 * (reversed into DER, escapes, multi-valued RDNs, "#hex") and OpenSSL's
 * slash form, and subjectAltName lists; hostile text refused with the
 * reason named; a request's subjectAltName extension read strictly.
 */
#include "testutil.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <avow/request.h>
#include <avow/x509.h>

static X509_NAME *parse_ok(const char *text)
{
    X509_NAME *n = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_name_parse(text, &n, &d);
    if (rc != AVOW_OK)
        print_error("%s: %s: %s\n", text, d.field, d.detail);
    assert_int_equal(rc, AVOW_OK);
    assert_non_null(n);
    TU_NO_OSSL_ERR();
    return n;
}

static void name_text_is(const X509_NAME *n, const char *want)
{
    avow_buf t = {0};
    OK(avow_name_text(n, &t));
    if (strcmp((const char *)t.ptr, want) != 0)
        print_error("got \"%s\", want \"%s\"\n", (const char *)t.ptr, want);
    assert_string_equal((const char *)t.ptr, want);
    avow_buf_free(&t);
}

/* The DER of the name in a as in b. */
static void same_der(const X509_NAME *a, const X509_NAME *b)
{
    unsigned char *da = NULL, *db = NULL;
    int la = i2d_X509_NAME(a, &da), lb = i2d_X509_NAME(b, &db);
    assert_true(la > 0);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, (size_t)la);
    OPENSSL_free(da);
    OPENSSL_free(db);
}

static void test_name_order(void **state)
{
    (void)state;
    X509_NAME *n = parse_ok("CN=host.example,O=Acme,C=SE");
    /* RFC 4514 text is most specific first: the DER starts with C. */
    assert_int_equal(X509_NAME_entry_count(n), 3);
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 0))),
                     NID_countryName);
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 2))),
                     NID_commonName);
    name_text_is(n, "CN=host.example,O=Acme,C=SE");
    char *one = X509_NAME_oneline(n, NULL, 0);
    assert_string_equal(one, "/C=SE/O=Acme/CN=host.example");
    OPENSSL_free(one);
    /* The same name in OpenSSL's slash form (DER order) and with spaces and lower case. */
    X509_NAME *slash = parse_ok("/C=SE/O=Acme/CN=host.example");
    X509_NAME *loose = parse_ok("  cn = host.example , o=Acme,   c=SE");
    X509_NAME *oid = parse_ok("2.5.4.3=host.example,OID.2.5.4.10=Acme,countryName=SE");
    same_der(n, slash);
    same_der(n, loose);
    same_der(n, oid);
    X509_NAME_free(n);
    X509_NAME_free(slash);
    X509_NAME_free(loose);
    X509_NAME_free(oid);
}

static void test_name_escapes(void **state)
{
    (void)state;
    struct {
        const char *text, *cn;
    } cases[] = {
        {"CN=Acme\\, Inc.", "Acme, Inc."},
        {"CN=a\\+b\\=c\\;d\\<e\\>\\\"f\\\\g\\#", "a+b=c;d<e>\"f\\g#"},
        {"CN=\\41\\42c", "ABc"},
        {"CN=caf\\C3\\A9", "caf\xc3\xa9"},
        {"CN=caf\xc3\xa9", "caf\xc3\xa9"},
        {"CN=\\ lead", " lead"},
        {"CN=trail\\ ", "trail "},
        {"CN=trail  ", "trail"},
        {"CN=a=b", "a=b"},
        {"CN=#0c03616263", "abc"},
        {"/CN=a\\/b,c", "a/b,c"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509_NAME *n = parse_ok(cases[i].text);
        assert_int_equal(X509_NAME_entry_count(n), 1);
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, 0));
        assert_int_equal((size_t)ASN1_STRING_length(v), strlen(cases[i].cn));
        assert_memory_equal(ASN1_STRING_get0_data(v), cases[i].cn, strlen(cases[i].cn));
        X509_NAME_free(n);
    }
    /* The text avow prints reads back to the same name. */
    X509_NAME *n = parse_ok("CN=a\\,b\\+c,O=x");
    avow_buf t = {0};
    OK(avow_name_text(n, &t));
    X509_NAME *back = parse_ok((const char *)t.ptr);
    same_der(n, back);
    avow_buf_free(&t);
    X509_NAME_free(back);
    X509_NAME_free(n);
}

static void test_name_multi_valued(void **state)
{
    (void)state;
    X509_NAME *n = parse_ok("CN=a+UID=7,O=b");
    assert_int_equal(X509_NAME_entry_count(n), 3);
    /* O is its own RDN (set 0); CN and UID share the next one. */
    assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 0)), 0);
    assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 1)), 1);
    assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 2)), 1);
    /* In OpenSSL's slash form '+' is text, as `openssl req -subj` reads it by default. */
    X509_NAME *slash = parse_ok("/O=b/CN=a+UID=7");
    assert_int_equal(X509_NAME_entry_count(slash), 2);
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(slash, 1));
    assert_int_equal(ASN1_STRING_length(v), 7);
    assert_memory_equal(ASN1_STRING_get0_data(v), "a+UID=7", 7);
    X509_NAME_free(n);
    X509_NAME_free(slash);
}

static void bad_name(const char *text, avow_err code, const char *part)
{
    X509_NAME *n = (X509_NAME *)1;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_name_parse(text, &n, &d);
    if (rc != code || strstr(d.detail, part) == NULL)
        print_error("%s: %d %s: %s (want \"%s\")\n", text, rc, d.field, d.detail, part);
    assert_int_equal(rc, code);
    assert_null(n);
    assert_string_equal(d.field, "subject");
    assert_non_null(strstr(d.detail, part));
    TU_NO_OSSL_ERR();
}

static void test_name_hostile(void **state)
{
    (void)state;
    bad_name("", AVOW_ERR_BAD_DN, "empty name");
    bad_name("   ", AVOW_ERR_BAD_DN, "empty name");
    bad_name("/", AVOW_ERR_BAD_DN, "empty name");
    bad_name("CN", AVOW_ERR_BAD_DN, "attribute 1 (CN): no '=' after the type");
    bad_name("=x", AVOW_ERR_BAD_DN, "no type before '='");
    bad_name("C N=x", AVOW_ERR_BAD_DN, "type is not a name or OID");
    bad_name("CN=", AVOW_ERR_BAD_DN, "attribute 1 (CN): empty value");
    bad_name("CN=   ", AVOW_ERR_BAD_DN, "empty value");
    bad_name("CN=a,", AVOW_ERR_BAD_DN, "nothing after the last ','");
    bad_name("CN=a+", AVOW_ERR_BAD_DN, "nothing after the last '+'");
    bad_name("CN=a+  ", AVOW_ERR_BAD_DN, "nothing after the last '+'");
    bad_name("/CN=a/", AVOW_ERR_BAD_DN, "nothing after the last '/'");
    bad_name("CN=a,,O=b", AVOW_ERR_BAD_DN, "attribute 2");
    bad_name("CN=a;O=b", AVOW_ERR_BAD_DN, "unescaped ';'");
    bad_name("CN=\"quoted\"", AVOW_ERR_BAD_DN, "unescaped '\"'");
    bad_name("CN=a<b", AVOW_ERR_BAD_DN, "unescaped '<'");
    bad_name("CN=a\\q", AVOW_ERR_BAD_DN, "bad escape \"\\q\"");
    bad_name("CN=a\\", AVOW_ERR_BAD_DN, "bad escape");
    bad_name("CN=a\\4", AVOW_ERR_BAD_DN, "bad escape");
    bad_name("CN=a,XX=b", AVOW_ERR_BAD_DN, "attribute 2 (XX): unknown attribute type");
    bad_name("CN=a,1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26=b",
             AVOW_ERR_BAD_DN, "type too long");
    bad_name("CN=a,9.9.9=b", AVOW_ERR_BAD_DN, "unknown attribute type");
    bad_name("C=SWE", AVOW_ERR_BAD_DN, "attribute C: value not allowed");
    bad_name("CN=\\00", AVOW_ERR_BAD_DN, "not UTF-8 or holds a NUL");
    bad_name("CN=\\C3", AVOW_ERR_BAD_DN, "not UTF-8");
    bad_name("CN=\\C0\\80", AVOW_ERR_BAD_DN, "not UTF-8");     /* overlong NUL */
    bad_name("CN=\\ED\\A0\\80", AVOW_ERR_BAD_DN, "not UTF-8"); /* a surrogate */
    bad_name("CN=\xff", AVOW_ERR_BAD_DN, "not UTF-8");
    bad_name("CN=#zz", AVOW_ERR_BAD_DN, "hex pairs of DER");
    bad_name("CN=#0401ff", AVOW_ERR_BAD_DN, "not the DER of one ASN.1 string");
    bad_name("CN=#0c0261", AVOW_ERR_BAD_DN, "not the DER of one ASN.1 string");
    bad_name("CN=#0c816161", AVOW_ERR_BAD_DN, "not the DER"); /* long form for a short length */
    bad_name("CN=#0c00", AVOW_ERR_BAD_DN, "empty value");
    bad_name("CN=#0c0161 x", AVOW_ERR_BAD_DN, "hex pairs of DER");
    /* ub-common-name is 64 */
    char cn[80] = "CN=";
    memset(cn + 3, 'a', 65);
    cn[68] = 0;
    bad_name(cn, AVOW_ERR_BAD_DN, "attribute CN: value not allowed");
    /* ceilings */
    size_t big = AVOW_NAME_MAX_TEXT + 8;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memcpy(huge, "CN=", 3);
    memset(huge + 3, 'a', big - 3);
    huge[big] = 0;
    bad_name(huge, AVOW_ERR_TOO_LARGE, "longer than");
    size_t used = 0;
    for (unsigned i = 0; i <= AVOW_NAME_MAX_ATTRS; i++)
        used += (size_t)snprintf(huge + used, big + 1 - used, "%sOU=%u", i ? "," : "", i);
    bad_name(huge, AVOW_ERR_TOO_LARGE, "more than 64 attributes");
    free(huge);
    X509_NAME *n = NULL;
    assert_int_equal(avow_name_parse(NULL, &n, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_name_parse("CN=a", NULL, NULL), AVOW_ERR_ARG);
    avow_buf t = {0};
    assert_int_equal(avow_name_text(NULL, &t), AVOW_ERR_ARG);
}

static GENERAL_NAMES *sans_ok(const char *text)
{
    GENERAL_NAMES *g = GENERAL_NAMES_new();
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_san_parse(text, g, &d);
    if (rc != AVOW_OK)
        print_error("%s: %s: %s\n", text, d.field, d.detail);
    assert_int_equal(rc, AVOW_OK);
    TU_NO_OSSL_ERR();
    return g;
}

static void sans_text_is(const GENERAL_NAMES *g, const char *want)
{
    avow_buf t = {0};
    OK(avow_san_text(g, &t));
    if (strcmp((const char *)t.ptr, want) != 0)
        print_error("got \"%s\", want \"%s\"\n", (const char *)t.ptr, want);
    assert_string_equal((const char *)t.ptr, want);
    avow_buf_free(&t);
}

static void test_san_good(void **state)
{
    (void)state;
    GENERAL_NAMES *g = sans_ok("DNS:host.example, IP:192.0.2.1,ip:2001:db8::1,"
                               "URI:https://host.example/a\\,b?q=%20#f,email:ops+tls@example.com");
    assert_int_equal(sk_GENERAL_NAME_num(g), 5);
    const GENERAL_NAME *ip4 = sk_GENERAL_NAME_value(g, 1), *ip6 = sk_GENERAL_NAME_value(g, 2);
    assert_int_equal(ip4->type, GEN_IPADD);
    assert_int_equal(ASN1_STRING_length(ip4->d.iPAddress), 4);
    assert_memory_equal(ASN1_STRING_get0_data(ip4->d.iPAddress), "\xc0\x00\x02\x01", 4);
    assert_int_equal(ASN1_STRING_length(ip6->d.iPAddress), 16);
    sans_text_is(g, "DNS:host.example, IP:192.0.2.1, IP:2001:db8::1, "
                    "URI:https://host.example/a,b?q=%20#f, email:ops+tls@example.com");
    for (int i = 0; i < sk_GENERAL_NAME_num(g); i++)
        OK(avow_san_check(sk_GENERAL_NAME_value(g, i), NULL));
    assert_int_equal(avow_san_kind(sk_GENERAL_NAME_value(g, 0)), AVOW_SAN_DNS);
    assert_int_equal(avow_san_kind(ip6), AVOW_SAN_IP);
    assert_int_equal(avow_san_kind(sk_GENERAL_NAME_value(g, 3)), AVOW_SAN_URI);
    assert_int_equal(avow_san_kind(sk_GENERAL_NAME_value(g, 4)), AVOW_SAN_EMAIL);
    /* A second list appends. */
    OK(avow_san_parse("DNS:*.wild.example,DNS:localhost,DNS:xn--caf-dma.example", g, NULL));
    assert_int_equal(sk_GENERAL_NAME_num(g), 8);
    assert_int_equal(avow_san_kind(sk_GENERAL_NAME_value(g, 5)), AVOW_SAN_DNS | AVOW_SAN_WILDCARD);
    GENERAL_NAMES_free(g);
    unsigned k = 0;
    OK(avow_san_kinds_parse("dns,IP,email", &k, NULL));
    assert_int_equal(k, AVOW_SAN_DNS | AVOW_SAN_IP | AVOW_SAN_EMAIL);
    OK(avow_san_kinds_parse("all", &k, NULL));
    assert_int_equal(k, AVOW_SAN_ALL);
    OK(avow_san_kinds_parse("none", &k, NULL));
    assert_int_equal(k, 0);
    avow_diag d;
    assert_int_equal(avow_san_kinds_parse("dns,ftp", &k, &d), AVOW_ERR_ARG);
    assert_non_null(strstr(d.detail, "\"ftp\""));
    assert_int_equal(avow_san_kinds_parse("dns,", &k, &d), AVOW_ERR_ARG);
}

static void bad_san(const char *text, avow_err code, const char *field, const char *part)
{
    GENERAL_NAMES *g = GENERAL_NAMES_new();
    /* One good name already in the list: an error leaves it as it was. */
    OK(avow_san_parse("DNS:before.example", g, NULL));
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_san_parse(text, g, &d);
    if (rc != code || strstr(d.detail, part) == NULL || strcmp(d.field, field) != 0)
        print_error("%s: %d %s: %s (want %s \"%s\")\n", text, rc, d.field, d.detail, field, part);
    assert_int_equal(rc, code);
    assert_string_equal(d.field, field);
    assert_non_null(strstr(d.detail, part));
    assert_int_equal(sk_GENERAL_NAME_num(g), 1);
    GENERAL_NAMES_free(g);
    TU_NO_OSSL_ERR();
}

static void test_san_hostile(void **state)
{
    (void)state;
    bad_san("", AVOW_ERR_BAD_SAN, "san", "empty list");
    bad_san("DNS:a.example,", AVOW_ERR_BAD_SAN, "san", "empty entry");
    bad_san("DNS:a.example,,DNS:b.example", AVOW_ERR_BAD_SAN, "san", "empty entry");
    bad_san("host.example", AVOW_ERR_BAD_SAN, "san[1]", "want DNS:, IP:, URI: or email:");
    bad_san("FTP:x", AVOW_ERR_BAD_SAN, "san[1]", "want DNS:");
    bad_san("DNS:a\\b", AVOW_ERR_BAD_SAN, "san", "'\\' must be followed by ',' or '\\'");
    bad_san("DNS:", AVOW_ERR_BAD_SAN, "san[1]", "empty DNS name");
    bad_san("DNS:a..b", AVOW_ERR_BAD_SAN, "san[1]", "empty label");
    bad_san("DNS:.a.b", AVOW_ERR_BAD_SAN, "san[1]", "empty label");
    bad_san("DNS:a.b.", AVOW_ERR_BAD_SAN, "san[1]", "ends with '.'");
    bad_san("DNS:-a.b", AVOW_ERR_BAD_SAN, "san[1]", "starts or ends with '-'");
    bad_san("DNS:a-.b", AVOW_ERR_BAD_SAN, "san[1]", "starts or ends with '-'");
    bad_san("DNS:a_b.c", AVOW_ERR_BAD_SAN, "san[1]", "other than letters, digits");
    bad_san("DNS:a b.c", AVOW_ERR_BAD_SAN, "san[1]", "a space, a control");
    bad_san("DNS:caf\xc3\xa9.example", AVOW_ERR_BAD_SAN, "san[1]", "outside printable ASCII");
    bad_san("DNS:1.2.3.4", AVOW_ERR_BAD_SAN, "san[1]", "all-digit label");
    bad_san("DNS:*", AVOW_ERR_BAD_SAN, "san[1]", "'*' is allowed only as the whole first label");
    bad_san("DNS:a*.b.c", AVOW_ERR_BAD_SAN, "san[1]", "whole first label");
    bad_san("DNS:*.*.b.c", AVOW_ERR_BAD_SAN, "san[1]", "whole first label");
    bad_san("DNS:a.*.c", AVOW_ERR_BAD_SAN, "san[1]", "whole first label");
    bad_san("DNS:*.com", AVOW_ERR_BAD_SAN, "san[1]", "two labels after");
    char label[100] = "DNS:";
    memset(label + 4, 'a', 64);
    memcpy(label + 68, ".b", 3);
    bad_san(label, AVOW_ERR_BAD_SAN, "san[1]", "label longer than 63");
    char longname[300] = "DNS:";
    for (int i = 0; i < 64; i++)
        memcpy(longname + 4 + 4 * i, "abc.", 4);
    memcpy(longname + 4 + 256, "de", 3);
    bad_san(longname, AVOW_ERR_BAD_SAN, "san[1]", "longer than 253");
    bad_san("IP:1.2.3", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4 or IPv6 address");
    bad_san("IP:1.2.3.4.5", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("IP:256.1.1.1", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("IP:10.0.0.0/8", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("IP:::g", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("IP:fe80::1%eth0", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("IP: 1.2.3.4", AVOW_ERR_BAD_SAN, "san[1]", "not an IPv4");
    bad_san("URI:https", AVOW_ERR_BAD_SAN, "san[1]", "no ':' after its scheme");
    bad_san("URI:1http://x", AVOW_ERR_BAD_SAN, "san[1]", "does not start with a scheme");
    bad_san("URI::x", AVOW_ERR_BAD_SAN, "san[1]", "does not start with a scheme");
    bad_san("URI:http:", AVOW_ERR_BAD_SAN, "san[1]", "nothing after its scheme");
    bad_san("URI:http://a b", AVOW_ERR_BAD_SAN, "san[1]", "a space, a control");
    bad_san("URI:http://a\"b", AVOW_ERR_BAD_SAN, "san[1]", "RFC 3986 does not allow");
    bad_san("URI:http://a%zz", AVOW_ERR_BAD_SAN, "san[1]", "'%' in URI not followed");
    bad_san("URI:http://a%4", AVOW_ERR_BAD_SAN, "san[1]", "'%' in URI not followed");
    bad_san("email:ops.example.com", AVOW_ERR_BAD_SAN, "san[1]", "no '@'");
    bad_san("email:a@b@c.example", AVOW_ERR_BAD_SAN, "san[1]", "more than one '@'");
    bad_san("email:@c.example", AVOW_ERR_BAD_SAN, "san[1]", "empty local part");
    bad_san("email:a..b@c.example", AVOW_ERR_BAD_SAN, "san[1]", "holds '..'");
    bad_san("email:.a@c.example", AVOW_ERR_BAD_SAN, "san[1]", "starts or ends with '.'");
    bad_san("email:a(b)@c.example", AVOW_ERR_BAD_SAN, "san[1]", "outside RFC 5322 atext");
    bad_san("email:a@-c.example", AVOW_ERR_BAD_SAN, "san[1]", "domain is not a DNS name");
    bad_san("email:a@*.c.example", AVOW_ERR_BAD_SAN, "san[1]", "domain is not a DNS name");
    bad_san("email:a@", AVOW_ERR_BAD_SAN, "san[1]", "domain is not a DNS name");
    bad_san("DNS:ok.example,IP:x", AVOW_ERR_BAD_SAN, "san[2]", "IP:x");
    /* the count ceiling */
    char many[AVOW_SAN_MAX * 16];
    size_t used = 0;
    for (unsigned i = 0; i < AVOW_SAN_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used, "%sDNS:h%u.ex", i ? "," : "", i);
    bad_san(many, AVOW_ERR_TOO_LARGE, "san", "more than 64 names");
    GENERAL_NAMES *g = GENERAL_NAMES_new();
    assert_int_equal(avow_san_parse(NULL, g, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_san_parse("DNS:a.b", NULL, NULL), AVOW_ERR_ARG);
    GENERAL_NAMES_free(g);
}

/* Decoded names a request could carry: IA5 bytes a text list cannot give. */
static void test_san_check_decoded(void **state)
{
    (void)state;
    struct {
        int type;
        const char *bytes;
        int len;
        avow_err code;
        const char *part;
    } cases[] = {
        {GEN_DNS, "a\0.example", 10, AVOW_ERR_BAD_SAN, "a space, a control"},
        {GEN_DNS, "a.example", 9, AVOW_OK, ""},
        {GEN_URI, "http://a\x7f", 9, AVOW_ERR_BAD_SAN, "outside printable ASCII"},
        {GEN_EMAIL, "a@b\x80.c", 6, AVOW_ERR_BAD_SAN, "outside printable ASCII"},
        {GEN_IPADD, "\x0a\x00\x00\x00\xff\x00\x00\x00", 8, AVOW_ERR_BAD_SAN, "not 4 or 16 bytes"},
        {GEN_IPADD, "\x0a\x00\x00\x01", 4, AVOW_OK, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *s =
            cases[i].type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
        assert_int_equal(ASN1_STRING_set(s, cases[i].bytes, cases[i].len), 1);
        GENERAL_NAME_set0_value(gn, cases[i].type, s);
        avow_diag d;
        avow_diag_clear(&d);
        assert_int_equal(avow_san_check(gn, &d), cases[i].code);
        assert_non_null(strstr(d.detail, cases[i].part));
        GENERAL_NAME_free(gn);
    }
    GENERAL_NAME *rid = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(rid, GEN_RID, OBJ_txt2obj("1.2.3", 1));
    avow_diag d;
    assert_int_equal(avow_san_check(rid, &d), AVOW_ERR_UNSUPPORTED);
    assert_non_null(strstr(d.detail, "registeredID"));
    assert_int_equal(avow_san_kind(rid), 0);
    GENERAL_NAMES *one = GENERAL_NAMES_new();
    sk_GENERAL_NAME_push(one, rid);
    sans_text_is(one, "registeredID:<unsupported>");
    GENERAL_NAMES_free(one);
}

/* A PKCS#10 request with the given extensions (no attestation), signed by key. */
static avow_request *csr_with(EVP_PKEY *key, STACK_OF(X509_EXTENSION) * exts)
{
    X509_REQ *req = X509_REQ_new();
    assert_non_null(req);
    assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
    assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                               (const unsigned char *)"x", -1, -1, 0);
    if (exts != NULL)
        assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
    assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int len = i2d_X509_REQ(req, &der);
    assert_true(len > 0);
    avow_request *r = NULL;
    OK(avow_request_decode(der, (size_t)len, AVOW_REQUEST_PKCS10, AVOW_REQUEST_ALLOW_NONE, &r,
                           NULL));
    OPENSSL_free(der);
    X509_REQ_free(req);
    return r;
}

static X509_EXTENSION *raw_san(const char *der, int len)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_int_equal(ASN1_OCTET_STRING_set(os, (const unsigned char *)der, len), 1);
    X509_EXTENSION *e = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0, os);
    ASN1_OCTET_STRING_free(os);
    assert_non_null(e);
    return e;
}

static void request_sans_fail(EVP_PKEY *key, STACK_OF(X509_EXTENSION) * exts, avow_err code,
                              const char *part)
{
    avow_request *r = csr_with(key, exts);
    GENERAL_NAMES *g = (GENERAL_NAMES *)1;
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_request_get1_sans(r, &g, &d), code);
    assert_null(g);
    assert_string_equal(d.field, "extensionRequest.subjectAltName");
    assert_non_null(strstr(d.detail, part));
    avow_request_free(r);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    TU_NO_OSSL_ERR();
}

static void test_request_sans(void **state)
{
    (void)state;
    EVP_PKEY *key = tu_key_ec("P-256");
    /* none */
    avow_request *r = csr_with(key, NULL);
    GENERAL_NAMES *g = (GENERAL_NAMES *)1;
    OK(avow_request_get1_sans(r, &g, NULL));
    assert_null(g);
    avow_request_free(r);
    /* one list, as openssl req writes it */
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *want = sans_ok("DNS:a.example,IP:::1");
    sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, want));
    r = csr_with(key, exts);
    OK(avow_request_get1_sans(r, &g, NULL));
    sans_text_is(g, "DNS:a.example, IP:::1");
    GENERAL_NAMES_free(g);
    avow_request_free(r);
    /* twice */
    sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, want));
    request_sans_fail(key, exts, AVOW_ERR_DUP_ATTRIBUTE, "appears at 0 and 1");
    GENERAL_NAMES_free(want);
    /* not GeneralNames, empty, BER */
    exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, raw_san("\x04\x00", 2));
    request_sans_fail(key, exts, AVOW_ERR_MALFORMED, "not one GeneralNames");
    exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, raw_san("\x30\x00", 2));
    request_sans_fail(key, exts, AVOW_ERR_EMPTY, "no names");
    exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, raw_san("\x30\x81\x03\x82\x01\x61", 6));
    request_sans_fail(key, exts, AVOW_ERR_NOT_DER, "not DER");
    exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, raw_san("\x30\x03\x82\x01\x61\x00", 6));
    request_sans_fail(key, exts, AVOW_ERR_TRAILING, "not DER");
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_order),        cmocka_unit_test(test_name_escapes),
        cmocka_unit_test(test_name_multi_valued), cmocka_unit_test(test_name_hostile),
        cmocka_unit_test(test_san_good),          cmocka_unit_test(test_san_hostile),
        cmocka_unit_test(test_san_check_decoded), cmocka_unit_test(test_request_sans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
