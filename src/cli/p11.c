#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <avow/pkcs11.h>

#include "cli/cli.h"
#include "cli/p11.h"

const char *cli_p11_module(const char *flag)
{
    if (flag != NULL && flag[0] != '\0')
        return flag;
    const char *env = getenv(CLI_P11_ENV_MODULE);
    if (env != NULL && env[0] != '\0')
        return env;
    return access(CLI_P11_DEFAULT_MODULE, F_OK) == 0 ? CLI_P11_DEFAULT_MODULE : NULL;
}

int cli_is_p11_uri(const char *text)
{
    return text != NULL && strncmp(text, "pkcs11:", 7) == 0;
}

static const char *declared(const cli_args *a, const char *name)
{
    return cli_declared(a, name) ? cli_get(a, name) : NULL;
}

avow_err cli_p11_from_args(const cli_args *a, cli_p11 *p, avow_diag *d)
{
    memset(p, 0, sizeof(*p));
    p->module = cli_p11_module(declared(a, "pkcs11-module"));
    const char *pin = declared(a, "pin");
    p->pin_spec = declared(a, "pin-source");
    if (pin != NULL && p->pin_spec != NULL)
        return cli_fail(d, AVOW_ERR_USAGE, "pin", "give -pin or -pin-source, not both");
    if (pin != NULL) {
        /* -pin is the pass: spec of -pin-source. */
        size_t n = strlen(pin) + sizeof("pass:");
        p->pin_buf = OPENSSL_malloc(n);
        if (p->pin_buf == NULL)
            return cli_fail(d, AVOW_ERR_NOMEM, "pin", "out of memory");
        memcpy(p->pin_buf, "pass:", 5);
        memcpy(p->pin_buf + 5, pin, n - 5);
        p->pin_spec = p->pin_buf;
    }
    return AVOW_OK;
}

void cli_p11_clear(cli_p11 *p)
{
    if (p->pin_buf != NULL)
        OPENSSL_clear_free(p->pin_buf, strlen(p->pin_buf));
    memset(p, 0, sizeof(*p));
}

avow_err cli_p11_explain(const cli_p11 *p, avow_err err, const char *opt, const char *ref,
                         avow_diag *d)
{
    if (err == AVOW_ERR_ARG && p->module == NULL && (ref == NULL || cli_is_p11_uri(ref)))
        return cli_fail(d, AVOW_ERR_USAGE, "pkcs11-module",
                        "no PKCS#11 module: give -pkcs11-module or set " CLI_P11_ENV_MODULE
                        " (" CLI_P11_DEFAULT_MODULE " is not installed)");
    if (err != AVOW_ERR_NO_PIN || p->pin_spec != NULL)
        return err;
    char shown[256] = "the token";
    if (ref != NULL)
        avow_p11_uri_redact(ref, 0, shown, sizeof(shown));
    return cli_fail(d, AVOW_ERR_USAGE, opt,
                    "%s needs the token's user PIN: give -pin-source env:NAME|file:PATH|pass:TEXT",
                    shown);
}

avow_err cli_signer_open(const cli_args *a, const char *opt, const char *ref, int pss,
                         unsigned flags, avow_signer **out, avow_diag *d)
{
    cli_p11 p;
    avow_err err = cli_p11_from_args(a, &p, d);
    if (err == AVOW_OK) {
        avow_signer_open_opts o;
        avow_signer_open_opts_init(&o);
        o.pkcs11_module = p.module;
        o.pin_source = p.pin_spec;
        o.pss = pss;
        o.flags = flags;
        err = cli_p11_explain(&p, avow_signer_open(ref, &o, out, d), opt, ref, d);
    }
    cli_p11_clear(&p);
    return err;
}
