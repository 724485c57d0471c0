/*
 * The verification result as JSON (jansson): what the CLI prints and what a
 * service logs. Bytes as lower-case hex, times as RFC 3339, purposes as
 * capability names or dotted OIDs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/json.h"
#include "verifier/verify_int.h"

static const char *nonce_text(avow_nonce_state s)
{
    switch (s) {
    case AVOW_NONCE_MATCH:
        return "match";
    case AVOW_NONCE_MISMATCH:
        return "mismatch";
    case AVOW_NONCE_ABSENT:
        return "absent";
    case AVOW_NONCE_NOT_CHECKED:
        break;
    }
    return "not-checked";
}

static const char *sid_text(avow_sid_kind k)
{
    switch (k) {
    case AVOW_SID_KEYID:
        return "keyId";
    case AVOW_SID_SPKI:
        return "spki";
    case AVOW_SID_CERT:
        return "certificate";
    }
    return "unknown";
}

static json_t *time_json(time_t t)
{
    char buf[21];
    return avow__rfc3339_format(t, buf) == AVOW_OK ? json_string(buf) : json_null();
}

static json_t *names_json(const avow_claim_value *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < v->nnames; i++) {
        if (json_array_append_new(a, json_string(v->names[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

static json_t *value_json(const avow_claim_value *v)
{
    if (!v->present)
        return json_null();
    switch (v->type) {
    case AVOW_CV_TEXT: {
        /* jansson refuses invalid UTF-8; such a value is shown as hex instead. */
        json_t *s = json_stringn((const char *)v->bytes.ptr, v->bytes.len);
        return s != NULL ? s : avow__json_hex(v->bytes.ptr, v->bytes.len);
    }
    case AVOW_CV_BOOL:
        return json_boolean(v->integer != 0);
    case AVOW_CV_INT:
        return json_integer((json_int_t)v->integer);
    case AVOW_CV_TIME:
        return time_json((time_t)v->time);
    case AVOW_CV_NAMES:
        return names_json(v);
    case AVOW_CV_BYTES:
    case AVOW_CV_OPAQUE:
        break;
    }
    return avow__json_hex(v->bytes.ptr, v->bytes.len);
}

/* RFC 2253 text of a name, as a JSON string. */
static json_t *dn_json(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    json_t *j = NULL;
    char *p = NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        long n = BIO_get_mem_data(b, &p);
        j = json_stringn(p != NULL ? p : "", n > 0 ? (size_t)n : 0);
    }
    BIO_free(b);
    return j;
}

static json_t *sig_json(const avow_sig_result *s, size_t index, int *bad)
{
    json_t *o = json_object();
    if (o == NULL) {
        *bad = 1;
        return NULL;
    }
    avow__json_put(o, "index", json_integer((json_int_t)index), bad);
    avow__json_put(o, "status",
                   json_string(s->status == AVOW_OK ? "AVOW_OK" : avow_errname(s->status)), bad);
    avow__json_put(o, "sid", json_string(sid_text(s->sid_kind)), bad);
    /* "sid" is the field the key came from; "sid_fields" every field the block carried. */
    json_t *fields = json_array();
    for (int k = AVOW_SID_KEYID; fields != NULL && k <= AVOW_SID_CERT; k++)
        if ((s->sid_fields & AVOW_SID_FIELD(k)) &&
            json_array_append_new(fields, json_string(sid_text((avow_sid_kind)k))) != 0)
            *bad = 1;
    avow__json_put(o, "sid_fields", fields, bad);
    const char *alg = avow_sigalg_name(s->alg);
    avow__json_put(o, "algorithm", alg != NULL ? json_string(alg) : json_null(), bad);
    avow__json_put(o, "key_source",
                   s->key_source != NULL ? json_string(s->key_source) : json_null(), bad);
    avow__json_put(o, "signer",
                   s->cert != NULL ? dn_json(X509_get_subject_name(s->cert)) : json_null(), bad);
    json_t *chain = json_array();
    for (int i = 0; chain != NULL && i < sk_X509_num(s->chain); i++)
        if (json_array_append_new(chain,
                                  dn_json(X509_get_subject_name(sk_X509_value(s->chain, i)))))
            *bad = 1;
    avow__json_put(o, "chain", chain, bad);
    const char *ak = s->ak_spki > 0 ? "listed" : s->ak_spki == 0 ? "not-listed" : "no-claim";
    avow__json_put(o, "ak_spki", json_string(ak), bad);
    avow__json_put(o, "detail", s->detail[0] != '\0' ? avow__json_text(s->detail) : json_null(),
                   bad);
    return o;
}

static json_t *claim_json(const avow_nclaim *c, int *bad)
{
    json_t *o = json_object();
    if (o == NULL) {
        *bad = 1;
        return NULL;
    }
    avow__json_put(o, "element", json_string(c->element), bad);
    avow__json_put(o, "element_index", json_integer((json_int_t)c->element_index), bad);
    avow__json_put(o, "name", json_string(c->name), bad);
    avow__json_put(o, "known", json_boolean(c->known), bad);
    avow__json_put(o, "type", json_string(avow_cv_type_name(c->value.type)), bad);
    avow__json_put(o, "value", value_json(&c->value), bad);
    return o;
}

static json_t *result_json(const avow_evidence_result *r)
{
    int bad = 0;
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    avow__json_put(root, "trusted", json_boolean(r->trusted), &bad);
    avow__json_put(root, "status",
                   json_string(r->status == AVOW_OK ? "AVOW_OK" : avow_errname(r->status)), &bad);
    avow__json_put(root, "message", json_string(avow_strerror(r->status)), &bad);
    avow__json_put(root, "nonce", json_string(nonce_text(r->nonce)), &bad);
    json_t *sigs = json_array();
    for (size_t i = 0; sigs != NULL && i < r->nsigs; i++)
        if (json_array_append_new(sigs, sig_json(&r->sigs[i], i, &bad)) != 0)
            bad = 1;
    avow__json_put(root, "signatures", sigs, &bad);
    json_t *claims = json_array();
    for (size_t i = 0; claims != NULL && i < r->claims.count; i++)
        if (json_array_append_new(claims, claim_json(&r->claims.items[i], &bad)) != 0)
            bad = 1;
    avow__json_put(root, "claims", claims, &bad);
    avow__json_put(root, "unknown_elements", json_integer((json_int_t)r->unknown_elements), &bad);
    avow__json_put(root, "unknown_claims", json_integer((json_int_t)r->unknown_claims), &bad);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

avow_err avow_evidence_result_to_json(const avow_evidence_result *r, avow_buf *out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    if (r == NULL)
        return AVOW_ERR_ARG;
    json_t *root = result_json(r);
    avow_err rc = root != NULL ? avow__json_dump(root, JSON_INDENT(2), 0, out) : AVOW_ERR_NOMEM;
    json_decref(root);
    avow__ossl_clear();
    return rc;
}
