/*
 * EAR (draft-ietf-rats-ear-03): building from verification and appraisal
 * results, JSON out (-03 names, sorted keys), JSON in (-03 and -02).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/avow.h>
#include <avow/ear.h>

#include "core/internal.h"
#include "core/json.h"
#include "verifier/ear_int.h"

/* AR4SI values avow writes (docs/ear.md). */
#define TV_AFFIRMING       2
#define TV_WARNING         32
#define TV_CONTRAINDICATED 96
#define TV_CRYPTO_FAILED   99 /* instance-identity / executables: cryptographic validation failed */

/* --- building --- */

static int tier_of_code(avow_tier t)
{
    return t == AVOW_TIER_WARNING ? TV_WARNING : TV_CONTRAINDICATED;
}

static void vec_put(avow_ear_submod *sm, avow_tv_key k, int value)
{
    if ((int)k < 0 || k >= AVOW_TV_COUNT_)
        return;
    unsigned bit = 1u << k;
    if (sm->vector_set & bit) {
        int old = sm->vector[k];
        avow_tier to = avow_tier_of_value(old), tn = avow_tier_of_value(value);
        int a_old = old < 0 ? -old : old, a_new = value < 0 ? -value : value;
        if (!(avow_tier_worse(tn, to) || (tn == to && a_new > a_old)))
            return;
    }
    sm->vector_set |= bit;
    sm->vector[k] = (int8_t)value;
}

AVOW_PRINTF(6, 7)
static avow_err add_reason(avow_ear_submod *sm, int is_rule, const char *name, avow_err code,
                           avow_tier tier, const char *fmt, ...)
{
    if (sm->nreasons == AVOW_EAR_MAX_REASONS)
        return AVOW_OK; /* the first ones say enough */
    avow_ear_reason *r = &sm->reasons[sm->nreasons++];
    r->is_rule = is_rule;
    avow__strlcpy(r->name, name, sizeof(r->name));
    r->code = code;
    r->tier = tier;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    return AVOW_OK;
}

/* The check a verification error belongs to and the instance-identity value it costs. */
static const char *verify_check(avow_err e, int *value)
{
    *value = TV_CONTRAINDICATED;
    switch (e) {
    case AVOW_ERR_UNSIGNED:
    case AVOW_ERR_SIG_INVALID:
    case AVOW_ERR_SIG_ALG:
    case AVOW_ERR_ALG_MISMATCH:
        *value = TV_CRYPTO_FAILED;
        return "signature";
    case AVOW_ERR_KEY_UNKNOWN:
    case AVOW_ERR_CHAIN:
    case AVOW_ERR_AK_EKU:
    case AVOW_ERR_AK_KU:
    case AVOW_ERR_AK_CA:
    case AVOW_ERR_AK_SPKI:
    case AVOW_ERR_UNTRUSTED:
        return "trust";
    case AVOW_ERR_NONCE_MISSING:
    case AVOW_ERR_NONCE_MISMATCH:
        return "nonce";
    case AVOW_ERR_POP:
    case AVOW_ERR_KEY_BINDING:
        return "key-binding";
    case AVOW_ERR_NONCE_REPLAY:
    case AVOW_ERR_NONCE_UNKNOWN:
    case AVOW_ERR_NONCE_EXPIRED:
        return "freshness";
    default:
        return "evidence";
    }
}

static avow_tier submod_status(const avow_ear_submod *sm)
{
    int any = 0;
    avow_tier worst = AVOW_TIER_AFFIRMING;
    for (int k = 0; k < AVOW_TV_COUNT_; k++) {
        if (!(sm->vector_set & (1u << k)))
            continue;
        avow_tier t = avow_tier_of_value(sm->vector[k]);
        if (!any || avow_tier_worse(t, worst))
            worst = t;
        any = 1;
    }
    for (size_t i = 0; i < sm->nreasons; i++) {
        if (!any || avow_tier_worse(sm->reasons[i].tier, worst))
            worst = sm->reasons[i].tier;
        any = 1;
    }
    return any ? worst : AVOW_TIER_NONE;
}

/* instance-identity and the reasons from verification, the nonce and freshness. */
static void put_checks(const avow_ear_statement *st, avow_ear_submod *sm)
{
    int vstatus_nonce = 0;
    if (st->verify_status == AVOW_OK) {
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, TV_AFFIRMING);
    } else {
        int value;
        const char *check = verify_check(st->verify_status, &value);
        vstatus_nonce = strcmp(check, "nonce") == 0;
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, value);
        const char *name = avow_errname(st->verify_status);
        add_reason(sm, 0, check, st->verify_status, AVOW_TIER_CONTRAINDICATED, "%s%s%s",
                   name != NULL ? avow_strerror(st->verify_status) : "verification failed",
                   st->verify_detail != NULL && *st->verify_detail ? ": " : "",
                   st->verify_detail != NULL ? st->verify_detail : "");
    }

    switch (st->nonce) {
    case AVOW_NONCE_MATCH:
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, TV_AFFIRMING);
        break;
    case AVOW_NONCE_MISMATCH:
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, TV_CONTRAINDICATED);
        if (!vstatus_nonce)
            add_reason(sm, 0, "nonce", AVOW_ERR_NONCE_MISMATCH, AVOW_TIER_CONTRAINDICATED,
                       "the Evidence nonce differs from the one the verifier issued");
        break;
    case AVOW_NONCE_ABSENT:
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, TV_CONTRAINDICATED);
        if (!vstatus_nonce)
            add_reason(sm, 0, "nonce", AVOW_ERR_NONCE_MISSING, AVOW_TIER_CONTRAINDICATED,
                       "a nonce was expected but the Evidence carries none");
        break;
    case AVOW_NONCE_NOT_CHECKED:
        break;
    }

    if (st->freshness != AVOW_OK) {
        vec_put(sm, AVOW_TV_INSTANCE_IDENTITY, TV_CONTRAINDICATED);
        add_reason(sm, 0, "freshness", st->freshness, AVOW_TIER_CONTRAINDICATED, "%s",
                   avow_strerror(st->freshness));
    }
}

/* The policy id and, per rule, its vector claim and its reason. */
static avow_err put_report(const avow_policy_report *rep, avow_ear_submod *sm)
{
    sm->policy_ids = OPENSSL_zalloc(sizeof(char *));
    if (sm->policy_ids == NULL || (sm->policy_ids[0] = OPENSSL_strdup(rep->policy)) == NULL)
        return AVOW_ERR_NOMEM;
    sm->npolicy_ids = 1;
    for (size_t i = 0; i < rep->nrules; i++) {
        const avow_rule_result *r = &rep->rules[i];
        switch (r->outcome) {
        case AVOW_RULE_PASS:
            vec_put(sm, r->vector, TV_AFFIRMING);
            break;
        case AVOW_RULE_FAIL:
            vec_put(sm, r->vector, tier_of_code(r->tier));
            add_reason(sm, 1, r->id, AVOW_ERR_POLICY, r->tier, "%s", r->detail);
            break;
        case AVOW_RULE_UNKNOWN:
            if (r->required) {
                vec_put(sm, r->vector, tier_of_code(r->tier));
                add_reason(sm, 1, r->id, AVOW_ERR_POLICY, r->tier,
                           "required claim not established: %s", r->detail);
            }
            break;
        case AVOW_RULE_SKIPPED:
            break;
        }
    }
    return AVOW_OK;
}

static avow_err build_submod(const avow_ear_statement *st, avow_ear_submod *sm)
{
    sm->name = OPENSSL_strdup(st->name);
    sm->reasons = OPENSSL_zalloc(AVOW_EAR_MAX_REASONS * sizeof(*sm->reasons));
    if (sm->name == NULL || sm->reasons == NULL)
        return AVOW_ERR_NOMEM;
    put_checks(st, sm);
    if (st->report != NULL && put_report(st->report, sm) != AVOW_OK)
        return AVOW_ERR_NOMEM;
    if (st->akpub != NULL && st->akpub_len > 0) {
        sm->akpub.ptr = avow__memdup(st->akpub, st->akpub_len);
        if (sm->akpub.ptr == NULL)
            return AVOW_ERR_NOMEM;
        sm->akpub.len = st->akpub_len;
    }
    if (st->binds != NULL && ((sm->binds = OPENSSL_strdup(st->binds)) == NULL ||
                              (sm->binding = OPENSSL_strdup(st->binding)) == NULL))
        return AVOW_ERR_NOMEM;
    sm->status = submod_status(sm);
    return AVOW_OK;
}

static void submod_clear(avow_ear_submod *sm)
{
    OPENSSL_free(sm->name);
    for (size_t i = 0; i < sm->npolicy_ids; i++)
        OPENSSL_free(sm->policy_ids[i]);
    OPENSSL_free(sm->policy_ids);
    avow_buf_free(&sm->akpub);
    OPENSSL_free(sm->reasons);
    OPENSSL_free(sm->binds);
    OPENSSL_free(sm->binding);
}

void avow_ear_free(avow_ear *ear)
{
    if (ear == NULL)
        return;
    for (size_t i = 0; i < ear->nsubmods; i++)
        submod_clear(&ear->submods[i]);
    OPENSSL_free(ear->submods);
    OPENSSL_free(ear->developer);
    OPENSSL_free(ear->build);
    OPENSSL_free(ear->nonce);
    OPENSSL_free(ear->profile);
    OPENSSL_free(ear);
}

static avow_tier worst_submod(const avow_ear *ear)
{
    avow_tier w = AVOW_TIER_AFFIRMING;
    for (size_t i = 0; i < ear->nsubmods; i++)
        if (i == 0 || avow_tier_worse(ear->submods[i].status, w))
            w = ear->submods[i].status;
    return w;
}

void avow_ear_statement_init(avow_ear_statement *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof(*st));
    st->size = sizeof(*st);
    st->verify_status = AVOW_OK;
    st->nonce = AVOW_NONCE_NOT_CHECKED;
    st->freshness = AVOW_OK;
}

void avow_ear_opts_init(avow_ear_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_ear_build(const avow_ear_statement *st, size_t n, const avow_ear_opts *opts,
                        avow_ear **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (st == NULL || out == NULL || n == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "no statements or output");
    if (n > AVOW_EAR_MAX_SUBMODS)
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "%zu statements, limit %u", n,
                          AVOW_EAR_MAX_SUBMODS);
    for (size_t i = 0; i < n; i++) {
        if (st[i].size != sizeof(st[i]))
            return avow__fail(diag, AVOW_ERR_ARG, "ear.submods",
                              "statement %zu not set up with avow_ear_statement_init", i);
        if (st[i].name == NULL || st[i].name[0] == '\0')
            return avow__fail(diag, AVOW_ERR_ARG, "ear.submods", "statement %zu has no name", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(st[i].name, st[j].name) == 0)
                return avow__fail(diag, AVOW_ERR_ARG, "ear.submods",
                                  "statement name \"%s\" given twice", st[i].name);
    }
    for (size_t i = 0; i < n; i++) {
        if (st[i].binds == NULL && st[i].binding == NULL)
            continue;
        size_t j = 0;
        while (j < n && (j == i || st[i].binds == NULL || strcmp(st[i].binds, st[j].name) != 0))
            j++;
        if (j == n || st[i].binding == NULL ||
            (strcmp(st[i].binding, AVOW_EAR_BINDING_LINKED) != 0 &&
             strcmp(st[i].binding, AVOW_EAR_BINDING_NESTED) != 0))
            return avow__fail(diag, AVOW_ERR_ARG, "ear.submods",
                              "statement %zu binds no other statement of the EAR, or not as "
                              "\"linked\" or \"nested\"",
                              i);
    }
    avow_ear_opts none;
    avow_ear_opts_init(&none);
    if (opts == NULL)
        opts = &none;
    if (opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "ear.opts",
                          "options not set up with avow_ear_opts_init");
    if (opts->nonce != NULL && (opts->nonce_len < 8 || opts->nonce_len > 64))
        return avow__fail(diag, AVOW_ERR_ARG, "ear.eat_nonce", "nonce of %zu bytes (8..64)",
                          opts->nonce_len);

    avow_ear *ear = OPENSSL_zalloc(sizeof(*ear));
    avow_err rc = AVOW_ERR_NOMEM;
    if (ear == NULL)
        goto fail;
    ear->draft = 3;
    ear->iat = opts->iat != 0 ? opts->iat : time(NULL);
    ear->exp = opts->ttl > 0 ? ear->iat + (time_t)opts->ttl : 0;
    ear->developer = OPENSSL_strdup(AVOW_EAR_DEVELOPER);
    ear->build = OPENSSL_strdup(opts->build != NULL ? opts->build : "avow " AVOW_VERSION);
    if (ear->developer == NULL || ear->build == NULL)
        goto fail;
    if (opts->nonce != NULL &&
        (ear->nonce = avow__b64url_encode(opts->nonce, opts->nonce_len)) == NULL)
        goto fail;
    ear->submods = OPENSSL_zalloc(n * sizeof(*ear->submods));
    if (ear->submods == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        ear->nsubmods = i + 1;
        if ((rc = build_submod(&st[i], &ear->submods[i])) != AVOW_OK)
            goto fail;
    }
    ear->has_status = 1;
    ear->status = worst_submod(ear);
    *out = ear;
    return AVOW_OK;
fail:
    avow_ear_free(ear);
    return avow__fail(diag, rc, "ear", "out of memory");
}

/* --- JSON out --- */

static json_t *submod_json(const avow_ear_submod *sm, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    *bad |= json_object_set_new(o, "ear_status", json_string(avow_tier_name(sm->status))) != 0;
    if (sm->vector_set != 0) {
        json_t *v = json_object();
        for (int k = 0; k < AVOW_TV_COUNT_; k++)
            if (sm->vector_set & (1u << k))
                *bad |= json_object_set_new(v, avow_tv_name((avow_tv_key)k),
                                            json_integer(sm->vector[k])) != 0;
        *bad |= json_object_set_new(o, "ear_trustworthiness_vector", v) != 0;
    }
    if (sm->npolicy_ids > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < sm->npolicy_ids; i++)
            *bad |= json_array_append_new(a, avow__json_text(sm->policy_ids[i])) != 0;
        *bad |= json_object_set_new(o, "ear_appraisal_policy_ids", a) != 0;
    }
    if (sm->akpub.len > 0) {
        char *b = avow__b64url_encode(sm->akpub.ptr, sm->akpub.len);
        json_t *ka = json_object();
        *bad |= b == NULL;
        if (b != NULL)
            *bad |= json_object_set_new(ka, "akpub", json_string(b)) != 0;
        OPENSSL_free(b);
        *bad |= json_object_set_new(o, "ear_veraison_key_attestation", ka) != 0;
    }
    if (sm->nreasons > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < sm->nreasons; i++) {
            const avow_ear_reason *r = &sm->reasons[i];
            json_t *x = json_object();
            const char *code = avow_errname(r->code);
            *bad |= json_object_set_new(x, r->is_rule ? "rule" : "check",
                                        avow__json_text(r->name)) != 0;
            *bad |=
                json_object_set_new(x, "code", json_string(code ? code : "AVOW_ERR_INTERNAL")) != 0;
            *bad |= json_object_set_new(x, "tier", json_string(avow_tier_name(r->tier))) != 0;
            *bad |= json_object_set_new(x, "detail", avow__json_text(r->detail)) != 0;
            *bad |= json_array_append_new(a, x) != 0;
        }
        *bad |= json_object_set_new(o, "avow_reasons", a) != 0;
    }
    if (sm->binds != NULL && sm->binding != NULL) {
        *bad |= json_object_set_new(o, "avow_binds", avow__json_text(sm->binds)) != 0;
        *bad |= json_object_set_new(o, "avow_binding", json_string(sm->binding)) != 0;
    }
    return o;
}

avow_err avow_ear_to_json(const avow_ear *ear, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (ear == NULL || out == NULL || ear->nsubmods == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "no EAR, submods or output");
    int bad = 0;
    json_t *root = json_object();
    bad |= root == NULL;
    bad |= json_object_set_new(root, "eat_profile", json_string(AVOW_EAR_PROFILE)) != 0;
    bad |= json_object_set_new(root, "iat", json_integer((json_int_t)ear->iat)) != 0;
    if (ear->exp != 0)
        bad |= json_object_set_new(root, "exp", json_integer((json_int_t)ear->exp)) != 0;
    /* Never better than the worst submod, whatever the struct says. */
    avow_tier top = worst_submod(ear);
    if (ear->has_status && avow_tier_worse(ear->status, top))
        top = ear->status;
    bad |= json_object_set_new(root, "ear_status", json_string(avow_tier_name(top))) != 0;
    json_t *vid = json_object();
    bad |= json_object_set_new(
               vid, "developer",
               avow__json_text(ear->developer ? ear->developer : AVOW_EAR_DEVELOPER)) != 0;
    bad |=
        json_object_set_new(vid, "build", avow__json_text(ear->build ? ear->build : "avow")) != 0;
    bad |= json_object_set_new(root, "ear_verifier_id", vid) != 0;
    if (ear->nonce != NULL)
        bad |= json_object_set_new(root, "eat_nonce", avow__json_text(ear->nonce)) != 0;
    json_t *subs = json_object();
    for (size_t i = 0; i < ear->nsubmods; i++)
        bad |= json_object_set_new(subs, ear->submods[i].name,
                                   submod_json(&ear->submods[i], &bad)) != 0;
    bad |= json_object_set_new(root, "submods", subs) != 0;
    char *s = bad ? NULL : json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "ear", "cannot serialise the EAR");
    size_t n = strlen(s);
    out->ptr = avow__memdup((const uint8_t *)s, n + 1);
    free(s);
    if (out->ptr == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "ear", "out of memory");
    out->len = n;
    return AVOW_OK;
}

/* --- JSON in --- */

typedef struct names {
    const char *status, *vector, *policy, *verifier, *keyatt;
    int policy_is_array;
} names;

static const names NAMES_03 = {
    "ear_status",      "ear_trustworthiness_vector",   "ear_appraisal_policy_ids",
    "ear_verifier_id", "ear_veraison_key_attestation", 1};
static const names NAMES_02 = {
    "ear.status",      "ear.trustworthiness-vector",   "ear.appraisal-policy-id",
    "ear.verifier-id", "ear.veraison.key-attestation", 0};

static avow_err malformed(avow_diag *d, const char *field, const char *what)
{
    return avow__fail(d, AVOW_ERR_MALFORMED, field, "%s: %s", field, what);
}

static avow_err tier_json(json_t *v, avow_tier *t)
{
    if (!json_is_string(v))
        return AVOW_ERR_MALFORMED;
    return avow_tier_by_name(json_string_value(v), t) == AVOW_OK ? AVOW_OK : AVOW_ERR_MALFORMED;
}

static avow_err read_reasons(json_t *a, avow_ear_submod *sm, const char *sub, avow_diag *d)
{
    char f[160];
    snprintf(f, sizeof(f), "submods.%.100s.avow_reasons", sub);
    if (!json_is_array(a))
        return malformed(d, f, "must be an array");
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (sm->nreasons == AVOW_EAR_MAX_REASONS)
            break;
        json_t *rule = json_object_get(x, "rule"), *check = json_object_get(x, "check");
        json_t *code = json_object_get(x, "code"), *tier = json_object_get(x, "tier");
        json_t *detail = json_object_get(x, "detail");
        json_t *name = rule != NULL ? rule : check;
        if (!json_is_object(x) || !json_is_string(name) || !json_is_string(code) ||
            (detail != NULL && !json_is_string(detail)))
            return malformed(d, f, "an entry needs \"rule\" or \"check\" and \"code\" as text");
        avow_ear_reason *r = &sm->reasons[sm->nreasons++];
        r->is_rule = rule != NULL;
        avow__strlcpy(r->name, json_string_value(name), sizeof(r->name));
        r->code = AVOW_ERR_INTERNAL;
#define AVOW_EAR_CODE_(cname, num, msg)                                                            \
    if (strcmp(json_string_value(code), #cname) == 0)                                              \
        r->code = cname;
        AVOW_ERRORS(AVOW_EAR_CODE_)
#undef AVOW_EAR_CODE_
        r->tier = AVOW_TIER_CONTRAINDICATED;
        if (tier != NULL && tier_json(tier, &r->tier) != AVOW_OK)
            return malformed(d, f, "unknown tier");
        avow__strlcpy(r->detail, detail != NULL ? json_string_value(detail) : "",
                      sizeof(r->detail));
    }
    return AVOW_OK;
}

static avow_err read_submod(const names *nm, const char *name, json_t *o, avow_ear_submod *sm,
                            avow_diag *d)
{
    char f[160];
    snprintf(f, sizeof(f), "submods.%.100s", name);
    if (!json_is_object(o))
        return malformed(d, f, "an appraisal must be an object");
    if ((sm->name = OPENSSL_strdup(name)) == NULL)
        return AVOW_ERR_NOMEM;
    snprintf(f, sizeof(f), "submods.%.100s.%s", name, nm->status);
    if (tier_json(json_object_get(o, nm->status), &sm->status) != AVOW_OK)
        return malformed(d, f, "missing or not a trustworthiness tier");

    json_t *v = json_object_get(o, nm->vector);
    if (v != NULL) {
        snprintf(f, sizeof(f), "submods.%.100s.%s", name, nm->vector);
        if (!json_is_object(v) || json_object_size(v) == 0)
            return malformed(d, f, "must be a non-empty object");
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
        {
            avow_tv_key k = avow_tv_by_name(key);
            if (k == AVOW_TV_NONE)
                return malformed(d, f, "unknown trustworthiness-vector key");
            if (!json_is_integer(val) || json_integer_value(val) < -128 ||
                json_integer_value(val) > 127)
                return malformed(d, f, "a vector claim must be an integer in -128..127");
            sm->vector[k] = (int8_t)json_integer_value(val);
            sm->vector_set |= 1u << k;
        }
    }
    json_t *p = json_object_get(o, nm->policy);
    if (p != NULL) {
        snprintf(f, sizeof(f), "submods.%.100s.%s", name, nm->policy);
        size_t np = nm->policy_is_array ? json_array_size(p) : 1;
        if ((nm->policy_is_array && (!json_is_array(p) || np == 0 || np > 64)) ||
            (!nm->policy_is_array && !json_is_string(p)))
            return malformed(
                d, f, nm->policy_is_array ? "must be a non-empty array of text" : "must be text");
        if ((sm->policy_ids = OPENSSL_zalloc(np * sizeof(char *))) == NULL)
            return AVOW_ERR_NOMEM;
        for (size_t i = 0; i < np; i++) {
            json_t *e = nm->policy_is_array ? json_array_get(p, i) : p;
            if (!json_is_string(e))
                return malformed(d, f, "policy ids must be text");
            if ((sm->policy_ids[i] = OPENSSL_strdup(json_string_value(e))) == NULL)
                return AVOW_ERR_NOMEM;
            sm->npolicy_ids = i + 1;
        }
    }
    json_t *ka = json_object_get(o, nm->keyatt);
    if (ka != NULL) {
        snprintf(f, sizeof(f), "submods.%.100s.%s", name, nm->keyatt);
        json_t *ak = json_object_get(ka, "akpub");
        if (!json_is_string(ak) ||
            avow__b64url_decode(json_string_value(ak), json_string_length(ak), &sm->akpub) !=
                AVOW_OK)
            return malformed(d, f, "akpub must be base64url text");
    }
    json_t *bs = json_object_get(o, "avow_binds"), *bg = json_object_get(o, "avow_binding");
    if (bs != NULL || bg != NULL) {
        snprintf(f, sizeof(f), "submods.%.100s.avow_binding", name);
        if (!json_is_string(bs) || json_string_length(bs) == 0 || json_string_length(bs) > 256 ||
            !json_is_string(bg) ||
            (strcmp(json_string_value(bg), AVOW_EAR_BINDING_LINKED) != 0 &&
             strcmp(json_string_value(bg), AVOW_EAR_BINDING_NESTED) != 0))
            return malformed(d, f,
                             "avow_binds (a submod name) and avow_binding (\"linked\" or "
                             "\"nested\") come together");
        if ((sm->binds = OPENSSL_strdup(json_string_value(bs))) == NULL ||
            (sm->binding = OPENSSL_strdup(json_string_value(bg))) == NULL)
            return AVOW_ERR_NOMEM;
    }
    if ((sm->reasons = OPENSSL_zalloc(AVOW_EAR_MAX_REASONS * sizeof(*sm->reasons))) == NULL)
        return AVOW_ERR_NOMEM;
    json_t *rs = json_object_get(o, "avow_reasons");
    if (rs != NULL)
        return read_reasons(rs, sm, name, d);
    return AVOW_OK;
}

static avow_err read_ear(json_t *root, avow_ear *ear, avow_diag *d)
{
    if (!json_is_object(root))
        return malformed(d, "ear", "an EAR must be a JSON object");
    json_t *prof = json_object_get(root, "eat_profile");
    if (!json_is_string(prof))
        return malformed(d, "eat_profile", "missing or not text");
    const names *nm;
    if (strcmp(json_string_value(prof), AVOW_EAR_PROFILE) == 0) {
        nm = &NAMES_03;
        ear->draft = 3;
    } else if (strcmp(json_string_value(prof), AVOW_EAR_PROFILE_02) == 0 ||
               strcmp(json_string_value(prof), AVOW_EAR_PROFILE_VERAISON) == 0) {
        /* Veraison's profile keeps the dotted names of -02 (ear.status, ear.veraison.*). */
        nm = &NAMES_02;
        ear->draft = 2;
    } else {
        return avow__fail(d, AVOW_ERR_VERSION, "eat_profile",
                          "eat_profile \"%.80s\" is not an EAR profile avow reads",
                          json_string_value(prof));
    }
    if ((ear->profile = OPENSSL_strdup(json_string_value(prof))) == NULL)
        return AVOW_ERR_NOMEM;
    json_t *iat = json_object_get(root, "iat"), *exp = json_object_get(root, "exp");
    if (!json_is_integer(iat))
        return malformed(d, "iat", "missing or not an integer");
    ear->iat = (time_t)json_integer_value(iat);
    if (exp != NULL) {
        if (!json_is_integer(exp))
            return malformed(d, "exp", "not an integer");
        ear->exp = (time_t)json_integer_value(exp);
    }
    json_t *st = json_object_get(root, nm->status);
    if (st != NULL) {
        if (tier_json(st, &ear->status) != AVOW_OK)
            return malformed(d, nm->status, "not a trustworthiness tier");
        ear->has_status = 1;
    }
    json_t *vid = json_object_get(root, nm->verifier);
    json_t *dev = json_object_get(vid, "developer"), *build = json_object_get(vid, "build");
    if (!json_is_string(dev) || !json_is_string(build))
        return malformed(d, nm->verifier, "needs \"developer\" and \"build\" as text");
    if ((ear->developer = OPENSSL_strdup(json_string_value(dev))) == NULL ||
        (ear->build = OPENSSL_strdup(json_string_value(build))) == NULL)
        return AVOW_ERR_NOMEM;
    json_t *nonce = json_object_get(root, "eat_nonce");
    if (nonce != NULL) {
        if (!json_is_string(nonce) || json_string_length(nonce) < 8 ||
            json_string_length(nonce) > 88)
            return malformed(d, "eat_nonce", "must be text of 8..88 characters");
        if ((ear->nonce = OPENSSL_strdup(json_string_value(nonce))) == NULL)
            return AVOW_ERR_NOMEM;
    }
    json_t *subs = json_object_get(root, "submods");
    if (!json_is_object(subs) || json_object_size(subs) == 0)
        return malformed(d, "submods", "missing or empty");
    if (json_object_size(subs) > AVOW_EAR_MAX_SUBMODS)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "submods", "more than %u submods",
                          AVOW_EAR_MAX_SUBMODS);
    if ((ear->submods = OPENSSL_zalloc(json_object_size(subs) * sizeof(*ear->submods))) == NULL)
        return AVOW_ERR_NOMEM;
    const char *key;
    json_t *o;
    json_object_foreach(subs, key, o)
    {
        avow_ear_submod *sm = &ear->submods[ear->nsubmods++];
        avow_err rc = read_submod(nm, key, o, sm, d);
        if (rc != AVOW_OK)
            return rc;
    }
    for (size_t i = 0; i < ear->nsubmods; i++) {
        size_t j = 0;
        while (ear->submods[i].binds != NULL && j < ear->nsubmods &&
               (j == i || strcmp(ear->submods[j].name, ear->submods[i].binds) != 0))
            j++;
        if (j == ear->nsubmods)
            return malformed(d, "avow_binds", "names no other submod of the EAR");
    }
    /* A top-level status better than a submod's is a contradiction: take the worst. */
    if (ear->has_status && avow_tier_worse(worst_submod(ear), ear->status))
        return malformed(d, nm->status, "top-level status is better than the worst submod");
    return AVOW_OK;
}

avow_err avow_ear_json_pretty(const char *json, size_t len, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (json == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "no input or output");
    json_t *root = NULL;
    avow_err rc = avow__json_load(json, len, AVOW_EAR_MAX_SIZE, "EAR", "ear", &root, diag);
    if (rc != AVOW_OK)
        return rc;
    rc = avow__json_dump(root, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(root);
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "ear", "out of memory");
}

avow_err avow_ear_from_json(const char *json, size_t len, avow_ear **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (json == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "no input or output");
    json_t *root = NULL;
    avow_err rc = avow__json_load(json, len, AVOW_EAR_MAX_SIZE, "EAR", "ear", &root, diag);
    if (rc != AVOW_OK)
        return rc;
    avow_ear *ear = OPENSSL_zalloc(sizeof(*ear));
    rc = ear != NULL ? read_ear(root, ear, diag) : AVOW_ERR_NOMEM;
    json_decref(root);
    if (rc != AVOW_OK) {
        if (rc == AVOW_ERR_NOMEM)
            avow__fail(diag, rc, "ear", "out of memory");
        avow_ear_free(ear);
        return rc;
    }
    *out = ear;
    return AVOW_OK;
}
