/*
 * The WIMSE endpoints of `avow serve` (wimse_*.c): their configuration
 * (the "wimse" member, docs/serve.md), the state opened once at start and
 * the handlers. The identity server's decisions (appraisal, identifier,
 * credentials) and the relying party's checks are the library's
 * (avow/wimse.h); these files only move HTTP in and out.
 */
#ifndef AVOW_SERVICE_WIMSE_INT_H
#define AVOW_SERVICE_WIMSE_INT_H

#include <avow/wimse.h>

#include "service/service_int.h"

#define SVC_WIMSE_MAX_KEYS 16u

#define SVC_WIMSE_PREFIX   "/wimse/"
#define SVC_WIMSE_ISSUE    "/wimse/issue"
#define SVC_WIMSE_CHECK    "/wimse/check"

typedef struct svc_wimse_cfg {
    char *issuer;       /* required: the WIT "iss", and the iss the check expects */
    char *idmap;        /* required: the identifier policy (avow_wimse_idmap_load) */
    char *issuer_key;   /* signer of WITs (a file or a pkcs11: URI); NULL: the CA key */
    char *kid;          /* the WIT's JWS kid; NULL: none */
    char *audience;     /* the WPT aud /wimse/check expects without ?url=; NULL: none */
    char *trust_domain; /* identifiers the check accepts; NULL: any */
    char *replay_db;    /* NULL: the service's Redis store, else <ca>/wimse-replay.db */
    char *issuer_keys[SVC_WIMSE_MAX_KEYS]; /* other trusted WIT issuers' public keys */
    size_t nissuer_keys;
    unsigned ttl, leeway, wic_days;
    unsigned result; /* avow_wimse_result_mode */
    int wic, require_iss;
} svc_wimse_cfg;

typedef struct svc_wimse {
    avow_wimse_idmap *idmap;
    avow_signer *own_signer;                /* from issuer_key; NULL: the CA's signer */
    EVP_PKEY *keys[SVC_WIMSE_MAX_KEYS + 1]; /* [0]: our own issuer key */
    size_t nkeys;
    avow_oauth_replay *replay; /* WPT jti values */
    avow_oauth_key_cache *key_cache;
    char *pop_aud; /* the aud of the PoP that comes with Evidence: issuer + SVC_WIMSE_ISSUE */
} svc_wimse;

/* The WIT signer; call under s->sign_lock. */
avow_signer *svc_wimse_signer(const avow_service *s);

void svc_wimse_issue(svc_req *r, svc_resp *out);
void svc_wimse_check(svc_req *r, svc_resp *out);

#endif
