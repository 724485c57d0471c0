/*
 * "avow keygen": generates a key pair inside a PKCS#11 token
 * (avow_p11_keygen), prints the key's PKCS#11 URI and writes its public key
 * when asked. The private key never leaves the token.
 *
 * The module comes from -pkcs11-module, else $AVOW_PKCS11_MODULE, else
 * SoftHSM2 at its Debian path when that file exists. Label and id come from
 * -label / -id, else from the URI's object= / id=; without any id a random
 * 8-byte id is chosen, so that a certificate can later be stored next to
 * the key. URIs are read and written by the library (avow_p11_uri_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <avow/avow.h>
#include <avow/pkcs11.h>

#include "cli/cli.h"
#include "cli/p11.h"
#include "cli/io.h"
#include "cli/opts.h"

#define MAX_ID 64

static const cli_opt keygen_opts[] = {
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module file or p11-kit name (default: $AVOW_PKCS11_MODULE, "
     "else " CLI_P11_DEFAULT_MODULE ")"},
    {"token-uri", CLI_VALUE, "URI", "pkcs11: URI of the token; object= and id= name the key"},
    {"uri", CLI_VALUE, "URI", "the same as -token-uri"},
    {"pin-source", CLI_VALUE, "SPEC", "user PIN: env:NAME, file:PATH or pass:TEXT"},
    {"pin", CLI_VALUE, "PIN", "user PIN (visible to other users in ps; prefer -pin-source)"},
    {"type", CLI_VALUE, "TYPE", "ec-p256 (default), ec-p384, rsa-2048 or rsa-3072"},
    {"label", CLI_VALUE, "TEXT", "CKA_LABEL (default: the URI's object=)"},
    {"id", CLI_VALUE, "HEX", "CKA_ID (default: the URI's id=, else 8 random bytes)"},
    {"extractable", CLI_FLAG, NULL, "CKA_EXTRACTABLE true (default: false)"},
    {"not-sensitive", CLI_FLAG, NULL, "CKA_SENSITIVE false (default: true)"},
    {"end-date", CLI_VALUE, "YYYY-MM-DD", "CKA_END_DATE of both objects"},
    {"pubout", CLI_VALUE, "FILE", "write the public key (PEM SubjectPublicKeyInfo) to FILE"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_cmd keygen_cmd = {
    "keygen",
    "Generate a key pair inside a PKCS#11 token and print its pkcs11: URI.",
    "-token-uri 'pkcs11:token=LABEL;object=NAME' -pin-source SPEC [options]",
    keygen_opts,
    0,
    NULL,
};

typedef struct keygen_ctx {
    avow_p11_keygen_params p;
    uint8_t id[MAX_ID];
    avow_buf label;  /* owned, NUL-terminated */
    char date[9];    /* YYYYMMDD */
    const char *uri; /* the user's URI: the token, and maybe the key's names */
    avow_diag d;
} keygen_ctx;

static avow_err parse_type(keygen_ctx *c, const char *text)
{
    if (text == NULL || strcmp(text, "ec-p256") == 0) {
        c->p.type = AVOW_P11_KEY_EC_P256;
    } else if (strcmp(text, "ec-p384") == 0) {
        c->p.type = AVOW_P11_KEY_EC_P384;
    } else if (strcmp(text, "rsa-2048") == 0 || strcmp(text, "rsa-3072") == 0) {
        c->p.type = AVOW_P11_KEY_RSA;
        c->p.rsa_bits = text[4] == '2' ? 2048u : 3072u;
    } else {
        return cli_fail(&c->d, AVOW_ERR_USAGE, "type",
                        "\"%s\" is not ec-p256, ec-p384, rsa-2048 or rsa-3072", text);
    }
    return AVOW_OK;
}

static avow_err parse_id(keygen_ctx *c, const char *hex)
{
    avow_err err = cli_parse_hex("id", hex, c->id, MAX_ID, &c->p.id_len, &c->d);
    if (err == AVOW_OK)
        c->p.id = c->id;
    return err;
}

/* YYYY-MM-DD (or YYYYMMDD) -> YYYYMMDD; the library checks the date itself. */
static avow_err parse_date(keygen_ctx *c, const char *text)
{
    size_t n = strlen(text), k = 0;
    int dashed = n == 10 && text[4] == '-' && text[7] == '-';
    if (n != 8 && !dashed)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "end-date", "\"%s\" is not YYYY-MM-DD", text);
    for (size_t i = 0; i < n; i++) {
        if (dashed && (i == 4 || i == 7))
            continue;
        if (text[i] < '0' || text[i] > '9')
            return cli_fail(&c->d, AVOW_ERR_USAGE, "end-date", "\"%s\" is not YYYY-MM-DD", text);
        c->date[k++] = text[i];
    }
    c->date[k] = '\0';
    c->p.end_date = c->date;
    return AVOW_OK;
}

/* Label and id: the flags win over the URI's object= and id=. */
static avow_err names_from(keygen_ctx *c, const cli_args *a)
{
    avow_buf label = {0}, id = {0};
    avow_err err = AVOW_OK;
    if (c->uri != NULL)
        err = avow_p11_uri_get_object(c->uri, &label, &id, &c->d);
    if (err == AVOW_OK && cli_get(a, "label") != NULL) {
        avow_buf_free(&label);
        const char *text = cli_get(a, "label");
        size_t n = strlen(text);
        if (n > 0 && (label.ptr = OPENSSL_malloc(n + 1)) == NULL)
            err = cli_fail(&c->d, AVOW_ERR_NOMEM, "label", "out of memory");
        else if (n > 0) {
            memcpy(label.ptr, text, n + 1);
            label.len = n;
        }
    }
    c->label = label;
    c->p.label = (const char *)label.ptr;
    if (err == AVOW_OK && cli_get(a, "id") != NULL) {
        err = parse_id(c, cli_get(a, "id"));
    } else if (err == AVOW_OK && id.len > 0) {
        if (id.len > MAX_ID)
            err =
                cli_fail(&c->d, AVOW_ERR_USAGE, "token-uri", "id= is longer than %d bytes", MAX_ID);
        else {
            memcpy(c->id, id.ptr, id.len);
            c->p.id = c->id;
            c->p.id_len = id.len;
        }
    } else if (err == AVOW_OK) {
        if (RAND_bytes(c->id, 8) != 1)
            err = cli_fail_ossl(&c->d, AVOW_ERR_CRYPTO, "id", "cannot draw a random id");
        c->p.id = c->id;
        c->p.id_len = 8;
    }
    avow_buf_free(&id);
    return err;
}

/* Refuses a label or id already used by a private key: later look-ups would be ambiguous. */
static avow_err check_unused(keygen_ctx *c, avow_p11_session *s)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *label = pass == 0 ? c->p.label : NULL;
        const uint8_t *id = pass == 1 ? c->p.id : NULL;
        if (label == NULL && id == NULL)
            continue;
        avow_buf uri = {0};
        avow_err err = avow_p11_uri_format_object(c->uri, label, id, id != NULL ? c->p.id_len : 0,
                                                  &uri, &c->d);
        avow_p11_handle h = 0;
        avow_diag tmp;
        avow_diag_clear(&tmp);
        if (err == AVOW_OK)
            err = avow_p11_find_key(s, (const char *)uri.ptr, &h, &tmp);
        if (err == AVOW_OK || err == AVOW_ERR_AMBIGUOUS)
            err = cli_fail(&c->d, AVOW_ERR_USAGE, pass == 0 ? "label" : "id",
                           "the token already has a private key matching %s", (char *)uri.ptr);
        else if (err == AVOW_ERR_NOT_FOUND)
            err = AVOW_OK;
        else if (uri.ptr != NULL)
            c->d = tmp;
        avow_buf_free(&uri);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* Session (read/write) and login, through the library. */
static avow_err open_token(keygen_ctx *c, const cli_args *a, avow_p11_session **s)
{
    cli_p11 p;
    avow_err err = cli_p11_from_args(a, &p, &c->d);
    if (err == AVOW_OK) {
        err = avow_p11_open(p.module, c->uri, p.pin_spec, AVOW_P11_RW | AVOW_P11_LOGIN, s, &c->d);
        err = cli_p11_explain(&p, err, "pin", c->uri, &c->d);
    }
    cli_p11_clear(&p);
    return err;
}

static avow_err write_pub(keygen_ctx *c, avow_p11_session *s, avow_p11_handle priv,
                          const char *path)
{
    EVP_PKEY *pkey = NULL;
    avow_buf der = {0};
    avow_err err = avow_p11_get1_pubkey(s, priv, &pkey, &c->d);
    if (err == AVOW_OK)
        err = avow_spki_der(pkey, &der, &c->d);
    if (err == AVOW_OK)
        err = cli_write(path, der.ptr, der.len, "PUBLIC KEY", CLI_FORM_PEM, &c->d);
    avow_buf_free(&der);
    EVP_PKEY_free(pkey);
    return err;
}

static int run_keygen(const cli_args *a)
{
    keygen_ctx c;
    memset(&c, 0, sizeof(c));
    avow_p11_keygen_params_init(&c.p);
    avow_p11_session *s = NULL;
    avow_p11_handle priv = 0;
    avow_buf printed = {0};
    avow_err err = AVOW_OK;
    c.uri = cli_get(a, "token-uri");
    if (c.uri != NULL && cli_get(a, "uri") != NULL)
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "uri", "give -token-uri or -uri, not both");
    if (c.uri == NULL)
        c.uri = cli_get(a, "uri");
    c.p.sensitive = !cli_flag(a, "not-sensitive");
    c.p.extractable = cli_flag(a, "extractable");
    if (err == AVOW_OK)
        err = parse_type(&c, cli_get(a, "type"));
    if (err == AVOW_OK && cli_get(a, "end-date") != NULL)
        err = parse_date(&c, cli_get(a, "end-date"));
    if (err == AVOW_OK)
        err = names_from(&c, a);
    if (err == AVOW_OK)
        err = open_token(&c, a, &s);
    if (err == AVOW_OK)
        err = check_unused(&c, s);
    if (err == AVOW_OK)
        err = avow_p11_keygen(s, &c.p, &priv, NULL, &c.d);
    if (err == AVOW_OK && cli_get(a, "pubout") != NULL)
        err = write_pub(&c, s, priv, cli_get(a, "pubout"));
    if (err == AVOW_OK)
        err = avow_p11_uri_format_object(c.uri, c.p.label, c.p.id, c.p.id_len, &printed, &c.d);
    if (err == AVOW_OK) {
        printf("%s\n", (const char *)printed.ptr);
        if (fflush(stdout) != 0)
            err = cli_fail(&c.d, AVOW_ERR_IO, "stdout", "cannot write");
    }
    avow_buf_free(&printed);
    avow_p11_session_free(s);
    avow_buf_free(&c.label);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &c.d);
}

int cli_group_keygen(const char *prog, int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(prog, &keygen_cmd, argc, argv, &a);
    if (rc == CLI_PARSE_HELP) {
        cli_help(stdout, prog, &keygen_cmd);
        rc = CLI_EXIT_OK;
    } else if (rc == CLI_PARSE_USAGE) {
        rc = CLI_EXIT_USAGE;
    } else {
        rc = run_keygen(&a);
    }
    cli_args_free(&a);
    return rc;
}
