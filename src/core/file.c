#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A file's data, or a rename, is durable only once its directory is synced too. */
static int sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (slash == NULL)
        dir = OPENSSL_strdup(".");
    else if (slash == path)
        dir = OPENSSL_strdup("/");
    else if ((dir = OPENSSL_malloc((size_t)(slash - path) + 1)) != NULL) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    if (dir == NULL)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    OPENSSL_free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

avow_err avow__write_file_mode(const char *path, const uint8_t *data, size_t len, unsigned mode,
                               avow_diag *diag)
{
    if (path == NULL || (data == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "path", "nothing to write");
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return avow__fail(diag, AVOW_ERR_IO, "stdout", "write error: %s", strerror(errno));
        return AVOW_OK;
    }
    /*
     * Write beside the target, sync, rename, sync the directory: readers
     * never see half a file, and after a crash the target is either the old
     * file or the whole new one. A crash before the rename can leave the
     * temporary (path.XXXXXX) behind; the CA directory sweeps its own.
     */
    size_t n = strlen(path) + 16;
    char *tmp = OPENSSL_malloc(n);
    if (tmp == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, path, "out of memory");
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        avow_err rc = avow__fail(diag, AVOW_ERR_IO, path, "cannot create: %s", strerror(errno));
        OPENSSL_free(tmp);
        return rc;
    }
    const char *what = "write";
    int ok = 1;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (ok && fchmod(fd, (mode_t)mode) != 0)
        ok = 0, what = "chmod";
    if (ok && fsync(fd) != 0)
        ok = 0, what = "fsync";
    int err = errno;
    if (close(fd) != 0 && ok)
        ok = 0, what = "close", err = errno;
    if (ok && rename(tmp, path) != 0)
        ok = 0, what = "rename", err = errno;
    if (ok && sync_dir_of(path) != 0)
        ok = 0, what = "fsync of the directory", err = errno;
    avow_err rc = AVOW_OK;
    if (!ok) {
        rc = avow__fail(diag, AVOW_ERR_IO, path, "cannot write (%s): %s", what, strerror(err));
        unlink(tmp);
    }
    OPENSSL_free(tmp);
    return rc;
}

avow_err avow_write_file(const char *path, const uint8_t *data, size_t len, avow_diag *diag)
{
    return avow__write_file_mode(path, data, len, 0600, diag);
}
