/*
 * The JOSE module: strict base64url, JWS compact signing through
 * avow_signer and verification with the algorithm bound to the key (each
 * forgery refused with its own code), public JWKs against the RFC 7517,
 * RFC 7638 and RFC 8037 examples and against OpenSSL keys, RFC 7515's ES256
 * example token, and the checked time comparisons at the 64-bit extremes.
 */
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <avow/jose.h>

#include "formats/jose_int.h"

#if defined(__GNUC__) || defined(__clang__)
#define AVOW_TEST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AVOW_TEST_PRINTF(a, b)
#endif

/* RFC 7517 appendix A.1 (and RFC 7638 section 3.1): the RSA example key's modulus. */
#define RFC_N                                                                                      \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"      \
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"              \
    "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"   \
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/* RFC 7517 appendix A.1: the EC example key. */
#define RFC_EC_X "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
#define RFC_EC_Y "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
/* RFC 8037 appendix A.2: the Ed25519 example key. */
#define RFC_ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/* --- helpers --- */

static char *b64s(const char *s)
{
    char *e = avow__b64url_encode((const uint8_t *)s, strlen(s));
    assert_non_null(e);
    return e;
}

/* "h.p.s" from header and payload text and raw signature bytes (malloc). */
static char *token(const char *header, const char *payload, const uint8_t *sig, size_t siglen)
{
    char *h = b64s(header), *p = b64s(payload);
    char *s = avow__b64url_encode(sig, siglen);
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *t = malloc(n);
    snprintf(t, n, "%s.%s.%s", h, p, s);
    OPENSSL_free(h);
    OPENSSL_free(p);
    OPENSSL_free(s);
    return t;
}

/* A token over header and payload signed by s; ECDSA as raw r||s of coord bytes unless 0 (DER). */
static char *signed_token(avow_signer *s, const char *header, const char *payload, size_t coord)
{
    char *h = b64s(header), *p = b64s(payload);
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, (const uint8_t *)input, strlen(input), &sig, NULL),
                     AVOW_OK);
    uint8_t raw[132];
    const uint8_t *sp = sig.ptr;
    size_t sl = sig.len;
    if (coord != 0) {
        const unsigned char *q = sig.ptr;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sig.len);
        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)coord), (int)coord);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, (int)coord), (int)coord);
        ECDSA_SIG_free(es);
        sp = raw;
        sl = 2 * coord;
    }
    char *sb = avow__b64url_encode(sp, sl);
    n = strlen(input) + strlen(sb) + 2;
    char *t = malloc(n);
    snprintf(t, n, "%s.%s", input, sb);
    free(input);
    OPENSSL_free(h);
    OPENSSL_free(p);
    OPENSSL_free(sb);
    avow_buf_free(&sig);
    return t;
}

static avow_err verify(const char *t, EVP_PKEY *k, const avow_jws_verify_opts *o, avow_diag *d)
{
    avow_jws *j = (avow_jws *)1;
    avow_err rc = avow_jws_verify(t, strlen(t), k, o, &j, d);
    if (rc != AVOW_OK)
        assert_null(j);
    avow_jws_free(j);
    TU_NO_OSSL_ERR();
    return rc;
}

/* --- base64url --- */

static void test_b64url(void **state)
{
    (void)state;
    /* RFC 4648 section 10, unpadded. */
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        avow_buf e = {0}, b = {0};
        assert_int_equal(avow_b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in), &e),
                         AVOW_OK);
        assert_string_equal((const char *)e.ptr, v[i].out);
        assert_int_equal(e.len, strlen(v[i].out));
        assert_int_equal(avow_b64url_decode((const char *)e.ptr, e.len, &b, NULL), AVOW_OK);
        assert_int_equal(b.len, strlen(v[i].in));
        if (b.len)
            assert_memory_equal(b.ptr, v[i].in, b.len);
        avow_buf_free(&b);
        avow_buf_free(&e);
    }
    /* Every byte value, at every offset modulo 3. */
    uint8_t all[258];
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t)i;
    for (size_t n = 255; n <= sizeof(all); n++) {
        avow_buf e = {0}, b = {0};
        assert_int_equal(avow_b64url_encode(all, n, &e), AVOW_OK);
        assert_null(strpbrk((const char *)e.ptr, "+/="));
        assert_int_equal(avow_b64url_decode((const char *)e.ptr, e.len, &b, NULL), AVOW_OK);
        assert_int_equal(b.len, n);
        assert_memory_equal(b.ptr, all, n);
        avow_buf_free(&b);
        avow_buf_free(&e);
    }
    static const struct {
        const char *s;
        size_t len;
        const char *why;
    } bad[] = {
        {"Zg==", 4, "padding"},
        {"Zg=", 3, "padding"},
        {"Zh", 2, "non-zero trailing bits"},
        {"Zm9=", 4, "padding"},
        {"Z", 1, "a lone sixth"},
        {"Zm9/", 4, "base64, not base64url"},
        {"Zm9+", 4, "base64, not base64url"},
        {"Zm 9v", 5, "space"},
        {"Zm9v\n", 5, "newline"},
        {"Zm\0v", 4, "NUL"},
        {"Zm9vYg\r\n", 8, "CRLF"},
        {"Zm9v.", 5, "a dot"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_buf b = {(uint8_t *)1, 1};
        avow_diag d = {0};
        if (avow_b64url_decode(bad[i].s, bad[i].len, &b, &d) != AVOW_ERR_MALFORMED)
            fail_msg("accepted %s", bad[i].why);
        assert_null(b.ptr);
        assert_string_equal(d.field, "base64url");
    }
    avow_buf b = {0};
    assert_int_equal(avow_b64url_decode(NULL, 1, &b, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_b64url_decode("", 0, &b, NULL), AVOW_OK);
    assert_null(b.ptr);
    assert_int_equal(avow_b64url_encode(NULL, 1, &b), AVOW_ERR_ARG);
}

/* --- JWS --- */

typedef struct alg_case {
    const char *jose;
    avow_sigalg alg;
    EVP_PKEY *key;
    size_t sig_len; /* of the decoded signature; 0: RSA (the modulus size) */
} alg_case;

static void test_jws_roundtrip(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256"), *p384 = tu_key_ec("P-384"), *p521 = tu_key_ec("P-521");
    EVP_PKEY *rsa = tu_key_rsa(2048), *pss = tu_key_rsa_pss(2048), *ed = tu_key_ed25519();
    alg_case cases[] = {
        {"ES256", AVOW_SIGALG_ECDSA_SHA256, p256, 64},
        {"ES384", AVOW_SIGALG_ECDSA_SHA384, p384, 96},
        {"ES512", AVOW_SIGALG_ECDSA_SHA512, p521, 132},
        {"RS256", AVOW_SIGALG_RSA_PKCS1_SHA256, rsa, 256},
        {"RS384", AVOW_SIGALG_RSA_PKCS1_SHA384, rsa, 256},
        {"RS512", AVOW_SIGALG_RSA_PKCS1_SHA512, rsa, 256},
        {"PS256", AVOW_SIGALG_RSA_PSS_SHA256, rsa, 256},
        {"PS384", AVOW_SIGALG_RSA_PSS_SHA384, pss, 256},
        {"PS512", AVOW_SIGALG_RSA_PSS_SHA512, rsa, 256},
        {"EdDSA", AVOW_SIGALG_ED25519, ed, 64},
    };
    static const char payload[] = "{\"sub\":\"client-1\",\"iat\":1700000000}";
    static const char *const typs[] = {"test+jwt", NULL};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_signer *s = NULL;
        assert_int_equal(avow_signer_new_pkey(cases[i].key, cases[i].alg, &s, NULL), AVOW_OK);
        avow_jws_sign_opts so = {sizeof(avow_jws_sign_opts), "test+jwt", "k1",
                                 "{\"nonce\":\"n-1\"}",      0,          NULL};
        avow_buf t = {0};
        avow_diag d = {0};
        assert_int_equal(avow_jws_sign(s, (const uint8_t *)payload, strlen(payload), &so, &t, &d),
                         AVOW_OK);
        assert_int_equal(strlen((const char *)t.ptr), t.len);
        const char *dot2 = strrchr((const char *)t.ptr, '.');
        avow_buf sig = {0};
        assert_int_equal(avow_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, NULL), AVOW_OK);
        assert_int_equal(sig.len, cases[i].sig_len);
        avow_buf_free(&sig);

        avow_jws_verify_opts vo = {.size = sizeof(avow_jws_verify_opts)};
        vo.typs = typs;
        vo.flags = AVOW_JWS_PAYLOAD_JSON;
        avow_jws *j = NULL;
        avow_err rc = avow_jws_verify((const char *)t.ptr, t.len, cases[i].key, &vo, &j, &d);
        if (rc != AVOW_OK)
            fail_msg("%s: %s %s (%s)", cases[i].jose, avow_errname(rc), d.field, d.detail);
        char want[128];
        snprintf(want, sizeof(want),
                 "{\"alg\":\"%s\",\"kid\":\"k1\",\"nonce\":\"n-1\",\"typ\":\"test+jwt\"}",
                 cases[i].jose);
        assert_string_equal((const char *)avow_jws_get0_header(j)->ptr, want);
        assert_int_equal(avow_jws_get0_header(j)->len, strlen(want));
        assert_int_equal(avow_jws_alg(j), cases[i].alg);
        assert_string_equal(avow_jws_header_string(j, "kid"), "k1");
        assert_null(avow_jws_header_string(j, "x5c"));
        assert_string_equal((const char *)avow_jws_get0_payload(j)->ptr, payload);
        assert_int_equal(avow_jws_get0_payload(j)->len, strlen(payload));
        assert_ptr_equal(avow_jws_get0_key(j), cases[i].key);
        assert_true(json_is_object(avow__jws_get0_payload_json(j)));
        avow_jws_free(j);

        /* No opts: no typ check, any algorithm that fits. */
        assert_int_equal(verify((const char *)t.ptr, cases[i].key, NULL, &d), AVOW_OK);
        avow_buf_free(&t);

        /* Without opts the header is {"alg"} alone, and an empty payload signs too. */
        assert_int_equal(avow_jws_sign(s, NULL, 0, NULL, &t, &d), AVOW_OK);
        assert_int_equal(avow_jws_verify((const char *)t.ptr, t.len, cases[i].key, NULL, &j, &d),
                         AVOW_OK);
        snprintf(want, sizeof(want), "{\"alg\":\"%s\"}", cases[i].jose);
        assert_string_equal((const char *)avow_jws_get0_header(j)->ptr, want);
        assert_int_equal(avow_jws_get0_payload(j)->len, 0);
        assert_string_equal((const char *)avow_jws_get0_payload(j)->ptr, "");
        avow_jws_free(j);
        avow_buf_free(&t);
        avow_signer_free(s);
        TU_NO_OSSL_ERR();
    }
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(pss);
    EVP_PKEY_free(ed);
}

/* DPoP-style: the key travels in the header, and only a public one is taken. */
static void test_jws_header_jwk(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256"), *other = tu_key_ec("P-256");
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    avow_jws_sign_opts so = {sizeof(avow_jws_sign_opts), "dpop+jwt", NULL, NULL,
                             AVOW_JWS_HEADER_JWK,        NULL};
    avow_buf t = {0}, jwk = {0};
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)"{}", 2, &so, &t, NULL), AVOW_OK);
    assert_int_equal(avow_jwk_export(k, &jwk, NULL), AVOW_OK);

    static const char *const typs[] = {"dpop+jwt", NULL};
    avow_jws_verify_opts vo = {.size = sizeof(avow_jws_verify_opts)};
    vo.typs = typs;
    vo.flags = AVOW_JWS_KEY_FROM_JWK | AVOW_JWS_PAYLOAD_JSON;
    avow_jws *j = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_jws_verify((const char *)t.ptr, t.len, NULL, &vo, &j, &d), AVOW_OK);
    assert_int_equal(EVP_PKEY_eq(avow_jws_get0_key(j), k), 1);
    char want[256];
    snprintf(want, sizeof(want), "{\"alg\":\"ES256\",\"jwk\":%s,\"typ\":\"dpop+jwt\"}",
             (const char *)jwk.ptr);
    assert_string_equal((const char *)avow_jws_get0_header(j)->ptr, want);
    avow_jws_free(j);

    /* A key and the header's jwk at once is a caller error. */
    assert_int_equal(verify((const char *)t.ptr, k, &vo, &d), AVOW_ERR_ARG);
    avow_buf_free(&t);

    /* No jwk. */
    t.ptr = (uint8_t *)signed_token(s, "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\"}", "{}", 32);
    assert_int_equal(verify((const char *)t.ptr, NULL, &vo, &d), AVOW_ERR_MISSING_CLAIM);
    assert_string_equal(d.field, "jws.header.jwk");
    free(t.ptr);

    /* Someone else's key in the header: the signature does not verify under it. */
    avow_buf ojwk = {0};
    assert_int_equal(avow_jwk_export(other, &ojwk, NULL), AVOW_OK);
    char hdr[512];
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"jwk\":%s,\"typ\":\"dpop+jwt\"}",
             (const char *)ojwk.ptr);
    t.ptr = (uint8_t *)signed_token(s, hdr, "{}", 32);
    assert_int_equal(verify((const char *)t.ptr, NULL, &vo, &d), AVOW_ERR_SIG_INVALID);
    free(t.ptr);

    /* A private key in the header is refused, not used. */
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":"
             "\"%s\",\"d\":\"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\"},\"typ\":\"dpop+jwt\"}",
             RFC_EC_X, RFC_EC_Y);
    t.ptr = (uint8_t *)signed_token(s, hdr, "{}", 32);
    assert_int_equal(verify((const char *)t.ptr, NULL, &vo, &d), AVOW_ERR_MALFORMED);
    assert_string_equal(d.field, "jws.header.jwk.d");
    free(t.ptr);

    /* An RSA jwk under an ES256 header: the alg does not fit the imported key. */
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"},\"typ\":"
             "\"dpop+jwt\"}",
             RFC_N);
    t.ptr = (uint8_t *)signed_token(s, hdr, "{}", 32);
    assert_int_equal(verify((const char *)t.ptr, NULL, &vo, &d), AVOW_ERR_ALG_MISMATCH);
    free(t.ptr);

    avow_buf_free(&jwk);
    avow_buf_free(&ojwk);
    avow_signer_free(s);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

static void test_jws_sign_refusals(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256");
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    avow_signer *s = NULL;
    avow_buf t = {0};
    avow_diag d = {0};
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    static const char *const bad_headers[] = {
        "{\"alg\":\"none\"}",
        "{\"typ\":\"x\"}",
        "{\"kid\":\"x\"}",
        "{\"jwk\":{}}",
        "{\"crit\":[\"b64\"]}",
        "[1]",
        "{\"a\":1,\"a\":2}",
        "{",
        "\"text\"",
    };
    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        avow_jws_sign_opts o = {sizeof(avow_jws_sign_opts), NULL, NULL, bad_headers[i], 0, NULL};
        if (avow_jws_sign(s, (const uint8_t *)"x", 1, &o, &t, &d) != AVOW_ERR_ARG)
            fail_msg("header_json %s accepted", bad_headers[i]);
        assert_null(t.ptr);
        assert_string_equal(d.field, "jws.header");
    }
    avow_jws_sign_opts o = {sizeof(avow_jws_sign_opts), NULL, "\xff\xfe", NULL, 0, "dpop"};
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)"x", 1, &o, &t, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "dpop.header.kid");
    assert_int_equal(avow_jws_sign(NULL, (const uint8_t *)"x", 1, NULL, &t, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_jws_sign(s, NULL, 1, NULL, &t, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)"x", 1, NULL, NULL, &d), AVOW_ERR_ARG);
    avow_signer_free(s);

    /* X.509 lets these sign; JOSE has no name for them. */
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_ECDSA_SHA384, &s, NULL), AVOW_OK);
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)"x", 1, NULL, &t, &d), AVOW_ERR_UNSUPPORTED);
    assert_string_equal(d.field, "jws.alg");
    avow_signer_free(s);
    assert_int_equal(avow_signer_new_pkey(k1, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    assert_int_equal(avow_signer_alg(s), AVOW_SIGALG_ECDSA_SHA256);
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)"x", 1, NULL, &t, &d), AVOW_ERR_UNSUPPORTED);
    avow_signer_free(s);
    /* No JWK for a secp256k1 key either, so no "jwk" header. */
    assert_int_equal(avow_jwk_export(k1, &t, &d), AVOW_ERR_UNSUPPORTED);
    TU_NO_OSSL_ERR();
    EVP_PKEY_free(p256);
    EVP_PKEY_free(k1);
}

static int only_dpop(const char *typ, void *arg)
{
    int *calls = arg;
    (*calls)++;
    return typ != NULL && strcmp(typ, "dpop+jwt") == 0;
}

static int no_typ(const char *typ, void *arg)
{
    (void)arg;
    return typ == NULL;
}

static void test_jws_verify_refusals(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256"), *k384 = tu_key_ec("P-384"), *rsa = tu_key_rsa(2048);
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    static const char *const typs[] = {"eat-jwt", NULL};
    avow_jws_verify_opts typed = {.size = sizeof(avow_jws_verify_opts)};
    typed.typs = typs;
    avow_diag d = {0};
    const char *pj = "{\"sub\":\"x\"}";
    char *t;

    /* The reference: signed properly, accepted. */
    t = signed_token(s, "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\"}", pj, 32);
    assert_int_equal(verify(t, k, &typed, &d), AVOW_OK);
    /* An alg that does not fit the key: P-384, RSA. */
    assert_int_equal(verify(t, k384, &typed, &d), AVOW_ERR_ALG_MISMATCH);
    assert_string_equal(d.field, "jws.header.alg");
    assert_int_equal(verify(t, rsa, &typed, &d), AVOW_ERR_ALG_MISMATCH);
    /* Outside the caller's list of algorithms. */
    avow_sigalg only_ps[] = {AVOW_SIGALG_RSA_PSS_SHA256};
    avow_jws_verify_opts listed = typed;
    listed.algs = only_ps;
    listed.nalgs = 1;
    assert_int_equal(verify(t, k, &listed, &d), AVOW_ERR_SIG_ALG);
    avow_sigalg es[] = {AVOW_SIGALG_RSA_PSS_SHA256, AVOW_SIGALG_ECDSA_SHA256};
    listed.algs = es;
    listed.nalgs = 2;
    assert_int_equal(verify(t, k, &listed, &d), AVOW_OK);
    /* A flipped bit in the signature. */
    char *c = &t[strlen(t) - 5];
    *c = *c == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t, k, &typed, &d), AVOW_ERR_SIG_INVALID);
    assert_string_equal(d.field, "jws.signature");
    free(t);

    /* Header values refused before any signature is looked at. */
    static const struct {
        const char *header;
        avow_err code;
        const char *field;
    } hdr[] = {
        {"{\"alg\":\"none\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"None\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"HS256\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"HS512\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"ES256K\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"es256\",\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":256,\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"typ\":\"eat-jwt\"}", AVOW_ERR_SIG_ALG, "jws.header.alg"},
        {"{\"alg\":\"RS256\",\"typ\":\"eat-jwt\"}", AVOW_ERR_ALG_MISMATCH, "jws.header.alg"},
        {"{\"alg\":\"ES384\",\"typ\":\"eat-jwt\"}", AVOW_ERR_ALG_MISMATCH, "jws.header.alg"},
        {"{\"alg\":\"EdDSA\",\"typ\":\"eat-jwt\"}", AVOW_ERR_ALG_MISMATCH, "jws.header.alg"},
        {"{\"alg\":\"ES256\",\"typ\":\"JWT\"}", AVOW_ERR_MALFORMED, "jws.header.typ"},
        {"{\"alg\":\"ES256\"}", AVOW_ERR_MALFORMED, "jws.header.typ"},
        {"{\"alg\":\"ES256\",\"typ\":7}", AVOW_ERR_MALFORMED, "jws.header.typ"},
        {"{\"alg\":\"ES256\",\"typ\":\"eat-jwt+x\"}", AVOW_ERR_MALFORMED, "jws.header.typ"},
        {"{\"alg\":\"ES256\",\"typ\":\"eat-jwt\",\"crit\":[\"exp\"]}", AVOW_ERR_UNSUPPORTED,
         "jws.header.crit"},
        {"{\"alg\":\"ES256\",\"typ\":\"eat-jwt\",\"crit\":[]}", AVOW_ERR_UNSUPPORTED,
         "jws.header.crit"},
        {"{\"alg\":\"ES256\",\"alg\":\"ES256\",\"typ\":\"eat-jwt\"}", AVOW_ERR_JSON, "jws.header"},
        {"{\"alg\":\"ES256\",\"typ\":\"eat-jwt\"} x", AVOW_ERR_JSON, "jws.header"},
        {"{\"alg\":\"ES256\",\"typ\":\"eat-\\u0000jwt\"}", AVOW_ERR_JSON, "jws.header"},
        {"[\"ES256\"]", AVOW_ERR_MALFORMED, "jws.header"},
        {"", AVOW_ERR_JSON, "jws.header"},
    };
    for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
        t = signed_token(s, hdr[i].header, pj, 32);
        avow_err rc = verify(t, k, &typed, &d);
        if (rc != hdr[i].code || strcmp(d.field, hdr[i].field) != 0)
            fail_msg("header %s: %s %s (%s)", hdr[i].header, avow_errname(rc), d.field, d.detail);
        free(t);
    }

    /* typ: case-insensitive, "application/" optional on either side; a predicate as well. */
    static const char *const typ_ok[] = {"eat-jwt", "EAT-JWT", "application/eat-jwt",
                                         "Application/Eat-Jwt"};
    for (size_t i = 0; i < sizeof(typ_ok) / sizeof(typ_ok[0]); i++) {
        char h[96];
        snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"typ\":\"%s\"}", typ_ok[i]);
        t = signed_token(s, h, pj, 32);
        assert_int_equal(verify(t, k, &typed, &d), AVOW_OK);
        free(t);
    }
    static const char *const app_typs[] = {"application/dpop+jwt", NULL};
    avow_jws_verify_opts pred = {.size = sizeof(avow_jws_verify_opts)};
    int calls = 0;
    pred.typ_ok = only_dpop;
    pred.typ_arg = &calls;
    t = signed_token(s, "{\"alg\":\"ES256\",\"typ\":\"application/dpop+jwt\"}", pj, 32);
    assert_int_equal(verify(t, k, &pred, &d), AVOW_OK);
    assert_int_equal(calls, 1);
    pred.typs = app_typs;
    assert_int_equal(verify(t, k, &pred, &d), AVOW_OK);
    pred.typs = typs; /* both must accept */
    assert_int_equal(verify(t, k, &pred, &d), AVOW_ERR_MALFORMED);
    free(t);
    t = signed_token(s, "{\"alg\":\"ES256\"}", pj, 32);
    pred.typs = NULL;
    assert_int_equal(verify(t, k, &pred, &d), AVOW_ERR_MALFORMED);
    pred.typ_ok = no_typ;
    assert_int_equal(verify(t, k, &pred, &d), AVOW_OK);
    free(t);

    /* Signatures. */
    const char *h256 = "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\"}";
    t = signed_token(s, h256, pj, 0); /* DER */
    assert_int_equal(verify(t, k, &typed, &d), AVOW_ERR_SIG_INVALID);
    assert_non_null(strstr(d.detail, "r||s"));
    free(t);
    uint8_t zeros[66] = {0};
    static const size_t lens[] = {0, 1, 63, 65, 66};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        t = token(h256, pj, zeros, lens[i]);
        assert_int_equal(verify(t, k, &typed, &d), AVOW_ERR_SIG_INVALID);
        assert_string_equal(d.field, "jws.signature");
        free(t);
    }
    /* Right length, r = s = 0: OpenSSL refuses it, so does avow. */
    t = token(h256, pj, zeros, 64);
    assert_int_equal(verify(t, k, &typed, &d), AVOW_ERR_SIG_INVALID);
    free(t);
    /* An empty RSA signature. */
    t = token("{\"alg\":\"PS256\",\"typ\":\"eat-jwt\"}", pj, zeros, 0);
    assert_int_equal(verify(t, rsa, &typed, &d), AVOW_ERR_SIG_INVALID);
    free(t);

    /* The payload is parsed only once the signature verified. */
    avow_jws_verify_opts claims = typed;
    claims.flags = AVOW_JWS_PAYLOAD_JSON;
    t = token(h256, "not json", zeros, 64);
    assert_int_equal(verify(t, k, &claims, &d), AVOW_ERR_SIG_INVALID);
    free(t);
    t = signed_token(s, h256, "not json", 32);
    assert_int_equal(verify(t, k, &typed, &d), AVOW_OK); /* a JWS payload needn't be JSON */
    assert_int_equal(verify(t, k, &claims, &d), AVOW_ERR_JSON);
    assert_string_equal(d.field, "jws.payload");
    free(t);
    t = signed_token(s, h256, "{\"sub\":\"a\",\"sub\":\"b\"}", 32);
    assert_int_equal(verify(t, k, &claims, &d), AVOW_ERR_JSON);
    free(t);
    t = signed_token(s, h256, "[1,2]", 32);
    assert_int_equal(verify(t, k, &claims, &d), AVOW_ERR_MALFORMED);
    free(t);

    /* Structure, sizes and arguments. */
    static const char *const shapes[] = {"",
                                         "a",
                                         "a.b",
                                         "a.b.c.d",
                                         "...",
                                         "e30=.e30.AA",
                                         "e30.e30.AA==",
                                         "e30.e30+.AA",
                                         "e30 .e30.AA",
                                         "e30.e30.A"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        avow_err rc = verify(shapes[i], k, &typed, &d);
        if (rc != AVOW_ERR_MALFORMED)
            fail_msg("'%s': %s", shapes[i], avow_errname(rc));
        assert_string_equal(d.field, "jws");
    }
    assert_int_equal(verify("e30.e30.", k, &typed, &d), AVOW_ERR_SIG_ALG);
    t = signed_token(s, h256, pj, 32);
    avow_jws_verify_opts small = typed;
    small.max_len = strlen(t) - 1;
    small.field = "dpop";
    assert_int_equal(verify(t, k, &small, &d), AVOW_ERR_TOO_LARGE);
    assert_string_equal(d.field, "dpop");
    small.max_len = strlen(t);
    assert_int_equal(verify(t, k, &small, &d), AVOW_OK);
    avow_jws *j = (avow_jws *)1;
    assert_int_equal(avow_jws_verify(t, AVOW_JWS_MAX_SIZE + 1, k, &typed, &j, &d),
                     AVOW_ERR_TOO_LARGE);
    assert_null(j);
    assert_int_equal(avow_jws_verify(NULL, 0, k, &typed, &j, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_jws_verify(t, strlen(t), NULL, &typed, &j, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_jws_verify(t, strlen(t), k, &typed, NULL, &d), AVOW_ERR_ARG);
    free(t);
    /* A header over AVOW_JWS_MAX_HEADER, signed and otherwise fine. */
    size_t big =
        AVOW_JWS_MAX_HEADER + 1 - strlen("{\"alg\":\"ES256\",\"typ\":\"eat-jwt\",\"x\":\"\"}");
    char *bh = malloc(AVOW_JWS_MAX_HEADER + 2);
    int n =
        snprintf(bh, AVOW_JWS_MAX_HEADER + 2, "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\",\"x\":\"");
    memset(bh + n, 'a', big);
    memcpy(bh + n + big, "\"}", 3);
    assert_int_equal(strlen(bh), AVOW_JWS_MAX_HEADER + 1);
    t = signed_token(s, bh, pj, 32);
    assert_int_equal(verify(t, k, &typed, &d), AVOW_ERR_TOO_LARGE);
    assert_string_equal(d.field, "jws.header");
    free(t);
    memcpy(bh + strlen(bh) - 3, "\"}", 3); /* one byte short of the limit: accepted */
    t = signed_token(s, bh, pj, 32);
    assert_int_equal(verify(t, k, &typed, &d), AVOW_OK);
    free(t);
    free(bh);

    avow_signer_free(s);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k384);
    EVP_PKEY_free(rsa);
}

/* HS256 keyed with the verifier's public key: the classic key-confusion forgery. */
static void test_jws_hmac_confusion(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256");
    const char *h0 = "{\"alg\":\"HS256\"}", *pj = "{\"sub\":\"admin\"}";
    char *h = b64s(h0), *p = b64s(pj);
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    avow_buf spki = tu_spki(k);
    uint8_t mac[32];
    size_t maclen = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, spki.ptr, spki.len,
                              (const unsigned char *)input, strlen(input), mac, sizeof(mac),
                              &maclen));
    char *t = token(h0, pj, mac, maclen);
    avow_diag d = {0};
    assert_int_equal(verify(t, k, NULL, &d), AVOW_ERR_SIG_ALG);
    assert_non_null(strstr(d.detail, "HS256"));
    free(t);
    free(input);
    OPENSSL_free(h);
    OPENSSL_free(p);
    avow_buf_free(&spki);
    EVP_PKEY_free(k);
}

/* RFC 7515 appendix A.3: an ES256 JWS made by someone else, with the key as a JWK. */
static void test_rfc7515_es256(void **state)
{
    (void)state;
    static const char jws[] = "eyJhbGciOiJFUzI1NiJ9."
                              "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
                              "LmNvbS9pc19yb290Ijp0cnV"
                              "lfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-"
                              "F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    static const char jwk[] =
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
    EVP_PKEY *k = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_jwk_import(jwk, strlen(jwk), &k, &d), AVOW_OK);
    avow_jws_verify_opts o = {.size = sizeof(avow_jws_verify_opts)};
    o.flags = AVOW_JWS_PAYLOAD_JSON;
    avow_jws *j = NULL;
    assert_int_equal(avow_jws_verify(jws, strlen(jws), k, &o, &j, &d), AVOW_OK);
    assert_int_equal(avow_jws_alg(j), AVOW_SIGALG_ECDSA_SHA256);
    assert_string_equal((const char *)avow_jws_get0_header(j)->ptr, "{\"alg\":\"ES256\"}");
    assert_int_equal(
        strncmp((const char *)avow_jws_get0_payload(j)->ptr, "{\"iss\":\"joe\",\r\n", 15), 0);
    json_t *exp = json_object_get(avow__jws_get0_payload_json(j), "exp");
    assert_int_equal(json_integer_value(exp), 1300819380);
    avow_jws_free(j);
    /* It has no typ, so a verifier that wants one refuses it. */
    static const char *const typs[] = {"JWT", NULL};
    o.typs = typs;
    assert_int_equal(verify(jws, k, &o, &d), AVOW_ERR_MALFORMED);
    EVP_PKEY_free(k);
}

/* --- JWK --- */

static char *sha256_b64(const char *text)
{
    uint8_t md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL), 1);
    return avow__b64url_encode(md, n);
}

static void import_ok(const char *json, const char *canonical, const char *thumb)
{
    EVP_PKEY *k = NULL;
    avow_diag d = {0};
    avow_err rc = avow_jwk_import(json, strlen(json), &k, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s %s (%s)", json, avow_errname(rc), d.field, d.detail);
    avow_buf out = {0}, tp = {0};
    assert_int_equal(avow_jwk_export(k, &out, &d), AVOW_OK);
    assert_string_equal((const char *)out.ptr, canonical);
    assert_int_equal(out.len, strlen(canonical));
    assert_int_equal(avow_jwk_thumbprint(k, &tp, &d), AVOW_OK);
    char *want = sha256_b64(canonical);
    assert_string_equal((const char *)tp.ptr, want);
    if (thumb != NULL)
        assert_string_equal((const char *)tp.ptr, thumb);
    OPENSSL_free(want);
    avow_buf_free(&out);
    avow_buf_free(&tp);
    EVP_PKEY_free(k);
    TU_NO_OSSL_ERR();
}

static void test_jwk_rfc_examples(void **state)
{
    (void)state;
    /* RFC 7638 section 3.1, the thumbprint's own example. */
    import_ok("{\"kty\":\"RSA\",\"n\":\"" RFC_N
              "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
              "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" RFC_N "\"}",
              "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    /* RFC 7517 appendix A.1, with whitespace and members in another order. */
    import_ok("{\"kty\":\"EC\",\n \"crv\":\"P-256\",\n \"x\":\"" RFC_EC_X "\",\n \"y\":\"" RFC_EC_Y
              "\",\n \"use\":\"enc\",\n \"kid\":\"1\"}",
              "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" RFC_EC_X "\",\"y\":\"" RFC_EC_Y "\"}",
              NULL);
    /* RFC 8037 appendix A.2 / A.3. */
    import_ok("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC_ED_X "\"}",
              "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" RFC_ED_X "\"}",
              "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");

    /* RFC 7517 appendix A.2: the private keys, refused where a public key belongs. */
    static const struct {
        const char *json, *field;
    } priv[] = {
        {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC_EC_X "\",\"y\":\"" RFC_EC_Y
         "\",\"d\":\"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\",\"use\":\"enc\",\"kid\":\"1\"}",
         "jwk.d"},
        {"{\"kty\":\"RSA\",\"n\":\"" RFC_N
         "\",\"e\":\"AQAB\",\"p\":\"83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-"
         "60eTDmD2ujnMt5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy8B9R"
         "zzOGVQzXvNEvn7O0nVbfs\"}",
         "jwk.p"},
        {"{\"kty\":\"RSA\",\"n\":\"" RFC_N "\",\"e\":\"AQAB\",\"qi\":\"AA\"}", "jwk.qi"},
        {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC_ED_X
         "\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
         "jwk.d"},
        {"{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
         "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}",
         "jwk.k"},
    };
    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        EVP_PKEY *k = (EVP_PKEY *)1;
        avow_diag d = {0};
        avow_err rc = avow_jwk_import(priv[i].json, strlen(priv[i].json), &k, &d);
        if (rc != AVOW_ERR_MALFORMED || strcmp(d.field, priv[i].field) != 0)
            fail_msg("case %zu: %s %s", i, avow_errname(rc), d.field);
        assert_null(k);
        assert_non_null(strstr(d.detail, "private"));
    }
}

static void test_jwk_openssl_roundtrip(void **state)
{
    (void)state;
    EVP_PKEY *keys[] = {tu_key_ec("P-256"), tu_key_ec("P-384"), tu_key_ec("P-521"),
                        tu_key_rsa(2048),   tu_key_rsa(3072),   tu_key_rsa_pss(2048),
                        tu_key_ed25519()};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        avow_buf jwk = {0}, again = {0}, tp1 = {0}, tp2 = {0};
        avow_diag d = {0};
        assert_int_equal(avow_jwk_export(keys[i], &jwk, &d), AVOW_OK);
        EVP_PKEY *back = NULL;
        avow_err rc = avow_jwk_import((const char *)jwk.ptr, jwk.len, &back, &d);
        if (rc != AVOW_OK)
            fail_msg("key %zu: %s %s (%s)", i, avow_errname(rc), d.field, d.detail);
        /* The same public key to OpenSSL (an RSA-PSS key comes back as a plain RSA key). */
        if (EVP_PKEY_is_a(keys[i], "RSA-PSS")) {
            BIGNUM *n1 = NULL, *n2 = NULL;
            assert_int_equal(EVP_PKEY_get_bn_param(keys[i], OSSL_PKEY_PARAM_RSA_N, &n1), 1);
            assert_int_equal(EVP_PKEY_get_bn_param(back, OSSL_PKEY_PARAM_RSA_N, &n2), 1);
            assert_int_equal(BN_cmp(n1, n2), 0);
            BN_free(n1);
            BN_free(n2);
        } else {
            assert_int_equal(EVP_PKEY_eq(keys[i], back), 1);
            /* And the SPKI DER OpenSSL writes is the same. */
            avow_buf s1 = tu_spki(keys[i]), s2 = tu_spki(back);
            assert_int_equal(s1.len, s2.len);
            assert_memory_equal(s1.ptr, s2.ptr, s1.len);
            avow_buf_free(&s1);
            avow_buf_free(&s2);
        }
        assert_int_equal(avow_jwk_export(back, &again, &d), AVOW_OK);
        assert_string_equal((const char *)again.ptr, (const char *)jwk.ptr);
        assert_int_equal(avow_jwk_thumbprint(keys[i], &tp1, &d), AVOW_OK);
        assert_int_equal(avow_jwk_thumbprint(back, &tp2, &d), AVOW_OK);
        assert_string_equal((const char *)tp1.ptr, (const char *)tp2.ptr);
        assert_int_equal(tp1.len, 43);
        avow_buf_free(&jwk);
        avow_buf_free(&again);
        avow_buf_free(&tp1);
        avow_buf_free(&tp2);
        EVP_PKEY_free(back);
        TU_NO_OSSL_ERR();
    }
    /* EC coordinates are the full size, leading zeros and all: the uncompressed point's halves. */
    for (size_t i = 0; i < 3; i++) {
        uint8_t pt[133];
        size_t n = 0;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(keys[i], OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n),
            1);
        avow_buf jwk = {0};
        assert_int_equal(avow_jwk_export(keys[i], &jwk, NULL), AVOW_OK);
        json_t *o = json_loads((const char *)jwk.ptr, 0, NULL);
        avow_buf x = {0}, y = {0};
        assert_int_equal(avow__b64url_decode(json_string_value(json_object_get(o, "x")),
                                             json_string_length(json_object_get(o, "x")), &x),
                         AVOW_OK);
        assert_int_equal(avow__b64url_decode(json_string_value(json_object_get(o, "y")),
                                             json_string_length(json_object_get(o, "y")), &y),
                         AVOW_OK);
        assert_int_equal(n, 1 + x.len + y.len);
        assert_int_equal(x.len, y.len);
        assert_memory_equal(pt + 1, x.ptr, x.len);
        assert_memory_equal(pt + 1 + x.len, y.ptr, y.len);
        json_decref(o);
        avow_buf_free(&x);
        avow_buf_free(&y);
        avow_buf_free(&jwk);
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        EVP_PKEY_free(keys[i]);
}

/* base64url of bytes given in hex (OPENSSL_free). */
static char *b64_hex(const char *hex)
{
    long n = 0;
    unsigned char *b = OPENSSL_hexstr2buf(hex, &n);
    assert_non_null(b);
    char *s = avow__b64url_encode(b, (size_t)n);
    OPENSSL_free(b);
    return s;
}

/* The RFC modulus re-encoded: with a leading zero byte, or with its last bit cleared (even). */
static char *rfc_n_variant(int leading_zero, int even)
{
    avow_buf n = {0};
    assert_int_equal(avow__b64url_decode(RFC_N, strlen(RFC_N), &n), AVOW_OK);
    uint8_t *b = calloc(1, n.len + 1);
    memcpy(b + (leading_zero ? 1 : 0), n.ptr, n.len);
    size_t len = n.len + (leading_zero ? 1 : 0);
    if (even)
        b[len - 1] &= 0xfe;
    char *s = avow__b64url_encode(b, len);
    free(b);
    avow_buf_free(&n);
    return s;
}

/* A base64url string of n bytes of value v (OPENSSL_free). */
static char *b64_fill(size_t n, uint8_t v, uint8_t last)
{
    uint8_t *b = malloc(n);
    memset(b, v, n);
    b[n - 1] = last;
    char *s = avow__b64url_encode(b, n);
    free(b);
    return s;
}

/* Formatted strings that live until the pool is freed (initialisers may call fmt in any order). */
typedef struct fmt_pool {
    char *s[48];
    size_t n;
} fmt_pool;

AVOW_TEST_PRINTF(2, 3)
static const char *fmt(fmt_pool *p, const char *f, ...)
{
    assert_true(p->n < sizeof(p->s) / sizeof(p->s[0]));
    char *b = malloc(2048);
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 2048, f, ap);
    va_end(ap);
    return p->s[p->n++] = b;
}

static void test_jwk_refusals(void **state)
{
    (void)state;
    char *n0 = rfc_n_variant(1, 0), *neven = rfc_n_variant(0, 1);
    char *n1024 = b64_fill(128, 0xc5, 0x01), *n8200 = b64_fill(1025, 0xc5, 0x01);
    char *n8192 = b64_fill(1024, 0xc5, 0x01);
    char *e33 = b64_fill(33, 0x01, 0x01), *e32 = b64_fill(32, 0x01, 0x01);
    char *x31 = b64_fill(31, 0x11, 0x11), *x33 = b64_fill(33, 0x11, 0x11);
    /* x = p of P-256: one past the largest field element. */
    char *xp = b64_hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    /* The RFC point with y's last byte changed: not on the curve. */
    avow_buf yb = {0};
    assert_int_equal(avow__b64url_decode(RFC_EC_Y, strlen(RFC_EC_Y), &yb), AVOW_OK);
    yb.ptr[yb.len - 1] ^= 0x01;
    char *yoff = avow__b64url_encode(yb.ptr, yb.len);
    avow_buf_free(&yb);
    char *ed31 = b64_fill(31, 0x22, 0x22);
    fmt_pool pool = {0};
#define J(...) fmt(&pool, __VA_ARGS__)
    const struct {
        const char *json;
        avow_err code;
        const char *field;
    } bad[] = {
        {"", AVOW_ERR_JSON, "jwk"},
        {"{\"kty\":\"EC\"", AVOW_ERR_JSON, "jwk"},
        {"{\"kty\":\"EC\",\"kty\":\"RSA\"}", AVOW_ERR_JSON, "jwk"},
        {"[{\"kty\":\"EC\"}]", AVOW_ERR_MALFORMED, "jwk"},
        {"{}", AVOW_ERR_MALFORMED, "jwk.kty"},
        {"{\"kty\":1}", AVOW_ERR_MALFORMED, "jwk.kty"},
        {"{\"kty\":\"oct\"}", AVOW_ERR_UNSUPPORTED, "jwk.kty"},
        {"{\"kty\":\"ec\"}", AVOW_ERR_UNSUPPORTED, "jwk.kty"},
        /* EC */
        {J("{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, RFC_EC_Y), AVOW_ERR_MALFORMED,
         "jwk.crv"},
        {J("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, RFC_EC_Y),
         AVOW_ERR_UNSUPPORTED, "jwk.crv"},
        {J("{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, RFC_EC_Y),
         AVOW_ERR_UNSUPPORTED, "jwk.crv"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"%s\"}", RFC_EC_Y), AVOW_ERR_MALFORMED,
         "jwk.x"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", RFC_EC_X), AVOW_ERR_MALFORMED,
         "jwk.y"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":5,\"y\":\"%s\"}", RFC_EC_Y), AVOW_ERR_MALFORMED,
         "jwk.x"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s=\",\"y\":\"%s\"}", RFC_EC_X, RFC_EC_Y),
         AVOW_ERR_MALFORMED, "jwk.x"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x31, RFC_EC_Y),
         AVOW_ERR_MALFORMED, "jwk.x"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, x33),
         AVOW_ERR_MALFORMED, "jwk.y"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, RFC_EC_Y),
         AVOW_ERR_MALFORMED, "jwk.x"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", RFC_EC_X, yoff),
         AVOW_ERR_MALFORMED, "jwk"},
        {J("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", xp, RFC_EC_Y),
         AVOW_ERR_MALFORMED, "jwk"},
        /* RSA */
        {J("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), AVOW_ERR_MALFORMED, "jwk.n"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\"}", RFC_N), AVOW_ERR_MALFORMED, "jwk.e"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n0), AVOW_ERR_MALFORMED, "jwk.n"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", neven), AVOW_ERR_MALFORMED, "jwk.n"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n1024), AVOW_ERR_MALFORMED, "jwk.n"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n8200), AVOW_ERR_MALFORMED, "jwk.n"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AAEAAQ\"}", RFC_N), AVOW_ERR_MALFORMED, "jwk.e"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"Aw\"}", RFC_N), AVOW_ERR_MALFORMED, "jwk.e"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}", RFC_N), AVOW_ERR_MALFORMED, "jwk.e"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", RFC_N, e33), AVOW_ERR_MALFORMED, "jwk.e"},
        {J("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"\"}", RFC_N), AVOW_ERR_MALFORMED, "jwk.e"},
    };
    const struct {
        const char *json;
        avow_err code;
        const char *field;
    } bad2[] = {
        /* OKP */
        {J("{\"kty\":\"OKP\",\"x\":\"%s\"}", RFC_ED_X), AVOW_ERR_MALFORMED, "jwk.crv"},
        {J("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}", RFC_ED_X), AVOW_ERR_UNSUPPORTED,
         "jwk.crv"},
        {J("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", RFC_ED_X), AVOW_ERR_UNSUPPORTED,
         "jwk.crv"},
        {J("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", ed31), AVOW_ERR_MALFORMED,
         "jwk.x"},
        {J("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}"), AVOW_ERR_MALFORMED, "jwk.x"},
    };
#undef J
    for (size_t round = 0; round < 2; round++) {
        size_t count = round == 0 ? sizeof(bad) / sizeof(bad[0]) : sizeof(bad2) / sizeof(bad2[0]);
        for (size_t i = 0; i < count; i++) {
            const char *json = round == 0 ? bad[i].json : bad2[i].json;
            avow_err want = round == 0 ? bad[i].code : bad2[i].code;
            const char *field = round == 0 ? bad[i].field : bad2[i].field;
            EVP_PKEY *k = (EVP_PKEY *)1;
            avow_diag d = {0};
            avow_err rc = avow_jwk_import(json, strlen(json), &k, &d);
            if (rc != want || strcmp(d.field, field) != 0)
                fail_msg("%s: %s %s (%s)", json, avow_errname(rc), d.field, d.detail);
            assert_null(k);
            TU_NO_OSSL_ERR();
        }
    }
    /* The limits themselves are accepted: an 8192-bit odd modulus, a 32-byte odd e. */
    char ok[2048];
    snprintf(ok, sizeof(ok), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n8192, e32);
    EVP_PKEY *k = NULL;
    assert_int_equal(avow_jwk_import(ok, strlen(ok), &k, NULL), AVOW_OK);
    assert_int_equal(EVP_PKEY_get_bits(k), 8192);
    EVP_PKEY_free(k);
    /* Size. */
    char *huge = malloc(AVOW_JWK_MAX_SIZE + 2);
    memset(huge, ' ', AVOW_JWK_MAX_SIZE + 1);
    huge[0] = '{';
    huge[AVOW_JWK_MAX_SIZE] = '}';
    huge[AVOW_JWK_MAX_SIZE + 1] = '\0';
    avow_diag d = {0};
    assert_int_equal(avow_jwk_import(huge, strlen(huge), &k, &d), AVOW_ERR_TOO_LARGE);
    free(huge);
    assert_int_equal(avow_jwk_import(NULL, 0, &k, &d), AVOW_ERR_ARG);

    /* Export: key types with no JWK here. */
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    avow_buf out = {0};
    assert_int_equal(avow_jwk_export(x, &out, &d), AVOW_ERR_UNSUPPORTED);
    assert_int_equal(avow_jwk_thumbprint(x, &out, &d), AVOW_ERR_UNSUPPORTED);
    assert_null(out.ptr);
    assert_int_equal(avow_jwk_export(NULL, &out, &d), AVOW_ERR_ARG);
    EVP_PKEY_free(x);
    TU_NO_OSSL_ERR();

    for (size_t i = 0; i < pool.n; i++)
        free(pool.s[i]);
    OPENSSL_free(n0);
    OPENSSL_free(neven);
    OPENSSL_free(n1024);
    OPENSSL_free(n8200);
    OPENSSL_free(n8192);
    OPENSSL_free(e33);
    OPENSSL_free(e32);
    OPENSSL_free(x31);
    OPENSSL_free(x33);
    OPENSSL_free(xp);
    OPENSSL_free(yoff);
    OPENSSL_free(ed31);
}

/* --- time --- */

static void test_time_after(void **state)
{
    (void)state;
    static const struct {
        int64_t a, b;
        uint64_t slack;
        int want;
    } v[] = {
        {1, 0, 0, 1},
        {0, 0, 0, 0},
        {10, 5, 5, 0},
        {11, 5, 5, 1},
        {INT64_MAX, INT64_MIN, 0, 1},
        {INT64_MAX, INT64_MIN, UINT64_MAX - 1, 1},
        {INT64_MAX, INT64_MIN, UINT64_MAX, 0},
        {INT64_MIN, INT64_MAX, 0, 0},
        {INT64_MAX, INT64_MAX - 1, 0, 1},
        {INT64_MAX, INT64_MAX - 1, 1, 0},
        {INT64_MIN + 1, INT64_MIN, 0, 1},
        {INT64_MIN, INT64_MIN, UINT64_MAX, 0},
        {0, INT64_MIN, (uint64_t)INT64_MAX, 1},
        {0, INT64_MIN, (uint64_t)INT64_MAX + 1, 0},
        {-1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (avow__time_after(v[i].a, v[i].b, v[i].slack) != v[i].want)
            fail_msg("case %zu", i);
}

static avow_err times(const char *claims, int64_t now, unsigned leeway, unsigned flags,
                      avow_diag *d)
{
    json_t *j = json_loads(claims, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    avow_err rc = avow__jwt_check_times(j, now, leeway, flags, "jwt.payload", "token", d);
    json_decref(j);
    return rc;
}

static void test_jwt_times_extremes(void **state)
{
    (void)state;
    const int64_t MIN = INT64_MIN, MAX = INT64_MAX;
    static const char *const MINS = "-9223372036854775808", *const MAXS = "9223372036854775807";
    char c[128];
    avow_diag d = {0};
    const unsigned NOF = AVOW__JWT_IAT_NOT_FUTURE;
    struct {
        const char *claim, *value;
        int64_t now;
        unsigned leeway;
        avow_err want;
    } v[] = {
        /* exp */
        {"exp", MINS, 0, 0, AVOW_ERR_EXPIRED},
        {"exp", MINS, MIN, 0, AVOW_OK},
        {"exp", MINS, MIN + 1, 0, AVOW_ERR_EXPIRED},
        {"exp", MINS, MAX, UINT_MAX, AVOW_ERR_EXPIRED},
        {"exp", MAXS, MAX, UINT_MAX, AVOW_OK},
        {"exp", MAXS, MIN, UINT_MAX, AVOW_OK},
        {"exp", MAXS, 1700000000, UINT_MAX, AVOW_OK},
        {"exp", "9223372036854775806", MAX, 0, AVOW_ERR_EXPIRED},
        {"exp", "9223372036854775806", MAX, 1, AVOW_OK},
        {"exp", "-9223372036854775807", MIN, 0, AVOW_OK},
        {"exp", "1700000000", 1700000000 + (int64_t)UINT_MAX, UINT_MAX, AVOW_OK},
        {"exp", "1700000000", 1700000001 + (int64_t)UINT_MAX, UINT_MAX, AVOW_ERR_EXPIRED},
        /* nbf */
        {"nbf", MAXS, MAX, 0, AVOW_OK},
        {"nbf", MAXS, MAX - 1, 0, AVOW_ERR_BAD_TIME},
        {"nbf", MAXS, MAX - 10, 10, AVOW_OK},
        {"nbf", MAXS, MIN, UINT_MAX, AVOW_ERR_BAD_TIME},
        {"nbf", MAXS, 0, UINT_MAX, AVOW_ERR_BAD_TIME},
        {"nbf", MINS, MAX, UINT_MAX, AVOW_OK},
        {"nbf", MINS, MIN, 0, AVOW_OK},
        {"nbf", "-9223372036854775807", MIN, 0, AVOW_ERR_BAD_TIME},
        {"nbf", "10", MAX - 5, UINT_MAX, AVOW_OK},
        /* iat, only when asked */
        {"iat", MAXS, MIN, UINT_MAX, AVOW_OK},
        {"iat", "1.5", 0, 0, AVOW_ERR_MALFORMED},
        {"exp", "\"tomorrow\"", 0, 0, AVOW_ERR_MALFORMED},
        {"nbf", "1e3", 0, 0, AVOW_ERR_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(c, sizeof(c), "{\"%s\":%s}", v[i].claim, v[i].value);
        avow_err rc = times(c, v[i].now, v[i].leeway, 0, &d);
        if (rc != v[i].want)
            fail_msg("%s at now %lld, leeway %u: %s (%s)", c, (long long)v[i].now, v[i].leeway,
                     avow_errname(rc), d.detail);
        if (rc != AVOW_OK) {
            char want[32];
            snprintf(want, sizeof(want), "jwt.payload.%s", v[i].claim);
            assert_string_equal(d.field, want);
        }
    }
    /* The expiry detail is exact, not an overflowed difference. */
    assert_int_equal(times("{\"exp\":-9223372036854775808}", MAX, 0, 0, &d), AVOW_ERR_EXPIRED);
    assert_non_null(strstr(d.detail, "18446744073709551615 s ago"));
    /* iat in the future, with the flag. */
    snprintf(c, sizeof(c), "{\"iat\":%s}", MAXS);
    assert_int_equal(times(c, MIN, UINT_MAX, NOF, &d), AVOW_ERR_BAD_TIME);
    assert_int_equal(times(c, MAX, 0, NOF, &d), AVOW_OK);
    assert_int_equal(times("{\"iat\":100}", 90, 10, NOF, &d), AVOW_OK);
    assert_int_equal(times("{\"iat\":101}", 90, 10, NOF, &d), AVOW_ERR_BAD_TIME);
    /* Required claims. */
    assert_int_equal(times("{}", 0, 0, 0, &d), AVOW_OK);
    assert_int_equal(times("{}", 0, 0, AVOW__JWT_EXP_REQUIRED, &d), AVOW_ERR_MISSING_CLAIM);
    assert_string_equal(d.field, "jwt.payload.exp");
    assert_int_equal(times("{}", 0, 0, AVOW__JWT_IAT_REQUIRED, &d), AVOW_ERR_MISSING_CLAIM);
    assert_string_equal(d.field, "jwt.payload.iat");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_jws_roundtrip),
        cmocka_unit_test(test_jws_header_jwk),
        cmocka_unit_test(test_jws_sign_refusals),
        cmocka_unit_test(test_jws_verify_refusals),
        cmocka_unit_test(test_jws_hmac_confusion),
        cmocka_unit_test(test_rfc7515_es256),
        cmocka_unit_test(test_jwk_rfc_examples),
        cmocka_unit_test(test_jwk_openssl_roundtrip),
        cmocka_unit_test(test_jwk_refusals),
        cmocka_unit_test(test_time_after),
        cmocka_unit_test(test_jwt_times_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
