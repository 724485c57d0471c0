/* jansson helpers every JSON writer of the library shares. */
#ifndef AVOW_CORE_JSON_H
#define AVOW_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <avow/bytes.h>
#include <avow/err.h>

/*
 * json_dumps(root, flags) into *out: NUL-terminated (len excludes the NUL),
 * on OpenSSL's heap so that avow_buf_free releases it; with newline 1 a
 * final '\n' is added. root is not released. Errors: AVOW_ERR_NOMEM.
 */
avow_err avow__json_dump(const json_t *root, size_t flags, int newline, avow_buf *out);

/*
 * Parses text (len bytes, NULL only when len is 0) as one JSON document,
 * strictly: at most max bytes (AVOW_ERR_TOO_LARGE, "<what> of N bytes,
 * limit M"), a member repeated within an object refused, errors as
 * AVOW_ERR_JSON with the line and column, all at diag field `field`.
 * *out owned by the caller (json_decref).
 */
avow_err avow__json_load(const char *text, size_t len, size_t max, const char *what,
                         const char *field, json_t **out, avow_diag *diag);

/* A JSON string of text; bytes outside well-formed UTF-8 (a cut multi-byte character) become ?. */
json_t *avow__json_text(const char *text);

/* Lower-case hex of p as a JSON string; NULL on no memory. */
json_t *avow__json_hex(const uint8_t *p, size_t len);

/* json_object_set_new that remembers a failure (a NULL value included) in *bad. */
void avow__json_put(json_t *o, const char *key, json_t *value, int *bad);

/* The name of err ("AVOW_OK" for success) as a JSON string. */
json_t *avow__json_errname(avow_err err);

#endif
