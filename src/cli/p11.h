/* PKCS#11 conveniences shared by the commands that reach a token. */
#ifndef AVOW_CLI_P11_H
#define AVOW_CLI_P11_H

#define CLI_P11_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define CLI_P11_ENV_MODULE     "AVOW_PKCS11_MODULE"

/*
 * The module to load: the flag's value, else $AVOW_PKCS11_MODULE, else
 * SoftHSM2 when it is installed; NULL when none of them gives one.
 */
const char *cli_p11_module(const char *flag);

#endif
