/*
 * Key references shared by the commands that take them: a private key file
 * or a pkcs11: URI, and the token options (-pkcs11-module, -pin-source,
 * -pin). Tokens are reached through library calls only (avow_signer_open,
 * avow_p11_open).
 */
#ifndef AVOW_CLI_P11_H
#define AVOW_CLI_P11_H

#include <avow/err.h>
#include <avow/signer.h>

#include "cli/opts.h"

#define CLI_P11_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define CLI_P11_ENV_MODULE     "AVOW_PKCS11_MODULE"

/*
 * The module to load: the flag's value, else $AVOW_PKCS11_MODULE, else
 * SoftHSM2 when it is installed; NULL when none of them gives one.
 */
const char *cli_p11_module(const char *flag);

/* Whether text is a pkcs11: URI, which the library takes as a token key. */
int cli_is_p11_uri(const char *text);

/* The token options of a command. */
typedef struct cli_p11 {
    const char *module;   /* cli_p11_module(-pkcs11-module); NULL when there is none */
    const char *pin_spec; /* -pin-source, or "pass:" and -pin; NULL: the URI's own PIN */
    char *pin_buf;        /* owns the "pass:" spec of -pin; cleansed by cli_p11_clear */
} cli_p11;

/* Reads the options the command declares; -pin with -pin-source is a usage error. */
avow_err cli_p11_from_args(const cli_args *a, cli_p11 *p, avow_diag *d);
void cli_p11_clear(cli_p11 *p);

/*
 * After a library call on ref failed with err, the usage errors that say
 * which option to give: AVOW_ERR_NO_PIN when the command line gave no PIN,
 * and AVOW_ERR_ARG when ref is a pkcs11: URI (or NULL: the token a
 * command opens without one) and no module is known (the
 * library checks the module first). Every other err is returned as it is,
 * so a library built without PKCS#11 says so.
 */
avow_err cli_p11_explain(const cli_p11 *p, avow_err err, const char *opt, const char *ref,
                         avow_diag *d);

/*
 * A signer for ref, the value of option opt: a private key file (PEM or
 * DER) or a pkcs11: URI that signs in the token, opened by avow_signer_open
 * with the command's token options. pss: RSA keys sign with RSASSA-PSS;
 * flags: AVOW_SIGNER_OPEN_*.
 */
avow_err cli_signer_open(const cli_args *a, const char *opt, const char *ref, int pss,
                         unsigned flags, avow_signer **out, avow_diag *d);

#endif
