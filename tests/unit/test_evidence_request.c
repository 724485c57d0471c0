/*
 * Attestation requests (avow/evidence_request.h): building, DER round trips,
 * strict decoding with a table of malformed requests (each with its code and
 * field) plus truncation and bit-flip sweeps, filling from claim sources
 * with the report of what could not be supplied, and the check that
 * Evidence answers a request under each of its modes.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- a tiny DER composer (as in test_evidence_malformed.c) ---------- */

typedef struct blob {
    struct blob *next;
    size_t len;
    uint8_t b[];
} blob;

static blob *arena;

static blob *bnew(size_t len)
{
    blob *x = malloc(sizeof(*x) + len + 1);
    assert_non_null(x);
    x->next = arena;
    x->len = len;
    arena = x;
    return x;
}

static void arena_free(void)
{
    while (arena != NULL) {
        blob *n = arena->next;
        free(arena);
        arena = n;
    }
}

#define END ((blob *)NULL)

static blob *hex(const char *h)
{
    blob *x = bnew(strlen(h) / 2);
    size_t n = 0;
    for (const char *p = h; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        x->b[n++] = (uint8_t)v;
        p += 2;
    }
    x->len = n;
    return x;
}

static size_t put_len(uint8_t *o, size_t n)
{
    if (n < 0x80) {
        o[0] = (uint8_t)n;
        return 1;
    }
    size_t k = 0;
    for (size_t v = n; v > 0; v >>= 8)
        k++;
    o[0] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        o[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    return 1 + k;
}

static blob *tlv(uint8_t tag, const void *p, size_t n)
{
    uint8_t h[10];
    h[0] = tag;
    size_t hl = 1 + put_len(h + 1, n);
    blob *x = bnew(hl + n);
    memcpy(x->b, h, hl);
    if (n > 0)
        memcpy(x->b + hl, p, n);
    return x;
}

static blob *cat_va(blob *first, va_list ap)
{
    size_t n = 0;
    va_list aq;
    va_copy(aq, ap);
    for (blob *c = first; c != NULL; c = va_arg(aq, blob *))
        n += c->len;
    va_end(aq);
    blob *x = bnew(n);
    n = 0;
    for (blob *c = first; c != NULL; c = va_arg(ap, blob *)) {
        memcpy(x->b + n, c->b, c->len);
        n += c->len;
    }
    return x;
}

static blob *cat(blob *first, ...)
{
    va_list ap;
    va_start(ap, first);
    blob *x = cat_va(first, ap);
    va_end(ap);
    return x;
}

static blob *cons(uint8_t tag, blob *first, ...)
{
    va_list ap;
    va_start(ap, first);
    blob *c = cat_va(first, ap);
    va_end(ap);
    return tlv(tag, c->b, c->len);
}

#define SEQ(...) cons(0x30, __VA_ARGS__, END)
#define OCT(h)   prim(0x04, hex(h))

static blob *prim(uint8_t tag, blob *content)
{
    return tlv(tag, content->b, content->len);
}

static blob *INT(int v)
{
    uint8_t c = (uint8_t)v;
    return tlv(0x02, &c, 1);
}

static blob *UTF8(const char *s)
{
    return tlv(0x0c, s, strlen(s));
}

static blob *OID(const char *dotted)
{
    avow_oid o;
    assert_int_equal(avow_oid_from_text(&o, dotted), AVOW_OK);
    return tlv(0x06, o.der, o.len);
}

static blob *EOID(const char *sub)
{
    char t[128];
    snprintf(t, sizeof(t), "%s.%s", AVOW_DEFAULT_EVIDENCE_ARC, sub);
    return OID(t);
}

static blob *C(avow_claim_id id, blob *value)
{
    const avow_claim_info *info = avow_claim_info_get(id);
    assert_non_null(info);
    char sub[32];
    snprintf(sub, sizeof(sub), "1.%d.%d", (int)info->element, (int)info->arc_claim);
    return value != NULL ? SEQ(EOID(sub), value) : SEQ(EOID(sub));
}

static blob *ELEM(int kind, blob *claims)
{
    char sub[16];
    snprintf(sub, sizeof(sub), "0.%d", kind);
    return SEQ(EOID(sub), claims);
}

#define TX(...)        ELEM(AVOW_ELEMENT_TRANSACTION, SEQ(__VA_ARGS__))
#define PLAT(...)      ELEM(AVOW_ELEMENT_PLATFORM, SEQ(__VA_ARGS__))
#define KEY(...)       ELEM(AVOW_ELEMENT_KEY, SEQ(__VA_ARGS__))
#define TBSV(ver, ...) SEQ(ver, SEQ(__VA_ARGS__))
#define TBS(...)       TBSV(INT(1), __VA_ARGS__)

/* ---------- helpers ---------- */

static const uint8_t NONCE[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

static avow_evidence_request *decode_ok(const blob *b)
{
    avow_evidence_request *req = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_request_decode(b->b, b->len, NULL, 0, &req, &d);
    if (rc != AVOW_OK)
        fail_msg("decode: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    TU_NO_OSSL_ERR();
    return req;
}

static avow_evidence_request *from_json(const char *json)
{
    avow_evidence_request *req = NULL;
    avow_diag d;
    OK(avow_evidence_request_new(NULL, &req));
    avow_err rc = avow_evidence_request_add_json(req, json, strlen(json), &d);
    if (rc != AVOW_OK)
        fail_msg("request JSON: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    return req;
}

/* An Evidence with these claims (claims JSON), unsigned. */
static avow_evidence *evidence_json(const char *json)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    OK(avow_evidence_new(NULL, &ev));
    avow_err rc = avow_evidence_add_claims_json(ev, json, strlen(json), &d);
    if (rc != AVOW_OK)
        fail_msg("claims JSON: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    return ev;
}

static avow_buf encode(const avow_evidence_request *req)
{
    avow_buf der = {0};
    avow_diag d;
    avow_err rc = avow_evidence_request_encode(req, &der, &d);
    if (rc != AVOW_OK)
        fail_msg("encode: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    return der;
}

static const avow_claim *claim_in(const avow_element *el, avow_claim_id id, size_t nth)
{
    for (size_t i = 0; i < el->nclaims; i++)
        if (el->claims[i].id == id && nth-- == 0)
            return &el->claims[i];
    return NULL;
}

/* The report entry about claim `name` (NULL: a whole element), or NULL. */
static const avow_answer *entry(const avow_answer_report *r, const char *name)
{
    for (size_t i = 0; i < avow_answer_report_count(r); i++) {
        const avow_answer *a = avow_answer_report_get0(r, i);
        if ((name == NULL && a->name == NULL) ||
            (name != NULL && a->name != NULL && strcmp(a->name, name) == 0))
            return a;
    }
    return NULL;
}

/* ---------- building and the DER round trip ---------- */

static avow_evidence_request *full_request(void)
{
    avow_evidence_request *req = NULL;
    avow_diag d;
    size_t k1 = 0, any = 0;
    OK(avow_evidence_request_new(NULL, &req));
    OK(avow_evidence_request_set_nonce(req, NONCE, sizeof(NONCE), &d));
    OK(avow_evidence_request_want(req, AVOW_CLAIM_TIMESTAMP, &d));
    OK(avow_evidence_request_want(req, AVOW_CLAIM_AK_SPKI, &d));
    OK(avow_evidence_request_want(req, AVOW_CLAIM_VENDOR, &d));
    OK(avow_evidence_request_want(req, AVOW_CLAIM_FIPSLEVEL, &d));
    OK(avow_evidence_request_add_key(req, "k1", &k1, &d));
    OK(avow_evidence_request_want_key(req, k1, AVOW_CLAIM_KEY_SPKI, &d));
    OK(avow_evidence_request_want_key(req, k1, AVOW_CLAIM_KEY_EXTRACTABLE, &d));
    OK(avow_evidence_request_want_key(req, k1, AVOW_CLAIM_KEY_EXPIRY, &d));
    OK(avow_evidence_request_want_key(req, k1, AVOW_CLAIM_KEY_IDENTIFIER, &d)); /* no-op */
    OK(avow_evidence_request_add_key(req, NULL, &any, &d));
    OK(avow_evidence_request_want_key(req, any, AVOW_CLAIM_KEY_PURPOSE, &d));
    return req;
}

static void test_build_roundtrip(void **state)
{
    (void)state;
    avow_evidence_request *req = full_request();
    assert_int_equal(avow_evidence_request_element_count(req), 4);
    avow_buf der = encode(req);

    avow_evidence_request *back = NULL;
    avow_diag d;
    OK(avow_evidence_request_decode(der.ptr, der.len, NULL, 0, &back, &d));
    assert_int_equal(avow_evidence_request_element_count(back), 4);
    avow_view n = avow_evidence_request_get0_nonce(back);
    assert_int_equal(n.len, sizeof(NONCE));
    assert_memory_equal(n.ptr, NONCE, sizeof(NONCE));
    avow_view sel = avow_evidence_request_key_selector(back, 2);
    assert_int_equal(sel.len, 2);
    assert_memory_equal(sel.ptr, "k1", 2);
    assert_int_equal(avow_evidence_request_key_selector(back, 3).len, 0);
    const avow_element *pf = avow_evidence_request_get0_element(back, 1);
    assert_int_equal(pf->kind, AVOW_ELEMENT_PLATFORM);
    assert_int_equal(pf->nclaims, 2);
    assert_false(pf->claims[0].value.present);
    /* a decoded request re-encodes to the same bytes and is read-only */
    avow_buf again = encode(back);
    assert_int_equal(again.len, der.len);
    assert_memory_equal(again.ptr, der.ptr, der.len);
    assert_int_equal(avow_evidence_request_want(back, AVOW_CLAIM_HWMODEL, &d), AVOW_ERR_STATE);

    /* the JSON form reads back to the same request */
    avow_buf json = {0};
    OK(avow_evidence_request_to_json(back, &json));
    assert_null(strstr((char *)json.ptr, "signatures"));
    assert_non_null(strstr((char *)json.ptr, "\"value\": null"));
    avow_evidence_request *rebuilt = from_json((const char *)json.ptr);
    avow_buf third = encode(rebuilt);
    assert_int_equal(third.len, der.len);
    assert_memory_equal(third.ptr, der.ptr, der.len);

    /* PEM under the documented label */
    avow_buf pem = {0}, unpem = {0};
    OK(avow_armor(der.ptr, der.len, AVOW_EVIDENCE_REQUEST_PEM_LABEL, &pem));
    assert_non_null(strstr((char *)pem.ptr, "-----BEGIN EVIDENCE REQUEST-----"));
    OK(avow_unarmor(pem.ptr, pem.len, AVOW_EVIDENCE_REQUEST_PEM_LABEL, 1u << 20, &unpem, &d));
    assert_int_equal(unpem.len, der.len);

    avow_buf_free(&pem);
    avow_buf_free(&unpem);
    avow_buf_free(&json);
    avow_buf_free(&der);
    avow_buf_free(&again);
    avow_buf_free(&third);
    avow_evidence_request_free(req);
    avow_evidence_request_free(back);
    avow_evidence_request_free(rebuilt);
    TU_NO_OSSL_ERR();
}

static void test_build_errors(void **state)
{
    (void)state;
    avow_evidence_request *req = NULL;
    avow_diag d;
    size_t k = 0, pf = 0;
    OK(avow_evidence_request_new(NULL, &req));
    avow_buf der = {0};
    assert_int_equal(avow_evidence_request_encode(req, &der, &d), AVOW_ERR_EMPTY);
    assert_int_equal(avow_evidence_request_want(req, AVOW_CLAIM_NONCE, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_request_want(req, AVOW_CLAIM_KEY_SPKI, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_request_want(req, AVOW_CLAIM_UNKNOWN, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_request_set_nonce(req, NONCE, 0, &d), AVOW_ERR_ARG);
    OK(avow_evidence_request_set_nonce(req, NONCE, sizeof(NONCE), &d));
    assert_int_equal(avow_evidence_request_set_nonce(req, NONCE, 2, &d), AVOW_ERR_DUP_CLAIM);
    OK(avow_evidence_request_want(req, AVOW_CLAIM_AK_SPKI, &d));
    /* asked twice, even a claim that may repeat */
    assert_int_equal(avow_evidence_request_want(req, AVOW_CLAIM_AK_SPKI, &d), AVOW_ERR_DUP_CLAIM);
    OK(avow_evidence_request_want(req, AVOW_CLAIM_VENDOR, &d));
    pf = avow_evidence_request_element_count(req) - 1;
    assert_int_equal(avow_evidence_request_want(req, AVOW_CLAIM_VENDOR, &d), AVOW_ERR_DUP_CLAIM);
    assert_int_equal(avow_evidence_request_want_key(req, pf, AVOW_CLAIM_KEY_SPKI, &d),
                     AVOW_ERR_ARG);
    OK(avow_evidence_request_add_key(req, "k", &k, &d));
    assert_int_equal(avow_evidence_request_want_key(req, k, AVOW_CLAIM_VENDOR, &d), AVOW_ERR_ARG);
    OK(avow_evidence_request_want_key(req, k, AVOW_CLAIM_KEY_SPKI, &d));
    assert_int_equal(avow_evidence_request_want_key(req, k, AVOW_CLAIM_KEY_SPKI, &d),
                     AVOW_ERR_DUP_CLAIM);
    /* one key named twice: refused, and the refused element is gone */
    size_t before = avow_evidence_request_element_count(req);
    assert_int_equal(avow_evidence_request_add_key(req, "k", NULL, &d), AVOW_ERR_DUP_KEY);
    assert_int_equal(avow_evidence_request_element_count(req), before);
    assert_int_equal(avow_evidence_request_add_key(req, "", NULL, &d), AVOW_ERR_ARG);
    OK(avow_evidence_request_add_key(req, NULL, NULL, &d));
    assert_int_equal(avow_evidence_request_add_key(req, NULL, NULL, &d), AVOW_ERR_REQUEST_VALUE);
    der = encode(req);
    avow_buf_free(&der);
    avow_evidence_request_free(req);
    TU_NO_OSSL_ERR();
}

static const struct json_case {
    const char *json;
    avow_err err;
    const char *field;
} json_cases[] = {
    {"{\"platform\":{\"vendor\":\"Acme\"}}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[0]"},
    {"{\"transaction\":{\"nonce\":null}}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[0]"},
    {"{\"transaction\":{\"timestamp\":\"now\"}}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[0]"},
    {"{\"keys\":[{\"identifier\":[\"a\",\"b\"]}]}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[1]"},
    {"{\"keys\":[{\"spki\":null},{\"purpose\":null}]}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[1]"},
    {"{\"keys\":[{\"identifier\":\"a\",\"extractable\":false}]}", AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[1]"},
    {"{\"platform\":{\"colour\":null}}", AVOW_ERR_JSON, "platform.colour"},
};

static void test_json(void **state)
{
    (void)state;
    /* a key element without identifier asks for it anyway */
    avow_evidence_request *req = from_json("{\"transaction\":{\"nonce\":{\"hex\":\"0011\"},"
                                           "\"ak-spki\":null},\"keys\":[{\"spki\":null}]}");
    const avow_element *k = avow_evidence_request_get0_element(req, 1);
    assert_int_equal(k->kind, AVOW_ELEMENT_KEY);
    assert_non_null(claim_in(k, AVOW_CLAIM_KEY_IDENTIFIER, 0));
    assert_false(claim_in(k, AVOW_CLAIM_KEY_IDENTIFIER, 0)->value.present);
    avow_evidence_request_free(req);

    for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        avow_diag d;
        avow_diag_clear(&d);
        OK(avow_evidence_request_new(NULL, &req));
        avow_err rc =
            avow_evidence_request_add_json(req, json_cases[i].json, strlen(json_cases[i].json), &d);
        if (rc != json_cases[i].err || strcmp(d.field, json_cases[i].field) != 0)
            fail_msg("%s: got %s at %s (%s)", json_cases[i].json, avow_errname(rc), d.field,
                     d.detail);
        avow_evidence_request_free(req);
    }
    TU_NO_OSSL_ERR();
}

/* ---------- strict decoding ---------- */

static blob *r_valid(void)
{
    return TBS(TX(C(AVOW_CLAIM_NONCE, OCT("0011223344556677")), C(AVOW_CLAIM_TIMESTAMP, NULL)),
               PLAT(C(AVOW_CLAIM_VENDOR, NULL)),
               KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, UTF8("k1")), C(AVOW_CLAIM_KEY_SPKI, NULL)));
}

static blob *r_trailing(void)
{
    return cat(r_valid(), hex("00"), END);
}

static blob *r_evidence(void)
{
    return SEQ(r_valid(), SEQ(hex("")));
}

static blob *r_longlen(void)
{
    blob *v = r_valid();
    /* the outer length again, in a long form DER forbids */
    blob *x = bnew(v->len + 2);
    x->b[0] = 0x30;
    x->b[1] = 0x82;
    x->b[2] = 0x00;
    x->b[3] = (uint8_t)(v->len - 2);
    memcpy(x->b + 4, v->b + 2, v->len - 2);
    return x;
}

static blob *r_version2(void)
{
    return TBSV(INT(2), PLAT(C(AVOW_CLAIM_VENDOR, NULL)));
}

static blob *r_valued_vendor(void)
{
    return TBS(PLAT(C(AVOW_CLAIM_VENDOR, UTF8("Acme"))));
}

static blob *r_valueless_nonce(void)
{
    return TBS(TX(C(AVOW_CLAIM_NONCE, NULL)));
}

static blob *r_empty_nonce(void)
{
    return TBS(TX(C(AVOW_CLAIM_NONCE, OCT(""))));
}

static blob *r_unknown_element(void)
{
    return TBS(ELEM(7, SEQ(C(AVOW_CLAIM_VENDOR, NULL))));
}

static blob *r_unknown_claim_value(void)
{
    return TBS(PLAT(SEQ(EOID("1.1.99"), UTF8("x"))));
}

static blob *r_unknown_claim(void)
{
    return TBS(PLAT(SEQ(EOID("1.1.99")), C(AVOW_CLAIM_VENDOR, NULL)));
}

static blob *r_key_without_identifier(void)
{
    return TBS(KEY(C(AVOW_CLAIM_KEY_SPKI, NULL)));
}

static blob *r_two_unnamed_keys(void)
{
    return TBS(KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, NULL)), KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, NULL)));
}

static blob *r_two_names(void)
{
    return TBS(
        KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, UTF8("a")), C(AVOW_CLAIM_KEY_IDENTIFIER, UTF8("b"))));
}

static blob *r_same_key_twice(void)
{
    return TBS(KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, UTF8("a"))),
               KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, UTF8("a"))));
}

static blob *r_two_platforms(void)
{
    return TBS(PLAT(C(AVOW_CLAIM_VENDOR, NULL)), PLAT(C(AVOW_CLAIM_HWMODEL, NULL)));
}

static blob *r_dup_claim(void)
{
    return TBS(PLAT(C(AVOW_CLAIM_VENDOR, NULL), C(AVOW_CLAIM_VENDOR, NULL)));
}

static blob *r_ak_spki_twice(void)
{
    return TBS(TX(C(AVOW_CLAIM_AK_SPKI, NULL), C(AVOW_CLAIM_AK_SPKI, NULL)));
}

static blob *r_misplaced(void)
{
    return TBS(PLAT(C(AVOW_CLAIM_TIMESTAMP, NULL)));
}

static blob *r_no_elements(void)
{
    return SEQ(INT(1), SEQ(hex("")));
}

static blob *r_empty_element(void)
{
    return TBS(ELEM(AVOW_ELEMENT_PLATFORM, SEQ(hex(""))));
}

static blob *r_wrong_identifier_type(void)
{
    return TBS(KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, OCT("61"))));
}

static blob *r_not_sequence(void)
{
    return OCT("0011");
}

static blob *r_empty(void)
{
    return hex("");
}

static blob *r_huge(void)
{
    size_t n = AVOW_EVIDENCE_REQUEST_MAX_SIZE + 1;
    blob *x = bnew(n);
    memset(x->b, 0, n);
    return x;
}

static const struct bad {
    const char *what;
    blob *(*make)(void);
    avow_err err;
    const char *field;
} bads[] = {
    {"trailing byte", r_trailing, AVOW_ERR_TRAILING, "request"},
    {"an Evidence envelope", r_evidence, AVOW_ERR_WRONG_TAG, NULL},
    {"long-form length", r_longlen, AVOW_ERR_NOT_DER, "request"},
    {"version 2", r_version2, AVOW_ERR_VERSION, "request.version"},
    {"vendor with a value", r_valued_vendor, AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[0]"},
    {"nonce without value", r_valueless_nonce, AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[0]"},
    {"empty nonce", r_empty_nonce, AVOW_ERR_CLAIM_VALUE,
     "request.reportedElements[0].claims[0].value"},
    {"unknown element", r_unknown_element, AVOW_ERR_REQUEST_UNKNOWN, "request.reportedElements[0]"},
    {"unknown claim with a value", r_unknown_claim_value, AVOW_ERR_REQUEST_UNKNOWN,
     "request.reportedElements[0].claims[0]"},
    {"key element without identifier", r_key_without_identifier, AVOW_ERR_MISSING_CLAIM,
     "request.reportedElements[0]"},
    {"two key elements for the attester's key", r_two_unnamed_keys, AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[1]"},
    {"two identifier values", r_two_names, AVOW_ERR_REQUEST_VALUE,
     "request.reportedElements[0].claims[1]"},
    {"one key named twice", r_same_key_twice, AVOW_ERR_DUP_KEY, "request.reportedElements[1]"},
    {"two platform elements", r_two_platforms, AVOW_ERR_DUP_ELEMENT, "request.reportedElements[1]"},
    {"vendor asked twice", r_dup_claim, AVOW_ERR_DUP_CLAIM,
     "request.reportedElements[0].claims[1]"},
    {"ak-spki asked twice", r_ak_spki_twice, AVOW_ERR_DUP_CLAIM,
     "request.reportedElements[0].claims[1]"},
    {"timestamp in the platform", r_misplaced, AVOW_ERR_CLAIM_PLACE,
     "request.reportedElements[0].claims[0]"},
    {"no element", r_no_elements, AVOW_ERR_EMPTY, "request.reportedElements"},
    {"element without claims", r_empty_element, AVOW_ERR_EMPTY,
     "request.reportedElements[0].claims"},
    {"identifier as OCTET STRING", r_wrong_identifier_type, AVOW_ERR_CLAIM_TYPE,
     "request.reportedElements[0].claims[0].value"},
    {"not a SEQUENCE", r_not_sequence, AVOW_ERR_WRONG_TAG, "request"},
    {"no bytes", r_empty, AVOW_ERR_TRUNCATED, "request"},
    {"over the size limit", r_huge, AVOW_ERR_TOO_LARGE, "request"},
};

static void test_decode_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        blob *b = bads[i].make();
        avow_evidence_request *req = (avow_evidence_request *)&req; /* must be reset */
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = avow_evidence_request_decode(b->b, b->len, NULL, 0, &req, &d);
        int field_ok = bads[i].field != NULL ? strcmp(d.field, bads[i].field) == 0
                                             : strncmp(d.field, "request", 7) == 0;
        if (rc == AVOW_OK || req != NULL || !field_ok ||
            (bads[i].err != AVOW_ERR_WRONG_TAG || bads[i].field != NULL ? rc != bads[i].err : 0))
            fail_msg("%s: got %s at \"%s\" (%s)", bads[i].what, avow_errname(rc), d.field,
                     d.detail);
        TU_NO_OSSL_ERR();
        arena_free();
    }
    /* an unknown claim without value is kept (filling leaves it out) */
    avow_evidence_request *req = decode_ok(r_unknown_claim());
    assert_int_equal(avow_evidence_request_get0_element(req, 0)->claims[0].id, AVOW_CLAIM_UNKNOWN);
    avow_evidence_request_free(req);
    /* an identifier holding U+0000 decodes and still prints as JSON (a fuzz finding) */
    req = decode_ok(TBS(KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, tlv(0x0c, "a\0b", 3)))));
    avow_buf json = {0};
    OK(avow_evidence_request_to_json(req, &json));
    assert_non_null(strstr((char *)json.ptr, "\"a\\u0000b\""));
    avow_buf_free(&json);
    avow_evidence_request_free(req);
    avow_diag d;
    blob *v = r_valid();
    assert_int_equal(avow_evidence_request_decode(v->b, v->len, NULL, 1, &req, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_evidence_request_decode(NULL, 3, NULL, 0, &req, &d), AVOW_ERR_ARG);
    arena_free();
}

/* Every prefix fails cleanly; every one-byte change fails cleanly or decodes to DER that
 * re-encodes byte for byte. */
static void test_decode_sweeps(void **state)
{
    (void)state;
    blob *v = r_valid();
    avow_evidence_request *req = decode_ok(v);
    avow_evidence_request_free(req);
    for (size_t n = 0; n < v->len; n++) {
        avow_diag d;
        req = NULL;
        avow_err rc = avow_evidence_request_decode(v->b, n, NULL, 0, &req, &d);
        if (rc == AVOW_OK || req != NULL || d.field[0] == '\0')
            fail_msg("prefix of %zu bytes: %s", n, avow_errname(rc));
        TU_NO_OSSL_ERR();
    }
    uint8_t *m = malloc(v->len);
    assert_non_null(m);
    for (size_t i = 0; i < v->len; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff};
        for (size_t f = 0; f < sizeof(flips); f++) {
            memcpy(m, v->b, v->len);
            m[i] ^= flips[f];
            avow_diag d;
            req = NULL;
            avow_err rc = avow_evidence_request_decode(m, v->len, NULL, 0, &req, &d);
            TU_NO_OSSL_ERR();
            if (rc != AVOW_OK) {
                assert_null(req);
                assert_int_equal(d.code, rc);
                assert_true(d.field[0] != '\0');
                continue;
            }
            avow_buf der = encode(req);
            assert_int_equal(der.len, v->len);
            assert_memory_equal(der.ptr, m, v->len);
            avow_buf_free(&der);
            avow_evidence_request_free(req);
        }
    }
    free(m);
    arena_free();
}

/* ---------- filling ---------- */

typedef struct fixture {
    EVP_PKEY *k1, *ak;
    avow_buf k1_spki, ak_spki;
    char json[2048];
} fixture;

static void fixture_make(fixture *f)
{
    f->k1 = tu_key_ec("P-256");
    f->ak = tu_key_ec("P-256");
    f->k1_spki = tu_spki(f->k1);
    f->ak_spki = tu_spki(f->ak);
    char *h = OPENSSL_buf2hexstr(f->k1_spki.ptr, (long)f->k1_spki.len);
    assert_non_null(h);
    size_t j = 0;
    char spki_hex[1024];
    for (size_t i = 0; h[i] != '\0' && j + 1 < sizeof(spki_hex); i++)
        if (h[i] != ':')
            spki_hex[j++] = h[i];
    spki_hex[j] = '\0';
    OPENSSL_free(h);
    snprintf(f->json, sizeof(f->json),
             "{\"platform\":{\"vendor\":\"Acme\",\"hwmodel\":\"HSM-9\",\"fipsboot\":true},"
             "\"keys\":[{\"identifier\":[\"k1\",\"alias\"],\"spki\":{\"hex\":\"%s\"},"
             "\"extractable\":false,\"purpose\":[\"sign\"]},"
             "{\"identifier\":\"k2\",\"sensitive\":true}]}",
             spki_hex);
}

static void fixture_free(fixture *f)
{
    EVP_PKEY_free(f->k1);
    EVP_PKEY_free(f->ak);
    avow_buf_free(&f->k1_spki);
    avow_buf_free(&f->ak_spki);
}

static avow_claim_source *source_json(const char *json)
{
    avow_claim_source *src = NULL;
    avow_diag d;
    OK(avow_claim_source_new(NULL, &src));
    avow_err rc = avow_claim_source_add_json(src, "claims.json", json, strlen(json), NULL, &d);
    if (rc != AVOW_OK)
        fail_msg("source: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    return src;
}

static void fill_opts(avow_fill_opts *o, const avow_view *spki)
{
    avow_fill_opts_init(o);
    o->now_given = 1;
    o->now = 1000000;
    o->nsigner_spkis = spki != NULL;
    o->signer_spkis = spki;
}

static void test_fill_json(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    avow_evidence_request *req = full_request();
    avow_claim_source *src = source_json(f.json);
    avow_view ak = {f.ak_spki.ptr, f.ak_spki.len};
    avow_fill_opts o;
    fill_opts(&o, &ak);
    avow_evidence *ev = NULL;
    avow_answer_report *rep = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_fill(req, src, &o, &ev, &rep, &d);
    if (rc != AVOW_OK)
        fail_msg("fill: %s at %s: %s", avow_errname(rc), d.field, d.detail);
    TU_NO_OSSL_ERR();

    /* transaction: the request's nonce, the clock, the signer's key */
    assert_int_equal(avow_evidence_element_count(ev), 4);
    const avow_element *tx = avow_evidence_get0_element(ev, 0);
    assert_int_equal(tx->nclaims, 3);
    assert_memory_equal(claim_in(tx, AVOW_CLAIM_NONCE, 0)->value.bytes.ptr, NONCE, sizeof(NONCE));
    assert_int_equal(claim_in(tx, AVOW_CLAIM_TIMESTAMP, 0)->value.time, 1000000);
    assert_int_equal(claim_in(tx, AVOW_CLAIM_AK_SPKI, 0)->value.bytes.len, f.ak_spki.len);
    /* platform: vendor only (hwmodel and fipsboot were not asked, fipslevel is nowhere) */
    const avow_element *pf = avow_evidence_get0_element(ev, 1);
    assert_int_equal(pf->nclaims, 1);
    assert_int_equal(pf->claims[0].id, AVOW_CLAIM_VENDOR);
    /* k1: the identifier asked (not its alias), spki, extractable; no expiry anywhere */
    const avow_element *k1 = avow_evidence_get0_element(ev, 2);
    assert_int_equal(k1->nclaims, 3);
    assert_memory_equal(k1->claims[0].value.bytes.ptr, "k1", 2);
    assert_null(claim_in(k1, AVOW_CLAIM_KEY_IDENTIFIER, 1));
    assert_non_null(claim_in(k1, AVOW_CLAIM_KEY_SPKI, 0));
    assert_false(claim_in(k1, AVOW_CLAIM_KEY_EXTRACTABLE, 0)->value.integer);
    /* the attester's key: k2, the key no other element names; it has no purpose */
    const avow_element *k2 = avow_evidence_get0_element(ev, 3);
    assert_int_equal(k2->nclaims, 1);
    assert_memory_equal(k2->claims[0].value.bytes.ptr, "k2", 2);

    assert_int_equal(avow_answer_report_status(rep), AVOW_OK);
    assert_int_equal(avow_answer_report_count(rep), 3);
    const avow_answer *a = entry(rep, "fipslevel");
    assert_non_null(a);
    assert_int_equal(a->kind, AVOW_ANSWER_MISSING);
    assert_int_equal(a->reason, AVOW_REASON_NO_SOURCE);
    assert_int_equal(a->code, AVOW_ERR_UNANSWERED);
    assert_false(a->fails);
    assert_string_equal(a->field, "request.reportedElements[1].claims[1]");
    assert_non_null(strstr(a->detail, "claims.json"));
    a = entry(rep, "expiry");
    assert_non_null(a);
    assert_string_equal(a->key, "k1");
    a = entry(rep, "purpose");
    assert_non_null(a);
    assert_string_equal(a->key, "k2");

    /* signed as usual, it decodes and answers the request */
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f.ak, AVOW_SIGALG_NONE, &s, &d));
    OK(avow_evidence_sign(ev, s, AVOW_SID_SPKI, &d));
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_evidence *back = NULL;
    OK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &back, &d));
    avow_answer_report *ans = NULL;
    OK(avow_evidence_answers(back, req, 0, &ans, &d));
    assert_int_equal(avow_answer_report_count(ans), 3); /* the same three, not failing */
    avow_answer_report_free(ans);
    assert_int_equal(avow_evidence_answers(back, req, AVOW_ANSWERS_STRICT, &ans, &d),
                     AVOW_ERR_UNANSWERED);
    assert_string_equal(d.field, "request.reportedElements[1].claims[1]");
    assert_true(avow_answer_report_get0(ans, 0)->fails);
    avow_answer_report_free(ans);

    avow_signer_free(s);
    avow_buf_free(&der);
    avow_evidence_free(back);
    avow_evidence_free(ev);
    avow_answer_report_free(rep);
    avow_claim_source_free(src);
    avow_evidence_request_free(req);
    fixture_free(&f);
    TU_NO_OSSL_ERR();
}

static void test_fill_modes(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    avow_claim_source *src = source_json(f.json);
    avow_fill_opts o;
    fill_opts(&o, NULL);
    avow_evidence *ev = NULL;
    avow_answer_report *rep = NULL;
    avow_diag d;

    /* a key nobody has: the draft tells the attester to fail */
    avow_evidence_request *req = from_json("{\"keys\":[{\"identifier\":\"nope\",\"spki\":null}]}");
    assert_int_equal(avow_evidence_fill(req, src, &o, &ev, &rep, &d), AVOW_ERR_NOT_FOUND);
    assert_string_equal(d.field, "request.reportedElements[0]");
    assert_null(ev);
    assert_null(rep);
    avow_evidence_request_free(req);

    /* strict: what cannot be supplied fails, and the report says what */
    req = from_json("{\"transaction\":{\"nonce\":{\"hex\":\"0011\"},\"ak-spki\":null},"
                    "\"platform\":{\"vendor\":null,\"oemid\":null}}");
    o.flags = AVOW_FILL_STRICT;
    assert_int_equal(avow_evidence_fill(req, src, &o, &ev, &rep, &d), AVOW_ERR_UNANSWERED);
    assert_null(ev);
    assert_non_null(rep);
    assert_string_equal(d.field, "request.reportedElements[0].claims[1]");
    assert_int_equal(avow_answer_report_count(rep), 2);
    assert_int_equal(entry(rep, "ak-spki")->reason, AVOW_REASON_NO_SIGNER);
    assert_true(entry(rep, "oemid")->fails);
    avow_answer_report_free(rep);
    /* not strict: the same request is answered as far as it can be */
    o.flags = 0;
    OK(avow_evidence_fill(req, src, &o, &ev, &rep, &d));
    assert_int_equal(avow_evidence_element_count(ev), 2);
    assert_false(entry(rep, "oemid")->fails);
    avow_evidence_free(ev);
    avow_answer_report_free(rep);
    avow_evidence_request_free(req);

    /* nothing can be supplied at all */
    req = from_json("{\"platform\":{\"fipslevel\":null}}");
    assert_int_equal(avow_evidence_fill(req, NULL, &o, &ev, &rep, &d), AVOW_ERR_EMPTY);
    assert_non_null(rep);
    assert_string_equal(entry(rep, "fipslevel")->detail, "no claim source gives it");
    avow_answer_report_free(rep);
    avow_evidence_request_free(req);

    /* the attester's key with no key given */
    req = from_json("{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"keys\":[{\"spki\":null}]}");
    OK(avow_evidence_fill(req, NULL, &o, &ev, &rep, &d));
    assert_int_equal(avow_evidence_element_count(ev), 1);
    assert_int_equal(entry(rep, NULL)->reason, AVOW_REASON_NO_KEY);
    avow_evidence_free(ev);
    avow_answer_report_free(rep);
    avow_evidence_request_free(req);

    /* one key asked under two names */
    req = from_json("{\"keys\":[{\"identifier\":\"k1\"},{\"identifier\":\"alias\"}]}");
    assert_int_equal(avow_evidence_fill(req, src, &o, &ev, &rep, &d), AVOW_ERR_DUP_KEY);
    avow_evidence_request_free(req);

    /* options not set up */
    req = from_json("{\"platform\":{\"vendor\":null}}");
    avow_fill_opts bad;
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(avow_evidence_fill(req, src, &bad, &ev, &rep, &d), AVOW_ERR_ARG);
    avow_evidence_request_free(req);

    avow_claim_source_free(src);
    fixture_free(&f);
    TU_NO_OSSL_ERR();
}

static void test_fill_sources(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    avow_diag d;
    avow_claim_source *src = source_json(f.json);
    /* a second source adds an expiry for k1 (by its alias) and a platform fact */
    avow_evidence *extra = evidence_json("{\"platform\":{\"fipslevel\":3,\"vendor\":\"Other\"},"
                                         "\"keys\":[{\"identifier\":\"alias\",\"expiry\":"
                                         "\"2030-01-01T00:00:00Z\"}]}");
    OK(avow_claim_source_add0_evidence(src, "extra", extra, &d));
    assert_int_equal(avow_claim_source_add_pkcs11(src, "t", NULL, 0, NULL, 0, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_claim_source_add0_evidence(src, "x", NULL, &d), AVOW_ERR_ARG);

    /* an unknown claim type in the request is left out and said so */
    blob *b =
        TBS(PLAT(C(AVOW_CLAIM_VENDOR, NULL), C(AVOW_CLAIM_FIPSLEVEL, NULL), SEQ(EOID("1.1.99"))),
            KEY(C(AVOW_CLAIM_KEY_IDENTIFIER, NULL), C(AVOW_CLAIM_KEY_EXPIRY, NULL)));
    avow_evidence_request *req = decode_ok(b);
    avow_fill_opts o;
    fill_opts(&o, NULL);
    avow_evidence *ev = NULL;
    avow_answer_report *rep = NULL;
    OK(avow_evidence_fill(req, src, &o, &ev, &rep, &d));
    const avow_element *pf = avow_evidence_get0_element(ev, 0);
    assert_int_equal(pf->nclaims, 2);
    /* the first source wins */
    assert_memory_equal(claim_in(pf, AVOW_CLAIM_VENDOR, 0)->value.bytes.ptr, "Acme", 4);
    assert_int_equal(claim_in(pf, AVOW_CLAIM_FIPSLEVEL, 0)->value.integer, 3);
    /* the attester's keys: k1 (with every identifier either source knows) and k2 */
    assert_int_equal(avow_evidence_element_count(ev), 3);
    const avow_element *k1 = avow_evidence_get0_element(ev, 1);
    assert_non_null(claim_in(k1, AVOW_CLAIM_KEY_IDENTIFIER, 1));
    assert_non_null(claim_in(k1, AVOW_CLAIM_KEY_EXPIRY, 0));
    const avow_answer *a = entry(rep, "1.3.6.1.5.5.999.1.1.99");
    assert_non_null(a);
    assert_int_equal(a->kind, AVOW_ANSWER_IGNORED);
    assert_int_equal(a->code, AVOW_OK);
    a = entry(rep, "expiry");
    assert_non_null(a);
    assert_string_equal(a->key, "k2");
    assert_int_equal(avow_answer_report_count(rep), 2);
    /* the Evidence answers, and the unknown requested claim is not required */
    avow_answer_report *ans = NULL;
    OK(avow_evidence_answers(ev, req, 0, &ans, &d));
    avow_answer_report_free(ans);

    avow_evidence_free(ev);
    avow_answer_report_free(rep);
    avow_evidence_request_free(req);
    avow_claim_source_free(src);
    fixture_free(&f);
    arena_free();
    TU_NO_OSSL_ERR();
}

/* ---------- checking answers ---------- */

static avow_err answers(const char *ev_json, const char *req_json, unsigned flags,
                        avow_answer_report **rep, avow_diag *d)
{
    avow_evidence *ev = evidence_json(ev_json);
    avow_evidence_request *req = from_json(req_json);
    avow_err rc = avow_evidence_answers(ev, req, flags, rep, d);
    avow_evidence_free(ev);
    avow_evidence_request_free(req);
    return rc;
}

static const char *REQ = "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},"
                         "\"platform\":{\"vendor\":null,\"hwmodel\":null},"
                         "\"keys\":[{\"identifier\":\"tls\",\"extractable\":null}]}";

static const struct answer_case {
    const char *what, *ev;
    unsigned flags;
    avow_err err;
    const char *field;
} answer_cases[] = {
    {"full answer",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\",\"hwmodel\":"
     "\"M\"},\"keys\":[{\"identifier\":\"tls\",\"extractable\":false}]}",
     AVOW_ANSWERS_STRICT, AVOW_OK, ""},
    {"hwmodel missing, default",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\"},"
     "\"keys\":[{\"identifier\":\"tls\"}]}",
     0, AVOW_OK, ""},
    {"hwmodel missing, strict",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\"},"
     "\"keys\":[{\"identifier\":\"tls\",\"extractable\":false}]}",
     AVOW_ANSWERS_STRICT, AVOW_ERR_UNANSWERED, "request.reportedElements[1].claims[1]"},
    {"no platform element, strict",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"keys\":[{\"identifier\":\"tls\","
     "\"extractable\":false}]}",
     AVOW_ANSWERS_STRICT, AVOW_ERR_UNANSWERED, "request.reportedElements[1].claims[0]"},
    {"nonce differs",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0012\"}},\"keys\":[{\"identifier\":\"tls\"}]}", 0,
     AVOW_ERR_NONCE_MISMATCH, "tbs.reportedElements[0].claims[0]"},
    {"nonce missing", "{\"keys\":[{\"identifier\":\"tls\"}]}", AVOW_ANSWERS_ALLOW_UNREQUESTED,
     AVOW_ERR_NONCE_MISSING, "request.reportedElements[0].claims[0]"},
    {"the key named is absent",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\"}}", 0,
     AVOW_ERR_UNANSWERED, "request.reportedElements[2]"},
    {"claim not requested",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\","
     "\"hwserial\":\"1\"},\"keys\":[{\"identifier\":\"tls\"}]}",
     0, AVOW_ERR_UNREQUESTED, "tbs.reportedElements[1].claims[1]"},
    {"claim not requested, allowed",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"platform\":{\"vendor\":\"A\","
     "\"hwserial\":\"1\"},\"keys\":[{\"identifier\":\"tls\"}]}",
     AVOW_ANSWERS_ALLOW_UNREQUESTED, AVOW_OK, ""},
    {"another key",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"}},\"keys\":[{\"identifier\":\"tls\"},"
     "{\"identifier\":\"ssh\"}]}",
     0, AVOW_ERR_UNREQUESTED, "tbs.reportedElements[2]"},
    {"the transaction's timestamp not requested",
     "{\"transaction\":{\"nonce\":{\"hex\":\"0011\"},\"timestamp\":\"2026-01-01T00:00:00Z\"},"
     "\"keys\":[{\"identifier\":\"tls\"}]}",
     0, AVOW_ERR_UNREQUESTED, "tbs.reportedElements[0].claims[1]"},
};

static void test_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(answer_cases) / sizeof(answer_cases[0]); i++) {
        const struct answer_case *c = &answer_cases[i];
        avow_answer_report *rep = NULL;
        avow_diag d;
        avow_diag_clear(&d);
        avow_err rc = answers(c->ev, REQ, c->flags, &rep, &d);
        if (rc != c->err || (rc != AVOW_OK && strcmp(d.field, c->field) != 0))
            fail_msg("%s: got %s at \"%s\" (%s)", c->what, avow_errname(rc), d.field, d.detail);
        assert_non_null(rep);
        assert_int_equal(avow_answer_report_status(rep), rc);
        avow_answer_report_free(rep);
    }
    /* the request's key element without identifier answers for any key */
    avow_answer_report *rep = NULL;
    avow_diag d;
    OK(answers("{\"keys\":[{\"identifier\":\"a\",\"local\":true}]}",
               "{\"keys\":[{\"identifier\":null}]}", AVOW_ANSWERS_ALLOW_UNREQUESTED, &rep, &d));
    avow_answer_report_free(rep);
    assert_int_equal(answers("{\"platform\":{\"vendor\":\"A\"}}",
                             "{\"keys\":[{\"identifier\":null}]}",
                             AVOW_ANSWERS_STRICT | AVOW_ANSWERS_ALLOW_UNREQUESTED, NULL, &d),
                     AVOW_ERR_UNANSWERED);
    avow_evidence *ev = evidence_json("{\"platform\":{\"vendor\":\"A\"}}");
    avow_evidence_request *req = from_json("{\"platform\":{\"vendor\":null}}");
    assert_int_equal(avow_evidence_answers(ev, req, 1u << 7, &rep, &d), AVOW_ERR_ARG);
    assert_null(rep);
    assert_int_equal(avow_evidence_answers(NULL, req, 0, &rep, &d), AVOW_ERR_ARG);
    avow_evidence_free(ev);
    avow_evidence_request_free(req);
    TU_NO_OSSL_ERR();
}

static void test_report_output(void **state)
{
    (void)state;
    avow_answer_report *rep = NULL;
    avow_diag d;
    /* a key identifier with an escape character and a line break */
    assert_int_equal(answers("{\"keys\":[{\"identifier\":\"a\\u001b[2J\\nAVOW\"}]}",
                             "{\"platform\":{\"vendor\":null}}", 0, &rep, &d),
                     AVOW_ERR_UNREQUESTED);
    avow_buf text = {0}, json = {0};
    OK(avow_answer_report_to_text(rep, &text));
    assert_null(memchr(text.ptr, 0x1b, text.len));
    assert_non_null(strstr((char *)text.ptr, "unrequested: key \"a\\x1b[2J\\x0aAVOW\" element"));
    assert_non_null(strstr((char *)text.ptr, "missing: platform vendor"));
    OK(avow_answer_report_to_json(rep, &json));
    assert_non_null(strstr((char *)json.ptr, "\"status\": \"AVOW_ERR_UNREQUESTED\""));
    assert_non_null(strstr((char *)json.ptr, "\"unrequested\": 1"));
    assert_non_null(strstr((char *)json.ptr, "\"reason\": \"not-requested\""));
    assert_non_null(strstr((char *)json.ptr, "\"claim\": null"));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_answer_report_free(rep);
    assert_int_equal(avow_answer_report_count(NULL), 0);
    assert_null(avow_answer_report_get0(NULL, 0));
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_roundtrip),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_decode_sweeps),
        cmocka_unit_test(test_fill_json),
        cmocka_unit_test(test_fill_modes),
        cmocka_unit_test(test_fill_sources),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_report_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
