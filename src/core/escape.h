/*
 * The one escaping of untrusted text for human-readable output (terminal,
 * log line): Evidence text, verification results, request summaries and
 * the CLI's error lines all go through it, so a claim value, a certificate
 * name or a detail quoting input cannot move the cursor, start an escape
 * sequence, forge a line or reorder the text around it. The public entry
 * point is avow_escape_text (bytes.h).
 */
#ifndef AVOW_CORE_ESCAPE_H
#define AVOW_CORE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>

#include <avow/bytes.h>

/* Writes the escaped form of p[0..len) to b (flags: AVOW_ESCAPE_*). */
void avow__escape_bio(BIO *b, const uint8_t *p, size_t len, unsigned flags);

/*
 * The escaped form into buf, NUL-terminated and cut (between units, never
 * inside an escape) to fit cap. Returns the length the whole escaped text
 * needs, excluding the NUL, as snprintf does.
 */
size_t avow__escape_buf(const uint8_t *p, size_t len, unsigned flags, char *buf, size_t cap);

/* The same for a C string. */
size_t avow__escape_str(const char *s, unsigned flags, char *buf, size_t cap);

/* The text written to the memory BIO b as a NUL-terminated *out (caller frees). */
avow_err avow__text_take(BIO *b, avow_buf *out);

#endif
