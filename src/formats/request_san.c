/*
 * The subjectAltName a request asks for: read from PKCS#10's
 * extensionRequest attribute or the CRMF template's extensions, as strictly
 * as the attestation beside it, for a CA that copies it (avow/ca.h).
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/x509_int.h"
#include "formats/request_int.h"

/* The extensions of a PKCS#10 extensionRequest (RFC 2985 5.4.2); *out NULL when absent. */
static avow_err csr_exts(X509_REQ *req, STACK_OF(X509_EXTENSION) * *out, avow_diag *diag)
{
    static const char field[] = "CertificationRequestInfo.attributes.extensionRequest";
    *out = NULL;
    int i = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1);
    if (i < 0)
        return AVOW_OK;
    int j = X509_REQ_get_attr_by_NID(req, NID_ext_req, i);
    if (j >= 0)
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, field, "appears at %d and %d", i, j);
    X509_ATTRIBUTE *a = X509_REQ_get_attr(req, i);
    int nv = X509_ATTRIBUTE_count(a);
    if (nv != 1)
        return avow__fail(diag, nv == 0 ? AVOW_ERR_EMPTY : AVOW_ERR_DUP_ATTRIBUTE, field,
                          "holds %d values, exactly one is allowed", nv);
    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
    if (t == NULL || t->type != V_ASN1_SEQUENCE)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, field, "value is not a SEQUENCE");
    const unsigned char *p = ASN1_STRING_get0_data(t->value.sequence), *q = p;
    size_t len = (size_t)ASN1_STRING_length(t->value.sequence);
    avow_err rc = avow__der_check(p, len, 16);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, field, "value is not DER");
    STACK_OF(X509_EXTENSION) *exts = d2i_X509_EXTENSIONS(NULL, &q, (long)len);
    if (exts == NULL || q != p + len) {
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        ERR_clear_error();
        return avow__fail(diag, AVOW_ERR_MALFORMED, field, "value is not one Extensions");
    }
    *out = exts;
    return AVOW_OK;
}

avow_err avow_request_get1_sans(const avow_request *r, GENERAL_NAMES **out, avow_diag *diag)
{
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "san", "no request or no output");
    *out = NULL;
    if (r->req != NULL) {
        STACK_OF(X509_EXTENSION) *exts = NULL;
        avow_err rc = csr_exts(r->req, &exts, diag);
        if (rc == AVOW_OK && exts != NULL)
            rc = avow__san_from_exts(exts, "extensionRequest", out, diag);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        return rc;
    }
    if (r->crmf != NULL) {
        const STACK_OF(X509_EXTENSION) *exts =
            OSSL_CRMF_CERTTEMPLATE_get0_extensions(OSSL_CRMF_MSG_get0_tmpl(r->crmf));
        return exts != NULL ? avow__san_from_exts(exts, "certTemplate.extensions", out, diag)
                            : AVOW_OK;
    }
    return AVOW_OK;
}
