/*
 * The "oauth" member of the service's configuration: every member checked,
 * an unknown one refused (docs/serve.md lists them with their defaults).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "service/config_member.h"
#include "service/oauth_int.h"

/* The members of plain kinds, where they go. */
static const svc_cfg_field FIELDS[] = {
    {"issuer", SVC_CFG_STR, offsetof(svc_oauth_cfg, issuer), 0, 0},
    {"base_url", SVC_CFG_STR, offsetof(svc_oauth_cfg, base_url), 0, 0},
    {"attester_id", SVC_CFG_STR, offsetof(svc_oauth_cfg, attester_id), 0, 0},
    {"attester_key", SVC_CFG_STR, offsetof(svc_oauth_cfg, attester_key), 0, 0},
    {"replay_db", SVC_CFG_STR, offsetof(svc_oauth_cfg, replay_db), 0, 0},
    {"require_challenge", SVC_CFG_BOOL, offsetof(svc_oauth_cfg, require_challenge), 0, 0},
    {"challenge_reusable", SVC_CFG_BOOL, offsetof(svc_oauth_cfg, challenge_reusable), 0, 0},
    {"pop_jwt", SVC_CFG_BOOL, offsetof(svc_oauth_cfg, pop_jwt), 0, 0},
    {"dpop_combined", SVC_CFG_BOOL, offsetof(svc_oauth_cfg, dpop_combined), 0, 0},
    {"attester", SVC_CFG_BOOL, offsetof(svc_oauth_cfg, attester), 0, 0},
    {"challenge_ttl", SVC_CFG_UINT, offsetof(svc_oauth_cfg, challenge_ttl), 1, 86400},
    {"leeway", SVC_CFG_UINT, offsetof(svc_oauth_cfg, leeway), 0, 3600},
    {"pop_max_age", SVC_CFG_UINT, offsetof(svc_oauth_cfg, pop_max_age), 1, 86400},
    {"attestation_max_age", SVC_CFG_UINT, offsetof(svc_oauth_cfg, attestation_max_age), 0,
     10ul * 365 * 86400},
    {"token_ttl", SVC_CFG_UINT, offsetof(svc_oauth_cfg, token_ttl), 1, 86400},
    {"attestation_ttl", SVC_CFG_UINT, offsetof(svc_oauth_cfg, attestation_ttl), 1, 365ul * 86400},
};

/* The list members of "oauth" into c. */
static avow_err member(void *section, const char *k, json_t *v, const char *field, avow_diag *d)
{
    svc_oauth_cfg *c = section;
    if (strcmp(k, "attester_keys") == 0)
        return svc_cfg_strs(v, field, c->attester_keys, SVC_OAUTH_MAX_KEYS, &c->nattester_keys, d);
    if (strcmp(k, "attester_secrets") == 0)
        return svc_cfg_strs(v, field, c->attester_secrets, SVC_OAUTH_MAX_KEYS,
                            &c->nattester_secrets, d);
    if (strcmp(k, "clients") == 0)
        return svc_cfg_strs(v, field, c->clients, SVC_OAUTH_MAX_CLIENTS, &c->nclients, d);
    return AVOW_ERR_NOT_FOUND;
}

static void defaults(void *section)
{
    svc_oauth_cfg *c = section;
    c->require_challenge = 1;
    c->pop_jwt = 1;
    c->dpop_combined = 1;
    c->attester = 1;
    c->challenge_ttl = 300;
    c->leeway = AVOW_OAUTH_DEFAULT_LEEWAY;
    c->pop_max_age = AVOW_OAUTH_DEFAULT_POP_AGE;
    c->token_ttl = 300;
    c->attestation_ttl = 3600;
}

avow_err svc_oauth_config_load(void *json, svc_config *sc, avow_diag *d)
{
    void *section = NULL;
    avow_err err = svc_cfg_section(json, "oauth", sizeof(svc_oauth_cfg), defaults, FIELDS,
                                   sizeof(FIELDS) / sizeof(FIELDS[0]), member, &section, d);
    svc_oauth_cfg *c = sc->oauth = section;
    if (err != AVOW_OK)
        return err;
    if (c->issuer == NULL)
        return svc_cfg_bad(d, "oauth.issuer",
                           "the authorization server's issuer identifier is required");
    if (!c->pop_jwt && !c->dpop_combined)
        return svc_cfg_bad(d, "oauth",
                           "pop_jwt and dpop_combined are both off: no client could log in");
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
