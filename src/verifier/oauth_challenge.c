/*
 * Attestation challenges (draft -11, "Challenge Retrieval"): random bytes
 * in the nonce store, handed out as base64url. The server check takes them
 * back from the PoP's "challenge" (or the DPoP "nonce") and, unless the
 * server lets one serve several PoPs, consumes them once.
 */
#include <string.h>

#include <jansson.h>

#include <avow/jose.h>
#include <avow/oauth.h>

#include "core/internal.h"
#include "core/json.h"

avow_err avow_oauth_challenge_issue(avow_nonce_store *s, unsigned ttl, int64_t now, avow_buf *out,
                                    avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (s == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "challenge", "no store or output");
    avow_buf raw = {0};
    avow_err rc = avow_nonce_issue(s, AVOW_OAUTH_CHALLENGE_LEN, ttl, (time_t)now, &raw, diag);
    if (rc == AVOW_OK)
        rc = avow_b64url_encode(raw.ptr, raw.len, out);
    avow_buf_free(&raw);
    return rc;
}

avow_err avow_oauth_challenge_to_json(const char *challenge, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (challenge == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "challenge", "no challenge or output");
    json_t *o = json_object();
    int bad = o == NULL;
    avow__json_put(o, "attestation_challenge", json_string(challenge), &bad);
    avow_err rc = bad ? avow__fail(diag, AVOW_ERR_ARG, "challenge", "not UTF-8 or out of memory")
                      : avow__json_dump(o, JSON_COMPACT, 1, out);
    json_decref(o);
    return rc;
}
