/*
 * "avow csr": the command table of the group, "show", "nonce", and what
 * create and verify share (a signer from a key file or a pkcs11: URI, hex).
 * The commands only load files and print; requests are read, built,
 * verified and appraised by the library (request.h, appraise.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/avow.h>
#include <avow/nonce.h>
#include <avow/pkcs11.h>
#include <avow/registry.h>
#include <avow/request.h>

#include "cli/cli.h"
#include "cli/csr_cmds.h"
#include "cli/evidence_cmds.h"
#include "cli/p11.h"

/* A session on the token `uri` names, logged in with -pin, -pin-source or the URI's PIN. */
static avow_err p11_session(const cli_args *a, const char *opt, const char *uri,
                            avow_p11_module **mod, avow_p11_session **s, avow_diag *d)
{
    const char *pin_text = cli_get(a, "pin"), *spec = cli_get(a, "pin-source");
    if (pin_text != NULL && spec != NULL)
        return cli_fail(d, AVOW_ERR_USAGE, "pin", "give -pin or -pin-source, not both");
    avow_err err = AVOW_OK;
    if (*mod == NULL) {
        const char *module = cli_p11_module(cli_get(a, "pkcs11-module"));
        if (module == NULL)
            return cli_fail(d, AVOW_ERR_USAGE, "pkcs11-module",
                            "no PKCS#11 module: give -pkcs11-module or set " CLI_P11_ENV_MODULE
                            " (" CLI_P11_DEFAULT_MODULE " is not installed)");
        err = avow_p11_module_load(module, mod, d);
    }
    if (err == AVOW_OK)
        err = avow_p11_session_open(*mod, uri, 0, s, d);
    if (err != AVOW_OK)
        return err;
    avow_buf pin = {0};
    if (pin_text == NULL) {
        err = avow_p11_pin_resolve(uri, spec, &pin, d);
        if (err == AVOW_ERR_NOT_FOUND && spec == NULL)
            err = cli_fail(d, AVOW_ERR_USAGE, opt,
                           "%s needs the token's user PIN: give -pin-source "
                           "env:NAME|file:PATH|pass:TEXT",
                           uri);
        pin_text = (const char *)pin.ptr;
    }
    if (err == AVOW_OK)
        err = avow_p11_login(*s, pin_text, d);
    avow_buf_free(&pin);
    if (err != AVOW_OK) {
        avow_p11_session_free(*s);
        *s = NULL;
    }
    return err;
}

/*
 * A signer for `key`: a private key file, or a pkcs11: URI whose key signs
 * inside the token. *mod is loaded on first use; the caller frees it after
 * the signer.
 */
avow_err cli_csr_signer(const cli_args *a, const char *opt, const char *key, int pss,
                        avow_p11_module **mod, avow_signer **out, avow_diag *d)
{
    avow_sigalg alg = AVOW_SIGALG_NONE;
    EVP_PKEY *pkey = NULL;
    avow_err err;
    if (strncmp(key, "pkcs11:", 7) == 0) {
        avow_p11_session *s = NULL;
        avow_p11_handle h = 0;
        err = p11_session(a, opt, key, mod, &s, d);
        if (err == AVOW_OK)
            err = avow_p11_find_key(s, key, &h, d);
        if (err == AVOW_OK && pss) {
            err = avow_p11_get1_pubkey(s, h, &pkey, d);
            if (err == AVOW_OK && avow_sigalg_for_key(pkey, 1, &alg) != AVOW_OK)
                err = cli_fail(d, AVOW_ERR_UNSUPPORTED, opt, "%s: unsupported key type", key);
        }
        if (err == AVOW_OK)
            err = avow_p11_signer_new(s, h, alg, out, d);
        EVP_PKEY_free(pkey);
        avow_p11_session_free(s); /* the signer keeps its own reference */
        return err;
    }
    err = cli_load_private_key(key, &pkey, d);
    if (err != AVOW_OK)
        return err;
    err = avow_sigalg_for_key(pkey, pss, &alg);
    if (err == AVOW_OK)
        err = avow_signer_new_pkey(pkey, alg, out);
    EVP_PKEY_free(pkey);
    if (err != AVOW_OK)
        return cli_fail(d, err, opt, "%s: cannot sign with this key", key);
    return AVOW_OK;
}

/* -in (PEM or DER, PKCS#10 or CRMF, told apart by the library), decoded strictly. */
avow_err cli_csr_load(const cli_args *a, avow_request **req, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = cli_read(cli_get(a, "in"), &raw, d);
    if (err == AVOW_OK && raw.len > AVOW_REQUEST_MAX_SIZE)
        err = cli_fail(d, AVOW_ERR_TOO_LARGE, "in", "request over %u bytes",
                       (unsigned)AVOW_REQUEST_MAX_SIZE);
    if (err == AVOW_OK)
        err = avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_AUTO, 0, req, d);
    avow_buf_free(&raw);
    return err;
}

/* ---- show ---- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "request to show, PEM or DER (default: stdin)"},
    {"json", CLI_FLAG, NULL, "print JSON instead of text"},
    {"arc", CLI_VALUE, "OID",
     "id-evidence arc (default: $AVOW_EVIDENCE_ARC or " AVOW_DEFAULT_EVIDENCE_ARC ")"},
    {"eku", CLI_VALUE, "OID",
     "attestation-key EKU (default: $AVOW_AK_EKU or " AVOW_DEFAULT_AK_EKU ")"},
    {NULL, CLI_FLAG, NULL, NULL},
};

/* The words `openssl req -verify` prints for a PKCS#10 request. */
static const char *pop_words(const avow_request *r, int ok)
{
    if (avow_request_get_kind(r) == AVOW_REQUEST_PKCS10)
        return ok ? "Certificate request self-signature verify OK"
                  : "Certificate request self-signature verify failure";
    return ok ? "CRMF POPOSigningKey verify OK" : "CRMF POPOSigningKey verify failure";
}

static char *name_text(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b != NULL && X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p = NULL;
        long len = BIO_get_mem_data(b, &p);
        s = OPENSSL_strndup(p, len > 0 ? (size_t)len : 0);
    }
    BIO_free(b);
    return s;
}

/* "EC P-256 (256 bits)", "RSA (2048 bits)", "ED25519 (256 bits)". */
static void key_summary(EVP_PKEY *pk, char *buf, size_t cap)
{
    const char *type = pk != NULL ? EVP_PKEY_get0_type_name(pk) : NULL;
    char group[64] = "";
    size_t glen = 0;
    if (pk != NULL && EVP_PKEY_is_a(pk, "EC") &&
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) == 1) {
        int nid = OBJ_sn2nid(group);
        const char *nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
        if (nist != NULL)
            snprintf(group, sizeof(group), "%s", nist);
    }
    snprintf(buf, cap, "%s%s%s (%d bits)", type != NULL ? type : "unknown", group[0] ? " " : "",
             group, pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
}

/* Registry row name of a statement's type under the profile, "unknown" when none. */
static const char *stmt_name(const avow_profile *p, const avow_statement *st)
{
    const avow_statement_type *row = avow_registry_find(NULL, p, st->type.ptr, st->type.len);
    return row != NULL && row->name != NULL ? row->name : "unknown";
}

/* Name of a type OID request.h knows but no registry row verifies yet; NULL otherwise. */
static const char *known_type(const avow_statement *st)
{
    static const struct {
        const char *oid, *name;
    } known[] = {
        {AVOW_OID_TPM_CERTIFY, "tcg-attest-tpm-certify"},
        {AVOW_OID_CMW, "id-pe-cmw"},
        {AVOW_OID_DICE_CMW, "tcg-dice-conceptual-message-wrapper"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(st->type_text, known[i].oid) == 0)
            return known[i].name;
    return NULL;
}

static int is_evidence(const avow_profile *p, const avow_statement *st)
{
    return strcmp(stmt_name(p, st), "pkix-evidence") == 0;
}

/* Writes text with every line indented. */
static void print_indented(const char *indent, const avow_buf *text)
{
    const char *s = (const char *)text->ptr, *end = s + text->len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
        printf("%s%.*s\n", indent, (int)n, s);
        s += n + (nl != NULL ? 1 : 0);
    }
}

/* "<lead><field>: <detail> (<AVOW_ERR_NAME>)", the field and the detail escaped. */
static void print_decode_error(const char *lead, avow_err err, const avow_diag *d)
{
    const char *msg = d->detail[0] ? d->detail : avow_strerror(err);
    fputs(lead, stdout);
    if (d->field[0]) {
        cli_put_escaped(stdout, d->field, strlen(d->field), 0);
        fputs(": ", stdout);
    }
    cli_put_escaped(stdout, msg, strlen(msg), 0);
    printf(" (%s)\n", avow_errname(err) != NULL ? avow_errname(err) : "?");
}

static void show_text(const avow_request *r, const avow_profile *p)
{
    avow_buf subj = {0};
    char key[128];
    const char *ver = avow_bundle_version_name(avow_request_get_version(r));
    const char *pop_detail = NULL;
    int pop_ok = avow_request_pop(r, &pop_detail) == AVOW_OK;
    key_summary(avow_request_get0_pubkey(r), key, sizeof(key));
    printf("Request: %s (%lu bytes)\n", avow_request_kind_name(avow_request_get_kind(r)),
           (unsigned long)avow_request_der(r).len);
    printf("Attestation bundle: %s\n", ver != NULL ? ver : "none");
    if (avow_request_subject_text(r, &subj) == AVOW_OK && subj.len > 0) {
        fputs("Subject: ", stdout);
        cli_put_escaped(stdout, subj.ptr, subj.len, 0);
        putchar('\n');
    } else {
        puts(subj.ptr != NULL ? "Subject: (empty)" : "Subject: (none)");
    }
    avow_buf_free(&subj);
    printf("Public key: %s\n", key);

    size_t n = avow_request_statement_count(r);
    printf("Statements (%lu):\n", (unsigned long)n);
    for (size_t i = 0; i < n; i++) {
        const avow_statement *st = avow_request_get0_statement(r, i);
        const char *known = known_type(st);
        if (strcmp(stmt_name(p, st), "unknown") == 0 && known != NULL)
            printf("  [%lu] type %s (%s, no verifier), %lu bytes", (unsigned long)i, st->type_text,
                   known, (unsigned long)st->der.len);
        else
            printf("  [%lu] type %s (%s), %lu bytes", (unsigned long)i, st->type_text,
                   stmt_name(p, st), (unsigned long)st->der.len);
        if (st->bundle > 0)
            printf(", bundle %lu", (unsigned long)st->bundle);
        putchar('\n');
        if (st->hint.len > 0) {
            /* The hint is the requester's text, NULs and escapes included. */
            fputs("      hint: ", stdout);
            cli_put_escaped(stdout, st->hint.ptr, st->hint.len > 200 ? 200 : st->hint.len, 0);
            if (st->hint.len > 200)
                printf("... (%lu bytes)", (unsigned long)st->hint.len);
            putchar('\n');
        }
        if (!is_evidence(p, st))
            continue;
        avow_evidence *ev = NULL;
        avow_buf text = {0};
        avow_diag d;
        avow_diag_clear(&d);
        avow_err err = avow_evidence_decode(st->der.ptr, st->der.len, p, 0, &ev, &d);
        if (err == AVOW_OK)
            err = avow_evidence_to_text(ev, &text);
        if (err == AVOW_OK)
            print_indented("      ", &text);
        else
            print_decode_error("      Evidence does not decode: ", err, &d);
        avow_buf_free(&text);
        avow_evidence_free(ev);
    }

    STACK_OF(X509) *certs = avow_request_get0_certs(r);
    size_t nother = avow_request_other_cert_count(r);
    printf("Certificates (%d):\n", certs != NULL ? sk_X509_num(certs) : 0);
    for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        char *s = name_text(X509_get_subject_name(x)), *is = name_text(X509_get_issuer_name(x));
        printf("  [%d] subject: ", i);
        cli_put_escaped(stdout, s != NULL ? s : "?", s != NULL ? strlen(s) : 1, 0);
        fputs("\n      issuer:  ", stdout);
        cli_put_escaped(stdout, is != NULL ? is : "?", is != NULL ? strlen(is) : 1, 0);
        putchar('\n');
        OPENSSL_free(s);
        OPENSSL_free(is);
    }
    for (size_t i = 0; i < nother; i++) {
        const avow_other_cert *oc = avow_request_get0_other_cert(r, i);
        char oid[128];
        avow_oid_to_text(oc->format.ptr, oc->format.len, oid, sizeof(oid));
        printf("  other [%lu]: format %s, %lu bytes\n", (unsigned long)i, oid,
               (unsigned long)oc->der.len);
    }
    printf("Proof of possession: %s\n", pop_words(r, pop_ok));
    if (!pop_ok && pop_detail != NULL && pop_detail[0] != '\0') {
        fputs("    reason: ", stdout);
        cli_put_escaped(stdout, pop_detail, strlen(pop_detail), 0);
        putchar('\n');
    }
}

static json_t *hex_json(avow_view v)
{
    static const char digits[] = "0123456789abcdef";
    char *h = OPENSSL_malloc(v.len * 2 + 1);
    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < v.len; i++) {
        h[2 * i] = digits[v.ptr[i] >> 4];
        h[2 * i + 1] = digits[v.ptr[i] & 15];
    }
    h[v.len * 2] = '\0';
    json_t *s = json_string(h);
    OPENSSL_free(h);
    return s;
}

/* Adds key = value, taking the reference; remembers a failure in *ok. */
static void put(json_t *o, const char *key, json_t *value, int *ok)
{
    if (value == NULL || json_object_set_new(o, key, value) != 0)
        *ok = 0;
}

/*
 * key = the text as a JSON string, or, when it is not UTF-8 (a requester's
 * hint may be any bytes), key_hex = its bytes in hex: JSON cannot carry it,
 * and refusing the whole document would hide everything else.
 */
static void put_text(json_t *o, const char *key, const void *text, size_t len, int *ok)
{
    json_t *j = json_stringn(text, len);
    if (j != NULL) {
        put(o, key, j, ok);
        return;
    }
    char hexkey[32];
    snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
    avow_view v = {text, len};
    put(o, hexkey, hex_json(v), ok);
}

static json_t *statement_json(const avow_profile *p, const avow_statement *st, int *ok)
{
    json_t *o = json_object();
    if (o == NULL) {
        *ok = 0;
        return NULL;
    }
    put(o, "type", json_string(st->type_text), ok);
    put(o, "name", json_string(stmt_name(p, st)), ok);
    if (known_type(st) != NULL)
        put(o, "oid_name", json_string(known_type(st)), ok);
    put(o, "size", json_integer((json_int_t)st->der.len), ok);
    put(o, "bundle", json_integer((json_int_t)st->bundle), ok);
    if (st->hint.len > 0)
        put_text(o, "hint", st->hint.ptr, st->hint.len, ok);
    if (!is_evidence(p, st)) {
        put(o, st->octets.len > 0 ? "octets_hex" : "der_hex",
            hex_json(st->octets.len > 0 ? st->octets : st->der), ok);
        return o;
    }
    avow_evidence *ev = NULL;
    avow_buf text = {0};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err = avow_evidence_decode(st->der.ptr, st->der.len, p, 0, &ev, &d);
    if (err == AVOW_OK)
        err = avow_evidence_to_json(ev, &text);
    json_t *evj = err == AVOW_OK ? json_loadb((const char *)text.ptr, text.len, 0, NULL) : NULL;
    if (evj != NULL)
        put(o, "evidence", evj, ok);
    else
        put(o, "evidence_error",
            json_pack("{s:s,s:s,s:s}", "code", avow_errname(err) ? avow_errname(err) : "?", "field",
                      d.field, "detail", d.detail[0] ? d.detail : avow_strerror(err)),
            ok);
    avow_buf_free(&text);
    avow_evidence_free(ev);
    return o;
}

static json_t *show_json(const avow_request *r, const avow_profile *p)
{
    int ok = 1;
    json_t *o = json_object(), *stmts = json_array(), *certs = json_array();
    avow_buf subj = {0};
    char key[128];
    const char *ver = avow_bundle_version_name(avow_request_get_version(r));
    const char *pop_detail = NULL;
    int pop_ok = avow_request_pop(r, &pop_detail) == AVOW_OK;
    if (o == NULL || stmts == NULL || certs == NULL) {
        json_decref(o);
        json_decref(stmts);
        json_decref(certs);
        return NULL;
    }
    key_summary(avow_request_get0_pubkey(r), key, sizeof(key));
    put(o, "kind", json_string(avow_request_kind_name(avow_request_get_kind(r))), &ok);
    put(o, "bundle_version", ver != NULL ? json_string(ver) : json_null(), &ok);
    if (avow_request_subject_text(r, &subj) == AVOW_OK)
        put_text(o, "subject", subj.ptr, subj.len, &ok);
    else
        put(o, "subject", json_null(), &ok);
    avow_buf_free(&subj);
    put(o, "public_key", json_string(key), &ok);
    put(o, "spki_hex", hex_json(avow_request_spki(r)), &ok);
    for (size_t i = 0; i < avow_request_statement_count(r); i++) {
        json_t *s = statement_json(p, avow_request_get0_statement(r, i), &ok);
        if (s == NULL || json_array_append_new(stmts, s) != 0)
            ok = 0;
    }
    put(o, "statements", stmts, &ok);
    STACK_OF(X509) *sk = avow_request_get0_certs(r);
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        char *s = name_text(X509_get_subject_name(x)), *is = name_text(X509_get_issuer_name(x));
        json_t *c = json_object();
        if (c == NULL)
            ok = 0;
        else {
            put_text(c, "subject", s != NULL ? s : "?", s != NULL ? strlen(s) : 1, &ok);
            put_text(c, "issuer", is != NULL ? is : "?", is != NULL ? strlen(is) : 1, &ok);
        }
        OPENSSL_free(s);
        OPENSSL_free(is);
        if (c == NULL || json_array_append_new(certs, c) != 0)
            ok = 0;
    }
    put(o, "certs", certs, &ok);
    put(o, "other_certs", json_integer((json_int_t)avow_request_other_cert_count(r)), &ok);
    json_t *pop = json_pack("{s:b,s:s}", "ok", pop_ok, "text", pop_words(r, pop_ok));
    if (pop != NULL && !pop_ok && pop_detail != NULL)
        put(pop, "detail", json_string(pop_detail), &ok);
    put(o, "pop", pop, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int run_show(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_profile p;
    avow_request *r = NULL;
    avow_diag_clear(&d);
    avow_err err = cli_evidence_profile(a, &p, &d);
    if (err == AVOW_OK)
        err = cli_csr_load(a, &r, &d);
    if (err == AVOW_OK && cli_flag(a, "json")) {
        json_t *o = show_json(r, &p);
        char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (s == NULL)
            err = cli_fail(&d, AVOW_ERR_NOMEM, "", "out of memory");
        else
            puts(s);
        free(s);
        json_decref(o);
    } else if (err == AVOW_OK) {
        show_text(r, &p);
    }
    if (err == AVOW_OK && fflush(stdout) != 0)
        err = cli_fail(&d, AVOW_ERR_IO, "stdout", "write failed");
    avow_request_free(r);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* ---- nonce ---- */

static const cli_opt nonce_opts[] = {
    {"nonce-db", CLI_VALUE, "FILE", "SQLite nonce store (created when missing)"},
    {"len", CLI_VALUE, "N", "nonce length in bytes, 16..64 (default 32)"},
    {"ttl", CLI_VALUE, "SECONDS", "validity (default 300)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err parse_uint(const char *field, const char *text, unsigned long max,
                           unsigned long *out, avow_diag *d)
{
    char *end = NULL;
    unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
    if (end == NULL || *end != '\0' || v > max)
        return cli_fail(d, AVOW_ERR_USAGE, field, "\"%s\" is not a number up to %lu", text, max);
    *out = v;
    return AVOW_OK;
}

/* Issues a nonce into the store and prints it as hex: what an attester puts in its Evidence. */
static int run_nonce(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    unsigned long len = 0, ttl = 0;
    const char *db = cli_get(a, "nonce-db");
    if (db == NULL)
        return cli_usage_error(prog, "-nonce-db FILE is required");
    avow_err err = AVOW_OK;
    if (cli_get(a, "len") != NULL)
        err = parse_uint("len", cli_get(a, "len"), AVOW_NONCE_MAX_LEN, &len, &d);
    if (err == AVOW_OK && cli_get(a, "ttl") != NULL)
        err = parse_uint("ttl", cli_get(a, "ttl"), 10u * 365u * 86400u, &ttl, &d);
    avow_nonce_store *s = NULL;
    avow_buf nonce = {0};
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(db, &s, &d);
    if (err == AVOW_OK)
        err = avow_nonce_issue(s, (size_t)len, (unsigned)ttl, 0, &nonce, &d);
    if (err == AVOW_OK) {
        for (size_t i = 0; i < nonce.len; i++)
            printf("%02x", nonce.ptr[i]);
        putchar('\n');
    }
    avow_buf_free(&nonce);
    avow_nonce_store_free(s);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"create", "Build an attested certificate request (PKCS#10 or CRMF) and sign it.",
     "-key KEY|pkcs11:URI -subject NAME -evidence FILE... [options]", cli_csr_create_opts, 0,
     cli_csr_create},
    {"show", "Print an attested request: subject, key, statements, certificates, POP.",
     "[-in FILE] [-json]", show_opts, 0, run_show},
    {"verify", "Appraise an attested request and print the EAR; exit status by its tier.",
     "-in FILE -CAfile ANCHORS [options]", cli_csr_verify_opts, 0, cli_csr_verify},
    {"nonce", "Issue a nonce into a nonce store and print it as hex.",
     "-nonce-db FILE [-len N] [-ttl SECONDS]", nonce_opts, 0, run_nonce},
};

int cli_group_csr(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "Create, show and verify attested certificate requests "
                         "(draft-ietf-lamps-csr-attestation).",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
