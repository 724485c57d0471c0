/*
 * Internal side of the WIMSE module: the pieces the token builders
 * (wimse_token.c), the issuer and the relying party's check share.
 */
#ifndef AVOW_WIMSE_INT_H
#define AVOW_WIMSE_INT_H

#include <stddef.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>

/* avow_wimse_identifier_check with the diag field given. */
avow_err avow__wimse_identifier_check(const char *uri, size_t len, const char *const *schemes,
                                      const char *field, avow_buf *td, avow_diag *d);

/* base64url(SHA-256(text)) into *out (OPENSSL_free): wth, ath, tth, ear_sha256. */
avow_err avow__wimse_hash(const char *text, size_t len, char **out);

/* The oth hash of a header field value (leading and trailing spaces removed). */
avow_err avow__wimse_oth_hash(const char *value, char **out);

/* A header field name checked (RFC 9110 token) and lower-cased into *out (OPENSSL_free). */
avow_err avow__wimse_field_name(const char *name, char **out);

/* The JOSE alg cnf.jwk.alg names for a workload key (NULL: none). */
const char *avow__wimse_jwk_alg(const EVP_PKEY *key);

#endif
