/*
 * The combined form (docs/kat.md): a PSA token (RFC 9783) carried inside
 * PKIX Evidence as the AVOW_OID_PLATFORM_TOKEN claim, under the Evidence's
 * signature. The PKIX row hands it to the id-pe-cmw row; it becomes a
 * statement of its own whose psa:* claims a policy names, bound by the
 * outer nonce (or, with AVOW_VERIFY_NESTED_BY_SIGNER, the hash of the
 * outer signer). Each refusal has its code; the EAR names the binding.
 * Real keys and tokens throughout: the IAK and AK are fresh P-256 keys.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <avow/cmw.h>
#include <avow/cose.h>
#include <avow/kat.h>
#include <avow/psa.h>
#include <avow/request.h>
#include <avow/request_verify.h>

#include "core/der.h"
#include "core/internal.h"
#include "psa_make.h"

static const uint8_t NONCE[32] = {0x5a, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                  16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

typedef struct fx {
    EVP_PKEY *iak, *ak, *subj, *stranger;
    avow_buf subj_spki;
    avow_buf pkix_oid;
    avow_verifier *v;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->iak = tu_key_ec("P-256");
    f->ak = tu_key_ec("P-256");
    f->subj = tu_key_ec("P-256");
    f->stranger = tu_key_ec("P-256");
    f->subj_spki = tu_spki(f->subj);
    avow_profile p;
    avow_profile_default(&p);
    f->pkix_oid.ptr = OPENSSL_memdup(p.evidence_arc.der, p.evidence_arc.len);
    f->pkix_oid.len = p.evidence_arc.len;
    OK(avow_verifier_new(NULL, &f->v));
    /* The AK as a raw trusted key; the IAK found by the instance id derived from it. */
    OK(avow_verifier_add_key(f->v, NULL, 0, f->ak, NULL));
    OK(avow_verifier_add_key(f->v, NULL, 0, f->iak, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->iak);
    EVP_PKEY_free(f->ak);
    EVP_PKEY_free(f->subj);
    EVP_PKEY_free(f->stranger);
    avow_buf_free(&f->subj_spki);
    avow_buf_free(&f->pkix_oid);
    free(f);
    return 0;
}

/* A PSA token (psa_make.h claims, secured) with nonce, signed by key (whose derived instance id
 * it names). */
static avow_buf psa_token(EVP_PKEY *key, const uint8_t *nonce, size_t nlen)
{
    avow_buf tok = {0};
    tu_psa_claims c = {nonce, nlen, NULL, 0, 0x3000};
    OK(tu_psa_token(key, &c, &tok, NULL));
    return tok;
}

/*
 * PKIX Evidence signed by the AK with nonce, attesting the subject key, carrying token
 * (NULL: none) under media type (NULL: the PSA token's).
 */
static avow_buf evidence(fx *f, const uint8_t *nonce, size_t nlen, const avow_buf *token,
                         const char *media)
{
    avow_evidence *ev = NULL;
    size_t t = 0, k = 0;
    OK(avow_evidence_new(NULL, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL));
    OK(avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, nonce, nlen, NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL));
    OK(avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "k1", NULL));
    OK(avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, f->subj_spki.ptr, f->subj_spki.len,
                               NULL));
    if (token != NULL)
        OK(avow_evidence_add_platform_token(ev, media, token->ptr, token->len, NULL));
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->ak, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_SPKI, NULL));
    avow_signer_free(s);
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence_free(ev);
    return der;
}

/* A request of one statement, the Evidence ev, for the subject key (possession proven). */
static void request_of(fx *f, const avow_buf *ev, avow_statement_in *in, avow_statements_in *si)
{
    *in = (avow_statement_in){{f->pkix_oid.ptr, f->pkix_oid.len}, {ev->ptr, ev->len}};
    avow_statements_in_init(si);
    si->nstatements = 1;
    si->statements = in;
    si->key.ptr = f->subj_spki.ptr;
    si->key.len = f->subj_spki.len;
    si->possession = AVOW_OK;
}

static avow_verification *run_reg(fx *f, const avow_buf *ev, unsigned flags,
                                  const avow_registry *reg, avow_err want)
{
    avow_statement_in in;
    avow_statements_in si;
    request_of(f, ev, &in, &si);
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    o.verify_flags = flags;
    o.registry = reg;
    avow_verification *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_statements_verify(f->v, &si, &o, &r, &d);
    if (rc != want)
        print_error("want %s, got %s (%s: %s)\n", avow_errname(want), avow_errname(rc), d.field,
                    d.detail);
    assert_int_equal(rc, want);
    assert_non_null(r);
    return r;
}

static avow_verification *run(fx *f, const avow_buf *ev, unsigned flags, avow_err want)
{
    return run_reg(f, ev, flags, NULL, want);
}

static avow_err st(const avow_verification *r, size_t i)
{
    return avow_statement_result_status(avow_verification_get0(r, i));
}

static const char *detail(const avow_verification *r, size_t i)
{
    return avow_statement_result_detail(avow_verification_get0(r, i));
}

static const char POLICY[] =
    "{\"name\":\"pkix-key-psa-platform\",\"rules\":["
    "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\",\"required\":true},"
    "{\"id\":\"psa-fresh\",\"claim\":\"psa:nonce\",\"present\":true,\"required\":true}]}";

/* Appraises ev under POLICY; returns the EAR JSON (the caller's) and the status. */
static avow_err appraise_with(fx *f, const avow_buf *ev, unsigned flags, const char *policy,
                              avow_buf *ear)
{
    avow_statement_in in;
    avow_statements_in si;
    request_of(f, ev, &in, &si);
    avow_policy *pol = NULL;
    OK(avow_policy_parse(policy, strlen(policy), &pol, NULL));
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.policy = pol;
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    o.verify_flags = flags;
    avow_appraisal *a = NULL;
    avow_err rc = avow_appraise(f->v, &si, &o, &a, NULL);
    assert_true(rc == AVOW_OK || rc == AVOW_ERR_NOT_AFFIRMING);
    assert_non_null(a);
    OK(avow_ear_to_json(avow_appraisal_get0_ear(a), ear, NULL));
    assert_int_equal(avow_appraisal_status(a), rc);
    avow_appraisal_free(a);
    avow_policy_free(pol);
    return rc;
}

static avow_err appraise(fx *f, const avow_buf *ev, unsigned flags, avow_buf *ear)
{
    return appraise_with(f, ev, flags, POLICY, ear);
}

static void test_affirms(void **state)
{
    fx *f = *state;
    avow_buf tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    avow_verification *r = run(f, &ev, 0, AVOW_OK);
    assert_int_equal(avow_verification_count(r), 2);
    assert_int_equal(avow_verification_verified(r), 2);
    const avow_statement_result *in = avow_verification_get0(r, 1);
    assert_string_equal(avow_statement_result_type_name(in), "id-pe-cmw");
    size_t outer = 9, to = 9;
    const char *field = NULL, *how = NULL;
    assert_int_equal(avow_statement_result_nested_in(in, &outer, &field), 1);
    assert_int_equal(outer, 0);
    assert_non_null(strstr(field, "(platform-token)"));
    assert_int_equal(avow_statement_result_linked_to(in, &to, &how), 1);
    assert_int_equal(to, 0);
    assert_string_equal(how, "nested: nonce = the outer nonce");
    assert_int_equal(avow_statement_result_nested_in(avow_verification_get0(r, 0), NULL, NULL), 0);
    /* Its claims are the PSA token's, the nonce checked against the outer one. */
    const avow_claimset *cs = avow_statement_result_get0_claims(in);
    assert_non_null(avow_claimset_find(cs, NULL, "lifecycle", NULL));
    assert_int_equal(avow_statement_result_nonce_state(in), AVOW_NONCE_MATCH);
    assert_int_equal(avow_verification_binding(r), AVOW_OK);
    avow_buf vj = {0}, txt = {0};
    OK(avow_verification_to_json(r, &vj, NULL));
    assert_non_null(strstr((char *)vj.ptr, "\"nested_in\": 0"));
    assert_non_null(strstr((char *)vj.ptr, "\"nested_at\": \"tbs.reportedElements["));
    avow_buf_free(&vj);
    /* The Evidence's own result text says where its platform token went. */
    avow_evidence *dec = NULL;
    avow_evidence_result *er = NULL;
    avow_verify_opts vo;
    avow_verify_opts_init(&vo);
    OK(avow_evidence_decode(ev.ptr, ev.len, NULL, 0, &dec, NULL));
    OK(avow_verify_evidence(f->v, dec, &vo, &er, NULL));
    OK(avow_evidence_result_to_text(er, &txt));
    assert_non_null(strstr((char *)txt.ptr, "(platform token: verified as a nested statement)"));
    avow_buf_free(&txt);
    avow_evidence_result_free(er);
    avow_evidence_free(dec);
    avow_verification_free(r);

    /* The policy needs psa claims: affirming with the nested token, and the EAR shows the link. */
    avow_buf ear = {0};
    OK(appraise(f, &ev, 0, &ear));
    assert_non_null(strstr((char *)ear.ptr, "\"avow_binding\":\"nested\""));
    assert_non_null(strstr((char *)ear.ptr, "\"avow_binds\":\"pkix-evidence\""));
    avow_ear *back = NULL;
    OK(avow_ear_from_json((char *)ear.ptr, ear.len, &back, NULL));
    int seen = 0;
    for (size_t i = 0; i < back->nsubmods; i++)
        if (back->submods[i].binds != NULL) {
            assert_string_equal(back->submods[i].binds, "pkix-evidence");
            assert_string_equal(back->submods[i].binding, AVOW_EAR_BINDING_NESTED);
            seen++;
        }
    assert_int_equal(seen, 1);
    avow_ear_free(back);
    avow_buf_free(&ear);
    /* The same Evidence without the token: the psa rules are not met. */
    avow_buf bare = evidence(f, NONCE, sizeof(NONCE), NULL, NULL);
    assert_int_equal(appraise(f, &bare, 0, &ear), AVOW_ERR_NOT_AFFIRMING);
    assert_null(strstr((char *)ear.ptr, "avow_binds"));
    avow_buf_free(&ear);
    avow_buf_free(&bare);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    TU_NO_OSSL_ERR();
}

/* Flips the last byte of a token: the r||s of its signature. */
static void test_bad_signature(void **state)
{
    fx *f = *state;
    avow_buf tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    tok.ptr[tok.len - 1] ^= 0x01;
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    avow_verification *r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_equal(avow_verification_count(r), 2);
    assert_int_equal(st(r, 0), AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_SIG_INVALID);
    assert_non_null(strstr(detail(r, 0), "(platform-token)"));
    assert_non_null(strstr(detail(r, 0), "AVOW_ERR_SIG_INVALID"));
    assert_non_null(strstr(detail(r, 1), "(platform-token)"));
    assert_non_null(strstr(avow_verification_detail(r), "statement 0 (pkix-evidence)"));
    avow_verification_free(r);
    /* Outer Evidence that fails on its own (another nonce than the request's): its reason, and
     * nothing nested is read. */
    uint8_t other[32];
    memset(other, 0x33, sizeof(other));
    avow_buf ev2 = evidence(f, other, sizeof(other), &tok, NULL);
    r = run(f, &ev2, 0, AVOW_ERR_NONCE_MISMATCH);
    assert_int_equal(st(r, 0), AVOW_ERR_NONCE_MISMATCH);
    assert_int_equal(avow_verification_count(r), 1);
    avow_verification_free(r);
    avow_buf_free(&ev2);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    /* A token by an IAK the verifier does not know. */
    tok = psa_token(f->stranger, NONCE, sizeof(NONCE));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_KEY_UNKNOWN);
    avow_buf ear = {0};
    assert_int_equal(appraise(f, &ev, 0, &ear), AVOW_ERR_NOT_AFFIRMING);
    assert_non_null(strstr((char *)ear.ptr, "AVOW_ERR_NESTED"));
    avow_buf_free(&ear);
    avow_verification_free(r);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
}

static void test_binding(void **state)
{
    fx *f = *state;
    /* The token answers another challenge than the Evidence's. */
    uint8_t other[32];
    memset(other, 0x6b, sizeof(other));
    avow_buf tok = psa_token(f->iak, other, sizeof(other));
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    avow_verification *r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_NONCE_MISMATCH);
    assert_non_null(strstr(detail(r, 1), "not the signed nonce of the statement it is nested in"));
    avow_verification_free(r);
    avow_buf_free(&ev);

    /* By signer: the token's nonce is the SHA-256 of the AK's SubjectPublicKeyInfo. */
    avow_buf ak = tu_spki(f->ak);
    uint8_t h[32];
    OK(avow_kat_link_nonce(ak.ptr, ak.len, sizeof(h), h));
    avow_buf_free(&tok);
    tok = psa_token(f->iak, h, sizeof(h));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    r = run(f, &ev, AVOW_VERIFY_NESTED_BY_SIGNER, AVOW_OK);
    const char *how = NULL;
    assert_int_equal(avow_statement_result_linked_to(avow_verification_get0(r, 1), NULL, &how), 1);
    assert_string_equal(how, "nested: nonce = sha-256(outer signer spki)");
    assert_int_equal(avow_statement_result_nonce_state(avow_verification_get0(r, 1)),
                     AVOW_NONCE_NOT_CHECKED);
    avow_verification_free(r);
    avow_buf ear = {0};
    OK(appraise(f, &ev, AVOW_VERIFY_NESTED_BY_SIGNER, &ear));
    assert_non_null(strstr((char *)ear.ptr, "\"avow_binding\":\"nested\""));
    avow_buf_free(&ear);
    /* ... which the default (the outer nonce) refuses, */
    r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_NONCE_MISMATCH);
    avow_verification_free(r);
    avow_buf_free(&ev);
    /* and a token bound by the outer nonce is not bound by the signer. */
    avow_buf_free(&tok);
    tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    r = run(f, &ev, AVOW_VERIFY_NESTED_BY_SIGNER, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_NONCE_MISMATCH);
    assert_non_null(strstr(detail(r, 1), "signed the statement it is nested in"));
    avow_verification_free(r);
    avow_buf_free(&ev);
    /* The hash of the attested key is not the signer's. */
    avow_buf_free(&tok);
    OK(avow_kat_link_nonce(f->subj_spki.ptr, f->subj_spki.len, sizeof(h), h));
    tok = psa_token(f->iak, h, sizeof(h));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    r = run(f, &ev, AVOW_VERIFY_NESTED_BY_SIGNER, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_NONCE_MISMATCH);
    avow_verification_free(r);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    avow_buf_free(&ak);
}

/*
 * A policy's "linked" (a platform token must bind the signer of the Evidence):
 * a nested token bound by the signer's key does; one bound by the nonce says
 * the platform is fresh, not that it holds the attestation key, and does not.
 */
static void test_linked_policy(void **state)
{
    fx *f = *state;
    static const char LINKED[] =
        "{\"name\":\"pkix-linked\",\"statements\":{\"linked\":[\"pkix-evidence\"]},\"rules\":["
        "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\",\"required\":"
        "true}]}";
    avow_buf ak = tu_spki(f->ak);
    uint8_t h[32];
    OK(avow_kat_link_nonce(ak.ptr, ak.len, sizeof(h), h));
    avow_buf tok = psa_token(f->iak, h, sizeof(h));
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    avow_buf ear = {0};
    OK(appraise_with(f, &ev, AVOW_VERIFY_NESTED_BY_SIGNER, LINKED, &ear));
    assert_non_null(strstr((char *)ear.ptr, "\"avow_binding\":\"nested\""));
    avow_buf_free(&ear);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    assert_int_equal(appraise_with(f, &ev, 0, LINKED, &ear), AVOW_ERR_NOT_AFFIRMING);
    assert_non_null(strstr((char *)ear.ptr, "AVOW_ERR_KAT_UNLINKED"));
    assert_non_null(strstr((char *)ear.ptr, "bound by its nonce, not by its signer"));
    avow_buf_free(&ear);
    /* without "linked" the same Evidence affirms */
    OK(appraise(f, &ev, 0, &ear));
    avow_buf_free(&ear);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    avow_buf_free(&ak);
}

static void test_malformed(void **state)
{
    fx *f = *state;
    avow_buf good = psa_token(f->iak, NONCE, sizeof(NONCE));
    /* Not CBOR; every truncation of a good token; a trailing byte. */
    avow_buf junk = {(uint8_t *)OPENSSL_strdup("not a token"), 11};
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &junk, NULL);
    avow_verification *r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_not_equal(st(r, 1), AVOW_OK);
    assert_int_not_equal(st(r, 1), AVOW_ERR_NESTED);
    assert_non_null(strstr(detail(r, 0), "(platform-token)"));
    avow_verification_free(r);
    avow_buf_free(&ev);
    avow_buf_free(&junk);
    for (size_t n = 1; n < good.len; n += 7) {
        avow_buf cut = {good.ptr, n};
        ev = evidence(f, NONCE, sizeof(NONCE), &cut, NULL);
        r = run(f, &ev, 0, AVOW_ERR_NESTED);
        assert_int_not_equal(st(r, 1), AVOW_OK);
        avow_verification_free(r);
        avow_buf_free(&ev);
    }
    /* A media type no row verifies: refused, not skipped. */
    ev = evidence(f, NONCE, sizeof(NONCE), &good, "text/plain");
    r = run(f, &ev, 0, AVOW_ERR_NESTED);
    assert_int_equal(st(r, 1), AVOW_ERR_STATEMENT_TYPE);
    avow_verification_free(r);
    avow_buf_free(&ev);
    /* The outer signature broken: nothing nested is looked at. */
    ev = evidence(f, NONCE, sizeof(NONCE), &good, NULL);
    ev.ptr[ev.len - 1] ^= 0x01;
    r = run(f, &ev, 0, AVOW_ERR_SIG_INVALID);
    assert_int_equal(avow_verification_count(r), 1);
    avow_verification_free(r);
    avow_buf_free(&ev);
    avow_buf_free(&good);
}

static void test_builder(void **state)
{
    fx *f = *state;
    avow_buf tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    avow_evidence *ev = NULL;
    size_t t = 0;
    avow_diag d = {0};
    OK(avow_evidence_new(NULL, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL));
    OK(avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, NONCE, sizeof(NONCE), NULL));
    assert_int_equal(avow_evidence_add_platform_token(ev, NULL, tok.ptr, 0, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_add_platform_token(ev, "no type", tok.ptr, tok.len, &d),
                     AVOW_ERR_MEDIA_TYPE);
    OK(avow_evidence_add_platform_token(ev, NULL, tok.ptr, tok.len, NULL));
    /* the platform element was made for it */
    assert_int_equal(avow_evidence_element_count(ev), 2);
    assert_int_equal(avow_evidence_get0_element(ev, 1)->kind, AVOW_ELEMENT_PLATFORM);
    assert_int_equal(avow_evidence_add_platform_token(ev, NULL, tok.ptr, tok.len, &d),
                     AVOW_ERR_DUP_CLAIM);
    assert_string_equal(d.field, "platform-token");
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->ak, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_SPKI, NULL));
    avow_signer_free(s);
    assert_int_equal(avow_evidence_add_platform_token(ev, NULL, tok.ptr, tok.len, &d),
                     AVOW_ERR_STATE);
    /* It reads back through the decoder as the claim it was written as; the text names it. */
    avow_buf der = {0}, text = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence *back = NULL;
    OK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &back, NULL));
    OK(avow_evidence_to_text(back, &text));
    assert_non_null(
        strstr((char *)text.ptr, "platform-token (avow) (" AVOW_OID_PLATFORM_TOKEN ")"));
    avow_buf_free(&text);
    avow_evidence_free(back);
    avow_buf_free(&der);
    avow_evidence_free(ev);
    avow_buf_free(&tok);
}

/*
 * Nested twice: a caller's row reads a CMW of PKIX Evidence under id-pe-cmw
 * (a deployment could register one), so Evidence can carry Evidence that
 * carries a PSA token. The second level is refused, whatever it holds.
 */
static const avow_statement_type *pkix_builtin(void)
{
    for (size_t i = 0; i < avow_registry_builtin_count(); i++)
        if (strcmp(avow_registry_builtin(i)->name, "pkix-evidence") == 0)
            return avow_registry_builtin(i);
    fail();
    return NULL;
}

static avow_err cmw_pkix_decode(const avow_statement_type *row, const avow_profile *profile,
                                const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row;
    uint8_t tag = 0;
    size_t h = 0, b = 0;
    avow_err rc = avow__der_header(stmt, len, &tag, &h, &b);
    if (rc != AVOW_OK || tag != 0x04 || h + b != len)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "cmw", "want one OCTET STRING");
    avow_cmw *c = NULL;
    if ((rc = avow_cmw_decode(stmt + h, b, AVOW_CMW_FORM_CBOR, &c, diag)) != AVOW_OK)
        return rc;
    const avow_statement_type *p = pkix_builtin();
    rc = p->decode(p, profile, c->value.ptr, c->value.len, native, diag);
    avow_cmw_free(c);
    return rc;
}

static void test_depth(void **state)
{
    fx *f = *state;
    avow_statement_type row = *pkix_builtin();
    row.name = "cmw-pkix-evidence";
    row.oid_kind = AVOW_TYPE_OID_FIXED;
    OK(avow_oid_from_text(&row.oid, "1.3.6.1.5.5.7.1.35"));
    row.decode = cmw_pkix_decode;
    avow_registry *reg = NULL;
    OK(avow_registry_new(&reg));
    OK(avow_registry_add(reg, &row, NULL));

    avow_buf tok = psa_token(f->iak, NONCE, sizeof(NONCE));
    avow_buf inner = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    avow_buf outer = evidence(f, NONCE, sizeof(NONCE), &inner, "application/x-pkix-evidence");
    avow_verification *r = run_reg(f, &outer, 0, reg, AVOW_ERR_NESTED);
    /* The inner Evidence is verified (one level), its own token is not looked at. */
    assert_int_equal(avow_verification_count(r), 2);
    assert_string_equal(avow_statement_result_type_name(avow_verification_get0(r, 1)),
                        "cmw-pkix-evidence");
    assert_int_equal(st(r, 1), AVOW_ERR_NESTED);
    assert_non_null(strstr(detail(r, 1), "deeper than 1 level"));
    assert_int_equal(st(r, 0), AVOW_ERR_NESTED);
    avow_verification_free(r);
    /* One level of the same row is fine: Evidence in Evidence, nothing deeper. */
    avow_buf plain = evidence(f, NONCE, sizeof(NONCE), NULL, NULL);
    avow_buf_free(&outer);
    outer = evidence(f, NONCE, sizeof(NONCE), &plain, "application/x-pkix-evidence");
    r = run_reg(f, &outer, 0, reg, AVOW_OK);
    assert_int_equal(avow_verification_count(r), 2);
    avow_verification_free(r);
    avow_buf_free(&plain);
    avow_buf_free(&outer);
    avow_buf_free(&inner);
    avow_buf_free(&tok);
    avow_registry_free(reg);
}

/* `avow csr show` of a request carrying ev: its text and JSON (the caller's). */
static void show(fx *f, const avow_buf *ev, avow_buf *text, avow_buf *json)
{
    avow_request_builder *b = NULL;
    avow_signer *s = NULL;
    avow_buf der = {0};
    avow_request *r = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=combined", NULL));
    OK(avow_request_builder_add_evidence(b, NULL, ev->ptr, ev->len, NULL));
    OK(avow_signer_new_pkey(f->subj, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_request_builder_sign(b, s, &der, NULL));
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, NULL));
    OK(avow_request_to_text(r, NULL, NULL, text, NULL));
    OK(avow_request_to_json(r, NULL, NULL, json, NULL));
    assert_int_equal(strlen((const char *)text->ptr), text->len);
    avow_request_free(r);
    avow_buf_free(&der);
    avow_signer_free(s);
    avow_request_builder_free(b);
}

static int has(const avow_buf *b, const char *s)
{
    return strstr((const char *)b->ptr, s) != NULL;
}

static void test_show(void **state)
{
    fx *f = *state;
    avow_buf tok = psa_token(f->iak, NONCE, sizeof(NONCE)), text = {0}, json = {0};
    avow_buf ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    show(f, &ev, &text, &json);
    assert_true(has(&text, "      nested platform token [0] at tbs.reportedElements["));
    assert_true(has(&text, "        PSA attestation token (RFC 9783):"));
    assert_true(has(&text, ": nested, bound by nonce: nonce = the outer nonce\n"));
    assert_true(has(&json, "\"binding\": \"nested, bound by nonce\""));
    assert_true(has(&json, "\"psa\": {"));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_buf_free(&ev);
    avow_buf_free(&tok);

    /* The nonce the hash of the signer's SPKI (the Evidence names its signer by SPKI only). */
    avow_buf ak = tu_spki(f->ak);
    uint8_t h[32];
    assert_int_equal(EVP_Digest(ak.ptr, ak.len, h, NULL, EVP_sha256(), NULL), 1);
    tok = psa_token(f->iak, h, sizeof(h));
    ev = evidence(f, NONCE, sizeof(NONCE), &tok, NULL);
    show(f, &ev, &text, &json);
    /* No certificate names the signer: a bare SPKI binds nothing before a key set trusts it. */
    assert_true(has(&text, "nested, bound by neither nonce nor signer"));
    assert_true(has(&json, "\"key\": \"none\""));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_buf_free(&ev);
    avow_buf_free(&tok);
    avow_buf_free(&ak);

    /* Malformed nested bytes: not CBOR, every truncation, a media type no row reads. */
    avow_buf good = psa_token(f->iak, NONCE, sizeof(NONCE));
    for (size_t n = 1; n <= good.len; n += 5) {
        avow_buf cut = {good.ptr, n};
        ev = evidence(f, NONCE, sizeof(NONCE), &cut, n == good.len ? "text/plain" : NULL);
        show(f, &ev, &text, &json);
        assert_true(has(&text, "      nested platform token [0] at "));
        if (n < good.len) {
            assert_true(has(&text, "        does not decode: "));
            assert_true(has(&text, "nested, does not decode (not bound) (AVOW_ERR_"));
            assert_true(has(&json, "\"content_error\": {"));
            assert_true(has(&json, "\"decode_error\": \"AVOW_ERR_"));
        } else {
            assert_true(has(&text, "no verifier for this media type"));
            assert_true(has(&text, "media type \"text/plain\""));
        }
        avow_buf_free(&text);
        avow_buf_free(&json);
        avow_buf_free(&ev);
    }
    avow_buf_free(&good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_affirms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
