/*
 * The "oauth" member of the service's configuration: every member checked,
 * an unknown one refused (docs/serve.md lists them with their defaults).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "service/oauth_int.h"

static avow_err bad(avow_diag *d, const char *field, const char *what)
{
    return avow__fail(d, AVOW_ERR_CONFIG, field, "%s", what);
}

static avow_err str_of(json_t *v, const char *field, char **out, avow_diag *d)
{
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return bad(d, field, "must be a non-empty string without NUL");
    char *dup = strdup(json_string_value(v));
    if (dup == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "no memory");
    free(*out);
    *out = dup;
    return AVOW_OK;
}

static avow_err list_of(json_t *v, const char *field, char **out, size_t max, size_t *n,
                        avow_diag *d)
{
    if (!json_is_array(v) || json_array_size(v) > max)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an array of at most %zu strings",
                          max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        avow_err err = str_of(json_array_get(v, i), field, &out[*n], d);
        if (err != AVOW_OK)
            return err;
        (*n)++;
    }
    return AVOW_OK;
}

static avow_err bool_of(json_t *v, const char *field, int *out, avow_diag *d)
{
    if (!json_is_boolean(v))
        return bad(d, field, "must be true or false");
    *out = json_is_true(v);
    return AVOW_OK;
}

static avow_err uint_of(json_t *v, const char *field, unsigned long min, unsigned long max,
                        unsigned *out, avow_diag *d)
{
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an integer %lu..%lu", min, max);
    *out = (unsigned)json_integer_value(v);
    return AVOW_OK;
}

/* One member of "oauth" into c. */
static avow_err member(svc_oauth_cfg *c, const char *k, json_t *v, avow_diag *d)
{
    char field[64];
    snprintf(field, sizeof(field), "oauth.%.50s", k);
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"issuer", offsetof(svc_oauth_cfg, issuer)},
        {"base_url", offsetof(svc_oauth_cfg, base_url)},
        {"attester_id", offsetof(svc_oauth_cfg, attester_id)},
        {"attester_key", offsetof(svc_oauth_cfg, attester_key)},
        {"replay_db", offsetof(svc_oauth_cfg, replay_db)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(k, strs[i].name) == 0)
            return str_of(v, field, (char **)(void *)((char *)c + strs[i].off), d);
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {
        {"require_challenge", offsetof(svc_oauth_cfg, require_challenge)},
        {"challenge_reusable", offsetof(svc_oauth_cfg, challenge_reusable)},
        {"pop_jwt", offsetof(svc_oauth_cfg, pop_jwt)},
        {"dpop_combined", offsetof(svc_oauth_cfg, dpop_combined)},
        {"attester", offsetof(svc_oauth_cfg, attester)},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(k, flags[i].name) == 0)
            return bool_of(v, field, (int *)(void *)((char *)c + flags[i].off), d);
    static const struct {
        const char *name;
        size_t off;
        unsigned long min, max;
    } nums[] = {
        {"challenge_ttl", offsetof(svc_oauth_cfg, challenge_ttl), 1, 86400},
        {"leeway", offsetof(svc_oauth_cfg, leeway), 0, 3600},
        {"pop_max_age", offsetof(svc_oauth_cfg, pop_max_age), 1, 86400},
        {"attestation_max_age", offsetof(svc_oauth_cfg, attestation_max_age), 0,
         10ul * 365 * 86400},
        {"token_ttl", offsetof(svc_oauth_cfg, token_ttl), 1, 86400},
        {"attestation_ttl", offsetof(svc_oauth_cfg, attestation_ttl), 1, 365ul * 86400},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (strcmp(k, nums[i].name) == 0)
            return uint_of(v, field, nums[i].min, nums[i].max,
                           (unsigned *)(void *)((char *)c + nums[i].off), d);
    if (strcmp(k, "attester_keys") == 0)
        return list_of(v, field, c->attester_keys, SVC_OAUTH_MAX_KEYS, &c->nattester_keys, d);
    if (strcmp(k, "attester_secrets") == 0)
        return list_of(v, field, c->attester_secrets, SVC_OAUTH_MAX_KEYS, &c->nattester_secrets, d);
    if (strcmp(k, "clients") == 0)
        return list_of(v, field, c->clients, SVC_OAUTH_MAX_CLIENTS, &c->nclients, d);
    return avow__fail(d, AVOW_ERR_CONFIG, "oauth", "unknown member \"%.60s\"", k);
}

avow_err svc_oauth_config_load(void *json, svc_config *sc, avow_diag *d)
{
    json_t *o = json;
    if (!json_is_object(o))
        return bad(d, "oauth", "must be an object");
    svc_oauth_cfg *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "oauth", "no memory");
    sc->oauth = c;
    c->require_challenge = 1;
    c->pop_jwt = 1;
    c->dpop_combined = 1;
    c->attester = 1;
    c->challenge_ttl = 300;
    c->leeway = AVOW_OAUTH_DEFAULT_LEEWAY;
    c->pop_max_age = AVOW_OAUTH_DEFAULT_POP_AGE;
    c->token_ttl = 300;
    c->attestation_ttl = 3600;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        avow_err err = member(c, k, v, d);
        if (err != AVOW_OK)
            return err;
    }
    if (c->issuer == NULL)
        return bad(d, "oauth.issuer", "the authorization server's issuer identifier is required");
    if (!c->pop_jwt && !c->dpop_combined)
        return bad(d, "oauth", "pop_jwt and dpop_combined are both off: no client could log in");
    return AVOW_OK;
}

void svc_oauth_config_free(svc_config *sc)
{
    svc_oauth_cfg *c = sc->oauth;
    if (c == NULL)
        return;
    free(c->issuer);
    free(c->base_url);
    free(c->attester_id);
    free(c->attester_key);
    free(c->replay_db);
    for (size_t i = 0; i < c->nattester_keys; i++)
        free(c->attester_keys[i]);
    for (size_t i = 0; i < c->nattester_secrets; i++)
        free(c->attester_secrets[i]);
    for (size_t i = 0; i < c->nclients; i++)
        free(c->clients[i]);
    free(c);
    sc->oauth = NULL;
}
