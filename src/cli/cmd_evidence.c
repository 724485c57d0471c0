/*
 * "avow evidence": the command table of the group, "show", and the profile
 * and input handling create, show and verify share.
 */
#include <stdlib.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "Evidence to show (default: stdin)"},
    {"inform", CLI_VALUE, "PEM|DER", "input format (default: detected)"},
    {"json", CLI_FLAG, NULL, "print JSON (readable back by create -claims) instead of text"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {NULL, CLI_FLAG, NULL, NULL},
};

avow_err cli_evidence_profile(const cli_args *a, avow_profile *p, avow_diag *d)
{
    avow_profile_default(p);
    const char *arc = cli_get(a, "arc");
    const char *eku = cli_get(a, "ak-eku");
    if (arc == NULL)
        arc = getenv(AVOW_ENV_EVIDENCE_ARC);
    if (eku == NULL)
        eku = getenv(AVOW_ENV_AK_EKU);
    if (arc != NULL && arc[0] == '\0')
        arc = NULL;
    if (eku != NULL && eku[0] == '\0')
        eku = NULL;
    return avow_profile_set(p, arc, eku, d);
}

/* The keys of CLI_RESULT_OPTS, where the command declares them. */
static avow_err add_result_keys(const cli_args *a, avow_verifier *v, avow_diag *d)
{
    avow_err err = AVOW_OK;
    static const char *const opts[] = {"result-key", "iak"};
    for (size_t o = 0; o < 2 && err == AVOW_OK; o++)
        for (size_t i = 0; cli_declared(a, opts[o]) && err == AVOW_OK && i < cli_count(a, opts[o]);
             i++) {
            EVP_PKEY *k = NULL;
            err = cli_load_public_key(cli_get_n(a, opts[o], i), &k, d);
            if (err == AVOW_OK)
                err = o == 0 ? avow_verifier_add_result_key(v, NULL, k, d)
                             : avow_verifier_add_key(v, NULL, 0, k, d);
            EVP_PKEY_free(k);
        }
    const char *age = cli_declared(a, "result-max-age") ? cli_get(a, "result-max-age") : NULL;
    if (err == AVOW_OK && age != NULL) {
        char *end = NULL;
        unsigned long s = age[0] >= '0' && age[0] <= '9' ? strtoul(age, &end, 10) : 0;
        if (end == NULL || *end != '\0' || s > 10ul * 365 * 86400)
            return cli_fail(d, AVOW_ERR_USAGE, "result-max-age",
                            "\"%s\" is not a number of seconds", age);
        avow_verifier_set_result_max_age(v, (unsigned)s);
    }
    return err;
}

avow_err cli_verifier_from_args(const cli_args *a, const avow_profile *p, avow_verifier **v,
                                avow_diag *d)
{
    avow_err err = avow_verifier_new(p, v);
    for (int anchors = 1; anchors >= 0 && err == AVOW_OK; anchors--) {
        const char *opt = anchors ? "CAfile" : "certs";
        for (size_t i = 0; err == AVOW_OK && i < cli_count(a, opt); i++) {
            STACK_OF(X509) *sk = NULL;
            err = cli_load_certs(cli_get_n(a, opt, i), &sk, d);
            for (int j = 0; err == AVOW_OK && j < sk_X509_num(sk); j++) {
                X509 *x = sk_X509_value(sk, j);
                err =
                    anchors ? avow_verifier_add_anchor(*v, x, d) : avow_verifier_add_cert(*v, x, d);
            }
            sk_X509_pop_free(sk, X509_free);
        }
    }
    const char *at = cli_declared(a, "at") ? cli_get(a, "at") : NULL;
    if (err == AVOW_OK && at != NULL) {
        time_t t = 0;
        err = cli_parse_time("at", at, &t, d);
        if (err == AVOW_OK)
            avow_verifier_set_time(*v, t);
    }
    static const struct {
        const char *opt;
        unsigned flag;
    } flags[] = {
        {"any", AVOW_VERIFY_ANY_SIGNATURE},
        {"ignore-ak-spki", AVOW_VERIFY_IGNORE_AK_SPKI},
        {"require-nonce", AVOW_VERIFY_REQUIRE_NONCE},
        {"any-ecdsa-hash", AVOW_VERIFY_ANY_ECDSA_HASH},
        {"allow-ak-ca", AVOW_VERIFY_ALLOW_AK_CA},
        {"ignore-ca-eku", AVOW_VERIFY_IGNORE_CA_EKU},
        {"nested-by-signer", AVOW_VERIFY_NESTED_BY_SIGNER},
    };
    unsigned set = 0;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (cli_declared(a, flags[i].opt) && cli_flag(a, flags[i].opt))
            set |= flags[i].flag;
    if (err == AVOW_OK)
        avow_verifier_set_flags(*v, set);
    if (err == AVOW_OK)
        err = add_result_keys(a, *v, d);
    return err;
}

avow_err cli_evidence_load(const cli_args *a, const avow_profile *p, avow_evidence **ev,
                           avow_diag *d)
{
    cli_form form;
    avow_err err = cli_parse_form(cli_get(a, "inform"), CLI_FORM_AUTO, &form, d);
    avow_buf der = {0};
    if (err == AVOW_OK)
        err = cli_read_der(cli_get(a, "in"), AVOW_EVIDENCE_PEM_LABEL, form, &der, d);
    if (err == AVOW_OK)
        err = avow_evidence_decode(der.ptr, der.len, p, 0, ev, d);
    avow_buf_free(&der);
    return err;
}

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_profile p;
    avow_evidence *ev = NULL;
    avow_buf out = {0};
    avow_diag_clear(&d);
    avow_err err = cli_evidence_profile(a, &p, &d);
    if (err == AVOW_OK)
        err = cli_evidence_load(a, &p, &ev, &d);
    if (err == AVOW_OK)
        err =
            cli_flag(a, "json") ? avow_evidence_to_json(ev, &out) : avow_evidence_to_text(ev, &out);
    if (err == AVOW_OK)
        err = cli_print(&out, &d);
    avow_buf_free(&out);
    avow_evidence_free(ev);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"create", "Build PKIX Evidence from claims and sign it.",
     "[options] -signkey KEY [-signcert CERT]", cli_evidence_create_opts, 0, cli_evidence_create},
    {"show", "Print PKIX Evidence as text or JSON.", "[-in FILE] [-inform PEM|DER] [-json]",
     show_opts, 0, run_show},
    {"verify", "Verify PKIX Evidence against trust anchors and print the verdict.",
     "-in FILE -CAfile ANCHORS [options]", cli_evidence_verify_opts, 0, cli_evidence_verify},
    {"request", "Write an attestation request: the claims wanted, the keys named, the nonce.",
     "[-want NAMES] [-key-ident NAME] [-nonce HEX] [-from FILE] [-out FILE]",
     cli_evidence_request_opts, 0, cli_evidence_request},
};

int cli_group_evidence(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "Create, show and verify PKIX Evidence, and request it "
                         "(draft-ietf-rats-pkix-key-attestation-07).",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
