#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <avow/times.h>
#include <avow/x509.h>

#include "cli/cli.h"
#include "cli/io.h"

avow_err cli_parse_form(const char *text, cli_form def, cli_form *out, avow_diag *d)
{
    if (text == NULL)
        *out = def;
    else if (strcasecmp(text, "PEM") == 0)
        *out = CLI_FORM_PEM;
    else if (strcasecmp(text, "DER") == 0)
        *out = CLI_FORM_DER;
    else
        return cli_fail(d, AVOW_ERR_USAGE, "form", "\"%s\" is neither PEM nor DER", text);
    return AVOW_OK;
}

avow_err cli_read(const char *path, avow_buf *out, avow_diag *d)
{
    return avow_read_file(path != NULL ? path : "-", CLI_MAX_INPUT, out, d);
}

static int looks_pem(const avow_buf *b)
{
    const char *tag = "-----BEGIN ";
    size_t n = strlen(tag);
    for (size_t i = 0; i + n <= b->len; i++) {
        if (memcmp(b->ptr + i, tag, n) == 0)
            return 1;
    }
    return 0;
}

avow_err cli_read_der(const char *path, const char *label, cli_form form, avow_buf *der,
                      avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = cli_read(path, &raw, d);
    if (err != AVOW_OK)
        return err;
    if (form == CLI_FORM_DER || (form == CLI_FORM_AUTO && !looks_pem(&raw))) {
        *der = raw;
        return AVOW_OK;
    }
    if (!looks_pem(&raw)) {
        avow_buf_free(&raw);
        return cli_fail(d, AVOW_ERR_PEM, path != NULL ? path : "stdin",
                        "-inform PEM but no \"-----BEGIN %s-----\" line", label);
    }
    err = avow_unarmor(raw.ptr, raw.len, label, CLI_MAX_INPUT, der, d);
    avow_buf_free(&raw);
    return err;
}

static avow_err decode_pkey(const avow_buf *b, int selection, EVP_PKEY **out)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selection, NULL, NULL);
    const unsigned char *p = b->ptr;
    size_t len = b->len;
    int ok = dctx != NULL && OSSL_DECODER_from_data(dctx, &p, &len) == 1 && pkey != NULL;
    OSSL_DECODER_CTX_free(dctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return AVOW_ERR_CRYPTO;
    }
    *out = pkey;
    return AVOW_OK;
}

/* Every certificate in b: a PEM bundle, or DER certificates back to back. */
static avow_err parse_certs(const avow_buf *b, STACK_OF(X509) * sk)
{
    if (looks_pem(b)) {
        BIO *bio = BIO_new_mem_buf(b->ptr, (int)b->len);
        X509 *x;
        while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_push(sk, x))
                X509_free(x);
        }
        BIO_free(bio);
    } else {
        const unsigned char *p = b->ptr, *end = b->ptr + b->len;
        while (p < end) {
            X509 *x = d2i_X509(NULL, &p, (long)(end - p));
            if (x == NULL)
                return AVOW_ERR_BAD_CERT; /* the caller owns sk and frees what was read */
            if (!sk_X509_push(sk, x))
                X509_free(x);
        }
    }
    return sk_X509_num(sk) > 0 ? AVOW_OK : AVOW_ERR_BAD_CERT;
}

avow_err cli_load_certs(const char *path, STACK_OF(X509) * *out, avow_diag *d)
{
    avow_buf b = {0};
    avow_err err = cli_read(path, &b, d);
    if (err != AVOW_OK)
        return err;
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk == NULL) {
        avow_buf_free(&b);
        return cli_fail(d, AVOW_ERR_NOMEM, path, "out of memory");
    }
    err = parse_certs(&b, sk);
    avow_buf_free(&b);
    if (err != AVOW_OK) {
        sk_X509_pop_free(sk, X509_free);
        return cli_fail_ossl(d, AVOW_ERR_BAD_CERT, path, "no certificate in PEM or DER");
    }
    ERR_clear_error();
    *out = sk;
    return AVOW_OK;
}

avow_err cli_load_cert(const char *path, X509 **out, avow_diag *d)
{
    STACK_OF(X509) *sk = NULL;
    avow_err err = cli_load_certs(path, &sk, d);
    if (err != AVOW_OK)
        return err;
    *out = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return AVOW_OK;
}

avow_err cli_load_public_key(const char *path, EVP_PKEY **out, avow_diag *d)
{
    avow_buf b = {0};
    avow_err err = cli_read(path, &b, d);
    if (err != AVOW_OK)
        return err;
    err = decode_pkey(&b, EVP_PKEY_PUBLIC_KEY, out);
    if (err != AVOW_OK) {
        STACK_OF(X509) *sk = sk_X509_new_null();
        if (sk != NULL && parse_certs(&b, sk) == AVOW_OK) {
            *out = X509_get_pubkey(sk_X509_value(sk, 0));
            err = *out != NULL ? AVOW_OK : AVOW_ERR_BAD_SPKI;
        }
        sk_X509_pop_free(sk, X509_free);
    }
    if (err != AVOW_OK)
        err = decode_pkey(&b, EVP_PKEY_KEYPAIR, out);
    avow_buf_free(&b);
    if (err != AVOW_OK)
        return cli_fail_ossl(d, AVOW_ERR_BAD_SPKI, path,
                             "no public key, certificate or private key in PEM or DER");
    ERR_clear_error();
    return AVOW_OK;
}

avow_err cli_write(const char *path, const uint8_t *der, size_t len, const char *label,
                   cli_form form, avow_diag *d)
{
    if (form == CLI_FORM_DER)
        return avow_write_file(path != NULL ? path : "-", der, len, d);
    avow_buf pem = {0};
    avow_err err = avow_armor(der, len, label, &pem);
    if (err != AVOW_OK)
        return cli_fail(d, err, "output", "cannot armour the output as PEM");
    err = avow_write_file(path != NULL ? path : "-", pem.ptr, pem.len, d);
    avow_buf_free(&pem);
    return err;
}

avow_err cli_print(const avow_buf *text, avow_diag *d)
{
    if (fwrite(text->ptr, 1, text->len, stdout) != text->len || fflush(stdout) != 0)
        return cli_fail(d, AVOW_ERR_IO, "stdout", "cannot write");
    return AVOW_OK;
}

avow_err cli_parse_time(const char *opt, const char *text, time_t *out, avow_diag *d)
{
    avow_diag why;
    avow_diag_clear(&why);
    if (avow_time_parse(text, out, &why) == AVOW_OK)
        return AVOW_OK;
    return cli_fail(d, AVOW_ERR_USAGE, opt, "%s", why.detail);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

avow_err cli_parse_hex(const char *field, const char *text, uint8_t *buf, size_t cap, size_t *len,
                       avow_diag *d)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0';) {
        if (*p == ':' && n > 0) {
            p++;
            continue;
        }
        int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap)
            return cli_fail(d, AVOW_ERR_USAGE, field, "\"%s\" is not hex of 1 to %lu bytes", text,
                            (unsigned long)cap);
        buf[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (n == 0)
        return cli_fail(d, AVOW_ERR_USAGE, field, "empty hex value");
    *len = n;
    return AVOW_OK;
}
