/* Stands in for backend/tpm/tpm_keys.c in a build without AVOW_WITH_TPM. */
#include <avow/tpm.h>

#include "core/internal.h"

static avow_err off(avow_diag *diag)
{
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "tpm",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}

avow_err avow_tpm_open(const char *tcti, avow_tpm **out, avow_diag *diag)
{
    (void)tcti;
    if (out != NULL)
        *out = NULL;
    return off(diag);
}

void avow_tpm_free(avow_tpm *t)
{
    (void)t;
}

void *avow_tpm_get0_esys(const avow_tpm *t)
{
    (void)t;
    return NULL;
}

avow_err avow_tpm_keygen(avow_tpm *t, avow_tpm_key_kind kind, avow_tpm_key_type type, avow_buf *pub,
                         avow_buf *priv, avow_diag *diag)
{
    (void)t, (void)kind, (void)type;
    if (pub != NULL)
        pub->ptr = NULL, pub->len = 0;
    if (priv != NULL)
        priv->ptr = NULL, priv->len = 0;
    return off(diag);
}

avow_err avow_tpm_load(avow_tpm *t, const uint8_t *pub, size_t pub_len, const uint8_t *priv,
                       size_t priv_len, uint32_t *key, EVP_PKEY **pkey, avow_diag *diag)
{
    (void)t, (void)pub, (void)pub_len, (void)priv, (void)priv_len, (void)key;
    if (pkey != NULL)
        *pkey = NULL;
    return off(diag);
}

avow_err avow_tpm_key_check(const uint8_t *pub, size_t pub_len, const uint8_t *priv,
                            size_t priv_len, avow_diag *diag)
{
    (void)pub, (void)pub_len, (void)priv, (void)priv_len;
    return off(diag);
}
