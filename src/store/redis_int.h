/*
 * Inside the Redis back end: the handle, its connections and its URI,
 * shared by nonce_redis.c (scripts, ops, ledger) and redis_conn.c
 * (errors, the pool, commands, the URI).
 */
#ifndef AVOW_REDIS_INT_H
#define AVOW_REDIS_INT_H

#include <sys/time.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include <avow/nonce.h>

#include "core/internal.h"

#define POOL_MAX           8
#define DEFAULT_PORT       6379
#define DEFAULT_GRACE      60u
#define DEFAULT_TIMEOUT_MS 2000u
#define MAX_TIMEOUT_MS     600000u
#define MAX_GRACE          (366u * 86400u)

enum { SCRIPT_CONSUME, SCRIPT_RECORD, SCRIPT_INSERT, SCRIPTS };

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

/* A Redis failure: code, the hiredis error type (or REDIS_REPLY_ERROR), a message. */
avow_err avow__redis_fail(avow_diag *d, avow_err code, unsigned long type, const char *fmt, ...)
    AVOW_PRINTF(4, 5);

/*
 * Runs one command on a pooled connection (lens NULL: C strings). A server
 * error reply is returned as an error; *out is the caller's (freeReplyObject).
 */
avow_err avow__redis_call(nredis *n, const char *what, int argc, const char **argv,
                          const size_t *lens, redisReply **out, avow_diag *diag);

/* 1 when s (len bytes) may be a key prefix: 1..64 of A-Z a-z 0-9 _ - . : */
int avow__redis_prefix_ok(const char *s, size_t len);

/* Fills host, port or socket, credentials, db and the parameters from uri. */
avow_err avow__redis_parse_uri(nredis *n, const char *uri, avow_diag *diag);

#endif
