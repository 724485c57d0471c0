/*
 * Media types (RFC 9110 grammar), the CMW codec (RFC 9999: JSON and CBOR
 * records, the CBOR tag form) with hostile inputs, the EAR a CMW carries,
 * and JWK sets (selection by kid and alg, refused members). The CBOR is
 * written out by hand so that the test does not trust the encoder it tests.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <avow/cmw.h>
#include <avow/ear.h>
#include <avow/jose.h>

/* --- media types --- */

static void test_media_type(void **state)
{
    (void)state;
    avow_diag d;
    avow_media_type *mt = NULL;
    const char *t = "  Application/EAT+JWT ;\teat_profile=\"tag:ietf.org,2026:rats/ear#03\";"
                    "Q=\"a\\\"b\\\\c\"; ;  charset=utf-8 ";
    OK(avow_media_type_parse(t, strlen(t), &mt, &d));
    assert_string_equal(mt->type, "application");
    assert_string_equal(mt->subtype, "eat+jwt");
    assert_int_equal(mt->nparams, 3);
    assert_true(avow_media_type_is(mt, "APPLICATION", "eat+JWT"));
    assert_string_equal(avow_media_type_param(mt, "EAT_PROFILE"), "tag:ietf.org,2026:rats/ear#03");
    assert_string_equal(avow_media_type_param(mt, "q"), "a\"b\\c");
    assert_string_equal(avow_media_type_param(mt, "charset"), "utf-8");
    assert_null(avow_media_type_param(mt, "x"));
    avow_media_type_free(mt);
    avow_media_type_free(NULL);

    static const struct {
        const char *text;
        avow_err want;
        const char *field;
    } bad[] = {
        {"", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"   ", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application/", AVOW_ERR_MEDIA_TYPE, "media-type.subtype"},
        {"/json", AVOW_ERR_MEDIA_TYPE, "media-type.type"},
        {"appli cation/json", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application/json x", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application/json; a", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a =1", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a= 1", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a=1; A=2", AVOW_ERR_MEDIA_TYPE, "media-type.params[1]"},
        {"application/json; a=\"1", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a=\"1\\", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a=x:y", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application/json; a=", AVOW_ERR_MEDIA_TYPE, "media-type.params[0]"},
        {"application/json; a=\"\xc3\xa9\"", AVOW_ERR_MEDIA_TYPE, "media-type"},
        {"application/json\r\n; a=1", AVOW_ERR_MEDIA_TYPE, "media-type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_diag_clear(&d);
        avow_err e = avow_media_type_parse(bad[i].text, strlen(bad[i].text), &mt, &d);
        if (e != bad[i].want || strcmp(d.field, bad[i].field) != 0)
            print_error("\"%s\": %s at %s (%s)\n", bad[i].text, avow_errname(e), d.field, d.detail);
        assert_int_equal(e, bad[i].want);
        assert_string_equal(d.field, bad[i].field);
        assert_null(mt);
    }
    /* an embedded NUL is not printable ASCII */
    assert_int_equal(avow_media_type_parse("a/b\0c", 5, &mt, &d), AVOW_ERR_MEDIA_TYPE);
    /* bounds */
    char big[AVOW_MEDIA_TYPE_MAX_LEN + 2];
    memset(big, 'a', sizeof(big));
    big[1] = '/';
    assert_int_equal(avow_media_type_parse(big, sizeof(big), &mt, &d), AVOW_ERR_TOO_LARGE);
    char many[512] = "a/b";
    for (unsigned i = 0; i <= AVOW_MEDIA_TYPE_MAX_PARAMS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), ";p%u=1", i);
    assert_int_equal(avow_media_type_parse(many, strlen(many), &mt, &d), AVOW_ERR_TOO_LARGE);

    /* the EAR's own judgement over media types and typ */
    assert_true(avow_ear_media_type_ok(AVOW_EAR_MEDIA_TYPE_JWT, strlen(AVOW_EAR_MEDIA_TYPE_JWT)));
    assert_true(avow_ear_media_type_ok("application/eat-jwt", 19));
    assert_false(avow_ear_media_type_ok("application/jwt", 15));
    assert_true(avow_ear_typ_ok(NULL));
    assert_true(avow_ear_typ_ok("JWT"));
    assert_true(avow_ear_typ_ok("eat+jwt; eat_profile=\"" AVOW_EAR_PROFILE_VERAISON "\""));
    assert_false(avow_ear_typ_ok("at+jwt"));
}

/* --- CMW --- */

static void roundtrip(avow_cmw_form form, uint32_t ind)
{
    avow_diag d;
    const char *jwt = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
    avow_buf enc = {0}, got = {0};
    OK(avow_cmw_encode(form, AVOW_EAR_MEDIA_TYPE_JWT, (const uint8_t *)jwt, strlen(jwt), ind, &enc,
                       &d));
    avow_cmw *c = NULL;
    OK(avow_cmw_decode(enc.ptr, enc.len, AVOW_CMW_FORM_AUTO, &c, &d));
    assert_int_equal(c->form, form);
    assert_string_equal(c->type, AVOW_EAR_MEDIA_TYPE_JWT);
    assert_int_equal(c->indicator, ind);
    assert_int_equal(c->value.len, strlen(jwt));
    assert_memory_equal(c->value.ptr, jwt, strlen(jwt));
    OK(avow_cmw_get_ear_jwt(c, &got, &d));
    assert_string_equal((const char *)got.ptr, jwt);
    avow_buf_free(&got);
    avow_cmw_free(c);
    avow_buf_free(&enc);
}

static void test_cmw_roundtrip(void **state)
{
    (void)state;
    roundtrip(AVOW_CMW_FORM_JSON, 0);
    roundtrip(AVOW_CMW_FORM_JSON, AVOW_CMW_IND_ATTESTATION_RESULTS);
    roundtrip(AVOW_CMW_FORM_CBOR, 0);
    roundtrip(AVOW_CMW_FORM_CBOR, AVOW_CMW_IND_ATTESTATION_RESULTS | 0x100);

    /* the exact CBOR bytes: [text, bytes, uint] with the shortest heads */
    avow_diag d;
    avow_buf enc = {0};
    OK(avow_cmw_encode(AVOW_CMW_FORM_CBOR, "a/b", (const uint8_t *)"xy", 2, 8, &enc, &d));
    static const uint8_t want[] = {0x83, 0x63, 'a', '/', 'b', 0x42, 'x', 'y', 0x08};
    assert_int_equal(enc.len, sizeof(want));
    assert_memory_equal(enc.ptr, want, sizeof(want));
    avow_buf_free(&enc);
    OK(avow_cmw_encode(AVOW_CMW_FORM_JSON, "a/b", (const uint8_t *)"xy", 2, 0, &enc, &d));
    assert_string_equal((const char *)enc.ptr, "[\"a/b\",\"eHk\"]");
    avow_buf_free(&enc);
    /* what the encoder refuses */
    assert_int_equal(
        avow_cmw_encode(AVOW_CMW_FORM_CBOR, "a b", (const uint8_t *)"x", 1, 0, &enc, &d),
        AVOW_ERR_MEDIA_TYPE);
    assert_int_equal(
        avow_cmw_encode(AVOW_CMW_FORM_CBOR, "a/b", (const uint8_t *)"x", 0, 0, &enc, &d),
        AVOW_ERR_ARG);
    assert_int_equal(
        avow_cmw_encode(AVOW_CMW_FORM_CBOR_TAG, "a/b", (const uint8_t *)"x", 1, 0, &enc, &d),
        AVOW_ERR_ARG);

    /* the tag form: TN(C-F 60, application/cbor) = 1668546817 + 60 = 0x6374013d */
    static const uint8_t tag[] = {0xda, 0x63, 0x74, 0x01, 0x3d, 0x41, 0x00};
    avow_cmw *c = NULL;
    OK(avow_cmw_decode(tag, sizeof(tag), AVOW_CMW_FORM_AUTO, &c, &d));
    assert_int_equal(c->form, AVOW_CMW_FORM_CBOR_TAG);
    assert_int_equal(c->has_content_format, 1);
    assert_int_equal(c->content_format, 60);
    assert_null(c->type);
    avow_buf jwt = {0};
    assert_int_equal(avow_cmw_get_ear_jwt(c, &jwt, &d), AVOW_ERR_NOT_EAR);
    avow_cmw_free(c);
    /* C-F 300 = 255 + 45: TN = TN_MIN + 256 + 45 */
    uint64_t tn = AVOW_CMW_TN_MIN + 256 + 45;
    uint8_t tag2[] = {
        0xda, (uint8_t)(tn >> 24), (uint8_t)(tn >> 16), (uint8_t)(tn >> 8), (uint8_t)tn, 0x41,
        0x00};
    OK(avow_cmw_decode(tag2, sizeof(tag2), AVOW_CMW_FORM_CBOR_TAG, &c, &d));
    assert_int_equal(c->content_format, 300);
    avow_cmw_free(c);
    /* a record with a content-format type */
    static const uint8_t cfrec[] = {0x82, 0x19, 0x01, 0x2c, 0x41, 0x00};
    OK(avow_cmw_decode(cfrec, sizeof(cfrec), AVOW_CMW_FORM_CBOR, &c, &d));
    assert_int_equal(c->content_format, 300);
    avow_cmw_free(c);
}

static void test_cmw_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t in[16];
        size_t len;
        avow_err want;
        const char *field;
    } cases[] = {
        {"empty", {0}, 0, AVOW_ERR_TRUNCATED, "cmw"},
        {"indefinite array",
         {0x9f, 0x61, 'a', 0x41, 'x', 0xff},
         6,
         AVOW_ERR_CBOR_INDEFINITE,
         "cmw"},
        {"indefinite byte string",
         {0x82, 0x61, 'a', 0x5f, 0x41, 'x', 0xff},
         7,
         AVOW_ERR_CBOR_INDEFINITE,
         "cmw"},
        {"length 1 in two bytes",
         {0x82, 0x78, 0x01, 'a', 0x41, 'x'},
         6,
         AVOW_ERR_CBOR_NOT_PREFERRED,
         "cmw"},
        {"indicator 8 in two bytes",
         {0x83, 0x63, 'a', '/', 'b', 0x41, 'x', 0x18, 0x08},
         9,
         AVOW_ERR_CBOR_NOT_PREFERRED,
         "cmw"},
        {"reserved additional info", {0x81, 0x7c}, 2, AVOW_ERR_CBOR, "cmw"},
        {"truncated", {0x82, 0x63, 'a', '/'}, 4, AVOW_ERR_TRUNCATED, "cmw"},
        {"trailing byte",
         {0x82, 0x63, 'a', '/', 'b', 0x41, 'x', 0x00},
         8,
         AVOW_ERR_TRAILING,
         "cmw"},
        {"huge array count",
         {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         9,
         AVOW_ERR_TOO_LARGE,
         "cmw"},
        {"one element", {0x81, 0x41, 'x'}, 3, AVOW_ERR_CMW, "cmw"},
        {"four elements",
         {0x84, 0x63, 'a', '/', 'b', 0x41, 'x', 0x08, 0x08},
         9,
         AVOW_ERR_CMW,
         "cmw"},
        {"value a text string", {0x82, 0x63, 'a', '/', 'b', 0x61, 'x'}, 7, AVOW_ERR_CMW, "cmw[1]"},
        {"empty value", {0x82, 0x63, 'a', '/', 'b', 0x40}, 6, AVOW_ERR_CMW, "cmw[1]"},
        {"indicator 0", {0x83, 0x63, 'a', '/', 'b', 0x41, 'x', 0x00}, 8, AVOW_ERR_CMW, "cmw[2]"},
        {"negative indicator",
         {0x83, 0x63, 'a', '/', 'b', 0x41, 'x', 0x20},
         8,
         AVOW_ERR_CMW,
         "cmw[2]"},
        {"type not a media type",
         {0x82, 0x63, 'a', ' ', 'b', 0x41, 'x'},
         7,
         AVOW_ERR_MEDIA_TYPE,
         "cmw[0]"},
        {"type bytes", {0x82, 0x43, 'a', '/', 'b', 0x41, 'x'}, 7, AVOW_ERR_CMW, "cmw[0]"},
        {"content-format over 16 bits",
         {0x82, 0x1a, 0x00, 0x01, 0x00, 0x00, 0x41, 'x'},
         8,
         AVOW_ERR_CMW,
         "cmw[0]"},
        {"type text not UTF-8", {0x82, 0x63, 'a', '/', 0xff, 0x41, 'x'}, 7, AVOW_ERR_CBOR, "cmw"},
        {"map: a collection",
         {0xa1, 0x01, 0x82, 0x63, 'a', '/', 'b', 0x41, 'x'},
         9,
         AVOW_ERR_UNSUPPORTED,
         "cmw"},
        {"map with a repeated key",
         {0xa2, 0x01, 0x00, 0x01, 0x00},
         5,
         AVOW_ERR_CBOR_DUP_KEY,
         "cmw"},
        {"tag outside the C-F range", {0xc1, 0x41, 'x'}, 3, AVOW_ERR_CMW, "cmw.tag"},
        {"tag on a hole of the TN range",
         {0xda, 0x63, 0x74, 0x02, 0x00, 0x41, 'x'},
         7,
         AVOW_ERR_CMW,
         "cmw.tag"},
        {"tag over a text string",
         {0xda, 0x63, 0x74, 0x01, 0x3d, 0x61, 'x'},
         7,
         AVOW_ERR_CMW,
         "cmw.value"},
        {"a bare integer", {0x01}, 1, AVOW_ERR_CMW, "cmw"},
        {"JSON: one element", {'[', '"', 'a', '/', 'b', '"', ']'}, 7, AVOW_ERR_CMW, "cmw"},
        {"JSON: value padded",
         {'[', '"', 'a', '/', 'b', '"', ',', '"', 'e', 'A', '=', '=', '"', ']'},
         14,
         AVOW_ERR_CMW,
         "cmw[1]"},
        {"JSON: trailing text",
         {'[', '"', 'a', '/', 'b', '"', ',', '"', 'e', 'A', '"', ']', ']'},
         13,
         AVOW_ERR_JSON,
         "cmw"},
        {"JSON: indicator 0",
         {'[', '"', 'a', '/', 'b', '"', ',', '"', 'e', 'A', '"', ',', '0', ']'},
         14,
         AVOW_ERR_CMW,
         "cmw[2]"},
        {"JSON: an object", {'{', '"', 'a', '"', ':', '1', '}'}, 7, AVOW_ERR_UNSUPPORTED, "cmw"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_diag d;
        avow_diag_clear(&d);
        avow_cmw *c = NULL;
        avow_err e = avow_cmw_decode(cases[i].in, cases[i].len, AVOW_CMW_FORM_AUTO, &c, &d);
        if (e != cases[i].want || strcmp(d.field, cases[i].field) != 0)
            print_error("%s: %s at %s (%s)\n", cases[i].what, avow_errname(e), d.field, d.detail);
        assert_int_equal(e, cases[i].want);
        assert_string_equal(d.field, cases[i].field);
        assert_null(c);
    }
    /* nesting beyond the bound never reaches libcbor */
    uint8_t deep[4096];
    memset(deep, 0x81, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x00;
    avow_diag d;
    avow_cmw *c = NULL;
    assert_int_equal(avow_cmw_decode(deep, sizeof(deep), AVOW_CMW_FORM_CBOR, &c, &d),
                     AVOW_ERR_TOO_LARGE);
    /* the JSON form asked for CBOR input, and the tag form asked for a record */
    static const uint8_t rec[] = {0x82, 0x63, 'a', '/', 'b', 0x41, 'x'};
    assert_int_equal(avow_cmw_decode(rec, sizeof(rec), AVOW_CMW_FORM_JSON, &c, &d), AVOW_ERR_JSON);
    assert_int_equal(avow_cmw_decode(rec, sizeof(rec), AVOW_CMW_FORM_CBOR_TAG, &c, &d),
                     AVOW_ERR_CMW);
    /* over the size bound */
    assert_int_equal(avow_cmw_decode(rec, AVOW_CMW_MAX_SIZE + 1, AVOW_CMW_FORM_CBOR, &c, &d),
                     AVOW_ERR_TOO_LARGE);
    /* a value with a NUL is no JWT */
    static const uint8_t nul[] = {0x82, 0x73, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't',  'i', 'o',
                                  'n',  '/',  'e', 'a', 't', '+', 'j', 'w', 't', 0x42, 'a', 0x00};
    OK(avow_cmw_decode(nul, sizeof(nul), AVOW_CMW_FORM_AUTO, &c, &d));
    avow_buf jwt = {0};
    assert_int_equal(avow_cmw_get_ear_jwt(c, &jwt, &d), AVOW_ERR_CMW);
    avow_cmw_free(c);
}

/* --- JWK sets --- */

static char *jwk_of(EVP_PKEY *k, const char *extra)
{
    avow_buf j = {0};
    avow_diag d;
    OK(avow_jwk_export(k, &j, &d));
    /* {"crv":...} -> {<extra>,"crv":...} */
    size_t n = j.len + strlen(extra) + 4;
    char *s = malloc(n);
    snprintf(s, n, "{%s%s%s", extra, extra[0] ? "," : "", (const char *)j.ptr + 1);
    avow_buf_free(&j);
    return s;
}

/* fmt with every "%s" replaced by key (the case tables stay plain data). */
static void subst(char *out, size_t cap, const char *fmt, const char *key)
{
    size_t o = 0;
    for (const char *p = fmt; *p != '\0' && o + 1 < cap;) {
        if (p[0] == '%' && p[1] == 's') {
            size_t n = strlen(key);
            assert_true(o + n < cap);
            memcpy(out + o, key, n);
            o += n;
            p += 2;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void test_jwks(void **state)
{
    (void)state;
    EVP_PKEY *a = tu_key_ec("P-256"), *b = tu_key_ec("P-384"), *c = tu_key_ec("P-256");
    char *ja = jwk_of(a, "\"kid\":\"a\",\"use\":\"sig\",\"alg\":\"ES256\"");
    char *jb = jwk_of(b, "\"kid\":\"b\",\"key_ops\":[\"verify\"]");
    char *jc = jwk_of(c, "\"kid\":\"c\",\"use\":\"enc\"");
    char set[4096];
    snprintf(set, sizeof(set),
             "{\"keys\":[%s,%s,%s,{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}]}", ja, jb, jc);
    avow_diag d;
    avow_jwks *s = NULL;
    OK(avow_jwks_parse(set, strlen(set), &s, &d));
    assert_int_equal(avow_jwks_count(s), 3); /* the X25519 key is skipped */
    EVP_PKEY *k = NULL;
    OK(avow_jwks_select(s, "a", "ES256", &k, &d));
    assert_int_equal(EVP_PKEY_eq(k, a), 1);
    EVP_PKEY_free(k);
    OK(avow_jwks_select(s, "b", "ES384", &k, &d));
    EVP_PKEY_free(k);
    /* without kid: the one key that fits ES384 */
    OK(avow_jwks_select(s, NULL, "ES384", &k, &d));
    assert_int_equal(EVP_PKEY_eq(k, b), 1);
    EVP_PKEY_free(k);
    /* without kid, ES256: a fits, c is for encryption: a */
    OK(avow_jwks_select(s, NULL, "ES256", &k, &d));
    assert_int_equal(EVP_PKEY_eq(k, a), 1);
    EVP_PKEY_free(k);
    assert_int_equal(avow_jwks_select(s, "zz", "ES256", &k, &d), AVOW_ERR_KID_UNKNOWN);
    assert_int_equal(avow_jwks_select(s, "c", "ES256", &k, &d), AVOW_ERR_KEY_USE);
    assert_int_equal(avow_jwks_select(s, "a", "ES384", &k, &d), AVOW_ERR_KEY_USE);
    assert_int_equal(avow_jwks_select(s, "b", "ES256", &k, &d), AVOW_ERR_ALG_MISMATCH);
    assert_int_equal(avow_jwks_select(s, "a", "none", &k, &d), AVOW_ERR_SIG_ALG);
    assert_int_equal(avow_jwks_select(s, "a", "HS256", &k, &d), AVOW_ERR_SIG_ALG);
    assert_int_equal(avow_jwks_select(s, NULL, "EdDSA", &k, &d), AVOW_ERR_KID_UNKNOWN);
    assert_null(k);
    avow_jwks_free(s);

    /* two keys fit and the token names none */
    char *jc2 = jwk_of(c, "");
    snprintf(set, sizeof(set), "{\"keys\":[%s,%s]}", ja, jc2);
    OK(avow_jwks_parse(set, strlen(set), &s, &d));
    assert_int_equal(avow_jwks_select(s, NULL, "ES256", &k, &d), AVOW_ERR_AMBIGUOUS);
    avow_jwks_free(s);

    static const struct {
        const char *fmt;
        avow_err want;
        const char *field;
    } bad[] = {
        {"{\"keys\":[]}", AVOW_ERR_JWKS, "jwks.keys"},
        {"{\"keys\":{}}", AVOW_ERR_JWKS, "jwks.keys"},
        {"[]", AVOW_ERR_JWKS, "jwks.keys"},
        {"{\"keys\":[%s,%s]}", AVOW_ERR_JWKS, "jwks.keys[1].kid"}, /* kid a twice */
        {"{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", AVOW_ERR_JWKS, "jwks.keys[1].k"},
        {"{\"keys\":[%s,{\"kty\":\"oct\",\"kid\":\"s\"}]}", AVOW_ERR_JWKS, "jwks.keys[1].kty"},
        {"{\"keys\":[%s,{\"kty\":\"EC\",\"d\":\"AA\"}]}", AVOW_ERR_JWKS, "jwks.keys[1].d"},
        {"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X448\",\"x\":\"AA\"}]}", AVOW_ERR_JWKS,
         "jwks.keys"},
        {"{\"keys\":[%s]", AVOW_ERR_JSON, "jwks"},
        {"{\"keys\":[%s],\"keys\":[]}", AVOW_ERR_JSON, "jwks"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        subst(set, sizeof(set), bad[i].fmt, ja);
        avow_diag_clear(&d);
        avow_err e = avow_jwks_parse(set, strlen(set), &s, &d);
        if (e != bad[i].want || strcmp(d.field, bad[i].field) != 0)
            print_error("%s: %s at %s (%s)\n", bad[i].fmt, avow_errname(e), d.field, d.detail);
        assert_int_equal(e, bad[i].want);
        assert_string_equal(d.field, bad[i].field);
        assert_null(s);
    }
    /* a kid repeated inside one key is a repeated member: JSON */
    snprintf(set, sizeof(set), "{\"keys\":[{\"kid\":\"x\",%s]}", ja + 1);
    assert_int_equal(avow_jwks_parse(set, strlen(set), &s, &d), AVOW_ERR_JSON);
    free(jc2);
    free(ja);
    free(jb);
    free(jc);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(c);
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_cmw_roundtrip),
        cmocka_unit_test(test_cmw_hostile),
        cmocka_unit_test(test_jwks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
