/*
 * avow/policy.h - declarative appraisal policy over a normalised claim set.
 *
 * A policy is a small JSON document (docs/policy.md): a name and a list of
 * rules, each naming one claim and what values are accepted. Evaluation
 * gives each rule an outcome (pass / fail / unknown / skipped) with a detail
 * naming the claim and the value seen, the trustworthiness-vector key it
 * speaks for and the tier it costs on failure; ear.h turns that into an EAR.
 *
 * A parsed avow_policy is immutable: avow_policy_eval may run on one policy
 * from many threads at once.
 */
#ifndef AVOW_POLICY_H
#define AVOW_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/ar4si.h>
#include <avow/claims.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum avow_rule_outcome {
    AVOW_RULE_PASS = 0,
    AVOW_RULE_FAIL,
    AVOW_RULE_UNKNOWN, /* claim absent (rule not required) or not covered by a verified signature */
    AVOW_RULE_SKIPPED  /* the rule does not apply ("when": "nonce-expected" and none was) */
} avow_rule_outcome;

/* "pass", "fail", "unknown", "skipped". */
AVOW_EXPORT const char *avow_rule_outcome_name(avow_rule_outcome o);

typedef struct avow_policy avow_policy;
typedef struct avow_registry avow_registry;

/* Limits the parser enforces. */
#define AVOW_POLICY_MAX_SIZE  (64u * 1024u)
#define AVOW_POLICY_MAX_RULES 128u
#define AVOW_POLICY_MAX_IN    64u  /* entries of an "in" list */
#define AVOW_POLICY_NAME_MAX  127u /* bytes of "name" */
#define AVOW_POLICY_ID_MAX    63u  /* bytes of a rule "id" */

/*
 * Parses a policy document strictly: unknown keys, wrong types, claim
 * names no registered statement type's vocabulary has (avow/claims.h;
 * "prefix:name" picks one vocabulary, a dotted OID names a claim outside
 * every vocabulary), operators that do not fit the claim's type, duplicate
 * rule ids and sizes over the limits are AVOW_ERR_BAD_POLICY with
 * diag->field naming the JSON path ("rules[2].min"); malformed JSON is
 * AVOW_ERR_JSON. avow_policy_parse checks against the built-in types,
 * avow_policy_parse_reg against reg's rows and the built-ins.
 * On success *out is owned by the caller (avow_policy_free).
 */
AVOW_EXPORT avow_err avow_policy_parse(const char *json, size_t len, avow_policy **out,
                                       avow_diag *diag);
AVOW_EXPORT avow_err avow_policy_parse_reg(const char *json, size_t len, const avow_registry *reg,
                                           avow_policy **out, avow_diag *diag);

/* avow_policy_parse (_reg) over a file ("-" = stdin). */
AVOW_EXPORT avow_err avow_policy_load(const char *path, avow_policy **out, avow_diag *diag);
AVOW_EXPORT avow_err avow_policy_load_reg(const char *path, const avow_registry *reg,
                                          avow_policy **out, avow_diag *diag);

/*
 * The embedded default policy "avow-default" (its JSON is
 * avow_policy_default_json(), built from policies/avow-default.json;
 * docs/policy.md explains it): for the attested
 * key sensitive = true, extractable = false, never-extractable = true,
 * local = true, all required (storage-opaque, contraindicated on failure);
 * a signed nonce claim required when the caller expected a nonce
 * (instance-identity). Caller frees *out with avow_policy_free.
 */
AVOW_EXPORT avow_err avow_policy_default(avow_policy **out);
/* The JSON text of the default policy (static, NUL-terminated). */
AVOW_EXPORT const char *avow_policy_default_json(void);

/* No-op for NULL. */
AVOW_EXPORT void avow_policy_free(avow_policy *p);

/* The policy's "name" (borrowed from p); it becomes the EAR's ear_appraisal_policy_ids entry. */
AVOW_EXPORT const char *avow_policy_name(const avow_policy *p);
AVOW_EXPORT size_t avow_policy_rule_count(const avow_policy *p);

/*
 * What the policy says of statements as a whole ("statements" in the
 * document): whether a statement of a type no verifier knows makes the
 * result contraindicated (by default such statements are reported and left
 * out of the appraisal), and which statement types (a registry name such as
 * "pkix-evidence", or a dotted type OID) must be present and verified.
 * "linked" types are trusted only when a platform token of the request binds
 * their signer (docs/kat.md); the appraisal hands them to the verification
 * (avow_verification_opts.link_required).
 */
#define AVOW_POLICY_MAX_REQUIRED_TYPES 8u
AVOW_EXPORT int avow_policy_rejects_unknown(const avow_policy *p);
AVOW_EXPORT size_t avow_policy_required_type_count(const avow_policy *p);
/* Borrowed from p; NULL when i is out of range. */
AVOW_EXPORT const char *avow_policy_required_type(const avow_policy *p, size_t i);
AVOW_EXPORT size_t avow_policy_linked_type_count(const avow_policy *p);
/* The list itself (borrowed from p; NULL when empty), as link_required takes it. */
AVOW_EXPORT const char *const *avow_policy_linked_types(const avow_policy *p);

#define AVOW_POLICY_NO_ELEMENT ((size_t)-1)

/* What the caller knows about the appraisal besides the claims. */
typedef struct avow_policy_input {
    size_t size; /* set by avow_policy_input_init */
    /* The attested key that rules with scope "attested-key" look at: the key
     * element with this element_index, else the key element whose
     * AVOW_ROLE_KEY_SPKI claim equals key_spki, else the only key element
     * when there is one. */
    size_t key_element;      /* AVOW_POLICY_NO_ELEMENT when not known */
    const uint8_t *key_spki; /* DER SubjectPublicKeyInfo; NULL when not known */
    size_t key_spki_len;
    int nonce_expected; /* 1: the verifier issued a nonce for this appraisal */
    /* The claim sets of the request's other verified statements (borrowed;
     * NULL when nothers is 0). A rule whose claim names its vocabulary
     * ("psa:lifecycle") and is absent from the claims evaluated is
     * evaluated on each of these that carries it, and must hold in every
     * one (docs/policy.md, "Claims of other statements"). */
    const avow_claimset *const *others;
    size_t nothers;
} avow_policy_input;

/* Zeroes in, sets its size, key_element AVOW_POLICY_NO_ELEMENT. */
AVOW_EXPORT void avow_policy_input_init(avow_policy_input *in);

/* The result of one rule. */
typedef struct avow_rule_result {
    char id[AVOW_POLICY_ID_MAX + 1];
    avow_rule_outcome outcome;
    int required;
    avow_tv_key vector; /* key the rule speaks for; AVOW_TV_NONE if none */
    avow_tier tier;     /* tier this rule costs when it fails (warning or contraindicated) */
    char detail[224]; /* names the claim and the value seen: "key[2].extractable = true, want false"
                       */
} avow_rule_result;

/* The result of a whole policy; self-contained (copies, no borrowed pointers). */
typedef struct avow_policy_report {
    char policy[AVOW_POLICY_NAME_MAX + 1];
    int satisfied; /* 1: no rule failed and no required rule is unknown */
    size_t npass, nfail, nunknown, nskipped;
    size_t nrules;
    avow_rule_result *rules;
} avow_policy_report;

/*
 * Evaluates p over claims. Only claims with signed_by != 0 and a value count;
 * an unsigned claim makes its rule unknown. A required rule whose claim is
 * absent fails; a rule that is not required is unknown then. in may be NULL
 * (nothing known). Returns AVOW_OK when satisfied, AVOW_ERR_POLICY when a
 * rule failed or a required rule is unknown (diag names the first such rule),
 * and in both cases fills *out (caller frees with avow_policy_report_free).
 * Other errors (AVOW_ERR_ARG, AVOW_ERR_NOMEM) leave *out NULL.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_policy_eval(const avow_policy *p,
                                                      const avow_claimset *claims,
                                                      const avow_policy_input *in,
                                                      avow_policy_report **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_policy_report_free(avow_policy_report *r);

/*
 * The report as JSON: {"policy":..., "satisfied":..., "rules":[{"id","outcome",
 * "required","vector","tier","detail"}]}, keys sorted, NUL-terminated (len
 * excludes the NUL). Caller frees *out with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_policy_report_to_json(const avow_policy_report *r, avow_buf *out);

#ifdef __cplusplus
}
#endif
#endif
