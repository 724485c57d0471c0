/*
 * Appraisal policy: every operator giving pass / fail / unknown, required
 * vs optional, unsigned claims, key scopes, the default policy, and a table
 * of bad policy documents each rejected with the JSON path at fault.
 */
#include "testutil.h"

#include <string.h>

#include <avow/policy.h>
#include <avow/registry.h>

#define MAXC 32

typedef struct cs {
    avow_nclaim items[MAXC];
    avow_claimset set;
} cs;

static void cs_init(cs *c)
{
    memset(c, 0, sizeof(*c));
    c->set.items = c->items;
}

static avow_nclaim *cs_add(cs *c, const char *el, size_t idx, const char *name, avow_cv_type t,
                           uint32_t signed_by)
{
    assert_true(c->set.count < MAXC);
    avow_nclaim *n = &c->items[c->set.count++];
    n->element = el;
    n->element_index = idx;
    n->name = name;
    n->known = 1;
    n->value.type = t;
    n->value.present = 1;
    n->signed_by = signed_by;
    /* The roles the PKIX vocabulary gives these names. */
    n->roles = strcmp(name, "spki") == 0    ? AVOW_ROLE_KEY_SPKI
               : strcmp(name, "nonce") == 0 ? AVOW_ROLE_NONCE
                                            : 0;
    return n;
}

static void add_bool(cs *c, const char *el, size_t idx, const char *name, int b, uint32_t sb)
{
    cs_add(c, el, idx, name, AVOW_CV_BOOL, sb)->value.integer = b;
}

static void add_int(cs *c, const char *el, size_t idx, const char *name, int64_t v, uint32_t sb)
{
    cs_add(c, el, idx, name, AVOW_CV_INT, sb)->value.integer = v;
}

static void add_text(cs *c, const char *el, size_t idx, const char *name, avow_cv_type t,
                     const char *s, uint32_t sb)
{
    avow_nclaim *n = cs_add(c, el, idx, name, t, sb);
    n->value.bytes.ptr = (const uint8_t *)s;
    n->value.bytes.len = strlen(s);
}

/* A good HSM: platform element 0, attested key element 1. */
static void good_hsm(cs *c, uint32_t sb)
{
    cs_init(c);
    add_text(c, "transaction", 0, "nonce", AVOW_CV_BYTES, "0123456789abcdef", sb);
    add_text(c, "platform", 1, "hwmodel", AVOW_CV_BYTES, "HSM-9000", sb);
    add_text(c, "platform", 1, "swversion", AVOW_CV_TEXT, "2.6.1", sb);
    add_int(c, "platform", 1, "fipslevel", 3, sb);
    add_text(c, "key", 2, "spki", AVOW_CV_BYTES, "SPKI-ONE", sb);
    add_bool(c, "key", 2, "sensitive", 1, sb);
    add_bool(c, "key", 2, "extractable", 0, sb);
    add_bool(c, "key", 2, "never-extractable", 1, sb);
    add_bool(c, "key", 2, "local", 1, sb);
}

static avow_policy *parse_ok(const char *json)
{
    avow_policy *p = NULL;
    avow_diag d = {0};
    avow_err rc = avow_policy_parse(json, strlen(json), &p, &d);
    if (rc != AVOW_OK)
        fail_msg("policy rejected: %s (%s)", d.detail, d.field);
    return p;
}

/* Evaluates a one-rule policy; returns the outcome and copies the detail. */
static avow_rule_outcome one(const char *rule, const cs *c, const avow_policy_input *in,
                             char *detail)
{
    char json[1024];
    snprintf(json, sizeof(json), "{\"name\":\"t\",\"rules\":[%s]}", rule);
    avow_policy *p = parse_ok(json);
    avow_policy_report *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_policy_eval(p, &c->set, in, &r, &d);
    assert_non_null(r);
    assert_int_equal(r->nrules, 1);
    avow_rule_outcome o = r->rules[0].outcome;
    if (detail != NULL)
        snprintf(detail, 256, "%s", r->rules[0].detail);
    assert_int_equal(rc, r->satisfied ? AVOW_OK : AVOW_ERR_POLICY);
    avow_policy_report_free(r);
    avow_policy_free(p);
    TU_NO_OSSL_ERR();
    return o;
}

#define PASS AVOW_RULE_PASS
#define FAIL AVOW_RULE_FAIL
#define UNKN AVOW_RULE_UNKNOWN

static void test_equals(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"sensitive\",\"equals\":true}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"extractable\",\"equals\":true}", &c, NULL, det),
                     FAIL);
    assert_string_equal(det, "key[2].extractable = false, want true");
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"fipslevel\",\"equals\":3}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"fipslevel\",\"equals\":4}", &c, NULL, det),
                     FAIL);
    assert_string_equal(det, "platform.fipslevel = 3, want 4");
    assert_int_equal(
        one("{\"id\":\"a\",\"claim\":\"hwmodel\",\"equals\":\"HSM-9000\"}", &c, NULL, det), PASS);
    assert_int_equal(
        one("{\"id\":\"a\",\"claim\":\"hwmodel\",\"equals\":\"HSM-900\"}", &c, NULL, det), FAIL);
    assert_non_null(strstr(det, "\"HSM-9000\""));
    /* Absent, not required: unknown; required: fail. */
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"vendor\",\"equals\":\"ACME\"}", &c, NULL, det),
                     UNKN);
    assert_string_equal(det, "platform.vendor is absent");
    assert_int_equal(
        one("{\"id\":\"a\",\"claim\":\"vendor\",\"equals\":\"ACME\",\"required\":true}", &c, NULL,
            det),
        FAIL);
}

static void test_in(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    assert_int_equal(one("{\"id\":\"m\",\"claim\":\"hwmodel\",\"in\":[\"HSM-8000\",\"HSM-9000\"]}",
                         &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"m\",\"claim\":\"hwmodel\",\"in\":[\"HSM-8000\",\"HSM-7000\"]}",
                         &c, NULL, det),
                     FAIL);
    assert_string_equal(
        det, "platform.hwmodel = \"HSM-9000\", want one of [\"HSM-8000\", \"HSM-7000\"]");
    assert_int_equal(one("{\"id\":\"m\",\"claim\":\"fipslevel\",\"in\":[2,3]}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"m\",\"claim\":\"hwversion\",\"in\":[\"1\"]}", &c, NULL, det),
                     UNKN);
}

static void test_min_max(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    assert_int_equal(one("{\"id\":\"f\",\"claim\":\"fipslevel\",\"min\":3}", &c, NULL, det), PASS);
    assert_int_equal(one("{\"id\":\"f\",\"claim\":\"fipslevel\",\"min\":4}", &c, NULL, det), FAIL);
    assert_string_equal(det, "platform.fipslevel = 3, want >= 4");
    assert_int_equal(one("{\"id\":\"f\",\"claim\":\"fipslevel\",\"max\":3}", &c, NULL, det), PASS);
    assert_int_equal(one("{\"id\":\"f\",\"claim\":\"fipslevel\",\"max\":2}", &c, NULL, det), FAIL);
    assert_string_equal(det, "platform.fipslevel = 3, want <= 2");
    assert_int_equal(
        one("{\"id\":\"f\",\"claim\":\"fipslevel\",\"min\":1,\"max\":4}", &c, NULL, det), PASS);
    assert_int_equal(one("{\"id\":\"f\",\"claim\":\"bootcount\",\"max\":4}", &c, NULL, det), UNKN);
}

static void test_version(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"2.6\"}", &c, NULL, det),
        PASS);
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"2.6.1\"}", &c, NULL, det),
        PASS);
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"2.6.2\"}", &c, NULL, det),
        FAIL);
    assert_string_equal(det, "platform.swversion = \"2.6.1\", want version >= 2.6.2");
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"v2.10\"}", &c, NULL, det),
        FAIL);

    /* Numeric, not lexical: 2.10 > 2.9. */
    cs_init(&c);
    add_text(&c, "platform", 0, "swversion", AVOW_CV_TEXT, "2.10", 1);
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"2.9\"}", &c, NULL, det),
        PASS);
    cs_init(&c);
    add_text(&c, "platform", 0, "swversion", AVOW_CV_TEXT, "2.6-beta", 1);
    assert_int_equal(
        one("{\"id\":\"s\",\"claim\":\"swversion\",\"version_at_least\":\"2.0\"}", &c, NULL, det),
        UNKN);
    assert_non_null(strstr(det, "not a dotted numeric version"));
}

static void test_present(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    assert_int_equal(one("{\"id\":\"n\",\"claim\":\"nonce\",\"present\":true}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"n\",\"claim\":\"oemid\",\"present\":true}", &c, NULL, det),
                     UNKN);
    assert_int_equal(
        one("{\"id\":\"n\",\"claim\":\"oemid\",\"present\":true,\"required\":true}", &c, NULL, det),
        FAIL);
    assert_int_equal(one("{\"id\":\"n\",\"claim\":\"oemid\",\"required\":true}", &c, NULL, det),
                     FAIL);
    assert_int_equal(one("{\"id\":\"n\",\"claim\":\"nonce\",\"required\":true}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"d\",\"claim\":\"dbgstat\",\"present\":false}", &c, NULL, det),
                     PASS);
    assert_int_equal(one("{\"id\":\"d\",\"claim\":\"fipslevel\",\"present\":false}", &c, NULL, det),
                     FAIL);
}

static void test_unsigned_unknown(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 0); /* nothing covered by a verified signature */
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"sensitive\",\"equals\":true}", &c, NULL, det),
                     UNKN);
    assert_string_equal(det, "key[2].sensitive is not covered by a verified signature");
    /* Even a value that would fail is unknown, not pass or fail. */
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"fipslevel\",\"min\":4}", &c, NULL, det), UNKN);
    /* A required rule on an unsigned claim is unknown and the policy is not satisfied. */
    assert_int_equal(
        one("{\"id\":\"a\",\"claim\":\"fipslevel\",\"min\":1,\"required\":true}", &c, NULL, det),
        UNKN);

    /* A valueless claim (request) is unknown too. */
    cs_init(&c);
    add_int(&c, "platform", 0, "fipslevel", 3, 1);
    c.items[0].value.present = 0;
    assert_int_equal(one("{\"id\":\"a\",\"claim\":\"fipslevel\",\"min\":1}", &c, NULL, det), UNKN);
    assert_string_equal(det, "platform.fipslevel carries no value");
}

static void test_key_scope(void **state)
{
    (void)state;
    cs c;
    char det[256];
    good_hsm(&c, 1);
    /* A second key element that is extractable. */
    add_text(&c, "key", 3, "spki", AVOW_CV_BYTES, "SPKI-TWO", 1);
    add_bool(&c, "key", 3, "extractable", 1, 1);
    const char *rule = "{\"id\":\"x\",\"claim\":\"extractable\",\"equals\":false}";
    const char *all =
        "{\"id\":\"x\",\"claim\":\"extractable\",\"equals\":false,\"scope\":\"all-keys\"}";

    /* No attested key given and two key elements: unknown. */
    assert_int_equal(one(rule, &c, NULL, det), UNKN);
    assert_non_null(strstr(det, "several key elements"));

    avow_policy_input in = {sizeof(avow_policy_input),
                            AVOW_POLICY_NO_ELEMENT,
                            (const uint8_t *)"SPKI-ONE",
                            8,
                            0,
                            NULL,
                            0};
    assert_int_equal(one(rule, &c, &in, det), PASS);
    in.key_spki = (const uint8_t *)"SPKI-TWO";
    assert_int_equal(one(rule, &c, &in, det), FAIL);
    assert_string_equal(det, "key[3].extractable = true, want false");
    in.key_spki = (const uint8_t *)"SPKI-BAD";
    assert_int_equal(one(rule, &c, &in, det), UNKN);
    assert_non_null(strstr(det, "no key element describes the attested key"));
    avow_policy_input by_index = {sizeof(avow_policy_input), 2, NULL, 0, 0, NULL, 0};
    assert_int_equal(one(rule, &c, &by_index, det), PASS);

    assert_int_equal(one(all, &c, &in, det), FAIL);
    assert_string_equal(det, "key[3].extractable = true, want false");
    c.items[c.set.count - 1].value.integer = 0;
    assert_int_equal(one(all, &c, &in, det), PASS);
}

static void test_default_policy(void **state)
{
    (void)state;
    avow_policy *p = NULL;
    assert_int_equal(avow_policy_default(&p), AVOW_OK);
    assert_string_equal(avow_policy_name(p), "avow-default");
    assert_int_equal(avow_policy_rule_count(p), 5);
    assert_non_null(strstr(avow_policy_default_json(), "never-extractable"));

    cs c;
    good_hsm(&c, 1);
    avow_policy_input in = {sizeof(avow_policy_input),
                            AVOW_POLICY_NO_ELEMENT,
                            (const uint8_t *)"SPKI-ONE",
                            8,
                            1,
                            NULL,
                            0};
    avow_policy_report *r = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_policy_eval(p, &c.set, &in, &r, &d), AVOW_OK);
    assert_int_equal(r->satisfied, 1);
    assert_int_equal(r->npass, 5);
    avow_policy_report_free(r);

    /* No nonce expected: the nonce rule is skipped. */
    in.nonce_expected = 0;
    assert_int_equal(avow_policy_eval(p, &c.set, &in, &r, &d), AVOW_OK);
    assert_int_equal(r->nskipped, 1);
    assert_int_equal(r->rules[4].outcome, AVOW_RULE_SKIPPED);
    avow_policy_report_free(r);

    /* Extractable key: the policy fails naming the rule, the claim and the value. */
    c.items[6].value.integer = 1;
    in.nonce_expected = 1;
    assert_int_equal(avow_policy_eval(p, &c.set, &in, &r, &d), AVOW_ERR_POLICY);
    assert_int_equal(r->satisfied, 0);
    assert_int_equal(r->nfail, 1);
    assert_string_equal(r->rules[1].id, "key-not-extractable");
    assert_int_equal(r->rules[1].outcome, AVOW_RULE_FAIL);
    assert_int_equal(r->rules[1].vector, AVOW_TV_STORAGE_OPAQUE);
    assert_int_equal(r->rules[1].tier, AVOW_TIER_CONTRAINDICATED);
    assert_string_equal(d.field, "rules[1]");
    assert_non_null(strstr(d.detail, "key-not-extractable"));
    avow_buf j = {0};
    assert_int_equal(avow_policy_report_to_json(r, &j), AVOW_OK);
    assert_non_null(strstr((const char *)j.ptr, "\"outcome\": \"fail\""));
    assert_non_null(strstr((const char *)j.ptr, "\"vector\": \"storage-opaque\""));
    avow_buf_free(&j);
    avow_policy_report_free(r);

    /* Nonce expected but absent: fails. */
    c.items[6].value.integer = 0;
    c.items[0].name = "timestamp";
    assert_int_equal(avow_policy_eval(p, &c.set, &in, &r, &d), AVOW_ERR_POLICY);
    assert_string_equal(r->rules[4].id, "nonce");
    assert_int_equal(r->rules[4].outcome, AVOW_RULE_FAIL);
    assert_int_equal(r->rules[4].vector, AVOW_TV_INSTANCE_IDENTITY);
    avow_policy_report_free(r);

    /* No claims at all: the required key rules fail. */
    assert_int_equal(avow_policy_eval(p, NULL, NULL, &r, &d), AVOW_ERR_POLICY);
    assert_int_equal(r->nfail, 4);
    avow_policy_report_free(r);
    avow_policy_free(p);
    TU_NO_OSSL_ERR();
}

/* A vocabulary of a caller's statement type: rules may name its claims as "tpm:...". */
static const avow_vocab_element TPM_ELEMENTS[] = {{"tpm", 0}};
static const avow_vocab_claim TPM_CLAIMS[] = {
    {"tpm", "pcr7", AVOW_CV_BYTES, AVOW_TV_NONE, 0},
};
static const avow_vocabulary TPM_VOCAB = {"tpm", 1, TPM_ELEMENTS, 1, TPM_CLAIMS};

static avow_err tpm_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row, (void)profile, (void)stmt, (void)len, (void)native, (void)diag;
    return AVOW_ERR_UNSUPPORTED;
}

static avow_err tpm_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)row, (void)v, (void)native, (void)opts, (void)verified, (void)diag;
    return AVOW_ERR_UNSUPPORTED;
}

static avow_err tpm_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row, (void)native, (void)verified;
    return avow_claimset_alloc(out, 0, 0, NULL);
}

static void test_tier_vector_and_prefixes(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"name\":\"hsm\",\"description\":\"x\",\"rules\":["
        "{\"id\":\"model\",\"claim\":\"pkix:hwmodel\",\"in\":[\"HSM-1\"],\"on_fail\":\"warning\","
        "\"vector\":\"hardware\",\"description\":\"models we know\"},"
        "{\"id\":\"pcr\",\"claim\":\"tpm:pcr7\",\"equals\":\"abc\"},"
        "{\"id\":\"oid\",\"claim\":\"1.2.3.4\",\"present\":true}]}";
    /* Without a statement type whose vocabulary is "tpm", the rule names nothing. */
    avow_policy *p = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_policy_parse(doc, sizeof(doc) - 1, &p, &d), AVOW_ERR_BAD_POLICY);
    assert_string_equal(d.field, "rules[1].claim");
    assert_null(p);

    avow_registry *reg = NULL;
    OK(avow_registry_new(&reg));
    avow_statement_type row = {.size = sizeof(avow_statement_type),
                               .name = "test-tpm",
                               .oid_kind = AVOW_TYPE_OID_FIXED,
                               .vocab = &TPM_VOCAB,
                               .decode = tpm_decode,
                               .verify = tpm_verify,
                               .to_claims = tpm_claims};
    OK(avow_oid_from_text(&row.oid, "2.23.133.20.1"));
    OK(avow_registry_add(reg, &row, NULL));
    OK(avow_policy_parse_reg(doc, sizeof(doc) - 1, reg, &p, &d));
    cs c;
    good_hsm(&c, 1);
    add_text(&c, "tpm", 5, "pcr7", AVOW_CV_BYTES, "abc", 1);
    avow_policy_report *r = NULL;
    assert_int_equal(avow_policy_eval(p, &c.set, NULL, &r, NULL), AVOW_ERR_POLICY);
    assert_int_equal(r->rules[0].outcome, AVOW_RULE_FAIL);
    assert_int_equal(r->rules[0].tier, AVOW_TIER_WARNING);
    assert_int_equal(r->rules[0].vector, AVOW_TV_HARDWARE);
    assert_int_equal(r->rules[1].outcome, AVOW_RULE_PASS);
    assert_int_equal(r->rules[1].vector, AVOW_TV_NONE);
    assert_int_equal(r->rules[2].outcome, AVOW_RULE_UNKNOWN);
    avow_policy_report_free(r);
    avow_policy_free(p);
    avow_registry_free(reg);

    assert_string_equal(avow_tier_name(AVOW_TIER_WARNING), "warning");
    assert_int_equal(avow_tier_of_value(99), AVOW_TIER_CONTRAINDICATED);
    assert_int_equal(avow_tier_of_value(33), AVOW_TIER_WARNING);
    assert_int_equal(avow_tier_of_value(2), AVOW_TIER_AFFIRMING);
    assert_int_equal(avow_tier_of_value(0), AVOW_TIER_NONE);
    assert_true(avow_tier_worse(AVOW_TIER_NONE, AVOW_TIER_AFFIRMING));
    assert_true(avow_tier_worse(AVOW_TIER_WARNING, AVOW_TIER_NONE));
    assert_false(avow_tier_worse(AVOW_TIER_AFFIRMING, AVOW_TIER_CONTRAINDICATED));
    assert_int_equal(avow_tv_by_name("sourced-data"), AVOW_TV_SOURCED_DATA);
    assert_int_equal(avow_tv_by_name("hardwares"), AVOW_TV_NONE);
}

typedef struct bad_case {
    const char *why;
    const char *json;
    avow_err code;
    const char *field;
} bad_case;

#define R(x) "{\"name\":\"t\",\"rules\":[" x "]}"

static const bad_case BAD[] = {
    {"unknown key in a rule", R("{\"id\":\"a\",\"claim\":\"hwmodel\",\"in\":[\"x\"],\"bogus\":1}"),
     AVOW_ERR_BAD_POLICY, "rules[0].bogus"},
    {"unknown top-level key", "{\"name\":\"t\",\"rulez\":[]}", AVOW_ERR_BAD_POLICY, "rulez"},
    {"unknown claim", R("{\"id\":\"a\",\"claim\":\"hwmodle\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"bad format prefix", R("{\"id\":\"a\",\"claim\":\"TPM:x\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"string for an integer claim", R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"equals\":\"3\"}"),
     AVOW_ERR_BAD_POLICY, "rules[0].equals"},
    {"integer for a boolean claim", R("{\"id\":\"a\",\"claim\":\"sensitive\",\"equals\":1}"),
     AVOW_ERR_BAD_POLICY, "rules[0].equals"},
    {"min on a text claim", R("{\"id\":\"a\",\"claim\":\"hwmodel\",\"min\":3}"),
     AVOW_ERR_BAD_POLICY, "rules[0].min"},
    {"min not an integer", R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"min\":2.5}"),
     AVOW_ERR_BAD_POLICY, "rules[0].min"},
    {"min above max", R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"min\":3,\"max\":2}"),
     AVOW_ERR_BAD_POLICY, "rules[0].max"},
    {"bad version", R("{\"id\":\"a\",\"claim\":\"swversion\",\"version_at_least\":\"2..6\"}"),
     AVOW_ERR_BAD_POLICY, "rules[0].version_at_least"},
    {"version on an integer claim",
     R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"version_at_least\":\"2\"}"), AVOW_ERR_BAD_POLICY,
     "rules[0].version_at_least"},
    {"claim in the wrong element",
     R("{\"id\":\"a\",\"claim\":\"sensitive\",\"element\":\"platform\",\"equals\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].element"},
    {"scope on a platform claim",
     R("{\"id\":\"a\",\"claim\":\"hwmodel\",\"scope\":\"all-keys\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].scope"},
    {"unknown scope",
     R("{\"id\":\"a\",\"claim\":\"local\",\"scope\":\"some-keys\",\"equals\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].scope"},
    {"unknown tier", R("{\"id\":\"a\",\"claim\":\"local\",\"on_fail\":\"fatal\",\"equals\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].on_fail"},
    {"unknown vector key",
     R("{\"id\":\"a\",\"claim\":\"local\",\"vector\":\"hardwares\",\"equals\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].vector"},
    {"unknown when", R("{\"id\":\"a\",\"claim\":\"nonce\",\"when\":\"always\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].when"},
    {"required not boolean", R("{\"id\":\"a\",\"claim\":\"nonce\",\"required\":\"yes\"}"),
     AVOW_ERR_BAD_POLICY, "rules[0].required"},
    {"duplicate rule id",
     R("{\"id\":\"a\",\"claim\":\"nonce\",\"required\":true},{\"id\":\"a\",\"claim\":\"local\","
       "\"equals\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[1].id"},
    {"rule that checks nothing", R("{\"id\":\"a\",\"claim\":\"nonce\"}"), AVOW_ERR_BAD_POLICY,
     "rules[0]"},
    {"present false with an operator",
     R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"present\":false,\"min\":1}"), AVOW_ERR_BAD_POLICY,
     "rules[0].present"},
    {"in entry of the wrong type", R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"in\":[3,\"4\"]}"),
     AVOW_ERR_BAD_POLICY, "rules[0].in[1]"},
    {"empty in", R("{\"id\":\"a\",\"claim\":\"fipslevel\",\"in\":[]}"), AVOW_ERR_BAD_POLICY,
     "rules[0].in"},
    {"equals on a purpose list", R("{\"id\":\"a\",\"claim\":\"purpose\",\"equals\":\"sign\"}"),
     AVOW_ERR_BAD_POLICY, "rules[0].equals"},
    {"missing id", R("{\"claim\":\"nonce\",\"required\":true}"), AVOW_ERR_BAD_POLICY,
     "rules[0].id"},
    {"empty id", R("{\"id\":\"\",\"claim\":\"nonce\",\"required\":true}"), AVOW_ERR_BAD_POLICY,
     "rules[0].id"},
    {"missing claim", R("{\"id\":\"a\",\"required\":true}"), AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"rule not an object", R("3"), AVOW_ERR_BAD_POLICY, "rules[0]"},
    {"missing name", "{\"rules\":[{\"id\":\"a\",\"claim\":\"nonce\",\"required\":true}]}",
     AVOW_ERR_BAD_POLICY, "name"},
    {"empty rules", "{\"name\":\"t\",\"rules\":[]}", AVOW_ERR_BAD_POLICY, "rules"},
    {"not an object", "[1,2]", AVOW_ERR_BAD_POLICY, "policy"},
    {"claim OID with an empty last arc", R("{\"id\":\"a\",\"claim\":\"1.\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"claim OID with an empty arc", R("{\"id\":\"a\",\"claim\":\"1..2\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"claim OID with an empty first arc", R("{\"id\":\"a\",\"claim\":\".1\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"claim OID under root arc 3", R("{\"id\":\"a\",\"claim\":\"3.1\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"claim OID with a leading zero", R("{\"id\":\"a\",\"claim\":\"1.2.03\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"claim OID with second arc 40 under 1",
     R("{\"id\":\"a\",\"claim\":\"1.40.1\",\"present\":true}"), AVOW_ERR_BAD_POLICY,
     "rules[0].claim"},
    {"claim OID with a leading zero in the first arc",
     R("{\"id\":\"a\",\"claim\":\"01.2\",\"present\":true}"), AVOW_ERR_BAD_POLICY,
     "rules[0].claim"},
    {"claim OID of one arc", R("{\"id\":\"a\",\"claim\":\"1\",\"present\":true}"),
     AVOW_ERR_BAD_POLICY, "rules[0].claim"},
    {"not JSON", "{\"name\":", AVOW_ERR_JSON, "policy"},
    {"duplicate JSON key", "{\"name\":\"a\",\"name\":\"b\",\"rules\":[]}", AVOW_ERR_JSON, "policy"},
};

static void test_bad_policies(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        avow_policy *p = (avow_policy *)1;
        avow_diag d = {0};
        avow_err rc = avow_policy_parse(BAD[i].json, strlen(BAD[i].json), &p, &d);
        if (rc != BAD[i].code || strcmp(d.field, BAD[i].field) != 0)
            fail_msg("case %zu (%s): got %s field \"%s\" (%s), want %s field \"%s\"", i, BAD[i].why,
                     avow_errname(rc), d.field, d.detail, avow_errname(BAD[i].code), BAD[i].field);
        assert_null(p);
        assert_int_equal(d.code, BAD[i].code);
        /* The CLI prints "field: detail": the detail must not say the field again. */
        if (d.field[0] != '\0' && strncmp(d.detail, d.field, strlen(d.field)) == 0)
            fail_msg("case %zu (%s): detail repeats the field: \"%s\"", i, BAD[i].why, d.detail);
        assert_true(d.field[0] != '\0');
        TU_NO_OSSL_ERR();
    }
    /* Valid dotted OIDs name claims outside every vocabulary; a prefix must be registered
     * (tested in test_tier_vector_and_prefixes). */
    static const char *const good[] = {"0.0", "1.39.5", "2.999.1", "1.3.6.1.4.1.99999.1.2",
                                       "pkix:hwmodel"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), R("{\"id\":\"a\",\"claim\":\"%s\",\"present\":true}"),
                 good[i]);
        avow_policy *ok = NULL;
        avow_diag d = {0};
        if (avow_policy_parse(json, strlen(json), &ok, &d) != AVOW_OK)
            fail_msg("%s refused: %s: %s", good[i], d.field, d.detail);
        avow_policy_free(ok);
    }
    /* Limits. */
    avow_policy *p = NULL;
    assert_int_equal(avow_policy_parse("{}", AVOW_POLICY_MAX_SIZE + 1, &p, NULL),
                     AVOW_ERR_TOO_LARGE);
    assert_int_equal(avow_policy_parse(NULL, 0, NULL, NULL), AVOW_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_present),
        cmocka_unit_test(test_unsigned_unknown),
        cmocka_unit_test(test_key_scope),
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_tier_vector_and_prefixes),
        cmocka_unit_test(test_bad_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
