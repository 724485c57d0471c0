/*
 * The Key Attestation Token (draft-reddy-rats-key-binding) through the
 * library: a KAT signed by a KAK over a subject key and a PSA token signed
 * by the RFC 9783 IAK whose nonce is the KAK's hash, bundled as a CAB,
 * split and verified as two statements of one request. The registry's
 * second pass links them; each way the link can fail has its code, and
 * the KAT's own refusals (a private key in cnf, a broken CAB, a bad
 * signature) are checked.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include <avow/cose.h>
#include <avow/kat.h>
#include <avow/psa.h>

#include "core/internal.h"
#include "psa_make.h"

static const char UEID[] = "010202020202020202020202020202020202020202020202020202020202020202";
static const uint8_t NONCE[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct fx {
    EVP_PKEY *iak;     /* the RFC 9783 ES256 IAK, known to the verifier */
    EVP_PKEY *kak[2];  /* two Key Attestation Keys (two bundles) */
    EVP_PKEY *subj[2]; /* the keys they attest */
    avow_buf psa_oid, kat_oid;
    avow_verifier *v;
} fx;

static EVP_PKEY *load_key(const char *rel)
{
    avow_buf b = tu_read_vector(rel);
    BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    avow_buf_free(&b);
    assert_non_null(k);
    return k;
}

static avow_buf oid_der(const char *text)
{
    avow_oid o;
    OK(avow_oid_from_text(&o, text));
    avow_buf b = {OPENSSL_memdup(o.der, o.len), o.len};
    return b;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->iak = load_key("psa/rfc9783-draft24-tfm-es-iak.pem");
    f->kak[0] = tu_key_ec("P-256");
    f->kak[1] = tu_key_ec("P-384");
    f->subj[0] = tu_key_ec("P-256");
    f->subj[1] = tu_key_ed25519();
    f->psa_oid = oid_der(AVOW_OID_PSA_TOKEN);
    f->kat_oid = oid_der(AVOW_OID_KAT);
    OK(avow_verifier_new(NULL, &f->v));
    avow_buf id = {0};
    OK(avow__unhex(UEID, &id));
    OK(avow_verifier_add_key(f->v, id.ptr, id.len, f->iak, NULL));
    avow_buf_free(&id);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->iak);
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_free(f->kak[i]);
        EVP_PKEY_free(f->subj[i]);
    }
    avow_buf_free(&f->psa_oid);
    avow_buf_free(&f->kat_oid);
    free(f);
    return 0;
}

/* A PSA token (psa_make.h claims, secured) with the given nonce, signed by the IAK. */
static avow_buf pat(fx *f, const uint8_t *nonce, size_t nlen)
{
    avow_buf ueid = {0}, tok = {0};
    OK(avow__unhex(UEID, &ueid));
    tu_psa_claims c = {nonce, nlen, ueid.ptr, ueid.len, 0x3000};
    OK(tu_psa_token(f->iak, &c, &tok, NULL));
    avow_buf_free(&ueid);
    return tok;
}

/* The nonce that binds `key` (its COSE_Key), by SHA-256. */
static void link_of(const EVP_PKEY *key, uint8_t out[32])
{
    avow_buf enc = {0};
    OK(avow_kat_cose_key(key, &enc, NULL));
    OK(avow_kat_link_nonce(enc.ptr, enc.len, 32, out));
    avow_buf_free(&enc);
}

static avow_buf kat(fx *f, int i)
{
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->kak[i], AVOW_SIGALG_NONE, &s, NULL));
    avow_buf k = {0};
    OK(avow_kat_sign(NONCE, sizeof(NONCE), f->subj[i], s, 0, &k, NULL));
    avow_signer_free(s);
    return k;
}

/* The CAB of bundle i whose PAT's nonce binds `bound`, split back as a client would. */
static void cab_split(fx *f, int i, const EVP_PKEY *bound, avow_buf *k, avow_buf *p)
{
    uint8_t h[32];
    link_of(bound, h);
    avow_buf kt = kat(f, i), pt = pat(f, h, sizeof(h)), cab = {0};
    OK(avow_kat_bundle(kt.ptr, kt.len, pt.ptr, pt.len, &cab, NULL));
    char *type = NULL;
    OK(avow_kat_bundle_split(cab.ptr, cab.len, k, p, &type, NULL));
    assert_string_equal(type, AVOW_KAT_MEDIA_TYPE);
    assert_int_equal(k->len, kt.len);
    assert_memory_equal(k->ptr, kt.ptr, kt.len);
    assert_int_equal(p->len, pt.len);
    assert_memory_equal(p->ptr, pt.ptr, pt.len);
    OPENSSL_free(type);
    avow_buf_free(&kt);
    avow_buf_free(&pt);
    avow_buf_free(&cab);
}

/* Verifies the statements (kinds: 'k' KAT, 'p' PSA) as one request about key (may be NULL). */
static avow_verification *run(fx *f, const char *kinds, const avow_buf *stmts, const avow_buf *key,
                              avow_err want)
{
    avow_statement_in in[4];
    size_t n = strlen(kinds);
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        const avow_buf *o = kinds[i] == 'k' ? &f->kat_oid : &f->psa_oid;
        in[i] = (avow_statement_in){{o->ptr, o->len}, {stmts[i].ptr, stmts[i].len}};
    }
    avow_statements_in si;
    avow_statements_in_init(&si);
    si.nstatements = n;
    si.statements = in;
    if (key != NULL) {
        si.key.ptr = key->ptr;
        si.key.len = key->len;
    }
    si.possession = AVOW_OK;
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_verification *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_statements_verify(f->v, &si, &o, &r, &d);
    if (rc != want)
        print_error("want %s, got %s (%s: %s) %s\n", avow_errname(want), avow_errname(rc), d.field,
                    d.detail, r != NULL ? avow_verification_detail(r) : "");
    assert_int_equal(rc, want);
    assert_non_null(r);
    return r;
}

static avow_err st(const avow_verification *r, size_t i)
{
    return avow_statement_result_status(avow_verification_get0(r, i));
}

static void test_linked(void **state)
{
    fx *f = *state;
    avow_buf s[2] = {{0}, {0}};
    cab_split(f, 0, f->kak[0], &s[0], &s[1]);
    avow_buf key = tu_spki(f->subj[0]);
    avow_verification *r = run(f, "kp", s, &key, AVOW_OK);
    assert_int_equal(avow_verification_verified(r), 2);
    size_t to = 9;
    const char *how = NULL;
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 1), &to, &how), 1);
    assert_int_equal(to, 0);
    assert_string_equal(how, "nonce = sha-256(kak cose-key)");
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 0), NULL, NULL), 0);
    assert_int_equal(avow_verification_binding(r), AVOW_OK);
    size_t bs = 9, be = 9;
    assert_int_equal(avow_verification_bound(r, &bs, &be), 1);
    assert_int_equal(bs, 0);
    assert_non_null(avow_statement_result_find_key(avow_verification_get0(r, 0), key.ptr, key.len));
    avow_verification_free(r);
    /* The PAT first: the order does not matter. */
    avow_buf rev[2] = {s[1], s[0]};
    r = run(f, "pk", rev, &key, AVOW_OK);
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 0), &to, NULL), 1);
    assert_int_equal(to, 1);
    avow_verification_free(r);

    /* The appraisal: affirming, the subject key bound. */
    avow_statement_in in[2] = {{{f->kat_oid.ptr, f->kat_oid.len}, {s[0].ptr, s[0].len}},
                               {{f->psa_oid.ptr, f->psa_oid.len}, {s[1].ptr, s[1].len}}};
    avow_statements_in si;
    avow_statements_in_init(&si);
    si.nstatements = 2;
    si.statements = in;
    si.key.ptr = key.ptr;
    si.key.len = key.len;
    si.possession = AVOW_OK;
    /* The default policy asks for key attributes (PKCS#11) a KAT does not carry. */
    static const char POLICY[] =
        "{\"name\":\"kat-psa\",\"rules\":["
        "{\"id\":\"fresh\",\"claim\":\"kat:nonce\",\"present\":true,\"required\":true},"
        "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\","
        "\"required\":true}]}";
    avow_policy *pol = NULL;
    OK(avow_policy_parse(POLICY, sizeof(POLICY) - 1, &pol, NULL));
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.policy = pol;
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_appraisal *a = NULL;
    avow_diag d = {0};
    avow_err rc = avow_appraise(f->v, &si, &o, &a, &d);
    if (rc != AVOW_OK && a != NULL) {
        avow_buf e = {0};
        if (avow_appraisal_to_json(a, 1, &e, NULL) == AVOW_OK)
            print_error("%s\n", (char *)e.ptr);
        avow_buf_free(&e);
    }
    OK(rc);
    assert_non_null(a);
    OK(avow_appraisal_status(a));
    avow_view ak = avow_appraisal_key(a);
    assert_int_equal(ak.len, key.len);
    assert_memory_equal(ak.ptr, key.ptr, key.len);
    assert_int_equal(avow_verification_binding(avow_appraisal_get0_verification(a)), AVOW_OK);
    avow_buf j = {0};
    OK(avow_ear_to_json(avow_appraisal_get0_ear(a), &j, NULL));
    assert_non_null(strstr((char *)j.ptr, "\"affirming\""));
    /* The PAT's submod names the KAT it binds, and how. */
    const avow_ear *ear = avow_appraisal_get0_ear(a);
    int linked = 0;
    for (size_t i = 0; i < ear->nsubmods; i++) {
        if (strcmp(ear->submods[i].name, "kat") == 0)
            assert_null(ear->submods[i].binds);
        if (ear->submods[i].binds == NULL)
            continue;
        assert_string_equal(ear->submods[i].name, "psa-token");
        assert_string_equal(ear->submods[i].binds, "kat");
        assert_string_equal(ear->submods[i].binding, AVOW_EAR_BINDING_LINKED);
        linked++;
    }
    assert_int_equal(linked, 1);
    assert_non_null(strstr((char *)j.ptr, "\"avow_binding\":\"linked\",\"avow_binds\":\"kat\""));
    avow_buf_free(&j);
    avow_appraisal_free(a);
    avow_policy_free(pol);

    /* The KAT's text shows its signature verified by kak-pub. */
    r = run(f, "kp", s, &key, AVOW_OK);
    avow_buf t = {0};
    OK(avow_statement_result_to_text(avow_verification_get0(r, 0), &t, NULL));
    assert_non_null(strstr((char *)t.ptr, "Signature by kak-pub: valid"));
    avow_buf_free(&t);
    avow_verification_free(r);
    avow_buf_free(&key);
    avow_buf_free(&s[0]);
    avow_buf_free(&s[1]);
    TU_NO_OSSL_ERR();
}

static void test_unlinked_broken(void **state)
{
    fx *f = *state;
    avow_buf s[2] = {kat(f, 0), {0}};
    avow_verification *r = run(f, "k", s, NULL, AVOW_ERR_KAT_UNLINKED);
    assert_int_equal(st(r, 0), AVOW_ERR_KAT_UNLINKED);
    avow_verification_free(r);
    /* A PAT whose nonce is the hash of nothing in the request. */
    uint8_t h[32];
    link_of(f->kak[1], h);
    h[0] ^= 0x80;
    s[1] = pat(f, h, sizeof(h));
    r = run(f, "kp", s, NULL, AVOW_ERR_KAT_LINK_BROKEN);
    assert_int_equal(st(r, 0), AVOW_ERR_KAT_LINK_BROKEN);
    assert_int_equal(st(r, 1), AVOW_ERR_KAT_LINK_BROKEN);
    avow_verification_free(r);
    avow_buf_free(&s[1]);
    /* A PAT with the request's nonce is fresh on its own but binds no KAK. */
    s[1] = pat(f, NONCE, sizeof(NONCE));
    r = run(f, "kp", s, NULL, AVOW_ERR_KAT_UNLINKED);
    assert_int_equal(st(r, 0), AVOW_ERR_KAT_UNLINKED);
    assert_int_equal(st(r, 1), AVOW_OK);
    avow_verification_free(r);
    avow_buf_free(&s[1]);
    avow_buf_free(&s[0]);
}

static void test_swapped(void **state)
{
    fx *f = *state;
    avow_buf a[2] = {{0}, {0}}, b[2] = {{0}, {0}};
    cab_split(f, 0, f->kak[0], &a[0], &a[1]);
    cab_split(f, 1, f->kak[1], &b[0], &b[1]);
    /* KAT 0 with the PAT of bundle 1, whose KAT is in the request too. */
    avow_buf s[3] = {a[0], b[0], b[1]};
    avow_verification *r = run(f, "kkp", s, NULL, AVOW_ERR_KAT_LINK_SWAPPED);
    assert_int_equal(st(r, 0), AVOW_ERR_KAT_LINK_SWAPPED);
    assert_int_equal(st(r, 1), AVOW_OK);
    assert_int_equal(st(r, 2), AVOW_OK);
    avow_verification_free(r);
    /* Both bundles whole: both linked, each to its own KAT. */
    avow_buf w[4] = {a[0], b[1], b[0], a[1]};
    r = run(f, "kpkp", w, NULL, AVOW_OK);
    size_t to = 9;
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 1), &to, NULL), 1);
    assert_int_equal(to, 2);
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 3), &to, NULL), 1);
    assert_int_equal(to, 0);
    avow_verification_free(r);
    for (int i = 0; i < 2; i++) {
        avow_buf_free(&a[i]);
        avow_buf_free(&b[i]);
    }
}

static void test_wrong_key(void **state)
{
    fx *f = *state;
    avow_buf s[2] = {{0}, {0}};
    cab_split(f, 0, f->subj[0], &s[0], &s[1]);
    avow_verification *r = run(f, "kp", s, NULL, AVOW_ERR_KAT_LINK_WRONG_KEY);
    assert_int_equal(st(r, 0), AVOW_ERR_KAT_LINK_WRONG_KEY);
    assert_int_equal(st(r, 1), AVOW_ERR_KAT_LINK_WRONG_KEY);
    avow_verification_free(r);
    avow_buf_free(&s[0]);
    avow_buf_free(&s[1]);
}

static void put(avow_buf *b, const uint8_t *p, size_t n)
{
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
}

/* A KAT whose cnf COSE_Key also carries the private scalar d (-4). */
static void test_private_cnf(void **state)
{
    fx *f = *state;
    avow_buf ik = {0}, kk = {0};
    OK(avow_kat_cose_key(f->subj[0], &ik, NULL));
    OK(avow_kat_cose_key(f->kak[0], &kk, NULL));
    assert_int_equal(ik.ptr[0], 0xa4); /* EC2: four members */
    avow_buf c = {OPENSSL_malloc(ik.len + kk.len + 128), 0};
    static const uint8_t head[] = {0xa3, 0x08, 0xa1, 0x01};
    put(&c, head, sizeof(head));
    static const uint8_t a5 = 0xa5;
    put(&c, &a5, 1);
    put(&c, ik.ptr + 1, ik.len - 1);
    static const uint8_t d[] = {0x23, 0x58, 0x20};
    uint8_t scalar[32];
    memset(scalar, 7, sizeof(scalar));
    put(&c, d, sizeof(d));
    put(&c, scalar, sizeof(scalar));
    static const uint8_t nonce[] = {0x0a, 0x58, 0x20};
    put(&c, nonce, sizeof(nonce));
    put(&c, NONCE, sizeof(NONCE));
    static const uint8_t kp[] = {0x19, 0x09, 0xc4};
    put(&c, kp, sizeof(kp));
    put(&c, kk.ptr, kk.len);
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->kak[0], AVOW_SIGALG_NONE, &s, NULL));
    avow_buf t[1] = {{0}};
    OK(avow_cose_sign1(c.ptr, c.len, s, 0, &t[0], NULL));
    avow_signer_free(s);
    avow_statement_result *r = NULL;
    avow_diag dg = {0};
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    assert_int_equal(avow_statement_verify(f->v, NULL, f->kat_oid.ptr, f->kat_oid.len, t[0].ptr,
                                           t[0].len, &o, &r, &dg),
                     AVOW_ERR_KAT_COSE_KEY);
    assert_non_null(strstr(dg.field, "cnf"));
    avow_statement_result_free(r);
    /* through a request too */
    avow_verification *v = run(f, "k", t, NULL, AVOW_ERR_KAT_COSE_KEY);
    avow_verification_free(v);
    /* Without the d the same bytes verify as far as the KAT goes (then: unlinked). */
    avow_buf_free(&t[0]);
    c.len = 0;
    put(&c, head, sizeof(head));
    put(&c, ik.ptr, ik.len);
    put(&c, nonce, sizeof(nonce));
    put(&c, NONCE, sizeof(NONCE));
    put(&c, kp, sizeof(kp));
    put(&c, kk.ptr, kk.len);
    OK(avow_signer_new_pkey(f->kak[0], AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_cose_sign1(c.ptr, c.len, s, 0, &t[0], NULL));
    avow_signer_free(s);
    v = run(f, "k", t, NULL, AVOW_ERR_KAT_UNLINKED);
    avow_verification_free(v);
    avow_buf_free(&t[0]);
    avow_buf_free(&c);
    avow_buf_free(&ik);
    avow_buf_free(&kk);
}

static void test_bad_bundle(void **state)
{
    fx *f = *state;
    uint8_t h[32];
    link_of(f->kak[0], h);
    avow_buf kt = kat(f, 0), pt = pat(f, h, sizeof(h)), cab = {0}, k = {0}, p = {0};
    OK(avow_kat_bundle(kt.ptr, kt.len, pt.ptr, pt.len, &cab, NULL));
    avow_diag d = {0};
    /* another media type for a member */
    uint8_t *m = NULL;
    for (size_t i = 0; i + 19 <= cab.len && m == NULL; i++)
        if (memcmp(cab.ptr + i, "application/eat+cwt", 19) == 0)
            m = cab.ptr + i;
    assert_non_null(m);
    m[12] = 'x';
    assert_int_equal(avow_kat_bundle_split(cab.ptr, cab.len, &k, &p, NULL, &d),
                     AVOW_ERR_KAT_BUNDLE);
    assert_null(k.ptr);
    assert_null(p.ptr);
    m[12] = 'e';
    OK(avow_kat_bundle_split(cab.ptr, cab.len, &k, &p, NULL, &d));
    avow_buf_free(&k);
    avow_buf_free(&p);
    /* one member only: a map of two */
    assert_true((cab.ptr[0] & 0xe0) == 0xa0);
    cab.ptr[0] = 0xa2;
    assert_int_not_equal(avow_kat_bundle_split(cab.ptr, cab.len, &k, &p, NULL, &d), AVOW_OK);
    cab.ptr[0] = 0xa3;
    /* not a map at all */
    static const uint8_t arr[] = {0x82, 0x01, 0x02};
    assert_int_equal(avow_kat_bundle_split(arr, sizeof(arr), &k, &p, NULL, &d),
                     AVOW_ERR_KAT_BUNDLE);
    /* a wrong collection type */
    uint8_t *t = NULL;
    for (size_t i = 0; i + 7 <= cab.len && t == NULL; i++)
        if (memcmp(cab.ptr + i, "ietf.org", 8) == 0)
            t = cab.ptr + i;
    assert_non_null(t);
    t[0] = 'x';
    assert_int_equal(avow_kat_bundle_split(cab.ptr, cab.len, &k, &p, NULL, &d),
                     AVOW_ERR_KAT_BUNDLE);
    assert_string_equal(d.field, "cab.__cmwc_t");
    /* truncations never crash and never succeed */
    t[0] = 'i';
    for (size_t n = 0; n < cab.len; n++) {
        assert_int_not_equal(avow_kat_bundle_split(cab.ptr, n, &k, &p, NULL, NULL), AVOW_OK);
        assert_null(k.ptr);
    }
    /* the CAB itself is not a KAT */
    avow_statement_result *r = NULL;
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    assert_int_not_equal(avow_statement_verify(f->v, NULL, f->kat_oid.ptr, f->kat_oid.len, cab.ptr,
                                               cab.len, &o, &r, NULL),
                         AVOW_OK);
    avow_statement_result_free(r);
    avow_buf_free(&kt);
    avow_buf_free(&pt);
    avow_buf_free(&cab);
}

static void test_bad_signature(void **state)
{
    fx *f = *state;
    avow_buf s[2] = {{0}, {0}};
    cab_split(f, 0, f->kak[0], &s[0], &s[1]);
    s[0].ptr[s[0].len - 1] ^= 1;
    avow_verification *r = run(f, "kp", s, NULL, AVOW_ERR_SIG_INVALID);
    assert_int_equal(st(r, 0), AVOW_ERR_SIG_INVALID);
    /* the PAT binds a KAK whose KAT did not verify: it is not linked */
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 1), NULL, NULL), 0);
    assert_int_not_equal(st(r, 1), AVOW_OK);
    avow_verification_free(r);
    avow_buf_free(&s[0]);
    avow_buf_free(&s[1]);
}

/* The CAB example of draft-bft-rats-kat-06: the PAT's nonce is SHA-256 of kak-pub as carried. */
static void test_draft_link(void **state)
{
    (void)state;
    avow_buf enc = {0}, want = {0};
    OK(avow__unhex("a401022001215820f0fffa7ba35e76e44ca1f5446d327c8382a5a40e5f29745df948346c7c88a5"
                   "d32258207cb4c4873cbb6f097562f61d5280768cd2cfe35fba97e997280dbaaae3af92fe",
                   &enc));
    OK(avow__unhex("5ca3750daf829c30c20797eddb7949b1fd028c5408f2dd8650ad732327e3fb64", &want));
    uint8_t h[64];
    OK(avow_kat_link_nonce(enc.ptr, enc.len, 32, h));
    assert_memory_equal(h, want.ptr, 32);
    /* the nonce size picks the hash; other sizes are refused */
    OK(avow_kat_link_nonce(enc.ptr, enc.len, 48, h));
    OK(avow_kat_link_nonce(enc.ptr, enc.len, 64, h));
    assert_int_equal(avow_kat_link_nonce(enc.ptr, enc.len, 16, h), AVOW_ERR_ARG);
    avow_buf_free(&enc);
    avow_buf_free(&want);
}

static void write_file(const char *dir, const char *name, const avow_buf *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->ptr, 1, b->len, fp), b->len);
    fclose(fp);
}

/* With AVOW_KAT_SEED_DIR=DIR, writes the fuzz_kat seeds (fuzz/corpus/kat/) there. */
static void test_seeds(void **state)
{
    fx *f = *state;
    const char *dir = getenv("AVOW_KAT_SEED_DIR");
    if (dir == NULL)
        skip();
    static const struct {
        const char *name;
        int bundle, bind_kak;
    } seeds[] = {
        {"kat-p256-linked.cab", 0, 1},
        {"kat-p384-ed25519-linked.cab", 1, 1},
        {"kat-wrong-key.cab", 0, 0},
    };
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        int b = seeds[i].bundle;
        uint8_t h[32];
        link_of(seeds[i].bind_kak ? f->kak[b] : f->subj[b], h);
        avow_buf kt = kat(f, b), pt = pat(f, h, sizeof(h)), cab = {0};
        OK(avow_kat_bundle(kt.ptr, kt.len, pt.ptr, pt.len, &cab, NULL));
        write_file(dir, seeds[i].name, &cab);
        if (i == 0)
            write_file(dir, "kat-bare.cbor", &kt);
        avow_buf_free(&kt);
        avow_buf_free(&pt);
        avow_buf_free(&cab);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked),        cmocka_unit_test(test_unlinked_broken),
        cmocka_unit_test(test_swapped),       cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_private_cnf),   cmocka_unit_test(test_bad_bundle),
        cmocka_unit_test(test_bad_signature), cmocka_unit_test(test_draft_link),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
