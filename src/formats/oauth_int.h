/*
 * Internal side of the OAuth module: the pieces the token builders
 * (oauth_token.c) and the server's check (verifier/oauth_verify.c) share.
 */
#ifndef AVOW_OAUTH_INT_H
#define AVOW_OAUTH_INT_H

#include <avow/err.h>

/* 16 random bytes as base64url into *out (OPENSSL_free). */
avow_err avow__oauth_random_id(char **out);

/* DPoP "ath" of token (RFC 9449 section 4.2): base64url(SHA-256(ASCII token)) into *out. */
avow_err avow__oauth_ath(const char *token, char **out);

#endif
