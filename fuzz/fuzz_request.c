/*
 * libFuzzer target for the attested-request decoder (PKCS#10 and CRMF, DER
 * or PEM, every bundle shape): decode; whatever decodes must expose
 * consistent accessors, print its subject, report a POP verdict, go through
 * request verification (registry dispatch, PKIX Evidence decode) against an
 * empty verifier, and leave the OpenSSL error queue empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <avow/request.h>
#include <avow/request_verify.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const avow_verifier *v, const uint8_t *data, size_t size, avow_request_kind kind,
                unsigned flags)
{
    avow_request *r = NULL;
    avow_diag d;
    avow_err rc = avow_request_decode(data, size, kind, flags, &r, &d);
    if (ERR_peek_error() != 0)
        abort(); /* the decoder left the OpenSSL queue dirty */
    if (rc != AVOW_OK) {
        if (r != NULL || d.code != rc)
            abort(); /* a failure must reset *out and record its code */
        return;
    }
    avow_view der = avow_request_der(r);
    if (der.ptr == NULL || der.len == 0 || avow_request_get0_pubkey(r) == NULL ||
        avow_request_spki(r).len == 0)
        abort();
    size_t n = avow_request_statement_count(r);
    if (n == 0 && !(flags & AVOW_REQUEST_ALLOW_NONE))
        abort();
    for (size_t i = 0; i < n; i++) {
        const avow_statement *s = avow_request_get0_statement(r, i);
        if (s == NULL || s->type.len == 0 || s->der.len == 0 || s->type_text[0] == '\0')
            abort();
    }
    if (avow_request_get0_statement(r, n) != NULL)
        abort();
    for (size_t i = 0; i < avow_request_other_cert_count(r); i++)
        if (avow_request_get0_other_cert(r, i) == NULL)
            abort();
    const char *detail = NULL;
    avow_err pop = avow_request_pop(r, &detail);
    if ((pop != AVOW_OK && pop != AVOW_ERR_POP) || detail == NULL)
        abort();
    avow_buf subj = {0};
    if (avow_request_subject_text(r, &subj) != AVOW_OK || subj.ptr == NULL ||
        subj.ptr[subj.len] != '\0')
        abort();
    avow_buf_free(&subj);

    avow_request_result *res = NULL;
    avow_err vr = avow_request_verify(v, r, NULL, &res, NULL);
    if (res == NULL || res->status != vr || res->nstatements != n || vr == AVOW_OK)
        abort(); /* nothing is trusted by an empty verifier */
    avow_request_result_free(res);
    avow_request_free(r);
    if (ERR_peek_error() != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_verifier *v = NULL;
    if (avow_verifier_new(NULL, &v) != AVOW_OK)
        abort();
    one(v, data, size, AVOW_REQUEST_AUTO, 0);
    one(v, data, size, AVOW_REQUEST_PKCS10, AVOW_REQUEST_ALLOW_NONE);
    one(v, data, size, AVOW_REQUEST_CRMF, AVOW_REQUEST_ALLOW_NONE);
    avow_verifier_free(v);
    return 0;
}
