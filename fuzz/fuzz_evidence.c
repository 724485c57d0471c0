/*
 * libFuzzer target for the whole path hostile PKIX Evidence takes: decode
 * strictly and with the lenient flags (whatever decodes must re-encode to
 * the very same bytes and print as text and JSON), then verify it under the
 * fixed set-up (setup.h: the fuzz CA as trust anchor, and a key set), with
 * and without the seeds' nonce; check the result and its claim set; appraise
 * the claims with the default and a rich policy; build the EAR, write it as
 * JSON, read it back, and sign and verify it as a JWT. The OpenSSL error
 * queue stays empty throughout.
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

static void verify(const avow_evidence *ev, const avow_verifier *v, int with_nonce, unsigned flags,
                   int sign)
{
    avow_verify_opts opts = {.size = sizeof(avow_verify_opts), .flags = flags};
    if (with_nonce) {
        opts.nonce = FZ_NONCE;
        opts.nonce_len = sizeof(FZ_NONCE);
    }
    avow_evidence_result *r = NULL;
    avow_diag d;
    avow_err rc = avow_verify_evidence(v, ev, &opts, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
    fz_check_result(ev, r, rc);
    FZ_CHECK(!with_nonce || rc != AVOW_OK || r->nonce == AVOW_NONCE_MATCH);
    const char *detail = NULL;
    for (size_t i = 0; i < r->nsigs && detail == NULL; i++)
        if (r->sigs[i].status != AVOW_OK)
            detail = r->sigs[i].detail;
    fz_appraise(&r->claims, rc, detail, r->nonce, with_nonce, sign);
    avow_evidence_result_free(r);
    FZ_CHECK(ERR_peek_error() == 0);
}

static void one(const uint8_t *data, size_t size, unsigned flags)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_decode(data, size, NULL, flags, &ev, &d);
    FZ_CHECK(ERR_peek_error() == 0); /* the decoder left the OpenSSL queue dirty */
    if (rc != AVOW_OK) {
        /* a failure must reset *out and say where */
        FZ_CHECK(ev == NULL && d.field[0] != '\0' && d.code == rc);
        return;
    }
    avow_buf der = {0};
    /* accepted input is DER: it re-encodes byte for byte */
    FZ_CHECK(avow_evidence_encode(ev, &der) == AVOW_OK && der.len == size &&
             memcmp(der.ptr, data, size) == 0);
    avow_buf_free(&der);

    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_evidence_to_text(ev, &text) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_evidence_to_json(ev, &json) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);

    const fz_setup *s = fz_get();
    verify(ev, s->v_anchor, 1, 0, 1);
    verify(ev, s->v_anchor, 0, 0, 0);
    verify(ev, s->v_keys, 0, AVOW_VERIFY_ANY_SIGNATURE, flags == 0);
    avow_evidence_free(ev);
    FZ_CHECK(ERR_peek_error() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 0);
    one(data, size, AVOW_DECODE_EXPLICIT_INTERMEDIATES | AVOW_DECODE_ALLOW_VALUELESS);
    return 0;
}
