/*
 * The PSA attestation token (RFC 9783) and the COSE module under it: the
 * RFC's examples and Veraison's vectors (tests/vectors/psa) through the
 * registry, every claim mutated to a wrong type or size, the envelope
 * broken in each way the decoder refuses, algorithm confusion, and an
 * appraisal with a policy on a psa: claim giving an EAR.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/pem.h>

#include <avow/cose.h>
#include <avow/psa.h>

#include "core/internal.h"

/* The instance ids of the RFC examples (the Sign1 one is a dummy, not derived from the IAK). */
static const char RFC_SIGN1_UEID[] =
    "010202020202020202020202020202020202020202020202020202020202020202";
static const char RFC_MAC0_UEID[] =
    "01c557bd4fadc83f756fca2cd5ea2dcc8b82159bb4e7453d6a744d4eecd6d0ac60";

typedef struct fx {
    EVP_PKEY *iak;      /* the RFC ES256 IAK (private) */
    EVP_PKEY *veraison; /* Veraison's public IAK */
    avow_buf hs;        /* the RFC HMAC IAK */
    avow_buf oid;       /* AVOW_OID_PSA_TOKEN as DER content */
    avow_verifier *v;
} fx;

static EVP_PKEY *load_key(const char *rel, int priv)
{
    avow_buf b = tu_read_vector(rel);
    BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
    EVP_PKEY *k = priv ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                       : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    avow_buf_free(&b);
    assert_non_null(k);
    return k;
}

static avow_buf unhex(const char *h)
{
    avow_buf b = {0};
    OK(avow__unhex(h, &b));
    return b;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->iak = load_key("psa/rfc9783-draft24-tfm-es-iak.pem", 1);
    f->veraison = load_key("psa/veraison-tfm-public.pem", 0);
    f->hs = tu_read_vector("psa/rfc9783-draft24-tfm-hs-iak.bin");
    avow_oid o;
    OK(avow_oid_from_text(&o, AVOW_OID_PSA_TOKEN));
    f->oid.ptr = OPENSSL_memdup(o.der, o.len);
    f->oid.len = o.len;
    OK(avow_verifier_new(NULL, &f->v));
    avow_buf id = unhex(RFC_SIGN1_UEID);
    OK(avow_verifier_add_key(f->v, id.ptr, id.len, f->iak, NULL));
    avow_buf_free(&id);
    id = unhex(RFC_MAC0_UEID);
    OK(avow_verifier_add_secret(f->v, id.ptr, id.len, f->hs.ptr, f->hs.len, NULL));
    avow_buf_free(&id);
    /* Veraison's key without an id: found by the instance id derived from it. */
    OK(avow_verifier_add_key(f->v, NULL, 0, f->veraison, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->iak);
    EVP_PKEY_free(f->veraison);
    avow_buf_free(&f->hs);
    avow_buf_free(&f->oid);
    free(f);
    return 0;
}

/* Verifies tok through the registry; checks the status and, when given, the diag field. */
static avow_statement_result *verify(fx *f, const avow_verifier *v, const uint8_t *tok, size_t len,
                                     const uint8_t *nonce, size_t nlen, avow_err want,
                                     const char *field)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = nonce;
    o.nonce_len = nlen;
    avow_statement_result *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_statement_verify(v, NULL, f->oid.ptr, f->oid.len, tok, len, &o, &r, &d);
    if (rc != want || (field != NULL && strcmp(d.field, field) != 0))
        print_error("want %s at %s, got %s at %s: %s\n", avow_errname(want),
                    field != NULL ? field : "-", avow_errname(rc), d.field, d.detail);
    assert_int_equal(rc, want);
    if (field != NULL)
        assert_string_equal(d.field, field);
    assert_non_null(r);
    TU_NO_OSSL_ERR();
    return r;
}

static const avow_nclaim *claim(const avow_statement_result *r, const char *name, size_t el)
{
    const avow_claimset *cs = avow_statement_result_get0_claims(r);
    for (const avow_nclaim *c = avow_claimset_find(cs, NULL, name, NULL); c != NULL;
         c = avow_claimset_find(cs, NULL, name, c))
        if (c->element_index == el)
            return c;
    return NULL;
}

static void test_rfc_sign1(void **state)
{
    fx *f = *state;
    avow_buf tok = tu_read_vector("psa/rfc9783-draft24-psa-sign1.cbor");
    uint8_t nonce[32];
    memset(nonce, 1, sizeof(nonce));
    avow_statement_result *r =
        verify(f, f->v, tok.ptr, tok.len, nonce, sizeof(nonce), AVOW_OK, NULL);
    assert_string_equal(avow_statement_result_type_name(r), AVOW_PSA_ROW_NAME);
    assert_int_equal(avow_statement_result_nonce_state(r), AVOW_NONCE_MATCH);
    assert_int_equal(avow_statement_result_key_count(r), 0);
    const avow_nclaim *c = claim(r, "lifecycle", 0);
    assert_non_null(c);
    assert_int_equal(c->value.bytes.len, 7);
    assert_memory_equal(c->value.bytes.ptr, "secured", 7);
    assert_int_equal(c->signed_by, 1);
    assert_int_equal(claim(r, "security-lifecycle", 0)->value.integer, 0x3000);
    assert_int_equal(claim(r, "client-id", 0)->value.integer, 2147483647);
    assert_int_equal(claim(r, "boot-seed", 0)->value.bytes.len, 8);
    assert_int_equal(claim(r, "measurement-value", 1)->value.bytes.len, 32);
    assert_memory_equal(claim(r, "measurement-type", 1)->value.bytes.ptr, "PRoT", 4);
    assert_true(claim(r, "nonce", 0)->roles & AVOW_ROLE_NONCE);
    avow_buf text = {0}, json = {0};
    OK(avow_statement_result_to_text(r, &text, NULL));
    assert_non_null(strstr((char *)text.ptr, "Verified: yes"));
    assert_non_null(strstr((char *)text.ptr, "0x3000 (secured)"));
    OK(avow_statement_result_to_json(r, &json, NULL));
    assert_non_null(strstr((char *)json.ptr, "\"lifecycle\": \"secured\""));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_statement_result_free(r);

    /* Another nonce; the IAK of another instance; a verifier without keys. */
    nonce[0] = 2;
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, nonce, sizeof(nonce), AVOW_ERR_NONCE_MISMATCH, NULL));
    avow_verifier *empty = NULL;
    OK(avow_verifier_new(NULL, &empty));
    OK(avow_verifier_add_key(empty, NULL, 0, f->iak, NULL)); /* the dummy ueid is not derived */
    avow_statement_result_free(
        verify(f, empty, tok.ptr, tok.len, NULL, 0, AVOW_ERR_KEY_UNKNOWN, "psa.instance_id"));
    avow_buf id = unhex(RFC_SIGN1_UEID);
    avow_verifier_free(empty);
    OK(avow_verifier_new(NULL, &empty));
    OK(avow_verifier_add_key(empty, id.ptr, id.len, f->veraison, NULL));
    avow_statement_result_free(
        verify(f, empty, tok.ptr, tok.len, NULL, 0, AVOW_ERR_SIG_INVALID, "cose.signature"));
    avow_verifier_free(empty);
    /* A secret under the Sign1's instance id is not tried on the signature. */
    OK(avow_verifier_new(NULL, &empty));
    OK(avow_verifier_add_secret(empty, id.ptr, id.len, f->hs.ptr, f->hs.len, NULL));
    avow_statement_result_free(
        verify(f, empty, tok.ptr, tok.len, NULL, 0, AVOW_ERR_COSE_ALG, "psa.cose.protected.alg"));
    avow_verifier_free(empty);
    avow_buf_free(&id);
    avow_buf_free(&tok);
}

static void test_rfc_mac0(void **state)
{
    fx *f = *state;
    avow_buf tok = tu_read_vector("psa/rfc9783-draft24-psa-mac0.cbor");
    avow_statement_result *r = verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL);
    assert_int_equal(claim(r, "nonce", 0)->signed_by, 1);
    avow_statement_result_free(r);
    /* A wrong secret; a public key registered under the Mac0's instance id. */
    avow_buf id = unhex(RFC_MAC0_UEID);
    avow_verifier *w = NULL;
    OK(avow_verifier_new(NULL, &w));
    uint8_t other[64];
    memcpy(other, f->hs.ptr, sizeof(other));
    other[63] ^= 1;
    OK(avow_verifier_add_secret(w, id.ptr, id.len, other, sizeof(other), NULL));
    avow_statement_result_free(
        verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_ERR_MAC_INVALID, "cose.tag_value"));
    avow_verifier_free(w);
    OK(avow_verifier_new(NULL, &w));
    OK(avow_verifier_add_key(w, id.ptr, id.len, f->iak, NULL));
    avow_statement_result_free(
        verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_ERR_COSE_ALG, "psa.cose.protected.alg"));
    avow_verifier_free(w);
    avow_buf_free(&id);
    /* The COSE module alone: a Mac0 is never verified with a public key, nor a Sign1 with a
     * secret. */
    avow_cose_msg *m = NULL;
    OK(avow_cose_decode(tok.ptr, tok.len, AVOW_COSE_ANY, AVOW_COSE_TAGGED, &m, NULL));
    assert_int_equal(avow_cose_msg_alg(m), AVOW_COSE_HMAC256);
    OK(avow_cose_verify_mac0(m, f->hs.ptr, f->hs.len, NULL, 0, NULL));
    assert_int_equal(avow_cose_verify_sign1(m, f->iak, NULL, 0, NULL), AVOW_ERR_COSE_ALG);
    avow_cose_msg_free(m);
    avow_buf_free(&tok);
    tok = tu_read_vector("psa/rfc9783-draft24-psa-sign1.cbor");
    OK(avow_cose_decode(tok.ptr, tok.len, AVOW_COSE_SIGN1, 0, &m, NULL));
    OK(avow_cose_verify_sign1(m, f->iak, NULL, 0, NULL));
    assert_int_equal(avow_cose_verify_mac0(m, f->hs.ptr, f->hs.len, NULL, 0, NULL),
                     AVOW_ERR_COSE_ALG);
    /* An external_aad the signer did not use. */
    assert_int_equal(avow_cose_verify_sign1(m, f->iak, (const uint8_t *)"x", 1, NULL),
                     AVOW_ERR_SIG_INVALID);
    avow_cose_msg_free(m);
    avow_buf_free(&tok);
}

static void test_veraison(void **state)
{
    fx *f = *state;
    static const char *const sign1[] = {"psa/veraison-tfm-psa-2_0_0_sign1.bin",
                                        "psa/veraison-tfm-psa-iot-1_sign1.bin"};
    static const char *const profiles[] = {"http://arm.com/psa/2.0.0", "PSA_IOT_PROFILE_1"};
    for (size_t i = 0; i < 2; i++) {
        avow_buf tok = tu_read_vector(sign1[i]);
        avow_statement_result *r = verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL);
        const avow_nclaim *p = claim(r, "profile", 0);
        assert_int_equal(p->value.bytes.len, strlen(profiles[i]));
        assert_memory_equal(p->value.bytes.ptr, profiles[i], p->value.bytes.len);
        assert_int_equal(claim(r, "client-id", 0)->value.integer, 3002);
        assert_int_equal(claim(r, "boot-seed", 0)->value.bytes.len, 32);
        assert_non_null(claim(r, "signer-id", 2));
        assert_memory_equal(claim(r, "version", 1)->value.bytes.ptr, "1.6.0", 5);
        assert_memory_equal(claim(r, "certification-reference", 0)->value.bytes.ptr,
                            "0604565272829-10010", 19);
        assert_memory_equal(claim(r, "verification-service", 0)->value.bytes.ptr,
                            "www.trustedfirmware.org", 23);
        avow_statement_result_free(r);
        avow_buf_free(&tok);
    }
    /* Veraison's Mac0 tokens decode; their key is not published, so they are refused. */
    static const char *const mac0[] = {"psa/veraison-tfm-psa-2_0_0_mac0.bin",
                                       "psa/veraison-tfm-psa-iot-1_mac0.bin"};
    for (size_t i = 0; i < 2; i++) {
        avow_buf tok = tu_read_vector(mac0[i]);
        avow_buf out = {0};
        OK(avow_statement_show(NULL, NULL, f->oid.ptr, f->oid.len, tok.ptr, tok.len, 0, &out,
                               NULL));
        assert_non_null(strstr((char *)out.ptr, "COSE_Mac0, alg HMAC 256/256"));
        avow_buf_free(&out);
        avow_statement_result *r =
            verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_KEY_UNKNOWN, "psa.instance_id");
        /* Unsigned claims are still there for display, marked as such. */
        const avow_nclaim *iid = claim(r, "instance-id", 0);
        assert_int_equal(iid->signed_by, 0);
        avow_verifier *w = NULL;
        OK(avow_verifier_new(NULL, &w));
        OK(avow_verifier_add_secret(w, iid->value.bytes.ptr, iid->value.bytes.len, f->hs.ptr,
                                    f->hs.len, NULL));
        avow_statement_result_free(r);
        avow_statement_result_free(
            verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_ERR_MAC_INVALID, "cose.tag_value"));
        avow_verifier_free(w);
        avow_buf_free(&tok);
    }
}

/* --- tokens made here, one claim at a time --- */

enum { M_NONE, M_DROP, M_SET };

typedef struct mut {
    int64_t key;      /* the claim */
    int how;          /* M_DROP or M_SET */
    cbor_item_t *val; /* for M_SET (taken) */
} mut;

/* An integer in its shortest form (libcbor writes the width an item was built with). */
static cbor_item_t *ci(int64_t v)
{
    uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-1 - v);
    cbor_item_t *it = u <= 0xff         ? cbor_build_uint8((uint8_t)u)
                      : u <= 0xffff     ? cbor_build_uint16((uint16_t)u)
                      : u <= 0xffffffff ? cbor_build_uint32((uint32_t)u)
                                        : cbor_build_uint64(u);
    if (v < 0)
        cbor_mark_negint(it);
    return it;
}

static cbor_item_t *cb(uint8_t fill, size_t n)
{
    uint8_t b[80];
    memset(b, fill, sizeof(b));
    return cbor_build_bytestring(b, n);
}

static cbor_item_t *ct(const char *s)
{
    return cbor_build_string(s);
}

/* One software component: type, value and signer id sizes, or 0 to leave one out. */
static cbor_item_t *component(cbor_item_t *type, size_t value, size_t signer)
{
    cbor_item_t *m = cbor_new_definite_map(3);
    if (type != NULL)
        cbor_map_add(m, (struct cbor_pair){cbor_move(ci(1)), cbor_move(type)});
    if (value > 0)
        cbor_map_add(m, (struct cbor_pair){cbor_move(ci(2)), cbor_move(cb(3, value))});
    if (signer > 0)
        cbor_map_add(m, (struct cbor_pair){cbor_move(ci(5)), cbor_move(cb(4, signer))});
    return m;
}

static cbor_item_t *sw_array(cbor_item_t *comp)
{
    cbor_item_t *a = cbor_new_definite_array(1);
    cbor_array_push(a, cbor_move(comp));
    return a;
}

/* The RFC example's claims (2023 profile) with one change, as CBOR bytes (free()). */
static size_t claims_with(const mut *m, uint8_t **out)
{
    avow_buf ueid = unhex(RFC_SIGN1_UEID);
    struct {
        int64_t key;
        cbor_item_t *val;
    } base[] = {
        {256, cbor_build_bytestring(ueid.ptr, ueid.len)},
        {2396, cb(0, 32)},
        {10, cb(1, 32)},
        {2394, ci(2147483647)},
        {2395, ci(0x3000)},
        {265, ct("tag:psacertified.org,2023:psa#tfm")},
        {268, cb(0, 8)},
        {2399, sw_array(component(ct("PRoT"), 32, 32))},
        {2398, ct("1234567890123-12345")},
        {2400, ct("https://veraison.example/v1/challenge-response")},
    };
    size_t n = sizeof(base) / sizeof(base[0]);
    cbor_item_t *map = cbor_new_definite_map(n + 1);
    int done = 0;
    for (size_t i = 0; i < n; i++) {
        cbor_item_t *v = base[i].val;
        if (m != NULL && m->key == base[i].key) {
            done = 1;
            cbor_decref(&v);
            if (m->how == M_DROP)
                continue;
            v = m->val;
        }
        cbor_map_add(map, (struct cbor_pair){cbor_move(ci(base[i].key)), cbor_move(v)});
    }
    if (m != NULL && m->how == M_SET && !done)
        cbor_map_add(map, (struct cbor_pair){cbor_move(ci(m->key)), cbor_move(m->val)});
    size_t cap = 0;
    size_t len = cbor_serialize_alloc(map, out, &cap);
    cbor_decref(&map);
    avow_buf_free(&ueid);
    assert_true(len > 0);
    return len;
}

static avow_buf sign(fx *f, const uint8_t *payload, size_t len)
{
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->iak, AVOW_SIGALG_ECDSA_SHA256, &s, NULL));
    avow_buf tok = {0};
    OK(avow_cose_sign1(payload, len, s, AVOW_COSE_TAGGED, &tok, NULL));
    avow_signer_free(s);
    return tok;
}

static void test_made_token(void **state)
{
    fx *f = *state;
    uint8_t *c = NULL;
    size_t n = claims_with(NULL, &c);
    avow_buf tok = sign(f, c, n);
    avow_statement_result_free(verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL));
    avow_buf_free(&tok);
    free(c);
    /* An unknown claim is ignored (EAT), and shown. */
    mut m = {9999, M_SET, ct("unknown")};
    n = claims_with(&m, &c);
    tok = sign(f, c, n);
    avow_statement_result *r = verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL);
    avow_buf text = {0};
    OK(avow_statement_result_to_text(r, &text, NULL));
    assert_non_null(strstr((char *)text.ptr, "unknown claims (ignored): 1, keys 9999"));
    avow_buf_free(&text);
    avow_statement_result_free(r);
    avow_buf_free(&tok);
    free(c);
    /* Ed25519 and ES384 IAKs registered by instance id. */
    EVP_PKEY *keys[2] = {tu_key_ed25519(), tu_key_ec("P-384")};
    avow_sigalg algs[2] = {AVOW_SIGALG_ED25519, AVOW_SIGALG_ECDSA_SHA384};
    int64_t cose[2] = {AVOW_COSE_EDDSA, AVOW_COSE_ES384};
    n = claims_with(NULL, &c);
    for (size_t i = 0; i < 2; i++) {
        avow_signer *s = NULL;
        OK(avow_signer_new_pkey(keys[i], algs[i], &s, NULL));
        OK(avow_cose_sign1(c, n, s, AVOW_COSE_TAGGED, &tok, NULL));
        avow_signer_free(s);
        avow_verifier *w = NULL;
        OK(avow_verifier_new(NULL, &w));
        avow_buf id = unhex(RFC_SIGN1_UEID);
        OK(avow_verifier_add_key(w, id.ptr, id.len, keys[i], NULL));
        avow_statement_result_free(verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL));
        avow_cose_msg *cm = NULL;
        OK(avow_cose_decode(tok.ptr, tok.len, AVOW_COSE_ANY, 0, &cm, NULL));
        assert_int_equal(avow_cose_msg_alg(cm), cose[i]);
        /* The other key under the same alg: the key type decides. */
        assert_int_equal(avow_cose_verify_sign1(cm, keys[1 - i], NULL, 0, NULL),
                         AVOW_ERR_ALG_MISMATCH);
        assert_int_equal(avow_cose_verify_sign1(cm, f->iak, NULL, 0, NULL), AVOW_ERR_ALG_MISMATCH);
        avow_cose_msg_free(cm);
        avow_verifier_free(w);
        avow_buf_free(&id);
        avow_buf_free(&tok);
    }
    EVP_PKEY_free(keys[0]);
    EVP_PKEY_free(keys[1]);
    /* A Mac0 made here with HMAC 384/384 verifies; with the alg changed it does not. */
    OK(avow_cose_mac0(c, n, AVOW_COSE_HMAC384, f->hs.ptr, f->hs.len, AVOW_COSE_TAGGED, &tok, NULL));
    avow_verifier *w = NULL;
    OK(avow_verifier_new(NULL, &w));
    avow_buf id = unhex(RFC_SIGN1_UEID);
    OK(avow_verifier_add_secret(w, id.ptr, id.len, f->hs.ptr, f->hs.len, NULL));
    avow_statement_result_free(verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL));
    /* protected header a1 01 06 -> a1 01 05: the tag no longer fits. */
    assert_int_equal(tok.ptr[5], 0x06);
    tok.ptr[5] = 0x05;
    avow_statement_result_free(
        verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_ERR_MAC_INVALID, "cose.tag_value"));
    avow_verifier_free(w);
    avow_buf_free(&id);
    avow_buf_free(&tok);
    free(c);
}

typedef struct case_ {
    const char *what;
    int64_t key;
    int how;
    avow_err want;
    const char *field;
} case_;

static cbor_item_t *mut_value(size_t i)
{
    switch (i) {
    case 0:
        return ct("nonce as text");
    case 1:
        return cb(1, 31);
    case 2: {
        cbor_item_t *a = cbor_new_definite_array(1);
        cbor_array_push(a, cbor_move(cb(1, 32)));
        return a;
    }
    case 3:
        return cb(1, 32); /* instance id of 32 bytes */
    case 4: {
        uint8_t b[33];
        memset(b, 2, sizeof(b));
        return cbor_build_bytestring(b, sizeof(b)); /* UEID type 0x02 */
    }
    case 5:
        return cb(0, 31);
    case 6:
        return ci(0);
    case 7:
        return ct("1");
    case 8:
        return ci(2147483648LL);
    case 9:
        return ci(0x7000);
    case 10:
        return ci(-1);
    case 11:
        return ct("tag:example.com,2024:other");
    case 12:
        return ci(1);
    case 13:
        return cb(0, 7);
    case 14:
        return cb(0, 33);
    case 15:
        return ct("123");
    case 16:
        return cbor_new_definite_array(0);
    case 17:
        return cbor_new_definite_map(0);
    case 18:
        return sw_array(component(ct("PRoT"), 0, 32));
    case 19:
        return sw_array(component(ct("PRoT"), 20, 32));
    case 20:
        return sw_array(component(ct("PRoT"), 32, 0));
    case 21:
        return sw_array(component(ci(1), 32, 32));
    case 22:
        return cb(0, 4);
    case 23:
        return ci(0x3000 + 0x100); /* 0x3100: no range */
    default:
        return NULL;
    }
}

static void test_claim_mutations(void **state)
{
    fx *f = *state;
    static const case_ cases[] = {
        {"nonce text", 10, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.nonce"},
        {"nonce 31 bytes", 10, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.nonce"},
        {"nonce array", 10, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.nonce"},
        {"instance id 32 bytes", 256, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.instance_id"},
        {"instance id type 2", 256, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.instance_id"},
        {"implementation id 31 bytes", 2396, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.implementation_id"},
        {"client id 0", 2394, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.client_id"},
        {"client id text", 2394, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.client_id"},
        {"client id 2^31", 2394, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.client_id"},
        {"lifecycle 0x7000", 2395, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.security_lifecycle"},
        {"lifecycle negative", 2395, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.security_lifecycle"},
        {"profile unknown", 265, M_SET, AVOW_ERR_PSA_PROFILE, "psa.profile"},
        {"profile integer", 265, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.profile"},
        {"boot seed 7 bytes", 268, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.boot_seed"},
        {"boot seed 33 bytes", 268, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.boot_seed"},
        {"certification reference", 2398, M_SET, AVOW_ERR_CLAIM_VALUE,
         "psa.certification_reference"},
        {"sw components empty", 2399, M_SET, AVOW_ERR_EMPTY, "psa.sw_components"},
        {"sw components map", 2399, M_SET, AVOW_ERR_CLAIM_TYPE, "psa.sw_components"},
        {"measurement missing", 2399, M_SET, AVOW_ERR_MISSING_CLAIM,
         "psa.sw_components[0].measurement_value"},
        {"measurement 20 bytes", 2399, M_SET, AVOW_ERR_CLAIM_VALUE,
         "psa.sw_components[0].measurement_value"},
        {"signer id missing", 2399, M_SET, AVOW_ERR_MISSING_CLAIM,
         "psa.sw_components[0].signer_id"},
        {"measurement type integer", 2399, M_SET, AVOW_ERR_CLAIM_TYPE,
         "psa.sw_components[0].measurement_type"},
        {"verification service bytes", 2400, M_SET, AVOW_ERR_CLAIM_TYPE,
         "psa.verification_service"},
        {"lifecycle 0x3100", 2395, M_SET, AVOW_ERR_CLAIM_VALUE, "psa.security_lifecycle"},
        {"no nonce", 10, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.nonce"},
        {"no instance id", 256, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.instance_id"},
        {"no implementation id", 2396, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.implementation_id"},
        {"no client id", 2394, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.client_id"},
        {"no lifecycle", 2395, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.security_lifecycle"},
        {"no profile", 265, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.profile"},
        {"no sw components", 2399, M_DROP, AVOW_ERR_MISSING_CLAIM, "psa.sw_components"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const case_ *k = &cases[i];
        mut m = {k->key, k->how, k->how == M_SET ? mut_value(i) : NULL};
        if (k->how == M_SET)
            assert_non_null(m.val);
        uint8_t *c = NULL;
        size_t n = claims_with(&m, &c);
        avow_buf tok = sign(f, c, n);
        print_message("%s\n", k->what);
        avow_statement_result_free(verify(f, f->v, tok.ptr, tok.len, NULL, 0, k->want, k->field));
        avow_buf_free(&tok);
        free(c);
    }
}

/* tok with bytes [at, at + del) replaced by ins[0..nins). */
static avow_buf splice(const avow_buf *tok, size_t at, size_t del, const uint8_t *ins, size_t nins)
{
    avow_buf b = {OPENSSL_malloc(tok->len - del + nins), tok->len - del + nins};
    memcpy(b.ptr, tok->ptr, at);
    if (nins > 0)
        memcpy(b.ptr + at, ins, nins);
    memcpy(b.ptr + at + nins, tok->ptr + at + del, tok->len - at - del);
    return b;
}

static void test_envelope(void **state)
{
    fx *f = *state;
    avow_buf tok = tu_read_vector("psa/rfc9783-draft24-psa-sign1.cbor");
    /* d2 84 43 a1 01 26 a0 59 01 3c <payload> 58 40 <sig> */
    assert_int_equal(tok.ptr[0], 0xd2);
    avow_buf b;
    static const uint8_t zero = 0;
    b = splice(&tok, tok.len, 0, &zero, 1);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_TRAILING, "cose"));
    avow_buf_free(&b);
    b = splice(&tok, 0, 1, NULL, 0); /* untagged */
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE, "cose.tag"));
    {
        /* The COSE module reads it when told the kind, or when asked for untagged messages. */
        avow_cose_msg *cm = NULL;
        avow_diag cd = {0};
        assert_int_equal(avow_cose_decode(b.ptr, b.len, AVOW_COSE_ANY, 0, &cm, &cd), AVOW_ERR_COSE);
        OK(avow_cose_decode(b.ptr, b.len, AVOW_COSE_SIGN1, AVOW_COSE_UNTAGGED, &cm, NULL));
        assert_false(avow_cose_msg_tagged(cm));
        OK(avow_cose_verify_sign1(cm, f->iak, NULL, 0, NULL));
        avow_cose_msg_free(cm);
        assert_int_equal(
            avow_cose_decode(b.ptr, b.len, AVOW_COSE_SIGN1, AVOW_COSE_TAGGED, &cm, &cd),
            AVOW_ERR_COSE);
        assert_int_equal(
            avow_cose_decode(tok.ptr, tok.len, AVOW_COSE_SIGN1, AVOW_COSE_UNTAGGED, &cm, &cd),
            AVOW_ERR_COSE);
        assert_int_equal(avow_cose_decode(tok.ptr, tok.len, AVOW_COSE_MAC0, 0, &cm, &cd),
                         AVOW_ERR_COSE);
        assert_string_equal(cd.field, "cose.tag");
        assert_null(cm);
    }
    avow_buf_free(&b);
    b = splice(&tok, tok.len - 1, 1, NULL, 0);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_TRUNCATED, "cose"));
    avow_buf_free(&b);
    /* Tag 17 on a Sign1: the alg decides nothing, the tag decides Mac0, no secret. */
    b = splice(&tok, 0, 1, (const uint8_t *)"\xd1", 1);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE_ALG, NULL));
    avow_buf_free(&b);
    /* Tag 61 (CWT) is not a COSE message. */
    b = splice(&tok, 0, 1, (const uint8_t *)"\xd8\x3d", 2);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE, "cose.tag"));
    avow_buf_free(&b);
    /* Indefinite-length array. */
    b = splice(&tok, 1, 1, (const uint8_t *)"\x9f", 1);
    avow_buf b2 = splice(&b, b.len, 0, (const uint8_t *)"\xff", 1);
    avow_statement_result_free(
        verify(f, f->v, b2.ptr, b2.len, NULL, 0, AVOW_ERR_CBOR_INDEFINITE, "cose"));
    avow_buf_free(&b);
    avow_buf_free(&b2);
    /* The signature flipped; 63 bytes of it. */
    b = splice(&tok, 0, 0, NULL, 0);
    b.ptr[b.len - 1] ^= 1;
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_SIG_INVALID, "cose.signature"));
    avow_buf_free(&b);
    b = splice(&tok, tok.len - 66, 2, (const uint8_t *)"\x58\x3f", 2);
    b.len--;
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_SIG_INVALID, "cose.signature"));
    avow_buf_free(&b);
    /* Wrong alg in the protected header: ES384 (-35 = 38 22) on the P-256 IAK; HMAC in a Sign1. */
    b = splice(&tok, 2, 4, (const uint8_t *)"\x44\xa1\x01\x38\x22", 5);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_ALG_MISMATCH, "cose.protected.alg"));
    avow_buf_free(&b);
    b = splice(&tok, 2, 4, (const uint8_t *)"\x43\xa1\x01\x05", 4);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE_ALG, "cose.protected.alg"));
    avow_buf_free(&b);
    /* alg only in the unprotected bucket; alg in both. */
    b = splice(&tok, 2, 5, (const uint8_t *)"\x40\xa1\x01\x26", 4);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE, "cose.unprotected.alg"));
    avow_buf_free(&b);
    b = splice(&tok, 6, 1, (const uint8_t *)"\xa1\x01\x26", 3);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE, "cose.protected"));
    avow_buf_free(&b);
    /* A critical header avow does not understand; a protected header repeating a label. */
    b = splice(&tok, 2, 4, (const uint8_t *)"\x47\xa2\x01\x26\x02\x81\x18\x21", 8);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_COSE, "cose.protected.crit"));
    avow_buf_free(&b);
    b = splice(&tok, 2, 4, (const uint8_t *)"\x45\xa2\x01\x26\x01\x26", 6);
    avow_statement_result_free(
        verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_CBOR_DUP_KEY, "cose.protected"));
    avow_buf_free(&b);
    /* The array head in a long form: tolerated for PSA (RFC 9783), refused by strict COSE. */
    b = splice(&tok, 1, 1, (const uint8_t *)"\x98\x04", 2);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_OK, NULL));
    avow_cose_msg *m = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_cose_decode(b.ptr, b.len, AVOW_COSE_ANY, 0, &m, &d),
                     AVOW_ERR_CBOR_NOT_PREFERRED);
    assert_string_equal(d.field, "cose");
    assert_null(m);
    avow_buf_free(&b);
    /* In a DER OCTET STRING, as a PKIX request carries a statement. */
    uint8_t hdr[4] = {0x04, 0x82, (uint8_t)(tok.len >> 8), (uint8_t)tok.len};
    b = splice(&tok, 0, 0, hdr, 4);
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_OK, NULL));
    b.ptr[3]++;
    avow_statement_result_free(verify(f, f->v, b.ptr, b.len, NULL, 0, AVOW_ERR_NOT_DER, "psa"));
    avow_buf_free(&b);
    avow_buf_free(&tok);

    /* Claims: a repeated key, an indefinite map, a non-preferred integer (tolerated). */
    static const uint8_t dup[] = {0xa2, 0x0a, 0x41, 0x00, 0x0a, 0x41, 0x00};
    tok = sign(f, dup, sizeof(dup));
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_CBOR_DUP_KEY, "psa"));
    avow_buf_free(&tok);
    static const uint8_t indef[] = {0xbf, 0x0a, 0x41, 0x00, 0xff};
    tok = sign(f, indef, sizeof(indef));
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_CBOR_INDEFINITE, "psa"));
    avow_buf_free(&tok);
    /* The same key once short, once long: still one key twice. */
    static const uint8_t dup2[] = {0xa2, 0x0a, 0x41, 0x00, 0x18, 0x0a, 0x41, 0x00};
    tok = sign(f, dup2, sizeof(dup2));
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_CBOR_DUP_KEY, "psa"));
    avow_buf_free(&tok);
    uint8_t *c = NULL;
    size_t n = claims_with(NULL, &c);
    /* The lifecycle 19 30 00 as 1a 00 00 30 00. */
    uint8_t *p = NULL;
    for (size_t i = 0; i + 6 <= n && p == NULL; i++)
        if (memcmp(c + i, "\x19\x09\x5b\x19\x30\x00", 6) == 0)
            p = c + i;
    assert_non_null(p);
    avow_buf cl = {c, n};
    avow_buf lng = splice(&cl, (size_t)(p - c) + 3, 3, (const uint8_t *)"\x1a\x00\x00\x30\x00", 5);
    tok = sign(f, lng.ptr, lng.len);
    avow_statement_result_free(verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL));
    avow_buf_free(&tok);
    avow_buf_free(&lng);
    /* Trailing bytes after the claims map. */
    lng = splice(&cl, n, 0, &zero, 1);
    tok = sign(f, lng.ptr, lng.len);
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_TRAILING, "psa"));
    avow_buf_free(&tok);
    avow_buf_free(&lng);
    free(c);
    /* Too deep. */
    uint8_t deep[40];
    memset(deep, 0x81, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x00;
    tok = sign(f, deep, sizeof(deep));
    avow_statement_result_free(
        verify(f, f->v, tok.ptr, tok.len, NULL, 0, AVOW_ERR_TOO_LARGE, "psa"));
    avow_buf_free(&tok);
}

static const char POLICY[] =
    "{\"name\":\"psa-secured\",\"rules\":["
    "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\",\"required\":true},"
    "{\"id\":\"fresh\",\"claim\":\"psa:nonce\",\"present\":true,\"required\":true,"
    "\"when\":\"nonce-expected\"}]}";

static avow_appraisal *appraise(fx *f, const avow_buf *tok, const uint8_t *nonce, avow_err want)
{
    avow_policy *p = NULL;
    avow_diag d = {0};
    OK(avow_policy_parse(POLICY, sizeof(POLICY) - 1, &p, &d));
    avow_statement_in st = {{f->oid.ptr, f->oid.len}, {tok->ptr, tok->len}};
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &st;
    in.possession = AVOW_OK; /* a platform token: no key to possess */
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.policy = p;
    o.nonce = nonce;
    o.nonce_len = nonce != NULL ? 32 : 0;
    avow_appraisal *a = NULL;
    avow_err rc = avow_appraise(f->v, &in, &o, &a, &d);
    if (rc != want)
        print_error("appraise: %s %s: %s\n", avow_errname(rc), d.field, d.detail);
    assert_int_equal(rc, want);
    assert_non_null(a);
    avow_policy_free(p);
    return a;
}

static void test_appraisal(void **state)
{
    fx *f = *state;
    avow_buf tok = tu_read_vector("psa/rfc9783-draft24-psa-sign1.cbor");
    uint8_t nonce[32];
    memset(nonce, 1, sizeof(nonce));
    avow_appraisal *a = appraise(f, &tok, nonce, AVOW_OK);
    const avow_ear *e = avow_appraisal_get0_ear(a);
    assert_int_equal(e->nsubmods, 1);
    assert_string_equal(e->submods[0].name, AVOW_PSA_ROW_NAME);
    avow_buf j = {0};
    OK(avow_ear_to_json(e, &j, NULL));
    assert_non_null(strstr((char *)j.ptr, "\"affirming\""));
    avow_buf_free(&j);
    avow_appraisal_free(a);
    /* Another nonce: not affirming. */
    nonce[0] = 9;
    avow_appraisal_free(appraise(f, &tok, nonce, AVOW_ERR_NOT_AFFIRMING));
    avow_buf_free(&tok);
    /* A token in the non-PSA-RoT debug state: the rule fails. */
    mut m = {2395, M_SET, ci(0x4000)};
    uint8_t *c = NULL;
    size_t n = claims_with(&m, &c);
    tok = sign(f, c, n);
    memset(nonce, 1, sizeof(nonce));
    a = appraise(f, &tok, nonce, AVOW_ERR_NOT_AFFIRMING);
    const avow_policy_report *rep = avow_appraisal_get0_report(a);
    assert_non_null(rep);
    avow_appraisal_free(a);
    avow_buf_free(&tok);
    free(c);
}

/* Veraison's and the RFC's unsigned claims sets (converted from their diagnostic notation), signed
 * here with the RFC IAK under both instance ids they use. */
static void test_claims_sets(void **state)
{
    fx *f = *state;
    static const struct {
        const char *file;
        const char *lifecycle;
        int64_t client;
        size_t components;
    } sets[] = {
        {"psa/claims/veraison-cbor-P1ClaimsAll.cbor", "secured", 2147483647, 1},
        {"psa/claims/veraison-cbor-P1ClaimsTFM.cbor", "secured", 3002, 2},
        {"psa/claims/veraison-cbor-P2ClaimsAll.cbor", "secured", 2147483647, 1},
        {"psa/claims/veraison-cbor-P2ClaimsTFM.cbor", "secured", 3002, 2},
        {"psa/claims/rfc9783-draft24-psa-token.cbor", "secured", 2147483647, 1},
    };
    avow_verifier *w = NULL;
    OK(avow_verifier_new(NULL, &w));
    avow_buf id = unhex(RFC_SIGN1_UEID);
    OK(avow_verifier_add_key(w, id.ptr, id.len, f->iak, NULL));
    avow_buf_free(&id);
    id = unhex("01fa58755f658627ce5460f29b75296713248cae7ad9e2984b90280efcbcb50248");
    OK(avow_verifier_add_key(w, id.ptr, id.len, f->iak, NULL));
    avow_buf_free(&id);
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        avow_buf c = tu_read_vector(sets[i].file);
        avow_buf tok = sign(f, c.ptr, c.len);
        print_message("%s\n", sets[i].file);
        avow_statement_result *r = verify(f, w, tok.ptr, tok.len, NULL, 0, AVOW_OK, NULL);
        const avow_nclaim *lc = claim(r, "lifecycle", 0);
        assert_int_equal(lc->value.bytes.len, strlen(sets[i].lifecycle));
        assert_int_equal(claim(r, "client-id", 0)->value.integer, sets[i].client);
        assert_non_null(claim(r, "measurement-value", sets[i].components));
        assert_null(claim(r, "measurement-value", sets[i].components + 1));
        assert_non_null(claim(r, "verification-service", 0));
        avow_statement_result_free(r);
        avow_buf_free(&tok);
        avow_buf_free(&c);
    }
    avow_verifier_free(w);
}

/* In an attested CSR under the PSA type: verified by the same request path as any statement. */
static void test_in_request(void **state)
{
    fx *f = *state;
    avow_buf tok = tu_read_vector("psa/rfc9783-draft24-psa-sign1.cbor");
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=psa device", NULL));
    OK(avow_request_builder_add_octets(b, AVOW_OID_PSA_TOKEN, tok.ptr, tok.len, NULL));
    avow_signer *s = NULL;
    avow_buf der = {0};
    OK(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_request_builder_sign(b, s, &der, NULL));
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, NULL));
    avow_verification *res = NULL;
    /* The token verifies; it attests a platform, not the request's key. */
    assert_int_equal(avow_request_verify(f->v, r, NULL, &res, NULL), AVOW_ERR_KEY_BINDING);
    const avow_statement_result *st = avow_verification_get0(res, 0);
    assert_int_equal(avow_statement_result_status(st), AVOW_OK);
    assert_string_equal(avow_statement_result_type_name(st), AVOW_PSA_ROW_NAME);
    assert_int_equal(avow_verification_verified(res), 1);
    avow_verification_free(res);
    avow_request_free(r);
    avow_request_builder_free(b);
    avow_signer_free(s);
    avow_buf_free(&der);
    EVP_PKEY_free(key);
    avow_buf_free(&tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_sign1),       cmocka_unit_test(test_rfc_mac0),
        cmocka_unit_test(test_veraison),        cmocka_unit_test(test_made_token),
        cmocka_unit_test(test_claim_mutations), cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_appraisal),       cmocka_unit_test(test_in_request),
        cmocka_unit_test(test_claims_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
