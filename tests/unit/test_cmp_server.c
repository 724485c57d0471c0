/*
 * The CMP server driven by OpenSSL's own CMP client (OSSL_CMP_CTX with a
 * transfer callback into avow_cmp_server_handle): a freshness nonce by
 * genm, then ir, cr and p10cr carrying attested requests, certConf, a
 * replayed nonce refused, a non-affirming request rejected with the right
 * failInfo (and its nonce left usable), protection (MAC, signature under a
 * client certificate, none) refused or accepted as configured, hostile bytes refused without a
 * response, and several threads enrolling at once.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cmp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <avow/ca_dir.h>
#include <avow/cmp_server.h>

#include "service/cmp_int.h"

#define SECRET "cmp test secret"

typedef struct fx {
    char tmp[64], dir[96];
    tu_pki pki;
    avow_verifier *v;
    avow_ca_dir *cd;
    avow_cmp_server *srv;
    pthread_mutex_t mu;
    avow_cmp_result last[4]; /* the last results, newest first */
    avow_buf req;            /* the last request's DER */
} fx;

static void make_server(fx *f, unsigned flags, int with_secret)
{
    avow_cmp_server_free(f->srv);
    f->srv = NULL;
    avow_cmp_server_opts o;
    avow_cmp_server_opts_init(&o);
    o.flags = flags;
    if (with_secret) {
        o.secret = (const uint8_t *)SECRET;
        o.secret_len = strlen(SECRET);
    }
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_cmp_server_new(f->cd, f->v, &o, &f->srv, &d);
    if (e != AVOW_OK)
        print_error("server: %s %s %s\n", avow_errname(e), d.field, d.detail);
    assert_int_equal(e, AVOW_OK);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/avow_cmp_XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->dir, sizeof(f->dir), "%s/ca", f->tmp);
    avow_diag d;
    avow_diag_clear(&d);
    avow_ca_dir_init_opts io;
    avow_ca_dir_init_opts_init(&io);
    io.subject = "CN=avow CMP test CA";
    /* A policy named in ca.json: loaded by the first issue, which several threads may race for. */
    io.policy = AVOW_VECTORS "/../../policies/avow-default.json";
    OK(avow_ca_dir_init(f->dir, &io, &d));
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    OK(avow_ca_dir_open(f->dir, &oo, &f->cd, &d));
    tu_pki_make(&f->pki, NULL, 0);
    OK(avow_verifier_new(NULL, &f->v));
    OK(avow_verifier_add_anchor(f->v, f->pki.ca, NULL));
    pthread_mutex_init(&f->mu, NULL);
    make_server(f, 0, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_cmp_server_free(f->srv);
    avow_buf_free(&f->req);
    avow_ca_dir_free(f->cd);
    avow_verifier_free(f->v);
    tu_pki_free(&f->pki);
    pthread_mutex_destroy(&f->mu);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The client's transport: DER out, avow_cmp_server_handle, DER back. */
static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
    fx *f = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
    unsigned char *der = NULL;
    int n = i2d_OSSL_CMP_MSG(req, &der);
    if (n <= 0)
        return NULL;
    avow_buf out = {0};
    avow_cmp_result res = {.size = sizeof(res)};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_cmp_server_handle_ex(f->srv, der, (size_t)n, &out, &res, &d);
    pthread_mutex_lock(&f->mu);
    memmove(&f->last[1], &f->last[0], 3 * sizeof(f->last[0]));
    f->last[0] = res;
    avow_buf_free(&f->req);
    f->req.ptr = OPENSSL_memdup(der, (size_t)n);
    f->req.len = (size_t)n;
    pthread_mutex_unlock(&f->mu);
    OPENSSL_free(der);
    if (e != AVOW_OK) {
        print_error("handle: %s %s %s\n", avow_errname(e), d.field, d.detail);
        return NULL;
    }
    const unsigned char *p = out.ptr;
    OSSL_CMP_MSG *rsp = d2i_OSSL_CMP_MSG(NULL, &p, (long)out.len);
    avow_buf_free(&out);
    return rsp;
}

static int quiet(const char *func, const char *file, int line, OSSL_CMP_severity level,
                 const char *msg)
{
    (void)func;
    (void)file;
    (void)line;
    (void)level;
    (void)msg;
    return 1;
}

/* A client of f's server, MAC-protected with the shared secret unless secret is 0. */
static OSSL_CMP_CTX *client(fx *f, EVP_PKEY *key, int secret)
{
    OSSL_CMP_CTX *c = OSSL_CMP_CTX_new(NULL, NULL);
    assert_non_null(c);
    OSSL_CMP_CTX_set_log_cb(c, quiet);
    assert_int_equal(OSSL_CMP_CTX_set_transfer_cb(c, transfer), 1);
    assert_int_equal(OSSL_CMP_CTX_set_transfer_cb_arg(c, f), 1);
    X509 *ca = avow_ca_dir_get0_cert(f->cd);
    assert_int_equal(OSSL_CMP_CTX_set1_recipient(c, X509_get_subject_name(ca)), 1);
    if (secret) {
        assert_int_equal(
            OSSL_CMP_CTX_set1_secretValue(c, (const unsigned char *)SECRET, (int)strlen(SECRET)),
            1);
        assert_int_equal(OSSL_CMP_CTX_set1_referenceValue(c, (const unsigned char *)"dev", 3), 1);
    } else {
        assert_int_equal(OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_UNPROTECTED_SEND, 1), 1);
        assert_int_equal(OSSL_CMP_CTX_set1_srvCert(c, ca), 1);
    }
    X509_NAME *subj = X509_NAME_new();
    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"device 1", -1, -1,
                               0);
    assert_int_equal(OSSL_CMP_CTX_set1_subjectName(c, subj), 1);
    X509_NAME_free(subj);
    if (key != NULL) {
        assert_int_equal(EVP_PKEY_up_ref(key), 1);
        assert_int_equal(OSSL_CMP_CTX_set0_newPkey(c, 1, key), 1);
    }
    return c;
}

/* A nonce by genm: a NonceRequest value (DER) or none, answered by a NonceResponse. */
static avow_buf genm_nonce(fx *f, const uint8_t *value, size_t vlen, int want_ok)
{
    OSSL_CMP_CTX *c = client(f, NULL, 1);
    ASN1_TYPE *t = NULL;
    if (value != NULL) {
        ASN1_STRING *s = ASN1_STRING_new();
        assert_int_equal(ASN1_STRING_set(s, value, (int)vlen), 1);
        t = ASN1_TYPE_new();
        ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
    }
    OSSL_CMP_ITAV *itav = OSSL_CMP_ITAV_create(OBJ_txt2obj(AVOW_OID_IT_NONCE_REQUEST, 1), t);
    assert_int_equal(OSSL_CMP_CTX_push0_genm_ITAV(c, itav), 1);
    STACK_OF(OSSL_CMP_ITAV) *got = OSSL_CMP_exec_GENM_ses(c);
    avow_buf nonce = {0};
    if (!want_ok) {
        assert_null(got);
        OSSL_CMP_CTX_free(c);
        ERR_clear_error();
        return nonce;
    }
    assert_non_null(got);
    assert_int_equal(sk_OSSL_CMP_ITAV_num(got), 1);
    OSSL_CMP_ITAV *r = sk_OSSL_CMP_ITAV_value(got, 0);
    ASN1_OBJECT *want = OBJ_txt2obj(AVOW_OID_IT_NONCE_RESPONSE, 1);
    assert_int_equal(OBJ_cmp(OSSL_CMP_ITAV_get0_type(r), want), 0);
    ASN1_OBJECT_free(want);
    ASN1_TYPE *v = OSSL_CMP_ITAV_get0_value(r);
    assert_int_equal(ASN1_TYPE_get(v), V_ASN1_SEQUENCE);
    const unsigned char *p = ASN1_STRING_get0_data(v->value.sequence);
    AVOW_NONCERSP_ASN1 *nr =
        d2i_AVOW_NONCERSP_ASN1(NULL, &p, ASN1_STRING_length(v->value.sequence));
    assert_non_null(nr);
    int64_t expiry = 0;
    assert_non_null(nr->expiry);
    assert_int_equal(ASN1_INTEGER_get_int64(&expiry, nr->expiry), 1);
    assert_true(expiry > 0 && expiry <= 24 * 3600);
    nonce.len = (size_t)ASN1_STRING_length(nr->nonce);
    nonce.ptr = OPENSSL_memdup(ASN1_STRING_get0_data(nr->nonce), nonce.len);
    AVOW_NONCERSP_ASN1_free(nr);
    sk_OSSL_CMP_ITAV_pop_free(got, OSSL_CMP_ITAV_free);
    OSSL_CMP_CTX_free(c);
    assert_int_equal(f->last[0].outcome, AVOW_OK);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_GENP);
    return nonce;
}

/* A PKCS#10 request for key with Evidence over nonce (extractable: the default policy refuses). */
static X509_REQ *attested_csr(fx *f, EVP_PKEY *key, const avow_buf *nonce, int extractable)
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
    avow_buf spki = tu_spki(key);
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
    OK(avow_request_builder_add_evidence(b, NULL, evder.ptr, evder.len, &d));
    OK(avow_request_builder_add_cert(b, f->pki.inter, NULL));
    avow_signer *s = NULL;
    OK(avow_signer_new_pkey(key, AVOW_SIGALG_NONE, &s, NULL));
    avow_buf der = {0};
    OK(avow_request_builder_sign(b, s, &der, &d));
    const unsigned char *p = der.ptr;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der.len);
    assert_non_null(req);
    avow_buf_free(&der);
    avow_buf_free(&evder);
    avow_signer_free(s);
    avow_request_builder_free(b);
    TU_NO_OSSL_ERR();
    return req;
}

/* The CSR's attestation attribute as the CRMF id-aa-attestation extension. */
static STACK_OF(X509_EXTENSION) * attestation_ext(X509_REQ *csr)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
    int i = X509_REQ_get_attr_by_OBJ(csr, oid, -1);
    assert_true(i >= 0);
    ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(csr, i), 0);
    assert_int_equal(ASN1_TYPE_get(v), V_ASN1_SEQUENCE);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_int_equal(ASN1_OCTET_STRING_set(os, ASN1_STRING_get0_data(v->value.sequence),
                                           ASN1_STRING_length(v->value.sequence)),
                     1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
    assert_non_null(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, ext);
    return exts;
}

/* The certificate chains to the CA, names the key and carries the EAR; its serial is in the
 * ledger. */
static void check_issued(fx *f, X509 *cert, EVP_PKEY *key)
{
    assert_non_null(cert);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), key), 1);
    EVP_PKEY *ca_pub = X509_get0_pubkey(avow_ca_dir_get0_cert(f->cd));
    assert_int_equal(X509_verify(cert, ca_pub), 1);
    avow_buf jwt = {0};
    avow_diag d;
    avow_diag_clear(&d);
    OK(avow_cert_get_ear_jwt(cert, &jwt, &d));
    assert_true(jwt.len > 0);
    avow_buf_free(&jwt);
    avow_issuance *row = NULL;
    assert_true(f->last[0].serial[0] != '\0' || f->last[1].serial[0] != '\0');
    const char *serial = f->last[0].serial[0] != '\0' ? f->last[0].serial : f->last[1].serial;
    OK(avow_ca_dir_find_serial(f->cd, serial, &row, &d));
    avow_issuance_free(row);
}

/* One enrolment of body type (IR, CR, P10CR); returns the certificate or NULL. */
static X509 *enrol(fx *f, OSSL_CMP_CTX *c, int type, X509_REQ *csr)
{
    if (type == OSSL_CMP_P10CR)
        assert_int_equal(OSSL_CMP_CTX_set1_p10CSR(c, csr), 1);
    else
        assert_int_equal(OSSL_CMP_CTX_set0_reqExtensions(c, attestation_ext(csr)), 1);
    (void)f;
    X509 *cert = OSSL_CMP_exec_certreq(c, type, NULL);
    if (cert != NULL)
        assert_int_equal(X509_up_ref(cert), 1);
    ERR_clear_error();
    return cert;
}

static void test_genm_nonce(void **state)
{
    fx *f = *state;
    static const uint8_t len32[] = {0x30, 0x03, 0x02, 0x01, 0x20};
    avow_buf n = genm_nonce(f, len32, sizeof(len32), 1);
    assert_int_equal(n.len, 32);
    avow_buf_free(&n);
    /* No value at all (what `openssl cmp -infotype` sends): the store's default length. */
    n = genm_nonce(f, NULL, 0, 1);
    assert_true(n.len >= AVOW_CMP_NONCE_MIN && n.len <= AVOW_CMP_NONCE_MAX);
    avow_buf_free(&n);
    /* len out of 8..64, reqInfo without type, BER length: error messages. */
    static const uint8_t len7[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    genm_nonce(f, len7, sizeof(len7), 0);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_CLAIM_VALUE);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_ERROR);
    static const uint8_t info[] = {0x30, 0x02, 0x05, 0x00};
    genm_nonce(f, info, sizeof(info), 0);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_MALFORMED);
    static const uint8_t ber[] = {0x30, 0x81, 0x03, 0x02, 0x01, 0x20};
    genm_nonce(f, ber, sizeof(ber), 0);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_NOT_DER);
    TU_NO_OSSL_ERR();
}

static void enrol_and_check(fx *f, int type)
{
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *csr = attested_csr(f, key, &n, 0);
    OSSL_CMP_CTX *c = client(f, key, 1);
    X509 *cert = enrol(f, c, type, csr);
    if (cert == NULL)
        print_error("refused: %s\n", f->last[0].reason);
    check_issued(f, cert, key);
    /* The client confirmed: the last message was its certConf, and nothing stays open. */
    assert_int_equal(f->last[0].req_type, AVOW_CMP_BODY_CERTCONF);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_PKICONF);
    assert_int_equal(f->last[0].outcome, AVOW_OK);
    assert_int_equal(f->last[1].tier, AVOW_TIER_AFFIRMING);
    assert_int_equal(avow_cmp_server_open_transactions(f->srv), 0);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(csr);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
    TU_NO_OSSL_ERR();
}

static void test_ir(void **state)
{
    enrol_and_check(*state, OSSL_CMP_IR);
}

static void test_cr(void **state)
{
    enrol_and_check(*state, OSSL_CMP_CR);
}

static void test_p10cr(void **state)
{
    enrol_and_check(*state, OSSL_CMP_P10CR);
}

/* Implicit confirmation when the client asks; none when the server is told not to grant it. */
static void test_implicit_confirm(void **state)
{
    fx *f = *state;
    for (int refuse = 0; refuse < 2; refuse++) {
        make_server(f, refuse ? AVOW_CMP_NO_IMPLICIT_CONFIRM : 0, 1);
        EVP_PKEY *key = tu_key_ec("P-256");
        avow_buf n = genm_nonce(f, NULL, 0, 1);
        X509_REQ *csr = attested_csr(f, key, &n, 0);
        OSSL_CMP_CTX *c = client(f, key, 1);
        assert_int_equal(OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 1), 1);
        X509 *cert = enrol(f, c, OSSL_CMP_IR, csr);
        check_issued(f, cert, key);
        assert_int_equal(f->last[0].req_type, refuse ? AVOW_CMP_BODY_CERTCONF : AVOW_CMP_BODY_IR);
        assert_int_equal(avow_cmp_server_open_transactions(f->srv), 0);
        X509_free(cert);
        OSSL_CMP_CTX_free(c);
        X509_REQ_free(csr);
        avow_buf_free(&n);
        EVP_PKEY_free(key);
    }
}

/* A client that never confirms leaves its transaction open; its ID cannot be taken over. */
static void test_certconf_pending(void **state)
{
    fx *f = *state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *csr = attested_csr(f, key, &n, 0);
    OSSL_CMP_CTX *c = client(f, key, 1);
    assert_int_equal(OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_DISABLE_CONFIRM, 1), 1);
    X509 *cert = enrol(f, c, OSSL_CMP_P10CR, csr);
    check_issued(f, cert, key);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_CP);
    assert_int_equal(avow_cmp_server_open_transactions(f->srv), 1);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    /* Another request under the open transaction's ID: transactionIdInUse, the open one kept. */
    const unsigned char *p = f->req.ptr;
    OSSL_CMP_MSG *sent = d2i_OSSL_CMP_MSG(NULL, &p, (long)f->req.len);
    assert_non_null(sent);
    avow_buf_free(&n);
    n = genm_nonce(f, NULL, 0, 1);
    X509_REQ_free(csr);
    csr = attested_csr(f, key, &n, 0);
    c = client(f, key, 1);
    assert_int_equal(OSSL_CMP_CTX_set1_transactionID(
                         c, OSSL_CMP_HDR_get0_transactionID(OSSL_CMP_MSG_get0_header(sent))),
                     1);
    OSSL_CMP_MSG_free(sent);
    cert = enrol(f, c, OSSL_CMP_IR, csr);
    assert_null(cert);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_IP);
    assert_true(OSSL_CMP_CTX_get_failInfoCode(c) &
                (1 << OSSL_CMP_PKIFAILUREINFO_transactionIdInUse));
    assert_int_equal(avow_cmp_server_open_transactions(f->srv), 1);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(csr);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
}

/* The same request again: its nonce was consumed with the first certificate. */
static void test_replay_refused(void **state)
{
    fx *f = *state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *csr = attested_csr(f, key, &n, 0);
    OSSL_CMP_CTX *c = client(f, key, 1);
    X509 *cert = enrol(f, c, OSSL_CMP_P10CR, csr);
    assert_non_null(cert);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    c = client(f, key, 1);
    cert = enrol(f, c, OSSL_CMP_P10CR, csr);
    assert_null(cert);
    assert_int_equal(f->last[0].req_type, AVOW_CMP_BODY_P10CR);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_CP);
    assert_int_not_equal(f->last[0].outcome, AVOW_OK);
    assert_non_null(strstr(f->last[0].reason, "AVOW_ERR_NONCE_REPLAY"));
    assert_int_equal(OSSL_CMP_CTX_get_status(c), OSSL_CMP_PKISTATUS_rejection);
    assert_true(OSSL_CMP_CTX_get_failInfoCode(c) & (1 << OSSL_CMP_PKIFAILUREINFO_badRequest));
    assert_int_equal(avow_cmp_server_open_transactions(f->srv), 0);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(csr);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
}

/* An extractable key: contraindicated, rejected as notAuthorized naming the rule; the nonce
 * stays usable for an honest request. */
static void test_not_affirming(void **state)
{
    fx *f = *state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *bad = attested_csr(f, key, &n, 1);
    OSSL_CMP_CTX *c = client(f, key, 1);
    X509 *cert = enrol(f, c, OSSL_CMP_IR, bad);
    assert_null(cert);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(f->last[0].tier, AVOW_TIER_CONTRAINDICATED);
    assert_non_null(strstr(f->last[0].reason, "contraindicated"));
    assert_non_null(strstr(f->last[0].reason, "rule "));
    assert_int_equal(OSSL_CMP_CTX_get_status(c), OSSL_CMP_PKISTATUS_rejection);
    assert_true(OSSL_CMP_CTX_get_failInfoCode(c) & (1 << OSSL_CMP_PKIFAILUREINFO_notAuthorized));
    char buf[512];
    assert_non_null(OSSL_CMP_CTX_snprint_PKIStatus(c, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "contraindicated"));
    OSSL_CMP_CTX_free(c);
    X509_REQ *good = attested_csr(f, key, &n, 0);
    c = client(f, key, 1);
    cert = enrol(f, c, OSSL_CMP_IR, good);
    check_issued(f, cert, key);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(bad);
    X509_REQ_free(good);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
}

/* A request whose proof of possession fails (the CSR of another key under ir's POP). */
static void test_bad_pop(void **state)
{
    fx *f = *state;
    EVP_PKEY *key = tu_key_ec("P-256"), *other = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *csr = attested_csr(f, key, &n, 0);
    /* Evidence for key, request for other: the attested key is not the requested one. */
    OSSL_CMP_CTX *c = client(f, other, 1);
    X509 *cert = enrol(f, c, OSSL_CMP_IR, csr);
    assert_null(cert);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_NOT_AFFIRMING);
    assert_true(OSSL_CMP_CTX_get_failInfoCode(c) != 0);
    OSSL_CMP_CTX_free(c);
    /* The nonce survived the forged request. */
    c = client(f, key, 1);
    cert = enrol(f, c, OSSL_CMP_IR, csr);
    check_issued(f, cert, key);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(csr);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

/* Unprotected requests: refused by default, enrolled with AVOW_CMP_ACCEPT_UNPROTECTED, the
 * responses then signed by the CA key. */
static void test_unprotected(void **state)
{
    fx *f = *state;
    EVP_PKEY *key = tu_key_ec("P-256");
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    X509_REQ *csr = attested_csr(f, key, &n, 0);
    OSSL_CMP_CTX *c = client(f, key, 0);
    X509 *cert = enrol(f, c, OSSL_CMP_P10CR, csr);
    assert_null(cert);
    assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_ERROR);
    assert_int_equal(f->last[0].outcome, AVOW_ERR_CMP);
    OSSL_CMP_CTX_free(c);
    make_server(f, AVOW_CMP_ACCEPT_UNPROTECTED, 0);
    c = client(f, key, 0);
    cert = enrol(f, c, OSSL_CMP_P10CR, csr);
    check_issued(f, cert, key);
    X509_free(cert);
    OSSL_CMP_CTX_free(c);
    X509_REQ_free(csr);
    avow_buf_free(&n);
    EVP_PKEY_free(key);
}

/* Requests signed under a client certificate: refused without trust anchors, enrolled with. */
static void test_signed_requests(void **state)
{
    fx *f = *state;
    EVP_PKEY *ck = tu_key_ec("P-256"), *key = tu_key_ec("P-256");
    X509 *ccert = tu_cert_issue("cmp client", ck, f->pki.ca, f->pki.ca_key, 0, 0);
    for (int trusted = 0; trusted < 2; trusted++) {
        X509_STORE *st = X509_STORE_new();
        assert_int_equal(X509_STORE_add_cert(st, f->pki.ca), 1);
        avow_cmp_server_opts o;
        avow_cmp_server_opts_init(&o);
        o.trusted = trusted ? st : NULL;
        avow_cmp_server_free(f->srv);
        f->srv = NULL;
        OK(avow_cmp_server_new(f->cd, f->v, &o, &f->srv, NULL));
        X509_STORE_free(st);
        avow_buf n = {0};
        avow_diag d;
        avow_diag_clear(&d);
        OK(avow_ca_dir_nonce(f->cd, 0, 0, 0, &n, NULL, &d));
        X509_REQ *csr = attested_csr(f, key, &n, 0);
        OSSL_CMP_CTX *c = client(f, key, 0);
        assert_int_equal(OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_UNPROTECTED_SEND, 0), 1);
        assert_int_equal(OSSL_CMP_CTX_set1_cert(c, ccert), 1);
        assert_int_equal(OSSL_CMP_CTX_set1_pkey(c, ck), 1);
        X509 *cert = enrol(f, c, OSSL_CMP_IR, csr);
        if (trusted) {
            check_issued(f, cert, key);
        } else {
            assert_null(cert);
            assert_int_equal(f->last[0].rsp_type, AVOW_CMP_BODY_ERROR);
        }
        X509_free(cert);
        OSSL_CMP_CTX_free(c);
        X509_REQ_free(csr);
        avow_buf_free(&n);
    }
    X509_free(ccert);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(key);
    TU_NO_OSSL_ERR();
}

/* Bytes that are no DER PKIMessage get no response. */
static void test_hostile_bytes(void **state)
{
    fx *f = *state;
    avow_buf out = {0};
    avow_diag d;
    avow_diag_clear(&d);
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(avow_cmp_server_handle(f->srv, junk, sizeof(junk), &out, &d),
                     AVOW_ERR_MALFORMED);
    assert_null(out.ptr);
    assert_int_equal(avow_cmp_server_handle(f->srv, junk, 0, &out, &d), AVOW_ERR_TRUNCATED);
    assert_int_equal(avow_cmp_server_handle(f->srv, NULL, 0, &out, &d), AVOW_ERR_TRUNCATED);
    uint8_t *big = calloc(1, AVOW_CMP_MAX_MESSAGE + 1);
    assert_int_equal(avow_cmp_server_handle(f->srv, big, AVOW_CMP_MAX_MESSAGE + 1, &out, &d),
                     AVOW_ERR_TOO_LARGE);
    free(big);
    /* A real genm (as the client sent it) with a byte appended, and with a BER length. */
    avow_buf n = genm_nonce(f, NULL, 0, 1);
    avow_buf_free(&n);
    size_t len = f->req.len;
    assert_true(len > 4 && f->req.ptr[0] == 0x30);
    size_t hdr = f->req.ptr[1] < 0x80 ? 2 : 2 + (size_t)(f->req.ptr[1] & 0x7f);
    uint8_t *m = malloc(len + 1);
    memcpy(m, f->req.ptr, len);
    m[len] = 0;
    assert_int_equal(avow_cmp_server_handle(f->srv, m, len + 1, &out, &d), AVOW_ERR_TRAILING);
    assert_int_equal(avow_cmp_server_handle(f->srv, m, len - 1, &out, &d), AVOW_ERR_MALFORMED);
    free(m);
    size_t body = len - hdr;
    m = malloc(body + 5);
    m[0] = 0x30;
    m[1] = 0x83;
    m[2] = 0;
    m[3] = (uint8_t)(body >> 8);
    m[4] = (uint8_t)body;
    memcpy(m + 5, f->req.ptr + hdr, body);
    assert_int_equal(avow_cmp_server_handle(f->srv, m, body + 5, &out, &d), AVOW_ERR_NOT_DER);
    free(m);
    assert_null(out.ptr);
    /* The untouched message is answered. */
    OK(avow_cmp_server_handle(f->srv, f->req.ptr, len, &out, &d));
    assert_non_null(out.ptr);
    avow_buf_free(&out);
    avow_cmp_result bad = {.size = 1};
    assert_int_equal(avow_cmp_server_handle_ex(f->srv, junk, sizeof(junk), &out, &bad, &d),
                     AVOW_ERR_ARG);
    ERR_clear_error();
}

typedef struct worker {
    fx *f;
    int ok;
    char why[300]; /* the first failure: cmocka's assertions must stay on the main thread */
} worker;

/* A nonce by genm without assertions (for the worker threads). */
static int thread_nonce(worker *w, avow_buf *nonce)
{
    OSSL_CMP_CTX *c = client(w->f, NULL, 1);
    OSSL_CMP_ITAV *itav = OSSL_CMP_ITAV_create(OBJ_txt2obj(AVOW_OID_IT_NONCE_REQUEST, 1), NULL);
    OSSL_CMP_CTX_push0_genm_ITAV(c, itav);
    STACK_OF(OSSL_CMP_ITAV) *got = OSSL_CMP_exec_GENM_ses(c);
    AVOW_NONCERSP_ASN1 *nr = NULL;
    if (got != NULL && sk_OSSL_CMP_ITAV_num(got) == 1) {
        ASN1_TYPE *v = OSSL_CMP_ITAV_get0_value(sk_OSSL_CMP_ITAV_value(got, 0));
        const unsigned char *p = ASN1_STRING_get0_data(v->value.sequence);
        nr = d2i_AVOW_NONCERSP_ASN1(NULL, &p, ASN1_STRING_length(v->value.sequence));
    }
    if (nr != NULL) {
        nonce->len = (size_t)ASN1_STRING_length(nr->nonce);
        nonce->ptr = OPENSSL_memdup(ASN1_STRING_get0_data(nr->nonce), nonce->len);
    } else if (w->why[0] == '\0') {
        char st[256] = "";
        OSSL_CMP_CTX_snprint_PKIStatus(c, st, sizeof(st));
        snprintf(w->why, sizeof(w->why), "genm: %s", st);
    }
    AVOW_NONCERSP_ASN1_free(nr);
    sk_OSSL_CMP_ITAV_pop_free(got, OSSL_CMP_ITAV_free);
    OSSL_CMP_CTX_free(c);
    ERR_clear_error();
    return nonce->ptr != NULL;
}

static void *enrol_thread(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 3; i++) {
        avow_buf n = {0};
        if (!thread_nonce(w, &n))
            continue;
        EVP_PKEY *key = tu_key_ec("P-256");
        X509_REQ *csr = attested_csr(w->f, key, &n, 0);
        OSSL_CMP_CTX *c = client(w->f, key, 1);
        X509 *cert = enrol(w->f, c, i % 2 ? OSSL_CMP_IR : OSSL_CMP_P10CR, csr);
        if (cert != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert), key) == 1) {
            w->ok++;
        } else if (w->why[0] == '\0') {
            char st[256] = "";
            OSSL_CMP_CTX_snprint_PKIStatus(c, st, sizeof(st));
            snprintf(w->why, sizeof(w->why), "enrol: %s", st);
        }
        X509_free(cert);
        OSSL_CMP_CTX_free(c);
        X509_REQ_free(csr);
        avow_buf_free(&n);
        EVP_PKEY_free(key);
    }
    return NULL;
}

/* Four clients at once, each through its own transactions. */
static void test_threads(void **state)
{
    fx *f = *state;
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].f = f;
        assert_int_equal(pthread_create(&th[i], NULL, enrol_thread, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].ok;
        if (w[i].why[0] != '\0')
            print_error("thread %d: %s\n", i, w[i].why);
    }
    assert_int_equal(total, 12);
    assert_int_equal(avow_cmp_server_open_transactions(f->srv), 0);
}

static void test_new_checks(void **state)
{
    fx *f = *state;
    avow_cmp_server *s = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_cmp_server_opts o;
    avow_cmp_server_opts_init(&o);
    o.size = 1;
    assert_int_equal(avow_cmp_server_new(f->cd, f->v, &o, &s, &d), AVOW_ERR_ARG);
    avow_cmp_server_opts_init(&o);
    o.nonce_request_oid = "not an oid";
    assert_int_equal(avow_cmp_server_new(f->cd, f->v, &o, &s, &d), AVOW_ERR_ARG);
    avow_ca_dir_issue_opts io;
    avow_ca_dir_issue_opts_init(&io);
    static const uint8_t fixed[16] = {1};
    io.nonce = fixed;
    io.nonce_len = sizeof(fixed);
    avow_cmp_server_opts_init(&o);
    o.issue = &io;
    assert_int_equal(avow_cmp_server_new(f->cd, f->v, &o, &s, &d), AVOW_ERR_ARG);
    avow_cmp_server_opts_init(&o);
    o.nonce_len = 4;
    assert_int_equal(avow_cmp_server_new(f->cd, f->v, &o, &s, &d), AVOW_ERR_ARG);
    avow_cmp_server_opts_init(&o);
    o.protect_key = f->pki.ak_key; /* without its certificate */
    assert_int_equal(avow_cmp_server_new(f->cd, f->v, &o, &s, &d), AVOW_ERR_ARG);
    assert_null(s);
    avow_ca_dir *nokey = NULL;
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    oo.flags = AVOW_CA_DIR_NO_KEY;
    OK(avow_ca_dir_open(f->dir, &oo, &nokey, &d));
    assert_int_equal(avow_cmp_server_new(nokey, f->v, NULL, &s, &d), AVOW_ERR_STATE);
    avow_ca_dir_free(nokey);
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_genm_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p10cr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_implicit_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certconf_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_affirming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_pop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unprotected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
