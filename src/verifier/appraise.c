/*
 * From an attested request to an Attestation Result. The order matters:
 * the nonce is consumed only once the request's proof of possession and
 * the statement carrying the nonce have verified, so a forged request (a
 * copy of an honest one with a broken signature, or with Evidence that
 * does not verify) cannot burn the nonces of honest clients.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include <avow/appraise.h>

/* Submod names: a registry name with "-N", or "required:" and a policy's type whole (a cut one
 * could equal another's, and avow_ear_build refuses a name given twice). */
#define MAX_NAME (sizeof("required:") + AVOW_POLICY_ID_MAX)

void avow_appraisal_free(avow_appraisal *a)
{
    if (a == NULL)
        return;
    avow_request_result_free(a->request);
    avow_policy_report_free(a->report);
    avow_ear_free(a->ear);
    avow_buf_free(&a->nonce);
    OPENSSL_free(a);
}

/* The signed nonce claim of a verified statement. */
static const avow_nclaim *signed_nonce(const avow_statement_result *st)
{
    const avow_nclaim *c = avow_claimset_find(&st->claims, "transaction", "nonce", NULL);
    if (c == NULL || c->signed_by == 0 || !c->value.present || c->value.type != AVOW_VALUE_BYTES)
        return NULL;
    return c;
}

static int store_failed(avow_err e)
{
    return e == AVOW_ERR_STORE || e == AVOW_ERR_STORE_BUSY;
}

static avow_err check_freshness(const avow_appraise_opts *o, const avow_request_result *res,
                                const avow_statement_result *bound, time_t now, avow_buf *used,
                                avow_diag *diag)
{
    if (o->nonces == NULL)
        return AVOW_OK;
    /* Nothing trustworthy to check; the result is negative anyway. */
    if (bound == NULL || bound->status != AVOW_OK || res->pop != AVOW_OK)
        return AVOW_OK;
    const uint8_t *nonce = o->nonce;
    size_t len = o->nonce_len;
    if (nonce == NULL) {
        const avow_nclaim *c = signed_nonce(bound);
        if (c == NULL)
            return AVOW_ERR_NONCE_MISSING;
        nonce = c->value.bytes.ptr;
        len = c->value.bytes.len;
    }
    if (len > 0) {
        used->ptr = avow__memdup(nonce, len);
        if (used->ptr == NULL)
            return AVOW_ERR_NOMEM;
        used->len = len;
    }
    if (o->flags & AVOW_APPRAISE_CHECK_NONCE_ONLY)
        return avow_nonce_check(o->nonces, nonce, len, now, diag);
    return avow_nonce_consume(o->nonces, nonce, len, now, diag);
}

/* Whether a statement of type t ("pkix-evidence" or a dotted OID) verified. */
static int type_verified(const avow_request_result *res, const char *t)
{
    for (size_t i = 0; i < res->nstatements; i++) {
        const avow_statement_result *s = &res->statements[i];
        if (s->status == AVOW_OK && (strcmp(s->type_name, t) == 0 || strcmp(s->type_oid, t) == 0))
            return 1;
    }
    return 0;
}

/*
 * Which statement answers for the request as a whole (proof of possession,
 * key binding): the bound one, else the first that verified, else the first
 * of a known type. -1 when every statement is of an unknown type.
 */
static long lead_statement(const avow_request_result *res)
{
    if (res->bound_statement >= 0)
        return res->bound_statement;
    long known = -1;
    for (size_t i = 0; i < res->nstatements; i++) {
        if (res->statements[i].status == AVOW_OK)
            return (long)i;
        if (known < 0 && res->statements[i].status != AVOW_ERR_STATEMENT_TYPE)
            known = (long)i;
    }
    return known;
}

avow_err avow_appraise_request(const avow_verifier *v, const avow_request *req,
                               const avow_appraise_opts *opts, avow_appraisal **out,
                               avow_diag *diag)
{
    static const avow_appraise_opts none = {0};
    if (v == NULL || req == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "appraise", "no verifier, request or output");
    *out = NULL;
    const avow_appraise_opts *o = opts != NULL ? opts : &none;
    time_t now = o->now != 0 ? o->now : time(NULL);

    avow_appraisal *a = OPENSSL_zalloc(sizeof(*a));
    if (a == NULL)
        return AVOW_ERR_NOMEM;
    avow_policy *own_policy = NULL;
    avow_ear_statement *st = NULL;
    char(*names)[MAX_NAME] = NULL;
    char(*req_detail)[160] = NULL;
    avow_err rc;

    avow_request_verify_opts ro = {
        .nonce = o->nonce,
        .nonce_len = o->nonce_len,
        .verify_flags = o->verify_flags,
        .flags = o->request_flags,
        .registry = o->registry,
    };
    rc = avow_request_verify(v, req, &ro, &a->request, NULL);
    if (a->request == NULL)
        goto fail;
    const avow_request_result *res = a->request;
    const avow_statement_result *bound =
        res->bound_statement >= 0 ? &res->statements[res->bound_statement] : NULL;

    avow_diag fd;
    avow_diag_clear(&fd);
    a->freshness = check_freshness(o, res, bound, now, &a->nonce, &fd);
    if (store_failed(a->freshness) || a->freshness == AVOW_ERR_NOMEM) {
        /* The store's failure is not the device's: no result at all. */
        rc = a->freshness;
        avow_appraisal_free(a);
        avow__ossl_clear();
        if (diag != NULL && fd.code == rc)
            *diag = fd;
        else
            avow__fail(diag, rc, "nonce-store", "%s", avow_strerror(rc));
        return rc;
    }

    const avow_policy *policy = o->policy;
    if (policy == NULL) {
        if ((rc = avow_policy_default(&own_policy)) != AVOW_OK)
            goto fail;
        policy = own_policy;
    }
    avow_view spki = avow_request_spki(req);
    if (bound != NULL) {
        avow_policy_input in = {
            .key_element =
                res->bound_element >= 0 ? (size_t)res->bound_element : AVOW_POLICY_NO_ELEMENT,
            .key_spki = spki.ptr,
            .key_spki_len = spki.len,
            .nonce_expected = o->nonce != NULL || o->nonces != NULL,
        };
        rc = avow_policy_eval(policy, &bound->claims, &in, &a->report, NULL);
        if (a->report == NULL)
            goto fail;
    }

    /*
     * One submod per statement of a known type; unknown types are in a->request
     * only, unless the policy rejects them. Each statement type the policy
     * requires and that did not verify is a submod of its own.
     */
    long lead = lead_statement(res);
    int reject_unknown = avow_policy_rejects_unknown(policy);
    size_t nreq = avow_policy_required_type_count(policy);
    size_t n = 0, cap = res->nstatements + nreq + 1;
    st = OPENSSL_zalloc(sizeof(*st) * cap);
    names = OPENSSL_zalloc(sizeof(*names) * cap);
    rc = AVOW_ERR_NOMEM;
    if (st == NULL || names == NULL)
        goto fail;
    for (size_t i = 0; i < res->nstatements; i++) {
        const avow_statement_result *s = &res->statements[i];
        if (s->status == AVOW_ERR_STATEMENT_TYPE && (long)i != lead && !reject_unknown)
            continue;
        snprintf(names[n], MAX_NAME, "%s", s->type_name);
        for (size_t j = 0; j < n; j++)
            if (strcmp(names[j], names[n]) == 0)
                snprintf(names[n], MAX_NAME, "%s-%zu", s->type_name, i + 1);
        avow_ear_statement *e = &st[n++];
        e->name = names[n - 1];
        e->verify_status = s->status;
        e->verify_detail = s->detail[0] ? s->detail : NULL;
        e->nonce = s->nonce;
        e->freshness = AVOW_OK;
        if ((long)i != lead)
            continue;
        /* The lead statement answers for the request: possession, binding, freshness, policy. */
        if (res->pop != AVOW_OK) {
            e->verify_status = AVOW_ERR_POP;
            e->verify_detail = res->pop_detail;
        } else if (s->status == AVOW_OK && res->binding != AVOW_OK) {
            e->verify_status = AVOW_ERR_KEY_BINDING;
            e->verify_detail = res->detail;
        }
        e->freshness = a->freshness;
        e->report = a->report;
        e->akpub = spki.ptr;
        e->akpub_len = spki.len;
    }
    req_detail = nreq > 0 ? OPENSSL_zalloc(sizeof(*req_detail) * nreq) : NULL;
    rc = AVOW_ERR_NOMEM;
    if (nreq > 0 && req_detail == NULL)
        goto fail;
    for (size_t k = 0; k < nreq; k++) {
        const char *t = avow_policy_required_type(policy, k);
        if (type_verified(res, t))
            continue;
        snprintf(names[n], MAX_NAME, "required:%s", t);
        snprintf(req_detail[k], sizeof(req_detail[k]),
                 "policy %s requires a verified statement of type %s", avow_policy_name(policy), t);
        avow_ear_statement *e = &st[n++];
        e->name = names[n - 1];
        e->verify_status = AVOW_ERR_STATEMENT_TYPE;
        e->verify_detail = req_detail[k];
        e->freshness = AVOW_OK;
    }
    if (n == 0) {
        /* Nothing appraisable at all: the result says so rather than being empty. */
        st[0].name = "request";
        st[0].verify_status = res->pop != AVOW_OK ? AVOW_ERR_POP : AVOW_ERR_NO_ATTESTATION;
        st[0].verify_detail =
            res->pop != AVOW_OK ? res->pop_detail : "no statement of a known type";
        st[0].freshness = AVOW_OK;
        n = 1;
    }

    avow_ear_opts eo = {.iat = now, .ttl = o->ear_ttl, .build = o->build};
    if (o->nonce != NULL && o->nonce_len >= 8 && o->nonce_len <= 64) {
        eo.nonce = o->nonce;
        eo.nonce_len = o->nonce_len;
    } else if (bound != NULL && signed_nonce(bound) != NULL) {
        const avow_nclaim *c = signed_nonce(bound);
        if (c->value.bytes.len >= 8 && c->value.bytes.len <= 64) {
            eo.nonce = c->value.bytes.ptr;
            eo.nonce_len = c->value.bytes.len;
        }
    }
    rc = avow_ear_build(st, n, &eo, &a->ear, diag);
    OPENSSL_free(req_detail);
    req_detail = NULL;
    if (rc != AVOW_OK)
        goto fail;
    a->tier = a->ear->status;
    a->status = a->tier == AVOW_TIER_AFFIRMING ? AVOW_OK : AVOW_ERR_NOT_AFFIRMING;
    OPENSSL_free(st);
    OPENSSL_free(names);
    avow_policy_free(own_policy);
    *out = a;
    avow__ossl_clear();
    if (a->status != AVOW_OK)
        return avow__fail(diag, a->status, "ear", "attestation result is %s",
                          avow_tier_name(a->tier));
    return AVOW_OK;
fail:
    OPENSSL_free(req_detail);
    OPENSSL_free(st);
    OPENSSL_free(names);
    avow_policy_free(own_policy);
    avow_appraisal_free(a);
    avow__ossl_clear();
    if (rc == AVOW_OK || rc == AVOW_ERR_POLICY)
        rc = AVOW_ERR_INTERNAL;
    return avow__fail(diag, rc, "appraise", "no result could be made: %s", avow_strerror(rc));
}
