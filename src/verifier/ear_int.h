/* Internal helpers of the EAR code (ear.c, ear_jwt.c). */
#ifndef AVOW_EAR_INT_H
#define AVOW_EAR_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>

/* base64url without padding (RFC 7515 section 2) into a new NUL-terminated string (OPENSSL_malloc).
 */
char *avow__b64url_encode(const uint8_t *p, size_t len);

/*
 * Strict base64url: alphabet [A-Za-z0-9_-] only, no padding, no whitespace,
 * zero trailing bits. Returns AVOW_OK, AVOW_ERR_MALFORMED or AVOW_ERR_NOMEM;
 * *out owned by the caller (avow_buf_free; ptr may be NULL for empty input).
 */
avow_err avow__b64url_decode(const char *s, size_t len, avow_buf *out);

#endif
