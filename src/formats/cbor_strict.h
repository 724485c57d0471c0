/*
 * Strict CBOR framing (RFC 8949) before libcbor builds a tree: libcbor
 * accepts indefinite lengths, long forms and repeated map keys without a
 * word, so every byte string handed to it is first walked here once.
 */
#ifndef AVOW_CBOR_STRICT_H
#define AVOW_CBOR_STRICT_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include <avow/bytes.h>
#include <avow/err.h>

/* Flags of avow__cbor_check. */
#define AVOW__CBOR_NON_PREFERRED                                                                   \
    0x1u /* accept arguments longer than needed (RFC 9783 tolerance)                               \
          */

/* Limits of one walk: nesting (tags count), data items, pairs of one map. */
#define AVOW__CBOR_MAX_DEPTH 16u
#define AVOW__CBOR_MAX_ITEMS 4096u
#define AVOW__CBOR_MAX_PAIRS 256u

/*
 * Walks exactly one data item at p[0..len): definite lengths only
 * (AVOW_ERR_CBOR_INDEFINITE), the shortest argument unless
 * AVOW__CBOR_NON_PREFERRED (AVOW_ERR_CBOR_NOT_PREFERRED), no repeated map key,
 * compared by value for integer and string keys and by encoding otherwise
 * (AVOW_ERR_CBOR_DUP_KEY), reserved additional information and two-byte
 * simple values below 32 refused (AVOW_ERR_CBOR), the limits above
 * (AVOW_ERR_TOO_LARGE), and nothing after the item (AVOW_ERR_TRAILING).
 * Truncation is AVOW_ERR_TRUNCATED. field names the input in diag.
 */
avow_err avow__cbor_check(const uint8_t *p, size_t len, unsigned flags, const char *field,
                          avow_diag *d);

/*
 * avow__cbor_check, then the libcbor tree of the item (cbor_decref).
 * Errors: those of the check, AVOW_ERR_NOMEM.
 */
avow_err avow__cbor_load(const uint8_t *p, size_t len, unsigned flags, const char *field,
                         cbor_item_t **out, avow_diag *d);

/*
 * The head at p (major type, argument, its length in bytes); 0 when p does not
 * start with a definite head. For items the walk has already checked.
 */
int avow__cbor_head_read(const uint8_t *p, size_t len, unsigned *major, uint64_t *arg,
                         size_t *hlen);

/* Appends a CBOR head (major type 0..7, argument in shortest form) to out[*n..]; cap >= *n + 9. */
void avow__cbor_head(uint8_t *out, size_t *n, unsigned major, uint64_t arg);

/* Value of an integer item (major 0 or 1) as int64; 0 when it does not fit. */
int avow__cbor_int(const cbor_item_t *it, int64_t *out);

/* 1 when p[0..len) is well-formed UTF-8 (no surrogates, no overlong forms). */
int avow__utf8_valid(const uint8_t *p, size_t len);

#endif
