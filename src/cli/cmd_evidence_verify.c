/*
 * "avow evidence verify": loads anchors, certificates and keys into a
 * verifier, runs avow_verify_evidence and prints the result the library
 * renders (avow_evidence_result_to_text or _to_json). The exit status is 0
 * only for trusted Evidence.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"

const cli_opt cli_evidence_verify_opts[] = {
    {"in", CLI_VALUE, "FILE", "Evidence to verify (default: stdin)"},
    {"inform", CLI_VALUE, "PEM|DER", "input format (default: detected)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "untrusted certificates for path building"},
    {"key-id", CLI_MULTI, "HEX", "explicit key id of the matching -key-pub (one each, or none)"},
    {"key-pub", CLI_MULTI, "FILE",
     "trusted raw public key: signers with its SPKI, its -key-id or a key id derived from it"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce"},
    {"require-nonce", CLI_FLAG, NULL, "fail when the Evidence carries no nonce"},
    {"any", CLI_FLAG, NULL, "trust when one signature verifies (default: all must)"},
    {"ignore-ak-spki", CLI_FLAG, NULL, "do not require signer keys to be listed in ak-spki"},
    {"at", CLI_VALUE, "TIME", "check certificates at TIME: now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"json", CLI_FLAG, NULL, "print the result as JSON"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {NULL, CLI_FLAG, NULL, NULL},
};

/* -key-pub FILE, each with its -key-id HEX or (no -key-id at all) known by derived ids. */
static avow_err add_keys(avow_verifier *v, const cli_args *a, avow_diag *d)
{
    size_t n = cli_count(a, "key-pub"), nid = cli_count(a, "key-id");
    if (nid != 0 && nid != n)
        return cli_fail(d, AVOW_ERR_USAGE, "key-id",
                        "give one -key-id per -key-pub, or none (key ids derived from each key)");
    for (size_t i = 0; i < n; i++) {
        uint8_t id[64];
        size_t idlen = 0;
        EVP_PKEY *pub = NULL;
        avow_err err =
            nid > 0 ? cli_parse_hex("key-id", cli_get_n(a, "key-id", i), id, sizeof(id), &idlen, d)
                    : AVOW_OK;
        if (err == AVOW_OK && nid > 0 && idlen == 0)
            err = cli_fail(d, AVOW_ERR_USAGE, "key-id", "an empty -key-id names no key");
        if (err == AVOW_OK)
            err = cli_load_public_key(cli_get_n(a, "key-pub", i), &pub, d);
        if (err == AVOW_OK)
            err = avow_verifier_add_key(v, nid > 0 ? id : NULL, idlen, pub, d);
        EVP_PKEY_free(pub);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static avow_err setup(avow_verifier **v, const cli_args *a, avow_diag *d)
{
    if (cli_count(a, "CAfile") == 0 && cli_count(a, "key-pub") == 0)
        return cli_fail(d, AVOW_ERR_USAGE, "CAfile", "give -CAfile and/or -key-pub");
    avow_profile p;
    avow_err err = cli_evidence_profile(a, &p, d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, &p, v, d);
    if (err == AVOW_OK)
        err = add_keys(*v, a, d);
    return err;
}

int cli_evidence_verify(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    avow_verifier *v = NULL;
    avow_evidence *ev = NULL;
    avow_evidence_result *r = NULL;
    uint8_t nonce[256];
    avow_verify_opts vo;
    avow_verify_opts_init(&vo);

    avow_err err = setup(&v, a, &d);
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &vo.nonce_len, &d);
        vo.nonce = nonce;
    }
    if (err == AVOW_OK)
        err = cli_evidence_load(a, avow_verifier_get0_profile(v), &ev, &d);
    if (err != AVOW_OK) {
        avow_verifier_free(v);
        avow_evidence_free(ev);
        return cli_report(err, &d);
    }

    avow_err verdict = avow_verify_evidence(v, ev, &vo, &r, &d);
    int rc = CLI_EXIT_OK;
    if (r != NULL) {
        /* The library renders (and escapes); the command only prints. */
        avow_buf text = {0};
        err = cli_flag(a, "json") ? avow_evidence_result_to_json(r, &text)
                                  : avow_evidence_result_to_text(r, &text);
        if (err == AVOW_OK)
            err = cli_print(&text, &d);
        avow_buf_free(&text);
        if (err != AVOW_OK)
            rc = cli_report(err, &d);
    }
    if (verdict != AVOW_OK && rc == CLI_EXIT_OK) {
        cli_report(verdict, &d);
        /* Malformed content found while verifying is still "not trusted". */
        rc = cli_exit_code(verdict) == CLI_EXIT_MALFORMED || cli_exit_code(verdict) == CLI_EXIT_OK
                 ? CLI_EXIT_FAIL
                 : cli_exit_code(verdict);
    }
    avow_evidence_result_free(r);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    return rc;
}
