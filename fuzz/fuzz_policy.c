/*
 * libFuzzer target for the appraisal-policy parser and the path a policy
 * takes: parse; whatever parses is evaluated against fixed claim sets (an
 * empty one, and the results of verifying fixed Evidence under the fuzz CA
 * of setup.h: every claim of the -07 table signed by the AK, the same
 * claims untrusted, and signed Evidence with unknown element and claim
 * OIDs, arcs of 2^64 and long names), each report written as JSON and
 * turned into an EAR that must read back; and the appraisal of fixed
 * requests (one statement, and one with a second statement of an unknown
 * type) under the policy must make a result. The OpenSSL error queue stays
 * empty throughout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NSETS 4
#define NREQS 2
static avow_evidence *evs[NSETS];
static avow_evidence_result *results[NSETS];
static avow_request *reqs[NREQS];

/* A seed of the generated corpus (fuzz/corpus/<dir>/fz-*) into buf; returns its length. */
static size_t load(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/../corpus/%s/%s", AVOW_FUZZ_KEYS, dir, name);
    FILE *f = fopen(path, "rb");
    FZ_CHECK(f != NULL);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const fz_setup *s = fz_get();
    static const char *const names[NSETS] = {"fz-all-claims-cert.der", "fz-all-claims-keyid.der",
                                             "fz-unknown-oids.der", "fz-huge-arcs.der"};
    static const char *const req_names[NREQS] = {"fz-csr-affirming.der",
                                                 "fz-crmf-affirming-two-statements.der"};
    static uint8_t buf[65536];
    for (int i = 0; i < NREQS; i++) {
        size_t n = load("request", req_names[i], buf, sizeof(buf));
        FZ_CHECK(avow_request_decode(buf, n, AVOW_REQUEST_AUTO, 0, &reqs[i], NULL) == AVOW_OK);
    }
    for (int i = 0; i < NSETS; i++) {
        size_t n = load("evidence", names[i], buf, sizeof(buf));
        FZ_CHECK(avow_evidence_decode(buf, n, NULL, 0, &evs[i], NULL) == AVOW_OK);
        avow_verify_opts vo = {.size = sizeof(avow_verify_opts),
                               .nonce = FZ_NONCE,
                               .nonce_len = sizeof(FZ_NONCE),
                               .flags = AVOW_VERIFY_ANY_SIGNATURE};
        /* the keyId Evidence under the anchor alone: claims present, none trusted */
        avow_err rc =
            avow_verify_evidence(s->v_anchor, evs[i], i == 3 ? NULL : &vo, &results[i], NULL);
        FZ_CHECK((rc == AVOW_OK) == (i != 1));
    }
    ERR_clear_error();
    return 0;
}

static void eval(const avow_policy *p, const avow_claimset *set, avow_err verify, int nonce)
{
    const avow_nclaim *spki = avow_claimset_find(set, "key", "spki", NULL);
    for (int k = 0; k < 2; k++) {
        avow_policy_input in = {
            .size = sizeof(avow_policy_input),
            .key_element = AVOW_POLICY_NO_ELEMENT,
            .key_spki = k == 1 && spki != NULL ? spki->value.bytes.ptr : NULL,
            .key_spki_len = k == 1 && spki != NULL ? spki->value.bytes.len : 0,
            .nonce_expected = nonce,
        };
        avow_policy_report *r = NULL;
        avow_err e = avow_policy_eval(p, set, k == 0 && !nonce ? NULL : &in, &r, NULL);
        FZ_CHECK((e == AVOW_OK || e == AVOW_ERR_POLICY) && r != NULL);
        FZ_CHECK(r->satisfied == (e == AVOW_OK) && r->nrules == avow_policy_rule_count(p));
        FZ_CHECK(r->npass + r->nfail + r->nunknown + r->nskipped == r->nrules);
        FZ_CHECK(strcmp(r->policy, avow_policy_name(p)) == 0);
        avow_buf json = {0};
        FZ_CHECK(avow_policy_report_to_json(r, &json) == AVOW_OK && fz_text_ok(&json));
        avow_buf_free(&json);
        avow_ear_statement st = {.size = sizeof(avow_ear_statement),
                                 .name = "pkix-evidence",
                                 .verify_status = verify,
                                 .report = r};
        avow_ear_opts eo = {.size = sizeof(avow_ear_opts), .iat = FZ_NOW, .build = "fuzz"};
        avow_ear *ear = NULL;
        FZ_CHECK(avow_ear_build(&st, 1, &eo, &ear, NULL) == AVOW_OK);
        FZ_CHECK(ear->submods[0].npolicy_ids == 1 &&
                 strcmp(ear->submods[0].policy_ids[0], avow_policy_name(p)) == 0);
        fz_check_ear(ear, 0);
        avow_ear_free(ear);
        avow_policy_report_free(r);
    }
}

/* The policy's whole path: the appraisal `avow csr verify` makes with it. */
static void appraise(const avow_policy *p, const avow_request *r)
{
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts),
                            .nonce = FZ_NONCE,
                            .nonce_len = sizeof(FZ_NONCE),
                            .policy = p,
                            .now = FZ_NOW,
                            .build = "fuzz"};
    avow_appraisal *a = NULL;
    avow_diag d;
    avow_err rc = avow_appraise_request(fz_get()->v_anchor, r, &o, &a, &d);
    if (rc != AVOW_OK && rc != AVOW_ERR_NOT_AFFIRMING) {
        fprintf(stderr, "appraisal made no result: %s: %s\n", d.field, d.detail);
        abort();
    }
    const avow_ear *ear = avow_appraisal_get0_ear(a);
    /* The policy judges the bound statement: a "linked" type it makes fail (no platform token
     * in the fixed requests) leaves nothing bound and no report, as any failing statement does. */
    FZ_CHECK(a != NULL && ear != NULL &&
             (avow_appraisal_get0_report(a) != NULL ||
              !avow_verification_bound(avow_appraisal_get0_verification(a), NULL, NULL)));
    FZ_CHECK(ear->nsubmods >= 1 &&
             (rc == AVOW_OK) == (avow_appraisal_tier(a) == AVOW_TIER_AFFIRMING));
    fz_check_ear(ear, 0);
    avow_appraisal_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_policy *p = NULL;
    avow_diag d;
    avow_err rc = avow_policy_parse((const char *)data, size, &p, &d);
    if (rc != AVOW_OK) {
        FZ_CHECK(p == NULL && d.code == rc);
    } else {
        size_t nreq = avow_policy_required_type_count(p);
        FZ_CHECK(nreq <= AVOW_POLICY_MAX_REQUIRED_TYPES);
        for (size_t i = 0; i < nreq; i++)
            FZ_CHECK(avow_policy_required_type(p, i) != NULL);
        FZ_CHECK(avow_policy_required_type(p, nreq) == NULL);
        (void)avow_policy_rejects_unknown(p);
        avow_claimset none = {0, NULL};
        eval(p, &none, AVOW_OK, 0);
        for (int i = 0; i < NSETS; i++)
            eval(p, &results[i]->claims, results[i]->status, i != 3);
        for (int i = 0; i < NREQS; i++)
            appraise(p, reqs[i]);
        avow_policy_free(p);
    }
    FZ_CHECK(ERR_peek_error() == 0);
    return 0;
}
