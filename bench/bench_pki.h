/*
 * The test PKI of the ratio benchmarks: root, intermediate and attestation-key
 * certificates made with OpenSSL, so each benchmark builds its inputs the same way.
 */
#ifndef AVOW_BENCH_PKI_H
#define AVOW_BENCH_PKI_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline int bench_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/*
 * A certificate for key with subject "CN=cn, O=avow bench", issued by issuer
 * with ikey (self-signed when issuer is NULL), valid from an hour ago for a
 * year: a CA (basicConstraints, keyCertSign) or an attestation key with the
 * extendedKeyUsage eku (dotted). NULL on failure.
 */
static inline X509 *bench_make_cert_eku(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
                                        int ca, const char *eku, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x != NULL && name != NULL && X509_set_version(x, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                        (const unsigned char *)"avow bench", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) &&
             X509_set_subject_name(x, name) &&
             X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) != NULL &&
             X509_set_pubkey(x, key);
    X509 *iss = issuer != NULL ? issuer : x;
    if (ok && ca)
        ok = bench_add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
             bench_add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    else if (ok)
        ok = bench_add_ext(x, iss, NID_key_usage, "critical,digitalSignature") &&
             bench_add_ext(x, iss, NID_ext_key_usage, eku);
    ok = ok && bench_add_ext(x, iss, NID_subject_key_identifier, "hash") &&
         (issuer == NULL || bench_add_ext(x, iss, NID_authority_key_identifier, "keyid")) &&
         X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* bench_make_cert_eku with the default AK EKU (the PKIX Evidence profile's). */
static inline X509 *bench_make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
                                    int ca, long serial)
{
    return bench_make_cert_eku(cn, key, issuer, ikey, ca, AVOW_DEFAULT_AK_EKU, serial);
}

#endif
