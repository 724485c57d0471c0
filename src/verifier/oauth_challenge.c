/*
 * Attestation challenges (draft -11, "Challenge Retrieval"): random bytes
 * in the nonce store, handed out as base64url. The server check takes them
 * back from the PoP's "challenge" (or the DPoP "nonce") and, unless the
 * server lets one serve several PoPs, consumes them once. And what a
 * server announces of all this in its metadata.
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

/* JOSE names of algs (every one with a JOSE name when algs is NULL) into the array a. */
static void put_algs(json_t *a, const avow_sigalg *algs, size_t n, int *bad)
{
    if (algs == NULL) {
        for (int s = AVOW_SIGALG_NONE + 1; s <= AVOW_SIGALG_SLH_DSA_SHAKE_256F; s++) {
            const char *name = avow_sigalg_jose_name((avow_sigalg)s);
            if (name != NULL && json_array_append_new(a, json_string(name)) != 0)
                *bad = 1;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = avow_sigalg_jose_name(algs[i]);
        if (name != NULL && json_array_append_new(a, json_string(name)) != 0)
            *bad = 1;
    }
}

avow_err avow_oauth_metadata_json(const avow_oauth_verify_opts *o, const char *challenge_endpoint,
                                  avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (o == NULL || o->size != sizeof(*o) || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "no output, or options not set up with avow_oauth_verify_opts_init");
    json_t *m = json_object(), *auth = json_array(), *pops = json_array(), *att = json_array(),
           *pop = json_array(), *dpop = json_array();
    if (m == NULL || auth == NULL || pops == NULL || att == NULL || pop == NULL || dpop == NULL) {
        json_t *all[] = {m, auth, pops, att, pop, dpop};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            json_decref(all[i]);
        return avow__fail(diag, AVOW_ERR_NOMEM, "metadata", "out of memory");
    }
    int bad = 0;
    if (!bad && !(o->flags & AVOW_OAUTH_NO_POP_JWT))
        bad = json_array_append_new(auth, json_string("attest_jwt_client_auth")) != 0 ||
              json_array_append_new(pops, json_string("attestation_pop_jwt")) != 0;
    if (!bad && !(o->flags & AVOW_OAUTH_NO_COMBINED))
        bad = json_array_append_new(auth, json_string("attest_jwt_client_auth_dpop")) != 0 ||
              json_array_append_new(pops, json_string("dpop_combined")) != 0;
    if (!bad) {
        put_algs(att, o->attestation_algs, o->nattestation_algs, &bad);
        for (size_t i = 0; o->nattester_secrets > 0 && i < 3; i++)
            bad |= json_array_append_new(att, json_string(i == 0   ? "HS256"
                                                          : i == 1 ? "HS384"
                                                                   : "HS512")) != 0;
        put_algs(pop, o->pop_algs, o->npop_algs, &bad);
        put_algs(dpop, o->pop_algs, o->npop_algs, &bad);
    }
    avow__json_put(m, "token_endpoint_auth_methods_supported", auth, &bad);
    avow__json_put(m, "client_attestation_pop_methods_supported", pops, &bad);
    avow__json_put(m, "client_attestation_signing_alg_values_supported", att, &bad);
    avow__json_put(m, "client_attestation_pop_signing_alg_values_supported", pop, &bad);
    avow__json_put(m, "dpop_signing_alg_values_supported", dpop, &bad);
    if (challenge_endpoint != NULL)
        avow__json_put(m, "challenge_endpoint", json_string(challenge_endpoint), &bad);
    avow_err rc = bad ? avow__fail(diag, AVOW_ERR_ARG, "metadata", "not UTF-8 or out of memory")
                      : avow__json_dump(m, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(m);
    return rc;
}
