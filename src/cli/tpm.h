/* What cmd_tpm.c shares with "avow csr create -tpm": the TPM key files. */
#ifndef AVOW_CLI_TPM_H
#define AVOW_CLI_TPM_H

#include <stdint.h>

#include <openssl/evp.h>

#include <avow/tpm.h>

/* TCTI of -tpm when the option is given without one: the kernel's resource manager. */
#define CLI_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"

/* Loads the key of PREFIX.pub and PREFIX.priv into t; *pkey (may be NULL) gets its public key. */
avow_err cli_tpm_load(avow_tpm *t, const char *prefix, uint32_t *key, EVP_PKEY **pkey,
                      avow_diag *d);

#endif
