/*
 * psa_tool: a PSA attestation token (RFC 9783, 2023 profile) for the shell
 * tests, signed ES256 by a given IAK:
 *
 *   psa_tool IAK.pem NONCE_HEX LIFECYCLE OUT
 *
 * The claims are those of psa_make.h, the instance id the one derived from
 * the IAK. Exit 0 on success, 1 on failure, 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include <avow/avow.h>

#include "psa_make.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: psa_tool IAK.pem NONCE_HEX LIFECYCLE OUT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    EVP_PKEY *iak = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    uint8_t nonce[64];
    size_t nl = strlen(argv[2]) / 2;
    if (iak == NULL || nl < 32 || nl > 64 || strlen(argv[2]) % 2 != 0) {
        fprintf(stderr, "psa_tool: bad IAK or nonce\n");
        return 2;
    }
    for (size_t i = 0; i < nl; i++) {
        unsigned v;
        if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1)
            return 2;
        nonce[i] = (uint8_t)v;
    }
    unsigned long life = strtoul(argv[3], NULL, 0);
    tu_psa_claims c = {nonce, nl, NULL, 0, (unsigned)life};
    avow_buf tok = {0};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = tu_psa_token(iak, &c, &tok, &d);
    if (rc == AVOW_OK)
        rc = avow_write_file(argv[4], tok.ptr, tok.len, &d);
    if (rc != AVOW_OK)
        fprintf(stderr, "psa_tool: %s (%s) %s\n", avow_strerror(rc), avow_errname(rc), d.detail);
    avow_buf_free(&tok);
    EVP_PKEY_free(iak);
    return rc == AVOW_OK ? 0 : 1;
}
