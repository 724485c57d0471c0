/*
 * Showing statements: through their row's to_text / to_json, or, for a
 * type no row shows, as what the bytes are. `avow csr show`, the verify
 * commands and the service print statements only through here.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/der.h"
#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "verifier/registry_int.h"
#include "verifier/show_int.h"

static avow_err text_of(const char *s, avow_buf *out)
{
    size_t n = strlen(s);
    out->ptr = OPENSSL_malloc(n + 1);
    if (out->ptr == NULL)
        return AVOW_ERR_NOMEM;
    memcpy(out->ptr, s, n + 1);
    out->len = n;
    return AVOW_OK;
}

/* A non-ASN.1 statement travels as an OCTET STRING: its content is what a reader wants. */
static avow_view octets_of(const uint8_t *stmt, size_t len)
{
    uint8_t tag = 0;
    size_t hdr = 0, body = 0;
    avow_view v = {NULL, 0};
    if (avow__der_header(stmt, len, &tag, &hdr, &body) == AVOW_OK && tag == 0x04 &&
        hdr + body == len) {
        v.ptr = stmt + hdr;
        v.len = body;
    }
    return v;
}

avow_err avow__statement_show_json(const avow_registry *reg, const avow_profile *profile,
                                   const uint8_t *type, size_t type_len, const uint8_t *stmt,
                                   size_t len, json_t *into)
{
    int bad = 0;
    const avow_statement_type *row = avow_registry_find(reg, profile, type, type_len);
    if (row == NULL || row->decode == NULL || row->to_json == NULL) {
        avow_view oct = octets_of(stmt, len);
        if (oct.len > 0)
            avow__json_put(into, "octets_hex", avow__json_hex(oct.ptr, oct.len), &bad);
        else
            avow__json_put(into, "der_hex", avow__json_hex(stmt, len), &bad);
        return bad ? AVOW_ERR_NOMEM : AVOW_OK;
    }
    void *native = NULL;
    avow_buf text = {0};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = row->decode(row, profile, stmt, len, &native, &d);
    if (rc == AVOW_OK)
        rc = row->to_json(row, native, NULL, &text);
    json_t *content = rc == AVOW_OK ? json_loadb((const char *)text.ptr, text.len, 0, NULL) : NULL;
    if (content != NULL)
        avow__json_put(into, "content", content, &bad);
    else
        avow__json_put(into, "content_error",
                       json_pack("{s:o,s:s,s:s}", "code", avow__json_errname(rc), "field", d.field,
                                 "detail", d.detail[0] ? d.detail : avow_strerror(rc)),
                       &bad);
    avow_buf_free(&text);
    if (row->free != NULL && native != NULL)
        row->free(row, native, NULL);
    return bad ? AVOW_ERR_NOMEM : AVOW_OK;
}

avow_err avow__statement_show_text(const avow_registry *reg, const avow_profile *profile,
                                   const uint8_t *type, size_t type_len, const uint8_t *stmt,
                                   size_t len, avow_buf *out)
{
    out->ptr = NULL;
    out->len = 0;
    const avow_statement_type *row = avow_registry_find(reg, profile, type, type_len);
    if (row == NULL || row->decode == NULL || row->to_text == NULL)
        return text_of("", out);
    void *native = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = row->decode(row, profile, stmt, len, &native, &d);
    if (rc == AVOW_OK)
        rc = row->to_text(row, native, NULL, out);
    if (row->free != NULL && native != NULL)
        row->free(row, native, NULL);
    if (rc == AVOW_OK)
        return AVOW_OK;
    char field[200], detail[400], line[700];
    avow__escape_str(d.field, 0, field, sizeof(field));
    avow__escape_str(d.detail[0] ? d.detail : avow_strerror(rc), 0, detail, sizeof(detail));
    snprintf(line, sizeof(line), "does not decode: %s%s%s (%s)\n", field, field[0] ? ": " : "",
             detail, avow_errname(rc) != NULL ? avow_errname(rc) : "?");
    return text_of(line, out);
}

avow_err avow_statement_show(const avow_registry *reg, const avow_profile *profile,
                             const uint8_t *type_oid, size_t type_oid_len, const uint8_t *stmt,
                             size_t len, int json, avow_buf *out, avow_diag *diag)
{
    if (out == NULL || type_oid == NULL || stmt == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "statement", "no statement or output");
    avow_profile def;
    if (profile == NULL) {
        avow_profile_default(&def);
        profile = &def;
    }
    avow_err rc;
    if (!json) {
        rc = avow__statement_show_text(reg, profile, type_oid, type_oid_len, stmt, len, out);
    } else {
        json_t *o = json_object();
        rc = o != NULL
                 ? avow__statement_show_json(reg, profile, type_oid, type_oid_len, stmt, len, o)
                 : AVOW_ERR_NOMEM;
        if (rc == AVOW_OK)
            rc = avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 0, out);
        json_decref(o);
    }
    avow__ossl_clear();
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "statement", "%s", avow_strerror(rc));
}

static avow_err result_print(const avow_statement_result *r, int json, avow_buf *out,
                             avow_diag *diag)
{
    if (r == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "result", "no result or output");
    out->ptr = NULL;
    out->len = 0;
    const avow_statement_type *row = r->row;
    avow_stmt_print_fn fn = row == NULL ? NULL : json ? row->to_json : row->to_text;
    avow_err rc;
    if (fn != NULL && r->native != NULL) {
        rc = fn(row, r->native, r->verified, out);
    } else if (json) {
        json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "name", avow_statement_result_type_name(r),
                              "type", r->type_oid, "status", avow__json_errname(r->status),
                              "detail", avow__json_text(r->detail));
        rc = o != NULL ? avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 0, out)
                       : AVOW_ERR_NOMEM;
        json_decref(o);
    } else {
        char line[900], detail[600];
        avow__escape_str(r->detail, 0, detail, sizeof(detail));
        snprintf(line, sizeof(line), "Statement %s (%s): %s%s%s\n", r->type_oid,
                 avow_statement_result_type_name(r),
                 r->status == AVOW_OK ? "verified" : avow_errname(r->status), detail[0] ? ": " : "",
                 detail);
        rc = text_of(line, out);
    }
    avow__ossl_clear();
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "statement", "%s", avow_strerror(rc));
}

avow_err avow_statement_result_to_text(const avow_statement_result *r, avow_buf *out,
                                       avow_diag *diag)
{
    return result_print(r, 0, out, diag);
}

avow_err avow_statement_result_to_json(const avow_statement_result *r, avow_buf *out,
                                       avow_diag *diag)
{
    return result_print(r, 1, out, diag);
}
