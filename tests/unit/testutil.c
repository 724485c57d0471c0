#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

avow_buf tu_read_vector(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", AVOW_VECTORS, rel);
    avow_buf b = {0};
    avow_diag d = {0};
    avow_err rc = avow_read_file(path, 1u << 20, &b, &d);
    if (rc != AVOW_OK)
        fail_msg("cannot read %s: %s", path, d.detail);
    return b;
}

X509 *tu_load_cert(const char *rel)
{
    avow_buf b = tu_read_vector(rel);
    X509 *x = NULL;
    BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
    assert_non_null(bio);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (x == NULL) {
        ERR_clear_error();
        const unsigned char *p = b.ptr;
        x = d2i_X509(NULL, &p, (long)b.len);
    }
    avow_buf_free(&b);
    assert_non_null(x);
    return x;
}

EVP_PKEY *tu_key_ec(const char *group)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
    assert_non_null(k);
    return k;
}

EVP_PKEY *tu_key_rsa(unsigned bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    assert_non_null(k);
    return k;
}

EVP_PKEY *tu_key_rsa_pss(unsigned bits)
{
    /* EVP_PKEY_Q_keygen takes a size only for "RSA". */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *k = NULL;
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits), 1);
    assert_int_equal(EVP_PKEY_generate(ctx, &k), 1);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

EVP_PKEY *tu_key_ed25519(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(k);
    return k;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

X509 *tu_cert_issue(const char *cn, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key,
                    int ca, unsigned ak_flags)
{
    static long serial = 1; /* tests are single-threaded */
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    X509_NAME *name = X509_NAME_new();
    assert_non_null(name);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                (const unsigned char *)"avow tests", -1, -1, 0),
                     1);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name),
                     1);
    X509_NAME_free(name);
    long day = 24L * 3600;
    if (ak_flags & TU_AK_EXPIRED) {
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -30 * day));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), -day));
    } else {
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -day));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 30 * day));
    }
    assert_int_equal(X509_set_pubkey(x, subject_key), 1);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    if (ca) {
        add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    } else {
        if (ak_flags & TU_AK_NO_DS)
            add_ext(x, &ctx, NID_key_usage, "critical,keyEncipherment");
        else if (!(ak_flags & TU_AK_NO_KU))
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
        if (ak_flags & TU_AK_OTHER_EKU)
            add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
        else if (ak_flags & TU_AK_TCG_EKU)
            add_ext(x, &ctx, NID_ext_key_usage, "2.23.133.8.3");
        else if (!(ak_flags & TU_AK_NO_EKU))
            add_ext(x, &ctx, NID_ext_key_usage, AVOW_DEFAULT_AK_EKU);
        if (!(ak_flags & TU_AK_NO_SKI))
            add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    }
    if (issuer != NULL)
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    /* Ed25519, ML-DSA and SLH-DSA sign the whole TBSCertificate: no digest. */
    avow_sigalg ia = AVOW_SIGALG_NONE;
    int one_shot = avow_sigalg_for_key(issuer_key, 0, &ia) == AVOW_OK &&
                   avow_sigalg_info(ia)->hash == AVOW_HASH_NONE;
    assert_true(X509_sign(x, issuer_key, one_shot ? NULL : EVP_sha256()) > 0);
    return x;
}

void tu_pki_make(tu_pki *p, EVP_PKEY *ak_key, unsigned ak_flags)
{
    memset(p, 0, sizeof(*p));
    p->ca_key = tu_key_ec("P-256");
    p->int_key = tu_key_ec("P-256");
    if (ak_key != NULL) {
        assert_int_equal(EVP_PKEY_up_ref(ak_key), 1);
        p->ak_key = ak_key;
    } else {
        p->ak_key = tu_key_ec("P-256");
    }
    p->ca = tu_cert_issue("Test Root CA", p->ca_key, NULL, p->ca_key, 1, 0);
    p->inter = tu_cert_issue("Test Intermediate CA", p->int_key, p->ca, p->ca_key, 1, 0);
    p->ak = tu_cert_issue("Test AK", p->ak_key, p->inter, p->int_key, 0, ak_flags);
}

void tu_pki_free(tu_pki *p)
{
    X509_free(p->ak);
    X509_free(p->inter);
    X509_free(p->ca);
    EVP_PKEY_free(p->ak_key);
    EVP_PKEY_free(p->int_key);
    EVP_PKEY_free(p->ca_key);
    memset(p, 0, sizeof(*p));
}

avow_buf tu_spki(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    assert_true(n > 0);
    avow_buf b = {0};
    b.ptr = OPENSSL_malloc((size_t)n);
    assert_non_null(b.ptr);
    memcpy(b.ptr, der, (size_t)n);
    b.len = (size_t)n;
    OPENSSL_free(der);
    return b;
}

time_t tu_utc(int year, int mon, int day, int hour, int min, int sec)
{
    /* Days from civil (Howard Hinnant): timegm is not POSIX. */
    int y = year - (mon <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = (long)era * 146097 + doe - 719468;
    return (time_t)(days * 86400L + hour * 3600L + min * 60L + sec);
}
