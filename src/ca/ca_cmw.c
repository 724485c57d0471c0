/*
 * The CMW extension (id-pe-cmw, draft-ietf-rats-msg-wrap) carrying an EAR
 * JWT: written by the CA, read strictly by the relying party.
 *
 *   CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }
 *   json: ["application/eat-jwt; eat_profile=\"...#03\"", "<base64url(JWT)>"]
 */
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <avow/ear.h>

#include "ca/ca_int.h"
#include "core/der.h"
#include "core/internal.h"
#include "verifier/ear_int.h"

#define TAG_UTF8STRING   0x0c
#define TAG_OCTET_STRING 0x04

avow_err avow__cmw_encode_jwt(const char *jwt, size_t len, avow_buf *der, avow_diag *diag)
{
    char *b64 = avow__b64url_encode((const uint8_t *)jwt, len);
    json_t *rec = b64 != NULL ? json_pack("[ss]", AVOW_EAR_MEDIA_TYPE_JWT, b64) : NULL;
    char *text = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    OPENSSL_free(b64);
    if (text == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "cannot encode the CMW record");
    size_t n = strlen(text);
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
        free(text);
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    }
    memcpy(der->ptr, hdr, hl);
    memcpy(der->ptr + hl, text, n);
    der->len = hl + n;
    free(text);
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
    if (tag == TAG_OCTET_STRING)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "cmw",
                          "CBOR CMW (cbor choice) is not supported");
    if (tag != TAG_UTF8STRING)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "cmw",
                          "tag 0x%02x, want UTF8String (json) or OCTET STRING (cbor)", tag);
    if (hdr + body != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, "cmw", "%lu bytes after the UTF8String",
                          (unsigned long)(len - hdr - body));
    json_error_t jerr;
    json_t *rec = json_loadb((const char *)p + hdr, body, JSON_REJECT_DUPLICATES, &jerr);
    if (rec == NULL)
        return avow__fail(diag, AVOW_ERR_JSON, "cmw", "not JSON: %s", jerr.text);
    size_t n = json_is_array(rec) ? json_array_size(rec) : 0;
    json_t *type = json_array_get(rec, 0), *val = json_array_get(rec, 1);
    if ((n != 2 && n != 3) || !json_is_string(type) || !json_is_string(val) ||
        (n == 3 && !json_is_integer(json_array_get(rec, 2)))) {
        json_decref(rec);
        return avow__fail(diag, AVOW_ERR_MALFORMED, "cmw",
                          "not a JSON CMW record [type, value(, indicator)]");
    }
    if (strcmp(json_string_value(type), AVOW_EAR_MEDIA_TYPE_JWT) != 0) {
        rc = avow__fail(diag, AVOW_ERR_UNSUPPORTED, "cmw[0]", "media type \"%.120s\", want %s",
                        json_string_value(type), AVOW_EAR_MEDIA_TYPE_JWT);
        json_decref(rec);
        return rc;
    }
    avow_buf raw = {0};
    rc = avow__b64url_decode(json_string_value(val), json_string_length(val), &raw);
    json_decref(rec);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "cmw[1]", "value is not base64url");
    if (raw.len == 0 || memchr(raw.ptr, 0, raw.len) != NULL) {
        avow_buf_free(&raw);
        return avow__fail(diag, AVOW_ERR_MALFORMED, "cmw[1]", "value is not a JWT");
    }
    jwt->ptr = OPENSSL_malloc(raw.len + 1);
    if (jwt->ptr == NULL) {
        avow_buf_free(&raw);
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    }
    memcpy(jwt->ptr, raw.ptr, raw.len);
    jwt->ptr[raw.len] = 0;
    jwt->len = raw.len;
    avow_buf_free(&raw);
    return AVOW_OK;
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
