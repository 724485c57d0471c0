/*
 * Whether PKIX Evidence answers an attestation request: the check a
 * verifier, a CA or a service runs on what came back before it appraises
 * anything (the request's nonce, the keys it named, the claims it asked for
 * and nothing else). Signatures are the verifier's business
 * (verify_evidence.c); this compares structure only.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "formats/evidence_request_int.h"

typedef struct actx {
    const avow_evidence *ev;
    const avow_evidence_request *req;
    unsigned flags;
    avow_answer_report *rep;
    avow_diag *diag;
    avow_err first;
    size_t *match; /* per Evidence element: request element + 1, 0 when none answers it */
} actx;

static int same_view(avow_view a, avow_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int holds_identifier(const avow_element *el, avow_view id)
{
    for (size_t i = 0; i < el->nclaims; i++)
        if (el->claims[i].id == AVOW_CLAIM_KEY_IDENTIFIER && el->claims[i].value.present &&
            same_view(el->claims[i].value.bytes, id))
            return 1;
    return 0;
}

/* Same claim type: by id in the table, by OID outside it. */
static int same_type(const avow_claim *a, const avow_claim *b)
{
    if (a->id != AVOW_CLAIM_UNKNOWN || b->id != AVOW_CLAIM_UNKNOWN)
        return a->id == b->id;
    return same_view(a->oid, b->oid);
}

static int has_type(const avow_element *el, const avow_claim *t, int with_value)
{
    for (size_t i = 0; i < el->nclaims; i++)
        if (same_type(&el->claims[i], t) && (!with_value || el->claims[i].value.present))
            return 1;
    return 0;
}

static avow_err finding(actx *c, avow_answer_kind kind, avow_answer_reason reason, avow_err code,
                        int fails, avow_element_kind el, const avow_claim *cl, avow_view key,
                        const char *field, const char *detail)
{
    char name[80];
    avow_answer a;
    memset(&a, 0, sizeof(a));
    a.kind = kind;
    a.reason = reason;
    a.code = code;
    a.fails = fails;
    a.element = el;
    a.claim = cl != NULL ? cl->id : AVOW_CLAIM_UNKNOWN;
    if (cl != NULL) {
        avow__claim_label(cl, name, sizeof(name));
        a.name = name;
    }
    a.field = field;
    if (fails && c->first == AVOW_OK) {
        c->first = code;
        avow__fail(c->diag, code, field, "%s%s%s", a.name != NULL ? a.name : "",
                   a.name != NULL ? ": " : "", detail);
    }
    if (avow__report_add(c->rep, &a, key, "%s", detail) != AVOW_OK)
        return avow__fail(c->diag, AVOW_ERR_NOMEM, "report", "out of memory");
    return AVOW_OK;
}

/* Where the first claim id stands: element and claim index; 0 when absent. */
static int locate(const avow_element *(*get)(const void *, size_t), size_t (*count)(const void *),
                  const void *obj, avow_claim_id id, size_t *e, size_t *j)
{
    for (size_t i = 0; i < count(obj); i++) {
        const avow_element *el = get(obj, i);
        for (size_t k = 0; k < el->nclaims; k++) {
            if (el->claims[k].id == id) {
                *e = i;
                *j = k;
                return 1;
            }
        }
    }
    return 0;
}

static const avow_element *ev_get(const void *o, size_t i)
{
    return avow_evidence_get0_element(o, i);
}

static size_t ev_count(const void *o)
{
    return avow_evidence_element_count(o);
}

static const avow_element *req_get(const void *o, size_t i)
{
    return avow_evidence_request_get0_element(o, i);
}

static size_t req_count(const void *o)
{
    return avow_evidence_request_element_count(o);
}

/* The nonce is always checked: it is what makes the answer fresh. */
static avow_err check_nonce(actx *c)
{
    avow_view want = avow_evidence_request_get0_nonce(c->req);
    if (want.len == 0)
        return AVOW_OK;
    char field[96];
    avow_view none = {NULL, 0};
    size_t e = 0, j = 0;
    if (!locate(ev_get, ev_count, c->ev, AVOW_CLAIM_NONCE, &e, &j) ||
        !avow_evidence_get0_element(c->ev, e)->claims[j].value.present) {
        (void)locate(req_get, req_count, c->req, AVOW_CLAIM_NONCE, &e, &j);
        avow__request_field(field, sizeof(field), "request", e, (long)j);
        return finding(c, AVOW_ANSWER_MISSING, AVOW_REASON_ABSENT, AVOW_ERR_NONCE_MISSING, 1,
                       AVOW_ELEMENT_TRANSACTION,
                       &avow_evidence_request_get0_element(c->req, e)->claims[j], none, field,
                       "the Evidence carries no nonce");
    }
    const avow_claim *got = &avow_evidence_get0_element(c->ev, e)->claims[j];
    if (avow__ct_equal(got->value.bytes.ptr, got->value.bytes.len, want.ptr, want.len))
        return AVOW_OK;
    avow__request_field(field, sizeof(field), "tbs", e, (long)j);
    return finding(c, AVOW_ANSWER_MISMATCH, AVOW_REASON_VALUE_DIFFERS, AVOW_ERR_NONCE_MISMATCH, 1,
                   AVOW_ELEMENT_TRANSACTION, got, none, field,
                   "the Evidence's nonce is not the request's");
}

/* Which request element each Evidence element answers. */
static void match_elements(actx *c)
{
    size_t nr = avow_evidence_request_element_count(c->req);
    for (size_t i = 0; i < avow_evidence_element_count(c->ev); i++) {
        const avow_element *el = avow_evidence_get0_element(c->ev, i);
        size_t any_key = 0;
        for (size_t r = 0; r < nr && c->match[i] == 0; r++) {
            const avow_element *rel = avow_evidence_request_get0_element(c->req, r);
            if (rel->kind != el->kind || el->kind == AVOW_ELEMENT_UNKNOWN)
                continue;
            if (el->kind != AVOW_ELEMENT_KEY) {
                c->match[i] = r + 1;
                continue;
            }
            avow_view sel = avow__key_identifier(rel);
            if (sel.len == 0)
                any_key = r + 1;
            else if (holds_identifier(el, sel))
                c->match[i] = r + 1;
        }
        if (c->match[i] == 0)
            c->match[i] = any_key;
    }
}

/* Request element r: the claims it asks for, in every Evidence element that answers it. */
static avow_err check_requested(actx *c, size_t r)
{
    const avow_element *rel = avow_evidence_request_get0_element(c->req, r);
    int strict = (c->flags & AVOW_ANSWERS_STRICT) != 0;
    avow_view sel = rel->kind == AVOW_ELEMENT_KEY ? avow__key_identifier(rel) : (avow_view){0};
    char field[96], detail[160];
    size_t answered = 0;
    avow_err rc = AVOW_OK;
    for (size_t i = 0; rc == AVOW_OK && i < avow_evidence_element_count(c->ev); i++) {
        if (c->match[i] != r + 1)
            continue;
        const avow_element *el = avow_evidence_get0_element(c->ev, i);
        avow_view key = el->kind == AVOW_ELEMENT_KEY ? avow__key_identifier(el) : (avow_view){0};
        answered++;
        for (size_t j = 0; rc == AVOW_OK && j < rel->nclaims; j++) {
            const avow_claim *want = &rel->claims[j];
            /* the nonce has its own check; an unknown type is never required */
            if (want->id == AVOW_CLAIM_NONCE || want->id == AVOW_CLAIM_UNKNOWN ||
                has_type(el, want, 1))
                continue;
            int earlier = 0;
            for (size_t k = 0; k < j && !earlier; k++)
                earlier = same_type(&rel->claims[k], want);
            if (earlier)
                continue;
            avow__request_field(field, sizeof(field), "request", r, (long)j);
            snprintf(detail, sizeof(detail), "not in tbs.reportedElements[%zu]", i);
            rc = finding(c, AVOW_ANSWER_MISSING, AVOW_REASON_ABSENT, AVOW_ERR_UNANSWERED, strict,
                         rel->kind, want, key, field, detail);
        }
    }
    if (rc != AVOW_OK || answered > 0)
        return rc;
    avow__request_field(field, sizeof(field), "request", r, -1);
    if (rel->kind == AVOW_ELEMENT_KEY) {
        /* A key the request names is what the answer is about: always required. */
        return finding(c, AVOW_ANSWER_MISSING, AVOW_REASON_ABSENT, AVOW_ERR_UNANSWERED,
                       sel.len > 0 || strict, AVOW_ELEMENT_KEY, NULL, sel, field,
                       sel.len > 0 ? "no key element carries this identifier"
                                   : "no key element answers for the attester's key");
    }
    for (size_t j = 0; rc == AVOW_OK && j < rel->nclaims; j++) {
        const avow_claim *want = &rel->claims[j];
        if (want->id == AVOW_CLAIM_NONCE || want->id == AVOW_CLAIM_UNKNOWN)
            continue;
        avow__request_field(field, sizeof(field), "request", r, (long)j);
        snprintf(detail, sizeof(detail), "the Evidence has no %s element",
                 avow_element_name(rel->kind));
        rc = finding(c, AVOW_ANSWER_MISSING, AVOW_REASON_ABSENT, AVOW_ERR_UNANSWERED, strict,
                     rel->kind, want, sel, field, detail);
    }
    return rc;
}

/* Evidence element i: nothing in it that was not asked for. */
static avow_err check_unrequested(actx *c, size_t i)
{
    const avow_element *el = avow_evidence_get0_element(c->ev, i);
    int fails = !(c->flags & AVOW_ANSWERS_ALLOW_UNREQUESTED);
    avow_view key = el->kind == AVOW_ELEMENT_KEY ? avow__key_identifier(el) : (avow_view){0};
    char field[96];
    if (c->match[i] == 0) {
        avow__request_field(field, sizeof(field), "tbs", i, -1);
        return finding(c, AVOW_ANSWER_UNREQUESTED, AVOW_REASON_NOT_REQUESTED, AVOW_ERR_UNREQUESTED,
                       fails, el->kind, NULL, key, field,
                       el->kind == AVOW_ELEMENT_KEY
                           ? "the request neither names this key nor asks about the "
                             "attester's key"
                           : "the request asks for no such element");
    }
    const avow_element *rel = avow_evidence_request_get0_element(c->req, c->match[i] - 1);
    for (size_t j = 0; j < el->nclaims; j++) {
        const avow_claim *cl = &el->claims[j];
        if (has_type(rel, cl, 0))
            continue;
        int earlier = 0;
        for (size_t k = 0; k < j && !earlier; k++)
            earlier = same_type(&el->claims[k], cl);
        if (earlier)
            continue;
        avow__request_field(field, sizeof(field), "tbs", i, (long)j);
        avow_err rc =
            finding(c, AVOW_ANSWER_UNREQUESTED, AVOW_REASON_NOT_REQUESTED, AVOW_ERR_UNREQUESTED,
                    fails, el->kind, cl, key, field, "not asked for");
        if (rc != AVOW_OK)
            return rc;
    }
    return AVOW_OK;
}

avow_err avow_evidence_answers(const avow_evidence *ev, const avow_evidence_request *req,
                               unsigned flags, avow_answer_report **report, avow_diag *diag)
{
    if (report != NULL)
        *report = NULL;
    if (ev == NULL || req == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "evidence", "no Evidence or no request");
    if ((flags & ~(unsigned)(AVOW_ANSWERS_STRICT | AVOW_ANSWERS_ALLOW_UNREQUESTED)) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "flags", "unknown flags 0x%x", flags);
    actx c;
    memset(&c, 0, sizeof(c));
    c.ev = ev;
    c.req = req;
    c.flags = flags;
    c.diag = diag;
    c.rep = avow__report_new();
    c.match = OPENSSL_zalloc((avow_evidence_element_count(ev) + 1) * sizeof(*c.match));
    avow_err rc = c.rep != NULL && c.match != NULL
                      ? AVOW_OK
                      : avow__fail(diag, AVOW_ERR_NOMEM, "report", "out of memory");
    if (rc == AVOW_OK)
        rc = check_nonce(&c);
    if (rc == AVOW_OK)
        match_elements(&c);
    for (size_t r = 0; rc == AVOW_OK && r < avow_evidence_request_element_count(req); r++)
        rc = check_requested(&c, r);
    for (size_t i = 0; rc == AVOW_OK && i < avow_evidence_element_count(ev); i++)
        rc = check_unrequested(&c, i);
    if (rc == AVOW_OK)
        rc = c.first;
    OPENSSL_free(c.match);
    avow__report_set_status(c.rep, rc);
    if (report != NULL && rc != AVOW_ERR_NOMEM) {
        *report = c.rep;
        c.rep = NULL;
    }
    avow_answer_report_free(c.rep);
    return rc;
}
