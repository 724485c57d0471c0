/*
 * Inside the store: what the front end, the SQLite back end and the Redis
 * back end share and nothing else sees.
 */
#ifndef AVOW_STORE_INT_H
#define AVOW_STORE_INT_H

#include <avow/ledger.h>
#include <avow/nonce.h>

/* The store's back end; both borrowed. */
void avow__nonce_store_backend(const avow_nonce_store *s, const avow_nonce_store_ops **ops,
                               void **impl);

/* Consumes the nonce at its place in a ledger transaction; AVOW_OK when it was won. */
typedef avow_err (*avow__consume_fn)(void *ctx, avow_diag *diag);

/*
 * Appends rec to the SQLite ledger of store s in one transaction that runs
 * consume between the insert and the commit: a duplicate serial stops
 * before the nonce is touched, a lost nonce rolls the row back, and a
 * commit that fails after the nonce was consumed leaves it used with no
 * row (no certificate is handed out then). AVOW_ERR_ARG when s is not a
 * SQLite store.
 */
avow_err avow__sqlite_record_with(avow_nonce_store *s, const avow_issuance *rec,
                                  avow__consume_fn consume, void *ctx, avow_diag *diag);

/* The Redis back end from a redis:// or unix: URI (nonce_redis.c; nonce_redis_off.c without it). */
avow_err avow__nonce_redis_open(const char *uri, const avow_nonce_store_open_opts *opts,
                                unsigned flags, avow_nonce_store **out, avow_diag *diag);

/* The Redis jti replay set from such a URI (oauth_replay_redis.c; nonce_redis_off.c without it). */
struct avow_oauth_replay;
avow_err avow__oauth_replay_redis_open(const char *uri, struct avow_oauth_replay **out,
                                       avow_diag *diag);

#endif
