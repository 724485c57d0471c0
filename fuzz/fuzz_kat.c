/*
 * libFuzzer target for the Key Attestation Token and its bundle: the input
 * as a CAB, split into its KAT and PAT and verified as one request (the
 * KAT row, the PSA row under the RFC 9783 IAK of fuzz/keys/, and the
 * second pass that links them), in both orders; and the input as a bare
 * KAT through the registry. A KAT that verifies must have a platform token
 * linked to it, and a bare KAT never verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <avow/kat.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The instance id of the RFC 9783 Sign1 example, which the KAT seeds' PATs carry. */
static const char SIGN1_ID[] = "010202020202020202020202020202020202020202020202020202020202020202";
/* The request nonce of the seeds (tests/unit/test_kat.c). */
static const uint8_t NONCE[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct kat_fx {
    avow_verifier *v;
    avow_oid psa, kat;
} kat_fx;

static const kat_fx *fx(void)
{
    static kat_fx f;
    static int made;
    if (made)
        return &f;
    char path[512];
    snprintf(path, sizeof(path), "%s/psa-iak.pub", AVOW_FUZZ_KEYS);
    FILE *kf = fopen(path, "r");
    FZ_CHECK(kf != NULL);
    EVP_PKEY *iak = PEM_read_PUBKEY(kf, NULL, NULL, NULL);
    fclose(kf);
    FZ_CHECK(iak != NULL);
    uint8_t id[AVOW_PSA_INSTANCE_ID_LEN];
    for (size_t i = 0; i < sizeof(id); i++) {
        unsigned v = 0;
        FZ_CHECK(sscanf(SIGN1_ID + 2 * i, "%2x", &v) == 1);
        id[i] = (uint8_t)v;
    }
    FZ_CHECK(avow_verifier_new(NULL, &f.v) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_key(f.v, id, sizeof(id), iak, NULL) == AVOW_OK);
    EVP_PKEY_free(iak);
    FZ_CHECK(avow_oid_from_text(&f.psa, AVOW_OID_PSA_TOKEN) == AVOW_OK);
    FZ_CHECK(avow_oid_from_text(&f.kat, AVOW_OID_KAT) == AVOW_OK);
    made = 1;
    return &f;
}

/* KAT and PAT as one request, the KAT at index kat_at (0 or 1). */
static void as_request(const kat_fx *f, const avow_buf *k, const avow_buf *p, size_t kat_at)
{
    avow_statement_in st[2];
    st[kat_at] = (avow_statement_in){{f->kat.der, f->kat.len}, {k->ptr, k->len}};
    st[1 - kat_at] = (avow_statement_in){{f->psa.der, f->psa.len}, {p->ptr, p->len}};
    avow_statements_in in;
    fz_statements(&in, st, 2);
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_verification *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_statements_verify(f->v, &in, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (r == NULL) {
        FZ_CHECK(rc != AVOW_OK);
        return;
    }
    FZ_CHECK(avow_verification_count(r) == 2);
    const avow_statement_result *kr = avow_verification_get0(r, kat_at);
    const avow_statement_result *pr = avow_verification_get0(r, 1 - kat_at);
    size_t to = 9;
    if (avow_statement_result_status(kr) == AVOW_OK) {
        /* a KAT is trusted only through the platform token that binds its KAK */
        FZ_CHECK(avow_statement_result_linked_to(pr, &to, NULL) == 1 && to == kat_at);
        FZ_CHECK(avow_statement_result_status(pr) == AVOW_OK);
    }
    if (avow_statement_result_linked_to(pr, &to, NULL))
        FZ_CHECK(to == kat_at);
    FZ_CHECK(avow_statement_result_linked_to(kr, NULL, NULL) == 0);
    avow_buf json = {0};
    FZ_CHECK(avow_verification_to_json(r, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&json);
    for (size_t i = 0; i < 2; i++) {
        avow_buf t = {0};
        FZ_CHECK(avow_statement_result_to_text(avow_verification_get0(r, i), &t, NULL) == AVOW_OK &&
                 fz_text_ok(&t));
        avow_buf_free(&t);
    }
    avow_verification_free(r);
}

static void as_kat(const kat_fx *f, const uint8_t *data, size_t size)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_statement_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_statement_verify(f->v, NULL, f->kat.der, f->kat.len, data, size, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_statement_result_status(r) == rc);
    FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_statement_result_to_text(r, &text, NULL) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_statement_result_to_json(r, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_statement_result_free(r);
    /* alone in a request, a KAT is never trusted */
    avow_statement_in st = {{f->kat.der, f->kat.len}, {data, size}};
    avow_statements_in in;
    fz_statements(&in, &st, 1);
    avow_verification_opts vo;
    avow_verification_opts_init(&vo);
    vo.nonce = NONCE;
    vo.nonce_len = sizeof(NONCE);
    avow_verification *v = NULL;
    rc = avow_statements_verify(f->v, &in, &vo, &v, NULL);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(rc != AVOW_OK);
    avow_verification_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    (void)fz_get();
    const kat_fx *f = fx();
    avow_buf k = {0}, p = {0};
    char *type = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_kat_bundle_split(data, size, &k, &p, &type, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc == AVOW_OK) {
        FZ_CHECK(k.len > 0 && p.len > 0 && type != NULL);
        as_request(f, &k, &p, 0);
        as_request(f, &k, &p, 1);
        as_kat(f, k.ptr, k.len);
    } else {
        FZ_CHECK(k.ptr == NULL && p.ptr == NULL && type == NULL && d.code == rc);
    }
    OPENSSL_free(type);
    avow_buf_free(&k);
    avow_buf_free(&p);
    as_kat(f, data, size);
    return 0;
}
