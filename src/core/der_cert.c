/*
 * Strict DER of an X.509 certificate (RFC 5280 section 4.1). OpenSSL keeps
 * the encoding a certificate came in and signs and hashes those bytes, so a
 * certificate inside an input is DER only if we check it. The schema-blind
 * TLV walk (avow__der_check) sees lengths, BOOLEAN, INTEGER, OID and BIT
 * STRING forms; this adds what only the schema knows: the form of the
 * IMPLICIT tags, DEFAULT values left out, the inside of every extnValue, the
 * order of SET OF in names, the named bits of keyUsage and the DER forms of
 * UTCTime and GeneralizedTime. It reads headers only and allocates nothing
 * (a second d2i_X509 to re-encode would cost more than a signature check).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/der.h"
#include "core/internal.h"

typedef struct {
    char *where;
    size_t wlen;
    char *why;
    size_t ylen;
    int walked; /* the strict walk accepted every TLV already: tlv_ok has nothing to add */
} cctx;

/* One TLV of a content being read in order. */
typedef struct {
    const uint8_t *p, *end; /* what is left of the enclosing content */
    uint8_t tag;
    const uint8_t *tlv, *body;
    size_t tlv_len, body_len;
    avow_err err; /* the header that stopped next(), if one did */
} cursor;

static avow_err bad(cctx *c, avow_err code, const char *where, const char *fmt, ...)
    AVOW_PRINTF(4, 5);

static avow_err bad(cctx *c, avow_err code, const char *where, const char *fmt, ...)
{
    avow__strlcpy(c->where, where, c->wlen);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->ylen, fmt, ap);
    va_end(ap);
    return code;
}

static void cursor_init(cursor *k, const uint8_t *p, size_t n)
{
    memset(k, 0, sizeof(*k));
    k->p = p;
    k->end = p + n;
}

/* 1 with the next TLV in k; 0 at the end, or at a bad header (k->err). */
static int next(cursor *k)
{
    size_t h, n;
    if (k->p >= k->end)
        return 0;
    k->err = avow__der_header(k->p, (size_t)(k->end - k->p), &k->tag, &h, &n);
    if (k->err != AVOW_OK)
        return 0;
    k->tlv = k->p;
    k->body = k->p + h;
    k->body_len = n;
    k->tlv_len = h + n;
    k->p += h + n;
    return 1;
}

static avow_err walk_fail(cctx *c, const char *where, avow_err rc)
{
    if (rc == AVOW_ERR_TRAILING)
        rc = AVOW_ERR_MALFORMED;
    return bad(c, rc, where, "%s", rc == AVOW_ERR_NOT_DER ? "not DER" : avow_strerror(rc));
}

static avow_err tlv_ok(cctx *c, const char *where, const uint8_t *p, size_t n)
{
    if (c->walked)
        return AVOW_OK;
    avow_err rc = avow__der_check(p, n, AVOW_DER_MAX_DEPTH);
    return rc == AVOW_OK ? AVOW_OK : walk_fail(c, where, rc);
}

/* next() stopped before the end: the bad header, else `what` at where. */
static avow_err stopped(cctx *c, const cursor *k, const char *where, const char *what)
{
    if (k->err != AVOW_OK)
        return walk_fail(c, where, k->err);
    return bad(c, AVOW_ERR_MALFORMED, where, "%s", what);
}

/* BIT STRING content: unused bits 0..7, none in an empty string, and zero. */
static int bits_ok(const uint8_t *b, size_t n)
{
    return n > 0 && b[0] <= 7 && (n > 1 || b[0] == 0) &&
           (n == 1 || (b[n - 1] & ((1u << b[0]) - 1)) == 0);
}

/* X.690 11.6: SET OF components in ascending order, the shorter padded with zero octets. */
static int set_order_ok(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int d = memcmp(a, b, m);
    if (d != 0)
        return d < 0;
    for (size_t i = m; i < an; i++)
        if (a[i] != 0)
            return 0;
    return 1;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue). */
static avow_err name_ok(cctx *c, const char *where, const cursor *n)
{
    avow_err rc = tlv_ok(c, where, n->tlv, n->tlv_len);
    if (rc != AVOW_OK)
        return rc;
    cursor rdn;
    cursor_init(&rdn, n->body, n->body_len);
    for (int i = 0; next(&rdn); i++) {
        /* The field's name is made only for a failure: formatting costs more than the check. */
        char at[64];
#define AT (snprintf(at, sizeof(at), "%s[%d]", where, i), at)
        if (rdn.tag != 0x31)
            return bad(c, AVOW_ERR_WRONG_TAG, AT, "a relative distinguished name must be a SET");
        cursor ava, prev;
        cursor_init(&ava, rdn.body, rdn.body_len);
        for (int j = 0; next(&ava); j++) {
            if (j > 0 && !set_order_ok(prev.tlv, prev.tlv_len, ava.tlv, ava.tlv_len))
                return bad(c, AVOW_ERR_NOT_DER, AT,
                           "attributes of a SET OF are not in DER order (X.690 11.6)");
            prev = ava;
        }
#undef AT
    }
    return AVOW_OK;
}

static int digits(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Time ::= CHOICE { utcTime, generalTime } in their DER forms (X.690 11.7, 11.8). */
static avow_err time_ok(cctx *c, const char *where, const cursor *t)
{
    avow_err rc = tlv_ok(c, where, t->tlv, t->tlv_len);
    if (rc != AVOW_OK)
        return rc;
    if (t->tag == 0x17) {
        if (t->body_len != 13 || !digits(t->body, 12) || t->body[12] != 'Z')
            return bad(c, AVOW_ERR_NOT_DER, where, "UTCTime must be YYMMDDHHMMSSZ");
        return AVOW_OK;
    }
    if (t->tag == 0x18) {
        time_t ignored;
        if (avow__gentime_parse(t->body, t->body_len, &ignored) != AVOW_OK)
            return bad(c, AVOW_ERR_NOT_DER, where,
                       "GeneralizedTime must be YYYYMMDDHHMMSS[.f]Z without trailing zeros");
        return AVOW_OK;
    }
    return bad(c, AVOW_ERR_WRONG_TAG, where, "expected UTCTime or GeneralizedTime, found 0x%02x",
               t->tag);
}

static const uint8_t OID_KEY_USAGE[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_BASIC_CONSTRAINTS[] = {0x55, 0x1d, 0x13};

static int oid_is(const cursor *o, const uint8_t *oid, size_t n)
{
    return o->body_len == n && memcmp(o->body, oid, n) == 0;
}

/* The inside of extnValue: one DER value, and the DEFAULT and named-bit rules of two we know. */
static avow_err ext_value_ok(cctx *c, int i, const cursor *id, const cursor *v)
{
    char where[80];
#define WHERE (snprintf(where, sizeof(where), "tbsCertificate.extensions[%d].extnValue", i), where)
    avow_err rc = avow__der_check(v->body, v->body_len, AVOW_DER_MAX_DEPTH);
    if (rc != AVOW_OK)
        return bad(c, rc == AVOW_ERR_NOT_DER || rc == AVOW_ERR_TRAILING ? AVOW_ERR_NOT_DER : rc,
                   WHERE, "extnValue is not one DER value (%s)",
                   rc == AVOW_ERR_TRAILING ? "bytes after it" : avow_strerror(rc));
    cursor in;
    cursor_init(&in, v->body, v->body_len);
    if (!next(&in))
        return bad(c, AVOW_ERR_MALFORMED, WHERE, "empty extnValue");
    if (oid_is(id, OID_KEY_USAGE, sizeof(OID_KEY_USAGE)) && in.tag == 0x03 && in.body_len > 1) {
        /* X.690 11.2.2: a named bit list is written without trailing 0 bits. */
        uint8_t unused = in.body[0], last = in.body[in.body_len - 1];
        if (((last >> unused) & 1u) == 0)
            return bad(c, AVOW_ERR_NOT_DER, WHERE,
                       "keyUsage has trailing zero bits (X.690 11.2.2 named bit list)");
    }
    if (oid_is(id, OID_BASIC_CONSTRAINTS, sizeof(OID_BASIC_CONSTRAINTS)) && in.tag == 0x30) {
        cursor f;
        cursor_init(&f, in.body, in.body_len);
        if (next(&f) && f.tag == 0x01 && f.body_len == 1 && f.body[0] == 0x00)
            return bad(c, AVOW_ERR_NOT_DER, WHERE,
                       "basicConstraints cA FALSE is the DEFAULT and must be left out");
    }
#undef WHERE
    return AVOW_OK;
}

/*
 * extensions [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension, field by
 * field so a failure names the extension and its part.
 */
static avow_err extensions_ok(cctx *c, const cursor *x)
{
    const char *base = "tbsCertificate.extensions";
    cursor seq;
    cursor_init(&seq, x->body, x->body_len);
    if (!next(&seq))
        return stopped(c, &seq, base, "[3] is empty");
    if (seq.tag != 0x30 || seq.p != seq.end)
        return bad(c, AVOW_ERR_WRONG_TAG, base, "[3] must hold one SEQUENCE OF Extension");
    cursor e;
    cursor_init(&e, seq.body, seq.body_len);
    avow_err rc;
    for (int i = 0; e.p < e.end; i++) {
        /* The field's name is made only for a failure: formatting costs more than the check. */
        char at[80];
#define AT(part) (snprintf(at, sizeof(at), "%s[%d]%s", base, i, part), at)
        if (!next(&e))
            return stopped(c, &e, AT(""), "truncated");
        cursor f, id;
        cursor_init(&f, e.body, e.body_len);
        if (e.tag != 0x30)
            return bad(c, AVOW_ERR_WRONG_TAG, AT(""), "an Extension is a SEQUENCE");
        if (!next(&f))
            return stopped(c, &f, AT(""), "empty Extension");
        if (f.tag != 0x06)
            return bad(c, AVOW_ERR_WRONG_TAG, AT(""), "an Extension starts with its extnID");
        if (!c->walked && (rc = tlv_ok(c, AT(".extnID"), f.tlv, f.tlv_len)) != AVOW_OK)
            return rc;
        id = f;
        if (!next(&f))
            return stopped(c, &f, AT(""), "Extension without extnValue");
        if (f.tag == 0x01) {
            /* critical BOOLEAN DEFAULT FALSE: written only as TRUE (X.690 11.5). */
            if (f.body_len != 1 || f.body[0] != 0xff)
                return bad(c, AVOW_ERR_NOT_DER, AT(".critical"), "%s",
                           f.body_len == 1 && f.body[0] == 0x00
                               ? "critical FALSE is the DEFAULT and must be left out"
                               : "BOOLEAN must be one octet, TRUE 0xFF");
            if (!next(&f))
                return stopped(c, &f, AT(".critical"), "Extension without extnValue");
        }
        if (f.tag != 0x04 || f.p != f.end)
            return bad(c, AVOW_ERR_WRONG_TAG, AT(".extnValue"),
                       "extnValue must be the last field, an OCTET STRING");
        if ((!c->walked && (rc = tlv_ok(c, AT(".extnValue"), f.tlv, f.tlv_len)) != AVOW_OK) ||
            (rc = ext_value_ok(c, i, &id, &f)) != AVOW_OK)
            return rc;
        if (!c->walked && (rc = tlv_ok(c, AT(""), e.tlv, e.tlv_len)) != AVOW_OK)
            return rc;
#undef AT
    }
    return tlv_ok(c, base, x->tlv, x->tlv_len);
}

/* issuerUniqueID [1] / subjectUniqueID [2] IMPLICIT BIT STRING: primitive, DER bits. */
static avow_err unique_id_ok(cctx *c, const char *where, const cursor *u)
{
    if (u->tag & 0x20)
        return bad(c, AVOW_ERR_NOT_DER, where,
                   "[%d] IMPLICIT BIT STRING must be primitive (0x%02x), found 0x%02x",
                   u->tag & 0x1f, (unsigned)(u->tag & ~0x20u), u->tag);
    if (!bits_ok(u->body, u->body_len))
        return bad(c, AVOW_ERR_NOT_DER, where, "BIT STRING unused bits are not DER");
    return AVOW_OK;
}

static avow_err expect(cctx *c, cursor *k, uint8_t tag, const char *where)
{
    if (!next(k))
        return stopped(c, k, where, "missing");
    if (k->tag != tag)
        return bad(c, AVOW_ERR_WRONG_TAG, where, "expected tag 0x%02x, found 0x%02x", tag, k->tag);
    return AVOW_OK;
}

static avow_err tbs_ok(cctx *c, const uint8_t *p, size_t n)
{
    cursor k;
    cursor_init(&k, p, n);
    if (!next(&k))
        return stopped(c, &k, "tbsCertificate", "empty");
    avow_err rc;
    if (k.tag == 0xa0) {
        /* version [0] EXPLICIT INTEGER DEFAULT v1: v1 is never written in DER. */
        rc = tlv_ok(c, "tbsCertificate.version", k.tlv, k.tlv_len);
        if (rc != AVOW_OK)
            return rc;
        cursor v;
        cursor_init(&v, k.body, k.body_len);
        if (!next(&v) || v.tag != 0x02 || v.p != v.end)
            return bad(c, AVOW_ERR_WRONG_TAG, "tbsCertificate.version",
                       "[0] must hold one INTEGER");
        if (v.body_len == 1 && v.body[0] == 0x00)
            return bad(c, AVOW_ERR_NOT_DER, "tbsCertificate.version",
                       "version v1 is the DEFAULT and must be left out");
        if (!next(&k))
            return stopped(c, &k, "tbsCertificate.serialNumber", "missing");
    }
    if (k.tag != 0x02)
        return bad(c, AVOW_ERR_WRONG_TAG, "tbsCertificate.serialNumber", "expected INTEGER");
    if ((rc = tlv_ok(c, "tbsCertificate.serialNumber", k.tlv, k.tlv_len)) != AVOW_OK ||
        (rc = expect(c, &k, 0x30, "tbsCertificate.signature")) != AVOW_OK ||
        (rc = tlv_ok(c, "tbsCertificate.signature", k.tlv, k.tlv_len)) != AVOW_OK ||
        (rc = expect(c, &k, 0x30, "tbsCertificate.issuer")) != AVOW_OK ||
        (rc = name_ok(c, "tbsCertificate.issuer", &k)) != AVOW_OK ||
        (rc = expect(c, &k, 0x30, "tbsCertificate.validity")) != AVOW_OK)
        return rc;
    cursor t;
    cursor_init(&t, k.body, k.body_len);
    if (!next(&t))
        return stopped(c, &t, "tbsCertificate.validity.notBefore", "missing");
    if ((rc = time_ok(c, "tbsCertificate.validity.notBefore", &t)) != AVOW_OK)
        return rc;
    if (!next(&t))
        return stopped(c, &t, "tbsCertificate.validity.notAfter", "missing");
    if ((rc = time_ok(c, "tbsCertificate.validity.notAfter", &t)) != AVOW_OK)
        return rc;
    if (t.p != t.end)
        return bad(c, AVOW_ERR_MALFORMED, "tbsCertificate.validity", "bytes after notAfter");
    if ((rc = expect(c, &k, 0x30, "tbsCertificate.subject")) != AVOW_OK ||
        (rc = name_ok(c, "tbsCertificate.subject", &k)) != AVOW_OK ||
        (rc = expect(c, &k, 0x30, "tbsCertificate.subjectPublicKeyInfo")) != AVOW_OK ||
        (rc = tlv_ok(c, "tbsCertificate.subjectPublicKeyInfo", k.tlv, k.tlv_len)) != AVOW_OK)
        return rc;
    int have = next(&k);
    if (have && (k.tag & ~0x20u) == 0x81) {
        if ((rc = unique_id_ok(c, "tbsCertificate.issuerUniqueID", &k)) != AVOW_OK)
            return rc;
        have = next(&k);
    }
    if (have && (k.tag & ~0x20u) == 0x82) {
        if ((rc = unique_id_ok(c, "tbsCertificate.subjectUniqueID", &k)) != AVOW_OK)
            return rc;
        have = next(&k);
    }
    if (have && k.tag == 0xa3) {
        if ((rc = extensions_ok(c, &k)) != AVOW_OK)
            return rc;
        have = next(&k);
    }
    if (!have && k.err != AVOW_OK)
        return walk_fail(c, "tbsCertificate", k.err);
    if (have || k.p != k.end)
        return bad(c, AVOW_ERR_MALFORMED, "tbsCertificate", "unexpected field 0x%02x", k.tag);
    return AVOW_OK;
}

static avow_err cert_ok(cctx *c, const uint8_t *p, size_t len)
{
    cursor k, f;
    cursor_init(&k, p, len);
    if (!next(&k))
        return stopped(c, &k, "", "empty");
    if (k.tag != 0x30)
        return bad(c, AVOW_ERR_WRONG_TAG, "", "a Certificate is a SEQUENCE");
    cursor_init(&f, k.body, k.body_len);
    avow_err rc;
    if ((rc = expect(c, &f, 0x30, "tbsCertificate")) != AVOW_OK ||
        (rc = tbs_ok(c, f.body, f.body_len)) != AVOW_OK ||
        (rc = expect(c, &f, 0x30, "signatureAlgorithm")) != AVOW_OK ||
        (rc = tlv_ok(c, "signatureAlgorithm", f.tlv, f.tlv_len)) != AVOW_OK ||
        (rc = expect(c, &f, 0x03, "signatureValue")) != AVOW_OK ||
        (rc = tlv_ok(c, "signatureValue", f.tlv, f.tlv_len)) != AVOW_OK)
        return rc;
    if (f.p != f.end || k.p != k.end)
        return bad(c, AVOW_ERR_MALFORMED, "", "bytes after signatureValue");
    return AVOW_OK;
}

avow_err avow__der_check_cert(const uint8_t *p, size_t len, char *where, size_t wlen, char *why,
                              size_t ylen)
{
    cctx c = {where, wlen, why, ylen, 0};
    avow__strlcpy(where, "", wlen);
    avow__strlcpy(why, "", ylen);
    /* The walk first: its code is the one every other DER failure of the input gets. */
    avow_err walk = tlv_ok(&c, "", p, len);
    avow_err rc = cert_ok(&c, p, len);
    if (walk != AVOW_OK && rc != walk) {
        /* The schema stopped elsewhere first: say only that the certificate is at fault. */
        avow__strlcpy(where, "", wlen);
        tlv_ok(&c, "", p, len);
    }
    return walk != AVOW_OK ? walk : rc;
}

avow_err avow__der_check_cert_walked(const uint8_t *p, size_t len, char *where, size_t wlen,
                                     char *why, size_t ylen)
{
    cctx c = {where, wlen, why, ylen, 1};
    avow__strlcpy(where, "", wlen);
    avow__strlcpy(why, "", ylen);
    return cert_ok(&c, p, len);
}

int avow__cert_spki(const uint8_t *p, size_t len, const uint8_t **spki, size_t *spki_len)
{
    cursor k, f;
    cursor_init(&k, p, len);
    if (!next(&k) || k.tag != 0x30)
        return 0;
    cursor_init(&f, k.body, k.body_len);
    if (!next(&f) || f.tag != 0x30)
        return 0;
    cursor t;
    cursor_init(&t, f.body, f.body_len);
    if (!next(&t))
        return 0;
    if (t.tag == 0xa0 && !next(&t))
        return 0;
    /* serialNumber, signature, issuer, validity, subject, then the key. */
    for (int i = 0; i < 5; i++)
        if (!next(&t))
            return 0;
    if (t.tag != 0x30)
        return 0;
    *spki = t.tlv;
    *spki_len = t.tlv_len;
    return 1;
}
