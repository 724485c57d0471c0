/*
 * From attested request to EAR: each way a request can fail shows up as its
 * own reason in the result, and only a clean request is affirming.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avow/appraise.h>
#include <avow/request.h>

#include <sqlite3.h>

typedef struct fx {
    tu_pki pki;
    EVP_PKEY *key;
    avow_verifier *v;
    char db[64];
    avow_nonce_store *nonces;
} fx;

typedef struct ev_spec {
    EVP_PKEY *attested;   /* key element spki */
    const uint8_t *nonce; /* NULL: no nonce claim */
    size_t nonce_len;
    int extractable;
    const char *hwmodel; /* NULL: no platform element */
} ev_spec;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    tu_pki_make(&f->pki, NULL, 0);
    f->key = tu_key_ec("P-256");
    OK(avow_verifier_new(NULL, &f->v));
    OK(avow_verifier_add_anchor(f->v, f->pki.ca, NULL));
    snprintf(f->db, sizeof(f->db), "/tmp/avow-appraise-%ld.db", (long)getpid());
    unlink(f->db);
    OK(avow_nonce_store_open_sqlite(f->db, &f->nonces, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_nonce_store_free(f->nonces);
    unlink(f->db);
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->key);
    tu_pki_free(&f->pki);
    free(f);
    return 0;
}

static avow_buf make_evidence(fx *f, const ev_spec *s)
{
    avow_evidence *ev = NULL;
    avow_diag d = {0};
    size_t tx, k, p;
    OK(avow_evidence_new(NULL, &ev));
    if (s->nonce != NULL) {
        OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL));
        OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, s->nonce, s->nonce_len, &d));
    }
    if (s->hwmodel != NULL) {
        OK(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL));
        OK(avow_evidence_add_bytes(ev, p, AVOW_CLAIM_HWMODEL, (const uint8_t *)s->hwmodel,
                                   strlen(s->hwmodel), &d));
    }
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL));
    OK(avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "device-key", &d));
    avow_buf spki = tu_spki(s->attested);
    OK(avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, &d));
    avow_buf_free(&spki);
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_EXTRACTABLE, s->extractable, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_SENSITIVE, 1, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, !s->extractable, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_LOCAL, 1, &d));
    avow_signer *sg = NULL;
    OK(avow_signer_new_pkey(f->pki.ak_key, AVOW_SIGALG_NONE, &sg, NULL));
    OK(avow_signer_set1_cert(sg, f->pki.ak, NULL));
    OK(avow_evidence_sign(ev, sg, AVOW_SID_CERT, &d));
    avow_buf der = {0};
    OK(avow_evidence_encode(ev, &der));
    avow_signer_free(sg);
    avow_evidence_free(ev);
    return der;
}

/* A statement of a type no verifier knows: SEQUENCE { OCTET STRING 00 } (private OID). */
#define UNKNOWN_OID "1.3.6.1.4.1.99999.77.1"
static const uint8_t TPM_DUMMY[] = {0x30, 0x03, 0x04, 0x01, 0x00};

static avow_request *make_request_ex(fx *f, const ev_spec *s, int break_pop, int with_tpm)
{
    avow_diag d = {0};
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=device", &d));
    avow_buf ev = make_evidence(f, s);
    OK(avow_request_builder_add_evidence(b, NULL, ev.ptr, ev.len, &d));
    avow_buf_free(&ev);
    if (with_tpm)
        OK(avow_request_builder_add_statement(b, UNKNOWN_OID, TPM_DUMMY, sizeof(TPM_DUMMY), &d));
    OK(avow_request_builder_add_cert(b, f->pki.inter, NULL));
    avow_signer *sg = NULL;
    OK(avow_signer_new_pkey(f->key, AVOW_SIGALG_NONE, &sg, NULL));
    avow_buf der = {0};
    OK(avow_request_builder_sign(b, sg, &der, &d));
    if (break_pop)
        der.ptr[der.len - 3] ^= 0x01; /* inside the signature value */
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, &d));
    avow_buf_free(&der);
    avow_signer_free(sg);
    avow_request_builder_free(b);
    return r;
}

static avow_request *make_request(fx *f, const ev_spec *s, int break_pop)
{
    return make_request_ex(f, s, break_pop, 0);
}

/* The first reason of the first submod, by its code. */
static int has_reason(const avow_appraisal *a, avow_err code)
{
    for (size_t i = 0; i < avow_appraisal_get0_ear(a)->nsubmods; i++)
        for (size_t j = 0; j < avow_appraisal_get0_ear(a)->submods[i].nreasons; j++)
            if (avow_appraisal_get0_ear(a)->submods[i].reasons[j].code == code)
                return 1;
    return 0;
}

static avow_appraisal *appraise(fx *f, avow_request *r, const avow_appraise_opts *o, avow_err want)
{
    avow_appraisal *a = NULL;
    avow_diag d = {0};
    avow_err rc = avow_appraise_request(f->v, r, o, &a, &d);
    assert_int_equal(rc, want);
    assert_non_null(a);
    TU_NO_OSSL_ERR();
    return a;
}

static void test_affirming(void **state)
{
    fx *f = *state;
    ev_spec s = {.attested = f->key};
    avow_request *r = make_request(f, &s, 0);
    avow_appraisal *a = appraise(f, r, NULL, AVOW_OK);
    assert_int_equal(avow_appraisal_tier(a), AVOW_TIER_AFFIRMING);
    assert_int_equal(avow_appraisal_get0_ear(a)->status, AVOW_TIER_AFFIRMING);
    assert_int_equal(avow_appraisal_get0_ear(a)->nsubmods, 1);
    assert_true(avow_appraisal_get0_ear(a)->submods[0].akpub.len > 0);
    assert_non_null(avow_appraisal_get0_report(a));
    assert_true(avow_appraisal_get0_report(a)->satisfied);
    avow_buf json = {0};
    OK(avow_ear_to_json(avow_appraisal_get0_ear(a), &json, NULL));
    assert_non_null(strstr((const char *)json.ptr, "\"ear_status\":\"affirming\""));
    avow_buf_free(&json);
    avow_appraisal_free(a);
    avow_request_free(r);
}

static void test_extractable_contraindicated(void **state)
{
    fx *f = *state;
    ev_spec s = {.attested = f->key, .extractable = 1};
    avow_request *r = make_request(f, &s, 0);
    avow_appraisal *a = appraise(f, r, NULL, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_tier(a), AVOW_TIER_CONTRAINDICATED);
    assert_true(has_reason(a, AVOW_ERR_POLICY));
    assert_false(avow_appraisal_get0_report(a)->satisfied);
    avow_appraisal_free(a);
    avow_request_free(r);
}

static void test_wrong_model(void **state)
{
    fx *f = *state;
    static const char doc[] =
        "{\"name\":\"models\",\"rules\":[{\"id\":\"model\",\"element\":\"platform\","
        "\"claim\":\"hwmodel\",\"in\":[\"HSM-9000\"],\"required\":true}]}";
    avow_policy *p = NULL;
    OK(avow_policy_parse(doc, sizeof(doc) - 1, &p, NULL));
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .policy = p};

    ev_spec good = {.attested = f->key, .hwmodel = "HSM-9000"};
    avow_request *r = make_request(f, &good, 0);
    avow_appraisal *a = appraise(f, r, &o, AVOW_OK);
    avow_appraisal_free(a);
    avow_request_free(r);

    ev_spec bad = {.attested = f->key, .hwmodel = "HSM-1"};
    r = make_request(f, &bad, 0);
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_POLICY));
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_policy_free(p);
}

static void test_key_binding(void **state)
{
    fx *f = *state;
    EVP_PKEY *other = tu_key_ec("P-256");
    ev_spec s = {.attested = other};
    avow_request *r = make_request(f, &s, 0);
    avow_appraisal *a = appraise(f, r, NULL, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_KEY_BINDING));
    assert_null(avow_appraisal_get0_report(a)); /* nothing bound, nothing appraised */
    avow_appraisal_free(a);
    avow_request_free(r);
    EVP_PKEY_free(other);
}

static void test_pop(void **state)
{
    fx *f = *state;
    ev_spec s = {.attested = f->key};
    avow_request *r = make_request(f, &s, 1);
    avow_appraisal *a = appraise(f, r, NULL, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_POP));
    avow_appraisal_free(a);
    avow_request_free(r);
}

static void test_untrusted_ak(void **state)
{
    fx *f = *state;
    ev_spec s = {.attested = f->key};
    avow_request *r = make_request(f, &s, 0);
    tu_pki other;
    tu_pki_make(&other, NULL, 0);
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    OK(avow_verifier_add_anchor(v, other.ca, NULL));
    avow_appraisal *a = NULL;
    assert_int_equal(avow_appraise_request(v, r, NULL, &a, NULL), AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_CHAIN));
    assert_int_equal(avow_appraisal_tier(a), AVOW_TIER_CONTRAINDICATED);
    avow_appraisal_free(a);
    avow_verifier_free(v);
    tu_pki_free(&other);
    avow_request_free(r);
}

static void test_nonce_once(void **state)
{
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->nonces, 32, 300, 0, &nonce, NULL));
    ev_spec s = {.attested = f->key, .nonce = nonce.ptr, .nonce_len = nonce.len};
    avow_request *r = make_request(f, &s, 0);
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .nonces = f->nonces};

    avow_appraisal *a = appraise(f, r, &o, AVOW_OK);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_OK);
    assert_non_null(avow_appraisal_get0_ear(a)->nonce);
    avow_appraisal_free(a);

    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING); /* the same request again */
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_REPLAY);
    assert_true(has_reason(a, AVOW_ERR_NONCE_REPLAY));
    avow_appraisal_free(a);
    avow_request_free(r);

    /* A nonce this store never issued. */
    static const uint8_t forged[16] = {9, 9, 9};
    ev_spec s2 = {.attested = f->key, .nonce = forged, .nonce_len = sizeof(forged)};
    r = make_request(f, &s2, 0);
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_UNKNOWN);
    avow_appraisal_free(a);
    avow_request_free(r);

    /* Evidence without a nonce when a store is in use. */
    ev_spec s3 = {.attested = f->key};
    r = make_request(f, &s3, 0);
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_MISSING);
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static void test_forged_request_keeps_nonce(void **state)
{
    /* A request whose evidence does not verify must not burn the nonce it names. */
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->nonces, 32, 300, 0, &nonce, NULL));
    ev_spec s = {.attested = f->key, .nonce = nonce.ptr, .nonce_len = nonce.len};
    avow_request *r = make_request(f, &s, 0);
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v)); /* no anchors: nothing verifies */
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .nonces = f->nonces};
    avow_appraisal *a = NULL;
    assert_int_equal(avow_appraise_request(v, r, &o, &a, NULL), AVOW_ERR_NOT_AFFIRMING);
    avow_appraisal_free(a);
    avow_verifier_free(v);
    a = appraise(f, r, &o, AVOW_OK); /* the honest verifier still accepts it once */
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

/* The honest request and a copy with one byte of its signature flipped. */
static void make_request_and_forgery(fx *f, const ev_spec *s, avow_request **honest,
                                     avow_request **forged)
{
    avow_diag d = {0};
    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=device", &d));
    avow_buf ev = make_evidence(f, s);
    OK(avow_request_builder_add_evidence(b, NULL, ev.ptr, ev.len, &d));
    avow_buf_free(&ev);
    OK(avow_request_builder_add_cert(b, f->pki.inter, NULL));
    avow_signer *sg = NULL;
    OK(avow_signer_new_pkey(f->key, AVOW_SIGALG_NONE, &sg, NULL));
    avow_buf der = {0};
    OK(avow_request_builder_sign(b, sg, &der, &d));
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, honest, &d));
    der.ptr[der.len - 3] ^= 0x01; /* inside the signature value */
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, forged, &d));
    avow_buf_free(&der);
    avow_signer_free(sg);
    avow_request_builder_free(b);
}

static void test_broken_pop_keeps_nonce(void **state)
{
    /* A copy of an honest request whose signature is broken must not burn its nonce. */
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->nonces, 32, 300, 0, &nonce, NULL));
    ev_spec s = {.attested = f->key, .nonce = nonce.ptr, .nonce_len = nonce.len};
    avow_request *honest = NULL, *forged = NULL;
    make_request_and_forgery(f, &s, &honest, &forged);
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .nonces = f->nonces};
    avow_appraisal *a = appraise(f, forged, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_POP));
    assert_int_equal(avow_appraisal_freshness(a), AVOW_OK); /* not put to the store at all */
    assert_null(avow_appraisal_nonce(a).ptr);
    avow_appraisal_free(a);
    OK(avow_nonce_check(f->nonces, nonce.ptr, nonce.len, 0, NULL));
    a = appraise(f, honest, &o, AVOW_OK);
    avow_appraisal_free(a);
    a = appraise(f, honest, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_REPLAY);
    avow_appraisal_free(a);
    avow_request_free(honest);
    avow_request_free(forged);
    avow_buf_free(&nonce);
}

static void test_time_zero_is_1970(void **state)
{
    /* 0 used to mean "now"; set, it is 1970, when no certificate here was valid. */
    fx *f = *state;
    ev_spec s = {.attested = f->key};
    avow_request *r = make_request(f, &s, 0);
    avow_verifier_set_time(f->v, 0);
    avow_appraisal *a = appraise(f, r, NULL, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_CHAIN));
    avow_appraisal_free(a);
    avow_verifier_clear_time(f->v);
    a = appraise(f, r, NULL, AVOW_OK);
    avow_appraisal_free(a);
    avow_request_free(r);
}

static void test_check_nonce_only(void **state)
{
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->nonces, 32, 300, 0, &nonce, NULL));
    ev_spec s = {.attested = f->key, .nonce = nonce.ptr, .nonce_len = nonce.len};
    avow_request *r = make_request(f, &s, 0);
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts),
                            .nonces = f->nonces,
                            .flags = AVOW_APPRAISE_CHECK_NONCE_ONLY};
    avow_appraisal *a = appraise(f, r, &o, AVOW_OK);
    assert_int_equal(avow_appraisal_nonce(a).len, nonce.len);
    assert_memory_equal(avow_appraisal_nonce(a).ptr, nonce.ptr, nonce.len);
    avow_appraisal_free(a);
    a = appraise(f, r, &o, AVOW_OK); /* checked, not used up */
    avow_appraisal_free(a);
    OK(avow_nonce_consume(f->nonces, nonce.ptr, nonce.len, 0, NULL));
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_REPLAY);
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static void test_store_failure_no_result(void **state)
{
    /* A store that cannot answer says nothing about the device: no EAR, the reason kept. */
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->nonces, 32, 300, 0, &nonce, NULL));
    ev_spec s = {.attested = f->key, .nonce = nonce.ptr, .nonce_len = nonce.len};
    avow_request *r = make_request(f, &s, 0);
    /* Someone drops the table under the open store. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE nonces", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    avow_diag d = {0};
    /* The store fails at the query. */
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .nonces = f->nonces};
    avow_appraisal *a = NULL;
    avow_diag_clear(&d);
    avow_err rc = avow_appraise_request(f->v, r, &o, &a, &d);
    assert_true(rc == AVOW_ERR_STORE || rc == AVOW_ERR_STORE_BUSY);
    assert_null(a);
    assert_string_equal(d.field, "nonce-store");
    assert_true(d.backend != 0); /* the SQLite code is kept */
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static avow_policy *policy(const char *statements)
{
    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\"name\":\"p\",\"statements\":%s,\"rules\":[{\"id\":\"s\",\"element\":\"key\","
             "\"claim\":\"sensitive\",\"equals\":true}]}",
             statements);
    avow_policy *p = NULL;
    avow_diag d = {0};
    avow_err rc = avow_policy_parse(doc, strlen(doc), &p, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s", d.field, d.detail);
    return p;
}

static void test_unknown_statement_types(void **state)
{
    fx *f = *state;
    ev_spec s = {.attested = f->key};
    avow_request *r = make_request_ex(f, &s, 0, 1);

    /* By default an unknown type is reported, not fatal. */
    avow_appraisal *a = appraise(f, r, NULL, AVOW_OK);
    assert_int_equal(avow_verification_unknown(avow_appraisal_get0_verification(a)), 1);
    assert_int_equal(avow_appraisal_get0_ear(a)->nsubmods, 1);
    avow_appraisal_free(a);

    /* A policy that rejects unknown types makes it contraindicated. */
    avow_policy *p = policy("{\"unknown\":\"reject\"}");
    avow_appraise_opts o = {.size = sizeof(avow_appraise_opts), .policy = p};
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_get0_ear(a)->nsubmods, 2);
    assert_true(has_reason(a, AVOW_ERR_STATEMENT_TYPE));
    avow_appraisal_free(a);
    avow_policy_free(p);

    /* A policy that requires a verified statement of that type: present but unverifiable. */
    p = policy("{\"required\":[\"pkix-evidence\",\"" UNKNOWN_OID "\"]}");
    o.policy = p;
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_STATEMENT_TYPE));
    assert_int_equal(avow_appraisal_get0_ear(a)->nsubmods,
                     2); /* pkix-evidence + required:UNKNOWN_OID */
    avow_appraisal_free(a);
    avow_policy_free(p);

    /* Requiring only what is there and verified stays affirming. */
    p = policy("{\"unknown\":\"ignore\",\"required\":[\"pkix-evidence\"]}");
    o.policy = p;
    a = appraise(f, r, &o, AVOW_OK);
    avow_appraisal_free(a);
    avow_policy_free(p);

    /* "linked": the Evidence's signer must be bound by a platform token, and none is there. */
    p = policy("{\"linked\":[\"pkix-evidence\"]}");
    assert_int_equal(avow_policy_linked_type_count(p), 1);
    assert_string_equal(avow_policy_linked_types(p)[0], "pkix-evidence");
    o.policy = p;
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_KAT_UNLINKED));
    assert_int_equal(avow_statement_result_status(
                         avow_verification_get0(avow_appraisal_get0_verification(a), 0)),
                     AVOW_ERR_KAT_UNLINKED);
    avow_appraisal_free(a);
    avow_policy_free(p);
    /* By dotted type OID alike; a type the request does not carry asks nothing. */
    p = policy("{\"linked\":[\"1.3.6.1.5.5.999\"]}");
    o.policy = p;
    a = appraise(f, r, &o, AVOW_ERR_NOT_AFFIRMING);
    assert_true(has_reason(a, AVOW_ERR_KAT_UNLINKED));
    avow_appraisal_free(a);
    avow_policy_free(p);
    p = policy("{\"linked\":[\"kat\"]}");
    o.policy = p;
    a = appraise(f, r, &o, AVOW_OK);
    avow_appraisal_free(a);
    avow_policy_free(p);
    assert_int_equal(avow_policy_linked_type_count(NULL), 0);
    assert_null(avow_policy_linked_types(NULL));
    avow_request_free(r);

    /* Bad "statements" sections are refused with their path. */
    static const char *const bad[] = {
        "{\"name\":\"p\",\"statements\":{\"unknown\":\"maybe\"},\"rules\":[{\"id\":\"s\",\"claim\":"
        "\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"required\":[]},\"rules\":[{\"id\":\"s\",\"claim\":"
        "\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"other\":1},\"rules\":[{\"id\":\"s\",\"claim\":"
        "\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"linked\":[]},\"rules\":[{\"id\":\"s\",\"claim\":"
        "\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"linked\":\"kat\"},\"rules\":[{\"id\":\"s\","
        "\"claim\":\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"linked\":[\"kat\",\"kat\"]},\"rules\":[{\"id\":"
        "\"s\",\"claim\":\"sensitive\",\"equals\":true}]}",
        "{\"name\":\"p\",\"statements\":{\"linked\":[3]},\"rules\":[{\"id\":\"s\",\"claim\":"
        "\"sensitive\",\"equals\":true}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_policy *q = NULL;
        avow_diag d = {0};
        assert_int_equal(avow_policy_parse(bad[i], strlen(bad[i]), &q, &d), AVOW_ERR_BAD_POLICY);
        assert_null(q);
        assert_non_null(strstr(d.field, "statements"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_affirming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extractable_contraindicated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_ak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonce_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_request_keeps_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_pop_keeps_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_nonce_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_zero_is_1970, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failure_no_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_statement_types, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
