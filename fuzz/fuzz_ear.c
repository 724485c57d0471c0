/*
 * libFuzzer target for the EAR readers: the JSON reader (both claim-name
 * generations) and the JWT verifier. A parsed EAR must serialise again; the
 * JWT verifier, with a key that signed nothing here, must never accept.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <avow/ear.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL && (key = EVP_EC_gen("P-256")) == NULL)
        abort();
    avow_ear *ear = NULL;
    avow_diag d;
    avow_err rc = avow_ear_from_json((const char *)data, size, &ear, &d);
    if (rc == AVOW_OK) {
        avow_buf json = {0};
        if (avow_ear_to_json(ear, &json, NULL) != AVOW_OK)
            abort();
        avow_buf_free(&json);
        avow_ear_free(ear);
    } else if (ear != NULL || d.code != rc) {
        abort();
    }
    avow_buf payload = {0};
    if (avow_ear_verify_jwt((const char *)data, size, key, 0, 60, &payload, NULL) == AVOW_OK)
        abort(); /* nothing here was signed with this key */
    avow_buf_free(&payload);
    if (ERR_peek_error() != 0)
        abort();
    return 0;
}
