/*
 * The CA: certificates issued from an affirming appraisal carry the EAR in
 * the CMW extension and chain to the CA; non-affirming appraisals are
 * refused; the CA key may sit behind any signer back end; the relying
 * party's reader is strict about the extension's encoding.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <avow/ca.h>
#include <avow/x509.h>

typedef struct fx {
    tu_pki pki;       /* attestation PKI: root -> intermediate -> AK */
    EVP_PKEY *key;    /* the request key */
    EVP_PKEY *ca_key; /* the CA key */
    avow_verifier *v;
    avow_nonce_store *store;
    char db[64];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    tu_pki_make(&f->pki, NULL, 0);
    f->key = tu_key_ec("P-256");
    f->ca_key = tu_key_ec("P-256");
    OK(avow_verifier_new(NULL, &f->v));
    OK(avow_verifier_add_anchor(f->v, f->pki.ca, NULL));
    snprintf(f->db, sizeof(f->db), "test_ca_%ld.db", (long)getpid());
    remove(f->db);
    avow_diag d;
    avow_diag_clear(&d);
    OK(avow_nonce_store_open_sqlite(f->db, &f->store, &d));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_nonce_store_free(f->store);
    remove(f->db);
    char side[80];
    snprintf(side, sizeof(side), "%s-wal", f->db);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", f->db);
    remove(side);
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->key);
    EVP_PKEY_free(f->ca_key);
    tu_pki_free(&f->pki);
    free(f);
    return 0;
}

/* A PKCS#10 request for f->key with Evidence (nonce, key element with spki, extractable),
 * asking for the subjectAltNames san (NULL = none). */
static avow_request *make_request_san(fx *f, const avow_buf *nonce, int extractable,
                                      const char *san)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_evidence *ev = NULL;
    OK(avow_evidence_new(NULL, &ev));
    size_t tx, k;
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &tx, NULL));
    OK(avow_evidence_add_bytes(ev, tx, AVOW_CLAIM_NONCE, nonce->ptr, nonce->len, &d));
    OK(avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL));
    OK(avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "device-key", &d));
    avow_buf spki = tu_spki(f->key);
    OK(avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, spki.ptr, spki.len, &d));
    avow_buf_free(&spki);
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_EXTRACTABLE, extractable, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_SENSITIVE, 1, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, !extractable, &d));
    OK(avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_LOCAL, 1, &d));
    avow_signer *ak = NULL;
    OK(avow_signer_new_pkey(f->pki.ak_key, AVOW_SIGALG_NONE, &ak, NULL));
    OK(avow_signer_set1_cert(ak, f->pki.ak, NULL));
    OK(avow_evidence_sign(ev, ak, AVOW_SID_CERT, &d));
    avow_buf evder = {0};
    OK(avow_evidence_encode(ev, &evder));
    avow_signer_free(ak);
    avow_evidence_free(ev);

    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=device 1,O=avow test", &d));
    if (san != NULL)
        OK(avow_request_builder_add_san(b, san, &d));
    OK(avow_request_builder_add_evidence(b, NULL, evder.ptr, evder.len, &d));
    OK(avow_request_builder_add_cert(b, f->pki.inter, NULL));
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->key, AVOW_SIGALG_NONE, &s, NULL));
    avow_buf der = {0};
    OK(avow_request_builder_sign(b, s, &der, &d));
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, &d));
    avow_buf_free(&der);
    avow_buf_free(&evder);
    avow_signer_free(s);
    avow_request_builder_free(b);
    TU_NO_OSSL_ERR();
    return r;
}

static avow_request *make_request(fx *f, const avow_buf *nonce, int extractable)
{
    return make_request_san(f, nonce, extractable, NULL);
}

static avow_appraisal *appraise(fx *f, const avow_request *r, avow_err want)
{
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.nonces = f->store;
    avow_appraisal *a = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_appraise_request(f->v, r, &o, &a, &d);
    if (e != want)
        print_error("appraise: %s %s %s\n", avow_errname(e), d.field, d.detail);
    assert_int_equal(e, want);
    assert_non_null(a);
    TU_NO_OSSL_ERR();
    return a;
}

/* A CA over signer (taken) with a fresh self-signed certificate. */
static avow_ca *make_ca(avow_signer *signer, X509 **root)
{
    avow_diag d;
    avow_diag_clear(&d);
    OK(avow_ca_make_root(signer, "CN=avow test CA,O=avow test", 30, 0, root, &d));
    assert_int_equal(X509_check_ca(*root), 1);
    avow_ca *ca = NULL;
    OK(avow_ca_new(signer, *root, &ca, &d));
    TU_NO_OSSL_ERR();
    return ca;
}

static void check_chain(X509 *root, X509 *cert)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_add_cert(st, root), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, st, cert, NULL), 1);
    int ok = X509_verify_cert(ctx);
    if (ok != 1)
        print_error("verify: %s\n", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    assert_int_equal(ok, 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
}

static int has_bytes(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(p + i, needle, n) == 0)
            return 1;
    }
    return 0;
}

/* Issues from an affirming appraisal with the given CA signer and checks everything. */
static void issue_and_check(fx *f, avow_signer *ca_signer)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, &d));
    avow_request *r = make_request(f, &nonce, 0);
    avow_appraisal *a = appraise(f, r, AVOW_OK);
    X509 *root = NULL, *cert = NULL;
    avow_ca *ca = make_ca(ca_signer, &root);
    avow_buf jwt = {0};
    avow_ca_issue_opts io = {
        .size = sizeof(avow_ca_issue_opts), .days = 10, .eku = "clientAuth", .jwt_out = &jwt};
    avow_err e = avow_ca_issue(ca, r, a, &io, &cert, &d);
    if (e != AVOW_OK)
        print_error("issue: %s %s %s\n", avow_errname(e), d.field, d.detail);
    OK(e);
    TU_NO_OSSL_ERR();
    assert_true(jwt.len > 0);
    check_chain(root, cert);
    assert_int_equal(X509_check_ca(cert), 0);
    /* the request's key and subject */
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), f->key), 1);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cert), avow_request_get0_subject(r)), 0);
    /* a positive 16-byte serial */
    const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
    assert_int_equal(ASN1_STRING_length(sn), 16);
    assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    /* the CMW extension: OID, non-critical, json choice with the EAR media type */
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.35", 1);
    int at = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    assert_true(at >= 0);
    X509_EXTENSION *ext = X509_get_ext(cert, at);
    assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
    const ASN1_OCTET_STRING *val = X509_EXTENSION_get_data(ext);
    assert_int_equal(ASN1_STRING_get0_data(val)[0], 0x0c); /* UTF8String */
    const char *media =
        "[\"application/eat+jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\",";
    assert_true(has_bytes(ASN1_STRING_get0_data(val), (size_t)ASN1_STRING_length(val), media));
    /* the unverified JWT is the one the CA signed */
    avow_buf jwt2 = {0};
    OK(avow_cert_get_ear_jwt(cert, &jwt2, &d));
    assert_int_equal(jwt2.len, jwt.len);
    assert_memory_equal(jwt2.ptr, jwt.ptr, jwt.len);
    /* the relying party: verified with the CA key, affirming, naming the certificate's key */
    avow_buf payload = {0};
    e = avow_cert_get_ear(cert, X509_get0_pubkey(root), 0, &payload, &d);
    if (e != AVOW_OK)
        print_error("get_ear: %s %s %s\n", avow_errname(e), d.field, d.detail);
    OK(e);
    TU_NO_OSSL_ERR();
    avow_ear *ear = NULL;
    OK(avow_ear_from_json((const char *)payload.ptr, payload.len, &ear, &d));
    assert_int_equal(ear->status, AVOW_TIER_AFFIRMING);
    avow_buf spki = tu_spki(f->key);
    int found = 0;
    for (size_t i = 0; i < ear->nsubmods; i++)
        found |= ear->submods[i].akpub.len == spki.len &&
                 memcmp(ear->submods[i].akpub.ptr, spki.ptr, spki.len) == 0;
    assert_true(found);
    /* another issuer's key does not verify the EAR */
    e = avow_cert_get_ear(cert, f->pki.ca_key, 0, NULL, &d);
    assert_true(e == AVOW_ERR_SIG_INVALID || e == AVOW_ERR_ALG_MISMATCH);
    TU_NO_OSSL_ERR();
    avow_buf_free(&spki);
    avow_ear_free(ear);
    avow_buf_free(&payload);
    avow_buf_free(&jwt2);
    avow_buf_free(&jwt);
    X509_free(cert);
    X509_free(root);
    avow_ca_free(ca);
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static void test_issue_software(void **state)
{
    fx *f = *state;
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->ca_key, AVOW_SIGALG_NONE, &s, NULL));
    issue_and_check(f, s);
}

static void test_issue_ed25519_ca(void **state)
{
    fx *f = *state;
    EVP_PKEY *k = tu_key_ed25519();
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL));
    EVP_PKEY_free(k);
    issue_and_check(f, s);
}

/* A signer back end that is not the software one: a token would look like this. */
typedef struct fake_impl {
    avow_signer *inner;
    int calls;
} fake_impl;

static avow_err fake_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                          avow_buf *sig, avow_diag *diag)
{
    fake_impl *fi = impl;
    fi->calls++;
    assert_int_equal(alg, avow_signer_alg(fi->inner));
    return avow_signer_sign(fi->inner, data, len, sig, diag);
}

static void fake_free(void *impl)
{
    fake_impl *fi = impl;
    assert_true(fi->calls >= 3); /* root, EAR JWT, certificate */
    avow_signer_free(fi->inner);
    free(fi);
}

static const avow_signer_ops FAKE_OPS = {sizeof(avow_signer_ops), "fake-token", fake_sign,
                                         fake_free};

static void test_issue_fake_token(void **state)
{
    fx *f = *state;
    fake_impl *fi = calloc(1, sizeof(*fi));
    EVP_PKEY *k = tu_key_ec("P-384");
    OK(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &fi->inner, NULL));
    /* the public half only: the fake never hands its private key to avow */
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    avow_signer *s = NULL;
    OK(avow_signer_new(&FAKE_OPS, fi, pub, AVOW_SIGALG_ECDSA_SHA384, &s));
    EVP_PKEY_free(pub);
    issue_and_check(f, s);
}

static void test_refuse_not_affirming(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_diag_clear(&d);
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->ca_key, AVOW_SIGALG_NONE, &s, NULL));
    X509 *root = NULL, *cert = NULL;
    avow_ca *ca = make_ca(s, &root);
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, &d));
    /* an extractable key: contraindicated by the default policy */
    avow_request *bad = make_request(f, &nonce, 1);
    avow_appraisal *a = appraise(f, bad, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_ca_issue(ca, bad, a, NULL, &cert, &d), AVOW_ERR_NOT_AFFIRMING);
    assert_null(cert);
    avow_appraisal_free(a);
    avow_request_free(bad);
    /* a fresh request reusing the consumed nonce: replay */
    avow_request *again = make_request(f, &nonce, 0);
    a = appraise(f, again, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_REPLAY);
    assert_int_equal(avow_ca_issue(ca, again, a, NULL, &cert, &d), AVOW_ERR_NOT_AFFIRMING);
    assert_null(cert);
    avow_appraisal_free(a);
    /* an affirming appraisal of another request does not certify this one's key */
    avow_buf n2 = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &n2, &d));
    avow_request *good = make_request(f, &n2, 0);
    a = appraise(f, good, AVOW_OK);
    EVP_PKEY *other = f->key;
    f->key = tu_key_ec("P-256");
    avow_request *foreign = make_request(f, &n2, 0);
    assert_int_equal(avow_ca_issue(ca, foreign, a, NULL, &cert, &d), AVOW_ERR_KEY_BINDING);
    assert_null(cert);
    EVP_PKEY_free(f->key);
    f->key = other;
    TU_NO_OSSL_ERR();
    avow_request_free(foreign);
    avow_appraisal_free(a);
    avow_request_free(good);
    avow_request_free(again);
    avow_buf_free(&n2);
    avow_buf_free(&nonce);
    X509_free(root);
    avow_ca_free(ca);
}

/* A CA whose certificate runs from start - leeway for days. */
static avow_ca *make_ca_at(fx *f, time_t start, unsigned days, X509 **root)
{
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(f->ca_key, AVOW_SIGALG_NONE, &s, NULL));
    avow_diag d;
    avow_diag_clear(&d);
    OK(avow_ca_make_root(s, "CN=avow test CA", days, start, root, &d));
    avow_ca *ca = NULL;
    OK(avow_ca_new(s, *root, &ca, &d));
    return ca;
}

static void test_ca_validity(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_diag_clear(&d);
    time_t now = time(NULL);
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, &d));
    avow_request *r = make_request(f, &nonce, 0);
    avow_appraisal *a = appraise(f, r, AVOW_OK);
    X509 *root = NULL, *cert = NULL;

    /* Expired: valid 40 days ago for 30 days. */
    avow_ca *ca = make_ca_at(f, now - 40 * 86400, 30, &root);
    avow_ca_issue_opts io = {.size = sizeof(avow_ca_issue_opts), .days = 1};
    assert_int_equal(avow_ca_issue(ca, r, a, &io, &cert, &d), AVOW_ERR_CA_EXPIRED);
    assert_string_equal(d.field, "ca.notAfter");
    assert_null(cert);
    avow_ca_free(ca);
    X509_free(root);

    /* Not valid yet. */
    ca = make_ca_at(f, now + 10 * 86400, 30, &root);
    assert_int_equal(avow_ca_issue(ca, r, a, &io, &cert, &d), AVOW_ERR_CA_EXPIRED);
    assert_string_equal(d.field, "ca.notBefore");
    assert_null(cert);
    avow_ca_free(ca);
    X509_free(root);

    /* Valid for 30 more days: 365 days would outlive it... */
    ca = make_ca_at(f, now, 30, &root);
    io.days = 365;
    assert_int_equal(avow_ca_issue(ca, r, a, &io, &cert, &d), AVOW_ERR_CA_VALIDITY);
    assert_null(cert);
    /* ...unless capped, then it ends with the CA. */
    io.flags = AVOW_CA_ISSUE_CAP_VALIDITY;
    OK(avow_ca_issue(ca, r, a, &io, &cert, &d));
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(root)), 0);
    X509_free(cert);
    cert = NULL;
    /* A validity inside the CA's is kept as asked. */
    io.days = 29;
    OK(avow_ca_issue(ca, r, a, &io, &cert, &d));
    assert_true(ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(root)) < 0);
    X509_free(cert);
    avow_ca_free(ca);
    X509_free(root);
    TU_NO_OSSL_ERR();
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static void test_subject_control_chars(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, &d));
    avow_request *r = make_request(f, &nonce, 0);
    avow_appraisal *a = appraise(f, r, AVOW_OK);
    X509 *root = NULL, *cert = NULL;
    avow_ca *ca = make_ca_at(f, time(NULL), 30, &root);
    static const struct {
        const char *subject, *field;
    } bad[] = {
        {"CN=evil\nname", "subject.CN"},
        {"O=x,CN=esc\x1b[31mred", "subject.CN"},
        {"O=tab\there", "subject.O"},
        {"CN=del\x7f", "subject.CN"},
        {"CN=c1\xc2\x9b"
         "csi",
         "subject.CN"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_ca_issue_opts io = {
            .size = sizeof(avow_ca_issue_opts), .days = 1, .subject = bad[i].subject};
        avow_diag_clear(&d);
        avow_err e = avow_ca_issue(ca, r, a, &io, &cert, &d);
        if (e != AVOW_ERR_BAD_SUBJECT)
            fail_msg("%zu: %s (%s)", i, avow_errname(e), d.detail);
        assert_string_equal(d.field, bad[i].field);
        assert_null(cert);
    }
    /* Non-ASCII text is fine. */
    avow_ca_issue_opts io = {.size = sizeof(avow_ca_issue_opts),
                             .days = 1,
                             .subject = "CN=Gr\xc3\xbc\xc3\x9f"
                                        "e"};
    OK(avow_ca_issue(ca, r, a, &io, &cert, &d));
    X509_free(cert);
    avow_ca_free(ca);
    X509_free(root);
    TU_NO_OSSL_ERR();
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

/* avow_ca_issue with opts, expecting want (and field when it fails); the certificate's SAN text. */
static void issue_san(avow_ca *ca, const avow_request *r, const avow_appraisal *a,
                      const avow_ca_issue_opts *io, avow_err want, const char *expect)
{
    X509 *cert = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_ca_issue(ca, r, a, io, &cert, &d);
    if (e != want)
        fail_msg("%s (%s: %s), want %s", avow_errname(e), d.field, d.detail, avow_errname(want));
    TU_NO_OSSL_ERR();
    if (want != AVOW_OK) {
        assert_null(cert);
        assert_true(strstr(d.field, expect) != NULL || strstr(d.detail, expect) != NULL);
        return;
    }
    int crit = -1;
    GENERAL_NAMES *g = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (expect == NULL) {
        assert_null(g);
    } else {
        assert_non_null(g);
        assert_int_equal(crit, 0);
        avow_buf t = {0};
        OK(avow_san_text(g, &t));
        if (strcmp((const char *)t.ptr, expect) != 0)
            fail_msg("SAN %s, want %s", (const char *)t.ptr, expect);
        avow_buf_free(&t);
    }
    GENERAL_NAMES_free(g);
    X509_free(cert);
}

static void test_san_rules(void **state)
{
    fx *f = *state;
    avow_buf nonce = {0};
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, NULL));
    avow_request *r = make_request_san(f, &nonce, 0, "DNS:a.example,IP:192.0.2.1,DNS:*.w.example");
    avow_appraisal *a = appraise(f, r, AVOW_OK);
    X509 *root = NULL;
    avow_ca *ca = make_ca_at(f, time(NULL), 30, &root);
    avow_ca_issue_opts io;
    avow_ca_issue_opts_init(&io);
    io.days = 1;
    /* told nothing: refused, not silently dropped */
    issue_san(ca, r, a, &io, AVOW_ERR_SAN_UNHANDLED, "request.subjectAltName");
    /* copy: DNS only by default, so the IP is refused by its place */
    io.flags = AVOW_CA_ISSUE_COPY_SAN;
    issue_san(ca, r, a, &io, AVOW_ERR_SAN_REFUSED, "request.subjectAltName[1]");
    /* a wildcard needs its own permission */
    io.san_allow = AVOW_SAN_DNS | AVOW_SAN_IP;
    issue_san(ca, r, a, &io, AVOW_ERR_SAN_REFUSED, "request.subjectAltName[2]");
    io.san_allow = AVOW_SAN_DNS | AVOW_SAN_IP | AVOW_SAN_WILDCARD;
    issue_san(ca, r, a, &io, AVOW_OK, "DNS:a.example, IP:192.0.2.1, DNS:*.w.example");
    /* set: exactly these, and checked */
    io.flags = 0;
    io.san = "DNS:set.example,IP:::1";
    issue_san(ca, r, a, &io, AVOW_OK, "DNS:set.example, IP:::1");
    io.san = "DNS:bad..example";
    issue_san(ca, r, a, &io, AVOW_ERR_BAD_SAN, "san[0]");
    /* one rule at a time */
    io.san = "DNS:set.example";
    io.flags = AVOW_CA_ISSUE_COPY_SAN;
    issue_san(ca, r, a, &io, AVOW_ERR_ARG, "san");
    io.san = NULL;
    io.flags = AVOW_CA_ISSUE_COPY_SAN | AVOW_CA_ISSUE_DROP_SAN;
    issue_san(ca, r, a, &io, AVOW_ERR_ARG, "san");
    /* drop */
    io.flags = AVOW_CA_ISSUE_DROP_SAN;
    issue_san(ca, r, a, &io, AVOW_OK, NULL);
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);

    /* a request without names: copy gives none; set still sets */
    OK(avow_nonce_issue(f->store, 0, 0, 0, &nonce, NULL));
    r = make_request(f, &nonce, 0);
    a = appraise(f, r, AVOW_OK);
    io.flags = AVOW_CA_ISSUE_COPY_SAN;
    issue_san(ca, r, a, &io, AVOW_OK, NULL);
    io.flags = 0;
    issue_san(ca, r, a, &io, AVOW_OK, NULL);
    io.san = "email:ops@example.com";
    issue_san(ca, r, a, &io, AVOW_OK, "email:ops@example.com");
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
    avow_ca_free(ca);
    X509_free(root);
}

static void test_ca_new_checks(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_diag_clear(&d);
    avow_signer *s = NULL, *s2 = NULL;
    OK(avow_signer_new_pkey(f->ca_key, AVOW_SIGALG_NONE, &s, NULL));
    avow_ca *ca = NULL;
    /* the AK certificate: not the signer's key */
    assert_int_equal(avow_ca_new(s, f->pki.ak, &ca, &d), AVOW_ERR_KEY_BINDING);
    /* an end-entity certificate of the signer's key: not a CA */
    OK(avow_signer_new_pkey(f->pki.ak_key, AVOW_SIGALG_NONE, &s2, NULL));
    assert_int_equal(avow_ca_new(s2, f->pki.ak, &ca, &d), AVOW_ERR_BAD_CERT);
    assert_null(ca);
    TU_NO_OSSL_ERR();
    unsigned ku = 0;
    OK(avow_ca_key_usage_parse("digitalSignature,keyAgreement", &ku, &d));
    assert_int_equal(ku, AVOW_KU_DIGITAL_SIGNATURE | AVOW_KU_KEY_AGREEMENT);
    assert_int_equal(avow_ca_key_usage_parse("keyCertSign", &ku, &d), AVOW_ERR_ARG);
    avow_signer_free(s);
    avow_signer_free(s2);
}

/* A copy of base with one more extension (id-pe-cmw, value der) re-signed by key. */
static X509 *with_cmw(X509 *base, EVP_PKEY *key, const uint8_t *der, size_t len, int twice)
{
    X509 *x = X509_dup(base);
    assert_non_null(x);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.35", 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
    for (int i = 0; i <= twice; i++) {
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    return x;
}

/* DER UTF8String of text. */
static size_t utf8(const char *text, uint8_t *out, size_t cap)
{
    size_t n = strlen(text);
    assert_true(n < 128 && n + 2 <= cap);
    out[0] = 0x0c;
    out[1] = (uint8_t)n;
    memcpy(out + 2, text, n);
    return n + 2;
}

static void test_reader_strict(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_buf jwt = {0};
    uint8_t buf[200];
    X509 *base = f->pki.ak;
    /* no extension */
    assert_int_equal(avow_cert_get_ear_jwt(base, &jwt, &d), AVOW_ERR_NOT_FOUND);
    struct {
        const char *what;
        int kind; /* 0: utf8 of text, 1: raw bytes */
        const char *text;
        const uint8_t raw[8];
        size_t rawlen;
        int twice;
        avow_err want;
    } cases[] = {
        {"good record (control)",
         0,
         "[\"application/eat-jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\",\"YS5iLmM\"]",
         {0},
         0,
         0,
         AVOW_OK},
        {"the extension twice",
         0,
         "[\"application/eat-jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\",\"YS5iLmM\"]",
         {0},
         0,
         1,
         AVOW_ERR_DUP_ATTRIBUTE},
        {"cbor choice, truncated record",
         1,
         NULL,
         {0x04, 0x02, 0x82, 0x00},
         4,
         0,
         AVOW_ERR_TRUNCATED},
        {"cbor choice, indefinite array",
         1,
         NULL,
         {0x04, 0x03, 0x9f, 0x00, 0xff},
         5,
         0,
         AVOW_ERR_CBOR_INDEFINITE},
        {"cbor choice, a map (collection)",
         1,
         NULL,
         {0x04, 0x01, 0xa0},
         3,
         0,
         AVOW_ERR_UNSUPPORTED},
        {"IA5String instead of UTF8String",
         1,
         NULL,
         {0x16, 0x02, '[', ']'},
         4,
         0,
         AVOW_ERR_WRONG_TAG},
        {"trailing byte after the UTF8String",
         1,
         NULL,
         {0x0c, 0x02, '[', ']', 0x00},
         5,
         0,
         AVOW_ERR_TRAILING},
        {"non-minimal length", 1, NULL, {0x0c, 0x81, 0x02, '[', ']'}, 5, 0, AVOW_ERR_NOT_DER},
        {"truncated", 1, NULL, {0x0c, 0x05, '['}, 3, 0, AVOW_ERR_TRUNCATED},
        {"not JSON", 0, "[\"a\",", {0}, 0, 0, AVOW_ERR_JSON},
        {"an object (a CMW collection)", 0, "{\"a\":1}", {0}, 0, 0, AVOW_ERR_UNSUPPORTED},
        {"not an array", 0, "\"a\"", {0}, 0, 0, AVOW_ERR_JSON},
        {"one element", 0, "[\"application/eat-jwt\"]", {0}, 0, 0, AVOW_ERR_CMW},
        {"indicator not an integer",
         0,
         "[\"application/eat-jwt\",\"YQ\",\"x\"]",
         {0},
         0,
         0,
         AVOW_ERR_CMW},
        {"indicator without attestation-results",
         0,
         "[\"application/eat+jwt\",\"YS5iLmM\",4]",
         {0},
         0,
         0,
         AVOW_ERR_NOT_EAR},
        {"older eat-jwt spelling with the profile",
         0,
         "[\"application/eat-jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\",\"YS5iLmM\"]",
         {0},
         0,
         0,
         AVOW_OK},
        {"a profile avow does not read",
         0,
         "[\"application/eat+jwt; eat_profile=\\\"tag:example.com,2024:x\\\"\",\"YS5iLmM\"]",
         {0},
         0,
         0,
         AVOW_ERR_NOT_EAR},
        {"not a media type", 0, "[\"eat+jwt\",\"YS5iLmM\"]", {0}, 0, 0, AVOW_ERR_MEDIA_TYPE},
        {"another media type", 0, "[\"application/eat-cwt\",\"YQ\"]", {0}, 0, 0, AVOW_ERR_NOT_EAR},
        {"bare eat+jwt without the profile (the payload's eat_profile decides)",
         0,
         "[\"application/eat+jwt\",\"YS5iLmM\"]",
         {0},
         0,
         0,
         AVOW_OK},
        {"padded base64",
         0,
         "[\"application/eat-jwt; eat_profile=\\\"tag:ietf.org,2026:rats/ear#03\\\"\",\"YQ==\"]",
         {0},
         0,
         0,
         AVOW_ERR_CMW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].kind == 0 ? utf8(cases[i].text, buf, sizeof(buf)) : cases[i].rawlen;
        if (cases[i].kind == 1)
            memcpy(buf, cases[i].raw, len);
        X509 *x = with_cmw(base, f->pki.int_key, buf, len, cases[i].twice);
        avow_diag_clear(&d);
        avow_err e = avow_cert_get_ear_jwt(x, &jwt, &d);
        if (e != cases[i].want)
            print_error("case %s: %s (%s)\n", cases[i].what, avow_errname(e), d.detail);
        assert_int_equal(e, cases[i].want);
        if (e == AVOW_OK) {
            assert_string_equal((const char *)jwt.ptr, "a.b.c");
            /* not a JWT that verifies */
            assert_int_not_equal(avow_cert_get_ear(x, f->pki.int_key, 0, NULL, &d), AVOW_OK);
        }
        avow_buf_free(&jwt);
        X509_free(x);
        TU_NO_OSSL_ERR();
    }
}

/* The cbor choice: an OCTET STRING holding a CBOR CMW record is read like the json one. */
static void test_reader_cbor_choice(void **state)
{
    fx *f = *state;
    avow_diag d;
    uint8_t buf[64];
    size_t n = 0;
    static const char mt[] = "application/eat+jwt";
    buf[n++] = 0x04;
    buf[n++] = (uint8_t)(1 + 1 + (sizeof(mt) - 1) + 1 + 5);
    buf[n++] = 0x82;
    buf[n++] = (uint8_t)(0x60 + sizeof(mt) - 1);
    memcpy(buf + n, mt, sizeof(mt) - 1);
    n += sizeof(mt) - 1;
    buf[n++] = 0x45;
    memcpy(buf + n, "a.b.c", 5);
    n += 5;
    X509 *x = with_cmw(f->pki.ak, f->pki.int_key, buf, n, 0);
    avow_buf jwt = {0};
    avow_err e = avow_cert_get_ear_jwt(x, &jwt, &d);
    if (e != AVOW_OK)
        print_error("cbor choice: %s %s (%s)\n", avow_errname(e), d.field, d.detail);
    assert_int_equal(e, AVOW_OK);
    assert_string_equal((const char *)jwt.ptr, "a.b.c");
    avow_buf_free(&jwt);
    X509_free(x);
    /* the same record with one byte too many inside the OCTET STRING */
    buf[1]++;
    buf[n++] = 0x00;
    x = with_cmw(f->pki.ak, f->pki.int_key, buf, n, 0);
    assert_int_equal(avow_cert_get_ear_jwt(x, &jwt, &d), AVOW_ERR_TRAILING);
    assert_string_equal(d.field, "cmw");
    X509_free(x);
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_software, setup, teardown),
        cmocka_unit_test_setup_teardown(test_san_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_ed25519_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_fake_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_not_affirming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_new_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_validity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subject_control_chars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_cbor_choice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
