/*
 * The nonce stores under hostile conditions. SQLite: a missing, foreign,
 * corrupt, misshapen or newer file is refused rather than re-created; a
 * lock held by another process is a retryable AVOW_ERR_STORE_BUSY.
 * Every back end (SQLite; Redis with the ledger in SQLite; Redis with the
 * ledger in a stream) runs the same behavioural cases: the outstanding
 * bound, check-without-consume, the ledger written with the consumption
 * once even under a race of processes, and 2 processes x 4 threads racing
 * 200 nonces for exactly 200 acceptances. Redis: a real redis-server on
 * 127.0.0.1 started here (skipped only when it is not installed), URI
 * errors, an unreachable or refusing server, key prefixes, and a used
 * nonce that stays used across a kill -9 and restart (appendonly).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <avow/ledger.h>
#include <avow/nonce.h>
#include <avow/oauth.h>

enum backend { BK_SQLITE, BK_REDIS, BK_STREAM };

typedef struct fixture {
    char dir[64];
    char path[128];
    enum backend bk;
    char uri[256]; /* what open_fx opens */
} fixture;

/* --- a redis-server of our own on 127.0.0.1 --- */

typedef struct server {
    char exe[256]; /* "" when redis-server is not installed */
    char dir[64];
    int port;
    pid_t pid;
    int aof;
    int off; /* built without Redis */
} server;

static server srv;     /* the one the back-end cases share */
static server srv_aof; /* test_redis_restart's, stopped by teardown even on failure */
static unsigned seq;   /* a fresh key prefix per test */

static int find_exe(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s:/usr/bin:/usr/sbin", path != NULL ? path : "");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return 1;
    }
    out[0] = '\0';
    return 0;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void srv_uri(const server *v, const char *params, char *out, size_t cap)
{
    snprintf(out, cap, "redis://127.0.0.1:%d/0%s%s", v->port, params[0] != '\0' ? "?" : "", params);
}

/* Starts (or restarts, same port and directory) and waits until it answers. */
static int srv_start(server *v)
{
    char port[16], log[128], sock[128];
    snprintf(port, sizeof(port), "%d", v->port);
    snprintf(log, sizeof(log), "%s/redis.log", v->dir);
    snprintf(sock, sizeof(sock), "%s/redis.sock", v->dir);
    v->pid = fork();
    if (v->pid < 0)
        return -1;
    if (v->pid == 0) {
        execl(v->exe, v->exe, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly",
              v->aof ? "yes" : "no", "--appendfsync", "always", "--dir", v->dir, "--logfile", log,
              "--unixsocket", sock, "--busy-reply-threshold", "100", "--enable-debug-command",
              "local", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    char uri[128];
    srv_uri(v, "", uri, sizeof(uri));
    for (int i = 0; i < 200; i++) {
        avow_nonce_store *s = NULL;
        if (avow_nonce_store_open_uri(uri, 0, NULL, &s, NULL) == AVOW_OK) {
            avow_nonce_store_free(s);
            return 0;
        }
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redis-server did not answer on port %d (see %s)\n", v->port, log);
    return -1;
}

static void srv_stop(server *v, int sig)
{
    if (v->pid <= 0)
        return;
    kill(v->pid, sig);
    waitpid(v->pid, NULL, 0);
    v->pid = 0;
}

static int srv_new(server *v, int aof)
{
    memset(v, 0, sizeof(*v));
    if (!find_exe("redis-server", v->exe, sizeof(v->exe)))
        return 0; /* the cases skip, saying why */
    avow_nonce_store *s = NULL;
    if (avow_nonce_store_open_uri("redis://127.0.0.1:1", 0, NULL, &s, NULL) ==
        AVOW_ERR_UNSUPPORTED) {
        v->exe[0] = '\0'; /* a build without Redis (AVOW_WITH_REDIS=OFF) */
        v->off = 1;
        return 0;
    }
    snprintf(v->dir, sizeof(v->dir), "/tmp/avow-redis-XXXXXX");
    if (mkdtemp(v->dir) == NULL)
        return -1;
    v->port = free_port();
    v->aof = aof;
    return srv_start(v);
}

static void srv_free(server *v)
{
    srv_stop(v, SIGTERM);
    if (v->dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", v->dir);
    }
}

static int group_up(void **state)
{
    (void)state;
    return srv_new(&srv, 0) == 0 ? 0 : -1;
}

static int group_down(void **state)
{
    (void)state;
    srv_free(&srv);
    return 0;
}

/* Skips a Redis case, saying why, only when redis-server is not installed. */
static void need(const fixture *f)
{
    if (f->bk != BK_SQLITE && srv.exe[0] == '\0') {
        print_message(srv.off ? "SKIP: this avow was built without Redis (AVOW_WITH_REDIS=OFF)\n"
                              : "SKIP: redis-server is not installed (scripts/deps test installs "
                                "it)\n");
        skip();
    }
}

static int setup_bk(void **state, enum backend bk)
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
    f->bk = bk;
    char params[96];
    snprintf(params, sizeof(params), "prefix=t%u.%ld%s", ++seq, (long)getpid(),
             bk == BK_STREAM ? "&ledger=stream" : "");
    if (bk == BK_SQLITE)
        snprintf(f->uri, sizeof(f->uri), "sqlite:%s", f->path);
    else
        srv_uri(&srv, params, f->uri, sizeof(f->uri));
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_bk(state, BK_SQLITE);
}

static int setup_redis(void **state)
{
    return setup_bk(state, BK_REDIS);
}

static int setup_stream(void **state)
{
    return setup_bk(state, BK_STREAM);
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
    srv_free(&srv_aof);
    memset(&srv_aof, 0, sizeof(srv_aof));
    return 0;
}

/* The fixture's store; the Redis one keeps its ledger in f->path (unless ledger=stream). */
static avow_err open_fx(const fixture *f, unsigned flags, avow_nonce_store **s, avow_diag *d)
{
    avow_nonce_store_open_opts o;
    avow_nonce_store_open_opts_init(&o);
    o.ledger = f->path;
    return avow_nonce_store_open_uri(f->uri, flags, &o, s, d);
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
    need(f);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
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
    need(f);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
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
    need(f);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
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
    assert_int_equal(open_fx(f, 0, &s, &d), AVOW_OK);
    assert_int_equal(rows(s), 1);
    avow_buf_free(&n1);
    avow_buf_free(&n2);
    avow_nonce_store_free(s);
}

/* Processes race to consume one nonce and record a certificate each: one row, one winner. */
static void test_ledger_race(void **state)
{
    fixture *f = *state;
    need(f);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
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
            if (open_fx(f, 0, &c, NULL) != AVOW_OK)
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
    assert_int_equal(open_fx(f, 0, &s, &d), AVOW_OK);
    assert_int_equal(rows(s), 1);
    avow_nonce_store_free(s);
    avow_buf_free(&n);
}

/* --- 2 processes x 4 threads race 200 nonces: each accepted exactly once --- */

enum { RACE_NONCES = 200, RACE_PROCS = 2, RACE_THREADS = 4 };

typedef struct racer {
    avow_nonce_store *s;
    const uint8_t (*nonces)[16];
    unsigned char *won; /* per nonce, this process */
    pthread_mutex_t *mu;
    int errors;
} racer;

static void *race_thread(void *arg)
{
    racer *r = arg;
    for (size_t i = 0; i < RACE_NONCES; i++) {
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = avow_nonce_consume(r->s, r->nonces[i], 16, 0, &d);
        pthread_mutex_lock(r->mu);
        if (rc == AVOW_OK)
            r->won[i]++;
        else if (rc != AVOW_ERR_NONCE_REPLAY)
            r->errors++;
        pthread_mutex_unlock(r->mu);
    }
    return NULL;
}

static void test_race_200(void **state)
{
    fixture *f = *state;
    need(f);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
    static uint8_t nonces[RACE_NONCES][16];
    for (size_t i = 0; i < RACE_NONCES; i++) {
        avow_buf n = {0};
        assert_int_equal(avow_nonce_issue(s, 16, 600, 0, &n, &d), AVOW_OK);
        memcpy(nonces[i], n.ptr, 16);
        avow_buf_free(&n);
    }
    avow_nonce_store_free(s);
    int pipes[RACE_PROCS][2];
    pid_t pids[RACE_PROCS];
    for (int p = 0; p < RACE_PROCS; p++) {
        assert_int_equal(pipe(pipes[p]), 0);
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] != 0) {
            close(pipes[p][1]);
            continue;
        }
        /* Each process is an instance with its own store handle. */
        unsigned char won[RACE_NONCES + 1] = {0};
        avow_nonce_store *c = NULL;
        if (open_fx(f, 0, &c, NULL) != AVOW_OK)
            _exit(3);
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        racer r = {c, (const uint8_t(*)[16])nonces, won, &mu, 0};
        pthread_t t[RACE_THREADS];
        for (int k = 0; k < RACE_THREADS; k++)
            if (pthread_create(&t[k], NULL, race_thread, &r) != 0)
                _exit(4);
        for (int k = 0; k < RACE_THREADS; k++)
            pthread_join(t[k], NULL);
        avow_nonce_store_free(c);
        won[RACE_NONCES] = (unsigned char)(r.errors > 255 ? 255 : r.errors);
        _exit(write(pipes[p][1], won, sizeof(won)) == (ssize_t)sizeof(won) ? 0 : 5);
    }
    unsigned total[RACE_NONCES] = {0};
    unsigned sum = 0;
    for (int p = 0; p < RACE_PROCS; p++) {
        unsigned char won[RACE_NONCES + 1];
        size_t got = 0;
        while (got < sizeof(won)) {
            ssize_t k = read(pipes[p][0], won + got, sizeof(won) - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        close(pipes[p][0]);
        int st = 0;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(got, sizeof(won));
        assert_int_equal(won[RACE_NONCES], 0); /* no store errors */
        for (size_t i = 0; i < RACE_NONCES; i++) {
            total[i] += won[i];
            sum += won[i];
        }
    }
    for (size_t i = 0; i < RACE_NONCES; i++)
        if (total[i] != 1)
            fail_msg("nonce %zu accepted %u times", i, total[i]);
    assert_int_equal(sum, RACE_NONCES);
}

/* --- Redis only --- */

static void expect_uri(const char *uri, avow_err want)
{
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    avow_err rc = avow_nonce_store_open_uri(uri, 0, NULL, &s, &d);
    if (rc != want)
        fail_msg("%s: %s (%s), wanted %s", uri, avow_errname(rc), d.detail, avow_errname(want));
    assert_null(s);
    assert_null(strstr(d.detail, "s3cret")); /* a password is never quoted */
}

static void test_redis_uri(void **state)
{
    fixture *f = *state;
    need(f);
    char uri[256];
    expect_uri("redis://", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1:0", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1:65536", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1:x", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1/abc", AVOW_ERR_ARG);
    expect_uri("redis://user@127.0.0.1", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1?colour=blue", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1?prefix=a%20b", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1?grace", AVOW_ERR_ARG);
    expect_uri("redis://127.0.0.1?timeout_ms=0", AVOW_ERR_ARG);
    expect_uri("unix:", AVOW_ERR_ARG);
    expect_uri("memcached://127.0.0.1", AVOW_ERR_ARG);
    expect_uri("sqlite:", AVOW_ERR_ARG);
    /* Nobody listens: busy (retry later), named as Redis's. */
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0", free_port());
    assert_int_equal(avow_nonce_store_open_uri(uri, 0, NULL, &s, &d), AVOW_ERR_STORE_BUSY);
    assert_int_equal(d.source, AVOW_BACKEND_REDIS);
    assert_non_null(strstr(d.detail, "127.0.0.1"));
    expect_uri("unix:/nonexistent/redis.sock", AVOW_ERR_STORE_BUSY);
    /* A password the server does not take is a configuration fault, not busy. */
    snprintf(uri, sizeof(uri), "redis://:s3cret@127.0.0.1:%d/0", srv.port);
    expect_uri(uri, AVOW_ERR_STORE);
    /* A database Redis does not have. */
    srv_uri(&srv, "db=999999", uri, sizeof(uri));
    expect_uri(uri, AVOW_ERR_STORE);
    /* A bad prefix in the options. */
    avow_nonce_store_open_opts o;
    avow_nonce_store_open_opts_init(&o);
    o.key_prefix = "a b";
    assert_int_equal(avow_nonce_store_open_uri(f->uri, 0, &o, &s, &d), AVOW_ERR_ARG);
    o.size = 3;
    assert_int_equal(avow_nonce_store_open_uri(f->uri, 0, &o, &s, &d), AVOW_ERR_ARG);
}

static void test_redis_basics(void **state)
{
    fixture *f = *state;
    need(f);
    avow_nonce_store *s = NULL, *other = NULL, *bare = NULL;
    avow_diag d = {0};
    assert_int_equal(open_fx(f, AVOW_NONCE_STORE_CREATE, &s, &d), AVOW_OK);
    assert_string_equal(avow_nonce_store_name(s), "redis");
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 60, 0, &n, &d), AVOW_OK);
    /* Another prefix is another store on the same server. */
    avow_nonce_store_open_opts o;
    avow_nonce_store_open_opts_init(&o);
    o.key_prefix = "someone-else";
    assert_int_equal(avow_nonce_store_open_uri(f->uri, 0, &o, &other, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(other, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_UNKNOWN);
    /* Used stays used: REPLAY, not UNKNOWN, until well after its expiry. */
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    size_t removed = 9;
    assert_int_equal(avow_nonce_purge(s, 0, 0, &removed, &d), AVOW_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    /* The same server and prefix over its Unix socket is the same store. */
    char uri[256];
    const char *prefix = strstr(f->uri, "prefix=");
    snprintf(uri, sizeof(uri), "unix:%s/redis.sock?db=0&%s", srv.dir, prefix);
    avow_nonce_store *sock = NULL;
    assert_int_equal(avow_nonce_store_open_uri(uri, 0, NULL, &sock, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(sock, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    avow_buf u = {0};
    assert_int_equal(avow_nonce_issue(sock, 16, 60, 0, &u, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, u.ptr, u.len, 0, &d), AVOW_OK);
    avow_buf_free(&u);
    avow_nonce_store_free(sock);
    /* Without a ledger a redis store issues nonces but records nothing. */
    assert_int_equal(avow_nonce_store_open_uri(f->uri, 0, NULL, &bare, &d), AVOW_OK);
    avow_buf m = {0};
    assert_int_equal(avow_nonce_issue(bare, 16, 60, 0, &m, &d), AVOW_OK);
    avow_issuance r = record("01", &m);
    assert_int_equal(avow_nonce_consume_record(bare, m.ptr, m.len, 0, &r, &d),
                     AVOW_ERR_UNSUPPORTED);
    assert_int_equal(avow_nonce_check(bare, m.ptr, m.len, 0, &d), AVOW_OK);
    avow_buf_free(&n);
    avow_buf_free(&m);
    avow_nonce_store_free(s);
    avow_nonce_store_free(other);
    avow_nonce_store_free(bare);
}

/* The jti replay set over the same Redis: SET NX EXAT, shared by every handle of one prefix. */
static void test_redis_replay(void **state)
{
    fixture *f = *state;
    need(f);
    avow_oauth_replay *a = NULL, *b = NULL, *other = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_oauth_replay_open_uri(f->uri, &a, &d), AVOW_OK);
    assert_int_equal(avow_oauth_replay_open_uri(f->uri, &b, &d), AVOW_OK);
    char uri[300];
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0?prefix=replay-other-%u", srv.port, seq);
    assert_int_equal(avow_oauth_replay_open_uri(uri, &other, &d), AVOW_OK);
    const uint8_t k1[32] = {1, 2, 3}, k2[32] = {9};
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(avow_oauth_replay_seen(a, k1, sizeof(k1), now, &d), AVOW_OK);
    assert_int_equal(avow_oauth_replay_insert(a, k1, sizeof(k1), now + 60, now, &d), AVOW_OK);
    /* another handle on the same prefix (another instance) sees it */
    assert_int_equal(avow_oauth_replay_insert(b, k1, sizeof(k1), now + 60, now, &d),
                     AVOW_ERR_OAUTH_REPLAY);
    assert_int_equal(avow_oauth_replay_seen(b, k1, sizeof(k1), now, &d), AVOW_ERR_OAUTH_REPLAY);
    assert_int_equal(avow_oauth_replay_insert(b, k2, sizeof(k2), now + 60, now, &d), AVOW_OK);
    /* another prefix is another set */
    assert_int_equal(avow_oauth_replay_insert(other, k1, sizeof(k1), now + 60, now, &d), AVOW_OK);
    /* an expiry already past still refuses the second use within the second */
    const uint8_t k3[8] = {7};
    assert_int_equal(avow_oauth_replay_insert(a, k3, sizeof(k3), now - 5, now, &d), AVOW_OK);
    assert_int_equal(avow_oauth_replay_insert(b, k3, sizeof(k3), now - 5, now, &d),
                     AVOW_ERR_OAUTH_REPLAY);
    size_t removed = 9;
    assert_int_equal(avow_oauth_replay_purge(a, now, &removed, &d), AVOW_OK);
    assert_int_equal(removed, 0);
    /* arguments: a key of 0 or 65 bytes, a stream ledger, nothing listening */
    uint8_t big[65] = {0};
    assert_int_equal(avow_oauth_replay_insert(a, big, sizeof(big), now + 60, now, &d),
                     AVOW_ERR_ARG);
    assert_int_equal(avow_oauth_replay_insert(a, big, 0, now + 60, now, &d), AVOW_ERR_ARG);
    avow_oauth_replay *bad = NULL;
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0?ledger=stream", srv.port);
    assert_int_equal(avow_oauth_replay_open_uri(uri, &bad, &d), AVOW_ERR_ARG);
    assert_null(bad);
    assert_int_not_equal(avow_oauth_replay_open_uri("redis://127.0.0.1:1/0", &bad, &d), AVOW_OK);
    assert_null(bad);
    assert_int_equal(avow_oauth_replay_open_uri(NULL, &bad, &d), AVOW_ERR_ARG);
    /* sqlite:PATH and a plain path are the SQLite set */
    char path[200];
    snprintf(path, sizeof(path), "sqlite:%s/replay.db", f->dir);
    avow_oauth_replay *lite = NULL;
    assert_int_equal(avow_oauth_replay_open_uri(path, &lite, &d), AVOW_OK);
    assert_int_equal(avow_oauth_replay_insert(lite, k1, sizeof(k1), now + 60, now, &d), AVOW_OK);
    avow_oauth_replay_free(lite);
    lite = NULL;
    assert_int_equal(avow_oauth_replay_open_uri(path + 7, &lite, &d), AVOW_OK);
    assert_int_equal(avow_oauth_replay_insert(lite, k1, sizeof(k1), now + 60, now, &d),
                     AVOW_ERR_OAUTH_REPLAY);
    avow_oauth_replay_free(lite);
    avow_oauth_replay_free(a);
    avow_oauth_replay_free(b);
    avow_oauth_replay_free(other);
}

/* redis-cli -p PORT ARGS... in the background. */
static pid_t cli_bg(const char *exe, const char *const *args, size_t n)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.port);
    const char *argv[16] = {exe, "-p", port};
    for (size_t i = 0; i < n && i < 12; i++)
        argv[3 + i] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* A server that answers BUSY, or does not answer in time, is busy: retry later. */
static void test_redis_busy(void **state)
{
    fixture *f = *state;
    need(f);
    char cli[256];
    if (!find_exe("redis-cli", cli, sizeof(cli))) {
        print_message("SKIP: redis-cli is not installed\n");
        skip();
    }
    char uri[300];
    snprintf(uri, sizeof(uri), "%s&timeout_ms=300", f->uri);
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_uri(uri, 0, NULL, &s, &d), AVOW_OK);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &n, &d), AVOW_OK);
    struct timespec pause = {0, 300 * 1000 * 1000};
    /* A script that runs for 1.5 s: Redis answers others BUSY after 100 ms. */
    static const char spin_lua[] =
        "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
        "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 1500000 return 1";
    static const char *const spin[] = {"EVAL", spin_lua, "0"};
    pid_t pid = cli_bg(cli, spin, 3);
    assert_true(pid > 0);
    nanosleep(&pause, NULL);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_ERR_STORE_BUSY);
    assert_int_equal(d.source, AVOW_BACKEND_REDIS);
    assert_non_null(strstr(d.detail, "BUSY"));
    waitpid(pid, NULL, 0);
    /* A BUSY answer ran nothing: the nonce is still there to use. */
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_OK);
    /* The server asleep: no answer within timeout_ms. */
    avow_buf m = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &m, &d), AVOW_OK);
    static const char *const sleep1[] = {"DEBUG", "SLEEP", "1"};
    pid = cli_bg(cli, sleep1, 3);
    assert_true(pid > 0);
    nanosleep(&pause, NULL);
    assert_int_equal(avow_nonce_consume(s, m.ptr, m.len, 0, &d), AVOW_ERR_STORE_BUSY);
    assert_int_equal(d.source, AVOW_BACKEND_REDIS);
    waitpid(pid, NULL, 0);
    /* The timed-out consume was sent and ran when the server woke: the nonce
     * is used, though its caller was told "busy". Zero acceptances, never two. */
    assert_int_equal(avow_nonce_consume(s, m.ptr, m.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    avow_buf_free(&m);
    avow_buf_free(&n);
    avow_nonce_store_free(s);
}

/* A used nonce stays used when Redis is killed and restarted from its append-only file. */
static void test_redis_restart(void **state)
{
    fixture *f = *state;
    need(f);
    server *v = &srv_aof;
    assert_int_equal(srv_new(v, 1), 0);
    char uri[160];
    srv_uri(v, "prefix=restart", uri, sizeof(uri));
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_uri(uri, 0, NULL, &s, &d), AVOW_OK);
    avow_buf used = {0}, fresh = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &used, &d), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &fresh, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, used.ptr, used.len, 0, &d), AVOW_OK);
    srv_stop(v, SIGKILL);
    /* Down: busy, and nothing accepted. */
    assert_int_equal(avow_nonce_consume(s, fresh.ptr, fresh.len, 0, &d), AVOW_ERR_STORE_BUSY);
    assert_int_equal(d.source, AVOW_BACKEND_REDIS);
    assert_int_equal(srv_start(v), 0);
    /* The same handle reconnects; the server read its append-only file. */
    assert_int_equal(avow_nonce_consume(s, used.ptr, used.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(avow_nonce_consume(s, fresh.ptr, fresh.len, 0, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, fresh.ptr, fresh.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    avow_nonce_store_free(s);
    avow_buf_free(&used);
    avow_buf_free(&fresh);
}

#define BACKEND_CASES(set)                                                                         \
    cmocka_unit_test_setup_teardown(test_limit, set, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_check_does_not_consume, set, teardown),               \
        cmocka_unit_test_setup_teardown(test_ledger, set, teardown),                               \
        cmocka_unit_test_setup_teardown(test_ledger_race, set, teardown),                          \
        cmocka_unit_test_setup_teardown(test_race_200, set, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_not_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_schema0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_is_busy, setup, teardown),
        BACKEND_CASES(setup),
    };
    const struct CMUnitTest redis_tests[] = {
        BACKEND_CASES(setup_redis),
        cmocka_unit_test_setup_teardown(test_redis_uri, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_redis_basics, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_redis_replay, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_redis_busy, setup_redis, teardown),
        cmocka_unit_test_setup_teardown(test_redis_restart, setup_redis, teardown),
    };
    const struct CMUnitTest stream_tests[] = {
        BACKEND_CASES(setup_stream),
    };
    int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("redis", redis_tests, group_up, group_down);
    failed += cmocka_run_group_tests_name("redis-stream", stream_tests, group_up, group_down);
    return failed;
}
