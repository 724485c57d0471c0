#include <string.h>

#include <openssl/crypto.h>

#include "core/escape.h"
#include "core/internal.h"

/* The longest escape of one unit: a four-byte UTF-8 sequence as \xHH each. */
#define UNIT_MAX 16

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no over-long forms,
 * no surrogates, nothing above U+10FFFF), its code point in *cp; 0 if none. */
static size_t utf8_seq(const uint8_t *p, size_t left, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = *cp << 6 | (p[i] & 0x3f);
    }
    return n;
}

/*
 * Code points that act on a terminal or on how text around them reads: C1
 * controls (U+009B is CSI to many terminals), the line and paragraph
 * separators, and the bidirectional controls of "Trojan Source".
 */
static int risky(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t hex_byte(uint8_t c, char *o)
{
    static const char digits[] = "0123456789abcdef";
    o[0] = '\\';
    o[1] = 'x';
    o[2] = digits[c >> 4];
    o[3] = digits[c & 15];
    return 4;
}

/* The escape of the unit at p (one byte, or one UTF-8 sequence) into o; *used bytes read. */
static size_t unit(const uint8_t *p, size_t left, unsigned flags, char o[UNIT_MAX], size_t *used)
{
    uint8_t c = p[0];
    *used = 1;
    if (c < 0x80) {
        if (c < 0x20 || c == 0x7f)
            return hex_byte(c, o);
        if ((flags & AVOW_ESCAPE_QUOTED) && (c == '"' || c == '\\')) {
            o[0] = '\\';
            o[1] = (char)c;
            return 2;
        }
        o[0] = (char)c;
        return 1;
    }
    uint32_t cp = 0;
    size_t n = utf8_seq(p, left, &cp);
    if (n == 0)
        return hex_byte(c, o); /* not UTF-8: this byte alone, then resynchronise */
    *used = n;
    if (!risky(cp)) {
        memcpy(o, p, n);
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += hex_byte(p[i], o + k);
    return k;
}

void avow__escape_bio(BIO *b, const uint8_t *p, size_t len, unsigned flags)
{
    char o[UNIT_MAX];
    for (size_t i = 0, used = 0; p != NULL && i < len; i += used) {
        size_t k = unit(p + i, len - i, flags, o, &used);
        BIO_write(b, o, (int)k);
    }
}

size_t avow__escape_buf(const uint8_t *p, size_t len, unsigned flags, char *buf, size_t cap)
{
    char o[UNIT_MAX];
    size_t need = 0, put = 0;
    int full = 0;
    for (size_t i = 0, used = 0; p != NULL && i < len; i += used) {
        size_t k = unit(p + i, len - i, flags, o, &used);
        if (!full && put + k < cap) {
            memcpy(buf + put, o, k);
            put += k;
        } else {
            full = 1;
        }
        need += k;
    }
    if (cap > 0)
        buf[put] = '\0';
    return need;
}

size_t avow__escape_str(const char *s, unsigned flags, char *buf, size_t cap)
{
    return avow__escape_buf((const uint8_t *)s, s != NULL ? strlen(s) : 0, flags, buf, cap);
}

avow_err avow_escape_text(const uint8_t *in, size_t len, unsigned flags, avow_buf *out)
{
    if (out == NULL || (in == NULL && len > 0))
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    if (len > (SIZE_MAX - 1) / 4)
        return AVOW_ERR_TOO_LARGE;
    /* Every byte becomes at most four characters (\xHH). */
    char *s = OPENSSL_malloc(len * 4 + 1);
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    out->len = avow__escape_buf(in, len, flags, s, len * 4 + 1);
    out->ptr = (uint8_t *)s;
    return AVOW_OK;
}

avow_err avow__text_take(BIO *b, avow_buf *out)
{
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    out->ptr = NULL;
    out->len = 0;
    if (len < 0)
        return AVOW_ERR_NOMEM;
    out->ptr = OPENSSL_malloc((size_t)len + 1);
    if (out->ptr == NULL)
        return AVOW_ERR_NOMEM;
    if (len > 0)
        memcpy(out->ptr, data, (size_t)len);
    out->ptr[len] = '\0';
    out->len = (size_t)len;
    return AVOW_OK;
}
