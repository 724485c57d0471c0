/*
 * "avow evidence verify": loads anchors, certificates and keys into a
 * verifier, runs avow_verify_evidence and prints the result the library
 * renders (avow_evidence_result_to_text or _to_json). With -request it also
 * checks that the Evidence answers the request (avow_evidence_answers). A
 * platform token carried inside trusted Evidence (the combined form) is
 * verified through the registry as well (-iak). The exit status is 0 only
 * for trusted Evidence (that answers the request, and whose platform token
 * verified).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
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
    {"iak", CLI_MULTI, "FILE",
     "trusted PSA Initial Attestation Key (public key file), found by the derived instance id"},
    {"request", CLI_VALUE, "FILE",
     "check that the Evidence answers this attestation request (its nonce is then the expected "
     "one, unless -nonce)"},
    {"strict-request", CLI_FLAG, NULL, "with -request: every requested claim must be present"},
    {"allow-unrequested", CLI_FLAG, NULL,
     "with -request: report claims and elements not requested instead of failing"},
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

/* The result JSON with the request check under "request": one document for programs. */
static avow_err merged_json(const avow_evidence_result *r, const avow_answer_report *rep,
                            avow_buf *out, avow_diag *d)
{
    avow_buf rt = {0}, at = {0};
    avow_err err = avow_evidence_result_to_json(r, &rt);
    if (err == AVOW_OK && rep != NULL)
        err = avow_answer_report_to_json(rep, &at);
    if (err != AVOW_OK || rep == NULL) {
        *out = rt;
        avow_buf_free(&at);
        return err;
    }
    json_t *root = json_loadb((const char *)rt.ptr, rt.len, 0, NULL);
    json_t *answers = json_loadb((const char *)at.ptr, at.len, 0, NULL);
    char *text = NULL;
    if (root != NULL && answers != NULL && json_object_set_new(root, "request", answers) == 0) {
        answers = NULL;
        text = json_dumps(root, JSON_INDENT(2));
    }
    json_decref(root);
    json_decref(answers);
    avow_buf_free(&rt);
    avow_buf_free(&at);
    if (text == NULL)
        return cli_fail(d, AVOW_ERR_NOMEM, "json", "cannot join the request check to the result");
    size_t n = strlen(text);
    out->ptr = OPENSSL_malloc(n + 2);
    if (out->ptr != NULL) {
        memcpy(out->ptr, text, n);
        out->ptr[n] = '\n';
        out->ptr[n + 1] = '\0';
        out->len = n + 1;
    }
    free(text);
    return out->ptr != NULL ? AVOW_OK : cli_fail(d, AVOW_ERR_NOMEM, "json", "out of memory");
}

/* The result text, then whether the Evidence answers the request and every finding. */
static avow_err print_text(const avow_evidence_result *r, const avow_answer_report *rep,
                           avow_diag *d)
{
    avow_buf text = {0};
    avow_err err = avow_evidence_result_to_text(r, &text);
    if (err == AVOW_OK)
        err = cli_print(&text, d);
    avow_buf_free(&text);
    if (err != AVOW_OK || rep == NULL)
        return err;
    err = avow_answer_report_to_text(rep, &text);
    if (err != AVOW_OK)
        return err;
    printf("Request: %s\n",
           avow_answer_report_status(rep) == AVOW_OK ? "answered" : "NOT ANSWERED");
    /* the library escaped every line */
    for (const char *p = (const char *)text.ptr; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        printf("  %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
    avow_buf_free(&text);
    return fflush(stdout) == 0 ? AVOW_OK : cli_fail(d, AVOW_ERR_IO, "stdout", "cannot write");
}

/*
 * The combined form (docs/kat.md): the Evidence as a request's one statement,
 * so that the registry verifies the platform token it carries and its
 * binding. Nothing to do (AVOW_OK) when it carries none.
 */
static avow_err check_nested(const avow_verifier *v, const avow_evidence *ev,
                             const avow_verify_opts *vo, int print, avow_diag *d)
{
    avow_buf der = {0};
    avow_err err = avow_evidence_encode(ev, &der);
    if (err != AVOW_OK)
        return cli_fail(d, err, "evidence", "cannot encode");
    const avow_profile *p = avow_verifier_get0_profile(v);
    avow_statement_in st = {{p->evidence_arc.der, p->evidence_arc.len}, {der.ptr, der.len}};
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &st;
    in.possession = AVOW_OK;
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.nonce = vo->nonce;
    o.nonce_len = vo->nonce_len;
    o.verify_flags = vo->flags;
    avow_verification *r = NULL;
    avow_diag vd;
    avow_diag_clear(&vd);
    err = avow_statements_verify(v, &in, &o, &r, &vd);
    for (size_t i = 1; print && r != NULL && i < avow_verification_count(r); i++) {
        const avow_statement_result *s = avow_verification_get0(r, i);
        const char *field = "", *how = "";
        avow_statement_result_nested_in(s, NULL, &field);
        avow_statement_result_linked_to(s, NULL, &how);
        if (how != NULL && strncmp(how, "nested: ", 8) == 0)
            how += 8;
        if (avow_statement_result_status(s) == AVOW_OK)
            printf("Platform token (%s): verified, bound by %s\n", field, how);
        else
            printf("Platform token (%s): NOT VERIFIED (%s)\n", field,
                   avow_errname(avow_statement_result_status(s)));
    }
    const avow_statement_result *outer = avow_verification_get0(r, 0);
    if (r != NULL && avow_statement_result_status(outer) == AVOW_ERR_NESTED)
        err = cli_fail(d, AVOW_ERR_NESTED, "platform-token", "%s",
                       avow_statement_result_detail(outer));
    else if (r == NULL)
        *d = vd;
    else
        err = AVOW_OK; /* the rest is avow_verify_evidence's verdict, reported already */
    avow_verification_free(r);
    avow_buf_free(&der);
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
    avow_evidence_request *req = NULL;
    avow_answer_report *rep = NULL;
    uint8_t nonce[256];
    avow_verify_opts vo;
    avow_verify_opts_init(&vo);

    avow_err err = setup(&v, a, &d);
    if (err == AVOW_OK && cli_get(a, "request") != NULL)
        err =
            cli_request_load(cli_get(a, "request"), NULL, avow_verifier_get0_profile(v), &req, &d);
    if (err == AVOW_OK && req == NULL &&
        (cli_flag(a, "strict-request") || cli_flag(a, "allow-unrequested")))
        err = cli_fail(&d, AVOW_ERR_USAGE,
                       cli_flag(a, "strict-request") ? "strict-request" : "allow-unrequested",
                       "only with -request");
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &vo.nonce_len, &d);
        vo.nonce = nonce;
    } else if (err == AVOW_OK && req != NULL) {
        /* the nonce the request gave is the one the Evidence must carry */
        avow_view n = avow_evidence_request_get0_nonce(req);
        vo.nonce = n.ptr;
        vo.nonce_len = n.len;
    }
    if (err == AVOW_OK)
        err = cli_evidence_load(a, avow_verifier_get0_profile(v), &ev, &d);
    if (err != AVOW_OK) {
        avow_evidence_request_free(req);
        avow_verifier_free(v);
        avow_evidence_free(ev);
        return cli_report(err, &d);
    }

    avow_err verdict = avow_verify_evidence(v, ev, &vo, &r, &d);
    avow_diag nd;
    avow_diag_clear(&nd);
    avow_err nested = verdict == AVOW_OK ? check_nested(v, ev, &vo, 0, &nd) : AVOW_OK;
    avow_diag ad;
    avow_diag_clear(&ad);
    avow_err answered = AVOW_OK;
    if (req != NULL) {
        unsigned flags = (cli_flag(a, "strict-request") ? AVOW_ANSWERS_STRICT : 0) |
                         (cli_flag(a, "allow-unrequested") ? AVOW_ANSWERS_ALLOW_UNREQUESTED : 0);
        answered = avow_evidence_answers(ev, req, flags, &rep, &ad);
    }
    int rc = CLI_EXIT_OK;
    if (r != NULL) {
        /* The library renders (and escapes); the command only prints. */
        avow_buf text = {0};
        if (cli_flag(a, "json")) {
            err = merged_json(r, rep, &text, &d);
            if (err == AVOW_OK)
                err = cli_print(&text, &d);
        } else {
            err = print_text(r, rep, &d);
            if (err == AVOW_OK && verdict == AVOW_OK)
                check_nested(v, ev, &vo, 1, &nd);
            if (err == AVOW_OK && fflush(stdout) != 0)
                err = cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write");
        }
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
    /* Nor is trusted Evidence whose platform token does not verify. */
    if (nested != AVOW_OK && rc == CLI_EXIT_OK)
        rc = cli_report(nested, &nd) == CLI_EXIT_MALFORMED ? CLI_EXIT_FAIL : cli_exit_code(nested);
    /* Trusted Evidence that does not answer the request is not accepted either. */
    if (answered != AVOW_OK && rc == CLI_EXIT_OK)
        rc = cli_report(answered, &ad) == CLI_EXIT_MALFORMED ? CLI_EXIT_FAIL
                                                             : cli_exit_code(answered);
    avow_answer_report_free(rep);
    avow_evidence_request_free(req);
    avow_evidence_result_free(r);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    return rc;
}
