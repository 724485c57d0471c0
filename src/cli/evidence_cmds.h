/* The commands of "avow evidence", one file each, and what they share. */
#ifndef AVOW_CLI_EVIDENCE_CMDS_H
#define AVOW_CLI_EVIDENCE_CMDS_H

#include <avow/evidence.h>
#include <avow/profile.h>

#include "cli/io.h"
#include "cli/opts.h"

extern const cli_opt cli_evidence_create_opts[];
extern const cli_opt cli_evidence_verify_opts[];

int cli_evidence_create(const char *prog, const cli_args *a);
int cli_evidence_verify(const char *prog, const cli_args *a);

/*
 * The profile: compiled-in defaults, then $AVOW_EVIDENCE_ARC / $AVOW_AK_EKU,
 * then -arc / -eku (the flag wins). The command must declare "arc" and "eku".
 */
avow_err cli_evidence_profile(const cli_args *a, avow_profile *p, avow_diag *d);

/* The profile from -arc and the EKU option eku_opt (then $AVOW_EVIDENCE_ARC, $AVOW_AK_EKU). */
avow_err cli_profile_opts(const cli_args *a, const char *eku_opt, avow_profile *p, avow_diag *d);

/*
 * A verifier under p with the trust anchors of every -CAfile, the untrusted
 * certificates of every -certs, and the time of -at when the command has it.
 * *v is the caller's even on failure (avow_verifier_free).
 */
avow_err cli_verifier_from_args(const cli_args *a, const avow_profile *p, avow_verifier **v,
                                avow_diag *d);

/* Reads -in (PEM, DER, or auto by -inform) and decodes it strictly. */
avow_err cli_evidence_load(const cli_args *a, const avow_profile *p, avow_evidence **ev,
                           avow_diag *d);

#endif
