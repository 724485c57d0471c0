/* What the cmd_csr*.c files share: the command entry points and helpers of `avow csr`. */
#ifndef AVOW_CLI_CSR_CMDS_H
#define AVOW_CLI_CSR_CMDS_H

#include <avow/appraise.h>
#include <avow/nonce.h>
#include <avow/request.h>

#include "cli/opts.h"

extern const cli_opt cli_csr_create_opts[];
extern const cli_opt cli_csr_verify_opts[];
int cli_csr_create(const char *prog, const cli_args *a);
int cli_csr_verify(const char *prog, const cli_args *a);

/* The request of -in (PEM or DER, PKCS#10 or CRMF). */
avow_err cli_csr_load(const cli_args *a, avow_request **req, avow_diag *d);

/*
 * What the commands that appraise an attested request share (csr verify,
 * oauth attest, wimse issue): the verifier of the profile and trust options,
 * -policy, -nonce (read into nonce), -nonce-db (a store that must exist:
 * `avow csr nonce` made it, a fresh one would know no nonce) and -any, all
 * set into o. *v, *policy and *store are the caller's to free, whatever is
 * returned.
 */
avow_err cli_appraisal_setup(const cli_args *a, avow_verifier **v, avow_policy **policy,
                             avow_nonce_store **store, uint8_t nonce[AVOW_NONCE_MAX_LEN],
                             avow_appraise_opts *o, avow_diag *d);

#endif
