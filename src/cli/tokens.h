/* What the token commands share: reading tokens, their times and public keys. */
#ifndef AVOW_CLI_TOKENS_H
#define AVOW_CLI_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>

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

#endif
