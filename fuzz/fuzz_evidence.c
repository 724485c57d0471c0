/*
 * libFuzzer target for the PKIX Evidence decoder: decode strictly and with
 * the lenient flags; whatever decodes must re-encode to the very same bytes,
 * print as text and JSON, and leave the OpenSSL error queue empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/evidence.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, unsigned flags)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_decode(data, size, NULL, flags, &ev, &d);
    if (ERR_peek_error() != 0)
        abort(); /* the decoder left the OpenSSL queue dirty */
    if (rc != AVOW_OK) {
        if (ev != NULL || d.field[0] == '\0' || d.code != rc)
            abort(); /* a failure must reset *out and say where */
        return;
    }
    avow_buf der = {0};
    if (avow_evidence_encode(ev, &der) != AVOW_OK || der.len != size ||
        memcmp(der.ptr, data, size) != 0)
        abort(); /* accepted input is DER: it re-encodes byte for byte */
    avow_buf_free(&der);

    avow_buf text = {0}, json = {0};
    if (avow_evidence_to_text(ev, &text) != AVOW_OK || text.ptr == NULL ||
        text.ptr[text.len] != '\0')
        abort();
    if (avow_evidence_to_json(ev, &json) != AVOW_OK || json.ptr == NULL ||
        json.ptr[json.len] != '\0')
        abort();
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_evidence_free(ev);
    if (ERR_peek_error() != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 0);
    one(data, size, AVOW_DECODE_EXPLICIT_INTERMEDIATES | AVOW_DECODE_ALLOW_VALUELESS);
    return 0;
}
