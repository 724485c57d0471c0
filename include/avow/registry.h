/*
 * avow/registry.h - the evidence-type registry: which verifier handles an
 * attestation statement of a given type OID, and the uniform result every
 * such verifier yields (normalised claims, nonce state, key binding).
 *
 * Built-in rows live in a const table (PKIX Evidence today; TPM2 certify,
 * PSA and CMW are rows to come). A caller may add rows of its own in an
 * avow_registry object, looked up before the built-ins; the object is only
 * read during verification, so one registry serves many threads.
 */
#ifndef AVOW_REGISTRY_H
#define AVOW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <avow/claims.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/profile.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of verifying one statement, whatever its format. */
typedef struct avow_statement_result {
    const char *type_name; /* row name ("pkix-evidence"), or "unknown" */
    char type_oid[128];    /* dotted */
    avow_err status;       /* AVOW_OK: verified and trusted; AVOW_ERR_STATEMENT_TYPE: no row */
    char detail[256];      /* why status is not AVOW_OK (field and message) */
    avow_claimset claims;  /* normalised claims; views live as long as the result */
    avow_nonce_state nonce;
    long key_element; /* index of the key element whose spki equals the SPKI asked about, or -1 */
    /* The format's own result for printing (e.g. "avow_evidence_result"); NULL when none. */
    const char *native_type;
    const void *native;
    /* Owned by the row that filled the result; released by avow_statement_result_clear. */
    void *priv_;
    void (*priv_free_)(void *priv);
} avow_statement_result;

/* Frees what the result holds and zeroes it. No-op for NULL. */
AVOW_EXPORT void avow_statement_result_clear(avow_statement_result *r);

/* For PKIX Evidence rows: the decoded Evidence and its verification result; NULL otherwise. */
AVOW_EXPORT const avow_evidence *
avow_statement_result_get0_evidence(const avow_statement_result *r);
AVOW_EXPORT const avow_evidence_result *
avow_statement_result_get0_evidence_result(const avow_statement_result *r);

struct avow_statement_type;

/*
 * A row's verify function. stmt is the whole DER TLV of the statement's stmt
 * field; opts carries the expected nonce, flags and the bundle's certs as
 * untrusted; spki (may be NULL) is the SubjectPublicKeyInfo DER whose key
 * element is looked for (out->key_element). Fills every field of *out it
 * knows (out arrives zeroed with key_element = -1, type_name and type_oid
 * set) and returns out->status.
 */
typedef avow_err (*avow_statement_verify_fn)(const struct avow_statement_type *row,
                                             const avow_verifier *v, const uint8_t *stmt,
                                             size_t len, const avow_verify_opts *opts,
                                             const uint8_t *spki, size_t spki_len,
                                             avow_statement_result *out, avow_diag *diag);

/* How a row's type OID is found. */
typedef enum avow_type_oid_kind {
    AVOW_TYPE_OID_FIXED = 0,       /* `oid` */
    AVOW_TYPE_OID_EVIDENCE_ARC = 1 /* the verifier profile's id-evidence arc (PKIX Evidence) */
} avow_type_oid_kind;

typedef struct avow_statement_type {
    const char *name;
    avow_type_oid_kind oid_kind;
    avow_oid oid; /* for AVOW_TYPE_OID_FIXED */
    avow_statement_verify_fn verify;
    void *arg; /* for the row's own use */
} avow_statement_type;

/* The built-in rows (const, static lifetime). */
AVOW_EXPORT size_t avow_registry_builtin_count(void);
AVOW_EXPORT const avow_statement_type *avow_registry_builtin(size_t i);

typedef struct avow_registry avow_registry;

/* An empty set of caller rows. Caller frees with avow_registry_free. */
AVOW_EXPORT avow_err avow_registry_new(avow_registry **out);
/* No-op for NULL. */
AVOW_EXPORT void avow_registry_free(avow_registry *reg);
/* Adds (copies) a row; it is found before the built-ins, so it may replace one. name is not copied.
 */
AVOW_EXPORT avow_err avow_registry_add(avow_registry *reg, const avow_statement_type *row);

/*
 * The row for a type OID (DER content octets) under a profile (NULL =
 * defaults); reg NULL = built-ins only. NULL when no row matches.
 */
AVOW_EXPORT const avow_statement_type *avow_registry_find(const avow_registry *reg,
                                                          const avow_profile *profile,
                                                          const uint8_t *oid, size_t oid_len);

/*
 * Verifies one statement through its row (reg NULL = built-ins; the profile
 * is the verifier's). *out is always filled (clear it with
 * avow_statement_result_clear); an unknown type yields status
 * AVOW_ERR_STATEMENT_TYPE, which is reported, and a caller decides whether
 * it is fatal. Returns out->status.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_statement_verify(
    const avow_verifier *v, const avow_registry *reg, const uint8_t *type_oid, size_t type_oid_len,
    const uint8_t *stmt, size_t len, const avow_verify_opts *opts, const uint8_t *spki,
    size_t spki_len, avow_statement_result *out, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
