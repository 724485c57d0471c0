/* How the avow command turns avow_err into words on stderr and an exit status. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/bytes.h>
#include <avow/err.h>

#include <avow/policy.h>

#include "cli/cli.h"

int cli_exit_code(avow_err err)
{
    if (err == AVOW_OK)
        return CLI_EXIT_OK;
    /* A URI that names several tokens or keys, a token key without a PIN,
     * or name text (only ever typed by people: -subject) is fixed on the
     * command line like any other bad value. */
    if (err == AVOW_ERR_USAGE || err == AVOW_ERR_ARG || err == AVOW_ERR_AMBIGUOUS ||
        err == AVOW_ERR_NO_PIN || err == AVOW_ERR_BAD_DN)
        return CLI_EXIT_USAGE;
    if (err == AVOW_ERR_IO)
        return CLI_EXIT_IO;
    if (err == AVOW_ERR_STORE)
        return CLI_EXIT_STORE;
    if (err == AVOW_ERR_STORE_BUSY)
        return CLI_EXIT_BUSY;
    /* A key file that holds no key avow loads is as unusable as a malformed one. */
    if ((err >= 100 && err < 200) || err == AVOW_ERR_TPM_KEY_KIND || err == AVOW_ERR_TPM_KEY_BLOB)
        return CLI_EXIT_MALFORMED;
    return CLI_EXIT_FAIL;
}

void cli_put_escaped(FILE *f, const void *text, size_t n, unsigned flags)
{
    avow_buf e = {0};
    if (avow_escape_text(text, n, flags, &e) == AVOW_OK)
        fwrite(e.ptr, 1, e.len, f);
    else
        fputs("(unprintable)", f);
    avow_buf_free(&e);
}

int cli_report(avow_err err, const avow_diag *diag)
{
    const char *name = avow_errname(err);
    const char *msg = diag != NULL && diag->detail[0] != '\0' ? diag->detail : avow_strerror(err);
    fputs("avow: ", stderr);
    if (diag != NULL && diag->field[0] != '\0') {
        cli_put_escaped(stderr, diag->field, strnlen(diag->field, sizeof(diag->field)), 0);
        fputs(": ", stderr);
    }
    cli_put_escaped(stderr, msg, strlen(msg), 0);
    fprintf(stderr, " (%s)\n", name != NULL ? name : "?");
    return cli_exit_code(err);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 0)))
#endif
static void
diag_vset(avow_diag *diag, avow_err err, const char *field, const char *fmt, va_list ap)
{
    diag->code = err;
    diag->source = AVOW_BACKEND_NONE;
    diag->backend = 0;
    snprintf(diag->field, sizeof(diag->field), "%s", field != NULL ? field : "");
    vsnprintf(diag->detail, sizeof(diag->detail), fmt, ap);
}

avow_err cli_fail(avow_diag *diag, avow_err err, const char *field, const char *fmt, ...)
{
    if (diag == NULL)
        return err;
    va_list ap;
    va_start(ap, fmt);
    diag_vset(diag, err, field, fmt, ap);
    va_end(ap);
    return err;
}

avow_err cli_fail_ossl(avow_diag *diag, avow_err err, const char *field, const char *fmt, ...)
{
    unsigned long e = ERR_peek_error();
    if (diag != NULL) {
        va_list ap;
        va_start(ap, fmt);
        diag_vset(diag, err, field, fmt, ap);
        va_end(ap);
        const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
        size_t used = strlen(diag->detail);
        if (reason != NULL)
            snprintf(diag->detail + used, sizeof(diag->detail) - used, " (%s)", reason);
        diag->source = e != 0 ? AVOW_BACKEND_OPENSSL : AVOW_BACKEND_NONE;
        diag->backend = e;
    }
    ERR_clear_error();
    return err;
}

int cli_exit_tier(int tier)
{
    switch ((avow_tier)tier) {
    case AVOW_TIER_AFFIRMING:
        return CLI_EXIT_OK;
    case AVOW_TIER_WARNING:
        return CLI_EXIT_WARNING;
    case AVOW_TIER_NONE:
        return CLI_EXIT_NONE;
    case AVOW_TIER_CONTRAINDICATED:
        break;
    }
    return CLI_EXIT_FAIL;
}
