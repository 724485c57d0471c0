/*
 * libFuzzer target for the whole path of a hostile attested request (PKCS#10
 * and CRMF, DER or PEM, every bundle shape): decode; whatever decodes must
 * expose consistent accessors, print its subject, report a POP verdict and
 * go through request verification against an empty verifier (nothing is
 * trusted). Then the appraisal `avow csr verify` and `avow ca issue` make,
 * under the fixed set-up (setup.h): the fuzz CA as trust anchor, a SQLite
 * nonce store (":memory:") and the default policy; and again with a store
 * that knows the seeds' nonce, under the default and the rich policy. Each EAR is written as
 * JSON and read back; an affirming appraisal is issued a certificate by the
 * fuzz CA, whose EAR a relying party reads back. The OpenSSL error queue
 * stays empty throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static avow_verifier *empty;
static avow_nonce_store *sqlite_store, *seed_store;

/* A store that has issued exactly the seeds' nonce, and never uses it up, so every input is
 * appraised alike. */
static avow_err seed_insert(void *impl, const uint8_t *nonce, size_t len, time_t issued,
                            time_t expires, avow_diag *diag)
{
    (void)impl, (void)nonce, (void)len, (void)issued, (void)expires, (void)diag;
    return AVOW_ERR_DUP_KEY;
}

static avow_err seed_consume(void *impl, const uint8_t *nonce, size_t len, time_t now,
                             avow_diag *diag)
{
    (void)impl, (void)now, (void)diag;
    if (len == sizeof(FZ_NONCE) && memcmp(nonce, FZ_NONCE, len) == 0)
        return AVOW_OK;
    return AVOW_ERR_NONCE_UNKNOWN;
}

static avow_err seed_purge(void *impl, time_t before, size_t *removed, avow_diag *diag)
{
    (void)impl, (void)before, (void)diag;
    if (removed != NULL)
        *removed = 0;
    return AVOW_OK;
}

static void seed_free(void *impl)
{
    (void)impl;
}

static const avow_nonce_store_ops SEED_OPS = {.size = sizeof(avow_nonce_store_ops),
                                              .name = "fuzz-seed",
                                              .insert = seed_insert,
                                              .consume = seed_consume,
                                              .purge = seed_purge,
                                              .free = seed_free,
                                              .check = seed_consume};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_get();
    /* No nonce is ever issued into the SQLite store: consuming stays a read of an empty table, the
     * same answer for every input. */
    if (avow_verifier_new(NULL, &empty) != AVOW_OK ||
        avow_nonce_store_open_sqlite(":memory:", &sqlite_store, NULL) != AVOW_OK ||
        avow_nonce_store_new(&SEED_OPS, NULL, &seed_store, NULL) != AVOW_OK)
        abort();
    ERR_clear_error();
    return 0;
}

static void issue(const avow_request *r, const avow_appraisal *a)
{
    const fz_setup *s = fz_get();
    avow_buf jwt = {0}, payload = {0};
    avow_ca_issue_opts io = {.size = sizeof(avow_ca_issue_opts),
                             .now = FZ_NOW,
                             .days = 30,
                             .eku = "clientAuth",
                             .jwt_out = &jwt};
    X509 *cert = NULL;
    avow_err rc = avow_ca_issue(s->ca_issuer, r, a, &io, &cert, NULL);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        /* a request without a subject is the one refusal of an affirming appraisal */
        FZ_CHECK(cert == NULL && rc == AVOW_ERR_ARG);
        return;
    }
    FZ_CHECK(cert != NULL && fz_text_ok(&jwt));
    FZ_CHECK(avow_cert_get_ear(cert, X509_get0_pubkey(s->ca), FZ_NOW, &payload, NULL) == AVOW_OK);
    avow_ear *ear = NULL;
    FZ_CHECK(avow_ear_from_json((const char *)payload.ptr, payload.len, &ear, NULL) == AVOW_OK);
    FZ_CHECK(ear->status == AVOW_TIER_AFFIRMING);
    avow_ear_free(ear);
    avow_buf_free(&payload);
    avow_buf_free(&jwt);
    X509_free(cert);
}

static void appraise(const avow_request *r, avow_nonce_store *store, const avow_policy *policy,
                     int may_issue)
{
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.nonces = store;
    o.policy = policy;
    o.now = FZ_NOW;
    o.ear_ttl = 300;
    o.build = "fuzz";
    avow_appraisal *a = NULL;
    avow_diag d;
    avow_err rc = avow_appraise_request(fz_get()->v_anchor, r, &o, &a, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(rc == AVOW_OK || rc == AVOW_ERR_NOT_AFFIRMING);
    const avow_ear *ear = avow_appraisal_get0_ear(a);
    const avow_verification *ver = avow_appraisal_get0_verification(a);
    const avow_policy_report *rep = avow_appraisal_get0_report(a);
    FZ_CHECK(a != NULL && avow_appraisal_status(a) == rc && ver != NULL && ear != NULL);
    FZ_CHECK((rc == AVOW_OK) == (avow_appraisal_tier(a) == AVOW_TIER_AFFIRMING));
    FZ_CHECK(ear->status == avow_appraisal_tier(a) && ear->nsubmods > 0);
    FZ_CHECK(rc != AVOW_OK ||
             (avow_verification_status(ver) == AVOW_OK && avow_appraisal_freshness(a) == AVOW_OK &&
              rep != NULL && rep->satisfied));
    size_t stmt = 0;
    int bound = avow_verification_bound(ver, &stmt, NULL);
    const avow_claimset *claims =
        bound ? avow_statement_result_get0_claims(avow_verification_get0(ver, stmt)) : NULL;
    for (size_t i = 0; claims != NULL && i < claims->count; i++)
        FZ_CHECK(strlen(claims->items[i].name) < 160 && strlen(claims->items[i].element) < 160);
    avow_buf json = {0};
    FZ_CHECK(avow_appraisal_to_json(a, 1, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&json);
    fz_check_ear(ear, 0);
    if (rc == AVOW_OK && may_issue)
        issue(r, a);
    avow_appraisal_free(a);
}

static void one(const uint8_t *data, size_t size, avow_request_kind kind, unsigned flags)
{
    avow_request *r = NULL;
    avow_diag d;
    avow_err rc = avow_request_decode(data, size, kind, flags, &r, &d);
    FZ_CHECK(ERR_peek_error() == 0); /* the decoder left the OpenSSL queue dirty */
    if (rc != AVOW_OK) {
        FZ_CHECK(r == NULL && d.code == rc); /* a failure must reset *out and record its code */
        return;
    }
    avow_view der = avow_request_der(r);
    FZ_CHECK(der.ptr != NULL && der.len != 0 && avow_request_get0_pubkey(r) != NULL &&
             avow_request_spki(r).len != 0);
    size_t n = avow_request_statement_count(r);
    FZ_CHECK(n != 0 || (flags & AVOW_REQUEST_ALLOW_NONE));
    for (size_t i = 0; i < n; i++) {
        const avow_statement *s = avow_request_get0_statement(r, i);
        FZ_CHECK(s != NULL && s->type.len != 0 && s->der.len != 0 && s->type_text[0] != '\0');
        FZ_CHECK(strlen(s->type_text) < sizeof(s->type_text));
    }
    FZ_CHECK(avow_request_get0_statement(r, n) == NULL);
    for (size_t i = 0; i < avow_request_other_cert_count(r); i++)
        FZ_CHECK(avow_request_get0_other_cert(r, i) != NULL);
    const char *detail = NULL;
    avow_err pop = avow_request_pop(r, &detail);
    FZ_CHECK((pop == AVOW_OK || pop == AVOW_ERR_POP) && detail != NULL);
    avow_buf subj = {0};
    FZ_CHECK(avow_request_subject_text(r, &subj) == AVOW_OK && fz_text_ok(&subj));
    avow_buf_free(&subj);
    /* the subjectAltName a CA would copy: read strictly, then judged name by name */
    GENERAL_NAMES *sans = NULL;
    avow_diag sd;
    avow_err sr = avow_request_get1_sans(r, &sans, &sd);
    FZ_CHECK(ERR_peek_error() == 0 && (sr == AVOW_OK || (sans == NULL && sd.code == sr)));
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++)
        (void)avow_san_check(sk_GENERAL_NAME_value(sans, i), NULL);
    GENERAL_NAMES_free(sans);
    FZ_CHECK(ERR_peek_error() == 0);

    avow_verification *res = NULL;
    avow_err vr = avow_request_verify(empty, r, NULL, &res, NULL);
    /* nothing is trusted by an empty verifier */
    FZ_CHECK(res != NULL && avow_verification_status(res) == vr &&
             avow_verification_count(res) == n && vr != AVOW_OK);
    avow_verification_free(res);
    /* the request shown through the registry's rows */
    avow_buf text = {0};
    FZ_CHECK(avow_request_to_text(r, NULL, NULL, &text, NULL) == AVOW_OK && fz_text_ok(&text));
    avow_buf_free(&text);
    FZ_CHECK(avow_request_to_json(r, NULL, NULL, &text, NULL) == AVOW_OK && fz_text_ok(&text));
    avow_buf_free(&text);

    if (n > 0 && kind == AVOW_REQUEST_AUTO) {
        appraise(r, sqlite_store, NULL, 0);
        appraise(r, seed_store, NULL, 1);
        appraise(r, seed_store, fz_get()->rich, 1);
    }
    avow_request_free(r);
    FZ_CHECK(ERR_peek_error() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, AVOW_REQUEST_AUTO, 0);
    one(data, size, AVOW_REQUEST_PKCS10, AVOW_REQUEST_ALLOW_NONE);
    one(data, size, AVOW_REQUEST_CRMF, AVOW_REQUEST_ALLOW_NONE);
    return 0;
}
