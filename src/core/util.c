#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"

uint8_t *avow__memdup(const uint8_t *p, size_t len)
{
    if (len == 0)
        return NULL;
    uint8_t *q = OPENSSL_malloc(len);
    if (q != NULL)
        memcpy(q, p, len);
    return q;
}

char *avow__hex(const uint8_t *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = OPENSSL_malloc(len * 2 + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[len * 2] = '\0';
    return s;
}

int avow__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

avow_err avow__unhex(const char *text, avow_buf *out)
{
    size_t n = strlen(text);
    uint8_t *b = OPENSSL_malloc(n / 2 + 1);
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        if (text[i] == ':' && len > 0) {
            i++;
            continue;
        }
        int hi = avow__hexval(text[i]);
        int lo = i + 1 < n ? avow__hexval(text[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            OPENSSL_free(b);
            return AVOW_ERR_ARG;
        }
        b[len++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    out->ptr = b;
    out->len = len;
    return AVOW_OK;
}

int avow__ct_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    /* The lengths are public; only the contents must not leak through timing. */
    if (alen != blen)
        return 0;
    if (alen == 0)
        return 1;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

void avow__strlcpy(char *dst, const char *src, size_t cap)
{
    if (cap == 0)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void avow_buf_free(avow_buf *b)
{
    if (b == NULL)
        return;
    if (b->ptr != NULL)
        OPENSSL_clear_free(b->ptr, b->len);
    b->ptr = NULL;
    b->len = 0;
}
