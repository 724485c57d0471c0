/*
 * What the store holds, written out: an issued nonce and the ledger's rows
 * as JSON for programs and as text for people (`avow ca nonce -json`,
 * `ca list`, `ca show`, and the same answers from a service).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>

#include <avow/ledger.h>
#include <avow/nonce.h>

#include "core/der.h"
#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"

/* RFC 3339 UTC; a time no GeneralizedTime can say (a damaged row) as @SECONDS. */
static void time_text(time_t t, char buf[32])
{
    char text[21];
    if (avow__rfc3339_format(t, text) == AVOW_OK)
        avow__strlcpy(buf, text, 32);
    else
        snprintf(buf, 32, "@%lld", (long long)t);
}

avow_err avow_nonce_to_json(const uint8_t *nonce, size_t len, time_t expires, unsigned ttl,
                            avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (nonce == NULL || len == 0 || len > AVOW_NONCE_MAX_LEN || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no nonce, one over %u bytes, or no output",
                          AVOW_NONCE_MAX_LEN);
    char exp[21];
    if (avow__rfc3339_format(expires, exp) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_BAD_TIME, "expires", "past the year 9999");
    int bad = 0;
    json_t *o = json_object();
    avow__json_put(o, "expires", json_string(exp), &bad);
    avow__json_put(o, "nonce", avow__json_hex(nonce, len), &bad);
    avow__json_put(o, "ttl", json_integer((json_int_t)ttl), &bad);
    avow_err rc = o == NULL || bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_SORT_KEYS, 1, out);
    json_decref(o);
    return rc == AVOW_OK ? AVOW_OK : avow__fail(diag, rc, "nonce", "out of memory");
}

/* The row's fields, in the order avow_issuance_to_text prints them. */
static json_t *row_object(const avow_issuance *r)
{
    char issued[32], not_after[32];
    time_text(r->issued, issued);
    time_text(r->not_after, not_after);
    int bad = 0;
    json_t *o = json_object();
    avow__json_put(o, "serial", json_string(r->serial), &bad);
    avow__json_put(o, "subject", json_string(r->subject != NULL ? r->subject : ""), &bad);
    avow__json_put(o, "issued", json_string(issued), &bad);
    avow__json_put(o, "not_after", json_string(not_after), &bad);
    avow__json_put(o, "spki_sha256", avow__json_hex(r->spki_sha256, sizeof(r->spki_sha256)), &bad);
    avow__json_put(o, "request_sha256",
                   avow__json_hex(r->request_sha256, sizeof(r->request_sha256)), &bad);
    avow__json_put(o, "nonce",
                   avow__json_hex(r->nonce, r->nonce_len <= sizeof(r->nonce) ? r->nonce_len : 0),
                   &bad);
    if (o == NULL || bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static avow_err check_row(const avow_issuance *row, const avow_buf *out, avow_diag *diag)
{
    if (row == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "issuance", "no row or no output");
    if (row->ear_json == NULL || row->cert_der == NULL || row->cert_der_len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "issuance", "a row without its EAR or certificate");
    return AVOW_OK;
}

avow_err avow_issuance_to_json(const avow_issuance *row, unsigned flags, avow_buf *out,
                               avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (row == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "issuance", "no row or no output");
    if (flags & AVOW_ISSUANCE_JSON_FULL) {
        avow_err rc = check_row(row, out, diag);
        if (rc != AVOW_OK)
            return rc;
    }
    json_t *o = row_object(row);
    if (o == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "issuance", "cannot build the JSON");
    avow_err rc = AVOW_OK;
    if (flags & AVOW_ISSUANCE_JSON_FULL) {
        json_error_t jerr;
        json_t *ear = json_loads(row->ear_json, JSON_REJECT_DUPLICATES, &jerr);
        avow_buf pem = {0};
        int bad = 0;
        if (ear == NULL)
            rc = avow__fail(diag, AVOW_ERR_JSON, "ear", "stored EAR: line %d column %d: %s",
                            jerr.line, jerr.column, jerr.text);
        else if (avow_armor(row->cert_der, row->cert_der_len, "CERTIFICATE", &pem) != AVOW_OK)
            rc = AVOW_ERR_NOMEM;
        if (rc == AVOW_OK) {
            avow__json_put(o, "ear", ear, &bad);
            avow__json_put(o, "certificate", json_string((const char *)pem.ptr), &bad);
            ear = NULL;
            rc = bad ? AVOW_ERR_NOMEM : AVOW_OK;
        }
        json_decref(ear);
        avow_buf_free(&pem);
    }
    if (rc == AVOW_OK)
        rc = avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(o);
    if (rc == AVOW_ERR_NOMEM)
        return avow__fail(diag, rc, "issuance", "out of memory");
    return rc;
}

/* An EAR the CA wrote is far smaller; the bound only keeps a damaged ledger row in check. */
#define LEDGER_EAR_MAX (256u * 1024u)

/* The ledger's EAR text, indented with sorted keys, as the CA writes it out. */
static avow_err pretty(const char *json, avow_buf *out, avow_diag *diag)
{
    json_t *root = NULL;
    avow_err rc = avow__json_load(json, strlen(json), LEDGER_EAR_MAX, "EAR", "ear", &root, diag);
    if (rc == AVOW_OK)
        rc = avow__json_dump(root, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
    json_decref(root);
    return rc;
}

avow_err avow_issuance_to_text(const avow_issuance *row, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    avow_err rc = check_row(row, out, diag);
    if (rc != AVOW_OK)
        return rc;
    avow_buf pem = {0}, ear = {0};
    rc = pretty(row->ear_json, &ear, diag);
    if (rc == AVOW_OK &&
        avow_armor(row->cert_der, row->cert_der_len, "CERTIFICATE", &pem) != AVOW_OK)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "certificate", "cannot armour");
    json_t *o = rc == AVOW_OK ? row_object(row) : NULL;
    if (rc == AVOW_OK && o == NULL)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "issuance", "out of memory");
    BIO *b = rc == AVOW_OK ? BIO_new(BIO_s_mem()) : NULL;
    if (rc == AVOW_OK && b == NULL)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "issuance", "out of memory");
    if (rc == AVOW_OK) {
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            const char *text = json_string_value(v);
            BIO_printf(b, "%s: ", k);
            /* Only the subject comes from the request; the rest is hex and times. */
            avow__escape_bio(b, (const uint8_t *)text, strlen(text), 0);
            BIO_printf(b, "\n");
        }
        BIO_printf(b, "\n%s\n%s", (const char *)pem.ptr, (const char *)ear.ptr);
        rc = avow__text_take(b, out);
        if (rc != AVOW_OK)
            avow__fail(diag, rc, "issuance", "out of memory");
    }
    BIO_free(b);
    json_decref(o);
    avow_buf_free(&pem);
    avow_buf_free(&ear);
    return rc;
}

typedef struct list_ctx {
    json_t *arr;
    int failed;
} list_ctx;

static int list_row(void *ctx, const avow_issuance *row)
{
    list_ctx *l = ctx;
    json_t *o = row_object(row);
    if (o == NULL || json_array_append_new(l->arr, o) != 0) {
        l->failed = 1;
        return 1;
    }
    return 0;
}

avow_err avow_ledger_to_json(avow_nonce_store *s, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (s == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ledger", "no store or no output");
    list_ctx l = {json_array(), 0};
    if (l.arr == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "ledger", "out of memory");
    avow_err rc = avow_ledger_foreach(s, list_row, &l, diag);
    if (rc == AVOW_OK && l.failed)
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "ledger", "out of memory");
    if (rc == AVOW_OK) {
        rc = avow__json_dump(l.arr, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
        if (rc != AVOW_OK)
            avow__fail(diag, rc, "ledger", "out of memory");
    }
    json_decref(l.arr);
    return rc;
}
