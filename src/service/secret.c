/*
 * Secrets named in the configuration: the CMP shared secret (pass:, env:,
 * file:) and key files (the nonce-cookie key). A file that group or others
 * may read leaks the secret, one they may write swaps it: both are refused,
 * checked on the open descriptor so a rename in between cannot slip
 * another file in (as the PKCS#11 PIN files).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "service/service_int.h"

#define SECRET_MAX 16384u

static avow_err set_text(const char *text, size_t len, const char *field, avow_buf *out,
                         avow_diag *d)
{
    if (len == 0)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "the secret is empty");
    if ((out->ptr = OPENSSL_malloc(len + 1)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, field, "no memory");
    memcpy(out->ptr, text, len);
    out->ptr[len] = '\0';
    out->len = len;
    return AVOW_OK;
}

/* At most SECRET_MAX bytes of path, refused when its mode lets others at it. */
static avow_err read_private(const char *path, const char *field, avow_buf *out, avow_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return avow__fail(d, AVOW_ERR_IO, field, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    avow_err err = AVOW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        err = avow__fail(d, AVOW_ERR_IO, field, "%s is not a regular file", path);
    else if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0)
        err = avow__fail(d, AVOW_ERR_PERMISSION, field,
                         "%s is mode %04o: group or others may read or write it; chmod 600 it",
                         path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size > (off_t)SECRET_MAX)
        err = avow__fail(d, AVOW_ERR_TOO_LARGE, field, "%s is over %u bytes", path, SECRET_MAX);
    uint8_t buf[SECRET_MAX + 1];
    size_t len = 0;
    while (err == AVOW_OK && len <= SECRET_MAX) {
        ssize_t n = read(fd, buf + len, SECRET_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = avow__fail(d, AVOW_ERR_IO, field, "cannot read %s: %s", path, strerror(errno));
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (err == AVOW_OK && len > SECRET_MAX)
        err = avow__fail(d, AVOW_ERR_TOO_LARGE, field, "%s is over %u bytes", path, SECRET_MAX);
    if (err == AVOW_OK)
        err = set_text((const char *)buf, len, field, out, d);
    OPENSSL_cleanse(buf, sizeof(buf));
    return err;
}

avow_err svc_secret_read(const char *spec, const char *field, avow_buf *out, avow_diag *d)
{
    out->ptr = NULL;
    out->len = 0;
    if (strncmp(spec, "pass:", 5) == 0)
        return set_text(spec + 5, strlen(spec + 5), field, out, d);
    if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);
        if (v == NULL)
            return avow__fail(d, AVOW_ERR_CONFIG, field, "environment variable %s is not set",
                              spec + 4);
        return set_text(v, strlen(v), field, out, d);
    }
    if (strncmp(spec, "file:", 5) != 0)
        return avow__fail(d, AVOW_ERR_CONFIG, field, "must start with pass:, env: or file:");
    avow_err err = read_private(spec + 5, field, out, d);
    /* A text file's final newline is not part of the secret. */
    while (err == AVOW_OK && out->len > 0 &&
           (out->ptr[out->len - 1] == '\n' || out->ptr[out->len - 1] == '\r'))
        out->ptr[--out->len] = '\0';
    if (err == AVOW_OK && out->len == 0) {
        OPENSSL_free(out->ptr);
        out->ptr = NULL;
        err = avow__fail(d, AVOW_ERR_CONFIG, field, "the secret in %s is empty", spec + 5);
    }
    return err;
}

avow_err svc_secret_file(const char *path, const char *field, avow_buf *out, avow_diag *d)
{
    out->ptr = NULL;
    out->len = 0;
    avow_err err = read_private(path, field, out, d);
    if (err == AVOW_OK && out->len < 32) {
        OPENSSL_clear_free(out->ptr, out->len);
        out->ptr = NULL;
        out->len = 0;
        err = avow__fail(d, AVOW_ERR_CONFIG, field,
                         "%s holds fewer than 32 bytes (make it with openssl rand -out FILE 32)",
                         path);
    }
    return err;
}
