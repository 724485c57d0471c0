/*
 * The nonce store front end: argument checks, random nonces, time, the
 * outstanding-nonce bound and the ledger's argument checks; the back end
 * (nonce_sqlite.c, nonce_redis.c) only stores, flips the flag and appends.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

#include "core/internal.h"
#include "store/store_int.h"

struct avow_nonce_store {
    const avow_nonce_store_ops *ops;
    void *impl;
    size_t limit; /* outstanding nonces allowed; 0 = no bound */
};

static avow_err avow_nonce_store_new_(const avow_nonce_store_ops *ops, void *impl,
                                      avow_nonce_store **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = NULL;
    if (ops == NULL || ops->size != sizeof(*ops) || ops->insert == NULL || ops->consume == NULL ||
        ops->purge == NULL)
        return AVOW_ERR_ARG;
    avow_nonce_store *s = OPENSSL_zalloc(sizeof(*s));
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    s->ops = ops;
    s->impl = impl;
    *out = s;
    return AVOW_OK;
}

avow_err avow_nonce_store_new(const avow_nonce_store_ops *ops, void *impl, avow_nonce_store **out,
                              avow_diag *diag)
{
    avow_err rc = avow_nonce_store_new_(ops, impl, out);
    if (rc == AVOW_OK)
        return AVOW_OK;
    return avow__fail(diag, rc, "ops", "%s",
                      rc == AVOW_ERR_ARG
                          ? "no output, or an ops table without its size, insert, consume or purge"
                          : avow_strerror(rc));
}

void avow_nonce_store_free(avow_nonce_store *s)
{
    if (s == NULL)
        return;
    if (s->ops->free != NULL)
        s->ops->free(s->impl);
    OPENSSL_free(s);
}

void avow_nonce_store_set_limit(avow_nonce_store *s, size_t max)
{
    if (s != NULL)
        s->limit = max;
}

void avow__nonce_store_backend(const avow_nonce_store *s, const avow_nonce_store_ops **ops,
                               void **impl)
{
    *ops = s->ops;
    *impl = s->impl;
}

const char *avow_nonce_store_name(const avow_nonce_store *s)
{
    return s != NULL && s->ops->name != NULL ? s->ops->name : "unknown";
}

static time_t now_or(time_t now)
{
    return now != 0 ? now : time(NULL);
}

avow_err avow_nonce_issue(avow_nonce_store *s, size_t len, unsigned ttl, time_t now, avow_buf *out,
                          avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (s == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store or output");
    if (len == 0)
        len = AVOW_NONCE_DEFAULT_LEN;
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce.len", "nonce length %zu is outside %u..%u",
                          len, AVOW_NONCE_MIN_LEN, AVOW_NONCE_MAX_LEN);
    if (ttl == 0)
        ttl = AVOW_NONCE_DEFAULT_TTL;
    now = now_or(now);
    uint8_t *b = OPENSSL_malloc(len);
    if (b == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce", "out of memory");
    avow_err rc = AVOW_ERR_INTERNAL;
    /* A 128-bit or longer random value does not collide; retry once anyway. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (RAND_bytes(b, (int)len) != 1) {
            rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "nonce", "RAND_bytes failed");
            break;
        }
        if (s->limit == 0)
            rc = s->ops->insert(s->impl, b, len, now, now + (time_t)ttl, diag);
        else if (s->ops->insert_bounded != NULL)
            rc = s->ops->insert_bounded(s->impl, b, len, now, now + (time_t)ttl, s->limit, diag);
        else
            rc = avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                            "the %s back end cannot bound outstanding nonces", s->ops->name);
        if (rc != AVOW_ERR_DUP_KEY)
            break;
    }
    if (rc != AVOW_OK) {
        OPENSSL_free(b);
        return rc;
    }
    out->ptr = b;
    out->len = len;
    return AVOW_OK;
}

avow_err avow_nonce_consume(avow_nonce_store *s, const uint8_t *nonce, size_t len, time_t now,
                            avow_diag *diag)
{
    if (s == NULL || (nonce == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store or nonce");
    /* A length no issued nonce can have is simply not one of ours. */
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                          "a %zu-byte nonce was not issued by this verifier", len);
    return s->ops->consume(s->impl, nonce, len, now_or(now), diag);
}

avow_err avow_nonce_check(avow_nonce_store *s, const uint8_t *nonce, size_t len, time_t now,
                          avow_diag *diag)
{
    if (s == NULL || (nonce == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store or nonce");
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                          "a %zu-byte nonce was not issued by this verifier", len);
    if (s->ops->check == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "the %s back end cannot check a nonce without using it", s->ops->name);
    return s->ops->check(s->impl, nonce, len, now_or(now), diag);
}

static int is_hex_serial(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n % 2 != 0 || n > 2 * AVOW_LEDGER_MAX_SERIAL)
        return 0;
    for (; *p != '\0'; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    }
    return 1;
}

avow_err avow_nonce_consume_record(avow_nonce_store *s, const uint8_t *nonce, size_t len,
                                   time_t now, const avow_issuance *rec, avow_diag *diag)
{
    if (s == NULL || rec == NULL || (nonce == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store, nonce or record");
    if (!is_hex_serial(rec->serial) || rec->subject == NULL || rec->ear_json == NULL ||
        rec->cert_der == NULL || rec->cert_der_len == 0 || rec->nonce_len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_ARG, "ledger",
                          "a record needs a lowercase hex serial, subject, EAR and certificate");
    if (len < AVOW_NONCE_MIN_LEN || len > AVOW_NONCE_MAX_LEN)
        return avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                          "a %zu-byte nonce was not issued by this verifier", len);
    if (s->ops->consume_record == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "the %s back end keeps no issuance ledger", s->ops->name);
    return s->ops->consume_record(s->impl, nonce, len, now_or(now), rec, diag);
}

avow_err avow_ledger_foreach(avow_nonce_store *s, avow_issuance_cb cb, void *ctx, avow_diag *diag)
{
    if (s == NULL || cb == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ledger", "no store or callback");
    if (s->ops->ledger_query == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "the %s back end keeps no issuance ledger", s->ops->name);
    return s->ops->ledger_query(s->impl, NULL, cb, ctx, diag);
}

typedef struct copy_ctx {
    avow_issuance *out;
    int nomem;
} copy_ctx;

/* One allocation: the struct, then the subject, the EAR and the certificate. */
static int copy_row(void *ctx, const avow_issuance *row)
{
    copy_ctx *c = ctx;
    size_t ns = strlen(row->subject) + 1, ne = strlen(row->ear_json) + 1;
    avow_issuance *o = OPENSSL_zalloc(sizeof(*o) + ns + ne + row->cert_der_len);
    if (o == NULL) {
        c->nomem = 1;
        return 1;
    }
    *o = *row;
    char *p = (char *)(o + 1);
    memcpy(p, row->subject, ns);
    o->subject = p;
    memcpy(p + ns, row->ear_json, ne);
    o->ear_json = p + ns;
    memcpy(p + ns + ne, row->cert_der, row->cert_der_len);
    o->cert_der = (const uint8_t *)(p + ns + ne);
    c->out = o;
    return 1;
}

avow_err avow_ledger_find_serial(avow_nonce_store *s, const char *serial, avow_issuance **out,
                                 avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || serial == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "serial", "no store, serial or output");
    char hex[2 * AVOW_LEDGER_MAX_SERIAL + 1];
    size_t n = 0;
    for (const char *p = serial; *p != '\0'; p++) {
        char ch = *p;
        if (ch == ':')
            continue;
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        if (n + 1 >= sizeof(hex))
            return avow__fail(diag, AVOW_ERR_ARG, "serial", "a serial has at most %u bytes",
                              AVOW_LEDGER_MAX_SERIAL);
        hex[n++] = ch;
    }
    hex[n] = '\0';
    if (!is_hex_serial(hex))
        return avow__fail(diag, AVOW_ERR_ARG, "serial", "\"%.64s\" is not a hex serial number",
                          serial);
    if (s->ops->ledger_query == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "the %s back end keeps no issuance ledger", s->ops->name);
    copy_ctx c = {NULL, 0};
    avow_err rc = s->ops->ledger_query(s->impl, hex, copy_row, &c, diag);
    if (rc == AVOW_OK && c.nomem)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "ledger", "out of memory");
    if (rc == AVOW_OK && c.out == NULL)
        rc = avow__fail(diag, AVOW_ERR_NOT_FOUND, "serial", "no certificate %s in the ledger", hex);
    if (rc != AVOW_OK) {
        OPENSSL_free(c.out);
        return rc;
    }
    *out = c.out;
    return AVOW_OK;
}

void avow_issuance_free(avow_issuance *row)
{
    OPENSSL_free(row);
}

avow_err avow_nonce_purge(avow_nonce_store *s, time_t now, unsigned grace, size_t *removed,
                          avow_diag *diag)
{
    if (removed != NULL)
        *removed = 0;
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no store");
    return s->ops->purge(s->impl, now_or(now) - (time_t)grace, removed, diag);
}
