/*
 * Verifying certificate-signed PKIX Evidence (root -> intermediate -> AK,
 * P-256 throughout; the Evidence carries the AK certificate as its
 * SignerIdentifier and the intermediate in intermediateCertificates, the
 * verifier holds the root), from its DER bytes as a service receives it,
 * as ratios against OpenSSL in the same run:
 *
 * 1. warm: the verifier's chain cache knows the AK. avow_evidence_decode +
 *    avow_verify_evidence of the bytes against one EVP_DigestVerify of the
 *    tbs with the AK's parsed key: the decoder keeps the certificates as
 *    DER, a hit decodes neither them nor the key, so what is left is one
 *    signature check and the Evidence's own parse.
 * 2. cold: the cache off, from the bytes (decode, path validation,
 *    signature) against OpenSSL doing the same parses and verifications
 *    from the same bytes: d2i_X509 of the AK and the intermediate,
 *    X509_verify_cert with a prepared store, EVP_DigestVerify of the tbs.
 *    For information, the cache on and every lookup a miss (more devices
 *    than entries, round robin), so each verify also hashes and inserts.
 * 3. threads: one verifier shared by two threads, warm, each verifying the
 *    bytes of its own device's Evidence, against one thread: wall-clock
 *    operations per second of both together over the same slice,
 *    interleaved rounds. Beside it, operations per CPU-second the two
 *    threads were given against one thread's: what contention between them
 *    (shared cache lines, spinning) costs, which a machine busy with other
 *    work does not change (blocking on a lock would not show there, only in
 *    the wall clock), and the cores the two threads obtained (CPU-seconds
 *    per second: 2.0 on an idle 2-core machine). And raw EVP_DigestVerify in two threads, what the
 * machine (and OpenSSL's own per-call fetches) give at that moment: on a shared machine another
 * process on the second core shows up here and nowhere else.
 *
 * For information, the same on Evidence decoded once beforehand (verify
 * alone).
 *
 * Usage: bench_chain_verify [seconds-per-slice] [rounds] [threads]   (default 0.2 s, 15 rounds;
 *        "threads" runs only the thread comparisons)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/avow.h>

#include "bench_pki.h"
#include "bench_util.h"

#define NDEV 8 /* devices for the always-missing run; the cache there holds fewer */

typedef struct device {
    avow_buf der;       /* the Evidence */
    avow_buf ak, inter; /* the certificates as the Evidence carries them */
    avow_buf tbs, sig;  /* for the baseline */
    avow_evidence *ev;  /* decoded once, for the warm verify-only run */
    EVP_PKEY *ak_pub;   /* parsed once, for the raw-verify limit */
} device;

typedef struct bench {
    device dev[NDEV];
    size_t next; /* round robin over dev[] */
    avow_verifier *warm, *cold, *missing;
    X509_STORE *store; /* the baseline's anchors */
    uint8_t nonce[16];
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

static avow_buf der_of(X509 *x)
{
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    if (n <= 0)
        die("i2d_X509", AVOW_ERR_CRYPTO);
    avow_buf b = {p, (size_t)n};
    return b;
}

static void make_device(bench *b, device *d, X509 *inter, EVP_PKEY *int_key, long serial)
{
    avow_err rc;
    EVP_PKEY *ak_key = EVP_EC_gen("P-256");
    if (ak_key == NULL)
        die("keygen", AVOW_ERR_CRYPTO);
    X509 *ak = make_cert("Bench AK", ak_key, inter, int_key, 0, serial);
    /* The shape of the draft's evidence1: transaction + platform. */
    avow_evidence *ev = NULL;
    avow_signer *signer = NULL;
    size_t t = 0, p = 0;
    if ((rc = avow_evidence_new(NULL, &ev)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL)))
        die("build", rc);
    if ((rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, b->nonce, sizeof(b->nonce), NULL)) ||
        (rc = avow_evidence_add_time(ev, t, AVOW_CLAIM_TIMESTAMP, 1784632418, NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_VENDOR, "Acme Corp", NULL)) ||
        (rc = avow_evidence_add_bytes(ev, p, AVOW_CLAIM_HWMODEL, (const uint8_t *)"HSM-9000", 8,
                                      NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_HWVERSION, "2.1.0", NULL)) ||
        (rc = avow_evidence_add_bool(ev, p, AVOW_CLAIM_FIPSBOOT, 1, NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_FIPSLEVEL, 3, NULL)) ||
        (rc = avow_evidence_add_intermediate(ev, inter, NULL)))
        die("claims", rc);
    if ((rc = avow_signer_new_pkey(ak_key, AVOW_SIGALG_ECDSA_SHA256, &signer, NULL)) ||
        (rc = avow_signer_set1_cert(signer, ak, NULL)) ||
        (rc = avow_evidence_sign(ev, signer, AVOW_SID_CERT, NULL)) ||
        (rc = avow_evidence_encode(ev, &d->der)))
        die("sign", rc);
    avow_evidence_free(ev);
    avow_signer_free(signer);
    if ((rc = avow_evidence_decode(d->der.ptr, d->der.len, NULL, 0, &d->ev, NULL)))
        die("decode", rc);
    const avow_signature_block *sb = avow_evidence_get0_signature(d->ev, 0);
    avow_view tbs = avow_evidence_tbs(d->ev);
    d->tbs.ptr = OPENSSL_memdup(tbs.ptr, tbs.len);
    d->tbs.len = tbs.len;
    d->sig.ptr = OPENSSL_memdup(sb->value.ptr, sb->value.len);
    d->sig.len = sb->value.len;
    if (d->tbs.ptr == NULL || d->sig.ptr == NULL)
        die("copy", AVOW_ERR_NOMEM);
    d->ak = der_of(ak);
    d->inter = der_of(inter);
    d->ak_pub = ak_key;
    X509_free(ak);
}

static avow_verifier *verifier(X509 *root, size_t cache)
{
    avow_verifier *v = NULL;
    avow_err rc;
    if ((rc = avow_verifier_new(NULL, &v)) || (rc = avow_verifier_add_anchor(v, root, NULL)) ||
        (rc = avow_verifier_set_cache(v, cache, NULL)))
        die("verifier", rc);
    return v;
}

static void setup(bench *b)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-256"), *int_key = EVP_EC_gen("P-256");
    if (root_key == NULL || int_key == NULL)
        die("keygen", AVOW_ERR_CRYPTO);
    X509 *root = make_cert("Bench Root", root_key, NULL, NULL, 1, 1);
    X509 *inter = make_cert("Bench Intermediate", int_key, root, root_key, 1, 2);
    for (size_t i = 0; i < sizeof(b->nonce); i++)
        b->nonce[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < NDEV; i++)
        make_device(b, &b->dev[i], inter, int_key, 10 + i);
    b->warm = verifier(root, AVOW_VERIFIER_CACHE_DEFAULT);
    b->cold = verifier(root, 0);
    b->missing = verifier(root, NDEV / 2);
    b->store = X509_STORE_new();
    if (b->store == NULL || X509_STORE_add_cert(b->store, root) != 1)
        die("store", AVOW_ERR_CRYPTO);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
}

static void teardown(bench *b)
{
    for (int i = 0; i < NDEV; i++) {
        device *d = &b->dev[i];
        avow_buf_free(&d->der);
        avow_buf_free(&d->ak);
        avow_buf_free(&d->inter);
        avow_buf_free(&d->tbs);
        avow_buf_free(&d->sig);
        avow_evidence_free(d->ev);
        EVP_PKEY_free(d->ak_pub);
    }
    avow_verifier_free(b->warm);
    avow_verifier_free(b->cold);
    avow_verifier_free(b->missing);
    X509_STORE_free(b->store);
}

static int digest_verify(EVP_PKEY *key, const device *d)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, d->sig.ptr, d->sig.len, d->tbs.ptr, d->tbs.len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* The warm limit: one EVP_DigestVerify of the tbs with the AK's parsed key. */
static int raw_verify(void *arg)
{
    bench *b = arg;
    return digest_verify(b->dev[0].ak_pub, &b->dev[0]) ? 0 : 1;
}

/* The cold limit: what OpenSSL must do from the same bytes. */
static int openssl_from_bytes(const bench *b, const device *d)
{
    const unsigned char *a = d->ak.ptr, *i = d->inter.ptr;
    X509 *ak = d2i_X509(NULL, &a, (long)d->ak.len);
    X509 *inter = d2i_X509(NULL, &i, (long)d->inter.len);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = ak != NULL && inter != NULL && untrusted != NULL && ctx != NULL &&
             sk_X509_push(untrusted, inter) > 0 &&
             X509_STORE_CTX_init(ctx, b->store, ak, untrusted) == 1 && X509_verify_cert(ctx) == 1 &&
             digest_verify(X509_get0_pubkey(ak), d);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_free(inter);
    X509_free(ak);
    return ok ? 0 : 1;
}

static int openssl_cold(void *arg)
{
    bench *b = arg;
    return openssl_from_bytes(b, &b->dev[0]);
}

static int openssl_cycling(void *arg)
{
    bench *b = arg;
    return openssl_from_bytes(b, &b->dev[b->next++ % NDEV]);
}

static int avow_from_bytes(const bench *b, const avow_verifier *v, const device *d)
{
    avow_evidence *ev = NULL;
    avow_verify_opts opts;
    avow_verify_opts_init(&opts);
    opts.nonce = b->nonce;
    opts.nonce_len = sizeof(b->nonce);
    if (avow_evidence_decode(d->der.ptr, d->der.len, avow_verifier_get0_profile(v), 0, &ev, NULL) !=
        AVOW_OK)
        return 1;
    avow_err rc = avow_verify_evidence(v, ev, &opts, NULL, NULL);
    avow_evidence_free(ev);
    return rc == AVOW_OK ? 0 : 1;
}

static int avow_warm_decoded(void *arg)
{
    bench *b = arg;
    avow_verify_opts opts;
    avow_verify_opts_init(&opts);
    opts.nonce = b->nonce;
    opts.nonce_len = sizeof(b->nonce);
    return avow_verify_evidence(b->warm, b->dev[0].ev, &opts, NULL, NULL) == AVOW_OK ? 0 : 1;
}

static int avow_warm_bytes(void *arg)
{
    bench *b = arg;
    return avow_from_bytes(b, b->warm, &b->dev[0]);
}

static int avow_cold(void *arg)
{
    bench *b = arg;
    return avow_from_bytes(b, b->cold, &b->dev[0]);
}

static int avow_cycling(void *arg)
{
    bench *b = arg;
    return avow_from_bytes(b, b->missing, &b->dev[b->next++ % NDEV]);
}

/* --- two threads on one verifier --- */

/* One thread's work on device k. */
typedef int (*thread_fn)(bench *b, int k);

static int t_raw(bench *b, int k)
{
    return digest_verify(b->dev[k].ak_pub, &b->dev[k]) ? 0 : 1;
}

static int t_bytes(bench *b, int k)
{
    return avow_from_bytes(b, b->warm, &b->dev[k]);
}

static int t_decoded(bench *b, int k)
{
    avow_verify_opts opts;
    avow_verify_opts_init(&opts);
    opts.nonce = b->nonce;
    opts.nonce_len = sizeof(b->nonce);
    return avow_verify_evidence(b->warm, b->dev[k].ev, &opts, NULL, NULL) == AVOW_OK ? 0 : 1;
}

typedef struct runner {
    bench *b;
    thread_fn fn;
    int k;
    atomic_int *stop;
    long ops;
    int failed;
    double cpu; /* this thread's CPU seconds over the run */
} runner;

static void *run_warm(void *arg)
{
    runner *r = arg;
    double start = bench_now();
    while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
        for (int i = 0; i < 16; i++)
            if (r->fn(r->b, r->k) != 0)
                r->failed = 1;
        r->ops += 16;
    }
    r->cpu = bench_now() - start;
    return NULL;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Operations per second of n threads together, wall clock, over `seconds`;
 * *per_cpu gets the operations per CPU-second the threads were given, which
 * a loaded machine does not change but contention (bouncing cache lines,
 * spinning) lowers.
 */
static double threads_rate(bench *b, thread_fn fn, int n, double seconds, double *per_cpu)
{
    atomic_int stop;
    atomic_init(&stop, 0);
    runner r[2];
    pthread_t th[2];
    double start = wall_now();
    for (int i = 0; i < n; i++) {
        r[i] = (runner){b, fn, i, &stop, 0, 0, 0};
        if (pthread_create(&th[i], NULL, run_warm, &r[i]) != 0)
            die("pthread_create", AVOW_ERR_INTERNAL);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    long ops = 0;
    double cpu = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (r[i].failed)
            die("threaded verify", AVOW_ERR_SIG_INVALID);
        ops += r[i].ops;
        cpu += r[i].cpu;
    }
    *per_cpu = cpu > 0 ? (double)ops / cpu : 0;
    return (double)ops / (wall_now() - start);
}

static int threads_compare(const char *what, bench *b, thread_fn fn, int rounds, double seconds,
                           double target)
{
    double *ratios = calloc((size_t)rounds, sizeof(double));
    double *cores = calloc((size_t)rounds, sizeof(double));
    double best1 = 0, best2 = 0, cpu1 = 0, cpu2 = 0;
    if (ratios == NULL || cores == NULL)
        exit(2);
    for (int r = 0; r < rounds; r++) {
        double c1, c2;
        double one = threads_rate(b, fn, 1, seconds, &c1),
               two = threads_rate(b, fn, 2, seconds, &c2);
        ratios[r] = two / one;
        best1 = one > best1 ? one : best1;
        best2 = two > best2 ? two : best2;
        cpu1 = c1 > cpu1 ? c1 : cpu1;
        cpu2 = c2 > cpu2 ? c2 : cpu2;
        cores[r] = c2 > 0 ? two / c2 : 0; /* CPU-seconds the two threads got per second */
    }
    qsort(cores, (size_t)rounds, sizeof(double), cmp_double);
    qsort(ratios, (size_t)rounds, sizeof(double), cmp_double);
    double median =
        rounds % 2 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
    double ratio = best2 / best1;
    printf("%s\n"
           "  one thread:        %10.0f ops/s (best of %d slices)\n"
           "  two threads:       %10.0f ops/s (best of %d slices)\n"
           "  ratio:             %10.3f (median of the %d per-round ratios %.3f, min %.3f, max "
           "%.3f)",
           what, best1, rounds, best2, rounds, ratio, rounds, median, ratios[0],
           ratios[rounds - 1]);
    if (target > 0)
        printf("; target >= %.2f: %s", target, ratio >= target ? "MET" : "NOT MET");
    /* Per CPU-second: 1.0 when two threads cost each other nothing; blocking does not show. */
    printf("\n  per CPU-second:    %10.3f of one thread's (%.0f vs %.0f ops per CPU-second)\n",
           cpu1 > 0 ? cpu2 / cpu1 : 0, cpu2, cpu1);
    /* What the machine gave: on an idle 2-core machine two threads get 2.0. */
    printf("  cores obtained:    %10.2f by the two threads (median of the rounds; max %.2f)\n",
           rounds % 2 ? cores[rounds / 2] : (cores[rounds / 2 - 1] + cores[rounds / 2]) / 2,
           cores[rounds - 1]);
    free(cores);
    free(ratios);
    return target <= 0 || ratio >= target ? 0 : 1;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.2;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 15;
    /* "threads": only the thread comparisons, for the quiet moments of a shared machine. */
    int only_threads = argc > 3 && strcmp(argv[3], "threads") == 0;
    if (seconds <= 0 || rounds <= 0 || (argc > 3 && !only_threads)) {
        fprintf(stderr, "usage: bench_chain_verify [seconds-per-slice] [rounds] [threads]\n");
        return 2;
    }
    bench b;
    memset(&b, 0, sizeof(b));
    setup(&b);
    if (raw_verify(&b) || openssl_cold(&b) || openssl_cycling(&b) || avow_warm_decoded(&b) ||
        avow_warm_bytes(&b) || avow_cold(&b) || avow_cycling(&b) || t_bytes(&b, 1) ||
        t_decoded(&b, 1))
        die("sanity check", AVOW_ERR_SIG_INVALID);
    printf("Evidence: %zu bytes, tbs %zu bytes; P-256 AK certificate (%zu bytes) as the signer, "
           "intermediate (%zu bytes) embedded, root as the anchor\n",
           b.dev[0].der.len, b.dev[0].tbs.len, b.dev[0].ak.len, b.dev[0].inter.len);
    int rc = 0;
    if (only_threads) {
        rc |= threads_compare("two threads on one verifier vs one thread, warm, decode + verify "
                              "from the bytes (wall clock; each thread its own device)",
                              &b, t_bytes, rounds, seconds, 1.8);
        threads_compare("for information: raw EVP_DigestVerify, one key per thread", &b, t_raw,
                        rounds, seconds, 0);
        teardown(&b);
        return rc;
    }
    rc |= bench_compare("warm: decode + verify from the bytes, chain cached, vs one "
                        "EVP_DigestVerify of the tbs (P-256, SHA-256, key parsed beforehand)",
                        raw_verify, avow_warm_bytes, &b, rounds, seconds, 0.85);
    rc |= bench_compare("cold: decode + verify from the bytes, no cache, vs OpenSSL parsing and "
                        "verifying the same from the same bytes (2 x d2i_X509, X509_verify_cert, "
                        "EVP_DigestVerify)",
                        openssl_cold, avow_cold, &b, rounds, seconds, 0.90);
    rc |= threads_compare("two threads on one verifier vs one thread, warm, decode + verify from "
                          "the bytes (wall clock; each thread its own device)",
                          &b, t_bytes, rounds, seconds, 1.8);
    int info = rounds > 5 ? 5 : rounds;
    threads_compare("for information: what two cores give now: raw EVP_DigestVerify, one key "
                    "per thread",
                    &b, t_raw, info, seconds, 0);
    bench_compare("for information: cold with the cache on and every lookup missing "
                  "(8 devices, 4 entries) vs OpenSSL from the bytes",
                  openssl_cycling, avow_cycling, &b, info, seconds, 0);
    bench_compare("for information: warm, verify of Evidence decoded beforehand vs one "
                  "EVP_DigestVerify",
                  raw_verify, avow_warm_decoded, &b, info, seconds, 0);
    threads_compare("for information: two threads vs one, warm, Evidence decoded beforehand", &b,
                    t_decoded, info, seconds, 0);
    teardown(&b);
    return rc;
}
