/*
 * The freshness nonce of draft-ietf-lamps-attestation-freshness over CMP:
 * the NonceRequest a genm carries and the NonceResponse its genp answers.
 * OpenSSL decodes by the templates; the value is then held to DER by
 * re-encoding, and to the draft's ranges.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cmp.h>
#include <openssl/objects.h>

#include "core/internal.h"
#include "service/cmp_int.h"

ASN1_SEQUENCE(AVOW_NONCEREQ_ASN1) =
    {
        ASN1_OPT(AVOW_NONCEREQ_ASN1, len, ASN1_INTEGER),
        ASN1_OPT(AVOW_NONCEREQ_ASN1, type, ASN1_OBJECT),
        ASN1_OPT(AVOW_NONCEREQ_ASN1, info, ASN1_ANY),
} ASN1_SEQUENCE_END(AVOW_NONCEREQ_ASN1) IMPLEMENT_ASN1_FUNCTIONS(AVOW_NONCEREQ_ASN1)

        ASN1_SEQUENCE(AVOW_NONCERSP_ASN1) =
            {
                ASN1_SIMPLE(AVOW_NONCERSP_ASN1, nonce, ASN1_OCTET_STRING),
                ASN1_OPT(AVOW_NONCERSP_ASN1, expiry, ASN1_INTEGER),
                ASN1_OPT(AVOW_NONCERSP_ASN1, type, ASN1_OBJECT),
                ASN1_OPT(AVOW_NONCERSP_ASN1, info, ASN1_ANY),
} ASN1_SEQUENCE_END(AVOW_NONCERSP_ASN1) IMPLEMENT_ASN1_FUNCTIONS(AVOW_NONCERSP_ASN1)

#define FIELD "genm.nonceRequest"

                avow_err
    avow__cmp_nonce_request_read(const ASN1_TYPE *value, size_t *len, avow_diag *d)
{
    *len = 0;
    if (value == NULL)
        return AVOW_OK;
    if (ASN1_TYPE_get(value) != V_ASN1_SEQUENCE)
        return avow__fail(d, AVOW_ERR_WRONG_TAG, FIELD, "expected a SEQUENCE (NonceRequest)");
    const ASN1_STRING *seq = value->value.sequence;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    int n = ASN1_STRING_length(seq);
    const unsigned char *start = p;
    AVOW_NONCEREQ_ASN1 *r = d2i_AVOW_NONCEREQ_ASN1(NULL, &p, n);
    if (r == NULL || p != start + n) {
        AVOW_NONCEREQ_ASN1_free(r);
        return avow__fail_ossl(d, AVOW_ERR_MALFORMED, FIELD, "not a NonceRequest");
    }
    unsigned char *der = NULL;
    int dlen = i2d_AVOW_NONCEREQ_ASN1(r, &der);
    int same = dlen == n && memcmp(der, start, (size_t)n) == 0;
    OPENSSL_free(der);
    avow_err err = AVOW_OK;
    if (!same)
        err = avow__fail(d, AVOW_ERR_NOT_DER, FIELD, "NonceRequest is not DER");
    int64_t v = 0;
    if (err == AVOW_OK && r->len != NULL &&
        (!ASN1_INTEGER_get_int64(&v, r->len) || v < AVOW_CMP_NONCE_MIN || v > AVOW_CMP_NONCE_MAX))
        err = avow__fail(d, AVOW_ERR_CLAIM_VALUE, FIELD ".len", "len must be %u..%u",
                         AVOW_CMP_NONCE_MIN, AVOW_CMP_NONCE_MAX);
    if (err == AVOW_OK && r->info != NULL && r->type == NULL)
        err = avow__fail(d, AVOW_ERR_MALFORMED, FIELD ".reqInfo", "reqInfo without type");
    if (err == AVOW_OK)
        *len = (size_t)v;
    AVOW_NONCEREQ_ASN1_free(r);
    avow__ossl_clear();
    return err;
}

OSSL_CMP_ITAV *avow__cmp_nonce_response(const ASN1_OBJECT *oid, const uint8_t *nonce, size_t len,
                                        int64_t expiry)
{
    OSSL_CMP_ITAV *itav = NULL;
    unsigned char *der = NULL;
    AVOW_NONCERSP_ASN1 *r = AVOW_NONCERSP_ASN1_new();
    ASN1_STRING *s = ASN1_STRING_new();
    ASN1_TYPE *t = ASN1_TYPE_new();
    ASN1_OBJECT *o = OBJ_dup(oid);
    int dlen = -1;
    if (r != NULL && len <= AVOW_CMP_NONCE_MAX &&
        ASN1_OCTET_STRING_set(r->nonce, nonce, (int)len) &&
        (r->expiry = ASN1_INTEGER_new()) != NULL && ASN1_INTEGER_set_int64(r->expiry, expiry))
        dlen = i2d_AVOW_NONCERSP_ASN1(r, &der);
    if (dlen > 0 && s != NULL && t != NULL && o != NULL && ASN1_STRING_set(s, der, dlen)) {
        ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
        s = NULL;
        itav = OSSL_CMP_ITAV_create(o, t);
        if (itav != NULL) {
            o = NULL;
            t = NULL;
        }
    }
    OPENSSL_free(der);
    AVOW_NONCERSP_ASN1_free(r);
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    ASN1_OBJECT_free(o);
    return itav;
}
