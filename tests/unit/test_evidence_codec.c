/*
 * PKIX Evidence codec: build every claim of the -07 table, encode, decode,
 * re-encode byte for byte; the published samples; the profile arc; the
 * builder's refusals; PEM armour; the error table.
 */
#include "testutil.h"

#include "core/der.h"

#include <string.h>

static EVP_PKEY *ak1, *ak2, *k1, *k2, *signkey;
static avow_buf ak1_spki, ak2_spki, k1_spki, k2_spki;
static time_t ts, expiry;

static const avow_capability all_caps[AVOW_CAP_COUNT_] = {
    AVOW_CAP_ENCRYPT, AVOW_CAP_DECRYPT,        AVOW_CAP_WRAP,
    AVOW_CAP_UNWRAP,  AVOW_CAP_SIGN,           AVOW_CAP_SIGN_RECOVER,
    AVOW_CAP_VERIFY,  AVOW_CAP_VERIFY_RECOVER, AVOW_CAP_DERIVE,
};
static const uint8_t nonce[] = {0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe};
static const uint8_t oemid[] = {0x00, 0x11, 0x22};
static const uint8_t hwmodel[] = "HSM-9000";

/* Every claim of the table, plus a second key element; profile NULL = default arc. */
static avow_evidence *build_all(const avow_profile *profile)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    size_t tx, pl, key, key2;
    OK(avow_evidence_new(profile, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key2, NULL));
    assert_int_equal(tx, 0);
    assert_int_equal(key2, 3);

    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, nonce, sizeof(nonce), &d));
    OK(avow_evidence_add_time(ev, tx, AVOW_CLAIM_TIMESTAMP, ts, &d));
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, ak1_spki.ptr, ak1_spki.len, &d));
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, ak2_spki.ptr, ak2_spki.len, &d));

    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme Corp \xc3\xa9", &d));
    OK(avow_evidence_add_bytes(ev, pl, AVOW_CLAIM_OEMID, oemid, sizeof(oemid), &d));
    OK(avow_evidence_add_bytes(ev, pl, AVOW_CLAIM_HWMODEL, hwmodel, sizeof(hwmodel) - 1, &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_HWVERSION, "2.1.0", &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_HWSERIAL, "SN-0042", &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_SWNAME, "acme-fw", &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_SWVERSION, "7.3.1", &d));
    OK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_DBGSTAT, 3, &d));
    OK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_UPTIME, INT64_C(86400), &d));
    OK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_BOOTCOUNT, INT64_MAX, &d));
    OK(avow_evidence_add_bool(ev, pl, AVOW_CLAIM_FIPSBOOT, 1, &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_FIPSVER, "FIPS 140-3", &d));
    OK(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 4, &d));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_FIPSMODULE, "Acme HSM Module", &d));

    OK(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "9a25f603-0000", &d));
    OK(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "signing-key", &d));
    OK(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_KEY_SPKI, k1_spki.ptr, k1_spki.len, &d));
    OK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_EXTRACTABLE, 0, &d));
    OK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_SENSITIVE, 1, &d));
    OK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, 1, &d));
    OK(avow_evidence_add_bool(ev, key, AVOW_CLAIM_KEY_LOCAL, 1, &d));
    OK(avow_evidence_add_time(ev, key, AVOW_CLAIM_KEY_EXPIRY, expiry, &d));
    OK(avow_evidence_add_purposes(ev, key, all_caps, AVOW_CAP_COUNT_, &d));

    OK(avow_evidence_add_utf8(ev, key2, AVOW_CLAIM_KEY_IDENTIFIER, "85704b99-1111", &d));
    OK(avow_evidence_add_bytes(ev, key2, AVOW_CLAIM_KEY_SPKI, k2_spki.ptr, k2_spki.len, &d));
    OK(avow_evidence_add_bool(ev, key2, AVOW_CLAIM_KEY_EXTRACTABLE, 1, &d));
    TU_NO_OSSL_ERR();
    return ev;
}

static const avow_claim *claim_at(const avow_evidence *ev, size_t e, size_t c, avow_claim_id id)
{
    const avow_element *el = avow_evidence_get0_element(ev, e);
    assert_non_null(el);
    assert_true(c < el->nclaims);
    const avow_claim *cl = &el->claims[c];
    assert_int_equal(cl->id, id);
    const avow_claim_info *info = avow_claim_info_get(id);
    assert_int_equal(cl->value.type, info->type);
    assert_true(cl->value.present);
    return cl;
}

static void check_bytes(const avow_claim *cl, const void *p, size_t n)
{
    assert_int_equal(cl->value.bytes.len, n);
    assert_memory_equal(cl->value.bytes.ptr, p, n);
}

static void check_str(const avow_claim *cl, const char *s)
{
    check_bytes(cl, s, strlen(s));
}

/* Every decoded value of build_all(). */
static void check_all(const avow_evidence *ev)
{
    assert_int_equal(avow_evidence_version(ev), 1);
    assert_int_equal(avow_evidence_element_count(ev), 4);
    assert_int_equal(avow_evidence_get0_element(ev, 0)->kind, AVOW_ELEMENT_TRANSACTION);
    assert_int_equal(avow_evidence_get0_element(ev, 1)->kind, AVOW_ELEMENT_PLATFORM);
    assert_int_equal(avow_evidence_get0_element(ev, 2)->kind, AVOW_ELEMENT_KEY);
    assert_int_equal(avow_evidence_get0_element(ev, 3)->kind, AVOW_ELEMENT_KEY);
    assert_int_equal(avow_evidence_get0_element(ev, 0)->nclaims, 4);
    assert_int_equal(avow_evidence_get0_element(ev, 1)->nclaims, 14);
    assert_int_equal(avow_evidence_get0_element(ev, 2)->nclaims, 9);
    assert_int_equal(avow_evidence_get0_element(ev, 3)->nclaims, 3);

    check_bytes(claim_at(ev, 0, 0, AVOW_CLAIM_NONCE), nonce, sizeof(nonce));
    const avow_claim *t = claim_at(ev, 0, 1, AVOW_CLAIM_TIMESTAMP);
    assert_int_equal(t->value.time, ts);
    check_str(t, "20260721111338Z");
    check_bytes(claim_at(ev, 0, 2, AVOW_CLAIM_AK_SPKI), ak1_spki.ptr, ak1_spki.len);
    check_bytes(claim_at(ev, 0, 3, AVOW_CLAIM_AK_SPKI), ak2_spki.ptr, ak2_spki.len);

    check_str(claim_at(ev, 1, 0, AVOW_CLAIM_VENDOR), "Acme Corp \xc3\xa9");
    check_bytes(claim_at(ev, 1, 1, AVOW_CLAIM_OEMID), oemid, sizeof(oemid));
    check_bytes(claim_at(ev, 1, 2, AVOW_CLAIM_HWMODEL), hwmodel, sizeof(hwmodel) - 1);
    check_str(claim_at(ev, 1, 3, AVOW_CLAIM_HWVERSION), "2.1.0");
    check_str(claim_at(ev, 1, 4, AVOW_CLAIM_HWSERIAL), "SN-0042");
    check_str(claim_at(ev, 1, 5, AVOW_CLAIM_SWNAME), "acme-fw");
    check_str(claim_at(ev, 1, 6, AVOW_CLAIM_SWVERSION), "7.3.1");
    assert_int_equal(claim_at(ev, 1, 7, AVOW_CLAIM_DBGSTAT)->value.integer, 3);
    assert_int_equal(claim_at(ev, 1, 8, AVOW_CLAIM_UPTIME)->value.integer, 86400);
    assert_true(claim_at(ev, 1, 9, AVOW_CLAIM_BOOTCOUNT)->value.integer == INT64_MAX);
    assert_int_equal(claim_at(ev, 1, 10, AVOW_CLAIM_FIPSBOOT)->value.integer, 1);
    check_str(claim_at(ev, 1, 11, AVOW_CLAIM_FIPSVER), "FIPS 140-3");
    assert_int_equal(claim_at(ev, 1, 12, AVOW_CLAIM_FIPSLEVEL)->value.integer, 4);
    check_str(claim_at(ev, 1, 13, AVOW_CLAIM_FIPSMODULE), "Acme HSM Module");

    check_str(claim_at(ev, 2, 0, AVOW_CLAIM_KEY_IDENTIFIER), "9a25f603-0000");
    check_str(claim_at(ev, 2, 1, AVOW_CLAIM_KEY_IDENTIFIER), "signing-key");
    check_bytes(claim_at(ev, 2, 2, AVOW_CLAIM_KEY_SPKI), k1_spki.ptr, k1_spki.len);
    assert_int_equal(claim_at(ev, 2, 3, AVOW_CLAIM_KEY_EXTRACTABLE)->value.integer, 0);
    assert_int_equal(claim_at(ev, 2, 4, AVOW_CLAIM_KEY_SENSITIVE)->value.integer, 1);
    assert_int_equal(claim_at(ev, 2, 5, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE)->value.integer, 1);
    assert_int_equal(claim_at(ev, 2, 6, AVOW_CLAIM_KEY_LOCAL)->value.integer, 1);
    assert_int_equal(claim_at(ev, 2, 7, AVOW_CLAIM_KEY_EXPIRY)->value.time, expiry);
    const avow_claim *p = claim_at(ev, 2, 8, AVOW_CLAIM_KEY_PURPOSE);
    assert_int_equal(p->value.npurposes, AVOW_CAP_COUNT_);
    const avow_oid *arc = &avow_evidence_get0_profile(ev)->evidence_arc;
    for (size_t i = 0; i < AVOW_CAP_COUNT_; i++) {
        assert_int_equal(p->value.purposes[i].cap, all_caps[i]);
        assert_int_equal(p->value.purposes[i].oid.len, arc->len + 2u);
        assert_memory_equal(p->value.purposes[i].oid.ptr, arc->der, arc->len);
        assert_int_equal(p->value.purposes[i].oid.ptr[arc->len], 2);
        assert_int_equal(p->value.purposes[i].oid.ptr[arc->len + 1], (int)i);
    }

    check_str(claim_at(ev, 3, 0, AVOW_CLAIM_KEY_IDENTIFIER), "85704b99-1111");
    check_bytes(claim_at(ev, 3, 1, AVOW_CLAIM_KEY_SPKI), k2_spki.ptr, k2_spki.len);
    assert_int_equal(claim_at(ev, 3, 2, AVOW_CLAIM_KEY_EXTRACTABLE)->value.integer, 1);

    /* find_claim looks in the first element of the claim's kind */
    assert_ptr_equal(avow_evidence_find_claim(ev, AVOW_CLAIM_FIPSLEVEL),
                     &avow_evidence_get0_element(ev, 1)->claims[12]);
    assert_null(avow_evidence_find_claim(ev, AVOW_CLAIM_UNKNOWN));
}

/* Decode (strict), compare the re-encoding byte for byte; *out owned by the caller. */
static avow_evidence *roundtrip(const uint8_t *der, size_t len, const avow_profile *profile,
                                unsigned flags)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    memset(&d, 0, sizeof(d));
    avow_err rc = avow_evidence_decode(der, len, profile, flags, &ev, &d);
    if (rc != AVOW_OK)
        fail_msg("decode: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    TU_NO_OSSL_ERR();
    avow_buf again = {0};
    OK(avow_evidence_encode(ev, &again));
    assert_int_equal(again.len, len);
    assert_memory_equal(again.ptr, der, len);
    avow_buf_free(&again);
    TU_NO_OSSL_ERR();
    return ev;
}

static void test_all_claims_roundtrip(void **state)
{
    (void)state;
    avow_evidence *ev = build_all(NULL);
    check_all(ev); /* the builder's own index reads back the same */
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    TU_NO_OSSL_ERR();
    avow_evidence *back = roundtrip(der.ptr, der.len, NULL, 0);
    check_all(back);
    assert_int_equal(avow_evidence_signature_count(back), 0);
    assert_null(avow_evidence_get0_intermediates(back));
    /* tbs of an unsigned decoded Evidence is its first TLV */
    avow_view tbs = avow_evidence_tbs(back);
    assert_non_null(tbs.ptr);
    assert_true(tbs.len < der.len);
    avow_evidence_free(back);
    avow_evidence_free(ev);

    /* Signed, with a certificate and an intermediate: still byte-identical. */
    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(pki.ak_key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_signer_set1_cert(s, pki.ak, NULL));
    ev = build_all(NULL);
    OK(avow_evidence_add_intermediate(ev, pki.inter, NULL));
    avow_diag d;
    OK(avow_evidence_sign(ev, s, AVOW_SID_CERT, &d));
    OK(avow_evidence_sign(ev, s, AVOW_SID_KEYID, &d));
    OK(avow_evidence_sign(ev, s, AVOW_SID_SPKI, &d));
    TU_NO_OSSL_ERR();
    avow_buf sder = {0};
    OK(avow_evidence_encode(ev, &sder));
    back = roundtrip(sder.ptr, sder.len, NULL, 0);
    check_all(back);
    assert_int_equal(avow_evidence_signature_count(back), 3);
    assert_int_equal(avow_evidence_get0_signature(back, 0)->sid_kind, AVOW_SID_CERT);
    assert_int_equal(avow_evidence_get0_signature(back, 1)->sid_kind, AVOW_SID_KEYID);
    assert_int_equal(avow_evidence_get0_signature(back, 2)->sid_kind, AVOW_SID_SPKI);
    assert_int_equal(X509_cmp(avow_evidence_get0_signer_cert(back, 0), pki.ak), 0);
    assert_int_equal(sk_X509_num(avow_evidence_get0_intermediates(back)), 1);
    /* the tbs every signature covers is the one the builder signed */
    avow_view a = avow_evidence_tbs(ev), b = avow_evidence_tbs(back);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ptr, b.ptr, a.len);
    assert_memory_equal(sder.ptr + (sder.ptr[1] & 0x80 ? 2 + (sder.ptr[1] & 0x7f) : 2), b.ptr,
                        b.len);
    avow_evidence_free(back);

    avow_buf_free(&der);
    avow_buf_free(&sder);
    avow_evidence_free(ev);
    avow_signer_free(s);
    tu_pki_free(&pki);
    TU_NO_OSSL_ERR();
}

static void test_samples(void **state)
{
    (void)state;
    static const char *const good[] = {
        "pkix/head-9f03a1c/evidence1.der", "pkix/head-9f03a1c/evidence2.der",
        "pkix/tag-07/evidence1.der",       "pkix/tag-07/evidence2.der",
        "pkix/tag-07/evidence3.der",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        avow_buf b = tu_read_vector(good[i]);
        avow_evidence *ev = roundtrip(b.ptr, b.len, NULL, 0);
        assert_true(avow_evidence_signature_count(ev) >= 1);
        if (strstr(good[i], "tag-07") != NULL) {
            /* 1.2.3.999 is not the default arc: every element is unknown, kept raw */
            for (size_t e = 0; e < avow_evidence_element_count(ev); e++) {
                const avow_element *el = avow_evidence_get0_element(ev, e);
                assert_int_equal(el->kind, AVOW_ELEMENT_UNKNOWN);
                for (size_t c = 0; c < el->nclaims; c++)
                    assert_int_equal(el->claims[c].value.type, AVOW_VALUE_RAW);
            }
        }
        avow_evidence_free(ev);
        avow_buf_free(&b);
    }

    /* evidence1: what the .pp dump shows */
    avow_buf b = tu_read_vector("pkix/head-9f03a1c/evidence1.der");
    avow_evidence *ev = roundtrip(b.ptr, b.len, NULL, 0);
    const avow_claim *c = avow_evidence_find_claim(ev, AVOW_CLAIM_NONCE);
    assert_non_null(c);
    check_bytes(c, nonce, sizeof(nonce));
    c = avow_evidence_find_claim(ev, AVOW_CLAIM_TIMESTAMP);
    assert_int_equal(c->value.time, ts);
    check_str(avow_evidence_find_claim(ev, AVOW_CLAIM_VENDOR), "Acme Corp");
    check_str(avow_evidence_find_claim(ev, AVOW_CLAIM_HWMODEL), "HSM-9000");
    assert_int_equal(avow_evidence_find_claim(ev, AVOW_CLAIM_FIPSBOOT)->value.integer, 1);
    assert_int_equal(avow_evidence_find_claim(ev, AVOW_CLAIM_FIPSLEVEL)->value.integer, 3);
    assert_int_equal(avow_evidence_find_claim(ev, AVOW_CLAIM_UPTIME)->value.integer, 86400);
    assert_int_equal(avow_evidence_get0_signature(ev, 0)->sid_kind, AVOW_SID_KEYID);
    assert_int_equal(avow_evidence_get0_signature(ev, 0)->key_id.len, 20);
    avow_evidence_free(ev);
    avow_buf_free(&b);

    /* evidence2: two keys, certificate signer, one intermediate */
    b = tu_read_vector("pkix/head-9f03a1c/evidence2.der");
    ev = roundtrip(b.ptr, b.len, NULL, 0);
    size_t keys = 0;
    for (size_t e = 0; e < avow_evidence_element_count(ev); e++)
        keys += avow_evidence_get0_element(ev, e)->kind == AVOW_ELEMENT_KEY;
    assert_int_equal(keys, 2);
    c = avow_evidence_find_claim(ev, AVOW_CLAIM_KEY_PURPOSE);
    assert_non_null(c);
    assert_int_equal(c->value.npurposes, 1);
    assert_int_equal(c->value.purposes[0].cap, AVOW_CAP_SIGN);
    assert_int_equal(avow_evidence_get0_signature(ev, 0)->sid_kind, AVOW_SID_CERT);
    assert_non_null(avow_evidence_get0_signer_cert(ev, 0));
    assert_int_equal(sk_X509_num(avow_evidence_get0_intermediates(ev)), 1);
    avow_evidence_free(ev);
    avow_buf_free(&b);

    /* evidence3: two platform elements */
    b = tu_read_vector("pkix/head-9f03a1c/evidence3.der");
    ev = (avow_evidence *)&ev;
    avow_diag d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(avow_evidence_decode(b.ptr, b.len, NULL, 0, &ev, &d), AVOW_ERR_DUP_ELEMENT);
    assert_null(ev);
    assert_true(d.field[0] != '\0');
    TU_NO_OSSL_ERR();
    avow_buf_free(&b);

    /* The PEM files carry the same DER. */
    for (int i = 1; i <= 3; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "pkix/head-9f03a1c/evidence%d.pem", i);
        avow_buf pem = tu_read_vector(rel);
        snprintf(rel, sizeof(rel), "pkix/head-9f03a1c/evidence%d.der", i);
        avow_buf der = tu_read_vector(rel);
        avow_buf out = {0};
        OK(avow_unarmor(pem.ptr, pem.len, AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE, &out,
                        &d));
        assert_int_equal(out.len, der.len);
        assert_memory_equal(out.ptr, der.ptr, der.len);
        avow_buf_free(&out);
        avow_buf_free(&pem);
        avow_buf_free(&der);
    }
    TU_NO_OSSL_ERR();
}

static void test_profile_arc(void **state)
{
    (void)state;
    avow_profile p;
    avow_diag d;
    avow_profile_default(&p);
    OK(avow_profile_set(&p, "1.3.6.1.4.1.99999.1", NULL, &d));
    avow_evidence *ev = build_all(&p);
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence_free(ev);

    /* under its own arc: every value as built */
    ev = roundtrip(der.ptr, der.len, &p, 0);
    check_all(ev);
    avow_evidence_free(ev);

    /* under the default arc: only unknown elements and claims, kept raw and intact */
    ev = roundtrip(der.ptr, der.len, NULL, 0);
    assert_int_equal(avow_evidence_element_count(ev), 4);
    for (size_t e = 0; e < 4; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        assert_int_equal(el->kind, AVOW_ELEMENT_UNKNOWN);
        for (size_t c = 0; c < el->nclaims; c++) {
            assert_int_equal(el->claims[c].id, AVOW_CLAIM_UNKNOWN);
            assert_int_equal(el->claims[c].value.type, AVOW_VALUE_RAW);
        }
    }
    assert_null(avow_evidence_find_claim(ev, AVOW_CLAIM_NONCE));
    avow_evidence_free(ev);
    avow_buf_free(&der);

    /* the tag-07 samples under their own arc: context-tagged values where universal types belong */
    avow_profile old;
    avow_profile_default(&old);
    OK(avow_profile_set(&old, "1.2.3.999", NULL, &d));
    for (int i = 1; i <= 3; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "pkix/tag-07/evidence%d.der", i);
        avow_buf b = tu_read_vector(rel);
        ev = (avow_evidence *)&ev;
        memset(&d, 0, sizeof(d));
        assert_int_equal(avow_evidence_decode(b.ptr, b.len, &old, 0, &ev, &d), AVOW_ERR_CLAIM_TYPE);
        assert_null(ev);
        assert_non_null(strstr(d.field, ".value"));
        TU_NO_OSSL_ERR();
        avow_buf_free(&b);
    }
    /* a text that is not an OID */
    assert_int_equal(avow_profile_set(&p, "1.3.six", NULL, &d), AVOW_ERR_OID);
    TU_NO_OSSL_ERR();
}

static void expect_add(avow_err got, avow_err want)
{
    if (got != want)
        fail_msg("got %s, expected %s", avow_errname(got), avow_errname(want));
    TU_NO_OSSL_ERR();
}

static void test_builder_rejects(void **state)
{
    (void)state;
    avow_evidence *ev = NULL;
    avow_diag d;
    size_t tx, pl, key, key2;
    OK(avow_evidence_new(NULL, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key, NULL));

    /* wrong type: nonce is an OCTET STRING */
    expect_add(avow_evidence_add_int(ev, tx, AVOW_CLAIM_NONCE, 1, &d), AVOW_ERR_CLAIM_TYPE);
    expect_add(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_FIPSLEVEL, "3", &d), AVOW_ERR_CLAIM_TYPE);
    /* claim in the wrong element */
    expect_add(avow_evidence_add_utf8(ev, tx, AVOW_CLAIM_VENDOR, "Acme", &d), AVOW_ERR_CLAIM_PLACE);
    expect_add(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_NONCE, nonce, 8, &d),
               AVOW_ERR_CLAIM_PLACE);
    /* repeated non-repeatable claim */
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, nonce, 8, &d));
    expect_add(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, nonce, 4, &d), AVOW_ERR_DUP_CLAIM);
    /* ak-spki repeats, but one key only once */
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, ak1_spki.ptr, ak1_spki.len, &d));
    expect_add(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, ak1_spki.ptr, ak1_spki.len, &d),
               AVOW_ERR_DUP_CLAIM);
    /* ranges */
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 5, &d), AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_FIPSLEVEL, 0, &d), AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_DBGSTAT, 5, &d), AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_UPTIME, -1, &d), AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_BOOTCOUNT, INT64_MIN, &d),
               AVOW_ERR_CLAIM_VALUE);
    /* spki that is not an SPKI */
    static const uint8_t notspki[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    expect_add(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_KEY_SPKI, notspki, sizeof(notspki), &d),
               AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_AK_SPKI, nonce, sizeof(nonce), &d),
               AVOW_ERR_CLAIM_VALUE);
    /* invalid UTF-8 */
    expect_add(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme \xff", &d),
               AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "\xc0\xaf", &d),
               AVOW_ERR_CLAIM_VALUE);
    /* value-less claims are for requests */
    avow_value none = {.type = AVOW_VALUE_BYTES, .present = 0};
    expect_add(avow_evidence_add_claim(ev, tx, AVOW_CLAIM_TIMESTAMP, &none, &d),
               AVOW_ERR_CLAIM_TYPE);
    none.type = AVOW_VALUE_TIME;
    expect_add(avow_evidence_add_claim(ev, tx, AVOW_CLAIM_TIMESTAMP, &none, &d),
               AVOW_ERR_VALUE_MISSING);
    /* unknown capability, no such element */
    avow_capability bad = AVOW_CAP_UNKNOWN;
    expect_add(avow_evidence_add_purposes(ev, key, &bad, 1, &d), AVOW_ERR_CLAIM_VALUE);
    expect_add(avow_evidence_add_int(ev, 42, AVOW_CLAIM_UPTIME, 1, &d), AVOW_ERR_ARG);
    /* a refused claim leaves nothing behind */
    assert_int_equal(avow_evidence_get0_element(ev, tx)->nclaims, 2);
    assert_int_equal(avow_evidence_get0_element(ev, pl)->nclaims, 0);
    assert_int_equal(avow_evidence_get0_element(ev, key)->nclaims, 0);

    /* a key element without identifier cannot be encoded */
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme", &d));
    OK(avow_evidence_add_bytes(ev, key, AVOW_CLAIM_KEY_SPKI, k1_spki.ptr, k1_spki.len, &d));
    avow_buf der = {0};
    expect_add(avow_evidence_encode(ev, &der), AVOW_ERR_MISSING_CLAIM);
    assert_null(der.ptr);
    OK(avow_evidence_add_utf8(ev, key, AVOW_CLAIM_KEY_IDENTIFIER, "k1", &d));
    /* a second key element for the same key: same identifier, or same spki */
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &key2, NULL));
    expect_add(avow_evidence_add_utf8(ev, key2, AVOW_CLAIM_KEY_IDENTIFIER, "k1", &d),
               AVOW_ERR_DUP_KEY);
    OK(avow_evidence_add_utf8(ev, key2, AVOW_CLAIM_KEY_IDENTIFIER, "k2", &d));
    expect_add(avow_evidence_add_bytes(ev, key2, AVOW_CLAIM_KEY_SPKI, k1_spki.ptr, k1_spki.len, &d),
               AVOW_ERR_DUP_KEY);
    /* a second platform element */
    size_t pl2 = 0;
    expect_add(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl2, NULL),
               AVOW_ERR_DUP_ELEMENT);
    OK(avow_evidence_encode(ev, &der));
    avow_evidence *back = roundtrip(der.ptr, der.len, NULL, 0);
    avow_evidence_free(back);
    avow_buf_free(&der);

    /* after signing, claims are frozen */
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(signkey, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_SPKI, &d));
    expect_add(avow_evidence_add_int(ev, pl, AVOW_CLAIM_UPTIME, 1, &d), AVOW_ERR_STATE);
    size_t more;
    avow_diag_clear(&d);
    expect_add(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &more, &d), AVOW_ERR_STATE);
    assert_int_equal(d.code, AVOW_ERR_STATE);
    assert_string_equal(d.field, "element");
    /* another signature is still fine */
    OK(avow_evidence_sign(ev, s, AVOW_SID_KEYID, &d));
    assert_int_equal(avow_evidence_signature_count(ev), 2);
    avow_signer_free(s);
    avow_evidence_free(ev);

    /* a decoded Evidence is read-only too */
    avow_buf b = tu_read_vector("pkix/head-9f03a1c/evidence1.der");
    OK(avow_evidence_decode(b.ptr, b.len, NULL, 0, &ev, &d));
    expect_add(avow_evidence_add_int(ev, 1, AVOW_CLAIM_BOOTCOUNT, 1, &d), AVOW_ERR_STATE);
    avow_evidence_free(ev);
    avow_buf_free(&b);

    /* an empty Evidence cannot be encoded: reportedElements needs one element */
    OK(avow_evidence_new(NULL, &ev));
    expect_add(avow_evidence_encode(ev, &der), AVOW_ERR_EMPTY);
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, NULL, NULL));
    expect_add(avow_evidence_encode(ev, &der), AVOW_ERR_EMPTY);
    avow_evidence_free(ev);
    avow_evidence_free(NULL);
}

static void test_pem(void **state)
{
    (void)state;
    avow_evidence *ev = build_all(NULL);
    avow_buf der = {0}, pem = {0}, back = {0};
    avow_diag d;
    OK(avow_evidence_encode(ev, &der));
    avow_evidence_free(ev);
    OK(avow_armor(der.ptr, der.len, AVOW_EVIDENCE_PEM_LABEL, &pem));
    assert_int_equal(pem.ptr[pem.len], '\0');
    assert_non_null(strstr((const char *)pem.ptr, "-----BEGIN EVIDENCE-----\n"));
    assert_non_null(strstr((const char *)pem.ptr, "-----END EVIDENCE-----\n"));
    OK(avow_unarmor(pem.ptr, pem.len, AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE, &back, &d));
    assert_int_equal(back.len, der.len);
    assert_memory_equal(back.ptr, der.ptr, der.len);
    avow_buf_free(&back);
    /* DER passes through unchanged */
    OK(avow_unarmor(der.ptr, der.len, AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE, &back, &d));
    assert_int_equal(back.len, der.len);
    assert_memory_equal(back.ptr, der.ptr, der.len);
    avow_buf_free(&back);
    /* wrong label */
    memset(&d, 0, sizeof(d));
    assert_int_equal(
        avow_unarmor(pem.ptr, pem.len, "CERTIFICATE", AVOW_EVIDENCE_MAX_SIZE, &back, &d),
        AVOW_ERR_PEM);
    assert_null(back.ptr);
    assert_true(d.field[0] != '\0');
    /* bad base64 */
    char *s = (char *)pem.ptr;
    char *body = strchr(s, '\n') + 1;
    body[3] = '*';
    assert_int_equal(
        avow_unarmor(pem.ptr, pem.len, AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE, &back, &d),
        AVOW_ERR_PEM);
    /* over the limit */
    assert_int_equal(avow_unarmor(pem.ptr, pem.len, AVOW_EVIDENCE_PEM_LABEL, 16, &back, &d),
                     AVOW_ERR_TOO_LARGE);
    TU_NO_OSSL_ERR();
    avow_buf_free(&pem);
    avow_buf_free(&der);
}

/* Armour that used to be read loosely: refused with its own words. */
static void test_pem_strict(void **state)
{
    (void)state;
    static const struct {
        const char *what, *text;
        avow_err code;
        const char *detail; /* part of the expected detail */
    } cases[] = {
        {"empty body", "-----BEGIN EVIDENCE-----\n-----END EVIDENCE-----\n", AVOW_ERR_PEM, "empty"},
        {"blank body", "-----BEGIN EVIDENCE-----\n \r\n\t\n-----END EVIDENCE-----\n", AVOW_ERR_PEM,
         "empty"},
        {"two blocks",
         "-----BEGIN EVIDENCE-----\nMAA=\n-----END EVIDENCE-----\n"
         "-----BEGIN EVIDENCE-----\nMAA=\n-----END EVIDENCE-----\n",
         AVOW_ERR_TRAILING, "second PEM block"},
        {"a certificate after the block",
         "-----BEGIN EVIDENCE-----\nMAA=\n-----END EVIDENCE-----\nchain:\n"
         "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
         AVOW_ERR_TRAILING, "second PEM block"},
        {"padding inside", "-----BEGIN EVIDENCE-----\nMA==MAAA\n-----END EVIDENCE-----\n",
         AVOW_ERR_PEM, "padding"},
        {"padding only", "-----BEGIN EVIDENCE-----\n====\n-----END EVIDENCE-----\n", AVOW_ERR_PEM,
         "padding"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avow_buf out = {0};
        avow_diag d;
        memset(&d, 0, sizeof(d));
        avow_err rc = avow_unarmor((const uint8_t *)cases[i].text, strlen(cases[i].text),
                                   AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE, &out, &d);
        if (rc != cases[i].code || strstr(d.detail, cases[i].detail) == NULL)
            fail_msg("%s: %s (%s: %s)", cases[i].what, avow_errname(rc), d.field, d.detail);
        assert_int_equal(d.code, rc);
        assert_string_equal(d.field, "pem");
        assert_null(out.ptr);
    }
    /* Text around one block is still fine (openssl x509 -text writes some). */
    static const char ok[] = "Evidence of 2 bytes\n-----BEGIN EVIDENCE-----\nMAA=\n"
                             "-----END EVIDENCE-----\ntrailing words\n";
    avow_buf out = {0};
    OK(avow_unarmor((const uint8_t *)ok, strlen(ok), AVOW_EVIDENCE_PEM_LABEL,
                    AVOW_EVIDENCE_MAX_SIZE, &out, NULL));
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.ptr, "\x30\x00", 2);
    avow_buf_free(&out);
    TU_NO_OSSL_ERR();
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        avow_err code;
        const char *name;
    } all[] = {
#define AVOW_TEST_ERR_(name, num, msg) {name, #name},
        AVOW_ERRORS(AVOW_TEST_ERR_)
#undef AVOW_TEST_ERR_
    };
    size_t n = sizeof(all) / sizeof(all[0]);
    for (size_t i = 0; i < n; i++) {
        const char *msg = avow_strerror(all[i].code);
        assert_non_null(msg);
        assert_string_not_equal(msg, "unknown error");
        assert_non_null(avow_errname(all[i].code));
        assert_string_equal(avow_errname(all[i].code), all[i].name);
        for (size_t j = 0; j < i; j++) {
            assert_true(all[i].code != all[j].code);
            assert_string_not_equal(msg, avow_strerror(all[j].code));
        }
    }
    assert_string_equal(avow_strerror((avow_err)12345), "unknown error");
    assert_null(avow_errname((avow_err)12345));
    /* the numbers are part of the ABI */
    assert_int_equal(AVOW_ERR_TRUNCATED, 100);
    assert_int_equal(AVOW_ERR_UNSIGNED, 200);
    assert_int_equal(AVOW_ERR_CRYPTO, 300);
    assert_int_equal(AVOW_ERR_INTERNAL, 900);
}

static void test_claim_table(void **state)
{
    (void)state;
    for (int i = 0; i < AVOW_CLAIM_COUNT_; i++) {
        const avow_claim_info *info = avow_claim_info_get((avow_claim_id)i);
        assert_non_null(info);
        assert_int_equal(info->id, i);
        assert_ptr_equal(avow_claim_info_by_name(info->name), info);
        assert_int_equal(info->repeatable,
                         i == AVOW_CLAIM_AK_SPKI || i == AVOW_CLAIM_KEY_IDENTIFIER);
    }
    assert_null(avow_claim_info_get(AVOW_CLAIM_UNKNOWN));
    assert_null(avow_claim_info_by_name("nope"));
    for (int i = 0; i < AVOW_CAP_COUNT_; i++)
        assert_int_equal(avow_capability_by_name(avow_capability_name((avow_capability)i)), i);
}

static int setup(void **state)
{
    (void)state;
    ak1 = tu_key_ec("P-256");
    ak2 = tu_key_ec("P-384");
    k1 = tu_key_ed25519();
    k2 = tu_key_ec("P-256");
    signkey = tu_key_ec("P-256");
    ak1_spki = tu_spki(ak1);
    ak2_spki = tu_spki(ak2);
    k1_spki = tu_spki(k1);
    k2_spki = tu_spki(k2);
    ts = tu_utc(2026, 7, 21, 11, 13, 38);
    expiry = tu_utc(2031, 12, 31, 23, 59, 59);
    ERR_clear_error();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    avow_buf_free(&ak1_spki);
    avow_buf_free(&ak2_spki);
    avow_buf_free(&k1_spki);
    avow_buf_free(&k2_spki);
    EVP_PKEY_free(ak1);
    EVP_PKEY_free(ak2);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(signkey);
    return 0;
}

/*
 * The one IMPLICIT tag of the schema: intermediateCertificates [0] must be
 * constructed. OpenSSL reads a primitive 0x80 there too (found by the fuzzer:
 * it decoded, then re-encoded as 0xA0).
 */
static void test_implicit_tag_form(void **state)
{
    (void)state;
    avow_buf b = tu_read_vector("pkix/head-9f03a1c/evidence2.der");
    uint8_t tag;
    size_t h, n, th, tn, sh, sn;
    assert_int_equal(avow__der_header(b.ptr, b.len, &tag, &h, &n), AVOW_OK);
    assert_int_equal(avow__der_header(b.ptr + h, n, &tag, &th, &tn), AVOW_OK);
    size_t off = h + th + tn;
    assert_int_equal(avow__der_header(b.ptr + off, b.len - off, &tag, &sh, &sn), AVOW_OK);
    off += sh + sn;
    assert_int_equal(b.ptr[off], 0xa0);
    b.ptr[off] = 0x80;
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_evidence_decode(b.ptr, b.len, NULL, 0, &ev, &d), AVOW_ERR_NOT_DER);
    assert_null(ev);
    assert_string_equal(d.field, "intermediateCertificates");
    TU_NO_OSSL_ERR();
    avow_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_claims_roundtrip),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_profile_arc),
        cmocka_unit_test(test_builder_rejects),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_pem_strict),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_claim_table),
        cmocka_unit_test(test_implicit_tag_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
