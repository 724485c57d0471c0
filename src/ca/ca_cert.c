/*
 * Certificates signed through an avow_signer: the TBSCertificate is made
 * with OpenSSL, its DER signed by the signer (the private key may stay in
 * a token), and the Certificate assembled as DER and parsed back, so the
 * object handed out is exactly the bytes that were signed.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca/ca_int.h"
#include "core/internal.h"

/* Appends the DER length of n. */
static size_t der_len_bytes(size_t n, uint8_t out[9])
{
    if (n < 0x80) {
        out[0] = (uint8_t)n;
        return 1;
    }
    uint8_t tmp[8];
    size_t k = 0;
    while (n > 0) {
        tmp[k++] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
    out[0] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        out[1 + i] = tmp[k - 1 - i];
    return 1 + k;
}

avow_err avow__ca_set_serial(X509 *x, avow_diag *diag)
{
    uint8_t b[AVOW_CA_SERIAL_LEN];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "serial", "RAND_bytes failed");
    b[0] &= 0x7f; /* positive */
    b[0] |= 0x40; /* and exactly 16 bytes long */
    BIGNUM *bn = BN_bin2bn(b, (int)sizeof(b), NULL);
    ASN1_INTEGER *ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = ai != NULL && X509_set_serialNumber(x, ai) == 1;
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    if (!ok)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "serial", "cannot set the serial number");
    return AVOW_OK;
}

avow_err avow__ca_set_validity(X509 *x, time_t now, unsigned days, avow_diag *diag)
{
    if (days == 0 || days > AVOW_CA_MAX_DAYS)
        return avow__fail(diag, AVOW_ERR_ARG, "days", "validity of %u days is not 1..%u", days,
                          AVOW_CA_MAX_DAYS);
    if (ASN1_TIME_set(X509_getm_notBefore(x), now - AVOW_CA_LEEWAY) == NULL ||
        ASN1_TIME_adj(X509_getm_notAfter(x), now, (int)days, 0) == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "validity", "cannot set the validity");
    return AVOW_OK;
}

avow_err avow__ca_add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
                               avow_diag *diag)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    if (!ok)
        return avow__fail_ossl(diag, AVOW_ERR_ARG, OBJ_nid2sn(nid), "cannot add \"%s\"", value);
    return AVOW_OK;
}

avow_err avow__ca_sign(X509 *x, avow_signer *signer, X509 **out, avow_diag *diag)
{
    avow_buf algder = {0}, sig = {0};
    unsigned char *tbs = NULL;
    uint8_t *cert = NULL;
    X509_ALGOR *alg = NULL;
    avow_err rc = avow_sigalg_to_der(avow_signer_alg(signer), &algder);
    if (rc != AVOW_OK) {
        rc = avow__fail(diag, rc, "signature", "no AlgorithmIdentifier for the signer's algorithm");
        goto done;
    }
    const unsigned char *ap = algder.ptr;
    alg = d2i_X509_ALGOR(NULL, &ap, (long)algder.len);
    /* OpenSSL 3.0 has no setter for the TBSCertificate's signature field: copy into it. */
    X509_ALGOR *tbs_alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
    if (alg == NULL || X509_ALGOR_copy(tbs_alg, alg) != 1) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signature", "cannot set the algorithm");
        goto done;
    }
    int tbs_len = i2d_re_X509_tbs(x, &tbs);
    if (tbs_len <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "tbsCertificate", "cannot encode");
        goto done;
    }
    rc = avow_signer_sign(signer, tbs, (size_t)tbs_len, &sig, diag);
    if (rc != AVOW_OK)
        goto done;
    /* Certificate ::= SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING (0 unused bits) } */
    uint8_t bl[9], sl[9];
    size_t bln = der_len_bytes(sig.len + 1, bl);
    size_t body = (size_t)tbs_len + algder.len + 1 + bln + sig.len + 1;
    size_t sln = der_len_bytes(body, sl);
    size_t total = 1 + sln + body;
    cert = OPENSSL_malloc(total);
    if (cert == NULL) {
        rc = avow__fail(diag, AVOW_ERR_NOMEM, "certificate", "out of memory");
        goto done;
    }
    uint8_t *w = cert;
    *w++ = 0x30;
    memcpy(w, sl, sln), w += sln;
    memcpy(w, tbs, (size_t)tbs_len), w += tbs_len;
    memcpy(w, algder.ptr, algder.len), w += algder.len;
    *w++ = 0x03;
    memcpy(w, bl, bln), w += bln;
    *w++ = 0x00;
    memcpy(w, sig.ptr, sig.len);
    const unsigned char *cp = cert;
    X509 *made = d2i_X509(NULL, &cp, (long)total);
    if (made == NULL || cp != cert + total) {
        X509_free(made);
        rc = avow__fail_ossl(diag, AVOW_ERR_INTERNAL, "certificate",
                             "signed certificate does not parse");
        goto done;
    }
    /* The signer's signature must verify under its own public key. */
    if (X509_verify(made, avow_signer_get0_pubkey(signer)) != 1) {
        X509_free(made);
        rc = avow__fail_ossl(
            diag, AVOW_ERR_SIG_INVALID, "signature",
            "the signer's certificate signature does not verify under its public key");
        goto done;
    }
    *out = made;
done:
    OPENSSL_free(cert);
    OPENSSL_free(tbs);
    X509_ALGOR_free(alg);
    avow_buf_free(&sig);
    avow_buf_free(&algder);
    return rc;
}

avow_err avow_ca_make_root(avow_signer *signer, const char *subject, unsigned days, time_t now,
                           X509 **out, avow_diag *diag)
{
    if (signer == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "", "no signer or output");
    if (now == 0)
        now = time(NULL);
    if (days == 0)
        days = AVOW_CA_DEFAULT_ROOT_DAYS;
    X509_NAME *name = NULL;
    X509 *x = X509_new();
    if (x == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "", "out of memory");
    avow_err rc = avow_name_parse(subject != NULL ? subject : "CN=avow CA", &name, diag);
    if (rc == AVOW_OK &&
        (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, name) != 1 ||
         X509_set_issuer_name(x, name) != 1 ||
         X509_set_pubkey(x, avow_signer_get0_pubkey(signer)) != 1))
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certificate", "cannot fill the certificate");
    if (rc == AVOW_OK)
        rc = avow__ca_set_serial(x, diag);
    if (rc == AVOW_OK)
        rc = avow__ca_set_validity(x, now, days, diag);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if (rc == AVOW_OK)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:TRUE", diag);
    if (rc == AVOW_OK)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_key_usage,
                                   "critical,digitalSignature,keyCertSign,cRLSign", diag);
    if (rc == AVOW_OK)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_subject_key_identifier, "hash", diag);
    if (rc == AVOW_OK)
        rc = avow__ca_sign(x, signer, out, diag);
    X509_NAME_free(name);
    X509_free(x);
    ERR_clear_error();
    return rc;
}
