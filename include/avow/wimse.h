/*
 * avow/wimse.h - WIMSE workload credentials issued from attestation:
 *
 *   - the Workload Identity Token (WIT, draft-ietf-wimse-workload-creds-02):
 *     a JWT of typ wit+jwt that binds one Workload Identifier (sub) to the
 *     workload's public key (cnf.jwk, with its alg), signed by the identity
 *     server; avow issues one only after an affirming appraisal of
 *     attestation about that very key (avow_wimse_issue_wit,
 *     avow_wimse_issue_wit_request);
 *   - the Workload Proof Token (WPT, draft-ietf-wimse-wpt-02): typ wpt+jwt,
 *     signed per request by the cnf key, bound to the WIT (wth) and to the
 *     tokens that travel with it (ath, tth, oth) (avow_wimse_wpt_sign);
 *   - the Workload Identity Certificate (WIC): X.509 with exactly one URI
 *     subjectAltName, the identifier, issued through the CA directory like
 *     any certificate (avow_wimse_issue_wic);
 *   - the relying party's checks of a WIT with its WPT (avow_wimse_verify)
 *     and of a WIC (avow_wimse_verify_wic).
 *
 * The Workload Identifier comes from the appraised claims through an
 * identifier policy (avow_wimse_idmap). Every JWS and JWK goes through
 * avow/jose.h; the jti replay set is avow_oauth_replay. docs/wimse.md has
 * the rules and the choices where the drafts leave them open.
 */
#ifndef AVOW_WIMSE_H
#define AVOW_WIMSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/bytes.h>
#include <avow/ca_dir.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/jose.h>
#include <avow/oauth.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/signer.h>
#include <avow/verification.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_WIMSE_TYP_WIT "wit+jwt" /* media type application/wit+jwt */
#define AVOW_WIMSE_TYP_WPT "wpt+jwt" /* media type application/wpt+jwt */

/* HTTP field names (case-insensitive on the wire). */
#define AVOW_WIMSE_HDR_WIT "Workload-Identity-Token"
#define AVOW_WIMSE_HDR_WPT "Workload-Proof-Token"

/* Limits and defaults. */
#define AVOW_WIMSE_MAX_TOKEN       8192u  /* bytes of one WIT or WPT (one header value) */
#define AVOW_WIMSE_MAX_URI         2048u  /* bytes of a Workload Identifier */
#define AVOW_WIMSE_MAX_JTI         256u   /* bytes of a jti */
#define AVOW_WIMSE_DEFAULT_WIT_TTL 3600u  /* seconds */
#define AVOW_WIMSE_MAX_WIT_TTL     86400u /* "hours, not days" */
#define AVOW_WIMSE_DEFAULT_WPT_TTL 60u
#define AVOW_WIMSE_MAX_WPT_TTL     300u /* a verifier refuses a WPT exp further than this ahead */
#define AVOW_WIMSE_DEFAULT_LEEWAY  30u  /* seconds of clock skew */
#define AVOW_WIMSE_MAX_OTH         16u  /* entries of a WPT "oth" */

/* Claims of the WIT that carry the appraisal (avow_wimse_issue_opts.result). */
#define AVOW_WIMSE_CLAIM_EAR        "ear"        /* the EAR JWT itself (compact JWS text) */
#define AVOW_WIMSE_CLAIM_EAR_SHA256 "ear_sha256" /* base64url(SHA-256(EAR JWT text)) */

/* ---- Workload Identifiers ---- */

/*
 * Checks uri as a Workload Identifier (draft-ietf-wimse-identifier-03):
 * an absolute URI of at most AVOW_WIMSE_MAX_URI bytes, its scheme one of
 * schemes (NULL-terminated, compared case-sensitively in lower case; NULL:
 * "spiffe" and "wimse"), then "//", a trust domain (a lower-case DNS-style
 * name: letters, digits, '-', '.', '_', no empty label, no port, no
 * userinfo) and a path of segments of unreserved characters and
 * percent-encodings (no empty, "." or ".." segment, no trailing '/'),
 * no query and no fragment. trust_domain (may be NULL) gets the trust
 * domain (NUL-terminated, the caller's: avow_buf_free). Errors:
 * AVOW_ERR_WIMSE_IDENTIFIER with diag->field "sub" (or the caller's field)
 * and the reason, AVOW_ERR_ARG, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_wimse_identifier_check(const char *uri, size_t len,
                                                 const char *const *schemes, avow_buf *trust_domain,
                                                 avow_diag *diag);

/* ---- Identifier policy: from appraised claims to exactly one identifier ---- */

/*
 * A JSON document (docs/wimse.md, "Identifier policy"):
 *   {"identifiers": [
 *      {"when": {"pkix:hwmodel": "SoftHSM v2"},
 *       "uri": "spiffe://example.org/hsm/{pkix:hwserial}"}, ...],
 *    "schemes": ["spiffe", "wimse"],
 *    "trust_domains": ["example.org"]}
 * Ordered rules, the first whose "when" holds wins (every member equal to
 * the bound statement's claim of that name, compared as text; {} always
 * holds). "{claim}" in "uri" substitutes that claim of the bound statement,
 * which must be present and URI-safe (unreserved characters only, at most
 * 255 bytes); the result must pass avow_wimse_identifier_check with the
 * policy's schemes and, when given, be in one of its trust domains. Claim
 * names ("vocabulary:claim", "pkix:hwmodel", or a bare "claim") are
 * checked when the policy is parsed against the vocabularies of reg's
 * statement types (NULL: the built-ins), as appraisal policy rules are: a
 * prefix must be a registered vocabulary's and the claim one of it, a bare
 * name one of some vocabulary, or a dotted OID; a name in "when" or in
 * "{claim}" that is none of these is AVOW_ERR_WIMSE_IDMAP_CLAIM, diag->
 * field naming the rule ("idmap.identifiers[1]") and the message the
 * claim. They are looked up in the bound statement's claims when the
 * policy is applied. Unknown members are refused.
 */
typedef struct avow_wimse_idmap avow_wimse_idmap;

#define AVOW_WIMSE_IDMAP_MAX_SIZE  (64u * 1024u)
#define AVOW_WIMSE_IDMAP_MAX_RULES 64u

/*
 * Errors: AVOW_ERR_JSON, AVOW_ERR_WIMSE_IDMAP (field names the member),
 * AVOW_ERR_WIMSE_IDMAP_CLAIM (a claim name no vocabulary has), AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_wimse_idmap_parse(const char *json, size_t len,
                                            const avow_registry *reg /* NULL: built-ins */,
                                            avow_wimse_idmap **out, avow_diag *diag);
AVOW_EXPORT avow_err avow_wimse_idmap_load(const char *path, const avow_registry *reg,
                                           avow_wimse_idmap **out, avow_diag *diag);
/* No-op for NULL. */
AVOW_EXPORT void avow_wimse_idmap_free(avow_wimse_idmap *m);

/*
 * The identifier for an appraisal: the rules applied to the claims of the
 * statement the key is bound to. *uri NUL-terminated, the caller's.
 * Errors: AVOW_ERR_WIMSE_NO_IDENTIFIER (no rule holds, or a substituted
 * claim is missing), AVOW_ERR_WIMSE_IDENTIFIER (the result is not a valid
 * identifier, a claim value is not URI-safe, or is out of the trust
 * domains), AVOW_ERR_ARG.
 */
AVOW_EXPORT avow_err avow_wimse_idmap_resolve(const avow_wimse_idmap *m, const avow_appraisal *a,
                                              avow_buf *uri, avow_diag *diag);

/* ---- Identity server: WIT and WIC ---- */

/* How the appraisal shows in the credential (avow_wimse_issue_opts.result). */
typedef enum avow_wimse_result_mode {
    AVOW_WIMSE_RESULT_NONE = 0,   /* nothing: the WIT says who, not how it was found */
    AVOW_WIMSE_RESULT_DIGEST = 1, /* WIT: "ear_sha256"; WIC: the CMW extension */
    AVOW_WIMSE_RESULT_EAR = 2     /* WIT: "ear", the EAR JWT; WIC: the CMW extension */
} avow_wimse_result_mode;

typedef struct avow_wimse_issue_opts {
    size_t size;                   /* set by avow_wimse_issue_opts_init */
    const avow_wimse_idmap *idmap; /* required by the issue calls (not by avow_wimse_wit_sign) */
    const char *iss;               /* the identity server's URI ("iss"); NULL: none */
    unsigned ttl; /* seconds; 0: AVOW_WIMSE_DEFAULT_WIT_TTL; over AVOW_WIMSE_MAX_WIT_TTL refused */
    int64_t now;  /* 0: the current time */
    const char *kid;     /* JWS header kid; NULL: none */
    const char *jti;     /* NULL: 16 random bytes, base64url */
    unsigned result;     /* avow_wimse_result_mode; _init sets AVOW_WIMSE_RESULT_DIGEST */
    unsigned wic_days;   /* WIC validity; 0: the CA directory's default */
    const char *wic_dns; /* WIC: more subjectAltName entries, DNS only ("DNS:a,DNS:b"); NULL */
} avow_wimse_issue_opts;

AVOW_EXPORT void avow_wimse_issue_opts_init(avow_wimse_issue_opts *o);

/*
 * Signs a WIT for sub (checked by avow_wimse_identifier_check) and
 * cnf_key (public part; cnf.jwk gets "alg", the JOSE algorithm the key
 * signs with: ES256/384/512 by curve, EdDSA, RS256 for RSA) with no
 * appraisal behind it: for tests, interop and identity servers that
 * appraise by other means. opts->idmap is not used; ear_jwt (may be NULL)
 * is what opts->result puts in. *wit NUL-terminated, the caller's.
 */
AVOW_EXPORT avow_err avow_wimse_wit_sign(avow_signer *issuer, const char *sub, EVP_PKEY *cnf_key,
                                         const char *ear_jwt, const avow_wimse_issue_opts *opts,
                                         avow_buf *wit, avow_diag *diag);

/*
 * Appraises the statements about the workload key (avow_appraise; in->key
 * is the key's SubjectPublicKeyInfo and becomes cnf, in->possession the
 * caller's proof that the workload holds it) and, only when the result is
 * affirming and about that key, resolves the identifier and signs the WIT
 * through issuer. The EAR (for opts->result) is signed by issuer as well.
 * *ap (may be NULL) gets the appraisal whenever one was made. Errors:
 * AVOW_ERR_NOT_AFFIRMING, AVOW_ERR_WIMSE_KEY_BINDING, the idmap's,
 * appraisal and signer errors; *wit is empty on every error.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_wimse_issue_wit(
    const avow_verifier *v, const avow_statements_in *in, const avow_appraise_opts *aopts,
    avow_signer *issuer, const avow_wimse_issue_opts *opts, avow_buf *wit, avow_appraisal **ap,
    avow_diag *diag);

/* The same for an attested certificate request: its key is cnf, its self-signature the PoP. */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_wimse_issue_wit_request(
    const avow_verifier *v, const avow_request *req, const avow_appraise_opts *aopts,
    avow_signer *issuer, const avow_wimse_issue_opts *opts, avow_buf *wit, avow_appraisal **ap,
    avow_diag *diag);

/*
 * A WIC for req through avow_ca_dir_issue (the nonce consumed and the
 * ledger row written like any issuance): subjectAltName exactly one URI,
 * the resolved identifier (plus opts->wic_dns), the subject the request's
 * (or none), keyUsage digitalSignature, extendedKeyUsage clientAuth and
 * serverAuth, and the CMW extension with the EAR (the CA always records
 * the result, so opts->result governs the WIT only; opts->
 * wic_dns other than DNS names is AVOW_ERR_WIMSE_WIC_SAN). aopts supplies
 * policy, nonce, flags and registry. The identifier is resolved from the
 * appraisal inside avow_ca_dir_issue, before the certificate is made (its
 * prepare hook), so a request that maps to no identifier consumes nothing. *cert (X509_free) and
 * *ap are the caller's.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_wimse_issue_wic(avow_ca_dir *cd, const avow_verifier *v,
                                                          const avow_request *req,
                                                          const avow_appraise_opts *aopts,
                                                          const avow_wimse_issue_opts *opts,
                                                          X509 **cert, avow_appraisal **ap,
                                                          avow_diag *diag);

/* ---- Workload: the WPT ---- */

/* A token that travels with the request: its header field name and value (for "oth"). */
typedef struct avow_wimse_token_ref {
    const char *name;  /* header field name; lower-cased in "oth" */
    const char *value; /* the field value; leading and trailing spaces removed before hashing */
} avow_wimse_token_ref;

typedef struct avow_wimse_wpt_opts {
    size_t size;              /* set by avow_wimse_wpt_opts_init */
    const char *wit;          /* required: wth = base64url(SHA-256(WIT)) */
    const char *aud;          /* required: the target URI without query and fragment */
    unsigned ttl;             /* 0: AVOW_WIMSE_DEFAULT_WPT_TTL; at most AVOW_WIMSE_MAX_WPT_TTL */
    int64_t now;              /* 0: the current time; exp = now + ttl, iat = now */
    const char *jti;          /* NULL: 16 random bytes, base64url */
    const char *access_token; /* "ath"; NULL: none */
    const char *txn_token;    /* "tth"; NULL: none */
    const avow_wimse_token_ref *other_tokens; /* "oth"; NULL: none */
    size_t n_other_tokens;
} avow_wimse_wpt_opts;

AVOW_EXPORT void avow_wimse_wpt_opts_init(avow_wimse_wpt_opts *o);

/*
 * A WPT signed by the workload's key (software or token). The header's alg
 * is the signer's, which must be the WIT's cnf.jwk.alg for the WPT to
 * verify. *out NUL-terminated, the caller's. Errors: AVOW_ERR_ARG,
 * signer and JOSE errors.
 */
AVOW_EXPORT avow_err avow_wimse_wpt_sign(avow_signer *workload, const avow_wimse_wpt_opts *opts,
                                         avow_buf *out, avow_diag *diag);

/* ---- Relying party ---- */

/* What arrived with an HTTP request: every value of each header, as found. */
typedef struct avow_wimse_request {
    size_t size;            /* set by avow_wimse_request_init */
    const char *const *wit; /* Workload-Identity-Token values (exactly one allowed) */
    size_t n_wit;
    const char *const *wpt; /* Workload-Proof-Token values (exactly one allowed) */
    size_t n_wpt;
    const char *access_token;                 /* the request's access token, for ath; NULL: none */
    const char *txn_token;                    /* the request's Txn-Token, for tth; NULL: none */
    const avow_wimse_token_ref *other_tokens; /* the headers "oth" may name; NULL: none */
    size_t n_other_tokens;
} avow_wimse_request;

AVOW_EXPORT void avow_wimse_request_init(avow_wimse_request *r);

/* avow_wimse_verify_opts.flags */
enum {
    /* Check the WIT alone (n_wpt 0): for inspecting a credential, never for
     * authenticating a request (a WIT is no bearer token). */
    AVOW_WIMSE_VERIFY_WIT_ONLY = 1u << 0,
    /* Refuse a WIT without "iss" (the draft RECOMMENDS one). */
    AVOW_WIMSE_REQUIRE_ISS = 1u << 1,
    /* Refuse a WIT without "jti". */
    AVOW_WIMSE_REQUIRE_WIT_JTI = 1u << 2
};

typedef struct avow_wimse_verify_opts {
    size_t size;                   /* set by avow_wimse_verify_opts_init */
    const avow_jwks *issuer_keys;  /* trusted WIT issuer keys (kid and alg select one); or: */
    EVP_PKEY *const *issuer_pkeys; /* trusted WIT issuer public keys, tried by alg */
    size_t n_issuer_pkeys;
    const char *issuer;         /* expected WIT iss; NULL: any (or none) */
    const char *audience;       /* required unless WIT_ONLY: the WPT aud expected */
    const char *trust_domain;   /* the identifier's trust domain must be this; NULL: any */
    const char *const *schemes; /* identifier schemes; NULL: spiffe, wimse */
    int64_t now;                /* 0: the current time */
    unsigned leeway;            /* AVOW_WIMSE_DEFAULT_LEEWAY by _init */
    unsigned wit_max_ttl;       /* exp - now above this refused; AVOW_WIMSE_MAX_WIT_TTL by _init */
    unsigned wpt_max_ttl;       /* the same for a WPT; AVOW_WIMSE_MAX_WPT_TTL by _init */
    size_t max_token;           /* bytes per token; AVOW_WIMSE_MAX_TOKEN by _init */
    avow_oauth_replay *replay;  /* WPT jti seen-set (scoped by the cnf key); NULL: none */
    avow_oauth_key_cache *key_cache; /* borrowed; NULL: keys imported and set up per call */
    unsigned flags;                  /* AVOW_WIMSE_* */
} avow_wimse_verify_opts;

AVOW_EXPORT void avow_wimse_verify_opts_init(avow_wimse_verify_opts *o);

typedef struct avow_wimse_result avow_wimse_result;

/*
 * Checks a request's WIT and WPT (drafts' validation lists, in order):
 * exactly one of each header; the WIT: size, typ wit+jwt, alg asymmetric
 * and bound to a trusted issuer key, iss, sub one valid identifier (trust
 * domain), exp (not past, not too far), nbf/iat not in the future, cnf.jwk
 * public and asymmetric with an asymmetric "alg" that fits it; the WPT:
 * typ wpt+jwt, alg string-equal to cnf.jwk.alg, signature by the cnf key,
 * aud, exp, iat, wth, ath / tth / oth, and last the jti recorded in the
 * replay set. Returns AVOW_OK or the first failing check's code, diag
 * naming the field ("wit.claims.cnf.jwk.alg", "wpt.claims.wth"). *out is
 * set in both cases (not for AVOW_ERR_ARG / AVOW_ERR_NOMEM).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_wimse_verify(const avow_wimse_request *req,
                                                       const avow_wimse_verify_opts *opts,
                                                       avow_wimse_result **out, avow_diag *diag);

/*
 * Checks a WIC: the chain to v's anchors (untrusted: intermediates; at
 * opts->now), an end-entity certificate with digitalSignature, and exactly
 * one URI subjectAltName, a valid Workload Identifier (opts->schemes,
 * opts->trust_domain). issuer_keys, audience and replay are not used.
 * The identifier and the certificate's key are in *out (set in both cases).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_wimse_verify_wic(X509 *cert, STACK_OF(X509) * untrusted,
                                                           const avow_verifier *v,
                                                           const avow_wimse_verify_opts *opts,
                                                           avow_wimse_result **out,
                                                           avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_wimse_result_free(avow_wimse_result *r);
/* AVOW_OK or the reason code. */
AVOW_EXPORT avow_err avow_wimse_result_status(const avow_wimse_result *r);
/* The failing check: field and message. Borrowed. */
AVOW_EXPORT const avow_diag *avow_wimse_result_diag(const avow_wimse_result *r);
/* Borrowed; NULL until the WIT (or the WIC) verified. */
AVOW_EXPORT const char *avow_wimse_result_identifier(const avow_wimse_result *r);
AVOW_EXPORT const char *avow_wimse_result_trust_domain(const avow_wimse_result *r);
/* The workload key (the WIT's cnf, the WIC's subject key). Borrowed. */
AVOW_EXPORT EVP_PKEY *avow_wimse_result_get0_key(const avow_wimse_result *r);
/* The WIT's claims as JSON text; NULL for a WIC or before the WIT verified. Borrowed. */
AVOW_EXPORT const char *avow_wimse_result_claims(const avow_wimse_result *r);
/*
 * {"authenticated", "identifier", "trust_domain", "credential" ("wit" or
 * "wic"), "jkt", "claims"; or "error" "reason", "check", "message"} as
 * indented JSON with a newline, NUL-terminated, the caller's.
 */
AVOW_EXPORT avow_err avow_wimse_result_to_json(const avow_wimse_result *r, avow_buf *out,
                                               avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
