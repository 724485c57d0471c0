/*
 * libFuzzer target for the claims JSON reader behind `avow evidence create
 * -claims` and the path its Evidence takes: whatever it accepts must encode
 * to Evidence that the strict decoder reads back to the same bytes; signed
 * with the fixed AK (setup.h), it must stay the same Evidence through
 * encode and decode, and go through verification against the fuzz CA, the
 * default and the rich policy, and the EAR.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_get();
    return 0;
}

/* DER of ev, which must decode to the same bytes. */
static avow_evidence *round_trip(const avow_evidence *ev, avow_buf *der)
{
    FZ_CHECK(avow_evidence_encode(ev, der) == AVOW_OK);
    avow_evidence *back = NULL;
    /* the builder made what the decoder refuses? */
    FZ_CHECK(avow_evidence_decode(der->ptr, der->len, NULL, 0, &back, NULL) == AVOW_OK);
    avow_buf again = {0};
    FZ_CHECK(avow_evidence_encode(back, &again) == AVOW_OK && again.len == der->len &&
             memcmp(again.ptr, der->ptr, der->len) == 0);
    avow_buf_free(&again);
    return back;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_setup *s = fz_get();
    avow_evidence *ev = NULL;
    FZ_CHECK(avow_evidence_new(NULL, &ev) == AVOW_OK);
    if (avow_evidence_add_claims_json(ev, (const char *)data, size, NULL) == AVOW_OK) {
        avow_buf der = {0};
        avow_evidence *back = NULL;
        /* an Evidence with no element does not encode */
        if (avow_evidence_encode(ev, &der) == AVOW_OK) {
            avow_buf_free(&der);
            back = round_trip(ev, &der);
            avow_evidence_free(back);
            avow_buf_free(&der);
            FZ_CHECK(avow_evidence_sign(ev, s->ak_signer, AVOW_SID_CERT, NULL) == AVOW_OK);
            back = round_trip(ev, &der);
            avow_verify_opts vo = {
                .size = sizeof(avow_verify_opts), .nonce = FZ_NONCE, .nonce_len = sizeof(FZ_NONCE)};
            avow_evidence_result *r = NULL;
            avow_err rc = avow_verify_evidence(s->v_anchor, back, &vo, &r, NULL);
            fz_check_result(back, r, rc);
            fz_appraise(&r->claims, rc, NULL, r->nonce, 1, 1);
            avow_evidence_result_free(r);
            avow_evidence_free(back);
            avow_buf_free(&der);
        }
    }
    avow_evidence_free(ev);
    FZ_CHECK(ERR_peek_error() == 0);
    return 0;
}
