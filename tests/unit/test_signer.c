/*
 * avow_signer: the software back end for every key type, PSS parameters
 * that match avow_sigalg_to_der, certificates, and the ops-table contract a
 * hardware back end relies on (ownership of impl, error queue hygiene), and
 * avow_signer_open on key files (token keys: test_pkcs11.c).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static const uint8_t MSG[] = "to be signed";

static void sign_and_check(EVP_PKEY *key, avow_sigalg want_alg, avow_sigalg ask)
{
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(key, ask, &s, NULL), AVOW_OK);
    assert_int_equal(avow_signer_alg(s), want_alg);
    assert_ptr_equal(avow_signer_get0_pubkey(s), key);
    assert_null(avow_signer_get0_cert(s));
    assert_null(avow_signer_get0_chain(s));
    avow_buf sig = {0};
    avow_diag d = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, &d), AVOW_OK);
    assert_non_null(sig.ptr);
    assert_int_equal(avow_sigalg_verify(want_alg, avow_signer_get0_pubkey(s), MSG, sizeof(MSG),
                                        sig.ptr, sig.len, &d),
                     AVOW_OK);
    avow_buf_free(&sig);
    avow_signer_free(s);
    TU_NO_OSSL_ERR();
}

static void test_software_every_key(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256"), *p384 = tu_key_ec("P-384"), *p521 = tu_key_ec("P-521");
    EVP_PKEY *ed = tu_key_ed25519(), *rsa = tu_key_rsa(2048), *pss = tu_key_rsa_pss(2048);
    sign_and_check(p256, AVOW_SIGALG_ECDSA_SHA256, AVOW_SIGALG_NONE);
    sign_and_check(p384, AVOW_SIGALG_ECDSA_SHA384, AVOW_SIGALG_NONE);
    sign_and_check(p521, AVOW_SIGALG_ECDSA_SHA512, AVOW_SIGALG_NONE);
    sign_and_check(p256, AVOW_SIGALG_ECDSA_SHA384, AVOW_SIGALG_ECDSA_SHA384);
    sign_and_check(ed, AVOW_SIGALG_ED25519, AVOW_SIGALG_NONE);
    sign_and_check(rsa, AVOW_SIGALG_RSA_PKCS1_SHA256, AVOW_SIGALG_NONE);
    sign_and_check(rsa, AVOW_SIGALG_RSA_PKCS1_SHA512, AVOW_SIGALG_RSA_PKCS1_SHA512);
    sign_and_check(rsa, AVOW_SIGALG_RSA_PSS_SHA256, AVOW_SIGALG_RSA_PSS_SHA256);
    sign_and_check(rsa, AVOW_SIGALG_RSA_PSS_SHA512, AVOW_SIGALG_RSA_PSS_SHA512);
    sign_and_check(pss, AVOW_SIGALG_RSA_PSS_SHA256, AVOW_SIGALG_NONE);
    sign_and_check(pss, AVOW_SIGALG_RSA_PSS_SHA384, AVOW_SIGALG_RSA_PSS_SHA384);

    /* The PSS salt is exactly the hash length, as the AlgorithmIdentifier says. */
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(rsa, AVOW_SIGALG_RSA_PSS_SHA384, &s, NULL), AVOW_OK);
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, NULL), AVOW_OK);
    for (int salt = 47; salt <= 49; salt++) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha384(), NULL, rsa), 1);
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
        assert_int_equal(EVP_DigestVerify(ctx, sig.ptr, sig.len, MSG, sizeof(MSG)) == 1,
                         salt == 48);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
    }
    avow_buf_free(&sig);
    avow_signer_free(s);

    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(pss);
}

static void test_software_rejects(void **state)
{
    (void)state;
    EVP_PKEY *p256 = tu_key_ec("P-256"), *pss = tu_key_rsa_pss(2048);
    avow_signer *s = (avow_signer *)&s;
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_RSA_PKCS1_SHA256, &s, NULL),
                     AVOW_ERR_ALG_MISMATCH);
    assert_null(s);
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_ED25519, &s, NULL),
                     AVOW_ERR_ALG_MISMATCH);
    assert_int_equal(avow_signer_new_pkey(pss, AVOW_SIGALG_RSA_PKCS1_SHA256, &s, NULL),
                     AVOW_ERR_ALG_MISMATCH);
    assert_int_equal(avow_signer_new_pkey(p256, (avow_sigalg)55, &s, NULL), AVOW_ERR_SIG_ALG);
    assert_int_equal(avow_signer_new_pkey(NULL, AVOW_SIGALG_NONE, &s, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_new_pkey(p256, AVOW_SIGALG_NONE, NULL, NULL), AVOW_ERR_ARG);
    EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    assert_int_equal(avow_signer_new_pkey(x25519, AVOW_SIGALG_NONE, &s, NULL),
                     AVOW_ERR_UNSUPPORTED);
    EVP_PKEY_free(x25519);
    TU_NO_OSSL_ERR();

    /* A public key alone cannot sign: the failure is reported and the queue drained. */
    avow_buf spki = tu_spki(p256);
    const unsigned char *p = spki.ptr;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
    assert_non_null(pub);
    assert_int_equal(avow_signer_new_pkey(pub, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);
    avow_buf sig = {(uint8_t *)"x", 1};
    avow_diag d = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, &d), AVOW_ERR_CRYPTO);
    assert_null(sig.ptr);
    assert_int_equal(d.code, AVOW_ERR_CRYPTO);
    TU_NO_OSSL_ERR();
    assert_int_equal(avow_signer_sign(NULL, MSG, sizeof(MSG), &sig, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_sign(s, NULL, 5, &sig, &d), AVOW_ERR_ARG);
    avow_signer_free(s);
    avow_signer_free(NULL);
    EVP_PKEY_free(pub);
    avow_buf_free(&spki);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(pss);
}

static void test_set1_cert(void **state)
{
    (void)state;
    tu_pki pki;
    tu_pki_make(&pki, NULL, 0);
    avow_signer *s = NULL;
    assert_int_equal(avow_signer_new_pkey(pki.ak_key, AVOW_SIGALG_NONE, &s, NULL), AVOW_OK);

    /* A certificate for a different key is refused. */
    assert_int_equal(avow_signer_set1_cert(s, pki.inter, NULL), AVOW_ERR_ARG);
    assert_null(avow_signer_get0_cert(s));
    TU_NO_OSSL_ERR();

    STACK_OF(X509) *chain = sk_X509_new_null();
    assert_non_null(chain);
    assert_int_equal(sk_X509_push(chain, pki.inter), 1);
    assert_int_equal(avow_signer_set1_cert(s, pki.ak, chain), AVOW_OK);
    sk_X509_free(chain); /* the signer has its own stack and references */
    assert_ptr_equal(avow_signer_get0_cert(s), pki.ak);
    assert_int_equal(sk_X509_num(avow_signer_get0_chain(s)), 1);
    assert_ptr_equal(sk_X509_value(avow_signer_get0_chain(s), 0), pki.inter);

    /* Setting again replaces both; no chain is fine. */
    assert_int_equal(avow_signer_set1_cert(s, pki.ak, NULL), AVOW_OK);
    assert_null(avow_signer_get0_chain(s));
    assert_int_equal(avow_signer_set1_cert(NULL, pki.ak, NULL), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_set1_cert(s, NULL, NULL), AVOW_ERR_ARG);

    /* Every reference the signer took survives the caller freeing theirs. */
    X509 *ak = pki.ak;
    assert_int_equal(X509_up_ref(ak), 1);
    tu_pki_free(&pki);
    assert_ptr_equal(avow_signer_get0_cert(s), ak);
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, NULL), AVOW_OK);
    assert_int_equal(avow_sigalg_verify(avow_signer_alg(s), X509_get0_pubkey(ak), MSG, sizeof(MSG),
                                        sig.ptr, sig.len, NULL),
                     AVOW_OK);
    avow_buf_free(&sig);
    avow_signer_free(s);
    X509_free(ak);
    TU_NO_OSSL_ERR();
}

/* A stand-in hardware back end: signs with a key it keeps, counts calls. */
typedef struct fake_hsm {
    EVP_PKEY *key;
    int signs, frees, fail;
} fake_hsm;

static avow_err fake_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                          avow_buf *sig, avow_diag *diag)
{
    fake_hsm *h = impl;
    h->signs++;
    if (h->fail) {
        /* A sloppy back end: leaves an OpenSSL error behind and a half-made buffer. */
        ERR_raise(ERR_LIB_EVP, ERR_R_INTERNAL_ERROR);
        sig->ptr = OPENSSL_malloc(4);
        sig->len = 4;
        (void)diag;
        return AVOW_ERR_PKCS11;
    }
    avow_signer *inner = NULL;
    avow_err rc = avow_signer_new_pkey(h->key, alg, &inner, NULL);
    if (rc == AVOW_OK)
        rc = avow_signer_sign(inner, data, len, sig, diag);
    avow_signer_free(inner);
    return rc;
}

static void fake_free(void *impl)
{
    ((fake_hsm *)impl)->frees++;
}

static void test_backend_ops(void **state)
{
    (void)state;
    fake_hsm h = {tu_key_ec("P-384"), 0, 0, 0};
    /* Only the public half goes to the signer, as with a token. */
    avow_buf spki = tu_spki(h.key);
    const unsigned char *p = spki.ptr;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
    avow_buf_free(&spki);
    avow_signer_ops ops = {sizeof(avow_signer_ops), "fake", fake_sign, fake_free};

    avow_signer *s = NULL;
    /* On failure impl stays the caller's: free is not called. */
    assert_int_equal(avow_signer_new(&ops, &h, pub, AVOW_SIGALG_RSA_PSS_SHA256, &s),
                     AVOW_ERR_ALG_MISMATCH);
    assert_null(s);
    assert_int_equal(h.frees, 0);
    avow_signer_ops no_sign = {sizeof(avow_signer_ops), "broken", NULL, fake_free};
    assert_int_equal(avow_signer_new(&no_sign, &h, pub, AVOW_SIGALG_NONE, &s), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_new(&ops, &h, NULL, AVOW_SIGALG_NONE, &s), AVOW_ERR_ARG);

    assert_int_equal(avow_signer_new(&ops, &h, pub, AVOW_SIGALG_NONE, &s), AVOW_OK);
    EVP_PKEY_free(pub); /* the signer took its own reference */
    assert_int_equal(avow_signer_alg(s), AVOW_SIGALG_ECDSA_SHA384);
    memset(&ops, 0, sizeof(ops)); /* the table was copied */
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, NULL), AVOW_OK);
    assert_int_equal(h.signs, 1);
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_ECDSA_SHA384, avow_signer_get0_pubkey(s), MSG,
                                        sizeof(MSG), sig.ptr, sig.len, NULL),
                     AVOW_OK);
    avow_buf_free(&sig);

    h.fail = 1;
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, NULL), AVOW_ERR_PKCS11);
    assert_null(sig.ptr);
    assert_int_equal(sig.len, 0);
    TU_NO_OSSL_ERR();

    avow_signer_free(s);
    assert_int_equal(h.frees, 1);
    EVP_PKEY_free(h.key);
}

/* Writes key to path as `type` ("PEM"/"DER") in `structure` ("PrivateKeyInfo", "type-specific"). */
static void write_key(const char *path, EVP_PKEY *key, int selection, const char *type,
                      const char *structure)
{
    OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(key, selection, type, structure, NULL);
    assert_non_null(ctx);
    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
    OSSL_ENCODER_CTX_free(ctx);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    OPENSSL_free(data);
}

/* Opens path and checks that the signer signs under want with key's public half. */
static void open_and_sign(const char *path, const avow_signer_open_opts *o, EVP_PKEY *key,
                          avow_sigalg want)
{
    avow_signer *s = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_signer_open(path, o, &s, &d);
    if (rc != AVOW_OK)
        fail_msg("%s: %s (%s: %s)", path, avow_errname(rc), d.field, d.detail);
    TU_NO_OSSL_ERR();
    assert_int_equal(avow_signer_alg(s), want);
    assert_int_equal(EVP_PKEY_eq(avow_signer_get0_pubkey(s), key), 1);
    assert_null(avow_signer_get0_cert(s));
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(s, MSG, sizeof(MSG), &sig, &d), AVOW_OK);
    assert_int_equal(avow_sigalg_verify(want, key, MSG, sizeof(MSG), sig.ptr, sig.len, &d),
                     AVOW_OK);
    avow_buf_free(&sig);
    avow_signer_free(s);
}

static void test_open_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/avow-signer-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    EVP_PKEY *ec = tu_key_ec("P-384"), *rsa = tu_key_rsa(2048), *ed = tu_key_ed25519();
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    assert_int_equal(o.size, sizeof(o));
    assert_int_equal(o.alg, AVOW_SIGALG_NONE);

    /* PKCS#8 PEM, PKCS#8 DER and the traditional (SEC 1, PKCS#1) forms. */
    snprintf(path, sizeof(path), "%s/ec.pem", dir);
    write_key(path, ec, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo");
    open_and_sign(path, &o, ec, AVOW_SIGALG_ECDSA_SHA384);
    open_and_sign(path, NULL, ec, AVOW_SIGALG_ECDSA_SHA384);
    snprintf(path, sizeof(path), "%s/ec.der", dir);
    write_key(path, ec, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo");
    open_and_sign(path, &o, ec, AVOW_SIGALG_ECDSA_SHA384);
    snprintf(path, sizeof(path), "%s/rsa.pem", dir);
    write_key(path, rsa, EVP_PKEY_KEYPAIR, "PEM", "type-specific");
    open_and_sign(path, &o, rsa, AVOW_SIGALG_RSA_PKCS1_SHA256);
    o.pss = 1;
    open_and_sign(path, &o, rsa, AVOW_SIGALG_RSA_PSS_SHA256);
    o.alg = AVOW_SIGALG_RSA_PKCS1_SHA512; /* an explicit algorithm wins over pss */
    open_and_sign(path, &o, rsa, AVOW_SIGALG_RSA_PKCS1_SHA512);
    avow_signer_open_opts_init(&o);
    snprintf(path, sizeof(path), "%s/ed.der", dir);
    write_key(path, ed, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo");
    open_and_sign(path, &o, ed, AVOW_SIGALG_ED25519);

    avow_signer *s = NULL;
    avow_diag d;
    /* An algorithm the key cannot sign with. */
    o.alg = AVOW_SIGALG_RSA_PSS_SHA256;
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_ALG_MISMATCH);
    assert_null(s);
    o.alg = (avow_sigalg)999;
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_SIG_ALG);
    avow_signer_open_opts_init(&o);

    /* A public key, a certificate or junk is no private key. */
    snprintf(path, sizeof(path), "%s/pub.pem", dir);
    write_key(path, ec, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo");
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_MALFORMED);
    assert_string_equal(d.field, path);
    assert_non_null(strstr(d.detail, "no unencrypted private key"));
    TU_NO_OSSL_ERR();
    snprintf(path, sizeof(path), "%s/junk", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_MALFORMED);
    TU_NO_OSSL_ERR();
    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_IO);
    assert_null(s);

    /* Arguments and options. */
    assert_int_equal(avow_signer_open(NULL, &o, &s, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_open("", &o, &s, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_signer_open(path, &o, NULL, &d), AVOW_ERR_ARG);
    avow_signer_open_opts bad = {0};
    assert_int_equal(avow_signer_open(path, &bad, &s, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "opts.size");
    o.flags = 1u << 7;
    assert_int_equal(avow_signer_open(path, &o, &s, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "opts.flags");
    /* A pkcs11: URI is a token key, never a file of that name: it needs a module. */
    avow_signer_open_opts_init(&o);
    avow_err want = AVOW_WITH_PKCS11 ? AVOW_ERR_ARG : AVOW_ERR_UNSUPPORTED;
    assert_int_equal(avow_signer_open("pkcs11:token=t;object=k", &o, &s, &d), want);
    assert_null(s);

    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ed);
    TU_NO_OSSL_ERR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_software_every_key), cmocka_unit_test(test_software_rejects),
        cmocka_unit_test(test_set1_cert),          cmocka_unit_test(test_backend_ops),
        cmocka_unit_test(test_open_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
