/*
 * Redis back end of the jti replay set (OAuth PoPs, WIMSE WPTs), for
 * several avow instances that must refuse a jti any one of them has seen.
 * A key is one Redis string, PREFIX:j:HEX, written with SET NX EXAT: the
 * write and the "was it there" answer are one command, and Redis drops
 * the key when it expires, so purge has nothing to do.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include <avow/oauth.h>

#include "core/internal.h"
#include "store/redis_int.h"
#include "store/store_int.h"

#define KEY_MAX 64u

/* PREFIX:j:HEX of the key. */
static void key_name(const nredis *n, const uint8_t *key, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    int p = snprintf(out, cap, "%s:j:", n->prefix);
    size_t at = p > 0 ? (size_t)p : 0;
    for (size_t i = 0; i < len && at + 2 < cap; i++) {
        out[at++] = hex[key[i] >> 4];
        out[at++] = hex[key[i] & 15];
    }
    out[at < cap ? at : cap - 1] = '\0';
}

static avow_err rr_insert(void *impl, const uint8_t *key, size_t len, int64_t expires, int64_t now,
                          avow_diag *d)
{
    nredis *n = impl;
    char name[sizeof(n->prefix) + 4 + 2 * KEY_MAX], at[24];
    key_name(n, key, len, name, sizeof(name));
    /* An entry that would expire at once must still refuse a second use in this second. */
    snprintf(at, sizeof(at), "%lld", (long long)(expires > now ? expires : now + 1));
    const char *argv[6] = {"SET", name, "1", "NX", "EXAT", at};
    redisReply *r = NULL;
    avow_err e = avow__redis_call(n, "replay insert", 6, argv, NULL, &r, d);
    if (e == AVOW_OK && r->type == REDIS_REPLY_NIL)
        e = avow__fail(d, AVOW_ERR_OAUTH_REPLAY, "replay-store", "key already recorded");
    else if (e == AVOW_OK && r->type != REDIS_REPLY_STATUS)
        e = avow__redis_fail(d, AVOW_ERR_STORE, (unsigned long)r->type,
                             "replay insert: unexpected reply");
    freeReplyObject(r);
    return e;
}

static avow_err rr_seen(void *impl, const uint8_t *key, size_t len, int64_t now, avow_diag *d)
{
    (void)now; /* Redis has dropped what expired */
    nredis *n = impl;
    char name[sizeof(n->prefix) + 4 + 2 * KEY_MAX];
    key_name(n, key, len, name, sizeof(name));
    const char *argv[2] = {"EXISTS", name};
    redisReply *r = NULL;
    avow_err e = avow__redis_call(n, "replay lookup", 2, argv, NULL, &r, d);
    if (e == AVOW_OK && r->type != REDIS_REPLY_INTEGER)
        e = avow__redis_fail(d, AVOW_ERR_STORE, (unsigned long)r->type,
                             "replay lookup: unexpected reply");
    else if (e == AVOW_OK && r->integer > 0)
        e = avow__fail(d, AVOW_ERR_OAUTH_REPLAY, "replay-store", "key already recorded");
    freeReplyObject(r);
    return e;
}

static avow_err rr_purge(void *impl, int64_t before, size_t *removed, avow_diag *d)
{
    (void)impl;
    (void)before;
    (void)d;
    if (removed != NULL)
        *removed = 0;
    return AVOW_OK;
}

static void rr_free(void *impl)
{
    nredis *n = impl;
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nidle; i++)
        redisFree(n->idle[i]);
    CRYPTO_THREAD_lock_free(n->lock);
    OPENSSL_cleanse(n->pass, sizeof(n->pass));
    OPENSSL_free(n);
}

static const avow_oauth_replay_ops REDIS_OPS = {
    .size = sizeof(avow_oauth_replay_ops),
    .name = "redis",
    .insert = rr_insert,
    .seen = rr_seen,
    .purge = rr_purge,
    .free = rr_free,
};

avow_err avow__oauth_replay_redis_open(const char *uri, avow_oauth_replay **out, avow_diag *diag)
{
    nredis *n = OPENSSL_zalloc(sizeof(*n));
    if (n == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "replay-store", "out of memory");
    n->conn_tv.tv_sec = DEFAULT_TIMEOUT_MS / 1000;
    n->cmd_tv.tv_sec = DEFAULT_TIMEOUT_MS / 1000;
    avow__strlcpy(n->prefix, "avow", sizeof(n->prefix));
    n->pid = getpid();
    avow_err e = avow__redis_parse_uri(n, uri, diag);
    if (e == AVOW_OK && n->stream)
        e = avow__fail(diag, AVOW_ERR_ARG, "replay-store", "ledger=stream is a nonce store's");
    if (e == AVOW_OK && (n->lock = CRYPTO_THREAD_lock_new()) == NULL)
        e = avow__fail(diag, AVOW_ERR_NOMEM, "replay-store", "out of memory");
    if (e == AVOW_OK) {
        const char *ping[1] = {"PING"};
        redisReply *r = NULL;
        e = avow__redis_call(n, "reach", 1, ping, NULL, &r, diag);
        freeReplyObject(r);
    }
    if (e != AVOW_OK) {
        rr_free(n);
        return e;
    }
    return avow_oauth_replay_new(&REDIS_OPS, n, out, diag);
}
