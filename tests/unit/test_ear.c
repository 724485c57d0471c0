/*
 * EAR: JSON structure and -03 names, the tier mapping and worst-status
 * rule, reading -03 and -02 back, and the JWT: round trips for every JOSE
 * algorithm through a software avow_signer, and each forgery rejected with
 * its own code (tampered payload, alg none, HS256 keyed with the public key,
 * DER-form ECDSA, wrong key type, typ mismatch, expired exp).
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <avow/ear.h>
#include <avow/policy.h>

#include "verifier/ear_int.h"

static const uint8_t NONCE[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static avow_rule_result rule(const char *id, avow_rule_outcome o, avow_tv_key v, avow_tier t,
                             int required)
{
    avow_rule_result r;
    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%s", id);
    r.outcome = o;
    r.vector = v;
    r.tier = t;
    r.required = required;
    snprintf(r.detail, sizeof(r.detail), "detail of %s", id);
    return r;
}

static json_t *to_json(const avow_ear *ear)
{
    avow_buf b = {0};
    avow_diag d = {0};
    assert_int_equal(avow_ear_to_json(ear, &b, &d), AVOW_OK);
    json_error_t e;
    json_t *j = json_loadb((const char *)b.ptr, b.len, 0, &e);
    assert_non_null(j);
    avow_buf_free(&b);
    return j;
}

static const char *jstr(json_t *o, const char *path)
{
    /* path: keys separated by '/' */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
        cur = json_object_get(cur, k);
    return json_string_value(cur);
}

static long long jint(json_t *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
        cur = json_object_get(cur, k);
    if (!json_is_integer(cur))
        fail_msg("%s is not an integer", path);
    return (long long)json_integer_value(cur);
}

/* One affirming statement with a passing report. */
static avow_ear *good_ear(const avow_policy_report *rep, const avow_buf *spki, time_t iat,
                          unsigned ttl)
{
    avow_ear_statement st = {sizeof(avow_ear_statement),
                             "pkix-evidence",
                             AVOW_OK,
                             NULL,
                             rep,
                             AVOW_NONCE_MATCH,
                             AVOW_OK,
                             spki ? spki->ptr : NULL,
                             spki ? spki->len : 0,
                             NULL,
                             NULL};
    avow_ear_opts o = {sizeof(avow_ear_opts), iat, ttl, NONCE, sizeof(NONCE), NULL};
    avow_ear *ear = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_ear_build(&st, 1, &o, &ear, &d), AVOW_OK);
    return ear;
}

static void test_structure(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256");
    avow_buf spki = tu_spki(k);
    avow_rule_result rr[2] = {
        rule("key-sensitive", AVOW_RULE_PASS, AVOW_TV_STORAGE_OPAQUE, AVOW_TIER_CONTRAINDICATED, 1),
        rule("nonce", AVOW_RULE_SKIPPED, AVOW_TV_INSTANCE_IDENTITY, AVOW_TIER_CONTRAINDICATED, 1)};
    avow_policy_report rep = {"avow-default", 1, 1, 0, 0, 1, 2, rr};
    avow_ear *ear = good_ear(&rep, &spki, 1700000000, 3600);
    json_t *j = to_json(ear);

    assert_string_equal(jstr(j, "eat_profile"), AVOW_EAR_PROFILE);
    assert_string_equal(AVOW_EAR_PROFILE, "tag:ietf.org,2026:rats/ear#03");
    assert_string_equal(AVOW_EAR_MEDIA_TYPE_JWT,
                        "application/eat+jwt; eat_profile=\"tag:ietf.org,2026:rats/ear#03\"");
    assert_string_equal(AVOW_EAR_JWT_TYP, "eat+jwt");
    assert_int_equal(jint(j, "iat"), 1700000000);
    assert_int_equal(jint(j, "exp"), 1700003600);
    assert_string_equal(jstr(j, "ear_status"), "affirming");
    assert_string_equal(jstr(j, "ear_verifier_id/developer"), "avow");
    assert_string_equal(jstr(j, "ear_verifier_id/build"), "avow " AVOW_VERSION);
    char *nb64 = avow__b64url_encode(NONCE, sizeof(NONCE));
    assert_string_equal(jstr(j, "eat_nonce"), nb64);
    OPENSSL_free(nb64);
    assert_string_equal(jstr(j, "submods/pkix-evidence/ear_status"), "affirming");
    assert_int_equal(jint(j, "submods/pkix-evidence/ear_trustworthiness_vector/instance-identity"),
                     2);
    assert_int_equal(jint(j, "submods/pkix-evidence/ear_trustworthiness_vector/storage-opaque"), 2);
    json_t *sub = json_object_get(json_object_get(j, "submods"), "pkix-evidence");
    json_t *ids = json_object_get(sub, "ear_appraisal_policy_ids");
    assert_true(json_is_array(ids));
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "avow-default");
    char *kb64 = avow__b64url_encode(spki.ptr, spki.len);
    assert_string_equal(jstr(j, "submods/pkix-evidence/ear_veraison_key_attestation/akpub"), kb64);
    OPENSSL_free(kb64);
    assert_null(json_object_get(sub, "avow_reasons")); /* nothing went wrong */
    assert_int_equal(json_object_size(json_object_get(sub, "ear_trustworthiness_vector")), 2);
    /* No -02 spellings. */
    assert_null(json_object_get(sub, "ear.status"));
    assert_null(json_object_get(j, "ear.verifier-id"));
    json_decref(j);

    /* Output is stable: keys sorted, compact. */
    avow_buf a = {0}, b = {0};
    assert_int_equal(avow_ear_to_json(ear, &a, NULL), AVOW_OK);
    assert_int_equal(avow_ear_to_json(ear, &b, NULL), AVOW_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ptr, b.ptr, a.len);
    assert_true(strncmp((const char *)a.ptr, "{\"ear_status\":", 14) == 0);
    avow_buf_free(&a);
    avow_buf_free(&b);
    avow_ear_free(ear);
    avow_buf_free(&spki);
    EVP_PKEY_free(k);
    TU_NO_OSSL_ERR();
}

static const avow_ear_reason *find_reason(const avow_ear_submod *sm, const char *name)
{
    for (size_t i = 0; i < sm->nreasons; i++)
        if (strcmp(sm->reasons[i].name, name) == 0)
            return &sm->reasons[i];
    return NULL;
}

static void test_tiers_and_worst(void **state)
{
    (void)state;
    avow_rule_result warn_rr[2] = {
        rule("key-sensitive", AVOW_RULE_PASS, AVOW_TV_STORAGE_OPAQUE, AVOW_TIER_CONTRAINDICATED, 1),
        rule("model", AVOW_RULE_FAIL, AVOW_TV_HARDWARE, AVOW_TIER_WARNING, 0)};
    avow_policy_report warn_rep = {"hsm", 0, 1, 1, 0, 0, 2, warn_rr};
    avow_rule_result bad_rr[3] = {
        rule("key-not-extractable", AVOW_RULE_FAIL, AVOW_TV_STORAGE_OPAQUE,
             AVOW_TIER_CONTRAINDICATED, 1),
        rule("fips", AVOW_RULE_UNKNOWN, AVOW_TV_HARDWARE, AVOW_TIER_CONTRAINDICATED, 1),
        rule("vendor", AVOW_RULE_UNKNOWN, AVOW_TV_HARDWARE, AVOW_TIER_CONTRAINDICATED, 0)};
    avow_policy_report bad_rep = {"hsm", 0, 0, 1, 2, 0, 3, bad_rr};

    avow_ear_statement st[4] = {
        {sizeof(avow_ear_statement), "good", AVOW_OK, NULL, NULL, AVOW_NONCE_MATCH, AVOW_OK, NULL,
         0, NULL, NULL},
        {sizeof(avow_ear_statement), "warned", AVOW_OK, NULL, &warn_rep, AVOW_NONCE_NOT_CHECKED,
         AVOW_OK, NULL, 0, NULL, NULL},
        {sizeof(avow_ear_statement), "policy", AVOW_OK, NULL, &bad_rep, AVOW_NONCE_NOT_CHECKED,
         AVOW_OK, NULL, 0, NULL, NULL},
        {sizeof(avow_ear_statement), "forged", AVOW_ERR_SIG_INVALID, "signature 0 does not verify",
         NULL, AVOW_NONCE_MATCH, AVOW_ERR_NONCE_REPLAY, NULL, 0, NULL, NULL},
    };
    avow_ear *ear = NULL;
    avow_diag d = {0};

    /* good + warned: top is warning. */
    assert_int_equal(avow_ear_build(st, 2, NULL, &ear, &d), AVOW_OK);
    assert_int_equal(ear->submods[0].status, AVOW_TIER_AFFIRMING);
    assert_int_equal(ear->submods[1].status, AVOW_TIER_WARNING);
    assert_int_equal(ear->submods[1].vector[AVOW_TV_HARDWARE], 32);
    assert_int_equal(ear->status, AVOW_TIER_WARNING);
    const avow_ear_reason *r = find_reason(&ear->submods[1], "model");
    assert_non_null(r);
    assert_int_equal(r->is_rule, 1);
    assert_int_equal(r->code, AVOW_ERR_POLICY);
    assert_int_equal(r->tier, AVOW_TIER_WARNING);
    avow_ear_free(ear);

    /* All four: contraindicated, each failure with its own reason. */
    assert_int_equal(avow_ear_build(st, 4, NULL, &ear, &d), AVOW_OK);
    assert_int_equal(ear->status, AVOW_TIER_CONTRAINDICATED);
    const avow_ear_submod *pol = &ear->submods[2], *forged = &ear->submods[3];
    assert_int_equal(pol->status, AVOW_TIER_CONTRAINDICATED);
    assert_int_equal(pol->vector[AVOW_TV_STORAGE_OPAQUE], 96);
    assert_int_equal(pol->vector[AVOW_TV_HARDWARE], 96); /* the required unknown rule */
    assert_int_equal(pol->nreasons, 2);                  /* the optional unknown costs nothing */
    assert_non_null(find_reason(pol, "key-not-extractable"));
    assert_non_null(strstr(find_reason(pol, "fips")->detail, "not established"));
    assert_null(find_reason(pol, "vendor"));

    assert_int_equal(forged->status, AVOW_TIER_CONTRAINDICATED);
    assert_int_equal(forged->vector[AVOW_TV_INSTANCE_IDENTITY], 99);
    r = find_reason(forged, "signature");
    assert_non_null(r);
    assert_int_equal(r->code, AVOW_ERR_SIG_INVALID);
    assert_non_null(strstr(r->detail, "signature 0 does not verify"));
    r = find_reason(forged, "freshness");
    assert_non_null(r);
    assert_int_equal(r->code, AVOW_ERR_NONCE_REPLAY);

    json_t *j = to_json(ear);
    assert_string_equal(jstr(j, "ear_status"), "contraindicated");
    json_t *reasons =
        json_object_get(json_object_get(json_object_get(j, "submods"), "forged"), "avow_reasons");
    assert_int_equal(json_array_size(reasons), 2);
    assert_string_equal(jstr(json_array_get(reasons, 0), "check"), "signature");
    assert_string_equal(jstr(json_array_get(reasons, 0), "code"), "AVOW_ERR_SIG_INVALID");
    assert_string_equal(jstr(json_array_get(reasons, 1), "code"), "AVOW_ERR_NONCE_REPLAY");
    reasons =
        json_object_get(json_object_get(json_object_get(j, "submods"), "policy"), "avow_reasons");
    assert_string_equal(jstr(json_array_get(reasons, 0), "rule"), "key-not-extractable");
    assert_string_equal(jstr(json_array_get(reasons, 0), "code"), "AVOW_ERR_POLICY");
    json_decref(j);
    avow_ear_free(ear);

    /* Nonce states. */
    avow_ear_statement ns[2] = {{sizeof(avow_ear_statement), "absent", AVOW_OK, NULL, NULL,
                                 AVOW_NONCE_ABSENT, AVOW_OK, NULL, 0, NULL, NULL},
                                {sizeof(avow_ear_statement), "mismatch", AVOW_ERR_NONCE_MISMATCH,
                                 NULL, NULL, AVOW_NONCE_MISMATCH, AVOW_OK, NULL, 0, NULL, NULL}};
    assert_int_equal(avow_ear_build(ns, 2, NULL, &ear, &d), AVOW_OK);
    assert_int_equal(ear->submods[0].status, AVOW_TIER_CONTRAINDICATED);
    assert_int_equal(find_reason(&ear->submods[0], "nonce")->code, AVOW_ERR_NONCE_MISSING);
    assert_int_equal(ear->submods[1].nreasons, 1); /* not reported twice */
    assert_int_equal(ear->submods[1].reasons[0].code, AVOW_ERR_NONCE_MISMATCH);
    avow_ear_free(ear);

    /* Bad arguments. */
    avow_ear_statement dup[2] = {st[0], st[0]};
    assert_int_equal(avow_ear_build(dup, 2, NULL, &ear, &d), AVOW_ERR_ARG);
    assert_null(ear);
    assert_int_equal(avow_ear_build(st, 0, NULL, &ear, &d), AVOW_ERR_ARG);
    avow_ear_opts shortnonce = {sizeof(avow_ear_opts), 0, 0, NONCE, 4, NULL};
    assert_int_equal(avow_ear_build(st, 1, &shortnonce, &ear, &d), AVOW_ERR_ARG);
    TU_NO_OSSL_ERR();
}

static void test_read_back(void **state)
{
    (void)state;
    avow_rule_result rr[1] = {
        rule("model", AVOW_RULE_FAIL, AVOW_TV_HARDWARE, AVOW_TIER_WARNING, 0)};
    avow_policy_report rep = {"hsm", 0, 0, 1, 0, 0, 1, rr};
    avow_ear *ear = good_ear(&rep, NULL, 1700000000, 0);
    avow_buf b = {0};
    assert_int_equal(avow_ear_to_json(ear, &b, NULL), AVOW_OK);
    avow_ear *back = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_ear_from_json((const char *)b.ptr, b.len, &back, &d), AVOW_OK);
    assert_int_equal(back->draft, 3);
    assert_int_equal(back->iat, 1700000000);
    assert_int_equal(back->exp, 0);
    assert_int_equal(back->status, AVOW_TIER_WARNING);
    assert_int_equal(back->nsubmods, 1);
    assert_string_equal(back->submods[0].name, "pkix-evidence");
    assert_int_equal(back->submods[0].vector_set, ear->submods[0].vector_set);
    assert_int_equal(back->submods[0].vector[AVOW_TV_HARDWARE], 32);
    assert_int_equal(back->submods[0].nreasons, 1);
    assert_string_equal(back->submods[0].reasons[0].name, "model");
    assert_int_equal(back->submods[0].reasons[0].code, AVOW_ERR_POLICY);
    assert_string_equal(back->submods[0].policy_ids[0], "hsm");
    assert_string_equal(back->nonce, ear->nonce);
    avow_ear_free(back);
    avow_buf_free(&b);
    avow_ear_free(ear);

    /* The -02 spelling. */
    static const char v02[] =
        "{\"eat_profile\":\"tag:ietf.org,2025-07:ear\",\"iat\":1666529184,"
        "\"ear.verifier-id\":{\"developer\":\"https://veraison-project.org\",\"build\":\"vts "
        "0.0.1\"},"
        "\"submods\":{\"PSA\":{\"ear.status\":\"contraindicated\","
        "\"ear.trustworthiness-vector\":{\"instance-identity\":2,\"executables\":96,\"hardware\":2}"
        ","
        "\"ear.appraisal-policy-id\":\"https://veraison.example/policy/1/60a0068d\","
        "\"ear.veraison.key-attestation\":{\"akpub\":\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQc\"}}}}";
    assert_int_equal(avow_ear_from_json(v02, strlen(v02), &back, &d), AVOW_OK);
    assert_int_equal(back->draft, 2);
    assert_int_equal(back->has_status, 0);
    assert_int_equal(back->submods[0].status, AVOW_TIER_CONTRAINDICATED);
    assert_int_equal(back->submods[0].vector[AVOW_TV_EXECUTABLES], 96);
    assert_int_equal(back->submods[0].vector_set, (1u << AVOW_TV_INSTANCE_IDENTITY) |
                                                      (1u << AVOW_TV_EXECUTABLES) |
                                                      (1u << AVOW_TV_HARDWARE));
    assert_string_equal(back->submods[0].policy_ids[0],
                        "https://veraison.example/policy/1/60a0068d");
    assert_int_equal(back->submods[0].akpub.len, 23);
    assert_string_equal(back->developer, "https://veraison-project.org");
    avow_ear_free(back);

    /* The -03 example of the draft. */
    static const char v03[] =
        "{\"eat_profile\":\"tag:ietf.org,2026:rats/ear#03\",\"iat\":1666529184,"
        "\"ear_verifier_id\":{\"developer\":\"https://veraison-project.org\",\"build\":\"vts "
        "0.0.1\"},"
        "\"ear_raw_evidence\":\"NzQ3MjY5NzM2NTYzNzQK\",\"submods\":{\"PSA\":{\"ear_status\":"
        "\"contraindicated\","
        "\"ear_trustworthiness_vector\":{\"instance-identity\":2,\"executables\":96,\"hardware\":2}"
        ","
        "\"ear_appraisal_policy_ids\":[\"https://veraison.example/policy/1/60a0068d\"]}}}";
    assert_int_equal(avow_ear_from_json(v03, strlen(v03), &back, &d), AVOW_OK);
    assert_int_equal(back->submods[0].vector[AVOW_TV_EXECUTABLES], 96);
    avow_ear_free(back);

    struct {
        const char *json;
        avow_err code;
        const char *field;
    } bad[] = {
        {"{\"eat_profile\":\"tag:example,2020:other\",\"iat\":1}", AVOW_ERR_VERSION, "eat_profile"},
        {"{\"iat\":1}", AVOW_ERR_MALFORMED, "eat_profile"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/ear#03\",\"iat\":\"x\"}", AVOW_ERR_MALFORMED,
         "iat"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/"
         "ear#03\",\"iat\":1,\"ear_verifier_id\":{\"developer\":\"a\",\"build\":\"b\"},\"submods\":"
         "{}}",
         AVOW_ERR_MALFORMED, "submods"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/"
         "ear#03\",\"iat\":1,\"ear_verifier_id\":{\"developer\":\"a\",\"build\":\"b\"},\"submods\":"
         "{\"x\":{\"ear_status\":\"great\"}}}",
         AVOW_ERR_MALFORMED, "submods.x.ear_status"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/"
         "ear#03\",\"iat\":1,\"ear_verifier_id\":{\"developer\":\"a\",\"build\":\"b\"},\"submods\":"
         "{\"x\":{\"ear_status\":\"affirming\",\"ear_trustworthiness_vector\":{\"hardware\":200}}}"
         "}",
         AVOW_ERR_MALFORMED, "submods.x.ear_trustworthiness_vector"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/"
         "ear#03\",\"iat\":1,\"ear_verifier_id\":{\"developer\":\"a\",\"build\":\"b\"},\"submods\":"
         "{\"x\":{\"ear_status\":\"affirming\",\"ear_trustworthiness_vector\":{\"hardwar\":2}}}}",
         AVOW_ERR_MALFORMED, "submods.x.ear_trustworthiness_vector"},
        {"{\"eat_profile\":\"tag:ietf.org,2026:rats/"
         "ear#03\",\"iat\":1,\"ear_status\":\"affirming\",\"ear_verifier_id\":{\"developer\":\"a\","
         "\"build\":\"b\"},\"submods\":{\"x\":{\"ear_status\":\"warning\"}}}",
         AVOW_ERR_MALFORMED, "ear_status"},
        {"{\"eat_profile\":", AVOW_ERR_JSON, "ear"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        back = (avow_ear *)1;
        avow_err rc = avow_ear_from_json(bad[i].json, strlen(bad[i].json), &back, &d);
        if (rc != bad[i].code || strcmp(d.field, bad[i].field) != 0)
            fail_msg("case %zu: got %s field %s (%s)", i, avow_errname(rc), d.field, d.detail);
        assert_null(back);
    }
    TU_NO_OSSL_ERR();
}

/* --- JWT --- */

static char *part_json(const char *jwt, int which)
{
    const char *s = jwt;
    for (int i = 0; i < which; i++)
        s = strchr(s, '.') + 1;
    const char *e = strchr(s, '.');
    avow_buf b = {0};
    assert_int_equal(avow__b64url_decode(s, e ? (size_t)(e - s) : strlen(s), &b), AVOW_OK);
    char *t = calloc(1, b.len + 1);
    memcpy(t, b.ptr, b.len);
    avow_buf_free(&b);
    return t;
}

static void roundtrip(EVP_PKEY *key, avow_sigalg alg, const char *jose)
{
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(key, alg, &s, NULL), AVOW_OK);
    avow_ear *ear = good_ear(NULL, NULL, 0, 600);
    avow_buf jwt = {0}, payload = {0}, json = {0};
    avow_diag d = {0};
    assert_int_equal(avow_ear_sign_jwt(ear, s, "verifier-1", &jwt, &d), AVOW_OK);
    char *h = part_json((const char *)jwt.ptr, 0);
    char want[128];
    snprintf(want, sizeof(want), "{\"alg\":\"%s\",\"kid\":\"verifier-1\",\"typ\":\"eat+jwt\"}",
             jose);
    assert_string_equal(h, want);
    free(h);
    avow_err rc = avow_ear_verify_jwt((const char *)jwt.ptr, jwt.len, key, 0, 0, &payload, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s (%s)", jose, avow_errname(rc), d.detail);
    assert_int_equal(avow_ear_to_json(ear, &json, NULL), AVOW_OK);
    assert_int_equal(payload.len, json.len);
    assert_memory_equal(payload.ptr, json.ptr, json.len);
    avow_ear *back = NULL;
    assert_int_equal(avow_ear_from_json((const char *)payload.ptr, payload.len, &back, &d),
                     AVOW_OK);
    assert_int_equal(back->status, AVOW_TIER_AFFIRMING);
    avow_ear_free(back);
    avow_buf_free(&jwt);
    avow_buf_free(&payload);
    avow_buf_free(&json);
    avow_ear_free(ear);
    avow_signer_free(s);
    TU_NO_OSSL_ERR();
}

static void test_jwt_roundtrip(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256"), *p384 = tu_key_ec("P-384"), *p521 = tu_key_ec("P-521");
    EVP_PKEY *rsa = tu_key_rsa(2048), *ed = tu_key_ed25519();
    roundtrip(p256, AVOW_SIGALG_NONE, "ES256");
    roundtrip(p384, AVOW_SIGALG_NONE, "ES384");
    roundtrip(p521, AVOW_SIGALG_NONE, "ES512");
    roundtrip(rsa, AVOW_SIGALG_RSA_PSS_SHA256, "PS256");
    roundtrip(rsa, AVOW_SIGALG_RSA_PKCS1_SHA256, "RS256");
    roundtrip(ed, AVOW_SIGALG_NONE, "EdDSA");

    /* A signer whose algorithm has no JOSE name for its key. */
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_ECDSA_SHA384, &s, NULL), AVOW_OK);
    avow_ear *ear = good_ear(NULL, NULL, 0, 0);
    avow_buf jwt = {0};
    assert_int_equal(avow_ear_sign_jwt(ear, s, NULL, &jwt, NULL), AVOW_ERR_UNSUPPORTED);
    avow_ear_free(ear);
    avow_signer_free(s);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ed);
}

/* Assembles header.payload.signature with a signature made by signer (DER for ECDSA unless raw). */
static char *make_jws(avow_signer *s, const char *header, const char *payload, int ec_raw,
                      size_t coord)
{
    char *h = avow__b64url_encode((const uint8_t *)header, strlen(header));
    char *p = avow__b64url_encode((const uint8_t *)payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, (const uint8_t *)input, strlen(input), &sig, NULL),
                     AVOW_OK);
    uint8_t raw[132];
    const uint8_t *sp = sig.ptr;
    size_t sl = sig.len;
    if (ec_raw) {
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
    char *jwt = malloc(n);
    snprintf(jwt, n, "%s.%s", input, sb);
    free(input);
    OPENSSL_free(h);
    OPENSSL_free(p);
    OPENSSL_free(sb);
    avow_buf_free(&sig);
    return jwt;
}

static avow_err verify_str(const char *jwt, EVP_PKEY *k, time_t now, unsigned leeway, avow_diag *d)
{
    avow_buf payload = {0};
    avow_err rc = avow_ear_verify_jwt(jwt, strlen(jwt), k, now, leeway, &payload, d);
    if (rc != AVOW_OK)
        assert_null(payload.ptr);
    avow_buf_free(&payload);
    TU_NO_OSSL_ERR();
    return rc;
}

static void test_jwt_rejections(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256"), *k384 = tu_key_ec("P-384"), *rsa = tu_key_rsa(2048);
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    avow_ear *ear = good_ear(NULL, NULL, 1000, 60);
    avow_buf jwt = {0}, payload = {0};
    avow_diag d = {0};
    assert_int_equal(avow_ear_sign_jwt(ear, s, NULL, &jwt, &d), AVOW_OK);
    const char *tok = (const char *)jwt.ptr;
    assert_int_equal(avow_ear_to_json(ear, &payload, NULL), AVOW_OK);
    const char *pj = (const char *)payload.ptr;
    const char *hdr = "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\"}";

    /* Valid within its lifetime, with and without leeway. */
    assert_int_equal(verify_str(tok, k, 1050, 0, &d), AVOW_OK);
    assert_int_equal(verify_str(tok, k, 1060, 0, &d), AVOW_OK);
    /* Expired. */
    assert_int_equal(verify_str(tok, k, 2000, 0, &d), AVOW_ERR_EXPIRED);
    assert_string_equal(d.field, "jwt.payload.exp");
    assert_int_equal(verify_str(tok, k, 1065, 10, &d), AVOW_OK);
    assert_int_equal(verify_str(tok, k, 1071, 10, &d), AVOW_ERR_EXPIRED);

    /* Tampered payload: contraindicated -> affirming is the classic forgery. */
    {
        char *evil = strdup(pj);
        char *at = strstr(evil, "\"iat\":1000");
        assert_non_null(at);
        at[8] = '9';
        char *h = avow__b64url_encode((const uint8_t *)hdr, strlen(hdr));
        char *p = avow__b64url_encode((const uint8_t *)evil, strlen(evil));
        const char *sig = strrchr(tok, '.');
        size_t n = strlen(h) + strlen(p) + strlen(sig) + 2;
        char *t = malloc(n);
        snprintf(t, n, "%s.%s%s", h, p, sig);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_SIG_INVALID);
        free(t);
        OPENSSL_free(h);
        OPENSSL_free(p);
        free(evil);
    }
    /* A flipped signature byte. */
    {
        char *t = strdup(tok);
        char *last = t + strlen(t) - 3;
        *last = *last == 'A' ? 'B' : 'A';
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_SIG_INVALID);
        free(t);
    }
    /* alg none, with and without a signature part. */
    {
        const char *h0 = "{\"alg\":\"none\",\"typ\":\"eat-jwt\"}";
        char *h = avow__b64url_encode((const uint8_t *)h0, strlen(h0));
        char *p = avow__b64url_encode((const uint8_t *)pj, strlen(pj));
        size_t n = strlen(h) + strlen(p) + 3;
        char *t = malloc(n);
        snprintf(t, n, "%s.%s.", h, p);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_SIG_ALG);
        assert_string_equal(d.field, "jwt.header.alg");
        free(t);
        OPENSSL_free(h);
        OPENSSL_free(p);
    }
    /* HS256 keyed with the verifier's public key (the key-confusion attack). */
    {
        const char *h0 = "{\"alg\":\"HS256\",\"typ\":\"eat-jwt\"}";
        char *h = avow__b64url_encode((const uint8_t *)h0, strlen(h0));
        char *p = avow__b64url_encode((const uint8_t *)pj, strlen(pj));
        size_t n = strlen(h) + strlen(p) + 2;
        char *input = malloc(n);
        snprintf(input, n, "%s.%s", h, p);
        avow_buf spki = tu_spki(k);
        uint8_t mac[32];
        size_t maclen = 0;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, spki.ptr, spki.len,
                                  (const unsigned char *)input, strlen(input), mac, sizeof(mac),
                                  &maclen));
        char *m = avow__b64url_encode(mac, maclen);
        n = strlen(input) + strlen(m) + 2;
        char *t = malloc(n);
        snprintf(t, n, "%s.%s", input, m);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_SIG_ALG);
        assert_non_null(strstr(d.detail, "HS256"));
        free(t);
        free(input);
        OPENSSL_free(m);
        OPENSSL_free(h);
        OPENSSL_free(p);
        avow_buf_free(&spki);
    }
    /* ECDSA signature in DER form instead of raw r||s. */
    {
        char *t = make_jws(s, hdr, pj, 0, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_SIG_INVALID);
        assert_non_null(strstr(d.detail, "r||s"));
        free(t);
        /* The same signature raw verifies: the DER form alone was the fault. */
        t = make_jws(s, hdr, pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_OK);
        free(t);
    }
    /* another token's typ, crit: signed correctly, still refused; JWT and no typ are read. */
    {
        char *t = make_jws(s, "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\"}", pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_MALFORMED);
        assert_string_equal(d.field, "jwt.header.typ");
        free(t);
        t = make_jws(s, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_OK);
        free(t);
        t = make_jws(s, "{\"alg\":\"ES256\"}", pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_OK);
        free(t);
        t = make_jws(s,
                     "{\"alg\":\"ES256\",\"typ\":\"application/eat-jwt; "
                     "eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\"}",
                     pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_OK);
        free(t);
        /* typ read as a media type (RFC 9110): spellings, case, parameters. */
        static const struct {
            const char *typ; /* JSON string text */
            avow_err want;
        } typs[] = {
            {"eat+jwt", AVOW_OK},
            {"EAT+JWT", AVOW_OK},
            {"application/eat+jwt", AVOW_OK},
            {"eat-jwt", AVOW_OK},
            {"jwt", AVOW_OK},
            {"eat+jwt; eat_profile=\\\"tag:github.com,2023:veraison/ear\\\"", AVOW_OK},
            {"application/eat+jwt;eat_profile=\\\"TAG:IETF.ORG,2026:RATS/EAR#03\\\"", AVOW_OK},
            {"eat+jwt ;\\tcharset=utf-8", AVOW_OK},
            {"eat+jwt; eat_profile=\\\"tag:example.com,2024:other\\\"", AVOW_ERR_MALFORMED},
            {"eat+jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"; "
             "EAT_PROFILE=\\\"tag:ietf.org,2026:rats/ear#03\\\"",
             AVOW_ERR_MALFORMED},
            {"eat+jwt; eat_profile = \\\"tag:ietf.org,2026:rats/ear#03\\\"", AVOW_ERR_MALFORMED},
            {"eat+jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03", AVOW_ERR_MALFORMED},
            {"eat+cwt", AVOW_ERR_MALFORMED},
            {"JWT; x=1", AVOW_ERR_MALFORMED},
            {"text/eat+jwt", AVOW_ERR_MALFORMED},
            {"", AVOW_ERR_MALFORMED},
        };
        for (size_t i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
            char hb[256];
            snprintf(hb, sizeof(hb), "{\"alg\":\"ES256\",\"typ\":\"%s\"}", typs[i].typ);
            t = make_jws(s, hb, pj, 1, 32);
            avow_err e = verify_str(t, k, 1050, 0, &d);
            if (e != typs[i].want)
                print_error("typ %s: %s (%s)\n", typs[i].typ, avow_errname(e), d.detail);
            assert_int_equal(e, typs[i].want);
            free(t);
        }
        t = make_jws(s, "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\",\"crit\":[\"exp\"]}", pj, 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_UNSUPPORTED);
        free(t);
        /* A signed payload that is not an EAR. */
        t = make_jws(s, hdr, "{\"sub\":\"x\"}", 1, 32);
        assert_int_equal(verify_str(t, k, 1050, 0, &d), AVOW_ERR_VERSION);
        free(t);
    }
    /* An alg that does not fit the key. */
    assert_int_equal(verify_str(tok, k384, 1050, 0, &d), AVOW_ERR_ALG_MISMATCH);
    assert_int_equal(verify_str(tok, rsa, 1050, 0, &d), AVOW_ERR_ALG_MISMATCH);
    /* Structure. */
    assert_int_equal(verify_str("a.b", k, 1050, 0, &d), AVOW_ERR_MALFORMED);
    assert_int_equal(verify_str("a.b.c.d", k, 1050, 0, &d), AVOW_ERR_MALFORMED);
    assert_int_equal(verify_str("a+b.c.d", k, 1050, 0, &d), AVOW_ERR_MALFORMED);
    assert_int_equal(verify_str("e30.e30.", k, 1050, 0, &d), AVOW_ERR_SIG_ALG);

    avow_buf_free(&jwt);
    avow_buf_free(&payload);
    avow_ear_free(ear);
    avow_signer_free(s);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k384);
    EVP_PKEY_free(rsa);
}

/*
 * exp and nbf at the ends of the 64-bit range: the comparisons must be exact
 * and must not overflow (UBSan aborts on a signed overflow in this build).
 */
static void test_jwt_time_extremes(void **state)
{
    (void)state;
    EVP_PKEY *k = tu_key_ec("P-256");
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    const char *hdr = "{\"alg\":\"ES256\",\"typ\":\"eat-jwt\"}";
    const time_t MAX = (time_t)INT64_MAX, MIN = (time_t)INT64_MIN;
    struct {
        const char *claims; /* after eat_profile */
        time_t now;
        unsigned leeway;
        avow_err want;
        const char *field;
    } v[] = {
        {"\"exp\":-9223372036854775808", 1000, 0, AVOW_ERR_EXPIRED, "jwt.payload.exp"},
        {"\"exp\":-9223372036854775808", MAX, 600, AVOW_ERR_EXPIRED, "jwt.payload.exp"},
        {"\"exp\":-9223372036854775808", MIN, 0, AVOW_OK, NULL},
        {"\"exp\":9223372036854775807", 1000, 600, AVOW_OK, NULL},
        {"\"exp\":9223372036854775807", MAX, 4294967295u, AVOW_OK, NULL},
        {"\"exp\":9223372036854775806", MAX, 0, AVOW_ERR_EXPIRED, "jwt.payload.exp"},
        {"\"exp\":9223372036854775800", MAX, 7, AVOW_OK, NULL},
        {"\"exp\":9223372036854775800", MAX, 6, AVOW_ERR_EXPIRED, "jwt.payload.exp"},
        {"\"nbf\":9223372036854775807", 1000, 600, AVOW_ERR_BAD_TIME, "jwt.payload.nbf"},
        {"\"nbf\":9223372036854775807", MAX - 5, 10, AVOW_OK, NULL},
        {"\"nbf\":9223372036854775807", MAX - 11, 10, AVOW_ERR_BAD_TIME, "jwt.payload.nbf"},
        {"\"nbf\":-9223372036854775808", MAX, 4294967295u, AVOW_OK, NULL},
        {"\"nbf\":-9223372036854775807", MIN, 0, AVOW_ERR_BAD_TIME, "jwt.payload.nbf"},
        {"\"nbf\":1000", MIN, 4294967295u, AVOW_ERR_BAD_TIME, "jwt.payload.nbf"},
        {"\"exp\":-1,\"nbf\":-2", -1, 0, AVOW_OK, NULL},
        {"\"exp\":1.5", 1, 0, AVOW_ERR_MALFORMED, "jwt.payload.exp"},
        {"\"nbf\":\"soon\"", 1, 0, AVOW_ERR_MALFORMED, "jwt.payload.nbf"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char pj[256];
        snprintf(pj, sizeof(pj), "{\"eat_profile\":\"%s\",%s}", AVOW_EAR_PROFILE, v[i].claims);
        char *t = make_jws(s, hdr, pj, 1, 32);
        avow_diag d = {0};
        avow_err rc = verify_str(t, k, v[i].now, v[i].leeway, &d);
        if (rc != v[i].want)
            fail_msg("%s at now %lld leeway %u: %s (%s)", pj, (long long)v[i].now, v[i].leeway,
                     avow_errname(rc), d.detail);
        if (v[i].field != NULL)
            assert_string_equal(d.field, v[i].field);
        free(t);
    }
    avow_signer_free(s);
    EVP_PKEY_free(k);
}

static void test_b64url(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},        {"f", "Zg"},        {"fo", "Zm8"},
             {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *e = avow__b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in));
        assert_string_equal(e, v[i].out);
        avow_buf b = {0};
        assert_int_equal(avow__b64url_decode(e, strlen(e), &b), AVOW_OK);
        assert_int_equal(b.len, strlen(v[i].in));
        if (b.len)
            assert_memory_equal(b.ptr, v[i].in, b.len);
        avow_buf_free(&b);
        OPENSSL_free(e);
    }
    avow_buf b = {0};
    assert_int_equal(avow__b64url_decode("Zg==", 4, &b), AVOW_ERR_MALFORMED); /* padding */
    assert_int_equal(avow__b64url_decode("Zh", 2, &b), AVOW_ERR_MALFORMED);   /* trailing bits */
    assert_int_equal(avow__b64url_decode("Z", 1, &b), AVOW_ERR_MALFORMED);
    assert_int_equal(avow__b64url_decode("Zm9/", 4, &b), AVOW_ERR_MALFORMED); /* base64, not url */
}

/* avow_binds / avow_binding: a platform submod naming the key attestation it binds. */
static void test_binds(void **state)
{
    (void)state;
    avow_ear_statement st[2];
    avow_ear_statement_init(&st[0]);
    avow_ear_statement_init(&st[1]);
    st[0].name = "kat";
    st[1].name = "psa-token";
    st[1].binds = "kat";
    st[1].binding = AVOW_EAR_BINDING_LINKED;
    avow_ear *ear = NULL;
    avow_diag d = {0};
    OK(avow_ear_build(st, 2, NULL, &ear, &d));
    avow_buf j = {0};
    OK(avow_ear_to_json(ear, &j, NULL));
    assert_non_null(strstr((char *)j.ptr, "\"avow_binding\":\"linked\",\"avow_binds\":\"kat\""));
    avow_ear *back = NULL;
    OK(avow_ear_from_json((char *)j.ptr, j.len, &back, &d));
    assert_null(back->submods[0].binds);
    assert_string_equal(back->submods[1].binds, "kat");
    assert_string_equal(back->submods[1].binding, "linked");
    avow_ear_free(back);
    avow_ear_free(ear);
    /* What is bound must be another submod; the binding one of the two names; both or none. */
    static const char *const bad[][2] = {
        {"nothing", "linked"}, {"psa-token", "linked"}, {"kat", "glued"}, {"kat", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st[1].binds = bad[i][0];
        st[1].binding = bad[i][1];
        assert_int_equal(avow_ear_build(st, 2, NULL, &ear, &d), AVOW_ERR_ARG);
        assert_null(ear);
    }
    /* Read: the same rules. */
    static const char *const from[] = {"\"avow_binds\":\"nothing\",\"avow_binding\":\"linked\"",
                                       "\"avow_binds\":\"kat\",\"avow_binding\":\"glued\"",
                                       "\"avow_binds\":\"kat\"", "\"avow_binding\":\"nested\"",
                                       "\"avow_binds\":7,\"avow_binding\":\"nested\""};
    char *text = (char *)j.ptr;
    char *at = strstr(text, "\"avow_binding\":\"linked\",\"avow_binds\":\"kat\"");
    size_t cut = strlen("\"avow_binding\":\"linked\",\"avow_binds\":\"kat\"");
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        char doc[2048];
        snprintf(doc, sizeof(doc), "%.*s%s%s", (int)(at - text), text, from[i], at + cut);
        assert_int_equal(avow_ear_from_json(doc, strlen(doc), &back, &d), AVOW_ERR_MALFORMED);
        avow_ear_free(back);
        back = NULL;
    }
    avow_buf_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),      cmocka_unit_test(test_tiers_and_worst),
        cmocka_unit_test(test_read_back),      cmocka_unit_test(test_jwt_roundtrip),
        cmocka_unit_test(test_jwt_rejections), cmocka_unit_test(test_jwt_time_extremes),
        cmocka_unit_test(test_b64url),         cmocka_unit_test(test_binds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
