/*
 * The OAuth endpoints of `avow serve` (oauth_*.c): their configuration
 * (the "oauth" member, docs/serve.md), the state opened once at start and
 * the handlers. Every decision is the library's (avow/oauth.h); these files
 * only move HTTP in and out.
 */
#ifndef AVOW_SERVICE_OAUTH_INT_H
#define AVOW_SERVICE_OAUTH_INT_H

#include <avow/oauth.h>

#include "service/service_int.h"

#define SVC_OAUTH_MAX_KEYS    16u
#define SVC_OAUTH_MAX_CLIENTS 256u

#define SVC_OAUTH_PREFIX      "/oauth/"
#define SVC_OAUTH_METADATA    "/.well-known/oauth-authorization-server"
#define SVC_OAUTH_CHALLENGE   "/oauth/challenge"
#define SVC_OAUTH_TOKEN       "/oauth/token"
#define SVC_OAUTH_ATTEST      "/oauth/attest"
#define SVC_OAUTH_CHECK       "/oauth/check"

typedef struct svc_oauth_cfg {
    char *issuer;       /* required: the PoP "aud", the access tokens' "iss" */
    char *base_url;     /* the URL clients use for this service; NULL: from Host */
    char *attester_id;  /* the attester PoP's "aud"; NULL: issuer + SVC_OAUTH_ATTEST */
    char *attester_key; /* signer of attestations and access tokens; NULL: the CA key */
    char *replay_db;    /* NULL: <ca>/oauth-replay.db */
    char *attester_keys[SVC_OAUTH_MAX_KEYS]; /* trusted public keys (PEM) besides our own */
    size_t nattester_keys;
    char *attester_secrets[SVC_OAUTH_MAX_KEYS]; /* files of shared HS* keys */
    size_t nattester_secrets;
    char *clients[SVC_OAUTH_MAX_CLIENTS]; /* allowed client_ids; none: any */
    size_t nclients;
    int require_challenge, challenge_reusable, pop_jwt, dpop_combined, attester;
    unsigned challenge_ttl, leeway, pop_max_age, attestation_max_age;
    unsigned token_ttl, attestation_ttl;
} svc_oauth_cfg;

typedef struct svc_oauth {
    EVP_PKEY *keys[SVC_OAUTH_MAX_KEYS + 1]; /* [0]: our own attester key */
    size_t nkeys;
    avow_buf secret_bufs[SVC_OAUTH_MAX_KEYS];
    avow_oauth_secret secrets[SVC_OAUTH_MAX_KEYS];
    size_t nsecrets;
    avow_oauth_replay *replay;
    /* cnf keys imported once and the attester keys' prepared verifications, shared by threads */
    avow_oauth_key_cache *key_cache;
    avow_signer *own_signer; /* from attester_key; NULL: the CA's signer is used */
    char *attester_id;
} svc_oauth;

/* The check's options for this service (challenges in the CA directory's nonce store). */
void svc_oauth_verify_opts(const avow_service *s, avow_oauth_verify_opts *o);
/* 1 when client_id is allowed by "clients". */
int svc_oauth_client_allowed(const avow_service *s, const char *client_id);
/* The attester and access-token signer; call under s->sign_lock. */
avow_signer *svc_oauth_signer(const avow_service *s);

/* The absolute URL of path on this service (base_url, else the request's scheme and Host). */
avow_err svc_oauth_url(const svc_req *r, const char *path, char *buf, size_t cap, avow_diag *d);

/* The token request's form (oauth_token.c): grant_type and client_id, each at most once. */
typedef struct svc_oauth_form {
    char grant_type[64];
    char client_id[512];
    int has_grant, has_client;
} svc_oauth_form;
avow_err svc_oauth_form_parse(const uint8_t *body, size_t len, svc_oauth_form *f, avow_diag *d);

/* An RFC 6749 section 5.2 error: {"error", "error_description", "reason"}. */
void svc_oauth_error(svc_resp *out, unsigned status, const char *error, avow_err reason,
                     const avow_diag *d);

void svc_oauth_challenge(svc_req *r, svc_resp *out);
void svc_oauth_metadata(svc_req *r, svc_resp *out);
void svc_oauth_token(svc_req *r, svc_resp *out);
void svc_oauth_attest(svc_req *r, svc_resp *out);
void svc_oauth_check(svc_req *r, svc_resp *out);

#endif
