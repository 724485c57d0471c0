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

#ifdef __cplusplus
}
#endif
#endif
