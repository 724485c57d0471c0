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

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        lo = p[0] == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
        hi = p[0] == 0xed ? 0x9f : 0xbf; /* no surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        lo = p[0] == 0xf0 ? 0x90 : 0x80;
        hi = p[0] == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/*
 * Messages quote input cut to a bounded width ("%.64s"), which can split a
 * UTF-8 sequence anywhere in the text, not only at its end: each byte that
 * is not part of a well-formed sequence becomes '?', so the message still
 * reaches the JSON output instead of failing it.
 */
json_t *avow__json_text(const char *text)
{
    size_t n = strlen(text), i = 0;
    json_t *j = json_stringn(text, n);
    if (j != NULL)
        return j;
    char *clean = OPENSSL_malloc(n + 1);
    if (clean == NULL)
        return NULL;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)text + i, n - i);
        if (k == 0) {
            clean[i++] = '?';
            continue;
        }
        memcpy(clean + i, text + i, k);
        i += k;
    }
    j = json_stringn(clean, n);
    OPENSSL_free(clean);
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
