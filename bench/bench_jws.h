/* What the JWS benchmarks share: a compact ES256 JWS as the bytes a raw verify takes. */
#ifndef AVOW_BENCH_JWS_H
#define AVOW_BENCH_JWS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>

#include <avow/jose.h>

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
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (dot == NULL || sig == NULL ||
        avow_b64url_decode(dot + 1, strlen(dot + 1), &raw, NULL) != AVOW_OK || raw.len != 64) {
        fprintf(stderr, "bench: not a compact ES256 JWS\n");
        exit(2);
    }
    BIGNUM *r = BN_bin2bn(raw.ptr, 32, NULL), *sv = BN_bin2bn(raw.ptr + 32, 32, NULL);
    unsigned char *p = NULL;
    int n = 0;
    if (r == NULL || sv == NULL || ECDSA_SIG_set0(sig, r, sv) != 1 ||
        (n = i2d_ECDSA_SIG(sig, &p)) <= 0) {
        fprintf(stderr, "bench: cannot make the DER signature\n");
        exit(2);
    }
    der->ptr = p;
    der->len = (size_t)n;
    ECDSA_SIG_free(sig);
    avow_buf_free(&raw);
    *input_len = (size_t)(dot - s);
}

/* One ES256 verify of input[0..n) with key: 0 when it verifies. */
static int bench_es256_verify(EVP_PKEY *key, const avow_buf *tok, size_t n, const avow_buf *sig)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m != NULL && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(m, sig->ptr, sig->len, tok->ptr, n) == 1;
    EVP_MD_CTX_free(m);
    return !ok;
}

#endif
