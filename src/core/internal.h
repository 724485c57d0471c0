/*
 * Internal helpers shared by every module; nothing here is exported.
 */
#ifndef AVOW_INTERNAL_H
#define AVOW_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>

#if defined(__GNUC__) || defined(__clang__)
#define AVOW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AVOW_PRINTF(a, b)
#endif

/* Records code, field and a printf-style detail in d (if not NULL); returns code. */
avow_err avow__fail(avow_diag *d, avow_err code, const char *field, const char *fmt, ...)
    AVOW_PRINTF(4, 5);

/*
 * As avow__fail, and drains the OpenSSL error queue: the first queued error
 * goes to d->backend and its reason text (with any "Field=" data OpenSSL
 * attached) is appended to the detail. The queue is empty afterwards.
 */
avow_err avow__fail_ossl(avow_diag *d, avow_err code, const char *field, const char *fmt, ...)
    AVOW_PRINTF(4, 5);

/* Records which library's code caused a failure (d may be NULL). */
void avow__set_backend(avow_diag *d, avow_backend source, uint64_t code);

/* Empties the OpenSSL error queue (used on success paths of speculative calls). */
void avow__ossl_clear(void);

/* Owned copy of len bytes (OPENSSL_malloc); NULL when len is 0 or on no memory. */
uint8_t *avow__memdup(const uint8_t *p, size_t len);

/* Lower-case hex of p into a new NUL-terminated string (OPENSSL_malloc), or NULL. */
char *avow__hex(const uint8_t *p, size_t len);

/* The whole dotted text of OID content octets (avow_oid_to_text) in a new NUL-terminated
 * string (OPENSSL_malloc), or NULL on no memory. For output that is read back, where a cut
 * text would name another OID. */
char *avow__oid_text(const uint8_t *der, size_t len);

/* Value of one hex digit (either case); -1 for any other character. */
int avow__hexval(char c);

/* Parses hex (even length, no separators; ':' allowed between bytes). */
avow_err avow__unhex(const char *text, avow_buf *out);

/* Constant-time equality of two byte strings of possibly different length. */
int avow__ct_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* avow_write_file with the final file's mode (e.g. 0644 for certificates) set before the rename. */
avow_err avow__write_file_mode(const char *path, const uint8_t *data, size_t len, unsigned mode,
                               avow_diag *diag);

/* snprintf that never fails on truncation: always NUL-terminates. */
void avow__strlcpy(char *dst, const char *src, size_t cap);

#endif
