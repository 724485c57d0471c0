/*
 * avow/jose.h - the JOSE pieces avow signs and reads tokens with: base64url
 * (RFC 4648 section 5), JWS compact serialisation (RFC 7515) signed through
 * an avow_signer and verified with the algorithm bound to the key, and
 * public JWKs (RFC 7517/7518, RFC 8037) with RFC 7638 thumbprints.
 *
 * Algorithms come from the one table in avow/sigalg.h; every signature is
 * made by a signer and checked by OpenSSL. HMAC ("HS*") and "none" are never
 * accepted: a verifier that holds only a public key cannot use them safely.
 */
#ifndef AVOW_JOSE_H
#define AVOW_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/sigalg.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits. */
#define AVOW_JWS_MAX_SIZE     (512u * 1024u) /* a compact JWS, unless the caller sets less */
#define AVOW_JWS_MAX_HEADER   (16u * 1024u)  /* the decoded protected header */
#define AVOW_JWK_MAX_SIZE     (16u * 1024u)  /* a JWK's JSON text */
#define AVOW_JWK_RSA_MIN_BITS 2048u          /* RFC 7518 section 3.3 */
#define AVOW_JWK_RSA_MAX_BITS 8192u

/* --- base64url --- */

/*
 * base64url of p without padding into *out, NUL-terminated text (len
 * excludes the NUL); the caller frees it with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_b64url_encode(const uint8_t *p, size_t len, avow_buf *out);

/*
 * Strict base64url: the alphabet [A-Za-z0-9_-] only, no padding, no
 * whitespace, zero trailing bits (the one canonical encoding). *out is the
 * caller's (avow_buf_free; ptr is NULL for empty input). Errors:
 * AVOW_ERR_MALFORMED, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_b64url_decode(const char *s, size_t len, avow_buf *out, avow_diag *diag);

/* --- JWS compact serialisation --- */

/* avow_jws_sign_opts.flags */
#define AVOW_JWS_HEADER_JWK 0x1u /* put the signer's public key in the header as "jwk" */

typedef struct avow_jws_sign_opts {
    size_t size;     /* set by avow_jws_sign_opts_init */
    const char *typ; /* "typ" member (e.g. "eat-jwt", "dpop+jwt"); NULL: none */
    const char *kid; /* "kid" member; NULL: none */
    /*
     * More header members as one JSON object text, e.g. {"nonce": "..."};
     * NULL: none. It may not name "alg", "typ", "kid", "jwk" (set by the
     * fields above) nor "crit" (avow neither writes nor reads extensions).
     */
    const char *header_json;
    unsigned flags;    /* AVOW_JWS_HEADER_* */
    const char *field; /* prefix of diag fields ("jwt" gives "jwt.header.kid"); NULL: "jws" */
} avow_jws_sign_opts;

/* Zeroes o and sets its size: call before filling it. */
AVOW_EXPORT void avow_jws_sign_opts_init(avow_jws_sign_opts *o);

/*
 * Signs payload as a JWS compact serialisation through signer. The header
 * carries "alg" named from the signer's algorithm and key (ES256/384/512
 * only with the curve JOSE binds; RS*, PS*, EdDSA), then the members opts
 * asks for, serialised compactly with sorted keys. An ECDSA signature
 * becomes raw r||s of the curve's coordinate size. opts may be NULL. *out is
 * NUL-terminated text (len excludes the NUL), the caller's (avow_buf_free).
 * Errors: AVOW_ERR_UNSUPPORTED (no JOSE name for the signer's algorithm and
 * key), AVOW_ERR_ARG (a bad header_json or member value), signer errors.
 */
AVOW_EXPORT avow_err avow_jws_sign(avow_signer *signer, const uint8_t *payload, size_t len,
                                   const avow_jws_sign_opts *opts, avow_buf *out, avow_diag *diag);

/* avow_jws_verify_opts.flags */
#define AVOW_JWS_PAYLOAD_JSON 0x1u /* the payload must be a JSON object (a JWT claims set) */
#define AVOW_JWS_KEY_FROM_JWK 0x2u /* verify with the header's "jwk" (DPoP); key must be NULL */

typedef struct avow_jws_verify_opts {
    size_t size; /* set by avow_jws_verify_opts_init */
    /*
     * Accepted "typ" values, NULL-terminated. Compared case-insensitively,
     * an "application/" prefix optional on both sides (RFC 7515 section
     * 4.1.9), so {"eat-jwt", NULL} takes "eat-jwt" and "application/EAT-JWT".
     * NULL: typ is not checked against a list.
     */
    const char *const *typs;
    /*
     * Or a predicate: gets typ with any "application/" prefix removed (NULL
     * when the header has none) and returns 1 to accept. When typs is set
     * too, both must accept. NULL: no predicate.
     */
    int (*typ_ok)(const char *typ, void *arg);
    void *typ_arg;
    const avow_sigalg *algs; /* the only algorithms accepted; NULL: any that fits the key */
    size_t nalgs;
    size_t max_len;    /* token bytes; 0: AVOW_JWS_MAX_SIZE */
    unsigned flags;    /* AVOW_JWS_* */
    const char *field; /* prefix of diag fields ("jwt" gives "jwt.header.alg"); NULL: "jws" */
} avow_jws_verify_opts;

/* Zeroes o and sets its size: call before filling it. */
AVOW_EXPORT void avow_jws_verify_opts_init(avow_jws_verify_opts *o);

/* A verified JWS: its header, payload and the key that verified it. */
typedef struct avow_jws avow_jws;

/*
 * Verifies a JWS compact serialisation with key (a public key; a private
 * one works too). The key decides the algorithm, the header may only agree:
 *   - alg "none", any "HS*", unknown names and names outside opts->algs:
 *     AVOW_ERR_SIG_ALG; an alg that does not fit the key (ES256 with a P-384
 *     or RSA key, RS256 with an RSA-PSS key): AVOW_ERR_ALG_MISMATCH;
 *   - an ECDSA signature that is not raw r||s of exactly twice the curve's
 *     coordinate size (DER, say), an empty signature, and any signature
 *     that does not verify: AVOW_ERR_SIG_INVALID;
 *   - "typ" refused by opts (or absent when opts asks for one):
 *     AVOW_ERR_MALFORMED; a "crit" member: AVOW_ERR_UNSUPPORTED;
 *   - not exactly three dot-separated parts, bad base64url, a header that
 *     is not a JSON object: AVOW_ERR_MALFORMED; JSON that does not parse or
 *     repeats a member: AVOW_ERR_JSON; over max_len or a header over
 *     AVOW_JWS_MAX_HEADER: AVOW_ERR_TOO_LARGE;
 *   - with AVOW_JWS_KEY_FROM_JWK: no "jwk", or one avow_jwk_import refuses.
 * The payload is decoded but parsed (AVOW_JWS_PAYLOAD_JSON) only after the
 * signature verified. opts may be NULL (no typ check, any alg that fits).
 * On success *out is the caller's (avow_jws_free); on failure it is NULL.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_jws_verify(const char *jws, size_t len, EVP_PKEY *key,
                                                     const avow_jws_verify_opts *opts,
                                                     avow_jws **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_jws_free(avow_jws *jws);

/* The algorithm the JWS verified under. */
AVOW_EXPORT avow_sigalg avow_jws_alg(const avow_jws *jws);

/* Borrowed: the decoded header JSON text, NUL-terminated (len excludes the NUL). */
AVOW_EXPORT const avow_buf *avow_jws_get0_header(const avow_jws *jws);

/* Borrowed: the header member name when it is a string ("kid", "typ"); NULL otherwise. */
AVOW_EXPORT const char *avow_jws_header_string(const avow_jws *jws, const char *name);

/* Borrowed: the decoded payload, NUL-terminated (len excludes the NUL). */
AVOW_EXPORT const avow_buf *avow_jws_get0_payload(const avow_jws *jws);

/* Borrowed: the key the signature verified with (the header's for AVOW_JWS_KEY_FROM_JWK). */
AVOW_EXPORT EVP_PKEY *avow_jws_get0_key(const avow_jws *jws);

/* --- JWK --- */

/*
 * Reads a public JWK (JSON object text of at most AVOW_JWK_MAX_SIZE):
 *   EC:  "crv" P-256 / P-384 / P-521, "x" and "y" of exactly the
 *        coordinate size, a point on the curve;
 *   RSA: "n" and "e" minimally encoded, n odd of AVOW_JWK_RSA_MIN_BITS to
 *        AVOW_JWK_RSA_MAX_BITS, e odd and at least 65537 (SP 800-56B);
 *   OKP: "crv" Ed25519 and "x" of 32 bytes.
 * Private members ("d", "p", "q", "dp", "dq", "qi", "oth", "k") are refused,
 * so a private key is never taken for a public one; other members ("kid",
 * "use", "alg", ...) are ignored. *out is the caller's (EVP_PKEY_free).
 * Errors: AVOW_ERR_JSON (not JSON, repeated members), AVOW_ERR_MALFORMED
 * (a member missing, of the wrong type or size, bad base64url, a private
 * member, not a valid key), AVOW_ERR_UNSUPPORTED (another kty or crv),
 * AVOW_ERR_TOO_LARGE; diag->field names the member ("jwk.x").
 */
AVOW_EXPORT avow_err avow_jwk_import(const char *json, size_t len, EVP_PKEY **out, avow_diag *diag);

/*
 * The public part of key as a JWK with only the members RFC 7638 requires
 * (EC: crv, kty, x, y; RSA: e, kty, n; OKP: crv, kty, x), sorted and
 * compact, NUL-terminated (len excludes the NUL); the caller frees it with
 * avow_buf_free. Errors: AVOW_ERR_UNSUPPORTED (another key type or curve).
 */
AVOW_EXPORT avow_err avow_jwk_export(const EVP_PKEY *key, avow_buf *out, avow_diag *diag);

/*
 * RFC 7638 thumbprint of key: base64url of SHA-256 over the canonical JSON
 * of the required members (what avow_jwk_export writes), NUL-terminated
 * text; the caller frees it with avow_buf_free.
 */
AVOW_EXPORT avow_err avow_jwk_thumbprint(const EVP_PKEY *key, avow_buf *out, avow_diag *diag);

/* --- JWK sets and unverified inspection (relying-party tools) --- */

#define AVOW_JWKS_MAX_SIZE (256u * 1024u) /* a JWK set's JSON text */
#define AVOW_JWKS_MAX_KEYS 64u

/* A parsed JWK set (RFC 7517 section 5): public keys with their kid, use, key_ops and alg. */
typedef struct avow_jwks avow_jwks;

/*
 * Reads a JWK set {"keys": [...]} of 1 to AVOW_JWKS_MAX_KEYS keys, each by
 * avow_jwk_import's rules. Refused for the whole set (AVOW_ERR_JWKS, field
 * "jwks.keys[2].d"): a private member in any key, a symmetric key (kty
 * "oct": a set for verifying signatures with public keys has no business
 * holding one, and HMAC with a public key is the classic confusion), a kid,
 * use, alg or key_ops of the wrong type, a kid given to two keys, no usable
 * key at all. Keys of a kty or curve avow does not take are skipped, as RFC
 * 7517 section 5 asks. *out is the caller's (avow_jwks_free). Other errors:
 * AVOW_ERR_JSON, AVOW_ERR_TOO_LARGE, avow_jwk_import's for a bad key.
 */
AVOW_EXPORT avow_err avow_jwks_parse(const char *json, size_t len, avow_jwks **out,
                                     avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_jwks_free(avow_jwks *set);

/* The number of usable keys (skipped ones not counted). */
AVOW_EXPORT size_t avow_jwks_count(const avow_jwks *set);

/*
 * The key that may verify a signature of alg (a JOSE name: "ES256") with
 * key id kid (NULL: the token names none). With a kid: the key of that kid
 * (none: AVOW_ERR_KID_UNKNOWN). Without: the one key whose type fits alg
 * (none: AVOW_ERR_KID_UNKNOWN; several: AVOW_ERR_AMBIGUOUS). The key found
 * must allow the signature: "use", when present, "sig"; "key_ops", when
 * present, holding "verify"; "alg", when present, equal to alg
 * (AVOW_ERR_KEY_USE otherwise); and alg must fit the key's type and curve
 * (AVOW_ERR_ALG_MISMATCH; "none", HS* and unknown names AVOW_ERR_SIG_ALG).
 * *out gets a reference the caller frees (EVP_PKEY_free).
 */
AVOW_EXPORT avow_err avow_jwks_select(const avow_jwks *set, const char *kid, const char *alg,
                                      EVP_PKEY **out, avow_diag *diag);

/*
 * avow_jwks_select with the kid and alg of a compact JWS's protected
 * header, read without verifying anything: the caller verifies the JWS with
 * the key returned (avow_jws_verify), which checks the header again.
 */
AVOW_EXPORT avow_err avow_jwks_select_for_jws(const avow_jwks *set, const char *jws, size_t len,
                                              EVP_PKEY **out, avow_diag *diag);

/*
 * Decodes a compact JWS's header and payload for inspection only, with no
 * signature check: three dot-separated base64url parts, the header a JSON
 * object (duplicate members refused) of at most AVOW_JWS_MAX_HEADER bytes,
 * the token at most AVOW_JWS_MAX_SIZE. Nothing decoded here is trusted.
 * header and payload (either may be NULL) get NUL-terminated copies (len
 * excludes the NUL), the caller's (avow_buf_free). Errors: AVOW_ERR_MALFORMED,
 * AVOW_ERR_JSON, AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_jws_decode_unverified(const char *jws, size_t len, avow_buf *header,
                                                avow_buf *payload, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
