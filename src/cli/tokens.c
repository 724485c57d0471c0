/* Tokens (JWS compact text) and the options the token commands share (avow oauth, avow wimse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <avow/jose.h>
#include <avow/oauth.h>

#include "cli/cli.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/tokens.h"

/* A token from a file (or stdin), one trailing newline dropped: what a header would carry. */
avow_err cli_read_token(const char *path, avow_buf *out, avow_diag *d)
{
    avow_err err = cli_read(path, out, d);
    if (err != AVOW_OK)
        return err;
    if (out->len > 0 && out->ptr[out->len - 1] == '\n')
        out->len--;
    if (out->len > 0 && out->ptr[out->len - 1] == '\r')
        out->len--;
    if (memchr(out->ptr, '\0', out->len) != NULL)
        return cli_fail(d, AVOW_ERR_MALFORMED, path != NULL ? path : "-",
                        "the token holds a NUL byte");
    uint8_t *t = OPENSSL_malloc(out->len + 1);
    if (t == NULL)
        return cli_fail(d, AVOW_ERR_NOMEM, "token", "out of memory");
    memcpy(t, out->ptr, out->len);
    t[out->len] = '\0';
    size_t n = out->len;
    avow_buf_free(out);
    out->ptr = t; /* NUL-terminated; the NUL is not counted */
    out->len = n;
    return AVOW_OK;
}

/* Seconds of option opt: 0 .. max. */
avow_err cli_parse_secs(const cli_args *a, const char *opt, unsigned long max, unsigned *out,
                        avow_diag *d)
{
    const char *t = cli_get(a, opt);
    if (t == NULL)
        return AVOW_OK;
    char *end = NULL;
    unsigned long v = t[0] >= '0' && t[0] <= '9' ? strtoul(t, &end, 10) : 0;
    if (end == NULL || *end != '\0' || v > max)
        return cli_fail(d, AVOW_ERR_USAGE, opt, "\"%s\" is not a number of seconds up to %lu", t,
                        max);
    *out = (unsigned)v;
    return AVOW_OK;
}

avow_err cli_parse_now(const cli_args *a, const char *opt, int64_t *out, avow_diag *d)
{
    time_t t = 0;
    if (cli_get(a, opt) == NULL)
        return AVOW_OK;
    avow_err err = cli_parse_time(opt, cli_get(a, opt), &t, d);
    *out = (int64_t)t;
    return err;
}

/* A public key from PEM/DER (key, certificate or private key file) or a JWK. */
avow_err cli_load_pub_or_jwk(const char *path, EVP_PKEY **out, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = cli_read(path, &raw, d);
    size_t i = 0;
    while (err == AVOW_OK && i < raw.len && (raw.ptr[i] == ' ' || raw.ptr[i] == '\n'))
        i++;
    int jwk = err == AVOW_OK && i < raw.len && raw.ptr[i] == '{';
    if (jwk)
        err = avow_jwk_import((const char *)raw.ptr, raw.len, out, d);
    avow_buf_free(&raw);
    if (err == AVOW_OK && !jwk)
        err = cli_load_public_key(path, out, d);
    return err;
}

avow_err cli_read_tokens(const cli_args *a, size_t max, const char *opt, avow_buf *bufs,
                         const char **v, size_t *n, avow_diag *d)
{
    *n = cli_count(a, opt);
    if (*n > max)
        return cli_fail(d, AVOW_ERR_USAGE, opt, "at most %zu", max);
    for (size_t i = 0; i < *n; i++) {
        avow_err err = cli_read_token(cli_get_n(a, opt, i), &bufs[i], d);
        if (err != AVOW_OK)
            return err;
        v[i] = (const char *)bufs[i].ptr;
    }
    return AVOW_OK;
}

void cli_appraisal_to_stderr(const cli_args *a, const avow_appraisal *ap)
{
    if (ap == NULL || !cli_flag(a, "json"))
        return;
    avow_buf text = {0};
    if (avow_appraisal_to_json(ap, 1, &text, NULL) == AVOW_OK)
        fwrite(text.ptr, 1, text.len, stderr);
    avow_buf_free(&text);
}

avow_err cli_write_token(const cli_args *a, const avow_buf *tok, avow_diag *d)
{
    avow_err err = cli_write(cli_get(a, "out"), tok->ptr, tok->len, NULL, CLI_FORM_DER, d);
    if (err == AVOW_OK && cli_get(a, "out") == NULL)
        putchar('\n');
    return err;
}

avow_err cli_read_token_opt(const cli_args *a, const char *opt, avow_buf *buf, const char **v,
                            avow_diag *d)
{
    if (cli_get(a, opt) == NULL)
        return AVOW_OK;
    avow_err err = cli_read_token(cli_get(a, opt), buf, d);
    if (err == AVOW_OK)
        *v = (const char *)buf->ptr;
    return err;
}

avow_err cli_load_jwks(const char *path, avow_jwks **out, avow_diag *d)
{
    avow_buf text = {0};
    avow_err err = cli_read(path, &text, d);
    if (err == AVOW_OK)
        err = avow_jwks_parse((const char *)text.ptr, text.len, out, d);
    avow_buf_free(&text);
    return err;
}

avow_err cli_verify_clock(const cli_args *a, int64_t *now, unsigned *leeway,
                          avow_oauth_replay **replay, avow_diag *d)
{
    avow_err err = cli_parse_now(a, "at", now, d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "leeway", 86400, leeway, d);
    if (err == AVOW_OK && cli_get(a, "replay-db") != NULL)
        err = avow_oauth_replay_open_sqlite(cli_get(a, "replay-db"), replay, d);
    return err;
}

void cli_put_refusal(FILE *f, avow_err status, const avow_diag *d)
{
    cli_put_escaped(f, d->field, strnlen(d->field, sizeof(d->field)), 0);
    fprintf(f, ": %s: ", avow_errname(status) != NULL ? avow_errname(status) : "?");
    const char *msg = d->detail[0] != '\0' ? d->detail : avow_strerror(status);
    cli_put_escaped(f, msg, strnlen(msg, sizeof(d->detail)), 0);
}

int cli_show_result(const char *prog, const cli_args *a, const void *r, avow_err err,
                    const cli_result_view *view, avow_diag *d)
{
    if (r == NULL)
        return cli_report(err, d);
    avow_buf text = {0};
    avow_err perr = AVOW_OK;
    if (cli_flag(a, "json")) {
        perr = view->to_json(r, &text, d);
        if (perr == AVOW_OK)
            perr = cli_print(&text, d);
    } else {
        perr = view->text(r, err, d);
    }
    avow_buf_free(&text);
    view->verdict(prog, r);
    return perr != AVOW_OK ? cli_report(perr, d) : cli_exit_code(err);
}
