/*
 * From attestation statements to an Attestation Result. The order matters:
 * the nonce is consumed only once possession and the statement carrying the
 * nonce have verified, so a forged copy of an honest client's request (its
 * proof of possession broken) cannot burn that client's nonce.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <avow/appraise.h>
#include <avow/request_verify.h>

#include "core/internal.h"
#include "core/json.h"

/* Submod names: a registry name with "-N", or "required:" and a policy's type whole (a cut one
 * could equal another's, and avow_ear_build refuses a name given twice). */
#define MAX_NAME (sizeof("required:") + AVOW_POLICY_ID_MAX)

struct avow_appraisal {
    avow_err status;
    avow_tier tier;
    avow_verification *verification;
    avow_policy_report *report;
    avow_err freshness;
    avow_ear *ear;
    avow_buf nonce; /* the nonce put to the store */
};

void avow_appraise_opts_init(avow_appraise_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_appraisal_free(avow_appraisal *a)
{
    if (a == NULL)
        return;
    avow_verification_free(a->verification);
    avow_policy_report_free(a->report);
    avow_ear_free(a->ear);
    avow_buf_free(&a->nonce);
    OPENSSL_free(a);
}

/* The statement the key is bound to, and the element describing the key. */
static const avow_statement_result *bound_of(const avow_verification *r, size_t *element)
{
    size_t stmt = 0;
    *element = AVOW_NO_ELEMENT;
    if (!avow_verification_bound(r, &stmt, element))
        return NULL;
    return avow_verification_get0(r, stmt);
}

static int store_failed(avow_err e)
{
    return e == AVOW_ERR_STORE || e == AVOW_ERR_STORE_BUSY || e == AVOW_ERR_NOMEM;
}

static avow_err check_freshness(const avow_appraise_opts *o, const avow_verification *r,
                                const avow_statement_result *bound, time_t now, avow_buf *used,
                                avow_diag *diag)
{
    if (o->nonces == NULL)
        return AVOW_OK;
    /* Nothing trustworthy to check: the result is negative anyway, and a
     * nonce consumed here would be lost to the client it was issued to. */
    if (bound == NULL || avow_statement_result_status(bound) != AVOW_OK ||
        avow_verification_possession(r, NULL) != AVOW_OK)
        return AVOW_OK;
    const uint8_t *nonce = o->nonce;
    size_t len = o->nonce_len;
    if (nonce == NULL) {
        avow_view n = avow_statement_result_nonce(bound);
        if (n.len == 0)
            return AVOW_ERR_NONCE_MISSING;
        nonce = n.ptr;
        len = n.len;
    }
    if ((used->ptr = avow__memdup(nonce, len)) == NULL)
        return AVOW_ERR_NOMEM;
    used->len = len;
    if (o->flags & AVOW_APPRAISE_CHECK_NONCE_ONLY)
        return avow_nonce_check(o->nonces, nonce, len, now, diag);
    return avow_nonce_consume(o->nonces, nonce, len, now, diag);
}

/* Whether a statement of type t (a row name or a dotted OID) verified. */
static int type_verified(const avow_verification *r, const char *t)
{
    for (size_t i = 0; i < avow_verification_count(r); i++) {
        const avow_statement_result *s = avow_verification_get0(r, i);
        if (avow_statement_result_status(s) == AVOW_OK &&
            (strcmp(avow_statement_result_type_name(s), t) == 0 ||
             strcmp(avow_statement_result_type_oid(s), t) == 0))
            return 1;
    }
    return 0;
}

/*
 * Which statement answers for the set as a whole (possession, key
 * binding): the bound one, else the first that verified, else the first of
 * a known type. -1 when every statement is of an unknown type.
 */
static long lead_statement(const avow_verification *r)
{
    size_t stmt = 0;
    if (avow_verification_bound(r, &stmt, NULL))
        return (long)stmt;
    long known = -1;
    for (size_t i = 0; i < avow_verification_count(r); i++) {
        avow_err st = avow_statement_result_status(avow_verification_get0(r, i));
        if (st == AVOW_OK)
            return (long)i;
        if (known < 0 && st != AVOW_ERR_STATEMENT_TYPE)
            known = (long)i;
    }
    return known;
}

/* The EAR's inputs: one per statement of a known type, per missing required type, or one. */
typedef struct ear_in {
    avow_ear_statement *st;
    char (*names)[MAX_NAME];
    char (*req_detail)[160];
    size_t n;
} ear_in;

static void ear_in_free(ear_in *e)
{
    OPENSSL_free(e->st);
    OPENSSL_free(e->names);
    OPENSSL_free(e->req_detail);
}

static avow_ear_statement *ear_add(ear_in *e, const char *name, size_t i)
{
    snprintf(e->names[e->n], MAX_NAME, "%s", name);
    for (size_t j = 0; j < e->n; j++)
        if (strcmp(e->names[j], e->names[e->n]) == 0)
            snprintf(e->names[e->n], MAX_NAME, "%s-%zu", name, i + 1);
    avow_ear_statement *s = &e->st[e->n];
    avow_ear_statement_init(s);
    s->name = e->names[e->n++];
    return s;
}

/* The lead statement answers for possession, binding, freshness and policy. */
static void lead_checks(avow_ear_statement *s, const avow_appraisal *a, avow_view key)
{
    const avow_verification *r = a->verification;
    const char *pop_detail = NULL;
    avow_err pop = avow_verification_possession(r, &pop_detail);
    if (pop != AVOW_OK) {
        s->verify_status = pop;
        s->verify_detail = pop_detail;
    } else if (s->verify_status == AVOW_OK && avow_verification_binding(r) != AVOW_OK) {
        s->verify_status = AVOW_ERR_KEY_BINDING;
        s->verify_detail = avow_verification_detail(r);
    }
    s->freshness = a->freshness;
    s->report = a->report;
    s->akpub = key.ptr;
    s->akpub_len = key.len;
}

static avow_err ear_inputs(const avow_appraisal *a, const avow_policy *policy, ear_in *e)
{
    const avow_verification *r = a->verification;
    size_t nreq = avow_policy_required_type_count(policy);
    size_t cap = avow_verification_count(r) + nreq + 1;
    e->st = OPENSSL_zalloc(sizeof(*e->st) * cap);
    e->names = OPENSSL_zalloc(sizeof(*e->names) * cap);
    e->req_detail = OPENSSL_zalloc(sizeof(*e->req_detail) * (nreq + 1));
    if (e->st == NULL || e->names == NULL || e->req_detail == NULL)
        return AVOW_ERR_NOMEM;
    long lead = lead_statement(r);
    int reject_unknown = avow_policy_rejects_unknown(policy);
    size_t submod_of[AVOW_VERIFICATION_MAX_STATEMENTS];
    for (size_t i = 0; i < avow_verification_count(r); i++) {
        const avow_statement_result *sr = avow_verification_get0(r, i);
        avow_err st = avow_statement_result_status(sr);
        submod_of[i] = AVOW_NO_ELEMENT;
        if (st == AVOW_ERR_STATEMENT_TYPE && (long)i != lead && !reject_unknown)
            continue;
        submod_of[i] = e->n;
        avow_ear_statement *s = ear_add(e, avow_statement_result_type_name(sr), i);
        s->verify_status = st;
        s->verify_detail =
            avow_statement_result_detail(sr)[0] ? avow_statement_result_detail(sr) : NULL;
        s->nonce = avow_statement_result_nonce_state(sr);
        if ((long)i == lead)
            lead_checks(s, a, avow_verification_key(r));
    }
    /* A platform statement names the key attestation it binds (docs/ear.md, "avow_binds"). */
    for (size_t i = 0; i < avow_verification_count(r); i++) {
        const avow_statement_result *sr = avow_verification_get0(r, i);
        size_t to = 0;
        if (submod_of[i] == AVOW_NO_ELEMENT || !avow_statement_result_linked_to(sr, &to, NULL) ||
            to >= avow_verification_count(r) || submod_of[to] == AVOW_NO_ELEMENT)
            continue;
        e->st[submod_of[i]].binds = e->st[submod_of[to]].name;
        e->st[submod_of[i]].binding = avow_statement_result_nested_in(sr, NULL, NULL)
                                          ? AVOW_EAR_BINDING_NESTED
                                          : AVOW_EAR_BINDING_LINKED;
    }
    for (size_t k = 0; k < nreq; k++) {
        const char *t = avow_policy_required_type(policy, k);
        if (type_verified(r, t))
            continue;
        char name[MAX_NAME + 8];
        snprintf(name, sizeof(name), "required:%s", t);
        snprintf(e->req_detail[k], sizeof(e->req_detail[k]),
                 "policy %s requires a verified statement of type %s", avow_policy_name(policy), t);
        avow_ear_statement *s = ear_add(e, name, k);
        s->verify_status = AVOW_ERR_STATEMENT_TYPE;
        s->verify_detail = e->req_detail[k];
    }
    if (e->n == 0) {
        /* Nothing appraisable at all: the result says so rather than being empty. */
        const char *pop_detail = NULL;
        avow_err pop = avow_verification_possession(r, &pop_detail);
        avow_ear_statement *s = ear_add(e, "request", 0);
        s->verify_status = pop != AVOW_OK ? pop : AVOW_ERR_NO_ATTESTATION;
        s->verify_detail = pop != AVOW_OK ? pop_detail : "no statement of a known type";
    }
    return AVOW_OK;
}

static avow_err evaluate_policy(avow_appraisal *a, const avow_policy *policy,
                                const avow_appraise_opts *o)
{
    size_t element = AVOW_NO_ELEMENT;
    const avow_statement_result *bound = bound_of(a->verification, &element);
    if (bound == NULL)
        return AVOW_OK;
    avow_view key = avow_verification_key(a->verification);
    avow_policy_input in;
    avow_policy_input_init(&in);
    in.key_element = element;
    in.key_spki = key.len > 0 ? key.ptr : NULL;
    in.key_spki_len = key.len;
    in.nonce_expected = o->nonce != NULL || o->nonces != NULL;
    /* The other verified statements answer for the rules on their vocabularies. */
    const avow_claimset *others[AVOW_REQUEST_MAX_STATEMENTS];
    size_t n = 0;
    for (size_t i = 0;
         i < avow_verification_count(a->verification) && n < AVOW_REQUEST_MAX_STATEMENTS; i++) {
        const avow_statement_result *s = avow_verification_get0(a->verification, i);
        if (s != bound && avow_statement_result_status(s) == AVOW_OK)
            others[n++] = avow_statement_result_get0_claims(s);
    }
    in.others = others;
    in.nothers = n;
    avow_err rc =
        avow_policy_eval(policy, avow_statement_result_get0_claims(bound), &in, &a->report, NULL);
    return a->report != NULL ? AVOW_OK : rc;
}

/* eat_nonce: the expected nonce, else the one the bound statement carries (8..64 bytes). */
static void ear_nonce(const avow_appraisal *a, const avow_appraise_opts *o, avow_ear_opts *eo)
{
    avow_view n = {o->nonce, o->nonce_len};
    if (o->nonce == NULL) {
        size_t element;
        const avow_statement_result *bound = bound_of(a->verification, &element);
        n = bound != NULL ? avow_statement_result_nonce(bound) : n;
    }
    if (n.ptr != NULL && n.len >= 8 && n.len <= 64) {
        eo->nonce = n.ptr;
        eo->nonce_len = n.len;
    }
}

static avow_err appraise(avow_appraisal *a, const avow_verifier *v, const avow_statements_in *in,
                         const avow_appraise_opts *o, const avow_policy *policy, avow_diag *diag)
{
    time_t now = o->now != 0 ? o->now : time(NULL);
    avow_verification_opts vo;
    avow_verification_opts_init(&vo);
    vo.nonce = o->nonce;
    vo.nonce_len = o->nonce_len;
    vo.verify_flags = o->verify_flags;
    vo.flags = o->request_flags;
    vo.registry = o->registry;
    vo.link_required = avow_policy_linked_types(policy);
    vo.nlink_required = avow_policy_linked_type_count(policy);
    avow_err rc = avow_statements_verify(v, in, &vo, &a->verification, diag);
    if (a->verification == NULL)
        return rc;
    size_t element;
    avow_diag fd;
    avow_diag_clear(&fd);
    a->freshness = check_freshness(o, a->verification, bound_of(a->verification, &element), now,
                                   &a->nonce, &fd);
    if (store_failed(a->freshness)) {
        /* The store's failure is not the device's: no result at all. */
        if (diag != NULL && fd.code == a->freshness)
            *diag = fd;
        else
            avow__fail(diag, a->freshness, "nonce-store", "%s", avow_strerror(a->freshness));
        return a->freshness;
    }
    if ((rc = evaluate_policy(a, policy, o)) != AVOW_OK)
        return rc;
    ear_in e = {0};
    rc = ear_inputs(a, policy, &e);
    avow_ear_opts eo;
    avow_ear_opts_init(&eo);
    eo.iat = now;
    eo.ttl = o->ear_ttl;
    eo.build = o->build;
    ear_nonce(a, o, &eo);
    if (rc == AVOW_OK)
        rc = avow_ear_build(e.st, e.n, &eo, &a->ear, diag);
    ear_in_free(&e);
    if (rc != AVOW_OK)
        return rc;
    a->tier = a->ear->status;
    a->status = a->tier == AVOW_TIER_AFFIRMING ? AVOW_OK : AVOW_ERR_NOT_AFFIRMING;
    return AVOW_OK;
}

avow_err avow_appraise(const avow_verifier *v, const avow_statements_in *in,
                       const avow_appraise_opts *opts, avow_appraisal **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (v == NULL || in == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "appraise", "no verifier, statements or output");
    avow_appraise_opts none;
    avow_appraise_opts_init(&none);
    const avow_appraise_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_appraise_opts_init");
    avow_appraisal *a = OPENSSL_zalloc(sizeof(*a));
    avow_policy *own_policy = NULL;
    const avow_policy *policy = o->policy;
    avow_err rc = a == NULL ? AVOW_ERR_NOMEM : AVOW_OK;
    if (rc == AVOW_OK && policy == NULL && (rc = avow_policy_default(&own_policy)) == AVOW_OK)
        policy = own_policy;
    avow_diag ad;
    avow_diag_clear(&ad);
    if (rc == AVOW_OK)
        rc = appraise(a, v, in, o, policy, &ad);
    avow_policy_free(own_policy);
    avow__ossl_clear();
    if (rc != AVOW_OK || a->ear == NULL) {
        avow_appraisal_free(a);
        if (store_failed(rc) && ad.code == rc) {
            if (diag != NULL)
                *diag = ad;
            return rc;
        }
        if (rc == AVOW_OK || rc == AVOW_ERR_POLICY)
            rc = AVOW_ERR_INTERNAL;
        return avow__fail(diag, rc, "appraise", "no result could be made: %s", avow_strerror(rc));
    }
    *out = a;
    if (a->status != AVOW_OK)
        return avow__fail(diag, a->status, "ear", "attestation result is %s",
                          avow_tier_name(a->tier));
    avow_diag_clear(diag);
    return AVOW_OK;
}

avow_err avow_appraise_request(const avow_verifier *v, const avow_request *req,
                               const avow_appraise_opts *opts, avow_appraisal **out,
                               avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    avow_statement_in stmts[AVOW_REQUEST_MAX_STATEMENTS];
    avow_statements_in in;
    if (v == NULL || req == NULL || out == NULL ||
        avow_request_statements(req, stmts, &in) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_ARG, "appraise", "no verifier, request or output");
    return avow_appraise(v, &in, opts, out, diag);
}

avow_err avow_appraisal_status(const avow_appraisal *a)
{
    return a != NULL ? a->status : AVOW_ERR_ARG;
}

avow_tier avow_appraisal_tier(const avow_appraisal *a)
{
    return a != NULL ? a->tier : AVOW_TIER_NONE;
}

const avow_ear *avow_appraisal_get0_ear(const avow_appraisal *a)
{
    return a != NULL ? a->ear : NULL;
}

const avow_verification *avow_appraisal_get0_verification(const avow_appraisal *a)
{
    return a != NULL ? a->verification : NULL;
}

const avow_policy_report *avow_appraisal_get0_report(const avow_appraisal *a)
{
    return a != NULL ? a->report : NULL;
}

avow_err avow_appraisal_freshness(const avow_appraisal *a)
{
    return a != NULL ? a->freshness : AVOW_ERR_ARG;
}

avow_view avow_appraisal_nonce(const avow_appraisal *a)
{
    avow_view v = {NULL, 0};
    if (a != NULL) {
        v.ptr = a->nonce.ptr;
        v.len = a->nonce.len;
    }
    return v;
}

avow_view avow_appraisal_key(const avow_appraisal *a)
{
    return avow_verification_key(a != NULL ? a->verification : NULL);
}

/* One part of the full JSON: a library JSON text parsed back into the tree. */
static void put_text(json_t *o, const char *key, avow_err rc, avow_buf *text, int *bad)
{
    json_t *j = rc == AVOW_OK ? json_loadb((const char *)text->ptr, text->len, 0, NULL) : NULL;
    avow__json_put(o, key, j, bad);
    avow_buf_free(text);
}

avow_err avow_appraisal_to_json(const avow_appraisal *a, int full, avow_buf *out, avow_diag *diag)
{
    if (a == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "appraisal", "no appraisal or output");
    avow_buf t = {0};
    int bad = 0;
    json_t *root = json_object();
    put_text(root, "ear", avow_ear_to_json(a->ear, &t, NULL), &t, &bad);
    if (full) {
        put_text(root, "request", avow_verification_to_json(a->verification, &t, NULL), &t, &bad);
        if (a->report != NULL)
            put_text(root, "policy", avow_policy_report_to_json(a->report, &t), &t, &bad);
        else
            avow__json_put(root, "policy", json_null(), &bad);
        avow__json_put(root, "freshness", avow__json_errname(a->freshness), &bad);
    }
    json_t *doc = full ? root : json_object_get(root, "ear");
    avow_err rc =
        bad ? AVOW_ERR_NOMEM : avow__json_dump(doc, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(root);
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "appraisal", "out of memory");
}
