/*
 * The WIMSE relying party's check (avow_wimse_verify) of a WIT + WPT pair,
 * as a ratio of the raw OpenSSL work it cannot avoid, measured in the same
 * run: two ES256 verifies (EVP_DigestVerify with prepared P-256 keys and
 * DER signatures) over the same signing inputs. What avow adds is the
 * format: base64url, JSON with duplicate checks, typ/alg, the claims, the
 * Workload Identifier, the cnf JWK turned into a key, wth, the raw r||s
 * signatures into DER. The relying party keeps an avow_oauth_key_cache, as
 * a long-running one does: the cnf key is imported and the issuer key's
 * verification set up once. No replay set (its fsync is the disk's cost); a
 * second, informative figure adds the SQLite replay set in /tmp.
 *
 * Usage: bench_wimse_verify [seconds-per-slice] [rounds]   (default 0.2 s, 15 rounds)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <avow/avow.h>
#include <avow/wimse.h>

#include "bench_jws.h"
#include "bench_util.h"

#define AUD "https://svc.example.org/api"

typedef struct {
    avow_buf wit, wpt;
    EVP_PKEY *iss_key, *wl_key;
    avow_buf wit_sig, wpt_sig; /* DER */
    size_t wit_in, wpt_in;     /* signing input lengths */
    avow_signer *wl_signer;
    avow_oauth_replay *replay;
    long jti;
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
    return bench_es256_verify(b->iss_key, &b->wit, b->wit_in, &b->wit_sig) ||
           bench_es256_verify(b->wl_key, &b->wpt, b->wpt_in, &b->wpt_sig);
}

static avow_err check(bench *b, const char *wpt, avow_oauth_replay *replay)
{
    const char *wit = (const char *)b->wit.ptr;
    avow_wimse_request q;
    avow_wimse_request_init(&q);
    q.wit = &wit;
    q.n_wit = 1;
    q.wpt = &wpt;
    q.n_wpt = 1;
    avow_wimse_verify_opts o;
    avow_wimse_verify_opts_init(&o);
    o.issuer_pkeys = &b->iss_key;
    o.n_issuer_pkeys = 1;
    o.issuer = "https://ids.example.org";
    o.audience = AUD;
    o.trust_domain = "example.org";
    o.replay = replay;
    o.key_cache = b->cache;
    avow_wimse_result *r = NULL;
    avow_err rc = avow_wimse_verify(&q, &o, &r, NULL);
    avow_wimse_result_free(r);
    return rc;
}

static int wimse_verify(void *arg)
{
    bench *b = arg;
    return check(b, (const char *)b->wpt.ptr, NULL) != AVOW_OK;
}

static int wimse_verify_nocache(void *arg)
{
    bench *b = arg;
    avow_oauth_key_cache *saved = b->cache;
    b->cache = NULL;
    int rc = wimse_verify(arg);
    b->cache = saved;
    return rc;
}

/* A WPT per round (a new jti), so both sides also pay one ES256 sign. */
static avow_err new_wpt(bench *b, avow_buf *wpt)
{
    char jti[32];
    snprintf(jti, sizeof(jti), "j%ld", b->jti++);
    avow_wimse_wpt_opts wo;
    avow_wimse_wpt_opts_init(&wo);
    wo.wit = (const char *)b->wit.ptr;
    wo.aud = AUD;
    wo.jti = jti;
    return avow_wimse_wpt_sign(b->wl_signer, &wo, wpt, NULL);
}

static int wimse_verify_replay(void *arg)
{
    bench *b = arg;
    avow_buf wpt = {0};
    int rc = new_wpt(b, &wpt) != AVOW_OK || check(b, (const char *)wpt.ptr, b->replay) != AVOW_OK;
    avow_buf_free(&wpt);
    return rc;
}

static int sign_and_raw_verify(void *arg)
{
    bench *b = arg;
    avow_buf wpt = {0};
    int rc = new_wpt(b, &wpt) != AVOW_OK;
    avow_buf_free(&wpt);
    return rc || raw_verify(arg);
}

int main(int argc, char **argv)
{
    double seconds;
    int rounds;
    if (bench_args(argc, argv, "bench_wimse_verify", 0.2, 15, &seconds, &rounds) != 0)
        return 2;
    bench b;
    memset(&b, 0, sizeof(b));
    avow_signer *is = NULL;
    bench_es256_keys(&b.iss_key, &is, &b.wl_key, &b.wl_signer);
    avow_wimse_issue_opts io;
    avow_wimse_issue_opts_init(&io);
    io.iss = "https://ids.example.org";
    io.result = AVOW_WIMSE_RESULT_NONE;
    avow_wimse_wpt_opts wo;
    avow_wimse_wpt_opts_init(&wo);
    wo.aud = AUD;
    wo.ttl = AVOW_WIMSE_MAX_WPT_TTL; /* stays valid for the whole run */
    if (avow_wimse_wit_sign(is, "spiffe://example.org/ns/prod/sa/api", b.wl_key, NULL, &io, &b.wit,
                            NULL) != AVOW_OK)
        die("WIT");
    wo.wit = (const char *)b.wit.ptr;
    if (avow_wimse_wpt_sign(b.wl_signer, &wo, &b.wpt, NULL) != AVOW_OK)
        die("WPT");
    bench_jws_split(&b.wit, &b.wit_sig, &b.wit_in);
    bench_jws_split(&b.wpt, &b.wpt_sig, &b.wpt_in);
    if (avow_oauth_key_cache_new(0, &b.cache, NULL) != AVOW_OK)
        die("key cache");
    if (raw_verify(&b) != 0 || wimse_verify(&b) != 0 || wimse_verify_nocache(&b) != 0)
        die("sanity check");
    printf("WIT %zu bytes + WPT %zu bytes, ES256 (P-256 issuer and workload keys)\n", b.wit.len,
           b.wpt.len);
    int rc = bench_compare("WIT + WPT verify (avow_wimse_verify with a key cache, no replay set) "
                           "vs two ES256 verifies of the same bytes",
                           raw_verify, wimse_verify, &b, rounds, seconds, 0.8);
    bench_jws_nocache(&b, rounds, seconds, raw_verify, wimse_verify_nocache);
    bench_jws_replay(&b, rounds, seconds, sign_and_raw_verify, wimse_verify_replay, "WPT", "wimse",
                     &b.replay);
    avow_oauth_key_cache_free(b.cache);
    avow_signer_free(is);
    avow_signer_free(b.wl_signer);
    EVP_PKEY_free(b.iss_key);
    EVP_PKEY_free(b.wl_key);
    avow_buf *bufs[] = {&b.wit, &b.wpt, &b.wit_sig, &b.wpt_sig};
    for (size_t i = 0; i < 4; i++)
        avow_buf_free(bufs[i]);
    return rc;
}
