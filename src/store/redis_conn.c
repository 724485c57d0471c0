/*
 * The Redis back end's plumbing: errors mapped to busy or permanent, the
 * connection pool, one command with its retry, and the store URI.
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
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/redis_int.h"

/* --- errors --- */

avow_err avow__redis_fail(avow_diag *d, avow_err code, unsigned long type, const char *fmt, ...)
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
    return avow__redis_fail(d, busy ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE, (unsigned long)c->err,
                            "%s %s: %s", what, n->where,
                            c->errstr[0] != '\0' ? c->errstr : "failed");
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
    return avow__redis_fail(d, busy_reply(s) ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE,
                            REDIS_REPLY_ERROR, "%s: %.160s", what, s);
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
avow_err avow__redis_call(nredis *n, const char *what, int argc, const char **argv,
                          const size_t *lens, redisReply **out, avow_diag *diag)
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

int avow__redis_prefix_ok(const char *s, size_t len)
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
        if (KEY_IS("prefix") && avow__redis_prefix_ok(v, vl)) {
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

avow_err avow__redis_parse_uri(nredis *n, const char *uri, avow_diag *diag)
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
