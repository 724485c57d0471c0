/*
 * Verifying hybrid PKIX Evidence, signed by ECDSA P-256 and ML-DSA-65 in one
 * SignatureBlock list (every signature must verify), as a ratio of the two
 * raw verifies it cannot avoid: EVP_DigestVerify with P-256/SHA-256 and with
 * ML-DSA-65 over the same tbs, with the same parsed keys, in the same run.
 * The avow side starts from the DER bytes each time: strict decode,
 * structural rules, key lookup by key id, both signatures, both ak-spki
 * bindings, the nonce. The target says the format costs under 10%.
 * Built only against OpenSSL 3.5 or later (the PQ build).
 *
 * Usage: bench_pq_verify [seconds-per-slice] [rounds]   (default 0.1 s, 41 rounds)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/avow.h>

#include "bench_util.h"

typedef struct {
    EVP_PKEY *ec, *mldsa;
    avow_buf der;  /* the Evidence */
    avow_view tbs; /* inside ev, for the baseline */
    avow_view ec_sig, mldsa_sig;
    avow_evidence *ev; /* kept for the tbs and signature views */
    avow_verifier *verifier;
    uint8_t nonce[16];
} bench;

static int die(const char *what, avow_err rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, avow_strerror(rc));
    exit(2);
}

static int raw_verify(EVP_PKEY *key, const EVP_MD *md, avow_view sig, avow_view tbs)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig.ptr, sig.len, tbs.ptr, tbs.len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* The limit: the two signatures, nothing else. ML-DSA takes no digest (one-shot). */
static int openssl_verify(void *arg)
{
    bench *b = arg;
    return raw_verify(b->ec, EVP_sha256(), b->ec_sig, b->tbs) &&
                   raw_verify(b->mldsa, NULL, b->mldsa_sig, b->tbs)
               ? 0
               : 1;
}

static int avow_verify(void *arg)
{
    bench *b = arg;
    avow_evidence *ev = NULL;
    avow_verify_opts opts = {
        .size = sizeof(opts), .nonce = b->nonce, .nonce_len = sizeof(b->nonce)};
    if (avow_evidence_decode(b->der.ptr, b->der.len, avow_verifier_get0_profile(b->verifier), 0,
                             &ev, NULL) != AVOW_OK)
        return 1;
    avow_err rc = avow_verify_evidence(b->verifier, ev, &opts, NULL, NULL);
    avow_evidence_free(ev);
    return rc == AVOW_OK ? 0 : 1;
}

static void add_spki(avow_evidence *ev, size_t t, EVP_PKEY *key)
{
    avow_buf spki = {0};
    avow_err rc = avow_spki_der(key, &spki, NULL);
    if (rc != AVOW_OK ||
        (rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_AK_SPKI, spki.ptr, spki.len, NULL)))
        die("ak-spki", rc);
    avow_buf_free(&spki);
}

static void sign(avow_evidence *ev, EVP_PKEY *key)
{
    avow_signer *signer = NULL;
    avow_err rc;
    if ((rc = avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &signer, NULL)) ||
        (rc = avow_evidence_sign(ev, signer, AVOW_SID_KEYID, NULL)))
        die("sign", rc);
    avow_signer_free(signer);
}

static void setup(bench *b)
{
    avow_err rc;
    b->ec = EVP_EC_gen("P-256");
    b->mldsa = EVP_PKEY_Q_keygen(NULL, NULL, "ML-DSA-65");
    if (b->ec == NULL || b->mldsa == NULL)
        die("keygen", AVOW_ERR_CRYPTO);
    for (size_t i = 0; i < sizeof(b->nonce); i++)
        b->nonce[i] = (uint8_t)(0xa0 + i);

    /* bench_evidence_verify's Evidence, with both keys in ak-spki and two keyId signers. */
    avow_evidence *ev = NULL;
    size_t t = 0, p = 0;
    if ((rc = avow_evidence_new(NULL, &ev)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL)))
        die("build", rc);
    if ((rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, b->nonce, sizeof(b->nonce), NULL)) ||
        (rc = avow_evidence_add_time(ev, t, AVOW_CLAIM_TIMESTAMP, 1784632418, NULL)))
        die("claims", rc);
    add_spki(ev, t, b->ec);
    add_spki(ev, t, b->mldsa);
    if ((rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_VENDOR, "Acme Corp", NULL)) ||
        (rc = avow_evidence_add_bytes(ev, p, AVOW_CLAIM_HWMODEL, (const uint8_t *)"HSM-9000", 8,
                                      NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_HWVERSION, "2.1.0", NULL)) ||
        (rc = avow_evidence_add_bool(ev, p, AVOW_CLAIM_FIPSBOOT, 1, NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_FIPSLEVEL, 3, NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_UPTIME, 86400, NULL)))
        die("claims", rc);
    sign(ev, b->ec);
    sign(ev, b->mldsa);
    if ((rc = avow_evidence_encode(ev, &b->der)))
        die("encode", rc);
    const avow_signature_block *s0 = avow_evidence_get0_signature(ev, 0);
    const avow_signature_block *s1 = avow_evidence_get0_signature(ev, 1);
    if ((rc = avow_verifier_new(NULL, &b->verifier)) ||
        (rc = avow_verifier_add_key(b->verifier, s0->key_id.ptr, s0->key_id.len, b->ec, NULL)) ||
        (rc = avow_verifier_add_key(b->verifier, s1->key_id.ptr, s1->key_id.len, b->mldsa, NULL)))
        die("verifier", rc);
    b->ev = ev;
    b->tbs = avow_evidence_tbs(ev);
    b->ec_sig = s0->value;
    b->mldsa_sig = s1->value;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.1;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 41;
    if (seconds <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_pq_verify [seconds-per-slice] [rounds]\n");
        return 2;
    }
    if (OpenSSL_version_num() < 0x30500000L) {
        fprintf(stderr, "bench_pq_verify: running on %s; ML-DSA needs 3.5\n",
                OpenSSL_version(OPENSSL_VERSION));
        return 2;
    }
    bench b = {0};
    setup(&b);
    if (avow_verify(&b) != 0 || openssl_verify(&b) != 0)
        die("sanity check", AVOW_ERR_SIG_INVALID);
    printf("%s; Evidence: %zu bytes, tbs %zu bytes, signatures %zu + %zu bytes, keyId signers\n",
           OpenSSL_version(OPENSSL_VERSION), b.der.len, b.tbs.len, b.ec_sig.len, b.mldsa_sig.len);
    int rc = bench_compare("decode + verify hybrid PKIX Evidence vs EVP_DigestVerify P-256 + "
                           "ML-DSA-65 (same tbs)",
                           openssl_verify, avow_verify, &b, rounds, seconds, 0.90);
    avow_verifier_free(b.verifier);
    avow_evidence_free(b.ev);
    avow_buf_free(&b.der);
    EVP_PKEY_free(b.ec);
    EVP_PKEY_free(b.mldsa);
    return rc;
}
