/*
 * Reports on an EAR for the relying-party commands (`avow ear verify`,
 * `avow ear show`): a verified one summarised from its claims, an
 * unverified one shown whole under a label that says so. The CLI prints
 * what this returns and formats nothing itself.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>

#include <avow/ear.h>
#include <avow/jose.h>
#include <avow/times.h>

#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"

#define NOT_VERIFIED                                                                               \
    "NOT VERIFIED: decoded for inspection only; no signature, key, typ or time was checked\n"

static void put_str(BIO *b, const char *s)
{
    avow__escape_bio(b, (const uint8_t *)s, strlen(s), AVOW_ESCAPE_QUOTED);
}

/* Multi-line text, each line escaped on its own so that the line breaks stay. */
static void put_lines(BIO *b, const char *s)
{
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        avow__escape_bio(b, (const uint8_t *)s, n, 0);
        BIO_puts(b, "\n");
        s += n + (nl != NULL);
    }
}

/* The overall status: the top-level claim, never better than the worst submod. */
static avow_tier top_status(const avow_ear *ear)
{
    avow_tier top = ear->has_status ? ear->status : ear->submods[0].status;
    for (size_t i = 0; i < ear->nsubmods; i++)
        if (avow_tier_worse(ear->submods[i].status, top))
            top = ear->submods[i].status;
    return top;
}

static void put_time(BIO *b, const char *label, time_t t)
{
    char buf[64];
    if (avow_time_format(t, buf, sizeof(buf)) == AVOW_OK)
        BIO_printf(b, "%s: %s (%lld)\n", label, buf, (long long)t);
    else
        BIO_printf(b, "%s: %lld (out of the printable range)\n", label, (long long)t);
}

static void put_submod(BIO *b, const avow_ear_submod *sm)
{
    BIO_puts(b, "submod \"");
    put_str(b, sm->name);
    BIO_printf(b, "\": %s\n", avow_tier_name(sm->status));
    if (sm->vector_set != 0) {
        BIO_puts(b, "  vector:");
        for (int k = 0; k < AVOW_TV_COUNT_; k++)
            if (sm->vector_set & (1u << k))
                BIO_printf(b, " %s=%d", avow_tv_name((avow_tv_key)k), sm->vector[k]);
        BIO_puts(b, "\n");
    }
    for (size_t i = 0; i < sm->npolicy_ids; i++) {
        BIO_puts(b, "  policy: \"");
        put_str(b, sm->policy_ids[i]);
        BIO_puts(b, "\"\n");
    }
    if (sm->akpub.len > 0)
        BIO_printf(b, "  attested key: %zu bytes (akpub)\n", sm->akpub.len);
    for (size_t i = 0; i < sm->nreasons; i++) {
        const avow_ear_reason *r = &sm->reasons[i];
        const char *code = avow_errname(r->code);
        BIO_printf(b, "  reason: %s \"", r->is_rule ? "rule" : "check");
        put_str(b, r->name);
        BIO_printf(b, "\" %s (%s): \"", code != NULL ? code : "?", avow_tier_name(r->tier));
        put_str(b, r->detail);
        BIO_puts(b, "\"\n");
    }
}

static avow_err verified_text(const avow_jws *jws, const avow_ear *ear, BIO *b)
{
    const char *kid = avow_jws_header_string(jws, "kid");
    const char *typ = avow_jws_header_string(jws, "typ");
    const avow_sigalg_desc *a = avow_sigalg_info(avow_jws_alg(jws));
    BIO_printf(b, "EAR: VERIFIED (signature %s", a != NULL && a->jose != NULL ? a->jose : "?");
    if (kid != NULL) {
        BIO_puts(b, ", kid \"");
        put_str(b, kid);
        BIO_puts(b, "\"");
    }
    BIO_puts(b, ", typ ");
    if (typ != NULL) {
        BIO_puts(b, "\"");
        put_str(b, typ);
        BIO_puts(b, "\")\n");
    } else {
        BIO_puts(b, "absent)\n");
    }
    BIO_puts(b, "profile: \"");
    put_str(b, ear->profile != NULL ? ear->profile : AVOW_EAR_PROFILE);
    BIO_puts(b, "\"\n");
    put_time(b, "issued", ear->iat);
    if (ear->exp != 0)
        put_time(b, "expires", ear->exp);
    else
        BIO_puts(b, "expires: no exp claim\n");
    BIO_puts(b, "verifier: developer \"");
    put_str(b, ear->developer);
    BIO_puts(b, "\", build \"");
    put_str(b, ear->build);
    BIO_puts(b, "\"\n");
    if (ear->nonce != NULL) {
        BIO_puts(b, "nonce: \"");
        put_str(b, ear->nonce);
        BIO_puts(b, "\"\n");
    }
    BIO_printf(b, "status: %s\n", avow_tier_name(top_status(ear)));
    for (size_t i = 0; i < ear->nsubmods; i++)
        put_submod(b, &ear->submods[i]);
    return AVOW_OK;
}

static json_t *load(const char *text, size_t len, size_t max, const char *what, const char *f,
                    avow_err *rc, avow_diag *d)
{
    json_t *j = NULL;
    *rc = avow__json_load(text, len, max, what, f, &j, d);
    return j;
}

avow_err avow_ear_report(const avow_jws *jws, const char *header, size_t header_len,
                         const char *payload, size_t payload_len, unsigned flags, avow_buf *out,
                         avow_diag *diag)
{
    if (out != NULL)
        *out = (avow_buf){0};
    if (out == NULL || (jws == NULL && payload == NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "ear", "no EAR or output");
    if (jws != NULL) {
        const avow_buf *h = avow_jws_get0_header(jws), *p = avow_jws_get0_payload(jws);
        header = (const char *)h->ptr;
        header_len = h->len;
        payload = (const char *)p->ptr;
        payload_len = p->len;
    }
    avow_err rc = AVOW_OK;
    json_t *hj = NULL, *pj = load(payload, payload_len, AVOW_EAR_MAX_SIZE, "EAR", "ear", &rc, diag);
    if (rc == AVOW_OK && header != NULL)
        hj = load(header, header_len, AVOW_JWS_MAX_HEADER, "JWS header", "jws.header", &rc, diag);
    avow_ear *ear = NULL;
    if (rc == AVOW_OK && jws != NULL)
        rc = avow_ear_from_json(payload, payload_len, &ear, diag);
    if (rc != AVOW_OK)
        goto done;
    if (flags & AVOW_EAR_REPORT_JSON) {
        json_t *o = json_object();
        int bad = o == NULL;
        avow__json_put(o, "verified", json_boolean(jws != NULL), &bad);
        if (jws != NULL) {
            const avow_sigalg_desc *a = avow_sigalg_info(avow_jws_alg(jws));
            avow__json_put(o, "alg", json_string(a != NULL && a->jose ? a->jose : "?"), &bad);
            avow__json_put(o, "status", json_string(avow_tier_name(top_status(ear))), &bad);
        }
        if (hj != NULL)
            avow__json_put(o, "header", json_incref(hj), &bad);
        avow__json_put(o, "ear", json_incref(pj), &bad);
        rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 1, out);
        json_decref(o);
    } else {
        BIO *b = BIO_new(BIO_s_mem());
        if (b == NULL) {
            rc = AVOW_ERR_NOMEM;
            goto done;
        }
        if (jws != NULL) {
            verified_text(jws, ear, b);
        } else {
            BIO_puts(b, NOT_VERIFIED);
            char *s = NULL;
            if (hj != NULL && (s = json_dumps(hj, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL) {
                BIO_puts(b, "header:\n");
                put_lines(b, s);
            }
            free(s);
            if ((s = json_dumps(pj, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL) {
                BIO_puts(b, hj != NULL ? "payload:\n" : "EAR:\n");
                /* escaped: a claim's text could otherwise drive the terminal */
                put_lines(b, s);
            }
            free(s);
        }
        rc = avow__text_take(b, out);
        BIO_free(b);
    }
    if (rc == AVOW_ERR_NOMEM)
        avow__fail(diag, rc, "ear", "out of memory");
done:
    avow_ear_free(ear);
    json_decref(hj);
    json_decref(pj);
    return rc;
}
