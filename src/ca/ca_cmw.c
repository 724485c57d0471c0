/*
 * The CMW extension (id-pe-cmw, RFC 9999) carrying an EAR JWT: written by
 * the CA in the json choice, read strictly by the relying party in either.
 *
 *   CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }
 *   json: ["application/eat+jwt; eat_profile=\"...#03\"", "<base64url(JWT)>"]
 *   cbor: the CBOR record or tag (avow/cmw.h)
 */
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <avow/cmw.h>
#include <avow/ear.h>

#include "ca/ca_int.h"
#include "core/der.h"
#include "core/internal.h"
#include "verifier/ear_int.h"

#define TAG_UTF8STRING   0x0c
#define TAG_OCTET_STRING 0x04

avow_err avow__cmw_encode_jwt(const char *jwt, size_t len, avow_buf *der, avow_diag *diag)
{
    avow_buf text = {0};
    avow_err rc = avow_cmw_encode(AVOW_CMW_FORM_JSON, AVOW_EAR_MEDIA_TYPE_JWT, (const uint8_t *)jwt,
                                  len, 0, &text, diag);
    if (rc != AVOW_OK)
        return rc;
    size_t n = text.len;
    uint8_t hdr[2 + sizeof(size_t)]; /* tag, 0x80 | k, k <= sizeof(size_t) octets */
    size_t hl = 0;
    hdr[hl++] = TAG_UTF8STRING;
    if (n < 0x80) {
        hdr[hl++] = (uint8_t)n;
    } else {
        size_t k = 0;
        for (size_t t = n; t > 0; t >>= 8)
            k++;
        hdr[hl++] = (uint8_t)(0x80 | k);
        for (size_t i = k; i > 0; i--)
            hdr[hl++] = (uint8_t)(n >> (8 * (i - 1)));
    }
    der->ptr = OPENSSL_malloc(hl + n);
    if (der->ptr == NULL) {
        avow_buf_free(&text);
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    }
    memcpy(der->ptr, hdr, hl);
    memcpy(der->ptr + hl, text.ptr, n);
    der->len = hl + n;
    avow_buf_free(&text);
    return AVOW_OK;
}

/* The value of the one id-pe-cmw extension of cert. */
static avow_err find_cmw(const X509 *cert, const ASN1_OCTET_STRING **value, avow_diag *diag)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_CMW, 1);
    if (oid == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    int found = 0;
    for (int i = 0; i < X509_get_ext_count(cert); i++) {
        X509_EXTENSION *e = X509_get_ext(cert, i);
        if (OBJ_cmp(X509_EXTENSION_get_object(e), oid) != 0)
            continue;
        if (found++ == 0)
            *value = X509_EXTENSION_get_data(e);
    }
    ASN1_OBJECT_free(oid);
    if (found == 0)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "extensions",
                          "no CMW extension (" AVOW_OID_CMW ")");
    if (found > 1)
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, "extensions",
                          "%d CMW extensions (" AVOW_OID_CMW "); one is allowed", found);
    return AVOW_OK;
}

avow_err avow_cert_get_ear_jwt(const X509 *cert, avow_buf *jwt, avow_diag *diag)
{
    if (cert == NULL || jwt == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "", "no certificate or output");
    const ASN1_OCTET_STRING *os = NULL;
    avow_err rc = find_cmw(cert, &os, diag);
    if (rc != AVOW_OK)
        return rc;
    const uint8_t *p = ASN1_STRING_get0_data(os);
    size_t len = (size_t)ASN1_STRING_length(os);
    if (len > AVOW_CA_MAX_CMW_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "cmw", "%lu bytes, at most %u",
                          (unsigned long)len, AVOW_CA_MAX_CMW_SIZE);
    uint8_t tag = 0;
    size_t hdr = 0, body = 0;
    rc = avow__der_header(p, len, &tag, &hdr, &body);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "cmw", "the extension value is not one DER TLV");
    if (tag != TAG_UTF8STRING && tag != TAG_OCTET_STRING)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "cmw",
                          "tag 0x%02x, want UTF8String (json) or OCTET STRING (cbor)", tag);
    if (hdr + body != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, "cmw", "%lu bytes after the %s",
                          (unsigned long)(len - hdr - body),
                          tag == TAG_UTF8STRING ? "UTF8String" : "OCTET STRING");
    avow_cmw *cmw = NULL;
    rc = avow_cmw_decode(
        p + hdr, body, tag == TAG_UTF8STRING ? AVOW_CMW_FORM_JSON : AVOW_CMW_FORM_CBOR, &cmw, diag);
    if (rc == AVOW_OK)
        rc = avow_cmw_get_ear_jwt(cmw, jwt, diag);
    avow_cmw_free(cmw);
    return rc;
}

int avow__ear_has_akpub(const avow_ear *ear, const uint8_t *spki, size_t len)
{
    for (size_t i = 0; ear != NULL && i < ear->nsubmods; i++) {
        const avow_buf *k = &ear->submods[i].akpub;
        if (k->len == len && len > 0 && memcmp(k->ptr, spki, len) == 0)
            return 1;
    }
    return 0;
}

avow_err avow_cert_get_ear(X509 *cert, EVP_PKEY *ca_pub, time_t now, avow_buf *payload,
                           avow_diag *diag)
{
    if (cert == NULL || ca_pub == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "", "no certificate or issuer key");
    avow_buf jwt = {0}, json = {0};
    avow_ear *ear = NULL;
    unsigned char *spki = NULL;
    avow_err rc = avow_cert_get_ear_jwt(cert, &jwt, diag);
    if (rc == AVOW_OK)
        rc = avow_ear_verify_jwt((const char *)jwt.ptr, jwt.len, ca_pub, now, 0, &json, diag);
    if (rc == AVOW_OK)
        rc = avow_ear_from_json((const char *)json.ptr, json.len, &ear, diag);
    int spki_len = rc == AVOW_OK ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki) : 0;
    if (rc == AVOW_OK && spki_len <= 0)
        rc = avow__fail_ossl(diag, AVOW_ERR_BAD_SPKI, "subjectPublicKeyInfo", "cannot encode");
    if (rc == AVOW_OK && !avow__ear_has_akpub(ear, spki, (size_t)spki_len))
        rc = avow__fail(diag, AVOW_ERR_KEY_BINDING, "ear_veraison_key_attestation",
                        "the EAR does not name the certificate's public key");
    if (rc == AVOW_OK && payload != NULL) {
        *payload = json;
        json.ptr = NULL;
        json.len = 0;
    }
    OPENSSL_free(spki);
    avow_ear_free(ear);
    avow_buf_free(&json);
    avow_buf_free(&jwt);
    ERR_clear_error();
    return rc;
}
