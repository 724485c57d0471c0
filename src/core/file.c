#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/internal.h"

avow_err avow_read_file(const char *path, size_t max_len, avow_buf *out, avow_diag *diag)
{
    if (path == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "path", "no file given");
    out->ptr = NULL;
    out->len = 0;
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return avow__fail(diag, AVOW_ERR_IO, path, "cannot open: %s", strerror(errno));
    size_t cap = 4096, len = 0;
    uint8_t *b = OPENSSL_malloc(cap);
    avow_err rc = AVOW_ERR_NOMEM;
    while (b != NULL) {
        if (len == cap) {
            if (cap > max_len) {
                rc = avow__fail(diag, AVOW_ERR_TOO_LARGE, path, "file is over %zu bytes", max_len);
                break;
            }
            uint8_t *nb = OPENSSL_realloc(b, cap * 2);
            if (nb == NULL)
                break;
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = avow__fail(diag, AVOW_ERR_IO, path, "read error: %s", strerror(errno));
                break;
            }
            if (len > max_len) {
                rc = avow__fail(diag, AVOW_ERR_TOO_LARGE, path, "file is over %zu bytes", max_len);
                break;
            }
            out->ptr = b;
            out->len = len;
            b = NULL;
            rc = AVOW_OK;
            break;
        }
    }
    OPENSSL_free(b);
    if (!is_stdin)
        fclose(f);
    return rc;
}

avow_err avow_write_file(const char *path, const uint8_t *data, size_t len, avow_diag *diag)
{
    if (path == NULL || (data == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "path", "nothing to write");
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return avow__fail(diag, AVOW_ERR_IO, "stdout", "write error: %s", strerror(errno));
        return AVOW_OK;
    }
    /* Write beside the target and rename: readers never see half a file. */
    size_t n = strlen(path) + 16;
    char *tmp = OPENSSL_malloc(n);
    if (tmp == NULL)
        return AVOW_ERR_NOMEM;
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        avow_err rc = avow__fail(diag, AVOW_ERR_IO, path, "cannot create: %s", strerror(errno));
        OPENSSL_free(tmp);
        return rc;
    }
    FILE *f = fdopen(fd, "wb");
    int ok = f != NULL && fwrite(data, 1, len, f) == len;
    ok = (f != NULL ? fclose(f) == 0 : (close(fd), 0)) && ok;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    avow_err rc = AVOW_OK;
    if (!ok) {
        rc = avow__fail(diag, AVOW_ERR_IO, path, "cannot write: %s", strerror(errno));
        unlink(tmp);
    }
    OPENSSL_free(tmp);
    return rc;
}
