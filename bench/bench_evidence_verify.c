/*
 * Verifying PKIX Evidence signed with P-256, as a ratio of OpenSSL's own
 * P-256 verify rate on this machine in the same run. The avow side starts
 * from the DER bytes each time: strict decode, structural rules, key lookup
 * by key id, signature, nonce. The target says the format costs under 10%.
 *
 * Usage: bench_evidence_verify [seconds-per-slice] [rounds]   (default 0.1 s, 41 rounds)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <avow/avow.h>

#include "bench_util.h"
#include "bench_verify.h"

typedef struct {
    EVP_PKEY *key;
    avow_buf der;  /* the Evidence */
    avow_view tbs; /* inside ev, for the baseline */
    avow_view sig;
    avow_evidence *ev; /* kept for tbs/sig views */
    avow_verifier *verifier;
    uint8_t nonce[16];
} bench;

/* The limit: one EVP_DigestVerify of the same bytes with the same parsed key. */
static int openssl_verify(void *arg)
{
    bench *b = arg;
    return bench_sha256_verify(b->key, b->sig.ptr, b->sig.len, b->tbs.ptr, b->tbs.len);
}

static int avow_verify(void *arg)
{
    bench *b = arg;
    avow_evidence *ev = NULL;
    avow_verify_opts opts = {
        .size = sizeof(opts), .nonce = b->nonce, .nonce_len = sizeof(b->nonce)};
    /* As a service would: decode under the verifier's profile. */
    if (avow_evidence_decode(b->der.ptr, b->der.len, avow_verifier_get0_profile(b->verifier), 0,
                             &ev, NULL) != AVOW_OK)
        return 1;
    avow_err rc = avow_verify_evidence(b->verifier, ev, &opts, NULL, NULL);
    avow_evidence_free(ev);
    return rc == AVOW_OK ? 0 : 1;
}

static void setup(bench *b)
{
    avow_err rc;
    b->key = EVP_EC_gen("P-256");
    if (b->key == NULL)
        bench_die("keygen", AVOW_ERR_CRYPTO);
    for (size_t i = 0; i < sizeof(b->nonce); i++)
        b->nonce[i] = (uint8_t)(0xa0 + i);

    /* The shape of the draft's evidence1: transaction + platform, keyId signer. */
    avow_evidence *ev = NULL;
    avow_signer *signer = NULL;
    size_t t = 0, p = 0;
    if ((rc = avow_evidence_new(NULL, &ev)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL)))
        bench_die("build", rc);
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(b->key, &spki);
    if (spki_len <= 0)
        bench_die("spki", AVOW_ERR_CRYPTO);
    if ((rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, b->nonce, sizeof(b->nonce), NULL)) ||
        (rc = avow_evidence_add_time(ev, t, AVOW_CLAIM_TIMESTAMP, 1784632418, NULL)) ||
        (rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_AK_SPKI, spki, (size_t)spki_len, NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_VENDOR, "Acme Corp", NULL)) ||
        (rc = avow_evidence_add_bytes(ev, p, AVOW_CLAIM_HWMODEL, (const uint8_t *)"HSM-9000", 8,
                                      NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_HWVERSION, "2.1.0", NULL)) ||
        (rc = avow_evidence_add_bool(ev, p, AVOW_CLAIM_FIPSBOOT, 1, NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_FIPSLEVEL, 3, NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_UPTIME, 86400, NULL)))
        bench_die("claims", rc);
    OPENSSL_free(spki);
    if ((rc = avow_signer_new_pkey(b->key, AVOW_SIGALG_ECDSA_SHA256, &signer, NULL)) ||
        (rc = avow_evidence_sign(ev, signer, AVOW_SID_KEYID, NULL)) ||
        (rc = avow_evidence_encode(ev, &b->der)))
        bench_die("sign", rc);
    const avow_signature_block *sb = avow_evidence_get0_signature(ev, 0);
    if ((rc = avow_verifier_new(NULL, &b->verifier)) ||
        (rc = avow_verifier_add_key(b->verifier, sb->key_id.ptr, sb->key_id.len, b->key, NULL)))
        bench_die("verifier", rc);
    b->ev = ev;
    b->tbs = avow_evidence_tbs(ev);
    b->sig = sb->value;
    avow_signer_free(signer);
}

int main(int argc, char **argv)
{
    double seconds;
    int rounds;
    if (bench_args(argc, argv, "bench_evidence_verify", 0.1, 41, &seconds, &rounds) != 0)
        return 2;
    bench b = {0};
    setup(&b);
    if (avow_verify(&b) != 0 || openssl_verify(&b) != 0)
        bench_die("sanity check", AVOW_ERR_SIG_INVALID);
    printf("Evidence: %zu bytes, tbs %zu bytes, P-256 keyId signer\n", b.der.len, b.tbs.len);
    int rc = bench_compare("decode + verify PKIX Evidence vs EVP_DigestVerify (P-256, SHA-256)",
                           openssl_verify, avow_verify, &b, rounds, seconds, 0.90);
    avow_verifier_free(b.verifier);
    avow_evidence_free(b.ev);
    avow_buf_free(&b.der);
    EVP_PKEY_free(b.key);
    return rc;
}
