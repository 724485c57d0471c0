/* The commands of "avow evidence", one file each, and what they share. */
#ifndef AVOW_CLI_EVIDENCE_CMDS_H
#define AVOW_CLI_EVIDENCE_CMDS_H

#include <avow/evidence.h>
#include <avow/profile.h>

#include "cli/io.h"
#include "cli/opts.h"

extern const cli_opt cli_evidence_create_opts[];
extern const cli_opt cli_evidence_verify_opts[];
extern const cli_opt cli_evidence_request_opts[];

int cli_evidence_create(const char *prog, const cli_args *a);
int cli_evidence_verify(const char *prog, const cli_args *a);
int cli_evidence_request(const char *prog, const cli_args *a);

struct avow_evidence_request;

/* Reads an attestation request (PEM "EVIDENCE REQUEST" or DER, by inform or detected) from path
 * and decodes it strictly. */
avow_err cli_request_load(const char *path, const char *inform, const avow_profile *p,
                          struct avow_evidence_request **req, avow_diag *d);

/*
 * The options of the profile, for the table of every command that reads or
 * writes Evidence: -arc and -ak-eku, and -eku refused with a pointer to
 * -ak-eku (in `ca issue`, -eku is the issued certificate's extendedKeyUsage,
 * so the attestation-key EKU has that one name everywhere).
 */
/* clang-format off */
#define CLI_PROFILE_OPTS                                                                           \
    {"arc", CLI_VALUE, "OID",                                                                      \
     "id-evidence arc (default: $AVOW_EVIDENCE_ARC or " AVOW_DEFAULT_EVIDENCE_ARC ")"},            \
    {"ak-eku", CLI_VALUE, "OID",                                                                   \
     "attestation-key EKU (default: $AVOW_AK_EKU or " AVOW_DEFAULT_AK_EKU ")"}
#define CLI_PROFILE_OPTS_REFUSE_EKU                                                                \
    CLI_PROFILE_OPTS,                                                                              \
    {"eku", CLI_RENAMED, "ak-eku", "the attestation-key EKU"}
/* clang-format on */

/*
 * The profile: compiled-in defaults, then $AVOW_EVIDENCE_ARC / $AVOW_AK_EKU,
 * then -arc / -ak-eku (the flag wins). The command must declare CLI_PROFILE_OPTS.
 */
avow_err cli_evidence_profile(const cli_args *a, avow_profile *p, avow_diag *d);

/*
 * The options that relax signature and chain checks, for the table of every
 * command that verifies Evidence (docs/design.md, "Signature and chain
 * strictness"); cli_verifier_from_args reads those a command declares.
 */
/* clang-format off */
#define CLI_VERIFY_STRICTNESS_OPTS                                                                 \
    {"any-ecdsa-hash", CLI_FLAG, NULL,                                                             \
     "accept an ECDSA hash that does not fit the curve (default: P-256 SHA-256, P-384 SHA-384, "   \
     "P-521 SHA-512)"},                                                                            \
    {"allow-ak-ca", CLI_FLAG, NULL,                                                                \
     "accept an attestation-key certificate with basicConstraints CA:TRUE"},                       \
    {"ignore-ca-eku", CLI_FLAG, NULL,                                                              \
     "do not require an intermediate's extendedKeyUsage to allow the attestation-key EKU"},        \
    {"nested-by-signer", CLI_FLAG, NULL,                                                           \
     "a platform token inside Evidence is bound by the hash of the Evidence signer's key, not "    \
     "by the Evidence's nonce"}

/* Keys for statements that are not PKIX Evidence: results (passport model) and PSA IAKs. */
#define CLI_RESULT_OPTS                                                                            \
    {"result-key", CLI_MULTI, "FILE",                                                              \
     "trusted verifier public key: an Attestation Result (EAR JWT) signed by it is accepted"},     \
    {"result-max-age", CLI_VALUE, "SECONDS",                                                       \
     "oldest EAR accepted when no nonce is expected (default: 300; 0 = require a nonce)"},         \
    {"iak", CLI_MULTI, "FILE",                                                                     \
     "trusted PSA Initial Attestation Key (public key file), found by the derived instance id"}
/* clang-format on */

/*
 * A verifier under p with the trust anchors of every -CAfile, the untrusted
 * certificates of every -certs, and, for the options the command declares,
 * the time of -at and the flags of -any, -ignore-ak-spki, -require-nonce and
 * CLI_VERIFY_STRICTNESS_OPTS, and the keys of CLI_RESULT_OPTS. *v is the caller's even on failure
 * (avow_verifier_free).
 */
avow_err cli_verifier_from_args(const cli_args *a, const avow_profile *p, avow_verifier **v,
                                avow_diag *d);

/* Reads -in (PEM, DER, or auto by -inform) and decodes it strictly. */
avow_err cli_evidence_load(const cli_args *a, const avow_profile *p, avow_evidence **ev,
                           avow_diag *d);

#endif
