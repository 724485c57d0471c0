/*
 * An attested request as text (`avow csr show`) or JSON: its subject, key
 * and bundle, then every statement through its registry row.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/cmw.h>
#include <avow/evidence.h>
#include <avow/kat.h>
#include <avow/request_verify.h>
#include <avow/sigalg.h>
#include <avow/x509.h>

#include "core/der.h"
#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "verifier/registry_int.h"
#include "verifier/show_int.h"
#include "verifier/verify_int.h"

/* The words `openssl req -verify` prints for a PKCS#10 request. */
static const char *pop_words(const avow_request *r, int ok)
{
    if (avow_request_get_kind(r) == AVOW_REQUEST_PKCS10)
        return ok ? "Certificate request self-signature verify OK"
                  : "Certificate request self-signature verify failure";
    return ok ? "CRMF POPOSigningKey verify OK" : "CRMF POPOSigningKey verify failure";
}

/* RFC 4514, most specific first: the order `-subject` is written in. */
static char *name_text(const X509_NAME *n)
{
    avow_buf t = {0};
    if (avow_name_text(n, &t) != AVOW_OK)
        return NULL;
    return (char *)t.ptr;
}

/* One requested subjectAltName as "KIND:value" (OPENSSL_free). */
static char *one_san(const GENERAL_NAME *gn)
{
    GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
    avow_buf t = {0};
    if (one != NULL && sk_GENERAL_NAME_push(one, (GENERAL_NAME *)gn) > 0)
        (void)avow_san_text(one, &t);
    sk_GENERAL_NAME_free(one);
    return (char *)t.ptr;
}

static void sans_text(BIO *b, const avow_request *r)
{
    GENERAL_NAMES *names = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    if (avow_request_get1_sans(r, &names, &d) != AVOW_OK) {
        BIO_puts(b, "Subject alternative names: (unreadable) ");
        avow__escape_bio(b, (const uint8_t *)d.field, strlen(d.field), 0);
        BIO_puts(b, ": ");
        avow__escape_bio(b, (const uint8_t *)d.detail, strlen(d.detail), 0);
        BIO_puts(b, "\n");
        return;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        char *t = one_san(sk_GENERAL_NAME_value(names, i));
        BIO_puts(b, i == 0 ? "Subject alternative names: " : ", ");
        if (t != NULL)
            avow__escape_bio(b, (const uint8_t *)t, strlen(t), 0);
        OPENSSL_free(t);
    }
    if (names != NULL)
        BIO_puts(b, "\n");
    GENERAL_NAMES_free(names);
}

/* "EC P-256 (256 bits)", "RSA (2048 bits)", "ED25519 (256 bits)", "ML-DSA-65". */
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
    avow_sigalg alg = AVOW_SIGALG_NONE;
    const avow_sigalg_desc *row =
        pk != NULL && avow_sigalg_for_key(pk, 0, &alg) == AVOW_OK ? avow_sigalg_info(alg) : NULL;
    if (row != NULL && row->key_type != NULL) /* "ML-DSA-65": its bits are the key's size */
        snprintf(buf, cap, "%s", row->key_type);
    else
        snprintf(buf, cap, "%s%s%s (%d bits)", type != NULL ? type : "unknown", group[0] ? " " : "",
                 group, pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
}

/* The row that names a statement's type ("pkix-evidence"), or "unknown". */
static const char *row_name(const avow_registry *reg, const avow_profile *p,
                            const avow_statement *st, int *verifiable)
{
    const avow_statement_type *row = avow_registry_find(reg, p, st->type.ptr, st->type.len);
    *verifiable = row != NULL && row->verify != NULL;
    return row != NULL ? row->name : "unknown";
}

/* Untrusted text (a C string) escaped into b. */
static void put_escaped(BIO *b, const char *s)
{
    avow__escape_bio(b, (const uint8_t *)s, strlen(s), 0);
}

/* The hint is the requester's text, NULs and escapes included. */
static void print_hint(BIO *b, avow_view hint)
{
    BIO_puts(b, "      hint: ");
    avow__escape_bio(b, hint.ptr, hint.len > 200 ? 200 : hint.len, 0);
    if (hint.len > 200)
        BIO_printf(b, "... (%lu bytes)", (unsigned long)hint.len);
    BIO_puts(b, "\n");
}

static void print_indented(BIO *b, const char *indent, const avow_buf *text)
{
    const char *s = (const char *)text->ptr, *end = s + text->len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
        BIO_printf(b, "%s%.*s\n", indent, (int)n, s);
        s += n + (nl != NULL ? 1 : 0);
    }
}

/*
 * The k-th statement nested in a decoded one (the combined form), its
 * signatures unchecked: show displays what the verifier would check.
 */
static int nested_of(const avow_statement_type *row, const void *native, size_t k,
                     avow_nested_stmt *out)
{
    memset(out, 0, sizeof(*out));
    if (row == NULL || native == NULL || row->nested == NULL || row->native_name == NULL ||
        strcmp(row->native_name, "avow_evidence") != 0 || k >= AVOW_NESTED_MAX_PER_STATEMENT)
        return 0;
    return avow__pkix_nested_unchecked(native, k, out);
}

/* A nested CMW's media type (OPENSSL_free), NULL when it is no CMW or names a content-format. */
static char *nested_media(avow_view stmt)
{
    uint8_t tag = 0;
    size_t h = 0, body = 0;
    avow_cmw *cmw = NULL;
    char *t = NULL;
    if (avow__der_header(stmt.ptr, stmt.len, &tag, &h, &body) == AVOW_OK && h + body == stmt.len &&
        (tag == 0x04 || tag == 0x0c) &&
        avow_cmw_decode(stmt.ptr + h, body, AVOW_CMW_FORM_AUTO, &cmw, NULL) == AVOW_OK &&
        cmw->type != NULL)
        t = OPENSSL_strdup(cmw->type);
    avow_cmw_free(cmw);
    avow__ossl_clear();
    return t;
}

/* Decodes st through its row for its nested statements; *native NULL when it does not decode. */
static const avow_statement_type *decode_outer(const avow_registry *reg, const avow_profile *p,
                                               const avow_statement *st, void **native)
{
    const avow_statement_type *row = avow_registry_find(reg, p, st->type.ptr, st->type.len);
    *native = NULL;
    if (row == NULL || row->nested == NULL || row->decode == NULL)
        return NULL;
    if (row->decode(row, p, st->der.ptr, st->der.len, native, NULL) != AVOW_OK) {
        if (row->free != NULL && *native != NULL)
            row->free(row, *native, NULL);
        *native = NULL;
        return NULL;
    }
    return row;
}

/* The platform tokens nested in st, each through its own row's show (its decode error when bad). */
static void nested_text(BIO *b, const avow_registry *reg, const avow_profile *p,
                        const avow_statement *st)
{
    void *native = NULL;
    const avow_statement_type *row = decode_outer(reg, p, st, &native);
    avow_nested_stmt ns;
    for (size_t k = 0; nested_of(row, native, k, &ns); k++) {
        char *mt = nested_media(ns.stmt);
        BIO_printf(b, "      nested platform token [%lu] at %s: %lu bytes, media type ",
                   (unsigned long)k, ns.field, (unsigned long)ns.stmt.len);
        if (mt != NULL) {
            BIO_puts(b, "\"");
            avow__escape_bio(b, (const uint8_t *)mt, strlen(mt), AVOW_ESCAPE_QUOTED);
            BIO_puts(b, "\"\n");
        } else {
            BIO_puts(b, "(none: not a CMW with a media type)\n");
        }
        OPENSSL_free(mt);
        avow_buf text = {0};
        if (avow__statement_show_text(reg, p, ns.type.der, ns.type.len, ns.stmt.ptr, ns.stmt.len,
                                      &text) == AVOW_OK)
            print_indented(b, "        ", &text);
        avow_buf_free(&text);
    }
    if (row != NULL && row->free != NULL && native != NULL)
        row->free(row, native, NULL);
}

static json_t *nested_json(const avow_registry *reg, const avow_profile *p,
                           const avow_statement *st, int *bad)
{
    void *native = NULL;
    const avow_statement_type *row = decode_outer(reg, p, st, &native);
    avow_nested_stmt ns;
    json_t *a = NULL;
    for (size_t k = 0; nested_of(row, native, k, &ns); k++) {
        char *mt = nested_media(ns.stmt);
        char oid[128];
        avow_oid_to_text(ns.type.der, ns.type.len, oid, sizeof(oid));
        const avow_statement_type *in = avow_registry_find(reg, p, ns.type.der, ns.type.len);
        json_t *o = json_object();
        if (a == NULL)
            a = json_array();
        avow__json_put(o, "field", json_string(ns.field), bad);
        avow__json_put(o, "type", json_string(oid), bad);
        avow__json_put(o, "name", json_string(in != NULL ? in->name : "unknown"), bad);
        avow__json_put(o, "size", json_integer((json_int_t)ns.stmt.len), bad);
        avow__json_put(o, "media_type", mt != NULL ? avow__json_text(mt) : json_null(), bad);
        OPENSSL_free(mt);
        if (o != NULL && avow__statement_show_json(reg, p, ns.type.der, ns.type.len, ns.stmt.ptr,
                                                   ns.stmt.len, o) != AVOW_OK)
            *bad = 1;
        if (a == NULL || o == NULL || json_array_append_new(a, o) != 0)
            *bad = 1;
    }
    if (row != NULL && row->free != NULL && native != NULL)
        row->free(row, native, NULL);
    return a;
}

static void statements_text(BIO *b, const avow_request *r, const avow_registry *reg,
                            const avow_profile *p)
{
    size_t n = avow_request_statement_count(r);
    BIO_printf(b, "Statements (%lu):\n", (unsigned long)n);
    for (size_t i = 0; i < n; i++) {
        const avow_statement *st = avow_request_get0_statement(r, i);
        int verifiable = 0;
        const char *name = row_name(reg, p, st, &verifiable);
        BIO_printf(b, "  [%lu] type %s (%s%s), %lu bytes", (unsigned long)i, st->type_text, name,
                   verifiable || strcmp(name, "unknown") == 0 ? "" : ", no verifier",
                   (unsigned long)st->der.len);
        if (st->bundle > 0)
            BIO_printf(b, ", bundle %lu", (unsigned long)st->bundle);
        BIO_puts(b, "\n");
        if (st->hint.len > 0)
            print_hint(b, st->hint);
        avow_buf text = {0};
        if (avow__statement_show_text(reg, p, st->type.ptr, st->type.len, st->der.ptr, st->der.len,
                                      &text) == AVOW_OK)
            print_indented(b, "      ", &text);
        avow_buf_free(&text);
        nested_text(b, reg, p, st);
    }
}

/*
 * The links the verifier's second pass would look for (docs/kat.md), read
 * from the decoded statements without checking a signature: which platform
 * token's nonce is the hash of which statement's signer (a KAT's kak-pub, the
 * certificate key of a PKIX Evidence signature) or of a key it attests. What
 * `avow csr verify` then confirms or refuses.
 */
typedef struct shown {
    const avow_statement_type *row;
    void *native;
    avow_claimset claims;
    avow_view nonce;     /* a 32/48/64-byte nonce claim, else empty */
    avow_view any_nonce; /* the nonce claim whatever its length (a nested token answers it) */
} shown;

typedef struct claimed_link {
    size_t platform, binds;
    int signer; /* 1: the signer (a link); 0: a key the statement attests (the wrong key) */
    const char *form;
    char where[48]; /* a PKIX signer's certificate: "sid.certificate", "certs[K]", ... */
} claimed_link;

/* A platform token nested in statement `outer` and how the verifier would bind it. */
typedef struct nested_link {
    size_t outer;
    char field[96];
    const char *name; /* the nested statement's row */
    const char *by;   /* "nonce", "signer", or NULL: neither (or it does not decode) */
    const char *hash, *form;
    char where[48];
    avow_err decode_rc;
} nested_link;

static avow_view nonce_of(const avow_claimset *cs)
{
    avow_view none = {NULL, 0};
    const avow_nclaim *c = avow_claimset_find_role(cs, AVOW_ROLE_NONCE, NULL);
    if (c != NULL && c->value.present && c->value.type == AVOW_CV_BYTES && c->value.bytes.len > 0)
        return c->value.bytes;
    return none;
}

static size_t decode_all(const avow_request *r, const avow_registry *reg, const avow_profile *p,
                         shown *s)
{
    size_t n = avow_request_statement_count(r);
    if (n > AVOW_REQUEST_MAX_STATEMENTS)
        n = AVOW_REQUEST_MAX_STATEMENTS;
    for (size_t i = 0; i < n; i++) {
        const avow_statement *st = avow_request_get0_statement(r, i);
        memset(&s[i], 0, sizeof(s[i]));
        const avow_statement_type *row = avow_registry_find(reg, p, st->type.ptr, st->type.len);
        if (row == NULL || row->decode == NULL ||
            row->decode(row, p, st->der.ptr, st->der.len, &s[i].native, NULL) != AVOW_OK) {
            if (row != NULL && row->free != NULL && s[i].native != NULL)
                row->free(row, s[i].native, NULL);
            s[i].native = NULL;
            continue;
        }
        s[i].row = row;
        if (row->to_claims == NULL ||
            row->to_claims(row, s[i].native, NULL, &s[i].claims) != AVOW_OK)
            continue;
        s[i].any_nonce = nonce_of(&s[i].claims);
        size_t nl = s[i].any_nonce.len;
        if (nl == 32 || nl == 48 || nl == 64)
            s[i].nonce = s[i].any_nonce;
    }
    return n;
}

static void free_all(shown *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        avow_claimset_clear(&s[i].claims);
        if (s[i].row != NULL && s[i].row->free != NULL)
            s[i].row->free(s[i].row, s[i].native, NULL);
    }
}

/*
 * The j-th key statement k offers before verification: its row's, then
 * PKIX signers' certificates, found by their SignerIdentifier as the
 * verifier finds them (the Evidence's own, or the request's bundle, certs).
 * *where names a PKIX signer's certificate ("" otherwise).
 */
static int claimed_key(const shown *k, STACK_OF(X509) * certs, size_t j, avow_link_key *out,
                       char *where, size_t where_cap)
{
    size_t m = 0;
    where[0] = '\0';
    while (k->row->link_keys != NULL && k->row->link_keys(k->row, k->native, NULL, m, out)) {
        if (m++ == j)
            return 1;
    }
    if (k->row->native_name == NULL || strcmp(k->row->native_name, "avow_evidence") != 0)
        return 0;
    const avow_evidence *ev = k->native;
    for (size_t i = 0; i < avow_evidence_signature_count(ev); i++) {
        X509 *cert = avow__evidence_signer_cert_in(ev, i, certs, where, where_cap);
        EVP_PKEY *pk = cert != NULL ? X509_get0_pubkey(cert) : NULL;
        if (pk == NULL || m++ != j)
            continue;
        memset(out, 0, sizeof(*out));
        out->role = AVOW_LINK_SIGNER;
        out->key = pk;
        out->form = "spki";
        return 1;
    }
    where[0] = '\0';
    return 0;
}

static size_t claimed_links(const shown *s, size_t n, STACK_OF(X509) * certs, claimed_link *out,
                            size_t cap)
{
    size_t nl = 0;
    for (size_t pi = 0; pi < n && nl < cap; pi++) {
        if (s[pi].nonce.len == 0)
            continue;
        for (size_t ki = 0; ki < n && nl < cap; ki++) {
            avow_link_key key;
            char where[48];
            if (ki == pi || s[ki].row == NULL)
                continue;
            for (size_t j = 0; claimed_key(&s[ki], certs, j, &key, where, sizeof(where)); j++) {
                if (!avow__link_binds(s[pi].nonce, &key))
                    continue;
                out[nl] = (claimed_link){pi, ki, key.role == AVOW_LINK_SIGNER, key.form, ""};
                avow__strlcpy(out[nl++].where, where, sizeof(out[0].where));
                break;
            }
        }
    }
    return nl;
}

/*
 * How a nested statement would bind its outer one (statement.c,
 * check_nested): its nonce is the outer nonce (the default), or the hash
 * of a signer's key (-nested-by-signer); read without checking a signature.
 */
static void nested_binding(const avow_registry *reg, const avow_profile *p, const shown *o,
                           STACK_OF(X509) * certs, const avow_nested_stmt *ns, nested_link *out)
{
    const avow_statement_type *row = avow_registry_find(reg, p, ns->type.der, ns->type.len);
    void *native = NULL;
    avow_claimset cs;
    memset(&cs, 0, sizeof(cs));
    out->name = row != NULL ? row->name : "unknown";
    out->decode_rc = AVOW_ERR_STATEMENT_TYPE;
    if (row == NULL || row->decode == NULL || row->to_claims == NULL)
        return;
    out->decode_rc = row->decode(row, p, ns->stmt.ptr, ns->stmt.len, &native, NULL);
    if (out->decode_rc == AVOW_OK && row->to_claims(row, native, NULL, &cs) == AVOW_OK) {
        avow_view in = nonce_of(&cs);
        avow_link_key key;
        char where[48];
        if (in.len > 0 && in.len == o->any_nonce.len &&
            CRYPTO_memcmp(in.ptr, o->any_nonce.ptr, in.len) == 0) {
            out->by = "nonce";
        } else if (in.len == 32 || in.len == 48 || in.len == 64) {
            for (size_t j = 0; claimed_key(o, certs, j, &key, where, sizeof(where)); j++)
                if (key.role == AVOW_LINK_SIGNER && avow__link_binds(in, &key)) {
                    out->by = "signer";
                    out->hash = avow__link_hash_name(in.len);
                    out->form = key.form;
                    avow__strlcpy(out->where, where, sizeof(out->where));
                    break;
                }
        }
    }
    avow_claimset_clear(&cs);
    if (row->free != NULL && native != NULL)
        row->free(row, native, NULL);
}

static size_t nested_links(const avow_registry *reg, const avow_profile *p, const shown *s,
                           size_t n, STACK_OF(X509) * certs, nested_link *out, size_t cap)
{
    size_t nl = 0;
    for (size_t i = 0; i < n && nl < cap; i++) {
        avow_nested_stmt ns;
        for (size_t k = 0; nl < cap && nested_of(s[i].row, s[i].native, k, &ns); k++) {
            memset(&out[nl], 0, sizeof(out[nl]));
            out[nl].outer = i;
            avow__strlcpy(out[nl].field, ns.field, sizeof(out[nl].field));
            nested_binding(reg, p, &s[i], certs, &ns, &out[nl]);
            nl++;
        }
    }
    return nl;
}

/* "nested, bound by nonce", "nested, bound by signer", or what stops it binding. */
static const char *nested_words(const nested_link *l)
{
    if (l->decode_rc != AVOW_OK)
        return "nested, does not decode (not bound)";
    if (l->by == NULL)
        return "nested, bound by neither nonce nor signer";
    return strcmp(l->by, "nonce") == 0 ? "nested, bound by nonce" : "nested, bound by signer";
}

static void links_text(BIO *b, const avow_request *r, const avow_registry *reg,
                       const avow_profile *p)
{
    shown s[AVOW_REQUEST_MAX_STATEMENTS];
    claimed_link l[AVOW_REQUEST_MAX_STATEMENTS];
    nested_link nls[AVOW_REQUEST_MAX_STATEMENTS];
    STACK_OF(X509) *certs = avow_request_get0_certs(r);
    size_t n = decode_all(r, reg, p, s);
    size_t nl = claimed_links(s, n, certs, l, AVOW_REQUEST_MAX_STATEMENTS);
    size_t nn = nested_links(reg, p, s, n, certs, nls, AVOW_REQUEST_MAX_STATEMENTS);
    if (nl + nn > 0)
        BIO_puts(b, "Links (a platform token's nonce is the hash of a key, or a nested token's "
                    "the nonce or signer of its statement; signatures not checked, csr verify "
                    "checks them):\n");
    for (size_t i = 0; i < nn; i++) {
        const nested_link *x = &nls[i];
        BIO_printf(b, "  [%lu] %s nests %s at %s: %s", (unsigned long)x->outer,
                   s[x->outer].row->name, x->name, x->field, nested_words(x));
        if (x->decode_rc != AVOW_OK)
            BIO_printf(b, " (%s)",
                       avow_errname(x->decode_rc) != NULL ? avow_errname(x->decode_rc) : "?");
        else if (x->by != NULL && strcmp(x->by, "signer") == 0)
            BIO_printf(b, ": nonce = %s(signer %s%s%s)", x->hash, x->form, x->where[0] ? ", " : "",
                       x->where);
        else if (x->by != NULL)
            BIO_puts(b, ": nonce = the outer nonce");
        BIO_puts(b, "\n");
    }
    for (size_t i = 0; i < nl; i++) {
        const shown *pt = &s[l[i].platform], *kt = &s[l[i].binds];
        const char *h = avow__link_hash_name(pt->nonce.len);
        /* a signer found in the request's bundle, not the Evidence, is named */
        int bundle = strncmp(l[i].where, "certs[", 6) == 0;
        if (l[i].signer)
            BIO_printf(b, "  [%lu] %s binds [%lu] %s: nonce = %s(%s %s)%s%s\n",
                       (unsigned long)l[i].platform, pt->row->name, (unsigned long)l[i].binds,
                       kt->row->name, h, strcmp(l[i].form, "cose-key") == 0 ? "kak" : "signer",
                       l[i].form, bundle ? ", signer certificate: the request's " : "",
                       bundle ? l[i].where : "");
        else
            BIO_printf(b,
                       "  [%lu] %s: nonce = %s(%s) of a key [%lu] %s attests, not of its "
                       "signer (the wrong key)\n",
                       (unsigned long)l[i].platform, pt->row->name, h, l[i].form,
                       (unsigned long)l[i].binds, kt->row->name);
    }
    free_all(s, n);
}

static json_t *links_json(const avow_request *r, const avow_registry *reg, const avow_profile *p,
                          int *bad)
{
    shown s[AVOW_REQUEST_MAX_STATEMENTS];
    claimed_link l[AVOW_REQUEST_MAX_STATEMENTS];
    nested_link nls[AVOW_REQUEST_MAX_STATEMENTS];
    STACK_OF(X509) *certs = avow_request_get0_certs(r);
    size_t n = decode_all(r, reg, p, s);
    size_t nl = claimed_links(s, n, certs, l, AVOW_REQUEST_MAX_STATEMENTS);
    size_t nn = nested_links(reg, p, s, n, certs, nls, AVOW_REQUEST_MAX_STATEMENTS);
    json_t *a = nl + nn > 0 ? json_array() : NULL;
    for (size_t i = 0; i < nn; i++) {
        const nested_link *x = &nls[i];
        json_t *j =
            json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s}", "platform", (json_int_t)x->outer,
                      "platform_name", x->name, "binds", (json_int_t)x->outer, "binds_name",
                      s[x->outer].row->name, "nested", x->field, "binding", nested_words(x), "key",
                      x->by == NULL                 ? "none"
                      : strcmp(x->by, "nonce") == 0 ? "nonce"
                                                    : "signer");
        if (j != NULL && x->decode_rc != AVOW_OK)
            avow__json_put(j, "decode_error", avow__json_errname(x->decode_rc), bad);
        if (j != NULL && x->hash != NULL) {
            avow__json_put(j, "hash", json_string(x->hash), bad);
            avow__json_put(j, "form", json_string(x->form), bad);
        }
        if (j != NULL && x->where[0] != '\0')
            avow__json_put(j, "signer_cert", json_string(x->where), bad);
        if (a == NULL || j == NULL || json_array_append_new(a, j) != 0)
            *bad = 1;
    }
    for (size_t i = 0; i < nl; i++) {
        const shown *pt = &s[l[i].platform];
        json_t *j =
            json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s}", "platform", (json_int_t)l[i].platform,
                      "platform_name", pt->row->name, "binds", (json_int_t)l[i].binds, "binds_name",
                      s[l[i].binds].row->name, "key", l[i].signer ? "signer" : "attested", "hash",
                      avow__link_hash_name(pt->nonce.len), "form", l[i].form);
        if (j != NULL && l[i].where[0] != '\0')
            avow__json_put(j, "signer_cert", json_string(l[i].where), bad);
        if (a == NULL || j == NULL || json_array_append_new(a, j) != 0)
            *bad = 1;
    }
    free_all(s, n);
    return a;
}

static void certs_text(BIO *b, const avow_request *r)
{
    STACK_OF(X509) *certs = avow_request_get0_certs(r);
    size_t nother = avow_request_other_cert_count(r);
    BIO_printf(b, "Certificates (%d):\n", certs != NULL ? sk_X509_num(certs) : 0);
    for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        char *s = name_text(X509_get_subject_name(x)), *is = name_text(X509_get_issuer_name(x));
        BIO_printf(b, "  [%d] subject: ", i);
        put_escaped(b, s != NULL ? s : "?");
        BIO_puts(b, "\n      issuer:  ");
        put_escaped(b, is != NULL ? is : "?");
        BIO_puts(b, "\n");
        OPENSSL_free(s);
        OPENSSL_free(is);
    }
    for (size_t i = 0; i < nother; i++) {
        const avow_other_cert *oc = avow_request_get0_other_cert(r, i);
        char oid[128];
        avow_oid_to_text(oc->format.ptr, oc->format.len, oid, sizeof(oid));
        BIO_printf(b, "  other [%lu]: format %s, %lu bytes\n", (unsigned long)i, oid,
                   (unsigned long)oc->der.len);
    }
}

static avow_err bio_text(BIO *b, avow_buf *out)
{
    char *p = NULL;
    long len = BIO_get_mem_data(b, &p);
    out->ptr = OPENSSL_malloc(len > 0 ? (size_t)len + 1 : 1);
    if (out->ptr == NULL)
        return AVOW_ERR_NOMEM;
    if (len > 0)
        memcpy(out->ptr, p, (size_t)len);
    out->ptr[len > 0 ? len : 0] = '\0';
    out->len = len > 0 ? (size_t)len : 0;
    return AVOW_OK;
}

avow_err avow_request_to_text(const avow_request *r, const avow_registry *reg,
                              const avow_profile *profile, avow_buf *out, avow_diag *diag)
{
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request or output");
    avow_profile def;
    if (profile == NULL) {
        avow_profile_default(&def);
        profile = &def;
    }
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "request", "out of memory");
    avow_buf subj = {0};
    char key[128];
    const char *ver = avow_bundle_version_name(avow_request_get_version(r));
    const char *pop_detail = NULL;
    int pop_ok = avow_request_pop(r, &pop_detail) == AVOW_OK;
    key_summary(avow_request_get0_pubkey(r), key, sizeof(key));
    BIO_printf(b, "Request: %s (%lu bytes)\n", avow_request_kind_name(avow_request_get_kind(r)),
               (unsigned long)avow_request_der(r).len);
    BIO_printf(b, "Attestation bundle: %s\n", ver != NULL ? ver : "none");
    if (avow_request_subject_text(r, &subj) == AVOW_OK && subj.len > 0) {
        BIO_puts(b, "Subject: ");
        avow__escape_bio(b, subj.ptr, subj.len, 0);
        BIO_puts(b, "\n");
    } else {
        BIO_puts(b, subj.ptr != NULL ? "Subject: (empty)\n" : "Subject: (none)\n");
    }
    avow_buf_free(&subj);
    sans_text(b, r);
    BIO_printf(b, "Public key: %s\n", key);
    statements_text(b, r, reg, profile);
    links_text(b, r, reg, profile);
    certs_text(b, r);
    BIO_printf(b, "Proof of possession: %s\n", pop_words(r, pop_ok));
    if (!pop_ok && pop_detail != NULL && pop_detail[0] != '\0') {
        BIO_puts(b, "    reason: ");
        put_escaped(b, pop_detail);
        BIO_puts(b, "\n");
    }
    avow_err rc = bio_text(b, out);
    BIO_free(b);
    avow__ossl_clear();
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "request", "out of memory");
}

/*
 * key = the text as a JSON string, or, when it is not UTF-8 (a requester's
 * hint may be any bytes), key_hex = its bytes in hex: JSON cannot carry it,
 * and refusing the whole document would hide everything else.
 */
static void put_text(json_t *o, const char *key, const void *text, size_t len, int *bad)
{
    json_t *j = json_stringn(text, len);
    if (j != NULL) {
        avow__json_put(o, key, j, bad);
        return;
    }
    char hexkey[32];
    snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
    avow__json_put(o, hexkey, avow__json_hex(text, len), bad);
}

static json_t *statement_json(const avow_registry *reg, const avow_profile *p,
                              const avow_statement *st, int *bad)
{
    json_t *o = json_object();
    int verifiable = 0;
    const char *name = row_name(reg, p, st, &verifiable);
    avow__json_put(o, "type", json_string(st->type_text), bad);
    avow__json_put(o, "name", json_string(name), bad);
    avow__json_put(o, "verifier", json_boolean(verifiable), bad);
    avow__json_put(o, "size", json_integer((json_int_t)st->der.len), bad);
    avow__json_put(o, "bundle", json_integer((json_int_t)st->bundle), bad);
    if (st->hint.len > 0)
        put_text(o, "hint", st->hint.ptr, st->hint.len, bad);
    if (o != NULL && avow__statement_show_json(reg, p, st->type.ptr, st->type.len, st->der.ptr,
                                               st->der.len, o) != AVOW_OK)
        *bad = 1;
    json_t *nested = nested_json(reg, p, st, bad);
    if (nested != NULL)
        avow__json_put(o, "nested", nested, bad);
    return o;
}

static json_t *certs_json(const avow_request *r, int *bad)
{
    json_t *certs = json_array();
    STACK_OF(X509) *sk = avow_request_get0_certs(r);
    for (int i = 0; certs != NULL && sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        char *s = name_text(X509_get_subject_name(x)), *is = name_text(X509_get_issuer_name(x));
        json_t *c = json_object();
        put_text(c, "subject", s != NULL ? s : "?", s != NULL ? strlen(s) : 1, bad);
        put_text(c, "issuer", is != NULL ? is : "?", is != NULL ? strlen(is) : 1, bad);
        OPENSSL_free(s);
        OPENSSL_free(is);
        if (c == NULL || json_array_append_new(certs, c) != 0)
            *bad = 1;
    }
    return certs;
}

avow_err avow_request_to_json(const avow_request *r, const avow_registry *reg,
                              const avow_profile *profile, avow_buf *out, avow_diag *diag)
{
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request or output");
    avow_profile def;
    if (profile == NULL) {
        avow_profile_default(&def);
        profile = &def;
    }
    int bad = 0;
    json_t *o = json_object(), *stmts = json_array();
    avow_buf subj = {0};
    char key[128];
    const char *ver = avow_bundle_version_name(avow_request_get_version(r));
    const char *pop_detail = NULL;
    int pop_ok = avow_request_pop(r, &pop_detail) == AVOW_OK;
    key_summary(avow_request_get0_pubkey(r), key, sizeof(key));
    avow__json_put(o, "kind", json_string(avow_request_kind_name(avow_request_get_kind(r))), &bad);
    avow__json_put(o, "bundle_version", ver != NULL ? json_string(ver) : json_null(), &bad);
    if (avow_request_subject_text(r, &subj) == AVOW_OK)
        put_text(o, "subject", subj.ptr, subj.len, &bad);
    else
        avow__json_put(o, "subject", json_null(), &bad);
    avow_buf_free(&subj);
    avow__json_put(o, "public_key", json_string(key), &bad);
    avow_view spki = avow_request_spki(r);
    avow__json_put(o, "spki_hex", avow__json_hex(spki.ptr, spki.len), &bad);
    for (size_t i = 0; stmts != NULL && i < avow_request_statement_count(r); i++) {
        json_t *s = statement_json(reg, profile, avow_request_get0_statement(r, i), &bad);
        if (s == NULL || json_array_append_new(stmts, s) != 0)
            bad = 1;
    }
    GENERAL_NAMES *names = NULL;
    avow_diag sd;
    avow_diag_clear(&sd);
    if (avow_request_get1_sans(r, &names, &sd) != AVOW_OK) {
        avow__json_put(o, "subject_alt_names_error", avow__json_text(sd.detail), &bad);
    } else if (names != NULL) {
        json_t *arr = json_array();
        for (int i = 0; arr != NULL && i < sk_GENERAL_NAME_num(names); i++) {
            char *t = one_san(sk_GENERAL_NAME_value(names, i));
            json_t *j = t != NULL ? json_string(t) : NULL;
            if (j == NULL && t != NULL)
                j = avow__json_hex((const uint8_t *)t, strlen(t));
            if (j == NULL || json_array_append_new(arr, j) != 0)
                bad = 1;
            OPENSSL_free(t);
        }
        avow__json_put(o, "subject_alt_names", arr, &bad);
        GENERAL_NAMES_free(names);
    }
    avow__json_put(o, "statements", stmts, &bad);
    json_t *links = links_json(r, reg, profile, &bad);
    if (links != NULL)
        avow__json_put(o, "links", links, &bad);
    avow__json_put(o, "certs", certs_json(r, &bad), &bad);
    avow__json_put(o, "other_certs", json_integer((json_int_t)avow_request_other_cert_count(r)),
                   &bad);
    json_t *pop = json_pack("{s:b,s:s}", "ok", pop_ok, "text", pop_words(r, pop_ok));
    if (pop != NULL && !pop_ok && pop_detail != NULL)
        avow__json_put(pop, "detail", avow__json_text(pop_detail), &bad);
    avow__json_put(o, "pop", pop, &bad);
    avow_err rc =
        bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(o);
    avow__ossl_clear();
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "request", "out of memory");
}
