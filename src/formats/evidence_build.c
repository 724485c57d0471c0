/*
 * Building Evidence claim by claim. Each change goes into the template
 * object and the index is rebuilt, so a built Evidence obeys exactly the
 * rules a decoded one does; a change the rules refuse is undone.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/evidence_int.h"

avow_err avow_evidence_new(const avow_profile *profile, avow_evidence **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    avow_evidence *ev = OPENSSL_zalloc(sizeof(*ev));
    if (ev == NULL)
        return AVOW_ERR_NOMEM;
    if (profile != NULL)
        ev->profile = *profile;
    else
        avow_profile_default(&ev->profile);
    ev->building = 1;
    ev->version = 1;
    ev->asn1 = AVOW_EVIDENCE_ASN1_new();
    if (ev->asn1 == NULL || !ASN1_INTEGER_set_int64(ev->asn1->tbs->version, 1)) {
        avow_evidence_free(ev);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    *out = ev;
    return AVOW_OK;
}

avow_err avow_evidence_add_element(avow_evidence *ev, avow_element_kind kind, size_t *index,
                                   avow_diag *diag)
{
    if (ev == NULL || kind > AVOW_ELEMENT_KEY)
        return avow__fail(diag, AVOW_ERR_ARG, "element",
                          "no Evidence, or not a known element kind");
    if (ev->frozen)
        return avow__fail(diag, AVOW_ERR_STATE, "element",
                          "the Evidence is signed or decoded: its claims are frozen");
    AVOW_ELEMENT_ASN1 *ea = AVOW_ELEMENT_ASN1_new();
    uint8_t sfx[2] = {0, (uint8_t)kind};
    if (ea == NULL || !avow__arc_set(ev, sfx, 2, &ea->type) ||
        !sk_AVOW_ELEMENT_ASN1_push(ev->asn1->tbs->elements, ea)) {
        AVOW_ELEMENT_ASN1_free(ea);
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_NOMEM, "element", "out of memory");
    }
    avow_err rc = avow__evidence_index(ev, diag);
    if (rc != AVOW_OK) {
        sk_AVOW_ELEMENT_ASN1_pop(ev->asn1->tbs->elements);
        AVOW_ELEMENT_ASN1_free(ea);
        avow__evidence_index(ev, NULL);
        return rc;
    }
    if (index != NULL)
        *index = ev->nelements - 1;
    return AVOW_OK;
}

/*
 * The whole SEQUENCE OF OBJECT IDENTIFIER of a purpose claim (OPENSSL_malloc'd
 * DER): each purpose by its OID, or by its capability under the arc when no
 * OID is given.
 */
static int purposes_der(const avow_profile *p, const avow_value *v, unsigned char **der)
{
    STACK_OF(ASN1_OBJECT) *st = sk_ASN1_OBJECT_new_null();
    int n = -1;
    if (st == NULL)
        return -1;
    for (size_t i = 0; i < v->npurposes; i++) {
        const avow_view *o = &v->purposes[i].oid;
        ASN1_OBJECT *obj = NULL;
        if (o->len == 0) {
            uint8_t sfx[2] = {2, (uint8_t)v->purposes[i].cap};
            if ((unsigned)v->purposes[i].cap >= AVOW_CAP_COUNT_)
                goto done;
            obj = avow__arc_object(p, sfx, 2);
        } else {
            unsigned char tlv[2 + 127];
            if (o->len > 127 || o->ptr == NULL)
                goto done;
            tlv[0] = V_ASN1_OBJECT;
            tlv[1] = (unsigned char)o->len;
            memcpy(tlv + 2, o->ptr, o->len);
            const unsigned char *q = tlv;
            obj = d2i_ASN1_OBJECT(NULL, &q, (long)o->len + 2);
        }
        if (obj == NULL || !sk_ASN1_OBJECT_push(st, obj)) {
            ASN1_OBJECT_free(obj);
            goto done;
        }
    }
    n = ASN1_item_i2d((ASN1_VALUE *)st, der, ASN1_ITEM_rptr(AVOW_PURPOSES_ASN1));
done:
    sk_ASN1_OBJECT_pop_free(st, ASN1_OBJECT_free);
    return n;
}

/* The content octets of a minimal two's-complement INTEGER; returns the length (1..8). */
static size_t int64_content(int64_t v, uint8_t out[8])
{
    uint8_t be[8];
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        be[i] = (uint8_t)u;
    size_t skip = 0;
    /* Leading octets that only repeat the sign of the next one are dropped (X.690 8.3.2). */
    while (skip < 7 && ((be[skip] == 0x00 && !(be[skip + 1] & 0x80)) ||
                        (be[skip] == 0xff && (be[skip + 1] & 0x80))))
        skip++;
    memcpy(out, be + skip, 8 - skip);
    return 8 - skip;
}

/*
 * The open-type value of a claim, in the universal type the table declares,
 * as a view of octets ev owns (content octets; the whole TLV for a SEQUENCE).
 */
static int value_to_raw(avow_evidence *ev, const avow_value *v, AVOW_RAW *r)
{
    static const uint8_t bool_true = 0xff, bool_false = 0x00;
    uint8_t *p = NULL;
    size_t len = 0;
    switch (v->type) {
    case AVOW_VALUE_BYTES:
    case AVOW_VALUE_UTF8:
        r->type = v->type == AVOW_VALUE_BYTES ? V_ASN1_OCTET_STRING : V_ASN1_UTF8STRING;
        len = v->bytes.len;
        if (len > 0 && (p = avow__evidence_own(ev, avow__memdup(v->bytes.ptr, len))) == NULL)
            return 0;
        break;
    case AVOW_VALUE_BOOL:
        r->type = V_ASN1_BOOLEAN;
        r->p = v->integer ? &bool_true : &bool_false;
        r->len = 1;
        return 1;
    case AVOW_VALUE_INT: {
        uint8_t c[8];
        r->type = V_ASN1_INTEGER;
        len = int64_content(v->integer, c);
        if ((p = avow__evidence_own(ev, avow__memdup(c, len))) == NULL)
            return 0;
        break;
    }
    case AVOW_VALUE_TIME: {
        char g[16];
        r->type = V_ASN1_GENERALIZEDTIME;
        if (avow__gentime_format(v->time, g) != AVOW_OK)
            return 0;
        len = 15;
        if ((p = avow__evidence_own(ev, avow__memdup((const uint8_t *)g, len))) == NULL)
            return 0;
        break;
    }
    case AVOW_VALUE_OIDS: {
        unsigned char *der = NULL;
        int n = purposes_der(&ev->profile, v, &der);
        if (n <= 0 || avow__evidence_own(ev, der) == NULL)
            return 0;
        r->type = V_ASN1_SEQUENCE;
        p = der;
        len = (size_t)n;
        break;
    }
    case AVOW_VALUE_RAW:
        return 0;
    }
    r->p = p;
    r->len = (int)len;
    return 1;
}

avow_err avow_evidence_add_claim(avow_evidence *ev, size_t element, avow_claim_id id,
                                 const avow_value *value, avow_diag *diag)
{
    const avow_claim_info *info = avow_claim_info_get(id);
    if (ev == NULL || value == NULL || info == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "claim", "no evidence, claim or value");
    if (ev->frozen)
        return avow__fail(diag, AVOW_ERR_STATE, info->name,
                          "evidence is signed; claims are frozen");
    if (element >= ev->nelements)
        return avow__fail(diag, AVOW_ERR_ARG, info->name, "no element %zu", element);
    if (value->type != info->type)
        return avow__fail(diag, AVOW_ERR_CLAIM_TYPE, info->name, "value of the wrong type");
    /* Only an attestation request (built with AVOW_DECODE_ALLOW_VALUELESS) asks for claims. */
    if (!value->present && !(ev->flags & AVOW_DECODE_ALLOW_VALUELESS))
        return avow__fail(diag, AVOW_ERR_VALUE_MISSING, info->name,
                          "evidence claims carry a value");
    if ((value->type == AVOW_VALUE_BYTES || value->type == AVOW_VALUE_UTF8) &&
        (value->bytes.len > INT32_MAX || (value->bytes.ptr == NULL && value->bytes.len > 0)))
        return avow__fail(diag, AVOW_ERR_ARG, info->name, "bad byte string");
    if (value->type == AVOW_VALUE_OIDS && value->npurposes > AVOW_EVIDENCE_MAX_PURPOSES)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, info->name, "too many purposes");
    if (value->present && value->type == AVOW_VALUE_TIME && !avow__gentime_fits(value->time))
        return avow__fail(diag, AVOW_ERR_CLAIM_VALUE, info->name,
                          "%lld is outside GeneralizedTime (years 0000 to 9999 in UTC)",
                          (long long)value->time);

    AVOW_ELEMENT_ASN1 *ea = sk_AVOW_ELEMENT_ASN1_value(ev->asn1->tbs->elements, (int)element);
    AVOW_CLAIM_ASN1 *ca = AVOW_CLAIM_ASN1_new();
    uint8_t sfx[3] = {1, (uint8_t)info->element, info->arc_claim};
    if (ca == NULL || !avow__arc_set(ev, sfx, 3, &ca->type) ||
        (value->present && !value_to_raw(ev, value, &ca->value)) ||
        !sk_AVOW_CLAIM_ASN1_push(ea->claims, ca)) {
        AVOW_CLAIM_ASN1_free(ca);
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_NOMEM, info->name, "cannot build the claim");
    }
    avow_err rc = avow__evidence_index(ev, diag);
    if (rc != AVOW_OK) {
        sk_AVOW_CLAIM_ASN1_pop(ea->claims);
        AVOW_CLAIM_ASN1_free(ca);
        avow__evidence_index(ev, NULL);
    }
    avow__ossl_clear();
    return rc;
}

avow_err avow_evidence_add_bytes(avow_evidence *ev, size_t element, avow_claim_id id,
                                 const uint8_t *p, size_t len, avow_diag *diag)
{
    avow_value v = {.type = AVOW_VALUE_BYTES, .present = 1, .bytes = {p, len}};
    return avow_evidence_add_claim(ev, element, id, &v, diag);
}

avow_err avow_evidence_add_utf8(avow_evidence *ev, size_t element, avow_claim_id id, const char *s,
                                avow_diag *diag)
{
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "claim", "no string");
    avow_value v = {
        .type = AVOW_VALUE_UTF8, .present = 1, .bytes = {(const uint8_t *)s, strlen(s)}};
    return avow_evidence_add_claim(ev, element, id, &v, diag);
}

avow_err avow_evidence_add_bool(avow_evidence *ev, size_t element, avow_claim_id id, int b,
                                avow_diag *diag)
{
    avow_value v = {.type = AVOW_VALUE_BOOL, .present = 1, .integer = b != 0};
    return avow_evidence_add_claim(ev, element, id, &v, diag);
}

avow_err avow_evidence_add_int(avow_evidence *ev, size_t element, avow_claim_id id, int64_t i,
                               avow_diag *diag)
{
    avow_value v = {.type = AVOW_VALUE_INT, .present = 1, .integer = i};
    return avow_evidence_add_claim(ev, element, id, &v, diag);
}

avow_err avow_evidence_add_time(avow_evidence *ev, size_t element, avow_claim_id id, time_t t,
                                avow_diag *diag)
{
    avow_value v = {.type = AVOW_VALUE_TIME, .present = 1, .time = t};
    return avow_evidence_add_claim(ev, element, id, &v, diag);
}

avow_err avow_evidence_add_purposes(avow_evidence *ev, size_t element, const avow_capability *caps,
                                    size_t ncaps, avow_diag *diag)
{
    if (ev == NULL || (caps == NULL && ncaps > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "purpose", "no capabilities");
    if (ncaps > AVOW_EVIDENCE_MAX_PURPOSES)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "purpose", "too many purposes");
    avow_purpose ps[AVOW_EVIDENCE_MAX_PURPOSES];
    uint8_t oids[AVOW_EVIDENCE_MAX_PURPOSES][AVOW_OID_MAX + 2];
    const avow_oid *arc = &ev->profile.evidence_arc;
    for (size_t i = 0; i < ncaps; i++) {
        if ((unsigned)caps[i] >= AVOW_CAP_COUNT_)
            return avow__fail(diag, AVOW_ERR_CLAIM_VALUE, "purpose", "unknown capability %d",
                              caps[i]);
        memcpy(oids[i], arc->der, arc->len);
        oids[i][arc->len] = 2;
        oids[i][arc->len + 1] = (uint8_t)caps[i];
        ps[i].cap = caps[i];
        ps[i].oid.ptr = oids[i];
        ps[i].oid.len = (size_t)arc->len + 2;
    }
    avow_value v = {.type = AVOW_VALUE_OIDS, .present = 1, .npurposes = ncaps, .purposes = ps};
    return avow_evidence_add_claim(ev, element, AVOW_CLAIM_KEY_PURPOSE, &v, diag);
}

avow_err avow_evidence_add_intermediate(avow_evidence *ev, X509 *cert, avow_diag *diag)
{
    if (ev == NULL || cert == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "intermediateCertificates",
                          "no Evidence or certificate");
    if (ev->asn1->certs == NULL && (ev->asn1->certs = sk_AVOW_RAW_new_null()) == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "intermediateCertificates", "out of memory");
    int n = sk_AVOW_RAW_num(ev->asn1->certs);
    if (n >= (int)AVOW_EVIDENCE_MAX_CERTS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "intermediateCertificates",
                          "more than %u certificates", AVOW_EVIDENCE_MAX_CERTS);
    char field[48];
    snprintf(field, sizeof(field), "intermediateCertificates[%d]", n);
    /* Carried as its DER, as a decoded Evidence holds it. */
    AVOW_RAW *r = NULL;
    avow_err rc = avow__evidence_cert_raw(ev, cert, field, &r, diag);
    if (rc != AVOW_OK)
        return rc;
    if (!sk_AVOW_RAW_push(ev->asn1->certs, r)) {
        OPENSSL_free(r);
        return avow__fail(diag, AVOW_ERR_NOMEM, "intermediateCertificates", "out of memory");
    }
    /* The index holds the views the accessors read. */
    rc = avow__evidence_index(ev, diag);
    if (rc != AVOW_OK) {
        OPENSSL_free(sk_AVOW_RAW_pop(ev->asn1->certs));
        (void)avow__evidence_index(ev, NULL);
    }
    return rc;
}

avow_err avow__evidence_cert_raw(avow_evidence *ev, X509 *cert, const char *field, AVOW_RAW **out,
                                 avow_diag *diag)
{
    *out = NULL;
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_BAD_CERT, field, "cannot encode the certificate");
    avow_err rc = avow__evidence_cert_der_check(der, (size_t)n, 0, field, diag);
    if (rc != AVOW_OK) {
        OPENSSL_free(der);
        return rc;
    }
    AVOW_RAW *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL || avow__evidence_own(ev, der) == NULL) {
        OPENSSL_free(r);
        OPENSSL_free(der);
        return avow__fail(diag, AVOW_ERR_NOMEM, field, "out of memory");
    }
    r->type = V_ASN1_SEQUENCE;
    r->p = der;
    r->len = n;
    *out = r;
    return AVOW_OK;
}

/*
 * Applies the decoder's full rules to an Evidence under construction. With
 * leave = 1 it stays finished on success; with 0 it stays open for more claims.
 */
avow_err avow__evidence_check(avow_evidence *ev, int leave, avow_diag *diag)
{
    if (!ev->building)
        return AVOW_OK;
    ev->building = 0;
    avow_err rc = avow__evidence_index(ev, diag);
    if (rc != AVOW_OK || !leave) {
        ev->building = 1;
        avow__evidence_index(ev, NULL);
    }
    return rc;
}

avow_err avow_evidence_encode(const avow_evidence *ev, avow_buf *out)
{
    if (ev == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    /* What is encoded must decode: an Evidence still being built meets the full rules first. */
    avow_err rc = avow__evidence_check((avow_evidence *)ev, 0, NULL);
    if (rc != AVOW_OK)
        return rc;
    unsigned char *der = NULL;
    int n = ASN1_item_i2d((ASN1_VALUE *)ev->asn1, &der,
                          (ev->flags & AVOW_DECODE_EXPLICIT_INTERMEDIATES)
                              ? ASN1_ITEM_rptr(AVOW_EVIDENCE_EXPLICIT_ASN1)
                              : ASN1_ITEM_rptr(AVOW_EVIDENCE_ASN1));
    if (n <= 0) {
        avow__ossl_clear();
        return AVOW_ERR_CRYPTO;
    }
    out->ptr = der;
    out->len = (size_t)n;
    return AVOW_OK;
}
