/*
 * "avow wimse": WIMSE workload credentials from the shell. issue is the
 * identity server (a WIT only after an affirming appraisal of an attested
 * CSR), proof the workload (a WPT per request), verify the relying party,
 * show a look at a token without trusting it. Files in, library calls
 * (avow/wimse.h), text out; avow-wimse(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/appraise.h>
#include <avow/avow.h>
#include <avow/ca_dir.h>
#include <avow/wimse.h>
#include <avow/x509.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/p11.h"
#include "cli/tokens.h"
#include "cli/tpm.h"

/* clang-format off */
#define P11_OPTS                                                                                   \
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",                                                      \
     "PKCS#11 module for a pkcs11: key (default: $AVOW_PKCS11_MODULE, "                            \
     "else " CLI_P11_DEFAULT_MODULE ")"},                                                          \
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN: env:NAME, file:PATH or pass:TEXT"},         \
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"}
/* clang-format on */

#define MAX_ISSUER_KEYS 8

/* ---- proof ---- */

static const cli_opt proof_opts[] = {
    {"key", CLI_VALUE, "KEY",
     "the workload key (the WIT's cnf): a key file or pkcs11: URI; with -tpm the PREFIX of "
     "the TPM key's PREFIX.pub and PREFIX.priv (signs in the TPM)"},
    {"tpm", CLI_VALUE, "TCTI",
     "the TPM holding -key: swtpm:host=H,port=P, device:/dev/tpmrm0, ..."},
    {"wit", CLI_VALUE, "FILE", "the Workload Identity Token the proof goes with (wth)"},
    {"aud", CLI_VALUE, "URL", "the target URI of the request, without query and fragment"},
    {"ttl", CLI_VALUE, "SECONDS", "lifetime of the proof (default 60, at most 300)"},
    {"jti", CLI_VALUE, "TEXT", "the jti (default: random)"},
    {"access-token", CLI_VALUE, "FILE", "an access token sent with the request (ath)"},
    {"txn-token", CLI_VALUE, "FILE", "a Txn-Token sent with the request (tth)"},
    {"iat", CLI_VALUE, "TIME", "iat: now, @SECONDS or RFC 3339 UTC (default: now)"},
    {"out", CLI_VALUE, "FILE", "where the WPT goes (default: stdout)"},
    P11_OPTS,
    {NULL, CLI_FLAG, NULL, NULL},
};

/*
 * -tpm: the key PREFIX is loaded under avow's primary and the WPT is signed
 * by TPM2_Sign, as "avow csr create -tpm" signs its request: the same files
 * name the same key in both, so the CSR's key and the WIT's cnf are the key
 * the proof comes from. *t must outlive *s (the signer borrows its ESYS).
 */
static avow_err tpm_signer_open(const cli_args *a, avow_tpm **t, avow_signer **s, avow_diag *d)
{
    uint32_t key = 0;
    EVP_PKEY *pub = NULL;
    avow_err err = avow_tpm_open(cli_get(a, "tpm"), t, d);
    if (err == AVOW_OK)
        err = cli_tpm_load(*t, cli_get(a, "key"), &key, &pub, d);
    if (err == AVOW_OK)
        err = avow_tpm_signer_new(avow_tpm_get0_esys(*t), key, pub, AVOW_SIGALG_NONE, s, d);
    EVP_PKEY_free(pub);
    return err;
}

static int run_proof(const char *prog, const cli_args *a)
{
    if (cli_get(a, "key") == NULL || cli_get(a, "wit") == NULL || cli_get(a, "aud") == NULL)
        return cli_usage_error(prog, "-key, -wit and -aud are required");
    int tpm = cli_get(a, "tpm") != NULL;
    if (tpm && (cli_get(a, "pin") != NULL || cli_get(a, "pin-source") != NULL ||
                cli_get(a, "pkcs11-module") != NULL))
        return cli_usage_error(prog, "-tpm takes no -pin, -pin-source or -pkcs11-module");
    avow_diag d;
    avow_diag_clear(&d);
    avow_wimse_wpt_opts o;
    avow_wimse_wpt_opts_init(&o);
    avow_buf wit = {0}, ath = {0}, tth = {0}, wpt = {0};
    avow_signer *s = NULL;
    avow_tpm *t = NULL;
    o.aud = cli_get(a, "aud");
    o.jti = cli_get(a, "jti");
    avow_err err = cli_parse_secs(a, "ttl", AVOW_WIMSE_MAX_WPT_TTL, &o.ttl, &d);
    if (err == AVOW_OK)
        err = cli_parse_now(a, "iat", &o.now, &d);
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "wit", &wit, &o.wit, &d);
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "access-token", &ath, &o.access_token, &d);
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "txn-token", &tth, &o.txn_token, &d);
    if (err == AVOW_OK && tpm)
        err = tpm_signer_open(a, &t, &s, &d);
    else if (err == AVOW_OK)
        err = cli_signer_open(a, "key", cli_get(a, "key"), 0, 0, &s, &d);
    if (err == AVOW_OK)
        err = avow_wimse_wpt_sign(s, &o, &wpt, &d);
    if (err == AVOW_OK)
        err = cli_write_token(a, &wpt, &d);
    avow_buf_free(&wit);
    avow_buf_free(&ath);
    avow_buf_free(&tth);
    avow_buf_free(&wpt);
    avow_signer_free(s);
    avow_tpm_free(t);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* ---- verify ---- */

static const cli_opt verify_opts[] = {
    {"wit", CLI_MULTI, "FILE", "Workload-Identity-Token value (each one given counts)"},
    {"wpt", CLI_MULTI, "FILE", "Workload-Proof-Token value (each one given counts)"},
    {"aud", CLI_VALUE, "URL", "the request's target URI the WPT must name"},
    {"issuer-key", CLI_MULTI, "FILE",
     "a trusted WIT issuer key: public key, certificate or JWK (repeatable)"},
    {"issuer-jwks", CLI_VALUE, "FILE",
     "trusted WIT issuer keys as a JWK set (chosen by the WIT's kid and alg)"},
    {"issuer", CLI_VALUE, "URI", "the WIT's iss must be this"},
    {"require-iss", CLI_FLAG, NULL, "refuse a WIT without iss"},
    {"trust-domain", CLI_VALUE, "DOMAIN", "the identifier's trust domain must be this"},
    {"access-token", CLI_VALUE, "FILE", "the access token of the request (ath)"},
    {"txn-token", CLI_VALUE, "FILE", "the Txn-Token of the request (tth)"},
    {"at", CLI_VALUE, "TIME", "check at TIME: now, @SECONDS or RFC 3339 UTC"},
    {"leeway", CLI_VALUE, "SECONDS", "clock skew allowed (default 30)"},
    {"replay-db", CLI_VALUE, "FILE", "SQLite WPT jti replay set (kept across runs)"},
    {"wit-only", CLI_FLAG, NULL,
     "check the WIT alone, without a WPT (inspection, never authentication)"},
    {"wic", CLI_VALUE, "FILE",
     "check a Workload Identity Certificate instead (PEM or DER; more certificates in the file "
     "are its chain), to the -CAfile anchors"},
    {"CAfile", CLI_MULTI, "FILE", "with -wic: trust anchors for the WIC (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "with -wic: more untrusted certificates for path building"},
    {"json", CLI_FLAG, NULL, "print the result as JSON"},
    {NULL, CLI_FLAG, NULL, NULL},
};

typedef struct verify_ctx {
    avow_buf wit[MAX_ISSUER_KEYS], wpt[MAX_ISSUER_KEYS], ath, tth;
    const char *witv[MAX_ISSUER_KEYS], *wptv[MAX_ISSUER_KEYS];
    EVP_PKEY *keys[MAX_ISSUER_KEYS];
    avow_jwks *jwks;
    avow_oauth_replay *replay;
    avow_wimse_verify_opts o;
    avow_wimse_request q;
    avow_diag d;
} verify_ctx;

static avow_err verify_setup(verify_ctx *c, const cli_args *a)
{
    avow_wimse_verify_opts *o = &c->o;
    avow_err err = cli_read_tokens(a, MAX_ISSUER_KEYS, "wit", c->wit, c->witv, &c->q.n_wit, &c->d);
    if (err == AVOW_OK)
        err = cli_read_tokens(a, MAX_ISSUER_KEYS, "wpt", c->wpt, c->wptv, &c->q.n_wpt, &c->d);
    c->q.wit = c->witv;
    c->q.wpt = c->wptv;
    o->n_issuer_pkeys = cli_count(a, "issuer-key");
    if (err == AVOW_OK && o->n_issuer_pkeys > MAX_ISSUER_KEYS)
        err = cli_fail(&c->d, AVOW_ERR_USAGE, "issuer-key", "at most %d keys", MAX_ISSUER_KEYS);
    for (size_t i = 0; err == AVOW_OK && i < o->n_issuer_pkeys; i++)
        err = cli_load_pub_or_jwk(cli_get_n(a, "issuer-key", i), &c->keys[i], &c->d);
    o->issuer_pkeys = o->n_issuer_pkeys > 0 ? c->keys : NULL;
    if (err == AVOW_OK && cli_get(a, "issuer-jwks") != NULL)
        err = cli_load_jwks(cli_get(a, "issuer-jwks"), &c->jwks, &c->d);
    o->issuer_keys = c->jwks;
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "access-token", &c->ath, &c->q.access_token, &c->d);
    if (err == AVOW_OK)
        err = cli_read_token_opt(a, "txn-token", &c->tth, &c->q.txn_token, &c->d);
    if (err == AVOW_OK)
        err = cli_verify_clock(a, &o->now, &o->leeway, &c->replay, &c->d);
    o->replay = c->replay;
    o->audience = cli_get(a, "aud");
    o->issuer = cli_get(a, "issuer");
    o->trust_domain = cli_get(a, "trust-domain");
    if (cli_flag(a, "wit-only"))
        o->flags |= AVOW_WIMSE_VERIFY_WIT_ONLY;
    if (cli_flag(a, "require-iss"))
        o->flags |= AVOW_WIMSE_REQUIRE_ISS;
    return err;
}

static void verify_free(verify_ctx *c)
{
    for (size_t i = 0; i < MAX_ISSUER_KEYS; i++) {
        avow_buf_free(&c->wit[i]);
        avow_buf_free(&c->wpt[i]);
        EVP_PKEY_free(c->keys[i]);
    }
    avow_buf_free(&c->ath);
    avow_buf_free(&c->tth);
    avow_jwks_free(c->jwks);
    avow_oauth_replay_free(c->replay);
}

/*
 * "avow wimse verify: refused (wpt.claims.aud: AVOW_ERR_...: message)" on
 * stderr; "authenticated" for a WIT with its WPT, "valid" for a WIC alone
 * (a certificate authenticates no one until its key signs).
 */
static void print_verdict(const char *prog, const avow_wimse_result *r, const char *ok)
{
    avow_err st = avow_wimse_result_status(r);
    if (st == AVOW_OK) {
        fprintf(stderr, "%s: %s\n", prog, ok);
        return;
    }
    fprintf(stderr, "%s: refused (", prog);
    cli_put_refusal(stderr, st, avow_wimse_result_diag(r));
    fputs(")\n", stderr);
}

static void wit_verdict(const char *prog, const void *r)
{
    print_verdict(prog, r, "authenticated");
}

static void wic_verdict(const char *prog, const void *r)
{
    print_verdict(prog, r, "valid");
}

static avow_err result_json(const void *r, avow_buf *out, avow_diag *d)
{
    return avow_wimse_result_to_json(r, out, d);
}

/* A WIT that verified: its identifier alone (escaped: it is the token's text). */
static avow_err wit_text(const void *r, avow_err status, avow_diag *d)
{
    (void)d;
    const char *id = avow_wimse_result_identifier(r);
    if (status == AVOW_OK && id != NULL) {
        cli_put_escaped(stdout, id, strlen(id), 0);
        putchar('\n');
    }
    return AVOW_OK;
}

/* A WIC: who, in which trust domain (both the certificate's text, escaped), and the verdict. */
static avow_err wic_text(const void *r, avow_err status, avow_diag *d)
{
    (void)d;
    const char *id = avow_wimse_result_identifier(r);
    const char *td = avow_wimse_result_trust_domain(r);
    if (id != NULL && td != NULL) {
        fputs("identifier: ", stdout);
        cli_put_escaped(stdout, id, strlen(id), 0);
        fputs("\ntrust domain: ", stdout);
        cli_put_escaped(stdout, td, strlen(td), 0);
        putchar('\n');
    }
    printf("verdict: %s\n", status == AVOW_OK ? "valid" : "refused");
    return AVOW_OK;
}

static const cli_result_view wit_view = {result_json, wit_text, wit_verdict};
static const cli_result_view wic_view = {result_json, wic_text, wic_verdict};

/*
 * -wic: the certificate to the anchors at -at, one URI subjectAltName that
 * is a Workload Identifier (in -trust-domain). The text says who, in which
 * trust domain, and the verdict; the file's further certificates and -certs
 * are the untrusted chain.
 */
static int run_verify_wic(const char *prog, const cli_args *a)
{
    static const char *const wit_opts[] = {"wit",          "wpt",         "aud",
                                           "issuer-key",   "issuer-jwks", "issuer",
                                           "access-token", "txn-token",   "replay-db"};
    for (size_t i = 0; i < sizeof(wit_opts) / sizeof(wit_opts[0]); i++)
        if (cli_count(a, wit_opts[i]) > 0)
            return cli_usage_error(prog, "-wic checks a certificate: no -%s", wit_opts[i]);
    if (cli_flag(a, "wit-only") || cli_flag(a, "require-iss"))
        return cli_usage_error(prog, "-wic checks a certificate: no -wit-only or -require-iss");
    if (cli_count(a, "CAfile") == 0)
        return cli_usage_error(prog, "-wic needs -CAfile ANCHORS");
    avow_diag d;
    avow_diag_clear(&d);
    avow_wimse_verify_opts o;
    avow_wimse_verify_opts_init(&o);
    o.trust_domain = cli_get(a, "trust-domain");
    avow_verifier *v = NULL;
    STACK_OF(X509) *chain = NULL;
    X509 *cert = NULL;
    avow_wimse_result *r = NULL;
    avow_err err = cli_parse_now(a, "at", &o.now, &d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, NULL, &v, &d);
    if (err == AVOW_OK)
        err = cli_load_certs(cli_get(a, "wic"), &chain, &d);
    if (err == AVOW_OK) {
        cert = sk_X509_shift(chain);
        err = avow_wimse_verify_wic(cert, chain, v, &o, &r, &d);
    }
    int rc = cli_show_result(prog, a, r, err, &wic_view, &d);
    avow_wimse_result_free(r);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    avow_verifier_free(v);
    return rc;
}

static int run_verify(const char *prog, const cli_args *a)
{
    if (cli_get(a, "wic") != NULL)
        return run_verify_wic(prog, a);
    if (cli_count(a, "CAfile") > 0 || cli_count(a, "certs") > 0)
        return cli_usage_error(prog, "-CAfile and -certs go with -wic: a WIT is checked against "
                                     "-issuer-key or -issuer-jwks");
    int wit_only = cli_flag(a, "wit-only");
    if (cli_count(a, "wit") == 0)
        return cli_usage_error(prog, "-wit FILE is required");
    if (!wit_only && (cli_count(a, "wpt") == 0 || cli_get(a, "aud") == NULL))
        return cli_usage_error(prog, "-wpt FILE and -aud URL are required (or -wit-only)");
    if (cli_count(a, "issuer-key") == 0 && cli_get(a, "issuer-jwks") == NULL)
        return cli_usage_error(prog, "give -issuer-key or -issuer-jwks");
    verify_ctx c;
    memset(&c, 0, sizeof(c));
    avow_wimse_verify_opts_init(&c.o);
    avow_wimse_request_init(&c.q);
    avow_diag_clear(&c.d);
    avow_wimse_result *r = NULL;
    avow_err err = verify_setup(&c, a);
    if (err == AVOW_OK)
        err = avow_wimse_verify(&c.q, &c.o, &r, &c.d);
    int rc = cli_show_result(prog, a, r, err, &wit_view, &c.d);
    avow_wimse_result_free(r);
    verify_free(&c);
    return rc;
}

/* ---- issue ---- */

static const cli_opt issue_opts[] = {
    {"in", CLI_VALUE, "FILE",
     "the workload's attested request, PEM or DER, PKCS#10 or CRMF (default: stdin)"},
    {"idmap", CLI_VALUE, "FILE", "identifier policy JSON: appraised claims to the identifier"},
    {"key", CLI_VALUE, "KEY", "the identity server's signing key: a key file or pkcs11: URI"},
    {"dir", CLI_VALUE, "DIR",
     "CA directory (avow ca init): issue a WIC, an X.509 certificate signed by its key, instead "
     "of a WIT; the nonce is the CA's and is used once"},
    {"days", CLI_VALUE, "N", "with -dir: validity of the WIC (default: ca.json's days)"},
    {"dns", CLI_MULTI, "NAME",
     "with -dir: a DNS subjectAltName beside the identifier (repeatable; a WIC has one URI)"},
    {"outform", CLI_VALUE, "PEM|DER", "with -dir: format of the WIC (default: PEM)"},
    {"iss", CLI_VALUE, "URI", "the identity server's URI (the WIT's iss)"},
    {"kid", CLI_VALUE, "TEXT", "\"kid\" header of the WIT"},
    {"ttl", CLI_VALUE, "SECONDS", "lifetime of the WIT (default 3600, at most 86400)"},
    {"result", CLI_VALUE, "none|digest|ear",
     "how the appraisal shows in the WIT: nothing, ear_sha256 (default) or the EAR JWT"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "more untrusted certificates for path building"},
    CLI_RESULT_OPTS,
    {"policy", CLI_VALUE, "FILE", "appraisal policy JSON (default: the built-in avow-default)"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce (every statement must carry it)"},
    {"nonce-db", CLI_VALUE, "FILE", "SQLite nonce store: the nonce is accepted once"},
    {"any", CLI_FLAG, NULL,
     "Evidence is trusted when one of its signatures verifies (default: all)"},
    {"at", CLI_VALUE, "TIME", "appraise and issue at TIME: now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"out", CLI_VALUE, "FILE", "where the WIT (or the WIC) goes (default: stdout)"},
    {"json", CLI_FLAG, NULL, "print {ear, request, policy, freshness} of the appraisal on stderr"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    P11_OPTS,
    {NULL, CLI_FLAG, NULL, NULL},
};

typedef struct issue_ctx {
    avow_ca_dir *cd; /* -dir: a WIC instead of a WIT */
    char *dns;       /* the -dns names as "DNS:a,DNS:b" */
    avow_verifier *v;
    avow_policy *policy;
    avow_nonce_store *store;
    avow_request *req;
    avow_wimse_idmap *idmap;
    avow_signer *signer;
    uint8_t nonce[AVOW_NONCE_MAX_LEN];
    avow_appraise_opts ao;
    avow_wimse_issue_opts o;
    avow_diag d;
} issue_ctx;

/* Every -dns as "DNS:a,DNS:b" for wic_dns: the library refuses what is not a DNS name. */
static avow_err join_dns(issue_ctx *c, const cli_args *a)
{
    size_t n = cli_count(a, "dns"), len = 1;
    if (n == 0)
        return AVOW_OK;
    for (size_t i = 0; i < n; i++)
        len += strlen(cli_get_n(a, "dns", i)) + 5;
    if ((c->dns = malloc(len)) == NULL)
        return cli_fail(&c->d, AVOW_ERR_NOMEM, "dns", "out of memory");
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(c->dns + used, len - used, "%sDNS:%s", i > 0 ? "," : "",
                                 cli_get_n(a, "dns", i));
    c->o.wic_dns = c->dns;
    return AVOW_OK;
}

/*
 * -dir: the WIC's options, then the CA that signs it, with its key (a
 * pkcs11: one takes -pin-source), opened only for a good command line.
 */
static avow_err wic_setup(issue_ctx *c, const cli_args *a)
{
    avow_err err = AVOW_OK;
    if (cli_get(a, "days") != NULL) {
        unsigned long days = 0;
        char *end = NULL;
        const char *t = cli_get(a, "days");
        days = strtoul(t, &end, 10);
        if (t[0] < '1' || t[0] > '9' || *end != '\0' || days > AVOW_CA_MAX_DAYS)
            err = cli_fail(&c->d, AVOW_ERR_USAGE, "days", "\"%s\" is not 1 to %u", t,
                           (unsigned)AVOW_CA_MAX_DAYS);
        c->o.wic_days = (unsigned)days;
    }
    if (err == AVOW_OK)
        err = join_dns(c, a);
    if (err == AVOW_OK && cli_get(a, "outform") != NULL) {
        cli_form f;
        err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &f, &c->d);
    }
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    oo.pin_source = cli_get(a, "pin-source");
    oo.pkcs11_module = cli_p11_module(cli_get(a, "pkcs11-module"));
    if (err == AVOW_OK)
        err = avow_ca_dir_open(cli_get(a, "dir"), &oo, &c->cd, &c->d);
    return err;
}

static avow_err issue_setup(issue_ctx *c, const cli_args *a)
{
    int64_t now = 0;
    avow_err err = cli_get(a, "dir") != NULL ? wic_setup(c, a) : AVOW_OK;
    if (err == AVOW_OK)
        err = cli_appraisal_setup(a, &c->v, &c->policy, &c->store, c->nonce, &c->ao, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_secs(a, "ttl", AVOW_WIMSE_MAX_WIT_TTL, &c->o.ttl, &c->d);
    if (err == AVOW_OK)
        err = cli_parse_now(a, "at", &now, &c->d);
    const char *res = cli_get(a, "result");
    if (err == AVOW_OK && res != NULL) {
        if (strcmp(res, "none") == 0)
            c->o.result = AVOW_WIMSE_RESULT_NONE;
        else if (strcmp(res, "digest") == 0)
            c->o.result = AVOW_WIMSE_RESULT_DIGEST;
        else if (strcmp(res, "ear") == 0)
            c->o.result = AVOW_WIMSE_RESULT_EAR;
        else
            err = cli_fail(&c->d, AVOW_ERR_USAGE, "result",
                           "\"%s\" is not one of none, digest and ear", res);
    }
    if (err == AVOW_OK)
        err = avow_wimse_idmap_load(cli_get(a, "idmap"), NULL, &c->idmap, &c->d);
    if (err == AVOW_OK)
        err = cli_csr_load(a, &c->req, &c->d);
    if (err == AVOW_OK && c->cd == NULL)
        err = cli_signer_open(a, "key", cli_get(a, "key"), 0, 0, &c->signer, &c->d);
    c->ao.now = (time_t)now;
    c->o.idmap = c->idmap;
    c->o.iss = cli_get(a, "iss");
    c->o.kid = cli_get(a, "kid");
    c->o.now = now;
    return err;
}

/* The WIC on stdout or into -out, PEM by default. */
static avow_err write_wic(const cli_args *a, X509 *cert, avow_diag *d)
{
    cli_form form;
    avow_buf der = {0};
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, d);
    if (err == AVOW_OK)
        err = avow_cert_der(cert, &der, d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), der.ptr, der.len, "CERTIFICATE", form, d);
    avow_buf_free(&der);
    return err;
}

static int run_issue(const char *prog, const cli_args *a)
{
    int wic = cli_get(a, "dir") != NULL;
    if (cli_get(a, "idmap") == NULL || (!wic && cli_get(a, "key") == NULL) ||
        cli_count(a, "CAfile") == 0)
        return cli_usage_error(prog, "-idmap, -key (or -dir) and -CAfile are required");
    if (wic &&
        (cli_get(a, "key") != NULL || cli_get(a, "nonce-db") != NULL || cli_get(a, "iss") != NULL ||
         cli_get(a, "kid") != NULL || cli_get(a, "ttl") != NULL || cli_get(a, "result") != NULL))
        return cli_usage_error(prog, "-dir issues a WIC with the CA's key and nonces: no -key, "
                                     "-nonce-db, -iss, -kid, -ttl or -result");
    if (!wic &&
        (cli_get(a, "days") != NULL || cli_count(a, "dns") > 0 || cli_get(a, "outform") != NULL))
        return cli_usage_error(prog, "-days, -dns and -outform are for a WIC: give -dir");
    issue_ctx c;
    memset(&c, 0, sizeof(c));
    avow_appraise_opts_init(&c.ao);
    avow_wimse_issue_opts_init(&c.o);
    avow_diag_clear(&c.d);
    avow_buf wit = {0};
    X509 *cert = NULL;
    avow_appraisal *ap = NULL;
    avow_err err = issue_setup(&c, a);
    if (err == AVOW_OK && wic)
        err = avow_wimse_issue_wic(c.cd, c.v, c.req, &c.ao, &c.o, &cert, &ap, &c.d);
    else if (err == AVOW_OK)
        err = avow_wimse_issue_wit_request(c.v, c.req, &c.ao, c.signer, &c.o, &wit, &ap, &c.d);
    cli_appraisal_to_stderr(a, ap);
    if (err == AVOW_OK)
        err = wic ? write_wic(a, cert, &c.d) : cli_write_token(a, &wit, &c.d);
    int rc = err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &c.d);
    avow_buf_free(&wit);
    X509_free(cert);
    avow_ca_dir_free(c.cd);
    free(c.dns);
    avow_appraisal_free(ap);
    avow_signer_free(c.signer);
    avow_request_free(c.req);
    avow_wimse_idmap_free(c.idmap);
    avow_nonce_store_free(c.store);
    avow_policy_free(c.policy);
    avow_verifier_free(c.v);
    return rc;
}

/* ---- show ---- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "a WIT or WPT, compact JWS text (default: stdin)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf tok = {0}, hdr = {0}, pay = {0};
    avow_err err = cli_read_token(cli_get(a, "in"), &tok, &d);
    if (err == AVOW_OK && tok.len > AVOW_WIMSE_MAX_TOKEN)
        err = cli_fail(&d, AVOW_ERR_TOO_LARGE, "in", "a token is at most %u bytes",
                       AVOW_WIMSE_MAX_TOKEN);
    if (err == AVOW_OK)
        err = avow_jws_decode_unverified((const char *)tok.ptr, tok.len, &hdr, &pay, &d);
    if (err == AVOW_OK) {
        /* Nothing here is checked: the words say so before the content does. */
        puts("UNVERIFIED: the signature, the issuer and the claims are not checked");
        fputs("header: ", stdout);
        cli_put_escaped(stdout, hdr.ptr, hdr.len, 0);
        fputs("\nclaims: ", stdout);
        cli_put_escaped(stdout, pay.ptr, pay.len, 0);
        putchar('\n');
    }
    avow_buf_free(&tok);
    avow_buf_free(&hdr);
    avow_buf_free(&pay);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd wimse_cmds[] = {
    {"issue",
     "identity server: a WIT (or with -dir a WIC) for an attested CSR, only when its appraisal "
     "affirms",
     "[options] -in FILE -idmap FILE (-key KEY | -dir DIR) -CAfile FILE", issue_opts, 0, run_issue},
    {"proof", "workload: a Workload Proof Token for one request",
     "[options] [-tpm TCTI] -key KEY -wit FILE -aud URL", proof_opts, 0, run_proof},
    {"verify", "relying party: authenticate a workload by its WIT and WPT, or check a WIC",
     "[options] -wit FILE -wpt FILE -aud URL (-issuer-key FILE | -issuer-jwks FILE) | -wic FILE "
     "-CAfile FILE",
     verify_opts, 0, run_verify},
    {"show", "print a WIT's or WPT's header and claims, unverified", "[options] -in FILE",
     show_opts, 0, run_show},
};

int cli_group_wimse(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "WIMSE workload credentials: Workload Identity Tokens from attestation "
                         "and Workload Proof Tokens (draft-ietf-wimse-workload-creds-02, "
                         "draft-ietf-wimse-wpt-02)",
                         wimse_cmds, sizeof(wimse_cmds) / sizeof(wimse_cmds[0]), argc, argv);
}
