/*
 * The CA: an avow_signer with its certificate, issuing certificates for
 * attested requests whose appraisal is affirming, with the EAR in the CMW
 * extension (the passport model).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <avow/ca.h>
#include <avow/ear.h>

#include "ca/ca_int.h"
#include "core/internal.h"
#include "core/x509_int.h"

struct avow_ca {
    avow_signer *signer;
    X509 *cert;
};

typedef struct ku_name {
    unsigned bit;
    const char *name; /* OpenSSL's config name */
} ku_name;

static const ku_name KU_NAMES[] = {
    {AVOW_KU_DIGITAL_SIGNATURE, "digitalSignature"},
    {AVOW_KU_NON_REPUDIATION, "nonRepudiation"},
    {AVOW_KU_KEY_ENCIPHERMENT, "keyEncipherment"},
    {AVOW_KU_DATA_ENCIPHERMENT, "dataEncipherment"},
    {AVOW_KU_KEY_AGREEMENT, "keyAgreement"},
};
#define NKU (sizeof(KU_NAMES) / sizeof(KU_NAMES[0]))

avow_err avow_ca_key_usage_parse(const char *text, unsigned *bits, avow_diag *diag)
{
    if (text == NULL || bits == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "key-usage", "no key usage");
    unsigned out = 0;
    const char *p = text;
    while (*p != '\0') {
        const char *q = strchr(p, ',');
        size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
        size_t i = 0;
        for (; i < NKU; i++) {
            if (strlen(KU_NAMES[i].name) == n && strncasecmp(KU_NAMES[i].name, p, n) == 0)
                break;
        }
        if (i == NKU)
            return avow__fail(diag, AVOW_ERR_ARG, "key-usage",
                              "\"%.*s\" is not digitalSignature, nonRepudiation, keyEncipherment, "
                              "dataEncipherment or keyAgreement",
                              (int)(n > 64 ? 64 : n), p);
        out |= KU_NAMES[i].bit;
        p = q != NULL ? q + 1 : p + n;
    }
    if (out == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "key-usage", "empty key usage");
    *bits = out;
    return AVOW_OK;
}

avow_err avow_ca_new(avow_signer *signer, X509 *cert, avow_ca **out, avow_diag *diag)
{
    if (signer == NULL || cert == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "", "no signer, certificate or output");
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub == NULL || EVP_PKEY_eq(pub, avow_signer_get0_pubkey(signer)) != 1) {
        ERR_clear_error();
        return avow__fail(diag, AVOW_ERR_KEY_BINDING, "certificate",
                          "the CA certificate's key is not the signer's");
    }
    if (X509_check_ca(cert) != 1) {
        ERR_clear_error();
        return avow__fail(diag, AVOW_ERR_BAD_CERT, "certificate",
                          "not a CA certificate (basicConstraints CA:TRUE)");
    }
    avow_ca *ca = OPENSSL_zalloc(sizeof(*ca));
    if (ca == NULL || X509_up_ref(cert) != 1) {
        OPENSSL_free(ca);
        return avow__fail(diag, AVOW_ERR_NOMEM, "", "out of memory");
    }
    ca->signer = signer;
    ca->cert = cert;
    *out = ca;
    ERR_clear_error();
    return AVOW_OK;
}

void avow_ca_free(avow_ca *ca)
{
    if (ca == NULL)
        return;
    avow_signer_free(ca->signer);
    X509_free(ca->cert);
    OPENSSL_free(ca);
}

X509 *avow_ca_get0_cert(const avow_ca *ca)
{
    return ca != NULL ? ca->cert : NULL;
}

avow_signer *avow_ca_get0_signer(const avow_ca *ca)
{
    return ca != NULL ? ca->signer : NULL;
}

/* Refuses what must not become a certificate. */
static avow_err check_appraisal(const avow_request *req, const avow_appraisal *a, avow_diag *diag)
{
    const avow_ear *ear = avow_appraisal_get0_ear(a);
    avow_tier tier = avow_appraisal_tier(a);
    avow_err status = avow_appraisal_status(a);
    if (status != AVOW_OK || ear == NULL || tier != AVOW_TIER_AFFIRMING ||
        (ear->has_status && ear->status != AVOW_TIER_AFFIRMING))
        return avow__fail(diag, AVOW_ERR_NOT_AFFIRMING, "appraisal",
                          "the attestation result is %s (%s); no certificate is issued",
                          avow_tier_name(tier) != NULL ? avow_tier_name(tier) : "unknown",
                          avow_errname(status) != NULL ? avow_errname(status) : "?");
    for (size_t i = 0; i < ear->nsubmods; i++) {
        if (ear->submods[i].status != AVOW_TIER_AFFIRMING)
            return avow__fail(diag, AVOW_ERR_NOT_AFFIRMING, "appraisal", "submod \"%s\" is %s",
                              ear->submods[i].name, avow_tier_name(ear->submods[i].status));
    }
    avow_view spki = avow_request_spki(req);
    if (!avow__ear_has_akpub(ear, spki.ptr, spki.len))
        return avow__fail(diag, AVOW_ERR_KEY_BINDING, "appraisal",
                          "the EAR does not name the request's key as an attested key");
    return AVOW_OK;
}

/*
 * A subject attribute with a control character (C0, DEL, C1) would reach
 * every log line and UI that prints the certificate; nothing legitimate
 * needs one.
 */
static avow_err check_subject(const X509_NAME *name, avow_diag *diag)
{
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
        int nid = OBJ_obj2nid(obj);
        char attr[64];
        if (nid != NID_undef)
            snprintf(attr, sizeof(attr), "%s", OBJ_nid2sn(nid));
        else if (OBJ_obj2txt(attr, sizeof(attr), obj, 1) <= 0)
            snprintf(attr, sizeof(attr), "attribute %d", i);
        unsigned char *u = NULL;
        int n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
        if (n < 0) {
            ERR_clear_error();
            return avow__fail(diag, AVOW_ERR_BAD_SUBJECT, "subject", "%s: not text", attr);
        }
        for (int j = 0; j < n; j++) {
            unsigned c = u[j];
            int c1 = c == 0xc2 && j + 1 < n && u[j + 1] >= 0x80 && u[j + 1] <= 0x9f;
            if (c < 0x20 || c == 0x7f || c1) {
                unsigned cp = c1 ? u[j + 1] : c;
                OPENSSL_free(u);
                avow__fail(diag, AVOW_ERR_BAD_SUBJECT, "subject", "%s: control character U+%04X",
                           attr, cp);
                if (diag != NULL)
                    snprintf(diag->field, sizeof(diag->field), "subject.%s", attr);
                return AVOW_ERR_BAD_SUBJECT;
            }
        }
        OPENSSL_free(u);
    }
    return AVOW_OK;
}

/* The CA must be valid at now, and the new certificate end no later than the CA does. */
static avow_err check_ca_time(const avow_ca *ca, time_t now, avow_diag *diag)
{
    time_t t = now;
    if (X509_cmp_time(X509_get0_notBefore(ca->cert), &t) > 0)
        return avow__fail(diag, AVOW_ERR_CA_EXPIRED, "ca.notBefore",
                          "the CA certificate is not valid yet");
    if (X509_cmp_time(X509_get0_notAfter(ca->cert), &t) < 0)
        return avow__fail(diag, AVOW_ERR_CA_EXPIRED, "ca.notAfter",
                          "the CA certificate has expired; no certificate is issued");
    return AVOW_OK;
}

static avow_err fit_validity(X509 *x, const avow_ca *ca, unsigned flags, avow_diag *diag)
{
    const ASN1_TIME *ca_end = X509_get0_notAfter(ca->cert);
    if (ASN1_TIME_compare(X509_get0_notAfter(x), ca_end) <= 0)
        return AVOW_OK;
    if (!(flags & AVOW_CA_ISSUE_CAP_VALIDITY)) {
        int days = 0, secs = 0;
        ASN1_TIME_diff(&days, &secs, ca_end, X509_get0_notAfter(x));
        return avow__fail(diag, AVOW_ERR_CA_VALIDITY, "days",
                          "the certificate would outlive the CA certificate by %d days; "
                          "ask for fewer days or cap the validity",
                          days + (secs > 0 ? 1 : 0));
    }
    if (X509_set1_notAfter(x, ca_end) != 1)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "validity", "cannot set notAfter");
    return AVOW_OK;
}

static avow_err add_key_usage(X509 *x, X509V3_CTX *ctx, unsigned bits, avow_diag *diag)
{
    char conf[160];
    size_t used = 0;
    used += (size_t)snprintf(conf, sizeof(conf), "critical");
    for (size_t i = 0; i < NKU; i++) {
        if ((bits & KU_NAMES[i].bit) != 0 && used < sizeof(conf))
            used += (size_t)snprintf(conf + used, sizeof(conf) - used, ",%s", KU_NAMES[i].name);
    }
    if (bits == 0 || (bits & ~((1u << NKU) - 1u)) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "key_usage", "unknown keyUsage bits 0x%x", bits);
    return avow__ca_add_ext_conf(x, ctx, NID_key_usage, conf, diag);
}

/* The CMW extension with the EAR JWT (signed by the CA) into x. */
static avow_err add_cmw(X509 *x, const avow_ca *ca, const avow_appraisal *a, const char *kid,
                        avow_buf *jwt, avow_diag *diag)
{
    char *skid = NULL;
    if (kid == NULL) {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca->cert);
        if (ski != NULL)
            kid = skid = avow__hex(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski));
    }
    avow_buf der = {0};
    avow_err rc = avow_ear_sign_jwt(avow_appraisal_get0_ear(a), ca->signer, kid, jwt, diag);
    OPENSSL_free(skid);
    if (rc == AVOW_OK)
        rc = avow__cmw_encode_jwt((const char *)jwt->ptr, jwt->len, &der, diag);
    if (rc != AVOW_OK)
        return rc;
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_CMW, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    int ok = oid != NULL && os != NULL && der.len <= 0x7fffffff &&
             ASN1_OCTET_STRING_set(os, der.ptr, (int)der.len) == 1 &&
             (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) != NULL &&
             X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    avow_buf_free(&der);
    if (!ok)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "cmw", "cannot add the CMW extension");
    return AVOW_OK;
}

/* One name of the request that the CA may copy: well formed and of an allowed kind. */
static avow_err check_copy(const GENERAL_NAME *gn, int i, unsigned allow, avow_diag *diag)
{
    char field[48];
    snprintf(field, sizeof(field), "request.subjectAltName[%d]", i);
    unsigned kind = avow_san_kind(gn);
    if (kind == 0)
        return avow__fail(diag, AVOW_ERR_SAN_REFUSED, field,
                          "a kind the CA never copies (only DNS, IP, URI, email)");
    avow_err rc = avow_san_check(gn, diag);
    if (rc != AVOW_OK) {
        if (diag != NULL)
            snprintf(diag->field, sizeof(diag->field), "%s", field);
        return rc;
    }
    if ((kind & ~allow) != 0) {
        GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
        avow_buf text = {0};
        if (one != NULL && sk_GENERAL_NAME_push(one, (GENERAL_NAME *)gn) > 0)
            (void)avow_san_text(one, &text);
        sk_GENERAL_NAME_free(one);
        rc = avow__fail(diag, AVOW_ERR_SAN_REFUSED, field,
                        "%.80s: %s not allowed (the CA copies only the kinds it is told to)",
                        text.ptr != NULL ? (const char *)text.ptr : "?",
                        (kind & AVOW_SAN_WILDCARD) != 0 && (allow & AVOW_SAN_DNS) != 0
                            ? "a wildcard is"
                            : "this kind is");
        avow_buf_free(&text);
        return rc;
    }
    return AVOW_OK;
}

/*
 * The certificate's subjectAltName by the rule of docs/ca.md: set, copied
 * under san_allow, or dropped, and never silently lost. *out NULL = none.
 */
static avow_err choose_sans(const avow_request *req, const avow_ca_issue_opts *opts,
                            GENERAL_NAMES **out, avow_diag *diag)
{
    *out = NULL;
    unsigned copy = opts->flags & AVOW_CA_ISSUE_COPY_SAN,
             drop = opts->flags & AVOW_CA_ISSUE_DROP_SAN;
    if ((opts->san != NULL) + (copy != 0) + (drop != 0) > 1)
        return avow__fail(diag, AVOW_ERR_ARG, "san",
                          "give one of: names to set, copy the request's, drop the request's");
    GENERAL_NAMES *asked = NULL;
    avow_err rc = avow_request_get1_sans(req, &asked, diag);
    if (rc != AVOW_OK)
        return rc;
    if (opts->san != NULL) {
        GENERAL_NAMES_free(asked);
        GENERAL_NAMES *set = GENERAL_NAMES_new();
        if (set == NULL)
            return avow__fail(diag, AVOW_ERR_NOMEM, "san", "out of memory");
        rc = avow_san_parse(opts->san, set, diag);
        if (rc != AVOW_OK) {
            GENERAL_NAMES_free(set);
            return rc;
        }
        *out = set;
        return AVOW_OK;
    }
    if (asked == NULL || drop) {
        GENERAL_NAMES_free(asked);
        return AVOW_OK;
    }
    if (!copy) {
        int n = sk_GENERAL_NAME_num(asked);
        GENERAL_NAMES_free(asked);
        return avow__fail(diag, AVOW_ERR_SAN_UNHANDLED, "request.subjectAltName",
                          "the request asks for %d name(s): copy them (-copy-san), set the "
                          "certificate's (-san) or drop them (-drop-san)",
                          n);
    }
    unsigned allow = opts->san_allow != 0 ? opts->san_allow : AVOW_SAN_DNS;
    for (int i = 0; rc == AVOW_OK && i < sk_GENERAL_NAME_num(asked); i++)
        rc = check_copy(sk_GENERAL_NAME_value(asked, i), i, allow, diag);
    if (rc != AVOW_OK) {
        GENERAL_NAMES_free(asked);
        return rc;
    }
    *out = asked;
    return AVOW_OK;
}

static avow_err add_sans(X509 *x, const GENERAL_NAMES *names, avow_diag *diag)
{
    /* RFC 5280 4.2.1.6: critical when the subject is empty. */
    X509_EXTENSION *e = NULL;
    avow_err rc =
        avow__san_ext(names, X509_NAME_entry_count(X509_get_subject_name(x)) == 0, &e, diag);
    if (rc == AVOW_OK && X509_add_ext(x, e, -1) != 1)
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "subjectAltName", "cannot add");
    X509_EXTENSION_free(e);
    return rc;
}

/* The end-entity profile: basicConstraints, keyUsage, EKU, SAN, key identifiers. */
static avow_err add_extensions(X509 *x, const avow_ca *ca, const avow_ca_issue_opts *opts,
                               const GENERAL_NAMES *sans, avow_diag *diag)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
    avow_err rc = avow__ca_add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", diag);
    if (rc == AVOW_OK)
        rc = add_key_usage(
            x, &ctx, opts->key_usage != 0 ? opts->key_usage : AVOW_KU_DIGITAL_SIGNATURE, diag);
    if (rc == AVOW_OK && opts->eku != NULL)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_ext_key_usage, opts->eku, diag);
    if (rc == AVOW_OK && sans != NULL)
        rc = add_sans(x, sans, diag);
    if (rc == AVOW_OK)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_subject_key_identifier, "hash", diag);
    if (rc == AVOW_OK && X509_get0_subject_key_id(ca->cert) != NULL)
        rc = avow__ca_add_ext_conf(x, &ctx, NID_authority_key_identifier, "keyid:always", diag);
    return rc;
}

void avow_ca_issue_opts_init(avow_ca_issue_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_ca_issue(avow_ca *ca, const avow_request *req, const avow_appraisal *appraisal,
                       const avow_ca_issue_opts *opts, X509 **cert, avow_diag *diag)
{
    if (ca == NULL || req == NULL || appraisal == NULL || cert == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "", "no CA, request, appraisal or output");
    avow_ca_issue_opts none;
    avow_ca_issue_opts_init(&none);
    if (opts == NULL)
        opts = &none;
    if (opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_ca_issue_opts_init");
    avow_err rc = check_appraisal(req, appraisal, diag);
    if (rc != AVOW_OK)
        return rc;
    EVP_PKEY *pub = avow_request_get0_pubkey(req);
    X509_NAME *subject = NULL;
    if (opts->subject != NULL) {
        rc = avow_name_parse(opts->subject, &subject, diag);
        if (rc != AVOW_OK)
            return rc;
    } else if (avow_request_get0_subject(req) == NULL ||
               X509_NAME_entry_count(avow_request_get0_subject(req)) == 0) {
        return avow__fail(diag, AVOW_ERR_ARG, "subject", "the request names no subject: give one");
    }
    time_t now = opts->now != 0 ? opts->now : time(NULL);
    const X509_NAME *want = subject != NULL ? subject : avow_request_get0_subject(req);
    GENERAL_NAMES *sans = NULL;
    rc = check_ca_time(ca, now, diag);
    if (rc == AVOW_OK)
        rc = check_subject(want, diag);
    if (rc == AVOW_OK)
        rc = choose_sans(req, opts, &sans, diag);
    if (rc != AVOW_OK) {
        X509_NAME_free(subject);
        ERR_clear_error();
        return rc;
    }
    avow_buf jwt = {0};
    X509 *x = X509_new();
    if (x == NULL || pub == NULL) {
        X509_free(x);
        X509_NAME_free(subject);
        GENERAL_NAMES_free(sans);
        return avow__fail(diag, x == NULL ? AVOW_ERR_NOMEM : AVOW_ERR_BAD_SPKI, "", "%s",
                          x == NULL ? "out of memory" : "the request has no public key");
    }
    const X509_NAME *subj = subject != NULL ? subject : avow_request_get0_subject(req);
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        X509_set_subject_name(x, subj) != 1 || X509_set_pubkey(x, pub) != 1)
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certificate", "cannot fill the certificate");
    if (rc == AVOW_OK)
        rc = avow__ca_set_serial(x, diag);
    if (rc == AVOW_OK)
        rc = avow__ca_set_validity(x, now, opts->days != 0 ? opts->days : AVOW_CA_DEFAULT_DAYS,
                                   diag);
    if (rc == AVOW_OK)
        rc = fit_validity(x, ca, opts->flags, diag);
    if (rc == AVOW_OK)
        rc = add_extensions(x, ca, opts, sans, diag);
    if (rc == AVOW_OK)
        rc = add_cmw(x, ca, appraisal, opts->kid, &jwt, diag);
    if (rc == AVOW_OK)
        rc = avow__ca_sign(x, ca->signer, cert, diag);
    if (rc == AVOW_OK && opts->jwt_out != NULL) {
        *opts->jwt_out = jwt;
        jwt.ptr = NULL;
        jwt.len = 0;
    }
    avow_buf_free(&jwt);
    X509_NAME_free(subject);
    GENERAL_NAMES_free(sans);
    X509_free(x);
    ERR_clear_error();
    return rc;
}
