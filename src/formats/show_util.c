#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <avow/signer.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/sigalg_int.h"
#include "formats/show_util.h"

static const struct {
    avow_value_type type;
    const char *name;
    const char *asn1;
} type_names[] = {
    {AVOW_VALUE_BYTES, "bytes", "OCTET STRING"},  {AVOW_VALUE_UTF8, "utf8", "UTF8String"},
    {AVOW_VALUE_BOOL, "bool", "BOOLEAN"},         {AVOW_VALUE_INT, "int", "INTEGER"},
    {AVOW_VALUE_TIME, "time", "GeneralizedTime"}, {AVOW_VALUE_OIDS, "oids", "SEQUENCE OF OID"},
    {AVOW_VALUE_RAW, "raw", "unknown"},
};

const char *avow__show_type_name(avow_value_type t)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == t)
            return type_names[i].name;
    return "raw";
}

const char *avow__show_asn1_name(avow_value_type t)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == t)
            return type_names[i].asn1;
    return "unknown";
}

int avow__show_type_by_name(const char *name, avow_value_type *t)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (strcmp(type_names[i].name, name) == 0) {
            *t = type_names[i].type;
            return 1;
        }
    }
    return 0;
}

void avow__show_rfc3339_tm(const struct tm *tm, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm->tm_year + 1900, tm->tm_mon + 1,
             tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

void avow__show_rfc3339(time_t t, char *buf, size_t cap)
{
    char text[21];
    avow__strlcpy(buf, avow__rfc3339_format(t, text) == AVOW_OK ? text : "(time out of range)",
                  cap);
}

int avow__show_printable(const uint8_t *p, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    return 1;
}

void avow__show_pkey(const EVP_PKEY *pkey, char *buf, size_t cap)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
        char group[64] = "";
        size_t glen = 0;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                            &glen))
            avow__strlcpy(group, "unknown curve", sizeof(group));
        const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));
        snprintf(buf, cap, "EC %s (%d bit)", nist != NULL ? nist : group, EVP_PKEY_get_bits(pkey));
        break;
    }
    case EVP_PKEY_RSA:
        snprintf(buf, cap, "RSA %d bit", EVP_PKEY_get_bits(pkey));
        break;
    case EVP_PKEY_RSA_PSS:
        snprintf(buf, cap, "RSA-PSS %d bit", EVP_PKEY_get_bits(pkey));
        break;
    case EVP_PKEY_ED25519:
        avow__strlcpy(buf, "Ed25519", cap);
        break;
    case EVP_PKEY_ED448:
        avow__strlcpy(buf, "Ed448", cap);
        break;
    default: {
        /* ML-DSA and SLH-DSA: the parameter set says it all (OpenSSL's "bits" are the key's size).
         */
        avow_sigalg alg = AVOW_SIGALG_NONE;
        const avow_sigalg_desc *row =
            avow_sigalg_for_key(pkey, 0, &alg) == AVOW_OK ? avow_sigalg_info(alg) : NULL;
        const char *name = EVP_PKEY_get0_type_name(pkey);
        if (row != NULL && row->key_type != NULL)
            avow__strlcpy(buf, row->key_type, cap);
        else
            snprintf(buf, cap, "%s %d bit", name != NULL ? name : "unknown key",
                     EVP_PKEY_get_bits(pkey));
        break;
    }
    }
    avow__ossl_clear();
}

/*
 * A key OpenSSL could not parse whose algorithm is an ML-DSA or SLH-DSA
 * row (RFC 9881 and RFC 9909 give the key the signature's identifier): in a
 * build without them, name the parameter set rather than say "unparsable".
 */
static int show_unsupported_key(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    const avow_sigalg_desc *row = avow__sigalg_spki_pq_row(der, len);
    if (row == NULL || avow_sigalg_supported(row->alg) == AVOW_OK)
        return 0;
    snprintf(buf, cap, "%s (not supported by this build)", row->key_type);
    return 1;
}

void avow__show_spki(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = len <= 65536 ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
    if (pkey == NULL || p != der + len) {
        avow__ossl_clear();
        if (!show_unsupported_key(der, len, buf, cap))
            avow__strlcpy(buf, "unparsable key", cap);
    } else {
        avow__show_pkey(pkey, buf, cap);
    }
    EVP_PKEY_free(pkey);
    avow__ossl_clear();
}

int avow__show_cert_key(X509 *x, char *buf, size_t cap)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk != NULL) {
        avow__show_pkey(pk, buf, cap);
        return 1;
    }
    avow__ossl_clear();
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    int shown = n > 0 && show_unsupported_key(der, (size_t)n, buf, cap);
    OPENSSL_free(der);
    avow__ossl_clear();
    if (!shown)
        avow__strlcpy(buf, "unparsable key", cap);
    return shown;
}

void avow__show_sigalg(avow_view alg_der, char *name, size_t name_cap, char *oid, size_t oid_cap)
{
    avow_sigalg alg = AVOW_SIGALG_NONE;
    const char *n = NULL;
    if (avow_sigalg_from_der(alg_der.ptr, alg_der.len, &alg, NULL) == AVOW_OK)
        n = avow_sigalg_name(alg);
    avow__strlcpy(name, n != NULL ? n : "unsupported", name_cap);
    avow__strlcpy(oid, "?", oid_cap);
    const unsigned char *p = alg_der.ptr;
    X509_ALGOR *a = alg_der.len <= 65536 ? d2i_X509_ALGOR(NULL, &p, (long)alg_der.len) : NULL;
    if (a != NULL) {
        const ASN1_OBJECT *obj = NULL;
        X509_ALGOR_get0(&obj, NULL, NULL, a);
        if (obj != NULL && oid_cap <= 0x7fffffff)
            OBJ_obj2txt(oid, (int)oid_cap, obj, 1);
    }
    X509_ALGOR_free(a);
    avow__ossl_clear();
}

void avow__show_name(const X509_NAME *n, char *buf, size_t cap)
{
    avow__strlcpy(buf, "", cap);
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(b, &data);
        if (len > 0 && (size_t)len < cap) {
            memcpy(buf, data, (size_t)len);
            buf[len] = '\0';
        } else if (len > 0 && cap > 4) {
            memcpy(buf, data, cap - 4);
            memcpy(buf + cap - 4, "...", 4);
        }
    }
    BIO_free(b);
    avow__ossl_clear();
}

void avow__show_serial(const X509 *x, char *buf, size_t cap)
{
    avow__strlcpy(buf, "?", cap);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    if (hex != NULL)
        avow__strlcpy(buf, hex, cap);
    OPENSSL_free(hex);
    BN_free(bn);
    avow__ossl_clear();
}

static void show_asn1_time(const ASN1_TIME *t, char *buf, size_t cap)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t != NULL && ASN1_TIME_to_tm(t, &tm))
        avow__show_rfc3339_tm(&tm, buf, cap);
    else
        avow__strlcpy(buf, "?", cap);
}

void avow__show_validity(const X509 *x, char *nb, size_t nbcap, char *na, size_t nacap)
{
    show_asn1_time(X509_get0_notBefore(x), nb, nbcap);
    show_asn1_time(X509_get0_notAfter(x), na, nacap);
    avow__ossl_clear();
}
