/* Stands in for attester/tpm_certify.c in a build without AVOW_WITH_TPM. */
#include <avow/tpm.h>

#include "core/internal.h"

avow_err avow_tpm_certify(void *esys, uint32_t key, uint32_t ak, const uint8_t *nonce,
                          size_t nonce_len, avow_buf *out, avow_diag *diag)
{
    (void)esys, (void)key, (void)ak, (void)nonce, (void)nonce_len;
    if (out != NULL)
        out->ptr = NULL, out->len = 0;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "esys",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}
