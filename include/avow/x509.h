/*
 * avow/x509.h - keys and certificates as DER, the way avow writes them:
 * the SubjectPublicKeyInfo of a key, its RFC 5280 key identifier and the
 * encoding of a certificate, so that callers need no ASN.1 of their own;
 * and names from people: distinguished names in RFC 4514 text and
 * subjectAltName lists ("DNS:host,IP:192.0.2.1").
 */
#ifndef AVOW_X509_H
#define AVOW_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a key identifier (SHA-1). */
#define AVOW_KEY_ID_LEN 20u

/*
 * The DER SubjectPublicKeyInfo of pkey (its public part; a private key
 * gives its public key). *out is the caller's (avow_buf_free). Errors:
 * AVOW_ERR_ARG (pkey or out NULL), AVOW_ERR_CRYPTO (the key cannot be
 * encoded: no public part, a type OpenSSL cannot write).
 */
AVOW_EXPORT avow_err avow_spki_der(EVP_PKEY *pkey, avow_buf *out, avow_diag *diag);

/*
 * The key identifier of RFC 5280 4.2.1.2, method 1: SHA-1 of the value of
 * the subjectPublicKey BIT STRING in pkey's SubjectPublicKeyInfo. It names a
 * key in a keyId SignerIdentifier when no certificate gives a
 * subjectKeyIdentifier, and is `avow evidence create`'s default key
 * identifier. Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_spki_key_id(EVP_PKEY *pkey, uint8_t out[AVOW_KEY_ID_LEN],
                                      avow_diag *diag);

/*
 * The ways of deriving a key identifier from a public key that a keyId
 * SignerIdentifier (or a subjectKeyIdentifier) may have used. The "bits" are
 * the value of the subjectPublicKey BIT STRING without its unused-bits
 * octet; the SPKI is the whole DER SubjectPublicKeyInfo.
 */
typedef enum avow_key_id_method {
    AVOW_KEY_ID_RFC5280 = 0,         /* RFC 5280 4.2.1.2 (1): SHA-1 of the bits, 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA256,      /* RFC 7093 2 (1): SHA-256 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA384,      /* RFC 7093 2 (2): SHA-384 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SHA512,      /* RFC 7093 2 (3): SHA-512 of the bits, leftmost 20 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA256, /* RFC 7093 2 (4): SHA-256 of the SPKI, 32 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA384, /* RFC 7093 2 (4): SHA-384 of the SPKI, 48 bytes */
    AVOW_KEY_ID_RFC7093_SPKI_SHA512, /* RFC 7093 2 (4): SHA-512 of the SPKI, 64 bytes */
    AVOW_KEY_ID_METHOD_COUNT_
} avow_key_id_method;

/* Bytes of the longest key identifier of avow_key_id_method (SHA-512). */
#define AVOW_KEY_ID_MAX_LEN 64u

/*
 * The key identifier of pkey by `method` into out; *len gets its size (20,
 * 32, 48 or 64). AVOW_KEY_ID_RFC5280 is avow_spki_key_id. A verifier matches
 * a keyId against all of them for the raw keys it trusts (avow/verify.h).
 * Errors: AVOW_ERR_ARG (NULL argument, unknown method), AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_spki_key_id_by(EVP_PKEY *pkey, avow_key_id_method method,
                                         uint8_t out[AVOW_KEY_ID_MAX_LEN], size_t *len,
                                         avow_diag *diag);

/* Short name of a method ("rfc5280", "rfc7093-sha256", ... "rfc7093-spki-sha512"); NULL if unknown.
 */
AVOW_EXPORT const char *avow_key_id_method_name(avow_key_id_method method);

/* The DER of cert. *out is the caller's (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO. */
AVOW_EXPORT avow_err avow_cert_der(const X509 *cert, avow_buf *out, avow_diag *diag);

/* --- distinguished names as text --- */

/* Ceilings of avow_name_parse: bytes of text, attributes in a name. */
#define AVOW_NAME_MAX_TEXT  4096u
#define AVOW_NAME_MAX_ATTRS 64u

/*
 * A distinguished name from text, in one of two forms:
 *
 *  - RFC 4514 (the default): "CN=host,O=Example,C=SE". The string is written
 *    most specific first, so the DER RDNSequence is its reverse (C, then O,
 *    then CN), as LDAP and `openssl x509 -nameopt RFC2253` write it. '+'
 *    joins attributes of one multi-valued RDN ("CN=a+UID=7,O=b"). In a value,
 *    '\' escapes one of  " # + , ; < = > \  or a space, or gives a byte as
 *    two hex digits ("\C3\A9" is U+00E9); unescaped " ; < > are refused. A
 *    value "#hex" is the DER of an ASN.1 string (RFC 4514 2.4). Spaces around
 *    types, '=', ',' and '+' are ignored; an escaped space is kept.
 *  - OpenSSL's "/O=Example/CN=host" (a leading '/'): RDNs in DER order, '/'
 *    between them, '\' escapes as above ('\/' is a '/'); '+' is text, as
 *    `openssl req -subj` reads it (multi-valued RDNs need the RFC 4514 form).
 *
 * Types are RFC 4514's names (CN, L, ST, O, OU, C, STREET, DC, UID) in any
 * case, OpenSSL's short and long names, or dotted OIDs. Values are UTF-8
 * (checked), not empty, without NUL; each is written in the string type
 * OpenSSL's table gives the attribute, within its size bounds (C is two
 * letters, CN at most 64 characters). Control characters other than NUL
 * pass: the CA refuses them in what it issues (avow/ca.h).
 * Errors: AVOW_ERR_BAD_DN (field "subject", the detail names the attribute
 * and what is wrong), AVOW_ERR_TOO_LARGE, AVOW_ERR_ARG (NULL), AVOW_ERR_NOMEM.
 * *out is the caller's (X509_NAME_free).
 */
AVOW_EXPORT avow_err avow_name_parse(const char *text, X509_NAME **out, avow_diag *diag);

/*
 * name in RFC 4514 text, most specific RDN first ("CN=host,O=Example"), the
 * order avow_name_parse reads; non-ASCII left as UTF-8 (escape it before
 * showing it). *out NUL-terminated (len excludes the NUL), the caller's
 * (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_NOMEM, AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_name_text(const X509_NAME *name, avow_buf *out);

/* --- subjectAltName --- */

/* Kinds of subjectAltName entries avow reads and writes (bits). */
enum {
    AVOW_SAN_DNS = 1u << 0,      /* dNSName */
    AVOW_SAN_IP = 1u << 1,       /* iPAddress, IPv4 or IPv6 */
    AVOW_SAN_URI = 1u << 2,      /* uniformResourceIdentifier */
    AVOW_SAN_EMAIL = 1u << 3,    /* rfc822Name */
    AVOW_SAN_WILDCARD = 1u << 4, /* with AVOW_SAN_DNS: a dNSName whose first label is "*" */
    AVOW_SAN_ALL = 0x1fu
};

/* Ceiling of entries in one list (text or a request's extension). */
#define AVOW_SAN_MAX 64u

/*
 * Appends the entries of a list to names: "KIND:value" separated by ','
 * (spaces after a ',' ignored; "\," is a comma inside a value, "\\" a
 * backslash). Kinds, in any case: DNS, IP, URI, email. Each is checked:
 *   DNS    letters, digits and '-' in labels of 1-63 characters, no label
 *          starting or ending with '-', at most 253 characters, no trailing
 *          dot, a last label not all digits (that is an IP address); "*" as
 *          the whole first label of a name with two more labels is a
 *          wildcard (AVOW_SAN_WILDCARD), anywhere else refused;
 *   IP     an IPv4 dotted quad or an IPv6 address (inet_pton);
 *   URI    RFC 3986: a scheme (letter, then letters, digits, + - .), ':',
 *          a non-empty rest of URI characters ('%' followed by two hex
 *          digits), at most 2048 characters;
 *   email  local@domain with exactly one '@', the local part of RFC 5322
 *          atext and inner dots (at most 64), the domain a DNS name as above
 *          (no wildcard).
 * Errors: AVOW_ERR_BAD_SAN (field "san[i]" with i the entry's place in
 * names, the detail says what is wrong), AVOW_ERR_TOO_LARGE (more than
 * AVOW_SAN_MAX entries), AVOW_ERR_ARG, AVOW_ERR_NOMEM. On error names is
 * as it was.
 */
AVOW_EXPORT avow_err avow_san_parse(const char *text, GENERAL_NAMES *names, avow_diag *diag);

/*
 * The AVOW_SAN_* kind of gn (AVOW_SAN_DNS | AVOW_SAN_WILDCARD for a
 * wildcard name), 0 for a kind avow does not handle (otherName,
 * directoryName, ...).
 */
AVOW_EXPORT unsigned avow_san_kind(const GENERAL_NAME *gn);

/*
 * Checks one decoded entry (from a request) by the rules of avow_san_parse:
 * an IA5String without NUL or bytes above 0x7F, an iPAddress of 4 or 16
 * bytes. Errors: AVOW_ERR_BAD_SAN, AVOW_ERR_UNSUPPORTED (a kind avow does
 * not handle), AVOW_ERR_ARG.
 */
AVOW_EXPORT avow_err avow_san_check(const GENERAL_NAME *gn, avow_diag *diag);

/*
 * Kinds by name, comma-separated: "dns,ip,uri,email,wildcard", "all" or
 * "none" (case ignored). Errors: AVOW_ERR_ARG naming the word.
 */
AVOW_EXPORT avow_err avow_san_kinds_parse(const char *text, unsigned *kinds, avow_diag *diag);

/*
 * names as text, "DNS:host, IP:192.0.2.1, URI:..., email:..." (other kinds
 * by OpenSSL's name with "<unsupported>"). Values are the request's: escape
 * them before showing them. *out NUL-terminated, the caller's
 * (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_san_text(const GENERAL_NAMES *names, avow_buf *out);

#ifdef __cplusplus
}
#endif
#endif
