/*
 * "avow ca": a local CA for attested requests, a thin shell over
 * avow/ca_dir.h (the directory, the nonces, issuance and its ledger).
 *   init         key (software or PKCS#11) + self-signed CA certificate + nonce store + ca.json
 *   nonce        issues a freshness nonce from DIR/nonces.db
 *   issue        appraises a request and issues a certificate carrying the EAR only when
 *                affirming; the nonce is consumed in the transaction that records it
 *   list, show   the ledger: what the CA issued
 *   show-result  prints the EAR in an issued certificate after verifying it
 * docs/ca.md and avow-ca(1) describe the directory, the certificate and the exit codes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <avow/avow.h>
#include <avow/ca.h>
#include <avow/ca_dir.h>
#include <avow/ledger.h>
#include <avow/pkcs11.h>
#include <avow/times.h>
#include <avow/x509.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/p11.h"

#define CA_CRT "ca.crt"

typedef struct ca_path {
    char p[PATH_MAX];
} ca_path;

static avow_err dir_path(const char *dir, const char *name, ca_path *out, avow_diag *d)
{
    int n = snprintf(out->p, sizeof(out->p), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(out->p))
        return cli_fail(d, AVOW_ERR_USAGE, "dir", "path too long: %s/%s", dir, name);
    return AVOW_OK;
}

static avow_err parse_uint(const char *field, const char *text, unsigned long max, unsigned *out,
                           avow_diag *d)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || v == 0 || v > max)
        return cli_fail(d, AVOW_ERR_USAGE, field, "\"%s\" is not a number 1..%lu", text, max);
    *out = (unsigned)v;
    return AVOW_OK;
}

static void print_hex(FILE *f, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", p[i]);
}

/* The module for a pkcs11: key when ca.json or the command line names none. */
static const char *default_module(const char *flag)
{
    return cli_p11_module(flag);
}

static avow_err open_ca(const char *dir, const cli_args *a, unsigned flags, avow_ca_dir **out,
                        avow_diag *d)
{
    avow_ca_dir_open_opts o = {
        .size = sizeof(avow_ca_dir_open_opts),
        .pin_source = (flags & AVOW_CA_DIR_NO_KEY) ? NULL : cli_get(a, "pin-source"),
        .pkcs11_module =
            (flags & AVOW_CA_DIR_NO_KEY) ? NULL : default_module(cli_get(a, "pkcs11-module")),
        .flags = flags,
        .store = cli_declared(a, "store") ? cli_get(a, "store") : NULL,
    };
    return avow_ca_dir_open(dir, &o, out, d);
}

/* --- init --- */

static const cli_opt init_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory (created; must not exist or be empty)"},
    {"subject", CLI_VALUE, "NAME", "CA subject (default: \"CN=avow demo CA\")"},
    {"key", CLI_VALUE, "TYPE|URI",
     "ec-p256 (default), ec-p384, rsa-3072, ed25519, or a pkcs11: URI of an existing key"},
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module (default: $AVOW_PKCS11_MODULE, else " CLI_P11_DEFAULT_MODULE ")"},
    {"pin-source", CLI_VALUE, "SPEC",
     "token user PIN: env:NAME, file:PATH or pass:TEXT (stored in ca.json unless pass:)"},
    {"days", CLI_VALUE, "N", "validity of the CA certificate (default: 3650)"},
    {"cert-days", CLI_VALUE, "N", "default validity of issued certificates (default: 365)"},
    {"policy", CLI_VALUE, "FILE",
     "appraisal policy ca issue uses by default (default: avow-default)"},
    {"max-nonces", CLI_VALUE, "N", "outstanding nonces at most (default: 10000)"},
    {"san-allow", CLI_VALUE, "KINDS",
     "kinds of requested subjectAltNames ca issue -copy-san copies: dns,ip,uri,email,wildcard "
     "or all (default: dns; stored in ca.json)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_init(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    avow_ca_dir_init_opts o;
    avow_ca_dir_init_opts_init(&o);
    o.subject = cli_get(a, "subject");
    o.key = cli_get(a, "key");
    o.pin_source = cli_get(a, "pin-source");
    o.policy = cli_get(a, "policy");
    o.san_allow = cli_get(a, "san-allow");
    int p11 = o.key != NULL && strncmp(o.key, "pkcs11:", 7) == 0;
    avow_err err = AVOW_OK;
    if (cli_get(a, "days") != NULL)
        err = parse_uint("days", cli_get(a, "days"), AVOW_CA_MAX_DAYS, &o.days, &d);
    if (err == AVOW_OK && cli_get(a, "cert-days") != NULL)
        err = parse_uint("cert-days", cli_get(a, "cert-days"), AVOW_CA_MAX_DAYS, &o.cert_days, &d);
    if (err == AVOW_OK && cli_get(a, "max-nonces") != NULL)
        err = parse_uint("max-nonces", cli_get(a, "max-nonces"), 100000000ul, &o.max_nonces, &d);
    if (err == AVOW_OK && !p11 &&
        (cli_get(a, "pkcs11-module") != NULL || cli_get(a, "pin-source") != NULL))
        err = cli_fail(&d, AVOW_ERR_USAGE, "key",
                       "-pkcs11-module and -pin-source need -key pkcs11:...");
    if (err == AVOW_OK && p11)
        o.pkcs11_module = default_module(cli_get(a, "pkcs11-module"));
    if (err == AVOW_OK)
        err = avow_ca_dir_init(dir, &o, &d);
    /* The library checks the module first; say which option gives one (a library built
     * without PKCS#11 says so instead, with AVOW_ERR_UNSUPPORTED). */
    if (err == AVOW_ERR_ARG && p11 && o.pkcs11_module == NULL)
        err = cli_fail(&d, AVOW_ERR_USAGE, "pkcs11-module",
                       "no PKCS#11 module: give -pkcs11-module or set AVOW_PKCS11_MODULE "
                       "(" CLI_P11_DEFAULT_MODULE " is not installed)");
    if (err == AVOW_ERR_NO_PIN && o.pin_source == NULL)
        err = cli_fail(&d, AVOW_ERR_USAGE, "pin-source",
                       "the token key needs the user PIN: give -pin-source "
                       "env:NAME|file:PATH|pass:TEXT");
    if (err != AVOW_OK)
        return cli_report(err, &d);
    char shown[1024];
    if (p11)
        avow_p11_uri_redact(o.key, 0, shown, sizeof(shown));
    printf("CA %s in %s\n  certificate: %s/ca.crt\n  key: %s%s\n  nonces: %s/nonces.db\n",
           o.subject != NULL ? o.subject : AVOW_CA_DIR_DEFAULT_SUBJECT, dir, dir, p11 ? shown : dir,
           p11 ? "" : "/ca.key", dir);
    if (p11 && strcmp(shown, o.key) != 0)
        fprintf(stderr, "avow: note: the PIN in the key's URI is not stored; give -pin-source "
                        "to ca issue\n");
    if (fflush(stdout) != 0)
        return cli_report(cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write"), &d);
    return CLI_EXIT_OK;
}

/* --- nonce --- */

static const cli_opt nonce_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"store", CLI_VALUE, "URI",
     "nonce store shared by several CA instances: redis://HOST[:PORT][/DB][?prefix=P], "
     "unix:SOCKET or sqlite:PATH (default: DIR/nonces.db; the ledger stays there)"},
    {"ttl", CLI_VALUE, "SECONDS", "validity of the nonce (default: 300)"},
    {"len", CLI_VALUE, "N", "bytes, 16..64 (default: 32)"},
    {"json", CLI_FLAG, NULL, "print {\"nonce\", \"expires\", \"ttl\"} as JSON"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_nonce(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    unsigned ttl = AVOW_NONCE_DEFAULT_TTL, len = AVOW_NONCE_DEFAULT_LEN;
    avow_ca_dir *cd = NULL;
    avow_buf nonce = {0};
    time_t expires = 0;
    avow_err err = AVOW_OK;
    if (cli_get(a, "ttl") != NULL)
        err = parse_uint("ttl", cli_get(a, "ttl"), 366ul * 86400ul, &ttl, &d);
    if (err == AVOW_OK && cli_get(a, "len") != NULL) {
        err = parse_uint("len", cli_get(a, "len"), AVOW_NONCE_MAX_LEN, &len, &d);
        if (err == AVOW_OK && len < AVOW_NONCE_MIN_LEN)
            err = cli_fail(&d, AVOW_ERR_USAGE, "len", "a nonce has %u..%u bytes",
                           AVOW_NONCE_MIN_LEN, AVOW_NONCE_MAX_LEN);
    }
    if (err == AVOW_OK)
        err = open_ca(dir, a, AVOW_CA_DIR_NO_KEY, &cd, &d);
    if (err == AVOW_OK)
        err = avow_ca_dir_nonce(cd, len, ttl, 0, &nonce, &expires, &d);
    if (err == AVOW_OK) {
        if (cli_flag(a, "json")) {
            avow_buf json = {0};
            err = avow_nonce_to_json(nonce.ptr, nonce.len, expires, ttl, &json, &d);
            if (err == AVOW_OK)
                err = cli_print(&json, &d);
            avow_buf_free(&json);
        } else {
            print_hex(stdout, nonce.ptr, nonce.len);
            printf("\n");
            if (fflush(stdout) != 0)
                err = cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write");
        }
    }
    avow_buf_free(&nonce);
    avow_ca_dir_free(cd);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* --- issue --- */

static const cli_opt issue_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"store", CLI_VALUE, "URI",
     "nonce store shared by several CA instances: redis://HOST[:PORT][/DB][?prefix=P], "
     "unix:SOCKET or sqlite:PATH (default: DIR/nonces.db; the ledger stays there)"},
    {"in", CLI_VALUE, "FILE", "attested request: PKCS#10 or CRMF, PEM or DER (default: stdin)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "untrusted certificates for path building"},
    CLI_RESULT_OPTS,
    {"policy", CLI_VALUE, "FILE", "appraisal policy (default: ca.json's, else avow-default)"},
    {"nonce", CLI_VALUE, "HEX",
     "expected nonce (default: the Evidence's, checked against the CA's store)"},
    {"days", CLI_VALUE, "N", "validity of the certificate (default: ca.json's days)"},
    {"cap-days", CLI_FLAG, NULL,
     "end the certificate with the CA certificate instead of refusing a longer validity"},
    {"subject", CLI_VALUE, "NAME",
     "subject of the certificate, RFC 4514 order \"CN=host,O=Org\" or \"/O=Org/CN=host\" "
     "(default: the request's)"},
    {"san", CLI_MULTI, "LIST",
     "subjectAltNames of the certificate (DNS:, IP:, URI:, email:, comma-separated), in place "
     "of the request's; may repeat"},
    {"copy-san", CLI_FLAG, NULL, "copy the request's subjectAltNames, of the -san-allow kinds"},
    {"drop-san", CLI_FLAG, NULL, "issue without the subjectAltNames the request asks for"},
    {"san-allow", CLI_VALUE, "KINDS",
     "kinds -copy-san copies: dns,ip,uri,email,wildcard or all (default: ca.json's, else dns)"},
    {"key-usage", CLI_VALUE, "LIST",
     "keyUsage, e.g. digitalSignature,keyAgreement (default: digitalSignature)"},
    {"eku", CLI_VALUE, "LIST", "extendedKeyUsage names or OIDs, e.g. clientAuth (default: none)"},
    {"out", CLI_VALUE, "FILE",
     "also write the certificate here (it is always in DIR/certs/SERIAL.pem); not inside DIR"},
    {"outform", CLI_VALUE, "PEM|DER", "format of -out (default: PEM)"},
    {"ear-out", CLI_VALUE, "FILE", "write the EAR (JSON) here, affirming or not; not inside DIR"},
    {"jwt-out", CLI_VALUE, "FILE",
     "write the EAR as a JWT signed by the CA here, affirming or not; not inside DIR"},
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN for a pkcs11: CA key (default: ca.json's)"},
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module when ca.json names none (default: $AVOW_PKCS11_MODULE, "
     "else " CLI_P11_DEFAULT_MODULE ")"},
    {"any", CLI_FLAG, NULL,
     "Evidence is trusted when one of its signatures verifies (default: all)"},
    {"at", CLI_VALUE, "TIME",
     "check the attestation certificates at TIME: now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"json", CLI_FLAG, NULL, "print the EAR as JSON instead of a summary"},
    /* -eku is the certificate's; the attestation key's is -ak-eku, as in every command. */
    CLI_PROFILE_OPTS,
    {"eku-ak", CLI_RENAMED, "ak-eku", "the attestation-key EKU"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err make_verifier(const cli_args *a, avow_verifier **v, avow_diag *d)
{
    avow_profile p;
    avow_err err = cli_evidence_profile(a, &p, d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, &p, v, d);
    return err;
}

static void put_text(FILE *f, const char *text)
{
    cli_put_escaped(f, text, strlen(text), 0);
}

/*
 * Summary of an EAR: status and every reason. Submod names come from the
 * registry, rule names from the policy and details quote claim values:
 * all escaped, so a value cannot forge a "status: affirming" line.
 */
static void print_summary(FILE *f, const avow_ear *ear)
{
    const char *top = ear->has_status ? avow_tier_name(ear->status) : "none";
    fprintf(f, "status: %s\n", top != NULL ? top : "?");
    for (size_t i = 0; i < ear->nsubmods; i++) {
        const avow_ear_submod *s = &ear->submods[i];
        const char *tier = avow_tier_name(s->status);
        fputs("submod ", f);
        put_text(f, s->name != NULL ? s->name : "");
        fprintf(f, ": %s\n", tier != NULL ? tier : "?");
        for (size_t j = 0; j < s->nreasons; j++) {
            const avow_ear_reason *r = &s->reasons[j];
            const char *rt = avow_tier_name(r->tier), *code = avow_errname(r->code);
            fprintf(f, "  %s ", r->is_rule ? "rule" : "check");
            put_text(f, r->name);
            fprintf(f, ": %s (%s)%s", rt != NULL ? rt : "?", code != NULL ? code : "?",
                    r->detail[0] != '\0' ? ": " : "");
            put_text(f, r->detail);
            fputc('\n', f);
        }
    }
}

typedef struct issue_ctx {
    avow_diag d;
    avow_ca_dir *cd;
    avow_verifier *v;
    avow_policy *policy;
    avow_request *req;
    avow_appraisal *ap;
    X509 *cert;
    avow_buf jwt, pretty;
    char *san;   /* every -san, joined */
    int san_bad; /* a -san did not parse: a usage error */
} issue_ctx;

static void issue_free(issue_ctx *c)
{
    free(c->san);
    avow_buf_free(&c->jwt);
    avow_buf_free(&c->pretty);
    X509_free(c->cert);
    avow_appraisal_free(c->ap);
    avow_request_free(c->req);
    avow_policy_free(c->policy);
    avow_verifier_free(c->v);
    avow_ca_dir_free(c->cd);
}

/* Outputs that land in the CA directory could replace ca.key or ca.json. */
static avow_err check_outputs(issue_ctx *c, const cli_args *a)
{
    static const char *const outs[] = {"out", "ear-out", "jwt-out"};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        const char *p = cli_get(a, outs[i]);
        if (p != NULL && avow_ca_dir_contains(c->cd, p))
            return cli_fail(&c->d, AVOW_ERR_USAGE, outs[i],
                            "%s is inside the CA directory; only the CA writes there "
                            "(certificates go to certs/ by themselves)",
                            p);
    }
    return AVOW_OK;
}

/* Everything before the appraisal. */
static avow_err issue_setup(issue_ctx *c, const cli_args *a, const char *dir)
{
    avow_diag *d = &c->d;
    if (cli_count(a, "CAfile") + cli_count(a, "result-key") + cli_count(a, "iak") == 0)
        return cli_fail(d, AVOW_ERR_USAGE, "CAfile",
                        "give -CAfile with the attestation trust anchors (or -result-key, -iak)");
    avow_err err = AVOW_OK;
    if (cli_get(a, "policy") != NULL)
        err = avow_policy_load(cli_get(a, "policy"), &c->policy, d);
    if (err == AVOW_OK)
        err = make_verifier(a, &c->v, d);
    avow_buf raw = {0};
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &raw, d);
    if (err == AVOW_OK)
        err = avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_AUTO, 0, &c->req, d);
    avow_buf_free(&raw);
    if (err == AVOW_OK)
        err = open_ca(dir, a, 0, &c->cd, d);
    if (err == AVOW_OK)
        err = check_outputs(c, a);
    return err;
}

static avow_err write_out(issue_ctx *c, const cli_args *a)
{
    cli_form form;
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &c->d);
    avow_buf der = {0};
    if (err == AVOW_OK)
        err = avow_cert_der(c->cert, &der, &c->d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), der.ptr, der.len, "CERTIFICATE", form, &c->d);
    if (err == AVOW_OK && strcmp(cli_get(a, "out"), "-") != 0)
        chmod(cli_get(a, "out"), 0644);
    avow_buf_free(&der);
    return err;
}

/*
 * Every -san into one list for the library (the list syntax joins with ','),
 * each checked on its own first: a bad name is a usage error before any
 * appraisal, and a value ending in '\' cannot escape the comma of the join.
 */
static avow_err join_sans(issue_ctx *c, const cli_args *a)
{
    size_t n = cli_count(a, "san"), len = 0;
    if (n == 0)
        return AVOW_OK;
    GENERAL_NAMES *check = GENERAL_NAMES_new();
    avow_err err =
        check != NULL ? AVOW_OK : cli_fail(&c->d, AVOW_ERR_NOMEM, "san", "out of memory");
    for (size_t i = 0; err == AVOW_OK && i < n; i++) {
        err = avow_san_parse(cli_get_n(a, "san", i), check, &c->d);
        c->san_bad = err != AVOW_OK && err != AVOW_ERR_NOMEM;
        len += strlen(cli_get_n(a, "san", i)) + 1;
    }
    GENERAL_NAMES_free(check);
    if (err != AVOW_OK)
        return err;
    if ((c->san = malloc(len)) == NULL)
        return cli_fail(&c->d, AVOW_ERR_NOMEM, "san", "out of memory");
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(c->san + used, len - used, "%s%s", i > 0 ? "," : "",
                                 cli_get_n(a, "san", i));
    return AVOW_OK;
}

/* The options that shape the certificate and the expected nonce. */
static avow_err issue_options(issue_ctx *c, const cli_args *a, avow_ca_dir_issue_opts *io,
                              uint8_t *nonce, size_t cap)
{
    avow_ca_dir_issue_opts_init(io);
    io->issue.subject = cli_get(a, "subject");
    io->issue.eku = cli_get(a, "eku");
    io->issue.jwt_out = &c->jwt;
    if (cli_flag(a, "cap-days"))
        io->issue.flags |= AVOW_CA_ISSUE_CAP_VALIDITY;
    if (cli_flag(a, "copy-san"))
        io->issue.flags |= AVOW_CA_ISSUE_COPY_SAN;
    if (cli_flag(a, "drop-san"))
        io->issue.flags |= AVOW_CA_ISSUE_DROP_SAN;
    if ((cli_count(a, "san") > 0) + cli_flag(a, "copy-san") + cli_flag(a, "drop-san") > 1)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "san", "give one of -san, -copy-san and -drop-san");
    avow_err err = join_sans(c, a);
    io->issue.san = c->san;
    if (err == AVOW_OK && cli_get(a, "san-allow") != NULL)
        err = avow_san_kinds_parse(cli_get(a, "san-allow"), &io->issue.san_allow, &c->d);
    if (err == AVOW_OK && io->issue.san_allow == 0 && cli_get(a, "san-allow") != NULL)
        err = cli_fail(&c->d, AVOW_ERR_USAGE, "san-allow",
                       "none would copy no name: give -drop-san instead");
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, cap, &io->nonce_len, &c->d);
        io->nonce = nonce;
    }
    if (err == AVOW_OK && cli_get(a, "days") != NULL)
        err = parse_uint("days", cli_get(a, "days"), AVOW_CA_MAX_DAYS, &io->issue.days, &c->d);
    if (err == AVOW_OK && cli_get(a, "key-usage") != NULL)
        err = avow_ca_key_usage_parse(cli_get(a, "key-usage"), &io->issue.key_usage, &c->d);
    if (err == AVOW_OK && cli_get(a, "outform") != NULL) {
        cli_form f;
        err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &f, &c->d);
    }
    return err;
}

/* -ear-out, -jwt-out, -out, and the summary (or --json) on stdout. */
static avow_err issue_outputs(issue_ctx *c, const cli_args *a, int affirming)
{
    avow_err err = avow_appraisal_to_json(c->ap, 0, &c->pretty, &c->d);
    if (err == AVOW_OK && cli_get(a, "ear-out") != NULL)
        err = avow_write_file(cli_get(a, "ear-out"), c->pretty.ptr, c->pretty.len, &c->d);
    if (err == AVOW_OK && cli_get(a, "jwt-out") != NULL && c->jwt.ptr != NULL)
        err = avow_write_file(cli_get(a, "jwt-out"), c->jwt.ptr, c->jwt.len, &c->d);
    if (err == AVOW_OK && affirming && cli_get(a, "out") != NULL)
        err = write_out(c, a);
    if (err != AVOW_OK)
        return err;
    if (cli_flag(a, "json"))
        return cli_print(&c->pretty, &c->d);
    print_summary(stdout, avow_appraisal_get0_ear(c->ap));
    if (affirming) {
        char where[PATH_MAX];
        avow_ca_dir_cert_path(c->cd, c->cert, where, sizeof(where));
        avow_buf subj = {0}, names = {0};
        (void)avow_name_text(X509_get_subject_name(c->cert), &subj);
        GENERAL_NAMES *sans = X509_get_ext_d2i(c->cert, NID_subject_alt_name, NULL, NULL);
        if (sans != NULL)
            (void)avow_san_text(sans, &names);
        GENERAL_NAMES_free(sans);
        printf("certificate: %s\n", where);
        if (cli_get(a, "out") != NULL)
            printf("  copy: %s\n", cli_get(a, "out"));
        /* The subject is the request's (or -subject): untrusted text. */
        fputs("subject: ", stdout);
        put_text(stdout, subj.ptr != NULL ? (const char *)subj.ptr : "?");
        putchar('\n');
        if (names.ptr != NULL) {
            fputs("names: ", stdout);
            put_text(stdout, (const char *)names.ptr);
            putchar('\n');
        }
        avow_buf_free(&subj);
        avow_buf_free(&names);
    } else {
        printf("no certificate issued\n");
    }
    return AVOW_OK;
}

static int run_issue(const char *prog, const cli_args *a)
{
    issue_ctx c;
    memset(&c, 0, sizeof(c));
    avow_diag_clear(&c.d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    uint8_t nonce[AVOW_NONCE_MAX_LEN];
    avow_ca_dir_issue_opts io;
    avow_err err = issue_options(&c, a, &io, nonce, sizeof(nonce));
    if (err == AVOW_OK)
        err = issue_setup(&c, a, dir);
    if (err == AVOW_OK) {
        io.policy = c.policy;
        err = avow_ca_dir_issue(c.cd, c.v, c.req, &io, &c.ap, &c.cert, &c.d);
    }
    if (c.ap == NULL || avow_appraisal_get0_ear(c.ap) == NULL) {
        /* No result (bad input, a store failure, a lost race for the nonce): nothing to show. */
        int rc = cli_report(err != AVOW_OK ? err : AVOW_ERR_INTERNAL, &c.d);
        if (c.san_bad)
            rc = CLI_EXIT_USAGE;
        issue_free(&c);
        return rc;
    }
    int affirming = err == AVOW_OK && c.cert != NULL;
    if (!affirming) {
        avow_diag tmp;
        avow_diag_clear(&tmp);
        if (avow_ear_sign_jwt(avow_appraisal_get0_ear(c.ap),
                              avow_ca_get0_signer(avow_ca_dir_get0_ca(c.cd)), NULL, &c.jwt,
                              &tmp) != AVOW_OK)
            avow_buf_free(&c.jwt);
    }
    avow_err ierr = err;
    err = issue_outputs(&c, a, affirming);
    if (err == AVOW_OK && fflush(stdout) != 0)
        err = cli_fail(&c.d, AVOW_ERR_IO, "stdout", "cannot write");
    int rc;
    if (err != AVOW_OK)
        rc = cli_report(err, &c.d);
    else if (ierr != AVOW_OK && ierr != AVOW_ERR_NOT_AFFIRMING)
        rc = cli_report(ierr, &c.d);
    else if (!affirming) {
        const char *t = avow_tier_name(avow_appraisal_tier(c.ap));
        fprintf(stderr, "avow: no certificate issued: the attestation result is %s\n",
                t != NULL ? t : "not affirming");
        rc = cli_exit_tier(avow_appraisal_tier(c.ap));
    } else
        rc = CLI_EXIT_OK;
    issue_free(&c);
    return rc;
}

/* --- list, show: the ledger --- */

static const cli_opt list_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"store", CLI_VALUE, "URI",
     "nonce store shared by several CA instances: redis://HOST[:PORT][/DB][?prefix=P], "
     "unix:SOCKET or sqlite:PATH (default: DIR/nonces.db; the ledger stays there)"},
    {"json", CLI_FLAG, NULL, "print a JSON array instead of a table"},
    {NULL, CLI_FLAG, NULL, NULL},
};

/* One line of the table; the subject is the request's, escaped. */
static int list_row(void *ctx, const avow_issuance *r)
{
    (void)ctx;
    char issued[32], not_after[32];
    if (avow_time_format(r->issued, issued, sizeof(issued)) != AVOW_OK)
        snprintf(issued, sizeof(issued), "@%lld", (long long)r->issued);
    if (avow_time_format(r->not_after, not_after, sizeof(not_after)) != AVOW_OK)
        snprintf(not_after, sizeof(not_after), "@%lld", (long long)r->not_after);
    printf("%-32s  %s  %s  ", r->serial, issued, not_after);
    put_text(stdout, r->subject != NULL ? r->subject : "");
    putchar('\n');
    return 0;
}

static int run_list(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    avow_ca_dir *cd = NULL;
    avow_buf json = {0};
    avow_err err = open_ca(dir, a, AVOW_CA_DIR_NO_KEY, &cd, &d);
    if (err == AVOW_OK && cli_flag(a, "json")) {
        err = avow_ledger_to_json(avow_ca_dir_get0_store(cd), &json, &d);
        if (err == AVOW_OK)
            err = cli_print(&json, &d);
    } else if (err == AVOW_OK) {
        printf("%-32s  %-20s  %-20s  %s\n", "SERIAL", "ISSUED", "NOT AFTER", "SUBJECT");
        err = avow_ca_dir_list(cd, list_row, NULL, &d);
        if (err == AVOW_OK && fflush(stdout) != 0)
            err = cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write");
    }
    avow_buf_free(&json);
    avow_ca_dir_free(cd);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_opt show_row_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"store", CLI_VALUE, "URI",
     "nonce store shared by several CA instances: redis://HOST[:PORT][/DB][?prefix=P], "
     "unix:SOCKET or sqlite:PATH (default: DIR/nonces.db; the ledger stays there)"},
    {"serial", CLI_VALUE, "HEX", "serial number of the certificate (hex, ':' allowed)"},
    {"json", CLI_FLAG, NULL, "print the row, the certificate (PEM) and the EAR as one JSON object"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show_row(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    const char *serial = cli_get(a, "serial");
    if (dir == NULL || serial == NULL)
        return cli_usage_error(prog, "give -dir DIR -serial HEX");
    avow_ca_dir *cd = NULL;
    avow_issuance *r = NULL;
    avow_buf out = {0};
    avow_err err = open_ca(dir, a, AVOW_CA_DIR_NO_KEY, &cd, &d);
    if (err == AVOW_OK)
        err = avow_ca_dir_find_serial(cd, serial, &r, &d);
    if (err == AVOW_OK)
        err = cli_flag(a, "json") ? avow_issuance_to_json(r, AVOW_ISSUANCE_JSON_FULL, &out, &d)
                                  : avow_issuance_to_text(r, &out, &d);
    if (err == AVOW_OK)
        err = cli_print(&out, &d);
    avow_buf_free(&out);
    avow_issuance_free(r);
    avow_ca_dir_free(cd);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* --- show-result --- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "certificate issued by avow ca issue (PEM or DER; default: stdin)"},
    {"CAfile", CLI_VALUE, "FILE", "the issuing CA's certificate (default: DIR/ca.crt with -dir)"},
    {"dir", CLI_VALUE, "DIR", "CA directory whose ca.crt is the issuer"},
    {"jwt-out", CLI_VALUE, "FILE", "also write the verified EAR JWT here"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *cafile = cli_get(a, "CAfile");
    ca_path pcrt;
    if (cafile == NULL && cli_get(a, "dir") != NULL) {
        if (dir_path(cli_get(a, "dir"), CA_CRT, &pcrt, &d) != AVOW_OK)
            return cli_report(d.code, &d);
        cafile = pcrt.p;
    }
    if (cafile == NULL)
        return cli_usage_error(
            prog, "give -CAfile CA_CERT or -dir DIR (the issuer's key checks the EAR)");
    X509 *cert = NULL, *issuer = NULL;
    avow_buf payload = {0}, pretty = {0}, jwt = {0};
    avow_err err = cli_load_cert(cli_get(a, "in"), &cert, &d);
    if (err == AVOW_OK)
        err = cli_load_cert(cafile, &issuer, &d);
    if (err == AVOW_OK && (X509_check_issued(issuer, cert) != X509_V_OK ||
                           X509_verify(cert, X509_get0_pubkey(issuer)) != 1))
        err = cli_fail_ossl(&d, AVOW_ERR_SIG_INVALID, "certificate",
                            "not issued by %s (name or signature)", cafile);
    if (err == AVOW_OK)
        err = avow_cert_get_ear(cert, X509_get0_pubkey(issuer), 0, &payload, &d);
    if (err == AVOW_OK && cli_get(a, "jwt-out") != NULL) {
        err = avow_cert_get_ear_jwt(cert, &jwt, &d);
        if (err == AVOW_OK)
            err = avow_write_file(cli_get(a, "jwt-out"), jwt.ptr, jwt.len, &d);
    }
    if (err == AVOW_OK)
        err = avow_ear_json_pretty((const char *)payload.ptr, payload.len, &pretty, &d);
    if (err == AVOW_OK)
        err = cli_print(&pretty, &d);
    avow_buf_free(&jwt);
    avow_buf_free(&pretty);
    avow_buf_free(&payload);
    X509_free(issuer);
    X509_free(cert);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"init",
     "Create a CA: key (software or PKCS#11), self-signed certificate, nonce store, ca.json.",
     "-dir DIR [-subject NAME] [-key TYPE|pkcs11:URI] [-days N] [options]", init_opts, 0, run_init},
    {"nonce", "Issue a freshness nonce from the CA's store and print it in hex.",
     "-dir DIR [-ttl SECONDS] [-len N] [-json]", nonce_opts, 0, run_nonce},
    {"issue",
     "Appraise an attested request; issue a certificate carrying the EAR only when affirming.",
     "-dir DIR -in REQUEST -CAfile ANCHORS [options]", issue_opts, 0, run_issue},
    {"list", "List what the CA issued (its ledger): serial, time, notAfter, subject.",
     "-dir DIR [-json]", list_opts, 0, run_list},
    {"show", "Show one issuance from the ledger: the row, the certificate and the EAR.",
     "-dir DIR -serial HEX [-json]", show_row_opts, 0, run_show_row},
    {"show-result", "Verify and print the EAR carried in an issued certificate (CMW extension).",
     "-in CERT (-CAfile CA_CERT | -dir DIR)", show_opts, 0, run_show},
};

int cli_group_ca(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "A local CA for attested requests: the certificate carries the "
                         "Attestation Result (EAR) in the CMW extension " AVOW_OID_CMW ".",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
