/* What the JWS benchmarks share: a compact ES256 JWS as the bytes a raw verify takes. */
#ifndef AVOW_BENCH_JWS_H
#define AVOW_BENCH_JWS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <avow/jose.h>
#include <avow/oauth.h>
#include <avow/signer.h>

#include "bench_util.h"
#include "bench_verify.h"

/*
 * The DER signature (*der, avow_buf_free) and signing-input length of a
 * compact ES256 JWS, for EVP_DigestVerify over the same bytes. Exits on
 * anything else: a benchmark set-up that fails has nothing to measure.
 */
static void bench_jws_split(const avow_buf *jws, avow_buf *der, size_t *input_len)
{
    const char *s = (const char *)jws->ptr;
    const char *dot = strrchr(s, '.');
    avow_buf raw = {0};
    if (dot == NULL || avow_b64url_decode(dot + 1, strlen(dot + 1), &raw, NULL) != AVOW_OK ||
        raw.len != 64) {
        fprintf(stderr, "bench: not a compact ES256 JWS\n");
        exit(2);
    }
    bench_rs_der(raw.ptr, 32, der);
    avow_buf_free(&raw);
    *input_len = (size_t)(dot - s);
}

/* One ES256 verify of input[0..n) with key: 0 when it verifies. */
static int bench_es256_verify(EVP_PKEY *key, const avow_buf *tok, size_t n, const avow_buf *sig)
{
    return bench_sha256_verify(key, sig->ptr, sig->len, tok->ptr, n);
}

/*
 * The two P-256 keys of a token pair with their signers: the issuer's (the
 * attester, the identity server) and the holder's (the cnf key). Exits on
 * failure.
 */
static inline void bench_es256_keys(EVP_PKEY **iss, avow_signer **iss_signer, EVP_PKEY **holder,
                                    avow_signer **holder_signer)
{
    *iss = EVP_EC_gen("P-256");
    *holder = EVP_EC_gen("P-256");
    if (*iss == NULL || *holder == NULL ||
        avow_signer_new_pkey(*iss, AVOW_SIGALG_NONE, iss_signer, NULL) != AVOW_OK ||
        avow_signer_new_pkey(*holder, AVOW_SIGALG_NONE, holder_signer, NULL) != AVOW_OK) {
        fprintf(stderr, "bench: keys failed\n");
        exit(2);
    }
}

/* A SQLite replay set in /tmp named for tag and this process, its file name in path. */
static inline void bench_replay_open(const char *tag, char *path, size_t cap,
                                     avow_oauth_replay **out)
{
    snprintf(path, cap, "/tmp/avow-bench-%s-%ld.db", tag, (long)getpid());
    if (avow_oauth_replay_open_sqlite(path, out, NULL) != AVOW_OK) {
        fprintf(stderr, "bench: replay set failed\n");
        exit(2);
    }
}

/* Closes the replay set and removes its files (the database, its WAL and shared memory). */
static inline void bench_replay_close(avow_oauth_replay *r, const char *path)
{
    avow_oauth_replay_free(r);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        char f[96];
        snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
        unlink(f);
    }
}

/* The informative comparisons run for at most five rounds. */
static inline int bench_info_rounds(int rounds)
{
    return rounds > 5 ? 5 : rounds;
}

/* For information: the candidate without its key cache against the same raw verifies. */
static inline void bench_jws_nocache(void *arg, int rounds, double seconds, int (*raw)(void *),
                                     int (*nocache)(void *))
{
    bench_compare("for information: the same without a key cache (cnf JWK imported, "
                  "verifications set up per call)",
                  raw, nocache, arg, bench_info_rounds(rounds), seconds, 0);
}

/*
 * For information: one proof (named by proof: "PoP", "WPT") signed per
 * round on both sides, avow also recording its jti in a SQLite replay set
 * in /tmp, opened into *replay for the run and removed after it.
 */
static inline void bench_jws_replay(void *arg, int rounds, double seconds, int (*sign_raw)(void *),
                                    int (*with_replay)(void *), const char *proof, const char *tag,
                                    avow_oauth_replay **replay)
{
    char path[64], what[128];
    bench_replay_open(tag, path, sizeof(path), replay);
    snprintf(what, sizeof(what),
             "for information: each with one %s signed; avow also records the jti in SQLite",
             proof);
    bench_compare(what, sign_raw, with_replay, arg, bench_info_rounds(rounds), seconds, 0);
    bench_replay_close(*replay, path);
    *replay = NULL;
}

#endif
