/*
 * Internal interface of the verifier: building the normalised claim set
 * that verify hands to appraisal.
 */
#ifndef AVOW_VERIFY_INT_H
#define AVOW_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <openssl/x509.h>

#include <avow/claims.h>
#include <avow/evidence.h>
#include <avow/profile.h>
#include <avow/sigalg.h>
#include <avow/verify.h>

#include "core/x509_int.h"

#define AVOW__SHA256_LEN 32

/* An untrusted certificate with what lookups compare, computed once when added. */
typedef struct avow__vcert {
    X509 *cert;
    uint8_t *spki; /* DER SubjectPublicKeyInfo */
    size_t spki_len;
    uint8_t sha256[AVOW__SHA256_LEN]; /* of the certificate's DER, for the chain cache */
} avow__vcert;

/* The cache of validated chains (chain_cache.c); NULL in a verifier when off. */
typedef struct avow__chain_cache avow__chain_cache;

/*
 * EVP_PKEY_verify_init done once on an ECDSA key, for copies
 * (EVP_PKEY_CTX_dup) that avow__sigalg_verify_prepared uses: no fetch per
 * verification. NULL for other keys, which verify through EVP_DigestVerify.
 */
EVP_PKEY_CTX *avow__verify_prepare(EVP_PKEY *key);

/* A trusted raw key, found by its explicit key id, a derived one, or its SPKI DER. */
typedef struct avow__vkey {
    uint8_t *id; /* the caller's key id; NULL when none was given */
    size_t id_len;
    EVP_PKEY *pub;
    EVP_PKEY_CTX *verify; /* avow__verify_prepare(pub); only read after set-up */
    uint8_t *spki;
    size_t spki_len;
    avow__key_ids ids; /* RFC 5280 and RFC 7093 identifiers of spki */
    /* SHA-256 of the subjectPublicKey bits, whole (RFC 7093 method 1 keeps 160 bits of it):
     * identifiers derived from the public value, such as a PSA instance id, compare to it. */
    uint8_t bits_sha256[AVOW__SHA256_LEN];
} avow__vkey;

/* A trusted secret (MAC key), found by its key id only. */
typedef struct avow__vsecret {
    uint8_t *id;
    size_t id_len;
    uint8_t *key;
    size_t key_len;
} avow__vsecret;

/* A verifier's key for Attestation Results, with the JWS kid it answers to (NULL: any). */
typedef struct avow__result_key {
    char *kid;
    EVP_PKEY *pub;
} avow__result_key;

/*
 * Everything is set up by the avow_verifier_* setters and only read by
 * avow_verify_evidence, which is what makes concurrent verification safe:
 * the X509_STORE is filled as anchors are added, never during a verify.
 */
struct avow_verifier {
    avow_profile profile;
    X509_STORE *store;          /* trust anchors */
    STACK_OF(X509) * untrusted; /* the certs of `certs`, for path building */
    avow__vcert *certs;
    size_t ncerts, capcerts;
    avow__vkey *keys;
    size_t nkeys, capkeys;
    avow__vsecret *secrets;
    size_t nsecrets, capsecrets;
    time_t at;
    int at_set; /* at is meant, even 0; unset: the current time at each verification */
    unsigned flags;
    /* SHA-256 chained over the anchors' DER SHA-256s as they were added: part of
     * every cache key, so an entry never outlives the anchor set it was made under. */
    uint8_t anchors[AVOW__SHA256_LEN];
    avow__chain_cache *cache; /* its own lock: shared by concurrent verifications */
    /*
     * SHA-256/384/512 fetched once: EVP_sha256() and friends make OpenSSL 3
     * fetch on every use, through its method store and its locks, which
     * two threads verifying at once then contend for.
     */
    EVP_MD *md[3];
    /* Verifiers whose Attestation Results are trusted (passport model), apart from keys[]. */
    avow__result_key *rkeys;
    size_t nrkeys, caprkeys;
    unsigned result_max_age; /* seconds; AVOW_RESULT_MAX_AGE_DEFAULT unless set */
};

/* The secret whose key id is id[0..len), or NULL. */
const avow__vsecret *avow__verifier_secret(const avow_verifier *v, const uint8_t *id, size_t len);

/* v's fetched digest of the hash of alg (its avow__sigalg_md), or NULL when it has none. */
const EVP_MD *avow__verifier_md(const avow_verifier *v, avow_sigalg alg);

/* SHA-256 of p[0..n) with md (fetched; NULL: EVP_sha256()). Returns 1, or 0 with the queue cleared.
 */
int avow__sha256(const EVP_MD *md, const uint8_t *p, size_t n, uint8_t out[AVOW__SHA256_LEN]);

/*
 * What the AK profile checks of a signer certificate and its chain depend
 * on, read once when the path validates and kept with the cached chain, so
 * a hit decodes no extension; the AVOW_VERIFY_* flags are applied to them
 * on every call (verify_evidence.c).
 */
typedef struct avow__akfacts {
    int ku;        /* keyUsage present, with digitalSignature */
    int eku;       /* 1 lists the AK EKU, 0 lacks it, -1 no extendedKeyUsage at all */
    int ca;        /* basicConstraints CA:TRUE */
    int chain_eku; /* chain depth of the first intermediate whose EKU excludes the AK EKU; 0 none */
} avow__akfacts;

/*
 * The facts of cert (the signer) and chain (as X509_verify_cert returned it)
 * under v's profile, as a cache entry keeps them (verify_evidence.c). A row
 * that validates a path of its own (the TPM row's AK certificate) puts them
 * with the chain, so the entry answers the PKIX row too.
 */
void avow__ak_facts(const avow_verifier *v, X509 *cert, STACK_OF(X509) * chain, avow__akfacts *f);

/* Creates a cache of `entries` chains (1..AVOW_VERIFIER_CACHE_MAX). Errors: ARG, NOMEM. */
avow_err avow__chain_cache_new(size_t entries, avow__chain_cache **out);
void avow__chain_cache_free(avow__chain_cache *c);
void avow__chain_cache_stats(avow__chain_cache *c, uint64_t *hits, uint64_t *misses,
                             size_t *entries);
/* The cache's SHA-256 (fetched once); NULL for NULL. */
const EVP_MD *avow__chain_cache_md(const avow__chain_cache *c);

/* SHA-256 of cert's DER with md (NULL: EVP_sha256()). Returns 1, or 0 with the queue cleared. */
int avow__cert_sha256(const EVP_MD *md, X509 *cert, uint8_t out[AVOW__SHA256_LEN]);

/*
 * The certificates one call adds for path building (avow_verify_opts.untrusted
 * and the Evidence's intermediateCertificates, the latter as their DER),
 * borrowed; their hashes are made only when a cache entry needs one of them.
 * Zero-initialise; clear with avow__callcerts_clear.
 */
typedef struct avow__callcerts {
    STACK_OF(X509) * extra;
    const avow_evidence *ev;
    uint8_t (*sha256)[AVOW__SHA256_LEN];
    size_t n;
    int hashed; /* 0 not yet, 1 done, -1 failed (then nothing from the call matches) */
} avow__callcerts;
void avow__callcerts_clear(avow__callcerts *cc);

/* What a cache hit hands out; clear with avow__chain_hit_clear. */
typedef struct avow__chain_hit {
    STACK_OF(X509) * chain; /* when asked for: signer first, anchor last, references held */
    EVP_PKEY *key;          /* the signer's key, a reference held */
    EVP_PKEY_CTX *verify;   /* a copy of the entry's prepared verification (ECDSA), or NULL */
    avow__akfacts facts;
} avow__chain_hit;
void avow__chain_hit_clear(avow__chain_hit *h);

/*
 * A validated chain for the certificate whose DER SHA-256 is leaf, at time
 * `at`, under v's anchors, through certificates of v or cc only. On a hit
 * returns 1 and fills *hit (the chain only when want_chain); otherwise 0
 * with *hit zeroed. v->cache must not be NULL.
 */
int avow__chain_cache_get(const avow_verifier *v, const uint8_t leaf[AVOW__SHA256_LEN], int64_t at,
                          avow__callcerts *cc, int want_chain, avow__chain_hit *hit);

/*
 * Keeps chain (as X509_verify_cert returned it, signer first) for the
 * signer's hash leaf with its facts; best effort.
 */
void avow__chain_cache_put(const avow_verifier *v, const uint8_t leaf[AVOW__SHA256_LEN],
                           STACK_OF(X509) * chain, const avow__akfacts *facts);

/*
 * Fills *out with one avow_nclaim per claim of ev, in element order, each
 * with signed_by set to `signed_by` (every signature covers all of tbs).
 * Values are views into ev; the names made for unknown OIDs live in the same
 * allocation as the items, so avow_claimset_clear frees everything.
 * unknown_elements / unknown_claims (may be NULL) receive the counts of
 * entries outside the claim table. Errors: AVOW_ERR_NOMEM.
 */
avow_err avow__claimset_build(const avow_evidence *ev, uint32_t signed_by, avow_claimset *out,
                              size_t *unknown_elements, size_t *unknown_claims);

/*
 * avow_verify_evidence, with the claim set of the result made only when
 * want_claims is 1 (the registry row makes its own from the signatures).
 */
avow_err avow__verify_evidence(const avow_verifier *v, const avow_evidence *ev,
                               const avow_verify_opts *opts, int want_claims,
                               avow_evidence_result **out, avow_diag *diag);

/*
 * The certificate that would name signature block i's signer before any
 * signature is checked (`avow csr show`): the sid's certificate; else, for a
 * subjectPublicKeyInfo, the first of certs (a request's bundle) with that key;
 * else, for a keyId, the first of certs, then of the Evidence's
 * intermediateCertificates, whose SubjectKeyIdentifier it is. The order and
 * the tests are the verifier's, without its key set. A keyId beside a
 * subjectPublicKeyInfo must name that key (an id derived from it or the
 * certificate's SubjectKeyIdentifier). NULL when none; *where (may be NULL)
 * is "sid.certificate", "certs[K]" or "intermediateCertificates[K]".
 * The certificate is borrowed from ev or certs.
 */
X509 *avow__evidence_signer_cert_in(const avow_evidence *ev, size_t i, STACK_OF(X509) * certs,
                                    char *where, size_t where_cap);

#endif
