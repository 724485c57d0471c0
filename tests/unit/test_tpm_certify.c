/*
 * TPM 2.0 key attestation on a real TPM: swtpm on 127.0.0.1, driven through
 * tpm2-tss ESYS (a primary, a signing key, a restricted signing AK, a
 * duplicable key), TPM2_Certify with qualifyingData = the nonce, the
 * statement through the tcg-attest-tpm-certify row and the default policy.
 * Also the published sample of the csr-attestation appendix, and strict
 * reading of hostile variants. The swtpm cases skip when swtpm is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include <avow/appraise.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/tpm.h>
#include <avow/verify.h>

#include "formats/tpm_int.h"
#include "testutil.h"

/* DER content octets of 2.23.133.20.1. */
static const uint8_t TPM_OID[] = {0x67, 0x81, 0x05, 0x14, 0x01};
static const uint8_t NONCE[] = "avow tpm nonce 0123456789abcdef";

/* ---- swtpm --------------------------------------------------------------------------------- */

typedef struct swtpm {
    pid_t pid;
    int port;
    char dir[64];
} swtpm;

static int port_answers(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

static int swtpm_start(swtpm *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/avow-swtpm.XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    uint8_t r[2];
    for (int attempt = 0; attempt < 8; attempt++) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (f == NULL || fread(r, 1, 2, f) != 2) {
            if (f != NULL)
                fclose(f);
            return -1;
        }
        fclose(f);
        t->port = 20000 + 2 * ((r[0] << 8 | r[1]) % 10000);
        if (port_answers(t->port) || port_answers(t->port + 1))
            continue;
        char state[96], server[64], ctrl[64];
        snprintf(state, sizeof(state), "dir=%s", t->dir);
        snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port);
        snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port + 1);
        t->pid = fork();
        if (t->pid < 0)
            return -1;
        if (t->pid == 0) {
            execlp("swtpm", "swtpm", "socket", "--tpmstate", state, "--ctrl", ctrl, "--server",
                   server, "--tpm2", "--flags", "not-need-init,startup-clear", (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 200; i++) {
            if (port_answers(t->port))
                return 0;
            int st;
            if (waitpid(t->pid, &st, WNOHANG) == t->pid)
                break; /* it died: port taken, try another */
            struct timespec ts = {0, 25 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
    return -1;
}

static void swtpm_stop(swtpm *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
    static const char *const files[] = {"tpm2-00.permall", "tpm2-00.volatilestate", ".lock"};
    char p[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", t->dir, files[i]);
        unlink(p);
    }
    rmdir(t->dir);
}

/* ---- ESYS ---------------------------------------------------------------------------------- */

typedef struct tpm_env {
    swtpm sw;
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR primary, ak;
    /* swtpm holds three transient objects: the primary and the AK stay, a key is loaded
     * for its TPM2_Certify and flushed afterwards. */
    TPM2B_PRIVATE *key, *dup, *other;
    TPM2B_PUBLIC *key_pub, *ak_pub, *dup_pub, *other_pub;
    EVP_PKEY *ak_evp;
    EVP_PKEY *ca_key, *other_ca_key;
    X509 *ca, *other_ca, *ak_cert, *ak_cert_untrusted, *ak_cert_no_eku;
} tpm_env;

#define TPMA_KEY                                                                                   \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH)

static TPM2B_PUBLIC ecc_template(TPMA_OBJECT attrs, int storage, int ecdsa)
{
    TPM2B_PUBLIC t;
    memset(&t, 0, sizeof(t));
    t.publicArea.type = TPM2_ALG_ECC;
    t.publicArea.nameAlg = TPM2_ALG_SHA256;
    t.publicArea.objectAttributes = attrs;
    TPMS_ECC_PARMS *e = &t.publicArea.parameters.eccDetail;
    if (storage) {
        e->symmetric.algorithm = TPM2_ALG_AES;
        e->symmetric.keyBits.aes = 128;
        e->symmetric.mode.aes = TPM2_ALG_CFB;
    } else {
        e->symmetric.algorithm = TPM2_ALG_NULL;
    }
    if (ecdsa) {
        e->scheme.scheme = TPM2_ALG_ECDSA;
        e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    } else {
        e->scheme.scheme = TPM2_ALG_NULL;
    }
    e->curveID = TPM2_ECC_NIST_P256;
    e->kdf.scheme = TPM2_ALG_NULL;
    return t;
}

static void create_key(tpm_env *e, TPMA_OBJECT attrs, int ecdsa, TPM2B_PRIVATE **priv,
                       TPM2B_PUBLIC **pub)
{
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC tmpl = ecc_template(attrs, 0, ecdsa);
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    assert_int_equal(Esys_Create(e->esys, e->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &sens, &tmpl, &outside, &pcrs, priv, pub, NULL, NULL, NULL),
                     TSS2_RC_SUCCESS);
}

static ESYS_TR load_key(tpm_env *e, const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub)
{
    ESYS_TR h = ESYS_TR_NONE;
    assert_int_equal(
        Esys_Load(e->esys, e->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &h),
        TSS2_RC_SUCCESS);
    return h;
}

/* The test's own conversion of a TPM ECC public key (the row has its own). */
static EVP_PKEY *ecc_evp(const TPM2B_PUBLIC *p)
{
    const TPMS_ECC_POINT *u = &p->publicArea.unique.ecc;
    uint8_t pt[65] = {0x04};
    assert_true(u->x.size <= 32 && u->y.size <= 32);
    memcpy(pt + 1 + 32 - u->x.size, u->x.buffer, u->x.size);
    memcpy(pt + 1 + 64 - u->y.size, u->y.buffer, u->y.size);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    assert_non_null(b);
    assert_true(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0));
    assert_true(OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    assert_true(params != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
                EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) == 1);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    return k;
}

static tpm_env *G;     /* set by the group setup; tests are single-threaded */
static swtpm *RUNNING; /* stopped by main if a failed setup left it running */

static int env_setup(void **state)
{
    (void)state;
    tpm_env *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -1;
    if (swtpm_start(&e->sw) != 0) {
        fprintf(stderr, "swtpm did not start: the TPM cases skip\n");
        free(e);
        G = NULL;
        return 0;
    }
    RUNNING = &e->sw;
    char conf[64];
    snprintf(conf, sizeof(conf), "swtpm:host=127.0.0.1,port=%d", e->sw.port);
    if (Tss2_TctiLdr_Initialize(conf, &e->tcti) != TSS2_RC_SUCCESS ||
        Esys_Initialize(&e->esys, e->tcti, NULL) != TSS2_RC_SUCCESS) {
        swtpm_stop(&e->sw);
        free(e);
        return -1;
    }
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC tmpl = ecc_template(
        TPMA_KEY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_NODA, 1, 0);
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    if (Esys_CreatePrimary(e->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sens, &tmpl, &outside, &pcrs, &e->primary, NULL, NULL, NULL,
                           NULL) != TSS2_RC_SUCCESS)
        return -1;
    create_key(e, TPMA_KEY | TPMA_OBJECT_SIGN_ENCRYPT, 0, &e->key, &e->key_pub);
    TPM2B_PRIVATE *ak_priv = NULL;
    create_key(e, TPMA_KEY | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED, 1, &ak_priv,
               &e->ak_pub);
    e->ak = load_key(e, ak_priv, e->ak_pub);
    Esys_Free(ak_priv);
    /* Duplicable: neither fixedTPM nor fixedParent. */
    create_key(
        e, TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT, 0,
        &e->dup, &e->dup_pub);
    create_key(e, TPMA_KEY | TPMA_OBJECT_SIGN_ENCRYPT, 0, &e->other, &e->other_pub);
    e->ak_evp = ecc_evp(e->ak_pub);
    e->ca_key = tu_key_ec("P-256");
    e->other_ca_key = tu_key_ec("P-256");
    e->ca = tu_cert_issue("TPM test CA", e->ca_key, NULL, e->ca_key, 1, 0);
    e->other_ca = tu_cert_issue("Other CA", e->other_ca_key, NULL, e->other_ca_key, 1, 0);
    e->ak_cert = tu_cert_issue("TPM AK", e->ak_evp, e->ca, e->ca_key, 0, TU_AK_TCG_EKU);
    e->ak_cert_untrusted =
        tu_cert_issue("TPM AK", e->ak_evp, e->other_ca, e->other_ca_key, 0, TU_AK_TCG_EKU);
    e->ak_cert_no_eku = tu_cert_issue("TPM AK", e->ak_evp, e->ca, e->ca_key, 0, TU_AK_NO_EKU);
    G = e;
    return 0;
}

static int env_teardown(void **state)
{
    (void)state;
    tpm_env *e = G;
    if (e == NULL)
        return 0;
    Esys_Free(e->key_pub), Esys_Free(e->ak_pub), Esys_Free(e->dup_pub), Esys_Free(e->other_pub);
    Esys_Free(e->key), Esys_Free(e->dup), Esys_Free(e->other);
    Esys_Finalize(&e->esys);
    Tss2_TctiLdr_Finalize(&e->tcti);
    swtpm_stop(&e->sw);
    RUNNING = NULL;
    EVP_PKEY_free(e->ak_evp), EVP_PKEY_free(e->ca_key), EVP_PKEY_free(e->other_ca_key);
    X509_free(e->ca), X509_free(e->other_ca), X509_free(e->ak_cert);
    X509_free(e->ak_cert_untrusted), X509_free(e->ak_cert_no_eku);
    free(e);
    G = NULL;
    return 0;
}

#define NEED_TPM()                                                                                 \
    do {                                                                                           \
        if (G == NULL)                                                                             \
            skip();                                                                                \
    } while (0)

/* TPM2_Certify of `key` by the AK over nonce; the statement with `pub` as the TPMT_PUBLIC. */
static avow_buf certify(const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *loaded,
                        const TPM2B_PUBLIC *pub, const uint8_t *nonce, size_t n)
{
    ESYS_TR key = load_key(G, priv, loaded);
    TPM2B_DATA q = {0};
    q.size = (UINT16)n;
    memcpy(q.buffer, nonce, n);
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPM2B_ATTEST *att = NULL;
    TPMT_SIGNATURE *sig = NULL;
    assert_int_equal(Esys_Certify(G->esys, key, G->ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, &q, &scheme, &att, &sig),
                     TSS2_RC_SUCCESS);
    assert_int_equal(Esys_FlushContext(G->esys, key), TSS2_RC_SUCCESS);
    uint8_t sigb[sizeof(TPMT_SIGNATURE)], pubb[sizeof(TPMT_PUBLIC)];
    size_t sl = 0, pl = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigb, sizeof(sigb), &sl), TSS2_RC_SUCCESS);
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, pubb, sizeof(pubb), &pl),
                     TSS2_RC_SUCCESS);
    avow_buf out = {0};
    avow_diag d;
    assert_int_equal(
        avow_tpm_certify_encode(att->attestationData, att->size, sigb, sl, pubb, pl, &out, &d),
        AVOW_OK);
    Esys_Free(att);
    Esys_Free(sig);
    return out;
}

static avow_verifier *verifier(void)
{
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, G->ca, NULL), AVOW_OK);
    return v;
}

/* The statement through the registry with ak as the bundle's certificate. */
static avow_err verify_stmt(const avow_buf *st, X509 *ak, const uint8_t *nonce, size_t n,
                            avow_statement_result **out)
{
    avow_verifier *v = verifier();
    STACK_OF(X509) *certs = sk_X509_new_null();
    assert_non_null(certs);
    if (ak != NULL)
        assert_true(sk_X509_push(certs, ak) > 0);
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = nonce;
    o.nonce_len = n;
    o.untrusted = certs;
    avow_statement_result *r = NULL;
    avow_err rc =
        avow_statement_verify(v, NULL, TPM_OID, sizeof(TPM_OID), st->ptr, st->len, &o, &r, NULL);
    sk_X509_free(certs);
    avow_verifier_free(v);
    if (out != NULL)
        *out = r;
    else
        avow_statement_result_free(r);
    return rc;
}

static avow_buf spki_of(const TPM2B_PUBLIC *p)
{
    EVP_PKEY *k = ecc_evp(p);
    avow_buf b = tu_spki(k);
    EVP_PKEY_free(k);
    return b;
}

/* Appraisal with the default policy; *tier_out the EAR's tier. */
static avow_err appraise(const avow_buf *st, X509 *ak, const TPM2B_PUBLIC *bind,
                         avow_appraisal **out)
{
    avow_verifier *v = verifier();
    STACK_OF(X509) *certs = sk_X509_new_null();
    assert_non_null(certs);
    assert_true(sk_X509_push(certs, ak) > 0);
    avow_buf key = spki_of(bind);
    avow_statement_in s = {{TPM_OID, sizeof(TPM_OID)}, {st->ptr, st->len}};
    avow_statements_in in;
    avow_statements_in_init(&in);
    in.nstatements = 1;
    in.statements = &s;
    in.untrusted = certs;
    in.key.ptr = key.ptr;
    in.key.len = key.len;
    in.possession = AVOW_OK;
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_err rc = avow_appraise(v, &in, &o, out, NULL);
    avow_buf_free(&key);
    sk_X509_free(certs);
    avow_verifier_free(v);
    return rc;
}

static void test_affirming(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, NONCE, sizeof(NONCE));
    avow_statement_result *r = NULL;
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), &r), AVOW_OK);
    assert_string_equal(avow_statement_result_type_name(r), AVOW_TPM_ROW_NAME);
    assert_int_equal(avow_statement_result_key_count(r), 1);
    avow_buf key = spki_of(G->key_pub);
    assert_non_null(avow_statement_result_find_key(r, key.ptr, key.len));
    avow_view n = avow_statement_result_nonce(r);
    assert_int_equal(n.len, sizeof(NONCE));
    assert_memory_equal(n.ptr, NONCE, sizeof(NONCE));
    const avow_claimset *cs = avow_statement_result_get0_claims(r);
    const avow_nclaim *c = avow_claimset_find(cs, "key", "fixed-tpm", NULL);
    assert_non_null(c);
    assert_int_equal(c->value.integer, 1);
    c = avow_claimset_find(cs, "key", "never-extractable", NULL);
    assert_true(c != NULL && c->value.integer == 1 && c->signed_by == 1);
    avow_buf text = {0}, json = {0};
    assert_int_equal(avow_statement_result_to_text(r, &text, NULL), AVOW_OK);
    assert_non_null(strstr((const char *)text.ptr, "Verified: yes, AK from the certificate"));
    assert_non_null(strstr((const char *)text.ptr, "firmware version: 0x"));
    assert_non_null(strstr((const char *)text.ptr, "fixedTPM fixedParent sensitiveDataOrigin"));
    assert_int_equal(avow_statement_result_to_json(r, &json, NULL), AVOW_OK);
    assert_non_null(strstr((const char *)json.ptr, "\"firmware_version\""));
    assert_non_null(strstr((const char *)json.ptr, "\"clock\""));
    avow_buf_free(&text);
    avow_buf_free(&json);
    avow_statement_result_free(r);

    /* AVOW_TPM_SEED_DIR: keep the statement as a fuzz seed (fuzz/corpus/tpm/). */
    const char *seeds = getenv("AVOW_TPM_SEED_DIR");
    if (seeds != NULL) {
        char path[512];
        snprintf(path, sizeof(path), "%s/swtpm-ecdsa-stmt.der", seeds);
        assert_int_equal(avow_write_file(path, st.ptr, st.len, NULL), AVOW_OK);
    }
    avow_appraisal *a = NULL;
    assert_int_equal(appraise(&st, G->ak_cert, G->key_pub, &a), AVOW_OK);
    assert_int_equal(avow_appraisal_status(a), AVOW_OK);
    const avow_policy_report *rep = avow_appraisal_get0_report(a);
    assert_non_null(rep);
    assert_true(rep->satisfied);
    assert_int_equal(rep->nfail, 0);
    assert_int_equal(rep->npass, 5);
    avow_appraisal_free(a);
    avow_buf_free(&key);
    avow_buf_free(&st);
}

static void test_wrong_nonce(void **state)
{
    (void)state;
    NEED_TPM();
    static const uint8_t other[] = "another nonce";
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, other, sizeof(other));
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL),
                     AVOW_ERR_NONCE_MISMATCH);
    avow_appraisal *a = NULL;
    assert_int_equal(appraise(&st, G->ak_cert, G->key_pub, &a), AVOW_ERR_NOT_AFFIRMING);
    avow_appraisal_free(a);
    avow_buf_free(&st);
}

static void test_duplicable_key(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->dup, G->dup_pub, G->dup_pub, NONCE, sizeof(NONCE));
    /* The statement is true; the policy refuses the key. */
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL), AVOW_OK);
    avow_appraisal *a = NULL;
    assert_int_equal(appraise(&st, G->ak_cert, G->dup_pub, &a), AVOW_ERR_NOT_AFFIRMING);
    const avow_policy_report *rep = avow_appraisal_get0_report(a);
    assert_non_null(rep);
    assert_false(rep->satisfied);
    int not_extractable = 0;
    for (size_t i = 0; i < rep->nrules; i++)
        if (strcmp(rep->rules[i].id, "key-not-extractable") == 0)
            not_extractable = rep->rules[i].outcome == AVOW_RULE_FAIL;
    assert_true(not_extractable);
    avow_appraisal_free(a);
    avow_buf_free(&st);
}

static void test_name_mismatch(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->other_pub, NONCE, sizeof(NONCE));
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL), AVOW_ERR_TPM_NAME);
    avow_buf_free(&st);
}

static void test_untrusted_ak(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, NONCE, sizeof(NONCE));
    assert_int_equal(verify_stmt(&st, G->ak_cert_untrusted, NONCE, sizeof(NONCE), NULL),
                     AVOW_ERR_CHAIN);
    assert_int_equal(verify_stmt(&st, NULL, NONCE, sizeof(NONCE), NULL), AVOW_ERR_KEY_UNKNOWN);
    avow_buf_free(&st);
}

static void test_ak_without_eku(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, NONCE, sizeof(NONCE));
    assert_int_equal(verify_stmt(&st, G->ak_cert_no_eku, NONCE, sizeof(NONCE), NULL),
                     AVOW_ERR_AK_EKU);
    avow_buf_free(&st);
}

/*
 * The AK certificate's path goes through the verifier's chain cache: the
 * second verification under one verifier is a hit, and the TCG profile is
 * still judged on it (no EKU: refused again); a path that does not
 * validate is never cached.
 */
static void test_ak_chain_cached(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, NONCE, sizeof(NONCE));
    static const struct {
        int which;
        avow_err want;
        uint64_t hits, misses;
    } cases[] = {{0, AVOW_OK, 1, 1}, {1, AVOW_ERR_AK_EKU, 1, 1}, {2, AVOW_ERR_CHAIN, 0, 2}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *ak = cases[i].which == 0   ? G->ak_cert
                   : cases[i].which == 1 ? G->ak_cert_no_eku
                                         : G->ak_cert_untrusted;
        avow_verifier *v = verifier();
        STACK_OF(X509) *certs = sk_X509_new_null();
        assert_true(sk_X509_push(certs, ak) > 0);
        avow_verify_opts o;
        avow_verify_opts_init(&o);
        o.nonce = NONCE;
        o.nonce_len = sizeof(NONCE);
        o.untrusted = certs;
        for (int k = 0; k < 2; k++) {
            avow_statement_result *r = NULL;
            assert_int_equal(avow_statement_verify(v, NULL, TPM_OID, sizeof(TPM_OID), st.ptr,
                                                   st.len, &o, &r, NULL),
                             cases[i].want);
            avow_statement_result_free(r);
        }
        uint64_t hits = 0, misses = 0;
        avow_verifier_cache_stats(v, &hits, &misses, NULL);
        assert_int_equal(hits, cases[i].hits);
        assert_int_equal(misses, cases[i].misses);
        sk_X509_free(certs);
        avow_verifier_free(v);
    }
    avow_buf_free(&st);
}

/* Bytes changed inside the parts: the reader or the signature says so, by field. */
static void test_tampered(void **state)
{
    (void)state;
    NEED_TPM();
    avow_buf st = certify(G->key, G->key_pub, G->key_pub, NONCE, sizeof(NONCE));
    /* SEQUENCE header (4), OCTET STRING header (2 or 3): find the magic. */
    size_t m = 0;
    for (size_t i = 0; i + 4 < st.len; i++)
        if (memcmp(st.ptr + i, "\xff\x54\x43\x47", 4) == 0) {
            m = i;
            break;
        }
    assert_true(m > 0);
    st.ptr[m + 3] ^= 1;
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL), AVOW_ERR_TPM_MAGIC);
    st.ptr[m + 3] ^= 1;
    st.ptr[m + 5] ^= 0x01; /* type 0x8017 -> 0x8016 (TPM_ST_ATTEST_QUOTE... not Certify) */
    avow_err rc = verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL);
    assert_true(rc == AVOW_ERR_TPM_ATTEST_TYPE || rc == AVOW_ERR_TPM_STRUCT);
    st.ptr[m + 5] ^= 0x01;
    /* the clock (inside the signed bytes, after magic, type and the two TPM2Bs) */
    size_t signer = (size_t)(st.ptr[m + 6] << 8 | st.ptr[m + 7]);
    size_t extra = (size_t)(st.ptr[m + 8 + signer] << 8 | st.ptr[m + 9 + signer]);
    st.ptr[m + 10 + signer + extra + 7] ^= 0x01;
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL),
                     AVOW_ERR_SIG_INVALID);
    avow_buf_free(&st);
}

/*
 * The whole enrolment: a PKCS#10 request over the TPM key, its self-signature made in the
 * TPM (avow_tpm_signer_new), the statement and the AK certificate in its bundle; appraised
 * as a request with the default policy.
 */
static void test_attested_csr(void **state)
{
    (void)state;
    NEED_TPM();
    ESYS_TR h = load_key(G, G->key, G->key_pub);
    /* the library's attester this time */
    avow_buf st = {0};
    avow_diag d;
    uint8_t big[65] = {0};
    assert_int_equal(avow_tpm_certify(G->esys, h, G->ak, big, sizeof(big), &st, &d),
                     AVOW_ERR_TOO_LARGE);
    assert_int_equal(avow_tpm_certify(G->esys, h, G->ak, NONCE, sizeof(NONCE), &st, &d), AVOW_OK);
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL), AVOW_OK);
    EVP_PKEY *pub = ecc_evp(G->key_pub);
    avow_signer *sg = NULL;
    assert_int_equal(avow_tpm_signer_new(G->esys, h, pub, AVOW_SIGALG_NONE, &sg, &d), AVOW_OK);
    avow_request_builder *b = NULL;
    assert_int_equal(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b), AVOW_OK);
    assert_int_equal(avow_request_builder_set_subject(b, "CN=tpm device", &d), AVOW_OK);
    assert_int_equal(
        avow_request_builder_add_statement(b, AVOW_OID_TPM_CERTIFY, st.ptr, st.len, &d), AVOW_OK);
    assert_int_equal(avow_request_builder_add_cert(b, G->ak_cert, &d), AVOW_OK);
    avow_buf der = {0};
    assert_int_equal(avow_request_builder_sign(b, sg, &der, &d), AVOW_OK);
    avow_request_builder_free(b);
    avow_signer_free(sg);
    assert_int_equal(Esys_FlushContext(G->esys, h), TSS2_RC_SUCCESS);
    avow_request *req = NULL;
    assert_int_equal(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &req, &d),
                     AVOW_OK);
    const char *why = NULL;
    assert_int_equal(avow_request_pop(req, &why), AVOW_OK);
    avow_verifier *v = verifier();
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_appraisal *a = NULL;
    assert_int_equal(avow_appraise_request(v, req, &o, &a, &d), AVOW_OK);
    assert_int_equal(avow_appraisal_status(a), AVOW_OK);
    avow_appraisal_free(a);
    /* another nonce expected: refused */
    static const uint8_t other[] = "not the nonce";
    o.nonce = other;
    o.nonce_len = sizeof(other);
    assert_int_equal(avow_appraise_request(v, req, &o, &a, &d), AVOW_ERR_NOT_AFFIRMING);
    avow_appraisal_free(a);
    avow_verifier_free(v);
    avow_request_free(req);
    EVP_PKEY_free(pub);
    avow_buf_free(&der);
    avow_buf_free(&st);
}

/* RSA: an RSASSA AK over an RSA key (the row's RSA paths; kept last, it replaces the AK). */
static EVP_PKEY *rsa_evp(const TPM2B_PUBLIC *p)
{
    const TPM2B_PUBLIC_KEY_RSA *u = &p->publicArea.unique.rsa;
    BIGNUM *n = BN_bin2bn(u->buffer, u->size, NULL);
    BIGNUM *ex = BN_new();
    assert_true(n != NULL && ex != NULL && BN_set_word(ex, 65537));
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    assert_non_null(b);
    assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n));
    assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, ex));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;
    assert_true(params != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
                EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) == 1);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_free(n);
    BN_free(ex);
    return k;
}

static void create_rsa(TPMA_OBJECT attrs, int rsassa, TPM2B_PRIVATE **priv, TPM2B_PUBLIC **pub)
{
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC t;
    memset(&t, 0, sizeof(t));
    t.publicArea.type = TPM2_ALG_RSA;
    t.publicArea.nameAlg = TPM2_ALG_SHA256;
    t.publicArea.objectAttributes = attrs;
    TPMS_RSA_PARMS *r = &t.publicArea.parameters.rsaDetail;
    r->symmetric.algorithm = TPM2_ALG_NULL;
    if (rsassa) {
        r->scheme.scheme = TPM2_ALG_RSASSA;
        r->scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    } else {
        r->scheme.scheme = TPM2_ALG_NULL;
    }
    r->keyBits = 2048;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    assert_int_equal(Esys_Create(G->esys, G->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &sens, &t, &outside, &pcrs, priv, pub, NULL, NULL, NULL),
                     TSS2_RC_SUCCESS);
}

static void test_rsa(void **state)
{
    (void)state;
    NEED_TPM();
    TPM2B_PRIVATE *akp = NULL, *kp = NULL;
    TPM2B_PUBLIC *akpub = NULL, *kpub = NULL;
    create_rsa(TPMA_KEY | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED, 1, &akp, &akpub);
    create_rsa(TPMA_KEY | TPMA_OBJECT_SIGN_ENCRYPT, 0, &kp, &kpub);
    assert_int_equal(Esys_FlushContext(G->esys, G->ak), TSS2_RC_SUCCESS);
    G->ak = load_key(G, akp, akpub);
    EVP_PKEY *akev = rsa_evp(akpub);
    X509 *akc = tu_cert_issue("TPM RSA AK", akev, G->ca, G->ca_key, 0, TU_AK_TCG_EKU);
    avow_buf st = certify(kp, kpub, kpub, NONCE, sizeof(NONCE));
    avow_statement_result *r = NULL;
    assert_int_equal(verify_stmt(&st, akc, NONCE, sizeof(NONCE), &r), AVOW_OK);
    EVP_PKEY *kev = rsa_evp(kpub);
    avow_buf spki = tu_spki(kev);
    assert_non_null(avow_statement_result_find_key(r, spki.ptr, spki.len));
    avow_statement_result_free(r);
    /* the ECDSA AK's certificate does not fit an RSASSA signature */
    assert_int_equal(verify_stmt(&st, G->ak_cert, NONCE, sizeof(NONCE), NULL),
                     AVOW_ERR_KEY_UNKNOWN);
    avow_buf_free(&spki);
    avow_buf_free(&st);
    EVP_PKEY_free(kev);
    EVP_PKEY_free(akev);
    X509_free(akc);
    Esys_Free(akp), Esys_Free(kp), Esys_Free(akpub), Esys_Free(kpub);
}

/* ---- without a TPM ------------------------------------------------------------------------ */

/*
 * The csr-attestation appendix's sample: its statement decodes; its signature part is a bare
 * RSA signature (no TPMT_SIGNATURE), refused without guessing a scheme; the request's own
 * self-signature is the known bad one (tests/vectors/csr/README.md).
 */
static void test_published_sample(void **state)
{
    (void)state;
    avow_buf pem = tu_read_vector("csr/tcgAttestTpmCertify.pem");
    avow_request *req = NULL;
    assert_int_equal(avow_request_decode(pem.ptr, pem.len, AVOW_REQUEST_AUTO, 0, &req, NULL),
                     AVOW_OK);
    const char *why = NULL;
    assert_int_equal(avow_request_pop(req, &why), AVOW_ERR_POP);
    assert_int_equal(avow_request_statement_count(req), 1);
    const avow_statement *s = avow_request_get0_statement(req, 0);
    assert_memory_equal(s->type.ptr, TPM_OID, sizeof(TPM_OID));
    avow_buf text = {0};
    assert_int_equal(avow_statement_show(NULL, NULL, s->type.ptr, s->type.len, s->der.ptr,
                                         s->der.len, 0, &text, NULL),
                     AVOW_OK);
    assert_non_null(strstr((const char *)text.ptr, "extra data (nonce): 00ff55aa"));
    assert_non_null(strstr((const char *)text.ptr, "not a TPMT_SIGNATURE"));
    assert_non_null(strstr((const char *)text.ptr, "fixedTPM fixedParent sensitiveDataOrigin"));
    avow_buf_free(&text);

    /* The sample's certified name is the name of its TPMT_PUBLIC (checked by the row once
     * the signature is); here through the public helper on the decoded statement's parts. */
    STACK_OF(X509) *certs = avow_request_get0_certs(req);
    assert_int_equal(sk_X509_num(certs), 2);
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_equal(avow_verifier_add_anchor(v, sk_X509_value(certs, 1), NULL), AVOW_OK);
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.untrusted = certs;
    avow_statement_result *r = NULL;
    assert_int_equal(avow_statement_verify(v, NULL, s->type.ptr, s->type.len, s->der.ptr,
                                           s->der.len, &o, &r, NULL),
                     AVOW_ERR_SIG_ALG);
    avow_statement_result_free(r);
    avow_verifier_free(v);
    avow_request_free(req);
    avow_buf_free(&pem);
}

/* DER around the parts: wrong tags, four fields, trailing bytes, empty parts. */
static void test_strict_der(void **state)
{
    (void)state;
    avow_buf pem = tu_read_vector("csr/tcgAttestTpmCertify.pem");
    avow_request *req = NULL;
    assert_int_equal(avow_request_decode(pem.ptr, pem.len, AVOW_REQUEST_AUTO, 0, &req, NULL),
                     AVOW_OK);
    const avow_statement *s = avow_request_get0_statement(req, 0);
    uint8_t buf[2048];
    assert_true(s->der.len + 8 < sizeof(buf));
    avow_diag d;
    avow_buf out = {0};
    /* trailing byte after the SEQUENCE */
    memcpy(buf, s->der.ptr, s->der.len);
    buf[s->der.len] = 0;
    assert_int_not_equal(
        avow_statement_show(NULL, NULL, TPM_OID, sizeof(TPM_OID), buf, s->der.len + 1, 0, &out, &d),
        AVOW_ERR_NOMEM);
    avow_buf_free(&out);
    avow_statement_result *r = NULL;
    avow_verifier *v = NULL;
    assert_int_equal(avow_verifier_new(NULL, &v), AVOW_OK);
    assert_int_not_equal(avow_statement_verify(v, NULL, TPM_OID, sizeof(TPM_OID), buf,
                                               s->der.len + 1, NULL, &r, NULL),
                         AVOW_OK);
    avow_statement_result_free(r);
    /* the first OCTET STRING as [0] IMPLICIT */
    memcpy(buf, s->der.ptr, s->der.len);
    buf[4] = 0x80;
    assert_int_equal(
        avow_statement_verify(v, NULL, TPM_OID, sizeof(TPM_OID), buf, s->der.len, NULL, &r, NULL),
        AVOW_ERR_WRONG_TAG);
    avow_statement_result_free(r);
    /* TPMS_ATTEST one byte short: shrink its OCTET STRING (length 0x91 at [6]) and the SEQUENCE */
    assert_int_equal(s->der.ptr[5], 0x81);
    memcpy(buf, s->der.ptr, s->der.len);
    buf[6] = 0x90;
    memmove(buf + 7 + 0x90, buf + 7 + 0x91, s->der.len - (7 + 0x91));
    size_t seq = (size_t)(buf[2] << 8 | buf[3]) - 1;
    buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
    assert_int_equal(avow_statement_verify(v, NULL, TPM_OID, sizeof(TPM_OID), buf, s->der.len - 1,
                                           NULL, &r, NULL),
                     AVOW_ERR_TPM_STRUCT);
    avow_statement_result_free(r);
    avow_verifier_free(v);
    avow_request_free(req);
    avow_buf_free(&pem);
}

/* An EC key of OpenSSL's as a TPM2B_PUBLIC (coordinates at the field's length), marshalled. */
static size_t ecc_public(EVP_PKEY *pk, TPMI_ECC_CURVE curve, size_t fl, int bump_y, int x_is_p,
                         uint8_t *out, size_t cap)
{
    BIGNUM *x = NULL, *y = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
    if (bump_y)
        assert_int_equal(BN_add_word(y, 1), 1);
    if (x_is_p)
        assert_non_null(BN_copy(x, fl == 32   ? BN_get0_nist_prime_256()
                                   : fl == 48 ? BN_get0_nist_prime_384()
                                              : BN_get0_nist_prime_521()));
    TPM2B_PUBLIC p;
    memset(&p, 0, sizeof(p));
    p.publicArea.type = TPM2_ALG_ECC;
    p.publicArea.nameAlg = TPM2_ALG_SHA256;
    p.publicArea.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT;
    p.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    p.publicArea.parameters.eccDetail.curveID = curve;
    p.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    TPMS_ECC_POINT *u = &p.publicArea.unique.ecc;
    assert_int_equal(BN_bn2binpad(x, u->x.buffer, (int)fl), (int)fl);
    assert_int_equal(BN_bn2binpad(y, u->y.buffer, (int)fl), (int)fl);
    u->x.size = u->y.size = (UINT16)fl;
    BN_free(x), BN_free(y);
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, out, cap, &off), TSS2_RC_SUCCESS);
    return off;
}

/*
 * The certified key's SPKI on each NIST curve is OpenSSL's own encoding of
 * the key, and a point off the curve (y + 1) or with a coordinate of p is
 * refused: the on-curve equation and its constants are avow's, so they are
 * held against OpenSSL's keys here.
 */
static void test_ecc_spki(void **state)
{
    (void)state;
    static const struct {
        const char *group;
        TPMI_ECC_CURVE curve;
        size_t fl;
    } curves[] = {{"P-256", TPM2_ECC_NIST_P256, 32},
                  {"P-384", TPM2_ECC_NIST_P384, 48},
                  {"P-521", TPM2_ECC_NIST_P521, 66}};
    for (size_t c = 0; c < sizeof(curves) / sizeof(curves[0]); c++)
        for (int k = 0; k < 8; k++) {
            EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c].group);
            assert_non_null(pk);
            uint8_t pub[sizeof(TPM2B_PUBLIC)];
            size_t n = ecc_public(pk, curves[c].curve, curves[c].fl, 0, 0, pub, sizeof(pub));
            avow_buf spki = {0};
            assert_int_equal(avow_tpm_public_spki(pub, n, &spki, NULL), AVOW_OK);
            unsigned char *der = NULL;
            int dl = i2d_PUBKEY(pk, &der);
            assert_true(dl > 0);
            assert_int_equal(spki.len, (size_t)dl);
            assert_memory_equal(spki.ptr, der, spki.len);
            OPENSSL_free(der);
            avow_buf_free(&spki);
            avow_diag d;
            for (int bad = 0; bad < 2; bad++) {
                n = ecc_public(pk, curves[c].curve, curves[c].fl, !bad, bad, pub, sizeof(pub));
                assert_int_equal(avow_tpm_public_spki(pub, n, &spki, &d), AVOW_ERR_TPM_STRUCT);
                assert_string_equal(d.field, "tpmTPublic.unique.ecc");
                assert_non_null(strstr(d.detail, "not on"));
                assert_null(spki.ptr);
            }
            EVP_PKEY_free(pk);
        }
}

/*
 * The ECDSA r and s of a TPMT_SIGNATURE become the DER ECDSA-Sig-Value
 * OpenSSL's i2d_ECDSA_SIG writes for them: leading zeros, a set high bit,
 * a zero, the largest sizes.
 */
static void test_ecdsa_sig_der(void **state)
{
    (void)state;
    avow_buf pem = tu_read_vector("csr/tcgAttestTpmCertify.pem");
    avow_request *req = NULL;
    assert_int_equal(avow_request_decode(pem.ptr, pem.len, AVOW_REQUEST_AUTO, 0, &req, NULL),
                     AVOW_OK);
    const avow_statement *st = avow_request_get0_statement(req, 0);
    avow__tpm_certify *sample = NULL;
    assert_int_equal(avow__tpm_decode(st->der.ptr, st->der.len, &sample, NULL), AVOW_OK);
    static const struct {
        uint8_t r0, r1, s0;
        UINT16 rn, sn;
    } cases[] = {{0x00, 0x00, 0x7f, 32, 32}, {0x80, 0x01, 0xff, 32, 32},
                 {0x00, 0x80, 0x01, 1, 66},  {0x00, 0x00, 0x00, 2, 1},
                 {0xff, 0xff, 0x80, 66, 66}, {0x01, 0x00, 0x01, 128, 128}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TPMT_SIGNATURE sig;
        memset(&sig, 0, sizeof(sig));
        sig.sigAlg = TPM2_ALG_ECDSA;
        sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
        TPM2B_ECC_PARAMETER *r = &sig.signature.ecdsa.signatureR;
        TPM2B_ECC_PARAMETER *s = &sig.signature.ecdsa.signatureS;
        r->size = cases[i].rn, s->size = cases[i].sn;
        memset(r->buffer, 0x5a, r->size);
        memset(s->buffer, 0xa5, s->size);
        r->buffer[0] = cases[i].r0;
        if (r->size > 1)
            r->buffer[1] = cases[i].r1;
        s->buffer[0] = cases[i].s0;
        uint8_t sb[sizeof(sig)];
        size_t sl = 0;
        assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sb, sizeof(sb), &sl),
                         TSS2_RC_SUCCESS);
        avow_buf stmt = {0};
        assert_int_equal(avow_tpm_certify_encode(sample->attest.ptr, sample->attest.len, sb, sl,
                                                 sample->pub.ptr, sample->pub.len, &stmt, NULL),
                         AVOW_OK);
        avow__tpm_certify *t = NULL;
        assert_int_equal(avow__tpm_decode(stmt.ptr, stmt.len, &t, NULL), AVOW_OK);
        ECDSA_SIG *es = ECDSA_SIG_new();
        assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(r->buffer, r->size, NULL),
                                        BN_bin2bn(s->buffer, s->size, NULL)),
                         1);
        unsigned char *der = NULL;
        int dl = i2d_ECDSA_SIG(es, &der);
        assert_true(dl > 0);
        assert_int_equal(t->sig_len, (size_t)dl);
        assert_memory_equal(t->sig_bytes, der, t->sig_len);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        avow__tpm_free(t);
        avow_buf_free(&stmt);
    }
    avow__tpm_free(sample);
    avow_request_free(req);
    avow_buf_free(&pem);
}

int main(void)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_published_sample),
        cmocka_unit_test(test_strict_der),
        cmocka_unit_test(test_ecc_spki),
        cmocka_unit_test(test_ecdsa_sig_der),
    };
    const struct CMUnitTest tpm[] = {
        cmocka_unit_test(test_affirming),       cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_duplicable_key),  cmocka_unit_test(test_name_mismatch),
        cmocka_unit_test(test_untrusted_ak),    cmocka_unit_test(test_ak_without_eku),
        cmocka_unit_test(test_ak_chain_cached), cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_attested_csr),    cmocka_unit_test(test_rsa),
    };
    int rc = cmocka_run_group_tests_name("tpm_offline", offline, NULL, NULL);
    rc += cmocka_run_group_tests_name("tpm_swtpm", tpm, env_setup, env_teardown);
    if (RUNNING != NULL)
        swtpm_stop(RUNNING);
    return rc;
}
