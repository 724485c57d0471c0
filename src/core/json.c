#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "core/json.h"

avow_err avow__json_dump(const json_t *root, size_t flags, int newline, avow_buf *out)
{
    out->ptr = NULL;
    out->len = 0;
    char *text = root != NULL ? json_dumps(root, flags) : NULL;
    if (text == NULL)
        return AVOW_ERR_NOMEM;
    size_t n = strlen(text);
    out->ptr = OPENSSL_malloc(n + 2);
    if (out->ptr != NULL) {
        memcpy(out->ptr, text, n);
        if (newline)
            out->ptr[n++] = '\n';
        out->ptr[n] = '\0';
        out->len = n;
    }
    free(text);
    return out->ptr != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

avow_err avow__json_load(const char *text, size_t len, size_t max, const char *what,
                         const char *field, json_t **out, avow_diag *diag)
{
    *out = NULL;
    if (len > max)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, field, "%s of %zu bytes, limit %zu", what, len,
                          max);
    json_error_t e;
    *out = json_loadb(text != NULL ? text : "", len, JSON_REJECT_DUPLICATES, &e);
    if (*out == NULL)
        return avow__fail(diag, AVOW_ERR_JSON, field, "line %d column %d: %s", e.line, e.column,
                          e.text);
    return AVOW_OK;
}

json_t *avow__json_text(const char *text)
{
    size_t n = strlen(text);
    json_t *j;
    while ((j = json_stringn(text, n)) == NULL && n > 0 && (unsigned char)text[n - 1] >= 0x80)
        n--;
    return j;
}

json_t *avow__json_hex(const uint8_t *p, size_t len)
{
    char *h = avow__hex(p, len);
    if (h == NULL)
        return NULL;
    json_t *j = json_string(h);
    OPENSSL_free(h);
    return j;
}

void avow__json_put(json_t *o, const char *key, json_t *value, int *bad)
{
    if (o == NULL || value == NULL || json_object_set_new(o, key, value) != 0)
        *bad = 1;
}

json_t *avow__json_errname(avow_err err)
{
    const char *n = err == AVOW_OK ? "AVOW_OK" : avow_errname(err);
    return json_string(n != NULL ? n : "?");
}
