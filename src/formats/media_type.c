/*
 * Media types by the grammar of RFC 9110 section 8.3.1 (media-type, token,
 * quoted-string, OWS). Type, subtype and parameter names are folded to
 * lower case because they are case-insensitive; values are kept as written
 * because their meaning is the parameter's (eat_profile compares
 * case-insensitively, others may not).
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <avow/cmw.h>

#include "core/internal.h"

#define FIELD "media-type"

/* tchar of RFC 9110 section 5.6.2. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The token at *i, lower-cased into a new string; NULL (with *err set) when there is none. */
static char *token(const char *s, size_t len, size_t *i, int lower, avow_err *err)
{
    size_t start = *i;
    while (*i < len && is_tchar((unsigned char)s[*i]))
        (*i)++;
    if (*i == start) {
        *err = AVOW_ERR_MEDIA_TYPE;
        return NULL;
    }
    char *t = OPENSSL_malloc(*i - start + 1);
    if (t == NULL) {
        *err = AVOW_ERR_NOMEM;
        return NULL;
    }
    for (size_t k = start; k < *i; k++) {
        char c = s[k];
        t[k - start] = lower && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    t[*i - start] = '\0';
    return t;
}

/* A quoted-string at *i (on the opening quote), unescaped into a new string. */
static char *quoted(const char *s, size_t len, size_t *i, avow_err *err)
{
    char *t = OPENSSL_malloc(len - *i + 1); /* never longer than the rest */
    if (t == NULL) {
        *err = AVOW_ERR_NOMEM;
        return NULL;
    }
    size_t o = 0;
    (*i)++;
    while (*i < len) {
        unsigned char c = (unsigned char)s[*i];
        if (c == '"') {
            (*i)++;
            t[o] = '\0';
            return t;
        }
        if (c == '\\') {
            /* quoted-pair: HTAB / SP / VCHAR (obs-text is refused below) */
            if (*i + 1 >= len)
                break;
            c = (unsigned char)s[*i + 1];
            if (c != '\t' && (c < 0x20 || c > 0x7e))
                break;
            t[o++] = (char)c;
            *i += 2;
            continue;
        }
        /* qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E */
        if (c != '\t' && (c < 0x20 || c > 0x7e))
            break;
        t[o++] = (char)c;
        (*i)++;
    }
    OPENSSL_free(t);
    *err = AVOW_ERR_MEDIA_TYPE;
    return NULL;
}

void avow_media_type_free(avow_media_type *mt)
{
    if (mt == NULL)
        return;
    for (size_t i = 0; i < mt->nparams; i++) {
        OPENSSL_free(mt->params[i].name);
        OPENSSL_free(mt->params[i].value);
    }
    OPENSSL_free(mt->params);
    OPENSSL_free(mt->type);
    OPENSSL_free(mt->subtype);
    OPENSSL_free(mt);
}

/* The parameters after type/subtype: *( OWS ";" OWS [ name "=" value ] ). */
static avow_err parse_params(const char *s, size_t len, size_t i, avow_media_type *mt, avow_diag *d)
{
    char f[64];
    while (i < len) {
        while (i < len && is_ows((unsigned char)s[i]))
            i++;
        if (i == len)
            break;
        if (s[i] != ';')
            return avow__fail(d, AVOW_ERR_MEDIA_TYPE, FIELD,
                              "unexpected character 0x%02x at offset %zu (want ';')",
                              (unsigned char)s[i], i);
        i++;
        while (i < len && is_ows((unsigned char)s[i]))
            i++;
        if (i == len || s[i] == ';')
            continue; /* an empty parameter is allowed by the grammar */
        snprintf(f, sizeof(f), FIELD ".params[%zu]", mt->nparams);
        if (mt->nparams == AVOW_MEDIA_TYPE_MAX_PARAMS)
            return avow__fail(d, AVOW_ERR_TOO_LARGE, f, "more than %u parameters",
                              AVOW_MEDIA_TYPE_MAX_PARAMS);
        avow_err err = AVOW_OK;
        avow_media_param *p = &mt->params[mt->nparams];
        if ((p->name = token(s, len, &i, 1, &err)) == NULL)
            return err == AVOW_ERR_NOMEM ? avow__fail(d, err, f, "out of memory")
                                         : avow__fail(d, err, f, "parameter name is not a token");
        mt->nparams++;
        for (size_t k = 0; k + 1 < mt->nparams; k++)
            if (strcmp(mt->params[k].name, p->name) == 0)
                return avow__fail(d, AVOW_ERR_MEDIA_TYPE, f, "parameter \"%.40s\" given twice",
                                  p->name);
        if (i == len || s[i] != '=')
            return avow__fail(d, AVOW_ERR_MEDIA_TYPE, f,
                              "parameter \"%.40s\" has no '=' right after its name", p->name);
        i++;
        if (i < len && s[i] == '"')
            p->value = quoted(s, len, &i, &err);
        else
            p->value = token(s, len, &i, 0, &err);
        if (p->value == NULL)
            return err == AVOW_ERR_NOMEM
                       ? avow__fail(d, err, f, "out of memory")
                       : avow__fail(d, err, f,
                                    "value of \"%.40s\" is neither a token nor a quoted-string",
                                    p->name);
    }
    return AVOW_OK;
}

avow_err avow_media_type_parse(const char *text, size_t len, avow_media_type **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (text == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, FIELD, "no text or output");
    if (len > AVOW_MEDIA_TYPE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, FIELD, "%zu bytes, limit %u", len,
                          AVOW_MEDIA_TYPE_MAX_LEN);
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)text[k];
        if (c != '\t' && (c < 0x20 || c > 0x7e))
            return avow__fail(diag, AVOW_ERR_MEDIA_TYPE, FIELD,
                              "byte 0x%02x at offset %zu is not printable ASCII", c, k);
    }
    size_t i = 0, end = len;
    while (i < end && is_ows((unsigned char)text[i]))
        i++;
    while (end > i && is_ows((unsigned char)text[end - 1]))
        end--;
    if (i == end)
        return avow__fail(diag, AVOW_ERR_MEDIA_TYPE, FIELD, "empty media type");

    avow_media_type *mt = OPENSSL_zalloc(sizeof(*mt));
    if (mt == NULL ||
        (mt->params = OPENSSL_zalloc(AVOW_MEDIA_TYPE_MAX_PARAMS * sizeof(*mt->params))) == NULL) {
        avow_media_type_free(mt);
        return avow__fail(diag, AVOW_ERR_NOMEM, FIELD, "out of memory");
    }
    avow_err rc = AVOW_OK;
    if ((mt->type = token(text, end, &i, 1, &rc)) == NULL) {
        rc = rc == AVOW_ERR_NOMEM ? avow__fail(diag, rc, FIELD, "out of memory")
                                  : avow__fail(diag, rc, FIELD ".type", "type is not a token");
    } else if (i == end || text[i] != '/') {
        rc = avow__fail(diag, AVOW_ERR_MEDIA_TYPE, FIELD, "no '/' after the type \"%.40s\"",
                        mt->type);
    } else {
        i++;
        if ((mt->subtype = token(text, end, &i, 1, &rc)) == NULL)
            rc = rc == AVOW_ERR_NOMEM
                     ? avow__fail(diag, rc, FIELD, "out of memory")
                     : avow__fail(diag, rc, FIELD ".subtype", "subtype is not a token");
        else
            rc = parse_params(text, end, i, mt, diag);
    }
    if (rc != AVOW_OK) {
        avow_media_type_free(mt);
        return rc;
    }
    *out = mt;
    return AVOW_OK;
}

const char *avow_media_type_param(const avow_media_type *mt, const char *name)
{
    for (size_t i = 0; mt != NULL && name != NULL && i < mt->nparams; i++)
        if (strcasecmp(mt->params[i].name, name) == 0)
            return mt->params[i].value;
    return NULL;
}

int avow_media_type_is(const avow_media_type *mt, const char *type, const char *subtype)
{
    return mt != NULL && type != NULL && subtype != NULL && strcasecmp(mt->type, type) == 0 &&
           strcasecmp(mt->subtype, subtype) == 0;
}
