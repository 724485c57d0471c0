/*
 * Strict parser of appraisal policy documents (docs/policy.md) and the
 * embedded default policy (policies/avow-default.json). Every rejection
 * names its JSON path; claim names are checked against the vocabularies
 * of the registered statement types.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/policy.h>
#include <avow/registry.h>

#include "core/internal.h"
#include "core/json.h"
#include "verifier/policy_int.h"

const char *avow_policy_default_json(void)
{
    return avow__default_policy_json;
}

const char *avow_rule_outcome_name(avow_rule_outcome o)
{
    switch (o) {
    case AVOW_RULE_PASS:
        return "pass";
    case AVOW_RULE_FAIL:
        return "fail";
    case AVOW_RULE_UNKNOWN:
        return "unknown";
    case AVOW_RULE_SKIPPED:
        return "skipped";
    }
    return "unknown";
}

/* --- versions --- */

int avow__version_parse(const char *text, size_t len, uint32_t *parts, size_t *nparts)
{
    size_t i = 0, n = 0;
    if (len > 0 && (text[0] == 'v' || text[0] == 'V'))
        i = 1;
    if (i >= len)
        return 0;
    while (i < len) {
        uint32_t v = 0;
        size_t digits = 0;
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            if (digits == 9)
                return 0;
            v = v * 10 + (uint32_t)(text[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || n == AVOW__VERSION_PARTS)
            return 0;
        parts[n++] = v;
        if (i == len)
            break;
        if (text[i] != '.' || i + 1 == len)
            return 0;
        i++;
    }
    *nparts = n;
    return 1;
}

/* --- freeing --- */

static void lit_free(avow__lit *l)
{
    OPENSSL_free(l->s);
    l->s = NULL;
}

static void rule_free(avow__rule *r)
{
    OPENSSL_free(r->id);
    OPENSSL_free(r->claim);
    OPENSSL_free(r->element);
    lit_free(&r->equals);
    for (size_t i = 0; i < r->nin; i++)
        lit_free(&r->in[i]);
    OPENSSL_free(r->in);
}

void avow_policy_free(avow_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    OPENSSL_free(p->rules);
    for (size_t i = 0; i < p->nrequired; i++)
        OPENSSL_free(p->required[i]);
    OPENSSL_free(p->required);
    for (size_t i = 0; i < p->nlinked; i++)
        OPENSSL_free(p->linked[i]);
    OPENSSL_free(p->linked);
    OPENSSL_free(p->name);
    OPENSSL_free(p);
}

int avow_policy_rejects_unknown(const avow_policy *p)
{
    return p != NULL && p->reject_unknown;
}

size_t avow_policy_required_type_count(const avow_policy *p)
{
    return p != NULL ? p->nrequired : 0;
}

const char *avow_policy_required_type(const avow_policy *p, size_t i)
{
    return p != NULL && i < p->nrequired ? p->required[i] : NULL;
}

size_t avow_policy_linked_type_count(const avow_policy *p)
{
    return p != NULL ? p->nlinked : 0;
}

const char *const *avow_policy_linked_types(const avow_policy *p)
{
    return p != NULL && p->nlinked > 0 ? (const char *const *)p->linked : NULL;
}

const char *avow_policy_name(const avow_policy *p)
{
    return p != NULL ? p->name : NULL;
}

size_t avow_policy_rule_count(const avow_policy *p)
{
    return p != NULL ? p->nrules : 0;
}

/* --- parsing --- */

typedef struct pctx {
    avow_diag *diag;
    const avow_registry *reg; /* whose vocabularies rules may name; NULL = built-ins */
    char path[96];
} pctx;

/* snprintf for paths: truncation is harmless. */
AVOW_PRINTF(3, 4)
static void pathf(char *d, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

AVOW_PRINTF(3, 4)
static avow_err bad(pctx *c, const char *key, const char *fmt, ...)
{
    char field[96];
    if (key != NULL)
        pathf(field, sizeof(field), "%s%s%s", c->path, c->path[0] ? "." : "", key);
    else
        avow__strlcpy(field, c->path, sizeof(field));
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The field goes to diag.field only: the CLI prints "field: detail". The document
     * itself, when nothing inside it is at fault, is "policy". */
    return avow__fail(c->diag, AVOW_ERR_BAD_POLICY, field[0] != '\0' ? field : "policy", "%s", msg);
}

/* A JSON string without NULs, at most max bytes; *out is a new copy. */
static avow_err get_str(pctx *c, const char *key, json_t *v, size_t max, char **out)
{
    if (!json_is_string(v))
        return bad(c, key, "must be a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0)
        return bad(c, key, "must not be empty");
    if (n > max)
        return bad(c, key, "longer than %zu bytes", max);
    if (memchr(s, '\0', n) != NULL)
        return bad(c, key, "contains a NUL character");
    *out = OPENSSL_strndup(s, n);
    return *out != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

/* An OID in the canonical dotted form the claim set names unknown claims by
 * (no empty, leading-zero or out-of-range arcs), so a rule can match one. */
static int is_dotted_oid(const char *s)
{
    avow_oid o;
    return avow_oid_from_text(&o, s) == AVOW_OK;
}

/* A literal that fits the claim's type (any scalar when the type is not known). */
static avow_err get_lit(pctx *c, const char *key, json_t *v, const avow__rule *r, avow__lit *out)
{
    if (json_is_boolean(v)) {
        if (r->known_type && r->type != AVOW_CV_BOOL)
            return bad(c, key, "a boolean does not fit claim \"%s\"", r->claim);
        out->kind = AVOW__LIT_BOOL;
        out->i = json_is_true(v) ? 1 : 0;
        return AVOW_OK;
    }
    if (json_is_integer(v)) {
        if (r->known_type && r->type != AVOW_CV_INT)
            return bad(c, key, "an integer does not fit claim \"%s\"", r->claim);
        out->kind = AVOW__LIT_INT;
        out->i = (int64_t)json_integer_value(v);
        return AVOW_OK;
    }
    if (json_is_string(v)) {
        if (r->known_type && r->type != AVOW_CV_TEXT && r->type != AVOW_CV_BYTES)
            return bad(c, key, "a string does not fit claim \"%s\"", r->claim);
        size_t n = json_string_length(v);
        out->kind = AVOW__LIT_STR;
        /* n + 1 bytes: jansson keeps a NUL after the value. */
        out->s = (char *)avow__memdup((const uint8_t *)json_string_value(v), n + 1);
        if (out->s == NULL)
            return AVOW_ERR_NOMEM;
        out->slen = n;
        return AVOW_OK;
    }
    return bad(c, key, "must be a boolean, an integer or a string");
}

static int bool_of(json_t *v, int *out)
{
    if (!json_is_boolean(v))
        return 0;
    *out = json_is_true(v) ? 1 : 0;
    return 1;
}

/* The vocabulary whose prefix opens name ("pkix:" of "pkix:hwmodel"); *rest gets the name. */
static const avow_vocabulary *prefixed(const avow_registry *reg, const char *name,
                                       const char **rest)
{
    const char *colon = strchr(name, ':');
    if (colon == NULL)
        return NULL;
    for (size_t i = 0; i < avow_registry_count(reg); i++) {
        const avow_vocabulary *v = avow_registry_get0(reg, i)->vocab;
        if (v != NULL && v->prefix != NULL && strlen(v->prefix) == (size_t)(colon - name) &&
            strncmp(v->prefix, name, (size_t)(colon - name)) == 0) {
            *rest = colon + 1;
            return v;
        }
    }
    return NULL;
}

static int is_key_kind(const avow_vocabulary *v, const char *element)
{
    const avow_vocab_element *e = avow_vocab_element_find(v, element);
    return e != NULL && (e->flags & AVOW_VOCAB_KEY_ELEMENT) != 0;
}

int avow__claim_is_oid(const char *name)
{
    return is_dotted_oid(name);
}

/* In the vocabulary the prefix names, else in every registered vocabulary
 * (the same name in two must have one type). */
avow__claim_lookup avow__claim_find(const avow_registry *reg, const char *qname,
                                    const char *element, avow__claim_ref *out)
{
    memset(out, 0, sizeof(*out));
    out->name = qname;
    const avow_vocabulary *only = prefixed(reg, qname, &out->name);
    if (only == NULL && strchr(qname, ':') != NULL)
        return AVOW__CLAIM_NO_VOCABULARY;
    for (size_t i = 0; i < avow_registry_count(reg); i++) {
        const avow_vocabulary *v = avow_registry_get0(reg, i)->vocab;
        const avow_vocab_claim *vc = v != NULL && (only == NULL || v == only)
                                         ? avow_vocab_claim_find(v, element, out->name)
                                         : NULL;
        if (vc == NULL)
            continue;
        if (out->claim == NULL) {
            out->vocab = v;
            out->claim = vc;
            out->same_element = 1;
            out->key_element = is_key_kind(v, vc->element);
            continue;
        }
        if (out->claim->type != vc->type) {
            out->other = v;
            return AVOW__CLAIM_AMBIGUOUS;
        }
        out->same_element &= strcmp(out->claim->element, vc->element) == 0;
        out->key_element &= is_key_kind(v, vc->element);
    }
    return out->claim != NULL ? AVOW__CLAIM_FOUND : AVOW__CLAIM_UNKNOWN;
}

/*
 * Finds the claim a rule names (avow__claim_find; not found is no error
 * here: the caller words it). The prefix is dropped from r->claim: claims
 * carry unqualified names.
 */
static avow_err find_claim(pctx *c, avow__rule *r, const char *element, avow__claim_ref *out)
{
    switch (avow__claim_find(c->reg, r->claim, element, out)) {
    case AVOW__CLAIM_NO_VOCABULARY:
        return bad(c, "claim", "no registered statement type has the vocabulary of \"%s\"",
                   r->claim);
    case AVOW__CLAIM_AMBIGUOUS:
        return bad(c, "claim",
                   "\"%s\" has different types in the vocabularies %s and %s: qualify it "
                   "(\"%s:%s\")",
                   out->name, out->vocab->prefix, out->other->prefix, out->vocab->prefix,
                   out->name);
    default:
        break;
    }
    if (out->name != r->claim) {
        memmove(r->claim, out->name, strlen(out->name) + 1);
        out->name = r->claim;
        r->qualified = 1;
    }
    return AVOW_OK;
}

static const char *const RULE_KEYS[] = {
    "id",     "claim", "element", "scope", "required",         "when",    "on_fail",    "vector",
    "equals", "in",    "min",     "max",   "version_at_least", "present", "description"};

static avow_err check_keys(pctx *c, json_t *jr)
{
    const char *key;
    json_t *v;
    json_object_foreach(jr, key, v)
    {
        size_t k = 0;
        while (k < sizeof(RULE_KEYS) / sizeof(RULE_KEYS[0]) && strcmp(RULE_KEYS[k], key) != 0)
            k++;
        if (k == sizeof(RULE_KEYS) / sizeof(RULE_KEYS[0]))
            return bad(c, key, "unknown key");
    }
    return AVOW_OK;
}

/* id, claim and element: what the rest of the rule is checked against. */
static avow_err parse_target(pctx *c, json_t *jr, avow__rule *r)
{
    avow_err rc;
    json_t *v;
    if ((v = json_object_get(jr, "id")) == NULL)
        return bad(c, "id", "missing");
    if ((rc = get_str(c, "id", v, AVOW_POLICY_ID_MAX, &r->id)) != AVOW_OK)
        return rc;
    if ((v = json_object_get(jr, "claim")) == NULL)
        return bad(c, "claim", "missing");
    if ((rc = get_str(c, "claim", v, 160, &r->claim)) != AVOW_OK)
        return rc;
    if ((v = json_object_get(jr, "element")) != NULL &&
        (rc = get_str(c, "element", v, 160, &r->element)) != AVOW_OK)
        return rc;

    r->vector = AVOW_TV_NONE;
    if (is_dotted_oid(r->claim))
        return AVOW_OK; /* a claim outside every vocabulary, named by its OID */
    avow__claim_ref ref;
    if ((rc = find_claim(c, r, r->element, &ref)) != AVOW_OK)
        return rc;
    if (ref.claim == NULL) {
        avow__claim_ref any;
        if (r->element != NULL && find_claim(c, r, NULL, &any) == AVOW_OK && any.claim != NULL)
            return bad(c, "element", "claim \"%s\" stands in element \"%s\", not \"%s\"", r->claim,
                       any.claim->element, r->element);
        return bad(c, "claim", "unknown claim \"%s\"", r->claim);
    }
    r->known_type = 1;
    r->type = ref.claim->type;
    r->vector = ref.claim->vector;
    /* A name that stands in different element kinds in different formats (a nonce)
     * matches it in any element, unless the rule names one. */
    if (r->element == NULL && ref.same_element &&
        (r->element = OPENSSL_strdup(ref.claim->element)) == NULL)
        return AVOW_ERR_NOMEM;
    r->key_element = r->element != NULL && ref.key_element;
    return AVOW_OK;
}

/* scope, required, when, on_fail, vector, description. */
static avow_err parse_attributes(pctx *c, json_t *jr, avow__rule *r)
{
    json_t *v;
    r->scope = AVOW__SCOPE_ATTESTED_KEY;
    if ((v = json_object_get(jr, "scope")) != NULL) {
        const char *s = json_string_value(v);
        if (!r->key_element)
            return bad(c, "scope", "only rules on an element that describes a key have a scope");
        if (s != NULL && strcmp(s, "attested-key") == 0)
            r->scope = AVOW__SCOPE_ATTESTED_KEY;
        else if (s != NULL && strcmp(s, "all-keys") == 0)
            r->scope = AVOW__SCOPE_ALL_KEYS;
        else
            return bad(c, "scope", "must be \"attested-key\" or \"all-keys\"");
    }
    if ((v = json_object_get(jr, "required")) != NULL && !bool_of(v, &r->required))
        return bad(c, "required", "must be a boolean");
    if ((v = json_object_get(jr, "when")) != NULL) {
        const char *s = json_string_value(v);
        if (s == NULL || strcmp(s, "nonce-expected") != 0)
            return bad(c, "when", "must be \"nonce-expected\"");
        r->when_nonce = 1;
    }
    r->tier = AVOW_TIER_CONTRAINDICATED;
    if ((v = json_object_get(jr, "on_fail")) != NULL) {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "warning") == 0)
            r->tier = AVOW_TIER_WARNING;
        else if (s == NULL || strcmp(s, "contraindicated") != 0)
            return bad(c, "on_fail", "must be \"contraindicated\" or \"warning\"");
    }
    if ((v = json_object_get(jr, "vector")) != NULL) {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "none") == 0)
            r->vector = AVOW_TV_NONE;
        else if (s == NULL || (r->vector = avow_tv_by_name(s)) == AVOW_TV_NONE)
            return bad(c, "vector", "not a trustworthiness-vector key");
    }
    if ((v = json_object_get(jr, "description")) != NULL && !json_is_string(v))
        return bad(c, "description", "must be a string");
    return AVOW_OK;
}

static int is_scalar(const avow__rule *r)
{
    return !r->known_type || r->type == AVOW_CV_BOOL || r->type == AVOW_CV_INT ||
           r->type == AVOW_CV_TEXT || r->type == AVOW_CV_BYTES;
}

/* equals and in. */
static avow_err parse_values(pctx *c, json_t *jr, avow__rule *r)
{
    avow_err rc;
    json_t *v;
    if ((v = json_object_get(jr, "equals")) != NULL) {
        if (!is_scalar(r))
            return bad(c, "equals", "claim \"%s\" cannot be compared with equals", r->claim);
        if ((rc = get_lit(c, "equals", v, r, &r->equals)) != AVOW_OK)
            return rc;
        r->ops |= AVOW__OP_EQUALS;
    }
    if ((v = json_object_get(jr, "in")) == NULL)
        return AVOW_OK;
    if (!is_scalar(r))
        return bad(c, "in", "claim \"%s\" cannot be compared with in", r->claim);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(c, "in", "must be a non-empty array");
    if (json_array_size(v) > AVOW_POLICY_MAX_IN)
        return bad(c, "in", "more than %u entries", AVOW_POLICY_MAX_IN);
    r->in = OPENSSL_zalloc(json_array_size(v) * sizeof(*r->in));
    if (r->in == NULL)
        return AVOW_ERR_NOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char k[24];
        pathf(k, sizeof(k), "in[%zu]", i);
        if ((rc = get_lit(c, k, e, r, &r->in[i])) != AVOW_OK)
            return rc;
        r->nin = i + 1;
    }
    r->ops |= AVOW__OP_IN;
    return AVOW_OK;
}

/* min, max, version_at_least and present. */
static avow_err parse_bounds(pctx *c, json_t *jr, avow__rule *r)
{
    json_t *v;
    static const char *const bounds[2] = {"min", "max"};
    for (int b = 0; b < 2; b++) {
        if ((v = json_object_get(jr, bounds[b])) == NULL)
            continue;
        if (r->known_type && r->type != AVOW_CV_INT)
            return bad(c, bounds[b], "claim \"%s\" is not an integer", r->claim);
        if (!json_is_integer(v))
            return bad(c, bounds[b], "must be an integer");
        if (b == 0) {
            r->min = (int64_t)json_integer_value(v);
            r->ops |= AVOW__OP_MIN;
        } else {
            r->max = (int64_t)json_integer_value(v);
            r->ops |= AVOW__OP_MAX;
        }
    }
    if ((r->ops & AVOW__OP_MIN) && (r->ops & AVOW__OP_MAX) && r->min > r->max)
        return bad(c, "max", "smaller than min");
    if ((v = json_object_get(jr, "version_at_least")) != NULL) {
        if (r->known_type && r->type != AVOW_CV_TEXT)
            return bad(c, "version_at_least", "claim \"%s\" is not text", r->claim);
        if (!json_is_string(v) || !avow__version_parse(json_string_value(v), json_string_length(v),
                                                       r->version, &r->nversion))
            return bad(c, "version_at_least", "must be a dotted numeric version such as \"2.6\"");
        r->ops |= AVOW__OP_VERSION;
    }
    if ((v = json_object_get(jr, "present")) != NULL) {
        if (!bool_of(v, &r->present))
            return bad(c, "present", "must be a boolean");
        if (!r->present && (r->ops != 0 || r->required))
            return bad(c, "present", "\"present\": false cannot be combined with other checks");
        r->ops |= AVOW__OP_PRESENT;
    }
    return AVOW_OK;
}

static avow_err parse_rule(pctx *c, json_t *jr, avow__rule *r)
{
    avow_err rc;
    if (!json_is_object(jr))
        return bad(c, NULL, "a rule must be an object");
    if ((rc = check_keys(c, jr)) != AVOW_OK || (rc = parse_target(c, jr, r)) != AVOW_OK ||
        (rc = parse_attributes(c, jr, r)) != AVOW_OK || (rc = parse_values(c, jr, r)) != AVOW_OK ||
        (rc = parse_bounds(c, jr, r)) != AVOW_OK)
        return rc;
    if (r->ops == 0 && !r->required)
        return bad(c, NULL, "rule \"%s\" checks nothing (give an operator or \"required\": true)",
                   r->id);
    return AVOW_OK;
}

/* A list of 1..AVOW_POLICY_MAX_REQUIRED_TYPES distinct statement types under "statements". */
static avow_err parse_types(pctx *c, json_t *v, const char *what, char ***out, size_t *nout)
{
    avow_err rc;
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > AVOW_POLICY_MAX_REQUIRED_TYPES)
        return bad(c, what, "must be an array of 1 to %u statement types",
                   AVOW_POLICY_MAX_REQUIRED_TYPES);
    *out = OPENSSL_zalloc(json_array_size(v) * sizeof(**out));
    if (*out == NULL)
        return AVOW_ERR_NOMEM;
    size_t i;
    json_t *t;
    char at[32];
    json_array_foreach(v, i, t)
    {
        snprintf(at, sizeof(at), "%s[%zu]", what, i);
        if ((rc = get_str(c, at, t, AVOW_POLICY_ID_MAX, &(*out)[i])) != AVOW_OK)
            return rc;
        *nout = i + 1;
        /* Each missing type is a submod of its own, and submod names are unique. */
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], (*out)[i]) == 0)
                return bad(c, at, "statement type \"%s\" repeats %s[%zu]", (*out)[i], what, j);
    }
    return AVOW_OK;
}

/*
 * "statements": {"unknown": "ignore"|"reject", "required": ["pkix-evidence" | dotted OID, ...],
 * "linked": [types whose signer a platform token must bind]}
 */
static avow_err parse_statements(pctx *c, json_t *js, avow_policy *p)
{
    avow_err rc = AVOW_OK;
    if (!json_is_object(js))
        return bad(c, NULL, "must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(js, key, v)
    {
        if (strcmp(key, "unknown") != 0 && strcmp(key, "required") != 0 &&
            strcmp(key, "linked") != 0)
            return bad(c, key, "unknown key");
    }
    if ((v = json_object_get(js, "unknown")) != NULL) {
        const char *s = json_string_value(v);
        if (s == NULL || (strcmp(s, "ignore") != 0 && strcmp(s, "reject") != 0))
            return bad(c, "unknown", "must be \"ignore\" or \"reject\"");
        p->reject_unknown = strcmp(s, "reject") == 0;
    }
    if ((v = json_object_get(js, "required")) != NULL)
        rc = parse_types(c, v, "required", &p->required, &p->nrequired);
    if (rc == AVOW_OK && (v = json_object_get(js, "linked")) != NULL)
        rc = parse_types(c, v, "linked", &p->linked, &p->nlinked);
    return rc;
}

static avow_err parse_doc(pctx *c, json_t *root, avow_policy *p)
{
    avow_err rc;
    if (!json_is_object(root))
        return bad(c, NULL, "the policy must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "name") != 0 && strcmp(key, "rules") != 0 &&
            strcmp(key, "description") != 0 && strcmp(key, "statements") != 0)
            return bad(c, key, "unknown key");
    }
    if ((v = json_object_get(root, "statements")) != NULL) {
        pathf(c->path, sizeof(c->path), "statements");
        if ((rc = parse_statements(c, v, p)) != AVOW_OK)
            return rc;
        c->path[0] = '\0';
    }
    if ((v = json_object_get(root, "name")) == NULL)
        return bad(c, "name", "missing");
    if ((rc = get_str(c, "name", v, AVOW_POLICY_NAME_MAX, &p->name)) != AVOW_OK)
        return rc;
    if ((v = json_object_get(root, "description")) != NULL && !json_is_string(v))
        return bad(c, "description", "must be a string");
    json_t *rules = json_object_get(root, "rules");
    if (rules == NULL)
        return bad(c, "rules", "missing");
    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return bad(c, "rules", "must be a non-empty array");
    if (json_array_size(rules) > AVOW_POLICY_MAX_RULES)
        return bad(c, "rules", "more than %u rules", AVOW_POLICY_MAX_RULES);
    p->rules = OPENSSL_zalloc(json_array_size(rules) * sizeof(*p->rules));
    if (p->rules == NULL)
        return AVOW_ERR_NOMEM;
    size_t i;
    json_t *jr;
    json_array_foreach(rules, i, jr)
    {
        pathf(c->path, sizeof(c->path), "rules[%zu]", i);
        p->nrules = i + 1;
        if ((rc = parse_rule(c, jr, &p->rules[i])) != AVOW_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->rules[j].id, p->rules[i].id) == 0)
                return bad(c, "id", "rule id \"%s\" repeats rules[%zu]", p->rules[i].id, j);
    }
    return AVOW_OK;
}

avow_err avow_policy_parse(const char *json, size_t len, avow_policy **out, avow_diag *diag)
{
    return avow_policy_parse_reg(json, len, NULL, out, diag);
}

avow_err avow_policy_parse_reg(const char *json, size_t len, const avow_registry *reg,
                               avow_policy **out, avow_diag *diag)
{
    if (out == NULL || (json == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "policy", "no policy text or output");
    *out = NULL;
    json_t *root = NULL;
    avow_err lrc =
        avow__json_load(json, len, AVOW_POLICY_MAX_SIZE, "policy", "policy", &root, diag);
    if (lrc != AVOW_OK)
        return lrc;
    avow_policy *p = OPENSSL_zalloc(sizeof(*p));
    if (p == NULL) {
        json_decref(root);
        return avow__fail(diag, AVOW_ERR_NOMEM, "policy", "out of memory");
    }
    pctx c = {diag, reg, ""};
    avow_err rc = parse_doc(&c, root, p);
    json_decref(root);
    if (rc != AVOW_OK) {
        if (rc == AVOW_ERR_NOMEM)
            avow__fail(diag, rc, c.path[0] != '\0' ? c.path : "policy", "out of memory");
        avow_policy_free(p);
        return rc;
    }
    *out = p;
    return AVOW_OK;
}

avow_err avow_policy_load(const char *path, avow_policy **out, avow_diag *diag)
{
    return avow_policy_load_reg(path, NULL, out, diag);
}

avow_err avow_policy_load_reg(const char *path, const avow_registry *reg, avow_policy **out,
                              avow_diag *diag)
{
    if (path == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "policy", "no path or output");
    avow_buf b = {0};
    avow_err rc = avow_read_file(path, AVOW_POLICY_MAX_SIZE, &b, diag);
    if (rc != AVOW_OK)
        return rc;
    rc = avow_policy_parse_reg((const char *)b.ptr, b.len, reg, out, diag);
    avow_buf_free(&b);
    return rc;
}

avow_err avow_policy_default(avow_policy **out)
{
    return avow_policy_parse(avow__default_policy_json, strlen(avow__default_policy_json), out,
                             NULL);
}
