/*
 * avow_statements_verify: every statement through the registry, then the
 * key bound to a key a verified statement attests. Possession is the
 * caller's finding (a CSR's self-signature, a PoP JWT); it is carried, and
 * it decides the overall status first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/verification.h>

#include "core/internal.h"
#include "core/json.h"
#include "verifier/registry_int.h"

struct avow_verification {
    avow_err status;
    char detail[256];
    avow_err possession;
    const char *possession_detail; /* borrowed from the input */
    avow_err binding;
    const char *bound_by;
    size_t bound_statement; /* AVOW_NO_ELEMENT when unbound */
    size_t bound_element;
    size_t verified, unknown;
    size_t n;
    avow_statement_result **statements;
    avow_buf key; /* a copy of the input's key */
};

void avow_statements_in_init(avow_statements_in *in)
{
    if (in == NULL)
        return;
    memset(in, 0, sizeof(*in));
    in->size = sizeof(*in);
}

void avow_verification_opts_init(avow_verification_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

static void set_detail(avow_verification *r, const char *fmt, ...) AVOW_PRINTF(2, 3);

static void set_detail(avow_verification *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

void avow_verification_free(avow_verification *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        avow_statement_result_free(r->statements[i]);
    OPENSSL_free(r->statements);
    OPENSSL_free(r->key.ptr);
    OPENSSL_free(r);
}

static avow_err check_args(const avow_verifier *v, const avow_statements_in *in,
                           const avow_verification_opts *o, avow_diag *diag)
{
    if (v == NULL || in == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "statements", "no verifier or statements");
    if (in->size != sizeof(*in) || o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, in->size != sizeof(*in) ? "in.size" : "opts.size",
                          "not set up with its _init function");
    if (in->nstatements > AVOW_VERIFICATION_MAX_STATEMENTS ||
        (in->nstatements > 0 && in->statements == NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "statements", "%zu statements (at most %u)",
                          in->nstatements, AVOW_VERIFICATION_MAX_STATEMENTS);
    if (o->nlink_required > AVOW_VERIFICATION_MAX_STATEMENTS ||
        (o->nlink_required > 0 && o->link_required == NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "link_required", "%zu types (at most %u)",
                          o->nlink_required, AVOW_VERIFICATION_MAX_STATEMENTS);
    if ((o->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER) &&
        (o->bind_identifier == NULL || o->bind_identifier_len == 0))
        return avow__fail(diag, AVOW_ERR_ARG, "bind_identifier",
                          "binding by identifier needs the identifier the policy names");
    return AVOW_OK;
}

/* Binds by SPKI, else by identifier, else (no key given) to the first verified statement. */
static void bind_key(avow_verification *r, const avow_verification_opts *o)
{
    for (size_t i = 0; i < r->n && r->bound_by == NULL; i++) {
        const avow_statement_result *s = r->statements[i];
        if (avow_statement_result_status(s) != AVOW_OK)
            continue;
        if (r->key.len == 0) {
            r->bound_statement = i;
            r->bound_by = "none";
            return;
        }
        const avow_attested_key *k = avow_statement_result_find_key(s, r->key.ptr, r->key.len);
        if (k != NULL) {
            r->bound_statement = i;
            r->bound_element = k->element_index;
            r->bound_by = "key-spki";
        }
    }
    if (r->bound_by != NULL || !(o->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER))
        return;
    for (size_t i = 0; i < r->n && r->bound_by == NULL; i++) {
        const avow_statement_result *s = r->statements[i];
        const avow_claimset *cs = avow_statement_result_get0_claims(s);
        if (avow_statement_result_status(s) != AVOW_OK)
            continue;
        for (size_t c = 0; c < cs->count && r->bound_by == NULL; c++) {
            size_t e = cs->items[c].element_index;
            if ((cs->items[c].roles & AVOW_ROLE_KEY_ID) &&
                avow_statement_result_key_named(s, e, o->bind_identifier, o->bind_identifier_len)) {
                r->bound_statement = i;
                r->bound_element = e;
                r->bound_by = "key-id";
            }
        }
    }
}

/* The overall status, in the order of the header. */
static void conclude(avow_verification *r, avow_err first_fail, size_t at,
                     const avow_verification_opts *o)
{
    if (r->possession != AVOW_OK) {
        r->status = r->possession;
        set_detail(r, "proof of possession: %s",
                   r->possession_detail != NULL ? r->possession_detail
                                                : avow_strerror(r->possession));
    } else if (first_fail != AVOW_OK) {
        r->status = first_fail;
        set_detail(r, "statement %zu (%s): %s", at,
                   avow_statement_result_type_name(r->statements[at]),
                   avow_statement_result_detail(r->statements[at]));
    } else if (r->verified == 0) {
        r->status = AVOW_ERR_STATEMENT_TYPE;
        set_detail(r, "no statement of a type this verifier knows (%zu unknown)", r->unknown);
    } else if (r->binding != AVOW_OK) {
        r->status = AVOW_ERR_KEY_BINDING;
        set_detail(r, "no verified statement attests the request's public key%s",
                   (o->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER) ? " (by spki or identifier)"
                                                                  : " (by spki)");
    } else {
        r->status = AVOW_OK;
    }
}

/*
 * Appends the statements nested in the first ntop ones, one level deep
 * (avow__statement_nested refuses deeper ones), within the input limit.
 */
static avow_err add_nested(avow_verification *r, const avow_verifier *v,
                           const avow_verification_opts *o, const avow_verify_opts *vo, size_t ntop)
{
    for (size_t i = 0; i < ntop; i++) {
        for (size_t k = 0;; k++) {
            avow_statement_result *inner = NULL;
            avow_err rc =
                avow__statement_nested(v, o->registry, vo, r->statements[i], i, k, &inner);
            if (rc != AVOW_OK)
                return rc;
            if (inner == NULL)
                break;
            if (r->n >= AVOW_VERIFICATION_MAX_STATEMENTS) {
                avow_statement_result_free(inner);
                avow__stmt_fail(r->statements[i], AVOW_ERR_NESTED,
                                "its nested statements exceed the limit of %u statements",
                                AVOW_VERIFICATION_MAX_STATEMENTS);
                break;
            }
            avow_statement_result **g =
                OPENSSL_realloc(r->statements, (r->n + 1) * sizeof(*r->statements));
            if (g == NULL) {
                avow_statement_result_free(inner);
                return AVOW_ERR_NOMEM;
            }
            r->statements = g;
            r->statements[r->n++] = inner;
        }
    }
    return AVOW_OK;
}

avow_err avow_statements_verify(const avow_verifier *v, const avow_statements_in *in,
                                const avow_verification_opts *opts, avow_verification **out,
                                avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    avow_verification_opts none;
    avow_verification_opts_init(&none);
    const avow_verification_opts *o = opts != NULL ? opts : &none;
    avow_err rc = check_args(v, in, o, diag);
    if (rc != AVOW_OK)
        return rc;

    avow_verification *r = OPENSSL_zalloc(sizeof(*r));
    size_t n = in->nstatements;
    if (r == NULL ||
        (n > 0 && (r->statements = OPENSSL_zalloc(n * sizeof(*r->statements))) == NULL) ||
        (in->key.len > 0 && (r->key.ptr = avow__memdup(in->key.ptr, in->key.len)) == NULL)) {
        avow_verification_free(r);
        return avow__fail(diag, AVOW_ERR_NOMEM, "statements", "out of memory");
    }
    r->key.len = in->key.len;
    r->possession = in->possession;
    r->possession_detail = in->possession_detail;
    r->bound_statement = AVOW_NO_ELEMENT;
    r->bound_element = AVOW_NO_ELEMENT;

    avow_verify_opts vo;
    avow_verify_opts_init(&vo);
    vo.nonce = o->nonce;
    vo.nonce_len = o->nonce_len;
    vo.flags = o->verify_flags;
    vo.untrusted = in->untrusted;
    avow_err first_fail = AVOW_OK;
    size_t first_fail_at = 0;
    for (size_t i = 0; i < n; i++) {
        const avow_statement_in *st = &in->statements[i];
        rc = avow_statement_verify(v, o->registry, st->type.ptr, st->type.len, st->der.ptr,
                                   st->der.len, &vo, &r->statements[i], NULL);
        r->n = i + 1;
        if (r->statements[i] == NULL) {
            avow_verification_free(r);
            return avow__fail(diag, rc, "statements", "statement %zu: %s", i, avow_strerror(rc));
        }
        if (rc == AVOW_OK) {
            r->verified++;
        } else if (rc == AVOW_ERR_STATEMENT_TYPE) {
            r->unknown++;
        } else if (first_fail == AVOW_OK) {
            first_fail = rc;
            first_fail_at = i;
        }
    }
    /* Statements nested in those of the input (the combined form) follow them. */
    if ((rc = add_nested(r, v, o, &vo, n)) != AVOW_OK) {
        avow_verification_free(r);
        return avow__fail(diag, rc, "statements", "out of memory");
    }
    /* The second pass: statements that speak for each other (docs/kat.md). */
    unsigned char needs[AVOW_VERIFICATION_MAX_STATEMENTS] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < o->nlink_required && o->link_required != NULL; k++)
            if (o->link_required[k] != NULL &&
                (strcmp(avow_statement_result_type_name(r->statements[i]), o->link_required[k]) ==
                     0 ||
                 strcmp(avow_statement_result_type_oid(r->statements[i]), o->link_required[k]) ==
                     0))
                needs[i] = 1;
    avow__statements_link(r->statements, r->n, needs);
    first_fail = AVOW_OK;
    r->verified = r->unknown = 0;
    for (size_t i = 0; i < r->n; i++) {
        rc = avow_statement_result_status(r->statements[i]);
        if (rc == AVOW_OK) {
            r->verified++;
        } else if (rc == AVOW_ERR_STATEMENT_TYPE) {
            r->unknown++;
        } else if (first_fail == AVOW_OK) {
            first_fail = rc;
            first_fail_at = i;
        }
    }
    bind_key(r, o);
    r->binding = r->bound_by != NULL ? AVOW_OK : AVOW_ERR_KEY_BINDING;
    conclude(r, first_fail, first_fail_at, o);

    avow_err status = r->status;
    if (status != AVOW_OK)
        avow__fail(diag, status, "statements", "%s", r->detail);
    else
        avow_diag_clear(diag);
    avow__ossl_clear();
    if (out != NULL)
        *out = r;
    else
        avow_verification_free(r);
    return status;
}

avow_err avow_verification_status(const avow_verification *r)
{
    return r != NULL ? r->status : AVOW_ERR_ARG;
}

const char *avow_verification_detail(const avow_verification *r)
{
    return r != NULL ? r->detail : "";
}

avow_err avow_verification_possession(const avow_verification *r, const char **detail)
{
    if (detail != NULL)
        *detail = r != NULL ? r->possession_detail : NULL;
    return r != NULL ? r->possession : AVOW_ERR_ARG;
}

avow_err avow_verification_binding(const avow_verification *r)
{
    return r != NULL ? r->binding : AVOW_ERR_ARG;
}

const char *avow_verification_bound_by(const avow_verification *r)
{
    return r != NULL ? r->bound_by : NULL;
}

int avow_verification_bound(const avow_verification *r, size_t *stmt, size_t *element)
{
    if (r == NULL || r->bound_by == NULL)
        return 0;
    if (stmt != NULL)
        *stmt = r->bound_statement;
    if (element != NULL)
        *element = r->bound_element;
    return 1;
}

size_t avow_verification_count(const avow_verification *r)
{
    return r != NULL ? r->n : 0;
}

size_t avow_verification_verified(const avow_verification *r)
{
    return r != NULL ? r->verified : 0;
}

size_t avow_verification_unknown(const avow_verification *r)
{
    return r != NULL ? r->unknown : 0;
}

const avow_statement_result *avow_verification_get0(const avow_verification *r, size_t i)
{
    return r != NULL && i < r->n ? r->statements[i] : NULL;
}

avow_view avow_verification_key(const avow_verification *r)
{
    avow_view v = {NULL, 0};
    if (r != NULL) {
        v.ptr = r->key.ptr;
        v.len = r->key.len;
    }
    return v;
}

static json_t *index_json(size_t i)
{
    return json_integer(i == AVOW_NO_ELEMENT ? -1 : (json_int_t)i);
}

avow_err avow_verification_to_json(const avow_verification *r, avow_buf *out, avow_diag *diag)
{
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "verification", "no result or output");
    int bad = 0;
    json_t *o = json_object(), *st = json_array();
    avow__json_put(o, "status", avow__json_errname(r->status), &bad);
    avow__json_put(o, "detail", avow__json_text(r->detail), &bad);
    avow__json_put(o, "pop", avow__json_errname(r->possession), &bad);
    avow__json_put(o, "binding", avow__json_errname(r->binding), &bad);
    avow__json_put(o, "bound_by", r->bound_by != NULL ? json_string(r->bound_by) : json_null(),
                   &bad);
    avow__json_put(o, "bound_statement",
                   index_json(r->bound_by != NULL ? r->bound_statement : AVOW_NO_ELEMENT), &bad);
    avow__json_put(o, "bound_element",
                   index_json(r->bound_by != NULL ? r->bound_element : AVOW_NO_ELEMENT), &bad);
    json_t *links = json_array();
    for (size_t i = 0; st != NULL && i < r->n; i++) {
        const avow_statement_result *s = r->statements[i];
        json_t *j = json_pack("{s:s,s:s,s:o,s:o}", "name", avow_statement_result_type_name(s),
                              "type", avow_statement_result_type_oid(s), "status",
                              avow__json_errname(avow_statement_result_status(s)), "detail",
                              avow__json_text(avow_statement_result_detail(s)));
        size_t outer = 0;
        const char *field = NULL;
        /* the combined form: where a nested statement sat */
        if (j != NULL && avow_statement_result_nested_in(s, &outer, &field)) {
            avow__json_put(j, "nested_in", index_json(outer), &bad);
            avow__json_put(j, "nested_at", avow__json_text(field), &bad);
        }
        size_t k = 0;
        const char *how = NULL;
        /* The second pass's links: which platform token vouches for which statement's signer. */
        if (j != NULL && avow_statement_result_linked_to(s, &k, &how) && k < r->n) {
            const char *kn = avow_statement_result_type_name(r->statements[k]);
            avow__json_put(j, "linked_to",
                           json_pack("{s:I,s:s,s:s}", "statement", (json_int_t)k, "name", kn, "how",
                                     how != NULL ? how : ""),
                           &bad);
            json_t *l = json_pack("{s:I,s:s,s:I,s:s,s:s}", "platform", (json_int_t)i,
                                  "platform_name", avow_statement_result_type_name(s), "binds",
                                  (json_int_t)k, "binds_name", kn, "how", how != NULL ? how : "");
            if (l == NULL || links == NULL || json_array_append_new(links, l) != 0)
                bad = 1;
        }
        if (j == NULL || json_array_append_new(st, j) != 0)
            bad = 1;
    }
    avow__json_put(o, "statements", st, &bad);
    avow__json_put(o, "links", links, &bad);
    avow_err rc =
        bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 0, out);
    json_decref(o);
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "verification", "out of memory");
}
