/*
 * "avow psa": show and verify a PSA attestation token (RFC 9783). A thin
 * shell over the registry: the token is verified as a statement of type
 * AVOW_OID_PSA_TOKEN (avow_statement_verify), and shown by its row, so
 * the same code verifies it inside avow_appraise. The command only loads
 * the IAKs into the verifier's key set.
 */
#include <string.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/io.h"
#include "cli/opts.h"

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "the token: a tagged COSE_Sign1 or COSE_Mac0 (default: stdin)"},
    {"json", CLI_FLAG, NULL, "print JSON instead of text"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt verify_opts[] = {
    {"in", CLI_VALUE, "FILE", "the token: a tagged COSE_Sign1 or COSE_Mac0 (default: stdin)"},
    {"iak", CLI_MULTI, "FILE",
     "trusted public IAK (PEM or DER key, certificate or private key file); repeatable"},
    {"iak-jwk", CLI_MULTI, "FILE", "trusted public IAK as a JWK; repeatable"},
    {"hmac-key", CLI_MULTI, "FILE",
     "trusted symmetric IAK (the raw key bytes) for COSE_Mac0; needs -instance-id"},
    {"instance-id", CLI_VALUE, "HEX",
     "the instance id (33 bytes) the keys above belong to (default for public keys: the id "
     "TF-M derives, 0x01 || SHA-256 of the EC point)"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce (the token's nonce claim)"},
    {"json", CLI_FLAG, NULL, "print JSON instead of text"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err token_oid(avow_oid *oid, avow_diag *d)
{
    return avow_oid_from_text(oid, AVOW_OID_PSA_TOKEN) == AVOW_OK
               ? AVOW_OK
               : cli_fail(d, AVOW_ERR_INTERNAL, "type", "bad built-in OID");
}

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d = {0};
    avow_buf tok = {0}, text = {0};
    avow_oid oid;
    avow_err err = token_oid(&oid, &d);
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &tok, &d);
    /* A token that does not decode is an error of its own (exit 3), not a display. */
    const avow_statement_type *row =
        err == AVOW_OK ? avow_registry_find(NULL, NULL, oid.der, oid.len) : NULL;
    if (err == AVOW_OK && (row == NULL || row->decode == NULL))
        err = cli_fail(&d, AVOW_ERR_INTERNAL, "type", "no PSA row in this library");
    if (err == AVOW_OK) {
        void *native = NULL;
        err = row->decode(row, NULL, tok.ptr, tok.len, &native, &d);
        row->free(row, native, NULL);
    }
    if (err == AVOW_OK)
        err = avow_statement_show(NULL, NULL, oid.der, oid.len, tok.ptr, tok.len,
                                  cli_flag(a, "json"), &text, &d);
    if (err == AVOW_OK)
        err = cli_print(&text, &d);
    avow_buf_free(&tok);
    avow_buf_free(&text);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* The keys of the command line, in the verifier's key set. */
static avow_err load_keys(const cli_args *a, avow_verifier *v, avow_diag *d)
{
    uint8_t id[AVOW_PSA_INSTANCE_ID_LEN];
    size_t idlen = 0;
    avow_err err = AVOW_OK;
    if (cli_get(a, "instance-id") != NULL) {
        err = cli_parse_hex("instance-id", cli_get(a, "instance-id"), id, sizeof(id), &idlen, d);
        if (err == AVOW_OK && idlen != sizeof(id))
            err = cli_fail(d, AVOW_ERR_USAGE, "instance-id", "%zu bytes; an instance id has %d",
                           idlen, AVOW_PSA_INSTANCE_ID_LEN);
    }
    size_t nkeys = cli_count(a, "iak") + cli_count(a, "iak-jwk") + cli_count(a, "hmac-key");
    if (err == AVOW_OK && nkeys == 0)
        err = cli_fail(d, AVOW_ERR_USAGE, "iak", "give -iak, -iak-jwk or -hmac-key");
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "iak"); i++) {
        EVP_PKEY *k = NULL;
        err = cli_load_public_key(cli_get_n(a, "iak", i), &k, d);
        if (err == AVOW_OK)
            err = avow_verifier_add_key(v, idlen ? id : NULL, idlen, k, d);
        EVP_PKEY_free(k);
    }
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "iak-jwk"); i++) {
        avow_buf j = {0};
        EVP_PKEY *k = NULL;
        err = cli_read(cli_get_n(a, "iak-jwk", i), &j, d);
        if (err == AVOW_OK)
            err = avow_jwk_import((const char *)j.ptr, j.len, &k, d);
        if (err == AVOW_OK)
            err = avow_verifier_add_key(v, idlen ? id : NULL, idlen, k, d);
        EVP_PKEY_free(k);
        avow_buf_free(&j);
    }
    if (err == AVOW_OK && cli_count(a, "hmac-key") > 0 && idlen == 0)
        err = cli_fail(d, AVOW_ERR_USAGE, "hmac-key",
                       "a symmetric IAK is found by its instance id only: give -instance-id");
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "hmac-key"); i++) {
        avow_buf s = {0};
        err = cli_read(cli_get_n(a, "hmac-key", i), &s, d);
        if (err == AVOW_OK)
            err = avow_verifier_add_secret(v, id, idlen, s.ptr, s.len, d);
        OPENSSL_cleanse(s.ptr, s.len);
        avow_buf_free(&s);
    }
    return err;
}

static int run_verify(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d = {0};
    avow_buf tok = {0}, text = {0};
    avow_verifier *v = NULL;
    avow_statement_result *r = NULL;
    uint8_t nonce[64];
    avow_verify_opts vo;
    avow_verify_opts_init(&vo);
    avow_oid oid;
    avow_err err = token_oid(&oid, &d);
    if (err == AVOW_OK)
        err = avow_verifier_new(NULL, &v);
    if (err == AVOW_OK)
        err = load_keys(a, v, &d);
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &vo.nonce_len, &d);
        vo.nonce = nonce;
    }
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &tok, &d);
    avow_err status = err;
    if (err == AVOW_OK) {
        status = avow_statement_verify(v, NULL, oid.der, oid.len, tok.ptr, tok.len, &vo, &r, &d);
        /* The result is shown whatever it says; only a failure to show it is another error. */
        err = cli_flag(a, "json") ? avow_statement_result_to_json(r, &text, NULL)
                                  : avow_statement_result_to_text(r, &text, NULL);
        if (err == AVOW_OK)
            err = cli_print(&text, NULL);
    }
    avow_statement_result_free(r);
    avow_verifier_free(v);
    avow_buf_free(&tok);
    avow_buf_free(&text);
    if (status != AVOW_OK)
        return cli_report(status, &d);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd psa_cmds[] = {
    {"show", "Decode a PSA attestation token and print its claims.", "[-in FILE] [-json]",
     show_opts, 0, run_show},
    {"verify", "Verify a PSA attestation token with a trusted IAK and print its claims.",
     "[-in FILE] -iak FILE | -iak-jwk FILE | -hmac-key FILE -instance-id HEX [-nonce HEX] "
     "[-json]",
     verify_opts, 0, run_verify},
};

int cli_group_psa(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog, "PSA attestation tokens (RFC 9783).", psa_cmds,
                         sizeof(psa_cmds) / sizeof(psa_cmds[0]), argc, argv);
}
