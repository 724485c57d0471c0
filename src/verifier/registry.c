/*
 * The statement-type registry: a const table of built-in rows plus
 * optional caller rows, and the dispatch that turns (type OID, statement)
 * into a uniform avow_statement_result. Adding a format = its files, and
 * one row below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include <avow/request.h>

#include "core/internal.h"
#include "verifier/registry_int.h"

#define MAX_ROWS 64u

struct avow_registry {
    avow_statement_type *rows;
    size_t nrows;
};

/* The rows that verify, one per format; every type avow names, it verifies. */
static const avow_statement_type *const format_rows[] = {
    &avow__pkix_row,     &avow__psa_row, &avow__cmw_row,
    &avow__dice_cmw_row, &avow__tpm_row, &avow__kat_row,
};
#define NFORMATS (sizeof(format_rows) / sizeof(format_rows[0]))

size_t avow_registry_builtin_count(void)
{
    return NFORMATS;
}

const avow_statement_type *avow_registry_builtin(size_t i)
{
    return i < NFORMATS ? format_rows[i] : NULL;
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

avow_err avow_registry_add(avow_registry *reg, const avow_statement_type *row, avow_diag *diag)
{
    if (reg == NULL || row == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "row", "no registry or row");
    if (row->size != sizeof(avow_statement_type))
        return avow__fail(diag, AVOW_ERR_ARG, "row.size",
                          "row of %zu bytes; this library knows rows of %zu", row->size,
                          sizeof(avow_statement_type));
    if (row->name == NULL || row->name[0] == '\0')
        return avow__fail(diag, AVOW_ERR_ARG, "row.name", "a row needs a name");
    if (row->oid_kind == AVOW_TYPE_OID_FIXED && row->oid.len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "row.oid", "row %s has no type OID", row->name);
    if ((row->decode != NULL) != (row->verify != NULL) ||
        (row->verify != NULL && row->to_claims == NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "row.verify",
                          "row %s: decode, verify and to_claims go together", row->name);
    if (reg->nrows >= MAX_ROWS)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "row", "more than %u rows", MAX_ROWS);
    avow_statement_type *n = OPENSSL_realloc(reg->rows, (reg->nrows + 1) * sizeof(*n));
    if (n == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "row", "out of memory");
    n[reg->nrows++] = *row;
    reg->rows = n;
    return AVOW_OK;
}

size_t avow_registry_count(const avow_registry *reg)
{
    return (reg != NULL ? reg->nrows : 0) + avow_registry_builtin_count();
}

const avow_statement_type *avow_registry_get0(const avow_registry *reg, size_t i)
{
    size_t own = reg != NULL ? reg->nrows : 0;
    return i < own ? &reg->rows[i] : avow_registry_builtin(i - own);
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
    for (size_t i = 0; i < avow_registry_count(reg); i++) {
        const avow_statement_type *row = avow_registry_get0(reg, i);
        if (row_matches(row, profile, oid, oid_len))
            return row;
    }
    return NULL;
}

avow_err avow__stmt_fail(avow_statement_result *r, avow_err status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    r->status = status;
    return status;
}

avow_err avow__stmt_fail_diag(avow_statement_result *r, avow_err status, const avow_diag *d)
{
    if (d->field[0] != '\0')
        return avow__stmt_fail(r, status, "%s: %s", d->field,
                               d->detail[0] != '\0' ? d->detail : avow_strerror(status));
    return avow__stmt_fail(r, status, "%s",
                           d->detail[0] != '\0' ? d->detail : avow_strerror(status));
}
