/*
 * CRMF (RFC 4211) CertReqMsg with the id-aa-attestation extension in its
 * CertTemplate. The POP is a POPOSigningKey over the DER CertRequest
 * (RFC 4211 4.1, poposkInput absent: the template carries subject and
 * publicKey), made through an avow_signer, so token keys work too: avow
 * writes the POPOSigningKey itself instead of OSSL_CRMF_MSG_create_popo,
 * which needs the private EVP_PKEY.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/x509_int.h"
#include "formats/request_int.h"

typedef struct tlv {
    const uint8_t *p; /* start of the TLV */
    size_t len;       /* whole TLV */
    const uint8_t *c; /* content */
    size_t clen;
    uint8_t tag;
} tlv;

/* Next TLV of the content [*p, end); 0 at the end or on bad framing. */
static int next(const uint8_t **p, const uint8_t *end, tlv *t)
{
    size_t h, n;
    if (*p >= end || avow__der_header(*p, (size_t)(end - *p), &t->tag, &h, &n) != AVOW_OK)
        return 0;
    t->p = *p;
    t->len = h + n;
    t->c = *p + h;
    t->clen = n;
    *p += h + n;
    return 1;
}

static void check_pop(avow_request *r, const tlv *certreq, const uint8_t *after, const uint8_t *end)
{
    tlv popo;
    if (!next(&after, end, &popo)) {
        avow__request_set_pop(r, AVOW_ERR_POP, "no proof of possession in the CertReqMsg");
        return;
    }
    if (popo.tag == 0x80 || popo.tag == 0xa0) {
        avow__request_set_pop(r, AVOW_ERR_POP, "raVerified: the message itself proves nothing");
        return;
    }
    if (popo.tag != 0xa1) {
        avow__request_set_pop(r, AVOW_ERR_POP,
                              "not a signature POP (keyEncipherment or keyAgreement)");
        return;
    }
    const uint8_t *q = popo.c, *qe = popo.c + popo.clen;
    tlv alg, sig;
    if (!next(&q, qe, &alg)) {
        avow__request_set_pop(r, AVOW_ERR_POP, "empty POPOSigningKey");
        return;
    }
    if (alg.tag == 0xa0) {
        avow__request_set_pop(r, AVOW_ERR_POP, "POPOSigningKey with poposkInput is not supported");
        return;
    }
    if (alg.tag != 0x30 || !next(&q, qe, &sig) || sig.tag != 0x03 || sig.clen < 1 ||
        sig.c[0] != 0 || q != qe) {
        avow__request_set_pop(r, AVOW_ERR_POP, "malformed POPOSigningKey");
        return;
    }
    avow_sigalg a;
    avow_diag d;
    avow_diag_clear(&d);
    if (avow_sigalg_from_der(alg.p, alg.len, &a, &d) != AVOW_OK) {
        avow__request_set_pop(r, AVOW_ERR_POP,
                              d.detail[0] ? d.detail : "unsupported POP algorithm");
        return;
    }
    avow_err rc =
        avow_sigalg_verify(a, r->pub, certreq->p, certreq->len, sig.c + 1, sig.clen - 1, &d);
    if (rc == AVOW_OK)
        avow__request_set_pop(r, AVOW_OK, "POPOSigningKey verify OK");
    else
        avow__request_set_pop(r, AVOW_ERR_POP,
                              d.detail[0] ? d.detail : "POPOSigningKey does not verify");
    avow__ossl_clear();
}

avow_err avow__crmf_parse(avow_request *r, unsigned flags, avow_diag *diag)
{
    const unsigned char *q = r->der.ptr;
    r->crmf = d2i_OSSL_CRMF_MSG(NULL, &q, (long)r->der.len);
    if (r->crmf == NULL)
        return avow__fail_ossl(diag, avow__d2i_reason(), "CertReqMsg", "cannot decode");
    unsigned char *again = NULL;
    int alen = i2d_OSSL_CRMF_MSG(r->crmf, &again);
    int same = alen > 0 && (size_t)alen == r->der.len && memcmp(again, r->der.ptr, r->der.len) == 0;
    OPENSSL_free(again);
    if (!same)
        return avow__fail(diag, AVOW_ERR_NOT_DER, "CertReqMsg",
                          "not DER: the canonical encoding differs");

    /* OpenSSL 3.0 has no accessor for the template's publicKey: read [6] from the DER. */
    const uint8_t *p = r->der.ptr, *end = r->der.ptr + r->der.len;
    tlv outer, certreq, id, tmpl, f;
    if (!next(&p, end, &outer))
        return avow__fail(diag, AVOW_ERR_MALFORMED, "CertReqMsg", "bad framing");
    const uint8_t *o = outer.c, *oe = outer.c + outer.clen;
    if (!next(&o, oe, &certreq))
        return avow__fail(diag, AVOW_ERR_MALFORMED, "CertReqMsg.certReq", "missing");
    const uint8_t *c = certreq.c, *ce = certreq.c + certreq.clen;
    if (!next(&c, ce, &id) || !next(&c, ce, &tmpl) || tmpl.tag != 0x30)
        return avow__fail(diag, AVOW_ERR_MALFORMED, "CertReqMsg.certReq.certTemplate", "missing");
    const uint8_t *t = tmpl.c, *te = tmpl.c + tmpl.clen;
    int have_key = 0;
    while (next(&t, te, &f)) {
        if (f.tag != 0xa6)
            continue;
        uint8_t *copy = avow__memdup(f.p, f.len);
        if (copy == NULL)
            return AVOW_ERR_NOMEM;
        copy[0] = 0x30;
        const unsigned char *kp = copy;
        EVP_PKEY *pub = d2i_PUBKEY(NULL, &kp, (long)f.len);
        if (pub == NULL) {
            OPENSSL_free(copy);
            return avow__fail_ossl(diag, AVOW_ERR_BAD_SPKI, "certTemplate.publicKey",
                                   "cannot parse");
        }
        avow_err rc = avow__request_set_key(r, pub, copy, f.len, diag);
        OPENSSL_free(copy);
        if (rc != AVOW_OK)
            return rc;
        have_key = 1;
    }
    if (!have_key)
        return avow__fail(diag, AVOW_ERR_BAD_SPKI, "certTemplate.publicKey",
                          "the template has no public key");
    check_pop(r, &certreq, o, oe);

    ASN1_OBJECT *oid = avow__attestation_oid();
    if (oid == NULL)
        return AVOW_ERR_NOMEM;
    const X509_EXTENSIONS *exts =
        OSSL_CRMF_CERTTEMPLATE_get0_extensions(OSSL_CRMF_MSG_get0_tmpl(r->crmf));
    int found = X509v3_get_ext_by_OBJ(exts, oid, -1);
    int second = found >= 0 ? X509v3_get_ext_by_OBJ(exts, oid, found) : -1;
    if (second >= 0) {
        ASN1_OBJECT_free(oid);
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, "certTemplate.extensions",
                          "id-aa-attestation appears at %d and %d", found, second);
    }
    ASN1_OBJECT_free(oid);
    if (found < 0) {
        if (flags & AVOW_REQUEST_ALLOW_NONE)
            return AVOW_OK;
        return avow__fail(diag, AVOW_ERR_NO_ATTESTATION, "certTemplate.extensions",
                          "no id-aa-attestation extension");
    }
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(sk_X509_EXTENSION_value(exts, found));
    return avow__request_take_bundle(r, ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
                                     diag);
}

/* Tag and DER length into out, which holds 2 + sizeof(size_t) octets. */
static size_t put_header(uint8_t *out, uint8_t tag, size_t len)
{
    size_t h = 0;
    out[h++] = tag;
    if (len < 0x80) {
        out[h++] = (uint8_t)len;
        return h;
    }
    size_t n = 0;
    for (size_t v = len; v > 0; v >>= 8)
        n++;
    out[h++] = (uint8_t)(0x80 | n);
    for (size_t i = n; i > 0; i--)
        out[h++] = (uint8_t)(len >> (8 * (i - 1)));
    return h;
}

/* The unsigned CertReqMsg: template with the signer's key, the subject and id-aa-attestation. */
static avow_err unsigned_msg(const avow_request_builder *b, const avow_buf *bundle, avow_signer *s,
                             unsigned char **plain, int *plen, avow_diag *diag)
{
    avow_err rc = AVOW_ERR_NOMEM;
    OSSL_CRMF_MSG *msg = OSSL_CRMF_MSG_new();
    ASN1_OBJECT *oid = avow__attestation_oid();
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    const X509_NAME *subject = X509_NAME_entry_count(b->subject) > 0 ? b->subject : NULL;
    if (msg == NULL || oid == NULL || os == NULL)
        goto done;
    if (!OSSL_CRMF_MSG_set_certReqId(msg, 0) ||
        !OSSL_CRMF_CERTTEMPLATE_fill(OSSL_CRMF_MSG_get0_tmpl(msg), avow_signer_get0_pubkey(s),
                                     subject, NULL, NULL)) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certTemplate", "cannot fill");
        goto done;
    }
    if (bundle->len > INT32_MAX || !ASN1_OCTET_STRING_set(os, bundle->ptr, (int)bundle->len) ||
        (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) == NULL ||
        !OSSL_CRMF_MSG_push0_extension(msg, ext)) {
        X509_EXTENSION_free(ext);
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certTemplate.extensions",
                             "cannot add id-aa-attestation");
        goto done;
    }
    if (b->sans != NULL) {
        X509_EXTENSION *se = NULL;
        rc = avow__san_ext(b->sans, subject == NULL, &se, diag);
        if (rc != AVOW_OK)
            goto done;
        if (!OSSL_CRMF_MSG_push0_extension(msg, se)) {
            X509_EXTENSION_free(se);
            rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certTemplate.extensions",
                                 "cannot add subjectAltName");
            goto done;
        }
    }
    *plen = i2d_OSSL_CRMF_MSG(msg, plain);
    rc =
        *plen > 0 ? AVOW_OK : avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "CertReqMsg", "cannot encode");
done:
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    OSSL_CRMF_MSG_free(msg);
    return rc;
}

/*
 * SEQUENCE { certReq, popo [1] IMPLICIT POPOSigningKey { algorithmIdentifier,
 * signature BIT STRING }, rest } into *der, parsed back to be sure.
 */
static avow_err assemble(const tlv *certreq, const avow_buf *algder, const avow_buf *sig,
                         const uint8_t *rest, size_t restlen, avow_buf *der, avow_diag *diag)
{
    uint8_t h1[2 + sizeof(size_t)], h2[2 + sizeof(size_t)],
        h3[2 + sizeof(size_t)]; /* see put_header */
    size_t bitlen = sig->len + 1;
    size_t n1 = put_header(h1, 0x03, bitlen);
    size_t popolen = algder->len + n1 + bitlen;
    size_t n2 = put_header(h2, 0xa1, popolen);
    size_t total = certreq->len + n2 + popolen + restlen;
    size_t n3 = put_header(h3, 0x30, total);
    uint8_t *out = OPENSSL_malloc(n3 + total);
    if (out == NULL)
        return AVOW_ERR_NOMEM;
    uint8_t *w = out;
    memcpy(w, h3, n3), w += n3;
    memcpy(w, certreq->p, certreq->len), w += certreq->len;
    memcpy(w, h2, n2), w += n2;
    memcpy(w, algder->ptr, algder->len), w += algder->len;
    memcpy(w, h1, n1), w += n1;
    *w++ = 0;
    memcpy(w, sig->ptr, sig->len), w += sig->len;
    if (restlen > 0)
        memcpy(w, rest, restlen);
    const unsigned char *cp = out;
    OSSL_CRMF_MSG *check = d2i_OSSL_CRMF_MSG(NULL, &cp, (long)(n3 + total));
    int ok = check != NULL && cp == out + n3 + total;
    OSSL_CRMF_MSG_free(check);
    if (!ok) {
        OPENSSL_free(out);
        return avow__fail_ossl(diag, AVOW_ERR_INTERNAL, "CertReqMsg",
                               "assembled message does not parse");
    }
    der->ptr = out;
    der->len = n3 + total;
    return AVOW_OK;
}

avow_err avow__crmf_build(const avow_request_builder *b, const avow_buf *bundle, avow_signer *s,
                          avow_buf *der, avow_diag *diag)
{
    unsigned char *plain = NULL;
    int plen = 0;
    avow_buf algder = {0}, sig = {0};
    avow_err rc = unsigned_msg(b, bundle, s, &plain, &plen, diag);
    if (rc != AVOW_OK)
        goto done;
    const uint8_t *p = plain, *end = plain + plen;
    tlv outer, certreq;
    if (!next(&p, end, &outer) || (p = outer.c, !next(&p, outer.c + outer.clen, &certreq))) {
        rc = avow__fail(diag, AVOW_ERR_INTERNAL, "CertReqMsg", "cannot find certReq");
        goto done;
    }
    rc = avow_sigalg_to_der(avow_signer_alg(s), &algder);
    if (rc != AVOW_OK) {
        rc = avow__fail(diag, rc, "popo.algorithmIdentifier", "signer algorithm has no identifier");
        goto done;
    }
    rc = avow_signer_sign(s, certreq.p, certreq.len, &sig, diag);
    if (rc == AVOW_OK)
        rc = assemble(&certreq, &algder, &sig, p, (size_t)(outer.c + outer.clen - p), der, diag);
done:
    avow_buf_free(&sig);
    avow_buf_free(&algder);
    OPENSSL_free(plain);
    avow__ossl_clear();
    return rc;
}
