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
 * Threads: a handle keeps up to POOL_MAX idle connections behind a lock;
 * a call takes one (or connects) and gives it back, so calls in flight
 * never share a connection. A connection inherited through fork is never
 * reused by the child.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

#include "core/internal.h"
#include "store/store_int.h"

#define POOL_MAX           8
#define DEFAULT_PORT       6379
#define DEFAULT_GRACE      60u
#define DEFAULT_TIMEOUT_MS 2000u
#define MAX_TIMEOUT_MS     600000u
#define MAX_GRACE          (366u * 86400u)
#define LEDGER_PAGE        128

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

enum { SCRIPT_CONSUME, SCRIPT_RECORD, SCRIPT_INSERT, SCRIPTS };
static const char *const SCRIPT_TEXT[SCRIPTS] = {LUA_CONSUME, LUA_RECORD, LUA_INSERT};

typedef struct nredis {
    char host[256];
    int port;
    char sock[108];
    char user[128];
    char pass[256];
    int auth;
    long db;
    unsigned grace;
    struct timeval conn_tv, cmd_tv;
    char prefix[65];
    int stream;               /* ledger in PREFIX:ledger */
    avow_nonce_store *ledger; /* SQLite ledger, or NULL */
    char sha[SCRIPTS][41];    /* EVALSHA names of the scripts */
    char where[320];          /* host:port or socket, for messages */
    CRYPTO_RWLOCK *lock;      /* guards idle, nidle, pid */
    pid_t pid;
    redisContext *idle[POOL_MAX];
    size_t nidle;
} nredis;

/* --- errors --- */

static avow_err redis_fail(avow_diag *d, avow_err code, unsigned long type, const char *fmt, ...)
    AVOW_PRINTF(4, 5);

static avow_err redis_fail(avow_diag *d, avow_err code, unsigned long type, const char *fmt, ...)
{
    char msg[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    avow_err e = avow__fail(d, code, "nonce-store", "redis: %s", msg);
    avow__set_backend(d, AVOW_BACKEND_REDIS, type);
    return e;
}

/*
 * A connection that failed (refused, reset, closed, timed out) is worth
 * retrying: Redis restarts or fails over and the same call then works.
 * A protocol error, no memory, or a name that does not resolve is not.
 */
static avow_err ctx_fail(avow_diag *d, const nredis *n, const redisContext *c, const char *what)
{
    int busy = c->err == REDIS_ERR_IO || c->err == REDIS_ERR_EOF;
    return redis_fail(d, busy ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE, (unsigned long)c->err,
                      "%s %s: %s", what, n->where, c->errstr[0] != '\0' ? c->errstr : "failed");
}

/* Server errors that say "not now" rather than "never". */
static int busy_reply(const char *s)
{
    static const char *const busy[] = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
        size_t k = strlen(busy[i]);
        if (strncmp(s, busy[i], k) == 0 && (s[k] == ' ' || s[k] == '\0'))
            return 1;
    }
    return 0;
}

static avow_err reply_fail(avow_diag *d, const redisReply *r, const char *what)
{
    const char *s = r->str != NULL ? r->str : "";
    return redis_fail(d, busy_reply(s) ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE, REDIS_REPLY_ERROR,
                      "%s: %.160s", what, s);
}

/* --- connections --- */

static avow_err simple(nredis *n, redisContext *c, const char *what, int argc, const char **argv,
                       avow_diag *diag)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r == NULL)
        return ctx_fail(diag, n, c, what);
    avow_err e = r->type == REDIS_REPLY_ERROR ? reply_fail(diag, r, what) : AVOW_OK;
    freeReplyObject(r);
    return e;
}

static avow_err conn_new(nredis *n, redisContext **out, avow_diag *diag)
{
    *out = NULL;
    redisContext *c = n->sock[0] != '\0' ? redisConnectUnixWithTimeout(n->sock, n->conn_tv)
                                         : redisConnectWithTimeout(n->host, n->port, n->conn_tv);
    if (c == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce-store", "out of memory");
    avow_err e = AVOW_OK;
    if (c->err)
        e = ctx_fail(diag, n, c, "connect to");
    else if (redisSetTimeout(c, n->cmd_tv) != REDIS_OK)
        e = ctx_fail(diag, n, c, "set the timeout of");
    if (e == AVOW_OK && n->auth) {
        const char *argv[3] = {"AUTH", n->user, n->pass};
        e = n->user[0] != '\0' ? simple(n, c, "authenticate", 3, argv, diag)
                               : (argv[1] = n->pass, simple(n, c, "authenticate", 2, argv, diag));
        /* "wrong password" is a configuration fault, never a busy server. */
        if (e == AVOW_ERR_STORE_BUSY && c->err == 0)
            e = AVOW_ERR_STORE;
    }
    if (e == AVOW_OK && n->db != 0) {
        char db[24];
        snprintf(db, sizeof(db), "%ld", n->db);
        const char *argv[2] = {"SELECT", db};
        e = simple(n, c, "select the database", 2, argv, diag);
    }
    if (e != AVOW_OK) {
        redisFree(c);
        return e;
    }
    *out = c;
    return AVOW_OK;
}

/* An idle connection, else a new one; *reused says which. */
static avow_err take(nredis *n, redisContext **c, int *reused, avow_diag *diag)
{
    redisContext *drop[POOL_MAX];
    size_t ndrop = 0;
    *c = NULL;
    CRYPTO_THREAD_write_lock(n->lock);
    if (n->pid != getpid()) {
        /* Our parent's sockets: using one would interleave with its calls. */
        for (size_t i = 0; i < n->nidle; i++)
            drop[ndrop++] = n->idle[i];
        n->nidle = 0;
        n->pid = getpid();
    }
    if (n->nidle > 0)
        *c = n->idle[--n->nidle];
    CRYPTO_THREAD_unlock(n->lock);
    for (size_t i = 0; i < ndrop; i++)
        redisFree(drop[i]);
    *reused = *c != NULL;
    return *c != NULL ? AVOW_OK : conn_new(n, c, diag);
}

static void give(nredis *n, redisContext *c)
{
    if (c->err == 0) {
        CRYPTO_THREAD_write_lock(n->lock);
        if (n->nidle < POOL_MAX && n->pid == getpid()) {
            n->idle[n->nidle++] = c;
            c = NULL;
        }
        CRYPTO_THREAD_unlock(n->lock);
    }
    if (c != NULL)
        redisFree(c);
}

/*
 * hiredis writes with write(2): a socket the server reset would raise
 * SIGPIPE and end the whole process. Block it on this thread for the call
 * and take away one it raised; the handler of the program stays untouched.
 */
static redisReply *command(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    sigset_t pipe, old, pend;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    int had = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
    int masked = pthread_sigmask(SIG_BLOCK, &pipe, &old) == 0;
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (masked) {
        if (!had && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE)) {
            struct timespec zero = {0, 0};
            int saved = errno;
            (void)sigtimedwait(&pipe, NULL, &zero);
            errno = saved;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return r;
}

/*
 * Runs one command. A pooled connection the server closed meanwhile (a
 * restart) is retried once on a fresh one. Retrying is safe even if the
 * first attempt ran: a consume then answers REPLAY and an insert DUP_KEY
 * (the front end draws another nonce), never a second acceptance.
 */
static avow_err call(nredis *n, const char *what, int argc, const char **argv, const size_t *lens,
                     redisReply **out, avow_diag *diag)
{
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        redisContext *c = NULL;
        int reused = 0;
        avow_err e = take(n, &c, &reused, diag);
        if (e != AVOW_OK)
            return e;
        errno = 0;
        redisReply *r = command(c, argc, argv, lens);
        if (r == NULL) {
            int gone = c->err == REDIS_ERR_EOF ||
                       (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
            e = ctx_fail(diag, n, c, what);
            redisFree(c);
            if (reused && gone && attempt == 0)
                continue;
            return e;
        }
        give(n, c);
        if (r->type == REDIS_REPLY_ERROR) {
            e = reply_fail(diag, r, what);
            freeReplyObject(r);
            return e;
        }
        *out = r;
        return AVOW_OK;
    }
}

/*
 * A script by its SHA-1 (EVALSHA); after a server restart emptied the
 * script cache, by its text once (EVAL, which caches it again).
 * argv[0] and argv[1] are filled here.
 */
static avow_err script(nredis *n, int which, const char *what, int argc, const char **argv,
                       size_t *lens, redisReply **out, avow_diag *diag)
{
    argv[0] = "EVALSHA";
    argv[1] = n->sha[which];
    lens[0] = 7;
    lens[1] = 40;
    avow_diag tmp;
    avow_diag_clear(&tmp);
    avow_err e = call(n, what, argc, argv, lens, out, &tmp);
    if (e == AVOW_ERR_STORE && strstr(tmp.detail, ": NOSCRIPT") != NULL) {
        argv[0] = "EVAL";
        argv[1] = SCRIPT_TEXT[which];
        lens[0] = 4;
        lens[1] = strlen(SCRIPT_TEXT[which]);
        return call(n, what, argc, argv, lens, out, diag);
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
        e = redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected reply to insert");
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
        return redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected script reply");
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
        return redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected script answer");
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
        return redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR, "unexpected reply to XRANGE");
    for (size_t i = 0; i < r->elements && !*stop; i++) {
        avow_issuance row;
        const redisReply *id = r->element[i]->type == REDIS_REPLY_ARRAY &&
                                       r->element[i]->elements == 2 &&
                                       r->element[i]->element[0]->type == REDIS_REPLY_STRING
                                   ? r->element[i]->element[0]
                                   : NULL;
        if (id == NULL || id->len >= cap || !entry_row(r->element[i], &row))
            return redis_fail(diag, AVOW_ERR_STORE, REDIS_REPLY_ERROR,
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
        e = call(n, "look a serial up in", 3, hget, NULL, &r, diag);
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
        e = call(n, "read the ledger in", 4, xr, NULL, &r, diag);
        if (e == AVOW_OK)
            e = entries(r, cb, ctx, last, sizeof(last), &stop, diag);
        freeReplyObject(r);
        return e;
    }
    char start[66] = "-";
    for (;;) {
        const char *xr[6] = {"XRANGE", k.stream, start, "+", "COUNT", "128"};
        e = call(n, "read the ledger in", 6, xr, NULL, &r, diag);
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

/* --- the URI --- */

static int parse_num(const char *s, size_t len, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (len == 0 || len > 10)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return 0;
    *out = v;
    return 1;
}

static int prefix_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

static avow_err parse_params(nredis *n, const char *q, avow_diag *diag)
{
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (eq == NULL)
            return avow__fail(diag, AVOW_ERR_ARG, "store", "parameter \"%.*s\" has no value",
                              (int)(len > 32 ? 32 : len), q);
        size_t kl = (size_t)(eq - q), vl = len - kl - 1;
        const char *v = eq + 1;
        unsigned long num = 0;
#define KEY_IS(name) (kl == sizeof(name) - 1 && memcmp(q, name, kl) == 0)
        if (KEY_IS("prefix") && prefix_ok(v, vl)) {
            memcpy(n->prefix, v, vl);
            n->prefix[vl] = '\0';
        } else if (KEY_IS("db") && parse_num(v, vl, 1000000, &num)) {
            n->db = (long)num;
        } else if (KEY_IS("grace") && parse_num(v, vl, MAX_GRACE, &num)) {
            n->grace = (unsigned)num;
        } else if (KEY_IS("connect_timeout_ms") && parse_num(v, vl, MAX_TIMEOUT_MS, &num) &&
                   num > 0) {
            n->conn_tv.tv_sec = (time_t)(num / 1000);
            n->conn_tv.tv_usec = (suseconds_t)(num % 1000) * 1000;
        } else if (KEY_IS("timeout_ms") && parse_num(v, vl, MAX_TIMEOUT_MS, &num) && num > 0) {
            n->cmd_tv.tv_sec = (time_t)(num / 1000);
            n->cmd_tv.tv_usec = (suseconds_t)(num % 1000) * 1000;
        } else if (KEY_IS("ledger") && vl == 6 && memcmp(v, "stream", 6) == 0) {
            n->stream = 1;
        } else {
            return avow__fail(diag, AVOW_ERR_ARG, "store",
                              "bad parameter \"%.*s\" (known: prefix, db, grace, "
                              "connect_timeout_ms, timeout_ms, ledger=stream)",
                              (int)(kl > 32 ? 32 : kl), q);
        }
#undef KEY_IS
        q += len;
        if (*q == '&')
            q++;
    }
    return AVOW_OK;
}

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?PARAMS] */
static avow_err parse_tcp(nredis *n, const char *p, const char **params, avow_diag *diag)
{
    const char *end = p + strcspn(p, "/?");
    const char *at = NULL;
    for (const char *s = p; s < end; s++)
        if (*s == '@')
            at = s;
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return avow__fail(diag, AVOW_ERR_ARG, "store",
                              "user information needs a password (USER:PASSWORD@ or :PASSWORD@)");
        size_t ul = (size_t)(colon - p), pl = (size_t)(at - colon - 1);
        if (ul >= sizeof(n->user) || pl >= sizeof(n->pass) || pl == 0)
            return avow__fail(diag, AVOW_ERR_ARG, "store", "user or password too long or empty");
        memcpy(n->user, p, ul);
        memcpy(n->pass, colon + 1, pl);
        n->auth = 1;
        p = at + 1;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        hs = p + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (he == NULL)
            return avow__fail(diag, AVOW_ERR_ARG, "store", "unclosed [ in the host");
        p = he + 1;
    } else {
        he = p;
        while (he < end && *he != ':')
            he++;
        p = he;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof(n->host))
        return avow__fail(diag, AVOW_ERR_ARG, "store", "no host, or a host name too long");
    memcpy(n->host, hs, hl);
    n->host[hl] = '\0';
    n->port = DEFAULT_PORT;
    unsigned long num = 0;
    if (p < end && *p == ':') {
        if (!parse_num(p + 1, (size_t)(end - p - 1), 65535, &num) || num == 0)
            return avow__fail(diag, AVOW_ERR_ARG, "store", "bad port");
        n->port = (int)num;
    } else if (p != end) {
        return avow__fail(diag, AVOW_ERR_ARG, "store", "bad host");
    }
    p = end;
    if (*p == '/') {
        size_t dl = strcspn(p + 1, "?");
        if (dl > 0) {
            if (!parse_num(p + 1, dl, 1000000, &num))
                return avow__fail(diag, AVOW_ERR_ARG, "store", "bad database number");
            n->db = (long)num;
        }
        p += 1 + dl;
    }
    *params = *p == '?' ? p + 1 : p;
    snprintf(n->where, sizeof(n->where), "%s:%d", n->host, n->port);
    return AVOW_OK;
}

static avow_err parse_uri(nredis *n, const char *uri, avow_diag *diag)
{
    const char *params = "";
    avow_err e;
    if (strncmp(uri, "unix:", 5) == 0) {
        const char *p = uri + 5;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
        size_t pl = strcspn(p, "?");
        if (pl == 0 || pl >= sizeof(n->sock))
            return avow__fail(diag, AVOW_ERR_ARG, "store",
                              "unix: needs a socket path (< %zu bytes)", sizeof(n->sock));
        memcpy(n->sock, p, pl);
        n->sock[pl] = '\0';
        params = p[pl] == '?' ? p + pl + 1 : p + pl;
        snprintf(n->where, sizeof(n->where), "%s", n->sock);
        e = AVOW_OK;
    } else {
        e = parse_tcp(n, uri + 8, &params, diag);
    }
    return e == AVOW_OK ? parse_params(n, params, diag) : e;
}

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
    avow_err e = parse_uri(n, uri, diag);
    if (e == AVOW_OK && opts->key_prefix != NULL) {
        if (!prefix_ok(opts->key_prefix, strlen(opts->key_prefix)))
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
        e = call(n, "reach", 1, ping, NULL, &r, diag);
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
