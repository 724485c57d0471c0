/*
 * avow/verification.h - verifying a set of attestation statements about
 * one key: every statement through the registry (with the certificates
 * that came with them as untrusted), the caller's proof-of-possession
 * outcome, and the binding of the key to a key a verified statement
 * attests. An attested CSR, an OAuth client attestation, a verifier
 * session of the service and a workload credential request all reduce to
 * this input; appraisal (appraise.h) and results read what it yields.
 */
#ifndef AVOW_VERIFICATION_H
#define AVOW_VERIFICATION_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/registry.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One statement: its type OID and its bytes, both borrowed. */
typedef struct avow_statement_in {
    avow_view type; /* DER content octets of the type OID */
    avow_view der;  /* the statement's whole DER TLV */
} avow_statement_in;

/* Limit of statements in one input (the request decoder's limit is lower). */
#define AVOW_VERIFICATION_MAX_STATEMENTS 64u

/* What is to be verified. Fill it after avow_statements_in_init. */
typedef struct avow_statements_in {
    size_t size; /* set by avow_statements_in_init */
    size_t nstatements;
    const avow_statement_in *statements;
    STACK_OF(X509) * untrusted; /* certificates that came with the statements; may be NULL */
    /* The key to bind (DER SubjectPublicKeyInfo); empty: nothing to bind, the
     * first verified statement answers. */
    avow_view key;
    /* The caller's proof that the presenter holds `key` (a CSR's
     * self-signature, a PoP JWT): AVOW_OK when it verified, else the error. */
    avow_err possession;
    const char *possession_detail; /* why not; borrowed, may be NULL */
} avow_statements_in;

AVOW_EXPORT void avow_statements_in_init(avow_statements_in *in);

/* Verification flags (avow_verification_opts.flags); 0 is fully strict. */
enum {
    /* When no verified statement attests the key by its SPKI, accept a
     * key element named opts->bind_identifier (AVOW_ROLE_KEY_ID). */
    AVOW_REQVERIFY_BIND_BY_IDENTIFIER = 1u << 0
};

typedef struct avow_verification_opts {
    size_t size;          /* set by avow_verification_opts_init */
    const uint8_t *nonce; /* expected nonce for every statement; NULL when none is expected */
    size_t nonce_len;
    unsigned verify_flags;         /* AVOW_VERIFY_* handed to each statement's row */
    unsigned flags;                /* AVOW_REQVERIFY_* */
    const avow_registry *registry; /* caller rows; NULL = built-ins only */
    const uint8_t
        *bind_identifier; /* with AVOW_REQVERIFY_BIND_BY_IDENTIFIER (not NUL-terminated) */
    size_t bind_identifier_len;
    /*
     * Statement types (a row name such as "pkix-evidence", or a dotted type
     * OID) trusted only when a platform token of the request binds their
     * signer, as a KAT always is (docs/kat.md): unbound, such a statement
     * fails with AVOW_ERR_KAT_UNLINKED (or the broken link's code). An
     * appraisal fills it from the policy's "statements": {"linked": [...]}.
     */
    const char *const *link_required;
    size_t nlink_required;
} avow_verification_opts;

AVOW_EXPORT void avow_verification_opts_init(avow_verification_opts *o);

/* What verifying a set of statements found. Opaque; read with the accessors. */
typedef struct avow_verification avow_verification;

/*
 * Verifies every statement of in and binds the key. *out (may be NULL)
 * receives the result in every case once the arguments are valid; it
 * borrows from in's statements and from v, so free it first
 * (avow_verification_free). Returns the overall status:
 * AVOW_OK only when possession verified, no statement of a known type
 * failed, at least one statement verified, and the key (when one is given)
 * is bound. Otherwise the first of: the possession error, the first
 * failing known statement's status, AVOW_ERR_STATEMENT_TYPE (no statement
 * of a known type), AVOW_ERR_KEY_BINDING. Statements of unknown types are
 * reported and are not fatal by themselves.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_statements_verify(const avow_verifier *v,
                                                            const avow_statements_in *in,
                                                            const avow_verification_opts *opts,
                                                            avow_verification **out,
                                                            avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_verification_free(avow_verification *r);

AVOW_EXPORT avow_err avow_verification_status(const avow_verification *r);
/* Why the status is not AVOW_OK ("" when it is). Borrowed. */
AVOW_EXPORT const char *avow_verification_detail(const avow_verification *r);
/* The caller's possession outcome and its detail (borrowed, may be NULL). */
AVOW_EXPORT avow_err avow_verification_possession(const avow_verification *r, const char **detail);
/* AVOW_OK or AVOW_ERR_KEY_BINDING. */
AVOW_EXPORT avow_err avow_verification_binding(const avow_verification *r);
/* How the key was bound: "key-spki" (an attested key has its SPKI), "key-id" (an attested
 * key has the name asked for), "none" (no key given) or NULL (not bound). */
AVOW_EXPORT const char *avow_verification_bound_by(const avow_verification *r);
/*
 * The statement the key is bound to and the element of it that describes
 * the key; 0 when unbound (*stmt and *element untouched), 1 otherwise.
 * With no key given, the first verified statement answers and *element is
 * AVOW_NO_ELEMENT.
 */
#define AVOW_NO_ELEMENT ((size_t)-1)
AVOW_EXPORT int avow_verification_bound(const avow_verification *r, size_t *stmt, size_t *element);
AVOW_EXPORT size_t avow_verification_count(const avow_verification *r);
/* Statements with status AVOW_OK, and with status AVOW_ERR_STATEMENT_TYPE. */
AVOW_EXPORT size_t avow_verification_verified(const avow_verification *r);
AVOW_EXPORT size_t avow_verification_unknown(const avow_verification *r);
/* The i-th statement's result, in input order. Borrowed. */
AVOW_EXPORT const avow_statement_result *avow_verification_get0(const avow_verification *r,
                                                                size_t i);
/* The key given in the input (empty when none). Borrowed from the input. */
AVOW_EXPORT avow_view avow_verification_key(const avow_verification *r);

/*
 * The result as JSON: {"status", "detail", "pop", "binding", "bound_by",
 * "bound_statement", "bound_element", "statements": [{"name", "type",
 * "status", "detail", and for a statement nested in another (the combined
 * form) "nested_in" (the outer one's index) and "nested_at" (the field)}]};
 * NUL-terminated, owned by the caller.
 */
AVOW_EXPORT avow_err avow_verification_to_json(const avow_verification *r, avow_buf *out,
                                               avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
