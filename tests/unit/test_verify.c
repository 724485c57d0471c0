/*
 * avow_verify_evidence: every SignerIdentifier kind, the AK certificate
 * profile, trust anchors, ak-spki binding, nonce, ALL vs ANY, unknown
 * elements, the result as JSON, and the published samples.
 */
#include "testutil.h"

#include <pthread.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include "formats/evidence_asn1.h"

#define SAMPLES "pkix/head-9f03a1c/"

static const uint8_t NONCE[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};

typedef struct fixture {
    tu_pki pki;   /* CA -> intermediate -> AK with the full AK profile */
    tu_pki other; /* an unrelated hierarchy */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    tu_pki_make(&f->pki, NULL, 0);
    tu_pki_make(&f->other, NULL, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_pki_free(&f->pki);
    tu_pki_free(&f->other);
    free(f);
    return 0;
}

/* What goes into a test Evidence. */
typedef struct spec {
    int nonce;            /* add NONCE */
    EVP_PKEY *ak_spki[2]; /* keys listed in ak-spki claims */
} spec;

static avow_evidence *make_unsigned(const spec *sp)
{
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    size_t tr, pl, key;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    if (sp->nonce || sp->ak_spki[0] != NULL) {
        assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tr, NULL),
                         AVOW_OK);
        if (sp->nonce)
            assert_int_equal(
                avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_NONCE, NONCE, sizeof(NONCE), &d),
                AVOW_OK);
        for (int i = 0; i < 2 && sp->ak_spki[i] != NULL; i++) {
            avow_buf spki = tu_spki(sp->ak_spki[i]);
            assert_int_equal(
                avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_AK_SPKI, spki.ptr, spki.len, &d),
                AVOW_OK);
            avow_buf_free(&spki);
        }
    }
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme Corp", &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_bool(ev, pl, AVOW_CLAIM_FIPSBOOT, 1, &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 3, &d), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "key-1", &d),
                     AVOW_OK);
    avow_capability caps[] = {AVOW_CAP_SIGN, AVOW_CAP_VERIFY};
    assert_int_equal(avow_evidence_add_purposes(ev, key, caps, 2, &d), AVOW_OK);
    assert_int_equal(
        avow_evidence_add_time(ev, key, AVOW_CLAIM_KEY_EXPIRY, tu_utc(2030, 1, 2, 3, 4, 5), &d),
        AVOW_OK);
    TU_NO_OSSL_ERR();
    return ev;
}

static void sign_with(avow_evidence *ev, EVP_PKEY *key, avow_sigalg alg, X509 *cert,
                      avow_sid_kind sid)
{
    avow_signer *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_signer_new_pkey(key, alg, &s, NULL), AVOW_OK);
    if (cert != NULL)
        assert_int_equal(avow_signer_set1_cert(s, cert, NULL), AVOW_OK);
    avow_err rc = avow_evidence_sign(ev, s, sid, &d);
    if (rc != AVOW_OK)
        fail_msg("sign: %s %s", d.field, d.detail);
    avow_signer_free(s);
    TU_NO_OSSL_ERR();
}

/* Through DER and back: what a verifier receives. */
static avow_evidence *reparse(avow_evidence *ev)
{
    avow_buf der = {0};
    assert_int_equal(avow_evidence_encode(ev, &der), AVOW_OK);
    avow_evidence_free(ev);
    avow_evidence *out = NULL;
    avow_diag d = {0};
    avow_err rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &out, &d);
    if (rc != AVOW_OK)
        fail_msg("decode: %s %s", d.field, d.detail);
    avow_buf_free(&der);
    return out;
}

/* Evidence signed by pki's AK with the given sid; intermediate embedded for CERT. */
static avow_evidence *signed_by_ak(const tu_pki *pki, avow_sid_kind sid, const spec *sp)
{
    avow_evidence *ev = make_unsigned(sp);
    if (sid == AVOW_SID_CERT)
        assert_int_equal(avow_evidence_add_intermediate(ev, pki->inter, NULL), AVOW_OK);
    sign_with(ev, pki->ak_key, AVOW_SIGALG_NONE, pki->ak, sid);
    return reparse(ev);
}

static avow_verifier *verifier_for(const tu_pki *pki)
{
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    if (pki != NULL)
        assert_int_equal(avow_verifier_add_anchor(v, pki->ca, NULL), AVOW_OK);
    return v;
}

/* Runs verify, checks the contract every call keeps, returns the result. */
static avow_err run(const avow_verifier *v, const avow_evidence *ev, const avow_verify_opts *o,
                    avow_evidence_result **r)
{
    avow_diag d = {0};
    avow_err rc = avow_verify_evidence(v, ev, o, r, &d);
    TU_NO_OSSL_ERR();
    assert_int_equal(d.code, rc);
    assert_non_null(*r);
    assert_int_equal((*r)->status, rc);
    assert_int_equal((*r)->trusted, rc == AVOW_OK);
    if (rc != AVOW_OK)
        assert_true(d.detail[0] != '\0');
    return rc;
}

static void expect(const avow_verifier *v, const avow_evidence *ev, const avow_verify_opts *o,
                   avow_err want)
{
    avow_evidence_result *r = NULL;
    avow_err rc = run(v, ev, o, &r);
    if (rc != want)
        fail_msg("want %s, got %s (%s)", avow_errname(want), avow_errname(rc),
                 r->nsigs > 0 ? r->sigs[0].detail : "");
    avow_evidence_result_free(r);
}

static void test_sid_certificate(void **state)
{
    fixture *f = *state;
    spec sp = {1, {f->pki.ak_key, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = verifier_for(&f->pki);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_int_equal(r->nsigs, 1);
    assert_int_equal(r->sigs[0].status, AVOW_OK);
    assert_int_equal(r->sigs[0].sid_kind, AVOW_SID_CERT);
    assert_int_equal(r->sigs[0].alg, AVOW_SIGALG_ECDSA_SHA256);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    assert_int_equal(X509_cmp(r->sigs[0].cert, f->pki.ak), 0);
    assert_int_equal(sk_X509_num(r->sigs[0].chain), 3);
    assert_int_equal(X509_cmp(sk_X509_value(r->sigs[0].chain, 2), f->pki.ca), 0);
    assert_int_equal(r->sigs[0].ak_spki, 1);
    assert_int_equal(r->nonce, AVOW_NONCE_NOT_CHECKED);
    assert_int_equal(r->unknown_elements, 0);
    assert_int_equal(r->unknown_claims, 0);

    const avow_nclaim *c = avow_claimset_find(&r->claims, "platform", "vendor", NULL);
    assert_non_null(c);
    assert_true(c->known);
    assert_int_equal(c->signed_by, 1);
    assert_int_equal(c->element_index, 1);
    assert_int_equal(c->value.bytes.len, 9);
    assert_memory_equal(c->value.bytes.ptr, "Acme Corp", 9);
    assert_null(avow_claimset_find(&r->claims, "platform", "vendor", c));
    assert_null(avow_claimset_find(&r->claims, "key", "vendor", NULL));
    assert_non_null(avow_claimset_find(&r->claims, NULL, "identifier", NULL));
    assert_non_null(avow_claimset_find(&r->claims, "transaction", "ak-spki", NULL));
    avow_evidence_result_free(r);

    /* Without the intermediate in the Evidence, the verifier's own copy serves. */
    avow_evidence *bare = make_unsigned(&sp);
    sign_with(bare, f->pki.ak_key, AVOW_SIGALG_NONE, f->pki.ak, AVOW_SID_CERT);
    expect(v, bare, NULL, AVOW_ERR_CHAIN);
    assert_int_equal(avow_verifier_add_cert(v, f->pki.inter, NULL), AVOW_OK);
    expect(v, bare, NULL, AVOW_OK); /* built, never encoded: the builder path */
    avow_evidence_free(bare);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_sid_keyid(void **state)
{
    fixture *f = *state;
    spec sp = {0, {f->pki.ak_key, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_KEYID, &sp);
    const avow_signature_block *b = avow_evidence_get0_signature(ev, 0);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(f->pki.ak);
    assert_int_equal(b->sid_kind, AVOW_SID_KEYID);
    assert_memory_equal(b->key_id.ptr, ASN1_STRING_get0_data(ski), b->key_id.len);

    /* Nothing known about the key id. */
    avow_verifier *v = verifier_for(&f->pki);
    expect(v, ev, NULL, AVOW_ERR_KEY_UNKNOWN);
    /* Certificates given for this call only (opts.untrusted). */
    STACK_OF(X509) *call = sk_X509_new_null();
    assert_int_equal(sk_X509_push(call, f->pki.ak), 1);
    assert_int_equal(sk_X509_push(call, f->pki.inter), 2);
    avow_verify_opts o = {sizeof(avow_verify_opts), NULL, 0, 0, call};
    expect(v, ev, &o, AVOW_OK);
    sk_X509_free(call);
    /* The AK certificate, by SubjectKeyIdentifier, chained through the intermediate. */
    assert_int_equal(avow_verifier_add_cert(v, f->pki.ak, NULL), AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_CHAIN);
    assert_int_equal(avow_verifier_add_cert(v, f->pki.inter, NULL), AVOW_OK);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    assert_int_equal(sk_X509_num(r->sigs[0].chain), 3);
    avow_evidence_result_free(r);
    avow_verifier_free(v);

    /* A raw key in the key set needs no certificate at all. */
    v = verifier_for(NULL);
    assert_int_equal(avow_verifier_add_key(v, b->key_id.ptr, b->key_id.len, f->pki.ak_key, NULL),
                     AVOW_OK);
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "key set");
    assert_null(r->sigs[0].cert);
    assert_null(r->sigs[0].chain);
    avow_evidence_result_free(r);
    avow_verifier_free(v);

    /* The AK certificate shipped among the Evidence's intermediates. */
    avow_evidence *ev2 = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev2, f->pki.ak, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_intermediate(ev2, f->pki.inter, NULL), AVOW_OK);
    sign_with(ev2, f->pki.ak_key, AVOW_SIGALG_NONE, f->pki.ak, AVOW_SID_KEYID);
    ev2 = reparse(ev2);
    v = verifier_for(&f->pki);
    expect(v, ev2, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev2);
    avow_evidence_free(ev);
}

static void test_sid_spki(void **state)
{
    fixture *f = *state;
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_SPKI, &sp);
    /* A bare SPKI proves nothing: it must be a key the verifier already trusts. */
    avow_verifier *v = verifier_for(&f->pki);
    expect(v, ev, NULL, AVOW_ERR_KEY_UNKNOWN);
    /* The AK certificate's key, once the certificate chains. */
    assert_int_equal(avow_verifier_add_cert(v, f->pki.ak, NULL), AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_CHAIN);
    assert_int_equal(avow_verifier_add_cert(v, f->pki.inter, NULL), AVOW_OK);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    assert_int_equal(r->sigs[0].ak_spki, -1);
    avow_evidence_result_free(r);
    avow_verifier_free(v);

    v = verifier_for(NULL);
    static const uint8_t id[] = {1, 2, 3};
    assert_int_equal(avow_verifier_add_key(v, id, sizeof(id), f->other.ak_key, NULL), AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_KEY_UNKNOWN);
    assert_int_equal(avow_verifier_add_key(v, id, sizeof(id), f->pki.ak_key, NULL), AVOW_OK);
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "key set");
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_untrusted_anchor(void **state)
{
    fixture *f = *state;
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = verifier_for(&f->other);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_ERR_CHAIN);
    assert_int_equal(r->sigs[0].status, AVOW_ERR_CHAIN);
    assert_null(r->sigs[0].chain);
    assert_non_null(strstr(r->sigs[0].detail, "certificate chain"));
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    /* No anchors at all; and the intermediate is no anchor (no partial chains). */
    v = verifier_for(NULL);
    expect(v, ev, NULL, AVOW_ERR_CHAIN);
    assert_int_equal(avow_verifier_add_anchor(v, f->pki.inter, NULL), AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_CHAIN);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

/* An AK certificate variant under the same CA, and the error it must get. */
static void expect_ak_variant(fixture *f, unsigned flags, avow_err want)
{
    X509 *ak = tu_cert_issue("variant AK", f->pki.ak_key, f->pki.inter, f->pki.int_key, 0, flags);
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->pki.inter, NULL), AVOW_OK);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_CERT);
    ev = reparse(ev);
    avow_verifier *v = verifier_for(&f->pki);
    expect(v, ev, NULL, want);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    X509_free(ak);
}

static void test_ak_profile(void **state)
{
    fixture *f = *state;
    expect_ak_variant(f, 0, AVOW_OK);
    expect_ak_variant(f, TU_AK_NO_EKU, AVOW_ERR_AK_EKU);
    expect_ak_variant(f, TU_AK_OTHER_EKU, AVOW_ERR_AK_EKU);
    expect_ak_variant(f, TU_AK_NO_KU, AVOW_ERR_AK_KU);
    expect_ak_variant(f, TU_AK_NO_DS, AVOW_ERR_AK_KU);
    expect_ak_variant(f, TU_AK_EXPIRED, AVOW_ERR_CHAIN);

    /* The EKU is the profile's: a verifier with another ak_eku refuses the default one. */
    avow_profile prof;
    avow_profile_default(&prof);
    assert_int_equal(avow_profile_set(&prof, NULL, "1.3.6.1.4.1.99999.1", NULL), AVOW_OK);
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(&prof, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, f->pki.ca, NULL), AVOW_OK);
    assert_memory_equal(avow_verifier_get0_profile(v), &prof, sizeof(prof));
    expect(v, ev, NULL, AVOW_ERR_AK_EKU);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

/* Evidence signed by a new chain for key with alg; verified with extra flags. */
static avow_err verify_alg(EVP_PKEY *key, avow_sigalg alg, unsigned flags, char *detail)
{
    tu_pki pki;
    tu_pki_make(&pki, key, 0);
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, pki.inter, NULL), AVOW_OK);
    sign_with(ev, key, alg, pki.ak, AVOW_SID_CERT);
    ev = reparse(ev);
    avow_verifier *v = verifier_for(&pki);
    avow_verify_opts o = {sizeof(avow_verify_opts), NULL, 0, flags, NULL};
    avow_evidence_result *r = NULL;
    avow_err rc = run(v, ev, &o, &r);
    if (detail != NULL)
        snprintf(detail, 192, "%s", r->sigs[0].detail);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    tu_pki_free(&pki);
    return rc;
}

/* ECDSA: the hash must fit the curve unless the caller says otherwise. */
static void test_ecdsa_hash_fits_curve(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256"), *p384 = tu_key_ec("P-384"), *p521 = tu_key_ec("P-521");
    static const struct {
        int key; /* 0 P-256, 1 P-384, 2 P-521 */
        avow_sigalg alg;
        avow_err want;
    } cases[] = {
        {0, AVOW_SIGALG_ECDSA_SHA256, AVOW_OK},
        {0, AVOW_SIGALG_ECDSA_SHA384, AVOW_ERR_ALG_MISMATCH},
        {0, AVOW_SIGALG_ECDSA_SHA512, AVOW_ERR_ALG_MISMATCH},
        {1, AVOW_SIGALG_ECDSA_SHA256, AVOW_ERR_ALG_MISMATCH},
        {1, AVOW_SIGALG_ECDSA_SHA384, AVOW_OK},
        {2, AVOW_SIGALG_ECDSA_SHA384, AVOW_ERR_ALG_MISMATCH},
        {2, AVOW_SIGALG_ECDSA_SHA512, AVOW_OK},
    };
    EVP_PKEY *keys[] = {p256, p384, p521};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char detail[192];
        avow_err rc = verify_alg(keys[cases[i].key], cases[i].alg, 0, detail);
        if (rc != cases[i].want)
            fail_msg("case %zu: %s (%s)", i, avow_errname(rc), detail);
        if (rc == AVOW_ERR_ALG_MISMATCH)
            assert_non_null(strstr(detail, "the hash must fit the curve"));
        /* The flag accepts every combination. */
        assert_int_equal(
            verify_alg(keys[cases[i].key], cases[i].alg, AVOW_VERIFY_ANY_ECDSA_HASH, NULL),
            AVOW_OK);
    }
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
}

/* A software signer that always hands back the high-S twin of its ECDSA signature. */
static avow_err high_s_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                            avow_buf *sig, avow_diag *diag)
{
    (void)diag;
    EVP_PKEY *key = impl;
    assert_int_equal(alg, AVOW_SIGALG_ECDSA_SHA256);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t n = sizeof(der);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &n, data, len), 1);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    assert_non_null(es);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *h = BN_new(), *s2 = BN_new();
    assert_int_equal(BN_rshift1(h, EC_GROUP_get0_order(g)), 1);
    const BIGNUM *r0 = NULL, *s0 = NULL;
    ECDSA_SIG_get0(es, &r0, &s0);
    if (BN_cmp(s0, h) <= 0)
        assert_int_equal(BN_sub(s2, EC_GROUP_get0_order(g), s0), 1);
    else
        assert_non_null(BN_copy(s2, s0));
    assert_true(BN_cmp(s2, h) > 0);
    BIGNUM *r2 = BN_dup(r0);
    assert_int_equal(ECDSA_SIG_set0(es, r2, s2), 1);
    unsigned char *out = NULL;
    int olen = i2d_ECDSA_SIG(es, &out);
    assert_true(olen > 0);
    sig->ptr = OPENSSL_memdup(out, (size_t)olen);
    sig->len = (size_t)olen;
    OPENSSL_free(out);
    ECDSA_SIG_free(es);
    BN_free(h);
    EC_GROUP_free(g);
    return AVOW_OK;
}

static void high_s_free(void *impl)
{
    EVP_PKEY_free(impl);
}

/* High-S ECDSA signatures verify (docs/design.md: malleability buys nothing here). */
static void test_ecdsa_high_s_accepted(void **state)
{
    fixture *f = *state;
    static const avow_signer_ops ops = {sizeof(avow_signer_ops), "high-s", high_s_sign,
                                        high_s_free};
    assert_int_equal(EVP_PKEY_up_ref(f->pki.ak_key), 1);
    avow_signer *s = NULL;
    assert_int_equal(
        avow_signer_new(&ops, f->pki.ak_key, f->pki.ak_key, AVOW_SIGALG_ECDSA_SHA256, &s), AVOW_OK);
    assert_int_equal(avow_signer_set1_cert(s, f->pki.ak, NULL), AVOW_OK);
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->pki.inter, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_sign(ev, s, AVOW_SID_CERT, NULL), AVOW_OK);
    avow_signer_free(s);
    ev = reparse(ev);
    avow_verifier *v = verifier_for(&f->pki);
    expect(v, ev, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

/* Re-signs x by key after adding the extension nid = value (issuer gives the AKID context). */
static void add_ext_resign(X509 *x, X509 *issuer, EVP_PKEY *key, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
}

/* An attestation key is no CA: basicConstraints CA:TRUE is refused unless allowed. */
static void test_ak_ca_refused(void **state)
{
    fixture *f = *state;
    X509 *ak = tu_cert_issue("CA AK", f->pki.ak_key, f->pki.inter, f->pki.int_key, 0, 0);
    add_ext_resign(ak, f->pki.inter, f->pki.int_key, NID_basic_constraints, "critical,CA:TRUE");
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->pki.inter, NULL), AVOW_OK);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_CERT);
    ev = reparse(ev);
    avow_verifier *v = verifier_for(&f->pki);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_ERR_AK_CA);
    assert_non_null(strstr(r->sigs[0].detail, "CA:TRUE"));
    avow_evidence_result_free(r);
    avow_verify_opts o = {sizeof(avow_verify_opts), NULL, 0, AVOW_VERIFY_ALLOW_AK_CA, NULL};
    expect(v, ev, &o, AVOW_OK);
    avow_verifier_set_flags(v, AVOW_VERIFY_ALLOW_AK_CA);
    expect(v, ev, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    X509_free(ak);
    /* CA:FALSE written out is no CA. */
    ak = tu_cert_issue("non-CA AK", f->pki.ak_key, f->pki.inter, f->pki.int_key, 0, 0);
    add_ext_resign(ak, f->pki.inter, f->pki.int_key, NID_basic_constraints, "critical,CA:FALSE");
    ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->pki.inter, NULL), AVOW_OK);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_CERT);
    v = verifier_for(&f->pki);
    expect(v, ev, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    X509_free(ak);
}

/* An intermediate's EKU, when it has one, must allow the AK EKU (or any). */
static void test_intermediate_eku(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *eku; /* NULL: none */
        int anchor;      /* the EKU is on the anchor, not the intermediate */
        avow_err want;
    } cases[] = {
        {NULL, 0, AVOW_OK},
        {"serverAuth", 0, AVOW_ERR_AK_EKU},
        {"serverAuth,clientAuth", 0, AVOW_ERR_AK_EKU},
        {"anyExtendedKeyUsage", 0, AVOW_OK},
        {"serverAuth," AVOW_DEFAULT_AK_EKU, 0, AVOW_OK},
        {"serverAuth", 1, AVOW_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *ca_key = tu_key_ec("P-256"), *int_key = tu_key_ec("P-256");
        X509 *ca = tu_cert_issue("EKU root", ca_key, NULL, ca_key, 1, 0);
        if (cases[i].eku != NULL && cases[i].anchor)
            add_ext_resign(ca, NULL, ca_key, NID_ext_key_usage, cases[i].eku);
        X509 *in = tu_cert_issue("EKU intermediate", int_key, ca, ca_key, 1, 0);
        if (cases[i].eku != NULL && !cases[i].anchor)
            add_ext_resign(in, ca, ca_key, NID_ext_key_usage, cases[i].eku);
        X509 *ak = tu_cert_issue("EKU AK", f->pki.ak_key, in, int_key, 0, 0);
        spec sp = {0, {NULL, NULL}};
        avow_evidence *ev = make_unsigned(&sp);
        assert_int_equal(avow_evidence_add_intermediate(ev, in, NULL), AVOW_OK);
        sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_CERT);
        ev = reparse(ev);
        avow_verifier *v = NULL;
        assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
        assert_int_equal(avow_verifier_add_anchor(v, ca, NULL), AVOW_OK);
        avow_evidence_result *r = NULL;
        avow_err rc = run(v, ev, NULL, &r);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s): %s (%s)", i, cases[i].eku ? cases[i].eku : "none",
                     avow_errname(rc), r->sigs[0].detail);
        if (rc == AVOW_ERR_AK_EKU)
            assert_non_null(strstr(r->sigs[0].detail, "intermediate certificate (chain depth 1)"));
        avow_evidence_result_free(r);
        avow_verify_opts o = {sizeof(avow_verify_opts), NULL, 0, AVOW_VERIFY_IGNORE_CA_EKU, NULL};
        expect(v, ev, &o, AVOW_OK);
        avow_verifier_free(v);
        avow_evidence_free(ev);
        X509_free(ak);
        X509_free(in);
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(int_key);
    }
}

static void test_wrong_key_in_key_set(void **state)
{
    fixture *f = *state;
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_KEYID, &sp);
    const avow_signature_block *b = avow_evidence_get0_signature(ev, 0);
    avow_verifier *v = verifier_for(NULL);
    assert_int_equal(avow_verifier_add_key(v, b->key_id.ptr, b->key_id.len, f->other.ak_key, NULL),
                     AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_SIG_INVALID);
    avow_verifier_free(v);
    /* A key of another type under that id: the algorithm does not fit. */
    EVP_PKEY *ed = tu_key_ed25519();
    v = verifier_for(NULL);
    assert_int_equal(avow_verifier_add_key(v, b->key_id.ptr, b->key_id.len, ed, NULL), AVOW_OK);
    expect(v, ev, NULL, AVOW_ERR_ALG_MISMATCH);
    avow_verifier_free(v);
    EVP_PKEY_free(ed);
    avow_evidence_free(ev);
}

static void test_tampered_tbs(void **state)
{
    fixture *f = *state;
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_buf der = {0};
    assert_int_equal(avow_evidence_encode(ev, &der), AVOW_OK);
    avow_evidence_free(ev);
    uint8_t *p = NULL;
    for (size_t i = 0; i + 9 <= der.len; i++)
        if (memcmp(der.ptr + i, "Acme Corp", 9) == 0)
            p = der.ptr + i;
    assert_non_null(p);
    p[0] = 'X'; /* still valid UTF-8 and DER: only the signature can notice */
    avow_diag d = {0};
    assert_int_equal(avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d), AVOW_OK);
    avow_verifier *v = verifier_for(&f->pki);
    expect(v, ev, NULL, AVOW_ERR_SIG_INVALID);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    avow_buf_free(&der);
}

static void test_zero_signatures(void **state)
{
    fixture *f = *state;
    spec sp = {1, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    avow_verifier *v = verifier_for(&f->pki);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_ERR_UNSIGNED);
    assert_int_equal(r->nsigs, 0);
    /* The claims are reported, signed by nobody. */
    const avow_nclaim *c = avow_claimset_find(&r->claims, "platform", "vendor", NULL);
    assert_non_null(c);
    assert_int_equal(c->signed_by, 0);
    avow_evidence_result_free(r);
    /* Also without a result. */
    assert_int_equal(avow_verify_evidence(v, ev, NULL, NULL, NULL), AVOW_ERR_UNSIGNED);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_ak_spki(void **state)
{
    fixture *f = *state;
    /* Listed: another key only. */
    spec sp = {0, {f->other.ak_key, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = verifier_for(&f->pki);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_ERR_AK_SPKI);
    assert_int_equal(r->sigs[0].ak_spki, 0);
    avow_evidence_result_free(r);
    avow_verify_opts o = {sizeof(avow_verify_opts), NULL, 0, AVOW_VERIFY_IGNORE_AK_SPKI, NULL};
    assert_int_equal(run(v, ev, &o, &r), AVOW_OK);
    assert_int_equal(r->sigs[0].ak_spki, 0);
    avow_evidence_result_free(r);
    avow_verifier_set_flags(v, AVOW_VERIFY_IGNORE_AK_SPKI);
    expect(v, ev, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev);

    /* Listed second of two: fine. */
    spec sp2 = {0, {f->other.ak_key, f->pki.ak_key}};
    ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp2);
    v = verifier_for(&f->pki);
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_int_equal(r->sigs[0].ak_spki, 1);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_nonce(void **state)
{
    fixture *f = *state;
    spec with = {1, {NULL, NULL}}, without = {0, {NULL, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &with);
    avow_evidence *bare = signed_by_ak(&f->pki, AVOW_SID_CERT, &without);
    avow_verifier *v = verifier_for(&f->pki);
    avow_evidence_result *r = NULL;

    avow_verify_opts o = {sizeof(avow_verify_opts), NONCE, sizeof(NONCE), 0, NULL};
    assert_int_equal(run(v, ev, &o, &r), AVOW_OK);
    assert_int_equal(r->nonce, AVOW_NONCE_MATCH);
    avow_evidence_result_free(r);

    uint8_t other[sizeof(NONCE)];
    memcpy(other, NONCE, sizeof(other));
    other[sizeof(other) - 1] ^= 1;
    o.nonce = other;
    assert_int_equal(run(v, ev, &o, &r), AVOW_ERR_NONCE_MISMATCH);
    assert_int_equal(r->nonce, AVOW_NONCE_MISMATCH);
    avow_evidence_result_free(r);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE) - 1; /* a prefix is not the nonce */
    expect(v, ev, &o, AVOW_ERR_NONCE_MISMATCH);

    o.nonce_len = sizeof(NONCE);
    assert_int_equal(run(v, bare, &o, &r), AVOW_ERR_NONCE_MISSING);
    assert_int_equal(r->nonce, AVOW_NONCE_ABSENT);
    avow_evidence_result_free(r);

    /* No expected nonce: not checked, unless REQUIRE_NONCE. */
    assert_int_equal(run(v, bare, NULL, &r), AVOW_OK);
    assert_int_equal(r->nonce, AVOW_NONCE_NOT_CHECKED);
    avow_evidence_result_free(r);
    avow_verify_opts req = {sizeof(avow_verify_opts), NULL, 0, AVOW_VERIFY_REQUIRE_NONCE, NULL};
    expect(v, bare, &req, AVOW_ERR_NONCE_MISSING);
    expect(v, ev, &req, AVOW_OK);

    avow_verify_opts bad = {sizeof(avow_verify_opts), NULL, 4, 0, NULL};
    assert_int_equal(avow_verify_evidence(v, ev, &bad, &r, NULL), AVOW_ERR_ARG);
    assert_null(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
    avow_evidence_free(bare);
}

static void test_any_vs_all(void **state)
{
    fixture *f = *state;
    spec sp = {0, {f->pki.ak_key, f->other.ak_key}};
    avow_evidence *ev = make_unsigned(&sp);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->pki.inter, NULL), AVOW_OK);
    assert_int_equal(avow_evidence_add_intermediate(ev, f->other.inter, NULL), AVOW_OK);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, f->pki.ak, AVOW_SID_CERT);
    sign_with(ev, f->other.ak_key, AVOW_SIGALG_NONE, f->other.ak, AVOW_SID_CERT);
    ev = reparse(ev);
    assert_int_equal(avow_evidence_signature_count(ev), 2);

    /* Only our own hierarchy is an anchor: ALL fails on the second block. */
    avow_verifier *v = verifier_for(&f->pki);
    avow_diag d = {0};
    avow_evidence_result *r = NULL;
    assert_int_equal(avow_verify_evidence(v, ev, NULL, &r, &d), AVOW_ERR_CHAIN);
    assert_string_equal(d.field, "signatures[1]");
    assert_int_equal(r->sigs[0].status, AVOW_OK);
    assert_int_equal(r->sigs[1].status, AVOW_ERR_CHAIN);
    assert_int_equal(avow_claimset_find(&r->claims, NULL, "vendor", NULL)->signed_by, 1);
    avow_evidence_result_free(r);

    avow_verify_opts any = {sizeof(avow_verify_opts), NULL, 0, AVOW_VERIFY_ANY_SIGNATURE, NULL};
    assert_int_equal(run(v, ev, &any, &r), AVOW_OK);
    assert_int_equal(avow_claimset_find(&r->claims, NULL, "vendor", NULL)->signed_by, 1);
    avow_evidence_result_free(r);

    /* Both anchors: both verify under ALL. */
    assert_int_equal(avow_verifier_add_anchor(v, f->other.ca, NULL), AVOW_OK);
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_int_equal(avow_claimset_find(&r->claims, NULL, "vendor", NULL)->signed_by, 3);
    avow_evidence_result_free(r);
    avow_verifier_free(v);

    /* Neither: ANY still fails, with the first reason. */
    v = verifier_for(NULL);
    assert_int_equal(avow_verify_evidence(v, ev, &any, NULL, &d), AVOW_ERR_CHAIN);
    assert_string_equal(d.field, "signatures[0]");
    TU_NO_OSSL_ERR();
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_other_algorithms(void **state)
{
    (void)state;
    struct {
        EVP_PKEY *key;
        avow_sigalg alg;
    } cases[] = {{tu_key_ed25519(), AVOW_SIGALG_ED25519},
                 {tu_key_rsa(2048), AVOW_SIGALG_RSA_PSS_SHA384},
                 {tu_key_ec("P-384"), AVOW_SIGALG_ECDSA_SHA384}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_pki pki;
        tu_pki_make(&pki, cases[i].key, 0);
        spec sp = {1, {cases[i].key, NULL}};
        avow_evidence *ev = make_unsigned(&sp);
        assert_int_equal(avow_evidence_add_intermediate(ev, pki.inter, NULL), AVOW_OK);
        sign_with(ev, pki.ak_key, cases[i].alg, pki.ak, AVOW_SID_CERT);
        ev = reparse(ev);
        avow_verifier *v = verifier_for(&pki);
        avow_evidence_result *r = NULL;
        assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
        assert_int_equal(r->sigs[0].alg, cases[i].alg);
        avow_evidence_result_free(r);
        avow_verifier_free(v);
        avow_evidence_free(ev);
        tu_pki_free(&pki);
        EVP_PKEY_free(cases[i].key);
    }
}

/* Replaces the first occurrence of `from` in der by `to` (same length). */
static void patch(avow_buf *der, const char *from_hex, const char *to_hex)
{
    long nf = 0, nt = 0;
    unsigned char *from = OPENSSL_hexstr2buf(from_hex, &nf);
    unsigned char *to = OPENSSL_hexstr2buf(to_hex, &nt);
    assert_int_equal(nf, nt);
    int done = 0;
    for (size_t i = 0; !done && i + (size_t)nf <= der->len; i++)
        if (memcmp(der->ptr + i, from, (size_t)nf) == 0) {
            memcpy(der->ptr + i, to, (size_t)nt);
            done = 1;
        }
    assert_true(done);
    OPENSSL_free(from);
    OPENSSL_free(to);
}

static void test_unknown_element(void **state)
{
    fixture *f = *state;
    spec sp = {0, {NULL, NULL}};
    avow_evidence *ev = make_unsigned(&sp);
    avow_buf der = {0};
    assert_int_equal(avow_evidence_encode(ev, &der), AVOW_OK);
    avow_evidence_free(ev);
    /* platform element 1.3.6.1.5.5.999.0.1 -> .0.9 and its vendor claim .1.1.0 -> .1.9.0 */
    patch(&der,
          "06092b06010505876700"
          "01",
          "06092b06010505876700"
          "09");
    patch(&der, "060a2b060105058767010100", "060a2b060105058767010900");
    avow_diag d = {0};
    avow_err rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d);
    if (rc != AVOW_OK)
        fail_msg("decode: %s %s", d.field, d.detail);
    avow_buf_free(&der);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, f->pki.ak, AVOW_SID_KEYID);

    avow_verifier *v = verifier_for(&f->pki);
    assert_int_equal(avow_verifier_add_cert(v, f->pki.ak, NULL), AVOW_OK);
    assert_int_equal(avow_verifier_add_cert(v, f->pki.inter, NULL), AVOW_OK);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_int_equal(r->unknown_elements, 1);
    assert_true(r->unknown_claims >= 1);
    const avow_nclaim *c = avow_claimset_find(&r->claims, "1.3.6.1.5.5.999.0.9", NULL, NULL);
    assert_non_null(c);
    assert_int_equal(c->known, 0);
    assert_string_equal(c->name, "1.3.6.1.5.5.999.1.9.0");
    assert_int_equal(c->value.type, AVOW_VALUE_RAW);
    assert_int_equal(c->signed_by, 1);
    assert_non_null(avow_claimset_find(&r->claims, "key", "identifier", NULL));

    avow_buf js = {0};
    assert_int_equal(avow_evidence_result_to_json(r, &js), AVOW_OK);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)js.ptr, js.len, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "unknown_elements")), 1);
    json_t *claims = json_object_get(root, "claims");
    json_t *first = json_array_get(claims, 0);
    assert_string_equal(json_string_value(json_object_get(first, "element")),
                        "1.3.6.1.5.5.999.0.9");
    assert_true(json_is_false(json_object_get(first, "known")));
    assert_string_equal(json_string_value(json_object_get(first, "type")), "opaque");
    json_decref(root);
    avow_buf_free(&js);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        fail_msg("no string \"%s\"", key);
    return s;
}

static void test_result_json(void **state)
{
    fixture *f = *state;
    spec sp = {1, {f->pki.ak_key, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = verifier_for(&f->pki);
    avow_verify_opts o = {sizeof(avow_verify_opts), NONCE, sizeof(NONCE), 0, NULL};
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, &o, &r), AVOW_OK);
    avow_buf js = {0};
    assert_int_equal(avow_evidence_result_to_json(r, &js), AVOW_OK);
    TU_NO_OSSL_ERR();
    assert_int_equal(strlen((const char *)js.ptr), js.len);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)js.ptr, js.len, 0, &jerr);
    assert_non_null(root);
    assert_true(json_is_true(json_object_get(root, "trusted")));
    assert_string_equal(jstr(root, "status"), "AVOW_OK");
    assert_string_equal(jstr(root, "message"), "success");
    assert_string_equal(jstr(root, "nonce"), "match");
    json_t *sig = json_array_get(json_object_get(root, "signatures"), 0);
    assert_int_equal(json_integer_value(json_object_get(sig, "index")), 0);
    assert_string_equal(jstr(sig, "status"), "AVOW_OK");
    assert_string_equal(jstr(sig, "sid"), "certificate");
    assert_string_equal(jstr(sig, "algorithm"), "ecdsa-sha256");
    assert_string_equal(jstr(sig, "key_source"), "certificate");
    assert_string_equal(jstr(sig, "signer"), "CN=Test AK,O=avow tests");
    assert_int_equal(json_array_size(json_object_get(sig, "chain")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(sig, "chain"), 2)),
                        "CN=Test Root CA,O=avow tests");
    assert_string_equal(jstr(sig, "ak_spki"), "listed");
    assert_true(json_is_null(json_object_get(sig, "detail")));

    size_t i;
    json_t *c;
    int seen = 0;
    json_array_foreach(json_object_get(root, "claims"), i, c)
    {
        const char *name = jstr(c, "name");
        if (strcmp(name, "nonce") == 0) {
            assert_string_equal(jstr(c, "value"), "deadbeef01020304");
            assert_string_equal(jstr(c, "type"), "bytes");
            assert_string_equal(jstr(c, "element"), "transaction");
            seen |= 1;
        } else if (strcmp(name, "vendor") == 0) {
            assert_string_equal(jstr(c, "value"), "Acme Corp");
            assert_int_equal(json_integer_value(json_object_get(c, "element_index")), 1);
            assert_true(json_is_true(json_object_get(c, "known")));
            seen |= 2;
        } else if (strcmp(name, "fipslevel") == 0) {
            assert_int_equal(json_integer_value(json_object_get(c, "value")), 3);
            seen |= 4;
        } else if (strcmp(name, "fipsboot") == 0) {
            assert_true(json_is_true(json_object_get(c, "value")));
            seen |= 8;
        } else if (strcmp(name, "expiry") == 0) {
            assert_string_equal(jstr(c, "value"), "2030-01-02T03:04:05Z");
            seen |= 16;
        } else if (strcmp(name, "purpose") == 0) {
            json_t *p = json_object_get(c, "value");
            assert_int_equal(json_array_size(p), 2);
            assert_string_equal(json_string_value(json_array_get(p, 0)), "sign");
            assert_string_equal(json_string_value(json_array_get(p, 1)), "verify");
            seen |= 32;
        }
    }
    assert_int_equal(seen, 63);
    json_decref(root);
    avow_buf_free(&js);
    avow_evidence_result_free(r);

    /* A failed result says why. */
    avow_verifier *untrusting = verifier_for(NULL);
    assert_int_equal(run(untrusting, ev, NULL, &r), AVOW_ERR_CHAIN);
    assert_int_equal(avow_evidence_result_to_json(r, &js), AVOW_OK);
    root = json_loadb((const char *)js.ptr, js.len, 0, &jerr);
    assert_non_null(root);
    assert_true(json_is_false(json_object_get(root, "trusted")));
    assert_string_equal(jstr(root, "status"), "AVOW_ERR_CHAIN");
    sig = json_array_get(json_object_get(root, "signatures"), 0);
    assert_string_equal(jstr(sig, "status"), "AVOW_ERR_CHAIN");
    assert_non_null(strstr(jstr(sig, "detail"), "certificate chain"));
    assert_string_equal(jstr(root, "nonce"), "not-checked");
    json_decref(root);
    avow_buf_free(&js);
    avow_evidence_result_free(r);
    assert_int_equal(avow_evidence_result_to_json(NULL, &js), AVOW_ERR_ARG);
    avow_verifier_free(untrusting);
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static avow_evidence *load_sample(const char *name, avow_err want)
{
    char rel[128];
    snprintf(rel, sizeof(rel), SAMPLES "%s", name);
    avow_buf der = tu_read_vector(rel);
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    avow_err rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d);
    avow_buf_free(&der);
    if (rc != want)
        fail_msg("%s: want %s got %s (%s %s)", name, avow_errname(want), avow_errname(rc), d.field,
                 d.detail);
    TU_NO_OSSL_ERR();
    return ev;
}

static void test_samples(void **state)
{
    (void)state;
    X509 *ca = tu_load_cert(SAMPLES "ca.crt");
    X509 *in = tu_load_cert(SAMPLES "int.crt");
    X509 *ak = tu_load_cert(SAMPLES "ak.crt");
    static const uint8_t nonce[] = {0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe};
    avow_verify_opts o = {sizeof(avow_verify_opts), nonce, sizeof(nonce), 0, NULL};
    avow_evidence_result *r = NULL;

    /* evidence1: keyId; the AK and intermediate come from the verifier. */
    avow_evidence *ev1 = load_sample("evidence1.der", AVOW_OK);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    avow_verifier_set_time(v, tu_utc(2026, 7, 22, 0, 0, 0));
    assert_int_equal(avow_verifier_add_anchor(v, ca, NULL), AVOW_OK);
    expect(v, ev1, &o, AVOW_ERR_KEY_UNKNOWN);
    assert_int_equal(avow_verifier_add_cert(v, ak, NULL), AVOW_OK);
    assert_int_equal(avow_verifier_add_cert(v, in, NULL), AVOW_OK);
    assert_int_equal(run(v, ev1, &o, &r), AVOW_OK);
    assert_int_equal(r->sigs[0].sid_kind, AVOW_SID_KEYID);
    assert_int_equal(r->sigs[0].ak_spki, 1);
    assert_int_equal(r->nonce, AVOW_NONCE_MATCH);
    assert_int_equal(sk_X509_num(r->sigs[0].chain), 3);
    const avow_nclaim *c = avow_claimset_find(&r->claims, "platform", "uptime", NULL);
    assert_non_null(c);
    assert_int_equal(c->value.integer, 86400);
    avow_evidence_result_free(r);
    /* Before the certificates' notBefore (2026-07-21T11:12:38Z). */
    avow_verifier_set_time(v, tu_utc(2026, 7, 21, 11, 0, 0));
    expect(v, ev1, &o, AVOW_ERR_CHAIN);
    avow_verifier_free(v);

    /* evidence2: embedded AK certificate and intermediate; only the root is configured. */
    avow_evidence *ev2 = load_sample("evidence2.der", AVOW_OK);
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    avow_verifier_set_time(v, tu_utc(2026, 7, 22, 0, 0, 0));
    assert_int_equal(avow_verifier_add_anchor(v, ca, NULL), AVOW_OK);
    assert_int_equal(run(v, ev2, NULL, &r), AVOW_OK);
    assert_int_equal(r->sigs[0].sid_kind, AVOW_SID_CERT);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    assert_int_equal(X509_cmp(r->sigs[0].cert, ak), 0);
    assert_non_null(avow_claimset_find(&r->claims, "key", "identifier", NULL));
    avow_evidence_result_free(r);
    avow_verifier_free(v);

    /* evidence3: two platform elements, refused before any signature is looked at. */
    avow_evidence *ev3 = load_sample("evidence3.der", AVOW_ERR_DUP_ELEMENT);
    assert_null(ev3);

    /*
     * Its chain is broken too: with the second platform element taken out
     * (which also breaks the signatures, but keys and chains are checked
     * first), both signers' certificates fail to reach ca.crt.
     */
    avow_buf b3 = tu_read_vector(SAMPLES "evidence3.der");
    const unsigned char *q = b3.ptr;
    AVOW_EVIDENCE_ASN1 *raw = d2i_AVOW_EVIDENCE_ASN1(NULL, &q, (long)b3.len);
    assert_non_null(raw);
    assert_int_equal(sk_AVOW_ELEMENT_ASN1_num(raw->tbs->elements), 4);
    AVOW_ELEMENT_ASN1_free(sk_AVOW_ELEMENT_ASN1_delete(raw->tbs->elements, 2));
    unsigned char *one_platform = NULL;
    int n3 = i2d_AVOW_EVIDENCE_ASN1(raw, &one_platform);
    assert_true(n3 > 0);
    AVOW_EVIDENCE_ASN1_free(raw);
    assert_int_equal(avow_evidence_decode(one_platform, (size_t)n3, NULL, 0, &ev3, NULL), AVOW_OK);
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    avow_verifier_set_time(v, tu_utc(2026, 7, 22, 0, 0, 0));
    assert_int_equal(avow_verifier_add_anchor(v, ca, NULL), AVOW_OK);
    assert_int_equal(run(v, ev3, NULL, &r), AVOW_ERR_CHAIN);
    assert_int_equal(r->nsigs, 2);
    assert_int_equal(r->sigs[0].status, AVOW_ERR_CHAIN);
    assert_int_equal(r->sigs[1].status, AVOW_ERR_CHAIN);
    avow_evidence_result_free(r);
    avow_verifier_free(v);
    avow_evidence_free(ev3);
    OPENSSL_free(one_platform);
    avow_buf_free(&b3);

    avow_evidence_free(ev1);
    avow_evidence_free(ev2);
    X509_free(ca);
    X509_free(in);
    X509_free(ak);
}

/*
 * The samples printed in the -07 text: their chain is sound (with their
 * placeholder EKU), but the signatures were made over SHA-1 while the
 * algorithm says ecdsa-with-SHA256, so a correct verifier refuses them.
 */
static void test_samples_07_sha1(void **state)
{
    (void)state;
    X509 *ca = tu_load_cert("pkix/tag-07/ca.crt");
    X509 *in = tu_load_cert("pkix/tag-07/int.crt");
    X509 *ak = tu_load_cert("pkix/tag-07/ak.crt");
    avow_profile p;
    avow_profile_default(&p);
    assert_int_equal(avow_profile_set(&p, NULL, "1.3.6.1.4.1.39901.4.1.1", NULL), AVOW_OK);
    for (int i = 1; i <= 2; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "pkix/tag-07/evidence%d.der", i);
        avow_buf b = tu_read_vector(rel);
        avow_evidence *ev = NULL;
        assert_int_equal(avow_evidence_decode(b.ptr, b.len, &p, 0, &ev, NULL), AVOW_OK);
        avow_verifier *v = NULL;
        assert_int_equal(avow_verifier_new(&p, &v), AVOW_OK);
        avow_verifier_set_time(v, tu_utc(2026, 7, 22, 0, 0, 0));
        assert_int_equal(avow_verifier_add_anchor(v, ca, NULL), AVOW_OK);
        assert_int_equal(avow_verifier_add_cert(v, in, NULL), AVOW_OK);
        assert_int_equal(avow_verifier_add_cert(v, ak, NULL), AVOW_OK);
        avow_evidence_result *r = NULL;
        assert_int_equal(run(v, ev, NULL, &r), AVOW_ERR_SIG_INVALID);
        assert_int_equal(r->sigs[0].status, AVOW_ERR_SIG_INVALID);
        assert_int_equal(r->sigs[0].alg, AVOW_SIGALG_ECDSA_SHA256);
        assert_non_null(r->sigs[0].chain); /* the key was found and trusted first */
        /* What the signature really covers: the same bytes hashed with SHA-1. */
        avow_view tbs = avow_evidence_tbs(ev);
        const avow_signature_block *sb = avow_evidence_get0_signature(ev, 0);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha1(), NULL, X509_get0_pubkey(ak)), 1);
        assert_int_equal(EVP_DigestVerify(md, sb->value.ptr, sb->value.len, tbs.ptr, tbs.len), 1);
        EVP_MD_CTX_free(md);
        avow_evidence_result_free(r);
        avow_verifier_free(v);
        avow_evidence_free(ev);
        avow_buf_free(&b);
    }
    X509_free(ca);
    X509_free(in);
    X509_free(ak);
}

typedef struct worker {
    const avow_verifier *v;
    const avow_evidence *ev;
    int ok;
    int queue_clean;
} worker;

static void *verify_many(void *arg)
{
    worker *w = arg;
    w->queue_clean = 1;
    for (int i = 0; i < 25; i++) {
        avow_evidence_result *r = NULL;
        if (avow_verify_evidence(w->v, w->ev, NULL, &r, NULL) == AVOW_OK &&
            sk_X509_num(r->sigs[0].chain) == 3)
            w->ok++;
        avow_evidence_result_free(r);
        if (ERR_peek_error() != 0)
            w->queue_clean = 0;
    }
    return NULL;
}

/* One verifier, set up once, read by several threads at once (chain building included). */
/* An AK certificate of pki whose subjectKeyIdentifier is id[0..len), signed by the intermediate. */
static X509 *ak_with_ski(const tu_pki *pki, const uint8_t *id, size_t len)
{
    X509 *x = tu_cert_issue("Test AK", pki->ak_key, pki->inter, pki->int_key, 0, TU_AK_NO_SKI);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_non_null(os);
    assert_int_equal(ASN1_OCTET_STRING_set(os, id, (int)len), 1);
    assert_int_equal(X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, 0), 1);
    ASN1_OCTET_STRING_free(os);
    assert_true(X509_sign(x, pki->int_key, EVP_sha256()) > 0);
    return x;
}

/*
 * A raw key without a key id: a keyId signer is found by every identifier
 * derived from the key (RFC 5280 method 1, RFC 7093 methods 1 to 4). The
 * keyId is what avow_evidence_sign writes, the AK certificate's SKI, here set
 * to each method's value in turn; no certificate reaches the verifier.
 */
static void test_raw_key_derived_ids(void **state)
{
    fixture *f = *state;
    spec sp = {0, {f->pki.ak_key, NULL}};
    for (int m = 0; m < AVOW_KEY_ID_METHOD_COUNT_; m++) {
        uint8_t id[AVOW_KEY_ID_MAX_LEN];
        size_t len = 0;
        OK(avow_spki_key_id_by(f->pki.ak_key, (avow_key_id_method)m, id, &len, NULL));
        X509 *ak = ak_with_ski(&f->pki, id, len);
        avow_evidence *ev = make_unsigned(&sp);
        sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_KEYID);
        ev = reparse(ev);
        const avow_signature_block *b = avow_evidence_get0_signature(ev, 0);
        assert_int_equal(b->key_id.len, len);
        assert_memory_equal(b->key_id.ptr, id, len);

        avow_verifier *v = verifier_for(NULL);
        OK(avow_verifier_add_key(v, NULL, 0, f->other.ak_key, NULL));
        expect(v, ev, NULL, AVOW_ERR_KEY_UNKNOWN);
        OK(avow_verifier_add_key(v, NULL, 0, f->pki.ak_key, NULL));
        avow_evidence_result *r = NULL;
        if (run(v, ev, NULL, &r) != AVOW_OK)
            fail_msg("%s: %s", avow_key_id_method_name((avow_key_id_method)m), r->sigs[0].detail);
        assert_string_equal(r->sigs[0].key_source, "key set");
        assert_null(r->sigs[0].cert);
        avow_evidence_result_free(r);
        avow_verifier_free(v);

        /* An explicit key id is looked up before the derived ones. */
        v = verifier_for(NULL);
        OK(avow_verifier_add_key(v, NULL, 0, f->pki.ak_key, NULL));
        OK(avow_verifier_add_key(v, id, len, f->other.ak_key, NULL));
        expect(v, ev, NULL, AVOW_ERR_SIG_INVALID);
        avow_verifier_free(v);
        X509_free(ak);
        avow_evidence_free(ev);
    }
    /* A keyId no method gives, known only as the caller's explicit id. */
    static const uint8_t label[] = {'a', 'k', '-', '0', '1'};
    X509 *ak = ak_with_ski(&f->pki, label, sizeof(label));
    avow_evidence *ev = make_unsigned(&sp);
    sign_with(ev, f->pki.ak_key, AVOW_SIGALG_NONE, ak, AVOW_SID_KEYID);
    avow_verifier *v = verifier_for(NULL);
    OK(avow_verifier_add_key(v, NULL, 0, f->pki.ak_key, NULL));
    expect(v, ev, NULL, AVOW_ERR_KEY_UNKNOWN);
    OK(avow_verifier_add_key(v, label, sizeof(label), f->pki.ak_key, NULL));
    expect(v, ev, NULL, AVOW_OK);
    avow_verifier_free(v);
    /* An SPKI signer is trusted when its SPKI is a trusted key's, id or none. */
    avow_evidence *ev2 = signed_by_ak(&f->pki, AVOW_SID_SPKI, &sp);
    v = verifier_for(NULL);
    OK(avow_verifier_add_key(v, NULL, 0, f->other.ak_key, NULL));
    expect(v, ev2, NULL, AVOW_ERR_KEY_UNKNOWN);
    OK(avow_verifier_add_key(v, NULL, 0, f->pki.ak_key, NULL));
    expect(v, ev2, NULL, AVOW_OK);
    avow_verifier_free(v);
    avow_evidence_free(ev2);
    avow_evidence_free(ev);
    X509_free(ak);
}

static avow_evidence *signed_sid(const tu_pki *pki, X509 *ak, unsigned fields, const spec *sp)
{
    avow_evidence *ev = make_unsigned(sp);
    avow_signer *s = NULL;
    avow_diag d = {0};
    OK(avow_evidence_add_intermediate(ev, pki->inter, NULL));
    OK(avow_signer_new_pkey(pki->ak_key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_signer_set1_cert(s, ak, NULL));
    if (avow_evidence_sign_sid(ev, s, fields, &d) != AVOW_OK)
        fail_msg("sign: %s %s", d.field, d.detail);
    avow_signer_free(s);
    return reparse(ev);
}

/* The DER of ev with the first copy of what[0..n) changed in its last byte. */
static avow_evidence *splice(const avow_evidence *ev, const uint8_t *what, size_t n)
{
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    uint8_t *p = NULL;
    for (size_t i = 0; p == NULL && i + n <= der.len; i++)
        if (memcmp(der.ptr + i, what, n) == 0)
            p = der.ptr + i;
    assert_non_null(p);
    p[n - 1] ^= 0x01;
    avow_evidence *out = NULL;
    OK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &out, NULL));
    avow_buf_free(&der);
    return out;
}

/*
 * -07's SignerIdentifier is a SEQUENCE: several fields may be present and
 * must name one key. The certificate decides the trust; a keyId beside it
 * must be its SKI or an id of its key; a keyId beside an SPKI must be an id
 * of that key, the key set's id for it, or the SKI of a known certificate
 * of it.
 */
static void test_sid_several_fields(void **state)
{
    fixture *f = *state;
    spec sp = {0, {f->pki.ak_key, NULL}};
    avow_verifier *v = verifier_for(&f->pki);

    /* keyId + certificate */
    avow_evidence *ev = signed_sid(&f->pki, f->pki.ak, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_CERT, &sp);
    const avow_signature_block *b = avow_evidence_get0_signature(ev, 0);
    assert_int_equal(b->sid_fields, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_CERT);
    assert_int_equal(b->sid_kind, AVOW_SID_CERT);
    avow_evidence_result *r = NULL;
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_int_equal(r->sigs[0].sid_fields, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_CERT);
    assert_int_equal(r->sigs[0].sid_kind, AVOW_SID_CERT);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    avow_buf text = {0}, json = {0};
    OK(avow_evidence_result_to_text(r, &text));
    assert_non_null(strstr((char *)text.ptr, "signer: key id + certificate,"));
    OK(avow_evidence_result_to_json(r, &json));
    json_t *root = json_loads((const char *)json.ptr, 0, NULL);
    json_t *sig = json_array_get(json_object_get(root, "signatures"), 0);
    assert_string_equal(json_string_value(json_object_get(sig, "sid")), "certificate");
    json_t *fields = json_object_get(sig, "sid_fields");
    assert_int_equal(json_array_size(fields), 2);
    assert_string_equal(json_string_value(json_array_get(fields, 0)), "keyId");
    assert_string_equal(json_string_value(json_array_get(fields, 1)), "certificate");
    json_decref(root);
    avow_buf_free(&json);
    avow_buf_free(&text);
    avow_evidence_result_free(r);
    OK(avow_evidence_to_text(ev, &text));
    assert_non_null(strstr((char *)text.ptr, "Signer: key id "));
    assert_non_null(strstr((char *)text.ptr, ", certificate\n"));
    avow_buf_free(&text);
    OK(avow_evidence_to_json(ev, &json));
    assert_non_null(
        strstr((char *)json.ptr, "\"sidFields\": [\n        \"keyid\",\n        \"cert\""));
    avow_buf_free(&json);

    /* The same with a keyId that is not the certificate's: signature intact, sid refused. */
    avow_evidence *bad = splice(ev, b->key_id.ptr, b->key_id.len);
    assert_int_equal(run(v, bad, NULL, &r), AVOW_ERR_SIGNER_MISMATCH);
    assert_non_null(strstr(r->sigs[0].detail, "sid.keyId"));
    assert_non_null(strstr(r->sigs[0].detail, "sid.certificate"));
    avow_evidence_result_free(r);
    avow_evidence_free(bad);
    avow_evidence_free(ev);

    /* all three */
    ev = signed_sid(&f->pki, f->pki.ak, AVOW_SID_ALL, &sp);
    assert_int_equal(avow_evidence_get0_signature(ev, 0)->sid_fields, AVOW_SID_ALL);
    expect(v, ev, NULL, AVOW_OK);
    avow_evidence_free(ev);

    /* keyId + SPKI, the keyId a label of the AK certificate's (no method gives it) */
    static const uint8_t label[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    X509 *ak = ak_with_ski(&f->pki, label, sizeof(label));
    ev = signed_sid(&f->pki, ak, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_SPKI, &sp);
    avow_verifier *kv = verifier_for(NULL);
    OK(avow_verifier_add_key(kv, NULL, 0, f->pki.ak_key, NULL));
    assert_int_equal(run(kv, ev, NULL, &r), AVOW_ERR_SIGNER_MISMATCH);
    assert_non_null(strstr(r->sigs[0].detail, "sid.subjectPublicKeyInfo"));
    avow_evidence_result_free(r);
    OK(avow_verifier_add_key(kv, label, sizeof(label), f->pki.ak_key, NULL));
    expect(kv, ev, NULL, AVOW_OK);
    avow_verifier_free(kv);
    /* ... or the SKI of a certificate of that key the verifier knows */
    expect(v, ev, NULL, AVOW_ERR_SIGNER_MISMATCH);
    OK(avow_verifier_add_cert(v, ak, NULL));
    OK(avow_verifier_add_cert(v, f->pki.inter, NULL));
    assert_int_equal(run(v, ev, NULL, &r), AVOW_OK);
    assert_string_equal(r->sigs[0].key_source, "certificate");
    avow_evidence_result_free(r);
    avow_evidence_free(ev);

    /* keyId + SPKI by a derived id, with no certificate: the builder writes method 1. */
    avow_evidence *raw = make_unsigned(&sp);
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->pki.ak_key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_evidence_sign_sid(raw, s, AVOW_SID_HAS_KEYID | AVOW_SID_HAS_SPKI, NULL));
    avow_diag d = {0};
    assert_int_equal(avow_evidence_sign_sid(raw, s, AVOW_SID_HAS_CERT, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_sign_sid(raw, s, 0, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_sign_sid(raw, s, 1u << 3, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_sign(raw, s, (avow_sid_kind)3, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_signature_count(raw), 1);
    avow_signer_free(s);
    raw = reparse(raw);
    kv = verifier_for(NULL);
    OK(avow_verifier_add_key(kv, NULL, 0, f->pki.ak_key, NULL));
    expect(kv, raw, NULL, AVOW_OK);
    avow_verifier_free(kv);
    avow_evidence_free(raw);
    X509_free(ak);
    avow_verifier_free(v);
}

static void test_concurrent(void **state)
{
    fixture *f = *state;
    spec sp = {1, {f->pki.ak_key, NULL}};
    avow_evidence *ev = signed_by_ak(&f->pki, AVOW_SID_CERT, &sp);
    avow_verifier *v = verifier_for(&f->pki);
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){v, ev, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, verify_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].ok, 25);
        assert_true(w[i].queue_clean);
    }
    avow_verifier_free(v);
    avow_evidence_free(ev);
}

static void test_verifier_args(void **state)
{
    fixture *f = *state;
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    avow_profile def;
    avow_profile_default(&def);
    assert_memory_equal(avow_verifier_get0_profile(v), &def, sizeof(def));
    assert_int_equal(avow_verifier_add_anchor(v, NULL, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_verifier_add_cert(NULL, f->pki.ak, NULL), AVOW_ERR_ARG);
    /* A key without a key id is found by the ids derived from it; a NULL key is nothing. */
    assert_int_equal(avow_verifier_add_key(v, NULL, 0, NULL, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_verifier_add_key(v, NULL, 3, f->pki.ak_key, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_verifier_add_key(v, (const uint8_t *)"x", 0, f->pki.ak_key, NULL),
                     AVOW_ERR_ARG);
    assert_int_equal(avow_verifier_add_key(v, NULL, 0, f->pki.ak_key, NULL), AVOW_OK);
    avow_evidence_result *r = (avow_evidence_result *)&r;
    assert_int_equal(avow_verify_evidence(v, NULL, NULL, &r, NULL), AVOW_ERR_ARG);
    assert_null(r);
    /* Adding the same anchor twice is harmless. */
    assert_int_equal(avow_verifier_add_anchor(v, f->pki.ca, NULL), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, f->pki.ca, NULL), AVOW_OK);
    TU_NO_OSSL_ERR();
    avow_verifier_free(v);
    avow_verifier_free(NULL);
    avow_evidence_result_free(NULL);
    avow_claimset_clear(NULL);
    assert_null(avow_claimset_find(NULL, NULL, "vendor", NULL));
}

/* The setters say what was wrong, like every other call. */
static void test_setter_diag(void **state)
{
    (void)state;
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    avow_diag d = {0};
    assert_int_equal(avow_verifier_add_cert(v, NULL, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "cert");
    assert_true(d.detail[0] != '\0');
    avow_diag_clear(&d);
    assert_int_equal(avow_verifier_add_key(v, (const uint8_t *)"k", 0, NULL, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "pub");
    avow_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setter_diag),
        cmocka_unit_test(test_sid_certificate),
        cmocka_unit_test(test_sid_keyid),
        cmocka_unit_test(test_sid_spki),
        cmocka_unit_test(test_raw_key_derived_ids),
        cmocka_unit_test(test_sid_several_fields),
        cmocka_unit_test(test_untrusted_anchor),
        cmocka_unit_test(test_ak_profile),
        cmocka_unit_test(test_wrong_key_in_key_set),
        cmocka_unit_test(test_tampered_tbs),
        cmocka_unit_test(test_zero_signatures),
        cmocka_unit_test(test_ak_spki),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_any_vs_all),
        cmocka_unit_test(test_other_algorithms),
        cmocka_unit_test(test_unknown_element),
        cmocka_unit_test(test_result_json),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_samples_07_sha1),
        cmocka_unit_test(test_verifier_args),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_ecdsa_hash_fits_curve),
        cmocka_unit_test(test_ecdsa_high_s_accepted),
        cmocka_unit_test(test_ak_ca_refused),
        cmocka_unit_test(test_intermediate_eku),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
