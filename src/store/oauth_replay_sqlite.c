/*
 * SQLite back end of the OAuth jti replay set: one table of keys with
 * their expiry, in a file of its own or beside the nonce store's tables.
 * An insert is one statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE
 * the old row expired), so two requests with one jti cannot both win,
 * and FULL sync keeps a recorded jti across a power cut.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <avow/oauth.h>

#include "core/internal.h"

#define BUSY_TIMEOUT_MS 5000

static const char TABLE[] = "CREATE TABLE IF NOT EXISTS oauth_replay ("
                            "key BLOB PRIMARY KEY NOT NULL, expires INTEGER NOT NULL"
                            ") WITHOUT ROWID";

static avow_err db_fail(avow_diag *d, sqlite3 *db, int rc, const char *what)
{
    int ext = db != NULL ? sqlite3_extended_errcode(db) : rc;
    int prim = ext & 0xff;
    avow_err code =
        prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE;
    avow_err e = avow__fail(d, code, "replay-store", "%s: %s", what,
                            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    avow__set_backend(d, AVOW_BACKEND_SQLITE, (uint64_t)(unsigned)ext);
    return e;
}

static avow_err rp_insert(void *impl, const uint8_t *key, size_t len, int64_t expires, int64_t now,
                          avow_diag *d)
{
    sqlite3 *db = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO oauth_replay (key, expires) VALUES (?1, ?2) "
                                "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires "
                                "WHERE oauth_replay.expires < ?3",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(d, db, rc, "prepare insert");
    sqlite3_bind_blob(st, 1, key, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, expires);
    sqlite3_bind_int64(st, 3, now);
    rc = sqlite3_step(st);
    avow_err e = AVOW_OK;
    if (rc != SQLITE_DONE)
        e = db_fail(d, db, rc, "insert");
    else if (sqlite3_changes(db) == 0)
        e = avow__fail(d, AVOW_ERR_OAUTH_REPLAY, "replay-store", "key already recorded");
    sqlite3_finalize(st);
    return e;
}

static avow_err rp_seen(void *impl, const uint8_t *key, size_t len, int64_t now, avow_diag *d)
{
    sqlite3 *db = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM oauth_replay WHERE key = ?1 AND expires >= ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(d, db, rc, "prepare lookup");
    sqlite3_bind_blob(st, 1, key, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    avow_err e = rc == SQLITE_ROW
                     ? avow__fail(d, AVOW_ERR_OAUTH_REPLAY, "replay-store", "key already recorded")
                 : rc == SQLITE_DONE ? AVOW_OK
                                     : db_fail(d, db, rc, "lookup");
    sqlite3_finalize(st);
    return e;
}

static avow_err rp_purge(void *impl, int64_t before, size_t *removed, avow_diag *d)
{
    sqlite3 *db = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "DELETE FROM oauth_replay WHERE expires < ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(d, db, rc, "prepare purge");
    sqlite3_bind_int64(st, 1, before);
    rc = sqlite3_step(st);
    avow_err e = rc == SQLITE_DONE ? AVOW_OK : db_fail(d, db, rc, "purge");
    if (e == AVOW_OK && removed != NULL)
        *removed = (size_t)sqlite3_changes(db);
    sqlite3_finalize(st);
    return e;
}

static void rp_free(void *impl)
{
    sqlite3_close_v2(impl);
}

static const avow_oauth_replay_ops SQLITE_OPS = {
    .size = sizeof(avow_oauth_replay_ops),
    .name = "sqlite",
    .insert = rp_insert,
    .seen = rp_seen,
    .purge = rp_purge,
    .free = rp_free,
};

avow_err avow_oauth_replay_open_sqlite(const char *path, avow_oauth_replay **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "replay-store", "no path or output");
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    avow_err e = AVOW_OK;
    if (rc != SQLITE_OK) {
        e = db_fail(diag, db, rc, "open");
        sqlite3_close_v2(db);
        return e;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* A set that cannot record a jti would accept it again. */
    if (sqlite3_db_readonly(db, "main") == 1) {
        sqlite3_close_v2(db);
        return avow__fail(diag, AVOW_ERR_STORE, "replay-store", "%s is read-only", path);
    }
    if ((rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                           NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(db, TABLE, NULL, NULL, NULL)) != SQLITE_OK) {
        e = db_fail(diag, db, rc, "set up");
        sqlite3_close_v2(db);
        return e;
    }
    /* A table of that name that is not ours would take any key. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT key, expires FROM oauth_replay LIMIT 0", -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        sqlite3_close_v2(db);
        return avow__fail(diag, AVOW_ERR_STORE, "replay-store",
                          "%s: table oauth_replay is not an avow replay set", path);
    }
    return avow_oauth_replay_new(&SQLITE_OPS, db, out, diag);
}
