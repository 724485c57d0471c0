/*
 * libFuzzer target for the CMW rows (id-pe-cmw and the TCG DICE wrapper):
 * the input as the statement of either type through the registry, under a
 * verifier that trusts the fuzz EAR key for results (any age) and the
 * Veraison PSA IAK, with and without the seeds' nonce: decode, the route by
 * media type, the EAR checks or the PSA row, claims, text and JSON. A
 * verified result attests at most one key and all its claims are signed;
 * every failure names its field; the OpenSSL error queue stays empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t OID_CMW[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x23};
static const uint8_t OID_DICE[] = {0x67, 0x81, 0x05, 0x05, 0x04, 0x09};

static avow_verifier *verifier(void)
{
    static avow_verifier *v;
    if (v != NULL)
        return v;
    const fz_setup *s = fz_get();
    char path[512];
    snprintf(path, sizeof(path), "%s/psa-veraison.pub", AVOW_FUZZ_KEYS);
    FILE *f = fopen(path, "r");
    FZ_CHECK(f != NULL);
    EVP_PKEY *iak = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    FZ_CHECK(iak != NULL);
    FZ_CHECK(avow_verifier_new(NULL, &v) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_result_key(v, NULL, s->ear_key, NULL) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_key(v, NULL, 0, iak, NULL) == AVOW_OK);
    EVP_PKEY_free(iak);
    /* the seeds' results were made when they were; their age is not what is fuzzed */
    avow_verifier_set_result_max_age(v, 0xffffffffu);
    return v;
}

static void one(const uint8_t *oid, size_t oid_len, const uint8_t *data, size_t size, int nonce)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = nonce ? FZ_NONCE : NULL;
    o.nonce_len = nonce ? sizeof(FZ_NONCE) : 0;
    avow_statement_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_statement_verify(verifier(), NULL, oid, oid_len, data, size, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_statement_result_status(r) == rc);
    FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
    const avow_claimset *cs = avow_statement_result_get0_claims(r);
    if (rc == AVOW_OK) {
        FZ_CHECK(avow_statement_result_key_count(r) <= 1);
        for (size_t i = 0; i < cs->count; i++)
            FZ_CHECK(cs->items[i].signed_by == 1 && cs->items[i].known);
    }
    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_statement_result_to_text(r, &text, NULL) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_statement_result_to_json(r, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_statement_result_free(r);
    FZ_CHECK(ERR_peek_error() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    for (int nonce = 0; nonce <= 1; nonce++) {
        one(OID_CMW, sizeof(OID_CMW), data, size, nonce);
        one(OID_DICE, sizeof(OID_DICE), data, size, nonce);
    }
    return 0;
}
