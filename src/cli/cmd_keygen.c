/*
 * "avow keygen": generates a key pair inside a PKCS#11 token
 * (avow_p11_keygen), prints the key's PKCS#11 URI and writes its public key
 * when asked. The private key never leaves the token.
 *
 * The module comes from -pkcs11-module (or -module), else $AVOW_PKCS11_MODULE, else SoftHSM2 at
 * its Debian path when that file exists. Label and id come from -label /
 * -id, else from the URI's object= / id=; without any id a random 8-byte id
 * is chosen, so that a certificate can later be stored next to the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

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
    {"module", CLI_VALUE, "PATH|NAME", "the same as -pkcs11-module (older spelling)"},
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
    char *label;    /* owned copy */
    char date[9];   /* YYYYMMDD */
    P11KitUri *uri; /* the token part of the user's URI, for printing */
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
static avow_err names_from(keygen_ctx *c, const cli_args *a, const char *uri)
{
    c->uri = p11_kit_uri_new();
    if (c->uri == NULL)
        return cli_fail(&c->d, AVOW_ERR_NOMEM, "", "out of memory");
    if (uri != NULL) {
        int rc = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, c->uri);
        if (rc != P11_KIT_URI_OK)
            return cli_fail(&c->d, AVOW_ERR_USAGE, "token-uri", "PKCS#11 URI \"%s\": %s", uri,
                            p11_kit_uri_message(rc));
    }
    CK_ATTRIBUTE *lab = p11_kit_uri_get_attribute(c->uri, CKA_LABEL);
    CK_ATTRIBUTE *idattr = p11_kit_uri_get_attribute(c->uri, CKA_ID);
    const char *label = cli_get(a, "label");
    if (label != NULL) {
        c->label = strdup(label);
    } else if (lab != NULL && lab->ulValueLen > 0) {
        c->label = malloc(lab->ulValueLen + 1);
        if (c->label != NULL) {
            memcpy(c->label, lab->pValue, lab->ulValueLen);
            c->label[lab->ulValueLen] = '\0';
        }
    }
    if ((label != NULL || lab != NULL) && c->label == NULL)
        return cli_fail(&c->d, AVOW_ERR_NOMEM, "", "out of memory");
    if (c->label != NULL && strlen(c->label) == 0) {
        free(c->label);
        c->label = NULL;
    }
    c->p.label = c->label;
    if (cli_get(a, "id") != NULL)
        return parse_id(c, cli_get(a, "id"));
    if (idattr != NULL && idattr->ulValueLen > 0) {
        if (idattr->ulValueLen > MAX_ID)
            return cli_fail(&c->d, AVOW_ERR_USAGE, "token-uri", "id= is longer than %d bytes",
                            MAX_ID);
        memcpy(c->id, idattr->pValue, idattr->ulValueLen);
        c->p.id = c->id;
        c->p.id_len = idattr->ulValueLen;
        return AVOW_OK;
    }
    if (RAND_bytes(c->id, 8) != 1)
        return cli_fail_ossl(&c->d, AVOW_ERR_CRYPTO, "id", "cannot draw a random id");
    c->p.id = c->id;
    c->p.id_len = 8;
    return AVOW_OK;
}

/* The user's URI with only the given object attributes (and no PIN): printed. */
static char *object_uri(P11KitUri *base, const char *label, const uint8_t *id, size_t id_len)
{
    CK_ATTRIBUTE attr;
    p11_kit_uri_clear_attributes(base);
    p11_kit_uri_set_pin_value(base, NULL);
    p11_kit_uri_set_pin_source(base, NULL);
    if (label != NULL) {
        attr.type = CKA_LABEL;
        attr.pValue = (void *)label;
        attr.ulValueLen = (CK_ULONG)strlen(label);
        if (p11_kit_uri_set_attribute(base, &attr) != P11_KIT_URI_OK)
            return NULL;
    }
    if (id != NULL) {
        attr.type = CKA_ID;
        attr.pValue = (void *)id;
        attr.ulValueLen = (CK_ULONG)id_len;
        if (p11_kit_uri_set_attribute(base, &attr) != P11_KIT_URI_OK)
            return NULL;
    }
    char *text = NULL;
    if (p11_kit_uri_format(base, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &text) != P11_KIT_URI_OK)
        return NULL;
    return text;
}

/* Refuses a label or id already used by a private key: later look-ups would be ambiguous. */
static avow_err check_unused(keygen_ctx *c, avow_p11_session *s)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *label = pass == 0 ? c->p.label : NULL;
        const uint8_t *id = pass == 1 ? c->p.id : NULL;
        if (label == NULL && id == NULL)
            continue;
        char *uri = object_uri(c->uri, label, id, c->p.id_len);
        if (uri == NULL)
            return cli_fail(&c->d, AVOW_ERR_NOMEM, "", "out of memory");
        avow_p11_handle h = 0;
        avow_diag tmp;
        avow_diag_clear(&tmp);
        avow_err err = avow_p11_find_key(s, uri, &h, &tmp);
        if (err == AVOW_OK || (err == AVOW_ERR_ARG && strstr(tmp.detail, "more than one") != NULL))
            err = cli_fail(&c->d, AVOW_ERR_USAGE, pass == 0 ? "label" : "id",
                           "the token already has a private key matching %s", uri);
        else if (err == AVOW_ERR_NOT_FOUND)
            err = AVOW_OK;
        else
            c->d = tmp;
        free(uri);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* Module, session (read/write) and login. */
static avow_err open_token(keygen_ctx *c, const cli_args *a, const char *uri, avow_p11_session **s)
{
    const char *flag = cli_get(a, "pkcs11-module");
    if (flag != NULL && cli_get(a, "module") != NULL)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "pkcs11-module",
                        "give -pkcs11-module or -module, not both");
    const char *module = cli_p11_module(flag != NULL ? flag : cli_get(a, "module"));
    if (module == NULL)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "pkcs11-module",
                        "no PKCS#11 module: give -pkcs11-module or set AVOW_PKCS11_MODULE "
                        "(" CLI_P11_DEFAULT_MODULE " is not installed)");
    if (cli_get(a, "pin") != NULL && cli_get(a, "pin-source") != NULL)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "pin", "give -pin or -pin-source, not both");
    /* -pin is the pass: spec of -pin-source. */
    char *spec = NULL;
    if (cli_get(a, "pin") != NULL) {
        size_t n = strlen(cli_get(a, "pin")) + 6;
        spec = OPENSSL_malloc(n);
        if (spec == NULL)
            return cli_fail(&c->d, AVOW_ERR_NOMEM, "pin", "out of memory");
        snprintf(spec, n, "pass:%s", cli_get(a, "pin"));
    }
    avow_err err = avow_p11_open(module, uri, spec != NULL ? spec : cli_get(a, "pin-source"),
                                 AVOW_P11_RW | AVOW_P11_LOGIN, s, &c->d);
    if (spec != NULL)
        OPENSSL_clear_free(spec, strlen(spec));
    if (err == AVOW_ERR_NOT_FOUND && strcmp(c->d.field, "pin") == 0 &&
        cli_get(a, "pin-source") == NULL && cli_get(a, "pin") == NULL)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "pin",
                        "no user PIN: give -pin-source env:NAME|file:PATH|pass:TEXT");
    return err;
}

static avow_err write_pub(keygen_ctx *c, avow_p11_session *s, avow_p11_handle priv,
                          const char *path)
{
    EVP_PKEY *pkey = NULL;
    avow_buf der = {0};
    avow_err err = avow_p11_get1_pubkey(s, priv, &pkey, &c->d);
    if (err == AVOW_OK)
        err = cli_spki_der(pkey, &der, &c->d);
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
    avow_p11_session *s = NULL;
    avow_p11_handle priv = 0;
    char *printed = NULL;
    const char *uri = cli_get(a, "token-uri");
    avow_err err = AVOW_OK;
    if (uri != NULL && cli_get(a, "uri") != NULL)
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "uri", "give -token-uri or -uri, not both");
    if (uri == NULL)
        uri = cli_get(a, "uri");
    c.p.sensitive = !cli_flag(a, "not-sensitive");
    c.p.extractable = cli_flag(a, "extractable");
    if (err == AVOW_OK)
        err = parse_type(&c, cli_get(a, "type"));
    if (err == AVOW_OK && cli_get(a, "end-date") != NULL)
        err = parse_date(&c, cli_get(a, "end-date"));
    if (err == AVOW_OK)
        err = names_from(&c, a, uri);
    if (err == AVOW_OK)
        err = open_token(&c, a, uri, &s);
    if (err == AVOW_OK)
        err = check_unused(&c, s);
    if (err == AVOW_OK)
        err = avow_p11_keygen(s, &c.p, &priv, NULL, &c.d);
    if (err == AVOW_OK && cli_get(a, "pubout") != NULL)
        err = write_pub(&c, s, priv, cli_get(a, "pubout"));
    if (err == AVOW_OK) {
        printed = object_uri(c.uri, c.p.label, c.p.id, c.p.id_len);
        if (printed == NULL)
            err = cli_fail(&c.d, AVOW_ERR_NOMEM, "", "out of memory");
        else
            printf("%s\n", printed);
        if (fflush(stdout) != 0)
            err = cli_fail(&c.d, AVOW_ERR_IO, "stdout", "cannot write");
    }
    free(printed);
    avow_p11_session_free(s);
    if (c.uri != NULL)
        p11_kit_uri_free(c.uri);
    free(c.label);
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
