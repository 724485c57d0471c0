/*
 * HTTP Basic authentication of enrolling clients (RFC 7617) against a
 * users file of PBKDF2-HMAC-SHA256 hashes, one per line:
 *
 *   NAME:pbkdf2-sha256:ITERATIONS:SALT_HEX:HASH_HEX
 *
 * (docs/serve.md shows how `openssl kdf` makes one). The password is
 * derived with OpenSSL's PBKDF2 and compared in constant time; an unknown
 * user costs the same derivation against a dummy entry, so the answer's
 * time does not tell which users exist.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "service/service_int.h"

#define USER_MAX       63u
#define SALT_MAX       64u
#define HASH_LEN       32u
#define ITER_MIN       1000ul
#define ITER_MAX       10000000ul
#define USERS_FILE_MAX (1024u * 1024u)

typedef struct svc_user {
    char name[USER_MAX + 1];
    unsigned long iter;
    uint8_t salt[SALT_MAX];
    size_t salt_len;
    uint8_t hash[HASH_LEN];
} svc_user;

struct svc_users {
    svc_user *u;
    size_t n;
    unsigned long dummy_iter; /* the largest iteration count of the file */
};

static avow_err unhex_into(const char *text, size_t len, uint8_t *out, size_t cap, size_t *got)
{
    if (len == 0 || len % 2 != 0 || len / 2 > cap)
        return AVOW_ERR_CONFIG;
    for (size_t i = 0; i < len; i += 2) {
        int hi = avow__hexval(text[i]), lo = avow__hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return AVOW_ERR_CONFIG;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *got = len / 2;
    return AVOW_OK;
}

/* One line "NAME:pbkdf2-sha256:ITER:SALT:HASH" (NUL-terminated, no newline). */
static avow_err parse_line(char *line, svc_user *u)
{
    char *f[5];
    size_t n = 0;
    char *p = line;
    while (n < 5) {
        f[n++] = p;
        char *c = strchr(p, ':');
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (n != 5 || strchr(f[4], ':') != NULL)
        return AVOW_ERR_CONFIG;
    size_t nl = strlen(f[0]);
    if (nl == 0 || nl > USER_MAX || strcmp(f[1], "pbkdf2-sha256") != 0)
        return AVOW_ERR_CONFIG;
    memcpy(u->name, f[0], nl + 1);
    char *end = NULL;
    u->iter = f[2][0] >= '1' && f[2][0] <= '9' ? strtoul(f[2], &end, 10) : 0;
    if (end == NULL || *end != '\0' || u->iter < ITER_MIN || u->iter > ITER_MAX)
        return AVOW_ERR_CONFIG;
    size_t hl = 0;
    if (unhex_into(f[3], strlen(f[3]), u->salt, SALT_MAX, &u->salt_len) != AVOW_OK ||
        u->salt_len < 8 || unhex_into(f[4], strlen(f[4]), u->hash, HASH_LEN, &hl) != AVOW_OK ||
        hl != HASH_LEN)
        return AVOW_ERR_CONFIG;
    return AVOW_OK;
}

avow_err svc_users_load(const char *path, svc_users **out, avow_diag *d)
{
    *out = NULL;
    avow_buf text = {0};
    avow_err err = avow_read_file(path, USERS_FILE_MAX, &text, d);
    if (err == AVOW_OK)
        err = svc_users_parse(path, (const char *)text.ptr, text.len, out, d);
    avow_buf_free(&text);
    return err;
}

avow_err svc_users_parse(const char *path, const char *s, size_t len, svc_users **out, avow_diag *d)
{
    *out = NULL;
    if (len > USERS_FILE_MAX)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "est.users", "%s is over %u bytes", path,
                          USERS_FILE_MAX);
    svc_users *us = calloc(1, sizeof(*us));
    if (us == NULL || (us->u = calloc(SVC_MAX_USERS, sizeof(svc_user))) == NULL) {
        free(us);
        return avow__fail(d, AVOW_ERR_NOMEM, "est.users", "no memory");
    }
    us->dummy_iter = ITER_MIN;
    avow_err err = AVOW_OK;
    size_t lineno = 0, pos = 0;
    while (err == AVOW_OK && pos < len) {
        size_t end = pos;
        while (end < len && s[end] != '\n')
            end++;
        lineno++;
        char line[512];
        size_t n = end - pos;
        if (n > 0 && s[pos + n - 1] == '\r')
            n--;
        if (n >= sizeof(line) || memchr(s + pos, '\0', n) != NULL)
            err = avow__fail(d, AVOW_ERR_CONFIG, "est.users", "%s line %zu is not a user entry",
                             path, lineno);
        else if (n > 0 && s[pos] != '#') {
            memcpy(line, s + pos, n);
            line[n] = '\0';
            if (us->n == SVC_MAX_USERS)
                err = avow__fail(d, AVOW_ERR_CONFIG, "est.users", "more than %u users",
                                 SVC_MAX_USERS);
            else if (parse_line(line, &us->u[us->n]) != AVOW_OK)
                err = avow__fail(d, AVOW_ERR_CONFIG, "est.users",
                                 "%s line %zu: want NAME:pbkdf2-sha256:ITERATIONS:SALT_HEX:"
                                 "HASH_HEX (iterations %lu..%lu, salt 8..64 bytes, hash 32)",
                                 path, lineno, ITER_MIN, ITER_MAX);
            else {
                if (us->u[us->n].iter > us->dummy_iter)
                    us->dummy_iter = us->u[us->n].iter;
                us->n++;
            }
        }
        pos = end + 1;
    }
    if (err != AVOW_OK) {
        svc_users_free(us);
        return err;
    }
    *out = us;
    return AVOW_OK;
}

void svc_users_free(svc_users *u)
{
    if (u == NULL)
        return;
    if (u->u != NULL)
        OPENSSL_cleanse(u->u, SVC_MAX_USERS * sizeof(svc_user));
    free(u->u);
    free(u);
}

int svc_users_check(const svc_users *u, const char *user, size_t ulen, const char *pass,
                    size_t plen)
{
    static const svc_user dummy = {.name = "", .salt = "avow-dummy-salt", .salt_len = 15};
    const svc_user *e = NULL;
    for (size_t i = 0; i < u->n; i++) {
        /* Names are not secret; the password is what is compared in constant time. */
        if (strlen(u->u[i].name) == ulen && memcmp(u->u[i].name, user, ulen) == 0)
            e = &u->u[i];
    }
    const svc_user *k = e != NULL ? e : &dummy;
    unsigned long iter = e != NULL ? e->iter : u->dummy_iter;
    uint8_t got[HASH_LEN];
    if (plen > 1024 || PKCS5_PBKDF2_HMAC(pass, (int)plen, k->salt, (int)k->salt_len, (int)iter,
                                         EVP_sha256(), HASH_LEN, got) != 1)
        return 0;
    int ok = CRYPTO_memcmp(got, k->hash, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok && e != NULL;
}

int svc_authenticate(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    if (s->cfg.auth == SVC_AUTH_NONE)
        return 1;
    if (s->cfg.auth == SVC_AUTH_TLS_CLIENT) {
        avow_diag td;
        avow_diag_clear(&td);
        if (svc_tls_client_ok(r, &td))
            return 1;
        svc_problem(out, 401, "urn:avow:problem:unauthorized", "Authentication required",
                    AVOW_ERR_AUTH, &td);
        return 0;
    }
    const char *h = svc_header(r, "Authorization");
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf dec = {0};
    int ok = 0;
    if (h != NULL && strncmp(h, "Basic ", 6) == 0 &&
        svc_b64_decode((const uint8_t *)h + 6, strlen(h + 6), &dec, &d) == AVOW_OK) {
        const char *colon = memchr(dec.ptr, ':', dec.len);
        if (colon != NULL) {
            size_t ulen = (size_t)(colon - (const char *)dec.ptr);
            ok = svc_users_check(s->users, (const char *)dec.ptr, ulen, colon + 1,
                                 dec.len - ulen - 1);
            if (ok && ulen < sizeof(r->user)) {
                memcpy(r->user, dec.ptr, ulen);
                r->user[ulen] = '\0';
            }
        }
    }
    avow_buf_free(&dec);
    if (ok)
        return 1;
    avow__fail(&d, AVOW_ERR_AUTH, "Authorization", "HTTP Basic credentials missing or wrong");
    svc_problem(out, 401, "urn:avow:problem:unauthorized", "Authentication required", AVOW_ERR_AUTH,
                &d);
    out->www_authenticate = 1;
    return 0;
}
