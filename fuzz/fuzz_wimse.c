/*
 * libFuzzer target for the WIMSE relying party (avow_wimse_verify): the
 * input is up to four lines: the header values Workload-Identity-Token,
 * Workload-Proof-Token and a second Workload-Identity-Token, then the
 * request's access token (for ath); an empty line is an absent one. Trusted: the
 * EAR key of the fuzz set-up as the WIT issuer; the clock is FZ_NOW, so the
 * seeds (fuzz/make-seeds) pass and mutations reach every check. Each line
 * also goes through the Workload Identifier check. Whatever passes must
 * name a valid identifier and a key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/wimse.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_setup *s = fz_get();
    if (size > 4 * AVOW_WIMSE_MAX_TOKEN)
        return 0;
    char *part[4];
    char *text = fz_lines(data, size, part, 4);
    if (text == NULL)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (part[i] == NULL)
            continue;
        avow_buf td = {0};
        avow_err ic = avow_wimse_identifier_check(part[i], strlen(part[i]), NULL, &td, NULL);
        FZ_CHECK((ic == AVOW_OK) == (td.ptr != NULL));
        avow_buf_free(&td);
    }
    const char *wit[2] = {part[0] != NULL ? part[0] : part[2], part[2]};
    avow_wimse_request q;
    avow_wimse_request_init(&q);
    q.wit = wit;
    q.n_wit = (part[0] != NULL) + (part[2] != NULL);
    q.wpt = (const char *const *)&part[1];
    q.n_wpt = part[1] != NULL;
    q.access_token = part[3];
    EVP_PKEY *keys[1] = {s->ear_key};
    avow_wimse_verify_opts o;
    avow_wimse_verify_opts_init(&o);
    o.issuer_pkeys = keys;
    o.n_issuer_pkeys = 1;
    o.audience = "https://svc.example.org/api";
    o.now = (int64_t)FZ_NOW;
    o.flags = (size & 2) ? AVOW_WIMSE_REQUIRE_ISS : 0;
    avow_wimse_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_wimse_verify(&q, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_wimse_result_status(r) == rc);
    avow_buf js = {0};
    FZ_CHECK(avow_wimse_result_to_json(r, &js, NULL) == AVOW_OK && fz_text_ok(&js));
    avow_buf_free(&js);
    if (rc == AVOW_OK) {
        const char *id = avow_wimse_result_identifier(r);
        FZ_CHECK(id != NULL && avow_wimse_result_get0_key(r) != NULL);
        FZ_CHECK(avow_wimse_identifier_check(id, strlen(id), NULL, NULL, NULL) == AVOW_OK);
    } else {
        FZ_CHECK(d.code == rc && d.field[0] != '\0');
    }
    avow_wimse_result_free(r);
    free(text);
    return 0;
}
