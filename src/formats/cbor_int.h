/*
 * Strict CBOR (RFC 8949) for the formats that read it: a check of the bytes
 * before libcbor sees them, so that what libcbor decodes has one encoding.
 */
#ifndef AVOW_FORMATS_CBOR_INT_H
#define AVOW_FORMATS_CBOR_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>

/*
 * Checks that p holds exactly one well-formed CBOR data item (RFC 8949
 * section 5.3.1) in preferred serialisation (section 4.1: every head as
 * short as its argument allows), with definite lengths only, nesting of at
 * most max_depth arrays, maps and tags, valid UTF-8 in text strings, no map
 * key repeated (keys compared by their encoded bytes, which preferred
 * serialisation makes unique), and the reserved additional-information
 * values 28..30 and two-byte simple values below 32 refused. Nothing may
 * follow the item (AVOW_ERR_TRAILING). Other errors: AVOW_ERR_CBOR,
 * AVOW_ERR_TRUNCATED, AVOW_ERR_TOO_LARGE (depth), each at diag field
 * `field` with the offset in the detail.
 */
avow_err avow__cbor_check(const uint8_t *p, size_t len, unsigned max_depth, const char *field,
                          avow_diag *diag);

#endif
