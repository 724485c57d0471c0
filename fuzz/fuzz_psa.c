/*
 * libFuzzer target for the PSA attestation token and the COSE module: the
 * input as a token through the registry (decode, verify with the fixed
 * IAKs of fuzz/keys/, claims, text and JSON), the policy and the EAR on
 * its claims, and avow_appraise with a policy on psa: claims; and the
 * input as a bare COSE message, strict and tolerant, verified with each
 * key. Whatever verifies must have come from a key of the set-up, and
 * whatever the strict decoder accepts the tolerant one accepts too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The instance ids of the RFC 9783 examples (fuzz/corpus/psa/rfc9783-*). */
static const char SIGN1_ID[] = "010202020202020202020202020202020202020202020202020202020202020202";
static const char MAC0_ID[] = "01c557bd4fadc83f756fca2cd5ea2dcc8b82159bb4e7453d6a744d4eecd6d0ac60";

static const char POLICY[] =
    "{\"name\":\"fuzz-psa\",\"rules\":["
    "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\",\"required\":true},"
    "{\"id\":\"client\",\"claim\":\"psa:client-id\",\"min\":1},"
    "{\"id\":\"fresh\",\"claim\":\"psa:nonce\",\"present\":true,\"required\":true,"
    "\"when\":\"nonce-expected\"}]}";

typedef struct psa_fx {
    avow_verifier *v;
    EVP_PKEY *iak, *veraison;
    uint8_t hs[64];
    avow_oid oid;
    avow_policy *policy;
} psa_fx;

static EVP_PKEY *load_pub(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", AVOW_FUZZ_KEYS, name);
    FILE *f = fopen(path, "r");
    FZ_CHECK(f != NULL);
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    FZ_CHECK(k != NULL);
    return k;
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        FZ_CHECK(sscanf(h + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
}

static const psa_fx *fx(void)
{
    static psa_fx f;
    static int made;
    if (made)
        return &f;
    f.iak = load_pub("psa-iak.pub");
    f.veraison = load_pub("psa-veraison.pub");
    char path[512];
    snprintf(path, sizeof(path), "%s/psa-hs-iak.bin", AVOW_FUZZ_KEYS);
    FILE *hf = fopen(path, "rb");
    FZ_CHECK(hf != NULL && fread(f.hs, 1, sizeof(f.hs), hf) == sizeof(f.hs));
    fclose(hf);
    uint8_t id[AVOW_PSA_INSTANCE_ID_LEN];
    FZ_CHECK(avow_verifier_new(NULL, &f.v) == AVOW_OK);
    unhex(SIGN1_ID, id, sizeof(id));
    FZ_CHECK(avow_verifier_add_key(f.v, id, sizeof(id), f.iak, NULL) == AVOW_OK);
    unhex(MAC0_ID, id, sizeof(id));
    FZ_CHECK(avow_verifier_add_secret(f.v, id, sizeof(id), f.hs, sizeof(f.hs), NULL) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_key(f.v, NULL, 0, f.veraison, NULL) == AVOW_OK);
    FZ_CHECK(avow_oid_from_text(&f.oid, AVOW_OID_PSA_TOKEN) == AVOW_OK);
    FZ_CHECK(avow_policy_parse(POLICY, sizeof(POLICY) - 1, &f.policy, NULL) == AVOW_OK);
    made = 1;
    return &f;
}

static void as_token(const psa_fx *f, const uint8_t *data, size_t size, int with_nonce)
{
    static const uint8_t nonce[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = with_nonce ? nonce : NULL;
    o.nonce_len = with_nonce ? sizeof(nonce) : 0;
    avow_statement_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_statement_verify(f->v, NULL, f->oid.der, f->oid.len, data, size, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_statement_result_status(r) == rc);
    FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
    const avow_claimset *cs = avow_statement_result_get0_claims(r);
    if (rc == AVOW_OK) {
        /* A verified token has its nonce, every claim signed, and attests no key. */
        FZ_CHECK(avow_statement_result_nonce(r).len >= 32);
        FZ_CHECK(avow_statement_result_key_count(r) == 0);
        for (size_t i = 0; i < cs->count; i++)
            FZ_CHECK(cs->items[i].signed_by == 1 && cs->items[i].known);
    }
    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_statement_result_to_text(r, &text, NULL) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_statement_result_to_json(r, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);
    if (cs->count > 0)
        fz_appraise(cs, rc, avow_statement_result_detail(r), avow_statement_result_nonce_state(r),
                    with_nonce, 0);
    avow_statement_result_free(r);
}

static void appraise(const psa_fx *f, const uint8_t *data, size_t size)
{
    avow_statement_in st = {{f->oid.der, f->oid.len}, {data, size}};
    avow_statements_in in;
    fz_statements(&in, &st, 1);
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.policy = f->policy;
    o.now = FZ_NOW;
    avow_appraisal *a = NULL;
    avow_err rc = avow_appraise(f->v, &in, &o, &a, NULL);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(rc == AVOW_OK || rc == AVOW_ERR_NOT_AFFIRMING);
    FZ_CHECK(a != NULL && avow_appraisal_status(a) == rc);
    fz_check_ear(avow_appraisal_get0_ear(a), 0);
    avow_appraisal_free(a);
}

static void as_cose(const psa_fx *f, const uint8_t *data, size_t size)
{
    static const unsigned flags[] = {0, AVOW_COSE_TAGGED, AVOW_COSE_NON_PREFERRED};
    int strict_ok = 0;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        avow_cose_msg *m = NULL;
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = avow_cose_decode(data, size, AVOW_COSE_ANY, flags[i], &m, &d);
        FZ_CHECK(ERR_peek_error() == 0);
        if (rc != AVOW_OK) {
            FZ_CHECK(m == NULL && d.code == rc);
            /* The tolerant reading accepts what the strict one did. */
            FZ_CHECK(!(flags[i] == AVOW_COSE_NON_PREFERRED && strict_ok));
            continue;
        }
        if (flags[i] == 0)
            strict_ok = 1;
        FZ_CHECK(avow_cose_msg_tagged(m));
        if (avow_cose_msg_kind(m) == AVOW_COSE_SIGN1) {
            (void)avow_cose_verify_sign1(m, f->iak, NULL, 0, NULL);
            (void)avow_cose_verify_sign1(m, f->veraison, NULL, 0, NULL);
            FZ_CHECK(avow_cose_verify_mac0(m, f->hs, sizeof(f->hs), NULL, 0, NULL) ==
                     AVOW_ERR_COSE_ALG);
        } else {
            FZ_CHECK(avow_cose_msg_kind(m) == AVOW_COSE_MAC0);
            (void)avow_cose_verify_mac0(m, f->hs, sizeof(f->hs), NULL, 0, NULL);
            FZ_CHECK(avow_cose_verify_sign1(m, f->iak, NULL, 0, NULL) == AVOW_ERR_COSE_ALG);
        }
        ERR_clear_error();
        avow_cose_msg_free(m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    (void)fz_get();
    const psa_fx *f = fx();
    as_token(f, data, size, 0);
    as_token(f, data, size, 1);
    appraise(f, data, size);
    as_cose(f, data, size);
    return 0;
}
