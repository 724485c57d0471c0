/* Strict DER decoding of Evidence, and the read accessors. */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/evidence_int.h"

static const ASN1_ITEM *evidence_item(unsigned flags)
{
    return (flags & AVOW_DECODE_EXPLICIT_INTERMEDIATES)
               ? ASN1_ITEM_rptr(AVOW_EVIDENCE_EXPLICIT_ASN1)
               : ASN1_ITEM_rptr(AVOW_EVIDENCE_ASN1);
}

/* One embedded certificate at p[0..len): 1 when the walk fails inside it, with its field. */
static int cert_at_fault(const uint8_t *p, size_t len, const char *name, char *field, size_t n,
                         char *why, size_t wn)
{
    if (avow__der_check(p, len, AVOW_DER_MAX_DEPTH) == AVOW_OK)
        return 0;
    char where[64];
    (void)avow__der_check_cert(p, len, where, sizeof(where), why, wn);
    size_t fl = strlen(name), wl = strlen(where);
    avow__strlcpy(field, name, n);
    if (wl > 0 && fl + 1 + wl < n) {
        field[fl] = '.';
        memcpy(field + fl + 1, where, wl + 1);
    }
    return 1;
}

/*
 * The walk over the whole input failed. When the bad TLV lies in an
 * embedded certificate (sid certificate [2], intermediateCertificates [0]),
 * the certificate is named, so an ill-made AK or CA certificate is not
 * reported as "Evidence"; found by the headers alone, which the walk proved
 * sound on the way to it.
 */
static int find_bad_cert(const uint8_t *der, size_t len, unsigned flags, char *field, size_t n,
                         char *why, size_t wn)
{
    uint8_t tag;
    size_t h, b, off;
    if (avow__der_header(der, len, &tag, &h, &b) != AVOW_OK)
        return 0;
    const uint8_t *p = der + h, *end = p + b;
    /* tbs, then signatures */
    if (avow__der_header(p, (size_t)(end - p), &tag, &h, &b) != AVOW_OK)
        return 0;
    p += h + b;
    if (p < end && avow__der_header(p, (size_t)(end - p), &tag, &h, &b) == AVOW_OK && tag == 0x30) {
        const uint8_t *q = p + h, *qend = q + b;
        for (int i = 0; q < qend; i++) {
            size_t sh, sb, dh, db;
            if (avow__der_header(q, (size_t)(qend - q), &tag, &sh, &sb) != AVOW_OK ||
                avow__der_header(q + sh, sb, &tag, &dh, &db) != AVOW_OK || tag != 0x30)
                return 0;
            const uint8_t *f = q + sh + dh, *fend = f + db;
            while (f < fend) {
                size_t fh, fb;
                if (avow__der_header(f, (size_t)(fend - f), &tag, &fh, &fb) != AVOW_OK)
                    return 0;
                char name[48];
                snprintf(name, sizeof(name), "signatures[%d].sid.certificate", i);
                if (tag == 0xa2 && cert_at_fault(f + fh, fb, name, field, n, why, wn))
                    return 1;
                f += fh + fb;
            }
            q += sh + sb;
        }
        p += h + b;
    }
    if (p >= end || *p != 0xa0 || avow__der_header(p, (size_t)(end - p), &tag, &h, &b) != AVOW_OK)
        return 0;
    const uint8_t *q = p + h, *qend = q + b;
    if (flags & AVOW_DECODE_EXPLICIT_INTERMEDIATES) {
        if (avow__der_header(q, b, &tag, &h, &b) != AVOW_OK)
            return 0;
        q += h;
        qend = q + b;
    }
    for (int i = 0; q < qend; i++) {
        size_t ch, cb;
        char name[48];
        snprintf(name, sizeof(name), "intermediateCertificates[%d]", i);
        off = (size_t)(qend - q);
        if (avow__der_header(q, off, &tag, &ch, &cb) != AVOW_OK)
            return cert_at_fault(q, off, name, field, n, why, wn);
        if (cert_at_fault(q, ch + cb, name, field, n, why, wn))
            return 1;
        q += ch + cb;
    }
    return 0;
}

/*
 * The strict checks before decoding: the framing (OpenSSL reads a prefix and
 * says nothing of what follows it), every TLV DER, and the one IMPLICIT tag
 * the walk cannot judge. *tbs_off / *tbs_len locate the TbsEvidence.
 */
static avow_err check_framing(const uint8_t *der, size_t len, unsigned flags, size_t *tbs_off,
                              size_t *tbs_len, avow_diag *diag)
{
    uint8_t tag;
    size_t h, n;
    avow_err rc = avow__der_header(der, len, &tag, &h, &n);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "Evidence", "outer SEQUENCE: %s", avow_strerror(rc));
    if (tag != 0x30)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "Evidence",
                          "expected SEQUENCE, found tag 0x%02x", tag);
    if (h + n != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, "Evidence", "%zu bytes after the Evidence",
                          len - h - n);
    size_t th, tn;
    rc = avow__der_header(der + h, n, &tag, &th, &tn);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "tbs", "TbsEvidence header: %s", avow_strerror(rc));
    if (tag != 0x30)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "tbs", "expected SEQUENCE, found tag 0x%02x",
                          tag);

    /*
     * The templates accept some BER (indefinite and long-form lengths,
     * constructed strings, any non-zero BOOLEAN). One strict walk over every
     * TLV refuses all of it before decoding; it is what re-encoding and
     * comparing would find, at a sixth of the cost (the fuzz target checks
     * that both agree on every input it accepts).
     */
    rc = avow__der_check(der, len, AVOW_DER_MAX_DEPTH);
    if (rc != AVOW_OK) {
        char field[96], why[160];
        avow_err code = rc == AVOW_ERR_TRAILING ? AVOW_ERR_MALFORMED : rc;
        const char *what = rc == AVOW_ERR_NOT_DER ? "not DER" : avow_strerror(rc);
        if (find_bad_cert(der, len, flags, field, sizeof(field), why, sizeof(why)))
            return avow__fail(diag, code, field, "certificate: %s", why[0] ? why : what);
        return avow__fail(diag, code, "Evidence", "%s", what);
    }

    /*
     * The walk cannot know the schema's one IMPLICIT tag: intermediateCertificates
     * [0] replaces a SEQUENCE's tag, so DER makes it constructed (0xA0). OpenSSL
     * also reads a primitive 0x80 there, which would not re-encode the same.
     */
    size_t off = h + th + tn, sh, sn;
    if (avow__der_header(der + off, len - off, &tag, &sh, &sn) == AVOW_OK) {
        off += sh + sn;
        if (off < len && der[off] == 0x80)
            return avow__fail(diag, AVOW_ERR_NOT_DER, "intermediateCertificates",
                              "[0] must be constructed (0xA0), found 0x%02x", der[off]);
    }
    *tbs_off = h;
    *tbs_len = th + tn;
    return AVOW_OK;
}

avow_err avow_evidence_decode(const uint8_t *der, size_t len, const avow_profile *profile,
                              unsigned flags, avow_evidence **out, avow_diag *diag)
{
    if (out == NULL || (der == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "input", "no input or no output pointer");
    *out = NULL;
    if (len > AVOW_EVIDENCE_MAX_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "Evidence", "%zu bytes, limit %u", len,
                          AVOW_EVIDENCE_MAX_SIZE);
    size_t tbs_off = 0, tbs_len = 0;
    avow_err rc = check_framing(der, len, flags, &tbs_off, &tbs_len, diag);
    if (rc != AVOW_OK)
        return rc;

    avow_evidence *ev = OPENSSL_zalloc(sizeof(*ev));
    if (ev == NULL)
        return AVOW_ERR_NOMEM;
    if (profile != NULL)
        ev->profile = *profile;
    else
        avow_profile_default(&ev->profile);
    ev->flags = flags;
    ev->frozen = 1;

    /* The template object keeps views of its claims, so it decodes a copy we own. */
    ev->input.ptr = avow__memdup(der, len);
    if (ev->input.ptr == NULL) {
        rc = AVOW_ERR_NOMEM;
        goto fail;
    }
    ev->input.len = len;
    const ASN1_ITEM *item = evidence_item(flags);
    const unsigned char *q = ev->input.ptr;
    ev->asn1 = (AVOW_EVIDENCE_ASN1 *)ASN1_item_d2i(NULL, &q, (long)len, item);
    if (ev->asn1 == NULL) {
        rc = avow__fail_ossl(diag, avow__d2i_reason(), "Evidence", "cannot decode");
        goto fail;
    }

    ev->tbs.ptr = ev->input.ptr + tbs_off;
    ev->tbs.len = tbs_len;
    rc = avow__evidence_index(ev, diag);
    if (rc != AVOW_OK)
        goto fail;
    avow__ossl_clear();
    *out = ev;
    return AVOW_OK;
fail:
    avow_evidence_free(ev);
    avow__ossl_clear();
    return rc;
}

void avow_evidence_free(avow_evidence *ev)
{
    if (ev == NULL)
        return;
    avow__evidence_unindex(ev);
    AVOW_EVIDENCE_ASN1_free(ev->asn1);
    for (size_t i = 0; i < ev->nowned; i++)
        OPENSSL_free(ev->owned[i]);
    OPENSSL_free(ev->owned);
    OPENSSL_free(ev->input.ptr);
    OPENSSL_free(ev);
}

void *avow__evidence_own(avow_evidence *ev, void *p)
{
    if (p == NULL)
        return NULL;
    if (ev->nowned == ev->capowned) {
        size_t cap = ev->capowned ? ev->capowned * 2 : 16;
        void **n = OPENSSL_realloc(ev->owned, cap * sizeof(*n));
        if (n == NULL) {
            OPENSSL_free(p);
            return NULL;
        }
        ev->owned = n;
        ev->capowned = cap;
    }
    ev->owned[ev->nowned++] = p;
    return p;
}

const avow_profile *avow_evidence_get0_profile(const avow_evidence *ev)
{
    return ev != NULL ? &ev->profile : NULL;
}

int64_t avow_evidence_version(const avow_evidence *ev)
{
    return ev != NULL ? ev->version : 0;
}

size_t avow_evidence_element_count(const avow_evidence *ev)
{
    return ev != NULL ? ev->nelements : 0;
}

const avow_element *avow_evidence_get0_element(const avow_evidence *ev, size_t i)
{
    return ev != NULL && i < ev->nelements ? &ev->elements[i] : NULL;
}

size_t avow_evidence_signature_count(const avow_evidence *ev)
{
    return ev != NULL ? ev->nsigs : 0;
}

const avow_signature_block *avow_evidence_get0_signature(const avow_evidence *ev, size_t i)
{
    return ev != NULL && i < ev->nsigs ? &ev->sigs[i] : NULL;
}

/* DER to X509, all of it; NULL (queue cleared) when OpenSSL refuses it. */
static X509 *cert_of(avow_view der)
{
    const unsigned char *p = der.ptr;
    X509 *x = der.len <= AVOW_EVIDENCE_MAX_SIZE ? d2i_X509(NULL, &p, (long)der.len) : NULL;
    if (x != NULL && p != der.ptr + der.len) {
        X509_free(x);
        x = NULL;
    }
    if (x == NULL)
        avow__ossl_clear();
    return x;
}

X509 *avow_evidence_get0_signer_cert(const avow_evidence *ev, size_t i)
{
    if (ev == NULL || i >= ev->nsigs || !(ev->sigs[i].sid_fields & AVOW_SID_HAS_CERT) ||
        ev->sid_x509 == NULL)
        return NULL;
    X509 *x = atomic_load_explicit(&ev->sid_x509[i], memory_order_acquire);
    if (x != NULL)
        return x;
    if ((x = cert_of(ev->sigs[i].cert_der)) == NULL)
        return NULL;
    X509 *seen = NULL;
    /* The slot is the index's; ev is const to callers, not as an object. */
    if (!atomic_compare_exchange_strong_explicit(&((avow_evidence *)ev)->sid_x509[i], &seen, x,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        X509_free(x);
        x = seen;
    }
    return x;
}

size_t avow_evidence_intermediate_count(const avow_evidence *ev)
{
    return ev != NULL ? ev->ninter : 0;
}

avow_view avow_evidence_intermediate_der(const avow_evidence *ev, size_t i)
{
    avow_view v = {NULL, 0};
    if (ev != NULL && i < ev->ninter)
        v = ev->inter_der[i];
    return v;
}

STACK_OF(X509) * avow_evidence_get0_intermediates(const avow_evidence *ev)
{
    if (ev == NULL || ev->ninter == 0)
        return NULL;
    STACK_OF(X509) *sk = atomic_load_explicit(&ev->inter_x509, memory_order_acquire);
    if (sk != NULL)
        return sk;
    sk = sk_X509_new_reserve(NULL, (int)ev->ninter);
    for (size_t i = 0; sk != NULL && i < ev->ninter; i++) {
        X509 *x = cert_of(ev->inter_der[i]);
        if (x == NULL || sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            sk = NULL;
        }
    }
    if (sk == NULL)
        return NULL;
    STACK_OF(X509) *seen = NULL;
    if (!atomic_compare_exchange_strong_explicit(&((avow_evidence *)ev)->inter_x509, &seen, sk,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        sk_X509_pop_free(sk, X509_free);
        sk = seen;
    }
    return sk;
}

avow_view avow_evidence_tbs(const avow_evidence *ev)
{
    avow_view v = {NULL, 0};
    if (ev != NULL)
        v = ev->tbs;
    return v;
}

const avow_claim *avow_evidence_find_claim(const avow_evidence *ev, avow_claim_id id)
{
    const avow_claim_info *info = avow_claim_info_get(id);
    if (ev == NULL || info == NULL)
        return NULL;
    for (size_t i = 0; i < ev->nelements; i++) {
        const avow_element *el = &ev->elements[i];
        if (el->kind != info->element)
            continue;
        for (size_t j = 0; j < el->nclaims; j++)
            if (el->claims[j].id == id)
                return &el->claims[j];
        return NULL;
    }
    return NULL;
}
