/*
 * avow/pkcs11.h - the PKCS#11 attester back end: claims read from a token
 * and a signer whose private key never leaves it.
 *
 * Objects and lifetimes:
 *   avow_p11_module   a loaded and initialised module (C_Initialize done).
 *   avow_p11_session  one token, chosen by an RFC 7512 URI, with an open
 *                     session that may be logged in.
 *   avow_p11_handle   an object handle (CK_OBJECT_HANDLE), valid while the
 *                     session that found it is open.
 * Modules and sessions are reference counted: a session keeps its module,
 * and a signer made by avow_p11_signer_new keeps its session, so the _free
 * calls may come in any order. A session is not safe to use from two threads
 * at once (PKCS#11 sessions are not); give each thread its own session.
 *
 * Every function fills diag on failure; when the module caused it,
 * diag->source is AVOW_BACKEND_PKCS11, diag->backend holds the CK_RV and
 * diag->detail names the PKCS#11 function. Claims mapping: docs/pkcs11.md.
 *
 * In a library built with AVOW_WITH_PKCS11=OFF (no p11-kit) every function
 * of this header still exists: each one that returns avow_err fails with
 * AVOW_ERR_UNSUPPORTED and the detail "avow was built without PKCS#11
 * (AVOW_WITH_PKCS11=OFF)", the _free calls are no-ops, and
 * avow_p11_uri_redact and avow_p11_keygen_params_init work as here.
 */
#ifndef AVOW_PKCS11_H
#define AVOW_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/evidence.h>
#include <avow/export.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct avow_p11_module avow_p11_module;
typedef struct avow_p11_session avow_p11_session;
/*
 * An object handle (a CK_OBJECT_HANDLE, which is a CK_ULONG: 32 or 64 bits
 * by platform, hence a fixed 64-bit type here). 0 is never a valid handle;
 * a value the platform's CK_ULONG cannot hold is refused (AVOW_ERR_ARG).
 */
typedef uint64_t avow_p11_handle;

/* --- modules --- */

/*
 * Loads and initialises a module. `module` is a file path (it contains a
 * '/', for example "/usr/lib/softhsm/libsofthsm2.so") or the name of a module
 * registered with p11-kit ("softhsm2"). Errors: AVOW_ERR_NOT_FOUND when the
 * file or name does not exist, AVOW_ERR_PKCS11 when it cannot be loaded or
 * C_Initialize fails. Caller frees *out with avow_p11_module_free.
 */
AVOW_EXPORT avow_err avow_p11_module_load(const char *module, avow_p11_module **out,
                                          avow_diag *diag);

/* Drops the caller's reference; C_Finalize runs with the last one. No-op for NULL. */
AVOW_EXPORT void avow_p11_module_free(avow_p11_module *m);

/* --- sessions --- */

enum {
    /* Open a read/write session (needed by avow_p11_keygen). */
    AVOW_P11_RW = 1u << 0,
    /* avow_p11_open: a PIN is required (AVOW_ERR_NO_PIN without one). */
    AVOW_P11_LOGIN = 1u << 1
};

/*
 * Opens a session on the one initialised token that the PKCS#11 URI
 * matches (library-*, slot-*, token, manufacturer, model, serial; object
 * attributes are ignored here). uri NULL or "pkcs11:" matches every token.
 * Errors: AVOW_ERR_ARG for a URI that does not parse, AVOW_ERR_AMBIGUOUS
 * when it matches more than one token (attesting a device picked at random
 * is worse than asking for a precise URI), AVOW_ERR_NOT_FOUND when none
 * matches, AVOW_ERR_PKCS11.
 * The session takes a reference on m. Caller frees *out with
 * avow_p11_session_free.
 */
AVOW_EXPORT avow_err avow_p11_session_open(avow_p11_module *m, const char *uri, unsigned flags,
                                           avow_p11_session **out, avow_diag *diag);

/* Drops the caller's reference; the session closes with the last one. No-op for NULL. */
AVOW_EXPORT void avow_p11_session_free(avow_p11_session *s);

/*
 * Logs the normal user in with pin (a NUL-terminated string). Logging in
 * twice is not an error. Errors: AVOW_ERR_PIN for a wrong, locked or expired
 * PIN, AVOW_ERR_PKCS11 otherwise.
 */
AVOW_EXPORT avow_err avow_p11_login(avow_p11_session *s, const char *pin, avow_diag *diag);

/*
 * Finds a PIN. spec, when not NULL, wins: "env:NAME" (the variable's
 * value), "file:PATH" (the file's first line), or "pass:TEXT". Otherwise
 * the URI's pin-value, then its pin-source ("file:" URI or plain path; the
 * file's first line). *pin is NUL-terminated (len excludes the NUL); free it
 * with avow_buf_free, which cleanses it. A PIN file that group or others
 * may read or write is refused (AVOW_ERR_PERMISSION), as ssh refuses such
 * keys. Errors: AVOW_ERR_NO_PIN when there is no PIN anywhere (no spec,
 * and the URI has neither pin-value nor pin-source) or the variable of
 * "env:" is unset, AVOW_ERR_IO, AVOW_ERR_ARG for an unknown spec prefix or
 * a URI that does not parse.
 */
AVOW_EXPORT avow_err avow_p11_pin_resolve(const char *uri, const char *spec, avow_buf *pin,
                                          avow_diag *diag);

/*
 * Module, session, PIN and login in one call, as every token user needs
 * them: avow_p11_pin_resolve(uri, pin_spec), avow_p11_module_load(module),
 * avow_p11_session_open(uri, flags & AVOW_P11_RW), avow_p11_login with the
 * PIN found. Without AVOW_P11_LOGIN and with no PIN anywhere (no pin_spec,
 * none in the URI) the session stays logged out; with it that is
 * AVOW_ERR_NO_PIN, as is a pin_spec that gives no PIN (an unset variable)
 * either way. The PIN is cleansed before the call returns. Errors:
 * AVOW_ERR_ARG for a NULL or empty module, checked before anything else,
 * then those of the four calls. *out is the caller's
 * (avow_p11_session_free); it keeps the module loaded.
 */
AVOW_EXPORT avow_err avow_p11_open(const char *module, const char *uri, const char *pin_spec,
                                   unsigned flags, avow_p11_session **out, avow_diag *diag);

/* avow_p11_uri_redact flags */
enum {
    /* Drop pin-source (and the old pinfile) as well: for a URI that will be
     * shown where even the PIN file's name should not be, not for one kept
     * to log in again later. */
    AVOW_P11_REDACT_PIN_SOURCE = 1u << 0
};

/*
 * uri without its PIN: every pin-value attribute (path or query, any case,
 * percent-encoded names too) is dropped, and pin-source with
 * AVOW_P11_REDACT_PIN_SOURCE; the rest is copied as written. Text that is
 * not a pkcs11: URI is copied unchanged. For every URI avow stores or
 * prints. Writes at most cap bytes including the NUL (truncating; buf is
 * always terminated when cap > 0) and returns the full length, like
 * snprintf.
 */
AVOW_EXPORT size_t avow_p11_uri_redact(const char *uri, unsigned flags, char *buf, size_t cap);

/*
 * The object a URI names: its object= (CKA_LABEL) in *label, NUL-terminated
 * (len excludes the NUL), and its id= (CKA_ID) bytes in *id. Each is left
 * empty (ptr NULL, len 0) when the URI does not have it or has it empty,
 * and both when uri is NULL; either may be NULL when the caller does not
 * want it. Both are the caller's (avow_buf_free).
 * Errors: AVOW_ERR_ARG for text that is not a pkcs11: URI p11-kit parses,
 * or an object= holding a NUL byte (it could not be a C string).
 */
AVOW_EXPORT avow_err avow_p11_uri_get_object(const char *uri, avow_buf *label, avow_buf *id,
                                             avow_diag *diag);

/*
 * The URI of one object on the token `token_uri` names: that URI's token
 * attributes (token, manufacturer, model, serial) with object=label and
 * id=id (each left out when NULL or empty), and without its own object
 * attributes, PIN or pin-source; token_uri NULL names no token. For
 * printing the key avow_p11_keygen made, e.g.
 * "pkcs11:model=...;token=hsm1;id=%A1;object=ak". *out is NUL-terminated
 * (len excludes the NUL) and the caller's (avow_buf_free). Errors:
 * AVOW_ERR_ARG for a token_uri that does not parse or an id_len without an
 * id, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_p11_uri_format_object(const char *token_uri, const char *label,
                                                const uint8_t *id, size_t id_len, avow_buf *out,
                                                avow_diag *diag);

/* --- objects --- */

/*
 * Finds the one object matching the URI's object attributes (object= is
 * CKA_LABEL, id= is CKA_ID, type= is CKA_CLASS). When the URI gives no type,
 * `default_class` (a CKO_* value, e.g. 3 = CKO_PRIVATE_KEY) is used.
 * Errors: AVOW_ERR_ARG (bad URI, no object= or id=, a class the platform's
 * CK_ULONG cannot hold), AVOW_ERR_AMBIGUOUS (more than one object matches),
 * AVOW_ERR_NOT_FOUND, AVOW_ERR_PKCS11.
 */
AVOW_EXPORT avow_err avow_p11_find_object(avow_p11_session *s, const char *uri,
                                          uint64_t default_class, avow_p11_handle *out,
                                          avow_diag *diag);

/* Shorthand: avow_p11_find_object with default_class CKO_PRIVATE_KEY. */
AVOW_EXPORT avow_err avow_p11_find_key(avow_p11_session *s, const char *uri, avow_p11_handle *out,
                                       avow_diag *diag);

/*
 * The public key of a key object (private or public): from CKA_PUBLIC_KEY_INFO
 * when the token fills it, otherwise built from CKA_EC_PARAMS + CKA_EC_POINT
 * or CKA_MODULUS + CKA_PUBLIC_EXPONENT of the object or of the public key
 * with the same CKA_ID. *out is owned by the caller (EVP_PKEY_free).
 * Errors: AVOW_ERR_NOT_FOUND (no public part), AVOW_ERR_UNSUPPORTED (key
 * type), AVOW_ERR_BAD_SPKI, AVOW_ERR_PKCS11.
 */
AVOW_EXPORT avow_err avow_p11_get1_pubkey(avow_p11_session *s, avow_p11_handle key, EVP_PKEY **out,
                                          avow_diag *diag);

/*
 * The certificate (CKO_CERTIFICATE, CKC_X_509) whose CKA_ID equals the key's.
 * *out is owned by the caller (X509_free). Errors: AVOW_ERR_NOT_FOUND when the
 * key has no CKA_ID or no certificate carries it, AVOW_ERR_BAD_CERT.
 */
AVOW_EXPORT avow_err avow_p11_get1_cert(avow_p11_session *s, avow_p11_handle key, X509 **out,
                                        avow_diag *diag);

/* --- claims --- */

/*
 * Adds vendor, hwmodel, hwversion, hwserial, swname and swversion from
 * CK_INFO and CK_TOKEN_INFO to the platform element at index `element`
 * (made by the caller with avow_evidence_add_element). Blank fields are
 * omitted.
 */
AVOW_EXPORT avow_err avow_p11_add_platform_claims(avow_p11_session *s, avow_evidence *ev,
                                                  size_t element, avow_diag *diag);

/*
 * Appends a key element describing `key` (a private or secret key object;
 * its public key object, found by CKA_ID, adds its usage flags and public
 * value): identifier (CKA_LABEL, then hex CKA_ID), spki, extractable,
 * sensitive, never-extractable, local, expiry, purpose. Every attribute is
 * read before the element is made, so a token failure leaves ev unchanged.
 * *index (may be NULL) receives the element's position.
 * Errors: AVOW_ERR_MISSING_CLAIM when the key has neither label nor id,
 * AVOW_ERR_PKCS11, any error of avow_evidence_add_claim.
 */
AVOW_EXPORT avow_err avow_p11_add_key_claims(avow_p11_session *s, avow_p11_handle key,
                                             avow_evidence *ev, size_t *index, avow_diag *diag);

/* avow_p11_find_key on uri, then avow_p11_add_key_claims. */
AVOW_EXPORT avow_err avow_p11_add_key_claims_uri(avow_p11_session *s, const char *uri,
                                                 avow_evidence *ev, size_t *index, avow_diag *diag);

/* --- signing --- */

/*
 * A signer over the private key object `key`: the hash is computed here and
 * the signature made in the token (CKM_ECDSA, CKM_RSA_PKCS over a DigestInfo
 * or CKM_SHA*_RSA_PKCS, CKM_RSA_PKCS_PSS). alg NONE picks the key's default
 * (avow_sigalg_for_key with pss = 0). ECDSA signatures come out as DER
 * ECDSA-Sig-Value. The signer holds a reference on s. No certificate is set:
 * use avow_p11_get1_cert or a file and avow_signer_set1_cert.
 * Errors: AVOW_ERR_ALG_MISMATCH, AVOW_ERR_UNSUPPORTED, and those of
 * avow_p11_get1_pubkey. Caller frees *out with avow_signer_free.
 */
AVOW_EXPORT avow_err avow_p11_signer_new(avow_p11_session *s, avow_p11_handle key, avow_sigalg alg,
                                         avow_signer **out, avow_diag *diag);

/* --- key generation --- */

typedef enum avow_p11_keytype {
    AVOW_P11_KEY_EC_P256 = 0,
    AVOW_P11_KEY_EC_P384,
    AVOW_P11_KEY_RSA
} avow_p11_keytype;

/* Fill with avow_p11_keygen_params_init, then set what differs. */
typedef struct avow_p11_keygen_params {
    size_t size; /* set by avow_p11_keygen_params_init */
    avow_p11_keytype type;
    unsigned rsa_bits; /* 0 = 3072 */
    const char *label; /* CKA_LABEL; NULL = none */
    const uint8_t *id; /* CKA_ID; NULL = none */
    size_t id_len;
    int sensitive;        /* CKA_SENSITIVE */
    int extractable;      /* CKA_EXTRACTABLE */
    int session_only;     /* 1: CKA_TOKEN false (object vanishes with the session) */
    const char *end_date; /* CKA_END_DATE as "YYYYMMDD"; NULL = none */
    unsigned caps;        /* bits 1u << avow_capability; 0 = sign | verify */
} avow_p11_keygen_params;

/*
 * Defaults: an EC P-256 token object, sensitive, not extractable, no
 * label, id or end date, sign | verify. No-op for NULL.
 */
AVOW_EXPORT void avow_p11_keygen_params_init(avow_p11_keygen_params *p);

/*
 * Generates a key pair in the token (session opened with AVOW_P11_RW and,
 * for a private object, logged in). Each capability in p->caps is set
 * CK_TRUE on the object it belongs to (decrypt, unwrap, sign, sign-recover
 * and derive on the private key; encrypt, wrap, verify, verify-recover on the
 * public key), every other one CK_FALSE. priv and pub may be NULL.
 * Errors: AVOW_ERR_ARG (params not set up by avow_p11_keygen_params_init,
 * bad params or end_date), AVOW_ERR_PKCS11.
 */
AVOW_EXPORT avow_err avow_p11_keygen(avow_p11_session *s, const avow_p11_keygen_params *p,
                                     avow_p11_handle *priv, avow_p11_handle *pub, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
