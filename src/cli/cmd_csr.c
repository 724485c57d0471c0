/*
 * "avow csr": the command table of the group, "show", "nonce", and what
 * create and verify share (loading the request).
 * The commands only load files and print; requests are read, built,
 * verified and appraised by the library (request.h, appraise.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/avow.h>
#include <avow/nonce.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/request_verify.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/io.h"

/* -in (PEM or DER, PKCS#10 or CRMF, told apart by the library), decoded strictly. */
avow_err cli_csr_load(const cli_args *a, avow_request **req, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = cli_read(cli_get(a, "in"), &raw, d);
    if (err == AVOW_OK && raw.len > AVOW_REQUEST_MAX_SIZE)
        err = cli_fail(d, AVOW_ERR_TOO_LARGE, "in", "request over %u bytes",
                       (unsigned)AVOW_REQUEST_MAX_SIZE);
    if (err == AVOW_OK)
        err = avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_AUTO, 0, req, d);
    avow_buf_free(&raw);
    return err;
}

/* ---- show ---- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "request to show, PEM or DER (default: stdin)"},
    {"json", CLI_FLAG, NULL, "print JSON instead of text"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_profile p;
    avow_request *r = NULL;
    avow_buf text = {0};
    avow_diag_clear(&d);
    avow_err err = cli_evidence_profile(a, &p, &d);
    if (err == AVOW_OK)
        err = cli_csr_load(a, &r, &d);
    if (err == AVOW_OK)
        err = cli_flag(a, "json") ? avow_request_to_json(r, NULL, &p, &text, &d)
                                  : avow_request_to_text(r, NULL, &p, &text, &d);
    if (err == AVOW_OK)
        err = cli_print(&text, &d);
    avow_buf_free(&text);
    avow_request_free(r);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* ---- nonce ---- */

static const cli_opt nonce_opts[] = {
    {"nonce-db", CLI_VALUE, "FILE", "SQLite nonce store (created when missing)"},
    {"len", CLI_VALUE, "N", "nonce length in bytes, 16..64 (default 32)"},
    {"ttl", CLI_VALUE, "SECONDS", "validity (default 300)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err parse_uint(const char *field, const char *text, unsigned long max,
                           unsigned long *out, avow_diag *d)
{
    char *end = NULL;
    unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
    if (end == NULL || *end != '\0' || v > max)
        return cli_fail(d, AVOW_ERR_USAGE, field, "\"%s\" is not a number up to %lu", text, max);
    *out = v;
    return AVOW_OK;
}

/* Issues a nonce into the store and prints it as hex: what an attester puts in its Evidence. */
static int run_nonce(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    unsigned long len = 0, ttl = 0;
    const char *db = cli_get(a, "nonce-db");
    if (db == NULL)
        return cli_usage_error(prog, "-nonce-db FILE is required");
    avow_err err = AVOW_OK;
    if (cli_get(a, "len") != NULL)
        err = parse_uint("len", cli_get(a, "len"), AVOW_NONCE_MAX_LEN, &len, &d);
    if (err == AVOW_OK && cli_get(a, "ttl") != NULL)
        err = parse_uint("ttl", cli_get(a, "ttl"), 10u * 365u * 86400u, &ttl, &d);
    avow_nonce_store *s = NULL;
    avow_buf nonce = {0};
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(db, &s, &d);
    if (err == AVOW_OK)
        err = avow_nonce_issue(s, (size_t)len, (unsigned)ttl, 0, &nonce, &d);
    if (err == AVOW_OK) {
        for (size_t i = 0; i < nonce.len; i++)
            printf("%02x", nonce.ptr[i]);
        putchar('\n');
    }
    avow_buf_free(&nonce);
    avow_nonce_store_free(s);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"create", "Build an attested certificate request (PKCS#10 or CRMF) and sign it.",
     "-key KEY|pkcs11:URI -subject NAME -evidence FILE... [options]", cli_csr_create_opts, 0,
     cli_csr_create},
    {"show", "Print an attested request: subject, key, statements, certificates, POP.",
     "[-in FILE] [-json]", show_opts, 0, run_show},
    {"verify", "Appraise an attested request and print the EAR; exit status by its tier.",
     "-in FILE -CAfile ANCHORS [options]", cli_csr_verify_opts, 0, cli_csr_verify},
    {"nonce", "Issue a nonce into a nonce store and print it as hex.",
     "-nonce-db FILE [-len N] [-ttl SECONDS]", nonce_opts, 0, run_nonce},
};

int cli_group_csr(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "Create, show and verify attested certificate requests "
                         "(draft-ietf-lamps-csr-attestation).",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}

avow_err cli_appraisal_setup(const cli_args *a, avow_verifier **v, avow_policy **policy,
                             avow_nonce_store **store, uint8_t nonce[AVOW_NONCE_MAX_LEN],
                             avow_appraise_opts *o, avow_diag *d)
{
    avow_profile p;
    avow_err err = cli_evidence_profile(a, &p, d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, &p, v, d);
    if (err == AVOW_OK && cli_get(a, "policy") != NULL)
        err = avow_policy_load(cli_get(a, "policy"), policy, d);
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, AVOW_NONCE_MAX_LEN, &o->nonce_len,
                            d);
        o->nonce = nonce;
    }
    if (err == AVOW_OK && cli_get(a, "nonce-db") != NULL)
        err = avow_nonce_store_open_sqlite_ex(cli_get(a, "nonce-db"), 0, store, d);
    o->policy = *policy;
    o->nonces = *store;
    o->verify_flags = cli_flag(a, "any") ? AVOW_VERIFY_ANY_SIGNATURE : 0;
    return err;
}
