/*
 * Verifying a TPM key attestation (tcg-attest-tpm-certify) through the
 * registry row, as a ratio of one raw OpenSSL verify of the same ECDSA
 * P-256 SHA-256 signature over the same TPMS_ATTEST in the same run. The
 * statement is made once at start on a real swtpm (started here on
 * 127.0.0.1, state in a temporary directory): avow_tpm_keygen of a signing
 * key and an AK, TPM2_Certify with a 32-byte nonce. The avow side starts
 * from the statement's bytes each time: strict DER, the three TPM
 * structures through libtss2-mu, the certified key's SPKI, the AK found in
 * the verifier's key set, the signature, the name check, the claims.
 * For information, the AK found by its certificate instead (the TCG AK
 * EKU, under a root of the verifier's), with the chain cache and without.
 * Without swtpm the benchmark says so and exits 0.
 *
 * Usage: bench_tpm_verify [seconds-per-slice] [rounds]   (default 0.1 s, 41 rounds)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <avow/avow.h>
#include <avow/tpm.h>

#include "bench_pki.h"
#include "bench_util.h"
#include "bench_verify.h"
#include "formats/tpm_int.h"

typedef struct {
    EVP_PKEY *ak;
    avow_buf stmt;
    avow__tpm_certify *dec; /* the baseline's TPMS_ATTEST and DER signature */
    avow_verifier *verifier;
    /* The AK by its certificate (TCG AK EKU) under a root, with and without the chain cache. */
    avow_verifier *by_cert, *by_cert_nocache;
    STACK_OF(X509) * certs;
    avow_oid oid;
    uint8_t nonce[32];
} bench;

static pid_t SWTPM;
static char DIR_[64];

static int die(const char *what, avow_err rc, const avow_diag *d)
{
    fprintf(stderr, "bench: %s: %s %s\n", what, avow_strerror(rc), d != NULL ? d->detail : "");
    if (SWTPM > 0)
        kill(SWTPM, SIGTERM);
    exit(2);
}

static int port_answers(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

/* swtpm on a free port pair; returns the server port, or 0. */
static int swtpm_start(void)
{
    snprintf(DIR_, sizeof(DIR_), "/tmp/avow-bench-swtpm.XXXXXX");
    if (mkdtemp(DIR_) == NULL)
        return 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned char r[2];
        if (RAND_bytes(r, 2) != 1)
            return 0;
        int port = 20000 + 2 * ((r[0] << 8 | r[1]) % 10000);
        if (port_answers(port) || port_answers(port + 1))
            continue;
        char state[96], server[64], ctrl[64];
        snprintf(state, sizeof(state), "dir=%s", DIR_);
        snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", port);
        snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
        SWTPM = fork();
        if (SWTPM < 0)
            return 0;
        if (SWTPM == 0) {
            execlp("swtpm", "swtpm", "socket", "--tpmstate", state, "--ctrl", ctrl, "--server",
                   server, "--tpm2", "--flags", "not-need-init,startup-clear", (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 200; i++) {
            if (port_answers(port))
                return port;
            if (waitpid(SWTPM, NULL, WNOHANG) == SWTPM)
                break;
            struct timespec ts = {0, 25 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(SWTPM, SIGTERM);
        waitpid(SWTPM, NULL, 0);
        SWTPM = 0;
    }
    return 0;
}

static void swtpm_stop(void)
{
    if (SWTPM > 0) {
        kill(SWTPM, SIGTERM);
        waitpid(SWTPM, NULL, 0);
        SWTPM = 0;
    }
    static const char *const files[] = {"tpm2-00.permall", "tpm2-00.volatilestate", ".lock"};
    char p[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", DIR_, files[i]);
        unlink(p);
    }
    rmdir(DIR_);
}

/* The limit: one EVP_DigestVerify of the AK's signature over the TPMS_ATTEST. */
static int openssl_verify(void *arg)
{
    bench *b = arg;
    return bench_sha256_verify(b->ak, b->dec->sig_bytes, b->dec->sig_len, b->dec->attest.ptr,
                               b->dec->attest.len);
}

static int avow_verify(void *arg)
{
    bench *b = arg;
    return bench_statement_verify(b->verifier, &b->oid, &b->stmt, b->nonce, sizeof(b->nonce));
}

/* The same statement with the AK found by its certificate, the certificate sent along. */
static int cert_verify(avow_verifier *v, bench *b)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = b->nonce;
    o.nonce_len = sizeof(b->nonce);
    o.untrusted = b->certs;
    avow_statement_result *r = NULL;
    avow_err rc = avow_statement_verify(v, NULL, b->oid.der, b->oid.len, b->stmt.ptr, b->stmt.len,
                                        &o, &r, NULL);
    avow_statement_result_free(r);
    return rc == AVOW_OK ? 0 : 1;
}

static int avow_verify_cert(void *arg)
{
    bench *b = arg;
    return cert_verify(b->by_cert, b);
}

static int avow_verify_cert_nocache(void *arg)
{
    bench *b = arg;
    return cert_verify(b->by_cert_nocache, b);
}

/* The AK certificate under a root of its own, and the verifiers that trust that root. */
static void setup_cert(bench *b)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-256");
    X509 *root =
        root_key != NULL ? bench_make_cert("Bench TPM Root", root_key, NULL, NULL, 1, 1) : NULL;
    X509 *ak = root != NULL ? bench_make_cert_eku("Bench TPM AK", b->ak, root, root_key, 0,
                                                  AVOW_OID_TCG_AK_EKU, 2)
                            : NULL;
    avow_err rc = AVOW_OK;
    if (ak == NULL || (b->certs = sk_X509_new_null()) == NULL || !sk_X509_push(b->certs, ak))
        die("AK certificate", AVOW_ERR_CRYPTO, NULL);
    if ((rc = avow_verifier_new(NULL, &b->by_cert)) ||
        (rc = avow_verifier_add_anchor(b->by_cert, root, NULL)) ||
        (rc = avow_verifier_new(NULL, &b->by_cert_nocache)) ||
        (rc = avow_verifier_add_anchor(b->by_cert_nocache, root, NULL)) ||
        (rc = avow_verifier_set_cache(b->by_cert_nocache, 0, NULL)))
        die("verifier", rc, NULL);
    X509_free(root);
    EVP_PKEY_free(root_key);
}

/* The statement from swtpm; 0 when there is no swtpm. */
static int setup(bench *b)
{
    int port = swtpm_start();
    if (port == 0)
        return 0;
    char tcti[64];
    snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%d", port);
    avow_diag d;
    avow_diag_clear(&d);
    avow_tpm *t = NULL;
    avow_buf kp = {0}, kk = {0}, ap = {0}, ak = {0}, spki = {0};
    uint32_t key = 0, akh = 0;
    memset(b->nonce, 0x5a, sizeof(b->nonce));
    avow_err rc;
    if ((rc = avow_tpm_open(tcti, &t, &d)) ||
        (rc = avow_tpm_keygen(t, AVOW_TPM_KEY_SIGN, AVOW_TPM_EC_P256, &kp, &kk, &d)) ||
        (rc = avow_tpm_keygen(t, AVOW_TPM_KEY_AK, AVOW_TPM_EC_P256, &ap, &ak, &d)) ||
        (rc = avow_tpm_load(t, kp.ptr, kp.len, kk.ptr, kk.len, &key, NULL, &d)) ||
        (rc = avow_tpm_load(t, ap.ptr, ap.len, ak.ptr, ak.len, &akh, &b->ak, &d)) ||
        (rc = avow_tpm_certify(avow_tpm_get0_esys(t), key, akh, b->nonce, sizeof(b->nonce),
                               &b->stmt, &d)))
        die("swtpm", rc, &d);
    avow_tpm_free(t);
    swtpm_stop();
    avow_buf_free(&kp), avow_buf_free(&kk), avow_buf_free(&ap), avow_buf_free(&ak);
    avow_buf_free(&spki);
    if ((rc = avow_verifier_new(NULL, &b->verifier)) ||
        (rc = avow_verifier_add_key(b->verifier, NULL, 0, b->ak, &d)) ||
        (rc = avow_oid_from_text(&b->oid, AVOW_OID_TPM_CERTIFY)) ||
        (rc = avow__tpm_decode(b->stmt.ptr, b->stmt.len, &b->dec, &d)))
        die("verifier", rc, &d);
    return 1;
}

int main(int argc, char **argv)
{
    double seconds;
    int rounds;
    if (bench_args(argc, argv, "bench_tpm_verify", 0.1, 41, &seconds, &rounds) != 0)
        return 2;
    if (!avow_tpm_available()) {
        printf("bench_tpm_verify: built without TPM support; nothing to measure\n");
        return 0;
    }
    bench b = {0};
    if (!setup(&b)) {
        printf("bench_tpm_verify: swtpm did not start; nothing to measure\n");
        return 0;
    }
    setup_cert(&b);
    if (avow_verify(&b) != 0 || openssl_verify(&b) != 0 || avow_verify_cert(&b) != 0 ||
        avow_verify_cert_nocache(&b) != 0)
        die("sanity check", AVOW_ERR_SIG_INVALID, NULL);
    printf("TPM statement (swtpm): %zu bytes, TPMS_ATTEST %zu bytes, ECDSA P-256 AK from the key "
           "set\n",
           b.stmt.len, b.dec->attest.len);
    int rc = bench_compare("tcg-attest-tpm-certify row verify from the bytes vs EVP_DigestVerify "
                           "(ECDSA P-256)",
                           openssl_verify, avow_verify, &b, rounds, seconds, 0.85);
    bench_compare("for information: the AK by its certificate (TCG AK EKU, one root), the "
                  "chain from the verifier's cache",
                  openssl_verify, avow_verify_cert, &b, rounds > 9 ? 9 : rounds, seconds, 0);
    bench_compare("for information: the same with the chain cache off (X509_verify_cert "
                  "every time)",
                  openssl_verify, avow_verify_cert_nocache, &b, rounds > 9 ? 9 : rounds, seconds,
                  0);
    avow_verifier_free(b.verifier);
    avow_verifier_free(b.by_cert);
    avow_verifier_free(b.by_cert_nocache);
    sk_X509_pop_free(b.certs, X509_free);
    avow__tpm_free(b.dec);
    avow_buf_free(&b.stmt);
    EVP_PKEY_free(b.ak);
    return rc;
}
