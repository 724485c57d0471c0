/*
 * The relying party's check of a WIT with its WPT: a valid pair passes,
 * and each hostile variant is refused with its own code and a field
 * naming what is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <avow/wimse.h>

#include "testutil.h"

#define NOW ((int64_t)1800000000)
#define AUD "https://svc.example.org/path"
#define SUB "spiffe://example.org/w"
#define ISS "https://ids.example.org"

static EVP_PKEY *ik, *wk, *ok_;
static avow_signer *is, *ws, *os;

static int setup(void **state)
{
    (void)state;
    ik = EVP_EC_gen("P-256");
    wk = EVP_EC_gen("P-256");
    ok_ = EVP_EC_gen("P-256");
    return avow_signer_new_pkey(ik, AVOW_SIGALG_NONE, &is, NULL) != AVOW_OK ||
           avow_signer_new_pkey(wk, AVOW_SIGALG_NONE, &ws, NULL) != AVOW_OK ||
           avow_signer_new_pkey(ok_, AVOW_SIGALG_NONE, &os, NULL) != AVOW_OK;
}

static int teardown(void **state)
{
    (void)state;
    avow_signer_free(is);
    avow_signer_free(ws);
    avow_signer_free(os);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(wk);
    EVP_PKEY_free(ok_);
    return 0;
}

static char *wit_for(const char *sub, int64_t now, unsigned ttl)
{
    avow_wimse_issue_opts io;
    avow_wimse_issue_opts_init(&io);
    io.now = now;
    io.ttl = ttl;
    io.iss = ISS;
    avow_buf b = {0};
    assert_int_equal(avow_wimse_wit_sign(is, sub, wk, NULL, &io, &b, NULL), AVOW_OK);
    return (char *)b.ptr;
}

static char *wpt_for(avow_signer *s, const char *wit, const char *aud, int64_t now, const char *jti,
                     const char *at)
{
    avow_wimse_wpt_opts po;
    avow_wimse_wpt_opts_init(&po);
    po.wit = wit;
    po.aud = aud;
    po.now = now;
    po.jti = jti;
    po.access_token = at;
    avow_buf b = {0};
    assert_int_equal(avow_wimse_wpt_sign(s, &po, &b, NULL), AVOW_OK);
    return (char *)b.ptr;
}

/* A JWS over header and payload JSON texts, signed by s (for hand-made hostile tokens). */
static char *forge(avow_signer *s, const char *typ, const char *payload)
{
    avow_jws_sign_opts so;
    avow_jws_sign_opts_init(&so);
    so.typ = typ;
    avow_buf b = {0};
    assert_int_equal(avow_jws_sign(s, (const uint8_t *)payload, strlen(payload), &so, &b, NULL),
                     AVOW_OK);
    return (char *)b.ptr;
}

static avow_err check(const char *wit, const char *wpt, const char *at, avow_oauth_replay *rp,
                      const char *want_field)
{
    const char *w1[] = {wit}, *p1[] = {wpt};
    avow_wimse_request rq;
    avow_wimse_request_init(&rq);
    rq.wit = w1;
    rq.n_wit = wit != NULL;
    rq.wpt = p1;
    rq.n_wpt = wpt != NULL;
    rq.access_token = at;
    avow_wimse_verify_opts o;
    avow_wimse_verify_opts_init(&o);
    o.issuer_pkeys = &ik;
    o.n_issuer_pkeys = 1;
    o.issuer = ISS;
    o.audience = AUD;
    o.now = NOW;
    o.replay = rp;
    avow_wimse_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_wimse_verify(&rq, &o, &r, &d);
    assert_non_null(r);
    assert_int_equal(avow_wimse_result_status(r), rc);
    if (rc == AVOW_OK) {
        assert_string_equal(avow_wimse_result_identifier(r), SUB);
        assert_string_equal(avow_wimse_result_trust_domain(r), "example.org");
        assert_int_equal(EVP_PKEY_eq(avow_wimse_result_get0_key(r), wk), 1);
    } else {
        assert_true(d.detail[0] != '\0');
        if (want_field != NULL && strcmp(d.field, want_field) != 0)
            fail_msg("field %s, expected %s (%s: %s)", d.field, want_field, avow_errname(rc),
                     d.detail);
    }
    avow_buf j = {0};
    assert_int_equal(avow_wimse_result_to_json(r, &j, NULL), AVOW_OK);
    avow_buf_free(&j);
    avow_wimse_result_free(r);
    return rc;
}

#define WIT_CLAIMS(extra)                                                                          \
    "{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"exp\":1800000600,\"iat\":1800000000," extra        \
    "\"cnf\":{\"jwk\":%s}}"

static char *jwk_text(const char *alg)
{
    avow_buf j = {0};
    assert_int_equal(avow_jwk_export(wk, &j, NULL), AVOW_OK);
    json_t *o = json_loads((const char *)j.ptr, 0, NULL);
    avow_buf_free(&j);
    if (alg != NULL)
        json_object_set_new(o, "alg", json_string(alg));
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

static char *forge_wit(const char *fmt_extra_claims, const char *alg, const char *typ)
{
    char *jwk = jwk_text(alg);
    char buf[4096];
    const char *at = strstr(fmt_extra_claims, "%s");
    assert_non_null(at);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - fmt_extra_claims), fmt_extra_claims, jwk,
             at + 2);
    free(jwk);
    return forge(is, typ, buf);
}

static void expect(avow_err got, avow_err want, const char *what)
{
    if (got != want)
        fail_msg("%s: got %s, expected %s", what, avow_errname(got), avow_errname(want));
}

static void test_hostile(void **state)
{
    (void)state;
    char *wit = wit_for(SUB, NOW, 0);
    char *wpt = wpt_for(ws, wit, AUD, NOW, "j1", NULL);
    expect(check(wit, wpt, NULL, NULL, NULL), AVOW_OK, "valid pair");

    /* framing and headers */
    expect(check(NULL, wpt, NULL, NULL, "Workload-Identity-Token"), AVOW_ERR_WIMSE_HEADER,
           "no WIT");
    expect(check(wit, NULL, NULL, NULL, "Workload-Proof-Token"), AVOW_ERR_WIMSE_HEADER, "no WPT");
    {
        const char *w2[] = {wit, wit}, *p1[] = {wpt};
        avow_wimse_request rq;
        avow_wimse_request_init(&rq);
        rq.wit = w2;
        rq.n_wit = 2;
        rq.wpt = p1;
        rq.n_wpt = 1;
        avow_wimse_verify_opts o;
        avow_wimse_verify_opts_init(&o);
        o.issuer_pkeys = &ik;
        o.n_issuer_pkeys = 1;
        o.audience = AUD;
        o.now = NOW;
        avow_wimse_result *r = NULL;
        expect(avow_wimse_verify(&rq, &o, &r, NULL), AVOW_ERR_WIMSE_HEADER, "two WIT headers");
        avow_wimse_result_free(r);
    }
    char big[AVOW_WIMSE_MAX_TOKEN + 16];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect(check(big, wpt, NULL, NULL, "wit"), AVOW_ERR_TOO_LARGE, "oversize WIT");
    expect(check("e30.e30", wpt, NULL, NULL, NULL), AVOW_ERR_MALFORMED, "two parts");
    expect(check("eyJ!.e30.AA", wpt, NULL, NULL, NULL), AVOW_ERR_MALFORMED, "bad base64url");

    /* the WIT */
    char *t = forge_wit(WIT_CLAIMS(""), "ES256", "JWT");
    expect(check(t, wpt, NULL, NULL, "wit.header.typ"), AVOW_ERR_WIMSE_TYP, "WIT typ JWT");
    free(t);
    t = forge_wit(WIT_CLAIMS(""), "ES256", "wpt+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.header.typ"), AVOW_ERR_WIMSE_TYP, "WIT typ wpt+jwt");
    free(t);
    /* The message quotes typ cut at 64 bytes, here inside the two-byte U+00E9: the JSON
     * result must still be written (a fuzzer finding). */
    t = forge_wit(WIT_CLAIMS(""), "ES256",
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9");
    expect(check(t, wpt, NULL, NULL, "wit.header.typ"), AVOW_ERR_WIMSE_TYP, "WIT typ cut in UTF-8");
    free(t);
    t = forge_wit(WIT_CLAIMS(""), NULL, "wit+jwt");
    expect(check(t, NULL, NULL, NULL, NULL), AVOW_ERR_WIMSE_HEADER, "(setup)");
    char *p = wpt_for(ws, t, AUD, NOW, "j2", NULL);
    expect(check(t, p, NULL, NULL, "wit.claims.cnf.jwk.alg"), AVOW_ERR_WIMSE_CNF,
           "missing cnf.jwk.alg");
    free(t);
    free(p);
    static const char *const bad_algs[] = {"HS256", "none", "ES384", "RS256"};
    for (size_t i = 0; i < 4; i++) {
        t = forge_wit(WIT_CLAIMS(""), bad_algs[i], "wit+jwt");
        p = wpt_for(ws, t, AUD, NOW, "j3", NULL);
        expect(check(t, p, NULL, NULL, "wit.claims.cnf.jwk.alg"), AVOW_ERR_WIMSE_CNF, bad_algs[i]);
        free(t);
        free(p);
    }
    {
        char buf[1024];
        snprintf(buf, sizeof(buf),
                 "{\"sub\":\"" SUB "\",\"exp\":1800000600,\"cnf\":{\"jwk\":{\"kty\":\"oct\","
                 "\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\",\"alg\":\"HS256\"}},\"iss\":\"" ISS
                 "\"}");
        t = forge(is, "wit+jwt", buf);
        expect(check(t, wpt, NULL, NULL, NULL), AVOW_ERR_WIMSE_CNF, "symmetric cnf");
        free(t);
    }
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":[\"" SUB "\",\"spiffe://example.org/x\"],"
                  "\"exp\":1800000600,\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.sub"), AVOW_ERR_WIMSE_IDENTIFIER,
           "two identifiers");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"workload-7\",\"exp\":1800000600,"
                  "\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.sub"), AVOW_ERR_WIMSE_IDENTIFIER, "sub not a URI");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"exp\":1800000600,\"cnf\":{\"jwk\":%s}}", "ES256",
                  "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.sub"), AVOW_ERR_WIMSE_CLAIM, "no sub");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"cnf\":{\"jwk\":%s}}", "ES256",
                  "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.exp"), AVOW_ERR_WIMSE_CLAIM, "no exp");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"exp\":\"soon\",\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.exp"), AVOW_ERR_WIMSE_CLAIM, "exp a string");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"sub\":\"" SUB "\",\"exp\":1800000600,"
                  "\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, NULL), AVOW_ERR_JSON, "duplicate member");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"exp\":1800999999,"
                  "\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.exp"), AVOW_ERR_WIMSE_LIFETIME, "exp too far");
    free(t);
    t = forge_wit(WIT_CLAIMS("\"nbf\":1800000100,"), "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.nbf"), AVOW_ERR_WIMSE_NOT_YET, "nbf future");
    free(t);
    t = forge_wit("{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"exp\":1800000600,\"iat\":1800000100,"
                  "\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.iat"), AVOW_ERR_WIMSE_NOT_YET, "iat future");
    free(t);
    t = forge_wit("{\"iss\":\"https://evil.example\",\"sub\":\"" SUB "\",\"exp\":1800000600,"
                  "\"cnf\":{\"jwk\":%s}}",
                  "ES256", "wit+jwt");
    expect(check(t, wpt, NULL, NULL, "wit.claims.iss"), AVOW_ERR_WIMSE_ISS, "wrong iss");
    free(t);
    t = wit_for(SUB, NOW - 7200, 3600);
    p = wpt_for(ws, t, AUD, NOW, "j4", NULL);
    expect(check(t, p, NULL, NULL, "wit.claims.exp"), AVOW_ERR_WIMSE_EXPIRED, "WIT expired");
    free(t);
    free(p);
    {
        char buf[1024];
        char *jwk = jwk_text("ES256");
        const char *f = WIT_CLAIMS(""), *at = strstr(f, "%s");
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - f), f, jwk, at + 2);
        free(jwk);
        t = forge(os, "wit+jwt", buf);
        expect(check(t, wpt, NULL, NULL, "wit.signature"), AVOW_ERR_WIMSE_ISSUER,
               "untrusted issuer");
        free(t);
        /* alg none and HS256 with the issuer's public key as the secret */
        size_t n = strlen(buf);
        avow_buf hb = {0}, pb = {0};
        assert_int_equal(
            avow_b64url_encode((const uint8_t *)"{\"alg\":\"none\",\"typ\":\"wit+jwt\"}", 30, &hb),
            AVOW_OK);
        assert_int_equal(avow_b64url_encode((const uint8_t *)buf, n, &pb), AVOW_OK);
        char none[4096];
        snprintf(none, sizeof(none), "%s.%s.", (char *)hb.ptr, (char *)pb.ptr);
        expect(check(none, wpt, NULL, NULL, NULL), AVOW_ERR_SIG_ALG, "alg none");
        avow_buf_free(&hb);
        unsigned char *der = NULL;
        int dl = i2d_PUBKEY(ik, &der);
        avow_jws_sign_opts so;
        avow_jws_sign_opts_init(&so);
        so.typ = "wit+jwt";
        avow_buf hm = {0};
        assert_int_equal(
            avow_jws_sign_hmac("HS256", der, (size_t)dl, (const uint8_t *)buf, n, &so, &hm, NULL),
            AVOW_OK);
        OPENSSL_free(der);
        expect(check((char *)hm.ptr, wpt, NULL, NULL, NULL), AVOW_ERR_SIG_ALG, "HMAC public key");
        avow_buf_free(&hm);
        avow_buf_free(&pb);
    }
    /* ES256 with a DER signature instead of raw r||s */
    {
        const char *dot = strrchr(wit, '.');
        size_t hl = (size_t)(dot - wit);
        avow_buf sig = {0};
        avow_signer_sign(is, (const uint8_t *)wit, hl, &sig, NULL);
        avow_buf s64 = {0};
        assert_int_equal(avow_b64url_encode(sig.ptr, sig.len, &s64), AVOW_OK);
        char *x = malloc(hl + 2 + s64.len);
        memcpy(x, wit, hl);
        x[hl] = '.';
        memcpy(x + hl + 1, s64.ptr, s64.len + 1);
        expect(check(x, wpt, NULL, NULL, "wit.signature"), AVOW_ERR_WIMSE_ISSUER, "DER ES256");
        free(x);
        avow_buf_free(&sig);
        avow_buf_free(&s64);
    }

    /* the WPT */
    p = forge(ws, "JWT", "{\"aud\":\"" AUD "\",\"exp\":1800000060,\"jti\":\"x\",\"wth\":\"x\"}");
    expect(check(wit, p, NULL, NULL, "wpt.header.typ"), AVOW_ERR_WIMSE_TYP, "WPT typ");
    free(p);
    p = wpt_for(ws, wit, "https://other.example.org/", NOW, "j5", NULL);
    expect(check(wit, p, NULL, NULL, "wpt.claims.aud"), AVOW_ERR_WIMSE_AUD, "wrong aud");
    free(p);
    p = wpt_for(os, wit, AUD, NOW, "j6", NULL);
    expect(check(wit, p, NULL, NULL, "wpt.signature"), AVOW_ERR_WIMSE_WPT_SIG, "WPT other key");
    free(p);
    char *wit2 = wit_for("spiffe://example.org/other", NOW, 0);
    p = wpt_for(ws, wit2, AUD, NOW, "j7", NULL);
    expect(check(wit, p, NULL, NULL, "wpt.claims.wth"), AVOW_ERR_WIMSE_WTH, "wth of another WIT");
    free(p);
    free(wit2);
    p = wpt_for(ws, wit, AUD, NOW, "j8", "token-a");
    expect(check(wit, p, "token-b", NULL, "wpt.claims.ath"), AVOW_ERR_WIMSE_ATH, "ath mismatch");
    expect(check(wit, p, NULL, NULL, "wpt.claims.ath"), AVOW_ERR_WIMSE_ATH, "ath without token");
    expect(check(wit, p, "token-a", NULL, NULL), AVOW_OK, "ath good");
    free(p);
    p = wpt_for(ws, wit, AUD, NOW, "j9", NULL);
    expect(check(wit, p, "token-a", NULL, "wpt.claims.ath"), AVOW_ERR_WIMSE_ATH, "ath missing");
    free(p);
    p = wpt_for(ws, wit, AUD, NOW - 600, "j10", NULL);
    expect(check(wit, p, NULL, NULL, "wpt.claims.exp"), AVOW_ERR_WIMSE_EXPIRED, "WPT expired");
    free(p);
    p = forge(ws, "wpt+jwt",
              "{\"aud\":\"" AUD "\",\"exp\":1800009999,\"jti\":\"x\",\"wth\":\"x\"}");
    expect(check(wit, p, NULL, NULL, "wpt.claims.exp"), AVOW_ERR_WIMSE_LIFETIME, "WPT exp far");
    free(p);
    p = forge(ws, "wpt+jwt", "{\"aud\":\"" AUD "\",\"exp\":1800000060,\"wth\":\"x\"}");
    expect(check(wit, p, NULL, NULL, "wpt.claims.jti"), AVOW_ERR_WIMSE_CLAIM, "WPT no jti");
    free(p);

    /* replay, through the SQLite set */
    char path[] = "/tmp/avow-wimse-replay-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    avow_oauth_replay *rp = NULL;
    assert_int_equal(avow_oauth_replay_open_sqlite(path, &rp, NULL), AVOW_OK);
    expect(check(wit, wpt, NULL, rp, NULL), AVOW_OK, "first use");
    expect(check(wit, wpt, NULL, rp, "wpt.claims.jti"), AVOW_ERR_WIMSE_REPLAY, "replayed jti");
    avow_oauth_replay_free(rp);
    unlink(path);
    free(wit);
    free(wpt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hostile)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
