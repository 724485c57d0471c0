/*
 * The OAuth server check (avow_oauth_verify) of a Client Attestation + PoP
 * pair, as a ratio of the raw OpenSSL work it cannot avoid, measured in
 * the same run: two ES256 verifies (EVP_DigestVerify with prepared P-256
 * keys and DER signatures) over the same signing inputs. What avow adds is
 * the format: headers, base64url, JSON with duplicate checks, typ/alg/crit,
 * the claims, the cnf JWK turned into a key, the raw r||s signature into DER.
 * The server keeps an avow_oauth_key_cache, as a long-running one does: the
 * cnf key and the attester key's verification are set up once.
 * No replay set (its fsync is the disk's cost, not the check's); a second,
 * informative figure adds the SQLite replay set on a file in /tmp.
 *
 * Usage: bench_oauth_verify [seconds-per-slice] [rounds]   (default 0.2 s, 15 rounds)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <avow/avow.h>
#include <avow/oauth.h>

#include "bench_jws.h"
#include "bench_util.h"

typedef struct {
    avow_buf att, pop;
    EVP_PKEY *att_key, *cli_key;
    avow_buf att_sig, pop_sig; /* DER */
    size_t att_in, pop_in;     /* signing input lengths */
    avow_oauth_replay *replay;
    avow_buf cnf_jwk; /* the client key as the attestation's cnf.jwk */
    long jti;
    avow_signer *cli_signer;
    avow_oauth_key_cache *cache; /* what a server keeps across requests; NULL: none */
} bench;

static void die(const char *what)
{
    fprintf(stderr, "bench: %s failed\n", what);
    exit(2);
}

static int raw_verify(void *arg)
{
    bench *b = arg;
    const struct {
        EVP_PKEY *k;
        const avow_buf *tok, *sig;
        size_t n;
    } v[2] = {{b->att_key, &b->att, &b->att_sig, b->att_in},
              {b->cli_key, &b->pop, &b->pop_sig, b->pop_in}};
    for (int i = 0; i < 2; i++)
        if (bench_es256_verify(v[i].k, v[i].tok, v[i].n, v[i].sig) != 0)
            return 1;
    return 0;
}

/* The same with the cnf JWK made into a key first, as a verifier must: the key import is
 * OpenSSL's point decoding and check, which a caller holding parsed keys never pays. */
static int raw_verify_import(void *arg)
{
    bench *b = arg;
    EVP_PKEY *k = NULL;
    if (avow_jwk_import((const char *)b->cnf_jwk.ptr, b->cnf_jwk.len, &k, NULL) != AVOW_OK)
        return 1;
    EVP_PKEY *saved = b->cli_key;
    b->cli_key = k;
    int rc = raw_verify(arg);
    b->cli_key = saved;
    EVP_PKEY_free(k);
    return rc;
}

static int oauth_verify(void *arg)
{
    bench *b = arg;
    const char *att = (const char *)b->att.ptr, *pop = (const char *)b->pop.ptr;
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    q.attestation = &att;
    q.nattestation = 1;
    q.pop = &pop;
    q.npop = 1;
    avow_oauth_verify_opts o;
    avow_oauth_verify_opts_init(&o);
    o.audience = "https://as.example.com";
    o.attester_keys = &b->att_key;
    o.nattester_keys = 1;
    o.key_cache = b->cache;
    avow_oauth_result *r = NULL;
    avow_err rc = avow_oauth_verify(&q, &o, &r, NULL);
    avow_oauth_result_free(r);
    return rc != AVOW_OK;
}

static int oauth_verify_nocache(void *arg)
{
    bench *b = arg;
    avow_oauth_key_cache *saved = b->cache;
    b->cache = NULL;
    int rc = oauth_verify(arg);
    b->cache = saved;
    return rc;
}

/* With the replay set: every round a new PoP (a new jti), made outside the timing is not
 * possible here, so the PoP signing is in both sides' cost as one more ES256 sign. */
static int oauth_verify_replay(void *arg)
{
    bench *b = arg;
    char jti[32];
    snprintf(jti, sizeof(jti), "j%ld", b->jti++);
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    po.aud = "https://as.example.com";
    po.jti = jti;
    avow_buf pop = {0};
    if (avow_oauth_pop_sign(b->cli_signer, &po, &pop, NULL) != AVOW_OK)
        return 1;
    const char *att = (const char *)b->att.ptr, *p = (const char *)pop.ptr;
    avow_oauth_request q;
    avow_oauth_request_init(&q);
    q.attestation = &att;
    q.nattestation = 1;
    q.pop = &p;
    q.npop = 1;
    avow_oauth_verify_opts o;
    avow_oauth_verify_opts_init(&o);
    o.audience = "https://as.example.com";
    o.attester_keys = &b->att_key;
    o.nattester_keys = 1;
    o.replay = b->replay;
    o.key_cache = b->cache;
    avow_oauth_result *r = NULL;
    avow_err rc = avow_oauth_verify(&q, &o, &r, NULL);
    avow_oauth_result_free(r);
    avow_buf_free(&pop);
    return rc != AVOW_OK;
}

static int sign_and_raw_verify(void *arg)
{
    bench *b = arg;
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    po.aud = "https://as.example.com";
    avow_buf pop = {0};
    if (avow_oauth_pop_sign(b->cli_signer, &po, &pop, NULL) != AVOW_OK)
        return 1;
    avow_buf_free(&pop);
    return raw_verify(arg);
}

int main(int argc, char **argv)
{
    double seconds;
    int rounds;
    if (bench_args(argc, argv, "bench_oauth_verify", 0.2, 15, &seconds, &rounds) != 0)
        return 2;
    bench b;
    memset(&b, 0, sizeof(b));
    avow_signer *as = NULL;
    bench_es256_keys(&b.att_key, &as, &b.cli_key, &b.cli_signer);
    avow_oauth_attestation_opts ao;
    avow_oauth_attestation_opts_init(&ao);
    ao.client_id = "https://client.example.com";
    ao.cnf_key = b.cli_key;
    ao.ttl = 86400;
    avow_oauth_pop_opts po;
    avow_oauth_pop_opts_init(&po);
    po.aud = "https://as.example.com";
    po.iat = (int64_t)time(NULL) + 30; /* stays in the window for the whole run */
    if (avow_oauth_attestation_sign(as, &ao, &b.att, NULL) != AVOW_OK ||
        avow_oauth_pop_sign(b.cli_signer, &po, &b.pop, NULL) != AVOW_OK)
        die("tokens");
    if (avow_jwk_export(b.cli_key, &b.cnf_jwk, NULL) != AVOW_OK)
        die("jwk");
    bench_jws_split(&b.att, &b.att_sig, &b.att_in);
    bench_jws_split(&b.pop, &b.pop_sig, &b.pop_in);
    if (avow_oauth_key_cache_new(0, &b.cache, NULL) != AVOW_OK)
        die("key cache");
    if (raw_verify(&b) != 0 || oauth_verify(&b) != 0 || oauth_verify_nocache(&b) != 0)
        die("sanity check");
    printf("Client Attestation %zu bytes + PoP %zu bytes, ES256 (P-256 attester and client keys)\n",
           b.att.len, b.pop.len);
    int rc = bench_compare("attestation + PoP verify (avow_oauth_verify with a key cache, no "
                           "replay set) vs two ES256 verifies of the same bytes",
                           raw_verify, oauth_verify, &b, rounds, seconds, 0.8);
    bench_jws_nocache(&b, rounds, seconds, raw_verify, oauth_verify_nocache);
    bench_compare("for information: without a key cache vs the same two verifies with the cnf "
                  "JWK imported first",
                  raw_verify_import, oauth_verify_nocache, &b, bench_info_rounds(rounds), seconds,
                  0);
    bench_jws_replay(&b, rounds, seconds, sign_and_raw_verify, oauth_verify_replay, "PoP", "oauth",
                     &b.replay);
    avow_oauth_key_cache_free(b.cache);
    avow_signer_free(as);
    avow_signer_free(b.cli_signer);
    EVP_PKEY_free(b.att_key);
    EVP_PKEY_free(b.cli_key);
    avow_buf_free(&b.att);
    avow_buf_free(&b.pop);
    avow_buf_free(&b.att_sig);
    avow_buf_free(&b.pop_sig);
    avow_buf_free(&b.cnf_jwk);
    return rc;
}
