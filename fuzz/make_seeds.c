/*
 * Writes the generated seeds of the fuzz corpora (fuzz/corpus/README.md):
 * PKIX Evidence signed with the test-only keys of fuzz/keys/ (every claim of
 * the -07 table, every signer choice, several signatures, unknown element and
 * claim OIDs, arcs of 2^64 and more, sub-identifiers of many bytes, dotted
 * names around the claim set's 159-byte bound), the unsigned input that once
 * overflowed the claim set, attested PKCS#10 and CRMF requests carrying such
 * Evidence, claims JSON, policies and EARs (JSON and JWT) made from them,
 * and CMP messages (genm nonce requests, ir, cr, p10cr) as OpenSSL's client
 * sends them. Usage: fuzz_make_seeds CORPUS_DIR (fuzz/make-seeds runs it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "setup.h"

static const char *root;

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    printf("%s/%s (%zu bytes)\n", dir, name, n);
}

static void put_buf(const char *dir, const char *name, const avow_buf *b)
{
    put(dir, name, b->ptr, b->len);
}

/* ---- a small DER composer: every function takes ownership of its arguments ---- */

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob bytes(const void *p, size_t n)
{
    blob b = {malloc(n + 1), n};
    FZ_CHECK(b.p != NULL);
    if (n > 0)
        memcpy(b.p, p, n);
    return b;
}

static blob hex(const char *h)
{
    blob b = {malloc(strlen(h) / 2 + 1), 0};
    FZ_CHECK(b.p != NULL);
    for (const char *q = h; q[0] != '\0' && q[1] != '\0'; q += 2) {
        unsigned v;
        FZ_CHECK(sscanf(q, "%2x", &v) == 1);
        b.p[b.n++] = (uint8_t)v;
    }
    return b;
}

static blob cat(int k, ...)
{
    va_list ap;
    blob out = {malloc(1), 0};
    va_start(ap, k);
    for (int i = 0; i < k; i++) {
        blob x = va_arg(ap, blob);
        uint8_t *grown = realloc(out.p, out.n + x.n + 1);
        FZ_CHECK(grown != NULL);
        out.p = grown;
        memcpy(out.p + out.n, x.p, x.n);
        out.n += x.n;
        free(x.p);
    }
    va_end(ap);
    return out;
}

static blob tlv(uint8_t tag, blob c)
{
    uint8_t h[10];
    size_t hl = 0;
    h[hl++] = tag;
    if (c.n < 0x80) {
        h[hl++] = (uint8_t)c.n;
    } else {
        size_t k = 0;
        for (size_t v = c.n; v > 0; v >>= 8)
            k++;
        h[hl++] = (uint8_t)(0x80 | k);
        for (size_t i = k; i > 0; i--)
            h[hl++] = (uint8_t)(c.n >> (8 * (i - 1)));
    }
    return cat(2, bytes(h, hl), c);
}

static blob oid_text(const char *dotted)
{
    avow_oid o;
    FZ_CHECK(avow_oid_from_text(&o, dotted) == AVOW_OK);
    return tlv(0x06, bytes(o.der, o.len));
}

/* OID content: first hex, then rep copies of each, then last. */
static blob oid_raw(const char *first, const char *each, unsigned rep, const char *last)
{
    blob c = hex(first);
    for (unsigned i = 0; i < rep; i++)
        c = cat(2, c, hex(each));
    return tlv(0x06, cat(2, c, hex(last)));
}

#define SEQ1(a)    tlv(0x30, a)
#define SEQ2(a, b) tlv(0x30, cat(2, a, b))
#define UTF8(s)    tlv(0x0c, bytes(s, strlen(s)))
#define NUL()      hex("0500")
#define EVOID(sub) oid_text(AVOW_DEFAULT_EVIDENCE_ARC "." sub)
/* 1.3, 38 arcs 1, an arc of 2^64: the shape of the overflow. */
#define HUGE_ARC() oid_raw("2b", "01", 38, "82808080808080808000")
/* One sub-identifier of 30 bytes. */
#define LONG_SUBID() oid_raw("2b", "ff", 29, "7f")
/* Dotted text of 159 and of 160 bytes. */
#define TEXT159() oid_raw("2a", "01", 78, "")
#define TEXT160() oid_raw("3e", "01", 78, "")
/* An arc of 2^70: ten bytes. */
#define ARC70()          oid_raw("2b06", "", 0, "8180808080808080808000")
#define CLAIM(oid, v)    SEQ2(oid, v)
#define ELEM(oid, cls)   SEQ2(oid, SEQ1(cls))
#define KEY_ELEM(cls)    ELEM(EVOID("0.2"), cls)
#define IDENT(s)         CLAIM(EVOID("1.2.0"), UTF8(s))
#define UNSIGNED_EV(els) SEQ2(SEQ2(hex("020101"), SEQ1(els)), hex("3000"))

/* ---- Evidence ---- */

static avow_buf spki_of(EVP_PKEY *k)
{
    avow_buf b = {0};
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    FZ_CHECK(n > 0);
    b.ptr = der;
    b.len = (size_t)n;
    return b;
}

/* Every claim of the -07 table, the key element for key `k`. */
static avow_evidence *all_claims(EVP_PKEY *k, const char *ident)
{
    const fz_setup *s = fz_get();
    avow_evidence *ev = NULL;
    size_t tx, pl, key;
    FZ_CHECK(avow_evidence_new(NULL, &ev) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, FZ_NONCE, sizeof(FZ_NONCE), NULL) ==
             AVOW_OK);
    FZ_CHECK(avow_evidence_add_time(ev, tx, AVOW_CLAIM_TIMESTAMP, FZ_NOW - 60, NULL) == AVOW_OK);
    avow_buf ak = spki_of(X509_get0_pubkey(s->ak));
    FZ_CHECK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, ak.ptr, ak.len, NULL) == AVOW_OK);
    avow_buf_free(&ak);
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bytes(ev, pl, AVOW_CLAIM_OEMID, (const uint8_t *)"OEM", 3, NULL) ==
             AVOW_OK);
    FZ_CHECK(avow_evidence_add_bytes(ev, pl, AVOW_CLAIM_HWMODEL, (const uint8_t *)"HSM-9000", 8,
                                     NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_HWVERSION, "1.2", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_HWSERIAL, "SN-0001", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_SWNAME, "fw", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_SWVERSION, "2.7.1", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_DBGSTAT, 0, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_UPTIME, 86400, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_BOOTCOUNT, 12, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bool(ev, pl, AVOW_CLAIM_FIPSBOOT, 1, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_FIPSVER, "140.3", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 3, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_FIPSMODULE, "Acme FIPS module", NULL) ==
             AVOW_OK);
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, ident, NULL) == AVOW_OK);
    avow_buf spki = spki_of(k);
    FZ_CHECK(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, NULL) ==
             AVOW_OK);
    avow_buf_free(&spki);
    FZ_CHECK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_EXTRACTABLE, 0, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_SENSITIVE, 1, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, 1, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_LOCAL, 1, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_time(ev, key, AVOW_CLAIM_KEY_EXPIRY, FZ_NOW + 365 * 86400, NULL) ==
             AVOW_OK);
    const avow_capability caps[] = {AVOW_CAP_SIGN, AVOW_CAP_VERIFY};
    FZ_CHECK(avow_evidence_add_purposes(ev, key, caps, 2, NULL) == AVOW_OK);
    return ev;
}

/* A hand-composed unsigned Evidence, decoded so that signatures can be added. */
static avow_evidence *decoded(blob der)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    if (avow_evidence_decode(der.p, der.n, NULL, 0, &ev, &d) != AVOW_OK) {
        fprintf(stderr, "seed does not decode: %s: %s\n", d.field, d.detail);
        exit(1);
    }
    free(der.p);
    return ev;
}

static avow_buf sign_encode(avow_evidence *ev, int sigs)
{
    const fz_setup *s = fz_get();
    if (sigs & 1)
        FZ_CHECK(avow_evidence_sign(ev, s->ak_signer, AVOW_SID_CERT, NULL) == AVOW_OK);
    if (sigs & 2)
        FZ_CHECK(avow_evidence_sign(ev, s->ks_signer, AVOW_SID_KEYID, NULL) == AVOW_OK);
    if (sigs & 4)
        FZ_CHECK(avow_evidence_sign(ev, s->ks_signer, AVOW_SID_SPKI, NULL) == AVOW_OK);
    if (sigs & 8) /* a SignerIdentifier of all three fields */
        FZ_CHECK(avow_evidence_sign_sid(ev, s->ak_signer, AVOW_SID_ALL, NULL) == AVOW_OK);
    if (sigs & 16) /* keyId and SPKI of a raw key */
        FZ_CHECK(avow_evidence_sign_sid(ev, s->ks_signer, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_SPKI,
                                        NULL) == AVOW_OK);
    avow_buf der = {0};
    FZ_CHECK(avow_evidence_encode(ev, &der) == AVOW_OK);
    avow_evidence_free(ev);
    return der;
}

/* Signs with the AK certificate. */
enum { SIG_CERT = 1, SIG_KEYID = 2, SIG_SPKI = 4, SIG_ALL_FIELDS = 8, SIG_KEYID_SPKI = 16 };

/* The key element of a request's Evidence: identifier, the request key's spki, the default
 * policy's four key claims. */
static blob req_key_element(blob extra)
{
    const fz_setup *s = fz_get();
    avow_buf spki = spki_of(s->req_key);
    blob b = KEY_ELEM(
        cat(7, IDENT("req-key"), CLAIM(EVOID("1.2.1"), tlv(0x04, bytes(spki.ptr, spki.len))),
            CLAIM(EVOID("1.2.2"), hex("010100")), CLAIM(EVOID("1.2.3"), hex("0101ff")),
            CLAIM(EVOID("1.2.4"), hex("0101ff")), CLAIM(EVOID("1.2.5"), hex("0101ff")), extra));
    avow_buf_free(&spki);
    return b;
}

static blob nonce_element(void)
{
    return ELEM(EVOID("0.0"), CLAIM(EVOID("1.0.0"), tlv(0x04, bytes(FZ_NONCE, sizeof(FZ_NONCE)))));
}

static const char REPRO[] =
    "30583054020101304f304d06092b06010505876700023040300f060a2b0601050587670102000c016b302d06282b"
    "0101010101010101010101010101010101010101010101010101010101828080808080808080000c01783000";

static void evidence_seeds(void)
{
    const fz_setup *s = fz_get();
    avow_buf b;
    b = sign_encode(all_claims(s->req_key, "k1"), SIG_CERT);
    put_buf("evidence", "fz-all-claims-cert.der", &b);
    avow_buf_free(&b);
    b = sign_encode(all_claims(s->req_key, "k1"), SIG_KEYID);
    put_buf("evidence", "fz-all-claims-keyid.der", &b);
    avow_buf_free(&b);
    b = sign_encode(all_claims(s->req_key, "key-1"), SIG_SPKI);
    put_buf("evidence", "fz-all-claims-spki.der", &b);
    avow_buf_free(&b);
    b = sign_encode(all_claims(s->req_key, "k1"), SIG_CERT | SIG_KEYID | SIG_SPKI);
    put_buf("evidence", "fz-three-signatures.der", &b);
    avow_buf_free(&b);
    b = sign_encode(all_claims(s->req_key, "k1"), SIG_ALL_FIELDS | SIG_KEYID_SPKI);
    put_buf("evidence", "fz-sid-several-fields.der", &b);
    avow_buf_free(&b);

    blob repro = hex(REPRO);
    put("evidence", "fz-repro-unsigned-huge-arc.der", repro.p, repro.n);
    b = sign_encode(decoded(repro), SIG_CERT);
    put_buf("evidence", "fz-repro-signed.der", &b);
    avow_buf_free(&b);

    /* unknown element and claim OIDs, signed: the rich policy names 1.2.3.888.0 / .1 */
    b = sign_encode(
        decoded(UNSIGNED_EV(
            cat(3, nonce_element(),
                ELEM(oid_text("1.2.3.888.0"), cat(3, CLAIM(oid_text("1.2.3.888.1"), hex("020105")),
                                                  CLAIM(oid_text("1.2.3.888.2"), NUL()),
                                                  CLAIM(EVOID("1.1.0"), UTF8("Acme")))),
                req_key_element(CLAIM(oid_text("1.2.3.888.3"), SEQ1(UTF8("x"))))))),
        SIG_CERT | SIG_KEYID);
    put_buf("evidence", "fz-unknown-oids.der", &b);
    avow_buf_free(&b);

    /* arcs of 2^64 and more in element and claim OIDs */
    b = sign_encode(
        decoded(UNSIGNED_EV(
            cat(3, ELEM(HUGE_ARC(), cat(2, CLAIM(HUGE_ARC(), NUL()), CLAIM(ARC70(), NUL()))),
                KEY_ELEM(cat(3, IDENT("k1"), CLAIM(HUGE_ARC(), UTF8("x")),
                             CLAIM(LONG_SUBID(), hex("0101ff")))),
                ELEM(LONG_SUBID(), CLAIM(oid_text("1.2.3.4"), NUL()))))),
        SIG_CERT);
    put_buf("evidence", "fz-huge-arcs.der", &b);
    avow_buf_free(&b);

    /* dotted names of 159 and 160 bytes */
    b = sign_encode(
        decoded(UNSIGNED_EV(
            cat(2, ELEM(TEXT159(), cat(2, CLAIM(TEXT159(), NUL()), CLAIM(TEXT160(), NUL()))),
                ELEM(TEXT160(), CLAIM(TEXT159(), hex("020100")))))),
        SIG_KEYID);
    put_buf("evidence", "fz-long-names.der", &b);
    avow_buf_free(&b);

    /* unsigned: verification fails, the claim set and appraisal still run */
    b = sign_encode(
        decoded(UNSIGNED_EV(cat(2, ELEM(HUGE_ARC(), CLAIM(TEXT160(), NUL())),
                                KEY_ELEM(cat(2, IDENT("k"), CLAIM(LONG_SUBID(), UTF8("y"))))))),
        0);
    put_buf("evidence", "fz-unsigned-huge-element.der", &b);
    avow_buf_free(&b);

    /* two key elements, the second with a purpose OID outside the arc */
    avow_evidence *ev = all_claims(s->req_key, "k1");
    size_t k2;
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k2, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, k2, AVOW_CLAIM_KEY_IDENTIFIER, "k2", NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bool(ev, k2, AVOW_CLAIM_KEY_EXTRACTABLE, 1, NULL) == AVOW_OK);
    b = sign_encode(ev, SIG_CERT | SIG_SPKI);
    put_buf("evidence", "fz-two-keys.der", &b);
    avow_buf_free(&b);
}

/*
 * The combined form (docs/kat.md): a PSA token of the 2023 profile with a
 * 32-byte nonce, signed by ks_key (the fuzz verifier with keys finds it by
 * the instance id derived from it), carried inside Evidence the AK signs.
 * The claims map is written by hand in deterministic CBOR.
 */
static avow_buf psa_token(const uint8_t nonce[32])
{
    const fz_setup *s = fz_get();
    uint8_t ueid[AVOW_PSA_INSTANCE_ID_LEN], z[32];
    FZ_CHECK(avow_psa_instance_id_of_key(s->ks_key, ueid) == AVOW_OK);
    memset(z, 0x11, sizeof(z));
    uint8_t m[512];
    size_t n = 0;
#define B(...)                                                                                     \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        memcpy(m + n, b_, sizeof(b_));                                                             \
        n += sizeof(b_);                                                                           \
    } while (0)
#define RAW(p, len)                                                                                \
    do {                                                                                           \
        memcpy(m + n, (p), (len));                                                                 \
        n += (len);                                                                                \
    } while (0)
    static const char prof[] = "tag:psacertified.org,2023:psa#tfm";
    B(0xa7, 0x0a, 0x58, 0x20);
    RAW(nonce, 32);
    B(0x19, 0x01, 0x00, 0x58, 0x21);
    RAW(ueid, sizeof(ueid));
    B(0x19, 0x01, 0x09, 0x78, (uint8_t)(sizeof(prof) - 1));
    RAW(prof, sizeof(prof) - 1);
    B(0x19, 0x09, 0x5a, 0x01);             /* client id 1 */
    B(0x19, 0x09, 0x5b, 0x19, 0x30, 0x00); /* secured */
    B(0x19, 0x09, 0x5c, 0x58, 0x20);
    RAW(z, 32);
    B(0x19, 0x09, 0x5f, 0x81, 0xa3, 0x01, 0x62, 'B', 'L', 0x02, 0x58, 0x20);
    RAW(z, 32);
    B(0x05, 0x58, 0x20);
    RAW(z, 32);
#undef B
#undef RAW
    avow_buf tok = {0};
    FZ_CHECK(avow_cose_sign1(m, n, s->ks_signer, AVOW_COSE_TAGGED, &tok, NULL) == AVOW_OK);
    return tok;
}

static void combined_seed(const char *name, const uint8_t nonce[32], const uint8_t psa_nonce[32])
{
    const fz_setup *s = fz_get();
    avow_evidence *ev = NULL;
    size_t tx = 0, key = 0;
    FZ_CHECK(avow_evidence_new(NULL, &ev) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, nonce, 32, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL) == AVOW_OK);
    FZ_CHECK(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "k1", NULL) == AVOW_OK);
    avow_buf spki = spki_of(s->req_key);
    FZ_CHECK(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, NULL) ==
             AVOW_OK);
    avow_buf_free(&spki);
    FZ_CHECK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_SENSITIVE, 1, NULL) == AVOW_OK);
    avow_buf tok = psa_token(psa_nonce);
    FZ_CHECK(avow_evidence_add_platform_token(ev, NULL, tok.ptr, tok.len, NULL) == AVOW_OK);
    avow_buf_free(&tok);
    avow_buf b = sign_encode(ev, SIG_CERT);
    put_buf("evidence", name, &b);
    avow_buf_free(&b);
}

static void combined_seeds(void)
{
    const fz_setup *s = fz_get();
    uint8_t nonce[32], h[32];
    memset(nonce, 0x5a, sizeof(nonce));
    combined_seed("fz-combined-psa.der", nonce, nonce);
    /* bound by the AK: the token's nonce is the SHA-256 of its SubjectPublicKeyInfo */
    avow_buf ak = spki_of(X509_get0_pubkey(s->ak));
    FZ_CHECK(avow_kat_link_nonce(ak.ptr, ak.len, sizeof(h), h) == AVOW_OK);
    avow_buf_free(&ak);
    combined_seed("fz-combined-by-signer.der", nonce, h);
}

/* ---- requests ---- */

static avow_buf request(avow_request_kind kind, const avow_buf *evidence, int extra)
{
    const fz_setup *s = fz_get();
    avow_request_builder *rb = NULL;
    FZ_CHECK(avow_request_builder_new(kind, &rb) == AVOW_OK);
    FZ_CHECK(avow_request_builder_set_subject(rb, "CN=fuzz subject,O=avow", NULL) == AVOW_OK);
    FZ_CHECK(avow_request_builder_add_evidence(rb, NULL, evidence->ptr, evidence->len, NULL) ==
             AVOW_OK);
    if (extra) {
        FZ_CHECK(avow_request_builder_add_octets(rb, "1.2.3.999.1", (const uint8_t *)"cbor", 4,
                                                 NULL) == AVOW_OK);
        FZ_CHECK(avow_request_builder_add_cert(rb, s->ca, NULL) == AVOW_OK);
    }
    avow_buf der = {0};
    FZ_CHECK(avow_request_builder_sign(rb, s->req_signer, &der, NULL) == AVOW_OK);
    avow_request_builder_free(rb);
    return der;
}

static void request_seeds(void)
{
    const fz_setup *s = fz_get();
    avow_buf ev = sign_encode(all_claims(s->req_key, "req-key"), SIG_CERT);
    avow_buf b = request(AVOW_REQUEST_PKCS10, &ev, 0);
    put_buf("request", "fz-csr-affirming.der", &b);
    avow_buf pem = {0};
    FZ_CHECK(avow_request_to_pem(AVOW_REQUEST_PKCS10, b.ptr, b.len, &pem) == AVOW_OK);
    put("request", "fz-csr-affirming.pem", pem.ptr, pem.len);
    avow_buf_free(&pem);
    avow_buf_free(&b);
    b = request(AVOW_REQUEST_CRMF, &ev, 1);
    put_buf("request", "fz-crmf-affirming-two-statements.der", &b);
    avow_buf_free(&b);
    avow_buf_free(&ev);

    ev = sign_encode(decoded(UNSIGNED_EV(cat(3, nonce_element(),
                                             ELEM(HUGE_ARC(), cat(2, CLAIM(HUGE_ARC(), NUL()),
                                                                  CLAIM(TEXT160(), NUL()))),
                                             req_key_element(CLAIM(HUGE_ARC(), UTF8("x")))))),
                     SIG_CERT);
    b = request(AVOW_REQUEST_PKCS10, &ev, 0);
    put_buf("request", "fz-csr-huge-arcs.der", &b);
    avow_buf_free(&b);
    b = request(AVOW_REQUEST_CRMF, &ev, 0);
    put_buf("request", "fz-crmf-huge-arcs.der", &b);
    avow_buf_free(&b);
    avow_buf_free(&ev);

    blob repro = hex(REPRO);
    ev.ptr = repro.p;
    ev.len = repro.n;
    b = request(AVOW_REQUEST_PKCS10, &ev, 0);
    put_buf("request", "fz-csr-repro-unsigned.der", &b);
    avow_buf_free(&b);
    b = request(AVOW_REQUEST_CRMF, &ev, 1);
    put_buf("request", "fz-crmf-repro-unsigned.der", &b);
    avow_buf_free(&b);
    free(repro.p);
}

/* ---- CMP messages, captured from OpenSSL's own client ---- */

static avow_buf captured;

/* The client's transport: keep the request, answer nothing (the client gives up). */
static OSSL_CMP_MSG *capture(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
    (void)ctx;
    avow_buf_free(&captured);
    unsigned char *der = NULL;
    int n = i2d_OSSL_CMP_MSG(req, &der);
    FZ_CHECK(n > 0);
    captured.ptr = OPENSSL_memdup(der, (size_t)n);
    captured.len = (size_t)n;
    OPENSSL_free(der);
    return NULL;
}

static int cmp_quiet(const char *func, const char *file, int line, OSSL_CMP_severity level,
                     const char *msg)
{
    (void)func, (void)file, (void)line, (void)level, (void)msg;
    return 1;
}

/* A client MAC-protected with FZ_CMP_SECRET (or unprotected), for req_key. */
static OSSL_CMP_CTX *cmp_client(int mac)
{
    const fz_setup *s = fz_get();
    OSSL_CMP_CTX *c = OSSL_CMP_CTX_new(NULL, NULL);
    FZ_CHECK(c != NULL);
    OSSL_CMP_CTX_set_log_cb(c, cmp_quiet);
    FZ_CHECK(OSSL_CMP_CTX_set_transfer_cb(c, capture));
    FZ_CHECK(OSSL_CMP_CTX_set1_recipient(c, X509_get_subject_name(s->ca)));
    FZ_CHECK(OSSL_CMP_CTX_set1_subjectName(c, X509_get_subject_name(s->ak)));
    if (mac) {
        FZ_CHECK(OSSL_CMP_CTX_set1_secretValue(c, (const unsigned char *)FZ_CMP_SECRET,
                                               (int)strlen(FZ_CMP_SECRET)));
        FZ_CHECK(OSSL_CMP_CTX_set1_referenceValue(c, (const unsigned char *)"fuzz", 4));
    } else {
        FZ_CHECK(OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_UNPROTECTED_SEND, 1));
    }
    FZ_CHECK(EVP_PKEY_up_ref(s->req_key));
    FZ_CHECK(OSSL_CMP_CTX_set0_newPkey(c, 1, s->req_key));
    return c;
}

static void cmp_genm(const char *name, const uint8_t *value, size_t len)
{
    OSSL_CMP_CTX *c = cmp_client(1);
    ASN1_TYPE *t = NULL;
    if (value != NULL) {
        ASN1_STRING *str = ASN1_STRING_new();
        FZ_CHECK(str != NULL && ASN1_STRING_set(str, value, (int)len));
        t = ASN1_TYPE_new();
        FZ_CHECK(t != NULL);
        ASN1_TYPE_set(t, V_ASN1_SEQUENCE, str);
    }
    OSSL_CMP_ITAV *itav = OSSL_CMP_ITAV_create(OBJ_txt2obj(AVOW_OID_IT_NONCE_REQUEST, 1), t);
    FZ_CHECK(itav != NULL && OSSL_CMP_CTX_push0_genm_ITAV(c, itav));
    FZ_CHECK(OSSL_CMP_exec_GENM_ses(c) == NULL);
    put_buf("cmp_server", name, &captured);
    OSSL_CMP_CTX_free(c);
}

/* ir / cr / p10cr with the affirming request's attestation (the extension for CRMF). */
static void cmp_certreq(const char *name, int type, const avow_buf *csr_der, int mac)
{
    OSSL_CMP_CTX *c = cmp_client(mac);
    const unsigned char *p = csr_der->ptr;
    X509_REQ *csr = d2i_X509_REQ(NULL, &p, (long)csr_der->len);
    FZ_CHECK(csr != NULL);
    if (type == OSSL_CMP_P10CR) {
        FZ_CHECK(OSSL_CMP_CTX_set1_p10CSR(c, csr));
    } else {
        ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
        int i = X509_REQ_get_attr_by_OBJ(csr, oid, -1);
        FZ_CHECK(i >= 0);
        ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(csr, i), 0);
        FZ_CHECK(v != NULL && ASN1_TYPE_get(v) == V_ASN1_SEQUENCE);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        FZ_CHECK(os != NULL && ASN1_OCTET_STRING_set(os, ASN1_STRING_get0_data(v->value.sequence),
                                                     ASN1_STRING_length(v->value.sequence)));
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        FZ_CHECK(ext != NULL && exts != NULL && sk_X509_EXTENSION_push(exts, ext));
        FZ_CHECK(OSSL_CMP_CTX_set0_reqExtensions(c, exts));
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(oid);
    }
    FZ_CHECK(OSSL_CMP_exec_certreq(c, type, NULL) == NULL);
    put_buf("cmp_server", name, &captured);
    X509_REQ_free(csr);
    OSSL_CMP_CTX_free(c);
}

static void cmp_seeds(void)
{
    const fz_setup *s = fz_get();
    static const uint8_t len32[] = {0x30, 0x03, 0x02, 0x01, 0x20};
    cmp_genm("fz-genm-nonce-len32.der", len32, sizeof(len32));
    cmp_genm("fz-genm-nonce-empty.der", NULL, 0);
    avow_buf ev = sign_encode(all_claims(s->req_key, "req-key"), SIG_CERT);
    avow_buf csr = request(AVOW_REQUEST_PKCS10, &ev, 0);
    cmp_certreq("fz-ir-mac.der", OSSL_CMP_IR, &csr, 1);
    cmp_certreq("fz-cr-unprotected.der", OSSL_CMP_CR, &csr, 0);
    cmp_certreq("fz-p10cr-mac.der", OSSL_CMP_P10CR, &csr, 1);
    cmp_certreq("fz-p10cr-unprotected.der", OSSL_CMP_P10CR, &csr, 0);
    avow_buf_free(&csr);
    avow_buf_free(&ev);
    avow_buf_free(&captured);
    ERR_clear_error();
}

/* ---- claims JSON, policies, EARs ---- */

static void text(const char *dir, const char *name, const char *t)
{
    put(dir, name, t, strlen(t));
}

static void json_seeds(void)
{
    const fz_setup *s = fz_get();
    text("claims_json", "fz-all-claims.json",
         "{\"transaction\": {\"nonce\": {\"hex\": \"f0225eed00112233445566778899aabb\"},\n"
         "  \"timestamp\": \"2029-12-31T23:59:00Z\"},\n"
         " \"platform\": {\"vendor\": \"Acme\", \"oemid\": {\"text\": \"OEM\"}, \"hwmodel\": "
         "\"HSM-9000\",\n"
         "  \"hwversion\": \"1.2\", \"hwserial\": \"SN-0001\", \"swname\": \"fw\", \"swversion\": "
         "\"2.7.1\",\n"
         "  \"dbgstat\": 0, \"uptime\": 86400, \"bootcount\": 12, \"fipsboot\": true, "
         "\"fipsver\": \"140.3\",\n"
         "  \"fipslevel\": 3, \"fipsmodule\": \"Acme FIPS module\"},\n"
         " \"keys\": [{\"identifier\": [\"k1\", \"alias\"], \"extractable\": false, "
         "\"sensitive\": true,\n"
         "  \"never-extractable\": true, \"local\": true, \"expiry\": \"2031-01-01T00:00:00Z\",\n"
         "  \"purpose\": [\"sign\", \"verify\", \"1.2.3.4.5\"]},\n"
         "  {\"identifier\": \"k2\", \"oemid\": {\"base64\": \"T0VN\"}, \"purpose\": []}]}\n");
    /* the printed form of a signed Evidence: reads back (signatures are read past) */
    avow_buf der = sign_encode(all_claims(s->req_key, "k1"), SIG_CERT);
    avow_evidence *ev = NULL;
    FZ_CHECK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, NULL) == AVOW_OK);
    avow_buf json = {0};
    FZ_CHECK(avow_evidence_to_json(ev, &json) == AVOW_OK);
    put_buf("claims_json", "fz-printed-form.json", &json);
    avow_buf_free(&json);

    text("policy", "fz-rich.json", FZ_RICH_POLICY);
    text("policy", "fz-statements.json",
         "{\"name\": \"tpm-and-hsm\", \"statements\": {\"unknown\": \"reject\", \"required\": "
         "[\"pkix-evidence\", \"2.23.133.20.1\"]},\n"
         " \"rules\": [{\"id\": \"key-sensitive\", \"element\": \"key\", \"claim\": "
         "\"sensitive\", \"equals\": true},\n"
         "  {\"id\": \"huge\", \"element\": \"1.3.1.1\", \"claim\": \"1.3.18446744073709551615\","
         " \"present\": true, \"vector\": \"none\"},\n"
         "  {\"id\": \"too-long\", \"claim\": \"fz:x\", \"in\": [1, 2, 3], \"on_fail\": "
         "\"warning\", \"vector\": \"sourced-data\"}]}\n");

    /* an EAR from the verified Evidence under the rich policy, as JSON and as a JWT */
    avow_evidence_result *r = NULL;
    avow_verify_opts vo = {
        .size = sizeof(avow_verify_opts), .nonce = FZ_NONCE, .nonce_len = sizeof(FZ_NONCE)};
    FZ_CHECK(avow_verify_evidence(s->v_anchor, ev, &vo, &r, NULL) == AVOW_OK);
    avow_policy_input in = {.size = sizeof(avow_policy_input),
                            .key_element = AVOW_POLICY_NO_ELEMENT,
                            .nonce_expected = 1};
    avow_policy_report *rep = NULL;
    avow_err pe = avow_policy_eval(s->rich, &r->claims, &in, &rep, NULL);
    FZ_CHECK(pe == AVOW_OK || pe == AVOW_ERR_POLICY);
    const avow_nclaim *spki = avow_claimset_find(&r->claims, "key", "spki", NULL);
    FZ_CHECK(spki != NULL);
    avow_ear_statement st[2] = {
        {.size = sizeof(avow_ear_statement),
         .name = "pkix-evidence",
         .verify_status = AVOW_OK,
         .report = rep,
         .nonce = r->nonce,
         .akpub = spki->value.bytes.ptr,
         .akpub_len = spki->value.bytes.len},
        {.size = sizeof(avow_ear_statement),
         .name = "tpm",
         .verify_status = AVOW_ERR_SIG_INVALID,
         .verify_detail = "bad"},
    };
    avow_ear_opts eo = {.size = sizeof(avow_ear_opts),
                        .iat = FZ_NOW,
                        .ttl = 3600,
                        .nonce = FZ_NONCE,
                        .nonce_len = sizeof(FZ_NONCE),
                        .build = "fuzz"};
    avow_ear *ear = NULL;
    FZ_CHECK(avow_ear_build(st, 2, &eo, &ear, NULL) == AVOW_OK);
    FZ_CHECK(avow_ear_to_json(ear, &json, NULL) == AVOW_OK);
    put_buf("ear", "fz-rich.json", &json);
    avow_buf_free(&json);
    avow_buf jwt = {0};
    FZ_CHECK(avow_ear_sign_jwt(ear, s->ear_signer, "fuzz", &jwt, NULL) == AVOW_OK);
    put_buf("ear", "fz-rich.jwt", &jwt);
    avow_buf_free(&jwt);
    avow_ear_free(ear);
    eo.ttl = 0;
    FZ_CHECK(avow_ear_build(st, 1, &eo, &ear, NULL) == AVOW_OK);
    FZ_CHECK(avow_ear_sign_jwt(ear, s->ear_signer, NULL, &jwt, NULL) == AVOW_OK);
    put_buf("ear", "fz-affirming.jwt", &jwt);
    avow_buf_free(&jwt);
    avow_ear_free(ear);
    avow_policy_report_free(rep);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);
    avow_buf_free(&der);
}

/* JOSE: a JWS with its key in the header (as DPoP), a JWT under the EAR key, JWKs of each key. */
static void jose_seeds(void)
{
    const fz_setup *s = fz_get();
    static const char payload[] = "{\"htm\":\"POST\",\"htu\":\"https://as.example/token\","
                                  "\"iat\":1893456000,\"jti\":\"fz-1\"}";
    avow_jws_sign_opts o;
    avow_jws_sign_opts_init(&o);
    o.typ = "dpop+jwt";
    o.flags = AVOW_JWS_HEADER_JWK;
    avow_buf b = {0};
    FZ_CHECK(avow_jws_sign(s->req_signer, (const uint8_t *)payload, sizeof(payload) - 1, &o, &b,
                           NULL) == AVOW_OK);
    put_buf("jose", "fz-dpop.jws", &b);
    avow_buf_free(&b);
    o.typ = "JWT";
    o.flags = 0;
    o.kid = "ear";
    FZ_CHECK(avow_jws_sign(s->ear_signer, (const uint8_t *)payload, sizeof(payload) - 1, &o, &b,
                           NULL) == AVOW_OK);
    put_buf("jose", "fz-ear-key.jwt", &b);
    avow_buf_free(&b);
    EVP_PKEY *keys[3] = {s->req_key, s->ak_key, s->ear_key};
    const char *names[3] = {"fz-req.jwk", "fz-ak.jwk", "fz-ear.jwk"};
    for (int i = 0; i < 3; i++) {
        FZ_CHECK(avow_jwk_export(keys[i], &b, NULL) == AVOW_OK);
        put_buf("jose", names[i], &b);
        avow_buf_free(&b);
    }
}

/* OAuth: attestation (ES by the EAR key; HS256 by the fixed secret) + PoP + DPoP lines. */
static void oauth_put_dir(const char *dir, const char *name, const avow_buf *att,
                          const avow_buf *pop, const avow_buf *dpop)
{
    size_t n = att->len + (pop != NULL ? pop->len : 0) + (dpop != NULL ? dpop->len : 0) + 3;
    avow_buf b = {OPENSSL_zalloc(n + 1), 0};
    FZ_CHECK(b.ptr != NULL);
    b.len = (size_t)snprintf((char *)b.ptr, n + 1, "%s\n%s\n%s", (const char *)att->ptr,
                             pop != NULL ? (const char *)pop->ptr : "",
                             dpop != NULL ? (const char *)dpop->ptr : "");
    put_buf(dir, name, &b);
    avow_buf_free(&b);
}

static void oauth_put(const char *name, const avow_buf *att, const avow_buf *pop,
                      const avow_buf *dpop)
{
    oauth_put_dir("oauth", name, att, pop, dpop);
}

static void oauth_seeds(void)
{
    const fz_setup *s = fz_get();
    static const uint8_t secret[32] = "avow-fuzz-oauth-hmac-secret-0001";
    avow_oauth_attestation_opts ao;
    avow_oauth_attestation_opts_init(&ao);
    ao.client_id = "https://client.example.com";
    ao.cnf_key = s->req_key;
    ao.iat = (int64_t)FZ_NOW;
    ao.ttl = 3600;
    avow_buf att = {0}, hs = {0}, pop = {0}, popc = {0}, dpop = {0}, dpopc = {0};
    FZ_CHECK(avow_oauth_attestation_sign(s->ear_signer, &ao, &att, NULL) == AVOW_OK);
    FZ_CHECK(avow_oauth_attestation_sign_hmac("HS256", secret, sizeof(secret), &ao, &hs, NULL) ==
             AVOW_OK);
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    po.aud = "https://as.example.com";
    po.jti = "fz-1";
    po.iat = (int64_t)FZ_NOW;
    FZ_CHECK(avow_oauth_pop_sign(s->req_signer, &po, &pop, NULL) == AVOW_OK);
    po.challenge = "fz-challenge";
    FZ_CHECK(avow_oauth_pop_sign(s->req_signer, &po, &popc, NULL) == AVOW_OK);
    avow_oauth_dpop_opts dp;
    avow_oauth_dpop_opts_init(&dp);
    dp.htm = "POST";
    dp.htu = "https://as.example.com/token";
    dp.jti = "fz-d1";
    dp.iat = (int64_t)FZ_NOW;
    FZ_CHECK(avow_oauth_dpop_sign(s->req_signer, &dp, &dpop, NULL) == AVOW_OK);
    dp.nonce = "fz-challenge";
    dp.access_token = "fz-token";
    FZ_CHECK(avow_oauth_dpop_sign(s->req_signer, &dp, &dpopc, NULL) == AVOW_OK);
    oauth_put("fz-pop.txt", &att, &pop, NULL);
    oauth_put("fz-pop-challenge.txt", &att, &popc, NULL);
    oauth_put("fz-pop-dpop.txt", &att, &popc, &dpop);
    oauth_put("fz-combined.txt", &att, NULL, &dpopc);
    oauth_put("fz-hs256.txt", &hs, &pop, NULL);
    avow_buf *all[] = {&att, &hs, &pop, &popc, &dpop, &dpopc};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        avow_buf_free(all[i]);
}

/* WIMSE: a WIT by the EAR key for req_key + a WPT by req_key, with and without ath. */
static void wimse_seeds(void)
{
    const fz_setup *s = fz_get();
    avow_wimse_issue_opts io;
    avow_wimse_issue_opts_init(&io);
    io.iss = "https://ids.example.org";
    io.now = (int64_t)FZ_NOW;
    io.jti = "fz-wit-1";
    avow_buf wit = {0}, wpt = {0}, wpta = {0};
    FZ_CHECK(avow_wimse_wit_sign(s->ear_signer, "spiffe://example.org/fz/w1", s->req_key, NULL, &io,
                                 &wit, NULL) == AVOW_OK);
    avow_wimse_wpt_opts wo;
    avow_wimse_wpt_opts_init(&wo);
    wo.wit = (const char *)wit.ptr;
    wo.aud = "https://svc.example.org/api";
    wo.now = (int64_t)FZ_NOW;
    wo.jti = "fz-wpt-1";
    FZ_CHECK(avow_wimse_wpt_sign(s->req_signer, &wo, &wpt, NULL) == AVOW_OK);
    wo.access_token = "fz-token";
    FZ_CHECK(avow_wimse_wpt_sign(s->req_signer, &wo, &wpta, NULL) == AVOW_OK);
    oauth_put_dir("wimse", "fz-wit-wpt.txt", &wit, &wpt, NULL);
    avow_buf tok = {(uint8_t *)"\nfz-token", 9}; /* an empty second WIT, then the token */
    oauth_put_dir("wimse", "fz-wit-wpt-ath.txt", &wit, &wpta, &tok);
    oauth_put_dir("wimse", "fz-two-wits.txt", &wit, &wpt, &wit);
    avow_buf_free(&wit);
    avow_buf_free(&wpt);
    avow_buf_free(&wpta);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    evidence_seeds();
    combined_seeds();
    request_seeds();
    json_seeds();
    jose_seeds();
    cmp_seeds();
    oauth_seeds();
    wimse_seeds();
    ERR_clear_error();
    return 0;
}
