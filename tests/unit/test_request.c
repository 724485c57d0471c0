/*
 * Attested requests: PKCS#10 and CRMF with an AttestationBundle, the -15
 * shape, the registry, and request verification (POP, statements, binding).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/pem.h>

#include <avow/registry.h>
#include <avow/request.h>
#include <avow/request_verify.h>
#include <avow/tpm.h>

static const uint8_t NONCE[] = {1, 2, 3, 4, 5, 6, 7, 8};
/* A dummy statement of a type no built-in row has (a private OID; the TPM type has a row):
 * SEQUENCE { OCTET STRING 00 } */
#define UNKNOWN_OID "1.3.6.1.4.1.99999.77.1"
static const uint8_t TPM_DUMMY[] = {0x30, 0x03, 0x04, 0x01, 0x00};

typedef struct fx {
    tu_pki pki;
    EVP_PKEY *key;   /* the request key */
    EVP_PKEY *other; /* a key that is not the request's */
    avow_verifier *v;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    tu_pki_make(&f->pki, NULL, 0);
    f->key = tu_key_ec("P-256");
    f->other = tu_key_ec("P-256");
    OK(avow_verifier_new(NULL, &f->v));
    OK(avow_verifier_add_anchor(f->v, f->pki.ca, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->key);
    EVP_PKEY_free(f->other);
    tu_pki_free(&f->pki);
    free(f);
    return 0;
}

/* PKIX Evidence with one key element for key, a nonce, signed by the test AK. */
static avow_buf make_evidence(fx *f, EVP_PKEY *key)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_evidence *ev = NULL;
    OK(avow_evidence_new(NULL, &ev));
    size_t tx, k;
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL));
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, NONCE, sizeof(NONCE), &d));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL));
    OK(avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "csr-key", &d));
    avow_buf spki = tu_spki(key);
    OK(avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, &d));
    avow_buf_free(&spki);
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->pki.ak_key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_signer_set1_cert(s, f->pki.ak, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d));
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_signer_free(s);
    avow_evidence_free(ev);
    TU_NO_OSSL_ERR();
    return der;
}

/* A request over f->key with PKIX Evidence for evidence_key and a dummy statement of UNKNOWN_OID.
 */
static avow_buf make_request(fx *f, avow_request_kind kind, EVP_PKEY *evidence_key,
                             avow_bundle_version version)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(kind, &b));
    OK(avow_request_builder_set_subject(b, "CN=device 1,O=avow test", &d));
    avow_buf ev = make_evidence(f, evidence_key);
    OK(avow_request_builder_add_evidence(b, NULL, ev.ptr, ev.len, &d));
    avow_buf_free(&ev);
    OK(avow_request_builder_add_statement(b, UNKNOWN_OID, TPM_DUMMY, sizeof(TPM_DUMMY), &d));
    OK(avow_request_builder_add_cert(b, f->pki.inter, NULL));
    if (version != AVOW_BUNDLE_LATEST) {
        OK(avow_request_builder_set_version(b, version));
        OK(avow_request_builder_set_hint(b, 0, "avow.example", NULL));
    }
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->key, AVOW_SIGALG_NONE, &s, NULL));
    avow_buf der = {0};
    avow_err e = avow_request_builder_sign(b, s, &der, &d);
    if (e != AVOW_OK)
        print_error("sign: %s %s\n", d.field, d.detail);
    OK(e);
    avow_signer_free(s);
    avow_request_builder_free(b);
    TU_NO_OSSL_ERR();
    return der;
}

static avow_request *decode_ok(const avow_buf *der)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_request *r = NULL;
    avow_err e = avow_request_decode(der->ptr, der->len, AVOW_REQUEST_AUTO, 0, &r, &d);
    if (e != AVOW_OK)
        print_error("decode: %s %s %s\n", avow_errname(e), d.field, d.detail);
    OK(e);
    TU_NO_OSSL_ERR();
    return r;
}

static avow_err decode_err(const uint8_t *p, size_t len)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_request *r = NULL;
    avow_err e = avow_request_decode(p, len, AVOW_REQUEST_AUTO, 0, &r, &d);
    assert_null(r);
    assert_int_equal(d.code, e);
    TU_NO_OSSL_ERR();
    return e;
}

static avow_verification *verify(fx *f, const avow_request *r, avow_err expect)
{
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_verification *res = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_request_verify(f->v, r, &o, &res, &d);
    if (e != expect)
        print_error("verify: %s (%s)\n", avow_errname(e),
                    res != NULL ? avow_verification_detail(res) : d.detail);
    assert_int_equal(e, expect);
    assert_non_null(res);
    assert_int_equal(avow_verification_status(res), expect);
    TU_NO_OSSL_ERR();
    return res;
}

/* Index of the bound statement / element, -1 when unbound. */
static long bound_stmt(const avow_verification *res)
{
    size_t st = 0;
    return avow_verification_bound(res, &st, NULL) ? (long)st : -1;
}

static long bound_el(const avow_verification *res)
{
    size_t el = 0;
    return avow_verification_bound(res, NULL, &el) && el != AVOW_NO_ELEMENT ? (long)el : -1;
}

/* Writes data to a temporary file; returns its path (static buffer per slot). */
static const char *tmpfile_with(const uint8_t *p, size_t len, int slot)
{
    static char paths[2][64];
    snprintf(paths[slot], sizeof(paths[slot]), "/tmp/avow_test_request_%ld_%d.pem", (long)getpid(),
             slot);
    FILE *fp = fopen(paths[slot], "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, len, fp), len);
    fclose(fp);
    return paths[slot];
}

/*
 * Runs `openssl req -in X -noout -verify`: 0 when it says "verify OK", 1 when
 * it reports a self-signature failure (OpenSSL 3.0 exits 0 in both cases, so
 * the verdict is read from its output), -1 otherwise.
 */
static int openssl_req_verify(const uint8_t *pem, size_t len)
{
    const char *path = tmpfile_with(pem, len, 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "openssl req -in %s -noout -verify 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[512] = {0};
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int st = pclose(p);
    unlink(path);
    if (strstr(out, "self-signature verify failure") != NULL)
        return 1;
    if (st == 0 && strstr(out, "verify OK") != NULL)
        return 0;
    return -1;
}

/* Minimal DER writer for the tests that build invalid requests by hand. */
static size_t put_tlv(uint8_t *out, uint8_t tag, const uint8_t *c, size_t n)
{
    size_t h = 0;
    out[h++] = tag;
    if (n < 0x80) {
        out[h++] = (uint8_t)n;
    } else if (n < 0x100) {
        out[h++] = 0x81;
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = 0x82;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    }
    memmove(out + h, c, n);
    return h + n;
}

/* Header size and body length of the TLV at p (definite lengths up to 2 bytes). */
static size_t tlv_at(const uint8_t *p, size_t *body)
{
    if (p[1] < 0x80) {
        *body = p[1];
        return 2;
    }
    if (p[1] == 0x81) {
        *body = p[2];
        return 3;
    }
    assert_int_equal(p[1], 0x82);
    *body = ((size_t)p[2] << 8) | p[3];
    return 4;
}

/*
 * Rewrites a DER CSR so that its attributes [0] holds every attribute
 * already there followed by `extra` (a whole Attribute TLV). The signature
 * is kept, so it no longer verifies; the decoder must refuse before that matters.
 */
static avow_buf csr_with_extra_attribute(const avow_buf *csr, const uint8_t *extra,
                                         size_t extra_len)
{
    size_t b, h = tlv_at(csr->ptr, &b);
    const uint8_t *cri = csr->ptr + h;
    size_t cb, ch = tlv_at(cri, &cb);
    const uint8_t *tail = cri + ch + cb; /* signatureAlgorithm, signature */
    size_t tail_len = (size_t)(csr->ptr + h + b - tail);
    /* CRI children: version, subject, spki, [0] attributes (last). */
    const uint8_t *q = cri + ch;
    const uint8_t *attrs = NULL;
    while (q < cri + ch + cb) {
        size_t qb, qh = tlv_at(q, &qb);
        if (q[0] == 0xa0)
            attrs = q;
        q += qh + qb;
    }
    assert_non_null(attrs);
    size_t ab, ah = tlv_at(attrs, &ab);
    size_t cap = csr->len + extra_len + 64;
    uint8_t *a = malloc(cap), *c = malloc(cap), *o = malloc(cap);
    memcpy(a, attrs + ah, ab);
    memcpy(a + ab, extra, extra_len);
    size_t prefix = (size_t)(attrs - (cri + ch)); /* version, subject, spki */
    memcpy(c, cri + ch, prefix);
    size_t cl = prefix + put_tlv(c + prefix, 0xa0, a, ab + extra_len);
    size_t l = put_tlv(o, 0x30, c, cl);
    memcpy(o + l, tail, tail_len);
    l += tail_len;
    avow_buf out = {0};
    out.ptr = malloc(cap);
    out.len = put_tlv(out.ptr, 0x30, o, l);
    free(a);
    free(c);
    free(o);
    return out;
}

/* --- PKCS#10 --- */

static void test_csr_full(void **state)
{
    fx *f = *state;
    avow_buf der = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_LATEST);
    avow_buf pem = {0};
    OK(avow_request_to_pem(AVOW_REQUEST_PKCS10, der.ptr, der.len, &pem));
    assert_non_null(strstr((const char *)pem.ptr, "-----BEGIN CERTIFICATE REQUEST-----"));
    assert_int_equal(openssl_req_verify(pem.ptr, pem.len), 0);

    avow_request *r = decode_ok(&pem);
    assert_int_equal(avow_request_get_kind(r), AVOW_REQUEST_PKCS10);
    assert_int_equal(avow_request_get_version(r), AVOW_BUNDLE_LATEST);
    assert_string_equal(avow_bundle_version_name(avow_request_get_version(r)),
                        "latest (-16..-29 AttestationBundle)");
    const char *pd = NULL;
    OK(avow_request_pop(r, &pd));
    assert_int_equal(avow_request_statement_count(r), 2);
    avow_profile p;
    avow_profile_default(&p);
    const avow_statement *s0 = avow_request_get0_statement(r, 0);
    assert_string_equal(s0->type_text, AVOW_DEFAULT_EVIDENCE_ARC);
    assert_int_equal(s0->hint.len, 0);
    const avow_statement *s1 = avow_request_get0_statement(r, 1);
    assert_string_equal(s1->type_text, UNKNOWN_OID);
    assert_int_equal(s1->der.len, sizeof(TPM_DUMMY));
    assert_memory_equal(s1->der.ptr, TPM_DUMMY, sizeof(TPM_DUMMY));
    assert_non_null(avow_request_get0_certs(r));
    assert_int_equal(sk_X509_num(avow_request_get0_certs(r)), 1);
    avow_buf spki = tu_spki(f->key);
    avow_view rs = avow_request_spki(r);
    assert_int_equal(rs.len, spki.len);
    assert_memory_equal(rs.ptr, spki.ptr, spki.len);
    avow_buf_free(&spki);
    avow_buf subj = {0};
    OK(avow_request_subject_text(r, &subj));
    assert_string_equal((const char *)subj.ptr, "CN=device 1,O=avow test");
    avow_buf_free(&subj);

    avow_verification *res = verify(f, r, AVOW_OK);
    assert_int_equal(avow_verification_count(res), 2);
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 0)), AVOW_OK);
    assert_string_equal(avow_statement_result_type_name(avow_verification_get0(res, 0)),
                        "pkix-evidence");
    assert_int_equal(avow_statement_result_nonce_state(avow_verification_get0(res, 0)),
                     AVOW_NONCE_MATCH);
    assert_non_null(
        avow_statement_result_get0_native(avow_verification_get0(res, 0), "avow_evidence"));
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 1)),
                     AVOW_ERR_STATEMENT_TYPE);
    assert_string_equal(avow_statement_result_type_oid(avow_verification_get0(res, 1)),
                        UNKNOWN_OID);
    assert_int_equal(avow_verification_binding(res), AVOW_OK);
    assert_string_equal(avow_verification_bound_by(res), "key-spki");
    assert_int_equal(bound_stmt(res), 0);
    assert_int_equal(bound_el(res), 1); /* element 0 is the transaction */
    assert_int_equal(avow_verification_verified(res), 1);
    assert_int_equal(avow_verification_unknown(res), 1);
    const avow_claimset *cs =
        avow_statement_result_get0_claims(avow_verification_get0(res, (size_t)bound_stmt(res)));
    assert_non_null(cs);
    assert_non_null(avow_claimset_find(cs, "key", "spki", NULL));
    avow_verification_free(res);

    /* A wrong nonce fails the statement, and with it the request. */
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    static const uint8_t bad[] = {9, 9};
    o.nonce = bad;
    o.nonce_len = sizeof(bad);
    assert_int_equal(avow_request_verify(f->v, r, &o, NULL, NULL), AVOW_ERR_NONCE_MISMATCH);

    avow_request_free(r);
    avow_buf_free(&pem);
    avow_buf_free(&der);
}

static void test_csr_wrong_key(void **state)
{
    fx *f = *state;
    avow_buf der = make_request(f, AVOW_REQUEST_PKCS10, f->other, AVOW_BUNDLE_LATEST);
    avow_request *r = decode_ok(&der);
    avow_verification *res = verify(f, r, AVOW_ERR_KEY_BINDING);
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 0)), AVOW_OK);
    avow_view spki = avow_request_spki(r);
    assert_null(avow_statement_result_find_key(avow_verification_get0(res, 0), spki.ptr, spki.len));
    assert_int_equal(avow_statement_result_key_count(avow_verification_get0(res, 0)), 1);
    assert_int_equal(avow_verification_binding(res), AVOW_ERR_KEY_BINDING);
    assert_int_equal(bound_el(res), -1);
    avow_verification_free(res);

    /* Binding by identifier, when the flag allows it and the policy names the identifier. */
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    o.flags = AVOW_REQVERIFY_BIND_BY_IDENTIFIER;
    o.bind_identifier = (const uint8_t *)"csr-key";
    o.bind_identifier_len = 7;
    OK(avow_request_verify(f->v, r, &o, &res, NULL));
    assert_string_equal(avow_verification_bound_by(res), "key-id");
    assert_int_equal(bound_el(res), 1);
    avow_verification_free(res);
    o.bind_identifier = (const uint8_t *)"other";
    o.bind_identifier_len = 5;
    assert_int_equal(avow_request_verify(f->v, r, &o, NULL, NULL), AVOW_ERR_KEY_BINDING);

    avow_request_free(r);
    avow_buf_free(&der);
}

static void test_csr_broken_signature(void **state)
{
    fx *f = *state;
    avow_buf der = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_LATEST);
    der.ptr[der.len - 5] ^= 0x01; /* inside the ECDSA signature */
    avow_request *r = decode_ok(&der);
    const char *detail = NULL;
    assert_int_equal(avow_request_pop(r, &detail), AVOW_ERR_POP);
    assert_non_null(strstr(detail, "self-signature verify failure"));
    avow_verification *res = verify(f, r, AVOW_ERR_POP);
    assert_int_equal(avow_verification_possession(res, NULL), AVOW_ERR_POP);
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 0)),
                     AVOW_OK); /* the statements are still reported */
    avow_verification_free(res);
    avow_buf pem = {0};
    OK(avow_request_to_pem(AVOW_REQUEST_PKCS10, der.ptr, der.len, &pem));
    assert_int_equal(openssl_req_verify(pem.ptr, pem.len), 1);
    avow_buf_free(&pem);
    avow_request_free(r);
    avow_buf_free(&der);
}

/* Re-signs req with key after a change; returns DER. */
static avow_buf resign(X509_REQ *req, EVP_PKEY *key)
{
    assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
    avow_buf out = {0};
    int n = i2d_X509_REQ(req, &out.ptr);
    assert_true(n > 0);
    out.len = (size_t)n;
    return out;
}

static X509_REQ *plain_req(EVP_PKEY *key)
{
    X509_REQ *req = X509_REQ_new();
    assert_non_null(req);
    assert_true(X509_REQ_set_pubkey(req, key));
    X509_NAME *n = X509_REQ_get_subject_name(req);
    assert_true(
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"x", -1, -1, 0));
    return req;
}

static void test_csr_attribute_count(void **state)
{
    fx *f = *state;
    /* none */
    X509_REQ *req = plain_req(f->key);
    avow_buf der = resign(req, f->key);
    assert_int_equal(decode_err(der.ptr, der.len), AVOW_ERR_NO_ATTESTATION);
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, AVOW_REQUEST_ALLOW_NONE, &r, NULL));
    assert_int_equal(avow_request_statement_count(r), 0);
    avow_request_free(r);
    avow_buf_free(&der);
    X509_REQ_free(req);

    /* two attributes, and one attribute with two values */
    avow_buf good = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_LATEST);
    const unsigned char *p = good.ptr;
    req = d2i_X509_REQ(NULL, &p, (long)good.len);
    assert_non_null(req);
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
    X509_ATTRIBUTE *a = X509_REQ_get_attr(req, X509_REQ_get_attr_by_OBJ(req, oid, -1));
    assert_non_null(a);
    unsigned char *attr = NULL;
    int alen = i2d_X509_ATTRIBUTE(a, &attr);
    assert_true(alen > 0);
    avow_buf two = csr_with_extra_attribute(&good, attr, (size_t)alen);
    assert_int_equal(decode_err(two.ptr, two.len), AVOW_ERR_DUP_ATTRIBUTE);
    free(two.ptr);

    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
    assert_true(X509_ATTRIBUTE_set1_data(a, V_ASN1_SEQUENCE,
                                         ASN1_STRING_get0_data(t->value.sequence),
                                         ASN1_STRING_length(t->value.sequence)));
    assert_int_equal(X509_ATTRIBUTE_count(a), 2);
    der = resign(req, f->key);
    assert_int_equal(decode_err(der.ptr, der.len), AVOW_ERR_DUP_ATTRIBUTE);
    avow_buf_free(&der);
    OPENSSL_free(attr);
    X509_REQ_free(req);
    ASN1_OBJECT_free(oid);
    avow_buf_free(&good);
}

static void test_csr_strict(void **state)
{
    fx *f = *state;
    /* A BER bundle: the outer length in long form where the short one fits. */
    static const uint8_t ber[] = {0x30, 0x81, 0x14, 0x30, 0x12, 0x30, 0x10, 0x06,
                                  0x05, 0x67, 0x81, 0x05, 0x14, 0x01, 0x30, 0x03,
                                  0x04, 0x01, 0x00, 0x0c, 0x02, 'h',  'i'};
    static const uint8_t der_ok[] = {0x30, 0x14, 0x30, 0x12, 0x30, 0x10, 0x06, 0x05,
                                     0x67, 0x81, 0x05, 0x14, 0x01, 0x30, 0x03, 0x04,
                                     0x01, 0x00, 0x0c, 0x02, 'h',  'i'};
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
    for (int i = 0; i < 2; i++) {
        X509_REQ *req = plain_req(f->key);
        const uint8_t *v = i == 0 ? ber : der_ok;
        int vlen = i == 0 ? (int)sizeof(ber) : (int)sizeof(der_ok);
        assert_true(X509_REQ_add1_attr_by_OBJ(req, oid, V_ASN1_SEQUENCE, v, vlen));
        avow_buf der = resign(req, f->key);
        if (i == 0) {
            assert_int_equal(decode_err(der.ptr, der.len), AVOW_ERR_NOT_DER);
        } else {
            avow_request *r = decode_ok(&der);
            assert_int_equal(avow_request_get_version(r), AVOW_BUNDLE_HINTED);
            assert_int_equal(avow_request_get0_statement(r, 0)->hint.len, 2);
            avow_request_free(r);
        }
        avow_buf_free(&der);
        X509_REQ_free(req);
    }
    ASN1_OBJECT_free(oid);

    /* Trailing bytes after the request. */
    avow_buf good = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_LATEST);
    uint8_t *more = malloc(good.len + 1);
    memcpy(more, good.ptr, good.len);
    more[good.len] = 0;
    assert_int_equal(decode_err(more, good.len + 1), AVOW_ERR_TRAILING);
    /* Truncated. */
    assert_int_equal(decode_err(more, good.len - 1), AVOW_ERR_TRUNCATED);
    free(more);
    avow_buf_free(&good);
}

static void test_csr_draft15(void **state)
{
    fx *f = *state;
    avow_buf der = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_DRAFT15);
    avow_request *r = decode_ok(&der);
    assert_int_equal(avow_request_get_version(r), AVOW_BUNDLE_DRAFT15);
    assert_string_equal(avow_bundle_version_name(AVOW_BUNDLE_DRAFT15),
                        "-15 (EvidenceBundles with hint)");
    const avow_statement *s0 = avow_request_get0_statement(r, 0);
    assert_int_equal(s0->hint.len, strlen("avow.example"));
    assert_memory_equal(s0->hint.ptr, "avow.example", s0->hint.len);
    assert_int_equal(avow_request_get0_statement(r, 1)->hint.len, 0);
    avow_verification *res = verify(f, r, AVOW_OK);
    avow_verification_free(res);
    avow_request_free(r);
    avow_buf_free(&der);
}

/* --- CRMF --- */

static void test_crmf_roundtrip(void **state)
{
    fx *f = *state;
    avow_buf der = make_request(f, AVOW_REQUEST_CRMF, f->key, AVOW_BUNDLE_LATEST);
    avow_buf pem = {0};
    OK(avow_request_to_pem(AVOW_REQUEST_CRMF, der.ptr, der.len, &pem));
    assert_non_null(strstr((const char *)pem.ptr, "-----BEGIN CERTIFICATE REQUEST MESSAGE-----"));
    for (int i = 0; i < 2; i++) {
        avow_request *r = decode_ok(i == 0 ? &der : &pem);
        assert_int_equal(avow_request_get_kind(r), AVOW_REQUEST_CRMF);
        assert_non_null(avow_request_get0_crmf(r));
        assert_int_equal(avow_request_get_version(r), AVOW_BUNDLE_LATEST);
        OK(avow_request_pop(r, NULL));
        assert_int_equal(avow_request_statement_count(r), 2);
        avow_verification *res = verify(f, r, AVOW_OK);
        assert_int_equal(bound_el(res), 1);
        avow_verification_free(res);
        avow_request_free(r);
    }
    /* OpenSSL's own POP check agrees. */
    const unsigned char *p = der.ptr;
    OSSL_CRMF_MSG *m = d2i_OSSL_CRMF_MSG(NULL, &p, (long)der.len);
    assert_non_null(m);
    OSSL_CRMF_MSGS *ms = sk_OSSL_CRMF_MSG_new_null();
    sk_OSSL_CRMF_MSG_push(ms, m);
    assert_int_equal(OSSL_CRMF_MSGS_verify_popo(ms, 0, 0, NULL, NULL), 1);
    sk_OSSL_CRMF_MSG_pop_free(ms, OSSL_CRMF_MSG_free);

    /* A flipped signature byte breaks the POP. */
    der.ptr[der.len - 3] ^= 0x01;
    avow_request *r = decode_ok(&der);
    assert_int_equal(avow_request_pop(r, NULL), AVOW_ERR_POP);
    avow_verification_free(verify(f, r, AVOW_ERR_POP));
    avow_request_free(r);
    avow_buf_free(&pem);
    avow_buf_free(&der);
}

/* --- the published sample --- */

static void test_sample_tpm_certify(void **state)
{
    fx *f = *state;
    avow_buf pem = tu_read_vector("csr/tcgAttestTpmCertify.pem");
    avow_request *r = decode_ok(&pem);
    assert_int_equal(avow_request_get_kind(r), AVOW_REQUEST_PKCS10);
    assert_int_equal(avow_request_get_version(r), AVOW_BUNDLE_HINTED);
    assert_int_equal(avow_request_statement_count(r), 1);
    const avow_statement *s = avow_request_get0_statement(r, 0);
    assert_string_equal(s->type_text, "2.23.133.20.1");
    assert_int_equal(s->hint.len, strlen("tpmverifier.example.com"));
    assert_non_null(avow_request_get0_certs(r));
    /* Same verdict as `openssl req -verify`. */
    const char *detail = NULL;
    assert_int_equal(avow_request_pop(r, &detail), AVOW_ERR_POP);
    assert_non_null(strstr(detail, "Certificate request self-signature verify failure"));
    assert_int_equal(openssl_req_verify(pem.ptr, pem.len), 1);
    avow_verification *res = verify(f, r, AVOW_ERR_POP);
    /* The TPM row reads it; its signature is a bare RSA one with no scheme (docs/tpm.md).
     * Without TPM support the row says so. */
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 0)),
                     avow_tpm_available() ? AVOW_ERR_SIG_ALG : AVOW_ERR_UNSUPPORTED);
    avow_verification_free(res);
    avow_request_free(r);
    avow_buf_free(&pem);
}

/* --- registry --- */

/* A caller's row for the TPM type: it decodes the dummy statement and trusts it. */
static avow_err fake_tpm_decode(const avow_statement_type *row, const avow_profile *profile,
                                const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)profile, (void)diag;
    assert_ptr_equal(row->arg, (void *)TPM_DUMMY);
    assert_int_equal(len, sizeof(TPM_DUMMY));
    assert_memory_equal(stmt, TPM_DUMMY, len);
    *native = (void *)TPM_DUMMY;
    return AVOW_OK;
}

static avow_err fake_tpm_verify(const avow_statement_type *row, const avow_verifier *v,
                                const void *native, const avow_verify_opts *opts, void **verified,
                                avow_diag *diag)
{
    (void)row, (void)v, (void)native, (void)opts, (void)verified, (void)diag;
    return AVOW_OK;
}

static avow_err fake_tpm_claims(const avow_statement_type *row, const void *native,
                                const void *verified, avow_claimset *out)
{
    (void)row, (void)native, (void)verified;
    return avow_claimset_alloc(out, 0, 0, NULL);
}

static void test_registry(void **state)
{
    fx *f = *state;
    avow_profile p;
    avow_profile_default(&p);
    const avow_statement_type *row =
        avow_registry_find(NULL, &p, p.evidence_arc.der, p.evidence_arc.len);
    assert_non_null(row);
    assert_string_equal(row->name, "pkix-evidence");
    /* The PKIX row follows the profile's arc. */
    avow_profile q = p;
    OK(avow_profile_set(&q, "1.2.3.4.5", NULL, NULL));
    assert_null(avow_registry_find(NULL, &q, p.evidence_arc.der, p.evidence_arc.len));
    assert_non_null(avow_registry_find(NULL, &q, q.evidence_arc.der, q.evidence_arc.len));

    avow_registry *reg = NULL;
    OK(avow_registry_new(&reg));
    avow_statement_type tpm = {.size = sizeof(avow_statement_type),
                               .name = "test-tpm",
                               .oid_kind = AVOW_TYPE_OID_FIXED,
                               .decode = fake_tpm_decode,
                               .verify = fake_tpm_verify,
                               .to_claims = fake_tpm_claims,
                               .arg = (void *)TPM_DUMMY};
    OK(avow_oid_from_text(&tpm.oid, UNKNOWN_OID));
    OK(avow_registry_add(reg, &tpm, NULL));

    avow_buf der = make_request(f, AVOW_REQUEST_PKCS10, f->key, AVOW_BUNDLE_LATEST);
    avow_request *r = decode_ok(&der);
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    o.registry = reg;
    avow_verification *res = NULL;
    OK(avow_request_verify(f->v, r, &o, &res, NULL));
    assert_int_equal(avow_statement_result_status(avow_verification_get0(res, 1)), AVOW_OK);
    assert_string_equal(avow_statement_result_type_name(avow_verification_get0(res, 1)),
                        "test-tpm");
    assert_int_equal(avow_verification_verified(res), 2);
    assert_int_equal(avow_verification_unknown(res), 0);
    avow_verification_free(res);

    /* Only unknown statements: reported, and the request has nothing verified. */
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_add_octets(b, "1.3.6.1.4.1.99999.1", (const uint8_t *)"{}", 2, NULL));
    /* A CMW of a media type no row handles is an unknown statement too. */
    OK(avow_request_builder_add_cmw(b, 1, (const uint8_t *)"[\"application/example\",\"YQ\"]", 28,
                                    NULL));
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->key, AVOW_SIGALG_NONE, &s, NULL));
    avow_buf der2 = {0};
    OK(avow_request_builder_sign(b, s, &der2, NULL));
    avow_request *r2 = decode_ok(&der2);
    const avow_statement *st = avow_request_get0_statement(r2, 0);
    assert_int_equal(st->octets.len, 2);
    assert_memory_equal(st->octets.ptr, "{}", 2);
    assert_string_equal(avow_request_get0_statement(r2, 1)->type_text, AVOW_OID_CMW);
    avow_verification_free(verify(f, r2, AVOW_ERR_STATEMENT_TYPE));
    avow_request_free(r2);
    avow_buf_free(&der2);
    avow_signer_free(s);
    avow_request_builder_free(b);

    avow_request_free(r);
    avow_buf_free(&der);
    avow_registry_free(reg);
}

/* DER that is no request at all: said so, not reported as a broken CRMF message. */
static void test_not_a_request(void **state)
{
    fx *f = *state;
    X509 *cert = tu_cert_issue("not a request", f->key, NULL, f->key, 1, 0);
    unsigned char *cder = NULL;
    int clen = i2d_X509(cert, &cder);
    assert_true(clen > 0);
    avow_buf crmf = make_request(f, AVOW_REQUEST_CRMF, f->key, AVOW_BUNDLE_LATEST);
    /* CertReqMessages ::= SEQUENCE OF CertReqMsg, around the one message */
    size_t wlen = crmf.len + 4;
    uint8_t *wrapped = malloc(wlen);
    assert_true(crmf.len < 0x10000);
    wrapped[0] = 0x30;
    wrapped[1] = 0x82;
    wrapped[2] = (uint8_t)(crmf.len >> 8);
    wrapped[3] = (uint8_t)crmf.len;
    memcpy(wrapped + 4, crmf.ptr, crmf.len);
    static const uint8_t seq_int[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    static const uint8_t seq_four[] = {0x30, 0x09, 0x30, 0x00, 0x30, 0x00,
                                       0x03, 0x01, 0x00, 0x05, 0x00};
    struct {
        const char *what;
        const uint8_t *p;
        size_t len;
        const char *hint;
    } cases[] = {
        {"a certificate", cder, (size_t)clen, "X.509 certificate"},
        {"CertReqMessages", wrapped, wlen, "CertReqMessages"},
        {"SEQUENCE { INTEGER }", seq_int, sizeof(seq_int), ""},
        {"four fields", seq_four, sizeof(seq_four), ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_diag d;
        avow_diag_clear(&d);
        avow_request *r = NULL;
        avow_err e = avow_request_decode(cases[i].p, cases[i].len, AVOW_REQUEST_AUTO, 0, &r, &d);
        if (e != AVOW_ERR_MALFORMED || strcmp(d.field, "request") != 0 ||
            strstr(d.detail, "neither a PKCS#10 CertificationRequest nor a CRMF CertReqMsg") ==
                NULL ||
            strstr(d.detail, cases[i].hint) == NULL)
            fail_msg("%s: %s %s: %s", cases[i].what, avow_errname(e), d.field, d.detail);
        assert_null(r);
        TU_NO_OSSL_ERR();
    }
    /* The kinds still reach their decoders; a kind given by the caller is not second-guessed. */
    avow_request *r = decode_ok(&crmf);
    assert_int_equal(avow_request_get_kind(r), AVOW_REQUEST_CRMF);
    avow_request_free(r);
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_request_decode(cder, (size_t)clen, AVOW_REQUEST_PKCS10, 0, &r, &d),
                     AVOW_ERR_WRONG_TAG);
    assert_null(strstr(d.detail, "neither"));
    ERR_clear_error();
    free(wrapped);
    avow_buf_free(&crmf);
    OPENSSL_free(cder);
    X509_free(cert);
}

static void test_builder_errors(void **state)
{
    (void)state;
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_request_builder_set_subject(b, "CN", &d), AVOW_ERR_BAD_DN);
    OK(avow_request_builder_set_subject(b, "/CN=a\\/b/O=x", &d));
    assert_int_equal(
        avow_request_builder_add_statement(b, "not.an.oid", TPM_DUMMY, sizeof(TPM_DUMMY), &d),
        AVOW_ERR_OID);
    static const uint8_t ber_bool[] = {0x01, 0x01, 0x01};
    assert_int_equal(avow_request_builder_add_statement(b, "1.2.3", ber_bool, sizeof(ber_bool), &d),
                     AVOW_ERR_NOT_DER);
    EVP_PKEY *k = tu_key_ec("P-256");
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL));
    avow_buf der = {0};
    assert_int_equal(avow_request_builder_sign(b, s, &der, &d), AVOW_ERR_EMPTY);
    avow_signer_free(s);
    EVP_PKEY_free(k);
    avow_request_builder_free(b);
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csr_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_broken_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_attribute_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_draft15, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crmf_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_tpm_certify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_request, setup, teardown),
        cmocka_unit_test(test_builder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
