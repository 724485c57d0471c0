/*
 * The service's configuration file: one JSON object, every member checked
 * and an unknown member refused (a misspelt "limits" must not silently
 * leave the defaults in place). docs/serve.md lists the members.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define CONFIG_MAX (256u * 1024u)

static avow_err cfg_err(avow_diag *d, const char *field, const char *what)
{
    return avow__fail(d, AVOW_ERR_CONFIG, field, "%s", what);
}

static avow_err get_str(json_t *o, const char *key, const char *field, char **out, avow_diag *d)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL)
        return AVOW_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return cfg_err(d, field, "must be a non-empty string without NUL");
    char *dup = strdup(json_string_value(v));
    if (dup == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "no memory");
    free(*out);
    *out = dup;
    return AVOW_OK;
}

static avow_err get_uint(json_t *o, const char *key, const char *field, unsigned long min,
                         unsigned long max, unsigned long *out, avow_diag *d)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL)
        return AVOW_OK;
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must be an integer %lu..%lu", min, max);
    *out = (unsigned long)json_integer_value(v);
    return AVOW_OK;
}

/* Refuses members of o not in keys. */
static avow_err only_keys(json_t *o, const char *where, const char *const *keys, size_t n,
                          avow_diag *d)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]) != 0)
            i++;
        if (i == n)
            return avow__fail(d, AVOW_ERR_CONFIG, where, "unknown member \"%.60s\"", k);
    }
    return AVOW_OK;
}

static avow_err load_limits(json_t *o, svc_config *c, avow_diag *d)
{
    if (!json_is_object(o))
        return cfg_err(d, "limits", "must be an object");
    static const char *const keys[] = {"body_bytes", "header_bytes", "connections",
                                       "request_seconds", "threads"};
    avow_err err = only_keys(o, "limits", keys, sizeof(keys) / sizeof(keys[0]), d);
    unsigned long body = c->body_max, hdr = c->header_max, conns = c->connections,
                  secs = c->timeout, threads = c->threads;
    if (err == AVOW_OK)
        err = get_uint(o, "body_bytes", "limits.body_bytes", 1024, AVOW_REQUEST_MAX_SIZE * 4ul,
                       &body, d);
    if (err == AVOW_OK)
        err = get_uint(o, "header_bytes", "limits.header_bytes", 4096, 1024ul * 1024ul, &hdr, d);
    if (err == AVOW_OK)
        err = get_uint(o, "connections", "limits.connections", 1, 65536, &conns, d);
    if (err == AVOW_OK)
        err = get_uint(o, "request_seconds", "limits.request_seconds", 1, 3600, &secs, d);
    if (err == AVOW_OK)
        err = get_uint(o, "threads", "limits.threads", 1, 256, &threads, d);
    c->body_max = body;
    c->header_max = hdr;
    c->connections = (unsigned)conns;
    c->timeout = (unsigned)secs;
    c->threads = (unsigned)threads;
    return err;
}

static avow_err load_tls(json_t *o, svc_config *c, avow_diag *d)
{
    if (!json_is_object(o))
        return cfg_err(d, "tls", "must be an object");
    static const char *const keys[] = {"cert", "key"};
    avow_err err = only_keys(o, "tls", keys, 2, d);
    if (err == AVOW_OK)
        err = get_str(o, "cert", "tls.cert", &c->tls_cert, d);
    if (err == AVOW_OK)
        err = get_str(o, "key", "tls.key", &c->tls_key, d);
    if (err == AVOW_OK && (c->tls_cert == NULL) != (c->tls_key == NULL))
        err = cfg_err(d, "tls", "give both cert and key");
    return err;
}

static avow_err load_est(json_t *o, svc_config *c, avow_diag *d)
{
    if (!json_is_object(o))
        return cfg_err(d, "est", "must be an object");
    static const char *const keys[] = {"auth",      "users",         "realm",     "cert_eku",
                                       "client_ca", "nonce_binding", "cookie_key"};
    avow_err err = only_keys(o, "est", keys, sizeof(keys) / sizeof(keys[0]), d);
    char *auth = NULL;
    if (err == AVOW_OK)
        err = get_str(o, "auth", "est.auth", &auth, d);
    if (err == AVOW_OK && auth != NULL) {
        if (strcmp(auth, "none") == 0)
            c->auth = SVC_AUTH_NONE;
        else if (strcmp(auth, "basic") == 0)
            c->auth = SVC_AUTH_BASIC;
        else if (strcmp(auth, "tls-client") == 0)
            c->auth = SVC_AUTH_TLS_CLIENT;
        else
            err = cfg_err(d, "est.auth", "must be \"none\", \"basic\" or \"tls-client\"");
    }
    free(auth);
    if (err == AVOW_OK)
        err = get_str(o, "users", "est.users", &c->users, d);
    if (err == AVOW_OK)
        err = get_str(o, "realm", "est.realm", &c->realm, d);
    if (err == AVOW_OK)
        err = get_str(o, "cert_eku", "est.cert_eku", &c->cert_eku, d);
    if (err == AVOW_OK)
        err = get_str(o, "client_ca", "est.client_ca", &c->client_ca, d);
    char *binding = NULL;
    if (err == AVOW_OK)
        err = get_str(o, "nonce_binding", "est.nonce_binding", &binding, d);
    if (err == AVOW_OK && binding != NULL) {
        if (strcmp(binding, "cookie") == 0 || strcmp(binding, "none") == 0)
            c->nonce_cookie = strcmp(binding, "cookie") == 0;
        else
            err = cfg_err(d, "est.nonce_binding", "must be \"cookie\" or \"none\"");
    }
    free(binding);
    if (err == AVOW_OK)
        err = get_str(o, "cookie_key", "est.cookie_key", &c->cookie_key, d);
    if (err == AVOW_OK && c->auth == SVC_AUTH_BASIC && c->users == NULL)
        err = cfg_err(d, "est.users", "basic authentication needs a users file");
    if (err == AVOW_OK && c->auth == SVC_AUTH_TLS_CLIENT && c->client_ca == NULL)
        err = cfg_err(d, "est.client_ca", "tls-client authentication needs a client CA file");
    return err;
}

static avow_err load_nonce(json_t *o, svc_config *c, avow_diag *d)
{
    if (!json_is_object(o))
        return cfg_err(d, "nonce", "must be an object");
    static const char *const keys[] = {"ttl", "len"};
    avow_err err = only_keys(o, "nonce", keys, 2, d);
    unsigned long ttl = c->nonce_ttl, len = c->nonce_len;
    if (err == AVOW_OK)
        err = get_uint(o, "ttl", "nonce.ttl", 1, 86400, &ttl, d);
    if (err == AVOW_OK)
        err = get_uint(o, "len", "nonce.len", AVOW_NONCE_MIN_LEN, AVOW_NONCE_MAX_LEN, &len, d);
    c->nonce_ttl = (unsigned)ttl;
    c->nonce_len = (unsigned)len;
    return err;
}

/* An array of file names ("anchors", "iaks") into files[*n]. */
static avow_err load_files(json_t *a, const char *name, char **files, size_t *n, avow_diag *d)
{
    if (!json_is_array(a) || json_array_size(a) > SVC_MAX_ANCHORS)
        return avow__fail(d, AVOW_ERR_CONFIG, name, "must be an array of at most %u files",
                          SVC_MAX_ANCHORS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v))
            return avow__fail(d, AVOW_ERR_CONFIG, name, "entry %zu is not a file name", i);
        if ((files[*n] = strdup(json_string_value(v))) == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, name, "no memory");
        (*n)++;
    }
    return AVOW_OK;
}

/*
 * "store": "sqlite" (the CA directory's nonces.db) or a store URI, which
 * avow_nonce_store_open_uri checks when the CA directory is opened.
 */
static avow_err load_store(json_t *v, svc_config *c, avow_diag *d)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return cfg_err(d, "store",
                       "must be \"sqlite\" or a store URI (redis://..., unix:..., "
                       "sqlite:PATH)");
    const char *t = json_string_value(v);
    if (strcmp(t, "sqlite") == 0)
        return AVOW_OK;
    if (strncmp(t, "redis://", 8) != 0 && strncmp(t, "unix:", 5) != 0 &&
        strncmp(t, "sqlite:", 7) != 0)
        return cfg_err(d, "store",
                       "must be \"sqlite\" or a URI starting redis://, unix: or sqlite:");
    free(c->store);
    if ((c->store = strdup(t)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "store", "no memory");
    return AVOW_OK;
}

static avow_err get_flag(json_t *o, const char *key, const char *field, unsigned bit,
                         unsigned *flags, avow_diag *d)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL)
        return AVOW_OK;
    if (!json_is_boolean(v))
        return cfg_err(d, field, "must be true or false");
    if (json_is_true(v))
        *flags |= bit;
    else
        *flags &= ~bit;
    return AVOW_OK;
}

static avow_err load_cmp(json_t *o, svc_config *c, avow_diag *d)
{
    if (!json_is_object(o))
        return cfg_err(d, "cmp", "must be an object");
    static const char *const keys[] = {"secret",           "ref",
                                       "protect_key",      "protect_cert",
                                       "trusted",          "accept_unprotected",
                                       "implicit_confirm", "unprotected_errors"};
    avow_err err = only_keys(o, "cmp", keys, sizeof(keys) / sizeof(keys[0]), d);
    c->cmp = 1;
    if (err == AVOW_OK)
        err = get_str(o, "secret", "cmp.secret", &c->cmp_secret, d);
    if (err == AVOW_OK)
        err = get_str(o, "ref", "cmp.ref", &c->cmp_ref, d);
    if (err == AVOW_OK)
        err = get_str(o, "protect_key", "cmp.protect_key", &c->cmp_protect_key, d);
    if (err == AVOW_OK)
        err = get_str(o, "protect_cert", "cmp.protect_cert", &c->cmp_protect_cert, d);
    if (err == AVOW_OK)
        err = get_str(o, "trusted", "cmp.trusted", &c->cmp_trusted, d);
    if (err == AVOW_OK)
        err = get_flag(o, "accept_unprotected", "cmp.accept_unprotected",
                       AVOW_CMP_ACCEPT_UNPROTECTED, &c->cmp_flags, d);
    /* implicit_confirm (default true) is the positive form of AVOW_CMP_NO_IMPLICIT_CONFIRM. */
    json_t *ic = json_object_get(o, "implicit_confirm");
    if (err == AVOW_OK && ic != NULL && !json_is_boolean(ic))
        err = cfg_err(d, "cmp.implicit_confirm", "must be true or false");
    if (err == AVOW_OK && json_is_false(ic))
        c->cmp_flags |= AVOW_CMP_NO_IMPLICIT_CONFIRM;
    if (err == AVOW_OK)
        err = get_flag(o, "unprotected_errors", "cmp.unprotected_errors",
                       AVOW_CMP_UNPROTECTED_ERRORS, &c->cmp_flags, d);
    if (err == AVOW_OK && (c->cmp_protect_key == NULL) != (c->cmp_protect_cert == NULL))
        err = cfg_err(d, "cmp.protect_key", "give both protect_key and protect_cert");
    return err;
}

static avow_err load_object(json_t *root, svc_config *c, avow_diag *d)
{
    static const char *const keys[] = {"ca",
                                       "listen",
                                       "plain_http",
                                       "tls",
                                       "anchors",
                                       "policy",
                                       "limits",
                                       "nonce",
                                       "est",
                                       "store",
                                       "pin_source",
                                       "pkcs11_module",
                                       "access_log",
                                       "audit_log",
                                       "cmp",
                                       "oauth",
                                       "iaks",
                                       "result_keys",
                                       "passport_policy",
                                       "wimse"};
    avow_err err = only_keys(root, "config", keys, sizeof(keys) / sizeof(keys[0]), d);
    json_t *v;
    if (err == AVOW_OK)
        err = get_str(root, "ca", "ca", &c->ca, d);
    if (err == AVOW_OK)
        err = get_str(root, "listen", "listen", &c->listen, d);
    if (err == AVOW_OK && (v = json_object_get(root, "plain_http")) != NULL) {
        if (!json_is_boolean(v))
            err = cfg_err(d, "plain_http", "must be true or false");
        c->plain_http = json_is_true(v);
    }
    if (err == AVOW_OK && (v = json_object_get(root, "tls")) != NULL)
        err = load_tls(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "anchors")) != NULL)
        err = load_files(v, "anchors", c->anchors, &c->nanchors, d);
    if (err == AVOW_OK && (v = json_object_get(root, "iaks")) != NULL)
        err = load_files(v, "iaks", c->iaks, &c->niaks, d);
    if (err == AVOW_OK && (v = json_object_get(root, "result_keys")) != NULL)
        err = load_files(v, "result_keys", c->result_keys, &c->nresult_keys, d);
    if (err == AVOW_OK)
        err = get_str(root, "passport_policy", "passport_policy", &c->passport_policy, d);
    if (err == AVOW_OK)
        err = get_str(root, "policy", "policy", &c->policy, d);
    if (err == AVOW_OK && (v = json_object_get(root, "limits")) != NULL)
        err = load_limits(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "nonce")) != NULL)
        err = load_nonce(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "est")) != NULL)
        err = load_est(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "store")) != NULL)
        err = load_store(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "cmp")) != NULL)
        err = load_cmp(v, c, d);
    if (err == AVOW_OK)
        err = get_str(root, "pin_source", "pin_source", &c->pin_source, d);
    if (err == AVOW_OK)
        err = get_str(root, "pkcs11_module", "pkcs11_module", &c->pkcs11_module, d);
    if (err == AVOW_OK)
        err = get_str(root, "access_log", "access_log", &c->access_log, d);
    if (err == AVOW_OK)
        err = get_str(root, "audit_log", "audit_log", &c->audit_log, d);
    if (err == AVOW_OK && (v = json_object_get(root, "oauth")) != NULL)
        err = svc_oauth_config_load(v, c, d);
    if (err == AVOW_OK && (v = json_object_get(root, "wimse")) != NULL)
        err = svc_wimse_config_load(v, c, d);
    return err;
}

static void defaults(svc_config *c)
{
    memset(c, 0, sizeof(*c));
    c->threads = SVC_DEFAULT_THREADS;
    c->body_max = SVC_DEFAULT_BODY_MAX;
    c->header_max = SVC_DEFAULT_HEADER_MAX;
    c->connections = SVC_DEFAULT_CONNS;
    c->timeout = SVC_DEFAULT_TIMEOUT;
    c->nonce_ttl = AVOW_NONCE_DEFAULT_TTL;
    c->nonce_len = AVOW_NONCE_DEFAULT_LEN;
    c->nonce_cookie = 1;
}

avow_err svc_config_parse(const char *text, size_t len, svc_config *c, avow_diag *d)
{
    defaults(c);
    json_t *root = NULL;
    avow_err err = avow__json_load(text, len, CONFIG_MAX, "configuration", "config", &root, d);
    if (err == AVOW_OK && !json_is_object(root))
        err = cfg_err(d, "config", "must be a JSON object");
    if (err == AVOW_OK)
        err = load_object(root, c, d);
    json_decref(root);
    return err;
}

avow_err svc_config_load(const char *path, svc_config *c, avow_diag *d)
{
    defaults(c);
    if (path == NULL)
        return AVOW_OK;
    avow_buf text = {0};
    avow_err err = avow_read_file(path, CONFIG_MAX, &text, d);
    if (err == AVOW_OK)
        err = svc_config_parse((const char *)text.ptr, text.len, c, d);
    avow_buf_free(&text);
    return err;
}

void svc_config_free(svc_config *c)
{
    char **strs[] = {&c->ca,
                     &c->listen,
                     &c->tls_cert,
                     &c->tls_key,
                     &c->policy,
                     &c->passport_policy,
                     &c->pin_source,
                     &c->users,
                     &c->realm,
                     &c->access_log,
                     &c->audit_log,
                     &c->cert_eku,
                     &c->pkcs11_module,
                     &c->client_ca,
                     &c->cookie_key,
                     &c->store,
                     &c->cmp_secret,
                     &c->cmp_ref,
                     &c->cmp_protect_key,
                     &c->cmp_protect_cert,
                     &c->cmp_trusted};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    svc_oauth_config_free(c);
    svc_wimse_config_free(c);
    for (size_t i = 0; i < c->nanchors; i++)
        free(c->anchors[i]);
    c->nanchors = 0;
    for (size_t i = 0; i < c->niaks; i++)
        free(c->iaks[i]);
    c->niaks = 0;
    for (size_t i = 0; i < c->nresult_keys; i++)
        free(c->result_keys[i]);
    c->nresult_keys = 0;
}
