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

/* What the caller asked for, before anything is frozen or signed. */
static avow_err sid_args(avow_signer *signer, unsigned fields, avow_diag *diag)
{
    if (fields == 0 || (fields & ~(unsigned)AVOW_SID_ALL) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "sid",
                          "signer identifier fields 0x%x: give one or more of AVOW_SID_HAS_KEYID, "
                          "AVOW_SID_HAS_SPKI and AVOW_SID_HAS_CERT",
                          fields);
    if ((fields & AVOW_SID_HAS_CERT) && avow_signer_get0_cert(signer) == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "sid.certificate", "the signer has no certificate");
    return AVOW_OK;
}

static avow_err make_sid(avow_evidence *ev, avow_signer *signer, unsigned fields,
                         AVOW_SID_ASN1 *sid, avow_diag *diag)
{
    X509 *cert = avow_signer_get0_cert(signer);
    if (fields & AVOW_SID_HAS_KEYID) {
        sid->key_id = key_id_of(signer);
        if (sid->key_id == NULL)
            return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "sid.keyId", "no key id");
    }
    if (fields & AVOW_SID_HAS_SPKI) {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(avow_signer_get0_pubkey(signer), &der);
        const unsigned char *q = der;
        sid->spki = n > 0 ? d2i_AVOW_SPKI_ASN1(NULL, &q, n) : NULL;
        OPENSSL_free(der);
        if (sid->spki == NULL)
            return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "sid.subjectPublicKeyInfo",
                                   "cannot encode key");
    }
    if (fields & AVOW_SID_HAS_CERT) {
        /* Refused before signing, as the decoder would refuse it afterwards. */
        AVOW_RAW *r = NULL;
        avow_err rc = avow__evidence_cert_raw(ev, cert, "sid.certificate", &r, diag);
        if (rc != AVOW_OK)
            return rc;
        sid->cert = *r;
        OPENSSL_free(r);
    }
    return AVOW_OK;
}

avow_err avow_evidence_sign(avow_evidence *ev, avow_signer *signer, avow_sid_kind sid,
                            avow_diag *diag)
{
    if ((unsigned)sid > (unsigned)AVOW_SID_CERT)
        return avow__fail(diag, AVOW_ERR_ARG, "sid", "unknown signer identifier kind %d", (int)sid);
    return avow_evidence_sign_sid(ev, signer, AVOW_SID_FIELD(sid), diag);
}

avow_err avow_evidence_sign_sid(avow_evidence *ev, avow_signer *signer, unsigned sid_fields,
                                avow_diag *diag)
{
    if (ev == NULL || signer == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "signer", "no evidence or no signer");
    if (ev->nsigs >= AVOW_EVIDENCE_MAX_SIGNATURES)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "signatures", "limit of %u signatures",
                          AVOW_EVIDENCE_MAX_SIGNATURES);
    avow_err rc = sid_args(signer, sid_fields, diag);
    if (rc == AVOW_OK)
        rc = avow__evidence_check(ev, 1, diag);
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
    rc = make_sid(ev, signer, sid_fields, sa->sid, diag);
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
    if (rc != AVOW_OK) {
        /* The block the rules refuse is taken back, as every builder change is. */
        AVOW_SIG_ASN1_free(sk_AVOW_SIG_ASN1_pop(ev->asn1->sigs));
        avow__evidence_index(ev, NULL);
    }
    avow__ossl_clear();
    return rc;
}
