/*
 * libFuzzer target for attestation requests (avow/evidence_request.h). The
 * input is read twice:
 *   - as a request: decoded strictly (whatever decodes re-encodes to the
 *     very same bytes and prints as JSON), filled from a fixed claims source
 *     with the fuzz AK as signer, and the filled Evidence must answer its
 *     request: encoded and decoded back, the check passes in the default
 *     mode, finds exactly the claims the fill reported missing, and fails
 *     in strict mode only when some were;
 *   - as Evidence: checked against a fixed request (the seeds' nonce, every
 *     claim of the table, the attester's key) in each mode, with the report
 *     rendered as text and JSON.
 * The OpenSSL error queue stays empty throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* What the attester knows: some platform claims and two keys, one of them named "k1". */
static const char SOURCE_JSON[] =
    "{\"transaction\":{\"timestamp\":\"2030-01-01T00:00:00Z\"},"
    "\"platform\":{\"vendor\":\"Acme\",\"hwmodel\":\"HSM-9\",\"fipsboot\":true,\"fipslevel\":3},"
    "\"keys\":[{\"identifier\":[\"k1\",\"alias\"],\"extractable\":false,\"sensitive\":true,"
    "\"purpose\":[\"sign\",\"1.2.3.4\"],\"expiry\":\"2031-01-01T00:00:00Z\"},"
    "{\"identifier\":\"k2\",\"local\":true}]}";

static avow_evidence_request *fixed_req;
static avow_claim_source *source;
static avow_buf ak_spki;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const fz_setup *s = fz_get();
    avow_diag d;
    int ok = avow_evidence_request_new(NULL, &fixed_req) == AVOW_OK &&
             avow_evidence_request_set_nonce(fixed_req, FZ_NONCE, sizeof(FZ_NONCE), &d) == AVOW_OK;
    size_t key = 0;
    ok = ok && avow_evidence_request_add_key(fixed_req, NULL, &key, &d) == AVOW_OK;
    for (int id = 0; ok && id < AVOW_CLAIM_COUNT_; id++) {
        const avow_claim_info *info = avow_claim_info_get((avow_claim_id)id);
        if (info->id == AVOW_CLAIM_NONCE)
            continue;
        ok = info->element == AVOW_ELEMENT_KEY
                 ? avow_evidence_request_want_key(fixed_req, key, info->id, &d) == AVOW_OK
                 : avow_evidence_request_want(fixed_req, info->id, &d) == AVOW_OK;
    }
    ok = ok && avow_claim_source_new(NULL, &source) == AVOW_OK &&
         avow_claim_source_add_json(source, "fuzz", SOURCE_JSON, strlen(SOURCE_JSON), NULL, &d) ==
             AVOW_OK &&
         avow_spki_der(avow_signer_get0_pubkey(s->ak_signer), &ak_spki, &d) == AVOW_OK;
    FZ_CHECK(ok);
    return 0;
}

static void report_ok(const avow_answer_report *rep, avow_err status)
{
    FZ_CHECK(rep != NULL && avow_answer_report_status(rep) == status);
    avow_buf text = {0}, json = {0};
    FZ_CHECK(avow_answer_report_to_text(rep, &text) == AVOW_OK && fz_text_ok(&text));
    FZ_CHECK(avow_answer_report_to_json(rep, &json) == AVOW_OK && fz_text_ok(&json));
    for (size_t i = 0; i < avow_answer_report_count(rep); i++) {
        const avow_answer *a = avow_answer_report_get0(rep, i);
        FZ_CHECK(a->field != NULL && a->field[0] != '\0' && a->detail != NULL);
    }
    avow_buf_free(&text);
    avow_buf_free(&json);
}

static size_t count_kind(const avow_answer_report *rep, avow_answer_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < avow_answer_report_count(rep); i++)
        n += avow_answer_report_get0(rep, i)->kind == kind;
    return n;
}

/* The filled Evidence answers the request it was filled from. */
static void fill(const avow_evidence_request *req)
{
    avow_view signer = {ak_spki.ptr, ak_spki.len};
    avow_fill_opts o;
    avow_fill_opts_init(&o);
    o.now_given = 1;
    o.now = FZ_NOW;
    o.nsigner_spkis = 1;
    o.signer_spkis = &signer;
    avow_evidence *ev = NULL;
    avow_answer_report *rep = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_fill(req, source, &o, &ev, &rep, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(ev == NULL && d.code == rc && d.field[0] != '\0');
        FZ_CHECK((rep != NULL) == (rc == AVOW_ERR_EMPTY || rc == AVOW_ERR_UNANSWERED));
        if (rep != NULL)
            report_ok(rep, rc);
        avow_answer_report_free(rep);
        return;
    }
    report_ok(rep, AVOW_OK);
    avow_buf der = {0};
    avow_evidence *back = NULL;
    FZ_CHECK(avow_evidence_encode(ev, &der) == AVOW_OK);
    FZ_CHECK(avow_evidence_decode(der.ptr, der.len, NULL, 0, &back, &d) == AVOW_OK);
    avow_answer_report *ans = NULL;
    FZ_CHECK(avow_evidence_answers(back, req, 0, &ans, &d) == AVOW_OK);
    size_t missing = count_kind(rep, AVOW_ANSWER_MISSING);
    FZ_CHECK(count_kind(ans, AVOW_ANSWER_MISSING) == missing);
    FZ_CHECK(count_kind(ans, AVOW_ANSWER_UNREQUESTED) == 0);
    avow_answer_report_free(ans);
    rc = avow_evidence_answers(back, req, AVOW_ANSWERS_STRICT, &ans, &d);
    FZ_CHECK((rc == AVOW_OK) == (missing == 0));
    report_ok(ans, rc);
    avow_answer_report_free(ans);
    avow_evidence_free(back);
    avow_buf_free(&der);
    avow_evidence_free(ev);
    avow_answer_report_free(rep);
    FZ_CHECK(ERR_peek_error() == 0);
}

static void as_request(const uint8_t *data, size_t size)
{
    avow_evidence_request *req = NULL;
    avow_diag d;
    avow_err rc = avow_evidence_request_decode(data, size, NULL, 0, &req, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(req == NULL && d.code == rc && d.field[0] != '\0');
        return;
    }
    avow_buf der = {0}, json = {0};
    FZ_CHECK(avow_evidence_request_encode(req, &der, &d) == AVOW_OK && der.len == size &&
             memcmp(der.ptr, data, size) == 0);
    FZ_CHECK(avow_evidence_request_to_json(req, &json) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&der);
    avow_buf_free(&json);
    fill(req);
    avow_evidence_request_free(req);
}

static void as_evidence(const uint8_t *data, size_t size)
{
    avow_evidence *ev = NULL;
    avow_diag d;
    if (avow_evidence_decode(data, size, NULL, 0, &ev, &d) != AVOW_OK)
        return;
    static const unsigned modes[] = {0, AVOW_ANSWERS_STRICT, AVOW_ANSWERS_ALLOW_UNREQUESTED,
                                     AVOW_ANSWERS_STRICT | AVOW_ANSWERS_ALLOW_UNREQUESTED};
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        avow_answer_report *rep = NULL;
        avow_err rc = avow_evidence_answers(ev, fixed_req, modes[m], &rep, &d);
        FZ_CHECK(rc == AVOW_OK || (d.code == rc && d.field[0] != '\0'));
        report_ok(rep, rc);
        /* a failing entry is what made the call fail */
        int fails = 0;
        for (size_t i = 0; i < avow_answer_report_count(rep); i++)
            fails |= avow_answer_report_get0(rep, i)->fails;
        FZ_CHECK(fails == (rc != AVOW_OK));
        avow_answer_report_free(rep);
    }
    avow_evidence_free(ev);
    FZ_CHECK(ERR_peek_error() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_request(data, size);
    as_evidence(data, size);
    return 0;
}
