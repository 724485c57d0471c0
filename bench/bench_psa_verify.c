/*
 * Verifying a PSA attestation token (RFC 9783, COSE_Sign1 with ES256), as
 * a ratio of one raw ES256 verify of the same signature over the same
 * Sig_structure on this machine in the same run. The avow side starts from
 * the token's bytes each time, through the registry as appraisal takes it:
 * strict CBOR walk, COSE decode, every claim checked, the IAK found by
 * instance id, r||s converted, the signature, the claims and the nonce.
 *
 * Usage: bench_psa_verify [seconds-per-slice] [rounds]   (default 0.1 s, 41 rounds)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <avow/avow.h>

#include "bench_util.h"
#include "bench_verify.h"

/* The claims of the RFC 9783 Sign1 example (tests/vectors/psa/rfc9783-draft24-psa-sign1.cbor). */
static const char CLAIMS_HEX[] =
    "a8190100582101020202020202020202020202020202020202020202020202020202020202020219095c5820"
    "00000000000000000000000000000000000000000000000000000000000000000a5820010101010101010101"
    "010101010101010101010101010101010101010101010119095a1a7fffffff19095b19300019010978217461"
    "673a7073616365727469666965642e6f72672c323032333a7073612374666d19010c48000000000000000019"
    "095f81a305582004040404040404040404040404040404040404040404040404040404040404040258200303"
    "030303030303030303030303030303030303030303030303030303030303016450526f54";

typedef struct {
    EVP_PKEY *key;
    avow_buf token;
    avow_buf tbs;    /* the Sig_structure, for the baseline */
    avow_buf sigder; /* the token's r||s as DER, for the baseline */
    avow_verifier *verifier;
    avow_oid oid;
    uint8_t nonce[32];
} bench;

/* The limit: one EVP_DigestVerify of the same Sig_structure and signature. */
static int openssl_verify(void *arg)
{
    bench *b = arg;
    return bench_sha256_verify(b->key, b->sigder.ptr, b->sigder.len, b->tbs.ptr, b->tbs.len);
}

static int avow_verify(void *arg)
{
    bench *b = arg;
    return bench_statement_verify(b->verifier, &b->oid, &b->token, b->nonce, sizeof(b->nonce));
}

static void setup(bench *b)
{
    avow_err rc;
    avow_buf claims = {0};
    size_t n = strlen(CLAIMS_HEX) / 2;
    claims.ptr = OPENSSL_malloc(n);
    claims.len = n;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(CLAIMS_HEX + 2 * i, "%2x", &v) != 1)
            bench_die("claims", AVOW_ERR_ARG);
        claims.ptr[i] = (uint8_t)v;
    }
    memset(b->nonce, 1, sizeof(b->nonce));
    b->key = EVP_EC_gen("P-256");
    if (b->key == NULL)
        bench_die("keygen", AVOW_ERR_CRYPTO);
    avow_signer *s = NULL;
    if ((rc = avow_signer_new_pkey(b->key, AVOW_SIGALG_ECDSA_SHA256, &s, NULL)) ||
        (rc = avow_cose_sign1(claims.ptr, claims.len, s, AVOW_COSE_TAGGED, &b->token, NULL)))
        bench_die("sign", rc);
    avow_signer_free(s);
    /* The example's instance id, 0x01 then 32 bytes of 0x02, names the key. */
    uint8_t id[AVOW_PSA_INSTANCE_ID_LEN];
    memset(id, 2, sizeof(id));
    id[0] = 1;
    if ((rc = avow_verifier_new(NULL, &b->verifier)) ||
        (rc = avow_verifier_add_key(b->verifier, id, sizeof(id), b->key, NULL)) ||
        (rc = avow_oid_from_text(&b->oid, AVOW_OID_PSA_TOKEN)))
        bench_die("verifier", rc);
    /* The baseline's inputs, made once from the token. */
    avow_cose_msg *m = NULL;
    if ((rc = avow_cose_decode(b->token.ptr, b->token.len, AVOW_COSE_SIGN1, AVOW_COSE_TAGGED, &m,
                               NULL)))
        bench_die("decode", rc);
    avow_view prot = avow_cose_msg_protected(m), pl = avow_cose_msg_payload(m),
              sig = avow_cose_msg_signature(m);
    if ((rc = avow_cose_tbs(AVOW_COSE_SIGN1, prot.ptr, prot.len, NULL, 0, pl.ptr, pl.len, &b->tbs)))
        bench_die("tbs", rc);
    bench_rs_der(sig.ptr, 32, &b->sigder);
    avow_cose_msg_free(m);
    avow_buf_free(&claims);
}

int main(int argc, char **argv)
{
    double seconds;
    int rounds;
    if (bench_args(argc, argv, "bench_psa_verify", 0.1, 41, &seconds, &rounds) != 0)
        return 2;
    bench b = {0};
    setup(&b);
    if (avow_verify(&b) != 0 || openssl_verify(&b) != 0)
        bench_die("sanity check", AVOW_ERR_SIG_INVALID);
    printf("PSA token: %zu bytes, Sig_structure %zu bytes, ES256 IAK by instance id\n", b.token.len,
           b.tbs.len);
    int rc = bench_compare("PSA Sign1 verify from the bytes vs EVP_DigestVerify (ES256)",
                           openssl_verify, avow_verify, &b, rounds, seconds, 0.85);
    avow_verifier_free(b.verifier);
    avow_buf_free(&b.token);
    avow_buf_free(&b.tbs);
    OPENSSL_free(b.sigder.ptr);
    EVP_PKEY_free(b.key);
    return rc;
}
