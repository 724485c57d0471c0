/*
 * Verifying an attested certificate request, as a ratio of the raw OpenSSL
 * work it cannot avoid, measured in the same run.
 *
 * The request: a PKCS#10 CSR for a P-256 key carrying PKIX Evidence signed by
 * a P-256 attestation key whose certificate chains root -> intermediate -> AK;
 * the bundle's certs carry the intermediate. avow starts from the DER bytes
 * each time: avow_request_decode (strict DER, re-encode and compare, POP) +
 * avow_request_verify with the root as anchor (Evidence decode, its signature,
 * the AK chain and EKU, the nonce, the key binding).
 *
 * The limit is raw OpenSSL doing the same verifications from the same bytes:
 * d2i_X509_REQ + X509_REQ_verify of the request, d2i_X509 of the AK and the
 * intermediate certificate + X509_verify_cert with a prepared store, and
 * EVP_DigestVerify of the Evidence tbs with the AK's key. What avow adds on
 * top is the format: the attestation attribute, the bundle, the Evidence
 * decode and its rules, key binding, nonce. Parsing a certificate or a
 * request costs OpenSSL 3.0 more than an ECDSA verify (its key decoder), so
 * a limit on objects parsed beforehand would measure OpenSSL's parser, not
 * the format; that ratio is printed too, for information.
 *
 * Usage: bench_csr_verify [seconds-per-slice] [rounds]   (default 0.2 s, 15 rounds)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/avow.h>
#include <avow/request.h>
#include <avow/request_verify.h>

#include "bench_pki.h"
#include "bench_util.h"

typedef struct {
    avow_buf der; /* the request */
    avow_verifier *verifier;
    uint8_t nonce[16];
    /* the baseline's objects, parsed once */
    X509_REQ *req;
    EVP_PKEY *ak_pub;
    avow_buf tbs, sig; /* Evidence tbs and its signature value */
    X509_STORE *store;
    X509 *ak_cert;
    STACK_OF(X509) * untrusted;
    avow_buf ak_der, int_der; /* the certificates as the request carries them */
} bench;

static void die(const char *what, avow_err rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, rc == AVOW_OK ? "failed" : avow_strerror(rc));
    exit(2);
}

/* A certificate for key, issued by issuer/ikey (NULL: self-signed), valid a year. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
                       long serial)
{
    X509 *x = bench_make_cert(cn, key, issuer, ikey, ca, serial);
    if (x == NULL)
        die(cn, AVOW_ERR_CRYPTO);
    return x;
}

static avow_err add_spki(avow_evidence *ev, size_t el, avow_claim_id id, EVP_PKEY *k)
{
    unsigned char *spki = NULL;
    int len = i2d_PUBKEY(k, &spki);
    if (len <= 0)
        return AVOW_ERR_CRYPTO;
    avow_err rc = avow_evidence_add_bytes(ev, el, id, spki, (size_t)len, NULL);
    OPENSSL_free(spki);
    return rc;
}

static void setup(bench *b)
{
    avow_err rc;
    EVP_PKEY *root_key = EVP_EC_gen("P-256"), *int_key = EVP_EC_gen("P-256");
    EVP_PKEY *ak_key = EVP_EC_gen("P-256"), *csr_key = EVP_EC_gen("P-256");
    if (root_key == NULL || int_key == NULL || ak_key == NULL || csr_key == NULL)
        die("keygen", AVOW_ERR_CRYPTO);
    X509 *root = make_cert("Bench Root", root_key, NULL, NULL, 1, 1);
    X509 *inter = make_cert("Bench Intermediate", int_key, root, root_key, 1, 2);
    X509 *ak = make_cert("Bench AK", ak_key, inter, int_key, 0, 3);
    for (size_t i = 0; i < sizeof(b->nonce); i++)
        b->nonce[i] = (uint8_t)(0xa0 + i);

    /* Evidence: transaction (nonce), platform, the CSR key; signed by the AK with its certificate.
     */
    avow_evidence *ev = NULL;
    avow_signer *ak_signer = NULL, *csr_signer = NULL;
    size_t t = 0, p = 0, k = 0;
    avow_buf evder = {0};
    if ((rc = avow_evidence_new(NULL, &ev)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL)))
        die("evidence", rc);
    if ((rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, b->nonce, sizeof(b->nonce), NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_VENDOR, "Acme Corp", NULL)) ||
        (rc = avow_evidence_add_bytes(ev, p, AVOW_CLAIM_HWMODEL, (const uint8_t *)"HSM-9000", 8,
                                      NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_FIPSLEVEL, 3, NULL)) ||
        (rc = avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "csr-key", NULL)) ||
        (rc = add_spki(ev, k, AVOW_CLAIM_KEY_SPKI, csr_key)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_EXTRACTABLE, 0, NULL)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_SENSITIVE, 1, NULL)))
        die("claims", rc);
    if ((rc = avow_signer_new_pkey(ak_key, AVOW_SIGALG_ECDSA_SHA256, &ak_signer, NULL)) ||
        (rc = avow_signer_set1_cert(ak_signer, ak, NULL)) ||
        (rc = avow_evidence_sign(ev, ak_signer, AVOW_SID_CERT, NULL)) ||
        (rc = avow_evidence_encode(ev, &evder)))
        die("sign evidence", rc);
    const avow_signature_block *sb = avow_evidence_get0_signature(ev, 0);
    avow_view tbs = avow_evidence_tbs(ev);
    b->tbs.ptr = OPENSSL_memdup(tbs.ptr, tbs.len);
    b->tbs.len = tbs.len;
    b->sig.ptr = OPENSSL_memdup(sb->value.ptr, sb->value.len);
    b->sig.len = sb->value.len;
    if (b->tbs.ptr == NULL || b->sig.ptr == NULL)
        die("copy", AVOW_ERR_NOMEM);

    /* The request: CSR key signs, the bundle carries the intermediate. */
    avow_request_builder *rb = NULL;
    if ((rc = avow_request_builder_new(AVOW_REQUEST_PKCS10, &rb)) ||
        (rc = avow_request_builder_set_subject(rb, "CN=host.example,O=Acme", NULL)) ||
        (rc = avow_request_builder_add_evidence(rb, NULL, evder.ptr, evder.len, NULL)) ||
        (rc = avow_request_builder_add_cert(rb, inter, NULL)) ||
        (rc = avow_signer_new_pkey(csr_key, AVOW_SIGALG_ECDSA_SHA256, &csr_signer, NULL)) ||
        (rc = avow_request_builder_sign(rb, csr_signer, &b->der, NULL)))
        die("request", rc);
    if ((rc = avow_verifier_new(NULL, &b->verifier)) ||
        (rc = avow_verifier_add_anchor(b->verifier, root, NULL)))
        die("verifier", rc);

    /* The baseline's prepared objects. */
    const unsigned char *q = b->der.ptr;
    b->req = d2i_X509_REQ(NULL, &q, (long)b->der.len);
    b->ak_pub = X509_get_pubkey(ak);
    b->store = X509_STORE_new();
    b->untrusted = sk_X509_new_null();
    if (b->req == NULL || b->ak_pub == NULL || b->store == NULL || b->untrusted == NULL ||
        X509_STORE_add_cert(b->store, root) != 1 || !sk_X509_push(b->untrusted, inter))
        die("baseline", AVOW_ERR_CRYPTO);
    X509_up_ref(inter);
    b->ak_cert = ak;
    unsigned char *d1 = NULL, *d2 = NULL;
    int n1 = i2d_X509(ak, &d1), n2 = i2d_X509(inter, &d2);
    if (n1 <= 0 || n2 <= 0)
        die("baseline", AVOW_ERR_CRYPTO);
    b->ak_der.ptr = d1;
    b->ak_der.len = (size_t)n1;
    b->int_der.ptr = d2;
    b->int_der.len = (size_t)n2;

    avow_request_builder_free(rb);
    avow_signer_free(csr_signer);
    avow_signer_free(ak_signer);
    avow_buf_free(&evder);
    avow_evidence_free(ev);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
    EVP_PKEY_free(ak_key);
    EVP_PKEY_free(csr_key);
}

/* The three verifications on parsed objects. */
static int verify_parsed(X509_STORE *store, X509_REQ *req, X509 *ak, STACK_OF(X509) * untrusted,
                         const bench *b)
{
    if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1)
        return 1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(ak)) == 1 &&
             EVP_DigestVerify(md, b->sig.ptr, b->sig.len, b->tbs.ptr, b->tbs.len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return 1;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ok = ctx != NULL && X509_STORE_CTX_init(ctx, store, ak, untrusted) == 1 &&
         X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    return ok ? 0 : 1;
}

/* The limit: raw OpenSSL parses what it verifies, from the same bytes. */
static int openssl_verify(void *arg)
{
    bench *b = arg;
    const unsigned char *q = b->der.ptr, *a = b->ak_der.ptr, *i = b->int_der.ptr;
    X509_REQ *req = d2i_X509_REQ(NULL, &q, (long)b->der.len);
    X509 *ak = d2i_X509(NULL, &a, (long)b->ak_der.len);
    X509 *inter = d2i_X509(NULL, &i, (long)b->int_der.len);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int rc = 1;
    if (req != NULL && ak != NULL && inter != NULL && untrusted != NULL &&
        sk_X509_push(untrusted, inter)) {
        inter = NULL;
        rc = verify_parsed(b->store, req, ak, untrusted, b);
    }
    X509_free(inter);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(ak);
    X509_REQ_free(req);
    return rc;
}

/* For information: the same verifications on objects parsed once beforehand. */
static int openssl_verify_preparsed(void *arg)
{
    bench *b = arg;
    return verify_parsed(b->store, b->req, b->ak_cert, b->untrusted, b);
}

static int avow_verify(void *arg)
{
    bench *b = arg;
    avow_request *req = NULL;
    avow_verification_opts opts;
    avow_verification_opts_init(&opts);
    opts.nonce = b->nonce;
    opts.nonce_len = sizeof(b->nonce);
    if (avow_request_decode(b->der.ptr, b->der.len, AVOW_REQUEST_PKCS10, 0, &req, NULL) != AVOW_OK)
        return 1;
    avow_err rc = avow_request_verify(b->verifier, req, &opts, NULL, NULL);
    avow_request_free(req);
    return rc == AVOW_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.2;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 15;
    if (seconds <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_csr_verify [seconds-per-slice] [rounds]\n");
        return 2;
    }
    bench b;
    memset(&b, 0, sizeof(b));
    setup(&b);
    if (avow_verify(&b) != 0)
        die("sanity check (avow)", AVOW_ERR_SIG_INVALID);
    if (openssl_verify(&b) != 0)
        die("sanity check (openssl)", AVOW_ERR_SIG_INVALID);
    printf("Request: %zu bytes, P-256 CSR key; Evidence tbs %zu bytes, P-256 AK, chain root -> "
           "intermediate -> AK\n",
           b.der.len, b.tbs.len);
    int rc = bench_compare("decode + verify attested CSR (POP + Evidence signature + AK chain) vs "
                           "OpenSSL parsing and verifying the same from the same bytes",
                           openssl_verify, avow_verify, &b, rounds, seconds, 0.85);
    bench_compare("for information: vs the same OpenSSL verifications on objects parsed beforehand",
                  openssl_verify_preparsed, avow_verify, &b, rounds > 5 ? 5 : rounds, seconds, 0);
    avow_verifier_free(b.verifier);
    avow_buf_free(&b.der);
    avow_buf_free(&b.tbs);
    avow_buf_free(&b.sig);
    X509_REQ_free(b.req);
    EVP_PKEY_free(b.ak_pub);
    X509_STORE_free(b.store);
    X509_free(b.ak_cert);
    sk_X509_pop_free(b.untrusted, X509_free);
    avow_buf_free(&b.ak_der);
    avow_buf_free(&b.int_der);
    return rc;
}
