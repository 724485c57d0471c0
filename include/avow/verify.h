/*
 * avow/verify.h - verifying PKIX Evidence by the rules of
 * draft-ietf-rats-pkix-key-attestation-07, section 6.
 *
 * An avow_verifier holds trust anchors, extra certificates and a key set.
 * Set it up once; afterwards avow_verify_evidence() may be called from many
 * threads at once on the same verifier. Verifications only read its set-up;
 * the one thing they share and write, the cache of validated chains, has a
 * lock of its own. The set-up calls (avow_verifier_add_*, _set_*,
 * _clear_time) must not run while a verification does.
 */
#ifndef AVOW_VERIFY_H
#define AVOW_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include <avow/claims.h>
#include <avow/err.h>
#include <avow/evidence.h>
#include <avow/export.h>
#include <avow/profile.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct avow_verifier avow_verifier;

/* Verification flags; 0 is fully strict. */
enum {
    /* Trust the Evidence when at least one signature verifies to a trusted
     * key (a verifier that checks only its own operational environment);
     * by default every signature block must verify. */
    AVOW_VERIFY_ANY_SIGNATURE = 1u << 0,
    /* Do not require the signer's SPKI to be listed in ak-spki claims when
     * some are present (the draft says SHOULD). */
    AVOW_VERIFY_IGNORE_AK_SPKI = 1u << 1,
    /* Fail when the Evidence has no nonce, even if none is expected. */
    AVOW_VERIFY_REQUIRE_NONCE = 1u << 2,
    /* Accept an ECDSA signature whose hash does not fit the curve. By default
     * the hash must be the curve's: SHA-256 for P-256 (and curves up to 256
     * bits), SHA-384 for P-384, SHA-512 for P-521 (AVOW_ERR_ALG_MISMATCH). */
    AVOW_VERIFY_ANY_ECDSA_HASH = 1u << 3,
    /* Accept a signer (attestation-key) certificate with basicConstraints
     * CA:TRUE; by default it is refused (AVOW_ERR_AK_CA). */
    AVOW_VERIFY_ALLOW_AK_CA = 1u << 4,
    /* Do not check the extendedKeyUsage of intermediate CA certificates. By
     * default an intermediate (not the anchor) that carries the extension
     * must list the attestation-key EKU or anyExtendedKeyUsage
     * (AVOW_ERR_AK_EKU), as path validation does for other EKUs. */
    AVOW_VERIFY_IGNORE_CA_EKU = 1u << 5,
    /* What binds a statement nested in another (a platform token inside
     * PKIX Evidence, docs/kat.md): by default its nonce must equal the
     * outer statement's signed nonce; with this flag it must instead be the
     * hash (SHA-256/384/512 by its size) of the DER SubjectPublicKeyInfo of
     * a key whose signature on the outer statement verified, as in the
     * linked form (a platform token made once for the attestation key). */
    AVOW_VERIFY_NESTED_BY_SIGNER = 1u << 6
};

/* profile NULL = compiled-in defaults. Caller frees *out with avow_verifier_free. */
AVOW_EXPORT avow_err avow_verifier_new(const avow_profile *profile, avow_verifier **out);
/* No-op for NULL. */
AVOW_EXPORT void avow_verifier_free(avow_verifier *v);

/* A trust anchor (reference taken). */
AVOW_EXPORT avow_err avow_verifier_add_anchor(avow_verifier *v, X509 *cert, avow_diag *diag);
/* An untrusted certificate for path building and key-id lookup (reference taken). */
AVOW_EXPORT avow_err avow_verifier_add_cert(avow_verifier *v, X509 *cert, avow_diag *diag);
/*
 * A raw public key the caller trusts (reference taken). A signature block
 * whose subjectPublicKeyInfo is this key's (the same DER) uses it; one that
 * names its signer by keyId finds it by key_id[0..len) when given, or by
 * any identifier avow_spki_key_id_by derives from the key (RFC 5280
 * 4.2.1.2 method 1, RFC 7093 section 2 methods 1 to 4), so key_id may be
 * NULL (len 0). Explicit key ids are looked up first, then the derived
 * ones, then the SubjectKeyIdentifiers of the added and embedded
 * certificates (which must then chain to an anchor).
 */
AVOW_EXPORT avow_err avow_verifier_add_key(avow_verifier *v, const uint8_t *key_id, size_t len,
                                           EVP_PKEY *pub, avow_diag *diag);
/*
 * A secret key the caller trusts for MACed statements (a PSA token in a
 * COSE_Mac0 with a symmetric IAK), found only by its key id (for PSA, the
 * token's instance id); the bytes are copied and cleansed when the verifier
 * is freed. A secret is never tried on a signature and a public key never
 * on a MAC. Errors: AVOW_ERR_ARG (no id, a key shorter than 16 or longer
 * than 1024 bytes), AVOW_ERR_DUP_KEY (the id is already given to a
 * secret), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_verifier_add_secret(avow_verifier *v, const uint8_t *key_id, size_t len,
                                              const uint8_t *secret, size_t secret_len,
                                              avow_diag *diag);
/*
 * A verifier whose Attestation Results (EAR JWTs carried in a request's CMW
 * statement: the passport model, docs/ear.md) this verifier trusts
 * (reference taken). These keys are a set of their own: an attester's key
 * added with avow_verifier_add_key never verifies a result, and a result
 * key never verifies Evidence. kid (may be NULL) restricts the key to JWTs
 * whose "kid" header is kid; a key without one is tried on every result.
 * The JWT's alg must fit the key (ES256 only on P-256, ...; none and HS*
 * are refused). Errors: AVOW_ERR_ARG, AVOW_ERR_TOO_LARGE (more than
 * AVOW_VERIFIER_MAX_RESULT_KEYS), AVOW_ERR_NOMEM.
 */
#define AVOW_VERIFIER_MAX_RESULT_KEYS 64u
AVOW_EXPORT avow_err avow_verifier_add_result_key(avow_verifier *v, const char *kid, EVP_PKEY *pub,
                                                  avow_diag *diag);
/*
 * The oldest Attestation Result accepted when no nonce is expected: its iat
 * at most `seconds` before the verification time (default
 * AVOW_RESULT_MAX_AGE_DEFAULT; 0 refuses every result that is not bound to
 * an expected nonce). With an expected nonce, the result's eat_nonce must
 * equal it instead.
 */
#define AVOW_RESULT_MAX_AGE_DEFAULT 300u
AVOW_EXPORT void avow_verifier_set_result_max_age(avow_verifier *v, unsigned seconds);

/*
 * Time at which certificates are checked. Without a call (or after
 * avow_verifier_clear_time) it is the current time of each verification;
 * once set, it is exactly `at`, 0 (1970-01-01T00:00:00Z) included.
 */
AVOW_EXPORT void avow_verifier_set_time(avow_verifier *v, time_t at);
AVOW_EXPORT void avow_verifier_clear_time(avow_verifier *v);
AVOW_EXPORT void avow_verifier_set_flags(avow_verifier *v, unsigned flags);
AVOW_EXPORT const avow_profile *avow_verifier_get0_profile(const avow_verifier *v);

/* Entries in a new verifier's chain cache, and the most avow_verifier_set_cache takes. */
#define AVOW_VERIFIER_CACHE_DEFAULT 1024u
#define AVOW_VERIFIER_CACHE_MAX     (1u << 20)

/*
 * The cache of validated certificate chains: a signer certificate whose path
 * to an anchor validated is remembered, so the next Evidence signed under it
 * costs no path validation, only its own signature check: a hit neither
 * decodes the Evidence's certificates (avow_evidence_decode keeps them as
 * DER) nor their keys. A hit gives the verdict a fresh validation would:
 * the key is the SHA-256 of the certificate's DER bytes together with the anchor set and the
 * certificates between them, an entry is used only when each of those intermediates is among the
 * verifier's certificates or this call's (avow_verify_opts.untrusted, the
 * Evidence's intermediateCertificates), and only at a verification time
 * (avow_verifier_set_time, else the clock) within every certificate's
 * validity. The AK profile and intermediate EKU checks, which depend on the
 * flags, run on every call. Anchors cannot be withdrawn from a verifier, so
 * no cached chain outlives its anchor; adding one starts a new key space.
 * Revocation is not checked, cached or not.
 *
 * On by default with AVOW_VERIFIER_CACHE_DEFAULT entries; `entries` (at most
 * AVOW_VERIFIER_CACHE_MAX) replaces the cache with an empty one of that size,
 * 0 turns caching off. When full, an entry not hit since the eviction hand
 * last passed it makes room (CLOCK). A set-up call: not while verifications
 * run. Errors: AVOW_ERR_ARG, AVOW_ERR_NOMEM (the old cache is kept).
 */
AVOW_EXPORT avow_err avow_verifier_set_cache(avow_verifier *v, size_t entries, avow_diag *diag);

/*
 * Counters of the chain cache since it was made: lookups that hit, lookups
 * that missed (each then validated the path), and the chains held now. Any
 * out-parameter may be NULL; all are 0 without a cache or for a NULL v.
 */
AVOW_EXPORT void avow_verifier_cache_stats(const avow_verifier *v, uint64_t *hits, uint64_t *misses,
                                           size_t *entries);

/* Outcome of one SignatureBlock. */
typedef struct avow_sig_result {
    avow_err status;        /* AVOW_OK: signature valid and the key trusted */
    avow_sid_kind sid_kind; /* the field the key was taken from (avow_signature_block) */
    avow_sigalg alg;        /* AVOW_SIGALG_NONE when the algorithm is unsupported */
    const char *key_source; /* "key set", "certificate", "spki", or NULL when unresolved */
    EVP_PKEY *key;          /* borrowed; NULL when unresolved */
    X509 *cert;             /* borrowed signer certificate (chain[0] when chain is set, the
                               Evidence's otherwise); NULL for raw keys */
    STACK_OF(X509) * chain; /* borrowed validated chain, signer first, anchor last; may be NULL */
    int ak_spki;            /* 1 listed in ak-spki, 0 not listed, -1 no ak-spki claim */
    char detail[192];       /* why status is not AVOW_OK */
    unsigned sid_fields;    /* AVOW_SID_HAS_* of the block's SignerIdentifier */
} avow_sig_result;

typedef enum avow_nonce_state {
    AVOW_NONCE_NOT_CHECKED = 0, /* no nonce expected */
    AVOW_NONCE_MATCH,
    AVOW_NONCE_MISMATCH,
    AVOW_NONCE_ABSENT
} avow_nonce_state;

/* Everything verify learnt; read-only for the caller. */
typedef struct avow_evidence_result {
    avow_err status; /* same value avow_verify_evidence returned */
    int trusted;     /* 1 only when status is AVOW_OK */
    avow_nonce_state nonce;
    size_t nsigs;
    const avow_sig_result *sigs;
    avow_claimset claims;    /* every claim, known or not */
    size_t unknown_elements; /* kept, reported, not appraised */
    size_t unknown_claims;
} avow_evidence_result;

typedef struct avow_verify_opts {
    size_t size;          /* set by avow_verify_opts_init */
    const uint8_t *nonce; /* expected nonce; NULL when none is expected */
    size_t nonce_len;
    unsigned flags; /* added to the verifier's flags */
    STACK_OF(X509) *
        untrusted; /* more certificates for path building and key-id lookup
                      for this call only (e.g. an AttestationBundle's certs); may be NULL */
} avow_verify_opts;

/* Zeroes o and sets its size: call before filling an avow_verify_opts. */
AVOW_EXPORT void avow_verify_opts_init(avow_verify_opts *o);

/*
 * Verifies ev. Returns AVOW_OK only when the Evidence is trusted: at least one
 * signature, every signature (or one, with AVOW_VERIFY_ANY_SIGNATURE) valid
 * under a resolved and trusted key (an ECDSA hash fitting the curve), signer
 * certificates with keyUsage digitalSignature and the attestation-key EKU
 * and not CA certificates, intermediates whose EKU (if any) allows the
 * attestation-key EKU, signer SPKIs listed in ak-spki when such claims
 * exist, and the nonce equal to the expected one. High-S ECDSA signatures
 * are accepted (docs/design.md says why).
 * Otherwise returns the first reason (AVOW_ERR_UNSIGNED, AVOW_ERR_SIG_INVALID,
 * AVOW_ERR_CHAIN, AVOW_ERR_NONCE_MISMATCH, ...). In both cases *out, when
 * out is not NULL, receives the full result (caller frees with
 * avow_evidence_result_free); it borrows from ev and v, so free it first.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_verify_evidence(const avow_verifier *v,
                                                          const avow_evidence *ev,
                                                          const avow_verify_opts *opts,
                                                          avow_evidence_result **out,
                                                          avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_evidence_result_free(avow_evidence_result *r);

/*
 * The result as a JSON document (UTF-8, NUL-terminated, len excludes the NUL):
 * {"trusted":..., "status":..., "nonce":..., "signatures":[...], "claims":[...]}.
 * Caller frees *out with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_evidence_result_to_json(const avow_evidence_result *r, avow_buf *out);

/*
 * The result as text for people (what `avow evidence verify` prints): the
 * verdict, the nonce, each signature with its signer, chain and reason, and
 * every claim. Claim values and names, certificate names and details are
 * escaped with avow_escape_text's rules, so no value from the input can act
 * on a terminal or forge a line; text values are cut after 200 bytes and
 * binary ones after 32, saying so. NUL-terminated (len excludes the NUL);
 * caller frees *out with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_evidence_result_to_text(const avow_evidence_result *r, avow_buf *out);

#ifdef __cplusplus
}
#endif
#endif
