/*
 * The evidence-type registry: a const table of built-in rows plus optional
 * caller rows, and the dispatch that turns (type OID, stmt) into a uniform
 * avow_statement_result. Adding a format = a stmt_<format>.c file with its
 * verify function, its prototype in registry_int.h, and one row below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "verifier/registry_int.h"

static const avow_statement_type builtin[] = {
    {"pkix-evidence", AVOW_TYPE_OID_EVIDENCE_ARC, {0, {0}}, avow__stmt_verify_pkix, NULL},
};

#define MAX_ROWS 64u

struct avow_registry {
    avow_statement_type *rows;
    size_t nrows;
};

size_t avow_registry_builtin_count(void)
{
    return sizeof(builtin) / sizeof(builtin[0]);
}

const avow_statement_type *avow_registry_builtin(size_t i)
{
    return i < avow_registry_builtin_count() ? &builtin[i] : NULL;
}

avow_err avow_registry_new(avow_registry **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = OPENSSL_zalloc(sizeof(**out));
    return *out != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

void avow_registry_free(avow_registry *reg)
{
    if (reg == NULL)
        return;
    OPENSSL_free(reg->rows);
    OPENSSL_free(reg);
}

avow_err avow_registry_add(avow_registry *reg, const avow_statement_type *row)
{
    if (reg == NULL || row == NULL || row->name == NULL || row->verify == NULL ||
        (row->oid_kind == AVOW_TYPE_OID_FIXED && row->oid.len == 0))
        return AVOW_ERR_ARG;
    if (reg->nrows >= MAX_ROWS)
        return AVOW_ERR_TOO_LARGE;
    avow_statement_type *n = OPENSSL_realloc(reg->rows, (reg->nrows + 1) * sizeof(*n));
    if (n == NULL)
        return AVOW_ERR_NOMEM;
    n[reg->nrows++] = *row;
    reg->rows = n;
    return AVOW_OK;
}

static int row_matches(const avow_statement_type *row, const avow_profile *p, const uint8_t *oid,
                       size_t len)
{
    const avow_oid *o = row->oid_kind == AVOW_TYPE_OID_EVIDENCE_ARC ? &p->evidence_arc : &row->oid;
    return o->len == len && len > 0 && memcmp(o->der, oid, len) == 0;
}

const avow_statement_type *avow_registry_find(const avow_registry *reg, const avow_profile *profile,
                                              const uint8_t *oid, size_t oid_len)
{
    avow_profile def;
    if (profile == NULL) {
        avow_profile_default(&def);
        profile = &def;
    }
    if (oid == NULL)
        return NULL;
    for (size_t i = 0; reg != NULL && i < reg->nrows; i++)
        if (row_matches(&reg->rows[i], profile, oid, oid_len))
            return &reg->rows[i];
    for (size_t i = 0; i < avow_registry_builtin_count(); i++)
        if (row_matches(&builtin[i], profile, oid, oid_len))
            return &builtin[i];
    return NULL;
}

avow_err avow__stmt_fail(avow_statement_result *out, avow_err status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
    va_end(ap);
    out->status = status;
    return status;
}

void avow_statement_result_clear(avow_statement_result *r)
{
    if (r == NULL)
        return;
    if (r->priv_free_ != NULL)
        r->priv_free_(r->priv_);
    else
        avow_claimset_clear(&r->claims);
    memset(r, 0, sizeof(*r));
    r->key_element = -1;
}

avow_err avow_statement_verify(const avow_verifier *v, const avow_registry *reg,
                               const uint8_t *type_oid, size_t type_oid_len, const uint8_t *stmt,
                               size_t len, const avow_verify_opts *opts, const uint8_t *spki,
                               size_t spki_len, avow_statement_result *out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "result", "no result pointer");
    memset(out, 0, sizeof(*out));
    out->key_element = -1;
    out->type_name = "unknown";
    if (v == NULL || type_oid == NULL || stmt == NULL) {
        avow__stmt_fail(out, AVOW_ERR_ARG, "no verifier, type or statement");
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "no verifier, type or statement");
    }
    avow_oid_to_text(type_oid, type_oid_len, out->type_oid, sizeof(out->type_oid));
    const avow_statement_type *row =
        avow_registry_find(reg, avow_verifier_profile(v), type_oid, type_oid_len);
    if (row == NULL) {
        avow__stmt_fail(out, AVOW_ERR_STATEMENT_TYPE, "no verifier for statement type %s",
                        out->type_oid);
        return avow__fail(diag, AVOW_ERR_STATEMENT_TYPE, "AttestationStatement.type",
                          "no verifier for statement type %s", out->type_oid);
    }
    out->type_name = row->name;
    avow_err rc = row->verify(row, v, stmt, len, opts, spki, spki_len, out, diag);
    out->status = rc;
    avow__ossl_clear();
    return rc;
}
