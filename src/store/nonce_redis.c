/*
 * Redis back end of the nonce store (hiredis), for several avow instances
 * sharing one set of nonces. Every decision is one Lua script, which Redis
 * runs with nothing else in between: the state read, the comparison and
 * the write of a consume cannot interleave with another consumer's, on any
 * connection of any host. docs/store.md gives the argument and the keys:
 *
 *   PREFIX:n:HEX    "U:EXPIRES" (U 0 unused, 1 used), TTL expiry + grace
 *   PREFIX:out      sorted set of unused nonces by expiry (the bound)
 *   PREFIX:ledger   stream of issuances (ledger=stream)
 *   PREFIX:serials  hash serial -> stream id (ledger=stream)
 *
 * Connections, errors and the URI are in redis_conn.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

#include "core/internal.h"
#include "store/redis_int.h"
#include "store/store_int.h"

#define LEDGER_PAGE 128

/* The state of a nonce as one script sees it; the caller's clock is ARGV[1]. */
#define LUA_STATE                                                                                  \
    "local v = redis.call('GET', KEYS[1])\n"                                                       \
    "if not v then return {0, 0} end\n"                                                            \
    "local used, exp = string.match(v, '^([01]):(%-?%d+)$')\n"                                     \
    "if not used then return redis.error_reply('ERR avow: malformed nonce record') end\n"          \
    "if used == '1' then return {1, 0} end\n"                                                      \
    "if tonumber(exp) < tonumber(ARGV[1]) then return {2, tonumber(exp)} end\n"

/* KEYS nonce, out; ARGV now, mode (0 check, 1 consume), member. */
static const char LUA_CONSUME[] = LUA_STATE "if ARGV[2] == '1' then\n"
                                            "  redis.call('SET', KEYS[1], '1:' .. exp, 'KEEPTTL')\n"
                                            "  redis.call('ZREM', KEYS[2], ARGV[3])\n"
                                            "end\n"
                                            "return {3, 0}\n";

/* KEYS nonce, out, stream, serials; ARGV now, member, serial, the row's fields. */
static const char LUA_RECORD[] =
    LUA_STATE "if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then return {4, 0} end\n"
              "redis.call('SET', KEYS[1], '1:' .. exp, 'KEEPTTL')\n"
              "redis.call('ZREM', KEYS[2], ARGV[2])\n"
              "local id = redis.call('XADD', KEYS[3], '*', 'serial', ARGV[3], 'subject', ARGV[4],\n"
              "  'spki_sha256', ARGV[5], 'request_sha256', ARGV[6], 'nonce', ARGV[7],\n"
              "  'issued', ARGV[8], 'not_after', ARGV[9], 'ear', ARGV[10], 'cert', ARGV[11])\n"
              "redis.call('HSET', KEYS[4], ARGV[3], id)\n"
              "return {3, 0}\n";

/*
 * KEYS nonce, out; ARGV member, expires, ttl ms, max (0 = none), issued.
 * Unused nonces that expired before `issued` leave the sorted set first,
 * so its size is the outstanding count SQLite's COUNT(*) gives.
 */
static const char LUA_INSERT[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])\n"
    "local max = tonumber(ARGV[4])\n"
    "if max > 0 and redis.call('ZCARD', KEYS[2]) >= max then return -1 end\n"
    "if not redis.call('SET', KEYS[1], '0:' .. ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "return 1\n";

static const char *const SCRIPT_TEXT[SCRIPTS] = {LUA_CONSUME, LUA_RECORD, LUA_INSERT};

static avow_err script(nredis *n, int which, const char *what, int argc, const char **argv,
                       size_t *lens, redisReply **out, avow_diag *diag)
{
    argv[0] = "EVALSHA";
    argv[1] = n->sha[which];
    lens[0] = 7;
    lens[1] = 40;
    avow_diag tmp;
    avow_diag_clear(&tmp);
    avow_err e = avow__redis_call(n, what, argc, argv, lens, out, &tmp);
    if (e == AVOW_ERR_STORE && strstr(tmp.detail, ": NOSCRIPT") != NULL) {
        argv[0] = "EVAL";
        argv[1] = SCRIPT_TEXT[which];
        lens[0] = 4;
        lens[1] = strlen(SCRIPT_TEXT[which]);
        return avow__redis_call(n, what, argc, argv, lens, out, diag);
    }
    if (e != AVOW_OK && diag != NULL)
        *diag = tmp;
    return e;
}

/* --- keys --- */

static void hexof(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

typedef struct keys {
    char hex[2 * AVOW_NONCE_MAX_LEN + 1];
    char nonce[65 + 3 + 2 * AVOW_NONCE_MAX_LEN + 1];
    char out[65 + 4];
    char stream[65 + 7];
    char serials[65 + 8];
} keys;

static void make_keys(const nredis *n, const uint8_t *nonce, size_t len, keys *k)
{
    hexof(nonce, len, k->hex);
    snprintf(k->nonce, sizeof(k->nonce), "%s:n:%s", n->prefix, k->hex);
    snprintf(k->out, sizeof(k->out), "%s:out", n->prefix);
    snprintf(k->stream, sizeof(k->stream), "%s:ledger", n->prefix);
    snprintf(k->serials, sizeof(k->serials), "%s:serials", n->prefix);
}

/* --- nonces --- */

static avow_err do_insert(nredis *n, const uint8_t *nonce, size_t len, time_t issued,
                          time_t expires, size_t max, avow_diag *diag)
{
    keys k;
    make_keys(n, nonce, len, &k);
    /* The key lives until expiry plus grace by the caller's clock: a replay
     * then reads REPLAY, a late one EXPIRED, and only then UNKNOWN. */
    long long life = (long long)expires - (long long)issued;
    if (life < 0)
        life = 0;
    long long ttl_ms = (life + (long long)n->grace) * 1000;
    if (ttl_ms < 1000)
        ttl_ms = 1000;
    char exp[24], ttl[24], mx[24], iss[24];
    snprintf(exp, sizeof(exp), "%lld", (long long)expires);
    snprintf(ttl, sizeof(ttl), "%lld", ttl_ms);
    snprintf(mx, sizeof(mx), "%zu", max);
    snprintf(iss, sizeof(iss), "%lld", (long long)issued);
    const char *argv[10] = {NULL, NULL, "2", k.nonce, k.out, k.hex, exp, ttl, mx, iss};
    size_t lens[10];
    for (size_t i = 2; i < 10; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = NULL;
    avow_err e = script(n, SCRIPT_INSERT, "insert a nonce into", 10, argv, lens, &r, diag);
    if (e != AVOW_OK)
        return e;
    if (r->type != REDIS_REPLY_INTEGER)
        e = avow__redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected reply to insert");
    else if (r->integer == 0)
        e = avow__fail(diag, AVOW_ERR_DUP_KEY, "nonce", "nonce exists already");
    else if (r->integer < 0)
        e = avow__fail(diag, AVOW_ERR_NONCE_LIMIT, "nonce",
                       "%zu nonces are outstanding, the most this store allows; "
                       "use or let some expire first",
                       max);
    freeReplyObject(r);
    return e;
}

static avow_err r_insert(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                         time_t expires, avow_diag *diag)
{
    return do_insert(impl, nonce, len, issued, expires, 0, diag);
}

static avow_err r_insert_bounded(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                                 time_t expires, size_t max, avow_diag *diag)
{
    return do_insert(impl, nonce, len, issued, expires, max, diag);
}

/* The {code, expiry} answer of LUA_STATE and what follows it. */
static avow_err answer(const redisReply *r, time_t now, avow_diag *diag)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)
        return avow__redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected script reply");
    switch (r->element[0]->integer) {
    case 0:
        return avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                          "nonce was not issued by this verifier (or was purged)");
    case 1:
        return avow__fail(diag, AVOW_ERR_NONCE_REPLAY, "nonce", "nonce was already used");
    case 2:
        return avow__fail(diag, AVOW_ERR_NONCE_EXPIRED, "nonce", "nonce expired %lld s ago",
                          (long long)now - r->element[1]->integer);
    case 3:
        return AVOW_OK;
    case 4:
        return avow__fail(diag, AVOW_ERR_DUP_KEY, "serial", "serial is in the ledger already");
    default:
        return avow__redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR,
                                "unexpected script answer");
    }
}

static avow_err consume_or_check(nredis *n, const uint8_t *nonce, size_t len, time_t now,
                                 int consume, avow_diag *diag)
{
    keys k;
    make_keys(n, nonce, len, &k);
    char t[24];
    snprintf(t, sizeof(t), "%lld", (long long)now);
    const char *argv[8] = {NULL, NULL, "2", k.nonce, k.out, t, consume ? "1" : "0", k.hex};
    size_t lens[8];
    for (size_t i = 2; i < 8; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = NULL;
    avow_err e = script(n, SCRIPT_CONSUME, consume ? "consume a nonce in" : "look a nonce up in", 8,
                        argv, lens, &r, diag);
    if (e != AVOW_OK)
        return e;
    e = answer(r, now, diag);
    freeReplyObject(r);
    return e;
}

static avow_err r_consume(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    return consume_or_check(impl, nonce, len, now, 1, diag);
}

static avow_err r_check(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    return consume_or_check(impl, nonce, len, now, 0, diag);
}

/* Redis expires keys itself (expiry + grace); there is nothing to delete. */
static avow_err r_purge(void *impl, time_t before, size_t *removed, avow_diag *diag)
{
    (void)impl;
    (void)before;
    (void)diag;
    if (removed != NULL)
        *removed = 0;
    return AVOW_OK;
}

/* --- the ledger --- */

typedef struct consume_ctx {
    nredis *n;
    const uint8_t *nonce;
    size_t len;
    time_t now;
} consume_ctx;

static avow_err consume_cb(void *ctx, avow_diag *diag)
{
    consume_ctx *c = ctx;
    return consume_or_check(c->n, c->nonce, c->len, c->now, 1, diag);
}

static avow_err record_stream(nredis *n, const uint8_t *nonce, size_t len, time_t now,
                              const avow_issuance *rec, avow_diag *diag)
{
    keys k;
    make_keys(n, nonce, len, &k);
    char t[24], iss[24], na[24];
    snprintf(t, sizeof(t), "%lld", (long long)now);
    snprintf(iss, sizeof(iss), "%lld", (long long)rec->issued);
    snprintf(na, sizeof(na), "%lld", (long long)rec->not_after);
    const char *argv[18] = {NULL,
                            NULL,
                            "4",
                            k.nonce,
                            k.out,
                            k.stream,
                            k.serials,
                            t,
                            k.hex,
                            rec->serial,
                            rec->subject,
                            (const char *)rec->spki_sha256,
                            (const char *)rec->request_sha256,
                            (const char *)rec->nonce,
                            iss,
                            na,
                            rec->ear_json,
                            (const char *)rec->cert_der};
    size_t lens[18];
    for (size_t i = 2; i < 18; i++)
        lens[i] = i == 11 || i == 12 || i == 13 || i == 17 ? 0 : strlen(argv[i]);
    lens[11] = sizeof(rec->spki_sha256);
    lens[12] = sizeof(rec->request_sha256);
    lens[13] = rec->nonce_len;
    lens[17] = rec->cert_der_len;
    redisReply *r = NULL;
    avow_err e = script(n, SCRIPT_RECORD, "record an issuance in", 18, argv, lens, &r, diag);
    if (e != AVOW_OK)
        return e;
    e = answer(r, now, diag);
    freeReplyObject(r);
    return e;
}

/*
 * With a SQLite ledger the nonce is consumed inside the ledger's
 * transaction, after its row is written and before the commit: a
 * certificate leaves only after both, and a crash in between leaves a
 * used nonce with no row and no certificate (the client asks for another
 * nonce). docs/store.md.
 */
static avow_err r_consume_record(void *impl, const uint8_t *nonce, size_t len, time_t now,
                                 const avow_issuance *rec, avow_diag *diag)
{
    nredis *n = impl;
    if (n->stream)
        return record_stream(n, nonce, len, now, rec, diag);
    if (n->ledger == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "this redis store keeps no issuance ledger (give one, or ledger=stream)");
    consume_ctx c = {n, nonce, len, now};
    return avow__sqlite_record_with(n->ledger, rec, consume_cb, &c, diag);
}

static const redisReply *field(const redisReply *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        const redisReply *f = kv->element[i];
        if (f->type == REDIS_REPLY_STRING && strcmp(f->str, name) == 0)
            return kv->element[i + 1]->type == REDIS_REPLY_STRING ? kv->element[i + 1] : NULL;
    }
    return NULL;
}

static int int_of(const redisReply *r, time_t *out)
{
    if (r == NULL || r->len == 0 || r->len > 20)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(r->str, &end, 10);
    if (errno != 0 || end != r->str + r->len)
        return 0;
    *out = (time_t)v;
    return 1;
}

/* One stream entry as a row; 0 when it is not one avow wrote. */
static int entry_row(const redisReply *entry, avow_issuance *row)
{
    memset(row, 0, sizeof(*row));
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *kv = entry->element[1];
    const redisReply *sn = field(kv, "serial"), *subj = field(kv, "subject"),
                     *spki = field(kv, "spki_sha256"), *req = field(kv, "request_sha256"),
                     *nonce = field(kv, "nonce"), *ear = field(kv, "ear"),
                     *cert = field(kv, "cert");
    if (sn == NULL || sn->len >= sizeof(row->serial) || subj == NULL || spki == NULL ||
        spki->len != sizeof(row->spki_sha256) || req == NULL ||
        req->len != sizeof(row->request_sha256) || nonce == NULL ||
        nonce->len > sizeof(row->nonce) || ear == NULL || cert == NULL || cert->len == 0 ||
        !int_of(field(kv, "issued"), &row->issued) ||
        !int_of(field(kv, "not_after"), &row->not_after))
        return 0;
    memcpy(row->serial, sn->str, sn->len);
    row->subject = subj->str; /* hiredis ends every string with a NUL */
    memcpy(row->spki_sha256, spki->str, spki->len);
    memcpy(row->request_sha256, req->str, req->len);
    memcpy(row->nonce, nonce->str, nonce->len);
    row->nonce_len = nonce->len;
    row->ear_json = ear->str;
    row->cert_der = (const uint8_t *)cert->str;
    row->cert_der_len = cert->len;
    return 1;
}

/* Calls cb on each entry of a reply to XRANGE; *last gets the last id. */
static avow_err entries(const redisReply *r, avow_issuance_cb cb, void *ctx, char *last, size_t cap,
                        int *stop, avow_diag *diag)
{
    if (r->type != REDIS_REPLY_ARRAY)
        return avow__redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR,
                                "unexpected reply to XRANGE");
    for (size_t i = 0; i < r->elements && !*stop; i++) {
        avow_issuance row;
        const redisReply *id = r->element[i]->type == REDIS_REPLY_ARRAY &&
                                       r->element[i]->elements == 2 &&
                                       r->element[i]->element[0]->type == REDIS_REPLY_STRING
                                   ? r->element[i]->element[0]
                                   : NULL;
        if (id == NULL || id->len >= cap || !entry_row(r->element[i], &row))
            return avow__redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR,
                                    "ledger entry %zu of a page is not an avow issuance", i);
        memcpy(last, id->str, id->len + 1);
        if (cb(ctx, &row) != 0)
            *stop = 1;
    }
    return AVOW_OK;
}

static avow_err stream_query(nredis *n, const char *serial, avow_issuance_cb cb, void *ctx,
                             avow_diag *diag)
{
    keys k;
    make_keys(n, (const uint8_t *)"", 0, &k);
    redisReply *r = NULL;
    avow_err e;
    int stop = 0;
    char last[64];
    if (serial != NULL) {
        const char *hget[3] = {"HGET", k.serials, serial};
        e = avow__redis_call(n, "look a serial up in", 3, hget, NULL, &r, diag);
        if (e != AVOW_OK)
            return e;
        if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(last)) {
            freeReplyObject(r);
            return AVOW_OK; /* not in the ledger */
        }
        char id[64];
        memcpy(id, r->str, r->len + 1);
        freeReplyObject(r);
        const char *xr[4] = {"XRANGE", k.stream, id, id};
        e = avow__redis_call(n, "read the ledger in", 4, xr, NULL, &r, diag);
        if (e == AVOW_OK)
            e = entries(r, cb, ctx, last, sizeof(last), &stop, diag);
        freeReplyObject(r);
        return e;
    }
    char start[66] = "-";
    for (;;) {
        const char *xr[6] = {"XRANGE", k.stream, start, "+", "COUNT", "128"};
        e = avow__redis_call(n, "read the ledger in", 6, xr, NULL, &r, diag);
        if (e != AVOW_OK)
            return e;
        size_t got = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        last[0] = '\0';
        e = entries(r, cb, ctx, last, sizeof(last), &stop, diag);
        freeReplyObject(r);
        if (e != AVOW_OK || stop || got < LEDGER_PAGE)
            return e;
        snprintf(start, sizeof(start), "(%s", last);
    }
}

static avow_err r_ledger_query(void *impl, const char *serial, avow_issuance_cb cb, void *ctx,
                               avow_diag *diag)
{
    nredis *n = impl;
    if (n->stream)
        return stream_query(n, serial, cb, ctx, diag);
    if (n->ledger == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "nonce-store",
                          "this redis store keeps no issuance ledger (give one, or ledger=stream)");
    const avow_nonce_store_ops *ops = NULL;
    void *li = NULL;
    avow__nonce_store_backend(n->ledger, &ops, &li);
    return ops->ledger_query(li, serial, cb, ctx, diag);
}

static void r_free(void *impl)
{
    nredis *n = impl;
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nidle; i++)
        redisFree(n->idle[i]);
    avow_nonce_store_free(n->ledger);
    CRYPTO_THREAD_lock_free(n->lock);
    OPENSSL_cleanse(n->pass, sizeof(n->pass));
    OPENSSL_free(n);
}

static const avow_nonce_store_ops REDIS_OPS = {
    .size = sizeof(avow_nonce_store_ops),
    .name = "redis",
    .insert = r_insert,
    .consume = r_consume,
    .purge = r_purge,
    .free = r_free,
    .check = r_check,
    .insert_bounded = r_insert_bounded,
    .consume_record = r_consume_record,
    .ledger_query = r_ledger_query,
};

static int sha1_hex(const char *text, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    EVP_MD *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    int ok = sha1 != NULL && EVP_Digest(text, strlen(text), md, &ml, sha1, NULL) == 1 && ml == 20;
    EVP_MD_free(sha1);
    if (ok)
        hexof(md, 20, out);
    return ok;
}

avow_err avow__nonce_redis_open(const char *uri, const avow_nonce_store_open_opts *opts,
                                unsigned flags, avow_nonce_store **out, avow_diag *diag)
{
    nredis *n = OPENSSL_zalloc(sizeof(*n));
    if (n == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce-store", "out of memory");
    n->grace = DEFAULT_GRACE;
    n->conn_tv.tv_sec = DEFAULT_TIMEOUT_MS / 1000;
    n->cmd_tv.tv_sec = DEFAULT_TIMEOUT_MS / 1000;
    avow__strlcpy(n->prefix, "avow", sizeof(n->prefix));
    n->pid = getpid();
    avow_err e = avow__redis_parse_uri(n, uri, diag);
    if (e == AVOW_OK && opts->key_prefix != NULL) {
        if (!avow__redis_prefix_ok(opts->key_prefix, strlen(opts->key_prefix)))
            e = avow__fail(diag, AVOW_ERR_ARG, "key_prefix",
                           "a key prefix is 1..64 of A-Z a-z 0-9 _ - . :");
        else
            avow__strlcpy(n->prefix, opts->key_prefix, sizeof(n->prefix));
    }
    if (e == AVOW_OK && (n->lock = CRYPTO_THREAD_lock_new()) == NULL)
        e = avow__fail(diag, AVOW_ERR_NOMEM, "nonce-store", "out of memory");
    for (int i = 0; e == AVOW_OK && i < SCRIPTS; i++)
        if (!sha1_hex(SCRIPT_TEXT[i], n->sha[i]))
            e = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "nonce-store", "SHA-1 of a script");
    /* A store that answers now; later failures are per call. */
    if (e == AVOW_OK) {
        const char *ping[1] = {"PING"};
        redisReply *r = NULL;
        e = avow__redis_call(n, "reach", 1, ping, NULL, &r, diag);
        freeReplyObject(r);
    }
    /* ledger=stream in the URI wins: the ledger is then next to the nonces. */
    if (e == AVOW_OK && !n->stream && opts->ledger != NULL) {
        const char *path = opts->ledger;
        if (strncmp(path, "sqlite:", 7) == 0)
            path += 7;
        e = avow_nonce_store_open_sqlite_ex(path, flags, &n->ledger, diag);
    }
    if (e == AVOW_OK)
        e = avow_nonce_store_new(&REDIS_OPS, n, out, diag);
    if (e != AVOW_OK) {
        r_free(n);
        return e;
    }
    return AVOW_OK;
}
