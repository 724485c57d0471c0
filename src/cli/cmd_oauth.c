/*
 * "avow oauth": attestation-based client authentication
 * (draft-ietf-oauth-attestation-based-client-auth-11) from the shell.
 * attest is the Client Attester, pop and dpop the Client Instance, verify
 * the Authorization or Resource Server, challenge its challenge endpoint.
 * Files in, library calls (avow/oauth.h), text out; avow-oauth(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/appraise.h>
#include <avow/avow.h>
#include <avow/oauth.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/p11.h"
#include "cli/tokens.h"

/* The token options of every command that takes a key (cli_signer_open reads them). */
/* clang-format off */
#define P11_OPTS                                                                                   \
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",                                                      \
     "PKCS#11 module for a pkcs11: key (default: $AVOW_PKCS11_MODULE, "                            \
     "else " CLI_P11_DEFAULT_MODULE ")"},                                                          \
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN: env:NAME, file:PATH or pass:TEXT"},         \
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"}
/* clang-format on */

/* ---- shared ---- */

static avow_err print_text(const char *s, avow_diag *d)
{
    avow_buf b = {(uint8_t *)(uintptr_t)s, strlen(s)};
    avow_err err = cli_print(&b, d);
    if (err == AVOW_OK)
        putchar('\n');
    return err;
}

/* ---- attest ---- */

static const cli_opt attest_opts[] = {
    {"evidence", CLI_VALUE, "FILE", "PKIX Evidence about the Client Instance Key (PEM or DER)"},
    {"cnf-key", CLI_VALUE, "FILE",
     "with -evidence: the Client Instance Key (public key, "
     "certificate or JWK)"},
    {"pop", CLI_VALUE, "FILE",
     "with -evidence: a PoP JWT by that key with aud = -attester-id (its proof of possession)"},
    {"attester-id", CLI_VALUE, "URL", "the audience -pop must name"},
    {"replay-db", CLI_VALUE, "FILE", "SQLite jti replay set for -pop"},
    {"csr", CLI_VALUE, "FILE", "or: an attested CSR (PKCS#10 or CRMF) of the Client Instance Key"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "more untrusted certificates for path building"},
    {"policy", CLI_VALUE, "FILE", "appraisal policy JSON (default: the built-in avow-default)"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce (the statements must carry it)"},
    {"nonce-db", CLI_VALUE, "FILE", "SQLite nonce store: the nonce is accepted once"},
    {"any", CLI_FLAG, NULL, "Evidence is trusted when one of its signatures verifies"},
    {"at", CLI_VALUE, "TIME",
     "appraise at TIME (certificates, -pop, the attestation's iat): now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"signkey", CLI_VALUE, "KEY", "the Client Attester's signing key: a key file or pkcs11: URI"},
    {"kid", CLI_VALUE, "TEXT", "\"kid\" header of the attestation"},
    {"client-id", CLI_VALUE, "ID", "the client_id (the attestation's sub)"},
    {"iss", CLI_VALUE, "URL",
     "an \"iss\" claim (default: -attester-id; the draft defines none since -08)"},
    {"ttl", CLI_VALUE, "SECONDS", "lifetime of the attestation (default 3600)"},
    {"extra-claims", CLI_VALUE, "JSON", "more claims as a JSON object"},
    {"out", CLI_VALUE, "FILE", "where the Client Attestation JWT goes (default: stdout)"},
    {"json", CLI_FLAG, NULL, "print {ear, request, policy, freshness} of the appraisal on stderr"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    P11_OPTS,
    {NULL, CLI_FLAG, NULL, NULL},
};

typedef struct attest_ctx {
    avow_verifier *v;
    avow_policy *policy;
    avow_nonce_store *store;
    avow_oauth_replay *replay;
    avow_request *req;
    EVP_PKEY *cnf;
    avow_signer *signer;
    avow_buf der, spki, pop;
    uint8_t nonce[AVOW_NONCE_MAX_LEN];
    avow_appraise_opts ao;
    avow_oauth_attestation_opts o;
    avow_diag d;
} attest_ctx;

/* -pop checked with the cnf key: the possession the appraisal is told about. */
static avow_err evidence_possession(attest_ctx *c, const cli_args *a, avow_err *possession)
{
    avow_err err = cli_read_token(cli_get(a, "pop"), &c->pop, &c->d);
    if (err == AVOW_OK && cli_get(a, "replay-db") != NULL)
        err = avow_oauth_replay_open_sqlite(cli_get(a, "replay-db"), &c->replay, &c->d);
    if (err != AVOW_OK)
        return err;
    avow_oauth_verify_opts vo;
    avow_oauth_verify_opts_init(&vo);
    vo.audience = cli_get(a, "attester-id");
    vo.now = c->o.iat;
    vo.replay = c->replay;
    *possession = avow_oauth_possession((const char *)c->pop.ptr, c->cnf, &vo, &c->d);
    return AVOW_OK;
}

static avow_err attest_setup(attest_ctx *c, const cli_args *a)
{
    unsigned ttl = 3600;
    avow_err err = cli_appraisal_setup(a, &c->v, &c->policy, &c->store, c->nonce, &c->ao, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "ttl", 10ul * 365 * 86400, &ttl, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_now(a, "at", &c->o.iat, &c->d);
    if (err == AVOW_OK && ttl == 0)
        err = cli_fail(&c->d, AVOW_ERR_USAGE, "ttl", "the attestation needs a lifetime");
    if (err == AVOW_OK)
        err = cli_signer_open(a, "signkey", cli_get(a, "signkey"), 0, 0, &c->signer, &c->d);
    c->ao.now = (time_t)c->o.iat;
    c->o.client_id = cli_get(a, "client-id");
    /* The attester's identifier names it as issuer too, for peers that still want an iss. */
    c->o.iss = cli_get(a, "iss") != NULL ? cli_get(a, "iss") : cli_get(a, "attester-id");
    c->o.kid = cli_get(a, "kid");
    c->o.ttl = ttl;
    c->o.extra_claims_json = cli_get(a, "extra-claims");
    return err;
}

static avow_err attest_evidence(attest_ctx *c, const cli_args *a, avow_buf *jwt,
                                avow_appraisal **ap)
{
    avow_err err = cli_read_der(cli_get(a, "evidence"), AVOW_EVIDENCE_PEM_LABEL, CLI_FORM_AUTO,
                                &c->der, &c->d);
    if (err == AVOW_OK)
        err = cli_load_pub_or_jwk(cli_get(a, "cnf-key"), &c->cnf, &c->d);
    if (err == AVOW_OK)
        err = avow_spki_der(c->cnf, &c->spki, &c->d);
    avow_err possession = AVOW_OK;
    if (err == AVOW_OK)
        err = evidence_possession(c, a, &possession);
    if (err != AVOW_OK)
        return err;
    const avow_oid *arc = &avow_verifier_get0_profile(c->v)->evidence_arc;
    avow_statement_in st = {{arc->der, arc->len}, {c->der.ptr, c->der.len}};
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &st;
    in.key.ptr = c->spki.ptr;
    in.key.len = c->spki.len;
    in.possession = possession;
    char why[256];
    snprintf(why, sizeof(why), "%s", c->d.detail);
    in.possession_detail = possession != AVOW_OK ? why : NULL;
    c->o.cnf_key = c->cnf;
    return avow_oauth_attest(c->v, &in, &c->ao, c->signer, &c->o, jwt, ap, &c->d);
}

static int run_attest(const char *prog, const cli_args *a)
{
    int ev = cli_get(a, "evidence") != NULL, csr = cli_get(a, "csr") != NULL;
    if (ev == csr)
        return cli_usage_error(prog, "give one of -evidence FILE and -csr FILE");
    if (ev && (cli_get(a, "cnf-key") == NULL || cli_get(a, "pop") == NULL ||
               cli_get(a, "attester-id") == NULL))
        return cli_usage_error(prog, "-evidence needs -cnf-key, -pop and -attester-id");
    if (cli_count(a, "CAfile") == 0 || cli_get(a, "signkey") == NULL ||
        cli_get(a, "client-id") == NULL)
        return cli_usage_error(prog, "-CAfile, -signkey and -client-id are required");
    attest_ctx c;
    memset(&c, 0, sizeof(c));
    avow_appraise_opts_init(&c.ao);
    avow_oauth_attestation_opts_init(&c.o);
    avow_diag_clear(&c.d);
    avow_buf jwt = {0};
    avow_appraisal *ap = NULL;
    avow_err err = attest_setup(&c, a);
    if (err == AVOW_OK && ev) {
        err = attest_evidence(&c, a, &jwt, &ap);
    } else if (err == AVOW_OK) {
        avow_buf raw = {0};
        err = cli_read(cli_get(a, "csr"), &raw, &c.d);
        if (err == AVOW_OK)
            err = avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_AUTO, 0, &c.req, &c.d);
        avow_buf_free(&raw);
        if (err == AVOW_OK)
            err = avow_oauth_attest_request(c.v, c.req, &c.ao, c.signer, &c.o, &jwt, &ap, &c.d);
    }
    cli_appraisal_to_stderr(a, ap);
    if (err == AVOW_OK)
        err = cli_write_token(a, &jwt, &c.d);
    int rc = err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &c.d);
    avow_buf_free(&jwt);
    avow_appraisal_free(ap);
    avow_buf_free(&c.der);
    avow_buf_free(&c.spki);
    avow_buf_free(&c.pop);
    EVP_PKEY_free(c.cnf);
    avow_signer_free(c.signer);
    avow_request_free(c.req);
    avow_oauth_replay_free(c.replay);
    avow_nonce_store_free(c.store);
    avow_policy_free(c.policy);
    avow_verifier_free(c.v);
    return rc;
}

/* ---- pop, dpop ---- */

static const cli_opt pop_opts[] = {
    {"key", CLI_VALUE, "KEY", "the Client Instance Key: a key file or pkcs11: URI"},
    {"aud", CLI_VALUE, "URL", "the AS issuer or RS resource identifier"},
    {"jti", CLI_VALUE, "TEXT", "the jti (default: random)"},
    {"challenge", CLI_VALUE, "TEXT", "the server's challenge"},
    {"extra-claims", CLI_VALUE, "JSON", "more claims as a JSON object"},
    {"iat", CLI_VALUE, "TIME", "iat: now, @SECONDS or RFC 3339 UTC (default: now)"},
    {"out", CLI_VALUE, "FILE", "where the JWT goes (default: stdout)"},
    {"dpop", CLI_FLAG, NULL, "a DPoP proof (RFC 9449) instead: -htm, -htu, -dpop-nonce"},
    {"htm", CLI_VALUE, "METHOD", "with -dpop: the HTTP method"},
    {"htu", CLI_VALUE, "URL", "with -dpop: the HTTP URI"},
    {"dpop-nonce", CLI_VALUE, "TEXT", "with -dpop: the nonce (combined mode: the challenge)"},
    {"access-token", CLI_VALUE, "FILE", "with -dpop: the access token presented (ath)"},
    P11_OPTS,
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt dpop_opts[] = {
    {"key", CLI_VALUE, "KEY",
     "the key (the Client Instance Key in combined mode): file or pkcs11:"},
    {"htm", CLI_VALUE, "METHOD", "the HTTP method"},
    {"htu", CLI_VALUE, "URL", "the HTTP URI"},
    {"jti", CLI_VALUE, "TEXT", "the jti (default: random)"},
    {"dpop-nonce", CLI_VALUE, "TEXT", "the nonce (in combined mode: the attestation challenge)"},
    {"access-token", CLI_VALUE, "FILE", "the access token presented with the proof (ath)"},
    {"iat", CLI_VALUE, "TIME", "iat: now, @SECONDS or RFC 3339 UTC (default: now)"},
    {"out", CLI_VALUE, "FILE", "where the JWT goes (default: stdout)"},
    P11_OPTS,
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_dpop(const char *prog, const cli_args *a);

static int run_pop(const char *prog, const cli_args *a)
{
    /* The issue's spelling, "oauth pop -dpop"; "oauth dpop" is the same code under its own name. */
    if (cli_flag(a, "dpop")) {
        if (cli_get(a, "aud") != NULL || cli_get(a, "challenge") != NULL ||
            cli_get(a, "extra-claims") != NULL)
            return cli_usage_error(prog, "-dpop takes -htm, -htu and -dpop-nonce, not -aud, "
                                         "-challenge or -extra-claims");
        return run_dpop(prog, a);
    }
    if (cli_get(a, "htm") != NULL || cli_get(a, "htu") != NULL ||
        cli_get(a, "dpop-nonce") != NULL || cli_get(a, "access-token") != NULL)
        return cli_usage_error(prog, "-htm, -htu, -dpop-nonce and -access-token need -dpop");
    if (cli_get(a, "key") == NULL || cli_get(a, "aud") == NULL)
        return cli_usage_error(prog, "-key and -aud are required");
    avow_diag d;
    avow_diag_clear(&d);
    avow_oauth_pop_opts o;
    avow_oauth_pop_opts_init(&o);
    o.aud = cli_get(a, "aud");
    o.jti = cli_get(a, "jti");
    o.challenge = cli_get(a, "challenge");
    o.extra_claims_json = cli_get(a, "extra-claims");
    avow_signer *s = NULL;
    avow_buf jwt = {0};
    avow_err err = cli_parse_now(a, "iat", &o.iat, &d);
    if (err == AVOW_OK)
        err = cli_signer_open(a, "key", cli_get(a, "key"), 0, 0, &s, &d);
    if (err == AVOW_OK)
        err = avow_oauth_pop_sign(s, &o, &jwt, &d);
    if (err == AVOW_OK)
        err = cli_write_token(a, &jwt, &d);
    avow_buf_free(&jwt);
    avow_signer_free(s);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static int run_dpop(const char *prog, const cli_args *a)
{
    if (cli_get(a, "key") == NULL || cli_get(a, "htm") == NULL || cli_get(a, "htu") == NULL)
        return cli_usage_error(prog, "-key, -htm and -htu are required");
    avow_diag d;
    avow_diag_clear(&d);
    avow_oauth_dpop_opts o;
    avow_oauth_dpop_opts_init(&o);
    o.htm = cli_get(a, "htm");
    o.htu = cli_get(a, "htu");
    o.jti = cli_get(a, "jti");
    o.nonce = cli_get(a, "dpop-nonce");
    avow_signer *s = NULL;
    avow_buf jwt = {0}, tok = {0};
    avow_err err = cli_parse_now(a, "iat", &o.iat, &d);
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "access-token", &tok, &o.access_token, &d);
    if (err == AVOW_OK)
        err = cli_signer_open(a, "key", cli_get(a, "key"), 0, 0, &s, &d);
    if (err == AVOW_OK)
        err = avow_oauth_dpop_sign(s, &o, &jwt, &d);
    if (err == AVOW_OK)
        err = cli_write_token(a, &jwt, &d);
    avow_buf_free(&jwt);
    avow_buf_free(&tok);
    avow_signer_free(s);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* ---- verify ---- */

static const cli_opt verify_opts[] = {
    {"attestation", CLI_MULTI, "FILE", "OAuth-Client-Attestation value (each one given counts)"},
    {"pop", CLI_MULTI, "FILE", "OAuth-Client-Attestation-PoP value"},
    {"dpop", CLI_MULTI, "FILE", "DPoP value (without -pop: combined mode)"},
    {"aud", CLI_VALUE, "URL", "this server's issuer or resource identifier"},
    {"attester-key", CLI_MULTI, "FILE",
     "a trusted Client Attester key: public key, certificate or JWK"},
    {"attester-jwks", CLI_VALUE, "FILE",
     "trusted Client Attester keys as a JWK set (the key is chosen by the token's kid and alg)"},
    {"attester-secret", CLI_MULTI, "FILE", "a shared HMAC key of a Client Attester (raw bytes)"},
    {"client-id", CLI_VALUE, "ID", "the request's client_id (must be the attestation's sub)"},
    {"method", CLI_VALUE, "METHOD", "the request's method, for DPoP (default POST)"},
    {"url", CLI_VALUE, "URL", "the request's URL, for DPoP (default: -aud)"},
    {"access-token", CLI_VALUE, "FILE", "an access token presented with DPoP (ath)"},
    {"at", CLI_VALUE, "TIME", "check at TIME: now, @SECONDS or RFC 3339 UTC"},
    {"leeway", CLI_VALUE, "SECONDS", "clock skew allowed (default 60)"},
    {"pop-max-age", CLI_VALUE, "SECONDS", "how old a PoP's iat may be (default 300)"},
    {"max-age", CLI_VALUE, "SECONDS", "how old the attestation's iat may be (default: any)"},
    {"challenge-db", CLI_VALUE, "FILE", "SQLite store of issued challenges (see oauth challenge)"},
    {"require-challenge", CLI_FLAG, NULL, "every PoP must carry an issued challenge"},
    {"reusable-challenge", CLI_FLAG, NULL, "a challenge may serve several PoPs (default: once)"},
    {"challenge-ttl", CLI_VALUE, "SECONDS", "lifetime of a challenge handed out with an error"},
    {"challenge", CLI_VALUE, "TEXT", "the challenge bound to this client's session"},
    {"replay-db", CLI_VALUE, "FILE", "SQLite jti replay set (kept across runs)"},
    {"no-combined", CLI_FLAG, NULL, "refuse DPoP combined mode"},
    {"no-pop-jwt", CLI_FLAG, NULL, "refuse the PoP JWT mode"},
    {"json", CLI_FLAG, NULL, "print the result as JSON"},
    {NULL, CLI_FLAG, NULL, NULL},
};

#define VERIFY_MAX 8

typedef struct verify_ctx {
    avow_buf att[VERIFY_MAX], pop[VERIFY_MAX], dpop[VERIFY_MAX], tok;
    const char *attv[VERIFY_MAX], *popv[VERIFY_MAX], *dpopv[VERIFY_MAX];
    EVP_PKEY *keys[VERIFY_MAX + 1]; /* the last: the one -attester-jwks selected */
    avow_jwks *jwks;
    avow_buf secret[VERIFY_MAX];
    avow_oauth_secret secrets[VERIFY_MAX];
    avow_nonce_store *challenges;
    avow_oauth_replay *replay;
    avow_oauth_verify_opts o;
    avow_oauth_request q;
    avow_diag d;
} verify_ctx;

/*
 * The key of -attester-jwks for the (first) attestation, chosen by its kid and alg. When the set
 * has none for it and other keys or secrets are given, those are tried alone; with nothing else
 * the selection's refusal (AVOW_ERR_KID_UNKNOWN, ...) is the verdict.
 */
static avow_err load_jwks_key(verify_ctx *c, const char *file)
{
    avow_err err = cli_load_jwks(file, &c->jwks, &c->d);
    if (err != AVOW_OK || c->q.nattestation == 0)
        return err;
    const char *t = c->attv[0];
    EVP_PKEY *k = NULL;
    avow_diag sd;
    avow_diag_clear(&sd);
    err = avow_jwks_select_for_jws(c->jwks, t, strlen(t), &k, &sd);
    if (err == AVOW_OK) {
        c->keys[c->o.nattester_keys++] = k;
        return AVOW_OK;
    }
    if (c->o.nattester_keys + c->o.nattester_secrets > 0)
        return AVOW_OK;
    c->d = sd;
    return err;
}

static avow_err verify_setup(verify_ctx *c, const cli_args *a)
{
    avow_oauth_verify_opts *o = &c->o;
    avow_oauth_request *q = &c->q;
    avow_err err =
        cli_read_tokens(a, VERIFY_MAX, "attestation", c->att, c->attv, &q->nattestation, &c->d);
    if (err == AVOW_OK)
        err = cli_read_tokens(a, VERIFY_MAX, "pop", c->pop, c->popv, &q->npop, &c->d);
    if (err == AVOW_OK)
        err = cli_read_tokens(a, VERIFY_MAX, "dpop", c->dpop, c->dpopv, &q->ndpop, &c->d);
    q->attestation = c->attv;
    q->pop = c->popv;
    q->dpop = c->dpopv;
    o->nattester_keys = cli_count(a, "attester-key");
    o->nattester_secrets = cli_count(a, "attester-secret");
    if (err == AVOW_OK && (o->nattester_keys > VERIFY_MAX || o->nattester_secrets > VERIFY_MAX))
        err = cli_fail(&c->d, AVOW_ERR_USAGE, "attester-key", "at most %d keys", VERIFY_MAX);
    for (size_t i = 0; err == AVOW_OK && i < o->nattester_keys; i++)
        err = cli_load_pub_or_jwk(cli_get_n(a, "attester-key", i), &c->keys[i], &c->d);
    for (size_t i = 0; err == AVOW_OK && i < o->nattester_secrets; i++) {
        err = cli_read(cli_get_n(a, "attester-secret", i), &c->secret[i], &c->d);
        c->secrets[i].key = c->secret[i].ptr;
        c->secrets[i].len = c->secret[i].len;
    }
    if (err == AVOW_OK && cli_get(a, "attester-jwks") != NULL)
        err = load_jwks_key(c, cli_get(a, "attester-jwks"));
    o->attester_keys = c->keys;
    o->attester_secrets = c->secrets;
    o->audience = cli_get(a, "aud");
    q->client_id = cli_get(a, "client-id");
    q->method = cli_get(a, "method") != NULL ? cli_get(a, "method") : "POST";
    q->url = cli_get(a, "url") != NULL ? cli_get(a, "url") : o->audience;
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "access-token", &c->tok, &q->access_token, &c->d);
    if (err == AVOW_OK)
        err = cli_verify_clock(a, &o->now, &o->leeway, &c->replay, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "pop-max-age", 86400, &o->pop_max_age, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "max-age", 10ul * 365 * 86400, &o->attestation_max_age, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "challenge-ttl", 86400, &o->challenge_ttl, &c->d);
    if (err == AVOW_OK && cli_get(a, "challenge-db") != NULL)
        err = avow_nonce_store_open_sqlite_ex(cli_get(a, "challenge-db"), 0, &c->challenges, &c->d);
    o->challenges = c->challenges;
    o->replay = c->replay;
    o->expected_challenge = cli_get(a, "challenge");
    static const struct {
        const char *opt;
        unsigned flag;
    } flags[] = {{"require-challenge", AVOW_OAUTH_REQUIRE_CHALLENGE},
                 {"reusable-challenge", AVOW_OAUTH_CHALLENGE_REUSABLE},
                 {"no-combined", AVOW_OAUTH_NO_COMBINED},
                 {"no-pop-jwt", AVOW_OAUTH_NO_POP_JWT}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (cli_flag(a, flags[i].opt))
            o->flags |= flags[i].flag;
    return err;
}

static void verify_free(verify_ctx *c)
{
    for (size_t i = 0; i < VERIFY_MAX; i++) {
        avow_buf_free(&c->att[i]);
        avow_buf_free(&c->pop[i]);
        avow_buf_free(&c->dpop[i]);
        EVP_PKEY_free(c->keys[i]);
        avow_buf_free(&c->secret[i]);
    }
    EVP_PKEY_free(c->keys[VERIFY_MAX]);
    avow_jwks_free(c->jwks);
    avow_buf_free(&c->tok);
    avow_nonce_store_free(c->challenges);
    avow_oauth_replay_free(c->replay);
}

/* "avow oauth verify: invalid_client_attestation (pop.payload.aud: AVOW_ERR_OAUTH_AUD: ...)". */
static void print_verdict(const char *prog, const void *res)
{
    const avow_oauth_result *r = res;
    avow_err st = avow_oauth_result_status(r);
    if (st == AVOW_OK) {
        fprintf(stderr, "%s: authenticated (%s)\n", prog,
                avow_oauth_result_mode(r) == AVOW_OAUTH_MODE_DPOP ? "attest_jwt_client_auth_dpop"
                                                                  : "attest_jwt_client_auth");
        return;
    }
    const char *e = avow_oauth_result_error(r);
    fprintf(stderr, "%s: %s (", prog, e != NULL ? e : "server_error");
    cli_put_refusal(stderr, st, avow_oauth_result_diag(r));
    fputs(")\n", stderr);
}

static avow_err result_json(const void *r, avow_buf *out, avow_diag *d)
{
    return avow_oauth_result_to_json(r, out, d);
}

/* The client_id when authenticated; the challenge to retry with when the server gives one. */
static avow_err result_text(const void *res, avow_err status, avow_diag *d)
{
    const avow_oauth_result *r = res;
    if (status == AVOW_OK)
        return print_text(avow_oauth_result_client_id(r), d);
    if (avow_oauth_result_challenge(r) != NULL)
        printf("%s: %s\n", AVOW_OAUTH_HDR_CHALLENGE, avow_oauth_result_challenge(r));
    return AVOW_OK;
}

static const cli_result_view result_view = {result_json, result_text, print_verdict};

static int run_verify(const char *prog, const cli_args *a)
{
    if (cli_get(a, "aud") == NULL)
        return cli_usage_error(prog, "-aud URL (this server's identifier) is required");
    if (cli_count(a, "attester-key") + cli_count(a, "attester-secret") == 0 &&
        cli_get(a, "attester-jwks") == NULL)
        return cli_usage_error(prog, "give -attester-key, -attester-jwks or -attester-secret");
    verify_ctx c;
    memset(&c, 0, sizeof(c));
    avow_oauth_verify_opts_init(&c.o);
    avow_oauth_request_init(&c.q);
    avow_diag_clear(&c.d);
    avow_oauth_result *r = NULL;
    avow_err err = verify_setup(&c, a);
    if (err == AVOW_OK)
        err = avow_oauth_verify(&c.q, &c.o, &r, &c.d);
    int rc = cli_show_result(prog, a, r, err, &result_view, &c.d);
    avow_oauth_result_free(r);
    verify_free(&c);
    return rc;
}

/* ---- challenge ---- */

static const cli_opt challenge_opts[] = {
    {"challenge-db", CLI_VALUE, "FILE", "SQLite challenge store (created when missing)"},
    {"ttl", CLI_VALUE, "SECONDS", "lifetime (default 300)"},
    {"json", CLI_FLAG, NULL, "print the challenge endpoint's {\"attestation_challenge\": ...}"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_challenge(const char *prog, const cli_args *a)
{
    if (cli_get(a, "challenge-db") == NULL)
        return cli_usage_error(prog, "-challenge-db FILE is required");
    avow_diag d;
    avow_diag_clear(&d);
    unsigned ttl = 0;
    avow_nonce_store *s = NULL;
    avow_buf ch = {0}, js = {0};
    avow_err err = cli_parse_secs(a, "ttl", 86400, &ttl, &d);
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(cli_get(a, "challenge-db"), &s, &d);
    if (err == AVOW_OK)
        err = avow_oauth_challenge_issue(s, ttl, 0, &ch, &d);
    if (err == AVOW_OK && cli_flag(a, "json")) {
        err = avow_oauth_challenge_to_json((const char *)ch.ptr, &js, &d);
        if (err == AVOW_OK)
            err = cli_print(&js, &d);
    } else if (err == AVOW_OK) {
        err = print_text((const char *)ch.ptr, &d);
    }
    avow_buf_free(&ch);
    avow_buf_free(&js);
    avow_nonce_store_free(s);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd oauth_cmds[] = {
    {"attest", "Client Attester: a Client Attestation JWT after appraising the key's attestation",
     "[options] -evidence FILE -cnf-key FILE -pop FILE | -csr FILE", attest_opts, 0, run_attest},
    {"pop", "Client Instance: a Client Attestation PoP JWT, or with -dpop a DPoP proof",
     "[options] -key KEY (-aud URL | -dpop -htm METHOD -htu URL)", pop_opts, 0, run_pop},
    {"dpop", "Client Instance: a DPoP proof (RFC 9449); the same as pop -dpop",
     "[options] -key KEY -htm METHOD -htu URL", dpop_opts, 0, run_dpop},
    {"verify", "Authorization/Resource Server: authenticate a client by its attestation",
     "[options] -aud URL (-attester-key FILE | -attester-jwks FILE) -attestation FILE "
     "(-pop FILE | -dpop FILE)",
     verify_opts, 0, run_verify},
    {"challenge", "issue an attestation challenge into a store", "[options] -challenge-db FILE",
     challenge_opts, 0, run_challenge},
};

int cli_group_oauth(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "OAuth 2.0 attestation-based client authentication "
                         "(draft-ietf-oauth-attestation-based-client-auth-11)",
                         oauth_cmds, sizeof(oauth_cmds) / sizeof(oauth_cmds[0]), argc, argv);
}
