/* Signing: one SignatureBlock over the DER of tbs, through any avow_signer. */
#include <string.h>

#include <openssl/x509v3.h>

#include "core/internal.h"
#include "formats/evidence_int.h"
#include <avow/signer.h>
#include <avow/x509.h>

/* RFC 5280 4.2.1.2 method 1, the key id a certificate-less signer is known by. */
static ASN1_OCTET_STRING *key_id_of(avow_signer *signer)
{
    X509 *cert = avow_signer_get0_cert(signer);
    const ASN1_OCTET_STRING *ski = cert != NULL ? X509_get0_subject_key_id(cert) : NULL;
    if (ski != NULL)
        return ASN1_OCTET_STRING_dup(ski);
    ASN1_OCTET_STRING *id = NULL;
    uint8_t md[AVOW_KEY_ID_LEN];
    if (avow_spki_key_id(avow_signer_get0_pubkey(signer), md, NULL) == AVOW_OK &&
        (id = ASN1_OCTET_STRING_new()) != NULL && !ASN1_OCTET_STRING_set(id, md, sizeof(md))) {
        ASN1_OCTET_STRING_free(id);
        id = NULL;
    }
    return id;
}

static avow_err make_sid(avow_signer *signer, avow_sid_kind kind, AVOW_SID_ASN1 *sid,
                         avow_diag *diag)
{
    switch (kind) {
    case AVOW_SID_KEYID:
        sid->key_id = key_id_of(signer);
        return sid->key_id ? AVOW_OK
                           : avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "sid.keyId", "no key id");
    case AVOW_SID_SPKI: {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(avow_signer_get0_pubkey(signer), &der);
        const unsigned char *q = der;
        sid->spki = n > 0 ? d2i_AVOW_SPKI_ASN1(NULL, &q, n) : NULL;
        OPENSSL_free(der);
        if (sid->spki == NULL)
            return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "sid.subjectPublicKeyInfo",
                                   "cannot encode key");
        return AVOW_OK;
    }
    case AVOW_SID_CERT: {
        X509 *cert = avow_signer_get0_cert(signer);
        if (cert == NULL)
            return avow__fail(diag, AVOW_ERR_ARG, "sid.certificate",
                              "the signer has no certificate");
        if (!X509_up_ref(cert))
            return AVOW_ERR_CRYPTO;
        sid->cert = cert;
        return AVOW_OK;
    }
    }
    return avow__fail(diag, AVOW_ERR_ARG, "sid", "unknown signer identifier kind %d", (int)kind);
}

avow_err avow_evidence_sign(avow_evidence *ev, avow_signer *signer, avow_sid_kind sid,
                            avow_diag *diag)
{
    if (ev == NULL || signer == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "signer", "no evidence or no signer");
    if (ev->nsigs >= AVOW_EVIDENCE_MAX_SIGNATURES)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "signatures", "limit of %u signatures",
                          AVOW_EVIDENCE_MAX_SIGNATURES);
    avow_err rc = avow__evidence_check(ev, 1, diag);
    if (rc != AVOW_OK)
        return rc;
    if (ev->tbs.ptr == NULL) {
        unsigned char *tbs = NULL;
        int n = i2d_AVOW_TBS_ASN1(ev->asn1->tbs, &tbs);
        if (n <= 0)
            return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "tbs", "cannot encode");
        if (avow__evidence_own(ev, tbs) == NULL)
            return AVOW_ERR_NOMEM;
        ev->tbs.ptr = tbs;
        ev->tbs.len = (size_t)n;
    }
    ev->frozen = 1;

    AVOW_SIG_ASN1 *sa = AVOW_SIG_ASN1_new();
    avow_buf sig = {0}, alg = {0};
    if (sa == NULL)
        return AVOW_ERR_NOMEM;
    rc = make_sid(signer, sid, sa->sid, diag);
    if (rc == AVOW_OK)
        rc = avow_sigalg_to_der(avow_signer_alg(signer), &alg);
    if (rc == AVOW_OK) {
        const unsigned char *q = alg.ptr;
        X509_ALGOR *a = d2i_X509_ALGOR(NULL, &q, (long)alg.len);
        if (a == NULL)
            rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signatureAlgorithm", "cannot encode");
        X509_ALGOR_free(sa->alg);
        sa->alg = a;
    }
    if (rc == AVOW_OK)
        rc = avow_signer_sign(signer, ev->tbs.ptr, ev->tbs.len, &sig, diag);
    if (rc == AVOW_OK && !ASN1_OCTET_STRING_set(sa->value, sig.ptr, (int)sig.len))
        rc = AVOW_ERR_NOMEM;
    if (rc == AVOW_OK && !sk_AVOW_SIG_ASN1_push(ev->asn1->sigs, sa))
        rc = AVOW_ERR_NOMEM;
    avow_buf_free(&sig);
    avow_buf_free(&alg);
    if (rc != AVOW_OK) {
        AVOW_SIG_ASN1_free(sa);
        avow__ossl_clear();
        return rc;
    }
    rc = avow__evidence_index(ev, diag);
    avow__ossl_clear();
    return rc;
}
