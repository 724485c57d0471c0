#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/internal.h"

#define BEGIN  "-----BEGIN "
#define END    "-----END "
#define DASHES "-----"

static const uint8_t *find(const uint8_t *p, const uint8_t *end, const char *s)
{
    size_t n = strlen(s);
    for (; p + n <= end; p++)
        if (memcmp(p, s, n) == 0)
            return p;
    return NULL;
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Base64 body with line breaks; rejects anything but the alphabet, '=' and white space. */
static avow_err decode_body(const uint8_t *p, const uint8_t *end, avow_buf *out, avow_diag *diag)
{
    size_t n = (size_t)(end - p);
    uint8_t *clean = OPENSSL_malloc(n + 1);
    uint8_t *der = OPENSSL_malloc(n / 4 * 3 + 3);
    avow_err rc = AVOW_ERR_NOMEM;
    if (clean == NULL || der == NULL)
        goto done;
    size_t m = 0;
    for (; p < end; p++) {
        if (is_space(*p))
            continue;
        clean[m++] = *p;
    }
    rc = avow__fail(diag, AVOW_ERR_PEM, "pem", "PEM body is empty (no base64 between the lines)");
    if (m == 0)
        goto done;
    rc = avow__fail(diag, AVOW_ERR_PEM, "pem", "base64 body is not a multiple of 4 characters");
    if (m % 4 != 0 || m > INT_MAX)
        goto done;
    /* EVP_DecodeBlock takes '=' anywhere as a zero digit: padding may only end the body. */
    size_t pad = clean[m - 1] == '=' ? (clean[m - 2] == '=' ? 2 : 1) : 0;
    rc = avow__fail(diag, AVOW_ERR_PEM, "pem", "'=' padding inside the base64 body");
    if (memchr(clean, '=', m - pad) != NULL)
        goto done;
    int got = EVP_DecodeBlock(der, clean, (int)m);
    rc = avow__fail(diag, AVOW_ERR_PEM, "pem", "bad base64 in the PEM body");
    if (got < 0)
        goto done;
    /* EVP_DecodeBlock counts padding as zero bytes; take them off. */
    size_t len = (size_t)got - pad;
    out->ptr = der;
    out->len = len;
    der = NULL;
    rc = AVOW_OK;
done:
    OPENSSL_free(clean);
    OPENSSL_free(der);
    if (rc == AVOW_OK && diag != NULL)
        avow_diag_clear(diag);
    return rc;
}

avow_err avow_unarmor(const uint8_t *in, size_t in_len, const char *label, size_t max_len,
                      avow_buf *out, avow_diag *diag)
{
    if (in == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "input", "no input");
    out->ptr = NULL;
    out->len = 0;
    if (in_len > max_len)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "input",
                          "input of %zu bytes is over the limit of %zu", in_len, max_len);
    const uint8_t *end = in + in_len;
    const uint8_t *begin = find(in, end, BEGIN);
    if (begin == NULL) {
        /* Not PEM: DER as given (the decoder judges it). */
        if (in_len == 0)
            return avow__fail(diag, AVOW_ERR_TRUNCATED, "input", "input is empty");
        out->ptr = avow__memdup(in, in_len);
        if (out->ptr == NULL)
            return AVOW_ERR_NOMEM;
        out->len = in_len;
        return AVOW_OK;
    }
    const uint8_t *lab = begin + strlen(BEGIN);
    const uint8_t *lab_end = find(lab, end, DASHES);
    if (lab_end == NULL)
        return avow__fail(diag, AVOW_ERR_PEM, "pem", "unterminated BEGIN line");
    size_t lab_len = (size_t)(lab_end - lab);
    if (label != NULL && (lab_len != strlen(label) || memcmp(lab, label, lab_len) != 0))
        return avow__fail(diag, AVOW_ERR_PEM, "pem", "PEM label '%.*s' where '%s' was expected",
                          (int)(lab_len > 64 ? 64 : lab_len), (const char *)lab, label);
    const uint8_t *body = lab_end + strlen(DASHES);
    const uint8_t *stop = find(body, end, END);
    if (stop == NULL)
        return avow__fail(diag, AVOW_ERR_PEM, "pem", "no END line");
    const uint8_t *elab = stop + strlen(END);
    if ((size_t)(end - elab) < lab_len + strlen(DASHES) || memcmp(elab, lab, lab_len) != 0 ||
        memcmp(elab + lab_len, DASHES, strlen(DASHES)) != 0)
        return avow__fail(diag, AVOW_ERR_PEM, "pem", "END label does not match BEGIN label");
    /* One object per input, as for DER: a second block would be silently ignored. */
    if (find(elab + lab_len + strlen(DASHES), end, BEGIN) != NULL)
        return avow__fail(diag, AVOW_ERR_TRAILING, "pem",
                          "a second PEM block follows the first; give one object per input");
    return decode_body(body, stop, out, diag);
}

avow_err avow_armor(const uint8_t *der, size_t der_len, const char *label, avow_buf *out)
{
    if (der == NULL || label == NULL || out == NULL || der_len > (SIZE_MAX / 2))
        return AVOW_ERR_ARG;
    size_t b64 = (der_len + 2) / 3 * 4;
    size_t lines = b64 / 64 + 1;
    size_t cap = 2 * (strlen(label) + 20) + b64 + lines + 1;
    char *s = OPENSSL_malloc(cap);
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    size_t n = (size_t)snprintf(s, cap, "-----BEGIN %s-----\n", label);
    for (size_t off = 0; off < der_len; off += 48) {
        size_t chunk = der_len - off < 48 ? der_len - off : 48;
        n += (size_t)EVP_EncodeBlock((unsigned char *)s + n, der + off, (int)chunk);
        s[n++] = '\n';
    }
    n += (size_t)snprintf(s + n, cap - n, "-----END %s-----\n", label);
    out->ptr = (uint8_t *)s;
    out->len = n;
    return AVOW_OK;
}
