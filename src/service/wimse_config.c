/*
 * The "wimse" member of the service's configuration: every member checked,
 * an unknown one refused (docs/serve.md lists them with their defaults).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "service/wimse_int.h"

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
    return bad(d, field, "must be \"none\", \"digest\" or \"ear\"");
}

/* One member of "wimse" into c. */
static avow_err member(svc_wimse_cfg *c, const char *k, json_t *v, avow_diag *d)
{
    char field[64];
    snprintf(field, sizeof(field), "wimse.%.50s", k);
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"issuer", offsetof(svc_wimse_cfg, issuer)},
        {"idmap", offsetof(svc_wimse_cfg, idmap)},
        {"issuer_key", offsetof(svc_wimse_cfg, issuer_key)},
        {"kid", offsetof(svc_wimse_cfg, kid)},
        {"audience", offsetof(svc_wimse_cfg, audience)},
        {"trust_domain", offsetof(svc_wimse_cfg, trust_domain)},
        {"replay_db", offsetof(svc_wimse_cfg, replay_db)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(k, strs[i].name) == 0)
            return str_of(v, field, (char **)(void *)((char *)c + strs[i].off), d);
    if (strcmp(k, "wic") == 0)
        return bool_of(v, field, &c->wic, d);
    if (strcmp(k, "require_iss") == 0)
        return bool_of(v, field, &c->require_iss, d);
    if (strcmp(k, "ttl") == 0)
        return uint_of(v, field, 1, AVOW_WIMSE_MAX_WIT_TTL, &c->ttl, d);
    if (strcmp(k, "leeway") == 0)
        return uint_of(v, field, 0, 600, &c->leeway, d);
    if (strcmp(k, "wic_days") == 0)
        return uint_of(v, field, 1, 3650, &c->wic_days, d);
    if (strcmp(k, "result") == 0)
        return result_of(v, field, &c->result, d);
    if (strcmp(k, "issuer_keys") == 0) {
        if (!json_is_array(v) || json_array_size(v) > SVC_WIMSE_MAX_KEYS)
            return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an array of at most %u strings",
                              SVC_WIMSE_MAX_KEYS);
        for (size_t i = 0; i < json_array_size(v); i++) {
            avow_err err = str_of(json_array_get(v, i), field, &c->issuer_keys[c->nissuer_keys], d);
            if (err != AVOW_OK)
                return err;
            c->nissuer_keys++;
        }
        return AVOW_OK;
    }
    return avow__fail(d, AVOW_ERR_CONFIG, "wimse", "unknown member \"%.60s\"", k);
}

avow_err svc_wimse_config_load(void *json, svc_config *sc, avow_diag *d)
{
    json_t *o = json;
    if (!json_is_object(o))
        return bad(d, "wimse", "must be an object");
    svc_wimse_cfg *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "wimse", "no memory");
    sc->wimse = c;
    c->ttl = AVOW_WIMSE_DEFAULT_WIT_TTL;
    c->leeway = AVOW_WIMSE_DEFAULT_LEEWAY;
    c->result = AVOW_WIMSE_RESULT_DIGEST;
    c->wic = 1;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        avow_err err = member(c, k, v, d);
        if (err != AVOW_OK)
            return err;
    }
    if (c->issuer == NULL)
        return bad(d, "wimse.issuer", "the identity server's URI is required");
    if (c->idmap == NULL)
        return bad(d, "wimse.idmap", "the identifier policy file is required");
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
