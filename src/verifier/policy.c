/*
 * Evaluation of an appraisal policy over a normalised claim set. Reads the
 * policy and the claims only, so one policy serves many threads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/policy.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/json.h"
#include "verifier/policy_int.h"

#define TEXT_MAX 48 /* characters of a value shown in a detail */
/* Key elements an all-keys rule looks at (the PKIX decoder allows 64 elements in all). */
#define MAX_KEY_ELEMENTS 64

/* --- rendering values for details --- */

/* snprintf for details: truncation is expected and harmless. */
AVOW_PRINTF(3, 4)
static void detailf(char *d, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

static void render_bytes(const uint8_t *p, size_t n, char *buf, size_t cap)
{
    int printable = 1;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
            printable = 0;
    if (printable) {
        size_t show = n > TEXT_MAX ? TEXT_MAX : n;
        snprintf(buf, cap, "\"%.*s\"%s", (int)show, (const char *)p, show < n ? "..." : "");
        return;
    }
    size_t show = n > TEXT_MAX / 2 ? TEXT_MAX / 2 : n;
    char *h = avow__hex(p, show);
    snprintf(buf, cap, "0x%s%s", h != NULL ? h : "", show < n ? "..." : "");
    OPENSSL_free(h);
}

static void render_value(const avow_claim_value *v, char *buf, size_t cap)
{
    char t[21];
    switch (v->type) {
    case AVOW_CV_BOOL:
        snprintf(buf, cap, "%s", v->integer ? "true" : "false");
        return;
    case AVOW_CV_INT:
        snprintf(buf, cap, "%" PRId64, v->integer);
        return;
    case AVOW_CV_TEXT:
    case AVOW_CV_BYTES:
    case AVOW_CV_OPAQUE:
        render_bytes(v->bytes.ptr, v->bytes.len, buf, cap);
        return;
    case AVOW_CV_TIME:
        if (avow__rfc3339_format((time_t)v->time, t) == AVOW_OK)
            snprintf(buf, cap, "%s", t);
        else
            snprintf(buf, cap, "(time)");
        return;
    case AVOW_CV_NAMES: {
        size_t used = (size_t)snprintf(buf, cap, "[");
        for (size_t i = 0; i < v->nnames && used + 2 < cap; i++)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", v->names[i]);
        if (used + 2 <= cap)
            snprintf(buf + used, cap - used, "]");
        return;
    }
    }
    snprintf(buf, cap, "(value)");
}

static void render_lit(const avow__lit *l, char *buf, size_t cap)
{
    switch (l->kind) {
    case AVOW__LIT_BOOL:
        snprintf(buf, cap, "%s", l->i ? "true" : "false");
        return;
    case AVOW__LIT_INT:
        snprintf(buf, cap, "%" PRId64, l->i);
        return;
    case AVOW__LIT_STR:
        render_bytes((const uint8_t *)l->s, l->slen, buf, cap);
        return;
    }
}

static void render_version(const uint32_t *parts, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used + 12 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%" PRIu32, i ? "." : "", parts[i]);
}

/* --- checking one value --- */

/* 1 equal, 0 different, -1 the literal cannot be compared with this value. */
static int lit_match(const avow__lit *l, const avow_claim_value *v)
{
    switch (l->kind) {
    case AVOW__LIT_BOOL:
        if (v->type != AVOW_CV_BOOL)
            return -1;
        return (v->integer != 0) == (l->i != 0);
    case AVOW__LIT_INT:
        if (v->type != AVOW_CV_INT)
            return -1;
        return v->integer == l->i;
    case AVOW__LIT_STR:
        if (v->type != AVOW_CV_TEXT && v->type != AVOW_CV_BYTES)
            return -1;
        return v->bytes.len == l->slen &&
               (l->slen == 0 || memcmp(v->bytes.ptr, l->s, l->slen) == 0);
    }
    return -1;
}

static int version_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t n = na > nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = i < na ? a[i] : 0, y = i < nb ? b[i] : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* Applies every operator of r to v; detail gets "<where> = <seen>, want ..." on FAIL/UNKNOWN. */
static avow_rule_outcome check_value(const avow__rule *r, const avow_claim_value *v,
                                     const char *where, char *detail, size_t cap)
{
    char seen[TEXT_MAX + 16], want[TEXT_MAX * 2 + 32];
    render_value(v, seen, sizeof(seen));

    if (r->ops & AVOW__OP_PRESENT && !r->present) {
        detailf(detail, cap, "%s = %s, want the claim absent", where, seen);
        return AVOW_RULE_FAIL;
    }
    if (r->ops & AVOW__OP_EQUALS) {
        int m = lit_match(&r->equals, v);
        render_lit(&r->equals, want, sizeof(want));
        if (m < 0) {
            detailf(detail, cap, "%s = %s cannot be compared with %s", where, seen, want);
            return AVOW_RULE_UNKNOWN;
        }
        if (m == 0) {
            detailf(detail, cap, "%s = %s, want %s", where, seen, want);
            return AVOW_RULE_FAIL;
        }
    }
    if (r->ops & AVOW__OP_IN) {
        int any = 0, comparable = 0;
        for (size_t i = 0; i < r->nin && !any; i++) {
            int m = lit_match(&r->in[i], v);
            if (m >= 0)
                comparable = 1;
            if (m == 1)
                any = 1;
        }
        if (!any) {
            size_t used = 0;
            want[0] = '\0';
            for (size_t i = 0; i < r->nin && used + TEXT_MAX + 8 < sizeof(want); i++) {
                char one[TEXT_MAX + 16];
                render_lit(&r->in[i], one, sizeof(one));
                used +=
                    (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", i ? ", " : "", one);
            }
            detailf(detail, cap, "%s = %s, want one of [%s]", where, seen, want);
            return comparable ? AVOW_RULE_FAIL : AVOW_RULE_UNKNOWN;
        }
    }
    if (r->ops & (AVOW__OP_MIN | AVOW__OP_MAX)) {
        if (v->type != AVOW_CV_INT) {
            detailf(detail, cap, "%s = %s is not an integer", where, seen);
            return AVOW_RULE_UNKNOWN;
        }
        if ((r->ops & AVOW__OP_MIN) && v->integer < r->min) {
            detailf(detail, cap, "%s = %s, want >= %" PRId64, where, seen, r->min);
            return AVOW_RULE_FAIL;
        }
        if ((r->ops & AVOW__OP_MAX) && v->integer > r->max) {
            detailf(detail, cap, "%s = %s, want <= %" PRId64, where, seen, r->max);
            return AVOW_RULE_FAIL;
        }
    }
    if (r->ops & AVOW__OP_VERSION) {
        uint32_t parts[AVOW__VERSION_PARTS];
        size_t n = 0;
        render_version(r->version, r->nversion, want, sizeof(want));
        if ((v->type != AVOW_CV_TEXT && v->type != AVOW_CV_BYTES) ||
            !avow__version_parse((const char *)v->bytes.ptr, v->bytes.len, parts, &n)) {
            detailf(detail, cap, "%s = %s is not a dotted numeric version (want >= %s)", where,
                    seen, want);
            return AVOW_RULE_UNKNOWN;
        }
        if (version_cmp(parts, n, r->version, r->nversion) < 0) {
            detailf(detail, cap, "%s = %s, want version >= %s", where, seen, want);
            return AVOW_RULE_FAIL;
        }
    }
    detailf(detail, cap, "%s = %s", where, seen);
    return AVOW_RULE_PASS;
}

/* --- finding the claim --- */

static int name_matches(const avow__rule *r, const avow_nclaim *it)
{
    if (strcmp(it->name, r->claim) != 0)
        return 0;
    return r->element == NULL || strcmp(it->element, r->element) == 0;
}

/*
 * Evaluates r over the claims of one element (elem = AVOW_POLICY_NO_ELEMENT:
 * any element of the rule's kind). Absent claims are reported as such.
 */
static avow_rule_outcome eval_in(const avow__rule *r, const avow_claimset *set, size_t elem,
                                 char *detail, size_t cap)
{
    const avow_nclaim *use = NULL, *unsigned_one = NULL;
    for (size_t i = 0; i < set->count; i++) {
        const avow_nclaim *it = &set->items[i];
        if (!name_matches(r, it) || (elem != AVOW_POLICY_NO_ELEMENT && it->element_index != elem))
            continue;
        if (it->signed_by != 0 && it->value.present) {
            use = it;
            break;
        }
        if (unsigned_one == NULL)
            unsigned_one = it;
    }
    char where[200];
    if (elem != AVOW_POLICY_NO_ELEMENT)
        detailf(where, sizeof(where), "%s[%zu].%s", r->element, elem, r->claim);
    else if (use != NULL || unsigned_one != NULL)
        detailf(where, sizeof(where), "%s.%s", (use ? use : unsigned_one)->element, r->claim);
    else
        detailf(where, sizeof(where), "%s%s%s", r->element ? r->element : "", r->element ? "." : "",
                r->claim);

    if (use != NULL)
        return check_value(r, &use->value, where, detail, cap);
    if (unsigned_one != NULL) {
        if (!unsigned_one->value.present)
            detailf(detail, cap, "%s carries no value", where);
        else
            detailf(detail, cap, "%s is not covered by a verified signature", where);
        return AVOW_RULE_UNKNOWN;
    }
    if ((r->ops & AVOW__OP_PRESENT) && !r->present) {
        detailf(detail, cap, "%s is absent", where);
        return AVOW_RULE_PASS;
    }
    detailf(detail, cap, "%s is absent", where);
    return r->required ? AVOW_RULE_FAIL : AVOW_RULE_UNKNOWN;
}

/* Distinct indexes of the elements of kind `element`, in order; returns how many (at most cap). */
static size_t elements_of(const avow_claimset *set, const char *element, size_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        const avow_nclaim *it = &set->items[i];
        if (strcmp(it->element, element) != 0)
            continue;
        size_t j = 0;
        while (j < n && out[j] != it->element_index)
            j++;
        if (j == n && n < cap)
            out[n++] = it->element_index;
    }
    return n;
}

static size_t attested_key(const avow__rule *r, const avow_claimset *set,
                           const avow_policy_input *in, int *ambiguous)
{
    *ambiguous = 0;
    if (in != NULL && in->key_element != AVOW_POLICY_NO_ELEMENT)
        return in->key_element;
    if (in != NULL && in->key_spki != NULL) {
        const avow_nclaim *it = NULL;
        while ((it = avow_claimset_find_role(set, AVOW_ROLE_KEY_SPKI, it)) != NULL)
            if (strcmp(it->element, r->element) == 0 && it->value.present &&
                avow__ct_equal(it->value.bytes.ptr, it->value.bytes.len, in->key_spki,
                               in->key_spki_len))
                return it->element_index;
        return AVOW_POLICY_NO_ELEMENT;
    }
    size_t idx[2];
    size_t n = elements_of(set, r->element, idx, 2);
    if (n == 1)
        return idx[0];
    if (n > 1)
        *ambiguous = 1;
    return AVOW_POLICY_NO_ELEMENT;
}

static avow_rule_outcome eval_rule(const avow__rule *r, const avow_claimset *set,
                                   const avow_policy_input *in, char *detail, size_t cap)
{
    if (r->when_nonce && (in == NULL || !in->nonce_expected)) {
        detailf(detail, cap, "not applicable: no nonce was expected");
        return AVOW_RULE_SKIPPED;
    }
    if (!r->key_element)
        return eval_in(r, set, AVOW_POLICY_NO_ELEMENT, detail, cap);

    if (r->scope == AVOW__SCOPE_ATTESTED_KEY) {
        int ambiguous;
        size_t k = attested_key(r, set, in, &ambiguous);
        if (k != AVOW_POLICY_NO_ELEMENT)
            return eval_in(r, set, k, detail, cap);
        if (ambiguous) {
            detailf(detail, cap, "%s.%s: several %s elements and no attested key given", r->element,
                    r->claim, r->element);
            return AVOW_RULE_UNKNOWN;
        }
        detailf(detail, cap, "%s.%s is absent: no %s element describes the attested key",
                r->element, r->claim, r->element);
        if ((r->ops & AVOW__OP_PRESENT) && !r->present)
            return AVOW_RULE_PASS;
        return r->required ? AVOW_RULE_FAIL : AVOW_RULE_UNKNOWN;
    }

    /* all-keys: every key element must pass; the first failure (else unknown) is reported. */
    size_t idx[MAX_KEY_ELEMENTS];
    size_t n = elements_of(set, r->element, idx, MAX_KEY_ELEMENTS);
    if (n == 0)
        return eval_in(r, set, AVOW_POLICY_NO_ELEMENT, detail, cap);
    avow_rule_outcome worst = AVOW_RULE_PASS;
    char one[224];
    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        avow_rule_outcome o = eval_in(r, set, idx[i], one, sizeof(one));
        if (o == AVOW_RULE_FAIL && worst != AVOW_RULE_FAIL) {
            worst = AVOW_RULE_FAIL;
            avow__strlcpy(detail, one, cap);
        } else if (o == AVOW_RULE_UNKNOWN && worst == AVOW_RULE_PASS) {
            worst = AVOW_RULE_UNKNOWN;
            avow__strlcpy(detail, one, cap);
        }
    }
    if (worst == AVOW_RULE_PASS)
        detailf(detail, cap, "%s.%s holds for all %zu %s elements", r->element, r->claim, n,
                r->element);
    return worst;
}

/* 1 when some claim of set is the one r names (signed or not, with a value or not). */
static int carries(const avow__rule *r, const avow_claimset *set)
{
    for (size_t i = 0; i < set->count; i++)
        if (name_matches(r, &set->items[i]))
            return 1;
    return 0;
}

/*
 * A qualified rule whose claim the lead statement lacks: the other
 * statements that carry the claim answer, each on its own claims (their
 * key elements found by the requested key's SPKI only, as the element
 * index is the lead's), and the worst outcome counts (fail, then unknown).
 * Returns 0, leaving the outcome alone, when no other statement carries it.
 */
static int eval_others(const avow__rule *r, const avow_claimset *claims,
                       const avow_policy_input *in, avow_rule_outcome *out, char *detail,
                       size_t cap)
{
    if (!r->qualified || in == NULL || in->nothers == 0 || in->others == NULL || carries(r, claims))
        return 0;
    avow_policy_input sub = *in;
    sub.key_element = AVOW_POLICY_NO_ELEMENT;
    sub.others = NULL;
    sub.nothers = 0;
    size_t seen = 0;
    avow_rule_outcome worst = AVOW_RULE_PASS;
    char one[224], first[224] = "";
    for (size_t i = 0; i < in->nothers; i++) {
        const avow_claimset *set = in->others[i];
        if (set == NULL || !carries(r, set))
            continue;
        avow_rule_outcome o = eval_rule(r, set, &sub, one, sizeof(one));
        if (seen++ == 0)
            avow__strlcpy(first, one, sizeof(first));
        if ((o == AVOW_RULE_FAIL && worst != AVOW_RULE_FAIL) ||
            (o == AVOW_RULE_UNKNOWN && worst == AVOW_RULE_PASS)) {
            worst = o;
            avow__strlcpy(first, one, sizeof(first));
        }
    }
    if (seen == 0)
        return 0;
    if (seen == 1 || worst != AVOW_RULE_PASS)
        detailf(detail, cap, "%s", first);
    else
        detailf(detail, cap, "%s%s%s holds in all %zu statements carrying it",
                r->element ? r->element : "", r->element ? "." : "", r->claim, seen);
    *out = worst;
    return 1;
}

avow_err avow_policy_eval(const avow_policy *p, const avow_claimset *claims,
                          const avow_policy_input *in, avow_policy_report **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (p == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "policy", "no policy or output");
    if (in != NULL && in->size != sizeof(*in))
        return avow__fail(diag, AVOW_ERR_ARG, "input.size",
                          "input not set up with avow_policy_input_init");
    static const avow_claimset empty = {0, NULL};
    if (claims == NULL)
        claims = &empty;

    avow_policy_report *rep = OPENSSL_zalloc(sizeof(*rep));
    if (rep == NULL || (rep->rules = OPENSSL_zalloc(p->nrules * sizeof(*rep->rules))) == NULL) {
        OPENSSL_free(rep);
        return avow__fail(diag, AVOW_ERR_NOMEM, "policy", "out of memory");
    }
    avow__strlcpy(rep->policy, p->name, sizeof(rep->policy));
    rep->nrules = p->nrules;
    long first_bad = -1;
    for (size_t i = 0; i < p->nrules; i++) {
        const avow__rule *r = &p->rules[i];
        avow_rule_result *res = &rep->rules[i];
        avow__strlcpy(res->id, r->id, sizeof(res->id));
        res->required = r->required;
        res->vector = r->vector;
        res->tier = r->tier;
        res->outcome = eval_rule(r, claims, in, res->detail, sizeof(res->detail));
        if (res->outcome != AVOW_RULE_SKIPPED)
            (void)eval_others(r, claims, in, &res->outcome, res->detail, sizeof(res->detail));
        switch (res->outcome) {
        case AVOW_RULE_PASS:
            rep->npass++;
            break;
        case AVOW_RULE_FAIL:
            rep->nfail++;
            break;
        case AVOW_RULE_UNKNOWN:
            rep->nunknown++;
            break;
        case AVOW_RULE_SKIPPED:
            rep->nskipped++;
            break;
        }
        if (first_bad < 0 &&
            (res->outcome == AVOW_RULE_FAIL || (res->outcome == AVOW_RULE_UNKNOWN && r->required)))
            first_bad = (long)i;
    }
    rep->satisfied = first_bad < 0;
    *out = rep;
    if (first_bad >= 0) {
        const avow_rule_result *b = &rep->rules[first_bad];
        char field[40];
        snprintf(field, sizeof(field), "rules[%ld]", first_bad);
        return avow__fail(diag, AVOW_ERR_POLICY, field, "rule %s %s: %s", b->id,
                          b->outcome == AVOW_RULE_FAIL ? "failed" : "is unknown", b->detail);
    }
    return AVOW_OK;
}

void avow_policy_report_free(avow_policy_report *r)
{
    if (r == NULL)
        return;
    OPENSSL_free(r->rules);
    OPENSSL_free(r);
}

avow_err avow_policy_report_to_json(const avow_policy_report *r, avow_buf *out)
{
    if (r == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    json_t *root = json_object(), *rules = json_array();
    int bad = root == NULL || rules == NULL;
    bad |= json_object_set_new(root, "policy", json_string(r->policy)) != 0;
    bad |= json_object_set_new(root, "satisfied", json_boolean(r->satisfied)) != 0;
    for (size_t i = 0; i < r->nrules && !bad; i++) {
        const avow_rule_result *x = &r->rules[i];
        json_t *o = json_object();
        const char *vec = avow_tv_name(x->vector);
        bad |= o == NULL;
        bad |= json_object_set_new(o, "id", json_string(x->id)) != 0;
        bad |=
            json_object_set_new(o, "outcome", json_string(avow_rule_outcome_name(x->outcome))) != 0;
        bad |= json_object_set_new(o, "required", json_boolean(x->required)) != 0;
        bad |= json_object_set_new(o, "vector", vec ? json_string(vec) : json_null()) != 0;
        bad |= json_object_set_new(o, "tier", json_string(avow_tier_name(x->tier))) != 0;
        bad |= json_object_set_new(o, "detail", avow__json_text(x->detail)) != 0;
        bad |= json_array_append_new(rules, o) != 0;
    }
    bad |= json_object_set_new(root, "rules", rules) != 0;
    rules = NULL;
    avow_err rc =
        bad ? AVOW_ERR_NOMEM : avow__json_dump(root, JSON_SORT_KEYS | JSON_INDENT(2), 0, out);
    json_decref(root);
    return rc;
}

void avow_policy_input_init(avow_policy_input *in)
{
    if (in == NULL)
        return;
    memset(in, 0, sizeof(*in));
    in->size = sizeof(*in);
    in->key_element = AVOW_POLICY_NO_ELEMENT;
}
