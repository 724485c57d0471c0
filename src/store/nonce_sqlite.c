/*
 * SQLite back end of the nonce store. One connection per handle, opened
 * serialized (SQLITE_OPEN_FULLMUTEX) so threads may share a handle; WAL
 * and a busy timeout so several processes may share the file. Consuming
 * is one UPDATE ... RETURNING: the row count of that statement alone
 * decides, so two consumers can never both win.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <avow/nonce.h>

#include "core/internal.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct nsql {
    sqlite3 *db;
} nsql;

static avow_err db_fail(avow_diag *d, sqlite3 *db, int rc, const char *what)
{
    int ext = db != NULL ? sqlite3_extended_errcode(db) : rc;
    avow_err e = avow__fail(d, AVOW_ERR_STORE, "nonce-store", "%s: %s", what,
                            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (d != NULL)
        d->backend = (unsigned long)(unsigned)ext;
    return e;
}

static avow_err ns_insert(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                          time_t expires, avow_diag *diag)
{
    nsql *n = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        n->db, "INSERT INTO nonces (nonce, issued, expires, used) VALUES (?1, ?2, ?3, 0)", -1, &st,
        NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare insert");
    sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)issued);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)expires);
    rc = sqlite3_step(st);
    avow_err e = AVOW_OK;
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
        e = avow__fail(diag, AVOW_ERR_DUP_KEY, "nonce", "nonce exists already");
    else if (rc != SQLITE_DONE)
        e = db_fail(diag, n->db, rc, "insert nonce");
    sqlite3_finalize(st);
    return e;
}

static avow_err ns_consume(void *impl, const uint8_t *nonce, size_t len, time_t now,
                           avow_diag *diag)
{
    nsql *n = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db,
                                "UPDATE nonces SET used = 1 WHERE nonce = ?1 AND used = 0 "
                                "AND expires >= ?2 RETURNING issued",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare consume");
    sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    rc = sqlite3_step(st);
    int won = rc == SQLITE_ROW;
    if (won)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(diag, n->db, rc, "consume nonce");
    if (won)
        return AVOW_OK;

    /* Lost: say why. The decision is made; this read only explains it. */
    rc = sqlite3_prepare_v2(n->db, "SELECT used, expires FROM nonces WHERE nonce = ?1", -1, &st,
                            NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare lookup");
    sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    avow_err e;
    if (rc == SQLITE_ROW) {
        int used = sqlite3_column_int(st, 0);
        sqlite3_int64 expires = sqlite3_column_int64(st, 1);
        if (used)
            e = avow__fail(diag, AVOW_ERR_NONCE_REPLAY, "nonce", "nonce was already used");
        else
            e = avow__fail(diag, AVOW_ERR_NONCE_EXPIRED, "nonce", "nonce expired %lld s ago",
                           (long long)(now - (time_t)expires));
    } else if (rc == SQLITE_DONE) {
        e = avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                       "nonce was not issued by this verifier (or was purged)");
    } else {
        e = db_fail(diag, n->db, rc, "look nonce up");
    }
    sqlite3_finalize(st);
    return e;
}

static avow_err ns_purge(void *impl, time_t before, size_t *removed, avow_diag *diag)
{
    nsql *n = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db, "DELETE FROM nonces WHERE expires < ?1 RETURNING 1", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare purge");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
    size_t count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        count++;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(diag, n->db, rc, "purge nonces");
    if (removed != NULL)
        *removed = count;
    return AVOW_OK;
}

static void ns_free(void *impl)
{
    nsql *n = impl;
    if (n == NULL)
        return;
    sqlite3_close_v2(n->db);
    OPENSSL_free(n);
}

static const avow_nonce_store_ops SQLITE_OPS = {"sqlite", ns_insert, ns_consume, ns_purge, ns_free};

static const char SCHEMA[] = "CREATE TABLE IF NOT EXISTS nonces ("
                             " nonce BLOB PRIMARY KEY NOT NULL,"
                             " issued INTEGER NOT NULL,"
                             " expires INTEGER NOT NULL,"
                             " used INTEGER NOT NULL DEFAULT 0);"
                             "CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires);";

avow_err avow_nonce_store_open_sqlite(const char *path, avow_nonce_store **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce-store", "no path or output");
    nsql *n = OPENSSL_zalloc(sizeof(*n));
    if (n == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce-store", "out of memory");
    int rc = sqlite3_open_v2(
        path, &n->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    avow_err e = AVOW_OK;
    if (rc != SQLITE_OK) {
        e = db_fail(diag, n->db, rc, "open");
        goto fail;
    }
    sqlite3_extended_result_codes(n->db, 1);
    sqlite3_busy_timeout(n->db, BUSY_TIMEOUT_MS);
    /* WAL: readers and the writer do not block each other; FULL sync: a
     * consumed nonce stays consumed across a power cut (no replay window). */
    rc = sqlite3_exec(n->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = db_fail(diag, n->db, rc, "set WAL mode");
        goto fail;
    }
    rc = sqlite3_exec(n->db, SCHEMA, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = db_fail(diag, n->db, rc, "create schema");
        goto fail;
    }
    e = avow_nonce_store_new(&SQLITE_OPS, n, out);
    if (e != AVOW_OK) {
        avow__fail(diag, e, "nonce-store", "out of memory");
        goto fail;
    }
    return AVOW_OK;
fail:
    ns_free(n);
    return e;
}
