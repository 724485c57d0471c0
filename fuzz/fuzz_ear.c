/*
 * libFuzzer target for the EAR readers: the JSON reader (both claim-name
 * generations) and the JWT verifier. A parsed EAR must write as JSON that
 * reads back and writes the same again. The input as a token goes to the JWT
 * verifier with the fixed EAR key of setup.h (the seeds' JWTs are signed
 * with it, so a payload that verifies goes on to the JSON reader) and with a
 * key that signed nothing here, which must never accept.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static EVP_PKEY *stranger;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_get();
    if ((stranger = EVP_EC_gen("P-256")) == NULL)
        abort();
    return 0;
}

static void read_json(const char *json, size_t len)
{
    avow_ear *ear = NULL;
    avow_diag d;
    avow_err rc = avow_ear_from_json(json, len, &ear, &d);
    if (rc == AVOW_OK) {
        FZ_CHECK(ear != NULL && ear->nsubmods > 0 && ear->nsubmods <= AVOW_EAR_MAX_SUBMODS);
        fz_check_ear(ear, 0);
        avow_ear_free(ear);
    } else {
        FZ_CHECK(ear == NULL && d.code == rc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_json((const char *)data, size);
    avow_buf payload = {0};
    avow_err rc = avow_ear_verify_jwt((const char *)data, size, fz_get()->ear_key, FZ_NOW, 60,
                                      &payload, NULL);
    if (rc == AVOW_OK) {
        FZ_CHECK(fz_text_ok(&payload));
        read_json((const char *)payload.ptr, payload.len);
    }
    avow_buf_free(&payload);
    /* nothing here was signed with this key */
    FZ_CHECK(avow_ear_verify_jwt((const char *)data, size, stranger, FZ_NOW, 60, &payload, NULL) !=
             AVOW_OK);
    avow_buf_free(&payload);
    FZ_CHECK(ERR_peek_error() == 0);
    return 0;
}
