/*
 * avow/oauth.h - OAuth 2.0 Attestation-Based Client Authentication
 * (draft-ietf-oauth-attestation-based-client-auth-11) in its three roles:
 *
 *   - Client Attester: a Client Attestation JWT
 *     (typ oauth-client-attestation+jwt) issued only after an affirming
 *     appraisal of attestation about the Client Instance Key
 *     (avow_oauth_attest, avow_oauth_attest_request);
 *   - Client Instance: the Client Attestation PoP JWT
 *     (typ oauth-client-attestation-pop+jwt) and a DPoP proof (RFC 9449)
 *     with the same key, which may live in a token (avow_oauth_pop_sign,
 *     avow_oauth_dpop_sign);
 *   - Authorization Server / Resource Server: the request's headers checked
 *     per the draft (avow_oauth_verify), challenges (avow_oauth_challenge_issue)
 *     and the jti replay set (avow_oauth_replay, SQLite, persistent).
 *
 * Every JWS and JWK goes through avow/jose.h. docs/oauth.md has the rules
 * and the choices where the draft leaves them open.
 */
#ifndef AVOW_OAUTH_H
#define AVOW_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/appraise.h>
#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/nonce.h>
#include <avow/request.h>
#include <avow/sigalg.h>
#include <avow/signer.h>
#include <avow/verification.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_OAUTH_TYP_ATTESTATION "oauth-client-attestation+jwt"
#define AVOW_OAUTH_TYP_POP         "oauth-client-attestation-pop+jwt"
#define AVOW_OAUTH_TYP_DPOP        "dpop+jwt"

/* HTTP field names (case-insensitive on the wire). */
#define AVOW_OAUTH_HDR_ATTESTATION "OAuth-Client-Attestation"
#define AVOW_OAUTH_HDR_POP         "OAuth-Client-Attestation-PoP"
#define AVOW_OAUTH_HDR_CHALLENGE   "OAuth-Client-Attestation-Challenge"
#define AVOW_OAUTH_HDR_DPOP        "DPoP"

/* The draft's error codes (the "error" member of the response). */
#define AVOW_OAUTH_ERR_INVALID_ATTESTATION "invalid_client_attestation"
#define AVOW_OAUTH_ERR_USE_CHALLENGE       "use_attestation_challenge"
#define AVOW_OAUTH_ERR_USE_FRESH           "use_fresh_attestation"
#define AVOW_OAUTH_ERR_INVALID_DPOP        "invalid_dpop_proof"

/* Defaults and limits. */
#define AVOW_OAUTH_MAX_TOKEN       8192u /* one header value; web servers cut near 8 kB */
#define AVOW_OAUTH_DEFAULT_LEEWAY  60u   /* seconds of clock skew */
#define AVOW_OAUTH_DEFAULT_POP_AGE 300u  /* seconds a PoP (or DPoP) iat may lie in the past */
#define AVOW_OAUTH_MAX_JTI         256u  /* bytes of a jti */
#define AVOW_OAUTH_CHALLENGE_LEN   32u   /* random bytes of an issued challenge */

/* ---- Client Instance: PoP JWT and DPoP proof ---- */

typedef struct avow_oauth_pop_opts {
    size_t size;                   /* set by avow_oauth_pop_opts_init */
    const char *aud;               /* required: the AS issuer or RS resource identifier */
    const char *jti;               /* NULL: 16 random bytes, base64url */
    int64_t iat;                   /* 0: now */
    const char *challenge;         /* NULL: none */
    const char *extra_claims_json; /* more claims (JSON object text); NULL: none */
} avow_oauth_pop_opts;

AVOW_EXPORT void avow_oauth_pop_opts_init(avow_oauth_pop_opts *o);

/*
 * A Client Attestation PoP JWT signed by signer (the Client Instance Key;
 * a software key or a token key). *out is NUL-terminated, the caller's
 * (avow_buf_free). Errors: AVOW_ERR_ARG (no aud, extra claims that are no
 * object or set aud/jti/iat/challenge), signer and JOSE errors.
 */
AVOW_EXPORT avow_err avow_oauth_pop_sign(avow_signer *signer, const avow_oauth_pop_opts *opts,
                                         avow_buf *out, avow_diag *diag);

typedef struct avow_oauth_dpop_opts {
    size_t size;              /* set by avow_oauth_dpop_opts_init */
    const char *htm;          /* required: the HTTP method */
    const char *htu;          /* required: the HTTP URI, without query and fragment */
    const char *jti;          /* NULL: random */
    int64_t iat;              /* 0: now */
    const char *nonce;        /* NULL: none; in combined mode: the attestation challenge */
    const char *access_token; /* NULL: none; else "ath" = base64url(SHA-256(token)) */
} avow_oauth_dpop_opts;

AVOW_EXPORT void avow_oauth_dpop_opts_init(avow_oauth_dpop_opts *o);

/* A DPoP proof (RFC 9449: typ dpop+jwt, the public key in the "jwk" header). */
AVOW_EXPORT avow_err avow_oauth_dpop_sign(avow_signer *signer, const avow_oauth_dpop_opts *opts,
                                          avow_buf *out, avow_diag *diag);

/* ---- Client Attester ---- */

typedef struct avow_oauth_attestation_opts {
    size_t size;           /* set by avow_oauth_attestation_opts_init */
    const char *client_id; /* required: "sub" */
    /* NULL: no "iss" (-08 and later define none; kept for peers that want one) */
    const char *iss;
    EVP_PKEY *cnf_key; /* the Client Instance Key ("cnf.jwk", public part only) */
    int64_t iat;       /* 0: now */
    unsigned ttl;      /* required: exp = iat + ttl */
    const char *kid;   /* "kid" header; NULL: none */
    /* More claims (a JSON object); it may not set sub, exp, iat, cnf or iss. */
    const char *extra_claims_json;
    unsigned flags; /* AVOW_OAUTH_ATT_* */
} avow_oauth_attestation_opts;

/* avow_oauth_attestation_opts.flags */
enum { AVOW_OAUTH_ATT_NO_IAT = 1u << 0 /* leave "iat" out */ };

AVOW_EXPORT void avow_oauth_attestation_opts_init(avow_oauth_attestation_opts *o);

/*
 * A Client Attestation JWT signed by the attester's signer, with no
 * appraisal behind it: for tests and for attesters that appraise by other
 * means. Use avow_oauth_attest to issue one from attestation.
 */
AVOW_EXPORT avow_err avow_oauth_attestation_sign(avow_signer *attester,
                                                 const avow_oauth_attestation_opts *opts,
                                                 avow_buf *out, avow_diag *diag);

/* The same MACed with a shared secret (HS256/384/512), for an AS that configured it. */
AVOW_EXPORT avow_err avow_oauth_attestation_sign_hmac(const char *alg, const uint8_t *key,
                                                      size_t keylen,
                                                      const avow_oauth_attestation_opts *opts,
                                                      avow_buf *out, avow_diag *diag);

/*
 * Client Attester: appraises the statements about the Client Instance Key
 * (avow_appraise; in->key must be the SubjectPublicKeyInfo of
 * opts->cnf_key, in->possession the caller's proof that the client holds
 * it) and, only when the result is affirming and the attested key is the
 * cnf key, signs the Client Attestation JWT into *jwt. *ap (may be NULL)
 * gets the appraisal whenever one was made, for the caller to show.
 * Errors: AVOW_ERR_OAUTH_KEY_BINDING (in->key is not the cnf key, or the
 * appraisal is about another key), AVOW_ERR_NOT_AFFIRMING, appraisal and
 * signer errors; *jwt is empty on every error.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_oauth_attest(
    const avow_verifier *v, const avow_statements_in *in, const avow_appraise_opts *aopts,
    avow_signer *attester, const avow_oauth_attestation_opts *opts, avow_buf *jwt,
    avow_appraisal **ap, avow_diag *diag);

/*
 * The same for an attested certificate request: the request's key is the
 * cnf key (opts->cnf_key, when set, must equal it), its self-signature the
 * proof of possession.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_oauth_attest_request(
    const avow_verifier *v, const avow_request *req, const avow_appraise_opts *aopts,
    avow_signer *attester, const avow_oauth_attestation_opts *opts, avow_buf *jwt,
    avow_appraisal **ap, avow_diag *diag);

/* ---- Replay set (jti values seen) ---- */

/*
 * A set of keys each remembered until its expiry. SQLite is built in; a
 * Redis back end fills the same table (SET key NX EXAT expires).
 */
typedef struct avow_oauth_replay_ops {
    size_t size;      /* sizeof(avow_oauth_replay_ops) as the back end was compiled */
    const char *name; /* "sqlite", "redis", ... */
    /*
     * Records key until expires in one atomic step: AVOW_OK when it was not
     * present (or only past its expiry at now), AVOW_ERR_OAUTH_REPLAY when
     * it was; store failures AVOW_ERR_STORE / AVOW_ERR_STORE_BUSY.
     */
    avow_err (*insert)(void *impl, const uint8_t *key, size_t len, int64_t expires, int64_t now,
                       avow_diag *diag);
    /* AVOW_OK when key is absent or expired at now, AVOW_ERR_OAUTH_REPLAY when present. */
    avow_err (*seen)(void *impl, const uint8_t *key, size_t len, int64_t now, avow_diag *diag);
    /* Deletes keys that expired before `before`; *removed (may be NULL) gets the count. */
    avow_err (*purge)(void *impl, int64_t before, size_t *removed, avow_diag *diag);
    void (*free)(void *impl);
} avow_oauth_replay_ops;

typedef struct avow_oauth_replay avow_oauth_replay;

/* A replay set over a back end; takes impl (freed with ops->free, also on failure). */
AVOW_EXPORT avow_err avow_oauth_replay_new(const avow_oauth_replay_ops *ops, void *impl,
                                           avow_oauth_replay **out, avow_diag *diag);

/*
 * The SQLite replay set at path (created with its table when missing; a
 * file may hold it beside the nonce store's tables). Survives restarts.
 */
AVOW_EXPORT avow_err avow_oauth_replay_open_sqlite(const char *path, avow_oauth_replay **out,
                                                   avow_diag *diag);

/*
 * A replay set named like a nonce store (docs/store.md): "sqlite:PATH" or a
 * plain path is avow_oauth_replay_open_sqlite; redis://... or unix:... is
 * Redis (keys PREFIX:j:HEX written with SET NX EXAT, so every instance on
 * that server and prefix refuses a key any of them recorded; the URI's
 * prefix=, db=, timeouts and credentials as for the nonce store).
 * AVOW_ERR_UNSUPPORTED for Redis in a build without it.
 */
AVOW_EXPORT avow_err avow_oauth_replay_open_uri(const char *uri, avow_oauth_replay **out,
                                                avow_diag *diag);

AVOW_EXPORT void avow_oauth_replay_free(avow_oauth_replay *r);

/* The back end's calls, with arguments checked (keys of 1 to 64 bytes). */
AVOW_EXPORT avow_err avow_oauth_replay_insert(avow_oauth_replay *r, const uint8_t *key, size_t len,
                                              int64_t expires, int64_t now, avow_diag *diag);
AVOW_EXPORT avow_err avow_oauth_replay_seen(avow_oauth_replay *r, const uint8_t *key, size_t len,
                                            int64_t now, avow_diag *diag);
AVOW_EXPORT avow_err avow_oauth_replay_purge(avow_oauth_replay *r, int64_t before, size_t *removed,
                                             avow_diag *diag);

/* ---- Challenges ---- */

/*
 * A new challenge: AVOW_OAUTH_CHALLENGE_LEN random bytes recorded in the
 * nonce store for ttl seconds (0: AVOW_NONCE_DEFAULT_TTL), handed out as
 * base64url text (*out, NUL-terminated, the caller's). The same text goes
 * into the challenge endpoint's {"attestation_challenge": ...} and the
 * OAuth-Client-Attestation-Challenge response header.
 */
AVOW_EXPORT avow_err avow_oauth_challenge_issue(avow_nonce_store *s, unsigned ttl, int64_t now,
                                                avow_buf *out, avow_diag *diag);

/* {"attestation_challenge": "<challenge>"} plus a newline, NUL-terminated, the caller's. */
AVOW_EXPORT avow_err avow_oauth_challenge_to_json(const char *challenge, avow_buf *out,
                                                  avow_diag *diag);

/* ---- Authorization Server / Resource Server ---- */

/*
 * The parts of an HTTP request the check needs. Header values are given
 * as found, every occurrence (the draft wants precisely one of each).
 */
typedef struct avow_oauth_request {
    size_t size;                    /* set by avow_oauth_request_init */
    const char *method;             /* "POST"; needed for DPoP */
    const char *url;                /* the request's absolute URI; needed for DPoP */
    const char *const *attestation; /* OAuth-Client-Attestation values */
    size_t nattestation;
    const char *const *pop; /* OAuth-Client-Attestation-PoP values */
    size_t npop;
    const char *const *dpop; /* DPoP values */
    size_t ndpop;
    const char *client_id;    /* the request's client_id parameter; NULL: none */
    const char *access_token; /* a DPoP-bound access token presented with the request; NULL: none */
} avow_oauth_request;

AVOW_EXPORT void avow_oauth_request_init(avow_oauth_request *r);

/* A symmetric attester key the AS shares with one Client Attester. */
typedef struct avow_oauth_secret {
    const uint8_t *key;
    size_t len;
} avow_oauth_secret;

/*
 * A cache a server keeps across avow_oauth_verify calls (opts.key_cache):
 * the cnf keys of clients seen before, already imported, and the trusted
 * attester keys with their ECDSA verification set up once, with the digests
 * fetched once. A cnf key is found by the full RFC 7638 thumbprint input of
 * its JWK (the members that make the key), compared byte for byte, so a hit
 * is always the key that JWK holds; every check of avow_oauth_verify still
 * runs. At most capacity cnf keys (0: AVOW_OAUTH_KEY_CACHE_DEFAULT; up to
 * AVOW_OAUTH_KEY_CACHE_MAX), replaced round robin; up to 16 attester keys,
 * each held by a reference until the cache is freed. Safe to share between
 * threads (a read-write lock). The caller's (avow_oauth_key_cache_free).
 */
#define AVOW_OAUTH_KEY_CACHE_DEFAULT 1024u
#define AVOW_OAUTH_KEY_CACHE_MAX     (1u << 20)

typedef struct avow_oauth_key_cache avow_oauth_key_cache;

AVOW_EXPORT avow_err avow_oauth_key_cache_new(size_t capacity, avow_oauth_key_cache **out,
                                              avow_diag *diag);
/* No-op for NULL; after the last avow_oauth_verify that uses it. */
AVOW_EXPORT void avow_oauth_key_cache_free(avow_oauth_key_cache *c);

/* avow_oauth_verify_opts.flags */
enum {
    /* A PoP (or, combined, the DPoP nonce) must carry an issued challenge. */
    AVOW_OAUTH_REQUIRE_CHALLENGE = 1u << 0,
    /* A challenge may serve several PoPs until it expires (default: once). */
    AVOW_OAUTH_CHALLENGE_REUSABLE = 1u << 1,
    /* Refuse DPoP combined mode (attest_jwt_client_auth_dpop). */
    AVOW_OAUTH_NO_COMBINED = 1u << 2,
    /* Refuse the PoP JWT mode (attest_jwt_client_auth). */
    AVOW_OAUTH_NO_POP_JWT = 1u << 3,
    /* Accept an "aud" array of exactly one string (default: a string only). */
    AVOW_OAUTH_AUD_ARRAY_OF_ONE = 1u << 4
};

typedef struct avow_oauth_verify_opts {
    size_t size;          /* set by avow_oauth_verify_opts_init */
    const char *audience; /* required: this server's issuer identifier or resource identifier */
    EVP_PKEY *const *attester_keys; /* trusted Client Attester public keys */
    size_t nattester_keys;
    const avow_oauth_secret *attester_secrets; /* shared keys: the only way an HS* alg is taken */
    size_t nattester_secrets;
    const avow_sigalg *attestation_algs; /* accepted for the attestation; NULL: any that fits */
    size_t nattestation_algs;
    const avow_sigalg *pop_algs; /* accepted for PoP and DPoP; NULL: any that fits */
    size_t npop_algs;
    int64_t now;          /* 0: the current time */
    unsigned leeway;      /* clock skew, seconds; set to AVOW_OAUTH_DEFAULT_LEEWAY by _init */
    unsigned pop_max_age; /* PoP/DPoP iat window; AVOW_OAUTH_DEFAULT_POP_AGE by _init */
    unsigned attestation_max_age;   /* > 0: refuse an attestation whose iat is older (use_fresh) */
    size_t max_token;               /* bytes per header value; AVOW_OAUTH_MAX_TOKEN by _init */
    avow_nonce_store *challenges;   /* issued challenges; NULL: challenges are not used */
    unsigned challenge_ttl;         /* lifetime of a challenge this call issues; 0: store default */
    const char *expected_challenge; /* a challenge bound to the client's session; NULL: none */
    avow_oauth_replay *replay;      /* jti seen-set; NULL: no replay detection (not advised) */
    unsigned flags;                 /* AVOW_OAUTH_* */
    avow_oauth_key_cache *key_cache; /* borrowed; NULL: every key imported and set up per call */
} avow_oauth_verify_opts;

AVOW_EXPORT void avow_oauth_verify_opts_init(avow_oauth_verify_opts *o);

/*
 * The attestation members of AS metadata (RFC 8414) or protected-resource
 * metadata (RFC 9728) for a server checking with opts, as a JSON object
 * text: "token_endpoint_auth_methods_supported" (attest_jwt_client_auth
 * unless AVOW_OAUTH_NO_POP_JWT, attest_jwt_client_auth_dpop unless
 * AVOW_OAUTH_NO_COMBINED), "client_attestation_pop_methods_supported"
 * (attestation_pop_jwt, dpop_combined), the alg lists
 * "client_attestation_signing_alg_values_supported" (the algs opts allows,
 * else every asymmetric JOSE alg avow verifies; HS256/384/512 when shared
 * secrets are configured), "client_attestation_pop_signing_alg_values_supported"
 * and "dpop_signing_alg_values_supported", and "challenge_endpoint" when
 * given (NULL: none). The caller merges it into its document.
 * NUL-terminated, ending in a newline; the caller's (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_oauth_metadata_json(const avow_oauth_verify_opts *opts,
                                              const char *challenge_endpoint, avow_buf *out,
                                              avow_diag *diag);

typedef enum avow_oauth_mode {
    AVOW_OAUTH_MODE_NONE = 0,
    AVOW_OAUTH_MODE_POP_JWT = 1, /* OAuth-Client-Attestation-PoP (attest_jwt_client_auth) */
    AVOW_OAUTH_MODE_DPOP = 2     /* DPoP combined mode (attest_jwt_client_auth_dpop) */
} avow_oauth_mode;

typedef struct avow_oauth_result avow_oauth_result;

/*
 * Authenticates the client of req (draft -11, "Verification and
 * Processing", in the draft's order): header dispatch, the Client
 * Attestation (typ, alg bound to a trusted attester key, sub, exp, iat,
 * cnf), client_id, then the PoP JWT or, in combined mode, the DPoP proof
 * (signature by the cnf key, aud or htm/htu/ath, iat window, challenge),
 * any separate DPoP proof under RFC 9449 alone, and last the replay set:
 * the jti is recorded (and a single-use challenge consumed) only when every
 * other check passed.
 *
 * Returns AVOW_OK when the client is authenticated; otherwise the reason
 * code of the first failing check, with diag naming it. *out is set in
 * both cases (not for AVOW_ERR_ARG / AVOW_ERR_NOMEM): it carries the
 * draft's error name, a fresh challenge after use_attestation_challenge
 * (when a challenge store is set), and on success client_id, the cnf key
 * and the attestation's claims. Free with avow_oauth_result_free.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_oauth_verify(const avow_oauth_request *req,
                                                       const avow_oauth_verify_opts *opts,
                                                       avow_oauth_result **out, avow_diag *diag);

/*
 * A PoP JWT alone, verified with key under the PoP rules of
 * avow_oauth_verify (typ, alg bound to key, aud = opts->audience, iat
 * window, challenge, jti recorded last): the proof of possession a Client
 * Attester asks for before it appraises Evidence about key. jti values are
 * scoped by the key's thumbprint. Returns AVOW_OK or the reason code.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_oauth_possession(const char *pop, EVP_PKEY *key,
                                                           const avow_oauth_verify_opts *opts,
                                                           avow_diag *diag);

AVOW_EXPORT void avow_oauth_result_free(avow_oauth_result *r);
/* AVOW_OK or the reason code. */
AVOW_EXPORT avow_err avow_oauth_result_status(const avow_oauth_result *r);
/* The draft's error name; NULL on success and for store failures (a server error). */
AVOW_EXPORT const char *avow_oauth_result_error(const avow_oauth_result *r);
/* The failing check: field and message. Borrowed. */
AVOW_EXPORT const avow_diag *avow_oauth_result_diag(const avow_oauth_result *r);
AVOW_EXPORT avow_oauth_mode avow_oauth_result_mode(const avow_oauth_result *r);
/* Borrowed; NULL until the attestation verified. */
AVOW_EXPORT const char *avow_oauth_result_client_id(const avow_oauth_result *r);
AVOW_EXPORT EVP_PKEY *avow_oauth_result_get0_cnf(const avow_oauth_result *r);
/* RFC 7638 thumbprint of the cnf key (what a bound token's "jkt" holds). */
AVOW_EXPORT const char *avow_oauth_result_jkt(const avow_oauth_result *r);
/* The attestation's claims as JSON text, for the caller's own policy. */
AVOW_EXPORT const char *avow_oauth_result_claims(const avow_oauth_result *r);
/* A challenge to send in OAuth-Client-Attestation-Challenge; NULL when none was issued. */
AVOW_EXPORT const char *avow_oauth_result_challenge(const avow_oauth_result *r);
/*
 * {"authenticated", "client_id", "mode", "jkt", "attestation", or "error",
 * "reason", "check", "message", "challenge"} as indented JSON with a newline.
 */
AVOW_EXPORT avow_err avow_oauth_result_to_json(const avow_oauth_result *r, avow_buf *out,
                                               avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
