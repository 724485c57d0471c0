/*
 * Nonce store: issue / consume once / replay / unknown / expired, purge,
 * persistence across close and reopen, two handles and several processes
 * on one file, and a back end plugged in through the ops table.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/avow-nonce-XXXXXX");
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

static avow_nonce_store *open_store(const fixture *f)
{
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    avow_err rc = avow_nonce_store_open_sqlite(f->path, &s, &d);
    if (rc != AVOW_OK)
        fail_msg("open %s: %s", f->path, d.detail);
    assert_string_equal(avow_nonce_store_name(s), "sqlite");
    return s;
}

static void test_issue_consume_replay(void **state)
{
    avow_nonce_store *s = open_store(*state);
    avow_buf n = {0};
    avow_diag d = {0};
    assert_int_equal(avow_nonce_issue(s, 0, 0, 0, &n, &d), AVOW_OK);
    assert_int_equal(n.len, AVOW_NONCE_DEFAULT_LEN);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(d.code, AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 0, &d), AVOW_ERR_NONCE_REPLAY);
    avow_buf_free(&n);

    /* Two nonces are independent. */
    avow_buf a = {0}, b = {0};
    assert_int_equal(avow_nonce_issue(s, 16, 60, 0, &a, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 64, 60, 0, &b, NULL), AVOW_OK);
    assert_int_equal(a.len, 16);
    assert_int_equal(b.len, 64);
    assert_int_equal(avow_nonce_consume(s, b.ptr, b.len, 0, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, a.ptr, a.len, 0, NULL), AVOW_OK);
    avow_buf_free(&a);
    avow_buf_free(&b);
    avow_nonce_store_free(s);
    TU_NO_OSSL_ERR();
}

static void test_lengths(void **state)
{
    avow_nonce_store *s = open_store(*state);
    avow_buf n = {0};
    avow_diag d = {0};
    assert_int_equal(avow_nonce_issue(s, 15, 60, 0, &n, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "nonce.len");
    assert_null(n.ptr);
    assert_int_equal(avow_nonce_issue(s, 65, 60, 0, &n, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_issue(NULL, 32, 60, 0, &n, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_nonce_consume(NULL, NULL, 0, 0, &d), AVOW_ERR_ARG);
    avow_nonce_store_free(s);
    avow_nonce_store_free(NULL);
}

static void test_unknown(void **state)
{
    avow_nonce_store *s = open_store(*state);
    uint8_t never[32];
    assert_int_equal(RAND_bytes(never, sizeof(never)), 1);
    avow_diag d = {0};
    assert_int_equal(avow_nonce_consume(s, never, sizeof(never), 0, &d), AVOW_ERR_NONCE_UNKNOWN);
    assert_int_equal(d.code, AVOW_ERR_NONCE_UNKNOWN);
    /* Lengths no issued nonce has. */
    assert_int_equal(avow_nonce_consume(s, never, 8, 0, &d), AVOW_ERR_NONCE_UNKNOWN);
    assert_int_equal(avow_nonce_consume(s, NULL, 0, 0, &d), AVOW_ERR_NONCE_UNKNOWN);
    avow_nonce_store_free(s);
}

static void test_expired(void **state)
{
    avow_nonce_store *s = open_store(*state);
    avow_buf a = {0}, b = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 60, 1000, &a, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 32, 60, 1000, &b, NULL), AVOW_OK);
    avow_diag d = {0};
    assert_int_equal(avow_nonce_consume(s, a.ptr, a.len, 1061, &d), AVOW_ERR_NONCE_EXPIRED);
    assert_int_equal(d.code, AVOW_ERR_NONCE_EXPIRED);
    /* Expired stays expired, and is not consumed by the failed attempt. */
    assert_int_equal(avow_nonce_consume(s, a.ptr, a.len, 1062, NULL), AVOW_ERR_NONCE_EXPIRED);
    /* The last second of validity is still valid; afterwards it is a replay. */
    assert_int_equal(avow_nonce_consume(s, b.ptr, b.len, 1060, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, b.ptr, b.len, 1061, NULL), AVOW_ERR_NONCE_REPLAY);
    avow_buf_free(&a);
    avow_buf_free(&b);
    avow_nonce_store_free(s);
}

static void test_purge(void **state)
{
    avow_nonce_store *s = open_store(*state);
    avow_buf old = {0}, fresh = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 10, 1000, &old, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 32, 10, 5000, &fresh, NULL), AVOW_OK);
    size_t removed = 99;
    /* Within the grace period nothing goes. */
    assert_int_equal(avow_nonce_purge(s, 1020, 60, &removed, NULL), AVOW_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(avow_nonce_purge(s, 2000, 0, &removed, NULL), AVOW_OK);
    assert_int_equal(removed, 1);
    /* A purged nonce is still refused. */
    assert_int_equal(avow_nonce_consume(s, old.ptr, old.len, 2000, NULL), AVOW_ERR_NONCE_UNKNOWN);
    assert_int_equal(avow_nonce_consume(s, fresh.ptr, fresh.len, 5005, NULL), AVOW_OK);
    avow_buf_free(&old);
    avow_buf_free(&fresh);
    avow_nonce_store_free(s);
}

static void test_survives_reopen(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = open_store(f);
    avow_buf a = {0}, b = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &a, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &b, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, a.ptr, a.len, 0, NULL), AVOW_OK);
    avow_nonce_store_free(s);

    s = open_store(f);
    assert_int_equal(avow_nonce_consume(s, a.ptr, a.len, 0, NULL), AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(avow_nonce_consume(s, b.ptr, b.len, 0, NULL), AVOW_OK);
    avow_nonce_store_free(s);

    s = open_store(f);
    assert_int_equal(avow_nonce_consume(s, b.ptr, b.len, 0, NULL), AVOW_ERR_NONCE_REPLAY);
    avow_nonce_store_free(s);
    avow_buf_free(&a);
    avow_buf_free(&b);
}

static void test_two_handles(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s1 = open_store(f), *s2 = open_store(f);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s1, 32, 600, 0, &n, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s2, n.ptr, n.len, 0, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s1, n.ptr, n.len, 0, NULL), AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(avow_nonce_consume(s2, n.ptr, n.len, 0, NULL), AVOW_ERR_NONCE_REPLAY);
    avow_buf_free(&n);
    assert_int_equal(avow_nonce_issue(s2, 32, 600, 0, &n, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s1, n.ptr, n.len, 0, NULL), AVOW_OK);
    avow_buf_free(&n);
    avow_nonce_store_free(s1);
    avow_nonce_store_free(s2);
}

/* Several processes race for one nonce: exactly one wins, the rest see a replay. */
static void test_processes_race(void **state)
{
    fixture *f = *state;
    avow_nonce_store *s = open_store(f);
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 32, 600, 0, &n, NULL), AVOW_OK);
    avow_nonce_store_free(s);

    enum { NPROC = 6 };
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            avow_nonce_store *c = NULL;
            if (avow_nonce_store_open_sqlite(f->path, &c, NULL) != AVOW_OK)
                _exit(3);
            avow_err rc = avow_nonce_consume(c, n.ptr, n.len, 0, NULL);
            avow_nonce_store_free(c);
            _exit(rc == AVOW_OK ? 0 : rc == AVOW_ERR_NONCE_REPLAY ? 1 : 2);
        }
    }
    int wins = 0, replays = 0;
    for (int i = 0; i < NPROC; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 0)
            wins++;
        else if (WEXITSTATUS(st) == 1)
            replays++;
    }
    assert_int_equal(wins, 1);
    assert_int_equal(replays, NPROC - 1);
    avow_buf_free(&n);
}

/* A back end through the ops table: a one-slot memory store. */
typedef struct slot {
    uint8_t nonce[64];
    size_t len;
    time_t expires;
    int used, freed;
} slot;

static avow_err m_insert(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                         time_t expires, avow_diag *diag)
{
    (void)issued;
    (void)diag;
    slot *s = impl;
    memcpy(s->nonce, nonce, len);
    s->len = len;
    s->expires = expires;
    s->used = 0;
    return AVOW_OK;
}

static avow_err m_consume(void *impl, const uint8_t *nonce, size_t len, time_t now, avow_diag *diag)
{
    (void)diag;
    slot *s = impl;
    if (len != s->len || memcmp(nonce, s->nonce, len) != 0)
        return AVOW_ERR_NONCE_UNKNOWN;
    if (s->used)
        return AVOW_ERR_NONCE_REPLAY;
    if (s->expires < now)
        return AVOW_ERR_NONCE_EXPIRED;
    s->used = 1;
    return AVOW_OK;
}

static avow_err m_purge(void *impl, time_t before, size_t *removed, avow_diag *diag)
{
    (void)impl;
    (void)before;
    (void)diag;
    if (removed != NULL)
        *removed = 0;
    return AVOW_OK;
}

static void m_free(void *impl)
{
    ((slot *)impl)->freed = 1;
}

static void test_ops_table(void **state)
{
    (void)state;
    static const avow_nonce_store_ops ops = {.size = sizeof(avow_nonce_store_ops),
                                             .name = "memory",
                                             .insert = m_insert,
                                             .consume = m_consume,
                                             .purge = m_purge,
                                             .free = m_free};
    static const avow_nonce_store_ops incomplete = {.size = sizeof(avow_nonce_store_ops),
                                                    .name = "broken",
                                                    .insert = m_insert,
                                                    .purge = m_purge,
                                                    .free = m_free};
    slot sl = {0};
    avow_nonce_store *s = NULL;
    assert_int_equal(avow_nonce_store_new(&incomplete, &sl, &s, NULL), AVOW_ERR_ARG);
    assert_null(s);
    assert_int_equal(avow_nonce_store_new(&ops, &sl, &s, NULL), AVOW_OK);
    assert_string_equal(avow_nonce_store_name(s), "memory");
    avow_buf n = {0};
    assert_int_equal(avow_nonce_issue(s, 20, 30, 100, &n, NULL), AVOW_OK);
    assert_int_equal(sl.expires, 130);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 110, NULL), AVOW_OK);
    assert_int_equal(avow_nonce_consume(s, n.ptr, n.len, 110, NULL), AVOW_ERR_NONCE_REPLAY);
    /* What the back end does not offer is refused, not faked. */
    assert_int_equal(avow_nonce_check(s, n.ptr, n.len, 110, NULL), AVOW_ERR_UNSUPPORTED);
    avow_nonce_store_set_limit(s, 5);
    avow_buf n2 = {0};
    assert_int_equal(avow_nonce_issue(s, 20, 30, 100, &n2, NULL), AVOW_ERR_UNSUPPORTED);
    assert_null(n2.ptr);
    avow_buf_free(&n);
    avow_nonce_store_free(s);
    assert_int_equal(sl.freed, 1);
}

static void test_open_errors(void **state)
{
    (void)state;
    avow_nonce_store *s = NULL;
    avow_diag d = {0};
    assert_int_equal(avow_nonce_store_open_sqlite("/nonexistent-dir/x/nonces.db", &s, &d),
                     AVOW_ERR_STORE);
    assert_null(s);
    assert_true(d.backend != 0);
    assert_int_equal(avow_nonce_store_open_sqlite(NULL, &s, &d), AVOW_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_consume_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_race, setup, teardown),
        cmocka_unit_test(test_ops_table),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
