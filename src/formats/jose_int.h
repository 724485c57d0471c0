/*
 * Internal side of the JOSE module (jose.c, jwk.c): base64url in the form
 * the library's own callers use, the parsed JSON of a verified JWS, JWKs as
 * jansson values, and the checked time comparisons of JWT claims.
 */
#ifndef AVOW_JOSE_INT_H
#define AVOW_JOSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/jose.h>

/* base64url without padding into a new NUL-terminated string (OPENSSL_malloc); NULL on no memory.
 */
char *avow__b64url_encode(const uint8_t *p, size_t len);

/*
 * Strict base64url: alphabet [A-Za-z0-9_-] only, no padding, no whitespace,
 * zero trailing bits. Returns AVOW_OK, AVOW_ERR_MALFORMED or AVOW_ERR_NOMEM;
 * *out owned by the caller (avow_buf_free; ptr may be NULL for empty input).
 */
avow_err avow__b64url_decode(const char *s, size_t len, avow_buf *out);

/*
 * What a caller that checks many tokens with the same key prepares once: an
 * ECDSA verification set up for key (EVP_PKEY_verify_init, this call's own
 * copy: EVP_PKEY_CTX_dup) and SHA-256/384/512 fetched once. Either may be
 * NULL; the plain path is taken then.
 */
typedef struct avow__jws_prep {
    EVP_PKEY_CTX *verify;
    const EVP_MD *md[3];
} avow__jws_prep;

/*
 * avow_jws_verify with prep (NULL: none) for key; every check is the same.
 * prep->verify must have been made for key itself.
 */
avow_err avow__jws_verify_prep(const char *jws, size_t len, EVP_PKEY *key,
                               const avow__jws_prep *prep, const avow_jws_verify_opts *opts,
                               avow_jws **out, avow_diag *diag);

/*
 * The RFC 7638 thumbprint input of a JWK object (its required members,
 * sorted, compact; free()); NULL for a kty avow does not take or a member
 * that is not a string. Injective: equal texts mean equal public keys.
 */
char *avow__jwk_canonical_text(const json_t *jwk);

/* AVOW_ERR_MALFORMED naming field.d (and so on) when jwk holds a private member. */
avow_err avow__jwk_check_public(const json_t *jwk, const char *field, avow_diag *d);

/* Borrowed parsed header of a verified JWS (a JSON object). */
json_t *avow__jws_get0_header_json(const avow_jws *jws);

/* Borrowed parsed payload of a JWS verified with AVOW_JWS_PAYLOAD_JSON; NULL without the flag. */
json_t *avow__jws_get0_payload_json(const avow_jws *jws);

/* Moves the decoded payload out of jws into *out (NUL-terminated); jws keeps an empty one. */
void avow__jws_take_payload(avow_jws *jws, avow_buf *out);

/*
 * Reads a public JWK from a parsed object under the rules of
 * avow_jwk_import; field names the object in diag ("jws.header.jwk").
 */
avow_err avow__jwk_from_json(const json_t *jwk, const char *field, EVP_PKEY **out, avow_diag *d);

/*
 * RFC 7638 thumbprint (base64url, NUL-terminated) of a JWK object that
 * avow__jwk_from_json accepted, from its members as they are: the strict
 * import makes them canonical (exact sizes, minimal integers, canonical
 * base64url), so this equals avow_jwk_thumbprint of the key without
 * re-exporting it.
 */
avow_err avow__jwk_thumbprint_json(const json_t *jwk, avow_buf *out, avow_diag *d);

/* The public JWK of key as a new JSON object (json_decref), as avow_jwk_export writes it. */
avow_err avow__jwk_to_json(const EVP_PKEY *key, json_t **out, avow_diag *d);

/*
 * 1 when a is later than b by more than slack seconds (a > b + slack), exact
 * for every pair of 64-bit values: no sum or difference that can overflow.
 */
int avow__time_after(int64_t a, int64_t b, uint64_t slack);

/* avow__jwt_check_times flags */
#define AVOW__JWT_EXP_REQUIRED   0x1u
#define AVOW__JWT_IAT_REQUIRED   0x2u
#define AVOW__JWT_IAT_NOT_FUTURE 0x4u /* refuse an iat later than now + leeway */

/*
 * The registered time claims of a JWT claims set, each an integer when
 * present: exp (now > exp + leeway: AVOW_ERR_EXPIRED), nbf (nbf > now +
 * leeway: AVOW_ERR_BAD_TIME), iat with AVOW__JWT_IAT_NOT_FUTURE (iat > now +
 * leeway: AVOW_ERR_BAD_TIME). A claim of another type: AVOW_ERR_MALFORMED; a
 * required one missing: AVOW_ERR_MISSING_CLAIM. field prefixes diag fields
 * ("jwt.payload" gives "jwt.payload.exp"); what names the token in details.
 */
avow_err avow__jwt_check_times(const json_t *claims, int64_t now, unsigned leeway, unsigned flags,
                               const char *field, const char *what, avow_diag *d);

#endif
