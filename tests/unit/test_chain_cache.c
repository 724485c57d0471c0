/*
 * The verifier's cache of validated chains: a hit gives the verdict a fresh
 * path validation would, for the same certificate (by its whole DER), the
 * same anchors, intermediates this call has and a time inside the chain's
 * validity; flag-dependent profile checks still run on every call; the cache
 * is bounded, optional, and safe to share between threads.
 */
#include "testutil.h"

#include <pthread.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "core/der.h"
#include "formats/evidence_int.h"

static const uint8_t NONCE[] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};

typedef struct fixture {
    tu_pki pki;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    tu_pki_make(&f->pki, NULL, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_pki_free(&f->pki);
    free(f);
    return 0;
}

/*
 * Evidence with a nonce signed by key under sid.certificate = cert, with
 * `inter` (may be NULL) in intermediateCertificates; through DER and back.
 */
static avow_evidence *evidence(EVP_PKEY *key, X509 *cert, X509 *inter)
{
    avow_evidence *ev = NULL;
    avow_signer *s = NULL;
    size_t tr, pl;
    OK(avow_evidence_new(NULL, &ev));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tr, NULL));
    OK(avow_evidence_add_bytes(ev, tr, AVOW_CLAIM_NONCE, NONCE, sizeof(NONCE), NULL));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &pl, NULL));
    OK(avow_evidence_add_utf8(ev, pl, AVOW_CLAIM_VENDOR, "Acme Corp", NULL));
    if (inter != NULL)
        OK(avow_evidence_add_intermediate(ev, inter, NULL));
    OK(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &s, NULL));
    OK(avow_signer_set1_cert(s, cert, NULL));
    OK(avow_evidence_sign(ev, s, AVOW_SID_CERT, NULL));
    avow_signer_free(s);
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence_free(ev);
    ev = NULL;
    avow_diag d = {0};
    if (avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d) != AVOW_OK)
        fail_msg("decode: %s %s", d.field, d.detail);
    avow_buf_free(&der);
    TU_NO_OSSL_ERR();
    return ev;
}

/* ev with one byte of its signed claims changed: the signature no longer verifies. */
static avow_evidence *tampered(const avow_evidence *ev)
{
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    uint8_t *at = NULL;
    for (size_t i = 0; i + 9 <= der.len && at == NULL; i++)
        if (memcmp(der.ptr + i, "Acme Corp", 9) == 0)
            at = (uint8_t *)der.ptr + i + 8;
    assert_non_null(at);
    *at = 'q';
    avow_evidence *out = NULL;
    OK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &out, NULL));
    avow_buf_free(&der);
    return out;
}

static avow_verifier *verifier(X509 *anchor, size_t cache)
{
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    OK(avow_verifier_add_anchor(v, anchor, NULL));
    if (cache != AVOW_VERIFIER_CACHE_DEFAULT)
        OK(avow_verifier_set_cache(v, cache, NULL));
    return v;
}

/* The verdict, with the contract every call keeps. */
static avow_err verdict(const avow_verifier *v, const avow_evidence *ev, unsigned flags,
                        STACK_OF(X509) * untrusted)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    o.flags = flags;
    o.untrusted = untrusted;
    avow_evidence_result *r = NULL;
    avow_diag d = {0};
    avow_err rc = avow_verify_evidence(v, ev, &o, &r, &d);
    TU_NO_OSSL_ERR();
    assert_non_null(r);
    assert_int_equal(r->status, rc);
    if (rc == AVOW_OK) {
        /* The chain handed out starts at this Evidence's certificate, ends at the anchor. */
        const avow_sig_result *s = &r->sigs[0];
        assert_non_null(s->chain);
        assert_ptr_equal(sk_X509_value(s->chain, 0), s->cert);
        assert_true(sk_X509_num(s->chain) >= 2);
    }
    avow_evidence_result_free(r);
    /* The verdict-only path (no result) says the same. */
    assert_int_equal(avow_verify_evidence(v, ev, &o, NULL, NULL), rc);
    return rc;
}

/* One verification, verdict only. */
static avow_err once(const avow_verifier *v, const avow_evidence *ev)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_err rc = avow_verify_evidence(v, ev, &o, NULL, NULL);
    TU_NO_OSSL_ERR();
    return rc;
}

static void stats(const avow_verifier *v, uint64_t hits, uint64_t misses, size_t entries)
{
    uint64_t h, m;
    size_t n;
    avow_verifier_cache_stats(v, &h, &m, &n);
    if (h != hits || m != misses || n != entries)
        fail_msg("cache: %llu hits, %llu misses, %zu entries; want %llu, %llu, %zu",
                 (unsigned long long)h, (unsigned long long)m, n, (unsigned long long)hits,
                 (unsigned long long)misses, entries);
}

static int64_t secs(const ASN1_TIME *t)
{
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
    return (int64_t)tu_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec);
}

/* Each verify of a known chain is one miss, then hits (two calls per verdict()). */
static void test_hits(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    stats(v, 0, 0, 0);
    avow_evidence *ev = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 1, 1, 1);
    /* Another Evidence, decoded anew, from the same device: the same chain. */
    avow_evidence *ev2 = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    assert_int_equal(verdict(v, ev2, 0, NULL), AVOW_OK);
    stats(v, 3, 1, 1);
    /* The intermediate given by the call instead of the Evidence: the same certificate. */
    avow_evidence *bare = evidence(f->pki.ak_key, f->pki.ak, NULL);
    STACK_OF(X509) *extra = sk_X509_new_null();
    assert_true(sk_X509_push(extra, f->pki.inter) > 0);
    assert_int_equal(verdict(v, bare, 0, extra), AVOW_OK);
    stats(v, 5, 1, 1);
    sk_X509_free(extra);
    avow_evidence_free(ev);
    avow_evidence_free(ev2);
    avow_evidence_free(bare);
    avow_verifier_free(v);
}

/* An entry is used only when this call has the certificates its chain went through. */
static void test_intermediate_must_be_present(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_evidence *with = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_evidence *bare = evidence(f->pki.ak_key, f->pki.ak, NULL);
    assert_int_equal(verdict(v, with, 0, NULL), AVOW_OK);
    stats(v, 1, 1, 1);
    /* Without the intermediate no path exists, cached or not. */
    assert_int_equal(verdict(v, bare, 0, NULL), AVOW_ERR_CHAIN);
    stats(v, 1, 3, 1);
    avow_verifier_free(v);

    /* An intermediate the verifier holds itself is always there. */
    v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    OK(avow_verifier_add_cert(v, f->pki.inter, NULL));
    assert_int_equal(verdict(v, with, 0, NULL), AVOW_OK);
    assert_int_equal(verdict(v, bare, 0, NULL), AVOW_OK);
    uint64_t hits = 0;
    avow_verifier_cache_stats(v, &hits, NULL, NULL);
    assert_true(hits >= 3);
    avow_verifier_free(v);
    avow_evidence_free(with);
    avow_evidence_free(bare);
}

/*
 * The key is the whole DER: a certificate with the same contents but
 * another signature is another certificate, and its own path decides.
 */
static void test_same_tbs_other_signature(void **state)
{
    fixture *f = *state;
    unsigned char *der = NULL;
    int len = i2d_X509(f->pki.ak, &der);
    assert_true(len > 8);
    der[len - 1] ^= 0x01; /* the last byte of the signature's s */
    const unsigned char *p = der;
    X509 *forged = d2i_X509(NULL, &p, len);
    assert_non_null(forged);
    OPENSSL_free(der);
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_evidence *good = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_evidence *bad = evidence(f->pki.ak_key, forged, f->pki.inter);
    assert_int_equal(verdict(v, good, 0, NULL), AVOW_OK);
    assert_int_equal(verdict(v, bad, 0, NULL), AVOW_ERR_CHAIN);
    assert_int_equal(verdict(v, good, 0, NULL), AVOW_OK);
    stats(v, 3, 3, 1);
    avow_evidence_free(good);
    avow_evidence_free(bad);
    avow_verifier_free(v);
    X509_free(forged);
}

/*
 * The verification time against the chain's validity, at its edges, with a
 * warm cache and without one: both must agree at every instant (OpenSSL
 * counts notBefore as valid and notAfter as expired).
 */
static void test_expiry_at_verification_time(void **state)
{
    fixture *f = *state;
    int64_t nb = INT64_MIN, na = INT64_MAX;
    X509 *chain[] = {f->pki.ak, f->pki.inter, f->pki.ca};
    for (size_t i = 0; i < 3; i++) {
        int64_t b = secs(X509_get0_notBefore(chain[i])), a = secs(X509_get0_notAfter(chain[i]));
        nb = b > nb ? b : nb;
        na = a < na ? a : na;
    }
    avow_verifier *warm = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_verifier *cold = verifier(f->pki.ca, 0);
    avow_evidence *ev = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_verifier_set_time(warm, (time_t)(nb + 3600));
    assert_int_equal(verdict(warm, ev, 0, NULL), AVOW_OK);
    stats(warm, 1, 1, 1);
    static const struct {
        int64_t delta; /* from `base` */
        int from_end;  /* base is the earliest notAfter, else the latest notBefore */
        avow_err want;
    } at[] = {
        {-1, 0, AVOW_ERR_CHAIN}, {0, 0, AVOW_OK},        {1, 0, AVOW_OK},
        {-1, 1, AVOW_OK},        {0, 1, AVOW_ERR_CHAIN}, {86400, 1, AVOW_ERR_CHAIN},
    };
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        time_t t = (time_t)((at[i].from_end ? na : nb) + at[i].delta);
        avow_verifier_set_time(warm, t);
        avow_verifier_set_time(cold, t);
        avow_err w = verdict(warm, ev, 0, NULL), c = verdict(cold, ev, 0, NULL);
        if (w != at[i].want || c != at[i].want)
            fail_msg("case %zu: cached %s, uncached %s, want %s", i, avow_errname(w),
                     avow_errname(c), avow_errname(at[i].want));
    }
    /* Three instants inside the validity hit; the three outside missed (and failed). */
    stats(warm, 1 + 3 * 2, 1 + 3 * 2, 1);
    /* Back to the clock: the certificates are valid now. */
    avow_verifier_clear_time(warm);
    assert_int_equal(verdict(warm, ev, 0, NULL), AVOW_OK);
    stats(warm, 9, 7, 1);
    avow_evidence_free(ev);
    avow_verifier_free(warm);
    avow_verifier_free(cold);
}

/* Another anchor is another anchor set: the old entries are not found under it. */
static void test_anchor_set_in_key(void **state)
{
    fixture *f = *state;
    tu_pki other;
    tu_pki_make(&other, NULL, 0);
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_evidence *ev = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 1, 1, 1);
    OK(avow_verifier_add_anchor(v, other.ca, NULL));
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 2, 2, 2);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    tu_pki_free(&other);
}

static void add_ext_resign(X509 *x, X509 *issuer, EVP_PKEY *issuer_key, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    int at = X509_get_ext_by_NID(x, nid, -1);
    if (at >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, at));
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
}

/* What the flags decide is decided on every call, hit or miss. */
static void test_flag_checks_per_call(void **state)
{
    fixture *f = *state;
    /* An AK certificate that is a CA: refused unless AVOW_VERIFY_ALLOW_AK_CA. */
    X509 *ca_ak = tu_cert_issue("CA AK", f->pki.ak_key, f->pki.inter, f->pki.int_key, 0, 0);
    add_ext_resign(ca_ak, f->pki.inter, f->pki.int_key, NID_basic_constraints, "critical,CA:TRUE");
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_evidence *ev = evidence(f->pki.ak_key, ca_ak, f->pki.inter);
    assert_int_equal(verdict(v, ev, AVOW_VERIFY_ALLOW_AK_CA, NULL), AVOW_OK);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_ERR_AK_CA);
    stats(v, 3, 1, 1);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    X509_free(ca_ak);

    /* An intermediate whose EKU lacks the AK EKU: refused unless AVOW_VERIFY_IGNORE_CA_EKU. */
    EVP_PKEY *ca_key = tu_key_ec("P-256"), *int_key = tu_key_ec("P-256");
    X509 *ca = tu_cert_issue("EKU root", ca_key, NULL, ca_key, 1, 0);
    X509 *in = tu_cert_issue("EKU intermediate", int_key, ca, ca_key, 1, 0);
    add_ext_resign(in, ca, ca_key, NID_ext_key_usage, "serverAuth");
    X509 *ak = tu_cert_issue("EKU AK", f->pki.ak_key, in, int_key, 0, 0);
    v = verifier(ca, AVOW_VERIFIER_CACHE_DEFAULT);
    ev = evidence(f->pki.ak_key, ak, in);
    assert_int_equal(verdict(v, ev, AVOW_VERIFY_IGNORE_CA_EKU, NULL), AVOW_OK);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_ERR_AK_EKU);
    stats(v, 3, 1, 1);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    X509_free(ak);
    X509_free(in);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(int_key);

    /* The signature itself is never cached: a tampered tbs fails on a hit. */
    v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    ev = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    avow_evidence *changed = tampered(ev);
    assert_int_equal(verdict(v, changed, 0, NULL), AVOW_ERR_SIG_INVALID);
    stats(v, 3, 1, 1);
    avow_evidence_free(changed);
    avow_evidence_free(ev);
    avow_verifier_free(v);
}

#define NAKS 5

typedef struct devices {
    EVP_PKEY *key[NAKS];
    X509 *cert[NAKS];
    avow_evidence *ev[NAKS];
} devices;

static void devices_make(devices *d, const tu_pki *pki)
{
    for (int i = 0; i < NAKS; i++) {
        d->key[i] = tu_key_ec("P-256");
        d->cert[i] = tu_cert_issue("device AK", d->key[i], pki->inter, pki->int_key, 0, 0);
        d->ev[i] = evidence(d->key[i], d->cert[i], pki->inter);
    }
}

static void devices_free(devices *d)
{
    for (int i = 0; i < NAKS; i++) {
        avow_evidence_free(d->ev[i]);
        X509_free(d->cert[i]);
        EVP_PKEY_free(d->key[i]);
    }
}

/* A bounded cache: never more entries than its size; CLOCK spares what was hit. */
static void test_bounded_eviction(void **state)
{
    fixture *f = *state;
    devices d;
    devices_make(&d, &f->pki);
    avow_verifier *v = verifier(f->pki.ca, 2);
    /* 0 and 1 fill it; a hit on 0 marks it. */
    assert_int_equal(once(v, d.ev[0]), AVOW_OK);
    assert_int_equal(once(v, d.ev[1]), AVOW_OK);
    assert_int_equal(once(v, d.ev[0]), AVOW_OK);
    stats(v, 1, 2, 2);
    /* 2 comes in: the hand spares 0 (hit since) and takes 1. */
    assert_int_equal(once(v, d.ev[2]), AVOW_OK);
    stats(v, 1, 3, 2);
    assert_int_equal(once(v, d.ev[0]), AVOW_OK);
    stats(v, 2, 3, 2); /* 0 is still there */
    assert_int_equal(once(v, d.ev[2]), AVOW_OK);
    stats(v, 3, 3, 2); /* and so is 2 */
    assert_int_equal(once(v, d.ev[1]), AVOW_OK);
    stats(v, 3, 4, 2); /* 1 was evicted, and comes back */
    /* Round robin over more devices than entries: every verdict stays right. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < NAKS; i++)
            assert_int_equal(verdict(v, d.ev[i], 0, NULL), AVOW_OK);
    uint64_t hits, misses;
    size_t n;
    avow_verifier_cache_stats(v, &hits, &misses, &n);
    assert_int_equal(n, 2);
    assert_int_equal(hits + misses, 7 + 3 * NAKS * 2);
    avow_verifier_free(v);
    devices_free(&d);
}

/* Off, resized, and the limits of the setter. */
static void test_set_cache(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, 0);
    avow_evidence *ev = evidence(f->pki.ak_key, f->pki.ak, f->pki.inter);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 0, 0, 0);
    OK(avow_verifier_set_cache(v, 1, NULL));
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 1, 1, 1);
    /* A new size is a new, empty cache. */
    OK(avow_verifier_set_cache(v, 8, NULL));
    stats(v, 0, 0, 0);
    avow_diag d = {0};
    assert_int_equal(avow_verifier_set_cache(v, (size_t)AVOW_VERIFIER_CACHE_MAX + 1, &d),
                     AVOW_ERR_ARG);
    assert_string_equal(d.field, "entries");
    assert_int_equal(avow_verifier_set_cache(NULL, 8, NULL), AVOW_ERR_ARG);
    OK(avow_verifier_set_cache(v, AVOW_VERIFIER_CACHE_MAX, NULL));
    assert_int_equal(verdict(v, ev, 0, NULL), AVOW_OK);
    stats(v, 1, 1, 1);
    avow_verifier_cache_stats(NULL, NULL, NULL, NULL);
    TU_NO_OSSL_ERR();
    avow_evidence_free(ev);
    avow_verifier_free(v);
}

#define THREADS 8
#define ROUNDS  40

typedef struct worker {
    const avow_verifier *v;
    const devices *d;
    const avow_evidence *bad; /* must fail every time */
    int seed;
    int ok, failed_right, wrong;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    for (int i = 0; i < ROUNDS; i++) {
        int k = (w->seed + i) % (NAKS + 1);
        if (k == NAKS) {
            if (avow_verify_evidence(w->v, w->bad, &o, NULL, NULL) == AVOW_ERR_SIG_INVALID)
                w->failed_right++;
            else
                w->wrong++;
            continue;
        }
        avow_evidence_result *r = NULL;
        avow_err rc = avow_verify_evidence(w->v, w->d->ev[k], &o, (i & 1) ? &r : NULL, NULL);
        if (rc == AVOW_OK && (r == NULL || sk_X509_num(r->sigs[0].chain) == 3))
            w->ok++;
        else
            w->wrong++;
        avow_evidence_result_free(r);
        if (ERR_peek_error() != 0)
            w->wrong++;
    }
    return NULL;
}

/*
 * One verifier, several threads: a cache smaller than the set of devices,
 * so lookups, insertions and evictions race. Run under ASan here and under
 * TSan by hand (docs/design.md).
 */
static void test_concurrent(void **state)
{
    fixture *f = *state;
    devices d;
    devices_make(&d, &f->pki);
    avow_evidence *bad = tampered(d.ev[0]);
    size_t sizes[] = {3, AVOW_VERIFIER_CACHE_DEFAULT};
    for (size_t s = 0; s < 2; s++) {
        avow_verifier *v = verifier(f->pki.ca, sizes[s]);
        worker w[THREADS];
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (worker){v, &d, bad, i, 0, 0, 0};
            assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
        }
        int total = 0;
        for (int i = 0; i < THREADS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(w[i].wrong, 0);
            total += w[i].ok + w[i].failed_right;
        }
        assert_int_equal(total, THREADS * ROUNDS);
        uint64_t hits, misses;
        size_t n;
        avow_verifier_cache_stats(v, &hits, &misses, &n);
        assert_true(n <= sizes[s]);
        assert_int_equal(hits + misses, THREADS * ROUNDS);
        assert_true(hits > 0);
        avow_verifier_free(v);
    }
    avow_evidence_free(bad);
    devices_free(&d);
}

/* --- embedded certificates kept as DER --- */

/* DER of Evidence signed under cert with inter embedded. */
static avow_buf evidence_der(EVP_PKEY *key, X509 *cert, X509 *inter)
{
    avow_evidence *ev = evidence(key, cert, inter);
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence_free(ev);
    return der;
}

static avow_evidence *decode_der(const avow_buf *der, avow_err want, avow_diag *d)
{
    avow_evidence *ev = NULL;
    avow_diag local = {0};
    avow_err rc = avow_evidence_decode(der->ptr, der->len, NULL, 0, &ev, d != NULL ? d : &local);
    if (rc != want)
        fail_msg("decode: %s, want %s (%s: %s)", avow_errname(rc), avow_errname(want),
                 d != NULL ? d->field : local.field, d != NULL ? d->detail : local.detail);
    TU_NO_OSSL_ERR();
    return ev;
}

/* Where cert's DER starts inside the Evidence's (it is carried whole). */
static size_t cert_at(const avow_buf *der, X509 *cert, size_t *len)
{
    unsigned char *c = NULL;
    int n = i2d_X509(cert, &c);
    assert_true(n > 0);
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + (size_t)n <= der->len && at == SIZE_MAX; i++)
        if (memcmp(der->ptr + i, c, (size_t)n) == 0)
            at = i;
    OPENSSL_free(c);
    assert_true(at != SIZE_MAX);
    *len = (size_t)n;
    return at;
}

/* Whether ev's signer certificate was decoded (the slot the getter fills). */
static int signer_decoded(const avow_evidence *ev)
{
    return atomic_load(&ev->sid_x509[0]) != NULL;
}

/*
 * A hit on identical bytes verifies without decoding the certificates: the
 * Evidence's lazy slots stay empty on the verdict-only path; a miss decodes
 * the signer once; the getters still give the certificates on demand.
 */
static void test_hit_decodes_no_certificate(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_buf der = evidence_der(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_evidence *first = decode_der(&der, AVOW_OK, NULL);
    assert_false(signer_decoded(first));
    assert_int_equal(once(v, first), AVOW_OK);
    assert_true(signer_decoded(first)); /* the miss validated it */
    stats(v, 0, 1, 1);
    for (int i = 0; i < 3; i++) {
        avow_evidence *again = decode_der(&der, AVOW_OK, NULL);
        assert_int_equal(once(v, again), AVOW_OK);
        assert_false(signer_decoded(again));
        assert_null(atomic_load(&again->inter_x509));
        /* On demand, the same certificates. */
        assert_int_equal(X509_cmp(avow_evidence_get0_signer_cert(again, 0), f->pki.ak), 0);
        assert_ptr_equal(avow_evidence_get0_signer_cert(again, 0),
                         avow_evidence_get0_signer_cert(again, 0));
        assert_int_equal(avow_evidence_intermediate_count(again), 1);
        assert_int_equal(
            X509_cmp(sk_X509_value(avow_evidence_get0_intermediates(again), 0), f->pki.inter), 0);
        avow_evidence_free(again);
    }
    stats(v, 3, 1, 1);
    avow_evidence_free(first);
    avow_buf_free(&der);
    avow_verifier_free(v);
}

/*
 * One byte changed inside the embedded AK certificate: other bytes are
 * another key, so the cache misses and the certificate is checked in full
 * (the decoder's DER and schema checks, OpenSSL's parse, the path).
 */
static void test_changed_certificate_byte(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_buf der = evidence_der(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_evidence *good = decode_der(&der, AVOW_OK, NULL);
    assert_int_equal(once(v, good), AVOW_OK);
    assert_int_equal(once(v, good), AVOW_OK);
    stats(v, 1, 1, 1);
    size_t n = 0, at = cert_at(&der, f->pki.ak, &n);
    uint8_t *c = (uint8_t *)der.ptr + at;

    /* The last byte of the certificate's signature: DER still, the path now fails. */
    c[n - 1] ^= 0x01;
    avow_evidence *forged = decode_der(&der, AVOW_OK, NULL);
    assert_int_equal(verdict(v, forged, 0, NULL), AVOW_ERR_CHAIN);
    stats(v, 1, 3, 1);
    avow_evidence_free(forged);
    c[n - 1] ^= 0x01;

    /* A byte of the subject's name ("Test AK"): the issuer's signature no longer covers it. */
    size_t name = SIZE_MAX;
    for (size_t i = 0; i + 7 <= n && name == SIZE_MAX; i++)
        if (memcmp(c + i, "Test AK", 7) == 0)
            name = i;
    assert_true(name != SIZE_MAX);
    c[name] ^= 0x20;
    avow_evidence *renamed = decode_der(&der, AVOW_OK, NULL);
    assert_int_equal(verdict(v, renamed, 0, NULL), AVOW_ERR_CHAIN);
    stats(v, 1, 5, 1);
    avow_evidence_free(renamed);
    c[name] ^= 0x20;

    /* critical TRUE written as 0x01: BER, refused by the decoder whatever the cache holds. */
    size_t crit = SIZE_MAX;
    for (size_t i = 0; i + 3 <= n && crit == SIZE_MAX; i++)
        if (c[i] == 0x01 && c[i + 1] == 0x01 && c[i + 2] == 0xff)
            crit = i + 2;
    assert_true(crit != SIZE_MAX);
    c[crit] = 0x01;
    avow_diag d = {0};
    avow_evidence *ber = decode_der(&der, AVOW_ERR_NOT_DER, &d);
    assert_null(ber);
    assert_non_null(strstr(d.field, "signatures[0].sid.certificate.tbsCertificate.extensions["));
    c[crit] = 0xff;

    /*
     * The certificate's outer signatureAlgorithm with an INTEGER for its OID:
     * DER, and the schema check reads that field as a TLV only, so the
     * decoder accepts it; OpenSSL's parser does not, and the verifier says so.
     */
    size_t tbs_h = 0, tbs_b = 0, oh = 0, ob = 0;
    uint8_t tag = 0;
    OK(avow__der_header(c, n, &tag, &oh, &ob));
    OK(avow__der_header(c + oh, n - oh, &tag, &tbs_h, &tbs_b));
    uint8_t *alg = c + oh + tbs_h + tbs_b; /* SEQUENCE { OID, ... } */
    assert_int_equal(alg[0], 0x30);
    assert_int_equal(alg[2], 0x06);
    alg[2] = 0x02;
    avow_evidence *odd = decode_der(&der, AVOW_OK, NULL);
    assert_null(avow_evidence_get0_signer_cert(odd, 0));
    TU_NO_OSSL_ERR();
    avow_evidence_result *r = NULL;
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    assert_int_equal(avow_verify_evidence(v, odd, &o, &r, &d), AVOW_ERR_BAD_CERT);
    assert_string_equal(d.field, "signatures[0]");
    assert_non_null(strstr(d.detail, "sid.certificate cannot be decoded"));
    avow_evidence_result_free(r);
    TU_NO_OSSL_ERR();
    avow_evidence_free(odd);
    alg[2] = 0x06;

    /* The original bytes hit again. */
    avow_evidence *back = decode_der(&der, AVOW_OK, NULL);
    uint64_t h0 = 0, h1 = 0;
    avow_verifier_cache_stats(v, &h0, NULL, NULL);
    assert_int_equal(once(v, back), AVOW_OK);
    avow_verifier_cache_stats(v, &h1, NULL, NULL);
    assert_int_equal(h1, h0 + 1);
    avow_evidence_free(back);
    avow_evidence_free(good);
    avow_buf_free(&der);
    avow_verifier_free(v);
}

/* A cached chain whose AK certificate has expired, or is not yet valid, at the verification time.
 */
static void test_hit_outside_validity(void **state)
{
    fixture *f = *state;
    avow_verifier *v = verifier(f->pki.ca, AVOW_VERIFIER_CACHE_DEFAULT);
    avow_buf der = evidence_der(f->pki.ak_key, f->pki.ak, f->pki.inter);
    int64_t nb = secs(X509_get0_notBefore(f->pki.ak)), na = secs(X509_get0_notAfter(f->pki.ak));
    avow_evidence *ev = decode_der(&der, AVOW_OK, NULL);
    assert_int_equal(once(v, ev), AVOW_OK);
    avow_evidence_free(ev);
    time_t when[] = {(time_t)(na + 1), (time_t)(nb - 1), (time_t)na};
    for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
        avow_verifier_set_time(v, when[i]);
        ev = decode_der(&der, AVOW_OK, NULL);
        avow_diag d = {0};
        avow_verify_opts o;
        avow_verify_opts_init(&o);
        o.nonce = NONCE;
        o.nonce_len = sizeof(NONCE);
        assert_int_equal(avow_verify_evidence(v, ev, &o, NULL, &d), AVOW_ERR_CHAIN);
        assert_non_null(strstr(d.detail, i == 1 ? "not yet valid" : "expired"));
        TU_NO_OSSL_ERR();
        avow_evidence_free(ev);
    }
    avow_verifier_clear_time(v);
    ev = decode_der(&der, AVOW_OK, NULL);
    assert_int_equal(once(v, ev), AVOW_OK);
    stats(v, 1, 4, 1);
    avow_evidence_free(ev);
    avow_buf_free(&der);
    avow_verifier_free(v);
}

typedef struct shared_worker {
    const avow_verifier *v;
    const avow_evidence *ev; /* one Evidence for every thread, its certificates not yet decoded */
    const avow_evidence *other;
    int wrong;
} shared_worker;

static void *shared_run(void *arg)
{
    shared_worker *w = arg;
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    for (int i = 0; i < 16; i++) {
        avow_evidence_result *r = NULL;
        const avow_evidence *ev = (i % 3 == 2) ? w->other : w->ev;
        if (avow_verify_evidence(w->v, ev, &o, (i & 1) ? &r : NULL, NULL) != AVOW_OK)
            w->wrong++;
        if (r != NULL && X509_cmp(r->sigs[0].cert, avow_evidence_get0_signer_cert(ev, 0)) != 0)
            w->wrong++;
        avow_evidence_result_free(r);
        if (avow_evidence_get0_intermediates(ev) == NULL)
            w->wrong++;
    }
    return NULL;
}

/*
 * Threads verifying one const Evidence whose certificates no one has
 * decoded yet race to decode them (the getters publish one object, the
 * losers free theirs), with the cache on and off, and with a second
 * Evidence of another device in between.
 */
static void test_concurrent_lazy_decode(void **state)
{
    fixture *f = *state;
    EVP_PKEY *key2 = EVP_EC_gen("P-256");
    X509 *ak2 = tu_cert_issue("device AK", key2, f->pki.inter, f->pki.int_key, 0, 0);
    avow_buf der = evidence_der(f->pki.ak_key, f->pki.ak, f->pki.inter);
    avow_buf der2 = evidence_der(key2, ak2, f->pki.inter);
    for (size_t cache = 0; cache < 2; cache++) {
        avow_verifier *v = verifier(f->pki.ca, cache ? AVOW_VERIFIER_CACHE_DEFAULT : 0);
        avow_evidence *ev = decode_der(&der, AVOW_OK, NULL);
        avow_evidence *ev2 = decode_der(&der2, AVOW_OK, NULL);
        shared_worker w[THREADS];
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (shared_worker){v, ev, ev2, 0};
            assert_int_equal(pthread_create(&th[i], NULL, shared_run, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(w[i].wrong, 0);
        }
        avow_evidence_free(ev);
        avow_evidence_free(ev2);
        avow_verifier_free(v);
    }
    avow_buf_free(&der);
    avow_buf_free(&der2);
    X509_free(ak2);
    EVP_PKEY_free(key2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits),
        cmocka_unit_test(test_intermediate_must_be_present),
        cmocka_unit_test(test_same_tbs_other_signature),
        cmocka_unit_test(test_expiry_at_verification_time),
        cmocka_unit_test(test_anchor_set_in_key),
        cmocka_unit_test(test_flag_checks_per_call),
        cmocka_unit_test(test_bounded_eviction),
        cmocka_unit_test(test_set_cache),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_hit_decodes_no_certificate),
        cmocka_unit_test(test_changed_certificate_byte),
        cmocka_unit_test(test_hit_outside_validity),
        cmocka_unit_test(test_concurrent_lazy_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
