/*
 * PKCS#10 (RFC 2986) with the id-aa-attestation attribute: parse, and build
 * signed through an avow_signer over the DER CertificationRequestInfo.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/x509_int.h"
#include "formats/request_int.h"

avow_err avow__csr_parse(avow_request *r, unsigned flags, avow_diag *diag)
{
    const unsigned char *q = r->der.ptr;
    r->req = d2i_X509_REQ(NULL, &q, (long)r->der.len);
    if (r->req == NULL)
        return avow__fail_ossl(diag, avow__d2i_reason(), "CertificationRequest", "cannot decode");
    /* OpenSSL keeps the CRI as read; re-encoding checks the outer layers and the whole length. */
    unsigned char *again = NULL;
    int alen = i2d_X509_REQ(r->req, &again);
    int same = alen > 0 && (size_t)alen == r->der.len && memcmp(again, r->der.ptr, r->der.len) == 0;
    OPENSSL_free(again);
    if (!same)
        return avow__fail(diag, AVOW_ERR_NOT_DER, "CertificationRequest",
                          "not DER: the canonical encoding differs");
    if (X509_REQ_get_version(r->req) != X509_REQ_VERSION_1)
        return avow__fail(diag, AVOW_ERR_VERSION, "CertificationRequestInfo.version",
                          "version %ld, expected 0 (v1)", X509_REQ_get_version(r->req));

    EVP_PKEY *pub = X509_REQ_get_pubkey(r->req);
    if (pub == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_BAD_SPKI, "CertificationRequestInfo.subjectPKInfo",
                               "cannot read the public key");
    unsigned char *spki = NULL;
    int spki_len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(r->req), &spki);
    if (spki_len <= 0) {
        EVP_PKEY_free(pub);
        return avow__fail_ossl(diag, AVOW_ERR_BAD_SPKI, "CertificationRequestInfo.subjectPKInfo",
                               "cannot read the public key");
    }
    avow_err rc = avow__request_set_key(r, pub, spki, (size_t)spki_len, diag);
    OPENSSL_free(spki);
    if (rc != AVOW_OK)
        return rc;

    /* Proof of possession: exactly what `openssl req -verify` checks. */
    int ok = X509_REQ_verify(r->req, r->pub);
    if (ok > 0) {
        avow__request_set_pop(r, AVOW_OK, "self-signature verify OK");
    } else {
        unsigned long e = ERR_peek_error();
        char detail[160];
        snprintf(detail, sizeof(detail), "Certificate request self-signature verify failure%s%s",
                 e != 0 ? ": " : "", e != 0 ? ERR_reason_error_string(e) : "");
        avow__request_set_pop(r, AVOW_ERR_POP, detail);
        avow__ossl_clear();
    }

    ASN1_OBJECT *oid = avow__attestation_oid();
    if (oid == NULL)
        return AVOW_ERR_NOMEM;
    int found = X509_REQ_get_attr_by_OBJ(r->req, oid, -1);
    int second = found >= 0 ? X509_REQ_get_attr_by_OBJ(r->req, oid, found) : -1;
    if (second >= 0) {
        ASN1_OBJECT_free(oid);
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, "CertificationRequestInfo.attributes",
                          "id-aa-attestation appears at %d and %d", found, second);
    }
    ASN1_OBJECT_free(oid);
    if (found < 0) {
        if (flags & AVOW_REQUEST_ALLOW_NONE)
            return AVOW_OK;
        return avow__fail(diag, AVOW_ERR_NO_ATTESTATION, "CertificationRequestInfo.attributes",
                          "no id-aa-attestation attribute");
    }
    X509_ATTRIBUTE *a = X509_REQ_get_attr(r->req, found);
    int nv = X509_ATTRIBUTE_count(a);
    if (nv == 0)
        return avow__fail(diag, AVOW_ERR_EMPTY, "attributes.id-aa-attestation.values",
                          "attribute has no value");
    if (nv > 1)
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, "attributes.id-aa-attestation.values",
                          "attribute holds %d values, exactly one AttestationBundle is allowed",
                          nv);
    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
    if (t == NULL || t->type != V_ASN1_SEQUENCE)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "attributes.id-aa-attestation.values[0]",
                          "value is not a SEQUENCE");
    return avow__request_take_bundle(r, ASN1_STRING_get0_data(t->value.sequence),
                                     (size_t)ASN1_STRING_length(t->value.sequence), diag);
}

avow_err avow__csr_build(const avow_request_builder *b, const avow_buf *bundle, avow_signer *s,
                         avow_buf *der, avow_diag *diag)
{
    avow_err rc = AVOW_ERR_CRYPTO;
    X509_REQ *req = X509_REQ_new();
    ASN1_OBJECT *oid = avow__attestation_oid();
    X509_ALGOR *alg = NULL;
    ASN1_BIT_STRING *bits = NULL;
    avow_buf algder = {0}, sig = {0};
    unsigned char *tbs = NULL;
    if (req == NULL || oid == NULL) {
        rc = AVOW_ERR_NOMEM;
        goto done;
    }
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
        !X509_REQ_set_subject_name(req, b->subject) ||
        !X509_REQ_set_pubkey(req, avow_signer_get0_pubkey(s))) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "CertificationRequestInfo", "cannot fill");
        goto done;
    }
    if (bundle->len > INT32_MAX ||
        !X509_REQ_add1_attr_by_OBJ(req, oid, V_ASN1_SEQUENCE, bundle->ptr, (int)bundle->len)) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "attributes", "cannot add id-aa-attestation");
        goto done;
    }
    if (b->sans != NULL) {
        /* extensionRequest (PKCS#9) beside id-aa-attestation: what CAs and `openssl req` read. */
        X509_EXTENSION *e = NULL;
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        rc = exts != NULL ? avow__san_ext(b->sans, X509_NAME_entry_count(b->subject) == 0, &e, diag)
                          : AVOW_ERR_NOMEM;
        if (rc == AVOW_OK && sk_X509_EXTENSION_push(exts, e) <= 0) {
            X509_EXTENSION_free(e);
            rc = AVOW_ERR_NOMEM;
        }
        if (rc == AVOW_OK && !X509_REQ_add_extensions(req, exts))
            rc =
                avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "attributes", "cannot add extensionRequest");
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        if (rc != AVOW_OK)
            goto done;
    }
    rc = avow_sigalg_to_der(avow_signer_alg(s), &algder);
    if (rc != AVOW_OK) {
        rc = avow__fail(diag, rc, "signatureAlgorithm", "signer algorithm has no identifier");
        goto done;
    }
    const unsigned char *p = algder.ptr;
    alg = d2i_X509_ALGOR(NULL, &p, (long)algder.len);
    if (alg == NULL || !X509_REQ_set1_signature_algo(req, alg)) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signatureAlgorithm", "cannot set");
        goto done;
    }
    int tlen = i2d_re_X509_REQ_tbs(req, &tbs);
    if (tlen <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "CertificationRequestInfo", "cannot encode");
        goto done;
    }
    rc = avow_signer_sign(s, tbs, (size_t)tlen, &sig, diag);
    if (rc != AVOW_OK)
        goto done;
    bits = ASN1_BIT_STRING_new();
    if (bits == NULL || sig.len > INT32_MAX || !ASN1_BIT_STRING_set(bits, sig.ptr, (int)sig.len)) {
        rc = AVOW_ERR_NOMEM;
        goto done;
    }
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    X509_REQ_set0_signature(req, bits);
    bits = NULL;
    unsigned char *outp = NULL;
    int olen = i2d_X509_REQ(req, &outp);
    if (olen <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "CertificationRequest", "cannot encode");
        goto done;
    }
    der->ptr = outp;
    der->len = (size_t)olen;
    rc = AVOW_OK;
done:
    OPENSSL_free(tbs);
    avow_buf_free(&sig);
    avow_buf_free(&algder);
    ASN1_BIT_STRING_free(bits);
    X509_ALGOR_free(alg);
    ASN1_OBJECT_free(oid);
    X509_REQ_free(req);
    avow__ossl_clear();
    return rc;
}
