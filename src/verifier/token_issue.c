/*
 * The key binding and the outputs of the token issuers (token_issue.h).
 * Keys are compared as keys, not encodings: a client may send its JWK, the
 * appraisal knows the SPKI.
 */
#include <openssl/x509.h>

#include "verifier/token_issue.h"

int avow__token_same_key(avow_view spki, EVP_PKEY *key)
{
    if (spki.ptr == NULL || spki.len == 0 || spki.len > 1u << 20 || key == NULL)
        return 0;
    const unsigned char *p = spki.ptr;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)spki.len);
    int eq = k != NULL && p == spki.ptr + spki.len && EVP_PKEY_eq(k, key) == 1;
    EVP_PKEY_free(k);
    avow__ossl_clear();
    return eq;
}

void avow__token_outputs_clear(avow_buf *out, avow_appraisal **ap)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (ap != NULL)
        *ap = NULL;
}

void avow__token_appraisal_out(avow_appraisal *a, avow_appraisal **ap)
{
    if (ap != NULL)
        *ap = a;
    else
        avow_appraisal_free(a);
}
