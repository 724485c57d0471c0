/*
 * The csr-attestation attribute value: schema, strict decoding into avow's
 * views, and encoding. How the versions are told apart:
 *
 *   latest  AttestationBundle  = SEQ { SEQ OF { SEQ { OID, ANY } }, certs? }
 *   -15     EvidenceBundles    = SEQ OF { SEQ { SEQ OF { SEQ { OID, ANY, hint? } }, certs? } }
 *   hinted  EvidenceBundle     = SEQ { SEQ OF { SEQ { OID, ANY, hint } }, certs? }
 *
 * Both lists are SIZE (1..MAX), so the value always has a first-of-first-
 * of-first TLV: an OBJECT IDENTIFIER (the type of the first statement)
 * means one bundle, a SEQUENCE (the first EvidenceStatement) means the -15
 * list of bundles. Among single bundles, a statement with a third field
 * (the hint) marks the pre -16 shape. No guessing by trial decoding.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/bundle_asn1.h"

/* The template macros are laid out like the ASN.1 module they mirror. */
/* clang-format off */
ASN1_SEQUENCE(AVOW_STMT_ASN1) = {
    ASN1_SIMPLE(AVOW_STMT_ASN1, type, ASN1_OBJECT),
    ASN1_SIMPLE(AVOW_STMT_ASN1, stmt, ASN1_ANY),
    ASN1_OPT(AVOW_STMT_ASN1, hint, ASN1_ANY),
} ASN1_SEQUENCE_END(AVOW_STMT_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_STMT_ASN1)

ASN1_SEQUENCE(AVOW_OTHERCERT_ASN1) = {
    ASN1_SIMPLE(AVOW_OTHERCERT_ASN1, format, ASN1_OBJECT),
    ASN1_SIMPLE(AVOW_OTHERCERT_ASN1, cert, ASN1_ANY),
} ASN1_SEQUENCE_END(AVOW_OTHERCERT_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_OTHERCERT_ASN1)

ASN1_CHOICE(AVOW_CERTCHOICE_ASN1) = {
    ASN1_SIMPLE(AVOW_CERTCHOICE_ASN1, d.cert, X509),
    ASN1_IMP(AVOW_CERTCHOICE_ASN1, d.other, AVOW_OTHERCERT_ASN1, 3),
} ASN1_CHOICE_END(AVOW_CERTCHOICE_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_CERTCHOICE_ASN1)

ASN1_SEQUENCE(AVOW_BUNDLE_ASN1) = {
    ASN1_SEQUENCE_OF(AVOW_BUNDLE_ASN1, stmts, AVOW_STMT_ASN1),
    ASN1_SEQUENCE_OF_OPT(AVOW_BUNDLE_ASN1, certs, AVOW_CERTCHOICE_ASN1),
} ASN1_SEQUENCE_END(AVOW_BUNDLE_ASN1)
IMPLEMENT_ASN1_FUNCTIONS(AVOW_BUNDLE_ASN1)

ASN1_ITEM_TEMPLATE(AVOW_BUNDLES_ASN1) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, bundles, AVOW_BUNDLE_ASN1)
ASN1_ITEM_TEMPLATE_END(AVOW_BUNDLES_ASN1)

#define MAX_DEPTH 64u /* nesting the strict walker follows inside a stmt */

ASN1_OBJECT *avow__attestation_oid(void)
{
    return OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
}
/* clang-format on */

/* First child of the constructed TLV at p (which must be a SEQUENCE). */
static avow_err first_child(const uint8_t *p, size_t len, const char *what, const uint8_t **c,
                            size_t *clen, avow_diag *diag)
{
    uint8_t tag;
    size_t h, n;
    avow_err rc = avow__der_header(p, len, &tag, &h, &n);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, what, "%s", avow_strerror(rc));
    if (tag != 0x30)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, what, "expected SEQUENCE, found tag 0x%02x",
                          tag);
    if (n == 0)
        return avow__fail(diag, AVOW_ERR_EMPTY, what, "empty SEQUENCE");
    *c = p + h;
    *clen = n;
    return AVOW_OK;
}

static avow_err detect(const uint8_t *der, size_t len, int *many, avow_diag *diag)
{
    uint8_t tag;
    size_t h, n;
    avow_err rc = avow__der_header(der, len, &tag, &h, &n);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "AttestationBundle", "%s", avow_strerror(rc));
    if (h + n != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, "AttestationBundle",
                          "%zu bytes after the AttestationBundle", len - h - n);
    const uint8_t *c1, *c2, *c3;
    size_t l1, l2, l3;
    if ((rc = first_child(der, len, "AttestationBundle", &c1, &l1, diag)) != AVOW_OK ||
        (rc = first_child(c1, l1, "AttestationBundle.attestations", &c2, &l2, diag)) != AVOW_OK ||
        (rc = first_child(c2, l2, "AttestationBundle.attestations[0]", &c3, &l3, diag)) != AVOW_OK)
        return rc;
    rc = avow__der_header(c3, l3, &tag, &h, &n);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "AttestationBundle.attestations[0].type", "%s",
                          avow_strerror(rc));
    if (tag == 0x06)
        *many = 0;
    else if (tag == 0x30)
        *many = 1;
    else
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "AttestationBundle.attestations[0].type",
                          "expected OBJECT IDENTIFIER, found tag 0x%02x", tag);
    return AVOW_OK;
}

void avow__bundle_clear(avow__bundle *b)
{
    if (b == NULL)
        return;
    sk_AVOW_BUNDLE_ASN1_pop_free(b->bundles, AVOW_BUNDLE_ASN1_free);
    for (size_t i = 0; i < b->nstmts; i++)
        avow_buf_free(&b->stmt_der[i]);
    OPENSSL_free(b->stmt_der);
    OPENSSL_free(b->stmts);
    for (size_t i = 0; i < b->nothers; i++)
        avow_buf_free(&b->other_der[i]);
    OPENSSL_free(b->other_der);
    OPENSSL_free(b->others);
    sk_X509_pop_free(b->certs, X509_free);
    memset(b, 0, sizeof(*b));
}

/* DER of an open-type value into an owned buffer. */
static avow_err type_der(const ASN1_TYPE *t, avow_buf *out)
{
    unsigned char *p = NULL;
    int n = i2d_ASN1_TYPE(t, &p);
    if (n <= 0) {
        avow__ossl_clear();
        return AVOW_ERR_MALFORMED;
    }
    out->ptr = p;
    out->len = (size_t)n;
    return AVOW_OK;
}

/* Counts statements and certificates over every bundle, within the limits. */
static avow_err count_bundles(const avow__bundle *b, size_t *nst, size_t *nce, avow_diag *diag)
{
    int nb = sk_AVOW_BUNDLE_ASN1_num(b->bundles);
    if (nb <= 0)
        return avow__fail(diag, AVOW_ERR_EMPTY, "EvidenceBundles", "no bundle");
    if ((size_t)nb > AVOW_REQUEST_MAX_BUNDLES)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "EvidenceBundles", "%d bundles, limit %u", nb,
                          AVOW_REQUEST_MAX_BUNDLES);
    *nst = *nce = 0;
    for (int i = 0; i < nb; i++) {
        AVOW_BUNDLE_ASN1 *bu = sk_AVOW_BUNDLE_ASN1_value(b->bundles, i);
        int ns = sk_AVOW_STMT_ASN1_num(bu->stmts);
        if (ns <= 0)
            return avow__fail(diag, AVOW_ERR_EMPTY, "AttestationBundle.attestations",
                              "bundle %d has no statement", i);
        if (bu->certs != NULL && sk_AVOW_CERTCHOICE_ASN1_num(bu->certs) <= 0)
            return avow__fail(diag, AVOW_ERR_EMPTY, "AttestationBundle.certs",
                              "bundle %d has an empty certs list (absent is the way to say none)",
                              i);
        *nst += (size_t)ns;
        *nce += bu->certs != NULL ? (size_t)sk_AVOW_CERTCHOICE_ASN1_num(bu->certs) : 0;
    }
    if (*nst > AVOW_REQUEST_MAX_STATEMENTS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "AttestationBundle.attestations",
                          "%zu statements, limit %u", *nst, AVOW_REQUEST_MAX_STATEMENTS);
    if (*nce > AVOW_REQUEST_MAX_CERTS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "AttestationBundle.certs",
                          "%zu certificates, limit %u", *nce, AVOW_REQUEST_MAX_CERTS);
    return AVOW_OK;
}

/* Statement s of bundle i as the next avow_statement; *hinted set when it carries a hint. */
static avow_err index_statement(avow__bundle *b, AVOW_STMT_ASN1 *s, int i, int *hinted,
                                avow_diag *diag)
{
    size_t k = b->nstmts;
    avow_statement *st = &b->stmts[k];
    int olen = OBJ_length(s->type);
    if (olen <= 0)
        return avow__fail(diag, AVOW_ERR_OID, "AttestationStatement.type",
                          "statement %zu: empty OID", k);
    st->type.ptr = OBJ_get0_data(s->type);
    st->type.len = (size_t)olen;
    avow_oid_to_text(st->type.ptr, st->type.len, st->type_text, sizeof(st->type_text));
    avow_err rc = type_der(s->stmt, &b->stmt_der[k]);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "AttestationStatement.stmt", "statement %zu", k);
    b->nstmts++;
    /* The template keeps constructed values as raw bytes: walk them strictly. */
    rc = avow__der_check(b->stmt_der[k].ptr, b->stmt_der[k].len, MAX_DEPTH);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "AttestationStatement.stmt", "statement %zu is not DER: %s", k,
                          avow_strerror(rc));
    st->der.ptr = b->stmt_der[k].ptr;
    st->der.len = b->stmt_der[k].len;
    if (s->stmt->type == V_ASN1_OCTET_STRING) {
        st->octets.ptr = ASN1_STRING_get0_data(s->stmt->value.octet_string);
        st->octets.len = (size_t)ASN1_STRING_length(s->stmt->value.octet_string);
    }
    if (s->hint != NULL) {
        if (s->hint->type != V_ASN1_UTF8STRING && s->hint->type != V_ASN1_IA5STRING)
            return avow__fail(diag, AVOW_ERR_WRONG_TAG, "EvidenceStatement.hint",
                              "statement %zu: hint is neither UTF8String nor IA5String", k);
        st->hint.ptr = ASN1_STRING_get0_data(s->hint->value.asn1_string);
        st->hint.len = (size_t)ASN1_STRING_length(s->hint->value.asn1_string);
        *hinted = 1;
    }
    st->bundle = (size_t)i;
    return AVOW_OK;
}

/* Entry j of bundle i's certs: an X.509 certificate, or the next other certificate. */
static avow_err index_cert(avow__bundle *b, AVOW_CERTCHOICE_ASN1 *c, int i, int j, avow_diag *diag)
{
    if (c->type == 0) {
        if (!X509_up_ref(c->d.cert))
            return AVOW_ERR_INTERNAL;
        if (!sk_X509_push(b->certs, c->d.cert)) {
            X509_free(c->d.cert);
            return AVOW_ERR_NOMEM;
        }
        return AVOW_OK;
    }
    size_t k = b->nothers;
    avow_other_cert *o = &b->others[k];
    int olen = OBJ_length(c->d.other->format);
    if (olen <= 0)
        return avow__fail(diag, AVOW_ERR_OID, "OtherCertificateFormat.otherCertFormat",
                          "empty OID");
    o->format.ptr = OBJ_get0_data(c->d.other->format);
    o->format.len = (size_t)olen;
    avow_err rc = type_der(c->d.other->cert, &b->other_der[k]);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "OtherCertificateFormat.otherCert", "entry %d", j);
    b->nothers++;
    rc = avow__der_check(b->other_der[k].ptr, b->other_der[k].len, MAX_DEPTH);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "OtherCertificateFormat.otherCert", "not DER: %s",
                          avow_strerror(rc));
    o->der.ptr = b->other_der[k].ptr;
    o->der.len = b->other_der[k].len;
    o->bundle = (size_t)i;
    return AVOW_OK;
}

static avow_err index_bundles(avow__bundle *b, avow_diag *diag)
{
    size_t nst = 0, nce = 0;
    avow_err rc = count_bundles(b, &nst, &nce, diag);
    if (rc != AVOW_OK)
        return rc;
    b->stmts = OPENSSL_zalloc(nst * sizeof(*b->stmts));
    b->stmt_der = OPENSSL_zalloc(nst * sizeof(*b->stmt_der));
    b->certs = sk_X509_new_null();
    if (nce > 0) {
        b->others = OPENSSL_zalloc(nce * sizeof(*b->others));
        b->other_der = OPENSSL_zalloc(nce * sizeof(*b->other_der));
    }
    if (b->stmts == NULL || b->stmt_der == NULL || b->certs == NULL ||
        (nce > 0 && (b->others == NULL || b->other_der == NULL)))
        return AVOW_ERR_NOMEM;

    int hinted = 0;
    for (int i = 0; i < sk_AVOW_BUNDLE_ASN1_num(b->bundles); i++) {
        AVOW_BUNDLE_ASN1 *bu = sk_AVOW_BUNDLE_ASN1_value(b->bundles, i);
        for (int j = 0; j < sk_AVOW_STMT_ASN1_num(bu->stmts); j++)
            if ((rc = index_statement(b, sk_AVOW_STMT_ASN1_value(bu->stmts, j), i, &hinted,
                                      diag)) != AVOW_OK)
                return rc;
        for (int j = 0; bu->certs != NULL && j < sk_AVOW_CERTCHOICE_ASN1_num(bu->certs); j++)
            if ((rc = index_cert(b, sk_AVOW_CERTCHOICE_ASN1_value(bu->certs, j), i, j, diag)) !=
                AVOW_OK)
                return rc;
    }
    if (b->version == AVOW_BUNDLE_LATEST && hinted)
        b->version = AVOW_BUNDLE_HINTED;
    return AVOW_OK;
}

avow_err avow__bundle_decode(const uint8_t *der, size_t len, avow__bundle *b, avow_diag *diag)
{
    memset(b, 0, sizeof(*b));
    if (der == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_TRUNCATED, "AttestationBundle", "empty value");
    int many = 0;
    avow_err rc = detect(der, len, &many, diag);
    if (rc != AVOW_OK)
        return rc;

    const ASN1_ITEM *item =
        many ? ASN1_ITEM_rptr(AVOW_BUNDLES_ASN1) : ASN1_ITEM_rptr(AVOW_BUNDLE_ASN1);
    const char *what = many ? "EvidenceBundles" : "AttestationBundle";
    const unsigned char *q = der;
    ASN1_VALUE *v = ASN1_item_d2i(NULL, &q, (long)len, item);
    if (v == NULL) {
        rc = avow__fail_ossl(diag, avow__d2i_reason(), what, "cannot decode");
        return rc;
    }
    unsigned char *again = NULL;
    int alen = ASN1_item_i2d(v, &again, item);
    if (alen <= 0 || (size_t)alen != len || memcmp(again, der, len) != 0) {
        size_t at = 0;
        while (alen > 0 && at < len && at < (size_t)alen && again[at] == der[at])
            at++;
        OPENSSL_free(again);
        ASN1_item_free(v, item);
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_NOT_DER, what,
                          "not DER: the canonical encoding differs at byte %zu", at);
    }
    OPENSSL_free(again);

    if (many) {
        b->bundles = (AVOW_BUNDLES_ASN1 *)v;
        b->version = AVOW_BUNDLE_DRAFT15;
    } else {
        b->bundles = sk_AVOW_BUNDLE_ASN1_new_null();
        if (b->bundles == NULL || !sk_AVOW_BUNDLE_ASN1_push(b->bundles, (AVOW_BUNDLE_ASN1 *)v)) {
            AVOW_BUNDLE_ASN1_free((AVOW_BUNDLE_ASN1 *)v);
            avow__bundle_clear(b);
            return AVOW_ERR_NOMEM;
        }
        b->version = AVOW_BUNDLE_LATEST;
    }
    rc = index_bundles(b, diag);
    if (rc != AVOW_OK)
        avow__bundle_clear(b);
    avow__ossl_clear();
    return rc;
}

static AVOW_STMT_ASN1 *stmt_make(avow_bundle_version version, const avow__stmt_in *in)
{
    AVOW_STMT_ASN1 *s = AVOW_STMT_ASN1_new();
    if (s == NULL)
        return NULL;
    ASN1_OBJECT_free(s->type);
    ASN1_TYPE_free(s->stmt);
    s->stmt = NULL;
    s->type =
        ASN1_OBJECT_create(NID_undef, (unsigned char *)in->type.der, in->type.len, NULL, NULL);
    const unsigned char *p = in->der.ptr;
    s->stmt = d2i_ASN1_TYPE(NULL, &p, (long)in->der.len);
    if (s->type == NULL || s->stmt == NULL)
        goto fail;
    if (in->hint != NULL && version != AVOW_BUNDLE_LATEST) {
        ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
        s->hint = ASN1_TYPE_new();
        if (u == NULL || s->hint == NULL || !ASN1_STRING_set(u, in->hint, -1)) {
            ASN1_UTF8STRING_free(u);
            goto fail;
        }
        ASN1_TYPE_set(s->hint, V_ASN1_UTF8STRING, u);
    }
    return s;
fail:
    AVOW_STMT_ASN1_free(s);
    return NULL;
}

avow_err avow__bundle_encode(avow_bundle_version version, const avow__stmt_in *stmts, size_t n,
                             STACK_OF(X509) * certs, avow_buf *out, avow_diag *diag)
{
    out->ptr = NULL;
    out->len = 0;
    if (n == 0)
        return avow__fail(diag, AVOW_ERR_EMPTY, "AttestationBundle.attestations", "no statement");
    if (n > AVOW_REQUEST_MAX_STATEMENTS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "AttestationBundle.attestations",
                          "%zu statements, limit %u", n, AVOW_REQUEST_MAX_STATEMENTS);
    avow_err rc = AVOW_ERR_NOMEM;
    AVOW_BUNDLE_ASN1 *bu = AVOW_BUNDLE_ASN1_new();
    AVOW_BUNDLES_ASN1 *list = NULL;
    if (bu == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        AVOW_STMT_ASN1 *s = stmt_make(version, &stmts[i]);
        if (s == NULL) {
            rc = avow__fail_ossl(diag, AVOW_ERR_MALFORMED, "AttestationStatement", "statement %zu",
                                 i);
            goto done;
        }
        if (!sk_AVOW_STMT_ASN1_push(bu->stmts, s)) {
            AVOW_STMT_ASN1_free(s);
            goto done;
        }
    }
    if (certs != NULL && sk_X509_num(certs) > 0) {
        bu->certs = sk_AVOW_CERTCHOICE_ASN1_new_null();
        if (bu->certs == NULL)
            goto done;
        for (int i = 0; i < sk_X509_num(certs); i++) {
            AVOW_CERTCHOICE_ASN1 *c = AVOW_CERTCHOICE_ASN1_new();
            if (c == NULL)
                goto done;
            c->type = 0;
            c->d.cert = sk_X509_value(certs, i);
            X509_up_ref(c->d.cert);
            if (!sk_AVOW_CERTCHOICE_ASN1_push(bu->certs, c)) {
                AVOW_CERTCHOICE_ASN1_free(c);
                goto done;
            }
        }
    }
    unsigned char *p = NULL;
    int len;
    if (version == AVOW_BUNDLE_DRAFT15) {
        list = sk_AVOW_BUNDLE_ASN1_new_null();
        if (list == NULL || !sk_AVOW_BUNDLE_ASN1_push(list, bu))
            goto done;
        bu = NULL;
        len = ASN1_item_i2d((ASN1_VALUE *)list, &p, ASN1_ITEM_rptr(AVOW_BUNDLES_ASN1));
    } else {
        len = ASN1_item_i2d((ASN1_VALUE *)bu, &p, ASN1_ITEM_rptr(AVOW_BUNDLE_ASN1));
    }
    if (len <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "AttestationBundle", "cannot encode");
        goto done;
    }
    out->ptr = p;
    out->len = (size_t)len;
    rc = AVOW_OK;
done:
    AVOW_BUNDLE_ASN1_free(bu);
    sk_AVOW_BUNDLE_ASN1_pop_free(list, AVOW_BUNDLE_ASN1_free);
    avow__ossl_clear();
    return rc;
}
