/* Key identifiers of a public key, for the verifier's key set and signer checks. */
#ifndef AVOW_X509_INT_H
#define AVOW_X509_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/x509.h>

/* Every key identifier of avow_key_id_method (avow/x509.h) of one public key. */
typedef struct avow__key_ids {
    uint8_t id[AVOW_KEY_ID_METHOD_COUNT_][AVOW_KEY_ID_MAX_LEN];
    uint8_t len[AVOW_KEY_ID_METHOD_COUNT_];
} avow__key_ids;

/*
 * The key identifiers of a DER SubjectPublicKeyInfo, whose bits are read off
 * its headers (SEQUENCE { AlgorithmIdentifier, BIT STRING }), so no key is
 * decoded. Errors: AVOW_ERR_BAD_SPKI, AVOW_ERR_CRYPTO.
 */
avow_err avow__key_ids_of_spki(const uint8_t *spki, size_t len, avow__key_ids *out);

/* The subjectPublicKey bits of a DER SubjectPublicKeyInfo (a view into it); 0 when malformed. */
int avow__spki_bits(const uint8_t *spki, size_t len, const uint8_t **bits, size_t *nbits);

/* The method whose identifier is id[0..len), or -1 when none is. */
int avow__key_ids_find(const avow__key_ids *ids, const uint8_t *id, size_t len);

/* A subjectAltName extension of names (critical when asked) into *out (X509_EXTENSION_free). */
avow_err avow__san_ext(const GENERAL_NAMES *names, int critical, X509_EXTENSION **out,
                       avow_diag *diag);

/*
 * The subjectAltName in a list of extensions (a request's): *out NULL when
 * there is none. where names the list in messages. Strict as
 * avow_request_get1_sans says.
 */
avow_err avow__san_from_exts(const STACK_OF(X509_EXTENSION) * exts, const char *where,
                             GENERAL_NAMES **out, avow_diag *diag);

#endif
