/*
 * What the ratio benchmarks of one signature share: the raw OpenSSL verify
 * they are measured against, ECDSA r||s as the DER that verify takes, and
 * a statement through the registry row with the expected nonce.
 */
#ifndef AVOW_BENCH_VERIFY_H
#define AVOW_BENCH_VERIFY_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <avow/avow.h>

/* Set-up failed: says what and why, exits 2 (a benchmark that cannot set up measures nothing). */
static inline int bench_die(const char *what, avow_err rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, avow_strerror(rc));
    exit(2);
}

/* One EVP_DigestVerify with SHA-256 of sig over tbs by key: 0 when it verifies. */
static inline int bench_sha256_verify(EVP_PKEY *key, const uint8_t *sig, size_t sig_len,
                                      const uint8_t *tbs, size_t tbs_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : 1;
}

/* The ECDSA signature rs[0..2*half) (r then s) as a DER ECDSA-Sig-Value; exits on failure. */
static inline void bench_rs_der(const uint8_t *rs, size_t half, avow_buf *der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)half, NULL), *s = BN_bin2bn(rs + half, (int)half, NULL);
    unsigned char *p = NULL;
    int n = 0;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1 ||
        (n = i2d_ECDSA_SIG(sig, &p)) <= 0) {
        fprintf(stderr, "bench: cannot make the DER signature\n");
        exit(2);
    }
    ECDSA_SIG_free(sig);
    der->ptr = p;
    der->len = (size_t)n;
}

/* The statement stmt of type oid through its registry row with the nonce: 0 when it verifies. */
static inline int bench_statement_verify(const avow_verifier *v, const avow_oid *oid,
                                         const avow_buf *stmt, const uint8_t *nonce, size_t n)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = nonce;
    o.nonce_len = n;
    avow_statement_result *r = NULL;
    avow_err rc =
        avow_statement_verify(v, NULL, oid->der, oid->len, stmt->ptr, stmt->len, &o, &r, NULL);
    avow_statement_result_free(r);
    return rc == AVOW_OK ? 0 : 1;
}

#endif
