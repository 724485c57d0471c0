/*
 * The identity server: the identifier policy that maps appraised claims to
 * one Workload Identifier, and the WIT issued only for a key an affirming
 * appraisal was about (the passport model, as the OAuth attester does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/wimse.h>
#include <avow/x509.h>

#include "core/internal.h"
#include "verifier/token_issue.h"
#include "formats/wimse_int.h"
#include "verifier/policy_int.h"

typedef struct rule {
    json_t *when; /* object: "element:claim" or "claim" -> text */
    char *uri;
} rule;

struct avow_wimse_idmap {
    rule rules[AVOW_WIMSE_IDMAP_MAX_RULES];
    size_t nrules;
    char *schemes[9];
    json_t *domains; /* array of strings, or NULL */
};

void avow_wimse_idmap_free(avow_wimse_idmap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nrules; i++) {
        json_decref(m->rules[i].when);
        OPENSSL_free(m->rules[i].uri);
    }
    for (size_t i = 0; m->schemes[i] != NULL; i++)
        OPENSSL_free(m->schemes[i]);
    json_decref(m->domains);
    OPENSSL_free(m);
}

/* The message is made while root is alive (it may quote a member of it), then both go. */
static avow_err bad_done(avow_wimse_idmap *m, json_t *root, avow_err e)
{
    avow_wimse_idmap_free(m);
    json_decref(root);
    return e;
}

#define BAD(field, ...) bad_done(m, root, avow__fail(d, AVOW_ERR_WIMSE_IDMAP, field, __VA_ARGS__))

/*
 * A claim a rule names, judged as the appraisal policy judges its rules'
 * names (avow__claim_find): a prefix must be a registered vocabulary's and
 * the claim one of it, a bare name one of some vocabulary, or a dotted OID.
 * A type conflict between vocabularies is no fault here: "when" and "{}"
 * compare and substitute text. NULL when known, else the reason.
 */
static const char *unknown_claim(const avow_registry *reg, const char *name)
{
    if (avow__claim_is_oid(name))
        return NULL;
    avow__claim_ref ref;
    switch (avow__claim_find(reg, name, NULL, &ref)) {
    case AVOW__CLAIM_NO_VOCABULARY:
        return "no registered statement type has its vocabulary";
    case AVOW__CLAIM_UNKNOWN:
        return strchr(name, ':') != NULL ? "its vocabulary has no such claim"
                                         : "no registered vocabulary has it";
    default:
        return NULL;
    }
}

/* The "{claim}" names of uri, each closed, non-empty, at most 63 bytes and known. */
static avow_err check_uri_claims(const avow_registry *reg, const char *uri, const char *f,
                                 avow_diag *d)
{
    for (const char *p = strchr(uri, '{'); p != NULL; p = strchr(p, '{')) {
        const char *e = strchr(p, '}');
        if (e == NULL || e - p - 1 <= 0 || e - p - 1 > 63 ||
            memchr(p + 1, '{', (size_t)(e - p - 1)))
            return avow__fail(d, AVOW_ERR_WIMSE_IDMAP, f,
                              "uri has an unclosed, empty or over-long {claim}");
        char name[64];
        memcpy(name, p + 1, (size_t)(e - p - 1));
        name[e - p - 1] = '\0';
        const char *why = unknown_claim(reg, name);
        if (why != NULL)
            return avow__fail(d, AVOW_ERR_WIMSE_IDMAP_CLAIM, f,
                              "uri substitutes unknown claim \"%s\": %s", name, why);
        p = e + 1;
    }
    return AVOW_OK;
}

avow_err avow_wimse_idmap_parse(const char *json, size_t len, const avow_registry *reg,
                                avow_wimse_idmap **out, avow_diag *d)
{
    if (out != NULL)
        *out = NULL;
    if (json == NULL || out == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "idmap", "no document or output");
    if (len > AVOW_WIMSE_IDMAP_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "idmap", "over %u bytes",
                          AVOW_WIMSE_IDMAP_MAX_SIZE);
    json_error_t e;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(root)) {
        json_decref(root);
        return avow__fail(d, AVOW_ERR_JSON, "idmap", "not a JSON object: %.160s", e.text);
    }
    avow_wimse_idmap *m = OPENSSL_zalloc(sizeof(*m));
    if (m == NULL) {
        json_decref(root);
        return avow__fail(d, AVOW_ERR_NOMEM, "idmap", "out of memory");
    }
    avow_err rc = AVOW_OK;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "identifiers") != 0 && strcmp(k, "schemes") != 0 &&
            strcmp(k, "trust_domains") != 0) {
            return BAD("idmap", "unknown member \"%.64s\"", k);
        }
    }
    json_t *ids = json_object_get(root, "identifiers");
    if (!json_is_array(ids) || json_array_size(ids) == 0 ||
        json_array_size(ids) > AVOW_WIMSE_IDMAP_MAX_RULES) {
        return BAD("idmap.identifiers", "identifiers must be an array of 1 to %u rules",
                   AVOW_WIMSE_IDMAP_MAX_RULES);
    }
    json_t *sch = json_object_get(root, "schemes");
    if (sch != NULL) {
        if (!json_is_array(sch) || json_array_size(sch) == 0 || json_array_size(sch) > 8) {
            return BAD("idmap.schemes", "schemes must be an array of 1 to 8 strings");
        }
        for (size_t i = 0; i < json_array_size(sch); i++) {
            const char *s = json_string_value(json_array_get(sch, i));
            if (s == NULL || s[0] == '\0' ||
                strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") != strlen(s)) {
                return BAD("idmap.schemes", "scheme %zu is not a lower-case URI scheme", i);
            }
            if ((m->schemes[i] = OPENSSL_strdup(s)) == NULL)
                rc = AVOW_ERR_NOMEM;
        }
    } else {
        m->schemes[0] = OPENSSL_strdup("spiffe");
        m->schemes[1] = OPENSSL_strdup("wimse");
        if (m->schemes[0] == NULL || m->schemes[1] == NULL)
            rc = AVOW_ERR_NOMEM;
    }
    json_t *tds = json_object_get(root, "trust_domains");
    if (tds != NULL) {
        if (!json_is_array(tds) || json_array_size(tds) == 0) {
            return BAD("idmap.trust_domains", "trust_domains must be a non-empty array");
        }
        for (size_t i = 0; i < json_array_size(tds); i++)
            if (!json_is_string(json_array_get(tds, i))) {
                return BAD("idmap.trust_domains", "trust domain %zu is not a string", i);
            }
        m->domains = json_incref(tds);
    }
    for (size_t i = 0; rc == AVOW_OK && i < json_array_size(ids); i++) {
        json_t *r = json_array_get(ids, i);
        char f[64];
        snprintf(f, sizeof(f), "idmap.identifiers[%zu]", i);
        json_t *when = json_object_get(r, "when");
        const char *uri = json_string_value(json_object_get(r, "uri"));
        if (!json_is_object(r) || uri == NULL || (when != NULL && !json_is_object(when)) ||
            json_object_size(r) != (size_t)(when != NULL ? 2 : 1)) {
            return BAD(f, "a rule is {\"when\": {...}, \"uri\": \"...\"} and nothing more");
        }
        json_object_foreach(when, k, v)
        {
            if (!json_is_string(v))
                return BAD(f, "when.%.48s is not a string", k);
            const char *why = unknown_claim(reg, k);
            if (why != NULL)
                return bad_done(m, root,
                                avow__fail(d, AVOW_ERR_WIMSE_IDMAP_CLAIM, f,
                                           "when names unknown claim \"%.64s\": %s", k, why));
        }
        avow_err crc = check_uri_claims(reg, uri, f, d);
        if (crc != AVOW_OK)
            return bad_done(m, root, crc);
        /* What can be judged before any claim is known: the scheme, or all of a fixed URI. */
        const char *colon = strchr(uri, ':');
        int scheme_ok = 0;
        for (size_t j = 0; colon != NULL && m->schemes[j] != NULL; j++)
            scheme_ok |= strlen(m->schemes[j]) == (size_t)(colon - uri) &&
                         strncmp(uri, m->schemes[j], (size_t)(colon - uri)) == 0 &&
                         strncmp(colon, "://", 3) == 0;
        if (!scheme_ok) {
            return BAD(f, "uri \"%.64s\" is not of an allowed scheme (schemes)", uri);
        }
        avow_diag ud;
        avow_diag_clear(&ud);
        if (strchr(uri, '{') == NULL &&
            avow_wimse_identifier_check(uri, strlen(uri), (const char *const *)m->schemes, NULL,
                                        &ud) != AVOW_OK) {
            return BAD(f, "uri is not a Workload Identifier: %.160s", ud.detail);
        }
        m->rules[i].when = when != NULL ? json_incref(when) : json_object();
        m->rules[i].uri = OPENSSL_strdup(uri);
        m->nrules++;
        if (m->rules[i].uri == NULL || m->rules[i].when == NULL)
            rc = AVOW_ERR_NOMEM;
    }
    json_decref(root);
    if (rc != AVOW_OK) {
        avow_wimse_idmap_free(m);
        return avow__fail(d, rc, "idmap", "out of memory");
    }
    *out = m;
    return AVOW_OK;
}

avow_err avow_wimse_idmap_load(const char *path, const avow_registry *reg, avow_wimse_idmap **out,
                               avow_diag *d)
{
    avow_buf b = {0};
    avow_err rc = avow_read_file(path, AVOW_WIMSE_IDMAP_MAX_SIZE, &b, d);
    if (rc != AVOW_OK)
        return rc;
    rc = avow_wimse_idmap_parse((const char *)b.ptr, b.len, reg, out, d);
    avow_buf_free(&b);
    return rc;
}

/* The claim's value as text: TEXT as is, INT/BOOL/TIME in decimal, BYTES in lower-case hex. */
static char *claim_text(const avow_nclaim *c)
{
    char num[32];
    switch (c->value.type) {
    case AVOW_CV_TEXT:
        return memchr(c->value.bytes.ptr, '\0', c->value.bytes.len) != NULL
                   ? NULL
                   : OPENSSL_strndup((const char *)c->value.bytes.ptr, c->value.bytes.len);
    case AVOW_CV_INT:
    case AVOW_CV_BOOL:
    case AVOW_CV_TIME:
        snprintf(num, sizeof(num), "%lld",
                 (long long)(c->value.type == AVOW_CV_TIME ? c->value.time : c->value.integer));
        return OPENSSL_strdup(num);
    case AVOW_CV_BYTES:
        return avow__hex(c->value.bytes.ptr, c->value.bytes.len);
    default:
        return NULL;
    }
}

static const avow_claimset *bound_claims(const avow_appraisal *a)
{
    const avow_verification *v = avow_appraisal_get0_verification(a);
    size_t st = 0, el = 0;
    if (v == NULL || !avow_verification_bound(v, &st, &el))
        return NULL;
    return avow_statement_result_get0_claims(avow_verification_get0(v, st));
}

/* "element:claim" or "claim" looked up in set; text the caller frees, or NULL. */
/*
 * The bound statement's claim a rule names. A prefix ("pkix:") names the
 * statement type's vocabulary, as in appraisal policies; claims carry
 * unqualified names, and the bound statement is of one type.
 */
static const avow_nclaim *find(const avow_claimset *set, const char *name)
{
    const char *colon = strchr(name, ':');
    const avow_nclaim *c = avow_claimset_find(set, NULL, colon != NULL ? colon + 1 : name, NULL);
    return c != NULL && c->value.present ? c : NULL;
}

static char *lookup(const avow_claimset *set, const char *name)
{
    const avow_nclaim *c = find(set, name);
    return c != NULL ? claim_text(c) : NULL;
}

/*
 * A "when" member holds as the appraisal policy's equals does: a string
 * equals a text claim, or an OCTET STRING claim byte for byte (so
 * "SoftHSM v2" matches the bytes of a hwmodel), or its lower-case hex.
 */
static int holds(const avow_claimset *set, const char *name, const char *want)
{
    const avow_nclaim *c = find(set, name);
    if (c == NULL || want == NULL)
        return 0;
    if (c->value.type == AVOW_CV_BYTES && c->value.bytes.len == strlen(want) &&
        memcmp(c->value.bytes.ptr, want, c->value.bytes.len) == 0)
        return 1;
    char *t = claim_text(c);
    int eq = t != NULL && strcmp(t, want) == 0;
    OPENSSL_free(t);
    return eq;
}

avow_err avow_wimse_idmap_resolve(const avow_wimse_idmap *m, const avow_appraisal *a, avow_buf *uri,
                                  avow_diag *d)
{
    if (uri != NULL) {
        uri->ptr = NULL;
        uri->len = 0;
    }
    if (m == NULL || a == NULL || uri == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "idmap", "no policy, appraisal or output");
    const avow_claimset *set = bound_claims(a);
    if (set == NULL)
        return avow__fail(d, AVOW_ERR_WIMSE_NO_IDENTIFIER, "idmap",
                          "the appraisal has no statement bound to the key");
    for (size_t i = 0; i < m->nrules; i++) {
        const char *k;
        json_t *v;
        int all = 1;
        json_object_foreach(m->rules[i].when, k, v) all =
            all && holds(set, k, json_string_value(v));
        if (!all)
            continue;
        char f[64];
        snprintf(f, sizeof(f), "idmap.identifiers[%zu].uri", i);
        char out[AVOW_WIMSE_MAX_URI + 1];
        size_t n = 0;
        for (const char *p = m->rules[i].uri; *p != '\0';) {
            if (*p != '{') {
                if (n >= AVOW_WIMSE_MAX_URI)
                    return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, f,
                                      "the identifier is too long");
                out[n++] = *p++;
                continue;
            }
            const char *e = strchr(p, '}');
            if (e == NULL || e - p - 1 <= 0 || e - p - 1 > 63)
                return avow__fail(d, AVOW_ERR_WIMSE_IDMAP, f, "an unclosed or empty {claim}");
            char name[64];
            memcpy(name, p + 1, (size_t)(e - p - 1));
            name[e - p - 1] = '\0';
            char *t = lookup(set, name);
            if (t == NULL)
                return avow__fail(d, AVOW_ERR_WIMSE_NO_IDENTIFIER, f,
                                  "claim %.63s is missing from the bound statement", name);
            size_t tl = strlen(t);
            int safe =
                tl > 0 && tl <= 255 &&
                strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") ==
                    tl;
            if (!safe || n + tl > AVOW_WIMSE_MAX_URI) {
                OPENSSL_free(t);
                return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, f,
                                  "claim %.63s is not URI-safe (unreserved characters, 1 to 255)",
                                  name);
            }
            memcpy(out + n, t, tl);
            n += tl;
            OPENSSL_free(t);
            p = e + 1;
        }
        out[n] = '\0';
        avow_buf td = {0};
        avow_err rc =
            avow__wimse_identifier_check(out, n, (const char *const *)m->schemes, f, &td, d);
        if (rc != AVOW_OK)
            return rc;
        int in = m->domains == NULL;
        for (size_t j = 0; !in && j < json_array_size(m->domains); j++)
            in = strcmp(json_string_value(json_array_get(m->domains, j)), (char *)td.ptr) == 0;
        avow_buf_free(&td);
        if (!in)
            return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, f,
                              "the trust domain is not one the policy lists");
        if ((uri->ptr = (uint8_t *)OPENSSL_strdup(out)) == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, f, "out of memory");
        uri->len = n;
        return AVOW_OK;
    }
    return avow__fail(d, AVOW_ERR_WIMSE_NO_IDENTIFIER, "idmap",
                      "no identifier rule holds for the appraised claims");
}

static avow_err issue(avow_err rc, avow_appraisal *a, EVP_PKEY *key, avow_signer *issuer,
                      const avow_wimse_issue_opts *o, avow_buf *wit, avow_appraisal **ap,
                      avow_diag *d)
{
    avow_buf uri = {0}, ear = {0};
    if (rc == AVOW_OK && (a == NULL || avow_appraisal_status(a) != AVOW_OK))
        rc = avow__fail(d, AVOW_ERR_NOT_AFFIRMING, "appraisal",
                        "the attestation about the key is not affirming");
    if (rc == AVOW_OK && !avow__token_same_key(avow_appraisal_key(a), key))
        rc = avow__fail(d, AVOW_ERR_WIMSE_KEY_BINDING, "cnf",
                        "the appraisal is not about the workload key");
    if (rc == AVOW_OK)
        rc = avow_wimse_idmap_resolve(o->idmap, a, &uri, d);
    if (rc == AVOW_OK && o->result != AVOW_WIMSE_RESULT_NONE)
        rc = avow_ear_sign_jwt(avow_appraisal_get0_ear(a), issuer, o->kid, &ear, d);
    if (rc == AVOW_OK)
        rc = avow_wimse_wit_sign(issuer, (const char *)uri.ptr, key, (const char *)ear.ptr, o, wit,
                                 d);
    avow_buf_free(&uri);
    avow_buf_free(&ear);
    avow__token_appraisal_out(a, ap);
    return rc;
}

static avow_err args(avow_signer *issuer, const avow_wimse_issue_opts *o, avow_buf *wit,
                     avow_appraisal **ap, avow_diag *d)
{
    avow__token_outputs_clear(wit, ap);
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_wimse_issue_opts_init");
    if (issuer == NULL || wit == NULL || o->idmap == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "opts.idmap", "no issuer, output or identifier policy");
    return AVOW_OK;
}

avow_err avow_wimse_issue_wit(const avow_verifier *v, const avow_statements_in *in,
                              const avow_appraise_opts *aopts, avow_signer *issuer,
                              const avow_wimse_issue_opts *o, avow_buf *wit, avow_appraisal **ap,
                              avow_diag *d)
{
    avow_err rc = args(issuer, o, wit, ap, d);
    if (rc != AVOW_OK)
        return rc;
    if (in == NULL || in->key.ptr == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "statements.key", "no statements or workload key");
    const unsigned char *p = in->key.ptr;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)in->key.len);
    if (key == NULL)
        return avow__fail_ossl(d, AVOW_ERR_BAD_SPKI, "statements.key", "not a public key");
    avow_appraisal *a = NULL;
    rc = avow_appraise(v, in, aopts, &a, d);
    rc = issue(rc, a, key, issuer, o, wit, ap, d);
    EVP_PKEY_free(key);
    return rc;
}

avow_err avow_wimse_issue_wit_request(const avow_verifier *v, const avow_request *req,
                                      const avow_appraise_opts *aopts, avow_signer *issuer,
                                      const avow_wimse_issue_opts *o, avow_buf *wit,
                                      avow_appraisal **ap, avow_diag *d)
{
    avow_err rc = args(issuer, o, wit, ap, d);
    if (rc != AVOW_OK)
        return rc;
    EVP_PKEY *key = req != NULL ? avow_request_get0_pubkey(req) : NULL;
    if (key == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "request", "no request or request key");
    avow_appraisal *a = NULL;
    rc = avow_appraise_request(v, req, aopts, &a, d);
    return issue(rc, a, key, issuer, o, wit, ap, d);
}

/* What the CA's prepare hook needs: the policy in, the certificate's names out. */
typedef struct wic_prep {
    const avow_wimse_issue_opts *o;
    avow_buf san;
} wic_prep;

/*
 * Runs inside avow_ca_dir_issue between the appraisal and the certificate,
 * so the identifier comes from the very appraisal the CA records, and a
 * request that maps to no identifier consumes no nonce.
 */
static avow_err wic_prepare(void *ctx, const avow_appraisal *a, avow_ca_issue_opts *io,
                            avow_diag *d)
{
    wic_prep *p = ctx;
    avow_buf uri = {0};
    avow_err rc = avow_wimse_idmap_resolve(p->o->idmap, a, &uri, d);
    if (rc != AVOW_OK)
        return rc;
    const char *dns = p->o->wic_dns;
    size_t cap = uri.len + 5 + (dns != NULL ? strlen(dns) + 1 : 0) + 1;
    p->san.ptr = OPENSSL_malloc(cap);
    if (p->san.ptr == NULL) {
        avow_buf_free(&uri);
        return avow__fail(d, AVOW_ERR_NOMEM, "wic", "out of memory");
    }
    int n = snprintf((char *)p->san.ptr, cap, "URI:%s%s%s", (const char *)uri.ptr,
                     dns != NULL ? "," : "", dns != NULL ? dns : "");
    avow_buf_free(&uri);
    p->san.len = (size_t)n;
    io->san = (const char *)p->san.ptr;
    io->flags &= ~(unsigned)(AVOW_CA_ISSUE_COPY_SAN | AVOW_CA_ISSUE_DROP_SAN);
    io->key_usage = AVOW_KU_DIGITAL_SIGNATURE;
    io->eku = "clientAuth,serverAuth";
    if (p->o->wic_days != 0)
        io->days = p->o->wic_days;
    return AVOW_OK;
}

/* wic_dns may add DNS names only: a second URI would be a second identifier. */
static avow_err wic_dns_check(const char *dns, avow_diag *d)
{
    if (dns == NULL)
        return AVOW_OK;
    GENERAL_NAMES *l = GENERAL_NAMES_new();
    if (l == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "wic_dns", "out of memory");
    avow_err rc = avow_san_parse(dns, l, d);
    for (int i = 0; rc == AVOW_OK && i < sk_GENERAL_NAME_num(l); i++)
        if ((avow_san_kind(sk_GENERAL_NAME_value(l, i)) & AVOW_SAN_DNS) == 0)
            rc = avow__fail(d, AVOW_ERR_WIMSE_WIC_SAN, "wic_dns",
                            "entry %d is not a DNS name: a WIC names one URI, the identifier", i);
    GENERAL_NAMES_free(l);
    return rc;
}

avow_err avow_wimse_issue_wic(avow_ca_dir *cd, const avow_verifier *v, const avow_request *req,
                              const avow_appraise_opts *aopts, const avow_wimse_issue_opts *o,
                              X509 **cert, avow_appraisal **ap, avow_diag *d)
{
    if (cert != NULL)
        *cert = NULL;
    if (ap != NULL)
        *ap = NULL;
    if (cd == NULL || v == NULL || req == NULL || cert == NULL || o == NULL ||
        o->size != sizeof(*o) || o->idmap == NULL ||
        (aopts != NULL && aopts->size != sizeof(*aopts)))
        return avow__fail(d, AVOW_ERR_ARG, "wic",
                          "no CA, verifier, request, output, identifier policy or options");
    avow_err rc = wic_dns_check(o->wic_dns, d);
    if (rc != AVOW_OK)
        return rc;
    avow_ca_dir_issue_opts io;
    avow_ca_dir_issue_opts_init(&io);
    if (aopts != NULL) {
        io.nonce = aopts->nonce;
        io.nonce_len = aopts->nonce_len;
        io.policy = aopts->policy;
        io.verify_flags = aopts->verify_flags;
        io.request_flags = aopts->request_flags;
        io.registry = aopts->registry;
        io.issue.now = aopts->now;
    }
    if (o->now != 0)
        io.issue.now = (time_t)o->now;
    io.issue.kid = o->kid;
    wic_prep prep = {.o = o};
    io.prepare = wic_prepare;
    io.prepare_ctx = &prep;
    avow_appraisal *a = NULL;
    rc = avow_ca_dir_issue(cd, v, req, &io, &a, cert, d);
    avow_buf_free(&prep.san);
    avow__token_appraisal_out(a, ap);
    return rc;
}
