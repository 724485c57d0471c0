/*
 * avow/nonce.h - nonces the verifier issues and accepts once (freshness).
 *
 * A store keeps every issued nonce with its expiry and whether it was used.
 * Back ends fill an avow_nonce_store_ops table; SQLite is built in (a file,
 * so the set survives restarts, and SQLite locking makes one file safe for
 * several processes); a Redis back end plugs in through the same table.
 *
 * A store handle may be used from several threads at once (the SQLite back
 * end opens its connection in serialized mode).
 */
#ifndef AVOW_NONCE_H
#define AVOW_NONCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_NONCE_MIN_LEN     16u
#define AVOW_NONCE_MAX_LEN     64u
#define AVOW_NONCE_DEFAULT_LEN 32u
#define AVOW_NONCE_DEFAULT_TTL 300u /* seconds */

/* What a back end supplies. `impl` is the back end's own state. */
typedef struct avow_nonce_store_ops {
    const char *name; /* "sqlite", "redis", ... */
    /* Records a new nonce; AVOW_ERR_DUP_KEY if it exists already. */
    avow_err (*insert)(void *impl, const uint8_t *nonce, size_t len, time_t issued, time_t expires,
                       avow_diag *diag);
    /*
     * Marks the nonce used if it is known, unused and expires >= now, in one
     * atomic step; AVOW_OK then. Otherwise AVOW_ERR_NONCE_REPLAY (used),
     * AVOW_ERR_NONCE_UNKNOWN (never issued or purged), AVOW_ERR_NONCE_EXPIRED.
     */
    avow_err (*consume)(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag);
    /* Deletes nonces that expired before `before`; *removed (may be NULL) gets the count. */
    avow_err (*purge)(void *impl, time_t before, size_t *removed, avow_diag *diag);
    /* Releases impl. */
    void (*free)(void *impl);
} avow_nonce_store_ops;

typedef struct avow_nonce_store avow_nonce_store;

/*
 * A store over a back end. On success the store owns impl (ops->free);
 * on failure impl is still the caller's. Free with avow_nonce_store_free.
 */
AVOW_EXPORT avow_err avow_nonce_store_new(const avow_nonce_store_ops *ops, void *impl,
                                          avow_nonce_store **out);

/*
 * Opens (creating if needed) the SQLite store at path: WAL journal, a busy
 * timeout of 5 s, table nonces (nonce BLOB PRIMARY KEY, issued INTEGER,
 * expires INTEGER, used INTEGER). Errors: AVOW_ERR_STORE (diag->backend
 * holds the SQLite extended result code), AVOW_ERR_ARG.
 */
AVOW_EXPORT avow_err avow_nonce_store_open_sqlite(const char *path, avow_nonce_store **out,
                                                  avow_diag *diag);

/* Closes the store and frees it. No-op for NULL. */
AVOW_EXPORT void avow_nonce_store_free(avow_nonce_store *s);

/* Back-end name ("sqlite"). */
AVOW_EXPORT const char *avow_nonce_store_name(const avow_nonce_store *s);

/*
 * Issues a fresh random nonce of len bytes (0 = AVOW_NONCE_DEFAULT_LEN;
 * otherwise 16..64) from RAND_bytes, valid for ttl seconds (0 =
 * AVOW_NONCE_DEFAULT_TTL) from now (0 = the current time), and records it.
 * *out is owned by the caller (avow_buf_free).
 * Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO, AVOW_ERR_STORE.
 */
AVOW_EXPORT avow_err avow_nonce_issue(avow_nonce_store *s, size_t len, unsigned ttl, time_t now,
                                      avow_buf *out, avow_diag *diag);

/*
 * Accepts a nonce once: AVOW_OK the first time it is presented before it
 * expires (now = 0: the current time), AVOW_ERR_NONCE_REPLAY afterwards,
 * AVOW_ERR_NONCE_UNKNOWN for one this store never issued (or purged),
 * AVOW_ERR_NONCE_EXPIRED after its expiry. Atomic across threads and
 * processes sharing the store.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_nonce_consume(avow_nonce_store *s, const uint8_t *nonce,
                                                        size_t len, time_t now, avow_diag *diag);

/*
 * Deletes nonces whose expiry is more than `grace` seconds before now
 * (now = 0: the current time). A purged nonce presented later is
 * AVOW_ERR_NONCE_UNKNOWN, so it is still refused. *removed may be NULL.
 */
AVOW_EXPORT avow_err avow_nonce_purge(avow_nonce_store *s, time_t now, unsigned grace,
                                      size_t *removed, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
