/*
 * libFuzzer target for the claims JSON reader behind `avow evidence
 * create -claims`: whatever it accepts must encode to Evidence that the
 * strict decoder reads back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/evidence.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_evidence *ev = NULL;
    if (avow_evidence_new(NULL, &ev) != AVOW_OK)
        abort();
    if (avow_evidence_add_claims_json(ev, (const char *)data, size, NULL) == AVOW_OK) {
        avow_buf der = {0};
        if (avow_evidence_encode(ev, &der) == AVOW_OK) {
            avow_evidence *back = NULL;
            if (avow_evidence_decode(der.ptr, der.len, NULL, 0, &back, NULL) != AVOW_OK)
                abort(); /* the builder made what the decoder refuses */
            avow_buf again = {0};
            if (avow_evidence_encode(back, &again) != AVOW_OK || again.len != der.len ||
                memcmp(again.ptr, der.ptr, der.len) != 0)
                abort();
            avow_buf_free(&again);
            avow_evidence_free(back);
        }
        avow_buf_free(&der);
    }
    avow_evidence_free(ev);
    if (ERR_peek_error() != 0)
        abort();
    return 0;
}
