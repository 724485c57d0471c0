/*
 * avow_evidence_to_json: the Evidence as a JSON document. The "elements"
 * array is also an input of avow_evidence_add_claims_json, so every known
 * claim prints in a form that reads back to the same DER.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <avow/evidence.h>

#include "core/internal.h"
#include "formats/show_util.h"

/* Jansson calls ignore a NULL value; a builder keeps the first failure so the
 * code below reads straight through and checks once at the end. */
typedef struct jb {
    int failed;
} jb;

static json_t *jb_check(jb *j, json_t *v)
{
    if (v == NULL)
        j->failed = 1;
    return v;
}

static void jb_set(jb *j, json_t *obj, const char *key, json_t *v)
{
    if (obj == NULL || v == NULL || json_object_set_new(obj, key, v) != 0) {
        j->failed = 1;
        json_decref(v);
    }
}

static void jb_append(jb *j, json_t *arr, json_t *v)
{
    if (arr == NULL || v == NULL || json_array_append_new(arr, v) != 0) {
        j->failed = 1;
        json_decref(v);
    }
}

static json_t *hex_string(jb *j, const uint8_t *p, size_t len)
{
    char *h = avow__hex(p, len);
    json_t *s = h != NULL ? json_string(h) : NULL;
    OPENSSL_free(h);
    return jb_check(j, s);
}

/* The whole dotted text: the printed form is read back, and a cut OID would be another OID. */
static json_t *oid_string(jb *j, avow_view oid)
{
    char *text = avow__oid_text(oid.ptr, oid.len);
    json_t *s = text != NULL ? json_string(text) : NULL;
    OPENSSL_free(text);
    return jb_check(j, s);
}

static json_t *value_json(jb *j, const avow_value *v)
{
    char tmp[64];
    if (!v->present)
        return jb_check(j, json_null());
    switch (v->type) {
    case AVOW_VALUE_BYTES:
    case AVOW_VALUE_RAW:
        return hex_string(j, v->bytes.ptr, v->bytes.len);
    case AVOW_VALUE_UTF8:
        return jb_check(j, json_stringn((const char *)v->bytes.ptr, v->bytes.len));
    case AVOW_VALUE_BOOL:
        return jb_check(j, json_boolean(v->integer != 0));
    case AVOW_VALUE_INT:
        return jb_check(j, json_integer((json_int_t)v->integer));
    case AVOW_VALUE_TIME:
        avow__show_rfc3339(v->time, tmp, sizeof(tmp));
        return jb_check(j, json_string(tmp));
    case AVOW_VALUE_OIDS: {
        json_t *arr = jb_check(j, json_array());
        for (size_t i = 0; i < v->npurposes; i++) {
            const char *name = avow_capability_name(v->purposes[i].cap);
            jb_append(j, arr,
                      name != NULL ? jb_check(j, json_string(name))
                                   : oid_string(j, v->purposes[i].oid));
        }
        return arr;
    }
    }
    return jb_check(j, json_null());
}

static json_t *element_json(jb *j, const avow_element *el)
{
    json_t *o = jb_check(j, json_object());
    json_t *claims = jb_check(j, json_array());
    jb_set(j, o, "type", jb_check(j, json_string(avow_element_name(el->kind))));
    jb_set(j, o, "oid", oid_string(j, el->oid));
    for (size_t i = 0; i < el->nclaims; i++) {
        const avow_claim *c = &el->claims[i];
        const avow_claim_info *info = avow_claim_info_get(c->id);
        json_t *co = jb_check(j, json_object());
        jb_set(j, co, "name",
               info != NULL ? jb_check(j, json_string(info->name)) : oid_string(j, c->oid));
        jb_set(j, co, "oid", oid_string(j, c->oid));
        jb_set(j, co, "type", jb_check(j, json_string(avow__show_type_name(c->value.type))));
        jb_set(j, co, "value", value_json(j, &c->value));
        jb_append(j, claims, co);
    }
    jb_set(j, o, "claims", claims);
    return o;
}

static json_t *spki_json(jb *j, const uint8_t *der, size_t len)
{
    char key[96];
    json_t *o = jb_check(j, json_object());
    avow__show_spki(der, len, key, sizeof(key));
    jb_set(j, o, "key", jb_check(j, json_string(key)));
    jb_set(j, o, "der", hex_string(j, der, len));
    return o;
}

static json_t *cert_json(jb *j, X509 *x)
{
    char buf[512], nb[32], na[32];
    json_t *o = jb_check(j, json_object());
    avow__show_name(X509_get_subject_name(x), buf, sizeof(buf));
    jb_set(j, o, "subject", jb_check(j, json_string(buf)));
    avow__show_name(X509_get_issuer_name(x), buf, sizeof(buf));
    jb_set(j, o, "issuer", jb_check(j, json_string(buf)));
    avow__show_serial(x, buf, sizeof(buf));
    jb_set(j, o, "serial", jb_check(j, json_string(buf)));
    avow__show_validity(x, nb, sizeof(nb), na, sizeof(na));
    jb_set(j, o, "notBefore", jb_check(j, json_string(nb)));
    jb_set(j, o, "notAfter", jb_check(j, json_string(na)));
    if (avow__show_cert_key(x, buf, sizeof(buf)))
        jb_set(j, o, "key", jb_check(j, json_string(buf)));
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    if (len > 0)
        jb_set(j, o, "der", hex_string(j, der, (size_t)len));
    else
        j->failed = 1;
    OPENSSL_free(der);
    avow__ossl_clear();
    return o;
}

static const char *sid_name(avow_sid_kind k)
{
    switch (k) {
    case AVOW_SID_KEYID:
        return "keyid";
    case AVOW_SID_SPKI:
        return "spki";
    case AVOW_SID_CERT:
        return "cert";
    }
    return "unknown";
}

static json_t *signature_json(jb *j, const avow_evidence *ev, size_t i)
{
    const avow_signature_block *s = avow_evidence_get0_signature(ev, i);
    char name[64], oid[128];
    json_t *o = jb_check(j, json_object());
    /* "sid" is the field the key is taken from; "sidFields" lists every field present. */
    jb_set(j, o, "sid", jb_check(j, json_string(sid_name(s->sid_kind))));
    json_t *fields = jb_check(j, json_array());
    for (int k = AVOW_SID_KEYID; k <= AVOW_SID_CERT; k++)
        if (s->sid_fields & AVOW_SID_FIELD(k))
            jb_append(j, fields, jb_check(j, json_string(sid_name((avow_sid_kind)k))));
    jb_set(j, o, "sidFields", fields);
    if (s->sid_fields & AVOW_SID_HAS_KEYID)
        jb_set(j, o, "keyId", hex_string(j, s->key_id.ptr, s->key_id.len));
    if (s->sid_fields & AVOW_SID_HAS_SPKI)
        jb_set(j, o, "spki", spki_json(j, s->spki.ptr, s->spki.len));
    X509 *cert = avow_evidence_get0_signer_cert(ev, i);
    if (cert != NULL)
        jb_set(j, o, "certificate", cert_json(j, cert));
    avow__show_sigalg(s->algorithm, name, sizeof(name), oid, sizeof(oid));
    jb_set(j, o, "algorithm", jb_check(j, json_string(name)));
    jb_set(j, o, "algorithmOid", jb_check(j, json_string(oid)));
    jb_set(j, o, "signatureLength", jb_check(j, json_integer((json_int_t)s->value.len)));
    jb_set(j, o, "value", hex_string(j, s->value.ptr, s->value.len));
    return o;
}

avow_err avow_evidence_to_json(const avow_evidence *ev, avow_buf *out)
{
    if (ev == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    jb j = {0};
    json_t *root = jb_check(&j, json_object());
    jb_set(&j, root, "version", jb_check(&j, json_integer(avow_evidence_version(ev))));

    json_t *elements = jb_check(&j, json_array());
    for (size_t i = 0; i < avow_evidence_element_count(ev); i++)
        jb_append(&j, elements, element_json(&j, avow_evidence_get0_element(ev, i)));
    jb_set(&j, root, "elements", elements);

    json_t *sigs = jb_check(&j, json_array());
    for (size_t i = 0; i < avow_evidence_signature_count(ev); i++)
        jb_append(&j, sigs, signature_json(&j, ev, (size_t)i));
    jb_set(&j, root, "signatures", sigs);

    STACK_OF(X509) *inter = avow_evidence_get0_intermediates(ev);
    if (inter != NULL && sk_X509_num(inter) > 0) {
        json_t *arr = jb_check(&j, json_array());
        for (int i = 0; i < sk_X509_num(inter); i++)
            jb_append(&j, arr, cert_json(&j, sk_X509_value(inter, i)));
        jb_set(&j, root, "intermediates", arr);
    }

    char *text = j.failed ? NULL : json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (text == NULL)
        return AVOW_ERR_NOMEM;
    size_t len = strlen(text);
    out->ptr = OPENSSL_malloc(len + 2);
    if (out->ptr == NULL) {
        free(text);
        return AVOW_ERR_NOMEM;
    }
    memcpy(out->ptr, text, len);
    out->ptr[len] = '\n';
    out->ptr[len + 1] = '\0';
    out->len = len + 1;
    free(text);
    return AVOW_OK;
}
