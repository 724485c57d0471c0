/*
 * libFuzzer target for TPM key files (avow_tpm_key_check, what
 * avow_tpm_load reads before TPM2_Load; no TPM needed). The input is
 * framed as a pair: a 2-byte big-endian length L, then L bytes of .pub
 * (fewer when the input ends first), then the .priv to the end. The pair,
 * each part alone, and the whole input as either file are checked. A
 * TPM2B_PUBLIC that is accepted must marshal back to its own bytes and give
 * an SPKI OpenSSL reads; an accepted TPM2B_PRIVATE must marshal back too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include <avow/tpm.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pub_accepted(const uint8_t *pub, size_t n)
{
    TPM2B_PUBLIC p;
    memset(&p, 0, sizeof(p));
    size_t off = 0;
    FZ_CHECK(Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, n, &off, &p) == TSS2_RC_SUCCESS && off == n);
    uint8_t again[sizeof(TPM2B_PUBLIC)];
    size_t m = 0;
    p.size = 0;
    FZ_CHECK(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, again, sizeof(again), &m) == TSS2_RC_SUCCESS);
    FZ_CHECK(m == n && memcmp(again, pub, n) == 0);
    avow_buf spki = {0};
    FZ_CHECK(avow_tpm_public_spki(pub, n, &spki, NULL) == AVOW_OK);
    const unsigned char *q = spki.ptr;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &q, (long)spki.len);
    FZ_CHECK(k != NULL && q == spki.ptr + spki.len);
    EVP_PKEY_free(k);
    avow_buf_free(&spki);
}

static void priv_accepted(const uint8_t *priv, size_t n)
{
    TPM2B_PRIVATE k;
    memset(&k, 0, sizeof(k));
    size_t off = 0;
    FZ_CHECK(Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv, n, &off, &k) == TSS2_RC_SUCCESS && off == n);
    uint8_t again[sizeof(TPM2B_PRIVATE)];
    size_t m = 0;
    FZ_CHECK(Tss2_MU_TPM2B_PRIVATE_Marshal(&k, again, sizeof(again), &m) == TSS2_RC_SUCCESS);
    FZ_CHECK(m == n && memcmp(again, priv, n) == 0);
}

static void one(const uint8_t *pub, size_t pn, const uint8_t *priv, size_t kn)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_tpm_key_check(pub, pn, priv, kn, &d);
    if (rc != AVOW_OK) {
        /* every refusal names its field */
        FZ_CHECK(d.field[0] != '\0' && d.code == rc);
        return;
    }
    if (pub != NULL)
        pub_accepted(pub, pn);
    if (priv != NULL)
        priv_accepted(priv, kn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A NULL file means "not given": an empty one is passed as a real, empty buffer. */
    static const uint8_t none[1];
    const uint8_t *all = size > 0 ? data : none;
    one(all, size, NULL, 0);
    one(NULL, 0, all, size);
    if (size < 2)
        return 0;
    size_t l = (size_t)data[0] << 8 | data[1];
    size_t rest = size - 2;
    size_t pn = l < rest ? l : rest;
    const uint8_t *pub = data + 2, *priv = data + 2 + pn;
    one(pub, pn, priv != data + size ? priv : none, size - 2 - pn);
    return 0;
}
