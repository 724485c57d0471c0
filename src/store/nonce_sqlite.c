/*
 * SQLite back end of the nonce store and of the issuance ledger. One
 * connection per handle, opened serialized (SQLITE_OPEN_FULLMUTEX) so
 * threads may share a handle; WAL and a busy timeout so several processes
 * may share the file. Consuming is one UPDATE ... RETURNING: the row count
 * of that statement alone decides, so two consumers can never both win.
 * The ledger lives in the same file, so consuming a nonce and recording
 * the certificate issued for it is one transaction.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

#include "core/internal.h"
#include "store/store_int.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct nsql {
    sqlite3 *db;
} nsql;

/* Locked or busy past the timeout is worth retrying; everything else is not. */
static avow_err db_fail(avow_diag *d, sqlite3 *db, int rc, const char *what)
{
    int ext = db != NULL ? sqlite3_extended_errcode(db) : rc;
    int prim = ext & 0xff;
    avow_err code =
        prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? AVOW_ERR_STORE_BUSY : AVOW_ERR_STORE;
    avow_err e = avow__fail(d, code, "nonce-store", "%s: %s", what,
                            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (d != NULL)
        d->backend = (unsigned long)(unsigned)ext;
    return e;
}

/*
 * A transaction is several calls on the one connection; holding the
 * connection's (recursive) mutex keeps another thread's statements out of it.
 */
static void tx_lock(nsql *n)
{
    sqlite3_mutex_enter(sqlite3_db_mutex(n->db));
}

static void tx_unlock(nsql *n)
{
    sqlite3_mutex_leave(sqlite3_db_mutex(n->db));
}

static avow_err tx_begin(nsql *n, avow_diag *diag)
{
    int rc = sqlite3_exec(n->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? AVOW_OK : db_fail(diag, n->db, rc, "begin");
}

static avow_err tx_end(nsql *n, avow_err e, avow_diag *diag)
{
    if (e == AVOW_OK) {
        int rc = sqlite3_exec(n->db, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return AVOW_OK;
        e = db_fail(diag, n->db, rc, "commit");
    }
    sqlite3_exec(n->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static avow_err insert_row(nsql *n, const uint8_t *nonce, size_t len, time_t issued, time_t expires,
                           avow_diag *diag)
{
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
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        e = avow__fail(diag, AVOW_ERR_DUP_KEY, "nonce", "nonce exists already");
    else if (rc != SQLITE_DONE)
        e = db_fail(diag, n->db, rc, "insert nonce");
    sqlite3_finalize(st);
    return e;
}

static avow_err ns_insert(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                          time_t expires, avow_diag *diag)
{
    return insert_row(impl, nonce, len, issued, expires, diag);
}

static avow_err ns_insert_bounded(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                                  time_t expires, size_t max, avow_diag *diag)
{
    nsql *n = impl;
    tx_lock(n);
    avow_err e = tx_begin(n, diag);
    sqlite3_stmt *st = NULL;
    if (e == AVOW_OK) {
        int rc = sqlite3_prepare_v2(
            n->db, "SELECT count(*) FROM nonces WHERE used = 0 AND expires >= ?1", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)issued);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_ROW)
            e = db_fail(diag, n->db, rc, "count outstanding nonces");
        else if ((sqlite3_uint64)sqlite3_column_int64(st, 0) >= (sqlite3_uint64)max)
            e = avow__fail(diag, AVOW_ERR_NONCE_LIMIT, "nonce",
                           "%zu nonces are outstanding, the most this store allows; "
                           "use or let some expire first",
                           max);
        sqlite3_finalize(st);
        if (e == AVOW_OK)
            e = insert_row(n, nonce, len, issued, expires, diag);
        e = tx_end(n, e, diag);
    }
    tx_unlock(n);
    return e;
}

/* Why a nonce cannot be consumed at now; AVOW_OK when it can. */
static avow_err explain(nsql *n, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db, "SELECT used, expires FROM nonces WHERE nonce = ?1", -1, &st,
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
        else if ((time_t)expires < now)
            e = avow__fail(diag, AVOW_ERR_NONCE_EXPIRED, "nonce", "nonce expired %lld s ago",
                           (long long)(now - (time_t)expires));
        else
            e = AVOW_OK;
    } else if (rc == SQLITE_DONE) {
        e = avow__fail(diag, AVOW_ERR_NONCE_UNKNOWN, "nonce",
                       "nonce was not issued by this verifier (or was purged)");
    } else {
        e = db_fail(diag, n->db, rc, "look nonce up");
    }
    sqlite3_finalize(st);
    return e;
}

/* The atomic step: *won 1 when this call used the nonce up. */
static avow_err consume_step(nsql *n, const uint8_t *nonce, size_t len, time_t now, int *won,
                             avow_diag *diag)
{
    sqlite3_stmt *st = NULL;
    *won = 0;
    int rc = sqlite3_prepare_v2(n->db,
                                "UPDATE nonces SET used = 1 WHERE nonce = ?1 AND used = 0 "
                                "AND expires >= ?2 RETURNING issued",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare consume");
    sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    rc = sqlite3_step(st);
    int row = rc == SQLITE_ROW;
    if (row)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(diag, n->db, rc, "consume nonce");
    *won = row;
    return AVOW_OK;
}

/* Lost: say why. The decision is made; this read only explains it. */
static avow_err lost(nsql *n, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    avow_err e = explain(n, nonce, len, now, diag);
    /* Unused and unexpired yet lost: another consumer won in between. */
    return e != AVOW_OK ? e
                        : avow__fail(diag, AVOW_ERR_NONCE_REPLAY, "nonce", "nonce was just used");
}

static avow_err ns_consume(void *impl, const uint8_t *nonce, size_t len, time_t now,
                           avow_diag *diag)
{
    nsql *n = impl;
    /*
     * BEGIN IMMEDIATE takes the write lock through the busy handler first.
     * A bare UPDATE reads, then upgrades its snapshot to a write, and in WAL
     * mode an upgrade over a snapshot another process has since committed
     * past fails at once (SQLITE_BUSY_SNAPSHOT) without waiting.
     */
    tx_lock(n);
    avow_err e = tx_begin(n, diag);
    if (e == AVOW_OK) {
        int won = 0;
        avow_err why = AVOW_OK;
        e = consume_step(n, nonce, len, now, &won, diag);
        if (e == AVOW_OK && !won)
            why = lost(n, nonce, len, now, diag); /* reads only */
        e = tx_end(n, e, diag);
        if (e == AVOW_OK)
            e = why;
    }
    tx_unlock(n);
    return e;
}

static avow_err ns_check(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    return explain(impl, nonce, len, now, diag);
}

static avow_err record_row(nsql *n, const avow_issuance *r, avow_diag *diag)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db,
                                "INSERT INTO issuances (serial, subject, spki_sha256, "
                                "request_sha256, nonce, issued, not_after, ear, cert) VALUES "
                                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare record");
    sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->subject, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, r->spki_sha256, sizeof(r->spki_sha256), SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, r->request_sha256, sizeof(r->request_sha256), SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, r->nonce, (int)r->nonce_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->issued);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->not_after);
    sqlite3_bind_text(st, 8, r->ear_json, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, r->cert_der, (int)r->cert_der_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    avow_err e = AVOW_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        e = avow__fail(diag, AVOW_ERR_DUP_KEY, "serial", "serial %s is in the ledger already",
                       r->serial);
    else if (rc != SQLITE_DONE)
        e = db_fail(diag, n->db, rc, "record issuance");
    sqlite3_finalize(st);
    return e;
}

static avow_err ns_consume_record(void *impl, const uint8_t *nonce, size_t len, time_t now,
                                  const avow_issuance *rec, avow_diag *diag)
{
    nsql *n = impl;
    if (rec->cert_der_len > 0x7fffffff)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "ledger", "certificate too large");
    tx_lock(n);
    avow_err e = tx_begin(n, diag);
    if (e == AVOW_OK) {
        int won = 0;
        e = consume_step(n, nonce, len, now, &won, diag);
        if (e == AVOW_OK)
            e = won ? record_row(n, rec, diag) : lost(n, nonce, len, now, diag);
        e = tx_end(n, e, diag);
    }
    tx_unlock(n);
    return e;
}

static void copy_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t cap, size_t *len)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n > cap)
        n = cap;
    if (p != NULL && n > 0)
        memcpy(dst, p, n);
    if (len != NULL)
        *len = n;
}

static avow_err ns_ledger_query(void *impl, const char *serial, avow_issuance_cb cb, void *ctx,
                                avow_diag *diag)
{
    nsql *n = impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db,
                                "SELECT serial, subject, spki_sha256, request_sha256, nonce, "
                                "issued, not_after, ear, cert FROM issuances "
                                "WHERE ?1 IS NULL OR serial = ?1 ORDER BY rowid",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "prepare ledger query");
    if (serial != NULL)
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        avow_issuance row;
        memset(&row, 0, sizeof(row));
        const unsigned char *sn = sqlite3_column_text(st, 0);
        snprintf(row.serial, sizeof(row.serial), "%s", sn != NULL ? (const char *)sn : "");
        const unsigned char *subj = sqlite3_column_text(st, 1);
        row.subject = subj != NULL ? (const char *)subj : "";
        copy_blob(st, 2, row.spki_sha256, sizeof(row.spki_sha256), NULL);
        copy_blob(st, 3, row.request_sha256, sizeof(row.request_sha256), NULL);
        copy_blob(st, 4, row.nonce, sizeof(row.nonce), &row.nonce_len);
        row.issued = (time_t)sqlite3_column_int64(st, 5);
        row.not_after = (time_t)sqlite3_column_int64(st, 6);
        const unsigned char *ear = sqlite3_column_text(st, 7);
        row.ear_json = ear != NULL ? (const char *)ear : "";
        row.cert_der = sqlite3_column_blob(st, 8);
        row.cert_der_len = (size_t)sqlite3_column_bytes(st, 8);
        if (cb(ctx, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    avow_err e = rc == SQLITE_DONE ? AVOW_OK : db_fail(diag, n->db, rc, "read the ledger");
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

static const avow_nonce_store_ops SQLITE_OPS = {
    .size = sizeof(avow_nonce_store_ops),
    .name = "sqlite",
    .insert = ns_insert,
    .consume = ns_consume,
    .purge = ns_purge,
    .free = ns_free,
    .check = ns_check,
    .insert_bounded = ns_insert_bounded,
    .consume_record = ns_consume_record,
    .ledger_query = ns_ledger_query,
};

avow_err avow__sqlite_record_with(avow_nonce_store *s, const avow_issuance *rec,
                                  avow__consume_fn consume, void *ctx, avow_diag *diag)
{
    const avow_nonce_store_ops *ops = NULL;
    void *impl = NULL;
    avow__nonce_store_backend(s, &ops, &impl);
    if (ops != &SQLITE_OPS)
        return avow__fail(diag, AVOW_ERR_ARG, "ledger", "the ledger must be a SQLite store");
    nsql *n = impl;
    if (rec->cert_der_len > 0x7fffffff)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "ledger", "certificate too large");
    tx_lock(n);
    avow_err e = tx_begin(n, diag);
    if (e == AVOW_OK) {
        /* The row first: a duplicate serial must not cost the nonce. */
        e = record_row(n, rec, diag);
        if (e == AVOW_OK)
            e = consume(ctx, diag);
        e = tx_end(n, e, diag);
    }
    tx_unlock(n);
    return e;
}

static const char NONCES_TABLE[] = "CREATE TABLE nonces ("
                                   " nonce BLOB PRIMARY KEY NOT NULL,"
                                   " issued INTEGER NOT NULL,"
                                   " expires INTEGER NOT NULL,"
                                   " used INTEGER NOT NULL DEFAULT 0);"
                                   "CREATE INDEX nonces_expires ON nonces (expires);";

static const char LEDGER_TABLE[] = "CREATE TABLE issuances ("
                                   " serial TEXT PRIMARY KEY NOT NULL,"
                                   " subject TEXT NOT NULL,"
                                   " spki_sha256 BLOB NOT NULL,"
                                   " request_sha256 BLOB NOT NULL,"
                                   " nonce BLOB NOT NULL,"
                                   " issued INTEGER NOT NULL,"
                                   " not_after INTEGER NOT NULL,"
                                   " ear TEXT NOT NULL,"
                                   " cert BLOB NOT NULL);"
                                   "PRAGMA user_version = 1;";

/* 1 when the statement prepares: the table and every named column exist. */
static int has_shape(sqlite3 *db, const char *select)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, select, -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    return ok;
}

static int table_exists(sqlite3 *db, const char *name, int *rc)
{
    sqlite3_stmt *st = NULL;
    *rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                             -1, &st, NULL);
    if (*rc != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    *rc = sqlite3_step(st);
    int found = *rc == SQLITE_ROW;
    if (*rc == SQLITE_ROW || *rc == SQLITE_DONE)
        *rc = SQLITE_OK;
    sqlite3_finalize(st);
    return found;
}

static int user_version(sqlite3 *db, int *rc)
{
    sqlite3_stmt *st = NULL;
    *rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    int v = -1;
    if (*rc == SQLITE_OK && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
        *rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return v;
}

/*
 * Brings the file to schema 1, or refuses it. Runs in a write transaction
 * only when something must be made, so opening a current store takes no
 * write lock.
 */
static avow_err schema(nsql *n, const char *path, unsigned flags, int locked, avow_diag *diag)
{
    int rc;
    int v = user_version(n->db, &rc);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "read the schema version");
    if (v > AVOW_NONCE_SQLITE_SCHEMA)
        return avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                          "%s has schema version %d; this avow knows %d", path, v,
                          AVOW_NONCE_SQLITE_SCHEMA);
    int nonces = table_exists(n->db, "nonces", &rc);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "read the schema");
    int ledger = table_exists(n->db, "issuances", &rc);
    if (rc != SQLITE_OK)
        return db_fail(diag, n->db, rc, "read the schema");
    if (nonces && !has_shape(n->db, "SELECT nonce, issued, expires, used FROM nonces LIMIT 0"))
        return avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                          "%s: table nonces is not an avow nonce table", path);
    if (ledger && !has_shape(n->db, "SELECT serial, subject, spki_sha256, request_sha256, nonce, "
                                    "issued, not_after, ear, cert FROM issuances LIMIT 0"))
        return avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                          "%s: table issuances is not an avow ledger", path);
    if (v == AVOW_NONCE_SQLITE_SCHEMA && nonces && ledger)
        return AVOW_OK;
    if (v == AVOW_NONCE_SQLITE_SCHEMA || (v == 0 && ledger))
        return avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                          "%s: schema version %d without its tables", path, v);
    if (!nonces && !(flags & AVOW_NONCE_STORE_CREATE))
        return avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                          "%s is not an avow nonce store (no table nonces)", path);
    if (!locked) {
        /* Create or upgrade under the write lock; another process may be doing the same. */
        avow_err e = tx_begin(n, diag);
        if (e == AVOW_OK)
            e = schema(n, path, flags, 1, diag);
        return tx_end(n, e, diag);
    }
    if (!nonces && (rc = sqlite3_exec(n->db, NONCES_TABLE, NULL, NULL, NULL)) != SQLITE_OK)
        return db_fail(diag, n->db, rc, "create table nonces");
    if ((rc = sqlite3_exec(n->db, LEDGER_TABLE, NULL, NULL, NULL)) != SQLITE_OK)
        return db_fail(diag, n->db, rc, "create table issuances");
    return AVOW_OK;
}

avow_err avow_nonce_store_open_sqlite_ex(const char *path, unsigned flags, avow_nonce_store **out,
                                         avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce-store", "no path or output");
    nsql *n = OPENSSL_zalloc(sizeof(*n));
    if (n == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "nonce-store", "out of memory");
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
    if (flags & AVOW_NONCE_STORE_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &n->db, oflags, NULL);
    avow_err e = AVOW_OK;
    if (rc != SQLITE_OK) {
        e = (rc & 0xff) == SQLITE_CANTOPEN && !(flags & AVOW_NONCE_STORE_CREATE)
                ? avow__fail(diag, AVOW_ERR_STORE, "nonce-store",
                             "no nonce store at %s (not created here: it must exist)", path)
                : db_fail(diag, n->db, rc, "open");
        if (diag != NULL && e == AVOW_ERR_STORE)
            diag->backend = (unsigned long)(unsigned)rc;
        goto fail;
    }
    sqlite3_extended_result_codes(n->db, 1);
    sqlite3_busy_timeout(n->db, BUSY_TIMEOUT_MS);
    /* SQLite falls back to read-only without a word; a store that cannot
     * record a used nonce would accept it again. */
    if (sqlite3_db_readonly(n->db, "main") == 1) {
        e = avow__fail(diag, AVOW_ERR_STORE, "nonce-store", "%s is read-only", path);
        goto fail;
    }
    /* WAL: readers and the writer do not block each other; FULL sync: a
     * consumed nonce stays consumed across a power cut (no replay window). */
    rc = sqlite3_exec(n->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = db_fail(diag, n->db, rc, "set WAL mode");
        goto fail;
    }
    e = schema(n, path, flags, 0, diag);
    if (e != AVOW_OK)
        goto fail;
    e = avow_nonce_store_new(&SQLITE_OPS, n, out, diag);
    if (e != AVOW_OK) {
        avow__fail(diag, e, "nonce-store", "out of memory");
        goto fail;
    }
    return AVOW_OK;
fail:
    ns_free(n);
    return e;
}

avow_err avow_nonce_store_open_sqlite(const char *path, avow_nonce_store **out, avow_diag *diag)
{
    return avow_nonce_store_open_sqlite_ex(path, AVOW_NONCE_STORE_CREATE, out, diag);
}
