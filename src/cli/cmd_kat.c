/*
 * "avow kat": make and show the key attestation objects of
 * draft-bft-rats-kat-06 (docs/kat.md). create signs a KAT (the attested key
 * in cnf, the KAK's public key in kak-pub) with the KAK; bundle puts a KAT
 * and a platform token (PAT) into the CAB that `avow csr create -kat`
 * takes; show prints a KAT or a CAB's two tokens through the registry rows
 * that verify them. The objects are built by the library (avow/kat.h);
 * the command only reads keys and files.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/avow.h>
#include <avow/cose.h>
#include <avow/kat.h>
#include <avow/psa.h>

#include "cli/cli.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/p11.h"

static const cli_opt create_opts[] = {
    {"key", CLI_VALUE, "FILE",
     "the attested key (cnf): a PUBLIC KEY file, a certificate or a private key file"},
    {"kak", CLI_VALUE, "KEY",
     "the key attestation key that signs the KAT: private key file or pkcs11: URI"},
    {"nonce", CLI_VALUE, "HEX", "the verifier's nonce (eat_nonce, 8..64 bytes)"},
    {"tagged", CLI_FLAG, NULL, "write COSE tag 18 (the draft's example is untagged)"},
    {"link-nonce", CLI_VALUE, "FILE",
     "also write the hex nonce a platform token must carry to bind this KAT's KAK "
     "(SHA-256 of its kak-pub COSE_Key)"},
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module for a pkcs11: -kak (default: $AVOW_PKCS11_MODULE, else " CLI_P11_DEFAULT_MODULE
     ")"},
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN: env:NAME, file:PATH or pass:TEXT"},
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt bundle_opts[] = {
    {"kat", CLI_VALUE, "FILE", "the key attestation token (COSE_Sign1, as avow kat create writes)"},
    {"pat", CLI_VALUE, "FILE",
     "the platform attestation token whose eat_nonce binds the KAT's KAK (a PSA token)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "a KAT or a CAB (default: stdin)"},
    {"json", CLI_FLAG, NULL, "print JSON instead of text"},
    {NULL, CLI_FLAG, NULL, NULL},
};

/* The hex of the link nonce of the KAK's COSE_Key, one line. */
static avow_err write_link_nonce(const char *path, const EVP_PKEY *kak, avow_diag *d)
{
    avow_buf enc = {0};
    uint8_t h[32];
    char hex[2 * sizeof(h) + 2];
    avow_err err = avow_kat_cose_key(kak, &enc, d);
    if (err == AVOW_OK)
        err = avow_kat_link_nonce(enc.ptr, enc.len, sizeof(h), h);
    for (size_t i = 0; err == AVOW_OK && i < sizeof(h); i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    hex[2 * sizeof(h)] = '\n';
    hex[2 * sizeof(h) + 1] = '\0';
    if (err == AVOW_OK)
        err = cli_write(path, (const uint8_t *)hex, 2 * sizeof(h) + 1, NULL, CLI_FORM_DER, d);
    avow_buf_free(&enc);
    return err;
}

static int run_create(const char *prog, const cli_args *a)
{
    if (cli_get(a, "key") == NULL || cli_get(a, "kak") == NULL || cli_get(a, "nonce") == NULL)
        return cli_usage_error(prog, "-key FILE, -kak KEY and -nonce HEX are required");
    avow_diag d;
    avow_diag_clear(&d);
    uint8_t nonce[64];
    size_t nlen = 0;
    EVP_PKEY *ik = NULL;
    avow_signer *kak = NULL;
    avow_buf out = {0};
    avow_err err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &nlen, &d);
    if (err == AVOW_OK && nlen < 8)
        err = cli_fail(&d, AVOW_ERR_USAGE, "nonce", "a KAT's eat_nonce is 8..64 bytes, not %lu",
                       (unsigned long)nlen);
    if (err == AVOW_OK)
        err = cli_load_public_key(cli_get(a, "key"), &ik, &d);
    if (err == AVOW_OK)
        err = cli_signer_open(a, "kak", cli_get(a, "kak"), 0, 0, &kak, &d);
    if (err == AVOW_OK)
        err = avow_kat_sign(nonce, nlen, ik, kak, cli_flag(a, "tagged") ? AVOW_COSE_TAGGED : 0,
                            &out, &d);
    if (err == AVOW_OK && cli_get(a, "link-nonce") != NULL)
        err = write_link_nonce(cli_get(a, "link-nonce"), avow_signer_get0_pubkey(kak), &d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), out.ptr, out.len, NULL, CLI_FORM_DER, &d);
    avow_buf_free(&out);
    avow_signer_free(kak);
    EVP_PKEY_free(ik);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static int run_bundle(const char *prog, const cli_args *a)
{
    if (cli_get(a, "kat") == NULL || cli_get(a, "pat") == NULL)
        return cli_usage_error(prog, "-kat FILE and -pat FILE are required");
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf kat = {0}, pat = {0}, cab = {0};
    avow_err err = cli_read(cli_get(a, "kat"), &kat, &d);
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "pat"), &pat, &d);
    /* A bundle of tokens that do not decode would only fail later, at the verifier. */
    const avow_statement_type *krow = NULL;
    if (err == AVOW_OK) {
        avow_oid oid;
        if (avow_oid_from_text(&oid, AVOW_OID_KAT) != AVOW_OK ||
            (krow = avow_registry_find(NULL, NULL, oid.der, oid.len)) == NULL)
            err = cli_fail(&d, AVOW_ERR_INTERNAL, "type", "no KAT row in this library");
    }
    if (err == AVOW_OK) {
        void *native = NULL;
        err = krow->decode(krow, NULL, kat.ptr, kat.len, &native, &d);
        krow->free(krow, native, NULL);
    }
    if (err == AVOW_OK)
        err = avow_kat_bundle(kat.ptr, kat.len, pat.ptr, pat.len, &cab, &d);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), cab.ptr, cab.len, NULL, CLI_FORM_DER, &d);
    avow_buf_free(&kat);
    avow_buf_free(&pat);
    avow_buf_free(&cab);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* One token through the row of type oid_text, decoded first so that bad input exits 3. */
static avow_err show_one(const char *oid_text, const avow_buf *tok, int json, avow_buf *text,
                         avow_diag *d)
{
    avow_oid oid;
    const avow_statement_type *row = NULL;
    if (avow_oid_from_text(&oid, oid_text) != AVOW_OK ||
        (row = avow_registry_find(NULL, NULL, oid.der, oid.len)) == NULL || row->decode == NULL)
        return cli_fail(d, AVOW_ERR_INTERNAL, "type", "no row for %s in this library", oid_text);
    void *native = NULL;
    avow_err err = row->decode(row, NULL, tok->ptr, tok->len, &native, d);
    row->free(row, native, NULL);
    if (err == AVOW_OK)
        err = avow_statement_show(NULL, NULL, oid.der, oid.len, tok->ptr, tok->len, json, text, d);
    return err;
}

static avow_err take_text(char *s, avow_buf *out, avow_diag *d)
{
    if (s == NULL)
        return cli_fail(d, AVOW_ERR_NOMEM, "show", "out of memory");
    out->len = strlen(s);
    out->ptr = OPENSSL_malloc(out->len + 1);
    if (out->ptr != NULL)
        memcpy(out->ptr, s, out->len + 1);
    free(s);
    return out->ptr != NULL ? AVOW_OK : cli_fail(d, AVOW_ERR_NOMEM, "show", "out of memory");
}

/* {"type": "cab", "cmwc_t", "kat": {...}, "pat": {...}}: each token as avow_statement_show has it.
 */
static avow_err cab_json(const avow_buf *kt, const avow_buf *pt, avow_buf *out, avow_diag *d)
{
    json_t *k = json_loadb((const char *)kt->ptr, kt->len, 0, NULL);
    json_t *p = json_loadb((const char *)pt->ptr, pt->len, 0, NULL);
    json_t *o = k != NULL && p != NULL ? json_pack("{s:s,s:s,s:O,s:O}", "type", "cab", "cmwc_t",
                                                   AVOW_KAT_CMWC_TYPE, "kat", k, "pat", p)
                                       : NULL;
    json_decref(k);
    json_decref(p);
    char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    avow_err err = take_text(s, out, d);
    if (err == AVOW_OK && (out->ptr = OPENSSL_realloc(out->ptr, out->len + 2)) != NULL) {
        out->ptr[out->len++] = '\n';
        out->ptr[out->len] = '\0';
    } else if (err == AVOW_OK) {
        out->len = 0;
        err = cli_fail(d, AVOW_ERR_NOMEM, "show", "out of memory");
    }
    return err;
}

static avow_err cab_text(const avow_buf *kt, const char *pat_type, const avow_buf *pt,
                         avow_buf *out, avow_diag *d)
{
    size_t n = kt->len + pt->len + strlen(pat_type) + 128;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "Combined attestation bundle (%s):\n[kat]\n%s[pat] %s\n%s",
                 AVOW_KAT_CMWC_TYPE, (const char *)kt->ptr, pat_type, (const char *)pt->ptr);
    return take_text(s, out, d);
}

/* A CAB is a CBOR map; a KAT is a COSE_Sign1 (an array, maybe tagged). */
static int is_cab(const avow_buf *b)
{
    return b->len > 0 && (b->ptr[0] & 0xe0) == 0xa0;
}

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    int json = cli_flag(a, "json");
    avow_buf in = {0}, kat = {0}, pat = {0}, kt = {0}, pt = {0}, out = {0};
    char *pat_type = NULL;
    avow_err err = cli_read(cli_get(a, "in"), &in, &d);
    if (err == AVOW_OK && !is_cab(&in)) {
        err = show_one(AVOW_OID_KAT, &in, json, &out, &d);
    } else if (err == AVOW_OK) {
        err = avow_kat_bundle_split(in.ptr, in.len, &kat, &pat, &pat_type, &d);
        if (err == AVOW_OK)
            err = show_one(AVOW_OID_KAT, &kat, json, &kt, &d);
        if (err == AVOW_OK)
            err = show_one(AVOW_OID_PSA_TOKEN, &pat, json, &pt, &d);
        if (err == AVOW_OK)
            err = json ? cab_json(&kt, &pt, &out, &d) : cab_text(&kt, pat_type, &pt, &out, &d);
    }
    if (err == AVOW_OK)
        err = cli_print(&out, &d);
    OPENSSL_free(pat_type);
    avow_buf_free(&in);
    avow_buf_free(&kat);
    avow_buf_free(&pat);
    avow_buf_free(&kt);
    avow_buf_free(&pt);
    avow_buf_free(&out);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd kat_cmds[] = {
    {"create", "Sign a key attestation token (KAT) of a key with a key attestation key.",
     "-key FILE -kak KEY -nonce HEX [-tagged] [-link-nonce FILE] [-out FILE]", create_opts, 0,
     run_create},
    {"bundle", "Bundle a KAT and the platform token that binds its KAK into a CAB.",
     "-kat FILE -pat FILE [-out FILE]", bundle_opts, 0, run_bundle},
    {"show", "Decode a KAT or a CAB and print its tokens.", "[-in FILE] [-json]", show_opts, 0,
     run_show},
};

int cli_group_kat(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog, "Key attestation tokens linked to platform tokens (KAT, CAB).",
                         kat_cmds, sizeof(kat_cmds) / sizeof(kat_cmds[0]), argc, argv);
}
