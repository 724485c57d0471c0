/*
 * What the token commands share: reading tokens, their times and public
 * keys, and the relying party's set-up and verdict (avow oauth verify, avow
 * wimse verify).
 */
#ifndef AVOW_CLI_TOKENS_H
#define AVOW_CLI_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include <avow/appraise.h>
#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/jose.h>
#include <avow/oauth.h>

#include "cli/opts.h"

/* A token from a file (or stdin), one trailing newline dropped, NUL-terminated (not counted). */
avow_err cli_read_token(const char *path, avow_buf *out, avow_diag *d);
/* Every value of opt (at most max) as tokens: bufs[i] holds them, v[i] points at them. */
avow_err cli_read_tokens(const cli_args *a, size_t max, const char *opt, avow_buf *bufs,
                         const char **v, size_t *n, avow_diag *d);
/* Seconds of option opt: 0 .. max; *out unchanged when the option is absent. */
avow_err cli_parse_secs(const cli_args *a, const char *opt, unsigned long max, unsigned *out,
                        avow_diag *d);
/* A time of option opt (cli_parse_time); *out unchanged when absent. */
avow_err cli_parse_now(const cli_args *a, const char *opt, int64_t *out, avow_diag *d);
/* A public key from PEM/DER (key, certificate or private key file) or a JWK. */
avow_err cli_load_pub_or_jwk(const char *path, EVP_PKEY **out, avow_diag *d);

/* With -json, an issuer's appraisal (the EAR with its reasons) on stderr; ap may be NULL. */
void cli_appraisal_to_stderr(const cli_args *a, const avow_appraisal *ap);
/* A token into -out, or on stdout with a newline (a header value, one line). */
avow_err cli_write_token(const cli_args *a, const avow_buf *tok, avow_diag *d);
/* The token file of option opt when given: buf holds it, *v points at it (unchanged when absent).
 */
avow_err cli_read_token_opt(const cli_args *a, const char *opt, avow_buf *buf, const char **v,
                            avow_diag *d);
/* A JWK set from a file (avow_jwks_parse). */
avow_err cli_load_jwks(const char *path, avow_jwks **out, avow_diag *d);

/*
 * What a relying party's check takes from the command line the same way in
 * avow oauth verify and avow wimse verify: -at into *now, -leeway (seconds,
 * at most a day) into *leeway, -replay-db opened into *replay (the caller's:
 * avow_oauth_replay_free, even on failure).
 */
avow_err cli_verify_clock(const cli_args *a, int64_t *now, unsigned *leeway,
                          avow_oauth_replay **replay, avow_diag *d);

/* How a verify command shows its result; r is the command's result object. */
typedef struct cli_result_view {
    avow_err (*to_json)(const void *r, avow_buf *out, avow_diag *d); /* for -json */
    avow_err (*text)(const void *r, avow_err status, avow_diag *d);  /* stdout otherwise */
    void (*verdict)(const char *prog, const void *r);                /* the line on stderr */
} cli_result_view;

/*
 * The end of a verify command: without a result (bad input, no memory) err
 * is reported like any error; with one, -json or the text goes to stdout,
 * the verdict line to stderr, and the exit status is the verification's
 * (or that of a failure to print).
 */
int cli_show_result(const char *prog, const cli_args *a, const void *r, avow_err err,
                    const cli_result_view *view, avow_diag *d);

/* "field: AVOW_ERR_NAME: message" of a refusal, escaped (the message: the code's text if none). */
void cli_put_refusal(FILE *f, avow_err status, const avow_diag *d);

#endif
