/* Stands in for tpm_signer.c in a build without AVOW_WITH_TPM. */
#include <avow/tpm.h>

#include "core/internal.h"

avow_err avow_tpm_signer_new(void *esys, uint32_t key, EVP_PKEY *pub, avow_sigalg alg,
                             avow_signer **out, avow_diag *diag)
{
    (void)esys, (void)key, (void)pub, (void)alg;
    if (out != NULL)
        *out = NULL;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "esys",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}
