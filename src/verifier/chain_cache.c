/*
 * The verifier's cache of validated attestation-key chains.
 *
 * Path validation (X509_verify_cert) costs several signature checks and,
 * with OpenSSL 3.0, more again in allocations; the Evidence of one device
 * arrives again and again with the same certificate. So a chain that
 * validated is kept, and the next Evidence signed under the same
 * certificate costs one SHA-256 of its bytes and one signature check: the
 * decoder keeps embedded certificates as DER, and an entry holds what a
 * verification needs of them (the chain, the signer's key, the facts the AK
 * profile rules read, and a prepared ECDSA verification), so a hit decodes
 * no certificate, key or extension and fetches nothing from a provider.
 *
 * What a hit promises is exactly what a fresh X509_verify_cert would find:
 * a valid path from this certificate to one of this verifier's anchors,
 * through certificates this call has, at this call's time. The key is
 * therefore the SHA-256 of the certificate's DER (signature included), the
 * digest of the anchor set, and the SHA-256 of each certificate between the
 * two; an entry is used only when every one of those certificates is among
 * the verifier's own or this call's untrusted certificates, and when the
 * verification time lies within the validity of every certificate of the
 * chain (its latest notBefore to its earliest notAfter, as OpenSSL compares
 * them). Nothing that depends on the AVOW_VERIFY_* flags is cached: the
 * facts are, and the flags are applied to them on every call.
 *
 * Readers share a read lock; only an insertion takes the write lock.
 * Eviction is CLOCK (second chance): a hit sets the entry's reference bit,
 * a relaxed atomic store done only when the bit is clear, so hits from
 * several threads write nothing shared in the common case; the clock hand,
 * under the write lock, evicts the first entry whose bit is clear.
 */
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "verifier/verify_int.h"

#define NONE UINT32_MAX

/* One validated chain: its key and what a hit hands out. */
typedef struct chain_data {
    uint8_t leaf[AVOW__SHA256_LEN];
    uint8_t anchors[AVOW__SHA256_LEN];
    STACK_OF(X509) * chain;             /* signer first, anchor last; references held */
    uint8_t (*inter)[AVOW__SHA256_LEN]; /* SHA-256 of the intermediates (chain[1..n-2]) */
    uint8_t *own;                       /* per intermediate: 1 when among the verifier's certs */
    int ninter;
    int64_t not_before;  /* latest notBefore of the chain */
    int64_t not_after;   /* earliest notAfter of the chain */
    avow__akfacts facts; /* of the signer and the chain, for the per-call profile checks */
    /*
     * EVP_PKEY_verify_init done once on the signer's key (ECDSA keys): a hit
     * copies it (EVP_PKEY_CTX_dup, references and no fetch) instead of
     * EVP_DigestVerifyInit fetching the signature and digest on every call.
     * Only ever read after it is made.
     */
    EVP_PKEY_CTX *verify;
} chain_data;

typedef struct entry {
    chain_data d;
    uint32_t next;    /* next entry of the same bucket */
    atomic_uchar ref; /* CLOCK's reference bit */
} entry;

struct avow__chain_cache {
    CRYPTO_RWLOCK *lock;
    EVP_MD *sha256; /* fetched once: a fetch per hash would take OpenSSL's own locks */
    size_t cap, count, hand;
    entry *slots;
    uint32_t *buckets;
    size_t mask; /* buckets - 1 (a power of two) */
    atomic_uint_fast64_t hits, misses;
};

avow_err avow__chain_cache_new(size_t entries, avow__chain_cache **out)
{
    *out = NULL;
    if (entries == 0 || entries > AVOW_VERIFIER_CACHE_MAX)
        return AVOW_ERR_ARG;
    avow__chain_cache *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return AVOW_ERR_NOMEM;
    size_t nb = 1;
    while (nb < 2 * entries)
        nb <<= 1;
    c->cap = entries;
    c->mask = nb - 1;
    c->lock = CRYPTO_THREAD_lock_new();
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->slots = OPENSSL_zalloc(entries * sizeof(*c->slots));
    c->buckets = OPENSSL_malloc(nb * sizeof(*c->buckets));
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    if (c->lock == NULL || c->sha256 == NULL || c->slots == NULL || c->buckets == NULL) {
        avow__chain_cache_free(c);
        avow__ossl_clear();
        return AVOW_ERR_NOMEM;
    }
    for (size_t i = 0; i < entries; i++)
        atomic_init(&c->slots[i].ref, 0);
    for (size_t i = 0; i < nb; i++)
        c->buckets[i] = NONE;
    *out = c;
    return AVOW_OK;
}

static void data_clear(chain_data *d)
{
    sk_X509_pop_free(d->chain, X509_free);
    EVP_PKEY_CTX_free(d->verify);
    OPENSSL_free(d->inter);
    OPENSSL_free(d->own);
    memset(d, 0, sizeof(*d));
}

void avow__chain_cache_free(avow__chain_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->slots != NULL && i < c->cap; i++)
        data_clear(&c->slots[i].d);
    OPENSSL_free(c->slots);
    OPENSSL_free(c->buckets);
    EVP_MD_free(c->sha256);
    CRYPTO_THREAD_lock_free(c->lock);
    OPENSSL_free(c);
}

void avow__chain_cache_stats(avow__chain_cache *c, uint64_t *hits, uint64_t *misses,
                             size_t *entries)
{
    *hits = c != NULL ? atomic_load_explicit(&c->hits, memory_order_relaxed) : 0;
    *misses = c != NULL ? atomic_load_explicit(&c->misses, memory_order_relaxed) : 0;
    *entries = 0;
    if (c != NULL && CRYPTO_THREAD_read_lock(c->lock)) {
        *entries = c->count;
        CRYPTO_THREAD_unlock(c->lock);
    }
}

int avow__cert_sha256(const EVP_MD *md, X509 *cert, uint8_t out[AVOW__SHA256_LEN])
{
    unsigned int len = 0;
    if (md == NULL)
        md = EVP_sha256();
    if (X509_digest(cert, md, out, &len) != 1 || len != AVOW__SHA256_LEN) {
        avow__ossl_clear();
        return 0;
    }
    return 1;
}

int avow__sha256(const EVP_MD *md, const uint8_t *p, size_t n, uint8_t out[AVOW__SHA256_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, md != NULL ? md : EVP_sha256(), NULL) != 1 ||
        len != AVOW__SHA256_LEN) {
        avow__ossl_clear();
        return 0;
    }
    return 1;
}

const EVP_MD *avow__chain_cache_md(const avow__chain_cache *c)
{
    return c != NULL ? c->sha256 : NULL;
}

/* The certificates this call adds for path building, hashed on first need. */
static int call_has(const avow__chain_cache *c, avow__callcerts *cc,
                    const uint8_t want[AVOW__SHA256_LEN])
{
    if (cc->hashed == 0) {
        int n0 = sk_X509_num(cc->extra);
        size_t n1 = avow_evidence_intermediate_count(cc->ev);
        size_t n = (size_t)(n0 > 0 ? n0 : 0) + n1;
        cc->hashed = -1;
        cc->sha256 = n > 0 ? OPENSSL_malloc(n * sizeof(*cc->sha256)) : NULL;
        if (n > 0 && cc->sha256 == NULL)
            return 0;
        size_t k = 0;
        for (int i = 0; i < n0; i++)
            if (!avow__cert_sha256(c->sha256, sk_X509_value(cc->extra, i), cc->sha256[k++]))
                return 0;
        /* The Evidence's own are hashed as the bytes it carries: nothing is decoded. */
        for (size_t i = 0; i < n1; i++) {
            avow_view der = avow_evidence_intermediate_der(cc->ev, i);
            if (!avow__sha256(c->sha256, der.ptr, der.len, cc->sha256[k++]))
                return 0;
        }
        cc->n = k;
        cc->hashed = 1;
    }
    if (cc->hashed != 1)
        return 0;
    for (size_t i = 0; i < cc->n; i++)
        if (memcmp(cc->sha256[i], want, AVOW__SHA256_LEN) == 0)
            return 1;
    return 0;
}

void avow__callcerts_clear(avow__callcerts *cc)
{
    OPENSSL_free(cc->sha256);
    cc->sha256 = NULL;
    cc->n = 0;
    cc->hashed = 0;
}

static size_t bucket_of(const avow__chain_cache *c, const uint8_t leaf[AVOW__SHA256_LEN])
{
    size_t h = 0;
    memcpy(&h, leaf, sizeof(h));
    return h & c->mask;
}

void avow__chain_hit_clear(avow__chain_hit *h)
{
    sk_X509_pop_free(h->chain, X509_free);
    EVP_PKEY_free(h->key);
    EVP_PKEY_CTX_free(h->verify);
    memset(h, 0, sizeof(*h));
}

/* What a hit hands out, made under the read lock (the entry cannot be evicted meanwhile). */
static int hand_out(const chain_data *d, int want_chain, avow__chain_hit *hit)
{
    EVP_PKEY *key = X509_get0_pubkey(sk_X509_value(d->chain, 0));
    if (key == NULL || !EVP_PKEY_up_ref(key))
        return 0;
    hit->key = key;
    hit->facts = d->facts;
    if (d->verify != NULL && (hit->verify = EVP_PKEY_CTX_dup(d->verify)) == NULL)
        return 0;
    if (!want_chain)
        return 1;
    int n = sk_X509_num(d->chain);
    if ((hit->chain = sk_X509_new_reserve(NULL, n)) == NULL)
        return 0;
    for (int k = 0; k < n; k++) {
        X509 *x = sk_X509_value(d->chain, k);
        if (!X509_up_ref(x))
            return 0;
        if (sk_X509_push(hit->chain, x) <= 0) {
            X509_free(x);
            return 0;
        }
    }
    return 1;
}

int avow__chain_cache_get(const avow_verifier *v, const uint8_t leaf[AVOW__SHA256_LEN], int64_t at,
                          avow__callcerts *cc, int want_chain, avow__chain_hit *hit)
{
    avow__chain_cache *c = v->cache;
    memset(hit, 0, sizeof(*hit));
    if (!CRYPTO_THREAD_read_lock(c->lock))
        return 0;
    int found = 0;
    for (uint32_t i = c->buckets[bucket_of(c, leaf)]; i != NONE && !found; i = c->slots[i].next) {
        entry *e = &c->slots[i];
        const chain_data *d = &e->d;
        if (memcmp(d->leaf, leaf, sizeof(d->leaf)) != 0 ||
            memcmp(d->anchors, v->anchors, sizeof(d->anchors)) != 0)
            continue;
        /* OpenSSL's own comparison: valid from notBefore, expired at notAfter. */
        if (at < d->not_before || at >= d->not_after)
            continue;
        int present = 1;
        for (int k = 0; k < d->ninter && present; k++)
            present = d->own[k] || call_has(c, cc, d->inter[k]);
        if (!present)
            continue;
        if (!hand_out(d, want_chain, hit)) {
            avow__chain_hit_clear(hit);
            break; /* no memory: the caller builds the path itself */
        }
        if (!atomic_load_explicit(&e->ref, memory_order_relaxed))
            atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
        found = 1;
    }
    CRYPTO_THREAD_unlock(c->lock);
    atomic_fetch_add_explicit(found ? &c->hits : &c->misses, 1, memory_order_relaxed);
    if (!found)
        avow__ossl_clear();
    return found;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int asn1_time_secs(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *out =
        days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
            86400 +
        tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 1;
}

static int own_cert(const avow_verifier *v, const uint8_t h[AVOW__SHA256_LEN])
{
    for (size_t i = 0; i < v->ncerts; i++)
        if (memcmp(v->certs[i].sha256, h, AVOW__SHA256_LEN) == 0)
            return 1;
    return 0;
}

EVP_PKEY_CTX *avow__verify_prepare(EVP_PKEY *key)
{
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        avow__ossl_clear();
        return NULL;
    }
    return ctx;
}

/* Builds the entry for chain (leaf first, anchor last) outside the lock. */
static int data_make(const avow_verifier *v, const avow__chain_cache *c,
                     const uint8_t leaf[AVOW__SHA256_LEN], STACK_OF(X509) * chain,
                     const avow__akfacts *facts, chain_data *e)
{
    int n = sk_X509_num(chain);
    memset(e, 0, sizeof(*e));
    if (n < 1)
        return 0;
    memcpy(e->leaf, leaf, sizeof(e->leaf));
    memcpy(e->anchors, v->anchors, sizeof(e->anchors));
    e->facts = *facts;
    e->not_before = INT64_MIN;
    e->not_after = INT64_MAX;
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        int64_t nb, na;
        if (!asn1_time_secs(X509_get0_notBefore(x), &nb) ||
            !asn1_time_secs(X509_get0_notAfter(x), &na))
            return 0;
        if (nb > e->not_before)
            e->not_before = nb;
        if (na < e->not_after)
            e->not_after = na;
    }
    e->ninter = n > 2 ? n - 2 : 0;
    e->chain = sk_X509_new_reserve(NULL, n);
    if (e->chain == NULL)
        return 0;
    if (e->ninter > 0) {
        e->inter = OPENSSL_malloc((size_t)e->ninter * sizeof(*e->inter));
        e->own = OPENSSL_malloc((size_t)e->ninter);
        if (e->inter == NULL || e->own == NULL)
            return 0;
    }
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (i > 0 && i < n - 1) {
            if (!avow__cert_sha256(c->sha256, x, e->inter[i - 1]))
                return 0;
            e->own[i - 1] = (uint8_t)own_cert(v, e->inter[i - 1]);
        }
        if (!X509_up_ref(x))
            return 0;
        if (sk_X509_push(e->chain, x) <= 0) {
            X509_free(x);
            return 0;
        }
    }
    e->verify = avow__verify_prepare(X509_get0_pubkey(sk_X509_value(chain, 0)));
    return 1;
}

static int same_key(const chain_data *a, const chain_data *b)
{
    if (memcmp(a->leaf, b->leaf, sizeof(a->leaf)) != 0 ||
        memcmp(a->anchors, b->anchors, sizeof(a->anchors)) != 0 || a->ninter != b->ninter)
        return 0;
    for (int k = 0; k < a->ninter; k++)
        if (memcmp(a->inter[k], b->inter[k], AVOW__SHA256_LEN) != 0)
            return 0;
    return 1;
}

static void unlink_slot(avow__chain_cache *c, uint32_t idx)
{
    uint32_t *p = &c->buckets[bucket_of(c, c->slots[idx].d.leaf)];
    while (*p != NONE && *p != idx)
        p = &c->slots[*p].next;
    if (*p == idx)
        *p = c->slots[idx].next;
}

void avow__chain_cache_put(const avow_verifier *v, const uint8_t leaf[AVOW__SHA256_LEN],
                           STACK_OF(X509) * chain, const avow__akfacts *facts)
{
    avow__chain_cache *c = v->cache;
    chain_data fresh, old;
    memset(&old, 0, sizeof(old));
    if (!data_make(v, c, leaf, chain, facts, &fresh)) {
        data_clear(&fresh);
        avow__ossl_clear();
        return; /* not cached: the next call validates again */
    }
    if (!CRYPTO_THREAD_write_lock(c->lock)) {
        data_clear(&fresh);
        return;
    }
    size_t b = bucket_of(c, leaf);
    for (uint32_t i = c->buckets[b]; i != NONE; i = c->slots[i].next) {
        if (same_key(&c->slots[i].d, &fresh)) {
            /* Another thread was first; its entry is the same chain. */
            CRYPTO_THREAD_unlock(c->lock);
            data_clear(&fresh);
            return;
        }
    }
    uint32_t idx;
    if (c->count < c->cap) {
        idx = (uint32_t)c->count++;
    } else {
        /* Second chance: an entry hit since the hand last passed is spared once. */
        while (atomic_load_explicit(&c->slots[c->hand].ref, memory_order_relaxed)) {
            atomic_store_explicit(&c->slots[c->hand].ref, 0, memory_order_relaxed);
            c->hand = (c->hand + 1) % c->cap;
        }
        idx = (uint32_t)c->hand;
        c->hand = (c->hand + 1) % c->cap;
        unlink_slot(c, idx);
        old = c->slots[idx].d;
    }
    entry *e = &c->slots[idx];
    e->d = fresh;
    atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
    e->next = c->buckets[b];
    c->buckets[b] = idx;
    CRYPTO_THREAD_unlock(c->lock);
    /* The evicted chain's references are dropped outside the lock. */
    data_clear(&old);
}
