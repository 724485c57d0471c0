/*
 * "avow csr verify": loads anchors, certificates, policy and nonce store,
 * runs avow_appraise_request and prints the EAR (pretty JSON) on stdout and
 * a one-line verdict on stderr. The exit status follows the EAR's tier:
 * 0 affirming, 1 contraindicated, 5 warning, 6 none; 2 usage, 3 malformed
 * request, 4 I/O (avow-csr(1), EXIT STATUS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/avow.h>
#include <avow/nonce.h>
#include <avow/policy.h>
#include <avow/request.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/p11.h"

const cli_opt cli_csr_verify_opts[] = {
    {"in", CLI_VALUE, "FILE", "request to verify, PEM or DER, PKCS#10 or CRMF (default: stdin)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "more untrusted certificates for path building"},
    CLI_RESULT_OPTS,
    {"policy", CLI_VALUE, "FILE", "appraisal policy JSON (default: the built-in avow-default)"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce (every statement must carry it)"},
    {"nonce-db", CLI_VALUE, "FILE",
     "SQLite nonce store: the nonce is accepted once (see csr nonce)"},
    {"any", CLI_FLAG, NULL,
     "Evidence is trusted when one of its signatures verifies (default: all)"},
    {"at", CLI_VALUE, "TIME", "check certificates at TIME: now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"ttl", CLI_VALUE, "SECONDS", "the EAR expires after SECONDS (default: no exp)"},
    {"ear-key", CLI_VALUE, "KEY", "sign the EAR as a JWT with this key file or pkcs11: URI"},
    {"ear-kid", CLI_VALUE, "TEXT", "\"kid\" header of the EAR JWT"},
    {"jwt-out", CLI_VALUE, "FILE", "where the EAR JWT goes (with -ear-key)"},
    {"json", CLI_FLAG, NULL, "print {ear, request, policy} JSON instead of the EAR alone"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module for a pkcs11: -ear-key (default: $AVOW_PKCS11_MODULE, "
     "else " CLI_P11_DEFAULT_MODULE ")"},
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN: env:NAME, file:PATH or pass:TEXT"},
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

typedef struct verify_ctx {
    avow_verifier *v;
    avow_request *req;
    avow_policy *policy;
    avow_nonce_store *store;
    uint8_t nonce[AVOW_NONCE_MAX_LEN];
    avow_appraise_opts opts;
    avow_diag d;
} verify_ctx;

static avow_err setup(verify_ctx *c, const cli_args *a)
{
    avow_err err = cli_appraisal_setup(a, &c->v, &c->policy, &c->store, c->nonce, &c->opts, &c->d);
    if (err == AVOW_OK && cli_get(a, "ttl") != NULL) {
        char *end = NULL;
        const char *t = cli_get(a, "ttl");
        unsigned long ttl = t[0] >= '0' && t[0] <= '9' ? strtoul(t, &end, 10) : 0;
        if (end == NULL || *end != '\0' || ttl == 0 || ttl > 10ul * 365 * 86400)
            err = cli_fail(&c->d, AVOW_ERR_USAGE, "ttl", "\"%s\" is not a number of seconds", t);
        c->opts.ear_ttl = (unsigned)ttl;
    }
    if (err == AVOW_OK)
        err = cli_csr_load(a, &c->req, &c->d);
    return err;
}

/* The EAR (or --json: {ear, request, policy, freshness}) on stdout. */
static avow_err print_result(verify_ctx *c, const avow_appraisal *ap, int full)
{
    avow_buf text = {0};
    avow_err err = avow_appraisal_to_json(ap, full, &text, &c->d);
    if (err == AVOW_OK)
        err = cli_print(&text, &c->d);
    avow_buf_free(&text);
    return err;
}

/* "avow csr verify: contraindicated (check key-binding: AVOW_ERR_KEY_BINDING: ...)". */
static void print_verdict(const char *prog, const avow_appraisal *ap)
{
    const avow_ear *e = avow_appraisal_get0_ear(ap);
    const char *tier = avow_tier_name(avow_appraisal_tier(ap));
    fprintf(stderr, "%s: %s", prog, tier != NULL ? tier : "?");
    size_t n = 0;
    for (size_t i = 0; e != NULL && i < e->nsubmods; i++)
        n += e->submods[i].nreasons;
    for (size_t i = 0; e != NULL && i < e->nsubmods; i++) {
        if (e->submods[i].nreasons == 0)
            continue;
        const avow_ear_reason *r = &e->submods[i].reasons[0];
        const char *code = avow_errname(r->code);
        /* Rule names come from the policy and details quote claim values: escaped. */
        fprintf(stderr, " (%s ", r->is_rule ? "rule" : "check");
        cli_put_escaped(stderr, r->name, strlen(r->name), 0);
        fprintf(stderr, ": %s%s", code != NULL ? code : "?", r->detail[0] ? ": " : "");
        cli_put_escaped(stderr, r->detail, strlen(r->detail), 0);
        if (n > 1)
            fprintf(stderr, "; %lu more in avow_reasons", (unsigned long)(n - 1));
        fputc(')', stderr);
        break;
    }
    fputc('\n', stderr);
}

/*
 * "avow csr verify: link: statement 1 (psa-token) binds statement 0 (kat): nonce = ...":
 * which platform token vouched for which statement's signer (docs/kat.md).
 */
static void print_links(const char *prog, const avow_appraisal *ap)
{
    const avow_verification *r = avow_appraisal_get0_verification(ap);
    for (size_t i = 0; r != NULL && i < avow_verification_count(r); i++) {
        const avow_statement_result *s = avow_verification_get0(r, i);
        size_t k = 0;
        const char *how = NULL;
        if (!avow_statement_result_linked_to(s, &k, &how))
            continue;
        fprintf(stderr, "%s: link: statement %lu (%s) binds statement %lu (%s): %s\n", prog,
                (unsigned long)i, avow_statement_result_type_name(s), (unsigned long)k,
                avow_statement_result_type_name(avow_verification_get0(r, k)),
                how != NULL ? how : "");
    }
}

static avow_err write_jwt(verify_ctx *c, const cli_args *a, const avow_appraisal *ap)
{
    avow_signer *signer = NULL;
    avow_buf jwt = {0};
    avow_err err = cli_signer_open(a, "ear-key", cli_get(a, "ear-key"), 0, 0, &signer, &c->d);
    if (err == AVOW_OK)
        err = avow_ear_sign_jwt(avow_appraisal_get0_ear(ap), signer, cli_get(a, "ear-kid"), &jwt,
                                &c->d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "jwt-out"), jwt.ptr, jwt.len, NULL, CLI_FORM_DER, &c->d);
    avow_buf_free(&jwt);
    avow_signer_free(signer);
    return err;
}

int cli_csr_verify(const char *prog, const cli_args *a)
{
    if (cli_count(a, "CAfile") + cli_count(a, "result-key") + cli_count(a, "iak") == 0)
        return cli_usage_error(prog, "-CAfile ANCHORS is required (or -result-key, -iak)");
    if ((cli_get(a, "ear-key") == NULL) != (cli_get(a, "jwt-out") == NULL))
        return cli_usage_error(prog, "-ear-key and -jwt-out go together");
    verify_ctx c;
    memset(&c, 0, sizeof(c));
    avow_appraise_opts_init(&c.opts);
    avow_diag_clear(&c.d);
    avow_appraisal *ap = NULL;
    int rc;

    avow_err err = setup(&c, a);
    if (err == AVOW_OK) {
        err = avow_appraise_request(c.v, c.req, &c.opts, &ap, &c.d);
        if (ap == NULL && err == AVOW_OK)
            err = cli_fail(&c.d, AVOW_ERR_INTERNAL, "", "no appraisal");
    }
    if (ap == NULL) {
        rc = cli_report(err != AVOW_OK ? err : AVOW_ERR_INTERNAL, &c.d);
    } else {
        err = print_result(&c, ap, cli_flag(a, "json"));
        if (err == AVOW_OK && cli_get(a, "ear-key") != NULL)
            err = write_jwt(&c, a, ap);
        print_verdict(prog, ap);
        print_links(prog, ap);
        rc = err != AVOW_OK ? cli_report(err, &c.d) : cli_exit_tier(avow_appraisal_tier(ap));
    }
    avow_appraisal_free(ap);
    avow_nonce_store_free(c.store);
    avow_policy_free(c.policy);
    avow_request_free(c.req);
    avow_verifier_free(c.v);
    return rc;
}
