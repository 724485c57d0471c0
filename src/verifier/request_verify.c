/*
 * avow_request_verify: POP, every statement through the registry, key binding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include <avow/request_verify.h>

static void set_detail(avow_request_result *r, const char *fmt, ...) AVOW_PRINTF(2, 3);

static void set_detail(avow_request_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

/* Key element of a verified statement whose identifier claim equals id; -1 when none. */
static long by_identifier(const avow_statement_result *s, const uint8_t *id, size_t len)
{
    const avow_nclaim *c = NULL;
    while ((c = avow_claimset_find(&s->claims, "key", "identifier", c)) != NULL)
        if (c->value.present && c->value.bytes.len == len &&
            memcmp(c->value.bytes.ptr, id, len) == 0)
            return (long)c->element_index;
    return -1;
}

void avow_request_result_free(avow_request_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nstatements; i++)
        avow_statement_result_clear(&r->statements[i]);
    OPENSSL_free(r->statements);
    OPENSSL_free(r);
}

const avow_claimset *avow_request_result_bound_claims(const avow_request_result *r)
{
    if (r == NULL || r->bound_statement < 0 || (size_t)r->bound_statement >= r->nstatements)
        return NULL;
    return &r->statements[r->bound_statement].claims;
}

avow_err avow_request_verify(const avow_verifier *v, const avow_request *req,
                             const avow_request_verify_opts *opts, avow_request_result **out,
                             avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (v == NULL || req == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no verifier or request");
    avow_request_verify_opts none;
    if (opts == NULL) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    if ((opts->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER) &&
        (opts->bind_identifier == NULL || opts->bind_identifier_len == 0))
        return avow__fail(diag, AVOW_ERR_ARG, "bind_identifier",
                          "binding by identifier needs the identifier the policy names");

    avow_request_result *r = OPENSSL_zalloc(sizeof(*r));
    size_t n = avow_request_statement_count(req);
    if (r == NULL ||
        (n > 0 && (r->statements = OPENSSL_zalloc(n * sizeof(*r->statements))) == NULL)) {
        OPENSSL_free(r);
        return AVOW_ERR_NOMEM;
    }
    r->nstatements = n;
    r->bound_statement = -1;
    r->bound_element = -1;
    r->pop = avow_request_pop(req, &r->pop_detail);

    avow_verify_opts vo;
    memset(&vo, 0, sizeof(vo));
    vo.nonce = opts->nonce;
    vo.nonce_len = opts->nonce_len;
    vo.flags = opts->verify_flags;
    vo.untrusted = avow_request_get0_certs(req);
    avow_view spki = avow_request_spki(req);

    avow_err first_fail = AVOW_OK;
    size_t first_fail_at = 0;
    for (size_t i = 0; i < n; i++) {
        const avow_statement *st = avow_request_get0_statement(req, i);
        avow_statement_result *sr = &r->statements[i];
        avow_err rc =
            avow_statement_verify(v, opts->registry, st->type.ptr, st->type.len, st->der.ptr,
                                  st->der.len, &vo, spki.ptr, spki.len, sr, NULL);
        if (rc == AVOW_OK) {
            r->verified++;
            if (r->bound_statement < 0 && sr->key_element >= 0) {
                r->bound_statement = (long)i;
                r->bound_element = sr->key_element;
                r->bound_by = "spki";
            }
        } else if (rc == AVOW_ERR_STATEMENT_TYPE) {
            r->unknown++;
        } else if (first_fail == AVOW_OK) {
            first_fail = rc;
            first_fail_at = i;
        }
    }
    if (r->bound_statement < 0 && (opts->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER)) {
        for (size_t i = 0; i < n && r->bound_statement < 0; i++) {
            if (r->statements[i].status != AVOW_OK)
                continue;
            long e =
                by_identifier(&r->statements[i], opts->bind_identifier, opts->bind_identifier_len);
            if (e >= 0) {
                r->bound_statement = (long)i;
                r->bound_element = e;
                r->bound_by = "identifier";
            }
        }
    }
    r->binding = r->bound_statement >= 0 ? AVOW_OK : AVOW_ERR_KEY_BINDING;

    if (r->pop != AVOW_OK) {
        r->status = AVOW_ERR_POP;
        set_detail(r, "proof of possession: %s", r->pop_detail);
    } else if (first_fail != AVOW_OK) {
        r->status = first_fail;
        set_detail(r, "statement %zu (%s): %s", first_fail_at,
                   r->statements[first_fail_at].type_name, r->statements[first_fail_at].detail);
    } else if (r->verified == 0) {
        r->status = AVOW_ERR_STATEMENT_TYPE;
        set_detail(r, "no statement of a type this verifier knows (%zu unknown)", r->unknown);
    } else if (r->binding != AVOW_OK) {
        r->status = AVOW_ERR_KEY_BINDING;
        set_detail(r, "no verified statement attests the request's public key%s",
                   (opts->flags & AVOW_REQVERIFY_BIND_BY_IDENTIFIER) ? " (by spki or identifier)"
                                                                     : " (by spki)");
    } else {
        r->status = AVOW_OK;
    }
    avow_err status = r->status;
    if (status != AVOW_OK)
        avow__fail(diag, status, "request", "%s", r->detail);
    else if (diag != NULL)
        avow_diag_clear(diag);
    avow__ossl_clear();
    if (out != NULL)
        *out = r;
    else
        avow_request_result_free(r);
    return status;
}
