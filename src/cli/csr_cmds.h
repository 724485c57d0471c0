/* What the cmd_csr*.c files share: the command entry points and helpers of `avow csr`. */
#ifndef AVOW_CLI_CSR_CMDS_H
#define AVOW_CLI_CSR_CMDS_H

#include <avow/request.h>

#include "cli/opts.h"

extern const cli_opt cli_csr_create_opts[];
extern const cli_opt cli_csr_verify_opts[];
int cli_csr_create(const char *prog, const cli_args *a);
int cli_csr_verify(const char *prog, const cli_args *a);

/* The request of -in (PEM or DER, PKCS#10 or CRMF). */
avow_err cli_csr_load(const cli_args *a, avow_request **req, avow_diag *d);

#endif
