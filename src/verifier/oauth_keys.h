/*
 * Internal side of avow_oauth_key_cache (oauth_keys.c) for the server check
 * (oauth_verify.c): cnf keys found by their full thumbprint input, attester
 * keys with a prepared verification.
 */
#ifndef AVOW_VERIFIER_OAUTH_KEYS_H
#define AVOW_VERIFIER_OAUTH_KEYS_H

#include <jansson.h>

#include <avow/oauth.h>

#include "formats/jose_int.h"

/* p gets the cache's digests (none for c NULL) and no verification. */
void avow__oauth_prep_init(avow_oauth_key_cache *c, avow__jws_prep *p);

/*
 * The key of a cnf JWK under avow__jwk_from_json's rules (its errors, with
 * field), from c when seen before: *key a reference, p a copy of its
 * prepared verification (EVP_PKEY_CTX_free p->verify), *jkt its RFC 7638
 * thumbprint (NUL-terminated). c must not be NULL.
 */
avow_err avow__oauth_cnf_key(avow_oauth_key_cache *c, const json_t *jwk, const char *field,
                             EVP_PKEY **key, avow__jws_prep *p, avow_buf *jkt, avow_diag *d);

/*
 * p for a trusted attester key: the digests and a copy of key's prepared
 * verification (EC keys; EVP_PKEY_CTX_free p->verify). c NULL or any
 * failure to prepare leaves the plain path; AVOW_ERR_NOMEM only when a
 * copy fails.
 */
avow_err avow__oauth_attester_prep(avow_oauth_key_cache *c, EVP_PKEY *key, avow__jws_prep *p);

#endif
