/*
 * "avow csr create": loads the key (file or pkcs11: URI), the Evidence and
 * other statements and the bundle certificates, hands them to the request
 * builder and writes the signed request. A token key signs inside the token.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include <avow/avow.h>
#include <avow/cmw.h>
#include <avow/ear.h>
#include <avow/kat.h>
#include <avow/psa.h>
#include <avow/request.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/p11.h"
#include "cli/tpm.h"

const cli_opt cli_csr_create_opts[] = {
    {"key", CLI_VALUE, "KEY",
     "the requested key: private key file (PEM/DER) or pkcs11: URI (signs in the token); "
     "with -tpm the PREFIX of the TPM key's PREFIX.pub and PREFIX.priv (signs in the TPM)"},
    {"tpm", CLI_VALUE, "TCTI",
     "the TPM holding -key and -tpm-ak: swtpm:host=H,port=P, device:/dev/tpmrm0, ..."},
    {"tpm-ak", CLI_VALUE, "PREFIX",
     "the TPM attestation key (PREFIX.pub/.priv): add a tcg-attest-tpm-certify statement, "
     "TPM2_Certify of -key with the -nonce; give its certificate with -chain"},
    {"nonce", CLI_VALUE, "HEX", "the verifier's nonce: the TPM statement's qualifyingData"},
    {"subject", CLI_VALUE, "NAME",
     "subject in RFC 4514 order, most specific first: \"CN=host,O=Org\" (DER: O, then CN); "
     "or OpenSSL's \"/O=Org/CN=host\" (DER order)"},
    {"san", CLI_MULTI, "LIST",
     "subjectAltNames to request: DNS:name, IP:addr, URI:uri, email:addr, comma-separated "
     "(\\, is a comma in a value); may repeat"},
    {"evidence", CLI_MULTI, "FILE", "PKIX Evidence to carry (PEM or DER)"},
    {"statement", CLI_MULTI, "OID:FILE",
     "a statement of any type: type OID and a file holding its DER value"},
    {"result", CLI_MULTI, "FILE",
     "an Attestation Result (EAR JWT) to carry as a CMW statement (passport model)"},
    {"psa", CLI_MULTI, "FILE", "a PSA attestation token (RFC 9783) to carry as a CMW statement"},
    {"kat", CLI_MULTI, "FILE",
     "a CAB (KAT + platform token, avow kat bundle) to carry as two linked statements, "
     "or a bare KAT (its platform token then comes with -pat)"},
    {"pat", CLI_MULTI, "FILE",
     "a platform attestation token (PSA) whose nonce binds the key that signs a KAT or the "
     "-evidence (docs/kat.md), carried as a psa-token statement"},
    {"cmw", CLI_MULTI, "FILE", "a message of media type -cmw-type to carry as a JSON CMW"},
    {"cmw-type", CLI_VALUE, "MEDIA", "the media type of the -cmw messages"},
    {"chain", CLI_MULTI, "FILE",
     "certificates to carry in the bundle's certs (the attestation key's chain)"},
    {"cert", CLI_RENAMED, "chain", "the certificates to carry in the bundle"},
    {"format", CLI_VALUE, "pkcs10|crmf", "request format (default: pkcs10)"},
    {"draft", CLI_VALUE, "latest|15|hinted",
     "attribute shape: latest (-16..-29, default), 15, or the pre -16 hinted bundle"},
    {"pss", CLI_FLAG, NULL, "sign with RSA-PSS instead of PKCS#1 v1.5 for RSA keys"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module (default: $AVOW_PKCS11_MODULE, else " CLI_P11_DEFAULT_MODULE ")"},
    {"pin-source", CLI_VALUE, "SPEC",
     "token user PIN: env:NAME, file:PATH or pass:TEXT (default: the URI's pin-value/pin-source)"},
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"},
    {"outform", CLI_VALUE, "PEM|DER", "output format (default: PEM)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err parse_kind(const char *text, avow_request_kind *k, avow_diag *d)
{
    if (text == NULL || strcasecmp(text, "pkcs10") == 0)
        *k = AVOW_REQUEST_PKCS10;
    else if (strcasecmp(text, "crmf") == 0)
        *k = AVOW_REQUEST_CRMF;
    else
        return cli_fail(d, AVOW_ERR_USAGE, "format", "\"%s\": want pkcs10 or crmf", text);
    return AVOW_OK;
}

static avow_err parse_draft(const char *text, avow_bundle_version *v, avow_diag *d)
{
    if (text == NULL || strcasecmp(text, "latest") == 0)
        *v = AVOW_BUNDLE_LATEST;
    else if (strcmp(text, "15") == 0 || strcmp(text, "-15") == 0)
        *v = AVOW_BUNDLE_DRAFT15;
    else if (strcasecmp(text, "hinted") == 0)
        *v = AVOW_BUNDLE_HINTED;
    else
        return cli_fail(d, AVOW_ERR_USAGE, "draft", "\"%s\": want latest, 15 or hinted", text);
    return AVOW_OK;
}

static avow_err add_evidence(avow_request_builder *b, const cli_args *a, const avow_profile *p,
                             avow_diag *d)
{
    for (size_t i = 0; i < cli_count(a, "evidence"); i++) {
        avow_buf der = {0};
        avow_err err = cli_read_der(cli_get_n(a, "evidence", i), AVOW_EVIDENCE_PEM_LABEL,
                                    CLI_FORM_AUTO, &der, d);
        if (err == AVOW_OK)
            err = avow_request_builder_add_evidence(b, p, der.ptr, der.len, d);
        avow_buf_free(&der);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* The value of each file of option opt wrapped in a CMW of media type `type`. */
static avow_err add_cmw_opt(avow_request_builder *b, const cli_args *a, const char *opt,
                            const char *type, avow_cmw_form form, uint32_t ind, int text,
                            avow_diag *d)
{
    for (size_t i = 0; i < cli_count(a, opt); i++) {
        avow_buf v = {0}, w = {0};
        avow_err err = cli_read(cli_get_n(a, opt, i), &v, d);
        /* a JWT in a file usually ends in a newline, which is no part of it */
        while (err == AVOW_OK && text && v.len > 0 &&
               (v.ptr[v.len - 1] == '\n' || v.ptr[v.len - 1] == '\r'))
            v.len--;
        if (err == AVOW_OK && v.len == 0)
            err = cli_fail(d, AVOW_ERR_EMPTY, opt, "%s is empty", cli_get_n(a, opt, i));
        if (err == AVOW_OK)
            err = avow_cmw_encode(form, type, v.ptr, v.len, ind, &w, d);
        if (err == AVOW_OK)
            err = avow_request_builder_add_cmw(b, form == AVOW_CMW_FORM_JSON, w.ptr, w.len, d);
        avow_buf_free(&v);
        avow_buf_free(&w);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static avow_err add_cmws(avow_request_builder *b, const cli_args *a, avow_diag *d)
{
    avow_err err = add_cmw_opt(b, a, "result", AVOW_EAR_MEDIA_TYPE_JWT, AVOW_CMW_FORM_JSON,
                               AVOW_CMW_IND_ATTESTATION_RESULTS, 1, d);
    if (err == AVOW_OK)
        err = add_cmw_opt(b, a, "psa", AVOW_PSA_MEDIA_TYPE, AVOW_CMW_FORM_CBOR,
                          AVOW_CMW_IND_EVIDENCE, 0, d);
    if (err == AVOW_OK && cli_count(a, "cmw") > 0 && cli_get(a, "cmw-type") == NULL)
        return cli_fail(d, AVOW_ERR_USAGE, "cmw-type", "-cmw needs -cmw-type MEDIA");
    if (err == AVOW_OK)
        err = add_cmw_opt(b, a, "cmw", cli_get(a, "cmw-type"), AVOW_CMW_FORM_JSON, 0, 0, d);
    return err;
}

/*
 * -kat: a CAB goes in as its two tokens, the KAT and the PAT, each a
 * statement of its own type (the KAT row reads a KAT, not a CAB), so the
 * verifier's link pass sees the pair; a bare KAT goes in alone. -pat: a
 * platform token beside them or beside PKIX Evidence.
 */
static avow_err add_kat(avow_request_builder *b, const cli_args *a, avow_diag *d)
{
    avow_err err = AVOW_OK;
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "kat"); i++) {
        avow_buf in = {0}, kat = {0}, pat = {0};
        err = cli_read(cli_get_n(a, "kat", i), &in, d);
        /* A CAB is a CBOR map, a KAT a COSE_Sign1 (an array, maybe tagged). */
        int cab = err == AVOW_OK && in.len > 0 && (in.ptr[0] & 0xe0) == 0xa0;
        if (err == AVOW_OK && in.len == 0)
            err = cli_fail(d, AVOW_ERR_EMPTY, "kat", "%s is empty", cli_get_n(a, "kat", i));
        if (err == AVOW_OK && cab)
            err = avow_kat_bundle_split(in.ptr, in.len, &kat, &pat, NULL, d);
        if (err == AVOW_OK)
            err = avow_request_builder_add_octets(b, AVOW_OID_KAT, cab ? kat.ptr : in.ptr,
                                                  cab ? kat.len : in.len, d);
        if (err == AVOW_OK && cab)
            err = avow_request_builder_add_octets(b, AVOW_OID_PSA_TOKEN, pat.ptr, pat.len, d);
        avow_buf_free(&in);
        avow_buf_free(&kat);
        avow_buf_free(&pat);
    }
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "pat"); i++) {
        avow_buf pat = {0};
        err = cli_read(cli_get_n(a, "pat", i), &pat, d);
        if (err == AVOW_OK && pat.len == 0)
            err = cli_fail(d, AVOW_ERR_EMPTY, "pat", "%s is empty", cli_get_n(a, "pat", i));
        if (err == AVOW_OK)
            err = avow_request_builder_add_octets(b, AVOW_OID_PSA_TOKEN, pat.ptr, pat.len, d);
        avow_buf_free(&pat);
    }
    return err;
}

static avow_err add_statements(avow_request_builder *b, const cli_args *a, avow_diag *d)
{
    for (size_t i = 0; i < cli_count(a, "statement"); i++) {
        const char *spec = cli_get_n(a, "statement", i);
        const char *colon = strchr(spec, ':');
        char oid[128];
        if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof(oid) ||
            colon[1] == '\0')
            return cli_fail(d, AVOW_ERR_USAGE, "statement", "\"%s\": want OID:FILE", spec);
        snprintf(oid, sizeof(oid), "%.*s", (int)(colon - spec), spec);
        avow_buf der = {0};
        avow_err err = cli_read(colon + 1, &der, d);
        if (err == AVOW_OK)
            err = avow_request_builder_add_statement(b, oid, der.ptr, der.len, d);
        avow_buf_free(&der);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static avow_err add_certs(avow_request_builder *b, const cli_args *a, avow_diag *d)
{
    for (size_t i = 0; i < cli_count(a, "chain"); i++) {
        STACK_OF(X509) *sk = NULL;
        avow_err err = cli_load_certs(cli_get_n(a, "chain", i), &sk, d);
        for (int j = 0; err == AVOW_OK && j < sk_X509_num(sk); j++)
            err = avow_request_builder_add_cert(b, sk_X509_value(sk, j), d);
        sk_X509_pop_free(sk, X509_free);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/*
 * -tpm: the key is loaded into the TPM and signs there; with -tpm-ak the
 * AK certifies it over the nonce and the statement joins the request.
 */
static avow_err tpm_open_key(avow_request_builder *b, const cli_args *a, avow_tpm **t,
                             avow_signer **signer, avow_diag *d)
{
    uint32_t key = 0, ak = 0;
    EVP_PKEY *pub = NULL;
    uint8_t nonce[64];
    size_t nlen = 0;
    avow_buf stmt = {0};
    avow_err err = AVOW_OK;
    if (cli_get(a, "nonce") != NULL)
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &nlen, d);
    if (err == AVOW_OK)
        err = avow_tpm_open(cli_get(a, "tpm"), t, d);
    if (err == AVOW_OK)
        err = cli_tpm_load(*t, cli_get(a, "key"), &key, &pub, d);
    if (err == AVOW_OK && cli_get(a, "tpm-ak") != NULL) {
        err = cli_tpm_load(*t, cli_get(a, "tpm-ak"), &ak, NULL, d);
        if (err == AVOW_OK)
            err = avow_tpm_certify(avow_tpm_get0_esys(*t), key, ak, nonce, nlen, &stmt, d);
        if (err == AVOW_OK)
            err =
                avow_request_builder_add_statement(b, AVOW_OID_TPM_CERTIFY, stmt.ptr, stmt.len, d);
    }
    if (err == AVOW_OK)
        err = avow_tpm_signer_new(avow_tpm_get0_esys(*t), key, pub, AVOW_SIGALG_NONE, signer, d);
    avow_buf_free(&stmt);
    EVP_PKEY_free(pub);
    return err;
}

int cli_csr_create(const char *prog, const cli_args *a)
{
    const char *key = cli_get(a, "key"), *subject = cli_get(a, "subject");
    if (key == NULL)
        return cli_usage_error(prog, "-key KEY|pkcs11:URI is required");
    int tpm = cli_get(a, "tpm") != NULL;
    if (!tpm && (cli_get(a, "tpm-ak") != NULL || cli_get(a, "nonce") != NULL))
        return cli_usage_error(prog, "-tpm-ak and -nonce need -tpm TCTI");
    if (tpm && cli_flag(a, "pss"))
        return cli_usage_error(prog, "a TPM key signs ECDSA or RSA PKCS#1 v1.5: no -pss");
    if (cli_count(a, "evidence") + cli_count(a, "statement") + cli_count(a, "result") +
            cli_count(a, "psa") + cli_count(a, "cmw") + cli_count(a, "kat") + cli_count(a, "pat") +
            (cli_get(a, "tpm-ak") != NULL) ==
        0)
        return cli_usage_error(prog, "give at least one -evidence, -statement, -result, -psa, "
                                     "-kat, -pat, -cmw or -tpm-ak");

    avow_diag d;
    avow_diag_clear(&d);
    avow_profile p;
    avow_request_kind kind = AVOW_REQUEST_PKCS10;
    avow_bundle_version ver = AVOW_BUNDLE_LATEST;
    cli_form form = CLI_FORM_PEM;
    avow_request_builder *b = NULL;
    avow_signer *signer = NULL;
    avow_tpm *t = NULL;
    avow_buf der = {0};

    avow_err err = parse_kind(cli_get(a, "format"), &kind, &d);
    if (err == AVOW_OK)
        err = parse_draft(cli_get(a, "draft"), &ver, &d);
    if (err == AVOW_OK)
        err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &d);
    if (err == AVOW_OK)
        err = cli_evidence_profile(a, &p, &d);
    if (err == AVOW_OK)
        err = avow_request_builder_new(kind, &b);
    if (err == AVOW_OK && subject != NULL)
        err = avow_request_builder_set_subject(b, subject, &d);
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "san"); i++) {
        err = avow_request_builder_add_san(b, cli_get_n(a, "san", i), &d);
        if (err != AVOW_OK) {
            /* A bad -san is a bad command line, not bad input. */
            cli_report(err, &d);
            avow_request_builder_free(b);
            return CLI_EXIT_USAGE;
        }
    }
    if (err == AVOW_OK)
        err = avow_request_builder_set_version(b, ver);
    if (err == AVOW_OK)
        err = add_evidence(b, a, &p, &d);
    if (err == AVOW_OK)
        err = add_statements(b, a, &d);
    if (err == AVOW_OK)
        err = add_kat(b, a, &d);
    if (err == AVOW_OK)
        err = add_cmws(b, a, &d);
    if (err == AVOW_OK)
        err = add_certs(b, a, &d);
    if (err == AVOW_OK && tpm)
        err = tpm_open_key(b, a, &t, &signer, &d);
    else if (err == AVOW_OK)
        err = cli_signer_open(a, "key", key, cli_flag(a, "pss"), 0, &signer, &d);
    if (err == AVOW_OK)
        err = avow_request_builder_sign(b, signer, &der, &d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), der.ptr, der.len,
                        kind == AVOW_REQUEST_CRMF ? AVOW_CRMF_PEM_LABEL : AVOW_CSR_PEM_LABEL, form,
                        &d);
    avow_buf_free(&der);
    avow_signer_free(signer);
    avow_tpm_free(t);
    avow_request_builder_free(b);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}
