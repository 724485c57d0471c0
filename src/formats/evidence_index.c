/*
 * From the decoded template object to avow's model, applying every rule of
 * draft -07 that a decoder can check on its own (section 6, verifier rules
 * on structure; section 5, the value type of each claim).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/sigalg_int.h"
#include "formats/evidence_int.h"

#define RAW_MAX_DEPTH 16

/* Where the indexer is; the field name is written only when something fails. */
typedef struct {
    avow_evidence *ev;
    avow_diag *diag;
    int ei, ci;      /* element and claim index, -1 when not inside one */
    const char *sub; /* what follows them: ".value", ".claims", ... */
    char field[96];
} ictx;

static const char *fld(ictx *c)
{
    if (c->ci >= 0)
        snprintf(c->field, sizeof(c->field), "tbs.reportedElements[%d].claims[%d]%s", c->ei, c->ci,
                 c->sub);
    else if (c->ei >= 0)
        snprintf(c->field, sizeof(c->field), "tbs.reportedElements[%d]%s", c->ei, c->sub);
    else
        avow__strlcpy(c->field, c->sub, sizeof(c->field));
    return c->field;
}

static void at(ictx *c, int ei, int ci, const char *sub)
{
    c->ei = ei;
    c->ci = ci;
    c->sub = sub;
}

static void *keep(avow_evidence *ev, void *p)
{
    if (p == NULL)
        return NULL;
    if (ev->nkept == ev->capkept) {
        size_t cap = ev->capkept ? ev->capkept * 2 : 8;
        void **n = OPENSSL_realloc(ev->kept, cap * sizeof(*n));
        if (n == NULL) {
            OPENSSL_free(p);
            return NULL;
        }
        ev->kept = n;
        ev->capkept = cap;
    }
    ev->kept[ev->nkept++] = p;
    return p;
}

static int keep_purposes(avow_evidence *ev, AVOW_PURPOSES_ASN1 *st)
{
    if (ev->npurp == ev->cappurp) {
        size_t cap = ev->cappurp ? ev->cappurp * 2 : 4;
        void **n = OPENSSL_realloc(ev->kept_purposes, cap * sizeof(*n));
        if (n == NULL)
            return 0;
        ev->kept_purposes = n;
        ev->cappurp = cap;
    }
    ev->kept_purposes[ev->npurp++] = st;
    return 1;
}

void avow__evidence_unindex(avow_evidence *ev)
{
    for (size_t i = 0; i < ev->nkept; i++)
        OPENSSL_free(ev->kept[i]);
    for (size_t i = 0; i < ev->npurp; i++)
        ASN1_item_free((ASN1_VALUE *)ev->kept_purposes[i], ASN1_ITEM_rptr(AVOW_PURPOSES_ASN1));
    OPENSSL_free(ev->kept);
    OPENSSL_free(ev->kept_purposes);
    OPENSSL_free(ev->elements);
    OPENSSL_free(ev->claims);
    OPENSSL_free(ev->sigs);
    for (size_t i = 0; ev->sid_x509 != NULL && i < ev->nsigs; i++)
        X509_free(atomic_load(&ev->sid_x509[i]));
    OPENSSL_free(ev->sid_x509);
    sk_X509_pop_free(atomic_load(&ev->inter_x509), X509_free);
    atomic_store(&ev->inter_x509, NULL);
    OPENSSL_free(ev->inter_der);
    ev->sid_x509 = NULL;
    ev->inter_der = NULL;
    ev->ninter = 0;
    ev->kept = NULL;
    ev->kept_purposes = NULL;
    ev->nkept = ev->capkept = ev->npurp = ev->cappurp = 0;
    ev->elements = NULL;
    ev->claims = NULL;
    ev->sigs = NULL;
    ev->nelements = ev->nclaims = ev->nsigs = 0;
}

static avow_view obj_view(const ASN1_OBJECT *o)
{
    avow_view v = {OBJ_get0_data(o), (size_t)OBJ_length(o)};
    return v;
}

static avow_view str_view(const ASN1_STRING *s)
{
    avow_view v = {ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)};
    return v;
}

static int utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned long c;
        int n = UTF8_getc(p + i, (int)(len - i), &c);
        if (n <= 0)
            return 0;
        /* UTF8_getc accepts surrogates and over-long forms are refused by it; refuse surrogates
         * too. */
        if (c >= 0xd800 && c <= 0xdfff)
            return 0;
        i += (size_t)n;
    }
    return 1;
}

static avow_err spki_check(ictx *c, avow_view v)
{
    if (v.len == 0)
        return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "empty SubjectPublicKeyInfo");
    avow_err rc = avow__der_check(v.ptr, v.len, RAW_MAX_DEPTH);
    if (rc != AVOW_OK)
        return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c),
                          "not a DER SubjectPublicKeyInfo (%s)", avow_strerror(rc));
    /*
     * The walk above proved every TLV sound; what is left is the shape
     * SEQUENCE { SEQUENCE { OID, ... }, BIT STRING }, read off the headers.
     * (A template decode here cost more than the rest of the Evidence.)
     */
    uint8_t tag;
    size_t h, n, ah, an, oh, on;
    int ok = avow__der_header(v.ptr, v.len, &tag, &h, &n) == AVOW_OK && tag == 0x30;
    const uint8_t *p = v.ptr + h, *end = p + n;
    ok = ok && avow__der_header(p, (size_t)(end - p), &tag, &ah, &an) == AVOW_OK && tag == 0x30;
    ok = ok && avow__der_header(p + ah, an, &tag, &oh, &on) == AVOW_OK && tag == 0x06 && on > 0;
    if (ok)
        p += ah + an;
    ok = ok && avow__der_header(p, (size_t)(end - p), &tag, &h, &n) == AVOW_OK && tag == 0x03 &&
         p + h + n == end;
    if (!ok)
        return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "not a SubjectPublicKeyInfo");
    return AVOW_OK;
}

/* The tag of an identifier octet as people read it: "INTEGER", "[2] (context, constructed)". */
static void tag_text(uint8_t id, char *buf, size_t n)
{
    static const char *const universal[31] = {[1] = "BOOLEAN",        [2] = "INTEGER",
                                              [3] = "BIT STRING",     [4] = "OCTET STRING",
                                              [5] = "NULL",           [6] = "OBJECT IDENTIFIER",
                                              [9] = "REAL",           [10] = "ENUMERATED",
                                              [12] = "UTF8String",    [13] = "RELATIVE-OID",
                                              [16] = "SEQUENCE",      [17] = "SET",
                                              [18] = "NumericString", [19] = "PrintableString",
                                              [20] = "T61String",     [22] = "IA5String",
                                              [23] = "UTCTime",       [24] = "GeneralizedTime",
                                              [26] = "VisibleString", [28] = "UniversalString",
                                              [30] = "BMPString"};
    static const char *const cls[4] = {"universal", "application", "context", "private"};
    unsigned num = id & 0x1fu, klass = id >> 6;
    const char *form = (id & 0x20) ? "constructed" : "primitive";
    if (klass == 0 && num < 31 && universal[num] != NULL)
        snprintf(buf, n, "%s%s", universal[num],
                 (id & 0x20) && num != 16 && num != 17 ? " (constructed)" : "");
    else
        snprintf(buf, n, "[%u] (%s, %s)", num, cls[klass], form);
}

/*
 * The identifier octet of a value the template read: OpenSSL hands over a
 * non-universal value as its whole TLV (V_ASN1_OTHER), a universal one by
 * its tag number, SEQUENCE and SET constructed.
 */
static uint8_t raw_tag(const AVOW_RAW *t)
{
    if (t->type == V_ASN1_OTHER)
        return t->len > 0 ? t->p[0] : 0;
    return (uint8_t)(t->type | (t->type == V_ASN1_SEQUENCE || t->type == V_ASN1_SET ? 0x20 : 0));
}

static avow_err wrong_type(ictx *c, const avow_claim_info *info, const AVOW_RAW *t)
{
    static const char *const want[] = {"OCTET STRING",    "UTF8String",
                                       "BOOLEAN",         "INTEGER",
                                       "GeneralizedTime", "SEQUENCE OF OBJECT IDENTIFIER"};
    char found[48];
    tag_text(raw_tag(t), found, sizeof(found));
    return avow__fail(c->diag, AVOW_ERR_CLAIM_TYPE, fld(c), "claim %s: expected %s, found %s",
                      info->name, want[info->type], found);
}

static avow_view raw_view(const AVOW_RAW *r)
{
    avow_view v = {r->p, (size_t)r->len};
    return v;
}

/* A DER INTEGER's content as int64_t; 0 when it does not fit. */
static int int64_of(const uint8_t *p, size_t len, int64_t *out)
{
    if (len == 0 || len > 8)
        return 0;
    uint64_t u = (p[0] & 0x80) ? UINT64_MAX : 0; /* sign extension */
    for (size_t i = 0; i < len; i++)
        u = (u << 8) | p[i];
    *out = (int64_t)u;
    return 1;
}

/* purpose: the whole SEQUENCE OF OBJECT IDENTIFIER, decoded with its own template. */
static avow_err purposes_value(ictx *c, avow_view seq, avow_value *out)
{
    avow_evidence *ev = c->ev;
    const unsigned char *q = seq.ptr;
    AVOW_PURPOSES_ASN1 *st = (AVOW_PURPOSES_ASN1 *)ASN1_item_d2i(
        NULL, &q, (long)seq.len, ASN1_ITEM_rptr(AVOW_PURPOSES_ASN1));
    if (st == NULL) {
        /* Name the first entry that is not an OID; the walk proved every header sound. */
        uint8_t tag;
        size_t h, n, off, bh, bn;
        char found[48] = "no OBJECT IDENTIFIER";
        int at_i = -1;
        if (avow__der_header(seq.ptr, seq.len, &tag, &h, &n) == AVOW_OK) {
            off = h;
            for (int i = 0; off < h + n; i++) {
                if (avow__der_header(seq.ptr + off, h + n - off, &tag, &bh, &bn) != AVOW_OK)
                    break;
                if (tag != 0x06) {
                    tag_text(tag, found, sizeof(found));
                    at_i = i;
                    break;
                }
                off += bh + bn;
            }
        }
        avow__ossl_clear();
        if (at_i >= 0)
            return avow__fail(c->diag, AVOW_ERR_CLAIM_TYPE, fld(c),
                              "claim purpose: expected OBJECT IDENTIFIER at [%d], found %s", at_i,
                              found);
        return avow__fail(c->diag, AVOW_ERR_CLAIM_TYPE, fld(c),
                          "claim purpose must be a SEQUENCE OF OBJECT IDENTIFIER");
    }
    if (!keep_purposes(ev, st)) {
        ASN1_item_free((ASN1_VALUE *)st, ASN1_ITEM_rptr(AVOW_PURPOSES_ASN1));
        return AVOW_ERR_NOMEM;
    }
    if (q != seq.ptr + seq.len)
        return avow__fail(c->diag, AVOW_ERR_TRAILING, fld(c), "bytes after the purposes");
    int n = sk_ASN1_OBJECT_num(st);
    if (n > (int)AVOW_EVIDENCE_MAX_PURPOSES)
        return avow__fail(c->diag, AVOW_ERR_TOO_LARGE, fld(c), "%d purposes, limit %u", n,
                          AVOW_EVIDENCE_MAX_PURPOSES);
    avow_purpose *ps = NULL;
    if (n > 0) {
        ps = keep(ev, OPENSSL_zalloc(sizeof(*ps) * (size_t)n));
        if (ps == NULL)
            return AVOW_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        ps[i].oid = obj_view(sk_ASN1_OBJECT_value(st, i));
        uint8_t sfx[2];
        ps[i].cap = AVOW_CAP_UNKNOWN;
        if (avow__arc_suffix(&ev->profile, ps[i].oid.ptr, ps[i].oid.len, sfx, 2) && sfx[0] == 2 &&
            sfx[1] < AVOW_CAP_COUNT_)
            ps[i].cap = (avow_capability)sfx[1];
    }
    out->npurposes = (size_t)n;
    out->purposes = ps;
    return AVOW_OK;
}

/*
 * The value of a claim from the table: type first, then its range. The DER
 * form of every TLV was checked before decoding (or written by the builder).
 */
static avow_err known_value(ictx *c, const avow_claim_info *info, const AVOW_RAW *t,
                            avow_value *out)
{
    int type = t->type;
    out->type = info->type;
    out->present = 1;
    out->bytes = raw_view(t);
    avow_err rc;
    switch (info->type) {
    case AVOW_VALUE_BYTES:
        if (type != V_ASN1_OCTET_STRING)
            return wrong_type(c, info, t);
        if (info->id == AVOW_CLAIM_AK_SPKI || info->id == AVOW_CLAIM_KEY_SPKI)
            return spki_check(c, out->bytes);
        /* An empty nonce would pass for one without giving freshness; RFC 9711, whose
         * oemid and hwmodel the draft takes, gives those at least one byte too. */
        if (out->bytes.len == 0)
            return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "%s is empty", info->name);
        return AVOW_OK;
    case AVOW_VALUE_UTF8:
        if (type != V_ASN1_UTF8STRING)
            return wrong_type(c, info, t);
        if (!utf8_valid(out->bytes.ptr, out->bytes.len))
            return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "%s is not valid UTF-8",
                              info->name);
        return AVOW_OK;
    case AVOW_VALUE_BOOL:
        if (type != V_ASN1_BOOLEAN)
            return wrong_type(c, info, t);
        if (t->len != 1 || (t->p[0] != 0 && t->p[0] != 0xff))
            return avow__fail(c->diag, AVOW_ERR_NOT_DER, fld(c),
                              "BOOLEAN must be one octet, TRUE 0xFF");
        out->integer = t->p[0] != 0;
        out->bytes.ptr = NULL;
        out->bytes.len = 0;
        return AVOW_OK;
    case AVOW_VALUE_INT: {
        if (type != V_ASN1_INTEGER)
            return wrong_type(c, info, t);
        int64_t v;
        if (!int64_of(t->p, (size_t)t->len, &v))
            return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "%s does not fit 64 bits",
                              info->name);
        out->integer = v;
        out->bytes.ptr = NULL;
        out->bytes.len = 0;
        int bad = v < 0 || (info->id == AVOW_CLAIM_FIPSLEVEL && (v < 1 || v > 4)) ||
                  (info->id == AVOW_CLAIM_DBGSTAT && v > 4);
        if (bad)
            return avow__fail(c->diag, AVOW_ERR_CLAIM_VALUE, fld(c), "%s %lld is out of range",
                              info->name, (long long)v);
        return AVOW_OK;
    }
    case AVOW_VALUE_TIME:
        if (type != V_ASN1_GENERALIZEDTIME)
            return wrong_type(c, info, t);
        rc = avow__gentime_parse(out->bytes.ptr, out->bytes.len, &out->time);
        if (rc != AVOW_OK)
            return avow__fail(c->diag, AVOW_ERR_BAD_TIME, fld(c), "%s is not a DER GeneralizedTime",
                              info->name);
        return AVOW_OK;
    case AVOW_VALUE_OIDS:
        if (type != V_ASN1_SEQUENCE)
            return wrong_type(c, info, t);
        out->bytes.ptr = NULL;
        out->bytes.len = 0;
        return purposes_value(c, raw_view(t), out);
    case AVOW_VALUE_RAW:
        break;
    }
    return AVOW_ERR_INTERNAL;
}

/* An unknown claim's value as its whole DER TLV. */
static avow_err raw_value(ictx *c, const AVOW_RAW *t, avow_value *out)
{
    out->type = AVOW_VALUE_RAW;
    out->present = 1;
    /* OpenSSL hands over constructed and non-universal values whole, the rest as content. */
    if (t->type == V_ASN1_SEQUENCE || t->type == V_ASN1_SET || t->type == V_ASN1_OTHER) {
        out->bytes = raw_view(t);
    } else {
        size_t n = (size_t)t->len, hl = n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5;
        uint8_t *der = keep(c->ev, OPENSSL_malloc(hl + n));
        if (der == NULL)
            return AVOW_ERR_NOMEM;
        der[0] = (uint8_t)t->type;
        if (hl == 2) {
            der[1] = (uint8_t)n;
        } else {
            der[1] = (uint8_t)(0x80 | (hl - 2));
            for (size_t k = 0; k < hl - 2; k++)
                der[hl - 1 - k] = (uint8_t)(n >> (8 * k));
        }
        if (n > 0)
            memcpy(der + hl, t->p, n);
        out->bytes.ptr = der;
        out->bytes.len = hl + n;
    }
    avow_err rc = avow__der_check(out->bytes.ptr, out->bytes.len, RAW_MAX_DEPTH);
    if (rc != AVOW_OK)
        return avow__fail(c->diag, rc == AVOW_ERR_TOO_LARGE ? rc : AVOW_ERR_NOT_DER, fld(c),
                          "value of an unknown claim is not DER");
    return AVOW_OK;
}

static int same_view(avow_view a, avow_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Repeats inside one element: only identifier and ak-spki may, and ak-spki names a key once. */
static avow_err check_repeat(ictx *c, const avow_element *el, const avow_claim *cl)
{
    if (cl->id == AVOW_CLAIM_UNKNOWN)
        return AVOW_OK; /* the draft lets unknown claims through unchecked */
    const avow_claim_info *info = avow_claim_info_get(cl->id);
    for (size_t i = 0; i < el->nclaims; i++) {
        const avow_claim *o = &el->claims[i];
        if (o->id != cl->id)
            continue;
        if (!info->repeatable)
            return avow__fail(c->diag, AVOW_ERR_DUP_CLAIM, fld(c),
                              "claim %s appears twice in one element", info->name);
        if (cl->id == AVOW_CLAIM_AK_SPKI && cl->value.present && o->value.present &&
            same_view(o->value.bytes, cl->value.bytes))
            return avow__fail(c->diag, AVOW_ERR_DUP_CLAIM, fld(c),
                              "ak-spki lists the same key twice");
    }
    return AVOW_OK;
}

static avow_err index_claim(ictx *c, avow_element *el, const AVOW_CLAIM_ASN1 *ca, avow_claim *cl)
{
    avow_evidence *ev = c->ev;
    memset(cl, 0, sizeof(*cl));
    cl->oid = raw_view(&ca->type); /* its encoding was checked with every other TLV */
    cl->id = AVOW_CLAIM_UNKNOWN;
    uint8_t sfx[3];
    const avow_claim_info *info = NULL;
    if (avow__arc_suffix(&ev->profile, cl->oid.ptr, cl->oid.len, sfx, 3) && sfx[0] == 1)
        info = avow__claim_by_arc(sfx[1], sfx[2]);
    if (info != NULL) {
        if (el->kind != AVOW_ELEMENT_UNKNOWN && info->element != el->kind)
            return avow__fail(c->diag, AVOW_ERR_CLAIM_PLACE, fld(c), "%s claim %s in a %s element",
                              avow_element_name(info->element), info->name,
                              avow_element_name(el->kind));
        cl->id = info->id;
    }
    avow_err rc = check_repeat(c, el, cl);
    if (rc != AVOW_OK)
        return rc;
    if (ca->value.type == -1) {
        if (!(ev->flags & AVOW_DECODE_ALLOW_VALUELESS))
            return avow__fail(c->diag, AVOW_ERR_VALUE_MISSING, fld(c), "claim %s has no value",
                              info ? info->name : "(unknown)");
        cl->value.type = info ? info->type : AVOW_VALUE_RAW;
        return AVOW_OK;
    }
    c->sub = ".value";
    rc = info ? known_value(c, info, &ca->value, &cl->value) : raw_value(c, &ca->value, &cl->value);
    c->sub = "";
    /* ak-spki's rule (one key once) compares values, so it runs once this value is read. */
    if (rc == AVOW_OK && cl->id == AVOW_CLAIM_AK_SPKI)
        rc = check_repeat(c, el, cl);
    return rc;
}

static avow_err check_keys(ictx *c, size_t ei)
{
    const avow_element *el = &c->ev->elements[ei];
    const avow_claim *id = NULL, *spki = NULL;
    for (size_t i = 0; i < el->nclaims; i++) {
        if (el->claims[i].id == AVOW_CLAIM_KEY_IDENTIFIER && id == NULL)
            id = &el->claims[i];
        if (el->claims[i].id == AVOW_CLAIM_KEY_SPKI)
            spki = &el->claims[i];
    }
    at(c, (int)ei, -1, "");
    if (id == NULL && !c->ev->building)
        return avow__fail(c->diag, AVOW_ERR_MISSING_CLAIM, fld(c),
                          "a key element must report identifier");
    /* Two key elements for one key: a shared identifier or a shared public key. */
    for (size_t j = 0; j < ei; j++) {
        const avow_element *o = &c->ev->elements[j];
        if (o->kind != AVOW_ELEMENT_KEY)
            continue;
        for (size_t a = 0; a < o->nclaims; a++) {
            const avow_claim *x = &o->claims[a];
            for (size_t b = 0; b < el->nclaims; b++) {
                const avow_claim *y = &el->claims[b];
                if (x->id != y->id || !x->value.present || !y->value.present)
                    continue;
                if ((x->id == AVOW_CLAIM_KEY_IDENTIFIER || x->id == AVOW_CLAIM_KEY_SPKI) &&
                    same_view(x->value.bytes, y->value.bytes))
                    return avow__fail(c->diag, AVOW_ERR_DUP_KEY, fld(c),
                                      "same %s as reportedElements[%zu]",
                                      x->id == AVOW_CLAIM_KEY_SPKI ? "spki" : "identifier", j);
            }
        }
    }
    (void)spki;
    return AVOW_OK;
}

/*
 * The byte comparisons above miss one key written twice in different
 * encodings (an EC point compressed and uncompressed, say), which would let
 * two key elements with contradicting claims describe one key, or one
 * ak-spki key be listed twice. So the claims of `id` (spki across key
 * elements, ak-spki inside the transaction element) are compared by their
 * decoded public value too. Decoding costs more than the rest of an
 * Evidence, so it happens only when there are two or more such values that
 * can have several encodings. A value OpenSSL cannot decode (an algorithm
 * it does not know) is compared by its bytes alone.
 */
/*
 * Whether claim x is one of the `id` values check_same_keys decodes. An
 * ML-DSA or SLH-DSA key has one encoding (RFC 9881, RFC 9909: the raw key,
 * parameters absent), so its bytes, compared above, decide; decoding one
 * would cost about as much as verifying its signature.
 */
static int decoded_for_compare(const avow_claim *x, avow_claim_id id)
{
    return x->id == id && x->value.present &&
           avow__sigalg_spki_pq_row(x->value.bytes.ptr, x->value.bytes.len) == NULL;
}

static avow_err check_same_keys(ictx *c, avow_claim_id id)
{
    avow_evidence *ev = c->ev;
    avow_element_kind scope =
        id == AVOW_CLAIM_KEY_SPKI ? AVOW_ELEMENT_KEY : AVOW_ELEMENT_TRANSACTION;
    size_t n = 0;
    for (size_t e = 0; e < ev->nelements; e++)
        for (size_t i = 0; ev->elements[e].kind == scope && i < ev->elements[e].nclaims; i++)
            n += decoded_for_compare(&ev->elements[e].claims[i], id);
    if (n < 2)
        return AVOW_OK;
    EVP_PKEY **keys = OPENSSL_zalloc(n * sizeof(*keys));
    size_t *el = OPENSSL_zalloc(n * sizeof(*el)), *cl = OPENSSL_zalloc(n * sizeof(*cl));
    avow_err rc = keys != NULL && el != NULL && cl != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    size_t k = 0;
    for (size_t e = 0; rc == AVOW_OK && e < ev->nelements; e++) {
        for (size_t i = 0; ev->elements[e].kind == scope && i < ev->elements[e].nclaims; i++) {
            const avow_claim *x = &ev->elements[e].claims[i];
            if (!decoded_for_compare(x, id))
                continue;
            const unsigned char *p = x->value.bytes.ptr;
            /* spki_check proved the shape; the length fits a long (the Evidence does). */
            keys[k] = d2i_PUBKEY(NULL, &p, (long)x->value.bytes.len);
            el[k] = e;
            cl[k++] = i;
        }
    }
    for (size_t b = 1; rc == AVOW_OK && b < k; b++) {
        for (size_t a = 0; a < b; a++) {
            if (keys[a] == NULL || keys[b] == NULL || EVP_PKEY_eq(keys[a], keys[b]) != 1)
                continue;
            if (id == AVOW_CLAIM_KEY_SPKI) {
                at(c, (int)el[b], -1, "");
                rc = avow__fail(c->diag, AVOW_ERR_DUP_KEY, fld(c),
                                "same key as reportedElements[%zu] (spki in another encoding)",
                                el[a]);
            } else {
                at(c, (int)el[b], (int)cl[b], "");
                rc = avow__fail(c->diag, AVOW_ERR_DUP_CLAIM, fld(c),
                                "ak-spki lists the key of claims[%zu] again (in another encoding)",
                                cl[a]);
            }
            break;
        }
    }
    for (size_t i = 0; keys != NULL && i < k; i++)
        EVP_PKEY_free(keys[i]);
    OPENSSL_free(keys);
    OPENSSL_free(el);
    OPENSSL_free(cl);
    avow__ossl_clear();
    return rc;
}

static avow_err index_elements(ictx *c)
{
    avow_evidence *ev = c->ev;
    const STACK_OF(AVOW_ELEMENT_ASN1) *els = ev->asn1->tbs->elements;
    int ne = sk_AVOW_ELEMENT_ASN1_num(els);
    if (ne <= 0 && !ev->building)
        return avow__fail(c->diag, AVOW_ERR_EMPTY, "tbs.reportedElements", "no element");
    if (ne > (int)AVOW_EVIDENCE_MAX_ELEMENTS)
        return avow__fail(c->diag, AVOW_ERR_TOO_LARGE, "tbs.reportedElements",
                          "%d elements, limit %u", ne, AVOW_EVIDENCE_MAX_ELEMENTS);
    size_t total = 0;
    for (int i = 0; i < ne; i++) {
        int n = sk_AVOW_CLAIM_ASN1_num(sk_AVOW_ELEMENT_ASN1_value(els, i)->claims);
        at(c, i, -1, ".claims");
        if (n <= 0 && !ev->building)
            return avow__fail(c->diag, AVOW_ERR_EMPTY, fld(c), "element without claims");
        if (n > (int)AVOW_EVIDENCE_MAX_CLAIMS)
            return avow__fail(c->diag, AVOW_ERR_TOO_LARGE, fld(c), "%d claims, limit %u", n,
                              AVOW_EVIDENCE_MAX_CLAIMS);
        total += (size_t)n;
    }
    if (ne == 0)
        return AVOW_OK;
    ev->elements = OPENSSL_zalloc(sizeof(*ev->elements) * (size_t)ne);
    ev->claims = OPENSSL_zalloc(sizeof(*ev->claims) * (total ? total : 1));
    if (ev->elements == NULL || ev->claims == NULL)
        return AVOW_ERR_NOMEM;
    int seen[2] = {-1, -1};
    for (int i = 0; i < ne; i++) {
        const AVOW_ELEMENT_ASN1 *ea = sk_AVOW_ELEMENT_ASN1_value(els, i);
        avow_element *el = &ev->elements[i];
        el->oid = raw_view(&ea->type);
        el->kind = AVOW_ELEMENT_UNKNOWN;
        el->claims = &ev->claims[ev->nclaims];
        ev->nelements = (size_t)i + 1;
        uint8_t sfx[2];
        if (avow__arc_suffix(&ev->profile, el->oid.ptr, el->oid.len, sfx, 2) && sfx[0] == 0 &&
            sfx[1] <= AVOW_ELEMENT_KEY)
            el->kind = (avow_element_kind)sfx[1];
        if (el->kind == AVOW_ELEMENT_TRANSACTION || el->kind == AVOW_ELEMENT_PLATFORM) {
            if (seen[el->kind] >= 0) {
                at(c, i, -1, "");
                return avow__fail(c->diag, AVOW_ERR_DUP_ELEMENT, fld(c),
                                  "second %s element (the first is reportedElements[%d])",
                                  avow_element_name(el->kind), seen[el->kind]);
            }
            seen[el->kind] = i;
        }
        int nc = sk_AVOW_CLAIM_ASN1_num(ea->claims);
        for (int j = 0; j < nc; j++) {
            at(c, i, j, "");
            avow_claim *cl = &ev->claims[ev->nclaims];
            avow_err rc = index_claim(c, el, sk_AVOW_CLAIM_ASN1_value(ea->claims, j), cl);
            if (rc != AVOW_OK)
                return rc;
            el->nclaims++;
            ev->nclaims++;
        }
        if (el->kind == AVOW_ELEMENT_KEY) {
            avow_err rc = check_keys(c, (size_t)i);
            if (rc != AVOW_OK)
                return rc;
        }
    }
    avow_err rc = check_same_keys(c, AVOW_CLAIM_KEY_SPKI);
    return rc == AVOW_OK ? check_same_keys(c, AVOW_CLAIM_AK_SPKI) : rc;
}

avow_err avow__evidence_cert_der_check(const uint8_t *der, size_t len, int walked,
                                       const char *field, avow_diag *diag)
{
    char where[64], why[160], at[96];
    avow_err rc =
        walked ? avow__der_check_cert_walked(der, len, where, sizeof(where), why, sizeof(why))
               : avow__der_check_cert(der, len, where, sizeof(where), why, sizeof(why));
    if (rc == AVOW_OK)
        return AVOW_OK;
    size_t fl = strlen(field), wl = strlen(where);
    avow__strlcpy(at, field, sizeof(at));
    if (wl > 0 && fl + 1 + wl < sizeof(at)) {
        at[fl] = '.';
        memcpy(at + fl + 1, where, wl + 1);
    }
    return avow__fail(diag, rc, at, "certificate: %s", why);
}

static avow_view raw_tlv(const AVOW_RAW *r)
{
    avow_view v = {r->p, r->len > 0 ? (size_t)r->len : 0};
    return v;
}

/*
 * The subjectPublicKeyInfo and the certificate of one SignerIdentifier must
 * be one key: compared as DER, the certificate's read off its headers.
 */
static avow_err same_key_as_cert(ictx *c, const avow_signature_block *sb, int i)
{
    const uint8_t *spki = NULL;
    size_t n = 0;
    int same = avow__cert_spki(sb->cert_der.ptr, sb->cert_der.len, &spki, &n) &&
               n == sb->spki.len && memcmp(spki, sb->spki.ptr, n) == 0;
    if (same)
        return AVOW_OK;
    char where[48];
    snprintf(where, sizeof(where), "signatures[%d].sid.subjectPublicKeyInfo", i);
    return avow__fail(c->diag, AVOW_ERR_SIGNER_MISMATCH, where,
                      "subjectPublicKeyInfo is not the key of sid.certificate");
}

static avow_err index_signatures(ictx *c)
{
    avow_evidence *ev = c->ev;
    /*
     * A decoded Evidence was walked whole before its template decode, so its
     * certificates need the schema's rules only; a builder's were checked in
     * full when they were added (avow__evidence_cert_raw).
     */
    int walked = 1;
    int ns = sk_AVOW_SIG_ASN1_num(ev->asn1->sigs);
    if (ns > (int)AVOW_EVIDENCE_MAX_SIGNATURES)
        return avow__fail(c->diag, AVOW_ERR_TOO_LARGE, "signatures", "%d signatures, limit %u", ns,
                          AVOW_EVIDENCE_MAX_SIGNATURES);
    if (ns > 0) {
        ev->sigs = OPENSSL_zalloc(sizeof(*ev->sigs) * (size_t)ns);
        ev->sid_x509 = OPENSSL_malloc(sizeof(*ev->sid_x509) * (size_t)ns);
        if (ev->sigs == NULL || ev->sid_x509 == NULL)
            return AVOW_ERR_NOMEM;
        for (int i = 0; i < ns; i++)
            atomic_init(&ev->sid_x509[i], NULL);
    }
    for (int i = 0; i < ns; i++) {
        const AVOW_SIG_ASN1 *sa = sk_AVOW_SIG_ASN1_value(ev->asn1->sigs, i);
        avow_signature_block *sb = &ev->sigs[i];
        char where[48];
        snprintf(where, sizeof(where), "signatures[%d].sid", i);
        at(c, -1, -1, where);
        /* -07: a SEQUENCE of three OPTIONAL fields, at least one present. */
        if (sa->sid->key_id == NULL && sa->sid->spki == NULL && sa->sid->cert.type == -1)
            return avow__fail(c->diag, AVOW_ERR_SIGNER_ID, fld(c),
                              "no keyId, subjectPublicKeyInfo or certificate");
        if (sa->sid->key_id != NULL) {
            sb->sid_fields |= AVOW_SID_HAS_KEYID;
            sb->sid_kind = AVOW_SID_KEYID;
            sb->key_id = str_view(sa->sid->key_id);
            if (sb->key_id.len == 0)
                return avow__fail(c->diag, AVOW_ERR_SIGNER_ID, fld(c), "empty keyId");
        }
        if (sa->sid->spki != NULL) {
            sb->sid_fields |= AVOW_SID_HAS_SPKI;
            sb->sid_kind = AVOW_SID_SPKI;
            unsigned char *der = NULL;
            int n = i2d_AVOW_SPKI_ASN1(sa->sid->spki, &der);
            if (n <= 0 || keep(ev, der) == NULL)
                return avow__fail_ossl(c->diag, AVOW_ERR_BAD_SPKI, fld(c),
                                       "bad subjectPublicKeyInfo");
            sb->spki.ptr = der;
            sb->spki.len = (size_t)n;
        }
        if (sa->sid->cert.type != -1) {
            sb->sid_fields |= AVOW_SID_HAS_CERT;
            sb->sid_kind = AVOW_SID_CERT;
            sb->cert_der = raw_tlv(&sa->sid->cert);
            snprintf(where, sizeof(where), "signatures[%d].sid.certificate", i);
            avow_err rc = avow__evidence_cert_der_check(sb->cert_der.ptr, sb->cert_der.len, walked,
                                                        where, c->diag);
            if (rc != AVOW_OK)
                return rc;
        }
        if ((sb->sid_fields & AVOW_SID_HAS_SPKI) && (sb->sid_fields & AVOW_SID_HAS_CERT)) {
            avow_err rc = same_key_as_cert(c, sb, i);
            if (rc != AVOW_OK)
                return rc;
        }
        unsigned char *alg = NULL;
        int n = i2d_X509_ALGOR(sa->alg, &alg);
        if (n <= 0 || keep(ev, alg) == NULL) {
            snprintf(where, sizeof(where), "signatures[%d].signatureAlgorithm", i);
            return avow__fail_ossl(c->diag, AVOW_ERR_MALFORMED, where, "bad algorithm");
        }
        sb->algorithm.ptr = alg;
        sb->algorithm.len = (size_t)n;
        sb->value = str_view(sa->value);
        ev->nsigs = (size_t)i + 1;
    }
    int nc = sk_AVOW_RAW_num(ev->asn1->certs);
    if (nc > (int)AVOW_EVIDENCE_MAX_CERTS)
        return avow__fail(c->diag, AVOW_ERR_TOO_LARGE, "intermediateCertificates",
                          "%d certificates, limit %u", nc, AVOW_EVIDENCE_MAX_CERTS);
    if (nc > 0 && (ev->inter_der = OPENSSL_malloc(sizeof(*ev->inter_der) * (size_t)nc)) == NULL)
        return AVOW_ERR_NOMEM;
    for (int i = 0; i < nc; i++) {
        char where[48];
        snprintf(where, sizeof(where), "intermediateCertificates[%d]", i);
        avow_view der = raw_tlv(sk_AVOW_RAW_value(ev->asn1->certs, i));
        avow_err rc = avow__evidence_cert_der_check(der.ptr, der.len, walked, where, c->diag);
        if (rc != AVOW_OK)
            return rc;
        ev->inter_der[i] = der;
        ev->ninter = (size_t)i + 1;
    }
    return AVOW_OK;
}

avow_err avow__evidence_index(avow_evidence *ev, avow_diag *diag)
{
    ictx c = {ev, diag, -1, -1, "", {0}};
    avow__evidence_unindex(ev);
    int64_t version;
    if (!ASN1_INTEGER_get_int64(&version, ev->asn1->tbs->version) || version != 1) {
        avow__ossl_clear();
        return avow__fail(diag, AVOW_ERR_VERSION, "tbs.version", "version must be 1");
    }
    ev->version = version;
    avow_err rc = index_elements(&c);
    if (rc == AVOW_OK)
        rc = index_signatures(&c);
    return rc;
}
