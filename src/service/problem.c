/*
 * RFC 9457 problem documents (application/problem+json): "type", "title",
 * "status", "detail", and avow's members "code" (the AVOW_ERR_* name a
 * program switches on), "field" (the part of the input at fault) and, for
 * an appraisal that is not affirming, "reasons" (every failed check and
 * rule of the EAR), "rule" (the first failed rule) and "ear" (the EAR as a
 * JWT signed by the CA). The detail quotes input; jansson escapes it.
 */
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define PROBLEM_CTYPE "application/problem+json"

void svc_json_body(svc_resp *out, unsigned status, const char *ctype, const void *root)
{
    avow_buf_free(&out->body);
    out->status = status;
    out->ctype = ctype;
    if (avow__json_dump((const json_t *)root, JSON_SORT_KEYS | JSON_COMPACT, 1, &out->body) !=
        AVOW_OK) {
        out->status = 500;
        out->ctype = "text/plain";
    }
}

static json_t *problem_base(unsigned status, const char *type, const char *title, avow_err code)
{
    json_t *o = json_object();
    int bad = o == NULL;
    if (o != NULL) {
        avow__json_put(o, "type", json_string(type), &bad);
        avow__json_put(o, "title", json_string(title), &bad);
        avow__json_put(o, "status", json_integer(status), &bad);
        avow__json_put(o, "code", avow__json_errname(code), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void finish(svc_resp *out, unsigned status, json_t *o, avow_err code)
{
    out->code = code;
    if (o == NULL) {
        avow_buf_free(&out->body);
        out->status = 500;
        out->ctype = "text/plain";
        return;
    }
    svc_json_body(out, status, PROBLEM_CTYPE, o);
    json_decref(o);
}

void svc_problem(svc_resp *out, unsigned status, const char *type, const char *title, avow_err code,
                 const avow_diag *d)
{
    json_t *o = problem_base(status, type, title, code);
    int bad = 0;
    if (o != NULL && d != NULL && d->detail[0] != '\0')
        avow__json_put(o, "detail", avow__json_text(d->detail), &bad);
    if (o != NULL && d != NULL && d->field[0] != '\0')
        avow__json_put(o, "field", avow__json_text(d->field), &bad);
    finish(out, status, o, code);
}

static json_t *reason_json(const avow_ear_submod *s, const avow_ear_reason *r)
{
    json_t *o = json_object();
    int bad = o == NULL;
    if (o != NULL) {
        avow__json_put(o, "submod", avow__json_text(s->name != NULL ? s->name : ""), &bad);
        avow__json_put(o, "kind", json_string(r->is_rule ? "rule" : "check"), &bad);
        avow__json_put(o, "name", avow__json_text(r->name), &bad);
        avow__json_put(o, "code", avow__json_errname(r->code), &bad);
        const char *tier = avow_tier_name(r->tier);
        avow__json_put(o, "tier", json_string(tier != NULL ? tier : "unknown"), &bad);
        if (r->detail[0] != '\0')
            avow__json_put(o, "detail", avow__json_text(r->detail), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void svc_problem_appraisal(svc_resp *out, unsigned status, const char *type, const avow_ear *ear,
                           const char *jwt)
{
    const char *tier = ear->has_status ? avow_tier_name(ear->status) : NULL;
    json_t *o = problem_base(status, type, "The attestation result is not affirming",
                             AVOW_ERR_NOT_AFFIRMING);
    json_t *reasons = json_array();
    int bad = o == NULL || reasons == NULL;
    const avow_ear_reason *first = NULL, *rule = NULL;
    for (size_t i = 0; !bad && i < ear->nsubmods; i++) {
        const avow_ear_submod *s = &ear->submods[i];
        for (size_t j = 0; j < s->nreasons; j++) {
            const avow_ear_reason *r = &s->reasons[j];
            if (first == NULL)
                first = r;
            if (rule == NULL && r->is_rule)
                rule = r;
            json_t *rj = reason_json(s, r);
            if (rj == NULL || json_array_append_new(reasons, rj) != 0)
                bad = 1;
        }
    }
    if (!bad) {
        char detail[300];
        snprintf(detail, sizeof(detail), "the result is %s; first reason: %s",
                 tier != NULL ? tier : "none", first != NULL ? first->name : "none given");
        avow__json_put(o, "detail", avow__json_text(detail), &bad);
        avow__json_put(o, "ear_status", json_string(tier != NULL ? tier : "none"), &bad);
        if (rule != NULL)
            avow__json_put(o, "rule", avow__json_text(rule->name), &bad);
        if (first != NULL)
            avow__json_put(o, "reason_code", avow__json_errname(first->code), &bad);
        avow__json_put(o, "reasons", reasons, &bad);
        reasons = NULL;
        if (jwt != NULL && jwt[0] != '\0')
            avow__json_put(o, "ear", json_string(jwt), &bad);
    }
    json_decref(reasons);
    if (bad) {
        json_decref(o);
        o = NULL;
    }
    finish(out, status, o, AVOW_ERR_NOT_AFFIRMING);
}

/* The status and type of an error that left no result. */
void svc_problem_err(svc_resp *out, avow_err err, const avow_diag *d)
{
    unsigned status = 400;
    const char *type = "urn:avow:problem:malformed", *title = "The request cannot be parsed";
    switch (err) {
    case AVOW_ERR_STORE:
        status = 500, type = "urn:avow:problem:store", title = "The nonce store failed";
        break;
    case AVOW_ERR_STORE_BUSY:
        status = 503, type = "urn:avow:problem:store-busy", title = "The nonce store is busy";
        out->retry_after = 1;
        break;
    case AVOW_ERR_NONCE_LIMIT:
        status = 503, type = "urn:avow:problem:nonce-limit", title = "Too many outstanding nonces";
        out->retry_after = 5;
        break;
    case AVOW_ERR_NONCE_REPLAY:
        status = 409, type = "urn:avow:problem:nonce-replay", title = "The nonce was already used";
        break;
    case AVOW_ERR_TOO_LARGE:
        status = 413, type = "urn:avow:problem:too-large", title = "The request is too large";
        break;
    case AVOW_ERR_CONTENT_TYPE:
        status = 415, type = "urn:avow:problem:media-type", title = "Unsupported media type";
        break;
    case AVOW_ERR_NOMEM:
    case AVOW_ERR_CRYPTO:
    case AVOW_ERR_PKCS11:
    case AVOW_ERR_PIN:
    case AVOW_ERR_IO:
    case AVOW_ERR_INTERNAL:
    case AVOW_ERR_STATE:
        status = 500, type = "urn:avow:problem:internal", title = "The service failed";
        break;
    case AVOW_ERR_CA_EXPIRED:
    case AVOW_ERR_CA_VALIDITY:
        status = 500, type = "urn:avow:problem:ca", title = "The CA cannot issue now";
        break;
    case AVOW_ERR_BAD_SUBJECT:
        status = 400, type = "urn:avow:problem:bad-subject", title = "The subject is refused";
        break;
    default:
        break;
    }
    svc_problem(out, status, type, title, err, d);
}

static int freshness_code(avow_err c)
{
    return c == AVOW_ERR_NONCE_REPLAY || c == AVOW_ERR_NONCE_UNKNOWN || c == AVOW_ERR_NONCE_EXPIRED;
}

/* The first reason of the EAR decides between 409 (freshness) and 403. */
unsigned svc_refusal_status(const avow_ear *ear, const char **type)
{
    for (size_t i = 0; i < ear->nsubmods; i++)
        for (size_t j = 0; j < ear->submods[i].nreasons; j++) {
            avow_err c = ear->submods[i].reasons[j].code;
            if (freshness_code(c)) {
                *type = c == AVOW_ERR_NONCE_REPLAY ? "urn:avow:problem:nonce-replay"
                                                   : "urn:avow:problem:nonce-not-fresh";
                return 409;
            }
            *type = "urn:avow:problem:not-affirming";
            return 403;
        }
    *type = "urn:avow:problem:not-affirming";
    return 403;
}
