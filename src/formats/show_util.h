/*
 * Helpers shared by the text and JSON views of Evidence (and the JSON
 * claims reader): names of value types, RFC 3339 text of times (the reader
 * is avow__rfc3339_parse in core/der.h), one-line summaries of keys,
 * certificates and algorithms. Nothing here is exported.
 */
#ifndef AVOW_FORMATS_SHOW_UTIL_H
#define AVOW_FORMATS_SHOW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include <avow/evidence.h>

/* "bytes", "utf8", "bool", "int", "time", "oids", "raw". */
const char *avow__show_type_name(avow_value_type t);
/* ASN.1 name of the type ("OCTET STRING", "UTF8String", ...). */
const char *avow__show_asn1_name(avow_value_type t);
/* Inverse of avow__show_type_name; 0 when unknown. */
int avow__show_type_by_name(const char *name, avow_value_type *t);

/* "2025-01-31T12:00:00Z" (at least 21 bytes of cap). */
void avow__show_rfc3339(time_t t, char *buf, size_t cap);
/* Same for a broken-down UTC time. */
void avow__show_rfc3339_tm(const struct tm *tm, char *buf, size_t cap);

/* 1 when every byte is printable ASCII (and there is at least one). */
int avow__show_printable(const uint8_t *p, size_t len);

/*
 * "EC P-256", "RSA 2048", "Ed25519", "ML-DSA-65" of a DER SubjectPublicKeyInfo;
 * "ML-DSA-65 (not supported by this build)" for a post-quantum key OpenSSL
 * older than 3.5 cannot parse; "unparsable key" on error.
 */
void avow__show_spki(const uint8_t *der, size_t len, char *buf, size_t cap);

/*
 * The key of a certificate as avow__show_spki names it. Returns 0 when it
 * could not be named ("unparsable key" in buf), 1 otherwise.
 */
int avow__show_cert_key(X509 *x, char *buf, size_t cap);
/* Same for a parsed key. */
void avow__show_pkey(const EVP_PKEY *pkey, char *buf, size_t cap);

/* avow's algorithm name ("ecdsa-sha256") or, when avow has none, the dotted OID. */
void avow__show_sigalg(avow_view alg_der, char *name, size_t name_cap, char *oid, size_t oid_cap);

/* RFC 2253 text of a name into buf (truncated). */
void avow__show_name(const X509_NAME *n, char *buf, size_t cap);
/* Upper-case hex of the serial number (truncated). */
void avow__show_serial(const X509 *x, char *buf, size_t cap);
/* notBefore/notAfter in RFC 3339. */
void avow__show_validity(const X509 *x, char *nb, size_t nbcap, char *na, size_t nacap);

#endif
