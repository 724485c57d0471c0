/*
 * libFuzzer target for the OAuth server check (avow_oauth_verify): the
 * input is up to four header values separated by newlines, in the order
 * OAuth-Client-Attestation, OAuth-Client-Attestation-PoP, DPoP, and a
 * second OAuth-Client-Attestation; an empty line is an absent header.
 * Trusted: the EAR key of the fuzz set-up as the Client Attester, and a
 * fixed HMAC secret; the clock is FZ_NOW and the session challenge fixed,
 * so the seeds (fuzz/make-seeds) authenticate and mutations reach every
 * check. Whatever passes must name the client and its key consistently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/oauth.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed secret of the HS* path (the seeds' HS256 attestation uses it). */
static const uint8_t FZ_SECRET[32] = "avow-fuzz-oauth-hmac-secret-0001";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_setup *s = fz_get();
    if (size > 4 * AVOW_OAUTH_MAX_TOKEN)
        return 0;
    char *part[4];
    char *text = fz_lines(data, size, part, 4);
    if (text == NULL)
        return 0;
    const char *att[2] = {part[0], part[3]};
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    q.method = "POST";
    q.url = "https://as.example.com/token";
    q.attestation = att;
    q.nattestation = (part[0] != NULL) + (part[3] != NULL);
    if (part[0] == NULL && part[3] != NULL)
        att[0] = part[3];
    q.pop = (const char *const *)&part[1];
    q.npop = part[1] != NULL;
    q.dpop = (const char *const *)&part[2];
    q.ndpop = part[2] != NULL;
    q.client_id = (size & 1) ? "https://client.example.com" : NULL;
    EVP_PKEY *keys[2] = {s->ear_key, s->ak_key};
    avow_oauth_secret sec = {FZ_SECRET, sizeof(FZ_SECRET)};
    avow_oauth_verify_opts o;
    avow_oauth_verify_opts_init(&o);
    o.audience = "https://as.example.com";
    o.attester_keys = keys;
    o.nattester_keys = 2;
    o.attester_secrets = &sec;
    o.nattester_secrets = 1;
    o.now = (int64_t)FZ_NOW;
    o.expected_challenge = "fz-challenge";
    o.flags = (size & 2) ? AVOW_OAUTH_REQUIRE_CHALLENGE : 0;
    avow_oauth_result *r = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_oauth_verify(&q, &o, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_oauth_result_status(r) == rc);
    avow_buf js = {0};
    FZ_CHECK(avow_oauth_result_to_json(r, &js, NULL) == AVOW_OK && fz_text_ok(&js));
    if (rc == AVOW_OK) {
        FZ_CHECK(avow_oauth_result_error(r) == NULL);
        FZ_CHECK(avow_oauth_result_client_id(r) != NULL && avow_oauth_result_claims(r) != NULL);
        FZ_CHECK(avow_oauth_result_get0_cnf(r) != NULL && avow_oauth_result_jkt(r) != NULL);
        FZ_CHECK(avow_oauth_result_mode(r) != AVOW_OAUTH_MODE_NONE);
    } else {
        FZ_CHECK(d.code == rc && d.field[0] != '\0');
        FZ_CHECK(avow_oauth_result_client_id(r) == NULL || rc != AVOW_ERR_OAUTH_HEADER);
    }
    /* The key cache changes no verdict: the same input again through a cache of two slots kept
     * across inputs (so earlier inputs' keys are hits, and evictions happen). */
    static avow_oauth_key_cache *kc;
    if (kc == NULL)
        FZ_CHECK(avow_oauth_key_cache_new(2, &kc, NULL) == AVOW_OK);
    o.key_cache = kc;
    avow_oauth_result *r2 = NULL;
    avow_err rc2 = avow_oauth_verify(&q, &o, &r2, NULL);
    FZ_CHECK(rc2 == rc && ERR_peek_error() == 0);
    FZ_CHECK(rc != AVOW_OK ||
             (EVP_PKEY_eq(avow_oauth_result_get0_cnf(r), avow_oauth_result_get0_cnf(r2)) == 1 &&
              strcmp(avow_oauth_result_jkt(r), avow_oauth_result_jkt(r2)) == 0));
    avow_oauth_result_free(r2);
    avow_buf_free(&js);
    avow_oauth_result_free(r);
    free(text);
    return 0;
}
