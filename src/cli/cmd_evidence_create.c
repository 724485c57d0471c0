/*
 * "avow evidence create": gathers claims (a JSON file, then flags), signs
 * with each -signkey and writes the Evidence. Claims from flags are turned
 * into the same JSON the library reads, so there is one path into the
 * builder. The library resolves the special values "now" and "auto" (the
 * keys of the -signkey signers, which are opened first). With -request the
 * same claims and the tokens become claim sources and the library fills in
 * exactly what the request asks for (avow_evidence_fill).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/avow.h>
#include <avow/pkcs11.h>

#include "cli/cli.h"
#include "cli/p11.h"
#include "cli/evidence_cmds.h"

#define MAX_SIGNERS AVOW_EVIDENCE_MAX_SIGNATURES

const cli_opt cli_evidence_create_opts[] = {
    {"claims", CLI_VALUE, "FILE", "claims as JSON (docs/claims-json.md), read before the flags"},
    {"nonce", CLI_VALUE, "HEX", "transaction nonce"},
    {"timestamp", CLI_VALUE, "TIME", "transaction timestamp: now, @SECONDS or RFC 3339 UTC"},
    {"ak-spki", CLI_FLAG, NULL, "add an ak-spki claim for each signing key"},
    {"vendor", CLI_VALUE, "TEXT", "platform vendor"},
    {"oemid", CLI_VALUE, "TEXT", "platform oemid (the bytes of TEXT)"},
    {"hwmodel", CLI_VALUE, "TEXT", "platform hwmodel (the bytes of TEXT)"},
    {"hwversion", CLI_VALUE, "TEXT", "platform hwversion"},
    {"hwserial", CLI_VALUE, "TEXT", "platform hwserial"},
    {"swname", CLI_VALUE, "TEXT", "platform swname"},
    {"swversion", CLI_VALUE, "TEXT", "platform swversion"},
    {"dbgstat", CLI_VALUE, "N", "platform dbgstat (0..4)"},
    {"uptime", CLI_VALUE, "N", "platform uptime in seconds"},
    {"bootcount", CLI_VALUE, "N", "platform bootcount"},
    {"fipsboot", CLI_VALUE, "BOOL", "platform fipsboot (true|false)"},
    {"fipsver", CLI_VALUE, "TEXT", "platform fipsver (\"FIPS 140-3\")"},
    {"fipslevel", CLI_VALUE, "N", "platform fipslevel (1..4)"},
    {"fipsmodule", CLI_VALUE, "TEXT", "platform fipsmodule"},
    {"key-spki", CLI_MULTI, "FILE", "add a key element for this public key, certificate or key"},
    {"key-ident", CLI_MULTI, "NAME",
     "identifier of the matching -key-spki (default: key id hex); a -claims key of that identifier "
     "gets the spki"},
    {"pkcs11", CLI_VALUE, "URI",
     "attest this pkcs11: key with its token's platform claims (= -attest-key URI -platform-from "
     "URI)"},
    {"attest-key", CLI_MULTI, "URI", "add a key element for this pkcs11: key, read from the token"},
    {"platform-from", CLI_VALUE, "URI", "add platform claims read from this pkcs11: token"},
    {"platform-token", CLI_VALUE, "FILE",
     "carry this PSA attestation token (RFC 9783) inside the Evidence, under its signature "
     "(the combined form, docs/kat.md)"},
    {"platform-token-type", CLI_VALUE, "MEDIA",
     "media type of -platform-token's CMW (default: the PSA token's)"},
    {"signkey", CLI_MULTI, "KEY",
     "private key file or pkcs11: URI to sign with (one signature each)"},
    {"signcert", CLI_MULTI, "FILE",
     "certificate of the matching -signkey (pkcs11: default: the token's, same CKA_ID)"},
    {"chain", CLI_MULTI, "FILE", "certificates to carry in intermediateCertificates"},
    {"pss", CLI_FLAG, NULL, "sign with RSA-PSS instead of PKCS#1 v1.5 for RSA keys"},
    {"sid", CLI_VALUE, "KIND[,KIND]",
     "signer id fields: keyid, spki, cert or a comma list (default: cert if -signcert, else "
     "spki)"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module (default: $AVOW_PKCS11_MODULE, else " CLI_P11_DEFAULT_MODULE ")"},
    {"pin-source", CLI_VALUE, "SPEC",
     "token user PIN: env:NAME, file:PATH or pass:TEXT (default: the URI's pin-value/pin-source)"},
    {"pin", CLI_VALUE, "PIN", "token user PIN (visible in ps; prefer -pin-source)"},
    {"request", CLI_VALUE, "FILE",
     "answer this attestation request (evidence request): exactly the claims it asks for, from "
     "-claims, the claim options and the tokens"},
    {"strict-request", CLI_FLAG, NULL,
     "with -request: fail unless every requested claim is supplied"},
    {"json", CLI_FLAG, NULL, "with -request: the claims not supplied as JSON on stderr"},
    {"outform", CLI_VALUE, "PEM|DER", "output format (default: PEM, label EVIDENCE)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

typedef struct create_ctx {
    avow_signer *signers[MAX_SIGNERS];
    avow_buf spkis[MAX_SIGNERS];
    size_t nsigners;
    avow_evidence *ev;
    cli_p11 p11; /* -pkcs11-module, -pin-source, -pin */
    avow_diag d;
} create_ctx;

static avow_err nomem(avow_diag *d)
{
    return cli_fail(d, AVOW_ERR_NOMEM, "", "out of memory");
}

/*
 * A session on the token `uri` names, through the library: logged in with
 * -pin, -pin-source or the URI's own PIN. Without any PIN it stays logged
 * out unless need_login (private keys), which is then a usage error.
 */
static avow_err p11_open(create_ctx *c, const char *option, const char *uri, int need_login,
                         avow_p11_session **s)
{
    avow_err err = avow_p11_open(c->p11.module, uri, c->p11.pin_spec,
                                 need_login ? AVOW_P11_LOGIN : 0, s, &c->d);
    return cli_p11_explain(&c->p11, err, option, uri, &c->d);
}

static avow_err load_signers(create_ctx *c, const cli_args *a)
{
    size_t nkeys = cli_count(a, "signkey"), ncerts = cli_count(a, "signcert");
    if (nkeys > MAX_SIGNERS)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "signkey", "at most %u signing keys", MAX_SIGNERS);
    if (ncerts > nkeys)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "signcert", "-signcert %lu has no -signkey",
                        (unsigned long)nkeys + 1);
    for (size_t i = 0; i < nkeys; i++) {
        const char *path = cli_get_n(a, "signkey", i);
        /* Without a -signcert, a token key brings the certificate the token holds for it. */
        avow_err err =
            cli_signer_open(a, "signkey", path, cli_flag(a, "pss"),
                            i >= ncerts ? AVOW_SIGNER_OPEN_TOKEN_CERT : 0, &c->signers[i], &c->d);
        if (err != AVOW_OK)
            return err;
        c->nsigners++;
        err = avow_spki_der(avow_signer_get0_pubkey(c->signers[i]), &c->spkis[i], &c->d);
        if (err != AVOW_OK)
            return err;
        if (i >= ncerts)
            continue;
        const char *cpath = cli_get_n(a, "signcert", i);
        X509 *cert = NULL;
        err = cli_load_cert(cpath, &cert, &c->d);
        if (err != AVOW_OK)
            return err;
        if (EVP_PKEY_eq(X509_get0_pubkey(cert), avow_signer_get0_pubkey(c->signers[i])) != 1)
            err = cli_fail_ossl(&c->d, AVOW_ERR_USAGE, cpath, "certificate is not for %s", path);
        else
            err = avow_signer_set1_cert(c->signers[i], cert, NULL);
        X509_free(cert);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static json_t *hex_string(const avow_buf *b)
{
    static const char digits[] = "0123456789abcdef";
    char *h = malloc(b->len * 2 + 1);
    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < b->len; i++) {
        h[2 * i] = digits[b->ptr[i] >> 4];
        h[2 * i + 1] = digits[b->ptr[i] & 15];
    }
    h[b->len * 2] = '\0';
    json_t *s = json_string(h);
    free(h);
    return s;
}

/* {"hex": ...}: how the hand-written form spells bytes. */
static json_t *spki_hex(const avow_buf *spki)
{
    return json_pack("{s:o}", "hex", hex_string(spki));
}

/* Claims JSON into the Evidence; the library resolves "now" and "auto" (the signers' keys). */
static avow_err add_text(create_ctx *c, const char *text, size_t len)
{
    avow_view spkis[MAX_SIGNERS];
    for (size_t i = 0; i < c->nsigners; i++) {
        spkis[i].ptr = c->spkis[i].ptr;
        spkis[i].len = c->spkis[i].len;
    }
    avow_claims_json_opts o;
    avow_claims_json_opts_init(&o);
    o.nsigner_spkis = c->nsigners;
    o.signer_spkis = spkis;
    return avow_evidence_add_claims_json_ex(c->ev, text, len, &o, &c->d);
}

static avow_err add_json(create_ctx *c, json_t *root)
{
    char *text = json_dumps(root, JSON_COMPACT);
    if (text == NULL)
        return nomem(&c->d);
    avow_err err = add_text(c, text, strlen(text));
    free(text);
    return err;
}

static avow_err add_claims_file(create_ctx *c, const char *path)
{
    avow_buf raw = {0};
    avow_err err = cli_read(path, &raw, &c->d);
    if (err == AVOW_OK)
        err = add_text(c, (const char *)raw.ptr, raw.len);
    avow_buf_free(&raw);
    return err;
}

static avow_err flag_value(create_ctx *c, const avow_claim_info *info, const char *text,
                           json_t **out)
{
    char *end = NULL;
    long long v = 0;
    switch (info->type) {
    case AVOW_VALUE_INT:
        errno = 0;
        v = strtoll(text, &end, 10);
        if (end == text || *end != '\0' || errno != 0)
            return cli_fail(&c->d, AVOW_ERR_USAGE, info->name, "\"%s\" is not an integer", text);
        *out = json_integer(v);
        break;
    case AVOW_VALUE_BOOL:
        if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0 || strcasecmp(text, "yes") == 0)
            *out = json_true();
        else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0 ||
                 strcasecmp(text, "no") == 0)
            *out = json_false();
        else
            return cli_fail(&c->d, AVOW_ERR_USAGE, info->name, "\"%s\" is not true or false", text);
        break;
    default:
        *out = json_string(text);
        break;
    }
    return *out != NULL ? AVOW_OK : nomem(&c->d);
}

/* Key id text of a key: hex of its RFC 5280 method 1 key identifier. */
static avow_err default_ident(create_ctx *c, EVP_PKEY *pkey, char *buf, size_t cap)
{
    uint8_t id[AVOW_KEY_ID_LEN];
    avow_err err = avow_spki_key_id(pkey, id, &c->d);
    if (err != AVOW_OK)
        return err;
    for (unsigned i = 0; i < sizeof(id) && 2 * i + 2 < cap; i++)
        snprintf(buf + 2 * i, cap - 2 * i, "%02x", id[i]);
    return AVOW_OK;
}

/* The key element of the claims file whose identifier is name, or -1. */
static long key_element_named(const avow_evidence *ev, const char *name)
{
    size_t len = strlen(name);
    for (size_t e = 0; e < avow_evidence_element_count(ev); e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        for (size_t i = 0; el->kind == AVOW_ELEMENT_KEY && i < el->nclaims; i++) {
            const avow_value *v = &el->claims[i].value;
            if (el->claims[i].id == AVOW_CLAIM_KEY_IDENTIFIER && v->bytes.len == len &&
                memcmp(v->bytes.ptr, name, len) == 0)
                return (long)e;
        }
    }
    return -1;
}

/*
 * -key-spki FILE [-key-ident NAME]: the key's spki joins the claims file's key
 * element of that identifier when there is one; otherwise a key element of its own.
 */
static avow_err add_key_flags(create_ctx *c, const cli_args *a, json_t *keys)
{
    size_t n = cli_count(a, "key-spki");
    if (cli_count(a, "key-ident") > n)
        return cli_fail(&c->d, AVOW_ERR_USAGE, "key-ident", "more -key-ident than -key-spki");
    for (size_t i = 0; i < n; i++) {
        const char *path = cli_get_n(a, "key-spki", i);
        EVP_PKEY *pkey = NULL;
        avow_buf spki = {0};
        char ident[64] = "";
        avow_err err = cli_load_public_key(path, &pkey, &c->d);
        if (err == AVOW_OK)
            err = avow_spki_der(pkey, &spki, &c->d);
        if (err == AVOW_OK && i >= cli_count(a, "key-ident"))
            err = default_ident(c, pkey, ident, sizeof(ident));
        EVP_PKEY_free(pkey);
        const char *name = i < cli_count(a, "key-ident") ? cli_get_n(a, "key-ident", i) : ident;
        long into = err == AVOW_OK ? key_element_named(c->ev, name) : -1;
        if (into >= 0) {
            err = avow_evidence_add_bytes(c->ev, (size_t)into, AVOW_CLAIM_KEY_SPKI, spki.ptr,
                                          spki.len, &c->d);
            avow_buf_free(&spki);
            if (err != AVOW_OK)
                return err;
            continue;
        }
        json_t *key = err == AVOW_OK
                          ? json_pack("{s:[s],s:o}", "identifier", name, "spki", spki_hex(&spki))
                          : NULL;
        avow_buf_free(&spki);
        if (err != AVOW_OK)
            return err;
        if (key == NULL || json_array_append_new(keys, key) != 0)
            return nomem(&c->d);
    }
    return AVOW_OK;
}

/* Flags become {"transaction":{..},"platform":{..},"keys":[..]} for the library. */
static avow_err add_flag_claims(create_ctx *c, const cli_args *a)
{
    json_t *root = json_object(), *tx = json_object(), *pf = json_object(), *keys = json_array();
    avow_err err =
        root != NULL && tx != NULL && pf != NULL && keys != NULL ? AVOW_OK : nomem(&c->d);
    const char *nonce = cli_get(a, "nonce"), *ts = cli_get(a, "timestamp");
    if (err == AVOW_OK && nonce != NULL)
        json_object_set_new(tx, "nonce", json_pack("{s:s}", "hex", nonce));
    if (err == AVOW_OK && ts != NULL) {
        time_t t;
        char buf[AVOW_TIME_TEXT_SIZE];
        err = cli_parse_time("timestamp", ts, &t, &c->d);
        if (err == AVOW_OK && avow_time_format(t, buf, sizeof(buf)) != AVOW_OK)
            err = cli_fail(&c->d, AVOW_ERR_USAGE, "timestamp", "\"%s\" cannot be written", ts);
        if (err == AVOW_OK)
            json_object_set_new(tx, "timestamp", json_string(buf));
    }
    if (err == AVOW_OK && cli_flag(a, "ak-spki")) {
        if (c->nsigners == 0)
            err = cli_fail(&c->d, AVOW_ERR_USAGE, "ak-spki", "-ak-spki needs -signkey");
        else
            json_object_set_new(tx, "ak-spki", json_string("auto"));
    }
    for (const cli_opt *o = cli_evidence_create_opts; err == AVOW_OK && o->name != NULL; o++) {
        const avow_claim_info *info = avow_claim_info_by_name(o->name);
        const char *text = cli_get(a, o->name);
        json_t *v = NULL;
        if (info == NULL || info->element != AVOW_ELEMENT_PLATFORM || text == NULL)
            continue;
        err = flag_value(c, info, text, &v);
        if (err == AVOW_OK && json_object_set_new(pf, o->name, v) != 0)
            err = nomem(&c->d);
    }
    if (err == AVOW_OK)
        err = add_key_flags(c, a, keys);
    if (err == AVOW_OK && json_object_size(tx) > 0)
        json_object_set(root, "transaction", tx);
    if (err == AVOW_OK && json_object_size(pf) > 0)
        json_object_set(root, "platform", pf);
    if (err == AVOW_OK && json_array_size(keys) > 0)
        json_object_set(root, "keys", keys);
    if (err == AVOW_OK && json_object_size(root) > 0)
        err = add_json(c, root);
    json_decref(root);
    json_decref(tx);
    json_decref(pf);
    json_decref(keys);
    return err;
}

/* -platform-from: token and module facts join the platform element, if there is one. */
static avow_err add_p11_platform(create_ctx *c, const char *uri)
{
    size_t index = 0, n = avow_evidence_element_count(c->ev);
    while (index < n && avow_evidence_get0_element(c->ev, index)->kind != AVOW_ELEMENT_PLATFORM)
        index++;
    avow_p11_session *s = NULL;
    avow_err err = p11_open(c, "platform-from", uri, 0, &s);
    if (err == AVOW_OK && index == n)
        err = avow_evidence_add_element(c->ev, AVOW_ELEMENT_PLATFORM, &index, &c->d);
    if (err == AVOW_OK)
        err = avow_p11_add_platform_claims(s, c->ev, index, &c->d);
    avow_p11_session_free(s);
    return err;
}

/* One key element, every claim read from the token. */
static avow_err add_p11_key(create_ctx *c, const char *option, const char *uri)
{
    if (!cli_is_p11_uri(uri))
        return cli_fail(&c->d, AVOW_ERR_USAGE, option, "\"%s\" is not a pkcs11: URI", uri);
    avow_p11_session *s = NULL;
    avow_err err = p11_open(c, option, uri, 1, &s);
    if (err == AVOW_OK)
        err = avow_p11_add_key_claims_uri(s, uri, c->ev, NULL, &c->d);
    avow_p11_session_free(s);
    return err;
}

/* -attest-key: one key element per URI. */
static avow_err add_p11_keys(create_ctx *c, const cli_args *a)
{
    for (size_t i = 0; i < cli_count(a, "attest-key"); i++) {
        avow_err err = add_p11_key(c, "attest-key", cli_get_n(a, "attest-key", i));
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static avow_err add_chain(create_ctx *c, const cli_args *a)
{
    for (size_t i = 0; i < cli_count(a, "chain"); i++) {
        STACK_OF(X509) *sk = NULL;
        avow_err err = cli_load_certs(cli_get_n(a, "chain", i), &sk, &c->d);
        for (int j = 0; err == AVOW_OK && j < sk_X509_num(sk); j++)
            err = avow_evidence_add_intermediate(c->ev, sk_X509_value(sk, j), &c->d);
        sk_X509_pop_free(sk, X509_free);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* -sid keyid|spki|cert, or several joined by commas ("cert,keyid"): the fields to write. */
static avow_err parse_sid(create_ctx *c, const char *text, unsigned *fields)
{
    *fields = 0;
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        unsigned bit = n == 5 && strncmp(p, "keyid", n) == 0  ? AVOW_SID_HAS_KEYID
                       : n == 4 && strncmp(p, "spki", n) == 0 ? AVOW_SID_HAS_SPKI
                       : n == 4 && strncmp(p, "cert", n) == 0 ? AVOW_SID_HAS_CERT
                                                              : 0;
        if (bit == 0 || (*fields & bit))
            return cli_fail(&c->d, AVOW_ERR_USAGE, "sid",
                            "\"%s\" is not keyid, spki or cert, or a list of them without repeats",
                            text);
        *fields |= bit;
        if (p[n] == '\0')
            return AVOW_OK;
        p += n + 1;
    }
}

static avow_err sign_all(create_ctx *c, const cli_args *a)
{
    const char *sid_text = cli_get(a, "sid");
    for (size_t i = 0; i < c->nsigners; i++) {
        int has_cert = avow_signer_get0_cert(c->signers[i]) != NULL;
        unsigned sid = has_cert ? AVOW_SID_HAS_CERT : AVOW_SID_HAS_SPKI;
        avow_err err = sid_text != NULL ? parse_sid(c, sid_text, &sid) : AVOW_OK;
        if (err == AVOW_OK && (sid & AVOW_SID_HAS_CERT) && !has_cert)
            err =
                cli_fail(&c->d, AVOW_ERR_USAGE, "sid",
                         "-sid cert needs a -signcert for -signkey %s", cli_get_n(a, "signkey", i));
        if (err == AVOW_OK)
            err = avow_evidence_sign_sid(c->ev, c->signers[i], sid, &c->d);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* --- -request: the claims gathered above and the tokens as claim sources --- */

/* The report of what the request asked and was not supplied, on stderr. */
static void print_report(const avow_answer_report *rep, int json)
{
    avow_buf text = {0};
    if (rep == NULL)
        return;
    if (json ? avow_answer_report_to_json(rep, &text) != AVOW_OK
             : avow_answer_report_to_text(rep, &text) != AVOW_OK)
        return;
    if (json) {
        fwrite(text.ptr, 1, text.len, stderr);
    } else {
        /* the library escaped every line; each becomes one "avow: " line */
        for (const char *p = (const char *)text.ptr; *p != '\0';) {
            size_t n = strcspn(p, "\n");
            fprintf(stderr, "avow: %.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
    avow_buf_free(&text);
}

/* A token as a claim source named by its URI without PIN; the session stays open if kept. */
static avow_err add_token_source(create_ctx *c, avow_claim_source *src, const char *option,
                                 const char *uri, int need_login, unsigned flags, int key,
                                 avow_p11_session **kept)
{
    char name[256];
    avow_p11_session *s = NULL;
    if (!cli_is_p11_uri(uri))
        return cli_fail(&c->d, AVOW_ERR_USAGE, option, "\"%s\" is not a pkcs11: URI", uri);
    avow_p11_uri_redact(uri, AVOW_P11_REDACT_PIN_SOURCE, name, sizeof(name));
    avow_err err = p11_open(c, option, uri, need_login, &s);
    if (err == AVOW_OK)
        err = avow_claim_source_add_pkcs11(src, name, s, flags, &uri, key ? 1 : 0, &c->d);
    if (err == AVOW_OK && kept != NULL) {
        *kept = s;
        s = NULL;
    }
    avow_p11_session_free(s);
    return err;
}

/* Whether a pkcs11: URI names an object (object= or id=) rather than a token only. */
static int names_object(create_ctx *c, const char *uri)
{
    avow_buf label = {0}, id = {0};
    int named = avow_p11_uri_get_object(uri, &label, &id, &c->d) == AVOW_OK &&
                (label.len > 0 || id.len > 0);
    avow_buf_free(&label);
    avow_buf_free(&id);
    return named;
}

/*
 * Fills the request from the claims of -claims and the claim options (one
 * source, in c->ev until now), then -pkcs11 (its token's platform unless
 * -platform-from names another, its key if the URI names one, and the keys
 * the request names, looked up in that token), -platform-from and each
 * -attest-key. On success c->ev is the filled Evidence, unsigned.
 */
static avow_err answer_request(create_ctx *c, const cli_args *a, const avow_profile *p)
{
    avow_evidence_request *req = NULL;
    avow_claim_source *src = NULL;
    avow_p11_session *token = NULL;
    avow_answer_report *rep = NULL;
    avow_evidence *ev = NULL;
    const char *p11 = cli_get(a, "pkcs11"), *platform = cli_get(a, "platform-from");
    avow_err err = cli_request_load(cli_get(a, "request"), NULL, p, &req, &c->d);
    if (err == AVOW_OK)
        err = avow_claim_source_new(p, &src);
    if (err == AVOW_OK && avow_evidence_element_count(c->ev) > 0) {
        const char *name = cli_get(a, "claims") != NULL ? cli_get(a, "claims") : "claim options";
        err = avow_claim_source_add0_evidence(src, name, c->ev, &c->d);
        if (err == AVOW_OK)
            c->ev = NULL;
    }
    int keys_asked = 0;
    for (size_t i = 0; req != NULL && i < avow_evidence_request_element_count(req); i++)
        keys_asked |= avow_evidence_request_get0_element(req, i)->kind == AVOW_ELEMENT_KEY;
    if (err == AVOW_OK && p11 != NULL) {
        int key = cli_is_p11_uri(p11) && names_object(c, p11);
        unsigned flags =
            AVOW_SOURCE_P11_FIND_KEYS | (platform == NULL ? AVOW_SOURCE_P11_PLATFORM : 0);
        err = add_token_source(c, src, "pkcs11", p11, key || keys_asked, flags, key, &token);
    }
    if (err == AVOW_OK && platform != NULL)
        err = add_token_source(c, src, "platform-from", platform, 0, AVOW_SOURCE_P11_PLATFORM, 0,
                               NULL);
    for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "attest-key"); i++)
        err = add_token_source(c, src, "attest-key", cli_get_n(a, "attest-key", i), 1, 0, 1, NULL);

    avow_view spkis[MAX_SIGNERS];
    avow_fill_opts fo;
    avow_fill_opts_init(&fo);
    for (size_t i = 0; i < c->nsigners; i++) {
        spkis[i].ptr = c->spkis[i].ptr;
        spkis[i].len = c->spkis[i].len;
    }
    fo.nsigner_spkis = c->nsigners;
    fo.signer_spkis = spkis;
    fo.flags = cli_flag(a, "strict-request") ? AVOW_FILL_STRICT : 0;
    if (err == AVOW_OK)
        err = avow_evidence_fill(req, src, &fo, &ev, &rep, &c->d);
    if (rep != NULL && (cli_flag(a, "json") || avow_answer_report_count(rep) > 0))
        print_report(rep, cli_flag(a, "json"));
    if (err == AVOW_OK) {
        avow_evidence_free(c->ev);
        c->ev = ev;
    }
    avow_answer_report_free(rep);
    avow_claim_source_free(src);
    avow_p11_session_free(token);
    avow_evidence_request_free(req);
    return err;
}

/* -platform-token FILE: the token as read, wrapped by the library (the combined form). */
static avow_err add_platform_token(create_ctx *c, const cli_args *a)
{
    const char *path = cli_get(a, "platform-token");
    if (path == NULL)
        return cli_get(a, "platform-token-type") == NULL
                   ? AVOW_OK
                   : cli_fail(&c->d, AVOW_ERR_USAGE, "platform-token-type",
                              "only with -platform-token");
    avow_buf t = {0};
    avow_err err = cli_read(path, &t, &c->d);
    if (err == AVOW_OK && t.len == 0)
        err = cli_fail(&c->d, AVOW_ERR_EMPTY, "platform-token", "%s is empty", path);
    if (err == AVOW_OK)
        err = avow_evidence_add_platform_token(c->ev, cli_get(a, "platform-token-type"), t.ptr,
                                               t.len, &c->d);
    avow_buf_free(&t);
    return err;
}

int cli_evidence_create(const char *prog, const cli_args *a)
{
    (void)prog;
    create_ctx c;
    memset(&c, 0, sizeof(c));
    avow_profile p;
    cli_form form;
    avow_buf der = {0};
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &c.d);
    if (err == AVOW_OK)
        err = cli_p11_from_args(a, &c.p11, &c.d);
    if (err == AVOW_OK)
        err = cli_evidence_profile(a, &p, &c.d);
    if (err == AVOW_OK && cli_get(a, "sid") != NULL) {
        unsigned sid;
        err = parse_sid(&c, cli_get(a, "sid"), &sid);
    }
    const char *request = cli_get(a, "request");
    /* a request brings its own nonce and asks for ak-spki itself */
    if (err == AVOW_OK && request != NULL && cli_get(a, "nonce") != NULL)
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "nonce", "with -request the nonce is the request's");
    if (err == AVOW_OK && request != NULL && cli_flag(a, "ak-spki"))
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "ak-spki",
                       "with -request, ak-spki is the request's to ask");
    if (err == AVOW_OK && request == NULL && (cli_flag(a, "strict-request") || cli_flag(a, "json")))
        err = cli_fail(&c.d, AVOW_ERR_USAGE, cli_flag(a, "json") ? "json" : "strict-request",
                       "only with -request");
    if (err == AVOW_OK)
        err = load_signers(&c, a);
    if (err == AVOW_OK)
        err = avow_evidence_new(&p, &c.ev);
    if (err == AVOW_OK && cli_get(a, "claims") != NULL)
        err = add_claims_file(&c, cli_get(a, "claims"));
    if (err == AVOW_OK)
        err = add_flag_claims(&c, a);
    if (err == AVOW_OK && request != NULL)
        err = answer_request(&c, a, &p);
    /* -pkcs11 URI: the token's platform (unless -platform-from names another) and the key. */
    const char *p11 = request == NULL ? cli_get(a, "pkcs11") : NULL;
    const char *platform = request != NULL                       ? NULL
                           : cli_get(a, "platform-from") != NULL ? cli_get(a, "platform-from")
                                                                 : p11;
    if (err == AVOW_OK && p11 != NULL && !cli_is_p11_uri(p11))
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "pkcs11", "\"%s\" is not a pkcs11: URI", p11);
    if (err == AVOW_OK && platform != NULL) {
        if (!cli_is_p11_uri(platform))
            err = cli_fail(&c.d, AVOW_ERR_USAGE, "platform-from", "\"%s\" is not a pkcs11: URI",
                           platform);
        else
            err = add_p11_platform(&c, platform);
    }
    if (err == AVOW_OK && p11 != NULL)
        err = add_p11_key(&c, "pkcs11", p11);
    if (err == AVOW_OK && request == NULL)
        err = add_p11_keys(&c, a);
    if (err == AVOW_OK)
        err = add_platform_token(&c, a);
    if (err == AVOW_OK && request == NULL && avow_evidence_element_count(c.ev) == 0)
        err = cli_fail(&c.d, AVOW_ERR_USAGE, "claims",
                       "no claims: give -claims FILE or claim options");
    if (err == AVOW_OK)
        err = add_chain(&c, a);
    if (err == AVOW_OK)
        err = sign_all(&c, a);
    if (err == AVOW_OK)
        err = avow_evidence_encode(c.ev, &der);
    if (err == AVOW_OK)
        err = cli_write(cli_get(a, "out"), der.ptr, der.len, AVOW_EVIDENCE_PEM_LABEL, form, &c.d);
    avow_buf_free(&der);
    avow_evidence_free(c.ev);
    for (size_t i = 0; i < c.nsigners; i++) {
        avow_signer_free(c.signers[i]);
        avow_buf_free(&c.spkis[i]);
    }
    cli_p11_clear(&c.p11);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &c.d);
}
