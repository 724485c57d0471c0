/* What the cmd_csr*.c files share: the command entry points and helpers of `avow csr`. */
#ifndef AVOW_CLI_CSR_CMDS_H
#define AVOW_CLI_CSR_CMDS_H

#include <avow/pkcs11.h>
#include <avow/request.h>
#include <avow/signer.h>

#include "cli/opts.h"

extern const cli_opt cli_csr_create_opts[];
extern const cli_opt cli_csr_verify_opts[];
int cli_csr_create(const char *prog, const cli_args *a);
int cli_csr_verify(const char *prog, const cli_args *a);

/*
 * A signer for `key`: a private key file, or a pkcs11: URI signing in the
 * token (the module stays loaded in *mod; free it after the signer).
 */
avow_err cli_csr_signer(const cli_args *a, const char *opt, const char *key, int pss,
                        avow_p11_module **mod, avow_signer **out, avow_diag *d);

/* The request of -in (PEM or DER, PKCS#10 or CRMF). */
avow_err cli_csr_load(const cli_args *a, avow_request **req, avow_diag *d);

#endif
