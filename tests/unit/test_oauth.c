/*
 * OAuth attestation-based client authentication: every rule of the
 * server's check as a valid request that passes and one mutation that
 * fails with that rule's reason code; the draft's own -10 and -07 examples;
 * challenges and the replay set across a reopen of the SQLite file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <avow/oauth.h>

#include "testutil.h"

#define NOW  ((int64_t)1800000000)
#define AUD  "https://as.example.com"
#define CID  "https://client.example.com"
#define HTU  "https://as.example.com/token"
#define MAXT 8192

static EVP_PKEY *att_key, *cli_key, *other_key;
static avow_signer *att_signer, *cli_signer, *other_signer;
static char dbpath[256];

/* ---- raw JWS for the mutations the builders cannot make ---- */

static char *b64(const void *p, size_t n)
{
    avow_buf b = {0};
    OK(avow_b64url_encode(p, n, &b));
    return (char *)b.ptr;
}

enum { RAW_ES = 0, RAW_DER = 1, RAW_NONE = 2 };

/* header.payload signed by key with SHA-256 (ECDSA raw r||s, or DER), or unsigned. */
static char *raw_jws(const char *header, const char *payload, EVP_PKEY *key, int mode)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    char *sig = NULL;
    if (mode == RAW_NONE) {
        sig = strdup("");
    } else {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        size_t sl = 0;
        assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(m, NULL, &sl, (const uint8_t *)input, strlen(input)), 1);
        uint8_t *s = malloc(sl);
        assert_int_equal(EVP_DigestSign(m, s, &sl, (const uint8_t *)input, strlen(input)), 1);
        EVP_MD_CTX_free(m);
        if (mode == RAW_DER) {
            sig = b64(s, sl);
        } else {
            const uint8_t *q = s;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sl);
            uint8_t rs[64];
            BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
            ECDSA_SIG_free(es);
            sig = b64(rs, 64);
        }
        free(s);
    }
    n = strlen(input) + strlen(sig) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s", input, sig);
    OPENSSL_free(h);
    OPENSSL_free(p);
    free(input);
    if (mode == RAW_NONE)
        free(sig);
    else
        OPENSSL_free(sig);
    return out;
}

static char *jwk_of(EVP_PKEY *k)
{
    avow_buf b = {0};
    OK(avow_jwk_export(k, &b, NULL));
    return (char *)b.ptr;
}

/* An attestation payload over the client key with the given claim text spliced in. */
static char *att_payload(const char *more)
{
    char *jwk = jwk_of(cli_key);
    char *p = malloc(4096);
    snprintf(p, 4096, "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"cnf\":{\"jwk\":%s}%s%s}", CID,
             (long long)NOW, (long long)NOW + 3600, jwk, more[0] ? "," : "", more);
    OPENSSL_free(jwk);
    return p;
}

static char *pop_payload(const char *more)
{
    char *p = malloc(1024);
    snprintf(p, 1024, "{\"aud\":\"%s\",\"jti\":\"j1\",\"iat\":%lld%s%s}", AUD, (long long)NOW,
             more[0] ? "," : "", more);
    return p;
}

static const char ATT_H[] = "{\"alg\":\"ES256\",\"typ\":\"oauth-client-attestation+jwt\"}";
static const char POP_H[] = "{\"alg\":\"ES256\",\"typ\":\"oauth-client-attestation-pop+jwt\"}";

/* ---- tokens from the library's builders ---- */

static avow_buf make_att(void)
{
    avow_oauth_attestation_opts o;
    avow_oauth_attestation_opts_init(&o);
    o.client_id = CID;
    o.cnf_key = cli_key;
    o.iat = NOW;
    o.ttl = 3600;
    avow_buf b = {0};
    OK(avow_oauth_attestation_sign(att_signer, &o, &b, NULL));
    return b;
}

static avow_buf make_pop(const char *jti, const char *challenge, int64_t iat)
{
    avow_oauth_pop_opts o;
    avow_oauth_pop_opts_init(&o);
    o.aud = AUD;
    o.jti = jti;
    o.iat = iat;
    o.challenge = challenge;
    avow_buf b = {0};
    OK(avow_oauth_pop_sign(cli_signer, &o, &b, NULL));
    return b;
}

static avow_buf make_dpop(avow_signer *s, const char *htm, const char *htu, const char *nonce,
                          const char *token, int64_t iat)
{
    avow_oauth_dpop_opts o;
    avow_oauth_dpop_opts_init(&o);
    o.htm = htm;
    o.htu = htu;
    o.nonce = nonce;
    o.access_token = token;
    o.iat = iat;
    avow_buf b = {0};
    OK(avow_oauth_dpop_sign(s, &o, &b, NULL));
    return b;
}

/* ---- the check ---- */

typedef struct setup {
    avow_oauth_verify_opts o;
    avow_oauth_request q;
    const char *att[2], *pop[2], *dpop[2];
    EVP_PKEY *keys[2];
} setup;

static void set_init(setup *s)
{
    memset(s, 0, sizeof(*s));
    avow_oauth_verify_opts_init(&s->o);
    s->o.audience = AUD;
    s->keys[0] = att_key;
    s->o.attester_keys = s->keys;
    s->o.nattester_keys = 1;
    s->o.now = NOW;
    avow_oauth_request_init(&s->q);
    s->q.method = "POST";
    s->q.url = HTU;
    s->q.attestation = s->att;
    s->q.pop = s->pop;
    s->q.dpop = s->dpop;
}

/* Runs the check; returns the status and keeps the result in *r (or frees it). */
static avow_err run(setup *s, const char *att, const char *pop, const char *dpop,
                    avow_oauth_result **keep)
{
    s->att[0] = att;
    s->q.nattestation = att != NULL ? 1 : 0;
    s->pop[0] = pop;
    s->q.npop = pop != NULL ? 1 : 0;
    s->dpop[0] = dpop;
    s->q.ndpop = dpop != NULL ? 1 : 0;
    avow_oauth_result *r = NULL;
    avow_diag d;
    avow_err rc = avow_oauth_verify(&s->q, &s->o, &r, &d);
    assert_non_null(r);
    assert_int_equal(avow_oauth_result_status(r), rc);
    if (rc != AVOW_OK) {
        assert_int_equal(d.code, rc);
        assert_true(d.field[0] != '\0');
    }
    TU_NO_OSSL_ERR();
    if (keep != NULL)
        *keep = r;
    else
        avow_oauth_result_free(r);
    return rc;
}

static void expect(setup *s, const char *att, const char *pop, const char *dpop, avow_err want,
                   const char *error)
{
    avow_oauth_result *r = NULL;
    avow_err rc = run(s, att, pop, dpop, &r);
    if (rc != want)
        fail_msg("want %s, got %s (%s: %s)", avow_errname(want), avow_errname(rc),
                 avow_oauth_result_diag(r)->field, avow_oauth_result_diag(r)->detail);
    if (error == NULL)
        assert_null(avow_oauth_result_error(r));
    else
        assert_string_equal(avow_oauth_result_error(r), error);
    avow_oauth_result_free(r);
}

#define E_ATT   AVOW_OAUTH_ERR_INVALID_ATTESTATION
#define E_FRESH AVOW_OAUTH_ERR_USE_FRESH
#define E_CHAL  AVOW_OAUTH_ERR_USE_CHALLENGE
#define E_DPOP  AVOW_OAUTH_ERR_INVALID_DPOP

static int group_setup(void **state)
{
    (void)state;
    att_key = tu_key_ec("P-256");
    cli_key = tu_key_ec("P-256");
    other_key = tu_key_ec("P-256");
    OK(avow_signer_new_pkey(att_key, AVOW_SIGALG_NONE, &att_signer, NULL));
    OK(avow_signer_new_pkey(cli_key, AVOW_SIGALG_NONE, &cli_signer, NULL));
    OK(avow_signer_new_pkey(other_key, AVOW_SIGALG_NONE, &other_signer, NULL));
    snprintf(dbpath, sizeof(dbpath), "%s/test_oauth_%ld.db", AVOW_BUILD_DIR, (long)getpid());
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    avow_signer_free(att_signer);
    avow_signer_free(cli_signer);
    avow_signer_free(other_signer);
    EVP_PKEY_free(att_key);
    EVP_PKEY_free(cli_key);
    EVP_PKEY_free(other_key);
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
    return 0;
}

/* ---- valid requests ---- */

static void test_valid_pop_mode(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf att = make_att(), pop = make_pop("j1", NULL, NOW);
    avow_oauth_result *r = NULL;
    s.q.client_id = CID;
    assert_int_equal(run(&s, (char *)att.ptr, (char *)pop.ptr, NULL, &r), AVOW_OK);
    assert_string_equal(avow_oauth_result_client_id(r), CID);
    assert_int_equal(avow_oauth_result_mode(r), AVOW_OAUTH_MODE_POP_JWT);
    assert_int_equal(EVP_PKEY_eq(avow_oauth_result_get0_cnf(r), cli_key), 1);
    assert_non_null(strstr(avow_oauth_result_claims(r), "\"sub\""));
    avow_buf jkt = {0};
    OK(avow_jwk_thumbprint(cli_key, &jkt, NULL));
    assert_string_equal(avow_oauth_result_jkt(r), (char *)jkt.ptr);
    avow_buf js = {0};
    OK(avow_oauth_result_to_json(r, &js, NULL));
    assert_non_null(strstr((char *)js.ptr, "\"authenticated\": true"));
    avow_buf_free(&js);
    avow_buf_free(&jkt);
    avow_oauth_result_free(r);
    avow_buf_free(&att);
    avow_buf_free(&pop);
}

/* An attestation by att_key over cnf JWK text jwk. */
static char *att_with_jwk(const char *jwk)
{
    char p[4096];
    snprintf(p, sizeof(p), "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW, (long long)NOW + 3600, jwk);
    return raw_jws(ATT_H, p, att_key, RAW_ES);
}

/*
 * The key cache (one cnf slot, so every other key evicts): hits give the
 * verdicts of the import, a different key never passes for a cached one, and
 * the checks that read members outside the thumbprint input still run.
 */
static void test_key_cache(void **state)
{
    (void)state;
    avow_oauth_key_cache *kc = NULL;
    assert_int_equal(avow_oauth_key_cache_new(AVOW_OAUTH_KEY_CACHE_MAX + 1u, &kc, NULL),
                     AVOW_ERR_ARG);
    assert_null(kc);
    OK(avow_oauth_key_cache_new(1, &kc, NULL));
    setup s;
    set_init(&s);
    s.o.key_cache = kc;
    avow_buf att = make_att(), pop = make_pop("j1", NULL, NOW), jkt = {0};
    OK(avow_jwk_thumbprint(cli_key, &jkt, NULL));
    for (int i = 0; i < 3; i++) { /* a miss, then hits */
        avow_oauth_result *r = NULL;
        assert_int_equal(run(&s, (char *)att.ptr, (char *)pop.ptr, NULL, &r), AVOW_OK);
        assert_int_equal(EVP_PKEY_eq(avow_oauth_result_get0_cnf(r), cli_key), 1);
        assert_string_equal(avow_oauth_result_jkt(r), (char *)jkt.ptr);
        avow_oauth_result_free(r);
    }
    /* the cached cnf key, a PoP by another key */
    char *pp = pop_payload(""), *bad_pop = raw_jws(POP_H, pp, other_key, RAW_ES);
    assert_int_not_equal(run(&s, (char *)att.ptr, bad_pop, NULL, NULL), AVOW_OK);
    /* another cnf key with the cli key's PoP: refused; with its own PoP: accepted */
    char *ojwk = jwk_of(other_key), *att2 = att_with_jwk(ojwk);
    assert_int_not_equal(run(&s, att2, (char *)pop.ptr, NULL, NULL), AVOW_OK);
    expect(&s, att2, bad_pop, NULL, AVOW_OK, NULL);
    expect(&s, att2, bad_pop, NULL, AVOW_OK, NULL);
    /* the cli key evicted, then cached again; a private member beside the same public key */
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_OK, NULL);
    char *jwk = jwk_of(cli_key), priv[1024];
    snprintf(priv, sizeof(priv), "%.*s,\"d\":\"AAAA\"}", (int)strlen(jwk) - 1, jwk);
    char *att3 = att_with_jwk(priv);
    expect(&s, att3, (char *)pop.ptr, NULL, AVOW_ERR_OAUTH_CNF, E_ATT);
    /* the attester key's prepared verification is that key's alone */
    s.keys[0] = other_key;
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    s.keys[0] = att_key;
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_OK, NULL);
    avow_oauth_key_cache_free(kc);
    avow_oauth_key_cache_free(NULL);
    OPENSSL_free(jwk);
    OPENSSL_free(ojwk);
    free(att2);
    free(att3);
    free(pp);
    free(bad_pop);
    avow_buf_free(&jkt);
    avow_buf_free(&att);
    avow_buf_free(&pop);
}

typedef struct cache_worker {
    avow_oauth_key_cache *kc;
    const char *att[2], *pop[2]; /* two clients; [1]'s PoP is by the wrong key for att[0] */
    int bad;
} cache_worker;

static void *cache_many(void *arg)
{
    cache_worker *w = arg;
    for (int i = 0; i < 200; i++) {
        setup s;
        set_init(&s);
        s.o.key_cache = w->kc;
        int k = i % 2, wrong = (i % 3) == 0;
        s.att[0] = w->att[k];
        s.q.nattestation = 1;
        s.pop[0] = w->pop[wrong ? 1 - k : k];
        s.q.npop = 1;
        avow_oauth_result *r = NULL;
        avow_err rc = avow_oauth_verify(&s.q, &s.o, &r, NULL);
        if ((rc == AVOW_OK) == wrong)
            w->bad++;
        avow_oauth_result_free(r);
    }
    return NULL;
}

/* Four threads over one cache of one slot: every hit, miss and eviction races the others. */
static void test_key_cache_threads(void **state)
{
    (void)state;
    avow_oauth_key_cache *kc = NULL;
    OK(avow_oauth_key_cache_new(1, &kc, NULL));
    avow_buf att = make_att(), pop = make_pop("j1", NULL, NOW);
    char *ojwk = jwk_of(other_key), *att2 = att_with_jwk(ojwk), *pp = pop_payload("");
    char *pop2 = raw_jws(POP_H, pp, other_key, RAW_ES);
    cache_worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (cache_worker){kc, {(char *)att.ptr, att2}, {(char *)pop.ptr, pop2}, 0};
        assert_int_equal(pthread_create(&th[i], NULL, cache_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].bad, 0);
    }
    avow_oauth_key_cache_free(kc);
    OPENSSL_free(ojwk);
    free(att2);
    free(pp);
    free(pop2);
    avow_buf_free(&att);
    avow_buf_free(&pop);
}

static void test_valid_combined_and_separate_dpop(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf att = make_att(), pop = make_pop("j1", NULL, NOW);
    avow_buf dp = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW);
    avow_oauth_result *r = NULL;
    assert_int_equal(run(&s, (char *)att.ptr, NULL, (char *)dp.ptr, &r), AVOW_OK);
    assert_int_equal(avow_oauth_result_mode(r), AVOW_OAUTH_MODE_DPOP);
    avow_oauth_result_free(r);
    /* A PoP decides the mode; the DPoP beside it may use another key (RFC 9449 alone). */
    avow_buf dp2 = make_dpop(other_signer, "POST", HTU "?x=1#f", NULL, NULL, NOW);
    expect(&s, (char *)att.ptr, (char *)pop.ptr, (char *)dp2.ptr, AVOW_OK, NULL);
    /* ... but that DPoP is still checked. */
    avow_buf dp3 = make_dpop(other_signer, "GET", HTU, NULL, NULL, NOW);
    expect(&s, (char *)att.ptr, (char *)pop.ptr, (char *)dp3.ptr, AVOW_ERR_DPOP_HTM, E_DPOP);
    /* Combined mode with another key than cnf. */
    expect(&s, (char *)att.ptr, NULL, (char *)dp2.ptr, AVOW_ERR_DPOP_KEY, E_ATT);
    avow_buf_free(&att);
    avow_buf_free(&pop);
    avow_buf_free(&dp);
    avow_buf_free(&dp2);
    avow_buf_free(&dp3);
}

/* ---- headers ---- */

static void test_headers(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf att = make_att(), pop = make_pop("j1", NULL, NOW);
    const char *a = (char *)att.ptr, *p = (char *)pop.ptr;
    expect(&s, a, p, NULL, AVOW_OK, NULL);
    expect(&s, NULL, p, NULL, AVOW_ERR_OAUTH_HEADER, E_ATT);
    expect(&s, a, NULL, NULL, AVOW_ERR_OAUTH_HEADER, E_ATT);
    /* two attestation headers, two PoP headers */
    s.att[1] = a;
    s.q.attestation = s.att;
    s.att[0] = a;
    s.q.nattestation = 2;
    s.pop[0] = p;
    s.q.npop = 1;
    s.q.ndpop = 0;
    avow_oauth_result *r = NULL;
    assert_int_equal(avow_oauth_verify(&s.q, &s.o, &r, NULL), AVOW_ERR_OAUTH_HEADER);
    avow_oauth_result_free(r);
    s.q.nattestation = 1;
    s.pop[1] = p;
    s.q.npop = 2;
    assert_int_equal(avow_oauth_verify(&s.q, &s.o, &r, NULL), AVOW_ERR_OAUTH_HEADER);
    avow_oauth_result_free(r);
    /* not token68 */
    char *sp = malloc(att.len + 2);
    snprintf(sp, att.len + 2, " %s", a);
    expect(&s, sp, p, NULL, AVOW_ERR_OAUTH_HEADER, E_ATT);
    /* "~" is token68, but the concatenated serialisation (removed in -08) is no JWS */
    char *cat = malloc(att.len + pop.len + 2);
    snprintf(cat, att.len + pop.len + 2, "%s~%s", a, p);
    expect(&s, cat, p, NULL, AVOW_ERR_MALFORMED, E_ATT);
    /* over the size limit */
    s.o.max_token = att.len - 1;
    expect(&s, a, p, NULL, AVOW_ERR_TOO_LARGE, E_ATT);
    s.o.max_token = MAXT;
    /* padding is not base64url */
    char *pad = malloc(att.len + 3);
    snprintf(pad, att.len + 3, "%s==", a);
    expect(&s, pad, p, NULL, AVOW_ERR_MALFORMED, E_ATT);
    /* the standard base64 alphabet is token68 but not base64url */
    char *alpha = strdup(a);
    char *dash = strpbrk(alpha, "-_");
    if (dash != NULL) {
        *dash = *dash == '-' ? '+' : '/';
        expect(&s, alpha, p, NULL, AVOW_ERR_MALFORMED, E_ATT);
    }
    free(alpha);
    /* an empty part, a fourth part */
    char *four = malloc(att.len + 3);
    snprintf(four, att.len + 3, "%s.x", a);
    expect(&s, four, p, NULL, AVOW_ERR_MALFORMED, E_ATT);
    expect(&s, "e30..", p, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    free(four);
    /* methods the server turned off */
    s.o.flags = AVOW_OAUTH_NO_POP_JWT;
    expect(&s, a, p, NULL, AVOW_ERR_OAUTH_METHOD, E_ATT);
    s.o.flags = AVOW_OAUTH_NO_COMBINED;
    avow_buf dp = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW);
    expect(&s, a, NULL, (char *)dp.ptr, AVOW_ERR_OAUTH_METHOD, E_ATT);
    free(sp);
    free(cat);
    free(pad);
    avow_buf_free(&dp);
    avow_buf_free(&att);
    avow_buf_free(&pop);
}

/* ---- the Client Attestation ---- */

static void test_attestation_header_rules(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf pop = make_pop("j1", NULL, NOW);
    const char *p = (char *)pop.ptr;
    char *pl = att_payload("");
    char *t;
    /* the raw builder's valid token passes: the mutations below are the only change */
    t = raw_jws(ATT_H, pl, att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_OK, NULL);
    free(t);
    t = raw_jws("{\"alg\":\"ES256\",\"typ\":\"jwt\"}", pl, att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_TYP, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"ES256\"}", pl, att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_TYP, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"none\",\"typ\":\"oauth-client-attestation+jwt\"}", pl, att_key,
                RAW_NONE);
    expect(&s, t, p, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"NONE\",\"typ\":\"oauth-client-attestation+jwt\"}", pl, att_key,
                RAW_NONE);
    expect(&s, t, p, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    free(t);
    /* an alg the message quotes cut inside a UTF-8 sequence: the result JSON stays valid */
    t = raw_jws("{\"alg\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u00e9\",\"typ\":"
                "\"oauth-client-attestation+jwt\"}",
                pl, att_key, RAW_ES);
    avow_oauth_result *jr = NULL;
    assert_int_equal(run(&s, t, p, NULL, &jr), AVOW_ERR_SIG_ALG);
    avow_buf js = {0};
    OK(avow_oauth_result_to_json(jr, &js, NULL));
    assert_non_null(strstr((char *)js.ptr, "\\x"));
    avow_buf_free(&js);
    avow_oauth_result_free(jr);
    free(t);
    /* typ per RFC 7515 4.1.9: case-insensitive, "application/" optional */
    t = raw_jws("{\"alg\":\"ES256\",\"typ\":\"application/OAuth-Client-Attestation+JWT\"}", pl,
                att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_OK, NULL);
    free(t);
    t = raw_jws("{\"alg\":\"ES384\",\"typ\":\"oauth-client-attestation+jwt\"}", pl, att_key,
                RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_ALG_MISMATCH, E_ATT);
    free(t);
    t = raw_jws(ATT_H, pl, att_key, RAW_DER);
    avow_oauth_result *r = NULL;
    assert_int_equal(run(&s, t, p, NULL, &r), AVOW_ERR_OAUTH_ATTESTER);
    assert_non_null(strstr(avow_oauth_result_diag(r)->detail, "DER"));
    avow_oauth_result_free(r);
    free(t);
    t = raw_jws(ATT_H, pl, other_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"ES256\",\"typ\":\"oauth-client-attestation+jwt\",\"crit\":[\"x\"],"
                "\"x\":1}",
                pl, att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_UNSUPPORTED, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"ES256\",\"typ\":\"oauth-client-attestation+jwt\",\"typ\":\"x\"}", pl,
                att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_JSON, E_ATT);
    free(t);
    /* key injection: a jwk header naming the signer's own key is not trust */
    char *ojwk = jwk_of(other_key);
    char h[1024];
    snprintf(h, sizeof(h),
             "{\"alg\":\"ES256\",\"typ\":\"oauth-client-attestation+jwt\",\"jwk\":%s}", ojwk);
    t = raw_jws(h, pl, other_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    free(t);
    OPENSSL_free(ojwk);
    /* several trusted keys: the second one verifies */
    s.keys[0] = other_key;
    s.keys[1] = att_key;
    s.o.nattester_keys = 2;
    t = raw_jws(ATT_H, pl, att_key, RAW_ES);
    expect(&s, t, p, NULL, AVOW_OK, NULL);
    s.o.nattester_keys = 1;
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    s.o.nattester_keys = 0;
    expect(&s, t, p, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    free(t);
    free(pl);
    avow_buf_free(&pop);
}

static void test_attestation_hmac(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf pop = make_pop("j1", NULL, NOW);
    uint8_t secret[32];
    assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
    avow_oauth_attestation_opts o;
    avow_oauth_attestation_opts_init(&o);
    o.client_id = CID;
    o.cnf_key = cli_key;
    o.iat = NOW;
    o.ttl = 60;
    avow_buf att = {0};
    OK(avow_oauth_attestation_sign_hmac("HS256", secret, sizeof(secret), &o, &att, NULL));
    /* no symmetric key configured: an HS* alg is refused */
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    avow_oauth_secret sec = {secret, sizeof(secret)};
    s.o.attester_secrets = &sec;
    s.o.nattester_secrets = 1;
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_OK, NULL);
    secret[0] ^= 1;
    expect(&s, (char *)att.ptr, (char *)pop.ptr, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    secret[0] ^= 1;
    /* HMAC keyed with the attester's public key: refused without a configured secret */
    avow_buf spki = tu_spki(att_key);
    avow_buf forged = {0};
    OK(avow_oauth_attestation_sign_hmac("HS256", spki.ptr, spki.len, &o, &forged, NULL));
    s.o.nattester_secrets = 0;
    expect(&s, (char *)forged.ptr, (char *)pop.ptr, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    s.o.nattester_secrets = 1;
    expect(&s, (char *)forged.ptr, (char *)pop.ptr, NULL, AVOW_ERR_OAUTH_ATTESTER, E_ATT);
    /* a short key is refused at signing */
    avow_buf shortk = {0};
    assert_int_equal(avow_oauth_attestation_sign_hmac("HS256", secret, 16, &o, &shortk, NULL),
                     AVOW_ERR_ARG);
    avow_buf_free(&spki);
    avow_buf_free(&forged);
    avow_buf_free(&att);
    avow_buf_free(&pop);
}

static void claim_case(setup *s, const char *pop, const char *payload, avow_err want,
                       const char *error)
{
    char *t = raw_jws(ATT_H, payload, att_key, RAW_ES);
    expect(s, t, pop, NULL, want, error);
    free(t);
}

static void test_attestation_claims(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf pop = make_pop("j1", NULL, NOW);
    const char *p = (char *)pop.ptr;
    char *jwk = jwk_of(cli_key), pl[4096];
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW + 10, jwk);
    claim_case(&s, p, pl, AVOW_OK, NULL);
    snprintf(pl, sizeof(pl), "{\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", (long long)NOW + 10, jwk);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CLAIM, E_ATT);
    snprintf(pl, sizeof(pl), "{\"sub\":7,\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", (long long)NOW + 10,
             jwk);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CLAIM, E_ATT);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"cnf\":{\"jwk\":%s}}", CID, jwk);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CLAIM, E_ATT);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":\"soon\",\"cnf\":{\"jwk\":%s}}", CID, jwk);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CLAIM, E_ATT);
    /* exp: inside the leeway passes, past it is use_fresh_attestation */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW - 60, jwk);
    claim_case(&s, p, pl, AVOW_OK, NULL);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW - 61, jwk);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_EXPIRED, E_FRESH);
    /* iat in the future; too old for attestation_max_age */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW + 61, (long long)NOW + 100, jwk);
    claim_case(&s, p, pl, AVOW_ERR_BAD_TIME, E_ATT);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW - 1000, (long long)NOW + 100, jwk);
    claim_case(&s, p, pl, AVOW_OK, NULL);
    s.o.attestation_max_age = 900;
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_STALE, E_FRESH);
    s.o.attestation_max_age = 0;
    /* nbf in the future */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW + 100, (long long)NOW + 200, jwk);
    claim_case(&s, p, pl, AVOW_ERR_BAD_TIME, E_ATT);
    /* cnf: absent, no jwk, a private key, a symmetric key */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld}", CID, (long long)NOW + 10);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CNF, E_ATT);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jkt\":\"x\"}}", CID,
             (long long)NOW + 10);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CNF, E_ATT);
    char priv[1024];
    snprintf(priv, sizeof(priv), "%.*s,\"d\":\"AAAA\"}", (int)strlen(jwk) - 1, jwk);
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW + 10, priv);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CNF, E_ATT);
    snprintf(pl, sizeof(pl),
             "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}}",
             CID, (long long)NOW + 10);
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CNF, E_ATT);
    /* repeated member in the payload */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"sub\":\"x\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}",
             CID, (long long)NOW + 10, jwk);
    claim_case(&s, p, pl, AVOW_ERR_JSON, E_ATT);
    /* client_id: equal passes, another one fails */
    snprintf(pl, sizeof(pl), "{\"sub\":\"%s\",\"exp\":%lld,\"cnf\":{\"jwk\":%s}}", CID,
             (long long)NOW + 10, jwk);
    s.q.client_id = CID;
    claim_case(&s, p, pl, AVOW_OK, NULL);
    s.q.client_id = "https://other.example.com";
    claim_case(&s, p, pl, AVOW_ERR_OAUTH_CLIENT_ID, E_ATT);
    OPENSSL_free(jwk);
    avow_buf_free(&pop);
}

/* ---- the PoP JWT ---- */

static void pop_case(setup *s, const char *att, const char *header, const char *payload,
                     EVP_PKEY *key, avow_err want)
{
    char *t = raw_jws(header, payload, key, RAW_ES);
    expect(s, att, t, NULL, want, want == AVOW_OK ? NULL : E_ATT);
    free(t);
}

static void test_pop_rules(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf att = make_att();
    const char *a = (char *)att.ptr;
    char *pl = pop_payload("");
    pop_case(&s, a, POP_H, pl, cli_key, AVOW_OK);
    pop_case(&s, a, POP_H, pl, other_key, AVOW_ERR_OAUTH_POP_SIG);
    pop_case(&s, a, "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\"}", pl, cli_key, AVOW_ERR_OAUTH_TYP);
    pop_case(&s, a, "{\"alg\":\"ES384\",\"typ\":\"oauth-client-attestation-pop+jwt\"}", pl, cli_key,
             AVOW_ERR_OAUTH_POP_SIG);
    char *t = raw_jws("{\"alg\":\"none\",\"typ\":\"oauth-client-attestation-pop+jwt\"}", pl,
                      cli_key, RAW_NONE);
    expect(&s, a, t, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    free(t);
    t = raw_jws("{\"alg\":\"HS256\",\"typ\":\"oauth-client-attestation-pop+jwt\"}", pl, cli_key,
                RAW_ES);
    expect(&s, a, t, NULL, AVOW_ERR_SIG_ALG, E_ATT);
    free(t);
    t = raw_jws(POP_H, pl, cli_key, RAW_DER);
    expect(&s, a, t, NULL, AVOW_ERR_OAUTH_POP_SIG, E_ATT);
    free(t);
    free(pl);
    char b[1024];
    snprintf(b, sizeof(b), "{\"aud\":\"https://evil.example\",\"jti\":\"j1\",\"iat\":%lld}",
             (long long)NOW);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_AUD);
    snprintf(b, sizeof(b), "{\"aud\":[\"%s\"],\"jti\":\"j1\",\"iat\":%lld}", AUD, (long long)NOW);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_AUD);
    s.o.flags = AVOW_OAUTH_AUD_ARRAY_OF_ONE;
    pop_case(&s, a, POP_H, b, cli_key, AVOW_OK);
    s.o.flags = 0;
    snprintf(b, sizeof(b), "{\"jti\":\"j1\",\"iat\":%lld}", (long long)NOW);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_CLAIM);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"iat\":%lld}", AUD, (long long)NOW);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_CLAIM);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"\",\"iat\":%lld}", AUD, (long long)NOW);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_CLAIM);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"j1\"}", AUD);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_CLAIM);
    /* the iat window: 300 s back and 60 s leeway either side */
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"j1\",\"iat\":%lld}", AUD,
             (long long)NOW - 360);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_OK);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"j1\",\"iat\":%lld}", AUD,
             (long long)NOW - 361);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_IAT);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"j1\",\"iat\":%lld}", AUD,
             (long long)NOW + 61);
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_IAT);
    snprintf(b, sizeof(b), "{\"aud\":\"%s\",\"jti\":\"j1\",\"iat\":%lld,\"challenge\":5}", AUD,
             (long long)NOW);
    s.o.expected_challenge = "abc";
    pop_case(&s, a, POP_H, b, cli_key, AVOW_ERR_OAUTH_CLAIM);
    s.o.expected_challenge = NULL;
    avow_buf_free(&att);
}

/* ---- challenges and replay ---- */

static void test_challenges(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_nonce_store *ns = NULL;
    OK(avow_nonce_store_open_sqlite(dbpath, &ns, NULL));
    s.o.challenges = ns;
    s.o.flags = AVOW_OAUTH_REQUIRE_CHALLENGE;
    avow_buf att = make_att();
    const char *a = (char *)att.ptr;
    avow_buf ch = {0};
    OK(avow_oauth_challenge_issue(ns, 60, NOW, &ch, NULL));
    avow_buf js = {0};
    OK(avow_oauth_challenge_to_json((char *)ch.ptr, &js, NULL));
    assert_non_null(strstr((char *)js.ptr, "{\"attestation_challenge\":\""));
    avow_buf_free(&js);

    /* no challenge: use_attestation_challenge with a fresh one */
    avow_buf p0 = make_pop("c0", NULL, NOW);
    avow_oauth_result *r = NULL;
    assert_int_equal(run(&s, a, (char *)p0.ptr, NULL, &r), AVOW_ERR_OAUTH_CHALLENGE_MISSING);
    assert_string_equal(avow_oauth_result_error(r), E_CHAL);
    assert_non_null(avow_oauth_result_challenge(r));
    assert_true(strlen(avow_oauth_result_challenge(r)) >= 43);
    avow_oauth_result_free(r);
    /* an unknown challenge */
    avow_buf p1 = make_pop("c1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW);
    assert_int_equal(run(&s, a, (char *)p1.ptr, NULL, &r), AVOW_ERR_OAUTH_CHALLENGE);
    assert_non_null(avow_oauth_result_challenge(r));
    avow_oauth_result_free(r);
    avow_buf p1b = make_pop("c1b", "not base64url!", NOW);
    expect(&s, a, (char *)p1b.ptr, NULL, AVOW_ERR_OAUTH_CHALLENGE, E_CHAL);
    /* the issued one, once */
    avow_buf p2 = make_pop("c2", (char *)ch.ptr, NOW);
    avow_buf p3 = make_pop("c3", (char *)ch.ptr, NOW);
    expect(&s, a, (char *)p2.ptr, NULL, AVOW_OK, NULL);
    expect(&s, a, (char *)p3.ptr, NULL, AVOW_ERR_OAUTH_CHALLENGE, E_CHAL);
    /* reusable: one challenge serves several PoPs */
    avow_buf ch2 = {0};
    OK(avow_oauth_challenge_issue(ns, 60, NOW, &ch2, NULL));
    s.o.flags = AVOW_OAUTH_REQUIRE_CHALLENGE | AVOW_OAUTH_CHALLENGE_REUSABLE;
    avow_buf p4 = make_pop("c4", (char *)ch2.ptr, NOW), p5 = make_pop("c5", (char *)ch2.ptr, NOW);
    expect(&s, a, (char *)p4.ptr, NULL, AVOW_OK, NULL);
    expect(&s, a, (char *)p5.ptr, NULL, AVOW_OK, NULL);
    /* its lifetime */
    s.o.now = NOW + 61;
    avow_buf p6 = make_pop("c6", (char *)ch2.ptr, NOW + 61);
    expect(&s, a, (char *)p6.ptr, NULL, AVOW_ERR_OAUTH_CHALLENGE, E_CHAL);
    s.o.now = NOW;
    /* combined mode: the challenge is the DPoP nonce */
    s.o.flags = AVOW_OAUTH_REQUIRE_CHALLENGE;
    avow_buf ch3 = {0};
    OK(avow_oauth_challenge_issue(ns, 60, NOW, &ch3, NULL));
    avow_buf d0 = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW);
    expect(&s, a, NULL, (char *)d0.ptr, AVOW_ERR_OAUTH_CHALLENGE_MISSING, E_CHAL);
    avow_buf d1 = make_dpop(cli_signer, "POST", HTU, (char *)ch3.ptr, NULL, NOW);
    expect(&s, a, NULL, (char *)d1.ptr, AVOW_OK, NULL);
    /* a session-bound challenge */
    s.o.challenges = NULL;
    s.o.expected_challenge = "session-42";
    avow_buf p7 = make_pop("c7", "session-42", NOW), p8 = make_pop("c8", "session-43", NOW);
    expect(&s, a, (char *)p7.ptr, NULL, AVOW_OK, NULL);
    expect(&s, a, (char *)p8.ptr, NULL, AVOW_ERR_OAUTH_CHALLENGE, E_CHAL);
    avow_nonce_store_free(ns);
    avow_buf *all[] = {&att, &ch, &ch2, &ch3, &p0, &p1, &p1b, &p2,
                       &p3,  &p4, &p5,  &p6,  &p7, &p8, &d0,  &d1};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        avow_buf_free(all[i]);
}

static void test_replay_across_restart(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_oauth_replay *rp = NULL;
    OK(avow_oauth_replay_open_sqlite(dbpath, &rp, NULL));
    s.o.replay = rp;
    avow_buf att = make_att();
    const char *a = (char *)att.ptr;
    /* a PoP that fails another check does not record its jti */
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    po.aud = "https://elsewhere.example";
    po.jti = "r1";
    po.iat = NOW;
    avow_buf bad = {0};
    OK(avow_oauth_pop_sign(cli_signer, &po, &bad, NULL));
    expect(&s, a, (char *)bad.ptr, NULL, AVOW_ERR_OAUTH_AUD, E_ATT);
    avow_buf p = make_pop("r1", NULL, NOW);
    expect(&s, a, (char *)p.ptr, NULL, AVOW_OK, NULL);
    expect(&s, a, (char *)p.ptr, NULL, AVOW_ERR_OAUTH_REPLAY, E_ATT);
    /* DPoP jti too */
    avow_buf d = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW);
    expect(&s, a, NULL, (char *)d.ptr, AVOW_OK, NULL);
    expect(&s, a, NULL, (char *)d.ptr, AVOW_ERR_OAUTH_REPLAY, E_ATT);
    avow_oauth_replay_free(rp);
    /* a restart: the set is the file */
    OK(avow_oauth_replay_open_sqlite(dbpath, &rp, NULL));
    s.o.replay = rp;
    expect(&s, a, (char *)p.ptr, NULL, AVOW_ERR_OAUTH_REPLAY, E_ATT);
    /* past the window the entry may go; the PoP is then refused by its iat */
    size_t removed = 0;
    OK(avow_oauth_replay_purge(rp, NOW + 361, &removed, NULL));
    assert_int_equal(removed, 2);
    s.o.now = NOW + 361;
    expect(&s, a, (char *)p.ptr, NULL, AVOW_ERR_OAUTH_IAT, E_ATT);
    /* front-end argument checks */
    uint8_t k[65] = {0};
    assert_int_equal(avow_oauth_replay_insert(rp, k, 65, NOW, NOW, NULL), AVOW_ERR_ARG);
    OK(avow_oauth_replay_insert(rp, k, 8, NOW + 10, NOW, NULL));
    assert_int_equal(avow_oauth_replay_insert(rp, k, 8, NOW + 10, NOW, NULL),
                     AVOW_ERR_OAUTH_REPLAY);
    OK(avow_oauth_replay_insert(rp, k, 8, NOW + 100, NOW + 11, NULL)); /* expired: taken again */
    avow_oauth_replay_ops bad_ops = {0};
    avow_oauth_replay *x = NULL;
    assert_int_equal(avow_oauth_replay_new(&bad_ops, NULL, &x, NULL), AVOW_ERR_ARG);
    avow_oauth_replay_free(rp);
    avow_buf_free(&att);
    avow_buf_free(&bad);
    avow_buf_free(&p);
    avow_buf_free(&d);
}

/* ---- DPoP ---- */

static void test_dpop_rules(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    avow_buf att = make_att();
    const char *a = (char *)att.ptr;
    avow_buf d = make_dpop(cli_signer, "POST", HTU, NULL, "tok", NOW);
    s.q.access_token = "tok";
    expect(&s, a, NULL, (char *)d.ptr, AVOW_OK, NULL);
    s.q.access_token = "other";
    expect(&s, a, NULL, (char *)d.ptr, AVOW_ERR_DPOP_ATH, E_DPOP);
    avow_buf d0 = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW);
    expect(&s, a, NULL, (char *)d0.ptr, AVOW_ERR_DPOP_ATH, E_DPOP);
    s.q.access_token = NULL;
    s.q.method = "GET";
    expect(&s, a, NULL, (char *)d0.ptr, AVOW_ERR_DPOP_HTM, E_DPOP);
    s.q.method = "POST";
    s.q.url = "https://AS.example.com/token?code=1";
    expect(&s, a, NULL, (char *)d0.ptr, AVOW_OK, NULL);
    s.q.url = "https://as.example.com/other";
    expect(&s, a, NULL, (char *)d0.ptr, AVOW_ERR_DPOP_HTU, E_DPOP);
    s.q.url = HTU;
    avow_buf old = make_dpop(cli_signer, "POST", HTU, NULL, NULL, NOW - 400);
    expect(&s, a, NULL, (char *)old.ptr, AVOW_ERR_OAUTH_IAT, E_DPOP);
    /* header rules: typ, no jwk, a private jwk */
    char *jwk = jwk_of(cli_key), h[1024], pl[512];
    snprintf(pl, sizeof(pl), "{\"htm\":\"POST\",\"htu\":\"%s\",\"jti\":\"x\",\"iat\":%lld}", HTU,
             (long long)NOW);
    snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"jwk\":%s}", jwk);
    char *t = raw_jws(h, pl, cli_key, RAW_ES);
    expect(&s, a, NULL, t, AVOW_OK, NULL);
    free(t);
    snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"typ\":\"jwt\",\"jwk\":%s}", jwk);
    t = raw_jws(h, pl, cli_key, RAW_ES);
    expect(&s, a, NULL, t, AVOW_ERR_OAUTH_TYP, E_DPOP);
    free(t);
    t = raw_jws("{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\"}", pl, cli_key, RAW_ES);
    expect(&s, a, NULL, t, AVOW_ERR_MISSING_CLAIM, E_DPOP);
    free(t);
    snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"jwk\":%.*s,\"d\":\"AAAA\"}}",
             (int)strlen(jwk) - 1, jwk);
    t = raw_jws(h, pl, cli_key, RAW_ES);
    expect(&s, a, NULL, t, AVOW_ERR_MALFORMED, E_DPOP);
    free(t);
    snprintf(pl, sizeof(pl), "{\"htm\":\"POST\",\"htu\":\"%s\",\"iat\":%lld}", HTU, (long long)NOW);
    snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"jwk\":%s}", jwk);
    t = raw_jws(h, pl, cli_key, RAW_ES);
    expect(&s, a, NULL, t, AVOW_ERR_OAUTH_CLAIM, E_ATT);
    free(t);
    OPENSSL_free(jwk);
    avow_buf_free(&att);
    avow_buf_free(&d);
    avow_buf_free(&d0);
    avow_buf_free(&old);
}

/* ---- the draft's examples ---- */

static char *vec(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "oauth/%s", name);
    avow_buf b = tu_read_vector(rel);
    char *s = strndup((char *)b.ptr, strcspn((char *)b.ptr, "\r\n"));
    avow_buf_free(&b);
    return s;
}

static EVP_PKEY *vec_key(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "oauth/%s", name);
    avow_buf b = tu_read_vector(rel);
    BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    avow_buf_free(&b);
    assert_non_null(k);
    return k;
}

static void test_draft_vectors(void **state)
{
    (void)state;
    setup s;
    set_init(&s);
    EVP_PKEY *ak = vec_key("attester-key.pub.pem"),
             *pk = vec_key("client-instance-pop-key.pub.pem");
    s.keys[0] = ak;
    s.o.now = 1772487595;
    char *att = vec("draft10-client-attestation.jwt");
    char *as = vec("draft10-client-attestation-pop-as.jwt");
    char *rs = vec("draft10-client-attestation-pop-rs.jwt");
    avow_oauth_result *r = NULL;
    assert_int_equal(run(&s, att, as, NULL, &r), AVOW_OK);
    assert_string_equal(avow_oauth_result_client_id(r), "https://client.example.com");
    assert_int_equal(EVP_PKEY_eq(avow_oauth_result_get0_cnf(r), pk), 1);
    avow_oauth_result_free(r);
    expect(&s, att, rs, NULL, AVOW_ERR_OAUTH_AUD, E_ATT);
    s.o.audience = "https://rs.example.com";
    expect(&s, att, rs, NULL, AVOW_OK, NULL);
    /* an hour later the PoPs are out of the window */
    s.o.now = 1772487595 + 3600;
    expect(&s, att, rs, NULL, AVOW_ERR_OAUTH_IAT, E_ATT);
    /* the challenge example was not issued by this server */
    avow_nonce_store *ns = NULL;
    OK(avow_nonce_store_open_sqlite(dbpath, &ns, NULL));
    s.o.challenges = ns;
    s.o.now = 1772487595;
    expect(&s, att, rs, NULL, AVOW_ERR_OAUTH_CHALLENGE, E_CHAL);
    s.o.challenges = NULL;
    avow_nonce_store_free(ns);
    /* -07: the attestation verifies, its PoP signature does not */
    char *a7 = vec("draft07-client-attestation.jwt"),
         *p7 = vec("draft07-client-attestation-pop.jwt");
    char *c7 = vec("draft07-concatenated-serialization.txt");
    s.o.now = 1300815780;
    s.o.audience = AUD;
    expect(&s, a7, p7, NULL, AVOW_ERR_OAUTH_POP_SIG, E_ATT);
    expect(&s, c7, p7, NULL, AVOW_ERR_MALFORMED, E_ATT);
    free(att);
    free(as);
    free(rs);
    free(a7);
    free(p7);
    free(c7);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(pk);
}

/* ---- builders and the attester ---- */

static void test_builders_and_attester(void **state)
{
    (void)state;
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    avow_buf b = {0};
    assert_int_equal(avow_oauth_pop_sign(cli_signer, &po, &b, NULL), AVOW_ERR_ARG);
    po.aud = AUD;
    po.extra_claims_json = "{\"jti\":\"x\"}";
    assert_int_equal(avow_oauth_pop_sign(cli_signer, &po, &b, NULL), AVOW_ERR_ARG);
    po.extra_claims_json = "{\"x\":1}";
    OK(avow_oauth_pop_sign(cli_signer, &po, &b, NULL));
    avow_buf_free(&b);
    avow_oauth_attestation_opts ao;
    avow_oauth_attestation_opts_init(&ao);
    ao.client_id = CID;
    ao.cnf_key = cli_key;
    ao.ttl = 60;
    ao.extra_claims_json = "{\"cnf\":{}}";
    assert_int_equal(avow_oauth_attestation_sign(att_signer, &ao, &b, NULL), AVOW_ERR_ARG);
    ao.extra_claims_json = NULL;
    /* the attester refuses a cnf key that is not the key appraised */
    avow_buf spki = tu_spki(other_key);
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.key.ptr = spki.ptr;
    in.key.len = spki.len;
    avow_appraisal *ap = NULL;
    assert_int_equal(avow_oauth_attest(NULL, &in, NULL, att_signer, &ao, &b, &ap, NULL),
                     AVOW_ERR_OAUTH_KEY_BINDING);
    assert_null(ap);
    assert_null(b.ptr);
    avow_buf_free(&spki);
    avow_oauth_verify_opts vo;
    avow_oauth_verify_opts_init(&vo);
    vo.size--;
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    avow_oauth_result *r = NULL;
    assert_int_equal(avow_oauth_verify(&q, &vo, &r, NULL), AVOW_ERR_ARG);
    assert_null(r);
    avow_oauth_verify_opts_init(&vo);
    vo.audience = AUD;
    vo.flags = AVOW_OAUTH_REQUIRE_CHALLENGE; /* and nothing to check it against */
    assert_int_equal(avow_oauth_verify(&q, &vo, &r, NULL), AVOW_ERR_ARG);
    assert_null(r);
}

static void test_metadata(void **state)
{
    (void)state;
    avow_oauth_verify_opts o;
    avow_oauth_verify_opts_init(&o);
    avow_buf m = {0};
    OK(avow_oauth_metadata_json(&o, "https://as.example.com/as/challenge", &m, NULL));
    const char *t = (const char *)m.ptr;
    assert_non_null(strstr(t, "\"attest_jwt_client_auth\""));
    assert_non_null(strstr(t, "\"attest_jwt_client_auth_dpop\""));
    assert_non_null(strstr(t, "\"dpop_combined\""));
    assert_non_null(strstr(t, "\"challenge_endpoint\": \"https://as.example.com/as/challenge\""));
    assert_non_null(strstr(t, "\"ES256\""));
    assert_null(strstr(t, "HS256"));
    avow_buf_free(&m);
    static const avow_sigalg only[] = {AVOW_SIGALG_ECDSA_SHA256};
    uint8_t k[32] = {0};
    avow_oauth_secret sec = {k, sizeof(k)};
    o.attester_secrets = &sec;
    o.nattester_secrets = 1;
    o.pop_algs = only;
    o.npop_algs = 1;
    o.flags = AVOW_OAUTH_NO_COMBINED;
    OK(avow_oauth_metadata_json(&o, NULL, &m, NULL));
    t = (const char *)m.ptr;
    assert_null(strstr(t, "attest_jwt_client_auth_dpop"));
    assert_null(strstr(t, "challenge_endpoint"));
    assert_non_null(strstr(t, "HS256"));
    assert_null(strstr(t, "\"PS256\",\n    \"ES256\""));
    avow_buf_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_pop_mode),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_key_cache_threads),
        cmocka_unit_test(test_valid_combined_and_separate_dpop),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_attestation_header_rules),
        cmocka_unit_test(test_attestation_hmac),
        cmocka_unit_test(test_attestation_claims),
        cmocka_unit_test(test_pop_rules),
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_replay_across_restart),
        cmocka_unit_test(test_dpop_rules),
        cmocka_unit_test(test_draft_vectors),
        cmocka_unit_test(test_builders_and_attester),
        cmocka_unit_test(test_metadata),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
