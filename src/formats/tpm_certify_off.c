/*
 * Stands in for formats/tpm_certify.c in a build without AVOW_WITH_TPM:
 * the row stays registered and says why it cannot read the statement.
 */
#include "core/internal.h"
#include "formats/tpm_int.h"

int avow_tpm_available(void)
{
    return 0;
}

const char *avow__tpm_hash_name(uint16_t alg)
{
    (void)alg;
    return NULL;
}

const char *avow__tpm_alg_name(uint16_t alg)
{
    (void)alg;
    return "unknown";
}

void avow__tpm_free(avow__tpm_certify *t)
{
    (void)t;
}

avow_err avow__tpm_decode(const uint8_t *stmt, size_t len, avow__tpm_certify **out, avow_diag *diag)
{
    (void)stmt, (void)len;
    if (out != NULL)
        *out = NULL;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "stmt",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}

avow_err avow_tpm_name(const uint8_t *pub, size_t pub_len, uint8_t *out, size_t cap, size_t *len,
                       avow_diag *diag)
{
    (void)pub, (void)pub_len, (void)out, (void)cap, (void)len;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "pub",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}

avow_err avow_tpm_certify_encode(const uint8_t *attest, size_t attest_len, const uint8_t *sig,
                                 size_t sig_len, const uint8_t *pub, size_t pub_len, avow_buf *out,
                                 avow_diag *diag)
{
    (void)attest, (void)attest_len, (void)sig, (void)sig_len, (void)pub, (void)pub_len;
    if (out != NULL)
        out->ptr = NULL, out->len = 0;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "attest",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}

avow_err avow_tpm_public_spki(const uint8_t *pub, size_t pub_len, avow_buf *spki, avow_diag *diag)
{
    (void)pub, (void)pub_len;
    if (spki != NULL)
        spki->ptr = NULL, spki->len = 0;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "pub",
                      "this avow was built without TPM support (AVOW_WITH_TPM=OFF)");
}
