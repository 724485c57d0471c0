/*
 * Attestation requests (draft -07, section 7): building, DER, strict
 * decoding and the request's own rules. A request is a TbsEvidence, held as
 * an Evidence without signatures whose claims may lack a value, so the
 * Evidence decoder and builder apply every structural rule; this file adds
 * what only a request has to obey (which claims may carry a value) and
 * speaks of the TbsEvidence alone on the wire.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "core/der.h"
#include "core/json.h"
#include "formats/evidence_int.h"
#include "formats/evidence_request_int.h"

/* --- shared helpers --- */

void avow__request_field(char *buf, size_t cap, const char *root, size_t e, long c)
{
    if (c >= 0)
        snprintf(buf, cap, "%s.reportedElements[%zu].claims[%ld]", root, e, c);
    else
        snprintf(buf, cap, "%s.reportedElements[%zu]", root, e);
}

void avow__claim_label(const avow_claim *c, char *buf, size_t cap)
{
    const avow_claim_info *info = avow_claim_info_get(c->id);
    if (info != NULL)
        avow__strlcpy(buf, info->name, cap);
    else
        avow_oid_to_text(c->oid.ptr, c->oid.len, buf, cap);
}

avow_view avow__key_identifier(const avow_element *el)
{
    avow_view none = {NULL, 0};
    for (size_t i = 0; el != NULL && i < el->nclaims; i++)
        if (el->claims[i].id == AVOW_CLAIM_KEY_IDENTIFIER && el->claims[i].value.present)
            return el->claims[i].value.bytes;
    return none;
}

/* The decoder and builder name the TbsEvidence "tbs" (and the envelope "Evidence"). */
static avow_err as_request_field(avow_err rc, avow_diag *diag)
{
    if (rc == AVOW_OK || diag == NULL)
        return rc;
    char f[sizeof(diag->field)];
    if (strncmp(diag->field, "tbs", 3) == 0) {
        snprintf(f, sizeof(f), "request%s", diag->field + 3);
        avow__strlcpy(diag->field, f, sizeof(diag->field));
    } else if (strcmp(diag->field, "Evidence") == 0) {
        avow__strlcpy(diag->field, "request", sizeof(diag->field));
    }
    return rc;
}

/* --- the request's own rules --- */

/*
 * What only a request obeys. Values stand where the draft puts them (the
 * nonce, and an identifier that selects a key) and nowhere else: any other
 * value would be a selection avow does not implement, and silently ignoring
 * it would answer another question than the one asked. Unknown element
 * types, and unknown claims with a value, are what the draft tells the
 * attester to fail on.
 */
static avow_err check_rules(const avow_evidence *ev, avow_diag *diag)
{
    char f[96], label[80];
    size_t unnamed = 0, unnamed_at = 0;
    for (size_t e = 0; e < avow_evidence_element_count(ev); e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        if (el->kind == AVOW_ELEMENT_UNKNOWN) {
            avow__request_field(f, sizeof(f), "request", e, -1);
            avow_oid_to_text(el->oid.ptr, el->oid.len, label, sizeof(label));
            return avow__fail(diag, AVOW_ERR_REQUEST_UNKNOWN, f,
                              "element type %s is not transaction, platform or key", label);
        }
        size_t named = 0;
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            avow__request_field(f, sizeof(f), "request", e, (long)c);
            avow__claim_label(cl, label, sizeof(label));
            /* a claim asked twice (ak-spki, identifier may repeat in Evidence) asks nothing more */
            for (size_t k = 0; k < c && cl->id != AVOW_CLAIM_UNKNOWN; k++)
                if (el->claims[k].id == cl->id && cl->id != AVOW_CLAIM_KEY_IDENTIFIER)
                    return avow__fail(diag, AVOW_ERR_DUP_CLAIM, f, "%s is asked twice", label);
            if (cl->id == AVOW_CLAIM_UNKNOWN) {
                if (cl->value.present)
                    return avow__fail(diag, AVOW_ERR_REQUEST_UNKNOWN, f,
                                      "unknown claim %s carries a value: a selection avow "
                                      "cannot read",
                                      label);
            } else if (cl->id == AVOW_CLAIM_NONCE) {
                if (!cl->value.present)
                    return avow__fail(diag, AVOW_ERR_REQUEST_VALUE, f,
                                      "a requested nonce carries the verifier's value");
            } else if (cl->id == AVOW_CLAIM_KEY_IDENTIFIER) {
                if (cl->value.present && ++named > 1)
                    return avow__fail(diag, AVOW_ERR_REQUEST_VALUE, f,
                                      "a second identifier value: one names the key");
            } else if (cl->value.present) {
                return avow__fail(diag, AVOW_ERR_REQUEST_VALUE, f,
                                  "requested claim %s carries a value (only nonce and "
                                  "identifier do)",
                                  label);
            }
        }
        if (el->kind == AVOW_ELEMENT_KEY && named == 0 && unnamed++ > 0) {
            avow__request_field(f, sizeof(f), "request", e, -1);
            return avow__fail(diag, AVOW_ERR_REQUEST_VALUE, f,
                              "second key element without identifier value (the first is "
                              "reportedElements[%zu]): only one stands for the attester's key",
                              unnamed_at);
        }
        if (el->kind == AVOW_ELEMENT_KEY && named == 0)
            unnamed_at = e;
    }
    return AVOW_OK;
}

/* --- building --- */

avow_err avow_evidence_request_new(const avow_profile *profile, avow_evidence_request **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    avow_evidence_request *req = OPENSSL_zalloc(sizeof(*req));
    if (req == NULL)
        return AVOW_ERR_NOMEM;
    avow_err rc = avow_evidence_new(profile, &req->ev);
    if (rc != AVOW_OK) {
        OPENSSL_free(req);
        return rc;
    }
    req->ev->flags |= AVOW_DECODE_ALLOW_VALUELESS;
    *out = req;
    return AVOW_OK;
}

void avow_evidence_request_free(avow_evidence_request *req)
{
    if (req == NULL)
        return;
    avow_evidence_free(req->ev);
    OPENSSL_free(req);
}

static avow_err check_building(const avow_evidence_request *req, avow_diag *diag)
{
    if (req == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request");
    if (req->ev->frozen)
        return avow__fail(diag, AVOW_ERR_STATE, "request", "a decoded request cannot change");
    return AVOW_OK;
}

/* The one element of a kind that may appear once, made when missing. */
static avow_err element_of(avow_evidence_request *req, avow_element_kind kind, size_t *index,
                           avow_diag *diag)
{
    for (size_t i = 0; i < avow_evidence_element_count(req->ev); i++) {
        if (avow_evidence_get0_element(req->ev, i)->kind == kind) {
            *index = i;
            return AVOW_OK;
        }
    }
    return as_request_field(avow_evidence_add_element(req->ev, kind, index, diag), diag);
}

static int has_claim(const avow_element *el, avow_claim_id id)
{
    for (size_t i = 0; i < el->nclaims; i++)
        if (el->claims[i].id == id)
            return 1;
    return 0;
}

/* A claim without value; a second one of the same type is refused, repeatable or not. */
static avow_err want_in(avow_evidence_request *req, size_t element, const avow_claim_info *info,
                        avow_diag *diag)
{
    if (has_claim(avow_evidence_get0_element(req->ev, element), info->id))
        return avow__fail(diag, AVOW_ERR_DUP_CLAIM, info->name, "%s is asked already", info->name);
    avow_value v;
    memset(&v, 0, sizeof(v));
    v.type = info->type;
    return avow_evidence_add_claim(req->ev, element, info->id, &v, diag);
}

avow_err avow_evidence_request_set_nonce(avow_evidence_request *req, const uint8_t *nonce,
                                         size_t len, avow_diag *diag)
{
    avow_err rc = check_building(req, diag);
    if (rc != AVOW_OK)
        return rc;
    if (nonce == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "a nonce has at least one byte");
    size_t el = 0;
    rc = element_of(req, AVOW_ELEMENT_TRANSACTION, &el, diag);
    if (rc != AVOW_OK)
        return rc;
    if (has_claim(avow_evidence_get0_element(req->ev, el), AVOW_CLAIM_NONCE))
        return avow__fail(diag, AVOW_ERR_DUP_CLAIM, "nonce", "the request has a nonce already");
    return avow_evidence_add_bytes(req->ev, el, AVOW_CLAIM_NONCE, nonce, len, diag);
}

avow_err avow_evidence_request_want(avow_evidence_request *req, avow_claim_id id, avow_diag *diag)
{
    avow_err rc = check_building(req, diag);
    if (rc != AVOW_OK)
        return rc;
    const avow_claim_info *info = avow_claim_info_get(id);
    if (info == NULL || id == AVOW_CLAIM_NONCE || info->element == AVOW_ELEMENT_KEY)
        return avow__fail(diag, AVOW_ERR_ARG, info != NULL ? info->name : "claim",
                          "not a transaction or platform claim that is asked without value");
    size_t el = 0;
    rc = element_of(req, info->element, &el, diag);
    return rc == AVOW_OK ? want_in(req, el, info, diag) : rc;
}

/* Undoes an avow_evidence_add_element whose first claim was refused. */
static void drop_last_element(avow_evidence *ev)
{
    AVOW_ELEMENT_ASN1 *ea = sk_AVOW_ELEMENT_ASN1_pop(ev->asn1->tbs->elements);
    AVOW_ELEMENT_ASN1_free(ea);
    (void)avow__evidence_index(ev, NULL);
}

avow_err avow_evidence_request_add_key(avow_evidence_request *req, const char *identifier,
                                       size_t *index, avow_diag *diag)
{
    avow_err rc = check_building(req, diag);
    if (rc != AVOW_OK)
        return rc;
    if (identifier != NULL && identifier[0] == '\0')
        return avow__fail(diag, AVOW_ERR_ARG, "identifier", "empty identifier");
    if (identifier == NULL) {
        for (size_t i = 0; i < avow_evidence_element_count(req->ev); i++) {
            const avow_element *el = avow_evidence_get0_element(req->ev, i);
            if (el->kind == AVOW_ELEMENT_KEY && avow__key_identifier(el).len == 0)
                return avow__fail(diag, AVOW_ERR_REQUEST_VALUE, "identifier",
                                  "reportedElements[%zu] stands for the attester's key already", i);
        }
    }
    size_t el = 0;
    rc = avow_evidence_add_element(req->ev, AVOW_ELEMENT_KEY, &el, diag);
    if (rc != AVOW_OK)
        return as_request_field(rc, diag);
    avow_value v;
    memset(&v, 0, sizeof(v));
    v.type = AVOW_VALUE_UTF8;
    if (identifier != NULL) {
        v.present = 1;
        v.bytes.ptr = (const uint8_t *)identifier;
        v.bytes.len = strlen(identifier);
    }
    rc = avow_evidence_add_claim(req->ev, el, AVOW_CLAIM_KEY_IDENTIFIER, &v, diag);
    if (rc != AVOW_OK) {
        drop_last_element(req->ev);
        return as_request_field(rc, diag);
    }
    if (index != NULL)
        *index = el;
    return AVOW_OK;
}

avow_err avow_evidence_request_want_key(avow_evidence_request *req, size_t element,
                                        avow_claim_id id, avow_diag *diag)
{
    avow_err rc = check_building(req, diag);
    if (rc != AVOW_OK)
        return rc;
    const avow_claim_info *info = avow_claim_info_get(id);
    const avow_element *el = avow_evidence_get0_element(req->ev, element);
    if (el == NULL || el->kind != AVOW_ELEMENT_KEY)
        return avow__fail(diag, AVOW_ERR_ARG, "element", "no key element %zu", element);
    if (info == NULL || info->element != AVOW_ELEMENT_KEY)
        return avow__fail(diag, AVOW_ERR_ARG, info != NULL ? info->name : "claim",
                          "not a key claim");
    if (id == AVOW_CLAIM_KEY_IDENTIFIER)
        return AVOW_OK; /* every key element asks for it */
    return want_in(req, element, info, diag);
}

avow_err avow_evidence_request_add_json(avow_evidence_request *req, const char *json, size_t len,
                                        avow_diag *diag)
{
    avow_err rc = check_building(req, diag);
    if (rc != AVOW_OK)
        return rc;
    rc = avow_evidence_add_claims_json(req->ev, json, len, diag);
    /* Evidence carries identifier in every key element, so a requested key element asks for it. */
    for (size_t i = 0; rc == AVOW_OK && i < avow_evidence_element_count(req->ev); i++) {
        const avow_element *el = avow_evidence_get0_element(req->ev, i);
        if (el->kind != AVOW_ELEMENT_KEY || has_claim(el, AVOW_CLAIM_KEY_IDENTIFIER))
            continue;
        avow_value v;
        memset(&v, 0, sizeof(v));
        v.type = AVOW_VALUE_UTF8;
        rc = avow_evidence_add_claim(req->ev, i, AVOW_CLAIM_KEY_IDENTIFIER, &v, diag);
    }
    if (rc == AVOW_OK)
        rc = check_rules(req->ev, diag);
    return rc;
}

/* --- encoding and decoding --- */

avow_err avow_evidence_request_encode(const avow_evidence_request *req, avow_buf *out,
                                      avow_diag *diag)
{
    if (req == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request or no output");
    out->ptr = NULL;
    out->len = 0;
    if (avow_evidence_element_count(req->ev) == 0)
        return avow__fail(diag, AVOW_ERR_EMPTY, "request.reportedElements", "nothing is asked");
    avow_err rc = check_rules(req->ev, diag);
    /* What is encoded must decode: the full Evidence rules first (no empty element, ...). */
    if (rc == AVOW_OK)
        rc = as_request_field(avow__evidence_check(req->ev, 0, diag), diag);
    if (rc != AVOW_OK)
        return rc;
    unsigned char *der = NULL;
    int n = ASN1_item_i2d((ASN1_VALUE *)req->ev->asn1->tbs, &der, ASN1_ITEM_rptr(AVOW_TBS_ASN1));
    if (n <= 0) {
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_CRYPTO, "request", "cannot encode the TbsEvidence");
    }
    out->ptr = der;
    out->len = (size_t)n;
    return AVOW_OK;
}

avow_err avow_evidence_request_decode(const uint8_t *der, size_t len, const avow_profile *profile,
                                      unsigned flags, avow_evidence_request **out, avow_diag *diag)
{
    if (out == NULL || (der == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "input", "no input or no output pointer");
    *out = NULL;
    if (flags != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "flags", "no decoding flags are defined");
    if (len > AVOW_EVIDENCE_REQUEST_MAX_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "request", "%zu bytes, limit %u", len,
                          AVOW_EVIDENCE_REQUEST_MAX_SIZE);
    uint8_t tag;
    size_t h, n;
    avow_err rc = avow__der_header(der, len, &tag, &h, &n);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "request", "TbsEvidence header: %s", avow_strerror(rc));
    if (tag != 0x30)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "request",
                          "expected SEQUENCE (TbsEvidence), found tag 0x%02x", tag);
    if (h + n != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, "request", "%zu bytes after the TbsEvidence",
                          len - h - n);

    /*
     * The Evidence decoder reads the TbsEvidence inside the envelope
     * SEQUENCE { tbs, signatures SEQUENCE {} }; the length fits the short
     * or a three-byte long form, as the request is at most 64 KiB.
     */
    size_t inner = len + 2, hl = inner < 0x80 ? 2 : inner < 0x100 ? 3 : 4;
    uint8_t *env = OPENSSL_malloc(hl + inner);
    if (env == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "request", "out of memory");
    env[0] = 0x30;
    if (hl == 2) {
        env[1] = (uint8_t)inner;
    } else {
        env[1] = (uint8_t)(0x80 | (hl - 2));
        for (size_t k = 0; k < hl - 2; k++)
            env[hl - 1 - k] = (uint8_t)(inner >> (8 * k));
    }
    memcpy(env + hl, der, len);
    env[hl + len] = 0x30;
    env[hl + len + 1] = 0x00;

    avow_evidence_request *req = OPENSSL_zalloc(sizeof(*req));
    rc = req != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    if (rc == AVOW_OK)
        rc = as_request_field(avow_evidence_decode(env, hl + inner, profile,
                                                   AVOW_DECODE_ALLOW_VALUELESS, &req->ev, diag),
                              diag);
    OPENSSL_free(env);
    if (rc == AVOW_OK)
        rc = check_rules(req->ev, diag);
    if (rc != AVOW_OK) {
        avow_evidence_request_free(req);
        return rc == AVOW_ERR_NOMEM ? avow__fail(diag, rc, "request", "out of memory") : rc;
    }
    *out = req;
    return AVOW_OK;
}

/* --- reading --- */

const avow_profile *avow_evidence_request_get0_profile(const avow_evidence_request *r)
{
    return r != NULL ? avow_evidence_get0_profile(r->ev) : NULL;
}

size_t avow_evidence_request_element_count(const avow_evidence_request *req)
{
    return req != NULL ? avow_evidence_element_count(req->ev) : 0;
}

const avow_element *avow_evidence_request_get0_element(const avow_evidence_request *r, size_t i)
{
    return r != NULL ? avow_evidence_get0_element(r->ev, i) : NULL;
}

avow_view avow_evidence_request_get0_nonce(const avow_evidence_request *req)
{
    avow_view none = {NULL, 0};
    const avow_claim *c = req != NULL ? avow_evidence_find_claim(req->ev, AVOW_CLAIM_NONCE) : NULL;
    return c != NULL && c->value.present ? c->value.bytes : none;
}

avow_view avow_evidence_request_key_selector(const avow_evidence_request *req, size_t i)
{
    const avow_element *el = avow_evidence_request_get0_element(req, i);
    avow_view none = {NULL, 0};
    return el != NULL && el->kind == AVOW_ELEMENT_KEY ? avow__key_identifier(el) : none;
}

avow_err avow_evidence_request_to_json(const avow_evidence_request *req, avow_buf *out)
{
    if (req == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    avow_buf text = {0};
    json_t *root = NULL;
    avow_err rc = avow_evidence_to_json(req->ev, &text);
    /* an identifier may hold U+0000, which jansson reads back only when told to */
    if (rc == AVOW_OK &&
        (root = json_loadb((const char *)text.ptr, text.len, JSON_ALLOW_NUL, NULL)) == NULL)
        rc = AVOW_ERR_NOMEM;
    avow_buf_free(&text);
    /* A request has no signatures to speak of. */
    if (rc == AVOW_OK)
        json_object_del(root, "signatures");
    if (rc == AVOW_OK)
        rc = avow__json_dump(root, JSON_INDENT(2), 1, out);
    json_decref(root);
    return rc;
}
