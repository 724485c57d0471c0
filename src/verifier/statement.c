/*
 * One statement through its row: decode, verify, normalised claims, and
 * what appraisal needs from them (the nonce, the attested keys), found by
 * the roles the row's vocabulary gives its claims. Nothing here knows a
 * format.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <openssl/x509.h>

#include <avow/kat.h>
#include <avow/verification.h>

#include "core/internal.h"
#include "verifier/registry_int.h"
#include "verifier/verify_int.h"

#define NOT_LINKED ((size_t)-1)

void avow_statement_result_free(avow_statement_result *r)
{
    if (r == NULL)
        return;
    if (r->row != NULL && r->row->free != NULL && (r->native != NULL || r->verified != NULL))
        r->row->free(r->row, r->native, r->verified);
    avow_claimset_clear(&r->claims);
    OPENSSL_free(r->keys);
    OPENSSL_free(r);
}

/* The signed nonce and the attested keys, from the claims' roles. */
static avow_err derive_facts(avow_statement_result *r)
{
    const avow_claimset *cs = &r->claims;
    const avow_nclaim *c = avow_claimset_find_role(cs, AVOW_ROLE_NONCE, NULL);
    if (c != NULL && c->signed_by != 0 && c->value.present && c->value.type == AVOW_CV_BYTES)
        r->nonce = c->value.bytes;
    size_t n = 0;
    for (c = NULL; (c = avow_claimset_find_role(cs, AVOW_ROLE_KEY_SPKI, c)) != NULL;)
        n += c->signed_by != 0 && c->value.present;
    if (n == 0)
        return AVOW_OK;
    if ((r->keys = OPENSSL_zalloc(n * sizeof(*r->keys))) == NULL)
        return AVOW_ERR_NOMEM;
    for (c = NULL; (c = avow_claimset_find_role(cs, AVOW_ROLE_KEY_SPKI, c)) != NULL;) {
        if (c->signed_by == 0 || !c->value.present)
            continue;
        r->keys[r->nkeys].element_index = c->element_index;
        r->keys[r->nkeys].spki = c->value.bytes;
        r->nkeys++;
    }
    return AVOW_OK;
}

/* 1 when the type's vocabulary has a claim that plays the nonce role. */
static int has_nonce_role(const avow_statement_type *row)
{
    for (size_t i = 0; row->vocab != NULL && i < row->vocab->nclaims; i++)
        if (row->vocab->claims[i].roles & AVOW_ROLE_NONCE)
            return 1;
    return 0;
}

/*
 * The expected nonce against the claim that plays the nonce role, whatever
 * the row checked. A type whose vocabulary has no nonce cannot be fresh by
 * itself: its state stays "not checked", and appraisal, which takes
 * freshness from the statement the key is bound to, decides.
 */
static avow_nonce_state nonce_state(const avow_statement_type *row, const avow_claimset *cs,
                                    const avow_verify_opts *opts)
{
    if (opts == NULL || opts->nonce == NULL || !has_nonce_role(row))
        return AVOW_NONCE_NOT_CHECKED;
    const avow_nclaim *c = avow_claimset_find_role(cs, AVOW_ROLE_NONCE, NULL);
    if (c == NULL || !c->value.present)
        return AVOW_NONCE_ABSENT;
    return avow__ct_equal(c->value.bytes.ptr, c->value.bytes.len, opts->nonce, opts->nonce_len)
               ? AVOW_NONCE_MATCH
               : AVOW_NONCE_MISMATCH;
}

static avow_err run_row(avow_statement_result *r, const avow_verifier *v, const uint8_t *stmt,
                        size_t len, const avow_verify_opts *opts, avow_diag *d)
{
    const avow_statement_type *row = r->row;
    avow_err rc = row->decode(row, avow_verifier_get0_profile(v), stmt, len, &r->native, d);
    if (rc != AVOW_OK)
        return avow__stmt_fail_diag(r, rc, d);
    avow_diag vd;
    avow_diag_clear(&vd);
    avow_err vrc = row->verify(row, v, r->native, opts, &r->verified, &vd);
    r->verify_status = vrc;
    rc = row->to_claims(row, r->native, vrc == AVOW_OK || r->verified != NULL ? r->verified : NULL,
                        &r->claims);
    if (rc == AVOW_OK)
        rc = derive_facts(r);
    if (rc != AVOW_OK) {
        avow__fail(d, rc, "statement", "cannot make the claim set: %s", avow_strerror(rc));
        return avow__stmt_fail_diag(r, rc, d);
    }
    r->nonce_state = nonce_state(row, &r->claims, opts);
    if (vrc != AVOW_OK) {
        *d = vd;
        return avow__stmt_fail_diag(r, vrc, d);
    }
    if (r->nonce_state == AVOW_NONCE_ABSENT || r->nonce_state == AVOW_NONCE_MISMATCH) {
        rc = r->nonce_state == AVOW_NONCE_ABSENT ? AVOW_ERR_NONCE_MISSING : AVOW_ERR_NONCE_MISMATCH;
        avow__fail(d, rc, "nonce", "%s",
                   r->nonce_state == AVOW_NONCE_ABSENT ? "the statement carries no nonce"
                                                       : "the nonce differs from the expected one");
        return avow__stmt_fail_diag(r, rc, d);
    }
    r->status = AVOW_OK;
    return AVOW_OK;
}

avow_err avow_statement_verify(const avow_verifier *v, const avow_registry *reg,
                               const uint8_t *type_oid, size_t type_oid_len, const uint8_t *stmt,
                               size_t len, const avow_verify_opts *opts,
                               avow_statement_result **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "result", "no result pointer");
    *out = NULL;
    if (v == NULL || type_oid == NULL || stmt == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "no verifier, type or statement");
    avow_statement_result *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "statement", "out of memory");
    avow_oid_to_text(type_oid, type_oid_len, r->type_oid, sizeof(r->type_oid));
    r->verify_status = AVOW_ERR_STATEMENT_TYPE;
    r->linked_to = NOT_LINKED;
    r->nested_in = NOT_LINKED;
    r->row = avow_registry_find(reg, avow_verifier_get0_profile(v), type_oid, type_oid_len);
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc;
    if (r->row == NULL || r->row->verify == NULL) {
        rc = avow__fail(&d, AVOW_ERR_STATEMENT_TYPE, "AttestationStatement.type",
                        "no verifier for statement type %s%s%s%s", r->type_oid,
                        r->row != NULL ? " (" : "", r->row != NULL ? r->row->name : "",
                        r->row != NULL ? ")" : "");
        avow__strlcpy(r->detail, d.detail, sizeof(r->detail));
        r->status = rc;
    } else {
        rc = run_row(r, v, stmt, len, opts, &d);
    }
    avow__ossl_clear();
    if (diag != NULL)
        *diag = rc == AVOW_OK ? (avow_diag){0} : d;
    *out = r;
    return rc;
}

avow_err avow_statement_result_status(const avow_statement_result *r)
{
    return r != NULL ? r->status : AVOW_ERR_ARG;
}

const char *avow_statement_result_detail(const avow_statement_result *r)
{
    return r != NULL ? r->detail : "";
}

const char *avow_statement_result_type_name(const avow_statement_result *r)
{
    return r != NULL && r->row != NULL ? r->row->name : "unknown";
}

const char *avow_statement_result_type_oid(const avow_statement_result *r)
{
    return r != NULL ? r->type_oid : "";
}

const avow_statement_type *avow_statement_result_get0_type(const avow_statement_result *r)
{
    return r != NULL ? r->row : NULL;
}

const avow_claimset *avow_statement_result_get0_claims(const avow_statement_result *r)
{
    return r != NULL ? &r->claims : NULL;
}

avow_nonce_state avow_statement_result_nonce_state(const avow_statement_result *r)
{
    return r != NULL ? r->nonce_state : AVOW_NONCE_NOT_CHECKED;
}

avow_view avow_statement_result_nonce(const avow_statement_result *r)
{
    static const avow_view none = {NULL, 0};
    return r != NULL ? r->nonce : none;
}

size_t avow_statement_result_key_count(const avow_statement_result *r)
{
    return r != NULL ? r->nkeys : 0;
}

const avow_attested_key *avow_statement_result_get0_key(const avow_statement_result *r, size_t i)
{
    return r != NULL && i < r->nkeys ? &r->keys[i] : NULL;
}

const avow_attested_key *avow_statement_result_find_key(const avow_statement_result *r,
                                                        const uint8_t *spki, size_t len)
{
    for (size_t i = 0; r != NULL && spki != NULL && i < r->nkeys; i++)
        if (r->keys[i].spki.len == len && memcmp(r->keys[i].spki.ptr, spki, len) == 0)
            return &r->keys[i];
    return NULL;
}

int avow_statement_result_key_named(const avow_statement_result *r, size_t element_index,
                                    const uint8_t *id, size_t len)
{
    const avow_nclaim *c = NULL;
    if (r == NULL || id == NULL)
        return 0;
    while ((c = avow_claimset_find_role(&r->claims, AVOW_ROLE_KEY_ID, c)) != NULL)
        if (c->element_index == element_index && c->signed_by != 0 && c->value.present &&
            c->value.bytes.len == len && memcmp(c->value.bytes.ptr, id, len) == 0)
            return 1;
    return 0;
}

const void *avow_statement_result_get0_native(const avow_statement_result *r, const char *name)
{
    if (r == NULL || r->row == NULL || name == NULL)
        return NULL;
    if (r->row->native_name != NULL && strcmp(r->row->native_name, name) == 0)
        return r->native;
    if (r->row->verified_name != NULL && strcmp(r->row->verified_name, name) == 0)
        return r->verified;
    return NULL;
}

int avow_statement_result_linked_to(const avow_statement_result *r, size_t *stmt, const char **how)
{
    if (r == NULL || r->linked_to == NOT_LINKED)
        return 0;
    if (stmt != NULL)
        *stmt = r->linked_to;
    if (how != NULL)
        *how = r->link_how;
    return 1;
}

int avow_statement_result_nested_in(const avow_statement_result *r, size_t *outer,
                                    const char **field)
{
    if (r == NULL || r->nested_in == NOT_LINKED)
        return 0;
    if (outer != NULL)
        *outer = r->nested_in;
    if (field != NULL)
        *field = r->nested_field;
    return 1;
}

/* --- the second pass --- */

const char *avow__link_hash_name(size_t n)
{
    return n == 32 ? "sha-256" : n == 48 ? "sha-384" : "sha-512";
}

int avow__link_binds(avow_view nonce, const avow_link_key *key)
{
    uint8_t h[64];
    avow_view enc = key->encoding;
    uint8_t *der = NULL;
    if (enc.len == 0 && key->key != NULL) {
        int n = i2d_PUBKEY(key->key, &der);
        if (n <= 0) {
            avow__ossl_clear();
            return 0;
        }
        enc.ptr = der;
        enc.len = (size_t)n;
    }
    int ok = enc.len > 0 && avow_kat_link_nonce(enc.ptr, enc.len, nonce.len, h) == AVOW_OK &&
             avow__ct_equal(h, nonce.len, nonce.ptr, nonce.len);
    OPENSSL_free(der);
    return ok;
}

/* The role of the first key of k that nonce binds: 0 none, 1 its signer, 2 a key it attests. */
static int bound_key(const avow_statement_result *k, avow_view nonce, const char **form)
{
    avow_link_key key;
    int wrong = 0;
    for (size_t i = 0;
         k->row->link_keys != NULL && k->row->link_keys(k->row, k->native, k->verified, i, &key);
         i++) {
        if (!avow__link_binds(nonce, &key))
            continue;
        *form = key.form;
        if (key.role == AVOW_LINK_SIGNER)
            return 1;
        wrong = 1;
    }
    for (size_t i = 0; i < k->nkeys && !wrong; i++) {
        avow_link_key a = {AVOW_LINK_ATTESTED, k->keys[i].spki, NULL, "spki"};
        wrong = avow__link_binds(nonce, &a);
    }
    return wrong ? 2 : 0;
}

/* A platform candidate: its signature verified and it carries a signed nonce of a hash's size
 * that is not the request's. */
static int candidate(const avow_statement_result *p)
{
    return p->row != NULL && p->nested_in == NOT_LINKED && p->verify_status == AVOW_OK &&
           p->nonce_state != AVOW_NONCE_MATCH &&
           (p->status == AVOW_OK || p->status == AVOW_ERR_NONCE_MISMATCH) &&
           (p->nonce.len == 32 || p->nonce.len == 48 || p->nonce.len == 64);
}

static int verified_row(const avow_statement_result *k)
{
    return k->row != NULL && k->verify_status == AVOW_OK && k->status != AVOW_ERR_STATEMENT_TYPE;
}

static int needs_platform(const avow_statement_result *k, const unsigned char *needs, size_t i)
{
    return k->row != NULL &&
           ((k->row->link_flags & AVOW_LINK_NEEDS_PLATFORM) || (needs != NULL && needs[i]));
}

void avow__statements_link(avow_statement_result **r, size_t n, const unsigned char *needs)
{
    size_t wrong_of[AVOW_VERIFICATION_MAX_STATEMENTS];
    for (size_t pi = 0; pi < n; pi++) {
        avow_statement_result *p = r[pi];
        wrong_of[pi] = NOT_LINKED;
        if (!candidate(p))
            continue;
        for (size_t ki = 0; ki < n && p->linked_to == NOT_LINKED; ki++) {
            avow_statement_result *k = r[ki];
            const char *form = NULL;
            if (ki == pi || !verified_row(k))
                continue;
            int b = bound_key(k, p->nonce, &form);
            if (b == 1) {
                p->linked_to = ki;
                p->link_how = form != NULL && strcmp(form, "cose-key") == 0
                                  ? (p->nonce.len == 32   ? "nonce = sha-256(kak cose-key)"
                                     : p->nonce.len == 48 ? "nonce = sha-384(kak cose-key)"
                                                          : "nonce = sha-512(kak cose-key)")
                                  : (p->nonce.len == 32   ? "nonce = sha-256(signer spki)"
                                     : p->nonce.len == 48 ? "nonce = sha-384(signer spki)"
                                                          : "nonce = sha-512(signer spki)");
                /* Fresh through the statement it binds, which carries the request's nonce. */
                p->status = AVOW_OK;
                p->detail[0] = '\0';
                p->nonce_state = AVOW_NONCE_NOT_CHECKED;
            } else if (b == 2 && wrong_of[pi] == NOT_LINKED) {
                wrong_of[pi] = ki;
            }
        }
        if (p->linked_to == NOT_LINKED && wrong_of[pi] != NOT_LINKED)
            avow__stmt_fail(p, AVOW_ERR_KAT_LINK_WRONG_KEY,
                            "its nonce is the %s of a key statement %zu (%s) attests, not of the "
                            "key that signs it",
                            avow__link_hash_name(p->nonce.len), wrong_of[pi],
                            r[wrong_of[pi]]->row->name);
    }
    for (size_t ki = 0; ki < n; ki++) {
        avow_statement_result *k = r[ki];
        if (!needs_platform(k, needs, ki) || k->status != AVOW_OK)
            continue;
        size_t broken = NOT_LINKED, wrong = NOT_LINKED, other = NOT_LINKED;
        int linked = 0, nested_by_nonce = 0;
        for (size_t pi = 0; pi < n; pi++) {
            const avow_statement_result *p = r[pi];
            if (pi == ki)
                continue;
            /* A token nested in it binds its signer only when bound by the signer's key; one
             * bound by the nonce says the platform was fresh, not that it holds this key. */
            if (p->nested_in == ki && p->linked_to == ki && !p->nested_by_signer)
                nested_by_nonce = 1;
            else if (p->linked_to == ki)
                linked = 1;
            else if (p->linked_to != NOT_LINKED &&
                     needs_platform(r[p->linked_to], needs, p->linked_to))
                other = other == NOT_LINKED ? pi : other;
            else if (p->status == AVOW_ERR_KAT_LINK_WRONG_KEY && wrong_of[pi] == ki)
                wrong = pi;
            else if (candidate(p) && broken == NOT_LINKED)
                broken = pi;
        }
        if (linked)
            continue;
        if (wrong != NOT_LINKED) {
            avow__stmt_fail(k, AVOW_ERR_KAT_LINK_WRONG_KEY,
                            "the platform token (statement %zu) binds the attested key, not the "
                            "key (KAK) that signs this statement",
                            wrong);
        } else if (broken != NOT_LINKED) {
            avow__stmt_fail(r[broken], AVOW_ERR_KAT_LINK_BROKEN,
                            "its nonce is neither the request's nor the %s of the key of "
                            "statement %zu (%s)",
                            avow__link_hash_name(r[broken]->nonce.len), ki, k->row->name);
            avow__stmt_fail(k, AVOW_ERR_KAT_LINK_BROKEN,
                            "the platform token (statement %zu) does not bind this statement's "
                            "signer: its nonce is not the %s of it",
                            broken, avow__link_hash_name(r[broken]->nonce.len));
        } else if (other != NOT_LINKED) {
            avow__stmt_fail(k, AVOW_ERR_KAT_LINK_SWAPPED,
                            "the only platform token (statement %zu) binds the key of statement "
                            "%zu, not this one's",
                            other, r[other]->linked_to);
        } else if (nested_by_nonce) {
            avow__stmt_fail(k, AVOW_ERR_KAT_UNLINKED,
                            "its nested platform token is bound by its nonce, not by its signer's "
                            "key (AVOW_VERIFY_NESTED_BY_SIGNER)");
        } else {
            avow__stmt_fail(k, AVOW_ERR_KAT_UNLINKED,
                            "no platform token of the request binds this statement's signer");
        }
    }
}

/* --- the combined form: statements nested in a statement --- */

static const char *signer_how(size_t n)
{
    return n == 32   ? "nested: nonce = sha-256(outer signer spki)"
           : n == 48 ? "nested: nonce = sha-384(outer signer spki)"
                     : "nested: nonce = sha-512(outer signer spki)";
}

/* Whether the inner nonce is the hash of a key whose signature on outer verified. */
static int binds_signer(const avow_statement_result *outer, avow_view nonce)
{
    avow_link_key key;
    if (nonce.len != 32 && nonce.len != 48 && nonce.len != 64)
        return 0;
    for (size_t i = 0; outer->row->link_keys != NULL &&
                       outer->row->link_keys(outer->row, outer->native, outer->verified, i, &key);
         i++)
        if (key.role == AVOW_LINK_SIGNER && avow__link_binds(nonce, &key))
            return 1;
    return 0;
}

/*
 * The inner statement checked against its outer one: depth, its own
 * verification, then what binds it (docs/kat.md). Leaves inner's status
 * its own code and fails outer with AVOW_ERR_NESTED naming where.
 */
static void check_nested(avow_statement_result *outer, avow_statement_result *inner, unsigned flags)
{
    avow_nested_stmt deeper;
    memset(&deeper, 0, sizeof(deeper));
    if (inner->row != NULL && inner->row->nested != NULL && inner->verify_status == AVOW_OK &&
        inner->row->nested(inner->row, inner->native, inner->verified, 0, &deeper))
        avow__stmt_fail(inner, AVOW_ERR_NESTED,
                        "%s: it nests a statement of its own (%s); nesting deeper than %u level "
                        "is refused",
                        inner->nested_field, deeper.field, AVOW_NESTED_MAX_DEPTH);
    else if (inner->status == AVOW_OK && inner->nonce.len == 0)
        avow__stmt_fail(inner, AVOW_ERR_NESTED,
                        "%s: it carries no signed nonce, so nothing binds it to the statement "
                        "it is nested in",
                        inner->nested_field);
    else if (inner->status == AVOW_OK && (flags & AVOW_VERIFY_NESTED_BY_SIGNER) &&
             !binds_signer(outer, inner->nonce))
        avow__stmt_fail(inner, AVOW_ERR_NONCE_MISMATCH,
                        "%s: its nonce is not the hash of the SubjectPublicKeyInfo of a key that "
                        "signed the statement it is nested in",
                        inner->nested_field);
    else if (inner->status == AVOW_ERR_NONCE_MISMATCH || inner->status == AVOW_ERR_NONCE_MISSING)
        avow__stmt_fail(inner, inner->status,
                        "%s: its nonce is not the signed nonce of the statement it is nested in",
                        inner->nested_field);
    else if (inner->status != AVOW_OK &&
             strncmp(inner->detail, inner->nested_field, strlen(inner->nested_field)) != 0) {
        char d[sizeof(inner->detail)];
        avow__strlcpy(d, inner->detail, sizeof(d));
        avow__stmt_fail(inner, inner->status, "%s: %s", inner->nested_field, d);
    }
    if (inner->status != AVOW_OK) {
        /* an outer statement that failed already keeps its first reason */
        if (outer->status != AVOW_OK)
            return;
        avow__stmt_fail(outer, AVOW_ERR_NESTED, "its nested %s statement: %s: %s",
                        avow_statement_result_type_name(inner), avow_errname(inner->status),
                        inner->detail);
        return;
    }
    inner->linked_to = inner->nested_in;
    inner->link_how = (flags & AVOW_VERIFY_NESTED_BY_SIGNER) ? signer_how(inner->nonce.len)
                                                             : "nested: nonce = the outer nonce";
    if (flags & AVOW_VERIFY_NESTED_BY_SIGNER) {
        inner->nonce_state = AVOW_NONCE_NOT_CHECKED; /* fresh through the outer statement */
        inner->nested_by_signer = 1;
    }
}

avow_err avow__statement_nested(const avow_verifier *v, const avow_registry *reg,
                                const avow_verify_opts *vo, avow_statement_result *outer, size_t oi,
                                size_t k, avow_statement_result **inner)
{
    *inner = NULL;
    avow_nested_stmt ns;
    memset(&ns, 0, sizeof(ns));
    if (outer->row == NULL || outer->row->nested == NULL || outer->verify_status != AVOW_OK ||
        !outer->row->nested(outer->row, outer->native, outer->verified, k, &ns))
        return AVOW_OK;
    if (k >= AVOW_NESTED_MAX_PER_STATEMENT) {
        avow__stmt_fail(outer, AVOW_ERR_NESTED, "%s: more than %u nested statements", ns.field,
                        AVOW_NESTED_MAX_PER_STATEMENT);
        return AVOW_OK;
    }
    unsigned flags = v->flags | (vo != NULL ? vo->flags : 0);
    avow_verify_opts io;
    avow_verify_opts_init(&io);
    io.flags = vo != NULL ? vo->flags : 0;
    io.untrusted = vo != NULL ? vo->untrusted : NULL;
    /* By default the nested statement must answer the outer one's challenge. */
    if (!(flags & AVOW_VERIFY_NESTED_BY_SIGNER) && outer->nonce.len > 0) {
        io.nonce = outer->nonce.ptr;
        io.nonce_len = outer->nonce.len;
    }
    avow_statement_result *r = NULL;
    avow_err rc = avow_statement_verify(v, reg, ns.type.der, ns.type.len, ns.stmt.ptr, ns.stmt.len,
                                        &io, &r, NULL);
    if (r == NULL)
        return rc == AVOW_ERR_NOMEM ? rc : AVOW_ERR_NOMEM;
    r->nested_in = oi;
    avow__strlcpy(r->nested_field, ns.field, sizeof(r->nested_field));
    if (!(flags & AVOW_VERIFY_NESTED_BY_SIGNER) && outer->nonce.len == 0)
        avow__stmt_fail(r, AVOW_ERR_NESTED,
                        "%s: the statement it is nested in carries no signed nonce to bind it to",
                        r->nested_field);
    check_nested(outer, r, flags);
    *inner = r;
    return AVOW_OK;
}
