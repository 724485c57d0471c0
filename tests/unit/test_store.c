/*
 * The SQLite store under hostile conditions: a missing, foreign, corrupt,
 * misshapen or newer file is refused rather than re-created; a lock held
 * by another process is a retryable AVOW_ERR_STORE_BUSY; the outstanding
 * bound; check-without-consume; and the ledger written in the same
 * transaction as the consumption, once, even under a race of processes.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/avow-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/nonces.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", text, err != NULL ? err : "?");
    sqlite3_close(db);
}

static void expect_refused(const fixture *f, const char *why)
{
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, &d), AVOW_ERR_STORE);
    assert_null(s);
    if (strstr(d.detail, why) == NULL)
        fail_msg("detail \"%s\" does not say \"%s\"", d.detail, why);
}

static void test_missing_not_created(void **state)
{
    fixture *f = *state;
    expect_refused(f, "no nonce store");
    struct stat st;
    assert_int_not_equal(stat(f->path, &st), 0); /* nothing was made */
    avow_nonce_store *s = NULL;
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, AVOW_NONCE_STORE_CREATE, &s, NULL),
                     AVOW_OK);
    avow_nonce_store_free(s);
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, NULL), AVOW_OK);
    avow_nonce_store_free(s);
}

static void test_foreign_files(void **state)
{
    fixture *f = *state;
    /* Not SQLite at all. */
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 256; i++)
        fputs("this is not a database file ", fp);
    fclose(fp);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, &d), AVOW_ERR_STORE);
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, AVOW_NONCE_STORE_CREATE, &s, &d),
                     AVOW_ERR_STORE);
    assert_true(d.backend != 0);
    unlink(f->path);
    /* SQLite, but someone else's. */
    sql(f->path, "CREATE TABLE t (x INTEGER);");
    expect_refused(f, "not an avow nonce store");
    unlink(f->path);
    /* A table called nonces of another shape. */
    sql(f->path, "CREATE TABLE nonces (nonce TEXT, when_issued INTEGER);");
    expect_refused(f, "not an avow nonce table");
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, AVOW_NONCE_STORE_CREATE, &s, &d),
                     AVOW_ERR_STORE);
    unlink(f->path);
    /* A newer schema. */
    sql(f->path, "PRAGMA user_version = 7;");
    expect_refused(f, "schema version 7");
}

static void test_upgrade_schema0(void **state)
{
    fixture *f = *state;
    /* What avow 0.1 wrote: the nonces table alone, user_version 0. */
    sql(f->path, "CREATE TABLE nonces (nonce BLOB PRIMARY KEY NOT NULL, issued INTEGER NOT NULL,"
                 " expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);");
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, &d), AVOW_OK);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &n, &d), AVOW_OK);
    avow_buf_free(&n);
    avow_nonce_store_free(s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), AVOW_NONCE_SQLITE_SCHEMA);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_locked_is_busy(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite(f->path, &s, &d), AVOW_OK);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &n, &d), AVOW_OK);
    /* Another writer holds the lock past the 5 s timeout. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    avow_buf n2 = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &n2, &d), AVOW_ERR_STORE_BUSY);
    assert_true((d.backend & 0xff) == SQLITE_BUSY);
    assert_non_null(strstr(d.detail, "locked"));
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_ERR_STORE_BUSY);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    /* Busy is passing: the same call works once the lock is gone. */
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_OK);
    avow_buf_free(&n);
    avow_nonce_store_free(s);
}

static void test_limit(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite(f->path, &s, &d), AVOW_OK);
    avow_nonce_store_set_limit(s, 3);
    avow_buf n[4] = {{0}};
    assert_int_equal(avow_nonce_issue(s, 16, 10, 1000, &n[0], &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1000, &n[1], &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1000, &n[2], &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1000, &n[3], &d), AVOW_ERR_NONCE_LIMIT);
    assert_null(n[3].ptr);
    assert_non_null(strstr(d.detail, "3 nonces are outstanding"));
    /* A used nonce is no longer outstanding... */
    assert_int_equal(avow_nonce_consume(s, n[1].ptr, n[1].len, 1001, &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1001, &n[3], &d), AVOW_OK);
    avow_buf_free(&n[3]);
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1001, &n[3], &d), AVOW_ERR_NONCE_LIMIT);
    /* ...nor is an expired one. */
    assert_int_equal(avow_nonce_issue(s, 16, 100, 1011, &n[3], &d), AVOW_OK);
    for (size_t i = 0; i < 4; i++)
        avow_buf_free(&n[i]);
    avow_nonce_store_free(s);
}

static void test_check_does_not_consume(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite(f->path, &s, &d), AVOW_OK);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 60, 1000, &n, &d), AVOW_OK);
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 1010, &d), AVOW_OK);
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 1010, &d), AVOW_OK);
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 1061, &d), AVOW_ERR_NONCE_EXPIRED);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 1010, &d), AVOW_OK);
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 1010, &d), AVOW_ERR_NONCE_REPLAY);
    uint8_t other[16] = {1};
    assert_int_equal(avow_nonce_check(s, other, sizeof(other), 1010, &d), AVOW_ERR_NONCE_UNKNOWN);
    assert_int_equal(avow_nonce_check(s, other, 3, 1010, &d), AVOW_ERR_NONCE_UNKNOWN);
    avow_buf_free(&n);
    avow_nonce_store_free(s);
}

static const uint8_t CERT[] = {0x30, 0x03, 0x02, 0x01, 0x05};

static avow_issuance record(const char *serial, const avow_buf *nonce)
{
    avow_issuance r;
    memset(&r, 0, sizeof(r));
    snprintf(r.serial, sizeof(r.serial), "%s", serial);
    r.subject = "CN=device 1,O=avow test";
    memset(r.spki_sha256, 0xaa, sizeof(r.spki_sha256));
    memset(r.request_sha256, 0xbb, sizeof(r.request_sha256));
    memcpy(r.nonce, nonce->ptr, nonce->len);
    r.nonce_len = nonce->len;
    r.issued = 1000;
    r.not_after = 2000;
    r.ear_json = "{\"ear_status\":\"affirming\"}";
    r.cert_der = CERT;
    r.cert_der_len = sizeof(CERT);
    return r;
}

static int count_row(void *ctx, const avow_issuance *row)
{
    (void)row;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t rows(avow_nonce_store *s)
{
    size_t n = 0;
    assert_int_equal(avow_ledger_foreach(s, count_row, &n, NULL), AVOW_OK);
    return n;
}

static void test_ledger(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite(f->path, &s, &d), AVOW_OK);
    avow_buf n1 = {0}, n2 = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 60, 1000, &n1, &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 32, 60, 1000, &n2, &d), AVOW_OK);
    avow_issuance r1 = record("0a1b", &n1);
    assert_int_equal(avow_nonce_consume_record(s, n1.ptr, n1.len, 1001, &r1, &d), AVOW_OK);
    /* The nonce is gone, and a second record for it is not written. */
    avow_issuance r1b = record("0c0d", &n1);
    assert_int_equal(avow_nonce_consume_record(s, n1.ptr, n1.len, 1001, &r1b, &d),
                     AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(rows(s), 1);
    /* A duplicate serial rolls the consumption back: the nonce stays usable. */
    avow_issuance dup = record("0a1b", &n2);
    assert_int_equal(avow_nonce_consume_record(s, n2.ptr, n2.len, 1001, &dup, &d),
                     AVOW_ERR_DUP_KEY);
    assert_int_equal(avow_nonce_check(s, n2.ptr, n2.len, 1001, &d), AVOW_OK);
    /* An incomplete record is refused before anything happens. */
    avow_issuance bad = record("0A1B", &n2);
    assert_int_equal(avow_nonce_consume_record(s, n2.ptr, n2.len, 1001, &bad, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_check(s, n2.ptr, n2.len, 1001, &d), AVOW_OK);
    assert_int_equal(rows(s), 1);

    avow_issuance *got = NULL;
    assert_int_equal(avow_ledger_find_serial(s, "0A:1B", &got, &d), AVOW_OK);
    assert_string_equal(got->serial, "0a1b");
    assert_string_equal(got->subject, r1.subject);
    assert_string_equal(got->ear_json, r1.ear_json);
    assert_int_equal(got->cert_der_len, sizeof(CERT));
    assert_memory_equal(got->cert_der, CERT, sizeof(CERT));
    assert_memory_equal(got->nonce, n1.ptr, n1.len);
    assert_int_equal(got->nonce_len, n1.len);
    assert_int_equal(got->issued, 1000);
    assert_int_equal(got->not_after, 2000);
    assert_memory_equal(got->spki_sha256, r1.spki_sha256, 32);
    avow_issuance_free(got);
    got = NULL;
    assert_int_equal(avow_ledger_find_serial(s, "0a1c", &got, &d), AVOW_ERR_NOT_FOUND);
    assert_null(got);
    assert_int_equal(avow_ledger_find_serial(s, "xyz", &got, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_ledger_find_serial(s, "0a1", &got, &d), AVOW_ERR_ARG);
    avow_nonce_store_free(s);

    /* The ledger survives a reopen, as the nonces do. */
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, &d), AVOW_OK);
    assert_int_equal(rows(s), 1);
    avow_buf_free(&n1);
    avow_buf_free(&n2);
    avow_nonce_store_free(s);
}

/* Processes race to consume one nonce and record a certificate each: one row, one winner. */
static void test_ledger_race(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite(f->path, &s, &d), AVOW_OK);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &n, &d), AVOW_OK);
    avow_nonce_store_free(s);
    enum { NPROC = 8 };
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            avow_nonce_store *c = NULL;
            if (avow_nonce_store_open_sqlite_ex(f->path, 0, &c, NULL) != AVOW_OK)
                _exit(3);
            char serial[8];
            snprintf(serial, sizeof(serial), "%02x", i + 1);
            avow_issuance r = record(serial, &n);
            avow_err rc = avow_nonce_consume_record(c, n.ptr, n.len, 0, &r, NULL);
            avow_nonce_store_free(c);
            _exit(rc == AVOW_OK ? 0 : rc == AVOW_ERR_NONCE_REPLAY ? 1 : 2);
        }
    }
    int won = 0, lost = 0;
    for (int i = 0; i < NPROC; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 0)
            won++;
        else if (WEXITSTATUS(st) == 1)
            lost++;
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, NPROC - 1);
    assert_int_equal(avow_nonce_store_open_sqlite_ex(f->path, 0, &s, &d), AVOW_OK);
    assert_int_equal(rows(s), 1);
    avow_nonce_store_free(s);
    avow_buf_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_not_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_schema0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_does_not_consume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_race, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
