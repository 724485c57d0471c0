/*
 * libFuzzer target for the tcg-attest-tpm-certify statement: the input as
 * a statement through the registry (decode through libtss2-mu, verify with
 * the fuzz PKI as anchors, claims, text and JSON), shown without verifying,
 * and the default policy on its claims; and the input as a bare
 * TPMT_PUBLIC for the name. Nothing here may verify: no TPM AK is trusted
 * by the set-up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <avow/tpm.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DER content octets of 2.23.133.20.1. */
static const uint8_t TPM_OID[] = {0x67, 0x81, 0x05, 0x14, 0x01};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_setup *s = fz_get();
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = FZ_NONCE;
    o.nonce_len = sizeof(FZ_NONCE);
    avow_statement_result *r = NULL;
    avow_err rc = avow_statement_verify(s->v_anchor, NULL, TPM_OID, sizeof(TPM_OID), data, size, &o,
                                        &r, NULL);
    FZ_CHECK(r != NULL);
    FZ_CHECK(rc != AVOW_OK);
    FZ_CHECK(avow_statement_result_key_count(r) == 0);
    avow_buf text = {0}, json = {0};
    if (avow_statement_result_to_text(r, &text, NULL) == AVOW_OK)
        FZ_CHECK(fz_text_ok(&text));
    if (avow_statement_result_to_json(r, &json, NULL) == AVOW_OK)
        FZ_CHECK(fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);
    const avow_claimset *cs = avow_statement_result_get0_claims(r);
    for (size_t i = 0; cs != NULL && i < cs->count; i++)
        FZ_CHECK(cs->items[i].signed_by == 0);
    avow_policy_report *rep = NULL;
    avow_err prc = avow_policy_eval(s->def, cs, NULL, &rep, NULL);
    /* Unsigned claims: the default policy can never be satisfied. */
    FZ_CHECK(prc != AVOW_OK);
    avow_policy_report_free(rep);
    avow_statement_result_free(r);

    for (int j = 0; j < 2; j++) {
        avow_buf out = {0};
        if (avow_statement_show(NULL, NULL, TPM_OID, sizeof(TPM_OID), data, size, j, &out, NULL) ==
            AVOW_OK)
            FZ_CHECK(fz_text_ok(&out));
        avow_buf_free(&out);
    }
    uint8_t name[2 + 64];
    size_t n = 0;
    if (avow_tpm_name(data, size, name, sizeof(name), &n, NULL) == AVOW_OK)
        FZ_CHECK(n >= 2 + 32 && n <= sizeof(name));
    return 0;
}
