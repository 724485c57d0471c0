/*
 * avow/ledger.h - the CA's record of what it issued, kept by the nonce
 * store beside the nonces (for SQLite: the same file, table issuances).
 *
 * A row is written in the same atomic step that consumes the request's
 * nonce (avow_nonce_consume_record), before the certificate is handed out:
 * a certificate exists only if its row does, and a nonce is used only if a
 * certificate was recorded for it. A crash at any point leaves either
 * nothing (the nonce still unused) or both.
 */
#ifndef AVOW_LEDGER_H
#define AVOW_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avow/err.h>
#include <avow/export.h>
#include <avow/nonce.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_LEDGER_MAX_SERIAL 20u /* bytes of a serial number (RFC 5280) */

/*
 * One issuance. The pointers are borrowed: from the caller when it records
 * one, from the store for the length of a callback, or from the block of
 * avow_ledger_find_serial.
 */
struct avow_issuance {
    char serial[2 * AVOW_LEDGER_MAX_SERIAL + 1]; /* lowercase hex, no separators */
    const char *subject;                         /* RFC 2253 text of the certificate's subject */
    uint8_t spki_sha256[32];                     /* SHA-256 of the DER SubjectPublicKeyInfo */
    uint8_t request_sha256[32];                  /* SHA-256 of the request's DER */
    uint8_t nonce[AVOW_NONCE_MAX_LEN];           /* the nonce consumed for it */
    size_t nonce_len;
    time_t issued;           /* when it was recorded */
    time_t not_after;        /* the certificate's notAfter */
    const char *ear_json;    /* the EAR (JSON) put in the certificate, NUL-terminated */
    const uint8_t *cert_der; /* the certificate */
    size_t cert_der_len;
};

/*
 * Consumes the nonce (as avow_nonce_consume) and records rec in one atomic
 * step. Errors: those of avow_nonce_consume (then nothing is recorded),
 * AVOW_ERR_DUP_KEY for a serial already recorded (the nonce stays unused),
 * AVOW_ERR_ARG for an incomplete rec, AVOW_ERR_UNSUPPORTED for a back end
 * without a ledger, AVOW_ERR_STORE, AVOW_ERR_STORE_BUSY.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_nonce_consume_record(avow_nonce_store *s,
                                                               const uint8_t *nonce, size_t len,
                                                               time_t now, const avow_issuance *rec,
                                                               avow_diag *diag);

/* Calls cb for every row in the order of issue until it returns non-zero. */
AVOW_EXPORT avow_err avow_ledger_foreach(avow_nonce_store *s, avow_issuance_cb cb, void *ctx,
                                         avow_diag *diag);

/*
 * The row of one serial number: hex, any case, ':' allowed between bytes,
 * leading zero bytes as the certificate has them. *out is one block owned
 * by the caller (avow_issuance_free). Errors: AVOW_ERR_NOT_FOUND,
 * AVOW_ERR_ARG (not hex), the store's.
 */
AVOW_EXPORT avow_err avow_ledger_find_serial(avow_nonce_store *s, const char *serial,
                                             avow_issuance **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_issuance_free(avow_issuance *row);

/* avow_issuance_to_json flags */
enum {
    /* Add "ear" (the EAR object, claims as stored) and "certificate" (the PEM text). */
    AVOW_ISSUANCE_JSON_FULL = 1u << 0
};

/*
 * One row as a JSON object for programs: serial, subject, issued and
 * not_after (RFC 3339 UTC), spki_sha256, request_sha256 and nonce (lower-case
 * hex), and with AVOW_ISSUANCE_JSON_FULL "ear" and "certificate". Indented
 * two spaces, keys sorted, a final newline: what `avow ca show -json`
 * prints. *out is NUL-terminated (len excludes the NUL), owned by the caller
 * (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_JSON (a stored EAR that is
 * not JSON), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_issuance_to_json(const avow_issuance *row, unsigned flags, avow_buf *out,
                                           avow_diag *diag);

/*
 * One row for people: "name: value" lines in the order of
 * avow_issuance_to_json (the subject escaped as avow_escape_text does), a
 * blank line, the certificate (PEM), a blank line and the EAR
 * (avow_ear_json_pretty): what `avow ca show` prints. *out as above.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_JSON, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_issuance_to_text(const avow_issuance *row, avow_buf *out,
                                           avow_diag *diag);

/*
 * Every row of the ledger, in the order of issue, as a JSON array of the
 * objects of avow_issuance_to_json (without AVOW_ISSUANCE_JSON_FULL),
 * indented, keys sorted, a final newline: what `avow ca list -json` prints.
 * *out as above. Errors: those of avow_ledger_foreach, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_ledger_to_json(avow_nonce_store *s, avow_buf *out, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
