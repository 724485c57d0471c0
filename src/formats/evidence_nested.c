/*
 * The combined form: a platform token (a PSA token, RFC 9783) carried as a
 * claim of PKIX Evidence, so the Evidence's own signatures cover it. The
 * claim's type is AVOW_OID_PLATFORM_TOKEN (avow's arc, not the Evidence
 * arc: the draft has no such claim) and its value is a CMW as id-pe-cmw
 * defines it (CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }), so
 * the verifier hands the value to the id-pe-cmw row unchanged
 * (docs/kat.md, "The combined form").
 */
#include <string.h>

#include <openssl/asn1.h>

#include <avow/cmw.h>
#include <avow/kat.h>
#include <avow/psa.h>

#include "core/internal.h"
#include "formats/evidence_int.h"

/* The DER content octets of AVOW_OID_PLATFORM_TOKEN, once. */
static int platform_token_oid(avow_oid *o)
{
    return avow_oid_from_text(o, AVOW_OID_PLATFORM_TOKEN) == AVOW_OK;
}

int avow__evidence_is_platform_token(const avow_claim *cl)
{
    avow_oid o;
    return cl != NULL && cl->id == AVOW_CLAIM_UNKNOWN && platform_token_oid(&o) &&
           cl->oid.len == o.len && memcmp(cl->oid.ptr, o.der, o.len) == 0;
}

size_t avow__evidence_platform_token(const avow_evidence *ev, size_t i, avow_view *cmw,
                                     size_t *element, size_t *claim)
{
    size_t seen = 0;
    for (size_t e = 0; ev != NULL && e < ev->nelements; e++) {
        const avow_element *el = &ev->elements[e];
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            if (!avow__evidence_is_platform_token(cl) || !cl->value.present)
                continue;
            if (seen++ == i) {
                *cmw = cl->value.bytes;
                *element = e;
                *claim = c;
                return 1;
            }
        }
    }
    return 0;
}

/* The platform element, added when the Evidence has none. */
static avow_err platform_element(avow_evidence *ev, size_t *index, avow_diag *diag)
{
    for (size_t e = 0; e < ev->nelements; e++)
        if (ev->elements[e].kind == AVOW_ELEMENT_PLATFORM) {
            *index = e;
            return AVOW_OK;
        }
    return avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, index, diag);
}

avow_err avow_evidence_add_platform_token(avow_evidence *ev, const char *media_type,
                                          const uint8_t *token, size_t len, avow_diag *diag)
{
    const char *f = "platform-token";
    if (ev == NULL || token == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, f, "no Evidence or token");
    if (len > AVOW_EVIDENCE_MAX_PLATFORM_TOKEN)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, f, "a token of %zu bytes (at most %u)", len,
                          AVOW_EVIDENCE_MAX_PLATFORM_TOKEN);
    if (ev->frozen)
        return avow__fail(diag, AVOW_ERR_STATE, f, "evidence is signed; claims are frozen");
    avow_view have;
    size_t he, hc;
    /* One platform speaks for the attester; a second token would leave open which one. */
    if (avow__evidence_platform_token(ev, 0, &have, &he, &hc))
        return avow__fail(diag, AVOW_ERR_DUP_CLAIM, f, "the Evidence already carries one");
    avow_buf cmw = {0};
    avow_err rc =
        avow_cmw_encode(AVOW_CMW_FORM_CBOR, media_type != NULL ? media_type : AVOW_PSA_MEDIA_TYPE,
                        token, len, AVOW_CMW_IND_EVIDENCE, &cmw, diag);
    if (rc != AVOW_OK)
        return rc;
    size_t element = 0;
    rc = platform_element(ev, &element, diag);
    avow_oid o;
    uint8_t *oid = NULL, *val = NULL;
    AVOW_CLAIM_ASN1 *ca = NULL;
    if (rc == AVOW_OK) {
        rc = AVOW_ERR_NOMEM;
        ca = AVOW_CLAIM_ASN1_new();
        if (ca != NULL && platform_token_oid(&o) &&
            (oid = avow__evidence_own(ev, avow__memdup(o.der, o.len))) != NULL) {
            val = cmw.ptr;
            cmw.ptr = NULL; /* ev owns it from here, or it is freed */
            val = avow__evidence_own(ev, val);
        }
        if (val != NULL) {
            ca->type.type = V_ASN1_OBJECT;
            ca->type.p = oid;
            ca->type.len = (int)o.len;
            ca->value.type = V_ASN1_OCTET_STRING;
            ca->value.p = val;
            ca->value.len = (int)cmw.len;
            AVOW_ELEMENT_ASN1 *ea =
                sk_AVOW_ELEMENT_ASN1_value(ev->asn1->tbs->elements, (int)element);
            if (sk_AVOW_CLAIM_ASN1_push(ea->claims, ca)) {
                rc = avow__evidence_index(ev, diag);
                if (rc != AVOW_OK) {
                    sk_AVOW_CLAIM_ASN1_pop(ea->claims);
                    avow__evidence_index(ev, NULL);
                } else {
                    ca = NULL;
                }
            }
        }
        if (rc == AVOW_ERR_NOMEM)
            avow__fail(diag, rc, f, "cannot build the claim");
    }
    AVOW_CLAIM_ASN1_free(ca);
    OPENSSL_free(cmw.ptr);
    avow__ossl_clear();
    return rc;
}
