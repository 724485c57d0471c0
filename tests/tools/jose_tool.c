/*
 * jose_tool: the JOSE module from the shell, for tests/cli/jose_interop.sh.
 *
 *   jose_tool jwk KEY.pem                 the public JWK of a PEM key (public or private)
 *   jose_tool thumbprint KEY.pem          its RFC 7638 thumbprint
 *   jose_tool verify-ear JWT KEY          verify an EAR JWT; KEY is PEM or a JWK ("{...}")
 *
 * Public API only. Exit 0 on success, 1 when verification fails, 2 on usage.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <avow/avow.h>

static int fail(const char *what, avow_err rc, const avow_diag *d)
{
    fprintf(stderr, "%s: %s (%s)%s%s%s%s\n", what, avow_strerror(rc), avow_errname(rc),
            d->field[0] ? " at " : "", d->field, d->detail[0] ? ": " : "", d->detail);
    return 1;
}

/* A key from PEM (public, else private) or JWK text; NULL when neither. */
static EVP_PKEY *load_key(const char *path, avow_diag *d)
{
    avow_buf b = {0};
    if (avow_read_file(path, 64 * 1024, &b, d) != AVOW_OK)
        return NULL;
    EVP_PKEY *k = NULL;
    size_t i = 0;
    while (i < b.len && (b.ptr[i] == ' ' || b.ptr[i] == '\n'))
        i++;
    if (i < b.len && b.ptr[i] == '{') {
        if (avow_jwk_import((const char *)b.ptr, b.len, &k, d) != AVOW_OK)
            k = NULL;
    } else {
        BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
        k = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        if (k == NULL && bio != NULL && BIO_reset(bio) == 1)
            k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (k == NULL)
            snprintf(d->detail, sizeof(d->detail), "%s: no PEM key", path);
    }
    avow_buf_free(&b);
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "verify-ear") == 0 ? argc != 4 : argc != 3)) {
        fprintf(stderr, "usage: %s jwk|thumbprint KEY.pem | verify-ear JWT KEY\n", argv[0]);
        return 2;
    }
    avow_diag d;
    avow_diag_clear(&d);
    const char *cmd = argv[1];
    EVP_PKEY *key = load_key(argv[argc - 1], &d);
    if (key == NULL)
        return fail(argv[argc - 1], d.code != AVOW_OK ? d.code : AVOW_ERR_MALFORMED, &d);
    int status = 1;
    avow_buf out = {0}, jwt = {0}, payload = {0};
    avow_err rc;
    if (strcmp(cmd, "jwk") == 0 || strcmp(cmd, "thumbprint") == 0) {
        rc = cmd[0] == 'j' ? avow_jwk_export(key, &out, &d) : avow_jwk_thumbprint(key, &out, &d);
        if (rc != AVOW_OK) {
            status = fail(cmd, rc, &d);
        } else {
            printf("%s\n", (const char *)out.ptr);
            status = 0;
        }
    } else if (strcmp(cmd, "verify-ear") == 0) {
        rc = avow_read_file(argv[2], AVOW_JWS_MAX_SIZE, &jwt, &d);
        /* A file written by a shell may end in a newline; the token does not. */
        while (rc == AVOW_OK && jwt.len > 0 &&
               (jwt.ptr[jwt.len - 1] == '\n' || jwt.ptr[jwt.len - 1] == '\r'))
            jwt.len--;
        if (rc == AVOW_OK)
            rc = avow_ear_verify_jwt((const char *)jwt.ptr, jwt.len, key, 0, 60, &payload, &d);
        avow_ear *ear = NULL;
        if (rc == AVOW_OK)
            rc = avow_ear_from_json((const char *)payload.ptr, payload.len, &ear, &d);
        if (rc != AVOW_OK) {
            status = fail(argv[2], rc, &d);
        } else {
            printf("%s\n", avow_tier_name(ear->status));
            status = 0;
        }
        avow_ear_free(ear);
    } else {
        fprintf(stderr, "unknown command %s\n", cmd);
        status = 2;
    }
    avow_buf_free(&out);
    avow_buf_free(&jwt);
    avow_buf_free(&payload);
    EVP_PKEY_free(key);
    return status;
}
