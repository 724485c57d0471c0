/*
 * libFuzzer target for the WIMSE identifier policy (avow_wimse_idmap_parse):
 * the input is the JSON document; whatever loads (its claim names known to
 * the built-in vocabularies) is applied to the appraisal of a fixed
 * affirming request of the fuzz set-up, so the {claim} substitution and the
 * identifier check run on real claims. A refusal has its code in diag and
 * a field; an identifier that comes out must pass the Workload Identifier
 * check. The OpenSSL error queue stays empty throughout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/wimse.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static avow_appraisal *appraisal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static uint8_t buf[65536];
    char path[1024];
    snprintf(path, sizeof(path), "%s/../corpus/request/fz-csr-affirming.der", AVOW_FUZZ_KEYS);
    FILE *f = fopen(path, "rb");
    FZ_CHECK(f != NULL);
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    avow_request *req = NULL;
    FZ_CHECK(avow_request_decode(buf, n, AVOW_REQUEST_AUTO, 0, &req, NULL) == AVOW_OK);
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts),
                            .nonce = FZ_NONCE,
                            .nonce_len = sizeof(FZ_NONCE),
                            .now = FZ_NOW,
                            .build = "fuzz"};
    FZ_CHECK(avow_appraise_request(fz_get()->v_anchor, req, &o, &appraisal, NULL) == AVOW_OK);
    avow_request_free(req);
    ERR_clear_error();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_wimse_idmap *m = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_wimse_idmap_parse((const char *)data, size, NULL, &m, &d);
    FZ_CHECK((rc == AVOW_OK) == (m != NULL));
    if (rc != AVOW_OK) {
        FZ_CHECK(d.code == rc && d.field[0] != '\0');
    } else {
        avow_buf uri = {0};
        avow_diag_clear(&d);
        rc = avow_wimse_idmap_resolve(m, appraisal, &uri, &d);
        if (rc == AVOW_OK) {
            FZ_CHECK(uri.ptr != NULL && strlen((const char *)uri.ptr) == uri.len);
            /* Under its own scheme (the policy's list is the policy's): a valid identifier. */
            const char *colon = strchr((const char *)uri.ptr, ':');
            FZ_CHECK(colon != NULL);
            char scheme[AVOW_WIMSE_MAX_URI + 1];
            memcpy(scheme, uri.ptr, (size_t)(colon - (const char *)uri.ptr));
            scheme[colon - (const char *)uri.ptr] = '\0';
            const char *const schemes[] = {scheme, NULL};
            FZ_CHECK(avow_wimse_identifier_check((const char *)uri.ptr, uri.len, schemes, NULL,
                                                 NULL) == AVOW_OK);
        } else {
            FZ_CHECK(uri.ptr == NULL && d.code == rc && d.field[0] != '\0');
        }
        avow_buf_free(&uri);
        avow_wimse_idmap_free(m);
    }
    FZ_CHECK(ERR_peek_error() == 0);
    return 0;
}
