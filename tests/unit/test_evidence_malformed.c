/*
 * Negative vectors for the PKIX Evidence decoder, table-driven: each row is a
 * name saying what is wrong, a function that writes the bytes with the small
 * DER composer below (so each case reads like the ASN.1), and the exact code
 * avow_evidence_decode must return. Every row also checks that *out is reset
 * to NULL, that diag.field names a place and that the OpenSSL queue is empty.
 *
 * Beyond the named rows, truncation sweeps cut a valid Evidence inside every
 * header and content (with the enclosing lengths fixed up so the cut is not
 * just caught by the outer frame) and demand TRUNCATED or MALFORMED.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>

/* ---------- a tiny DER composer; blobs live in an arena freed after each case ---------- */

typedef struct blob {
    struct blob *next;
    size_t len;
    uint8_t b[];
} blob;

static blob *arena;

static blob *bnew(size_t len)
{
    blob *x = malloc(sizeof(*x) + len + 1);
    assert_non_null(x);
    x->next = arena;
    x->len = len;
    arena = x;
    return x;
}

static void arena_free(void)
{
    while (arena != NULL) {
        blob *n = arena->next;
        free(arena);
        arena = n;
    }
}

#define END ((blob *)NULL)

static blob *bytes(const void *p, size_t n)
{
    blob *x = bnew(n);
    if (n > 0)
        memcpy(x->b, p, n);
    return x;
}

/* Raw bytes from hex text; spaces are ignored. */
static blob *hex(const char *h)
{
    blob *x = bnew(strlen(h) / 2);
    size_t n = 0;
    for (const char *p = h; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        x->b[n++] = (uint8_t)v;
        p += 2;
    }
    x->len = n;
    return x;
}

static size_t put_len(uint8_t *o, size_t n)
{
    if (n < 0x80) {
        o[0] = (uint8_t)n;
        return 1;
    }
    size_t k = 0;
    for (size_t v = n; v > 0; v >>= 8)
        k++;
    o[0] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        o[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    return 1 + k;
}

/* Minimal-length TLV around content p[0..n). */
static blob *tlv(uint8_t tag, const void *p, size_t n)
{
    uint8_t h[10];
    h[0] = tag;
    size_t hl = 1 + put_len(h + 1, n);
    blob *x = bnew(hl + n);
    memcpy(x->b, h, hl);
    if (n > 0)
        memcpy(x->b + hl, p, n);
    return x;
}

/* Concatenation of a NULL-terminated list of blobs. */
static blob *cat_va(blob *first, va_list ap)
{
    size_t n = 0;
    va_list aq;
    va_copy(aq, ap);
    for (blob *c = first; c != NULL; c = va_arg(aq, blob *))
        n += c->len;
    va_end(aq);
    blob *x = bnew(n);
    n = 0;
    for (blob *c = first; c != NULL; c = va_arg(ap, blob *)) {
        memcpy(x->b + n, c->b, c->len);
        n += c->len;
    }
    return x;
}

static blob *cat(blob *first, ...)
{
    va_list ap;
    va_start(ap, first);
    blob *x = cat_va(first, ap);
    va_end(ap);
    return x;
}

/* Constructed TLV of the concatenated children. */
static blob *cons(uint8_t tag, blob *first, ...)
{
    va_list ap;
    va_start(ap, first);
    blob *c = cat_va(first, ap);
    va_end(ap);
    return tlv(tag, c->b, c->len);
}

/* TLV with a long-form length of k octets (k > minimal gives a non-DER length). */
static blob *tlv_longlen(uint8_t tag, size_t k, blob *content)
{
    blob *x = bnew(2 + k + content->len);
    x->b[0] = tag;
    x->b[1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        x->b[2 + i] = (uint8_t)(content->len >> (8 * (k - 1 - i)));
    memcpy(x->b + 2 + k, content->b, content->len);
    return x;
}

/* Indefinite-length (BER) TLV: tag 0x80 content 00 00. */
static blob *tlv_indef(uint8_t tag, blob *content)
{
    return cat(hex(""), bytes(&tag, 1), hex("80"), content, hex("0000"), END);
}

#define NOTHING     hex("")
#define SEQ(...)    cons(0x30, __VA_ARGS__, END)
#define SET(...)    cons(0x31, __VA_ARGS__, END)
#define CTX(n, ...) cons((uint8_t)(0xa0 | (n)), __VA_ARGS__, END)
#define OCT(h)      prim(0x04, hex(h))
#define BOOLV(b)    hex((b) ? "0101ff" : "010100")
#define NUL         hex("0500")

static blob *prim(uint8_t tag, blob *content)
{
    return tlv(tag, content->b, content->len);
}

static blob *INT(int64_t v)
{
    uint8_t c[9];
    size_t n = 0;
    int started = 0;
    for (int i = 7; i >= 0; i--) {
        uint8_t byte = (uint8_t)((uint64_t)v >> (8 * i));
        if (!started) {
            /* skip redundant sign octets */
            uint8_t next = i > 0 ? (uint8_t)((uint64_t)v >> (8 * (i - 1))) : 0;
            if (i > 0 && ((byte == 0x00 && !(next & 0x80)) || (byte == 0xff && (next & 0x80))))
                continue;
            started = 1;
        }
        c[n++] = byte;
    }
    return tlv(0x02, c, n);
}

static blob *UTF8(const char *s)
{
    return tlv(0x0c, s, strlen(s));
}

static blob *GTIME(const char *s)
{
    return tlv(0x18, s, strlen(s));
}

static blob *OID(const char *dotted)
{
    avow_oid o;
    assert_int_equal(avow_oid_from_text(&o, dotted), AVOW_OK);
    return tlv(0x06, o.der, o.len);
}

/* OID under the default id-evidence arc: EOID("1.0.0") = arc.1.0.0 */
static blob *EOID(const char *sub)
{
    char t[128];
    snprintf(t, sizeof(t), "%s.%s", AVOW_DEFAULT_EVIDENCE_ARC, sub);
    return OID(t);
}

/* Short names for the claim table. */
enum {
    NONCE = AVOW_CLAIM_NONCE,
    TIMESTAMP = AVOW_CLAIM_TIMESTAMP,
    AKSPKI = AVOW_CLAIM_AK_SPKI,
    VENDOR = AVOW_CLAIM_VENDOR,
    HWMODEL = AVOW_CLAIM_HWMODEL,
    DBGSTAT = AVOW_CLAIM_DBGSTAT,
    UPTIME = AVOW_CLAIM_UPTIME,
    BOOTCOUNT = AVOW_CLAIM_BOOTCOUNT,
    FIPSBOOT = AVOW_CLAIM_FIPSBOOT,
    FIPSLEVEL = AVOW_CLAIM_FIPSLEVEL,
    IDENT = AVOW_CLAIM_KEY_IDENTIFIER,
    SPKI = AVOW_CLAIM_KEY_SPKI,
    EXPIRY = AVOW_CLAIM_KEY_EXPIRY,
    PURPOSE = AVOW_CLAIM_KEY_PURPOSE
};

/* ReportedClaim of table claim `id` with value (NULL = no value). */
static blob *C(int id, blob *value)
{
    const avow_claim_info *info = avow_claim_info_get((avow_claim_id)id);
    assert_non_null(info);
    char sub[32];
    snprintf(sub, sizeof(sub), "1.%d.%d", (int)info->element, (int)info->arc_claim);
    return value != NULL ? SEQ(EOID(sub), value) : SEQ(EOID(sub));
}

static blob *ELEM(int kind, blob *claims)
{
    char sub[16];
    snprintf(sub, sizeof(sub), "0.%d", kind);
    return SEQ(EOID(sub), claims);
}

#define CLAIMS(...)    SEQ(__VA_ARGS__)
#define TX(...)        ELEM(AVOW_ELEMENT_TRANSACTION, CLAIMS(__VA_ARGS__))
#define PLAT(...)      ELEM(AVOW_ELEMENT_PLATFORM, CLAIMS(__VA_ARGS__))
#define KEY(...)       ELEM(AVOW_ELEMENT_KEY, CLAIMS(__VA_ARGS__))
#define TBSV(ver, ...) SEQ(ver, SEQ(__VA_ARGS__))
#define TBS(...)       TBSV(INT(1), __VA_ARGS__)
#define SIGS(...)      SEQ(__VA_ARGS__)
#define NOSIGS         SEQ(NOTHING)
#define EVIDENCE(...)  SEQ(__VA_ARGS__)

/* Fixtures made once: two SubjectPublicKeyInfos and one certificate. */
static avow_buf g_spki_a, g_spki_a_compressed, g_spki_b, g_cert;
static EVP_PKEY *g_key_a, *g_key_b;

static blob *SPKI_A(void)
{
    return tlv(0x04, g_spki_a.ptr, g_spki_a.len);
}
static blob *SPKI_A_COMPRESSED(void)
{
    return tlv(0x04, g_spki_a_compressed.ptr, g_spki_a_compressed.len);
}
static blob *SPKI_B(void)
{
    return tlv(0x04, g_spki_b.ptr, g_spki_b.len);
}
static blob *CERT(void)
{
    return bytes(g_cert.ptr, g_cert.len);
}

static blob *VENDOR_OK(void)
{
    return C(VENDOR, UTF8("Acme Corp"));
}
static blob *ALG(void)
{
    return SEQ(OID("1.2.840.10045.4.3.2"));
}
static blob *SIGVAL(void)
{
    return OCT("3006020101020101");
}
static blob *SID_KEYID(void)
{
    return SEQ(CTX(0, OCT("1d0a7417")));
}
static blob *SIG_KEYID(void)
{
    return SEQ(SID_KEYID(), ALG(), SIGVAL());
}
/* One platform element with one claim: the smallest valid Evidence around `tbs_claims`. */
static blob *EV_PLAT(blob *claim)
{
    return EVIDENCE(TBS(PLAT(claim)), NOSIGS);
}
static blob *EV_KEY(blob *claim)
{
    return EVIDENCE(TBS(KEY(C(IDENT, UTF8("k1")), claim)), NOSIGS);
}
static blob *EV_TX(blob *claim)
{
    return EVIDENCE(TBS(TX(claim)), NOSIGS);
}
static blob *EV_SIG(blob *sig)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), SIGS(sig));
}

/* A rich valid Evidence: every element kind, all three sid choices, intermediates. */
static blob *rich(void)
{
    return EVIDENCE(
        TBS(TX(C(NONCE, OCT("deadbeefcafebabe")), C(TIMESTAMP, GTIME("20260721111338Z")),
               C(AKSPKI, SPKI_A()), C(AKSPKI, SPKI_B())),
            PLAT(VENDOR_OK(), C(HWMODEL, OCT("48534d2d39303030")), C(DBGSTAT, INT(3)),
                 C(UPTIME, INT(86400)), C(FIPSBOOT, BOOLV(1)), C(FIPSLEVEL, INT(3))),
            KEY(C(IDENT, UTF8("9a25f603")), C(IDENT, UTF8("alias")), C(SPKI, SPKI_A()),
                C(AVOW_CLAIM_KEY_EXTRACTABLE, BOOLV(0)), C(EXPIRY, GTIME("20300101000000Z")),
                C(PURPOSE, SEQ(EOID("2.4"), EOID("2.6"), OID("1.2.3.4")))),
            KEY(C(IDENT, UTF8("85704b99")), C(SPKI, SPKI_B())),
            SEQ(OID("1.2.3.888.0"), SEQ(SEQ(OID("1.2.3.888.1"), SEQ(INT(5), UTF8("x")))))),
        SIGS(SIG_KEYID(), SEQ(SEQ(CTX(1, bytes(g_spki_a.ptr, g_spki_a.len))), ALG(), SIGVAL()),
             SEQ(SEQ(CTX(2, CERT())), ALG(), SIGVAL())),
        CTX(0, CERT()));
}

/*
 * ---------- certificates written by hand ----------
 *
 * HANDCERT(flaw) composes an X.509 v3 certificate field by field, as the
 * ASN.1 of RFC 5280 reads: version [0] v3, serial 1, ecdsa-with-SHA256,
 * issuer CN=Hand CA, validity 2026-01-01 to 2099-12-31, subject CN=Hand AK,
 * the P-256 key A, and extensions keyUsage (critical, digitalSignature),
 * extendedKeyUsage (the AK EKU), basicConstraints (empty: cA FALSE left
 * out). The signature is a placeholder: decoding never checks it. Each flaw
 * changes one part into an encoding OpenSSL reads but DER forbids; HC_OK and
 * HC_RDN_SORTED are the passing neighbours.
 */
enum {
    HC_OK = 0,
    HC_NAME_LONGLEN,       /* subject SEQUENCE with a long-form length (BER, in the TBS) */
    HC_SERIAL_PADDED,      /* serialNumber 00 01: a non-minimal INTEGER */
    HC_CRIT_BOOL_01,       /* keyUsage critical as BOOLEAN 0x01 */
    HC_CRIT_FALSE,         /* critical FALSE written out: the DEFAULT */
    HC_VERSION_V1,         /* version [0] INTEGER 0 written out: the DEFAULT */
    HC_ISSUER_UID_CONS,    /* issuerUniqueID [1] IMPLICIT BIT STRING in constructed form */
    HC_EKU_INNER_LONGLEN,  /* a long-form length inside the EKU extnValue */
    HC_BC_CA_FALSE,        /* basicConstraints cA FALSE written out */
    HC_BC_BOOL_01,         /* basicConstraints cA as BOOLEAN 0x01 */
    HC_KU_TRAILING_ZERO,   /* keyUsage 03 02 00 80: named bits with trailing zero bits */
    HC_UTCTIME_NO_SECONDS, /* notBefore UTCTime 2601010000Z */
    HC_GENTIME_ZERO_FRAC,  /* notAfter GeneralizedTime 20991231235959.10Z */
    HC_RDN_UNSORTED,       /* a two-attribute RDN whose SET OF is out of DER order */
    HC_RDN_SORTED,         /* the same RDN in order (passes) */
    HC_EXT_TRAILING        /* bytes after the value inside an extnValue */
};

#define OCTW(b) wrap(0x04, (b))

static blob *wrap(uint8_t tag, blob *inner)
{
    return tlv(tag, inner->b, inner->len);
}

static blob *CN(const char *cn)
{
    return SEQ(SET(SEQ(OID("2.5.4.3"), UTF8(cn))));
}

static blob *HANDCERT(int flaw)
{
    blob *version = CTX(0, flaw == HC_VERSION_V1 ? INT(0) : INT(2));
    blob *serial = flaw == HC_SERIAL_PADDED ? prim(0x02, hex("0001")) : INT(1);
    blob *issuer = CN("Hand CA");
    if (flaw == HC_RDN_UNSORTED || flaw == HC_RDN_SORTED) {
        /* CN (55 04 03) sorts before O (55 04 0a); both values are 4 bytes. */
        blob *cn = SEQ(OID("2.5.4.3"), UTF8("Hand")), *o = SEQ(OID("2.5.4.10"), UTF8("Hand"));
        issuer = flaw == HC_RDN_SORTED ? SEQ(SET(cn, o)) : SEQ(SET(o, cn));
    }
    blob *nb = flaw == HC_UTCTIME_NO_SECONDS ? prim(0x17, bytes("2601010000Z", 11))
                                             : prim(0x17, bytes("260101000000Z", 13));
    blob *na =
        flaw == HC_GENTIME_ZERO_FRAC ? GTIME("20991231235959.10Z") : GTIME("20991231235959Z");
    blob *subject_rdn = SET(SEQ(OID("2.5.4.3"), UTF8("Hand AK")));
    blob *subject =
        flaw == HC_NAME_LONGLEN ? tlv_longlen(0x30, 1, subject_rdn) : wrap(0x30, subject_rdn);
    blob *crit = flaw == HC_CRIT_BOOL_01 ? hex("010101")
                 : flaw == HC_CRIT_FALSE ? BOOLV(0)
                                         : BOOLV(1);
    blob *ku_bits = flaw == HC_KU_TRAILING_ZERO ? hex("0080") : hex("0780");
    blob *ku = SEQ(OID("2.5.29.15"), crit, OCTW(prim(0x03, ku_bits)));
    char eku_oid[128];
    avow_profile prof;
    avow_profile_default(&prof);
    avow_oid_to_text(prof.ak_eku.der, prof.ak_eku.len, eku_oid, sizeof(eku_oid));
    blob *eku_val = flaw == HC_EKU_INNER_LONGLEN ? tlv_longlen(0x30, 1, OID(eku_oid))
                    : flaw == HC_EXT_TRAILING    ? cat(SEQ(OID(eku_oid)), NUL, END)
                                                 : SEQ(OID(eku_oid));
    blob *eku = SEQ(OID("2.5.29.37"), OCTW(eku_val));
    blob *bc_val = flaw == HC_BC_CA_FALSE  ? SEQ(BOOLV(0))
                   : flaw == HC_BC_BOOL_01 ? SEQ(hex("010101"))
                                           : SEQ(NOTHING);
    blob *bc = SEQ(OID("2.5.29.19"), OCTW(bc_val));
    blob *uid = flaw == HC_ISSUER_UID_CONS ? CTX(1, prim(0x03, hex("00ff"))) : NOTHING;
    blob *tbs = SEQ(version, serial, ALG(), issuer, SEQ(nb, na), subject,
                    bytes(g_spki_a.ptr, g_spki_a.len), uid, CTX(3, SEQ(ku, eku, bc)));
    return SEQ(tbs, ALG(), prim(0x03, hex("003006020101020101")));
}

/* The hand-made certificate as the sid certificate (arg = flaw) or as an intermediate. */
static blob *m_sid_handcert(int flaw)
{
    return EV_SIG(SEQ(SEQ(CTX(2, HANDCERT(flaw))), ALG(), SIGVAL()));
}
static blob *m_inter_handcert(int flaw)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, CTX(0, CERT(), HANDCERT(flaw)));
}

/* ---------- the named cases ---------- */

static blob *m_empty_input(void)
{
    return NOTHING;
}
static blob *m_one_byte(void)
{
    return hex("30");
}
static blob *m_outer_set(void)
{
    return cons(0x31, TBS(PLAT(VENDOR_OK())), NOSIGS, END);
}
static blob *m_outer_octets(void)
{
    return OCT("3000");
}
static blob *m_outer_high_tag(void)
{
    return hex("1f8100 00");
}
static blob *m_tbs_not_seq(void)
{
    return EVIDENCE(SET(INT(1), SEQ(PLAT(VENDOR_OK()))), NOSIGS);
}
static blob *m_tbs_missing(void)
{
    return EVIDENCE(NOSIGS);
}
static blob *m_outer_indefinite(void)
{
    return tlv_indef(0x30, cat(TBS(PLAT(VENDOR_OK())), NOSIGS, END));
}
static blob *m_inner_indefinite(void)
{
    return EVIDENCE(TBS(tlv_indef(0x30, cat(EOID("0.1"), SEQ(VENDOR_OK()), END))), NOSIGS);
}
static blob *m_outer_longlen_short(void)
{
    return tlv_longlen(0x30, 1, cat(TBS(PLAT(C(VENDOR, UTF8("A")))), NOSIGS, END));
}
static blob *m_outer_len_leading_zero(void)
{
    return tlv_longlen(0x30, 3, cat(TBS(PLAT(VENDOR_OK())), NOSIGS, END));
}
static blob *m_inner_longlen(void)
{
    return EVIDENCE(TBS(PLAT(cons(0x30, EOID("1.1.0"), tlv_longlen(0x0c, 1, hex("41")), END))),
                    NOSIGS);
}
static blob *m_inner_len_leading_zero(void)
{
    return EVIDENCE(TBS(PLAT(tlv_longlen(0x30, 2, cat(EOID("1.1.0"), UTF8("Acme"), END)))), NOSIGS);
}
static blob *m_length_too_many_octets(void)
{
    return hex("30 85 00 00 00 00 05 3003020101");
}
static blob *m_trailing_after(void)
{
    return cat(EV_PLAT(VENDOR_OK()), hex("00"), END);
}
static blob *m_trailing_evidence(void)
{
    return cat(EV_PLAT(VENDOR_OK()), EV_PLAT(VENDOR_OK()), END);
}
static blob *m_trailing_in_tbs(void)
{
    return EVIDENCE(SEQ(INT(1), SEQ(PLAT(VENDOR_OK())), NUL), NOSIGS);
}
static blob *m_trailing_in_claim(void)
{
    return EV_PLAT(SEQ(EOID("1.1.0"), UTF8("Acme"), NUL));
}
static blob *m_trailing_in_evidence_seq(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, CTX(0, CERT()), NUL);
}
static blob *m_version(int v)
{
    return EVIDENCE(TBSV(INT(v), PLAT(VENDOR_OK())), NOSIGS);
}
static blob *m_version_huge(void)
{
    return EVIDENCE(TBSV(prim(0x02, hex("01000000000000000001")), PLAT(VENDOR_OK())), NOSIGS);
}
static blob *m_version_padded(void)
{
    return EVIDENCE(TBSV(prim(0x02, hex("0001")), PLAT(VENDOR_OK())), NOSIGS);
}
static blob *m_version_bool(void)
{
    return EVIDENCE(TBSV(BOOLV(1), PLAT(VENDOR_OK())), NOSIGS);
}
static blob *m_no_elements(void)
{
    return EVIDENCE(SEQ(INT(1), SEQ(NOTHING)), NOSIGS);
}
static blob *m_elements_missing(void)
{
    return EVIDENCE(SEQ(INT(1)), NOSIGS);
}
static blob *m_element_no_claims(void)
{
    return EVIDENCE(TBS(ELEM(AVOW_ELEMENT_PLATFORM, SEQ(NOTHING))), NOSIGS);
}
static blob *m_element_unknown_no_claims(void)
{
    return EVIDENCE(TBS(SEQ(OID("1.2.3.4"), SEQ(NOTHING))), NOSIGS);
}
static blob *m_element_type_not_oid(void)
{
    return EVIDENCE(TBS(SEQ(UTF8("platform"), SEQ(VENDOR_OK()))), NOSIGS);
}
static blob *m_element_bad_oid(void)
{
    return EVIDENCE(TBS(SEQ(prim(0x06, hex("2b0601050587")), SEQ(VENDOR_OK()))), NOSIGS);
}
static blob *m_claim_type_empty_oid(void)
{
    return EV_PLAT(SEQ(prim(0x06, NOTHING), UTF8("x")));
}
static blob *m_claims_primitive_seq(void)
{
    return EVIDENCE(TBS(SEQ(EOID("0.1"), prim(0x10, VENDOR_OK()))), NOSIGS);
}
static blob *m_tbs_primitive_seq(void)
{
    return EVIDENCE(prim(0x10, cat(INT(1), SEQ(PLAT(VENDOR_OK())), END)), NOSIGS);
}
static blob *m_claim_not_seq(void)
{
    return EVIDENCE(TBS(PLAT(SET(EOID("1.1.0"), UTF8("Acme")))), NOSIGS);
}

/* Each claim of the table with a value of some other universal type. */
static blob *m_wrong_type(int id)
{
    const avow_claim_info *info = avow_claim_info_get((avow_claim_id)id);
    blob *v;
    switch (info->type) {
    case AVOW_VALUE_BYTES:
        v = UTF8("not octets");
        break;
    case AVOW_VALUE_UTF8:
        v = OCT("414243");
        break;
    case AVOW_VALUE_BOOL:
        v = INT(1);
        break;
    case AVOW_VALUE_INT:
        v = BOOLV(1);
        break;
    case AVOW_VALUE_TIME:
        v = prim(0x17, hex("3236303130313030303030305a")); /* UTCTime 260101000000Z */
        break;
    default:
        v = SET(EOID("2.4"));
        break;
    }
    switch (info->element) {
    case AVOW_ELEMENT_TRANSACTION:
        return EV_TX(C(id, v));
    case AVOW_ELEMENT_PLATFORM:
        return EV_PLAT(C(id, v));
    default:
        if (id == IDENT)
            return EVIDENCE(TBS(KEY(C(IDENT, v))), NOSIGS);
        return EV_KEY(C(id, v));
    }
}
static blob *m_context_tagged_value(void)
{
    return EV_PLAT(C(VENDOR, prim(0x81, hex("41636d65"))));
}
static blob *m_bool_01(void)
{
    return EV_PLAT(C(FIPSBOOT, hex("010101")));
}
static blob *m_bool_long(void)
{
    return EV_PLAT(C(FIPSBOOT, hex("0102ffff")));
}
static blob *m_bool_01_unknown(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), hex("010101")));
}
static blob *m_int_padded(void)
{
    return EV_PLAT(C(UPTIME, prim(0x02, hex("0005"))));
}
static blob *m_int_ff_padded(void)
{
    return EV_PLAT(C(UPTIME, prim(0x02, hex("ff85"))));
}
static blob *m_int_empty(void)
{
    return EV_PLAT(C(UPTIME, prim(0x02, NOTHING)));
}
static blob *m_int_value(int args)
{
    int id = args >> 8;
    return EV_PLAT(C(id, INT((int8_t)(args & 0xff))));
}
static blob *m_int_too_big(void)
{
    return EV_PLAT(C(UPTIME, prim(0x02, hex("010000000000000000"))));
}
static blob *m_int_huge_negative(void)
{
    return EV_PLAT(C(BOOTCOUNT, prim(0x02, hex("ff7fffffffffffffff"))));
}
static blob *m_time(int which)
{
    static const char *const bad[] = {
        "20260101000000+0100", /* offset instead of Z */
        "20260101000000",      /* no Z */
        "20260101000000.10Z",  /* fraction with a trailing zero */
        "20261301000000Z",     /* month 13 */
        "20260230000000Z",     /* 30 February */
        "202601010000Z",       /* no seconds */
        "20260101000000.Z",    /* empty fraction */
        "20260101000000,5Z",   /* comma as decimal sign */
        "20260101240000Z",     /* hour 24 */
        "20260101000060Z",     /* leap second */
        "2026010100000aZ",     /* not a digit */
    };
    return EV_TX(C(TIMESTAMP, GTIME(bad[which])));
}
static blob *m_expiry_bad(void)
{
    return EV_KEY(C(EXPIRY, GTIME("20290229000000Z"))); /* 2029 is not a leap year */
}
static blob *m_utf8(int which)
{
    static const char *const bad[] = {
        "41ff42",   /* 0xFF never appears in UTF-8 */
        "c0af",     /* over-long '/' */
        "eda080",   /* surrogate U+D800 */
        "e282",     /* cut sequence */
        "f4908080", /* above U+10FFFF */
    };
    return EV_PLAT(C(VENDOR, prim(0x0c, hex(bad[which]))));
}
static blob *m_ident_bad_utf8(void)
{
    return EVIDENCE(TBS(KEY(C(IDENT, prim(0x0c, hex("80"))))), NOSIGS);
}
static blob *m_spki_not_spki(void)
{
    return EV_KEY(C(SPKI, OCT("3003020101")));
}
static blob *m_spki_empty(void)
{
    return EV_KEY(C(SPKI, OCT("")));
}
static blob *m_empty_bytes(int id)
{
    if (id == NONCE)
        return EV_TX(C(NONCE, OCT("")));
    return EV_PLAT(C(id, OCT("")));
}
static blob *m_spki_trailing(void)
{
    return EV_KEY(C(SPKI, prim(0x04, cat(bytes(g_spki_a.ptr, g_spki_a.len), hex("00"), END))));
}
static blob *m_akspki_garbage(void)
{
    return EV_TX(C(AKSPKI, OCT("deadbeef")));
}
static blob *m_akspki_dup(void)
{
    return EVIDENCE(TBS(TX(C(AKSPKI, SPKI_A()), C(AKSPKI, SPKI_B()), C(AKSPKI, SPKI_A()))), NOSIGS);
}
static blob *m_akspki_dup_compressed(void)
{
    return EVIDENCE(
        TBS(TX(C(AKSPKI, SPKI_A()), C(AKSPKI, SPKI_B()), C(AKSPKI, SPKI_A_COMPRESSED()))), NOSIGS);
}
static blob *m_purpose_octets(void)
{
    return EV_KEY(C(PURPOSE, OCT("3003060100")));
}
static blob *m_purpose_non_oid(void)
{
    return EV_KEY(C(PURPOSE, SEQ(EOID("2.4"), INT(4))));
}
static blob *m_purpose_nested_seq(void)
{
    return EV_KEY(C(PURPOSE, SEQ(SEQ(EOID("2.4")))));
}
static blob *m_purpose_ber(void)
{
    return EV_KEY(C(PURPOSE, SEQ(tlv_longlen(0x06, 1, hex("2b0601050587670204")))));
}
static blob *m_purpose_too_many(void)
{
    blob *l = NOTHING;
    for (unsigned i = 0; i < AVOW_EVIDENCE_MAX_PURPOSES + 1; i++)
        l = cat(l, EOID("2.4"), END);
    return EV_KEY(C(PURPOSE, prim(0x30, l)));
}
static blob *m_two_tx(void)
{
    return EVIDENCE(TBS(TX(C(NONCE, OCT("01"))), PLAT(VENDOR_OK()), TX(C(NONCE, OCT("02")))),
                    NOSIGS);
}
static blob *m_two_plat(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK()), PLAT(C(HWMODEL, OCT("01")))), NOSIGS);
}
static blob *m_two_nonce(void)
{
    return EV_TX(cat(C(NONCE, OCT("01")), C(NONCE, OCT("02")), END));
}
static blob *m_two_vendor(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK(), C(UPTIME, INT(1)), C(VENDOR, UTF8("Other")))), NOSIGS);
}
static blob *m_two_spki_one_key(void)
{
    return EV_KEY(cat(C(SPKI, SPKI_A()), C(SPKI, SPKI_B()), END));
}
static blob *m_two_fipslevel_same_value(void)
{
    return EVIDENCE(TBS(PLAT(C(FIPSLEVEL, INT(2)), C(FIPSLEVEL, INT(2)))), NOSIGS);
}
static blob *m_key_no_ident(void)
{
    return EVIDENCE(TBS(KEY(C(SPKI, SPKI_A()))), NOSIGS);
}
static blob *m_key_same_ident(void)
{
    return EVIDENCE(TBS(KEY(C(IDENT, UTF8("k1")), C(SPKI, SPKI_A())),
                        KEY(C(IDENT, UTF8("k2")), C(IDENT, UTF8("k1")))),
                    NOSIGS);
}
static blob *m_key_same_spki(void)
{
    return EVIDENCE(TBS(KEY(C(IDENT, UTF8("k1")), C(SPKI, SPKI_A())), PLAT(VENDOR_OK()),
                        KEY(C(IDENT, UTF8("k2")), C(SPKI, SPKI_A()))),
                    NOSIGS);
}
/* One EC key twice, uncompressed in one element, compressed (other claims) in the next. */
static blob *m_key_same_key_compressed(void)
{
    return EVIDENCE(
        TBS(KEY(C(IDENT, UTF8("k1")), C(SPKI, SPKI_A()), C(AVOW_CLAIM_KEY_EXTRACTABLE, BOOLV(0))),
            KEY(C(IDENT, UTF8("k2")), C(SPKI, SPKI_A_COMPRESSED()),
                C(AVOW_CLAIM_KEY_EXTRACTABLE, BOOLV(1)))),
        NOSIGS);
}
/* Only the public value counts: the third element repeats the first's key. */
static blob *m_key_same_key_third(void)
{
    return EVIDENCE(TBS(KEY(C(IDENT, UTF8("k1")), C(SPKI, SPKI_A_COMPRESSED())),
                        KEY(C(IDENT, UTF8("k2")), C(SPKI, SPKI_B())), PLAT(VENDOR_OK()),
                        KEY(C(IDENT, UTF8("k3")), C(SPKI, SPKI_A()))),
                    NOSIGS);
}
static blob *m_tx_claim_in_plat(void)
{
    return EV_PLAT(C(NONCE, OCT("01")));
}
static blob *m_key_claim_in_tx(void)
{
    return EV_TX(C(IDENT, UTF8("k1")));
}
static blob *m_plat_claim_in_key(void)
{
    return EV_KEY(C(FIPSLEVEL, INT(3)));
}
static blob *m_valueless(void)
{
    return EV_TX(C(NONCE, NULL));
}
static blob *m_valueless_unknown(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5")));
}
static blob *m_sid_none(void)
{
    return EV_SIG(SEQ(SEQ(NOTHING), ALG(), SIGVAL()));
}
static blob *m_sid_two(void)
{
    return EV_SIG(
        SEQ(SEQ(CTX(0, OCT("01")), CTX(1, bytes(g_spki_a.ptr, g_spki_a.len))), ALG(), SIGVAL()));
}
/* -07 allows any non-empty combination of sid fields, but they must name one key. */
static blob *m_sid_spki_not_cert_key(void)
{
    return EV_SIG(
        SEQ(SEQ(CTX(1, bytes(g_spki_b.ptr, g_spki_b.len)), CTX(2, CERT())), ALG(), SIGVAL()));
}
static blob *m_sid_all_three_spki_other(void)
{
    return EV_SIG(
        SEQ(SEQ(CTX(0, OCT("01")), CTX(1, bytes(g_spki_b.ptr, g_spki_b.len)), CTX(2, CERT())),
            ALG(), SIGVAL()));
}
static blob *m_sid_keyid_empty(void)
{
    return EV_SIG(SEQ(SEQ(CTX(0, OCT(""))), ALG(), SIGVAL()));
}
static blob *m_sid_implicit_keyid(void)
{
    return EV_SIG(SEQ(SEQ(prim(0x80, hex("01020304"))), ALG(), SIGVAL()));
}
static blob *m_sid_bad_spki(void)
{
    return EV_SIG(SEQ(SEQ(CTX(1, SEQ(INT(1)))), ALG(), SIGVAL()));
}
static blob *m_sid_bad_cert(void)
{
    return EV_SIG(SEQ(SEQ(CTX(2, SEQ(INT(1)))), ALG(), SIGVAL()));
}
static blob *m_sig_no_alg(void)
{
    return EV_SIG(SEQ(SID_KEYID(), SIGVAL()));
}
static blob *m_sig_no_value(void)
{
    return EV_SIG(SEQ(SID_KEYID(), ALG()));
}
static blob *m_sig_value_bitstring(void)
{
    return EV_SIG(SEQ(SID_KEYID(), ALG(), prim(0x03, hex("003006020101020101"))));
}
static blob *m_sig_alg_not_seq(void)
{
    return EV_SIG(SEQ(SID_KEYID(), OID("1.2.840.10045.4.3.2"), SIGVAL()));
}
static blob *m_sig_alg_params_ber(void)
{
    return EV_SIG(
        SEQ(SID_KEYID(), SEQ(OID("1.2.840.113549.1.1.10"), SEQ(hex("010101"))), SIGVAL()));
}
static blob *m_sigs_missing(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())));
}
static blob *m_sigs_set(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), SET(SIG_KEYID()));
}
static blob *m_certs_explicit(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, CTX(0, SEQ(CERT())));
}
static blob *m_certs_universal(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, SEQ(CERT()));
}
static blob *m_certs_not_cert(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, CTX(0, SEQ(INT(1))));
}
static blob *m_certs_tag1(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, CTX(1, CERT()));
}
static blob *m_oversize(void)
{
    size_t n = AVOW_EVIDENCE_MAX_SIZE + 1 - 5;
    blob *x = bnew(AVOW_EVIDENCE_MAX_SIZE + 1);
    memset(x->b, 0, x->len);
    x->b[0] = 0x30;
    x->b[1] = 0x83;
    x->b[2] = (uint8_t)(n >> 16);
    x->b[3] = (uint8_t)(n >> 8);
    x->b[4] = (uint8_t)n;
    return x;
}
static blob *many_elements(unsigned n)
{
    blob *l = NOTHING;
    for (unsigned i = 0; i < n; i++)
        l = cat(l, SEQ(OID("1.2.3.4"), SEQ(SEQ(OID("1.2.3.5"), NUL))), END);
    return EVIDENCE(SEQ(INT(1), prim(0x30, l)), NOSIGS);
}
static blob *many_claims(unsigned n)
{
    blob *l = NOTHING;
    for (unsigned i = 0; i < n; i++)
        l = cat(l, SEQ(OID("1.2.3.5"), INT(i)), END);
    return EVIDENCE(TBS(SEQ(OID("1.2.3.4"), prim(0x30, l))), NOSIGS);
}
static blob *many_sigs(unsigned n)
{
    blob *l = NOTHING;
    for (unsigned i = 0; i < n; i++)
        l = cat(l, SIG_KEYID(), END);
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), prim(0x30, l));
}
static blob *many_certs(unsigned n)
{
    blob *l = NOTHING;
    for (unsigned i = 0; i < n; i++)
        l = cat(l, CERT(), END);
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, prim(0xa0, l));
}
static blob *many_certs_one(void)
{
    return many_certs(1);
}
static blob *m_too_many(int what)
{
    switch (what) {
    case 0:
        return many_elements(AVOW_EVIDENCE_MAX_ELEMENTS + 1);
    case 1:
        return many_claims(AVOW_EVIDENCE_MAX_CLAIMS + 1);
    case 2:
        return many_sigs(AVOW_EVIDENCE_MAX_SIGNATURES + 1);
    default:
        return many_certs(AVOW_EVIDENCE_MAX_CERTS + 1);
    }
}
static blob *m_unknown_ber_longlen(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), tlv_longlen(0x30, 1, INT(1))));
}
static blob *m_unknown_ber_indef(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), tlv_indef(0x30, INT(1))));
}
static blob *m_unknown_ber_constructed_octets(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), cons(0x24, OCT("01"), OCT("02"), END)));
}
static blob *m_unknown_ber_inner_int(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), SEQ(prim(0x02, hex("0001")))));
}
static blob *m_unknown_ber_inner_bool(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), SEQ(UTF8("a"), hex("010105"))));
}
static blob *m_unknown_ber_inner_ctx(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), CTX(3, tlv_longlen(0x04, 1, hex("00")))));
}
static blob *nest(uint8_t tag, unsigned depth, blob *leaf)
{
    blob *x = leaf;
    for (unsigned i = 0; i < depth; i++)
        x = prim(tag, x);
    return x;
}
static blob *m_depth(int which)
{
    switch (which) {
    case 0: /* 100 nested SEQUENCEs in an unknown claim */
        return EV_PLAT(SEQ(OID("1.2.3.5"), nest(0x30, 100, NUL)));
    case 1: /* 4000 nested [0] in an unknown claim */
        return EV_PLAT(SEQ(OID("1.2.3.5"), nest(0xa0, 4000, NUL)));
    case 2: /* 5000 nested SETs in an unknown element's unknown claim, in a key element */
        return EV_KEY(SEQ(OID("1.2.3.5"), nest(0x31, 5000, NOTHING)));
    case 3: { /* BER: 200 nested indefinite constructed OCTET STRINGs */
        blob *x = OCT("00");
        for (unsigned i = 0; i < 200; i++)
            x = tlv_indef(0x24, x);
        return EV_PLAT(SEQ(OID("1.2.3.5"), x));
    }
    case 4: /* 3000 nested SEQUENCEs as a purpose list */
        return EV_KEY(C(PURPOSE, nest(0x30, 3000, EOID("2.4"))));
    case 5: /* 3000 nested SEQUENCEs in the algorithm parameters */
        return EV_SIG(
            SEQ(SID_KEYID(), SEQ(OID("1.2.840.10045.4.3.2"), nest(0x30, 3000, NUL)), SIGVAL()));
    default: /* 3000 nested [0] as the keyId */
        return EV_SIG(SEQ(SEQ(nest(0xa0, 3000, OCT("01"))), ALG(), SIGVAL()));
    }
}

typedef struct mcase {
    const char *name;
    blob *(*make)(void);
    blob *(*make_arg)(int);
    int arg;
    unsigned flags;
    avow_err expect;
} mcase;

#define M(name, fn, err)                                                                           \
    {                                                                                              \
        name, fn, NULL, 0, 0, err                                                                  \
    }
#define MA(name, fn, arg, err)                                                                     \
    {                                                                                              \
        name, NULL, fn, arg, 0, err                                                                \
    }
#define MF(name, fn, flags, err)                                                                   \
    {                                                                                              \
        name, fn, NULL, 0, flags, err                                                              \
    }
#define IV(id, v) (((id) << 8) | ((v)&0xff))

static const mcase cases[] = {
    /* framing */
    M("empty input", m_empty_input, AVOW_ERR_TRUNCATED),
    M("one byte: a tag without length", m_one_byte, AVOW_ERR_TRUNCATED),
    M("outer tag SET instead of SEQUENCE", m_outer_set, AVOW_ERR_WRONG_TAG),
    M("outer tag OCTET STRING", m_outer_octets, AVOW_ERR_WRONG_TAG),
    M("outer tag in high-tag-number form", m_outer_high_tag, AVOW_ERR_MALFORMED),
    M("tbs is a SET", m_tbs_not_seq, AVOW_ERR_WRONG_TAG),
    M("tbs missing: Evidence holds only signatures", m_tbs_missing, AVOW_ERR_MALFORMED),
    M("outer SEQUENCE with indefinite length (BER)", m_outer_indefinite, AVOW_ERR_NOT_DER),
    M("element with indefinite length (BER)", m_inner_indefinite, AVOW_ERR_NOT_DER),
    M("outer length in long form where short fits", m_outer_longlen_short, AVOW_ERR_NOT_DER),
    M("outer length with a leading zero octet", m_outer_len_leading_zero, AVOW_ERR_NOT_DER),
    M("UTF8String length in long form where short fits", m_inner_longlen, AVOW_ERR_NOT_DER),
    M("claim length with a leading zero octet", m_inner_len_leading_zero, AVOW_ERR_NOT_DER),
    M("length of five octets", m_length_too_many_octets, AVOW_ERR_TOO_LARGE),
    M("a byte after the Evidence", m_trailing_after, AVOW_ERR_TRAILING),
    M("a second Evidence after the first", m_trailing_evidence, AVOW_ERR_TRAILING),
    M("NULL after reportedElements inside tbs", m_trailing_in_tbs, AVOW_ERR_TRAILING),
    M("NULL after the value inside a claim", m_trailing_in_claim, AVOW_ERR_TRAILING),
    M("NULL after intermediateCertificates", m_trailing_in_evidence_seq, AVOW_ERR_TRAILING),
    /* version */
    MA("version 0", m_version, 0, AVOW_ERR_VERSION),
    MA("version 2", m_version, 2, AVOW_ERR_VERSION),
    MA("version -1", m_version, -1, AVOW_ERR_VERSION),
    M("version 2^72+1 (beyond 64 bits)", m_version_huge, AVOW_ERR_VERSION),
    M("version 1 with a leading zero octet", m_version_padded, AVOW_ERR_NOT_DER),
    M("version is a BOOLEAN", m_version_bool, AVOW_ERR_WRONG_TAG),
    /* lists */
    M("reportedElements empty", m_no_elements, AVOW_ERR_EMPTY),
    M("reportedElements missing", m_elements_missing, AVOW_ERR_MALFORMED),
    M("platform element with no claims", m_element_no_claims, AVOW_ERR_EMPTY),
    M("unknown element with no claims", m_element_unknown_no_claims, AVOW_ERR_EMPTY),
    M("elementType is a UTF8String", m_element_type_not_oid, AVOW_ERR_WRONG_TAG),
    M("elementType OID ends inside a sub-identifier", m_element_bad_oid, AVOW_ERR_OID),
    M("claimType is an empty OID", m_claim_type_empty_oid, AVOW_ERR_OID),
    M("ReportedClaim is a SET", m_claim_not_seq, AVOW_ERR_WRONG_TAG),
    M("claims SEQUENCE OF with the primitive tag 0x10", m_claims_primitive_seq, AVOW_ERR_MALFORMED),
    M("tbs with the primitive tag 0x10", m_tbs_primitive_seq, AVOW_ERR_WRONG_TAG),
    /* each claim with a value of a wrong universal type */
    MA("nonce as UTF8String", m_wrong_type, AVOW_CLAIM_NONCE, AVOW_ERR_CLAIM_TYPE),
    MA("timestamp as UTCTime", m_wrong_type, AVOW_CLAIM_TIMESTAMP, AVOW_ERR_CLAIM_TYPE),
    MA("ak-spki as UTF8String", m_wrong_type, AVOW_CLAIM_AK_SPKI, AVOW_ERR_CLAIM_TYPE),
    MA("vendor as OCTET STRING", m_wrong_type, AVOW_CLAIM_VENDOR, AVOW_ERR_CLAIM_TYPE),
    MA("oemid as UTF8String", m_wrong_type, AVOW_CLAIM_OEMID, AVOW_ERR_CLAIM_TYPE),
    MA("hwmodel as UTF8String", m_wrong_type, AVOW_CLAIM_HWMODEL, AVOW_ERR_CLAIM_TYPE),
    MA("hwversion as OCTET STRING", m_wrong_type, AVOW_CLAIM_HWVERSION, AVOW_ERR_CLAIM_TYPE),
    MA("hwserial as OCTET STRING", m_wrong_type, AVOW_CLAIM_HWSERIAL, AVOW_ERR_CLAIM_TYPE),
    MA("swname as OCTET STRING", m_wrong_type, AVOW_CLAIM_SWNAME, AVOW_ERR_CLAIM_TYPE),
    MA("swversion as OCTET STRING", m_wrong_type, AVOW_CLAIM_SWVERSION, AVOW_ERR_CLAIM_TYPE),
    MA("dbgstat as BOOLEAN", m_wrong_type, AVOW_CLAIM_DBGSTAT, AVOW_ERR_CLAIM_TYPE),
    MA("uptime as BOOLEAN", m_wrong_type, AVOW_CLAIM_UPTIME, AVOW_ERR_CLAIM_TYPE),
    MA("bootcount as BOOLEAN", m_wrong_type, AVOW_CLAIM_BOOTCOUNT, AVOW_ERR_CLAIM_TYPE),
    MA("fipsboot as INTEGER", m_wrong_type, AVOW_CLAIM_FIPSBOOT, AVOW_ERR_CLAIM_TYPE),
    MA("fipsver as OCTET STRING", m_wrong_type, AVOW_CLAIM_FIPSVER, AVOW_ERR_CLAIM_TYPE),
    MA("fipslevel as BOOLEAN", m_wrong_type, AVOW_CLAIM_FIPSLEVEL, AVOW_ERR_CLAIM_TYPE),
    MA("fipsmodule as OCTET STRING", m_wrong_type, AVOW_CLAIM_FIPSMODULE, AVOW_ERR_CLAIM_TYPE),
    MA("identifier as OCTET STRING", m_wrong_type, AVOW_CLAIM_KEY_IDENTIFIER, AVOW_ERR_CLAIM_TYPE),
    MA("spki as UTF8String", m_wrong_type, AVOW_CLAIM_KEY_SPKI, AVOW_ERR_CLAIM_TYPE),
    MA("extractable as INTEGER", m_wrong_type, AVOW_CLAIM_KEY_EXTRACTABLE, AVOW_ERR_CLAIM_TYPE),
    MA("sensitive as INTEGER", m_wrong_type, AVOW_CLAIM_KEY_SENSITIVE, AVOW_ERR_CLAIM_TYPE),
    MA("never-extractable as INTEGER", m_wrong_type, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE,
       AVOW_ERR_CLAIM_TYPE),
    MA("local as INTEGER", m_wrong_type, AVOW_CLAIM_KEY_LOCAL, AVOW_ERR_CLAIM_TYPE),
    MA("expiry as UTCTime", m_wrong_type, AVOW_CLAIM_KEY_EXPIRY, AVOW_ERR_CLAIM_TYPE),
    MA("purpose as SET OF", m_wrong_type, AVOW_CLAIM_KEY_PURPOSE, AVOW_ERR_CLAIM_TYPE),
    M("vendor as context-tagged [1] (the -05 CHOICE)", m_context_tagged_value, AVOW_ERR_CLAIM_TYPE),
    /* values */
    M("fipsboot BOOLEAN TRUE as 0x01", m_bool_01, AVOW_ERR_NOT_DER),
    M("fipsboot BOOLEAN of two octets", m_bool_long, AVOW_ERR_NOT_DER),
    M("unknown claim with BOOLEAN TRUE as 0x01", m_bool_01_unknown, AVOW_ERR_NOT_DER),
    M("uptime INTEGER 5 padded with 0x00", m_int_padded, AVOW_ERR_NOT_DER),
    M("uptime INTEGER -123 padded with 0xFF", m_int_ff_padded, AVOW_ERR_NOT_DER),
    M("uptime INTEGER with no content octets", m_int_empty, AVOW_ERR_MALFORMED),
    MA("fipslevel 0", m_int_value, IV(AVOW_CLAIM_FIPSLEVEL, 0), AVOW_ERR_CLAIM_VALUE),
    MA("fipslevel 5", m_int_value, IV(AVOW_CLAIM_FIPSLEVEL, 5), AVOW_ERR_CLAIM_VALUE),
    MA("fipslevel -1", m_int_value, IV(AVOW_CLAIM_FIPSLEVEL, -1), AVOW_ERR_CLAIM_VALUE),
    MA("dbgstat 7", m_int_value, IV(AVOW_CLAIM_DBGSTAT, 7), AVOW_ERR_CLAIM_VALUE),
    MA("dbgstat 5", m_int_value, IV(AVOW_CLAIM_DBGSTAT, 5), AVOW_ERR_CLAIM_VALUE),
    MA("dbgstat -1", m_int_value, IV(AVOW_CLAIM_DBGSTAT, -1), AVOW_ERR_CLAIM_VALUE),
    MA("bootcount -1", m_int_value, IV(AVOW_CLAIM_BOOTCOUNT, -1), AVOW_ERR_CLAIM_VALUE),
    MA("uptime -100", m_int_value, IV(AVOW_CLAIM_UPTIME, -100), AVOW_ERR_CLAIM_VALUE),
    M("uptime 2^64 (too big for 64 bits)", m_int_too_big, AVOW_ERR_CLAIM_VALUE),
    M("bootcount below -2^63", m_int_huge_negative, AVOW_ERR_CLAIM_VALUE),
    MA("timestamp with +0100 offset", m_time, 0, AVOW_ERR_BAD_TIME),
    MA("timestamp without Z", m_time, 1, AVOW_ERR_BAD_TIME),
    MA("timestamp fraction with trailing zero", m_time, 2, AVOW_ERR_BAD_TIME),
    MA("timestamp month 13", m_time, 3, AVOW_ERR_BAD_TIME),
    MA("timestamp 30 February", m_time, 4, AVOW_ERR_BAD_TIME),
    MA("timestamp without seconds", m_time, 5, AVOW_ERR_BAD_TIME),
    MA("timestamp with an empty fraction", m_time, 6, AVOW_ERR_BAD_TIME),
    MA("timestamp with a comma fraction", m_time, 7, AVOW_ERR_BAD_TIME),
    MA("timestamp hour 24", m_time, 8, AVOW_ERR_BAD_TIME),
    MA("timestamp second 60", m_time, 9, AVOW_ERR_BAD_TIME),
    MA("timestamp with a letter", m_time, 10, AVOW_ERR_BAD_TIME),
    M("expiry 29 February of a common year", m_expiry_bad, AVOW_ERR_BAD_TIME),
    MA("vendor UTF8String with 0xFF", m_utf8, 0, AVOW_ERR_CLAIM_VALUE),
    MA("vendor UTF8String over-long form", m_utf8, 1, AVOW_ERR_CLAIM_VALUE),
    MA("vendor UTF8String with a surrogate", m_utf8, 2, AVOW_ERR_CLAIM_VALUE),
    MA("vendor UTF8String cut inside a character", m_utf8, 3, AVOW_ERR_CLAIM_VALUE),
    MA("vendor UTF8String above U+10FFFF", m_utf8, 4, AVOW_ERR_CLAIM_VALUE),
    M("identifier UTF8String with a lone continuation byte", m_ident_bad_utf8,
      AVOW_ERR_CLAIM_VALUE),
    M("spki is an INTEGER, not an SPKI", m_spki_not_spki, AVOW_ERR_CLAIM_VALUE),
    M("spki is empty", m_spki_empty, AVOW_ERR_CLAIM_VALUE),
    M("spki with a byte after the SPKI", m_spki_trailing, AVOW_ERR_CLAIM_VALUE),
    MA("nonce is empty", m_empty_bytes, NONCE, AVOW_ERR_CLAIM_VALUE),
    MA("hwmodel is empty", m_empty_bytes, HWMODEL, AVOW_ERR_CLAIM_VALUE),
    MA("oemid is empty", m_empty_bytes, AVOW_CLAIM_OEMID, AVOW_ERR_CLAIM_VALUE),
    M("ak-spki is not DER", m_akspki_garbage, AVOW_ERR_CLAIM_VALUE),
    M("ak-spki lists one key twice", m_akspki_dup, AVOW_ERR_DUP_CLAIM),
    M("ak-spki lists one key twice, once compressed", m_akspki_dup_compressed, AVOW_ERR_DUP_CLAIM),
    M("purpose is an OCTET STRING", m_purpose_octets, AVOW_ERR_CLAIM_TYPE),
    M("purpose holds an INTEGER", m_purpose_non_oid, AVOW_ERR_CLAIM_TYPE),
    M("purpose holds a SEQUENCE", m_purpose_nested_seq, AVOW_ERR_CLAIM_TYPE),
    M("purpose OID with a long-form length", m_purpose_ber, AVOW_ERR_NOT_DER),
    M("purpose with 33 OIDs", m_purpose_too_many, AVOW_ERR_TOO_LARGE),
    /* structure rules */
    M("two transaction elements", m_two_tx, AVOW_ERR_DUP_ELEMENT),
    M("two platform elements", m_two_plat, AVOW_ERR_DUP_ELEMENT),
    M("nonce twice", m_two_nonce, AVOW_ERR_DUP_CLAIM),
    M("vendor twice", m_two_vendor, AVOW_ERR_DUP_CLAIM),
    M("spki twice in one key element", m_two_spki_one_key, AVOW_ERR_DUP_CLAIM),
    M("fipslevel twice with one value", m_two_fipslevel_same_value, AVOW_ERR_DUP_CLAIM),
    M("key element without identifier", m_key_no_ident, AVOW_ERR_MISSING_CLAIM),
    M("two key elements share an identifier", m_key_same_ident, AVOW_ERR_DUP_KEY),
    M("two key elements share an spki", m_key_same_spki, AVOW_ERR_DUP_KEY),
    M("two key elements share a key, once compressed", m_key_same_key_compressed, AVOW_ERR_DUP_KEY),
    M("first and third key elements share a key", m_key_same_key_third, AVOW_ERR_DUP_KEY),
    M("nonce in the platform element", m_tx_claim_in_plat, AVOW_ERR_CLAIM_PLACE),
    M("identifier in the transaction element", m_key_claim_in_tx, AVOW_ERR_CLAIM_PLACE),
    M("fipslevel in a key element", m_plat_claim_in_key, AVOW_ERR_CLAIM_PLACE),
    M("nonce without value (request form)", m_valueless, AVOW_ERR_VALUE_MISSING),
    M("unknown claim without value", m_valueless_unknown, AVOW_ERR_VALUE_MISSING),
    /* signature blocks */
    M("SignerIdentifier with no choice", m_sid_none, AVOW_ERR_SIGNER_ID),
    M("sid spki is not the key of sid certificate", m_sid_spki_not_cert_key,
      AVOW_ERR_SIGNER_MISMATCH),
    M("sid with all three fields, spki of another key", m_sid_all_three_spki_other,
      AVOW_ERR_SIGNER_MISMATCH),
    M("SignerIdentifier with an empty keyId", m_sid_keyid_empty, AVOW_ERR_SIGNER_ID),
    M("keyId IMPLICIT [0] instead of EXPLICIT", m_sid_implicit_keyid, AVOW_ERR_MALFORMED),
    M("sid spki is not an SPKI", m_sid_bad_spki, AVOW_ERR_WRONG_TAG),
    M("sid certificate is not a certificate", m_sid_bad_cert, AVOW_ERR_WRONG_TAG),
    M("SignatureBlock without signatureAlgorithm", m_sig_no_alg, AVOW_ERR_WRONG_TAG),
    M("SignatureBlock without signatureValue", m_sig_no_value, AVOW_ERR_MALFORMED),
    M("signatureValue as BIT STRING", m_sig_value_bitstring, AVOW_ERR_WRONG_TAG),
    M("signatureAlgorithm is a bare OID", m_sig_alg_not_seq, AVOW_ERR_WRONG_TAG),
    M("algorithm parameters hold BOOLEAN 0x01", m_sig_alg_params_ber, AVOW_ERR_NOT_DER),
    M("signatures list missing", m_sigs_missing, AVOW_ERR_MALFORMED),
    M("signatures as a SET", m_sigs_set, AVOW_ERR_WRONG_TAG),
    /* intermediateCertificates */
    M("intermediates EXPLICIT [0] read as IMPLICIT", m_certs_explicit, AVOW_ERR_WRONG_TAG),
    MF("intermediates IMPLICIT [0] read as EXPLICIT", many_certs_one,
       AVOW_DECODE_EXPLICIT_INTERMEDIATES, AVOW_ERR_WRONG_TAG),
    M("intermediates untagged SEQUENCE", m_certs_universal, AVOW_ERR_WRONG_TAG),
    M("intermediates hold a non-certificate", m_certs_not_cert, AVOW_ERR_WRONG_TAG),
    M("intermediates under [1]", m_certs_tag1, AVOW_ERR_WRONG_TAG),
    /* embedded certificates must be DER, by the walk and by the schema */
    MA("sid cert: subject with a long-form length", m_sid_handcert, HC_NAME_LONGLEN,
       AVOW_ERR_NOT_DER),
    MA("sid cert: serialNumber 00 01", m_sid_handcert, HC_SERIAL_PADDED, AVOW_ERR_NOT_DER),
    MA("sid cert: critical BOOLEAN 0x01", m_sid_handcert, HC_CRIT_BOOL_01, AVOW_ERR_NOT_DER),
    MA("sid cert: critical FALSE written", m_sid_handcert, HC_CRIT_FALSE, AVOW_ERR_NOT_DER),
    MA("sid cert: version v1 written", m_sid_handcert, HC_VERSION_V1, AVOW_ERR_NOT_DER),
    MA("sid cert: constructed issuerUniqueID", m_sid_handcert, HC_ISSUER_UID_CONS,
       AVOW_ERR_NOT_DER),
    MA("sid cert: long-form length inside extnValue", m_sid_handcert, HC_EKU_INNER_LONGLEN,
       AVOW_ERR_NOT_DER),
    MA("sid cert: basicConstraints cA FALSE written", m_sid_handcert, HC_BC_CA_FALSE,
       AVOW_ERR_NOT_DER),
    MA("sid cert: basicConstraints cA 0x01", m_sid_handcert, HC_BC_BOOL_01, AVOW_ERR_NOT_DER),
    MA("sid cert: keyUsage with trailing zero bits", m_sid_handcert, HC_KU_TRAILING_ZERO,
       AVOW_ERR_NOT_DER),
    MA("sid cert: UTCTime without seconds", m_sid_handcert, HC_UTCTIME_NO_SECONDS,
       AVOW_ERR_NOT_DER),
    MA("sid cert: GeneralizedTime fraction with a trailing zero", m_sid_handcert,
       HC_GENTIME_ZERO_FRAC, AVOW_ERR_NOT_DER),
    MA("sid cert: RDN SET OF out of order", m_sid_handcert, HC_RDN_UNSORTED, AVOW_ERR_NOT_DER),
    MA("sid cert: bytes after the extnValue's value", m_sid_handcert, HC_EXT_TRAILING,
       AVOW_ERR_NOT_DER),
    MA("intermediate: serialNumber 00 01", m_inter_handcert, HC_SERIAL_PADDED, AVOW_ERR_NOT_DER),
    MA("intermediate: critical FALSE written", m_inter_handcert, HC_CRIT_FALSE, AVOW_ERR_NOT_DER),
    MA("intermediate: basicConstraints cA 0x01", m_inter_handcert, HC_BC_BOOL_01, AVOW_ERR_NOT_DER),
    /* limits */
    M("input of AVOW_EVIDENCE_MAX_SIZE + 1 bytes", m_oversize, AVOW_ERR_TOO_LARGE),
    MA("65 elements", m_too_many, 0, AVOW_ERR_TOO_LARGE),
    MA("257 claims in one element", m_too_many, 1, AVOW_ERR_TOO_LARGE),
    MA("17 signature blocks", m_too_many, 2, AVOW_ERR_TOO_LARGE),
    MA("17 intermediate certificates", m_too_many, 3, AVOW_ERR_TOO_LARGE),
    /* unknown claims must still be DER */
    M("unknown claim SEQUENCE with long-form length", m_unknown_ber_longlen, AVOW_ERR_NOT_DER),
    M("unknown claim SEQUENCE with indefinite length", m_unknown_ber_indef, AVOW_ERR_NOT_DER),
    M("unknown claim constructed OCTET STRING", m_unknown_ber_constructed_octets, AVOW_ERR_NOT_DER),
    M("unknown claim INTEGER padded inside a SEQUENCE", m_unknown_ber_inner_int, AVOW_ERR_NOT_DER),
    M("unknown claim BOOLEAN 0x05 inside a SEQUENCE", m_unknown_ber_inner_bool, AVOW_ERR_NOT_DER),
    M("unknown claim [3] holding a long-form length", m_unknown_ber_inner_ctx, AVOW_ERR_NOT_DER),
    /* nesting bombs */
    MA("100 nested SEQUENCEs in an unknown claim", m_depth, 0, AVOW_ERR_TOO_LARGE),
    MA("4000 nested [0] in an unknown claim", m_depth, 1, AVOW_ERR_TOO_LARGE),
    MA("5000 nested SETs in an unknown claim of a key element", m_depth, 2, AVOW_ERR_TOO_LARGE),
    MA("200 nested indefinite constructed OCTET STRINGs (BER)", m_depth, 3, AVOW_ERR_NOT_DER),
    MA("3000 nested SEQUENCEs as purpose", m_depth, 4, AVOW_ERR_TOO_LARGE),
    MA("3000 nested SEQUENCEs as algorithm parameters", m_depth, 5, AVOW_ERR_TOO_LARGE),
    MA("3000 nested [0] as keyId", m_depth, 6, AVOW_ERR_TOO_LARGE),
};

static int failures;

#define CASE_FAIL(...)                                                                             \
    do {                                                                                           \
        print_error(__VA_ARGS__);                                                                  \
        print_error("\n");                                                                         \
        failures++;                                                                                \
        ERR_clear_error();                                                                         \
        return;                                                                                    \
    } while (0)

/* Decodes b, expects `expect`, and checks the contract of a failed decode. */
static void expect_fail(const char *name, const uint8_t *p, size_t n, unsigned flags,
                        avow_err expect)
{
    avow_evidence *ev = (avow_evidence *)&ev; /* not NULL: the call must reset it */
    avow_diag d;
    memset(&d, 0, sizeof(d));
    avow_err rc = avow_evidence_decode(p, n, NULL, flags, &ev, &d);
    if (rc != expect) {
        if (rc == AVOW_OK)
            avow_evidence_free(ev);
        CASE_FAIL("%s: got %s (%s: %s), expected %s", name, avow_errname(rc), d.field, d.detail,
                  avow_errname(expect));
    }
    if (ev != NULL)
        CASE_FAIL("%s: *out not NULL after failure", name);
    if (d.field[0] == '\0')
        CASE_FAIL("%s: diag.field is empty", name);
    if (d.code != expect)
        CASE_FAIL("%s: diag.code %s differs from the result", name, avow_errname(d.code));
    if (ERR_peek_error() != 0)
        CASE_FAIL("%s: OpenSSL error queue not empty", name);
}

static void test_malformed_table(void **state)
{
    (void)state;
    size_t n = sizeof(cases) / sizeof(cases[0]);
    assert_true(n >= 70);
    for (size_t i = 0; i < n; i++) {
        const mcase *c = &cases[i];
        blob *b = c->make != NULL ? c->make() : c->make_arg(c->arg);
        expect_fail(c->name, b->b, b->len, c->flags, c->expect);
        arena_free();
    }
    if (failures > 0)
        fail_msg("%d of %zu rows failed", failures, n);
    print_message("%zu malformed rows rejected with their exact code\n", n);
}

/* Each relaxation and each limit has a passing neighbour, so the rows above fail for their stated
 * reason. */
typedef struct pcase {
    const char *name;
    blob *(*make)(void);
    blob *(*make_arg)(int);
    int arg;
    unsigned flags;
} pcase;

static blob *p_rich(void)
{
    return rich();
}
static blob *p_minimal(void)
{
    return EV_PLAT(VENDOR_OK());
}
static blob *p_limits(int what)
{
    switch (what) {
    case 0:
        return many_elements(AVOW_EVIDENCE_MAX_ELEMENTS);
    case 1:
        return many_claims(AVOW_EVIDENCE_MAX_CLAIMS);
    case 2:
        return many_sigs(AVOW_EVIDENCE_MAX_SIGNATURES);
    case 3:
        return many_certs(AVOW_EVIDENCE_MAX_CERTS);
    default: {
        blob *l = NOTHING;
        for (unsigned i = 0; i < AVOW_EVIDENCE_MAX_PURPOSES; i++)
            l = cat(l, EOID("2.4"), END);
        return EV_KEY(C(PURPOSE, prim(0x30, l)));
    }
    }
}
static blob *p_certs_explicit(void)
{
    return m_certs_explicit();
}
static blob *p_unknown_nested_16(void)
{
    return EV_PLAT(SEQ(OID("1.2.3.5"), nest(0x30, 15, NUL)));
}
static blob *p_empty_intermediates(void)
{
    return EVIDENCE(TBS(PLAT(VENDOR_OK())), NOSIGS, prim(0xa0, NOTHING));
}
static blob *p_fraction(void)
{
    return EV_TX(C(TIMESTAMP, GTIME("20260101000000.125Z")));
}
static blob *p_same_value_distinct_claims(void)
{
    /* identifier may repeat; two keys may share every other value */
    return EVIDENCE(TBS(KEY(C(IDENT, UTF8("a")), C(IDENT, UTF8("b")), C(PURPOSE, SEQ(NOTHING))),
                        KEY(C(IDENT, UTF8("c")), C(PURPOSE, SEQ(NOTHING)))),
                    NOSIGS);
}

static blob *p_distinct_keys_compressed(void)
{
    /* a compressed key and another key: two keys, not one */
    return EVIDENCE(TBS(TX(C(AKSPKI, SPKI_A_COMPRESSED()), C(AKSPKI, SPKI_B())),
                        KEY(C(IDENT, UTF8("k1")), C(SPKI, SPKI_A_COMPRESSED())),
                        KEY(C(IDENT, UTF8("k2")), C(SPKI, SPKI_B()))),
                    NOSIGS);
}

static blob *p_sid_two(void)
{
    return m_sid_two();
}
static blob *p_sid_all_three(void)
{
    return EV_SIG(
        SEQ(SEQ(CTX(0, OCT("01")), CTX(1, bytes(g_spki_a.ptr, g_spki_a.len)), CTX(2, CERT())),
            ALG(), SIGVAL()));
}

static const pcase passing[] = {
    {"sid with keyId and spki (agreement is the verifier's)", p_sid_two, NULL, 0, 0},
    {"sid with keyId, spki and the certificate of that key", p_sid_all_three, NULL, 0, 0},
    {"hand-made certificate as sid certificate", NULL, m_sid_handcert, HC_OK, 0},
    {"hand-made certificate as intermediate", NULL, m_inter_handcert, HC_OK, 0},
    {"hand-made certificate with a sorted two-attribute RDN", NULL, m_sid_handcert, HC_RDN_SORTED,
     0},
    {"rich Evidence", p_rich, NULL, 0, 0},
    {"minimal Evidence", p_minimal, NULL, 0, 0},
    {"64 elements", NULL, p_limits, 0, 0},
    {"256 claims", NULL, p_limits, 1, 0},
    {"16 signatures", NULL, p_limits, 2, 0},
    {"16 intermediates", NULL, p_limits, 3, 0},
    {"32 purposes", NULL, p_limits, 4, 0},
    {"EXPLICIT intermediates with the flag", p_certs_explicit, NULL, 0,
     AVOW_DECODE_EXPLICIT_INTERMEDIATES},
    {"valueless nonce with the flag", m_valueless, NULL, 0, AVOW_DECODE_ALLOW_VALUELESS},
    {"valueless unknown claim with the flag", m_valueless_unknown, NULL, 0,
     AVOW_DECODE_ALLOW_VALUELESS},
    {"unknown claim nested 15 deep", p_unknown_nested_16, NULL, 0, 0},
    {"empty intermediateCertificates", p_empty_intermediates, NULL, 0, 0},
    {"timestamp with a DER fraction", p_fraction, NULL, 0, 0},
    {"repeated identifier, shared empty purpose", p_same_value_distinct_claims, NULL, 0, 0},
    {"two keys, one compressed", p_distinct_keys_compressed, NULL, 0, 0},
};

static void test_passing_neighbours(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(passing) / sizeof(passing[0]); i++) {
        const pcase *c = &passing[i];
        blob *b = c->make != NULL ? c->make() : c->make_arg(c->arg);
        avow_evidence *ev = NULL;
        avow_diag d;
        memset(&d, 0, sizeof(d));
        avow_err rc = avow_evidence_decode(b->b, b->len, NULL, c->flags, &ev, &d);
        if (rc != AVOW_OK)
            fail_msg("%s: %s (%s: %s)", c->name, avow_errname(rc), d.field, d.detail);
        TU_NO_OSSL_ERR();
        avow_buf out = {0};
        assert_int_equal(avow_evidence_encode(ev, &out), AVOW_OK);
        if (out.len != b->len || memcmp(out.ptr, b->b, b->len) != 0)
            fail_msg("%s: re-encoding differs", c->name);
        avow_buf_free(&out);
        avow_evidence_free(ev);
        TU_NO_OSSL_ERR();
        arena_free();
    }
}

/* The same flags reject each relaxed case when absent: flags = 0 is fully strict. */
static void test_flags_zero_strict(void **state)
{
    (void)state;
    blob *b = m_valueless();
    expect_fail("valueless nonce", b->b, b->len, 0, AVOW_ERR_VALUE_MISSING);
    arena_free();
    b = m_certs_explicit();
    expect_fail("explicit intermediates", b->b, b->len, 0, AVOW_ERR_WRONG_TAG);
    arena_free();
}

/* A certificate that is not DER is named, with the part at fault, whichever check finds it. */
static void test_cert_fields(void **state)
{
    (void)state;
    static const struct {
        int flaw, inter;
        const char *field, *detail;
    } rows[] = {
        {HC_NAME_LONGLEN, 0, "signatures[0].sid.certificate.tbsCertificate.subject", "not DER"},
        {HC_SERIAL_PADDED, 0, "signatures[0].sid.certificate.tbsCertificate.serialNumber",
         "not DER"},
        {HC_CRIT_BOOL_01, 0, "signatures[0].sid.certificate.tbsCertificate.extensions[0].critical",
         "TRUE 0xFF"},
        {HC_CRIT_FALSE, 0, "signatures[0].sid.certificate.tbsCertificate.extensions[0].critical",
         "DEFAULT"},
        {HC_VERSION_V1, 0, "signatures[0].sid.certificate.tbsCertificate.version", "DEFAULT"},
        {HC_ISSUER_UID_CONS, 0, "signatures[0].sid.certificate.tbsCertificate.issuerUniqueID",
         "primitive"},
        {HC_EKU_INNER_LONGLEN, 0,
         "signatures[0].sid.certificate.tbsCertificate.extensions[1].extnValue", "not one DER"},
        {HC_EXT_TRAILING, 0, "signatures[0].sid.certificate.tbsCertificate.extensions[1].extnValue",
         "bytes after"},
        {HC_BC_CA_FALSE, 0, "signatures[0].sid.certificate.tbsCertificate.extensions[2].extnValue",
         "cA FALSE"},
        {HC_BC_BOOL_01, 0, "signatures[0].sid.certificate.tbsCertificate.extensions[2].extnValue",
         "not one DER"},
        {HC_KU_TRAILING_ZERO, 0,
         "signatures[0].sid.certificate.tbsCertificate.extensions[0].extnValue", "trailing zero"},
        {HC_UTCTIME_NO_SECONDS, 0,
         "signatures[0].sid.certificate.tbsCertificate.validity.notBefore", "YYMMDDHHMMSSZ"},
        {HC_GENTIME_ZERO_FRAC, 0, "signatures[0].sid.certificate.tbsCertificate.validity.notAfter",
         "trailing zeros"},
        {HC_RDN_UNSORTED, 0, "signatures[0].sid.certificate.tbsCertificate.issuer[0]",
         "X.690 11.6"},
        {HC_SERIAL_PADDED, 1, "intermediateCertificates[1].tbsCertificate.serialNumber", "not DER"},
        {HC_CRIT_FALSE, 1, "intermediateCertificates[1].tbsCertificate.extensions[0].critical",
         "DEFAULT"},
        {HC_NAME_LONGLEN, 1, "intermediateCertificates[1].tbsCertificate.subject", "not DER"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        blob *b = rows[i].inter ? m_inter_handcert(rows[i].flaw) : m_sid_handcert(rows[i].flaw);
        avow_evidence *ev = NULL;
        avow_diag d;
        memset(&d, 0, sizeof(d));
        assert_int_equal(avow_evidence_decode(b->b, b->len, NULL, 0, &ev, &d), AVOW_ERR_NOT_DER);
        /*
         * OpenSSL 3.5 refuses a UTCTime without seconds inside d2i, before the
         * schema walk can name the path; its own message must name the field.
         */
        if (rows[i].flaw == HC_UTCTIME_NO_SECONDS && strcmp(d.field, "Evidence") == 0) {
            if (strstr(d.detail, "Field=notBefore") == NULL)
                fail_msg("flaw %d: decoder refusal does not name notBefore: %s", rows[i].flaw,
                         d.detail);
        } else if (strcmp(d.field, rows[i].field) != 0 || strstr(d.detail, rows[i].detail) == NULL)
            fail_msg("flaw %d: got %s: %s; want %s: ...%s...", rows[i].flaw, d.field, d.detail,
                     rows[i].field, rows[i].detail);
        TU_NO_OSSL_ERR();
        arena_free();
    }
}

/* The builder refuses what the decoder refuses: a non-DER certificate to carry or to sign with. */
static void test_cert_builder(void **state)
{
    (void)state;
    blob *c = HANDCERT(HC_CRIT_FALSE);
    const unsigned char *q = c->b;
    X509 *bad = d2i_X509(NULL, &q, (long)c->len);
    assert_non_null(bad); /* OpenSSL reads it */
    avow_evidence *ev = NULL;
    avow_diag d;
    memset(&d, 0, sizeof(d));
    OK(avow_evidence_new(NULL, &ev));
    size_t pl;
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme", NULL));
    assert_int_equal(avow_evidence_add_intermediate(ev, bad, &d), AVOW_ERR_NOT_DER);
    assert_string_equal(d.field,
                        "intermediateCertificates[0].tbsCertificate.extensions[0].critical");
    assert_null(avow_evidence_get0_intermediates(ev));
    /* A signer whose certificate is that one: refused before anything is signed. */
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(g_key_a, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_signer_set1_cert(s, bad, NULL));
    assert_int_equal(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d), AVOW_ERR_NOT_DER);
    assert_string_equal(d.field, "sid.certificate.tbsCertificate.extensions[0].critical");
    assert_int_equal(avow_evidence_signature_count(ev), 0);
    /* A DER certificate of the same key signs. */
    X509 *good = tu_cert_issue("good AK", g_key_a, NULL, g_key_a, 0, 0);
    OK(avow_signer_set1_cert(s, good, NULL));
    OK(avow_evidence_sign_sid(ev, s, AVOW_SID_HAS_CERT | AVOW_SID_HAS_SPKI | AVOW_SID_HAS_KEYID,
                              &d));
    const avow_signature_block *sb = avow_evidence_get0_signature(ev, 0);
    assert_int_equal(sb->sid_fields, AVOW_SID_ALL);
    assert_int_equal(sb->sid_kind, AVOW_SID_CERT);
    TU_NO_OSSL_ERR();
    X509_free(good);
    X509_free(bad);
    avow_signer_free(s);
    avow_evidence_free(ev);
    arena_free();
}

/* A claim of the wrong type says which tag it found, in the words of X.680. */
static void test_claim_type_detail(void **state)
{
    (void)state;
    static const struct {
        blob *(*make)(void);
        const char *detail;
    } rows[] = {
        {m_context_tagged_value,
         "claim vendor: expected UTF8String, found [1] (context, primitive)"},
        {NULL, "claim vendor: expected UTF8String, found [2] (context, constructed)"},
        {NULL, "claim nonce: expected OCTET STRING, found UTF8String"},
        {NULL, "claim fipsboot: expected BOOLEAN, found [5] (application, primitive)"},
        {m_purpose_non_oid, "claim purpose: expected OBJECT IDENTIFIER at [1], found INTEGER"},
        {NULL, "claim purpose: expected SEQUENCE OF OBJECT IDENTIFIER, found SET"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        blob *b;
        if (rows[i].make != NULL)
            b = rows[i].make();
        else if (i == 1)
            b = EV_PLAT(C(VENDOR, CTX(2, UTF8("Acme"))));
        else if (i == 2)
            b = EV_TX(C(NONCE, UTF8("nonce")));
        else if (i == 3)
            b = EV_PLAT(C(FIPSBOOT, prim(0x45, hex("ff"))));
        else
            b = EV_KEY(C(PURPOSE, SET(EOID("2.4"))));
        avow_evidence *ev = NULL;
        avow_diag d;
        memset(&d, 0, sizeof(d));
        assert_int_equal(avow_evidence_decode(b->b, b->len, NULL, 0, &ev, &d), AVOW_ERR_CLAIM_TYPE);
        if (strcmp(d.detail, rows[i].detail) != 0)
            fail_msg("row %zu: detail \"%s\", want \"%s\"", i, d.detail, rows[i].detail);
        TU_NO_OSSL_ERR();
        arena_free();
    }
}

/* ---------- OIDs that the decoder accepts and a printer cannot write in full ---------- */

/* OID content octets: the first hex, then `rep` copies of hex `each`, then hex `last`. */
static blob *oid_content(const char *first, const char *each, unsigned rep, const char *last)
{
    blob *x = hex(first);
    for (unsigned i = 0; i < rep; i++)
        x = cat(x, hex(each), END);
    return cat(x, hex(last), END);
}

static blob *RAWOID(blob *content)
{
    return prim(0x06, content);
}

/* 1.3 then 38 arcs 1, then one arc of 2^64: what `avow evidence verify` once overflowed on. */
static blob *huge_arc(void)
{
    return oid_content("2b", "01", 38, "82808080808080808000");
}
/* Dotted text of exactly 159 and 160 bytes: 1.2 or 1.22, then 78 arcs ".1". */
static blob *text159(void)
{
    return oid_content("2a", "01", 78, "");
}
static blob *text160(void)
{
    return oid_content("3e", "01", 78, "");
}

static blob *o_repro(void)
{
    /* The input as it was found: one key element, an identifier, a claim whose OID has an
     * arc of 2^64 after 39 arcs that print (the length pass saw the placeholder, the write
     * pass printed the arcs first). */
    return hex("30583054020101304f304d06092b06010505876700023040300f060a2b0601050587670102000c016b"
               "302d06282b0101010101010101010101010101010101010101010101010101010101828080808080"
               "808080000c01783000");
}
static blob *o_unknown_element_huge_arc(void)
{
    return EVIDENCE(
        TBS(SEQ(RAWOID(huge_arc()), SEQ(SEQ(OID("1.2.3.5"), NUL), SEQ(OID("1.2.3.6"), INT(7))))),
        NOSIGS);
}
static blob *o_both_huge(void)
{
    return EVIDENCE(TBS(SEQ(RAWOID(huge_arc()), SEQ(SEQ(RAWOID(huge_arc()), NUL))),
                        KEY(C(IDENT, UTF8("k")), SEQ(RAWOID(huge_arc()), NUL))),
                    NOSIGS);
}
static blob *o_max_arc(void)
{
    /* 2^64 - 1 still fits: it is written out */
    return EV_PLAT(SEQ(RAWOID(hex("2b 81ffffffffffffffff7f")), NUL));
}
static blob *o_long_subidentifier(void)
{
    /* one sub-identifier of 30 bytes (210 bits) */
    return EV_PLAT(SEQ(RAWOID(oid_content("2b", "ff", 29, "7f")), NUL));
}
static blob *o_text_159_160(void)
{
    return EVIDENCE(
        TBS(SEQ(RAWOID(text159()), SEQ(SEQ(RAWOID(text159()), NUL), SEQ(RAWOID(text160()), NUL))),
            SEQ(RAWOID(text160()), SEQ(SEQ(RAWOID(text159()), NUL)))),
        NOSIGS);
}
static blob *o_many_names(void)
{
    /* 4 unknown elements of 200 unknown claims, every name 159 bytes: the sizes add up */
    blob *claims = NOTHING;
    for (int i = 0; i < 200; i++)
        claims = cat(claims, SEQ(RAWOID(text159()), NUL), END);
    blob *el = SEQ(RAWOID(text159()), prim(0x30, claims));
    return EVIDENCE(TBS(el, el, el, el), NOSIGS);
}

typedef struct ocase {
    const char *name;
    blob *(*make)(void);
    const char *expect[8]; /* element/name of each claim in order, NULL-terminated */
    const char *json_has;  /* text both JSON documents must hold in full (NULL: none) */
} ocase;

#define T159    "1.2" AVOW_REP78
#define T160    "(oid too long)"
#define FULL160 "1.22" AVOW_REP78
#define AVOW_REP6                                                                                  \
    ".1"                                                                                           \
    ".1.1.1.1.1"
#define AVOW_REP78                                                                                 \
    AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6      \
        AVOW_REP6 AVOW_REP6 AVOW_REP6 AVOW_REP6

static blob *o_long_purpose(void)
{
    return EV_KEY(C(PURPOSE, SEQ(EOID("2.4"), RAWOID(text160()))));
}

static const ocase oid_cases[] = {
    {"repro: claim OID with an arc of 2^64 after 39 arcs",
     o_repro,
     {"key/identifier", "key/(oid too long)", NULL},
     NULL},
    {"unknown element OID with an arc of 2^64",
     o_unknown_element_huge_arc,
     {"(oid too long)/1.2.3.5", "(oid too long)/1.2.3.6", NULL},
     NULL},
    {"element and claims with arcs of 2^64",
     o_both_huge,
     {"(oid too long)/(oid too long)", "key/identifier", "key/(oid too long)", NULL},
     NULL},
    {"arc of 2^64 - 1", o_max_arc, {"platform/1.3.18446744073709551615", NULL}, NULL},
    {"sub-identifier of 30 bytes", o_long_subidentifier, {"platform/(oid too long)", NULL}, NULL},
    {"dotted names of 159 and 160 bytes",
     o_text_159_160,
     {T159 "/" T159, T159 "/" T160, T160 "/" T159, NULL},
     NULL},
    {"800 names of 159 bytes", o_many_names, {T159 "/" T159, NULL}, NULL},
    {"purpose OID of 160 bytes",
     o_long_purpose,
     {"key/identifier", "key/purpose", NULL},
     "\"" FULL160 "\""},
};

/* avow_oid_to_text sizes and writes alike: the length it returns is what it writes with room,
 * every smaller cap gets a NUL-terminated prefix and not a byte past cap. */
static void check_oid_text(const char *what, const uint8_t *der, size_t len)
{
    size_t n = avow_oid_to_text(der, len, NULL, 0);
    char *full = malloc(n + 1);
    assert_non_null(full);
    assert_int_equal(avow_oid_to_text(der, len, full, n + 1), n);
    if (strlen(full) != n)
        fail_msg("%s: wrote %zu bytes, said %zu", what, strlen(full), n);
    if (strchr(full, '(') != NULL && full[0] != '(')
        fail_msg("%s: arcs and a placeholder: %s", what, full);
    char *b = malloc(n + 8);
    assert_non_null(b);
    for (size_t cap = 1; cap <= n + 1; cap++) {
        memset(b, 'Z', n + 8);
        assert_int_equal(avow_oid_to_text(der, len, b, cap), n);
        size_t want = cap - 1 < n ? cap - 1 : n;
        if (strlen(b) != want || memcmp(b, full, want) != 0)
            fail_msg("%s: cap %zu gave \"%s\"", what, cap, b);
        for (size_t i = cap; i < n + 8; i++)
            if (b[i] != 'Z')
                fail_msg("%s: cap %zu wrote byte %zu", what, cap, i);
    }
    free(b);
    free(full);
}

static void test_oid_to_text(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *text;
    } rows[] = {
        {"2b0601050587670102", "1.3.6.1.5.5.999.1.2"},
        {"2b81ffffffffffffffff7f", "1.3.18446744073709551615"},
        {"2b82808080808080808000", "(oid too long)"},
        {"2b01018280808080808080800001", "(oid too long)"}, /* arcs before and after */
        {"81ffffffffffffffff7f", "2.18446744073709551535"},
        {"2b0601", "1.3.6.1"},
        {"00", "0.0"},
        {"2b06818080", "(bad oid)"}, /* unterminated last sub-identifier */
        {"", "(bad oid)"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        blob *b = hex(rows[i].hex);
        char text[64];
        size_t n = avow_oid_to_text(b->b, b->len, text, sizeof(text));
        if (strcmp(text, rows[i].text) != 0 || n != strlen(rows[i].text))
            fail_msg("%s: \"%s\" (%zu), want \"%s\"", rows[i].hex, text, n, rows[i].text);
        check_oid_text(rows[i].hex, b->b, b->len);
        arena_free();
    }
    blob *b = text160();
    check_oid_text("160 bytes", b->b, b->len);
    b = huge_arc();
    check_oid_text("huge arc", b->b, b->len);
    arena_free();
}

/* Each row decodes, and the verify path (claim set, result JSON, text and JSON dumps, the
 * default policy) runs on it; names of OIDs that cannot be written are the placeholder. */
static void test_oid_names_verify_path(void **state)
{
    (void)state;
    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, pki.ca, NULL), AVOW_OK);
    avow_policy *pol = NULL;
    assert_int_equal(avow_policy_default(&pol), AVOW_OK);
    for (size_t i = 0; i < sizeof(oid_cases) / sizeof(oid_cases[0]); i++) {
        const ocase *c = &oid_cases[i];
        blob *b = c->make();
        avow_evidence *ev = NULL;
        avow_diag d;
        memset(&d, 0, sizeof(d));
        if (avow_evidence_decode(b->b, b->len, NULL, 0, &ev, &d) != AVOW_OK)
            fail_msg("%s: %s (%s: %s)", c->name, avow_errname(d.code), d.field, d.detail);
        avow_buf out = {0};
        assert_int_equal(avow_evidence_to_text(ev, &out), AVOW_OK);
        avow_buf_free(&out);
        assert_int_equal(avow_evidence_to_json(ev, &out), AVOW_OK);
        if (c->json_has != NULL && strstr((char *)out.ptr, c->json_has) == NULL)
            fail_msg("%s: Evidence JSON lacks %s", c->name, c->json_has);
        avow_buf_free(&out);

        avow_evidence_result *r = NULL;
        assert_int_equal(avow_verify_evidence(v, ev, NULL, &r, NULL), AVOW_ERR_UNSIGNED);
        assert_non_null(r);
        size_t nexp = 0;
        while (c->expect[nexp] != NULL)
            nexp++;
        if (nexp > r->claims.count)
            fail_msg("%s: %zu claims, want at least %zu", c->name, r->claims.count, nexp);
        for (size_t k = 0; k < r->claims.count; k++) {
            const avow_nclaim *it = &r->claims.items[k];
            const char *want = c->expect[k < nexp ? k : nexp - 1];
            char got[512];
            snprintf(got, sizeof(got), "%s/%s", it->element, it->name);
            if (strcmp(got, want) != 0)
                fail_msg("%s: claim %zu is %s, want %s", c->name, k, got, want);
            assert_true(strlen(it->name) < 160 && strlen(it->element) < 160);
        }
        assert_int_equal(avow_evidence_result_to_json(r, &out), AVOW_OK);
        if (c->json_has != NULL && strstr((char *)out.ptr, c->json_has) == NULL)
            fail_msg("%s: result JSON lacks %s", c->name, c->json_has);
        avow_buf_free(&out);
        avow_policy_report *rep = NULL;
        avow_err pe = avow_policy_eval(pol, &r->claims, NULL, &rep, NULL);
        assert_true(pe == AVOW_OK || pe == AVOW_ERR_POLICY);
        avow_policy_report_free(rep);
        avow_evidence_result_free(r);
        avow_evidence_free(ev);
        TU_NO_OSSL_ERR();
        arena_free();
    }
    avow_policy_free(pol);
    avow_verifier_free(v);
    tu_pki_free(&pki);
}

/* ---------- truncation sweeps ---------- */

/*
 * The DER tree at p[0..len) cut inside node `target` (preorder index) after
 * its first `cut` bytes: all that follows is dropped and every enclosing
 * length rewritten to fit, so only the cut node itself is short. *hit tells
 * whether target exists.
 */
static blob *cut_tree(const uint8_t *p, size_t len, size_t target, size_t cut, size_t *counter,
                      int *hit)
{
    blob *out = NOTHING;
    size_t off = 0;
    while (off < len) {
        const uint8_t *q = p + off;
        size_t h = 2, n = q[1];
        if (q[1] & 0x80) {
            size_t k = q[1] & 0x7f;
            n = 0;
            for (size_t i = 0; i < k; i++)
                n = (n << 8) | q[2 + i];
            h = 2 + k;
        }
        size_t me = (*counter)++;
        if (me == target) {
            *hit = 1;
            out = cat(out, bytes(q, cut), END);
        } else if (q[0] & 0x20) {
            blob *inner = cut_tree(q + h, n, target, cut, counter, hit);
            out = cat(out, tlv(q[0], inner->b, inner->len), END);
        } else {
            out = cat(out, bytes(q, h + n), END);
        }
        if (*hit)
            break; /* everything after the cut is gone */
        off += h + n;
    }
    return out;
}

/* Node sizes in preorder, for picking cut points. */
static size_t node_sizes(const uint8_t *p, size_t len, size_t *sizes, size_t *hdrs, size_t cap,
                         size_t count)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *q = p + off;
        size_t h = 2, n = q[1];
        if (q[1] & 0x80) {
            size_t k = q[1] & 0x7f;
            n = 0;
            for (size_t i = 0; i < k; i++)
                n = (n << 8) | q[2 + i];
            h = 2 + k;
        }
        if (count < cap) {
            sizes[count] = h + n;
            hdrs[count] = h;
        }
        count++;
        if (q[0] & 0x20)
            count = node_sizes(q + h, n, sizes, hdrs, cap, count);
        off += h + n;
    }
    return count;
}

static void truncation_sweep(const char *what, const uint8_t *der, size_t len, size_t *ncases)
{
    char name[128];
    /* Plain prefixes: every length short of the whole. */
    for (size_t i = 0; i < len; i++) {
        snprintf(name, sizeof(name), "%s: prefix of %zu bytes", what, i);
        avow_evidence *ev = NULL;
        avow_diag d;
        memset(&d, 0, sizeof(d));
        avow_err rc = avow_evidence_decode(der, i, NULL, 0, &ev, &d);
        if (rc != AVOW_ERR_TRUNCATED)
            fail_msg("%s: %s", name, avow_errname(rc));
        assert_null(ev);
        assert_true(d.field[0] != '\0');
        TU_NO_OSSL_ERR();
        (*ncases)++;
    }
    /* Inner cuts: inside each header and content, enclosing lengths fixed up. */
    enum { CAP = 4096 };
    static size_t sizes[CAP], hdrs[CAP];
    size_t nodes = node_sizes(der, len, sizes, hdrs, CAP, 0);
    assert_true(nodes <= CAP);
    for (size_t t = 1; t < nodes; t++) {
        size_t cuts[16], nc = 0;
        for (size_t c = 1; c < hdrs[t] + 2 && c < sizes[t]; c++)
            cuts[nc++] = c; /* inside the header and at the first content byte */
        size_t body = sizes[t] - hdrs[t];
        if (body > 2) {
            cuts[nc++] = hdrs[t] + body / 2;
            cuts[nc++] = sizes[t] - 1;
        }
        for (size_t k = 0; k < nc; k++) {
            size_t counter = 0;
            int hit = 0;
            blob *b = cut_tree(der, len, t, cuts[k], &counter, &hit);
            assert_true(hit);
            snprintf(name, sizeof(name), "%s: node %zu cut to %zu of %zu bytes", what, t, cuts[k],
                     sizes[t]);
            avow_evidence *ev = NULL;
            avow_diag d;
            memset(&d, 0, sizeof(d));
            avow_err rc = avow_evidence_decode(b->b, b->len, NULL, 0, &ev, &d);
            if (rc != AVOW_ERR_TRUNCATED && rc != AVOW_ERR_MALFORMED)
                fail_msg("%s: %s (%s: %s)", name, avow_errname(rc), d.field, d.detail);
            assert_null(ev);
            assert_true(d.field[0] != '\0');
            TU_NO_OSSL_ERR();
            (*ncases)++;
            arena_free();
        }
    }
}

static void test_truncations(void **state)
{
    (void)state;
    size_t ncases = 0;
    blob *r = rich();
    avow_buf copy = {malloc(r->len), r->len};
    assert_non_null(copy.ptr);
    memcpy(copy.ptr, r->b, r->len);
    arena_free();
    truncation_sweep("rich", copy.ptr, copy.len, &ncases);
    free(copy.ptr);
    avow_buf s = tu_read_vector("pkix/head-9f03a1c/evidence2.der");
    truncation_sweep("head evidence2", s.ptr, s.len, &ncases);
    avow_buf_free(&s);
    print_message("%zu truncated inputs rejected\n", ncases);
}

static int setup(void **state)
{
    (void)state;
    g_key_a = tu_key_ec("P-256");
    g_key_b = tu_key_ec("P-384");
    g_spki_a = tu_spki(g_key_a);
    g_spki_b = tu_spki(g_key_b);
    EVP_PKEY *comp = EVP_PKEY_dup(g_key_a);
    assert_non_null(comp);
    assert_int_equal(
        EVP_PKEY_set_utf8_string_param(comp, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                       OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED),
        1);
    g_spki_a_compressed = tu_spki(comp);
    EVP_PKEY_free(comp);
    assert_int_equal(g_spki_a_compressed.len, 59); /* 33-byte point, not 65 */
    X509 *x = tu_cert_issue("avow test CA", g_key_a, NULL, g_key_a, 1, 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    g_cert.ptr = der;
    g_cert.len = (size_t)n;
    X509_free(x);
    ERR_clear_error();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    avow_buf_free(&g_spki_a);
    avow_buf_free(&g_spki_b);
    avow_buf_free(&g_spki_a_compressed);
    OPENSSL_free(g_cert.ptr);
    g_cert.ptr = NULL;
    EVP_PKEY_free(g_key_a);
    EVP_PKEY_free(g_key_b);
    arena_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_table),   cmocka_unit_test(test_passing_neighbours),
        cmocka_unit_test(test_flags_zero_strict), cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_oid_to_text),       cmocka_unit_test(test_oid_names_verify_path),
        cmocka_unit_test(test_cert_fields),       cmocka_unit_test(test_cert_builder),
        cmocka_unit_test(test_claim_type_detail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
