/* avow_request: decoding dispatch, accessors and the builder common to PKCS#10 and CRMF. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/request_int.h"

const char *avow_bundle_version_name(avow_bundle_version v)
{
    switch (v) {
    case AVOW_BUNDLE_LATEST:
        return "latest (-16..-29 AttestationBundle)";
    case AVOW_BUNDLE_DRAFT15:
        return "-15 (EvidenceBundles with hint)";
    case AVOW_BUNDLE_HINTED:
        return "pre -16 (one EvidenceBundle with hint)";
    }
    return NULL;
}

const char *avow_request_kind_name(avow_request_kind k)
{
    switch (k) {
    case AVOW_REQUEST_PKCS10:
        return "pkcs10";
    case AVOW_REQUEST_CRMF:
        return "crmf";
    case AVOW_REQUEST_AUTO:
        break;
    }
    return NULL;
}

static int has_label(const uint8_t *in, size_t len, const char *label)
{
    char line[80];
    int n = snprintf(line, sizeof(line), "-----BEGIN %s-----", label);
    if (n <= 0 || (size_t)n >= sizeof(line) || (size_t)n > len)
        return 0;
    for (size_t i = 0; i + (size_t)n <= len; i++)
        if (memcmp(in + i, line, (size_t)n) == 0)
            return 1;
    return 0;
}

/* Tag of the first TLV inside the constructed TLV at p (0 when there is none). */
static uint8_t first_inner_tag(const uint8_t *p, size_t len)
{
    uint8_t tag, inner;
    size_t h, n, ih, in;
    if (avow__der_header(p, len, &tag, &h, &n) != AVOW_OK || !(tag & 0x20) ||
        avow__der_header(p + h, n, &inner, &ih, &in) != AVOW_OK)
        return 0;
    return inner;
}

/*
 * Which decoder a DER request goes to, from its shape:
 *   PKCS#10  SEQ { CertificationRequestInfo SEQ { INTEGER, ... }, AlgorithmIdentifier, BIT STRING }
 *   CRMF     SEQ { certReq SEQ { certReqId INTEGER, ... }, [popo [0..3]], [regInfo SEQ] }
 * AUTO when it is neither (*why then says what it looks like); PKCS#10 when
 * the framing itself is bad, so that decoder names the broken header.
 */
static avow_request_kind shape_kind(const uint8_t *der, size_t len, const char **why)
{
    uint8_t tag, tags[4] = {0}, first_inner = 0;
    size_t h, n;
    *why = "";
    if (avow__der_header(der, len, &tag, &h, &n) != AVOW_OK || tag != 0x30)
        return AVOW_REQUEST_PKCS10;
    const uint8_t *p = der + h;
    size_t left = n;
    int count = 0;
    while (left > 0) {
        size_t ch, cn;
        if (avow__der_header(p, left, &tag, &ch, &cn) != AVOW_OK)
            return AVOW_REQUEST_PKCS10;
        if (count == 0)
            first_inner = first_inner_tag(p, ch + cn);
        if (count < 4)
            tags[count] = tag;
        count++;
        p += ch + cn;
        left -= ch + cn;
    }
    if (count == 3 && tags[0] == 0x30 && tags[1] == 0x30 && tags[2] == 0x03) {
        if (first_inner == 0x02)
            return AVOW_REQUEST_PKCS10;
        if (first_inner == 0xa0) {
            *why = " (it has the shape of an X.509 certificate)";
            return AVOW_REQUEST_AUTO;
        }
    }
    if (count >= 1 && count <= 3 && tags[0] == 0x30 && first_inner == 0x02) {
        int ok = 1;
        for (int i = 1; i < count; i++)
            ok = ok && (tags[i] == 0x30 ||
                        (i == 1 && (tags[i] == 0x80 || (tags[i] >= 0xa1 && tags[i] <= 0xa3))));
        if (ok)
            return AVOW_REQUEST_CRMF;
    }
    if (count >= 1 && tags[0] == 0x30 && first_inner == 0x30)
        *why = " (a CertReqMessages list? give one CertReqMsg)";
    return AVOW_REQUEST_AUTO;
}

avow_err avow_request_decode(const uint8_t *in, size_t len, avow_request_kind kind, unsigned flags,
                             avow_request **out, avow_diag *diag)
{
    if (out == NULL || in == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "input", "no input or no output pointer");
    *out = NULL;
    if (len > AVOW_REQUEST_MAX_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "request", "%zu bytes, limit %u", len,
                          AVOW_REQUEST_MAX_SIZE);
    const char *label = NULL;
    if (has_label(in, len, AVOW_CRMF_PEM_LABEL)) {
        label = AVOW_CRMF_PEM_LABEL;
        if (kind == AVOW_REQUEST_AUTO)
            kind = AVOW_REQUEST_CRMF;
    } else if (has_label(in, len, AVOW_CSR_PEM_LABEL)) {
        label = AVOW_CSR_PEM_LABEL;
    } else if (has_label(in, len, AVOW_CSR_PEM_LABEL_NEW)) {
        label = AVOW_CSR_PEM_LABEL_NEW;
    } else if (len >= 11 && memcmp(in, "-----BEGIN ", 11) == 0) {
        label = kind == AVOW_REQUEST_CRMF ? AVOW_CRMF_PEM_LABEL
                                          : AVOW_CSR_PEM_LABEL; /* fails on the label */
    }
    if (label != NULL && kind == AVOW_REQUEST_AUTO)
        kind = AVOW_REQUEST_PKCS10;

    avow_request *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return AVOW_ERR_NOMEM;
    avow_err rc = avow_unarmor(in, len, label, AVOW_REQUEST_MAX_SIZE, &r->der, diag);
    if (rc != AVOW_OK)
        goto fail;
    if (kind == AVOW_REQUEST_AUTO) {
        const char *why = "";
        kind = shape_kind(r->der.ptr, r->der.len, &why);
        if (kind == AVOW_REQUEST_AUTO) {
            rc = avow__fail(diag, AVOW_ERR_MALFORMED, "request",
                            "neither a PKCS#10 CertificationRequest nor a CRMF CertReqMsg%s", why);
            goto fail;
        }
    }
    r->kind = kind;

    uint8_t tag;
    size_t h, n;
    rc = avow__der_header(r->der.ptr, r->der.len, &tag, &h, &n);
    if (rc != AVOW_OK) {
        rc = avow__fail(diag, rc, "request", "outer SEQUENCE: %s", avow_strerror(rc));
        goto fail;
    }
    if (tag != 0x30) {
        rc = avow__fail(diag, AVOW_ERR_WRONG_TAG, "request", "expected SEQUENCE, found tag 0x%02x",
                        tag);
        goto fail;
    }
    if (h + n != r->der.len) {
        rc = avow__fail(diag, AVOW_ERR_TRAILING, "request", "%zu bytes after the request",
                        r->der.len - h - n);
        goto fail;
    }
    rc = kind == AVOW_REQUEST_CRMF ? avow__crmf_parse(r, flags, diag)
                                   : avow__csr_parse(r, flags, diag);
    if (rc != AVOW_OK)
        goto fail;
    avow__ossl_clear();
    *out = r;
    return AVOW_OK;
fail:
    avow_request_free(r);
    avow__ossl_clear();
    return rc;
}

void avow_request_free(avow_request *r)
{
    if (r == NULL)
        return;
    avow_buf_free(&r->der);
    X509_REQ_free(r->req);
    OSSL_CRMF_MSG_free(r->crmf);
    EVP_PKEY_free(r->pub);
    avow_buf_free(&r->spki);
    avow__bundle_clear(&r->bundle);
    OPENSSL_free(r);
}

avow_err avow__request_take_bundle(avow_request *r, const uint8_t *der, size_t len, avow_diag *diag)
{
    return avow__bundle_decode(der, len, &r->bundle, diag);
}

avow_err avow__request_set_key(avow_request *r, EVP_PKEY *pub, const uint8_t *spki, size_t len,
                               avow_diag *diag)
{
    /* The SPKI as the request carries it: encoding the key again would go through
     * OpenSSL 3's encoder, which costs as much as a signature check. */
    uint8_t *p = avow__memdup(spki, len);
    if (p == NULL) {
        EVP_PKEY_free(pub);
        return avow__fail(diag, AVOW_ERR_NOMEM, "subjectPKInfo", "out of memory");
    }
    r->pub = pub;
    r->spki.ptr = p;
    r->spki.len = len;
    return AVOW_OK;
}

void avow__request_set_pop(avow_request *r, avow_err status, const char *detail)
{
    r->pop = status;
    avow__strlcpy(r->pop_detail, detail != NULL ? detail : "", sizeof(r->pop_detail));
}

avow_request_kind avow_request_get_kind(const avow_request *r)
{
    return r != NULL ? r->kind : AVOW_REQUEST_AUTO;
}

avow_bundle_version avow_request_get_version(const avow_request *r)
{
    return r != NULL ? r->bundle.version : (avow_bundle_version)0;
}

avow_view avow_request_der(const avow_request *r)
{
    avow_view v = {NULL, 0};
    if (r != NULL) {
        v.ptr = r->der.ptr;
        v.len = r->der.len;
    }
    return v;
}

const X509_NAME *avow_request_get0_subject(const avow_request *r)
{
    if (r == NULL)
        return NULL;
    if (r->req != NULL)
        return X509_REQ_get_subject_name(r->req);
    if (r->crmf != NULL)
        return OSSL_CRMF_CERTTEMPLATE_get0_subject(OSSL_CRMF_MSG_get0_tmpl(r->crmf));
    return NULL;
}

avow_err avow_request_subject_text(const avow_request *r, avow_buf *out)
{
    if (r == NULL || out == NULL)
        return AVOW_ERR_ARG;
    const X509_NAME *name = avow_request_get0_subject(r);
    if (name != NULL)
        return avow_name_text(name, out);
    out->ptr = OPENSSL_zalloc(1);
    out->len = 0;
    return out->ptr != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

EVP_PKEY *avow_request_get0_pubkey(const avow_request *r)
{
    return r != NULL ? r->pub : NULL;
}

avow_view avow_request_spki(const avow_request *r)
{
    avow_view v = {NULL, 0};
    if (r != NULL) {
        v.ptr = r->spki.ptr;
        v.len = r->spki.len;
    }
    return v;
}

size_t avow_request_statement_count(const avow_request *r)
{
    return r != NULL ? r->bundle.nstmts : 0;
}

const avow_statement *avow_request_get0_statement(const avow_request *r, size_t i)
{
    return r != NULL && i < r->bundle.nstmts ? &r->bundle.stmts[i] : NULL;
}

STACK_OF(X509) * avow_request_get0_certs(const avow_request *r)
{
    if (r == NULL || r->bundle.certs == NULL || sk_X509_num(r->bundle.certs) <= 0)
        return NULL;
    return r->bundle.certs;
}

size_t avow_request_other_cert_count(const avow_request *r)
{
    return r != NULL ? r->bundle.nothers : 0;
}

const avow_other_cert *avow_request_get0_other_cert(const avow_request *r, size_t i)
{
    return r != NULL && i < r->bundle.nothers ? &r->bundle.others[i] : NULL;
}

avow_err avow_request_pop(const avow_request *r, const char **detail)
{
    if (r == NULL)
        return AVOW_ERR_ARG;
    if (detail != NULL)
        *detail = r->pop_detail;
    return r->pop;
}

X509_REQ *avow_request_get0_x509_req(const avow_request *r)
{
    return r != NULL ? r->req : NULL;
}

OSSL_CRMF_MSG *avow_request_get0_crmf(const avow_request *r)
{
    return r != NULL ? r->crmf : NULL;
}

/* --- builder --- */

avow_err avow_request_builder_new(avow_request_kind kind, avow_request_builder **out)
{
    if (out == NULL || (kind != AVOW_REQUEST_PKCS10 && kind != AVOW_REQUEST_CRMF))
        return AVOW_ERR_ARG;
    *out = NULL;
    avow_request_builder *b = OPENSSL_zalloc(sizeof(*b));
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    b->kind = kind;
    b->version = AVOW_BUNDLE_LATEST;
    b->certs = sk_X509_new_null();
    b->subject = X509_NAME_new();
    if (b->certs == NULL || b->subject == NULL) {
        avow_request_builder_free(b);
        return AVOW_ERR_NOMEM;
    }
    *out = b;
    return AVOW_OK;
}

void avow_request_builder_free(avow_request_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->nstmts; i++) {
        avow_buf_free(&b->stmts[i].der);
        OPENSSL_free(b->stmts[i].hint);
    }
    OPENSSL_free(b->stmts);
    sk_X509_pop_free(b->certs, X509_free);
    X509_NAME_free(b->subject);
    GENERAL_NAMES_free(b->sans);
    OPENSSL_free(b);
}

avow_err avow_request_builder_set_subject(avow_request_builder *b, const char *text,
                                          avow_diag *diag)
{
    if (b == NULL || text == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "subject", "no subject");
    X509_NAME *name = NULL;
    avow_err rc = avow_name_parse(text, &name, diag);
    if (rc != AVOW_OK)
        return rc;
    X509_NAME_free(b->subject);
    b->subject = name;
    return AVOW_OK;
}

avow_err avow_request_builder_add_san(avow_request_builder *b, const char *text, avow_diag *diag)
{
    if (b == NULL || text == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "san", "no builder or no list");
    if (b->sans == NULL && (b->sans = GENERAL_NAMES_new()) == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "san", "out of memory");
    return avow_san_parse(text, b->sans, diag);
}

avow_err avow_request_builder_set_version(avow_request_builder *b, avow_bundle_version v)
{
    if (b == NULL || avow_bundle_version_name(v) == NULL)
        return AVOW_ERR_ARG;
    b->version = v;
    return AVOW_OK;
}

static avow_err push_stmt(avow_request_builder *b, const avow_oid *type, const uint8_t *der,
                          size_t len, avow_diag *diag)
{
    if (b->nstmts >= AVOW_REQUEST_MAX_STATEMENTS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "AttestationBundle.attestations",
                          "limit of %u statements", AVOW_REQUEST_MAX_STATEMENTS);
    avow_err rc = avow__der_check(der, len, 64);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "AttestationStatement.stmt", "stmt is not one DER value: %s",
                          avow_strerror(rc));
    if (b->nstmts == b->capstmts) {
        size_t cap = b->capstmts ? b->capstmts * 2 : 4;
        avow__stmt_in *n = OPENSSL_realloc(b->stmts, cap * sizeof(*n));
        if (n == NULL)
            return AVOW_ERR_NOMEM;
        b->stmts = n;
        b->capstmts = cap;
    }
    avow__stmt_in *s = &b->stmts[b->nstmts];
    memset(s, 0, sizeof(*s));
    s->type = *type;
    s->der.ptr = avow__memdup(der, len);
    if (s->der.ptr == NULL)
        return AVOW_ERR_NOMEM;
    s->der.len = len;
    b->nstmts++;
    return AVOW_OK;
}

avow_err avow_request_builder_add_statement(avow_request_builder *b, const char *type_oid,
                                            const uint8_t *der, size_t len, avow_diag *diag)
{
    if (b == NULL || type_oid == NULL || der == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "missing type or stmt");
    avow_oid oid;
    if (avow_oid_from_text(&oid, type_oid) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_OID, "AttestationStatement.type", "'%.60s' is not an OID",
                          type_oid);
    return push_stmt(b, &oid, der, len, diag);
}

avow_err avow_request_builder_add_evidence(avow_request_builder *b, const avow_profile *profile,
                                           const uint8_t *der, size_t len, avow_diag *diag)
{
    if (b == NULL || der == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "no Evidence");
    avow_profile def;
    if (profile == NULL) {
        avow_profile_default(&def);
        profile = &def;
    }
    return push_stmt(b, &profile->evidence_arc, der, len, diag);
}

/* tag || length || data into a new buffer. */
static avow_err wrap(uint8_t tag, const uint8_t *data, size_t len, avow_buf *out)
{
    uint8_t hdr[6];
    size_t h = 0;
    hdr[h++] = tag;
    if (len < 0x80) {
        hdr[h++] = (uint8_t)len;
    } else {
        size_t n = 0;
        for (size_t v = len; v > 0; v >>= 8)
            n++;
        if (n > 4)
            return AVOW_ERR_TOO_LARGE;
        hdr[h++] = (uint8_t)(0x80 | n);
        for (size_t i = n; i > 0; i--)
            hdr[h++] = (uint8_t)(len >> (8 * (i - 1)));
    }
    out->ptr = OPENSSL_malloc(h + len + 1);
    if (out->ptr == NULL)
        return AVOW_ERR_NOMEM;
    memcpy(out->ptr, hdr, h);
    if (len > 0)
        memcpy(out->ptr + h, data, len);
    out->len = h + len;
    return AVOW_OK;
}

avow_err avow_request_builder_add_octets(avow_request_builder *b, const char *type_oid,
                                         const uint8_t *data, size_t len, avow_diag *diag)
{
    if (b == NULL || type_oid == NULL || (data == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "missing type or data");
    avow_buf w = {0};
    avow_err rc = wrap(0x04, data, len, &w);
    if (rc == AVOW_OK)
        rc = avow_request_builder_add_statement(b, type_oid, w.ptr, w.len, diag);
    avow_buf_free(&w);
    return rc;
}

avow_err avow_request_builder_add_cmw(avow_request_builder *b, int json, const uint8_t *data,
                                      size_t len, avow_diag *diag)
{
    if (b == NULL || data == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "empty CMW");
    avow_buf w = {0};
    avow_err rc = wrap(json ? 0x0c : 0x04, data, len, &w);
    if (rc == AVOW_OK)
        rc = avow_request_builder_add_statement(b, AVOW_OID_CMW, w.ptr, w.len, diag);
    avow_buf_free(&w);
    return rc;
}

static avow_err avow_request_builder_set_hint_(avow_request_builder *b, size_t i, const char *hint)
{
    if (b == NULL || i >= b->nstmts || hint == NULL)
        return AVOW_ERR_ARG;
    size_t n = strlen(hint);
    char *c = OPENSSL_malloc(n + 1);
    if (c == NULL)
        return AVOW_ERR_NOMEM;
    memcpy(c, hint, n + 1);
    OPENSSL_free(b->stmts[i].hint);
    b->stmts[i].hint = c;
    return AVOW_OK;
}

avow_err avow_request_builder_set_hint(avow_request_builder *b, size_t i, const char *hint,
                                       avow_diag *diag)
{
    avow_err rc = avow_request_builder_set_hint_(b, i, hint);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "hint", "%s",
                      rc == AVOW_ERR_ARG ? "no builder or hint, or no statement of that index"
                                         : avow_strerror(rc));
}

static avow_err avow_request_builder_add_cert_(avow_request_builder *b, X509 *cert)
{
    if (b == NULL || cert == NULL)
        return AVOW_ERR_ARG;
    if ((size_t)sk_X509_num(b->certs) >= AVOW_REQUEST_MAX_CERTS)
        return AVOW_ERR_TOO_LARGE;
    if (!X509_up_ref(cert))
        return AVOW_ERR_INTERNAL;
    if (!sk_X509_push(b->certs, cert)) {
        X509_free(cert);
        return AVOW_ERR_NOMEM;
    }
    return AVOW_OK;
}

avow_err avow_request_builder_add_cert(avow_request_builder *b, X509 *cert, avow_diag *diag)
{
    avow_err rc = avow_request_builder_add_cert_(b, cert);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "certs", "%s",
                      rc == AVOW_ERR_TOO_LARGE ? "more certificates than a request may carry"
                      : rc == AVOW_ERR_ARG     ? "no builder or certificate"
                                               : avow_strerror(rc));
}

avow_err avow_request_builder_sign(avow_request_builder *b, avow_signer *signer, avow_buf *der,
                                   avow_diag *diag)
{
    if (b == NULL || signer == NULL || der == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "builder", "missing builder, signer or output");
    der->ptr = NULL;
    der->len = 0;
    avow_buf bundle = {0};
    avow_err rc = avow__bundle_encode(b->version, b->stmts, b->nstmts, b->certs, &bundle, diag);
    if (rc != AVOW_OK)
        return rc;
    rc = b->kind == AVOW_REQUEST_CRMF ? avow__crmf_build(b, &bundle, signer, der, diag)
                                      : avow__csr_build(b, &bundle, signer, der, diag);
    avow_buf_free(&bundle);
    avow__ossl_clear();
    return rc;
}

avow_err avow_request_to_pem(avow_request_kind kind, const uint8_t *der, size_t len, avow_buf *pem)
{
    if (kind != AVOW_REQUEST_PKCS10 && kind != AVOW_REQUEST_CRMF)
        return AVOW_ERR_ARG;
    return avow_armor(der, len,
                      kind == AVOW_REQUEST_CRMF ? AVOW_CRMF_PEM_LABEL : AVOW_CSR_PEM_LABEL, pem);
}
