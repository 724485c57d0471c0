/*
 * The member readers of the service configuration's sections
 * (config_member.h): one copy of each check, so "oauth" and "wimse" refuse
 * a bad value with the same words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/config_member.h"

avow_err svc_cfg_bad(avow_diag *d, const char *field, const char *what)
{
    return avow__fail(d, AVOW_ERR_CONFIG, field, "%s", what);
}

avow_err svc_cfg_str(json_t *v, const char *field, char **out, avow_diag *d)
{
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return svc_cfg_bad(d, field, "must be a non-empty string without NUL");
    char *dup = strdup(json_string_value(v));
    if (dup == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "no memory");
    free(*out);
    *out = dup;
    return AVOW_OK;
}

avow_err svc_cfg_strs(json_t *v, const char *field, char **out, size_t max, size_t *n, avow_diag *d)
{
    if (!json_is_array(v) || json_array_size(v) > max)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an array of at most %zu strings",
                          max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        avow_err err = svc_cfg_str(json_array_get(v, i), field, &out[*n], d);
        if (err != AVOW_OK)
            return err;
        (*n)++;
    }
    return AVOW_OK;
}

avow_err svc_cfg_bool(json_t *v, const char *field, int *out, avow_diag *d)
{
    if (!json_is_boolean(v))
        return svc_cfg_bad(d, field, "must be true or false");
    *out = json_is_true(v);
    return AVOW_OK;
}

avow_err svc_cfg_uint(json_t *v, const char *field, unsigned long min, unsigned long max,
                      unsigned *out, avow_diag *d)
{
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an integer %lu..%lu", min, max);
    *out = (unsigned)json_integer_value(v);
    return AVOW_OK;
}

int svc_cfg_read(const svc_cfg_field *t, size_t n, void *base, const char *k, json_t *v,
                 const char *field, avow_err *err, avow_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k, t[i].name) != 0)
            continue;
        void *at = (char *)base + t[i].off;
        switch (t[i].kind) {
        case SVC_CFG_STR:
            *err = svc_cfg_str(v, field, (char **)at, d);
            break;
        case SVC_CFG_BOOL:
            *err = svc_cfg_bool(v, field, (int *)at, d);
            break;
        case SVC_CFG_UINT:
            *err = svc_cfg_uint(v, field, t[i].min, t[i].max, (unsigned *)at, d);
            break;
        }
        return 1;
    }
    return 0;
}

avow_err svc_cfg_section(json_t *o, const char *name, size_t size, void (*defaults)(void *),
                         const svc_cfg_field *t, size_t n, svc_cfg_member_fn member, void **out,
                         avow_diag *d)
{
    *out = NULL;
    if (!json_is_object(o))
        return svc_cfg_bad(d, name, "must be an object");
    void *c = calloc(1, size);
    if (c == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, name, "no memory");
    *out = c;
    if (defaults != NULL)
        defaults(c);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char field[64];
        snprintf(field, sizeof(field), "%.12s.%.50s", name, k);
        avow_err err = AVOW_ERR_NOT_FOUND;
        if (!svc_cfg_read(t, n, c, k, v, field, &err, d) && member != NULL)
            err = member(c, k, v, field, d);
        if (err == AVOW_ERR_NOT_FOUND)
            return avow__fail(d, AVOW_ERR_CONFIG, name, "unknown member \"%.60s\"", k);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}
