/*
 * The answer report: what filling a request could not supply, and what a
 * check of Evidence against its request found, with JSON for programs and
 * escaped text for people.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

#include "core/escape.h"
#include "core/json.h"
#include "formats/evidence_request_int.h"

struct avow_answer_report {
    avow_err status;
    avow_answer *items;
    size_t n, cap;
};

avow_answer_report *avow__report_new(void)
{
    return OPENSSL_zalloc(sizeof(avow_answer_report));
}

void avow__report_set_status(avow_answer_report *r, avow_err status)
{
    if (r != NULL)
        r->status = status;
}

static char *dup_view(avow_view v)
{
    char *s = OPENSSL_malloc(v.len + 1);
    if (s != NULL) {
        if (v.len > 0)
            memcpy(s, v.ptr, v.len);
        s[v.len] = '\0';
    }
    return s;
}

static void free_item(avow_answer *a)
{
    OPENSSL_free((char *)a->name);
    OPENSSL_free((char *)a->key);
    OPENSSL_free((char *)a->field);
    OPENSSL_free((char *)a->detail);
}

avow_err avow__report_add(avow_answer_report *r, const avow_answer *a, avow_view key,
                          const char *fmt, ...)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        avow_answer *n = OPENSSL_realloc(r->items, cap * sizeof(*n));
        if (n == NULL)
            return AVOW_ERR_NOMEM;
        r->items = n;
        r->cap = cap;
    }
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    avow_answer it = *a;
    it.name = a->name != NULL ? OPENSSL_strdup(a->name) : NULL;
    it.key = key.len > 0 ? dup_view(key) : NULL;
    it.field = OPENSSL_strdup(a->field != NULL ? a->field : "");
    it.detail = OPENSSL_strdup(detail);
    if ((a->name != NULL && it.name == NULL) || (key.len > 0 && it.key == NULL) ||
        it.field == NULL || it.detail == NULL) {
        free_item(&it);
        return AVOW_ERR_NOMEM;
    }
    r->items[r->n++] = it;
    return AVOW_OK;
}

avow_err avow_answer_report_status(const avow_answer_report *r)
{
    return r != NULL ? r->status : AVOW_ERR_ARG;
}

size_t avow_answer_report_count(const avow_answer_report *r)
{
    return r != NULL ? r->n : 0;
}

const avow_answer *avow_answer_report_get0(const avow_answer_report *r, size_t i)
{
    return r != NULL && i < r->n ? &r->items[i] : NULL;
}

void avow_answer_report_free(avow_answer_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        free_item(&r->items[i]);
    OPENSSL_free(r->items);
    OPENSSL_free(r);
}

static const char *kind_name(avow_answer_kind k)
{
    switch (k) {
    case AVOW_ANSWER_MISSING:
        return "missing";
    case AVOW_ANSWER_IGNORED:
        return "ignored";
    case AVOW_ANSWER_UNREQUESTED:
        return "unrequested";
    case AVOW_ANSWER_MISMATCH:
        return "mismatch";
    }
    return "unknown";
}

static const char *reason_name(avow_answer_reason r)
{
    static const char *const names[] = {
        "no-source",    "not-set", "no-signer",     "no-key",        "no-identifier",
        "unknown-type", "absent",  "not-requested", "value-differs",
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

avow_err avow_answer_report_to_json(const avow_answer_report *r, avow_buf *out)
{
    if (r == NULL || out == NULL)
        return AVOW_ERR_ARG;
    int bad = 0;
    size_t counts[4] = {0, 0, 0, 0};
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const avow_answer *a = &r->items[i];
        json_t *o = json_object();
        if ((unsigned)a->kind < 4)
            counts[a->kind]++;
        avow__json_put(o, "status", json_string(kind_name(a->kind)), &bad);
        avow__json_put(o, "reason", json_string(reason_name(a->reason)), &bad);
        avow__json_put(o, "code", avow__json_errname(a->code), &bad);
        avow__json_put(o, "fails", json_boolean(a->fails), &bad);
        avow__json_put(o, "element", json_string(avow_element_name(a->element)), &bad);
        if (a->key != NULL)
            avow__json_put(o, "key", avow__json_text(a->key), &bad);
        avow__json_put(o, "claim", a->name != NULL ? avow__json_text(a->name) : json_null(), &bad);
        avow__json_put(o, "field", avow__json_text(a->field), &bad);
        avow__json_put(o, "detail", avow__json_text(a->detail), &bad);
        if (o == NULL || json_array_append_new(arr, o) != 0)
            bad = 1;
    }
    avow__json_put(root, "status", avow__json_errname(r->status), &bad);
    avow__json_put(root, "missing", json_integer((json_int_t)counts[AVOW_ANSWER_MISSING]), &bad);
    avow__json_put(root, "ignored", json_integer((json_int_t)counts[AVOW_ANSWER_IGNORED]), &bad);
    avow__json_put(root, "unrequested", json_integer((json_int_t)counts[AVOW_ANSWER_UNREQUESTED]),
                   &bad);
    avow__json_put(root, "mismatch", json_integer((json_int_t)counts[AVOW_ANSWER_MISMATCH]), &bad);
    avow__json_put(root, "answers", arr, &bad);
    avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(root, JSON_INDENT(2), 1, out);
    json_decref(root);
    return rc;
}

static void put(BIO *b, const char *s, unsigned flags)
{
    avow__escape_bio(b, (const uint8_t *)s, strlen(s), flags);
}

avow_err avow_answer_report_to_text(const avow_answer_report *r, avow_buf *out)
{
    if (r == NULL || out == NULL)
        return AVOW_ERR_ARG;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const avow_answer *a = &r->items[i];
        BIO_printf(b, "%s: %s", kind_name(a->kind), avow_element_name(a->element));
        if (a->key != NULL) {
            BIO_puts(b, " \"");
            put(b, a->key, AVOW_ESCAPE_QUOTED);
            BIO_puts(b, "\"");
        }
        BIO_puts(b, " ");
        if (a->name != NULL)
            put(b, a->name, 0);
        else
            BIO_puts(b, "element");
        BIO_puts(b, " (");
        put(b, a->field, 0);
        BIO_puts(b, "): ");
        put(b, a->detail, 0);
        BIO_puts(b, "\n");
    }
    avow_err rc = avow__text_take(b, out);
    BIO_free(b);
    return rc;
}
