#include <string.h>

#include "formats/evidence_asn1.h"

/* The primitive functions of AVOW_RAW: a view in, the same octets out. */
static int raw_new(ASN1_VALUE **pval, const ASN1_ITEM *it)
{
    (void)it;
    AVOW_RAW *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return 0;
    r->type = -1;
    *pval = (ASN1_VALUE *)r;
    return 1;
}

static void raw_free(ASN1_VALUE **pval, const ASN1_ITEM *it)
{
    (void)it;
    OPENSSL_free(*pval);
    *pval = NULL;
}

static void raw_clear(ASN1_VALUE **pval, const ASN1_ITEM *it)
{
    (void)it;
    AVOW_RAW *r = (AVOW_RAW *)*pval;
    r->type = -1;
    r->p = NULL;
    r->len = 0;
}

static int raw_c2i(ASN1_VALUE **pval, const unsigned char *cont, int len, int utype,
                   char *free_cont, const ASN1_ITEM *it)
{
    /* OpenSSL hands over a buffer of its own only for BER it had to reassemble. */
    if (*free_cont)
        return 0;
    /* Embedded fields arrive allocated; an item of a SEQUENCE OF is made here. */
    if (*pval == NULL && !raw_new(pval, it))
        return 0;
    AVOW_RAW *r = (AVOW_RAW *)*pval;
    r->type = utype;
    r->p = cont;
    r->len = len;
    return 1;
}

static int raw_i2c(const ASN1_VALUE **pval, unsigned char *cont, int *putype, const ASN1_ITEM *it)
{
    const AVOW_RAW *r = (const AVOW_RAW *)*pval;
    if (r == NULL || r->type == -1)
        return -1; /* absent: an OPTIONAL value is left out */
    if (it->utype == V_ASN1_ANY)
        *putype = r->type;
    if (cont != NULL && r->len > 0)
        memcpy(cont, r->p, (size_t)r->len);
    return r->len;
}

static const ASN1_PRIMITIVE_FUNCS raw_funcs = {
    NULL, 0, raw_new, raw_free, raw_clear, raw_c2i, raw_i2c, NULL,
};

/* The template macros are laid out like the ASN.1 module they mirror. */
/* clang-format off */
ASN1_ITEM_start(AVOW_RAW_OID)
    ASN1_ITYPE_PRIMITIVE, V_ASN1_OBJECT, NULL, 0, &raw_funcs, 0, "AVOW_RAW_OID"
ASN1_ITEM_end(AVOW_RAW_OID)

ASN1_ITEM_start(AVOW_RAW_ANY)
    ASN1_ITYPE_PRIMITIVE, V_ASN1_ANY, NULL, 0, &raw_funcs, 0, "AVOW_RAW_ANY"
ASN1_ITEM_end(AVOW_RAW_ANY)

ASN1_ITEM_start(AVOW_RAW_SEQ)
    ASN1_ITYPE_PRIMITIVE, V_ASN1_SEQUENCE, NULL, 0, &raw_funcs, 0, "AVOW_RAW_SEQ"
ASN1_ITEM_end(AVOW_RAW_SEQ)

ASN1_SEQUENCE(AVOW_CLAIM_ASN1) = {
    ASN1_EMBED(AVOW_CLAIM_ASN1, type, AVOW_RAW_OID),
    ASN1_OPT_EMBED(AVOW_CLAIM_ASN1, value, AVOW_RAW_ANY),
} ASN1_SEQUENCE_END(AVOW_CLAIM_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_CLAIM_ASN1)

ASN1_SEQUENCE(AVOW_ELEMENT_ASN1) = {
    ASN1_EMBED(AVOW_ELEMENT_ASN1, type, AVOW_RAW_OID),
    ASN1_SEQUENCE_OF(AVOW_ELEMENT_ASN1, claims, AVOW_CLAIM_ASN1),
} ASN1_SEQUENCE_END(AVOW_ELEMENT_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_ELEMENT_ASN1)

ASN1_SEQUENCE(AVOW_TBS_ASN1) = {
    ASN1_SIMPLE(AVOW_TBS_ASN1, version, ASN1_INTEGER),
    ASN1_SEQUENCE_OF(AVOW_TBS_ASN1, elements, AVOW_ELEMENT_ASN1),
} ASN1_SEQUENCE_END(AVOW_TBS_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_TBS_ASN1)

ASN1_SEQUENCE(AVOW_SPKI_ASN1) = {
    ASN1_SIMPLE(AVOW_SPKI_ASN1, algorithm, X509_ALGOR),
    ASN1_SIMPLE(AVOW_SPKI_ASN1, key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(AVOW_SPKI_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_SPKI_ASN1)

ASN1_SEQUENCE(AVOW_SID_ASN1) = {
    ASN1_EXP_OPT(AVOW_SID_ASN1, key_id, ASN1_OCTET_STRING, 0),
    ASN1_EXP_OPT(AVOW_SID_ASN1, spki, AVOW_SPKI_ASN1, 1),
    ASN1_EXP_OPT_EMBED(AVOW_SID_ASN1, cert, AVOW_RAW_SEQ, 2),
} ASN1_SEQUENCE_END(AVOW_SID_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_SID_ASN1)

ASN1_SEQUENCE(AVOW_SIG_ASN1) = {
    ASN1_SIMPLE(AVOW_SIG_ASN1, sid, AVOW_SID_ASN1),
    ASN1_SIMPLE(AVOW_SIG_ASN1, alg, X509_ALGOR),
    ASN1_SIMPLE(AVOW_SIG_ASN1, value, ASN1_OCTET_STRING),
} ASN1_SEQUENCE_END(AVOW_SIG_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_SIG_ASN1)

ASN1_SEQUENCE(AVOW_EVIDENCE_ASN1) = {
    ASN1_SIMPLE(AVOW_EVIDENCE_ASN1, tbs, AVOW_TBS_ASN1),
    ASN1_SEQUENCE_OF(AVOW_EVIDENCE_ASN1, sigs, AVOW_SIG_ASN1),
    ASN1_IMP_SEQUENCE_OF_OPT(AVOW_EVIDENCE_ASN1, certs, AVOW_RAW_SEQ, 0),
} ASN1_SEQUENCE_END(AVOW_EVIDENCE_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_EVIDENCE_ASN1)

ASN1_SEQUENCE(AVOW_EVIDENCE_EXPLICIT_ASN1) = {
    ASN1_SIMPLE(AVOW_EVIDENCE_ASN1, tbs, AVOW_TBS_ASN1),
    ASN1_SEQUENCE_OF(AVOW_EVIDENCE_ASN1, sigs, AVOW_SIG_ASN1),
    ASN1_EXP_SEQUENCE_OF_OPT(AVOW_EVIDENCE_ASN1, certs, AVOW_RAW_SEQ, 0),
} ASN1_SEQUENCE_END_name(AVOW_EVIDENCE_ASN1, AVOW_EVIDENCE_EXPLICIT_ASN1)

ASN1_ITEM_TEMPLATE(AVOW_PURPOSES_ASN1) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, purposes, ASN1_OBJECT)
ASN1_ITEM_TEMPLATE_END(AVOW_PURPOSES_ASN1)
