#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "core/internal.h"

const char *avow_strerror(avow_err err)
{
    switch (err) {
#define AVOW_ERR_MSG_(name, num, msg)                                                              \
    case name:                                                                                     \
        return msg;
        AVOW_ERRORS(AVOW_ERR_MSG_)
#undef AVOW_ERR_MSG_
    }
    return "unknown error";
}

const char *avow_errname(avow_err err)
{
    switch (err) {
#define AVOW_ERR_NAME_(name, num, msg)                                                             \
    case name:                                                                                     \
        return #name;
        AVOW_ERRORS(AVOW_ERR_NAME_)
#undef AVOW_ERR_NAME_
    }
    return NULL;
}

void avow_diag_clear(avow_diag *d)
{
    if (d != NULL)
        memset(d, 0, sizeof(*d));
}

AVOW_PRINTF(4, 0)
static void diag_vset(avow_diag *d, avow_err code, const char *field, const char *fmt, va_list ap)
{
    d->code = code;
    d->source = AVOW_BACKEND_NONE;
    d->backend = 0;
    avow__strlcpy(d->field, field != NULL ? field : "", sizeof(d->field));
    if (fmt != NULL)
        vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
    else
        d->detail[0] = '\0';
}

avow_err avow__fail(avow_diag *d, avow_err code, const char *field, const char *fmt, ...)
{
    if (d == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    diag_vset(d, code, field, fmt, ap);
    va_end(ap);
    return code;
}

avow_err avow__fail_ossl(avow_diag *d, avow_err code, const char *field, const char *fmt, ...)
{
    if (d == NULL) {
        ERR_clear_error();
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_vset(d, code, field, fmt, ap);
    va_end(ap);

    /* The first error is the cause; later ones (OpenSSL's nested ASN.1 errors) carry
     * "Field=..., Type=..." data that locates it. Keep the cause and every location. */
    size_t used = strlen(d->detail);
    const char *data = NULL;
    int flags = 0;
    unsigned long e;
    int first = 1;
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *txt = (data != NULL && (flags & ERR_TXT_STRING) && *data) ? data : NULL;
        if (first) {
            const char *reason = ERR_reason_error_string(e);
            avow__set_backend(d, AVOW_BACKEND_OPENSSL, e);
            int n = snprintf(d->detail + used, sizeof(d->detail) - used, "%s(%s%s%s)",
                             used ? " " : "", reason != NULL ? reason : "openssl error",
                             txt ? ": " : "", txt ? txt : "");
            first = 0;
            used = n < 0 ? used : used + (size_t)n;
        } else if (txt != NULL && used < sizeof(d->detail)) {
            int n = snprintf(d->detail + used, sizeof(d->detail) - used, " [%s]", txt);
            used = n < 0 ? used : used + (size_t)n;
        }
        if (used >= sizeof(d->detail))
            used = sizeof(d->detail) - 1;
    }
    ERR_clear_error();
    return code;
}

void avow__set_backend(avow_diag *d, avow_backend source, uint64_t code)
{
    if (d == NULL)
        return;
    d->source = source;
    d->backend = code;
}

const char *avow_backend_name(avow_backend b)
{
    switch (b) {
    case AVOW_BACKEND_OPENSSL:
        return "openssl";
    case AVOW_BACKEND_PKCS11:
        return "pkcs11";
    case AVOW_BACKEND_SQLITE:
        return "sqlite";
    case AVOW_BACKEND_TPM:
        return "tpm";
    case AVOW_BACKEND_REDIS:
        return "redis";
    case AVOW_BACKEND_OS:
        return "os";
    case AVOW_BACKEND_NONE:
        break;
    }
    return NULL;
}

void avow__ossl_clear(void)
{
    ERR_clear_error();
}
