/*
 * The front end the token routes of the service share: POST /oauth/attest
 * (oauth_attest.c) and POST /wimse/issue (wimse_route.c) both take a JSON
 * body with Evidence or an attested CSR, a cnf key as a JWK or PEM and a
 * PoP JWT by it; /oauth/token and /wimse/check both collect repeated
 * headers. One copy of each step, so both routes refuse alike.
 */
#ifndef AVOW_SERVICE_TOKEN_FRONT_H
#define AVOW_SERVICE_TOKEN_FRONT_H

#include <jansson.h>

#include <avow/oauth.h>
#include <avow/verification.h>

#include "service/service_int.h"

/* o's member k when it is a non-empty string without NUL, else NULL (borrowed from o). */
const char *svc_token_str(json_t *o, const char *k);

/*
 * The request's body as one JSON object (Content-Type application/json)
 * with no member outside keys[0..n); what names it in messages ("issue
 * request"). *root is the caller's (json_decref), set even on a refusal.
 * Errors: AVOW_ERR_CONTENT_TYPE, AVOW_ERR_MALFORMED, the JSON loader's.
 */
avow_err svc_token_body(const svc_req *r, const char *what, const char *const *keys, size_t n,
                        json_t **root, avow_diag *d);

/*
 * The key of root's "cnf_jwk" (a JWK object) or "cnf_key" (PEM), not both,
 * into *out (the caller's); *out stays NULL when neither is given.
 */
avow_err svc_token_cnf(json_t *root, EVP_PKEY **out, avow_diag *d);

/*
 * One PKIX Evidence statement (der) about the key spki, for avow_appraise:
 * the PoP JWT checked by cnf under vo gives its possession (the refusal's
 * words kept in why). Returns the store's errors (AVOW_ERR_STORE,
 * AVOW_ERR_STORE_BUSY), which stop the request; AVOW_OK otherwise, the
 * possession's outcome then in in->sin. d is cleared.
 */
typedef struct svc_token_evidence {
    avow_statement_in st;
    avow_statements_in sin;
    char why[256];
} svc_token_evidence;
avow_err svc_token_evidence_in(const avow_service *s, const char *pop, EVP_PKEY *cnf,
                               const avow_oauth_verify_opts *vo, avow_view der, avow_view spki,
                               svc_token_evidence *in, avow_diag *d);

/* Keeps value as the (*n)-th of v[0..max); past max only the count stops ("repeated" anyway). */
void svc_token_keep(const char **v, size_t *n, size_t max, const char *value);

#endif
