/*
 * avow/bytes.h - byte views, owned buffers, and the PEM/DER armour.
 */
#ifndef AVOW_BYTES_H
#define AVOW_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Borrowed bytes; the owner is named where a view is returned. */
typedef struct avow_view {
    const uint8_t *ptr;
    size_t len;
} avow_view;

/* Owned bytes; release with avow_buf_free(). */
typedef struct avow_buf {
    uint8_t *ptr;
    size_t len;
} avow_buf;

/* Frees b->ptr (cleansed first) and zeroes b. No-op for NULL. */
AVOW_EXPORT void avow_buf_free(avow_buf *b);

/*
 * Reads input that is either DER or PEM with the given label (for example
 * "EVIDENCE", "CERTIFICATE REQUEST"). PEM is recognised by its "-----BEGIN "
 * line; any other input is taken as DER unchanged. On success *out holds the
 * DER bytes (caller frees with avow_buf_free). Text before the BEGIN line
 * and after the END line is ignored, but a second PEM block is not: one
 * input holds one object. Errors: AVOW_ERR_PEM when the armour or its base64
 * is bad (empty body, padding inside the body, ...) or the label differs,
 * AVOW_ERR_TRAILING when a second block follows, AVOW_ERR_TOO_LARGE when the
 * input is over max_len.
 */
AVOW_EXPORT avow_err avow_unarmor(const uint8_t *in, size_t in_len, const char *label,
                                  size_t max_len, avow_buf *out, avow_diag *diag);

/* Wraps DER in PEM with the label; *out is NUL-terminated text (len excludes the NUL). */
AVOW_EXPORT avow_err avow_armor(const uint8_t *der, size_t der_len, const char *label,
                                avow_buf *out);

/* Reads a whole file ("-" = stdin) of at most max_len bytes into *out. */
AVOW_EXPORT avow_err avow_read_file(const char *path, size_t max_len, avow_buf *out,
                                    avow_diag *diag);

/*
 * Writes data to path ("-" = stdout) through a temporary file (path.XXXXXX,
 * mode 0600) that is synced, renamed into place, and whose directory is
 * synced: a failure never leaves a partial file behind, and after a crash
 * the target is the old file or the whole new one. The file is mode 0600.
 */
AVOW_EXPORT avow_err avow_write_file(const char *path, const uint8_t *data, size_t len,
                                     avow_diag *diag);

/* avow_escape_text flags. */
enum {
    /* The text goes between double quotes: '"' and '\\' are escaped too
     * (as \" and \\), so the closing quote is always the real one. */
    AVOW_ESCAPE_QUOTED = 1u << 0
};

/*
 * Makes untrusted text safe to print for people (a terminal, a log line):
 * C0 controls and DEL (NUL, ESC, CR, LF, TAB included), C1 controls
 * (U+0080..U+009F), the line and paragraph separators (U+2028, U+2029), the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069) and every byte that is not well-formed UTF-8 become \xHH,
 * one per byte; all other text, UTF-8 included, is copied. This is the
 * escaping every text output of avow uses (avow_evidence_to_text,
 * avow_evidence_result_to_text, the avow command). *out is NUL-terminated
 * (len excludes the NUL); caller frees it with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_escape_text(const uint8_t *in, size_t len, unsigned flags, avow_buf *out);

#ifdef __cplusplus
}
#endif
#endif
