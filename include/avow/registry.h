/*
 * avow/registry.h - statement types. A row of the registry is a whole
 * format: its name and type OID, the vocabulary of claims it yields, and
 * the functions that decode a statement, verify it, turn it into
 * normalised claims and show it as text or JSON. Everything above the
 * registry (request verification, appraisal, `avow csr show`, the CA, the
 * service) goes through these rows and never branches on a format.
 *
 * Built-in rows live in a const table (PKIX Evidence, the PSA token, CMW
 * statements and the TCG DICE wrapper, TPM2_Certify); each verifies. A caller may add rows of its
 * own in an avow_registry object, looked up before the built-ins; the object is only read during
 * verification, so one registry serves many threads.
 */
#ifndef AVOW_REGISTRY_H
#define AVOW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/claims.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/profile.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct avow_statement_type avow_statement_type;

/*
 * The functions of a row. `native` is the row's decoded statement,
 * `verified` what its verify learnt (either may be NULL where noted); both
 * are the row's own objects, released by its `free`.
 */

/* Decodes stmt (the statement's whole DER TLV) strictly into *native. */
typedef avow_err (*avow_stmt_decode_fn)(const avow_statement_type *row, const avow_profile *profile,
                                        const uint8_t *stmt, size_t len, void **native,
                                        avow_diag *diag);
/*
 * Verifies a decoded statement: signatures, chains to v's anchors (opts
 * carries the expected nonce, flags, and the certificates that came with
 * the statement as untrusted). Returns AVOW_OK only when the statement is
 * trusted; *verified may be set in every case (what was learnt, for
 * printing and claims).
 */
typedef avow_err (*avow_stmt_verify_fn)(const avow_statement_type *row, const avow_verifier *v,
                                        const void *native, const avow_verify_opts *opts,
                                        void **verified, avow_diag *diag);
/*
 * The statement's claims, normalised (names and types from the row's
 * vocabulary, roles set, signed_by from what verified; verified NULL: no
 * claim is signed). *out is allocated with avow_claimset_alloc.
 */
typedef avow_err (*avow_stmt_claims_fn)(const avow_statement_type *row, const void *native,
                                        const void *verified, avow_claimset *out);
/* Text (like `openssl x509 -text`) or JSON of the statement; verified may be NULL. */
typedef avow_err (*avow_stmt_print_fn)(const avow_statement_type *row, const void *native,
                                       const void *verified, avow_buf *out);
/* Releases what decode and verify made (either may be NULL). */
typedef void (*avow_stmt_free_fn)(const avow_statement_type *row, void *native, void *verified);

/*
 * The second pass over a request's statements (links). A statement offers
 * keys (the i-th into *out; 0 past the last): the key that signed it
 * (AVOW_LINK_SIGNER: a KAT's KAK, the signer of PKIX Evidence) and the keys
 * it attests (AVOW_LINK_ATTESTED), each in the encoding a platform token's
 * nonce hashes. A verified platform statement whose nonce is not the
 * request's nonce but the hash of a SIGNER key of another statement
 * (avow_kat_link_nonce) is linked to it and trusted for freshness through
 * it; verification.c does the matching, docs/kat.md the rules.
 */
typedef enum avow_link_role { AVOW_LINK_SIGNER = 0, AVOW_LINK_ATTESTED = 1 } avow_link_role;

typedef struct avow_link_key {
    avow_link_role role;
    avow_view encoding; /* borrowed from the row's objects; empty: the DER SPKI of key */
    EVP_PKEY *key;      /* borrowed; used when encoding is empty */
    const char *form;   /* "cose-key", "spki" */
} avow_link_key;

typedef int (*avow_stmt_link_keys_fn)(const avow_statement_type *row, const void *native,
                                      const void *verified, size_t i, avow_link_key *out);

/*
 * Statements nested in a statement (the combined form: a platform token
 * carried inside PKIX Evidence, under its signature; docs/kat.md). A row
 * offers the i-th into *out (0 past the last), asked only once the outer
 * statement verified. Each is verified through the registry like a
 * statement of the request, under `type`, and its result follows the
 * request's statements (avow_statement_result_nested_in). One level only: a
 * nested statement that offers statements of its own is refused
 * (AVOW_ERR_NESTED), as is an outer one with more than
 * AVOW_NESTED_MAX_PER_STATEMENT.
 */
#define AVOW_NESTED_MAX_PER_STATEMENT 4u
#define AVOW_NESTED_MAX_DEPTH         1u

typedef struct avow_nested_stmt {
    avow_oid type;  /* the nested statement's type */
    avow_view stmt; /* its whole DER TLV, as its type's row reads it; borrowed from native */
    char field[96]; /* where it sits in the outer statement */
} avow_nested_stmt;

typedef int (*avow_stmt_nested_fn)(const avow_statement_type *row, const void *native,
                                   const void *verified, size_t i, avow_nested_stmt *out);

/* Row link flags. */
enum {
    /* The statement's signer is trusted only when a platform statement of the
     * request binds it (a KAT: the KAK is vouched for by the PAT alone). */
    AVOW_LINK_NEEDS_PLATFORM = 1u << 0
};

/* How a row's type OID is found. */
typedef enum avow_type_oid_kind {
    AVOW_TYPE_OID_FIXED = 0,       /* `oid` */
    AVOW_TYPE_OID_EVIDENCE_ARC = 1 /* the verifier profile's id-evidence arc (PKIX Evidence) */
} avow_type_oid_kind;

struct avow_statement_type {
    size_t size; /* sizeof(avow_statement_type) as the row's author compiled it */
    const char *name;
    avow_type_oid_kind oid_kind;
    avow_oid oid;                 /* for AVOW_TYPE_OID_FIXED */
    const avow_vocabulary *vocab; /* NULL: the type yields no claims a policy can name */
    const char *native_name;      /* what avow_statement_result_get0_native calls `native` */
    const char *verified_name;    /* ... and `verified` */
    /* A row without decode and verify only names a type (a caller may register one): its
     * statements are reported (AVOW_ERR_STATEMENT_TYPE) and shown as bytes. */
    avow_stmt_decode_fn decode;
    avow_stmt_verify_fn verify;
    avow_stmt_claims_fn to_claims;
    avow_stmt_print_fn to_text; /* NULL: shown as bytes */
    avow_stmt_print_fn to_json; /* NULL: shown as hex */
    avow_stmt_free_fn free;
    void *arg;                        /* for the row's own use */
    avow_stmt_link_keys_fn link_keys; /* NULL: offers no key to link with */
    unsigned link_flags;              /* AVOW_LINK_* */
    avow_stmt_nested_fn nested;       /* NULL: nests no statement */
};

/* The built-in rows (const, static lifetime). */
AVOW_EXPORT size_t avow_registry_builtin_count(void);
AVOW_EXPORT const avow_statement_type *avow_registry_builtin(size_t i);

typedef struct avow_registry avow_registry;

/* An empty set of caller rows. Caller frees with avow_registry_free. */
AVOW_EXPORT avow_err avow_registry_new(avow_registry **out);
/* No-op for NULL. */
AVOW_EXPORT void avow_registry_free(avow_registry *reg);
/*
 * Adds (copies) a row; it is found before the built-ins, so it may replace
 * one. The strings, the vocabulary and `arg` are not copied: they must
 * outlive reg. Errors: AVOW_ERR_ARG (no name, no OID, decode without
 * verify or to_claims, a size this library does not know), AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_registry_add(avow_registry *reg, const avow_statement_type *row,
                                       avow_diag *diag);

/*
 * The row for a type OID (DER content octets) under a profile (NULL =
 * defaults); reg NULL = built-ins only. NULL when no row matches.
 */
AVOW_EXPORT const avow_statement_type *avow_registry_find(const avow_registry *reg,
                                                          const avow_profile *profile,
                                                          const uint8_t *oid, size_t oid_len);

/* Every row in lookup order (caller rows, then built-ins): count and the i-th. */
AVOW_EXPORT size_t avow_registry_count(const avow_registry *reg);
AVOW_EXPORT const avow_statement_type *avow_registry_get0(const avow_registry *reg, size_t i);

/* --- one statement --- */

/* One key a verified statement attests: an element with a signed KEY_SPKI claim. */
typedef struct avow_attested_key {
    size_t element_index;
    avow_view spki; /* DER SubjectPublicKeyInfo, borrowed from the result */
} avow_attested_key;

/* Outcome of verifying one statement, whatever its format. Opaque. */
typedef struct avow_statement_result avow_statement_result;

/*
 * Verifies one statement through its row (reg NULL = built-ins; the
 * profile is the verifier's): decode, verify, claims; then the nonce is
 * compared with opts->nonce on the claim whose role is AVOW_ROLE_NONCE,
 * whatever the row did. *out is always set once the arguments are valid
 * (free it with avow_statement_result_free); a type no row verifies
 * yields status AVOW_ERR_STATEMENT_TYPE, which is reported, and a caller
 * decides whether it is fatal. Returns the result's status.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err
avow_statement_verify(const avow_verifier *v, const avow_registry *reg, const uint8_t *type_oid,
                      size_t type_oid_len, const uint8_t *stmt, size_t len,
                      const avow_verify_opts *opts, avow_statement_result **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_statement_result_free(avow_statement_result *r);

/* AVOW_OK: verified and trusted; AVOW_ERR_STATEMENT_TYPE: no row verifies the type. */
AVOW_EXPORT avow_err avow_statement_result_status(const avow_statement_result *r);
/* Why the status is not AVOW_OK ("" when it is). Borrowed. */
AVOW_EXPORT const char *avow_statement_result_detail(const avow_statement_result *r);
/* The row's name ("pkix-evidence"), or "unknown" when no row has the type. */
AVOW_EXPORT const char *avow_statement_result_type_name(const avow_statement_result *r);
/* The type OID, dotted. Borrowed. */
AVOW_EXPORT const char *avow_statement_result_type_oid(const avow_statement_result *r);
/* The row (NULL when none has the type). */
AVOW_EXPORT const avow_statement_type *
avow_statement_result_get0_type(const avow_statement_result *r);
/* Normalised claims (empty when the statement did not decode). Borrowed. */
AVOW_EXPORT const avow_claimset *avow_statement_result_get0_claims(const avow_statement_result *r);
AVOW_EXPORT avow_nonce_state avow_statement_result_nonce_state(const avow_statement_result *r);
/* The nonce the statement carries under a verified signature; empty when none. Borrowed. */
AVOW_EXPORT avow_view avow_statement_result_nonce(const avow_statement_result *r);
/* The keys the statement attests (none unless it verified). Borrowed. */
AVOW_EXPORT size_t avow_statement_result_key_count(const avow_statement_result *r);
AVOW_EXPORT const avow_attested_key *avow_statement_result_get0_key(const avow_statement_result *r,
                                                                    size_t i);
/*
 * The statement this one is linked to in the second pass (a platform token
 * to the KAT or Evidence whose signer it binds): 1 and *stmt (its index in
 * the verification), or 0. *how names the link ("kat-kak sha-256").
 */
AVOW_EXPORT int avow_statement_result_linked_to(const avow_statement_result *r, size_t *stmt,
                                                const char **how);
/*
 * Whether this statement was nested in another (the combined form): 1 and
 * *outer (the outer statement's index in the verification) and *field
 * (where it sat in the outer one, borrowed), or 0. A nested statement that
 * verified and is bound to its outer one is also linked to it
 * (avow_statement_result_linked_to, how "nested: ...").
 */
AVOW_EXPORT int avow_statement_result_nested_in(const avow_statement_result *r, size_t *outer,
                                                const char **field);
/* The attested key whose SPKI is spki (byte for byte), or NULL. */
AVOW_EXPORT const avow_attested_key *
avow_statement_result_find_key(const avow_statement_result *r, const uint8_t *spki, size_t len);
/*
 * Whether the element at element_index carries a signed AVOW_ROLE_KEY_ID
 * claim equal to id (a key's label or identifier).
 */
AVOW_EXPORT int avow_statement_result_key_named(const avow_statement_result *r,
                                                size_t element_index, const uint8_t *id,
                                                size_t len);
/*
 * The row's own objects, by the name its row gives them (for PKIX
 * Evidence "avow_evidence" and "avow_evidence_result"); NULL when the
 * name is not the row's or the object does not exist. Borrowed.
 */
AVOW_EXPORT const void *avow_statement_result_get0_native(const avow_statement_result *r,
                                                          const char *name);
/*
 * The statement as text (verified details included) or JSON: through the
 * row, or as bytes for a type no row shows. *out is NUL-terminated
 * (len excludes the NUL), owned by the caller (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_statement_result_to_text(const avow_statement_result *r, avow_buf *out,
                                                   avow_diag *diag);
AVOW_EXPORT avow_err avow_statement_result_to_json(const avow_statement_result *r, avow_buf *out,
                                                   avow_diag *diag);

/*
 * Shows a statement without verifying it: decoded through its row and
 * printed as text (json 0) or JSON (json 1); a statement that does not
 * decode, or whose type no row shows, is printed as what it is (hex,
 * the decode error). Output as for avow_statement_result_to_text.
 */
AVOW_EXPORT avow_err avow_statement_show(const avow_registry *reg, const avow_profile *profile,
                                         const uint8_t *type_oid, size_t type_oid_len,
                                         const uint8_t *stmt, size_t len, int json, avow_buf *out,
                                         avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
