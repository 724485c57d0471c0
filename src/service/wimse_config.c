/*
 * The "wimse" member of the service's configuration: every member checked,
 * an unknown one refused (docs/serve.md lists them with their defaults).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "service/config_member.h"
#include "service/wimse_int.h"

static avow_err result_of(json_t *v, const char *field, unsigned *out, avow_diag *d)
{
    static const struct {
        const char *name;
        unsigned mode;
    } modes[] = {{"none", AVOW_WIMSE_RESULT_NONE},
                 {"digest", AVOW_WIMSE_RESULT_DIGEST},
                 {"ear", AVOW_WIMSE_RESULT_EAR}};
    for (size_t i = 0; json_is_string(v) && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(json_string_value(v), modes[i].name) == 0) {
            *out = modes[i].mode;
            return AVOW_OK;
        }
    return svc_cfg_bad(d, field, "must be \"none\", \"digest\" or \"ear\"");
}

/* The members of plain kinds, where they go. */
static const svc_cfg_field FIELDS[] = {
    {"issuer", SVC_CFG_STR, offsetof(svc_wimse_cfg, issuer), 0, 0},
    {"idmap", SVC_CFG_STR, offsetof(svc_wimse_cfg, idmap), 0, 0},
    {"issuer_key", SVC_CFG_STR, offsetof(svc_wimse_cfg, issuer_key), 0, 0},
    {"kid", SVC_CFG_STR, offsetof(svc_wimse_cfg, kid), 0, 0},
    {"audience", SVC_CFG_STR, offsetof(svc_wimse_cfg, audience), 0, 0},
    {"trust_domain", SVC_CFG_STR, offsetof(svc_wimse_cfg, trust_domain), 0, 0},
    {"replay_db", SVC_CFG_STR, offsetof(svc_wimse_cfg, replay_db), 0, 0},
    {"wic", SVC_CFG_BOOL, offsetof(svc_wimse_cfg, wic), 0, 0},
    {"require_iss", SVC_CFG_BOOL, offsetof(svc_wimse_cfg, require_iss), 0, 0},
    {"ttl", SVC_CFG_UINT, offsetof(svc_wimse_cfg, ttl), 1, AVOW_WIMSE_MAX_WIT_TTL},
    {"leeway", SVC_CFG_UINT, offsetof(svc_wimse_cfg, leeway), 0, 600},
    {"wic_days", SVC_CFG_UINT, offsetof(svc_wimse_cfg, wic_days), 1, 3650},
};

/* The members of "wimse" of their own kinds into c. */
static avow_err member(void *section, const char *k, json_t *v, const char *field, avow_diag *d)
{
    svc_wimse_cfg *c = section;
    if (strcmp(k, "result") == 0)
        return result_of(v, field, &c->result, d);
    if (strcmp(k, "issuer_keys") == 0)
        return svc_cfg_strs(v, field, c->issuer_keys, SVC_WIMSE_MAX_KEYS, &c->nissuer_keys, d);
    return AVOW_ERR_NOT_FOUND;
}

static void defaults(void *section)
{
    svc_wimse_cfg *c = section;
    c->ttl = AVOW_WIMSE_DEFAULT_WIT_TTL;
    c->leeway = AVOW_WIMSE_DEFAULT_LEEWAY;
    c->result = AVOW_WIMSE_RESULT_DIGEST;
    c->wic = 1;
}

avow_err svc_wimse_config_load(void *json, svc_config *sc, avow_diag *d)
{
    void *section = NULL;
    avow_err err = svc_cfg_section(json, "wimse", sizeof(svc_wimse_cfg), defaults, FIELDS,
                                   sizeof(FIELDS) / sizeof(FIELDS[0]), member, &section, d);
    svc_wimse_cfg *c = sc->wimse = section;
    if (err != AVOW_OK)
        return err;
    if (c->issuer == NULL)
        return svc_cfg_bad(d, "wimse.issuer", "the identity server's URI is required");
    if (c->idmap == NULL)
        return svc_cfg_bad(d, "wimse.idmap", "the identifier policy file is required");
    return AVOW_OK;
}

void svc_wimse_config_free(svc_config *sc)
{
    svc_wimse_cfg *c = sc->wimse;
    if (c == NULL)
        return;
    char *strs[] = {c->issuer,   c->idmap,        c->issuer_key, c->kid,
                    c->audience, c->trust_domain, c->replay_db};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(strs[i]);
    for (size_t i = 0; i < c->nissuer_keys; i++)
        free(c->issuer_keys[i]);
    free(c);
    sc->wimse = NULL;
}
