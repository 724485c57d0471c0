/*
 * "avow tpm": the TPM side of an attested request. keygen makes a key (the
 * one a certificate is requested for, or an attestation key) under the
 * primary of avow_tpm_open and writes it as PREFIX.pub / PREFIX.priv, the
 * TPM2B_PUBLIC / TPM2B_PRIVATE pair tpm2-tools also reads and writes;
 * pubkey prints the public key of such a pair (the AK's, to be certified by
 * a CA). The TPM statement itself is made by "avow csr create -tpm".
 */
#include <stdio.h>
#include <string.h>

#include <avow/avow.h>
#include <avow/tpm.h>

#include "cli/cli.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/tpm.h"

#define PATH_CAP 4096

static const cli_opt keygen_opts[] = {
    {"tpm", CLI_VALUE, "TCTI",
     "the TPM: swtpm:host=H,port=P, device:/dev/tpmrm0 (default), mssim:..."},
    {"key", CLI_VALUE, "PREFIX", "write the key to PREFIX.pub (TPM2B_PUBLIC) and PREFIX.priv"},
    {"ak", CLI_FLAG, NULL,
     "an attestation key: restricted signing key, ECDSA or RSASSA with SHA-256"},
    {"duplicable", CLI_FLAG, NULL,
     "fixedTPM and fixedParent clear (a key that can leave the TPM; for tests)"},
    {"type", CLI_VALUE, "TYPE", "ec-p256 (default) or rsa-2048"},
    {"pubout", CLI_VALUE, "FILE", "also write the public key (PEM SubjectPublicKeyInfo) to FILE"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt pubkey_opts[] = {
    {"key", CLI_VALUE, "PREFIX", "the key of PREFIX.pub (only the public part is read)"},
    {"outform", CLI_VALUE, "PEM|DER", "output format (default: PEM)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt certify_opts[] = {
    {"tpm", CLI_VALUE, "TCTI", "the TPM (default: " CLI_TPM_DEFAULT_TCTI ")"},
    {"key", CLI_VALUE, "PREFIX", "the key to certify (PREFIX.pub/.priv)"},
    {"tpm-ak", CLI_VALUE, "PREFIX", "the attestation key that certifies it"},
    {"nonce", CLI_VALUE, "HEX", "the verifier's nonce (qualifyingData), at most 64 bytes"},
    {"out", CLI_VALUE, "FILE", "the statement's DER (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err path_of(const char *prefix, const char *ext, char *out, avow_diag *d)
{
    int n = snprintf(out, PATH_CAP, "%s%s", prefix, ext);
    if (n < 0 || n >= PATH_CAP)
        return cli_fail(d, AVOW_ERR_USAGE, "key", "the key prefix is too long");
    return AVOW_OK;
}

avow_err cli_tpm_load(avow_tpm *t, const char *prefix, uint32_t *key, EVP_PKEY **pkey, avow_diag *d)
{
    char pp[PATH_CAP], kp[PATH_CAP];
    avow_buf pub = {0}, priv = {0};
    avow_err err = path_of(prefix, ".pub", pp, d);
    if (err == AVOW_OK)
        err = path_of(prefix, ".priv", kp, d);
    if (err == AVOW_OK)
        err = cli_read(pp, &pub, d);
    if (err == AVOW_OK)
        err = cli_read(kp, &priv, d);
    if (err == AVOW_OK)
        err = avow_tpm_load(t, pub.ptr, pub.len, priv.ptr, priv.len, key, pkey, d);
    avow_buf_free(&pub);
    avow_buf_free(&priv);
    return err;
}

static int tpm_keygen(const char *prog, const cli_args *a)
{
    const char *prefix = cli_get(a, "key"), *type = cli_get(a, "type");
    if (prefix == NULL)
        return cli_usage_error(prog, "-key PREFIX is required");
    if (cli_flag(a, "ak") && cli_flag(a, "duplicable"))
        return cli_usage_error(prog, "-ak and -duplicable exclude each other");
    avow_tpm_key_type kt = AVOW_TPM_EC_P256;
    if (type != NULL && strcmp(type, "rsa-2048") == 0)
        kt = AVOW_TPM_RSA_2048;
    else if (type != NULL && strcmp(type, "ec-p256") != 0)
        return cli_usage_error(prog, "-type \"%s\" is not ec-p256 or rsa-2048", type);
    avow_tpm_key_kind kind = cli_flag(a, "ak")           ? AVOW_TPM_KEY_AK
                             : cli_flag(a, "duplicable") ? AVOW_TPM_KEY_DUPLICABLE
                                                         : AVOW_TPM_KEY_SIGN;
    avow_diag d;
    avow_diag_clear(&d);
    char pp[PATH_CAP], kp[PATH_CAP];
    avow_buf pub = {0}, priv = {0}, spki = {0};
    avow_tpm *t = NULL;
    avow_err err = path_of(prefix, ".pub", pp, &d);
    if (err == AVOW_OK)
        err = path_of(prefix, ".priv", kp, &d);
    if (err == AVOW_OK)
        err = avow_tpm_open(cli_get(a, "tpm") ? cli_get(a, "tpm") : CLI_TPM_DEFAULT_TCTI, &t, &d);
    if (err == AVOW_OK)
        err = avow_tpm_keygen(t, kind, kt, &pub, &priv, &d);
    if (err == AVOW_OK && cli_get(a, "pubout") != NULL)
        err = avow_tpm_public_spki(pub.ptr, pub.len, &spki, &d);
    if (err == AVOW_OK)
        err = cli_write(kp, priv.ptr, priv.len, NULL, CLI_FORM_DER, &d);
    if (err == AVOW_OK)
        err = cli_write(pp, pub.ptr, pub.len, NULL, CLI_FORM_DER, &d);
    if (err == AVOW_OK && spki.ptr != NULL)
        err = cli_write(cli_get(a, "pubout"), spki.ptr, spki.len, "PUBLIC KEY", CLI_FORM_PEM, &d);
    avow_buf_free(&pub);
    avow_buf_free(&priv);
    avow_buf_free(&spki);
    avow_tpm_free(t);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static int tpm_pubkey(const char *prog, const cli_args *a)
{
    const char *prefix = cli_get(a, "key");
    if (prefix == NULL)
        return cli_usage_error(prog, "-key PREFIX is required");
    avow_diag d;
    avow_diag_clear(&d);
    char pp[PATH_CAP];
    cli_form form = CLI_FORM_PEM;
    avow_buf pub = {0}, spki = {0};
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &d);
    if (err == AVOW_OK)
        err = path_of(prefix, ".pub", pp, &d);
    if (err == AVOW_OK)
        err = cli_read(pp, &pub, &d);
    if (err == AVOW_OK)
        err = avow_tpm_key_check(pub.ptr, pub.len, NULL, 0, &d);
    if (err == AVOW_OK)
        err = avow_tpm_public_spki(pub.ptr, pub.len, &spki, &d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), spki.ptr, spki.len, "PUBLIC KEY", form, &d);
    avow_buf_free(&pub);
    avow_buf_free(&spki);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* The statement alone, for another carrier than avow csr create (or a test that alters it). */
static int tpm_certify(const char *prog, const cli_args *a)
{
    if (cli_get(a, "key") == NULL || cli_get(a, "tpm-ak") == NULL)
        return cli_usage_error(prog, "-key PREFIX and -tpm-ak PREFIX are required");
    avow_diag d;
    avow_diag_clear(&d);
    uint8_t nonce[64];
    size_t nlen = 0;
    uint32_t key = 0, ak = 0;
    avow_tpm *t = NULL;
    avow_buf stmt = {0};
    avow_err err = AVOW_OK;
    if (cli_get(a, "nonce") != NULL)
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &nlen, &d);
    if (err == AVOW_OK)
        err = avow_tpm_open(cli_get(a, "tpm") ? cli_get(a, "tpm") : CLI_TPM_DEFAULT_TCTI, &t, &d);
    if (err == AVOW_OK)
        err = cli_tpm_load(t, cli_get(a, "key"), &key, NULL, &d);
    if (err == AVOW_OK)
        err = cli_tpm_load(t, cli_get(a, "tpm-ak"), &ak, NULL, &d);
    if (err == AVOW_OK)
        err = avow_tpm_certify(avow_tpm_get0_esys(t), key, ak, nonce, nlen, &stmt, &d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), stmt.ptr, stmt.len, NULL, CLI_FORM_DER, &d);
    avow_buf_free(&stmt);
    avow_tpm_free(t);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd tpm_cmds[] = {
    {"keygen", "Create a key in the TPM under avow's primary and write PREFIX.pub and PREFIX.priv.",
     "-tpm TCTI -key PREFIX [-ak | -duplicable] [-type ec-p256|rsa-2048] [-pubout FILE]",
     keygen_opts, 0, tpm_keygen},
    {"pubkey", "Write the public key of a TPM key's PREFIX.pub (no TPM needed).",
     "-key PREFIX [-out FILE] [-outform PEM|DER]", pubkey_opts, 0, tpm_pubkey},
    {"certify", "TPM2_Certify of a key by an AK: the tcg-attest-tpm-certify statement (DER).",
     "-tpm TCTI -key PREFIX -tpm-ak PREFIX [-nonce HEX] [-out FILE]", certify_opts, 0, tpm_certify},
};

int cli_group_tpm(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog, "TPM 2.0 keys for attested requests (docs/tpm.md).", tpm_cmds,
                         sizeof(tpm_cmds) / sizeof(tpm_cmds[0]), argc, argv);
}
