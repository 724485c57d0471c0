/*
 * "avow ear": the relying party's view of an Attestation Result on its own.
 *   verify  an EAR JWT, or a CMW (JSON or CBOR) carrying one, with a public
 *           key, a JWK set or a certificate; exit status from the EAR's tier
 *   show    an unsigned EAR JSON, or a JWT's or a CMW's content, decoded and
 *           labelled as not verified
 * Parsing, verification and the report are the library's (avow/ear.h,
 * avow/cmw.h, avow/jose.h); docs/ear.md and avow-ear(1) describe them.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/io.h"
#include "cli/opts.h"

typedef enum in_form { IN_AUTO, IN_JWT, IN_CMW, IN_CMW_JSON, IN_CMW_CBOR, IN_EAR_JSON } in_form;

static avow_err parse_inform(const char *text, int show, in_form *out, avow_diag *d)
{
    static const struct {
        const char *name;
        in_form form;
        int show_only;
    } forms[] = {{"auto", IN_AUTO, 0},     {"jwt", IN_JWT, 0},       {"cmw", IN_CMW, 0},
                 {"json", IN_CMW_JSON, 0}, {"cbor", IN_CMW_CBOR, 0}, {"ear", IN_EAR_JSON, 1}};
    *out = IN_AUTO;
    if (text == NULL)
        return AVOW_OK;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (strcmp(text, forms[i].name) == 0 && (show || !forms[i].show_only)) {
            *out = forms[i].form;
            return AVOW_OK;
        }
    return cli_fail(d, AVOW_ERR_USAGE, "inform", "\"%s\": give auto, jwt, cmw, json, cbor%s", text,
                    show ? " or ear" : "");
}

/* Input text without the line ending an editor or echo adds. */
static size_t trimmed(const avow_buf *b)
{
    size_t n = b->len;
    while (n > 0 && (b->ptr[n - 1] == '\n' || b->ptr[n - 1] == '\r' || b->ptr[n - 1] == ' '))
        n--;
    return n;
}

/* A compact JWS: base64url characters and exactly two dots. */
static int looks_jws(const uint8_t *p, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return 0;
    }
    return n > 0 && dots == 2;
}

/* The JWT in the input: the input itself, or the value of the CMW it is. */
static avow_err get_jwt(const avow_buf *in, in_form form, avow_buf *jwt, avow_diag *d)
{
    size_t n = trimmed(in);
    if (form == IN_AUTO)
        form = looks_jws(in->ptr, n) ? IN_JWT : IN_CMW;
    if (form == IN_JWT) {
        if ((jwt->ptr = OPENSSL_malloc(n + 1)) == NULL)
            return cli_fail(d, AVOW_ERR_NOMEM, "in", "out of memory");
        memcpy(jwt->ptr, in->ptr, n);
        jwt->ptr[n] = '\0';
        jwt->len = n;
        return AVOW_OK;
    }
    avow_cmw_form cf = form == IN_CMW_JSON   ? AVOW_CMW_FORM_JSON
                       : form == IN_CMW_CBOR ? AVOW_CMW_FORM_CBOR
                                             : AVOW_CMW_FORM_AUTO;
    avow_cmw *cmw = NULL;
    /* CBOR is binary: only the JSON form may carry a trailing newline */
    avow_err err = avow_cmw_decode(in->ptr, in->len, cf, &cmw, d);
    if (err == AVOW_OK)
        err = avow_cmw_get_ear_jwt(cmw, jwt, d);
    avow_cmw_free(cmw);
    return err;
}

/* --- verify --- */

static const cli_opt verify_opts[] = {
    {"in", CLI_VALUE, "FILE", "EAR JWT, or a CMW (JSON or CBOR) carrying one (default: stdin)"},
    {"inform", CLI_VALUE, "auto|jwt|cmw|json|cbor",
     "input: a JWT, a CMW of either form, a JSON or a CBOR CMW (default: detected)"},
    {"key-pub", CLI_VALUE, "FILE", "the verifier's public key (PEM or DER; a certificate works)"},
    {"jwks", CLI_VALUE, "FILE", "a JWK set: the key is chosen by the token's kid and alg"},
    {"cert", CLI_VALUE, "FILE",
     "a certificate whose public key verifies the EAR (the certificate itself is not validated)"},
    {"leeway", CLI_VALUE, "SECONDS", "clock skew allowed on exp, nbf and iat (default: 0)"},
    {"at", CLI_VALUE, "TIME", "check the times at TIME: now, @SECONDS or RFC 3339 UTC"},
    {"require-exp", CLI_FLAG, NULL, "refuse an EAR without exp"},
    {"json", CLI_FLAG, NULL, "print the result as JSON"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err parse_leeway(const char *text, unsigned *out, avow_diag *d)
{
    *out = 0;
    if (text == NULL)
        return AVOW_OK;
    unsigned long v = 0;
    size_t i = 0;
    for (; text[i] >= '0' && text[i] <= '9' && i < 9; i++)
        v = v * 10 + (unsigned long)(text[i] - '0');
    if (i == 0 || text[i] != '\0' || v > 86400u * 365u)
        return cli_fail(d, AVOW_ERR_USAGE, "leeway", "\"%s\" is not a number of seconds 0..%u",
                        text, 86400u * 365u);
    *out = (unsigned)v;
    return AVOW_OK;
}

static avow_err load_key(const cli_args *a, const avow_buf *jwt, EVP_PKEY **key, avow_diag *d)
{
    const char *kp = cli_get(a, "key-pub"), *jwks = cli_get(a, "jwks"), *cert = cli_get(a, "cert");
    if ((kp != NULL) + (jwks != NULL) + (cert != NULL) != 1)
        return cli_fail(d, AVOW_ERR_USAGE, "key-pub", "give one of -key-pub, -jwks and -cert");
    if (kp != NULL)
        return cli_load_public_key(kp, key, d);
    if (cert != NULL) {
        X509 *x = NULL;
        avow_err err = cli_load_cert(cert, &x, d);
        if (err == AVOW_OK && (*key = X509_get_pubkey(x)) == NULL)
            err = cli_fail_ossl(d, AVOW_ERR_BAD_SPKI, "cert", "no usable public key in %s", cert);
        X509_free(x);
        return err;
    }
    avow_buf text = {0};
    avow_jwks *set = NULL;
    avow_err err = cli_read(jwks, &text, d);
    if (err == AVOW_OK)
        err = avow_jwks_parse((const char *)text.ptr, text.len, &set, d);
    if (err == AVOW_OK)
        err = avow_jwks_select_for_jws(set, (const char *)jwt->ptr, jwt->len, key, d);
    avow_jwks_free(set);
    avow_buf_free(&text);
    return err;
}

static int run_verify(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    avow_ear_verify_opts o;
    avow_ear_verify_opts_init(&o);
    o.flags = AVOW_EAR_VERIFY_IAT_NOT_FUTURE |
              (cli_flag(a, "require-exp") ? AVOW_EAR_VERIFY_EXP_REQUIRED : 0u);
    in_form form = IN_AUTO;
    avow_buf in = {0}, jwt = {0}, report = {0};
    EVP_PKEY *key = NULL;
    avow_jws *jws = NULL;
    avow_ear *ear = NULL;
    avow_err err = parse_inform(cli_get(a, "inform"), 0, &form, &d);
    if (err == AVOW_OK)
        err = parse_leeway(cli_get(a, "leeway"), &o.leeway, &d);
    if (err == AVOW_OK && cli_get(a, "at") != NULL)
        err = cli_parse_time("at", cli_get(a, "at"), &o.now, &d);
    if (err == AVOW_OK && cli_get(a, "at") != NULL && o.now == 0)
        err = cli_fail(&d, AVOW_ERR_USAGE, "at", "-at @0 is not a time an EAR is checked at");
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &in, &d);
    if (err == AVOW_OK)
        err = get_jwt(&in, form, &jwt, &d);
    if (err == AVOW_OK)
        err = load_key(a, &jwt, &key, &d);
    if (err == AVOW_OK)
        err = avow_ear_verify_jws((const char *)jwt.ptr, jwt.len, key, &o, &jws, &d);
    if (err == AVOW_OK) {
        const avow_buf *p = avow_jws_get0_payload(jws);
        err = avow_ear_from_json((const char *)p->ptr, p->len, &ear, &d);
    }
    if (err == AVOW_OK)
        err = avow_ear_report(jws, NULL, 0, NULL, 0, cli_flag(a, "json") ? AVOW_EAR_REPORT_JSON : 0,
                              &report, &d);
    if (err == AVOW_OK)
        err = cli_print(&report, &d);
    int rc = err != AVOW_OK ? cli_report(err, &d) : CLI_EXIT_OK;
    if (err == AVOW_OK) {
        /* the exit status is the EAR's tier: the worst of the top level and every submod */
        avow_tier t = ear->has_status ? ear->status : ear->submods[0].status;
        for (size_t i = 0; i < ear->nsubmods; i++)
            if (avow_tier_worse(ear->submods[i].status, t))
                t = ear->submods[i].status;
        rc = cli_exit_tier((int)t);
    }
    avow_ear_free(ear);
    avow_jws_free(jws);
    EVP_PKEY_free(key);
    avow_buf_free(&report);
    avow_buf_free(&jwt);
    avow_buf_free(&in);
    return rc;
}

/* --- show --- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "EAR JSON, an EAR JWT or a CMW carrying one (default: stdin)"},
    {"inform", CLI_VALUE, "auto|ear|jwt|cmw|json|cbor",
     "input: EAR JSON, a JWT, a CMW of either form, a JSON or a CBOR CMW (default: detected)"},
    {"json", CLI_FLAG, NULL, "print JSON ({\"verified\": false, ...})"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    in_form form = IN_AUTO;
    avow_buf in = {0}, jwt = {0}, header = {0}, payload = {0}, report = {0};
    avow_err err = parse_inform(cli_get(a, "inform"), 1, &form, &d);
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &in, &d);
    if (err == AVOW_OK && form == IN_AUTO && in.len > 0 && in.ptr[0] == '{')
        form = IN_EAR_JSON;
    unsigned flags = cli_flag(a, "json") ? AVOW_EAR_REPORT_JSON : 0;
    if (err == AVOW_OK && form == IN_EAR_JSON) {
        err = avow_ear_report(NULL, NULL, 0, (const char *)in.ptr, in.len, flags, &report, &d);
    } else if (err == AVOW_OK) {
        err = get_jwt(&in, form, &jwt, &d);
        if (err == AVOW_OK)
            err = avow_jws_decode_unverified((const char *)jwt.ptr, jwt.len, &header, &payload, &d);
        if (err == AVOW_OK)
            err = avow_ear_report(NULL, (const char *)header.ptr, header.len,
                                  (const char *)payload.ptr, payload.len, flags, &report, &d);
    }
    if (err == AVOW_OK)
        err = cli_print(&report, &d);
    avow_buf_free(&report);
    avow_buf_free(&payload);
    avow_buf_free(&header);
    avow_buf_free(&jwt);
    avow_buf_free(&in);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"verify",
     "Verify an EAR JWT (or a CMW carrying one) with a key, a JWK set or a certificate; exit "
     "status from its tier.",
     "[-in FILE] (-key-pub FILE | -jwks FILE | -cert FILE) [-leeway SECONDS] [-json]", verify_opts,
     0, run_verify},
    {"show", "Show an EAR (JSON, JWT or CMW) without verifying it, labelled NOT VERIFIED.",
     "[-in FILE] [-inform FORM] [-json]", show_opts, 0, run_show},
};

int cli_group_ear(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "Attestation Results (EAR, draft-ietf-rats-ear) on their own: verify "
                         "and show JWTs and CMWs (RFC 9999) for a relying party.",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
