/*
 * File handling of the avow command: inputs in PEM or DER (or stdin),
 * keys and certificates through OpenSSL's decoders, outputs in PEM or DER.
 */
#ifndef AVOW_CLI_IO_H
#define AVOW_CLI_IO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/err.h>

#define CLI_MAX_INPUT (4u * 1024u * 1024u)

typedef enum cli_form { CLI_FORM_AUTO = 0, CLI_FORM_PEM, CLI_FORM_DER } cli_form;

/* "PEM" / "DER" (any case); NULL gives def. Errors: AVOW_ERR_USAGE. */
avow_err cli_parse_form(const char *text, cli_form def, cli_form *out, avow_diag *d);

/* Whole file; NULL or "-" reads stdin. */
avow_err cli_read(const char *path, avow_buf *out, avow_diag *d);

/* Hex (':' allowed between bytes) of 1 to cap bytes into buf; AVOW_ERR_USAGE naming field
 * otherwise. */
avow_err cli_parse_hex(const char *field, const char *text, uint8_t *buf, size_t cap, size_t *len,
                       avow_diag *d);

/*
 * DER of an object that may be armoured with `label`: AUTO takes PEM when
 * the input has a "-----BEGIN " line and DER otherwise.
 */
avow_err cli_read_der(const char *path, const char *label, cli_form form, avow_buf *der,
                      avow_diag *d);

/* A public key from a PUBLIC KEY file, a certificate or a private key file. */
avow_err cli_load_public_key(const char *path, EVP_PKEY **out, avow_diag *d);

/* Every certificate of a PEM bundle or of concatenated DER (at least one). */
avow_err cli_load_certs(const char *path, STACK_OF(X509) * *out, avow_diag *d);

/* The first certificate of a file. */
avow_err cli_load_cert(const char *path, X509 **out, avow_diag *d);

/* Writes der as DER or as PEM under label to path (NULL or "-" = stdout). */
avow_err cli_write(const char *path, const uint8_t *der, size_t len, const char *label,
                   cli_form form, avow_diag *d);

/* Writes text to stdout. */
avow_err cli_print(const avow_buf *text, avow_diag *d);

/*
 * The time of option opt (avow_time_parse: "now", "@SECONDS" or RFC 3339
 * UTC, 0 .. 9999-12-31T23:59:59Z). Errors: AVOW_ERR_USAGE naming opt, with
 * the library's reason.
 */
avow_err cli_parse_time(const char *opt, const char *text, time_t *out, avow_diag *d);

#endif
