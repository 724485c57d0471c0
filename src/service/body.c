/*
 * Base64 of EST bodies (RFC 7030 section 4, RFC 4648 section 4). Clients
 * wrap lines, so CR, LF, space and tab are skipped; anything else outside
 * the alphabet, padding before the end, or a length that is not a
 * multiple of four is refused. The arithmetic is OpenSSL's.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "service/service_int.h"

static int b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

avow_err svc_b64_decode(const uint8_t *in, size_t len, avow_buf *out, avow_diag *d)
{
    out->ptr = NULL;
    out->len = 0;
    if (len > INT32_MAX / 2)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "body", "base64 of %zu bytes", len);
    uint8_t *clean = malloc(len + 1);
    if (clean == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "body", "no memory");
    size_t n = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
        } else if (!b64_char(c) || pad > 0) {
            free(clean);
            return avow__fail(d, AVOW_ERR_BASE64, "body", "byte %zu is not base64 (0x%02x)", i, c);
        }
        clean[n++] = c;
    }
    if (n == 0 || n % 4 != 0 || pad > 2) {
        free(clean);
        return avow__fail(d, AVOW_ERR_BASE64, "body",
                          "base64 of %zu characters (want a non-empty multiple of 4, at most two "
                          "'=' at the end)",
                          n);
    }
    uint8_t *dec = OPENSSL_malloc(n / 4 * 3 + 1);
    int got = dec != NULL ? EVP_DecodeBlock(dec, clean, (int)n) : -1;
    free(clean);
    if (got < 0 || (size_t)got < pad) {
        OPENSSL_free(dec);
        return avow__fail(d, AVOW_ERR_BASE64, "body", "base64 does not decode");
    }
    out->ptr = dec;
    out->len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
    return AVOW_OK;
}

avow_err svc_b64_encode(const uint8_t *in, size_t len, avow_buf *out)
{
    out->ptr = NULL;
    out->len = 0;
    if (len > INT32_MAX / 2)
        return AVOW_ERR_TOO_LARGE;
    /* 64 characters a line, as `openssl base64` reads and writes them. */
    size_t cap = (len + 2) / 3 * 4 + (len / 48 + 2) + 1;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    uint8_t *buf = OPENSSL_malloc(cap);
    if (ctx == NULL || buf == NULL) {
        EVP_ENCODE_CTX_free(ctx);
        OPENSSL_free(buf);
        return AVOW_ERR_NOMEM;
    }
    int a = 0, b = 0;
    EVP_EncodeInit(ctx);
    if (EVP_EncodeUpdate(ctx, buf, &a, in, (int)len) != 1) {
        EVP_ENCODE_CTX_free(ctx);
        OPENSSL_free(buf);
        return AVOW_ERR_CRYPTO;
    }
    EVP_EncodeFinal(ctx, buf + a, &b);
    EVP_ENCODE_CTX_free(ctx);
    out->ptr = buf;
    out->len = (size_t)(a + b);
    buf[out->len] = '\0';
    return AVOW_OK;
}
