/* Strict DER checks that OpenSSL's lenient paths do not make. */
#ifndef AVOW_DER_H
#define AVOW_DER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avow/err.h>

/*
 * Reads the tag and length of the TLV at p[0..len): definite, minimal
 * length, single-byte tag number. *hdr gets the header size, *body the
 * content length. Errors: AVOW_ERR_TRUNCATED, AVOW_ERR_NOT_DER, AVOW_ERR_MALFORMED.
 */
avow_err avow__der_header(const uint8_t *p, size_t len, uint8_t *tag, size_t *hdr, size_t *body);

/* Nesting depth any structure avow reads may reach (certificates included). */
#define AVOW_DER_MAX_DEPTH 32

/*
 * Checks that p[0..len) is exactly one DER TLV, recursively through
 * constructed ones up to max_depth, with DER BOOLEAN and INTEGER contents.
 */
avow_err avow__der_check(const uint8_t *p, size_t len, unsigned max_depth);

/*
 * Checks that p[0..len) is one X.509 Certificate in DER: the TLV walk, and
 * what only the schema shows (src/core/der_cert.c): [1]/[2] IMPLICIT
 * primitive, DEFAULT values (version v1, critical FALSE, basicConstraints cA
 * FALSE) left out, every extnValue one DER value, keyUsage without trailing
 * zero bits, SET OF in names sorted, DER UTCTime and GeneralizedTime. On
 * failure `where` names the part ("tbsCertificate.extensions[1].critical",
 * "" for the whole) and `why` says what is wrong. Errors: AVOW_ERR_NOT_DER,
 * and the walk's and the schema's (AVOW_ERR_WRONG_TAG, AVOW_ERR_MALFORMED,
 * AVOW_ERR_TRUNCATED, AVOW_ERR_OID, AVOW_ERR_TOO_LARGE).
 */
avow_err avow__der_check_cert(const uint8_t *p, size_t len, char *where, size_t wlen, char *why,
                              size_t ylen);

/*
 * avow__der_check_cert for a certificate inside an input that
 * avow__der_check accepted whole (so every TLV in it is DER already): the
 * schema's rules only, which is what is left to check, at a fraction of the
 * cost.
 */
avow_err avow__der_check_cert_walked(const uint8_t *p, size_t len, char *where, size_t wlen,
                                     char *why, size_t ylen);

/*
 * The subjectPublicKeyInfo TLV of a certificate that avow__der_check_cert
 * accepted, read off its headers: *spki / *spki_len point into p. 1 when
 * found, else 0. Nothing is decoded: the SPKI of an embedded certificate is
 * compared as bytes.
 */
int avow__cert_spki(const uint8_t *p, size_t len, const uint8_t **spki, size_t *spki_len);

/* 1 when p[0..len) is a well-formed OID body: non-empty, minimal sub-identifiers, complete. */
int avow__oid_content_valid(const uint8_t *p, size_t len);

/* Strict DER GeneralizedTime "YYYYMMDDHHMMSS[.f*]Z" to seconds since the epoch. */
avow_err avow__gentime_parse(const uint8_t *s, size_t len, time_t *out);

/* Seconds since the epoch to "YYYYMMDDHHMMSSZ" (16 bytes with the NUL). */
avow_err avow__gentime_format(time_t t, char out[16]);

/* 1 when t has a four-digit-year GeneralizedTime (0000-01-01 to 9999-12-31 UTC). */
int avow__gentime_fits(time_t t);

/* Seconds since the epoch to RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
avow_err avow__rfc3339_format(time_t t, char out[21]);

/* avow__rfc3339_parse flags */
enum {
    /* Any offset (+hh:mm, -hh:mm, up to 23:59), converted to UTC; without it only Z or
     * +00:00 / -00:00. */
    AVOW__RFC3339_ANY_OFFSET = 1u << 0
};

/*
 * RFC 3339 "YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|+hh:mm|-hh:mm)" to seconds
 * since the epoch; the fraction is dropped (times are whole seconds), no
 * leap second. The one RFC 3339 reader of the library: claims JSON
 * (AVOW__RFC3339_ANY_OFFSET) and avow_time_parse (UTC only) share it.
 * Errors: AVOW_ERR_BAD_TIME, also for a time time_t cannot hold.
 */
avow_err avow__rfc3339_parse(const char *s, unsigned flags, time_t *out);

/*
 * OpenSSL's reason for the d2i that just failed (read, not taken, from the
 * error queue), mapped to the closest avow code.
 */
avow_err avow__d2i_reason(void);

#endif
