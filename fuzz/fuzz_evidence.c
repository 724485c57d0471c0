/*
 * libFuzzer target for the whole path hostile PKIX Evidence takes: decode
 * strictly and with the lenient flags (whatever decodes must re-encode to
 * the very same bytes and print as text and JSON), then verify it under the
 * fixed set-up (setup.h: the fuzz CA as trust anchor, and a key set), with
 * and without the seeds' nonce; check the result and its claim set; appraise
 * the claims with the default and a rich policy; build the EAR, write it as
 * JSON, read it back, and sign and verify it as a JWT. The input also goes
 * through the registry as a request's one statement, so a platform token
 * nested in it (the combined form, docs/kat.md) is verified by the
 * id-pe-cmw and PSA rows, bound by the outer nonce or the outer signer, and
 * appraised with a policy on psa: claims into an EAR that names the link.
 * The OpenSSL error queue stays empty throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_get();
    return 0;
}

static void verify(const avow_evidence *ev, const avow_verifier *v, int with_nonce, unsigned flags,
                   int sign)
{
    avow_verify_opts opts = {.size = sizeof(avow_verify_opts), .flags = flags};
    if (with_nonce) {
        opts.nonce = FZ_NONCE;
        opts.nonce_len = sizeof(FZ_NONCE);
    }
    avow_evidence_result *r = NULL;
    avow_diag d;
    avow_err rc = avow_verify_evidence(v, ev, &opts, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
    fz_check_result(ev, r, rc);
    FZ_CHECK(!with_nonce || rc != AVOW_OK || r->nonce == AVOW_NONCE_MATCH);
    const char *detail = NULL;
    for (size_t i = 0; i < r->nsigs && detail == NULL; i++)
        if (r->sigs[i].status != AVOW_OK)
            detail = r->sigs[i].detail;
    fz_appraise(&r->claims, rc, detail, r->nonce, with_nonce, sign);
    avow_evidence_result_free(r);
    FZ_CHECK(ERR_peek_error() == 0);
}

static const char PSA_POLICY[] =
    "{\"name\":\"fuzz-combined\",\"rules\":["
    "{\"id\":\"secured\",\"claim\":\"psa:lifecycle\",\"equals\":\"secured\",\"required\":true},"
    "{\"id\":\"fresh\",\"claim\":\"psa:nonce\",\"present\":true,\"required\":true}]}";

static const avow_policy *psa_policy(void)
{
    static avow_policy *p;
    if (p == NULL)
        FZ_CHECK(avow_policy_parse(PSA_POLICY, sizeof(PSA_POLICY) - 1, &p, NULL) == AVOW_OK);
    return p;
}

/* The invariants of a statement nested in statement 0 (the input). */
static void check_nested(const avow_verification *r)
{
    size_t n = avow_verification_count(r);
    FZ_CHECK(n >= 1 && n <= 1 + AVOW_NESTED_MAX_PER_STATEMENT);
    avow_err outer = avow_statement_result_status(avow_verification_get0(r, 0));
    FZ_CHECK(avow_statement_result_nested_in(avow_verification_get0(r, 0), NULL, NULL) == 0);
    for (size_t i = 1; i < n; i++) {
        const avow_statement_result *in = avow_verification_get0(r, i);
        size_t o = 9, to = 9;
        const char *field = NULL;
        FZ_CHECK(avow_statement_result_nested_in(in, &o, &field) == 1 && o == 0 && field != NULL);
        FZ_CHECK(strstr(field, "platform-token") != NULL);
        FZ_CHECK(strcmp(avow_statement_result_type_name(in), "id-pe-cmw") == 0);
        avow_err st = avow_statement_result_status(in);
        /* a nested statement that fails fails the one it is nested in */
        FZ_CHECK(st == AVOW_OK || outer == AVOW_ERR_NESTED);
        /* one that verified is linked to its outer statement, and only to it */
        FZ_CHECK(st != AVOW_OK || (avow_statement_result_linked_to(in, &to, NULL) && to == 0));
    }
    FZ_CHECK(avow_verification_status(r) != AVOW_OK || outer == AVOW_OK);
}

static void through_registry(const uint8_t *data, size_t size, unsigned flags)
{
    const fz_setup *s = fz_get();
    const avow_profile *p = avow_verifier_get0_profile(s->v_keys);
    avow_statement_in st = {{p->evidence_arc.der, p->evidence_arc.len}, {data, size}};
    avow_statements_in in;
    fz_statements(&in, &st, 1);
    avow_verification_opts vo;
    avow_verification_opts_init(&vo);
    vo.verify_flags = flags;
    avow_verification *r = NULL;
    avow_err rc = avow_statements_verify(s->v_keys, &in, &vo, &r, NULL);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(r != NULL && avow_verification_status(r) == rc);
    check_nested(r);
    size_t n = avow_verification_count(r);
    avow_verification_free(r);

    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.policy = psa_policy();
    ao.verify_flags = flags;
    ao.now = FZ_NOW;
    avow_appraisal *a = NULL;
    rc = avow_appraise(s->v_keys, &in, &ao, &a, NULL);
    FZ_CHECK(ERR_peek_error() == 0);
    if (a == NULL)
        return;
    avow_buf j = {0};
    FZ_CHECK(avow_ear_to_json(avow_appraisal_get0_ear(a), &j, NULL) == AVOW_OK);
    /* only a nested statement that verified names what it binds */
    FZ_CHECK(n > 1 || strstr((char *)j.ptr, "avow_binds") == NULL);
    avow_ear *back = NULL;
    FZ_CHECK(avow_ear_from_json((char *)j.ptr, j.len, &back, NULL) == AVOW_OK);
    avow_ear_free(back);
    avow_buf_free(&j);
    avow_appraisal_free(a);
    FZ_CHECK(ERR_peek_error() == 0);
}

static void one(const uint8_t *data, size_t size, unsigned flags)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_decode(data, size, NULL, flags, &ev, &d);
    FZ_CHECK(ERR_peek_error() == 0); /* the decoder left the OpenSSL queue dirty */
    if (rc != AVOW_OK) {
        /* a failure must reset *out and say where */
        FZ_CHECK(ev == NULL && d.field[0] != '\0' && d.code == rc);
        return;
    }
    avow_buf der = {0};
    /* accepted input is DER: it re-encodes byte for byte */
    FZ_CHECK(avow_evidence_encode(ev, &der) == AVOW_OK && der.len == size &&
             memcmp(der.ptr, data, size) == 0);
    avow_buf_free(&der);

    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_evidence_to_text(ev, &text) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_evidence_to_json(ev, &json) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&text);
    avow_buf_free(&json);

    const fz_setup *s = fz_get();
    verify(ev, s->v_anchor, 1, 0, 1);
    verify(ev, s->v_anchor, 0, 0, 0);
    verify(ev, s->v_keys, 0, AVOW_VERIFY_ANY_SIGNATURE, flags == 0);
    avow_evidence_free(ev);
    if (flags == 0) {
        through_registry(data, size, 0);
        through_registry(data, size, AVOW_VERIFY_NESTED_BY_SIGNER);
    }
    FZ_CHECK(ERR_peek_error() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 0);
    one(data, size, AVOW_DECODE_EXPLICIT_INTERMEDIATES | AVOW_DECODE_ALLOW_VALUELESS);
    return 0;
}
