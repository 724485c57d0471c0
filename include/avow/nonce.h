/*
 * avow/nonce.h - nonces the verifier issues and accepts once (freshness).
 *
 * A store keeps every issued nonce with its expiry and whether it was used.
 * Back ends fill an avow_nonce_store_ops table; SQLite is built in (a file,
 * so the set survives restarts, and SQLite locking makes one file safe for
 * several processes); the Redis back end (avow_nonce_store_open_uri) fills
 * the same table for several hosts sharing one set of nonces.
 *
 * A store handle may be used from several threads at once (the SQLite back
 * end opens its connection in serialized mode; the Redis back end keeps a
 * small pool of connections behind a lock, one per call in flight).
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

typedef struct avow_issuance avow_issuance; /* avow/ledger.h */

/* One row of a ledger query, borrowed for the call; return non-zero to stop. */
typedef int (*avow_issuance_cb)(void *ctx, const avow_issuance *row);

/*
 * What a back end supplies. `impl` is the back end's own state. The first
 * four are required; the rest are optional (NULL) and a front-end call
 * needing a missing one gets AVOW_ERR_UNSUPPORTED. Every error a back end
 * returns for its own failure is AVOW_ERR_STORE_BUSY (locked or busy past
 * its timeout: retry later) or AVOW_ERR_STORE (anything else), with the
 * back end's reason in diag.
 */
typedef struct avow_nonce_store_ops {
    size_t size;      /* sizeof(avow_nonce_store_ops) as the back end was compiled */
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
    /* Answers as consume would, without marking the nonce used. */
    avow_err (*check)(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag);
    /*
     * insert, unless `max` or more nonces are outstanding (unused and
     * expires >= issued): then AVOW_ERR_NONCE_LIMIT. Count and insert are one
     * atomic step.
     */
    avow_err (*insert_bounded)(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                               time_t expires, size_t max, avow_diag *diag);
    /*
     * consume and, in the same atomic step, append rec to the issuance
     * ledger: either both happen or neither does. A serial already in the
     * ledger is AVOW_ERR_DUP_KEY (and the nonce stays unused).
     */
    avow_err (*consume_record)(void *impl, const uint8_t *nonce, size_t len, time_t now,
                               const avow_issuance *rec, avow_diag *diag);
    /*
     * Calls cb for each ledger row in the order of issue, or for the row of
     * serial (lowercase hex) only when serial is not NULL.
     */
    avow_err (*ledger_query)(void *impl, const char *serial, avow_issuance_cb cb, void *ctx,
                             avow_diag *diag);
} avow_nonce_store_ops;

typedef struct avow_nonce_store avow_nonce_store;

/*
 * A store over a back end. On success the store owns impl (ops->free);
 * on failure impl is still the caller's. Free with avow_nonce_store_free.
 */
AVOW_EXPORT avow_err avow_nonce_store_new(const avow_nonce_store_ops *ops, void *impl,
                                          avow_nonce_store **out, avow_diag *diag);

/* Flags of avow_nonce_store_open_sqlite_ex. */
enum {
    /* Create the file and its tables when they do not exist. Without it a
     * missing file, or a file without avow's tables, is AVOW_ERR_STORE. */
    AVOW_NONCE_STORE_CREATE = 1u << 0
};

/* Schema version of the SQLite store (PRAGMA user_version). */
#define AVOW_NONCE_SQLITE_SCHEMA 1

/*
 * Opens the SQLite store at path: WAL journal, synchronous FULL, a busy
 * timeout of 5 s. Tables: nonces (nonce BLOB PRIMARY KEY, issued INTEGER,
 * expires INTEGER, used INTEGER) and issuances (the ledger, avow/ledger.h),
 * schema version AVOW_NONCE_SQLITE_SCHEMA in PRAGMA user_version. A store
 * of schema 0 (nonces only, as avow 0.1 made it) is upgraded in place.
 * Refused with AVOW_ERR_STORE: a missing file (without
 * AVOW_NONCE_STORE_CREATE), a file that is not SQLite or is corrupt, a
 * read-only file, tables of another shape, a newer schema version.
 * AVOW_ERR_STORE_BUSY: locked by another process past the timeout.
 * diag->backend holds the SQLite extended result code. AVOW_ERR_ARG.
 */
AVOW_EXPORT avow_err avow_nonce_store_open_sqlite_ex(const char *path, unsigned flags,
                                                     avow_nonce_store **out, avow_diag *diag);

/* avow_nonce_store_open_sqlite_ex with AVOW_NONCE_STORE_CREATE. */
AVOW_EXPORT avow_err avow_nonce_store_open_sqlite(const char *path, avow_nonce_store **out,
                                                  avow_diag *diag);

/* Options of avow_nonce_store_open_uri. */
typedef struct avow_nonce_store_open_opts {
    size_t size; /* set by avow_nonce_store_open_opts_init */
    /*
     * The issuance ledger of a redis: store: "sqlite:PATH" (or a plain
     * path) keeps it in that SQLite file, opened as
     * avow_nonce_store_open_sqlite_ex with the same flags; NULL keeps none
     * (avow_nonce_consume_record is AVOW_ERR_UNSUPPORTED) unless the URI
     * says ledger=stream (a Redis stream). Ignored for a sqlite: URI, whose
     * file is its own ledger.
     */
    const char *ledger;
    /* Prefix of every Redis key; NULL = the URI's prefix=, else "avow". */
    const char *key_prefix;
} avow_nonce_store_open_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_nonce_store_open_opts_init(avow_nonce_store_open_opts *o);

/*
 * Opens a store named by a URI (docs/store.md):
 *   sqlite:PATH  the SQLite store (avow_nonce_store_open_sqlite_ex, flags)
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?PARAMS]
 *   unix:SOCKET-PATH[?PARAMS]   Redis over a Unix socket (db= selects the database)
 * Redis PARAMS, '&'-separated: prefix=P (key prefix, [A-Za-z0-9_.-:]{1,64},
 * default "avow"), db=N, grace=SECONDS (how long a nonce stays known after
 * its expiry, so it answers EXPIRED or REPLAY rather than UNKNOWN; default
 * 60), connect_timeout_ms=N (default 2000), timeout_ms=N (each command;
 * default 2000), ledger=stream (the issuance ledger in a Redis stream,
 * consumed and appended in one script). A Redis store checks the server
 * with PING before it returns; AVOW_NONCE_STORE_CREATE does not apply to it
 * (Redis needs nothing made). opts may be NULL. Errors: AVOW_ERR_ARG (the
 * URI; a password is never quoted back), AVOW_ERR_STORE_BUSY (Redis
 * unreachable, loading or timing out: retry later), AVOW_ERR_STORE
 * (refused authentication, anything else; diag->source AVOW_BACKEND_REDIS
 * with the hiredis error type in diag->backend), those of the SQLite
 * store, AVOW_ERR_UNSUPPORTED (a build without Redis).
 */
AVOW_EXPORT avow_err avow_nonce_store_open_uri(const char *uri, unsigned flags,
                                               const avow_nonce_store_open_opts *opts,
                                               avow_nonce_store **out, avow_diag *diag);

/* Closes the store and frees it. No-op for NULL. */
AVOW_EXPORT void avow_nonce_store_free(avow_nonce_store *s);

/* Back-end name ("sqlite", "redis"). */
AVOW_EXPORT const char *avow_nonce_store_name(const avow_nonce_store *s);

/*
 * Bounds the outstanding nonces (issued, unused, not expired) that
 * avow_nonce_issue lets exist at once: beyond max it refuses with
 * AVOW_ERR_NONCE_LIMIT, so a flood of nonce requests cannot grow the store
 * without bound. 0 (the default) = no bound. Set it before the store is
 * shared between threads.
 */
AVOW_EXPORT void avow_nonce_store_set_limit(avow_nonce_store *s, size_t max);

/*
 * Issues a fresh random nonce of len bytes (0 = AVOW_NONCE_DEFAULT_LEN;
 * otherwise 16..64) from RAND_bytes, valid for ttl seconds (0 =
 * AVOW_NONCE_DEFAULT_TTL) from now (0 = the current time), and records it.
 * *out is owned by the caller (avow_buf_free). now = 0 stands for the
 * current time here and in every call below: a store never works in 1970.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO, AVOW_ERR_NONCE_LIMIT,
 * AVOW_ERR_STORE, AVOW_ERR_STORE_BUSY.
 */
AVOW_EXPORT avow_err avow_nonce_issue(avow_nonce_store *s, size_t len, unsigned ttl, time_t now,
                                      avow_buf *out, avow_diag *diag);

/*
 * An issued nonce for the party that must put it in its Evidence:
 * {"expires": RFC 3339 UTC, "nonce": lower-case hex, "ttl": seconds} on one
 * line, keys sorted, with a final newline: what `avow ca nonce -json`
 * prints. *out is NUL-terminated (len excludes the NUL), owned by the
 * caller (avow_buf_free). Errors: AVOW_ERR_ARG (no nonce, or one over
 * AVOW_NONCE_MAX_LEN), AVOW_ERR_BAD_TIME (expires past the year 9999),
 * AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_nonce_to_json(const uint8_t *nonce, size_t len, time_t expires,
                                        unsigned ttl, avow_buf *out, avow_diag *diag);

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
 * Answers as avow_nonce_consume would, without using the nonce up: AVOW_OK
 * when it is known, unused and not expired at now. For a caller that must
 * finish other work before it consumes (avow_nonce_consume_record).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_nonce_check(avow_nonce_store *s, const uint8_t *nonce,
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
