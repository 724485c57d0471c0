/*
 * Inside the registry: the opaque statement result and the built-in rows.
 * Each row lives in its own folder or file (pkix/row.c); registry.c lists them.
 */
#ifndef AVOW_REGISTRY_INT_H
#define AVOW_REGISTRY_INT_H

#include <avow/registry.h>

#include "core/internal.h"

struct avow_statement_result {
    const avow_statement_type *row; /* NULL when no row has the type */
    char type_oid[128];
    avow_err status;
    char detail[256];
    void *native;   /* the row's decoded statement */
    void *verified; /* what the row's verify learnt */
    avow_claimset claims;
    avow_nonce_state nonce_state;
    avow_view nonce; /* into claims' values */
    size_t nkeys;
    avow_attested_key *keys;
    avow_err verify_status; /* what the row's verify returned (the nonce aside) */
    size_t linked_to;       /* AVOW_NO_ELEMENT-like (size_t)-1 when not linked */
    const char *link_how;
    size_t nested_in;      /* the outer statement's index, or (size_t)-1 */
    char nested_field[96]; /* where it sat in the outer statement */
    int nested_by_signer;  /* nested and bound by the outer signer's key (not the nonce) */
};

/* pkix/row.c: PKIX Evidence (type = the profile's id-evidence arc). */
extern const avow_statement_type avow__pkix_row;
/*
 * The i-th statement nested in decoded PKIX Evidence, offered whether or
 * not a signature verified: for `avow csr show`, which checks none. The
 * row's nested callback offers it only under a verified signature.
 */
int avow__pkix_nested_unchecked(const void *native, size_t i, avow_nested_stmt *out);
/* psa/row.c: the PSA attestation token (RFC 9783). */
extern const avow_statement_type avow__psa_row;
/* cmw/row.c: a CMW (id-pe-cmw, and the TCG DICE wrapper), routed by its media type. */
extern const avow_statement_type avow__cmw_row;
extern const avow_statement_type avow__dice_cmw_row;
/* tpm/row.c: TPM 2.0 key attestation (tcg-attest-tpm-certify, TPM2_Certify). */
extern const avow_statement_type avow__tpm_row;

/* kat/row.c: the Key Attestation Token and its bundle (draft-bft-rats-kat). */
extern const avow_statement_type avow__kat_row;

/*
 * The second pass over verified statements (statement.c, docs/kat.md):
 * links platform statements to the statements whose signer their nonce
 * binds, and refuses what needs a platform and has none. r[0..n) in input
 * order; needs[i] (may be NULL: the rows' AVOW_LINK_NEEDS_PLATFORM only)
 * says that statement i is trusted only when a platform token binds its
 * signer.
 */

/*
 * Whether nonce is the link hash (avow_kat_link_nonce) of key: over its
 * encoding as carried, else its DER SPKI; compared in constant time.
 */
int avow__link_binds(avow_view nonce, const avow_link_key *key);

/* The name of the hash a link nonce of n bytes picks ("sha-256", ...). */
const char *avow__link_hash_name(size_t n);
void avow__statements_link(avow_statement_result **r, size_t n, const unsigned char *needs);

/*
 * The combined form (statement.c): verifies the k-th statement nested in
 * outer (r[oi]) through the registry into *inner (NULL past the last, or
 * when the outer nests none), refusing what is nested too deep and what its
 * binding to outer (the nonce, or with AVOW_VERIFY_NESTED_BY_SIGNER the
 * hash of outer's signer) does not hold; a failing inner statement fails
 * outer with AVOW_ERR_NESTED. Errors: AVOW_ERR_NOMEM only.
 */
avow_err avow__statement_nested(const avow_verifier *v, const avow_registry *reg,
                                const avow_verify_opts *vo, avow_statement_result *outer, size_t oi,
                                size_t k, avow_statement_result **inner);

/* Sets r->status and r->detail (printf-style); returns status. */
avow_err avow__stmt_fail(avow_statement_result *r, avow_err status, const char *fmt, ...)
    AVOW_PRINTF(3, 4);

/* r->detail from a diag: "field: detail", or the detail, or the code's message. */
avow_err avow__stmt_fail_diag(avow_statement_result *r, avow_err status, const avow_diag *d);

#endif
