/*
 * avow/ear.h - Attestation Results as EAR (draft-ietf-rats-ear-03): built
 * from what verification and appraisal found, written as JSON with the -03
 * claim names, signed as a JWT through an avow_signer, and read back (-03
 * and the older -02 names, chosen by eat_profile). docs/ear.md describes
 * the mapping, the private "avow_reasons" claim and the JWT rules.
 */
#ifndef AVOW_EAR_H
#define AVOW_EAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/ar4si.h>
#include <avow/cmw.h>
#include <avow/jose.h>
#include <avow/policy.h>
#include <avow/signer.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The eat_profile of the EAR avow writes: the one place this string lives. */
#define AVOW_EAR_PROFILE "tag:ietf.org,2026:rats/ear#03"
/* The profile of EARs up to -02 (claims "ear.status", ...); read, never written. */
#define AVOW_EAR_PROFILE_02 "tag:ietf.org,2025-07:ear"
/* Veraison's own profile, with the dotted claim names of -02; read, never written. */
#define AVOW_EAR_PROFILE_VERAISON "tag:github.com,2023:veraison/ear"
/* Media types of a signed EAR (RFC 9782 names; "eat-jwt" is read too). */
#define AVOW_EAR_MEDIA_TYPE_JWT "application/eat+jwt; eat_profile=\"" AVOW_EAR_PROFILE "\""
#define AVOW_EAR_MEDIA_TYPE_CWT "application/eat+cwt; eat_profile=\"" AVOW_EAR_PROFILE "\""
/* JOSE "typ" header of an EAR JWT (RFC 8725 explicit typing: the media type without
 * "application/"). Read: this, "eat-jwt", either with parameters, "JWT" or none. */
#define AVOW_EAR_JWT_TYP   "eat+jwt"
#define AVOW_EAR_DEVELOPER "avow"

/* Limits of EAR input. */
#define AVOW_EAR_MAX_SIZE    (256u * 1024u)
#define AVOW_EAR_MAX_SUBMODS 64u
#define AVOW_EAR_MAX_REASONS 64u /* per submod */

/* One reason for a tier worse than affirming (the "avow_reasons" claim). */
typedef struct avow_ear_reason {
    int is_rule;    /* 1: a policy rule ("rule"), 0: a verification check ("check") */
    char name[64];  /* rule id, or the check: "signature", "nonce", "freshness", "key-binding" */
    avow_err code;  /* AVOW_ERR_POLICY for rules; the verification error for checks */
    avow_tier tier; /* what the reason cost */
    char detail[224];
} avow_ear_reason;

/* One appraisal (a submod). */
typedef struct avow_ear_submod {
    char *name;
    avow_tier status;
    int8_t vector[AVOW_TV_COUNT_]; /* meaningful where vector_set has the bit */
    unsigned vector_set;           /* bit (1u << key) set: the vector claim is present */
    size_t npolicy_ids;
    char **policy_ids;
    avow_buf akpub; /* attested key SPKI DER; empty when absent */
    size_t nreasons;
    avow_ear_reason *reasons;
    /* The key-attestation submod this platform submod binds, and how
     * ("avow_binds", "avow_binding": AVOW_EAR_BINDING_*); NULL when none. */
    char *binds;
    char *binding;
} avow_ear_submod;

/* How a platform statement binds a key attestation (docs/ear.md, "avow_binds"). */
#define AVOW_EAR_BINDING_LINKED "linked" /* a separate token whose nonce hashes its signer */
#define AVOW_EAR_BINDING_NESTED "nested" /* carried inside it (the combined form) */

/* A whole EAR; read-only for callers, made by avow_ear_build or avow_ear_from_json. */
typedef struct avow_ear {
    int draft; /* 3 for -03 names (what avow writes), 2 when read from a -02 document */
    time_t iat;
    time_t exp;       /* 0: no exp claim */
    int has_status;   /* top-level ear_status present */
    avow_tier status; /* top-level; never better than the worst submod */
    char *developer;  /* ear_verifier_id */
    char *build;
    char *nonce; /* eat_nonce text (base64url of the nonce bytes); NULL when absent */
    size_t nsubmods;
    avow_ear_submod *submods;
    char *profile; /* eat_profile as read (avow_ear_from_json); NULL for a built EAR */
} avow_ear;

/* What verification and appraisal found about one statement. */
typedef struct avow_ear_statement {
    size_t size;                      /* set by avow_ear_statement_init */
    const char *name;                 /* submod name, e.g. "pkix-evidence" (unique) */
    avow_err verify_status;           /* AVOW_OK when the Evidence verified and is trusted */
    const char *verify_detail;        /* why not (may be NULL) */
    const avow_policy_report *report; /* NULL: not appraised */
    avow_nonce_state nonce;           /* from verification */
    avow_err freshness;               /* avow_nonce_consume's result; AVOW_OK when none was used */
    const uint8_t *akpub;             /* attested key SPKI DER; NULL when none */
    size_t akpub_len;
    /* The name of another statement of the EAR this platform statement binds
     * (linked or nested) and AVOW_EAR_BINDING_LINKED or _NESTED; both or neither. */
    const char *binds;
    const char *binding;
} avow_ear_statement;

typedef struct avow_ear_opts {
    size_t size;          /* set by avow_ear_opts_init */
    time_t iat;           /* 0 = now */
    unsigned ttl;         /* > 0: exp = iat + ttl; 0: no exp */
    const uint8_t *nonce; /* eat_nonce (8..64 bytes, written base64url); NULL: none */
    size_t nonce_len;
    const char *build; /* ear_verifier_id.build; NULL = "avow <version>" */
} avow_ear_opts;

/* Zero the struct and set its size (freshness AVOW_OK, nonce not checked). */
AVOW_EXPORT void avow_ear_statement_init(avow_ear_statement *st);
AVOW_EXPORT void avow_ear_opts_init(avow_ear_opts *o);

/*
 * Builds an EAR with one submod per statement: tiers and vector claims from
 * the verification status, the nonce and freshness results and each rule of
 * the report (docs/ear.md has the table), one avow_reasons entry per
 * failure, the top-level status the worst of the submods. opts may be NULL.
 * Caller frees *out with avow_ear_free. Errors: AVOW_ERR_ARG (no statements,
 * too many, a duplicate or empty name), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_ear_build(const avow_ear_statement *st, size_t n,
                                    const avow_ear_opts *opts, avow_ear **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_ear_free(avow_ear *ear);

/*
 * The EAR as compact JSON with -03 names and sorted keys (stable output),
 * NUL-terminated (len excludes the NUL). Caller frees *out with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_ear_to_json(const avow_ear *ear, avow_buf *out, avow_diag *diag);

/*
 * EAR JSON text (avow_ear_to_json's, avow_cert_get_ear's payload, a stored
 * EAR) for people: indented two spaces, keys sorted, a final newline; every
 * claim kept as it is (nothing is read into an avow_ear, so claims avow does
 * not know stay). What `avow ca show-result` and `avow ca show` print.
 * *out is NUL-terminated (len excludes the NUL), owned by the caller
 * (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_TOO_LARGE (over
 * AVOW_EAR_MAX_SIZE), AVOW_ERR_JSON (not JSON, or a key given twice),
 * AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_ear_json_pretty(const char *json, size_t len, avow_buf *out,
                                          avow_diag *diag);

/*
 * Reads EAR JSON (-03 names, or the dotted -02 names when eat_profile is
 * AVOW_EAR_PROFILE_02 or AVOW_EAR_PROFILE_VERAISON; draft is 2 for both). Requires eat_profile,
 * iat, a verifier id and at least one submod with a valid status; vector values outside -128..127,
 * unknown vector keys and unknown tiers are rejected. Unknown other claims
 * are ignored. Errors: AVOW_ERR_JSON, AVOW_ERR_MALFORMED (diag->field names
 * the claim), AVOW_ERR_VERSION (another profile), AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_ear_from_json(const char *json, size_t len, avow_ear **out,
                                        avow_diag *diag);

/*
 * Signs the EAR's JSON as a JWS compact serialisation through signer:
 * header {"alg", "typ": "eat+jwt", "kid" when kid is not NULL}. alg follows
 * the signer: ES256 / ES384 / ES512 (ECDSA on P-256 / P-384 / P-521 with
 * the matching hash; the DER signature becomes raw r||s), RS256/384/512,
 * PS256/384/512, EdDSA (Ed25519), through avow_jws_sign (avow/jose.h).
 * *out is NUL-terminated text (len excludes the NUL), owned by the caller
 * (avow_buf_free). Errors: AVOW_ERR_UNSUPPORTED (no JOSE name for the
 * signer's algorithm and key), signer errors.
 */
AVOW_EXPORT avow_err avow_ear_sign_jwt(const avow_ear *ear, avow_signer *signer, const char *kid,
                                       avow_buf *out, avow_diag *diag);

/*
 * Verifies an EAR JWT with pub and returns its payload JSON (pass it to
 * avow_ear_from_json). Refuses: alg "none" and HS* and unknown algs
 * (AVOW_ERR_SIG_ALG), an alg that does not fit pub (AVOW_ERR_ALG_MISMATCH),
 * ECDSA signatures that are not raw r||s of the curve's size, and any
 * signature that does not verify (AVOW_ERR_SIG_INVALID), a "typ" that is
 * not an EAR's (avow_ear_typ_ok), a "crit" header, bad base64url or JSON (AVOW_ERR_MALFORMED /
 * AVOW_ERR_JSON), a payload whose eat_profile is not an EAR profile (AVOW_ERR_VERSION), an exp or
 * nbf that is not an integer (AVOW_ERR_MALFORMED), now later than exp + leeway (AVOW_ERR_EXPIRED)
 * and nbf later than now + leeway (AVOW_ERR_BAD_TIME), compared exactly over the whole 64-bit
 * range. The JWS rules are avow_jws_verify's (avow/jose.h). now = 0: the current time. payload may
 * be NULL; otherwise the caller frees it (avow_buf_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_ear_verify_jwt(const char *jwt, size_t len, EVP_PKEY *pub,
                                                         time_t now, unsigned leeway,
                                                         avow_buf *payload, avow_diag *diag);

/* --- relying-party tools: typ and media types, verification options, reports, CMW --- */

/*
 * 1 when typ (a JOSE "typ" value; NULL: the header has none) is one an EAR
 * JWT may carry: none at all, "JWT", or the media type application/eat+jwt
 * or the older application/eat-jwt ("application/" optional, any case) with
 * no eat_profile parameter or one naming a profile avow reads. The media
 * type is parsed by avow_media_type_parse (RFC 9110), so whitespace,
 * quoting and case are read as the grammar says and a repeated parameter is
 * refused. The payload's eat_profile remains the real check.
 */
AVOW_EXPORT int avow_ear_typ_ok(const char *typ);

/*
 * 1 when media (CMW type text) names an EAR JWT: application/eat+jwt or
 * application/eat-jwt by avow_media_type_parse, with no eat_profile or a
 * profile avow reads (compared case-insensitively, as RFC 9782 says).
 */
AVOW_EXPORT int avow_ear_media_type_ok(const char *media, size_t len);

/* avow_ear_verify_opts.flags */
#define AVOW_EAR_VERIFY_IAT_NOT_FUTURE 0x1u /* refuse an iat later than now + leeway */
#define AVOW_EAR_VERIFY_EXP_REQUIRED   0x2u /* refuse an EAR without exp */

typedef struct avow_ear_verify_opts {
    size_t size;     /* set by avow_ear_verify_opts_init */
    time_t now;      /* 0: the current time */
    unsigned leeway; /* seconds of clock skew allowed on exp, nbf and iat */
    unsigned flags;  /* AVOW_EAR_VERIFY_* */
} avow_ear_verify_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_ear_verify_opts_init(avow_ear_verify_opts *o);

/*
 * avow_ear_verify_jwt with options, handing back the verified JWS (its
 * header, payload and alg; avow/jose.h) in *out, the caller's
 * (avow_jws_free). Refuses what avow_ear_verify_jwt refuses, and with the
 * flags an iat in the future (AVOW_ERR_BAD_TIME) or a missing exp
 * (AVOW_ERR_MISSING_CLAIM). opts may be NULL.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_ear_verify_jws(const char *jwt, size_t len, EVP_PKEY *pub,
                                                         const avow_ear_verify_opts *opts,
                                                         avow_jws **out, avow_diag *diag);

/* avow_ear_report flags */
#define AVOW_EAR_REPORT_JSON 0x1u /* JSON for programs instead of text for people */

/*
 * A report on an EAR for `avow ear verify` and `avow ear show`. With jws (a
 * JWS avow_ear_verify_jws verified) the payload is jws's and the report says
 * verified, with alg, kid and typ; the text gives the profile, times,
 * verifier, the overall status and per submod its status, vector, policy
 * ids, whether a key is attested and avow's reasons (every value escaped),
 * JSON gives {"verified": true, "header": {...}, "ear": {...}}. Without jws,
 * header (a JWS header's JSON text, or NULL) and payload are shown as they
 * are, labelled NOT VERIFIED in text ({"verified": false, ...} in JSON),
 * the EAR pretty-printed whole so that no claim is hidden.
 * *out NUL-terminated (len excludes the NUL), the caller's (avow_buf_free).
 * Errors: AVOW_ERR_JSON, AVOW_ERR_TOO_LARGE, avow_ear_from_json's (verified
 * reports only), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_ear_report(const avow_jws *jws, const char *header, size_t header_len,
                                     const char *payload, size_t payload_len, unsigned flags,
                                     avow_buf *out, avow_diag *diag);

/*
 * The EAR JWT a CMW carries (avow/cmw.h): the type must name an EAR JWT
 * (avow_ear_media_type_ok; a content-format type, which names no EAR
 * avow knows, is AVOW_ERR_NOT_EAR like any other type), an indicator, when
 * present, must include AVOW_CMW_IND_ATTESTATION_RESULTS (AVOW_ERR_NOT_EAR),
 * and the value must be text without NUL (AVOW_ERR_CMW). *jwt is
 * NUL-terminated (len excludes the NUL), the caller's (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_cmw_get_ear_jwt(const avow_cmw *cmw, avow_buf *jwt, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
